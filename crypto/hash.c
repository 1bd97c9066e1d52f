/*
 * SHA-256, SHA-512, HMAC-SHA256 and HKDF-SHA256 (crypto/hash.h).  SHA-256
 * of whole messages runs on OpenSSL's low-level SHA256_* (its SHA-NI/AVX2
 * code: about 1.4 GB/s here against libsodium's portable 0.18 GB/s;
 * content verification and merkle trees hash every byte); HMAC and HKDF
 * on single compressions by the SHA extensions, several at once (below);
 * SHA-512 on libsodium.
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
#include <stdatomic.h>
#include <stdbool.h>
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
 * ---- Single SHA-256 compressions, several at once ----
 *
 * HMAC and HKDF here hash short messages only: after the key's ipad/opad
 * blocks (one compression each, per key), an HMAC of up to 55 bytes is one
 * compression for the inner hash and one for the outer.  A compression by
 * the SHA extensions is a chain of dependent sha256rnds2 instructions, so
 * one alone leaves the unit mostly idle: independent compressions (the
 * two pad blocks of a key, the two chains of a ratchet tag set) run
 * interleaved in one function, each lane's rounds between another's.
 * Without the extensions (or not on x86-64) each block goes through
 * OpenSSL's SHA256_Transform in turn.
 */

/* FIPS 180-4 §5.3.3 */
static const uint32_t sha256_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* Compressions handed over at once: two per job of hkdf_sha256_many(). */
#define LANES_MAX (2 * HKDF_MAX_JOBS)

/* One compression: block blk into state in; the result to out, as state
 * words or, when digest, as the big-endian 32-byte digest.  in and out
 * may be the same. */
struct lane {
	const uint32_t *in;
	void *out;
	const uint8_t *blk;
};

static void digest_bytes(uint8_t out[SHA256_BYTES], const uint32_t h[8])
{
	for (int i = 0; i < 8; i++) {
		uint32_t w = __builtin_bswap32(h[i]);

		memcpy(out + 4 * i, &w, 4);
	}
}

