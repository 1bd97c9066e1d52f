/*
 * The tunnel data layer: layer crypto against OpenSSL (tmodel.c), the
 * message checksum and padding, delivery instructions byte by byte, and
 * round trips of many messages of many sizes gateway → N hops → endpoint
 * in both tunnel directions, out of order, with the endpoint's limits.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/tunnels/tmodel.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"
#include "tunnels/endpoint.h"
#include "tunnels/gateway.h"
#include "tunnels/layer.h"
#include "tunnels/tunnel_msg.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 13 * i + (i >> 8));
}

static void test_layer_model(struct tctx *t)
{
	uint8_t lk[32], ik[32], a[1024], b[1024], orig[1024];
	struct tunnel_layer l;

	fill(lk, 32, 1);
	fill(ik, 32, 2);
	fill(orig, sizeof(orig), 3);
	tunnel_layer_init(&l, lk, ik);
	memcpy(a, orig, sizeof(a));
	memcpy(b, orig, sizeof(b));
	for (int i = 0; i < 3; i++) {	/* the contexts are reused */
		T_OK(t, tunnel_layer_encrypt(&l, a));
		tmodel_layer(lk, ik, b, true);
		T_MEMEQ(t, a, b, sizeof(a));
	}
	for (int i = 0; i < 3; i++) {
		T_OK(t, tunnel_layer_decrypt(&l, a));
		tmodel_layer(lk, ik, b, false);
		T_MEMEQ(t, a, b, sizeof(a));
	}
	T_MEMEQ(t, a, orig, sizeof(a));
	tunnel_layer_wipe(&l);
	T_TRUE(t, l.keys == NULL);
}

/* Eleven messages at once (a full pass of lanes and a part one), some
 * sharing a layer, against the model one by one. */
static void test_layer_n_model(struct tctx *t)
{
	enum { N = 11, K = 4 };
	uint8_t lk[K][32], ik[K][32], a[N][1024], b[N][1024];
	struct tunnel_layer l[K], *lp[N];
	uint8_t *mp[N];

	for (int k = 0; k < K; k++) {
		fill(lk[k], 32, (uint8_t)(10 + k));
		fill(ik[k], 32, (uint8_t)(20 + k));
		tunnel_layer_init(&l[k], lk[k], ik[k]);
	}
	for (int i = 0; i < N; i++) {
		fill(a[i], sizeof(a[i]), (uint8_t)(30 + i));
		memcpy(b[i], a[i], sizeof(a[i]));
		lp[i] = &l[i % K];
		mp[i] = a[i];
	}
	T_OK(t, tunnel_layer_encrypt_n(lp, mp, N));
	for (int i = 0; i < N; i++) {
		tmodel_layer(lk[i % K], ik[i % K], b[i], true);
		T_MEMEQ(t, a[i], b[i], sizeof(a[i]));
	}
	T_OK(t, tunnel_layer_encrypt_n(lp, mp, 0));
	for (int k = 0; k < K; k++)
		tunnel_layer_wipe(&l[k]);
}

/* Outbound: the gateway peels every hop, each hop adds its layer, the
 * OBEP sees the plaintext.  Inbound: the IBGW and the hops add theirs,
 * the endpoint peels them all. */
static void test_layer_peel(struct tctx *t)
{
	struct tunnel_layer hops[7];
	uint8_t lk[32], ik[32], msg[1024], orig[1024];

	for (unsigned i = 0; i < 7; i++) {
		fill(lk, 32, (uint8_t)(10 + i));
		fill(ik, 32, (uint8_t)(20 + i));
		tunnel_layer_init(&hops[i], lk, ik);
	}
	fill(orig, sizeof(orig), 5);
	for (unsigned n = 1; n <= 7; n++) {
		memcpy(msg, orig, sizeof(msg));
		T_OK(t, tunnel_layer_peel(hops, n, msg));
		for (unsigned i = 0; i < n; i++)
			T_OK(t, tunnel_layer_encrypt(&hops[i], msg));
		T_MEMEQ(t, msg, orig, sizeof(msg));
		for (unsigned i = 0; i < n; i++)
			T_OK(t, tunnel_layer_encrypt(&hops[i], msg));
		T_TRUE(t, memcmp(msg, orig, sizeof(msg)) != 0);
		T_OK(t, tunnel_layer_peel(hops, n, msg));
		T_MEMEQ(t, msg, orig, sizeof(msg));
	}
	for (unsigned i = 0; i < 7; i++)
		tunnel_layer_wipe(&hops[i]);
}

