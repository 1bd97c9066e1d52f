/*
 * tunnels/transit: a transit table answering real build messages as one
 * hop among simulated ones (middle, IBGW, OBEP; long and short), the
 * decisions and their reasons, then traffic through the tunnels it
 * joined: relay, IBGW packing, OBEP delivery by type, replays, unknown
 * ids, the bandwidth share, accounting and the 10-minute life.  The
 * network is a send hook that records what would leave.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/tunnels/thops.h"
#include "crypto/aes_layer.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"
#include "router/i2np.h"
#include "router/mapping.h"
#include "router/membudget.h"
#include "tunnels/build_record.h"
#include "tunnels/endpoint.h"
#include "tunnels/gateway.h"
#include "tunnels/layer.h"
#include "tunnels/transit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS 1700000000000ULL
#define MONO 5000000ULL
#define MAX_OUT 256

struct sent {
	uint8_t peer[32];
	struct i2np_msg *m;
};

struct net {
	struct sent out[MAX_OUT];
	size_t n;
	struct i2np_msg *local[8];
	size_t n_local;
	bool congested;
	uint32_t busy_id;
	int send_ret;
	uint8_t ticket[TUNNEL_BUILD_TICKET_MAX_BYTES];	/* the last one */
	size_t ticket_len;
	uint32_t ticket_id;
	unsigned tickets;
	unsigned flush_soon;	/* calls of the hook */
};

static int net_send(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	struct net *n = ctx;

	if (n->n == MAX_OUT) {
		i2np_msg_free(m);
		return ERR_LIMIT;
	}
	memcpy(n->out[n->n].peer, peer, 32);
	n->out[n->n++].m = m;
	return n->send_ret;
}

static void net_local(void *ctx, struct i2np_msg *m)
{
	struct net *n = ctx;

	if (n->n_local < 8)
		n->local[n->n_local++] = m;
	else
		i2np_msg_free(m);
}

static bool net_congested(void *ctx)
{
	return ((struct net *)ctx)->congested;
}

static bool net_id_in_use(void *ctx, uint32_t id)
{
	return ((struct net *)ctx)->busy_id == id;
}

static void net_ticket(void *ctx, const uint8_t *tk, size_t len,
		       uint32_t receive_id)
{
	struct net *n = ctx;

	memcpy(n->ticket, tk, len);
	n->ticket_len = len;
	n->ticket_id = receive_id;
	n->tickets++;
}

static void net_flush_soon(void *ctx)
{
	((struct net *)ctx)->flush_soon++;
}

static void net_clear(struct net *n)
{
	for (size_t i = 0; i < n->n; i++)
		i2np_msg_free(n->out[i].m);
	for (size_t i = 0; i < n->n_local; i++)
		i2np_msg_free(n->local[i]);
	n->n = n->n_local = 0;
}

/* One router under test (hop `at` of the tunnel) and the others. */
struct rig {
	struct net net;
	struct thop hops[8];
	unsigned nh, at;
	uint8_t self[32];		/* the creator */
	struct transit_table *t;
	struct tunnel_build *b;
	struct tunnel_build_cfg cfg;
	uint8_t codes[8];
	uint8_t replies[8 * 528];	/* the creator's view after the reply */
	uint64_t mono;			/* when the table sees the build */
	const uint8_t *from;		/* the previous hop it comes from */
	const struct mapping *opts[8];	/* each hop's record options */
};

/* batched: with the flush_soon hook (tunnel messages queued). */
static void rig_init_batched(struct rig *g, unsigned nh, unsigned at,
			     const struct transit_limits *lim, bool batched)
{
	struct transit_hooks h = {
		.send = net_send, .local = net_local,
		.congested = net_congested, .id_in_use = net_id_in_use,
		.ticket = net_ticket,
		.flush_soon = batched ? net_flush_soon : NULL,
		.ctx = &g->net,
	};

	memset(g, 0, sizeof(*g));
	g->nh = nh;
	g->at = at;
	g->mono = MONO;
	for (unsigned i = 0; i < nh; i++)
		thop_init(&g->hops[i], (uint8_t)(40 + i));
	memset(g->self, 0xc5, 32);
	g->t = transit_table_new(g->hops[at].ks, g->hops[at].hash, lim, &h);
}

static void rig_init(struct rig *g, unsigned nh, unsigned at,
		     const struct transit_limits *lim)
{
	rig_init_batched(g, nh, at, lim, false);
}

static void rig_free(struct rig *g)
{
	net_clear(&g->net);
	transit_table_free(g->t);
	tunnel_build_free(g->b);
	for (unsigned i = 0; i < g->nh; i++)
		thop_free(&g->hops[i]);
}

/* Pop the single message sent, checking where it went. */
static struct i2np_msg *take_one(struct tctx *t, struct net *n,
				 const uint8_t *peer)
{
	struct i2np_msg *m;

	T_EQ(t, n->n, 1);
	if (n->n != 1)
		return NULL;
	if (peer)
		T_MEMEQ(t, n->out[0].peer, peer, 32);
	m = n->out[0].m;
	n->n = 0;
	return m;
}

/*
 * Build a tunnel of g->nh hops where hop g->at is the transit table and
 * the others are simulated participants.  Returns the build's result;
 * the replies' codes are in g->codes.
 */
static int rig_build(struct tctx *t, struct rig *g, enum tunnel_build_kind kind,
		     bool inbound)
{
	struct bbuf msg = BBUF_INIT;
	const size_t rl = tunnel_build_record_bytes(kind);
	uint8_t *recs;
	unsigned n;
	int r;

	memset(&g->cfg, 0, sizeof(g->cfg));
	g->cfg.kind = kind;
	g->cfg.inbound = inbound;
	g->cfg.n_hops = g->nh;
	for (unsigned i = 0; i < g->nh; i++) {
		thop_to_cfg(&g->hops[i], &g->cfg.hops[i]);
		g->cfg.hops[i].opts = g->opts[i];
	}
	memcpy(g->cfg.self, g->self, 32);
	memset(g->cfg.reply_gateway, 0x77, 32);
	g->cfg.reply_tunnel_id = 9999;
	g->cfg.now_ms = NOW_MS;
	tunnel_build_free(g->b);
	g->b = NULL;
	if ((r = tunnel_build_create(&g->cfg, &g->b, &msg)) != 0)
		return r;
	n = msg.data[0];
	recs = xmemdup(msg.data + 1, n * rl);
	for (unsigned i = 0; i < g->nh; i++) {
		const bool last = i + 1 == g->nh;
		struct i2np_msg *m, *out;
		struct tunnel_build_open o;

		if (i != g->at) {
			T_OK(t, tunnel_build_participant_open(&g->hops[i].p, kind,
					recs, n, NOW_MS, &o, NULL));
			T_OK(t, tunnel_build_participant_reply(&o, recs, n, NULL,
							       0));
			tunnel_build_open_wipe(&o);
			continue;
		}
		m = i2np_msg_new(kind == TUNNEL_BUILD_LONG
					 ? I2NP_VARIABLE_TUNNEL_BUILD
					 : I2NP_SHORT_TUNNEL_BUILD,
				 msg.data, 1, 60000);
		free(m->payload);
		m->len = 1 + n * rl;
		m->payload = xmalloc(m->len);
		m->payload[0] = (uint8_t)n;
		memcpy(m->payload + 1, recs, n * rl);
		r = transit_table_handle_build(g->t, m, g->from, NOW_MS, g->mono);
		i2np_msg_free(m);
		if (r != 0)
			goto out;
		if (!last || inbound) {
			/* forwarded as is, with the next message id */
			out = take_one(t, &g->net, last ? g->self
							: g->hops[i + 1].hash);
			if (!out)
				goto out;
			T_EQ(t, out->type, kind == TUNNEL_BUILD_LONG ? 23 : 25);
			T_EQ(t, out->len, 1 + n * rl);
			if (last)
				T_EQ(t, out->msg_id,
				     tunnel_build_reply_msg_id(g->b));
			memcpy(recs, out->payload + 1, n * rl);
			i2np_msg_free(out);
		} else {
			/* OBEP: a 24/26 reply inside TunnelGateway to the
			 * reply tunnel */
			struct i2np_tunnel_gateway gw;
			struct i2np_msg *inner = NULL;
			struct breader br;

			out = take_one(t, &g->net, g->cfg.reply_gateway);
			if (!out)
				goto out;
			T_EQ(t, out->type, I2NP_TUNNEL_GATEWAY);
			T_OK(t, i2np_tunnel_gateway_decode(out, &gw));
			T_EQ(t, gw.tunnel_id, 9999);
			br_init(&br, gw.data, gw.len);
			T_OK(t, i2np_msg_decode(&br, &inner));
			if (inner) {
				T_EQ(t, inner->type, kind == TUNNEL_BUILD_LONG
						     ? 24 : 26);
				T_EQ(t, inner->msg_id,
				     tunnel_build_reply_msg_id(g->b));
				memcpy(recs, inner->payload + 1, n * rl);
			}
			i2np_msg_free(inner);
			i2np_msg_free(out);
		}
	}
	r = tunnel_build_reply_process(g->b, recs, n, g->codes);
	memcpy(g->replies, recs, n * rl);
out:
	free(recs);
	bbuf_free(&msg);
	return r;
}

