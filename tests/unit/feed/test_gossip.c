/*
 * apps/feed/gossip: five feed nodes over the in-process localnet.  Each
 * test runs the loop until the network is quiet: every datagram sent has
 * been received and handled (counted on both sides), so no test waits on
 * wall-clock time.
 */
#include "config.h"
#include "apps/client/localnet.h"
#include "apps/feed/did.h"
#include "apps/feed/gossip.h"
#include "apps/feed/pow.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/hash.h"
#include "router/datagram.h"
#include "router/evloop.h"
#include "tests/unit/feed/tfeed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NNODES 5		/* the tests' default network */
#define NMAX 10
#define QUIET_POLL_MS 2
#define QUIET_MAX_POLLS 20000	/* ≥ 40 s of loop time */

struct env {
	struct tctx *t;
	struct evloop *el;
	struct localnet *ln;
	struct client_net inner;
	uint64_t sent, rogue_rx;
	unsigned nn;		/* nodes in this test */
	struct client_dest *d[NMAX], *rogue;
	struct feed_store *st[NMAX];
	struct feed_node *fn[NMAX];
	char *dir;
	struct evloop_timer *poll;
	struct content_pool *pool;
	bool rogue_lazy;	/* rogue_send skips the proof of work */
	unsigned rogue_bits;	/* with rogue_lazy: at least this much */
	unsigned polls;
	bool quiet;
};

/* client_net around localnet that counts what is sent. */
static int w_attach(void *ctx, const struct client_dest *d,
		    const struct client_rx *rx)
{
	struct env *e = ctx;

	return e->inner.attach(e->inner.ctx, d, rx);
}

static void w_detach(void *ctx, const struct client_dest *d)
{
	struct env *e = ctx;

	e->inner.detach(e->inner.ctx, d);
}

static int w_send(void *ctx, const struct client_dest *from,
		  const struct keys_and_cert *to, uint8_t proto,
		  uint16_t sp, uint16_t dp, const uint8_t *data, size_t len)
{
	struct env *e = ctx;
	int r = e->inner.send(e->inner.ctx, from, to, proto, sp, dp, data, len);

	if (r == 0)
		e->sent++;
	return r;
}

static int w_lookup(void *ctx, const uint8_t hash[32],
		    struct keys_and_cert *out)
{
	struct env *e = ctx;

	return e->inner.lookup(e->inner.ctx, hash, out);
}

static void rogue_rx(void *ctx, uint8_t proto, uint16_t sp, uint16_t dp,
		     const uint8_t *data, size_t len)
{
	struct env *e = ctx;

	(void)proto, (void)sp, (void)dp, (void)data, (void)len;
	e->rogue_rx++;
}

static uint64_t received(struct env *e)
{
	uint64_t n = e->rogue_rx;
	unsigned i;

	for (i = 0; i < e->nn; i++)
		if (e->fn[i])
			n += feed_node_get_stats(e->fn[i])->rx_msgs;
	return n;
}

/* Items queued for their checks, over all nodes. */
static unsigned pending(struct env *e)
{
	unsigned i, n = 0;

	for (i = 0; i < e->nn; i++)
		if (e->fn[i])
			n += feed_node_pending(e->fn[i]);
	return n;
}

static void on_poll(void *arg)
{
	struct env *e = arg;

	if (received(e) == e->sent && pending(e) == 0) {
		e->quiet = true;
		evloop_break(e->el);
		return;
	}
	if (++e->polls >= QUIET_MAX_POLLS) {
		evloop_break(e->el);
		return;
	}
	evloop_timer_arm(e->poll, QUIET_POLL_MS);
}

/* Run the loop until every sent datagram has been handled. */
static void run_quiet(struct env *e)
{
	e->quiet = false;
	e->polls = 0;
	evloop_timer_arm(e->poll, QUIET_POLL_MS);
	evloop_run(e->el);
	T_TRUE(e->t, e->quiet);
}

static struct client_net w_net(struct env *e)
{
	return (struct client_net){ .attach = w_attach, .detach = w_detach,
				    .send = w_send, .lookup = w_lookup,
				    .ctx = e };
}

static void link_nodes(struct env *e, unsigned a, unsigned b)
{
	T_OK(e->t, feed_node_add_peer(e->fn[a], client_dest_pub(e->d[b])));
	T_OK(e->t, feed_node_add_peer(e->fn[b], client_dest_pub(e->d[a])));
}

/* Start node i's feed node on its destination and store; it takes the
 * rate settings of rl (if any) and keeps followed creators only when
 * followed_only.  Node 1 checks its batches on the pool's threads. */
static void node_start(struct env *e, unsigned i,
		       const struct feed_node_cfg *rl, bool followed_only)
{
	struct feed_node_cfg c = { 0 };

	if (rl)
		c = *rl;
	c.net = w_net(e);
	c.el = e->el;	/* batches, checked on 2 threads at node 1 */
	c.pool = i == 1 ? e->pool : NULL;
	c.dest = e->d[i];
	c.store = e->st[i];
	c.followed_only = followed_only;
	T_OK(e->t, feed_node_new(&c, &e->fn[i]));
}

