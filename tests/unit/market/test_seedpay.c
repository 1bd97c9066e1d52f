/*
 * apps/market seedpay behind the swarm's payment hook, over localnet: a
 * seeder sells the chunks of a content, a viewer fetches it paying each
 * verified chunk by voucher (every chunk paid for, the seeder holding the
 * vouchers to redeem); a viewer that does not pay gets the seeder's
 * credit and no more, and is choked; a viewer refuses a price over its
 * maximum and leaves that seeder; a seeder that sends a bad chunk is
 * banned and paid nothing.
 */
#include "config.h"

#include <string.h>

#include "apps/market/seedpay.h"
#include "apps/swarm/msg.h"
#include "apps/swarm/swarm.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "tests/unit/swarm/tswarm.h"

#define SP_BYTES (1024 * 1024 + 777)	/* 65 chunks of 16 KiB */
#define SP_CHUNKS 65

struct sp_world {
	struct tnet tn;
	struct tnode *seed, *view;
	struct market_seedpay *sell, *buy;
	struct secp_sk spend, view_sk, pot;
	struct secp_pk spend_pk;
	struct hub_pot hp;
	uint8_t sep[32];
};

static struct sp_world *g_w;

static const struct swarm_pay_hooks sp_hooks = {
	.open = market_seedpay_open,
	.recv = market_seedpay_recv,
	.received = market_seedpay_received,
	.may_serve = market_seedpay_may_serve,
	.served = market_seedpay_served,
	.close = market_seedpay_close,
	.complete = market_seedpay_complete,
};

/* The viewer's max_batch; sp_up sells and buys every content when > 1. */
static unsigned g_batch = 1;

/* The chain's answer, at once. */
static void fetch_pot(void *ctx, const uint8_t signer[20])
{
	struct sp_world *w = ctx;

	market_seedpay_pot_set(w->sell, signer, &w->hp, time_now_s());
}

static void sp_up(struct sp_world *w, struct tctx *t, uint64_t max_price,
		  bool viewer_pays)
{
	struct chunkpay_policy pol;
	struct chunkpay_payer_config pc;
	struct content_published pub;
	struct swarm_pay_hooks h = sp_hooks;

	memset(w, 0, sizeof(*w));
	g_w = w;
	tn_init(&w->tn, t);
	memset(w->sep, 0x42, 32);
	secp_sk_generate(&w->spend);
	secp_sk_generate(&w->view_sk);
	secp_sk_generate(&w->pot);
	T_OK(t, secp_sk_pubkey(&w->spend, &w->spend_pk));
	w->hp.deposit = u256_from_u64(1000000);
	w->hp.escrow = u256_from_u64(8000000);
	memset(&pol, 0, sizeof(pol));
	pol.price = u256_from_u64(5);
	pol.credit = 16;
	pol.max_paper_ttl_s = 12 * 3600;
	pol.min_ttl_s = 600;
	memset(&pc, 0, sizeof(pc));
	pc.max_price = u256_from_u64(max_price);
	pc.max_batch = g_batch;
	pc.ttl_s = 3600;
	w->sell = market_seedpay_new(&pol, &pc, w->sep, &w->view_sk,
				     &w->spend_pk, NULL, fetch_pot, w);
	w->buy = market_seedpay_new(&pol, &pc, w->sep, NULL, NULL, &w->pot,
				    NULL, NULL);
	w->seed = tn_node(&w->tn, NULL);
	w->view = tn_node(&w->tn, NULL);
	tn_publish(&w->tn, w->seed, SP_BYTES, 3, 14, &pub);
	content_published_clear(&pub);
	if (g_batch > 1) {
		T_OK(t, market_seedpay_sell_all(w->sell));
		T_ERR(t, market_seedpay_buy_all(w->sell), ERR_BAD_STATE);
		T_OK(t, market_seedpay_buy_all(w->buy));
	} else {
		T_OK(t, market_seedpay_sell(w->sell, w->tn.hash));
		T_ERR(t, market_seedpay_buy(w->sell, w->tn.hash),
		      ERR_BAD_STATE);
		T_OK(t, market_seedpay_buy(w->buy, w->tn.hash));
	}
	h.ctx = w->sell;
	swarm_set_pay(w->seed->sw, &h);
	if (viewer_pays) {
		h.ctx = w->buy;
		swarm_set_pay(w->view->sw, &h);
	}
	T_OK(t, swarm_content_add(w->seed->sw, w->tn.hash, SWARM_PICK_RAREST));
	T_OK(t, swarm_content_fetch(w->view->sw, w->tn.hash,
				    SWARM_PICK_STREAMING));
	T_OK(t, swarm_peer_add(w->view->sw, w->tn.hash,
			       client_dest_pub(w->seed->d)));
}

