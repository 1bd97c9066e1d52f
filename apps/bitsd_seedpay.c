/*
 * bitsd's pay per chunk (apps/bitsd_seedpay.h): seedpay on the swarm,
 * pots read on a worker, vouchers redeemed through a relayer.
 */
#include "config.h"
#include "apps/bitsd_seedpay.h"
#include "apps/api/api.h"
#include "apps/bitsd_market.h"
#include "apps/content/manifest.h"
#include "apps/content/store.h"
#include "apps/market/hostpay.h"
#include "apps/market/relayer.h"
#include "apps/market/seedpay.h"
#include "apps/market/service.h"
#include "apps/swarm/swarm.h"
#include "chain/abi.h"
#include "chain/calls.h"
#include "chain/eip712.h"
#include "chain/rpc.h"
#include "chain/stealth.h"
#include "router/conf.h"
#include "router/evloop.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"
#include "crypto/secmem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 1000u

/* A pot signer met in a voucher. */
struct signer {
	uint8_t a[ETH_ADDR_BYTES];
	uint64_t read_ms;		/* monotonic; 0: never read */
	uint64_t retry_ms;		/* a failed read: not before */
	bool want;			/* a voucher waits for it */
};

/* A worker's pot reads. */
struct pot_job {
	struct bitsd_seedpay *sp;
	uint8_t (*a)[ETH_ADDR_BYTES];
	struct hub_pot *pot;
	bool *ok;
	size_t n;
};

/* A batch handed to the relayer (outlives sp when it stops first). */
struct redeem_req {
	struct bitsd_seedpay *sp;	/* NULL: stopped meanwhile */
	struct chunkpay_batch b;	/* its first n vouchers were sent */
	size_t n;
	/* with a relayer fee: the payee's hub nonce read on a worker first */
	struct keys_and_cert *kc;	/* the relayer */
	size_t payee;			/* the voucher whose payee pays */
	uint8_t payee_a[ETH_ADDR_BYTES];
	struct u256 nonce;
	struct u256 balance;		/* its hub balance before the batch */
	unsigned fee_bps;		/* the hub's protocol fee */
	int nonce_err;
	bool no_fee;			/* the fee would not fit: sent plain */
};

/* A worker's reads of what the chain paid of lanes (redeemed(laneKey)). */
struct sync_job {
	struct bitsd_seedpay *sp;
	struct chunkpay_saved *lanes;
	struct u256 *paid;
	bool *ok;
	size_t n;
};

/* The kept vouchers (and a host's lanes) written on a worker. */
struct save_job {
	struct bitsd_seedpay *sp;
	char *path, *hpath;		/* hpath NULL: not a host */
	struct bbuf b, hb;
	int err;
};

/* A (host, content) to pay this epoch. */
struct hp_pair {
	uint8_t host[32], hash[32];
	unsigned tries;			/* lookups of the host so far */
};

/* A host's TERMS and then VOUCHER call (outlives sp when it stops). */
struct hp_call {
	struct bitsd_seedpay *sp;	/* NULL: stopped meanwhile */
	struct hp_pair p;
	struct keys_and_cert kc;
	uint8_t expect[HOSTPAY_PROOF_BYTES];	/* the challenge's proof */
};

struct payee_shown {
	uint8_t a[ETH_ADDR_BYTES];
	struct u256 cumulative;
};

struct bitsd_seedpay {
	struct bitsd_seedpay_deps deps;
	struct chain_deploy dep;
	uint8_t sep[32];
	struct chain_client *cc;	/* pot reads; NULL: none */
	struct market_seedpay *sp;
	struct secp_sk *view, *spend, *pot_sk;	/* secmem */
	uint8_t pot_addr[ETH_ADDR_BYTES];
	struct u256 price, max_price;
	struct evloop_timer *tick;
	/* pots */
	struct signer *sig;
	size_t nsig;
	struct pot_job *job;		/* under way */
	uint64_t pot_reads, pot_failed;
	/* redemption */
	bool has_relayer;
	uint8_t relayer[32];
	uint64_t delay_ms, redeem_at_ms;	/* monotonic */
	struct redeem_req *rq;		/* under way */
	uint64_t batches, redeemed, redeem_failed;
	struct u256 redeemed_value;
	struct payee_shown shown[BITSD_SEEDPAY_PAYEES_SHOWN];
	size_t nshown;
	/* vouchers kept across restarts (DATADIR/MARKET_VOUCHERS_FILE), and
	 * a host's lanes (DATADIR/BITSD_HOSTPAY_LANES_FILE) */
	char *vpath, *hpath;
	uint64_t saved_changes;
	struct save_job *save;		/* under way */
	bool sync_due;			/* ask the chain before redeeming */
	struct sync_job *sync;		/* under way */
	uint64_t restored, saves, save_failed, syncs;
	struct u256 redeem_fee;		/* offered per batch (0: none) */
	bool nonce_job;			/* a payee's nonce being read */
	uint64_t fees_paid, fees_skipped;
	unsigned redeem_fails;		/* in a row: the retry's back-off */
	/* a host paid per epoch (docs/market.md §8) */
	struct hostpay_host *host;	/* NULL: not a host */
	struct u256 host_price;
	struct market_service hsv;
	struct market_rate hrate, hrate_all;	/* per creator, in all */
	bool serving;
	/* a creator paying its hosts per epoch */
	struct hostpay_creator *creator;	/* NULL: not paying */
	struct secp_sk *host_sk;	/* secmem: its pot signer */
	uint8_t host_addr[ETH_ADDR_BYTES];
	struct u256 host_max, host_budget;
	uint64_t epoch_ms, epoch_at_ms;	/* monotonic */
	uint8_t (*hosts)[32], (*contents)[32];	/* contents NULL: all held */
	size_t nhosts, ncontents;
	struct hp_pair *q;		/* this epoch's pairs left */
	size_t nq;
	uint64_t q_at_ms;
	struct hp_call *call;		/* under way */
	uint64_t calls_failed, lookups_failed, epochs;
};

bool bitsd_seedpay_wanted(const struct conf *cfg)
{
	return cfg->swarm_pay_price || cfg->swarm_pay_key ||
	       cfg->swarm_host_price || cfg->swarm_host_pay_key;
}

static json_t *u256_json(const struct u256 *v)
{
	char s[U256_DEC_BYTES];

	return json_string(u256_format_dec(v, s, sizeof(s)));
}

static json_t *addr_json(const uint8_t a[ETH_ADDR_BYTES])
{
	char s[2 + 2 * ETH_ADDR_BYTES + 1];

	return json_string(eth_addr_format(a, s, sizeof(s)));
}

/* ------------------------------------------------------------- pots */

static void pot_run(void *arg)
{
	struct pot_job *j = arg;
	struct bitsd_seedpay *sp = j->sp;
	struct bbuf call = BBUF_INIT, ret = BBUF_INIT;

	for (size_t i = 0; i < j->n; i++) {
		bbuf_reset(&call);
		bbuf_reset(&ret);
		hub_pots_call(&call, j->a[i]);
		j->ok[i] = chain_call(sp->cc, NULL, sp->dep.payment_hub,
				      call.data, call.len, &ret) == 0 &&
			   hub_pot_decode(ret.data, ret.len, &j->pot[i]) == 0;
	}
	bbuf_free(&call);
	bbuf_free(&ret);
}

static struct signer *signer_find(struct bitsd_seedpay *sp,
				  const uint8_t a[ETH_ADDR_BYTES])
{
	for (size_t i = 0; i < sp->nsig; i++)
		if (memcmp(sp->sig[i].a, a, ETH_ADDR_BYTES) == 0)
			return &sp->sig[i];
	return NULL;
}

