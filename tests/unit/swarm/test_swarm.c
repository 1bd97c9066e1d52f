/*
 * apps/swarm/swarm: the engine over localnet, several destinations with
 * their own blob stores on one event loop (docs/swarm.md §4).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/client/localnet.h"
#include "apps/client/net.h"
#include "apps/content/cdir.h"
#include "apps/swarm/msg.h"
#include "apps/swarm/swarm.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/time.h"
#include "router/evloop.h"
#include "router/worker.h"
#include "tests/unit/content/tcontent.h"
#include "tests/unit/swarm/tswarm.h"
#include "tests/unit/tharness.h"

#define CONTENT_BYTES (3 * 1024 * 1024 + 12345)	/* 193 chunks of 16 KiB */

/* 1 seeder -> 3 leechers, byte-exact; the leechers trade among
 * themselves too. */
static void test_one_seeder_three_leechers(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *seed;
	uint64_t leech_up = 0;
	uint64_t bad;

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 7, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	for (int i = 0; i < 3; i++) {
		struct tnode *l = tn_node(&tn, NULL);
		T_OK(t, swarm_content_fetch(l->sw, tn.hash, SWARM_PICK_RAREST));
		T_OK(t, swarm_peer_add(l->sw, tn.hash, client_dest_pub(seed->d)));
	}
	/* Seed hints between the leechers (both ways for 1 and 2: the
	 * duplicate connection is resolved on both ends). */
	T_OK(t, swarm_peer_add(tn.n[1].sw, tn.hash, client_dest_pub(tn.n[2].d)));
	T_OK(t, swarm_peer_add(tn.n[1].sw, tn.hash, client_dest_pub(tn.n[3].d)));
	T_OK(t, swarm_peer_add(tn.n[2].sw, tn.hash, client_dest_pub(tn.n[3].d)));
	T_OK(t, swarm_peer_add(tn.n[2].sw, tn.hash, client_dest_pub(tn.n[1].d)));
	T_ERR(t, swarm_peer_add(tn.n[2].sw, tn.hash, client_dest_pub(tn.n[2].d)),
	      ERR_EXISTS);
	T_TRUE(t, tn_run(&tn, all_complete));
	for (unsigned i = 1; i < tn.count; i++) {
		struct swarm_content_stats s;
		T_OK(t, swarm_content_stats(tn.n[i].sw, tn.hash, &s));
		T_EQ(t, s.chunk_count, 193);
		T_EQ(t, s.bad_pieces, 0);
		T_EQ(t, tn.n[i].nlog, 193);
		leech_up += s.bytes_up;
		check_plaintext(&tn, &tn.n[i], &pub.key, CONTENT_BYTES, 7);
		T_OK(t, content_store_check(tn.n[i].st, &bad));
		T_EQ(t, bad, 0);
	}
	T_TRUE(t, leech_up > 0);
	content_published_clear(&pub);
	tn_free(&tn);
}

/* ---- a lying seeder, speaking the protocol by hand ---- */

/* A hand-made peer: sends a bad chunk, a bad proof, (HALF) announces
 * chunks 0..95 and never unchokes, or (MUTE) never answers requests. */
enum liar_kind { LIAR_CHUNK, LIAR_PROOF, LIAR_HALF, LIAR_MUTE };

struct liar {
	struct tnode *nd;
	struct tnode *honest;		/* where it reads real chunks */
	enum liar_kind kind;
	struct stream *s;
	uint8_t in[SWARM_FRAME_MAX_BYTES];
	size_t in_len;
	bool handshaken, ended;
	unsigned requests, pieces;
};

static void liar_send(struct liar *l, const struct swarm_msg *m)
{
	struct bbuf b = BBUF_INIT;

	if (swarm_msg_encode(m, &b) == 0)
		(void)stream_write(l->s, b.data, b.len);
	bbuf_free(&b);
}

static void liar_piece(struct liar *l, uint32_t idx)
{
	struct swarm_msg m = { .type = SWARM_PIECE };
	uint8_t *buf = xmalloc(SWARM_CHUNK_MAX_BYTES);
	size_t len;

	if (content_store_chunk_get(l->honest->st, l->nd->tn->hash, idx, buf,
				    SWARM_CHUNK_MAX_BYTES, &len,
				    &m.u.piece.proof) == 0) {
		if (l->kind == LIAR_CHUNK)
			buf[len / 2] ^= 0x40;
		else if (m.u.piece.proof.depth > 0)
			m.u.piece.proof.sib[0][3] ^= 0x01;
		m.u.piece.index = idx;
		m.u.piece.chunk = buf;
		m.u.piece.chunk_len = len;
		liar_send(l, &m);
		l->pieces++;
	}
	free(buf);
}

static void liar_event(void *ctx, struct stream *s, unsigned ev)
{
	struct liar *l = ctx;
	struct swarm_msg m;
	size_t used;

	if (ev & (STREAM_EV_EOF | STREAM_EV_RESET | STREAM_EV_CLOSED |
		  STREAM_EV_FAILED)) {
		l->ended = true;
		stream_release(s);
		l->s = NULL;
		return;
	}
	if (!(ev & STREAM_EV_READABLE))
		return;
	l->in_len += stream_read(s, l->in + l->in_len,
				 sizeof(l->in) - l->in_len);
	while (swarm_msg_decode(l->in, l->in_len, &m, &used) == 0) {
		if (m.type == SWARM_HANDSHAKE && !l->handshaken) {
			struct swarm_msg hs = { .type = SWARM_HANDSHAKE };
			struct swarm_msg bf = { .type = SWARM_BITFIELD };
			uint8_t bits[(193 + 7) / 8];
			memset(bits, 0xff, sizeof(bits));
			bits[sizeof(bits) - 1] = 0x01;	/* 193 = 24 * 8 + 1 */
			if (l->kind == LIAR_HALF)
				memset(bits + 12, 0, sizeof(bits) - 12);
			hs.u.hs = m.u.hs;
			hs.u.hs.flags = 0;		/* no metadata */
			bf.u.bitfield.count = 193;
			bf.u.bitfield.bits = bits;
			liar_send(l, &hs);
			liar_send(l, &bf);
			hs = (struct swarm_msg){ .type = SWARM_UNCHOKE };
			if (l->kind != LIAR_HALF)
				liar_send(l, &hs);
			l->handshaken = true;
		} else if (m.type == SWARM_REQUEST) {
			l->requests++;
			for (uint32_t k = 0; k < m.u.range.count &&
			     l->kind != LIAR_MUTE; k++)
				liar_piece(l, m.u.range.index + k);
		}
		memmove(l->in, l->in + used, l->in_len - used);
		l->in_len -= used;
	}
}

static void liar_accept(void *ctx, struct stream *s)
{
	struct liar *l = ctx;

	l->s = s;
	stream_set_handler(s, liar_event, l);
}

static struct liar *liars_g[2];

static bool liars_handshaken(struct tnet *tn)
{
	(void)tn;
	return liars_g[0]->handshaken && liars_g[1]->handshaken;
}

static bool liars_ended(struct tnet *tn)
{
	(void)tn;
	return liars_g[0]->ended && liars_g[1]->ended;
}

/* Two lying seeders (a bad chunk, a bad proof) and one honest one: both
 * liars are caught and banned, and the download completes, byte-exact. */
static void test_lying_seeders_banned(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_content_stats s;
	struct tnode *seed, *leech;
	struct liar *liars = xcalloc(2, sizeof(*liars));
	uint64_t bad;

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 9, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, NULL);
	for (int i = 0; i < 2; i++) {
		liars[i].nd = tn_dest(&tn);
		liars[i].honest = seed;
		liars[i].kind = i == 0 ? LIAR_CHUNK : LIAR_PROOF;
		stream_mgr_set_acceptor(liars[i].nd->mgr, liar_accept,
					&liars[i]);
		liars_g[i] = &liars[i];
	}
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_RAREST));
	/* The liars first, so they are asked as soon as the metadata is in
	 * (they offer none: it comes from the honest seeder). */
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(liars[0].nd->d)));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(liars[1].nd->d)));
	T_TRUE(t, tn_run(&tn, liars_handshaken));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	for (int i = 0; i < 2; i++) {
		const uint8_t *h = client_dest_pub(liars[i].nd->d)->hash;
		T_TRUE(t, liars[i].pieces >= 1);
		T_TRUE(t, swarm_is_banned(leech->sw, tn.hash, h));
		/* Banned: never asked again. */
		T_ERR(t, swarm_peer_add(leech->sw, tn.hash,
					client_dest_pub(liars[i].nd->d)),
		      ERR_AUTH);
	}
	T_OK(t, swarm_content_stats(leech->sw, tn.hash, &s));
	T_EQ(t, s.banned, 2);
	T_EQ(t, s.bad_pieces, 2);
	T_EQ(t, s.peers, 1);
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 9);
	T_OK(t, content_store_check(leech->st, &bad));
	T_EQ(t, bad, 0);
	/* Each liar's stream was ended by the leecher. */
	T_TRUE(t, tn_run(&tn, liars_ended));
	content_published_clear(&pub);
	tn_free(&tn);
	free(liars);
}

static bool liar0_handshaken(struct tnet *tn)
{
	(void)tn;
	return liars_g[0]->handshaken;
}

/* Rarest first: a second peer announces chunks 0..95 (and never
 * unchokes), so those are twice as common as 96..192; the one seeder that
 * serves is asked for all of 96..192 before any of 0..95. */
