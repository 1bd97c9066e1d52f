/*
 * The transport manager (router/transport.h): a peer table keyed by router
 * hash, each peer with its send queue (a ring of messages), its
 * established session and its outbound attempt; a connection table from
 * (transport, conn id) to peer; totals and windowed bandwidth rates.
 *
 * Both tables are chained hash tables keyed with a random SipHash key, so
 * a peer cannot pick hashes that collide.  Idle peers (no session, no
 * attempt, empty queue, no back-off) are freed at once, so the tables
 * hold only what is in use.
 */
#include "config.h"
#include "router/transport.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"
#include "router/evloop.h"
#include "router/i2np.h"
#include "router/ratelim.h"

#include <stdlib.h>
#include <string.h>

struct conn_ref {
	bool set;
	unsigned tid;
	uint64_t cid;
};

struct peer {
	struct peer *next;		/* hash chain */
	uint64_t key;
	uint8_t hash[TRANSPORT_HASH_BYTES];
	struct conn_ref up;		/* established session */
	bool up_inbound;
	/* A second established session, after a simultaneous open: we send
	 * on `up` only, but keep this one open, for the peer may have kept
	 * it and closed `up` (i2pd keeps the older session, whatever the
	 * hashes); it becomes `up` then.  Its own idle timeout ends it. */
	struct conn_ref spare;
	bool spare_inbound;
	uint64_t spare_since;		/* mono ms */
	struct conn_ref attempt;	/* outbound attempt in progress */
	struct i2np_msg **q;		/* ring */
	size_t qhead, qlen, qcap, qbytes;
	bool above_low;
	uint64_t backoff_until;		/* mono ms; 0 = none */
};

struct conn {
	struct conn *next;
	uint64_t key;
	unsigned tid;
	uint64_t cid;
	struct peer *peer;		/* NULL until up (inbound) */
};

struct table {
	void **b;			/* buckets: struct peer * or struct conn * */
	size_t nb, n;
};

#define RATE_SLOTS (TRANSPORT_RATE_WINDOW_MS / 1000)
/* Addresses whose handshake rate is remembered. */
#define TRANSPORT_HANDSHAKE_IPS 4096
/* Expiry checks on pull read the clock this rarely (a bulk sender pulls
 * thousands of messages per millisecond). */
#define PULL_CLOCK_EVERY 64
/* Idle peers are swept on one send in this many. */
#define SWEEP_EVERY 16

struct transport_mgr {
	struct evloop *el;
	uint8_t self[TRANSPORT_HASH_BYTES];
	struct transport_limits lim;
	struct transport_hooks hooks;
	struct {
		const struct transport_ops *ops;
		void *impl;
	} t[TRANSPORT_MAX_TRANSPORTS];
	unsigned nt;
	uint8_t key[SIPHASH_KEY_BYTES];
	struct table peers, conns;
	size_t n_up, n_attempts;
	size_t queued_msgs, queued_bytes;
	struct conn *last_conn;		/* one-entry cache for conn_find() */
	struct peer *last_peer;		/* one-entry cache for peer_find() */
	size_t sweep_cursor;
	unsigned sends;
	uint64_t now_ms;		/* wall clock, read every PULL_CLOCK_EVERY pulls */
	unsigned pulls;
	struct transport_stats st;
	struct {
		uint64_t sec;
		uint64_t in, out;
	} rate[RATE_SLOTS];
	size_t n_spares;
	struct evloop_timer *spare_ev;
	/* Messages to ourselves, handed to hooks.recv from the loop. */
	struct peer *loop;
	struct evloop_timer *loop_ev;
	/* Inbound handshake rates (lim.handshakes_*). */
	struct tbucket hs_all;
	struct ratelim *hs_ip;
};

void transport_limits_default(struct transport_limits *lim)
{
	lim->max_sessions = TRANSPORT_DEFAULT_MAX_SESSIONS;
	lim->peer_queue_msgs = TRANSPORT_DEFAULT_PEER_QUEUE_MSGS;
	lim->peer_queue_bytes = TRANSPORT_DEFAULT_PEER_QUEUE_BYTES;
	lim->total_queue_bytes = TRANSPORT_DEFAULT_TOTAL_QUEUE_BYTES;
	lim->queue_low_msgs = TRANSPORT_DEFAULT_QUEUE_LOW_MSGS;
}