static void pot_done(void *arg)
{
	struct pot_job *j = arg;
	struct bitsd_seedpay *sp = j->sp;
	uint64_t now = time_mono_ms();

	sp->job = NULL;
	for (size_t i = 0; i < j->n; i++) {
		struct signer *s = signer_find(sp, j->a[i]);

		if (!j->ok[i]) {
			sp->pot_failed++;
			if (s)
				s->retry_ms = now + BITSD_SEEDPAY_RETRY_MS;
			continue;
		}
		sp->pot_reads++;
		if (s) {
			s->read_ms = now;
			s->want = false;
		}
		market_seedpay_pot_set(sp->sp, j->a[i], &j->pot[i],
				       time_now_s());
	}
	free(j->a);
	free(j->pot);
	free(j->ok);
	free(j);
}

/* Read the pots waited for, or older than the TTL, on a worker. */
static void pots_read(struct bitsd_seedpay *sp)
{
	uint64_t now = time_mono_ms();
	struct pot_job *j;

	if (sp->job || sp->sync || sp->nonce_job || !sp->cc)
		return;
	j = xzalloc(sizeof(*j));
	j->sp = sp;
	j->a = xcalloc(sp->nsig ? sp->nsig : 1, sizeof(*j->a));
	j->pot = xcalloc(sp->nsig ? sp->nsig : 1, sizeof(*j->pot));
	j->ok = xcalloc(sp->nsig ? sp->nsig : 1, sizeof(*j->ok));
	for (size_t i = 0; i < sp->nsig; i++) {
		struct signer *s = &sp->sig[i];
		bool due = s->want ||
			   now - s->read_ms >= BITSD_SEEDPAY_POT_TTL_S * 1000u;

		if (due && now >= s->retry_ms)
			memcpy(j->a[j->n++], s->a, ETH_ADDR_BYTES);
	}
	if (j->n == 0) {
		free(j->a);
		free(j->pot);
		free(j->ok);
		free(j);
		return;
	}
	sp->job = j;
	worker_submit(sp->deps.wp, (struct work){ pot_run, pot_done, j });
}

/* seedpay asks for signer's pot (a voucher waits for it). */
static void pot_fetch(void *ctx, const uint8_t signer[ETH_ADDR_BYTES])
{
	struct bitsd_seedpay *sp = ctx;
	struct signer *s = signer_find(sp, signer);

	if (!s) {
		if (sp->nsig == BITSD_SEEDPAY_SIGNERS_MAX) {
			log_info(LD_APP, "seedpay: too many pots to follow");
			return;
		}
		sp->sig = xrealloc(sp->sig, (sp->nsig + 1) * sizeof(*sp->sig));
		s = &sp->sig[sp->nsig++];
		memset(s, 0, sizeof(*s));
		memcpy(s->a, signer, ETH_ADDR_BYTES);
	}
	s->want = true;
	pots_read(sp);
}

/* --------------------------------------------- vouchers kept on disk */

static void sync_run(void *arg)
{
	struct sync_job *j = arg;
	struct bbuf call = BBUF_INIT;
	uint8_t sel[4], key[32];

	abi_selector(sel, "redeemed(bytes32)");
	for (size_t i = 0; i < j->n; i++) {
		chunkpay_lane_key(j->lanes[i].signer, j->lanes[i].v.lane,
				  j->lanes[i].v.recipient, key);
		bbuf_reset(&call);
		bbuf_put(&call, sel, 4);
		bbuf_put(&call, key, 32);
		j->ok[i] = chain_call_u256(j->sp->cc, j->sp->dep.payment_hub,
					   call.data, call.len,
					   &j->paid[i]) == 0;
	}
	bbuf_free(&call);
}

static void sync_done(void *arg)
{
	struct sync_job *j = arg;
	struct bitsd_seedpay *sp = j->sp;
	struct chunkpay_payee *pe = market_seedpay_payee(sp->sp);
	bool all = true;

	sp->sync = NULL;
	for (size_t i = 0; i < j->n; i++) {
		if (!j->ok[i]) {
			all = false;
			continue;
		}
		chunkpay_payee_chain_redeemed(pe, j->lanes[i].signer,
					      j->lanes[i].v.lane,
					      j->lanes[i].v.recipient,
					      &j->paid[i]);
	}
	if (all) {
		sp->sync_due = false;
		sp->syncs++;
	}
	free(j->lanes);
	free(j->paid);
	free(j->ok);
	free(j);
}

/* Read on a worker what the chain paid of every lane owed (after a
 * restart, or a redemption that failed: its answer may have been lost
 * while the chain paid it), so no voucher is sent twice. */
static void sync_start(struct bitsd_seedpay *sp)
{
	struct sync_job *j;

	if (sp->sync || sp->job || sp->nonce_job || !sp->cc)
		return;			/* one worker on sp->cc at a time */
	j = xzalloc(sizeof(*j));
	j->sp = sp;
	j->n = chunkpay_payee_saved(market_seedpay_payee(sp->sp), &j->lanes);
	if (j->n == 0) {
		free(j);
		sp->sync_due = false;
		return;
	}
	j->paid = xcalloc(j->n, sizeof(*j->paid));
	j->ok = xcalloc(j->n, sizeof(*j->ok));
	sp->sync = j;
	worker_submit(sp->deps.wp, (struct work){ sync_run, sync_done, j });
}

/* What the kept files hold changed: the payee's vouchers, the host's
 * lanes (both only grow). */
static uint64_t kept_changes(const struct bitsd_seedpay *sp)
{
	uint64_t ch = chunkpay_payee_changes(market_seedpay_payee(sp->sp));

	return sp->host ? ch + hostpay_host_changes(sp->host) : ch;
}

/* The vouchers, and the host's lanes when hpath is set (0600, atomic). */
static int kept_write(const char *path, const struct bbuf *b,
		      const char *hpath, const struct bbuf *hb)
{
	int r = market_vouchers_write(path, b);

	return r == 0 && hpath ? market_vouchers_write(hpath, hb) : r;
}

static void save_run(void *arg)
{
	struct save_job *j = arg;

	j->err = kept_write(j->path, &j->b, j->hpath, &j->hb);
}

static void save_done(void *arg)
{
	struct save_job *j = arg;
	struct bitsd_seedpay *sp = j->sp;

	sp->save = NULL;
	if (j->err) {
		sp->save_failed++;
		log_warn(LD_APP, "seedpay: cannot keep the vouchers in %s: %s",
			 j->path, err_str(j->err));
		sp->saved_changes = UINT64_MAX;	/* try again */
	} else {
		sp->saves++;
	}
	bbuf_free(&j->b);
	bbuf_free(&j->hb);
	free(j->path);
	free(j->hpath);
	free(j);
}

/* The payee changed since the last write: write its vouchers owed (the
 * bytes made here, the file written on a worker). */
static void save_start(struct bitsd_seedpay *sp)
{
	struct chunkpay_payee *pe = market_seedpay_payee(sp->sp);
	uint64_t ch = kept_changes(sp);
	struct save_job *j;

	if (sp->save || !sp->vpath || ch == sp->saved_changes)
		return;
	j = xzalloc(sizeof(*j));
	j->sp = sp;
	j->path = xstrdup(sp->vpath);
	market_vouchers_encode(pe, &j->b);
	if (sp->host && sp->hpath) {
		j->hpath = xstrdup(sp->hpath);
		hostpay_host_lanes_encode(sp->host, &j->hb);
	}
	sp->saved_changes = ch;
	sp->save = j;
	worker_submit(sp->deps.wp, (struct work){ save_run, save_done, j });
}

