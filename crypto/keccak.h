/*
 * Keccak-256 with the original Keccak padding (0x01), as Ethereum uses it;
 * not FIPS-202 SHA3-256.  OpenSSL 3.0 has none, so it is written here.
 */
#ifndef CRYPTO_KECCAK_H
#define CRYPTO_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define KECCAK256_BYTES 32

struct keccak256_ctx {
	uint64_t st[25];
	size_t pos;	/* bytes absorbed into the current block */
};
void keccak256_init(struct keccak256_ctx *c);
void keccak256_update(struct keccak256_ctx *c, const void *in, size_t len);
/* Write the digest and wipe the state. */
void keccak256_final(struct keccak256_ctx *c, uint8_t out[KECCAK256_BYTES]);
void keccak256(uint8_t out[KECCAK256_BYTES], const void *in, size_t len);

#endif /* CRYPTO_KECCAK_H */
