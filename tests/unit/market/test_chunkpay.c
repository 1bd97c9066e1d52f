/*
 * apps/market pay per chunk (CHAIN.md §5 flow 4): the TERMS and VOUCHER
 * codecs; a viewer paying a seeder chunk by chunk with every payee policy
 * enforced (a bad signature, a changed lane, a stale or over-long voucher,
 * no pot, an unlocking pot, exposure over escrow / 8, a viewer that stops
 * paying); and against anvil, through a gateway over localnet, one viewer
 * paying three seeders whose batched vouchers a relayer destination
 * redeems in one transaction (the batch handed to it over a stream): each stealth balance is what was paid less the protocol
 * fee, to the wei, and each seeder holds its stealth key.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apps/market/chunkpay.h"
#include "apps/market/gateway.h"
#include "apps/market/relayer.h"
#include "apps/market/rpc.h"
#include "apps/market/seedpay.h"
#include "apps/market/upstream_http.h"
#include "chain/abi.h"
#include "chain/calls.h"
#include "chain/rpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "router/worker.h"
#include "tests/unit/market/tmarket.h"

#define NOW 1700000000u

static void test_codec(struct tctx *t)
{
	struct chunkpay_terms a, b;
	struct chunkpay_voucher v, w;
	struct secp_sk s1, s2;
	uint8_t buf[CHUNKPAY_TERMS_BYTES], vb[CHUNKPAY_VOUCHER_BYTES];

	secp_sk_generate(&s1);
	secp_sk_generate(&s2);
	T_OK(t, stealth_meta_from_keys(&a.meta, &s1, &s2));
	a.price = u256_from_u64(123456789);
	a.credit = 9;
	T_OK(t, chunkpay_terms_encode(&a, buf));
	T_EQ(t, chunkpay_msg_type(buf, sizeof(buf)), CHUNKPAY_MSG_TERMS);
	T_OK(t, chunkpay_terms_decode(buf, sizeof(buf), &b));
	T_MEMEQ(t, b.meta.spend.b, a.meta.spend.b, SECP_PK_BYTES);
	T_EQ(t, u256_cmp(&b.price, &a.price), 0);
	T_EQ(t, b.credit, 9);
	T_ERR(t, chunkpay_terms_decode(buf, sizeof(buf) - 1, &b),
	      ERR_TRUNCATED);
	buf[1] = 2;
	T_ERR(t, chunkpay_terms_decode(buf, sizeof(buf), &b),
	      ERR_UNSUPPORTED);
	buf[1] = CHUNKPAY_VERSION;
	buf[sizeof(buf) - 1] = buf[sizeof(buf) - 2] = 0;	/* credit 0 */
	T_ERR(t, chunkpay_terms_decode(buf, sizeof(buf), &b), ERR_FORMAT);
	a.price.w[1] = 1ull << 32;				/* > uint96 */
	T_ERR(t, chunkpay_terms_encode(&a, buf), ERR_RANGE);

	memset(&v, 0, sizeof(v));
	T_OK(t, secp_sk_pubkey(&s1, &v.eph));
	memset(v.lane, 0xab, 32);
	v.cumulative = u256_from_u64(77);
	v.expiry = NOW;
	memset(v.sig, 5, 64);
	v.sig[64] = 28;
	T_OK(t, chunkpay_voucher_encode(&v, vb));
	T_OK(t, chunkpay_voucher_decode(vb, sizeof(vb), &w));
	T_MEMEQ(t, &w.eph, &v.eph, sizeof(v.eph));
	T_EQ(t, w.expiry, NOW);
	T_EQ(t, u256_cmp(&w.cumulative, &v.cumulative), 0);
	T_MEMEQ(t, w.sig, v.sig, SECP_SIG_BYTES);
	T_ERR(t, chunkpay_voucher_decode(vb, sizeof(vb) - 1, &w),
	      ERR_TRUNCATED);
	vb[sizeof(vb) - 1] = 29;
	T_ERR(t, chunkpay_voucher_decode(vb, sizeof(vb), &w), ERR_FORMAT);
	vb[sizeof(vb) - 1] = 27;
	vb[1] = 5;				/* E not compressed */
	T_ERR(t, chunkpay_voucher_decode(vb, sizeof(vb), &w), ERR_FORMAT);
	vb[0] = CHUNKPAY_MSG_TERMS;
	T_ERR(t, chunkpay_voucher_decode(vb, sizeof(vb), &w), ERR_FORMAT);
}

/* A seeder's keys and payee. */
struct seeder {
	struct secp_sk spend, view;
	struct secp_pk spend_pk;
	struct chunkpay_payee *pe;
	uint32_t id;
};

static void seeder_init(struct tctx *t, struct seeder *s,
			const struct chunkpay_policy *pol,
			const uint8_t sep[32])
{
	secp_sk_generate(&s->spend);
	secp_sk_generate(&s->view);
	T_OK(t, secp_sk_pubkey(&s->spend, &s->spend_pk));
	s->pe = chunkpay_payee_new(pol, sep, &s->view, &s->spend_pk);
	T_OK(t, chunkpay_session_open(s->pe, &s->id));
}

static void policy(struct chunkpay_policy *pol, uint64_t price)
{
	memset(pol, 0, sizeof(*pol));
	pol->price = u256_from_u64(price);
	pol->credit = 4;
	pol->max_paper_ttl_s = 12 * 3600;
	pol->min_ttl_s = 600;
}

static struct chunkpay_payer *payer_for(struct tctx *t, struct seeder *s,
					const struct secp_sk *pot,
					const uint8_t sep[32])
{
	struct chunkpay_payer_config c;
	struct chunkpay_payer *p;
	uint8_t terms[CHUNKPAY_TERMS_BYTES];

	memset(&c, 0, sizeof(c));
	c.max_price = u256_from_u64(100);
	c.max_batch = 8;
	c.ttl_s = 3600;
	p = chunkpay_payer_new(&c, pot, sep);
	chunkpay_payee_terms(s->pe, terms);
	T_OK(t, chunkpay_payer_terms(p, terms, sizeof(terms)));
	T_ERR(t, chunkpay_payer_terms(p, terms, sizeof(terms)), ERR_EXISTS);
	return p;
}

/* The time the payer and the payee see. */
static uint64_t g_now = NOW;

/*
 * Serve chunks to p while the seeder may; each reaches the payer, whose
 * vouchers go to the seeder unless `pay` is off (the last one signed is
 * kept in last, when not NULL).  Returns the chunks served; why[reason]
 * counts the seeder's answers.
 */
