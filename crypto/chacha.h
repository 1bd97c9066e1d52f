/*
 * ChaCha20-Poly1305 (RFC 8439, IETF) and raw ChaCha20 as I2P uses them
 * (PROTOCOLS.md 0.2): the 12-byte nonce is 4 zero bytes then a 64-bit
 * little-endian counter.
 */
#ifndef CRYPTO_CHACHA_H
#define CRYPTO_CHACHA_H

#include <stddef.h>
#include <stdint.h>

#define CHACHAPOLY_KEY_BYTES 32
#define CHACHAPOLY_NONCE_BYTES 12
#define CHACHAPOLY_TAG_BYTES 16

/* Build the I2P nonce for counter n. */
void chachapoly_nonce(uint8_t nonce[CHACHAPOLY_NONCE_BYTES], uint64_t n);

/*
 * out = ciphertext ‖ tag (len + 16 bytes).  out may equal in.
 * ad may be NULL when adlen is 0.
 */
void chachapoly_encrypt(uint8_t *out, const uint8_t key[32],
			const uint8_t nonce[12], const void *ad, size_t adlen,
			const void *in, size_t len);
/* Encrypt with the I2P nonce for counter n. */
void chachapoly_encrypt_n(uint8_t *out, const uint8_t key[32], uint64_t n,
			  const void *ad, size_t adlen, const void *in, size_t len);
/*
 * in = ciphertext ‖ tag (inlen ≥ 16); out gets inlen - 16 bytes.  out may
 * equal in.  ERR_AUTH if the tag does not verify (out is then zeroed).
 */
int chachapoly_decrypt(uint8_t *out, const uint8_t key[32],
		       const uint8_t nonce[12], const void *ad, size_t adlen,
		       const uint8_t *in, size_t inlen);
int chachapoly_decrypt_n(uint8_t *out, const uint8_t key[32], uint64_t n,
			 const void *ad, size_t adlen, const uint8_t *in,
			 size_t inlen);

/* Raw ChaCha20 XOR with a 12-byte nonce, starting at block counter ic
 * (I2P always uses ic = 1). out may equal in. */
void chacha20_xor(uint8_t *out, const uint8_t *in, size_t len,
		  const uint8_t key[32], const uint8_t nonce[12], uint32_t ic);

/* Two independent 8-byte XORs with ChaCha20 at block counter 1: d1 with
 * the stream of (k1, n1), d2 with that of (k2, n2); as two chacha20_xor()
 * calls, but with SSE2 both blocks are computed side by side (a block's
 * latency, not two).  SSU2's header protection takes both for each data
 * packet sent.  The ranges must not overlap. */
void chacha20_xor8x2(uint8_t d1[8], const uint8_t k1[32],
		     const uint8_t n1[12], uint8_t d2[8],
		     const uint8_t k2[32], const uint8_t n2[12]);

/* n independent 8-byte XORs with ChaCha20 at block counter 1: dst[i]
 * with the stream of (key[i], nonce[i]); as n chacha20_xor() calls.  With
 * AVX-512 (or AVX2) 16 (8) blocks are computed at once, one lane each,
 * about 12 (26) ns a block against 65 to 90 one at a time: SSU2 removes
 * the header protection of a received burst, and adds that of a burst to
 * send, in one call.  No dst[i] may overlap another's or a key or nonce. */
void chacha20_xor8_many(size_t n, uint8_t *const dst[],
			const uint8_t *const key[],
			const uint8_t *const nonce[]);
/* The same with at most lanes_max blocks at once (16: AVX-512, 8: AVX2,
 * 0: none), as the CPU allows: the tests reach each path on any CPU. */
void chacha20_xor8_many_lanes(size_t lanes_max, size_t n,
			      uint8_t *const dst[],
			      const uint8_t *const key[],
			      const uint8_t *const nonce[]);

#endif /* CRYPTO_CHACHA_H */