/* ------------------------------------------------------- redemption */

static void redeem_arm(struct bitsd_seedpay *sp)
{
	sp->redeem_at_ms = time_mono_ms() +
		chunkpay_redeem_delay_ms(sp->delay_ms / 4, sp->delay_ms);
}

/* What the payee holds and has not redeemed yet. */
static struct u256 unredeemed(struct bitsd_seedpay *sp)
{
	struct chunkpay_batch b;
	struct u256 t = u256_from_u64(0);

	if (chunkpay_payee_batch(market_seedpay_payee(sp->sp), true, &b) == 0)
		t = b.total;
	chunkpay_batch_free(&b);
	return t;
}

static void show_payee(struct bitsd_seedpay *sp,
		       const struct eip712_voucher *v)
{
	struct payee_shown *e = NULL;

	for (size_t i = 0; i < sp->nshown && !e; i++)
		if (!memcmp(sp->shown[i].a, v->recipient, ETH_ADDR_BYTES))
			e = &sp->shown[i];
	if (!e) {
		if (sp->nshown == BITSD_SEEDPAY_PAYEES_SHOWN) {
			memmove(sp->shown, sp->shown + 1,
				(sp->nshown - 1) * sizeof(*sp->shown));
			sp->nshown--;
		}
		e = &sp->shown[sp->nshown++];
		memcpy(e->a, v->recipient, ETH_ADDR_BYTES);
	}
	e->cumulative = v->cumulative;
}

static void redeem_done(void *arg, int err, int status,
			const struct u256 *token_id)
{
	struct redeem_req *rq = arg;
	struct bitsd_seedpay *sp = rq->sp;

	(void)token_id;
	if (sp) {
		sp->rq = NULL;
		if (err == 0 && status == MARKET_RELAY_OK && rq->kc &&
		    !rq->no_fee)
			sp->fees_paid++;
		if (err == 0 && status == MARKET_RELAY_OK) {
			struct chunkpay_batch sent = rq->b;
			struct u256 before = unredeemed(sp), after, d;

			sent.n = rq->n;
			chunkpay_payee_redeemed(market_seedpay_payee(sp->sp),
						&sent);
			after = unredeemed(sp);
			if (u256_sub(&d, &before, &after) == 0)
				(void)u256_add(&sp->redeemed_value,
					       &sp->redeemed_value, &d);
			for (size_t i = 0; i < rq->n; i++)
				show_payee(sp, &rq->b.v[i]);
			sp->batches++;
			sp->redeemed += rq->n;
			log_info(LD_APP, "seedpay: %zu vouchers redeemed",
				 rq->n);
			sp->redeem_fails = 0;
			redeem_arm(sp);
		} else {
			uint64_t wait;

			sp->redeem_failed++;
			sp->sync_due = true;
			/* backed off: a batch the chain refuses (its gas
			 * estimate failing) fails the same way each time */
			wait = market_seedpay_retry_ms(++sp->redeem_fails,
						       BITSD_SEEDPAY_RETRY_MS,
						       BITSD_SEEDPAY_RETRY_MAX_MS);
			log_info(LD_APP, "seedpay: redemption failed: %s; "
				 "again in %llu s (%u in a row)",
				 err ? err_str(err) : "the relayer refused",
				 (unsigned long long)(wait / 1000),
				 sp->redeem_fails);
			sp->redeem_at_ms = time_mono_ms() + wait;
		}
	}
	chunkpay_batch_free(&rq->b);
	free(rq->kc);
	free(rq);
}

static void nonce_run(void *arg)
{
	struct redeem_req *rq = arg;
	struct bbuf call = BBUF_INIT;

	struct u256 bps;
	uint8_t sel[4];
	int r;

	hub_nonces_call(&call, rq->payee_a);
	r = chain_call_u256(rq->sp->cc, rq->sp->dep.payment_hub, call.data,
			    call.len, &rq->nonce);
	bbuf_free(&call);
	/* what it will hold, for the fee (market_seedpay_fee_fits) */
	if (r == 0) {
		hub_balances_call(&call, rq->payee_a);
		r = chain_call_u256(rq->sp->cc, rq->sp->dep.payment_hub,
				    call.data, call.len, &rq->balance);
		bbuf_free(&call);
	}
	if (r == 0) {
		abi_selector(sel, "protocolFeeBps()");
		r = chain_call_u256(rq->sp->cc, rq->sp->dep.payment_hub, sel,
				    sizeof(sel), &bps);
	}
	if (r == 0 && (!u256_fits_u64(&bps) || bps.w[0] > 10000))
		r = ERR_FORMAT;
	if (r == 0)
		rq->fee_bps = (unsigned)bps.w[0];
	rq->nonce_err = r;
}

/* The relayer fee does not fit what the payee will hold (a setting
 * above a batch's value): the batch goes without it. */
static bool fee_fits(struct redeem_req *rq)
{
	struct bitsd_seedpay *sp = rq->sp;
	struct u256 *owed = xcalloc(rq->n, sizeof(*owed)), holds;
	size_t k = 0;
	char a[80], b[80];
	bool fits;

	for (size_t i = 0; i < rq->n; i++)
		if (!memcmp(rq->b.v[i].recipient, rq->payee_a, ETH_ADDR_BYTES))
			owed[k++] = rq->b.owed[i];
	fits = market_seedpay_fee_fits(&sp->redeem_fee, &rq->balance, owed,
				       k, rq->fee_bps, &holds);
	free(owed);
	if (!fits) {
		sp->fees_skipped++;
		log_warn(LD_APP, "seedpay: swarm.pay.relayer-fee %s is above "
			 "what the batch's payee holds once it is redeemed "
			 "(%s): this batch goes without a fee",
			 u256_format_dec(&sp->redeem_fee, a, sizeof(a)),
			 u256_format_dec(&holds, b, sizeof(b)));
	}
	return fits;
}

/* The payee's nonce is known: its stealth key signs the fee, the batch
 * goes to the relayer. */
static void nonce_done(void *arg)
{
	struct redeem_req *rq = arg;
	struct bitsd_seedpay *sp = rq->sp;
	struct eip712_redeem_fee f;
	uint8_t fsig[SECP_SIG_BYTES];
	struct secp_sk psk;
	struct stream_mgr *mgr;
	int r = rq->nonce_err;

	sp->nonce_job = false;
	mgr = bitsd_market_streams(sp->deps.market);
	if (r == 0 && !mgr)
		r = ERR_BAD_STATE;
	if (r == 0 && !fee_fits(rq)) {
		rq->no_fee = true;
		r = market_redeem_send(mgr, sp->deps.el, rq->kc, rq->b.v,
				       (const uint8_t (*)[SECP_SIG_BYTES])
				       rq->b.sig, rq->n,
				       BITSD_SEEDPAY_REDEEM_TIMEOUT_MS,
				       redeem_done, rq);
		if (r != 0)
			redeem_done(rq, r, 0, NULL);
		return;
	}
	if (r == 0)
		r = stealth_spend_key(&psk, sp->spend, sp->view,
				      &rq->b.eph[rq->payee]);
	if (r == 0)
		r = market_redeem_fee_sign(sp->sep, rq->b.v, rq->n, &psk,
					   &sp->redeem_fee, &rq->nonce,
					   rq->b.v[rq->payee].expiry, &f,
					   fsig);
	memwipe(&psk, sizeof(psk));
	if (r == 0)
		r = market_redeem_fee_send(mgr, sp->deps.el, rq->kc, rq->b.v,
					   (const uint8_t (*)[SECP_SIG_BYTES])
					   rq->b.sig, rq->n, &f, fsig,
					   BITSD_SEEDPAY_REDEEM_TIMEOUT_MS,
					   redeem_done, rq);
	if (r != 0)
		redeem_done(rq, r, 0, NULL);
}