static unsigned serve(struct tctx *t, struct seeder *s,
		      struct chunkpay_payer *p, unsigned max, bool pay,
		      unsigned why[16], uint8_t *last)
{
	uint8_t vb[CHUNKPAY_VOUCHER_BYTES], signer[20];
	unsigned n = 0;

	while (n < max && chunkpay_session_may_serve(s->pe, s->id)) {
		int r;

		chunkpay_session_served(s->pe, s->id);
		n++;
		r = chunkpay_payer_chunk(p, g_now, vb);
		T_TRUE(t, r >= 0);
		if (r == 1 && last)
			memcpy(last, vb, sizeof(vb));
		if (r == 1 && pay)
			why[chunkpay_session_voucher(s->pe, s->id, vb,
						     sizeof(vb), g_now,
						     signer) & 15]++;
	}
	return n;
}

static void test_policy(struct tctx *t)
{
	struct chunkpay_policy pol;
	struct seeder s, s2;
	struct secp_sk pot;
	struct chunkpay_payer *p, *p2;
	struct hub_pot hp;
	struct chunkpay_batch b;
	uint8_t sep[32], signer[20], vb[CHUNKPAY_VOUCHER_BYTES], r1[20], r2[20];
	uint8_t sv[CHUNKPAY_VOUCHER_BYTES];
	uint64_t served, paid;
	unsigned why[16] = { 0 };
	struct u256 e;

	memset(sep, 0x5e, 32);
	policy(&pol, 10);
	pol.redeem_cost = u256_from_u64(1);
	seeder_init(t, &s, &pol, sep);
	seeder_init(t, &s2, &pol, sep);
	secp_sk_generate(&pot);
	T_OK(t, secp_sk_address(&pot, signer));
	p = payer_for(t, &s, &pot, sep);
	p2 = payer_for(t, &s2, &pot, sep);
	chunkpay_payer_recipient(p, r1);
	chunkpay_payer_recipient(p2, r2);
	T_TRUE(t, memcmp(r1, r2, 20) != 0);	/* distinct payees */

	g_now = NOW;
	/* the pot is not known yet: credit (4) chunks, then a stop */
	T_EQ(t, serve(t, &s, p, 100, true, why, NULL), 4);
	T_EQ(t, why[CHUNKPAY_NEED_POT], 2);	/* batch = credit / 2 */
	memset(&hp, 0, sizeof(hp));
	hp.deposit = u256_from_u64(100000);
	hp.escrow = u256_from_u64(8 * 1000);	/* exposure ≤ 1000 */
	T_EQ(t, chunkpay_payee_pot_set(s.pe, signer, &hp, NOW), 1);
	chunkpay_session_counts(s.pe, s.id, &served, &paid);
	T_EQ(t, served, 4);
	T_EQ(t, paid, 4);
	/* paid as it goes: 96 more, exposure 1000 reached, no further */
	T_EQ(t, serve(t, &s, p, 96, true, why, NULL), 96);
	T_EQ(t, why[CHUNKPAY_NEED_POT], 2);
	T_EQ(t, why[CHUNKPAY_OK], 48);
	e = chunkpay_payee_exposure(s.pe, signer);
	T_EQ(t, e.w[0], 1000);
	/* the voucher for 102 chunks is over the exposure: refused */
	T_EQ(t, serve(t, &s, p, 2, true, why, NULL), 2);
	T_EQ(t, why[CHUNKPAY_EXPOSURE], 1);
	chunkpay_session_counts(s.pe, s.id, &served, &paid);
	T_EQ(t, served, 102);
	T_EQ(t, paid, 100);
	T_EQ(t, chunkpay_payer_flush(p, NOW, vb), 0);	/* all signed */
	/* a batch worth ≥ 100 × cost: redeemed, exposure back to 0 */
	T_OK(t, chunkpay_payee_batch(s.pe, false, &b));
	T_EQ(t, b.n, 1);
	T_EQ(t, b.total.w[0], 1000);
	T_MEMEQ(t, b.v[0].recipient, r1, 20);
	chunkpay_payee_redeemed(s.pe, &b);
	chunkpay_batch_free(&b);
	e = chunkpay_payee_exposure(s.pe, signer);
	T_TRUE(t, u256_is_zero(&e));
	T_OK(t, chunkpay_payee_batch(s.pe, false, &b));
	T_EQ(t, b.n, 0);

	/* a viewer that stops paying is served its credit, then nothing */
	T_EQ(t, serve(t, &s, p, 100, false, why, vb), 2);
	T_FALSE(t, chunkpay_session_may_serve(s.pe, s.id));
	/* it pays up (104 chunks): served again */
	memcpy(sv, vb, sizeof(vb));
	T_EQ(t, chunkpay_session_voucher(s.pe, s.id, vb, sizeof(vb), NOW,
					 NULL), CHUNKPAY_OK);
	T_TRUE(t, chunkpay_session_may_serve(s.pe, s.id));
	/* the same voucher again, or a tampered one */
	T_EQ(t, chunkpay_session_voucher(s.pe, s.id, sv, sizeof(sv), NOW,
					 NULL), CHUNKPAY_STALE);
	sv[1 + 33 + 32 + 11] ^= 0x40;		/* cumulative changed */
	T_EQ(t, chunkpay_session_voucher(s.pe, s.id, sv, sizeof(sv), NOW,
					 NULL), CHUNKPAY_WRONG_LANE);
	T_EQ(t, chunkpay_session_voucher(s.pe, s.id, sv, 10, NOW, NULL),
	     CHUNKPAY_MALFORMED);
	/* expiry: past, too short, too far */
	T_EQ(t, chunkpay_session_voucher(s.pe, s.id, vb, sizeof(vb),
					 NOW + 3600, NULL), CHUNKPAY_EXPIRED);
	T_EQ(t, chunkpay_session_voucher(s.pe, s.id, vb, sizeof(vb),
					 NOW + 3100, NULL), CHUNKPAY_EXPIRED);
	T_EQ(t, chunkpay_session_voucher(s.pe, s.id, vb, sizeof(vb),
					 NOW - 12 * 3600, NULL),
	     CHUNKPAY_TTL_TOO_LONG);
	/* another session's voucher on this lane */
	T_EQ(t, serve(t, &s2, p2, 2, false, why, vb), 2);
	T_EQ(t, chunkpay_payer_flush(p2, NOW, sv), 0);
	T_EQ(t, chunkpay_session_voucher(s.pe, s.id, vb, sizeof(vb), NOW,
					 NULL), CHUNKPAY_WRONG_LANE);
	/* s2 knows the pot: unlocking refuses; a pot gone too */
	hp.unlock_at = NOW + 86400;
	T_EQ(t, chunkpay_payee_pot_set(s2.pe, signer, &hp, NOW), 0);
	T_EQ(t, chunkpay_session_voucher(s2.pe, s2.id, vb, sizeof(vb), NOW,
					 NULL), CHUNKPAY_UNLOCKING);
	T_EQ(t, chunkpay_payee_pot_set(s2.pe, signer, NULL, NOW), 0);
	T_EQ(t, chunkpay_session_voucher(s2.pe, s2.id, vb, sizeof(vb), NOW,
					 NULL), CHUNKPAY_NO_POT);
	hp.unlock_at = 0;
	T_EQ(t, chunkpay_payee_pot_set(s2.pe, signer, &hp, NOW), 0);
	T_EQ(t, chunkpay_session_voucher(s2.pe, s2.id, vb, sizeof(vb), NOW,
					 NULL), CHUNKPAY_OK);
	/* worth 20 < 100 × 1: not due unless forced; a closed lane stays
	 * until it is redeemed */
	T_OK(t, chunkpay_payee_batch(s2.pe, false, &b));
	T_EQ(t, b.n, 0);
	chunkpay_session_close(s2.pe, s2.id);
	T_OK(t, chunkpay_payee_batch(s2.pe, true, &b));
	T_EQ(t, b.n, 1);
	T_EQ(t, b.total.w[0], 20);
	chunkpay_payee_redeemed(s2.pe, &b);
	chunkpay_batch_free(&b);
	T_OK(t, chunkpay_payee_batch(s2.pe, true, &b));
	T_EQ(t, b.n, 0);
	/* the payer refuses a price over its maximum */
	{
		struct chunkpay_payer_config c = { .max_price = { { 9 } },
						   .max_batch = 1,
						   .ttl_s = 60 };
		struct chunkpay_payer *px = chunkpay_payer_new(&c, &pot, sep);
		uint8_t terms[CHUNKPAY_TERMS_BYTES];

		chunkpay_payee_terms(s.pe, terms);
		T_ERR(t, chunkpay_payer_terms(px, terms, sizeof(terms)),
		      ERR_RANGE);
		T_ERR(t, chunkpay_payer_chunk(px, NOW, vb), ERR_BAD_STATE);
		chunkpay_payer_free(px);
	}
	T_EQ(t, chunkpay_redeem_delay_ms(5, 5), 5);
	for (int i = 0; i < 50; i++) {
		uint64_t d = chunkpay_redeem_delay_ms(100, 200);

		T_TRUE(t, d >= 100 && d <= 200);
	}
	chunkpay_payer_free(p);
	chunkpay_payer_free(p2);
	chunkpay_payee_free(s.pe);
	chunkpay_payee_free(s2.pe);
}

