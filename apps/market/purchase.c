/*
 * Buying a licence and getting its key (apps/market/purchase.h).
 */
#include "config.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/market/buy.h"
#include "apps/market/keyagent.h"
#include "apps/market/library.h"
#include "apps/market/purchase.h"
#include "apps/market/relayer.h"
#include "apps/market/rpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/secmem.h"
#include "router/evloop.h"
#include "router/worker.h"

/* What a worker does for a job. */
enum buy_work {
	W_PREPARE,	/* index, price, balances; sign the purchase */
	W_SEND,		/* buyFor from the payer's own account */
	W_CONFIRM,	/* tip, chain time, ownership */
	W_KEEP		/* the licence's file in the library */
};

/* What follows a W_KEEP. */
enum buy_keep {
	KEEP_PREPARED,	/* the holder's key, before anything is paid */
	KEEP_PAID,	/* the token */
	KEEP_KEY	/* K, released and checked */
};

/* Where the loop goes next when the timer fires. */
enum buy_wait {
	WAIT_NONE,
	WAIT_PREPARE,	/* the chain again, after a transport error */
	WAIT_RELAYER,	/* the relayer's LeaseSet */
	WAIT_CONFIRM,	/* the next chain poll */
	WAIT_AGENT	/* the agent's LeaseSet */
};

struct buy_job {
	struct market_buyer *b;	/* NULL once the buyer is gone */
	uint64_t id;
	enum market_buy_state state;
	char why[256];
	struct market_buy_order o;
	const char *route;
	struct market_licence lic;
	struct secp_sk *holder;		/* secmem */
	struct secp_sk *e;		/* secmem: the single-use key */
	bool have_lc;
	struct license_content lc;
	struct market_purchase mp;
	uint64_t paid_block;		/* 0: not seen owned yet */
	uint64_t tip, chain_ts;
	uint64_t phase_ms;		/* when the current wait began */
	unsigned key_tries;
	bool have_A;
	struct secp_pk A;
	uint8_t request_id[32];
	enum buy_wait wait;
	unsigned calls;			/* overlay calls under way */
	/* worker in/out: what the worker reads and writes is copied to wk
	 * before it runs and back after, on the loop, so the API reads the
	 * job while a worker runs */
	struct {
		struct market_licence lic;
		bool have_lc;
		struct license_content lc;
		const char *route;
		struct market_purchase mp;
		uint64_t tip, chain_ts, paid_block;
	} wk;
	enum buy_work work;
	enum buy_keep keep;
	bool keep_k;			/* W_KEEP writes K (wk_k) too */
	uint8_t wk_k[32];		/* wiped when the write is done */
	struct market_licence kept;	/* W_KEEP: the licence as written */
	int werr;
	char wmsg[200];
	struct buy_job *next;
};

struct market_buyer {
	struct market_buyer_config cfg;
	struct secp_sk *payer;		/* secmem, NULL: no wallet */
	uint8_t payer_addr[20];
	struct market_rpc *rpc;
	struct chain_client *cc;	/* one worker job at a time */
	struct stream_mgr *mgr;
	struct client_net net;
	struct worker_pool *wp;
	struct evloop *el;
	struct market_library *lib;
	struct evloop_timer *timer;
	struct buy_job *jobs;		/* newest first */
	struct buy_job *active;
	unsigned busy;			/* worker jobs */
	uint64_t next_id;
};

const char *market_buy_state_str(enum market_buy_state s)
{
	switch (s) {
	case MARKET_BUY_PAYING:
		return "paying";
	case MARKET_BUY_CONFIRMING:
		return "confirming";
	case MARKET_BUY_REQUESTING_KEY:
		return "requesting key";
	case MARKET_BUY_DONE:
		return "done";
	case MARKET_BUY_FAILED:
		return "failed";
	}
	return "?";
}

