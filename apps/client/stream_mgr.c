/*
 * The stream manager of one destination (see stream.h): dispatches
 * incoming packets to streams by stream ID, creates streams for new SYNs
 * within the connection limits, holds packets that arrive ahead of their
 * SYN ("Recipients must buffer packets received on unknown streams for a
 * short period of time"), answers pings, runs timers and frees released
 * streams.
 */
#include "config.h"
#include "apps/client/stream.h"

#include <stdlib.h>
#include <string.h>

#include "apps/client/stream_internal.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"
#include "router/evloop.h"

static void mgr_on_timer(void *arg)
{
	stream_mgr_run_timers(arg);
}

struct stream_mgr *stream_mgr_new(const struct stream_config *cfg,
				  const struct stream_signer *signer,
				  struct stream_sink sink, struct evloop *el)
{
	struct stream_mgr *mgr = xzalloc(sizeof(*mgr));

	mgr->cfg = *cfg;
	if (mgr->cfg.max_window < 1 || mgr->cfg.max_window > STREAM_MAX_WINDOW)
		mgr->cfg.max_window = STREAM_MAX_WINDOW;
	if (mgr->cfg.initial_window < 1 ||
	    mgr->cfg.initial_window > mgr->cfg.max_window)
		mgr->cfg.initial_window = mgr->cfg.max_window;
	if (mgr->cfg.mtu < STREAM_MTU_MIN)
		mgr->cfg.mtu = STREAM_MTU_MIN;
	if (mgr->cfg.mtu > sizeof(mgr->chunk) - 1024)
		mgr->cfg.mtu = (uint16_t)(sizeof(mgr->chunk) - 1024);
	if (mgr->cfg.initial_rto_ms < STREAM_MIN_RTO_MS)
		mgr->cfg.initial_rto_ms = STREAM_MIN_RTO_MS;
	if (mgr->cfg.send_buffer_bytes < mgr->cfg.mtu)
		mgr->cfg.send_buffer_bytes = mgr->cfg.mtu;
	mgr->signer = signer;
	mgr->sink = sink;
	mgr->el = el;
	if (el)
		mgr->timer = evloop_timer_new(el, mgr_on_timer, mgr);
	return mgr;
}

void stream_mgr_free(struct stream_mgr *mgr)
{
	if (!mgr)
		return;
	while (mgr->streams) {
		struct stream *s = mgr->streams;

		mgr->streams = s->next;
		stream_free_(s);
	}
	for (unsigned i = 0; i < STREAM_PENDING_MAX; i++)
		xfree_wipe(mgr->pending[i].data, mgr->pending[i].len);
	evloop_timer_free(mgr->timer);
	free(mgr);
}

void stream_mgr_set_acceptor(struct stream_mgr *mgr, stream_accept_fn fn,
			     void *ctx)
{
	mgr->accept_fn = fn;
	mgr->accept_ctx = ctx;
}

void stream_mgr_stats(const struct stream_mgr *mgr,
		      struct stream_mgr_stats *out)
{
	*out = mgr->stats;
	out->ooo_bytes = mgr->rx_held;
}

size_t stream_mgr_count(const struct stream_mgr *mgr)
{
	return mgr->nstreams;
}

/* ---- timers and housekeeping -------------------------------------------- */

uint64_t stream_mgr_next_deadline(struct stream_mgr *mgr)
{
	uint64_t d = UINT64_MAX, now = time_mono_ms();

	for (struct stream *s = mgr->streams; s; s = s->next) {
		uint64_t x = s->events ? now : stream_next_deadline(s);

		if (x < d)
			d = x;
	}
	for (unsigned i = 0; i < STREAM_PENDING_MAX; i++)
		if (mgr->pending[i].data && mgr->pending[i].expires < d)
			d = mgr->pending[i].expires;
	for (unsigned i = 0; i < STREAM_PINGS_MAX; i++)
		if (mgr->pings[i].fn && mgr->pings[i].deadline < d)
			d = mgr->pings[i].deadline;
	return d;
}

void stream_mgr_rearm(struct stream_mgr *mgr)
{
	uint64_t d, now;

	if (!mgr->timer || mgr->in_call)
		return;
	d = stream_mgr_next_deadline(mgr);
	now = time_mono_ms();
	if (d == UINT64_MAX)
		evloop_timer_disarm(mgr->timer);
	else
		evloop_timer_arm(mgr->timer, d > now ? d - now : 0);
}

