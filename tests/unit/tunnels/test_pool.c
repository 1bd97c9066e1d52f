/*
 * tunnels/tunnel_pool, peer_select and profile: our own tunnels built
 * through simulated hops that are real transit tables (each with its own
 * keystore), in one process.  A message queue plays the network: the
 * creator's manager, the hops' tables and a sink router exchange I2NP
 * messages through it.  Covers building (short records, the zero-hop
 * reply before any inbound tunnel exists, garlic-wrapped OBEP replies),
 * accept / reject / timeout / tampered replies and what profiles
 * record, tunnel tests passing and failing (failed tunnels replaced),
 * rebuilding before expiry, sending out and receiving in, zero-hop
 * tunnels (alone and beside built ones), peer
 * selection rules and tiers, and profiles in SQLite.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "apps/bitsd_relaypay.h"
#include "tests/unit/tunnels/thops.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/time.h"
#include "crypto/ed25519.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"
#include "netdb/store.h"
#include "router/garlic_router.h"
#include "router/i2np.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "tunnels/build_record.h"
#include "tunnels/peer_select.h"
#include "tunnels/profile.h"
#include "tunnels/transit.h"
#include "tunnels/tunnel_pool.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NHOPS 5
#define MAXQ 4096
#define NETID 77

struct qmsg {
	uint8_t from[32], to[32];
	struct i2np_msg *m;
};

struct sim;

struct hop {
	struct sim *s;
	struct thop th;
	uint8_t hash[32];
	struct transit_table *tt;
	bool blackhole;			/* drops everything it gets */
	bool in_build;			/* inside its build handler */
	/* paid relaying: the tickets after the build it was sent (tunnel
	 * id it receives on, the ticket's first byte) */
	uint32_t topup_id[16];
	uint8_t topup_tk[16];
	size_t n_topups, topups_bad, topup_msgs;
	struct router_info *unknown;	/* its RI, not in the netDb yet */
};

struct sim {
	uint8_t self[32];		/* the creator */
	uint8_t sink[32];		/* a router that only receives */
	struct hop hops[NHOPS];
	struct netdb_store *store;
	struct peer_profiles *prof;
	struct tunnel_mgr *mgr;
	struct qmsg q[MAXQ];
	size_t qh, qt;
	uint8_t cur_from[32];		/* sender of the message handled */
	uint64_t now, mono;
	/* what reached the sink and the deliver hook */
	struct i2np_msg *sunk[16];
	uint8_t sunk_from[16][32];	/* the OBEP that sent it */
	size_t n_sunk;
	struct i2np_msg *delivered[16];
	size_t n_delivered;
	bool corrupt_inbound_reply;	/* flip a byte in the next one */
	size_t unclaimed;		/* messages to the creator it refused */
	size_t seen[32];		/* messages sent, by I2NP type */
	size_t direct_builds;		/* build messages the creator sent */
	/* A loaded creator: what comes to it waits here (hold_to_self)
	 * until release_held(). */
	bool hold_to_self;
	struct qmsg held[64];
	size_t n_held;
	/* Hops as i2pd 2.45.1: an OBEP's build reply to its own inbound
	 * gateway is lost (counted; one-hop inbound tunnels only). */
	bool lose_reply_to_self;
	size_t replies_lost;
	/* A router the creator cannot connect to: its sends fail. */
	const uint8_t *unreachable;
	size_t send_failures;
	unsigned flush_asked;		/* calls of the flush_soon hook */
};

/* Router version of hop 0 in the next sim_init() (NULL: 0.9.58). */
static const char *hop0_version;
/* How many hops the next sim_init() puts in the netDb (0: all). */
static unsigned hops_known;
/* The tunnel lifetime of the next sim_init() (0: the default). */
static uint64_t sim_lifetime_ms;
/* The next sim_init()'s manager packs a pass (the flush_soon hook). */
static bool sim_packing;

static void enqueue(struct sim *s, const uint8_t from[32],
		    const uint8_t to[32], struct i2np_msg *m)
{
	if (s->qt - s->qh == MAXQ) {
		i2np_msg_free(m);
		return;
	}
	if (m->type < ARRAY_LEN(s->seen))
		s->seen[m->type]++;
	if (memcmp(from, s->self, 32) == 0 &&
	    (m->type == I2NP_SHORT_TUNNEL_BUILD ||
	     m->type == I2NP_VARIABLE_TUNNEL_BUILD))
		s->direct_builds++;
	memcpy(s->q[s->qt % MAXQ].from, from, 32);
	memcpy(s->q[s->qt % MAXQ].to, to, 32);
	s->q[s->qt % MAXQ].m = m;
	s->qt++;
}

static int hop_send(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	struct hop *h = ctx;

	/* (our transit table hands a reply to its own gateway straight
	 * in: with one-hop inbound tunnels, that gateway's TunnelData to
	 * the creator while handling the build is the reply) */
	if (h->s->lose_reply_to_self && h->in_build &&
	    m->type == I2NP_TUNNEL_DATA && memcmp(peer, h->s->self, 32) == 0) {
		h->s->replies_lost++;
		i2np_msg_free(m);
		return 0;
	}
	enqueue(h->s, h->hash, peer, m);
	return 0;
}

static int mgr_send(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	struct sim *s = ctx;

	if (s->unreachable && memcmp(peer, s->unreachable, 32) == 0) {
		s->send_failures++;
		i2np_msg_free(m);
		return ERR_BAD_STATE;
	}
	enqueue(s, s->self, peer, m);
	return 0;
}

static void mgr_flush_soon(void *ctx)
{
	((struct sim *)ctx)->flush_asked++;
}

static void mgr_deliver(void *ctx, struct i2np_msg *m)
{
	struct sim *s = ctx;

	if (s->n_delivered < ARRAY_LEN(s->delivered))
		s->delivered[s->n_delivered++] = m;
	else
		i2np_msg_free(m);
}

static struct i2np_msg *hop_wrap(void *ctx, struct i2np_msg *m,
				 const uint8_t key[32], const uint8_t tag[8])
{
	(void)ctx;
	return garlic_wrap_tagged(m, key, tag);
}

/* Garlic to a hop's router: the tickets after the build it carries (a
 * Data message in a LOCAL clove) are recorded; anything else is bad. */
static void hop_garlic(struct hop *h, const struct i2np_msg *m)
{
	struct bbuf plain = BBUF_INIT;
	struct garlic_payload gp;
	struct tunnel_topup tu;
	const uint8_t *data, *body;
	size_t len, blen;
	uint8_t epk[32];

	if (i2np_blob_decode(m, &data, &len) != 0 ||
	    garlic_router_decrypt(h->th.ks, data, len, &plain, epk) != 0 ||
	    garlic_payload_parse(plain.data, plain.len, &gp) != 0 ||
	    !gp.has_datetime || gp.n_cloves != 1 ||
	    gp.cloves[0].delivery != GARLIC_DELIVERY_LOCAL ||
	    gp.cloves[0].type != I2NP_DATA) {
		h->topups_bad++;
		bbuf_free(&plain);
		return;
	}
	{
		struct i2np_msg *c = garlic_clove_msg(&gp.cloves[0]);

		if (i2np_blob_decode(c, &body, &blen) != 0 ||
		    tunnel_topup_decode(body, blen, &tu) != 0)
			h->topups_bad++;
		else {
			h->topup_msgs++;
			for (size_t i = 0; i < tu.n; i++) {
				if (tu.len[i] != 139 ||
				    h->n_topups == ARRAY_LEN(h->topup_id)) {
					h->topups_bad++;
					continue;
				}
				h->topup_id[h->n_topups] = tu.tunnel_id;
				h->topup_tk[h->n_topups++] = tu.tk[i][0];
			}
		}
		i2np_msg_free(c);
	}
	bbuf_free(&plain);
}

/* What a hop's OBEP delivers to its own router. */
static void hop_local(void *ctx, struct i2np_msg *m)
{
	if (m->type == I2NP_GARLIC)
		hop_garlic(ctx, m);
	i2np_msg_free(m);
}

static void to_hop(struct sim *s, struct hop *h, const uint8_t from[32],
		   struct i2np_msg *m)
{
	if (h->blackhole)
		goto out;
	switch (m->type) {
	case I2NP_SHORT_TUNNEL_BUILD:
	case I2NP_VARIABLE_TUNNEL_BUILD:
		h->in_build = true;
		(void)transit_table_handle_build(h->tt, m, from, s->now,
						 s->mono);
		h->in_build = false;
		break;
	case I2NP_TUNNEL_DATA:
		(void)transit_table_handle_data(h->tt, m, NULL, s->mono);
		break;
	case I2NP_TUNNEL_GATEWAY:
		(void)transit_table_handle_gateway(h->tt, m, s->mono);
		break;
	case I2NP_GARLIC:
		hop_garlic(h, m);
		break;
	default:
		break;
	}
out:
	i2np_msg_free(m);
}

/* Deliver queued messages until the network is quiet. */
static void pump(struct sim *s)
{
	/* (what waits in our outbound tunnels leaves after each message
	 * handled, as bitsd's loop flushes after each pass) */
	for (;;) {
		struct qmsg x;

		if (s->mgr)
			tunnel_mgr_flush(s->mgr);
		if (s->qh == s->qt)
			break;
		x = s->q[s->qh % MAXQ];
		s->qh++;
		if (memcmp(x.to, s->self, 32) == 0 && s->hold_to_self) {
			if (s->n_held < ARRAY_LEN(s->held))
				s->held[s->n_held++] = x;
			else
				i2np_msg_free(x.m);
			continue;
		}
		if (memcmp(x.to, s->self, 32) == 0) {
			if (s->corrupt_inbound_reply &&
			    x.m->type == I2NP_SHORT_TUNNEL_BUILD) {
				/* one byte in every record */
				for (size_t i = 0; i < x.m->payload[0]; i++)
					x.m->payload[1 + i * 218 + 100] ^= 1;
				s->corrupt_inbound_reply = false;
			}
			if (!tunnel_mgr_handle(s->mgr, x.from, x.m, s->now,
					       s->mono)) {
				s->unclaimed++;
				i2np_msg_free(x.m);
			}
			continue;
		}
		if (memcmp(x.to, s->sink, 32) == 0) {
			if (s->n_sunk < ARRAY_LEN(s->sunk)) {
				memcpy(s->sunk_from[s->n_sunk], x.from, 32);
				s->sunk[s->n_sunk++] = x.m;
			} else
				i2np_msg_free(x.m);
			continue;
		}
		for (unsigned i = 0; i < NHOPS; i++)
			if (memcmp(x.to, s->hops[i].hash, 32) == 0) {
				to_hop(s, &s->hops[i], x.from, x.m);
				x.m = NULL;
				break;
			}
		i2np_msg_free(x.m);
	}
}

/* A RouterInfo for identity (enc pk, a fixed signing key), with caps,
 * version and an NTCP2 address on host; hash gets its router hash. */
static struct router_info *make_ri(const struct x25519_pk *enc, uint8_t seed,
				   const char *caps, const char *version,
				   const char *host, uint8_t hash[32])
{
	struct keys_and_cert id;
	struct ed25519_pk sig;
	struct router_address a = ROUTER_ADDRESS_INIT;
	struct router_info *ri;
	uint8_t iv[16] = { seed };

	memset(sig.b, seed, 32);
	keys_and_cert_build(&id, enc, &sig, NULL);
	ri = router_info_new(&id);
	router_info_set_basic_options(ri, NETID, caps);
	if (version)
		router_info_set_option(ri, "router.version", version);
	if (router_address_ntcp2_build(&a, 3, enc, host, 12345, iv) != 0 ||
	    router_info_add_address(ri, &a) != 0)
		abort();
	router_address_clear(&a);
	memcpy(hash, router_info_hash(ri), 32);
	return ri;
}

static void sim_init(struct tctx *t, struct sim *s,
		     const struct tunnel_pool_cfg *pc)
{
	struct netdb_store_cfg sc = { .netid = NETID };
	struct tunnel_mgr_cfg mc;
	struct tunnel_mgr_hooks mh = { mgr_send, mgr_deliver, s,
				       sim_packing ? mgr_flush_soon : NULL };

	memset(s, 0, sizeof(*s));
	s->now = time_now_ms();
	s->mono = 1000000;
	/* Message expirations follow the simulated clock (TT_FORK). */
	time_set_override(s->now);
	time_set_mono_override(s->mono);
	memset(s->self, 0xc1, 32);
	memset(s->sink, 0x5a, 32);
	memcpy(sc.self, s->self, 32);
	s->store = netdb_store_new(&sc);
	s->prof = peer_profiles_new();
	for (unsigned i = 0; i < NHOPS; i++) {
		struct hop *h = &s->hops[i];
		struct transit_hooks th = { .send = hop_send,
					    .local = hop_local,
					    .wrap_reply = hop_wrap, .ctx = h };
		char host[32];

		h->s = s;
		thop_init(&h->th, (uint8_t)(i + 1));
		snprintf(host, sizeof(host), "10.%u.0.1", i + 1);
		struct router_info *ri = make_ri(&h->th.pk, (uint8_t)(i + 1),
			"XR", i == 0 && hop0_version ? hop0_version : "0.9.58",
			host, h->hash);

		if (hops_known && i >= hops_known)
			h->unknown = ri;
		else
			T_OK(t, netdb_store_add_ri_verified(s->store, ri,
							    s->now, 0, NULL));
		h->tt = transit_table_new(h->th.ks, h->hash, NULL, &th);
	}
	memset(&mc, 0, sizeof(mc));
	memcpy(mc.self, s->self, 32);
	mc.store = s->store;
	mc.profiles = s->prof;
	mc.exploratory = *pc;
	mc.lifetime_ms = sim_lifetime_ms;
	T_OK(t, tunnel_mgr_new(&mc, &mh, &s->mgr));
}

/* Hand the creator what it was not given while held; no more holding. */
static void release_held(struct sim *s)
{
	s->hold_to_self = false;
	for (size_t i = 0; i < s->n_held; i++)
		enqueue(s, s->held[i].from, s->held[i].to, s->held[i].m);
	s->n_held = 0;
	pump(s);
}

static void sim_free(struct sim *s)
{
	release_held(s);
	pump(s);	/* frees what is left (the mgr may still answer) */
	while (s->qh != s->qt)
		i2np_msg_free(s->q[s->qh++ % MAXQ].m);
	tunnel_mgr_free(s->mgr);
	for (unsigned i = 0; i < NHOPS; i++) {
		router_info_free(s->hops[i].unknown);
		transit_table_free(s->hops[i].tt);
		thop_free(&s->hops[i].th);
	}
	for (size_t i = 0; i < s->n_sunk; i++)
		i2np_msg_free(s->sunk[i]);
	for (size_t i = 0; i < s->n_delivered; i++)
		i2np_msg_free(s->delivered[i]);
	peer_profiles_free(s->prof);
	netdb_store_free(s->store);
}

