/*
 * netdb/net.c and netdb/lookup.c on a simulated network: several netDbs
 * on one event loop whose sender hooks deliver messages to each other
 * (asynchronously, with the sender's hash as the peer).  Floodfill
 * answers, acknowledgements and flooding, iterative lookups that follow
 * DatabaseSearchReplies, exploration, publishing with confirmation,
 * ECIES-encrypted LeaseSet lookups, LeaseSet stores in Noise_N garlic,
 * and bad input (gzip, signatures, rate limits, non-floodfill refusals).
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/netdb/synth.h"
#include "tests/unit/router/tloop.h"
#include "netdb/netdb.h"
#include "router/evloop.h"
#include "router/garlic_router.h"
#include "router/gzip.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"

#include <stdlib.h>
#include <string.h>

#define NETID 77
#define MAX_NODES 12

struct node {
	struct tnet *net;
	uint8_t hash[32];
	struct bbuf ri;
	struct keystore *ks;
	struct garlic_router *garlic;
	struct netdb *db;
	bool floodfill;
	size_t received[32];		/* by I2NP type */
	/* A raw peer (db NULL) keeps what it receives. */
	struct i2np_msg *inbox[64];
	size_t n_inbox;
	size_t sent_via_tunnel;
};

struct tnet {
	struct evloop *el;
	struct worker_pool *wp;
	struct node nodes[MAX_NODES];
	size_t n;
	size_t undeliverable;
	bool (*until)(struct tnet *);
	struct evloop_timer *poll;
	void *arg;
};

struct delivery {
	struct tnet *net;
	size_t to;
	uint8_t from[32];
	struct i2np_msg *m;
};

static void deliver(void *arg)
{
	struct delivery *d = arg;
	struct node *n = &d->net->nodes[d->to];

	if (d->m->type < 32)
		n->received[d->m->type]++;
	if (n->db)
		netdb_handle_msg(n->db, d->from, d->m);
	else if (n->n_inbox < ARRAY_LEN(n->inbox))
		n->inbox[n->n_inbox++] = d->m;
	else
		i2np_msg_free(d->m);
	free(d);
}

/* A router whose messages are lost on the way (NULL: none), and how
 * many were. */
static const uint8_t *lost_to;
static size_t n_lost;

static int tsend(void *ctx, const uint8_t peer[32], struct i2np_msg *m,
		 bool via_tunnel)
{
	struct node *from = ctx;
	struct tnet *net = from->net;

	if (via_tunnel)
		from->sent_via_tunnel++;
	if (lost_to && memcmp(peer, lost_to, 32) == 0) {
		n_lost++;
		i2np_msg_free(m);
		return 0;
	}
	for (size_t i = 0; i < net->n; i++) {
		if (memcmp(net->nodes[i].hash, peer, 32) == 0) {
			struct delivery *d = xzalloc(sizeof(*d));
			d->net = net;
			d->to = i;
			memcpy(d->from, from->hash, 32);
			d->m = m;
			evloop_post(net->el, deliver, d);
			return 0;
		}
	}
	net->undeliverable++;
	i2np_msg_free(m);
	return ERR_NOT_FOUND;
}

/* The lookup attempt and the lookup burst a floodfill allows one
 * requester, of the netDbs net_add() makes (0: the defaults), and how
 * its floodfills misbehave. */
static unsigned attempt_ms, hedge_ms, lookup_burst;
static enum netdb_hostile hostile_mode;
/* A Sybil's accomplices (with hostile_mode NETDB_HOSTILE_SYBIL). */
static uint8_t accomplices[4][32];
static size_t n_accomplices;

static void net_init(struct tnet *net)
{
	memset(net, 0, sizeof(*net));
	net->el = evloop_new();
	net->wp = worker_pool_new(net->el, 1);
}

static struct node *net_add(struct tctx *t, struct tnet *net, bool ff)
{
	struct node *n = &net->nodes[net->n++];
	struct netdb_cfg cfg = { .netid = NETID, .no_persist = true,
				 .floodfill = ff, .passive = true,
				 .verify_delay_ms = 50,
				 .lookup_attempt_ms = attempt_ms,
				 .lookup_hedge_ms = hedge_ms,
				 .lookup_burst = lookup_burst,
				 .hostile = ff ? hostile_mode : NETDB_HOSTILE_NONE,
				 .accomplices = (const uint8_t (*)[32])accomplices,
				 .n_accomplices = n_accomplices };

	n->net = net;
	n->floodfill = ff;
	bbuf_init(&n->ri);
	T_OK(t, synth_ri_ks(&n->ri, n->hash, NETID, ff ? "XfR" : "XR",
			    time_now_ms() - 1000, &n->ks));
	n->garlic = garlic_router_new(n->ks);
	memcpy(cfg.self, n->hash, 32);
	cfg.garlic = n->garlic;
	n->db = netdb_new(net->el, net->wp, &cfg);
	netdb_set_sender(n->db, (struct netdb_sender){ tsend, n });
	netdb_set_self(n->db, n->ri.data, n->ri.len);
	return n;
}

/* b learns a's RouterInfo. */
static void teach(struct tctx *t, struct node *b, const struct node *a)
{
	T_OK(t, netdb_add_ri(b->db, a->ri.data, a->ri.len, a->hash, NULL,
			     NULL));
}

/* A raw peer: a hash and an inbox, no netDb. */
static struct node *net_add_raw(struct tnet *net)
{
	struct node *n = &net->nodes[net->n++];

	n->net = net;
	rand_bytes(n->hash, 32);
	bbuf_init(&n->ri);
	return n;
}

static void inbox_clear(struct node *n)
{
	for (size_t i = 0; i < n->n_inbox; i++)
		i2np_msg_free(n->inbox[i]);
	n->n_inbox = 0;
}

static void node_free(struct node *n)
{
	inbox_clear(n);
	netdb_free(n->db);
	garlic_router_free(n->garlic);
	keystore_free(n->ks);
	bbuf_free(&n->ri);
	memset(n, 0, sizeof(*n));
}

/* Take the node added last out of the net. */
static void net_drop_last(struct tnet *net)
{
	node_free(&net->nodes[--net->n]);
}

static void net_free(struct tnet *net)
{
	for (size_t i = 0; i < net->n; i++)
		node_free(&net->nodes[i]);
	evloop_timer_free(net->poll);
	worker_pool_free(net->wp);
	evloop_free(net->el);
}

static void poll_cb(void *arg)
{
	struct tnet *net = arg;

	if (net->until(net))
		evloop_break(net->el);
	else
		evloop_timer_arm(net->poll, 2);
}

/* Run the loop until until(net) holds (the guard fails the test). */
static void run_until(struct tctx *t, struct tnet *net,
		      bool (*until)(struct tnet *))
{
	net->until = until;
	if (!net->poll)
		net->poll = evloop_timer_new(net->el, poll_cb, net);
	evloop_timer_arm(net->poll, 1);
	tloop_run(t, net->el);
}

static bool quiet_count;
static bool after_a_while(struct tnet *net)
{
	(void)net;
	return quiet_count = !quiet_count, !quiet_count;
}

/* Let every queued delivery run. */
static void settle(struct tctx *t, struct tnet *net)
{
	for (int i = 0; i < 5; i++)
		run_until(t, net, after_a_while);
}

static size_t stat_of(struct node *n, size_t off)
{
	struct netdb_stats st;

	netdb_stats(n->db, &st);
	return (size_t)*(const uint64_t *)((const char *)&st + off);
}
#define STAT(n, f) stat_of((n), offsetof(struct netdb_stats, f))

/* ---- a raw peer: build messages by hand ---- */

static struct i2np_msg *lookup_msg(const uint8_t key[32],
				   const uint8_t from[32], uint8_t flags,
				   const uint8_t *excl, size_t n_excl,
				   const uint8_t *reply_key,
				   const uint8_t *tag)
{
	struct i2np_db_lookup l = { 0 };
	struct bbuf b = BBUF_INIT;
	uint8_t *p;
	size_t len = 0;

	memcpy(l.key, key, 32);
	memcpy(l.from, from, 32);
	l.flags = flags;
	l.n_excluded = (uint16_t)n_excl;
	l.excluded = excl;
	if (reply_key) {
		l.has_reply_key = true;
		memcpy(l.reply_key, reply_key, 32);
		l.n_tags = 1;
		l.tag_len = 8;
		l.tags = tag;
	}
	i2np_db_lookup_encode(&l, &b);
	p = bbuf_steal(&b, &len);
	return i2np_msg_new_take(I2NP_DATABASE_LOOKUP, p, len, 10000);
}

static struct i2np_msg *store_ri_msg(const struct bbuf *ri,
				     const uint8_t key[32], uint32_t token,
				     const uint8_t *gw)
{
	struct bbuf gz = BBUF_INIT;
	struct i2np_msg *m;

	gzip_compress(ri->data, ri->len, &gz);
	m = netdb_store_msg_new(key, 0, gz.data, gz.len, token, 0, gw);
	bbuf_free(&gz);
	return m;
}

/* Send m from raw peer p to node n, then let everything settle. */
static void inject(struct tctx *t, struct tnet *net, struct node *p,
		   struct node *n, struct i2np_msg *m)
{
	struct delivery *d = xzalloc(sizeof(*d));

	d->net = net;
	d->to = (size_t)(n - net->nodes);
	memcpy(d->from, p->hash, 32);
	d->m = m;
	evloop_post(net->el, deliver, d);
	settle(t, net);
}

/* A node holding n synthetic routers; every third one a floodfill. */
static void fill(struct tctx *t, struct node *n, int count, uint8_t (*h)[32],
		 bool *ff)
{
	for (int i = 0; i < count; i++) {
		struct bbuf b = BBUF_INIT;
		bool f = i % 3 == 0;
		T_OK(t, synth_ri(&b, h[i], NETID, f ? "XfR" : "XR",
				 time_now_ms() - 2000));
		T_OK(t, netdb_add_ri(n->db, b.data, b.len, h[i], NULL, NULL));
		if (ff)
			ff[i] = f;
		bbuf_free(&b);
	}
}

