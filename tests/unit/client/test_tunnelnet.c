/*
 * apps/client/tunnelnet: the LeaseSet2 built from pool leases, the
 * dispatch of garlic cloves, garlic from a remote ratchet session opened
 * and handed to the destination, payloads queued while the remote's
 * LeaseSet is looked up, and the protocol-layer responses of a
 * destination that sends nothing of its own (over zero-hop tunnels).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/client/net.h"
#include "apps/client/stream.h"
#include "apps/client/tunnelnet.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"
#include "netdb/netdb.h"
#include "router/certificate.h"
#include "router/datagram.h"
#include "router/dest_keys.h"
#include "router/evloop.h"
#include "router/ratchet.h"
#include "router/worker.h"
#include "tests/unit/netdb/synth.h"
#include "tests/unit/tharness.h"

/* What the datagram hook got. */
struct rxlog {
	unsigned n;
	uint8_t proto;
	uint16_t src_port, dst_port;
	uint8_t data[256];
	size_t len;
};

static void rx_datagram(void *ctx, uint8_t proto, uint16_t src_port,
			uint16_t dst_port, const uint8_t *data, size_t len)
{
	struct rxlog *r = ctx;

	r->n++;
	r->proto = proto;
	r->src_port = src_port;
	r->dst_port = dst_port;
	r->len = len < sizeof(r->data) ? len : sizeof(r->data);
	memcpy(r->data, data, r->len);
}

/* The datagram hook got n payloads, the last one this. */
static void expect_rx(struct tctx *t, const struct rxlog *r, unsigned n,
		      uint8_t proto, uint16_t sp, uint16_t dp, const char *text)
{
	T_EQ(t, r->n, n);
	T_EQ(t, r->proto, proto);
	T_EQ(t, r->src_port, sp);
	T_EQ(t, r->dst_port, dp);
	T_EQ(t, r->len, strlen(text));
	T_MEMEQ(t, r->data, text, strlen(text));
}

static void make_leases(struct lease *l, size_t n, uint64_t now)
{
	memset(l, 0, n * sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		rand_bytes(l[i].gateway, 32);
		l[i].tunnel_id = 1000 + (uint32_t)i;
		l[i].end_ms = (now / 1000 + 600 + i) * 1000;
	}
}

static void test_leaseset_build(struct tctx *t)
{
	struct client_dest *d = client_dest_new_random();
	const struct dest_keys *k = client_dest_keys(d);
	uint64_t now = time_now_ms();
	struct lease l[3];
	struct x25519_sk sk;
	struct x25519_pk pk;
	struct bbuf b = BBUF_INIT;
	struct leaseset *ls = NULL;

	x25519_keygen(&sk, &pk);
	make_leases(l, 3, now);
	T_ERR(t, tunnelnet_leaseset_build(k, &pk, l, 0, now, &b), ERR_ARG);
	T_OK(t, tunnelnet_leaseset_build(k, &pk, l, 3, now, &b));
	T_OK(t, leaseset_decode(LEASESET_LS2, b.data, b.len, &ls));
	if (ls) {
		T_OK(t, leaseset_verify(ls));
		T_OK(t, leaseset_check_time(ls, now));
		T_MEMEQ(t, leaseset_key(ls), client_dest_pub(d)->hash, 32);
		T_EQ(t, leaseset_enc_key_count(ls), 1);
		T_EQ(t, leaseset_enc_key(ls, 0)->type, CERT_ENC_X25519);
		T_MEMEQ(t, leaseset_enc_key(ls, 0)->key, pk.b, 32);
		T_EQ(t, leaseset_lease_count(ls), 3);
		for (size_t i = 0; i < 3; i++) {
			T_MEMEQ(t, leaseset_lease(ls, i)->gateway, l[i].gateway,
				32);
			T_EQ(t, leaseset_lease(ls, i)->tunnel_id,
			     l[i].tunnel_id);
			T_EQ(t, leaseset_lease(ls, i)->end_ms, l[i].end_ms);
		}
		/* Expires with the last lease. */
		T_TRUE(t, leaseset_expires_ms(ls) >= l[2].end_ms);
		T_TRUE(t, leaseset_expires_ms(ls) <= l[2].end_ms + 1000);
	}
	leaseset_free(ls);
	bbuf_free(&b);
	client_dest_free(d);
}

/* A Garlic Clove block with a Data message carrying a client payload,
 * delivered as dl says. */
static void data_clove_to(struct bbuf *blocks, enum garlic_delivery dl,
			  const uint8_t to[32], uint8_t proto, uint16_t sp,
			  uint16_t dp, const char *text)
{
	struct client_payload_hdr h = { sp, dp, proto };
	struct bbuf cp = BBUF_INIT, blob = BBUF_INIT;
	struct i2np_msg *m;

	(void)client_payload_encode(text, strlen(text), &h, &cp);
	i2np_blob_encode(cp.data, cp.len, &blob);
	m = i2np_msg_new(I2NP_DATA, blob.data, blob.len, 10000);
	(void)garlic_block_clove(blocks, m, dl, to, 7);
	i2np_msg_free(m);
	bbuf_free(&cp);
	bbuf_free(&blob);
}

static void data_clove(struct bbuf *blocks, const uint8_t to[32],
		       uint8_t proto, uint16_t sp, uint16_t dp,
		       const char *text)
{
	data_clove_to(blocks, GARLIC_DELIVERY_DESTINATION, to, proto, sp, dp,
		      text);
}

static void test_dispatch(struct tctx *t)
{
	uint64_t now = time_now_ms();
	uint8_t to[32], other[32];
	struct bbuf blocks = BBUF_INIT;
	struct garlic_payload g;
	struct rxlog log = { 0 };
	struct client_rx rx = { NULL, rx_datagram, &log };
	struct i2np_msg *bad = i2np_msg_new(I2NP_DATA, "\0\0\0\5abcde", 9,
					    10000);
	uint64_t nbad = 0;

	rand_bytes(to, 32);
	rand_bytes(other, 32);
	/* A streaming payload with no manager: dropped, not a datagram. */
	data_clove(&blocks, to, DATAGRAM_PROTO_STREAMING, 1, 2, "syn");
	data_clove(&blocks, to, DATAGRAM_PROTO_RAW, 7000, 7001, "hello raw");
	/* A Data message that is not a gzip member. */
	T_OK(t, garlic_block_clove(&blocks, bad, GARLIC_DELIVERY_LOCAL, NULL,
				   0));
	/* Cloves for others (another destination, a router, a tunnel):
	 * not ours, dropped and counted */
	data_clove(&blocks, other, DATAGRAM_PROTO_RAW, 1, 1, "not ours");
	data_clove_to(&blocks, GARLIC_DELIVERY_ROUTER, to, DATAGRAM_PROTO_RAW,
		      2, 2, "to a router");
	data_clove_to(&blocks, GARLIC_DELIVERY_TUNNEL, to, DATAGRAM_PROTO_RAW,
		      3, 3, "to a tunnel");
	T_OK(t, garlic_payload_parse(blocks.data, blocks.len, &g));
	T_EQ(t, g.n_cloves, 6);
	T_EQ(t, tunnelnet_dispatch(&rx, NULL, to, now, &g, &nbad), 2);
	T_EQ(t, nbad, 4);
	expect_rx(t, &log, 1, DATAGRAM_PROTO_RAW, 7000, 7001, "hello raw");
	/* the same cloves past their expiration and the clock skew's grace
	 * (they expire 10 s from now): every one dropped */
	nbad = 0;
	T_EQ(t, tunnelnet_dispatch(&rx, NULL, to,
				   now + 11000 + TUNNELNET_CLOVE_GRACE_MS, &g,
				   &nbad), 0);
	T_EQ(t, nbad, 6);
	T_EQ(t, tunnelnet_dispatch(&rx, NULL, to,
				   now + TUNNELNET_CLOVE_GRACE_MS, &g,
				   &nbad), 2);
	i2np_msg_free(bad);
	bbuf_free(&blocks);
}

/* A router around a tunnelnet: netDb, tunnel manager (no peers, so no
 * tunnels), and the netDb's messages caught. */