/* Advance the clocks by ms, tick and let the network settle. */
static void step(struct sim *s, uint64_t ms)
{
	s->now += ms;
	s->mono += ms;
	time_set_override(s->now);
	time_set_mono_override(s->mono);
	tunnel_mgr_tick(s->mgr, s->now, s->mono);
	pump(s);
}

static void stats(struct sim *s, struct tunnel_pool_stats *st)
{
	tunnel_pool_stats(tunnel_mgr_exploratory(s->mgr), st);
}

static void small_pool(struct tunnel_pool_cfg *pc, unsigned len,
		       unsigned qty)
{
	tunnel_pool_cfg_default(pc);
	pc->in_length = pc->out_length = len;
	pc->in_quantity = pc->out_quantity = qty;
}

static bool is_hop(const struct sim *s, const uint8_t h[32])
{
	for (unsigned i = 0; i < NHOPS; i++)
		if (memcmp(h, s->hops[i].hash, 32) == 0)
			return true;
	return false;
}

/* Every established tunnel's hops are distinct simulated routers. */
static void check_hops(struct tctx *t, struct sim *s, bool inbound,
		       size_t count, unsigned len)
{
	struct tunnel_pool *p = tunnel_mgr_exploratory(s->mgr);

	for (size_t i = 0; i < count; i++) {
		uint8_t hops[8][32];
		unsigned n = 0;

		T_OK(t, tunnel_pool_hops(p, inbound, i, hops, &n));
		T_EQ(t, n, len);
		for (unsigned a = 0; a < n; a++) {
			T_TRUE(t, is_hop(s, hops[a]));
			for (unsigned b = a + 1; b < n; b++)
				T_TRUE(t, memcmp(hops[a], hops[b], 32) != 0);
		}
	}
	T_ERR(t, tunnel_pool_hops(p, inbound, count, NULL, NULL), ERR_NOT_FOUND);
}

static void test_build_and_test(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	size_t joined = 0;

	small_pool(&pc, 3, 2);
	sim_init(t, &s, &pc);
	/* First tick: inbound and outbound builds start together, so the
	 * outbound ones reply through the zero-hop tunnel (TunnelGateway to
	 * us, garlic-wrapped by the OBEP). */
	step(&s, 0);
	stats(&s, &st);
	T_EQ(t, st.builds_started, 4);
	T_EQ(t, st.in_ready, 2);
	T_EQ(t, st.out_ready, 2);
	T_EQ(t, st.builds_ok, 4);
	T_EQ(t, st.builds_rejected + st.builds_timeout + st.builds_bad, 0);
	T_EQ(t, s.unclaimed, 0);
	check_hops(t, &s, true, 2, 3);
	check_hops(t, &s, false, 2, 3);
	for (unsigned i = 0; i < NHOPS; i++)
		joined += transit_table_count(s.hops[i].tt);
	T_EQ(t, joined, 12);
	/* Every hop a tunnel used has a profile with accepted builds. */
	for (unsigned i = 0; i < NHOPS; i++) {
		const struct peer_profile *pr =
			peer_profiles_get(s.prof, s.hops[i].hash);
		if (transit_table_count(s.hops[i].tt)) {
			T_TRUE(t, pr && pr->build_ok ==
					transit_table_count(s.hops[i].tt));
		}
	}
	/* The next tick tests both pairs: both pass. */
	T_EQ(t, st.tests_sent, 0);
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.tests_sent, 2);
	T_EQ(t, st.tests_ok, 2);
	T_EQ(t, st.tests_failed, 0);
	/* Again after the interval, and nothing before it. */
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.tests_sent, 2);
	step(&s, TUNNEL_TEST_INTERVAL_MS);
	stats(&s, &st);
	T_EQ(t, st.tests_sent, 4);
	T_EQ(t, st.tests_ok, 4);
	T_EQ(t, st.builds_started, 4);
	sim_free(&s);
}

static void test_send_and_receive(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool *p;
	struct i2np_msg *m;
	uint8_t gw[32], body[40];
	uint32_t tid = 0;

	small_pool(&pc, 2, 1);
	sim_init(t, &s, &pc);
	p = tunnel_mgr_exploratory(s.mgr);
	T_ERR(t, tunnel_pool_send(p, s.sink, 0,
				  i2np_msg_new(I2NP_DATA, "x", 1, 5000), s.mono),
	      ERR_NOT_FOUND);
	T_ERR(t, tunnel_pool_reply_path(p, gw, &tid, s.mono), ERR_NOT_FOUND);
	step(&s, 0);
	/* Out to a router: the OBEP hands it to the sink. */
	memset(body, 0x42, sizeof(body));
	m = i2np_msg_new(I2NP_DATA, body, sizeof(body), 5000);
	m->msg_id = 777;
	T_OK(t, tunnel_pool_send(p, s.sink, 0, m, s.mono));
	pump(&s);
	T_EQ(t, s.n_sunk, 1);
	if (s.n_sunk == 1) {
		T_EQ(t, s.sunk[0]->type, I2NP_DATA);
		T_EQ(t, s.sunk[0]->msg_id, 777);
		T_EQ(t, s.sunk[0]->len, sizeof(body));
	}
	/* Out to our own inbound tunnel: back in through the deliver hook. */
	T_OK(t, tunnel_pool_reply_path(p, gw, &tid, s.mono));
	T_TRUE(t, is_hop(&s, gw));
	m = i2np_msg_new(I2NP_DATA, body, sizeof(body), 5000);
	m->msg_id = 778;
	T_OK(t, tunnel_pool_send(p, gw, tid, m, s.mono));
	pump(&s);
	T_EQ(t, s.n_delivered, 1);
	if (s.n_delivered == 1) {
		T_EQ(t, s.delivered[0]->msg_id, 778);
		T_MEMEQ(t, s.delivered[0]->payload, body, sizeof(body));
	}
	sim_free(&s);
}

/* TunnelData messages waiting in the queue that the creator sent. */
static size_t queued_td_from_self(const struct sim *s)
{
	size_t n = 0;

	for (size_t i = s->qh; i != s->qt; i++)
		if (memcmp(s->q[i % MAXQ].from, s->self, 32) == 0 &&
		    s->q[i % MAXQ].m->type == I2NP_TUNNEL_DATA)
			n++;
	return n;
}

/*
 * With the flush_soon hook, what is sent into an outbound tunnel in one
 * loop pass shares its tunnel messages: six 100-byte Data messages to a
 * router leave as one TunnelData at tunnel_mgr_flush() (six without the
 * hook, as every one did before), and reach it whole and in order.
 */
static void test_send_packs_a_pass(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool *p;
	struct tunnel_pool_stats st;
	uint8_t body[100];

	for (int packing = 0; packing < 2; packing++) {
		sim_packing = packing;
		small_pool(&pc, 2, 1);
		sim_init(t, &s, &pc);
		p = tunnel_mgr_exploratory(s.mgr);
		step(&s, 0);
		stats(&s, &st);
		T_EQ(t, st.out_ready, 1);
		s.flush_asked = 0;
		for (unsigned i = 0; i < 6; i++) {
			struct i2np_msg *m;
			memset(body, (int)i, sizeof(body));
			m = i2np_msg_new(I2NP_DATA, body, sizeof(body), 5000);
			m->msg_id = 900 + i;
			T_OK(t, tunnel_pool_send(p, s.sink, 0, m, s.mono));
		}
		if (packing) {
			T_EQ(t, queued_td_from_self(&s), 0);
			T_EQ(t, s.flush_asked, 1);
			tunnel_mgr_flush(s.mgr);
		}
		T_EQ(t, queued_td_from_self(&s), packing ? 1 : 6);
		pump(&s);
		T_EQ(t, s.n_sunk, 6);
		for (size_t i = 0; i < s.n_sunk && i < 6; i++) {
			T_EQ(t, s.sunk[i]->msg_id, 900 + i);
			T_EQ(t, s.sunk[i]->len, sizeof(body));
			T_EQ(t, s.sunk[i]->payload[0], i);
		}
		if (packing) {
			/* A client pool removed with a message waiting in
			 * its tunnel: sent first (freed unsent, ASan) */
			struct tunnel_pool_cfg cc;
			struct tunnel_pool *client;
			small_pool(&cc, 2, 1);
			cc.kind = PEER_SELECT_CLIENT;
			T_OK(t, tunnel_mgr_add_pool(s.mgr, &cc, &client));
			step(&s, 1000);
			T_OK(t, tunnel_pool_send(client, s.sink, 0,
				i2np_msg_new(I2NP_DATA, body, 10, 5000),
				s.mono));
			T_EQ(t, queued_td_from_self(&s), 0);
			tunnel_pool_remove(client);
			T_EQ(t, queued_td_from_self(&s), 1);
			pump(&s);
			T_EQ(t, s.n_sunk, 7);
		}
		sim_free(&s);
	}
	sim_packing = false;
}

static void test_reject(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	struct transit_limits lim;
	const struct peer_profile *pr;

	/* 4 of the 5 hops in each tunnel, so hop 0 is in most first tries;
	 * the peer choice is random, so fix the stream (TT_FORK). */
	rand_set_deterministic(6);
	small_pool(&pc, 4, 2);
	sim_init(t, &s, &pc);
	/* Hop 0 refuses every transit tunnel (reply 30). */
	transit_limits_default(&lim);
	lim.max_tunnels = 0;
	transit_table_set_limits(s.hops[0].tt, &lim);
	for (unsigned i = 0; i < 20; i++)
		step(&s, TUNNEL_POOL_RETRY_MS);
	stats(&s, &st);
	T_TRUE(t, st.builds_rejected > 0);
	T_EQ(t, st.in_ready, 2);
	T_EQ(t, st.out_ready, 2);
	pr = peer_profiles_get(s.prof, s.hops[0].hash);
	T_TRUE(t, pr && pr->build_reject >= 2 && pr->build_ok == 0);
	/* It is failing now, so it is not chosen any more. */
	T_TRUE(t, peer_profile_is_failing(pr, s.now));
	T_EQ(t, transit_table_count(s.hops[0].tt), 0);
	/* The hops that accepted in a declined build were counted too. */
	for (unsigned i = 1; i < NHOPS; i++) {
		pr = peer_profiles_get(s.prof, s.hops[i].hash);
		if (pr)
			T_TRUE(t, pr->build_reject == 0);
	}
	sim_free(&s);
}

static void test_timeout(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	const struct peer_profile *pr;

	small_pool(&pc, 5, 1);		/* every tunnel uses every hop */
	sim_init(t, &s, &pc);
	s.hops[2].blackhole = true;
	step(&s, 0);
	stats(&s, &st);
	T_EQ(t, st.in_building, 1);
	T_EQ(t, st.out_building, 1);
	step(&s, TUNNEL_BUILD_TIMEOUT_MS - 1);
	stats(&s, &st);
	T_EQ(t, st.builds_timeout, 0);
	step(&s, 1);
	stats(&s, &st);
	T_EQ(t, st.builds_timeout, 2);
	T_EQ(t, st.in_ready + st.out_ready, 0);
	pr = peer_profiles_get(s.prof, s.hops[2].hash);
	T_TRUE(t, pr && pr->build_timeout == 2);
	sim_free(&s);
}

static size_t n_failing(struct sim *s)
{
	size_t k = 0;

	for (unsigned i = 0; i < NHOPS; i++)
		k += peer_profile_is_failing(
			peer_profiles_get(s->prof, s->hops[i].hash), s->now);
	return k;
}

/*
 * A loaded creator: no build reply reaches it in time, so every hop of
 * every build is blamed with a timeout until all peers are failing.  The
 * pool goes on building through the least bad of them rather than
 * stalling, and fills again once replies come through.
 */
static void test_load_fallback(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	uint64_t started;
	unsigned rounds = 0;

	rand_set_deterministic(11);
	small_pool(&pc, 2, 2);
	sim_init(t, &s, &pc);
	s.hold_to_self = true;
	step(&s, 0);
	while (n_failing(&s) < NHOPS && rounds++ < 50) {
		step(&s, TUNNEL_BUILD_TIMEOUT_MS);
		/* drop what came late: these builds are lost */
		for (size_t i = 0; i < s.n_held; i++)
			i2np_msg_free(s.held[i].m);
		s.n_held = 0;
	}
	T_EQ(t, n_failing(&s), NHOPS);
	stats(&s, &st);
	T_TRUE(t, st.builds_timeout >= 8);
	/* Every peer failing: builds still start, every round. */
	started = st.builds_started;
	step(&s, TUNNEL_BUILD_TIMEOUT_MS);
	stats(&s, &st);
	T_EQ(t, st.builds_started, started + 4);
	T_EQ(t, st.in_building + st.out_building, 4);
	/* The load is gone: replies come in time, the pool fills. */
	release_held(&s);
	for (unsigned i = 0; i < 10 && (st.in_ready < 2 || st.out_ready < 2);
	     i++) {
		step(&s, TUNNEL_BUILD_TIMEOUT_MS);
		stats(&s, &st);
	}
	T_EQ(t, st.in_ready, 2);
	T_EQ(t, st.out_ready, 2);
	sim_free(&s);
}

/*
 * A reply after the timeout: the build was replaced, but the reply takes
 * the timeout back from each hop, records its (long) reply time, and the
 * tunnel is used.
 */
static void test_late_reply(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	const struct peer_profile *pr;

	small_pool(&pc, 5, 1);		/* every tunnel uses every hop */
	sim_init(t, &s, &pc);
	s.hold_to_self = true;
	step(&s, 0);
	step(&s, TUNNEL_BUILD_TIMEOUT_MS);
	stats(&s, &st);
	T_EQ(t, st.builds_timeout, 2);
	T_EQ(t, st.in_ready + st.out_ready, 0);
	/* replaced: two new builds under way */
	T_EQ(t, st.in_building + st.out_building, 2);
	for (unsigned i = 0; i < NHOPS; i++) {
		pr = peer_profiles_get(s.prof, s.hops[i].hash);
		T_TRUE(t, pr && pr->build_timeout == 2 && pr->build_ok == 0);
	}
	/* The two first replies were held: they come now, 5 s late.  (The
	 * replacements' replies come as well.) */
	s.now += 5000;
	s.mono += 5000;
	time_set_override(s.now);
	time_set_mono_override(s.mono);
	release_held(&s);
	stats(&s, &st);
	T_EQ(t, st.builds_late, 2);
	T_TRUE(t, st.in_ready >= 1 && st.out_ready >= 1);
	for (unsigned i = 0; i < NHOPS; i++) {
		pr = peer_profiles_get(s.prof, s.hops[i].hash);
		T_TRUE(t, pr != NULL);
		if (!pr)
			continue;
		T_EQ(t, pr->build_timeout, 0);
		T_EQ(t, pr->build_ok, 4);
		T_FALSE(t, peer_profile_is_failing(pr, s.now));
		/* the average of 25 s (twice) and 5 s (twice) */
		T_TRUE(t, pr->build_ms > 5000 &&
			  pr->build_ms < TUNNEL_BUILD_TIMEOUT_MS + 5000);
	}
	/* A late build is dropped after TUNNEL_BUILD_LATE_MS: its reply
	 * is not anybody's any more. */
	s.hold_to_self = true;
	s.hops[0].blackhole = true;
	step(&s, TUNNEL_LIFETIME_MS);	/* all expire; new builds die at hop 0 */
	step(&s, TUNNEL_BUILD_TIMEOUT_MS);
	step(&s, TUNNEL_BUILD_LATE_MS);
	stats(&s, &st);
	T_EQ(t, st.builds_late, 2);
	sim_free(&s);
}