/* nn nodes, none linked yet; node 0 takes the rate settings of rl (if
 * any), node 2 keeps followed creators only when follow_2. */
static void env_init_n(struct tctx *t, struct env *e, unsigned nn,
		       const struct feed_node_cfg *rl, bool follow_2)
{
	struct client_rx rx = { .datagram = rogue_rx, .ctx = e };
	char path[512];
	unsigned i;

	memset(e, 0, sizeof(*e));
	e->t = t;
	e->nn = nn;
	e->el = evloop_new();
	e->ln = localnet_new(e->el);
	e->inner = localnet_client_net(e->ln);
	e->poll = evloop_timer_new(e->el, on_poll, e);
	e->pool = content_pool_new(2);
	e->dir = t_tmpdir(t);
	for (i = 0; i < nn; i++) {
		e->d[i] = client_dest_new_random();
		snprintf(path, sizeof(path), "%s/node%u.db", e->dir, i);
		T_OK(t, feed_store_open(path, &e->st[i]));
		node_start(e, i, i == 0 ? rl : NULL, follow_2 && i == 2);
	}
	e->rogue = client_dest_new_random();
	T_OK(t, e->inner.attach(e->inner.ctx, e->rogue, &rx));
}

/* Five nodes; line 0-1-2-3 linked, and 3-4 too unless isolate_4. */
static void env_init(struct tctx *t, struct env *e,
		     const struct feed_node_cfg *rl, bool follow_2,
		     bool isolate_4)
{
	unsigned i;

	env_init_n(t, e, NNODES, rl, follow_2);
	for (i = 0; i + 1 < NNODES; i++)
		if (!(isolate_4 && i == 3))
			link_nodes(e, i, i + 1);
}

static void env_free(struct env *e)
{
	unsigned i;

	e->inner.detach(e->inner.ctx, e->rogue);
	client_dest_free(e->rogue);
	for (i = 0; i < e->nn; i++) {
		feed_node_free(e->fn[i]);
		feed_store_free(e->st[i]);
		client_dest_free(e->d[i]);
	}
	evloop_timer_free(e->poll);
	content_pool_free(e->pool);
	localnet_free(e->ln);
	evloop_free(e->el);
	free(e->dir);
}

/* The rogue destination sends one ITEM (or raw bytes as proto) to node. */
static void rogue_send(struct env *e, unsigned node, uint8_t proto,
		       enum feed_item_kind kind, const uint8_t *enc,
		       size_t len)
{
	struct feed_msg m = { .type = FEED_MSG_ITEM };
	struct bbuf msg = BBUF_INIT, dg = BBUF_INIT;
	uint8_t id[32];

	m.u.item.kind = kind;
	m.u.item.len = (uint32_t)len;
	m.u.item.data = enc;
	sha256(id, enc, len);
	m.u.item.pow = feed_pow_solve(id, FEED_POW_BITS_DEFAULT);
	if (e->rogue_lazy)	/* a nonce short of the difficulty */
		while (feed_pow_bits(id, ++m.u.item.pow) >=
		       FEED_POW_BITS_DEFAULT ||
		       feed_pow_bits(id, m.u.item.pow) < e->rogue_bits)
			;
	T_OK(e->t, feed_msg_encode(&m, &msg));
	if (proto == DATAGRAM_PROTO_REPLIABLE)
		T_OK(e->t, client_dest_datagram_encode(e->rogue, msg.data,
						       msg.len, &dg));
	else
		bbuf_put(&dg, msg.data, msg.len);
	T_OK(e->t, w_send(e, e->rogue, client_dest_pub(e->d[node]), proto,
			  FEED_PORT, FEED_PORT, dg.data, dg.len));
	bbuf_free(&msg);
	bbuf_free(&dg);
}

static unsigned holders(struct env *e, const uint8_t id[32])
{
	unsigned i, n = 0;

	for (i = 0; i < e->nn; i++)
		n += feed_store_has(e->st[i], id);
	return n;
}

static void test_push(struct tctx *t)
{
	struct env *e = calloc(1, sizeof(*e));
	struct feed_card_stats cs;
	struct bbuf b = BBUF_INIT;
	uint8_t card[32], id[32];
	unsigned i;

	env_init(t, e, NULL, false, false);
	tf_card(t, 1, "Harbour lights", "night shots", "photo", 0, TF_T0, &b,
		card);
	T_OK(t, feed_node_publish(e->fn[0], FEED_ITEM_CARD, b.data, b.len));
	T_ERR(t, feed_node_publish(e->fn[0], FEED_ITEM_CARD, b.data, b.len),
	      ERR_DUPLICATE);
	run_quiet(e);
	/* Pushed hop by hop along the line, without any round. */
	T_EQ(t, holders(e, card), NNODES);
	for (i = 0; i < NNODES; i++)
		T_EQ(t, feed_node_get_stats(e->fn[i])->items_new, 1);
	/* Each node sent the card on once: 2 × 4 link directions minus the
	 * ones back to the source. */
	T_EQ(t, e->sent, 4);

	/* Reactions and views made at the far end aggregate at node 0. */
	for (i = 0; i < 5; i++) {
		bbuf_reset(&b);
		tf_record(t, (uint8_t)(70 + i), i < 2 ? CONTENT_RECORD_REACTION :
			  CONTENT_RECORD_VIEW, CONTENT_REACT_LIKE, card,
			  TF_T0 + 10, &b, id);
		T_OK(t, feed_node_publish(e->fn[4], FEED_ITEM_RECORD, b.data,
					  b.len));
	}
	run_quiet(e);
	for (i = 0; i < NNODES; i++) {
		T_OK(t, feed_store_card_stats(e->st[i], card, &cs));
		T_EQ(t, cs.likes, 2);
		T_EQ(t, cs.views, 3);
	}
	bbuf_free(&b);
	env_free(e);
	free(e);
}

