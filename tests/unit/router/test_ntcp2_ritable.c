/*
 * router/ri_table: the interim DatabaseStore/DatabaseLookup handler that
 * answers what i2pd sends a fresh NTCP2 session, and the announce.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/gzip.h"
#include "router/i2np.h"
#include "router/ri_table.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/keystore.h"

#include <stdlib.h>
#include <string.h>

#define NETID 77
#define MAX_SENT 16

struct sent {
	size_t n;
	uint8_t to[MAX_SENT][32];
	struct i2np_msg *m[MAX_SENT];
};

static int capture(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	struct sent *s = ctx;

	if (s->n >= MAX_SENT) {
		i2np_msg_free(m);
		return ERR_LIMIT;
	}
	memcpy(s->to[s->n], peer, 32);
	s->m[s->n++] = m;
	return 0;
}

static void sent_clear(struct sent *s)
{
	for (size_t i = 0; i < s->n; i++)
		i2np_msg_free(s->m[i]);
	s->n = 0;
}

/* A signed RouterInfo with caps, published at published_ms. */
static struct router_info *make_ri(struct router_keys *k, const char *caps,
				   uint64_t published_ms)
{
	struct keys_and_cert id;
	struct router_address a = ROUTER_ADDRESS_INIT;
	struct x25519_pk s;
	struct router_info *ri;

	router_keys_identity(k, &id);
	keystore_x25519_pk(router_keys_keystore(k), KEYSTORE_X_NTCP2, &s);
	ri = router_info_new(&id);
	router_info_set_published(ri, published_ms);
	(void)router_address_ntcp2_build(&a, 3, &s, "127.0.0.5", 12345,
					 router_keys_ntcp2_iv(k));
	(void)router_info_add_address(ri, &a);
	router_address_clear(&a);
	(void)router_info_set_basic_options(ri, NETID, caps);
	(void)router_info_sign(ri, router_keys_keystore(k));
	return ri;
}

/* A DatabaseStore of ri under key, with a reply token. */
static struct i2np_msg *store(const struct router_info *ri, const uint8_t *key,
			      uint32_t token, uint32_t tunnel,
			      const uint8_t gw[32])
{
	struct i2np_db_store s;
	struct bbuf gz = BBUF_INIT, body = BBUF_INIT;
	const uint8_t *b;
	size_t len;
	uint8_t *p;

	b = router_info_bytes(ri, &len);
	(void)gzip_compress(b, len, &gz);
	memset(&s, 0, sizeof(s));
	memcpy(s.key, key, 32);
	s.store_type = I2NP_STORE_RI;
	s.reply_token = token;
	s.reply_tunnel_id = tunnel;
	if (gw)
		memcpy(s.reply_gateway, gw, 32);
	s.data = gz.data;
	s.data_len = gz.len;
	i2np_db_store_encode(&s, &body);
	bbuf_free(&gz);
	p = bbuf_steal(&body, &len);
	return i2np_msg_new_take(I2NP_DATABASE_STORE, p, len, 10000);
}

static struct i2np_msg *lookup(const uint8_t key[32], const uint8_t from[32],
			       uint8_t flags, const uint8_t *excl, uint16_t nex)
{
	struct i2np_db_lookup l;
	struct bbuf b = BBUF_INIT;
	uint8_t *p;
	size_t len;

	memset(&l, 0, sizeof(l));
	memcpy(l.key, key, 32);
	memcpy(l.from, from, 32);
	l.flags = flags;
	l.n_excluded = nex;
	l.excluded = excl;
	i2np_db_lookup_encode(&l, &b);
	p = bbuf_steal(&b, &len);
	return i2np_msg_new_take(I2NP_DATABASE_LOOKUP, p, len, 10000);
}

struct fix {
	struct router_keys *self, *peer[4];
	struct router_info *ri[4];
	uint8_t self_hash[32];
	struct ri_table *rt;
	struct sent s;
};

static void fix_init(struct fix *f)
{
	struct keys_and_cert id;
	uint64_t now = time_now_ms();

	memset(f, 0, sizeof(*f));
	f->self = router_keys_new_random();
	router_keys_identity(f->self, &id);
	memcpy(f->self_hash, id.hash, 32);
	for (int i = 0; i < 4; i++) {
		f->peer[i] = router_keys_new_random();
		f->ri[i] = make_ri(f->peer[i], i == 0 ? "Xf" : "LR", now - 1000);
	}
	f->rt = ri_table_new(f->self_hash, NETID, NULL, NULL);
	ri_table_set_sender(f->rt, (struct ri_table_sender){ capture, &f->s });
}

