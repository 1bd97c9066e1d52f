/*
 * router/ratchet*: Alice and Bob in one process through NS -> NSR -> ES
 * both ways, many messages across DH ratchet steps in both directions,
 * out-of-order delivery, replays, unknown tags and tampering; the NS and
 * the tag-set KDFs re-derived here straight from the ecies spec text
 * (SHA-256, HKDF and ChaChaPoly only, none of router/ratchet*.c); and the
 * block ordering rules.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/chacha.h"
#include "crypto/elligator2.h"
#include "crypto/hash.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "router/garlic_router.h"
#include "router/i2np.h"
#include "router/ratchet.h"
#include "router/ratchet_block.h"
#include "router/ratchet_tagset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000000ull

struct pair {
	struct x25519_sk ask, bsk;
	struct x25519_pk apk, bpk;
	struct ratchet_ctx *a, *b;
};

static void pair_init(struct pair *p)
{
	x25519_keygen(&p->ask, &p->apk);
	x25519_keygen(&p->bsk, &p->bpk);
	p->a = ratchet_ctx_new(&p->ask);
	p->b = ratchet_ctx_new(&p->bsk);
}

static void pair_free(struct pair *p)
{
	ratchet_ctx_free(p->a);
	ratchet_ctx_free(p->b);
}

/* One LOCAL Data clove holding "msg <i>". */
static void clove(struct bbuf *b, unsigned i)
{
	char txt[32];
	int n = snprintf(txt, sizeof(txt), "msg %u", i);
	struct i2np_msg *m = i2np_msg_new(20, txt, (size_t)n, NOW + 60000);

	bbuf_reset(b);
	(void)garlic_block_clove(b, m, GARLIC_DELIVERY_LOCAL, NULL, 0);
	i2np_msg_free(m);
}

static bool has_clove(const struct ratchet_payload *pl, unsigned i)
{
	char txt[32];
	int n = snprintf(txt, sizeof(txt), "msg %u", i);

	return pl->g.n_cloves == 1 && pl->g.cloves[0].len == (size_t)n &&
	       memcmp(pl->g.cloves[0].body, txt, (size_t)n) == 0;
}

/* from encrypts message i to to_pk; to decrypts it.  Returns the error. */
static int send1(struct ratchet_ctx *from, const struct x25519_pk *to_pk,
		 struct ratchet_ctx *to, unsigned i, unsigned flags,
		 struct ratchet_rx_info *info, struct tctx *t)
{
	struct bbuf blk = BBUF_INIT, wire = BBUF_INIT, plain = BBUF_INIT;
	struct ratchet_payload pl;
	int r;

	clove(&blk, i);
	r = ratchet_encrypt(from, to_pk, blk.data, blk.len, flags, NOW, &wire);
	if (r == 0)
		r = ratchet_decrypt(to, wire.data, wire.len, NOW, &plain, &pl,
				    info);
	if (r == 0)
		T_TRUE(t, has_clove(&pl, i));
	bbuf_free(&blk);
	bbuf_free(&wire);
	bbuf_free(&plain);
	return r;
}