/* Messages sent in one round by every node. */
static uint64_t round_all(struct env *e)
{
	uint64_t before = e->sent;
	unsigned i;

	for (i = 0; i < e->nn; i++)
		if (e->fn[i])
			feed_node_round(e->fn[i]);
	run_quiet(e);
	return e->sent - before;
}

/*
 * Ten nodes on a ring with chords (i - i+1, and i - i+4 for even i): a
 * card published on one reaches the nine others by push alone; node 2
 * keeps followed creators only and gets the new cards of the creator it
 * follows, not the others'.  Then node 9 is offline for an hour of the
 * test clock (wall and monotonic), across midnight: what is published
 * meanwhile reaches the others while the pushes to node 9 fail, and when
 * node 9 comes back next to node 8, one round brings it every item it
 * missed and nothing it held.
 */
static void test_ten_nodes(struct tctx *t)
{
	static const unsigned pubs[] = { 0, 1, 3, 4, 5, 6, 7, 8 };
	struct env *e = calloc(1, sizeof(*e));
	uint64_t now = TF_T0 + 40 * FEED_BUCKET_SECS - 1800, fail0;
	uint8_t a[32], c2[32], a2[32], missed[16][32];
	bool is_card[16];
	struct bbuf b = BBUF_INIT;
	struct ed25519_pk pk;
	unsigned i, k = 0;

	time_set_override(now * 1000);
	time_set_mono_override(now * 1000);
	env_init_n(t, e, NMAX, NULL, true);
	for (i = 0; i < NMAX; i++)
		link_nodes(e, i, (i + 1) % NMAX);
	for (i = 0; i < NMAX; i += 2)
		link_nodes(e, i, (i + 4) % NMAX);
	tf_pk(1, &pk);
	T_OK(t, feed_node_follow(e->fn[2], &pk, true));

	tf_card(t, 1, "Tide tables", "every port", "sea", 0, now - 60, &b, a);
	T_OK(t, feed_node_publish(e->fn[0], FEED_ITEM_CARD, b.data, b.len));
	bbuf_reset(&b);
	tf_card(t, 2, "Unfollowed", "x", "sea", 0, now - 50, &b, c2);
	T_OK(t, feed_node_publish(e->fn[5], FEED_ITEM_CARD, b.data, b.len));
	run_quiet(e);
	T_EQ(t, holders(e, a), NMAX);
	T_EQ(t, holders(e, c2), NMAX - 1);
	T_FALSE(t, feed_store_has(e->st[2], c2));
	T_TRUE(t, feed_node_get_stats(e->fn[2])->rej_follow >= 1);
	/* The followed creator's next card reaches node 2 by push. */
	bbuf_reset(&b);
	tf_card(t, 1, "Tide tables II", "more ports", "sea", 0, now - 40, &b,
		a2);
	T_OK(t, feed_node_publish(e->fn[6], FEED_ITEM_CARD, b.data, b.len));
	run_quiet(e);
	T_EQ(t, holders(e, a2), NMAX);

	/* Node 9 goes offline for an hour (what it received still counts
	 * for run_quiet). */
	e->rogue_rx += feed_node_get_stats(e->fn[9])->rx_msgs;
	feed_node_free(e->fn[9]);
	e->fn[9] = NULL;
	fail0 = feed_node_get_stats(e->fn[0])->tx_fail +
		feed_node_get_stats(e->fn[8])->tx_fail;
	for (i = 0; i < 12; i++) {
		now += 300;
		time_set_override(now * 1000);
		time_set_mono_override(now * 1000);
		bbuf_reset(&b);
		is_card[k] = true;
		tf_card(t, (uint8_t)(10 + i), "While away", "an hour of news",
			"news", 0, now, &b, missed[k]);
		T_OK(t, feed_node_publish(e->fn[pubs[i % 8]], FEED_ITEM_CARD,
					  b.data, b.len));
		k++;
		if (i % 4 == 0) {
			bbuf_reset(&b);
			is_card[k] = false;
			tf_record(t, (uint8_t)(50 + i), CONTENT_RECORD_REACTION,
				  CONTENT_REACT_LIKE, a, now, &b, missed[k]);
			T_OK(t, feed_node_publish(e->fn[3], FEED_ITEM_RECORD,
						  b.data, b.len));
			k++;
		}
		run_quiet(e);
	}
	T_EQ(t, k, 15);
	T_TRUE(t, now / FEED_BUCKET_SECS > (now - 3600) / FEED_BUCKET_SECS);
	for (i = 0; i < k; i++) {
		T_FALSE(t, feed_store_has(e->st[9], missed[i]));
		/* node 2 keeps the likes of a card it keeps, no new card */
		T_EQ(t, holders(e, missed[i]), is_card[i] ? NMAX - 2 :
		     NMAX - 1);
	}
	T_TRUE(t, feed_node_get_stats(e->fn[0])->tx_fail +
		  feed_node_get_stats(e->fn[8])->tx_fail > fail0);

	/* Back next to node 8 (which still has it as a peer): one round. */
	node_start(e, 9, NULL, false);
	T_OK(t, feed_node_add_peer(e->fn[9], client_dest_pub(e->d[8])));
	feed_node_round(e->fn[8]);
	feed_node_round(e->fn[9]);
	run_quiet(e);
	for (i = 0; i < k; i++)
		T_TRUE(t, feed_store_has(e->st[9], missed[i]));
	T_EQ(t, feed_node_get_stats(e->fn[9])->items_new, k);
	T_EQ(t, feed_node_get_stats(e->fn[9])->items_dup, 0);
	/* Its other link back too: in sync, nothing more comes. */
	T_OK(t, feed_node_add_peer(e->fn[9], client_dest_pub(e->d[0])));
	round_all(e);
	T_EQ(t, feed_node_get_stats(e->fn[9])->items_new, k);
	T_EQ(t, feed_node_get_stats(e->fn[9])->items_dup, 0);
	time_set_override(0);
	time_set_mono_override(0);
	bbuf_free(&b);
	env_free(e);
	free(e);
}