static void check_joined(struct tctx *t, struct rig *g, enum transit_role role)
{
	struct transit_info info;
	uint32_t id = tunnel_build_hop_id(g->b, g->at);

	T_TRUE(t, transit_table_lookup(g->t, id, &info));
	T_EQ(t, info.role, role);
	T_EQ(t, info.receive_id, id);
	if (g->at + 1 < g->nh) {
		T_EQ(t, info.next_id, tunnel_build_hop_id(g->b, g->at + 1));
		T_MEMEQ(t, info.next_ident, g->hops[g->at + 1].hash, 32);
	}
	T_EQ(t, info.expires_ms - info.created_ms,
	     TRANSIT_LIFETIME_MS + TRANSIT_GRACE_MS);
}

static void test_join_roles(struct tctx *t)
{
	for (int k = 0; k < 2; k++) {
		enum tunnel_build_kind kind = k ? TUNNEL_BUILD_SHORT
						: TUNNEL_BUILD_LONG;
		struct rig g;

		rig_init(&g, 3, 1, NULL);		/* middle */
		T_OK(t, rig_build(t, &g, kind, false));
		T_EQ(t, g.codes[0] | g.codes[1] | g.codes[2], 0);
		check_joined(t, &g, TRANSIT_PARTICIPANT);
		T_OK(t, rig_build(t, &g, kind, true));
		T_EQ(t, g.codes[1], 0);
		check_joined(t, &g, TRANSIT_PARTICIPANT);
		T_EQ(t, transit_table_count(g.t), 2);
		rig_free(&g);

		rig_init(&g, 3, 0, NULL);		/* IBGW */
		T_OK(t, rig_build(t, &g, kind, true));
		T_EQ(t, g.codes[0], 0);
		check_joined(t, &g, TRANSIT_IBGW);
		rig_free(&g);

		rig_init(&g, 3, 2, NULL);		/* OBEP */
		T_OK(t, rig_build(t, &g, kind, false));
		T_EQ(t, g.codes[2], 0);
		check_joined(t, &g, TRANSIT_OBEP);
		rig_free(&g);

		rig_init(&g, 1, 0, NULL);		/* 1 hop, both ways */
		T_OK(t, rig_build(t, &g, kind, true));
		check_joined(t, &g, TRANSIT_IBGW);
		T_OK(t, rig_build(t, &g, kind, false));
		check_joined(t, &g, TRANSIT_OBEP);
		T_EQ(t, transit_table_stats(g.t)->builds_accepted, 2);
		rig_free(&g);
	}
}

static void test_decisions(struct tctx *t)
{
	struct transit_limits lim = { .max_tunnels = 2, .share_pct = 50,
				      .bandwidth_Bps = 10000000 };
	const struct transit_stats *st;
	struct rig g;

	rig_init(&g, 2, 1, &lim);
	st = transit_table_stats(g.t);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_LONG, true));
	T_EQ(t, transit_table_count(g.t), 2);
	/* full: reply 30, nothing joined, counted by reason */
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[1], TUNNEL_BUILD_REPLY_REJECT);
	T_EQ(t, g.codes[0], 0);
	T_EQ(t, st->builds_rejected[TRANSIT_REJECT_LIMIT], 1);
	T_EQ(t, transit_table_count(g.t), 2);
	lim.max_tunnels = 0;
	transit_table_set_limits(g.t, &lim);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[1], TUNNEL_BUILD_REPLY_REJECT);
	T_EQ(t, st->builds_rejected[TRANSIT_REJECT_DISABLED], 1);
	lim.max_tunnels = 100;
	transit_table_set_limits(g.t, &lim);
	g.net.congested = true;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_LONG, false));
	T_EQ(t, g.codes[1], TUNNEL_BUILD_REPLY_REJECT);
	T_EQ(t, st->builds_rejected[TRANSIT_REJECT_CONGESTION], 1);
	g.net.congested = false;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_LONG, false));
	T_EQ(t, g.codes[1], 0);
	T_EQ(t, st->builds_accepted, 3);
	rig_free(&g);
}

/* Decide directly on hand-made requests: ids, layer type, options. */
static void test_decide(struct tctx *t)
{
	struct transit_limits lim = { .max_tunnels = 10, .share_pct = 50,
				      .bandwidth_Bps = 2000000 };
	struct tunnel_build_open o;
	struct mapping m = MAPPING_INIT;
	struct bbuf b = BBUF_INIT;
	uint32_t avail;
	struct rig g;

	rig_init(&g, 1, 0, &lim);
	memset(&o, 0, sizeof(o));
	o.kind = TUNNEL_BUILD_SHORT;
	o.req.receive_id = 1234;
	o.req.next_id = 1;
	o.req.options_len = 2;
	T_EQ(t, transit_table_decide(g.t, &o, MONO, &avail), TRANSIT_ACCEPT);
	T_EQ(t, avail, 0);
	g.net.busy_id = 1234;
	T_EQ(t, transit_table_decide(g.t, &o, MONO, &avail),
	     TRANSIT_REJECT_DUP_ID);
	g.net.busy_id = 0;
	o.req.layer_type = 1;
	T_EQ(t, transit_table_decide(g.t, &o, MONO, &avail),
	     TRANSIT_REJECT_LAYER_TYPE);
	o.req.layer_type = 0;
	/* share 1 MB/s: at most share/20 = 50 kB/s per tunnel */
	T_OK(t, mapping_set(&m, "m", "40"));
	T_OK(t, mapping_set(&m, "r", "1000"));
	T_OK(t, mapping_encode(&m, &b));
	memcpy(o.req.options, b.data, b.len);
	o.req.options_len = b.len;
	T_EQ(t, transit_table_decide(g.t, &o, MONO, &avail), TRANSIT_ACCEPT);
	T_EQ(t, avail, 50);		/* min(share/20, r capped at 4m) */
	bbuf_reset(&b);
	T_OK(t, mapping_set(&m, "m", "60"));
	T_OK(t, mapping_encode(&m, &b));
	memcpy(o.req.options, b.data, b.len);
	o.req.options_len = b.len;
	T_EQ(t, transit_table_decide(g.t, &o, MONO, &avail),
	     TRANSIT_REJECT_BANDWIDTH);
	bbuf_reset(&b);
	T_OK(t, mapping_set(&m, "m", "12x"));
	T_OK(t, mapping_encode(&m, &b));
	memcpy(o.req.options, b.data, b.len);
	o.req.options_len = b.len;
	T_EQ(t, transit_table_decide(g.t, &o, MONO, &avail),
	     TRANSIT_REJECT_OPTIONS);
	T_STREQ(t, transit_verdict_name(TRANSIT_REJECT_OPTIONS), "options");
	mapping_clear(&m);
	bbuf_free(&b);
	rig_free(&g);
}

/* A build whose record asks for bandwidth gets "b" in its reply. */
static void test_reply_bandwidth(struct tctx *t)
{
	struct transit_limits lim = { .max_tunnels = 10, .share_pct = 100,
				      .bandwidth_Bps = 4000000 };
	struct mapping m = MAPPING_INIT, opt = MAPPING_INIT;
	struct tunnel_build_request q;
	struct tunnel_build_keys k;
	struct i2np_msg *msg, *out;
	uint8_t rec[218], code;
	struct rig g;

	rig_init(&g, 1, 0, &lim);
	memset(&q, 0, sizeof(q));
	q.receive_id = 55;
	q.next_id = 66;
	memset(q.next_ident, 0x99, 32);
	q.request_time_min = (uint32_t)(NOW_MS / 60000);
	q.expiration_s = 600;
	q.next_msg_id = 1;
	T_OK(t, mapping_set(&opt, "r", "30"));
	T_OK(t, tunnel_build_record_encrypt(TUNNEL_BUILD_SHORT, &q, &opt,
					    g.hops[0].hash, &g.hops[0].pk, NULL,
					    rec, &k));
	msg = i2np_msg_new(I2NP_SHORT_TUNNEL_BUILD, "\001", 1, 60000);
	free(msg->payload);
	msg->payload = xmalloc(219);
	msg->payload[0] = 1;
	memcpy(msg->payload + 1, rec, 218);
	msg->len = 219;
	T_OK(t, transit_table_handle_build(g.t, msg, NULL, NOW_MS, MONO));
	out = take_one(t, &g.net, q.next_ident);
	if (out) {
		memcpy(rec, out->payload + 1, 218);
		T_OK(t, tunnel_build_reply_decrypt(TUNNEL_BUILD_SHORT, rec, 0, &k,
						   &code));
		T_EQ(t, code, 0);
		{
			struct breader r;

			br_init(&r, rec, 201);
			T_OK(t, mapping_decode(&r, 199, &m));
			T_STREQ(t, mapping_get(&m, "b"), "30");
		}
	}
	i2np_msg_free(out);
	i2np_msg_free(msg);
	mapping_clear(&m);
	mapping_clear(&opt);
	tunnel_build_keys_wipe(&k);
	rig_free(&g);
}