static void sp_down(struct sp_world *w)
{
	tn_free(&w->tn);
	market_seedpay_free(w->sell);
	market_seedpay_free(w->buy);
}

static void test_paid_fetch(struct tctx *t)
{
	struct sp_world w;
	struct market_seedpay_stats ss, vs;
	struct chunkpay_batch b;
	struct u256 paid;
	uint8_t rcpt[20];
	const uint8_t *sh;

	sp_up(&w, t, 10, true);
	T_TRUE(t, tn_run(&w.tn, all_complete));
	sh = client_dest_pub(w.seed->d)->hash;
	T_TRUE(t, market_seedpay_paid(w.buy, w.tn.hash, sh, &paid, rcpt));
	/* every chunk verified was paid for, at the seeder's price */
	T_EQ(t, paid.w[0], 5 * SP_CHUNKS);
	market_seedpay_stats(w.buy, &vs);
	market_seedpay_stats(w.sell, &ss);
	T_EQ(t, vs.terms_taken, 1);
	T_EQ(t, vs.chunks_paid_for, SP_CHUNKS);
	T_EQ(t, vs.vouchers_sent, SP_CHUNKS);
	T_EQ(t, ss.terms_sent, 1);
	T_EQ(t, ss.chunks_served, SP_CHUNKS);
	T_EQ(t, ss.vouchers_refused, 0);
	T_EQ(t, ss.pot_fetches, 1);
	/* the seeder holds the voucher for all of it, to our address */
	T_OK(t, chunkpay_payee_batch(market_seedpay_payee(w.sell), true, &b));
	T_EQ(t, b.n, 1);
	T_EQ(t, b.total.w[0], 5 * SP_CHUNKS);
	T_MEMEQ(t, b.v[0].recipient, rcpt, 20);
	chunkpay_batch_free(&b);
	sp_down(&w);
}

static bool seeder_choked_viewer(struct tnet *tn)
{
	struct swarm_peer_stats ps;

	(void)tn;
	return swarm_peer_stats(g_w->seed->sw, g_w->tn.hash, &ps, 1) == 1 &&
	       ps.we_choke && g_w->view->nlog >= 16;
}

/* A viewer with no payment hook never pays: it gets the credit, no more,
 * and is choked once held for SWARM_PAY_WAIT_MS. */
static bool seller_paid_up(struct tnet *tn)
{
	struct market_seedpay_stats ss;

	(void)tn;
	market_seedpay_stats(g_w->sell, &ss);
	return ss.vouchers_ok == SP_CHUNKS / 8 + 1;
}

/* Batched vouchers (8 chunks each, credit 16) for every content: 65
 * chunks are 8 vouchers and one more when the content is whole, so the
 * seeder is paid for all 65 (64 without the complete hook). */
static void test_batched_all(struct tctx *t)
{
	struct sp_world w;
	struct market_seedpay_stats ss, vs;
	struct chunkpay_batch b;
	struct u256 paid;
	uint8_t rcpt[20];

	g_batch = 8;
	sp_up(&w, t, 10, true);
	T_TRUE(t, tn_run(&w.tn, all_complete));
	T_TRUE(t, market_seedpay_paid(w.buy, w.tn.hash,
				      client_dest_pub(w.seed->d)->hash, &paid,
				      rcpt));
	T_EQ(t, paid.w[0], 5 * SP_CHUNKS);
	market_seedpay_stats(w.buy, &vs);
	market_seedpay_stats(w.sell, &ss);
	T_EQ(t, vs.chunks_paid_for, SP_CHUNKS);
	T_EQ(t, vs.vouchers_sent, SP_CHUNKS / 8 + 1);
	T_EQ(t, ss.chunks_served, SP_CHUNKS);
	T_EQ(t, ss.vouchers_refused, 0);
	/* the last voucher reaches the seeder after the content completed */
	T_TRUE(t, tn_run(&w.tn, seller_paid_up));
	T_OK(t, chunkpay_payee_batch(market_seedpay_payee(w.sell), true, &b));
	T_EQ(t, b.n, 1);
	T_EQ(t, b.total.w[0], 5 * SP_CHUNKS);
	T_MEMEQ(t, b.v[0].recipient, rcpt, 20);
	chunkpay_batch_free(&b);
	sp_down(&w);
	g_batch = 1;
}

static void test_no_pay_choked(struct tctx *t)
{
	struct sp_world w;
	struct market_seedpay_stats ss;

	sp_up(&w, t, 10, false);
	T_TRUE(t, tn_run(&w.tn, seeder_choked_viewer));
	market_seedpay_stats(w.sell, &ss);
	T_EQ(t, ss.chunks_served, 16);
	T_EQ(t, w.view->nlog, 16);
	T_FALSE(t, node_complete(w.view, w.tn.hash));
	sp_down(&w);
}