static void test_catch_up(struct tctx *t)
{
	struct env *e = calloc(1, sizeof(*e));
	uint8_t ids[4][32];
	struct bbuf b = BBUF_INIT;
	uint64_t dup4;
	unsigned i;

	env_init(t, e, NULL, false, true);	/* node 4 is offline */
	for (i = 0; i < 3; i++) {
		bbuf_reset(&b);
		tf_card(t, (uint8_t)(1 + i), "Late", "for the late joiner",
			"news", 0, TF_T0 + i * 2 * FEED_BUCKET_SECS, &b, ids[i]);
		T_OK(t, feed_node_publish(e->fn[i], FEED_ITEM_CARD, b.data,
					  b.len));
	}
	bbuf_reset(&b);
	tf_record(t, 9, CONTENT_RECORD_VIEW, 0, ids[0], TF_T0 + 5, &b, ids[3]);
	T_OK(t, feed_node_publish(e->fn[3], FEED_ITEM_RECORD, b.data, b.len));
	run_quiet(e);
	for (i = 0; i < 4; i++) {
		T_EQ(t, holders(e, ids[i]), NNODES - 1);
		T_FALSE(t, feed_store_has(e->st[4], ids[i]));
	}
	/* The first round among in-sync nodes moves only summaries. */
	T_EQ(t, round_all(e), 2 * 3);

	/* Node 4 comes online next to node 3: one round brings it all. */
	link_nodes(e, 3, 4);
	round_all(e);
	for (i = 0; i < 4; i++)
		T_EQ(t, holders(e, ids[i]), NNODES);
	T_EQ(t, feed_node_get_stats(e->fn[4])->items_new, 4);
	/* In sync again: the next round is summaries only, nothing is
	 * fetched twice. */
	dup4 = feed_node_get_stats(e->fn[4])->items_dup;
	T_EQ(t, round_all(e), 2 * 4);
	T_EQ(t, feed_node_get_stats(e->fn[4])->items_dup, dup4);
	bbuf_free(&b);
	env_free(e);
	free(e);
}

/* Replace the first occurrence of what in buf by with (same length). */
static void patch(struct tctx *t, struct bbuf *b, const char *what,
		  const char *with)
{
	size_t l = strlen(what), i;

	for (i = 0; i + l <= b->len; i++)
		if (!memcmp(b->data + i, what, l)) {
			memcpy(b->data + i, with, l);
			return;
		}
	T_TRUE(t, !"pattern not found");
}

