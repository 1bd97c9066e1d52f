/*
 * Transit tunnels (tunnels/transit.h), after
 * geti2p.net/docs/tunnels/implementation ("Participant processing",
 * "Inbound gateway processing", "Outbound endpoint processing"),
 * geti2p.net/spec/tunnel-creation-ecies and PROTOCOLS.md 2.8-2.9.  The
 * participant rules (drop vs reply 30) follow Java's BuildHandler and
 * i2pd's I2NPProtocol.cpp.
 *
 * The table is an open-addressing hash (linear probing, tombstones) from
 * receive id to tunnel, keyed with SipHash under a random key so that
 * creators, who pick the ids, cannot aim collisions.
 */
#include "config.h"
#include "tunnels/transit.h"
#include "crypto/aes_layer.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"
#include "router/mapping.h"
#include "router/ratelim.h"
#include "tunnels/endpoint.h"
#include "tunnels/gateway.h"
#include "tunnels/layer.h"
#include "tunnels/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOMBSTONE ((struct transit_tunnel *)&tombstone_)
/* TunnelData is tunnel id ‖ 1024 bytes. */
#define TD_PAYLOAD_BYTES (4 + TUNNEL_MSG_BYTES)
/* Previous hops whose build request rate is remembered. */
#define TRANSIT_BUILD_PEERS 2048
/* Previous hops whose tunnel message rate is remembered. */
#define TRANSIT_DATA_PEERS 2048
/* Queued tunnel messages that make one layer pass (transit_table_flush). */
#define TRANSIT_BATCH_MSGS AES_LAYER_LANES

static char tombstone_;

struct transit_tunnel {
	struct transit_table *t;	/* back pointer for the OBEP hook */
	enum transit_role role;
	uint32_t receive_id, next_id;
	uint8_t next_ident[32];
	uint8_t prev_ident[32];		/* who sent the request; 0s: unknown */
	struct tunnel_layer layer;
	struct tunnel_gateway *gw;	/* IBGW */
	/* IBGW with messages packed but not flushed (transit_table_flush
	 * flushes it): the list's next, and when the last came */
	struct transit_tunnel *gw_next;
	bool gw_listed;
	uint64_t gw_mono;
	struct tunnel_endpoint *ep;	/* OBEP */
	uint64_t created_ms, expires_ms;
	uint64_t bytes_in, bytes_out, msgs_in, msgs_out;
	struct tbucket msgs;		/* lim.msgs_per_tunnel_s */
};

/* A tunnel message checked and waiting for its layer. */
struct transit_queued {
	struct transit_tunnel *x;
	uint8_t *p;		/* TD_PAYLOAD_BYTES: room for the next id ‖
				 * the message */
	uint64_t mono;		/* when it came */
};

struct transit_table {
	struct transit_limits lim;
	struct transit_hooks h;
	uint8_t self[32];
	struct tunnel_build_participant part;
	struct tunnel_replay *build_replay, *iv_replay;
	/* hash */
	struct transit_tunnel **slots;
	size_t cap, n, used;		/* used counts tombstones too */
	uint8_t hkey[SIPHASH_KEY_BYTES];
	/* bandwidth: bytes relayed per second, and the relay token bucket */
	uint64_t rate_bytes[TRANSIT_RATE_WINDOW_S];
	uint64_t rate_sec;
	double tokens;
	uint64_t tokens_ms;
	bool tokens_started;
	uint64_t mono_now;		/* of the message being handled */
	bool refusing;			/* refuse every build (memory) */
	bool shedding;			/* drop all transit traffic */
	/* build request rates (lim.builds_*) */
	struct tbucket builds_all;
	struct ratelim *builds_peer;
	/* tunnel message rates per previous hop (lim.msgs_per_peer_s) */
	struct ratelim *msgs_peer;
	/* messages waiting for transit_table_flush(), oldest first */
	struct transit_queued *q;
	size_t nq, qcap;
	/* IBGWs whose packed messages wait for transit_table_flush() */
	struct transit_tunnel *gw_list;
	bool flushing;
	struct transit_stats st;
};

void transit_limits_default(struct transit_limits *lim)
{
	lim->max_tunnels = TRANSIT_DEFAULT_MAX_TUNNELS;
	lim->share_pct = TRANSIT_DEFAULT_SHARE_PCT;
	lim->bandwidth_Bps = 0;
}

const char *transit_verdict_name(enum transit_verdict v)
{
	switch (v) {
	case TRANSIT_ACCEPT: return "accept";
	case TRANSIT_REJECT_DISABLED: return "transit disabled";
	case TRANSIT_REJECT_LIMIT: return "tunnel limit";
	case TRANSIT_REJECT_BANDWIDTH: return "bandwidth";
	case TRANSIT_REJECT_CONGESTION: return "congestion";
	case TRANSIT_REJECT_DUP_ID: return "duplicate id";
	case TRANSIT_REJECT_LAYER_TYPE: return "layer type";
	case TRANSIT_REJECT_OPTIONS: return "options";
	case TRANSIT_REJECT_PEER_LIMIT: return "peer limit";
	case TRANSIT_REJECT_MEMORY: return "memory budget";
	case TRANSIT_VERDICT_COUNT_: break;
	}
	return "?";
}

/* ---- the hash ---- */

static size_t slot_of(const struct transit_table *t, uint32_t id)
{
	uint8_t b[4];

	be32_put(b, id);
	return (size_t)(siphash24_u64(t->hkey, b, 4) & (t->cap - 1));
}