/* Variance: each tunnel gets 0..variance hops more than the length, at
 * random; with backups, the pool keeps quantity + backup tunnels. */
static void test_variance(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	bool seen[TUNNEL_BUILD_MAX_HOPS + 1] = { false };
	unsigned kinds = 0;

	rand_set_deterministic(5);
	small_pool(&pc, 1, 2);
	pc.in_variance = pc.out_variance = 3;
	pc.out_backup = 1;
	sim_init(t, &s, &pc);
	for (unsigned gen = 0; gen < 6; gen++) {
		step(&s, 0);
		step(&s, 1000);
		stats(&s, &st);
		T_TRUE(t, st.in_ready >= 2);
		T_TRUE(t, st.out_ready + st.out_standby >= 3);
		for (int in = 0; in < 2; in++) {
			size_t n = in ? st.in_ready : st.out_ready;

			for (size_t i = 0; i < n; i++) {
				uint8_t hops[8][32];
				unsigned len = 0;

				T_OK(t, tunnel_pool_hops(tunnel_mgr_exploratory(
						 s.mgr), in, i, hops, &len));
				T_TRUE(t, len >= 1 && len <= 4);
				if (len <= TUNNEL_BUILD_MAX_HOPS)
					seen[len] = true;
			}
		}
		step(&s, TUNNEL_LIFETIME_MS);	/* the next generation */
	}
	for (unsigned i = 0; i <= TUNNEL_BUILD_MAX_HOPS; i++)
		kinds += seen[i];
	T_TRUE(t, kinds >= 3);
	sim_free(&s);
}

static void test_tampered_reply(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;

	small_pool(&pc, 2, 1);
	sim_init(t, &s, &pc);
	s.corrupt_inbound_reply = true;
	step(&s, 0);
	stats(&s, &st);
	T_EQ(t, st.builds_bad, 1);
	T_EQ(t, st.in_ready, 0);
	T_EQ(t, st.out_ready, 1);
	T_EQ(t, s.direct_builds, 2);
	/* Replaced after the back-off; now that an outbound tunnel exists,
	 * the inbound build goes to its gateway through it. */
	step(&s, TUNNEL_POOL_RETRY_MS);
	stats(&s, &st);
	T_EQ(t, st.in_ready, 1);
	T_EQ(t, st.builds_started, 3);
	T_EQ(t, s.direct_builds, 2);
	sim_free(&s);
}

static void test_test_failure_replaces(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	uint64_t started;

	small_pool(&pc, 5, 1);
	sim_init(t, &s, &pc);
	step(&s, 0);
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.tests_ok, 1);
	started = st.builds_started;
	/* Hop 3 goes silent: the next two tests fail, then both tunnels go
	 * and replacements are built (which time out, hop 3 being in every
	 * 5-hop tunnel). */
	s.hops[3].blackhole = true;
	step(&s, TUNNEL_TEST_INTERVAL_MS);
	step(&s, TUNNEL_TEST_TIMEOUT_MS);
	stats(&s, &st);
	T_EQ(t, st.tests_failed, 1);
	T_EQ(t, st.failed, 0);
	T_TRUE(t, st.builds_started > started);	/* a test-failed tunnel is
						 * no longer counted */
	step(&s, 0);
	step(&s, TUNNEL_TEST_TIMEOUT_MS);
	step(&s, 0);
	stats(&s, &st);
	T_EQ(t, st.tests_failed, 2);
	T_EQ(t, st.failed, 2);
	T_EQ(t, st.in_ready + st.out_ready, 0);
	T_TRUE(t, peer_profiles_get(s.prof, s.hops[3].hash)->test_fail >= 2);
	sim_free(&s);
}

/* A pool of one 5-hop tunnel each way over the sim's five hops, built. */
static void five_hop_pair(struct tctx *t, struct sim *s,
			  struct tunnel_pool_cfg *pc)
{
	small_pool(pc, 5, 1);
	sim_init(t, s, pc);
	step(s, 0);
	step(s, 1000);
}

/* A router a connection failed to (a killed one) is a hop of both
 * tunnels: they are replaced and tested at once, and one failed test
 * drops them, 15 s after the failed connection rather than 30-45. */
static void test_unreachable_hop_retests(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	uint64_t started, sent;

	five_hop_pair(t, &s, &pc);
	stats(&s, &st);
	T_EQ(t, st.tests_ok, 1);
	started = st.builds_started;
	sent = st.tests_sent;
	s.hops[3].blackhole = true;
	tunnel_mgr_peer_unreachable(s.mgr, s.hops[3].hash, s.now);
	step(&s, 1000);		/* long before the next test was due */
	stats(&s, &st);
	T_EQ(t, st.tests_sent, sent + 1);
	T_TRUE(t, st.builds_started > started);	/* replacements at once */
	T_EQ(t, st.failed, 0);
	step(&s, TUNNEL_TEST_TIMEOUT_MS);
	step(&s, 0);
	stats(&s, &st);
	T_EQ(t, st.tests_failed, 1);
	T_EQ(t, st.failed, 2);		/* both, at their first failed test */
	sim_free(&s);

	/* A router we could not reach that still answers: the test passes
	 * and its tunnels are back in use beside their replacements, none
	 * dropped. */
	five_hop_pair(t, &s, &pc);
	tunnel_mgr_peer_unreachable(s.mgr, s.hops[3].hash, s.now);
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.tests_ok, 2);
	T_EQ(t, st.failed, 0);
	T_EQ(t, st.in_ready, 2);
	T_EQ(t, st.out_ready, 2);
	sim_free(&s);
}

static void test_rebuild_before_expiry(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;

	small_pool(&pc, 2, 1);
	sim_init(t, &s, &pc);
	step(&s, 0);
	for (uint64_t ms = 0; ms < TUNNEL_LIFETIME_MS - TUNNEL_REBUILD_BEFORE_MS -
				   TUNNEL_TEST_INTERVAL_MS;
	     ms += TUNNEL_TEST_INTERVAL_MS)
		step(&s, TUNNEL_TEST_INTERVAL_MS);
	stats(&s, &st);
	T_EQ(t, st.builds_started, 2);
	/* At ~9 minutes the replacements are built, the old ones still up. */
	step(&s, TUNNEL_TEST_INTERVAL_MS);
	stats(&s, &st);
	T_EQ(t, st.builds_started, 4);
	T_EQ(t, st.in_ready, 2);
	T_EQ(t, st.out_ready, 2);
	T_EQ(t, st.expired, 0);
	step(&s, TUNNEL_REBUILD_BEFORE_MS);
	stats(&s, &st);
	T_EQ(t, st.expired, 2);
	T_EQ(t, st.in_ready, 1);
	T_EQ(t, st.out_ready, 1);
	T_EQ(t, st.tests_failed, 0);
	sim_free(&s);
}

/* A lifetime no longer than TUNNEL_REBUILD_BEFORE_MS (tunnels.lifetime
 * 60): replacements are built at half the lifetime, not the moment a
 * tunnel is up (that rebuilt without pause, ~95 builds a minute). */
static void test_rebuild_short_lifetime(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;

	small_pool(&pc, 2, 1);
	sim_lifetime_ms = 60000;
	sim_init(t, &s, &pc);
	step(&s, 0);
	for (int i = 0; i < 25; i++)
		step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.in_ready, 1);
	T_EQ(t, st.out_ready, 1);
	T_EQ(t, st.builds_started, 2);
	for (int i = 0; i < 10; i++)
		step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.builds_started, 4);
	T_EQ(t, st.expired, 0);
	for (int i = 0; i < 30; i++)
		step(&s, 1000);
	/* The first ones expired; the second, due at half their life too,
	 * have their replacements: one generation every 30 s. */
	stats(&s, &st);
	T_EQ(t, st.expired, 2);
	T_EQ(t, st.builds_started, 6);
	sim_free(&s);
}

/* Two routers, one-hop tunnels, hops that lose a build reply sent to
 * their own inbound gateway (i2pd 2.45.1): an outbound build's reply
 * tunnel never has its OBEP as gateway (a zero-hop reply when every
 * inbound tunnel goes through it), so through five generations of
 * tunnels no build times out.  Choosing reply tunnels at random, each
 * outbound build after the first ones had a one in two chance of it. */
static void test_reply_not_via_obep(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;

	small_pool(&pc, 1, 2);
	hops_known = 2;
	sim_init(t, &s, &pc);
	hops_known = 0;
	s.lose_reply_to_self = true;
	step(&s, 0);
	for (uint64_t ms = 0; ms < 5 * TUNNEL_LIFETIME_MS;
	     ms += TUNNEL_TEST_INTERVAL_MS)
		step(&s, TUNNEL_TEST_INTERVAL_MS);
	stats(&s, &st);
	T_TRUE(t, st.builds_started >= 20);
	T_EQ(t, s.replies_lost, 0);
	T_EQ(t, st.builds_timeout, 0);
	T_EQ(t, st.builds_ok, st.builds_started);
	T_EQ(t, st.out_ready >= 2, true);
	T_EQ(t, st.in_ready >= 2, true);
	sim_free(&s);
}

/* A hop older than 0.9.51 in every tunnel: long records, and the
 * tunnels work the same. */
static void test_long_records(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;

	small_pool(&pc, 5, 1);
	hop0_version = "0.9.50";
	sim_init(t, &s, &pc);
	hop0_version = NULL;
	step(&s, 0);
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.in_ready, 1);
	T_EQ(t, st.out_ready, 1);
	T_EQ(t, st.tests_ok, 1);
	/* (the OBEP's reply, 24, rides inside TunnelGateway to us) */
	T_TRUE(t, s.seen[I2NP_VARIABLE_TUNNEL_BUILD] > 0);
	T_EQ(t, s.seen[I2NP_SHORT_TUNNEL_BUILD], 0);
	sim_free(&s);
}

/* A client pool next to the exploratory one: its own tunnels, built
 * from the client tiers, gone with the pool. */
static size_t give_ticket(void *ctx, const uint8_t hop[32], bool inbound,
			  unsigned pool, uint32_t *tag, uint64_t *bytes,
			  uint8_t *out, size_t outmax);
static unsigned pools_seen;	/* give_ticket(): bit i: pool i asked */

static void test_client_pool(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc, cc;
	struct tunnel_pool_stats st, all;
	struct tunnel_pool *client;
	uint64_t tickets;

	small_pool(&pc, 1, 1);
	sim_init(t, &s, &pc);
	tunnel_mgr_set_ticket_fn(s.mgr, give_ticket, NULL);
	pools_seen = 0;
	small_pool(&cc, 2, 2);
	cc.kind = PEER_SELECT_CLIENT;
	cc.in_backup = 1;
	T_OK(t, tunnel_mgr_add_pool(s.mgr, &cc, &client));
	cc.in_length = 8;
	T_ERR(t, tunnel_mgr_add_pool(s.mgr, &cc, &client), ERR_RANGE);
	step(&s, 0);
	step(&s, 1000);
	tunnel_pool_stats(client, &st);
	T_EQ(t, st.in_ready, 2);	/* quantity 2 */
	T_EQ(t, st.in_standby, 1);	/* + 1 backup */
	T_EQ(t, st.out_ready, 2);
	T_EQ(t, st.tests_ok, 2);
	tunnel_mgr_stats(s.mgr, &all);
	T_EQ(t, all.in_ready, 3);
	T_EQ(t, all.in_standby, 1);
	T_EQ(t, all.out_ready, 3);
	tunnel_pool_stats(client, &st);
	T_TRUE(t, st.tickets_sent >= 10);	/* 5 tunnels of 2 hops */
	/* the ticket function told the pools apart: 0 exploratory, 1 */
	T_EQ(t, pools_seen, 3);
	tickets = all.tickets_sent;
	tunnel_pool_remove(client);
	tunnel_mgr_stats(s.mgr, &all);
	T_EQ(t, all.in_ready, 1);
	T_EQ(t, all.out_ready, 1);
	/* the tickets a removed pool sent still count */
	T_EQ(t, all.tickets_sent, tickets);
	/* a pool added later gets a number not used before */
	small_pool(&cc, 2, 1);
	cc.kind = PEER_SELECT_CLIENT;
	T_OK(t, tunnel_mgr_add_pool(s.mgr, &cc, &client));
	pools_seen = 0;
	step(&s, 2000);
	T_TRUE(t, pools_seen & 4);
	T_FALSE(t, pools_seen & 2);
	tunnel_pool_remove(client);
	tunnel_pool_remove(tunnel_mgr_exploratory(s.mgr));	/* refused */
	stats(&s, &st);
	T_EQ(t, st.in_ready, 1);
	sim_free(&s);
}

/* bitsd's payer choosing pot keys as in apps/bitsd_relaypay.c: with
 * pick_fresh, the fresh pots' slots (2 a turn, slots for 3 turns), else
 * 3 keys in turn; the keys each pool's tickets named (bit k: key k). */
static bool pick_fresh;
static uint64_t pick_turn;
static uint32_t pick_usable;
static unsigned keys_of_pool[4];

static size_t pick_ticket(void *ctx, const uint8_t hop[32], bool inbound,
			  unsigned pool, uint32_t *tag, uint64_t *bytes,
			  uint8_t *out, size_t outmax)
{
	size_t k;

	(void)ctx;
	(void)hop;
	(void)inbound;
	(void)bytes;
	if (!*tag) {		/* a tunnel's first ticket: the pot now */
		k = pick_fresh ? bitsd_relaypay_fresh_slot(pick_turn, pool,
							   2, 3)
			       : bitsd_relaypay_key_pick(pick_turn, pool, 3,
							 pick_usable);
		if (k == SIZE_MAX)
			return 0;
		*tag = (uint32_t)k + 1;
	}
	if (pool < ARRAY_LEN(keys_of_pool))
		keys_of_pool[pool] |= 1u << (*tag - 1);
	if (outmax < 139)
		return 0;
	memset(out, 0x77, 139);
	return 139;
}

/* Two pools at once (the exploratory one and a client pool, numbered by
 * the tunnel manager) name different pots, with keys in turn and with
 * fresh pots; the next turn moves each to another. */
