/*
 * Ed25519 (RFC 8032; I2P signature type 7) through libsodium
 * (crypto/ed25519.h).  I2P stores the 32-byte seed; libsodium's 64-byte
 * secret key (seed ‖ pk) is rebuilt per call and wiped.  Long-lived keys
 * belong in crypto/keystore.h, which keeps the expanded key instead.
 */
#include "config.h"
#include "crypto/ed25519.h"
#include "crypto/base/alloc.h"
#include "crypto/rand.h"

#include <sodium.h>

void ed25519_keygen(struct ed25519_seed *sk, struct ed25519_pk *pk)
{
	rand_bytes(sk->b, sizeof(sk->b));
	ed25519_pk_from_seed(pk, sk);
}

void ed25519_pk_from_seed(struct ed25519_pk *pk, const struct ed25519_seed *sk)
{
	uint8_t full[crypto_sign_ed25519_SECRETKEYBYTES];

	crypto_sign_ed25519_seed_keypair(pk->b, full, sk->b);
	memwipe(full, sizeof(full));
}

void ed25519_sign(struct ed25519_sig *sig, const struct ed25519_seed *sk,
		  const void *msg, size_t len)
{
	uint8_t full[crypto_sign_ed25519_SECRETKEYBYTES];
	uint8_t pk[crypto_sign_ed25519_PUBLICKEYBYTES];

	crypto_sign_ed25519_seed_keypair(pk, full, sk->b);
	crypto_sign_ed25519_detached(sig->b, NULL, msg, len, full);
	memwipe(full, sizeof(full));
}

bool ed25519_verify(const struct ed25519_sig *sig, const struct ed25519_pk *pk,
		    const void *msg, size_t len)
{
	return crypto_sign_ed25519_verify_detached(sig->b, msg, len,
						   pk->b) == 0;
}