/* Dropped without a reply: garbage, not ours, replays. */
static void test_build_drops(struct tctx *t)
{
	struct rig g;
	struct i2np_msg *m;
	uint8_t junk[1 + 218];
	const struct transit_stats *st;

	rig_init(&g, 1, 0, NULL);
	st = transit_table_stats(g.t);
	rand_bytes(junk, sizeof(junk));
	junk[0] = 1;
	m = i2np_msg_new(I2NP_SHORT_TUNNEL_BUILD, junk, sizeof(junk), 60000);
	T_ERR(t, transit_table_handle_build(g.t, m, NULL, NOW_MS, MONO), ERR_NOT_FOUND);
	memcpy(junk + 1, g.hops[0].hash, 16);
	memcpy(m->payload, junk, sizeof(junk));
	T_ERR(t, transit_table_handle_build(g.t, m, NULL, NOW_MS, MONO), ERR_AUTH);
	m->len = 100;
	T_ERR(t, transit_table_handle_build(g.t, m, NULL, NOW_MS, MONO), ERR_TRUNCATED);
	m->len = sizeof(junk);
	m->type = I2NP_TUNNEL_DATA;
	T_ERR(t, transit_table_handle_build(g.t, m, NULL, NOW_MS, MONO), ERR_ARG);
	i2np_msg_free(m);
	T_EQ(t, st->builds_dropped, 3);
	T_EQ(t, g.net.n, 0);
	rig_free(&g);
}

/* ---- traffic ---- */

/* The creator's side of the tunnel: gateway packing and layers. */
static void creator_layers(struct rig *g, struct tunnel_layer *l)
{
	for (unsigned i = 0; i < g->nh; i++) {
		const struct tunnel_build_keys *k = tunnel_build_hop_keys(g->b, i);

		tunnel_layer_init(&l[i], k->layer_key, k->iv_key);
	}
}

static void wipe_layers(struct tunnel_layer *l, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		tunnel_layer_wipe(&l[i]);
}

static struct i2np_msg *td_msg(uint32_t id, const uint8_t *body)
{
	uint8_t p[1028];

	be32_put(p, id);
	memcpy(p + 4, body, 1024);
	return i2np_msg_new(I2NP_TUNNEL_DATA, p, sizeof(p), 8000);
}

struct got {
	struct tctx *t;
	struct bbuf want;
	unsigned n;
};

static void on_msg(void *ctx, const struct tunnel_endpoint_msg *m)
{
	struct got *gt = ctx;

	gt->n++;
	T_EQ(gt->t, m->type, TUNNEL_DELIVER_LOCAL);
	T_EQ(gt->t, m->len, gt->want.len);
	if (m->len == gt->want.len)
		T_MEMEQ(gt->t, m->data, gt->want.data, m->len);
}

/* Hand the table (the middle hop) body i of bodies, and the layered
 * copy the next hop should get to want[i]. */
static void batch_in(struct tctx *t, struct rig *g, struct tunnel_layer *l,
		     uint8_t (*want)[1024], unsigned i)
{
	struct i2np_msg *m;
	uint8_t body[1024];

	memset(body, 0, sizeof(body));
	be32_put(body, i);		/* a distinct IV each */
	body[100] = (uint8_t)i;
	m = td_msg(tunnel_build_hop_id(g->b, 1), body);
	T_OK(t, transit_table_handle_data(g->t, m, NULL, MONO + 10));
	i2np_msg_free(m);
	memcpy(want[i], body, 1024);
	T_OK(t, tunnel_layer_encrypt(&l[1], want[i]));
}

/* The messages sent so far are want[from..] in order; cleared. */
static void batch_out(struct tctx *t, struct rig *g, uint8_t (*want)[1024],
		      unsigned from, unsigned n)
{
	T_EQ(t, g->net.n, n);
	for (unsigned i = 0; i < g->net.n && i < n; i++) {
		struct i2np_msg *m = g->net.out[i].m;

		T_MEMEQ(t, g->net.out[i].peer, g->hops[2].hash, 32);
		T_EQ(t, m->type, I2NP_TUNNEL_DATA);
		T_EQ(t, be32_get(m->payload), tunnel_build_hop_id(g->b, 2));
		T_MEMEQ(t, m->payload + 4, want[from + i], 1024);
	}
	net_clear(&g->net);
}

/* With the flush_soon hook the middle hop queues what passed its checks:
 * nothing leaves until transit_table_flush(), a full queue (a layer pass
 * of AES_LAYER_LANES) or an expiry sweep, and then every message leaves
 * layered, in the order it came.  Freeing the table drops what waits. */
static void test_relay_batched(struct tctx *t)
{
	struct rig g;
	struct tunnel_layer l[3];
	enum { B = AES_LAYER_LANES };		/* a full pass */
	uint8_t want[2 * B + 10][1024];
	const struct transit_stats *st;

	rig_init_batched(&g, 3, 1, NULL, true);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	net_clear(&g.net);
	creator_layers(&g, l);
	st = transit_table_stats(g.t);
	for (unsigned i = 0; i < 5; i++)
		batch_in(t, &g, l, want, i);
	T_EQ(t, g.net.n, 0);
	T_EQ(t, g.net.flush_soon, 1);	/* once, for the first */
	transit_table_flush(g.t);
	batch_out(t, &g, want, 0, 5);
	transit_table_flush(g.t);	/* nothing left */
	T_EQ(t, g.net.n, 0);
	/* 2B + 3 more: two full passes leave by themselves, 3 wait */
	for (unsigned i = 5; i < 2 * B + 8; i++)
		batch_in(t, &g, l, want, i);
	batch_out(t, &g, want, 5, 2 * B);
	T_EQ(t, g.net.flush_soon, 4);
	transit_table_expire(g.t, MONO + 20);	/* flushes first */
	batch_out(t, &g, want, 2 * B + 5, 3);
	T_EQ(t, st->layer_passes, 4);
	T_EQ(t, st->layer_msgs, 2 * B + 8);
	T_EQ(t, st->data_relayed, 2 * B + 8);
	/* two left queued when the table goes */
	batch_in(t, &g, l, want, 2 * B + 8);
	batch_in(t, &g, l, want, 2 * B + 9);
	T_EQ(t, g.net.n, 0);
	wipe_layers(l, 3);
	rig_free(&g);
}

/* Outbound 3-hop, the table in the middle: the creator pre-decrypts, hop
 * 0 adds its layer, the table relays, hop 2 (OBEP) reads plaintext. */
static void test_relay_middle(struct tctx *t)
{
	struct rig g;
	struct tunnel_layer l[3];
	struct tunnel_gateway *gw = tunnel_gateway_new();
	struct got gt = { .t = t, .want = BBUF_INIT };
	struct tunnel_endpoint *ep = tunnel_endpoint_new(on_msg, &gt, NULL);
	struct i2np_msg *inner, *m, *out;
	uint8_t body[1024], first[1024];
	struct transit_info info;
	unsigned sent = 0;

	rig_init(&g, 3, 1, NULL);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	creator_layers(&g, l);
	inner = i2np_msg_new(I2NP_DATA, "hello, tunnel", 13, 60000);
	i2np_msg_encode(inner, &gt.want);
	for (int rep = 0; rep < 20; rep++) {
		T_OK(t, tunnel_gateway_put(gw, TUNNEL_DELIVER_LOCAL, 0, NULL,
					   gt.want.data, gt.want.len));
		tunnel_gateway_flush(gw);
		while (tunnel_gateway_pop(gw, body)) {
			T_OK(t, tunnel_layer_peel(l, 3, body));
			T_OK(t, tunnel_layer_encrypt(&l[0], body));
			if (sent == 0)
				memcpy(first, body, sizeof(first));
			m = td_msg(tunnel_build_hop_id(g.b, 1), body);
			T_OK(t, transit_table_handle_data(g.t, m, NULL,
							  MONO + 10));
			i2np_msg_free(m);
			out = take_one(t, &g.net, g.hops[2].hash);
			if (!out)
				continue;
			T_EQ(t, out->type, I2NP_TUNNEL_DATA);
			T_EQ(t, be32_get(out->payload),
			     tunnel_build_hop_id(g.b, 2));
			memcpy(body, out->payload + 4, 1024);
			i2np_msg_free(out);
			T_OK(t, tunnel_layer_encrypt(&l[2], body));
			T_OK(t, tunnel_endpoint_recv(ep, body, 1));
			sent++;
		}
	}
	T_EQ(t, gt.n, 20);
	T_TRUE(t, transit_table_lookup(g.t, tunnel_build_hop_id(g.b, 1), &info));
	T_EQ(t, info.msgs_in, sent);
	T_EQ(t, info.msgs_out, sent);
	T_EQ(t, info.bytes_out, 1028ULL * sent);
	T_EQ(t, transit_table_stats(g.t)->data_relayed, sent);
	/* a replay of the first message is dropped */
	m = td_msg(tunnel_build_hop_id(g.b, 1), first);
	T_ERR(t, transit_table_handle_data(g.t, m, NULL,
					   MONO + 20), ERR_DUPLICATE);
	T_EQ(t, transit_table_stats(g.t)->dropped_replay, 1);
	/* an unknown tunnel id */
	be32_put(m->payload, tunnel_build_hop_id(g.b, 1) ^ 1);
	T_ERR(t, transit_table_handle_data(g.t, m, NULL,
					   MONO + 20), ERR_NOT_FOUND);
	T_EQ(t, g.net.n, 0);
	i2np_msg_free(m);
	i2np_msg_free(inner);
	/* ten minutes and the grace later the tunnel is gone */
	transit_table_expire(g.t, MONO + TRANSIT_LIFETIME_MS);
	T_EQ(t, transit_table_count(g.t), 1);
	transit_table_expire(g.t, MONO + TRANSIT_LIFETIME_MS + TRANSIT_GRACE_MS);
	T_EQ(t, transit_table_count(g.t), 0);
	T_EQ(t, transit_table_stats(g.t)->expired, 1);
	wipe_layers(l, 3);
	tunnel_gateway_free(gw);
	tunnel_endpoint_free(ep);
	bbuf_free(&gt.want);
	rig_free(&g);
}

