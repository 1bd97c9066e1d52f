/*
 * The gateway's packer (tunnels/gateway.h), after
 * geti2p.net/spec/tunnel-message ("Ordering, Batching, Packing": "The
 * tunnel gateway ... is free to implement any batching, mixing, or
 * reordering strategy").
 */
#include "config.h"
#include "tunnels/gateway.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

struct tunnel_gateway {
	uint8_t cur[TUNNEL_MAX_PAYLOAD_BYTES];
	size_t cur_len;
	bool open;		/* cur is a tunnel message being filled */
	uint8_t *q;		/* finished messages, TUNNEL_MSG_BYTES each */
	size_t q_head, q_len, q_cap;	/* in messages; [q_head, q_len) used */
};

struct tunnel_gateway *tunnel_gateway_new(void)
{
	return xzalloc(sizeof(struct tunnel_gateway));
}

void tunnel_gateway_free(struct tunnel_gateway *g)
{
	if (!g)
		return;
	xfree_wipe(g->q, g->q_cap * TUNNEL_MSG_BYTES);
	xfree_wipe(g, sizeof(*g));
}

static uint8_t *queue_slot(struct tunnel_gateway *g)
{
	if (g->q_len == g->q_cap) {
		if (g->q_head > 0) {
			memmove(g->q, g->q + g->q_head * TUNNEL_MSG_BYTES,
				(g->q_len - g->q_head) * TUNNEL_MSG_BYTES);
			g->q_len -= g->q_head;
			g->q_head = 0;
		} else {
			g->q_cap = g->q_cap ? 2 * g->q_cap : 8;
			g->q = xrealloc(g->q, g->q_cap * TUNNEL_MSG_BYTES);
		}
	}
	return g->q + g->q_len++ * TUNNEL_MSG_BYTES;
}

static void close_cur(struct tunnel_gateway *g)
{
	if (!g->open)
		return;
	tunnel_msg_finish(queue_slot(g), g->cur, g->cur_len);
	memset(g->cur, 0, g->cur_len);
	g->cur_len = 0;
	g->open = false;
}

static size_t room(const struct tunnel_gateway *g)
{
	return g->open ? TUNNEL_MAX_PAYLOAD_BYTES - g->cur_len
		       : TUNNEL_MAX_PAYLOAD_BYTES;
}

static void append(struct tunnel_gateway *g, const struct tunnel_di *di,
		   const uint8_t *frag)
{
	g->open = true;
	g->cur_len += tunnel_di_encode(di, g->cur + g->cur_len);
	memcpy(g->cur + g->cur_len, frag, di->size);
	g->cur_len += di->size;
}

void tunnel_gateway_flush(struct tunnel_gateway *g)
{
	close_cur(g);
}

/* A message too big for one tunnel message: first fragment, then
 * follow-ons each opening a fresh tunnel message. */
static int put_fragmented(struct tunnel_gateway *g, struct tunnel_di *di,
			  const uint8_t *msg, size_t len)
{
	size_t fh, first, done, follow;
	unsigned num = 1;

	di->fragmented = true;
	di->msg_id = be32_get(msg + 1);	/* the I2NP header's message id */
	fh = tunnel_di_len(di);
	if (room(g) < fh + TUNNEL_GATEWAY_MIN_FIRST_BYTES)
		close_cur(g);
	first = room(g) - fh;
	if (first > TUNNEL_FIRST_FRAG_MAX_BYTES)
		first = TUNNEL_FIRST_FRAG_MAX_BYTES;
	follow = (len - first + TUNNEL_FOLLOW_FRAG_MAX_BYTES - 1) /
		 TUNNEL_FOLLOW_FRAG_MAX_BYTES;
	if (1 + follow > TUNNEL_MAX_FRAGMENTS)
		return ERR_TOO_BIG;
	di->size = (uint16_t)first;
	append(g, di, msg);
	close_cur(g);
	for (done = first; done < len; num++) {
		struct tunnel_di f = { .follow_on = true, .msg_id = di->msg_id,
				       .frag_num = num };
		size_t n = len - done;

		if (n > TUNNEL_FOLLOW_FRAG_MAX_BYTES)
			n = TUNNEL_FOLLOW_FRAG_MAX_BYTES;
		f.size = (uint16_t)n;
		f.last = done + n == len;
		append(g, &f, msg + done);
		done += n;
		if (!f.last)
			close_cur(g);
	}
	return 0;
}

int tunnel_gateway_put(struct tunnel_gateway *g, enum tunnel_delivery type,
		       uint32_t tunnel_id, const uint8_t *hash,
		       const uint8_t *msg, size_t len)
{
	struct tunnel_di di = { .type = type, .tunnel_id = tunnel_id };
	size_t whole;

	if (len < 16)
		return ERR_ARG;
	if (len > TUNNEL_MAX_I2NP_BYTES)
		return ERR_TOO_BIG;
	if (type != TUNNEL_DELIVER_LOCAL) {
		if (!hash)
			return ERR_ARG;
		memcpy(di.hash, hash, 32);
	}
	whole = tunnel_di_len(&di) + len;
	if (whole <= TUNNEL_MAX_PAYLOAD_BYTES) {
		if (whole > room(g))
			close_cur(g);
		di.size = (uint16_t)len;
		append(g, &di, msg);
		if (room(g) == 0)
			close_cur(g);
		return 0;
	}
	return put_fragmented(g, &di, msg, len);
}

size_t tunnel_gateway_queue_bytes(const struct tunnel_gateway *g)
{
	return g->q_cap * TUNNEL_MSG_BYTES;
}

size_t tunnel_gateway_pending(const struct tunnel_gateway *g)
{
	return g->q_len - g->q_head;
}

bool tunnel_gateway_pop(struct tunnel_gateway *g, uint8_t *out)
{
	uint8_t *src;

	if (g->q_head == g->q_len)
		return false;
	src = g->q + g->q_head++ * TUNNEL_MSG_BYTES;
	memcpy(out, src, TUNNEL_MSG_BYTES);
	memwipe(src, TUNNEL_MSG_BYTES);
	if (g->q_head == g->q_len) {
		/* empty: the queue goes (a burst grew it to 64 KB for one
		 * large message, and a gateway is emptied every loop pass) */
		free(g->q);
		g->q = NULL;
		g->q_head = g->q_len = g->q_cap = 0;
	}
	return true;
}