static struct transit_tunnel *find(const struct transit_table *t, uint32_t id)
{
	for (size_t i = slot_of(t, id), k = 0; k < t->cap;
	     i = (i + 1) & (t->cap - 1), k++) {
		struct transit_tunnel *x = t->slots[i];

		if (!x)
			return NULL;
		if (x != TOMBSTONE && x->receive_id == id)
			return x;
	}
	return NULL;
}

static void put_raw(struct transit_table *t, struct transit_tunnel *x)
{
	size_t i = slot_of(t, x->receive_id);

	while (t->slots[i] && t->slots[i] != TOMBSTONE)
		i = (i + 1) & (t->cap - 1);
	if (!t->slots[i])
		t->used++;
	t->slots[i] = x;
	t->n++;
}

static void rehash(struct transit_table *t, size_t cap)
{
	struct transit_tunnel **old = t->slots;
	size_t oldcap = t->cap;

	t->slots = xcalloc(cap, sizeof(*t->slots));
	t->cap = cap;
	t->n = t->used = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i] && old[i] != TOMBSTONE)
			put_raw(t, old[i]);
	free(old);
}

static void insert(struct transit_table *t, struct transit_tunnel *x)
{
	if ((t->used + 1) * 2 > t->cap)
		rehash(t, (t->n + 1) * 4 > t->cap ? t->cap * 2 : t->cap);
	put_raw(t, x);
}

static void tunnel_free(struct transit_tunnel *x)
{
	tunnel_layer_wipe(&x->layer);
	tunnel_gateway_free(x->gw);
	if (x->ep)
		x->t->st.obep_bytes -= tunnel_endpoint_pending_bytes(x->ep);
	tunnel_endpoint_free(x->ep);
	xfree_wipe(x, sizeof(*x));
}

static void remove_at(struct transit_table *t, size_t i)
{
	tunnel_free(t->slots[i]);
	t->slots[i] = TOMBSTONE;
	t->n--;
}

/* ---- bandwidth ---- */

static void rate_add(struct transit_table *t, uint64_t bytes, uint64_t mono)
{
	uint64_t sec = mono / 1000;

	if (sec != t->rate_sec) {
		uint64_t gap = sec > t->rate_sec ? sec - t->rate_sec
						 : TRANSIT_RATE_WINDOW_S;

		for (uint64_t k = 1; k <= gap && k <= TRANSIT_RATE_WINDOW_S; k++)
			t->rate_bytes[(t->rate_sec + k) % TRANSIT_RATE_WINDOW_S] = 0;
		t->rate_sec = sec;
	}
	t->rate_bytes[sec % TRANSIT_RATE_WINDOW_S] += bytes;
}

uint64_t transit_table_rate_Bps(struct transit_table *t, uint64_t mono_ms)
{
	uint64_t sum = 0;

	rate_add(t, 0, mono_ms);
	for (unsigned i = 0; i < TRANSIT_RATE_WINDOW_S; i++)
		sum += t->rate_bytes[i];
	return sum / TRANSIT_RATE_WINDOW_S;
}

static uint64_t share_Bps(const struct transit_table *t)
{
	return t->lim.bandwidth_Bps * t->lim.share_pct / 100;
}

/* Take bytes from the relay bucket (share_Bps, one second of burst, at
 * least 64 KiB); false when it is empty. */
static bool tokens_take(struct transit_table *t, uint64_t bytes, uint64_t mono)
{
	const uint64_t share = share_Bps(t);
	const double cap = share > 65536 ? (double)share : 65536.0;

	if (t->lim.bandwidth_Bps == 0)
		return true;
	if (!t->tokens_started) {
		t->tokens_started = true;
		t->tokens = cap;
		t->tokens_ms = mono;
	}
	if (mono > t->tokens_ms) {
		t->tokens += (double)share * (double)(mono - t->tokens_ms) / 1000.0;
		if (t->tokens > cap)
			t->tokens = cap;
	}
	t->tokens_ms = mono;
	if (t->tokens < (double)bytes)
		return false;
	t->tokens -= (double)bytes;
	return true;
}

/*
 * lim.msgs_per_*: a tunnel message for x, handed us by from (NULL: not
 * known, or any router, as at an IBGW).  The tunnel's bucket first, so a
 * flood on one tunnel does not spend its previous hop's other tunnels'
 * share; each holds a second's worth.
 */
static bool msg_rate_ok(struct transit_table *t, struct transit_tunnel *x,
			const uint8_t *from, uint64_t mono)
{
	const unsigned one = t->lim.msgs_per_tunnel_s,
		       peer = t->lim.msgs_per_peer_s;
	bool ok = !one || tbucket_take(&x->msgs, one * 60, one, mono);

	if (ok && peer && from) {
		ratelim_set(t->msgs_peer, peer * 60, peer);
		ok = ratelim_take(t->msgs_peer, from, 32, mono);
	}
	if (!ok)
		t->st.dropped_flood++;
	return ok;
}

/* Whether one more tunnel message may be relayed: not while shedding
 * (the memory budget), and within the bandwidth share. */
static bool relay_ok(struct transit_table *t, uint64_t mono)
{
	if (t->shedding) {
		t->st.dropped_shed++;
		return false;
	}
	if (!tokens_take(t, TD_PAYLOAD_BYTES, mono)) {
		t->st.dropped_bandwidth++;
		return false;
	}
	return true;
}

/* ---- sending ---- */

static void send_msg(struct transit_table *t, const uint8_t peer[32],
		     struct i2np_msg *m)
{
	t->st.bytes_out += m->len;
	if (t->h.send(t->h.ctx, peer, m) != 0)
		t->st.send_failed++;
}

/* Send one tunnel message (already layered, at p + 4) to the next hop;
 * takes p (TD_PAYLOAD_BYTES). */