/* Every TunnelData the IBGW (the rig's hop 0) sent, to hop 1 on its
 * tunnel id, through hop 1's and the creator's layers into ep; how many
 * there were. */
static size_t ibgw_out(struct tctx *t, struct rig *g, struct tunnel_layer *l,
		       struct tunnel_endpoint *ep)
{
	size_t n = g->net.n;
	uint8_t body[1024];

	for (size_t i = 0; i < n; i++) {
		const struct i2np_msg *out = g->net.out[i].m;
		T_MEMEQ(t, g->net.out[i].peer, g->hops[1].hash, 32);
		T_EQ(t, be32_get(out->payload), tunnel_build_hop_id(g->b, 1));
		memcpy(body, out->payload + 4, 1024);
		T_OK(t, tunnel_layer_encrypt(&l[1], body));
		T_OK(t, tunnel_layer_peel(l, 2, body));
		T_OK(t, tunnel_endpoint_recv(ep, body, 1));
	}
	net_clear(&g->net);
	return n;
}

/* Inbound 2-hop, the table as IBGW: TunnelGateway in, TunnelData out;
 * hop 1 adds its layer; the creator peels both and reads LOCAL. */
static void test_ibgw(struct tctx *t)
{
	struct rig g;
	struct tunnel_layer l[2];
	struct got gt = { .t = t, .want = BBUF_INIT };
	struct tunnel_endpoint *ep = tunnel_endpoint_new(on_msg, &gt, NULL);
	struct i2np_msg *inner, *m;
	struct bbuf gwp = BBUF_INIT;
	uint8_t body[1024], *big;

	rig_init(&g, 2, 0, NULL);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_LONG, true));
	creator_layers(&g, l);
	big = xmalloc(3000);
	rand_bytes(big, 3000);
	inner = i2np_msg_new(I2NP_DATA, big, 3000, 60000);	/* 4 frags */
	i2np_msg_encode(inner, &gt.want);
	i2np_tunnel_gateway_encode(tunnel_build_hop_id(g.b, 0), inner, &gwp);
	m = i2np_msg_new(I2NP_TUNNEL_GATEWAY, gwp.data, gwp.len, 8000);
	T_OK(t, transit_table_handle_gateway(g.t, m, MONO));
	T_TRUE(t, ibgw_out(t, &g, l, ep) >= 4);
	T_EQ(t, gt.n, 1);
	/* TunnelData to an IBGW, TunnelGateway to a participant: dropped */
	memset(body, 1, sizeof(body));
	i2np_msg_free(m);
	m = td_msg(tunnel_build_hop_id(g.b, 0), body);
	T_ERR(t, transit_table_handle_data(g.t, m, NULL, MONO), ERR_NOT_FOUND);
	i2np_msg_free(m);
	/* a TunnelGateway whose inner message is corrupt (its size one
	 * short of the bytes there) */
	gwp.data[6 + 14]--;		/* tunnel id, length; size low byte */
	m = i2np_msg_new(I2NP_TUNNEL_GATEWAY, gwp.data, gwp.len, 8000);
	T_ERR(t, transit_table_handle_gateway(g.t, m, MONO), ERR_FORMAT);
	T_EQ(t, g.net.n, 0);
	T_EQ(t, transit_table_stats(g.t)->gateway_msgs, 1);
	i2np_msg_free(m);
	gwp.data[6 + 14]++;
	/* a wrong checksum byte on the inner message: refused on a Data
	 * message, and on a Garlic message read as Java reads it (not
	 * checked) and sent on */
	gwp.data[6 + 15] ^= 1;
	m = i2np_msg_new(I2NP_TUNNEL_GATEWAY, gwp.data, gwp.len, 8000);
	T_ERR(t, transit_table_handle_gateway(g.t, m, MONO), ERR_FORMAT);
	T_EQ(t, g.net.n, 0);
	i2np_msg_free(m);
	gwp.data[6] = I2NP_GARLIC;
	m = i2np_msg_new(I2NP_TUNNEL_GATEWAY, gwp.data, gwp.len, 8000);
	T_OK(t, transit_table_handle_gateway(g.t, m, MONO));
	T_TRUE(t, g.net.n >= 4);
	T_EQ(t, transit_table_stats(g.t)->gateway_msgs, 2);
	net_clear(&g.net);
	/* while shedding transit traffic: dropped before it is queued */
	transit_table_set_shedding(g.t, true, true);
	T_ERR(t, transit_table_handle_gateway(g.t, m, MONO), ERR_LIMIT);
	T_EQ(t, transit_table_stats(g.t)->gateway_msgs, 2);
	T_EQ(t, transit_table_stats(g.t)->dropped_shed, 1);
	transit_table_flush(g.t);
	T_EQ(t, g.net.n, 0);
	transit_table_set_shedding(g.t, false, false);
	i2np_msg_free(m);
	i2np_msg_free(inner);
	free(big);
	bbuf_free(&gwp);
	wipe_layers(l, 2);
	tunnel_endpoint_free(ep);
	bbuf_free(&gt.want);
	rig_free(&g);
}

/* The messages out of the inbound tunnel's end, their first data byte
 * each (which message it is) and their sizes. */
struct packed_got {
	unsigned n;
	uint8_t first[16];
	size_t len[16];
};

static void on_packed(void *ctx, const struct tunnel_endpoint_msg *m)
{
	struct packed_got *pg = ctx;

	if (pg->n < 16 && m->len > 16) {
		pg->first[pg->n] = m->data[16];
		pg->len[pg->n] = m->len;
	}
	pg->n++;
}

/* Hand the IBGW (the rig's hop 0) a TunnelGateway carrying a Data
 * message of len bytes, each byte i. */
static void ibgw_in(struct tctx *t, struct rig *g, uint8_t i, size_t len)
{
	struct bbuf gwp = BBUF_INIT;
	struct i2np_msg *inner, *m;
	uint8_t *data = xmalloc(len);

	memset(data, i, len);
	inner = i2np_msg_new(I2NP_DATA, data, len, 60000);
	i2np_tunnel_gateway_encode(tunnel_build_hop_id(g->b, 0), inner, &gwp);
	m = i2np_msg_new(I2NP_TUNNEL_GATEWAY, gwp.data, gwp.len, 8000);
	T_OK(t, transit_table_handle_gateway(g->t, m, MONO));
	i2np_msg_free(m);
	i2np_msg_free(inner);
	bbuf_free(&gwp);
	free(data);
}

/*
 * With the flush_soon hook, the TunnelGateway messages that come for one
 * tunnel in a loop pass share its tunnel messages: six 100-byte Data
 * messages leave as one TunnelData at transit_table_flush() (six, one
 * each, without the hook, as every one was before), and a 3000-byte one
 * among small ones starts in the room they left.  They come out of the
 * tunnel whole and in order.
 */
static void test_ibgw_packs_a_pass(struct tctx *t)
{
	struct rig g;
	struct tunnel_layer l[2];
	struct packed_got pg = { 0 };
	struct tunnel_endpoint *ep = tunnel_endpoint_new(on_packed, &pg, NULL);

	for (int batched = 0; batched < 2; batched++) {
		rig_init_batched(&g, 2, 0, NULL, batched);
		T_OK(t, rig_build(t, &g, TUNNEL_BUILD_LONG, true));
		net_clear(&g.net);
		creator_layers(&g, l);
		memset(&pg, 0, sizeof(pg));
		for (uint8_t i = 0; i < 6; i++)
			ibgw_in(t, &g, i, 100);
		if (batched) {
			T_EQ(t, g.net.n, 0);
			T_EQ(t, g.net.flush_soon, 1);
			transit_table_flush(g.t);
		}
		T_EQ(t, ibgw_out(t, &g, l, ep), batched ? 1 : 6);
		T_EQ(t, pg.n, 6);
		for (uint8_t i = 0; i < 6 && i < pg.n; i++) {
			T_EQ(t, pg.first[i], i);
			T_EQ(t, pg.len[i], 16 + 100);
		}
		/* two small, a large, a small: 4 TunnelData packed (the
		 * large one's 3000 bytes need 4 of their own alone) */
		memset(&pg, 0, sizeof(pg));
		ibgw_in(t, &g, 10, 100);
		ibgw_in(t, &g, 11, 100);
		ibgw_in(t, &g, 12, 3000);
		ibgw_in(t, &g, 13, 100);
		transit_table_flush(g.t);
		T_EQ(t, ibgw_out(t, &g, l, ep), batched ? 4 : 7);
		T_EQ(t, pg.n, 4);
		for (uint8_t i = 0; i < 4 && i < pg.n; i++)
			T_EQ(t, pg.first[i], 10 + i);
		T_EQ(t, pg.len[2], 16 + 3000);
		T_EQ(t, transit_table_stats(g.t)->gateway_msgs, 10);
		wipe_layers(l, 2);
		rig_free(&g);
	}
	tunnel_endpoint_free(ep);
}

/* Outbound 2-hop, the table as OBEP: ROUTER goes straight to the router,
 * TUNNEL inside TunnelGateway, LOCAL to the local hook; expired dropped. */