static void test_floodfill_answers(struct tctx *t)
{
	struct tnet net;
	struct node *ff, *p, *client;
	uint8_t h[9][32], key[32], rk[32], rkey[32], tag[8];
	bool isff[9];
	struct i2np_db_store s;
	struct i2np_search_reply sr;
	struct i2np_tunnel_gateway tg;
	struct netdb_closest c;
	struct bbuf plain = BBUF_INIT;
	struct garlic_payload gp;
	uint8_t ri[4096];
	size_t len = 0;

	net_init(&net);
	ff = net_add(t, &net, true);
	p = net_add_raw(&net);
	client = net_add(t, &net, false);
	fill(t, ff, 9, h, isff);
	/* A known router: a DatabaseStore of its RouterInfo, gzipped. */
	inject(t, &net, p, ff, lookup_msg(h[4], p->hash, I2NP_LOOKUP_TYPE_RI,
					  NULL, 0, NULL, NULL));
	T_EQ(t, p->n_inbox, 1);
	if (p->n_inbox == 1 && i2np_db_store_decode(p->inbox[0], &s) == 0) {
		T_MEMEQ(t, s.key, h[4], 32);
		T_EQ(t, s.store_type, I2NP_STORE_RI);
		T_EQ(t, s.reply_token, 0);
		T_OK(t, gzip_decompress(s.data, s.data_len, ri, sizeof(ri),
					&len));
		T_TRUE(t, netdb_get_ri(ff->db, h[4]) != NULL);
	} else {
		t_fail(t, __FILE__, __LINE__, "no DatabaseStore came back");
	}
	inbox_clear(p);
	/* An unknown key: the 3 closest floodfills, from the floodfill. */
	rand_bytes(key, sizeof(key));
	inject(t, &net, p, ff, lookup_msg(key, p->hash, I2NP_LOOKUP_TYPE_RI,
					  NULL, 0, NULL, NULL));
	T_EQ(t, p->n_inbox, 1);
	if (p->n_inbox == 1 &&
	    i2np_search_reply_decode(p->inbox[0], &sr) == 0) {
		netdb_routing_key(key, time_now_ms(), rk);
		netdb_closest_init(&c, rk, 3);
		netdb_store_closest(netdb_get_store(ff->db), true, NULL, NULL,
				    &c);
		T_EQ(t, sr.n_peers, c.n);
		for (size_t i = 0; i < sr.n_peers && i < c.n; i++)
			T_MEMEQ(t, sr.peers + 32 * i, c.e[i].hash, 32);
		T_MEMEQ(t, sr.from, ff->hash, 32);
		T_MEMEQ(t, sr.key, key, 32);
		/* Excluding the closest one leaves it out. */
		inbox_clear(p);
		inject(t, &net, p, ff, lookup_msg(key, p->hash,
						  I2NP_LOOKUP_TYPE_RI,
						  c.e[0].hash, 1, NULL, NULL));
		if (p->n_inbox == 1 &&
		    i2np_search_reply_decode(p->inbox[0], &sr) == 0)
			for (size_t i = 0; i < sr.n_peers; i++)
				T_TRUE(t, memcmp(sr.peers + 32 * i,
						 c.e[0].hash, 32) != 0);
	} else {
		t_fail(t, __FILE__, __LINE__, "no DatabaseSearchReply");
	}
	inbox_clear(p);
	/* Exploration: non-floodfills only. */
	inject(t, &net, p, ff, lookup_msg(key, p->hash,
					  I2NP_LOOKUP_TYPE_EXPLORE, NULL, 0,
					  NULL, NULL));
	if (p->n_inbox == 1 &&
	    i2np_search_reply_decode(p->inbox[0], &sr) == 0) {
		T_EQ(t, sr.n_peers, 3);
		for (size_t i = 0; i < sr.n_peers; i++)
			for (int j = 0; j < 9; j++)
				if (memcmp(sr.peers + 32 * i, h[j], 32) == 0)
					T_FALSE(t, isff[j]);
	} else {
		t_fail(t, __FILE__, __LINE__, "no exploration reply");
	}
	inbox_clear(p);
	/* Through a reply tunnel: a TunnelGateway to the gateway. */
	{
		struct i2np_msg *m = lookup_msg(h[1], p->hash,
						I2NP_LOOKUP_TYPE_RI |
						I2NP_LOOKUP_FLAG_TUNNEL, NULL,
						0, NULL, NULL);
		struct i2np_db_lookup l;
		T_OK(t, i2np_db_lookup_decode(m, &l));
		i2np_msg_free(m);
		l.reply_tunnel_id = 4242;
		{
			struct bbuf b = BBUF_INIT;
			uint8_t *pp;
			size_t n = 0;
			i2np_db_lookup_encode(&l, &b);
			pp = bbuf_steal(&b, &n);
			inject(t, &net, p, ff,
			       i2np_msg_new_take(I2NP_DATABASE_LOOKUP, pp, n,
						 10000));
		}
	}
	T_EQ(t, p->n_inbox, 1);
	if (p->n_inbox == 1) {
		T_EQ(t, p->inbox[0]->type, I2NP_TUNNEL_GATEWAY);
		if (i2np_tunnel_gateway_decode(p->inbox[0], &tg) == 0)
			T_EQ(t, tg.tunnel_id, 4242);
	}
	inbox_clear(p);
	/* ECIES: a one-time garlic with the lookup's key and tag. */
	rand_bytes(rkey, sizeof(rkey));
	rand_bytes(tag, sizeof(tag));
	inject(t, &net, p, ff, lookup_msg(h[2], p->hash, I2NP_LOOKUP_TYPE_RI |
					  I2NP_LOOKUP_FLAG_ECIES, NULL, 0,
					  rkey, tag));
	T_EQ(t, p->n_inbox, 1);
	if (p->n_inbox == 1) {
		const uint8_t *data;
		size_t dl;
		T_EQ(t, p->inbox[0]->type, I2NP_GARLIC);
		T_OK(t, i2np_blob_decode(p->inbox[0], &data, &dl));
		T_MEMEQ(t, data, tag, 8);
		T_OK(t, garlic_tag_decrypt(rkey, data, dl, &plain));
		T_OK(t, garlic_payload_parse(plain.data, plain.len, &gp));
		T_EQ(t, gp.n_cloves, 1);
		T_EQ(t, gp.cloves[0].type, I2NP_DATABASE_STORE);
	}
	inbox_clear(p);
	/* A floodfill that knows no other floodfill names the closest
	 * other routers instead (a network without exploratory tunnels
	 * finds itself through them). */
	{
		struct node *lone = net_add(t, &net, true);
		uint8_t h2[2][32];
		for (int i = 0; i < 2; i++) {
			struct bbuf b = BBUF_INIT;
			T_OK(t, synth_ri(&b, h2[i], NETID, "XR",
					 time_now_ms() - 2000));
			T_OK(t, netdb_add_ri(lone->db, b.data, b.len, NULL,
					     NULL, NULL));
			bbuf_free(&b);
		}
		inject(t, &net, p, lone, lookup_msg(key, p->hash,
						    I2NP_LOOKUP_TYPE_RI, NULL,
						    0, NULL, NULL));
		T_EQ(t, p->n_inbox, 1);
		if (p->n_inbox == 1 &&
		    i2np_search_reply_decode(p->inbox[0], &sr) == 0)
			T_EQ(t, sr.n_peers, 2);
		inbox_clear(p);
	}
	/* A client does not answer lookups. */
	inject(t, &net, p, client, lookup_msg(h[2], p->hash,
					      I2NP_LOOKUP_TYPE_RI, NULL, 0,
					      NULL, NULL));
	T_EQ(t, p->n_inbox, 0);
	T_EQ(t, STAT(ff, lookups_answered), 3);
	bbuf_free(&plain);
	net_free(&net);
}

static void test_store_ack_and_flood(struct tctx *t)
{
	struct tnet net;
	struct node *ff[6], *p;
	struct bbuf x = BBUF_INIT;
	uint8_t hx[32], rk[32];
	struct i2np_delivery_status ds;
	struct netdb_closest c;
	size_t got = 0;

	net_init(&net);
	for (int i = 0; i < 6; i++)
		ff[i] = net_add(t, &net, true);
	p = net_add_raw(&net);
	for (int i = 1; i < 6; i++)
		teach(t, ff[0], ff[i]);
	T_OK(t, synth_ri(&x, hx, NETID, "XR", time_now_ms() - 1000));
	inject(t, &net, p, ff[0], store_ri_msg(&x, hx, 1234, p->hash));
	/* Acknowledged to the gateway with the token as message id. */
	T_EQ(t, p->n_inbox, 1);
	if (p->n_inbox == 1 &&
	    i2np_delivery_status_decode(p->inbox[0], &ds) == 0)
		T_EQ(t, ds.msg_id, 1234);
	T_TRUE(t, netdb_get_ri(ff[0]->db, hx) != NULL);
	/* Flooded to the 3 floodfills closest to its routing key. */
	netdb_routing_key(hx, time_now_ms(), rk);
	netdb_closest_init(&c, rk, 3);
	netdb_store_closest(netdb_get_store(ff[0]->db), true, NULL, NULL, &c);
	for (int i = 1; i < 6; i++) {
		bool close = false;
		for (size_t j = 0; j < c.n; j++)
			close |= memcmp(c.e[j].hash, ff[i]->hash, 32) == 0;
		T_EQ(t, netdb_get_ri(ff[i]->db, hx) != NULL, close);
		T_EQ(t, ff[i]->received[I2NP_DATABASE_STORE], close);
		got += close;
	}
	T_EQ(t, got, 3);
	T_EQ(t, STAT(ff[0], flooded), 3);
	/* The same again: acknowledged, not newer, not flooded. */
	inbox_clear(p);
	inject(t, &net, p, ff[0], store_ri_msg(&x, hx, 99, p->hash));
	T_EQ(t, p->n_inbox, 1);
	T_EQ(t, STAT(ff[0], flooded), 3);
	/* Flooded copies (token 0) are not flooded again. */
	for (int i = 1; i < 6; i++)
		T_EQ(t, STAT(ff[i], flooded), 0);
	bbuf_free(&x);
	net_free(&net);
}

