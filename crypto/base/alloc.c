/* Aborting allocators and memory wiping (crypto/base/alloc.h). */
#include "config.h"
#include "crypto/base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static void oom(size_t n)
{
	fprintf(stderr, "bits: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xzalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xzalloc(nmemb * size);
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

void *xmemdup(const void *p, size_t n)
{
	void *q = xmalloc(n);
	if (n)
		memcpy(q, p, n);
	return q;
}

void memwipe(void *p, size_t n)
{
	/* A volatile function pointer keeps the compiler from eliding it. */
	static void *(*const volatile vmemset)(void *, int, size_t) = memset;
	if (p && n)
		vmemset(p, 0, n);
}

void xfree_wipe(void *p, size_t n)
{
	if (!p)
		return;
	memwipe(p, n);
	free(p);
}
