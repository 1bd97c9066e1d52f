/*
 * crypto/chacha against RFC 8439 §2.4.2 (ChaCha20 with initial counter 1,
 * as I2P uses it) and §2.8.2 (AEAD), and i2pd 2.45.1
 * tests/test-aeadchacha20poly1305.cpp (i2pd-other.json).  Tampered tags,
 * ciphertexts and AAD must be rejected.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/crypto/cvec.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/chacha.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_chacha20_ic1(struct tctx *t)
{
	json_t *root = tvec_load(t, "rfc8439-chacha20-poly1305.json"), *v;
	uint8_t *key, *nonce, *pt, *ct, *ks, *buf;
	size_t kl, nl, pl, cl, ksl;

	if (!root || !(v = cvec_find(t, root, "2.4.2"))) {
		json_decref(root);
		return;
	}
	T_EQ(t, json_integer_value(json_object_get(v, "initial_counter")), 1);
	key = tvec_field(t, v, "key", &kl);
	nonce = tvec_field(t, v, "nonce", &nl);
	pt = tvec_field(t, v, "plaintext", &pl);
	ct = tvec_field(t, v, "ciphertext", &cl);
	ks = tvec_field(t, v, "keystream", &ksl);
	T_EQ(t, kl, 32);
	T_EQ(t, nl, 12);
	T_EQ(t, pl, cl);
	buf = xzalloc(pl + ksl);
	chacha20_xor(buf, pt, pl, key, nonce, 1);
	T_MEMEQ(t, buf, ct, cl);
	chacha20_xor(buf, buf, cl, key, nonce, 1);	/* in place, back */
	T_MEMEQ(t, buf, pt, pl);
	memset(buf, 0, ksl);
	chacha20_xor(buf, buf, ksl, key, nonce, 1);	/* keystream */
	T_MEMEQ(t, buf, ks, ksl);
	/* Counter 0 is a different stream: the trap PROTOCOLS.md 0.2 names. */
	chacha20_xor(buf, pt, pl, key, nonce, 0);
	T_TRUE(t, memcmp(buf, ct, cl) != 0);
	free(key);
	free(nonce);
	free(pt);
	free(ct);
	free(ks);
	free(buf);
	json_decref(root);
}

/* Encrypt/decrypt one AEAD vector (field names vary by file). */
static void check_aead(struct tctx *t, json_t *v, const char *nonce_key)
{
	size_t kl, nl, al, pl, cl, tl;
	uint8_t *key = tvec_field(t, v, "key", &kl);
	uint8_t *nonce = tvec_field(t, v, nonce_key, &nl);
	uint8_t *aad = tvec_field(t, v, "aad", &al);
	uint8_t *pt = tvec_field(t, v, "plaintext", &pl);
	uint8_t *ct = tvec_field(t, v, "ciphertext", &cl);
	uint8_t *tag = tvec_field(t, v, "tag", &tl);
	uint8_t *buf = xzalloc(pl + CHACHAPOLY_TAG_BYTES);
	uint8_t *out = xzalloc(pl + 1);

	T_EQ(t, nl, CHACHAPOLY_NONCE_BYTES);
	T_EQ(t, tl, CHACHAPOLY_TAG_BYTES);
	T_EQ(t, cl, pl);
	chachapoly_encrypt(buf, key, nonce, aad, al, pt, pl);
	T_MEMEQ(t, buf, ct, cl);
	T_MEMEQ(t, buf + cl, tag, tl);
	T_OK(t, chachapoly_decrypt(out, key, nonce, aad, al, buf, cl + tl));
	T_MEMEQ(t, out, pt, pl);

	/* In place both ways. */
	memcpy(buf, pt, pl);
	chachapoly_encrypt(buf, key, nonce, aad, al, buf, pl);
	T_MEMEQ(t, buf, ct, cl);
	T_MEMEQ(t, buf + cl, tag, tl);
	T_OK(t, chachapoly_decrypt(buf, key, nonce, aad, al, buf, cl + tl));
	T_MEMEQ(t, buf, pt, pl);

	/* Tampered tag, ciphertext, AAD and nonce are rejected, and out is
	 * zeroed rather than left holding unauthenticated plaintext. */
	for (int what = 0; what < 4; what++) {
		memcpy(buf, ct, cl);
		memcpy(buf + cl, tag, tl);
		memset(out, 0x55, pl);
		if (what == 0)
			buf[cl + tl - 1] ^= 1;
		else if (what == 1)
			buf[3] ^= 0x40;
		else if (what == 2)
			aad[0] ^= 1;
		else
			nonce[11] ^= 1;
		T_ERR(t, chachapoly_decrypt(out, key, nonce, aad, al, buf,
					    cl + tl), ERR_AUTH);
		for (size_t i = 0; i < pl; i++)
			if (out[i]) {
				t_fail(t, __FILE__, __LINE__, "out not zeroed");
				break;
			}
		if (what == 2)
			aad[0] ^= 1;
		else if (what == 3)
			nonce[11] ^= 1;
	}
	T_ERR(t, chachapoly_decrypt(out, key, nonce, aad, al, tag, tl - 1),
	      ERR_TRUNCATED);
	free(key);
	free(nonce);
	free(aad);
	free(pt);
	free(ct);
	free(tag);
	free(buf);
	free(out);
}

