/*
 * SipHash-2-4 (Aumasson & Bernstein) through libsodium: 16-byte key, 8-byte
 * output.  NTCP2 uses it for frame-length obfuscation (PROTOCOLS.md 2.3).
 */
#ifndef CRYPTO_SIPHASH_H
#define CRYPTO_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_BYTES 16
#define SIPHASH_BYTES 8

/* out = SipHash-2-4(key, in): the 64-bit result as 8 little-endian bytes,
 * as the reference implementation writes it. */
void siphash24(uint8_t out[SIPHASH_BYTES], const uint8_t key[SIPHASH_KEY_BYTES],
	       const void *in, size_t len);
/* The same result as a number (the little-endian reading of out). */
uint64_t siphash24_u64(const uint8_t key[SIPHASH_KEY_BYTES], const void *in,
		       size_t len);

/* SipHash-2-4 with its 128-bit output (libsodium's siphashx24): out[0]
 * and out[1] are the little-endian readings of its first and last 8
 * bytes.  Two independent 64-bit values for the price of one call. */
void siphashx24_u128(uint64_t out[2], const uint8_t key[SIPHASH_KEY_BYTES],
		     const void *in, size_t len);

#endif /* CRYPTO_SIPHASH_H */