/* ---- tables ---- */

/* Both entry types start with (next, key). */
struct entry {
	struct entry *next;
	uint64_t key;
};

static void table_init(struct table *t)
{
	t->nb = 64;
	t->n = 0;
	t->b = xcalloc(t->nb, sizeof(void *));
}

static void table_grow(struct table *t)
{
	size_t nb = t->nb * 2;
	void **b = xcalloc(nb, sizeof(void *));

	for (size_t i = 0; i < t->nb; i++) {
		struct entry *e = t->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->key & (nb - 1)];
			b[e->key & (nb - 1)] = e;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

static void table_add(struct table *t, struct entry *e)
{
	if (t->n >= t->nb)
		table_grow(t);
	e->next = t->b[e->key & (t->nb - 1)];
	t->b[e->key & (t->nb - 1)] = e;
	t->n++;
}

static void table_del(struct table *t, struct entry *e)
{
	struct entry **pp = (struct entry **)&t->b[e->key & (t->nb - 1)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			t->n--;
			return;
		}
	}
	(void)BUG(true);	/* not in the table */
}

static uint64_t peer_key(const struct transport_mgr *tm, const uint8_t *hash)
{
	return siphash24_u64(tm->key, hash, TRANSPORT_HASH_BYTES);
}

static uint64_t conn_key(const struct transport_mgr *tm, unsigned tid,
			 uint64_t cid)
{
	uint8_t b[12];

	le64_put(b, cid);
	b[8] = (uint8_t)tid;
	b[9] = b[10] = b[11] = 0;
	return siphash24_u64(tm->key, b, sizeof(b));
}

static struct peer *peer_lookup(const struct transport_mgr *tm,
				const uint8_t *hash)
{
	uint64_t k = peer_key(tm, hash);
	struct peer *p = tm->peers.b[k & (tm->peers.nb - 1)];

	for (; p; p = p->next)
		if (p->key == k && memcmp(p->hash, hash, TRANSPORT_HASH_BYTES) == 0)
			return p;
	return NULL;
}

/* peer_lookup() behind a one-entry cache (a bulk sender names the same
 * peer over and over). */
static struct peer *peer_find(struct transport_mgr *tm, const uint8_t *hash)
{
	struct peer *p = tm->last_peer;

	if (p && memcmp(p->hash, hash, TRANSPORT_HASH_BYTES) == 0)
		return p;
	if ((p = peer_lookup(tm, hash)))
		tm->last_peer = p;
	return p;
}

static struct peer *peer_get(struct transport_mgr *tm, const uint8_t *hash)
{
	struct peer *p = peer_find(tm, hash);

	if (p)
		return p;
	p = xzalloc(sizeof(*p));
	memcpy(p->hash, hash, TRANSPORT_HASH_BYTES);
	p->key = peer_key(tm, hash);
	table_add(&tm->peers, (struct entry *)p);
	return p;
}

static struct conn *conn_find(struct transport_mgr *tm, unsigned tid,
			      uint64_t cid)
{
	uint64_t k;
	struct conn *c = tm->last_conn;

	if (c && c->tid == tid && c->cid == cid)
		return c;
	k = conn_key(tm, tid, cid);
	for (c = tm->conns.b[k & (tm->conns.nb - 1)]; c; c = c->next) {
		if (c->key == k && c->tid == tid && c->cid == cid) {
			tm->last_conn = c;
			return c;
		}
	}
	return NULL;
}

static struct conn *conn_add(struct transport_mgr *tm, unsigned tid,
			     uint64_t cid, struct peer *p)
{
	struct conn *c = xzalloc(sizeof(*c));

	c->tid = tid;
	c->cid = cid;
	c->key = conn_key(tm, tid, cid);
	c->peer = p;
	table_add(&tm->conns, (struct entry *)c);
	return c;
}