static void compress_openssl(const struct lane *l, size_t n, bool digest)
{
	SHA256_CTX c;

	for (size_t i = 0; i < n; i++) {
		/* SHA256_Transform reads and writes only the chaining value */
		memcpy(c.h, l[i].in, sizeof(c.h));
		SHA256_Transform(&c, l[i].blk);
		if (digest)
			digest_bytes(l[i].out, c.h);
		else
			memcpy(l[i].out, c.h, sizeof(c.h));
	}
	memwipe(c.h, sizeof(c.h));
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HASH_HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>

#define SHANI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* FIPS 180-4 §4.2.2 */
static const uint32_t sha256_k[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b,
	0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
	0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152,
	0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
	0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/*
 * n (1 or 2, a constant after inlining) compressions, lane by lane within
 * each group of four rounds.  sha256rnds2 keeps the state as ABEF and
 * CDGH words; the message schedule is four vectors of four words,
 * W[16..63] made by sha256msg1/sha256msg2 (Intel's "SHA extensions"
 * paper, 2013).
 */
SHANI_TARGET __attribute__((always_inline)) static inline void
shani_n(const struct lane *l, const int n, const bool digest)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
					     0x0405060700010203ULL);
	__m128i abef[2], cdgh[2], abef0[2], cdgh0[2], w[2][4];

#pragma GCC unroll 2
	for (int j = 0; j < n; j++) {
		__m128i dcba = _mm_loadu_si128((const __m128i *)l[j].in);
		__m128i hgfe = _mm_loadu_si128((const __m128i *)(l[j].in + 4));

		dcba = _mm_shuffle_epi32(dcba, 0xB1);	/* CDAB */
		hgfe = _mm_shuffle_epi32(hgfe, 0x1B);	/* EFGH */
		abef[j] = abef0[j] = _mm_alignr_epi8(dcba, hgfe, 8);
		cdgh[j] = cdgh0[j] = _mm_blend_epi16(hgfe, dcba, 0xF0);
	}
#pragma GCC unroll 16
	for (int i = 0; i < 16; i++) {
		const __m128i k =
			_mm_load_si128((const __m128i *)(sha256_k + 4 * i));

#pragma GCC unroll 2
		for (int j = 0; j < n; j++) {
			__m128i *wj = w[j], m;

			if (i < 4) {
				m = _mm_loadu_si128(
					(const __m128i *)(l[j].blk + 16 * i));
				wj[i] = _mm_shuffle_epi8(m, bswap);
			} else {
				m = _mm_sha256msg1_epu32(wj[i & 3],
							 wj[(i + 1) & 3]);
				m = _mm_add_epi32(m, _mm_alignr_epi8(
						     wj[(i + 3) & 3],
						     wj[(i + 2) & 3], 4));
				wj[i & 3] = _mm_sha256msg2_epu32(
					m, wj[(i + 3) & 3]);
			}
			m = _mm_add_epi32(wj[i & 3], k);
			cdgh[j] = _mm_sha256rnds2_epu32(cdgh[j], abef[j], m);
			m = _mm_shuffle_epi32(m, 0x0E);
			abef[j] = _mm_sha256rnds2_epu32(abef[j], cdgh[j], m);
		}
	}
#pragma GCC unroll 2
	for (int j = 0; j < n; j++) {
		__m128i x = _mm_add_epi32(abef[j], abef0[j]);
		__m128i y = _mm_add_epi32(cdgh[j], cdgh0[j]);
		__m128i feba = _mm_shuffle_epi32(x, 0x1B);

		__m128i *out = l[j].out;

		y = _mm_shuffle_epi32(y, 0xB1);		/* DCHG */
		x = _mm_blend_epi16(feba, y, 0xF0);	/* DCBA */
		y = _mm_alignr_epi8(y, feba, 8);	/* HGFE */
		if (digest) {
			x = _mm_shuffle_epi8(x, bswap);
			y = _mm_shuffle_epi8(y, bswap);
		}
		_mm_storeu_si128(out, x);
		_mm_storeu_si128(out + 1, y);
	}
}

SHANI_TARGET static void shani_1(const struct lane *l, bool digest)
{
	if (digest)
		shani_n(l, 1, true);
	else
		shani_n(l, 1, false);
}

SHANI_TARGET static void shani_2(const struct lane *l, bool digest)
{
	if (digest)
		shani_n(l, 2, true);
	else
		shani_n(l, 2, false);
}

static void compress_shani(const struct lane *l, size_t n, bool digest)
{
	/* two lanes keep the unit busy here (sha256rnds2: latency 4 cycles,
	 * one every 2 on Zen 3); three or four ran no faster per block */
	for (; n >= 2; n -= 2, l += 2)
		shani_2(l, digest);
	if (n == 1)
		shani_1(l, digest);
}