static bool viewer_left(struct tnet *tn)
{
	struct market_seedpay_stats vs;
	struct swarm_content_stats cs;

	(void)tn;
	market_seedpay_stats(g_w->buy, &vs);
	return vs.terms_refused == 1 &&
	       swarm_content_stats(g_w->view->sw, g_w->tn.hash, &cs) == 0 &&
	       cs.peers == 0;
}

/* A price over the viewer's maximum: the terms are refused and the
 * seeder dropped before any chunk. */
static void test_price_refused(struct tctx *t)
{
	struct sp_world w;

	sp_up(&w, t, 4, true);
	T_TRUE(t, tn_run(&w.tn, viewer_left));
	T_EQ(t, w.view->nlog, 0);
	sp_down(&w);
}

/* ---- a seeder that sells, then sends a bad chunk ---- */

struct liar {
	struct tnode *nd;
	struct stream *s;
	uint8_t in[SWARM_FRAME_MAX_BYTES];
	size_t in_len;
	bool handshaken;
	unsigned pieces, pays;
};

static struct liar *g_liar;

static void liar_send(struct liar *l, const struct swarm_msg *m)
{
	struct bbuf b = BBUF_INIT;

	if (swarm_msg_encode(m, &b) == 0)
		(void)stream_write(l->s, b.data, b.len);
	bbuf_free(&b);
}

/* Chunk idx from the honest seeder's store with one bit flipped. */
static void liar_piece(struct liar *l, uint32_t idx)
{
	struct swarm_msg m = { .type = SWARM_PIECE };
	uint8_t *buf = xmalloc(SWARM_CHUNK_MAX_BYTES);
	size_t len;

	if (content_store_chunk_get(g_w->seed->st, g_w->tn.hash, idx, buf,
				    SWARM_CHUNK_MAX_BYTES, &len,
				    &m.u.piece.proof) == 0) {
		buf[len / 2] ^= 0x40;
		m.u.piece.index = idx;
		m.u.piece.chunk = buf;
		m.u.piece.chunk_len = len;
		liar_send(l, &m);
		l->pieces++;
	}
	free(buf);
}

static void liar_handshake(struct liar *l, const struct swarm_msg *m)
{
	struct swarm_msg hs = { .type = SWARM_HANDSHAKE };
	struct swarm_msg bf = { .type = SWARM_BITFIELD };
	struct swarm_msg pay = { .type = SWARM_PAY };
	uint8_t bits[(SP_CHUNKS + 7) / 8], terms[CHUNKPAY_TERMS_BYTES];

	memset(bits, 0xff, sizeof(bits));
	bits[sizeof(bits) - 1] = 0x01;		/* 65 = 8 * 8 + 1 */
	hs.u.hs = m->u.hs;
	hs.u.hs.flags = 0;			/* no metadata */
	bf.u.bitfield.count = SP_CHUNKS;
	bf.u.bitfield.bits = bits;
	chunkpay_payee_terms(market_seedpay_payee(g_w->sell), terms);
	pay.u.pay.data = terms;
	pay.u.pay.len = sizeof(terms);
	liar_send(l, &hs);
	liar_send(l, &pay);
	liar_send(l, &bf);
	hs = (struct swarm_msg){ .type = SWARM_UNCHOKE };
	liar_send(l, &hs);
	l->handshaken = true;
}

