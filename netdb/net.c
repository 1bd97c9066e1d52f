/*
 * The netDb's I2NP side (netdb/netdb.h; i2np spec "DatabaseStore",
 * "DatabaseLookup", "DatabaseSearchReply", "DeliveryStatus";
 * network-database page "Floodfill", "Flooding"; PROTOCOLS.md 2.6, 2.7):
 *
 *  - DatabaseStore: a RouterInfo (gzip, capped before inflating) or a
 *    LeaseSet is validated and stored; a store with a reply token is
 *    acknowledged with a DeliveryStatus (directly, or through the reply
 *    tunnel's gateway, then once more NETDB_ACK_AGAIN_MS later); as a
 *    floodfill, a new entry stored with a token
 *    is flooded with token 0 to the 3 floodfills closest to its routing
 *    key, never to the sender or ourselves.  A non-floodfill takes
 *    LeaseSets only as answers to its own lookups.
 *  - DatabaseLookup (floodfill): the entry, or a DatabaseSearchReply of
 *    the 3 closest floodfills not excluded (non-floodfills for an
 *    exploration), sent as the lookup asks: directly or through a reply
 *    tunnel, in the clear or as a one-time ECIES garlic.
 *  - DatabaseSearchReply and DeliveryStatus go to the client side
 *    (netdb/lookup.c).
 *  - Garlic to our router key: opened with the garlic router, and its
 *    LOCAL cloves handled as above.
 * Token buckets bound each requester's lookups, each peer's relayed
 * lookups and each peer's stores; over them a message is dropped with a
 * rate-limited info line.
 */
#include "config.h"
#include "netdb/keymap.h"
#include "netdb/netdb_internal.h"
#include "router/garlic_router.h"
#include "router/gzip.h"
#include "router/evloop.h"
#include "router/i2np.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/hash.h"

#include <stdlib.h>
#include <string.h>

/* Nesting: a Garlic message's cloves are handled, but a Garlic inside a
 * Garlic is not opened again. */
#define NETDB_MAX_GARLIC_DEPTH 1
/* Token buckets count thousandths of a message. */
#define RATE_UNIT 1000

static const uint8_t zero_hash[32];

/* ---- set-up ---- */

static void ack_again_cb(void *arg);

void netdb_net_init(struct netdb *db)
{
	struct netdb_net *n = xzalloc(sizeof(*n));

	n->floodfill = db->cfg.floodfill;
	n->rates = keymap_new();
	if (db->cfg.n_accomplices) {
		n->accomplices = xmemdup(db->cfg.accomplices,
					 db->cfg.n_accomplices * 32);
		n->n_accomplices = db->cfg.n_accomplices;
	}
	db->cfg.accomplices = NULL;	/* borrowed for netdb_new() only */
	db->net = n;
	n->ack_timer = evloop_timer_new(db->el, ack_again_cb, db);
	if (!db->cfg.lookup_rate_per_min)
		db->cfg.lookup_rate_per_min = NETDB_LOOKUP_RATE_PER_MIN;
	if (!db->cfg.lookup_burst)
		db->cfg.lookup_burst = NETDB_LOOKUP_BURST;
	if (!db->cfg.store_rate_per_min)
		db->cfg.store_rate_per_min = NETDB_STORE_RATE_PER_MIN;
	if (!db->cfg.store_burst)
		db->cfg.store_burst = NETDB_STORE_BURST;
	netdb_lookups_init(db);
}

/* One key's buckets: a requester's lookups (its reply path), a
 * transport peer's stores and the lookups it hands us for others. */
struct rate {
	uint64_t last;			/* monotonic ms */
	uint64_t lookup, relay, store;	/* tokens x RATE_UNIT */
};


void netdb_net_free(struct netdb *db)
{
	struct netdb_net *n = db->net;

	if (!n)
		return;
	netdb_lookups_free(db);
	evloop_timer_free(n->ack_timer);
	keymap_clear(n->rates, free);
	keymap_free(n->rates);
	free(n->accomplices);
	free(n->self_ri);
	free(n->self_gz);
	free(n);
	db->net = NULL;
}