static void test_pay_keys(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc, cc;
	struct tunnel_pool *client;

	/* the choice alone: pools 0-2 of 3 keys all differ, each turn */
	for (uint64_t turn = 0; turn < 6; turn++) {
		size_t a = bitsd_relaypay_key_pick(turn, 0, 3, 7);
		size_t b = bitsd_relaypay_key_pick(turn, 1, 3, 7);
		size_t c = bitsd_relaypay_key_pick(turn, 2, 3, 7);

		T_TRUE(t, a != b && b != c && a != c);
		T_EQ(t, bitsd_relaypay_key_pick(turn + 1, 0, 3, 7), b);
		T_TRUE(t, bitsd_relaypay_fresh_slot(turn, 0, 2, 3) !=
			  bitsd_relaypay_fresh_slot(turn, 1, 2, 3));
		/* a turn's slots are not the next two turns' */
		for (unsigned d = 1; d < 3; d++)
			T_TRUE(t, bitsd_relaypay_fresh_slot(turn, 1, 2, 3) / 2 !=
				  bitsd_relaypay_fresh_slot(turn + d, 1, 2, 3) / 2);
	}
	/* key 1 not funded: pool 1 takes the next funded one */
	T_EQ(t, bitsd_relaypay_key_pick(0, 1, 3, 5), 2);
	T_EQ(t, bitsd_relaypay_key_pick(0, 1, 3, 0), SIZE_MAX);

	for (int fresh = 0; fresh < 2; fresh++) {
		pick_fresh = fresh;
		pick_turn = 7;
		pick_usable = 7;
		memset(keys_of_pool, 0, sizeof(keys_of_pool));
		small_pool(&pc, 1, 1);
		sim_init(t, &s, &pc);
		tunnel_mgr_set_ticket_fn(s.mgr, pick_ticket, NULL);
		small_pool(&cc, 2, 2);
		cc.kind = PEER_SELECT_CLIENT;
		T_OK(t, tunnel_mgr_add_pool(s.mgr, &cc, &client));
		step(&s, 0);
		step(&s, 1000);
		/* each pool's tunnels named one pot, not the other's */
		T_TRUE(t, keys_of_pool[0] && keys_of_pool[1]);
		T_EQ(t, keys_of_pool[0] & (keys_of_pool[0] - 1), 0);
		T_EQ(t, keys_of_pool[1] & (keys_of_pool[1] - 1), 0);
		T_TRUE(t, keys_of_pool[0] != keys_of_pool[1]);
		sim_free(&s);
	}
}

/* ---- zero-hop tunnels ---- */

/* A message from hop 0 to us: a TunnelGateway for tunnel id holding an
 * I2NP Data message of id msg_id. */
static void gateway_to_us(struct sim *s, uint32_t id, uint32_t msg_id)
{
	struct i2np_msg *inner = i2np_msg_new(I2NP_DATA, "zz", 2, 5000);
	struct bbuf b = BBUF_INIT;

	inner->msg_id = msg_id;
	i2np_tunnel_gateway_encode(id, inner, &b);
	i2np_msg_free(inner);
	enqueue(s, s->hops[0].hash, s->self,
		i2np_msg_new(I2NP_TUNNEL_GATEWAY, b.data, b.len, 5000));
	bbuf_free(&b);
}

/* Length 0 both ways: no builds, the leases name us, tests pass inside
 * the router, traffic leaves directly, TunnelGateway to our lease's id
 * is delivered, and the tunnels are replaced at expiry. */
static void test_zero_hop(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	struct tunnel_pool *p;
	struct i2np_tunnel_gateway g;
	struct i2np_msg *m;
	uint8_t gw[32];
	uint32_t tid = 0, tid2 = 0;
	uint64_t exp = 0;
	size_t joined = 0;

	small_pool(&pc, 0, 2);
	T_OK(t, tunnel_pool_cfg_check(&pc));
	sim_init(t, &s, &pc);
	p = tunnel_mgr_exploratory(s.mgr);
	step(&s, 0);
	stats(&s, &st);
	T_EQ(t, st.in_ready, 2);
	T_EQ(t, st.out_ready, 2);
	T_EQ(t, st.in_building + st.out_building, 0);
	T_EQ(t, s.seen[I2NP_SHORT_TUNNEL_BUILD] +
			s.seen[I2NP_VARIABLE_TUNNEL_BUILD], 0);
	for (unsigned i = 0; i < NHOPS; i++)
		joined += transit_table_count(s.hops[i].tt);
	T_EQ(t, joined, 0);
	check_hops(t, &s, true, 2, 0);
	/* The lease: us, an id of ours. */
	T_OK(t, tunnel_pool_lease(p, 0, gw, &tid, &exp));
	T_MEMEQ(t, gw, s.self, 32);
	T_NE(t, tid, 0);
	T_TRUE(t, tunnel_mgr_id_in_use(s.mgr, tid));
	T_EQ(t, exp, s.mono + TUNNEL_LIFETIME_MS);
	T_OK(t, tunnel_pool_lease(p, 1, gw, &tid2, &exp));
	T_NE(t, tid, tid2);
	T_ERR(t, tunnel_pool_lease(p, 2, gw, &tid2, &exp), ERR_NOT_FOUND);
	/* Tests: out of a zero-hop outbound tunnel into a zero-hop inbound
	 * one, TunnelGateway messages from us to us (and no hop). */
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.tests_sent, 2);
	T_EQ(t, st.tests_ok, 2);
	T_EQ(t, s.seen[I2NP_TUNNEL_GATEWAY], 2);
	T_EQ(t, s.seen[I2NP_TUNNEL_DATA], 0);
	T_EQ(t, s.unclaimed, 0);
	/* Out to a router: straight to it. */
	m = i2np_msg_new(I2NP_DATA, "abc", 3, 5000);
	m->msg_id = 901;
	T_OK(t, tunnel_pool_send(p, s.sink, 0, m, s.mono));
	/* Out to a tunnel: a TunnelGateway to its gateway. */
	m = i2np_msg_new(I2NP_DATA, "abcd", 4, 5000);
	m->msg_id = 902;
	T_OK(t, tunnel_pool_send(p, s.sink, 4242, m, s.mono));
	pump(&s);
	T_EQ(t, s.n_sunk, 2);
	if (s.n_sunk == 2) {
		struct breader r;
		struct i2np_msg *inner = NULL;

		T_EQ(t, s.sunk[0]->type, I2NP_DATA);
		T_EQ(t, s.sunk[0]->msg_id, 901);
		T_EQ(t, s.sunk[1]->type, I2NP_TUNNEL_GATEWAY);
		T_OK(t, i2np_tunnel_gateway_decode(s.sunk[1], &g));
		T_EQ(t, g.tunnel_id, 4242);
		br_init(&r, g.data, g.len);
		T_OK(t, i2np_msg_decode(&r, &inner));
		T_TRUE(t, inner && inner->msg_id == 902 && inner->len == 4);
		i2np_msg_free(inner);
	}
	/* In: a TunnelGateway to our lease's id reaches the deliver hook;
	 * to another id, or as TunnelData, it is not ours. */
	gateway_to_us(&s, tid, 903);
	gateway_to_us(&s, tid ^ 1, 904);
	pump(&s);
	T_EQ(t, s.n_delivered, 1);
	if (s.n_delivered == 1)
		T_EQ(t, s.delivered[0]->msg_id, 903);
	T_EQ(t, s.unclaimed, 1);
	{
		uint8_t td[4 + 1024];

		memset(td, 0, sizeof(td));
		be32_put(td, tid);
		enqueue(&s, s.hops[0].hash, s.self,
			i2np_msg_new(I2NP_TUNNEL_DATA, td, sizeof(td), 5000));
		pump(&s);
		T_EQ(t, s.unclaimed, 2);
	}
	/* Sent to our own lease: through the send hook (never into the
	 * deliver hook from inside the send), then in. */
	m = i2np_msg_new(I2NP_DATA, "x", 1, 5000);
	m->msg_id = 905;
	T_OK(t, tunnel_pool_send(p, s.self, tid2, m, s.mono));
	T_EQ(t, s.n_delivered, 1);
	pump(&s);
	T_EQ(t, s.n_delivered, 2);
	if (s.n_delivered == 2)
		T_EQ(t, s.delivered[1]->msg_id, 905);
	/* Replaced before expiry, gone after. */
	step(&s, TUNNEL_LIFETIME_MS - TUNNEL_REBUILD_BEFORE_MS);
	stats(&s, &st);
	T_EQ(t, st.builds_started, 8);
	step(&s, TUNNEL_REBUILD_BEFORE_MS);
	stats(&s, &st);
	T_EQ(t, st.expired, 4);
	T_EQ(t, st.in_ready, 2);
	T_EQ(t, st.out_ready, 2);
	T_FALSE(t, tunnel_mgr_id_in_use(s.mgr, tid));
	gateway_to_us(&s, tid, 906);
	pump(&s);
	T_EQ(t, s.n_delivered, 2);
	T_EQ(t, s.unclaimed, 3);
	sim_free(&s);
}

/* Zero hops one way, three the other: builds and tests work across. */
static void test_zero_hop_mixed(struct tctx *t)
{
	for (unsigned zero_in = 0; zero_in < 2; zero_in++) {
		struct sim s;
		struct tunnel_pool_cfg pc;
		struct tunnel_pool_stats st;
		struct tunnel_pool *p;
		struct i2np_msg *m;
		uint8_t gw[32];
		uint32_t tid = 0;

		small_pool(&pc, 3, 1);
		if (zero_in)
			pc.in_length = 0;
		else
			pc.out_length = 0;
		sim_init(t, &s, &pc);
		p = tunnel_mgr_exploratory(s.mgr);
		step(&s, 0);
		stats(&s, &st);
		T_EQ(t, st.in_ready, 1);
		T_EQ(t, st.out_ready, 1);
		T_EQ(t, st.builds_started, 2);
		T_EQ(t, st.builds_ok, 2);
		T_EQ(t, s.unclaimed, 0);
		check_hops(t, &s, true, 1, zero_in ? 0 : 3);
		check_hops(t, &s, false, 1, zero_in ? 3 : 0);
		step(&s, 1000);
		stats(&s, &st);
		T_EQ(t, st.tests_sent, 1);
		T_EQ(t, st.tests_ok, 1);
		/* Through the pool to its own inbound tunnel. */
		T_OK(t, tunnel_pool_reply_path(p, gw, &tid, s.mono));
		T_EQ(t, memcmp(gw, s.self, 32) == 0, zero_in);
		m = i2np_msg_new(I2NP_DATA, "y", 1, 5000);
		m->msg_id = 950 + zero_in;
		T_OK(t, tunnel_pool_send(p, gw, tid, m, s.mono));
		pump(&s);
		T_EQ(t, s.n_delivered, 1);
		if (s.n_delivered == 1)
			T_EQ(t, s.delivered[0]->msg_id, 950 + zero_in);
		sim_free(&s);
	}
}

/* Fixed hops (tunnel_mgr_set_test_hops()): every tunnel of a direction
 * through exactly the given routers in the given order, whatever the
 * pool's length; a build waits while one of them is unknown. */
static void test_test_hops(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	struct tunnel_pool *p;
	uint8_t out_ids[2][32], in_ids[3][32], bad[9][32];

	small_pool(&pc, 3, 2);
	sim_init(t, &s, &pc);
	p = tunnel_mgr_exploratory(s.mgr);
	memcpy(out_ids[0], s.hops[4].hash, 32);
	memcpy(out_ids[1], s.hops[1].hash, 32);
	memcpy(in_ids[0], s.hops[2].hash, 32);
	memcpy(in_ids[1], s.hops[0].hash, 32);
	memcpy(in_ids[2], s.hops[4].hash, 32);
	memset(bad, 0, sizeof(bad));
	T_ERR(t, tunnel_mgr_set_test_hops(s.mgr, true,
					  (const uint8_t (*)[32])bad, 9),
	      ERR_ARG);
	T_OK(t, tunnel_mgr_set_test_hops(s.mgr, false,
					 (const uint8_t (*)[32])out_ids, 2));
	T_OK(t, tunnel_mgr_set_test_hops(s.mgr, true,
					 (const uint8_t (*)[32])in_ids, 3));
	step(&s, 0);
	stats(&s, &st);
	T_EQ(t, st.in_ready, 2);
	T_EQ(t, st.out_ready, 2);
	T_EQ(t, st.builds_ok, 4);
	T_FALSE(t, st.in_shortened || st.out_shortened);
	for (size_t i = 0; i < 2; i++) {
		uint8_t hops[8][32];
		unsigned n = 0;

		T_OK(t, tunnel_pool_hops(p, false, i, hops, &n));
		T_EQ(t, n, 2);
		T_OK(t, memcmp(hops, out_ids, sizeof(out_ids)));
		T_OK(t, tunnel_pool_hops(p, true, i, hops, &n));
		T_EQ(t, n, 3);
		T_OK(t, memcmp(hops, in_ids, sizeof(in_ids)));
	}
	/* a router the netDb does not know cannot be a fixed hop */
	memset(in_ids[1], 0x77, 32);
	T_OK(t, peer_select_fixed(&(struct peer_select_cfg){ .pay = 0 },
				  s.store, (const uint8_t (*)[32])in_ids, 1,
				  s.now, (struct tunnel_build_hop[1]){ 0 },
				  &(bool){ false }));
	T_ERR(t, peer_select_fixed(&(struct peer_select_cfg){ .pay = 0 },
				   s.store, (const uint8_t (*)[32])in_ids, 2,
				   s.now, (struct tunnel_build_hop[2]){ 0 },
				   &(bool){ false }), ERR_NOT_FOUND);
	sim_free(&s);
	/* so the inbound builds wait; the outbound ones are drawn */
	sim_init(t, &s, &pc);
	T_OK(t, tunnel_mgr_set_test_hops(s.mgr, true,
					 (const uint8_t (*)[32])in_ids, 2));
	step(&s, 0);
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.in_ready, 0);
	T_EQ(t, st.out_ready, 2);
	check_hops(t, &s, false, 2, 3);
	sim_free(&s);
}

/* ---- peer selection ---- */

static void add_peer(struct tctx *t, struct netdb_store *st, uint8_t seed,
		     const char *caps, const char *ver, const char *host,
		     uint8_t hash[32])
{
	struct x25519_pk pk;

	memset(pk.b, seed, 32);
	pk.b[0] = 9;
	T_OK(t, netdb_store_add_ri_verified(st,
		make_ri(&pk, seed, caps, ver, host, hash), time_now_ms(), 0,
		NULL));
}

/* Paid relaying's policy in peer selection: four routers ask to be paid
 * (bits.pay.price), four do not. */