static void test_msg_checksum(struct tctx *t)
{
	uint8_t msg[1024], payload[1003], h[32], buf[1003 + 16];
	const uint8_t *p;
	size_t len, sizes[] = { 1, 3, 500, 1002, 1003 };

	for (size_t k = 0; k < ARRAY_LEN(sizes); k++) {
		size_t n = sizes[k], pad = 1008 - 4 - 1 - n;

		fill(payload, n, (uint8_t)k);
		tunnel_msg_finish(msg, payload, n);
		T_OK(t, tunnel_msg_open(msg, &p, &len));
		T_EQ(t, len, n);
		T_MEMEQ(t, p, payload, n);
		T_EQ(t, msg[16 + 4 + pad], 0);		/* the zero byte */
		T_TRUE(t, memchr(msg + 20, 0, pad) == NULL);
		/* "the first 4 bytes of the SHA256 hash of (the contents of
		 * the message (after the zero byte) + IV)" */
		memcpy(buf, payload, n);
		memcpy(buf + n, msg, 16);
		EVP_Digest(buf, n + 16, h, NULL, EVP_sha256(), NULL);
		T_MEMEQ(t, msg + 16, h, 4);
		msg[1023] ^= 1;
		T_ERR(t, tunnel_msg_open(msg, &p, &len), ERR_AUTH);
		msg[1023] ^= 1;
		msg[3] ^= 1;				/* the IV is covered */
		T_ERR(t, tunnel_msg_open(msg, &p, &len), ERR_AUTH);
	}
	memset(msg, 0xab, sizeof(msg));
	T_ERR(t, tunnel_msg_open(msg, &p, &len), ERR_FORMAT);
	/* payload may live inside msg */
	fill(msg + 100, 300, 9);
	memcpy(payload, msg + 100, 300);
	tunnel_msg_finish(msg, msg + 100, 300);
	T_OK(t, tunnel_msg_open(msg, &p, &len));
	T_MEMEQ(t, p, payload, 300);
}