static void test_forged(struct tctx *t)
{
	struct env *e = calloc(1, sizeof(*e));
	const struct feed_node_stats *s0;
	struct bbuf b = BBUF_INIT;
	uint8_t card[32], id[32], fid[32];
	unsigned i;

	env_init(t, e, NULL, false, false);
	s0 = feed_node_get_stats(e->fn[0]);
	/* A card whose title was changed after signing. */
	tf_card(t, 1, "Forged title", "x", "a", 0, TF_T0, &b, card);
	patch(t, &b, "Forged", "Gorged");
	sha256(fid, b.data, b.len);
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD, b.data, b.len);
	/* A record with a broken signature. */
	bbuf_reset(&b);
	tf_record(t, 5, CONTENT_RECORD_VIEW, 0, card, TF_T0, &b, id);
	b.data[b.len - 1] ^= 1;
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_RECORD, b.data,
		   b.len);
	/* Bytes that are no card at all; a card from the far future. */
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD,
		   (const uint8_t *)"not a card", 10);
	bbuf_reset(&b);
	tf_card(t, 1, "Future", "x", "a", 0, time_now_s() + 86400, &b, id);
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD, b.data, b.len);
	/* An unsigned (raw) datagram carrying a valid card. */
	bbuf_reset(&b);
	tf_card(t, 1, "Raw", "x", "a", 0, TF_T0, &b, id);
	rogue_send(e, 0, DATAGRAM_PROTO_RAW, FEED_ITEM_CARD, b.data, b.len);
	run_quiet(e);
	T_EQ(t, s0->rej_sig, 2);
	T_EQ(t, s0->rej_format, 1);
	T_EQ(t, s0->rej_time, 1);
	T_EQ(t, s0->rx_bad, 1);
	T_EQ(t, s0->items_new, 0);
	T_EQ(t, holders(e, fid), 0);
	T_EQ(t, holders(e, id), 0);
	for (i = 1; i < NNODES; i++)	/* nothing was relayed */
		T_EQ(t, feed_node_get_stats(e->fn[i])->rx_msgs, 0);

	/* The same card, signed properly, goes everywhere. */
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD, b.data,
		   b.len);
	run_quiet(e);
	T_EQ(t, holders(e, id), NNODES);
	/* A forged copy offered again is still refused, by every node. */
	bbuf_reset(&b);
	tf_card(t, 1, "Forged title", "x", "a", 0, TF_T0, &b, card);
	patch(t, &b, "Forged", "Gorged");
	for (i = 0; i < NNODES; i++)
		rogue_send(e, i, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD,
			   b.data, b.len);
	run_quiet(e);
	T_EQ(t, holders(e, fid), 0);
	T_EQ(t, s0->rej_sig, 3);
	bbuf_free(&b);
	env_free(e);
	free(e);
}

/* Cards the store of node shows for a text query. */
static unsigned shown(struct env *e, unsigned node, const char *text)
{
	struct feed_row rows[4];
	struct feed_query q;
	unsigned n = 0;

	memset(&q, 0, sizeof(q));
	q.limit = 4;
	q.text = text;
	T_OK(e->t, feed_store_query(e->st[node], &q, rows, &n, NULL));
	return n;
}

/* Items without enough proof of work and items of a blocked creator
 * are refused before any relay; a deletion by someone else than the
 * card's creator is refused, the creator's own travels everywhere and
 * hides the card. */
static void test_pow_block_delete(struct tctx *t)
{
	struct env *e = calloc(1, sizeof(*e));
	const struct feed_node_stats *s0;
	struct ed25519_pk pk;
	struct bbuf b = BBUF_INIT;
	uint8_t id[32], card[32], del[32];
	unsigned i;

	env_init(t, e, NULL, false, false);
	s0 = feed_node_get_stats(e->fn[0]);
	tf_card(t, 1, "Lazy", "x", "a", 0, TF_T0, &b, id);
	e->rogue_lazy = true;
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD, b.data,
		   b.len);
	run_quiet(e);
	T_EQ(t, s0->rej_pow, 1);
	T_EQ(t, s0->rej_sig + s0->rej_format, 0);	/* no work spent */
	T_EQ(t, holders(e, id), 0);
	e->rogue_lazy = false;

	tf_pk(1, &pk);
	T_OK(t, feed_node_block(e->fn[0], &pk, true));
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD, b.data,
		   b.len);
	run_quiet(e);
	T_EQ(t, s0->rej_blocked, 1);
	T_EQ(t, holders(e, id), 0);
	T_OK(t, feed_node_block(e->fn[0], &pk, false));
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD, b.data,
		   b.len);
	run_quiet(e);
	T_EQ(t, holders(e, id), NNODES);

	/* Node 3 publishes a card of creator 2 (it solves the work). */
	bbuf_reset(&b);
	tf_card(t, 2, "Withdrawn", "x", "a", 0, TF_T0 + 60, &b, card);
	T_OK(t, feed_node_publish(e->fn[3], FEED_ITEM_CARD, b.data, b.len));
	run_quiet(e);
	T_EQ(t, holders(e, card), NNODES);
	bbuf_reset(&b);
	tf_record(t, 7, CONTENT_RECORD_DELETE, 0, card, TF_T0 + 70, &b, del);
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_RECORD, b.data,
		   b.len);
	run_quiet(e);
	T_EQ(t, s0->rej_delete, 1);
	T_EQ(t, holders(e, del), 0);
	for (i = 0; i < NNODES; i++)
		T_EQ(t, shown(e, i, "withdrawn"), 1);
	bbuf_reset(&b);
	tf_record(t, 2, CONTENT_RECORD_DELETE, 0, card, TF_T0 + 70, &b, del);
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_RECORD, b.data,
		   b.len);
	run_quiet(e);
	T_EQ(t, holders(e, del), NNODES);
	for (i = 0; i < NNODES; i++)
		T_EQ(t, shown(e, i, "withdrawn"), 0);
	bbuf_free(&b);
	env_free(e);
	free(e);
}