static void test_aead_rfc8439(struct tctx *t)
{
	json_t *root = tvec_load(t, "rfc8439-chacha20-poly1305.json"), *v;

	if (root && (v = cvec_find(t, root, "2.8.2")))
		check_aead(t, v, "nonce");
	json_decref(root);
}

static void test_aead_i2pd(struct tctx *t)
{
	json_t *root = tvec_load(t, "i2pd-other.json"), *v;

	if (root && (v = cvec_find(t, root, "aead-chacha20-poly1305")))
		check_aead(t, v, "nonce");
	json_decref(root);
}

static void test_poly1305_key_gen(struct tctx *t)
{
	/* RFC 8439 §2.6 as exercised by §2.8.2: the Poly1305 one-time key is
	 * the first 32 bytes of the ChaCha20 block with counter 0. */
	json_t *root = tvec_load(t, "rfc8439-chacha20-poly1305.json"), *v;
	uint8_t *key, *nonce, *otk, buf[32] = { 0 };
	size_t kl, nl, ol;

	if (!root || !(v = cvec_find(t, root, "2.8.2"))) {
		json_decref(root);
		return;
	}
	key = tvec_field(t, v, "key", &kl);
	nonce = tvec_field(t, v, "nonce", &nl);
	otk = tvec_field(t, v, "poly1305_one_time_key", &ol);
	T_EQ(t, ol, 32);
	chacha20_xor(buf, buf, sizeof(buf), key, nonce, 0);
	T_MEMEQ(t, buf, otk, 32);
	free(key);
	free(nonce);
	free(otk);
	json_decref(root);
}

static void test_nonce_layout(struct tctx *t)
{
	/* PROTOCOLS.md 0.2: "12-byte nonce whose first 4 bytes are zero and
	 * last 8 bytes are a little-endian counter". */
	static const uint8_t want[12] = { 0, 0, 0, 0, 0x08, 0x07, 0x06, 0x05,
					  0x04, 0x03, 0x02, 0x01 };
	static const uint8_t key[32] = { 1 };
	uint8_t nonce[12], a[5 + 16], b[5 + 16], p[5];

	chachapoly_nonce(nonce, 0x0102030405060708ULL);
	T_MEMEQ(t, nonce, want, 12);
	/* the _n forms are the same as building the nonce by hand */
	chachapoly_encrypt(a, key, nonce, "ad", 2, "hello", 5);
	chachapoly_encrypt_n(b, key, 0x0102030405060708ULL, "ad", 2, "hello",
			     5);
	T_MEMEQ(t, a, b, sizeof(a));
	T_OK(t, chachapoly_decrypt_n(p, key, 0x0102030405060708ULL, "ad", 2, b,
				     sizeof(b)));
	T_MEMEQ(t, p, "hello", 5);
	T_ERR(t, chachapoly_decrypt_n(p, key, 1, "ad", 2, b, sizeof(b)),
	      ERR_AUTH);
}

