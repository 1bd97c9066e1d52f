/*
 * crypto/elligator2 against i2pd 2.45.1's vectors (tests/test-elligator.cpp,
 * copied to tests/vectors/i2pd-elligator2.json with its source): both
 * encodings of one key, three decodings and the key that does not encode;
 * then round trips of random keys under both roots and padding bits, the
 * (p-1)/2 bound on decode, and key generation.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/crypto/cvec.h"
#include "crypto/base/err.h"
#include "crypto/elligator2.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"

#include <jansson.h>
#include <string.h>

/* The vector whose id is exactly id (borrowed), or NULL after a failure. */
static json_t *vec(struct tctx *t, json_t *root, const char *id)
{
	json_t *v;

	for (size_t i = 0; (v = cvec_at(root, i)) != NULL; i++) {
		const char *s = json_string_value(json_object_get(v, "id"));

		if (s && strcmp(s, id) == 0)
			return v;
	}
	T_CHECK_(t, 0, "vector %s missing", id);
	return NULL;
}

static void test_i2pd_encode(struct tctx *t)
{
	static const char *const ids[2] = { "encode", "encode-highY" };
	json_t *root = tvec_load(t, "i2pd-elligator2.json");
	struct x25519_pk pk, back, canon;
	uint8_t want[32], got[32];

	if (!root)
		return;
	for (int i = 0; i < 2; i++) {
		json_t *v = vec(t, root, ids[i]);

		if (!v || !cvec_fixed(t, v, "public_key", pk.b, 32) ||
		    !cvec_fixed(t, v, "encoded", want, 32))
			continue;
		memset(got, 0x55, sizeof(got));
		T_OK(t, elligator2_encode(&pk, i == 1, 0, got));
		T_MEMEQ(t, got, want, 32);
		/* The key has bit 255 set, so it is u + 2^255 = (u mod p) + 19
		 * with u < p - 19: decoding gives the canonical value. */
		canon = pk;
		canon.b[31] &= 0x7f;
		canon.b[0] = (uint8_t)(canon.b[0] + 19);
		T_EQ(t, canon.b[0], 0x46);
		T_OK(t, elligator2_decode(got, &back));
		T_MEMEQ(t, back.b, canon.b, 32);
		/* padding bits change the bytes, not the key */
		T_OK(t, elligator2_encode(&pk, i == 1, 0xc0, got));
		T_EQ(t, got[31], want[31] | 0xc0);
		T_OK(t, elligator2_decode(got, &back));
		T_MEMEQ(t, back.b, canon.b, 32);
	}
	json_decref(root);
}

static void test_i2pd_decode(struct tctx *t)
{
	static const char *const ids[3] = { "decode-1", "decode-2", "decode-3" };
	json_t *root = tvec_load(t, "i2pd-elligator2.json");
	struct x25519_pk want, got;
	uint8_t repr[32];

	if (!root)
		return;
	for (int i = 0; i < 3; i++) {
		json_t *v = vec(t, root, ids[i]);

		if (!v || !cvec_fixed(t, v, "encoded", repr, 32) ||
		    !cvec_fixed(t, v, "public_key", want.b, 32))
			continue;
		memset(got.b, 0, 32);
		T_OK(t, elligator2_decode(repr, &got));
		T_MEMEQ(t, got.b, want.b, 32);
		/* the two top bits of byte 31 are ignored */
		repr[31] ^= 0xc0;
		memset(got.b, 0, 32);
		T_OK(t, elligator2_decode(repr, &got));
		T_MEMEQ(t, got.b, want.b, 32);
		/* PROTOCOLS.md 2.11 negative test: one flipped bit elsewhere
		 * gives another key or a refusal, never this one */
		repr[5] ^= 0x10;
		if (elligator2_decode(repr, &got) == 0)
			T_FALSE(t, memcmp(got.b, want.b, 32) == 0);
	}
	json_decref(root);
}