static void conn_del(struct transport_mgr *tm, struct conn *c)
{
	if (tm->last_conn == c)
		tm->last_conn = NULL;
	table_del(&tm->conns, (struct entry *)c);
	free(c);
}

/* ---- queues ---- */

static void queue_drop_all(struct transport_mgr *tm, struct peer *p)
{
	while (p->qlen > 0) {
		struct i2np_msg *m = p->q[p->qhead];

		p->qhead = (p->qhead + 1) % p->qcap;
		p->qlen--;
		tm->queued_bytes -= m->len;
		tm->queued_msgs--;
		tm->st.msgs_dropped++;
		i2np_msg_free(m);
	}
	p->qbytes = 0;
	p->qhead = 0;
	p->above_low = false;
}

static void queue_push(struct transport_mgr *tm, struct peer *p,
		       struct i2np_msg *m)
{
	if (p->qlen == p->qcap) {
		size_t ncap = p->qcap ? p->qcap * 2 : 16;
		struct i2np_msg **q = xcalloc(ncap, sizeof(*q));

		for (size_t i = 0; i < p->qlen; i++)
			q[i] = p->q[(p->qhead + i) % p->qcap];
		free(p->q);
		p->q = q;
		p->qcap = ncap;
		p->qhead = 0;
	}
	p->q[(p->qhead + p->qlen) % p->qcap] = m;
	p->qlen++;
	p->qbytes += m->len;
	tm->queued_msgs++;
	tm->queued_bytes += m->len;
	if (p->qlen > tm->lim.queue_low_msgs)
		p->above_low = true;
}

static struct i2np_msg *queue_pop(struct transport_mgr *tm, struct peer *p)
{
	struct i2np_msg *m = p->q[p->qhead];

	p->qhead = (p->qhead + 1) % p->qcap;
	p->qlen--;
	p->qbytes -= m->len;
	tm->queued_msgs--;
	tm->queued_bytes -= m->len;
	return m;
}

/* Free p if nothing refers to it any more. */
static void peer_maybe_free(struct transport_mgr *tm, struct peer *p)
{
	if (p->up.set || p->spare.set || p->attempt.set || p->qlen > 0 ||
	    p->backoff_until > time_mono_ms())
		return;
	if (tm->last_peer == p)
		tm->last_peer = NULL;
	table_del(&tm->peers, (struct entry *)p);
	free(p->q);
	free(p);
}

/* Drop the expired messages at the head of p's queue.  A session that
 * stops taking messages (a peer that never reads, or never ACKs) pulls
 * none, and only a pull dropped them: its queue held what came for it
 * as long as the session lasted. */
static void queue_expire(struct transport_mgr *tm, struct peer *p,
			 uint64_t now)
{
	while (p->qlen > 0 && i2np_msg_is_expired(p->q[p->qhead], now)) {
		i2np_msg_free(queue_pop(tm, p));
		tm->st.msgs_dropped++;
		tm->st.msgs_expired++;
	}
}

static void queues_expire(struct transport_mgr *tm)
{
	uint64_t now = time_now_ms();

	for (size_t i = 0; i < tm->peers.nb; i++)
		for (struct peer *p = tm->peers.b[i]; p; p = p->next)
			queue_expire(tm, p, now);
}

/* Drop expired messages and free idle peers whose back-off ran out
 * (bounded work, every SWEEP_EVERY sends). */
static void peers_sweep(struct transport_mgr *tm)
{
	static const size_t per_call = 8;
	uint64_t now;

	if (tm->sends++ % SWEEP_EVERY != 0)
		return;
	now = time_now_ms();
	for (size_t i = 0; i < per_call; i++) {
		struct peer *p, *next;

		tm->sweep_cursor = (tm->sweep_cursor + 1) & (tm->peers.nb - 1);
		for (p = tm->peers.b[tm->sweep_cursor]; p; p = next) {
			next = p->next;
			queue_expire(tm, p, now);
			peer_maybe_free(tm, p);
		}
	}
}

/* ---- manager ---- */

/* Deliver what was sent to ourselves, as if it had arrived (i2pd and
 * Java do the same: a tunnel's gateway or a reply can be this router). */