/* What the creator's gateway gw holds, through the 2-hop outbound
 * tunnel (layers l) whose OBEP is the table under test (hop 1). */
static void to_obep(struct tctx *t, struct rig *g, struct tunnel_layer *l,
		    struct tunnel_gateway *gw)
{
	uint8_t body[1024];
	struct i2np_msg *m;

	tunnel_gateway_flush(gw);
	while (tunnel_gateway_pop(gw, body)) {
		T_OK(t, tunnel_layer_peel(l, 2, body));
		T_OK(t, tunnel_layer_encrypt(&l[0], body));
		m = td_msg(tunnel_build_hop_id(g->b, 1), body);
		T_OK(t, transit_table_handle_data(g->t, m, NULL, MONO));
		i2np_msg_free(m);
	}
}

/* Into the OBEP with receive id `id` (layers l): the tunnel messages of
 * a msg_len-byte message, all but the last fragment (so it stays
 * partial). */
static void obep_partial(struct tctx *t, struct rig *g, struct tunnel_layer *l,
			 uint32_t id, size_t msg_len)
{
	struct tunnel_gateway *gw = tunnel_gateway_new();
	uint8_t body[1024], peer[32], *p = xmalloc(msg_len);
	struct i2np_msg *m;
	struct bbuf enc = BBUF_INIT;
	size_t n;

	rand_bytes(p, msg_len);
	memset(peer, 0x31, 32);
	m = i2np_msg_new(I2NP_DATA, p, msg_len, 60000);
	i2np_msg_encode(m, &enc);
	i2np_msg_free(m);
	T_OK(t, tunnel_gateway_put(gw, TUNNEL_DELIVER_ROUTER, 0, peer, enc.data,
				   enc.len));
	tunnel_gateway_flush(gw);
	n = tunnel_gateway_pending(gw);
	for (size_t i = 0; i + 1 < n && tunnel_gateway_pop(gw, body); i++) {
		T_OK(t, tunnel_layer_peel(l, 2, body));
		T_OK(t, tunnel_layer_encrypt(&l[0], body));
		m = td_msg(id, body);
		T_OK(t, transit_table_handle_data(g->t, m, NULL, MONO));
		i2np_msg_free(m);
	}
	bbuf_free(&enc);
	free(p);
	tunnel_gateway_free(gw);
}

/* What OBEPs hold for messages never finished: at most obep_bytes each
 * (the endpoint drops the oldest), obep_total_bytes in all (the one
 * holding most gives way), none once expired. */
static void test_obep_limits(struct tctx *t)
{
	struct transit_limits lim;
	struct rig g;
	struct tunnel_layer l1[2], l2[2];
	uint32_t id1, id2;
	const struct transit_stats *st;

	transit_limits_default(&lim);
	lim.obep_bytes = 12000;
	lim.obep_total_bytes = 16000;
	rig_init(&g, 2, 1, &lim);
	st = transit_table_stats(g.t);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	creator_layers(&g, l1);
	id1 = tunnel_build_hop_id(g.b, 1);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	creator_layers(&g, l2);
	id2 = tunnel_build_hop_id(g.b, 1);
	/* 5 KB held: under both */
	obep_partial(t, &g, l1, id1, 5000);
	T_TRUE(t, st->obep_bytes >= 3000 && st->obep_bytes <= 5000);
	/* two more in the first: past its 12,000, its oldest goes */
	obep_partial(t, &g, l1, id1, 5000);
	obep_partial(t, &g, l1, id1, 5000);
	T_TRUE(t, st->obep_bytes <= 12000);
	T_EQ(t, st->obep_shed, 0);
	/* the second OBEP's 9 KB take the total past 16,000: the first,
	 * holding most, gives way */
	obep_partial(t, &g, l2, id2, 9000);
	T_TRUE(t, st->obep_bytes <= 16000);
	T_TRUE(t, st->obep_shed >= 1);
	T_TRUE(t, st->obep_bytes >= 7000);	/* the second's kept */
	/* expired: nothing held */
	transit_table_expire(g.t, MONO + TUNNEL_ENDPOINT_TIMEOUT_MS + 1);
	T_EQ(t, st->obep_bytes, 0);
	T_EQ(t, g.net.n, 0);			/* nothing was whole */
	wipe_layers(l1, 2);
	wipe_layers(l2, 2);
	rig_free(&g);
}

static void test_obep(struct tctx *t)
{
	struct rig g;
	struct tunnel_layer l[2];
	struct tunnel_gateway *gw = tunnel_gateway_new();
	struct i2np_msg *a, *b, *c, *old;
	struct bbuf ea = BBUF_INIT, eb = BBUF_INIT, ec = BBUF_INIT, eo = BBUF_INIT;
	uint8_t peer_r[32], peer_t[32], *big;
	const struct transit_stats *st;

	rig_init(&g, 2, 1, NULL);
	st = transit_table_stats(g.t);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	creator_layers(&g, l);
	memset(peer_r, 0x31, 32);
	memset(peer_t, 0x32, 32);
	big = xmalloc(2500);
	rand_bytes(big, 2500);
	a = i2np_msg_new(I2NP_DATA, big, 2500, 60000);
	b = i2np_msg_new(I2NP_DATA, "to a tunnel", 11, 60000);
	c = i2np_msg_new(I2NP_DELIVERY_STATUS, "\0\0\0\1\0\0\0\0\0\0\0\2", 12,
			 60000);
	old = i2np_msg_new(I2NP_DATA, "stale", 5, 0);
	old->expiration_ms = time_now_ms() - 120000;
	i2np_msg_encode(a, &ea);
	i2np_msg_encode(b, &eb);
	i2np_msg_encode(c, &ec);
	i2np_msg_encode(old, &eo);
	T_OK(t, tunnel_gateway_put(gw, TUNNEL_DELIVER_ROUTER, 0, peer_r, ea.data,
				   ea.len));
	T_OK(t, tunnel_gateway_put(gw, TUNNEL_DELIVER_TUNNEL, 4321, peer_t,
				   eb.data, eb.len));
	T_OK(t, tunnel_gateway_put(gw, TUNNEL_DELIVER_LOCAL, 0, NULL, ec.data,
				   ec.len));
	T_OK(t, tunnel_gateway_put(gw, TUNNEL_DELIVER_ROUTER, 0, peer_r, eo.data,
				   eo.len));
	to_obep(t, &g, l, gw);
	T_EQ(t, g.net.n, 2);
	T_EQ(t, g.net.n_local, 1);
	if (g.net.n == 2) {
		T_MEMEQ(t, g.net.out[0].peer, peer_r, 32);
		T_EQ(t, g.net.out[0].m->type, I2NP_DATA);
		T_EQ(t, g.net.out[0].m->msg_id, a->msg_id);
		T_EQ(t, g.net.out[0].m->len, 2500);
		T_MEMEQ(t, g.net.out[1].peer, peer_t, 32);
		T_EQ(t, g.net.out[1].m->type, I2NP_TUNNEL_GATEWAY);
		T_EQ(t, be32_get(g.net.out[1].m->payload), 4321);
		T_EQ(t, be16_get(g.net.out[1].m->payload + 4), eb.len);
		T_MEMEQ(t, g.net.out[1].m->payload + 6, eb.data, eb.len);
	}
	if (g.net.n_local == 1)
		T_EQ(t, g.net.local[0]->type, I2NP_DELIVERY_STATUS);
	T_EQ(t, st->obep_delivered, 3);
	T_EQ(t, st->dropped_bad, 1);		/* the expired one */
	i2np_msg_free(a);
	i2np_msg_free(b);
	i2np_msg_free(c);
	i2np_msg_free(old);
	bbuf_free(&ea);
	bbuf_free(&eb);
	bbuf_free(&ec);
	bbuf_free(&eo);
	free(big);
	wipe_layers(l, 2);
	tunnel_gateway_free(gw);
	rig_free(&g);
}

/* The share: 100 kB/s of a 200 kB/s router at 50 %; a burst beyond the
 * bucket is dropped, the rate is measured, new tunnels are refused while
 * relayed traffic is at 90 % of the share, and accepted again later. */
static void test_bandwidth_share(struct tctx *t)
{
	struct transit_limits lim = { .max_tunnels = 10, .share_pct = 50,
				      .bandwidth_Bps = 200000 };
	struct rig g;
	struct tunnel_layer l[2];
	uint8_t body[1024];
	struct i2np_msg *m;
	unsigned ok = 0, dropped = 0;
	const struct transit_stats *st;
	uint64_t rate;

	rig_init(&g, 2, 0, &lim);
	st = transit_table_stats(g.t);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	creator_layers(&g, l);
	/* 200 messages in one millisecond: the bucket holds 100 kB (≥ 64 KiB) */
	for (int i = 0; i < 200; i++) {
		rand_bytes(body, sizeof(body));
		m = td_msg(tunnel_build_hop_id(g.b, 0), body);
		if (transit_table_handle_data(g.t, m, NULL, MONO + 1) == 0)
			ok++;
		else
			dropped++;
		i2np_msg_free(m);
	}
	net_clear(&g.net);
	T_EQ(t, ok, 100000 / 1028);
	T_EQ(t, st->dropped_bandwidth, dropped);
	rate = transit_table_rate_Bps(g.t, MONO + 1);
	T_EQ(t, rate, (uint64_t)ok * 1028 / TRANSIT_RATE_WINDOW_S);
	/* one second later the bucket has refilled by the share */
	ok = 0;
	for (int i = 0; i < 200; i++) {
		rand_bytes(body, sizeof(body));
		m = td_msg(tunnel_build_hop_id(g.b, 0), body);
		ok += transit_table_handle_data(g.t, m, NULL, MONO + 1001) == 0;
		i2np_msg_free(m);
	}
	net_clear(&g.net);
	T_EQ(t, ok, 100000 / 1028);
	/* ~19 kB/s over 10 s is well below 90 % of 100 kB/s: accepted */
	g.mono = MONO + 1001;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[0], 0);
	/* at the share: refused */
	lim.bandwidth_Bps = 40000;
	transit_table_set_limits(g.t, &lim);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[0], TUNNEL_BUILD_REPLY_REJECT);
	T_EQ(t, st->builds_rejected[TRANSIT_REJECT_BANDWIDTH], 1);
	/* the window moves on: accepted again */
	T_EQ(t, transit_table_rate_Bps(g.t, MONO + 20000), 0);
	wipe_layers(l, 2);
	rig_free(&g);
}

