/*
 * apps/market key agent (CHAIN.md §5 step 3) against anvil, every chain
 * call through a gateway over localnet: the request codec; a holder's key
 * released only once the purchase is a few blocks deep and unwrapped to K
 * with the commitment checked; an agent that lies caught by the
 * commitment; a non-holder, a stale or far deadline, a bad frame and an
 * unknown content refused; a resold licence gives the old holder nothing
 * and the new one its key.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/market/buy.h"
#include "apps/market/gateway.h"
#include "apps/market/history.h"
#include "apps/market/keyagent.h"
#include "apps/market/library.h"
#include "apps/market/relayer.h"
#include "apps/market/resale.h"
#include "apps/market/rpc.h"
#include "apps/market/service.h"
#include "apps/market/upstream_http.h"
#include "apps/market/wallet.h"
#include "chain/abi.h"
#include "chain/calls.h"
#include "chain/rpc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"
#include "router/evloop.h"
#include "router/worker.h"
#include "tests/unit/market/tmarket.h"

static void test_codec(struct tctx *t)
{
	struct market_key_request r, d;
	struct secp_sk h, e;
	struct secp_pk pk;
	uint8_t kr_addr[20] = { 1, 2, 3 }, buf[MARKET_KEY_REQUEST_BYTES];
	uint8_t id[32], who[20], haddr[20], w[32];
	int status;

	memset(&r, 0, sizeof(r));
	secp_sk_generate(&h);
	secp_sk_generate(&e);
	T_OK(t, secp_sk_pubkey(&e, &pk));
	r.kr.token_id = u256_from_u64(77);
	memcpy(r.kr.eph_pub, pk.b, SECP_PK_BYTES);
	r.kr.deadline = 1234567;
	T_OK(t, market_key_request_sign(31337, kr_addr, &r.kr, &h, &r));
	market_key_request_encode(&r, buf);
	T_OK(t, market_key_request_decode(buf, sizeof(buf), &d));
	T_EQ(t, u256_cmp(&d.kr.token_id, &r.kr.token_id), 0);
	T_EQ(t, d.kr.deadline, 1234567);
	T_MEMEQ(t, d.sig, r.sig, SECP_SIG_BYTES);
	/* the signer is the holder under this domain only */
	market_key_request_id(31337, kr_addr, &d.kr, id);
	T_OK(t, secp_recover(id, d.sig, who));
	T_OK(t, secp_sk_address(&h, haddr));
	T_MEMEQ(t, who, haddr, 20);
	market_key_request_id(1, kr_addr, &d.kr, id);
	T_OK(t, secp_recover(id, d.sig, who));
	T_TRUE(t, memcmp(who, haddr, 20) != 0);
	T_ERR(t, market_key_request_decode(buf, sizeof(buf) - 1, &d),
	      ERR_TRUNCATED);
	buf[32] = 4;			/* E not compressed */
	T_ERR(t, market_key_request_decode(buf, sizeof(buf), &d), ERR_FORMAT);
	buf[32] = 2;
	memset(buf + 33, 0xff, 32);	/* x beyond the field */
	T_ERR(t, market_key_request_decode(buf, sizeof(buf), &d), ERR_FORMAT);
	T_OK(t, market_key_reply_decode((const uint8_t[]){ 3 }, 1, &status, w));
	T_EQ(t, status, MARKET_KEY_NOT_HOLDER);
	T_ERR(t, market_key_reply_decode((const uint8_t[]){ 0 }, 1, &status,
					 w), ERR_FORMAT);
	T_ERR(t, market_key_reply_decode((const uint8_t[]){ 99 }, 1, &status,
					 w), ERR_FORMAT);
}

struct raw_reply {
	bool done;
	int err;
	uint8_t b[64];
	size_t len;
};

static void raw_reply_fn(void *arg, int err, const uint8_t *p, size_t len)
{
	struct raw_reply *rr = arg;

	rr->done = true;
	rr->err = err;
	rr->len = len < sizeof(rr->b) ? len : sizeof(rr->b);
	if (p)
		memcpy(rr->b, p, rr->len);
}

static bool raw_reply_cond(void *arg)
{
	return ((struct raw_reply *)arg)->done;
}

/* Each peer destination has its bucket: past it the agent answers BUSY
 * without decoding or asking the chain; another peer is served. */
static void test_rate_limit(struct tctx *t)
{
	struct tm_net tm;
	struct market_agent_config c;
	struct market_rpc_config rc;
	struct market_rpc *mr;
	struct market_agent *ag;
	struct market_agent_stats st;
	struct secp_sk a;
	struct tm_node *an, *c1, *c2;
	static const uint8_t junk[3] = { 1, 2, 3 }, k[32] = { 7 };
	int want[3] = { MARKET_KEY_BAD_REQUEST, MARKET_KEY_BAD_REQUEST,
			MARKET_KEY_BUSY };

	tm_init(&tm, t);
	an = tm_node(&tm);
	c1 = tm_node(&tm);
	c2 = tm_node(&tm);
	market_rpc_config_default(&rc);
	mr = market_rpc_new(&rc, an->mgr, tm.el);	/* no gateway */
	market_agent_config_default(&c);
	c.rate_per_sec = 0;
	c.rate_burst = 2;
	secp_sk_generate(&a);
	ag = market_agent_new(&c, &a, mr, tm.el);
	T_OK(t, market_agent_add_content(ag, 1, k));
	market_agent_serve(ag, an->mgr);
	for (unsigned i = 0; i < 4; i++) {
		struct raw_reply rr = { 0 };
		struct tm_node *from = i < 3 ? c1 : c2;
		T_OK(t, market_call(from->mgr, tm.el, tm_pub(an), junk,
				    sizeof(junk), 64, TM_TIMEOUT_MS,
				    raw_reply_fn, &rr));
		T_TRUE(t, tm_run(&tm, raw_reply_cond, &rr));
		T_OK(t, rr.err);
		T_EQ(t, rr.len, 1);
		T_EQ(t, rr.b[0], i < 3 ? want[i] : MARKET_KEY_BAD_REQUEST);
	}
	market_agent_stats(ag, &st);
	T_EQ(t, st.busy, 1);
	T_EQ(t, st.bad, 3);
	market_agent_free(ag);
	market_rpc_free(mr);
	tm_free(&tm);
}

/* ------------------------------------------------------- the anvil world */

struct world {
	struct tctx *t;
	struct tm_anvil a;
	struct tm_net tm;
	struct market_http *up;
	struct market_gw *gw;
	struct tm_node *gwn, *buyer, *agent_n, *liar_n;
	struct market_rpc *buyer_rpc, *agent_rpc;
	struct chain_client *cc;
	struct market_agent *agent, *liar;
	struct secp_sk ak;		/* the agent's key */
	struct secp_pk A;
	uint8_t content_hash[32], K[32], commitment[32];
	struct u256 index;
};

static bool send(struct world *w, unsigned key, const uint8_t to[20],
		 const struct bbuf *b, const struct u256 *value,
		 struct chain_receipt *rc)
{
	struct secp_sk sk;
	struct chain_receipt tmp = { 0 };
	int r;

	tm_anvil_key(key, &sk);
	r = chain_send(w->cc, &sk, to, b ? b->data : NULL, b ? b->len : 0,
		       value, rc ? rc : &tmp);
	if (r != 0)
		t_fail(w->t, __FILE__, __LINE__, "tx: %s",
		       chain_client_error(w->cc));
	chain_receipt_clear(&tmp);
	return r == 0;
}

static bool send_sk(struct world *w, const struct secp_sk *sk,
		    const uint8_t to[20], const struct bbuf *b)
{
	struct chain_receipt rc = { 0 };
	int r = chain_send(w->cc, sk, to, b->data, b->len, NULL, &rc);
	bool ok;

	if (r != 0 || !rc.status)
		t_fail(w->t, __FILE__, __LINE__, "tx (status %d): %s",
		       rc.status, chain_client_error(w->cc));
	ok = r == 0 && rc.status;
	chain_receipt_clear(&rc);
	return ok;
}

/* Mine n blocks (a transfer each). */
static void mine(struct world *w, unsigned n)
{
	uint8_t to[20] = { 0x99 };
	struct u256 one = u256_from_u64(1);

	for (unsigned i = 0; i < n; i++)
		T_TRUE(w->t, send(w, 9, to, NULL, &one, NULL));
}

static void addr_of(unsigned key, uint8_t addr[20])
{
	struct secp_sk sk;

	tm_anvil_key(key, &sk);
	(void)secp_sk_address(&sk, addr);
}