static void send_td(struct transit_table *t, struct transit_tunnel *x,
		    uint8_t *p, uint64_t mono)
{
	be32_put(p, x->next_id);
	x->bytes_out += TD_PAYLOAD_BYTES;
	x->msgs_out++;
	t->st.data_relayed++;
	rate_add(t, TD_PAYLOAD_BYTES, mono);
	send_msg(t, x->next_ident,
		 i2np_msg_new_take(I2NP_TUNNEL_DATA, p, TD_PAYLOAD_BYTES,
				   TRANSIT_MSG_TTL_MS));
}

/* TunnelGateway(tunnel_id, inner) as a new message; inner is a whole
 * standard-header I2NP message. */
static struct i2np_msg *gateway_msg(uint32_t tunnel_id, const uint8_t *inner,
				    size_t len)
{
	uint8_t *p = xmalloc(6 + len);

	be32_put(p, tunnel_id);
	be16_put(p + 4, (uint16_t)len);
	memcpy(p + 6, inner, len);
	return i2np_msg_new_take(I2NP_TUNNEL_GATEWAY, p, 6 + len,
				 TRANSIT_MSG_TTL_MS);
}

/* ---- the table ---- */

struct transit_table *transit_table_new(const struct keystore *ks,
					const uint8_t self[32],
					const struct transit_limits *lim,
					const struct transit_hooks *hooks)
{
	struct transit_table *t = xzalloc(sizeof(*t));

	if (lim)
		t->lim = *lim;
	else
		transit_limits_default(&t->lim);
	t->h = *hooks;
	memcpy(t->self, self, 32);
	t->build_replay = tunnel_replay_new(TUNNEL_REPLAY_BUILD_ENTRIES,
					    TUNNEL_REPLAY_BUILD_PERIOD_MS);
	t->iv_replay = tunnel_replay_new(TUNNEL_REPLAY_IV_ENTRIES,
					 TUNNEL_REPLAY_IV_PERIOD_MS);
	tunnel_build_participant_init(&t->part, ks, self, t->build_replay);
	t->cap = 64;
	t->slots = xcalloc(t->cap, sizeof(*t->slots));
	rand_bytes(t->hkey, sizeof(t->hkey));
	t->builds_peer = ratelim_new(TRANSIT_BUILD_PEERS, 0, 0);
	t->msgs_peer = ratelim_new(TRANSIT_DATA_PEERS, 0, 0);
	return t;
}

void transit_table_free(struct transit_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nq; i++)	/* dropped unsent */
		xfree_wipe(t->q[i].p, TD_PAYLOAD_BYTES);
	free(t->q);
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i] && t->slots[i] != TOMBSTONE)
			tunnel_free(t->slots[i]);
	free(t->slots);
	tunnel_replay_free(t->build_replay);
	tunnel_replay_free(t->iv_replay);
	ratelim_free(t->builds_peer);
	ratelim_free(t->msgs_peer);
	memwipe(&t->part, sizeof(t->part));
	free(t);
}

void transit_table_set_limits(struct transit_table *t,
			      const struct transit_limits *lim)
{
	t->lim = *lim;
}

void transit_table_set_shedding(struct transit_table *t, bool refuse_builds,
				bool drop_traffic)
{
	t->refusing = refuse_builds;
	t->shedding = drop_traffic;
}

void transit_table_shedding(const struct transit_table *t,
			    bool *refuse_builds, bool *drop_traffic)
{
	*refuse_builds = t->refusing;
	*drop_traffic = t->shedding;
}

void transit_table_limits(const struct transit_table *t,
			  struct transit_limits *out)
{
	*out = t->lim;
}

struct tunnel_build_participant *transit_table_participant(
	struct transit_table *t)
{
	return &t->part;
}

size_t transit_table_count(const struct transit_table *t)
{
	return t->n;
}

const struct transit_stats *transit_table_stats(const struct transit_table *t)
{
	return &t->st;
}

bool transit_table_lookup(const struct transit_table *t, uint32_t receive_id,
			  struct transit_info *out)
{
	const struct transit_tunnel *x = find(t, receive_id);

	if (!x)
		return false;
	out->role = x->role;
	out->receive_id = x->receive_id;
	out->next_id = x->next_id;
	memcpy(out->next_ident, x->next_ident, 32);
	out->created_ms = x->created_ms;
	out->expires_ms = x->expires_ms;
	out->bytes_in = x->bytes_in;
	out->bytes_out = x->bytes_out;
	out->msgs_in = x->msgs_in;
	out->msgs_out = x->msgs_out;
	return true;
}

void transit_table_expire(struct transit_table *t, uint64_t mono_ms)
{
	transit_table_flush(t);		/* the queue points at tunnels */
	for (size_t i = 0; i < t->cap; i++) {
		struct transit_tunnel *x = t->slots[i];

		if (!x || x == TOMBSTONE)
			continue;
		if (mono_ms >= x->expires_ms) {
			remove_at(t, i);
			t->st.expired++;
		} else if (x->ep) {
			size_t before = tunnel_endpoint_pending_bytes(x->ep);

			tunnel_endpoint_expire(x->ep, mono_ms);
			t->st.obep_bytes -= before -
					    tunnel_endpoint_pending_bytes(x->ep);
		}
	}
	/* Many tombstones: rebuild in place. */
	if (t->used > 2 * t->n + 16)
		rehash(t, t->cap);
}

/* ---- decisions ---- */

/* A bandwidth option: a positive decimal integer in KBps, at most 7
 * digits.  0 when absent, -1 when malformed. */
static int64_t bw_option(const struct mapping *m, const char *key)
{
	const char *v = mapping_get(m, key);
	int64_t n = 0;

	if (!v)
		return 0;
	if (!*v || strlen(v) > 7)
		return -1;
	for (const char *c = v; *c; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		n = n * 10 + (*c - '0');
	}
	return n > 0 ? n : -1;
}

