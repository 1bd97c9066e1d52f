/*
 * crypto/hash: HMAC-SHA256 against RFC 4231 §4.2-4.8, HKDF-SHA256 against
 * RFC 5869 Appendix A.1-A.3, SHA-512 against RFC 8032 §7.1 "TEST SHA(abc)"
 * (its message is SHA-512("abc")), SHA-256 against FIPS 180-2 Appendix B.1
 * and against OpenSSL as an independent implementation.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/crypto/cvec.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"
#include "crypto/rand.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

static void test_hmac_rfc4231(struct tctx *t)
{
	json_t *root = tvec_load(t, "rfc4231-hmac-sha256.json"), *v;
	size_t i, klen, dlen, mlen;
	uint8_t mac[SHA256_BYTES];

	if (!root)
		return;
	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		uint8_t *key = tvec_field(t, v, "key", &klen);
		uint8_t *data = tvec_field(t, v, "data", &dlen);
		uint8_t *want;
		bool trunc = json_object_get(v, "hmac_sha256") == NULL;

		want = tvec_field(t, v, trunc ? "hmac_sha256_truncated_128"
					      : "hmac_sha256", &mlen);
		T_EQ(t, mlen, trunc ? 16 : 32);
		hmac_sha256(mac, key, klen, data, dlen);
		T_MEMEQ(t, mac, want, mlen);
		free(key);
		free(data);
		free(want);
	}
	T_EQ(t, i, 7);
	json_decref(root);
}

static void test_hkdf_rfc5869(struct tctx *t)
{
	json_t *root = tvec_load(t, "rfc5869-hkdf-sha256.json"), *v;
	size_t i, ikml, saltl, infol, okml, prkl;
	uint8_t out[64], prk[SHA256_BYTES];

	if (!root)
		return;
	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		uint8_t *ikm = tvec_field(t, v, "ikm", &ikml);
		uint8_t *salt = tvec_field(t, v, "salt", &saltl);
		uint8_t *info = tvec_field(t, v, "info", &infol);
		uint8_t *okm = tvec_field(t, v, "okm", &okml);
		uint8_t *wprk = tvec_field(t, v, "prk", &prkl);
		/* Our HKDF gives at most 64 bytes and RFC 5869's OKM is
		 * prefix-stable, so compare the whole blocks the RFC's L
		 * covers: 32 bytes (L = 42) or 64 (L = 82). */
		size_t n = okml >= 64 ? 64 : 32;

		T_EQ(t, json_integer_value(json_object_get(v, "length")), okml);
		/* Extract alone is HMAC(salt, ikm) (RFC 5869 §2.2). */
		hmac_sha256(prk, salt, saltl, ikm, ikml);
		T_MEMEQ(t, prk, wprk, SHA256_BYTES);
		hkdf_sha256(out, n, salt, saltl, ikm, ikml, info, infol);
		T_MEMEQ(t, out, okm, n);
		/* Shorter outputs are prefixes (I2P also asks for 44). */
		memset(out, 0, sizeof(out));
		hkdf_sha256(out, 44 < okml ? 44 : 32, salt, saltl, ikm, ikml,
			    info, infol);
		T_MEMEQ(t, out, okm, 44 < okml ? 44 : 32);
		free(ikm);
		free(salt);
		free(info);
		free(okm);
		free(wprk);
	}
	T_EQ(t, i, 3);
	json_decref(root);
}

static void test_sha512_rfc8032(struct tctx *t)
{
	json_t *root = tvec_load(t, "rfc8032-ed25519.json"), *v;
	uint8_t out[SHA512_BYTES], want[SHA512_BYTES];

	if (!root)
		return;
	if ((v = cvec_find(t, root, "TEST SHA(abc)")) &&
	    cvec_fixed(t, v, "message", want, SHA512_BYTES)) {
		sha512(out, "abc", 3);
		T_MEMEQ(t, out, want, SHA512_BYTES);
	}
	json_decref(root);
}

static void test_sha256_fips180(struct tctx *t)
{
	/* FIPS 180-2 Appendix B.1: SHA-256("abc"). */
	static const uint8_t want[SHA256_BYTES] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
		0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	uint8_t out[SHA256_BYTES];
	struct sha256_ctx c;

	sha256(out, "abc", 3);
	T_MEMEQ(t, out, want, SHA256_BYTES);
	sha256_2(out, "a", 1, "bc", 2);
	T_MEMEQ(t, out, want, SHA256_BYTES);
	sha256_init(&c);
	sha256_update(&c, "ab", 2);
	sha256_update(&c, "", 0);
	sha256_update(&c, "c", 1);
	sha256_final(&c, out);
	T_MEMEQ(t, out, want, SHA256_BYTES);
}

static void test_sha256_vs_openssl(struct tctx *t)
{
	static const size_t splits[] = { 0, 1, 55, 56, 63, 64, 65, 127, 500 };
	uint8_t buf[1000], ours[SHA256_BYTES], theirs[SHA256_BYTES];
	struct sha256_ctx c;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t len = 0; len <= sizeof(buf); len += 37) {
		SHA256(buf, len, theirs);
		sha256(ours, buf, len);
		T_MEMEQ(t, ours, theirs, SHA256_BYTES);
		for (size_t s = 0; s < ARRAY_LEN(splits); s++) {
			size_t a = splits[s] < len ? splits[s] : len;

			sha256_init(&c);
			sha256_update(&c, buf, a);
			sha256_update(&c, buf + a, len - a);
			sha256_final(&c, ours);
			T_MEMEQ(t, ours, theirs, SHA256_BYTES);
		}
	}
}

