/*
 * Key blinding for encrypted LeaseSets and RedDSA signatures
 * (encryptedleaseset spec, "Blinding Key Derivation", "Sign/Verify
 * Calculations"; red25519 spec).  All arithmetic is on the Ed25519 curve
 * (B the base point, l its prime order), through libsodium's core_ed25519.
 *
 *   alpha = HKDF(H("I2PGenerateAlpha", A ‖ stA ‖ stA'),
 *                "YYYYMMDD" ‖ secret, "i2pblinding1", 64) mod l
 *   A'    = A + alpha·B                (anyone who knows A)
 *   a'    = (a + alpha) mod l          (the owner; A' = a'·B)
 *
 * a is the signing scalar: for an Ed25519 (type 7) key the clamped first
 * half of SHA-512(seed), for a RedDSA (type 11) key the stored scalar.
 *
 * RedDSA signs as Ed25519 but with r = H*(T ‖ A ‖ M) for 80 random bytes
 * T, and the private key is a scalar mod l; it verifies as Ed25519.
 */
#ifndef CRYPTO_BLINDING_H
#define CRYPTO_BLINDING_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/ed25519.h"

#define BLIND_SCALAR_BYTES 32
#define BLIND_POINT_BYTES 32
/* "datestring = 8 bytes ASCII YYYYMMDD from the current date UTC" */
#define BLIND_DATE_BYTES 8
#define REDDSA_SIG_BYTES 64
/* "T = 80 random bytes" */
#define REDDSA_NONCE_SEED_BYTES 80

/* The UTC date of unix time now_s as "YYYYMMDD" (out gets 8 characters
 * and a NUL). */
void blind_date_format(char out[BLIND_DATE_BYTES + 1], uint64_t now_s);

/*
 * GENERATE_ALPHA: pk is A (32 bytes), sig_type its type (7 or 11),
 * blinded_sig_type that of A' (11); date is 8 characters "YYYYMMDD";
 * secret (may be NULL when secret_len is 0) the optional shared secret.
 */
void blind_alpha(uint8_t alpha[BLIND_SCALAR_BYTES], const uint8_t pk[32],
		 uint16_t sig_type, uint16_t blinded_sig_type,
		 const char date[BLIND_DATE_BYTES], const uint8_t *secret,
		 size_t secret_len);

/* A' = A + alpha·B.  ERR_FORMAT when pk is not a valid point of the prime
 * order group, ERR_CRYPTO when the result is not usable. */
int blind_pubkey(uint8_t out[BLIND_POINT_BYTES], const uint8_t pk[32],
		 const uint8_t alpha[BLIND_SCALAR_BYTES]);

/* The signing scalar of an Ed25519 seed (clamped SHA-512 half). */
void blind_ed25519_scalar(uint8_t a[BLIND_SCALAR_BYTES],
			  const struct ed25519_seed *seed);
/* a' = (a + alpha) mod l. */
void blind_privkey(uint8_t out[BLIND_SCALAR_BYTES],
		   const uint8_t a[BLIND_SCALAR_BYTES],
		   const uint8_t alpha[BLIND_SCALAR_BYTES]);

/* RedDSA public key a·B of scalar a (taken mod l).  ERR_CRYPTO when
 * a ≡ 0. */
int reddsa_pk_from_sk(uint8_t pk[32], const uint8_t a[BLIND_SCALAR_BYTES]);
/* A new RedDSA key: a random scalar mod l and its public key. */
void reddsa_keygen(uint8_t a[BLIND_SCALAR_BYTES], uint8_t pk[32]);
/*
 * Sign msg with scalar a whose public key is pk.  T is the 80-byte nonce
 * seed (NULL: fresh random bytes; tests pass fixed bytes).
 */
void reddsa_sign(uint8_t sig[REDDSA_SIG_BYTES],
		 const uint8_t a[BLIND_SCALAR_BYTES], const uint8_t pk[32],
		 const void *msg, size_t len,
		 const uint8_t T[REDDSA_NONCE_SEED_BYTES]);

#endif /* CRYPTO_BLINDING_H */