/* Hand the vouchers due to the relayer (MARKET_REDEEM_MAX at a time). */
static void redeem(struct bitsd_seedpay *sp)
{
	struct keys_and_cert *kc;
	struct stream_mgr *mgr;
	struct redeem_req *rq;
	int r;

	if (sp->rq || sp->sync_due || sp->sync ||
	    time_mono_ms() < sp->redeem_at_ms)
		return;
	rq = xzalloc(sizeof(*rq));
	if (chunkpay_payee_batch_due(market_seedpay_payee(sp->sp),
				     time_now_s(), sp->delay_ms / 1000 +
				     BITSD_SEEDPAY_REDEEM_SLACK_S,
				     &rq->b) != 0 || rq->b.n == 0) {
		free(rq);
		redeem_arm(sp);
		return;
	}
	rq->n = rq->b.n < MARKET_REDEEM_MAX ? rq->b.n : MARKET_REDEEM_MAX;
	kc = xmalloc(sizeof(*kc));
	mgr = bitsd_market_streams(sp->deps.market);
	r = !mgr ? ERR_BAD_STATE :
	    sp->deps.net.lookup(sp->deps.net.ctx, sp->relayer, kc);
	if (r == 0 && !u256_is_zero(&sp->redeem_fee)) {
		/* the fee from the payee of the largest voucher, its hub
		 * nonce read first (one worker on sp->cc at a time) */
		if (sp->job || sp->sync) {
			r = ERR_BAD_STATE;
		} else {
			for (size_t i = 1; i < rq->n; i++)
				if (u256_cmp(&rq->b.owed[i],
					     &rq->b.owed[rq->payee]) > 0)
					rq->payee = i;
			memcpy(rq->payee_a, rq->b.v[rq->payee].recipient,
			       ETH_ADDR_BYTES);
			rq->sp = sp;
			rq->kc = kc;
			sp->rq = rq;
			sp->nonce_job = true;
			worker_submit(sp->deps.wp,
				      (struct work){ nonce_run, nonce_done,
						     rq });
			return;
		}
	}
	if (r == 0) {
		rq->sp = sp;
		r = market_redeem_send(mgr, sp->deps.el, kc, rq->b.v,
				       (const uint8_t (*)[SECP_SIG_BYTES])
				       rq->b.sig, rq->n,
				       BITSD_SEEDPAY_REDEEM_TIMEOUT_MS,
				       redeem_done, rq);
	}
	free(kc);
	if (r != 0) {
		/* the relayer not known yet (a lookup started) */
		chunkpay_batch_free(&rq->b);
		free(rq);
		sp->redeem_at_ms = time_mono_ms() + BITSD_SEEDPAY_RETRY_MS;
		return;
	}
	sp->rq = rq;
}

/* ------------------------------------------- hosts paid per epoch */

/* The host's word: the content is held whole in the store. */
static bool host_holds(void *ctx, const uint8_t hash[32])
{
	struct bitsd_seedpay *sp = ctx;
	struct content_store_info i;

	return sp->deps.store &&
	       content_store_info(sp->deps.store, hash, &i) == 0 &&
	       i.chunk_count > 0 && i.have_count == i.chunk_count;
}

/* The proof for chunk idx of hash (hostpay_proof() over the stored
 * chunk, read on the loop as the swarm reads the chunks it serves, and
 * checked against the content's root): the host's answer to a challenge,
 * and the creator's own copy's to check it. */
static int chunk_proof(struct content_store *st, const uint8_t hash[32],
		       const uint8_t challenge[HOSTPAY_CHALLENGE_BYTES],
		       uint32_t idx, uint8_t proof[HOSTPAY_PROOF_BYTES])
{
	const size_t cap = ((size_t)1 << CONTENT_CHUNK_LOG2_MAX) +
			   CONTENT_TAG_BYTES;	/* a stored chunk */
	struct content_store_info i;
	uint8_t *buf;
	size_t len = 0;
	int r;

	if (!st || (r = content_store_info(st, hash, &i)) != 0)
		return ERR_NOT_FOUND;
	if (idx >= i.chunk_count)
		return ERR_RANGE;
	buf = xmalloc(cap);
	r = content_store_chunk_get(st, hash, idx, buf, cap, &len, NULL);
	if (r == 0)
		hostpay_proof(challenge, idx, buf, len, proof);
	free(buf);
	return r;
}

static int host_prove(void *ctx, const uint8_t hash[32],
		      const uint8_t challenge[HOSTPAY_CHALLENGE_BYTES],
		      uint32_t idx, uint8_t proof[HOSTPAY_PROOF_BYTES])
{
	return chunk_proof(((struct bitsd_seedpay *)ctx)->deps.store, hash,
			   challenge, idx, proof);
}

/* A creator's request to our host service (untrusted). */
static void host_request(void *ctx, struct market_conn *c, const uint8_t *p,
			 size_t len)
{
	static const uint8_t all[32];	/* the bucket of all creators */
	struct bitsd_seedpay *sp = ctx;
	const uint8_t *peer = market_conn_peer_hash(c);
	struct bbuf out = BBUF_INIT;
	uint8_t signer[ETH_ADDR_BYTES];

	/* a TERMS costs a chunk read: a bucket for all creators too, as
	 * destinations cost nothing to make */
	if (!market_rate_take(&sp->hrate, peer) ||
	    (len >= 1 && p[0] == HOSTPAY_REQ_TERMS &&
	     !market_rate_take(&sp->hrate_all, all))) {
		bbuf_u8(&out, HOSTPAY_BUSY);
	} else if (hostpay_host_request(sp->host, peer, p, len, time_now_s(),
					&out, signer) == CHUNKPAY_NEED_POT) {
		pot_fetch(sp, signer);	/* the voucher waits for its pot */
	}
	market_conn_reply(c, out.data, out.len);
	bbuf_free(&out);
}

static void pair_queue(struct bitsd_seedpay *sp, const uint8_t host[32],
		       const uint8_t hash[32], unsigned tries)
{
	struct hp_pair *p;

	if (sp->nq == HOSTPAY_DEALS_MAX)
		return;
	p = &sp->q[sp->nq++];
	memcpy(p->host, host, 32);
	memcpy(p->hash, hash, 32);
	p->tries = tries;
}

static void content_held(void *ctx, const struct content_store_info *i)
{
	struct bitsd_seedpay *sp = ctx;

	if (i->chunk_count == 0 || i->have_count != i->chunk_count)
		return;
	for (size_t h = 0; h < sp->nhosts; h++)
		pair_queue(sp, sp->hosts[h], i->hash, 0);
}

/* An epoch ended: each host is asked for each content (the pairs of an
 * epoch not done by now are dropped: the next voucher covers them). */
static void epoch_end(struct bitsd_seedpay *sp)
{
	sp->nq = 0;
	sp->q_at_ms = 0;
	sp->epochs++;
	if (sp->contents) {
		for (size_t c = 0; c < sp->ncontents; c++)
			for (size_t h = 0; h < sp->nhosts; h++)
				pair_queue(sp, sp->hosts[h], sp->contents[c],
					   0);
	} else if (sp->deps.store) {
		(void)content_store_list(sp->deps.store, content_held, sp);
	}
}

