/*
 * Length-prefixed frames over a stream (apps/market/link.h).
 */
#include "config.h"

#include <sodium.h>
#include <string.h>

#include "apps/client/stream.h"
#include "apps/market/link.h"
#include "crypto/base/err.h"

void market_link_init(struct market_link *l, struct stream *s, size_t in_max)
{
	memset(l, 0, sizeof(*l));
	l->s = s;
	l->in_max = in_max;
	bbuf_init(&l->in);
	bbuf_init(&l->out);
}

static void wipe_free(struct bbuf *b)
{
	if (b->data)
		sodium_memzero(b->data, b->cap);
	bbuf_free(b);
}

void market_link_clear(struct market_link *l)
{
	wipe_free(&l->in);
	wipe_free(&l->out);
	l->out_off = 0;
	l->s = NULL;
}

size_t market_link_pending(const struct market_link *l)
{
	return l->out.len - l->out_off;
}

void market_link_flush(struct market_link *l)
{
	while (l->s && l->out_off < l->out.len) {
		size_t n = stream_write(l->s, l->out.data + l->out_off,
					l->out.len - l->out_off);
		if (n == 0)
			break;
		l->out_off += n;
	}
	if (l->out_off == l->out.len) {
		sodium_memzero(l->out.data, l->out.len);
		bbuf_reset(&l->out);
		l->out_off = 0;
	}
}

void market_link_send(struct market_link *l, const void *p, size_t len)
{
	bbuf_be32(&l->out, (uint32_t)len);
	bbuf_put(&l->out, p, len);
	market_link_flush(l);
}

/* Read up to `want` bytes in total into l->in; true once they are in. */
static bool fill_to(struct market_link *l, size_t want)
{
	while (l->in.len < want) {
		size_t n = want - l->in.len;
		uint8_t *dst = bbuf_extend(&l->in, n);
		size_t got = stream_read(l->s, dst, n);

		l->in.len -= n - got;
		if (got == 0)
			return false;
	}
	return true;
}

int market_link_next(struct market_link *l, const uint8_t **p, size_t *len)
{
	uint32_t flen;

	if (!l->s || !fill_to(l, MARKET_FRAME_HDR_BYTES))
		return 0;
	flen = be32_get(l->in.data);
	if (flen > l->in_max)
		return ERR_TOO_BIG;
	if (!fill_to(l, MARKET_FRAME_HDR_BYTES + (size_t)flen))
		return 0;
	*p = l->in.data + MARKET_FRAME_HDR_BYTES;
	*len = flen;
	return 1;
}

void market_link_pop(struct market_link *l)
{
	sodium_memzero(l->in.data, l->in.len);
	bbuf_reset(&l->in);
}