/* ------------------------------------------------------------ on chain */

struct cworld {
	struct tctx *t;
	struct tm_anvil a;
	struct tm_net tm;
	struct market_http *up;
	struct market_gw *gw;
	struct market_rpc *rpc;
	struct chain_client *cc;
	struct tm_node *cl;
};

static bool cworld_up(struct cworld *w, struct tctx *t)
{
	struct market_gw_config gc;
	struct market_rpc_config rc;
	struct chain_transport tr;
	struct tm_node *gwn, *cl;

	memset(w, 0, sizeof(*w));
	w->t = t;
	if (!tm_anvil_start(t, &w->a, true))
		return false;
	tm_init(&w->tm, t);
	market_gw_config_default(&gc);
	gc.rate_per_sec = 1000;
	gc.rate_burst = 1000;
	gwn = tm_node(&w->tm);
	cl = w->cl = tm_node(&w->tm);
	T_OK(t, market_http_new(w->tm.el, w->a.url, 0, &w->up));
	w->gw = market_gw_new(&gc, market_http_upstream(w->up), w->tm.el);
	market_gw_serve(w->gw, gwn->mgr);
	market_rpc_config_default(&rc);
	w->rpc = market_rpc_new(&rc, cl->mgr, w->tm.el);
	T_OK(t, market_rpc_add_gateway(w->rpc, tm_pub(gwn)));
	tr = market_rpc_transport(w->rpc);
	w->cc = chain_client_new(&tr, 31337);
	return true;
}

static void cworld_down(struct cworld *w)
{
	if (w->cc) {
		chain_client_free(w->cc);
		market_rpc_free(w->rpc);
		market_gw_free(w->gw);
		market_http_free(w->up);
		tm_free(&w->tm);
	}
	tm_anvil_stop(&w->a);
}

static bool csend(struct cworld *w, unsigned key, const uint8_t to[20],
		  const struct bbuf *b)
{
	struct secp_sk sk;
	struct chain_receipt rc = { 0 };
	int r;

	tm_anvil_key(key, &sk);
	r = chain_send(w->cc, &sk, to, b->data, b->len, NULL, &rc);
	chain_receipt_clear(&rc);
	return r == 0;
}

static struct u256 view_u256(struct cworld *w, const uint8_t to[20],
			     const struct bbuf *b)
{
	struct u256 v = u256_from_u64(0);

	T_OK(w->t, chain_call_u256(w->cc, to, b->data, b->len, &v));
	return v;
}

/* The viewer (account 4) funds a pot (deposit 50000, escrow 40000) for a
 * fresh signer pot; the hub's domain separator in sep, the pot in hp;
 * the test's clock is the chain's. */