void netdb_set_sender(struct netdb *db, struct netdb_sender s)
{
	db->sender = s;
}

struct netdb_sender netdb_get_sender(const struct netdb *db)
{
	return db->sender;
}

void netdb_set_reply_path(struct netdb *db, netdb_reply_path_fn fn, void *ctx)
{
	db->reply_path = fn;
	db->reply_path_ctx = ctx;
}

void netdb_set_data_fn(struct netdb *db, netdb_data_fn fn, void *ctx)
{
	db->data_fn = fn;
	db->data_ctx = ctx;
}

void netdb_set_floodfill(struct netdb *db, bool floodfill)
{
	db->net->floodfill = floodfill;
	netdb_store_set_floodfill(db->store, floodfill);
}

bool netdb_is_floodfill(const struct netdb *db)
{
	return db->net->floodfill;
}

void netdb_start(struct netdb *db)
{
	if (db->net->started)
		return;
	db->net->started = true;
	if (!db->cfg.passive)
		netdb_lookups_start_timers(db);
}

/* ---- sending ---- */

int netdb_send(struct netdb *db, const uint8_t peer[32], struct i2np_msg *m,
	       bool via_tunnel)
{
	if (!m)
		return ERR_ARG;
	if (!db->sender.send) {
		i2np_msg_free(m);
		return ERR_BAD_STATE;
	}
	return db->sender.send(db->sender.ctx, peer, m, via_tunnel);
}

static struct i2np_msg *msg_from(uint8_t type, struct bbuf *b)
{
	uint8_t *p;
	size_t n = 0;

	p = bbuf_steal(b, &n);
	return i2np_msg_new_take(type, p, n, NETDB_MSG_TTL_MS);
}

struct i2np_msg *netdb_store_msg_new(const uint8_t key[32], uint8_t type,
				 const uint8_t *data, size_t len,
				 uint32_t token, uint32_t tunnel,
				 const uint8_t *gateway)
{
	struct i2np_db_store s = { .store_type = type, .reply_token = token,
				   .reply_tunnel_id = tunnel, .data = data,
				   .data_len = len };
	struct bbuf b = BBUF_INIT;

	memcpy(s.key, key, 32);
	if (token && gateway)
		memcpy(s.reply_gateway, gateway, 32);
	i2np_db_store_encode(&s, &b);
	return msg_from(I2NP_DATABASE_STORE, &b);
}

/* Send reply to gateway: directly when tunnel is 0, else wrapped in a
 * TunnelGateway for that tunnel (i2np spec, "DatabaseStore": "If the
 * reply tunnel ID is 0, the reply is sent directly to the gateway"). */
static void send_reply(struct netdb *db, const uint8_t gateway[32],
		       uint32_t tunnel, struct i2np_msg *reply)
{
	struct bbuf b = BBUF_INIT;
	uint8_t type;
	char h[72];
	int r;

	if (!reply)
		return;
	type = reply->type;
	if (tunnel) {
		i2np_tunnel_gateway_encode(tunnel, reply, &b);
		i2np_msg_free(reply);
		reply = msg_from(I2NP_TUNNEL_GATEWAY, &b);
	}
	/* A reply that cannot leave is the publisher's lost confirmation or
	 * the looker's lost answer: say where it was going. */
	log_safe_hash(h, sizeof(h), gateway);
	if ((r = netdb_send(db, gateway, reply, false)) != 0)
		log_info_rl(10, LD_NETDB, "reply (type %u) to gateway %s "
			    "tunnel %u not sent: %s", (unsigned)type, h,
			    (unsigned)tunnel, err_str(r));
	else
		log_debug(LD_NETDB, "reply (type %u) to gateway %s tunnel %u",
			  (unsigned)type, h, (unsigned)tunnel);
}

const uint8_t *netdb_self_gz(const struct netdb *db, size_t *len)
{
	*len = db->net->self_gz_len;
	return db->net->self_gz;
}

/* ---- rate limits ---- */

enum rate_kind { RATE_LOOKUP, RATE_RELAY, RATE_STORE };