static void call_end(struct hp_call *hc)
{
	if (hc->sp)
		hc->sp->call = NULL;
	free(hc);
}

static void voucher_answer(void *arg, int err, const uint8_t *reply,
			   size_t len)
{
	struct hp_call *hc = arg;
	struct bitsd_seedpay *sp = hc->sp;
	int r;

	if (sp && err) {
		sp->calls_failed++;
		log_info(LD_APP, "hostpay: a host did not take its voucher: "
			 "%s", err_str(err));
	} else if (sp && (r = hostpay_creator_voucher_reply(
				  sp->creator, hc->p.host, hc->p.hash, reply,
				  len)) != 0) {
		log_info(LD_APP, "hostpay: a host refused its voucher: %s",
			 err_str(r));
	}
	call_end(hc);
}

static void terms_answer(void *arg, int err, const uint8_t *reply,
			 size_t len)
{
	struct hp_call *hc = arg;
	struct bitsd_seedpay *sp = hc->sp;
	uint8_t req[HOSTPAY_VOUCHER_REQ_BYTES];
	struct stream_mgr *mgr;
	int r = err;

	if (!sp) {
		free(hc);
		return;
	}
	if (r == 0)
		r = hostpay_creator_terms(sp->creator, hc->p.host, hc->p.hash,
					  hc->expect, reply, len, time_now_s(),
					  req);
	else
		sp->calls_failed++;
	if (r != 0) {
		if (r == ERR_AUTH)
			log_info(LD_APP, "hostpay: a host's proof of the "
				 "chunk asked is wrong: its epoch not paid");
		else if (r != ERR_NOT_FOUND)	/* not hosted: no news */
			log_info(LD_APP, "hostpay: a host's epoch not paid: "
				 "%s", err_str(r));
		call_end(hc);
		return;
	}
	mgr = bitsd_market_streams(sp->deps.market);
	r = !mgr ? ERR_BAD_STATE :
	    market_call(mgr, sp->deps.el, &hc->kc, req, sizeof(req),
			HOSTPAY_REPLY_MAX_BYTES, BITSD_HOSTPAY_CALL_TIMEOUT_MS,
			voucher_answer, hc);
	if (r != 0) {
		sp->calls_failed++;
		call_end(hc);
	}
}

/* At an epoch's end queue its pairs; ask the hosts one at a time. */
static void creator_step(struct bitsd_seedpay *sp)
{
	uint64_t now = time_mono_ms();
	uint8_t req[HOSTPAY_TERMS_REQ_BYTES], ch[HOSTPAY_CHALLENGE_BYTES];
	struct content_store_info ci;
	struct stream_mgr *mgr;
	struct hp_call *hc;
	uint32_t idx;
	int r;

	if (now >= sp->epoch_at_ms) {
		sp->epoch_at_ms += sp->epoch_ms;
		if (sp->epoch_at_ms <= now)
			sp->epoch_at_ms = now + sp->epoch_ms;
		epoch_end(sp);
	}
	if (sp->call || sp->nq == 0 || now < sp->q_at_ms ||
	    !(mgr = bitsd_market_streams(sp->deps.market)))
		return;
	hc = xzalloc(sizeof(*hc));
	hc->sp = sp;
	hc->p = sp->q[0];
	memmove(sp->q, sp->q + 1, --sp->nq * sizeof(*sp->q));
	if (sp->deps.net.lookup(sp->deps.net.ctx, hc->p.host, &hc->kc) != 0) {
		/* not known yet (a lookup started): again in a while */
		if (++hc->p.tries < BITSD_HOSTPAY_LOOKUP_TRIES) {
			pair_queue(sp, hc->p.host, hc->p.hash, hc->p.tries);
			sp->q_at_ms = now + BITSD_SEEDPAY_RETRY_MS;
		} else {
			sp->lookups_failed++;
		}
		free(hc);
		return;
	}
	/* a chunk drawn at random, proved from our own copy */
	rand_bytes(ch, sizeof(ch));
	rand_bytes(&idx, sizeof(idx));
	if (!sp->deps.store ||
	    content_store_info(sp->deps.store, hc->p.hash, &ci) != 0 ||
	    ci.chunk_count == 0 || ci.have_count != ci.chunk_count ||
	    chunk_proof(sp->deps.store, hc->p.hash, ch,
			idx %= ci.chunk_count, hc->expect) != 0) {
		log_info(LD_APP, "hostpay: a content of swarm.host.contents "
			 "is not held whole here: its hosts cannot be checked "
			 "nor paid");
		free(hc);
		return;
	}
	hostpay_terms_request(hc->p.hash, ch, idx, req);
	r = market_call(mgr, sp->deps.el, &hc->kc, req, sizeof(req),
			HOSTPAY_REPLY_MAX_BYTES, BITSD_HOSTPAY_CALL_TIMEOUT_MS,
			terms_answer, hc);
	if (r != 0) {
		sp->calls_failed++;
		free(hc);
		return;
	}
	sp->call = hc;
}

static void tick_cb(void *arg)
{
	struct bitsd_seedpay *sp = arg;

	if (sp->nsig)
		pots_read(sp);
	if (market_seedpay_payee(sp->sp)) {
		if (sp->sync_due)
			sync_start(sp);
		save_start(sp);
	}
	if (sp->has_relayer && market_seedpay_payee(sp->sp))
		redeem(sp);
	if (sp->creator)
		creator_step(sp);
	evloop_timer_arm(sp->tick, TICK_MS);
}

/* ------------------------------------------------------ /api/status */

static void sub_floor(struct u256 *a, const struct u256 *b)
{
	if (u256_sub(a, a, b) != 0)
		*a = u256_from_u64(0);
}

/* The host's share of the payee's vouchers (its lanes): accepted and not
 * redeemed, and redeemed. */
static void host_share(const struct bitsd_seedpay *sp, struct u256 *owed,
		       struct u256 *redeemed)
{
	struct hostpay_host_stats hs;

	*owed = *redeemed = u256_from_u64(0);
	if (!sp->host)
		return;
	hostpay_host_stats(sp->host, &hs);
	*redeemed = hs.redeemed;
	*owed = hs.earned;
	sub_floor(owed, &hs.redeemed);
}

