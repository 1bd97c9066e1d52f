/*
 * Reselling a licence held in the key library (apps/market/resale.h).
 */
#include "config.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/market/buy.h"
#include "apps/market/library.h"
#include "apps/market/relayer.h"
#include "apps/market/resale.h"
#include "apps/market/rpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/secmem.h"
#include "router/evloop.h"
#include "router/worker.h"

struct resale_job {
	struct market_reseller *r;	/* NULL once the reseller is gone */
	struct market_resale_order o;
	struct market_licence lic;
	struct secp_sk *holder;		/* secmem, the worker's input */
	/* worker output */
	int err;
	char why[200];
	uint8_t wire[MARKET_PAYOUT_WIRE_BYTES];	/* the largest request */
	size_t wlen;
	struct u256 amount;		/* payout */
	bool sold;			/* ownerOf is not the holder */
	/* loop */
	uint64_t phase_ms;
	bool calling;
};

struct market_reseller {
	struct market_reseller_config cfg;
	struct market_rpc *rpc;
	struct chain_client *cc;	/* the one worker job's */
	struct stream_mgr *mgr;
	struct client_net net;
	struct worker_pool *wp;
	struct evloop *el;
	struct market_library *lib;
	struct evloop_timer *timer;
	struct resale_job *job;
	market_resale_fn done;
	void *arg;
	unsigned busy;
};

const char *market_resale_action_str(enum market_resale_action a)
{
	switch (a) {
	case MARKET_RESALE_LIST:
		return "list";
	case MARKET_RESALE_CANCEL:
		return "cancel";
	case MARKET_RESALE_PAYOUT:
		return "payout";
	}
	return "?";
}

void market_reseller_config_default(struct market_reseller_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ttl_s = 1800;
	c->lookup_timeout_ms = 180000;
	c->call_timeout_ms = 120000;
	c->poll_ms = 1000;
}

static void job_free(struct resale_job *j)
{
	if (j->holder)
		secmem_free(j->holder);
	sodium_memzero(j, sizeof(*j));
	free(j);
}

/* ------------------------------------------------------------ the worker */

static void wfail(struct resale_job *j, struct chain_client *cc, int r,
		  const char *what)
{
	const char *m = cc ? chain_client_error(cc) : NULL;

	j->err = r ? r : ERR_BAD_STATE;
	snprintf(j->why, sizeof(j->why), "%s: %s", what,
		 m && *m ? m : err_str(j->err));
}

/* A uint256 view of the registry with one word argument. */
static int registry_view(struct chain_client *cc,
			 const struct chain_deploy *dep, struct bbuf *call,
			 struct u256 *out)
{
	int r = chain_call_u256(cc, dep->license_registry, call->data,
				call->len, out);

	bbuf_free(call);
	return r;
}

/* ownerOf the licence's token: j->sold when it is not the holder
 * address (resold or moved away). */
static int read_owner(struct resale_job *j, struct chain_client *cc,
		      const struct market_reseller_config *c)
{
	struct bbuf b = BBUF_INIT, ret = BBUF_INIT;
	int r;

	license_owner_of_call(&b, &j->lic.token_id);
	r = chain_call(cc, NULL, c->dep.license_registry, b.data, b.len,
		       &ret);
	bbuf_free(&b);
	if (r == 0 && ret.len != 32)
		r = ERR_FORMAT;
	if (r == 0)
		j->sold = memcmp(ret.data + 12, j->lic.holder, 20) != 0;
	bbuf_free(&ret);
	return r;
}

static void sign_list(struct resale_job *j, struct chain_client *cc,
		      const struct market_reseller_config *c)
{
	struct market_listing ml;
	int r;

	if ((r = read_owner(j, cc, c)) != 0)
		return wfail(j, cc, r, "reading the licence's owner");
	if (j->sold) {
		j->err = ERR_BAD_STATE;
		snprintf(j->why, sizeof(j->why), "the licence is no longer "
			 "held by its holder address (sold or moved)");
		return;
	}
	if ((r = market_listing_sign(cc, &c->dep, j->holder, &j->lic.token_id,
				     &j->o.price, &c->relayer_fee, c->ttl_s,
				     &ml)) != 0)
		return wfail(j, cc, r, "signing the listing");
	market_listing_encode(&ml, j->wire);
	j->wlen = MARKET_LISTING_WIRE_BYTES;
	sodium_memzero(&ml, sizeof(ml));
}

static void sign_cancel(struct resale_job *j, struct chain_client *cc,
			const struct market_reseller_config *c)
{
	struct market_cancel mc;
	struct bbuf b = BBUF_INIT;
	struct u256 ask, zero = u256_from_u64(0);
	int r;

	market_ask_price_call(&b, &j->lic.token_id);
	if ((r = registry_view(cc, &c->dep, &b, &ask)) != 0)
		return wfail(j, cc, r, "reading the listing");
	if (u256_is_zero(&ask)) {
		j->err = ERR_BAD_STATE;
		snprintf(j->why, sizeof(j->why), "the licence is not listed");
		return;
	}
	if ((r = market_cancel_sign(cc, &c->dep, j->holder, &j->lic.token_id,
				    &zero, c->ttl_s, &mc)) != 0)
		return wfail(j, cc, r, "signing the cancel");
	market_cancel_encode(&mc, j->wire);
	j->wlen = MARKET_CANCEL_WIRE_BYTES;
}

