/* tests/unit/chain: every chain/ test table. */
#include "config.h"
#include "tests/unit/tharness.h"

extern const struct test_case u256_tests[];
extern const struct test_case rlp_tests[];
extern const struct test_case abi_tests[];
extern const struct test_case secp_tests[];
extern const struct test_case eip712_tests[];
extern const struct test_case stealth_tests[];
extern const struct test_case tx1559_tests[];
extern const struct test_case jsonrpc_tests[];
extern const struct test_case rpc_tests[];
extern const struct test_case calls_tests[];
extern const struct test_case wallet_tests[];
extern const struct test_case relaypay_tests[];

int main(int argc, char **argv)
{
	static const struct test_group groups[] = {
		{ "u256", u256_tests },
		{ "rlp", rlp_tests },
		{ "abi", abi_tests },
		{ "secp", secp_tests },
		{ "eip712", eip712_tests },
		{ "stealth", stealth_tests },
		{ "tx1559", tx1559_tests },
		{ "jsonrpc", jsonrpc_tests },
		{ "rpc", rpc_tests },
		{ "calls", calls_tests },
		{ "wallet", wallet_tests },
		{ "relaypay", relaypay_tests },
		{ NULL, NULL }
	};
	return tharness_main(argc, argv, groups);
}