#define TUN_ID 4242

/* A DeliveryStatus through a reply tunnel goes twice, NETDB_ACK_AGAIN_MS
 * apart (netdb.h: i2pd 2.45.1 may hold the first at its gateway); one
 * sent directly goes once. */
static struct node *ack_gw;
static bool three_acks(struct tnet *net)
{
	(void)net;
	return ack_gw->n_inbox >= 3;
}

static void test_store_ack_again(struct tctx *t)
{
	struct tnet net;
	struct node *ff, *p;
	struct bbuf x = BBUF_INIT, gz = BBUF_INIT;
	uint8_t hx[32];
	uint64_t t0;

	net_init(&net);
	ff = net_add(t, &net, true);
	p = net_add_raw(&net);
	T_OK(t, synth_ri(&x, hx, NETID, "XR", time_now_ms() - 1000));
	inject(t, &net, p, ff, store_ri_msg(&x, hx, 1234, p->hash));
	gzip_compress(x.data, x.len, &gz);
	t0 = time_mono_ms();
	inject(t, &net, p, ff, netdb_store_msg_new(hx, 0, gz.data, gz.len,
						   5678, TUN_ID, p->hash));
	T_EQ(t, p->n_inbox, 2);
	ack_gw = p;
	run_until(t, &net, three_acks);
	settle(t, &net);
	T_TRUE(t, time_mono_ms() - t0 >= NETDB_ACK_AGAIN_MS);
	T_EQ(t, p->n_inbox, 3);
	T_EQ(t, STAT(ff, acks_sent), 3);
	T_EQ(t, STAT(ff, acks_again), 1);
	for (size_t i = 0; i < p->n_inbox; i++) {
		struct i2np_msg *m = p->inbox[i], *inner = NULL;
		struct i2np_delivery_status ds = { 0 };
		struct i2np_tunnel_gateway g;
		struct breader r;

		if (i == 0) {	/* direct, once */
			T_EQ(t, m->type, I2NP_DELIVERY_STATUS);
			T_OK(t, i2np_delivery_status_decode(m, &ds));
			T_EQ(t, ds.msg_id, 1234);
			continue;
		}
		T_OK(t, i2np_tunnel_gateway_decode(m, &g));
		T_EQ(t, g.tunnel_id, TUN_ID);
		br_init(&r, g.data, g.len);
		T_OK(t, i2np_msg_decode(&r, &inner));
		if (inner) {
			T_OK(t, i2np_delivery_status_decode(inner, &ds));
			T_EQ(t, ds.msg_id, 5678);
			i2np_msg_free(inner);
		}
	}
	bbuf_free(&gz);
	bbuf_free(&x);
	net_free(&net);
}

struct lres {
	int calls, result;
};

static void lookup_done(void *ctx, const uint8_t key[32], int result)
{
	struct lres *r = ctx;

	(void)key;
	r->calls++;
	r->result = result;
}

static struct lres *until_res;
static bool lookup_ended(struct tnet *net)
{
	(void)net;
	return until_res->calls > 0;
}

static void test_iterative_lookup(struct tctx *t)
{
	struct tnet net;
	struct node *a, *f1, *f2, *tgt;
	struct lres r = { 0 }, r2 = { 0 };
	uint8_t key[32];

	net_init(&net);
	a = net_add(t, &net, false);
	f1 = net_add(t, &net, true);
	f2 = net_add(t, &net, true);
	tgt = net_add(t, &net, false);
	teach(t, a, f1);
	teach(t, f1, f2);
	teach(t, f2, tgt);
	T_TRUE(t, netdb_get_ri(a->db, tgt->hash) == NULL);
	T_OK(t, netdb_lookup_start(a->db, tgt->hash, NETDB_LOOKUP_RI,
				   lookup_done, &r));
	T_EQ(t, r.calls, 0);		/* never inside start */
	until_res = &r;
	run_until(t, &net, lookup_ended);
	T_EQ(t, r.calls, 1);
	T_OK(t, r.result);
	/* Found through f1's reply naming f2, whose RouterInfo a fetched. */
	T_TRUE(t, netdb_get_ri(a->db, tgt->hash) != NULL);
	T_TRUE(t, netdb_get_ri(a->db, f2->hash) != NULL);
	T_EQ(t, netdb_lookups_pending(a->db), 0);
	/* A key nobody has: both floodfills say so. */
	rand_bytes(key, sizeof(key));
	T_OK(t, netdb_lookup_start(a->db, key, NETDB_LOOKUP_RI, lookup_done,
				   &r2));
	until_res = &r2;
	run_until(t, &net, lookup_ended);
	T_ERR(t, r2.result, ERR_NOT_FOUND);
	net_free(&net);
}

/* Lookups with a reply path: the floodfills answer to a raw "inbound
 * gateway"; the relay below plays the tunnel and hands what reached it
 * to the asker as a message from one of its tunnels (all-zero peer). */
static struct node *tun_gw, *tun_owner;
static size_t tun_relayed, tun_bad;

static int reply_path(void *ctx, uint8_t gateway[32], uint32_t *tunnel_id)
{
	(void)ctx;
	memcpy(gateway, tun_gw->hash, 32);
	*tunnel_id = TUN_ID;
	return 0;
}

/* Hand what reached the raw gateway to tun_owner, as from a tunnel. */
static void relay_tunnel(void)
{
	static const uint8_t via_tunnel[32];

	for (size_t i = 0; i < tun_gw->n_inbox; i++) {
		struct i2np_msg *m = tun_gw->inbox[i], *inner = NULL;
		struct i2np_tunnel_gateway g;
		struct breader r;

		if (i2np_tunnel_gateway_decode(m, &g) != 0 ||
		    g.tunnel_id != TUN_ID) {
			tun_bad++;
			continue;
		}
		br_init(&r, g.data, g.len);
		if (i2np_msg_decode(&r, &inner) != 0) {
			tun_bad++;
			continue;
		}
		tun_relayed++;
		netdb_handle_msg(tun_owner->db, via_tunnel, inner);
	}
	inbox_clear(tun_gw);
}

static bool relay_until_ended(struct tnet *net)
{
	(void)net;
	relay_tunnel();
	return until_res->calls > 0;
}

static void test_lookup_via_tunnel(struct tctx *t)
{
	struct tnet net;
	struct node *a, *f1, *f2, *tgt;
	struct lres r = { 0 };

	net_init(&net);
	a = net_add(t, &net, false);
	f1 = net_add(t, &net, true);
	f2 = net_add(t, &net, true);
	tgt = net_add(t, &net, false);
	tun_gw = net_add_raw(&net);
	tun_owner = a;
	tun_relayed = tun_bad = 0;
	teach(t, a, f1);
	teach(t, f1, f2);
	teach(t, f2, tgt);
	netdb_set_reply_path(a->db, reply_path, NULL);
	T_OK(t, netdb_lookup_start(a->db, tgt->hash, NETDB_LOOKUP_RI,
				   lookup_done, &r));
	until_res = &r;
	run_until(t, &net, relay_until_ended);
	T_EQ(t, r.calls, 1);
	T_OK(t, r.result);
	T_TRUE(t, netdb_get_ri(a->db, tgt->hash) != NULL);
	/* f1's search reply (naming f2), f2's RouterInfo and tgt's came
	 * through the tunnel; nothing came to a directly. */
	T_TRUE(t, tun_relayed >= 3);
	T_EQ(t, tun_bad, 0);
	T_EQ(t, a->received[I2NP_DATABASE_SEARCH_REPLY], 0);
	T_EQ(t, a->received[I2NP_DATABASE_STORE], 0);
	T_TRUE(t, a->sent_via_tunnel >= 3);
	net_free(&net);
}

static bool explored_all;
static struct node *explorer;
static size_t explore_target;
static bool knows_all(struct tnet *net)
{
	(void)net;
	if (netdb_store_ri_count(netdb_get_store(explorer->db)) >=
	    explore_target)
		return true;
	if (!netdb_lookups_pending(explorer->db))
		netdb_explore_now(explorer->db);
	return false;
}

static void test_exploration(struct tctx *t)
{
	struct tnet net;
	struct node *a, *f1, *f2, *n[5];

	net_init(&net);
	a = net_add(t, &net, false);
	f1 = net_add(t, &net, true);
	f2 = net_add(t, &net, true);
	for (int i = 0; i < 5; i++)
		n[i] = net_add(t, &net, false);
	teach(t, a, f1);
	teach(t, f1, f2);
	teach(t, f2, f1);
	for (int i = 0; i < 5; i++) {
		teach(t, i % 2 ? f1 : f2, n[i]);
		teach(t, n[i], f1);
	}
	explorer = a;
	explore_target = 7;		/* every router but itself */
	netdb_explore_now(a->db);
	run_until(t, &net, knows_all);
	T_EQ(t, netdb_store_ri_count(netdb_get_store(a->db)), 7);
	T_EQ(t, netdb_store_ff_count(netdb_get_store(a->db)), 2);
	T_TRUE(t, STAT(a, explorations) > 0);
	(void)explored_all;
	net_free(&net);
}

static bool no_lookups_pending(struct tnet *net)
{
	(void)net;
	return !netdb_lookups_pending(explorer->db);
}