struct env {
	struct evloop *el;
	struct worker_pool *wp;
	struct netdb *db;
	struct peer_profiles *prof;
	struct tunnel_mgr *mgr;
	struct tunnelnet *tn;
	unsigned netdb_sent;
	struct evloop_timer *poll;
	uint64_t deadline;		/* monotonic */
	/* env_dests(): d attached, r remote */
	struct client_dest *d, *r;
	struct client_net net;
	/* env_init_loop(): what the tunnel manager sends to us, handled
	 * by env_pump() */
	uint8_t self[32];
	struct i2np_msg *q[256];
	size_t qhead, qtail;
	/* when set, the I2NP types of the cloves in the first garlic it
	 * opens (an NS to its key) as it comes out of a tunnel */
	struct ratchet_ctx *spy;
	uint8_t spy_types[GARLIC_MAX_CLOVES];
	size_t spy_n;
};

static int env_netdb_send(void *ctx, const uint8_t peer[32],
			  struct i2np_msg *m, bool via_tunnel)
{
	struct env *e = ctx;

	(void)peer;
	(void)via_tunnel;
	e->netdb_sent++;
	i2np_msg_free(m);
	return 0;
}

static int env_mgr_send(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	(void)ctx;
	(void)peer;
	i2np_msg_free(m);
	return 0;
}

/* Zero-hop tunnels: what goes to us waits for env_pump(). */
static int env_loop_send(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	struct env *e = ctx;

	if (memcmp(peer, e->self, 32) != 0 ||
	    e->qtail - e->qhead >= sizeof(e->q) / sizeof(e->q[0])) {
		i2np_msg_free(m);
		return 0;
	}
	e->q[e->qtail++ % (sizeof(e->q) / sizeof(e->q[0]))] = m;
	return 0;
}

static void env_loop_deliver(void *ctx, struct i2np_msg *m)
{
	struct env *e = ctx;

	if (e->spy && !e->spy_n && m->type == I2NP_GARLIC && m->len > 4) {
		struct bbuf plain = BBUF_INIT;
		struct ratchet_payload pl;
		struct ratchet_rx_info info;

		if (ratchet_decrypt(e->spy, m->payload + 4, m->len - 4,
				    time_now_ms(), &plain, &pl, &info) == 0)
			for (size_t i = 0; i < pl.g.n_cloves; i++)
				e->spy_types[e->spy_n++] = pl.g.cloves[i].type;
		bbuf_free(&plain);
	}
	if (!tunnelnet_garlic_in(e->tn, m))
		i2np_msg_free(m);
}

/* Hand what went to us to the tunnel manager until nothing is left. */
static void env_pump(struct env *e)
{
	while (e->qhead < e->qtail) {
		struct i2np_msg *m =
			e->q[e->qhead++ % (sizeof(e->q) / sizeof(e->q[0]))];

		if (!tunnel_mgr_handle(e->mgr, e->self, m, time_now_ms(),
				       time_mono_ms()))
			i2np_msg_free(m);
	}
}

/* e with zero-hop client tunnels looping back to us (loop), and the
 * ratchet's DH ratchet after ratchet_after messages (0: default). */
static void env_init_with(struct tctx *t, struct env *e, bool loop,
			  uint32_t ratchet_after)
{
	struct netdb_cfg nc = { .netid = 77, .no_persist = true,
				.passive = true };
	struct tunnel_mgr_cfg mc;
	struct tunnel_mgr_hooks mh = { .send = env_mgr_send, .ctx = e };
	struct tunnelnet_cfg tc = { 0 };

	memset(e, 0, sizeof(*e));
	if (loop) {
		mh.send = env_loop_send;
		mh.deliver = env_loop_deliver;
	}
	e->el = evloop_new();
	e->wp = worker_pool_new(e->el, 1);
	rand_bytes(nc.self, 32);
	memcpy(e->self, nc.self, 32);
	e->db = netdb_new(e->el, e->wp, &nc);
	netdb_set_sender(e->db, (struct netdb_sender){ env_netdb_send, e });
	e->prof = peer_profiles_new();
	memset(&mc, 0, sizeof(mc));
	memcpy(mc.self, nc.self, 32);
	mc.store = netdb_get_store(e->db);
	mc.profiles = e->prof;
	tunnel_pool_cfg_default(&mc.exploratory);
	T_OK(t, tunnel_mgr_new(&mc, &mh, &e->mgr));
	tc.el = e->el;
	tc.tunnels = e->mgr;
	tc.db = e->db;
	tunnel_pool_cfg_default(&tc.pool);
	tc.pool.kind = PEER_SELECT_CLIENT;
	if (loop) {
		tc.pool.in_length = tc.pool.out_length = 0;
		tc.pool.in_quantity = tc.pool.out_quantity = 1;
	}
	tc.ratchet.ratchet_after = ratchet_after;
	T_OK(t, tunnelnet_new(&tc, &e->tn));
}

static void env_init(struct tctx *t, struct env *e)
{
	env_init_with(t, e, false, 0);
}

static void env_dests(struct tctx *t, struct env *e)
{
	static const struct client_rx none = { NULL, NULL, NULL };

	e->d = client_dest_new_random();
	e->r = client_dest_new_random();
	e->net = tunnelnet_client_net(e->tn);
	T_OK(t, e->net.attach(e->net.ctx, e->d, &none));
}

static void env_free(struct env *e)
{
	while (e->qhead < e->qtail)
		i2np_msg_free(
			e->q[e->qhead++ % (sizeof(e->q) / sizeof(e->q[0]))]);
	tunnelnet_free(e->tn);
	tunnel_mgr_free(e->mgr);
	netdb_free(e->db);
	peer_profiles_free(e->prof);
	worker_pool_free(e->wp);
	evloop_free(e->el);
	client_dest_free(e->d);
	client_dest_free(e->r);
}

/* The X25519 key d's LeaseSet publishes (its own, type 4). */
static void dest_x25519(const struct client_dest *d, struct x25519_pk *pk)
{
	struct x25519_sk sk;

	memcpy(sk.b, client_dest_keys(d)->enc_sk, 32);
	x25519_pk_from_sk(pk, &sk);
}

/* A Garlic message from alice to pk carrying blocks. */
static struct i2np_msg *garlic_to(struct tctx *t, struct ratchet_ctx *alice,
				  const struct x25519_pk *pk,
				  const struct bbuf *blocks)
{
	struct bbuf g = BBUF_INIT;
	struct i2np_msg *m;

	bbuf_be32(&g, 0);
	T_OK(t, ratchet_encrypt(alice, pk, blocks->data, blocks->len, 0,
				time_now_ms(), &g));
	be32_put(g.data, (uint32_t)(g.len - 4));
	m = i2np_msg_new(I2NP_GARLIC, g.data, g.len, 10000);
	bbuf_free(&g);
	return m;
}

static void test_garlic_in(struct tctx *t)
{
	struct env e;
	struct client_dest *d = client_dest_new_random();
	struct rxlog log = { 0 };
	struct client_rx rx = { NULL, rx_datagram, &log };
	struct client_net net;
	struct x25519_sk ask;
	struct x25519_pk apk, bpk;
	struct ratchet_ctx *alice;
	struct bbuf blocks = BBUF_INIT;
	struct i2np_msg *m;
	struct tunnelnet_stats st;

	env_init(t, &e);
	net = tunnelnet_client_net(e.tn);
	T_EQ(t, client_dest_pub(d)->enc_type, CERT_ENC_X25519);
	T_OK(t, net.attach(net.ctx, d, &rx));
	T_ERR(t, net.attach(net.ctx, d, &rx), ERR_EXISTS);
	dest_x25519(d, &bpk);
	x25519_keygen(&ask, &apk);
	alice = ratchet_ctx_new(&ask);
	data_clove(&blocks, client_dest_pub(d)->hash,
		   DATAGRAM_PROTO_REPLIABLE, 5, 6, "over garlic");
	m = garlic_to(t, alice, &bpk, &blocks);
	T_TRUE(t, tunnelnet_garlic_in(e.tn, m));	/* m taken */
	expect_rx(t, &log, 1, DATAGRAM_PROTO_REPLIABLE, 5, 6, "over garlic");
	/* A second message on the session (NS again until a reply). */
	m = garlic_to(t, alice, &bpk, &blocks);
	T_TRUE(t, tunnelnet_garlic_in(e.tn, m));
	T_EQ(t, log.n, 2);
	/* Garlic for someone else (another key) is left for the router. */
	m = garlic_to(t, alice, &apk, &blocks);
	T_FALSE(t, tunnelnet_garlic_in(e.tn, m));
	i2np_msg_free(m);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.garlic_in, 2);
	T_EQ(t, st.data_in, 2);
	net.detach(net.ctx, d);
	ratchet_ctx_free(alice);
	bbuf_free(&blocks);
	env_free(&e);
	client_dest_free(d);
}