static void loop_cb(void *arg)
{
	struct transport_mgr *tm = arg;
	struct peer *p = tm->loop;
	size_t n = p->qlen;

	/* Only what is queued now: a handler may send to us again. */
	while (n-- > 0 && p->qlen > 0) {
		struct i2np_msg *m = queue_pop(tm, p);

		tm->st.msgs_local++;
		if (tm->hooks.recv)
			tm->hooks.recv(tm->hooks.ctx, tm->self, m);
		else
			i2np_msg_free(m);
	}
	if (p->qlen > 0)
		evloop_timer_arm(tm->loop_ev, 0);
}

static void close_spare(struct transport_mgr *tm, struct peer *p,
			enum transport_close why);

/* Close the spares that outlived their grace beside a live session. */
static void spare_cb(void *arg)
{
	struct transport_mgr *tm = arg;
	uint64_t now = time_mono_ms();

	for (size_t i = 0; i < tm->peers.nb && tm->n_spares > 0; i++)
		for (struct peer *p = tm->peers.b[i]; p; p = p->next)
			if (p->spare.set &&
			    now - p->spare_since >= TRANSPORT_SPARE_GRACE_MS)
				close_spare(tm, p, TRANSPORT_CLOSE_DUPLICATE);
	if (tm->n_spares > 0)
		evloop_timer_arm(tm->spare_ev, TRANSPORT_SPARE_GRACE_MS / 2);
}

struct transport_mgr *transport_mgr_new(struct evloop *el,
					const uint8_t self[TRANSPORT_HASH_BYTES],
					const struct transport_limits *lim)
{
	struct transport_mgr *tm = xzalloc(sizeof(*tm));

	tm->el = el;
	memcpy(tm->self, self, TRANSPORT_HASH_BYTES);
	if (lim)
		tm->lim = *lim;
	else
		transport_limits_default(&tm->lim);
	rand_bytes(tm->key, sizeof(tm->key));
	table_init(&tm->peers);
	table_init(&tm->conns);
	tm->loop = xzalloc(sizeof(*tm->loop));
	tm->loop_ev = evloop_timer_new(el, loop_cb, tm);
	tm->spare_ev = evloop_timer_new(el, spare_cb, tm);
	tm->hs_ip = ratelim_new(TRANSPORT_HANDSHAKE_IPS, 0, 0);
	return tm;
}

void transport_mgr_free(struct transport_mgr *tm)
{
	if (!tm)
		return;
	evloop_timer_free(tm->loop_ev);
	evloop_timer_free(tm->spare_ev);
	ratelim_free(tm->hs_ip);
	queue_drop_all(tm, tm->loop);
	free(tm->loop->q);
	free(tm->loop);
	for (size_t i = 0; i < tm->peers.nb; i++) {
		struct peer *p = tm->peers.b[i], *next;

		for (; p; p = next) {
			next = p->next;
			queue_drop_all(tm, p);
			free(p->q);
			free(p);
		}
	}
	for (size_t i = 0; i < tm->conns.nb; i++) {
		struct conn *c = tm->conns.b[i], *next;

		for (; c; c = next) {
			next = c->next;
			free(c);
		}
	}
	free(tm->peers.b);
	free(tm->conns.b);
	memwipe(tm->key, sizeof(tm->key));
	free(tm);
}

void transport_mgr_set_hooks(struct transport_mgr *tm,
			     const struct transport_hooks *h)
{
	tm->hooks = *h;
}

unsigned transport_mgr_add(struct transport_mgr *tm,
			   const struct transport_ops *ops, void *impl)
{
	if (BUG(tm->nt >= TRANSPORT_MAX_TRANSPORTS))
		return 0;
	tm->t[tm->nt].ops = ops;
	tm->t[tm->nt].impl = impl;
	return tm->nt++;
}

const uint8_t *transport_mgr_self(const struct transport_mgr *tm)
{
	return tm->self;
}

const struct router_info *transport_lookup(const struct transport_mgr *tm,
					   const uint8_t peer[TRANSPORT_HASH_BYTES])
{
	return tm->hooks.lookup ? tm->hooks.lookup(tm->hooks.ctx, peer) : NULL;
}