/* Buy the content for holder (buyer account 3 pays); its token id. */
static bool buy(struct world *w, const uint8_t holder[20], struct u256 *tid)
{
	struct chain_receipt rc = { 0 };
	struct bbuf b = BBUF_INIT;
	struct u256 max = u256_from_u64(1000), price;
	bool ok = false;

	license_buy_call(&b, &w->index, holder, &max);
	if (send(w, 3, w->a.dep.license_registry, &b, NULL, &rc))
		for (size_t i = 0; i < rc.nlogs; i++)
			if (ev_license_purchased_decode(&rc.logs[i], tid,
							&price) == 0)
				ok = true;
	T_TRUE(w->t, ok);
	chain_receipt_clear(&rc);
	bbuf_free(&b);
	return ok;
}

static struct market_agent *agent_on(struct world *w, struct tm_node *nd,
				     const uint8_t key[32])
{
	struct market_agent_config c;
	struct market_agent *ag;

	market_agent_config_default(&c);
	c.chain_id = 31337;
	memcpy(c.key_release, w->a.dep.key_release, 20);
	memcpy(c.license_registry, w->a.dep.license_registry, 20);
	c.rate_per_sec = 1000;		/* one client asks many times */
	c.rate_burst = 1000;
	ag = market_agent_new(&c, &w->ak, w->agent_rpc, w->tm.el);
	T_OK(w->t, market_agent_add_content(ag, w->index.w[0], key));
	market_agent_serve(ag, nd->mgr);
	return ag;
}

static bool world_up(struct world *w, struct tctx *t)
{
	struct market_gw_config gc;
	struct market_rpc_config rc;
	struct chain_transport tr;
	struct license_publish p;
	struct chain_receipt rcpt = { 0 };
	struct ev_content_published ev;
	struct bbuf b = BBUF_INIT;
	struct u256 amount = u256_from_u64(100000);
	uint8_t buyer[20];
	bool ok = false;

	memset(w, 0, sizeof(*w));
	w->t = t;
	if (!tm_anvil_start(t, &w->a, true))
		return false;
	tm_init(&w->tm, t);
	market_gw_config_default(&gc);
	gc.rate_per_sec = 1000;		/* the test sends many calls */
	gc.rate_burst = 1000;
	w->gwn = tm_node(&w->tm);
	w->buyer = tm_node(&w->tm);
	w->agent_n = tm_node(&w->tm);
	w->liar_n = tm_node(&w->tm);
	T_OK(t, market_http_new(w->tm.el, w->a.url, 0, &w->up));
	w->gw = market_gw_new(&gc, market_http_upstream(w->up), w->tm.el);
	market_gw_serve(w->gw, w->gwn->mgr);
	market_rpc_config_default(&rc);
	w->buyer_rpc = market_rpc_new(&rc, w->buyer->mgr, w->tm.el);
	w->agent_rpc = market_rpc_new(&rc, w->agent_n->mgr, w->tm.el);
	T_OK(t, market_rpc_add_gateway(w->buyer_rpc, tm_pub(w->gwn)));
	T_OK(t, market_rpc_add_gateway(w->agent_rpc, tm_pub(w->gwn)));
	tr = market_rpc_transport(w->buyer_rpc);
	w->cc = chain_client_new(&tr, 31337);

	/* the creator (account 2) publishes with our agent's address */
	secp_sk_generate(&w->ak);
	T_OK(t, secp_sk_pubkey(&w->ak, &w->A));
	rand_bytes(w->content_hash, 32);
	rand_bytes(w->K, 32);
	license_key_commitment(w->K, w->content_hash, w->commitment);
	memset(&p, 0, sizeof(p));
	memcpy(p.content_hash, w->content_hash, 32);
	p.price = u256_from_u64(1000);
	p.royalty_bps = 500;
	T_OK(t, secp_pk_address(&w->A, p.key_agent));
	memcpy(p.key_commitment, w->commitment, 32);
	T_OK(t, license_publish_call(&b, &p));
	if (!send(w, 2, w->a.dep.license_registry, &b, NULL, &rcpt))
		goto out;
	for (size_t i = 0; i < rcpt.nlogs; i++)
		if (ev_content_published_decode(&rcpt.logs[i], &ev) == 0)
			w->index = ev.index;
	T_TRUE(t, u256_fits_u64(&w->index) && w->index.w[0] > 0);
	/* the buyer (account 3) gets tokens and approves the registry */
	addr_of(3, buyer);
	bbuf_reset(&b);
	erc20_mint(&b, buyer, &amount);
	if (!send(w, 9, w->a.dep.token, &b, NULL, NULL))
		goto out;
	bbuf_reset(&b);
	erc20_approve(&b, w->a.dep.license_registry, &amount);
	if (!send(w, 3, w->a.dep.token, &b, NULL, NULL))
		goto out;
	w->agent = agent_on(w, w->agent_n, w->K);
	ok = true;
out:
	chain_receipt_clear(&rcpt);
	bbuf_free(&b);
	return ok;
}

static void world_down(struct world *w)
{
	if (w->cc) {
		market_agent_free(w->agent);
		market_agent_free(w->liar);
		chain_client_free(w->cc);
		market_rpc_free(w->buyer_rpc);
		market_rpc_free(w->agent_rpc);
		market_gw_free(w->gw);
		market_http_free(w->up);
		tm_free(&w->tm);
	}
	tm_anvil_stop(&w->a);
}

/* --------------------------------------------------------- key requests */

struct fetch {
	bool done;
	int err, status;
	uint8_t w[32];
};

static void fetch_done(void *arg, int err, int status, const uint8_t w[32])
{
	struct fetch *f = arg;

	f->done = true;
	f->err = err;
	f->status = status;
	if (w)
		memcpy(f->w, w, 32);
}

static bool fetch_cond(void *arg)
{
	return ((struct fetch *)arg)->done;
}

/*
 * Ask the agent on nd for tid's key as holder h, deadline `ahead` seconds
 * after chain time; *key gets K when it unwraps and matches the
 * commitment (ret 0), ERR_AUTH when it does not.  Returns the agent's
 * status through *status.
 */
static int ask(struct world *w, struct tm_node *nd, const struct u256 *tid,
	       const struct secp_sk *h, int64_t ahead, int *status,
	       uint8_t key[32])
{
	struct market_key_request r;
	struct secp_sk e;
	struct secp_pk E;
	struct fetch f = { 0 };
	uint8_t id[32];
	uint64_t now = 0;

	T_OK(w->t, chain_block_timestamp(w->cc, &now));
	secp_sk_generate(&e);		/* single-use E */
	T_OK(w->t, secp_sk_pubkey(&e, &E));
	memset(&r, 0, sizeof(r));
	r.kr.token_id = *tid;
	memcpy(r.kr.eph_pub, E.b, SECP_PK_BYTES);
	r.kr.deadline = (uint64_t)((int64_t)now + ahead);
	T_OK(w->t, market_key_request_sign(31337, w->a.dep.key_release,
					   &r.kr, h, &r));
	T_OK(w->t, market_key_fetch(w->buyer->mgr, w->tm.el, tm_pub(nd), &r,
				    TM_TIMEOUT_MS, fetch_done, &f));
	T_TRUE(w->t, tm_run(&w->tm, fetch_cond, &f));
	T_OK(w->t, f.err);
	*status = f.status;
	if (f.err || f.status != MARKET_KEY_OK)
		return ERR_NOT_FOUND;
	market_key_request_id(31337, w->a.dep.key_release, &r.kr, id);
	return market_key_unwrap(f.w, &e, &w->A, id, w->content_hash,
				 w->commitment, key);
}