/* Refill one bucket by dt ms at per_min a minute, up to burst. */
static void rate_fill(uint64_t *tok, uint64_t dt, uint64_t per_min,
		      uint64_t burst)
{
	*tok += dt * RATE_UNIT * per_min / 60000;
	if (*tok > burst * RATE_UNIT)
		*tok = burst * RATE_UNIT;
}

/* Take a token from key's bucket of kind; false when it is empty.  A
 * relaying peer's bucket holds NETDB_LOOKUP_RELAY_FACTOR times a
 * requester's. */
static bool rate_take(struct netdb *db, const uint8_t key[32],
		      enum rate_kind kind)
{
	struct netdb_net *n = db->net;
	struct rate *r = keymap_get(n->rates, key);
	const uint64_t lr = db->cfg.lookup_rate_per_min,
		       lb = db->cfg.lookup_burst,
		       f = NETDB_LOOKUP_RELAY_FACTOR;
	uint64_t now = time_mono_ms(), *tok;

	if (!r) {
		/* Full: start over (peers are transport-authenticated, so
		 * this many is itself unusual). */
		if (keymap_count(n->rates) >= NETDB_RATE_MAX_PEERS)
			keymap_clear(n->rates, free);
		r = xzalloc(sizeof(*r));
		r->last = now;
		r->lookup = lb * RATE_UNIT;
		r->relay = lb * f * RATE_UNIT;
		r->store = (uint64_t)db->cfg.store_burst * RATE_UNIT;
		keymap_put(n->rates, key, r);
	}
	/* Refill by the elapsed time (in steps of 100 ms, so rounding
	 * loses little). */
	if (now >= r->last + 100) {
		/* Ten minutes fill every bucket (and keep this in range). */
		uint64_t dt = now - r->last > 600000 ? 600000 : now - r->last;
		rate_fill(&r->lookup, dt, lr, lb);
		rate_fill(&r->relay, dt, lr * f, lb * f);
		rate_fill(&r->store, dt, db->cfg.store_rate_per_min,
			  db->cfg.store_burst);
		r->last = now;
	}
	tok = kind == RATE_LOOKUP ? &r->lookup :
	      kind == RATE_RELAY ? &r->relay : &r->store;
	if (*tok < RATE_UNIT)
		return false;
	*tok -= RATE_UNIT;
	return true;
}

static bool rate_ok(struct netdb *db, const uint8_t key[32],
		    enum rate_kind kind)
{
	char h[72];

	if (rate_take(db, key, kind))
		return true;
	db->st.rate_limited++;
	log_info_rl(10, LD_NETDB, "%s %s over the rate limit; dropped",
		    kind == RATE_STORE ? "DatabaseStores from" :
		    kind == RATE_RELAY ? "DatabaseLookups relayed by" :
		    "DatabaseLookups with the reply path of",
		    log_safe_hash(h, sizeof(h), key));
	return false;
}

/* ---- flooding ---- */

struct flood_filter {
	const uint8_t *a, *b;		/* excluded: sender, the entry */
};

static bool not_excluded(void *ctx, const struct netdb_ri_entry *e)
{
	const struct flood_filter *f = ctx;

	return (!f->a || memcmp(e->hash, f->a, 32) != 0) &&
	       (!f->b || memcmp(e->hash, f->b, 32) != 0);
}

/* Flood the entry key (a DatabaseStore of data) to the floodfills
 * closest to its routing key, with reply token 0. */
static void flood(struct netdb *db, const uint8_t key[32], uint8_t type,
		  const uint8_t *data, size_t len, const uint8_t *from)
{
	struct flood_filter f = { from, key };
	struct netdb_closest c;
	uint8_t rk[32];

	netdb_routing_key(key, time_now_ms(), rk);
	netdb_closest_init(&c, rk, NETDB_FLOOD_PEERS);
	netdb_store_closest(db->store, true, not_excluded, &f, &c);
	for (size_t i = 0; i < c.n; i++) {
		/* "directly connects to each of those peers and sends it a
		 * DatabaseStoreMessage with a zero Reply Token" */
		if (netdb_send(db, c.e[i].hash,
			       netdb_store_msg_new(key, type, data, len, 0, 0, NULL),
			       false) == 0)
			db->st.flooded++;
	}
}

