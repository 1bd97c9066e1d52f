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

#define FREE_AND_NULL(freefn, p) do { freefn(p); (p) = NULL; } while (0)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif /* CRYPTO_BASE_ALLOC_H */
