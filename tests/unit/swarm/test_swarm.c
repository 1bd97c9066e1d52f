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
#include "tests/unit/content/tcontent.h"
#include "tests/unit/tharness.h"

#define TN_NODES_MAX 6
#define TN_LOG_MAX 8192
#define TN_TIMEOUT_MS 180000		/* generous: ASan builds on a busy box */

struct tnet;

struct tnode {
	struct tnet *tn;
	struct client_dest *d;
	struct stream_signer sg;
	struct client_stream_sink cs;
	struct stream_mgr *mgr;
	struct content_store *st;
	struct swarm *sw;
	/* Chunks in the order they were stored. */
	uint32_t log[TN_LOG_MAX];
	unsigned nlog;
	/* Seek to seek_to once seek_after chunks are in (0: never). */
	unsigned seek_after;
	uint32_t seek_to;
	unsigned seek_at;		/* nlog when the seek happened */
};

struct tnet {
	struct tctx *t;
	char *dir;
	struct evloop *el;
	struct localnet *ln;
	struct client_net cn;
	struct tnode n[TN_NODES_MAX];
	unsigned count;
	uint8_t hash[32];
	struct evloop_timer *poll;
	bool (*cond)(struct tnet *tn);
	uint64_t deadline;
	bool met;
};

static void tn_chunk(void *ctx, const uint8_t hash[32], uint32_t idx)
{
	struct tnode *nd = ctx;

	if (nd->nlog < TN_LOG_MAX)
		nd->log[nd->nlog++] = idx;
	if (nd->seek_after && nd->nlog == nd->seek_after) {
		nd->seek_at = nd->nlog;
		(void)swarm_seek(nd->sw, hash, nd->seek_to);
	}
}

static void tn_init(struct tnet *tn, struct tctx *t)
{
	memset(tn, 0, sizeof(*tn));
	tn->t = t;
	tn->dir = t_tmpdir(t);
	tn->el = evloop_new();
	tn->ln = localnet_new(tn->el);
	tn->cn = localnet_client_net(tn->ln);
}

/* A destination with its stream manager and store (no swarm yet). */
static struct tnode *tn_dest(struct tnet *tn)
{
	struct tnode *nd = &tn->n[tn->count];
	struct stream_config sc;
	struct client_rx rx = { 0 };
	char name[16];
	char *dir;

	snprintf(name, sizeof(name), "node%u", tn->count++);
	nd->tn = tn;
	nd->d = client_dest_new_random();
	client_dest_signer(nd->d, &nd->sg);
	stream_config_default(&sc);
	nd->cs.net = tn->cn;
	nd->cs.from = nd->d;
	nd->mgr = stream_mgr_new(&sc, &nd->sg, client_stream_sink(&nd->cs),
				 tn->el);
	rx.mgr = nd->mgr;
	T_OK(tn->t, tn->cn.attach(tn->cn.ctx, nd->d, &rx));
	dir = fsutil_path_join(tn->dir, name);
	T_OK(tn->t, content_store_open(dir, &nd->st));
	free(dir);
	return nd;
}

static struct tnode *tn_node(struct tnet *tn, const struct swarm_config *c)
{
	struct swarm_config def;
	struct tnode *nd = tn_dest(tn);

	if (!c) {
		swarm_config_default(&def);
		c = &def;
	}
	nd->sw = swarm_new(c, client_dest_pub(nd->d), nd->mgr, nd->st,
			   tn->el);
	swarm_set_chunk_cb(nd->sw, tn_chunk, nd);
	return nd;
}

static void tn_free(struct tnet *tn)
{
	for (unsigned i = 0; i < tn->count; i++) {
		struct tnode *nd = &tn->n[i];
		swarm_free(nd->sw);
		tn->cn.detach(tn->cn.ctx, nd->d);
		stream_mgr_free(nd->mgr);
		content_store_free(nd->st);
		client_dest_free(nd->d);
	}
	localnet_free(tn->ln);
	evloop_free(tn->el);
	free(tn->dir);
}

static void tn_poll(void *arg)
{
	struct tnet *tn = arg;

	if (tn->cond(tn) || time_mono_ms() >= tn->deadline) {
		tn->met = tn->cond(tn);
		evloop_break(tn->el);
		return;
	}
	evloop_timer_arm(tn->poll, 10);
}

/* Run the loop until cond holds (true) or TN_TIMEOUT_MS pass (false). */
static bool tn_run(struct tnet *tn, bool (*cond)(struct tnet *tn))
{
	tn->cond = cond;
	tn->met = false;
	tn->deadline = time_mono_ms() + TN_TIMEOUT_MS;
	tn->poll = evloop_timer_new(tn->el, tn_poll, tn);
	evloop_timer_arm(tn->poll, 0);
	evloop_run(tn->el);
	evloop_timer_free(tn->poll);
	tn->poll = NULL;
	return tn->met;
}