static void sign_payout(struct resale_job *j, struct chain_client *cc,
			const struct market_reseller_config *c)
{
	struct market_payout mp;
	struct bbuf b = BBUF_INIT;
	struct u256 owed;
	char n1[80], n2[80];
	int r;

	license_owed_call(&b, j->lic.holder);
	if ((r = registry_view(cc, &c->dep, &b, &owed)) != 0)
		return wfail(j, cc, r, "reading what the registry owes");
	if (u256_cmp(&owed, &c->relayer_fee) <= 0) {
		j->err = ERR_BAD_STATE;
		snprintf(j->why, sizeof(j->why), "the registry owes the holder "
			 "%s token units, not more than the relayer's fee %s",
			 u256_format_dec(&owed, n1, sizeof(n1)),
			 u256_format_dec(&c->relayer_fee, n2, sizeof(n2)));
		return;
	}
	(void)u256_sub(&j->amount, &owed, &c->relayer_fee);
	/* a payout usually follows a sale: the library learns of it */
	if ((r = read_owner(j, cc, c)) != 0)
		return wfail(j, cc, r, "reading the licence's owner");
	if ((r = market_payout_sign(cc, &c->dep, j->holder, j->o.to,
				    &j->amount, &c->relayer_fee, c->ttl_s,
				    &mp)) != 0)
		return wfail(j, cc, r, "signing the payout");
	market_payout_encode(&mp, j->wire);
	j->wlen = MARKET_PAYOUT_WIRE_BYTES;
}

static void work_run(void *arg)
{
	struct resale_job *j = arg;
	struct market_reseller *r = j->r;

	switch (j->o.action) {
	case MARKET_RESALE_LIST:
		sign_list(j, r->cc, &r->cfg);
		break;
	case MARKET_RESALE_CANCEL:
		sign_cancel(j, r->cc, &r->cfg);
		break;
	case MARKET_RESALE_PAYOUT:
		sign_payout(j, r->cc, &r->cfg);
		break;
	}
	secmem_free(j->holder);
	j->holder = NULL;
}

/* ------------------------------------------------------------- the loop */

/* The job's end: the callback, then the job freed. */
static void finish(struct resale_job *j, int err, const char *why)
{
	struct market_reseller *r = j->r;
	json_t *o = NULL;
	char hex[65], num[80], to[ETH_ADDR_STR_BYTES];

	evloop_timer_disarm(r->timer);
	r->job = NULL;
	if (err == 0) {
		(void)hex_encode(hex, sizeof(hex), j->o.content_hash, 32);
		o = json_pack("{ssssss}", "action",
			      market_resale_action_str(j->o.action),
			      "content_hash", hex, "token_id",
			      u256_format_dec(&j->lic.token_id, num,
					      sizeof(num)));
		json_object_set_new(o, "relayer_fee", json_string(
			j->o.action == MARKET_RESALE_CANCEL ? "0" :
			u256_format_dec(&r->cfg.relayer_fee, num,
					sizeof(num))));
		if (j->o.action == MARKET_RESALE_LIST)
			json_object_set_new(o, "price", json_string(
				u256_format_dec(&j->o.price, num,
						sizeof(num))));
		if (j->o.action == MARKET_RESALE_PAYOUT) {
			(void)eth_addr_format(j->o.to, to, sizeof(to));
			json_object_set_new(o, "amount", json_string(
				u256_format_dec(&j->amount, num,
						sizeof(num))));
			json_object_set_new(o, "to", json_string(to));
		}
		log_notice(LD_APP, "market: resale %s of token %s relayed",
			   market_resale_action_str(j->o.action),
			   u256_format_dec(&j->lic.token_id, num,
					   sizeof(num)));
	} else {
		log_warn(LD_APP, "market: resale %s failed: %s",
			 market_resale_action_str(j->o.action), why);
	}
	if (r->done)
		r->done(r->arg, err, why, o);
	r->done = NULL;
	json_decref(o);
	job_free(j);
}

static void on_answer(void *arg, int err, int status,
		      const struct u256 *token_id)
{
	struct resale_job *j = arg;

	(void)token_id;
	if (!j->r) {		/* the reseller went away meanwhile */
		job_free(j);
		return;
	}
	j->calling = false;
	if (err) {
		char why[96];

		snprintf(why, sizeof(why), "the relayer did not answer: %s",
			 err_str(err));
		return finish(j, err, why);
	}
	if (status != MARKET_RELAY_OK)
		return finish(j, status == MARKET_RELAY_CHAIN ||
			      status == MARKET_RELAY_BUSY ? ERR_IO :
			      ERR_BAD_STATE, market_relay_status_str(status));
	finish(j, 0, NULL);
}