static bool cpu_has_shani(void)
{
	unsigned a, b, c, d;

	if (__get_cpuid_max(0, NULL) < 7)
		return false;
	__cpuid(1, a, b, c, d);
	if (!(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return false;
	__cpuid_count(7, 0, a, b, c, d);
	return (b & bit_SHA) != 0;
}
#endif /* x86-64 */

/* 0: not looked at yet; 1: the SHA extensions; 2: OpenSSL's code */
static atomic_int compress_mode;

static bool use_shani(void)
{
	int m = atomic_load_explicit(&compress_mode, memory_order_relaxed);

	if (m == 0) {
#ifdef HASH_HAVE_SHANI
		m = cpu_has_shani() ? 1 : 2;
#else
		m = 2;
#endif
		atomic_store_explicit(&compress_mode, m, memory_order_relaxed);
	}
	return m == 1;
}

bool sha256_shani_set(bool on)
{
#ifdef HASH_HAVE_SHANI
	atomic_store_explicit(&compress_mode, on && cpu_has_shani() ? 1 : 2,
			      memory_order_relaxed);
#else
	(void)on;
	atomic_store_explicit(&compress_mode, 2, memory_order_relaxed);
#endif
	return use_shani();
}

/* The n lanes, independent of one another. */
static void compress(const struct lane *l, size_t n, bool digest)
{
#ifdef HASH_HAVE_SHANI
	if (use_shani()) {
		compress_shani(l, n, digest);
		return;
	}
#endif
	compress_openssl(l, n, digest);
}

/*
 * ---- HMAC (RFC 2104) ----
 *
 * A key's inner and outer states (after its ipad and opad blocks) are
 * computed once per key; an HMAC of one short block then costs two
 * compressions.
 */
struct hmac_key {
	uint32_t inner[8], outer[8];
};

/* The states of n keys (n ≤ HKDF_MAX_JOBS), their pad blocks compressed
 * together. */
static void hmac_keys_init(struct hmac_key hk[], const void *const key[],
			   const size_t keylen[], size_t n)
{
	uint8_t blk[LANES_MAX][SHA256_CBLOCK], k[SHA256_CBLOCK];
	struct lane l[LANES_MAX];

	if (BUG(n > HKDF_MAX_JOBS))
		n = HKDF_MAX_JOBS;
	for (size_t i = 0; i < n; i++) {
		memset(k, 0, sizeof(k));
		if (keylen[i] > sizeof(k))
			sha256(k, key[i], keylen[i]);
		else if (keylen[i])
			memcpy(k, key[i], keylen[i]);
		for (size_t j = 0; j < sizeof(k); j++) {
			blk[2 * i][j] = k[j] ^ 0x36;
			blk[2 * i + 1][j] = k[j] ^ 0x5c;
		}
		l[2 * i] = (struct lane){ sha256_iv, hk[i].inner, blk[2 * i] };
		l[2 * i + 1] = (struct lane){ sha256_iv, hk[i].outer,
					      blk[2 * i + 1] };
	}
	compress(l, 2 * n, false);
	memwipe(k, sizeof(k));
	memwipe(blk, sizeof(blk[0]) * 2 * n);
}

/* Pad a message of len (≤ 55) bytes at the start of blk as the last block
 * after one key block: 0x80, zeros, the bit length of both blocks. */
static void pad_block(uint8_t blk[SHA256_CBLOCK], size_t len)
{
	uint64_t bits = __builtin_bswap64((uint64_t)(SHA256_CBLOCK + len) * 8);

	blk[len] = 0x80;
	memset(blk + len + 1, 0, SHA256_CBLOCK - 8 - len - 1);
	memcpy(blk + SHA256_CBLOCK - 8, &bits, 8);
}

/* The message a ‖ b ‖ c (any part may be empty). */
struct msg3 {
	const void *p[3];
	size_t len[3];
};

static size_t msg3_len(const struct msg3 *m)
{
	return m->len[0] + m->len[1] + m->len[2];
}

/* HMAC(key, m) for a message of any length: one block by finish_blocks()
 * when it fits, else SHA256_Update/Final from the key's states. */
static void hmac_msg3(uint8_t out[SHA256_BYTES], const struct hmac_key *hk,
		      const struct msg3 *m)
{
	uint8_t blk[SHA256_CBLOCK], ih[SHA256_BYTES];
	size_t len = msg3_len(m), at = 0;

	if (len <= SHA256_CBLOCK - 9) {
		for (int i = 0; i < 3; i++) {
			if (m->len[i])
				memcpy(blk + at, m->p[i], m->len[i]);
			at += m->len[i];
		}
		pad_block(blk, len);
		compress(&(struct lane){ hk->inner, ih, blk }, 1, true);
	} else {
		SHA256_CTX ctx;

		SHA256_Init(&ctx);
		memcpy(ctx.h, hk->inner, sizeof(ctx.h));
		ctx.Nl = SHA256_CBLOCK * 8;
		for (int i = 0; i < 3; i++)
			SHA256_Update(&ctx, m->p[i], m->len[i]);
		SHA256_Final(ih, &ctx);
		memwipe(&ctx, sizeof(ctx));
	}
	memcpy(blk, ih, SHA256_BYTES);
	pad_block(blk, SHA256_BYTES);
	compress(&(struct lane){ hk->outer, out, blk }, 1, true);
	memwipe(blk, sizeof(blk));
	memwipe(ih, sizeof(ih));
}

void hmac_sha256(uint8_t out[SHA256_BYTES], const void *key, size_t keylen,
		 const void *msg, size_t msglen)
{
	const struct msg3 m = { { msg, NULL, NULL }, { msglen, 0, 0 } };
	struct hmac_key hk;

	hmac_keys_init(&hk, &key, &keylen, 1);
	hmac_msg3(out, &hk, &m);
	memwipe(&hk, sizeof(hk));
}

/* ---- HKDF (RFC 5869 with L ≤ 64) ---- */

/* One job of any input lengths, HMAC by HMAC. */
static void hkdf_one(const struct hkdf_job *j)
{
	const uint8_t one = 1, two = 2;
	uint8_t prk[SHA256_BYTES], t[2 * SHA256_BYTES];
	const void *pk = prk;
	const size_t pklen = sizeof(prk);
	struct hmac_key hk;
	struct msg3 m = { { j->ikm, NULL, NULL }, { j->ikmlen, 0, 0 } };
	size_t len = j->outlen;

	hmac_keys_init(&hk, &j->salt, &j->saltlen, 1);
	hmac_msg3(prk, &hk, &m);
	hmac_keys_init(&hk, &pk, &pklen, 1);
	m = (struct msg3){ { j->info, &one, NULL }, { j->infolen, 1, 0 } };
	hmac_msg3(t, &hk, &m);
	if (len > SHA256_BYTES) {
		m = (struct msg3){ { t, j->info, &two },
				   { SHA256_BYTES, j->infolen, 1 } };
		hmac_msg3(t + SHA256_BYTES, &hk, &m);
	}
	if (BUG(len > sizeof(t)))
		len = sizeof(t);	/* the 64-byte contract */
	memcpy(j->out, t, len);
	memwipe(prk, sizeof(prk));
	memwipe(t, sizeof(t));
	memwipe(&hk, sizeof(hk));
}

/* A job whose every HMAC message fits one block: salt ≤ 64 bytes (no
 * hashing of the key), ikm ≤ 55, T(1) ‖ info ‖ 0x02 ≤ 55. */
static bool hkdf_is_short(const struct hkdf_job *j)
{
	return j->saltlen <= SHA256_CBLOCK && j->ikmlen <= SHA256_CBLOCK - 9 &&
	       SHA256_BYTES + j->infolen + 1 <= SHA256_CBLOCK - 9 &&
	       j->outlen <= 2 * SHA256_BYTES;
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
 * Short jobs run in lockstep: each step (key blocks, extract inner and
 * outer, key blocks of the PRK, T(1) and T(2) inner and outer) compresses
 * one or two blocks of every job at once.  One HKDF alone is a chain of
 * eight such steps.
 */
void hkdf_sha256_many(const struct hkdf_job *jobs, size_t n)
{
	struct {
		struct hmac_key hk[HKDF_MAX_JOBS];
		uint8_t ih[HKDF_MAX_JOBS][SHA256_BYTES];
		uint8_t prk[HKDF_MAX_JOBS][SHA256_BYTES];
		uint8_t t[HKDF_MAX_JOBS][2 * SHA256_BYTES];
		uint8_t blk[HKDF_MAX_JOBS][SHA256_CBLOCK];
	} st;
	const struct hkdf_job *j[HKDF_MAX_JOBS];
	const void *key[HKDF_MAX_JOBS];
	size_t keylen[HKDF_MAX_JOBS], m = 0, m2 = 0, i;
	struct lane l[HKDF_MAX_JOBS];

	if (BUG(n > HKDF_MAX_JOBS))
		n = HKDF_MAX_JOBS;
	for (i = 0; i < n; i++) {
		if (hkdf_is_short(&jobs[i]))
			j[m++] = &jobs[i];
		else
			hkdf_one(&jobs[i]);
	}
	if (m == 0)
		return;
	/* prk = HMAC(salt, ikm) */
	for (i = 0; i < m; i++) {
		key[i] = j[i]->salt;
		keylen[i] = j[i]->saltlen;
	}
	hmac_keys_init(st.hk, key, keylen, m);
	for (i = 0; i < m; i++) {
		if (j[i]->ikmlen)
			memcpy(st.blk[i], j[i]->ikm, j[i]->ikmlen);
		pad_block(st.blk[i], j[i]->ikmlen);
		l[i] = (struct lane){ st.hk[i].inner, st.ih[i], st.blk[i] };
	}
	compress(l, m, true);
	for (i = 0; i < m; i++) {
		memcpy(st.blk[i], st.ih[i], SHA256_BYTES);
		pad_block(st.blk[i], SHA256_BYTES);
		l[i] = (struct lane){ st.hk[i].outer, st.prk[i], st.blk[i] };
	}
	compress(l, m, true);
	/* T(1) = HMAC(prk, info ‖ 1) */
	for (i = 0; i < m; i++) {
		key[i] = st.prk[i];
		keylen[i] = SHA256_BYTES;
	}
	hmac_keys_init(st.hk, key, keylen, m);
	for (i = 0; i < m; i++) {
		size_t il = j[i]->infolen;

		if (il)
			memcpy(st.blk[i], j[i]->info, il);
		st.blk[i][il] = 1;
		pad_block(st.blk[i], il + 1);
		l[i] = (struct lane){ st.hk[i].inner, st.ih[i], st.blk[i] };
	}
	compress(l, m, true);
	for (i = 0; i < m; i++) {
		memcpy(st.blk[i], st.ih[i], SHA256_BYTES);
		pad_block(st.blk[i], SHA256_BYTES);
		l[i] = (struct lane){ st.hk[i].outer, st.t[i], st.blk[i] };
	}
	compress(l, m, true);
	/* T(2) = HMAC(prk, T(1) ‖ info ‖ 2), for the jobs that want it */
	for (i = 0; i < m; i++) {
		size_t il = j[i]->infolen;

		if (j[i]->outlen <= SHA256_BYTES)
			continue;
		memcpy(st.blk[i], st.t[i], SHA256_BYTES);
		if (il)
			memcpy(st.blk[i] + SHA256_BYTES, j[i]->info, il);
		st.blk[i][SHA256_BYTES + il] = 2;
		pad_block(st.blk[i], SHA256_BYTES + il + 1);
		l[m2++] = (struct lane){ st.hk[i].inner, st.ih[i], st.blk[i] };
	}
	compress(l, m2, true);
	m2 = 0;
	for (i = 0; i < m; i++) {
		if (j[i]->outlen <= SHA256_BYTES)
			continue;
		memcpy(st.blk[i], st.ih[i], SHA256_BYTES);
		pad_block(st.blk[i], SHA256_BYTES);
		l[m2++] = (struct lane){ st.hk[i].outer,
					 st.t[i] + SHA256_BYTES, st.blk[i] };
	}
	compress(l, m2, true);
	for (i = 0; i < m; i++)
		memcpy(j[i]->out, st.t[i], j[i]->outlen);
	/* the parts used: every array holds m rows at its start */
	memwipe(st.hk, sizeof(st.hk[0]) * m);
	memwipe(st.ih, sizeof(st.ih[0]) * m);
	memwipe(st.prk, sizeof(st.prk[0]) * m);
	memwipe(st.t, sizeof(st.t[0]) * m);
	memwipe(st.blk, sizeof(st.blk[0]) * m);
}