void market_buyer_config_default(struct market_buyer_config *c)
{
	memset(c, 0, sizeof(*c));
	c->confirmations = MARKET_KEY_CONFIRMATIONS;
	c->purchase_ttl_s = 1800;
	c->key_ttl_s = 600;
	c->lookup_timeout_ms = 180000;
	c->call_timeout_ms = 120000;
	c->confirm_timeout_ms = 1800000;
	c->poll_ms = 1000;
}

static void job_wipe(struct buy_job *j)
{
	if (j->holder)
		secmem_free(j->holder);
	if (j->e)
		secmem_free(j->e);
	j->holder = j->e = NULL;
	sodium_memzero(&j->mp, sizeof(j->mp));
	sodium_memzero(&j->wk.mp, sizeof(j->wk.mp));
}

static void job_free(struct buy_job *j)
{
	job_wipe(j);
	free(j);
}

/* End the active job. */
static void job_end(struct buy_job *j, enum market_buy_state st,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void job_end(struct buy_job *j, enum market_buy_state st,
		    const char *fmt, ...)
{
	struct market_buyer *b = j->b;
	char hex[17];

	j->state = st;
	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(j->why, sizeof(j->why), fmt, ap);
		va_end(ap);
	}
	j->wait = WAIT_NONE;
	job_wipe(j);
	if (b && b->active == j) {
		b->active = NULL;
		evloop_timer_disarm(b->timer);
	}
	if (hex_encode(hex, sizeof(hex), j->o.content_hash, 8) != 0)
		hex[0] = 0;
	if (st == MARKET_BUY_DONE)
		log_notice(LD_APP, "market: bought %s... and hold its key",
			   hex);
	else
		log_warn(LD_APP, "market: buying %s... failed: %s", hex,
			 j->why);
}

static void job_wait(struct buy_job *j, enum buy_wait w, unsigned ms)
{
	j->wait = w;
	evloop_timer_arm(j->b->timer, ms);
}

/* ------------------------------------------------------------ the worker */

static int owner_at_latest(struct chain_client *cc,
			   const struct chain_deploy *dep,
			   const struct u256 *token, uint8_t owner[20])
{
	struct bbuf b = BBUF_INIT, ret = BBUF_INIT;
	int r;

	license_owner_of_call(&b, token);
	r = chain_call(cc, NULL, dep->license_registry, b.data, b.len, &ret);
	if (r == 0 && ret.len != 32)
		r = ERR_FORMAT;
	if (r == 0)
		memcpy(owner, ret.data + 12, 20);
	bbuf_free(&b);
	bbuf_free(&ret);
	return r;
}

static void wfail(struct buy_job *j, int r, const char *what)
{
	const char *m = chain_client_error(j->b->cc);

	j->werr = r ? r : ERR_BAD_STATE;
	snprintf(j->wmsg, sizeof(j->wmsg), "%s: %s", what,
		 m && *m ? m : err_str(j->werr));
}

