/*
 * Our own tunnels (tunnels/tunnel_pool.h): building, pools, tests and
 * traffic, after geti2p.net/docs/tunnels/implementation and
 * geti2p.net/spec/tunnel-creation-ecies.  Tunnels live in one array per
 * manager (a router keeps tens of them); a tunnel that ends is marked
 * dead and freed by the next tick, never inside a callback.
 */
#include "config.h"
#include "tunnels/tunnel_pool.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"
#include "router/garlic_router.h"
#include "router/mapping.h"
#include "tunnels/build_record.h"
#include "tunnels/endpoint.h"
#include "tunnels/gateway.h"
#include "tunnels/layer.h"
#include "tunnels/tunnel_build.h"

#include <stdlib.h>
#include <string.h>

/* TunnelData is tunnel id ‖ 1024 bytes. */
#define TD_PAYLOAD_BYTES (4 + TUNNEL_MSG_BYTES)
/* Garlic inside a tunnel reply inside garlic: no deeper. */
#define LOCAL_MAX_DEPTH 2

enum own_state {
	OWN_BUILDING,
	OWN_LATE,		/* build timed out; a late reply still counts */
	OWN_READY,
	OWN_TEST_FAILED,	/* usable, but being replaced */
	OWN_DEAD,		/* freed by the next tick */
};

struct own_tunnel {
	struct tunnel_pool *pool;
	bool inbound;
	enum own_state state;
	enum tunnel_build_kind kind;
	unsigned n;
	uint8_t hops[TUNNEL_BUILD_MAX_HOPS][32];
	uint32_t hop_id[TUNNEL_BUILD_MAX_HOPS];
	uint32_t our_id;		/* inbound: the id we receive on */
	uint32_t zero_hop_id;		/* outbound build: reply straight in */
	struct tunnel_build *build;	/* while building */
	uint32_t reply_msg_id;
	bool has_garlic;		/* short outbound: the OBEP's reply */
	uint8_t garlic_key[32], garlic_tag[8];
	struct tunnel_layer layers[TUNNEL_BUILD_MAX_HOPS];
	bool has_layers;
	struct tunnel_endpoint *ep;	/* inbound */
	struct tunnel_gateway *gw;	/* outbound */
	/* outbound, with messages packed but not flushed (tunnel_mgr_flush
	 * sends them): the list's next */
	bool gw_listed;
	struct own_tunnel *gw_next;
	uint64_t started_ms, deadline_ms, expires_ms;	/* monotonic */
	uint64_t late_until_ms;		/* OWN_LATE: then dead */
	uint32_t test_id;
	uint64_t test_deadline_ms, next_test_ms;
	unsigned test_fails;
	bool hop_unreachable;		/* its next failed test is its last */
	bool standby;			/* a backup: tested, not used */
	bool shortened;			/* fewer hops than configured */
	uint64_t serial;		/* names it to tunnel_pool_send_on() */
	/* Paid relaying: the hops given a ticket (bit i: hops[i]), their
	 * keys for top-ups, the bytes of tunnel messages carried, carried at
	 * the last tick, and paid for so far to each hop (docs/relaypay.md
	 * §3.1). */
	uint8_t paid;
	uint32_t pay_tag;		/* the ticket function's tag */
	struct x25519_pk hop_pk[TUNNEL_BUILD_MAX_HOPS];
	uint64_t carried, carried_tick;
	uint64_t covered[TUNNEL_BUILD_MAX_HOPS];
};

struct tunnel_pool {
	struct tunnel_mgr *m;
	unsigned num;			/* 0: exploratory (tunnel_ticket_fn) */
	struct tunnel_pool_cfg cfg;
	struct tunnel_pool_stats st;
	uint64_t retry_at[2];		/* [inbound] */
	uint8_t order_key[2][SIPHASH_KEY_BYTES];	/* [inbound] */
	bool short_logged[2];
	/* With shortened tunnels: can full-length ones be had now (checked
	 * each TUNNEL_POOL_RETRY_MS)?  Then the shortened ones are replaced. */
	bool full_ok[2];
	uint64_t full_check_at[2];
	uint64_t short_since[2];	/* full length failing since; 0: not */
};

struct tunnel_mgr {
	struct tunnel_mgr_cfg cfg;
	struct tunnel_mgr_hooks h;
	tunnel_ticket_fn ticket;	/* paid relaying; NULL: none */
	void *ticket_ctx;
	uint64_t topup_bytes;		/* bytes a ticket pays; 0: no top-ups */
	/* tickets sent by pools since removed (in tunnel_mgr_stats) */
	uint64_t gone_tickets, gone_topups;
	enum peer_pay_policy pay;	/* paid or free hops */
	unsigned max_paid;
	/* tunnel_mgr_set_test_hops(): [inbound] fixed hops; n 0: drawn */
	uint8_t test_hops[2][TUNNEL_BUILD_MAX_HOPS][32];
	unsigned test_n[2];
	struct tunnel_pool **pools;	/* pools[0]: exploratory */
	size_t n_pools;
	unsigned pools_added;		/* the last tunnel_pool.num given */
	struct own_tunnel **t;
	size_t n, cap;
	uint64_t now_ms, mono_ms;	/* of the call being handled */
	uint64_t serials;		/* the last own_tunnel.serial given */
	/* outbound tunnels whose packed messages wait for tunnel_mgr_flush */
	struct own_tunnel *gw_list;
};

static const char *dir_name(bool inbound)
{
	return inbound ? "inbound" : "outbound";
}

/* ---- config ---- */

void tunnel_pool_cfg_default(struct tunnel_pool_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->in_length = c->out_length = TUNNEL_POOL_DEFAULT_LENGTH;
	c->in_quantity = c->out_quantity = TUNNEL_POOL_DEFAULT_QUANTITY;
	c->kind = PEER_SELECT_EXPLORATORY;
}

int tunnel_pool_cfg_check(const struct tunnel_pool_cfg *c)
{
	if (c->in_length > TUNNEL_POOL_MAX_LENGTH ||
	    c->out_length > TUNNEL_POOL_MAX_LENGTH ||
	    c->in_quantity < 1 || c->in_quantity > TUNNEL_POOL_MAX_QUANTITY ||
	    c->out_quantity < 1 || c->out_quantity > TUNNEL_POOL_MAX_QUANTITY ||
	    c->in_variance > TUNNEL_POOL_MAX_VARIANCE ||
	    c->in_variance < -TUNNEL_POOL_MAX_VARIANCE ||
	    c->out_variance > TUNNEL_POOL_MAX_VARIANCE ||
	    c->out_variance < -TUNNEL_POOL_MAX_VARIANCE ||
	    c->in_backup > TUNNEL_POOL_MAX_BACKUP ||
	    c->out_backup > TUNNEL_POOL_MAX_BACKUP)
		return ERR_RANGE;
	return 0;
}

/* ---- tunnels ---- */

static void own_free(struct own_tunnel *t)
{
	for (unsigned i = 0; i < t->n && t->has_layers; i++)
		tunnel_layer_wipe(&t->layers[i]);
	tunnel_build_free(t->build);
	tunnel_endpoint_free(t->ep);
	tunnel_gateway_free(t->gw);
	xfree_wipe(t, sizeof(*t));
}

static bool is_usable(const struct own_tunnel *t)
{
	return t->state == OWN_READY || t->state == OWN_TEST_FAILED;
}

bool tunnel_mgr_id_in_use(const struct tunnel_mgr *m, uint32_t id)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct own_tunnel *t = m->t[i];

		if (t->state != OWN_DEAD &&
		    ((t->inbound && t->our_id == id) || t->zero_hop_id == id))
			return true;
	}
	return false;
}

static uint32_t new_id(const struct tunnel_mgr *m)
{
	uint32_t v;

	do
		v = (uint32_t)rand_u64();
	while (v == 0 || tunnel_mgr_id_in_use(m, v));
	return v;
}

static void add_tunnel(struct tunnel_mgr *m, struct own_tunnel *t)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->t = xrealloc(m->t, m->cap * sizeof(*m->t));
	}
	t->serial = ++m->serials;
	m->t[m->n++] = t;
}

/* Waiting for the reply of a build: in time, or late. */
static bool is_pending(const struct own_tunnel *t)
{
	return t->state == OWN_BUILDING || t->state == OWN_LATE;
}

/* Free the dead tunnels (from the tick only). */
static void reap(struct tunnel_mgr *m)
{
	size_t k = 0;

	tunnel_mgr_flush(m);		/* the list points at tunnels */
	for (size_t i = 0; i < m->n; i++) {
		if (m->t[i]->state == OWN_DEAD)
			own_free(m->t[i]);
		else
			m->t[k++] = m->t[i];
	}
	m->n = k;
}

