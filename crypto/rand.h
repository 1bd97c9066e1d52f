/*
 * The one source of randomness (STYLE.md §6).  libsodium's CSPRNG, or a
 * deterministic stream that tests can switch on.
 */
#ifndef CRYPTO_RAND_H
#define CRYPTO_RAND_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf with n random bytes. Thread-safe. */
void rand_bytes(void *buf, size_t n);
/* Uniform in [0, upper); upper > 0. */
uint32_t rand_uniform(uint32_t upper);
uint64_t rand_u64(void);
/* Tests only: a reproducible stream from seed (ChaCha20); 0 turns it off. */
void rand_set_deterministic(uint64_t seed);

#endif /* CRYPTO_RAND_H */
