/*
 * The netDb's hash table (netdb/keymap.h): SipHash-keyed chained buckets,
 * power-of-two sized, doubling at load factor 1.
 */
#include "config.h"
#include "netdb/keymap.h"
#include "crypto/base/alloc.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"

#include <stdlib.h>
#include <string.h>

#define KEYMAP_MIN_BUCKETS 64

struct node {
	struct node *next;
	uint64_t h;
	uint8_t key[KEYMAP_KEY_BYTES];
	void *val;
};

struct keymap {
	struct node **b;
	size_t nb;		/* power of two */
	size_t n;
	uint8_t sip[SIPHASH_KEY_BYTES];
};

struct keymap *keymap_new(void)
{
	struct keymap *m = xzalloc(sizeof(*m));

	m->nb = KEYMAP_MIN_BUCKETS;
	m->b = xcalloc(m->nb, sizeof(*m->b));
	rand_bytes(m->sip, sizeof(m->sip));
	return m;
}

void keymap_clear(struct keymap *m, void (*fn)(void *val))
{
	for (size_t i = 0; i < m->nb; i++) {
		struct node *n = m->b[i], *next;
		for (; n; n = next) {
			next = n->next;
			if (fn)
				fn(n->val);
			free(n);
		}
		m->b[i] = NULL;
	}
	m->n = 0;
}

void keymap_free(struct keymap *m)
{
	if (!m)
		return;
	keymap_clear(m, NULL);
	free(m->b);
	free(m);
}

static uint64_t hash(const struct keymap *m, const uint8_t *key)
{
	return siphash24_u64(m->sip, key, KEYMAP_KEY_BYTES);
}

static struct node **find(const struct keymap *m, const uint8_t *key,
			  uint64_t h)
{
	struct node **pp = &m->b[h & (m->nb - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->h == h && memcmp((*pp)->key, key, KEYMAP_KEY_BYTES) == 0)
			break;
	return pp;
}

void *keymap_get(const struct keymap *m, const uint8_t key[KEYMAP_KEY_BYTES])
{
	struct node *n = *find(m, key, hash(m, key));

	return n ? n->val : NULL;
}

static void grow(struct keymap *m)
{
	size_t nb = m->nb * 2;
	struct node **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < m->nb; i++) {
		struct node *n = m->b[i], *next;
		for (; n; n = next) {
			next = n->next;
			n->next = b[n->h & (nb - 1)];
			b[n->h & (nb - 1)] = n;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

void *keymap_put(struct keymap *m, const uint8_t key[KEYMAP_KEY_BYTES],
		 void *val)
{
	uint64_t h = hash(m, key);
	struct node **pp = find(m, key, h), *n;
	void *old;

	if (*pp) {
		old = (*pp)->val;
		(*pp)->val = val;
		return old;
	}
	n = xmalloc(sizeof(*n));
	n->next = NULL;
	n->h = h;
	memcpy(n->key, key, KEYMAP_KEY_BYTES);
	n->val = val;
	*pp = n;
	if (++m->n > m->nb)
		grow(m);
	return NULL;
}

void *keymap_remove(struct keymap *m, const uint8_t key[KEYMAP_KEY_BYTES])
{
	struct node **pp = find(m, key, hash(m, key)), *n = *pp;
	void *val;

	if (!n)
		return NULL;
	*pp = n->next;
	val = n->val;
	free(n);
	m->n--;
	return val;
}

size_t keymap_count(const struct keymap *m)
{
	return m->n;
}