static void profile_all(struct tunnel_mgr *m, const struct own_tunnel *t,
			enum peer_event ev)
{
	for (unsigned i = 0; i < t->n; i++)
		peer_profiles_record(m->cfg.profiles, t->hops[i], ev, m->now_ms);
}

static bool has_hop(const struct own_tunnel *t, const uint8_t peer[32])
{
	for (unsigned i = 0; i < t->n; i++)
		if (memcmp(t->hops[i], peer, 32) == 0)
			return true;
	return false;
}

/*
 * peer could not be reached: marked unreachable, and each of our tunnels
 * through it is handled as if it had failed a test (traffic and tests
 * move to the others, a replacement is built) and tested at once, its
 * next failed test its last; a passed test puts it back in use.  A
 * killed router's tunnels went on carrying traffic into it until two
 * tests had failed (30-45 s), while its neighbours' connections to it
 * were refused within a second.
 */
static void peer_unreachable(struct tunnel_mgr *m, const uint8_t peer[32],
			     uint64_t now_ms)
{
	peer_profiles_mark_unreachable(m->cfg.profiles, peer, now_ms);
	for (size_t i = 0; i < m->n; i++) {
		struct own_tunnel *t = m->t[i];

		if (t->state != OWN_READY || !has_hop(t, peer))
			continue;
		t->state = OWN_TEST_FAILED;
		t->hop_unreachable = true;
		t->next_test_ms = 0;
		if (!t->inbound)
			continue;
		/* an inbound one is tested with an outbound one's test */
		for (size_t k = 0; k < m->n; k++)
			if (m->t[k]->pool == t->pool && !m->t[k]->inbound &&
			    !m->t[k]->test_id)
				m->t[k]->next_test_ms = 0;
	}
}

/* Send msg (taken) to hop, the first of one of our tunnels; a hop the
 * send hook cannot reach is marked unreachable. */
static void send_first(struct tunnel_mgr *m, const uint8_t hop[32],
		       struct i2np_msg *msg)
{
	int r = m->h.send(m->h.ctx, hop, msg);

	if (r != 0 && r != ERR_LIMIT)
		peer_unreachable(m, hop, m->now_ms);
}

void tunnel_mgr_peer_unreachable(struct tunnel_mgr *m, const uint8_t peer[32],
				 uint64_t now_ms)
{
	peer_unreachable(m, peer, now_ms);
}

static size_t quantity(const struct tunnel_pool_cfg *c, bool inbound)
{
	return inbound ? c->in_quantity : c->out_quantity;
}

/* How long before a tunnel's end its replacement is built: half the
 * lifetime when that is shorter, or a tunnel of a 60 s lifetime would be
 * due for replacement the moment it was built. */
static uint64_t rebuild_before(const struct tunnel_mgr *m)
{
	return m->cfg.lifetime_ms / 2 < TUNNEL_REBUILD_BEFORE_MS ?
		       m->cfg.lifetime_ms / 2 : TUNNEL_REBUILD_BEFORE_MS;
}

/* Ready and not due for replacement. */
static bool is_fresh(const struct tunnel_mgr *m, const struct own_tunnel *t)
{
	return t->state == OWN_READY &&
	       m->mono_ms + rebuild_before(m) < t->expires_ms;
}

/* Tunnels of p in a direction in use: fresh and not standby. */
static size_t active(const struct tunnel_mgr *m, const struct tunnel_pool *p,
		     bool inbound)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct own_tunnel *t = m->t[i];

		k += t->pool == p && t->inbound == inbound && !t->standby &&
		     is_fresh(m, t);
	}
	return k;
}

/* A tunnel about to be ready: standby when its pool has its quantity in
 * use already. */
static void set_standby(struct tunnel_mgr *m, struct own_tunnel *t)
{
	t->standby = active(m, t->pool, t->inbound) >=
		     quantity(&t->pool->cfg, t->inbound);
}

/* Put standby tunnels into use while p has fewer than its quantity in
 * use (one failed a test or nears its expiry), the longest-lived first. */
static void promote(struct tunnel_mgr *m, struct tunnel_pool *p, bool inbound)
{
	for (size_t have = active(m, p, inbound);
	     have < quantity(&p->cfg, inbound); have++) {
		struct own_tunnel *best = NULL;

		for (size_t i = 0; i < m->n; i++) {
			struct own_tunnel *t = m->t[i];

			if (t->pool == p && t->inbound == inbound &&
			    t->standby && is_fresh(m, t) &&
			    (!best || t->expires_ms > best->expires_ms))
				best = t;
		}
		if (!best)
			return;
		best->standby = false;
		log_info(LD_TUNNEL, "standby %s tunnel %08x now in use",
			 dir_name(inbound),
			 inbound ? best->our_id : best->hop_id[0]);
	}
}

/* ---- pools ---- */

static struct tunnel_pool *pool_new(struct tunnel_mgr *m,
				    const struct tunnel_pool_cfg *cfg)
{
	struct tunnel_pool *p = xzalloc(sizeof(*p));

	p->m = m;
	p->cfg = *cfg;
	p->num = m->n_pools ? ++m->pools_added : 0;
	rand_bytes(p->order_key, sizeof(p->order_key));
	m->pools = xrealloc(m->pools, (m->n_pools + 1) * sizeof(*m->pools));
	m->pools[m->n_pools++] = p;
	return p;
}

int tunnel_mgr_new(const struct tunnel_mgr_cfg *cfg,
		   const struct tunnel_mgr_hooks *hooks, struct tunnel_mgr **out)
{
	struct tunnel_mgr *m;
	int r;

	if ((r = tunnel_pool_cfg_check(&cfg->exploratory)) != 0)
		return r;
	if (!hooks->send || !cfg->store || !cfg->profiles)
		return ERR_ARG;
	m = xzalloc(sizeof(*m));
	m->cfg = *cfg;
	if (!m->cfg.lifetime_ms || m->cfg.lifetime_ms > TUNNEL_LIFETIME_MS)
		m->cfg.lifetime_ms = TUNNEL_LIFETIME_MS;
	m->h = *hooks;
	pool_new(m, &cfg->exploratory);
	*out = m;
	return 0;
}

void tunnel_mgr_free(struct tunnel_mgr *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		own_free(m->t[i]);
	free(m->t);
	for (size_t i = 0; i < m->n_pools; i++)
		free(m->pools[i]);
	free(m->pools);
	free(m);
}

void tunnel_mgr_set_ticket_fn(struct tunnel_mgr *m, tunnel_ticket_fn fn,
			      void *ctx)
{
	m->ticket = fn;
	m->ticket_ctx = ctx;
}

void tunnel_mgr_set_topup(struct tunnel_mgr *m, uint64_t bytes)
{
	m->topup_bytes = bytes;
}

void tunnel_mgr_set_pay_policy(struct tunnel_mgr *m,
			       enum peer_pay_policy pay, unsigned max_paid)
{
	m->pay = pay;
	m->max_paid = max_paid;
}

int tunnel_mgr_set_test_hops(struct tunnel_mgr *m, bool inbound,
			     const uint8_t (*ids)[32], unsigned n)
{
	if (n > TUNNEL_BUILD_MAX_HOPS)
		return ERR_ARG;
	if (n)
		memcpy(m->test_hops[inbound], ids, (size_t)n * 32);
	m->test_n[inbound] = n;
	return 0;
}

struct tunnel_pool *tunnel_mgr_exploratory(struct tunnel_mgr *m)
{
	return m->pools[0];
}

const struct peer_profiles *tunnel_mgr_profiles(const struct tunnel_mgr *m)
{
	return m->cfg.profiles;
}

int tunnel_mgr_add_pool(struct tunnel_mgr *m, const struct tunnel_pool_cfg *cfg,
			struct tunnel_pool **out)
{
	int r;

	if ((r = tunnel_pool_cfg_check(cfg)) != 0)
		return r;
	*out = pool_new(m, cfg);
	return 0;
}

void tunnel_pool_remove(struct tunnel_pool *p)
{
	struct tunnel_mgr *m = p->m;
	size_t k = 0;

	if (p == m->pools[0])
		return;
	tunnel_mgr_flush(m);		/* the list points at tunnels */
	for (size_t i = 0; i < m->n; i++) {
		if (m->t[i]->pool == p)
			own_free(m->t[i]);
		else
			m->t[k++] = m->t[i];
	}
	m->n = k;
	m->gone_tickets += p->st.tickets_sent;
	m->gone_topups += p->st.topups_sent;
	for (size_t i = 1; i < m->n_pools; i++) {
		if (m->pools[i] == p) {
			m->pools[i] = m->pools[--m->n_pools];
			break;
		}
	}
	free(p);
}