static void test_handshake(struct tctx *t)
{
	struct pair p;
	struct ratchet_rx_info in;

	pair_init(&p);
	T_OK(t, send1(p.a, &p.bpk, p.b, 1, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_NS);
	T_TRUE(t, in.bound);
	T_MEMEQ(t, in.remote.b, p.apk.b, 32);
	/* Alice has not heard back: a second message is another NS */
	T_OK(t, send1(p.a, &p.bpk, p.b, 2, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_NS);
	T_OK(t, send1(p.b, &p.apk, p.a, 3, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_NSR);
	T_MEMEQ(t, in.remote.b, p.bpk.b, 32);
	T_OK(t, send1(p.a, &p.bpk, p.b, 4, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_ES);
	T_MEMEQ(t, in.remote.b, p.apk.b, 32);
	T_OK(t, send1(p.b, &p.apk, p.a, 5, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_ES);
	T_EQ(t, in.tagset_id, 0);
	T_OK(t, send1(p.a, &p.bpk, p.b, 6, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_ES);
	T_EQ(t, ratchet_ctx_stats(p.b)->ns_in, 2);
	T_EQ(t, ratchet_ctx_stats(p.a)->nsr_in, 1);
	pair_free(&p);
}

/* Bob restarts with the same static key: Alice's ES are unreadable to
 * him; renewed, her next message is an NS he opens, and the new session
 * is established.  The old session still receives. */
static void test_renew(struct tctx *t)
{
	struct pair p;
	struct ratchet_rx_info in;
	struct ratchet_ctx *b2;

	pair_init(&p);
	T_FALSE(t, ratchet_ctx_renew(p.a, &p.bpk));	/* no session */
	T_OK(t, send1(p.a, &p.bpk, p.b, 1, 0, &in, t));
	T_FALSE(t, ratchet_ctx_renew(p.a, &p.bpk));	/* NS sent only */
	T_OK(t, send1(p.b, &p.apk, p.a, 2, 0, &in, t));
	T_OK(t, send1(p.a, &p.bpk, p.b, 3, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_ES);
	b2 = ratchet_ctx_new(&p.bsk);			/* Bob restarted */
	T_ERR(t, send1(p.a, &p.bpk, b2, 4, 0, &in, t), ERR_NOT_FOUND);
	T_TRUE(t, ratchet_ctx_renew(p.a, &p.bpk));
	T_FALSE(t, ratchet_ctx_renew(p.a, &p.bpk));
	T_OK(t, send1(p.a, &p.bpk, b2, 5, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_NS);
	T_MEMEQ(t, in.remote.b, p.apk.b, 32);
	T_OK(t, send1(b2, &p.apk, p.a, 6, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_NSR);
	T_OK(t, send1(p.a, &p.bpk, b2, 7, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_ES);
	/* the old Bob's ES on the retired session still open */
	T_OK(t, send1(p.b, &p.apk, p.a, 8, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_ES);
	ratchet_ctx_free(b2);
	pair_free(&p);
}

/* Bob answers with several NSRs before Alice's ES reaches him (i2pd's
 * repeated NSRs share his ephemeral key); Alice takes every one. */
static void test_repeated_nsr(struct tctx *t)
{
	struct pair p;
	struct ratchet_rx_info in;

	pair_init(&p);
	T_OK(t, send1(p.a, &p.bpk, p.b, 1, 0, &in, t));
	for (unsigned i = 0; i < 3; i++) {
		T_OK(t, send1(p.b, &p.apk, p.a, 10 + i, 0, &in, t));
		T_EQ(t, in.kind, RATCHET_KIND_NSR);
	}
	T_OK(t, send1(p.a, &p.bpk, p.b, 20, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_ES);
	T_OK(t, send1(p.b, &p.apk, p.a, 21, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_ES);
	pair_free(&p);
}

static void establish(struct tctx *t, struct pair *p)
{
	struct ratchet_rx_info in;

	T_OK(t, send1(p->a, &p->bpk, p->b, 0, 0, &in, t));
	T_OK(t, send1(p->b, &p->apk, p->a, 0, 0, &in, t));
	T_OK(t, send1(p->a, &p->bpk, p->b, 0, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_ES);
}

/* 600 messages each way with a DH ratchet every 7 messages sent. */
static void test_dh_ratchet(struct tctx *t)
{
	struct pair p;
	struct ratchet_rx_info in;
	const struct ratchet_params prm = { .ratchet_after = 7,
					    .lookahead = 8 };
	int fails = 0;

	pair_init(&p);
	ratchet_ctx_set_params(p.a, &prm);
	ratchet_ctx_set_params(p.b, &prm);
	establish(t, &p);
	for (unsigned i = 0; i < 600; i++) {
		/* Alice sends more than Bob so the two directions ratchet
		 * at different times */
		if (send1(p.a, &p.bpk, p.b, i, 0, &in, t) != 0)
			fails++;
		if (i % 3 != 2 && send1(p.b, &p.apk, p.a, i, 0, &in, t) != 0)
			fails++;
	}
	T_EQ(t, fails, 0);
	T_TRUE(t, ratchet_ctx_tx_tagset_id(p.a, &p.bpk) >= 20);
	T_TRUE(t, ratchet_ctx_tx_tagset_id(p.b, &p.apk) >= 15);
	T_TRUE(t, ratchet_ctx_stats(p.a)->ratchets_out >= 20);
	T_TRUE(t, ratchet_ctx_stats(p.b)->ratchets_in >= 20);
	T_EQ(t, ratchet_ctx_stats(p.a)->bad_nextkey, 0);
	T_EQ(t, ratchet_ctx_stats(p.b)->bad_nextkey, 0);
	/* the windows stay bounded */
	T_TRUE(t, ratchet_ctx_tag_count(p.b) < 200);
	pair_free(&p);
}

/* What Bob owes Alice with nothing of his own to send (ecies spec
 * "Protocol-layer responses"): an NSR to her NS, his reverse Next Key to
 * her forward one, again when she repeats it because his was lost, and
 * nothing once it went. */
static void test_owed_responses(struct tctx *t)
{
	struct pair p;
	struct ratchet_rx_info in;
	const struct ratchet_params prm = { .ratchet_after = 4,
					    .lookahead = 8 };
	struct bbuf wire = BBUF_INIT, blk = BBUF_INIT;
	unsigned i = 0;

	pair_init(&p);
	ratchet_ctx_set_params(p.a, &prm);
	T_FALSE(t, ratchet_ctx_ack_pending(p.b, &p.apk));
	T_OK(t, send1(p.a, &p.bpk, p.b, i++, 0, &in, t));
	T_TRUE(t, ratchet_ctx_ack_pending(p.b, &p.apk));	/* an NSR */
	T_OK(t, send1(p.b, &p.apk, p.a, i++, 0, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_NSR);
	T_FALSE(t, ratchet_ctx_ack_pending(p.b, &p.apk));
	/* Alice's ES up to her DH ratchet ask for nothing */
	while (ratchet_ctx_stats(p.b)->ratchets_in == 0 && i < 20) {
		T_FALSE(t, ratchet_ctx_ack_pending(p.b, &p.apk));
		T_OK(t, send1(p.a, &p.bpk, p.b, i++, 0, &in, t));
	}
	T_EQ(t, ratchet_ctx_stats(p.b)->ratchets_in, 1);
	T_TRUE(t, ratchet_ctx_ack_pending(p.b, &p.apk));	/* reverse key */
	/* an empty ES carries it, and is lost */
	T_OK(t, ratchet_encrypt(p.b, &p.apk, blk.data, 0, 0, NOW, &wire));
	T_FALSE(t, ratchet_ctx_ack_pending(p.b, &p.apk));
	/* Alice repeats her Next Key: owed again */
	T_OK(t, send1(p.a, &p.bpk, p.b, i++, 0, &in, t));
	T_TRUE(t, ratchet_ctx_ack_pending(p.b, &p.apk));
	bbuf_reset(&wire);
	T_OK(t, ratchet_encrypt(p.b, &p.apk, blk.data, 0, 0, NOW, &wire));
	T_FALSE(t, ratchet_ctx_ack_pending(p.b, &p.apk));
	{
		struct bbuf plain = BBUF_INIT;
		struct ratchet_payload pl;

		T_OK(t, ratchet_decrypt(p.a, wire.data, wire.len, NOW, &plain,
					&pl, &in));
		T_EQ(t, in.kind, RATCHET_KIND_ES);
		T_EQ(t, pl.g.n_cloves, 0);
		bbuf_free(&plain);
	}
	T_EQ(t, ratchet_ctx_stats(p.a)->ratchets_out, 1);
	/* Alice on her new tag set: nothing owed */
	T_OK(t, send1(p.a, &p.bpk, p.b, i++, 0, &in, t));
	T_EQ(t, in.tagset_id, 1);
	T_FALSE(t, ratchet_ctx_ack_pending(p.b, &p.apk));
	bbuf_free(&wire);
	bbuf_free(&blk);
	pair_free(&p);
}

/* from encrypts message i to to_pk at time now into wire (kept for later
 * delivery). */
static void enc_at(struct tctx *t, struct ratchet_ctx *from,
		   const struct x25519_pk *to_pk, unsigned i, uint64_t now,
		   struct bbuf *wire)
{
	struct bbuf blk = BBUF_INIT;

	clove(&blk, i);
	bbuf_reset(wire);
	T_OK(t, ratchet_encrypt(from, to_pk, blk.data, blk.len, 0, now, wire));
	bbuf_free(&blk);
}

/* to decrypts wire at time now, which must hold message i; returns its
 * kind (-1 when it did not open). */
static int dec_at(struct tctx *t, struct ratchet_ctx *to,
		  const struct bbuf *wire, unsigned i, uint64_t now)
{
	struct bbuf plain = BBUF_INIT;
	struct ratchet_payload pl;
	struct ratchet_rx_info in;
	int r;

	memset(&in, 0, sizeof(in));
	r = ratchet_decrypt(to, wire->data, wire->len, now, &plain, &pl, &in);
	T_OK(t, r);
	if (r == 0)
		T_TRUE(t, has_clove(&pl, i));
	bbuf_free(&plain);
	return r == 0 ? (int)in.kind : -1;
}

static void enc1(struct tctx *t, struct ratchet_ctx *from,
		 const struct x25519_pk *to_pk, unsigned i, struct bbuf *wire)
{
	enc_at(t, from, to_pk, i, NOW, wire);
}

static int dec1(struct tctx *t, struct ratchet_ctx *to,
		const struct bbuf *wire, unsigned i)
{
	return dec_at(t, to, wire, i, NOW);
}

/* Both send a message at once, then both receive (messages cross on the
 * way); the kinds each received go to *ka (at Alice) and *kb. */
static void cross_at(struct tctx *t, struct pair *p, unsigned i,
		     uint64_t now, int *ka, int *kb)
{
	struct bbuf wa = BBUF_INIT, wb = BBUF_INIT;

	enc_at(t, p->a, &p->bpk, 2 * i, now, &wa);
	enc_at(t, p->b, &p->apk, 2 * i + 1, now, &wb);
	*kb = dec_at(t, p->b, &wa, 2 * i, now);
	*ka = dec_at(t, p->a, &wb, 2 * i + 1, now);
	bbuf_free(&wa);
	bbuf_free(&wb);
}

static void cross(struct tctx *t, struct pair *p, unsigned i, int *ka,
		  int *kb)
{
	cross_at(t, p, i, NOW, ka, kb);
}

/* Traffic both ways in crossing pairs goes on across DH ratchets in both
 * directions: each side's outbound tag set got its peer's Next Key
 * answers, which only happens when the session each sends on is the one
 * the other receives on and answers from (crosswise sessions never
 * ratchet: the answer goes out on the other pair). */
static void check_ratchets_both_ways_at(struct tctx *t, struct pair *p,
					unsigned first, unsigned rounds,
					uint64_t now)
{
	const struct ratchet_stats *sa = ratchet_ctx_stats(p->a);
	const struct ratchet_stats *sb = ratchet_ctx_stats(p->b);
	uint64_t oa = sa->ratchets_out, ob = sb->ratchets_out;
	uint64_t ia = sa->ratchets_in, ib = sb->ratchets_in;
	int ka = -1, kb = -1;

	for (unsigned i = first; i < first + rounds; i++)
		cross_at(t, p, i, now, &ka, &kb);
	T_EQ(t, ka, RATCHET_KIND_ES);
	T_EQ(t, kb, RATCHET_KIND_ES);
	T_TRUE(t, sa->ratchets_out - oa >= rounds / 40);
	T_TRUE(t, sb->ratchets_out - ob >= rounds / 40);
	T_TRUE(t, sa->ratchets_in - ia >= rounds / 40);
	T_TRUE(t, sb->ratchets_in - ib >= rounds / 40);
	T_EQ(t, sa->bad_nextkey, 0);
	T_EQ(t, sb->bad_nextkey, 0);
	T_TRUE(t, ratchet_ctx_tx_tagset_id(p->a, &p->bpk) >= (int)rounds / 40);
	T_TRUE(t, ratchet_ctx_tx_tagset_id(p->b, &p->apk) >= (int)rounds / 40);
}

static void check_ratchets_both_ways(struct tctx *t, struct pair *p,
				     unsigned rounds)
{
	check_ratchets_both_ways_at(t, p, 100, rounds, NOW);
}

static const struct ratchet_params race_prm = { .ratchet_after = 16,
						.lookahead = 8 };

/* A pair whose Alice has the lower static key (alice_lower) or Bob. */
static void pair_init_order(struct pair *p, bool alice_lower)
{
	for (;;) {
		pair_init(p);
		if ((memcmp(p->apk.b, p->bpk.b, 32) < 0) == alice_lower)
			break;
		pair_free(p);
	}
	ratchet_ctx_set_params(p->a, &race_prm);
	ratchet_ctx_set_params(p->b, &race_prm);
}

/* After the handshakes' time is up, each side holds the one session it
 * sends on, and traffic goes on. */
static void check_one_pair_left(struct tctx *t, struct pair *p,
				unsigned first)
{
	uint64_t later = NOW + RATCHET_HANDSHAKE_MS + 1;
	int ka, kb;

	ratchet_ctx_expire(p->a, later);
	ratchet_ctx_expire(p->b, later);
	T_EQ(t, ratchet_ctx_session_count(p->a), 1);
	T_EQ(t, ratchet_ctx_session_count(p->b), 1);
	cross_at(t, p, first, later, &ka, &kb);
	T_EQ(t, ka, RATCHET_KIND_ES);
	T_EQ(t, kb, RATCHET_KIND_ES);
}

/* The NS/NS race: Alice and Bob each send an NS before the other's
 * arrives, and each answers the other's NS with NSRs (i2pd waits for
 * one).  Both sessions complete on both sides, then both sides keep the
 * session the NS of the lower static key opened (for either order of
 * the keys), and the DH ratchet runs in both directions on it. */
static void test_ns_race(struct tctx *t)
{
	for (int order = 0; order < 2; order++) {
		struct pair p;
		int ka, kb;

		pair_init_order(&p, order == 0);
		cross(t, &p, 0, &ka, &kb);
		T_EQ(t, ka, RATCHET_KIND_NS);
		T_EQ(t, kb, RATCHET_KIND_NS);
		cross(t, &p, 1, &ka, &kb);
		T_EQ(t, ka, RATCHET_KIND_NSR);
		T_EQ(t, kb, RATCHET_KIND_NSR);
		check_ratchets_both_ways(t, &p, 800);
		check_one_pair_left(t, &p, 2000);
		pair_free(&p);
	}
}

/* The race again, with Bob's NSR to Alice's NS overtaking his own NS on
 * the way: Alice is established and has sent ES when Bob's NS arrives.
 * She answers it with an NSR, and both sides still end on one pair. */
static void test_ns_race_overtaken(struct tctx *t)
{
	for (int order = 0; order < 2; order++) {
		struct pair p;
		struct bbuf nsa = BBUF_INIT, nsb = BBUF_INIT, w = BBUF_INIT;

		pair_init_order(&p, order == 0);
		enc1(t, p.a, &p.bpk, 1, &nsa);
		enc1(t, p.b, &p.apk, 2, &nsb);		/* slow */
		T_EQ(t, dec1(t, p.b, &nsa, 1), RATCHET_KIND_NS);
		enc1(t, p.b, &p.apk, 3, &w);
		T_EQ(t, dec1(t, p.a, &w, 3), RATCHET_KIND_NSR);
		enc1(t, p.a, &p.bpk, 4, &w);
		T_EQ(t, dec1(t, p.b, &w, 4), RATCHET_KIND_ES);
		T_EQ(t, dec1(t, p.a, &nsb, 2), RATCHET_KIND_NS);
		/* Alice owes Bob's NS an NSR: her next message */
		enc1(t, p.a, &p.bpk, 5, &w);
		T_EQ(t, dec1(t, p.b, &w, 5), RATCHET_KIND_NSR);
		check_ratchets_both_ways(t, &p, 800);
		check_one_pair_left(t, &p, 2000);
		bbuf_free(&nsa);
		bbuf_free(&nsb);
		bbuf_free(&w);
		pair_free(&p);
	}
}

/* Alice sends a second NS before Bob's NSR to her first arrives.  Bob's
 * NSRs then answer the newest NS; Alice takes the NSR to her first (the
 * one that reaches her first), so her first ES makes Bob send on that
 * session, not on the one answering her second NS (which would send its
 * 12 NSRs and fall silent).  Bob's NSR to her second NS, arriving after
 * her ES, still delivers its payload. */
static void test_nsr_for_earlier_ns(struct tctx *t)
{
	struct pair p;
	struct bbuf ns1 = BBUF_INIT, ns2 = BBUF_INIT, nsr1 = BBUF_INIT;
	struct bbuf nsr2 = BBUF_INIT, w = BBUF_INIT;

	pair_init(&p);
	ratchet_ctx_set_params(p.a, &race_prm);
	ratchet_ctx_set_params(p.b, &race_prm);
	enc1(t, p.a, &p.bpk, 1, &ns1);
	T_EQ(t, dec1(t, p.b, &ns1, 1), RATCHET_KIND_NS);
	enc1(t, p.b, &p.apk, 2, &nsr1);		/* in flight */
	enc1(t, p.a, &p.bpk, 3, &ns2);		/* Alice heard nothing yet */
	T_EQ(t, dec1(t, p.b, &ns2, 3), RATCHET_KIND_NS);
	enc1(t, p.b, &p.apk, 4, &nsr2);		/* for the second NS */
	T_EQ(t, dec1(t, p.a, &nsr1, 2), RATCHET_KIND_NSR);
	enc1(t, p.a, &p.bpk, 5, &w);
	T_EQ(t, dec1(t, p.b, &w, 5), RATCHET_KIND_ES);
	T_EQ(t, dec1(t, p.a, &nsr2, 4), RATCHET_KIND_NSR);	/* late */
	for (unsigned i = 0; i < 2 * RATCHET_NSR_TAGS; i++) {
		enc1(t, p.b, &p.apk, 6 + i, &w);
		T_EQ(t, dec1(t, p.a, &w, 6 + i), RATCHET_KIND_ES);
	}
	check_ratchets_both_ways(t, &p, 800);
	check_one_pair_left(t, &p, 2000);
	bbuf_free(&ns1);
	bbuf_free(&ns2);
	bbuf_free(&nsr1);
	bbuf_free(&nsr2);
	bbuf_free(&w);
	pair_free(&p);
}

/* Alice's second NS reaches Bob only after her first ES: the session that
 * works goes on sending ES (an NSR for the late NS goes out once), and
 * never falls back to NSRs Alice has no use for. */
static void test_late_ns(struct tctx *t)
{
	struct pair p;
	struct bbuf ns2 = BBUF_INIT, w = BBUF_INIT;
	int kinds[3] = { 0, 0, 0 };

	pair_init(&p);
	ratchet_ctx_set_params(p.a, &race_prm);
	ratchet_ctx_set_params(p.b, &race_prm);
	enc1(t, p.a, &p.bpk, 1, &w);
	enc1(t, p.a, &p.bpk, 2, &ns2);		/* slow */
	T_EQ(t, dec1(t, p.b, &w, 1), RATCHET_KIND_NS);
	enc1(t, p.b, &p.apk, 3, &w);
	T_EQ(t, dec1(t, p.a, &w, 3), RATCHET_KIND_NSR);
	enc1(t, p.a, &p.bpk, 4, &w);
	T_EQ(t, dec1(t, p.b, &w, 4), RATCHET_KIND_ES);
	T_EQ(t, dec1(t, p.b, &ns2, 2), RATCHET_KIND_NS);
	for (unsigned i = 0; i < 2 * RATCHET_NSR_TAGS; i++) {
		int k;

		enc1(t, p.b, &p.apk, 10 + i, &w);
		k = dec1(t, p.a, &w, 10 + i);
		if (k >= RATCHET_KIND_NS && k <= RATCHET_KIND_ES)
			kinds[k - RATCHET_KIND_NS]++;
	}
	T_EQ(t, kinds[RATCHET_KIND_NSR - RATCHET_KIND_NS], 1);
	T_EQ(t, kinds[RATCHET_KIND_ES - RATCHET_KIND_NS],
	     2 * RATCHET_NSR_TAGS - 1);
	check_ratchets_both_ways(t, &p, 800);
	check_one_pair_left(t, &p, 2000);
	bbuf_free(&ns2);
	bbuf_free(&w);
	pair_free(&p);
}

/* Bob renews (he heard nothing back) while Alice's session, which she
 * opened, is young: Alice answers his NS and goes on sending on the old
 * session, which Bob still receives on, until his first ES on the new
 * one; then both use the new one.  After RATCHET_REPLACE_MS the same NS
 * replaces her session at once. */
static void test_peer_renew(struct tctx *t)
{
	for (int old = 0; old < 2; old++) {
		uint64_t t1 = NOW + (old ? RATCHET_REPLACE_MS + 1000 : 1000);
		struct pair p;
		struct bbuf w = BBUF_INIT;
		int ka, kb;

		pair_init_order(&p, true);	/* no race: the keys' order
						 * must not matter */
		establish(t, &p);
		cross(t, &p, 1, &ka, &kb);
		T_EQ(t, ka, RATCHET_KIND_ES);
		T_TRUE(t, ratchet_ctx_renew(p.b, &p.apk));
		enc_at(t, p.b, &p.apk, 10, t1, &w);
		T_EQ(t, dec_at(t, p.a, &w, 10, t1), RATCHET_KIND_NS);
		enc_at(t, p.a, &p.bpk, 11, t1, &w);
		T_EQ(t, dec_at(t, p.b, &w, 11, t1), RATCHET_KIND_NSR);
		enc_at(t, p.a, &p.bpk, 12, t1, &w);
		/* old: Alice answers on the new session until Bob's ES;
		 * young: she kept the old one, which Bob still opens */
		T_EQ(t, dec_at(t, p.b, &w, 12, t1),
		     old ? RATCHET_KIND_NSR : RATCHET_KIND_ES);
		enc_at(t, p.b, &p.apk, 13, t1, &w);
		T_EQ(t, dec_at(t, p.a, &w, 13, t1), RATCHET_KIND_ES);
		check_ratchets_both_ways_at(t, &p, 100, 800, t1);
		T_EQ(t, ratchet_ctx_stats(p.a)->ns_out, 1);
		bbuf_free(&w);
		pair_free(&p);
	}
}

/* Alice renews, and Bob (as i2pd does with a session younger than two
 * minutes) keeps the old session and ignores her NS: his ES on the old
 * one take it back, so hers go as ES again instead of an NS each, and the
 * DH ratchets both ways complete there (they stalled: his Next Key wants
 * her answer on his session). */
static void test_renew_ignored(struct tctx *t)
{
	struct pair p;
	struct bbuf w = BBUF_INIT;

	pair_init(&p);
	ratchet_ctx_set_params(p.a, &race_prm);
	ratchet_ctx_set_params(p.b, &race_prm);
	establish(t, &p);
	T_TRUE(t, ratchet_ctx_renew(p.a, &p.bpk));
	enc1(t, p.a, &p.bpk, 1, &w);		/* an NS Bob never sees */
	T_EQ(t, ratchet_ctx_stats(p.a)->ns_out, 2);
	enc1(t, p.b, &p.apk, 2, &w);
	T_EQ(t, dec1(t, p.a, &w, 2), RATCHET_KIND_ES);
	enc1(t, p.a, &p.bpk, 3, &w);
	T_EQ(t, dec1(t, p.b, &w, 3), RATCHET_KIND_ES);
	T_EQ(t, ratchet_ctx_stats(p.a)->ns_out, 2);
	check_ratchets_both_ways(t, &p, 800);
	T_EQ(t, ratchet_ctx_stats(p.a)->ns_out, 2);
	bbuf_free(&w);
	pair_free(&p);
}

/* At the default pace (a DH ratchet every RATCHET_RATCHET_AFTER messages
 * sent), 2.5 x that many messages each way cross two DH ratchets in each
 * direction, nothing lost, the tag windows bounded. */
static void test_soak_default(struct tctx *t)
{
	const unsigned n = RATCHET_RATCHET_AFTER * 5 / 2;
	struct pair p;
	struct bbuf w = BBUF_INIT;
	int bad = 0;

	pair_init(&p);
	establish(t, &p);
	for (unsigned i = 0; i < n; i++) {
		struct ratchet_payload pl;
		struct ratchet_rx_info in;
		struct bbuf plain = BBUF_INIT, blk = BBUF_INIT;

		clove(&blk, i);
		for (int dir = 0; dir < 2; dir++) {
			struct ratchet_ctx *f = dir ? p.b : p.a;
			struct ratchet_ctx *to = dir ? p.a : p.b;

			bbuf_reset(&w);
			if (ratchet_encrypt(f, dir ? &p.apk : &p.bpk, blk.data,
					    blk.len, 0, NOW, &w) != 0 ||
			    ratchet_decrypt(to, w.data, w.len, NOW, &plain, &pl,
					    &in) != 0 ||
			    !has_clove(&pl, i) || in.kind != RATCHET_KIND_ES)
				bad++;
		}
		bbuf_free(&plain);
		bbuf_free(&blk);
	}
	T_EQ(t, bad, 0);
	T_EQ(t, ratchet_ctx_stats(p.a)->ratchets_out, 2);
	T_EQ(t, ratchet_ctx_stats(p.b)->ratchets_out, 2);
	T_EQ(t, ratchet_ctx_stats(p.a)->ratchets_in, 2);
	T_EQ(t, ratchet_ctx_stats(p.b)->ratchets_in, 2);
	T_EQ(t, ratchet_ctx_stats(p.b)->es_in, n + 1);
	T_EQ(t, ratchet_ctx_tx_tagset_id(p.a, &p.bpk), 2);
	T_EQ(t, ratchet_ctx_tx_tagset_id(p.b, &p.apk), 2);
	T_TRUE(t, ratchet_ctx_tag_count(p.a) < 2 * RATCHET_LOOKAHEAD_MAX +
						 RATCHET_MAX_BEHIND);
	T_TRUE(t, ratchet_ctx_tag_count(p.b) < 2 * RATCHET_LOOKAHEAD_MAX +
						 RATCHET_MAX_BEHIND);
	bbuf_free(&w);
	pair_free(&p);
}

/* One Bob and 24 Alices: his tag table grows past its first size several
 * times (tags are moved to their new buckets) and every session's
 * messages still find their tags. */
/* p[1..n-1]: Alices of their own, all to p[0]'s Bob. */
static void alices_of_one_bob(struct pair *p, int n)
{
	for (int k = 1; k < n; k++) {
		x25519_keygen(&p[k].ask, &p[k].apk);
		p[k].bsk = p[0].bsk;
		p[k].bpk = p[0].bpk;
		p[k].a = ratchet_ctx_new(&p[k].ask);
		p[k].b = p[0].b;
	}
}

static void test_many_sessions(struct tctx *t)
{
	enum { N = 24 };
	const struct ratchet_params prm = { .ratchet_after = 8192,
					    .lookahead = 64 };
	struct pair p[N];
	struct ratchet_rx_info in;
	int fails = 0;

	pair_init(&p[0]);
	ratchet_ctx_set_params(p[0].b, &prm);
	alices_of_one_bob(p, N);
	for (int k = 0; k < N; k++)
		establish(t, &p[k]);
	T_TRUE(t, ratchet_ctx_tag_count(p[0].b) > 4 * 256);
	for (unsigned i = 0; i < 40; i++)
		for (int k = 0; k < N; k++) {
			if (send1(p[k].a, &p[k].bpk, p[k].b, i, 0, &in, t) != 0)
				fails++;
			if (send1(p[k].b, &p[k].apk, p[k].a, i, 0, &in, t) != 0)
				fails++;
		}
	T_EQ(t, fails, 0);
	T_EQ(t, ratchet_ctx_session_count(p[0].b), N);
	for (int k = 1; k < N; k++)
		ratchet_ctx_free(p[k].a);
	pair_free(&p[0]);
}

/* A destination keeps at most max_sessions: an NS past it takes the
 * place of the oldest session whose Alice never used it; with none such
 * (all established) it is refused.  The newest Alice still gets through. */
static void test_session_cap(struct tctx *t)
{
	enum { N = 7 };
	const struct ratchet_params prm = { .max_sessions = 4 };
	struct pair p[N];
	struct ratchet_rx_info in;
	const struct ratchet_stats *st;

	pair_init(&p[0]);
	ratchet_ctx_set_params(p[0].b, &prm);
	st = ratchet_ctx_stats(p[0].b);
	alices_of_one_bob(p, N);
	/* six NS, none used after: the first two make room for the last */
	for (int k = 0; k < 6; k++)
		T_OK(t, send1(p[k].a, &p[k].bpk, p[k].b, 0, 0, &in, t));
	T_EQ(t, ratchet_ctx_session_count(p[0].b), 4);
	T_EQ(t, st->sessions_evicted, 2);
	/* the four kept establish */
	for (int k = 2; k < 6; k++) {
		T_OK(t, send1(p[k].b, &p[k].apk, p[k].a, 0, 0, &in, t));
		T_OK(t, send1(p[k].a, &p[k].bpk, p[k].b, 1, 0, &in, t));
		T_EQ(t, in.kind, RATCHET_KIND_ES);
	}
	/* all four in use: a seventh NS is refused */
	T_ERR(t, send1(p[6].a, &p[6].bpk, p[6].b, 0, 0, &in, t), ERR_LIMIT);
	T_EQ(t, st->sessions_refused, 1);
	T_EQ(t, ratchet_ctx_session_count(p[0].b), 4);
	for (int k = 1; k < N; k++)
		ratchet_ctx_free(p[k].a);
	pair_free(&p[0]);
}

/* Within the window, any order; a replayed ES finds no tag. */
static void test_out_of_order(struct tctx *t)
{
	enum { N = 20 };
	struct pair p;
	struct bbuf blk = BBUF_INIT, wire[N], plain = BBUF_INIT, w2 = BBUF_INIT;
	struct ratchet_payload pl;
	struct ratchet_rx_info in;
	const struct ratchet_params prm = { .ratchet_after = 8192,
					    .lookahead = 32 };

	pair_init(&p);
	ratchet_ctx_set_params(p.b, &prm);
	establish(t, &p);
	for (unsigned i = 0; i < N; i++) {
		bbuf_init(&wire[i]);
		clove(&blk, 100 + i);
		T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW,
					&wire[i]));
	}
	for (unsigned k = 0; k < N; k++) {
		unsigned i = (k * 7 + 3) % N;	/* a permutation of 0..19 */

		T_OK(t, ratchet_decrypt(p.b, wire[i].data, wire[i].len, NOW,
					&plain, &pl, &in));
		T_TRUE(t, has_clove(&pl, 100 + i));
	}
	T_ERR(t, ratchet_decrypt(p.b, wire[5].data, wire[5].len, NOW, &plain,
				 &pl, &in), ERR_NOT_FOUND);
	T_EQ(t, ratchet_ctx_stats(p.b)->no_tag, 1);
	/* beyond the lookahead: message N + 40 has no tag yet */
	for (unsigned i = 0; i < 40; i++) {
		bbuf_reset(&w2);
		clove(&blk, 0);
		T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW,
					&w2));
	}
	T_ERR(t, ratchet_decrypt(p.b, w2.data, w2.len, NOW, &plain, &pl, &in),
	      ERR_NOT_FOUND);
	for (unsigned i = 0; i < N; i++)
		bbuf_free(&wire[i]);
	bbuf_free(&blk);
	bbuf_free(&plain);
	bbuf_free(&w2);
	pair_free(&p);
}

/* Held-back messages: one RATCHET_MAX_BEHIND - 1 behind the newest still
 * opens, one further behind has lost its tag (across several compactions
 * of the receive window). */
static void test_max_behind(struct tctx *t)
{
	enum { HELD = 4, N = RATCHET_MAX_BEHIND + 200 };
	struct pair p;
	struct bbuf blk = BBUF_INIT, held[HELD], w = BBUF_INIT;
	struct bbuf plain = BBUF_INIT;
	struct ratchet_payload pl;
	struct ratchet_rx_info in;
	const struct ratchet_params prm = { .ratchet_after = 8192,
					    .lookahead = 32 };
	/* the sends held back (send i is message i + 1: establish sent 0) */
	const unsigned at[HELD] = { 10, 11, N - 100, N - 99 };
	unsigned h = 0, fails = 0, last = 0;

	pair_init(&p);
	ratchet_ctx_set_params(p.b, &prm);
	establish(t, &p);
	clove(&blk, 7);
	for (unsigned i = 0; i < N; i++) {
		struct bbuf *out = h < HELD && i == at[h] ? &held[h] : &w;

		if (out != &w)
			bbuf_init(out);
		bbuf_reset(&w);
		T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW,
					out));
		if (out != &w) {
			h++;
			continue;
		}
		if (ratchet_decrypt(p.b, w.data, w.len, NOW, &plain, &pl,
				    &in) != 0)
			fails++;
		last = in.n;
	}
	T_EQ(t, fails, 0);
	/* newest is `last`; tags below last + 1 - MAX_BEHIND are gone */
	T_TRUE(t, last + 1 - RATCHET_MAX_BEHIND > at[1] + 1);
	T_TRUE(t, last + 1 - RATCHET_MAX_BEHIND <= at[2] + 1);
	for (unsigned k = 0; k < HELD; k++) {
		int r = ratchet_decrypt(p.b, held[k].data, held[k].len, NOW,
					&plain, &pl, &in);

		if (k < 2)
			T_ERR(t, r, ERR_NOT_FOUND);
		else
			T_OK(t, r);
		bbuf_free(&held[k]);
	}
	bbuf_free(&blk);
	bbuf_free(&w);
	bbuf_free(&plain);
	pair_free(&p);
}

/* A burst of lost messages longer than the base lookahead on a busy tag
 * set: the window has grown (n/4, up to RATCHET_LOOKAHEAD_MAX), so the
 * next message still opens; a gap past the bound does not. */
static void test_loss_burst(struct tctx *t)
{
	enum { BUSY = 2000, GAP = 250 };
	struct pair p;
	struct bbuf blk = BBUF_INIT, w = BBUF_INIT, plain = BBUF_INIT;
	struct ratchet_payload pl;
	struct ratchet_rx_info in;
	const struct ratchet_params prm = { .ratchet_after = 8192,
					    .lookahead = 32 };
	unsigned fails = 0;

	pair_init(&p);
	ratchet_ctx_set_params(p.b, &prm);
	establish(t, &p);
	clove(&blk, 9);
	for (unsigned i = 0; i < BUSY + GAP + 1; i++) {
		bbuf_reset(&w);
		T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW,
					&w));
		if (i >= BUSY && i < BUSY + GAP)
			continue;	/* lost */
		if (ratchet_decrypt(p.b, w.data, w.len, NOW, &plain, &pl,
				    &in) != 0)
			fails++;
	}
	T_EQ(t, fails, 0);
	T_TRUE(t, has_clove(&pl, 9));
	/* past the bound: RATCHET_LOOKAHEAD_MAX + 1 lost, then no tag */
	for (unsigned i = 0; i < RATCHET_LOOKAHEAD_MAX + 2; i++) {
		bbuf_reset(&w);
		T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW,
					&w));
	}
	T_ERR(t, ratchet_decrypt(p.b, w.data, w.len, NOW, &plain, &pl, &in),
	      ERR_NOT_FOUND);
	bbuf_free(&blk);
	bbuf_free(&w);
	bbuf_free(&plain);
	pair_free(&p);
}

static void test_replay_and_garbage(struct tctx *t)
{
	struct pair p;
	struct bbuf blk = BBUF_INIT, wire = BBUF_INIT, plain = BBUF_INIT;
	struct ratchet_payload pl;
	struct ratchet_rx_info in;
	uint8_t junk[200];

	pair_init(&p);
	clove(&blk, 1);
	T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW, &wire));
	T_OK(t, ratchet_decrypt(p.b, wire.data, wire.len, NOW, &plain, &pl,
				&in));
	T_ERR(t, ratchet_decrypt(p.b, wire.data, wire.len, NOW, &plain, &pl,
				 &in), ERR_DUPLICATE);
	T_EQ(t, ratchet_ctx_stats(p.b)->replay, 1);
	T_EQ(t, ratchet_ctx_session_count(p.b), 1);
	/* the same NS much later or too early: refused on its DateTime */
	bbuf_reset(&wire);
	T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW, &wire));
	T_ERR(t, ratchet_decrypt(p.b, wire.data, wire.len,
				 NOW + 6 * 60 * 1000, &plain, &pl, &in),
	      ERR_EXPIRED);
	T_ERR(t, ratchet_decrypt(p.b, wire.data, wire.len,
				 NOW - 3 * 60 * 1000, &plain, &pl, &in),
	      ERR_EXPIRED);
	/* random bytes and short input: no tag, not an NS */
	for (int i = 0; i < 50; i++) {
		size_t n = (size_t)rand_uniform(sizeof(junk));

		rand_bytes(junk, n);
		T_TRUE(t, ratchet_decrypt(p.b, junk, n, NOW, &plain, &pl,
					  &in) != 0);
	}
	T_EQ(t, ratchet_ctx_session_count(p.b), 1);
	bbuf_free(&blk);
	bbuf_free(&wire);
	bbuf_free(&plain);
	pair_free(&p);
}

/* Every single-bit flip of an NS, NSR and ES is refused; the ES tag
 * survives a forgery. */
/* The bad input, each dropped and counted with nothing kept: an
 * oversized garlic, an NS whose representative is out of Elligator2's
 * range (r > (p-1)/2), a truncated NS, and an ES under a tag nobody
 * knows (its session expired). */
static void test_bad_input(struct tctx *t)
{
	struct pair p;
	struct bbuf blk = BBUF_INIT, ns = BBUF_INIT, plain = BBUF_INIT;
	struct bbuf es = BBUF_INIT;
	struct ratchet_payload pl;
	struct ratchet_rx_info in;
	const struct ratchet_stats *st;
	uint8_t *big;
	size_t big_len = RATCHET_MAX_PAYLOAD_BYTES +
			 RATCHET_NS_OVERHEAD_BYTES + 1;

	pair_init(&p);
	st = ratchet_ctx_stats(p.b);
	big = calloc(1, big_len);
	T_ERR(t, ratchet_decrypt(p.b, big, big_len, NOW, &plain, &pl, &in),
	      ERR_TOO_BIG);
	T_EQ(t, st->bad_size, 1);
	free(big);
	clove(&blk, 1);
	T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW, &ns));
	/* out of range: all 254 bits set (the top two are padding) */
	{
		struct bbuf w = BBUF_INIT;
		struct x25519_pk k;

		bbuf_put(&w, ns.data, ns.len);
		memset(w.data, 0xff, 32);
		T_TRUE(t, elligator2_decode(w.data, &k) != 0);
		T_ERR(t, ratchet_decrypt(p.b, w.data, w.len, NOW, &plain, &pl,
					 &in), ERR_NOT_FOUND);
		T_EQ(t, st->no_tag, 1);
		bbuf_free(&w);
	}
	/* truncated: the payload's MAC cut off, then less than an NS */
	T_TRUE(t, ratchet_decrypt(p.b, ns.data, ns.len - 16, NOW, &plain,
				  &pl, &in) != 0);
	T_ERR(t, ratchet_decrypt(p.b, ns.data, RATCHET_NS_OVERHEAD_BYTES - 1,
				 NOW, &plain, &pl, &in), ERR_NOT_FOUND);
	T_EQ(t, ratchet_ctx_session_count(p.b), 0);
	T_EQ(t, st->ns_in, 0);
	/* the whole NS still opens: nothing above burnt it */
	T_OK(t, ratchet_decrypt(p.b, ns.data, ns.len, NOW, &plain, &pl, &in));
	T_EQ(t, in.kind, RATCHET_KIND_NS);
	/* an ES of a session Bob no longer has */
	T_OK(t, send1(p.b, &p.apk, p.a, 2, 0, &in, t));
	T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW, &es));
	ratchet_ctx_expire(p.b, NOW + RATCHET_SESSION_IDLE_MS + 1);
	T_EQ(t, ratchet_ctx_session_count(p.b), 0);
	T_ERR(t, ratchet_decrypt(p.b, es.data, es.len, NOW, &plain, &pl, &in),
	      ERR_NOT_FOUND);
	T_EQ(t, st->no_tag, 3);
	T_EQ(t, ratchet_ctx_tag_count(p.b), 0);
	bbuf_free(&blk);
	bbuf_free(&ns);
	bbuf_free(&es);
	bbuf_free(&plain);
	pair_free(&p);
}

