/*
 * crypto/aesgcm against the AES-256 test cases 13-16 of McGrew and Viega's
 * GCM specification (tests/vectors/mcgrew-viega-aes256-gcm.json): seal,
 * open, in place, and one context reused across every vector and both
 * directions.  A flipped bit in the ciphertext, tag, AD or nonce, a wrong
 * key and a short input must all be rejected, with nothing handed out.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/crypto/cvec.h"
#include "crypto/aesgcm.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct gcm_vec {
	uint8_t *key, *iv, *ad, *pt, *ct, *tag;
	size_t kl, il, al, pl, cl, tl;
};

static void vec_load(struct tctx *t, json_t *v, struct gcm_vec *g)
{
	g->key = tvec_field(t, v, "key", &g->kl);
	g->iv = tvec_field(t, v, "iv", &g->il);
	g->ad = tvec_field(t, v, "aad", &g->al);
	g->pt = tvec_field(t, v, "plaintext", &g->pl);
	g->ct = tvec_field(t, v, "ciphertext", &g->cl);
	g->tag = tvec_field(t, v, "tag", &g->tl);
	T_EQ(t, g->kl, AESGCM_KEY_BYTES);
	T_EQ(t, g->il, AESGCM_NONCE_BYTES);
	T_EQ(t, g->tl, AESGCM_TAG_BYTES);
	T_EQ(t, g->pl, g->cl);
}

static void vec_free(struct gcm_vec *g)
{
	free(g->key);
	free(g->iv);
	free(g->ad);
	free(g->pt);
	free(g->ct);
	free(g->tag);
}

static void test_mcgrew_viega(struct tctx *t)
{
	json_t *root = tvec_load(t, "mcgrew-viega-aes256-gcm.json"), *v;
	struct aesgcm_ctx *shared = NULL;
	size_t i, n = 0;

	if (!root)
		return;
	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		struct gcm_vec g;
		struct aesgcm_ctx *c;
		uint8_t *buf, *out;

		vec_load(t, v, &g);
		buf = xzalloc(g.pl + AESGCM_TAG_BYTES);
		out = xzalloc(g.pl + 1);
		c = aesgcm_new(g.key);
		T_OK(t, aesgcm_seal(c, buf, g.iv, g.ad, g.al, g.pt, g.pl));
		T_MEMEQ(t, buf, g.ct, g.cl);
		T_MEMEQ(t, buf + g.pl, g.tag, AESGCM_TAG_BYTES);
		T_OK(t, aesgcm_open(c, out, g.iv, g.ad, g.al, buf,
				    g.pl + AESGCM_TAG_BYTES));
		T_MEMEQ(t, out, g.pt, g.pl);
		/* Twice more through the same keyed context, in place. */
		for (int rep = 0; rep < 2; rep++) {
			memcpy(buf, g.pt, g.pl);
			T_OK(t, aesgcm_seal(c, buf, g.iv, g.ad, g.al, buf, g.pl));
			T_MEMEQ(t, buf, g.ct, g.cl);
			T_MEMEQ(t, buf + g.pl, g.tag, AESGCM_TAG_BYTES);
			T_OK(t, aesgcm_open(c, buf, g.iv, g.ad, g.al, buf,
					    g.pl + AESGCM_TAG_BYTES));
			T_MEMEQ(t, buf, g.pt, g.pl);
		}
		/* One context re-keyed from vector to vector. */
		if (!shared)
			shared = aesgcm_new(g.key);
		else
			aesgcm_set_key(shared, g.key);
		T_OK(t, aesgcm_seal(shared, buf, g.iv, g.ad, g.al, g.pt, g.pl));
		T_MEMEQ(t, buf + g.pl, g.tag, AESGCM_TAG_BYTES);
		aesgcm_free(c);
		free(buf);
		free(out);
		vec_free(&g);
		n++;
	}
	T_EQ(t, n, 4);
	aesgcm_free(shared);
	aesgcm_free(NULL);
	json_decref(root);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Test case 16 (with AD) tampered in every input. */