static void status_section(void *ctx, json_t *o)
{
	struct bitsd_seedpay *sp = ctx;
	struct market_seedpay_stats st;

	market_seedpay_stats(sp->sp, &st);
	if (market_seedpay_payee(sp->sp)) {
		json_t *a = json_array(), *r;
		struct u256 held = unredeemed(sp), rv = sp->redeemed_value;
		struct u256 host_owed, host_red;

		/* a seeder's own: the host's lanes are in the hostpay
		 * section */
		host_share(sp, &host_owed, &host_red);
		sub_floor(&held, &host_owed);
		sub_floor(&rv, &host_red);

		for (size_t i = 0; i < sp->nshown; i++)
			json_array_append_new(a, json_pack(
				"{soso}", "address", addr_json(sp->shown[i].a),
				"cumulative",
				u256_json(&sp->shown[i].cumulative)));
		r = json_pack("{sosIsIsIsIsIsI}",
			      "price", u256_json(&sp->price),
			      "terms_sent", (json_int_t)st.terms_sent,
			      "chunks_served", (json_int_t)st.chunks_served,
			      "vouchers_ok", (json_int_t)st.vouchers_ok,
			      "vouchers_refused",
			      (json_int_t)st.vouchers_refused,
			      "pot_fetches", (json_int_t)st.pot_fetches,
			      "pot_reads", (json_int_t)sp->pot_reads,
			      "pot_reads_failed", (json_int_t)sp->pot_failed);
		json_object_set_new(r, "unredeemed", u256_json(&held));
		json_object_set_new(r, "redeemed_value", u256_json(&rv));
		json_object_set_new(r, "redeemed",
				    json_integer((json_int_t)sp->redeemed));
		json_object_set_new(r, "redeem_batches",
				    json_integer((json_int_t)sp->batches));
		json_object_set_new(r, "redeem_failed",
				    json_integer((json_int_t)sp->redeem_failed));
		json_object_set_new(r, "vouchers_restored",
				    json_integer((json_int_t)sp->restored));
		json_object_set_new(r, "vouchers_saves",
				    json_integer((json_int_t)sp->saves));
		json_object_set_new(r, "chain_syncs",
				    json_integer((json_int_t)sp->syncs));
		json_object_set_new(r, "relayer_fee",
				    u256_json(&sp->redeem_fee));
		json_object_set_new(r, "fees_paid",
				    json_integer((json_int_t)sp->fees_paid));
		json_object_set_new(r, "fees_skipped",
				    json_integer((json_int_t)sp->fees_skipped));
		json_object_set_new(r, "redeem_fails_in_row",
				    json_integer((json_int_t)sp->redeem_fails));
		json_object_set_new(r, "relayer", json_boolean(sp->has_relayer));
		json_object_set_new(r, "payees", a);
		json_object_set_new(o, "seeder", r);
	}
	if (sp->pot_sk)
		json_object_set_new(o, "viewer", json_pack(
			"{sososIsIsIsIsI}", "signer", addr_json(sp->pot_addr),
			"max_price", u256_json(&sp->max_price),
			"terms_taken", (json_int_t)st.terms_taken,
			"terms_refused", (json_int_t)st.terms_refused,
			"chunks_paid_for", (json_int_t)st.chunks_paid_for,
			"vouchers_sent", (json_int_t)st.vouchers_sent,
			"pay_bytes_sent", (json_int_t)st.pay_bytes_sent));
}

static json_t *hash_json(const uint8_t h[32], bool b32)
{
	char s[80];
	size_t n;

	if (!b32)
		return json_string(hex_encode(s, sizeof(s), h, 32) == 0 ?
				   s : "");
	if (b32_encode(s, sizeof(s), h, 32) != 0)
		return json_null();
	n = strlen(s);
	snprintf(s + n, sizeof(s) - n, ".b32.i2p");
	return json_string(s);
}

static json_t *host_json(const struct bitsd_seedpay *sp)
{
	struct hostpay_host_stats hs;
	json_t *r;

	hostpay_host_stats(sp->host, &hs);
	r = json_pack("{sososIsIsIsIsIsIsI}",
		      "price", u256_json(&sp->host_price),
		      "address", bitsd_market_served_b32(sp->deps.market),
		      "terms_sent", (json_int_t)hs.terms_sent,
		      "not_hosted", (json_int_t)hs.not_hosted,
		      "vouchers_ok", (json_int_t)hs.vouchers_ok,
		      "vouchers_pending", (json_int_t)hs.vouchers_pending,
		      "vouchers_refused", (json_int_t)hs.vouchers_refused,
		      "bad_requests", (json_int_t)hs.bad_requests,
		      "lanes", (json_int_t)hs.lanes);
	json_object_set_new(r, "earned", u256_json(&hs.earned));
	json_object_set_new(r, "redeemed", u256_json(&hs.redeemed));
	return r;
}

static json_t *creator_json(const struct bitsd_seedpay *sp)
{
	struct hostpay_creator_stats cs;
	struct hostpay_deal_info *d = xcalloc(HOSTPAY_DEALS_MAX, sizeof(*d));
	size_t n = hostpay_creator_deals(sp->creator, d, HOSTPAY_DEALS_MAX);
	json_t *a = json_array(), *r;

	hostpay_creator_stats(sp->creator, &cs);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack(
			"{sososIsoso}", "host", hash_json(d[i].host, true),
			"content", hash_json(d[i].hash, false),
			"epochs", (json_int_t)d[i].epochs,
			"paid", u256_json(&d[i].paid),
			"price", u256_json(&d[i].price)));
	free(d);
	r = json_pack("{sosososIsIsIsIsIsIsIsIsIsI}",
		      "signer", addr_json(sp->host_addr),
		      "max_price", u256_json(&sp->host_max),
		      "budget", u256_json(&sp->host_budget),
		      "epoch_s", (json_int_t)(sp->epoch_ms / 1000),
		      "hosts", (json_int_t)sp->nhosts,
		      "epochs", (json_int_t)sp->epochs,
		      "epochs_paid", (json_int_t)cs.epochs_paid,
		      "vouchers_sent", (json_int_t)cs.vouchers_sent,
		      "vouchers_ok", (json_int_t)cs.vouchers_ok,
		      "vouchers_refused", (json_int_t)cs.vouchers_refused,
		      "not_hosted", (json_int_t)cs.not_hosted,
		      "terms_refused", (json_int_t)cs.terms_refused,
		      "over_budget", (json_int_t)cs.over_budget);
	json_object_set_new(r, "proofs_failed",
			    json_integer((json_int_t)cs.proofs_failed));
	json_object_set_new(r, "calls_failed",
			    json_integer((json_int_t)sp->calls_failed));
	json_object_set_new(r, "lookups_failed",
			    json_integer((json_int_t)sp->lookups_failed));
	json_object_set_new(r, "paid", u256_json(&cs.paid));
	json_object_set_new(r, "deals", a);
	return r;
}

/* /api/status "hostpay": the host's and the creator's side. */
static void hostpay_section(void *ctx, json_t *o)
{
	struct bitsd_seedpay *sp = ctx;

	if (sp->host)
		json_object_set_new(o, "host", host_json(sp));
	if (sp->creator)
		json_object_set_new(o, "creator", creator_json(sp));
}

/* ------------------------------------------------------ start, stop */

/* The seeder's stealth keys, made at first start. */
static int seller_keys(struct bitsd_seedpay *sp, const struct conf *cfg)
{
	char *path = fsutil_path_join(cfg->datadir, "seedpay-spend.key");
	int r;

	sp->spend = bitsd_market_sk_secure("seedpay: stealth spend key", path, true, &r);
	free(path);
	if (!sp->spend)
		return r;
	path = fsutil_path_join(cfg->datadir, "seedpay-view.key");
	sp->view = bitsd_market_sk_secure("seedpay: stealth view key", path, true, &r);
	free(path);
	return sp->view ? 0 : r;
}

/* The swarm.host.* keys: a host's price; a creator's pot key, maximum,
 * budget, epoch, hosts and contents. */
