/* tests/unit/router: every router/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case router_i2np_tests[];
extern const struct test_case router_ntcp2_handshake_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "i2np", router_i2np_tests },
		{ "ntcp2_handshake", router_ntcp2_handshake_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