/* A node keeping 30 days refuses older items and drops them each round. */
static void test_retention(struct tctx *t)
{
	struct env *e = calloc(1, sizeof(*e));
	struct feed_node_cfg keep = { .retention_days = 30 };
	struct content_card *c = calloc(1, sizeof(*c));
	const struct feed_node_stats *s0;
	struct bbuf b = BBUF_INIT;
	uint64_t now = time_now_s();
	uint8_t old[32], fresh[32];

	env_init(t, e, &keep, false, false);
	s0 = feed_node_get_stats(e->fn[0]);
	tf_card(t, 1, "Old", "x", "a", 0, now - 40 * 86400, &b, old);
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD, b.data,
		   b.len);
	run_quiet(e);
	T_EQ(t, s0->rej_time, 1);
	T_FALSE(t, feed_store_has(e->st[0], old));
	/* Stored before the retention was set: gone after a round. */
	T_OK(t, content_card_decode(b.data, b.len, c));
	T_OK(t, feed_store_put_card(e->st[0], c, b.data, b.len, old, 0));
	bbuf_reset(&b);
	tf_card(t, 1, "Fresh", "x", "a", 0, now - 86400, &b, fresh);
	T_OK(t, feed_node_publish(e->fn[0], FEED_ITEM_CARD, b.data, b.len));
	feed_node_round(e->fn[0]);
	run_quiet(e);
	T_FALSE(t, feed_store_has(e->st[0], old));
	T_TRUE(t, feed_store_has(e->st[0], fresh));
	T_EQ(t, holders(e, fresh), NNODES);
	bbuf_free(&b);
	free(c);
	env_free(e);
	free(e);
}

static void test_follows(struct tctx *t)
{
	struct env *e = calloc(1, sizeof(*e));
	struct ed25519_pk pk;
	struct bbuf b = BBUF_INIT;
	uint8_t c1[32], c2[32], r2[32];

	env_init(t, e, NULL, true, false);
	tf_pk(1, &pk);
	T_OK(t, feed_node_follow(e->fn[2], &pk, true));
	tf_card(t, 1, "Followed", "x", "a", 0, TF_T0, &b, c1);
	T_OK(t, feed_node_publish(e->fn[0], FEED_ITEM_CARD, b.data, b.len));
	bbuf_reset(&b);
	tf_card(t, 2, "Not followed", "x", "a", 0, TF_T0, &b, c2);
	T_OK(t, feed_node_publish(e->fn[0], FEED_ITEM_CARD, b.data, b.len));
	bbuf_reset(&b);
	tf_record(t, 7, CONTENT_RECORD_REACTION, CONTENT_REACT_LIKE, c2, TF_T0,
		  &b, r2);
	T_OK(t, feed_node_publish(e->fn[0], FEED_ITEM_RECORD, b.data, b.len));
	run_quiet(e);
	T_EQ(t, holders(e, c1), NNODES);
	/* Node 2 keeps and relays only what it follows. */
	T_TRUE(t, feed_store_has(e->st[1], c2));
	T_FALSE(t, feed_store_has(e->st[2], c2));
	T_FALSE(t, feed_store_has(e->st[3], c2));
	T_FALSE(t, feed_store_has(e->st[4], c2));
	T_FALSE(t, feed_store_has(e->st[2], r2));
	T_EQ(t, feed_node_get_stats(e->fn[2])->rej_follow, 2);
	/* Reconciliation does not carry it past node 2 either, nor fetch
	 * what node 2 refused again. */
	round_all(e);
	round_all(e);
	T_EQ(t, holders(e, c2), 2);
	T_EQ(t, holders(e, r2), 2);
	T_EQ(t, feed_node_get_stats(e->fn[2])->rej_follow, 2);
	/* Once node 2 follows creator 2 too, a round brings the card, then
	 * its record, and pushes both on to nodes 3 and 4. */
	tf_pk(2, &pk);
	T_OK(t, feed_node_follow(e->fn[2], &pk, true));
	round_all(e);
	T_EQ(t, holders(e, c2), NNODES);
	if (holders(e, r2) < NNODES)	/* the record may precede its card */
		round_all(e);
	T_EQ(t, holders(e, r2), NNODES);
	bbuf_free(&b);
	env_free(e);
	free(e);
}

/* The rogue sends n cards to node 0: by creator who (or who + i when
 * distinct), created at created + i; then the network settles. */
static void flood(struct env *e, uint8_t who, bool distinct, unsigned n,
		  uint64_t created)
{
	struct bbuf b = BBUF_INIT;
	uint8_t id[32];
	unsigned i;

	for (i = 0; i < n; i++) {
		bbuf_reset(&b);
		tf_card(e->t, (uint8_t)(who + (distinct ? i : 0)), "Flood", "x",
			"a", 0, created + (distinct ? 0 : i), &b, id);
		rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD,
			   b.data, b.len);
	}
	run_quiet(e);
	bbuf_free(&b);
}

/* The rogue destination sends node the message m. */
static void rogue_msg(struct env *e, unsigned node, const struct feed_msg *m)
{
	struct bbuf msg = BBUF_INIT, dg = BBUF_INIT;

	T_OK(e->t, feed_msg_encode(m, &msg));
	T_OK(e->t, client_dest_datagram_encode(e->rogue, msg.data, msg.len,
					       &dg));
	T_OK(e->t, w_send(e, e->rogue, client_dest_pub(e->d[node]),
			  DATAGRAM_PROTO_REPLIABLE, FEED_PORT, FEED_PORT,
			  dg.data, dg.len));
	run_quiet(e);
	bbuf_free(&msg);
	bbuf_free(&dg);
}