static bool node_complete(struct tnode *nd, const uint8_t hash[32])
{
	struct swarm_content_stats s;

	return swarm_content_stats(nd->sw, hash, &s) == 0 &&
	       s.chunk_count > 0 && s.have_count == s.chunk_count;
}

/* Every node from index 1 on has the whole content. */
static bool all_complete(struct tnet *tn)
{
	for (unsigned i = 1; i < tn->count; i++)
		if (tn->n[i].sw && !node_complete(&tn->n[i], tn->hash))
			return false;
	return true;
}

/* Publish n bytes of stream seed (16 KiB chunks) into nd's store. */
static void tn_publish(struct tnet *tn, struct tnode *nd, uint64_t n,
		       uint32_t seed, struct content_published *out)
{
	struct content_publish_opts o = { .mime = "video/mp4",
					  .chunk_log2 = 14 };
	int fd = tc_source(tn->t, tn->dir, n, seed);

	T_TRUE(tn->t, fd >= 0);
	T_OK(tn->t, content_store_publish(nd->st, fd, &o, true, out));
	close(fd);
	memcpy(tn->hash, out->content_hash, 32);
}

/* nd's copy decrypts with k to exactly n bytes of stream seed. */
static void check_plaintext(struct tnet *tn, struct tnode *nd,
			    const struct content_key *k, uint64_t n,
			    uint32_t seed)
{
	char *dir = content_store_dir(nd->st, tn->hash);
	char *out = fsutil_path_join(tn->dir, "plain");
	struct content_dir *cd = NULL;
	struct content_fault f;
	uint8_t *got = NULL, *want = xmalloc(n);
	size_t len = 0;
	int fd;

	T_OK(tn->t, content_dir_open(dir, &cd, &f));
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_TRUE(tn->t, fd >= 0);
	if (cd && fd >= 0)
		T_OK(tn->t, content_dir_cat(cd, k, 0, UINT64_MAX, fd, &f));
	if (fd >= 0)
		close(fd);
	T_OK(tn->t, fsutil_read_file(out, n + 1, &got, &len));
	tc_fill(want, n, 0, seed);
	T_EQ(tn->t, len, n);
	if (got && len == n)
		T_MEMEQ(tn->t, got, want, n);
	unlink(out);
	content_dir_free(cd);
	free(got);
	free(want);
	free(out);
	free(dir);
}

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
	tn_publish(&tn, seed, CONTENT_BYTES, 7, &pub);
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

enum liar_kind { LIAR_CHUNK, LIAR_PROOF };

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
			hs.u.hs = m.u.hs;
			hs.u.hs.flags = 0;		/* no metadata */
			bf.u.bitfield.count = 193;
			bf.u.bitfield.bits = bits;
			liar_send(l, &hs);
			liar_send(l, &bf);
			hs = (struct swarm_msg){ .type = SWARM_UNCHOKE };
			liar_send(l, &hs);
			l->handshaken = true;
		} else if (m.type == SWARM_REQUEST) {
			l->requests++;
			for (uint32_t k = 0; k < m.u.range.count; k++)
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
	tn_publish(&tn, seed, CONTENT_BYTES, 9, &pub);
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

/* Streaming mode from one seeder: chunks become available in order. */
static void test_streaming_in_order(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct tnode *seed, *leech;

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, CONTENT_BYTES, 11, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	leech = tn_node(&tn, NULL);
	T_OK(t, swarm_content_fetch(leech->sw, tn.hash, SWARM_PICK_STREAMING));
	T_OK(t, swarm_peer_add(leech->sw, tn.hash, client_dest_pub(seed->d)));
	T_TRUE(t, tn_run(&tn, all_complete));
	T_EQ(t, leech->nlog, 193);
	for (unsigned i = 0; i < leech->nlog; i++)
		if (leech->log[i] != i) {
			T_EQ(t, leech->log[i], i);
			break;
		}
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
	tn_publish(&tn, seed, CONTENT_BYTES, 13, &pub);
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
	tn_publish(&tn, a, 100000, 3, &pub);
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

const struct test_case swarm_engine_tests[] = {
	{ "one_seeder_three_leechers", test_one_seeder_three_leechers, TT_FORK },
	{ "lying_seeders_banned", test_lying_seeders_banned, TT_FORK },
	{ "streaming_in_order", test_streaming_in_order, TT_FORK },
	{ "streaming_seek", test_streaming_seek, TT_FORK },
	{ "unknown_content", test_unknown_content, TT_FORK },
	{ NULL, NULL, 0 }
};