static void test_rarest_first(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *seed, *leech;
	struct liar *half = xcalloc(1, sizeof(*half));

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 15, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, NULL);
	half->nd = tn_dest(&tn);
	half->honest = seed;
	half->kind = LIAR_HALF;
	stream_mgr_set_acceptor(half->nd->mgr, liar_accept, half);
	liars_g[0] = half;
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(half->nd->d)));
	T_TRUE(t, tn_run(&tn, liar0_handshaken));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	T_EQ(t, leech->nlog, 193);
	for (unsigned i = 0; i < 97 && i < leech->nlog; i++)
		if (leech->log[i] < 96) {
			T_TRUE(t, leech->log[i] >= 96);
			break;
		}
	T_EQ(t, half->requests, 0);
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 15);
	content_published_clear(&pub);
	tn_free(&tn);
	free(half);
}

static bool leech_has_50(struct tnet *tn)
{
	return tn->n[1].nlog >= 50;
}

/* Two seeders; one goes away mid-transfer (its swarm is freed, which
 * resets its streams): its requests go to the other, and the download
 * completes byte-exact. */
static void test_seeder_leaves(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_content_stats s;
	struct tnode *seed, *seed2, *leech;
	char *src;
	uint8_t h[32];

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 17, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, NULL);
	seed2 = tn_node(&tn, NULL);
	src = content_store_dir(seed->st, tn.hash);
	T_OK(t, content_store_import(seed2->st, src, true, h));
	free(src);
	T_OK(t, swarm_content_add(seed2->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed2->d)));
	T_TRUE(t, tn_run(&tn, leech_has_50));
	T_TRUE(t, leech->nlog < 193);
	/* seed2 served, and has requests of ours under way when it goes. */
	T_OK(t, swarm_content_stats(seed2->sw, tn.hash, &s));
	T_TRUE(t, s.bytes_up > 0);
	{
		struct swarm_peer_stats ps[4];
		size_t n = swarm_peer_stats(leech->sw, tn.hash, ps, 4);
		unsigned inflight = 0;
		for (size_t i = 0; i < n; i++)
			if (memcmp(ps[i].dest_hash,
				   client_dest_pub(seed2->d)->hash, 32) == 0)
				inflight = ps[i].in_flight;
		T_TRUE(t, inflight > 0);
		/* seed2's stream to the leech, its figures while it runs */
		n = swarm_peer_stats(seed2->sw, tn.hash, ps, 4);
		T_EQ(t, n, 1);
		T_TRUE(t, ps[0].has_stream);
		T_TRUE(t, ps[0].stream.packets_sent > 0);
		T_TRUE(t, ps[0].stream.cwnd > 0);
		T_EQ(t, ps[0].stream.state, STREAM_OPEN);
	}
	swarm_free(seed2->sw);
	seed2->sw = NULL;
	T_TRUE(t, tn_run(&tn, all_complete));
	T_OK(t, swarm_content_stats(leech->sw, tn.hash, &s));
	T_EQ(t, s.peers, 1);
	T_EQ(t, s.banned, 0);
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 17);
	content_published_clear(&pub);
	tn_free(&tn);
}

/* Counts the HAVE frames a node receives (swarm_set_trace). */
static void count_have_in(void *ctx, const uint8_t dest_hash[32], bool sent,
			  const uint8_t *frame, size_t len)
{
	struct swarm_msg m;
	size_t used;

	(void)dest_hash;
	if (!sent && swarm_msg_decode(frame, len, &m, &used) == 0 &&
	    m.type == SWARM_HAVE)
		++*(unsigned *)ctx;
}

/* A viewer fetching from two seeders sends them no HAVE (each would be a
 * stream packet through both tunnels, for nothing): the seeders receive
 * none, and the viewer sends them fewer packets than twice the chunks
 * (587 packets, 380 of them HAVEs, before; 224 after). */
static void test_no_have_to_seeders(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *seed, *seed2, *leech;
	struct swarm_peer_stats ps[4];
	unsigned haves = 0;
	uint64_t sent = 0;
	size_t n;
	char *src;
	uint8_t h[32];

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 23, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	seed2 = tn_node(&tn, NULL);
	src = content_store_dir(seed->st, tn.hash);
	T_OK(t, content_store_import(seed2->st, src, true, h));
	free(src);
	T_OK(t, swarm_content_add(seed2->sw, tn.hash, SWARM_PICK_RAREST));
	swarm_set_trace(seed->sw, count_have_in, &haves);
	swarm_set_trace(seed2->sw, count_have_in, &haves);
	leech = tn_node(&tn, NULL);
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed2->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 23);
	T_EQ(t, haves, 0);
	n = swarm_peer_stats(leech->sw, tn.hash, ps, 4);
	T_EQ(t, n, 2);
	for (size_t i = 0; i < n; i++)
		sent += ps[i].has_stream ? ps[i].stream.packets_sent : 0;
	T_TRUE(t, sent > 0 && sent < 2 * 193);
	content_published_clear(&pub);
	tn_free(&tn);
}

static bool timed_out_once(struct tnet *tn)
{
	struct swarm_content_stats s;

	return swarm_content_stats(tn->n[1].sw, tn->hash, &s) == 0 &&
	       s.request_timeouts >= 1;
}

/* The mute peer sat on our requests twice and its stream was dropped. */
static bool mute_dropped(struct tnet *tn)
{
	struct swarm_content_stats s;

	return swarm_content_stats(tn->n[1].sw, tn->hash, &s) == 0 &&
	       s.request_timeouts >= 2 && s.peers == 0;
}

/* Read file `name` of content hash in nd's store (caller frees). */
static uint8_t *store_file(struct tctx *t, struct tnode *nd,
			   const uint8_t hash[32], const char *name,
			   size_t *len)
{
	char *dir = content_store_dir(nd->st, hash);
	char *path = fsutil_path_join(dir, name);
	uint8_t *buf = NULL;

	T_OK(t, fsutil_read_file(path, 1 << 24, &buf, len));
	free(path);
	free(dir);
	return buf;
}

/* A peer that keeps its stream up but never answers: our requests to it
 * time out (it is not asked for a while), then time out again and its
 * stream is dropped; a seeder that answers brings the rest. */
static void test_request_timeout(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_content_stats s;
	struct swarm_config cfg;
	struct tnode *seed, *leech;
	struct liar *mute = xcalloc(1, sizeof(*mute));
	uint8_t *man, *tree, h[32];
	size_t mlen = 0, tlen = 0;

	swarm_config_default(&cfg);
	cfg.request_timeout_ms = 1000;
	cfg.idle_timeout_ms = 2 * TN_TIMEOUT_MS;	/* silence alone: no drop */
	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 19, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, &cfg);
	mute->nd = tn_dest(&tn);
	mute->honest = seed;
	mute->kind = LIAR_MUTE;
	stream_mgr_set_acceptor(mute->nd->mgr, liar_accept, mute);
	liars_g[0] = mute;
	/* The leecher starts with manifest and tree, so it asks the mute
	 * peer at once, before the seeder is known. */
	man = store_file(t, seed, tn.hash, "manifest", &mlen);
	tree = store_file(t, seed, tn.hash, "tree", &tlen);
	T_OK(t, content_store_add(leech->st, man, mlen, tree, tlen, false, h));
	free(man);
	free(tree);
	T_OK(t, swarm_content_add(leech->sw, tn.hash, SWARM_PICK_STREAMING));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(mute->nd->d)));
	T_TRUE(t, tn_run(&tn, timed_out_once));
	T_TRUE(t, mute->requests > 0);
	T_EQ(t, leech->nlog, 0);
	T_TRUE(t, tn_run(&tn, mute_dropped));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	T_OK(t, swarm_content_stats(leech->sw, tn.hash, &s));
	T_EQ(t, s.banned, 0);
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 19);
	content_published_clear(&pub);
	tn_free(&tn);
	free(mute);
}

struct hog {
	struct stream *s;
	bool ended;
	struct bbuf b;			/* what it still has to send */
	size_t sent;
};

static void hog_event(void *ctx, struct stream *s, unsigned ev)
{
	struct hog *g = ctx;

	/* Never reads. */
	if (ev & (STREAM_EV_RESET | STREAM_EV_CLOSED | STREAM_EV_FAILED |
		  STREAM_EV_EOF)) {
		g->ended = true;
		stream_release(s);
		g->s = NULL;
	}
}

static struct hog *hog_g;

/* Poll: feed the requests as the stream takes them; done once the
 * seeder has dropped the hog. */
static bool hog_feed(struct tnet *tn)
{
	struct swarm_content_stats s;
	struct hog *g = hog_g;

	if (g->s && g->sent < g->b.len)
		g->sent += stream_write(g->s, g->b.data + g->sent,
					g->b.len - g->sent);
	return g->ended &&
	       swarm_content_stats(tn->n[0].sw, tn->hash, &s) == 0 &&
	       s.peers == 0;
}

/* A peer that asks for the tree again and again and never reads what
 * comes back is dropped once its unread output passes the cap, instead
 * of growing our buffer without bound. */
static void test_output_cap(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *seed, *hn;
	struct hog *g = xcalloc(1, sizeof(*g));
	struct swarm_msg hs = { .type = SWARM_HANDSHAKE };
	struct swarm_msg mr = { .type = SWARM_META_REQUEST };

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 21, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	hn = tn_dest(&tn);
	hog_g = g;
	hs.u.hs.version = SWARM_PROTO_VERSION;
	memcpy(hs.u.hs.content_hash, tn.hash, 32);
	T_OK(t, swarm_msg_encode(&hs, &g->b));
	mr.u.metareq.kind = SWARM_META_TREE;
	/* 1000 requests for the tree (12 KiB each): ~12 MB of answers. */
	for (int i = 0; i < 1000; i++)
		T_OK(t, swarm_msg_encode(&mr, &g->b));
	T_OK(t, stream_connect(hn->mgr, client_dest_pub(seed->d), SWARM_PORT,
			       SWARM_PORT, hog_event, g, &g->s));
	T_TRUE(t, tn_run(&tn, hog_feed));
	T_TRUE(t, g->sent > 0);
	bbuf_free(&g->b);
	content_published_clear(&pub);
	tn_free(&tn);
	free(g);
}