static void test_select_pay(struct tctx *t)
{
	struct netdb_store_cfg sc = { .netid = NETID };
	struct peer_select_cfg pc;
	struct netdb_store *st;
	struct peer_profiles *pp = peer_profiles_new();
	struct tunnel_build_hop out[8];
	enum peer_pay_policy pol;
	uint64_t now = time_now_ms();
	unsigned paid_seen, n_paid;
	bool lng = false;

	memset(sc.self, 0xee, 32);
	st = netdb_store_new(&sc);
	memset(&pc, 0, sizeof(pc));
	memcpy(pc.self, sc.self, 32);
	for (unsigned i = 0; i < 8; i++) {
		struct x25519_pk pk;
		struct router_info *ri;
		uint8_t hash[32];
		char host[32];

		memset(pk.b, (int)(i + 1), 32);
		pk.b[0] = 9;
		snprintf(host, sizeof(host), "10.%u.0.1", i + 1);
		ri = make_ri(&pk, (uint8_t)(i + 1), "XR", "0.9.58", host, hash);
		if (i < 4)
			router_info_set_option(ri, "bits.pay.price", "1000");
		T_OK(t, netdb_store_add_ri_verified(st, ri, now, 0, NULL));
		T_EQ(t, peer_select_asks_pay(netdb_store_find_ri(st, hash)),
		     i < 4);
	}
	T_OK(t, peer_pay_policy_parse("prefer-free", &pol));
	T_EQ(t, pol, PEER_PAY_PREFER_FREE);
	T_OK(t, peer_pay_policy_parse("any", &pol));
	T_EQ(t, pol, PEER_PAY_ANY);
	T_ERR(t, peer_pay_policy_parse("paid", &pol), ERR_ARG);
	T_ERR(t, peer_pay_policy_parse(NULL, &pol), ERR_ARG);
#define COUNT_PAID(len)                                                     \
	do {                                                                \
		n_paid = 0;                                                 \
		for (unsigned k = 0; k < (len); k++)                        \
			n_paid += peer_select_asks_pay(                     \
				netdb_store_find_ri(st, out[k].ident));     \
	} while (0)
	/* free only: never a paid hop; five hops are too many */
	pc.pay = PEER_PAY_FREE_ONLY;
	for (unsigned r = 0; r < 50; r++) {
		T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY,
					 NULL, 0, 3, now, out, &lng));
		COUNT_PAID(3);
		T_EQ(t, n_paid, 0);
	}
	T_ERR(t, peer_select_hops(&pc, st, pp, PEER_SELECT_CLIENT, NULL, 0, 5,
				  now, out, &lng), ERR_NOT_FOUND);
	/* paid only: every hop */
	pc.pay = PEER_PAY_PAID_ONLY;
	for (unsigned r = 0; r < 50; r++) {
		T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_CLIENT, NULL,
					 0, 4, now, out, &lng));
		COUNT_PAID(4);
		T_EQ(t, n_paid, 4);
	}
	/* any, at most one paid hop: a 6-hop tunnel has exactly one (four
	 * free ones are not enough), shorter ones at most one */
	pc.pay = PEER_PAY_ANY;
	pc.max_paid = 1;
	paid_seen = 0;
	for (unsigned r = 0; r < 50; r++) {
		T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY,
					 NULL, 0, 3, now, out, &lng));
		COUNT_PAID(3);
		T_TRUE(t, n_paid <= 1);
		paid_seen += n_paid;
	}
	T_TRUE(t, paid_seen > 0);
	T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY, NULL, 0,
				 5, now, out, &lng));
	COUNT_PAID(5);
	T_EQ(t, n_paid, 1);
	T_ERR(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY, NULL,
				  0, 6, now, out, &lng), ERR_NOT_FOUND);
	/* preferences: one-hop draws go mostly (16 to 1 each) to the
	 * preferred kind, the other still drawn */
	pc.max_paid = 0;
	pc.pay = PEER_PAY_PREFER_PAID;
	paid_seen = 0;
	for (unsigned r = 0; r < 400; r++) {
		T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY,
					 NULL, 0, 1, now, out, &lng));
		COUNT_PAID(1);
		paid_seen += n_paid;
	}
	T_TRUE(t, paid_seen > 340 && paid_seen < 400);
	pc.pay = PEER_PAY_PREFER_FREE;
	paid_seen = 0;
	for (unsigned r = 0; r < 400; r++) {
		T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY,
					 NULL, 0, 1, now, out, &lng));
		COUNT_PAID(1);
		paid_seen += n_paid;
	}
	T_TRUE(t, paid_seen > 0 && paid_seen < 60);
	/* when the preferred are too few, the others fill in */
	pc.pay = PEER_PAY_PREFER_FREE;
	T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY, NULL, 0,
				 7, now, out, &lng));
#undef COUNT_PAID
	peer_profiles_free(pp);
	netdb_store_free(st);
}

static void test_select(struct tctx *t)
{
	struct netdb_store_cfg sc = { .netid = NETID };
	struct peer_select_cfg pc;
	struct netdb_store *st;
	struct peer_profiles *pp = peer_profiles_new();
	struct tunnel_build_hop out[8];
	uint8_t h[8][32], old[32];
	uint64_t now = time_now_ms();
	bool lng = false;

	memset(sc.self, 0xee, 32);
	st = netdb_store_new(&sc);
	memset(&pc, 0, sizeof(pc));
	memcpy(pc.self, sc.self, 32);
	add_peer(t, st, 1, "XR", "0.9.58", "10.1.0.1", h[0]);
	add_peer(t, st, 2, "XR", "0.9.58", "10.1.9.9", h[1]);	/* same /16 */
	add_peer(t, st, 3, "XU", "0.9.58", "10.3.0.1", h[2]);	/* U */
	add_peer(t, st, 4, "LR", "0.9.50", "10.4.0.1", h[3]);	/* old */
	/* Only three /16s are usable: 10.1 (one of two), 10.4 and ... */
	T_ERR(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY, NULL, 0,
				  3, now, out, &lng), ERR_NOT_FOUND);
	T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY, NULL, 0,
				 2, now, out, &lng));
	T_TRUE(t, lng);		/* 0.9.50 is in every 2-hop pick */
	for (unsigned i = 0; i < 2; i++)
		T_TRUE(t, memcmp(out[i].ident, h[2], 32) != 0);
	T_TRUE(t, memcmp(out[0].ident, out[1].ident, 32) != 0);
	/* The loopback override allows 10.1.x twice. */
	pc.allow_same_subnet = true;
	T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY, NULL, 0,
				 3, now, out, &lng));
	/* Excluded hashes are left out; a failing peer comes last, taken
	 * only when the others are too few. */
	T_ERR(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY, h, 1,
				  3, now, out, &lng), ERR_NOT_FOUND);
	for (unsigned i = 0; i < 4; i++)
		peer_profiles_record(pp, h[1], PEER_BUILD_REJECT, now);
	T_TRUE(t, peer_profile_is_failing(peer_profiles_get(pp, h[1]), now));
	T_EQ(t, peer_select_tier(netdb_store_find_ri(st, h[1]), pp,
				 PEER_SELECT_EXPLORATORY, now), PEER_TIER_FAILING);
	for (unsigned k = 0; k < 10; k++) {
		T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY,
					 NULL, 0, 3, now, out, &lng));
		T_MEMEQ(t, out[2].ident, h[1], 32);
		T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY,
					 NULL, 0, 2, now, out, &lng));
		T_TRUE(t, memcmp(out[0].ident, h[1], 32) != 0 &&
			  memcmp(out[1].ident, h[1], 32) != 0);
	}
	/* Tiers: a proven fast peer comes first for client tunnels. */
	add_peer(t, st, 5, "XR", "0.9.58", "10.5.0.1", h[4]);
	add_peer(t, st, 6, "PR", "0.9.58", "10.6.0.1", h[5]);
	peer_profiles_record(pp, h[5], PEER_TEST_OK, now);
	peer_profiles_record(pp, h[4], PEER_BUILD_OK, now);
	T_EQ(t, peer_select_tier(netdb_store_find_ri(st, h[5]), pp,
				 PEER_SELECT_CLIENT, now), PEER_TIER_FAST);
	T_EQ(t, peer_select_tier(netdb_store_find_ri(st, h[4]), pp,
				 PEER_SELECT_CLIENT, now), PEER_TIER_HIGH_CAP);
	T_EQ(t, peer_select_tier(netdb_store_find_ri(st, h[0]), pp,
				 PEER_SELECT_CLIENT, now), PEER_TIER_STANDARD);
	/* Exploratory tunnels take the not-failing peers alike. */
	T_EQ(t, peer_select_tier(netdb_store_find_ri(st, h[5]), pp,
				 PEER_SELECT_EXPLORATORY, now),
	     PEER_TIER_STANDARD);
	for (unsigned k = 0; k < 20; k++) {
		T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_CLIENT, NULL,
					 0, 2, now, out, &lng));
		T_MEMEQ(t, out[0].ident, h[5], 32);
		T_MEMEQ(t, out[1].ident, h[4], 32);
		T_FALSE(t, lng);
	}
	/* "U" (unreachable) is never a hop, nor "K" (too slow), "G"
	 * (rejecting tunnels) or a version below 0.9.36. */
	T_ERR(t, peer_select_check(&pc, netdb_store_find_ri(st, h[2]), now),
	      ERR_NETWORK);
	add_peer(t, st, 7, "KR", "0.9.58", "10.7.0.1", h[6]);
	add_peer(t, st, 8, "XGR", "0.9.58", "10.8.0.1", h[7]);
	T_ERR(t, peer_select_check(&pc, netdb_store_find_ri(st, h[6]), now),
	      ERR_LIMIT);
	T_ERR(t, peer_select_check(&pc, netdb_store_find_ri(st, h[7]), now),
	      ERR_LIMIT);
	T_OK(t, peer_select_check(&pc, netdb_store_find_ri(st, h[5]), now));
	T_OK(t, peer_select_check(&pc, netdb_store_find_ri(st, h[3]), now));
	add_peer(t, st, 9, "XR", "0.9.35", "10.9.0.1", old);
	T_ERR(t, peer_select_check(&pc, netdb_store_find_ri(st, old), now),
	      ERR_UNSUPPORTED);
	/* Seven routers, two of them not hops: five at most. */
	T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY, NULL, 0,
				 5, now, out, &lng));
	T_ERR(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY, NULL, 0,
				  6, now, out, &lng), ERR_NOT_FOUND);
	netdb_store_free(st);
	peer_profiles_free(pp);
}

/*
 * Fallback: with too few good peers, failing ones fill the remaining
 * hops, least bad first; a client tunnel still takes fast, then high
 * capacity, then standard peers before them.
 */
static void test_select_fallback(struct tctx *t)
{
	struct netdb_store_cfg sc = { .netid = NETID };
	struct peer_select_cfg pc;
	struct netdb_store *st;
	struct peer_profiles *pp = peer_profiles_new();
	struct tunnel_build_hop out[8];
	uint8_t h[6][32];
	uint64_t now = time_now_ms();
	bool lng = false;

	memset(sc.self, 0xee, 32);
	st = netdb_store_new(&sc);
	memset(&pc, 0, sizeof(pc));
	memcpy(pc.self, sc.self, 32);
	for (unsigned i = 0; i < 6; i++) {
		char host[32];

		snprintf(host, sizeof(host), "10.%u.0.1", 20 + i);
		add_peer(t, st, (uint8_t)(20 + i), "XR", "0.9.58", host, h[i]);
	}
	/* All failing, by how much: h[0] worst ... h[3] least. */
	for (unsigned i = 0; i < 4; i++)
		for (unsigned k = 0; k < 12 - 2 * i; k++)
			peer_profiles_record(pp, h[i], PEER_BUILD_REJECT, now);
	for (unsigned i = 4; i < 6; i++)
		for (unsigned k = 0; k < 8; k++)
			peer_profiles_record(pp, h[i], PEER_BUILD_TIMEOUT, now);
	for (unsigned i = 0; i < 6; i++)
		T_TRUE(t, peer_profile_is_failing(peer_profiles_get(pp, h[i]),
						  now));
	/* 8 timeouts (h[4], h[5]) weigh less than 6 rejections (h[3]),
	 * once their unreachable mark (timeouts in a row) has lapsed. */
	T_TRUE(t, peer_profile_is_unreachable(peer_profiles_get(pp, h[4]),
					      now));
	now += PEER_PROFILE_UNREACHABLE_MS;
	for (unsigned k = 0; k < 10; k++) {
		T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_EXPLORATORY,
					 NULL, 0, 3, now, out, &lng));
		T_TRUE(t, memcmp(out[0].ident, h[4], 32) == 0 ||
			  memcmp(out[0].ident, h[5], 32) == 0);
		T_TRUE(t, memcmp(out[1].ident, h[4], 32) == 0 ||
			  memcmp(out[1].ident, h[5], 32) == 0);
		T_MEMEQ(t, out[2].ident, h[3], 32);
	}
	/* A client tunnel: the one good peer first, then the least bad. */
	peer_profiles_record(pp, h[0], PEER_TEST_OK, now);
	for (unsigned k = 0; k < 30; k++)
		peer_profiles_record(pp, h[0], PEER_BUILD_OK, now);
	T_FALSE(t, peer_profile_is_failing(peer_profiles_get(pp, h[0]), now));
	T_EQ(t, peer_select_tier(netdb_store_find_ri(st, h[0]), pp,
				 PEER_SELECT_CLIENT, now), PEER_TIER_FAST);
	T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_CLIENT, NULL, 0, 4,
				 now, out, &lng));
	T_MEMEQ(t, out[0].ident, h[0], 32);
	T_MEMEQ(t, out[3].ident, h[3], 32);
	/* Slow build replies make a proven peer high capacity, not fast. */
	for (unsigned k = 0; k < 20; k++)
		peer_profiles_record_build(pp, h[0], 3 * PEER_SELECT_FAST_BUILD_MS,
					   now);
	T_TRUE(t, peer_profiles_get(pp, h[0])->build_ms >
		  PEER_SELECT_FAST_BUILD_MS);
	T_EQ(t, peer_select_tier(netdb_store_find_ri(st, h[0]), pp,
				 PEER_SELECT_CLIENT, now), PEER_TIER_HIGH_CAP);
	/* Only too few routers at all stops a build. */
	T_ERR(t, peer_select_hops(&pc, st, pp, PEER_SELECT_CLIENT, NULL, 0, 7,
				  now, out, &lng), ERR_NOT_FOUND);
	netdb_store_free(st);
	peer_profiles_free(pp);
}

/* ---- profiles ---- */

/*
 * Timeouts weigh half a rejection and fade faster: a peer blamed for
 * eight timeouts is failing, and is not any more after one timeout decay
 * period; rejections stay until the slower decay.
 */