/*
 * The request's bandwidth options against what is left of the share
 * (Java's rule): at most share/20 per tunnel and a quarter of the unused
 * share.  "The participating router should reject the tunnel if "m" is
 * specified and it cannot provide at least that much bandwidth."
 */
static enum transit_verdict bw_options(struct transit_table *t,
				       const struct tunnel_build_open *o,
				       uint64_t used, uint32_t *avail_kBps)
{
	struct mapping m = MAPPING_INIT;
	enum transit_verdict v = TRANSIT_ACCEPT;
	int64_t mn, rq, lm;
	uint64_t share = share_Bps(t), avail;

	*avail_kBps = 0;
	if (o->req.options_len <= 2)
		return TRANSIT_ACCEPT;
	if (tunnel_build_request_options(&o->req, &m) != 0) {
		v = TRANSIT_REJECT_OPTIONS;
		goto out;
	}
	mn = bw_option(&m, "m");
	rq = bw_option(&m, "r");
	lm = (o->req.flags & TUNNEL_BUILD_FLAG_IBGW) ? bw_option(&m, "l") : 0;
	if (mn < 0 || rq < 0 || lm < 0) {
		v = TRANSIT_REJECT_OPTIONS;
		goto out;
	}
	if (mn == 0 && rq == 0 && lm == 0)
		goto out;
	if (t->lim.bandwidth_Bps == 0) {
		avail = (uint64_t)(rq ? rq : mn ? mn : lm) * 1000;
	} else {
		avail = share / 20;
		if (used < share && (share - used) / 4 < avail)
			avail = (share - used) / 4;
		else if (used >= share)
			avail = 0;
		if ((uint64_t)mn * 1000 > avail) {
			v = TRANSIT_REJECT_BANDWIDTH;
			goto out;
		}
		if (mn > 0 && rq > 4 * mn)
			rq = 4 * mn;
		if (rq > 0 && (uint64_t)rq * 1000 < avail)
			avail = (uint64_t)rq * 1000;
	}
	if (lm > 0 && (uint64_t)lm * 1000 < avail)
		avail = (uint64_t)lm * 1000;
	*avail_kBps = (uint32_t)(avail / 1000);
out:
	mapping_clear(&m);
	return v;
}

enum transit_verdict transit_table_decide(struct transit_table *t,
					  const struct tunnel_build_open *o,
					  uint64_t mono_ms,
					  uint32_t *avail_kBps)
{
	uint64_t used = transit_table_rate_Bps(t, mono_ms);
	uint64_t share = share_Bps(t);

	*avail_kBps = 0;
	if (t->lim.max_tunnels == 0)
		return TRANSIT_REJECT_DISABLED;
	if (t->n >= t->lim.max_tunnels)
		return TRANSIT_REJECT_LIMIT;
	/* i2pd drops an unknown layer type; Java replies 30, and so do we. */
	if (o->req.layer_type != TUNNEL_BUILD_LAYER_AES)
		return TRANSIT_REJECT_LAYER_TYPE;
	if (t->refusing)
		return TRANSIT_REJECT_MEMORY;
	if (t->h.congested && t->h.congested(t->h.ctx))
		return TRANSIT_REJECT_CONGESTION;
	if (t->lim.bandwidth_Bps != 0 &&
	    used * 100 >= share * TRANSIT_CONGESTED_PCT)
		return TRANSIT_REJECT_BANDWIDTH;
	if (find(t, o->req.receive_id) ||
	    (t->h.id_in_use && t->h.id_in_use(t->h.ctx, o->req.receive_id)))
		return TRANSIT_REJECT_DUP_ID;
	return bw_options(t, o, used, avail_kBps);
}

/* ---- joining ---- */

static void obep_deliver(void *ctx, const struct tunnel_endpoint_msg *em);

static void join(struct transit_table *t, const struct tunnel_build_open *o,
		 const uint8_t *from, uint64_t mono_ms)
{
	struct transit_tunnel *x = xzalloc(sizeof(*x));

	x->t = t;
	x->receive_id = o->req.receive_id;
	x->next_id = o->req.next_id;
	memcpy(x->next_ident, o->req.next_ident, 32);
	if (from)
		memcpy(x->prev_ident, from, 32);
	if (o->req.flags & TUNNEL_BUILD_FLAG_IBGW) {
		x->role = TRANSIT_IBGW;
		x->gw = tunnel_gateway_new();
	} else if (o->req.flags & TUNNEL_BUILD_FLAG_OBEP) {
		struct tunnel_endpoint_limits el = {
			.max_bytes = t->lim.obep_bytes ? t->lim.obep_bytes
						       : TRANSIT_OBEP_BYTES,
		};

		x->role = TRANSIT_OBEP;
		x->ep = tunnel_endpoint_new(obep_deliver, x, &el);
	} else {
		x->role = TRANSIT_PARTICIPANT;
	}
	tunnel_layer_init(&x->layer, o->keys.layer_key, o->keys.iv_key);
	x->created_ms = mono_ms;
	x->expires_ms = mono_ms + TRANSIT_LIFETIME_MS + TRANSIT_GRACE_MS;
	insert(t, x);
}

/* ---- build messages ---- */

static void gateway_in(struct transit_table *t, struct transit_tunnel *x,
		       const uint8_t *inner, size_t len, uint64_t mono);

/* Hand the I2NP message enc (standard header, len bytes) to the gateway
 * of tunnel_id at peer: through the network, or straight in when that
 * gateway is us ("IBGW is local"). */
