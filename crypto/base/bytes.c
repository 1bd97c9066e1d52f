/* Bounds-checked reader and wiping growable writer (crypto/base/bytes.h). */
#include "config.h"
#include "crypto/base/bytes.h"
#include "crypto/base/alloc.h"

#include <stdlib.h>
#include <string.h>

void br_init(struct breader *r, const void *buf, size_t len)
{
	r->p = buf;
	r->left = buf ? len : 0;
	r->failed = false;
}

void br_fail(struct breader *r)
{
	*r = (struct breader){ .failed = true };
}

const uint8_t *br_take(struct breader *r, size_t n)
{
	if (r->failed || n > r->left) {
		br_fail(r);
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return r->p - n;
}

void br_copy(struct breader *r, void *out, size_t n)
{
	const uint8_t *p = br_take(r, n);
	if (p)
		memcpy(out, p, n);
	else if (n)
		memset(out, 0, n);
}

void br_skip(struct breader *r, size_t n)
{
	(void)br_take(r, n);
}

uint8_t br_u8(struct breader *r)
{
	const uint8_t *p = br_take(r, 1);
	return p ? p[0] : 0;
}

uint16_t br_be16(struct breader *r)
{
	const uint8_t *p = br_take(r, 2);
	return p ? be16_get(p) : 0;
}

uint32_t br_be32(struct breader *r)
{
	const uint8_t *p = br_take(r, 4);
	return p ? be32_get(p) : 0;
}

uint64_t br_be64(struct breader *r)
{
	const uint8_t *p = br_take(r, 8);
	return p ? be64_get(p) : 0;
}

uint16_t br_le16(struct breader *r)
{
	const uint8_t *p = br_take(r, 2);
	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t br_le32(struct breader *r)
{
	const uint8_t *p = br_take(r, 4);
	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

uint64_t br_le64(struct breader *r)
{
	const uint8_t *p = br_take(r, 8);
	return p ? le64_get(p) : 0;
}

void bbuf_init(struct bbuf *b)
{
	*b = (struct bbuf)BBUF_INIT;
}

void bbuf_free(struct bbuf *b)
{
	xfree_wipe(b->data, b->cap);
	bbuf_init(b);
}

void bbuf_reserve(struct bbuf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (n > SIZE_MAX - b->len)
		abort();
	if (b->len + n <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + n)
		cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
	/* Grow by copy so the old block can be wiped. */
	p = xmalloc(cap);
	if (b->len)
		memcpy(p, b->data, b->len);
	xfree_wipe(b->data, b->cap);
	b->data = p;
	b->cap = cap;
}

uint8_t *bbuf_extend(struct bbuf *b, size_t n)
{
	bbuf_reserve(b, n);
	b->len += n;
	return b->data + b->len - n;
}

void bbuf_put(struct bbuf *b, const void *p, size_t n)
{
	if (n)
		memcpy(bbuf_extend(b, n), p, n);
}

void bbuf_u8(struct bbuf *b, uint8_t v)
{
	*bbuf_extend(b, 1) = v;
}

void bbuf_be16(struct bbuf *b, uint16_t v)
{
	be16_put(bbuf_extend(b, 2), v);
}

void bbuf_be32(struct bbuf *b, uint32_t v)
{
	be32_put(bbuf_extend(b, 4), v);
}

void bbuf_be64(struct bbuf *b, uint64_t v)
{
	be64_put(bbuf_extend(b, 8), v);
}

void bbuf_le16(struct bbuf *b, uint16_t v)
{
	uint8_t *p = bbuf_extend(b, 2);
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void bbuf_le32(struct bbuf *b, uint32_t v)
{
	uint8_t *p = bbuf_extend(b, 4);
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void bbuf_le64(struct bbuf *b, uint64_t v)
{
	le64_put(bbuf_extend(b, 8), v);
}

void bbuf_reset(struct bbuf *b)
{
	memwipe(b->data, b->len);
	b->len = 0;
}

uint8_t *bbuf_steal(struct bbuf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len)
		*len = b->len;
	if (!p)
		p = xmalloc(1);
	bbuf_init(b);
	return p;
}