/* t should give way to a fresh tunnel: near its end, failing its tests,
 * or shortened while full-length ones can be had. */
static bool is_late(const struct tunnel_pool *p, const struct own_tunnel *t)
{
	return p->m->mono_ms + rebuild_before(p->m) >= t->expires_ms ||
	       t->state == OWN_TEST_FAILED ||
	       (t->shortened && p->full_ok[t->inbound]);
}

/* A usable tunnel of p in a direction, preferring those not about to
 * expire; NULL when there is none. */
static struct own_tunnel *pick(const struct tunnel_pool *p, bool inbound,
			       bool untested_only)
{
	const struct tunnel_mgr *m = p->m;
	struct own_tunnel *best[2][TUNNEL_POOL_MAX_QUANTITY * 4];
	size_t nb[2] = { 0, 0 };

	for (size_t i = 0; i < m->n; i++) {
		struct own_tunnel *t = m->t[i];
		unsigned late;

		/* tests (untested_only) take standby tunnels too */
		if (t->pool != p || t->inbound != inbound || !is_usable(t) ||
		    (untested_only && t->test_id) ||
		    (!untested_only && t->standby))
			continue;
		late = is_late(p, t);
		if (nb[late] < ARRAY_LEN(best[late]))
			best[late][nb[late]++] = t;
	}
	for (unsigned k = 0; k < 2; k++)
		if (nb[k])
			return best[k][rand_uniform((uint32_t)nb[k])];
	return NULL;
}

/*
 * The inbound tunnel an outbound build's OBEP sends its reply to: one of
 * p's, else one of the exploratory pool's, whose gateway is not obep.
 * i2pd 2.45.1 as an OBEP holds or drops a build reply addressed to its
 * own inbound gateway (seen with one-hop pools: the replies came with
 * the next tunnel test through it, 7-20 s late, or never). NULL when no
 * tunnel fits; *same_gw then says whether one through obep exists.
 */
static struct own_tunnel *pick_reply(const struct tunnel_pool *p,
				     const uint8_t obep[32], bool *same_gw)
{
	const struct tunnel_pool *pools[2] = { p, p->m->pools[0] };

	*same_gw = false;
	for (unsigned k = 0; k < 2; k++) {
		struct own_tunnel *t = NULL;

		/* pick() draws at random: a few draws find another gateway
		 * when there is one, with the same preferences */
		for (unsigned i = 0; i < 8; i++) {
			if (!(t = pick(pools[k], true, false)))
				break;
			if (memcmp(t->hops[0], obep, 32) != 0)
				return t;
			*same_gw = true;
		}
	}
	return NULL;
}

/* ---- sending through an outbound tunnel ---- */

/* The pool whose zero-hop tunnel receives on id (an established
 * zero-hop inbound tunnel, or the reply tunnel of an outbound build);
 * NULL when none does. */
static struct tunnel_pool *zero_hop_receiver(const struct tunnel_mgr *m,
					     uint32_t id)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct own_tunnel *t = m->t[i];

		if (t->inbound && t->n == 0 && is_usable(t) &&
		    t->our_id == id)
			return t->pool;
		if (is_pending(t) && t->zero_hop_id &&
		    t->zero_hop_id == id)
			return t->pool;
	}
	return NULL;
}

/* A zero-hop outbound tunnel: we are its gateway and endpoint, so msg
 * (taken) goes straight to the router to, or as a TunnelGateway message
 * to the gateway to of tunnel tunnel_id.  To ourselves it goes through
 * the send hook too (which loops it back later), never into a handler
 * from inside a send. */
static int send_direct(struct tunnel_mgr *m, struct own_tunnel *t,
		       const uint8_t to[32], uint32_t tunnel_id,
		       struct i2np_msg *msg)
{
	struct bbuf b = BBUF_INIT;
	struct i2np_msg *gm;

	t->pool->st.msgs_sent++;
	if (!tunnel_id)
		return m->h.send(m->h.ctx, to, msg);
	i2np_tunnel_gateway_encode(tunnel_id, msg, &b);
	i2np_msg_free(msg);
	gm = i2np_msg_new(I2NP_TUNNEL_GATEWAY, b.data, b.len,
			  TUNNEL_MSG_TTL_MS);
	bbuf_free(&b);
	return m->h.send(m->h.ctx, to, gm);
}

/* The outbound tunnel t's packed messages, the last one padded out,
 * pre-decrypted with its hops' layers and sent to its first hop. */
static int gateway_send(struct tunnel_mgr *m, struct own_tunnel *t)
{
	uint8_t buf[TUNNEL_MSG_BYTES];
	int r = 0;

	tunnel_gateway_flush(t->gw);
	while (tunnel_gateway_pop(t->gw, buf)) {
		uint8_t *p;

		if ((r = tunnel_layer_peel(t->layers, t->n, buf)) != 0)
			break;
		p = xmalloc(TD_PAYLOAD_BYTES);
		be32_put(p, t->hop_id[0]);
		memcpy(p + 4, buf, TUNNEL_MSG_BYTES);
		t->carried += TD_PAYLOAD_BYTES;
		send_first(m, t->hops[0],
			   i2np_msg_new_take(I2NP_TUNNEL_DATA, p,
					     TD_PAYLOAD_BYTES,
					     TUNNEL_MSG_TTL_MS));
	}
	memwipe(buf, sizeof(buf));
	return r;
}

void tunnel_mgr_flush(struct tunnel_mgr *m)
{
	while (m->gw_list) {
		struct own_tunnel *t = m->gw_list;

		m->gw_list = t->gw_next;
		t->gw_next = NULL;
		t->gw_listed = false;
		(void)gateway_send(m, t);
	}
}

/*
 * msg (taken) into outbound tunnel t for the router to, or the gateway to
 * of its tunnel tunnel_id.  With the flush_soon hook the messages of one
 * loop pass share the tunnel's messages (a 200-byte ACK does not take a
 * 1 KB TunnelData through every hop alone) and leave at
 * tunnel_mgr_flush(); without it, at once.
 */
static int send_through(struct tunnel_mgr *m, struct own_tunnel *t,
			const uint8_t to[32], uint32_t tunnel_id,
			struct i2np_msg *msg)
{
	struct bbuf b = BBUF_INIT;
	int r;

	if (t->n == 0)
		return send_direct(m, t, to, tunnel_id, msg);
	i2np_msg_encode(msg, &b);
	i2np_msg_free(msg);
	r = tunnel_gateway_put(t->gw, tunnel_id ? TUNNEL_DELIVER_TUNNEL
						: TUNNEL_DELIVER_ROUTER,
			       tunnel_id, to, b.data, b.len);
	bbuf_free(&b);
	if (r != 0)
		return r;
	t->pool->st.msgs_sent++;
	if (!m->h.flush_soon)
		return gateway_send(m, t);
	if (!t->gw_listed) {
		t->gw_listed = true;
		t->gw_next = m->gw_list;
		if (!m->gw_list)
			m->h.flush_soon(m->h.ctx);
		m->gw_list = t;
	}
	return 0;
}

int tunnel_pool_send(struct tunnel_pool *p, const uint8_t to[32],
		     uint32_t tunnel_id, struct i2np_msg *msg,
		     uint64_t mono_ms)
{
	struct own_tunnel *t;

	p->m->mono_ms = mono_ms;
	if (!(t = pick(p, false, false))) {
		i2np_msg_free(msg);
		return ERR_NOT_FOUND;
	}
	return send_through(p->m, t, to, tunnel_id, msg);
}

int tunnel_pool_send_on(struct tunnel_pool *p, uint64_t *path,
			const uint8_t to[32], uint32_t tunnel_id,
			struct i2np_msg *msg, uint64_t mono_ms)
{
	struct tunnel_mgr *m = p->m;
	struct own_tunnel *t = NULL;

	m->mono_ms = mono_ms;
	for (size_t i = 0; *path && i < m->n; i++)
		if (m->t[i]->serial == *path) {
			t = m->t[i];
			break;
		}
	if (!t || t->pool != p || t->inbound || !is_usable(t) ||
	    t->standby || is_late(p, t)) {
		if (!(t = pick(p, false, false))) {
			i2np_msg_free(msg);
			return ERR_NOT_FOUND;
		}
		*path = t->serial;
	}
	return send_through(m, t, to, tunnel_id, msg);
}