static void test_release(struct tctx *t)
{
	struct world w;
	struct secp_sk h, h2, other;
	struct u256 tid, bad_tid;
	struct market_agent_stats st;
	uint8_t holder[20], holder2[20], key[32], wrongK[32];
	int status = -1;

	if (!world_up(&w, t))
		goto out;
	/* a fresh holder address with no ETH */
	secp_sk_generate(&h);
	T_OK(t, secp_sk_address(&h, holder));
	if (!buy(&w, holder, &tid))
		goto out;

	/* just bought: not yet MARKET_KEY_CONFIRMATIONS deep */
	T_ERR(t, ask(&w, w.agent_n, &tid, &h, 600, &status, key),
	      ERR_NOT_FOUND);
	T_EQ(t, status, MARKET_KEY_NOT_HOLDER);
	mine(&w, MARKET_KEY_CONFIRMATIONS);
	memset(key, 0, sizeof(key));
	T_OK(t, ask(&w, w.agent_n, &tid, &h, 600, &status, key));
	T_EQ(t, status, MARKET_KEY_OK);
	T_MEMEQ(t, key, w.K, 32);

	/* an agent that hands out another key fails the commitment */
	memcpy(wrongK, w.K, 32);
	wrongK[5] ^= 1;
	w.liar = agent_on(&w, w.liar_n, wrongK);
	T_ERR(t, ask(&w, w.liar_n, &tid, &h, 600, &status, key), ERR_AUTH);
	T_EQ(t, status, MARKET_KEY_OK);

	/* not the holder; deadlines passed or too far ahead */
	secp_sk_generate(&other);
	T_ERR(t, ask(&w, w.agent_n, &tid, &other, 600, &status, key),
	      ERR_NOT_FOUND);
	T_EQ(t, status, MARKET_KEY_NOT_HOLDER);
	T_ERR(t, ask(&w, w.agent_n, &tid, &h, -1, &status, key),
	      ERR_NOT_FOUND);
	T_EQ(t, status, MARKET_KEY_EXPIRED);
	T_ERR(t, ask(&w, w.agent_n, &tid, &h, MARKET_KEY_MAX_DEADLINE_S + 60,
		     &status, key), ERR_NOT_FOUND);
	T_EQ(t, status, MARKET_KEY_EXPIRED);
	/* a token of content this agent has no key for */
	bad_tid = u256_from_u64(5);
	T_ERR(t, ask(&w, w.agent_n, &bad_tid, &h, 600, &status, key),
	      ERR_NOT_FOUND);
	T_EQ(t, status, MARKET_KEY_UNKNOWN);

	/* resale: the holder (given gas) transfers the licence */
	{
		struct bbuf b = BBUF_INIT;
		struct abi_enc e;
		struct u256 gas = u256_from_u64(100000000000000000ull);
		uint8_t sel[4];

		T_TRUE(t, send(&w, 9, holder, NULL, &gas, NULL));
		secp_sk_generate(&h2);
		T_OK(t, secp_sk_address(&h2, holder2));
		abi_selector(sel, "transferFrom(address,address,uint256)");
		bbuf_put(&b, sel, 4);
		abi_enc_init(&e, 3);
		abi_enc_address(&e, holder);
		abi_enc_address(&e, holder2);
		abi_enc_u256(&e, &tid);
		T_OK(t, abi_enc_finish(&e, &b));
		T_TRUE(t, send_sk(&w, &h, w.a.dep.license_registry, &b));
		bbuf_free(&b);
	}
	/* the old holder gets nothing at once, though it still owned the
	 * token a few blocks back */
	T_ERR(t, ask(&w, w.agent_n, &tid, &h, 600, &status, key),
	      ERR_NOT_FOUND);
	T_EQ(t, status, MARKET_KEY_NOT_HOLDER);
	T_ERR(t, ask(&w, w.agent_n, &tid, &h2, 600, &status, key),
	      ERR_NOT_FOUND);
	T_EQ(t, status, MARKET_KEY_NOT_HOLDER);	/* not deep yet */
	mine(&w, MARKET_KEY_CONFIRMATIONS);
	memset(key, 0, sizeof(key));
	T_OK(t, ask(&w, w.agent_n, &tid, &h2, 600, &status, key));
	T_MEMEQ(t, key, w.K, 32);
	T_ERR(t, ask(&w, w.agent_n, &tid, &h, 600, &status, key),
	      ERR_NOT_FOUND);
	T_EQ(t, status, MARKET_KEY_NOT_HOLDER);

	market_agent_stats(w.agent, &st);
	T_EQ(t, st.released, 2);
	T_EQ(t, st.not_holder, 5);
	T_EQ(t, st.expired, 2);
	T_EQ(t, st.unknown, 1);
out:
	world_down(&w);
}

static void token_balance(struct world *w, const uint8_t who[20],
			  struct u256 *out)
{
	struct bbuf b = BBUF_INIT;

	erc20_balance_of(&b, who);
	T_OK(w->t, chain_call_u256(w->cc, w->a.dep.token, b.data, b.len, out));
	bbuf_free(&b);
}

/* A fresh payer with 10000 tokens and no ETH, and a fresh holder. */
static void payer_setup(struct world *w, struct secp_sk *payer,
			uint8_t payer_a[20], struct secp_sk *h,
			uint8_t holder[20])
{
	struct u256 minted = u256_from_u64(10000);
	struct bbuf b = BBUF_INIT;

	secp_sk_generate(payer);
	secp_sk_generate(h);
	T_OK(w->t, secp_sk_address(payer, payer_a));
	T_OK(w->t, secp_sk_address(h, holder));
	erc20_mint(&b, payer_a, &minted);
	T_TRUE(w->t, send(w, 9, w->a.dep.token, &b, NULL, NULL));
	bbuf_free(&b);
}

/* ownerOf(tid) is holder. */
static void check_owner(struct world *w, const struct u256 *tid,
			const uint8_t holder[20])
{
	struct bbuf b = BBUF_INIT, ret = BBUF_INIT;

	license_owner_of_call(&b, tid);
	T_OK(w->t, chain_call(w->cc, NULL, w->a.dep.license_registry, b.data,
			      b.len, &ret));
	T_EQ(w->t, ret.len, 32);
	if (ret.len == 32)
		T_MEMEQ(w->t, ret.data + 12, holder, 20);
	bbuf_free(&b);
	bbuf_free(&ret);
}

static const char *jstr(json_t *o, const char *path0, size_t i,
			const char *key)
{
	return json_string_value(json_object_get(
		json_array_get(json_object_get(o, path0), i), key));
}

/* The wallet view after one sale at 1000 (protocol fee 2 %): the
 * creator (account 2) is owed 980, the payer spent 1050 and has no ETH. */
/* A transport that counts the calls made through it. */
struct counted {
	struct chain_transport in;
	unsigned calls;
};

static int counted_exchange(void *ctx, const char *req, size_t req_len,
			    size_t max_reply, struct bbuf *reply,
			    const char **why)
{
	struct counted *c = ctx;

	c->calls++;
	return c->in.exchange(c->in.ctx, req, req_len, max_reply, reply, why);
}

static void counted_wait(void *ctx, unsigned ms)
{
	struct counted *c = ctx;

	if (c->in.wait_ms)
		c->in.wait_ms(c->in.ctx, ms);
}

/* The payer's account is asked about through a client of its own (the
 * agent's destination here), the rest through w->cc. */
static void wallet_view(struct world *w, const uint8_t payer_a[20])
{
	uint8_t accts[2][20], st[1][20] = { { 0x5e } }, pot[1][20] = {
		{ 0x9a } };
	struct counted own = { market_rpc_transport(w->agent_rpc), 0 };
	struct chain_transport tr = { counted_exchange, counted_wait, &own };
	struct chain_client *payer_cc = chain_client_new(&tr, 31337);
	struct chain_client *acc_cc[2] = { w->cc, payer_cc };
	struct market_wallet_query q = { accts, 2, st, 1, pot, 1,
					 acc_cc, NULL, NULL };
	json_t *o = NULL, *e;

	addr_of(2, accts[0]);
	memcpy(accts[1], payer_a, 20);
	T_OK(w->t, market_wallet_json(w->cc, &w->a.dep, &q, &o));
	T_TRUE(w->t, own.calls >= 3);	/* ETH, token, owed */
	chain_client_free(payer_cc);
	if (!o)
		return;
	e = json_object_get(o, "earnings");
	T_STREQ(w->t, jstr(e, "licences", 0, "owed"), "980");
	T_STREQ(w->t, jstr(e, "licences", 1, "owed"), "0");
	T_STREQ(w->t, jstr(e, "stealth", 0, "balance"), "0");
	T_STREQ(w->t, json_string_value(json_object_get(e, "total")), "980");
	T_STREQ(w->t, jstr(o, "accounts", 1, "token"), "8950");
	T_STREQ(w->t, jstr(o, "accounts", 1, "eth"), "0");
	T_STREQ(w->t, jstr(o, "pots", 0, "deposit"), "0");
	json_decref(o);
}

/*
 * The viewer's flow: a payer address with tokens and no ETH signs a
 * Purchase and a permit, a relayer submits buyFor and takes its fee, the
 * licence goes to a fresh holder address with no ETH, whose key request
 * then gets K.
 */