/* One netdb_explore_step() round of a, run to its end; the lookups it
 * sent (each round's keys, plus fetches of routers named). */
static size_t explore_step_sent(struct tctx *t, struct tnet *net,
				struct node *a, unsigned *wait)
{
	size_t before = STAT(a, lookups_sent);

	explorer = a;
	*wait = netdb_explore_step(a->db);
	run_until(t, net, no_lookups_pending);
	return STAT(a, lookups_sent) - before;
}

/* Rounds of a learning nothing: one lookup each, the wait doubling from
 * *wait to cap. */
static void explore_idle(struct tctx *t, struct tnet *net, struct node *a,
			 unsigned *wait, unsigned cap)
{
	unsigned last = *wait;

	for (int i = 0; i < 10; i++) {
		T_EQ(t, explore_step_sent(t, net, a, wait), 1);
		T_EQ(t, *wait, last * 2 > cap ? cap : last * 2);
		last = *wait;
	}
	T_EQ(t, *wait, cap);
}

/* Exploration backs off while it learns nothing: a router that knows the
 * whole network asks one key a round, each round twice as long after the
 * last, up to 10 s in a small netDb and NETDB_EXPLORE_MAX_MS in a larger
 * one; a new router brings the pace and the full count back.  A random
 * key's RouterInfo lookup ends with the first answer, as an exploration
 * does, instead of walking every floodfill. */
static void test_explore_backoff(struct tctx *t)
{
	struct tnet net;
	struct node *a, *nd[7];
	struct bbuf b = BBUF_INIT;
	uint8_t h[32];
	unsigned wait = 0;

	/* Every floodfill answers at once: no lookup here waits for a
	 * hedge or a timeout, and none may fire when a loaded machine
	 * stalls the test for seconds.  The rounds here follow each other
	 * at once, not after the waits they return: ~47 lookups in a
	 * fraction of a second, and a floodfill nearest half the keyspace
	 * may be asked more than the NETDB_LOOKUP_BURST of 30 it allows a
	 * requester, then drops one (about 1 run in 150 did).  So the
	 * floodfills allow more here, and the test checks none was
	 * dropped. */
	hedge_ms = 60000;
	attempt_ms = 150000;
	lookup_burst = 1000;
	net_init(&net);
	a = net_add(t, &net, false);
	for (int i = 0; i < 7; i++)
		nd[i] = net_add(t, &net, i < 4);	/* 4 floodfills */
	for (int i = 0; i < 7; i++) {
		teach(t, a, nd[i]);
		teach(t, nd[i], a);
		for (int j = 0; j < 7; j++)
			if (j != i)
				teach(t, nd[i], nd[j]);
	}
	/* First round: i2pd's count (800 / 7 known: 9), one lookup each. */
	T_EQ(t, explore_step_sent(t, &net, a, &wait), NETDB_EXPLORE_MAX_KEYS);
	T_EQ(t, wait, NETDB_EXPLORE_FAST_MS);
	T_EQ(t, STAT(a, explorations), NETDB_EXPLORE_MAX_KEYS);
	T_EQ(t, STAT(a, lookups_failed), 0);
	explore_idle(t, &net, a, &wait, NETDB_EXPLORE_SMALL_MAX_MS);
	T_EQ(t, STAT(a, explorations), NETDB_EXPLORE_MAX_KEYS + 10);
	/* Routers join (a floodfill floods them to a): the full count
	 * again, at the pace of a netDb no longer small, then backing off
	 * to the longest wait. */
	for (int i = 0; i < NETDB_EXPLORE_FAST_BELOW; i++) {
		T_OK(t, synth_ri(&b, h, NETID, "XR", time_now_ms() - 1000));
		T_OK(t, netdb_add_ri(a->db, b.data, b.len, h, NULL, NULL));
		bbuf_free(&b);
	}
	T_EQ(t, explore_step_sent(t, &net, a, &wait), NETDB_EXPLORE_MAX_KEYS);
	T_EQ(t, wait, NETDB_EXPLORE_INTERVAL_MS);
	explore_idle(t, &net, a, &wait, NETDB_EXPLORE_MAX_MS);
	/* One more router: the pace is back. */
	T_OK(t, synth_ri(&b, h, NETID, "XR", time_now_ms() - 1000));
	T_OK(t, netdb_add_ri(a->db, b.data, b.len, h, NULL, NULL));
	T_EQ(t, explore_step_sent(t, &net, a, &wait), NETDB_EXPLORE_MAX_KEYS);
	T_EQ(t, wait, NETDB_EXPLORE_INTERVAL_MS);
	for (int i = 0; i < 4; i++)
		T_EQ(t, STAT(nd[i], rate_limited), 0);
	bbuf_free(&b);
	net_free(&net);
	/* (the next tests run in this process) */
	hedge_ms = attempt_ms = lookup_burst = 0;
}

static bool published(struct tnet *net)
{
	return STAT(&net->nodes[0], publish_confirmed) >= 2;
}

static void test_publish(struct tctx *t)
{
	struct tnet net;
	struct node *a, *f[3];
	size_t holders = 0;

	net_init(&net);
	a = net_add(t, &net, false);
	for (int i = 0; i < 3; i++) {
		f[i] = net_add(t, &net, true);
		teach(t, a, f[i]);
	}
	netdb_publish_now(a->db);
	run_until(t, &net, published);
	T_EQ(t, STAT(a, publish_confirmed), 2);
	for (int i = 0; i < 3; i++)
		holders += netdb_get_ri(f[i]->db, a->hash) != NULL;
	T_TRUE(t, holders >= 2);
	net_free(&net);
}

static bool relay_until_published(struct tnet *net)
{
	relay_tunnel();
	return published(net);
}

/* With a reply path, our RouterInfo goes out via a tunnel in garlic to
 * each floodfill's router key, and the DeliveryStatus comes back through
 * the tunnel; nothing reaches us directly. */
static void test_publish_via_tunnel(struct tctx *t)
{
	struct tnet net;
	struct node *a, *f[3];
	size_t holders = 0, garlic = 0;

	net_init(&net);
	a = net_add(t, &net, false);
	for (int i = 0; i < 3; i++) {
		f[i] = net_add(t, &net, true);
		teach(t, a, f[i]);
	}
	tun_gw = net_add_raw(&net);
	tun_owner = a;
	tun_relayed = tun_bad = 0;
	netdb_set_reply_path(a->db, reply_path, NULL);
	netdb_publish_now(a->db);
	run_until(t, &net, relay_until_published);
	T_EQ(t, STAT(a, publish_confirmed), 2);
	T_EQ(t, STAT(a, publish_sent), 2);
	for (int i = 0; i < 3; i++) {
		holders += netdb_get_ri(f[i]->db, a->hash) != NULL;
		garlic += f[i]->received[I2NP_GARLIC];
	}
	T_TRUE(t, holders >= 2);
	/* Each store arrived as garlic (the floodfills' floods to each
	 * other are plain). */
	T_EQ(t, garlic, 2);
	/* The first copy's verification asked the two others, also
	 * through the tunnel; these floodfills know no other to flood to,
	 * so both said "not found". */
	T_EQ(t, STAT(a, store_lost), 1);
	T_EQ(t, STAT(a, publish_sent) + 2, a->sent_via_tunnel);
	/* The acks and the search replies came through the tunnel. */
	T_EQ(t, tun_relayed, 4);
	T_EQ(t, tun_bad, 0);
	T_EQ(t, a->received[I2NP_DELIVERY_STATUS], 0);
	net_free(&net);
}

static void test_leaseset_lookup_and_garlic_store(struct tctx *t)
{
	struct tnet net;
	struct node *a, *ff;
	struct bbuf ls = BBUF_INIT, ls2 = BBUF_INIT;
	uint8_t key[32], key2[32];
	struct lres r = { 0 };
	struct x25519_pk ffk;
	struct i2np_msg *st;

	net_init(&net);
	a = net_add(t, &net, false);
	ff = net_add(t, &net, true);
	teach(t, a, ff);
	T_OK(t, synth_ls2(&ls, key, (uint32_t)time_now_s(), 2));
	T_OK(t, netdb_add_ls(ff->db, LEASESET_LS2, ls.data, ls.len, key, NULL,
			     NULL));
	/* A client looks it up with an ECIES reply: the floodfill's answer
	 * comes back as a one-time garlic only a can open. */
	T_OK(t, netdb_lookup_start(a->db, key, NETDB_LOOKUP_LS, lookup_done,
				   &r));
	until_res = &r;
	run_until(t, &net, lookup_ended);
	T_OK(t, r.result);
	T_TRUE(t, netdb_store_find_ls(netdb_get_store(a->db), key) != NULL);
	T_EQ(t, a->received[I2NP_GARLIC], 1);
	T_EQ(t, STAT(a, garlic_in), 1);
	/* A LeaseSet store to the floodfill, in Noise_N garlic to its
	 * router key (as i2pd sends them). */
	T_OK(t, synth_ls2(&ls2, key2, (uint32_t)time_now_s(), 1));
	keystore_x25519_pk(ff->ks, KEYSTORE_X_IDENTITY, &ffk);
	st = netdb_store_msg_new(key2, I2NP_STORE_LS2, ls2.data, ls2.len, 77, 0,
				 a->hash);
	T_OK(t, tsend(a, ff->hash, garlic_wrap_for_router(st, &ffk), false));
	settle(t, &net);
	T_TRUE(t, netdb_store_find_ls(netdb_get_store(ff->db), key2) != NULL);
	T_EQ(t, a->received[I2NP_DELIVERY_STATUS], 1);	/* the ack */
	/* A client takes no LeaseSet it did not ask for. */
	T_TRUE(t, netdb_store_find_ls(netdb_get_store(a->db), key2) == NULL);
	bbuf_free(&ls);
	bbuf_free(&ls2);
	net_free(&net);
}