static void wake(struct transport_mgr *tm, const struct conn_ref *c)
{
	tm->t[c->tid].ops->wake(tm->t[c->tid].impl, c->cid);
}

/* Start an outbound attempt to p; 0 or an error (nothing started). */
static int peer_connect(struct transport_mgr *tm, struct peer *p)
{
	const struct router_info *ri;
	int best = -1, cost, r;
	unsigned tid = 0;
	uint64_t cid;

	if (tm->n_up + tm->n_attempts >= tm->lim.max_sessions)
		return ERR_LIMIT;
	if (!(ri = transport_lookup(tm, p->hash)))
		return ERR_NOT_FOUND;
	for (unsigned i = 0; i < tm->nt; i++) {
		cost = tm->t[i].ops->reach_cost(tm->t[i].impl, ri);
		if (cost >= 0 && (best < 0 || cost < best)) {
			best = cost;
			tid = i;
		}
	}
	if (best < 0)
		return ERR_UNSUPPORTED;
	if ((r = tm->t[tid].ops->connect(tm->t[tid].impl, ri, &cid)) != 0)
		return r;
	p->attempt = (struct conn_ref){ true, tid, cid };
	tm->n_attempts++;
	conn_add(tm, tid, cid, p);
	return 0;
}

int transport_send(struct transport_mgr *tm,
		   const uint8_t peer[TRANSPORT_HASH_BYTES], struct i2np_msg *m)
{
	struct peer *p;
	int r = 0;

	if (memcmp(peer, tm->self, TRANSPORT_HASH_BYTES) == 0) {
		if (tm->loop->qlen >= tm->lim.peer_queue_msgs) {
			r = ERR_LIMIT;
			goto drop;
		}
		queue_push(tm, tm->loop, m);
		if (tm->loop->qlen == 1)
			evloop_timer_arm(tm->loop_ev, 0);
		return 0;
	}
	peers_sweep(tm);
	p = peer_find(tm, peer);
	/* A queue its session stopped taking from keeps only what has not
	 * expired (its head is looked at: one comparison when it is fresh);
	 * with all queues full together, every queue is. */
	if (p)
		queue_expire(tm, p, time_now_ms());
	if (tm->queued_bytes + m->len > tm->lim.total_queue_bytes)
		queues_expire(tm);
	if (p && !p->up.set && !p->attempt.set &&
	    p->backoff_until > time_mono_ms()) {
		r = ERR_BAD_STATE;
		goto drop;
	}
	if ((p && (p->qlen >= tm->lim.peer_queue_msgs ||
		   p->qbytes + m->len > tm->lim.peer_queue_bytes)) ||
	    tm->queued_bytes + m->len > tm->lim.total_queue_bytes) {
		r = ERR_LIMIT;
		goto drop;
	}
	if (!p)
		p = peer_get(tm, peer);
	if (!p->up.set && !p->attempt.set &&
	    (r = peer_connect(tm, p)) != 0) {
		if (r != ERR_LIMIT && r != ERR_NOT_FOUND && r != ERR_UNSUPPORTED)
			p->backoff_until = time_mono_ms() +
					   TRANSPORT_RETRY_BACKOFF_MS;
		peer_maybe_free(tm, p);
		goto drop;
	}
	queue_push(tm, p, m);
	if (p->up.set && p->qlen == 1)
		wake(tm, &p->up);
	return 0;
drop:
	tm->st.msgs_dropped++;
	i2np_msg_free(m);
	return r;
}

int transport_dial(struct transport_mgr *tm,
		   const uint8_t peer[TRANSPORT_HASH_BYTES], uint64_t ttl_ms)
{
	struct i2np_delivery_status ds;
	struct bbuf b = BBUF_INIT;
	uint8_t *p;
	size_t len;

	rand_bytes(&ds.msg_id, sizeof(ds.msg_id));
	ds.timestamp_ms = time_now_ms();
	i2np_delivery_status_encode(&ds, &b);
	p = bbuf_steal(&b, &len);
	return transport_send(tm, peer, i2np_msg_new_take(I2NP_DELIVERY_STATUS,
							  p, len, ttl_ms));
}