static void test_relayed(struct tctx *t)
{
	struct world w;
	struct secp_sk payer, h, relayer;
	struct market_purchase mp;
	struct u256 fee = u256_from_u64(50);
	struct u256 tid, bal, rel0, rel1, eth, want;
	uint8_t payer_a[20], holder[20], relayer_a[20], key[32];
	int status = -1;

	if (!world_up(&w, t))
		goto out;
	payer_setup(&w, &payer, payer_a, &h, holder);
	tm_anvil_key(4, &relayer);
	T_OK(t, secp_sk_address(&relayer, relayer_a));
	token_balance(&w, relayer_a, &rel0);

	T_OK(t, market_purchase_sign(w.cc, &w.a.dep, &payer, &w.index,
				     holder, &fee, 600, &mp));
	T_OK(t, market_purchase_relay(w.cc, &w.a.dep, &relayer, &mp, &tid));
	check_owner(&w, &tid, holder);		/* the licence is the holder's */
	/* price and fee from the payer's tokens, the fee to the relayer */
	token_balance(&w, payer_a, &bal);
	want = u256_from_u64(10000 - 1000 - 50);
	T_EQ(t, u256_cmp(&bal, &want), 0);
	token_balance(&w, relayer_a, &rel1);
	T_OK(t, u256_add(&rel0, &rel0, &fee));
	T_EQ(t, u256_cmp(&rel1, &rel0), 0);
	/* neither the payer nor the holder ever had ETH */
	T_OK(t, chain_get_balance(w.cc, payer_a, &eth));
	T_TRUE(t, u256_is_zero(&eth));
	T_OK(t, chain_get_balance(w.cc, holder, &eth));
	T_TRUE(t, u256_is_zero(&eth));
	/* the signed purchase is good once */
	T_ERR(t, market_purchase_relay(w.cc, &w.a.dep, &relayer, &mp, &tid),
	      ERR_BAD_STATE);
	/* and the holder gets the key */
	mine(&w, MARKET_KEY_CONFIRMATIONS);
	T_OK(t, ask(&w, w.agent_n, &tid, &h, 600, &status, key));
	T_MEMEQ(t, key, w.K, 32);
	wallet_view(&w, payer_a);
out:
	world_down(&w);
}

static void owed(struct world *w, const uint8_t who[20], uint64_t want)
{
	struct bbuf b = BBUF_INIT;
	struct u256 v, wv = u256_from_u64(want);

	license_owed_call(&b, who);
	T_OK(w->t, chain_call_u256(w->cc, w->a.dep.license_registry, b.data,
				   b.len, &v));
	T_EQ(w->t, u256_cmp(&v, &wv), 0);
	bbuf_free(&b);
}

/* Account 6, given tokens, buys listed licence tid at price for holder2. */
static void buy_listed(struct world *w, const struct u256 *tid,
		       const uint8_t holder2[20], const struct u256 *price)
{
	struct bbuf b = BBUF_INIT;
	struct u256 minted = u256_from_u64(5000);
	uint8_t buyer2[20];

	addr_of(6, buyer2);
	erc20_mint(&b, buyer2, &minted);
	T_TRUE(w->t, send(w, 9, w->a.dep.token, &b, NULL, NULL));
	bbuf_reset(&b);
	erc20_approve(&b, w->a.dep.license_registry, price);
	T_TRUE(w->t, send(w, 6, w->a.dep.token, &b, NULL, NULL));
	bbuf_reset(&b);
	market_buy_listed_call(&b, tid, holder2, price);
	T_TRUE(w->t, send(w, 6, w->a.dep.license_registry, &b, NULL, NULL));
	check_owner(w, tid, holder2);
	bbuf_free(&b);
}

/*
 * Resale through the registry (CHAIN.md §5 step 7): the holder lists at
 * 2000, another buyer takes it for a fresh holder; fee (2 %), royalty
 * (5 %) and the seller's share to the wei; the old holder gets no key, the
 * new one gets K once the sale is deep.
 */
static void test_resale(struct tctx *t)
{
	struct world w;
	struct secp_sk h, h2;
	struct bbuf b = BBUF_INIT;
	struct u256 tid, ask_price = u256_from_u64(2000);
	struct u256 gas = u256_from_u64(100000000000000000ull);
	uint8_t holder[20], holder2[20], creator[20], key[32];
	int status = -1;

	if (!world_up(&w, t))
		goto out;
	secp_sk_generate(&h);
	secp_sk_generate(&h2);
	T_OK(t, secp_sk_address(&h, holder));
	T_OK(t, secp_sk_address(&h2, holder2));
	addr_of(2, creator);
	if (!buy(&w, holder, &tid))
		goto out;
	/* the holder, given gas, lists its licence */
	T_TRUE(t, send(&w, 9, holder, NULL, &gas, NULL));
	T_OK(t, market_list_call(&b, &tid, &ask_price));
	T_TRUE(t, send_sk(&w, &h, w.a.dep.license_registry, &b));
	bbuf_reset(&b);
	buy_listed(&w, &tid, holder2, &ask_price);
	/* primary 1000: creator 980; resale 2000: fee 40, royalty 100 to
	 * the creator, 1860 to the seller */
	owed(&w, creator, 980 + 100);
	owed(&w, holder, 2000 - 40 - 100);
	/* keys: the old holder nothing, the new one once deep */
	T_ERR(t, ask(&w, w.agent_n, &tid, &h, 600, &status, key),
	      ERR_NOT_FOUND);
	T_EQ(t, status, MARKET_KEY_NOT_HOLDER);
	mine(&w, MARKET_KEY_CONFIRMATIONS);
	T_OK(t, ask(&w, w.agent_n, &tid, &h2, 600, &status, key));
	T_MEMEQ(t, key, w.K, 32);
	T_ERR(t, ask(&w, w.agent_n, &tid, &h, 600, &status, key),
	      ERR_NOT_FOUND);
out:
	bbuf_free(&b);
	world_down(&w);
}

/*
 * Relayed resale listing: the holder, with no ETH at all, signs a Listing
 * at 2000 with a relayer fee of 30; account 4 relays listFor; account 6
 * buys it for a fresh holder.  Fee (2 %), royalty (5 %) to the creator, 30
 * to the relayer and the rest to the seller, to the wei; the signed
 * listing is good once; the seller is paid out by a relayed withdrawal;
 * the new holder gets K once the sale is deep.
 */
/* The Wallet's earnings over time (apps/market/history.h) for one
 * account: the total, and the last sale's kind and amount. */
static void history_of(struct world *w, const uint8_t who[20],
		       const char *total, size_t nsales, const char *kind,
		       const char *last)
{
	json_t *o = NULL, *sales, *s;

	T_OK(w->t, market_history_json(w->cc, &w->a.dep,
				       (const uint8_t (*)[20])who, 1,
				       MARKET_HISTORY_BLOCKS, &o));
	if (!o)
		return;
	sales = json_object_get(o, "sales");
	T_STREQ(w->t, json_string_value(json_object_get(o, "total")), total);
	T_EQ(w->t, json_array_size(sales), nsales);
	s = json_array_get(sales, json_array_size(sales) - 1);
	T_STREQ(w->t, json_string_value(json_object_get(s, "kind")), kind);
	T_STREQ(w->t, json_string_value(json_object_get(s, "amount")), last);
	json_decref(o);
}

