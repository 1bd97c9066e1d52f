/*
 * Secure memory (crypto/secmem.h) over sodium_malloc()/sodium_free() and
 * sodium_mprotect_readonly()/_readwrite().  sodium_free() wipes the region
 * and makes it writable first, so read-only memory can be freed directly.
 */
#include "config.h"
#include "crypto/secmem.h"
#include "crypto/init.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *secmem_alloc(size_t n)
{
	void *p;

	crypto_init();
	p = sodium_malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "bits: out of secure memory (%zu bytes)\n", n);
		abort();
	}
	memset(p, 0, n ? n : 1);	/* sodium_malloc fills with 0xdb */
	return p;
}

void secmem_free(void *p)
{
	sodium_free(p);
}

void secmem_readonly(void *p)
{
	if (sodium_mprotect_readonly(p) != 0)
		abort();	/* only fails on a pointer we never made */
}

void secmem_readwrite(void *p)
{
	if (sodium_mprotect_readwrite(p) != 0)
		abort();
}