/* Log lines at info and above, for the bad-input checks. */
static char logbuf[16384];
static size_t loglen;

static void capture(void *ctx, enum log_level level, enum log_domain domain,
		    const char *func, const char *msg)
{
	size_t n = strlen(msg);

	(void)ctx;
	(void)level;
	(void)domain;
	(void)func;
	if (loglen + n + 2 < sizeof(logbuf)) {
		memcpy(logbuf + loglen, msg, n);
		loglen += n;
		logbuf[loglen++] = '\n';
		logbuf[loglen] = '\0';
	}
}

static void test_bad_input(struct tctx *t)
{
	struct tnet net;
	struct node *ff, *client, *p;
	struct bbuf x = BBUF_INIT, y = BBUF_INIT, z = BBUF_INIT, gz = BBUF_INIT;
	struct bbuf ls = BBUF_INIT;
	uint8_t hx[32], hy[32], hz[32], key[32], junk[64];
	uint8_t *zeros = xzalloc(1 << 20);
	struct i2np_msg *m;

	log_set_sink(capture, NULL);
	log_set_level(LOG_INFO);
	/* Frozen monotonic clock: the token buckets do not refill. */
	time_set_mono_override(5000000);
	net_init(&net);
	ff = net_add(t, &net, true);
	client = net_add(t, &net, false);
	p = net_add_raw(&net);
	/* Malformed gzip. */
	rand_bytes(junk, sizeof(junk));
	inject(t, &net, p, ff, netdb_store_msg_new(junk, I2NP_STORE_RI, junk,
						   sizeof(junk), 0, 0, NULL));
	T_TRUE(t, strstr(logbuf, "bad gzip") != NULL);
	/* A gzip bomb: a megabyte of zeros does not fit a RouterInfo. */
	T_OK(t, gzip_compress(zeros, 1 << 20, &gz));
	inject(t, &net, p, ff, netdb_store_msg_new(junk, I2NP_STORE_RI, gz.data,
						   gz.len, 0, 0, NULL));
	/* A bad signature, another network, one published 2 days ahead. */
	T_OK(t, synth_ri(&x, hx, NETID, "XR", time_now_ms()));
	x.data[x.len - 3] ^= 1;
	inject(t, &net, p, ff, store_ri_msg(&x, hx, 0, NULL));
	T_OK(t, synth_ri(&y, hy, NETID + 1, "XR", time_now_ms()));
	inject(t, &net, p, ff, store_ri_msg(&y, hy, 0, NULL));
	T_OK(t, synth_ri(&z, hz, NETID, "XR", time_now_ms() + 2 * 86400000ULL));
	inject(t, &net, p, ff, store_ri_msg(&z, hz, 0, NULL));
	T_TRUE(t, netdb_get_ri(ff->db, hx) == NULL);
	T_TRUE(t, netdb_get_ri(ff->db, hy) == NULL);
	T_TRUE(t, netdb_get_ri(ff->db, hz) == NULL);
	T_EQ(t, STAT(ff, rejected_bad_sig), 1);
	T_EQ(t, STAT(ff, rejected_netid), 1);
	T_EQ(t, STAT(ff, rejected_expired), 1);
	T_EQ(t, STAT(ff, rejected_format), 2);
	T_TRUE(t, strstr(logbuf, "refused a RouterInfo") != NULL);
	/* A truncated DatabaseStore. */
	m = i2np_msg_new(I2NP_DATABASE_STORE, junk, 20, 10000);
	inject(t, &net, p, ff, m);
	T_EQ(t, STAT(ff, rejected_format), 3);
	T_TRUE(t, strstr(logbuf, "malformed DatabaseStore") != NULL);
	/* A LeaseSet nobody asked a client for. */
	T_OK(t, synth_ls2(&ls, key, (uint32_t)time_now_s(), 1));
	inject(t, &net, p, client, netdb_store_msg_new(key, I2NP_STORE_LS2,
						       ls.data, ls.len, 0, 0,
						       NULL));
	T_TRUE(t, netdb_store_find_ls(netdb_get_store(client->db), key) == NULL);
	/* A lookup flood: the burst is answered, the rest dropped. */
	for (int i = 0; i < 100; i++) {
		uint8_t k[32];
		rand_bytes(k, sizeof(k));
		inject(t, &net, p, ff, lookup_msg(k, p->hash,
						  I2NP_LOOKUP_TYPE_RI, NULL, 0,
						  NULL, NULL));
	}
	T_EQ(t, p->n_inbox, NETDB_LOOKUP_BURST);
	T_EQ(t, STAT(ff, rate_limited), 100 - NETDB_LOOKUP_BURST);
	T_TRUE(t, strstr(logbuf, "over the rate limit") != NULL);
	/* Lookups out of a tunnel (no peer) are counted by the reply path
	 * they name: a second client's lookups pass while the first's
	 * are limited. */
	for (int c = 0; c < 2; c++) {
		uint8_t gw[32], k[32];
		static const uint8_t via_tunnel[32];

		rand_bytes(gw, sizeof(gw));
		for (int i = 0; i < 2 * NETDB_LOOKUP_BURST; i++) {
			rand_bytes(k, sizeof(k));
			netdb_handle_msg(ff->db, via_tunnel,
					 lookup_msg(k, gw, I2NP_LOOKUP_TYPE_RI,
						    NULL, 0, NULL, NULL));
		}
		settle(t, &net);
		T_EQ(t, STAT(ff, rate_limited),
		     100 - NETDB_LOOKUP_BURST + (c + 1) * NETDB_LOOKUP_BURST);
	}
	/* None of it reached the store. */
	T_EQ(t, netdb_store_ri_count(netdb_get_store(ff->db)), 0);
	T_EQ(t, netdb_store_ls_count(netdb_get_store(ff->db)), 0);
	log_set_sink(NULL, NULL);
	free(zeros);
	bbuf_free(&x);
	bbuf_free(&y);
	bbuf_free(&z);
	bbuf_free(&gz);
	bbuf_free(&ls);
	net_free(&net);
}

/* A lookup for a random key whose reply goes to tunnel tid at gw. */
static struct i2np_msg *tunnel_lookup_msg(const uint8_t gw[32], uint32_t tid)
{
	struct i2np_db_lookup l = { 0 };
	struct bbuf b = BBUF_INIT;
	uint8_t *p;
	size_t len = 0;

	rand_bytes(l.key, sizeof(l.key));
	memcpy(l.from, gw, 32);
	l.flags = I2NP_LOOKUP_TYPE_RI | I2NP_LOOKUP_FLAG_TUNNEL;
	l.reply_tunnel_id = tid;
	i2np_db_lookup_encode(&l, &b);
	p = bbuf_steal(&b, &len);
	return i2np_msg_new_take(I2NP_DATABASE_LOOKUP, p, len, 10000);
}

/* Lookup limits count per requester (the reply path named), whichever
 * router hands the lookups over, and a router relaying lookups for many
 * (the outbound endpoint of their tunnels) has a bucket of its own,
 * NETDB_LOOKUP_RELAY_FACTOR times a requester's: the clients behind one
 * endpoint do not share one requester's allowance, and a peer naming a
 * new reply path each time is still bounded. */
static void test_lookup_rate_keys(struct tctx *t)
{
	const size_t burst = NETDB_LOOKUP_BURST,
		     relay = NETDB_LOOKUP_BURST * NETDB_LOOKUP_RELAY_FACTOR;
	struct tnet net;
	struct node *ff, *obep1, *obep2, *obep3;
	uint8_t gw[32];

	/* Frozen monotonic clock: the token buckets do not refill. */
	time_set_mono_override(5000000);
	net_init(&net);
	ff = net_add(t, &net, true);
	obep1 = net_add_raw(&net);
	obep2 = net_add_raw(&net);
	obep3 = net_add_raw(&net);
	/* One client's reply path: its burst passes, the rest do not. */
	rand_bytes(gw, sizeof(gw));
	for (size_t i = 0; i < 2 * burst; i++)
		netdb_handle_msg(ff->db, obep1->hash, tunnel_lookup_msg(gw, 7));
	T_EQ(t, STAT(ff, rate_limited), burst);
	/* The same reply path through another endpoint: still spent. */
	for (size_t i = 0; i < 10; i++)
		netdb_handle_msg(ff->db, obep2->hash, tunnel_lookup_msg(gw, 7));
	T_EQ(t, STAT(ff, rate_limited), burst + 10);
	/* Another tunnel of the same gateway is another requester. */
	for (size_t i = 0; i < burst; i++)
		netdb_handle_msg(ff->db, obep2->hash, tunnel_lookup_msg(gw, 8));
	T_EQ(t, STAT(ff, rate_limited), burst + 10);
	/* Many clients (a new reply path each) behind one endpoint: far
	 * more than one requester's burst passes, up to the endpoint's. */
	for (size_t i = 0; i < relay + 20; i++) {
		rand_bytes(gw, sizeof(gw));
		netdb_handle_msg(ff->db, obep3->hash, tunnel_lookup_msg(gw, 9));
	}
	T_EQ(t, STAT(ff, rate_limited), burst + 10 + 20);
	T_EQ(t, STAT(ff, lookups_in), 2 * burst + 10 + burst + relay + 20);
	settle(t, &net);
	net_free(&net);
}

/* ---- hostile floodfills ---- */

enum hostile_kind { H_SILENT, H_JUNK, H_SYBIL, H_DROPPER };

struct hostile {
	struct node *n;
	enum hostile_kind kind;
	size_t lookups, stores;		/* from the client (a token set) */
};
static struct hostile hostiles[4];
static size_t n_hostiles;

/* A raw floodfill: it has a RouterInfo with the f cap (so others learn it)
 * but no netDb; answer_hostiles() plays its part. */