/*
 * Answers to one sender are capped, and a request naming a bucket or an
 * id again gets no second answer for it: an IDS_REQ of one bucket 16
 * times is answered once, a WANT of one id 200 times with one item;
 * past the sender's bucket (6 here) nothing more, counted as limited,
 * until it refills.
 */
static void test_reply_cap(struct tctx *t)
{
	struct env *e = calloc(1, sizeof(*e));
	struct feed_node_cfg rl = { .peer_reply_burst = 6,
				    .peer_replies_per_s = 1 };
	const struct feed_node_stats *s0;
	struct feed_bucket_sum b;
	struct feed_msg m = { .type = FEED_MSG_IDS_REQ };
	uint8_t *ids = calloc(200, 32);
	uint64_t before;
	unsigned nb = 0;

	time_set_mono_override(7000000);
	env_init_n(t, e, 1, &rl, false);
	s0 = feed_node_get_stats(e->fn[0]);
	flood(e, 30, true, 5, TF_T0);	/* five creators' cards */
	T_EQ(t, s0->items_new, 5);
	T_OK(t, feed_store_summary(e->st[0], &b, 1, &nb));
	T_EQ(t, nb, 1);
	m.u.ids_req.n = FEED_IDS_REQ_MAX;
	for (unsigned i = 0; i < FEED_IDS_REQ_MAX; i++)
		m.u.ids_req.bucket[i] = b.bucket;
	before = e->rogue_rx;
	rogue_msg(e, 0, &m);
	T_EQ(t, e->rogue_rx - before, 1);
	/* one id 200 times: one item */
	T_OK(t, feed_store_bucket_ids(e->st[0], b.bucket, 0, ids, 1,
				      &(unsigned){ 0 }));
	for (unsigned i = 1; i < 200; i++)
		memcpy(ids + 32 * i, ids, 32);
	m.type = FEED_MSG_WANT;
	m.u.ids.n = 200;
	m.u.ids.ids = ids;
	before = e->rogue_rx;
	rogue_msg(e, 0, &m);
	T_EQ(t, e->rogue_rx - before, 1);
	/* four answers are left of six; then none */
	before = e->rogue_rx;
	for (unsigned i = 0; i < 6; i++)
		rogue_msg(e, 0, &m);
	T_EQ(t, e->rogue_rx - before, 4);
	T_EQ(t, s0->replies_limited, 2);
	/* two seconds later, two more */
	time_set_mono_override(7002000);
	before = e->rogue_rx;
	for (unsigned i = 0; i < 3; i++)
		rogue_msg(e, 0, &m);
	T_EQ(t, e->rogue_rx - before, 2);
	time_set_mono_override(0);
	free(ids);
	env_free(e);
	free(e);
}

static void test_rate_limits(struct tctx *t)
{
	struct env *e = calloc(1, sizeof(*e));
	struct feed_node_cfg rl = { .creator_burst = 3,
				    .creator_items_per_hour = 1,
				    .peer_burst = 5, .peer_items_per_s = 1 };
	const struct feed_node_stats *s0;

	time_set_mono_override(5000000);
	env_init(t, e, &rl, false, false);
	s0 = feed_node_get_stats(e->fn[0]);
	flood(e, 9, false, 5, TF_T0);	/* one creator floods */
	T_EQ(t, s0->items_new, 3);
	T_EQ(t, s0->rej_creator_rate, 2);
	T_EQ(t, feed_node_get_stats(e->fn[1])->items_new, 3);
	flood(e, 20, true, 3, TF_T0);	/* the peer's bucket is empty now */
	T_EQ(t, s0->rej_peer_rate, 3);
	T_EQ(t, s0->items_new, 3);
	/* An hour later the creator has one more item. */
	time_set_mono_override(5000000 + 3600000);
	flood(e, 9, false, 2, TF_T0 + 100);
	T_EQ(t, s0->items_new, 4);
	T_EQ(t, s0->rej_creator_rate, 3);
	T_EQ(t, feed_node_get_stats(e->fn[4])->items_new, 4);
	time_set_mono_override(0);
	env_free(e);
	free(e);
}

/* The favoured() check of test_favoured: creator 1 only. */
static bool favour_1(void *ctx, const struct ed25519_pk *creator,
		     const char *did)
{
	struct ed25519_pk pk;

	(void)ctx, (void)did;
	tf_pk(1, &pk);
	return !memcmp(pk.b, creator->b, 32);
}

/*
 * Node 0 favours creator 1 (as it would a creator whose DID is on
 * chain): its items need 8 bits of proof of work instead of 12 and its
 * bucket holds 4 x 3 items; creator 2 gets neither.  Node 1 favours
 * nobody and refuses the cheaper proof when node 0 relays it.
 */
