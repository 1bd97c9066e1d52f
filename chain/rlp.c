/*
 * RLP encoder and canonical decoder (Yellow Paper, appendix B).
 *   "If a string is 0-55 bytes long, the RLP encoding consists of a single
 *    byte with value 0x80 plus the length of the string followed by the
 *    string."  Longer strings: 0xb7 plus the length of the length.  Lists:
 *    0xc0 / 0xf7 likewise.
 */
#include "config.h"
#include "chain/rlp.h"
#include "crypto/base/err.h"

#include <string.h>

static void put_header(struct bbuf *b, uint8_t short_base, size_t n)
{
	if (n <= 55) {
		bbuf_u8(b, (uint8_t)(short_base + n));
	} else {
		uint8_t len[8];
		size_t k = 0;
		for (size_t v = n; v; v >>= 8)
			k++;
		for (size_t i = 0; i < k; i++)
			len[k - 1 - i] = (uint8_t)(n >> (8 * i));
		bbuf_u8(b, (uint8_t)(short_base + 55 + k));
		bbuf_put(b, len, k);
	}
}

void rlp_put_bytes(struct bbuf *b, const void *p, size_t n)
{
	const uint8_t *s = p;

	if (n == 1 && s[0] < 0x80) {
		bbuf_u8(b, s[0]);
		return;
	}
	put_header(b, 0x80, n);
	if (n)
		bbuf_put(b, p, n);
}

void rlp_put_u64(struct bbuf *b, uint64_t v)
{
	uint8_t be[8];
	size_t k = 0;

	for (uint64_t t = v; t; t >>= 8)
		k++;
	for (size_t i = 0; i < k; i++)
		be[k - 1 - i] = (uint8_t)(v >> (8 * i));
	rlp_put_bytes(b, be, k);
}

void rlp_put_u256(struct bbuf *b, const struct u256 *v)
{
	uint8_t be[32];
	size_t n = u256_to_min_be(v, be);

	rlp_put_bytes(b, be, n);
}

void rlp_put_list(struct bbuf *b, const void *payload, size_t n)
{
	put_header(b, 0xc0, n);
	if (n)
		bbuf_put(b, payload, n);
}

/* Read a long-form length of k bytes (canonical: no leading zero, > 55). */
static int long_len(struct breader *r, size_t k, size_t *out)
{
	const uint8_t *p = br_take(r, k);
	size_t n = 0;

	if (!p)
		return ERR_TRUNCATED;
	if (k > sizeof(size_t) || p[0] == 0)
		return ERR_FORMAT;
	for (size_t i = 0; i < k; i++)
		n = n << 8 | p[i];
	if (n <= 55)
		return ERR_FORMAT;
	*out = n;
	return 0;
}

int rlp_item_decode(struct breader *r, struct rlp_item *out)
{
	struct breader save = *r;
	struct rlp_item it = { 0 };
	uint8_t h;
	size_t n;
	int e;

	if (r->failed || br_left(r) == 0)
		return ERR_TRUNCATED;
	h = br_u8(r);
	if (h < 0x80) {				/* the byte is its own encoding */
		it.p = r->p - 1;
		it.len = 1;
		*out = it;
		return 0;
	}
	if (h <= 0xb7) {
		n = h - 0x80;
	} else if (h < 0xc0) {
		if ((e = long_len(r, h - 0xb7, &n)) != 0)
			goto fail;
	} else if (h <= 0xf7) {
		it.is_list = true;
		n = h - 0xc0;
	} else {
		it.is_list = true;
		if ((e = long_len(r, h - 0xf7, &n)) != 0)
			goto fail;
	}
	if (n > br_left(r)) {
		e = ERR_TRUNCATED;
		goto fail;
	}
	it.p = br_take(r, n);
	it.len = n;
	/* "a single byte in [0x00, 0x7f] is its own RLP encoding": 0x81 0x05
	 * is not canonical. */
	if (!it.is_list && h == 0x81 && it.p[0] < 0x80) {
		e = ERR_FORMAT;
		goto fail;
	}
	*out = it;
	return 0;
fail:
	*r = save;
	return e;
}

int rlp_decode_one(const uint8_t *buf, size_t len, struct rlp_item *out)
{
	struct breader r;
	struct rlp_item it;
	int e;

	br_init(&r, buf, len);
	if ((e = rlp_item_decode(&r, &it)) != 0)
		return e;
	if (br_left(&r) != 0)
		return ERR_FORMAT;
	*out = it;
	return 0;
}

int rlp_item_u64(const struct rlp_item *it, uint64_t *out)
{
	uint64_t v = 0;

	if (it->is_list || (it->len && it->p[0] == 0))
		return ERR_FORMAT;
	if (it->len > 8)
		return ERR_RANGE;
	for (size_t i = 0; i < it->len; i++)
		v = v << 8 | it->p[i];
	*out = v;
	return 0;
}

int rlp_item_u256(const struct rlp_item *it, struct u256 *out)
{
	if (it->is_list || (it->len && it->p[0] == 0))
		return ERR_FORMAT;
	if (it->len > 32)
		return ERR_RANGE;
	return u256_from_be(out, it->p, it->len);
}

int rlp_list_count(const struct rlp_item *list, size_t *count)
{
	struct breader r;
	struct rlp_item it;
	size_t n = 0;
	int e;

	if (!list->is_list)
		return ERR_FORMAT;
	br_init(&r, list->p, list->len);
	while (br_left(&r)) {
		if ((e = rlp_item_decode(&r, &it)) != 0)
			return e == ERR_TRUNCATED ? ERR_FORMAT : e;
		n++;
	}
	*count = n;
	return 0;
}

static int depth_of(const struct rlp_item *it, unsigned level, unsigned *out)
{
	struct breader r;
	struct rlp_item sub;
	unsigned best = 0, d;
	int e;

	if (!it->is_list) {
		*out = 0;
		return 0;
	}
	if (level >= RLP_MAX_DEPTH)
		return ERR_TOO_BIG;
	br_init(&r, it->p, it->len);
	while (br_left(&r)) {
		if ((e = rlp_item_decode(&r, &sub)) != 0)
			return e == ERR_TRUNCATED ? ERR_FORMAT : e;
		if ((e = depth_of(&sub, level + 1, &d)) != 0)
			return e;
		if (d > best)
			best = d;
	}
	*out = best + 1;
	return 0;
}

int rlp_item_depth(const struct rlp_item *it, unsigned *depth)
{
	return depth_of(it, 0, depth);
}
