/* tests/unit/crypto: every crypto/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case base_bytes_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "bytes", base_bytes_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
