/* tests/unit/netdb: every netdb/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case netdb_routing_tests[];
extern const struct test_case netdb_store_tests[];
extern const struct test_case netdb_persist_tests[];
extern const struct test_case netdb_reseed_tests[];
extern const struct test_case netdb_net_tests[];
extern const struct test_case netdb_ffprof_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "routing", netdb_routing_tests },
		{ "store", netdb_store_tests },
		{ "persist", netdb_persist_tests },
		{ "reseed", netdb_reseed_tests },
		{ "net", netdb_net_tests },
		{ "ffprof", netdb_ffprof_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