/* Deliver pending events, free what is released and done, re-arm. */
static void mgr_finish(struct stream_mgr *mgr)
{
	uint64_t now = time_mono_ms();
	struct stream **pp;

	mgr->in_call = false;
	for (struct stream *s = mgr->streams; s; s = s->next)
		if (s->events)
			stream_emit(s);
	for (pp = &mgr->streams; *pp;) {
		struct stream *s = *pp;
		bool done = s->state == STREAM_CLOSED ||
			    s->state == STREAM_RESET ||
			    s->state == STREAM_FAILED;

		if (s->released && done && s->linger_until <= now) {
			*pp = s->next;
			mgr->nstreams--;
			stream_free_(s);
		} else {
			pp = &s->next;
		}
	}
	stream_mgr_rearm(mgr);
}

void stream_mgr_reset_all(struct stream_mgr *mgr)
{
	if (!mgr)
		return;
	mgr->in_call = true;
	for (struct stream *s = mgr->streams; s; s = s->next)
		if (!s->released)
			stream_reset(s);
	mgr_finish(mgr);
}

void stream_mgr_route_renewed(struct stream_mgr *mgr,
			      const uint8_t peer_hash[32])
{
	if (!mgr)
		return;
	mgr->in_call = true;
	for (struct stream *s = mgr->streams; s; s = s->next)
		if (memcmp(s->peer.hash, peer_hash, 32) == 0)
			stream_route_renewed(s);
	mgr_finish(mgr);
}

bool stream_mgr_awaiting(const struct stream_mgr *mgr,
			const uint8_t peer_hash[32])
{
	uint64_t now;

	if (!mgr)
		return false;
	now = time_mono_ms();
	for (const struct stream *s = mgr->streams; s; s = s->next)
		if (memcmp(s->peer.hash, peer_hash, 32) == 0 &&
		    stream_awaiting(s, now))
			return true;
	return false;
}

void stream_mgr_run_timers(struct stream_mgr *mgr)
{
	uint64_t now = time_mono_ms();

	mgr->in_call = true;
	for (struct stream *s = mgr->streams; s; s = s->next)
		if (stream_next_deadline(s) <= now)
			stream_run_timers(s, now);
	for (unsigned i = 0; i < STREAM_PENDING_MAX; i++) {
		struct stream_pending *pd = &mgr->pending[i];

		if (pd->data && pd->expires <= now) {
			xfree_wipe(pd->data, pd->len);
			memset(pd, 0, sizeof(*pd));
		}
	}
	for (unsigned i = 0; i < STREAM_PINGS_MAX; i++) {
		struct stream_ping pg = mgr->pings[i];

		if (pg.fn && pg.deadline <= now) {
			memset(&mgr->pings[i], 0, sizeof(pg));
			pg.fn(pg.ctx, ERR_TIMEOUT, 0);
		}
	}
	mgr_finish(mgr);
}

/* ---- limits ------------------------------------------------------------- */

static const uint64_t rate_span_ms[3] = { 60000, 3600000, 86400000 };

static bool rate_ok(struct stream_rate *r, const unsigned lim[3],
		    uint64_t now)
{
	for (int i = 0; i < 3; i++) {
		if (now - r->start[i] >= rate_span_ms[i] || r->start[i] == 0) {
			r->start[i] = now;
			r->count[i] = 0;
		}
		if (lim[i] && r->count[i] >= lim[i])
			return false;
	}
	return true;
}

static void rate_count(struct stream_rate *r)
{
	for (int i = 0; i < 3; i++)
		r->count[i]++;
}