static void test_sha512_vs_openssl(struct tctx *t)
{
	uint8_t buf[300], ours[SHA512_BYTES], theirs[SHA512_BYTES];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 29 + 3);
	for (size_t len = 0; len <= sizeof(buf); len += 13) {
		SHA512(buf, len, theirs);
		sha512(ours, buf, len);
		T_MEMEQ(t, ours, theirs, SHA512_BYTES);
	}
}

/* HMAC against OpenSSL's HMAC() for every key length 0..150 and message
 * lengths around the one-block fast path's 55-byte limit, on the SHA
 * extensions (where the CPU has them) and on OpenSSL's compression. */
static void test_hmac_vs_openssl(struct tctx *t)
{
	static const size_t mlen[] = { 0, 1, 31, 54, 55, 56, 63, 64, 65, 200 };
	uint8_t key[150], msg[200], a[32], b[32];
	unsigned int blen;

	rand_bytes(key, sizeof(key));
	rand_bytes(msg, sizeof(msg));
	for (int mode = 0; mode < 2; mode++) {
		(void)sha256_shani_set(mode == 0);
		for (size_t k = 0; k <= sizeof(key); k += 3) {
			for (size_t i = 0; i < sizeof(mlen) / sizeof(mlen[0]);
			     i++) {
				hmac_sha256(a, key, k, msg, mlen[i]);
				blen = 0;
				HMAC(EVP_sha256(), key, (int)k, msg, mlen[i],
				     b, &blen);
				T_EQ(t, blen, 32);
				T_MEMEQ(t, a, b, 32);
			}
		}
	}
	(void)sha256_shani_set(true);
}

/* RFC 5869 HKDF with L ≤ 64, from OpenSSL's HMAC() alone. */
static void ref_hkdf(uint8_t *out, size_t outlen, const uint8_t *salt,
		     size_t sl, const uint8_t *ikm, size_t il,
		     const uint8_t *info, size_t nl)
{
	uint8_t prk[32], msg[32 + 100 + 1], t[64];
	unsigned int len = 0;

	HMAC(EVP_sha256(), salt, (int)sl, ikm, il, prk, &len);
	memcpy(msg, info, nl);
	msg[nl] = 1;
	HMAC(EVP_sha256(), prk, 32, msg, nl + 1, t, &len);
	memcpy(msg, t, 32);
	memcpy(msg + 32, info, nl);
	msg[32 + nl] = 2;
	HMAC(EVP_sha256(), prk, 32, msg, 32 + nl + 1, t + 32, &len);
	memcpy(out, t, outlen);
}

/* hkdf_sha256_many() and hkdf_sha256() against the reference, with short
 * and long inputs (both sides of the one-block limits: ikm 55, info 22,
 * a salt over 64 bytes), every output length and 1-4 jobs, on the SHA
 * extensions and on OpenSSL's compression. */
static void test_hkdf_many(struct tctx *t)
{
	uint8_t salt[4][80], ikm[4][80], info[4][60];
	uint8_t want[4][64], got[4][64], one[64];

	for (int round = 0; round < 400; round++) {
		struct hkdf_job j[4];
		size_t n = 1 + (size_t)round % 4;

		(void)sha256_shani_set(round % 2 == 0);
		rand_bytes(salt, sizeof(salt));
		rand_bytes(ikm, sizeof(ikm));
		rand_bytes(info, sizeof(info));
		memset(got, 0, sizeof(got));
		for (size_t i = 0; i < n; i++) {
			size_t outlen = 1 + rand_uniform(64);
			/* mostly around the limits, sometimes anywhere */
			size_t sl = round % 5 ? 32 + rand_uniform(3) * 16 :
						rand_uniform(81);
			size_t il = round % 3 ? 54 + rand_uniform(3) :
						rand_uniform(81);
			size_t nl = round % 7 ? 21 + rand_uniform(3) :
						rand_uniform(61);

			j[i] = (struct hkdf_job){ got[i], outlen, salt[i], sl,
						  ikm[i], il, info[i], nl };
			ref_hkdf(want[i], outlen, salt[i], sl, ikm[i], il,
				 info[i], nl);
			hkdf_sha256(one, outlen, salt[i], sl, ikm[i], il,
				    info[i], nl);
			T_MEMEQ(t, one, want[i], outlen);
		}
		hkdf_sha256_many(j, n);
		for (size_t i = 0; i < n; i++)
			T_MEMEQ(t, got[i], want[i], j[i].outlen);
	}
	(void)sha256_shani_set(true);
}

const struct test_case hash_tests[] = {
	{ "hmac/rfc4231", test_hmac_rfc4231, 0 },
	{ "hkdf/rfc5869", test_hkdf_rfc5869, 0 },
	{ "hmac/vs_openssl", test_hmac_vs_openssl, 0 },
	{ "hkdf/many", test_hkdf_many, 0 },
	{ "sha512/rfc8032_abc", test_sha512_rfc8032, 0 },
	{ "sha256/fips180_abc", test_sha256_fips180, 0 },
	{ "sha256/vs_openssl", test_sha256_vs_openssl, 0 },
	{ "sha512/vs_openssl", test_sha512_vs_openssl, 0 },
	{ NULL, NULL, 0 }
};