/* ---- DatabaseStore ---- */

static void send_ack(struct netdb *db, const uint8_t gateway[32],
		     uint32_t tunnel, uint32_t token)
{
	struct i2np_delivery_status d = { .msg_id = token,
					  .timestamp_ms = time_now_ms() };
	struct bbuf b = BBUF_INIT;

	i2np_delivery_status_encode(&d, &b);
	send_reply(db, gateway, tunnel, msg_from(I2NP_DELIVERY_STATUS, &b));
	db->st.acks_sent++;
}

/* The copies due (NETDB_ACK_AGAIN_MS), then the timer for the next. */
static void ack_again_cb(void *arg)
{
	struct netdb *db = arg;
	struct netdb_net *n = db->net;
	uint64_t now = time_mono_ms();
	size_t i = 0;

	while (i < n->n_acks && n->acks[i].due <= now) {
		send_ack(db, n->acks[i].gateway, n->acks[i].tunnel,
			 n->acks[i].token);
		db->st.acks_again++;
		i++;
	}
	memmove(n->acks, n->acks + i, (n->n_acks - i) * sizeof(n->acks[0]));
	n->n_acks -= i;
	if (n->n_acks)
		evloop_timer_arm(n->ack_timer, n->acks[0].due - now);
}

static void ack_store(struct netdb *db, const struct i2np_db_store *s)
{
	struct netdb_net *n = db->net;
	struct ack_again *a;

	send_ack(db, s->reply_gateway, s->reply_tunnel_id, s->reply_token);
	if (!s->reply_tunnel_id || n->n_acks == NETDB_ACK_AGAIN_MAX)
		return;
	a = &n->acks[n->n_acks++];
	memcpy(a->gateway, s->reply_gateway, 32);
	a->tunnel = s->reply_tunnel_id;
	a->token = s->reply_token;
	a->due = time_mono_ms() + NETDB_ACK_AGAIN_MS;
	if (n->n_acks == 1)
		evloop_timer_arm(n->ack_timer, NETDB_ACK_AGAIN_MS);
}

static int store_ri(struct netdb *db, const uint8_t peer[32],
		    const struct i2np_db_store *s, bool *flood_it)
{
	uint8_t ri[ROUTER_INFO_MAX_BYTES];
	enum netdb_add_result res;
	size_t len = 0;
	int r;

	/* Inflate at most one RouterInfo's worth: a gzip bomb stops at the
	 * cap (ERR_TOO_BIG) instead of eating memory. */
	if ((r = gzip_decompress(s->data, s->data_len, ri, sizeof(ri),
				 &len)) != 0) {
		char h[72];
		db->st.rejected_format++;
		log_info_rl(10, LD_NETDB, "bad gzip in a RouterInfo store from "
			    "%s: %s", log_safe_hash(h, sizeof(h), peer),
			    err_str(r));
		return r;
	}
	/* Our own RouterInfo comes back only as a verification's answer. */
	if (memcmp(s->key, db->cfg.self, 32) == 0)
		netdb_verify_on_store(db, peer, ri, len);
	r = netdb_add_ri(db, ri, len, s->key, peer, &res);
	if (r == 0) {
		const struct netdb_ri_entry *e =
			netdb_store_find_ri(db->store, s->key);
		*flood_it = e && e->published_ms + NETDB_FLOOD_MAX_AGE_MS >
					 time_now_ms();
	}
	return r;
}

static int store_ls(struct netdb *db, const uint8_t peer[32],
		    const struct i2np_db_store *s, bool *flood_it)
{
	const struct netdb_ls_entry *e;
	int r;

	/* A client takes LeaseSets only as answers to its lookups. */
	if (!db->net->floodfill && !netdb_lookup_is_pending(db, s->key)) {
		db->st.dropped++;
		return ERR_UNSUPPORTED;
	}
	r = netdb_add_ls(db, (enum leaseset_type)s->store_type, s->data,
			 s->data_len, s->key, peer, NULL);
	if (r == 0 && (e = netdb_store_find_ls(db->store, s->key)) != NULL) {
		char h[72];
		*flood_it = !leaseset_is_unpublished(e->ls);
		log_debug(LD_NETDB, "kept LeaseSet %s (store type %u)",
			  log_safe_hash(h, sizeof(h), s->key),
			  (unsigned)s->store_type);
	}
	return r;
}