static void test_favoured(struct tctx *t)
{
	struct env *e = calloc(1, sizeof(*e));
	struct feed_node_cfg rl = { .creator_burst = 3,
				    .creator_items_per_hour = 1,
				    .favoured = favour_1,
				    .pow_bits_favoured = 8 };
	const struct feed_node_stats *s0;
	struct bbuf b = BBUF_INIT;
	uint8_t c1[32], c2[32];

	time_set_mono_override(7000000);
	env_init(t, e, &rl, false, false);
	s0 = feed_node_get_stats(e->fn[0]);
	e->rogue_lazy = true;
	e->rogue_bits = 8;	/* 8 to 11 bits */
	tf_card(t, 1, "Registered", "x", "a", 0, TF_T0, &b, c1);
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD, b.data,
		   b.len);
	bbuf_reset(&b);
	tf_card(t, 2, "Anonymous", "x", "a", 0, TF_T0, &b, c2);
	rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD, b.data,
		   b.len);
	run_quiet(e);
	T_TRUE(t, feed_store_has(e->st[0], c1));
	T_FALSE(t, feed_store_has(e->st[0], c2));
	T_EQ(t, s0->rej_pow, 1);
	T_EQ(t, s0->favoured, 1);
	T_FALSE(t, feed_store_has(e->st[1], c1));
	T_EQ(t, feed_node_get_stats(e->fn[1])->rej_pow, 1);
	/* Full proof of work: creator 1 may send 12 - 1 more of its 13,
	 * creator 2 3 of its 5. */
	e->rogue_lazy = false;
	flood(e, 1, false, 13, TF_T0 + 10);
	T_EQ(t, s0->favoured, 12);
	T_EQ(t, s0->rej_creator_rate, 2);
	flood(e, 2, false, 5, TF_T0 + 10);
	T_EQ(t, s0->items_new, 12 + 3);
	T_EQ(t, s0->rej_creator_rate, 2 + 2);
	time_set_mono_override(0);
	bbuf_free(&b);
	env_free(e);
	free(e);
}

/*
 * Favoured by DID (apps/feed/did): node 0's index says identity aa…aa
 * names creator 1's key.  With 8 bits of proof of work, creator 1's card
 * naming that DID is taken; creator 2's naming the same DID, creator 1's
 * naming another identity's and creator 1's naming none are refused.
 */
static void test_favoured_did(struct tctx *t)
{
	struct feed_did_index *x = feed_did_new();
	struct feed_node_cfg rl = { .favoured = feed_did_favoured_now,
				    .favoured_ctx = x,
				    .pow_bits_favoured = 8 };
	struct env *e = calloc(1, sizeof(*e));
	const struct feed_node_stats *s0;
	struct bbuf b = BBUF_INIT;
	struct ed25519_pk k1;
	uint8_t ida[20], name[32] = { 0 }, c[4][32];
	char dida[64], didb[64];
	static const char *const titles[4] = {
		"Registered", "Impostor", "Other identity", "No identity",
	};
	static const uint8_t who[4] = { 1, 2, 1, 1 };
	unsigned i;

	memset(ida, 0xaa, 20);
	memcpy(dida, "did:ethr:0x", 11);
	memcpy(didb, "did:ethr:0x", 11);
	for (i = 0; i < 40; i++) {
		dida[11 + i] = 'a';
		didb[11 + i] = 'b';
	}
	dida[51] = didb[51] = '\0';
	memcpy(name, FEED_DID_KEY_ATTR, sizeof(FEED_DID_KEY_ATTR) - 1);
	tf_pk(1, &k1);
	T_OK(t, feed_did_apply(x, ida, name, k1.b, 32, time_now_s() + 86400));

	time_set_mono_override(7000000);
	env_init(t, e, &rl, false, false);
	s0 = feed_node_get_stats(e->fn[0]);
	e->rogue_lazy = true;
	e->rogue_bits = 8;	/* 8 to 11 bits */
	for (i = 0; i < 4; i++) {
		bbuf_reset(&b);
		tf_card_did(t, who[i], titles[i], i < 2 ? dida : i == 2 ?
			    didb : "", TF_T0, &b, c[i]);
		rogue_send(e, 0, DATAGRAM_PROTO_REPLIABLE, FEED_ITEM_CARD,
			   b.data, b.len);
	}
	run_quiet(e);
	T_TRUE(t, feed_store_has(e->st[0], c[0]));
	for (i = 1; i < 4; i++)
		T_FALSE(t, feed_store_has(e->st[0], c[i]));
	T_EQ(t, s0->favoured, 1);
	T_EQ(t, s0->rej_pow, 3);
	time_set_mono_override(0);
	bbuf_free(&b);
	env_free(e);
	free(e);
	feed_did_free(x);
}

const struct test_case feed_gossip_tests[] = {
	{ "push", test_push, 0 },
	{ "catch_up", test_catch_up, 0 },
	{ "ten_nodes", test_ten_nodes, 0 },
	{ "favoured", test_favoured, 0 },
	{ "favoured_did", test_favoured_did, 0 },
	{ "forged", test_forged, 0 },
	{ "follows", test_follows, 0 },
	{ "rate_limits", test_rate_limits, 0 },
	{ "reply_cap", test_reply_cap, 0 },
	{ "pow_block_delete", test_pow_block_delete, 0 },
	{ "retention", test_retention, 0 },
	{ NULL, NULL, 0 }
};
