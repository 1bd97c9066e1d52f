/* tests/unit/netdb: every netdb/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case netdb_routing_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "routing", netdb_routing_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