static void handle_store(struct netdb *db, const uint8_t peer[32],
			 const struct i2np_msg *m)
{
	struct i2np_db_store s;
	bool flood_it = false;
	int r;

	db->st.stores_in++;
	if ((r = i2np_db_store_decode(m, &s)) != 0) {
		char h[72];
		db->st.rejected_format++;
		log_info_rl(10, LD_NETDB, "malformed DatabaseStore from %s: %s",
			    log_safe_hash(h, sizeof(h), peer), err_str(r));
		return;
	}
	if (!rate_ok(db, peer, RATE_STORE))
		return;
	/* i2pd acknowledges before validating: the DeliveryStatus proves
	 * delivery, not acceptance (PROTOCOLS.md 2.6). */
	if (s.reply_token)
		ack_store(db, &s);
	/* A hostile floodfill (attack tests) keeps only what it asked for. */
	if (db->cfg.hostile != NETDB_HOSTILE_NONE &&
	    !netdb_lookup_is_pending(db, s.key)) {
		db->st.dropped++;
		return;
	}
	if (s.store_type == I2NP_STORE_RI)
		r = store_ri(db, peer, &s, &flood_it);
	else
		r = store_ls(db, peer, &s, &flood_it);
	netdb_lookup_on_store(db, peer, s.key, r);
	/* Flood what is new to us, when the sender asked for a reply (the
	 * publisher; flooded copies carry token 0 and stop here). */
	if (r == 0 && db->net->floodfill && s.reply_token && flood_it)
		flood(db, s.key, s.store_type, s.data, s.data_len, peer);
}

/* ---- DatabaseLookup (floodfill) ---- */

struct excl {
	const uint8_t *list;		/* n × 32 */
	size_t n;
	const uint8_t *also;		/* the requester */
	/* A Sybil names only these (n_only × 32); NULL: anyone. */
	const uint8_t *only;
	size_t n_only;
};

static bool lookup_filter(void *ctx, const struct netdb_ri_entry *e)
{
	const struct excl *x = ctx;
	bool in = !x->only;

	if (x->also && memcmp(e->hash, x->also, 32) == 0)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (memcmp(e->hash, x->list + 32 * i, 32) == 0)
			return false;
	for (size_t i = 0; !in && i < x->n_only; i++)
		in = memcmp(e->hash, x->only + 32 * i, 32) == 0;
	return in;
}