/* The relayer's destination, then the call. */
static void relay(struct resale_job *j)
{
	struct market_reseller *r = j->r;
	struct keys_and_cert *kc = xmalloc(sizeof(*kc));
	int e;

	if (r->net.lookup(r->net.ctx, r->cfg.relayer, kc) != 0) {
		free(kc);
		if (time_mono_ms() - j->phase_ms > r->cfg.lookup_timeout_ms)
			return finish(j, ERR_TIMEOUT, "the relayer's "
				      "destination was not found");
		evloop_timer_arm(r->timer, r->cfg.poll_ms);
		return;
	}
	e = market_resale_send(r->mgr, r->el, kc, j->wire, j->wlen,
			       r->cfg.call_timeout_ms, on_answer, j);
	free(kc);
	if (e != 0)
		return finish(j, e, "cannot reach the relayer");
	j->calling = true;
}

static void on_timer(void *arg)
{
	struct market_reseller *r = arg;

	if (r->job && !r->job->calling)
		relay(r->job);
}

static void work_done(void *arg)
{
	struct resale_job *j = arg;
	char num[80];

	j->r->busy--;
	/* a file under a page: written on the loop (library.h) */
	if (j->sold && market_library_mark_sold(j->r->lib, j->o.content_hash,
						(uint64_t)time(NULL)) == 0)
		log_notice(LD_APP, "market: the licence of token %s is no "
			   "longer held (sold or moved): marked sold",
			   u256_format_dec(&j->lic.token_id, num,
					   sizeof(num)));
	if (j->err)
		return finish(j, j->err, j->why);
	j->phase_ms = time_mono_ms();
	relay(j);
}

struct market_reseller *market_reseller_new(
	const struct market_reseller_config *c, struct market_rpc *rpc,
	struct stream_mgr *mgr, const struct client_net *net,
	struct worker_pool *wp, struct evloop *el, struct market_library *lib)
{
	struct market_reseller *r = xcalloc(1, sizeof(*r));
	struct chain_transport t = market_rpc_transport(rpc);

	r->cfg = *c;
	r->rpc = rpc;
	r->cc = chain_client_new(&t, c->dep.chain_id);
	r->mgr = mgr;
	r->net = *net;
	r->wp = wp;
	r->el = el;
	r->lib = lib;
	r->timer = evloop_timer_new(el, on_timer, r);
	return r;
}

unsigned market_reseller_busy(const struct market_reseller *r)
{
	return r ? r->busy : 0;
}

void market_reseller_free(struct market_reseller *r)
{
	if (!r)
		return;
	if (BUG(r->busy != 0))
		return;		/* a worker still uses it: leak, not crash */
	if (r->job) {
		if (r->job->calling)
			r->job->r = NULL;	/* on_answer frees it */
		else
			job_free(r->job);
	}
	evloop_timer_free(r->timer);
	chain_client_free(r->cc);
	free(r);
}

int market_reseller_start(struct market_reseller *r,
			  const struct market_resale_order *o,
			  market_resale_fn done, void *arg, const char **why)
{
	const struct market_licence *l;
	struct resale_job *j;
	uint8_t be[32], addr[20];
	int e;

	if (r->job) {
		*why = "a resale step is under way; try again when it ends";
		return ERR_BAD_STATE;
	}
	if (!r->cfg.has_relayer) {
		*why = "no relayer is set (market.buy.relayer): the holder "
		       "address has no ETH";
		return ERR_BAD_STATE;
	}
	u256_to_be(&o->price, be);
	if (o->action == MARKET_RESALE_LIST &&
	    (u256_is_zero(&o->price) || !sodium_is_zero(be, 20))) {
		*why = "price: more than 0 and below 2^96 needed";
		return ERR_BAD_STATE;
	}
	if (o->action == MARKET_RESALE_PAYOUT && !o->has_to &&
	    !r->cfg.has_payee) {
		*why = "to: no wallet (market.wallet.key) to pay out to";
		return ERR_BAD_STATE;
	}
	l = market_library_find(r->lib, o->content_hash);
	if (!l || !l->has_token) {
		*why = "no licence for this content in the key library";
		return ERR_NOT_FOUND;
	}
	j = xcalloc(1, sizeof(*j));
	j->r = r;
	j->o = *o;
	if (o->action == MARKET_RESALE_PAYOUT && !o->has_to)
		memcpy(j->o.to, r->cfg.payee, 20);
	j->lic = *l;
	j->holder = secmem_alloc(sizeof(*j->holder));
	/* a file under a page: read on the loop (library.h) */
	if ((e = market_library_holder_key(r->lib, o->content_hash,
					   j->holder)) != 0 ||
	    secp_sk_address(j->holder, addr) != 0 ||
	    memcmp(addr, l->holder, 20) != 0) {
		job_free(j);
		*why = "the licence's holder key cannot be read";
		return e ? e : ERR_BAD_STATE;
	}
	r->job = j;
	r->done = done;
	r->arg = arg;
	r->busy++;
	worker_submit(r->wp, (struct work){ work_run, work_done, j });
	return 0;
}