static int host_config(struct bitsd_seedpay *sp, const struct conf *cfg)
{
	size_t n = 0;
	int r;

	if (cfg->swarm_host_price &&
	    (u256_parse_str(&sp->host_price, cfg->swarm_host_price) != 0 ||
	     u256_is_zero(&sp->host_price))) {
		log_err(LD_APP, "swarm.host.price: a positive amount");
		return ERR_ARG;
	}
	if (cfg->swarm_host_price && cfg->swarm_storage_mib == 0) {
		log_err(LD_APP, "swarm.host.price: a host keeps contents "
			"under a storage budget: set swarm.storage");
		return ERR_ARG;
	}
	if (!cfg->swarm_host_pay_key)
		return 0;
	if (!cfg->swarm_host_max_price || !cfg->swarm_host_hosts ||
	    u256_parse_str(&sp->host_max, cfg->swarm_host_max_price) != 0) {
		log_err(LD_APP, "swarm.host.pay-key needs swarm.host.max-price "
			"and swarm.host.hosts");
		return ERR_ARG;
	}
	if (cfg->swarm_host_budget &&
	    u256_parse_str(&sp->host_budget, cfg->swarm_host_budget) != 0)
		return ERR_ARG;
	if ((r = bitsd_market_hash_list("swarm.host.hosts",
					cfg->swarm_host_hosts,
					BITSD_HOSTPAY_HOSTS_MAX, &sp->hosts,
					&sp->nhosts)) != 0)
		return r;
	if (cfg->swarm_host_contents &&
	    (r = bitsd_market_hash_list("swarm.host.contents",
					cfg->swarm_host_contents,
					HOSTPAY_DEALS_MAX, &sp->contents,
					&n)) != 0)
		return r;
	sp->ncontents = n;
	sp->epoch_ms = (uint64_t)(cfg->swarm_host_epoch_s ?
				  cfg->swarm_host_epoch_s :
				  BITSD_HOSTPAY_EPOCH_S) * 1000u;
	sp->host_sk = bitsd_market_sk_secure("swarm.host.pay-key",
					     cfg->swarm_host_pay_key, false,
					     &r);
	if (!sp->host_sk)
		return r;
	(void)secp_sk_address(sp->host_sk, sp->host_addr);
	return 0;
}

static int config(struct bitsd_seedpay *sp, const struct conf *cfg,
		  struct chunkpay_policy *pol,
		  struct chunkpay_payer_config *pc)
{
	size_t got = 0;
	const char *rl = cfg->swarm_pay_relayer;
	int r;

	memset(pol, 0, sizeof(*pol));
	memset(pc, 0, sizeof(*pc));
	if (!bitsd_market_deploy(sp->deps.market, &sp->dep)) {
		log_err(LD_APP, "swarm.pay.*: needs market.deploy (the chain "
			"and its PaymentHub)");
		return ERR_ARG;
	}
	if (cfg->swarm_pay_price &&
	    (u256_parse_str(&sp->price, cfg->swarm_pay_price) != 0 ||
	     u256_is_zero(&sp->price))) {
		log_err(LD_APP, "swarm.pay.price: a positive amount");
		return ERR_ARG;
	}
	if (cfg->swarm_pay_key && (!cfg->swarm_pay_max_price ||
	    u256_parse_str(&sp->max_price, cfg->swarm_pay_max_price) != 0)) {
		log_err(LD_APP, "swarm.pay.key needs swarm.pay.max-price");
		return ERR_ARG;
	}
	if (rl) {
		sp->has_relayer = strlen(rl) == 60 &&
				  !strcmp(rl + 52, ".b32.i2p") &&
				  b32_decode(sp->relayer, 32, &got, rl,
					     52) == 0 && got == 32;
		if (!sp->has_relayer) {
			log_err(LD_APP, "swarm.pay.relayer: not a b32 "
				"address: %s", rl);
			return ERR_FORMAT;
		}
	}
	pol->price = sp->price;
	sp->redeem_fee = u256_from_u64(cfg->swarm_pay_relayer_fee);
	pol->credit = BITSD_SEEDPAY_CREDIT;
	pol->max_paper_ttl_s = BITSD_SEEDPAY_MAX_PAPER_TTL_S;
	pol->min_ttl_s = BITSD_SEEDPAY_MIN_TTL_S;
	pol->redeem_cost = u256_from_u64(1);
	pc->max_price = sp->max_price;
	pc->max_batch = cfg->swarm_pay_batch ? cfg->swarm_pay_batch :
			BITSD_SEEDPAY_BATCH;
	pc->ttl_s = BITSD_SEEDPAY_VOUCHER_TTL_S;
	sp->delay_ms = (uint64_t)(cfg->swarm_pay_redeem_s ?
				  cfg->swarm_pay_redeem_s :
				  BITSD_SEEDPAY_REDEEM_DELAY_S) * 1000u;
	if ((r = host_config(sp, cfg)) != 0)
		return r;
	if (!cfg->swarm_pay_price && cfg->swarm_host_price)
		pol->price = sp->host_price;	/* a host only */
	if ((r = cfg->swarm_pay_price || cfg->swarm_host_price ?
		 seller_keys(sp, cfg) : 0) != 0)
		return r;
	if (cfg->swarm_pay_key) {
		sp->pot_sk = bitsd_market_sk_secure("swarm.pay.key",
						    cfg->swarm_pay_key, false,
						    &r);
		if (!sp->pot_sk)
			return r;
		(void)secp_sk_address(sp->pot_sk, sp->pot_addr);
	}
	return 0;
}

/* The host's lanes kept at the last stop: those restored from the kept
 * vouchers are the host's again. */
static void host_lanes_load(struct bitsd_seedpay *sp, const struct conf *cfg)
{
	uint8_t *buf = NULL;
	size_t len = 0, adopted = 0;
	int r;

	sp->hpath = fsutil_path_join(cfg->datadir, BITSD_HOSTPAY_LANES_FILE);
	r = fsutil_read_file(sp->hpath, HOSTPAY_LANES_MAX_BYTES, &buf, &len);
	if (r == 0)
		r = hostpay_host_lanes_load(sp->host, buf, len, &adopted);
	free(buf);
	if (r != 0 && r != ERR_NOT_FOUND)
		log_warn(LD_APP, "hostpay: %s not read (%s): its lanes count "
			 "as the seeder's until the creators pay on them",
			 sp->hpath, err_str(r));
	else if (adopted)
		log_notice(LD_APP, "hostpay: %zu kept host lanes followed "
			   "again", adopted);
}

/* The host's service and the creator's payer, as cfg asks. */
static int hostpay_start(struct bitsd_seedpay *sp, const struct conf *cfg)
{
	struct hostpay_creator_config cc = {
		.max_price = sp->host_max, .budget = sp->host_budget,
		.ttl_s = BITSD_HOSTPAY_VOUCHER_TTL_S };
	int r;

	if (cfg->swarm_host_price) {
		sp->host = hostpay_host_new(market_seedpay_payee(sp->sp),
					    &sp->host_price, host_holds,
					    host_prove, sp);
		market_service_init(&sp->hsv, HOSTPAY_REQ_MAX_BYTES, 64,
				    host_request, sp);
		market_rate_init(&sp->hrate, BITSD_HOSTPAY_RATE_PER_S,
				 BITSD_HOSTPAY_RATE_BURST);
		market_rate_init(&sp->hrate_all, BITSD_HOSTPAY_PROOFS_PER_S,
				 BITSD_HOSTPAY_PROOFS_BURST);
		if ((r = bitsd_market_serve(sp->deps.market, &sp->hsv,
					    "market-host.dat",
					    "market-host.b32")) != 0) {
			log_err(LD_APP, "swarm.host.price: cannot start the "
				"host service: %s", err_str(r));
			return r;
		}
		sp->serving = true;
		host_lanes_load(sp, cfg);
		log_notice(LD_APP, "hostpay: hosting contents held whole for "
			   "%s a content per epoch", cfg->swarm_host_price);
	}
	if (sp->host_sk) {
		sp->creator = hostpay_creator_new(&cc, sp->host_sk, sp->sep);
		sp->q = xcalloc(HOSTPAY_DEALS_MAX, sizeof(*sp->q));
		sp->epoch_at_ms = time_mono_ms() + sp->epoch_ms;
		log_notice(LD_APP, "hostpay: paying %zu hosts every %llu s "
			   "(at most %s a content per epoch)", sp->nhosts,
			   (unsigned long long)(sp->epoch_ms / 1000),
			   cfg->swarm_host_max_price);
	}
	return 0;
}

