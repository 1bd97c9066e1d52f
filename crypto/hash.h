/*
 * SHA-256, SHA-512, HMAC-SHA256 and HKDF as I2P uses it (PROTOCOLS.md 0.2).
 */
#ifndef CRYPTO_HASH_H
#define CRYPTO_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32
#define SHA512_BYTES 64

void sha256(uint8_t out[SHA256_BYTES], const void *in, size_t len);
/* SHA-256 of a ‖ b (common in Noise MixHash). */
void sha256_2(uint8_t out[SHA256_BYTES], const void *a, size_t alen,
	      const void *b, size_t blen);
void sha512(uint8_t out[SHA512_BYTES], const void *in, size_t len);

/* Incremental SHA-256; the state is wiped by _final. */
struct sha256_ctx {
	uint64_t opaque[16] __attribute__((aligned(16)));
};
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *in, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_BYTES]);

void hmac_sha256(uint8_t out[SHA256_BYTES], const void *key, size_t keylen,
		 const void *msg, size_t msglen);

/*
 * HKDF-SHA256 (RFC 5869) with salt = the 32-byte chaining key as I2P writes
 * it: prk = HMAC(salt, ikm); out = T(1) ‖ T(2) truncated to outlen.
 * outlen ≤ 64; ikm may be empty (ZEROLEN); info is raw bytes, may be empty.
 */
void hkdf_sha256(uint8_t *out, size_t outlen, const void *salt, size_t saltlen,
		 const void *ikm, size_t ikmlen, const void *info, size_t infolen);

/* The arguments of one hkdf_sha256() call, for hkdf_sha256_many(). */
struct hkdf_job {
	uint8_t *out;
	size_t outlen;		/* ≤ 64 */
	const void *salt;
	size_t saltlen;
	const void *ikm;
	size_t ikmlen;
	const void *info;
	size_t infolen;
};
#define HKDF_MAX_JOBS 4
/*
 * n (≤ HKDF_MAX_JOBS) independent HKDFs computed in lockstep, so their
 * SHA-256 compressions overlap in the CPU (the ratchet's tag and key
 * chains): the same outputs as n calls of hkdf_sha256().  Outputs must
 * not overlap any input.
 */
void hkdf_sha256_many(const struct hkdf_job *jobs, size_t n);

/* HMAC and HKDF compress on the CPU's SHA extensions when it has them
 * (the default), else with OpenSSL's code; on = false takes OpenSSL's.
 * Returns whether the extensions are used now (tests compare the two). */
bool sha256_shani_set(bool on);

#endif /* CRYPTO_HASH_H */