static void test_tamper(struct tctx *t)
{
	struct pair p;
	struct bbuf blk = BBUF_INIT, wire = BBUF_INIT, plain = BBUF_INIT;
	struct ratchet_payload pl;
	struct ratchet_rx_info in;
	int accepted = 0;

	pair_init(&p);
	clove(&blk, 1);
	T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW, &wire));
	for (size_t i = 0; i < wire.len; i++) {
		/* the representative's two top bits are padding */
		if (i == 31)
			continue;
		wire.data[i] ^= 0x01;
		if (ratchet_decrypt(p.b, wire.data, wire.len, NOW, &plain, &pl,
				    &in) == 0)
			accepted++;
		wire.data[i] ^= 0x01;
	}
	T_EQ(t, accepted, 0);
	T_OK(t, ratchet_decrypt(p.b, wire.data, wire.len, NOW, &plain, &pl,
				&in));
	/* NSR */
	bbuf_reset(&wire);
	T_OK(t, ratchet_encrypt(p.b, &p.apk, blk.data, blk.len, 0, NOW, &wire));
	for (size_t i = 8; i < wire.len; i++) {
		if (i == 8 + 31)
			continue;
		wire.data[i] ^= 0x80;
		if (ratchet_decrypt(p.a, wire.data, wire.len, NOW, &plain, &pl,
				    &in) == 0)
			accepted++;
		wire.data[i] ^= 0x80;
	}
	T_EQ(t, accepted, 0);
	T_OK(t, ratchet_decrypt(p.a, wire.data, wire.len, NOW, &plain, &pl,
				&in));
	T_EQ(t, in.kind, RATCHET_KIND_NSR);
	/* ES */
	bbuf_reset(&wire);
	T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW, &wire));
	for (size_t i = 8; i < wire.len; i++) {
		wire.data[i] ^= 0x04;
		if (ratchet_decrypt(p.b, wire.data, wire.len, NOW, &plain, &pl,
				    &in) == 0)
			accepted++;
		wire.data[i] ^= 0x04;
	}
	T_EQ(t, accepted, 0);
	T_TRUE(t, ratchet_ctx_stats(p.b)->bad_auth > 0);
	T_OK(t, ratchet_decrypt(p.b, wire.data, wire.len, NOW, &plain, &pl,
				&in));
	T_EQ(t, in.kind, RATCHET_KIND_ES);
	bbuf_free(&blk);
	bbuf_free(&wire);
	bbuf_free(&plain);
	pair_free(&p);
}

