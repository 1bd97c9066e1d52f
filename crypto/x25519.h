/* X25519 (RFC 7748) through libsodium. */
#ifndef CRYPTO_X25519_H
#define CRYPTO_X25519_H

#include <stdint.h>

struct x25519_sk { uint8_t b[32]; };	/* secret */
struct x25519_pk { uint8_t b[32]; };

void x25519_keygen(struct x25519_sk *sk, struct x25519_pk *pk);
void x25519_pk_from_sk(struct x25519_pk *pk, const struct x25519_sk *sk);
/* out = DH(sk, pk).  ERR_CRYPTO when the result is all zero (low order). */
int x25519_dh(uint8_t out[32], const struct x25519_sk *sk,
	      const struct x25519_pk *pk);

#endif /* CRYPTO_X25519_H */
