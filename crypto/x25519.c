/*
 * X25519 (RFC 7748 §5) through libsodium (crypto/x25519.h).  libsodium
 * clamps the scalar, ignores bit 255 of u, and reports an all-zero shared
 * secret (a low-order peer key), which we turn into ERR_CRYPTO.
 */
#include "config.h"
#include "crypto/x25519.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"

#include <sodium.h>
#include <string.h>

void x25519_keygen(struct x25519_sk *sk, struct x25519_pk *pk)
{
	rand_bytes(sk->b, sizeof(sk->b));
	x25519_pk_from_sk(pk, sk);
}

void x25519_pk_from_sk(struct x25519_pk *pk, const struct x25519_sk *sk)
{
	/* Fails only for a scalar that clamps to zero, which cannot happen:
	 * clamping sets bit 254. */
	(void)crypto_scalarmult_curve25519_base(pk->b, sk->b);
}

int x25519_dh(uint8_t out[32], const struct x25519_sk *sk,
	      const struct x25519_pk *pk)
{
	uint8_t s[crypto_scalarmult_curve25519_BYTES];

	if (crypto_scalarmult_curve25519(s, sk->b, pk->b) != 0) {
		memwipe(s, sizeof(s));
		return ERR_CRYPTO;
	}
	memcpy(out, s, sizeof(s));
	memwipe(s, sizeof(s));
	return 0;
}