static void test_ack(struct tctx *t)
{
	struct pair p;
	struct ratchet_rx_info in;

	pair_init(&p);
	establish(t, &p);
	T_OK(t, send1(p.a, &p.bpk, p.b, 7, RATCHET_F_ACK_REQUEST, &in, t));
	T_TRUE(t, ratchet_ctx_ack_pending(p.b, &p.apk));
	T_EQ(t, ratchet_ctx_stats(p.a)->acks_in, 0);
	T_OK(t, send1(p.b, &p.apk, p.a, 8, 0, &in, t));
	T_FALSE(t, ratchet_ctx_ack_pending(p.b, &p.apk));
	T_EQ(t, ratchet_ctx_stats(p.a)->acks_in, 1);
	pair_free(&p);
}

static void test_one_time(struct tctx *t)
{
	struct pair p;
	struct ratchet_rx_info in;

	pair_init(&p);
	T_OK(t, send1(p.a, &p.bpk, p.b, 9, RATCHET_F_ONE_TIME, &in, t));
	T_EQ(t, in.kind, RATCHET_KIND_NS);
	T_FALSE(t, in.bound);
	T_EQ(t, ratchet_ctx_session_count(p.a), 0);
	T_EQ(t, ratchet_ctx_session_count(p.b), 0);
	pair_free(&p);
}