static void test_profiles_decay(struct tctx *t)
{
	struct peer_profiles *pp = peer_profiles_new();
	uint8_t a[32], b[32], c[32];
	uint64_t now = 1000000, later = now + 2 * PEER_PROFILE_BACKOFF_MS;
	const struct peer_profile *pa, *pb, *pc;

	memset(a, 0xa, 32);
	memset(b, 0xb, 32);
	memset(c, 0xc, 32);
	for (unsigned i = 0; i < 8; i++)
		peer_profiles_record(pp, a, PEER_BUILD_TIMEOUT, now);
	for (unsigned i = 0; i < 4; i++) {
		peer_profiles_record(pp, b, PEER_BUILD_REJECT, now);
		peer_profiles_record(pp, c, PEER_BUILD_TIMEOUT, now);
	}
	pa = peer_profiles_get(pp, a);
	pb = peer_profiles_get(pp, b);
	pc = peer_profiles_get(pp, c);
	/* Just after: all three back off. */
	T_TRUE(t, peer_profile_is_failing(pa, now));
	T_TRUE(t, peer_profile_is_failing(pb, now));
	T_TRUE(t, peer_profile_is_failing(pc, now));
	/* Later: 4 rejections fail, 4 timeouts (2 attempts' worth) do not,
	 * 8 timeouts do (and cost as much capacity as 4 rejections). */
	T_TRUE(t, peer_profile_is_failing(pa, later));
	T_TRUE(t, peer_profile_is_failing(pb, later));
	T_FALSE(t, peer_profile_is_failing(pc, later));
	T_EQ(t, peer_profile_capacity(pa), peer_profile_capacity(pb));
	/* One timeout decay: a recovers, b does not. */
	peer_profiles_decay_timeouts(pp);
	T_EQ(t, pa->build_timeout, 4);
	T_EQ(t, pb->build_reject, 4);
	T_FALSE(t, peer_profile_is_failing(pa, later));
	T_TRUE(t, peer_profile_is_failing(pb, later));
	peer_profiles_decay(pp);
	T_EQ(t, pb->build_reject, 2);
	T_FALSE(t, peer_profile_is_failing(pb, later));
	/* A late reply takes a timeout back, even a faded one. */
	peer_profiles_record_late(pp, a, PEER_BUILD_OK, 30000, later);
	T_EQ(t, pa->build_timeout, 1);	/* 4, halved, minus one */
	T_EQ(t, pa->build_ok, 1);
	T_EQ(t, pa->build_ms, 30000);
	peer_profiles_record_late(pp, a, PEER_BUILD_REJECT, 0, later);
	peer_profiles_record_late(pp, a, PEER_BUILD_REJECT, 0, later);
	T_EQ(t, pa->build_timeout, 0);
	T_EQ(t, pa->build_reject, 2);
	/* Build times: a running average, a quarter for the newest. */
	peer_profiles_record_build(pp, c, 1000, later);
	T_EQ(t, pc->build_ms, 1000);
	peer_profiles_record_build(pp, c, 2000, later);
	T_EQ(t, pc->build_ms, 1250);
	T_EQ(t, pc->build_ok, 2);
	peer_profiles_free(pp);
}

/* A version 1 database (no build_ms) loads, and is upgraded by a save
 * that keeps the reply times. */
static void test_profiles_v1_db(struct tctx *t)
{
	char *dir = t_tmpdir(t), *path = fsutil_path_join(dir, "profiles.sqlite");
	struct peer_profile *back = NULL, row;
	size_t nb = 0;
	sqlite3 *h = NULL;
	uint8_t hash[32];

	memset(hash, 7, 32);
	T_EQ(t, sqlite3_open(path, &h), SQLITE_OK);
	T_EQ(t, sqlite3_exec(h, "CREATE TABLE profiles (hash BLOB PRIMARY KEY,"
			     " build_ok INTEGER, build_reject INTEGER,"
			     " build_timeout INTEGER, test_ok INTEGER,"
			     " test_fail INTEGER, last_ok INTEGER,"
			     " last_fail INTEGER); PRAGMA user_version=1;"
			     " INSERT INTO profiles VALUES (x'0707070707070707"
			     "070707070707070707070707070707070707070707070707'"
			     ", 3, 1, 2, 5, 0, 111, 222);",
			     NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	T_OK(t, peer_profiles_db_load(path, &back, &nb));
	T_EQ(t, nb, 1);
	if (nb == 1) {
		T_MEMEQ(t, back[0].hash, hash, 32);
		T_EQ(t, back[0].build_ok, 3);
		T_EQ(t, back[0].build_timeout, 2);
		T_EQ(t, back[0].last_fail_ms, 222);
		T_EQ(t, back[0].build_ms, 0);
	}
	free(back);
	back = NULL;
	memset(&row, 0, sizeof(row));
	memcpy(row.hash, hash, 32);
	row.build_ok = 9;
	row.build_ms = 4321;
	T_OK(t, peer_profiles_db_save(path, &row, 1));
	T_OK(t, peer_profiles_db_load(path, &back, &nb));
	T_EQ(t, nb, 1);
	if (nb == 1) {
		T_EQ(t, back[0].build_ok, 9);
		T_EQ(t, back[0].build_ms, 4321);
	}
	free(back);
	t_rmtree(dir);
	free(path);
	free(dir);
}

static void test_profiles_persist(struct tctx *t)
{
	struct peer_profiles *a = peer_profiles_new(), *b = peer_profiles_new();
	struct peer_profile *rows = NULL, *back = NULL;
	size_t n = 0, nb = 0;
	char *dir = t_tmpdir(t), *path = fsutil_path_join(dir, "profiles.sqlite");
	uint8_t h1[32], h2[32];
	const struct peer_profile *p;

	memset(h1, 1, 32);
	memset(h2, 2, 32);
	T_OK(t, peer_profiles_db_load(path, &back, &nb));	/* no file */
	T_EQ(t, nb, 0);
	free(back);
	peer_profiles_record(a, h1, PEER_BUILD_OK, 1000);
	peer_profiles_record(a, h1, PEER_BUILD_OK, 1001);
	peer_profiles_record(a, h1, PEER_TEST_OK, 1002);
	peer_profiles_record(a, h2, PEER_BUILD_TIMEOUT, 2000);
	peer_profiles_record(a, h2, PEER_TEST_FAIL, 2001);
	peer_profiles_snapshot(a, &rows, &n);
	T_EQ(t, n, 2);
	T_OK(t, peer_profiles_db_save(path, rows, n));
	/* A second save replaces, not appends. */
	T_OK(t, peer_profiles_db_save(path, rows, n));
	T_OK(t, peer_profiles_db_load(path, &back, &nb));
	T_EQ(t, nb, 2);
	peer_profiles_merge(b, back, nb);
	free(back);
	back = NULL;
	T_EQ(t, peer_profiles_count(b), 2);
	p = peer_profiles_get(b, h1);
	T_TRUE(t, p && p->build_ok == 2 && p->test_ok == 1 &&
		  p->last_ok_ms == 1002);
	p = peer_profiles_get(b, h2);
	T_TRUE(t, p && p->build_timeout == 1 && p->test_fail == 1 &&
		  p->last_fail_ms == 2001 && p->build_ok == 0);
	T_TRUE(t, peer_profile_capacity(peer_profiles_get(b, h1)) >
		  peer_profile_capacity(peer_profiles_get(b, h2)));
	peer_profiles_decay(b);
	T_EQ(t, peer_profiles_get(b, h1)->build_ok, 1);
	/* A corrupt file is an error, not a crash. */
	/* sqlite leaves -wal/-shm files; the main file is what it reads */
	T_OK(t, fsutil_write_atomic(path, "not a database at all, really!!", 31,
				     0600, true));
	T_ERR(t, peer_profiles_db_load(path, &back, &nb), ERR_IO);
	free(rows);
	peer_profiles_free(a);
	peer_profiles_free(b);
	t_rmtree(dir);
	free(path);
	free(dir);
}

/* ---- peer order, short tunnels, variance, standby, unreachable ---- */

/* The index of hash among the simulated hops (NHOPS: none). */
static unsigned hop_index(const struct sim *s, const uint8_t h[32])
{
	for (unsigned i = 0; i < NHOPS; i++)
		if (memcmp(h, s->hops[i].hash, 32) == 0)
			return i;
	return NHOPS;
}

/* Record the relative order of the hops of p's established tunnels of
 * a direction in before[a][b] (1: a came before b; 2: after); false on a
 * pair seen in both orders.  *pairs counts the pairs compared. */
static bool same_order(const struct sim *s, struct tunnel_pool *p,
		       bool inbound, uint8_t before[NHOPS][NHOPS],
		       size_t *pairs)
{
	uint8_t hops[8][32];
	unsigned n = 0;

	for (size_t i = 0; tunnel_pool_hops(p, inbound, i, hops, &n) == 0;
	     i++) {
		for (unsigned a = 0; a < n; a++)
			for (unsigned b = a + 1; b < n; b++) {
				unsigned x = hop_index(s, hops[a]);
				unsigned y = hop_index(s, hops[b]);

				if (x == NHOPS || y == NHOPS ||
				    before[x][y] == 2 || before[y][x] == 1)
					return false;
				before[x][y] = 1;
				before[y][x] = 2;
				(*pairs)++;
			}
	}
	return true;
}

/*
 * Each pool orders its hops by its own random key: through several
 * generations of 3-hop tunnels from 5 routers, any two routers that
 * share tunnels of a pool's direction are always in the same relative
 * order (drawn at random, two of a pair's tunnels disagree half the
 * time).  The order is a pure function of the key and the hashes.
 */
static void test_peer_order(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	uint8_t before[2][NHOPS][NHOPS];
	size_t pairs = 0;
	struct tunnel_build_hop a[4], b[4];
	uint8_t key[SIPHASH_KEY_BYTES];

	rand_set_deterministic(21);
	memset(before, 0, sizeof(before));
	small_pool(&pc, 3, 4);
	sim_init(t, &s, &pc);
	for (unsigned gen = 0; gen < 4; gen++) {
		step(&s, 0);
		step(&s, 1000);
		for (int in = 0; in < 2; in++)
			T_TRUE(t, same_order(&s, tunnel_mgr_exploratory(s.mgr),
					     in, before[in], &pairs));
		step(&s, TUNNEL_LIFETIME_MS);
	}
	T_TRUE(t, pairs >= 4 * 2 * 4 * 3);
	sim_free(&s);
	/* peer_select_order(): the same result from any input order. */
	memset(a, 0, sizeof(a));
	for (unsigned i = 0; i < 4; i++)
		memset(a[i].ident, 0x30 + i, 32);
	for (unsigned i = 0; i < 4; i++)
		b[i] = a[3 - i];
	memset(key, 7, sizeof(key));
	peer_select_order(a, 4, key);
	peer_select_order(b, 4, key);
	for (unsigned i = 0; i < 4; i++)
		T_MEMEQ(t, a[i].ident, b[i].ident, 32);
	for (unsigned i = 1; i < 4; i++)
		T_TRUE(t, siphash24_u64(key, a[i - 1].ident, 32) <
			  siphash24_u64(key, a[i].ident, 32));
}

/* Put hop i's RouterInfo in the creator's netDb (left out by
 * hops_known). */
static void sim_learn(struct tctx *t, struct sim *s, unsigned i)
{
	T_TRUE(t, s->hops[i].unknown != NULL);
	T_OK(t, netdb_store_add_ri_verified(s->store, s->hops[i].unknown,
					    s->now, 0, NULL));
	s->hops[i].unknown = NULL;
}

/*
 * Two routers in the netDb and 3-hop pools: after
 * TUNNEL_POOL_SHORTEN_AFTER_MS, 2-hop tunnels rather than none, for the
 * exploratory and a client pool, shown in the figures.
 * Once the netDb knows more routers, full-length tunnels replace the
 * shortened ones within seconds, not at their expiry.
 * With one router, and that one unreachable: a pool that allows zero
 * hops builds zero-hop tunnels; one that does not goes through the
 * unreachable router as a last resort.
 */
static void test_short_tunnels(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc, cc;
	struct tunnel_pool_stats st;
	struct tunnel_pool *client;
	uint8_t hops[8][32];
	unsigned n = 9;

	small_pool(&pc, 3, 2);
	hops_known = 2;
	sim_init(t, &s, &pc);
	small_pool(&cc, 3, 1);
	cc.kind = PEER_SELECT_CLIENT;
	T_OK(t, tunnel_mgr_add_pool(s.mgr, &cc, &client));
	/* Not at once (the netDb may be loading)... */
	step(&s, 0);
	stats(&s, &st);
	T_EQ(t, st.builds_started, 0);
	step(&s, TUNNEL_POOL_SHORTEN_AFTER_MS - TUNNEL_POOL_RETRY_MS);
	stats(&s, &st);
	T_EQ(t, st.builds_started, 0);
	/* ...but after TUNNEL_POOL_SHORTEN_AFTER_MS. */
	step(&s, TUNNEL_POOL_RETRY_MS);
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.in_ready, 2);
	T_EQ(t, st.out_ready, 2);
	T_EQ(t, st.builds_short, 4);
	T_TRUE(t, st.in_shortened && st.out_shortened);
	T_EQ(t, st.tests_ok, 2);
	check_hops(t, &s, true, 2, 2);
	check_hops(t, &s, false, 2, 2);
	tunnel_pool_stats(client, &st);
	T_EQ(t, st.in_ready, 1);
	T_EQ(t, st.out_ready, 1);
	T_EQ(t, st.builds_short, 2);
	T_OK(t, tunnel_pool_hops(client, true, 0, hops, &n));
	T_EQ(t, n, 2);
	for (unsigned i = 2; i < NHOPS; i++)
		sim_learn(t, &s, i);
	step(&s, TUNNEL_POOL_RETRY_MS);		/* full ones built */
	step(&s, 1000);				/* short ones ended */
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.in_ready, 2);
	T_EQ(t, st.out_ready, 2);
	T_FALSE(t, st.in_shortened || st.out_shortened);
	check_hops(t, &s, true, 2, 3);
	check_hops(t, &s, false, 2, 3);
	T_TRUE(t, st.tests_ok > 2);
	tunnel_pool_stats(client, &st);
	T_EQ(t, st.in_ready, 1);
	T_OK(t, tunnel_pool_hops(client, true, 0, hops, &n));
	T_EQ(t, n, 3);
	sim_free(&s);

	for (int zero = 0; zero < 2; zero++) {
		small_pool(&pc, 2, 1);
		pc.allow_zero_hop = zero;
		hops_known = 1;
		sim_init(t, &s, &pc);
		tunnel_mgr_peer_unreachable(s.mgr, s.hops[0].hash, s.now);
		step(&s, 0);
		step(&s, TUNNEL_POOL_SHORTEN_AFTER_MS);
		step(&s, 1000);
		stats(&s, &st);
		T_EQ(t, st.in_ready, 1);
		T_EQ(t, st.out_ready, 1);
		T_TRUE(t, st.in_shortened && st.out_shortened);
		T_OK(t, tunnel_pool_hops(tunnel_mgr_exploratory(s.mgr), true,
					 0, hops, &n));
		T_EQ(t, n, zero ? 0 : 1);
		T_OK(t, tunnel_pool_hops(tunnel_mgr_exploratory(s.mgr), false,
					 0, hops, &n));
		T_EQ(t, n, zero ? 0 : 1);
		sim_free(&s);
	}
	hops_known = 0;
}