static void test_di_codec(struct tctx *t)
{
	struct tunnel_di d, got;
	struct breader r;
	uint8_t buf[64], h[32];

	fill(h, 32, 7);
	/* LOCAL, whole: flag 0x00, size: "3 bytes for LOCAL delivery" */
	d = (struct tunnel_di){ .type = TUNNEL_DELIVER_LOCAL, .size = 0x1234 };
	T_EQ(t, tunnel_di_encode(&d, buf), 3);
	T_EQ(t, buf[0], 0x00);
	T_EQ(t, be16_get(buf + 1), 0x1234);
	/* ROUTER whole: 35; TUNNEL whole: 39; first fragments 39 and 43 */
	d = (struct tunnel_di){ .type = TUNNEL_DELIVER_ROUTER, .size = 9 };
	memcpy(d.hash, h, 32);
	T_EQ(t, tunnel_di_encode(&d, buf), 35);
	T_EQ(t, buf[0], 0x40);
	T_MEMEQ(t, buf + 1, h, 32);
	d.type = TUNNEL_DELIVER_TUNNEL;
	d.tunnel_id = 0xcafebabe;
	T_EQ(t, tunnel_di_encode(&d, buf), 39);
	T_EQ(t, buf[0], 0x20);
	T_EQ(t, be32_get(buf + 1), 0xcafebabe);
	T_MEMEQ(t, buf + 5, h, 32);
	d.fragmented = true;
	d.msg_id = 0x11223344;
	T_EQ(t, tunnel_di_encode(&d, buf), 43);
	T_EQ(t, buf[0], 0x28);
	T_EQ(t, be32_get(buf + 37), 0x11223344);
	T_EQ(t, be16_get(buf + 41), 9);
	br_init(&r, buf, 43);
	T_OK(t, tunnel_di_decode(&r, &got));
	T_TRUE(t, br_done(&r));
	T_EQ(t, got.type, TUNNEL_DELIVER_TUNNEL);
	T_EQ(t, got.tunnel_id, 0xcafebabe);
	T_TRUE(t, got.fragmented);
	T_EQ(t, got.msg_id, 0x11223344);
	T_MEMEQ(t, got.hash, h, 32);
	/* follow-on: "binary 1nnnnnnd" */
	d = (struct tunnel_di){ .follow_on = true, .frag_num = 63, .last = true,
				.msg_id = 5, .size = 996 };
	T_EQ(t, tunnel_di_encode(&d, buf), 7);
	T_EQ(t, buf[0], 0xff);
	d.frag_num = 1;
	d.last = false;
	tunnel_di_encode(&d, buf);
	T_EQ(t, buf[0], 0x82);
	br_init(&r, buf, 7);
	T_OK(t, tunnel_di_decode(&r, &got));
	T_TRUE(t, got.follow_on && got.frag_num == 1 && !got.last);
	/* refused: type 3, the delay and extended bits, fragment 0, size 0,
	 * truncation at every length */
	buf[0] = 0x60;
	br_init(&r, buf, 64);
	T_ERR(t, tunnel_di_decode(&r, &got), ERR_FORMAT);
	buf[0] = 0x10;
	br_init(&r, buf, 64);
	T_ERR(t, tunnel_di_decode(&r, &got), ERR_UNSUPPORTED);
	buf[0] = 0x04;
	br_init(&r, buf, 64);
	T_ERR(t, tunnel_di_decode(&r, &got), ERR_UNSUPPORTED);
	buf[0] = 0x80 | 0x01;
	br_init(&r, buf, 64);
	T_ERR(t, tunnel_di_decode(&r, &got), ERR_FORMAT);
	buf[0] = 0x00;
	buf[1] = buf[2] = 0;
	br_init(&r, buf, 3);
	T_ERR(t, tunnel_di_decode(&r, &got), ERR_FORMAT);
	d = (struct tunnel_di){ .type = TUNNEL_DELIVER_TUNNEL, .fragmented = true,
				.size = 1 };
	tunnel_di_encode(&d, buf);
	for (size_t n = 0; n < 43; n++) {
		br_init(&r, buf, n);
		T_ERR(t, tunnel_di_decode(&r, &got), ERR_TRUNCATED);
	}
}

/* ---- round trips ---- */

struct want {
	uint8_t *data;
	size_t len;
	enum tunnel_delivery type;
	uint32_t tid;
	uint8_t hash[32];
};

struct sink {
	struct tctx *t;
	struct want *w;
	size_t n, next;
	bool in_order;
	bool *seen;
	bool replaying;		/* count deliveries, check nothing */
	unsigned replayed;
};

static void on_deliver(void *ctx, const struct tunnel_endpoint_msg *m)
{
	struct sink *s = ctx;
	size_t i = s->next;

	if (s->replaying) {
		s->replayed++;
		return;
	}
	if (!s->in_order) {
		/* find it by its I2NP message id and length */
		for (i = 0; i < s->n; i++)
			if (!s->seen[i] && s->w[i].len == m->len &&
			    memcmp(s->w[i].data, m->data, m->len) == 0)
				break;
	}
	if (i >= s->n) {
		t_fail(s->t, __FILE__, __LINE__, "unexpected message (%zu bytes)",
		       m->len);
		return;
	}
	s->seen[i] = true;
	s->next = i + 1;
	T_EQ(s->t, m->len, s->w[i].len);
	if (m->len == s->w[i].len)
		T_MEMEQ(s->t, m->data, s->w[i].data, m->len);
	T_EQ(s->t, m->type, s->w[i].type);
	if (m->type == TUNNEL_DELIVER_TUNNEL)
		T_EQ(s->t, m->tunnel_id, s->w[i].tid);
	if (m->type != TUNNEL_DELIVER_LOCAL)
		T_MEMEQ(s->t, m->hash, s->w[i].hash, 32);
}

