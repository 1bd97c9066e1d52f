/*
 * apps/market seedpay behind the swarm's payment hook, over localnet: a
 * seeder sells the chunks of a content, a viewer fetches it paying each
 * verified chunk by voucher (every chunk paid for, the seeder holding the
 * vouchers to redeem); a viewer that does not pay gets the seeder's
 * credit and no more, and is choked; a viewer refuses a price over its
 * maximum and leaves that seeder.
 */
#include "config.h"

#include <string.h>

#include "apps/market/seedpay.h"
#include "apps/swarm/swarm.h"
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
};

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
	pc.max_batch = 1;
	pc.ttl_s = 3600;
	w->sell = market_seedpay_new(&pol, &pc, w->sep, &w->view_sk,
				     &w->spend_pk, NULL, fetch_pot, w);
	w->buy = market_seedpay_new(&pol, &pc, w->sep, NULL, NULL, &w->pot,
				    NULL, NULL);
	w->seed = tn_node(&w->tn, NULL);
	w->view = tn_node(&w->tn, NULL);
	tn_publish(&w->tn, w->seed, SP_BYTES, 3, 14, &pub);
	content_published_clear(&pub);
	T_OK(t, market_seedpay_sell(w->sell, w->tn.hash));
	T_ERR(t, market_seedpay_buy(w->sell, w->tn.hash), ERR_BAD_STATE);
	T_OK(t, market_seedpay_buy(w->buy, w->tn.hash));
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

const struct test_case market_seedpay_tests[] = {
	{ "paid_fetch", test_paid_fetch, TT_FORK },
	{ "no_pay_choked", test_no_pay_choked, TT_FORK },
	{ "price_refused", test_price_refused, TT_FORK },
	{ NULL, NULL, 0 }
};