static void test_lookup_queue(struct tctx *t)
{
	struct env e;
	struct client_dest *d, *r;
	struct client_net net;
	struct keys_and_cert out;
	struct tunnelnet_stats st;
	struct lease l[2];
	struct x25519_pk rpk;
	struct bbuf ls = BBUF_INIT;
	enum netdb_add_result res;
	const uint8_t *rh;

	env_init(t, &e);
	env_dests(t, &e);
	d = e.d;
	r = e.r;
	net = e.net;
	rh = client_dest_pub(r)->hash;
	/* Our own destination is known at once. */
	T_OK(t, net.lookup(net.ctx, client_dest_pub(d)->hash, &out));
	T_MEMEQ(t, out.hash, client_dest_pub(d)->hash, 32);
	/* An unknown one: queued while the netDb looks it up. */
	T_ERR(t, net.lookup(net.ctx, rh, &out), ERR_NOT_FOUND);
	T_OK(t, net.send(net.ctx, d, client_dest_pub(r), 6, 1, 2,
			 (const uint8_t *)"x", 1));
	T_OK(t, net.send(net.ctx, d, client_dest_pub(r), 6, 1, 2,
			 (const uint8_t *)"y", 1));
	T_ERR(t, net.send(net.ctx, r, client_dest_pub(d), 6, 1, 2,
			  (const uint8_t *)"z", 1), ERR_BAD_STATE);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.queued, 2);
	T_EQ(t, st.lookups, 2);	/* net.lookup's, joined by the queue */
	T_EQ(t, netdb_lookups_pending(e.db), 1);
	/* The LeaseSet arrives (as a bundled clove or a flood would put
	 * it in the store): the lookup ends; with no tunnels yet the
	 * payloads wait for them, and later ones queue behind. */
	dest_x25519(r, &rpk);
	make_leases(l, 2, time_now_ms());
	T_OK(t, tunnelnet_leaseset_build(client_dest_keys(r), &rpk, l, 2,
					 time_now_ms(), &ls));
	T_OK(t, netdb_add_ls(e.db, LEASESET_LS2, ls.data, ls.len, rh, NULL,
			     &res));
	tunnelnet_poll(e.tn);
	T_EQ(t, netdb_lookups_pending(e.db), 0);
	T_OK(t, net.lookup(net.ctx, rh, &out));
	T_MEMEQ(t, out.hash, rh, 32);
	T_OK(t, net.send(net.ctx, d, client_dest_pub(r), 6, 1, 2,
			 (const uint8_t *)"w", 1));
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.queued, 3);
	T_EQ(t, st.lookups, 2);	/* known now: no new lookup */
	T_EQ(t, st.no_route + st.sent + st.queue_dropped, 0);
	/* Still no tunnels when the wait is over: dropped. */
	time_set_mono_override(time_mono_ms() + TUNNELNET_QUEUE_MS - 1000);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.queue_dropped, 0);
	time_set_mono_override(time_mono_ms() + 2000);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.queue_dropped, 3);
	T_EQ(t, st.no_route + st.sent, 0);
	bbuf_free(&ls);
	env_free(&e);
}

static void stop_when_failed(void *arg)
{
	struct env *e = arg;

	if (netdb_lookups_pending(e->db) == 0 ||
	    time_mono_ms() > e->deadline)
		evloop_break(e->el);
	else
		evloop_timer_arm(e->poll, 50);
}

/* Run e's loop until its netDb has no lookup under way (they fail: no
 * floodfill known). */
static void until_lookups_failed(struct env *e)
{
	e->deadline = time_mono_ms() + 60000;
	e->poll = evloop_timer_new(e->el, stop_when_failed, e);
	evloop_timer_arm(e->poll, 50);
	(void)evloop_run(e->el);
	evloop_timer_free(e->poll);
	e->poll = NULL;
}

/* r's LeaseSet2 published at pub_ms with two leases ending at end_ms,
 * added to e's netDb. */
static void add_remote_ls(struct tctx *t, struct env *e, uint64_t pub_ms,
			  uint64_t end_ms)
{
	struct lease l[2];
	struct x25519_pk rpk;
	struct bbuf ls = BBUF_INIT;
	enum netdb_add_result res;

	dest_x25519(e->r, &rpk);
	make_leases(l, 2, pub_ms);
	l[0].end_ms = l[1].end_ms = end_ms / 1000 * 1000;
	T_OK(t, tunnelnet_leaseset_build(client_dest_keys(e->r), &rpk, l, 2,
					 pub_ms, &ls));
	T_OK(t, netdb_add_ls(e->db, LEASESET_LS2, ls.data, ls.len,
			     client_dest_pub(e->r)->hash, NULL, &res));
	bbuf_free(&ls);
}

/* A remote whose LeaseSet is known but whose leases have all ended (or
 * end within TUNNELNET_LEASE_MARGIN_MS) is as good as unknown: a payload
 * to it waits while the LeaseSet is looked up again, the stale one does
 * not end that lookup, and a newer one does. */
static void test_lookup_stale(struct tctx *t)
{
	struct env e;
	struct tunnelnet_stats st;
	const struct keys_and_cert *r;
	uint64_t now = time_now_ms();

	env_init(t, &e);
	env_dests(t, &e);
	r = client_dest_pub(e.r);
	/* Published a minute ago, its leases end in 5 s. */
	add_remote_ls(t, &e, now - 60000,
		      now + TUNNELNET_LEASE_MARGIN_MS / 2);
	T_OK(t, e.net.send(e.net.ctx, e.d, r, 6, 1, 2,
			   (const uint8_t *)"x", 1));
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.queued, 1);
	T_EQ(t, st.lookups, 1);
	T_EQ(t, netdb_lookups_pending(e.db), 1);
	/* The stale LeaseSet does not end it; the leases' end passes. */
	tunnelnet_poll(e.tn);
	T_EQ(t, netdb_lookups_pending(e.db), 1);
	time_set_override(now + TUNNELNET_LEASE_MARGIN_MS);
	tunnelnet_poll(e.tn);
	T_EQ(t, netdb_lookups_pending(e.db), 1);
	T_OK(t, e.net.send(e.net.ctx, e.d, r, 6, 1, 2,
			   (const uint8_t *)"y", 1));
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.queued, 2);
	T_EQ(t, st.lookups, 1);		/* joined the running one */
	T_EQ(t, st.queue_dropped + st.no_route + st.sent, 0);
	/* A newer LeaseSet with live leases arrives: the lookup ends and
	 * the payloads wait only for tunnels. */
	add_remote_ls(t, &e, now + TUNNELNET_LEASE_MARGIN_MS,
		      now + 600000);
	tunnelnet_poll(e.tn);
	T_EQ(t, netdb_lookups_pending(e.db), 0);
	T_OK(t, e.net.send(e.net.ctx, e.d, r, 6, 1, 2,
			   (const uint8_t *)"z", 1));
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.queued, 3);
	T_EQ(t, st.lookups, 1);
	T_EQ(t, st.queue_dropped + st.no_route + st.sent, 0);
	time_set_override(0);
	env_free(&e);
}

/* A lookup that fails (no floodfill known) is made again while its
 * payload waits (a LeaseSet published late: the peer's SESSION CREATE
 * was answered before it had tunnels), soon at first
 * (TUNNELNET_RELOOKUP_MIN_MS), then after half the wait so far, at most
 * TUNNELNET_RELOOKUP_MS; a payload that waited TUNNELNET_QUEUE_MS in
 * vain is dropped, and the destination refused with ERR_NETWORK for a
 * while. */
