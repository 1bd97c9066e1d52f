/*
 * SSU2 payload blocks (router/ssu2_block.h; geti2p.net/spec/ssu2 "Noise
 * Payload" and "Block Specifications"): the block splitter with the
 * ordering rules, per-type decoders and encoders, ACK ranges over a
 * received-packet bitmap, and I2NP fragment reassembly.
 */
#include "config.h"
#include "router/ssu2_block.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"
#include "router/gzip.h"

#include <stdlib.h>
#include <string.h>

/* ---- payloads ---- */

/* The allowed size field of each block type we know. */
static int block_len_ok(uint8_t type, size_t len)
{
	switch (type) {
	case SSU2_BLK_DATETIME:
		return len == SSU2_DATETIME_BYTES;
	case SSU2_BLK_OPTIONS:
		return len >= SSU2_OPTIONS_MIN_BYTES;
	case SSU2_BLK_ROUTERINFO:
		return len >= 2 && len <= 2 + SSU2_RI_MAX_BYTES;
	case SSU2_BLK_I2NP:
		return len >= SSU2_I2NP_HDR_BYTES;
	case SSU2_BLK_FIRST_FRAG:
		return len > SSU2_I2NP_HDR_BYTES;
	case SSU2_BLK_FOLLOW_FRAG:
		return len > SSU2_FOLLOW_HDR_BYTES;
	case SSU2_BLK_TERMINATION:
		return len >= SSU2_TERMINATION_MIN_BYTES;
	case SSU2_BLK_ACK:
		return len >= SSU2_ACK_MIN_BYTES;
	case SSU2_BLK_ADDRESS:
		return len == SSU2_ADDRESS_V4_BYTES ||
		       len == SSU2_ADDRESS_V6_BYTES;
	case SSU2_BLK_RELAY_TAG:
		return len == SSU2_RELAY_TAG_BYTES;
	case SSU2_BLK_NEW_TOKEN:
		return len == SSU2_NEW_TOKEN_BYTES;
	case SSU2_BLK_FIRST_PKT_NUM:
		return len == SSU2_FIRST_PKT_NUM_BYTES;
	default:
		return 1;	/* unknown or variable: the handler checks */
	}
}

int ssu2_payload_decode(const uint8_t *p, size_t len, bool ri_first,
			struct ssu2_payload *out)
{
	struct breader r;
	bool padding = false, term = false;