static struct node *net_add_hostile(struct tctx *t, struct tnet *net,
				    enum hostile_kind kind)
{
	struct node *n = &net->nodes[net->n++];

	n->net = net;
	n->floodfill = true;
	bbuf_init(&n->ri);
	T_OK(t, synth_ri_ks(&n->ri, n->hash, NETID, "XfR",
			    time_now_ms() - 1000, &n->ks));
	hostiles[n_hostiles].n = n;
	hostiles[n_hostiles].kind = kind;
	hostiles[n_hostiles].lookups = hostiles[n_hostiles].stores = 0;
	n_hostiles++;
	return n;
}

/* A message of type with b's bytes (taken). */
static struct i2np_msg *msg_of(uint8_t type, struct bbuf *b)
{
	size_t len = 0;
	uint8_t *p = bbuf_steal(b, &len);

	return i2np_msg_new_take(type, p, len, 10000);
}

/* Each hostile floodfill answers what reached it: junk (its own
 * RouterInfo under the key asked), a search reply naming only the other
 * hostile ones, an acknowledgement of a store it drops, or nothing. */
static void answer_hostiles(void)
{
	for (size_t k = 0; k < n_hostiles; k++) {
		struct hostile *h = &hostiles[k];
		struct node *n = h->n;

		for (size_t i = 0; i < n->n_inbox; i++) {
			struct i2np_msg *m = n->inbox[i], *r = NULL;
			struct i2np_db_lookup l;
			struct i2np_db_store s;
			struct bbuf b = BBUF_INIT;

			if (m->type == I2NP_DATABASE_STORE &&
			    i2np_db_store_decode(m, &s) == 0 &&
			    s.reply_token) {
				struct i2np_delivery_status d = {
					.msg_id = s.reply_token,
					.timestamp_ms = time_now_ms() };
				h->stores++;
				if (h->kind != H_DROPPER)
					continue;
				i2np_delivery_status_encode(&d, &b);
				r = msg_of(I2NP_DELIVERY_STATUS, &b);
				tsend(n, s.reply_gateway, r, false);
				continue;
			}
			if (m->type != I2NP_DATABASE_LOOKUP ||
			    i2np_db_lookup_decode(m, &l) != 0)
				continue;
			h->lookups++;
			if (h->kind == H_JUNK) {
				r = store_ri_msg(&n->ri, l.key, 0, NULL);
			} else if (h->kind == H_SYBIL || h->kind == H_DROPPER) {
				struct i2np_search_reply sr = { 0 };
				uint8_t peers[3 * 32];
				for (size_t j = 0; j < n_hostiles && sr.n_peers < 3;
				     j++)
					if (j != k)
						memcpy(peers + 32 * sr.n_peers++,
						       hostiles[j].n->hash, 32);
				memcpy(sr.key, l.key, 32);
				memcpy(sr.from, n->hash, 32);
				sr.peers = peers;
				i2np_search_reply_encode(&sr, &b);
				r = msg_of(I2NP_DATABASE_SEARCH_REPLY, &b);
			}
			if (r)
				tsend(n, l.from, r, false);
		}
		inbox_clear(n);
	}
}

static bool hostile_until_ended(struct tnet *net)
{
	(void)net;
	answer_hostiles();
	return until_res->calls > 0;
}

static size_t hostile_lookups(void)
{
	size_t n = 0;

	for (size_t k = 0; k < n_hostiles; k++)
		n += hostiles[k].lookups;
	return n;
}

/*
 * A client among two honest floodfills and three hostile ones (silent,
 * junk, and a Sybil naming only the others): every lookup still finds
 * its key, the hostile floodfills are left out once they showed what
 * they are, the honest ones never are, and later lookups ask no hostile
 * floodfill at all.
 */
static void test_hostile_lookups(struct tctx *t)
{
	struct tnet net;
	struct node *a, *f1, *f2;
	uint8_t tgt[100][32];
	size_t asked_before, i;

	/* The silent floodfill is found out by its timeouts; an honest
	 * one's answer must never take this long (at 300 ms a loaded
	 * machine's stall once failed a lookup of the honest ones). */
	attempt_ms = 1500;
	n_hostiles = 0;
	net_init(&net);
	a = net_add(t, &net, false);
	f1 = net_add(t, &net, true);
	f2 = net_add(t, &net, true);
	net_add_hostile(t, &net, H_SILENT);
	net_add_hostile(t, &net, H_JUNK);
	net_add_hostile(t, &net, H_SYBIL);
	/* Routers only the honest floodfills know, published two minutes
	 * ago (flooded by now: "not found" of them is a miss). */
	for (i = 0; i < ARRAY_LEN(tgt); i++) {
		struct bbuf b = BBUF_INIT;
		T_OK(t, synth_ri(&b, tgt[i], NETID, "XR",
				 time_now_ms() - 120000));
		T_OK(t, netdb_add_ri(f1->db, b.data, b.len, tgt[i], NULL,
				     NULL));
		T_OK(t, netdb_add_ri(f2->db, b.data, b.len, tgt[i], NULL,
				     NULL));
		bbuf_free(&b);
	}
	teach(t, a, f1);
	teach(t, a, f2);
	for (size_t k = 0; k < n_hostiles; k++)
		teach(t, a, hostiles[k].n);
	for (i = 0; i < ARRAY_LEN(tgt); i++) {
		struct lres r = { 0 };
		T_OK(t, netdb_lookup_start(a->db, tgt[i], NETDB_LOOKUP_RI,
					   lookup_done, &r));
		until_res = &r;
		run_until(t, &net, hostile_until_ended);
		T_OK(t, r.result);
		T_TRUE(t, netdb_get_ri(a->db, tgt[i]) != NULL);
		if (STAT(a, ff_bad) == n_hostiles)
			break;
	}
	/* All three found out before the targets ran out. */
	T_TRUE(t, i < ARRAY_LEN(tgt));
	for (size_t k = 0; k < n_hostiles; k++)
		T_TRUE(t, netdb_ff_is_bad(a->db, hostiles[k].n->hash));
	T_FALSE(t, netdb_ff_is_bad(a->db, f1->hash));
	T_FALSE(t, netdb_ff_is_bad(a->db, f2->hash));
	T_EQ(t, STAT(a, ff_bad), 3);
	T_TRUE(t, STAT(a, ff_junk) >= 1);
	T_TRUE(t, STAT(a, ff_timeouts) >= 1);
	/* From now on only the honest floodfills are asked. */
	asked_before = hostile_lookups();
	for (size_t j = 0; j < 4; j++) {
		struct lres r = { 0 };
		const uint8_t *x = tgt[(i + 1 + j) % ARRAY_LEN(tgt)];
		if (netdb_get_ri(a->db, x))
			continue;
		T_OK(t, netdb_lookup_start(a->db, x, NETDB_LOOKUP_RI,
					   lookup_done, &r));
		until_res = &r;
		run_until(t, &net, hostile_until_ended);
		T_OK(t, r.result);
	}
	T_EQ(t, hostile_lookups(), asked_before);
	n_hostiles = 0;
	attempt_ms = 0;
	net_free(&net);
}

/* The netDb's own hostile modes (tools/attacknet): a dropping floodfill
 * acknowledges a store, keeps nothing and says "not found"; a junk one
 * answers with its RouterInfo under the key asked, which the asker
 * refuses and scores. */
static void test_hostile_modes(struct tctx *t)
{
	struct tnet net;
	struct node *a, *d, *j, *p;
	struct lres r = { 0 };
	uint8_t key[32];
	struct bbuf ri = BBUF_INIT;

	attempt_ms = 300;
	net_init(&net);
	a = net_add(t, &net, false);
	hostile_mode = NETDB_HOSTILE_DROP;
	d = net_add(t, &net, true);
	hostile_mode = NETDB_HOSTILE_JUNK;
	j = net_add(t, &net, true);
	hostile_mode = NETDB_HOSTILE_NONE;
	p = net_add_raw(&net);
	T_OK(t, synth_ri(&ri, key, NETID, "XR", time_now_ms() - 2000));
	inject(t, &net, p, d, store_ri_msg(&ri, key, 77, p->hash));
	T_EQ(t, p->n_inbox, 1);		/* the acknowledgement */
	T_EQ(t, p->inbox[0]->type, I2NP_DELIVERY_STATUS);
	T_TRUE(t, netdb_get_ri(d->db, key) == NULL);
	T_EQ(t, STAT(d, flooded), 0);
	/* The junk floodfill is asked (a knows no other) and left out. */
	teach(t, a, j);
	T_OK(t, netdb_lookup_start(a->db, key, NETDB_LOOKUP_RI, lookup_done,
				   &r));
	until_res = &r;
	run_until(t, &net, lookup_ended);
	T_TRUE(t, r.result != 0);
	T_EQ(t, STAT(a, ff_junk), 1);
	T_TRUE(t, netdb_ff_is_bad(a->db, j->hash));
	/* The dropping one answers "not found" though it was given it. */
	teach(t, a, d);
	memset(&r, 0, sizeof(r));
	T_OK(t, netdb_lookup_start(a->db, key, NETDB_LOOKUP_RI, lookup_done,
				   &r));
	run_until(t, &net, lookup_ended);
	T_ERR(t, r.result, ERR_NOT_FOUND);
	T_TRUE(t, d->received[I2NP_DATABASE_LOOKUP] >= 1);
	bbuf_free(&ri);
	attempt_ms = 0;
	net_free(&net);
}

/*
 * A Sybil floodfill (netdb.hostile 3) answers every lookup with a search
 * reply naming only its accomplices, though it knows an honest floodfill
 * that has the entry, and keeps nothing stored to it; a client's lookup
 * still finds the entry at the honest one.
 */