static void pot_up(struct cworld *w, struct secp_sk *pot, uint8_t signer[20],
		   uint8_t sep[32], struct hub_pot *hp)
{
	struct tctx *t = w->t;
	struct bbuf c = BBUF_INIT, ret = BBUF_INIT;
	struct u256 amount = u256_from_u64(1000000), dep, esc;
	struct secp_sk k;
	uint8_t funder[20];

	T_OK(t, chain_block_timestamp(w->cc, &g_now));
	secp_sk_generate(pot);
	T_OK(t, secp_sk_address(pot, signer));
	tm_anvil_key(4, &k);
	T_OK(t, secp_sk_address(&k, funder));
	erc20_mint(&c, funder, &amount);
	T_TRUE(t, csend(w, 9, w->a.dep.token, &c));
	bbuf_reset(&c);
	erc20_approve(&c, w->a.dep.payment_hub, &amount);
	T_TRUE(t, csend(w, 4, w->a.dep.token, &c));
	dep = u256_from_u64(50000);
	esc = u256_from_u64(40000);
	bbuf_reset(&c);
	T_OK(t, hub_fund_call(&c, signer, &dep, &esc));
	T_TRUE(t, csend(w, 4, w->a.dep.payment_hub, &c));
	bbuf_reset(&c);
	hub_domain_separator_call(&c);
	T_OK(t, chain_call(w->cc, NULL, w->a.dep.payment_hub, c.data, c.len,
			   &ret));
	T_EQ(t, ret.len, 32);
	if (ret.len == 32)
		memcpy(sep, ret.data, 32);
	bbuf_reset(&c);
	bbuf_reset(&ret);
	hub_pots_call(&c, signer);
	T_OK(t, chain_call(w->cc, NULL, w->a.dep.payment_hub, c.data, c.len,
			   &ret));
	T_OK(t, hub_pot_decode(ret.data, ret.len, hp));
	T_EQ(t, hp->deposit.w[0], 50000);
	bbuf_free(&c);
	bbuf_free(&ret);
}

/* A relayer destination (account 5) on a node of its own, taking
 * batches whose fee is at least redeem_min_fee. */
static struct market_relayer *relayer_up(struct cworld *w,
					 struct worker_pool **wp,
					 struct tm_node **rn,
					 uint64_t redeem_min_fee)
{
	struct market_relayer_config rlc;
	struct market_relayer *rl;
	struct secp_sk rk;

	*wp = worker_pool_new(w->tm.el, 1);
	memset(&rlc, 0, sizeof(rlc));
	rlc.dep = w->a.dep;
	rlc.redeem_min_fee = u256_from_u64(redeem_min_fee);
	tm_anvil_key(5, &rk);
	*rn = tm_node(&w->tm);
	rl = market_relayer_new(&rlc, &rk, w->rpc, *wp, w->tm.el);
	market_relayer_serve(rl, (*rn)->mgr);
	return rl;
}

struct redeemed {
	bool done;
	int err, status;
};

static void redeem_done(void *arg, int err, int status,
			const struct u256 *token_id)
{
	struct redeemed *r = arg;

	r->done = true;
	r->err = err;
	r->status = token_id ? -1 : status;
}

static bool redeem_cond(void *arg)
{
	return ((struct redeemed *)arg)->done;
}

/* Hand the batch to the relayer destination rn; its status. */
static int redeem_via(struct cworld *w, struct tm_node *rn,
		      const struct eip712_voucher *v,
		      const uint8_t (*sigs)[SECP_SIG_BYTES], size_t n)
{
	struct redeemed r = { 0 };

	T_OK(w->t, market_redeem_send(w->cl->mgr, w->tm.el, tm_pub(rn), v,
				      sigs, n, TM_TIMEOUT_MS, redeem_done,
				      &r));
	T_TRUE(w->t, tm_run(&w->tm, redeem_cond, &r));
	T_OK(w->t, r.err);
	return r.status;
}

/* A batch worth less than 100x its cost waits, until a voucher in it
 * would expire within the margin. */
static void test_batch_due(struct tctx *t)
{
	struct chunkpay_policy pol;
	struct seeder s;
	struct secp_sk pot;
	struct chunkpay_payer *p;
	struct chunkpay_batch b;
	struct hub_pot hp;
	uint8_t sep[32], signer[20];
	unsigned why[16] = { 0 };

	memset(sep, 0x5d, 32);
	policy(&pol, 10);
	pol.redeem_cost = u256_from_u64(5);	/* due at 500 a voucher */
	seeder_init(t, &s, &pol, sep);
	secp_sk_generate(&pot);
	T_OK(t, secp_sk_address(&pot, signer));
	memset(&hp, 0, sizeof(hp));
	hp.deposit = u256_from_u64(100000);
	hp.escrow = u256_from_u64(100000);
	(void)chunkpay_payee_pot_set(s.pe, signer, &hp, g_now);
	p = payer_for(t, &s, &pot, sep);
	T_EQ(t, serve(t, &s, p, 2, true, why, NULL), 2);
	T_EQ(t, why[CHUNKPAY_OK], 1);		/* 2 chunks: 20 */
	T_OK(t, chunkpay_payee_batch_due(s.pe, g_now, 600, &b));
	T_EQ(t, b.n, 0);
	/* the voucher (expiry now + 3600) within the 600 s margin */
	T_OK(t, chunkpay_payee_batch_due(s.pe, g_now + 3000, 600, &b));
	T_EQ(t, b.n, 1);
	T_EQ(t, b.total.w[0], 20);
	chunkpay_payee_redeemed(s.pe, &b);
	chunkpay_batch_free(&b);
	T_OK(t, chunkpay_payee_batch_due(s.pe, g_now + 3000, 600, &b));
	T_EQ(t, b.n, 0);
	chunkpay_payer_free(p);
	chunkpay_payee_free(s.pe);
}

static void test_redeem_codec(struct tctx *t)
{
	struct eip712_voucher v[2], back[MARKET_REDEEM_MAX];
	uint8_t sigs[2][SECP_SIG_BYTES], bs[MARKET_REDEEM_MAX][SECP_SIG_BYTES];
	struct bbuf b = BBUF_INIT;
	size_t n = 0;

	memset(v, 0, sizeof(v));
	for (int i = 0; i < 2; i++) {
		memset(v[i].recipient, 0x10 + i, 20);
		memset(v[i].lane, 0x20 + i, 32);
		v[i].cumulative = u256_from_u64(1000 + i);
		v[i].expiry = NOW + i;
		memset(sigs[i], 0x30 + i, SECP_SIG_BYTES);
	}
	T_OK(t, market_redeem_encode(v, (const uint8_t (*)[65])sigs, 2, &b));
	T_EQ(t, b.len, 2 + 2 * MARKET_VOUCHER_WIRE_BYTES);
	T_OK(t, market_redeem_decode(b.data, b.len, back, bs, &n));
	T_EQ(t, n, 2);
	T_MEMEQ(t, back[1].recipient, v[1].recipient, 20);
	T_MEMEQ(t, back[1].lane, v[1].lane, 32);
	T_EQ(t, back[1].cumulative.w[0], 1001);
	T_EQ(t, back[1].expiry, NOW + 1);
	T_MEMEQ(t, bs[1], sigs[1], SECP_SIG_BYTES);
	T_ERR(t, market_redeem_decode(b.data, b.len - 1, back, bs, &n),
	      ERR_TRUNCATED);
	b.data[1] = MARKET_REDEEM_MAX + 1;
	T_ERR(t, market_redeem_decode(b.data, b.len, back, bs, &n),
	      ERR_TOO_BIG);
	b.data[1] = 0;
	T_ERR(t, market_redeem_decode(b.data, b.len, back, bs, &n),
	      ERR_FORMAT);
	T_ERR(t, market_redeem_encode(v, (const uint8_t (*)[65])sigs, 0, &b),
	      ERR_RANGE);
	bbuf_free(&b);
}