	out->n = 0;
	if (len > SSU2_MAX_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	br_init(&r, p, len);
	while (br_left(&r) > 0) {
		struct ssu2_block b;

		b.type = br_u8(&r);
		b.len = br_be16(&r);
		b.data = br_take(&r, b.len);
		if (r.failed)
			return ERR_TRUNCATED;
		if (!block_len_ok(b.type, b.len))
			return ERR_RANGE;
		/* "Padding, if present, must be the last block." */
		if (padding)
			return ERR_FORMAT;
		/* "Termination ... must be the last block except for
		 * Padding." */
		if (term && b.type != SSU2_BLK_PADDING)
			return ERR_FORMAT;
		if (ri_first && out->n == 0 && b.type != SSU2_BLK_ROUTERINFO)
			return ERR_FORMAT;
		if (out->n == SSU2_MAX_BLOCKS)
			return ERR_TOO_BIG;
		padding = b.type == SSU2_BLK_PADDING;
		term = term || b.type == SSU2_BLK_TERMINATION;
		out->b[out->n++] = b;
	}
	if (ri_first && out->n == 0)
		return ERR_FORMAT;
	return 0;
}

/* ---- encoders ---- */

void ssu2_blk_put(struct bbuf *b, uint8_t type, const void *data, size_t len)
{
	bbuf_u8(b, type);
	bbuf_be16(b, (uint16_t)len);
	if (len)
		bbuf_put(b, data, len);
}

void ssu2_blk_put_datetime(struct bbuf *b, uint32_t now_s)
{
	uint8_t d[4];

	be32_put(d, now_s);
	ssu2_blk_put(b, SSU2_BLK_DATETIME, d, sizeof(d));
}

void ssu2_blk_put_address(struct bbuf *b, const uint8_t *ip, size_t iplen,
			  uint16_t port)
{
	bbuf_u8(b, SSU2_BLK_ADDRESS);
	bbuf_be16(b, (uint16_t)(2 + iplen));
	bbuf_be16(b, port);
	bbuf_put(b, ip, iplen);
}

void ssu2_blk_put_termination(struct bbuf *b, uint64_t rcvd, uint8_t reason)
{
	bbuf_u8(b, SSU2_BLK_TERMINATION);
	bbuf_be16(b, 9);
	bbuf_be64(b, rcvd);
	bbuf_u8(b, reason);
}

void ssu2_blk_put_new_token(struct bbuf *b, uint32_t expires_s,
			    uint64_t token)
{
	bbuf_u8(b, SSU2_BLK_NEW_TOKEN);
	bbuf_be16(b, SSU2_NEW_TOKEN_BYTES);
	bbuf_be32(b, expires_s);
	bbuf_be64(b, token);
}

void ssu2_blk_put_relay_tag(struct bbuf *b, uint32_t tag)
{
	bbuf_u8(b, SSU2_BLK_RELAY_TAG);
	bbuf_be16(b, 4);
	bbuf_be32(b, tag);
}

void ssu2_blk_put_ri(struct bbuf *b, uint8_t flags, const uint8_t *ri,
		     size_t len)
{
	bbuf_u8(b, SSU2_BLK_ROUTERINFO);
	bbuf_be16(b, (uint16_t)(2 + len));
	bbuf_u8(b, flags);
	bbuf_u8(b, SSU2_RI_FRAG_ONLY);
	bbuf_put(b, ri, len);
}

/* "type ‖ msg id ‖ short exp" */
/* A block of type t carrying n bytes of m's body from off, after the
 * block header and h bytes of fragment header (returned to be filled):
 * one reservation, not one per field (a bulk sender writes two or three
 * such blocks a packet). */
static uint8_t *put_msg_block(struct bbuf *b, uint8_t t,
			      const struct i2np_msg *m, size_t h, size_t off,
			      size_t n)
{
	uint8_t *p = bbuf_extend(b, SSU2_BLOCK_HEADER_BYTES + h + n);

	p[0] = t;
	be16_put(p + 1, (uint16_t)(h + n));
	p += SSU2_BLOCK_HEADER_BYTES;
	if (n)
		memcpy(p + h, m->payload + off, n);
	return p;
}

/* The I2NP short header of m at p (I2NP and First Fragment blocks). */
static void put_i2np_hdr(uint8_t *p, const struct i2np_msg *m)
{
	p[0] = m->type;
	be32_put(p + 1, m->msg_id);
	be32_put(p + 5, (uint32_t)(m->expiration_ms / 1000));
}

void ssu2_blk_put_i2np(struct bbuf *b, const struct i2np_msg *m)
{
	put_i2np_hdr(put_msg_block(b, SSU2_BLK_I2NP, m, SSU2_I2NP_HDR_BYTES,
				   0, m->len), m);
}

void ssu2_blk_put_first_frag(struct bbuf *b, const struct i2np_msg *m,
			     size_t n)
{
	put_i2np_hdr(put_msg_block(b, SSU2_BLK_FIRST_FRAG, m,
				   SSU2_I2NP_HDR_BYTES, 0, n), m);
}

void ssu2_blk_put_follow_frag(struct bbuf *b, const struct i2np_msg *m,
			      unsigned frag, bool last, size_t off, size_t n)
{
	uint8_t *p = put_msg_block(b, SSU2_BLK_FOLLOW_FRAG, m,
				   SSU2_FOLLOW_HDR_BYTES, off, n);

	/* "bits 7-1: fragment number; bit 0: isLast" */
	p[0] = (uint8_t)(frag << 1 | (last ? 1 : 0));
	be32_put(p + 1, m->msg_id);
}

bool ssu2_frag_plan(size_t len, size_t avail, size_t room,
		    struct ssu2_frag_plan *out)
{
	const size_t first_hdr = SSU2_BLOCK_HEADER_BYTES + SSU2_I2NP_HDR_BYTES;
	const size_t follow_hdr = SSU2_BLOCK_HEADER_BYTES +
				  SSU2_FOLLOW_HDR_BYTES;
	size_t rest, more;