int tunnel_pool_reply_path(const struct tunnel_pool *p, uint8_t gateway[32],
			   uint32_t *tunnel_id, uint64_t mono_ms)
{
	const struct own_tunnel *t;

	p->m->mono_ms = mono_ms;
	if (!(t = pick(p, true, false)))
		return ERR_NOT_FOUND;
	memcpy(gateway, t->hops[0], 32);
	*tunnel_id = t->hop_id[0];
	return 0;
}

int tunnel_pool_hops(const struct tunnel_pool *p, bool inbound, size_t i,
		     uint8_t hops[][32], unsigned *n)
{
	const struct tunnel_mgr *m = p->m;

	for (size_t k = 0; k < m->n; k++) {
		const struct own_tunnel *t = m->t[k];

		if (t->pool != p || t->inbound != inbound || !is_usable(t) ||
		    t->standby)
			continue;
		if (i-- == 0) {
			memcpy(hops, t->hops, (size_t)t->n * 32);
			*n = t->n;
			return 0;
		}
	}
	return ERR_NOT_FOUND;
}

int tunnel_pool_lease(const struct tunnel_pool *p, size_t i,
		      uint8_t gateway[32], uint32_t *tunnel_id,
		      uint64_t *expires_mono_ms)
{
	const struct tunnel_mgr *m = p->m;

	for (size_t k = 0; k < m->n; k++) {
		const struct own_tunnel *t = m->t[k];

		if (t->pool != p || !t->inbound || !is_usable(t) || t->standby)
			continue;
		if (i-- == 0) {
			memcpy(gateway, t->hops[0], 32);
			*tunnel_id = t->hop_id[0];
			*expires_mono_ms = t->expires_ms;
			return 0;
		}
	}
	return ERR_NOT_FOUND;
}

/* ---- building ---- */

/* A zero-hop tunnel of p: nothing to build.  Inbound, we are its
 * gateway and endpoint (its lease names us and the id we receive on);
 * outbound, messages leave us directly. */
static struct own_tunnel *zero_hop(struct tunnel_pool *p, bool inbound)
{
	struct tunnel_mgr *m = p->m;
	struct own_tunnel *t = xzalloc(sizeof(*t));

	t->pool = p;
	t->inbound = inbound;
	set_standby(m, t);
	t->state = OWN_READY;
	t->n = 0;
	memcpy(t->hops[0], m->cfg.self, 32);
	if (inbound)
		t->our_id = t->hop_id[0] = new_id(m);
	t->started_ms = m->mono_ms;
	t->expires_ms = m->mono_ms + m->cfg.lifetime_ms;
	t->next_test_ms = m->mono_ms;
	add_tunnel(m, t);
	p->st.builds_started++;
	p->st.builds_ok++;
	log_info(LD_TUNNEL, "zero-hop %s tunnel %08x%s", dir_name(inbound),
		 t->our_id, t->standby ? " (standby)" : "");
	return t;
}

/* The length of p's next tunnel of a direction (see the header). */
static unsigned pool_length(const struct tunnel_pool_cfg *c, bool inbound)
{
	int len = (int)(inbound ? c->in_length : c->out_length);
	int var = inbound ? c->in_variance : c->out_variance;
	int lo = len == 0 || c->allow_zero_hop ? 0 : 1;

	if (var > 0) {
		len += (int)rand_uniform((uint32_t)var + 1);
	} else if (var < 0) {
		int off = (int)rand_uniform((uint32_t)(1 - var));

		len += rand_uniform(2) ? off : -off;
	}
	if (len < lo)
		len = lo;
	if (len > TUNNEL_POOL_MAX_LENGTH)
		len = TUNNEL_POOL_MAX_LENGTH;
	return (unsigned)len;
}

/*
 * Hops for a tunnel of p of len (≥ 1) hops into hops, in p's order:
 * without unreachable routers, else with them; once full length without
 * them has failed for TUNNEL_POOL_SHORTEN_AFTER_MS, shorter ones without
 * them come first, down to one hop (or zero when p allows it).  Returns the number of hops
 * (0: a zero-hop tunnel), or -1 when there are too few routers (yet).
 */
static int select_hops(struct tunnel_pool *p, bool inbound, unsigned len,
		       struct tunnel_build_hop *hops, bool *need_long)
{
	struct tunnel_mgr *m = p->m;
	struct peer_select_cfg sc;

	memset(&sc, 0, sizeof(sc));
	memcpy(sc.self, m->cfg.self, 32);
	sc.allow_same_subnet = m->cfg.allow_same_subnet;
	sc.pay = m->pay;
	sc.max_paid = m->max_paid;
	if (m->test_n[inbound])		/* len is test_n: start_build() */
		return peer_select_fixed(&sc, m->cfg.store,
					 (const uint8_t (*)[32])
					 m->test_hops[inbound], len, m->now_ms,
					 hops, need_long) == 0 ? (int)len : -1;
	if (peer_select_hops(&sc, m->cfg.store, m->cfg.profiles, p->cfg.kind,
			     NULL, 0, len, m->now_ms, hops, need_long) == 0) {
		p->short_since[inbound] = 0;
		peer_select_order(hops, len, p->order_key[inbound]);
		return (int)len;
	}
	/* Not shorter at once: the netDb may still be loading.  Until then,
	 * unreachable routers as a last resort (all of them are marked when
	 * our own load made every build time out). */
	if (!p->short_since[inbound])
		p->short_since[inbound] = m->mono_ms;
	if (m->mono_ms < p->short_since[inbound] +
			 TUNNEL_POOL_SHORTEN_AFTER_MS) {
		sc.use_unreachable = true;
		if (peer_select_hops(&sc, m->cfg.store, m->cfg.profiles,
				     p->cfg.kind, NULL, 0, len, m->now_ms, hops,
				     need_long) != 0)
			return -1;
		peer_select_order(hops, len, p->order_key[inbound]);
		return (int)len;
	}
	for (unsigned pass = 0; pass < 2; pass++) {
		sc.use_unreachable = pass == 1;
		for (unsigned n = pass ? len : len - 1; n >= 1; n--) {
			if (peer_select_hops(&sc, m->cfg.store,
					     m->cfg.profiles, p->cfg.kind,
					     NULL, 0, n, m->now_ms, hops,
					     need_long) != 0)
				continue;
			peer_select_order(hops, n, p->order_key[inbound]);
			return (int)n;
		}
		if (p->cfg.allow_zero_hop)
			return 0;
	}
	return -1;
}

/* p's next tunnel of a direction has got hops where len were asked. */
static void note_length(struct tunnel_pool *p, bool inbound, unsigned len,
			unsigned got)
{
	bool *flag = inbound ? &p->st.in_shortened : &p->st.out_shortened;

	*flag = got < len;
	if (got == len)
		return;
	p->st.builds_short++;
	if (p->short_logged[inbound]) {
		log_info(LD_TUNNEL, "too few routers: a %u-hop %s tunnel for "
			 "%u hops", got, dir_name(inbound), len);
		return;
	}
	p->short_logged[inbound] = true;
	log_notice(LD_TUNNEL, "too few usable routers for %u-hop %s %s "
		   "tunnels: building %u-hop ones until there are more", len,
		   p->cfg.kind == PEER_SELECT_CLIENT ? "client" : "exploratory",
		   dir_name(inbound), got);
}

/* Paid relaying: ask the embedder for each hop's ticket and put it in
 * that hop's record options (docs/relaypay.md §3).  opts[0..len) are
 * initialised here; returns the hops that got one (bit i: hops[i]; any:
 * long records needed). */
static uint8_t add_tickets(struct tunnel_pool *p, bool inbound, unsigned len,
			   struct tunnel_build_hop *hops, struct mapping *opts,
			   uint32_t *tag, uint64_t *covered)
{
	uint8_t mask = 0;

	const struct tunnel_mgr *m = p->m;
	uint8_t tk[TUNNEL_BUILD_TICKET_MAX_BYTES];
	unsigned got = 0;

	for (unsigned i = 0; i < len; i++) {
		size_t n;

		mapping_init(&opts[i]);
		covered[i] = m->topup_bytes;
		if (!m->ticket ||
		    (n = m->ticket(m->ticket_ctx, hops[i].ident, inbound,
				   p->num, tag, &covered[i], tk,
				   sizeof(tk))) == 0 ||
		    n > sizeof(tk) ||
		    tunnel_build_opts_set_ticket(&opts[i], tk, n) != 0)
			continue;
		hops[i].opts = &opts[i];
		mask |= (uint8_t)(1u << i);
		got++;
	}
	memwipe(tk, sizeof(tk));
	if (got) {
		p->st.tickets_sent += got;
		log_debug(LD_TUNNEL, "tunnels: %u of %u hops of an %s tunnel "
			  "get a ticket (long records)", got, len,
			  dir_name(inbound));
	}
	return mask;
}

