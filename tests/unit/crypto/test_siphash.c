/*
 * crypto/siphash against all 64 SipHash-2-4 vectors of the reference
 * implementation (veorq/SipHash 1.0 vectors.h, vectors_sip64), and its
 * 128-bit output against vectors_sip128 entries.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/alloc.h"
#include "crypto/siphash.h"

#include <jansson.h>
#include <stdlib.h>

static void test_reference_vectors(struct tctx *t)
{
	json_t *root = tvec_load(t, "siphash-2-4.json"), *v;
	uint8_t out[SIPHASH_BYTES];
	size_t i, kl, ml, ol;

	if (!root)
		return;
	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		uint8_t *key = tvec_field(t, v, "key", &kl);
		uint8_t *msg = tvec_field(t, v, "message", &ml);
		uint8_t *want = tvec_field(t, v, "output", &ol);
		uint64_t le = 0;

		T_EQ(t, kl, SIPHASH_KEY_BYTES);
		T_EQ(t, ol, SIPHASH_BYTES);
		T_EQ(t, ml, i);		/* vector i hashes i bytes */
		siphash24(out, key, msg, ml);
		T_MEMEQ(t, out, want, SIPHASH_BYTES);
		/* the numeric form reads the output little-endian */
		for (int b = 7; b >= 0; b--)
			le = le << 8 | want[b];
		T_TRUE(t, siphash24_u64(key, msg, ml) == le);
		free(key);
		free(msg);
		free(want);
	}
	T_EQ(t, i, 64);
	json_decref(root);
}

/* vectors_sip128 of the reference: key 00..0f, message 00..(n-1). */
static void test_u128_vectors(struct tctx *t)
{
	static const struct {
		size_t n;
		uint8_t out[16];
	} v[] = {
		{ 0, { 0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6,
		       0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93 } },
		{ 15, { 0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11,
			0x7e, 0x08, 0xec, 0x0f, 0x97, 0xcf, 0xc3, 0xd9 } },
		{ 32, { 0x7c, 0x39, 0x56, 0xca, 0x5e, 0xea, 0xfc, 0x3e,
			0x36, 0x3e, 0x9d, 0x55, 0x65, 0x46, 0xeb, 0x68 } },
	};
	uint8_t key[SIPHASH_KEY_BYTES], msg[32];
	uint64_t h[2];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		uint64_t lo = 0, hi = 0;

		for (int b = 7; b >= 0; b--) {
			lo = lo << 8 | v[i].out[b];
			hi = hi << 8 | v[i].out[8 + b];
		}
		siphashx24_u128(h, key, msg, v[i].n);
		T_TRUE(t, h[0] == lo);
		T_TRUE(t, h[1] == hi);
	}
}

const struct test_case siphash_tests[] = {
	{ "reference_vectors", test_reference_vectors, 0 },
	{ "u128_vectors", test_u128_vectors, 0 },
	{ NULL, NULL, 0 }
};