static void test_relayed_resale(struct tctx *t)
{
	struct world w;
	struct secp_sk h, h2, h3, relayer;
	struct market_listing ml;
	struct market_payout mp;
	struct u256 out_amount = u256_from_u64(1820);
	struct u256 out_fee = u256_from_u64(10), bal, rel0, rel1;
	uint8_t to[20];
	struct u256 tid, ask_price = u256_from_u64(2000);
	struct u256 fee = u256_from_u64(30), big, eth;
	uint8_t holder[20], holder2[20], creator[20], relayer_a[20];
	uint8_t key[32];
	int status = -1;

	if (!world_up(&w, t))
		goto out;
	secp_sk_generate(&h);
	secp_sk_generate(&h2);
	T_OK(t, secp_sk_address(&h, holder));
	T_OK(t, secp_sk_address(&h2, holder2));
	tm_anvil_key(4, &relayer);
	T_OK(t, secp_sk_address(&relayer, relayer_a));
	addr_of(2, creator);
	if (!buy(&w, holder, &tid))
		goto out;
	/* a price above uint96 is refused before signing */
	T_OK(t, u256_parse_str(&big, "79228162514264337593543950336")); /* 2^96 */
	T_ERR(t, market_listing_sign(w.cc, &w.a.dep, &h, &tid, &big, &fee,
				     600, &ml), ERR_RANGE);
	/* a listing signed by another key is refused on chain */
	T_OK(t, market_listing_sign(w.cc, &w.a.dep, &h2, &tid, &ask_price,
				    &fee, 600, &ml));
	T_ERR(t, market_listing_relay(w.cc, &w.a.dep, &relayer, &ml),
	      ERR_BAD_STATE);
	/* the holder's listing, relayed */
	T_OK(t, market_listing_sign(w.cc, &w.a.dep, &h, &tid, &ask_price,
				    &fee, 600, &ml));
	T_OK(t, market_listing_relay(w.cc, &w.a.dep, &relayer, &ml));
	T_ERR(t, market_listing_relay(w.cc, &w.a.dep, &relayer, &ml),
	      ERR_BAD_STATE);			/* good once */
	T_OK(t, chain_get_balance(w.cc, holder, &eth));
	T_TRUE(t, u256_is_zero(&eth));		/* the holder never had ETH */
	buy_listed(&w, &tid, holder2, &ask_price);
	/* primary 1000: creator 980; resale 2000: fee 40, royalty 100 to the
	 * creator, 30 to the relayer, 1830 to the seller */
	owed(&w, creator, 980 + 100);
	owed(&w, relayer_a, 30);
	owed(&w, holder, 2000 - 40 - 100 - 30);
	/* the same parts in the earnings over time: the seller's (named by
	 * the sale's Transfer), the relayer's, the creator's two */
	history_of(&w, holder, "1830", 1, "resale", "1830");
	history_of(&w, relayer_a, "30", 1, "resale", "30");
	history_of(&w, creator, "1080", 2, "resale", "100");
	/* the seller, still with no ETH, is paid out through the relayer:
	 * 1820 to a fresh address, 10 to the relayer; more than owed and a
	 * replay revert */
	secp_sk_generate(&h3);
	T_OK(t, secp_sk_address(&h3, to));
	T_OK(t, market_payout_sign(w.cc, &w.a.dep, &h, to, &out_amount,
				   &big, 600, &mp));
	T_ERR(t, market_payout_relay(w.cc, &w.a.dep, &relayer, &mp),
	      ERR_BAD_STATE);
	token_balance(&w, relayer_a, &rel0);
	T_OK(t, market_payout_sign(w.cc, &w.a.dep, &h, to, &out_amount,
				   &out_fee, 600, &mp));
	T_OK(t, market_payout_relay(w.cc, &w.a.dep, &relayer, &mp));
	T_ERR(t, market_payout_relay(w.cc, &w.a.dep, &relayer, &mp),
	      ERR_BAD_STATE);
	owed(&w, holder, 0);
	token_balance(&w, to, &bal);
	T_EQ(t, u256_cmp(&bal, &out_amount), 0);
	token_balance(&w, relayer_a, &rel1);
	T_OK(t, u256_add(&rel0, &rel0, &out_fee));
	T_EQ(t, u256_cmp(&rel1, &rel0), 0);
	T_OK(t, chain_get_balance(w.cc, holder, &eth));
	T_TRUE(t, u256_is_zero(&eth));
	mine(&w, MARKET_KEY_CONFIRMATIONS);
	T_OK(t, ask(&w, w.agent_n, &tid, &h2, 600, &status, key));
	T_MEMEQ(t, key, w.K, 32);
	T_ERR(t, ask(&w, w.agent_n, &tid, &h, 600, &status, key),
	      ERR_NOT_FOUND);
out:
	world_down(&w);
}

static void check_ask(struct world *w, const struct u256 *tid, uint64_t want)
{
	struct bbuf b = BBUF_INIT;
	struct u256 v, wv = u256_from_u64(want);

	market_ask_price_call(&b, tid);
	T_OK(w->t, chain_call_u256(w->cc, w->a.dep.license_registry, b.data,
				   b.len, &v));
	T_EQ(w->t, u256_cmp(&v, &wv), 0);
	bbuf_free(&b);
}

/* The registry's hashCancelListing() of mc is our digest of it. */
static void cancel_digest_check(struct world *w, const struct market_cancel *mc)
{
	struct eip712_domain d = { EIP712_NAME_LICENSE, 31337, { 0 } };
	struct bbuf b = BBUF_INIT;
	struct abi_enc e;
	struct u256 v;
	uint8_t sel[4], sep[32], h[32], digest[32], got[32];

	abi_selector(sel, "hashCancelListing(uint256,uint256,uint256,uint64)");
	bbuf_put(&b, sel, 4);
	abi_enc_init(&e, 4);
	abi_enc_u256(&e, &mc->c.token_id);
	abi_enc_u256(&e, &mc->c.relayer_fee);
	abi_enc_u256(&e, &mc->c.nonce);
	abi_enc_u64(&e, mc->c.deadline);
	(void)abi_enc_finish(&e, &b);
	T_OK(w->t, chain_call_u256(w->cc, w->a.dep.license_registry, b.data,
				   b.len, &v));
	u256_to_be(&v, got);
	memcpy(d.verifying, w->a.dep.license_registry, 20);
	eip712_domain_separator(&d, sep);
	eip712_hash_cancel_listing(&mc->c, h);
	eip712_digest(sep, h, digest);
	T_MEMEQ(w->t, got, digest, 32);
	bbuf_free(&b);
}

/*
 * Relayed unlisting: the holder, with no ETH, lists through a relayer and
 * takes the listing back by a signed CancelListing the relayer submits
 * (cancelFor).  Our digest is the registry's; nothing to cancel, another
 * key's cancel and a fee the owner never allowed revert; the cancel is
 * good once, the listing is gone (askPrice 0, buyListed reverts); an
 * owner that allowed the registry pays the relayer its fee to the wei.
 */
static void test_relayed_cancel(struct tctx *t)
{
	struct world w;
	struct secp_sk h, h2, relayer;
	struct market_listing ml;
	struct market_cancel mc;
	struct chain_receipt rc = { 0 };
	struct bbuf b = BBUF_INIT;
	struct u256 tid, ask_price = u256_from_u64(2000);
	struct u256 zero = u256_from_u64(0), fee = u256_from_u64(30);
	struct u256 cfee = u256_from_u64(7), tokens = u256_from_u64(100);
	struct u256 gas = u256_from_u64(100000000000000000ull), eth, r0, r1;
	uint8_t holder[20], holder2[20], relayer_a[20], buyer2_a[20];
	struct secp_sk buyer2;

	if (!world_up(&w, t))
		goto out;
	secp_sk_generate(&h);
	secp_sk_generate(&h2);
	T_OK(t, secp_sk_address(&h, holder));
	T_OK(t, secp_sk_address(&h2, holder2));
	tm_anvil_key(4, &relayer);
	T_OK(t, secp_sk_address(&relayer, relayer_a));
	if (!buy(&w, holder, &tid))
		goto out;
	/* nothing listed: nothing to cancel */
	T_OK(t, market_cancel_sign(w.cc, &w.a.dep, &h, &tid, &zero, 600,
				   &mc));
	cancel_digest_check(&w, &mc);
	T_ERR(t, market_cancel_relay(w.cc, &w.a.dep, &relayer, &mc),
	      ERR_BAD_STATE);
	T_OK(t, market_listing_sign(w.cc, &w.a.dep, &h, &tid, &ask_price,
				    &fee, 600, &ml));
	T_OK(t, market_listing_relay(w.cc, &w.a.dep, &relayer, &ml));
	check_ask(&w, &tid, 2000);
	/* another key's cancel, and a fee the owner never allowed */
	T_OK(t, market_cancel_sign(w.cc, &w.a.dep, &h2, &tid, &zero, 600,
				   &mc));
	T_ERR(t, market_cancel_relay(w.cc, &w.a.dep, &relayer, &mc),
	      ERR_BAD_STATE);
	T_OK(t, market_cancel_sign(w.cc, &w.a.dep, &h, &tid, &cfee, 600,
				   &mc));
	cancel_digest_check(&w, &mc);
	T_ERR(t, market_cancel_relay(w.cc, &w.a.dep, &relayer, &mc),
	      ERR_BAD_STATE);
	check_ask(&w, &tid, 2000);
	/* the owner's cancel, relayed once */
	T_OK(t, market_cancel_sign(w.cc, &w.a.dep, &h, &tid, &zero, 600,
				   &mc));
	T_OK(t, market_cancel_relay(w.cc, &w.a.dep, &relayer, &mc));
	T_ERR(t, market_cancel_relay(w.cc, &w.a.dep, &relayer, &mc),
	      ERR_BAD_STATE);
	check_ask(&w, &tid, 0);
	T_OK(t, chain_get_balance(w.cc, holder, &eth));
	T_TRUE(t, u256_is_zero(&eth));
	/* a buyer finds nothing to buy */
	tm_anvil_key(6, &buyer2);
	T_OK(t, secp_sk_address(&buyer2, buyer2_a));
	erc20_mint(&b, buyer2_a, &ask_price);	/* it could pay */
	T_TRUE(t, send(&w, 9, w.a.dep.token, &b, NULL, NULL));
	bbuf_reset(&b);
	erc20_approve(&b, w.a.dep.license_registry, &ask_price);
	T_TRUE(t, send(&w, 6, w.a.dep.token, &b, NULL, NULL));
	bbuf_reset(&b);
	market_buy_listed_call(&b, &tid, holder2, &ask_price);
	T_ERR(t, chain_send(w.cc, &buyer2, w.a.dep.license_registry, b.data,
			    b.len, NULL, &rc), ERR_BAD_STATE);
	chain_receipt_clear(&rc);
	bbuf_reset(&b);
	check_owner(&w, &tid, holder);
	/* an owner that allowed the registry pays the relayer's fee */
	T_TRUE(t, send(&w, 9, holder, NULL, &gas, NULL));
	erc20_mint(&b, holder, &tokens);
	T_TRUE(t, send(&w, 9, w.a.dep.token, &b, NULL, NULL));
	bbuf_reset(&b);
	erc20_approve(&b, w.a.dep.license_registry, &cfee);
	T_TRUE(t, send_sk(&w, &h, w.a.dep.token, &b));
	bbuf_reset(&b);
	T_OK(t, market_listing_sign(w.cc, &w.a.dep, &h, &tid, &ask_price,
				    &zero, 600, &ml));
	T_OK(t, market_listing_relay(w.cc, &w.a.dep, &relayer, &ml));
	check_ask(&w, &tid, 2000);
	token_balance(&w, relayer_a, &r0);
	T_OK(t, market_cancel_sign(w.cc, &w.a.dep, &h, &tid, &cfee, 600,
				   &mc));
	T_OK(t, market_cancel_relay(w.cc, &w.a.dep, &relayer, &mc));
	check_ask(&w, &tid, 0);
	token_balance(&w, relayer_a, &r1);
	T_OK(t, u256_add(&r0, &r0, &cfee));
	T_EQ(t, u256_cmp(&r1, &r0), 0);
	token_balance(&w, holder, &r1);
	r0 = u256_from_u64(100 - 7);
	T_EQ(t, u256_cmp(&r1, &r0), 0);
out:
	bbuf_free(&b);
	world_down(&w);
}