static void fix_free(struct fix *f)
{
	sent_clear(&f->s);
	ri_table_free(f->rt);
	for (int i = 0; i < 4; i++) {
		router_info_free(f->ri[i]);
		router_keys_free(f->peer[i]);
	}
	router_keys_free(f->self);
}

static const uint8_t *h(const struct router_info *ri)
{
	return router_info_hash(ri);
}

static void test_store_and_ack(struct tctx *t)
{
	struct fix f;
	struct i2np_delivery_status ds;
	struct i2np_tunnel_gateway g;
	struct ri_table_stats st;
	uint8_t gw[32];

	fix_init(&f);
	memset(gw, 0x42, sizeof(gw));
	ri_table_handle(f.rt, h(f.ri[1]), store(f.ri[1], h(f.ri[1]), 1234, 0, gw));
	T_TRUE(t, ri_table_get(f.rt, h(f.ri[1])) != NULL);
	T_EQ(t, f.s.n, 1);
	if (f.s.n == 1) {
		T_MEMEQ(t, f.s.to[0], gw, 32);
		T_EQ(t, f.s.m[0]->type, I2NP_DELIVERY_STATUS);
		T_OK(t, i2np_delivery_status_decode(f.s.m[0], &ds));
		T_EQ(t, ds.msg_id, 1234);
	}
	sent_clear(&f.s);
	/* through a reply tunnel: wrapped for its gateway */
	ri_table_handle(f.rt, h(f.ri[2]), store(f.ri[2], h(f.ri[2]), 77, 9, gw));
	T_EQ(t, f.s.n, 1);
	if (f.s.n == 1) {
		T_EQ(t, f.s.m[0]->type, I2NP_TUNNEL_GATEWAY);
		T_OK(t, i2np_tunnel_gateway_decode(f.s.m[0], &g));
		T_EQ(t, g.tunnel_id, 9);
	}
	sent_clear(&f.s);
	/* stored under the wrong key, or no token: no ack */
	ri_table_handle(f.rt, gw, store(f.ri[3], h(f.ri[2]), 5, 0, gw));
	T_EQ(t, f.s.n, 0);
	T_TRUE(t, ri_table_get(f.rt, h(f.ri[3])) == NULL);
	ri_table_handle(f.rt, gw, store(f.ri[3], h(f.ri[3]), 0, 0, NULL));
	T_EQ(t, f.s.n, 0);
	T_TRUE(t, ri_table_get(f.rt, h(f.ri[3])) != NULL);
	ri_table_stats(f.rt, &st);
	T_EQ(t, st.stores_in, 4);
	T_EQ(t, st.acks_sent, 2);
	T_EQ(t, st.rejected, 1);
	T_EQ(t, ri_table_count(f.rt), 3);
	fix_free(&f);
}

static void test_add_rules(struct tctx *t)
{
	struct fix f;
	struct router_info *older, *newer, *other_net;
	const uint8_t *b;
	size_t len;
	uint64_t now = time_now_ms();

	fix_init(&f);
	b = router_info_bytes(f.ri[1], &len);
	T_OK(t, ri_table_add(f.rt, b, len));
	T_ERR(t, ri_table_add(f.rt, b, len), ERR_EXISTS);
	older = make_ri(f.peer[1], "LR", now - 60000);
	b = router_info_bytes(older, &len);
	T_ERR(t, ri_table_add(f.rt, b, len), ERR_EXISTS);
	newer = make_ri(f.peer[1], "LR", now);
	b = router_info_bytes(newer, &len);
	T_OK(t, ri_table_add(f.rt, b, len));
	T_TRUE(t, router_info_published(ri_table_get(f.rt, h(newer))) == now);
	/* a flipped signed byte, and a RouterInfo of another network */
	uint8_t *copy = malloc(len);
	memcpy(copy, b, len);
	copy[len / 2] ^= 1;
	T_TRUE(t, ri_table_add(f.rt, copy, len) != 0);
	free(copy);
	other_net = make_ri(f.peer[2], "LR", now);
	(void)router_info_set_basic_options(other_net, 5, "LR");
	(void)router_info_sign(other_net, router_keys_keystore(f.peer[2]));
	b = router_info_bytes(other_net, &len);
	T_ERR(t, ri_table_add(f.rt, b, len), ERR_NETWORK);
	/* from the future */
	router_info_free(other_net);
	other_net = make_ri(f.peer[2], "LR", now + 10 * 60000);
	b = router_info_bytes(other_net, &len);
	T_ERR(t, ri_table_add(f.rt, b, len), ERR_EXPIRED);
	router_info_free(older);
	router_info_free(newer);
	router_info_free(other_net);
	fix_free(&f);
}