static void work_prepare(struct buy_job *j)
{
	struct market_buyer *b = j->b;
	const struct chain_deploy *dep = &b->cfg.dep;
	struct bbuf c = BBUF_INIT, ret = BBUF_INIT;
	struct u256 idx, eth, tokens, need, fee;
	char n1[80], n2[80];
	int r;

	license_index_of_call(&c, j->o.content_hash);
	r = chain_call_u256(b->cc, dep->license_registry, c.data, c.len, &idx);
	bbuf_free(&c);
	if (r != 0)
		return wfail(j, r, "reading the content's index");
	if (u256_is_zero(&idx) || !u256_fits_u64(&idx)) {
		j->werr = ERR_NOT_FOUND;
		snprintf(j->wmsg, sizeof(j->wmsg), "the content is not "
			 "published in the licence registry");
		return;
	}
	if (j->o.index) {
		struct u256 want = u256_from_u64(j->o.index);

		if (u256_cmp(&idx, &want) != 0) {
			j->werr = ERR_ARG;
			snprintf(j->wmsg, sizeof(j->wmsg), "the registry has "
				 "this content at index %s, not %llu",
				 u256_format_dec(&idx, n1, sizeof(n1)),
				 (unsigned long long)j->o.index);
			return;
		}
	}
	j->wk.lic.index = idx.w[0];
	license_content_call(&c, &idx);
	r = chain_call(b->cc, NULL, dep->license_registry, c.data, c.len,
		       &ret);
	bbuf_free(&c);
	if (r == 0)
		r = license_content_decode(ret.data, ret.len, &j->wk.lc);
	bbuf_free(&ret);
	if (r != 0)
		return wfail(j, r, "reading the content's price");
	j->wk.have_lc = true;
	if ((r = chain_get_balance(b->cc, b->payer_addr, &eth)) != 0)
		return wfail(j, r, "reading the wallet's ETH");
	j->wk.route = u256_is_zero(&eth) ? "relayed" : "direct";
	if (u256_is_zero(&eth) && !b->cfg.has_relayer) {
		j->werr = ERR_BAD_STATE;
		snprintf(j->wmsg, sizeof(j->wmsg), "the wallet has no ETH for "
			 "gas and no relayer is set (market.buy.relayer)");
		return;
	}
	fee = u256_is_zero(&eth) ? b->cfg.relayer_fee : u256_from_u64(0);
	erc20_balance_of(&c, b->payer_addr);
	r = chain_call_u256(b->cc, dep->token, c.data, c.len, &tokens);
	bbuf_free(&c);
	if (r != 0)
		return wfail(j, r, "reading the wallet's tokens");
	if (u256_add(&need, &j->wk.lc.price, &fee) != 0 ||
	    u256_cmp(&tokens, &need) < 0) {
		j->werr = ERR_BAD_STATE;
		snprintf(j->wmsg, sizeof(j->wmsg), "the wallet holds %s token "
			 "units; the price with the relayer's fee is %s",
			 u256_format_dec(&tokens, n1, sizeof(n1)),
			 u256_format_dec(&need, n2, sizeof(n2)));
		return;
	}
	j->wk.lic.price = j->wk.lc.price;
	j->wk.lic.relayer_fee = fee;
	if ((r = market_purchase_sign(b->cc, dep, b->payer, &idx,
				      j->wk.lic.holder, &fee,
				      b->cfg.purchase_ttl_s, &j->wk.mp)) != 0)
		return wfail(j, r, "signing the purchase");
}

static void work_send(struct buy_job *j)
{
	struct market_buyer *b = j->b;
	int r = market_purchase_relay(b->cc, &b->cfg.dep, b->payer, &j->wk.mp,
				      &j->wk.lic.token_id);

	if (r != 0)
		return wfail(j, r, "buyFor from the wallet");
	j->wk.lic.has_token = true;
}

static void work_confirm(struct buy_job *j)
{
	struct market_buyer *b = j->b;
	uint8_t owner[20];
	int r;

	if (!j->wk.have_lc) {
		struct bbuf c = BBUF_INIT, ret = BBUF_INIT;
		struct u256 idx = u256_from_u64(j->wk.lic.index);

		license_content_call(&c, &idx);
		r = chain_call(b->cc, NULL, b->cfg.dep.license_registry,
			       c.data, c.len, &ret);
		if (r == 0)
			r = license_content_decode(ret.data, ret.len,
						   &j->wk.lc);
		bbuf_free(&c);
		bbuf_free(&ret);
		if (r != 0)
			return wfail(j, r, "reading the content");
		j->wk.have_lc = true;
	}
	if ((r = chain_block_number(b->cc, &j->wk.tip)) != 0 ||
	    (r = chain_block_timestamp(b->cc, &j->wk.chain_ts)) != 0)
		return wfail(j, r, "reading the chain's tip");
	if (j->wk.paid_block == 0) {
		if ((r = owner_at_latest(b->cc, &b->cfg.dep,
					 &j->wk.lic.token_id, owner)) != 0)
			return wfail(j, r, "reading the licence's owner");
		/* mined at or before this tip: count from here */
		if (memcmp(owner, j->wk.lic.holder, 20) == 0)
			j->wk.paid_block = j->wk.tip;
	}
}

