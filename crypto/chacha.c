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
