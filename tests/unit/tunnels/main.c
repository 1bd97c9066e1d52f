/* tests/unit/tunnels: every tunnels/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case tunnels_build_tests[];
extern const struct test_case tunnels_build_ticket_tests[];
extern const struct test_case tunnels_data_tests[];
extern const struct test_case tunnels_pool_tests[];
extern const struct test_case tunnels_replay_tests[];
extern const struct test_case tunnels_transit_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "build", tunnels_build_tests },
		{ "build_ticket", tunnels_build_ticket_tests },
		{ "data", tunnels_data_tests },
		{ "pool", tunnels_pool_tests },
		{ "replay", tunnels_replay_tests },
		{ "transit", tunnels_transit_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