/* ---- independent re-derivation from the spec text ---- */

static void hk(uint8_t *out, size_t n, const uint8_t salt[32],
	       const void *ikm, size_t ikmlen, const char *info)
{
	hkdf_sha256(out, n, salt, 32, ikm, ikmlen, info, strlen(info));
}

/* Bob's side of "KDF for Initial ck and h", "KDF for Flags/Static Key
 * Section" and "KDF for Payload Section", done by hand. */
static void test_ns_independent(struct tctx *t)
{
	static const char name[] = "Noise_IKelg2+hs2_25519_ChaChaPoly_SHA256";
	struct pair p;
	struct bbuf blk = BBUF_INIT, wire = BBUF_INIT;
	struct x25519_pk aepk, apk;
	uint8_t h[32], ck[32], kd[64], dh[32], buf[64];
	uint8_t *pt;
	size_t plen;

	pair_init(&p);
	clove(&blk, 42);
	T_OK(t, ratchet_encrypt(p.a, &p.bpk, blk.data, blk.len, 0, NOW, &wire));
	T_EQ(t, wire.len, 32 + 48 + 7 + blk.len + 16);
	sha256(h, name, strlen(name));		/* h = SHA256(protocol_name) */
	memcpy(ck, h, 32);			/* ck = h */
	sha256(h, h, 32);			/* MixHash(null prologue) */
	sha256_2(h, h, 32, p.bpk.b, 32);	/* MixHash(bpk) */
	T_OK(t, elligator2_decode(wire.data, &aepk));
	sha256_2(h, h, 32, aepk.b, 32);		/* MixHash(aepk) */
	T_OK(t, x25519_dh(dh, &p.bsk, &aepk));
	hk(kd, 64, ck, dh, 32, "");		/* MixKey(DH(bsk, aepk)) */
	memcpy(ck, kd, 32);
	T_OK(t, chachapoly_decrypt_n(apk.b, kd + 32, 0, h, 32, wire.data + 32,
				     48));
	T_MEMEQ(t, apk.b, p.apk.b, 32);
	sha256_2(h, h, 32, wire.data + 32, 48);
	T_OK(t, x25519_dh(dh, &p.bsk, &apk));
	hk(kd, 64, ck, dh, 32, "");		/* MixKey(DH(bsk, apk)) */
	plen = wire.len - 80 - 16;
	pt = malloc(plen);
	T_OK(t, chachapoly_decrypt_n(pt, kd + 32, 0, h, 32, wire.data + 80,
				     plen + 16));
	/* DateTime first (seconds of NOW), then our clove block */
	T_EQ(t, pt[0], 0);
	T_EQ(t, be16_get(pt + 1), 4);
	T_EQ(t, be32_get(pt + 3), NOW / 1000);
	T_MEMEQ(t, pt + 7, blk.data, blk.len);
	free(pt);
	/* the tag set KDF by hand against router/ratchet_tagset */
	{
		struct ratchet_tagset ts;
		uint8_t root[32], k[32], tagck[32], cst[32], keyck[32];
		uint8_t tag[8], key[32];

		rand_bytes(root, 32);
		rand_bytes(k, 32);
		ratchet_tagset_init(&ts, root, k);
		hk(buf, 64, root, k, 32, "KDFDHRatchetStep");
		T_MEMEQ(t, ts.next_root, buf, 32);
		hk(buf, 64, buf + 32, NULL, 0, "TagAndKeyGenKeys");
		memcpy(keyck, buf + 32, 32);
		hk(buf, 64, buf, NULL, 0, "STInitialization");
		memcpy(tagck, buf, 32);
		memcpy(cst, buf + 32, 32);
		for (uint32_t n = 0; n < 5; n++) {
			T_EQ(t, ratchet_tagset_next(&ts, tag, key), n);
			hk(buf, 64, tagck, cst, 32, "SessionTagKeyGen");
			memcpy(tagck, buf, 32);
			T_MEMEQ(t, tag, buf + 32, 8);
			hk(buf, 64, keyck, NULL, 0, "SymmetricRatchet");
			memcpy(keyck, buf, 32);
			T_MEMEQ(t, key, buf + 32, 32);
		}
	}
	bbuf_free(&blk);
	bbuf_free(&wire);
	pair_free(&p);
}