static void work_run(void *arg)
{
	struct buy_job *j = arg;

	j->werr = 0;
	j->wmsg[0] = 0;
	switch (j->work) {
	case W_PREPARE:
		work_prepare(j);
		return;
	case W_SEND:
		work_send(j);
		return;
	case W_CONFIRM:
		work_confirm(j);
		return;
	case W_KEEP:
		/* file I/O only: the library's memory view is the loop's */
		j->werr = market_library_store(j->b->lib, &j->wk.lic, j->holder,
					       j->keep_k ? j->wk_k : NULL,
					       &j->kept);
		sodium_memzero(j->wk_k, sizeof(j->wk_k));
		if (j->werr)
			snprintf(j->wmsg, sizeof(j->wmsg), "%s",
				 err_str(j->werr));
		return;
	}
}

static void work_done(void *arg);

static void submit(struct buy_job *j, enum buy_work w)
{
	j->wk.lic = j->lic;
	j->wk.have_lc = j->have_lc;
	j->wk.lc = j->lc;
	j->wk.route = j->route;
	j->wk.mp = j->mp;
	j->wk.tip = j->tip;
	j->wk.chain_ts = j->chain_ts;
	j->wk.paid_block = j->paid_block;
	j->work = w;
	j->b->busy++;
	worker_submit(j->b->wp, (struct work){ work_run, work_done, j });
}

static void keep_done(struct buy_job *j);

/* Write the job's licence (and K when given) to the library on a worker,
 * then go on as `next` says (keep_done). */
static void keep(struct buy_job *j, enum buy_keep next, const uint8_t k[32])
{
	if (!market_library_has_room(j->b->lib, j->lic.content_hash)) {
		j->werr = ERR_LIMIT;
		snprintf(j->wmsg, sizeof(j->wmsg), "the library is full");
		j->keep = next;
		keep_done(j);
		return;
	}
	j->keep = next;
	j->keep_k = k != NULL;
	if (k)
		memcpy(j->wk_k, k, 32);
	submit(j, W_KEEP);
}

/* ------------------------------------------------------------- the loop */

static void on_relayed(void *arg, int err, int status,
		       const struct u256 *token_id);
static void request_key(struct buy_job *j);

static bool lookup(struct buy_job *j, const uint8_t hash[32],
		   struct keys_and_cert *kc)
{
	return j->b->net.lookup(j->b->net.ctx, hash, kc) == 0;
}

static uint64_t now_ms(void)
{
	return time_mono_ms();
}

/* Paying through the relayer: its destination, then the call. */
static void relay(struct buy_job *j)
{
	struct keys_and_cert *kc = xmalloc(sizeof(*kc));
	int r;

	if (!lookup(j, j->b->cfg.relayer, kc)) {
		free(kc);
		if (now_ms() - j->phase_ms > j->b->cfg.lookup_timeout_ms)
			return job_end(j, MARKET_BUY_FAILED, "the relayer's "
				       "destination was not found in %u s",
				       j->b->cfg.lookup_timeout_ms / 1000);
		return job_wait(j, WAIT_RELAYER, j->b->cfg.poll_ms);
	}
	r = market_relay_send(j->b->mgr, j->b->el, kc, &j->mp,
			      j->b->cfg.call_timeout_ms, on_relayed, j);
	free(kc);
	if (r != 0)
		return job_end(j, MARKET_BUY_FAILED, "cannot reach the "
			       "relayer: %s", err_str(r));
	j->calls++;
}

/* An overlay call of j answered: false when j goes no further (the buyer
 * gone: j is freed with its last call; or j has moved on from st). */
static bool call_back(struct buy_job *j, enum market_buy_state st)
{
	j->calls--;
	if (!j->b) {
		if (!j->calls)
			job_free(j);
		return false;
	}
	return j->state == st;
}

