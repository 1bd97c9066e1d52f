/*
 * AES-256-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag,
 * through OpenSSL EVP (AES-NI and carry-less multiply where the CPU has
 * them).
 *
 * A struct aesgcm_ctx holds one key and is reused for any number of seal
 * and open calls: its OpenSSL contexts are keyed once (the AES key schedule
 * and the GHASH tables), and each call only loads the nonce.  A context is
 * not thread-safe; give each thread its own.
 *
 * GCM is not key-committing: a ciphertext can be made to open under two
 * keys.  A format that must bind one key commits to it separately (the
 * content format does: docs/content-format.md §2).
 */
#ifndef CRYPTO_AESGCM_H
#define CRYPTO_AESGCM_H

#include <stddef.h>
#include <stdint.h>

#define AESGCM_KEY_BYTES 32
#define AESGCM_NONCE_BYTES 12
#define AESGCM_TAG_BYTES 16
#define AESGCM_MAX_BYTES ((size_t)1 << 30)	/* per call, plaintext or AD */

struct aesgcm_ctx;	/* opaque */

/* New context for key (copied; wiped on free).  Never returns NULL.
 * Caller owns the result. */
struct aesgcm_ctx *aesgcm_new(const uint8_t key[AESGCM_KEY_BYTES]);
/* Replace the key, keeping the allocation. */
void aesgcm_set_key(struct aesgcm_ctx *c, const uint8_t key[AESGCM_KEY_BYTES]);
/* Wipe and release c.  Accepts NULL. */
void aesgcm_free(struct aesgcm_ctx *c);

/*
 * out = ciphertext ‖ tag (len + 16 bytes); out may equal in.  ad may be
 * NULL when adlen is 0.  A nonce must never be used twice with one key.
 * ERR_TOO_BIG when len or adlen is over AESGCM_MAX_BYTES, ERR_CRYPTO if
 * OpenSSL fails.
 */
int aesgcm_seal(struct aesgcm_ctx *c, uint8_t *out,
		const uint8_t nonce[AESGCM_NONCE_BYTES], const void *ad,
		size_t adlen, const void *in, size_t len);
/*
 * in = ciphertext ‖ tag (inlen ≥ 16); out gets inlen - 16 bytes and may
 * equal in.  ERR_TRUNCATED when inlen < 16, ERR_AUTH when the tag does not
 * verify (out is then wiped), ERR_TOO_BIG / ERR_CRYPTO as for seal.
 */
int aesgcm_open(struct aesgcm_ctx *c, uint8_t *out,
		const uint8_t nonce[AESGCM_NONCE_BYTES], const void *ad,
		size_t adlen, const uint8_t *in, size_t inlen);

#endif /* CRYPTO_AESGCM_H */