static void test_sybil_floodfill(struct tctx *t)
{
	struct tnet net;
	struct node *a, *h, *s, *d, *p;
	struct i2np_search_reply sr;
	struct lres r = { 0 };
	struct bbuf ri = BBUF_INIT;
	uint8_t key[32];

	attempt_ms = 300;
	net_init(&net);
	a = net_add(t, &net, false);
	h = net_add(t, &net, true);
	hostile_mode = NETDB_HOSTILE_DROP;
	d = net_add(t, &net, true);
	memcpy(accomplices[0], d->hash, 32);
	n_accomplices = 1;
	hostile_mode = NETDB_HOSTILE_SYBIL;
	s = net_add(t, &net, true);
	hostile_mode = NETDB_HOSTILE_NONE;
	n_accomplices = 0;
	p = net_add_raw(&net);
	teach(t, s, h);
	teach(t, s, d);
	T_OK(t, synth_ri(&ri, key, NETID, "XR", time_now_ms() - 2000));
	T_OK(t, netdb_add_ri(h->db, ri.data, ri.len, key, NULL, NULL));
	/* Stored to it: acknowledged, kept nowhere. */
	inject(t, &net, p, s, store_ri_msg(&ri, key, 78, p->hash));
	T_EQ(t, p->n_inbox, 1);
	T_TRUE(t, netdb_get_ri(s->db, key) == NULL);
	inbox_clear(p);
	/* Asked: its accomplice alone, not the honest floodfill. */
	inject(t, &net, p, s, lookup_msg(key, p->hash, I2NP_LOOKUP_TYPE_RI,
					  NULL, 0, NULL, NULL));
	T_EQ(t, p->n_inbox, 1);
	if (p->n_inbox == 1 && p->inbox[0]->type == I2NP_DATABASE_SEARCH_REPLY &&
	    i2np_search_reply_decode(p->inbox[0], &sr) == 0) {
		T_EQ(t, sr.n_peers, 1);
		T_MEMEQ(t, sr.peers, d->hash, 32);
	} else {
		t_fail(t, __FILE__, __LINE__, "no search reply");
	}
	inbox_clear(p);
	/* A client that knows all three still finds the entry. */
	teach(t, a, s);
	teach(t, a, d);
	teach(t, a, h);
	T_OK(t, netdb_lookup_start(a->db, key, NETDB_LOOKUP_RI, lookup_done,
				   &r));
	until_res = &r;
	run_until(t, &net, lookup_ended);
	T_OK(t, r.result);
	T_TRUE(t, netdb_get_ri(a->db, key) != NULL);
	bbuf_free(&ri);
	attempt_ms = 0;
	net_free(&net);
}

/* Verify a LeaseSet store to d at a and wait for the answer. */
static int verify_ls(struct tctx *t, struct tnet *net, struct node *a,
		     const uint8_t key[32], const struct node *d)
{
	struct lres r = { 0 };
	uint8_t stored[1][32];

	memcpy(stored[0], d->hash, 32);
	T_OK(t, netdb_verify_store(a->db, key, NETDB_LOOKUP_LS,
				   (const uint8_t (*)[32])stored, 1,
				   lookup_done, &r));
	until_res = &r;
	run_until(t, net, lookup_ended);
	return r.result;
}

/*
 * Our LeaseSet's store verified elsewhere (Java's FloodfillVerifyStoreJob
 * for LeaseSets): the floodfill it went to is not asked; one that was not
 * given it is, and the next when that one says "not found".  Found there
 * (the honest floodfill flooded it): verified.  Found nowhere: lost, and
 * a floodfill that loses two is left out.
 */
static void test_ls_store_verify(struct tctx *t)
{
	struct tnet net;
	struct node *a, *b, *d, *h[2];
	struct bbuf ls = BBUF_INIT;
	uint8_t key[32];

	attempt_ms = 300;
	net_init(&net);
	a = net_add(t, &net, false);
	hostile_mode = NETDB_HOSTILE_DROP;
	d = net_add(t, &net, true);
	hostile_mode = NETDB_HOSTILE_NONE;
	for (int i = 0; i < 2; i++)
		h[i] = net_add(t, &net, true);
	teach(t, a, d);
	teach(t, a, h[0]);
	teach(t, a, h[1]);
	/* Flooded to one honest floodfill: verified, d not asked. */
	T_OK(t, synth_ls2(&ls, key, (uint32_t)time_now_s(), 1));
	T_OK(t, netdb_add_ls(h[1]->db, LEASESET_LS2, ls.data, ls.len, key,
			     NULL, NULL));
	T_OK(t, verify_ls(t, &net, a, key, d));
	T_EQ(t, d->received[I2NP_DATABASE_LOOKUP], 0);
	T_EQ(t, STAT(a, store_verified), 1);
	T_EQ(t, STAT(a, store_lost), 0);
	T_TRUE(t, netdb_store_find_ls(netdb_get_store(a->db), key) != NULL);
	/* Twice a LeaseSet only d was given (and dropped): both others say
	 * "not found", lost; d left out after the second. */
	for (int round = 1; round <= 2; round++) {
		size_t asked = h[0]->received[I2NP_DATABASE_LOOKUP] +
			       h[1]->received[I2NP_DATABASE_LOOKUP];

		bbuf_free(&ls);
		T_OK(t, synth_ls2(&ls, key, (uint32_t)time_now_s(), 1));
		T_ERR(t, verify_ls(t, &net, a, key, d), ERR_NOT_FOUND);
		T_EQ(t, STAT(a, store_lost), (size_t)round);
		T_EQ(t, h[0]->received[I2NP_DATABASE_LOOKUP] +
			h[1]->received[I2NP_DATABASE_LOOKUP], asked + 2);
	}
	T_EQ(t, d->received[I2NP_DATABASE_LOOKUP], 0);
	T_TRUE(t, netdb_ff_is_bad(a->db, d->hash));
	T_FALSE(t, netdb_ff_is_bad(a->db, h[0]->hash));
	T_FALSE(t, netdb_ff_is_bad(a->db, h[1]->hash));
	/* A router that knows no other floodfill cannot verify: no
	 * verdict, no score. */
	b = net_add(t, &net, false);
	teach(t, b, d);
	T_ERR(t, verify_ls(t, &net, b, key, d), ERR_TIMEOUT);
	T_EQ(t, STAT(b, store_lost), 0);
	T_EQ(t, STAT(b, store_verified), 0);
	/* Bad arguments. */
	T_ERR(t, netdb_verify_store(a->db, key, NETDB_LOOKUP_LS, NULL, 0,
				    NULL, NULL), ERR_ARG);
	bbuf_free(&ls);
	attempt_ms = 0;
	net_free(&net);
}

/* Is x closer than y to the routing key rk? */
static bool closer(const uint8_t rk[32], const uint8_t x[32],
		   const uint8_t y[32])
{
	for (int i = 0; i < 32; i++)
		if ((x[i] ^ rk[i]) != (y[i] ^ rk[i]))
			return (x[i] ^ rk[i]) < (y[i] ^ rk[i]);
	return false;
}

/* A lookup of a RouterInfo published at pub_ms that only the farther of
 * two honest floodfills has; a misses counted by then. */
static size_t missed_after(struct tctx *t, struct tnet *net, struct node *a,
			   struct node *f[2], uint64_t pub_ms)
{
	struct bbuf b = BBUF_INIT;
	struct lres r = { 0 };
	uint8_t key[32], rk[32];

	T_OK(t, synth_ri(&b, key, NETID, "XR", pub_ms));
	netdb_routing_key(key, time_now_ms(), rk);
	T_OK(t, netdb_add_ri(closer(rk, f[0]->hash, f[1]->hash) ? f[1]->db
							     : f[0]->db,
			     b.data, b.len, key, NULL, NULL));
	T_OK(t, netdb_lookup_start(a->db, key, NETDB_LOOKUP_RI, lookup_done,
				   &r));
	until_res = &r;
	run_until(t, net, lookup_ended);
	T_OK(t, r.result);
	bbuf_free(&b);
	return STAT(a, ff_missed);
}

/* "Not found" from the closer floodfill of what the farther had is a
 * miss, unless the entry is under a minute old (it may not have been
 * flooded there yet: a LeaseSet looked up the moment it is out). */
static void test_fresh_not_missed(struct tctx *t)
{
	struct tnet net;
	struct node *a, *f[2];

	net_init(&net);
	a = net_add(t, &net, false);
	for (int i = 0; i < 2; i++) {
		f[i] = net_add(t, &net, true);
		teach(t, a, f[i]);
	}
	T_EQ(t, missed_after(t, &net, a, f, time_now_ms() - 2000), 0);
	T_EQ(t, missed_after(t, &net, a, f, time_now_ms() - 120000), 1);
	net_free(&net);
}

/* A lookup of key (an entry of h's, or of nobody's with h NULL) from a,
 * which knows two floodfills: the closer one's messages are lost, the
 * farther (h, when not NULL) answers.  Its result; *ms: how long it
 * took. */
static int lookup_past_lost(struct tctx *t, unsigned attempt,
			    bool has_it, uint64_t *ms)
{
	struct tnet net;
	struct node *a, *f[2], *near, *far;
	struct bbuf b = BBUF_INIT;
	struct lres r = { 0 };
	uint8_t key[32], rk[32];
	uint64_t t0;

	attempt_ms = attempt;
	hedge_ms = 100;
	net_init(&net);
	a = net_add(t, &net, false);
	f[0] = net_add(t, &net, true);
	f[1] = net_add(t, &net, true);
	teach(t, a, f[0]);
	teach(t, a, f[1]);
	T_OK(t, synth_ri(&b, key, NETID, "XR", time_now_ms() - 120000));
	netdb_routing_key(key, time_now_ms(), rk);
	near = closer(rk, f[0]->hash, f[1]->hash) ? f[0] : f[1];
	far = near == f[0] ? f[1] : f[0];
	if (has_it)
		T_OK(t, netdb_add_ri(far->db, b.data, b.len, key, NULL,
				     NULL));
	lost_to = near->hash;
	n_lost = 0;
	t0 = time_mono_ms();
	T_OK(t, netdb_lookup_start(a->db, key, NETDB_LOOKUP_RI, lookup_done,
				   &r));
	until_res = &r;
	run_until(t, &net, lookup_ended);
	*ms = time_mono_ms() - t0;
	T_EQ(t, n_lost, 1);		/* the closer one was asked */
	T_EQ(t, far->received[I2NP_DATABASE_LOOKUP], 1);
	if (has_it)
		T_TRUE(t, netdb_get_ri(a->db, key) != NULL);
	lost_to = NULL;
	attempt_ms = hedge_ms = 0;
	bbuf_free(&b);
	net_free(&net);
	return r.result;
}

