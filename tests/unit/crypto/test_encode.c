/*
 * crypto/base/encode: hex, I2P Base64, Base32.
 *
 * Base64: the vectors of i2pd 2.45.1 tests/test-base-64.cpp
 * (tests/vectors/i2pd-other.json) and the I2P alphabet substitution
 * (PROTOCOLS.md 0.1).  Base32 and hex: the RFC 4648 §10 test vectors
 * ("" "f" "fo" "foo" "foob" "fooba" "foobar"), written here in the
 * lowercase, unpadded form .b32.i2p uses (RFC 4648 §3.2 allows omitting
 * padding; §10 prints uppercase with '=').
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/crypto/cvec.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const rfc4648_in[] = {
	"", "f", "fo", "foo", "foob", "fooba", "foobar"
};

static void test_b64_i2pd_vectors(struct tctx *t)
{
	json_t *root = tvec_load(t, "i2pd-other.json"), *v;
	uint8_t *in, out[64];
	char enc[64];
	const char *s;
	size_t len, n;

	if (!root)
		return;
	if ((v = cvec_find(t, root, "base64-encode"))) {
		in = tvec_field(t, v, "input", &len);
		T_OK(t, b64_encode(enc, sizeof(enc), in, len));
		s = json_string_value(json_object_get(v, "output"));
		T_STREQ(t, enc, s);
		free(in);
	}
	if ((v = cvec_find(t, root, "base64-decode"))) {
		uint8_t *want = tvec_field(t, v, "output", &len);

		s = json_string_value(json_object_get(v, "input"));
		T_OK(t, b64_decode(out, sizeof(out), &n, s, strlen(s)));
		T_EQ(t, n, len);
		T_MEMEQ(t, out, want, len);
		free(want);
	}
	if ((v = cvec_find(t, root, "base64-decode-rejects-unpadded"))) {
		s = json_string_value(json_object_get(v, "input"));
		T_ERR(t, b64_decode(out, sizeof(out), &n, s, strlen(s)),
		      ERR_FORMAT);
	}
	if ((v = cvec_find(t, root, "base64-encoding-buffer-size"))) {
		size_t i;
		json_t *pair;

		json_t *pairs = json_object_get(v, "input_len_to_output_len");

		json_array_foreach(pairs, i, pair) {
			json_int_t a, b;

			a = json_integer_value(json_array_get(pair, 0));
			b = json_integer_value(json_array_get(pair, 1));

			/* i2pd's size excludes the NUL ours counts. */
			T_EQ(t, B64_ENC_LEN((size_t)a) - 1, b);
		}
		T_EQ(t, i, 8);
	}
	json_decref(root);
}

static void test_b64_i2p_alphabet(struct tctx *t)
{
	/* fb ff = 111110 111111 1111(00): indices 62, 63, 60, which RFC 4648
	 * writes "+/8=" and I2P "-~8=". */
	static const uint8_t in[] = { 0xfb, 0xff };
	uint8_t out[4];
	char enc[8];
	size_t n;

	T_OK(t, b64_encode(enc, sizeof(enc), in, sizeof(in)));
	T_STREQ(t, enc, "-~8=");
	T_OK(t, b64_decode(out, sizeof(out), &n, "-~8=", 4));
	T_EQ(t, n, 2);
	T_MEMEQ(t, out, in, 2);
	T_ERR(t, b64_decode(out, sizeof(out), &n, "+/8=", 4), ERR_FORMAT);
}

