/* Favoured creators: feed keys named in DIDs (docs/feed.md §9). */
#include "config.h"
#include "apps/feed/did.h"
#include "apps/content/text.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"

#include <stdlib.h>
#include <string.h>

#define FEED_DID_PAIR_BYTES (20 + 32)

struct feed_did_pair {
	uint8_t id[FEED_DID_PAIR_BYTES];	/* identity, then key */
	uint64_t valid_to;
};

struct feed_did_index {
	struct feed_did_pair *p;	/* sorted by id */
	size_t n, cap;
};

struct feed_did_index *feed_did_new(void)
{
	return xzalloc(sizeof(struct feed_did_index));
}

void feed_did_free(struct feed_did_index *x)
{
	if (!x)
		return;
	free(x->p);
	free(x);
}

size_t feed_did_count(const struct feed_did_index *x)
{
	return x->n;
}

void feed_did_clear(struct feed_did_index *x)
{
	x->n = 0;
}

void feed_did_save(const struct feed_did_index *x, const uint8_t source[32],
		   uint64_t next_block, uint64_t now_s, struct bbuf *out)
{
	size_t i, at;
	uint32_t n = 0;

	bbuf_put(out, FEED_DID_FILE_MAGIC, 4);
	bbuf_u8(out, 1);
	bbuf_put(out, source, 32);
	bbuf_be64(out, next_block);
	at = out->len;
	bbuf_be32(out, 0);
	for (i = 0; i < x->n; i++) {
		if (x->p[i].valid_to <= now_s)
			continue;
		bbuf_put(out, x->p[i].id, FEED_DID_PAIR_BYTES);
		bbuf_be64(out, x->p[i].valid_to);
		n++;
	}
	be32_put(out->data + at, n);
}

int feed_did_load(struct feed_did_index *x, const uint8_t source[32],
		  const uint8_t *p, size_t n, uint64_t *next_block)
{
	struct breader r;
	const uint8_t *magic, *src;
	uint64_t next;
	uint32_t count, i;

	x->n = 0;
	br_init(&r, p, n);
	magic = br_take(&r, 4);
	if (!magic || memcmp(magic, FEED_DID_FILE_MAGIC, 4) != 0 ||
	    br_u8(&r) != 1)
		return ERR_FORMAT;
	src = br_take(&r, 32);
	next = br_be64(&r);
	count = br_be32(&r);
	if (r.failed || count > FEED_DID_MAX ||
	    br_left(&r) != (size_t)count * FEED_DID_FILE_PAIR)
		return ERR_FORMAT;
	if (memcmp(src, source, 32) != 0)
		return ERR_NOT_FOUND;
	if (count > x->cap) {
		x->cap = count;
		x->p = xrealloc(x->p, x->cap * sizeof(*x->p));
	}
	for (i = 0; i < count; i++) {
		br_copy(&r, x->p[i].id, FEED_DID_PAIR_BYTES);
		x->p[i].valid_to = br_be64(&r);
		if (i && memcmp(x->p[i - 1].id, x->p[i].id,
				FEED_DID_PAIR_BYTES) >= 0)
			return ERR_FORMAT;	/* x->n still 0 */
	}
	x->n = count;
	*next_block = next;
	return 0;
}

bool feed_did_identity(const char *did, uint8_t identity[20])
{
	size_t n = strlen(did), got = 0;

	/* "…0x" and 40 hex digits at the end, once the whole is valid. */
	if (!content_did_is_valid(did, n) || n < 42)
		return false;
	return hex_decode(identity, 20, &got, did + n - 40, 40) == 0 &&
	       got == 20;
}

/* The index of id in x, or where it would go (*found false). */
static size_t feed_did_find(const struct feed_did_index *x,
			    const uint8_t id[FEED_DID_PAIR_BYTES], bool *found)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(x->p[mid].id, id, FEED_DID_PAIR_BYTES);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int feed_did_apply(struct feed_did_index *x, const uint8_t identity[20],
		   const uint8_t name[32], const uint8_t *value,
		   size_t value_len, uint64_t valid_to)
{
	uint8_t want[32] = { 0 }, id[FEED_DID_PAIR_BYTES];
	bool found;
	size_t i;

	memcpy(want, FEED_DID_KEY_ATTR, sizeof(FEED_DID_KEY_ATTR) - 1);
	if (memcmp(name, want, 32) != 0)
		return 0;
	if (value_len != 32)
		return ERR_FORMAT;
	memcpy(id, identity, 20);
	memcpy(id + 20, value, 32);
	i = feed_did_find(x, id, &found);
	if (found) {
		x->p[i].valid_to = valid_to;
		return 0;
	}
	if (x->n >= FEED_DID_MAX)
		return ERR_LIMIT;
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 64;
		x->p = xrealloc(x->p, x->cap * sizeof(*x->p));
	}
	memmove(&x->p[i + 1], &x->p[i], (x->n - i) * sizeof(*x->p));
	memcpy(x->p[i].id, id, FEED_DID_PAIR_BYTES);
	x->p[i].valid_to = valid_to;
	x->n++;
	return 0;
}

bool feed_did_favoured(const struct feed_did_index *x,
		       const struct ed25519_pk *creator, const char *did,
		       uint64_t now_s)
{
	uint8_t id[FEED_DID_PAIR_BYTES];
	bool found;
	size_t i;

	if (!x || !did || !did[0] || !feed_did_identity(did, id))
		return false;
	memcpy(id + 20, creator->b, 32);
	i = feed_did_find(x, id, &found);
	return found && x->p[i].valid_to > now_s;
}

bool feed_did_favoured_now(void *ctx, const struct ed25519_pk *creator,
			   const char *did)
{
	return feed_did_favoured(ctx, creator, did, time_now_s());
}