static void test_reject(struct tctx *t)
{
	json_t *root = tvec_load(t, "mcgrew-viega-aes256-gcm.json"), *v;
	struct gcm_vec g;
	struct aesgcm_ctx *c;
	uint8_t sealed[128], buf[128], out[128], nonce[12], key[32];
	size_t n;

	if (!root || !(v = cvec_find(t, root, "Test Case 16"))) {
		json_decref(root);
		return;
	}
	vec_load(t, v, &g);
	T_TRUE(t, g.al > 0 && g.pl > 0);
	n = g.pl + AESGCM_TAG_BYTES;
	c = aesgcm_new(g.key);
	T_OK(t, aesgcm_seal(c, sealed, g.iv, g.ad, g.al, g.pt, g.pl));
	/* A flipped bit anywhere in ciphertext or tag. */
	for (size_t pos = 0; pos < n; pos += 7) {
		memcpy(buf, sealed, n);
		buf[pos] ^= 0x10;
		memset(out, 0xaa, sizeof(out));
		T_ERR(t, aesgcm_open(c, out, g.iv, g.ad, g.al, buf, n), ERR_AUTH);
		T_TRUE(t, all_zero(out, g.pl));
	}
	/* In place: the buffer is wiped, not left as plaintext. */
	memcpy(buf, sealed, n);
	buf[n - 1] ^= 1;
	T_ERR(t, aesgcm_open(c, buf, g.iv, g.ad, g.al, buf, n), ERR_AUTH);
	T_TRUE(t, all_zero(buf, g.pl));
	/* Other AD, no AD, other nonce, other key. */
	memcpy(buf, g.ad, g.al);
	buf[0] ^= 1;
	T_ERR(t, aesgcm_open(c, out, g.iv, buf, g.al, sealed, n), ERR_AUTH);
	T_ERR(t, aesgcm_open(c, out, g.iv, NULL, 0, sealed, n), ERR_AUTH);
	memcpy(nonce, g.iv, sizeof(nonce));
	nonce[11] ^= 1;
	T_ERR(t, aesgcm_open(c, out, nonce, g.ad, g.al, sealed, n), ERR_AUTH);
	memcpy(key, g.key, sizeof(key));
	key[31] ^= 1;
	aesgcm_set_key(c, key);
	T_ERR(t, aesgcm_open(c, out, g.iv, g.ad, g.al, sealed, n), ERR_AUTH);
	/* The context still works after failures. */
	aesgcm_set_key(c, g.key);
	T_OK(t, aesgcm_open(c, out, g.iv, g.ad, g.al, sealed, n));
	T_MEMEQ(t, out, g.pt, g.pl);
	T_ERR(t, aesgcm_open(c, out, g.iv, NULL, 0, sealed, 15), ERR_TRUNCATED);
	T_ERR(t, aesgcm_seal(c, out, g.iv, NULL, AESGCM_MAX_BYTES + 1, out, 0),
	      ERR_TOO_BIG);
	aesgcm_free(c);
	vec_free(&g);
	json_decref(root);
}

/* Many messages through one context, each with its own nonce, against
 * a fresh context per message. */
static void test_reuse(struct tctx *t)
{
	uint8_t key[32], nonce[12] = { 0 }, a[300 + 16], b[300 + 16], pt[300];
	struct aesgcm_ctx *c, *fresh;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 3);
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)i;
	c = aesgcm_new(key);
	for (uint32_t k = 0; k < 40; k++) {
		size_t len = (k * 37) % sizeof(pt);
		nonce[11] = (uint8_t)k;
		T_OK(t, aesgcm_seal(c, a, nonce, "ad", 2, pt, len));
		fresh = aesgcm_new(key);
		T_OK(t, aesgcm_seal(fresh, b, nonce, "ad", 2, pt, len));
		aesgcm_free(fresh);
		T_MEMEQ(t, a, b, len + 16);
		T_OK(t, aesgcm_open(c, b, nonce, "ad", 2, a, len + 16));
		T_MEMEQ(t, b, pt, len);
	}
	aesgcm_free(c);
}

const struct test_case aesgcm_tests[] = {
	{ "mcgrew_viega_13_16", test_mcgrew_viega, 0 },
	{ "reject", test_reject, 0 },
	{ "reuse", test_reuse, 0 },
	{ NULL, NULL, 0 }
};
