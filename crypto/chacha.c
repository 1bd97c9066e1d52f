/*
 * ChaCha20-Poly1305 IETF (RFC 8439 §2.8) and raw ChaCha20 (§2.4) through
 * libsodium (crypto/chacha.h).  I2P's nonce is 4 zero bytes then the 64-bit
 * little-endian message counter (PROTOCOLS.md 0.2); raw ChaCha20 in I2P
 * starts at block counter 1, which the caller passes as ic.
 */
#include "config.h"
#include "crypto/chacha.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"

#include <sodium.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CHACHA_LANES_X86 1
#endif

_Static_assert(CHACHAPOLY_NONCE_BYTES ==
	       crypto_aead_chacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(CHACHAPOLY_TAG_BYTES ==
	       crypto_aead_chacha20poly1305_ietf_ABYTES, "tag size");

void chachapoly_nonce(uint8_t nonce[CHACHAPOLY_NONCE_BYTES], uint64_t n)
{
	memset(nonce, 0, 4);
	le64_put(nonce + 4, n);
}

void chachapoly_encrypt(uint8_t *out, const uint8_t key[32],
			const uint8_t nonce[12], const void *ad, size_t adlen,
			const void *in, size_t len)
{
	/* libsodium allows out == in (the MAC is computed over out). */
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, len, ad,
						  adlen, NULL, nonce, key);
}

void chachapoly_encrypt_n(uint8_t *out, const uint8_t key[32], uint64_t n,
			  const void *ad, size_t adlen, const void *in,
			  size_t len)
{
	uint8_t nonce[CHACHAPOLY_NONCE_BYTES];

	chachapoly_nonce(nonce, n);
	chachapoly_encrypt(out, key, nonce, ad, adlen, in, len);
}

int chachapoly_decrypt(uint8_t *out, const uint8_t key[32],
		       const uint8_t nonce[12], const void *ad, size_t adlen,
		       const uint8_t *in, size_t inlen)
{
	if (inlen < CHACHAPOLY_TAG_BYTES)
		return ERR_TRUNCATED;
	/* The tag is checked before anything is decrypted. */
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, in,
						      inlen, ad, adlen, nonce,
						      key) != 0) {
		memwipe(out, inlen - CHACHAPOLY_TAG_BYTES);
		return ERR_AUTH;
	}
	return 0;
}

int chachapoly_decrypt_n(uint8_t *out, const uint8_t key[32], uint64_t n,
			 const void *ad, size_t adlen, const uint8_t *in,
			 size_t inlen)
{
	uint8_t nonce[CHACHAPOLY_NONCE_BYTES];

	chachapoly_nonce(nonce, n);
	return chachapoly_decrypt(out, key, nonce, ad, adlen, in, inlen);
}

void chacha20_xor(uint8_t *out, const uint8_t *in, size_t len,
		  const uint8_t key[32], const uint8_t nonce[12], uint32_t ic)
{
	crypto_stream_chacha20_ietf_xor_ic(out, in, len, nonce, ic, key);
}

#if defined(__SSE2__)
#define ROTL32X4(v, n) \
	_mm_or_si128(_mm_slli_epi32((v), (n)), _mm_srli_epi32((v), 32 - (n)))
/* RFC 8439 2.1 on the four columns (or, rows turned, diagonals) at once */
#define QROUND4(a, b, c, d) do { \
	a = _mm_add_epi32(a, b); d = _mm_xor_si128(d, a); d = ROTL32X4(d, 16); \
	c = _mm_add_epi32(c, d); b = _mm_xor_si128(b, c); b = ROTL32X4(b, 12); \
	a = _mm_add_epi32(a, b); d = _mm_xor_si128(d, a); d = ROTL32X4(d, 8); \
	c = _mm_add_epi32(c, d); b = _mm_xor_si128(b, c); b = ROTL32X4(b, 7); \
} while (0)
/* rows b, c, d turned left by 1, 2, 3 words: diagonals become columns
 * (and back with the inverse turns) */
#define TURN(b, c, d, sb, sd) do { \
	b = _mm_shuffle_epi32(b, sb); c = _mm_shuffle_epi32(c, 0x4e); \
	d = _mm_shuffle_epi32(d, sd); \
} while (0)

/* The last row: block counter 1, then the nonce's three words. */
static __m128i row_d(const uint8_t n[12])
{
	uint32_t w[4] = { 1, 0, 0, 0 };

	memcpy(w + 1, n, 12);
	return _mm_loadu_si128((const __m128i *)w);
}