static void start_build(struct tunnel_pool *p, bool inbound)
{
	struct tunnel_mgr *m = p->m;
	struct tunnel_build_cfg bc;
	struct mapping opts[TUNNEL_BUILD_MAX_HOPS];
	struct own_tunnel *t, *rp, *ob = NULL;
	struct bbuf msg = BBUF_INIT;
	struct i2np_msg *im;
	unsigned len = m->test_n[inbound] ? m->test_n[inbound]
					  : pool_length(&p->cfg, inbound);
	bool need_long = false, shortened;
	uint8_t paid;
	uint32_t tag = 0;
	uint64_t covered[TUNNEL_BUILD_MAX_HOPS];
	int r, got;

	if (len == 0) {
		(void)zero_hop(p, inbound);
		return;
	}
	memset(&bc, 0, sizeof(bc));
	if ((got = select_hops(p, inbound, len, bc.hops, &need_long)) < 0) {
		log_debug(LD_TUNNEL, "no %u peers for an %s tunnel yet", len,
			  dir_name(inbound));
		p->retry_at[inbound] = m->mono_ms + TUNNEL_POOL_RETRY_MS;
		return;
	}
	note_length(p, inbound, len, (unsigned)got);
	/* shorter than the configured length (variance aside): replaced
	 * once full-length tunnels can be had (check_full()) */
	shortened = !m->test_n[inbound] && (unsigned)got <
		    (inbound ? p->cfg.in_length : p->cfg.out_length);
	if (got == 0) {
		zero_hop(p, inbound)->shortened = shortened;
		return;
	}
	len = (unsigned)got;
	if ((paid = add_tickets(p, inbound, len, bc.hops, opts, &tag,
				covered)) != 0)
		need_long = true;
	t = xzalloc(sizeof(*t));
	t->paid = paid;
	t->pay_tag = tag;
	memcpy(t->covered, covered, len * sizeof(*covered));
	t->pool = p;
	t->inbound = inbound;
	t->state = OWN_BUILDING;
	t->shortened = shortened;
	t->n = len;
	bc.kind = t->kind = need_long ? TUNNEL_BUILD_LONG : TUNNEL_BUILD_SHORT;
	bc.inbound = inbound;
	bc.n_hops = len;
	memcpy(bc.self, m->cfg.self, 32);
	bc.now_ms = m->now_ms;
	if (!inbound) {
		/* The reply comes through an inbound tunnel of ours, or
		 * before we have one, to a zero-hop tunnel: us. */
		bool same_gw;

		rp = pick_reply(p, bc.hops[len - 1].ident, &same_gw);
		/* Only its one hop, which knows us already, learns from a
		 * reply straight to us; a longer tunnel takes a reply
		 * tunnel through its OBEP rather */
		if (!rp && same_gw && len > 1 && !(rp = pick(p, true, false)))
			rp = pick(m->pools[0], true, false);
		if (rp) {
			memcpy(bc.reply_gateway, rp->hops[0], 32);
			bc.reply_tunnel_id = rp->hop_id[0];
		} else {
			t->zero_hop_id = new_id(m);
			memcpy(bc.reply_gateway, m->cfg.self, 32);
			bc.reply_tunnel_id = t->zero_hop_id;
		}
	}
	r = tunnel_build_create(&bc, &t->build, &msg);
	for (unsigned i = 0; i < len; i++)
		mapping_clear(&opts[i]);
	if (r != 0) {
		log_info(LD_TUNNEL, "cannot build an %s tunnel: %s",
			 dir_name(inbound), err_str(r));
		bbuf_free(&msg);
		own_free(t);
		p->retry_at[inbound] = m->mono_ms + TUNNEL_POOL_RETRY_MS;
		return;
	}
	for (unsigned i = 0; i < len; i++) {
		memcpy(t->hops[i], bc.hops[i].ident, 32);
		t->hop_pk[i] = bc.hops[i].enc_pk;
		t->hop_id[i] = tunnel_build_hop_id(t->build, i);
	}
	if (inbound)
		t->our_id = tunnel_build_endpoint_id(t->build);
	t->reply_msg_id = tunnel_build_reply_msg_id(t->build);
	if (!inbound) {
		const struct tunnel_build_keys *k =
			tunnel_build_hop_keys(t->build, len - 1);

		if (k->has_garlic) {
			t->has_garlic = true;
			memcpy(t->garlic_key, k->garlic_key, 32);
			memcpy(t->garlic_tag, k->garlic_tag, 8);
		}
	}
	t->started_ms = m->mono_ms;
	t->deadline_ms = m->mono_ms + TUNNEL_BUILD_TIMEOUT_MS;
	add_tunnel(m, t);
	p->st.builds_started++;
	im = i2np_msg_new(t->kind == TUNNEL_BUILD_LONG
				  ? I2NP_VARIABLE_TUNNEL_BUILD
				  : I2NP_SHORT_TUNNEL_BUILD,
			  msg.data, msg.len, TUNNEL_BUILD_MSG_TTL_MS);
	im->msg_id = tunnel_build_first_msg_id(t->build);
	bbuf_free(&msg);
	{
		char h1[72], hl[72], hr[72];

		log_debug(LD_TUNNEL, "building an %s tunnel of %u hops (%s "
			  "records): first %s, last %s, reply gateway %s",
			  dir_name(inbound), len,
			  t->kind == TUNNEL_BUILD_LONG ? "long" : "short",
			  log_safe_hash(h1, sizeof(h1), t->hops[0]),
			  log_safe_hash(hl, sizeof(hl), t->hops[len - 1]),
			  inbound ? "-" : log_safe_hash(hr, sizeof(hr),
							bc.reply_gateway));
	}
	/* An inbound build goes to its gateway through one of our outbound
	 * tunnels when we have one, so the gateway does not learn that we
	 * are the creator; an outbound one goes to its first hop (us being
	 * the gateway anyway). */
	if (inbound && ((ob = pick(p, false, false)) != NULL ||
			(ob = pick(m->pools[0], false, false)) != NULL)) {
		(void)send_through(m, ob, t->hops[0], 0, im);	/* takes im */
		return;
	}
	send_first(m, t->hops[0], im);
}

static void deliver_cb(void *ctx, const struct tunnel_endpoint_msg *em);

static void build_done(struct tunnel_mgr *m, struct own_tunnel *t)
{
	struct tunnel_pool *p = t->pool;
	char h[72];

	for (unsigned i = 0; i < t->n; i++) {
		const struct tunnel_build_keys *k =
			tunnel_build_hop_keys(t->build, i);

		tunnel_layer_init(&t->layers[i], k->layer_key, k->iv_key);
	}
	t->has_layers = true;
	FREE_AND_NULL(tunnel_build_free, t->build);
	memwipe(t->garlic_key, sizeof(t->garlic_key));
	t->has_garlic = false;
	t->zero_hop_id = 0;
	if (t->inbound)
		t->ep = tunnel_endpoint_new(deliver_cb, t, NULL);
	else
		t->gw = tunnel_gateway_new();
	set_standby(m, t);
	t->state = OWN_READY;
	t->expires_ms = t->started_ms + m->cfg.lifetime_ms;
	t->next_test_ms = m->mono_ms;
	p->st.builds_ok++;
	log_info(LD_TUNNEL, "%s tunnel %08x built: %u hops, first %s%s",
		 dir_name(t->inbound),
		 t->inbound ? t->our_id : t->hop_id[0], t->n,
		 log_safe_hash(h, sizeof(h), t->hops[0]),
		 t->standby ? " (standby)" : "");
	for (unsigned i = 0; i < t->n; i++)
		log_debug(LD_TUNNEL, "tunnel %08x hop %u: %s receives on %u",
			  t->inbound ? t->our_id : t->hop_id[0], i,
			  log_safe_hash(h, sizeof(h), t->hops[i]),
			  t->hop_id[i]);
}

