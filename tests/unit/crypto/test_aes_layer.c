/*
 * crypto/aes_layer: the tunnel layer step on many messages against NIST
 * FIPS 197 Appendix C.3 (AES-256) and against the same step built from
 * crypto/aes.h (OpenSSL EVP), for 0 to 36 messages at once with mixed
 * and repeated keys, on every path the CPU has: VAES pairs, AES-NI lanes
 * and the OpenSSL fallback.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/crypto/cvec.h"
#include "crypto/aes.h"
#include "crypto/aes_layer.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MSGS 36
#define DATA_BYTES 1008
#define MSG_BYTES (16 + DATA_BYTES)

/* The step through OpenSSL, one message. */
static void ref_step(struct tctx *t, bool enc, const uint8_t lk[32],
		     const uint8_t ik[32], uint8_t *msg, size_t len)
{
	struct aes256_ctx *l = aes256_new(lk), *i = aes256_new(ik);
	uint8_t iv[16];

	if (enc) {
		T_OK(t, aes256_ecb_encrypt(i, msg, 16));
		memcpy(iv, msg, 16);
		T_OK(t, aes256_cbc_encrypt(l, iv, msg + 16, len));
		T_OK(t, aes256_ecb_encrypt(i, msg, 16));
	} else {
		T_OK(t, aes256_ecb_decrypt(i, msg, 16));
		memcpy(iv, msg, 16);
		T_OK(t, aes256_cbc_decrypt(l, iv, msg + 16, len));
		T_OK(t, aes256_ecb_decrypt(i, msg, 16));
	}
	aes256_free(l);
	aes256_free(i);
}

/* Both keys the FIPS 197 C.3 key K, so that with E = AES-256(K):
 * encrypting IV = P and data blocks P^C gives IV' = C, every data block
 * E(C ^ P ^ C) = C, and the IV E(C); decrypting IV = C and data blocks C
 * gives IV' = P, the first block P ^ P = 0 and the others P ^ C. */
static void kat(struct tctx *t, size_t lanes)
{
	json_t *root = tvec_load(t, "nist-aes256.json"), *v;
	uint8_t *key, *pt, *ct, *bufs[MAX_MSGS], pc[16], ec[16];
	struct aes_layer_keys *k[MAX_MSGS];
	struct aes256_ctx *ref;
	size_t kl, pl, cl;

	if (!root)
		return;
	v = cvec_at(root, 0);
	key = tvec_field(t, v, "key", &kl);
	pt = tvec_field(t, v, "plaintext", &pl);
	ct = tvec_field(t, v, "ciphertext", &cl);
	T_EQ(t, kl, 32);
	T_EQ(t, pl, 16);
	T_EQ(t, cl, 16);
	for (int i = 0; i < 16; i++)
		pc[i] = pt[i] ^ ct[i];
	ref = aes256_new(key);
	memcpy(ec, ct, 16);
	T_OK(t, aes256_ecb_encrypt(ref, ec, 16));
	for (size_t j = 0; j < lanes; j++) {
		k[j] = aes_layer_keys_new(key, key);
		bufs[j] = xmalloc(MSG_BYTES);
		memcpy(bufs[j], pt, 16);
		for (size_t b = 0; b < DATA_BYTES / 16; b++)
			memcpy(bufs[j] + 16 + 16 * b, pc, 16);
	}
	T_OK(t, aes_layer_encrypt_n(k, bufs, lanes, DATA_BYTES));
	for (size_t j = 0; j < lanes; j++) {
		T_MEMEQ(t, bufs[j], ec, 16);
		for (size_t b = 0; b < DATA_BYTES / 16; b++)
			T_MEMEQ(t, bufs[j] + 16 + 16 * b, ct, 16);
		memcpy(bufs[j], ct, 16);
		T_OK(t, aes_layer_decrypt(k[j], bufs[j], DATA_BYTES));
		T_MEMEQ(t, bufs[j] + 16, (uint8_t[16]){ 0 }, 16);
		for (size_t b = 1; b < DATA_BYTES / 16; b++)
			T_MEMEQ(t, bufs[j] + 16 + 16 * b, pc, 16);
		aes_layer_keys_free(k[j]);
		free(bufs[j]);
	}
	aes256_free(ref);
	free(key);
	free(pt);
	free(ct);
	json_decref(root);
}

static const enum aes_layer_path paths[] = {
	AES_LAYER_PATH_BEST, AES_LAYER_PATH_VAES, AES_LAYER_PATH_AESNI,
	AES_LAYER_PATH_OPENSSL,
};

static void test_fips197(struct tctx *t)
{
	static const size_t lanes[] = { 1, 3, 8, 9, 16, 17, 32, 33 };

	for (size_t p = 0; p < sizeof(paths) / sizeof(*paths); p++) {
		aes_layer_force_path(paths[p]);
		for (size_t i = 0; i < sizeof(lanes) / sizeof(*lanes); i++)
			kat(t, lanes[i]);
	}
	aes_layer_force_path(AES_LAYER_PATH_BEST);
}