static void test_i2pd_encode_fails(struct tctx *t)
{
	json_t *root = tvec_load(t, "i2pd-elligator2.json"), *v;
	struct x25519_pk pk;
	uint8_t repr[32], keep[32];

	if (!root)
		return;
	v = vec(t, root, "encode-fails");
	if (v && cvec_fixed(t, v, "public_key", pk.b, 32)) {
		memset(repr, 0xa5, sizeof(repr));
		memcpy(keep, repr, sizeof(keep));
		T_ERR(t, elligator2_encode(&pk, false, 0, repr), ERR_UNSUPPORTED);
		T_ERR(t, elligator2_encode(&pk, true, 0, repr), ERR_UNSUPPORTED);
		T_MEMEQ(t, repr, keep, 32);	/* untouched on failure */
		T_FALSE(t, elligator2_is_encodable(&pk));
	}
	json_decref(root);
}

/* r must be at most (p-1)/2 = 2^254 - 10: f6 ff .. ff 3f is the largest. */
static void test_decode_bound(struct tctx *t)
{
	uint8_t r[32];
	struct x25519_pk pk;

	memset(r, 0xff, sizeof(r));
	r[0] = 0xf6;
	r[31] = 0x3f;
	T_OK(t, elligator2_decode(r, &pk));
	r[0] = 0xf7;				/* (p-1)/2 + 1 */
	T_ERR(t, elligator2_decode(r, &pk), ERR_RANGE);
	r[31] = 0xff;				/* top bits do not help */
	T_ERR(t, elligator2_decode(r, &pk), ERR_RANGE);
	memset(r, 0, sizeof(r));		/* r = 0: u = -A */
	T_OK(t, elligator2_decode(r, &pk));
}

/* Random keys: about half encode; each that does decodes back to itself
 * from both roots, and the two roots differ. */
static void test_round_trip(struct tctx *t)
{
	enum { N = 256 };
	int encodable = 0;

	for (int i = 0; i < N; i++) {
		struct x25519_sk sk;
		struct x25519_pk pk, back;
		uint8_t r0[32], r1[32], pad;

		x25519_keygen(&sk, &pk);
		rand_bytes(&pad, 1);
		if (elligator2_encode(&pk, false, pad, r0) != 0) {
			T_FALSE(t, elligator2_is_encodable(&pk));
			T_ERR(t, elligator2_encode(&pk, true, pad, r1),
			      ERR_UNSUPPORTED);
			continue;
		}
		encodable++;
		T_TRUE(t, elligator2_is_encodable(&pk));
		T_OK(t, elligator2_encode(&pk, true, pad, r1));
		T_EQ(t, r0[31] & 0xc0, pad & 0xc0);
		T_FALSE(t, memcmp(r0, r1, 32) == 0);
		T_OK(t, elligator2_decode(r0, &back));
		T_MEMEQ(t, back.b, pk.b, 32);
		T_OK(t, elligator2_decode(r1, &back));
		T_MEMEQ(t, back.b, pk.b, 32);
	}
	T_TRUE(t, encodable > N * 35 / 100 && encodable < N * 65 / 100);
}

static void test_keygen(struct tctx *t)
{
	unsigned pads = 0, nopads = 0;

	for (int i = 0; i < 64; i++) {
		struct x25519_sk sk;
		struct x25519_pk pk, derived, back;
		uint8_t repr[32];

		elligator2_keygen(&sk, &pk, repr);
		x25519_pk_from_sk(&derived, &sk);
		T_MEMEQ(t, derived.b, pk.b, 32);
		T_OK(t, elligator2_decode(repr, &back));
		T_MEMEQ(t, back.b, pk.b, 32);
		if (repr[31] & 0xc0)
			pads++;
		else
			nopads++;
	}
	/* P(all 64 alike) = 2 * 4^-64 or (3/4)^64 = 1e-8 */
	T_TRUE(t, pads > 0 && nopads > 0);
}

const struct test_case elligator2_tests[] = {
	{ "i2pd_encode", test_i2pd_encode, 0 },
	{ "i2pd_decode", test_i2pd_decode, 0 },
	{ "i2pd_encode_fails", test_i2pd_encode_fails, 0 },
	{ "decode_bound", test_decode_bound, 0 },
	{ "round_trip", test_round_trip, 0 },
	{ "keygen", test_keygen, 0 },
	{ NULL, NULL, 0 }
};
