/*
 * Secure memory for long-lived secrets (STYLE.md §6): libsodium's guarded
 * allocations (guard pages, mlock'd so never swapped, wiped when freed).
 * Each allocation costs a few pages, so use it for long-term keys only, not
 * per-session state.
 */
#ifndef CRYPTO_SECMEM_H
#define CRYPTO_SECMEM_H

#include <stddef.h>

/* Allocate n bytes (n > 0) of zeroed, read-write secure memory.  Never
 * returns NULL: out of memory aborts.  Release with secmem_free(). */
void *secmem_alloc(size_t n);
/* Wipe and release p.  Accepts NULL and read-only regions. */
void secmem_free(void *p);
/* Make p read-only (a stray write faults) or writable again. */
void secmem_readonly(void *p);
void secmem_readwrite(void *p);

#endif /* CRYPTO_SECMEM_H */