bool transport_is_connected(const struct transport_mgr *tm,
			    const uint8_t peer[TRANSPORT_HASH_BYTES])
{
	const struct peer *p = peer_lookup(tm, peer);

	return p && p->up.set;
}

size_t transport_queued(const struct transport_mgr *tm,
			const uint8_t peer[TRANSPORT_HASH_BYTES])
{
	const struct peer *p = peer_lookup(tm, peer);

	return p ? p->qlen : 0;
}

void transport_mgr_close_all(struct transport_mgr *tm)
{
	for (size_t i = 0; i < tm->peers.nb; i++) {
		for (struct peer *p = tm->peers.b[i]; p; p = p->next) {
			queue_drop_all(tm, p);
			if (p->up.set)
				tm->t[p->up.tid].ops->close(tm->t[p->up.tid].impl,
							    p->up.cid,
							    TRANSPORT_CLOSE_SHUTDOWN);
			if (p->spare.set)
				tm->t[p->spare.tid].ops->close(
					tm->t[p->spare.tid].impl,
					p->spare.cid, TRANSPORT_CLOSE_SHUTDOWN);
			if (p->attempt.set)
				tm->t[p->attempt.tid].ops->close(
					tm->t[p->attempt.tid].impl,
					p->attempt.cid, TRANSPORT_CLOSE_SHUTDOWN);
		}
	}
}

static void rate_add(struct transport_mgr *tm, uint64_t in, uint64_t out)
{
	uint64_t sec = time_mono_ms() / 1000;
	size_t i = sec % RATE_SLOTS;

	if (tm->rate[i].sec != sec) {
		tm->rate[i].sec = sec;
		tm->rate[i].in = tm->rate[i].out = 0;
	}
	tm->rate[i].in += in;
	tm->rate[i].out += out;
}

void transport_mgr_stats(struct transport_mgr *tm, struct transport_stats *out)
{
	uint64_t sec = time_mono_ms() / 1000, in = 0, o = 0;

	rate_add(tm, 0, 0);
	for (size_t i = 0; i < RATE_SLOTS; i++) {
		if (tm->rate[i].sec + RATE_SLOTS > sec) {
			in += tm->rate[i].in;
			o += tm->rate[i].out;
		}
	}
	*out = tm->st;
	out->sessions = tm->n_up;
	out->connecting = tm->n_attempts;
	out->queued_msgs = tm->queued_msgs;
	out->queued_bytes = tm->queued_bytes;
	out->rate_in_bps = (double)in / RATE_SLOTS;
	out->rate_out_bps = (double)o / RATE_SLOTS;
}

void transport_mgr_foreach_peer(const struct transport_mgr *tm,
				void (*fn)(void *arg, const uint8_t peer[32],
					   bool inbound),
				void *arg)
{
	for (size_t i = 0; i < tm->peers.nb; i++)
		for (struct peer *p = tm->peers.b[i]; p; p = p->next)
			if (p->up.set)
				fn(arg, p->hash, p->up_inbound);
}

/* ---- for transports ---- */

bool transport_may_accept(const struct transport_mgr *tm)
{
	return tm->n_up + tm->n_attempts < tm->lim.max_sessions;
}

void transport_mgr_set_limits(struct transport_mgr *tm,
			      const struct transport_limits *lim)
{
	tm->lim = *lim;
}

void transport_mgr_limits(const struct transport_mgr *tm,
			  struct transport_limits *out)
{
	*out = tm->lim;
}

bool transport_may_accept_from(struct transport_mgr *tm,
			       const uint8_t ip[16])
{
	unsigned all = tm->lim.handshakes_per_min;
	unsigned one = tm->lim.handshakes_per_ip_min;
	uint64_t now = time_mono_ms();

	if (!transport_may_accept(tm))
		return false;
	/* The address first: one noisy address does not use up the
	 * tokens of everyone else. */
	ratelim_set(tm->hs_ip, one, ratelim_burst(one));
	if (!ratelim_take(tm->hs_ip, ip, 16, now) ||
	    !tbucket_take(&tm->hs_all, all, ratelim_burst(all), now)) {
		tm->st.handshakes_refused++;
		return false;
	}
	return true;
}