static struct stream_rate *rate_peer(struct stream_mgr *mgr,
				     const uint8_t hash[32])
{
	struct stream_rate *oldest = &mgr->rates[0];

	for (unsigned i = 0; i < STREAM_RATE_PEERS; i++) {
		struct stream_rate *r = &mgr->rates[i];

		if (r->used && memcmp(r->hash, hash, 32) == 0)
			return r;
		if (!r->used || (oldest->used && r->start[2] < oldest->start[2]))
			oldest = r;
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->used = true;
	memcpy(oldest->hash, hash, 32);
	return oldest;
}

/* Whether a new incoming stream from `from` is within every limit. */
static bool accept_allowed(struct stream_mgr *mgr, const uint8_t hash[32])
{
	const struct stream_config *c = &mgr->cfg;
	const unsigned per[3] = { c->max_conns_per_minute,
				  c->max_conns_per_hour,
				  c->max_conns_per_day };
	const unsigned tot[3] = { c->max_total_per_minute,
				  c->max_total_per_hour,
				  c->max_total_per_day };
	uint64_t now = time_mono_ms();
	struct stream_rate *r = rate_peer(mgr, hash);

	if (!mgr->accept_fn)
		return false;
	if (c->max_streams && mgr->nstreams >= c->max_streams)
		return false;
	if (!rate_ok(r, per, now) || !rate_ok(&mgr->total, tot, now))
		return false;
	rate_count(r);
	rate_count(&mgr->total);
	return true;
}

/* Refuse a SYN: a signed RESET to its sender. */
static void send_refusal(struct stream_mgr *mgr, const struct stream_packet *syn,
			 uint16_t src_port, uint16_t dst_port)
{
	struct stream_packet *p = &mgr->scratch;
	struct bbuf b = BBUF_INIT;

	memset(p, 0, offsetof(struct stream_packet, from));
	p->send_id = syn->recv_id;
	p->flags = STREAM_F_RESET | STREAM_F_SIG | STREAM_F_NO_ACK;
	p->payload = NULL;
	p->payload_len = 0;
	if (stream_packet_encode(p, mgr->signer, &b) == 0) {
		mgr->sink.send(mgr->sink.ctx, &syn->from, dst_port, src_port,
			       b.data, b.len);
		mgr->stats.packets_sent++;
	}
	bbuf_free(&b);
}

/* ---- pings -------------------------------------------------------------- */

int stream_mgr_ping(struct stream_mgr *mgr, const struct keys_and_cert *to,
		    const void *payload, size_t len, uint32_t timeout_ms,
		    stream_pong_fn fn, void *ctx)
{
	struct stream_packet *p = &mgr->scratch;
	struct stream_ping *slot = NULL;
	struct bbuf b = BBUF_INIT;
	int e;

	if (len > STREAM_PING_MAX_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	for (unsigned i = 0; i < STREAM_PINGS_MAX && !slot; i++)
		if (!mgr->pings[i].fn)
			slot = &mgr->pings[i];
	if (!slot)
		return ERR_LIMIT;
	memset(p, 0, offsetof(struct stream_packet, from));
	do
		rand_bytes(&p->send_id, sizeof(p->send_id));
	while (p->send_id == 0);
	/* "A ping packet must have the ECHO, SIGNATURE_INCLUDED, and
	 * FROM_INCLUDED flags set." */
	p->flags = STREAM_F_ECHO | STREAM_F_SIG | STREAM_F_FROM;
	p->payload = payload;
	p->payload_len = len;
	p->nack_count = 0;
	if ((e = stream_packet_encode(p, mgr->signer, &b)) != 0)
		goto out;
	slot->id = p->send_id;
	slot->sent = time_mono_ms();
	slot->deadline = slot->sent + timeout_ms;
	slot->fn = fn;
	slot->ctx = ctx;
	mgr->sink.send(mgr->sink.ctx, to, 0, 0, b.data, b.len);
	mgr->stats.packets_sent++;
	stream_mgr_rearm(mgr);
out:
	bbuf_free(&b);
	return e;
}

static int handle_echo(struct stream_mgr *mgr, const struct stream_packet *p,
		       const uint8_t *raw, size_t len, uint16_t src_port,
		       uint16_t dst_port)
{
	if (p->send_id == 0) {			/* a pong */
		for (unsigned i = 0; i < STREAM_PINGS_MAX; i++) {
			struct stream_ping pg = mgr->pings[i];

			if (pg.fn && pg.id == p->recv_id) {
				memset(&mgr->pings[i], 0, sizeof(pg));
				pg.fn(pg.ctx, 0,
				      (uint32_t)(time_mono_ms() - pg.sent));
				return 0;
			}
		}
		return ERR_NOT_FOUND;
	}
	if (!(p->flags & STREAM_F_FROM) ||
	    stream_packet_verify(p, raw, len, &p->from, time_now_s()) != 0)
		return ERR_BAD_SIG;
	if (mgr->cfg.answer_pings) {
		struct stream_packet *q = &mgr->scratch;
		struct bbuf b = BBUF_INIT;
		struct keys_and_cert *to = xmemdup(&p->from, sizeof(p->from));

		/* "The sendStreamId must be zero, and the receiveStreamId is
		 * the sendStreamId from the ping." */
		memset(q, 0, offsetof(struct stream_packet, from));
		q->recv_id = p->send_id;
		q->flags = STREAM_F_ECHO;
		q->payload = p->payload;
		q->payload_len = p->payload_len > STREAM_PING_MAX_PAYLOAD_BYTES ?
					 STREAM_PING_MAX_PAYLOAD_BYTES :
					 p->payload_len;
		if (stream_packet_encode(q, NULL, &b) == 0) {
			mgr->sink.send(mgr->sink.ctx, to, dst_port, src_port,
				       b.data, b.len);
			mgr->stats.packets_sent++;
			mgr->stats.pings_answered++;
		}
		bbuf_free(&b);
		free(to);
	}
	return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

static struct stream *find_local(struct stream_mgr *mgr, uint32_t id)
{
	for (struct stream *s = mgr->streams; s; s = s->next)
		if (s->local_id == id)
			return s;
	return NULL;
}

/* An incoming stream whose SYN we have seen, by the peer's ID. */
static struct stream *find_remote(struct stream_mgr *mgr, uint32_t id)
{
	for (struct stream *s = mgr->streams; s; s = s->next)
		if (!s->initiator && s->remote_id == id)
			return s;
	return NULL;
}

static void pending_add(struct stream_mgr *mgr, uint32_t recv_id,
			const uint8_t *pkt, size_t len, uint16_t src_port,
			uint16_t dst_port)
{
	struct stream_pending *pd = NULL;

	for (unsigned i = 0; i < STREAM_PENDING_MAX && !pd; i++)
		if (!mgr->pending[i].data)
			pd = &mgr->pending[i];
	if (!pd) {
		mgr->stats.packets_dropped++;
		return;
	}
	pd->recv_id = recv_id;
	pd->expires = time_mono_ms() + STREAM_PENDING_MS;
	pd->data = xmemdup(pkt, len);
	pd->len = len;
	pd->src_port = src_port;
	pd->dst_port = dst_port;
}

static int new_incoming(struct stream_mgr *mgr, struct stream_packet *p,
			const uint8_t *raw, size_t len, uint16_t src_port,
			uint16_t dst_port)
{
	struct stream *s;

	if (!(p->flags & STREAM_F_FROM) || !(p->flags & STREAM_F_SIG) ||
	    stream_packet_verify(p, raw, len, &p->from, time_now_s()) != 0)
		return ERR_BAD_SIG;
	p->sig_checked = true;
	/* Since 0.9.58 an initiator puts our hash in 8 NACKs. */
	if (p->nack_count == 8 && mgr->signer && mgr->signer->dest) {
		for (int i = 0; i < 8; i++)
			if (p->nacks[i] !=
			    be32_get(mgr->signer->dest->hash + 4 * i))
				return ERR_FORMAT;
	}
	if (!accept_allowed(mgr, p->from.hash)) {
		mgr->stats.conns_rejected++;
		log_info_rl(60, LD_CLIENT, "stream: incoming connection "
			    "refused (limits or no listener)");
		send_refusal(mgr, p, src_port, dst_port);
		return ERR_LIMIT;
	}
	s = stream_alloc(mgr, &p->from, false);
	s->remote_id = p->recv_id;
	s->src_port = dst_port;		/* ours */
	s->dst_port = src_port;
	mgr->stats.conns_in++;
	stream_on_packet(s, p, raw, len);
	/* The acceptor may still refuse (stream_reset: a RESET instead of
	 * our SYN). */
	mgr->accept_fn(mgr->accept_ctx, s);
	if (s->state == STREAM_OPEN)
		stream_send_syn(s);
	return 0;
}

static int dispatch(struct stream_mgr *mgr, const uint8_t *pkt, size_t len,
		    uint16_t src_port, uint16_t dst_port, bool replay)
{
	struct stream_packet *p = xmalloc(sizeof(*p));
	struct stream *s;
	uint32_t syn_from = 0;
	int e;

	if ((e = stream_packet_decode(pkt, len, p)) != 0)
		goto out;
	if (p->flags & STREAM_F_ECHO) {
		e = handle_echo(mgr, p, pkt, len, src_port, dst_port);
		goto out;
	}
	if (p->send_id != 0) {
		if ((s = find_local(mgr, p->send_id)) == NULL) {
			e = ERR_NOT_FOUND;
			goto out;
		}
		stream_on_packet(s, p, pkt, len);
	} else if ((s = find_remote(mgr, p->recv_id)) != NULL) {
		stream_on_packet(s, p, pkt, len);	/* before our SYN got
							 * there, or a dup SYN */
	} else if (p->flags & STREAM_F_SYN) {
		if ((e = new_incoming(mgr, p, pkt, len, src_port,
				      dst_port)) == 0)
			syn_from = p->recv_id;
	} else if (!replay && !(p->flags & STREAM_F_RESET)) {
		pending_add(mgr, p->recv_id, pkt, len, src_port, dst_port);
	} else {
		e = ERR_NOT_FOUND;
	}
out:
	free(p);
	if (e)
		mgr->stats.packets_dropped++;
	/* Packets that came ahead of this SYN. */
	for (unsigned i = 0; syn_from && i < STREAM_PENDING_MAX; i++) {
		struct stream_pending pd = mgr->pending[i];

		if (pd.data && pd.recv_id == syn_from) {
			memset(&mgr->pending[i], 0, sizeof(pd));
			dispatch(mgr, pd.data, pd.len, pd.src_port,
				 pd.dst_port, true);
			xfree_wipe(pd.data, pd.len);
		}
	}
	return e;
}

int stream_mgr_receive(struct stream_mgr *mgr, const uint8_t *pkt, size_t len,
		       uint16_t src_port, uint16_t dst_port)
{
	int e;

	mgr->in_call = true;
	mgr->stats.packets_received++;
	e = dispatch(mgr, pkt, len, src_port, dst_port, false);
	mgr_finish(mgr);
	return e;
}