static void test_b64_rejects(struct tctx *t)
{
	static const char *const bad[] = {
		"dGVzdA=",	/* length not a multiple of 4 */
		"dGVz dA==",	/* space */
		"dGVzdA=A",	/* '=' inside */
		"dG=zdA==",
		"d===",		/* three pad characters */
		"====",
		"dGVzdB==",	/* non-zero leftover bits ("test" is dA==) */
		"dGVzdGF=",	/* leftover bits with one pad */
		"dGVz\xc3\xa9==",	/* non-ASCII */
		"dGVzd+==",
	};
	uint8_t out[16] = { 0 }, zero[16] = { 0 };
	size_t n = 99;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		T_ERR(t, b64_decode(out, sizeof(out), &n, bad[i],
				    strlen(bad[i])), ERR_FORMAT);
	T_EQ(t, n, 99);			/* outputs untouched on error */
	T_MEMEQ(t, out, zero, sizeof(out));
	/* an embedded NUL is not part of the alphabet */
	T_ERR(t, b64_decode(out, sizeof(out), &n, "dG\0zdA==", 8), ERR_FORMAT);
	T_ERR(t, b64_decode(out, 3, &n, "dGVzdA==", 8), ERR_TOO_BIG);
	T_OK(t, b64_decode(out, 4, &n, "dGVzdA==", 8));
	T_OK(t, b64_decode(out, 0, &n, "", 0));
	T_EQ(t, n, 0);
}

static void test_b64_sizes(struct tctx *t)
{
	uint8_t in[40], out[40];
	char enc[B64_ENC_LEN(40)];
	size_t n;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(in); len++) {
		T_ERR(t, b64_encode(enc, B64_ENC_LEN(len) - 1, in, len),
		      ERR_TOO_BIG);
		T_OK(t, b64_encode(enc, B64_ENC_LEN(len), in, len));
		T_EQ(t, strlen(enc), B64_ENC_LEN(len) - 1);
		T_OK(t, b64_decode(out, sizeof(out), &n, enc, strlen(enc)));
		T_EQ(t, n, len);
		T_MEMEQ(t, out, in, len);
	}
}

static void test_b32_rfc4648(struct tctx *t)
{
	/* RFC 4648 §10, lowercased, padding removed. */
	static const char *const want[] = {
		"", "my", "mzxq", "mzxw6", "mzxw6yq", "mzxw6ytb", "mzxw6ytboi"
	};
	char enc[32];
	uint8_t out[16];
	size_t n;

	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		size_t len = strlen(rfc4648_in[i]);

		T_OK(t, b32_encode(enc, sizeof(enc), rfc4648_in[i], len));
		T_STREQ(t, enc, want[i]);
		T_EQ(t, B32_ENC_LEN(len) - 1, strlen(want[i]));
		T_OK(t, b32_decode(out, sizeof(out), &n, want[i],
				   strlen(want[i])));
		T_EQ(t, n, len);
		T_MEMEQ(t, out, rfc4648_in[i], len);
	}
}

static void test_b32_rejects(struct tctx *t)
{
	static const char *const bad[] = {
		"MZXW6",	/* uppercase: .b32.i2p is lowercase */
		"mzxw1",	/* '1', '8', '0' are not in the alphabet */
		"mzxw8",
		"mzx0q",
		"mzxq====",	/* padding is not used */
		"m",		/* 1, 3 and 6 characters cannot end a group */
		"mzx",
		"mzxw6y",
		"mz",		/* non-zero leftover bits ("f" is "my") */
		"mzxr",
	};
	uint8_t out[16];
	size_t n = 99;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		T_ERR(t, b32_decode(out, sizeof(out), &n, bad[i],
				    strlen(bad[i])), ERR_FORMAT);
	T_EQ(t, n, 99);
	T_ERR(t, b32_decode(out, 5, &n, "mzxw6ytboi", 10), ERR_TOO_BIG);
	T_ERR(t, b32_encode((char *)out, 10, "foobar", 6), ERR_TOO_BIG);
}

static void test_b32_hash_length(struct tctx *t)
{
	/* A .b32.i2p name is the Base32 of a 32-byte hash: 52 characters. */
	uint8_t h[32], back[32];
	char enc[B32_ENC_LEN(32)];
	size_t n;

	for (size_t i = 0; i < sizeof(h); i++)
		h[i] = (uint8_t)(0xff - i * 7);
	T_EQ(t, sizeof(enc), 53);
	T_OK(t, b32_encode(enc, sizeof(enc), h, sizeof(h)));
	T_EQ(t, strlen(enc), 52);
	T_OK(t, b32_decode(back, sizeof(back), &n, enc, 52));
	T_EQ(t, n, 32);
	T_MEMEQ(t, back, h, 32);
}

