/* crypto/ed25519 against RFC 8032 §7.1 (TEST 1, 2, 3, 1024, SHA(abc)). */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/alloc.h"
#include "crypto/ed25519.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_rfc8032(struct tctx *t)
{
	json_t *root = tvec_load(t, "rfc8032-ed25519.json"), *v;
	size_t i, n;

	if (!root)
		return;
	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		uint8_t *seed = tvec_field(t, v, "secret_key", &n);
		uint8_t *pkb, *sigb, *msg;
		struct ed25519_seed sk;
		struct ed25519_pk pk, wpk;
		struct ed25519_sig sig, wsig;
		size_t mlen;

		T_EQ(t, n, 32);
		memcpy(sk.b, seed, 32);
		pkb = tvec_field(t, v, "public_key", &n);
		T_EQ(t, n, 32);
		memcpy(wpk.b, pkb, 32);
		sigb = tvec_field(t, v, "signature", &n);
		T_EQ(t, n, 64);
		memcpy(wsig.b, sigb, 64);
		msg = tvec_field(t, v, "message", &mlen);

		ed25519_pk_from_seed(&pk, &sk);
		T_MEMEQ(t, pk.b, wpk.b, 32);
		ed25519_sign(&sig, &sk, msg, mlen);
		T_MEMEQ(t, sig.b, wsig.b, 64);
		T_TRUE(t, ed25519_verify(&wsig, &wpk, msg, mlen));
		/* A flipped bit in R, in S, or in the message fails. */
		sig = wsig;
		sig.b[0] ^= 1;
		T_FALSE(t, ed25519_verify(&sig, &wpk, msg, mlen));
		sig = wsig;
		sig.b[40] ^= 0x10;
		T_FALSE(t, ed25519_verify(&sig, &wpk, msg, mlen));
		if (mlen) {
			msg[mlen - 1] ^= 0x80;
			T_FALSE(t, ed25519_verify(&wsig, &wpk, msg, mlen));
		} else {
			T_FALSE(t, ed25519_verify(&wsig, &wpk, "x", 1));
		}
		free(seed);
		free(pkb);
		free(sigb);
		free(msg);
	}
	T_EQ(t, i, 5);
	json_decref(root);
}

static void test_keygen_roundtrip(struct tctx *t)
{
	struct ed25519_seed sk;
	struct ed25519_pk pk, pk2;
	struct ed25519_sig sig;

	ed25519_keygen(&sk, &pk);
	ed25519_pk_from_seed(&pk2, &sk);
	T_MEMEQ(t, pk.b, pk2.b, 32);
	ed25519_sign(&sig, &sk, "router info", 11);
	T_TRUE(t, ed25519_verify(&sig, &pk, "router info", 11));
	T_FALSE(t, ed25519_verify(&sig, &pk, "router infp", 11));
}

const struct test_case ed25519_tests[] = {
	{ "rfc8032", test_rfc8032, 0 },
	{ "keygen_roundtrip", test_keygen_roundtrip, 0 },
	{ NULL, NULL, 0 }
};