/* The licence is paid: keep it, then wait for the blocks. */
static void paid(struct buy_job *j)
{
	j->lic.has_token = true;
	keep(j, KEEP_PAID, NULL);
}

/* A W_KEEP is done: the memory view, then the next step. */
static void keep_done(struct buy_job *j)
{
	struct market_buyer *b = j->b;

	if (j->werr == 0)
		market_library_note(b->lib, &j->kept);
	switch (j->keep) {
	case KEEP_PREPARED:
		if (j->werr)
			return job_end(j, MARKET_BUY_FAILED, "cannot keep the "
				       "licence in the library: %s", j->wmsg);
		if (!strcmp(j->route, "direct"))
			return submit(j, W_SEND);
		j->phase_ms = now_ms();
		return relay(j);
	case KEEP_PAID:
		if (j->werr)
			log_err(LD_APP, "market: the licence is paid but not "
				"kept: %s", j->wmsg);
		j->state = MARKET_BUY_CONFIRMING;
		j->phase_ms = now_ms();
		return submit(j, W_CONFIRM);
	case KEEP_KEY:
		if (j->werr)
			return job_end(j, MARKET_BUY_FAILED, "the key came but "
				       "cannot be kept: %s", j->wmsg);
		j->lic.has_key = true;
		return job_end(j, MARKET_BUY_DONE, NULL);
	}
}

static void on_relayed(void *arg, int err, int status,
		       const struct u256 *token_id)
{
	struct buy_job *j = arg;

	if (!call_back(j, MARKET_BUY_PAYING))
		return;
	if (err)
		return job_end(j, MARKET_BUY_FAILED, "the relayer did not "
			       "answer: %s (the purchase may still be mined: "
			       "buy again to check)", err_str(err));
	if (status != MARKET_RELAY_OK)
		return job_end(j, MARKET_BUY_FAILED, "the relayer refused: %s",
			       market_relay_status_str(status));
	j->lic.token_id = *token_id;
	paid(j);
}

static void work_done(void *arg)
{
	struct buy_job *j = arg;
	struct market_buyer *b = j->b;

	b->busy--;
	j->lic = j->wk.lic;
	j->have_lc = j->wk.have_lc;
	j->lc = j->wk.lc;
	j->route = j->wk.route;
	j->mp = j->wk.mp;
	sodium_memzero(&j->wk.mp, sizeof(j->wk.mp));
	j->tip = j->wk.tip;
	j->chain_ts = j->wk.chain_ts;
	j->paid_block = j->wk.paid_block;
	if (j->state == MARKET_BUY_DONE || j->state == MARKET_BUY_FAILED)
		return;
	/* the gateways out of reach for now (tunnels, a LeaseSet): again,
	 * for as long as a destination lookup may take */
	if ((j->werr == ERR_IO || j->werr == ERR_TIMEOUT) &&
	    j->work != W_SEND && j->work != W_KEEP &&
	    now_ms() - j->phase_ms < b->cfg.lookup_timeout_ms) {
		log_info(LD_APP, "market: %s; again", j->wmsg);
		return job_wait(j, j->work == W_PREPARE ? WAIT_PREPARE :
				WAIT_CONFIRM, b->cfg.poll_ms);
	}
	if (j->werr != 0 && j->work != W_KEEP)
		return job_end(j, MARKET_BUY_FAILED, "%s", j->wmsg);
	switch (j->work) {
	case W_KEEP:
		return keep_done(j);
	case W_PREPARE:
		/* the holder's key is kept before anything is paid */
		return keep(j, KEEP_PREPARED, NULL);
	case W_SEND:
		return paid(j);
	case W_CONFIRM:
		if (j->paid_block &&
		    j->tip >= j->paid_block + b->cfg.confirmations) {
			if (j->state == MARKET_BUY_CONFIRMING) {
				j->state = MARKET_BUY_REQUESTING_KEY;
				j->phase_ms = now_ms();
			}
			return request_key(j);
		}
		if (now_ms() - j->phase_ms > b->cfg.confirm_timeout_ms)
			return job_end(j, MARKET_BUY_FAILED, "the licence is "
				       "not %u blocks deep after %u s (buy "
				       "again to go on: it is not paid "
				       "twice)", b->cfg.confirmations,
				       b->cfg.confirm_timeout_ms / 1000);
		return job_wait(j, WAIT_CONFIRM, b->cfg.poll_ms);
	}
}