/* nd stored the 193 chunks once each, in order. */
static void check_in_order(struct tctx *t, const struct tnode *nd)
{
	T_EQ(t, nd->nlog, 193);
	for (unsigned i = 0; i < nd->nlog; i++)
		if (nd->log[i] != i) {
			T_EQ(t, nd->log[i], i);
			break;
		}
}

/* Streaming mode from one seeder: chunks become available in order. */
static void test_streaming_in_order(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *seed, *leech;

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 11, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, NULL);
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_STREAMING));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	check_in_order(t, leech);
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 11);
	content_published_clear(&pub);
	tn_free(&tn);
}

/* A seek mid-download: after the chunks already under way, the window
 * at the new position comes first, in order; then the rest. */
static void test_streaming_seek(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_config cfg;
	struct tnode *seed, *leech;
	unsigned first, late = 0, got = 0;
	bool seen[193] = { false };

	swarm_config_default(&cfg);
	cfg.pipeline = 4;
	cfg.window_chunks = 16;
	tn_init(&tn, t);
	seed = tn_node(&tn, &cfg);
	tn_publish(&tn, seed, CONTENT_BYTES, 13, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, &cfg);
	leech->seek_after = 10;
	leech->seek_to = 145;			/* 75 % */
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_STREAMING));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	T_EQ(t, leech->seek_at, 10);
	T_EQ(t, leech->nlog, 193);
	for (unsigned i = 0; i < 10; i++)
		T_EQ(t, leech->log[i], i);
	/* After the seek: at most `pipeline` chunks from before it, then
	 * 145, 146, ... 160 in order before anything else. */
	for (first = leech->seek_at; first < leech->nlog &&
	     leech->log[first] != 145; first++)
		late++;
	T_TRUE(t, late <= cfg.pipeline);
	for (unsigned k = 0; k < cfg.window_chunks &&
	     first + k < leech->nlog; k++)
		T_EQ(t, leech->log[first + k], 145 + k);
	/* Each chunk stored once. */
	for (unsigned i = 0; i < leech->nlog; i++) {
		if (leech->log[i] < 193 && !seen[leech->log[i]]) {
			seen[leech->log[i]] = true;
			got++;
		}
	}
	T_EQ(t, got, 193);
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 13);
	content_published_clear(&pub);
	tn_free(&tn);
}

/* Counts the CANCEL frames a node sends (swarm_set_trace). */
static void count_cancel_out(void *ctx, const uint8_t dest_hash[32],
			     bool sent, const uint8_t *frame, size_t len)
{
	struct swarm_msg m;
	size_t used;

	(void)dest_hash;
	if (sent && swarm_msg_decode(frame, len, &m, &used) == 0 &&
	    m.type == SWARM_CANCEL)
		++*(unsigned *)ctx;
}

/*
 * A reader in order (the endpoint's reply) waits for each next chunk in
 * turn, with a pipeline (8) deeper than the window (4): with swarm_play
 * the position moves on and no request is cancelled, the chunks come in
 * order and once each; moving it with swarm_seek instead cancels the
 * requests past the window at every chunk, to ask for them again.
 */
static void test_play_reading_on(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_config cfg;
	struct tnode *seed, *play, *seek;
	unsigned cancels_play = 0, cancels_seek = 0;

	swarm_config_default(&cfg);
	cfg.pipeline = 8;
	cfg.window_chunks = 4;
	tn_init(&tn, t);
	seed = tn_node(&tn, &cfg);
	tn_publish(&tn, seed, CONTENT_BYTES, 19, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	play = tn_node(&tn, &cfg);
	play->reader = 1;
	swarm_set_trace(play->sw, count_cancel_out, &cancels_play);
	T_OK(t, swarm_content_fetch(play->sw, tn.hash, SWARM_PICK_STREAMING));
	T_OK(t, swarm_peer_add(play->sw, tn.hash, client_dest_pub(seed->d)));
	seek = tn_node(&tn, &cfg);
	seek->reader = 2;
	swarm_set_trace(seek->sw, count_cancel_out, &cancels_seek);
	T_OK(t, swarm_content_fetch(seek->sw, tn.hash, SWARM_PICK_STREAMING));
	T_OK(t, swarm_peer_add(seek->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	T_EQ(t, cancels_play, 0);
	T_TRUE(t, cancels_seek > 0);
	check_in_order(t, play);
	check_plaintext(&tn, play, &pub.key, CONTENT_BYTES, 19);
	check_plaintext(&tn, seek, &pub.key, CONTENT_BYTES, 19);
	content_published_clear(&pub);
	tn_free(&tn);
}

static bool no_peers(struct tnet *tn)
{
	struct swarm_content_stats s;

	return swarm_content_stats(tn->n[1].sw, tn->hash, &s) == 0 &&
	       s.peers == 0;
}

/* A peer asking for a content we do not trade is refused with an
 * error, and nothing else happens. */
static void test_unknown_content(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *a, *b;
	struct swarm_content_stats s;
	uint8_t other[32];

	tn_init(&tn, t);
	a = tn_node(&tn, NULL);
	tn_publish(&tn, a, 100000, 3, 14, &pub);
	memcpy(other, tn.hash, 32);
	other[0] ^= 1;
	b = tn_node(&tn, NULL);
	T_OK(t, swarm_content_fetch(b->sw, other, SWARM_PICK_RAREST));
	T_ERR(t, swarm_content_fetch(b->sw, other, SWARM_PICK_RAREST),
	      ERR_EXISTS);
	T_OK(t, swarm_peer_add(b->sw, other, client_dest_pub(a->d)));
	memcpy(tn.hash, other, 32);
	T_TRUE(t, tn_run(&tn, no_peers));
	T_OK(t, swarm_content_stats(b->sw, other, &s));
	T_EQ(t, s.have_count, 0);
	T_EQ(t, s.peers, 0);
	content_published_clear(&pub);
	tn_free(&tn);
}

static bool has_peer(struct tnode *nd, const uint8_t hash[32],
		     const struct tnode *other)
{
	struct swarm_peer_stats ps[8];
	size_t n = swarm_peer_stats(nd->sw, hash, ps, 8);

	for (size_t i = 0; i < n; i++)
		if (memcmp(ps[i].dest_hash, client_dest_pub(other->d)->hash,
			   32) == 0)
			return true;
	return false;
}

static void use_lookup(struct tnet *tn, struct tnode *nd)
{
	swarm_set_lookup(nd->sw, tn->cn.lookup, tn->cn.ctx);
}

static bool a_has_chunks(struct tnet *tn)
{
	return tn->n[1].nlog >= 4;
}

static bool pex_done(struct tnet *tn)
{
	return all_complete(tn) && has_peer(&tn->n[2], tn->hash, &tn->n[0]);
}

/* Hints by destination hash: A knows only the seeder's hash, B only A's;
 * A tells B of the seeder (PEERS) and B fetches from both. */
static void test_hints_and_pex(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *seed, *a, *b;
	uint8_t unknown[32];

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 21, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	a = tn_node(&tn, NULL);
	b = tn_node(&tn, NULL);
	use_lookup(&tn, a);
	use_lookup(&tn, b);
	T_OK(t, swarm_content_fetch(a->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_content_fetch(b->sw, tn.hash, SWARM_PICK_RAREST));
	/* A hash nobody serves stays a hint until it expires. */
	memset(unknown, 0x42, 32);
	T_OK(t, swarm_peer_hint(a->sw, tn.hash, unknown));
	T_OK(t, swarm_peer_hint(a->sw, tn.hash, client_dest_pub(seed->d)->hash));
	T_ERR(t, swarm_peer_hint(a->sw, unknown, client_dest_pub(seed->d)->hash),
	      ERR_NOT_FOUND);
	T_TRUE(t, tn_run(&tn, a_has_chunks));
	T_TRUE(t, has_peer(a, tn.hash, seed));
	T_OK(t, swarm_peer_hint(b->sw, tn.hash, client_dest_pub(a->d)->hash));
	T_TRUE(t, tn_run(&tn, pex_done));
	T_TRUE(t, has_peer(b, tn.hash, a));
	T_TRUE(t, has_peer(seed, tn.hash, b));
	check_plaintext(&tn, a, &pub.key, CONTENT_BYTES, 21);
	check_plaintext(&tn, b, &pub.key, CONTENT_BYTES, 21);
	content_published_clear(&pub);
	tn_free(&tn);
}

static bool tracker_knows_two(struct tnet *tn)
{
	uint8_t got[4][32];

	return all_complete(tn) &&
	       swarm_tracker_list(tn->n[0].sw, tn->hash, got, 4) == 2;
}

/* Frames the viewer sent and received, by type. */
static unsigned traced[2][SWARM_MSG_TYPE_COUNT];

static void trace_count(void *ctx, const uint8_t dest[32], bool sent,
			const uint8_t *frame, size_t len)
{
	(void)ctx;
	(void)dest;
	if (len >= SWARM_HEADER_BYTES && frame[4] < SWARM_MSG_TYPE_COUNT &&
	    be32_get(frame) == len - 4)
		traced[sent][frame[4]]++;
}

/* The tracker role: the seeder and the viewer know only the tracker's
 * hash; the viewer's announce is answered with the seeder's destination
 * and the download completes.  The tracker holds no content, and keeps
 * only destination hashes. */
static void test_tracker(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *tr, *seed, *leech;
	uint8_t got[4][32];
	const uint8_t *th;
	size_t n;

	tn_init(&tn, t);
	tr = tn_node(&tn, NULL);
	swarm_set_tracker_role(tr->sw, true);
	th = client_dest_pub(tr->d)->hash;
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 23, 14, &pub);
	use_lookup(&tn, seed);
	T_OK(t, swarm_tracker_add(seed->sw, th));
	T_ERR(t, swarm_tracker_add(seed->sw, th), ERR_EXISTS);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, NULL);
	use_lookup(&tn, leech);
	T_OK(t, swarm_tracker_add(leech->sw, th));
	swarm_set_trace(leech->sw, trace_count, NULL);
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_STREAMING));
	T_TRUE(t, tn_run(&tn, tracker_knows_two));
	n = swarm_tracker_list(tr->sw, tn.hash, got, 4);
	T_EQ(t, n, 2);
	for (size_t i = 0; i < n; i++)
		T_TRUE(t, memcmp(got[i], client_dest_pub(seed->d)->hash, 32) == 0 ||
			  memcmp(got[i], client_dest_pub(leech->d)->hash, 32) == 0);
	T_TRUE(t, has_peer(leech, tn.hash, seed));
	/* The trace saw whole frames: our announce, the tracker's answer,
	 * the handshakes and every piece. */
	T_TRUE(t, traced[1][SWARM_ANNOUNCE] >= 1);
	T_TRUE(t, traced[0][SWARM_PEERS] >= 1);
	T_TRUE(t, traced[1][SWARM_HANDSHAKE] >= 1);
	T_TRUE(t, traced[0][SWARM_PIECE] >= 193);
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 23);
	/* A restarted tracker (a new swarm) that loads what the old one
	 * saved names the same two; damaged tables load nothing. */
	{
		struct bbuf b = BBUF_INIT;
		struct tnode *tr2 = tn_node(&tn, NULL);
		uint8_t got2[4][32];

		T_TRUE(t, swarm_tracker_dirty(tr->sw));
		swarm_tracker_save(tr->sw, &b);
		T_TRUE(t, !swarm_tracker_dirty(tr->sw));
		T_EQ(t, b.len, 12 + 2 * 68);
		b.data[12 + 32] ^= 1;		/* truncated: refused */
		T_ERR(t, swarm_tracker_load(tr2->sw, b.data, b.len - 1),
		      ERR_FORMAT);
		b.data[12 + 32] ^= 1;
		b.data[7] = 2;			/* version 2: refused */
		T_ERR(t, swarm_tracker_load(tr2->sw, b.data, b.len),
		      ERR_FORMAT);
		b.data[7] = 1;
		T_EQ(t, swarm_tracker_list(tr2->sw, tn.hash, got2, 4), 0);
		T_OK(t, swarm_tracker_load(tr2->sw, b.data, b.len));
		T_EQ(t, swarm_tracker_list(tr2->sw, tn.hash, got2, 4), 2);
		T_TRUE(t, (memcmp(got2[0], got[0], 32) == 0 &&
			   memcmp(got2[1], got[1], 32) == 0) ||
			  (memcmp(got2[0], got[1], 32) == 0 &&
			   memcmp(got2[1], got[0], 32) == 0));
		bbuf_free(&b);
	}
	content_published_clear(&pub);
	tn_free(&tn);
}

