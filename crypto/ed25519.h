/*
 * Ed25519 (I2P signature type 7) through libsodium.  The private key is the
 * 32-byte RFC 8032 seed, as I2P stores it.
 */
#ifndef CRYPTO_ED25519_H
#define CRYPTO_ED25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ed25519_seed { uint8_t b[32]; };	/* secret */
struct ed25519_pk { uint8_t b[32]; };
struct ed25519_sig { uint8_t b[64]; };

/* New random key pair. */
void ed25519_keygen(struct ed25519_seed *sk, struct ed25519_pk *pk);
void ed25519_pk_from_seed(struct ed25519_pk *pk, const struct ed25519_seed *sk);
void ed25519_sign(struct ed25519_sig *sig, const struct ed25519_seed *sk,
		  const void *msg, size_t len);
/* True when sig is a valid signature of msg by pk. */
bool ed25519_verify(const struct ed25519_sig *sig, const struct ed25519_pk *pk,
		    const void *msg, size_t len);

#endif /* CRYPTO_ED25519_H */