/* ----------------------------------------------------------- the key */

static void on_key(void *arg, int err, int status, const uint8_t w[32]);
static void on_pubkey(void *arg, int err, const struct secp_pk *A);

/* A try that may succeed later (the agent's view, the network). */
static void key_retry(struct buy_job *j, const char *what)
{
	if (++j->key_tries >= MARKET_BUY_KEY_TRIES)
		return job_end(j, MARKET_BUY_FAILED, "the key agent: %s "
			       "(%u tries; buy again to retry)", what,
			       j->key_tries);
	log_info(LD_APP, "market: key agent: %s; again", what);
	/* the next try signs with a fresh tip and chain time */
	job_wait(j, WAIT_CONFIRM, j->b->cfg.poll_ms);
}

static void request_key(struct buy_job *j)
{
	struct market_buyer *b = j->b;
	struct keys_and_cert *kc = xmalloc(sizeof(*kc));
	struct market_key_request r;
	struct secp_pk E;
	int err;

	if (!lookup(j, j->o.agent, kc)) {
		free(kc);
		if (now_ms() - j->phase_ms > b->cfg.lookup_timeout_ms)
			return job_end(j, MARKET_BUY_FAILED, "the key agent's "
				       "destination was not found in %u s",
				       b->cfg.lookup_timeout_ms / 1000);
		return job_wait(j, WAIT_AGENT, b->cfg.poll_ms);
	}
	if (!j->have_A) {
		err = market_key_pubkey_fetch(b->mgr, b->el, kc,
					      b->cfg.call_timeout_ms,
					      on_pubkey, j);
		free(kc);
		if (err)
			return key_retry(j, err_str(err));
		j->calls++;
		return;
	}
	if (!j->e)
		j->e = secmem_alloc(sizeof(*j->e));
	secp_sk_generate(j->e);
	memset(&r, 0, sizeof(r));
	r.kr.token_id = j->lic.token_id;
	r.kr.deadline = j->chain_ts + b->cfg.key_ttl_s;
	if ((err = secp_sk_pubkey(j->e, &E)) == 0) {
		memcpy(r.kr.eph_pub, E.b, SECP_PK_BYTES);
		err = market_key_request_sign(b->cfg.dep.chain_id,
					      b->cfg.dep.key_release, &r.kr,
					      j->holder, &r);
	}
	if (err) {
		free(kc);
		return job_end(j, MARKET_BUY_FAILED, "signing the key "
			       "request: %s", err_str(err));
	}
	market_key_request_id(b->cfg.dep.chain_id, b->cfg.dep.key_release,
			      &r.kr, j->request_id);
	err = market_key_fetch(b->mgr, b->el, kc, &r, b->cfg.call_timeout_ms,
			       on_key, j);
	free(kc);
	if (err)
		return key_retry(j, err_str(err));
	j->calls++;
}

static void on_pubkey(void *arg, int err, const struct secp_pk *A)
{
	struct buy_job *j = arg;

	if (!call_back(j, MARKET_BUY_REQUESTING_KEY))
		return;
	if (err)
		return key_retry(j, err == ERR_PROTOCOL ? "its public key is "
				 "not a key" : err_str(err));
	j->A = *A;
	j->have_A = true;
	request_key(j);
}

