/*
 * SHA-256, SHA-512, HMAC-SHA256 and HKDF-SHA256 (crypto/hash.h).  SHA-256
 * (and so HMAC and HKDF) runs on OpenSSL's low-level SHA256_* (its
 * SHA-NI/AVX2 code: about 1.4 GB/s here against libsodium's portable 0.18
 * GB/s; content verification and merkle trees hash every byte, the
 * ratchet runs several HKDFs per message); SHA-512 on libsodium.
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

/*
 * HMAC (RFC 2104) on OpenSSL's SHA-256: the inner and outer states after
 * the key's ipad/opad block are computed once per key and copied per
 * message, so an HMAC of one short block costs two compressions.
 * libsodium's HMAC runs its portable SHA-256 and redoes both pad blocks
 * per call; the ratchet's per-message HKDFs spent most of their time
 * there.
 */
struct hmac_key {
	SHA256_CTX inner, outer;
};

static void hmac_key_init(struct hmac_key *hk, const void *key, size_t keylen)
{
	uint8_t k[SHA256_CBLOCK], pad[SHA256_CBLOCK];

	memset(k, 0, sizeof(k));
	if (keylen > sizeof(k))
		sha256(k, key, keylen);
	else if (keylen)
		memcpy(k, key, keylen);
	for (size_t i = 0; i < sizeof(k); i++)
		pad[i] = k[i] ^ 0x36;
	SHA256_Init(&hk->inner);
	SHA256_Update(&hk->inner, pad, sizeof(pad));
	for (size_t i = 0; i < sizeof(k); i++)
		pad[i] = k[i] ^ 0x5c;
	SHA256_Init(&hk->outer);
	SHA256_Update(&hk->outer, pad, sizeof(pad));
	memwipe(k, sizeof(k));
	memwipe(pad, sizeof(pad));
}

/* The last block of a message of len (≤ 55) bytes after one key block:
 * the bytes, 0x80, zeros, the bit length of both blocks big-endian. */
static void last_block(uint8_t blk[SHA256_CBLOCK], size_t len)
{
	uint64_t bits = (uint64_t)(SHA256_CBLOCK + len) * 8;

	blk[len] = 0x80;
	memset(blk + len + 1, 0, SHA256_CBLOCK - 8 - len - 1);
	for (int i = 0; i < 8; i++)
		blk[SHA256_CBLOCK - 1 - i] = (uint8_t)(bits >> (8 * i));
}

/* One compression of blk into a copy of st; the digest to out. */
static void finish_block(uint8_t out[SHA256_BYTES], const SHA256_CTX *st,
			 const uint8_t blk[SHA256_CBLOCK])
{
	SHA256_CTX ctx;

	/* SHA256_Transform reads and writes only the chaining value */
	memcpy(ctx.h, st->h, sizeof(ctx.h));
	SHA256_Transform(&ctx, blk);
	for (int i = 0; i < 8; i++) {
		uint32_t w = __builtin_bswap32(ctx.h[i]);

		memcpy(out + 4 * i, &w, 4);
	}
	memwipe(ctx.h, sizeof(ctx.h));
}

/*
 * out = HMAC(key, a ‖ b ‖ c) with a precomputed key; parts may be empty.
 * A message of up to 55 bytes (every HKDF step here) is one compression
 * for the inner hash and one for the outer, by SHA256_Transform on a
 * padded block: SHA256_Update/Final's buffering and cleansing cost as
 * much again.
 */
static void hmac_3(uint8_t out[SHA256_BYTES], const struct hmac_key *hk,
		   const void *a, size_t alen, const void *b, size_t blen,
		   const void *c, size_t clen)
{
	uint8_t blk[SHA256_CBLOCK], ih[SHA256_BYTES];
	size_t len = alen + blen + clen;

	if (len <= SHA256_CBLOCK - 9) {
		if (alen)
			memcpy(blk, a, alen);
		if (blen)
			memcpy(blk + alen, b, blen);
		if (clen)
			memcpy(blk + alen + blen, c, clen);
		last_block(blk, len);
		finish_block(ih, &hk->inner, blk);
	} else {
		SHA256_CTX ctx = hk->inner;

		SHA256_Update(&ctx, a, alen);
		SHA256_Update(&ctx, b, blen);
		SHA256_Update(&ctx, c, clen);
		SHA256_Final(ih, &ctx);
		memwipe(&ctx, sizeof(ctx));
	}
	memcpy(blk, ih, sizeof(ih));
	last_block(blk, sizeof(ih));
	finish_block(out, &hk->outer, blk);
	memwipe(blk, sizeof(blk));
	memwipe(ih, sizeof(ih));
}

void hmac_sha256(uint8_t out[SHA256_BYTES], const void *key, size_t keylen,
		 const void *msg, size_t msglen)
{
	struct hmac_key hk;

	hmac_key_init(&hk, key, keylen);
	hmac_3(out, &hk, msg, msglen, NULL, 0, NULL, 0);
	memwipe(&hk, sizeof(hk));
}

void hkdf_sha256(uint8_t *out, size_t outlen, const void *salt,
		 size_t saltlen, const void *ikm, size_t ikmlen,
		 const void *info, size_t infolen)
{
	uint8_t prk[SHA256_BYTES], t[2 * SHA256_BYTES];
	const uint8_t one = 1, two = 2;
	struct hmac_key hk;

	if (BUG(outlen > sizeof(t)))
		outlen = sizeof(t);	/* never past the 64-byte contract */
	/* prk = HMAC(salt, ikm) */
	hmac_key_init(&hk, salt, saltlen);
	hmac_3(prk, &hk, ikm, ikmlen, NULL, 0, NULL, 0);
	/* T(1) = HMAC(prk, info ‖ 1); T(2) = HMAC(prk, T(1) ‖ info ‖ 2) */
	hmac_key_init(&hk, prk, sizeof(prk));
	hmac_3(t, &hk, info, infolen, &one, 1, NULL, 0);
	if (outlen > SHA256_BYTES)
		hmac_3(t + SHA256_BYTES, &hk, t, SHA256_BYTES, info, infolen,
		       &two, 1);
	memcpy(out, t, outlen);
	memwipe(prk, sizeof(prk));
	memwipe(t, sizeof(t));
	memwipe(&hk, sizeof(hk));
}