static void test_lookups(struct tctx *t)
{
	struct fix f;
	struct i2np_db_store s;
	struct i2np_search_reply sr;
	uint8_t from[32], unknown[32], out[4096];
	const uint8_t *b;
	size_t len, olen;

	fix_init(&f);
	memset(from, 0x11, sizeof(from));
	memset(unknown, 0x99, sizeof(unknown));
	for (int i = 0; i < 4; i++) {
		b = router_info_bytes(f.ri[i], &len);
		T_OK(t, ri_table_add(f.rt, b, len));
	}
	/* a router we know: its RouterInfo, gzip'd, straight back */
	ri_table_handle(f.rt, from, lookup(h(f.ri[2]), from,
					   I2NP_LOOKUP_TYPE_RI, NULL, 0));
	T_EQ(t, f.s.n, 1);
	if (f.s.n == 1) {
		T_MEMEQ(t, f.s.to[0], from, 32);
		T_OK(t, i2np_db_store_decode(f.s.m[0], &s));
		T_MEMEQ(t, s.key, h(f.ri[2]), 32);
		T_EQ(t, s.reply_token, 0);
		T_OK(t, gzip_decompress(s.data, s.data_len, out, sizeof(out),
					&olen));
		b = router_info_bytes(f.ri[2], &len);
		T_EQ(t, olen, len);
		T_MEMEQ(t, out, b, len);
	}
	sent_clear(&f.s);
	/* one we do not know: a search reply, the excluded left out */
	ri_table_handle(f.rt, from, lookup(unknown, from, 0, h(f.ri[0]), 1));
	T_EQ(t, f.s.n, 1);
	if (f.s.n == 1) {
		T_EQ(t, f.s.m[0]->type, I2NP_DATABASE_SEARCH_REPLY);
		T_OK(t, i2np_search_reply_decode(f.s.m[0], &sr));
		T_EQ(t, sr.n_peers, 3);
		T_MEMEQ(t, sr.from, f.self_hash, 32);
		for (int i = 0; i < sr.n_peers; i++)
			T_FALSE(t, memcmp(sr.peers + 32 * i, h(f.ri[0]), 32) == 0);
	}
	sent_clear(&f.s);
	/* an encrypted reply is not something we can give yet */
	ri_table_handle(f.rt, from, lookup(h(f.ri[1]), from,
					   I2NP_LOOKUP_FLAG_ECIES, NULL, 0));
	T_EQ(t, f.s.n, 0);
	fix_free(&f);
}

static void test_announce(struct tctx *t)
{
	struct fix f;
	struct i2np_db_store s;
	struct ri_table_stats st;
	struct bbuf b = BBUF_INIT;
	const uint8_t *rb;
	size_t len;
	uint8_t *p;

	fix_init(&f);
	for (int i = 0; i < 3; i++) {
		rb = router_info_bytes(f.ri[i], &len);
		T_OK(t, ri_table_add(f.rt, rb, len));
	}
	T_EQ(t, ri_table_announce(f.rt, 10), 0);	/* no RouterInfo of ours */
	rb = router_info_bytes(f.ri[3], &len);	/* stands in for ours */
	ri_table_set_self(f.rt, rb, len);
	T_EQ(t, ri_table_announce(f.rt, 2), 2);
	T_EQ(t, f.s.n, 2);
	if (f.s.n == 2) {
		/* the floodfill first, asked for an ack */
		T_MEMEQ(t, f.s.to[0], h(f.ri[0]), 32);
		T_OK(t, i2np_db_store_decode(f.s.m[0], &s));
		T_NE(t, s.reply_token, 0);
		T_MEMEQ(t, s.reply_gateway, f.self_hash, 32);
		/* its DeliveryStatus counts */
		struct i2np_delivery_status ds = { s.reply_token, time_now_ms() };
		i2np_delivery_status_encode(&ds, &b);
		p = bbuf_steal(&b, &len);
		ri_table_handle(f.rt, h(f.ri[0]),
				i2np_msg_new_take(I2NP_DELIVERY_STATUS, p, len,
						  10000));
		T_OK(t, i2np_db_store_decode(f.s.m[1], &s));
		T_EQ(t, s.reply_token, 0);
	}
	ri_table_stats(f.rt, &st);
	T_EQ(t, st.acks_received, 1);
	fix_free(&f);
}

const struct test_case router_ntcp2_ritable_tests[] = {
	{ "store_and_ack", test_store_and_ack, 0 },
	{ "add_rules", test_add_rules, 0 },
	{ "lookups", test_lookups, 0 },
	{ "announce", test_announce, 0 },
	{ NULL, NULL, 0 }
};
