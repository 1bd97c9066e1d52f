/* tests/unit/swarm: every apps/swarm/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case swarm_msg_tests[];
extern const struct test_case swarm_engine_tests[];
extern const struct test_case swarm_service_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "msg", swarm_msg_tests },
		{ "engine", swarm_engine_tests },
		{ "service", swarm_service_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