/* Handshakes the seeder received, by the peer that sent them. */
static unsigned tv_hs_from_tracker;
static const uint8_t *tv_tracker_hash;

static void trace_tv(void *ctx, const uint8_t dest[32], bool sent,
		     const uint8_t *frame, size_t len)
{
	(void)ctx;
	if (!sent && len >= SWARM_HEADER_BYTES &&
	    frame[4] == SWARM_HANDSHAKE &&
	    memcmp(dest, tv_tracker_hash, 32) == 0)
		tv_hs_from_tracker++;
}

static bool tracker_viewer_done(struct tnet *tn)
{
	return node_complete(&tn->n[0], tn->hash) &&
	       node_complete(&tn->n[2], tn->hash);
}

/* A tracker that also views the content: the seeder's announce is
 * answered on a stream of its own, and the stream the two trade the
 * chunks on stays up (one connection between them, none dropped),
 * while a second viewer that knows only the tracker fetches too. */
static void test_tracker_viewer(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_content_stats s;
	struct swarm_config cfg;
	struct tnode *tr, *seed, *v2;
	const uint8_t *th;

	/* Every party announces at each tick, the seeder serves slowly:
	 * several announces come while the chunks flow. */
	swarm_config_default(&cfg);
	cfg.announce_interval_ms = 1;
	tn_init(&tn, t);
	tr = tn_node(&tn, &cfg);
	swarm_set_tracker_role(tr->sw, true);
	th = client_dest_pub(tr->d)->hash;
	cfg.upload_Bps = 1000000;
	seed = tn_node(&tn, &cfg);
	cfg.upload_Bps = 0;
	tn_publish(&tn, seed, CONTENT_BYTES, 29, 14, &pub);
	use_lookup(&tn, seed);
	use_lookup(&tn, tr);
	tv_tracker_hash = th;
	swarm_set_trace(seed->sw, trace_tv, NULL);
	/* The tracker does not list itself (bitsd's `tracker = true` with
	 * no `trackers`): its role makes it one of its own trackers, or its
	 * fetch would find no seeder. */
	T_OK(t, swarm_content_fetch(tr->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_tracker_add(seed->sw, th));
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	v2 = tn_node(&tn, &cfg);
	use_lookup(&tn, v2);
	T_OK(t, swarm_tracker_add(v2->sw, th));
	T_OK(t, swarm_content_fetch(v2->sw, tn.hash, SWARM_PICK_RAREST));
	T_TRUE(t, tn_run(&tn, tracker_viewer_done));
	T_TRUE(t, has_peer(tr, tn.hash, seed));
	T_TRUE(t, has_peer(seed, tn.hash, tr));
	T_OK(t, swarm_content_stats(tr->sw, tn.hash, &s));
	T_EQ(t, s.request_timeouts, 0);
	/* The seeder had a handshake from the tracker once (twice when
	 * both opened a stream at once), not one per announce. */
	T_TRUE(t, tv_hs_from_tracker >= 1 && tv_hs_from_tracker <= 2);
	check_plaintext(&tn, tr, &pub.key, CONTENT_BYTES, 29);
	check_plaintext(&tn, v2, &pub.key, CONTENT_BYTES, 29);
	content_published_clear(&pub);
	tn_free(&tn);
}

/* What the viewer's store said when its last chunk came in. */
static struct {
	struct tnode *nd;
	bool seen;
	uint32_t index_have;		/* chunks marked in the index */
	size_t have_bits;		/* chunks served (content_store_have) */
	unsigned max_pending;		/* chunks not synced, at most */
} fw;

static void fw_chunk(void *ctx, const uint8_t hash[32], uint32_t idx,
		     const uint8_t *ct, size_t len)
{
	struct content_store_info info;
	uint8_t *have = NULL;
	size_t hl = 0;

	(void)ctx;
	(void)ct;
	(void)len;
	if (content_store_pending(fw.nd->st) > fw.max_pending)
		fw.max_pending = content_store_pending(fw.nd->st);
	if (idx == SWARM_META_READY || fw.seen ||
	    !node_complete(fw.nd, hash))
		return;
	fw.seen = true;
	if (content_store_info(fw.nd->st, hash, &info) == 0)
		fw.index_have = info.have_count;
	if (content_store_have(fw.nd->st, hash, &have, &hl) == 0)
		for (size_t i = 0; i < hl; i++)
			fw.have_bits += (size_t)__builtin_popcount(have[i]);
	free(have);
}

static bool fw_index_whole(struct tnet *tn)
{
	struct content_store_info info;

	return fw.seen &&
	       content_store_info(fw.nd->st, tn->hash, &info) == 0 &&
	       info.have_count == info.chunk_count &&
	       content_store_pending(fw.nd->st) == 0;
}

/* The store's syncs run on the worker pool: when the last chunk is in,
 * every chunk is served and counted but the last is not yet in the index
 * (the completion flush took it into a batch and the loop did not wait
 * for the disk); the worker's sync done, the index has them all.  A
 * flush starts every SWARM_FLUSH_PENDING_CHUNKS chunks, so the store
 * never reaches CONTENT_STORE_PENDING_MAX, where it syncs on the loop. */
static void test_flush_on_worker(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct content_store_info info;
	struct tnode *seed, *leech;

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 31, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, NULL);
	memset(&fw, 0, sizeof(fw));
	fw.nd = leech;
	swarm_set_chunk_cb(leech->sw, fw_chunk, NULL);
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, fw_index_whole));
	T_TRUE(t, fw.seen);
	T_EQ(t, fw.have_bits, 193);
	T_TRUE(t, fw.index_have < 193);
	/* Flushes began at SWARM_FLUSH_PENDING_CHUNKS, before the tick's
	 * (without: 192 pending when the last chunk came, 63 to 120 with). */
	T_TRUE(t, fw.max_pending < 192);
	T_OK(t, content_store_info(leech->st, tn.hash, &info));
	T_EQ(t, info.have_count, 193);
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 31);
	content_published_clear(&pub);
	tn_free(&tn);
}

