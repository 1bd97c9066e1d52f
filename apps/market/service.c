/*
 * Served streams of the market services (apps/market/service.h).
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "apps/client/stream.h"
#include "apps/market/link.h"
#include "apps/market/service.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "router/evloop.h"

struct market_conn {
	struct market_service *sv;
	struct market_link link;
	struct market_conn **held;	/* the holder's reference */
	struct market_conn *next, **pprev;
};

void market_service_init(struct market_service *sv, size_t max_frame,
			 unsigned max_conns, market_request_fn fn, void *ctx)
{
	sv->request = fn;
	sv->ctx = ctx;
	sv->max_frame = max_frame;
	sv->max_conns = max_conns;
	sv->nconns = 0;
	sv->conns_total = 0;
	sv->conns = NULL;
}

static void conn_drop(struct market_conn *c)
{
	struct stream *s = c->link.s;

	if (s) {
		stream_set_handler(s, NULL, NULL);
		stream_reset(s);
		stream_release(s);
	}
	if (c->held)
		*c->held = NULL;
	if (c->next)
		c->next->pprev = c->pprev;
	*c->pprev = c->next;
	c->sv->nconns--;
	market_link_clear(&c->link);
	free(c);
}

void market_service_clear(struct market_service *sv)
{
	while (sv->conns)
		conn_drop(sv->conns);
}

/* Serve frames while no request is held and every answer is out. */
static void conn_process(struct market_conn *c)
{
	const uint8_t *p;
	size_t len;
	int r;

	while (!c->held && market_link_pending(&c->link) == 0) {
		r = market_link_next(&c->link, &p, &len);
		if (r == 0)
			break;
		if (r < 0) {
			log_info(LD_APP, "market service: oversized request");
			conn_drop(c);
			return;
		}
		c->sv->request(c->sv->ctx, c, p, len);
		market_link_pop(&c->link);
	}
	if (!c->held && market_link_pending(&c->link) == 0 &&
	    stream_is_eof(c->link.s))
		stream_close(c->link.s);
}

static void conn_event(void *ctx, struct stream *s, unsigned ev)
{
	struct market_conn *c = ctx;

	(void)s;
	if (ev & (STREAM_EV_RESET | STREAM_EV_FAILED | STREAM_EV_CLOSED)) {
		conn_drop(c);
		return;
	}
	if (ev & STREAM_EV_WRITABLE)
		market_link_flush(&c->link);
	conn_process(c);
}

void market_service_accept(struct market_service *sv, struct stream *s)
{
	struct market_conn *c;

	if (sv->nconns >= sv->max_conns) {
		stream_reset(s);
		stream_release(s);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->sv = sv;
	market_link_init(&c->link, s, sv->max_frame);
	c->next = sv->conns;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &sv->conns;
	sv->conns = c;
	sv->nconns++;
	sv->conns_total++;
	stream_set_handler(s, conn_event, c);
}

static void acceptor(void *ctx, struct stream *s)
{
	market_service_accept(ctx, s);
}

void market_service_serve(struct market_service *sv, struct stream_mgr *mgr)
{
	stream_mgr_set_acceptor(mgr, acceptor, sv);
}

void market_conn_reply(struct market_conn *c, const void *p, size_t len)
{
	market_link_send(&c->link, p, len);
}

const uint8_t *market_conn_peer_hash(const struct market_conn *c)
{
	return stream_peer(c->link.s)->hash;
}

void market_conn_hold(struct market_conn *c, struct market_conn **ref)
{
	c->held = ref;
	*ref = c;
}

void market_conn_finish(struct market_conn *c, const void *p, size_t len)
{
	c->held = NULL;
	if (p)
		market_link_send(&c->link, p, len);
	conn_process(c);
}

/* ------------------------------------------------------------ rate limits */

void market_rate_init(struct market_rate *r, unsigned per_sec, unsigned burst)
{
	memset(r, 0, sizeof(*r));
	r->per_sec = per_sec;
	r->burst = burst;
}

bool market_rate_take(struct market_rate *r, const uint8_t hash[32])
{
	struct market_rate_peer *p = NULL, *oldest = &r->peers[0];
	uint64_t now = time_mono_ms();

	for (unsigned i = 0; i < MARKET_RATE_PEERS; i++) {
		struct market_rate_peer *q = &r->peers[i];
		if (q->used && memcmp(q->hash, hash, 32) == 0) {
			p = q;
			break;
		}
		if (!q->used || (oldest->used && q->last_ms < oldest->last_ms))
			oldest = q;
	}
	if (!p) {
		/* A new or forgotten peer starts with a full bucket. */
		p = oldest;
		memcpy(p->hash, hash, 32);
		p->used = true;
		p->tokens = r->burst;
		p->last_ms = now;
	}
	p->tokens += (double)(now - p->last_ms) * r->per_sec / 1000.0;
	if (p->tokens > r->burst)
		p->tokens = r->burst;
	p->last_ms = now;
	if (p->tokens < 1.0)
		return false;
	p->tokens -= 1.0;
	return true;
}

/* ------------------------------------------------------- the client side */

struct call {
	struct market_link link;
	struct evloop_timer *timer;
	market_call_fn done;
	void *arg;
};

static void call_end(struct call *k, int err, const uint8_t *p, size_t len)
{
	struct stream *s = k->link.s;

	if (s) {
		stream_set_handler(s, NULL, NULL);
		if (err)
			stream_reset(s);
		stream_release(s);	/* closes an open stream */
	}
	evloop_timer_free(k->timer);
	k->done(k->arg, err, p, len);
	market_link_clear(&k->link);
	free(k);
}

static void call_event(void *ctx, struct stream *s, unsigned ev)
{
	struct call *k = ctx;
	const uint8_t *p;
	size_t len;
	int r;

	(void)s;
	if (ev & (STREAM_EV_CONNECTED | STREAM_EV_WRITABLE))
		market_link_flush(&k->link);
	r = market_link_next(&k->link, &p, &len);
	if (r == 1)
		call_end(k, 0, p, len);
	else if (r < 0)
		call_end(k, ERR_TOO_BIG, NULL, 0);
	else if (ev & (STREAM_EV_EOF | STREAM_EV_RESET | STREAM_EV_FAILED |
		       STREAM_EV_CLOSED))
		call_end(k, ERR_IO, NULL, 0);
}

static void call_timeout(void *arg)
{
	call_end(arg, ERR_TIMEOUT, NULL, 0);
}

int market_call(struct stream_mgr *mgr, struct evloop *el,
		const struct keys_and_cert *to, const void *req, size_t len,
		size_t max_reply, unsigned timeout_ms, market_call_fn done,
		void *arg)
{
	struct call *k = xcalloc(1, sizeof(*k));
	struct stream *s;
	int err;

	k->done = done;
	k->arg = arg;
	if ((err = stream_connect(mgr, to, 0, 0, call_event, k, &s)) != 0) {
		free(k);
		return err;
	}
	market_link_init(&k->link, s, max_reply);
	market_link_send(&k->link, req, len);
	k->timer = evloop_timer_new(el, call_timeout, k);
	evloop_timer_arm(k->timer, timeout_ms);
	return 0;
}
