/*
 * crypto_init(): one libsodium start-up for the whole process.  sodium_init()
 * is itself thread-safe and idempotent (libsodium docs, "Usage"); the atomic
 * flag only makes repeated calls cheap.
 */
#include "config.h"
#include "crypto/init.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_bool crypto_ready;

void crypto_init(void)
{
	if (atomic_load_explicit(&crypto_ready, memory_order_acquire))
		return;
	if (sodium_init() < 0) {
		fputs("bits: libsodium failed to initialise\n", stderr);
		abort();
	}
	atomic_store_explicit(&crypto_ready, true, memory_order_release);
}