/* Offer relayed traffic for a minute of the table's clock from start,
 * one message every step_ms; the bytes relayed. */
static uint64_t relay_minute(struct tctx *t, struct rig *g, uint64_t start,
			     unsigned step_ms)
{
	const struct transit_stats *st = transit_table_stats(g->t);
	uint64_t before = st->bytes_out, dropped = st->dropped_replay;
	uint8_t body[1024];

	memset(body, 0x5a, sizeof(body));
	for (uint64_t ms = 0; ms < 60000; ms += step_ms) {
		struct i2np_msg *m;
		/* Each IV its own, or the replay filter takes them. */
		memcpy(body, &start, sizeof(start));
		memcpy(body + 8, &ms, sizeof(ms));
		m = td_msg(tunnel_build_hop_id(g->b, 0), body);
		(void)transit_table_handle_data(g->t, m, NULL, start + ms);
		i2np_msg_free(m);
		if (g->net.n > 64)
			net_clear(&g->net);
	}
	net_clear(&g->net);
	T_EQ(t, st->dropped_replay, dropped);
	T_TRUE(t, st->bytes_out >= before);
	return st->bytes_out - before;
}

/* The relay bucket holds the share within 10 % over a minute (issue [X]:
 * "token-bucket bandwidth limits that hold within +-10 % per minute"):
 * offered twice the share, a minute relays 60 s of the share (plus at
 * most the one-second burst); offered half of it, everything passes.
 * The clock is the table's argument, so the minute takes no time. */
static void test_bandwidth_minute(struct tctx *t)
{
	struct transit_limits lim = { .max_tunnels = 10, .share_pct = 50,
				      .bandwidth_Bps = 400000 };
	const uint64_t share = 200000, minute = 60 * share;
	struct rig g;
	uint64_t bytes;

	rig_init(&g, 2, 0, &lim);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	/* 400 messages/s of 1028 bytes: 411 kB/s, twice the share. */
	bytes = relay_minute(t, &g, MONO + 1, 2);
	T_TRUE(t, bytes * 10 >= minute * 9);
	T_TRUE(t, bytes * 10 <= minute * 11);
	/* A second minute, bucket drained: the rate alone. */
	bytes = relay_minute(t, &g, MONO + 60001, 2);
	T_TRUE(t, bytes * 10 >= minute * 9);
	T_TRUE(t, bytes * 10 <= minute * 11);
	/* The windowed rate agrees. */
	T_TRUE(t, transit_table_rate_Bps(g.t, MONO + 119999) * 10 >= share * 9);
	T_TRUE(t, transit_table_rate_Bps(g.t, MONO + 119999) * 10 <= share * 11);
	/* 100 messages/s, half the share, once the bucket has refilled:
	 * nothing dropped. */
	{
		uint64_t dropped = transit_table_stats(g.t)->dropped_bandwidth;
		bytes = relay_minute(t, &g, MONO + 121001, 10);
		T_EQ(t, bytes, 6000ULL * 1028);
		T_EQ(t, transit_table_stats(g.t)->dropped_bandwidth, dropped);
	}
	rig_free(&g);
}

/* Java's previous-hop checks: a middle hop whose previous and next hop
 * are the same router, or a hop that is not an IBGW receiving the build
 * from itself, is dropped without a reply; the true previous hop is
 * fine, and so is an IBGW fed by its own OBEP. */
static void test_prev_hop_loops(struct tctx *t)
{
	struct rig g;

	rig_init(&g, 3, 1, NULL);
	g.from = g.hops[0].hash;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	g.from = g.hops[2].hash;		/* previous = next */
	T_ERR(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false), ERR_PROTOCOL);
	T_EQ(t, g.net.n, 0);
	g.from = g.hops[1].hash;		/* from ourselves */
	T_ERR(t, rig_build(t, &g, TUNNEL_BUILD_LONG, true), ERR_PROTOCOL);
	T_EQ(t, transit_table_stats(g.t)->builds_loop, 2);
	T_EQ(t, transit_table_count(g.t), 1);
	rig_free(&g);
	rig_init(&g, 2, 0, NULL);		/* IBGW */
	g.from = g.hops[0].hash;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, true));
	T_EQ(t, g.codes[0], 0);
	rig_free(&g);
}


/* A tunnel test through us both ways: our OBEP delivers TUNNEL to an
 * inbound tunnel whose IBGW is also us, without the network. */
/* An OBEP's TUNNEL delivery to a tunnel whose gateway is this router but
 * not in the table (a zero-hop inbound tunnel of the router's own, known
 * through id_in_use) goes to the local hook as a TunnelGateway; another
 * unknown id at us is dropped. */
static void test_obep_to_own_zero_hop(struct tctx *t)
{
	struct rig g;
	struct tunnel_layer l[2];
	struct tunnel_gateway *gw = tunnel_gateway_new();
	struct i2np_msg *inner, *m;
	struct bbuf enc = BBUF_INIT;
	const struct transit_stats *st;

	rig_init(&g, 2, 1, NULL);
	st = transit_table_stats(g.t);
	g.net.busy_id = 0x5150;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));	/* T = OBEP */
	creator_layers(&g, l);
	inner = i2np_msg_new(I2NP_DATA, "to our lease", 12, 60000);
	i2np_msg_encode(inner, &enc);
	T_OK(t, tunnel_gateway_put(gw, TUNNEL_DELIVER_TUNNEL, 0x5150,
				   g.hops[1].hash, enc.data, enc.len));
	T_OK(t, tunnel_gateway_put(gw, TUNNEL_DELIVER_TUNNEL, 0x5151,
				   g.hops[1].hash, enc.data, enc.len));
	to_obep(t, &g, l, gw);
	T_EQ(t, g.net.n, 0);
	T_EQ(t, g.net.n_local, 1);
	if (g.net.n_local == 1) {
		m = g.net.local[0];
		T_EQ(t, m->type, I2NP_TUNNEL_GATEWAY);
		T_EQ(t, be32_get(m->payload), 0x5150);
		T_EQ(t, be16_get(m->payload + 4), enc.len);
		T_MEMEQ(t, m->payload + 6, enc.data, enc.len);
	}
	T_EQ(t, st->dropped_unknown, 1);
	i2np_msg_free(inner);
	bbuf_free(&enc);
	tunnel_gateway_free(gw);
	wipe_layers(l, 2);
	rig_free(&g);
}

static void test_obep_to_own_ibgw(struct tctx *t)
{
	struct rig g;
	struct tunnel_layer lo[2], li[2];
	struct tunnel_gateway *gw = tunnel_gateway_new();
	struct got gt = { .t = t, .want = BBUF_INIT };
	struct tunnel_endpoint *ep = tunnel_endpoint_new(on_msg, &gt, NULL);
	struct tunnel_build *ob;
	struct i2np_msg *inner, *m;
	struct thop tmp;
	uint8_t body[1024];
	uint32_t ib_gw_id, ib_next_id;

	rig_init(&g, 2, 1, NULL);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));	/* T = OBEP */
	creator_layers(&g, lo);
	ob = g.b;
	g.b = NULL;
	tmp = g.hops[0];			/* T first: inbound, T = IBGW */
	g.hops[0] = g.hops[1];
	g.hops[1] = tmp;
	g.at = 0;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_LONG, true));
	creator_layers(&g, li);
	ib_gw_id = tunnel_build_hop_id(g.b, 0);
	ib_next_id = tunnel_build_hop_id(g.b, 1);
	inner = i2np_msg_new(I2NP_DELIVERY_STATUS, "\0\0\0\7\0\0\0\0\0\0\0\1",
			     12, 60000);
	i2np_msg_encode(inner, &gt.want);
	T_OK(t, tunnel_gateway_put(gw, TUNNEL_DELIVER_TUNNEL, ib_gw_id,
				   g.hops[0].hash, gt.want.data, gt.want.len));
	tunnel_gateway_flush(gw);
	T_TRUE(t, tunnel_gateway_pop(gw, body));
	T_OK(t, tunnel_layer_peel(lo, 2, body));
	T_OK(t, tunnel_layer_encrypt(&lo[0], body));
	m = td_msg(tunnel_build_hop_id(ob, 1), body);
	T_OK(t, transit_table_handle_data(g.t, m, NULL, MONO + 5));
	i2np_msg_free(m);
	/* out of the inbound tunnel's gateway, to its second hop */
	m = take_one(t, &g.net, g.hops[1].hash);
	if (m) {
		T_EQ(t, m->type, I2NP_TUNNEL_DATA);
		T_EQ(t, be32_get(m->payload), ib_next_id);
		memcpy(body, m->payload + 4, 1024);
		T_OK(t, tunnel_layer_encrypt(&li[1], body));
		T_OK(t, tunnel_layer_peel(li, 2, body));
		T_OK(t, tunnel_endpoint_recv(ep, body, 1));
	}
	T_EQ(t, gt.n, 1);
	i2np_msg_free(m);
	i2np_msg_free(inner);
	wipe_layers(lo, 2);
	wipe_layers(li, 2);
	tunnel_build_free(ob);
	tunnel_gateway_free(gw);
	tunnel_endpoint_free(ep);
	bbuf_free(&gt.want);
	rig_free(&g);
}


