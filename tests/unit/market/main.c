/* tests/unit/market: every apps/market/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case market_chunkpay_tests[];
extern const struct test_case market_gateway_tests[];
extern const struct test_case market_hostpay_tests[];
extern const struct test_case market_iso_tests[];
extern const struct test_case market_keyagent_tests[];
extern const struct test_case market_library_tests[];
extern const struct test_case market_order_tests[];
extern const struct test_case market_seedpay_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "chunkpay", market_chunkpay_tests },
		{ "gateway", market_gateway_tests },
		{ "hostpay", market_hostpay_tests },
		{ "iso", market_iso_tests },
		{ "keyagent", market_keyagent_tests },
		{ "library", market_library_tests },
		{ "order", market_order_tests },
		{ "seedpay", market_seedpay_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
