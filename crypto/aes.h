/*
 * AES-256 in ECB and CBC mode with padding disabled (FIPS 197, SP 800-38A),
 * through OpenSSL EVP.  I2P uses it for NTCP2 key obfuscation (CBC, the IV
 * continuing from one message to the next), tunnel layer crypto (ECB for
 * the IV, CBC for the data) and build-reply records.
 *
 * A struct aes256_ctx holds one key and is reused for any number of calls:
 * the OpenSSL contexts behind it are keyed once per direction and mode, on
 * first use, and only the IV is reset per CBC call.  A context is not
 * thread-safe; give each thread (or each tunnel hop) its own.
 */
#ifndef CRYPTO_AES_H
#define CRYPTO_AES_H

#include <stddef.h>
#include <stdint.h>

#define AES256_KEY_BYTES 32
#define AES_BLOCK_BYTES 16

struct aes256_ctx;	/* opaque */

/* New context for key (copied; wiped on free).  Never returns NULL.
 * Caller owns the result. */
struct aes256_ctx *aes256_new(const uint8_t key[AES256_KEY_BYTES]);
/* Replace the key, keeping the allocation. */
void aes256_set_key(struct aes256_ctx *c, const uint8_t key[AES256_KEY_BYTES]);
/* Wipe and release c.  Accepts NULL. */
void aes256_free(struct aes256_ctx *c);

/*
 * Encrypt or decrypt len bytes of buf in place; len must be a multiple of
 * 16 (ERR_ARG otherwise, buf untouched).  ERR_CRYPTO if OpenSSL fails.
 */
int aes256_ecb_encrypt(struct aes256_ctx *c, uint8_t *buf, size_t len);
int aes256_ecb_decrypt(struct aes256_ctx *c, uint8_t *buf, size_t len);
/*
 * CBC in place with the caller's IV.  On success iv is replaced by the last
 * ciphertext block, ready to continue the chain with the next call (as
 * NTCP2 does); with len == 0 nothing changes.
 */
int aes256_cbc_encrypt(struct aes256_ctx *c, uint8_t iv[AES_BLOCK_BYTES],
		       uint8_t *buf, size_t len);
int aes256_cbc_decrypt(struct aes256_ctx *c, uint8_t iv[AES_BLOCK_BYTES],
		       uint8_t *buf, size_t len);

#endif /* CRYPTO_AES_H */