static struct i2np_msg *search_reply(struct netdb *db,
				     const struct i2np_db_lookup *l,
				     bool explore)
{
	struct excl x = { l->excluded, l->n_excluded, l->from, NULL, 0 };
	struct i2np_search_reply sr = { 0 };
	uint8_t peers[NETDB_SEARCH_REPLY_PEERS * 32], rk[32];
	struct netdb_closest c;
	struct bbuf b = BBUF_INIT;

	/* A Sybil (attack tests) names its accomplices only, whatever was
	 * asked. */
	if (db->cfg.hostile == NETDB_HOSTILE_SYBIL) {
		x.only = db->net->accomplices;
		x.n_only = db->net->n_accomplices;
		explore = false;
	}
	netdb_routing_key(l->key, time_now_ms(), rk);
	netdb_closest_init(&c, rk, NETDB_SEARCH_REPLY_PEERS);
	/* Exploration ("a router hash of all zeros ... in the don't include
	 * field", or lookup type 11) gets non-floodfill routers. */
	netdb_store_closest(db->store, !explore, lookup_filter, &x, &c);
	for (size_t i = 0; i < c.n; i++)
		memcpy(peers + 32 * i, c.e[i].hash, 32);
	sr.n_peers = (uint8_t)c.n;
	/* Too few floodfills to name: top the reply up with the closest
	 * other routers.  A network whose routers cannot build exploratory
	 * tunnels yet (ours is then its only floodfill) explores with plain
	 * RouterInfo lookups; i2pd fetches every unknown router a reply
	 * names, so this is how they find each other.  FIXME: deviation from
	 * the spec's "floodfill routers close to the key"; revisit once
	 * bitsd builds tunnels. */
	if (!explore && !x.only && c.n < NETDB_SEARCH_REPLY_PEERS) {
		netdb_closest_init(&c, rk,
				   NETDB_SEARCH_REPLY_PEERS - sr.n_peers);
		netdb_store_closest(db->store, false, lookup_filter, &x, &c);
		for (size_t i = 0; i < c.n; i++)
			memcpy(peers + 32 * (sr.n_peers + i), c.e[i].hash, 32);
		sr.n_peers = (uint8_t)(sr.n_peers + c.n);
	}
	memcpy(sr.key, l->key, 32);
	sr.peers = peers;
	memcpy(sr.from, db->cfg.self, 32);
	i2np_search_reply_encode(&sr, &b);
	db->st.search_replies_sent++;
	return msg_from(I2NP_DATABASE_SEARCH_REPLY, &b);
}

/* The entry for a lookup, as a DatabaseStore, or NULL. */
static struct i2np_msg *lookup_answer(struct netdb *db,
				      const struct i2np_db_lookup *l,
				      uint8_t type)
{
	const struct netdb_ls_entry *ls;
	const uint8_t *data;
	size_t len;

	if (type != I2NP_LOOKUP_TYPE_LS) {
		if (memcmp(l->key, db->cfg.self, 32) == 0 &&
		    (data = netdb_self_gz(db, &len)) != NULL)
			return netdb_store_msg_new(l->key, I2NP_STORE_RI, data, len,
					       0, 0, NULL);
		if ((data = netdb_store_ri_gzip(db->store, l->key, &len)))
			return netdb_store_msg_new(l->key, I2NP_STORE_RI, data, len,
					       0, 0, NULL);
	}
	if (type != I2NP_LOOKUP_TYPE_RI &&
	    (ls = netdb_store_find_ls(db->store, l->key)) != NULL &&
	    !leaseset_is_unpublished(ls->ls) &&
	    leaseset_check_time(ls->ls, time_now_ms()) == 0) {
		/* "never return unpublished or expired LeaseSets" */
		data = leaseset_bytes(ls->ls, &len);
		return netdb_store_msg_new(l->key, leaseset_type(ls->ls), data, len,
				       0, 0, NULL);
	}
	return NULL;
}

static bool has_zero_excluded(const struct i2np_db_lookup *l)
{
	for (size_t i = 0; i < l->n_excluded; i++)
		if (memcmp(l->excluded + 32 * i, zero_hash, 32) == 0)
			return true;
	return false;
}

/*
 * May we answer lookup l that peer handed us?  Each requester has a
 * bucket, named by the reply path the lookup gives (the gateway and tunnel
 * id, or the router for a direct reply), as Java I2P throttles: clients
 * behind different gateways do not share one, and one client cannot spend
 * another's.  A router that hands us lookups for others (the outbound
 * endpoint of their tunnels) has a bucket of its own,
 * NETDB_LOOKUP_RELAY_FACTOR times larger, which also bounds a peer that
 * names a new reply path each time.  A lookup out of a garlic (no peer)
 * meets only its requester's.
 */
static bool lookup_allowed(struct netdb *db, const uint8_t peer[32],
			   const struct i2np_db_lookup *l)
{
	uint8_t tid[4], key[32];
	bool tunnel = (l->flags & I2NP_LOOKUP_FLAG_TUNNEL) != 0;

	if (memcmp(peer, zero_hash, 32) != 0 &&
	    (tunnel || memcmp(peer, l->from, 32) != 0) &&
	    !rate_ok(db, peer, RATE_RELAY))
		return false;
	be32_put(tid, tunnel ? l->reply_tunnel_id : 0);
	sha256_2(key, l->from, 32, tid, sizeof(tid));
	return rate_ok(db, key, RATE_LOOKUP);
}

