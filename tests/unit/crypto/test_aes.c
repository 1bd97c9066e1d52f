/*
 * crypto/aes against NIST FIPS 197 Appendix C.3 (one AES-256 block, here
 * through ECB) and SP 800-38A F.2.5 / F.2.6 (AES-256-CBC encrypt and
 * decrypt), whole and split into pieces that chain the returned IV.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/crypto/cvec.h"
#include "crypto/aes.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Concatenate a JSON array of hex blocks into a new buffer. */
static uint8_t *blocks(struct tctx *t, json_t *v, const char *key, size_t *len)
{
	json_t *arr = json_object_get(v, key), *b;
	uint8_t *out = xzalloc(16 * json_array_size(arr) + 1);
	size_t i, n;

	json_array_foreach(arr, i, b) {
		uint8_t *p = tvec_hex(t, json_string_value(b), &n);

		T_EQ(t, n, 16);
		memcpy(out + 16 * i, p, 16);
		free(p);
	}
	*len = 16 * json_array_size(arr);
	return out;
}

static void test_fips197_c3(struct tctx *t)
{
	json_t *root = tvec_load(t, "nist-aes256.json"), *v;
	uint8_t *key, *pt, *ct, buf[48];
	size_t kl, pl, cl;
	struct aes256_ctx *c;

	if (!root)
		return;
	v = cvec_at(root, 0);
	key = tvec_field(t, v, "key", &kl);
	pt = tvec_field(t, v, "plaintext", &pl);
	ct = tvec_field(t, v, "ciphertext", &cl);
	T_EQ(t, kl, 32);
	T_EQ(t, pl, 16);
	T_EQ(t, cl, 16);
	c = aes256_new(key);
	/* Three blocks through one context: ECB, so each is the same. */
	for (int rep = 0; rep < 2; rep++) {
		for (int i = 0; i < 3; i++)
			memcpy(buf + 16 * i, pt, 16);
		T_OK(t, aes256_ecb_encrypt(c, buf, sizeof(buf)));
		for (int i = 0; i < 3; i++)
			T_MEMEQ(t, buf + 16 * i, ct, 16);
		T_OK(t, aes256_ecb_decrypt(c, buf, sizeof(buf)));
		for (int i = 0; i < 3; i++)
			T_MEMEQ(t, buf + 16 * i, pt, 16);
	}
	T_ERR(t, aes256_ecb_encrypt(c, buf, 15), ERR_ARG);
	T_MEMEQ(t, buf, pt, 16);	/* untouched on error */
	T_OK(t, aes256_ecb_encrypt(c, buf, 0));
	aes256_free(c);
	free(key);
	free(pt);
	free(ct);
	json_decref(root);
}

/* Run buf through CBC in pieces of the given sizes (in blocks), chaining
 * the IV; returns the final IV in iv. */
static void cbc_pieces(struct tctx *t, struct aes256_ctx *c, bool enc,
		       uint8_t iv[16], uint8_t *buf, const int *pieces)
{
	for (size_t off = 0; *pieces; off += 16 * (size_t)*pieces++) {
		size_t n = 16 * (size_t)*pieces;

		if (enc)
			T_OK(t, aes256_cbc_encrypt(c, iv, buf + off, n));
		else
			T_OK(t, aes256_cbc_decrypt(c, iv, buf + off, n));
	}
}

static void test_sp800_38a_cbc(struct tctx *t)
{
	static const int splits[][5] = {
		{ 4, 0 }, { 1, 1, 1, 1, 0 }, { 1, 3, 0 }, { 3, 1, 0 },
		{ 2, 2, 0 },
	};
	json_t *root = tvec_load(t, "nist-aes256.json"), *ve, *vd;
	uint8_t *key, *iv0, *pt, *ct, *dkey, *div, *dct, *dpt, buf[64], iv[16];
	size_t kl, il, pl, cl, n;
	struct aes256_ctx *c;

	if (!root)
		return;
	ve = cvec_at(root, 1);	/* F.2.5 encrypt */
	vd = cvec_at(root, 2);	/* F.2.6 decrypt */
	key = tvec_field(t, ve, "key", &kl);
	iv0 = tvec_field(t, ve, "iv", &il);
	pt = blocks(t, ve, "plaintext_blocks", &pl);
	ct = blocks(t, ve, "ciphertext_blocks", &cl);
	dkey = tvec_field(t, vd, "key", &n);
	div = tvec_field(t, vd, "iv", &n);
	dct = blocks(t, vd, "ciphertext_blocks", &n);
	dpt = blocks(t, vd, "plaintext_blocks", &n);
	T_EQ(t, kl, 32);
	T_EQ(t, il, 16);
	T_EQ(t, pl, 64);
	T_EQ(t, cl, 64);
	T_EQ(t, n, 64);

	c = aes256_new(key);
	for (size_t s = 0; s < ARRAY_LEN(splits); s++) {
		memcpy(buf, pt, 64);
		memcpy(iv, iv0, 16);
		cbc_pieces(t, c, true, iv, buf, splits[s]);
		T_MEMEQ(t, buf, ct, 64);
		T_MEMEQ(t, iv, ct + 48, 16);	/* next IV = last block */
	}
	aes256_set_key(c, dkey);
	for (size_t s = 0; s < ARRAY_LEN(splits); s++) {
		memcpy(buf, dct, 64);
		memcpy(iv, div, 16);
		cbc_pieces(t, c, false, iv, buf, splits[s]);
		T_MEMEQ(t, buf, dpt, 64);
		T_MEMEQ(t, iv, dct + 48, 16);
	}
	memcpy(iv, div, 16);
	T_ERR(t, aes256_cbc_decrypt(c, iv, buf, 17), ERR_ARG);
	T_ERR(t, aes256_cbc_encrypt(c, iv, buf, 8), ERR_ARG);
	T_MEMEQ(t, iv, div, 16);	/* IV kept on error */
	aes256_free(c);
	aes256_free(NULL);
	free(key);
	free(iv0);
	free(pt);
	free(ct);
	free(dkey);
	free(div);
	free(dct);
	free(dpt);
	json_decref(root);
}

static void test_rekey(struct tctx *t)
{
	/* set_key must really replace the key in already-used contexts. */
	static const uint8_t k1[32] = { 1 }, k2[32] = { 2 };
	struct aes256_ctx *a = aes256_new(k1), *b = aes256_new(k2);
	uint8_t x[16] = { 0 }, y[16] = { 0 }, iv1[16] = { 0 }, iv2[16] = { 0 };

	T_OK(t, aes256_ecb_encrypt(a, x, 16));
	T_OK(t, aes256_cbc_encrypt(a, iv1, y, 16));
	aes256_set_key(a, k2);
	memset(x, 0, 16);
	memset(y, 0, 16);
	T_OK(t, aes256_ecb_encrypt(a, x, 16));
	T_OK(t, aes256_ecb_encrypt(b, y, 16));
	T_MEMEQ(t, x, y, 16);
	memset(iv1, 0, 16);
	memset(x, 0, 16);
	memset(y, 0, 16);
	T_OK(t, aes256_cbc_encrypt(a, iv1, x, 16));
	T_OK(t, aes256_cbc_encrypt(b, iv2, y, 16));
	T_MEMEQ(t, x, y, 16);
	aes256_free(a);
	aes256_free(b);
}

const struct test_case aes_tests[] = {
	{ "fips197_c3_ecb", test_fips197_c3, 0 },
	{ "sp800_38a_cbc", test_sp800_38a_cbc, 0 },
	{ "rekey", test_rekey, 0 },
	{ NULL, NULL, 0 }
};