static void test_lookup_fails(struct tctx *t)
{
	struct env e;
	struct tunnelnet_stats st;
	const struct keys_and_cert *r;
	uint64_t t0;

	env_init(t, &e);
	env_dests(t, &e);
	r = client_dest_pub(e.r);
	t0 = time_mono_ms();
	time_set_mono_override(t0);
	T_OK(t, e.net.send(e.net.ctx, e.d, r, 6, 1, 2,
			   (const uint8_t *)"x", 1));
	until_lookups_failed(&e);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.lookups, 1);
	T_EQ(t, st.queue_dropped, 0);
	/* More payloads wait with it, no new lookup yet... */
	T_OK(t, e.net.send(e.net.ctx, e.d, r, 6, 1, 2,
			   (const uint8_t *)"y", 1));
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.lookups, 1);
	/* ...until TUNNELNET_RELOOKUP_MIN_MS has passed. */
	time_set_mono_override(t0 + TUNNELNET_RELOOKUP_MIN_MS - 1);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.lookups, 1);
	time_set_mono_override(t0 + TUNNELNET_RELOOKUP_MIN_MS + 1);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.lookups, 2);
	T_EQ(t, st.queue_dropped, 0);
	until_lookups_failed(&e);
	/* Failed after 3 s of waiting: again after 1.5 s. */
	time_set_mono_override(t0 + 3000);
	tunnelnet_poll(e.tn);
	until_lookups_failed(&e);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.lookups, 3);
	time_set_mono_override(t0 + 3000 + 1499);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.lookups, 3);
	time_set_mono_override(t0 + 3000 + 1501);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.lookups, 4);
	until_lookups_failed(&e);
	/* Failed after 20 s: again after TUNNELNET_RELOOKUP_MS. */
	time_set_mono_override(t0 + 20000);
	tunnelnet_poll(e.tn);
	until_lookups_failed(&e);
	time_set_mono_override(t0 + 20000 + TUNNELNET_RELOOKUP_MS - 1);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.lookups, 5);
	time_set_mono_override(t0 + 20000 + TUNNELNET_RELOOKUP_MS + 1);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.lookups, 6);
	until_lookups_failed(&e);
	/* The wait is over in vain: dropped, and refused a while. */
	time_set_mono_override(t0 + TUNNELNET_QUEUE_MS + 1);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.queue_dropped, 2);
	T_ERR(t, e.net.send(e.net.ctx, e.d, r, 6, 1, 2,
			    (const uint8_t *)"z", 1), ERR_NETWORK);
	/* Once the while is over, it is looked up again. */
	time_set_mono_override(t0 + TUNNELNET_QUEUE_MS +
			       TUNNELNET_NEGATIVE_MS + 2);
	T_OK(t, e.net.send(e.net.ctx, e.d, r, 6, 1, 2,
			   (const uint8_t *)"z", 1));
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.lookups, 7);
	env_free(&e);
}

/* A destination's own tunnel options reach its pool: out of range, the
 * pool refuses them and attach fails; in range, attach works. */
static void test_tunnel_opts(struct tctx *t)
{
	static const struct client_rx none = { NULL, NULL, NULL };
	struct env e;
	struct client_tunnel_opts o = { 8, -1, -1, -1 };
	struct client_dest *d;

	env_init(t, &e);
	e.net = tunnelnet_client_net(e.tn);
	d = client_dest_new_random();
	T_EQ(t, client_dest_tunnel_opts(d)->in_length, -1);
	client_dest_set_tunnel_opts(d, &o);
	T_ERR(t, e.net.attach(e.net.ctx, d, &none), ERR_RANGE);
	o = (struct client_tunnel_opts){ 3, 2, 4, 1 };
	client_dest_set_tunnel_opts(d, &o);
	T_OK(t, e.net.attach(e.net.ctx, d, &none));
	e.net.detach(e.net.ctx, d);
	env_free(&e);
	client_dest_free(d);
}

/* b33: r's encrypted LeaseSet (per-client DH for one client key) in the
 * netDb under today's blinded key; lookup_blinded opens it with the
 * client's key only, looks it up when it is missing, and once opened the
 * destination's hash is known to lookup(). */
static void test_lookup_blinded(struct tctx *t)
{
	struct env e;
	struct client_net net;
	struct keys_and_cert out;
	struct tunnelnet_stats st;
	struct lease l[2];
	struct x25519_pk rpk, cpk;
	struct x25519_sk csk;
	struct bbuf ls = BBUF_INIT, els = BBUF_INIT;
	struct els2_blinding bl;
	struct client_ls_opts lo = { .encrypted = true, .auth = ELS2_AUTH_DH,
				     .n_clients = 1 };
	enum netdb_add_result res;
	uint8_t store_key[32], other[32];
	const uint8_t *rh;
	uint64_t now = time_now_ms();

	env_init(t, &e);
	env_dests(t, &e);
	net = e.net;
	T_TRUE(t, net.lookup_blinded != NULL);
	rh = client_dest_pub(e.r)->hash;
	x25519_keygen(&csk, &cpk);
	lo.clients = (const uint8_t (*)[32])cpk.b;
	dest_x25519(e.r, &rpk);
	make_leases(l, 2, now);
	T_OK(t, tunnelnet_leaseset_build(client_dest_keys(e.r), &rpk, l, 2,
					 now, &ls));
	T_OK(t, tunnelnet_els_build(client_dest_keys(e.r), &lo, ls.data,
				    ls.len, &els, store_key));
	T_OK(t, els2_blinding_derive(client_dest_pub(e.r)->sig_key, 7,
				     now / 1000, NULL, 0, &bl));
	T_MEMEQ(t, bl.store_key, store_key, 32);
	/* not in the netDb yet: a lookup by the blinded key */
	T_ERR(t, net.lookup_blinded(net.ctx, &bl, csk.b, &out), ERR_NOT_FOUND);
	T_EQ(t, netdb_lookups_pending(e.db), 1);
	T_OK(t, netdb_add_ls(e.db, LEASESET_ENC_LS2, els.data, els.len,
			     store_key, NULL, &res));
	/* no key, or another key: closed */
	T_ERR(t, net.lookup_blinded(net.ctx, &bl, NULL, &out), ERR_AUTH);
	rand_bytes(other, sizeof(other));
	T_ERR(t, net.lookup_blinded(net.ctx, &bl, other, &out), ERR_AUTH);
	T_ERR(t, net.lookup(net.ctx, rh, &out), ERR_NOT_FOUND);
	/* the client's key: r itself */
	memset(&out, 0, sizeof(out));
	T_OK(t, net.lookup_blinded(net.ctx, &bl, csk.b, &out));
	T_MEMEQ(t, out.hash, rh, 32);
	T_OK(t, net.lookup(net.ctx, rh, &out));
	T_MEMEQ(t, out.hash, rh, 32);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.els_opened, 1);
	/* opened once: asked again, nothing is decrypted again */
	T_OK(t, net.lookup_blinded(net.ctx, &bl, csk.b, &out));
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.els_opened, 1);
	/* another day's blinding is another netDb key: not found */
	T_OK(t, els2_blinding_derive(client_dest_pub(e.r)->sig_key, 7,
				     now / 1000 + 86400, NULL, 0, &bl));
	T_ERR(t, net.lookup_blinded(net.ctx, &bl, csk.b, &out), ERR_NOT_FOUND);
	bbuf_free(&ls);
	bbuf_free(&els);
	env_free(&e);
}

/* b33 with a lookup secret: r's open encrypted LeaseSet is blinded with
 * the secret of its ls opts, so it is stored under the key blinded with
 * that secret, not under the plain one, and lookup_blinded opens it
 * with the secret's blinding. */