	memset(out, 0, sizeof(*out));
	if (avail > room)
		avail = room;
	if (len <= SIZE_MAX - first_hdr && len + first_hdr <= avail) {
		out->nfrags = 1;
		out->frag0 = len;
		return true;
	}
	if (avail < first_hdr + SSU2_SPLIT_MIN_BYTES || room <= follow_hdr)
		return false;
	out->frag0 = avail - first_hdr;
	out->fragn = room - follow_hdr;
	rest = len - out->frag0;	/* > 0: not whole in avail */
	more = rest / out->fragn + (rest % out->fragn != 0);
	if (more > SSU2_MAX_FRAGS - 1) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	out->nfrags = 1 + (unsigned)more;
	return true;
}

size_t ssu2_frag_len(const struct ssu2_frag_plan *p, size_t len, unsigned f,
		     size_t *off)
{
	size_t o;

	if (f == 0) {
		*off = 0;
		return p->nfrags == 1 ? len : p->frag0;
	}
	o = p->frag0 + (size_t)(f - 1) * p->fragn;
	*off = o;
	return len - o < p->fragn ? len - o : p->fragn;
}

size_t ssu2_frag_wire(const struct ssu2_frag_plan *p, size_t len, unsigned f)
{
	size_t off, l = ssu2_frag_len(p, len, f, &off);

	return SSU2_BLOCK_HEADER_BYTES + l +
	       (f == 0 ? SSU2_I2NP_HDR_BYTES : SSU2_FOLLOW_HDR_BYTES);
}

void ssu2_blk_put_frag(struct bbuf *b, const struct i2np_msg *m,
		       const struct ssu2_frag_plan *p, unsigned f)
{
	size_t off, l = ssu2_frag_len(p, m->len, f, &off);

	if (p->nfrags == 1)
		ssu2_blk_put_i2np(b, m);
	else if (f == 0)
		ssu2_blk_put_first_frag(b, m, l);
	else
		ssu2_blk_put_follow_frag(b, m, f, f == p->nfrags - 1, off, l);
}

void ssu2_blk_put_padding(struct bbuf *b, size_t n)
{
	bbuf_u8(b, SSU2_BLK_PADDING);
	bbuf_be16(b, (uint16_t)n);
	if (n)
		rand_bytes(bbuf_extend(b, n), n);
}

/* ---- decoders ---- */

int ssu2_address_decode(const struct ssu2_block *blk, struct ssu2_address *out)
{
	if (blk->type != SSU2_BLK_ADDRESS ||
	    (blk->len != SSU2_ADDRESS_V4_BYTES &&
	     blk->len != SSU2_ADDRESS_V6_BYTES))
		return ERR_FORMAT;
	memset(out, 0, sizeof(*out));
	out->port = be16_get(blk->data);
	out->iplen = blk->len - 2;
	memcpy(out->ip, blk->data + 2, out->iplen);
	return 0;
}

int ssu2_termination_decode(const struct ssu2_block *blk,
			    struct ssu2_termination *out)
{
	if (blk->type != SSU2_BLK_TERMINATION ||
	    blk->len < SSU2_TERMINATION_MIN_BYTES)
		return ERR_FORMAT;
	out->rcvd = be64_get(blk->data);
	out->reason = blk->data[8];
	return 0;
}

int ssu2_datetime_decode(const struct ssu2_block *blk, uint32_t *out)
{
	if (blk->type != SSU2_BLK_DATETIME || blk->len != SSU2_DATETIME_BYTES)
		return ERR_FORMAT;
	*out = be32_get(blk->data);
	return 0;
}

int ssu2_new_token_decode(const struct ssu2_block *blk, uint32_t *expires_s,
			  uint64_t *token)
{
	if (blk->type != SSU2_BLK_NEW_TOKEN || blk->len != SSU2_NEW_TOKEN_BYTES)
		return ERR_FORMAT;
	*expires_s = be32_get(blk->data);
	*token = be64_get(blk->data + 4);
	return 0;
}

int ssu2_relay_tag_decode(const struct ssu2_block *blk, uint32_t *tag)
{
	uint32_t v;

	if (blk->type != SSU2_BLK_RELAY_TAG || blk->len != SSU2_RELAY_TAG_BYTES)
		return ERR_FORMAT;
	v = be32_get(blk->data);
	if (v == 0)
		return ERR_FORMAT;
	*tag = v;
	return 0;
}

int ssu2_ri_block_decode(const struct ssu2_block *blk,
			 struct ssu2_ri_block *out)
{
	if (blk->type != SSU2_BLK_ROUTERINFO || blk->len < 2)
		return ERR_FORMAT;
	if (blk->len - 2 > SSU2_RI_MAX_BYTES)
		return ERR_TOO_BIG;
	/* "The frag byte must be set to fragment 0, total fragments 1." */
	if (blk->data[1] != SSU2_RI_FRAG_ONLY)
		return ERR_UNSUPPORTED;
	out->flags = blk->data[0];
	out->data = blk->data + 2;
	out->len = blk->len - 2;
	if (out->len == 0)
		return ERR_FORMAT;
	return 0;
}

int ssu2_ri_block_extract(const struct ssu2_ri_block *rb, uint8_t *out,
			  size_t outmax, size_t *len)
{
	if (rb->flags & SSU2_RI_FLAG_GZIP)
		return gzip_decompress(rb->data, rb->len, out, outmax, len);
	if (rb->len > outmax)
		return ERR_TOO_BIG;
	memcpy(out, rb->data, rb->len);
	*len = rb->len;
	return 0;
}

int ssu2_i2np_part_decode(const struct ssu2_block *blk,
			  struct ssu2_i2np_part *out)
{
	struct breader r;