static void liar_event(void *ctx, struct stream *s, unsigned ev)
{
	struct liar *l = ctx;
	struct swarm_msg m;
	size_t used;

	if (ev & (STREAM_EV_EOF | STREAM_EV_RESET | STREAM_EV_CLOSED |
		  STREAM_EV_FAILED)) {
		stream_release(s);
		l->s = NULL;
		return;
	}
	if (!(ev & STREAM_EV_READABLE))
		return;
	l->in_len += stream_read(s, l->in + l->in_len,
				 sizeof(l->in) - l->in_len);
	while (swarm_msg_decode(l->in, l->in_len, &m, &used) == 0) {
		if (m.type == SWARM_HANDSHAKE && !l->handshaken)
			liar_handshake(l, &m);
		else if (m.type == SWARM_PAY)
			l->pays++;
		else if (m.type == SWARM_REQUEST)
			for (uint32_t k = 0; k < m.u.range.count; k++)
				liar_piece(l, m.u.range.index + k);
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

static bool liar_handshaken(struct tnet *tn)
{
	(void)tn;
	return g_liar->handshaken;
}

/* The viewer takes the liar's terms, gets its bad chunk, bans it and
 * pays it nothing; the honest seeder is paid for every chunk. */
static void test_bad_chunk_unpaid(struct tctx *t)
{
	struct sp_world w;
	struct liar *l = xzalloc(sizeof(*l));
	struct market_seedpay_stats vs;
	struct swarm_content_stats cs;
	struct u256 paid;
	uint8_t rcpt[20];

	sp_up(&w, t, 10, true);
	g_liar = l;
	l->nd = tn_dest(&w.tn);
	stream_mgr_set_acceptor(l->nd->mgr, liar_accept, l);
	/* the viewer asks the liar first (sp_up added the honest seeder:
	 * drop it until the liar has spoken) */
	swarm_content_remove(w.view->sw, w.tn.hash);
	T_OK(t, swarm_content_fetch(w.view->sw, w.tn.hash,
				    SWARM_PICK_STREAMING));
	T_OK(t, swarm_peer_add(w.view->sw, w.tn.hash,
			       client_dest_pub(l->nd->d)));
	T_TRUE(t, tn_run(&w.tn, liar_handshaken));
	T_OK(t, swarm_peer_add(w.view->sw, w.tn.hash,
			       client_dest_pub(w.seed->d)));
	T_TRUE(t, tn_run(&w.tn, all_complete));
	T_TRUE(t, l->pieces >= 1);
	T_EQ(t, l->pays, 0);			/* no voucher to the liar */
	T_TRUE(t, swarm_is_banned(w.view->sw, w.tn.hash,
				  client_dest_pub(l->nd->d)->hash));
	T_OK(t, swarm_content_stats(w.view->sw, w.tn.hash, &cs));
	T_TRUE(t, cs.bad_pieces >= 1);
	market_seedpay_stats(w.buy, &vs);
	T_EQ(t, vs.terms_taken, 2);
	T_EQ(t, vs.chunks_paid_for, SP_CHUNKS);
	T_TRUE(t, market_seedpay_paid(w.buy, w.tn.hash,
				      client_dest_pub(w.seed->d)->hash, &paid,
				      rcpt));
	T_EQ(t, paid.w[0], 5 * SP_CHUNKS);
	sp_down(&w);
	free(l);
}

/* A relayer fee above what the batch's payee will hold is seen before
 * the batch is sent (it would revert at its gas estimate on every try),
 * with the protocol fee taken from each voucher as PaymentHub takes it;
 * failed redemptions back off. */
static void test_fee_fits(struct tctx *t)
{
	struct u256 zero = u256_from_u64(0), bal = u256_from_u64(40);
	struct u256 one[1] = { u256_from_u64(1000) };
	struct u256 two[2] = { u256_from_u64(999), u256_from_u64(1) };
	struct u256 fee, holds;

	fee = u256_from_u64(975);
	T_TRUE(t, market_seedpay_fee_fits(&fee, &zero, one, 1, 250, &holds));
	T_EQ(t, holds.w[0], 975);
	fee = u256_from_u64(976);
	T_TRUE(t, !market_seedpay_fee_fits(&fee, &zero, one, 1, 250, &holds));
	/* each voucher's cut floored apart: 999 - 24 and 1 - 0 */
	T_TRUE(t, market_seedpay_fee_fits(&fee, &zero, two, 2, 250, &holds));
	T_EQ(t, holds.w[0], 976);
	/* the balance held already counts */
	fee = u256_from_u64(1015);
	T_TRUE(t, market_seedpay_fee_fits(&fee, &bal, one, 1, 250, &holds));
	fee = u256_from_u64(1016);
	T_TRUE(t, !market_seedpay_fee_fits(&fee, &bal, one, 1, 250, &holds));
	/* nothing of the payee's in the batch */
	fee = u256_from_u64(1);
	T_TRUE(t, !market_seedpay_fee_fits(&fee, &zero, one, 0, 250, &holds));

	T_EQ(t, market_seedpay_retry_ms(1, 5000, 300000), 5000);
	T_EQ(t, market_seedpay_retry_ms(2, 5000, 300000), 10000);
	T_EQ(t, market_seedpay_retry_ms(6, 5000, 300000), 160000);
	T_EQ(t, market_seedpay_retry_ms(7, 5000, 300000), 300000);
	T_EQ(t, market_seedpay_retry_ms(1000, 5000, 300000), 300000);
}

const struct test_case market_seedpay_tests[] = {
	{ "paid_fetch", test_paid_fetch, TT_FORK },
	{ "batched_all", test_batched_all, TT_FORK },
	{ "no_pay_choked", test_no_pay_choked, TT_FORK },
	{ "price_refused", test_price_refused, TT_FORK },
	{ "bad_chunk_unpaid", test_bad_chunk_unpaid, TT_FORK },
	{ "fee_fits", test_fee_fits, 0 },
	{ NULL, NULL, 0 }
};