static void test_lookup_blinded_secret(struct tctx *t)
{
	static const uint8_t sec[] = "open sesame";
	struct env e;
	struct keys_and_cert out;
	struct lease l[2];
	struct x25519_pk rpk;
	struct bbuf ls = BBUF_INIT, els = BBUF_INIT;
	struct els2_blinding bl, plain;
	struct client_ls_opts lo = { .encrypted = true,
				     .auth = ELS2_AUTH_NONE,
				     .secret = sec,
				     .secret_len = sizeof(sec) - 1 };
	enum netdb_add_result res;
	uint8_t store_key[32];
	uint64_t now = time_now_ms();

	env_init(t, &e);
	env_dests(t, &e);
	T_OK(t, client_dest_set_ls_opts(e.r, &lo));
	/* copied: the dest keeps its own */
	T_TRUE(t, client_dest_ls_opts(e.r)->secret != sec);
	T_EQ(t, client_dest_ls_opts(e.r)->secret_len, sizeof(sec) - 1);
	dest_x25519(e.r, &rpk);
	make_leases(l, 2, now);
	T_OK(t, tunnelnet_leaseset_build(client_dest_keys(e.r), &rpk, l, 2,
					 now, &ls));
	T_OK(t, tunnelnet_els_build(client_dest_keys(e.r),
				    client_dest_ls_opts(e.r), ls.data, ls.len,
				    &els, store_key));
	T_OK(t, els2_blinding_derive(client_dest_pub(e.r)->sig_key, 7,
				     now / 1000, sec, sizeof(sec) - 1, &bl));
	T_OK(t, els2_blinding_derive(client_dest_pub(e.r)->sig_key, 7,
				     now / 1000, NULL, 0, &plain));
	T_MEMEQ(t, bl.store_key, store_key, 32);
	T_FALSE(t, memcmp(plain.store_key, store_key, 32) == 0);
	T_OK(t, netdb_add_ls(e.db, LEASESET_ENC_LS2, els.data, els.len,
			     store_key, NULL, &res));
	T_ERR(t, e.net.lookup_blinded(e.net.ctx, &plain, NULL, &out),
	      ERR_NOT_FOUND);
	T_OK(t, e.net.lookup_blinded(e.net.ctx, &bl, NULL, &out));
	T_MEMEQ(t, out.hash, client_dest_pub(e.r)->hash, 32);
	bbuf_free(&ls);
	bbuf_free(&els);
	env_free(&e);
}

/* A LeaseSet store through our tunnels is garlic to the floodfill's
 * router key: only that router opens it, and finds the DatabaseStore
 * with the reply path; without a key it goes in the clear. */
static void test_store_garlic(struct tctx *t)
{
	struct keystore *ks = keystore_new_random(), *other =
		keystore_new_random();
	struct garlic_router *g = garlic_router_new(ks),
			     *g2 = garlic_router_new(other);
	struct x25519_pk pk;
	struct bbuf plain = BBUF_INIT;
	struct garlic_payload gp;
	struct i2np_db_store s;
	struct i2np_msg *m, *inner;
	uint8_t key[32], gw[32], ls[300];
	bool tagged = true;

	rand_bytes(key, sizeof(key));
	rand_bytes(gw, sizeof(gw));
	rand_bytes(ls, sizeof(ls));
	keystore_x25519_pk(ks, KEYSTORE_X_IDENTITY, &pk);
	m = tunnelnet_store_msg_new(key, I2NP_STORE_LS2, ls, sizeof(ls), 77,
				    1234, gw, &pk);
	T_TRUE(t, m != NULL);
	if (!m)
		goto out;
	T_EQ(t, m->type, I2NP_GARLIC);
	/* the store is not readable on the way */
	T_TRUE(t, memmem(m->payload, m->len, ls, 32) == NULL);
	T_TRUE(t, garlic_router_open(g2, m, time_now_ms(), time_mono_ms(),
				     &plain, &gp, &tagged) != 0);
	bbuf_reset(&plain);
	T_OK(t, garlic_router_open(g, m, time_now_ms(), time_mono_ms(),
				   &plain, &gp, &tagged));
	T_FALSE(t, tagged);
	T_EQ(t, gp.n_cloves, 1);
	T_EQ(t, gp.cloves[0].delivery, GARLIC_DELIVERY_LOCAL);
	T_EQ(t, gp.cloves[0].type, I2NP_DATABASE_STORE);
	inner = i2np_msg_new(gp.cloves[0].type, gp.cloves[0].body,
			     gp.cloves[0].len, 1000);
	T_OK(t, i2np_db_store_decode(inner, &s));
	T_MEMEQ(t, s.key, key, 32);
	T_EQ(t, s.store_type, I2NP_STORE_LS2);
	T_EQ(t, s.reply_token, 77);
	T_EQ(t, s.reply_tunnel_id, 1234);
	T_MEMEQ(t, s.reply_gateway, gw, 32);
	T_EQ(t, s.data_len, sizeof(ls));
	T_MEMEQ(t, s.data, ls, sizeof(ls));
	i2np_msg_free(inner);
	i2np_msg_free(m);
	/* no router key: the plain store */
	m = tunnelnet_store_msg_new(key, I2NP_STORE_LS2, ls, sizeof(ls), 77,
				    1234, gw, NULL);
	T_EQ(t, m->type, I2NP_DATABASE_STORE);
	T_OK(t, i2np_db_store_decode(m, &s));
	T_EQ(t, s.data_len, sizeof(ls));
	i2np_msg_free(m);
out:
	bbuf_free(&plain);
	garlic_router_free(g);
	garlic_router_free(g2);
	keystore_free(ks);
	keystore_free(other);
}

/* e over zero-hop tunnels with d and r attached (their client_rx
 * borrowed), the clock pinned at mono: the tunnels at once, the
 * LeaseSets into our netDb. */
static void env_loop_pair(struct tctx *t, struct env *e,
			  uint32_t ratchet_after, const struct client_rx *drx,
			  const struct client_rx *rrx, uint64_t mono)
{
	env_init_with(t, e, true, ratchet_after);
	e->d = client_dest_new_random();
	e->r = client_dest_new_random();
	e->net = tunnelnet_client_net(e->tn);
	time_set_mono_override(mono);
	T_OK(t, e->net.attach(e->net.ctx, e->d, drx));
	T_OK(t, e->net.attach(e->net.ctx, e->r, rrx));
	tunnelnet_poll(e->tn);
	env_pump(e);
}

/*
 * Datagrams one way only, from d to r (both ours, over zero-hop tunnels):
 * r sends nothing of its own, yet its NSR and its reverse Next Keys must
 * go back (protocol-layer responses, TUNNELNET_ACK_MS after they are
 * owed) for d's session to start and its DH ratchet to complete, tag set
 * after tag set, with nothing lost.
 */
#define ONEWAY_RATCHET_AFTER 16
#define ONEWAY_MSGS (8 * ONEWAY_RATCHET_AFTER)
#define ONEWAY_STEP_MS 50

/* ONEWAY_STEP_MS on from mono (returned), then the timers' work. */
static uint64_t env_tick(struct env *e, uint64_t mono)
{
	time_set_mono_override(mono + ONEWAY_STEP_MS);
	tunnelnet_poll(e->tn);
	env_pump(e);
	return mono + ONEWAY_STEP_MS;
}

static void test_oneway_ratchet(struct tctx *t)
{
	struct env e;
	struct rxlog dlog = { 0 }, rlog = { 0 };
	struct client_rx drx = { NULL, rx_datagram, &dlog };
	struct client_rx rrx = { NULL, rx_datagram, &rlog };
	const struct ratchet_stats *ds, *rs;
	struct tunnelnet_stats st;
	uint64_t mono = time_mono_ms(), start;
	char text[16];

	env_loop_pair(t, &e, ONEWAY_RATCHET_AFTER, &drx, &rrx, mono);
	start = mono;
	for (unsigned i = 0; i < ONEWAY_MSGS; i++) {
		int n = snprintf(text, sizeof(text), "dg %u", i);

		T_OK(t, e.net.send(e.net.ctx, e.d, client_dest_pub(e.r),
				   DATAGRAM_PROTO_RAW, 7, 8,
				   (const uint8_t *)text, (size_t)n));
		env_pump(&e);
		mono = env_tick(&e, mono);
	}
	ds = tunnelnet_ratchet_stats(e.tn, e.d);
	rs = tunnelnet_ratchet_stats(e.tn, e.r);
	T_TRUE(t, ds && rs);
	if (!ds || !rs)
		goto out;
	/* nothing lost, and only r's protocol-layer responses came back */
	T_EQ(t, rlog.n, ONEWAY_MSGS);
	T_EQ(t, rlog.len, strlen(text));
	T_MEMEQ(t, rlog.data, text, strlen(text));
	T_EQ(t, dlog.n, 0);
	/* d's session was answered (an NSR), then ran on ES */
	T_EQ(t, ds->nsr_in > 0, 1);
	T_EQ(t, rs->nsr_out > 0, 1);
	T_EQ(t, ds->es_out > ONEWAY_MSGS / 2, 1);
	/* the DH ratchet completed at least twice, on both sides */
	T_EQ(t, ds->ratchets_out >= 2, 1);
	T_EQ(t, rs->ratchets_in >= 2, 1);
	T_EQ(t, rs->ratchets_in >= ds->ratchets_out, 1);
	T_EQ(t, rs->bad_nextkey + ds->bad_nextkey, 0);
	tunnelnet_stats(e.tn, &st);
	/* at most one response a TUNNELNET_ACK_MS (and a spare) */
	T_EQ(t, st.acks_sent > 0, 1);
	T_EQ(t, st.acks_sent <= (mono - start) / TUNNELNET_ACK_MS + 2, 1);
	T_EQ(t, st.sent, ONEWAY_MSGS + st.acks_sent);
	T_EQ(t, st.no_route, 0);
out:
	time_set_mono_override(0);
	e.net.detach(e.net.ctx, e.d);
	e.net.detach(e.net.ctx, e.r);
	env_free(&e);
}

