/*
 * The endpoint's reassembler (tunnels/endpoint.h), after
 * geti2p.net/spec/tunnel-message ("Tunnel Message Delivery Instructions",
 * "I2NP Message Maximum Size": "The maximum number of fragments is 64").
 *
 * Partial messages sit in a small table searched linearly, each with one
 * buffer per fragment number.  The table grows on demand up to
 * max_pending entries: most endpoints hold none or one partial message,
 * and a full table (about 45 KB) for each of a thousand transit OBEPs
 * would be most of the router's memory.
 */
#include "config.h"
#include "tunnels/endpoint.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

struct partial {
	bool used;
	uint32_t msg_id;
	uint64_t first_seen_ms;
	bool have_first;
	struct tunnel_di first;		/* delivery of the whole message */
	int last_num;			/* -1 until the last fragment is in */
	unsigned n_frags;
	size_t bytes;
	uint8_t *frag[TUNNEL_MAX_FRAGMENTS];
	uint16_t frag_len[TUNNEL_MAX_FRAGMENTS];
};

struct tunnel_endpoint {
	tunnel_deliver_fn fn;
	void *ctx;
	struct tunnel_endpoint_limits lim;
	struct partial *p;		/* cap entries, cap ≤ lim.max_pending */
	size_t cap;
	size_t n_pending, bytes;
	struct tunnel_endpoint_stats st;
};

struct tunnel_endpoint *tunnel_endpoint_new(tunnel_deliver_fn fn, void *ctx,
					    const struct tunnel_endpoint_limits *lim)
{
	struct tunnel_endpoint *e = xzalloc(sizeof(*e));

	e->fn = fn;
	e->ctx = ctx;
	if (lim)
		e->lim = *lim;
	if (e->lim.max_pending == 0)
		e->lim.max_pending = TUNNEL_ENDPOINT_MAX_PENDING;
	if (e->lim.max_bytes == 0)
		e->lim.max_bytes = TUNNEL_ENDPOINT_MAX_BYTES;
	if (e->lim.timeout_ms == 0)
		e->lim.timeout_ms = TUNNEL_ENDPOINT_TIMEOUT_MS;
	return e;
}

static void partial_clear(struct tunnel_endpoint *e, struct partial *p)
{
	if (!p->used)
		return;
	for (unsigned i = 0; i < TUNNEL_MAX_FRAGMENTS; i++)
		if (p->frag[i])
			xfree_wipe(p->frag[i], p->frag_len[i]);
	e->bytes -= p->bytes;
	e->n_pending--;
	memset(p, 0, sizeof(*p));
}

void tunnel_endpoint_free(struct tunnel_endpoint *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->cap; i++)
		partial_clear(e, &e->p[i]);
	free(e->p);
	free(e);
}

static struct partial *find(struct tunnel_endpoint *e, uint32_t msg_id)
{
	for (size_t i = 0; i < e->cap; i++)
		if (e->p[i].used && e->p[i].msg_id == msg_id)
			return &e->p[i];
	return NULL;
}

static struct partial *oldest(struct tunnel_endpoint *e)
{
	struct partial *o = NULL;

	for (size_t i = 0; i < e->cap; i++)
		if (e->p[i].used &&
		    (!o || e->p[i].first_seen_ms < o->first_seen_ms))
			o = &e->p[i];
	return o;
}

/* A slot for msg_id (found or new), evicting the oldest when full. */
static struct partial *slot_for(struct tunnel_endpoint *e, uint32_t msg_id,
				uint64_t now)
{
	struct partial *p = find(e, msg_id);

	if (p)
		return p;
	if (e->n_pending == e->lim.max_pending) {
		partial_clear(e, oldest(e));
		e->st.dropped_partial++;
	}
	if (e->n_pending == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 2;

		if (cap > e->lim.max_pending)
			cap = e->lim.max_pending;
		e->p = xrealloc(e->p, cap * sizeof(*e->p));
		memset(e->p + e->cap, 0, (cap - e->cap) * sizeof(*e->p));
		e->cap = cap;
	}
	for (size_t i = 0; i < e->cap; i++) {
		if (!e->p[i].used) {
			p = &e->p[i];
			p->used = true;
			p->msg_id = msg_id;
			p->first_seen_ms = now;
			p->last_num = -1;
			e->n_pending++;
			return p;
		}
	}
	return NULL;	/* not reached: a slot was freed above */
}

static void deliver_partial(struct tunnel_endpoint *e, struct partial *p)
{
	struct tunnel_endpoint_msg m = { 0 };
	uint8_t *buf = xmalloc(p->bytes);
	size_t at = 0;

	for (int i = 0; i <= p->last_num; i++) {
		memcpy(buf + at, p->frag[i], p->frag_len[i]);
		at += p->frag_len[i];
	}
	m.type = p->first.type;
	m.tunnel_id = p->first.tunnel_id;
	memcpy(m.hash, p->first.hash, 32);
	m.data = buf;
	m.len = at;
	e->st.delivered++;
	partial_clear(e, p);
	e->fn(e->ctx, &m);
	xfree_wipe(buf, at);
}

