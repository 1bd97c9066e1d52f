/*
 * The router's long-term private keys, held in one place (STYLE.md §6,
 * after CLN's hsmd): the Ed25519 identity signing key and three X25519
 * static keys.  Callers ask the keystore to sign or to do a DH; the secret
 * bytes never leave it.  Secrets live in secure memory (crypto/secmem.h),
 * read-only once loaded.  A loaded keystore is immutable, so every function
 * taking a const keystore is safe to call from any thread at once.
 *
 * Serialized form (ours, big-endian integers):
 *   magic "BITSKEYS" (8) ‖ version u16 = 1 ‖ Ed25519 seed (32) ‖
 *   X25519 secrets in enum order (3 × 32) ‖ SHA-256 of all preceding bytes.
 * The checksum catches a corrupt or truncated file; it is not a MAC.
 */
#ifndef CRYPTO_KEYSTORE_H
#define CRYPTO_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "crypto/ed25519.h"
#include "crypto/x25519.h"

enum keystore_x25519 {
	KEYSTORE_X_IDENTITY,	/* RouterIdentity encryption key */
	KEYSTORE_X_NTCP2,	/* NTCP2 static key */
	KEYSTORE_X_SSU2,	/* SSU2 static key */
	KEYSTORE_X_COUNT_
};

#define KEYSTORE_VERSION 1
#define KEYSTORE_ENCODED_BYTES (8 + 2 + 32 + 32 * KEYSTORE_X_COUNT_ + 32)

struct keystore;	/* opaque */

/* New keystore with fresh random keys (through rand_bytes()).  Never
 * returns NULL.  Caller owns the result. */
struct keystore *keystore_new_random(void);
/*
 * Decode a serialized keystore from buf (untrusted bytes, e.g. a file).
 * On success *out is a new keystore the caller owns.  Errors: ERR_TRUNCATED
 * (too short), ERR_FORMAT (not a keystore, or wrong length for its
 * version), ERR_AUTH (checksum mismatch: the file is corrupt),
 * ERR_UNSUPPORTED (intact, but a version we do not know).
 */
int keystore_decode(const uint8_t *buf, size_t len, struct keystore **out);
/* Append the serialized form to out.  The bytes are secret: the caller
 * wipes them (bbuf_free() does). */
void keystore_encode(const struct keystore *ks, struct bbuf *out);
/* Wipe and release ks.  Accepts NULL. */
void keystore_free(struct keystore *ks);

void keystore_sign_pk(const struct keystore *ks, struct ed25519_pk *out);
void keystore_x25519_pk(const struct keystore *ks, enum keystore_x25519 slot,
			struct x25519_pk *out);
/* Sign msg with the Ed25519 identity key. */
void keystore_sign(const struct keystore *ks, struct ed25519_sig *sig,
		   const void *msg, size_t len);
/* out = X25519(secret of slot, peer).  ERR_CRYPTO for a low-order peer key
 * (all-zero result; out untouched), ERR_ARG for a bad slot. */
int keystore_dh(const struct keystore *ks, enum keystore_x25519 slot,
		uint8_t out[32], const struct x25519_pk *peer);

#endif /* CRYPTO_KEYSTORE_H */