/* The router that dialled a session: the peer for inbound, us otherwise. */
static const uint8_t *initiator(const struct transport_mgr *tm,
				const struct peer *p, bool inbound)
{
	return inbound ? p->hash : tm->self;
}

/* Close p's spare session (reason why) and forget it. */
static void close_spare(struct transport_mgr *tm, struct peer *p,
			enum transport_close why)
{
	struct conn *c = conn_find(tm, p->spare.tid, p->spare.cid);

	if (c)
		c->peer = NULL;		/* its conn_down is a no-op */
	p->spare.set = false;
	tm->n_spares--;
	tm->t[p->spare.tid].ops->close(tm->t[p->spare.tid].impl, p->spare.cid,
				       why);
}

/* Make ref p's spare session, closing the spare it replaces. */
static void set_spare(struct transport_mgr *tm, struct peer *p,
		      struct conn_ref ref, bool inbound)
{
	if (p->spare.set)
		close_spare(tm, p, TRANSPORT_CLOSE_DUPLICATE);
	p->spare = ref;
	p->spare_inbound = inbound;
	p->spare_since = time_mono_ms();
	tm->n_spares++;
	evloop_timer_arm(tm->spare_ev, TRANSPORT_SPARE_GRACE_MS);
}

int transport_conn_up(struct transport_mgr *tm, unsigned tid, uint64_t conn_id,
		      const uint8_t peer[TRANSPORT_HASH_BYTES], bool inbound)
{
	struct conn *c = conn_find(tm, tid, conn_id);
	struct peer *p;

	if (memcmp(peer, tm->self, TRANSPORT_HASH_BYTES) == 0)
		return ERR_ARG;
	if (!c) {
		if (BUG(!inbound))
			return ERR_ARG;
		if (tm->n_up + tm->n_attempts >= tm->lim.max_sessions &&
		    !peer_lookup(tm, peer))
			return ERR_LIMIT;
		p = peer_get(tm, peer);
		c = conn_add(tm, tid, conn_id, p);
	} else if (BUG(!c->peer ||
		       memcmp(c->peer->hash, peer, TRANSPORT_HASH_BYTES) != 0)) {
		return ERR_ARG;	/* an outbound attempt reached someone else */
	}
	p = c->peer;
	if (!inbound && p->attempt.set && p->attempt.tid == tid &&
	    p->attempt.cid == conn_id) {
		p->attempt.set = false;
		tm->n_attempts--;
	}
	if (p->up.set) {
		/* Send on the session dialled by the smaller router hash (both
		 * ends agree on it when both follow this rule); keep the
		 * other as the spare. */
		const uint8_t *old = initiator(tm, p, p->up_inbound);
		const uint8_t *new = initiator(tm, p, inbound);

		if (inbound)
			tm->st.sessions_in++;
		else
			tm->st.sessions_out++;
		if (memcmp(new, old, TRANSPORT_HASH_BYTES) >= 0) {
			set_spare(tm, p, (struct conn_ref){ true, tid, conn_id },
				  inbound);
			return 0;
		}
		set_spare(tm, p, p->up, p->up_inbound);
		p->up = (struct conn_ref){ true, tid, conn_id };
		p->up_inbound = inbound;
		if (p->qlen > 0)
			wake(tm, &p->up);
		return 0;
	}
	p->up = (struct conn_ref){ true, tid, conn_id };
	p->up_inbound = inbound;
	p->backoff_until = 0;
	tm->n_up++;
	if (inbound)
		tm->st.sessions_in++;
	else
		tm->st.sessions_out++;
	if (tm->hooks.peer_up)
		tm->hooks.peer_up(tm->hooks.ctx, p->hash, inbound);
	if (p->qlen > 0)
		wake(tm, &p->up);
	return 0;
}