/* An inbound build reaches its IBGW through the creator's outbound
 * tunnel: our OBEP delivers a ShortTunnelBuild (ROUTER, to us) and the
 * table answers it as IBGW; a record for a middle hop that comes this
 * way is dropped (Java: only an IBGW may be fed by its own OBEP). */
static void test_build_via_own_obep(struct tctx *t)
{
	struct rig g;
	struct tunnel_layer lo[2];
	struct tunnel_gateway *gw = tunnel_gateway_new();
	struct tunnel_build *ob, *ib = NULL;
	struct tunnel_build_cfg cfg;
	struct bbuf bm = BBUF_INIT, enc = BBUF_INIT;
	struct i2np_msg *m, *out;
	struct thop tmp;
	uint8_t body[1024];
	const struct transit_stats *st;

	time_set_override(NOW_MS);	/* the table reads the wall clock */
	rig_init(&g, 2, 1, NULL);
	st = transit_table_stats(g.t);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));	/* T = OBEP */
	creator_layers(&g, lo);
	ob = g.b;
	g.b = NULL;
	tmp = g.hops[0];
	g.hops[0] = g.hops[1];
	g.hops[1] = tmp;
	for (int pass = 0; pass < 2; pass++) {
		/* pass 0: T is the IBGW of an inbound tunnel; pass 1: the
		 * first hop of an outbound one (not an IBGW) */
		memset(&cfg, 0, sizeof(cfg));
		cfg.kind = TUNNEL_BUILD_SHORT;
		cfg.inbound = pass == 0;
		cfg.n_hops = 2;
		thop_to_cfg(&g.hops[0], &cfg.hops[0]);
		thop_to_cfg(&g.hops[1], &cfg.hops[1]);
		memset(cfg.self, 0xc5, 32);
		memset(cfg.reply_gateway, 0x77, 32);
		cfg.reply_tunnel_id = 5;
		cfg.now_ms = NOW_MS;
		bbuf_reset(&bm);
		bbuf_reset(&enc);
		tunnel_build_free(ib);
		ib = NULL;
		T_OK(t, tunnel_build_create(&cfg, &ib, &bm));
		m = i2np_msg_new(I2NP_SHORT_TUNNEL_BUILD, bm.data, bm.len, 60000);
		i2np_msg_encode(m, &enc);
		i2np_msg_free(m);
		T_OK(t, tunnel_gateway_put(gw, TUNNEL_DELIVER_ROUTER, 0,
					   g.hops[0].hash, enc.data, enc.len));
		tunnel_gateway_flush(gw);
		while (tunnel_gateway_pop(gw, body)) {
			T_OK(t, tunnel_layer_peel(lo, 2, body));
			T_OK(t, tunnel_layer_encrypt(&lo[0], body));
			m = td_msg(tunnel_build_hop_id(ob, 1), body);
			T_OK(t, transit_table_handle_data(g.t, m, NULL,
							  MONO + 7));
			i2np_msg_free(m);
		}
		if (pass == 0) {
			out = take_one(t, &g.net, g.hops[1].hash);
			if (out)
				T_EQ(t, out->type, I2NP_SHORT_TUNNEL_BUILD);
			i2np_msg_free(out);
			T_EQ(t, transit_table_count(g.t), 2);
		} else {
			T_EQ(t, g.net.n, 0);
			T_EQ(t, st->builds_loop, 1);
			T_EQ(t, st->builds_dropped, 1);
		}
	}
	T_EQ(t, g.net.n_local, 0);
	wipe_layers(lo, 2);
	tunnel_build_free(ob);
	tunnel_build_free(ib);
	tunnel_gateway_free(gw);
	bbuf_free(&bm);
	bbuf_free(&enc);
	rig_free(&g);
}

/* Paid relaying: the ticket in our record reaches the embedder with the
 * tunnel's receive id; one in another hop's record does not; the build is
 * accepted either way. */
static void test_ticket(struct tctx *t)
{
	struct mapping ours = MAPPING_INIT, other = MAPPING_INIT;
	uint8_t tk[139], tk2[139];
	struct rig g;

	rand_bytes(tk, sizeof(tk));
	rand_bytes(tk2, sizeof(tk2));
	T_OK(t, tunnel_build_opts_set_ticket(&ours, tk, sizeof(tk)));
	T_OK(t, tunnel_build_opts_set_ticket(&other, tk2, sizeof(tk2)));
	rig_init(&g, 3, 1, NULL);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_LONG, false));
	T_EQ(t, g.net.tickets, 0);
	g.opts[0] = &other;
	g.opts[2] = &other;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_LONG, false));
	T_EQ(t, g.codes[1], 0);
	T_EQ(t, g.net.tickets, 0);
	g.opts[1] = &ours;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_LONG, true));
	T_EQ(t, g.codes[1], 0);
	T_EQ(t, g.net.tickets, 1);
	T_EQ(t, g.net.ticket_len, sizeof(tk));
	T_MEMEQ(t, g.net.ticket, tk, sizeof(tk));
	T_EQ(t, g.net.ticket_id, tunnel_build_hop_id(g.b, 1));
	T_EQ(t, transit_table_stats(g.t)->tickets, 1);
	T_EQ(t, transit_table_stats(g.t)->builds_accepted, 3);
	rig_free(&g);
	mapping_clear(&ours);
	mapping_clear(&other);
}

/* [limits] builds and builds-per-peer: over a previous hop's burst its
 * requests are dropped before any decryption (no reply, no tunnel),
 * another hop still gets in until the global burst is used, and a minute
 * later the first hop is welcome again. */
static void test_build_rate_limits(struct tctx *t)
{
	struct transit_limits lim = { .max_tunnels = 100,
				      .builds_per_min = 66,
				      .builds_per_peer_min = 6 };
	const struct transit_stats *st;
	uint8_t other[32], third[32];
	struct rig g;

	memset(other, 0x99, 32);
	memset(third, 0x9a, 32);
	rig_init(&g, 2, 1, &lim);		/* OBEP */
	st = transit_table_stats(g.t);
	g.from = g.hops[0].hash;
	/* bursts: a sixth of a minute's, at least 10 (11 in all) */
	for (int i = 0; i < 10; i++) {
		T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
		T_EQ(t, g.codes[1], 0);
	}
	T_ERR(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false), ERR_LIMIT);
	T_EQ(t, g.net.n, 0);
	T_EQ(t, st->builds_throttled, 1);
	T_EQ(t, transit_table_count(g.t), 10);
	/* another previous hop has its own bucket... */
	g.from = other;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[1], 0);
	/* ...until the global one is empty */
	g.from = third;
	T_ERR(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false), ERR_LIMIT);
	T_EQ(t, st->builds_throttled, 2);
	T_EQ(t, transit_table_count(g.t), 11);
	/* a minute later */
	g.mono += 60000;
	g.from = g.hops[0].hash;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[1], 0);
	/* 0 lifts the limits */
	lim.builds_per_min = lim.builds_per_peer_min = 0;
	transit_table_set_limits(g.t, &lim);
	for (int i = 0; i < 30; i++)
		T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, st->builds_throttled, 2);
	rig_free(&g);
}

/* [limits] transit-per-peer: a router that is already the previous or
 * next hop of that many of our tunnels gets reply 30 (counted as the
 * peer limit); raising the limit lets it in again. */
static void test_peer_tunnel_limit(struct tctx *t)
{
	struct transit_limits lim = { .max_tunnels = 100, .max_per_peer = 2 };
	const struct transit_stats *st;
	uint8_t other[32];
	struct rig g;

	memset(other, 0x99, 32);
	rig_init(&g, 3, 1, &lim);		/* middle: from 0, next 2 */
	st = transit_table_stats(g.t);
	g.from = g.hops[0].hash;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_LONG, false));
	T_EQ(t, g.codes[1], 0);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[1], TUNNEL_BUILD_REPLY_REJECT);
	T_EQ(t, st->builds_rejected[TRANSIT_REJECT_PEER_LIMIT], 1);
	/* a fresh previous hop, the same next hop: still too many */
	g.from = other;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[1], TUNNEL_BUILD_REPLY_REJECT);
	T_EQ(t, st->builds_rejected[TRANSIT_REJECT_PEER_LIMIT], 2);
	T_EQ(t, transit_table_count(g.t), 2);
	lim.max_per_peer = 3;
	transit_table_set_limits(g.t, &lim);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[1], 0);
	T_EQ(t, transit_table_count(g.t), 3);
	rig_free(&g);
}