/* Two 8-byte XORs at once equal two chacha20_xor() calls: the RFC's key
 * stream, then 2000 pairs of keys and nonces (and one key twice). */
static void test_xor8x2(struct tctx *t)
{
	static const uint8_t key[32] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
		18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };
	static const uint8_t nonce[12] = { 0, 0, 0, 0, 0, 0, 0, 0x4a };
	/* RFC 8439 2.4.2: the key stream's first bytes at counter 1 */
	static const uint8_t ks[8] = { 0x22, 0x4f, 0x51, 0xf3, 0x40, 0x1b,
				       0xd9, 0xe1 };
	uint8_t in[2][64 + 24], a[16], b[16];
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	memset(a, 0, sizeof(a));
	chacha20_xor8x2(a, key, nonce, a + 8, key, nonce);
	T_MEMEQ(t, a, ks, 8);
	T_MEMEQ(t, a + 8, ks, 8);
	for (int i = 0; i < 2000; i++) {
		for (size_t j = 0; j < sizeof(in); j++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			((uint8_t *)in)[j] = (uint8_t)(x >> 56);
		}
		memcpy(a, in[0], 16);
		memcpy(b, in[0], 16);
		chacha20_xor8x2(a, in[0] + 16, in[0] + 48, a + 8,
				i % 7 ? in[1] : in[0] + 16, in[1] + 60);
		chacha20_xor(b, b, 8, in[0] + 16, in[0] + 48, 1);
		chacha20_xor(b + 8, b + 8, 8, i % 7 ? in[1] : in[0] + 16,
			     in[1] + 60, 1);
		T_MEMEQ(t, a, b, 16);
	}
}

/* n 8-byte XORs at once equal n chacha20_xor() calls, for every n from
 * 0 to 40 (past one and two vectors of lanes, and partial ones): random
 * keys, nonces and data, the same key for every third.  Each path the CPU
 * has (16 lanes, 8, pairs): with AVX-512 the 8-lane one is not otherwise
 * taken. */
static void test_xor8_many(struct tctx *t)
{
	enum { MAX = 40 };
	static const size_t lanes_max[] = { 16, 8, 0 };
	static uint8_t key[MAX][32], nonce[MAX][12], a[MAX][8], b[MAX][8];
	uint8_t *dst[MAX];
	const uint8_t *kp[MAX], *np[MAX];
	uint64_t x = 0x2545f4914f6cdd1dULL;

	for (size_t w = 0; w < ARRAY_LEN(lanes_max); w++)
	for (size_t n = 0; n <= MAX; n++) {
		for (size_t i = 0; i < MAX; i++) {
			for (size_t j = 0; j < 32 + 12 + 8; j++) {
				uint8_t v;

				x = x * 6364136223846793005ULL +
				    1442695040888963407ULL;
				v = (uint8_t)(x >> 56);
				if (j < 32)
					key[i][j] = v;
				else if (j < 44)
					nonce[i][j - 32] = v;
				else
					a[i][j - 44] = b[i][j - 44] = v;
			}
			dst[i] = a[i];
			kp[i] = i % 3 ? key[i] : key[0];
			np[i] = nonce[i];
		}
		if (lanes_max[w] == 16)
			chacha20_xor8_many(n, dst, kp, np);
		else
			chacha20_xor8_many_lanes(lanes_max[w], n, dst, kp, np);
		for (size_t i = 0; i < n; i++)
			chacha20_xor(b[i], b[i], 8, kp[i], np[i], 1);
		/* and past n, nothing touched */
		T_MEMEQ(t, a, b, sizeof(a));
	}
}

const struct test_case chacha_tests[] = {
	{ "chacha20/rfc8439_ic1", test_chacha20_ic1, 0 },
	{ "aead/rfc8439", test_aead_rfc8439, 0 },
	{ "aead/i2pd", test_aead_i2pd, 0 },
	{ "aead/nonce_layout", test_nonce_layout, 0 },
	{ "chacha20/rfc8439_otk_ic0", test_poly1305_key_gen, 0 },
	{ "chacha20/xor8x2", test_xor8x2, 0 },
	{ "chacha20/xor8_many", test_xor8_many, 0 },
	{ NULL, NULL, 0 }
};