static size_t pick_size(unsigned i)
{
	static const size_t edge[] = {
		16, 17, 900, 956, 957, 960, 961, 964, 996, 1000, 1003, 1004,
		1952, 1953, 1956, 2000, 62724, 30000, 4000, 63
	};

	if (i < ARRAY_LEN(edge))
		return edge[i];
	switch (rand_uniform(4)) {
	case 0: return 16 + rand_uniform(100);
	case 1: return 16 + rand_uniform(1100);
	case 2: return 16 + rand_uniform(5000);
	default: return 16 + rand_uniform(62724 - 16 + 1);
	}
}

static void make_msgs(struct want *w, size_t n, bool local_only)
{
	for (size_t i = 0; i < n; i++) {
		w[i].len = pick_size((unsigned)i);
		w[i].data = xmalloc(w[i].len);
		rand_bytes(w[i].data, w[i].len);
		w[i].type = local_only ? TUNNEL_DELIVER_LOCAL
				       : (enum tunnel_delivery)rand_uniform(3);
		w[i].tid = (uint32_t)rand_u64() | 1;
		rand_bytes(w[i].hash, 32);
	}
}

static void free_msgs(struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].data);
}

/* Decode every fragment of a plaintext tunnel message and check the size
 * rules the gateway promises. */
static void check_sizes(struct tctx *t, const uint8_t *msg, unsigned *frags)
{
	const uint8_t *p;
	size_t len;
	struct breader r;
	struct tunnel_di d;

	T_OK(t, tunnel_msg_open(msg, &p, &len));
	br_init(&r, p, len);
	while (br_left(&r) > 0) {
		if (tunnel_di_decode(&r, &d) != 0 || !br_take(&r, d.size)) {
			t_fail(t, __FILE__, __LINE__, "bad instructions");
			return;
		}
		if (d.follow_on) {
			T_TRUE(t, d.size <= TUNNEL_FOLLOW_FRAG_MAX_BYTES);
			T_TRUE(t, d.frag_num < TUNNEL_MAX_FRAGMENTS);
			(*frags)++;
		} else if (d.fragmented) {
			T_TRUE(t, d.size <= TUNNEL_FIRST_FRAG_MAX_BYTES);
		}
	}
}

static void roundtrip(struct tctx *t, bool inbound, unsigned nhops,
		      size_t nmsg, uint64_t seed)
{
	struct tunnel_layer hops[8];
	struct tunnel_gateway *g = tunnel_gateway_new();
	struct want *w = xcalloc(nmsg, sizeof(*w));
	struct sink s = { .t = t, .w = w, .n = nmsg, .in_order = true };
	struct tunnel_endpoint *e;
	uint8_t msg[1024], k1[32], k2[32];
	unsigned tmsgs = 0, follow = 0;

	rand_set_deterministic(seed);
	s.seen = xcalloc(nmsg, sizeof(bool));
	e = tunnel_endpoint_new(on_deliver, &s, NULL);
	for (unsigned i = 0; i < nhops; i++) {
		rand_bytes(k1, 32);
		rand_bytes(k2, 32);
		tunnel_layer_init(&hops[i], k1, k2);
	}
	/* Inbound tunnels carry LOCAL messages only (the IBGW packs them). */
	make_msgs(w, nmsg, inbound);
	for (size_t i = 0; i < nmsg; i++) {
		T_OK(t, tunnel_gateway_put(g, w[i].type, w[i].tid, w[i].hash,
					   w[i].data, w[i].len));
		if (rand_uniform(4) == 0 || i + 1 == nmsg)
			tunnel_gateway_flush(g);
		while (tunnel_gateway_pop(g, msg)) {
			tmsgs++;
			check_sizes(t, msg, &follow);
			if (!inbound)	/* the OBGW pre-decrypts every hop */
				T_OK(t, tunnel_layer_peel(hops, nhops, msg));
			for (unsigned h = 0; h < nhops; h++)
				T_OK(t, tunnel_layer_encrypt(&hops[h], msg));
			if (inbound)	/* the IBEP peels every hop */
				T_OK(t, tunnel_layer_peel(hops, nhops, msg));
			T_OK(t, tunnel_endpoint_recv(e, msg, 1000));
		}
	}
	T_EQ(t, s.next, nmsg);
	for (size_t i = 0; i < nmsg; i++)
		T_TRUE(t, s.seen[i]);
	T_EQ(t, tunnel_endpoint_get_stats(e)->delivered, nmsg);
	T_EQ(t, tunnel_endpoint_pending(e), 0);
	T_EQ(t, tunnel_endpoint_pending_bytes(e), 0);
	T_TRUE(t, tmsgs > nmsg / 2);
	T_TRUE(t, follow > 0);
	for (unsigned i = 0; i < nhops; i++)
		tunnel_layer_wipe(&hops[i]);
	tunnel_endpoint_free(e);
	tunnel_gateway_free(g);
	free_msgs(w, nmsg);
	free(w);
	free(s.seen);
	rand_set_deterministic(0);
}