#define BYTAG_MSGS 32

/* Two destinations on one router talking both ways: each garlic goes to
 * the destination whose tag it carries, and only an NS is tried on the
 * others (each such trial counts as no_tag there).  Before, every ES to
 * the second destination in the list was tried as an NS on the first:
 * an Elligator2 decode and a DH each, half a receiving router's CPU. */
static void test_garlic_in_by_tag(struct tctx *t)
{
	struct rxlog log[2] = { { 0 }, { 0 } };	/* what d and r got */
	struct client_rx rx[2] = { { NULL, rx_datagram, &log[0] },
				   { NULL, rx_datagram, &log[1] } };
	uint64_t mono = time_mono_ms();
	const struct ratchet_stats *ds, *rs;
	struct env e;

	env_loop_pair(t, &e, 0, &rx[0], &rx[1], mono);
	for (unsigned i = 0; i < BYTAG_MSGS; i++) {
		/* d to r on ports 7 -> 8, r to d on 8 -> 7 */
		for (int k = 0; k < 2; k++) {
			T_OK(t, e.net.send(e.net.ctx, k ? e.r : e.d,
					   client_dest_pub(k ? e.d : e.r),
					   DATAGRAM_PROTO_RAW, 7 + k, 8 - k,
					   (const uint8_t *)(k ? "to d" : "to r"),
					   4));
			env_pump(&e);
		}
		mono = env_tick(&e, mono);
	}
	ds = tunnelnet_ratchet_stats(e.tn, e.d);
	rs = tunnelnet_ratchet_stats(e.tn, e.r);
	T_TRUE(t, ds && rs);
	if (!ds || !rs)
		goto out;
	expect_rx(t, &log[1], BYTAG_MSGS, DATAGRAM_PROTO_RAW, 7, 8, "to r");
	expect_rx(t, &log[0], BYTAG_MSGS, DATAGRAM_PROTO_RAW, 8, 7, "to d");
	/* the sessions ran on ES both ways */
	T_EQ(t, ds->es_in + rs->es_in >= BYTAG_MSGS, 1);
	/* an NS trial on the wrong destination only for an NS */
	T_EQ(t, ds->no_tag + rs->no_tag <= ds->ns_in + rs->ns_in, 1);
out:
	time_set_mono_override(0);
	e.net.detach(e.net.ctx, e.d);
	e.net.detach(e.net.ctx, e.r);
	env_free(&e);
}

/*
 * The first garlic from d to r carries d's LeaseSet ahead of the payload,
 * as i2pd orders them: i2pd acts on the cloves in order and answers a SYN
 * at once, so with the LeaseSet behind it i2pd knew of no way back, dropped
 * its SYN ACK and asked the floodfills (the answer waited for its first
 * resend, 9 s).
 */
static void test_leaseset_first(struct tctx *t)
{
	struct env e;
	struct rxlog dlog = { 0 }, rlog = { 0 };
	struct client_rx drx = { NULL, rx_datagram, &dlog };
	struct client_rx rrx = { NULL, rx_datagram, &rlog };
	struct x25519_sk rsk;

	env_loop_pair(t, &e, 0, &drx, &rrx, time_mono_ms());
	memcpy(rsk.b, client_dest_keys(e.r)->enc_sk, 32);
	e.spy = ratchet_ctx_new(&rsk);
	T_OK(t, e.net.send(e.net.ctx, e.d, client_dest_pub(e.r),
			   DATAGRAM_PROTO_RAW, 7, 8, (const uint8_t *)"syn", 3));
	env_pump(&e);
	expect_rx(t, &rlog, 1, DATAGRAM_PROTO_RAW, 7, 8, "syn");
	T_EQ(t, e.spy_n, 2);
	T_EQ(t, e.spy_types[0], I2NP_DATABASE_STORE);
	T_EQ(t, e.spy_types[1], I2NP_DATA);
	time_set_mono_override(0);
	e.net.detach(e.net.ctx, e.d);
	e.net.detach(e.net.ctx, e.r);
	ratchet_ctx_free(e.spy);
	env_free(&e);
}

/*
 * A LeaseSet that reached no floodfill goes out again soon, not at the
 * next change of leases or TUNNELNET_REPUBLISH_MS later: here the netDb
 * knows no floodfill when the destinations' tunnels come up, and one
 * later.  (Likewise a LeaseSet whose inbound tunnels came up before any
 * outbound one: it went nowhere and waited for the next change; a new
 * SAM session's peers could not find it.)  Meanwhile the tries come less
 * and less often (1, 2, 4 ... s, then every
 * TUNNELNET_PUBLISH_RETRY_MAX_MS), and the first after a floodfill
 * becomes known goes at once: before, a router that knew no floodfill
 * tried every second for as long as it ran.
 */
static void test_publish_retry(struct tctx *t)
{
	struct env e;
	struct rxlog dlog = { 0 }, rlog = { 0 };
	struct client_rx drx = { NULL, rx_datagram, &dlog };
	struct client_rx rrx = { NULL, rx_datagram, &rlog };
	struct tunnelnet_stats st;
	struct bbuf ri = BBUF_INIT;
	uint8_t ff[32];
	uint64_t mono = time_mono_ms(), tries;

	env_loop_pair(t, &e, 0, &drx, &rrx, mono);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.published, 0);	/* no floodfill known */
	/* 4 minutes, a poll a second: per destination, tries at 0, 1, 3,
	 * 7, 15, 31, 63, 123, 183 and 243 s */
	for (unsigned i = 0; i < 240; i++) {
		mono += 1000;
		time_set_mono_override(mono);
		tunnelnet_poll(e.tn);
	}
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.published, 0);
	T_TRUE(t, st.publish_none >= 2 * 9);
	T_TRUE(t, st.publish_none <= 2 * 10);
	tries = st.publish_none;
	/* the longest wait is 60 s: one more try a minute */
	mono += TUNNELNET_PUBLISH_RETRY_MAX_MS;
	time_set_mono_override(mono);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.publish_none, tries + 2);
	/* a floodfill becomes known: both stores go at the next poll */
	T_OK(t, synth_ri(&ri, ff, 77, "XfR", time_now_ms()));
	T_OK(t, netdb_add_ri(e.db, ri.data, ri.len, ff, NULL, NULL));
	mono += 50;
	time_set_mono_override(mono);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.published, 2);	/* both LeaseSets, to it */
	T_EQ(t, st.published_garlic, 2);
	T_EQ(t, st.publish_none, tries + 2);
	/* and once stored, not again before TUNNELNET_REPUBLISH_MS */
	mono += 10 * TUNNELNET_PUBLISH_RETRY_MS;
	time_set_mono_override(mono);
	tunnelnet_poll(e.tn);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.published, 2);
	time_set_mono_override(0);
	e.net.detach(e.net.ctx, e.d);
	e.net.detach(e.net.ctx, e.r);
	bbuf_free(&ri);
	env_free(&e);
}

/*
 * An encrypted LeaseSet over midnight UTC: before it, under the day's
 * blinded key; a second after it, a new one under the new day's key at
 * once, published that day, its inner LeaseSet too, and opening with
 * that day's blinding.  (Before, the new day's blinding wrapped the
 * inner LeaseSet of the day before with its time; i2pd takes the
 * blinding's date from the published time and refused it until the
 * next change of leases.)
 */
