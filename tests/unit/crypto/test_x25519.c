/*
 * crypto/x25519 against RFC 7748 §5.2 (two vectors and the iterated test
 * after 1 and 1,000 rounds) and §6.1 (Alice/Bob key pairs and shared
 * secret), i2pd's X25519 vector, and the all-zero (low-order) rejection
 * §6.1 asks for.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/crypto/cvec.h"
#include "crypto/base/err.h"
#include "crypto/x25519.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_rfc7748_5_2(struct tctx *t)
{
	json_t *root = tvec_load(t, "rfc7748-x25519.json");
	struct x25519_sk k;
	struct x25519_pk u;
	uint8_t want[32], out[32];

	if (!root)
		return;
	for (size_t i = 0; i < 2; i++) {
		json_t *v = cvec_at(root, i);

		if (!cvec_fixed(t, v, "input_scalar", k.b, 32) ||
		    !cvec_fixed(t, v, "input_u", u.b, 32) ||
		    !cvec_fixed(t, v, "output_u", want, 32))
			continue;
		T_OK(t, x25519_dh(out, &k, &u));
		T_MEMEQ(t, out, want, 32);
	}
	json_decref(root);
}

/* RFC 7748 §5.2: "set k to be the result of calling the function and u to
 * be the old value of k", starting from k = u = 9. */
static void iterate(struct x25519_sk *k, struct x25519_pk *u, unsigned rounds)
{
	uint8_t r[32];

	for (unsigned i = 0; i < rounds; i++) {
		if (x25519_dh(r, k, u) != 0)
			memset(r, 0, sizeof(r));	/* fails the compare */
		memcpy(u->b, k->b, 32);
		memcpy(k->b, r, 32);
	}
}

static void test_rfc7748_iterated(struct tctx *t)
{
	json_t *root = tvec_load(t, "rfc7748-x25519.json"), *v;
	struct x25519_sk k;
	struct x25519_pk u;
	uint8_t want1[32], want1000[32];

	if (!root)
		return;
	if ((v = cvec_find(t, root, "5.2-X25519-iterated")) &&
	    cvec_fixed(t, v, "initial_k", k.b, 32) &&
	    cvec_fixed(t, v, "initial_u", u.b, 32) &&
	    cvec_fixed(t, v, "after_1", want1, 32) &&
	    cvec_fixed(t, v, "after_1000", want1000, 32)) {
		iterate(&k, &u, 1);
		T_MEMEQ(t, k.b, want1, 32);
		iterate(&k, &u, 999);
		T_MEMEQ(t, k.b, want1000, 32);
	}
	json_decref(root);
}

static void test_rfc7748_6_1(struct tctx *t)
{
	json_t *root = tvec_load(t, "rfc7748-x25519.json"), *v;
	struct x25519_sk a, b;
	struct x25519_pk apk, bpk, wa, wb;
	uint8_t want[32], s1[32], s2[32];

	if (!root)
		return;
	if ((v = cvec_find(t, root, "6.1-X25519-DH")) &&
	    cvec_fixed(t, v, "alice_private", a.b, 32) &&
	    cvec_fixed(t, v, "alice_public", wa.b, 32) &&
	    cvec_fixed(t, v, "bob_private", b.b, 32) &&
	    cvec_fixed(t, v, "bob_public", wb.b, 32) &&
	    cvec_fixed(t, v, "shared_secret", want, 32)) {
		x25519_pk_from_sk(&apk, &a);
		x25519_pk_from_sk(&bpk, &b);
		T_MEMEQ(t, apk.b, wa.b, 32);
		T_MEMEQ(t, bpk.b, wb.b, 32);
		T_OK(t, x25519_dh(s1, &a, &wb));
		T_OK(t, x25519_dh(s2, &b, &wa));
		T_MEMEQ(t, s1, want, 32);
		T_MEMEQ(t, s2, want, 32);
	}
	json_decref(root);
}

static void test_i2pd(struct tctx *t)
{
	/* i2pd 2.45.1 tests/test-x25519.cpp (the RFC 7748 §5.2 #1 data). */
	json_t *root = tvec_load(t, "i2pd-other.json"), *v;
	struct x25519_sk k;
	struct x25519_pk u;
	uint8_t want[32], out[32];

	if (!root)
		return;
	if ((v = cvec_find(t, root, "x25519")) &&
	    cvec_fixed(t, v, "scalar", k.b, 32) &&
	    cvec_fixed(t, v, "u", u.b, 32) &&
	    cvec_fixed(t, v, "output", want, 32)) {
		T_OK(t, x25519_dh(out, &k, &u));
		T_MEMEQ(t, out, want, 32);
	}
	json_decref(root);
}

static void test_low_order(struct tctx *t)
{
	/* u = 0 and u = 1 are points of small order: the shared secret is
	 * all zero, which RFC 7748 §6.1 says to reject. */
	struct x25519_sk sk;
	struct x25519_pk zero = { { 0 } }, one = { { 1 } }, pk;
	uint8_t out[32], keep[32];

	x25519_keygen(&sk, &pk);
	memset(out, 0xaa, sizeof(out));
	memcpy(keep, out, sizeof(out));
	T_ERR(t, x25519_dh(out, &sk, &zero), ERR_CRYPTO);
	T_ERR(t, x25519_dh(out, &sk, &one), ERR_CRYPTO);
	T_MEMEQ(t, out, keep, 32);	/* out written only on success */
}

static void test_keygen_agree(struct tctx *t)
{
	struct x25519_sk a, b;
	struct x25519_pk apk, bpk;
	uint8_t s1[32], s2[32];

	x25519_keygen(&a, &apk);
	x25519_keygen(&b, &bpk);
	T_OK(t, x25519_dh(s1, &a, &bpk));
	T_OK(t, x25519_dh(s2, &b, &apk));
	T_MEMEQ(t, s1, s2, 32);
	T_TRUE(t, memcmp(apk.b, bpk.b, 32) != 0);
}

const struct test_case x25519_tests[] = {
	{ "rfc7748/5.2", test_rfc7748_5_2, 0 },
	{ "rfc7748/iterated", test_rfc7748_iterated, 0 },
	{ "rfc7748/6.1", test_rfc7748_6_1, 0 },
	{ "i2pd", test_i2pd, 0 },
	{ "low_order", test_low_order, 0 },
	{ "keygen_agree", test_keygen_agree, 0 },
	{ NULL, NULL, 0 }
};