static void on_key(void *arg, int err, int status, const uint8_t w[32])
{
	struct buy_job *j = arg;
	uint8_t k[32];
	int r;

	if (!call_back(j, MARKET_BUY_REQUESTING_KEY))
		return;
	if (err)
		return key_retry(j, err_str(err));
	switch (status) {
	case MARKET_KEY_OK:
		break;
	case MARKET_KEY_NOT_HOLDER:
	case MARKET_KEY_EXPIRED:
	case MARKET_KEY_CHAIN:
	case MARKET_KEY_BUSY:
		return key_retry(j, market_key_status_str(status));
	default:
		return job_end(j, MARKET_BUY_FAILED, "the key agent refused: "
			       "%s", market_key_status_str(status));
	}
	r = market_key_unwrap(w, j->e, &j->A, j->request_id,
			      j->o.content_hash, j->lc.key_commitment, k);
	if (r == ERR_AUTH)
		return job_end(j, MARKET_BUY_FAILED, "the key the agent sent "
			       "does not match the content's keyCommitment "
			       "on chain (a wrong or lying agent): refused");
	if (r != 0)
		return job_end(j, MARKET_BUY_FAILED, "unwrapping the key: %s",
			       err_str(r));
	keep(j, KEEP_KEY, k);
	sodium_memzero(k, sizeof(k));
}

static void on_timer(void *arg)
{
	struct market_buyer *b = arg;
	struct buy_job *j = b->active;
	enum buy_wait w;

	if (!j)
		return;
	w = j->wait;
	j->wait = WAIT_NONE;
	switch (w) {
	case WAIT_NONE:
		return;
	case WAIT_PREPARE:
		return submit(j, W_PREPARE);
	case WAIT_RELAYER:
		return relay(j);
	case WAIT_CONFIRM:
		return submit(j, W_CONFIRM);
	case WAIT_AGENT:
		return request_key(j);
	}
}

/* ------------------------------------------------------------ the API */

struct market_buyer *market_buyer_new(const struct market_buyer_config *c,
				      const struct secp_sk *payer,
				      struct market_rpc *rpc,
				      struct stream_mgr *mgr,
				      const struct client_net *net,
				      struct worker_pool *wp,
				      struct evloop *el,
				      struct market_library *lib)
{
	struct market_buyer *b = xzalloc(sizeof(*b));
	struct chain_transport t = market_rpc_transport(rpc);

	b->cfg = *c;
	if (payer && secp_sk_address(payer, b->payer_addr) == 0) {
		b->payer = secmem_alloc(sizeof(*b->payer));
		*b->payer = *payer;
	}
	b->rpc = rpc;
	b->cc = chain_client_new(&t, c->dep.chain_id);
	b->mgr = mgr;
	b->net = *net;
	b->wp = wp;
	b->el = el;
	b->lib = lib;
	b->timer = evloop_timer_new(el, on_timer, b);
	b->next_id = 1;
	return b;
}

unsigned market_buyer_busy(const struct market_buyer *b)
{
	return b ? b->busy : 0;
}

void market_buyer_free(struct market_buyer *b)
{
	struct buy_job *j, *next;

	if (!b)
		return;
	evloop_timer_free(b->timer);
	for (j = b->jobs; j; j = next) {
		next = j->next;
		j->b = NULL;
		if (j->calls)
			job_wipe(j);	/* freed by its last callback */
		else
			job_free(j);
	}
	chain_client_free(b->cc);
	if (b->payer)
		secmem_free(b->payer);
	free(b);
}

bool market_buyer_payer(const struct market_buyer *b, uint8_t out[20])
{
	if (!b->payer)
		return false;
	memcpy(out, b->payer_addr, 20);
	return true;
}

/* Keep the newest MARKET_BUY_JOBS_KEPT finished jobs. */
static void jobs_trim(struct market_buyer *b)
{
	struct buy_job **pp = &b->jobs;
	unsigned n = 0;

	while (*pp) {
		struct buy_job *j = *pp;

		if (++n > MARKET_BUY_JOBS_KEPT && j != b->active &&
		    !j->calls && (j->state == MARKET_BUY_DONE ||
				  j->state == MARKET_BUY_FAILED)) {
			*pp = j->next;
			job_free(j);
			continue;
		}
		pp = &j->next;
	}
}