static bool complete(const struct partial *p)
{
	return p->have_first && p->last_num >= 0 &&
	       p->n_frags == (unsigned)p->last_num + 1;
}

/* Store fragment num of p; false (and p dropped) when it breaks the
 * limits or contradicts what is already there. */
static bool store(struct tunnel_endpoint *e, struct partial *p, unsigned num,
		  bool last, const uint8_t *frag, uint16_t len)
{
	if (p->frag[num]) {
		e->st.dup_fragments++;
		return true;
	}
	if (p->last_num >= 0 && (int)num > p->last_num) {
		partial_clear(e, p);	/* a fragment past the last one */
		e->st.bad_format++;
		return false;
	}
	if (p->bytes + len > TUNNEL_MAX_I2NP_BYTES) {
		partial_clear(e, p);
		e->st.dropped_partial++;
		return false;
	}
	if (last) {
		for (unsigned i = num + 1; i < TUNNEL_MAX_FRAGMENTS; i++) {
			if (p->frag[i]) {
				partial_clear(e, p);
				e->st.bad_format++;
				return false;
			}
		}
		p->last_num = (int)num;
	}
	/* Room: evict other partial messages, oldest first. */
	while (e->bytes + len > e->lim.max_bytes) {
		struct partial *o = NULL;

		for (size_t i = 0; i < e->cap; i++)
			if (e->p[i].used && &e->p[i] != p &&
			    (!o || e->p[i].first_seen_ms < o->first_seen_ms))
				o = &e->p[i];
		if (!o) {
			partial_clear(e, p);
			e->st.dropped_partial++;
			return false;
		}
		partial_clear(e, o);
		e->st.dropped_partial++;
	}
	p->frag[num] = xmemdup(frag, len);
	p->frag_len[num] = len;
	p->n_frags++;
	p->bytes += len;
	e->bytes += len;
	return true;
}

static void on_fragment(struct tunnel_endpoint *e, const struct tunnel_di *di,
			const uint8_t *frag, uint64_t now)
{
	struct partial *p;
	unsigned num = di->follow_on ? di->frag_num : 0;

	if (!di->follow_on && !di->fragmented) {
		struct tunnel_endpoint_msg m = {
			.type = di->type, .tunnel_id = di->tunnel_id,
			.data = frag, .len = di->size,
		};

		memcpy(m.hash, di->hash, 32);
		e->st.delivered++;
		e->fn(e->ctx, &m);
		return;
	}
	p = slot_for(e, di->msg_id, now);
	if (!di->follow_on) {
		if (p->have_first) {
			e->st.dup_fragments++;
			return;
		}
		if (!store(e, p, 0, false, frag, di->size))
			return;
		p->have_first = true;
		p->first = *di;
	} else if (!store(e, p, num, di->last, frag, di->size)) {
		return;
	}
	if (complete(p))
		deliver_partial(e, p);
}

int tunnel_endpoint_recv(struct tunnel_endpoint *e, const uint8_t *msg,
			 uint64_t now_ms)
{
	const uint8_t *payload;
	struct breader r;
	size_t len;
	int rc;

	e->st.msgs_in++;
	if ((rc = tunnel_msg_open(msg, &payload, &len)) != 0) {
		if (rc == ERR_AUTH)
			e->st.bad_checksum++;
		else
			e->st.bad_format++;
		return rc;
	}
	br_init(&r, payload, len);
	while (br_left(&r) > 0) {
		struct tunnel_di di;
		const uint8_t *frag;

		if ((rc = tunnel_di_decode(&r, &di)) != 0) {
			e->st.bad_format++;
			return rc;
		}
		if (!(frag = br_take(&r, di.size))) {
			e->st.bad_format++;
			return ERR_TRUNCATED;
		}
		on_fragment(e, &di, frag, now_ms);
	}
	return 0;
}

void tunnel_endpoint_expire(struct tunnel_endpoint *e, uint64_t now_ms)
{
	for (size_t i = 0; i < e->cap; i++) {
		struct partial *p = &e->p[i];

		if (p->used && (now_ms < p->first_seen_ms ||
				now_ms - p->first_seen_ms > e->lim.timeout_ms)) {
			partial_clear(e, p);
			e->st.expired++;
		}
	}
	/* Back to nothing once idle (a burst grew the table). */
	if (e->n_pending == 0 && e->cap > 2) {
		free(e->p);
		e->p = NULL;
		e->cap = 0;
	}
}

bool tunnel_endpoint_drop_oldest(struct tunnel_endpoint *e)
{
	struct partial *p = oldest(e);

	if (!p)
		return false;
	partial_clear(e, p);
	e->st.dropped_partial++;
	return true;
}

size_t tunnel_endpoint_pending(const struct tunnel_endpoint *e)
{
	return e->n_pending;
}

size_t tunnel_endpoint_pending_bytes(const struct tunnel_endpoint *e)
{
	return e->bytes;
}

const struct tunnel_endpoint_stats *tunnel_endpoint_get_stats(
	const struct tunnel_endpoint *e)
{
	return &e->st;
}