static void to_gateway_raw(struct transit_table *t, const uint8_t peer[32],
			   uint32_t tunnel_id, const uint8_t *enc, size_t len,
			   uint64_t mono)
{
	struct transit_tunnel *x;

	if (memcmp(peer, t->self, 32) == 0) {
		x = find(t, tunnel_id);
		if (x && x->role == TRANSIT_IBGW)
			gateway_in(t, x, enc, len, mono);
		else if (!x && t->h.local && t->h.id_in_use &&
			 t->h.id_in_use(t->h.ctx, tunnel_id))
			/* a zero-hop inbound tunnel of this router's own:
			 * we are its gateway, the router takes it */
			t->h.local(t->h.ctx, gateway_msg(tunnel_id, enc, len));
		else
			t->st.dropped_unknown++;
	} else {
		send_msg(t, peer, gateway_msg(tunnel_id, enc, len));
	}
}

/* The same for msg (taken), encoded here. */
static void to_gateway(struct transit_table *t, const uint8_t peer[32],
		       uint32_t tunnel_id, struct i2np_msg *msg, uint64_t mono)
{
	struct bbuf b = BBUF_INIT;

	i2np_msg_encode(msg, &b);
	to_gateway_raw(t, peer, tunnel_id, b.data, b.len, mono);
	bbuf_free(&b);
	i2np_msg_free(msg);
}

/* Forward the answered build message: to the next hop, or as the reply
 * from an OBEP ("send the reply to the specified next hop in a Tunnel
 * Build Reply Message"). */
static void forward_build(struct transit_table *t,
			  const struct tunnel_build_open *o, uint8_t type,
			  uint8_t *payload, size_t len, uint64_t mono)
{
	struct i2np_msg *m;

	if (!(o->req.flags & TUNNEL_BUILD_FLAG_OBEP)) {
		m = i2np_msg_new_take(type, payload, len, TRANSIT_BUILD_TTL_MS);
		m->msg_id = o->req.next_msg_id;
		send_msg(t, o->req.next_ident, m);
		return;
	}
	m = i2np_msg_new_take(o->kind == TUNNEL_BUILD_LONG
				      ? I2NP_VARIABLE_TUNNEL_BUILD_REPLY
				      : I2NP_OUTBOUND_TUNNEL_BUILD_REPLY,
			      payload, len, TRANSIT_BUILD_TTL_MS);
	m->msg_id = o->req.next_msg_id;
	/* "for short builds the OBEP garlic-wraps the reply as a one-time
	 * ECIES message with the RGarlicKeyAndTag key/tag", unless the reply
	 * gateway is us. */
	if (o->kind == TUNNEL_BUILD_SHORT && t->h.wrap_reply &&
	    memcmp(o->req.next_ident, t->self, 32) != 0) {
		m = t->h.wrap_reply(t->h.ctx, m, o->keys.garlic_key,
				    o->keys.garlic_tag);
		if (!m) {
			t->st.send_failed++;
			return;
		}
	}
	to_gateway(t, o->req.next_ident, o->req.next_id, m, mono);
}

/*
 * Java's BuildHandler: "we are the previous hop" (not an IBGW) and
 * "the same previous and next hop" (a middle hop): dropped, no reply.
 *
 * X -> us -> X: i2pd picks such paths in small networks (it avoids a
 * router twice in a row only), and the spec pages (tunnel-creation-ecies,
 * tunnels/implementation) say nothing either way.  We do as Java does
 * ("Previous and next hop the same? Don't help somebody be evil. Drop it
 * without a reply ... i2pd does this"): a middle hop between one router
 * on both sides adds no mixing for the creator, and it lets that router
 * probe us (our latency and load, with its own traffic on both sides)
 * at the cost of one tunnel.  No reply, so the creator learns nothing
 * from us; its build times out as it would through a Java router.  A
 * longer loop (A-B-C-A) cannot be seen from one hop.  Counted in
 * builds_loop; tests/unit/tunnels test_transit prev_hop_loops.
 */
static bool prev_hop_loop(const struct transit_table *t,
			  const struct tunnel_build_open *o,
			  const uint8_t *from)
{
	if (!from)
		return false;
	if (!(o->req.flags & TUNNEL_BUILD_FLAG_IBGW) &&
	    memcmp(from, t->self, 32) == 0)
		return true;
	return !(o->req.flags & (TUNNEL_BUILD_FLAG_IBGW | TUNNEL_BUILD_FLAG_OBEP)) &&
	       memcmp(from, o->req.next_ident, 32) == 0;
}

/* Hand a build record's ticket to the embedder (docs/relaypay.md §3). */
static void take_ticket(struct transit_table *t,
			const struct tunnel_build_open *o)
{
	uint8_t tk[TUNNEL_BUILD_TICKET_MAX_BYTES];
	size_t n;

	if (tunnel_build_request_ticket(&o->req, tk, sizeof(tk), &n) != 0)
		return;
	t->st.tickets++;
	if (t->h.ticket)
		t->h.ticket(t->h.ctx, tk, n, o->req.receive_id);
}

/* lim.builds_*: the previous hop's bucket first, so one busy peer does
 * not take everyone's tokens. */
static bool build_rate_ok(struct transit_table *t, const uint8_t *from,
			  uint64_t mono_ms)
{
	static const uint8_t unknown[32];
	unsigned all = t->lim.builds_per_min, one = t->lim.builds_per_peer_min;

	ratelim_set(t->builds_peer, one, ratelim_burst(one));
	return ratelim_take(t->builds_peer, from ? from : unknown, 32,
			    mono_ms) &&
	       tbucket_take(&t->builds_all, all, ratelim_burst(all), mono_ms);
}

/* Our tunnels with peer as previous or next hop (a scan: the table is at
 * most lim.max_tunnels, and this runs only for requests that passed the
 * rate limits). */