/* ---- blocks ---- */

static void test_blocks(struct tctx *t)
{
	struct bbuf b = BBUF_INIT;
	struct ratchet_payload pl;
	struct ratchet_nextkey nk = { RATCHET_NK_KEY | RATCHET_NK_REQUEST, 5,
				      { { 9 } } };
	struct ratchet_ack acks[2] = { { 1, 2 }, { 3, 4 } };

	ratchet_block_nextkey(&b, &nk);
	ratchet_block_ack(&b, acks, 2);
	ratchet_block_ack_request(&b);
	ratchet_block_msgnum(&b, 77);
	ratchet_block_termination(&b, 1);
	garlic_block_padding(&b, 3);
	T_OK(t, ratchet_payload_parse(b.data, b.len, RATCHET_KIND_ES, &pl));
	T_EQ(t, pl.n_nextkeys, 1);
	T_EQ(t, pl.nextkeys[0].flags, nk.flags);
	T_EQ(t, pl.nextkeys[0].key_id, 5);
	T_EQ(t, pl.nextkeys[0].key.b[0], 9);
	T_EQ(t, pl.n_acks, 2);
	T_EQ(t, pl.acks[1].tagset_id, 3);
	T_EQ(t, pl.acks[1].n, 4);
	T_TRUE(t, pl.ack_request);
	T_TRUE(t, pl.has_pn);
	T_EQ(t, pl.pn, 77);
	T_TRUE(t, pl.has_termination);
	/* not in NS or NSR */
	T_ERR(t, ratchet_payload_parse(b.data, b.len, RATCHET_KIND_NSR, &pl),
	      ERR_FORMAT);
	/* NS needs DateTime first */
	bbuf_reset(&b);
	garlic_block_padding(&b, 0);
	T_ERR(t, ratchet_payload_parse(b.data, b.len, RATCHET_KIND_NS, &pl),
	      ERR_FORMAT);
	bbuf_reset(&b);
	garlic_block_datetime(&b, 5);
	garlic_block_padding(&b, 2);
	T_OK(t, ratchet_payload_parse(b.data, b.len, RATCHET_KIND_NS, &pl));
	/* padding not last */
	garlic_block_datetime(&b, 5);
	T_ERR(t, ratchet_payload_parse(b.data, b.len, RATCHET_KIND_ES, &pl),
	      ERR_FORMAT);
	/* reverse with request, bad size, key id over 32767 */
	bbuf_reset(&b);
	nk.flags = RATCHET_NK_REVERSE | RATCHET_NK_REQUEST;
	ratchet_block_nextkey(&b, &nk);
	T_ERR(t, ratchet_payload_parse(b.data, b.len, RATCHET_KIND_ES, &pl),
	      ERR_FORMAT);
	bbuf_reset(&b);
	nk.flags = RATCHET_NK_REVERSE;
	nk.key_id = 40000;
	ratchet_block_nextkey(&b, &nk);
	T_ERR(t, ratchet_payload_parse(b.data, b.len, RATCHET_KIND_ES, &pl),
	      ERR_FORMAT);
	/* a block running past the end */
	bbuf_reset(&b);
	ratchet_block_msgnum(&b, 1);
	T_ERR(t, ratchet_payload_parse(b.data, b.len - 1, RATCHET_KIND_ES,
				       &pl), ERR_TRUNCATED);
	bbuf_free(&b);
}