static void test_els_midnight(struct tctx *t)
{
	struct env e;
	struct rxlog rlog = { 0 };
	struct client_rx rrx = { NULL, rx_datagram, &rlog };
	struct client_ls_opts lo = { .encrypted = true,
				     .auth = ELS2_AUTH_NONE };
	struct els2_blinding d1, d2;
	const struct netdb_ls_entry *ent;
	struct leaseset *in = NULL;
	const uint8_t *pk;
	uint64_t midnight = 20424 * TUNNELNET_DAY_MS;
	uint64_t mono = time_mono_ms();

	time_set_override(midnight - 10000);
	time_set_mono_override(mono);
	env_init_with(t, &e, true, 0);
	e.r = client_dest_new_random();
	e.net = tunnelnet_client_net(e.tn);
	T_OK(t, client_dest_set_ls_opts(e.r, &lo));
	T_OK(t, e.net.attach(e.net.ctx, e.r, &rrx));
	tunnelnet_poll(e.tn);
	env_pump(&e);
	pk = client_dest_pub(e.r)->sig_key;
	T_OK(t, els2_blinding_derive(pk, 7, (midnight - 10000) / 1000, NULL,
				     0, &d1));
	T_OK(t, els2_blinding_derive(pk, 7, midnight / 1000 + 1, NULL, 0,
				     &d2));
	T_TRUE(t, netdb_store_find_ls(netdb_get_store(e.db), d1.store_key) !=
		  NULL);
	T_TRUE(t, netdb_store_find_ls(netdb_get_store(e.db), d2.store_key) ==
		  NULL);
	time_set_override(midnight + 1000);
	time_set_mono_override(mono + 11000);
	tunnelnet_poll(e.tn);
	env_pump(&e);
	ent = netdb_store_find_ls(netdb_get_store(e.db), d2.store_key);
	T_TRUE(t, ent != NULL);
	if (ent) {
		T_TRUE(t, leaseset_published_ms(ent->ls) >= midnight);
		T_OK(t, els2_decrypt(ent->ls, &d2, NULL, &in));
		T_TRUE(t, in && leaseset_published_ms(in) >= midnight);
	}
	leaseset_free(in);
	time_set_override(0);
	time_set_mono_override(0);
	e.net.detach(e.net.ctx, e.r);
	env_free(&e);
}

/* One datagram from d to r (raw: r answers nothing of its own). */
static void env_send_dr(struct tctx *t, struct env *e, const char *text)
{
	T_OK(t, e->net.send(e->net.ctx, e->d, client_dest_pub(e->r),
			    DATAGRAM_PROTO_RAW, 7, 8, (const uint8_t *)text,
			    strlen(text)));
	env_pump(e);
}

/* A destination that sends again after an idle spell keeps its ratchet
 * session and asks for no LeaseSet: silence while it sent nothing says
 * nothing of the remote.  Before, the first payload after
 * TUNNELNET_RENEW_MS of idling renewed the session with an NS; i2pd kept
 * its own session, never answered the new one, and every message after
 * it went as an NS (its DH ratchet then stalled a 20 MiB stream). */
static void test_idle_keeps_session(struct tctx *t)
{
	struct rxlog log[2] = { { 0 }, { 0 } };	/* what d and r got */
	struct client_rx rx[2] = { { NULL, rx_datagram, &log[0] },
				   { NULL, rx_datagram, &log[1] } };
	uint64_t mono = time_mono_ms();
	const struct ratchet_stats *ds;
	struct tunnelnet_stats st;
	struct env e;

	env_loop_pair(t, &e, 0, &rx[0], &rx[1], mono);
	/* d's NS; r's NSR comes back as a protocol-layer response */
	env_send_dr(t, &e, "one");
	for (unsigned i = 0; i < 2 * TUNNELNET_ACK_MS / ONEWAY_STEP_MS; i++)
		mono = env_tick(&e, mono);
	ds = tunnelnet_ratchet_stats(e.tn, e.d);
	T_TRUE(t, ds != NULL);
	if (!ds)
		goto out;
	T_EQ(t, ds->nsr_in, 1);
	/* an ES nobody answers, then an idle spell past the renewal */
	env_send_dr(t, &e, "two");
	mono += 2 * TUNNELNET_RENEW_MS;
	time_set_mono_override(mono);
	env_send_dr(t, &e, "three");
	expect_rx(t, &log[1], 3, DATAGRAM_PROTO_RAW, 7, 8, "three");
	T_EQ(t, ds->ns_out, 1);
	T_EQ(t, ds->es_out, 2);
	tunnelnet_stats(e.tn, &st);
	T_EQ(t, st.refreshes, 0);
out:
	time_set_mono_override(0);
	e.net.detach(e.net.ctx, e.d);
	e.net.detach(e.net.ctx, e.r);
	env_free(&e);
}

static void rr_event(void *ctx, struct stream *s, unsigned events)
{
	(void)ctx;
	(void)s;
	(void)events;
}

/* env_loop_pair() with a stream manager on d, whose SYN to r follows.
 * With `deaf`, d is attached twice, the stream manager the second time,
 * and r is detached once its LeaseSet is in our netDb: what d sends r
 * ends at r's gone pools, so d hears nothing back.  (r attached answers
 * an NS with an NSR whatever its rx: to d's first leases, gone, when
 * d's SYN bundled the LeaseSet of before the second attach, but to d's
 * live ones when d's new LeaseSet was out first, as on a loaded
 * machine.) */
struct rr_env {
	struct env e;
	struct client_stream_sink cs;
	struct stream_signer sg;	/* the manager keeps a pointer */
	struct stream_mgr *mgr;
	struct client_rx drx;
	struct stream *s;
	bool r_attached;
};

static void rr_init(struct tctx *t, struct rr_env *v,
		    const struct client_rx *rrx, uint64_t mono, bool deaf)
{
	struct stream_config sc;

	if (deaf) {
		env_loop_pair(t, &v->e, 0, rrx, rrx, mono);
		v->e.net.detach(v->e.net.ctx, v->e.d);
		v->e.net.detach(v->e.net.ctx, v->e.r);
	} else {
		env_init_with(t, &v->e, true, 0);
		v->e.d = client_dest_new_random();
		v->e.r = client_dest_new_random();
		v->e.net = tunnelnet_client_net(v->e.tn);
		time_set_mono_override(mono);
	}
	client_dest_signer(v->e.d, &v->sg);
	stream_config_default(&sc);
	v->cs.net = v->e.net;
	v->cs.from = v->e.d;
	v->mgr = stream_mgr_new(&sc, &v->sg, client_stream_sink(&v->cs),
				NULL);
	v->drx = (struct client_rx){ v->mgr, NULL, NULL };
	v->s = NULL;
	T_OK(t, v->e.net.attach(v->e.net.ctx, v->e.d, &v->drx));
	if (!deaf)
		T_OK(t, v->e.net.attach(v->e.net.ctx, v->e.r, rrx));
	v->r_attached = !deaf;
	tunnelnet_poll(v->e.tn);
	env_pump(&v->e);
}

static void rr_connect(struct tctx *t, struct rr_env *v)
{
	T_OK(t, stream_connect(v->mgr, client_dest_pub(v->e.r), 0, 0,
			       rr_event, NULL, &v->s));
}

/* The stream manager's timers and env_tick() until `until` ms after
 * start; mono returned. */
static uint64_t rr_run(struct rr_env *v, uint64_t mono, uint64_t start,
		       uint64_t until)
{
	while (mono - start < until) {
		stream_mgr_run_timers(v->mgr);
		mono = env_tick(&v->e, mono);
	}
	return mono;
}

/* r's newer LeaseSet ends the refresh under way: d's SYN goes now
 * (resent once before). */
static void rr_newer_ls(struct tctx *t, struct rr_env *v, uint64_t now)
{
	struct stream_mgr_stats ms;
	struct tunnelnet_stats st;

	add_remote_ls(t, &v->e, now + 5000, now + 600000);
	tunnelnet_poll(v->e.tn);
	env_pump(&v->e);
	tunnelnet_stats(v->e.tn, &st);
	T_EQ(t, st.routes_renewed, 1);
	stream_mgr_stats(v->mgr, &ms);
	T_EQ(t, ms.route_resends, 1);
	T_EQ(t, ms.packets_resent, 2);
}