static size_t peer_tunnels(const struct transit_table *t, const uint8_t *peer)
{
	size_t n = 0;

	if (!peer || memcmp(peer, t->self, 32) == 0)
		return 0;
	for (size_t i = 0; i < t->cap; i++) {
		const struct transit_tunnel *x = t->slots[i];

		if (x && x != TOMBSTONE &&
		    (memcmp(x->prev_ident, peer, 32) == 0 ||
		     memcmp(x->next_ident, peer, 32) == 0))
			n++;
	}
	return n;
}

int transit_table_handle_build(struct transit_table *t,
			       const struct i2np_msg *m, const uint8_t *from,
			       uint64_t now_ms, uint64_t mono_ms)
{
	struct i2np_build b;
	struct tunnel_build_open o;
	struct mapping reply_opts = MAPPING_INIT;
	enum tunnel_build_kind kind;
	enum transit_verdict v;
	uint8_t *payload = NULL, code;
	uint32_t avail = 0;
	int r;

	if (m->type != I2NP_VARIABLE_TUNNEL_BUILD &&
	    m->type != I2NP_SHORT_TUNNEL_BUILD)
		return ERR_ARG;
	if ((r = i2np_build_decode(m, &b)) != 0) {
		t->st.builds_dropped++;
		return r;
	}
	kind = m->type == I2NP_VARIABLE_TUNNEL_BUILD ? TUNNEL_BUILD_LONG
						     : TUNNEL_BUILD_SHORT;
	t->st.bytes_in += m->len;
	if (!build_rate_ok(t, from, mono_ms)) {
		t->st.builds_dropped++;
		t->st.builds_throttled++;
		log_info_rl(60, LD_TUNNEL, "build requests over the rate "
			    "limit: dropped");
		return ERR_LIMIT;
	}
	if ((r = tunnel_build_participant_open(&t->part, kind, b.records,
					       b.n_records, now_ms, &o,
					       NULL)) != 0) {
		t->st.builds_dropped++;
		log_debug(LD_TUNNEL, "build request dropped: %s", err_str(r));
		return r;
	}
	if (prev_hop_loop(t, &o, from)) {
		char hf[72], hn[72];

		log_debug(LD_TUNNEL, "build dropped, a loop: from %s, next %s, "
			  "flags 0x%02x", log_safe_hash(hf, sizeof(hf), from),
			  log_safe_hash(hn, sizeof(hn), o.req.next_ident),
			  (unsigned)o.req.flags);
		t->st.builds_dropped++;
		t->st.builds_loop++;
		tunnel_build_open_wipe(&o);
		return ERR_PROTOCOL;
	}
	v = transit_table_decide(t, &o, mono_ms, &avail);
	if (v == TRANSIT_ACCEPT && t->lim.max_per_peer &&
	    (peer_tunnels(t, from) >= t->lim.max_per_peer ||
	     peer_tunnels(t, o.req.next_ident) >= t->lim.max_per_peer))
		v = TRANSIT_REJECT_PEER_LIMIT;
	if (v == TRANSIT_ACCEPT) {
		join(t, &o, from, mono_ms);
		t->st.builds_accepted++;
		take_ticket(t, &o);
		code = TUNNEL_BUILD_REPLY_ACCEPT;
		if (avail) {
			/* "b := bandwidth available for this tunnel" */
			char s[16];

			snprintf(s, sizeof(s), "%u", avail);
			mapping_set(&reply_opts, "b", s);
		}
	} else {
		t->st.builds_rejected[v]++;
		code = TUNNEL_BUILD_REPLY_REJECT;
	}
	payload = xmemdup(m->payload, m->len);
	r = tunnel_build_participant_reply(&o, payload + 1, b.n_records,
					   &reply_opts, code);
	if (r == 0)
		forward_build(t, &o, m->type, payload, m->len, mono_ms);
	else
		free(payload);
	mapping_clear(&reply_opts);
	tunnel_build_open_wipe(&o);
	return r;
}

/* ---- data ---- */

/* Over obep_total_bytes: the OBEP holding most gives up its oldest
 * partial message, until under (a tunnel sending parts and never the
 * rest pays for it, not one in the middle of a message). */
static void obep_limit(struct transit_table *t)
{
	size_t cap = t->lim.obep_total_bytes ? t->lim.obep_total_bytes
					     : TRANSIT_OBEP_TOTAL_BYTES;

	while (t->st.obep_bytes > cap) {
		struct transit_tunnel *most = NULL;
		size_t b = 0;

		for (size_t i = 0; i < t->cap; i++) {
			struct transit_tunnel *x = t->slots[i];

			if (x && x != TOMBSTONE && x->ep &&
			    tunnel_endpoint_pending_bytes(x->ep) > b) {
				b = tunnel_endpoint_pending_bytes(x->ep);
				most = x;
			}
		}
		if (!most)
			break;
		(void)tunnel_endpoint_drop_oldest(most->ep);
		t->st.obep_bytes -= b - tunnel_endpoint_pending_bytes(most->ep);
		t->st.obep_shed++;
	}
}

/* A layered message on: to the next hop, or (OBEP: our layer was the
 * last, what is left is plaintext) into reassembly.  Takes e->p. */
static int layer_deliver(struct transit_table *t, struct transit_queued *e)
{
	struct transit_tunnel *x = e->x;
	size_t before;
	int r;

	if (x->role != TRANSIT_OBEP) {
		send_td(t, x, e->p, e->mono);
		return 0;
	}
	t->mono_now = e->mono;
	before = tunnel_endpoint_pending_bytes(x->ep);
	if ((r = tunnel_endpoint_recv(x->ep, e->p + 4, e->mono)) != 0)
		t->st.dropped_bad++;
	t->st.obep_bytes -= before;
	t->st.obep_bytes += tunnel_endpoint_pending_bytes(x->ep);
	obep_limit(t);
	xfree_wipe(e->p, TD_PAYLOAD_BYTES);
	return r;
}