/* The memory budget's shedding: refusing builds answers 30 (counted as
 * memory) while traffic still flows; dropping traffic drops every transit
 * message (counted apart from the bandwidth share); off again, both work. */
static void test_memory_shedding(struct tctx *t)
{
	const struct transit_stats *st;
	struct tunnel_layer l[2];
	uint8_t body[1024];
	struct i2np_msg *m;
	uint32_t id;
	struct rig g;
	bool refusing, shedding;

	rig_init(&g, 2, 0, NULL);
	st = transit_table_stats(g.t);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[0], 0);
	id = tunnel_build_hop_id(g.b, 0);
	creator_layers(&g, l);
	transit_table_set_shedding(g.t, true, false);
	transit_table_shedding(g.t, &refusing, &shedding);
	T_TRUE(t, refusing);
	T_FALSE(t, shedding);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[0], TUNNEL_BUILD_REPLY_REJECT);
	T_EQ(t, st->builds_rejected[TRANSIT_REJECT_MEMORY], 1);
	T_EQ(t, transit_table_count(g.t), 1);
	rand_bytes(body, sizeof(body));
	m = td_msg(id, body);
	T_OK(t, transit_table_handle_data(g.t, m, NULL, MONO + 1));
	i2np_msg_free(m);
	T_EQ(t, g.net.n, 1);
	net_clear(&g.net);
	transit_table_set_shedding(g.t, true, true);
	rand_bytes(body, sizeof(body));
	m = td_msg(id, body);
	T_ERR(t, transit_table_handle_data(g.t, m, NULL, MONO + 2), ERR_LIMIT);
	i2np_msg_free(m);
	T_EQ(t, g.net.n, 0);
	T_EQ(t, st->dropped_shed, 1);
	T_EQ(t, st->dropped_bandwidth, 0);
	transit_table_set_shedding(g.t, false, false);
	rand_bytes(body, sizeof(body));
	m = td_msg(id, body);
	T_OK(t, transit_table_handle_data(g.t, m, NULL, MONO + 3));
	i2np_msg_free(m);
	T_EQ(t, g.net.n, 1);
	net_clear(&g.net);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	T_EQ(t, g.codes[0], 0);
	T_EQ(t, transit_table_count(g.t), 2);
	wipe_layers(l, 2);
	rig_free(&g);
}

/* One TunnelData of random bytes for tunnel id from from; the result. */
static int td_from(struct rig *g, uint32_t id, const uint8_t *from,
		   uint64_t mono)
{
	uint8_t body[1024];
	struct i2np_msg *m;
	int r;

	rand_bytes(body, sizeof(body));
	m = td_msg(id, body);
	r = transit_table_handle_data(g->t, m, from, mono);
	i2np_msg_free(m);
	net_clear(&g->net);
	return r;
}

/*
 * A tunnel-data flood: TunnelData only from the router that built the
 * tunnel through us (the previous hop), at most msgs_per_tunnel_s a
 * second on one tunnel and msgs_per_peer_s from one previous hop over all
 * its tunnels, each a second's burst; the rest dropped before decryption
 * and counted.  A TunnelGateway flood on an IBGW meets the tunnel's
 * bucket too.
 */
static void test_data_flood(struct tctx *t)
{
	const struct transit_limits lim = {
		.max_tunnels = 100, .share_pct = 80,
		.msgs_per_tunnel_s = 10, .msgs_per_peer_s = 15,
	};
	const struct transit_stats *st;
	uint8_t a[32], c[32], body[1024];
	uint32_t t1, t2, t3, gw;
	struct bbuf gwp = BBUF_INIT;
	struct i2np_msg *inner;
	struct rig g;
	unsigned ok;

	memset(a, 0xa1, 32);
	memset(c, 0xc3, 32);
	rig_init(&g, 2, 0, &lim);
	st = transit_table_stats(g.t);
	g.from = a;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	t1 = tunnel_build_hop_id(g.b, 0);
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	t2 = tunnel_build_hop_id(g.b, 0);
	g.from = c;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	t3 = tunnel_build_hop_id(g.b, 0);
	g.from = NULL;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, true));	/* IBGW */
	gw = tunnel_build_hop_id(g.b, 0);
	T_EQ(t, transit_table_count(g.t), 4);
	/* Another router's TunnelData on a's tunnel: dropped. */
	T_ERR(t, td_from(&g, t1, c, MONO + 1), ERR_PROTOCOL);
	T_EQ(t, st->dropped_wrong_hop, 1);
	T_EQ(t, st->data_relayed, 0);
	/* One tunnel's second: 10 relayed, the 11th dropped. */
	for (ok = 0; ok < 20 && td_from(&g, t1, a, MONO + 1) == 0; ok++)
		;
	T_EQ(t, ok, 10);
	T_EQ(t, st->dropped_flood, 1);
	/* a's other tunnel: what is left of a's 15. */
	for (ok = 0; ok < 20 && td_from(&g, t2, a, MONO + 1) == 0; ok++)
		;
	T_EQ(t, ok, 5);
	T_EQ(t, st->dropped_flood, 2);
	/* Another previous hop is not held back by a's flood. */
	for (ok = 0; ok < 20 && td_from(&g, t3, c, MONO + 1) == 0; ok++)
		;
	T_EQ(t, ok, 10);
	T_EQ(t, st->dropped_flood, 3);
	T_EQ(t, st->data_relayed, 25);
	T_EQ(t, st->dropped_replay, 0);
	/* A second later, a's tunnel carries again. */
	T_OK(t, td_from(&g, t1, a, MONO + 1001));
	/* TunnelGateway at an IBGW, from anyone: the tunnel's 10. */
	rand_bytes(body, sizeof(body));
	inner = i2np_msg_new(I2NP_DATA, body, 100, 60000);
	i2np_tunnel_gateway_encode(gw, inner, &gwp);
	for (ok = 0; ok < 20; ok++) {
		struct i2np_msg *m = i2np_msg_new(I2NP_TUNNEL_GATEWAY, gwp.data,
						  gwp.len, 8000);
		int r = transit_table_handle_gateway(g.t, m, MONO + 1);

		i2np_msg_free(m);
		net_clear(&g.net);
		if (r != 0) {
			T_ERR(t, r, ERR_LIMIT);
			break;
		}
	}
	T_EQ(t, ok, 10);
	T_EQ(t, st->dropped_flood, 4);
	i2np_msg_free(inner);
	bbuf_free(&gwp);
	rig_free(&g);
}

/* A thousand transit tunnels (the "1,000 transit tunnels: RSS
 * within 64 MiB"): what they add to the heap, a bound the memory budget's
 * documentation relies on. */
static void test_thousand_tunnels(struct tctx *t)
{
	struct transit_limits lim = { .max_tunnels = 2000 };
	size_t before, after;
	struct rig g;

	rig_init(&g, 2, 1, &lim);		/* OBEP: the largest state */
	g.from = g.hops[0].hash;
	T_OK(t, rig_build(t, &g, TUNNEL_BUILD_SHORT, false));
	before = mem_heap_in_use();
	for (int i = 0; i < 1000; i++)
		if (rig_build(t, &g, TUNNEL_BUILD_SHORT, false) != 0 ||
		    g.codes[1] != 0)
			break;
	T_EQ(t, transit_table_count(g.t), 1001);
	tunnel_build_free(g.b);
	g.b = NULL;
	after = mem_heap_in_use();
	if (getenv("BITS_TEST_LOG"))
		fprintf(stderr, "1000 transit tunnels: %zu bytes of heap "
			"(%zu each)\n", after - before, (after - before) / 1000);
	T_TRUE(t, after > before);
	/* about 500 bytes each (an OBEP's reassembly table grows only
	 * when fragments arrive) */
	T_TRUE(t, after - before <= (2u << 20));
	rig_free(&g);
}

const struct test_case tunnels_transit_tests[] = {
	{ "join_roles", test_join_roles, 0 },
	{ "ticket", test_ticket, 0 },
	{ "decisions", test_decisions, 0 },
	{ "decide", test_decide, 0 },
	{ "reply_bandwidth", test_reply_bandwidth, 0 },
	{ "build_drops", test_build_drops, 0 },
	{ "prev_hop_loops", test_prev_hop_loops, 0 },
	{ "relay_middle", test_relay_middle, 0 },
	{ "relay_batched", test_relay_batched, 0 },
	{ "ibgw", test_ibgw, 0 },
	{ "obep_limits", test_obep_limits, 0 },
	{ "ibgw_packs_a_pass", test_ibgw_packs_a_pass, 0 },
	{ "obep", test_obep, 0 },
	{ "obep_to_own_ibgw", test_obep_to_own_ibgw, 0 },
	{ "obep_to_own_zero_hop", test_obep_to_own_zero_hop, 0 },
	{ "build_via_own_obep", test_build_via_own_obep, TT_FORK },
	{ "bandwidth_share", test_bandwidth_share, 0 },
	{ "bandwidth_minute", test_bandwidth_minute, 0 },
	{ "build_rate_limits", test_build_rate_limits, 0 },
	{ "peer_tunnel_limit", test_peer_tunnel_limit, 0 },
	{ "memory_shedding", test_memory_shedding, 0 },
	{ "data_flood", test_data_flood, 0 },
	{ "thousand_tunnels", test_thousand_tunnels, TT_FORK },
	{ NULL, NULL, 0 }
};