static void test_roundtrip_outbound(struct tctx *t)
{
	for (unsigned n = 1; n <= 7; n++)
		roundtrip(t, false, n, 60, 100 + n);
}

static void test_roundtrip_inbound(struct tctx *t)
{
	for (unsigned n = 1; n <= 7; n++)
		roundtrip(t, true, n, 60, 200 + n);
}

/* Small messages are packed several to a tunnel message and never cut. */
static void test_gateway_packing(struct tctx *t)
{
	struct tunnel_gateway *g = tunnel_gateway_new();
	uint8_t m[300], msg[1024];
	unsigned n = 0, frags = 0;

	fill(m, sizeof(m), 1);
	for (int i = 0; i < 30; i++)
		T_OK(t, tunnel_gateway_put(g, TUNNEL_DELIVER_LOCAL, 0, NULL, m,
					   sizeof(m)));
	tunnel_gateway_flush(g);
	while (tunnel_gateway_pop(g, msg)) {
		check_sizes(t, msg, &frags);
		n++;
	}
	/* 3 + 300 = 303 bytes each, three per 1003-byte message */
	T_EQ(t, n, 10);
	T_EQ(t, frags, 0);
	/* the largest message: 64 fragments at most */
	{
		uint8_t *big = xmalloc(TUNNEL_MAX_I2NP_BYTES + 1);

		fill(big, TUNNEL_MAX_I2NP_BYTES + 1, 3);
		T_ERR(t, tunnel_gateway_put(g, TUNNEL_DELIVER_LOCAL, 0, NULL, big,
					    TUNNEL_MAX_I2NP_BYTES + 1), ERR_TOO_BIG);
		T_OK(t, tunnel_gateway_put(g, TUNNEL_DELIVER_TUNNEL, 7, m, big,
					   TUNNEL_MAX_I2NP_BYTES));
		tunnel_gateway_flush(g);
		/* 63 tunnel messages queued; the queue is freed when the
		 * last goes (a gateway holds nothing between bursts) */
		T_TRUE(t, tunnel_gateway_queue_bytes(g) >=
			  63 * TUNNEL_MSG_BYTES);
		frags = n = 0;
		while (tunnel_gateway_pop(g, msg)) {
			check_sizes(t, msg, &frags);
			n++;
		}
		T_TRUE(t, frags + 1 <= TUNNEL_MAX_FRAGMENTS);
		T_EQ(t, n, frags + 1);
		T_EQ(t, tunnel_gateway_queue_bytes(g), 0);
		free(big);
	}
	T_ERR(t, tunnel_gateway_put(g, TUNNEL_DELIVER_LOCAL, 0, NULL, m, 15),
	      ERR_ARG);
	T_ERR(t, tunnel_gateway_put(g, TUNNEL_DELIVER_ROUTER, 0, NULL, m, 20),
	      ERR_ARG);
	T_EQ(t, tunnel_gateway_pending(g), 0);
	tunnel_gateway_free(g);
}