static void rr_free(struct rr_env *v)
{
	if (v->s)
		stream_release(v->s);
	v->e.net.detach(v->e.net.ctx, v->e.d);
	stream_mgr_free(v->mgr);
	time_set_mono_override(0);
	if (v->r_attached)
		v->e.net.detach(v->e.net.ctx, v->e.r);
	env_free(&v->e);
}

/* A stream's SYN to a remote that says nothing back: after
 * TUNNELNET_QUIET_MS of silence its LeaseSet is looked up again, and when
 * a newer one comes the stream resends at once (route_renewed, the
 * manager's route_resends) instead of at its backed-off RTO (27 s for a
 * SYN first sent at 0 and again at 9 s). */
static void test_route_renewed(struct tctx *t)
{
	static const struct client_rx none = { NULL, NULL, NULL };
	uint64_t mono = time_mono_ms(), start = mono, now = time_now_ms();
	struct stream_mgr_stats ms;
	struct tunnelnet_stats st;
	struct rr_env v;

	/* r drops streaming packets (no manager): d hears nothing back */
	rr_init(t, &v, &none, mono, true);
	rr_connect(t, &v);
	/* the SYN at once, again at 9 s; the refresh after 8 s of silence */
	mono = rr_run(&v, mono, start, 10000);
	tunnelnet_stats(v.e.tn, &st);
	T_EQ(t, st.refreshes, 1);
	T_EQ(t, st.routes_renewed, 0);
	stream_mgr_stats(v.mgr, &ms);
	T_EQ(t, ms.packets_resent, 1);
	T_EQ(t, ms.route_resends, 0);
	T_EQ(t, netdb_lookups_pending(v.e.db), 1);
	/* r's newer LeaseSet ends the refresh: the SYN goes now */
	rr_newer_ls(t, &v, now);
	rr_free(&v);
}

/* The same SYN, its remote silent: the LeaseSet is looked up again
 * while the SYN waits on its RTO, not only when it is resent
 * (quiet_refresh: after 8 s of silence, again 8 s later, then at half the
 * silence), so a newer one found at 16 s is used at once instead of at
 * the SYN's next resend (27 s).  Nothing waiting on an RTO, no lookup:
 * the stream gone, the silence goes on without any. */
static void test_quiet_refresh(struct tctx *t)
{
	static const struct client_rx none = { NULL, NULL, NULL };
	uint64_t mono = time_mono_ms(), start = mono, now = time_now_ms();
	struct stream_mgr_stats ms;
	struct tunnelnet_stats st;
	uint64_t lookups, at[3] = { 0, 0, 0 };
	struct rr_env v;

	rr_init(t, &v, &none, mono, true);
	rr_connect(t, &v);
	while (mono - start < 20000) {
		mono = rr_run(&v, mono, start, mono - start + 1);
		tunnelnet_stats(v.e.tn, &st);
		if (st.quiet_refreshes && st.quiet_refreshes <= 3 &&
		    !at[st.quiet_refreshes - 1])
			at[st.quiet_refreshes - 1] = mono - start;
	}
	tunnelnet_stats(v.e.tn, &st);
	/* at 8 s (the resend at 9 s then asks none) and 16 s */
	T_EQ(t, st.refreshes, 2);
	T_EQ(t, st.quiet_refreshes, 2);
	T_TRUE(t, at[0] >= 8000 && at[0] < 9000);
	T_TRUE(t, at[1] >= 16000 && at[1] < 17000);
	stream_mgr_stats(v.mgr, &ms);
	T_EQ(t, ms.packets_resent, 1);	/* only the SYN's at 9 s */
	T_TRUE(t, netdb_lookups_pending(v.e.db) >= 1);
	/* the newer LeaseSet: the SYN goes at 20 s, not 27 s */
	rr_newer_ls(t, &v, now);
	/* no stream waits: a minute more of silence asks nothing */
	stream_reset(v.s);
	stream_mgr_run_timers(v.mgr);
	tunnelnet_stats(v.e.tn, &st);
	lookups = st.lookups;
	mono = rr_run(&v, mono, start, 80000);
	tunnelnet_stats(v.e.tn, &st);
	T_EQ(t, st.quiet_refreshes, 2);
	T_EQ(t, st.lookups, lookups);
	rr_free(&v);
}

/* d and r have a ratchet session (r answered a datagram); then d's SYN
 * goes unanswered (r takes no streams: as if it restarted and lost the
 * session).  At TUNNELNET_RENEW_MS of silence the session starts anew and
 * the SYN is resent then, as an NS (quiet_renewals, route_resends), not
 * at its backed-off RTO (27 s).  r's NSR is a word back: the next
 * renewal needs as long a silence again, after the next resend. */
static void test_quiet_renew(struct tctx *t)
{
	struct rxlog log = { 0 };
	struct client_rx rrx = { NULL, rx_datagram, &log };
	uint64_t mono = time_mono_ms(), start, at = 0, at2 = 0, ns0;
	struct stream_mgr_stats ms;
	struct tunnelnet_stats st;
	const struct ratchet_stats *ds;
	struct rr_env v;

	rr_init(t, &v, &rrx, mono, false);
	env_send_dr(t, &v.e, "one");
	mono = rr_run(&v, mono, mono, 2 * TUNNELNET_ACK_MS);
	ds = tunnelnet_ratchet_stats(v.e.tn, v.e.d);
	T_TRUE(t, ds != NULL);
	if (!ds)
		goto out;
	T_EQ(t, ds->nsr_in, 1);
	ns0 = ds->ns_out;
	start = mono;
	rr_connect(t, &v);
	while (mono - start < 22000) {
		mono = rr_run(&v, mono, start, mono - start + 1);
		tunnelnet_stats(v.e.tn, &st);
		if (!at && st.quiet_renewals)
			at = mono - start;
	}
	tunnelnet_stats(v.e.tn, &st);
	T_EQ(t, st.quiet_renewals, 1);
	T_TRUE(t, at >= TUNNELNET_RENEW_MS && at < TUNNELNET_RENEW_MS + 1000);
	stream_mgr_stats(v.mgr, &ms);
	T_EQ(t, ms.route_resends, 1);
	T_EQ(t, ms.packets_resent, 2);	/* at 9 s and 20 s */
	T_EQ(t, ds->ns_out, ns0 + 1);	/* the resend at 20 s */
	T_EQ(t, ds->nsr_in, 2);		/* r answered the new session */
	while (mono - start < 82000) {
		mono = rr_run(&v, mono, start, mono - start + 1);
		tunnelnet_stats(v.e.tn, &st);
		if (!at2 && st.quiet_renewals > 1)
			at2 = mono - start;
	}
	/* r's NSR was a word back: the next renewal waits for a silence
	 * as long again (the resend at 38 s unanswered: at 58 s) */
	T_EQ(t, st.quiet_renewals, 2);
	T_TRUE(t, at2 >= at + TUNNELNET_RENEW_MS + 9000);
	T_EQ(t, ds->nsr_in, 3);
	stream_reset(v.s);
out:
	rr_free(&v);
}

const struct test_case client_tunnelnet_tests[] = {
	{ "quiet_renew", test_quiet_renew, TT_FORK },
	{ "quiet_refresh", test_quiet_refresh, TT_FORK },
	{ "route_renewed", test_route_renewed, TT_FORK },
	{ "idle_keeps_session", test_idle_keeps_session, TT_FORK },
	{ "garlic_in_by_tag", test_garlic_in_by_tag, TT_FORK },
	{ "oneway_ratchet", test_oneway_ratchet, TT_FORK },
	{ "store_garlic", test_store_garlic, 0 },
	{ "lookup_blinded", test_lookup_blinded, TT_FORK },
	{ "lookup_blinded_secret", test_lookup_blinded_secret, TT_FORK },
	{ "leaseset_build", test_leaseset_build, 0 },
	{ "dispatch", test_dispatch, 0 },
	{ "garlic_in", test_garlic_in, TT_FORK },
	{ "lookup_queue", test_lookup_queue, TT_FORK },
	{ "lookup_fails", test_lookup_fails, TT_FORK },
	{ "lookup_stale", test_lookup_stale, TT_FORK },
	{ "tunnel_opts", test_tunnel_opts, TT_FORK },
	{ "leaseset_first", test_leaseset_first, TT_FORK },
	{ "publish_retry", test_publish_retry, TT_FORK },
	{ "els_midnight", test_els_midnight, TT_FORK },
	{ NULL, NULL, 0 }
};