static void test_redeem(struct tctx *t)
{
	static const uint64_t price[3] = { 7, 11, 13 };
	static const unsigned chunks[3] = { 40, 25, 33 };
	struct cworld w;
	struct chunkpay_policy pol;
	struct seeder s[3];
	struct chunkpay_payer *p[3];
	struct chunkpay_batch b[3];
	struct eip712_voucher v[3];
	uint8_t sigs[3][SECP_SIG_BYTES];
	struct secp_sk pot;
	struct hub_pot hp;
	struct bbuf c = BBUF_INIT, ret = BBUF_INIT;
	struct u256 fee_bps, bal;
	uint8_t sep[32], signer[20], vb[CHUNKPAY_VOUCHER_BYTES];
	uint8_t sel[ABI_SELECTOR_BYTES], addr[20];
	uint64_t total = 0;
	unsigned why[16] = { 0 };
	struct worker_pool *wp = NULL;
	struct market_relayer *rl = NULL;
	struct market_relayer_stats rst;
	struct tm_node *rn;

	if (!cworld_up(&w, t))
		return;
	pot_up(&w, &pot, signer, sep, &hp);

	/* three seeders, each paid per chunk on its own lane */
	for (int i = 0; i < 3; i++) {
		policy(&pol, price[i]);
		pol.redeem_cost = u256_from_u64(1);
		seeder_init(t, &s[i], &pol, sep);
		p[i] = payer_for(t, &s[i], &pot, sep);
		(void)chunkpay_payee_pot_set(s[i].pe, signer, &hp, g_now);
		T_EQ(t, serve(t, &s[i], p[i], chunks[i], true, why, NULL),
		     chunks[i]);
		if (chunkpay_payer_flush(p[i], g_now, vb) == 1)
			T_EQ(t, chunkpay_session_voucher(s[i].pe, s[i].id, vb,
							 sizeof(vb), g_now,
							 NULL), CHUNKPAY_OK);
		chunkpay_session_close(s[i].pe, s[i].id);
		T_OK(t, chunkpay_payee_batch(s[i].pe, false, &b[i]));
		T_EQ(t, b[i].n, 1);
		T_EQ(t, b[i].total.w[0], price[i] * chunks[i]);
		v[i] = b[i].v[0];
		memcpy(sigs[i], b[i].sig[0], SECP_SIG_BYTES);
		total += price[i] * chunks[i];
	}
	T_EQ(t, why[CHUNKPAY_OK], 20 + 12 + 16);
	T_TRUE(t, memcmp(v[0].recipient, v[1].recipient, 20) != 0 &&
		  memcmp(v[1].recipient, v[2].recipient, 20) != 0 &&
		  memcmp(v[0].recipient, v[2].recipient, 20) != 0);
	/* a relayer destination (account 5) redeems all three in one
	 * transaction; the batch goes to it over a stream */
	rl = relayer_up(&w, &wp, &rn, 0);
	T_EQ(t, redeem_via(&w, rn, v, (const uint8_t (*)[65])sigs, 3),
	     MARKET_RELAY_OK);
	/* again: nothing new, reverted on chain */
	T_EQ(t, redeem_via(&w, rn, v, (const uint8_t (*)[65])sigs, 3),
	     MARKET_RELAY_REVERTED);
	/* a signature that cannot recover: refused before any gas */
	sigs[1][64] = 29;
	T_EQ(t, redeem_via(&w, rn, v, (const uint8_t (*)[65])sigs, 3),
	     MARKET_RELAY_BAD_REQUEST);
	market_relayer_stats(rl, &rst);
	T_EQ(t, rst.redeemed, 1);
	T_EQ(t, rst.reverted, 1);
	T_EQ(t, rst.bad, 1);
	abi_selector(sel, "protocolFeeBps()");
	bbuf_reset(&c);
	bbuf_put(&c, sel, sizeof(sel));
	fee_bps = view_u256(&w, w.a.dep.payment_hub, &c);
	for (int i = 0; i < 3; i++) {
		uint64_t gross = price[i] * chunks[i];
		struct secp_sk sk;

		chunkpay_payee_redeemed(s[i].pe, &b[i]);
		bbuf_reset(&c);
		hub_balances_call(&c, v[i].recipient);
		bal = view_u256(&w, w.a.dep.payment_hub, &c);
		T_EQ(t, bal.w[0], gross - gross * fee_bps.w[0] / 10000);
		/* the seeder can spend it: its stealth key for E */
		T_OK(t, stealth_spend_key(&sk, &s[i].spend, &s[i].view,
					  &b[i].eph[0]));
		T_OK(t, secp_sk_address(&sk, addr));
		T_MEMEQ(t, addr, v[i].recipient, 20);
		chunkpay_batch_free(&b[i]);
		T_OK(t, chunkpay_payee_batch(s[i].pe, true, &b[i]));
		T_EQ(t, b[i].n, 0);
		chunkpay_payer_free(p[i]);
		chunkpay_payee_free(s[i].pe);
	}
	bbuf_reset(&c);
	bbuf_reset(&ret);
	hub_pots_call(&c, signer);
	T_OK(t, chain_call(w.cc, NULL, w.a.dep.payment_hub, c.data, c.len,
			   &ret));
	T_OK(t, hub_pot_decode(ret.data, ret.len, &hp));
	T_EQ(t, hp.deposit.w[0], 50000 - total);
	bbuf_free(&c);
	bbuf_free(&ret);
	market_relayer_free(rl);
	worker_pool_free(wp);
	cworld_down(&w);
}

/* The lanes' saved form round-trips; a cut, a bad magic or too many
 * lanes are refused. */