	memset(out, 0, sizeof(*out));
	br_init(&r, blk->data, blk->len);
	switch (blk->type) {
	case SSU2_BLK_I2NP:
	case SSU2_BLK_FIRST_FRAG:
		out->type = br_u8(&r);
		out->msg_id = br_be32(&r);
		out->exp_s = br_be32(&r);
		out->frag = 0;
		out->last = blk->type == SSU2_BLK_I2NP;
		break;
	case SSU2_BLK_FOLLOW_FRAG: {
		uint8_t f = br_u8(&r);

		out->frag = f >> 1;
		out->last = f & 1;
		out->msg_id = br_be32(&r);
		/* "fragment number 1 - 127 (0 not allowed)" */
		if (!r.failed && (out->frag == 0 ||
				  out->frag >= SSU2_MAX_FRAGS))
			return ERR_FORMAT;
		break;
	}
	default:
		return ERR_ARG;
	}
	if (r.failed)
		return ERR_TRUNCATED;
	out->len = br_left(&r);
	out->data = br_take(&r, out->len);
	/* "Partial message length must be greater than zero." */
	if (blk->type != SSU2_BLK_I2NP && out->len == 0)
		return ERR_FORMAT;
	return 0;
}

/* ---- ACKs ---- */

int ssu2_ack_decode(const struct ssu2_block *blk, struct ssu2_ack *out)
{
	size_t n;

	if (blk->type != SSU2_BLK_ACK || blk->len < SSU2_ACK_MIN_BYTES)
		return ERR_FORMAT;
	n = blk->len - SSU2_ACK_MIN_BYTES;
	if (n % 2)
		return ERR_FORMAT;
	if (n / 2 > SSU2_ACK_MAX_RANGES)
		return ERR_TOO_BIG;
	out->through = be32_get(blk->data);
	out->acnt = blk->data[4];
	out->nranges = n / 2;
	if (n)
		memcpy(out->ranges, blk->data + SSU2_ACK_MIN_BYTES, n);
	return 0;
}

void ssu2_ack_foreach_from(const struct ssu2_ack *a, uint32_t lo,
			   void (*fn)(void *arg, uint32_t pn), void *arg)
{
	int64_t pn = a->through, low = lo;

	/* Ranges below packet 0 are clamped (a sloppy peer, not an attack:
	 * they name nothing we sent). */
	for (unsigned i = 0; i <= a->acnt && pn >= low; i++, pn--)
		fn(arg, (uint32_t)pn);
	for (size_t r = 0; r < a->nranges && pn >= low; r++) {
		pn -= a->ranges[2 * r];			/* nacked */
		for (unsigned i = 0; i < a->ranges[2 * r + 1] && pn >= low;
		     i++, pn--)
			fn(arg, (uint32_t)pn);
	}
}

void ssu2_ack_foreach(const struct ssu2_ack *a,
		      void (*fn)(void *arg, uint32_t pn), void *arg)
{
	ssu2_ack_foreach_from(a, 0, fn, arg);
}

bool ssu2_ack_has(const struct ssu2_ack *a, uint32_t pn)
{
	int64_t x = pn, cur = (int64_t)a->through - a->acnt;

	if (x > a->through)
		return false;
	if (x >= cur)
		return true;
	cur--;				/* the first packet below the run */
	for (size_t r = 0; r < a->nranges && cur >= 0; r++) {
		int64_t hi = cur - a->ranges[2 * r];
		int64_t lo = hi - a->ranges[2 * r + 1] + 1;

		if (x <= hi && x >= lo)
			return true;
		cur = lo - 1;
	}
	return false;
}

/* ---- the received-packet window ---- */

#define RXWIN_WORDS (SSU2_RXWIN_BITS / 64)

void ssu2_rxwin_init(struct ssu2_rxwin *w)
{
	memset(w, 0, sizeof(*w));
}

static bool rx_bit(const struct ssu2_rxwin *w, uint32_t i)
{
	return (w->bits[i / 64] >> (i % 64)) & 1;
}

static void rx_shift(struct ssu2_rxwin *w, uint32_t s)
{
	unsigned ws = s / 64, bs = s % 64;

	if (s >= SSU2_RXWIN_BITS) {
		memset(w->bits, 0, sizeof(w->bits));
		return;
	}
	for (int j = RXWIN_WORDS - 1; j >= 0; j--) {
		int src = j - (int)ws;
		uint64_t v = 0;

		if (src >= 0) {
			v = w->bits[src] << bs;
			if (bs && src >= 1)
				v |= w->bits[src - 1] >> (64 - bs);
		}
		w->bits[j] = v;
	}
}

int ssu2_rxwin_add(struct ssu2_rxwin *w, uint32_t pn)
{
	uint32_t d;

	if (!w->any || pn > w->highest) {
		if (w->any)
			rx_shift(w, pn - w->highest);
		else
			memset(w->bits, 0, sizeof(w->bits));
		w->any = true;
		w->highest = pn;
		w->bits[0] |= 1;
		return 0;
	}
	d = w->highest - pn;
	if (d >= SSU2_RXWIN_BITS)
		return ERR_RANGE;
	if (rx_bit(w, d))
		return ERR_DUPLICATE;
	w->bits[d / 64] |= (uint64_t)1 << (d % 64);
	return 0;
}

bool ssu2_rxwin_has(const struct ssu2_rxwin *w, uint32_t pn)
{
	uint32_t d;

	if (!w->any || pn > w->highest)
		return false;
	d = w->highest - pn;
	return d >= SSU2_RXWIN_BITS || rx_bit(w, d);
}

/* Length of the run of bits equal to val from index i, capped at 255 and
 * at limit (the window, or packet 0); a word at a time. */
static unsigned rx_run(const struct ssu2_rxwin *w, uint32_t i, bool val,
		       uint32_t limit)
{
	uint32_t n = 0;

	while (n < 255 && i + n < limit) {
		uint32_t pos = i + n, off = pos % 64, avail = 64 - off;
		uint64_t x = w->bits[pos / 64] >> off;
		uint32_t run;

		if (!val)
			x = ~x;
		if (avail < 64)
			x &= ((uint64_t)1 << avail) - 1;
		/* trailing ones of x */
		run = ~x == 0 ? 64 : (uint32_t)__builtin_ctzll(~x);
		if (run > avail)
			run = avail;
		n += run;
		if (run < avail)
			break;
	}
	if (n > 255)
		n = 255;
	if (i + n > limit)
		n = limit - i;
	return n;
}

size_t ssu2_rxwin_put_ack(const struct ssu2_rxwin *w, struct bbuf *b,
			  size_t max)
{
	uint8_t ranges[2 * SSU2_ACK_SEND_MAX_RANGES];
	size_t nr = 0, room, start = b->len;
	uint32_t limit, i;
	unsigned acnt;

	if (!w->any || max < SSU2_BLOCK_HEADER_BYTES + SSU2_ACK_MIN_BYTES)
		return 0;
	/* Bits exist for packets highest .. max(0, highest - BITS + 1). */
	limit = w->highest + 1 < SSU2_RXWIN_BITS ? w->highest + 1
						  : SSU2_RXWIN_BITS;
	acnt = rx_run(w, 1, true, limit);
	i = 1 + acnt;
	room = (max - SSU2_BLOCK_HEADER_BYTES - SSU2_ACK_MIN_BYTES) / 2;
	if (room > SSU2_ACK_SEND_MAX_RANGES)
		room = SSU2_ACK_SEND_MAX_RANGES;
	while (nr < room && i < limit) {
		unsigned nack = rx_run(w, i, false, limit);
		unsigned ack = rx_run(w, i + nack, true, limit);

		/* Trailing nacks down to the window's end say nothing. */
		if (ack == 0 && i + nack >= limit)
			break;
		ranges[2 * nr] = (uint8_t)nack;
		ranges[2 * nr + 1] = (uint8_t)ack;
		nr++;
		i += nack + ack;
	}
	bbuf_u8(b, SSU2_BLK_ACK);
	bbuf_be16(b, (uint16_t)(SSU2_ACK_MIN_BYTES + 2 * nr));
	bbuf_be32(b, w->highest);
	bbuf_u8(b, (uint8_t)acnt);
	if (nr)
		bbuf_put(b, ranges, 2 * nr);
	return b->len - start;
}

/* ---- reassembly ---- */

struct partial {
	bool used;
	uint32_t msg_id;
	uint8_t type;
	uint32_t exp_s;
	bool have_first;
	int last;		/* index of the last fragment, -1 unknown */
	int highest;		/* highest fragment index held */
	uint8_t *data[SSU2_MAX_FRAGS];
	uint16_t len[SSU2_MAX_FRAGS];
	size_t total;
	uint64_t created_ms;
	uint64_t seq;		/* order begun (many begin in one ms) */
};

/* The message ids of the slots in use beside a bit mask of them, so a
 * fragment's lookup reads one or two cache lines, not every slot. */
_Static_assert(SSU2_REASM_MAX_MSGS <= 64, "one bit a slot");
struct ssu2_reasm {
	struct partial p[SSU2_REASM_MAX_MSGS];
	uint32_t ids[SSU2_REASM_MAX_MSGS];
	uint64_t used;			/* bit i: p[i] in use */
	size_t count;
	size_t bytes;			/* fragment bytes held */
	uint64_t seq;				/* partial messages begun */
	uint32_t done[SSU2_REASM_DONE_IDS];	/* ring of completed ids */
	unsigned done_n;			/* completed so far */
};

struct ssu2_reasm *ssu2_reasm_new(void)
{
	return xzalloc(sizeof(struct ssu2_reasm));
}

static void partial_drop(struct ssu2_reasm *r, struct partial *p)
{
	/* no fragment above the highest held */
	for (int i = 0; i <= p->highest; i++)
		if (p->data[i]) {
			xfree_wipe(p->data[i], p->len[i]);
			p->data[i] = NULL;
		}
	r->bytes -= p->total;
	p->used = false;
	p->total = 0;
	p->have_first = false;
	r->used &= ~((uint64_t)1 << (p - r->p));
	r->count--;
}

static struct partial *partial_oldest(struct ssu2_reasm *r)
{
	struct partial *oldest = NULL;