/* The reply records of t's build (records n of them, in place). */
static void build_reply(struct tunnel_mgr *m, struct own_tunnel *t,
			uint8_t *records, unsigned n)
{
	struct tunnel_pool *p = t->pool;
	uint8_t codes[TUNNEL_BUILD_MAX_HOPS];
	uint64_t ms = m->mono_ms - t->started_ms;
	bool ok = true, late = t->state == OWN_LATE;
	int r;

	if ((r = tunnel_build_reply_process(t->build, records, n, codes)) != 0) {
		log_info(LD_TUNNEL, "%s build reply refused: %s",
			 dir_name(t->inbound), err_str(r));
		p->st.builds_bad++;
		t->state = OWN_DEAD;
		p->retry_at[t->inbound] = m->mono_ms + TUNNEL_POOL_RETRY_MS;
		return;
	}
	if (ms > UINT32_MAX)
		ms = UINT32_MAX;
	for (unsigned i = 0; i < t->n; i++) {
		enum peer_event ev = codes[i] ? PEER_BUILD_REJECT : PEER_BUILD_OK;

		/* A late reply takes back the timeout blamed on each hop. */
		if (late)
			peer_profiles_record_late(m->cfg.profiles, t->hops[i],
						  ev, (uint32_t)ms, m->now_ms);
		else if (ev == PEER_BUILD_OK)
			peer_profiles_record_build(m->cfg.profiles, t->hops[i],
						   (uint32_t)ms, m->now_ms);
		else
			peer_profiles_record(m->cfg.profiles, t->hops[i], ev,
					     m->now_ms);
		ok &= codes[i] == 0;
	}
	if (late) {
		p->st.builds_late++;
		log_info(LD_TUNNEL, "%s build reply %llu ms late",
			 dir_name(t->inbound), (unsigned long long)
			 (m->mono_ms - t->deadline_ms));
	}
	if (!ok) {
		log_info(LD_TUNNEL, "%s tunnel build declined by a hop",
			 dir_name(t->inbound));
		p->st.builds_rejected++;
		t->state = OWN_DEAD;
		p->retry_at[t->inbound] = m->mono_ms + TUNNEL_POOL_RETRY_MS;
		return;
	}
	build_done(m, t);
}

/* A build reply message for t (borrowed). */
static void reply_msg(struct tunnel_mgr *m, struct own_tunnel *t,
		      const struct i2np_msg *msg)
{
	struct i2np_build b;
	uint8_t *rec;

	if (i2np_build_decode(msg, &b) != 0 ||
	    b.record_len != tunnel_build_record_bytes(t->kind)) {
		t->pool->st.dropped++;
		return;
	}
	rec = xmemdup(b.records, (size_t)b.n_records * b.record_len);
	build_reply(m, t, rec, b.n_records);
	xfree_wipe(rec, (size_t)b.n_records * b.record_len);
}

/* When msg (a build or build reply message, borrowed) answers a pending
 * build of ours of that direction, by its message id and kind, process
 * it and return true.  An inbound build comes back from its last hop as
 * the build message itself; an outbound one as a reply message. */
static bool try_reply(struct tunnel_mgr *m, const struct i2np_msg *msg,
		      bool inbound)
{
	enum tunnel_build_kind kind =
		msg->type == I2NP_VARIABLE_TUNNEL_BUILD ||
				msg->type == I2NP_VARIABLE_TUNNEL_BUILD_REPLY
			? TUNNEL_BUILD_LONG
			: TUNNEL_BUILD_SHORT;

	for (size_t i = 0; i < m->n; i++) {
		struct own_tunnel *t = m->t[i];

		if (is_pending(t) && t->inbound == inbound &&
		    t->reply_msg_id == msg->msg_id && t->kind == kind) {
			reply_msg(m, t, msg);
			return true;
		}
	}
	return false;
}

/* ---- tests ---- */

static void test_pass(struct tunnel_mgr *m, struct own_tunnel *t)
{
	t->test_id = 0;
	t->test_fails = 0;
	t->hop_unreachable = false;
	t->state = OWN_READY;
	t->next_test_ms = m->mono_ms + TUNNEL_TEST_INTERVAL_MS;
	profile_all(m, t, PEER_TEST_OK);
}

static void test_fail(struct tunnel_mgr *m, struct own_tunnel *t)
{
	t->test_id = 0;
	t->next_test_ms = m->mono_ms;
	profile_all(m, t, PEER_TEST_FAIL);
	if (++t->test_fails >= TUNNEL_TEST_MAX_FAILS || t->hop_unreachable) {
		log_info(LD_TUNNEL, "%s tunnel failed %u test%s%s: replaced",
			 dir_name(t->inbound), t->test_fails,
			 t->test_fails == 1 ? "" : "s",
			 t->hop_unreachable ? " (a hop unreachable)" : "");
		t->state = OWN_DEAD;
		t->pool->st.failed++;
	} else {
		t->state = OWN_TEST_FAILED;
	}
}

static void delivery_status(struct tunnel_mgr *m, const struct i2np_msg *msg,
			    struct tunnel_pool *via)
{
	struct i2np_delivery_status ds;
	bool found = false;

	if (i2np_delivery_status_decode(msg, &ds) != 0 || ds.msg_id == 0) {
		via->st.dropped++;
		return;
	}
	for (size_t i = 0; i < m->n; i++) {
		struct own_tunnel *t = m->t[i];

		if (t->test_id != ds.msg_id || !is_usable(t))
			continue;
		if (!t->inbound) {
			t->pool->st.tests_ok++;
			log_info(LD_TUNNEL, "tunnel test %08x passed",
				 ds.msg_id);
		}
		test_pass(m, t);
		found = true;
	}
	if (!found && m->h.deliver)
		m->h.deliver(m->h.ctx, i2np_msg_dup(msg));
}

/* An inbound tunnel of p that failed a test and waits for another. */
static struct own_tunnel *retest_in(const struct tunnel_pool *p)
{
	const struct tunnel_mgr *m = p->m;

	for (size_t i = 0; i < m->n; i++) {
		struct own_tunnel *t = m->t[i];

		if (t->pool == p && t->inbound &&
		    t->state == OWN_TEST_FAILED && !t->test_id)
			return t;
	}
	return NULL;
}

static void run_tests(struct tunnel_mgr *m, struct tunnel_pool *p)
{
	for (size_t i = 0; i < m->n; i++) {
		struct own_tunnel *o = m->t[i], *in;
		struct i2np_delivery_status ds;
		struct bbuf b = BBUF_INIT;
		struct i2np_msg *msg;

		if (o->pool != p || o->inbound || !is_usable(o) || o->test_id ||
		    m->mono_ms < o->next_test_ms)
			continue;
		/* an inbound tunnel that failed a test is tried again with
		 * an outbound one that did not: one failing itself gets a
		 * partner drawn afresh */
		if (!(o->state == OWN_READY && (in = retest_in(p))) &&
		    !(in = pick(p, true, true)))
			return;
		ds.msg_id = new_id(m);
		ds.timestamp_ms = m->now_ms;
		i2np_delivery_status_encode(&ds, &b);
		msg = i2np_msg_new(I2NP_DELIVERY_STATUS, b.data, b.len,
				   TUNNEL_MSG_TTL_MS);
		bbuf_free(&b);
		o->test_id = in->test_id = ds.msg_id;
		o->test_deadline_ms = in->test_deadline_ms =
			m->mono_ms + TUNNEL_TEST_TIMEOUT_MS;
		p->st.tests_sent++;
		if (send_through(m, o, in->hops[0], in->hop_id[0], msg) != 0)
			o->test_deadline_ms = in->test_deadline_ms = m->mono_ms;
	}
}

/* ---- what arrives for us ---- */

static void local_msg(struct tunnel_mgr *m, struct i2np_msg *msg,
		      struct tunnel_pool *via, unsigned depth);

/* A Garlic message: the one-time reply of an outbound build's OBEP? */
static bool garlic_reply(struct tunnel_mgr *m, const struct i2np_msg *msg,
			 struct tunnel_pool *via, unsigned depth)
{
	struct garlic_payload gp;
	struct bbuf plain = BBUF_INIT;
	const uint8_t *data;
	size_t len;
	struct own_tunnel *t = NULL;

	if (i2np_blob_decode(msg, &data, &len) != 0 || len < GARLIC_TAG_BYTES)
		return false;
	for (size_t i = 0; i < m->n && !t; i++)
		if (is_pending(m->t[i]) && m->t[i]->has_garlic &&
		    memcmp(m->t[i]->garlic_tag, data, GARLIC_TAG_BYTES) == 0)
			t = m->t[i];
	if (!t)
		return false;
	if (garlic_tag_decrypt(t->garlic_key, data, len, &plain) != 0 ||
	    garlic_payload_parse(plain.data, plain.len, &gp) != 0) {
		via->st.dropped++;
		bbuf_free(&plain);
		return true;
	}
	for (size_t i = 0; i < gp.n_cloves; i++)
		if (gp.cloves[i].delivery == GARLIC_DELIVERY_LOCAL)
			local_msg(m, garlic_clove_msg(&gp.cloves[i]), via,
				  depth + 1);
	bbuf_free(&plain);
	return true;
}

/* A message for us out of an inbound tunnel of via (or the zero-hop
 * one); takes msg. */