static void test_saved_codec(struct tctx *t)
{
	struct chunkpay_saved in[2], *out = NULL;
	struct bbuf b = BBUF_INIT, b2 = BBUF_INIT;
	size_t n = 0;

	memset(in, 0, sizeof(in));
	for (int i = 0; i < 2; i++) {
		memset(in[i].eph.b, 0x11 + i, SECP_PK_BYTES);
		memset(in[i].signer, 0x21 + i, 20);
		memset(in[i].v.recipient, 0x31 + i, 20);
		memset(in[i].v.lane, 0x41 + i, 32);
		in[i].v.cumulative = u256_from_u64(1000 + i);
		in[i].v.expiry = NOW + i;
		memset(in[i].sig, 0x51 + i, SECP_SIG_BYTES);
		in[i].redeemed = u256_from_u64(10 + i);
	}
	chunkpay_saved_encode(in, 2, &b);
	T_EQ(t, b.len, CHUNKPAY_SAVED_HEAD_BYTES + 2 * CHUNKPAY_SAVED_BYTES);
	T_OK(t, chunkpay_saved_decode(b.data, b.len, &out, &n));
	T_EQ(t, n, 2);
	if (n == 2) {
		chunkpay_saved_encode(out, n, &b2);
		T_EQ(t, b2.len, b.len);
		T_MEMEQ(t, b2.data, b.data, b.len);
		T_EQ(t, out[1].redeemed.w[0], 11);
		T_EQ(t, out[1].v.expiry, NOW + 1);
	}
	free(out);
	T_ERR(t, chunkpay_saved_decode(b.data, b.len - 1, &out, &n),
	      ERR_TRUNCATED);
	T_ERR(t, chunkpay_saved_decode(b.data, 7, &out, &n), ERR_TRUNCATED);
	b.data[7] = 3;				/* count 3, two records */
	T_ERR(t, chunkpay_saved_decode(b.data, b.len, &out, &n),
	      ERR_TRUNCATED);
	b.data[6] = 0x10;			/* count 4099 */
	T_ERR(t, chunkpay_saved_decode(b.data, b.len, &out, &n), ERR_TOO_BIG);
	b.data[0] = 'X';
	T_ERR(t, chunkpay_saved_decode(b.data, b.len, &out, &n), ERR_FORMAT);
	bbuf_free(&b);
	bbuf_free(&b2);
}

/* A seeder at 9 a chunk (policy in pol) paid by two viewers of one pot,
 * on a lane each, every chunk of chunks[i] paid for. */
static void two_viewers(struct tctx *t, struct seeder *s,
			struct chunkpay_policy *pol, const struct secp_sk *pot,
			const uint8_t signer[20], const uint8_t sep[32],
			const struct hub_pot *hp, const uint64_t chunks[2],
			struct chunkpay_payer *p[2])
{
	uint8_t vb[CHUNKPAY_VOUCHER_BYTES];
	unsigned why[16] = { 0 };

	policy(pol, 9);
	pol->redeem_cost = u256_from_u64(1);
	seeder_init(t, s, pol, sep);
	(void)chunkpay_payee_pot_set(s->pe, signer, hp, g_now);
	for (int i = 0; i < 2; i++) {
		if (i == 1)
			T_OK(t, chunkpay_session_open(s->pe, &s->id));
		p[i] = payer_for(t, s, pot, sep);
		T_EQ(t, serve(t, s, p[i], (unsigned)chunks[i], true, why,
			      NULL), chunks[i]);
		if (chunkpay_payer_flush(p[i], g_now, vb) == 1)
			T_EQ(t, chunkpay_session_voucher(s->pe, s->id, vb,
							 sizeof(vb), g_now,
							 NULL), CHUNKPAY_OK);
	}
}

/* What the chain paid of each lane owed: redeemed(laneKey). */
static void chain_sync(struct cworld *w, struct chunkpay_payee *pe)
{
	struct chunkpay_saved *sv = NULL;
	size_t n = chunkpay_payee_saved(pe, &sv);
	uint8_t sel[ABI_SELECTOR_BYTES], key[32];
	struct bbuf c = BBUF_INIT;
	struct u256 r;

	abi_selector(sel, "redeemed(bytes32)");
	for (size_t i = 0; i < n; i++) {
		chunkpay_lane_key(sv[i].signer, sv[i].v.lane,
				  sv[i].v.recipient, key);
		bbuf_reset(&c);
		bbuf_put(&c, sel, sizeof(sel));
		bbuf_put(&c, key, 32);
		r = view_u256(w, w->a.dep.payment_hub, &c);
		chunkpay_payee_chain_redeemed(pe, sv[i].signer, sv[i].v.lane,
					      sv[i].v.recipient, &r);
	}
	free(sv);
	bbuf_free(&c);
}

/*
 * Vouchers kept across a seeder's restart: two viewers' vouchers saved
 * (0600), a new payee with the same keys loads both and redeems them
 * through a relayer, each stealth balance to the wei; saved again, the
 * file holds nothing owed.  A restart from the file written before that
 * redemption (a crash before the save) restores both, and the chain's
 * redeemed() of each lane leaves nothing to redeem (the same batch again
 * reverts on chain): never redeemed twice.  A record changed in the file,
 * another seeder's keys and an expired voucher are left out.
 */