/* The upload budget: a seeder limited to 300,000 chunk bytes a second
 * (30,001 a 100-ms tick) serves at most what it held when the clock
 * started (two ticks' worth at most), what the ticks within the elapsed
 * time added (ms / 100 + 1 of them: the first may come at once) and one
 * chunk (16 KiB) sent on the last tokens into the negative, with two
 * viewers fetching at once (a chunk's tokens are taken when its read on
 * the worker begins, so the two cannot each overdraw by one).  A lower
 * bound on the time only: load makes it slower, never faster. */
static void test_upload_budget(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_config cfg;
	struct swarm_content_stats s;
	struct tnode *seed, *leech, *leech2;
	uint64_t t0, ms, bytes = 900000;

	swarm_config_default(&cfg);
	cfg.upload_Bps = 300000;
	tn_init(&tn, t);
	seed = tn_node(&tn, &cfg);
	tn_publish(&tn, seed, bytes, 25, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, NULL);
	leech2 = tn_node(&tn, NULL);
	t0 = time_mono_ms();
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_OK(t, swarm_content_fetch(leech2->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(leech2->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	ms = time_mono_ms() - t0;
	T_OK(t, swarm_content_stats(seed->sw, tn.hash, &s));
	T_TRUE(t, s.bytes_up >= bytes);
	T_TRUE(t, s.bytes_up <= 2 * 30001 + (ms / SWARM_UPLOAD_TICK_MS + 1) *
				 30001 + (1u << 14));
	check_plaintext(&tn, leech, &pub.key, bytes, 25);
	check_plaintext(&tn, leech2, &pub.key, bytes, 25);
	content_published_clear(&pub);
	tn_free(&tn);
}

/* A lookup that takes a millisecond (one over tunnels takes longer):
 * the clock moves on between a timer's start and what it does. */
static struct tnet *slow_tn;

static int slow_lookup(void *ctx, const uint8_t hash[32],
		       struct keys_and_cert *out)
{
	uint64_t t0 = time_mono_ms();

	(void)ctx;
	while (time_mono_ms() == t0)
		;
	return slow_tn->cn.lookup(slow_tn->cn.ctx, hash, out);
}

#define TICK_ITEMS 4
static uint8_t tick_hash[TICK_ITEMS][32];

/* The tracker (node 0) lists the seeder (node 1), and it alone, for each
 * of the n contents. */
static bool tracker_lists_seeder(struct tnet *tn, const uint8_t (*hash)[32],
				 unsigned n)
{
	uint8_t got[4][32];

	for (unsigned i = 0; i < n; i++)
		if (swarm_tracker_list(tn->n[0].sw, hash[i], got, 4) != 1 ||
		    memcmp(got[0], client_dest_pub(tn->n[1].d)->hash, 32) != 0)
			return false;
	return true;
}

static bool tracker_lists_all(struct tnet *tn)
{
	return tracker_lists_seeder(tn, tick_hash, TICK_ITEMS);
}

/* Announces made by the 1 s timer reach the tracker: a seeder of four
 * contents learns of its tracker after adding them, so all four are
 * announced from one tick, each after a lookup that takes a while.  (The
 * tick took its time once, and an announce stamped later looked billions
 * of years old to it: dropped as "no handshake" before it was answered,
 * so the tracker named no seeder for minutes.) */
static void test_tracker_announce_in_tick(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *tr, *seed;

	tn_init(&tn, t);
	tr = tn_node(&tn, NULL);
	swarm_set_tracker_role(tr->sw, true);
	seed = tn_node(&tn, NULL);
	slow_tn = &tn;
	swarm_set_lookup(seed->sw, slow_lookup, NULL);
	for (unsigned i = 0; i < TICK_ITEMS; i++) {
		tn_publish(&tn, seed, 40000 + 1000 * i, 30 + i, 14, &pub);
		memcpy(tick_hash[i], tn.hash, 32);
		content_published_clear(&pub);
		T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	}
	T_OK(t, swarm_tracker_add(seed->sw, client_dest_pub(tr->d)->hash));
	T_TRUE(t, tn_run(&tn, tracker_lists_all));
	tn_free(&tn);
}

/*
 * A seeder of many contents announces them a few at a time: never more
 * than SWARM_ANNOUNCES_MAX announces to a tracker without their answer (a
 * seeder that started announced every content at once, and two such
 * bursts filled a tracker's SWARM_PENDING_MAX: others' announces were
 * refused), and the tracker still learns of every content within
 * seconds, though another tracker, named first, takes every announce
 * and never answers (the cap is per tracker: one that does not answer
 * holds up no other).
 */
#define MANY_ITEMS 24
static uint8_t many_hash[MANY_ITEMS][32];
static int ann_open, ann_open_max;
static const uint8_t *ann_tracker;
static struct stream *mute_held[MANY_ITEMS];
static unsigned mute_n;

static void mute_accept(void *ctx, struct stream *s)
{
	(void)ctx;
	if (mute_n < MANY_ITEMS)
		mute_held[mute_n++] = s;	/* held, never answered */
	else
		stream_release(s);
}

static void trace_announces(void *ctx, const uint8_t dest[32], bool sent,
			    const uint8_t *frame, size_t len)
{
	(void)ctx;
	if (len < SWARM_HEADER_BYTES || memcmp(dest, ann_tracker, 32) != 0)
		return;
	if (sent && frame[4] == SWARM_ANNOUNCE)
		ann_open++;
	else if (!sent && frame[4] == SWARM_PEERS)
		ann_open--;
	if (ann_open > ann_open_max)
		ann_open_max = ann_open;
}

static bool tracker_lists_many(struct tnet *tn)
{
	return tracker_lists_seeder(tn, many_hash, MANY_ITEMS);
}

static void test_announces_few_at_a_time(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *tr, *seed, *mute;
	uint64_t t0;

	tn_init(&tn, t);
	tr = tn_node(&tn, NULL);
	swarm_set_tracker_role(tr->sw, true);
	seed = tn_node(&tn, NULL);
	use_lookup(&tn, seed);
	mute = tn_dest(&tn);
	mute_n = 0;
	stream_mgr_set_acceptor(mute->mgr, mute_accept, NULL);
	for (unsigned i = 0; i < MANY_ITEMS; i++) {
		tn_publish(&tn, seed, 5000 + 100 * i, 60 + i, 14, &pub);
		memcpy(many_hash[i], tn.hash, 32);
		content_published_clear(&pub);
		T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	}
	ann_open = ann_open_max = 0;
	ann_tracker = client_dest_pub(tr->d)->hash;
	swarm_set_trace(seed->sw, trace_announces, NULL);
	t0 = time_mono_ms();
	T_OK(t, swarm_tracker_add(seed->sw, client_dest_pub(mute->d)->hash));
	T_OK(t, swarm_tracker_add(seed->sw, ann_tracker));
	T_TRUE(t, tn_run(&tn, tracker_lists_many));
	T_TRUE(t, ann_open_max >= 2);		/* a few at once, */
	T_TRUE(t, ann_open_max <= SWARM_ANNOUNCES_MAX);	/* not all */
	/* One tick a round of SWARM_ANNOUNCES_MAX: about 3 s here. */
	T_TRUE(t, time_mono_ms() - t0 < 30000);
	/* The mute tracker was sent its SWARM_ANNOUNCES_MAX, no more. */
	T_EQ(t, mute_n, SWARM_ANNOUNCES_MAX);
	for (unsigned i = 0; i < mute_n; i++)
		stream_release(mute_held[i]);
	tn_free(&tn);
}

/*
 * An announce the tracker refuses (or never answers) goes again soon,
 * backing off: retry, twice that, four times, ... up to the interval, not
 * after the whole interval.  A tracker that was down or restarting learns
 * of a seeder seconds after it is back.  Once answered, the seeder waits
 * the interval again.
 */
#define RETRY_MS 400
static uint64_t rt_sent[16];
static unsigned rt_nsent, rt_nerr;
static const uint8_t *rt_tracker;
static struct tnode *rt_tr, *rt_seed;
static uint64_t rt_t0, rt_on_ms, rt_listed_ms;

static void trace_retries(void *ctx, const uint8_t dest[32], bool sent,
			  const uint8_t *frame, size_t len)
{
	(void)ctx;
	if (len < SWARM_HEADER_BYTES || memcmp(dest, rt_tracker, 32) != 0)
		return;
	if (sent && frame[4] == SWARM_ANNOUNCE && rt_nsent < 16)
		rt_sent[rt_nsent++] = time_mono_ms();
	else if (!sent && frame[4] == SWARM_ERROR)
		rt_nerr++;
}

/* Refused four times, then the tracker comes up; done once it lists the
 * seeder, or after 30 s of either (a seeder that waits the interval). */
static bool retry_cond(struct tnet *tn)
{
	uint8_t got[4][32];

	if (!rt_on_ms) {
		if (rt_nsent >= 4 && rt_nerr >= 4) {
			swarm_set_tracker_role(rt_tr->sw, true);
			rt_on_ms = time_mono_ms();
		}
		return time_mono_ms() - rt_t0 > 30000;
	}
	if (!rt_listed_ms &&
	    swarm_tracker_list(rt_tr->sw, tn->hash, got, 4) == 1 &&
	    memcmp(got[0], client_dest_pub(rt_seed->d)->hash, 32) == 0)
		rt_listed_ms = time_mono_ms();
	return rt_listed_ms || time_mono_ms() - rt_on_ms > 30000;
}

static bool wait_3s(struct tnet *tn)
{
	(void)tn;
	return time_mono_ms() - rt_listed_ms > 3000;
}

static void test_failed_announce_retried(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_config cfg;
	unsigned n;

	swarm_config_default(&cfg);
	cfg.announce_interval_ms = 600000;
	cfg.announce_retry_ms = RETRY_MS;
	tn_init(&tn, t);
	rt_tr = tn_node(&tn, NULL);		/* not a tracker yet */
	rt_seed = tn_node(&tn, &cfg);
	use_lookup(&tn, rt_seed);
	tn_publish(&tn, rt_seed, 30000, 77, 14, &pub);
	content_published_clear(&pub);
	T_OK(t, swarm_content_add(rt_seed->sw, tn.hash, SWARM_PICK_RAREST));
	rt_tracker = client_dest_pub(rt_tr->d)->hash;
	rt_nsent = rt_nerr = 0;
	rt_on_ms = rt_listed_ms = 0;
	rt_t0 = time_mono_ms();
	swarm_set_trace(rt_seed->sw, trace_retries, NULL);
	T_OK(t, swarm_tracker_add(rt_seed->sw, rt_tracker));
	T_TRUE(t, tn_run(&tn, retry_cond));
	T_TRUE(t, rt_listed_ms != 0);
	/* Each wait at least the one before it doubled (the tick may add
	 * up to a second to any of them). */
	for (unsigned i = 1; i < 4; i++)
		T_TRUE(t, rt_sent[i] - rt_sent[i - 1] >=
			  (uint64_t)RETRY_MS << (i - 1));
	/* Listed within the next wait (8 x RETRY_MS) and a tick or two. */
	T_TRUE(t, rt_listed_ms - rt_on_ms < 8 * RETRY_MS + 3000);
	/* Answered: no announce again before the interval. */
	n = rt_nsent;
	T_TRUE(t, tn_run(&tn, wait_3s));
	T_EQ(t, rt_nsent, n);
	tn_free(&tn);
}

static struct tnode *restarted;

/* A router killed: what it would still send is lost. */
static int send_nothing(void *ctx, const struct client_dest *from,
			const struct keys_and_cert *to, uint8_t proto,
			uint16_t src_port, uint16_t dst_port,
			const uint8_t *data, size_t len)
{
	(void)ctx, (void)from, (void)to, (void)proto, (void)src_port;
	(void)dst_port, (void)data, (void)len;
	return 0;
}

static bool restarted_complete(struct tnet *tn)
{
	return node_complete(restarted, tn->hash);
}

/* A peer that restarts and connects again while we still hold the stream
 * it had (a killed router sends no reset: ours lingers until it times
 * out, minutes later) is served on its new stream; the old one gives way.
 * The restarting side has the higher hash: the side whose new stream the
 * simultaneous-open rule alone would drop. */
static void test_restarted_peer_reconnects(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_config cfg;
	struct stream_config sc;
	struct client_rx rx = { 0 };
	struct tnode *h, *r;
	char *dir;
	uint64_t t0;

	swarm_config_default(&cfg);
	cfg.dup_stale_ms = 1;
	tn_init(&tn, t);
	h = tn_node(&tn, &cfg);
	r = tn_node(&tn, &cfg);
	if (memcmp(client_dest_pub(h->d)->hash, client_dest_pub(r->d)->hash,
		   32) > 0) {
		struct tnode *x = h;
		h = r;
		r = x;
	}
	/* r seeds to h */
	tn_publish(&tn, r, 200000, 41, 14, &pub);
	T_OK(t, swarm_content_add(r->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_content_fetch(h->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(h->sw, tn.hash, client_dest_pub(r->d)));
	restarted = h;
	T_TRUE(t, tn_run(&tn, restarted_complete));
	T_TRUE(t, has_peer(h, tn.hash, r));
	t0 = time_mono_ms();
	while (time_mono_ms() < t0 + 2 * cfg.dup_stale_ms)
		;
	/* r dies without a word (its resets go nowhere) and comes back
	 * with the same destination and an empty store */
	r->cs.net.send = send_nothing;
	tn.cn.detach(tn.cn.ctx, r->d);
	swarm_free(r->sw);
	stream_mgr_free(r->mgr);
	content_store_free(r->st);
	r->cs.net = tn.cn;
	stream_config_default(&sc);
	r->mgr = stream_mgr_new(&sc, &r->sg, client_stream_sink(&r->cs),
				tn.el);
	rx.mgr = r->mgr;
	T_OK(t, tn.cn.attach(tn.cn.ctx, r->d, &rx));
	dir = fsutil_path_join(tn.dir, "restarted");
	T_OK(t, content_store_open(dir, &r->st));
	free(dir);
	r->sw = swarm_new(&cfg, client_dest_pub(r->d), r->mgr, r->st, tn.el);
	T_TRUE(t, has_peer(h, tn.hash, r));	/* h's stream is stale now */
	T_OK(t, swarm_content_fetch(r->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(r->sw, tn.hash, client_dest_pub(h->d)));
	restarted = r;
	T_TRUE(t, tn_run(&tn, restarted_complete));
	T_TRUE(t, has_peer(h, tn.hash, r));
	check_plaintext(&tn, r, &pub.key, 200000, 41);
	content_published_clear(&pub);
	tn_free(&tn);
}

/* Bytes the seeder's (n[0]) and the viewer's (n[1]) connection to each
 * other hold in buffers, theirs and their streams'. */
static size_t pair_buffers(struct tnet *tn)
{
	struct swarm_peer_stats ps[2];
	size_t sum = 0, n;

	for (unsigned i = 0; i < 2; i++) {
		n = swarm_peer_stats(tn->n[i].sw, tn->hash, ps, 2);
		for (size_t k = 0; k < n; k++)
			sum += ps[k].buffer_bytes + ps[k].stream.buffer_bytes;
	}
	return sum;
}

static bool pair_buffers_held(struct tnet *tn)
{
	return pair_buffers(tn) >= 64 * 1024;
}

static bool pair_buffers_given_back(struct tnet *tn)
{
	return all_complete(tn) && pair_buffers(tn) == 0;
}

/* A connection that moved a content and idles (both ends whole, kept
 * up by keepalives) gives its buffers back within a tick: a seeder keeps
 * one a viewer and item, and each held hundreds of KiB (the soak's
 * creator grew by 2 MiB a minute).  Their streams stay open. */
static void test_idle_buffers_given_back(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_peer_stats ps[2];
	struct tnode *seed, *leech;

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 43, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, NULL);
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, pair_buffers_held));
	T_TRUE(t, tn_run(&tn, pair_buffers_given_back));
	T_EQ(t, swarm_peer_stats(seed->sw, tn.hash, ps, 2), 1);
	T_TRUE(t, ps[0].has_stream);
	T_EQ(t, ps[0].stream.state, STREAM_OPEN);
	T_EQ(t, swarm_peer_stats(leech->sw, tn.hash, ps, 2), 1);
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 43);
	content_published_clear(&pub);
	tn_free(&tn);
}

static bool nobody_connected(struct tnet *tn)
{
	struct swarm_content_stats s;

	for (unsigned i = 0; i < tn->count; i++)
		if (swarm_content_stats(tn->n[i].sw, tn->hash, &s) != 0 ||
		    s.peers != 0)
			return false;
	return true;
}

/*
 * Streams the swarm refuses are given back, not kept: a destination
 * without a swarm opens SWARM_PENDING_MAX + 4 streams to the swarm's port
 * and 2 to another port, and says nothing.  The 6 past the limit or on
 * the wrong port get a RESET at once; the others are dropped for want of
 * a handshake (a short idle timeout here).  In the end every stream of
 * the opener was reset and the swarm's manager holds none (a refused
 * stream nobody released stayed in it for the life of the swarm).
 */
#define RF_QUIET (SWARM_PENDING_MAX + 4)
#define RF_STREAMS (RF_QUIET + 2)

static unsigned rf_resets;
static struct tnode *rf_swarm;

static void rf_event(void *ctx, struct stream *s, unsigned ev)
{
	(void)ctx;
	(void)s;
	if (ev & STREAM_EV_RESET)
		rf_resets++;
}

static bool rf_some_refused(struct tnet *tn)
{
	(void)tn;
	return rf_resets >= RF_STREAMS - SWARM_PENDING_MAX;
}

static bool rf_all_gone(struct tnet *tn)
{
	(void)tn;
	return rf_resets == RF_STREAMS && stream_mgr_count(rf_swarm->mgr) == 0;
}

static void test_refused_streams_freed(struct tctx *t)
{
	struct tnet tn;
	struct swarm_config cfg;
	struct tnode *quiet;
	struct stream *s[RF_STREAMS];

	swarm_config_default(&cfg);
	cfg.idle_timeout_ms = 3000;
	tn_init(&tn, t);
	rf_swarm = tn_node(&tn, &cfg);
	quiet = tn_dest(&tn);
	rf_resets = 0;
	for (unsigned i = 0; i < RF_STREAMS; i++)
		T_OK(t, stream_connect(quiet->mgr, client_dest_pub(rf_swarm->d),
				       SWARM_PORT, i < RF_QUIET ? SWARM_PORT : 80,
				       rf_event, NULL, &s[i]));
	T_TRUE(t, tn_run(&tn, rf_some_refused));
	/* Before the idle timeout: only the refused were reset. */
	T_EQ(t, rf_resets, RF_STREAMS - SWARM_PENDING_MAX);
	T_TRUE(t, stream_mgr_count(rf_swarm->mgr) >= SWARM_PENDING_MAX);
	T_TRUE(t, tn_run(&tn, rf_all_gone));
	T_EQ(t, stream_mgr_count(rf_swarm->mgr), 0);
	for (unsigned i = 0; i < RF_STREAMS; i++)
		stream_release(s[i]);
	tn_free(&tn);
}

/* Both ends whole, the connection ends once it was silent whole_idle_ms
 * both ways (neither will ever ask the other for a piece; kept, a seeder
 * held one a viewer and item); a new viewer still connects and fetches,
 * and its connection ends the same way. */
static void test_whole_pair_closes(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_config cfg;
	struct swarm_peer_stats ps[2];
	struct tnode *seed, *leech, *late;

	swarm_config_default(&cfg);
	cfg.whole_idle_ms = 1000;
	tn_init(&tn, t);
	seed = tn_node(&tn, &cfg);
	tn_publish(&tn, seed, CONTENT_BYTES, 44, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, &cfg);
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	T_EQ(t, swarm_peer_stats(seed->sw, tn.hash, ps, 2), 1);
	T_TRUE(t, tn_run(&tn, nobody_connected));
	late = tn_node(&tn, &cfg);
	T_OK(t, swarm_content_fetch(late->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(late->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	check_plaintext(&tn, late, &pub.key, CONTENT_BYTES, 44);
	T_TRUE(t, tn_run(&tn, nobody_connected));
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 44);
	content_published_clear(&pub);
	tn_free(&tn);
}

static unsigned sr_requests;	/* REQUEST frames the seeder received */

static void count_requests_in(void *ctx, const uint8_t dest_hash[32],
			      bool sent, const uint8_t *frame, size_t len)
{
	struct swarm_msg m;
	size_t used;

	(void)dest_hash;
	if (!sent && swarm_msg_decode(frame, len, &m, &used) == 0 &&
	    m.type == SWARM_REQUEST)
		++*(unsigned *)ctx;
}

static bool sr_asked(struct tnet *tn)
{
	(void)tn;
	return sr_requests > 0;
}

static bool sr_seed_alone(struct tnet *tn)
{
	struct swarm_content_stats s;

	return swarm_content_stats(tn->n[0].sw, tn->hash, &s) == 0 &&
	       s.peers == 0;
}

/* seed's chunk reads wait: its try off (chunks not in the page cache)
 * and the worker held; the REQUEST frames it gets counted in
 * sr_requests. */
static void seed_reads_held(struct tnet *tn, struct tnode *seed)
{
	content_store_set_read_try(seed->st, false);
	sr_requests = 0;
	swarm_set_trace(seed->sw, count_requests_in, &sr_requests);
	tn_gate_hold(tn, tn->wp, 1);
}

/*
 * With seed's reads held (seed_reads_held), a viewer asks seed for
 * chunks, gets none in 300 ms and goes with a read under way for it; the
 * worker stays held.
 */
static void viewer_gone_mid_read(struct tnet *tn, struct tnode *seed)
{
	struct tctx *t = tn->t;
	struct swarm_content_stats s;
	struct tnode *leech;

	seed_reads_held(tn, seed);
	leech = tn_node(tn, NULL);
	T_OK(t, swarm_content_fetch(leech->sw, tn->hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(leech->sw, tn->hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(tn, sr_asked));
	tn_run_ms(tn, 300);
	T_OK(t, swarm_content_stats(seed->sw, tn->hash, &s));
	T_EQ(t, s.bytes_up, 0);
	T_OK(t, swarm_content_stats(leech->sw, tn->hash, &s));
	T_EQ(t, s.have_count, 0);
	swarm_free(leech->sw);
	leech->sw = NULL;
	T_TRUE(t, tn_run(tn, sr_seed_alone));
}

/*
 * A seeder reads on the worker the chunks it serves that are not in the
 * page cache (the store's try turned off stands for that): with the
 * worker held, a viewer's requests reach the seeder and no piece comes
 * back in 300 ms (read on the loop, every one came at once).  The viewer
 * goes while a chunk is being read for it; once the worker runs again,
 * the read finds its peer gone (freed meanwhile: ASan), and a second
 * viewer fetches the content whole from the same seeder.  With the try
 * on (the chunks cached since the publish), a third viewer fetches it
 * whole while the worker is held: a cached chunk waits for no worker.
 */
static void test_serve_reads_on_worker(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_content_stats s;
	struct tnode *seed, *late;

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 45, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	viewer_gone_mid_read(&tn, seed);
	tn_run_ms(&tn, 100);		/* the reaper frees the peer */
	tn_gate_open(&tn);
	late = tn_node(&tn, NULL);
	T_OK(t, swarm_content_fetch(late->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(late->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	check_plaintext(&tn, late, &pub.key, CONTENT_BYTES, 45);
	T_OK(t, swarm_content_stats(seed->sw, tn.hash, &s));
	T_TRUE(t, s.bytes_up >= CONTENT_BYTES);
	/* Cached chunks with the worker held: read on the loop at once. */
	swarm_free(late->sw);
	late->sw = NULL;
	content_store_set_read_try(seed->st, true);
	tn_gate_hold(&tn, tn.wp, 1);
	late = tn_node(&tn, NULL);
	T_OK(t, swarm_content_fetch(late->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(late->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	tn_gate_open(&tn);
	content_published_clear(&pub);
	tn_free(&tn);
}

static bool ut_late_has_one(struct tnet *tn)
{
	struct swarm_content_stats s;

	return swarm_content_stats(tn->n[2].sw, tn->hash, &s) == 0 &&
	       s.have_count > 0;
}

/*
 * A viewer goes while a chunk is read for it: the upload tokens taken
 * for that read come back.  At 1,000 B/s a 16 KiB chunk takes 16 s to
 * earn again; kept, the next viewer would wait that long for its first.
 */
static void test_upload_dropped_read_returned(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_config cfg;
	struct swarm_content_stats s;
	struct tnode *seed, *late;
	uint64_t t0, ms;

	swarm_config_default(&cfg);
	cfg.upload_Bps = 1000;
	tn_init(&tn, t);
	seed = tn_node(&tn, &cfg);
	tn_publish(&tn, seed, 200000, 46, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	viewer_gone_mid_read(&tn, seed);
	tn_gate_open(&tn);
	tn_run_ms(&tn, 100);		/* the read ends, not sent */
	content_store_set_read_try(seed->st, true);
	late = tn_node(&tn, NULL);
	t0 = time_mono_ms();
	T_OK(t, swarm_content_fetch(late->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(late->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, ut_late_has_one));
	ms = time_mono_ms() - t0;
	T_TRUE(t, ms < 6000);
	T_OK(t, swarm_content_stats(seed->sw, tn.hash, &s));
	T_TRUE(t, s.bytes_up <= 2 * (16384 + CONTENT_TAG_BYTES));
	content_published_clear(&pub);
	tn_free(&tn);
}

static bool ut_three_asked(struct tnet *tn)
{
	(void)tn;
	return sr_requests >= 3;
}

/*
 * Reads under way for several viewers cannot overdraw the upload budget:
 * a chunk's tokens are taken when its read begins.  At 1,000 B/s the
 * first read (16 KiB) empties the bucket for 16 s, so with three viewers
 * asking while the worker is held, one chunk is read and sent, no more.
 * Charged at send, every viewer's four reads would begin while the
 * bucket still showed its first 101 bytes, and all twelve be sent when
 * the worker ran.
 */
static void test_upload_charged_at_read(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_config cfg;
	struct swarm_content_stats s;
	struct tnode *seed, *v;

	swarm_config_default(&cfg);
	cfg.upload_Bps = 1000;
	tn_init(&tn, t);
	seed = tn_node(&tn, &cfg);
	tn_publish(&tn, seed, 400000, 47, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	seed_reads_held(&tn, seed);
	for (int i = 0; i < 3; i++) {
		v = tn_node(&tn, NULL);
		T_OK(t, swarm_content_fetch(v->sw, tn.hash, SWARM_PICK_RAREST));
		T_OK(t, swarm_peer_add(v->sw, tn.hash, client_dest_pub(seed->d)));
	}
	T_TRUE(t, tn_run(&tn, ut_three_asked));
	tn_run_ms(&tn, 300);
	T_OK(t, swarm_content_stats(seed->sw, tn.hash, &s));
	T_EQ(t, s.bytes_up, 0);
	tn_gate_open(&tn);
	tn_run_ms(&tn, 1000);
	T_OK(t, swarm_content_stats(seed->sw, tn.hash, &s));
	T_TRUE(t, s.bytes_up > 0);
	T_TRUE(t, s.bytes_up <= 16384 + CONTENT_TAG_BYTES);	/* one chunk */
	content_published_clear(&pub);
	tn_free(&tn);
}

/* The viewer's requests to the seeder and the pieces it got, in order. */
static uint32_t io_asked[256], io_got[256];
static unsigned io_nasked, io_ngot;

static void trace_order(void *ctx, const uint8_t dest_hash[32], bool sent,
			const uint8_t *frame, size_t len)
{
	struct swarm_msg m;
	size_t used;

	(void)ctx;
	(void)dest_hash;
	if (swarm_msg_decode(frame, len, &m, &used) != 0)
		return;
	if (sent && m.type == SWARM_REQUEST)
		for (uint32_t k = 0; k < m.u.range.count && io_nasked < 256; k++)
			io_asked[io_nasked++] = m.u.range.index + k;
	else if (!sent && m.type == SWARM_PIECE && io_ngot < 256)
		io_got[io_ngot++] = m.u.piece.index;
}

/*
 * Pieces come in the order they were asked for, though the seeder reads
 * up to SWARM_SERVE_READS chunks for the viewer at once on a pool of two
 * threads, which may finish them in another order.
 */
static void test_pieces_in_order_asked(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *seed, *leech;
	struct worker_pool *wp2;

	tn_init(&tn, t);
	wp2 = worker_pool_new(tn.el, 2);
	seed = tn_node(&tn, NULL);
	swarm_set_workers(seed->sw, wp2);
	content_store_set_read_try(seed->st, false);	/* all on the pool */
	tn_publish(&tn, seed, CONTENT_BYTES, 46, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, NULL);
	io_nasked = io_ngot = 0;
	swarm_set_trace(leech->sw, trace_order, NULL);
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	T_EQ(t, io_nasked, 193);
	T_EQ(t, io_ngot, 193);
	if (io_nasked == 193 && io_ngot == 193)
		T_MEMEQ(t, io_got, io_asked, sizeof(io_asked[0]) * 193);
	check_plaintext(&tn, leech, &pub.key, CONTENT_BYTES, 46);
	content_published_clear(&pub);
	swarm_free(seed->sw);		/* before its pool */
	seed->sw = NULL;
	worker_pool_free(wp2);
	tn_free(&tn);
}

/* ---- a peer that answers for another content ---- */

struct wrong_peer {
	struct stream *s;
	uint8_t in[256];
	size_t in_len;
	bool answered, ended;
};

static void wrong_event(void *ctx, struct stream *s, unsigned ev)
{
	struct wrong_peer *w = ctx;
	struct swarm_msg m, hs = { .type = SWARM_HANDSHAKE };
	struct bbuf b = BBUF_INIT;
	size_t used;

	if (ev & STREAM_EV_READABLE)
		w->in_len += stream_read(s, w->in + w->in_len,
					 sizeof(w->in) - w->in_len);
	if (!w->answered &&
	    swarm_msg_decode(w->in, w->in_len, &m, &used) == 0 &&
	    m.type == SWARM_HANDSHAKE) {
		hs.u.hs = m.u.hs;
		hs.u.hs.content_hash[0] ^= 1;	/* not what it asked for */
		if (swarm_msg_encode(&hs, &b) == 0)
			(void)stream_write(s, b.data, b.len);
		bbuf_free(&b);
		w->answered = true;
	}
	if (ev & (STREAM_EV_EOF | STREAM_EV_RESET | STREAM_EV_CLOSED |
		  STREAM_EV_FAILED)) {
		w->ended = true;
		stream_release(s);
		w->s = NULL;
	}
}

static void wrong_accept(void *ctx, struct stream *s)
{
	struct wrong_peer *w = ctx;

	w->s = s;
	stream_set_handler(s, wrong_event, w);
}

static struct wrong_peer *wrong_g;

static bool wrong_ended(struct tnet *tn)
{
	(void)tn;
	return wrong_g->ended;
}

struct pay_count {
	unsigned open, close;
};

static void pc_open(void *ctx, const uint8_t hash[32], const uint8_t peer[32],
		    struct bbuf *out)
{
	(void)hash;
	(void)peer;
	(void)out;
	((struct pay_count *)ctx)->open++;
}

static void pc_close(void *ctx, const uint8_t hash[32],
		     const uint8_t peer[32])
{
	(void)hash;
	(void)peer;
	((struct pay_count *)ctx)->close++;
}

/* A peer we connected to that answers with a handshake for another
 * content is dropped, and the payment hook hears neither an open nor a
 * close for it: it heard a close with no open before (fuzz_swarm_peer). */
static void test_wrong_content_no_pay_close(struct tctx *t)
{
	struct tnet tn;
	struct tnode *viewer, *peer;
	struct wrong_peer *w = xcalloc(1, sizeof(*w));
	struct pay_count pc = { 0, 0 };
	struct swarm_pay_hooks h = { .open = pc_open, .close = pc_close,
				     .ctx = &pc };
	struct swarm_content_stats s;

	tn_init(&tn, t);
	viewer = tn_node(&tn, NULL);
	swarm_set_pay(viewer->sw, &h);
	peer = tn_dest(&tn);
	stream_mgr_set_acceptor(peer->mgr, wrong_accept, w);
	wrong_g = w;
	memset(tn.hash, 0x42, 32);
	T_OK(t, swarm_content_fetch(viewer->sw, tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_peer_add(viewer->sw, tn.hash, client_dest_pub(peer->d)));
	T_TRUE(t, tn_run(&tn, wrong_ended));
	T_TRUE(t, w->answered);
	T_OK(t, swarm_content_stats(viewer->sw, tn.hash, &s));
	T_EQ(t, s.peers, 0);
	T_EQ(t, pc.open, 0);
	T_EQ(t, pc.close, 0);
	tn_free(&tn);
	free(w);
}

/* ---- the port a stream is opened to ---- */

struct port_probe {
	uint8_t in[512];
	size_t in_len;
	bool answered, ended;
};

static void probe_event(void *ctx, struct stream *s, unsigned ev)
{
	struct port_probe *pr = ctx;
	struct swarm_msg m;
	size_t used;

	if (ev & STREAM_EV_READABLE) {
		pr->in_len += stream_read(s, pr->in + pr->in_len,
					  sizeof(pr->in) - pr->in_len);
		if (swarm_msg_decode(pr->in, pr->in_len, &m, &used) == 0 &&
		    m.type == SWARM_HANDSHAKE)
			pr->answered = true;
	}
	if (ev & (STREAM_EV_EOF | STREAM_EV_RESET | STREAM_EV_CLOSED |
		  STREAM_EV_FAILED)) {
		pr->ended = true;
		stream_release(s);
	}
}

static struct port_probe *probes_g;

static bool probes_done(struct tnet *tn)
{
	(void)tn;
	return (probes_g[0].answered || probes_g[0].ended) &&
	       (probes_g[1].answered || probes_g[1].ended);
}

/* The swarm takes the streams opened to SWARM_PORT, whatever port they
 * come from, and refuses the others: it checked the port they came from
 * (stream_info's dst_port), so it took a stream to another port from
 * 6881 and refused one to 6881 from another (fuzz_swarm_peer). */
static void test_swarm_port(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *seed, *cl;
	struct port_probe *pr = xcalloc(2, sizeof(*pr));
	struct swarm_msg hs = { .type = SWARM_HANDSHAKE };
	struct bbuf b = BBUF_INIT;
	struct stream *s;
	/* (from, to): to another port, and from another port */
	static const uint16_t ports[2][2] = {
		{ SWARM_PORT, SWARM_PORT + 1 }, { 1234, SWARM_PORT }
	};

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, 100000, 5, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	cl = tn_dest(&tn);
	hs.u.hs.version = SWARM_PROTO_VERSION;
	memcpy(hs.u.hs.content_hash, tn.hash, 32);
	T_OK(t, swarm_msg_encode(&hs, &b));
	for (int i = 0; i < 2; i++) {
		T_OK(t, stream_connect(cl->mgr, client_dest_pub(seed->d),
				       ports[i][0], ports[i][1], probe_event,
				       &pr[i], &s));
		T_EQ(t, stream_write(s, b.data, b.len), b.len);
	}
	probes_g = pr;
	T_TRUE(t, tn_run(&tn, probes_done));
	T_TRUE(t, pr[0].ended);
	T_FALSE(t, pr[0].answered);
	T_TRUE(t, pr[1].answered);
	bbuf_free(&b);
	content_published_clear(&pub);
	tn_free(&tn);
	free(pr);
}

const struct test_case swarm_engine_tests[] = {
	{ "one_seeder_three_leechers", test_one_seeder_three_leechers, TT_FORK },
	{ "lying_seeders_banned", test_lying_seeders_banned, TT_FORK },
	{ "rarest_first", test_rarest_first, TT_FORK },
	{ "seeder_leaves", test_seeder_leaves, TT_FORK },
	{ "no_have_to_seeders", test_no_have_to_seeders, TT_FORK },
	{ "request_timeout", test_request_timeout, TT_FORK },
	{ "output_cap", test_output_cap, TT_FORK },
	{ "streaming_in_order", test_streaming_in_order, TT_FORK },
	{ "streaming_seek", test_streaming_seek, TT_FORK },
	{ "unknown_content", test_unknown_content, TT_FORK },
	{ "hints_and_pex", test_hints_and_pex, TT_FORK },
	{ "tracker", test_tracker, TT_FORK },
	{ "tracker_viewer", test_tracker_viewer, TT_FORK },
	{ "flush_on_worker", test_flush_on_worker, TT_FORK },
	{ "tracker_announce_in_tick", test_tracker_announce_in_tick, TT_FORK },
	{ "restarted_peer_reconnects", test_restarted_peer_reconnects,
	  TT_FORK },
	{ "upload_budget", test_upload_budget, TT_FORK },
	{ "idle_buffers_given_back", test_idle_buffers_given_back, TT_FORK },
	{ "whole_pair_closes", test_whole_pair_closes, TT_FORK },
	{ "refused_streams_freed", test_refused_streams_freed, TT_FORK },
	{ "announces_few_at_a_time", test_announces_few_at_a_time, TT_FORK },
	{ "failed_announce_retried", test_failed_announce_retried, TT_FORK },
	{ "play_reading_on", test_play_reading_on, TT_FORK },
	{ "serve_reads_on_worker", test_serve_reads_on_worker, TT_FORK },
	{ "pieces_in_order_asked", test_pieces_in_order_asked, TT_FORK },
	{ "upload_dropped_read_returned", test_upload_dropped_read_returned,
	  TT_FORK },
	{ "upload_charged_at_read", test_upload_charged_at_read, TT_FORK },
	{ "wrong_content_no_pay_close", test_wrong_content_no_pay_close,
	  TT_FORK },
	{ "swarm_port", test_swarm_port, TT_FORK },
	{ NULL, NULL, 0 }
};