static void handle_lookup(struct netdb *db, const uint8_t peer[32],
			  const struct i2np_msg *m)
{
	struct i2np_db_lookup l;
	struct i2np_msg *reply;
	uint8_t type;
	const uint8_t *data;
	size_t len;
	char h[72];
	int r;

	db->st.lookups_in++;
	if ((r = i2np_db_lookup_decode(m, &l)) != 0) {
		db->st.rejected_format++;
		log_info_rl(10, LD_NETDB, "malformed DatabaseLookup from %s: %s",
			    log_safe_hash(h, sizeof(h), peer), err_str(r));
		return;
	}
	if (!db->net->floodfill) {
		db->st.dropped++;
		return;
	}
	if (!lookup_allowed(db, peer, &l))
		return;
	type = l.flags & I2NP_LOOKUP_TYPE_MASK;
	if (type == I2NP_LOOKUP_TYPE_EXPLORE)
		reply = search_reply(db, &l, true);
	else if (db->cfg.hostile == NETDB_HOSTILE_DROP ||
		 db->cfg.hostile == NETDB_HOSTILE_SYBIL)
		reply = search_reply(db, &l, false);
	else if (db->cfg.hostile == NETDB_HOSTILE_JUNK &&
		 (data = netdb_self_gz(db, &len)) != NULL)
		reply = netdb_store_msg_new(l.key, I2NP_STORE_RI, data, len, 0,
					    0, NULL);
	else if ((reply = lookup_answer(db, &l, type)) != NULL)
		db->st.lookups_answered++;
	else
		reply = search_reply(db, &l, has_zero_excluded(&l));
	if (log_enabled(LOG_DEBUG)) {
		char k[72];
		log_debug(LD_NETDB, "lookup (flags 0x%02x) for %s from %s "
			  "answered with a %s", l.flags,
			  log_safe_hash(k, sizeof(k), l.key),
			  log_safe_hash(h, sizeof(h), peer),
			  reply && reply->type == I2NP_DATABASE_STORE ?
			  "DatabaseStore" : "DatabaseSearchReply");
	}
	/* In the clear, as an ECIES one-time garlic, or (the encryption flag
	 * alone: a requester with ElGamal keys) as ElGamal/AES under its
	 * session key and 32-byte tag. */
	if (l.has_reply_key && (l.flags & I2NP_LOOKUP_FLAG_ECIES))
		reply = garlic_wrap_tagged(reply, l.reply_key, l.tags);
	else if (l.has_reply_key)
		reply = garlic_wrap_aes_tagged(reply, l.reply_key, l.tags);
	/* "Honour the reply mode: direct to from, or TunnelGateway(reply
	 * tunnel) to the reply gateway." */
	send_reply(db, l.from, (l.flags & I2NP_LOOKUP_FLAG_TUNNEL) ?
		   l.reply_tunnel_id : 0, reply);
}

/* ---- the rest ---- */

static void handle_search_reply(struct netdb *db, const uint8_t peer[32],
				const struct i2np_msg *m)
{
	struct i2np_search_reply sr;
	char h[72];

	db->st.search_replies_in++;
	if (i2np_search_reply_decode(m, &sr) != 0) {
		db->st.rejected_format++;
		log_info_rl(10, LD_NETDB, "malformed DatabaseSearchReply from %s",
			    log_safe_hash(h, sizeof(h), peer));
		return;
	}
	netdb_lookup_on_search_reply(db, peer, &sr);
}

static void handle_status(struct netdb *db, const struct i2np_msg *m)
{
	struct i2np_delivery_status d;

	if (i2np_delivery_status_decode(m, &d) == 0)
		(void)netdb_publish_on_status(db, d.msg_id);
}

static void handle(struct netdb *db, const uint8_t peer[32],
		   const struct i2np_msg *m, int depth);