void transport_conn_down(struct transport_mgr *tm, unsigned tid,
			 uint64_t conn_id)
{
	struct conn *c = conn_find(tm, tid, conn_id);
	struct peer *p;

	if (!c)
		return;
	p = c->peer;
	conn_del(tm, c);
	if (!p)
		return;
	if (p->spare.set && p->spare.tid == tid && p->spare.cid == conn_id) {
		p->spare.set = false;
		tm->n_spares--;
	} else if (p->up.set && p->up.tid == tid && p->up.cid == conn_id &&
		   p->spare.set) {
		/* The peer kept the other session: carry on over it. */
		p->up = p->spare;
		p->up_inbound = p->spare_inbound;
		p->spare.set = false;
		tm->n_spares--;
		if (p->qlen > 0)
			wake(tm, &p->up);
	} else if (p->up.set && p->up.tid == tid && p->up.cid == conn_id) {
		p->up.set = false;
		tm->n_up--;
		if (tm->hooks.peer_down)
			tm->hooks.peer_down(tm->hooks.ctx, p->hash);
		if (!p->attempt.set)
			queue_drop_all(tm, p);
	} else if (p->attempt.set && p->attempt.tid == tid &&
		   p->attempt.cid == conn_id) {
		p->attempt.set = false;
		tm->n_attempts--;
		if (!p->up.set) {
			tm->st.connect_failures++;
			p->backoff_until = time_mono_ms() +
					   TRANSPORT_RETRY_BACKOFF_MS;
			queue_drop_all(tm, p);
			if (tm->hooks.peer_failed)
				tm->hooks.peer_failed(tm->hooks.ctx, p->hash);
		}
	}
	peer_maybe_free(tm, p);
}

static struct peer *conn_peer(struct transport_mgr *tm, unsigned tid,
			      uint64_t conn_id)
{
	struct conn *c = conn_find(tm, tid, conn_id);

	if (!c || !c->peer || !c->peer->up.set || c->peer->up.tid != tid ||
	    c->peer->up.cid != conn_id)
		return NULL;
	return c->peer;
}

struct i2np_msg *transport_conn_pull(struct transport_mgr *tm, unsigned tid,
				     uint64_t conn_id, size_t max_len)
{
	struct peer *p = conn_peer(tm, tid, conn_id);
	struct i2np_msg *m = NULL;
	uint64_t now;

	if (!p)
		return NULL;
	if (tm->pulls++ % PULL_CLOCK_EVERY == 0)
		tm->now_ms = time_now_ms();
	now = tm->now_ms;
	while (p->qlen > 0) {
		struct i2np_msg *head = p->q[p->qhead];

		if (i2np_msg_is_expired(head, now)) {
			i2np_msg_free(queue_pop(tm, p));
			tm->st.msgs_dropped++;
			tm->st.msgs_expired++;
			continue;
		}
		if (head->len > max_len)
			break;
		m = queue_pop(tm, p);
		tm->st.msgs_out++;
		break;
	}
	if (p->above_low && p->qlen <= tm->lim.queue_low_msgs) {
		p->above_low = false;
		if (tm->hooks.queue_low)
			tm->hooks.queue_low(tm->hooks.ctx, p->hash);
	}
	return m;
}

void transport_conn_recv(struct transport_mgr *tm, unsigned tid,
			 uint64_t conn_id, struct i2np_msg *m)
{
	struct conn *c = conn_find(tm, tid, conn_id);
	struct peer *p = c ? c->peer : NULL;

	/* From the session we send on, or the spare the peer may use. */
	if (!p || !tm->hooks.recv ||
	    !((p->up.set && p->up.tid == tid && p->up.cid == conn_id) ||
	      (p->spare.set && p->spare.tid == tid &&
	       p->spare.cid == conn_id))) {
		i2np_msg_free(m);
		return;
	}
	tm->st.msgs_in++;
	tm->hooks.recv(tm->hooks.ctx, p->hash, m);
}

void transport_conn_ri(struct transport_mgr *tm, const uint8_t *ri, size_t len,
		       bool flood)
{
	if (tm->hooks.store_ri)
		tm->hooks.store_ri(tm->hooks.ctx, ri, len, flood);
}

void transport_count_bytes(struct transport_mgr *tm, size_t in, size_t out)
{
	tm->st.bytes_in += in;
	tm->st.bytes_out += out;
	rate_add(tm, in, out);
}
