/*
 * crypto/blinding: alpha, A', a' and the subcredential inputs against
 * tests/vectors/els2-model.json (gen-els2.py, an independent Python model
 * of the encryptedleaseset spec; the spec and i2pd publish no fixed
 * vectors), then the algebra both ways for random keys, RedDSA signatures
 * that verify as Ed25519 (and fail when tampered), and the date string.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/crypto/cvec.h"
#include "crypto/base/err.h"
#include "crypto/blinding.h"
#include "crypto/ed25519.h"
#include "crypto/rand.h"

#include <jansson.h>
#include <string.h>

static void test_model(struct tctx *t)
{
	json_t *root = tvec_load(t, "els2-model.json"), *arr, *v;
	struct ed25519_seed seed;
	uint8_t pk[32], a[32], alpha[32], want[32], got[32], sk[32];
	const char *date;
	size_t i;

	if (!root)
		return;
	T_TRUE(t, cvec_fixed(t, root, "seed", seed.b, 32));
	T_TRUE(t, cvec_fixed(t, root, "pk", pk, 32));
	date = json_string_value(json_object_get(root, "date"));
	T_TRUE(t, date && strlen(date) == BLIND_DATE_BYTES);
	blind_ed25519_scalar(a, &seed);
	arr = json_object_get(root, "blinding");
	T_EQ(t, json_array_size(arr), 3);
	json_array_foreach(arr, i, v) {
		uint16_t st = (uint16_t)json_integer_value(
			json_object_get(v, "sig_type"));
		size_t slen = 0;
		uint8_t *secret = tvec_field(t, v, "secret", &slen);

		blind_alpha(alpha, pk, st, 11, date, secret, slen);
		T_TRUE(t, cvec_fixed(t, v, "alpha", want, 32));
		T_MEMEQ(t, alpha, want, 32);
		T_OK(t, blind_pubkey(got, pk, alpha));
		T_TRUE(t, cvec_fixed(t, v, "blinded_pk", want, 32));
		T_MEMEQ(t, got, want, 32);
		blind_privkey(sk, a, alpha);
		T_TRUE(t, cvec_fixed(t, v, "blinded_sk", want, 32));
		T_MEMEQ(t, sk, want, 32);
		free(secret);
	}
	json_decref(root);
}

/* BLIND_PUBKEY(A, alpha) == DERIVE_PUBLIC(BLIND_PRIVKEY(a, alpha)), for
 * Ed25519 seeds and RedDSA scalars; signatures by a' verify under A'. */
static void test_algebra_and_sign(struct tctx *t)
{
	for (int i = 0; i < 16; i++) {
		struct ed25519_seed seed;
		struct ed25519_pk epk;
		struct ed25519_sig sig;
		uint8_t pk[32], a[32], alpha[32], bpk[32], bsk[32], pk2[32];
		uint8_t msg[100];
		char date[9];

		if (i % 2 == 0) {
			ed25519_keygen(&seed, &epk);
			memcpy(pk, epk.b, 32);
			blind_ed25519_scalar(a, &seed);
		} else {
			reddsa_keygen(a, pk);
		}
		T_OK(t, reddsa_pk_from_sk(pk2, a));
		T_MEMEQ(t, pk2, pk, 32);
		blind_date_format(date, 1700000000u + (uint64_t)i * 86400);
		blind_alpha(alpha, pk, i % 2 ? 11 : 7, 11, date, NULL, 0);
		T_OK(t, blind_pubkey(bpk, pk, alpha));
		blind_privkey(bsk, a, alpha);
		T_OK(t, reddsa_pk_from_sk(pk2, bsk));
		T_MEMEQ(t, pk2, bpk, 32);
		T_TRUE(t, memcmp(bpk, pk, 32) != 0);

		rand_bytes(msg, sizeof(msg));
		reddsa_sign(sig.b, bsk, bpk, msg, sizeof(msg), NULL);
		memcpy(epk.b, bpk, 32);
		T_TRUE(t, ed25519_verify(&sig, &epk, msg, sizeof(msg)));
		msg[i] ^= 0x20;
		T_FALSE(t, ed25519_verify(&sig, &epk, msg, sizeof(msg)));
		msg[i] ^= 0x20;
		sig.b[40] ^= 1;
		T_FALSE(t, ed25519_verify(&sig, &epk, msg, sizeof(msg)));
		/* under the unblinded key: no */
		sig.b[40] ^= 1;
		memcpy(epk.b, pk, 32);
		T_FALSE(t, ed25519_verify(&sig, &epk, msg, sizeof(msg)));
	}
}

static void test_sign_nonce(struct tctx *t)
{
	uint8_t a[32], pk[32], s1[64], s2[64], s3[64], T80[80];
	struct ed25519_sig sig;
	struct ed25519_pk epk;

	reddsa_keygen(a, pk);
	memset(T80, 7, sizeof(T80));
	reddsa_sign(s1, a, pk, "m", 1, T80);
	reddsa_sign(s2, a, pk, "m", 1, T80);
	T_MEMEQ(t, s1, s2, 64);		/* fixed T: deterministic */
	reddsa_sign(s3, a, pk, "m", 1, NULL);
	T_TRUE(t, memcmp(s1, s3, 64) != 0);	/* random T: differs */
	memcpy(sig.b, s3, 64);
	memcpy(epk.b, pk, 32);
	T_TRUE(t, ed25519_verify(&sig, &epk, "m", 1));
}

static void test_alpha_inputs(struct tctx *t)
{
	uint8_t pk[32], a1[32], a2[32], bad[32];

	memset(pk, 0x42, sizeof(pk));
	blind_alpha(a1, pk, 7, 11, "20240101", NULL, 0);
	blind_alpha(a2, pk, 7, 11, "20240102", NULL, 0);
	T_TRUE(t, memcmp(a1, a2, 32) != 0);	/* daily rotation */
	blind_alpha(a2, pk, 11, 11, "20240101", NULL, 0);
	T_TRUE(t, memcmp(a1, a2, 32) != 0);	/* sig type is keyed */
	blind_alpha(a2, pk, 7, 11, "20240101", (const uint8_t *)"s", 1);
	T_TRUE(t, memcmp(a1, a2, 32) != 0);	/* secret */
	T_TRUE(t, a1[31] < 0x10);		/* reduced mod l < 2^253 */
	/* not a point: refused */
	memset(bad, 0, sizeof(bad));
	bad[0] = 2;
	T_ERR(t, blind_pubkey(a2, bad, a1), ERR_FORMAT);
}

static void test_date(struct tctx *t)
{
	char d[9];

	blind_date_format(d, 0);
	T_STREQ(t, d, "19700101");
	blind_date_format(d, 1700000000);	/* 2023-11-14 22:13:20 */
	T_STREQ(t, d, "20231114");
	blind_date_format(d, 1709251199);	/* 2024-02-29 23:59:59 */
	T_STREQ(t, d, "20240229");
	blind_date_format(d, 1709251200);
	T_STREQ(t, d, "20240301");
}

const struct test_case blinding_tests[] = {
	{ "model", test_model, 0 },
	{ "algebra_and_sign", test_algebra_and_sign, 0 },
	{ "sign_nonce", test_sign_nonce, 0 },
	{ "alpha_inputs", test_alpha_inputs, 0 },
	{ "date", test_date, 0 },
	{ NULL, NULL, 0 }
};
