/*
 * Allocation that never returns NULL: out of memory aborts (Tor's
 * tor_malloc).  Network-supplied sizes must be bounded before calling.
 */
#ifndef CRYPTO_BASE_ALLOC_H
#define CRYPTO_BASE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xzalloc(size_t n);			/* zeroed */
void *xcalloc(size_t nmemb, size_t size);	/* zeroed, overflow-checked */
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void *xmemdup(const void *p, size_t n);
/* Wipe n bytes at p (never optimised away).  Accepts NULL. */
void memwipe(void *p, size_t n);
/* Wipe then free a buffer of n bytes.  Accepts NULL. */
void xfree_wipe(void *p, size_t n);

/* The heap an n-byte block takes, malloc's header and rounding counted
 * (glibc's: n + 8 up to a multiple of 16, 32 at least): for budgets of
 * what a peer can make us hold. */
static inline size_t alloc_cost(size_t n)
{
	size_t c = (n + 8 + 15) & ~(size_t)15;

	return c < 32 ? 32 : c;
}

#define FREE_AND_NULL(freefn, p) do { freefn(p); (p) = NULL; } while (0)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif /* CRYPTO_BASE_ALLOC_H */