void chacha20_xor8x2(uint8_t d1[8], const uint8_t k1[32],
		     const uint8_t n1[12], uint8_t d2[8],
		     const uint8_t k2[32], const uint8_t n2[12])
{
	/* "expand 32-byte k"; x86 is little-endian, as the state's words */
	const __m128i sigma = _mm_setr_epi32(0x61707865, 0x3320646e,
					     0x79622d32, 0x6b206574);
	__m128i a0 = sigma, a1 = sigma;
	__m128i b0 = _mm_loadu_si128((const __m128i *)k1);
	__m128i c0 = _mm_loadu_si128((const __m128i *)(k1 + 16));
	__m128i b1 = _mm_loadu_si128((const __m128i *)k2);
	__m128i c1 = _mm_loadu_si128((const __m128i *)(k2 + 16));
	__m128i d0 = row_d(n1), d1v = row_d(n2);
	uint64_t m0, m1, x;

	for (int i = 0; i < 10; i++) {
		QROUND4(a0, b0, c0, d0);
		QROUND4(a1, b1, c1, d1v);
		TURN(b0, c0, d0, 0x39, 0x93);
		TURN(b1, c1, d1v, 0x39, 0x93);
		QROUND4(a0, b0, c0, d0);
		QROUND4(a1, b1, c1, d1v);
		TURN(b0, c0, d0, 0x93, 0x39);
		TURN(b1, c1, d1v, 0x93, 0x39);
	}
	/* only words 0 and 1 of each block are used: a + sigma */
	m0 = (uint64_t)_mm_cvtsi128_si64(_mm_add_epi32(a0, sigma));
	m1 = (uint64_t)_mm_cvtsi128_si64(_mm_add_epi32(a1, sigma));
	memcpy(&x, d1, 8);
	x ^= m0;
	memcpy(d1, &x, 8);
	memcpy(&x, d2, 8);
	x ^= m1;
	memcpy(d2, &x, 8);
}
#else
void chacha20_xor8x2(uint8_t d1[8], const uint8_t k1[32],
		     const uint8_t n1[12], uint8_t d2[8],
		     const uint8_t k2[32], const uint8_t n2[12])
{
	chacha20_xor(d1, d1, 8, k1, n1, 1);
	chacha20_xor(d2, d2, 8, k2, n2, 1);
}
#endif

/*
 * chacha20_xor8_many(): the blocks side by side, lane i of each vector
 * register holding word w of block i (RFC 8439 2.3's state, a column of
 * registers a block).  Neither libsodium nor OpenSSL computes blocks of
 * different keys at once; one block at a time is a chain of dependent
 * operations that leaves most of the core idle.  Checked against
 * chacha20_xor() in tests/unit/crypto (chacha20/xor8_many).
 */
#define QR_LANES(V, a, b, c, d) do { \
	a = V##ADD(a, b); d = V##XOR(d, a); d = V##ROT16(d); \
	c = V##ADD(c, d); b = V##XOR(b, c); b = V##ROT12(b); \
	a = V##ADD(a, b); d = V##XOR(d, a); d = V##ROT8(d); \
	c = V##ADD(c, d); b = V##XOR(b, c); b = V##ROT7(b); \
} while (0)
/* RFC 8439 2.3: 20 rounds, columns then diagonals */
#define ROUNDS_LANES(V, x) for (int r_ = 0; r_ < 10; r_++) { \
	QR_LANES(V, x[0], x[4], x[8], x[12]); \
	QR_LANES(V, x[1], x[5], x[9], x[13]); \
	QR_LANES(V, x[2], x[6], x[10], x[14]); \
	QR_LANES(V, x[3], x[7], x[11], x[15]); \
	QR_LANES(V, x[0], x[5], x[10], x[15]); \
	QR_LANES(V, x[1], x[6], x[11], x[12]); \
	QR_LANES(V, x[2], x[7], x[8], x[13]); \
	QR_LANES(V, x[3], x[4], x[9], x[14]); \
}

#if defined(CHACHA_LANES_X86)
#define LANES_MAX 16
static const uint32_t sigma_w[4] = { 0x61707865, 0x3320646e, 0x79622d32,
				     0x6b206574 };

static uint32_t ld32le(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);	/* x86: little-endian */
	return v;
}

/* Words 4 to 15 of lanes blocks, word-major (lanes past n repeat lane 0). */
static void lanes_fill(uint32_t w[16][LANES_MAX], size_t lanes, size_t n,
		       const uint8_t *const key[],
		       const uint8_t *const nonce[])
{
	for (size_t i = 0; i < lanes; i++) {
		size_t j = i < n ? i : 0;

		for (int k = 0; k < 8; k++)
			w[4 + k][i] = ld32le(key[j] + 4 * k);
		w[12][i] = 1;	/* the block counter */
		for (int k = 0; k < 3; k++)
			w[13 + k][i] = ld32le(nonce[j] + 4 * k);
	}
}

/* dst[i] ^= the first 8 bytes of block i (words 0 and 1 in w). */
static void lanes_xor(uint32_t w[16][LANES_MAX], size_t n,
		      uint8_t *const dst[])
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, dst[i], 8);	/* x86: little-endian */
		v ^= w[0][i] | (uint64_t)w[1][i] << 32;
		memcpy(dst[i], &v, 8);
	}
}