/* Our layer on n queued messages in one pass, then each on in order.
 * Takes every e[i].p.  The first error, or 0. */
static int layer_pass(struct transit_table *t, struct transit_queued *e,
		      size_t n)
{
	struct tunnel_layer *l[TRANSIT_BATCH_MSGS];
	uint8_t *msg[TRANSIT_BATCH_MSGS];
	int r, r1;

	for (size_t i = 0; i < n; i++) {
		l[i] = &e[i].x->layer;
		msg[i] = e[i].p + 4;
	}
	if ((r = tunnel_layer_encrypt_n(l, msg, n)) != 0) {
		for (size_t i = 0; i < n; i++)
			xfree_wipe(e[i].p, TD_PAYLOAD_BYTES);
		t->st.dropped_bad += n;
		return r;
	}
	t->st.layer_passes++;
	t->st.layer_msgs += n;
	for (size_t i = 0; i < n; i++)
		if ((r1 = layer_deliver(t, &e[i])) != 0 && r == 0)
			r = r1;
	return r;
}

/*
 * A checked tunnel message for x (TUNNEL_MSG_BYTES at msg, copied): with
 * the flush_soon hook, queued for transit_table_flush() (or a pass of its
 * own once TRANSIT_BATCH_MSGS wait); without it, layered and sent on now.
 */
static int layer_queue(struct transit_table *t, struct transit_tunnel *x,
		       const uint8_t *msg, uint64_t mono)
{
	struct transit_queued e = { .x = x, .mono = mono };

	e.p = xmalloc(TD_PAYLOAD_BYTES);
	memcpy(e.p + 4, msg, TUNNEL_MSG_BYTES);
	if (!t->h.flush_soon)
		return layer_pass(t, &e, 1);
	if (t->nq == t->qcap) {
		t->qcap = t->qcap ? 2 * t->qcap : TRANSIT_BATCH_MSGS;
		t->q = xrealloc(t->q, t->qcap * sizeof(*t->q));
	}
	t->q[t->nq++] = e;
	if (t->nq == 1)
		t->h.flush_soon(t->h.ctx);
	if (t->nq >= TRANSIT_BATCH_MSGS)
		transit_table_flush(t);
	return 0;
}

static void gateway_out(struct transit_table *t, struct transit_tunnel *x);

void transit_table_flush(struct transit_table *t)
{
	struct transit_queued e[TRANSIT_BATCH_MSGS];

	/* Messages queued while we deliver (an OBEP handing a message to
	 * our own IBGW) come after the ones being delivered: the loop below
	 * takes them, in order. */
	if (t->flushing)
		return;
	t->flushing = true;
	while (t->nq || t->gw_list) {
		size_t n;

		while (t->gw_list) {
			struct transit_tunnel *x = t->gw_list;
			t->gw_list = x->gw_next;
			x->gw_next = NULL;
			x->gw_listed = false;
			gateway_out(t, x);
		}
		n = t->nq < TRANSIT_BATCH_MSGS ? t->nq : TRANSIT_BATCH_MSGS;
		memcpy(e, t->q, n * sizeof(*e));
		t->nq -= n;
		memmove(t->q, t->q + n, t->nq * sizeof(*t->q));
		if (n)
			(void)layer_pass(t, e, n);
	}
	t->flushing = false;
}

int transit_table_handle_data(struct transit_table *t,
			      const struct i2np_msg *m, const uint8_t *from,
			      uint64_t mono_ms)
{
	static const uint8_t unknown[32];
	struct i2np_tunnel_data td;
	struct transit_tunnel *x;
	int r;

	if ((r = i2np_tunnel_data_decode(m, &td)) != 0) {
		t->st.dropped_bad++;
		return r;
	}
	t->st.bytes_in += m->len;
	if (!(x = find(t, td.tunnel_id)) || x->role == TRANSIT_IBGW) {
		t->st.dropped_unknown++;
		return ERR_NOT_FOUND;
	}
	/* Only the previous hop (the router that handed us the build
	 * request: the same router sends the tunnel's data) may use it. */
	if (from && memcmp(x->prev_ident, unknown, 32) != 0 &&
	    memcmp(x->prev_ident, from, 32) != 0) {
		t->st.dropped_wrong_hop++;
		return ERR_PROTOCOL;
	}
	if (!msg_rate_ok(t, x, from, mono_ms))
		return ERR_LIMIT;
	x->bytes_in += m->len;
	x->msgs_in++;
	/* The IV and first block: a replayed message repeats both. */
	if (tunnel_replay_add(t->iv_replay, td.data, 32, mono_ms)) {
		t->st.dropped_replay++;
		return ERR_DUPLICATE;
	}
	if (!relay_ok(t, mono_ms))
		return ERR_LIMIT;
	return layer_queue(t, x, td.data, mono_ms);
}

/*
 * A message an OBEP of ours delivers to us (takes msg).  A build request
 * is handled as if it came from ourselves, so only an IBGW record passes
 * the previous-hop check (Java: "it came via OutboundMessageDistributor
 * ... which is fine if we're going to be an IBGW"): that is how an
 * inbound build reaches its gateway through the creator's outbound
 * tunnel.  A TunnelGateway goes to our IBGW; TunnelData is dropped (no
 * recursion); anything else goes to the local hook.
 */