	for (uint64_t m = r->used; m; m &= m - 1) {
		struct partial *p = &r->p[__builtin_ctzll(m)];

		if (!oldest || p->seq < oldest->seq)
			oldest = p;
	}
	return oldest;
}

void ssu2_reasm_free(struct ssu2_reasm *r)
{
	if (!r)
		return;
	while (r->used)
		partial_drop(r, &r->p[__builtin_ctzll(r->used)]);
	free(r);
}

static struct partial *partial_get(struct ssu2_reasm *r, uint32_t msg_id,
				   uint64_t now_ms)
{
	struct partial *free_slot, *oldest;

	for (uint64_t m = r->used; m; m &= m - 1) {
		int i = __builtin_ctzll(m);

		if (r->ids[i] == msg_id)
			return &r->p[i];
	}
	if (~r->used) {
		free_slot = &r->p[__builtin_ctzll(~r->used)];
	} else {
		/* Full: the oldest partial message makes room. */
		oldest = partial_oldest(r);
		partial_drop(r, oldest);
		free_slot = oldest;
	}
	r->used |= (uint64_t)1 << (free_slot - r->p);
	r->ids[free_slot - r->p] = msg_id;
	free_slot->used = true;
	free_slot->msg_id = msg_id;
	free_slot->last = -1;
	free_slot->highest = -1;
	free_slot->created_ms = now_ms;
	free_slot->seq = r->seq++;
	r->count++;
	return free_slot;
}

/* The whole message: the parts held, with the one that completed it
 * (fragment last_f, not held) copied straight from the packet. */
static struct i2np_msg *partial_finish(struct ssu2_reasm *r,
				       struct partial *p,
				       const struct ssu2_i2np_part *last_part)
{
	size_t total = p->total + last_part->len;
	struct i2np_msg *m = i2np_msg_make(p->type, total);
	size_t off = 0;

	for (int i = 0; i <= p->last; i++) {
		const uint8_t *d = i == (int)last_part->frag ? last_part->data
							      : p->data[i];
		size_t l = i == (int)last_part->frag ? last_part->len
						     : p->len[i];

		memcpy(m->payload + off, d, l);
		off += l;
	}
	m->msg_id = p->msg_id;
	m->expiration_ms = (uint64_t)p->exp_s * 1000;
	partial_drop(r, p);
	r->done[r->done_n++ % SSU2_REASM_DONE_IDS] = m->msg_id;
	return m;
}

static bool recently_done(const struct ssu2_reasm *r, uint32_t msg_id)
{
	unsigned n = r->done_n < SSU2_REASM_DONE_IDS ? r->done_n
						     : SSU2_REASM_DONE_IDS;

	for (unsigned i = 0; i < n; i++)
		if (r->done[i] == msg_id)
			return true;
	return false;
}

int ssu2_reasm_add(struct ssu2_reasm *r, const struct ssu2_i2np_part *part,
		   uint64_t now_ms, struct i2np_msg **done)
{
	struct partial *p;
	unsigned f = part->frag;

	*done = NULL;
	if (f >= SSU2_MAX_FRAGS || part->len == 0 ||
	    part->len > SSU2_MAX_PAYLOAD_BYTES)
		return ERR_FORMAT;
	if (recently_done(r, part->msg_id))
		return 0;		/* sent again after it was whole */
	p = partial_get(r, part->msg_id, now_ms);
	if (p->data[f])
		return 0;		/* a retransmitted fragment */
	if (part->last) {
		if ((p->last >= 0 && p->last != (int)f) ||
		    p->highest > (int)f)
			goto bad;
		p->last = (int)f;
	} else if (p->last >= 0 && (int)f >= p->last) {
		goto bad;
	}
	if (p->total + part->len > I2NP_MAX_PAYLOAD_BYTES) {
		partial_drop(r, p);
		return ERR_TOO_BIG;
	}
	if (f == 0) {
		p->have_first = true;
		p->type = part->type;
		p->exp_s = part->exp_s;
	}
	if ((int)f > p->highest)
		p->highest = (int)f;
	if (p->have_first && p->last >= 0) {
		int i;

		for (i = 0; i <= p->last; i++)
			if (!p->data[i] && i != (int)f)
				break;
		if (i > p->last) {
			/* this part completes it: no copy of it kept */
			*done = partial_finish(r, p, part);
			return 0;
		}
	}
	p->data[f] = xmemdup(part->data, part->len);
	p->len[f] = (uint16_t)part->len;
	p->total += part->len;
	r->bytes += part->len;
	return 0;
bad:
	partial_drop(r, p);
	return ERR_FORMAT;
}

size_t ssu2_reasm_expire(struct ssu2_reasm *r, uint64_t now_ms,
			 uint64_t timeout_ms)
{
	size_t n = 0;

	for (uint64_t m = r->used; m; m &= m - 1) {
		struct partial *p = &r->p[__builtin_ctzll(m)];

		if (now_ms - p->created_ms > timeout_ms) {
			partial_drop(r, p);
			n++;
		}
	}
	return n;
}

size_t ssu2_reasm_count(const struct ssu2_reasm *r)
{
	return r->count;
}

size_t ssu2_reasm_bytes(const struct ssu2_reasm *r)
{
	return r->bytes;
}

uint64_t ssu2_reasm_oldest_ms(const struct ssu2_reasm *r)
{
	struct partial *p = partial_oldest((struct ssu2_reasm *)r);

	return p ? p->created_ms : UINT64_MAX;
}

bool ssu2_reasm_drop_oldest(struct ssu2_reasm *r)
{
	struct partial *p = partial_oldest(r);

	if (p)
		partial_drop(r, p);
	return p != NULL;
}