int bitsd_seedpay_start(const struct conf *cfg,
			const struct bitsd_seedpay_deps *deps,
			struct bitsd_seedpay **out)
{
	struct bitsd_seedpay *sp = xzalloc(sizeof(*sp));
	struct eip712_domain d = { .name = EIP712_NAME_HUB };
	struct chunkpay_policy pol;
	struct chunkpay_payer_config pc;
	struct chain_transport t;
	struct secp_pk spend_pk;
	struct swarm_pay_hooks h = {
		.open = market_seedpay_open,
		.recv = market_seedpay_recv,
		.received = market_seedpay_received,
		.may_serve = market_seedpay_may_serve,
		.served = market_seedpay_served,
		.close = market_seedpay_close,
		.complete = market_seedpay_complete,
	};
	int r;

	sp->deps = *deps;
	if (!deps->swarm) {
		log_err(LD_APP, "swarm.pay.*: needs swarm = true");
		r = ERR_ARG;
		goto fail;
	}
	if ((r = config(sp, cfg, &pol, &pc)) != 0)
		goto fail;
	d.chain_id = sp->dep.chain_id;
	memcpy(d.verifying, sp->dep.payment_hub, ETH_ADDR_BYTES);
	eip712_domain_separator(&d, sp->sep);
	if (sp->spend && (r = secp_sk_pubkey(sp->spend, &spend_pk)) != 0)
		goto fail;
	if (sp->spend && !bitsd_market_chain(deps->market, &t)) {
		log_err(LD_APP, "swarm.pay.price: needs a chain RPC gateway "
			"(market.gateways or market.gateway) for the pots");
		r = ERR_ARG;
		goto fail;
	}
	if (sp->spend)
		sp->cc = chain_client_new(&t, sp->dep.chain_id);
	if (sp->spend && !sp->has_relayer)
		log_warn(LD_APP, "seedpay: no swarm.pay.relayer: vouchers are "
			 "kept, not redeemed");
	sp->sp = market_seedpay_new(&pol, &pc, sp->sep, sp->view,
				    sp->spend ? &spend_pk : NULL, sp->pot_sk,
				    pot_fetch, sp);
	if (sp->spend) {
		size_t restored = 0, skipped = 0;

		if (cfg->swarm_pay_price)
			(void)market_seedpay_sell_all(sp->sp);
		sp->vpath = fsutil_path_join(cfg->datadir,
					     MARKET_VOUCHERS_FILE);
		r = market_vouchers_load(market_seedpay_payee(sp->sp),
					 sp->vpath, time_now_s(), &restored,
					 &skipped);
		if (r != 0)
			log_warn(LD_APP, "seedpay: %s not read (%s): its "
				 "vouchers are not restored", sp->vpath,
				 err_str(r));
		else if (restored || skipped)
			log_notice(LD_APP, "seedpay: %zu kept vouchers "
				   "restored, %zu left out", restored,
				   skipped);
		sp->restored = restored;
		sp->sync_due = restored > 0;
		sp->saved_changes = chunkpay_payee_changes(
			market_seedpay_payee(sp->sp));
	}
	if (sp->pot_sk)
		(void)market_seedpay_buy_all(sp->sp);
	if ((r = hostpay_start(sp, cfg)) != 0)
		goto fail;
	h.ctx = sp->sp;
	swarm_set_pay(deps->swarm, &h);
	redeem_arm(sp);
	sp->tick = evloop_timer_new(deps->el, tick_cb, sp);
	evloop_timer_arm(sp->tick, TICK_MS);
	if (deps->api)
		(void)api_add_section(deps->api, "seedpay", status_section, sp);
	if (deps->api && (sp->host || sp->creator))
		(void)api_add_section(deps->api, "hostpay", hostpay_section,
				      sp);
	log_notice(LD_APP, "seedpay: selling %s (price %s a chunk, redeeming "
		   "%s), paying %s (at most %s a chunk)",
		   sp->spend ? "on" : "off",
		   cfg->swarm_pay_price ? cfg->swarm_pay_price : "-",
		   sp->has_relayer ? "through the relayer" : "off",
		   sp->pot_sk ? "on" : "off",
		   cfg->swarm_pay_max_price ? cfg->swarm_pay_max_price : "-");
	*out = sp;
	return 0;
fail:
	bitsd_seedpay_stop(sp);
	return r;
}

static bool pot_busy(void *arg)
{
	struct bitsd_seedpay *sp = arg;

	return sp->job || sp->sync || sp->save || sp->nonce_job;
}

void bitsd_seedpay_stop(struct bitsd_seedpay *sp)
{
	if (!sp)
		return;
	if (sp->deps.api) {
		api_remove_section(sp->deps.api, "seedpay");
		api_remove_section(sp->deps.api, "hostpay");
	}
	if (sp->serving) {
		market_service_clear(&sp->hsv);
		bitsd_market_unserve(sp->deps.market);
	}
	if (sp->call)
		sp->call->sp = NULL;	/* its answer frees it */
	if (sp->sp && sp->deps.swarm)
		swarm_set_pay(sp->deps.swarm, NULL);
	evloop_timer_free(sp->tick);
	/* A worker in a chain call waits on the loop: run it until done. */
	bitsd_market_drain(sp->deps.el, pot_busy, sp);
	if (sp->rq)
		sp->rq->sp = NULL;	/* its answer frees it */
	if (sp->sp && market_seedpay_payee(sp->sp)) {
		struct u256 held = unredeemed(sp);

		if (sp->vpath && kept_changes(sp) != sp->saved_changes) {
			struct bbuf b = BBUF_INIT, hb = BBUF_INIT;
			const char *hpath = sp->host ? sp->hpath : NULL;

			market_vouchers_encode(market_seedpay_payee(sp->sp),
					       &b);
			if (hpath)
				hostpay_host_lanes_encode(sp->host, &hb);
			if (kept_write(sp->vpath, &b, hpath, &hb) != 0)
				log_warn(LD_APP, "seedpay: cannot keep the "
					 "vouchers in %s", sp->vpath);
			bbuf_free(&b);
			bbuf_free(&hb);
		}
		if (!u256_is_zero(&held)) {
			char s[U256_DEC_BYTES];

			log_notice(LD_APP, "seedpay: vouchers worth %s not "
				   "redeemed yet, kept in %s",
				   u256_format_dec(&held, s, sizeof(s)),
				   sp->vpath);
		}
	}
	free(sp->vpath);
	free(sp->hpath);
	hostpay_host_free(sp->host);
	hostpay_creator_free(sp->creator);
	free(sp->hosts);
	free(sp->contents);
	free(sp->q);
	if (sp->host_sk)
		secmem_free(sp->host_sk);
	market_seedpay_free(sp->sp);
	chain_client_free(sp->cc);
	free(sp->sig);
	if (sp->view)
		secmem_free(sp->view);
	if (sp->spend)
		secmem_free(sp->spend);
	if (sp->pot_sk)
		secmem_free(sp->pot_sk);
	free(sp);
}
