/*
 * Mapping (common-structures spec, "Mapping"): decode in received order with
 * validation, encode canonically (sorted by key, unique keys), and simple
 * key lookups.  Used by router/router_address.c and router/router_info.c;
 * see router/mapping.h for the rules.
 */
#include "config.h"
#include "router/mapping.h"
#include "router/i2p_types.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

void mapping_init(struct mapping *m)
{
	*m = (struct mapping)MAPPING_INIT;
}

void mapping_clear(struct mapping *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].key);	/* the value is in the same block */
	free(m->e);
	mapping_init(m);
}

/* key and value in one block ("key\0value\0"): a RouterInfo's entries
 * are a few bytes each, and a block a string cost twice the heap. */
static struct mapping_entry entry_make(const void *k, size_t klen,
				       const void *v, size_t vlen)
{
	char *b = xmalloc(klen + vlen + 2);

	if (klen)
		memcpy(b, k, klen);
	b[klen] = '\0';
	if (vlen)
		memcpy(b + klen + 1, v, vlen);
	b[klen + 1 + vlen] = '\0';
	return (struct mapping_entry){ .key = b, .value = b + klen + 1,
				       .key_len = klen, .value_len = vlen };
}

/* Append an entry without checking for duplicates. */
static void mapping_append(struct mapping *m, const void *k, size_t klen,
			   const void *v, size_t vlen)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		m->e = xrealloc(m->e, m->cap * sizeof(*m->e));
	}
	m->e[m->n++] = entry_make(k, klen, v, vlen);
}

size_t mapping_heap_bytes(const struct mapping *m)
{
	size_t n = m->cap ? alloc_cost(m->cap * sizeof(*m->e)) : 0;

	for (size_t i = 0; i < m->n; i++)
		n += alloc_cost(m->e[i].key_len + m->e[i].value_len + 2);
	return n;
}

void mapping_copy(struct mapping *dst, const struct mapping *src)
{
	struct mapping m = MAPPING_INIT;

	for (size_t i = 0; i < src->n; i++)
		mapping_append(&m, src->e[i].key, src->e[i].key_len,
			       src->e[i].value, src->e[i].value_len);
	mapping_clear(dst);
	*dst = m;
}

static struct mapping_entry *mapping_find(const struct mapping *m,
					  const char *key, size_t klen)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].key_len == klen &&
		    memcmp(m->e[i].key, key, klen) == 0)
			return &m->e[i];
	return NULL;
}

int mapping_set(struct mapping *m, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value);
	struct mapping_entry *e;

	if (klen > MAPPING_STRING_MAX_BYTES || vlen > MAPPING_STRING_MAX_BYTES)
		return ERR_TOO_BIG;
	if ((e = mapping_find(m, key, klen)) != NULL) {
		struct mapping_entry n = entry_make(key, klen, value, vlen);

		free(e->key);
		*e = n;
		return 0;
	}
	mapping_append(m, key, klen, value, vlen);
	return 0;
}

int mapping_remove(struct mapping *m, const char *key)
{
	struct mapping_entry *e = mapping_find(m, key, strlen(key));

	if (!e)
		return ERR_NOT_FOUND;
	free(e->key);
	memmove(e, e + 1, (size_t)(m->e + m->n - (e + 1)) * sizeof(*e));
	m->n--;
	return 0;
}

const char *mapping_get(const struct mapping *m, const char *key)
{
	const struct mapping_entry *e = mapping_find(m, key, strlen(key));

	return e ? e->value : NULL;
}

/* Byte order of keys: Java's String.compareTo for ASCII (for non-ASCII,
 * UTF-8 byte order is code point order, which differs from Java's UTF-16
 * order only for characters above U+FFFF against U+E000..U+FFFF). */