/* The blocks of lanes lanes in w and x, through the V-prefixed ADD,
 * XOR, ROT*, SET1, LOAD and STORE of a vector width. */
#define LANES_BODY(V, lanes) do { \
	lanes_fill(w, lanes, n, key, nonce); \
	for (int k = 0; k < 16; k++) \
		x[k] = k < 4 ? V##SET1((int)sigma_w[k]) : V##LOAD(w[k]); \
	ROUNDS_LANES(V, x); \
	for (int k = 0; k < 2; k++) \
		V##STORE(w[k], V##ADD(x[k], V##SET1((int)sigma_w[k]))); \
	lanes_xor(w, n, dst); \
	memwipe(w, sizeof(w));	/* the keys */ \
	memwipe(x, sizeof(x)); \
} while (0)

#define V16_ADD _mm512_add_epi32
#define V16_XOR _mm512_xor_si512
#define V16_SET1 _mm512_set1_epi32
#define V16_LOAD(p) _mm512_load_si512((const void *)(p))
#define V16_STORE(p, v) _mm512_store_si512((void *)(p), v)
#define V16_ROT16(v) _mm512_rol_epi32(v, 16)
#define V16_ROT12(v) _mm512_rol_epi32(v, 12)
#define V16_ROT8(v) _mm512_rol_epi32(v, 8)
#define V16_ROT7(v) _mm512_rol_epi32(v, 7)
__attribute__((target("avx512f")))
static void xor8_lanes16(size_t n, uint8_t *const dst[],
			 const uint8_t *const key[],
			 const uint8_t *const nonce[])
{
	_Alignas(64) uint32_t w[16][LANES_MAX];
	__m512i x[16];

	LANES_BODY(V16_, 16);
}

#define V8_ADD _mm256_add_epi32
#define V8_XOR _mm256_xor_si256
#define V8_SET1 _mm256_set1_epi32
#define V8_LOAD(p) _mm256_load_si256((const __m256i *)(p))
#define V8_STORE(p, v) _mm256_store_si256((__m256i *)(p), v)
/* byte-sized turns as byte shuffles, the others as two shifts */
#define V8_ROT16(v) _mm256_shuffle_epi8(v, r16)
#define V8_ROT8(v) _mm256_shuffle_epi8(v, r8)
#define V8_ROT12(v) _mm256_or_si256(_mm256_slli_epi32(v, 12), \
				 _mm256_srli_epi32(v, 20))
#define V8_ROT7(v) _mm256_or_si256(_mm256_slli_epi32(v, 7), \
				_mm256_srli_epi32(v, 25))
__attribute__((target("avx2")))
static void xor8_lanes8(size_t n, uint8_t *const dst[],
			const uint8_t *const key[],
			const uint8_t *const nonce[])
{
	const __m256i r16 = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11,
		8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9,
		14, 15, 12, 13);
	const __m256i r8 = _mm256_setr_epi8(3, 0, 1, 2, 7, 4, 5, 6, 11, 8,
		9, 10, 15, 12, 13, 14, 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10,
		15, 12, 13, 14);
	_Alignas(32) uint32_t w[16][LANES_MAX];
	__m256i x[16];

	LANES_BODY(V8_, 8);
}
#endif

void chacha20_xor8_many_lanes(size_t lanes_max, size_t n,
			      uint8_t *const dst[],
			      const uint8_t *const key[],
			      const uint8_t *const nonce[])
{
#if defined(CHACHA_LANES_X86)
	/* 16 lanes cost about what a pair does with chacha20_xor8x2()
	 * (190 against 180 ns): a lone pair goes that way */
	size_t lanes = n <= 2 ? 0 :
		       lanes_max >= 16 && __builtin_cpu_supports("avx512f") ?
		       16 : lanes_max >= 8 && __builtin_cpu_supports("avx2") ?
		       8 : 0;

	while (lanes && n) {
		size_t k = n < lanes ? n : lanes;

		if (lanes == 16)
			xor8_lanes16(k, dst, key, nonce);
		else
			xor8_lanes8(k, dst, key, nonce);
		dst += k;
		key += k;
		nonce += k;
		n -= k;
	}
#else
	(void)lanes_max;
#endif
	for (; n >= 2; n -= 2, dst += 2, key += 2, nonce += 2)
		chacha20_xor8x2(dst[0], key[0], nonce[0], dst[1], key[1],
				nonce[1]);
	if (n)
		chacha20_xor(dst[0], dst[0], 8, key[0], nonce[0], 1);
}

void chacha20_xor8_many(size_t n, uint8_t *const dst[],
			const uint8_t *const key[],
			const uint8_t *const nonce[])
{
	chacha20_xor8_many_lanes(16, n, dst, key, nonce);
}
