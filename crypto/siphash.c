/*
 * SipHash-2-4 (crypto/siphash.h) over libsodium's
 * crypto_shorthash_siphash24, which writes the 64-bit result little-endian
 * exactly as the reference siphash() does.
 */
#include "config.h"
#include "crypto/siphash.h"
#include "crypto/base/bytes.h"

#include <sodium.h>

_Static_assert(SIPHASH_KEY_BYTES == crypto_shorthash_siphash24_KEYBYTES,
	       "siphash key size");
_Static_assert(SIPHASH_BYTES == crypto_shorthash_siphash24_BYTES,
	       "siphash output size");
_Static_assert(SIPHASH_KEY_BYTES == crypto_shorthash_siphashx24_KEYBYTES,
	       "siphashx key size");
_Static_assert(2 * sizeof(uint64_t) == crypto_shorthash_siphashx24_BYTES,
	       "siphashx output size");

void siphash24(uint8_t out[SIPHASH_BYTES], const uint8_t key[SIPHASH_KEY_BYTES],
	       const void *in, size_t len)
{
	crypto_shorthash_siphash24(out, in, len, key);
}

uint64_t siphash24_u64(const uint8_t key[SIPHASH_KEY_BYTES], const void *in,
		       size_t len)
{
	uint8_t out[SIPHASH_BYTES];

	siphash24(out, key, in, len);
	return le64_get(out);
}

void siphashx24_u128(uint64_t out[2], const uint8_t key[SIPHASH_KEY_BYTES],
		     const void *in, size_t len)
{
	uint8_t h[crypto_shorthash_siphashx24_BYTES];

	crypto_shorthash_siphashx24(h, in, len, key);
	out[0] = le64_get(h);
	out[1] = le64_get(h + 8);
}