struct node_call {
	bool done;
	int err;
	char body[512];
};

static void node_call_done(void *arg, int err, const uint8_t *body,
			   size_t len)
{
	struct node_call *nc = arg;

	nc->done = true;
	nc->err = err;
	if (len >= sizeof(nc->body))
		len = sizeof(nc->body) - 1;
	if (body)
		memcpy(nc->body, body, len);
	nc->body[body ? len : 0] = 0;
}

static bool node_call_cond(void *arg)
{
	return ((struct node_call *)arg)->done;
}

/* A call straight to anvil (not through the gateway: evm_* are not on
 * its allow-list); the "result" member as text in out. */
static bool anvil_call(struct world *w, const char *method,
		       const char *params, char *out, size_t outlen)
{
	struct market_upstream up = market_http_upstream(w->up);
	struct node_call nc = { 0 };
	char req[256];
	json_t *j, *res;
	bool ok = false;

	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,"
		 "\"method\":\"%s\",\"params\":%s}", method, params);
	T_OK(w->t, up.start(up.ctx, req, strlen(req), 4096, node_call_done,
			    &nc));
	T_TRUE(w->t, tm_run(&w->tm, node_call_cond, &nc));
	T_OK(w->t, nc.err);
	j = json_loads(nc.body, 0, NULL);
	res = json_object_get(j, "result");
	if (json_is_string(res)) {
		snprintf(out, outlen, "%s", json_string_value(res));
		ok = true;
	} else if (json_is_boolean(res)) {
		snprintf(out, outlen, "%s", json_is_true(res) ? "true" :
			 "false");
		ok = true;
	}
	T_TRUE(w->t, ok);
	json_decref(j);
	return ok;
}

/*
 * A licence taken from its holder gets it no key (issue 13: "a revoked or
 * resold licence gets no new key for the old holder"; the registry has
 * no revoke call, and KeyRelease cannot take back a key already given):
 * (a) moved away by a plain ERC-721 transfer, the old holder is refused
 * (NOT_HOLDER) and the new one gets K once it is deep; (b) a purchase
 * undone by a reorganisation (anvil's evm_revert past it): K was released
 * while it stood, and after it is gone the holder is refused.
 */
static void test_revoked(struct tctx *t)
{
	struct world w;
	struct secp_sk h, h2, h3;
	struct bbuf b = BBUF_INIT;
	struct u256 tid, tid3;
	struct u256 gas = u256_from_u64(100000000000000000ull);
	uint8_t holder[20], holder2[20], holder3[20], key[32];
	char snap[80], ok[16], params[96];
	struct abi_enc e;
	uint8_t sel[4];
	int status = -1;

	if (!world_up(&w, t))
		goto out;
	secp_sk_generate(&h);
	secp_sk_generate(&h2);
	secp_sk_generate(&h3);
	T_OK(t, secp_sk_address(&h, holder));
	T_OK(t, secp_sk_address(&h2, holder2));
	T_OK(t, secp_sk_address(&h3, holder3));
	if (!buy(&w, holder, &tid))
		goto out;
	/* (a) the licence moved away before any key was asked */
	T_TRUE(t, send(&w, 9, holder, NULL, &gas, NULL));
	abi_selector(sel, "transferFrom(address,address,uint256)");
	bbuf_put(&b, sel, 4);
	abi_enc_init(&e, 3);
	abi_enc_address(&e, holder);
	abi_enc_address(&e, holder2);
	abi_enc_u256(&e, &tid);
	(void)abi_enc_finish(&e, &b);
	T_TRUE(t, send_sk(&w, &h, w.a.dep.license_registry, &b));
	check_owner(&w, &tid, holder2);
	mine(&w, MARKET_KEY_CONFIRMATIONS);
	T_ERR(t, ask(&w, w.agent_n, &tid, &h, 600, &status, key),
	      ERR_NOT_FOUND);
	T_EQ(t, status, MARKET_KEY_NOT_HOLDER);
	T_OK(t, ask(&w, w.agent_n, &tid, &h2, 600, &status, key));
	T_MEMEQ(t, key, w.K, 32);

	/* (b) a purchase the chain undoes */
	if (!anvil_call(&w, "evm_snapshot", "[]", snap, sizeof(snap)))
		goto out;
	if (!buy(&w, holder3, &tid3))
		goto out;
	mine(&w, MARKET_KEY_CONFIRMATIONS);
	T_OK(t, ask(&w, w.agent_n, &tid3, &h3, 600, &status, key));
	T_MEMEQ(t, key, w.K, 32);
	snprintf(params, sizeof(params), "[\"%s\"]", snap);
	T_TRUE(t, anvil_call(&w, "evm_revert", params, ok, sizeof(ok)) &&
		  !strcmp(ok, "true"));
	mine(&w, MARKET_KEY_CONFIRMATIONS + 1);
	status = -1;
	T_ERR(t, ask(&w, w.agent_n, &tid3, &h3, 600, &status, key),
	      ERR_NOT_FOUND);
	T_EQ(t, status, MARKET_KEY_NOT_HOLDER);
out:
	bbuf_free(&b);
	world_down(&w);
}

struct relay_wait {
	bool done;
	int err, status;
	struct u256 id;
};

static void relay_done_cb(void *arg, int err, int status,
			  const struct u256 *id)
{
	struct relay_wait *rw = arg;

	rw->done = true;
	rw->err = err;
	rw->status = status;
	if (id)
		rw->id = *id;
}

static bool relay_cond(void *arg)
{
	return ((struct relay_wait *)arg)->done;
}

/* Hand mp to the relayer on nd; the relayer's status (-1: no answer). */
static int relay(struct world *w, struct tm_node *nd,
		 const struct market_purchase *mp, struct u256 *id)
{
	struct relay_wait rw = { 0 };

	T_OK(w->t, market_relay_send(w->buyer->mgr, w->tm.el, tm_pub(nd), mp,
				     TM_TIMEOUT_MS, relay_done_cb, &rw));
	T_TRUE(w->t, tm_run(&w->tm, relay_cond, &rw));
	T_OK(w->t, rw.err);
	if (id)
		*id = rw.id;
	return rw.done && rw.err == 0 ? rw.status : -1;
}

/* A relayer service from anvil account 5 with a minimum fee of 40, on a
 * node of its own, its transactions on a worker pool of one. */
static struct market_relayer *relayer_on(struct world *w,
					 struct secp_sk *relayer,
					 struct worker_pool **wp,
					 struct tm_node **rn)
{
	struct market_relayer_config rc;
	struct market_relayer *rl;

	*wp = worker_pool_new(w->tm.el, 1);
	memset(&rc, 0, sizeof(rc));
	rc.dep = w->a.dep;
	rc.min_fee = u256_from_u64(40);
	tm_anvil_key(5, relayer);
	*rn = tm_node(&w->tm);
	rl = market_relayer_new(&rc, relayer, w->agent_rpc, *wp, w->tm.el);
	market_relayer_serve(rl, (*rn)->mgr);
	return rl;
}

/* The payer hands its signed purchase to a relayer destination, which
 * submits it from a worker thread. */