static void handle_garlic(struct netdb *db, const uint8_t peer[32],
			  const struct i2np_msg *m, int depth)
{
	struct bbuf plain = BBUF_INIT;
	struct garlic_payload gp;
	bool tagged = false;
	char h[72];
	int r;

	if (!db->cfg.garlic || depth >= NETDB_MAX_GARLIC_DEPTH) {
		db->st.dropped++;
		return;
	}
	db->st.garlic_in++;
	r = garlic_router_open(db->cfg.garlic, m, time_now_ms(),
			       time_mono_ms(), &plain, &gp, &tagged);
	if (r != 0) {
		db->st.garlic_bad++;
		log_info_rl(10, LD_NETDB, "Garlic message from %s refused: %s",
			    log_safe_hash(h, sizeof(h), peer), err_str(r));
		bbuf_free(&plain);
		return;
	}
	for (size_t i = 0; i < gp.n_cloves; i++) {
		struct i2np_msg *c;
		/* Only what is for us; ROUTER/TUNNEL delivery is the tunnel
		 * layer's (FIXME: hand it over once tunnels take it). */
		if (gp.cloves[i].delivery != GARLIC_DELIVERY_LOCAL) {
			db->st.dropped++;
			continue;
		}
		c = garlic_clove_msg(&gp.cloves[i]);
		if (c->type == I2NP_DATA && db->data_fn)
			db->data_fn(db->data_ctx, c);
		else
			handle(db, peer, c, depth + 1);
		i2np_msg_free(c);
	}
	bbuf_free(&plain);
}

static void handle(struct netdb *db, const uint8_t peer[32],
		   const struct i2np_msg *m, int depth)
{
	switch (m->type) {
	case I2NP_DATABASE_STORE:
		handle_store(db, peer, m);
		break;
	case I2NP_DATABASE_LOOKUP:
		handle_lookup(db, peer, m);
		break;
	case I2NP_DATABASE_SEARCH_REPLY:
		handle_search_reply(db, peer, m);
		break;
	case I2NP_DELIVERY_STATUS:
		handle_status(db, m);
		break;
	case I2NP_GARLIC:
		handle_garlic(db, peer, m, depth);
		break;
	default:
		db->st.dropped++;
		break;
	}
}

void netdb_handle_msg(struct netdb *db, const uint8_t peer[32],
		      struct i2np_msg *m)
{
	if (!m)
		return;
	handle(db, peer, m, 0);
	i2np_msg_free(m);
}

void netdb_transport_ri(struct netdb *db, const uint8_t *ri, size_t len,
			bool flood_it)
{
	struct router_info *d = NULL;
	struct bbuf gz = BBUF_INIT;
	uint8_t key[32];

	if (router_info_decode(ri, len, &d) != 0)
		return;
	memcpy(key, router_info_hash(d), 32);
	/* The transport verified the signature; the other checks apply. */
	if (netdb_store_add_ri_verified(db->store, d, time_now_ms(), 0,
					NULL) != 0)
		return;
	db->st.ri_stored++;
	{
		char h[72];
		log_debug(LD_NETDB, "kept RouterInfo %s",
			  log_safe_hash(h, sizeof(h), key));
	}
	netdb_lookup_on_store(db, NULL, key, 0);
	if (flood_it && db->net->floodfill && gzip_compress(ri, len, &gz) == 0)
		flood(db, key, I2NP_STORE_RI, gz.data, gz.len, NULL);
	bbuf_free(&gz);
}

void netdb_set_self(struct netdb *db, const uint8_t *ri, size_t len)
{
	struct netdb_net *n = db->net;
	struct router_info *d = NULL;
	struct bbuf gz = BBUF_INIT;

	if (BUG(router_info_decode(ri, len, &d) != 0 ||
		gzip_compress(ri, len, &gz) != 0)) {
		router_info_free(d);
		bbuf_free(&gz);
		return;
	}
	free(n->self_ri);
	free(n->self_gz);
	n->self_ri = xmemdup(ri, len);
	n->self_ri_len = len;
	n->self_gz = bbuf_steal(&gz, &n->self_gz_len);
	n->self_published = router_info_published(d);
	router_info_free(d);
	netdb_publish_changed(db);
}