int market_buyer_start(struct market_buyer *b,
		       const struct market_buy_order *o, uint64_t *id,
		       bool *done, const char **why)
{
	const struct market_licence *held =
		market_library_find(b->lib, o->content_hash);
	struct buy_job *j;

	if (held && held->sold_at) {
		/* its file keeps the seller's holder key (the payout) */
		*why = "this router sold its licence of the content; buying "
		       "it again is not supported";
		return ERR_BAD_STATE;
	}
	if (!b->payer && !(held && held->has_token)) {
		*why = "no wallet: set market.wallet.key";
		return ERR_BAD_STATE;
	}
	if (b->active && memcmp(b->active->o.content_hash, o->content_hash,
				32) == 0) {
		/* A second click on the same content follows the purchase
		 * under way: one content is never bought twice at once. */
		*id = b->active->id;
		*done = false;
		return 0;
	}
	if (b->active) {
		*why = "another purchase is under way; try again when it ends";
		return ERR_BAD_STATE;
	}
	j = xzalloc(sizeof(*j));
	j->b = b;
	j->id = b->next_id++;
	j->o = *o;
	j->phase_ms = now_ms();
	j->next = b->jobs;
	b->jobs = j;
	*id = j->id;
	*done = false;
	if (held && held->has_key) {
		j->lic = *held;
		j->route = "owned";
		j->state = MARKET_BUY_DONE;
		*done = true;
		jobs_trim(b);
		return 0;
	}
	b->active = j;
	j->holder = secmem_alloc(sizeof(*j->holder));
	if (held && held->has_token) {
		/* paid before, key missing: never pay twice */
		j->lic = *held;
		memcpy(j->lic.agent, o->agent, 32);
		j->route = "owned";
		if (market_library_holder_key(b->lib, o->content_hash,
					      j->holder) != 0) {
			job_end(j, MARKET_BUY_FAILED, "the licence's holder "
				"key cannot be read from the library");
			jobs_trim(b);
			return 0;
		}
		j->state = MARKET_BUY_CONFIRMING;
		submit(j, W_CONFIRM);
	} else {
		if (held)	/* an interrupted purchase: same holder */
			(void)market_library_holder_key(b->lib,
							o->content_hash,
							j->holder);
		if (!held || !secp_sk_is_valid(j->holder))
			secp_sk_generate(j->holder);
		memcpy(j->lic.content_hash, o->content_hash, 32);
		memcpy(j->lic.agent, o->agent, 32);
		j->lic.bought_at = (uint64_t)time(NULL);
		(void)secp_sk_address(j->holder, j->lic.holder);
		j->state = MARKET_BUY_PAYING;
		submit(j, W_PREPARE);
	}
	jobs_trim(b);
	return 0;
}

json_t *market_buyer_job_json(const struct market_buyer *b, uint64_t id)
{
	const struct buy_job *j;
	json_t *o;

	for (j = b->jobs; j && j->id != id; j = j->next)
		;
	if (!j)
		return NULL;
	o = market_licence_json(&j->lic);
	json_object_set_new(o, "id", json_integer((json_int_t)j->id));
	json_object_set_new(o, "state", json_string(
		market_buy_state_str(j->state)));
	json_object_set_new(o, "error", j->state == MARKET_BUY_FAILED ?
			    json_string(j->why) : json_null());
	json_object_set_new(o, "route", j->route ? json_string(j->route) :
			    json_null());
	json_object_set_new(o, "confirmations",
			    json_integer(b->cfg.confirmations));
	json_object_set_new(o, "paid_block",
			    json_integer((json_int_t)j->paid_block));
	json_object_set_new(o, "tip", json_integer((json_int_t)j->tip));
	return o;
}