static void test_relayer_service(struct tctx *t)
{
	struct world w;
	struct worker_pool *wp = NULL;
	struct market_relayer *rl = NULL;
	struct market_relayer_stats st;
	struct market_purchase mp, low, bad;
	struct secp_sk payer, h, relayer;
	struct u256 fee = u256_from_u64(50), low_fee = u256_from_u64(10), tid;
	uint8_t payer_a[20], holder[20];
	uint8_t wire[MARKET_PURCHASE_WIRE_BYTES];
	struct tm_node *rn;

	if (!world_up(&w, t))
		goto out;
	payer_setup(&w, &payer, payer_a, &h, holder);

	rl = relayer_on(&w, &relayer, &wp, &rn);

	/* the wire round-trips */
	T_OK(t, market_purchase_sign(w.cc, &w.a.dep, &payer, &w.index,
				     holder, &fee, 600, &mp));
	market_purchase_encode(&mp, wire);
	T_OK(t, market_purchase_decode(wire, sizeof(wire), &bad));
	T_TRUE(t, market_purchase_sig_ok(&bad, 31337,
					 w.a.dep.license_registry));
	T_ERR(t, market_purchase_decode(wire, sizeof(wire) - 1, &bad),
	      ERR_TRUNCATED);
	/* refused before any gas is spent: a fee under the minimum, a
	 * purchase changed after signing */
	T_OK(t, market_purchase_sign(w.cc, &w.a.dep, &payer, &w.index,
				     holder, &low_fee, 600, &low));
	T_EQ(t, relay(&w, rn, &low, NULL), MARKET_RELAY_FEE_LOW);
	bad = mp;
	bad.p.relayer_fee = u256_from_u64(60);
	T_EQ(t, relay(&w, rn, &bad, NULL), MARKET_RELAY_BAD_REQUEST);
	/* relayed */
	T_EQ(t, relay(&w, rn, &mp, &tid), MARKET_RELAY_OK);
	check_owner(&w, &tid, holder);
	/* a replay reverts on chain */
	T_EQ(t, relay(&w, rn, &mp, NULL), MARKET_RELAY_REVERTED);
	market_relayer_stats(rl, &st);
	T_EQ(t, st.relayed, 1);
	T_EQ(t, st.reverted, 1);
	T_EQ(t, st.fee_low, 1);
	T_EQ(t, st.bad, 1);
	T_EQ(t, market_relayer_busy(rl), 0);
out:
	market_relayer_free(rl);
	worker_pool_free(wp);
	world_down(&w);
}

/* Hand a resale request's bytes to the relayer on nd; its status. */
static int resale(struct world *w, struct tm_node *nd, const uint8_t *req,
		  size_t len)
{
	struct relay_wait rw = { 0 };

	T_OK(w->t, market_resale_send(w->buyer->mgr, w->tm.el, tm_pub(nd),
				      req, len, TM_TIMEOUT_MS, relay_done_cb,
				      &rw));
	T_TRUE(w->t, tm_run(&w->tm, relay_cond, &rw));
	T_OK(w->t, rw.err);
	return rw.done && rw.err == 0 ? rw.status : -1;
}

/*
 * Resale through the relayer service, for a holder with no ETH: the wire
 * round-trips; a listing under the relayer's minimum fee, at price 0 or
 * cut short is refused before any gas, one changed after signing reverts
 * in the estimate; the listing, its cancel and a second listing relayed
 * (a cancel at fee 0); the licence sold, the seller's payout relayed to a
 * fresh address less the relayer's fee, to the wei; a payout under the
 * minimum fee or changed after signing refused, a replay reverts.
 */
static void test_relayer_resale(struct tctx *t)
{
	struct world w;
	struct worker_pool *wp = NULL;
	struct market_relayer *rl = NULL;
	struct market_relayer_stats st;
	struct market_listing ml, ml2;
	struct market_cancel mc, mc2;
	struct market_payout po, po2;
	struct secp_sk h, h2, h3, relayer;
	struct u256 tid, price = u256_from_u64(2000), zero = u256_from_u64(0);
	struct u256 fee = u256_from_u64(50), low = u256_from_u64(10);
	struct u256 amount = u256_from_u64(2000 - 40 - 100 - 50 - 50), bal;
	uint8_t holder[20], holder2[20], to[20], relayer_a[20];
	uint8_t lw[MARKET_LISTING_WIRE_BYTES], cw[MARKET_CANCEL_WIRE_BYTES];
	uint8_t pw[MARKET_PAYOUT_WIRE_BYTES];
	uint8_t lw2[MARKET_LISTING_WIRE_BYTES], cw2[MARKET_CANCEL_WIRE_BYTES];
	uint8_t pw2[MARKET_PAYOUT_WIRE_BYTES];
	struct tm_node *rn;

	if (!world_up(&w, t))
		goto out;
	rl = relayer_on(&w, &relayer, &wp, &rn);
	T_OK(t, secp_sk_address(&relayer, relayer_a));
	secp_sk_generate(&h);
	secp_sk_generate(&h2);
	secp_sk_generate(&h3);
	T_OK(t, secp_sk_address(&h, holder));
	T_OK(t, secp_sk_address(&h2, holder2));
	T_OK(t, secp_sk_address(&h3, to));
	if (!buy(&w, holder, &tid))
		goto out;

	/* the codecs */
	T_OK(t, market_listing_sign(w.cc, &w.a.dep, &h, &tid, &price, &fee,
				    600, &ml));
	market_listing_encode(&ml, lw);
	T_OK(t, market_listing_decode(lw, sizeof(lw), &ml2));
	market_listing_encode(&ml2, lw2);
	T_MEMEQ(t, lw2, lw, sizeof(lw));
	T_ERR(t, market_listing_decode(lw, sizeof(lw) - 1, &ml2),
	      ERR_TRUNCATED);
	T_OK(t, market_cancel_sign(w.cc, &w.a.dep, &h, &tid, &zero, 600,
				   &mc));
	market_cancel_encode(&mc, cw);
	T_OK(t, market_cancel_decode(cw, sizeof(cw), &mc2));
	market_cancel_encode(&mc2, cw2);
	T_MEMEQ(t, cw2, cw, sizeof(cw));
	T_ERR(t, market_cancel_decode(lw, sizeof(lw), &mc2), ERR_FORMAT);
	T_ERR(t, market_payout_decode(cw, sizeof(cw), &po2), ERR_FORMAT);

	/* refused before any gas */
	T_OK(t, market_listing_sign(w.cc, &w.a.dep, &h, &tid, &price, &low,
				    600, &ml2));
	market_listing_encode(&ml2, lw);
	T_EQ(t, resale(&w, rn, lw, sizeof(lw)), MARKET_RELAY_FEE_LOW);
	T_OK(t, market_listing_sign(w.cc, &w.a.dep, &h, &tid, &zero, &fee,
				    600, &ml2));
	market_listing_encode(&ml2, lw);
	T_EQ(t, resale(&w, rn, lw, sizeof(lw)), MARKET_RELAY_BAD_REQUEST);
	market_listing_encode(&ml, lw);
	T_EQ(t, resale(&w, rn, lw, sizeof(lw) - 1), MARKET_RELAY_BAD_REQUEST);
	/* changed after signing: the chain's estimate refuses it */
	ml2 = ml;
	ml2.l.price = u256_from_u64(1);
	market_listing_encode(&ml2, lw);
	T_EQ(t, resale(&w, rn, lw, sizeof(lw)), MARKET_RELAY_REVERTED);
	check_ask(&w, &tid, 0);
	/* listed, cancelled (fee 0), listed again */
	market_listing_encode(&ml, lw);
	T_EQ(t, resale(&w, rn, lw, sizeof(lw)), MARKET_RELAY_OK);
	check_ask(&w, &tid, 2000);
	T_OK(t, market_cancel_sign(w.cc, &w.a.dep, &h, &tid, &zero, 600,
				   &mc));
	market_cancel_encode(&mc, cw);
	T_EQ(t, resale(&w, rn, cw, sizeof(cw)), MARKET_RELAY_OK);
	T_EQ(t, resale(&w, rn, cw, sizeof(cw)), MARKET_RELAY_REVERTED);
	check_ask(&w, &tid, 0);
	T_OK(t, market_listing_sign(w.cc, &w.a.dep, &h, &tid, &price, &fee,
				    600, &ml));
	market_listing_encode(&ml, lw);
	T_EQ(t, resale(&w, rn, lw, sizeof(lw)), MARKET_RELAY_OK);
	buy_listed(&w, &tid, holder2, &price);
	/* resale 2000: fee 40, royalty 100, the relayer 50 */
	owed(&w, relayer_a, 50);
	owed(&w, holder, 2000 - 40 - 100 - 50);

	/* the payout: under the fee, changed after signing, then paid */
	T_OK(t, market_payout_sign(w.cc, &w.a.dep, &h, to, &amount, &low,
				   600, &po));
	market_payout_encode(&po, pw);
	T_EQ(t, resale(&w, rn, pw, sizeof(pw)), MARKET_RELAY_FEE_LOW);
	T_OK(t, market_payout_sign(w.cc, &w.a.dep, &h, to, &amount, &fee,
				   600, &po));
	po2 = po;
	po2.w.to[0] ^= 1;
	market_payout_encode(&po2, pw);
	T_EQ(t, resale(&w, rn, pw, sizeof(pw)), MARKET_RELAY_BAD_REQUEST);
	market_payout_encode(&po, pw);
	T_OK(t, market_payout_decode(pw, sizeof(pw), &po2));
	market_payout_encode(&po2, pw2);
	T_MEMEQ(t, pw2, pw, sizeof(pw));
	T_EQ(t, resale(&w, rn, pw, sizeof(pw)), MARKET_RELAY_OK);
	T_EQ(t, resale(&w, rn, pw, sizeof(pw)), MARKET_RELAY_REVERTED);
	owed(&w, holder, 0);
	token_balance(&w, to, &bal);
	T_EQ(t, u256_cmp(&bal, &amount), 0);
	market_relayer_stats(rl, &st);
	T_EQ(t, st.listed, 2);
	T_EQ(t, st.cancelled, 1);
	T_EQ(t, st.paid_out, 1);
	T_EQ(t, st.fee_low, 2);
	T_EQ(t, st.bad, 3);
	T_EQ(t, st.reverted, 3);
	T_EQ(t, market_relayer_busy(rl), 0);
out:
	market_relayer_free(rl);
	worker_pool_free(wp);
	world_down(&w);
}