static void test_restart(struct tctx *t)
{
	static const uint64_t chunks[2] = { 24, 17 };
	struct cworld w;
	struct chunkpay_policy pol;
	struct seeder s;
	struct chunkpay_payee *pe2 = NULL, *pe3 = NULL, *pe4 = NULL;
	struct chunkpay_payer *p[2] = { NULL, NULL };
	struct chunkpay_batch b = { 0 }, b3 = { 0 };
	struct secp_sk pot, ov;
	struct secp_pk osp;
	struct hub_pot hp;
	struct bbuf old = BBUF_INIT, c = BBUF_INIT;
	struct worker_pool *wp = NULL;
	struct market_relayer *rl = NULL;
	struct tm_node *rn;
	struct u256 fee_bps, bal;
	uint8_t sep[32], signer[20];
	uint8_t sel[ABI_SELECTOR_BYTES], *file = NULL;
	size_t restored, skipped, flen = 0;
	char *path, *oldpath;
	struct stat st;

	if (!cworld_up(&w, t))
		return;
	path = fsutil_path_join(t_tmpdir(t), MARKET_VOUCHERS_FILE);
	oldpath = fsutil_path_join(t_tmpdir(t), "old-vouchers");
	pot_up(&w, &pot, signer, sep, &hp);
	two_viewers(t, &s, &pol, &pot, signer, sep, &hp, chunks, p);
	/* saved while one session is still open */
	market_vouchers_encode(s.pe, &old);
	T_OK(t, market_vouchers_write(path, &old));
	T_OK(t, market_vouchers_write(oldpath, &old));
	T_OK(t, stat(path, &st));
	T_EQ(t, st.st_mode & 0777, 0600);
	chunkpay_payee_free(s.pe);
	s.pe = NULL;

	/* the restart: the same keys, the file loaded */
	pe2 = chunkpay_payee_new(&pol, sep, &s.view, &s.spend_pk);
	T_OK(t, market_vouchers_load(pe2, path, g_now, &restored, &skipped));
	T_EQ(t, restored, 2);
	T_EQ(t, skipped, 0);
	/* loading again adds nothing (the lanes are held) */
	T_OK(t, market_vouchers_load(pe2, path, g_now, &restored, &skipped));
	T_EQ(t, restored, 0);
	T_EQ(t, skipped, 2);
	T_OK(t, chunkpay_payee_batch(pe2, false, &b));
	T_EQ(t, b.n, 2);
	T_EQ(t, b.total.w[0], 9 * (chunks[0] + chunks[1]));
	rl = relayer_up(&w, &wp, &rn, 0);
	T_EQ(t, redeem_via(&w, rn, b.v, (const uint8_t (*)[65])b.sig, b.n),
	     MARKET_RELAY_OK);
	chunkpay_payee_redeemed(pe2, &b);
	abi_selector(sel, "protocolFeeBps()");
	bbuf_put(&c, sel, sizeof(sel));
	fee_bps = view_u256(&w, w.a.dep.payment_hub, &c);
	for (size_t i = 0; i < b.n; i++) {
		uint64_t gross = b.v[i].cumulative.w[0];

		bbuf_reset(&c);
		hub_balances_call(&c, b.v[i].recipient);
		bal = view_u256(&w, w.a.dep.payment_hub, &c);
		T_EQ(t, bal.w[0], gross - gross * fee_bps.w[0] / 10000);
	}
	/* saved again: nothing owed is left in the file */
	bbuf_reset(&c);
	market_vouchers_encode(pe2, &c);
	T_OK(t, market_vouchers_write(path, &c));
	T_EQ(t, c.len, CHUNKPAY_SAVED_HEAD_BYTES);
	chunkpay_batch_free(&b);
	T_OK(t, chunkpay_payee_batch(pe2, true, &b));
	T_EQ(t, b.n, 0);

	/* a crash before that save: the old file again, the chain asked */
	pe3 = chunkpay_payee_new(&pol, sep, &s.view, &s.spend_pk);
	T_OK(t, market_vouchers_load(pe3, oldpath, g_now, &restored,
				     &skipped));
	T_EQ(t, restored, 2);
	T_OK(t, chunkpay_payee_batch(pe3, true, &b3));
	T_EQ(t, b3.n, 2);
	T_EQ(t, redeem_via(&w, rn, b3.v, (const uint8_t (*)[65])b3.sig,
			   b3.n), MARKET_RELAY_REVERTED);
	chain_sync(&w, pe3);
	chunkpay_batch_free(&b3);
	T_OK(t, chunkpay_payee_batch(pe3, true, &b3));
	T_EQ(t, b3.n, 0);

	/* another seeder's keys, a changed record, an expired voucher */
	secp_sk_generate(&ov);
	T_OK(t, secp_sk_pubkey(&s.spend, &osp));
	pe4 = chunkpay_payee_new(&pol, sep, &ov, &osp);
	T_OK(t, market_vouchers_load(pe4, oldpath, g_now, &restored,
				     &skipped));
	T_EQ(t, restored, 0);
	T_EQ(t, skipped, 2);
	chunkpay_payee_free(pe4);
	pe4 = chunkpay_payee_new(&pol, sep, &s.view, &s.spend_pk);
	T_OK(t, fsutil_read_file(oldpath, 1 << 20, &file, &flen));
	/* the first record's cumulative, last byte */
	file[CHUNKPAY_SAVED_HEAD_BYTES + SECP_PK_BYTES + 40 + 32 + 31] ^= 1;
	T_OK(t, fsutil_write_atomic(oldpath, file, flen, 0600, true));
	T_OK(t, market_vouchers_load(pe4, oldpath, g_now, &restored,
				     &skipped));
	T_EQ(t, restored, 1);
	T_EQ(t, skipped, 1);
	chunkpay_payee_free(pe4);
	pe4 = chunkpay_payee_new(&pol, sep, &s.view, &s.spend_pk);
	T_OK(t, market_vouchers_write(oldpath, &old));
	T_OK(t, market_vouchers_load(pe4, oldpath, g_now + 3600, &restored,
				     &skipped));
	T_EQ(t, restored, 0);
	T_EQ(t, skipped, 2);

	xfree_wipe(file, flen);
	chunkpay_batch_free(&b);
	chunkpay_batch_free(&b3);
	chunkpay_payee_free(pe2);
	chunkpay_payee_free(pe3);
	chunkpay_payee_free(pe4);
	chunkpay_payer_free(p[0]);
	chunkpay_payer_free(p[1]);
	bbuf_free(&old);
	bbuf_free(&c);
	free(path);
	free(oldpath);
	market_relayer_free(rl);
	worker_pool_free(wp);
	cworld_down(&w);
}

/* Hand the batch with its fee to the relayer destination rn; its status. */
static int redeem_fee_via(struct cworld *w, struct tm_node *rn,
			  const struct chunkpay_batch *b,
			  const struct eip712_redeem_fee *f,
			  const uint8_t fee_sig[SECP_SIG_BYTES])
{
	struct redeemed r = { 0 };

	T_OK(w->t, market_redeem_fee_send(w->cl->mgr, w->tm.el, tm_pub(rn),
					  b->v, (const uint8_t (*)[65])b->sig,
					  b->n, f, fee_sig, TM_TIMEOUT_MS,
					  redeem_done, &r));
	T_TRUE(w->t, tm_run(&w->tm, redeem_cond, &r));
	T_OK(w->t, r.err);
	return r.status;
}

/*
 * A relayer fee for redemptions (PaymentHub.redeemVouchersFor): a relayer
 * asking at least 50 refuses a batch with no fee or a fee of 10, and a
 * fee signed for another batch, before any gas; a fee above what the
 * payee will hold reverts in the estimate; a fee of 60 signed by the
 * first lane's stealth key is paid: its balance is its voucher less the
 * protocol fee and 60, the other's untouched, the relayer's hub balance
 * 60, to the wei.  The wire round-trips.
 */