const struct test_case router_ratchet_tests[] = {
	{ "handshake", test_handshake, 0 },
	{ "repeated_nsr", test_repeated_nsr, 0 },
	{ "renew", test_renew, 0 },
	{ "dh_ratchet", test_dh_ratchet, 0 },
	{ "owed_responses", test_owed_responses, 0 },
	{ "ns_race", test_ns_race, 0 },
	{ "ns_race_overtaken", test_ns_race_overtaken, 0 },
	{ "nsr_for_earlier_ns", test_nsr_for_earlier_ns, 0 },
	{ "late_ns", test_late_ns, 0 },
	{ "renew_ignored", test_renew_ignored, 0 },
	{ "peer_renew", test_peer_renew, 0 },
	{ "soak_default", test_soak_default, 0 },
	{ "many_sessions", test_many_sessions, 0 },
	{ "session_cap", test_session_cap, 0 },
	{ "out_of_order", test_out_of_order, 0 },
	{ "max_behind", test_max_behind, 0 },
	{ "loss_burst", test_loss_burst, 0 },
	{ "replay_and_garbage", test_replay_and_garbage, 0 },
	{ "tamper", test_tamper, 0 },
	{ "bad_input", test_bad_input, 0 },
	{ "ack", test_ack, 0 },
	{ "one_time", test_one_time, 0 },
	{ "ns_independent", test_ns_independent, 0 },
	{ "blocks", test_blocks, 0 },
	{ NULL, NULL, 0 }
};