/*
 * A lookup whose message (or answer) is lost asks the next floodfill
 * after the hedge, not a whole attempt later: with 20 s attempts (twice
 * the loop's guard) the farther floodfill's answer ends it.  With no
 * answer anywhere, the lost one still has its whole attempt before the
 * lookup ends (a timeout: it never answered).
 */
static void test_lookup_hedge(struct tctx *t)
{
	uint64_t ms;

	T_OK(t, lookup_past_lost(t, 20000, true, &ms));
	T_TRUE(t, ms < 20000);
	T_ERR(t, lookup_past_lost(t, 600, false, &ms), ERR_TIMEOUT);
	T_TRUE(t, ms >= 600);
}

/*
 * A floodfill earns nothing by answering an exploration (any router can
 * name routers: a Sybil naming only its accomplices earned a good point
 * for each); a "not found" to a lookup still counts as answered.
 */
static void test_explore_earns_nothing(struct tctx *t)
{
	struct tnet net;
	struct node *a, *f;
	struct lres r = { 0 };
	uint8_t key[32];

	net_init(&net);
	a = net_add(t, &net, false);
	f = net_add(t, &net, true);
	teach(t, a, f);
	for (int i = 0; i < 3; i++) {
		explorer = a;
		netdb_explore_now(a->db);
		run_until(t, &net, no_lookups_pending);
	}
	T_TRUE(t, f->received[I2NP_DATABASE_LOOKUP] >= 3);
	T_EQ(t, STAT(a, ff_answered), 0);
	rand_bytes(key, sizeof(key));
	T_OK(t, netdb_lookup_start(a->db, key, NETDB_LOOKUP_RI, lookup_done,
				   &r));
	until_res = &r;
	run_until(t, &net, lookup_ended);
	T_ERR(t, r.result, ERR_NOT_FOUND);
	T_EQ(t, STAT(a, ff_answered), 1);
	net_free(&net);
}

static size_t publish_goal;
static bool hostile_until_published(struct tnet *net)
{
	answer_hostiles();
	return STAT(&net->nodes[0], publish_confirmed) >= publish_goal;
}

/*
 * Our RouterInfo's store verified by a lookup at other floodfills: the
 * closest floodfill acknowledges our store and drops it; two honest
 * floodfills (which flood to each other) say "not found", so it is
 * scored as lost, and the second time it is left out.  The next round
 * stores to an honest floodfill, verified at the other.
 */
static void test_store_verify(struct tctx *t)
{
	struct tnet net;
	struct node *a, *h[3], *d = NULL;
	uint8_t rk[32];
	size_t tries = 0;

	n_hostiles = 0;
	net_init(&net);
	a = net_add(t, &net, false);
	for (int i = 0; i < 3; i++)
		h[i] = net_add(t, &net, true);
	/* A dropper closer to our routing key than every honest one: a
	 * quarter of the tries on average, but few or none when an honest
	 * one happens to lie very close (20,000 tries once failed), so the
	 * honest three are drawn again every 256 tries. */
	netdb_routing_key(a->hash, time_now_ms(), rk);
	while (!d) {
		struct node *c;
		T_TRUE(t, ++tries < 20000);
		if (tries >= 20000)
			break;
		if (tries % 256 == 0) {
			for (int i = 0; i < 3; i++)
				net_drop_last(&net);
			for (int i = 0; i < 3; i++)
				h[i] = net_add(t, &net, true);
		}
		n_hostiles = 0;
		c = net_add_hostile(t, &net, H_DROPPER);
		if (closer(rk, c->hash, h[0]->hash) &&
		    closer(rk, c->hash, h[1]->hash) &&
		    closer(rk, c->hash, h[2]->hash)) {
			d = c;
			break;
		}
		net_drop_last(&net);
	}
	if (!d)
		goto out;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (i != j)
				teach(t, h[i], h[j]);
	for (int i = 0; i < 3; i++)
		teach(t, a, h[i]);
	teach(t, a, d);
	/* Twice: the dropper takes the first copy, the verification finds
	 * it nowhere, the second copy goes to an honest floodfill. */
	for (size_t round = 1; round <= 2; round++) {
		publish_goal = 2 * round;
		netdb_publish_now(a->db);
		run_until(t, &net, hostile_until_published);
		T_EQ(t, hostiles[0].stores, round);
		T_EQ(t, STAT(a, store_lost), round);
		T_EQ(t, STAT(a, store_verified), 0);
		/* The honest ones forget it, as they would an older one
		 * once we publish a new RouterInfo. */
		for (int i = 0; i < 3; i++)
			(void)netdb_store_remove_ri(netdb_get_store(h[i]->db),
						    a->hash);
	}
	T_TRUE(t, netdb_ff_is_bad(a->db, d->hash));
	/* Now the honest closest one takes it, verified at another. */
	publish_goal = 6;
	netdb_publish_now(a->db);
	run_until(t, &net, hostile_until_published);
	T_EQ(t, hostiles[0].stores, 2);
	T_EQ(t, STAT(a, store_verified), 1);
	T_EQ(t, STAT(a, store_lost), 2);
	for (int i = 0; i < 3; i++)
		T_FALSE(t, netdb_ff_is_bad(a->db, h[i]->hash));
out:
	n_hostiles = 0;
	net_free(&net);
}

/* Paid relaying's tickets after the build: a Data message in Noise_N
 * garlic to the router reaches the Data handler (once, with its body);
 * a plain Data message or one without a handler does not. */
static unsigned data_got;
static uint8_t data_body[8];

static void on_data(void *ctx, const struct i2np_msg *m)
{
	const uint8_t *d;
	size_t len;

	(void)ctx;
	if (i2np_blob_decode(m, &d, &len) == 0 && len == sizeof(data_body))
		memcpy(data_body, d, len);
	data_got++;
}

static struct i2np_msg *data_msg(void)
{
	struct bbuf b = BBUF_INIT;
	struct i2np_msg *m;

	i2np_blob_encode((const uint8_t *)"btk1tick", 8, &b);
	m = i2np_msg_new(I2NP_DATA, b.data, b.len, 10000);
	bbuf_free(&b);
	return m;
}

static void test_data_in_garlic(struct tctx *t)
{
	struct tnet net;
	struct node *a, *b;
	struct x25519_pk bk;

	net_init(&net);
	a = net_add(t, &net, false);
	b = net_add(t, &net, false);
	keystore_x25519_pk(b->ks, KEYSTORE_X_IDENTITY, &bk);
	data_got = 0;
	/* no handler: dropped */
	T_OK(t, tsend(a, b->hash, garlic_wrap_for_router(data_msg(), &bk),
		      false));
	settle(t, &net);
	T_EQ(t, data_got, 0);
	T_EQ(t, STAT(b, garlic_in), 1);
	netdb_set_data_fn(b->db, on_data, NULL);
	T_OK(t, tsend(a, b->hash, garlic_wrap_for_router(data_msg(), &bk),
		      false));
	settle(t, &net);
	T_EQ(t, data_got, 1);
	T_MEMEQ(t, data_body, "btk1tick", 8);
	/* not in garlic: never */
	T_OK(t, tsend(a, b->hash, data_msg(), false));
	settle(t, &net);
	T_EQ(t, data_got, 1);
	netdb_set_data_fn(b->db, NULL, NULL);
	T_OK(t, tsend(a, b->hash, garlic_wrap_for_router(data_msg(), &bk),
		      false));
	settle(t, &net);
	T_EQ(t, data_got, 1);
	net_free(&net);
}

const struct test_case netdb_net_tests[] = {
	{ "floodfill_answers", test_floodfill_answers, 0 },
	{ "store_ack_and_flood", test_store_ack_and_flood, 0 },
	{ "store_ack_again", test_store_ack_again, 0 },
	{ "iterative_lookup", test_iterative_lookup, 0 },
	{ "lookup_via_tunnel", test_lookup_via_tunnel, 0 },
	{ "exploration", test_exploration, 0 },
	{ "explore_backoff", test_explore_backoff, 0 },
	{ "publish", test_publish, 0 },
	{ "publish_via_tunnel", test_publish_via_tunnel, 0 },
	{ "leaseset_lookup_and_garlic_store",
	  test_leaseset_lookup_and_garlic_store, 0 },
	{ "data_in_garlic", test_data_in_garlic, 0 },
	{ "bad_input", test_bad_input, TT_FORK },
	{ "lookup_rate_keys", test_lookup_rate_keys, TT_FORK },
	{ "hostile_lookups", test_hostile_lookups, 0 },
	{ "store_verify", test_store_verify, 0 },
	{ "hostile_modes", test_hostile_modes, 0 },
	{ "sybil_floodfill", test_sybil_floodfill, 0 },
	{ "ls_store_verify", test_ls_store_verify, 0 },
	{ "fresh_not_missed", test_fresh_not_missed, 0 },
	{ "lookup_hedge", test_lookup_hedge, 0 },
	{ "explore_earns_nothing", test_explore_earns_nothing, 0 },
	{ NULL, NULL, 0 }
};