static void test_redeem_fee(struct tctx *t)
{
	static const uint64_t chunks[2] = { 20, 12 };
	struct cworld w;
	struct chunkpay_policy pol;
	struct seeder s;
	struct chunkpay_payer *p[2] = { NULL, NULL };
	struct chunkpay_batch b = { 0 };
	struct eip712_redeem_fee f, f2;
	struct eip712_voucher dv[MARKET_REDEEM_MAX];
	uint8_t dsig[MARKET_REDEEM_MAX][SECP_SIG_BYTES];
	struct secp_sk pot, psk, rk;
	struct hub_pot hp;
	struct bbuf c = BBUF_INIT, wire = BBUF_INIT, wire2 = BBUF_INIT;
	struct worker_pool *wp = NULL;
	struct market_relayer *rl = NULL;
	struct market_relayer_stats rst;
	struct tm_node *rn;
	struct u256 fee_bps, bal, zero = u256_from_u64(0);
	struct u256 fee = u256_from_u64(60), low = u256_from_u64(10);
	struct u256 big = u256_from_u64(1000000);
	uint8_t sep[32], signer[20], rk_a[20];
	uint8_t fsig[SECP_SIG_BYTES], fsig2[SECP_SIG_BYTES];
	uint8_t sel[ABI_SELECTOR_BYTES];
	uint64_t dl;
	size_t n = 0;

	if (!cworld_up(&w, t))
		return;
	pot_up(&w, &pot, signer, sep, &hp);
	two_viewers(t, &s, &pol, &pot, signer, sep, &hp, chunks, p);
	T_OK(t, chunkpay_payee_batch(s.pe, true, &b));
	T_EQ(t, b.n, 2);
	if (b.n != 2)
		goto out;
	/* the first lane's stealth key pays the fee */
	T_OK(t, stealth_spend_key(&psk, &s.spend, &s.view, &b.eph[0]));
	dl = g_now + 600;
	T_OK(t, market_redeem_fee_sign(sep, b.v, b.n, &psk, &fee, &zero, dl,
				       &f, fsig));
	T_MEMEQ(t, f.payee, b.v[0].recipient, 20);
	T_OK(t, market_redeem_fee_encode(b.v, (const uint8_t (*)[65])b.sig,
					 b.n, &f, fsig, &wire));
	T_EQ(t, wire.len, 2 + 2 * MARKET_VOUCHER_WIRE_BYTES +
	     MARKET_REDEEM_FEE_PART_BYTES);
	T_OK(t, market_redeem_fee_decode(wire.data, wire.len, dv, dsig, &n,
					 &f2, fsig2));
	T_EQ(t, n, 2);
	T_OK(t, market_redeem_fee_encode(dv, (const uint8_t (*)[65])dsig, n,
					 &f2, fsig2, &wire2));
	T_EQ(t, wire2.len, wire.len);
	T_MEMEQ(t, wire2.data, wire.data, wire.len);
	T_ERR(t, market_redeem_fee_decode(wire.data, wire.len - 1, dv, dsig,
					  &n, &f2, fsig2), ERR_TRUNCATED);

	rl = relayer_up(&w, &wp, &rn, 50);
	tm_anvil_key(5, &rk);
	T_OK(t, secp_sk_address(&rk, rk_a));
	/* no fee, too low a fee, a fee for another batch: no gas spent */
	T_EQ(t, redeem_via(&w, rn, b.v, (const uint8_t (*)[65])b.sig, b.n),
	     MARKET_RELAY_FEE_LOW);
	T_OK(t, market_redeem_fee_sign(sep, b.v, b.n, &psk, &low, &zero, dl,
				       &f2, fsig2));
	T_EQ(t, redeem_fee_via(&w, rn, &b, &f2, fsig2), MARKET_RELAY_FEE_LOW);
	T_OK(t, market_redeem_fee_sign(sep, b.v, 1, &psk, &fee, &zero, dl,
				       &f2, fsig2));
	T_EQ(t, redeem_fee_via(&w, rn, &b, &f2, fsig2),
	     MARKET_RELAY_BAD_REQUEST);
	/* more than the payee will hold: the estimate reverts */
	T_OK(t, market_redeem_fee_sign(sep, b.v, b.n, &psk, &big, &zero, dl,
				       &f2, fsig2));
	T_EQ(t, redeem_fee_via(&w, rn, &b, &f2, fsig2), MARKET_RELAY_REVERTED);
	/* paid */
	T_EQ(t, redeem_fee_via(&w, rn, &b, &f, fsig), MARKET_RELAY_OK);
	abi_selector(sel, "protocolFeeBps()");
	bbuf_put(&c, sel, sizeof(sel));
	fee_bps = view_u256(&w, w.a.dep.payment_hub, &c);
	for (size_t i = 0; i < 2; i++) {
		uint64_t gross = 9 * chunks[i];

		bbuf_reset(&c);
		hub_balances_call(&c, b.v[i].recipient);
		bal = view_u256(&w, w.a.dep.payment_hub, &c);
		T_EQ(t, bal.w[0], gross - gross * fee_bps.w[0] / 10000 -
		     (i == 0 ? 60 : 0));
	}
	bbuf_reset(&c);
	hub_balances_call(&c, rk_a);
	bal = view_u256(&w, w.a.dep.payment_hub, &c);
	T_EQ(t, bal.w[0], 60);
	market_relayer_stats(rl, &rst);
	T_EQ(t, rst.redeemed, 1);
	T_EQ(t, rst.redeem_fees, 1);
	T_EQ(t, rst.fee_low, 2);
	T_EQ(t, rst.bad, 1);
	T_EQ(t, rst.reverted, 1);
out:
	chunkpay_batch_free(&b);
	chunkpay_payee_free(s.pe);
	chunkpay_payer_free(p[0]);
	chunkpay_payer_free(p[1]);
	bbuf_free(&c);
	bbuf_free(&wire);
	bbuf_free(&wire2);
	market_relayer_free(rl);
	worker_pool_free(wp);
	cworld_down(&w);
}

const struct test_case market_chunkpay_tests[] = {
	{ "codec", test_codec, 0 },
	{ "policy", test_policy, 0 },
	{ "batch_due", test_batch_due, 0 },
	{ "redeem_codec", test_redeem_codec, 0 },
	{ "redeem", test_redeem, TT_FORK },
	{ "saved_codec", test_saved_codec, 0 },
	{ "restart", test_restart, TT_FORK },
	{ "redeem_fee", test_redeem_fee, TT_FORK },
	{ NULL, NULL, 0 }
};