/* The lengths of p's established tunnels into seen[]. */
static void lengths(struct tctx *t, struct tunnel_pool *p, bool *seen)
{
	for (int in = 0; in < 2; in++) {
		uint8_t hops[8][32];
		unsigned n = 0;

		for (size_t i = 0; tunnel_pool_hops(p, in, i, hops, &n) == 0;
		     i++) {
			T_TRUE(t, n <= TUNNEL_BUILD_MAX_HOPS);
			if (n <= TUNNEL_BUILD_MAX_HOPS)
				seen[n] = true;
		}
	}
}

/*
 * A negative variance -2 on length 2: lengths 0 to 4 as Java draws
 * them, 0 only in a pool that allows zero hops (never below 1 in one
 * that does not).
 */
static void test_variance_negative(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;

	small_pool(&pc, 2, 4);
	pc.in_variance = -4;
	T_ERR(t, tunnel_pool_cfg_check(&pc), ERR_RANGE);
	for (int zero = 0; zero < 2; zero++) {
		bool seen[TUNNEL_BUILD_MAX_HOPS + 1] = { false };

		rand_set_deterministic(9 + (uint64_t)zero);
		small_pool(&pc, 2, 4);
		pc.in_variance = pc.out_variance = -2;
		pc.allow_zero_hop = zero;
		T_OK(t, tunnel_pool_cfg_check(&pc));
		sim_init(t, &s, &pc);
		for (unsigned gen = 0; gen < 6; gen++) {
			step(&s, 0);
			step(&s, 1000);
			lengths(t, tunnel_mgr_exploratory(s.mgr), seen);
			step(&s, TUNNEL_LIFETIME_MS);
		}
		T_EQ(t, seen[0], zero);
		T_TRUE(t, seen[1] && seen[2] && seen[3] && seen[4]);
		for (unsigned i = 5; i <= TUNNEL_BUILD_MAX_HOPS; i++)
			T_FALSE(t, seen[i]);
		sim_free(&s);
	}
}

/*
 * Backups are standby: built and tested, but no lease and no traffic
 * while the pool has its quantity in use.  When the tunnel in use fails
 * a test (its hop stops answering), the standby one takes its place at
 * once, before any replacement is built, and carries the traffic.
 * Inbound tunnels are zero-hop here, so only the outbound hop fails.
 */
static void test_standby(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	struct tunnel_pool *p;
	uint8_t hops[8][32], gw[32], dead[32];
	unsigned n = 0;
	uint32_t tid;
	uint64_t exp;
	bool other = false;

	/* A seed under which the standby tunnel's one hop is not the hop of
	 * the tunnel in use (under some seeds both pick the same of the
	 * NHOPS, and its death fails both tests). */
	rand_set_deterministic(1);
	small_pool(&pc, 1, 1);
	pc.in_length = 0;
	pc.in_backup = pc.out_backup = 1;
	sim_init(t, &s, &pc);
	p = tunnel_mgr_exploratory(s.mgr);
	step(&s, 0);
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.in_ready, 1);
	T_EQ(t, st.in_standby, 1);
	T_EQ(t, st.out_ready, 1);
	T_EQ(t, st.out_standby, 1);
	T_EQ(t, st.tests_ok, 2);		/* the standby one is tested */
	T_OK(t, tunnel_pool_lease(p, 0, gw, &tid, &exp));
	T_ERR(t, tunnel_pool_lease(p, 1, gw, &tid, &exp), ERR_NOT_FOUND);
	/* Traffic takes the one in use; its hop dies. */
	T_OK(t, tunnel_pool_hops(p, false, 0, hops, &n));
	T_EQ(t, n, 1);
	memcpy(dead, hops[0], 32);
	T_TRUE(t, hop_index(&s, dead) < NHOPS);
	s.hops[hop_index(&s, dead) % NHOPS].blackhole = true;
	step(&s, TUNNEL_TEST_INTERVAL_MS);	/* tests sent */
	step(&s, TUNNEL_TEST_TIMEOUT_MS);	/* one failed: promoted */
	stats(&s, &st);
	T_EQ(t, st.tests_failed, 1);
	T_EQ(t, st.out_ready, 2);	/* the failing one and the standby */
	for (size_t i = 0; tunnel_pool_hops(p, false, i, hops, &n) == 0; i++)
		other |= memcmp(hops[0], dead, 32) != 0;
	T_TRUE(t, other);
	T_EQ(t, s.n_sunk, 0);
	T_OK(t, tunnel_pool_send(p, s.sink, 0,
				 i2np_msg_new(I2NP_DATA, "sb", 2, 5000),
				 s.mono));
	pump(&s);
	T_EQ(t, s.n_sunk, 1);
	sim_free(&s);
}

static void sink_reset(struct sim *s)
{
	for (size_t i = 0; i < s->n_sunk; i++)
		i2np_msg_free(s->sunk[i]);
	s->n_sunk = 0;
}

/* tunnel_pool_send_on(): every message of a flow leaves through the one
 * tunnel its path names, until that tunnel nears its end; then through a
 * fresh one, which the path names from then on. */
static void test_send_on(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool *p;
	uint64_t path = 0, first;
	bool spread = false;

	rand_set_deterministic(5);
	small_pool(&pc, 1, 3);
	sim_init(t, &s, &pc);
	p = tunnel_mgr_exploratory(s.mgr);
	step(&s, 0);
	step(&s, 1000);
	for (unsigned i = 0; i < 12; i++)
		T_OK(t, tunnel_pool_send_on(p, &path, s.sink, 0,
					    i2np_msg_new(I2NP_DATA, "on", 2,
							 5000), s.mono));
	pump(&s);
	T_EQ(t, s.n_sunk, 12);
	T_TRUE(t, path != 0);
	for (size_t i = 1; i < s.n_sunk; i++)
		T_MEMEQ(t, s.sunk_from[i], s.sunk_from[0], 32);
	/* tunnel_pool_send() spreads the same over the three. */
	sink_reset(&s);
	for (unsigned i = 0; i < 12; i++)
		T_OK(t, tunnel_pool_send(p, s.sink, 0,
					 i2np_msg_new(I2NP_DATA, "r", 1, 5000),
					 s.mono));
	pump(&s);
	T_EQ(t, s.n_sunk, 12);
	for (size_t i = 1; i < s.n_sunk; i++)
		spread |= memcmp(s.sunk_from[i], s.sunk_from[0], 32) != 0;
	T_TRUE(t, spread);
	/* Near the end of the tunnels' lives (replacements built): the
	 * flow moves to a new tunnel and stays there. */
	first = path;
	for (uint64_t end = s.mono + TUNNEL_LIFETIME_MS -
			    TUNNEL_REBUILD_BEFORE_MS;
	     s.mono < end;)
		step(&s, TUNNEL_TEST_INTERVAL_MS);
	sink_reset(&s);
	for (unsigned i = 0; i < 6; i++)
		T_OK(t, tunnel_pool_send_on(p, &path, s.sink, 0,
					    i2np_msg_new(I2NP_DATA, "on", 2,
							 5000), s.mono));
	pump(&s);
	T_TRUE(t, path != first);
	T_EQ(t, s.n_sunk, 6);
	for (size_t i = 1; i < s.n_sunk; i++)
		T_MEMEQ(t, s.sunk_from[i], s.sunk_from[0], 32);
	/* A path that names nothing of the pool's: a fresh pick. */
	path = 0xdeadbeef;
	T_OK(t, tunnel_pool_send_on(p, &path, s.sink, 0,
				    i2np_msg_new(I2NP_DATA, "x", 1, 5000),
				    s.mono));
	T_TRUE(t, path != 0xdeadbeef && path != 0);
	sim_free(&s);
}

/* Two build timeouts in a row, or a failed connection, mark a peer
 * unreachable for a minute, then two, ...; any answer clears it. */
static void test_unreachable_profile(struct tctx *t)
{
	struct peer_profiles *pp = peer_profiles_new();
	const struct peer_profile *pr;
	uint8_t h[32];
	uint64_t now = 1000000000;

	memset(h, 0x44, 32);
	T_FALSE(t, peer_profile_is_unreachable(NULL, now));
	peer_profiles_record(pp, h, PEER_BUILD_TIMEOUT, now);
	T_FALSE(t, peer_profile_is_unreachable(peer_profiles_get(pp, h), now));
	peer_profiles_record(pp, h, PEER_BUILD_OK, now);
	peer_profiles_record(pp, h, PEER_BUILD_TIMEOUT, now);
	T_FALSE(t, peer_profile_is_unreachable(peer_profiles_get(pp, h), now));
	peer_profiles_record(pp, h, PEER_BUILD_TIMEOUT, now);
	pr = peer_profiles_get(pp, h);
	T_TRUE(t, peer_profile_is_unreachable(pr, now));
	T_TRUE(t, peer_profile_is_unreachable(pr, now +
					      PEER_PROFILE_UNREACHABLE_MS - 1));
	T_FALSE(t, peer_profile_is_unreachable(pr, now +
					       PEER_PROFILE_UNREACHABLE_MS));
	/* Still timing out after it: twice as long. */
	now += PEER_PROFILE_UNREACHABLE_MS;
	peer_profiles_record(pp, h, PEER_BUILD_TIMEOUT, now);
	T_TRUE(t, peer_profile_is_unreachable(pr, now +
					      2 * PEER_PROFILE_UNREACHABLE_MS - 1));
	/* A rejection is an answer. */
	peer_profiles_record(pp, h, PEER_BUILD_REJECT, now);
	T_FALSE(t, peer_profile_is_unreachable(pr, now));
	/* A failed connection; more of them do not lengthen the mark. */
	peer_profiles_mark_unreachable(pp, h, now);
	peer_profiles_mark_unreachable(pp, h, now + 1000);
	T_EQ(t, pr->unreach_until_ms, now + PEER_PROFILE_UNREACHABLE_MS);
	/* A session with it came up: the mark is lifted, the count of
	 * marks kept (the next one is twice as long); an unknown router
	 * gets no profile. */
	peer_profiles_mark_reachable(pp, h);
	T_FALSE(t, peer_profile_is_unreachable(pr, now));
	peer_profiles_mark_unreachable(pp, h, now + 2000);
	T_EQ(t, pr->unreach_until_ms,
	     now + 2000 + 2 * PEER_PROFILE_UNREACHABLE_MS);
	{
		uint8_t other[32];
		size_t n = peer_profiles_count(pp);

		memset(other, 0x5a, sizeof(other));
		peer_profiles_mark_reachable(pp, other);
		T_EQ(t, peer_profiles_count(pp), n);
	}
	/* Marks long past are forgotten: short again, and never past
	 * the maximum. */
	for (unsigned i = 0; i < 8; i++) {
		now += PEER_PROFILE_UNREACHABLE_MAX_MS;
		peer_profiles_mark_unreachable(pp, h, now);
		T_TRUE(t, pr->unreach_until_ms <=
			  now + PEER_PROFILE_UNREACHABLE_MAX_MS);
	}
	T_EQ(t, pr->unreach_until_ms, now + PEER_PROFILE_UNREACHABLE_MAX_MS);
	now += PEER_PROFILE_UNREACHABLE_MAX_MS +
	       PEER_PROFILE_UNREACHABLE_FORGET_MS + 1;
	peer_profiles_mark_unreachable(pp, h, now);
	T_EQ(t, pr->unreach_until_ms, now + PEER_PROFILE_UNREACHABLE_MS);
	/* The mark is not on disk: a merge keeps it. */
	{
		struct peer_profile row;

		memset(&row, 0, sizeof(row));
		memcpy(row.hash, h, 32);
		row.build_ok = 3;
		peer_profiles_merge(pp, &row, 1);
		pr = peer_profiles_get(pp, h);
		T_EQ(t, pr->build_ok, 3);
		T_TRUE(t, peer_profile_is_unreachable(pr, now));
	}
	peer_profiles_free(pp);
}

/*
 * A hop with a long good record dies, in a small network (4-hop
 * tunnels from 5 routers: every tunnel in use went through it).  Its
 * record keeps it out of the failing tier (failures must outweigh its
 * successes), but timeouts in a row mark it unreachable, and among
 * marked routers the pool takes the least suspect, so within two
 * minutes both directions are full again without it.  (The live hops
 * are blamed too: every build whose message or reply went through a
 * tunnel with the dead hop timed out.)
 */
/* How many of the exploratory pool's tunnels in use go through h. */
static size_t uses(struct sim *s, const uint8_t h[32])
{
	struct tunnel_pool *p = tunnel_mgr_exploratory(s->mgr);
	size_t k = 0;

	for (int in = 0; in < 2; in++) {
		uint8_t hops[8][32];
		unsigned n = 0;

		for (size_t i = 0; tunnel_pool_hops(p, in, i, hops, &n) == 0;
		     i++)
			for (unsigned j = 0; j < n; j++)
				k += memcmp(hops[j], h, 32) == 0;
	}
	return k;
}

static void test_dead_hop(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	const struct peer_profile *pr;
	uint32_t before;
	unsigned dead = 2;

	rand_set_deterministic(17);
	small_pool(&pc, 4, 3);
	sim_init(t, &s, &pc);
	for (unsigned gen = 0; gen < 6; gen++) {
		step(&s, 0);
		for (unsigned k = 0; k < 40; k++)
			step(&s, TUNNEL_TEST_INTERVAL_MS);
	}
	pr = peer_profiles_get(s.prof, s.hops[dead].hash);
	T_TRUE(t, pr && pr->test_ok > 20);
	before = pr->build_timeout;
	s.hops[dead].blackhole = true;
	for (unsigned k = 0; k < 120; k++)
		step(&s, 1000);
	/* Its good record keeps it out of the failing tier... */
	pr = peer_profiles_get(s.prof, s.hops[dead].hash);
	T_TRUE(t, pr->build_timeout > before);
	T_FALSE(t, peer_profile_is_failing(pr, s.now));
	/* ...but two minutes on, the pool is full again without it (with
	 * only the failing tier, one tunnel each way). */
	stats(&s, &st);
	T_EQ(t, st.in_ready, 3);
	T_EQ(t, st.out_ready, 3);
	T_EQ(t, uses(&s, s.hops[dead].hash), 0);
	sim_free(&s);
}

/* A first hop the transport cannot reach (the send hook fails) is
 * marked unreachable at once, and left out of the next builds. */
static void test_send_failure_marks(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	const struct peer_profile *pr;

	rand_set_deterministic(5);
	small_pool(&pc, 1, 4);
	sim_init(t, &s, &pc);
	s.unreachable = s.hops[1].hash;
	step(&s, 0);
	T_TRUE(t, s.send_failures > 0);
	pr = peer_profiles_get(s.prof, s.hops[1].hash);
	T_TRUE(t, peer_profile_is_unreachable(pr, s.now));
	/* The failed builds time out and are replaced, never through it. */
	s.send_failures = 0;
	for (unsigned k = 0; k < 3; k++)
		step(&s, TUNNEL_BUILD_TIMEOUT_MS);
	T_EQ(t, s.send_failures, 0);
	stats(&s, &st);
	T_EQ(t, st.in_ready, 4);
	T_EQ(t, st.out_ready, 4);
	sim_free(&s);
}