static int entry_key_cmp(const struct mapping_entry *a,
			 const struct mapping_entry *b)
{
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = n ? memcmp(a->key, b->key, n) : 0;

	if (c)
		return c;
	return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

static int entry_ptr_cmp(const void *a, const void *b)
{
	return entry_key_cmp(*(const struct mapping_entry *const *)a,
			     *(const struct mapping_entry *const *)b);
}

/* Pointers to m's entries sorted by key (caller frees). */
static const struct mapping_entry **mapping_sorted(const struct mapping *m)
{
	const struct mapping_entry **v = xcalloc(m->n ? m->n : 1, sizeof(*v));

	for (size_t i = 0; i < m->n; i++)
		v[i] = &m->e[i];
	if (m->n > 1)
		qsort(v, m->n, sizeof(*v), entry_ptr_cmp);
	return v;
}

static bool mapping_has_duplicates(const struct mapping *m)
{
	const struct mapping_entry **v = mapping_sorted(m);
	bool dup = false;

	for (size_t i = 1; i < m->n && !dup; i++)
		dup = entry_key_cmp(v[i - 1], v[i]) == 0;
	free(v);
	return dup;
}

bool mapping_is_sorted(const struct mapping *m)
{
	for (size_t i = 1; i < m->n; i++)
		if (entry_key_cmp(&m->e[i - 1], &m->e[i]) >= 0)
			return false;
	return true;
}

/* Decode the entries of a Mapping body (exactly len bytes at p). */
static int mapping_body_decode(const uint8_t *p, size_t len,
			       struct mapping *m)
{
	struct breader r;

	br_init(&r, p, len);
	while (br_left(&r) > 0) {
		struct i2p_string k, v;
		uint8_t eq, semi;

		/* "key_string '=' val_string ';'" */
		if (i2p_string_decode(&r, &k) != 0)
			return ERR_FORMAT;	/* overruns the declared size */
		eq = br_u8(&r);
		if (i2p_string_decode(&r, &v) != 0)
			return ERR_FORMAT;
		semi = br_u8(&r);
		if (r.failed)
			return ERR_FORMAT;
		if (eq != '=' || semi != ';')
			return ERR_FORMAT;
		if ((k.len && memchr(k.p, 0, k.len)) ||
		    (v.len && memchr(v.p, 0, v.len)))
			return ERR_FORMAT;
		if (m->n == MAPPING_DECODE_MAX_ENTRIES)
			return ERR_TOO_BIG;
		mapping_append(m, k.p, k.len, v.p, v.len);
	}
	return 0;
}

int mapping_decode(struct breader *r, size_t max_bytes, struct mapping *out)
{
	struct mapping m = MAPPING_INIT;
	size_t size;
	const uint8_t *body;
	int ret;

	/* "size :: Integer, length -> 2 bytes, Total number of bytes that
	 * follow" */
	size = br_be16(r);
	if (r->failed)
		return ERR_TRUNCATED;
	if (size > max_bytes || size > MAPPING_MAX_BYTES)
		return ERR_TOO_BIG;
	if ((body = br_take(r, size)) == NULL)
		return ERR_TRUNCATED;
	if ((ret = mapping_body_decode(body, size, &m)) != 0)
		goto out;
	/* "Mappings contained in I2NP messages (i.e. in a RouterAddress or
	 * RouterInfo) must be sorted by key ... Duplicate keys are not
	 * allowed." */
	if (mapping_has_duplicates(&m)) {
		ret = ERR_DUPLICATE;
		goto out;
	}
	mapping_clear(out);
	*out = m;
	mapping_init(&m);
out:
	mapping_clear(&m);
	return ret;
}

size_t mapping_encoded_len(const struct mapping *m)
{
	size_t len = 2;

	for (size_t i = 0; i < m->n; i++)
		len += 1 + m->e[i].key_len + 1 + 1 + m->e[i].value_len + 1;
	return len;
}

int mapping_encode(const struct mapping *m, struct bbuf *b)
{
	size_t len = mapping_encoded_len(m);
	const struct mapping_entry **v;

	if (len - 2 > MAPPING_MAX_BYTES)
		return ERR_TOO_BIG;
	v = mapping_sorted(m);
	bbuf_be16(b, (uint16_t)(len - 2));
	for (size_t i = 0; i < m->n; i++) {
		/* Lengths were bounded by mapping_set()/decode. */
		(void)i2p_string_encode(b, v[i]->key, v[i]->key_len);
		bbuf_u8(b, '=');
		(void)i2p_string_encode(b, v[i]->value, v[i]->value_len);
		bbuf_u8(b, ';');
	}
	free(v);
	return 0;
}