struct resale_wait {
	bool done;
	int err;
	char why[200];
	char amount[80], price[80];
};

static void resale_cb(void *arg, int err, const char *why, json_t *res)
{
	struct resale_wait *rw = arg;
	const char *a = json_string_value(json_object_get(res, "amount"));
	const char *p = json_string_value(json_object_get(res, "price"));

	rw->done = true;
	rw->err = err;
	snprintf(rw->why, sizeof(rw->why), "%s", why ? why : "");
	snprintf(rw->amount, sizeof(rw->amount), "%s", a ? a : "");
	snprintf(rw->price, sizeof(rw->price), "%s", p ? p : "");
}

static bool resale_cond(void *arg)
{
	return ((struct resale_wait *)arg)->done;
}

/* Run one resale step of the content to its end; its error. */
static int resell(struct world *w, struct market_reseller *rs,
		  enum market_resale_action a, uint64_t price,
		  struct resale_wait *rw)
{
	struct market_resale_order o;
	const char *why = NULL;

	memset(&o, 0, sizeof(o));
	memcpy(o.content_hash, w->content_hash, 32);
	o.action = a;
	o.price = u256_from_u64(price);
	memset(rw, 0, sizeof(*rw));
	T_OK(w->t, market_reseller_start(rs, &o, resale_cb, rw, &why));
	T_TRUE(w->t, tm_run(&w->tm, resale_cond, rw));
	return rw->err;
}

/*
 * What bitsd's POST /api/market/resale runs (apps/market/resale.c): a
 * licence in the key library, its holder with no ETH, listed, cancelled
 * and listed again through the relayer destination, sold, and its payout
 * collected to the wallet's address less the relayer's fee, to the wei;
 * nothing to cancel, nothing owed, a licence no longer held and an
 * unknown content refused before anything is signed; one step at a time.
 */
static void test_reseller(struct tctx *t)
{
	struct world w;
	struct worker_pool *wp = NULL;
	struct market_relayer *rl = NULL;
	struct market_reseller *rs = NULL;
	struct market_reseller_config sc;
	struct market_library *lib = NULL;
	struct market_licence lic;
	struct market_resale_order o;
	struct resale_wait rw;
	struct secp_sk h, h2, relayer, payee;
	struct u256 price = u256_from_u64(2000), bal, want;
	uint8_t holder2[20];
	const char *why = NULL;
	struct tm_node *rn;

	if (!world_up(&w, t))
		goto out;
	rl = relayer_on(&w, &relayer, &wp, &rn);
	secp_sk_generate(&h);
	secp_sk_generate(&h2);
	secp_sk_generate(&payee);
	T_OK(t, secp_sk_address(&h2, holder2));
	memset(&lic, 0, sizeof(lic));
	memcpy(lic.content_hash, w.content_hash, 32);
	lic.index = w.index.w[0];
	T_OK(t, secp_sk_address(&h, lic.holder));
	if (!buy(&w, lic.holder, &lic.token_id))
		goto out;
	lic.has_token = true;
	lic.price = u256_from_u64(1000);
	T_OK(t, market_library_open(t_tmpdir(t), &lib));
	T_OK(t, market_library_put(lib, &lic, &h, w.K));

	market_reseller_config_default(&sc);
	sc.dep = w.a.dep;
	sc.has_relayer = true;
	memcpy(sc.relayer, tm_pub(rn)->hash, 32);
	sc.relayer_fee = u256_from_u64(50);
	sc.has_payee = true;
	T_OK(t, secp_sk_address(&payee, sc.payee));
	rs = market_reseller_new(&sc, w.buyer_rpc, w.buyer->mgr, &w.tm.cn, wp,
				 w.tm.el, lib);

	/* an unknown content; nothing listed to cancel */
	memset(&o, 0, sizeof(o));
	o.action = MARKET_RESALE_CANCEL;
	T_ERR(t, market_reseller_start(rs, &o, resale_cb, &rw, &why),
	      ERR_NOT_FOUND);
	T_ERR(t, resell(&w, rs, MARKET_RESALE_CANCEL, 0, &rw), ERR_BAD_STATE);
	T_TRUE(t, strstr(rw.why, "not listed") != NULL);
	/* listed; a second step while one is under way is refused */
	memcpy(o.content_hash, w.content_hash, 32);
	o.action = MARKET_RESALE_LIST;
	o.price = price;
	T_OK(t, market_reseller_start(rs, &o, resale_cb, &rw, &why));
	T_ERR(t, market_reseller_start(rs, &o, resale_cb, &rw, &why),
	      ERR_BAD_STATE);
	memset(&rw, 0, sizeof(rw));
	T_TRUE(t, tm_run(&w.tm, resale_cond, &rw));
	T_OK(t, rw.err);
	T_EQ(t, strcmp(rw.price, "2000"), 0);
	check_ask(&w, &lic.token_id, 2000);
	T_OK(t, resell(&w, rs, MARKET_RESALE_CANCEL, 0, &rw));
	check_ask(&w, &lic.token_id, 0);
	T_OK(t, resell(&w, rs, MARKET_RESALE_LIST, 2000, &rw));
	check_ask(&w, &lic.token_id, 2000);
	/* nothing owed before the sale */
	T_ERR(t, resell(&w, rs, MARKET_RESALE_PAYOUT, 0, &rw), ERR_BAD_STATE);
	buy_listed(&w, &lic.token_id, holder2, &price);
	owed(&w, lic.holder, 2000 - 40 - 100 - 50);
	/* sold: no listing by the old holder; its payout to the wallet */
	T_ERR(t, resell(&w, rs, MARKET_RESALE_LIST, 2500, &rw), ERR_BAD_STATE);
	T_TRUE(t, strstr(rw.why, "no longer held") != NULL);
	T_OK(t, resell(&w, rs, MARKET_RESALE_PAYOUT, 0, &rw));
	T_EQ(t, strcmp(rw.amount, "1760"), 0);
	owed(&w, lic.holder, 0);
	token_balance(&w, sc.payee, &bal);
	want = u256_from_u64(1760);
	T_EQ(t, u256_cmp(&bal, &want), 0);
	T_ERR(t, resell(&w, rs, MARKET_RESALE_PAYOUT, 0, &rw), ERR_BAD_STATE);
	T_EQ(t, market_reseller_busy(rs), 0);
out:
	market_reseller_free(rs);
	market_library_free(lib);
	market_relayer_free(rl);
	worker_pool_free(wp);
	world_down(&w);
}

const struct test_case market_keyagent_tests[] = {
	{ "codec", test_codec, 0 },
	{ "rate_limit", test_rate_limit, 0 },
	{ "release", test_release, TT_FORK },
	{ "relayed_buy", test_relayed, TT_FORK },
	{ "relayer_service", test_relayer_service, TT_FORK },
	{ "resale", test_resale, TT_FORK },
	{ "relayed_resale", test_relayed_resale, TT_FORK },
	{ "relayed_cancel", test_relayed_cancel, TT_FORK },
	{ "revoked", test_revoked, TT_FORK },
	{ "relayer_resale", test_relayer_resale, TT_FORK },
	{ "reseller", test_reseller, TT_FORK },
	{ NULL, NULL, 0 }
};
