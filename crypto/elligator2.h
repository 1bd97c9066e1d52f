/*
 * Elligator2 for Curve25519 with I2P's conventions (ecies spec,
 * "Elligator2"; PROTOCOLS.md 2.11): the map from a 32-byte representative
 * to an X25519 public key (u coordinate) and its inverse, which hides an
 * ephemeral public key as bytes indistinguishable from random.
 *
 * Conventions (p = 2^255 - 19, A = 486662, non-square 2), matching i2pd:
 *   decode: clear the two top bits of byte 31, read r little-endian,
 *     refuse r > (p-1)/2; v = -A / (1 + 2r^2); u = v if v^3 + Av^2 + v is
 *     a square, else -v - A.
 *   encode: only when -2u(u + A) is a square (about half of all keys);
 *     r = sqrt(-u / (2(u + A))) or, with the tweak bit, sqrt(-(u + A) / (2u));
 *     the root in [0, (p-1)/2]; two padding bits ORed into byte 31.
 *
 * Pure functions, thread-safe.  The field arithmetic runs on OpenSSL
 * BIGNUM and is not constant-time, but only public values go through it:
 * a public key u and its representative (sent on the wire, and u follows
 * from it), never a private scalar.  The timing tells whether a candidate
 * key encodes; those that do not are discarded unused.
 */
#ifndef CRYPTO_ELLIGATOR2_H
#define CRYPTO_ELLIGATOR2_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/x25519.h"

#define ELLIGATOR2_BYTES 32

/*
 * Map the representative repr (untrusted; its two top bits are ignored)
 * to a public key.  ERR_RANGE when r > (p-1)/2 (i2pd refuses those too).
 */
int elligator2_decode(const uint8_t repr[ELLIGATOR2_BYTES],
		      struct x25519_pk *pk);

/*
 * The inverse map: write the representative of pk (read as a 256-bit
 * little-endian integer mod p).  high_y picks the second root formula;
 * pad's top two bits (pad & 0xC0) are ORed into byte 31.  ERR_UNSUPPORTED
 * when pk has no representative; repr is then untouched.
 */
int elligator2_encode(const struct x25519_pk *pk, bool high_y, uint8_t pad,
		      uint8_t repr[ELLIGATOR2_BYTES]);

/* True when pk has a representative. */
bool elligator2_is_encodable(const struct x25519_pk *pk);

/*
 * GENERATE_PRIVATE_ELG2: a fresh key pair whose public key encodes (new
 * random keys until one does, about two tries), with its representative
 * under a random tweak bit and random padding bits.  Randomness from
 * rand_bytes().  *sk is a secret: the caller wipes it.
 */
void elligator2_keygen(struct x25519_sk *sk, struct x25519_pk *pk,
		       uint8_t repr[ELLIGATOR2_BYTES]);

#endif /* CRYPTO_ELLIGATOR2_H */
