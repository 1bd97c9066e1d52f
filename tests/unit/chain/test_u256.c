/* chain/u256: parsing, formatting, overflow-checked arithmetic. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/u256.h"
#include "crypto/base/err.h"

#include <string.h>

#define MAX_DEC "115792089237316195423570985008687907853269984665640564039457584007913129639935"

static void test_parse_format(struct tctx *t)
{
	struct u256 a, b;
	char buf[U256_DEC_BYTES], hex[U256_HEX_BYTES];

	T_OK(t, u256_parse_str(&a, "0"));
	T_TRUE(t, u256_is_zero(&a));
	T_STREQ(t, u256_format_hex(&a, hex, sizeof(hex)), "0x0");
	T_OK(t, u256_parse_str(&a, MAX_DEC));
	T_STREQ(t, u256_format_dec(&a, buf, sizeof(buf)), MAX_DEC);
	T_STREQ(t, u256_format_hex(&a, hex, sizeof(hex)),
		"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	T_OK(t, u256_parse_str(&b, "0xFFFFffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"));
	T_EQ(t, u256_cmp(&a, &b), 0);
	T_OK(t, u256_parse_str(&a, "1000000000000000000"));
	T_STREQ(t, u256_format_hex(&a, hex, sizeof(hex)), "0xde0b6b3a7640000");
	T_OK(t, u256_parse_str(&a, "0x0000000000000000000000000000000000000000000000000000000000000000001"));
	T_EQ(t, a.w[0], 1);
	/* one past the maximum, in both bases */
	T_ERR(t, u256_parse_str(&a, "115792089237316195423570985008687907853269984665640564039457584007913129639936"), ERR_RANGE);
	T_ERR(t, u256_parse_str(&a, "0x10000000000000000000000000000000000000000000000000000000000000000"), ERR_RANGE);
	T_ERR(t, u256_parse_str(&a, ""), ERR_FORMAT);
	T_ERR(t, u256_parse_str(&a, "0x"), ERR_FORMAT);
	T_ERR(t, u256_parse_str(&a, "12a"), ERR_FORMAT);
	T_ERR(t, u256_parse_str(&a, "-1"), ERR_FORMAT);
	T_ERR(t, u256_parse_str(&a, "0xg"), ERR_FORMAT);
}

static void test_arith(struct tctx *t)
{
	struct u256 a, b, c, max;
	uint64_t rem;
	char buf[U256_DEC_BYTES];

	T_OK(t, u256_parse_str(&max, MAX_DEC));
	a = u256_from_u64(UINT64_MAX);
	b = u256_from_u64(1);
	T_OK(t, u256_add(&c, &a, &b));		/* carry into limb 1 */
	T_EQ(t, c.w[0], 0);
	T_EQ(t, c.w[1], 1);
	T_OK(t, u256_sub(&c, &c, &b));
	T_EQ(t, u256_cmp(&c, &a), 0);
	T_ERR(t, u256_add(&c, &max, &b), ERR_RANGE);
	T_ERR(t, u256_sub(&c, &b, &a), ERR_RANGE);
	T_ERR(t, u256_mul_u64(&c, &max, 2), ERR_RANGE);
	T_OK(t, u256_parse_str(&a, "340282366920938463463374607431768211456")); /* 2^128 */
	T_OK(t, u256_mul_u64(&c, &a, 10000));
	T_STREQ(t, u256_format_dec(&c, buf, sizeof(buf)),
		"3402823669209384634633746074317682114560000");
	T_OK(t, u256_div_u64(&c, &rem, &c, 3));
	T_STREQ(t, u256_format_dec(&c, buf, sizeof(buf)),
		"1134274556403128211544582024772560704853333");
	T_EQ(t, rem, 1);
	T_ERR(t, u256_div_u64(&c, &rem, &a, 0), ERR_ARG);
}

static void test_bytes(struct tctx *t)
{
	static const uint8_t in[3] = { 0x01, 0x00, 0xff };
	uint8_t be[32], mn[32];
	uint8_t big[33] = { 0 };
	struct u256 a;

	T_OK(t, u256_from_be(&a, in, sizeof(in)));
	T_EQ(t, a.w[0], 0x0100ff);
	u256_to_be(&a, be);
	T_EQ(t, be[29], 0x01);
	T_EQ(t, be[31], 0xff);
	T_EQ(t, u256_to_min_be(&a, mn), 3);
	T_MEMEQ(t, mn, in, 3);
	a = u256_from_u64(0);
	T_EQ(t, u256_to_min_be(&a, mn), 0);
	T_ERR(t, u256_from_be(&a, big, sizeof(big)), ERR_TOO_BIG);
}

const struct test_case u256_tests[] = {
	{ "parse_format", test_parse_format, 0 },
	{ "arith", test_arith, 0 },
	{ "bytes", test_bytes, 0 },
	{ NULL, NULL, 0 }
};