static void local_msg(struct tunnel_mgr *m, struct i2np_msg *msg,
		      struct tunnel_pool *via, unsigned depth)
{
	via->st.msgs_received++;
	switch (msg->type) {
	case I2NP_DELIVERY_STATUS:
		delivery_status(m, msg, via);
		break;
	case I2NP_OUTBOUND_TUNNEL_BUILD_REPLY:
	case I2NP_VARIABLE_TUNNEL_BUILD_REPLY:
		if (!try_reply(m, msg, false))
			via->st.dropped++;
		break;
	default:
		/* Garlic to the router that is not a build reply (netDb
		 * replies) goes on like any other message. */
		if (msg->type == I2NP_GARLIC && depth < LOCAL_MAX_DEPTH &&
		    garlic_reply(m, msg, via, depth))
			break;
		if (m->h.deliver) {
			m->h.deliver(m->h.ctx, msg);
			return;
		}
		via->st.dropped++;
		break;
	}
	i2np_msg_free(msg);
}

/* A whole message out of one of our inbound endpoints. */
static void deliver_cb(void *ctx, const struct tunnel_endpoint_msg *em)
{
	struct own_tunnel *t = ctx;
	struct tunnel_mgr *m = t->pool->m;
	struct i2np_msg *msg = NULL;
	struct breader r;

	br_init(&r, em->data, em->len);
	if (em->type != TUNNEL_DELIVER_LOCAL ||
	    i2np_msg_decode(&r, &msg) != 0 || br_left(&r) != 0 ||
	    i2np_msg_is_expired(msg, m->now_ms)) {
		t->pool->st.dropped++;
		i2np_msg_free(msg);
		return;
	}
	local_msg(m, msg, t->pool, 0);
}

static bool handle_data(struct tunnel_mgr *m, const struct i2np_msg *msg)
{
	struct i2np_tunnel_data td;
	uint8_t buf[TUNNEL_MSG_BYTES];
	struct own_tunnel *t = NULL;

	if (i2np_tunnel_data_decode(msg, &td) != 0)
		return false;
	for (size_t i = 0; i < m->n && !t; i++)
		if (m->t[i]->inbound && m->t[i]->n && is_usable(m->t[i]) &&
		    m->t[i]->our_id == td.tunnel_id)
			t = m->t[i];
	if (!t)
		return false;
	memcpy(buf, td.data, TUNNEL_MSG_BYTES);
	t->carried += TD_PAYLOAD_BYTES;
	if (tunnel_layer_peel(t->layers, t->n, buf) != 0 ||
	    tunnel_endpoint_recv(t->ep, buf, m->mono_ms) != 0)
		t->pool->st.dropped++;
	memwipe(buf, sizeof(buf));
	return true;
}

static bool handle_gateway(struct tunnel_mgr *m, const struct i2np_msg *msg)
{
	struct i2np_tunnel_gateway g;
	struct i2np_msg *inner = NULL;
	struct tunnel_pool *p;
	struct breader r;

	if (i2np_tunnel_gateway_decode(msg, &g) != 0 ||
	    !(p = zero_hop_receiver(m, g.tunnel_id)))
		return false;
	br_init(&r, g.data, g.len);
	if (i2np_msg_decode(&r, &inner) != 0 || br_left(&r) != 0 ||
	    i2np_msg_is_expired(inner, m->now_ms)) {
		p->st.dropped++;
		i2np_msg_free(inner);
		return true;
	}
	local_msg(m, inner, p, 0);
	return true;
}

bool tunnel_mgr_handle(struct tunnel_mgr *m, const uint8_t *peer,
		       struct i2np_msg *msg, uint64_t now_ms, uint64_t mono_ms)
{
	bool mine = false;

	(void)peer;
	m->now_ms = now_ms;
	m->mono_ms = mono_ms;
	switch (msg->type) {
	case I2NP_TUNNEL_DATA:
		mine = handle_data(m, msg);
		break;
	case I2NP_TUNNEL_GATEWAY:
		mine = handle_gateway(m, msg);
		break;
	case I2NP_SHORT_TUNNEL_BUILD:
	case I2NP_VARIABLE_TUNNEL_BUILD:
		mine = try_reply(m, msg, true);
		break;
	case I2NP_OUTBOUND_TUNNEL_BUILD_REPLY:
	case I2NP_VARIABLE_TUNNEL_BUILD_REPLY:
		mine = try_reply(m, msg, false);
		break;
	default:
		break;
	}
	if (mine)
		i2np_msg_free(msg);
	return mine;
}

/* ---- the timers ---- */

static void expire(struct tunnel_mgr *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct own_tunnel *t = m->t[i];

		switch (t->state) {
		case OWN_BUILDING:
			if (m->mono_ms < t->deadline_ms)
				break;
			log_info(LD_TUNNEL, "%s tunnel build timed out",
				 dir_name(t->inbound));
			profile_all(m, t, PEER_BUILD_TIMEOUT);
			t->pool->st.builds_timeout++;
			/* Replaced now; its reply is still read a while. */
			t->state = OWN_LATE;
			t->late_until_ms = t->deadline_ms + TUNNEL_BUILD_LATE_MS;
			break;
		case OWN_LATE:
			if (m->mono_ms >= t->late_until_ms)
				t->state = OWN_DEAD;
			break;
		case OWN_READY:
		case OWN_TEST_FAILED:
			if (t->test_id && m->mono_ms >= t->test_deadline_ms) {
				if (!t->inbound)
					t->pool->st.tests_failed++;
				test_fail(m, t);
			}
			if (t->state != OWN_DEAD && m->mono_ms >= t->expires_ms) {
				t->state = OWN_DEAD;
				t->pool->st.expired++;
			}
			if (t->ep)
				tunnel_endpoint_expire(t->ep, m->mono_ms);
			break;
		case OWN_DEAD:
			break;
		}
	}
}

/* Tunnels of p in a direction that count towards its quantity: being
 * built, or usable, passing tests and not due for replacement. */
static size_t counted(const struct tunnel_mgr *m, const struct tunnel_pool *p,
		      bool inbound)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct own_tunnel *t = m->t[i];

		if (t->pool != p || t->inbound != inbound ||
		    (t->shortened && p->full_ok[inbound]))
			continue;
		if (t->state == OWN_BUILDING ||
		    (t->state == OWN_READY &&
		     m->mono_ms + rebuild_before(m) < t->expires_ms))
			k++;
	}
	return k;
}

/*
 * While p has shortened tunnels in a direction, see every
 * TUNNEL_POOL_RETRY_MS whether tunnels of its configured length can be
 * had now (the netDb has grown, a router answers again): then they stop
 * counting, fill() builds full ones, and once quantity full ones are
 * ready the shortened ones are ended.
 */
static void check_full(struct tunnel_mgr *m, struct tunnel_pool *p,
		       bool inbound)
{
	const struct tunnel_pool_cfg *c = &p->cfg;
	unsigned len = inbound ? c->in_length : c->out_length;
	struct tunnel_build_hop hops[TUNNEL_BUILD_MAX_HOPS];
	struct peer_select_cfg sc;
	size_t shortened = 0, full = 0;
	bool lng;

	for (size_t i = 0; i < m->n; i++) {
		const struct own_tunnel *t = m->t[i];

		if (t->pool != p || t->inbound != inbound ||
		    t->state == OWN_DEAD)
			continue;
		shortened += t->shortened;
		full += !t->shortened && is_fresh(m, t);
	}
	if (!shortened) {
		p->full_ok[inbound] = false;
		return;
	}
	if (p->full_ok[inbound] && full >= quantity(c, inbound)) {
		for (size_t i = 0; i < m->n; i++) {
			struct own_tunnel *t = m->t[i];

			if (t->pool == p && t->inbound == inbound &&
			    t->shortened && t->state != OWN_DEAD) {
				log_info(LD_TUNNEL, "shortened %s tunnel %08x "
					 "replaced by full-length ones",
					 dir_name(inbound), inbound ? t->our_id
								    : t->hop_id[0]);
				t->state = OWN_DEAD;
			}
		}
		return;
	}
	if (p->full_ok[inbound] || m->mono_ms < p->full_check_at[inbound])
		return;
	p->full_check_at[inbound] = m->mono_ms + TUNNEL_POOL_RETRY_MS;
	memset(&sc, 0, sizeof(sc));
	memcpy(sc.self, m->cfg.self, 32);
	sc.allow_same_subnet = m->cfg.allow_same_subnet;
	p->full_ok[inbound] = len == 0 ||
		peer_select_hops(&sc, m->cfg.store, m->cfg.profiles, c->kind,
				 NULL, 0, len, m->now_ms, hops, &lng) == 0;
	memwipe(hops, sizeof(hops));
}

