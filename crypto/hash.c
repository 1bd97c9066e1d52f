/*
 * SHA-256, SHA-512, HMAC-SHA256 and HKDF-SHA256 (crypto/hash.h).  SHA-256
 * runs on OpenSSL's low-level SHA256_* (its SHA-NI/AVX2 code: about 1.4
 * GB/s here against libsodium's portable 0.18 GB/s; content verification
 * and merkle trees hash every byte); the rest over libsodium.
 *
 * HKDF is written as PROTOCOLS.md 0.2 states it, since libsodium 1.0.18 has
 * none: prk = HMAC(salt, ikm); T(1) = HMAC(prk, info ‖ 0x01);
 * T(2) = HMAC(prk, T(1) ‖ info ‖ 0x02) (RFC 5869 §2.2, §2.3 with L ≤ 64).
 */
#include "config.h"
#include "crypto/hash.h"
#include "crypto/base/alloc.h"
#include "crypto/base/log.h"

/* SHA256_Init & co. are deprecated in OpenSSL 3 in favour of EVP, whose
 * per-call allocation costs more than a 64-byte hash. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <sodium.h>
#include <stdalign.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct sha256_ctx *)0)->opaque),
	       "struct sha256_ctx too small for SHA256_CTX");
_Static_assert(alignof(SHA256_CTX) <= alignof(struct sha256_ctx),
	       "struct sha256_ctx under-aligned for SHA256_CTX");

void sha256(uint8_t out[SHA256_BYTES], const void *in, size_t len)
{
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, in, len);
	SHA256_Final(out, &c);
	memwipe(&c, sizeof(c));
}

void sha256_2(uint8_t out[SHA256_BYTES], const void *a, size_t alen,
	      const void *b, size_t blen)
{
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, a, alen);
	SHA256_Update(&c, b, blen);
	SHA256_Final(out, &c);
	memwipe(&c, sizeof(c));
}

void sha512(uint8_t out[SHA512_BYTES], const void *in, size_t len)
{
	crypto_hash_sha512(out, in, len);
}

static SHA256_CTX *sha256_state(struct sha256_ctx *c)
{
	return (SHA256_CTX *)(void *)c->opaque;
}

void sha256_init(struct sha256_ctx *c)
{
	SHA256_Init(sha256_state(c));
}

void sha256_update(struct sha256_ctx *c, const void *in, size_t len)
{
	SHA256_Update(sha256_state(c), in, len);
}

void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_BYTES])
{
	SHA256_Final(out, sha256_state(c));
	memwipe(c, sizeof(*c));
}

void hmac_sha256(uint8_t out[SHA256_BYTES], const void *key, size_t keylen,
		 const void *msg, size_t msglen)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, msg, msglen);
	crypto_auth_hmacsha256_final(&st, out);
	memwipe(&st, sizeof(st));
}

/* out = HMAC(prk, prev ‖ info ‖ ctr); prev may be NULL. */
static void hkdf_block(uint8_t out[SHA256_BYTES], const uint8_t *prk,
		       const uint8_t *prev, const void *info, size_t infolen,
		       uint8_t ctr)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, prk, SHA256_BYTES);
	if (prev)
		crypto_auth_hmacsha256_update(&st, prev, SHA256_BYTES);
	crypto_auth_hmacsha256_update(&st, info, infolen);
	crypto_auth_hmacsha256_update(&st, &ctr, 1);
	crypto_auth_hmacsha256_final(&st, out);
	memwipe(&st, sizeof(st));
}

void hkdf_sha256(uint8_t *out, size_t outlen, const void *salt,
		 size_t saltlen, const void *ikm, size_t ikmlen,
		 const void *info, size_t infolen)
{
	uint8_t prk[SHA256_BYTES], t[2 * SHA256_BYTES];

	if (BUG(outlen > sizeof(t)))
		outlen = sizeof(t);	/* never past the 64-byte contract */
	hmac_sha256(prk, salt, saltlen, ikm, ikmlen);
	hkdf_block(t, prk, NULL, info, infolen, 1);
	if (outlen > SHA256_BYTES)
		hkdf_block(t + SHA256_BYTES, prk, t, info, infolen, 2);
	memcpy(out, t, outlen);
	memwipe(prk, sizeof(prk));
	memwipe(t, sizeof(t));
}