/* Congestion caps and weights (peer_select.h). */
static void test_select_caps(struct tctx *t)
{
	struct netdb_store_cfg sc = { .netid = NETID };
	struct peer_select_cfg pc;
	struct netdb_store *st;
	struct peer_profiles *pp = peer_profiles_new();
	struct tunnel_build_hop out[2];
	uint8_t h[7][32], excl[5][32];
	uint64_t now = time_now_ms();
	struct x25519_pk pk;
	struct router_info *ri;
	bool lng = false;
	unsigned d = 0;

	rand_set_deterministic(13);
	memset(sc.self, 0xee, 32);
	st = netdb_store_new(&sc);
	memset(&pc, 0, sizeof(pc));
	memcpy(pc.self, sc.self, 32);
	add_peer(t, st, 31, "XR", "0.9.58", "10.31.0.1", h[0]);
	add_peer(t, st, 32, "XfR", "0.9.58", "10.32.0.1", h[1]);
	add_peer(t, st, 33, "XRD", "0.9.58", "10.33.0.1", h[2]);
	add_peer(t, st, 34, "LR", "0.9.58", "10.34.0.1", h[3]);
	add_peer(t, st, 35, "XRE", "0.9.58", "10.35.0.1", h[4]);
	/* An "E" published 20 minutes ago counts as "D". */
	memset(pk.b, 36, 32);
	pk.b[0] = 9;
	ri = make_ri(&pk, 36, "XRE", "0.9.58", "10.36.0.1", h[5]);
	router_info_set_published(ri, now - 20 * 60 * 1000);
	T_OK(t, netdb_store_add_ri_verified(st, ri, now, 0, NULL));
	T_ERR(t, peer_select_check(&pc, netdb_store_find_ri(st, h[4]), now),
	      ERR_LIMIT);
	T_OK(t, peer_select_check(&pc, netdb_store_find_ri(st, h[5]), now));
	T_OK(t, peer_select_check(&pc, netdb_store_find_ri(st, h[2]), now));
#define W(i, k) peer_select_weight(netdb_store_find_ri(st, h[i]), k)
	T_EQ(t, W(0, PEER_SELECT_CLIENT), 48);
	T_EQ(t, W(1, PEER_SELECT_CLIENT), 40);		/* floodfill */
	T_EQ(t, W(2, PEER_SELECT_CLIENT), 12);		/* D */
	T_EQ(t, W(5, PEER_SELECT_CLIENT), 12);		/* old E */
	T_EQ(t, W(3, PEER_SELECT_CLIENT), 24);		/* L, client */
	T_EQ(t, W(3, PEER_SELECT_EXPLORATORY), 48);
#undef W
	/* A fresh "E" is never drawn, even when nothing else is left. */
	memcpy(excl[0], h[0], 32);
	memcpy(excl[1], h[1], 32);
	memcpy(excl[2], h[2], 32);
	memcpy(excl[3], h[3], 32);
	memcpy(excl[4], h[5], 32);
	T_ERR(t, peer_select_hops(&pc, st, pp, PEER_SELECT_CLIENT, excl, 5, 1,
				  now, out, &lng), ERR_NOT_FOUND);
	/* Between "XR" (48) and "XRD" (12), D is drawn a fifth of the
	 * time. */
	memcpy(excl[0], h[1], 32);
	memcpy(excl[1], h[3], 32);
	memcpy(excl[2], h[5], 32);
	for (unsigned k = 0; k < 2000; k++) {
		T_OK(t, peer_select_hops(&pc, st, pp, PEER_SELECT_CLIENT,
					 excl, 3, 1, now, out, &lng));
		T_TRUE(t, memcmp(out[0].ident, h[0], 32) == 0 ||
			  memcmp(out[0].ident, h[2], 32) == 0);
		d += memcmp(out[0].ident, h[2], 32) == 0;
	}
	T_TRUE(t, d > 2000 / 5 - 120 && d < 2000 / 5 + 120);
	netdb_store_free(st);
	peer_profiles_free(pp);
}

/* Paid relaying: every hop is paid (a 139-byte ticket whose first byte
 * counts the tickets given); each ticket pays for PAY_TD tunnel
 * messages. */
#define PAY_TD 40
#define PAY_B ((uint64_t)PAY_TD * 1028)	/* bytes a build ticket pays */
static unsigned tickets_given, tags_made;
static uint32_t tag_in[64];	/* the tag of each call, as it came */
static uint64_t bytes_in[64];	/* the bytes each call asked to pay */
static uint64_t pay_cap;	/* pay at most this (0: what is asked) */

static size_t give_ticket(void *ctx, const uint8_t hop[32], bool inbound,
			  unsigned pool, uint32_t *tag, uint64_t *bytes,
			  uint8_t *out, size_t outmax)
{
	(void)ctx;
	(void)hop;
	(void)inbound;
	if (pool < 32)
		pools_seen |= 1u << pool;
	if (tickets_given < ARRAY_LEN(tag_in)) {
		tag_in[tickets_given] = *tag;
		bytes_in[tickets_given] = *bytes;
	}
	if (pay_cap && *bytes > pay_cap)
		*bytes = pay_cap;
	if (!*tag)
		*tag = 100 + ++tags_made;	/* a tunnel's first ticket */
	if (outmax < 139)
		return 0;
	memset(out, 0x77, 139);
	out[0] = (uint8_t)++tickets_given;
	return 139;
}

static size_t topups_at(const struct sim *s)
{
	size_t n = 0;

	for (unsigned i = 0; i < NHOPS; i++)
		n += s->hops[i].n_topups;
	return n;
}

/* Tickets after the build: once the outbound tunnel has carried half of
 * what its build tickets paid for, each of its hops gets one more, as
 * garlic to its router through the tunnel, naming the id it receives on;
 * a tunnel that carried several tickets' worth in a tick is paid for
 * them in one round (and a tick's worth ahead) with larger tickets; a hop
 * paid less than asked gets the next sooner; nothing for the inbound
 * tunnel that carried little, nothing without the top-up size. */
/* Send n 900-byte Data messages down p's outbound tunnel (one tunnel
 * message each); the sends that failed. */
static int carry(struct sim *s, struct tunnel_pool *p, int n)
{
	uint8_t body[900];
	int bad = 0;

	memset(body, 0x42, sizeof(body));
	for (int i = 0; i < n; i++)
		bad += tunnel_pool_send(p, s->sink, 0,
					i2np_msg_new(I2NP_DATA, body,
						     sizeof(body), 5000),
					s->mono) != 0;
	return bad;
}

static void test_paid_topup(struct tctx *t)
{
	struct sim s;
	struct tunnel_pool_cfg pc;
	struct tunnel_pool_stats st;
	struct tunnel_pool *p;
	struct transit_info ti;
	uint8_t hops[8][32];
	unsigned n = 0, first;

	small_pool(&pc, 2, 1);
	sim_init(t, &s, &pc);
	tickets_given = tags_made = 0;
	pay_cap = 0;
	tunnel_mgr_set_ticket_fn(s.mgr, give_ticket, NULL);
	tunnel_mgr_set_topup(s.mgr, PAY_B);
	p = tunnel_mgr_exploratory(s.mgr);
	step(&s, 0);
	stats(&s, &st);
	T_EQ(t, st.out_ready, 1);
	T_EQ(t, st.in_ready, 1);
	T_EQ(t, st.tickets_sent, 4);
	T_EQ(t, tickets_given, 4);
	/* each tunnel's first call has no tag, its second the first's */
	T_EQ(t, tags_made, 2);
	T_EQ(t, tag_in[0], 0);
	T_TRUE(t, tag_in[1] > 100);
	T_EQ(t, tag_in[2], 0);
	T_TRUE(t, tag_in[3] > 100 && tag_in[3] != tag_in[1]);
	for (unsigned i = 0; i < 4; i++)
		T_EQ(t, bytes_in[i], PAY_B);	/* the build tickets */
	T_EQ(t, s.seen[I2NP_SHORT_TUNNEL_BUILD], 0);	/* long records */
	T_OK(t, tunnel_pool_hops(p, false, 0, hops, &n));
	T_EQ(t, n, 2);
	/* a quarter of what was paid: nothing yet */
	T_EQ(t, carry(&s, p, PAY_TD / 4), 0);
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.topups_sent, 0);
	T_EQ(t, topups_at(&s), 0);
	/* past half: one ticket for each hop of the outbound tunnel */
	T_EQ(t, carry(&s, p, PAY_TD / 4 + 2), 0);
	first = tickets_given;
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.topups_sent, 2);
	T_EQ(t, tickets_given, first + 2);
	T_EQ(t, topups_at(&s), 2);
	/* a tunnel carrying under a ticket's worth a tick: the same size */
	T_EQ(t, bytes_in[first], PAY_B);
	T_EQ(t, bytes_in[first + 1], PAY_B);
	/* the top-ups come with the outbound tunnel's tag */
	T_TRUE(t, tag_in[first] == tag_in[1] || tag_in[first] == tag_in[3]);
	T_EQ(t, tag_in[first + 1], tag_in[first]);
	T_EQ(t, tags_made, 2);
	for (unsigned k = 0; k < 2; k++) {
		struct hop *h = NULL;

		for (unsigned i = 0; i < NHOPS; i++)
			if (!memcmp(s.hops[i].hash, hops[k], 32))
				h = &s.hops[i];
		T_TRUE(t, h != NULL);
		if (!h)
			continue;
		T_EQ(t, h->topups_bad, 0);
		T_EQ(t, h->n_topups, 1);
		/* the id it receives the outbound tunnel's messages on */
		T_TRUE(t, transit_table_lookup(h->tt, h->topup_id[0], &ti));
		T_TRUE(t, h->topup_tk[0] > first && h->topup_tk[0] <= first + 2);
	}
	/* paid ahead now: no more until another half ticket's worth */
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.topups_sent, 2);
	/* three tickets' worth more in one tick (a fast tunnel): paid for
	 * what it carried and another tick at that rate, (3.5 + 3 - 2)
	 * tickets' worth, with larger tickets rather than more: the size
	 * doubled while within TUNNEL_TOPUP_SIZE_S ticks at that rate, at
	 * most TUNNEL_TOPUP_GROW_MAX times; one of 8 tickets' worth a hop */
	T_EQ(t, carry(&s, p, PAY_TD * 3), 0);
	first = tickets_given;
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.topups_sent, 2 + 2);
	T_EQ(t, tickets_given, first + 2);
	T_EQ(t, topups_at(&s), 4);
	T_EQ(t, bytes_in[first], TUNNEL_TOPUP_GROW_MAX * PAY_B);
	T_EQ(t, bytes_in[first + 1], TUNNEL_TOPUP_GROW_MAX * PAY_B);
	for (unsigned i = 0; i < NHOPS; i++)
		T_TRUE(t, s.hops[i].topup_msgs == 0 ||
			  (s.hops[i].topup_msgs == 2 &&
			   s.hops[i].n_topups == 2));
	/* paid ahead again (10 tickets' worth): the next tick, with nothing
	 * carried, none */
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.topups_sent, 4);
	/* hops the ticket function pays less than asked (its face value):
	 * 9 tickets' worth in a tick, asked 8 a ticket, paid 2: two tickets
	 * a hop (14 paid for, 13 carried) */
	pay_cap = 2 * PAY_B;
	T_EQ(t, carry(&s, p, PAY_TD * 9), 0);
	first = tickets_given;
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.topups_sent, 4 + 4);
	T_EQ(t, bytes_in[first], TUNNEL_TOPUP_GROW_MAX * PAY_B);
	/* so one more ticket's worth is enough for another round, asked 4
	 * tickets' worth (within 4 ticks of 1) */
	T_EQ(t, carry(&s, p, PAY_TD), 0);
	first = tickets_given;
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.topups_sent, 8 + 2);
	T_EQ(t, bytes_in[first], 4 * PAY_B);
	T_EQ(t, topups_at(&s), 10);
	pay_cap = 0;
	/* without a top-up size, none however much is carried */
	tunnel_mgr_set_topup(s.mgr, 0);
	(void)carry(&s, p, PAY_TD * 2);
	step(&s, 1000);
	stats(&s, &st);
	T_EQ(t, st.topups_sent, 10);
	T_EQ(t, topups_at(&s), 10);
	sim_free(&s);
}

const struct test_case tunnels_pool_tests[] = {
	{ "build_and_test", test_build_and_test, TT_FORK },
	{ "send_packs_a_pass", test_send_packs_a_pass, TT_FORK },
	{ "send_and_receive", test_send_and_receive, TT_FORK },
	{ "reject", test_reject, TT_FORK },
	{ "timeout", test_timeout, TT_FORK },
	{ "tampered_reply", test_tampered_reply, TT_FORK },
	{ "test_failure_replaces", test_test_failure_replaces, TT_FORK },
	{ "unreachable_hop_retests", test_unreachable_hop_retests, TT_FORK },
	{ "rebuild_before_expiry", test_rebuild_before_expiry, TT_FORK },
	{ "rebuild_short_lifetime", test_rebuild_short_lifetime, TT_FORK },
	{ "long_records", test_long_records, TT_FORK },
	{ "reply_not_via_obep", test_reply_not_via_obep, TT_FORK },
	{ "client_pool", test_client_pool, TT_FORK },
	{ "pay_keys", test_pay_keys, TT_FORK },
	{ "zero_hop", test_zero_hop, TT_FORK },
	{ "zero_hop_mixed", test_zero_hop_mixed, TT_FORK },
	{ "load_fallback", test_load_fallback, TT_FORK },
	{ "late_reply", test_late_reply, TT_FORK },
	{ "variance", test_variance, TT_FORK },
	{ "select", test_select, 0 },
	{ "select_fallback", test_select_fallback, 0 },
	{ "select_pay", test_select_pay, 0 },
	{ "test_hops", test_test_hops, TT_FORK },
	{ "profiles_persist", test_profiles_persist, 0 },
	{ "profiles_decay", test_profiles_decay, 0 },
	{ "profiles_v1_db", test_profiles_v1_db, 0 },
	{ "peer_order", test_peer_order, TT_FORK },
	{ "short_tunnels", test_short_tunnels, TT_FORK },
	{ "variance_negative", test_variance_negative, TT_FORK },
	{ "standby", test_standby, TT_FORK },
	{ "send_on", test_send_on, TT_FORK },
	{ "unreachable_profile", test_unreachable_profile, 0 },
	{ "dead_hop", test_dead_hop, TT_FORK },
	{ "send_failure_marks", test_send_failure_marks, TT_FORK },
	{ "select_caps", test_select_caps, TT_FORK },
	{ "paid_topup", test_paid_topup, TT_FORK },
	{ NULL, NULL, 0 }
};