static void fill(struct tunnel_mgr *m, struct tunnel_pool *p, bool inbound)
{
	const struct tunnel_pool_cfg *c = &p->cfg;
	size_t want = inbound ? c->in_quantity + c->in_backup
			      : c->out_quantity + c->out_backup;
	size_t have;

	check_full(m, p, inbound);
	have = counted(m, p, inbound);
	if (m->mono_ms < p->retry_at[inbound])
		return;
	for (; have < want; have++) {
		size_t before = m->n;

		start_build(p, inbound);
		if (m->n == before)
			return;		/* selection failed: retry later */
	}
}

/*
 * Paid relaying: a paid tunnel is paid ahead by what it carried in the
 * last tick, at least half a build ticket's worth: once it has carried
 * what a hop's tickets pay for less that, the hop gets as many further
 * tickets as pay for the difference, plus one (at most
 * TUNNEL_TOPUP_PER_TICK a round), so a tunnel that ends is not left owing
 * its last second's bytes.  A busy tunnel gets larger tickets rather
 * than more: each pays for the build ticket's bytes doubled as long as
 * that stays within TUNNEL_TOPUP_SIZE_S ticks of the last tick's bytes
 * (at most TUNNEL_TOPUP_GROW_MAX times), so what is paid ahead stays
 * within a few seconds of the tunnel's traffic; the ticket function may
 * pay a hop for less (its face value).  Up to TUNNEL_TOPUP_MAX_TICKETS in
 * an I2NP Data message (tunnel_topup_encode()) garlic-wrapped to the
 * hop's router, sent through one of our outbound tunnels of at least one
 * hop (never straight from us) whose endpoint is not the hop, unless it
 * is the paid tunnel itself (an endpoint handed a ticket for another
 * tunnel of ours would learn that both are one creator's).  Without such
 * a tunnel it waits for the next tick.  One round per tick.
 */
static void topup(struct tunnel_mgr *m, struct own_tunnel *t)
{
	uint8_t tk[TUNNEL_TOPUP_MAX_TICKETS][TUNNEL_BUILD_TICKET_MAX_BYTES];
	const uint8_t *tkp[TUNNEL_TOPUP_MAX_TICKETS];
	size_t tkn[TUNNEL_TOPUP_MAX_TICKETS];
	struct own_tunnel *via[TUNNEL_BUILD_MAX_HOPS];
	unsigned sent = 0;
	uint64_t size = m->topup_bytes, rate = t->carried - t->carried_tick;
	uint64_t ahead = rate, upto;
	uint8_t due = 0;

	t->carried_tick = t->carried;
	if (ahead < m->topup_bytes / 2)
		ahead = m->topup_bytes / 2;
	if (!t->paid || !m->ticket || !m->topup_bytes || !is_usable(t))
		return;
	upto = t->carried + ahead;
	for (unsigned i = 0; i < t->n; i++)
		if ((t->paid & (1u << i)) && upto >= t->covered[i])
			due |= (uint8_t)(1u << i);
	if (!due)
		return;
	while (size < TUNNEL_TOPUP_GROW_MAX * m->topup_bytes &&
	       2 * size <= TUNNEL_TOPUP_SIZE_S * rate)
		size *= 2;
	for (unsigned i = 0; i < t->n; i++) {
		via[i] = NULL;
		for (unsigned j = 0; j < 4 && (due & (1u << i)) && !via[i];
		     j++) {
			via[i] = pick(j < 2 ? t->pool : m->pools[0], false,
				      false);
			if (via[i] && (via[i]->n == 0 ||
				       (via[i] != t &&
					!memcmp(via[i]->hops[via[i]->n - 1],
						t->hops[i], 32))))
				via[i] = NULL;
		}
		if ((due & (1u << i)) && !via[i])
			return;		/* next tick */
	}
	for (unsigned i = 0; i < t->n; i++) {
		uint64_t left;

		if (!(due & (1u << i)))
			continue;
		left = (upto - t->covered[i]) / size + 1;
		if (left > TUNNEL_TOPUP_PER_TICK)
			left = TUNNEL_TOPUP_PER_TICK;
		while (left) {
			struct bbuf b = BBUF_INIT, d = BBUF_INIT;
			struct i2np_msg *dm;
			size_t got = 0, n = 0;

			while (got < TUNNEL_TOPUP_MAX_TICKETS && left) {
				uint64_t pays = size;

				n = m->ticket(m->ticket_ctx, t->hops[i],
					      t->inbound, t->pool->num,
					      &t->pay_tag, &pays, tk[got],
					      sizeof(tk[got]));
				if (n == 0 || n > sizeof(tk[got]))
					break;
				tkp[got] = tk[got];
				tkn[got++] = n;
				t->covered[i] += pays < size ? pays : size;
				left--;
			}
			if (!got ||
			    tunnel_topup_encode(t->hop_id[i], tkp, tkn, got,
						&b) != 0) {
				bbuf_free(&b);
				break;	/* asks no more (its price, its RI) */
			}
			i2np_blob_encode(b.data, b.len, &d);
			bbuf_free(&b);
			dm = i2np_msg_new(I2NP_DATA, d.data, d.len,
					  TUNNEL_MSG_TTL_MS);
			bbuf_free(&d);
			if ((dm = garlic_wrap_for_router(dm, &t->hop_pk[i])) !=
			    NULL && send_through(m, via[i], t->hops[i], 0,
						 dm) == 0)
				sent += (unsigned)got;
			if (got < TUNNEL_TOPUP_MAX_TICKETS && left)
				break;	/* the ticket function declined */
		}
		/* declined ones count as paid, so they are not asked for
		 * again each tick */
		t->covered[i] += left * size;
	}
	memwipe(tk, sizeof(tk));
	t->pool->st.topups_sent += sent;
	log_debug(LD_TUNNEL, "tunnels: an %s tunnel carried %llu bytes: %u "
		  "further tickets", dir_name(t->inbound),
		  (unsigned long long)t->carried, sent);
}

void tunnel_mgr_tick(struct tunnel_mgr *m, uint64_t now_ms, uint64_t mono_ms)
{
	m->now_ms = now_ms;
	m->mono_ms = mono_ms;
	expire(m);
	reap(m);
	for (size_t i = 0; i < m->n; i++)
		topup(m, m->t[i]);
	for (size_t i = 0; i < m->n_pools; i++) {
		promote(m, m->pools[i], true);
		promote(m, m->pools[i], false);
		fill(m, m->pools[i], true);
		fill(m, m->pools[i], false);
		run_tests(m, m->pools[i]);
	}
}

/* ---- figures ---- */

void tunnel_pool_stats(const struct tunnel_pool *p,
		       struct tunnel_pool_stats *out)
{
	const struct tunnel_mgr *m = p->m;

	*out = p->st;
	out->in_ready = out->out_ready = 0;
	out->in_building = out->out_building = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct own_tunnel *t = m->t[i];

		if (t->pool != p)
			continue;
		if (is_usable(t) && t->standby)
			(*(t->inbound ? &out->in_standby
				      : &out->out_standby))++;
		else if (is_usable(t))
			(*(t->inbound ? &out->in_ready : &out->out_ready))++;
		else if (t->state == OWN_BUILDING)
			(*(t->inbound ? &out->in_building
				      : &out->out_building))++;
	}
}

void tunnel_mgr_stats(const struct tunnel_mgr *m, struct tunnel_pool_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->tickets_sent = m->gone_tickets;
	out->topups_sent = m->gone_topups;
	for (size_t i = 0; i < m->n_pools; i++) {
		struct tunnel_pool_stats s;

		tunnel_pool_stats(m->pools[i], &s);
		out->in_ready += s.in_ready;
		out->out_ready += s.out_ready;
		out->in_building += s.in_building;
		out->in_standby += s.in_standby;
		out->out_standby += s.out_standby;
		out->in_shortened |= s.in_shortened;
		out->out_shortened |= s.out_shortened;
		out->builds_short += s.builds_short;
		out->out_building += s.out_building;
		out->builds_started += s.builds_started;
		out->builds_ok += s.builds_ok;
		out->builds_rejected += s.builds_rejected;
		out->builds_timeout += s.builds_timeout;
		out->builds_bad += s.builds_bad;
		out->builds_late += s.builds_late;
		out->tickets_sent += s.tickets_sent;
		out->topups_sent += s.topups_sent;
		out->tests_sent += s.tests_sent;
		out->tests_ok += s.tests_ok;
		out->tests_failed += s.tests_failed;
		out->expired += s.expired;
		out->failed += s.failed;
		out->msgs_sent += s.msgs_sent;
		out->msgs_received += s.msgs_received;
		out->dropped += s.dropped;
	}
}