static void test_hex(struct tctx *t)
{
	/* RFC 4648 §10 Base16: "foobar" = "666F6F626172". */
	uint8_t out[8];
	char enc[HEX_ENC_LEN(6)];
	size_t n;

	T_OK(t, hex_encode(enc, sizeof(enc), "foobar", 6));
	T_STREQ(t, enc, "666f6f626172");
	T_OK(t, hex_decode(out, sizeof(out), &n, "666F6F626172", 12));
	T_EQ(t, n, 6);
	T_MEMEQ(t, out, "foobar", 6);
	T_ERR(t, hex_decode(out, sizeof(out), &n, "666", 3), ERR_FORMAT);
	T_ERR(t, hex_decode(out, sizeof(out), &n, "6g", 2), ERR_FORMAT);
	T_ERR(t, hex_decode(out, sizeof(out), &n, "0x12", 4), ERR_FORMAT);
	T_ERR(t, hex_decode(out, 2, &n, "666f6f", 6), ERR_TOO_BIG);
	T_ERR(t, hex_encode(enc, 12, "foobar", 6), ERR_TOO_BIG);
}

static void test_dec(struct tctx *t)
{
	uint64_t v = 77;

	T_OK(t, dec_decode(&v, UINT64_MAX, "0", 1));
	T_EQ(t, v, 0);
	T_OK(t, dec_decode(&v, UINT64_MAX, "18446744073709551615", 20));
	T_TRUE(t, v == UINT64_MAX);
	T_OK(t, dec_decode(&v, 65535, "0065535", 7));
	T_EQ(t, v, 65535);
	/* only len characters are read */
	T_OK(t, dec_decode(&v, 255, "12:34", 2));
	T_EQ(t, v, 12);
	v = 77;
	T_ERR(t, dec_decode(&v, UINT64_MAX, "18446744073709551616", 20),
	      ERR_RANGE);
	T_ERR(t, dec_decode(&v, UINT64_MAX, "99999999999999999999", 20),
	      ERR_RANGE);
	T_ERR(t, dec_decode(&v, 65535, "65536", 5), ERR_RANGE);
	T_ERR(t, dec_decode(&v, 0, "1", 1), ERR_RANGE);
	/* what strtoul would take */
	T_ERR(t, dec_decode(&v, UINT64_MAX, "-1", 2), ERR_FORMAT);
	T_ERR(t, dec_decode(&v, UINT64_MAX, "+1", 2), ERR_FORMAT);
	T_ERR(t, dec_decode(&v, UINT64_MAX, " 1", 2), ERR_FORMAT);
	T_ERR(t, dec_decode(&v, UINT64_MAX, "1 ", 2), ERR_FORMAT);
	T_ERR(t, dec_decode(&v, UINT64_MAX, "0x1", 3), ERR_FORMAT);
	T_ERR(t, dec_decode(&v, UINT64_MAX, "", 0), ERR_FORMAT);
	T_EQ(t, v, 77);
}

const struct test_case encode_tests[] = {
	{ "b64/i2pd_vectors", test_b64_i2pd_vectors, 0 },
	{ "b64/i2p_alphabet", test_b64_i2p_alphabet, 0 },
	{ "b64/rejects", test_b64_rejects, 0 },
	{ "b64/sizes", test_b64_sizes, 0 },
	{ "b32/rfc4648", test_b32_rfc4648, 0 },
	{ "b32/rejects", test_b32_rejects, 0 },
	{ "b32/hash_length", test_b32_hash_length, 0 },
	{ "hex/rfc4648", test_hex, 0 },
	{ "dec/strict", test_dec, 0 },
	{ NULL, NULL, 0 }
};