/* Tunnel messages may be "dropped or reordered": shuffle them. */
static void test_endpoint_out_of_order(struct tctx *t)
{
	struct tunnel_gateway *g = tunnel_gateway_new();
	const size_t nmsg = 12;
	struct want *w = xcalloc(nmsg, sizeof(*w));
	struct sink s = { .t = t, .w = w, .n = nmsg, .in_order = false };
	struct tunnel_endpoint *e;
	uint8_t *all = NULL;
	size_t n = 0;

	rand_set_deterministic(7);
	s.seen = xcalloc(nmsg, sizeof(bool));
	e = tunnel_endpoint_new(on_deliver, &s, NULL);
	make_msgs(w, nmsg, false);
	for (size_t i = 0; i < nmsg; i++)
		T_OK(t, tunnel_gateway_put(g, w[i].type, w[i].tid, w[i].hash,
					   w[i].data, w[i].len));
	tunnel_gateway_flush(g);
	all = xmalloc(tunnel_gateway_pending(g) * 1024);
	while (tunnel_gateway_pop(g, all + n * 1024))
		n++;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rand_uniform((uint32_t)i + 1);
		uint8_t tmp[1024];

		memcpy(tmp, all + i * 1024, 1024);
		memcpy(all + i * 1024, all + j * 1024, 1024);
		memcpy(all + j * 1024, tmp, 1024);
	}
	for (size_t i = 0; i < n; i++)
		T_OK(t, tunnel_endpoint_recv(e, all + i * 1024, 5));
	for (size_t i = 0; i < nmsg; i++)
		T_TRUE(t, s.seen[i]);
	T_EQ(t, tunnel_endpoint_get_stats(e)->delivered, nmsg);
	T_EQ(t, tunnel_endpoint_pending(e), 0);
	/* The reassembler does not dedupe: a full replay delivers every
	 * message again (replays are the IV filter's business, upstream). */
	s.replaying = true;
	for (size_t i = 0; i < n; i++)
		T_OK(t, tunnel_endpoint_recv(e, all + i * 1024, 6));
	T_EQ(t, s.replayed, nmsg);
	tunnel_endpoint_expire(e, 6 + TUNNEL_ENDPOINT_TIMEOUT_MS + 1);
	T_EQ(t, tunnel_endpoint_pending(e), 0);
	tunnel_endpoint_free(e);
	tunnel_gateway_free(g);
	free_msgs(w, nmsg);
	free(w);
	free(all);
	free(s.seen);
	rand_set_deterministic(0);
}

static void count_deliver(void *ctx, const struct tunnel_endpoint_msg *m)
{
	(void)m;
	(*(unsigned *)ctx)++;
}

/* Put raw instructions + fragment bytes into one tunnel message. */
static void raw_msg(uint8_t *msg, const struct tunnel_di *ds, size_t nd)
{
	uint8_t payload[1003];
	size_t at = 0;

	for (size_t i = 0; i < nd; i++) {
		at += tunnel_di_encode(&ds[i], payload + at);
		memset(payload + at, 0x42, ds[i].size);
		at += ds[i].size;
	}
	tunnel_msg_finish(msg, payload, at);
}