static void local_in(struct transit_table *t, struct i2np_msg *msg)
{
	switch (msg->type) {
	case I2NP_VARIABLE_TUNNEL_BUILD:
	case I2NP_SHORT_TUNNEL_BUILD:
		(void)transit_table_handle_build(t, msg, t->self, time_now_ms(),
						 t->mono_now);
		break;
	case I2NP_TUNNEL_GATEWAY:
		(void)transit_table_handle_gateway(t, msg, t->mono_now);
		break;
	case I2NP_TUNNEL_DATA:
		t->st.dropped_bad++;
		break;
	default:
		if (t->h.local) {
			t->h.local(t->h.ctx, msg);
			return;
		}
		t->st.dropped_bad++;
		break;
	}
	i2np_msg_free(msg);
}

/* A whole message out of an OBEP: "the OBEP sends ROUTER messages
 * directly and wraps TUNNEL messages in TunnelGateway". */
static void obep_deliver(void *ctx, const struct tunnel_endpoint_msg *em)
{
	struct transit_tunnel *x = ctx;
	struct transit_table *t = x->t;
	struct i2np_msg *msg = NULL, hdr;
	struct breader r;

	/* Checked in place: a message for a tunnel goes on as the bytes
	 * that came (not decoded and encoded again: the same bytes, with a
	 * copy and a SHA-256 more for its checksum); the others decoded. */
	if (i2np_msg_peek(em->data, em->len, &hdr) != 0 ||
	    i2np_msg_is_expired(&hdr, time_now_ms())) {
		t->st.dropped_bad++;
		return;
	}
	t->st.obep_delivered++;
	x->msgs_out++;
	x->bytes_out += em->len;
	rate_add(t, em->len, t->mono_now);
	if (em->type == TUNNEL_DELIVER_TUNNEL) {
		/* a tunnel whose gateway may be us (a tunnel test from an
		 * outbound tunnel to an inbound one, both through us) */
		to_gateway_raw(t, em->hash, em->tunnel_id, em->data, em->len,
			       t->mono_now);
		return;
	}
	br_init(&r, em->data, em->len);
	if (i2np_msg_decode(&r, &msg) != 0) {	/* as peeked: cannot fail */
		t->st.dropped_bad++;
		return;
	}
	switch (em->type) {
	case TUNNEL_DELIVER_ROUTER:
		if (memcmp(em->hash, t->self, 32) != 0) {
			send_msg(t, em->hash, msg);
			return;
		}
		local_in(t, msg);	/* to us: as i2pd's loopback does */
		return;
	case TUNNEL_DELIVER_LOCAL:
		local_in(t, msg);
		return;
	case TUNNEL_DELIVER_TUNNEL:	/* above */
		break;
	}
	t->st.dropped_bad++;
	i2np_msg_free(msg);
}

/* The IBGW x's packed messages, the last one padded out, get its layer
 * and go on as TunnelData. */
static void gateway_out(struct transit_table *t, struct transit_tunnel *x)
{
	uint8_t buf[TUNNEL_MSG_BYTES];

	tunnel_gateway_flush(x->gw);
	while (tunnel_gateway_pop(x->gw, buf))
		if (relay_ok(t, x->gw_mono))
			(void)layer_queue(t, x, buf, x->gw_mono);
	memwipe(buf, sizeof(buf));
}

/*
 * "The IBGW receives TunnelGateway (19) messages and packs them with
 * LOCAL delivery", puts its own layer on, and sends TunnelData on.  With
 * the flush_soon hook, the messages that come for one tunnel in a loop
 * pass share its tunnel messages (transit_table_flush pads out the last),
 * as i2pd packs those of one batch: a 100-byte message does not take a
 * 1 KB TunnelData of its own at every hop.  Without it, each goes at once.
 */
static void gateway_in(struct transit_table *t, struct transit_tunnel *x,
		       const uint8_t *inner, size_t len, uint64_t mono)
{
	x->bytes_in += len;
	x->msgs_in++;
	t->st.gateway_msgs++;
	if (tunnel_gateway_put(x->gw, TUNNEL_DELIVER_LOCAL, 0, NULL, inner,
			       len) != 0) {
		t->st.dropped_bad++;
		return;
	}
	x->gw_mono = mono;
	if (!t->h.flush_soon) {
		gateway_out(t, x);
		return;
	}
	if (x->gw_listed)
		return;
	x->gw_listed = true;
	x->gw_next = t->gw_list;
	if (!t->gw_list && !t->nq && !t->flushing)
		t->h.flush_soon(t->h.ctx);
	t->gw_list = x;
}

int transit_table_handle_gateway(struct transit_table *t,
				 const struct i2np_msg *m, uint64_t mono_ms)
{
	struct i2np_tunnel_gateway g;
	struct transit_tunnel *x;
	struct i2np_msg inner;
	int rc;

	if ((rc = i2np_tunnel_gateway_decode(m, &g)) != 0) {
		t->st.dropped_bad++;
		return rc;
	}
	t->st.bytes_in += m->len;
	if (!(x = find(t, g.tunnel_id)) || x->role != TRANSIT_IBGW) {
		t->st.dropped_unknown++;
		return ERR_NOT_FOUND;
	}
	/* Shedding: dropped here, before it is packed and queued (it would
	 * be dropped when the queue goes out, and meanwhile held). */
	if (t->shedding) {
		t->st.dropped_shed++;
		return ERR_LIMIT;
	}
	/* The inner message must be one whole I2NP message. */
	if ((rc = i2np_msg_peek(g.data, g.len, &inner)) != 0) {
		t->st.dropped_bad++;
		return rc;
	}
	if (!msg_rate_ok(t, x, NULL, mono_ms))
		return ERR_LIMIT;
	gateway_in(t, x, g.data, g.len, mono_ms);
	return 0;
}