/* n messages of data_len bytes, keys drawn from a pool of n/2 + 1 pairs
 * (so some repeat), through aes_layer_encrypt_n and then
 * aes_layer_decrypt, each against ref_step. */
static void random_n(struct tctx *t, size_t n, size_t data_len)
{
	uint8_t lk[MAX_MSGS][32], ik[MAX_MSGS][32];
	uint8_t *got[MAX_MSGS], *want[MAX_MSGS], *orig[MAX_MSGS];
	struct aes_layer_keys *pool[MAX_MSGS], *k[MAX_MSGS];
	size_t pick[MAX_MSGS], npool = n / 2 + 1;

	for (size_t i = 0; i < npool; i++) {
		rand_bytes(lk[i], 32);
		rand_bytes(ik[i], 32);
		pool[i] = aes_layer_keys_new(lk[i], ik[i]);
	}
	for (size_t j = 0; j < n; j++) {
		pick[j] = rand_uniform((uint32_t)npool);
		k[j] = pool[pick[j]];
		orig[j] = xmalloc(16 + data_len);
		rand_bytes(orig[j], 16 + data_len);
		got[j] = xmemdup(orig[j], 16 + data_len);
		want[j] = xmemdup(orig[j], 16 + data_len);
		ref_step(t, true, lk[pick[j]], ik[pick[j]], want[j], data_len);
	}
	T_OK(t, aes_layer_encrypt_n(k, got, n, data_len));
	for (size_t j = 0; j < n; j++) {
		T_MEMEQ(t, got[j], want[j], 16 + data_len);
		T_OK(t, aes_layer_decrypt(k[j], got[j], data_len));
		T_MEMEQ(t, got[j], orig[j], 16 + data_len);
		/* decryption alone, against OpenSSL's */
		ref_step(t, false, lk[pick[j]], ik[pick[j]], want[j], data_len);
		T_MEMEQ(t, want[j], orig[j], 16 + data_len);
		memcpy(got[j], orig[j], 16 + data_len);
		memcpy(want[j], orig[j], 16 + data_len);
		T_OK(t, aes_layer_decrypt(k[j], got[j], data_len));
		ref_step(t, false, lk[pick[j]], ik[pick[j]], want[j], data_len);
		T_MEMEQ(t, got[j], want[j], 16 + data_len);
		free(orig[j]);
		free(got[j]);
		free(want[j]);
	}
	for (size_t i = 0; i < npool; i++)
		aes_layer_keys_free(pool[i]);
}

static void test_random(struct tctx *t)
{
	/* 2032: too long for the VAES pass's scratch lane */
	static const size_t lens[] = { DATA_BYTES, 0, 16, 48, 112, 128, 144,
				       496, 512, 528, 2032 };

	for (size_t p = 0; p < sizeof(paths) / sizeof(*paths); p++) {
		aes_layer_force_path(paths[p]);
		for (size_t n = 0; n <= MAX_MSGS; n++)
			random_n(t, n, DATA_BYTES);
		for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++)
			for (size_t n = 1; n <= 21; n += 4)
				random_n(t, n, lens[i]);
	}
	aes_layer_force_path(AES_LAYER_PATH_BEST);
}

/* Keys made on one path work on the other (the fallback schedules the
 * key the AES-NI schedule begins with). */
static void test_paths_agree(struct tctx *t)
{
	uint8_t lk[32], ik[32], a[MSG_BYTES], b[MSG_BYTES];
	uint8_t *pa = a, *pb = b;
	struct aes_layer_keys *k;

	rand_bytes(lk, 32);
	rand_bytes(ik, 32);
	rand_bytes(a, sizeof(a));
	memcpy(b, a, sizeof(a));
	k = aes_layer_keys_new(lk, ik);
	T_OK(t, aes_layer_encrypt_n(&k, &pa, 1, DATA_BYTES));
	aes_layer_force_path(AES_LAYER_PATH_OPENSSL);
	T_FALSE(t, aes_layer_is_hw());
	T_EQ(t, aes_layer_path(), AES_LAYER_PATH_OPENSSL);
	T_OK(t, aes_layer_encrypt_n(&k, &pb, 1, DATA_BYTES));
	T_MEMEQ(t, a, b, sizeof(a));
	T_OK(t, aes_layer_decrypt(k, b, DATA_BYTES));
	aes_layer_force_path(AES_LAYER_PATH_BEST);
	T_OK(t, aes_layer_decrypt(k, a, DATA_BYTES));
	T_MEMEQ(t, a, b, sizeof(a));
	T_ERR(t, aes_layer_encrypt_n(&k, &pa, 1, 1000), ERR_ARG);
	T_ERR(t, aes_layer_decrypt(k, a, 8), ERR_ARG);
	T_MEMEQ(t, a, b, sizeof(a));	/* untouched on error */
	aes_layer_keys_free(k);
	aes_layer_keys_free(NULL);
}

const struct test_case aes_layer_tests[] = {
	{ "fips197_c3", test_fips197, 0 },
	{ "random_vs_openssl", test_random, 0 },
	{ "paths_agree", test_paths_agree, 0 },
	{ NULL, NULL, 0 }
};
