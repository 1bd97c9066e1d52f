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