static void test_endpoint_limits(struct tctx *t)
{
	struct tunnel_endpoint_limits lim = { .max_pending = 4,
					      .max_bytes = 2500,
					      .timeout_ms = 100 };
	unsigned got = 0;
	struct tunnel_endpoint *e = tunnel_endpoint_new(count_deliver, &got,
							&lim);
	const struct tunnel_endpoint_stats *st = tunnel_endpoint_get_stats(e);
	struct tunnel_di d;
	uint8_t msg[1024];

	/* five partial messages: the oldest is evicted */
	for (uint32_t id = 1; id <= 5; id++) {
		d = (struct tunnel_di){ .fragmented = true, .msg_id = id,
					.size = 500 };
		raw_msg(msg, &d, 1);
		T_OK(t, tunnel_endpoint_recv(e, msg, id));
	}
	T_EQ(t, tunnel_endpoint_pending(e), 4);
	T_EQ(t, st->dropped_partial, 1);
	/* byte cap: 4 × 500 held; 996 more evicts the oldest */
	d = (struct tunnel_di){ .follow_on = true, .msg_id = 5, .frag_num = 1,
				.size = 996 };
	raw_msg(msg, &d, 1);
	T_OK(t, tunnel_endpoint_recv(e, msg, 6));
	T_EQ(t, tunnel_endpoint_pending_bytes(e), 3 * 500 + 996);
	T_EQ(t, tunnel_endpoint_pending(e), 3);
	T_EQ(t, st->dropped_partial, 2);
	/* a duplicate fragment is counted and ignored */
	T_OK(t, tunnel_endpoint_recv(e, msg, 6));
	T_EQ(t, st->dup_fragments, 1);
	/* a fragment past the last one drops the message */
	d = (struct tunnel_di){ .follow_on = true, .msg_id = 5, .frag_num = 2,
				.last = true, .size = 10 };
	raw_msg(msg, &d, 1);
	T_OK(t, tunnel_endpoint_recv(e, msg, 7));
	T_EQ(t, got, 1);		/* 0, 1, 2(last): complete */
	d = (struct tunnel_di){ .follow_on = true, .msg_id = 9, .frag_num = 5,
				.last = true, .size = 10 };
	raw_msg(msg, &d, 1);
	T_OK(t, tunnel_endpoint_recv(e, msg, 8));
	d.frag_num = 6;
	d.last = false;
	raw_msg(msg, &d, 1);
	T_OK(t, tunnel_endpoint_recv(e, msg, 8));
	T_EQ(t, st->bad_format, 1);
	/* timeouts */
	tunnel_endpoint_expire(e, 8 + lim.timeout_ms + 1);
	T_EQ(t, tunnel_endpoint_pending(e), 0);
	T_EQ(t, tunnel_endpoint_pending_bytes(e), 0);
	T_TRUE(t, st->expired > 0);
	/* a message growing past TUNNEL_MAX_I2NP_BYTES is dropped */
	d = (struct tunnel_di){ .fragmented = true, .msg_id = 77, .size = 900 };
	raw_msg(msg, &d, 1);
	tunnel_endpoint_free(e);
	lim.max_bytes = 1 << 20;
	lim.max_pending = 8;
	e = tunnel_endpoint_new(count_deliver, &got, &lim);
	st = tunnel_endpoint_get_stats(e);
	T_OK(t, tunnel_endpoint_recv(e, msg, 1));
	for (unsigned f = 1; f < TUNNEL_MAX_FRAGMENTS; f++) {
		d = (struct tunnel_di){ .follow_on = true, .msg_id = 77,
					.frag_num = f, .size = 996 };
		raw_msg(msg, &d, 1);
		T_OK(t, tunnel_endpoint_recv(e, msg, 1));
	}
	T_EQ(t, st->dropped_partial, 1);
	T_EQ(t, got, 1);
	/* bad checksum and junk instructions are counted, not fatal */
	msg[500] ^= 1;
	T_ERR(t, tunnel_endpoint_recv(e, msg, 2), ERR_AUTH);
	T_EQ(t, st->bad_checksum, 1);
	{
		uint8_t junk[5] = { 0x60, 0, 1, 0, 0 };

		tunnel_msg_finish(msg, junk, sizeof(junk));
		T_ERR(t, tunnel_endpoint_recv(e, msg, 2), ERR_FORMAT);
		junk[0] = 0;	/* size 1, but no byte follows... */
		junk[1] = 0;
		junk[2] = 9;
		tunnel_msg_finish(msg, junk, 3);
		T_ERR(t, tunnel_endpoint_recv(e, msg, 2), ERR_TRUNCATED);
	}
	tunnel_endpoint_free(e);
}

const struct test_case tunnels_data_tests[] = {
	{ "layer/model", test_layer_model, 0 },
	{ "layer/n_model", test_layer_n_model, 0 },
	{ "layer/peel", test_layer_peel, 0 },
	{ "msg/checksum", test_msg_checksum, 0 },
	{ "di/codec", test_di_codec, 0 },
	{ "roundtrip/outbound", test_roundtrip_outbound, TT_FORK },
	{ "roundtrip/inbound", test_roundtrip_inbound, TT_FORK },
	{ "gateway/packing", test_gateway_packing, 0 },
	{ "endpoint/out_of_order", test_endpoint_out_of_order, TT_FORK },
	{ "endpoint/limits", test_endpoint_limits, 0 },
	{ NULL, NULL, 0 }
};
