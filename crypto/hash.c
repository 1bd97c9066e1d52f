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

/* One compression of a key block into a fresh state, set as if
 * SHA256_Update had taken those 64 bytes (the long path goes on with
 * SHA256_Update from it). */
static void key_block(SHA256_CTX *c, const uint8_t blk[SHA256_CBLOCK])
{
	SHA256_Init(c);
	SHA256_Transform(c, blk);
	c->Nl = SHA256_CBLOCK * 8;
}

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
	key_block(&hk->inner, pad);
	for (size_t i = 0; i < sizeof(k); i++)
		pad[i] = k[i] ^ 0x5c;
	key_block(&hk->outer, pad);
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
 * The inner hash of HMAC(key, a ‖ b ‖ c) with a precomputed key; parts
 * may be empty.  A message of up to 55 bytes (every HKDF step here) is
 * one compression, by SHA256_Transform on a padded block:
 * SHA256_Update/Final's buffering and cleansing cost as much again.
 */
static void hmac_inner(uint8_t ih[SHA256_BYTES], const struct hmac_key *hk,
		       const void *a, size_t alen, const void *b, size_t blen,
		       const void *c, size_t clen)
{
	uint8_t blk[SHA256_CBLOCK];
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
		memwipe(blk, sizeof(blk));
	} else {
		SHA256_CTX ctx = hk->inner;

		SHA256_Update(&ctx, a, alen);
		SHA256_Update(&ctx, b, blen);
		SHA256_Update(&ctx, c, clen);
		SHA256_Final(ih, &ctx);
		memwipe(&ctx, sizeof(ctx));
	}
}

/* The outer hash: out = H(opad block ‖ ih). */
static void hmac_outer(uint8_t out[SHA256_BYTES], const struct hmac_key *hk,
		       const uint8_t ih[SHA256_BYTES])
{
	uint8_t blk[SHA256_CBLOCK];

	memcpy(blk, ih, SHA256_BYTES);
	last_block(blk, SHA256_BYTES);
	finish_block(out, &hk->outer, blk);
	memwipe(blk, sizeof(blk));
}

static void hmac_3(uint8_t out[SHA256_BYTES], const struct hmac_key *hk,
		   const void *a, size_t alen, const void *b, size_t blen,
		   const void *c, size_t clen)
{
	uint8_t ih[SHA256_BYTES];

	hmac_inner(ih, hk, a, alen, b, blen, c, clen);
	hmac_outer(out, hk, ih);
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
	const struct hkdf_job j = { out, outlen, salt, saltlen, ikm, ikmlen,
				    info, infolen };

	hkdf_sha256_many(&j, 1);
}

/*
 * The steps of every job run one after another (all key blocks, all
 * extracts, ...), so consecutive SHA-256 compressions are independent and
 * the CPU overlaps them; one HKDF alone is a chain of ten dependent ones.
 */
void hkdf_sha256_many(const struct hkdf_job *jobs, size_t n)
{
	struct {
		struct hmac_key hk;
		uint8_t ih[SHA256_BYTES], prk[SHA256_BYTES];
		uint8_t t[2 * SHA256_BYTES];
	} st[HKDF_MAX_JOBS];
	const uint8_t one = 1, two = 2;
	size_t i;

	if (BUG(n > HKDF_MAX_JOBS))
		n = HKDF_MAX_JOBS;
	/* prk = HMAC(salt, ikm) */
	for (i = 0; i < n; i++)
		hmac_key_init(&st[i].hk, jobs[i].salt, jobs[i].saltlen);
	for (i = 0; i < n; i++)
		hmac_inner(st[i].ih, &st[i].hk, jobs[i].ikm, jobs[i].ikmlen,
			   NULL, 0, NULL, 0);
	for (i = 0; i < n; i++)
		hmac_outer(st[i].prk, &st[i].hk, st[i].ih);
	/* T(1) = HMAC(prk, info ‖ 1); T(2) = HMAC(prk, T(1) ‖ info ‖ 2) */
	for (i = 0; i < n; i++)
		hmac_key_init(&st[i].hk, st[i].prk, SHA256_BYTES);
	for (i = 0; i < n; i++)
		hmac_inner(st[i].ih, &st[i].hk, jobs[i].info, jobs[i].infolen,
			   &one, 1, NULL, 0);
	for (i = 0; i < n; i++)
		hmac_outer(st[i].t, &st[i].hk, st[i].ih);
	for (i = 0; i < n; i++)
		if (jobs[i].outlen > SHA256_BYTES)
			hmac_inner(st[i].ih, &st[i].hk, st[i].t, SHA256_BYTES,
				   jobs[i].info, jobs[i].infolen, &two, 1);
	for (i = 0; i < n; i++)
		if (jobs[i].outlen > SHA256_BYTES)
			hmac_outer(st[i].t + SHA256_BYTES, &st[i].hk,
				   st[i].ih);
	for (i = 0; i < n; i++) {
		size_t len = jobs[i].outlen;

		if (BUG(len > sizeof(st[i].t)))
			len = sizeof(st[i].t);	/* the 64-byte contract */
		memcpy(jobs[i].out, st[i].t, len);
	}
	memwipe(st, sizeof(st[0]) * n);
}
