/* tests/unit/swarm: every apps/swarm/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case swarm_msg_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "msg", swarm_msg_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
