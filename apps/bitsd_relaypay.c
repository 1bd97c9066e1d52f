/*
 * bitsd's paid relaying (apps/bitsd_relaypay.h): the payer's ticket
 * function for our tunnels, the relay's payee behind the transit hook,
 * pot reads and redemption through the chain client on a worker.
 */
#include "config.h"
#include "apps/bitsd_relaypay.h"
#include "apps/api/api.h"
#include "apps/bitsd_market.h"
#include "chain/abi.h"
#include "chain/calls.h"
#include "chain/eip712.h"
#include "chain/relaypay.h"
#include "chain/rpc.h"
#include "chain/stealth.h"
#include "netdb/netdb.h"
#include "netdb/store.h"
#include "router/conf.h"
#include "router/evloop.h"
#include "router/i2np.h"
#include "router/ri_pay.h"
#include "router/router_info.h"
#include "router/worker.h"
#include "tunnels/build_record.h"
#include "tunnels/transit.h"
#include "tunnels/tunnel_pool.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/secmem.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A transit tunnel whose build carried a ticket that passed the first
 * check; its bytes count once a ticket of it was accepted. */
struct paid_tunnel {
	uint32_t receive_id;
	bool counted;
	uint64_t seen;			/* its bytes_in at the last look */
	uint64_t bytes;			/* counted */
	struct u256 ev;			/* of its accepted tickets */
	uint32_t topups;		/* tickets after the build */
};

/* A checked ticket waiting for its signer's pot. */
struct pending {
	struct relaypay_checked c;
	uint32_t receive_id;
	uint64_t since_s;
};

enum job_kind { JOB_POTS, JOB_REDEEM, JOB_WITHDRAW, JOB_FUND };

/* What the payer knows of one of its pots (with tunnels.pay.fund-key). */
enum { POT_UNKNOWN, POT_FUNDED, POT_EMPTY };

/* A pot of tunnels.pay.fresh-pots, made for one turn: pot i of the turn
 * ending at end_s, its key in DATADIR/BITSD_RELAYPAY_POTS_DIR/END-I.key
 * until the pot is drained. */
struct fresh_pot {
	uint64_t end_s;
	unsigned i;
	uint8_t addr[ETH_ADDR_BYTES];
	bool unlocking;			/* requestUnlock went through */
};

/* What a funding job does with a fresh pot. */
enum { FRESH_FUND, FRESH_MAKE, FRESH_DRAIN };

/* A redeemed winning whose withdrawal failed: tried again later. */
struct wretry {
	struct secp_pk eph;		/* derives its stealth key */
	unsigned tries;			/* rounds that failed */
	uint64_t at_ms;			/* monotonic: the next round */
};

/* A withdrawal's outcome in a job. */
enum { W_UNTRIED, W_DONE, W_FAILED };

/* One chain job at a time: it touches only itself and rp->cc. */
struct job {
	struct bitsd_relaypay *rp;
	enum job_kind kind;
	/* JOB_POTS, JOB_FUND */
	uint8_t (*signers)[ETH_ADDR_BYTES];
	struct hub_pot *pots;
	bool *read;			/* pots[i] was read */
	size_t n;
	/* JOB_FUND: each pot's POT_*, pots funded, the amount spent on
	 * funding in all (from rp's, the job's added), over the budget */
	uint8_t *state;
	size_t funded, over_budget;
	struct u256 spent;
	/* JOB_FUND of fresh pots: each one's FRESH_*, its turn's end and
	 * number; the keys made (secmem), the pots drained (their keys
	 * deleted) or unlocking, what came back */
	uint8_t *act;
	struct fresh_pot *fp;
	struct secp_sk **made;
	bool *gone;
	size_t drained;
	struct u256 returned;
	/* JOB_REDEEM */
	struct relaypay_batch batch;
	unsigned tries;			/* earlier tries of these winners */
	size_t redeemed;
	/* winners whose nonce was already spent: redeemed by us before a
	 * crash (their stealth addresses hold the winnings) or refused for
	 * good; withdrawn like the redeemed ones */
	size_t already;
	struct u256 redeemed_face;
	uint64_t gas;
	bool *won;			/* batch.w[i] was redeemed */
	/* withdrawals: JOB_REDEEM's of batch.w[i] (won), JOB_WITHDRAW's of
	 * wr[i] (retries); their outcomes */
	struct wretry *wr;
	size_t nwr;
	uint8_t *wres;
	size_t withdrawn;
	struct u256 withdrawn_amount;
	uint64_t wgas;
	char wwhy[160];			/* the first withdrawal's error */
	int err;
	char why[160];
};

/* Winners to redeem again, and how often they were tried. */
struct retry_batch {
	struct relaypay_batch b;
	unsigned tries;
};

struct save_job {
	struct bitsd_relaypay *rp;
	char *path;
	struct bbuf bytes;
	/* BITSD_RELAYPAY_WRETRY_FILE; NULL: not written */
	char *wpath;
	struct bbuf wbytes;
	int r, wr;
};

struct bitsd_relaypay {
	struct bitsd_relaypay_deps deps;
	struct chain_transport chain;
	bool has_chain;
	struct chain_client *cc;
	struct chain_deploy dep;
	uint8_t sep[32];
	char *datadir;
	struct evloop_timer *tick;
	struct job *job;		/* under way */
	atomic_bool stopping;		/* the job cuts its paced loops short */
	bool saving;			/* a save job under way */
	uint64_t save_at;		/* monotonic ms: next save */
	/* relay */
	struct relaypay_payee *payee;
	struct secp_sk *view, *spend;	/* secmem */
	struct ri_pay pay;
	struct u256 price;
	struct relaypay_policy pol;
	struct secp_sk *redeem_sk;	/* secmem; NULL: winners kept */
	uint8_t redeem_addr[ETH_ADDR_BYTES];
	bool has_withdraw;		/* relay.pay.withdraw-to */
	uint8_t withdraw_to[ETH_ADDR_BYTES];
	struct pending *pend;
	size_t npend;
	struct relaypay_potcache *pots;	/* pot states read */
	uint64_t pot_retry_at;		/* monotonic ms */
	uint64_t pot_failed;		/* pot reads that failed */
	struct paid_tunnel *paid;
	size_t npaid, paid_cap;
	struct retry_batch *retry;	/* winners whose redemption failed */
	size_t nretry;
	struct wretry *wretry;		/* withdrawals to try again */
	size_t nwretry;
	uint32_t test_withdraw_fail;	/* tests: withdrawals left to fail */
	uint64_t wretry_ms;		/* BITSD_RELAYPAY_WITHDRAW_RETRY_MS */
	uint64_t redeem_retry_at;	/* monotonic ms */
	bool dirty;
	uint64_t received, refused[RELAYPAY_FULL + 1];
	uint64_t topups, topups_refused;	/* tickets after the build */
	uint64_t ticket_ns;		/* CPU taking tickets (this thread) */
	uint64_t paid_bytes, paid_tunnels;
	struct u256 ev_accepted;	/* Σ face × winProb / 2^256 */
	/* of ended paid tunnels: Σ what the bytes were worth beyond the
	 * tickets' expected value, and the other way round */
	struct u256 underpaid, paid_ahead;
	uint64_t redeemed, redeem_batches, redeem_failed, redeem_gas;
	struct u256 redeemed_face;
	uint64_t withdrawn, withdraw_failed, withdraw_gas;
	uint64_t withdraw_retried;	/* went through in a later round */
	struct u256 withdrawn_amount;
	/* payer */
	/* the pot signer keys (secmem; none: pay nobody), in turn */
	struct secp_sk *pay_sk[BITSD_RELAYPAY_PAY_KEYS_MAX];
	uint8_t pay_addr[BITSD_RELAYPAY_PAY_KEYS_MAX][ETH_ADDR_BYTES];
	size_t npay_keys;
	uint64_t rotate_s;
	struct relaypay_price pay_price;
	struct u256 max_price;
	bool has_max;
	uint64_t pay_bytes;
	enum peer_pay_policy pay_policy;
	uint64_t nonce;
	uint64_t sent, skipped_price, failed_make;
	struct u256 ev_sent;
	/* pot funding (tunnels.pay.fund-key) */
	struct secp_sk *fund_sk;	/* secmem; NULL: pots not funded */
	uint8_t fund_addr[ETH_ADDR_BYTES];
	struct u256 fund_to, fund_budget, fund_spent;
	char *fund_path;		/* DATADIR/relaypay-fund.spent */
	uint8_t pot_state[BITSD_RELAYPAY_PAY_KEYS_MAX];	/* POT_* */
	size_t fund_turn;		/* pay_turn() at the last check */
	uint64_t fund_at;		/* monotonic ms: check again */
	uint64_t funded, fund_over_budget;
	/* tunnels.pay.fresh-pots: fresh_n pots a turn, pot i of the turn
	 * ending at end_s in slot (end_s / rotate_s mod fresh_k) × fresh_n + i
	 * of pay_sk (slot_end: its turn's end, 0: empty), so a tunnel's tag
	 * keeps its pot while the tunnel lives; every pot made and not yet
	 * drained in fpots (its key in pots_dir), drained retire_s after its
	 * turn (tunnels outlive it, then their tickets) */
	unsigned fresh_n, fresh_k;
	uint64_t slot_end[BITSD_RELAYPAY_PAY_KEYS_MAX];
	struct fresh_pot *fpots;
	size_t nfpots;
	char *pots_dir;
	uint64_t retire_s;
	uint64_t pots_drained;
	struct u256 pots_returned;
	/* paid hops' RouterInfos looked up again: when, the last few */
	uint64_t ri_refresh_s;
	struct ri_fresh {
		uint8_t hash[32];
		uint64_t at_s;
	} fresh[BITSD_RELAYPAY_RI_FRESH_MAX];
	size_t nfresh;
	uint64_t ri_lookups;
};

bool bitsd_relaypay_wanted(const struct conf *cfg)
{
	return cfg->relay_pay || cfg->tunnels_pay_key || cfg->tunnels_pay_fresh;
}

/* face × top / 2^64: a ticket's expected value in token units. */
static struct u256 ticket_ev(const struct u256 *face, uint64_t top)
{
	struct u256 v;

	if (u256_mul_u64(&v, face, top) != 0)
		return u256_from_u64(0);
	(void)u256_div_u64(&v, NULL, &v, 1ULL << 32);
	(void)u256_div_u64(&v, NULL, &v, 1ULL << 32);
	return v;
}

/* The expected value of a ticket: face × winProb / 2^256 (winProb is
 * w << 192, relaypay_win_prob()). */
static struct u256 ticket_value(const struct eip712_ticket *t)
{
	uint8_t w[32];
	uint64_t top = 0;

	u256_to_be(&t->win_prob, w);
	for (int i = 0; i < 8; i++)
		top = top << 8 | w[i];
	return ticket_ev(&t->face_value, top);
}

static void u256_accumulate(struct u256 *sum, const struct u256 *v)
{
	struct u256 t;

	if (u256_add(&t, sum, v) == 0)
		*sum = t;
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

/* ---------------------------------------------------------- the payer */

/* The pot whose turn it is: the next each rotate_s seconds. */
static size_t pay_turn(const struct bitsd_relaypay *rp)
{
	return rp->rotate_s ? (size_t)(time_now_s() / rp->rotate_s %
				       rp->npay_keys) : 0;
}

/* Fresh pots: the end of the turn now, pot i's slot of the turn ending at
 * end_s. */
static uint64_t fresh_end(const struct bitsd_relaypay *rp)
{
	return (time_now_s() / rp->rotate_s + 1) * rp->rotate_s;
}

static size_t fresh_slot(const struct bitsd_relaypay *rp, uint64_t end_s,
			 unsigned i)
{
	return bitsd_relaypay_fresh_slot(end_s / rp->rotate_s, i, rp->fresh_n,
					 rp->fresh_k);
}

/* Fresh pots: pool's pot of this turn (pool mod fresh_n), once funded. */
static size_t fresh_key_now(const struct bitsd_relaypay *rp, unsigned pool)
{
	uint64_t end = fresh_end(rp);
	size_t k = fresh_slot(rp, end, pool);

	return rp->slot_end[k] == end && rp->pot_state[k] == POT_FUNDED ?
	       k : SIZE_MAX;
}

/* The pot key in use now for the tunnels of pool (tunnel_ticket_fn): the
 * one whose turn it is, pool places on, so that pools (the exploratory
 * one, each destination's) use different pots while there are as many
 * keys; when we fund our pots, the first funded one from it (SIZE_MAX:
 * none known funded). */
static size_t pay_key_now(const struct bitsd_relaypay *rp, unsigned pool)
{
	uint32_t usable = 0;

	if (rp->fresh_n)
		return fresh_key_now(rp, pool);
	for (size_t i = 0; i < rp->npay_keys; i++)
		if (!rp->fund_sk || rp->pot_state[i] == POT_FUNDED)
			usable |= 1u << i;
	return bitsd_relaypay_key_pick(pay_turn(rp), pool, rp->npay_keys,
				       usable);
}

/* A paid hop's RouterInfo older than ri_refresh_s is looked up again (a
 * payer's copy of an old epoch's commitment gets its tickets refused), at
 * most once that long for a hop. */
static void ri_refresh(struct bitsd_relaypay *rp, const uint8_t hop[32],
		       const struct router_info *ri)
{
	uint64_t now = time_now_s();
	struct ri_fresh *f = NULL, *old = NULL;

	if (!rp->deps.db ||
	    router_info_published(ri) / 1000 + rp->ri_refresh_s > now)
		return;
	for (size_t i = 0; i < rp->nfresh && !f; i++) {
		if (memcmp(rp->fresh[i].hash, hop, 32) == 0)
			f = &rp->fresh[i];
		else if (!old || rp->fresh[i].at_s < old->at_s)
			old = &rp->fresh[i];
	}
	if (f && f->at_s + rp->ri_refresh_s > now)
		return;		/* asked lately */
	if (!f) {
		f = rp->nfresh < BITSD_RELAYPAY_RI_FRESH_MAX ?
		    &rp->fresh[rp->nfresh++] : old;
		memcpy(f->hash, hop, 32);
	}
	f->at_s = now;
	if (netdb_lookup_start(rp->deps.db, hop, NETDB_LOOKUP_RI, NULL,
			       NULL) == 0)
		rp->ri_lookups++;
}

/* The ticket function (tunnel_ticket_fn): a tunnel's tickets all come
 * from the pot in use at its first (*tag: its key + 1). */
static size_t pay_ticket(void *ctx, const uint8_t hop[32], bool inbound,
			 unsigned pool, uint32_t *tag, uint64_t *bytes,
			 uint8_t *out, size_t outmax)
{
	struct bitsd_relaypay *rp = ctx;
	const struct netdb_ri_entry *e;
	struct relaypay_hop_info hi;
	struct relaypay_ticket k;
	struct relaypay_price pr = rp->pay_price;
	struct ri_pay p;
	struct u256 ev;
	uint64_t want;
	size_t key;
	int r;

	(void)inbound;
	if (!*tag || *tag > rp->npay_keys) {
		if ((key = pay_key_now(rp, pool)) == SIZE_MAX)
			return 0;	/* no pot funded yet: a free hop */
		*tag = (uint32_t)key + 1;
	}
	key = *tag - 1;
	if (outmax < RELAYPAY_WIRE_BYTES ||
	    !(e = netdb_store_find_ri(rp->deps.store, hop)) ||
	    ri_pay_parse(router_info_options(e->ri), &p) != 0)
		return 0;	/* asks for no pay (or cannot be read) */
	ri_refresh(rp, hop, e->ri);
	if (u256_parse_str(&pr.price_per_gib, p.price) != 0)
		return 0;
	if (rp->has_max && u256_cmp(&pr.price_per_gib, &rp->max_price) > 0) {
		rp->skipped_price++;
		return 0;
	}
	if (stealth_meta_decode(&hi.meta, p.meta, sizeof(p.meta)) != 0) {
		rp->failed_make++;
		return 0;
	}
	memcpy(hi.commitment, p.commit, sizeof(hi.commitment));
	/* a larger ticket for a busy tunnel (§3.1): at most what the face
	 * value pays for at the hop's price, at least our own size */
	want = *bytes > rp->pay_bytes ?
	       relaypay_bytes_max(&pr.face_value, &pr.price_per_gib, *bytes) :
	       rp->pay_bytes;
	if (want < rp->pay_bytes)
		want = rp->pay_bytes;
	r = relaypay_ticket_make(&k, rp->pay_sk[key], rp->sep, &hi, &pr,
				 want, rp->nonce, time_now_s(), NULL);
	if (r == 0)
		r = relaypay_wire_encode(&k, out);
	if (r != 0) {
		rp->failed_make++;
		log_info(LD_APP, "relaypay: no ticket for a hop asking %s per "
			 "GiB: %s", p.price, err_str(r));
		return 0;
	}
	rp->nonce++;
	rp->sent++;
	ev = ticket_value(&k.t);
	u256_accumulate(&rp->ev_sent, &ev);
	*bytes = want;
	return RELAYPAY_WIRE_BYTES;
}

/* ---------------------------------------------------- chain jobs */

/* On a worker: wait ms (the chain transport's wait), if it can. */
static void chain_pause(struct bitsd_relaypay *rp, unsigned ms)
{
	if (rp->chain.wait_ms)
		rp->chain.wait_ms(rp->chain.ctx, ms);
}

/* A 32-byte word of a view call (PaymentHub.balances, nonces). */
static int view_word(struct bitsd_relaypay *rp, const struct bbuf *call,
		     struct u256 *out)
{
	struct bbuf ret = BBUF_INIT;
	int r = chain_call(rp->cc, NULL, rp->dep.payment_hub, call->data,
			   call->len, &ret);

	if (r == 0)
		r = ret.len == 32 ? u256_from_be(out, ret.data, 32)
				  : ERR_FORMAT;
	bbuf_free(&ret);
	return r;
}

/*
 * On a worker: move a redeemed winner's credit (PaymentHub.balances of
 * its stealth address) to relay.pay.withdraw-to: the stealth key signs an
 * EIP-712 Withdraw (no fee), the redeem account sends withdrawFor and
 * pays the gas (the stealth address holds no ETH).  0 when it went
 * through (or there was nothing to move).
 */
static int withdraw_one(struct bitsd_relaypay *rp, const struct secp_pk *eph,
			uint64_t deadline, struct job *j)
{
	struct secp_sk *sk = secmem_alloc(sizeof(*sk));
	struct eip712_withdraw wd;
	struct chain_receipt rc = { 0 };
	struct bbuf call = BBUF_INIT;
	uint8_t h[32], d[32], sig[SECP_SIG_BYTES];
	int r;

	memset(&wd, 0, sizeof(wd));
	if ((r = stealth_spend_key(sk, rp->spend, rp->view, eph)) != 0 ||
	    (r = secp_sk_address(sk, wd.from)) != 0)
		goto out;
	hub_balances_call(&call, wd.from);
	if ((r = view_word(rp, &call, &wd.amount)) != 0)
		goto out;
	if (u256_is_zero(&wd.amount)) {
		j->withdrawn++;		/* nothing left to move */
		goto out;
	}
	bbuf_free(&call);
	hub_nonces_call(&call, wd.from);
	if ((r = view_word(rp, &call, &wd.nonce)) != 0)
		goto out;
	memcpy(wd.to, rp->withdraw_to, ETH_ADDR_BYTES);
	wd.deadline = deadline;
	eip712_hash_withdraw(&wd, h);
	eip712_digest(rp->sep, h, d);
	if ((r = secp_sign(sk, d, sig)) != 0)
		goto out;
	bbuf_free(&call);
	hub_withdraw_for_call(&call, &wd, sig);
	r = chain_send(rp->cc, rp->redeem_sk, rp->dep.payment_hub, call.data,
		       call.len, NULL, &rc);
	if (r == 0 && !rc.status)
		r = ERR_BAD_STATE;
	if (r == 0) {
		j->withdrawn++;
		j->wgas += rc.gas_used;
		u256_accumulate(&j->withdrawn_amount, &wd.amount);
	}
out:
	if (r != 0)
		snprintf(j->wwhy, sizeof(j->wwhy), "%s%s%s", err_str(r),
			 chain_client_error(rp->cc) ? ": " : "",
			 chain_client_error(rp->cc) ?
			 chain_client_error(rp->cc) : "");
	chain_receipt_clear(&rc);
	bbuf_free(&call);
	secmem_free(sk);
	return r;
}

/*
 * On a worker: withdraw the winnings of j->wr (their ephemeral keys),
 * 300 ms apart, each tried up to BITSD_RELAYPAY_WITHDRAW_TRIES times (2,
 * 4, 6 s apart: a chain gateway limits each peer's requests a second);
 * j->wres[i] says how it went.  At stop the rest stay untried.
 */
static void withdraw_all(struct bitsd_relaypay *rp, struct job *j)
{
	uint64_t now = 0;

	j->wres = xcalloc(j->nwr ? j->nwr : 1, sizeof(*j->wres));
	if (chain_block_timestamp(rp->cc, &now) != 0)
		now = time_now_s();
	for (size_t i = 0; i < j->nwr && !atomic_load(&rp->stopping); i++) {
		bool fail = rp->test_withdraw_fail > 0;	/* tests */
		int r = -1;

		if (fail)
			rp->test_withdraw_fail--;
		for (unsigned k = 0; r != 0 &&
				     k < BITSD_RELAYPAY_WITHDRAW_TRIES; k++) {
			if (k)
				chain_pause(rp, k * 2000);
			if (fail) {
				snprintf(j->wwhy, sizeof(j->wwhy),
					 "made to fail (a test)");
				continue;
			}
			r = withdraw_one(rp, &j->wr[i].eph, now +
					 BITSD_RELAYPAY_WITHDRAW_S, j);
		}
		j->wres[i] = r == 0 ? W_DONE : W_FAILED;
		chain_pause(rp, BITSD_RELAYPAY_WITHDRAW_PACE_MS);
	}
}

static bool pot_funded(const struct hub_pot *pot)
{
	static const uint8_t zero[ETH_ADDR_BYTES];

	return memcmp(pot->funder, zero, ETH_ADDR_BYTES) != 0 &&
	       !u256_is_zero(&pot->deposit) && pot->unlock_at == 0;
}

/* On a worker: one send from the funding account; 0 when it went
 * through. */
static int fund_send(struct bitsd_relaypay *rp, const uint8_t to[20],
		     const struct bbuf *call)
{
	struct chain_receipt rc = { 0 };
	int r = chain_send(rp->cc, rp->fund_sk, to, call->data, call->len,
			   NULL, &rc);

	if (r == 0 && !rc.status)
		r = ERR_BAD_STATE;
	chain_receipt_clear(&rc);
	return r;
}

/* On a worker: the chain error of r into j->why. */
static void fund_why(struct bitsd_relaypay *rp, struct job *j, int r)
{
	snprintf(j->why, sizeof(j->why), "%s%s%s", err_str(r),
		 chain_client_error(rp->cc) ? ": " : "",
		 chain_client_error(rp->cc) ? chain_client_error(rp->cc) : "");
}

/* On a worker: the amount spent on funding in all, j->spent, to
 * rp->fund_path. */
static void fund_spent_write(struct bitsd_relaypay *rp, struct job *j)
{
	char a[U256_DEC_BYTES];
	int r;

	u256_format_dec(&j->spent, a, sizeof(a));
	if ((r = fsutil_write_atomic(rp->fund_path, a, strlen(a), 0600,
				     true)) != 0)
		snprintf(j->why, sizeof(j->why), "cannot write %s: %s",
			 rp->fund_path, err_str(r));
}

/* On a worker: pots(signer) into *pot; 0 when it was read. */
static int pot_read(struct bitsd_relaypay *rp, const uint8_t signer[20],
		    struct hub_pot *pot)
{
	struct bbuf call = BBUF_INIT, ret = BBUF_INIT;
	int r;

	hub_pots_call(&call, signer);
	r = chain_call(rp->cc, NULL, rp->dep.payment_hub, call.data, call.len,
		       &ret);
	if (r == 0)
		r = hub_pot_decode(ret.data, ret.len, pot);
	bbuf_free(&call);
	bbuf_free(&ret);
	return r;
}

/*
 * On a worker: j's pot i, read as *pot, when it is ours to fund (new, or
 * funded by the funding account) and not unlocking, and its deposit is
 * under half of tunnels.pay.fund, has its deposit and escrow filled up to
 * it (the token approved first when the allowance is short), if the
 * budget allows.  What was spent in all is written to rp->fund_path.
 */
static void fund_one(struct bitsd_relaypay *rp, struct job *j, size_t i,
		     const struct hub_pot *pot)
{
	static const uint8_t zero[ETH_ADDR_BYTES];
	struct bbuf call = BBUF_INIT;
	struct u256 dep = { { 0 } }, esc = { { 0 } }, total, allow, t, half;
	int r;

	(void)u256_div_u64(&half, NULL, &rp->fund_to, 2);
	if (u256_cmp(&pot->deposit, &half) >= 0 || pot->unlock_at ||
	    (memcmp(pot->funder, zero, ETH_ADDR_BYTES) != 0 &&
	     memcmp(pot->funder, rp->fund_addr, ETH_ADDR_BYTES) != 0))
		return;		/* enough, or not ours to fund */
	(void)u256_sub(&dep, &rp->fund_to, &pot->deposit);
	if (u256_cmp(&pot->escrow, &rp->fund_to) < 0)
		(void)u256_sub(&esc, &rp->fund_to, &pot->escrow);
	if (u256_add(&total, &dep, &esc) != 0 ||
	    u256_add(&t, &j->spent, &total) != 0 ||
	    u256_cmp(&t, &rp->fund_budget) > 0) {
		j->over_budget++;
		return;
	}
	erc20_allowance(&call, rp->fund_addr, rp->dep.payment_hub);
	r = chain_call_u256(rp->cc, rp->dep.token, call.data, call.len,
			    &allow);
	if (r == 0 && u256_cmp(&allow, &total) < 0) {
		bbuf_free(&call);
		erc20_approve(&call, rp->dep.payment_hub, &total);
		r = fund_send(rp, rp->dep.token, &call);
	}
	bbuf_free(&call);
	if (r == 0 && (r = hub_fund_call(&call, j->signers[i], &dep,
					 &esc)) == 0)
		r = fund_send(rp, rp->dep.payment_hub, &call);
	bbuf_free(&call);
	if (r != 0) {
		fund_why(rp, j, r);
		return;
	}
	j->spent = t;
	j->funded++;
	j->state[i] = POT_FUNDED;
	fund_spent_write(rp, j);
}

/* On a worker: read each of our pots and fund those that need it. */
static void fund_run(struct bitsd_relaypay *rp, struct job *j)
{
	for (size_t i = 0; i < j->n && !atomic_load(&rp->stopping); i++) {
		struct hub_pot pot;

		if (pot_read(rp, j->signers[i], &pot) != 0) {
			j->state[i] = POT_UNKNOWN;
			continue;
		}
		j->state[i] = pot_funded(&pot) ? POT_FUNDED : POT_EMPTY;
		fund_one(rp, j, i, &pot);
	}
}

/* DATADIR/BITSD_RELAYPAY_POTS_DIR/END-I.key of fresh pot f. */
static char *fresh_path(const struct bitsd_relaypay *rp,
			const struct fresh_pot *f)
{
	char name[48];

	snprintf(name, sizeof(name), "%llu-%u.key",
		 (unsigned long long)f->end_s, f->i);
	return fsutil_path_join(rp->pots_dir, name);
}

/* fresh_path()'s name read back: "END-I.key", both in plain decimal. */
static bool fresh_name_parse(const char *name, struct fresh_pot *f)
{
	size_t a = strspn(name, "0123456789"), b;
	uint64_t i;

	if (name[a] != '-')
		return false;
	b = strspn(name + a + 1, "0123456789");
	if (strcmp(name + a + 1 + b, ".key") != 0 ||
	    dec_decode(&f->end_s, UINT64_MAX, name, a) != 0 ||
	    dec_decode(&i, UINT_MAX, name + a + 1, b) != 0)
		return false;
	f->i = (unsigned)i;
	return true;
}

/*
 * On a worker: a retired fresh pot whose tickets all expired.  Not funded
 * (or drained already, before a crash): its key is deleted.  Ours and not
 * unlocking: requestUnlock from the funding account.  Unlocked (the
 * chain's time past unlockAt): withdrawPot, deposit and escrow back to
 * the funding account, taken off the amount spent; then its key is
 * deleted.
 */
static void drain_one(struct bitsd_relaypay *rp, struct job *j, size_t i,
		      const struct hub_pot *pot, uint64_t chain_now)
{
	static const uint8_t zero[ETH_ADDR_BYTES];
	struct bbuf call = BBUF_INIT;
	struct u256 back;
	char *path;
	int r;

	if (memcmp(pot->funder, zero, ETH_ADDR_BYTES) != 0) {
		if (memcmp(pot->funder, rp->fund_addr, ETH_ADDR_BYTES) != 0)
			return;		/* not ours: kept */
		if (!pot->unlock_at) {
			hub_request_unlock_call(&call, j->signers[i]);
			if ((r = fund_send(rp, rp->dep.payment_hub, &call)) != 0)
				fund_why(rp, j, r);
			j->fp[i].unlocking = r == 0;
			bbuf_free(&call);
			return;
		}
		j->fp[i].unlocking = true;
		if (chain_now < pot->unlock_at)
			return;
		(void)u256_add(&back, &pot->deposit, &pot->escrow);
		hub_withdraw_pot_call(&call, j->signers[i]);
		r = fund_send(rp, rp->dep.payment_hub, &call);
		bbuf_free(&call);
		if (r != 0) {
			fund_why(rp, j, r);
			return;
		}
		u256_accumulate(&j->returned, &back);
		j->drained++;
		if (u256_sub(&j->spent, &j->spent, &back) != 0)
			j->spent = u256_from_u64(0);
		fund_spent_write(rp, j);
	}
	path = fresh_path(rp, &j->fp[i]);
	if (unlink(path) == 0)
		j->gone[i] = true;
	else
		snprintf(j->why, sizeof(j->why), "cannot delete %s", path);
	free(path);
}

/*
 * On a worker: the fresh pots of j.  FRESH_MAKE: a new key, written (0600,
 * synced) before the pot is funded; FRESH_MAKE and FRESH_FUND: funded as
 * in fund_run(); FRESH_DRAIN: drain_one().
 */
static void fresh_run(struct bitsd_relaypay *rp, struct job *j)
{
	uint64_t now = 0;

	if (chain_block_timestamp(rp->cc, &now) != 0)
		now = 0;	/* no pot withdrawn this time */
	for (size_t i = 0; i < j->n && !atomic_load(&rp->stopping); i++) {
		struct hub_pot pot;
		int r;

		if (j->act[i] == FRESH_MAKE) {
			char *path = fresh_path(rp, &j->fp[i]);

			j->made[i] = secmem_alloc(sizeof(*j->made[i]));
			r = bitsd_market_sk_load(path, true, j->made[i]);
			if (r == 0)
				r = secp_sk_address(j->made[i], j->signers[i]);
			if (r != 0) {
				snprintf(j->why, sizeof(j->why), "cannot make "
					 "%s: %s", path, err_str(r));
				secmem_free(j->made[i]);
				j->made[i] = NULL;
			}
			free(path);
			if (r != 0)
				continue;
			memcpy(j->fp[i].addr, j->signers[i], ETH_ADDR_BYTES);
		}
		if (pot_read(rp, j->signers[i], &pot) != 0) {
			j->state[i] = POT_UNKNOWN;
			continue;
		}
		j->state[i] = pot_funded(&pot) ? POT_FUNDED : POT_EMPTY;
		if (j->act[i] == FRESH_DRAIN)
			drain_one(rp, j, i, &pot, now);
		else
			fund_one(rp, j, i, &pot);
	}
}

/* On a worker: t's nonce is spent on the chain (false when unknown). */
static bool nonce_used(struct bitsd_relaypay *rp,
		       const struct relaypay_winner *w)
{
	struct bbuf call = BBUF_INIT, ret = BBUF_INIT;
	bool used = false;

	hub_is_nonce_used_call(&call, w->signer, &w->t.sender_nonce);
	if (chain_call(rp->cc, NULL, rp->dep.payment_hub, call.data,
		       call.len, &ret) == 0) {
		struct abi_dec d = abi_dec_init(ret.data, ret.len);

		if (ret.len != ABI_WORD_BYTES || abi_dec_bool(&d, 0, &used))
			used = false;
	}
	bbuf_free(&call);
	bbuf_free(&ret);
	return used;
}

static void job_run(void *arg)
{
	struct job *j = arg;
	struct bitsd_relaypay *rp = j->rp;
	struct bbuf call = BBUF_INIT, ret = BBUF_INIT;

	if (j->kind == JOB_WITHDRAW) {
		withdraw_all(rp, j);
	} else if (j->kind == JOB_FUND && j->act) {
		fresh_run(rp, j);
	} else if (j->kind == JOB_FUND) {
		fund_run(rp, j);
	} else if (j->kind == JOB_POTS) {
		for (size_t i = 0; i < j->n; i++)
			j->read[i] = pot_read(rp, j->signers[i],
					      &j->pots[i]) == 0;
	} else {
		struct relaypay_batch *b = &j->batch;
		struct eip712_ticket *t = xcalloc(b->n ? b->n : 1, sizeof(*t));
		uint8_t (*sigs)[SECP_SIG_BYTES] =
			xcalloc(b->n ? b->n : 1, sizeof(*sigs));
		struct chain_receipt rc = { 0 };

		for (size_t i = 0; i < b->n; i++) {
			t[i] = b->w[i].t;
			memcpy(sigs[i], b->w[i].sig, SECP_SIG_BYTES);
		}
		j->won = xcalloc(b->n ? b->n : 1, sizeof(*j->won));
		/* In chunks: a receipt holds one log a winner, and the chain
		 * client reads at most CHAIN_RECEIPT_MAX_LOGS. */
		for (size_t lo = 0; lo < b->n && !atomic_load(&rp->stopping);
		     lo += BITSD_RELAYPAY_BATCH_MAX) {
			size_t hi = b->n - lo > BITSD_RELAYPAY_BATCH_MAX ?
				    lo + BITSD_RELAYPAY_BATCH_MAX : b->n;
			int r;

			if (lo)
				chain_pause(rp, BITSD_RELAYPAY_WITHDRAW_PACE_MS);
			chain_receipt_clear(&rc);
			bbuf_free(&call);
			hub_redeem_tickets_call(&call, hi - lo, t + lo,
				(const uint8_t (*)[SECP_SIG_BYTES])(sigs + lo),
				b->rand);
			r = chain_send(rp->cc, rp->redeem_sk,
				       rp->dep.payment_hub, call.data,
				       call.len, NULL, &rc);
			if (r == 0 && rc.status) {
				j->gas += rc.gas_used;
				for (size_t i = lo; i < hi; i++) {
					j->redeemed++;
					j->won[i] = true;
					u256_accumulate(&j->redeemed_face,
							&t[i].face_value);
				}
				continue;
			}
			j->err = r ? r : ERR_BAD_STATE;
			/* One ticket the chain refuses (a nonce the payer
			 * gave twice) reverts the whole chunk: one at a
			 * time instead, paced (a chain gateway limits
			 * each peer's requests a second). */
			if (!j->why[0])
				snprintf(j->why, sizeof(j->why), "%s",
					 chain_client_error(rp->cc) ?
					 chain_client_error(rp->cc) :
					 err_str(j->err));
			for (size_t i = lo; i < hi &&
					    !atomic_load(&rp->stopping); i++) {
				chain_pause(rp, BITSD_RELAYPAY_WITHDRAW_PACE_MS);
				chain_receipt_clear(&rc);
				bbuf_free(&call);
				hub_redeem_ticket_call(&call, &t[i], sigs[i],
						       b->rand);
				if (chain_send(rp->cc, rp->redeem_sk,
					       rp->dep.payment_hub, call.data,
					       call.len, NULL, &rc) == 0 &&
				    rc.status) {
					j->redeemed++;
					j->won[i] = true;
					j->gas += rc.gas_used;
					u256_accumulate(&j->redeemed_face,
							&t[i].face_value);
				} else if (nonce_used(rp, &b->w[i])) {
					/* spent already: ours before a crash
					 * (a batch saved while on the chain)
					 * or the payer's nonce given twice;
					 * never redeemed again, its stealth
					 * address withdrawn */
					j->already++;
					j->won[i] = true;
				}
			}
		}
		if (j->redeemed || j->already)
			j->err = 0;
		chain_receipt_clear(&rc);
		if ((j->redeemed || j->already) && rp->has_withdraw) {
			j->wr = xcalloc(j->redeemed + j->already,
					sizeof(*j->wr));
			for (size_t i = 0; i < b->n; i++)
				if (j->won[i])
					j->wr[j->nwr++].eph = b->w[i].eph;
			withdraw_all(rp, j);
		}
		free(t);
		free(sigs);
	}
	bbuf_free(&call);
	bbuf_free(&ret);
}

static void job_free(struct job *j)
{
	free(j->signers);
	free(j->pots);
	free(j->read);
	free(j->won);
	if (j->wr)
		memwipe(j->wr, j->nwr * sizeof(*j->wr));
	free(j->wr);
	free(j->wres);
	free(j->state);
	for (size_t i = 0; j->made && i < j->n; i++)
		secmem_free(j->made[i]);
	free(j->made);
	free(j->act);
	free(j->fp);
	free(j->gone);
	relaypay_batch_free(&j->batch);
	free(j);
}

/*
 * The job's withdrawals that failed go back to the retry list, the next
 * round BITSD_RELAYPAY_WITHDRAW_RETRY_MS × 2^(rounds failed - 1) later,
 * up to BITSD_RELAYPAY_WITHDRAW_ROUNDS rounds (then given up: the
 * winnings stay in the contract at the stealth address); untried ones
 * (bitsd stopping) go back as they were.  Counts the job's withdrawals.
 */
static void withdrawals_done(struct bitsd_relaypay *rp, struct job *j)
{
	size_t failed = 0, given_up = 0, done = 0;

	for (size_t i = 0; i < j->nwr; i++) {
		struct wretry w = j->wr[i];

		if (j->wres && j->wres[i] == W_DONE) {
			done++;
			if (w.tries)
				rp->withdraw_retried++;
			continue;
		}
		if (j->wres && j->wres[i] == W_FAILED) {
			failed++;
			if (++w.tries >= BITSD_RELAYPAY_WITHDRAW_ROUNDS) {
				given_up++;
				continue;
			}
		}
		w.at_ms = time_mono_ms() + (rp->wretry_ms <<
					    (w.tries ? w.tries - 1 : 0));
		rp->wretry = xrealloc(rp->wretry, (rp->nwretry + 1) *
				      sizeof(*rp->wretry));
		rp->wretry[rp->nwretry++] = w;
	}
	rp->dirty = true;	/* the retries to save */
	rp->withdrawn += j->withdrawn;
	rp->withdraw_failed += given_up;
	rp->withdraw_gas += j->wgas;
	u256_accumulate(&rp->withdrawn_amount, &j->withdrawn_amount);
	if (j->nwr) {
		char a[U256_DEC_BYTES];

		log_notice(LD_APP, "relaypay: %zu winnings withdrawn (%s), "
			   "%zu failed (%zu given up, %zu to try again)%s%s",
			   done, u256_format_dec(&j->withdrawn_amount, a,
						 sizeof(a)),
			   failed, given_up, failed - given_up,
			   failed ? ": " : "", failed ? j->wwhy : "");
	}
}

/* A withdrawal round for the retries that are due (one job). */
static struct job *withdraw_job(struct bitsd_relaypay *rp)
{
	uint64_t now = time_mono_ms();
	struct job *j = NULL;
	size_t keep = 0;

	for (size_t i = 0; i < rp->nwretry; i++) {
		if (rp->wretry[i].at_ms > now ||
		    (j && j->nwr == BITSD_RELAYPAY_BATCH_MAX)) {
			rp->wretry[keep++] = rp->wretry[i];
			continue;
		}
		if (!j) {
			j = xzalloc(sizeof(*j));
			j->kind = JOB_WITHDRAW;
			j->wr = xcalloc(BITSD_RELAYPAY_BATCH_MAX,
					sizeof(*j->wr));
		}
		j->wr[j->nwr++] = rp->wretry[i];
	}
	rp->nwretry = keep;	/* the job's are still saved: wretry_format */
	return j;
}

static void settle_pending(struct bitsd_relaypay *rp);
static void job_submit(struct bitsd_relaypay *rp, struct job *j);

/* The winners of j's batch that were not redeemed go back to the retry
 * list, up to BITSD_RELAYPAY_REDEEM_TRIES tries (then they are given
 * up: the chain refuses them, or they expire). */
static void retry_later(struct bitsd_relaypay *rp, struct job *j)
{
	struct retry_batch *rb;
	size_t n = 0;

	if (j->tries + 1 >= BITSD_RELAYPAY_REDEEM_TRIES) {
		log_warn(LD_APP, "relaypay: %zu winners of epoch %llu given "
			 "up after %u tries", j->batch.n - j->redeemed,
			 (unsigned long long)j->batch.epoch_id,
			 j->tries + 1);
		return;
	}
	rp->retry = xrealloc(rp->retry, (rp->nretry + 1) *
			     sizeof(*rp->retry));
	rb = &rp->retry[rp->nretry++];
	memset(rb, 0, sizeof(*rb));
	rb->tries = j->tries + 1;
	rb->b.epoch_id = j->batch.epoch_id;
	memcpy(rb->b.rand, j->batch.rand, sizeof(rb->b.rand));
	rb->b.w = xcalloc(j->batch.n ? j->batch.n : 1, sizeof(*rb->b.w));
	for (size_t i = 0; i < j->batch.n; i++)
		if (!j->won || !j->won[i])
			rb->b.w[n++] = j->batch.w[i];
	rb->b.n = n;
	rp->redeem_retry_at = time_mono_ms() + BITSD_RELAYPAY_REDEEM_RETRY_MS;
}

/* Fresh pots as the funding job left them: the keys made go into their
 * slots, the pots drained leave the list. */
static void fresh_done(struct bitsd_relaypay *rp, struct job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		struct fresh_pot *f = &j->fp[i];
		size_t k = fresh_slot(rp, f->end_s, f->i), keep = 0;

		if (j->act[i] == FRESH_MAKE && j->made[i]) {
			rp->fpots = xrealloc(rp->fpots, (rp->nfpots + 1) *
					     sizeof(*rp->fpots));
			rp->fpots[rp->nfpots++] = *f;
			secmem_free(rp->pay_sk[k]);
			rp->pay_sk[k] = j->made[i];
			j->made[i] = NULL;
			memcpy(rp->pay_addr[k], f->addr, ETH_ADDR_BYTES);
			rp->slot_end[k] = f->end_s;
			rp->pot_state[k] = j->state[i];
		} else if (j->act[i] == FRESH_FUND && rp->slot_end[k] ==
			   f->end_s && j->state[i] != POT_UNKNOWN) {
			rp->pot_state[k] = j->state[i];
		}
		if (j->act[i] != FRESH_DRAIN)
			continue;
		for (size_t m = 0; m < rp->nfpots; m++) {
			struct fresh_pot *g = &rp->fpots[m];

			if (memcmp(g->addr, f->addr, ETH_ADDR_BYTES) == 0) {
				if (j->gone[i])
					continue;
				g->unlocking |= f->unlocking;
			}
			rp->fpots[keep++] = *g;
		}
		rp->nfpots = keep;
	}
	rp->pots_drained += j->drained;
	u256_accumulate(&rp->pots_returned, &j->returned);
}

/* The payer's pots as the funding job found them. */
static void fund_done(struct bitsd_relaypay *rp, struct job *j)
{
	size_t unknown = 0;
	uint64_t next = BITSD_RELAYPAY_FUND_CHECK_MS;

	for (size_t i = 0; i < j->n; i++) {
		if (!j->act && j->state[i] != POT_UNKNOWN)
			rp->pot_state[i] = j->state[i];
		unknown += j->state[i] == POT_UNKNOWN;
	}
	if (j->act) {
		fresh_done(rp, j);
		/* often enough to fund each turn's pots before it, and to
		 * drain the retired ones */
		if (rp->rotate_s * 500 < next)
			next = rp->rotate_s * 500;
	}
	rp->fund_spent = j->spent;
	rp->funded += j->funded;
	rp->fund_over_budget += j->over_budget;
	/* a pot not read (the chain not reached yet): again soon */
	rp->fund_at = time_mono_ms() + (unknown ? BITSD_RELAYPAY_POT_RETRY_MS :
					next);
	if (j->funded || j->over_budget || j->drained || j->why[0]) {
		char a[U256_DEC_BYTES], b[U256_DEC_BYTES], d[64 + U256_DEC_BYTES];

		d[0] = 0;
		if (j->act)
			snprintf(d, sizeof(d), ", %zu drained (%s back)",
				 j->drained, u256_format_dec(&j->returned, b,
							     sizeof(b)));
		log_notice(LD_APP, "relaypay: %zu pots funded (%s spent in all"
			   "), %zu over the budget%s%s%s", j->funded,
			   u256_format_dec(&j->spent, a, sizeof(a)),
			   j->over_budget, d, j->why[0] ? "; " : "", j->why);
	}
}

/*
 * Fresh pots (tunnels.pay.fresh-pots): a job for this turn's pots and
 * the next's (made when missing, so that a pot is funded before its turn;
 * funded) and the retired ones whose tickets all expired (unlocked, then
 * drained).  At a turn and every half turn (at most
 * BITSD_RELAYPAY_FUND_CHECK_MS).
 */
static void fresh_job(struct bitsd_relaypay *rp)
{
	uint64_t end = fresh_end(rp), now = time_now_s();
	size_t cap = rp->nfpots + 2 * rp->fresh_n, ndrain = 0;
	struct job *j;

	if (time_mono_ms() < rp->fund_at && end == rp->fund_turn)
		return;
	rp->fund_turn = end;
	rp->fund_at = UINT64_MAX;	/* fund_done() sets it */
	j = xzalloc(sizeof(*j));
	j->kind = JOB_FUND;
	j->signers = xcalloc(cap, sizeof(*j->signers));
	j->state = xcalloc(cap, sizeof(*j->state));
	j->act = xcalloc(cap, sizeof(*j->act));
	j->fp = xcalloc(cap, sizeof(*j->fp));
	j->made = xcalloc(cap, sizeof(*j->made));
	j->gone = xcalloc(cap, sizeof(*j->gone));
	for (uint64_t e = end; e <= end + rp->rotate_s; e += rp->rotate_s) {
		for (unsigned i = 0; i < rp->fresh_n; i++) {
			size_t k = fresh_slot(rp, e, i), n = j->n++;

			j->fp[n].end_s = e;
			j->fp[n].i = i;
			if (rp->slot_end[k] == e) {
				j->act[n] = FRESH_FUND;
				memcpy(j->fp[n].addr, rp->pay_addr[k],
				       ETH_ADDR_BYTES);
				memcpy(j->signers[n], rp->pay_addr[k],
				       ETH_ADDR_BYTES);
			} else {
				j->act[n] = FRESH_MAKE;
			}
		}
	}
	for (size_t m = 0; m < rp->nfpots &&
			   ndrain < BITSD_RELAYPAY_BATCH_MAX; m++) {
		const struct fresh_pot *f = &rp->fpots[m];

		if (f->end_s + rp->retire_s > now)
			continue;	/* its tickets may still be good */
		j->act[j->n] = FRESH_DRAIN;
		j->fp[j->n] = *f;
		memcpy(j->signers[j->n++], f->addr, ETH_ADDR_BYTES);
		ndrain++;
	}
	j->spent = rp->fund_spent;
	job_submit(rp, j);
}

/* Check (and fund) our pots: at start, every BITSD_RELAYPAY_FUND_CHECK_MS
 * (more often than the turns by default: a pot is filled before its turn
 * comes), and at a turn to a pot whose state is not known.  Each check
 * holds the chain client (a stop waits for it). */
static void fund_job(struct bitsd_relaypay *rp)
{
	struct job *j;

	if (rp->fresh_n && rp->fund_sk && rp->cc && !rp->job) {
		fresh_job(rp);
		return;
	}
	if (!rp->fund_sk || !rp->cc || rp->job ||
	    (time_mono_ms() < rp->fund_at &&
	     (pay_turn(rp) == rp->fund_turn ||
	      rp->pot_state[pay_turn(rp)] != POT_UNKNOWN)))
		return;
	rp->fund_turn = pay_turn(rp);
	rp->fund_at = UINT64_MAX;	/* fund_done() sets it */
	j = xzalloc(sizeof(*j));
	j->kind = JOB_FUND;
	j->n = rp->npay_keys;
	j->signers = xcalloc(j->n, sizeof(*j->signers));
	memcpy(j->signers, rp->pay_addr, j->n * sizeof(*j->signers));
	j->state = xcalloc(j->n, sizeof(*j->state));
	j->spent = rp->fund_spent;
	job_submit(rp, j);
}

static void job_done(void *arg)
{
	struct job *j = arg;
	struct bitsd_relaypay *rp = j->rp;

	rp->job = NULL;
	if (j->kind == JOB_REDEEM)
		rp->dirty = true;	/* its batch leaves the saved state */
	if (j->kind == JOB_WITHDRAW) {
		withdrawals_done(rp, j);
	} else if (j->kind == JOB_FUND) {
		fund_done(rp, j);
	} else if (j->kind == JOB_POTS) {
		for (size_t i = 0; i < j->n; i++) {
			if (!j->read[i]) {
				/* the chain unreachable (the gateway not
				 * found yet): the tickets wait, up to
				 * BITSD_RELAYPAY_PENDING_S */
				rp->pot_retry_at = time_mono_ms() +
						   BITSD_RELAYPAY_POT_RETRY_MS;
				rp->pot_failed++;
				continue;
			}
			relaypay_potcache_put(rp->pots, j->signers[i],
					      &j->pots[i], time_now_s());
		}
		settle_pending(rp);
	} else if (j->redeemed || j->already) {
		char s[U256_DEC_BYTES];

		rp->redeemed += j->redeemed;
		rp->redeem_batches++;
		rp->redeem_gas += j->gas;
		u256_accumulate(&rp->redeemed_face, &j->redeemed_face);
		withdrawals_done(rp, j);
		log_notice(LD_APP, "relaypay: epoch %llu: %zu of %zu winners "
			   "redeemed (%zu spent already), face %s, gas %llu%s%s",
			   (unsigned long long)j->batch.epoch_id, j->redeemed,
			   j->batch.n, j->already,
			   u256_format_dec(&j->redeemed_face, s, sizeof(s)),
			   (unsigned long long)j->gas, j->why[0] ?
			   "; one at a time, a chunk reverted: " : "",
			   j->why);
		if (j->redeemed + j->already < j->batch.n)
			retry_later(rp, j);
	} else {
		/* Nothing went through (the chain unreachable): again
		 * later, while the winners are still valid. */
		rp->redeem_failed++;
		log_warn(LD_APP, "relaypay: redeeming epoch %llu's %zu winners "
			 "failed: %s; trying again later",
			 (unsigned long long)j->batch.epoch_id, j->batch.n,
			 j->why[0] ? j->why : err_str(j->err));
		retry_later(rp, j);
	}
	job_free(j);
}

static void job_submit(struct bitsd_relaypay *rp, struct job *j)
{
	j->rp = rp;
	rp->job = j;
	worker_submit(rp->deps.wp, (struct work){ job_run, job_done, j });
}

/* ------------------------------------------------------------ the relay */

static void refuse(struct bitsd_relaypay *rp, enum relaypay_reason why)
{
	rp->refused[why]++;
	log_debug(LD_APP, "relaypay: ticket refused: %s",
		  relaypay_reason_str(why));
}

static struct paid_tunnel *paid_find(struct bitsd_relaypay *rp,
				     uint32_t receive_id)
{
	for (size_t i = 0; i < rp->npaid; i++)
		if (rp->paid[i].receive_id == receive_id)
			return &rp->paid[i];
	return NULL;
}

/* A tunnel whose build ticket passed the first check (its tickets after
 * the build are taken from now on). */
static struct paid_tunnel *paid_note(struct bitsd_relaypay *rp,
				     uint32_t receive_id)
{
	struct paid_tunnel *t = paid_find(rp, receive_id);

	if (t)
		return t;
	if (rp->npaid == rp->paid_cap) {
		rp->paid_cap = rp->paid_cap ? 2 * rp->paid_cap : 16;
		rp->paid = xrealloc(rp->paid, rp->paid_cap *
				    sizeof(*rp->paid));
	}
	t = &rp->paid[rp->npaid++];
	memset(t, 0, sizeof(*t));
	t->receive_id = receive_id;
	return t;
}

/* A ticket of the tunnel was accepted: its bytes count, from its first
 * (the build ticket pays from the start; bytes carried while the ticket
 * waited for its pot count too). */
static struct paid_tunnel *paid_add(struct bitsd_relaypay *rp,
				    uint32_t receive_id)
{
	struct paid_tunnel *t = paid_note(rp, receive_id);

	if (!t->counted) {
		t->counted = true;
		t->seen = 0;
		rp->paid_tunnels++;
	}
	return t;
}

/* bytes × price / 2^30: what carrying them is worth. */
static struct u256 owed_for(const struct bitsd_relaypay *rp, uint64_t bytes)
{
	struct u256 owed;

	if (u256_mul_u64(&owed, &rp->price, bytes) != 0)
		return u256_from_u64(0);
	(void)u256_div_u64(&owed, NULL, &owed, 1ULL << RELAYPAY_GIB_SHIFT);
	return owed;
}

/* Add what paid tunnel t's bytes were worth beyond its tickets' expected
 * value to *under, or the other way round to *ahead. */
static void paid_balance(const struct bitsd_relaypay *rp,
			 const struct paid_tunnel *t, struct u256 *under,
			 struct u256 *ahead)
{
	struct u256 owed = owed_for(rp, t->bytes), d;

	if (!t->counted)
		return;
	if (u256_cmp(&owed, &t->ev) > 0) {
		(void)u256_sub(&d, &owed, &t->ev);
		u256_accumulate(under, &d);
	} else {
		(void)u256_sub(&d, &t->ev, &owed);
		u256_accumulate(ahead, &d);
	}
}

/* Step 2 with the pot's state. */
static void accept_one(struct bitsd_relaypay *rp, const struct pending *p,
		       const struct hub_pot *pot)
{
	enum relaypay_reason why;
	struct u256 ev;
	bool won = false;

	why = relaypay_payee_accept(rp->payee, &p->c, pot, time_now_s(), &won);
	if (why != RELAYPAY_OK) {
		refuse(rp, why);
		return;
	}
	rp->dirty = true;
	ev = ticket_value(&p->c.t);
	u256_accumulate(&rp->ev_accepted, &ev);
	u256_accumulate(&paid_add(rp, p->receive_id)->ev, &ev);
	log_debug(LD_APP, "relaypay: ticket accepted for tunnel %u%s",
		  p->receive_id, won ? ": a winner" : "");
}

/* A pot read less than BITSD_RELAYPAY_POT_TTL_S ago; while a redemption
 * or withdrawals hold the chain client (minutes), one read less than
 * BITSD_RELAYPAY_POT_STALE_S ago: a pot that began unlocking since still
 * pays for unlockDelay > maxPaperTTL, longer than the ticket lives. */
static const struct hub_pot *pot_fresh(const struct bitsd_relaypay *rp,
				       const uint8_t signer[ETH_ADDR_BYTES])
{
	uint64_t ttl = rp->job && rp->job->kind != JOB_POTS ?
		       BITSD_RELAYPAY_POT_STALE_S : BITSD_RELAYPAY_POT_TTL_S;
	uint64_t read_s = 0;
	const struct hub_pot *pot = relaypay_potcache_get(rp->pots, signer,
							  &read_s);

	return pot && read_s + ttl > time_now_s() ? pot : NULL;
}

/* Accept what has a fresh pot; read the others' pots (one job). */
static void settle_pending(struct bitsd_relaypay *rp)
{
	struct job *j = NULL;
	size_t keep = 0;
	bool dup;

	for (size_t i = 0; i < rp->npend; i++) {
		struct pending *p = &rp->pend[i];
		const struct hub_pot *pot = pot_fresh(rp, p->c.signer);

		if (pot) {
			accept_one(rp, p, pot);
			continue;
		}
		if (p->since_s + BITSD_RELAYPAY_PENDING_S < time_now_s()) {
			refuse(rp, RELAYPAY_NO_POT);	/* never read */
			continue;
		}
		rp->pend[keep++] = *p;
		if (rp->job || !rp->cc || time_mono_ms() < rp->pot_retry_at)
			continue;
		if (!j) {
			j = xzalloc(sizeof(*j));
			j->kind = JOB_POTS;
			j->signers = xcalloc(rp->npend, sizeof(*j->signers));
		}
		dup = false;
		for (size_t k = 0; k < j->n; k++)
			dup |= memcmp(j->signers[k], p->c.signer,
				      ETH_ADDR_BYTES) == 0;
		if (!dup)
			memcpy(j->signers[j->n++], p->c.signer,
			       ETH_ADDR_BYTES);
	}
	rp->npend = keep;
	if (j) {
		j->pots = xcalloc(j->n, sizeof(*j->pots));
		j->read = xcalloc(j->n, sizeof(*j->read));
		job_submit(rp, j);
	}
}

/* This thread's CPU time in ns (0 if it cannot be read). */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void ticket_cpu_since(struct bitsd_relaypay *rp, uint64_t t0)
{
	uint64_t t1 = thread_cpu_ns();

	if (t0 && t1 > t0)
		rp->ticket_ns += t1 - t0;
}

static void take_ticket(struct bitsd_relaypay *rp, const uint8_t *tk,
			size_t len, uint32_t receive_id)
{
	struct pending p;
	enum relaypay_reason why;

	rp->received++;
	why = relaypay_payee_check(rp->payee, tk, len, time_now_s(), &p.c);
	if (why != RELAYPAY_OK) {
		refuse(rp, why);
		return;
	}
	if (!rp->cc) {
		refuse(rp, RELAYPAY_NO_POT);	/* no way to read pots */
		return;
	}
	if (rp->npend == BITSD_RELAYPAY_PENDING_MAX) {
		refuse(rp, RELAYPAY_FULL);
		return;
	}
	p.receive_id = receive_id;
	p.since_s = time_now_s();
	rp->pend[rp->npend++] = p;
	(void)paid_note(rp, receive_id);
	settle_pending(rp);
}

void bitsd_relaypay_ticket(void *ctx, const uint8_t *tk, size_t len,
			   uint32_t receive_id)
{
	struct bitsd_relaypay *rp = ctx;
	uint64_t t0;

	if (!rp->payee)
		return;
	t0 = thread_cpu_ns();
	take_ticket(rp, tk, len, receive_id);
	ticket_cpu_since(rp, t0);
}

static bool pending_for(const struct bitsd_relaypay *rp, uint32_t receive_id)
{
	for (size_t i = 0; i < rp->npend; i++)
		if (rp->pend[i].receive_id == receive_id)
			return true;
	return false;
}

void bitsd_relaypay_data(void *ctx, const struct i2np_msg *m)
{
	struct bitsd_relaypay *rp = ctx;
	struct tunnel_topup tu;
	struct paid_tunnel *pt;
	struct transit_info ti;
	const uint8_t *body;
	size_t len;
	uint64_t t0;

	if (!rp->payee)
		return;
	t0 = thread_cpu_ns();
	if (i2np_blob_decode(m, &body, &len) != 0 ||
	    tunnel_topup_decode(body, len, &tu) != 0) {
		ticket_cpu_since(rp, t0);
		return;
	}
	rp->topups += tu.n;
	/* Only for a tunnel through us whose build ticket was accepted (or
	 * waits for its pot), a bounded number: each ticket costs an ECDH
	 * and a signature recovery. */
	if (!transit_table_lookup(rp->deps.transit, tu.tunnel_id, &ti) ||
	    !(pt = paid_find(rp, tu.tunnel_id)) ||
	    !(pt->counted || pending_for(rp, tu.tunnel_id)) ||
	    pt->topups + tu.n > BITSD_RELAYPAY_TOPUPS_MAX) {
		rp->topups_refused += tu.n;
		log_debug(LD_APP, "relaypay: %zu tickets for tunnel %u "
			  "refused: not a paid tunnel of ours, or too many",
			  tu.n, tu.tunnel_id);
		ticket_cpu_since(rp, t0);
		return;
	}
	pt->topups += (uint32_t)tu.n;
	for (size_t i = 0; i < tu.n; i++)
		take_ticket(rp, tu.tk[i], tu.len[i], tu.tunnel_id);
	ticket_cpu_since(rp, t0);
}

/* The bytes the paid tunnels carried since the last look; tunnels gone
 * from the transit table are forgotten. */
static void count_bytes(struct bitsd_relaypay *rp)
{
	size_t keep = 0;

	for (size_t i = 0; i < rp->npaid; i++) {
		struct paid_tunnel *t = &rp->paid[i];
		struct transit_info ti;

		if (!transit_table_lookup(rp->deps.transit, t->receive_id,
					  &ti)) {
			paid_balance(rp, t, &rp->underpaid, &rp->paid_ahead);
			continue;
		}
		if (t->counted && ti.bytes_in > t->seen) {
			rp->paid_bytes += ti.bytes_in - t->seen;
			t->bytes += ti.bytes_in - t->seen;
		}
		t->seen = ti.bytes_in;
		rp->paid[keep++] = *t;
	}
	rp->npaid = keep;
}

static void publish(struct bitsd_relaypay *rp)
{
	uint64_t end;

	relaypay_payee_commitment(rp->payee, rp->pay.commit, &end);
	if (rp->deps.publish)
		rp->deps.publish(rp->deps.ctx, &rp->pay);
}

static void save_run(void *arg)
{
	struct save_job *s = arg;

	s->r = fsutil_write_atomic(s->path, s->bytes.data, s->bytes.len,
				   0600, true);
	if (s->wpath)
		s->wr = fsutil_write_atomic(s->wpath, s->wbytes.data,
					    s->wbytes.len, 0600, true);
}

static void save_done(void *arg)
{
	struct save_job *s = arg;

	if (s->r != 0)
		log_warn(LD_APP, "relaypay: cannot write %s: %s", s->path,
			 err_str(s->r));
	if (s->wr != 0)
		log_warn(LD_APP, "relaypay: cannot write %s: %s", s->wpath,
			 err_str(s->wr));
	if (s->rp)
		s->rp->saving = false;
	bbuf_free(&s->bytes);
	bbuf_free(&s->wbytes);
	free(s->path);
	free(s->wpath);
	free(s);
}

/*
 * The withdrawals to try again as BITSD_RELAYPAY_WRETRY_FILE's lines:
 * those of a round in progress (its job's, read-only on the worker) too,
 * so that a crash during the round does not lose them; when the round
 * ends, withdrawals_done() puts back what did not go through and marks
 * the state dirty.
 */
static void wretry_format(const struct bitsd_relaypay *rp, struct bbuf *out)
{
	const struct job *j = rp->job;

	for (size_t i = 0; j && j->kind == JOB_WITHDRAW && i < j->nwr; i++)
		relaypay_retry_line_format(&j->wr[i].eph, j->wr[i].tries, out);
	for (size_t i = 0; i < rp->nwretry; i++)
		relaypay_retry_line_format(&rp->wretry[i].eph,
					   rp->wretry[i].tries, out);
}

/* At start: the withdrawals a former run left to try again, the next
 * round BITSD_RELAYPAY_WITHDRAW_RETRY_MS from now (without
 * relay.pay.withdraw-to they are kept, not tried).  A line that does not
 * read is left out, with a warning. */
static void wretry_load(struct bitsd_relaypay *rp)
{
	char *path = fsutil_path_join(rp->datadir, BITSD_RELAYPAY_WRETRY_FILE);
	uint8_t *buf = NULL;
	size_t len = 0, bad = 0, got = 0;
	int r;

	if ((r = fsutil_read_file(path, 1u << 20, &buf, &len)) != 0) {
		if (r != ERR_NOT_FOUND)
			log_warn(LD_APP, "relaypay: cannot read %s: %s", path,
				 err_str(r));
		free(path);
		return;
	}
	for (size_t i = 0; i < len;) {
		const char *line = (const char *)buf + i;
		const uint8_t *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
		struct wretry w;

		i += n + 1;
		memset(&w, 0, sizeof(w));
		if (relaypay_retry_line_parse(line, n,
					      BITSD_RELAYPAY_WITHDRAW_ROUNDS,
					      &w.eph, &w.tries) != 0) {
			bad++;
			continue;
		}
		w.at_ms = rp->has_withdraw ? time_mono_ms() + rp->wretry_ms
					   : UINT64_MAX;
		rp->wretry = xrealloc(rp->wretry, (rp->nwretry + 1) *
				      sizeof(*rp->wretry));
		rp->wretry[rp->nwretry++] = w;
		got++;
	}
	if (got)
		log_notice(LD_APP, "relaypay: %zu withdrawals to try again "
			   "from %s", got, path);
	if (bad)
		log_warn(LD_APP, "relaypay: %zu lines of %s do not read: "
			 "left out", bad, path);
	xfree_wipe(buf, len);
	free(path);
}

static struct save_job *save_job_new(struct bitsd_relaypay *rp)
{
	struct save_job *s = xzalloc(sizeof(*s));

	s->path = fsutil_path_join(rp->datadir, BITSD_RELAYPAY_STATE_FILE);
	{
		/* the winners taken for the chain, until it has them */
		const struct relaypay_batch **b =
			xcalloc(rp->nretry + 1, sizeof(*b));
		size_t nb = 0;

		if (rp->job && rp->job->kind == JOB_REDEEM)
			b[nb++] = &rp->job->batch;
		for (size_t i = 0; i < rp->nretry; i++)
			b[nb++] = &rp->retry[i].b;
		relaypay_payee_save_with(rp->payee, b, nb, &s->bytes);
		free(b);
	}
	if (rp->has_withdraw || rp->nwretry) {
		s->wpath = fsutil_path_join(rp->datadir,
					    BITSD_RELAYPAY_WRETRY_FILE);
		wretry_format(rp, &s->wbytes);
	}
	rp->dirty = false;
	return s;
}

static void save_sync(struct bitsd_relaypay *rp)
{
	struct save_job *s = save_job_new(rp);

	save_run(s);
	save_done(s);
}

static void tick_cb(void *arg)
{
	struct bitsd_relaypay *rp = arg;
	uint64_t now = time_now_s();

	if (rp->payee) {
		/* a state read so long ago is never used again */
		relaypay_potcache_prune(rp->pots, now,
					BITSD_RELAYPAY_POT_STALE_S);
		count_bytes(rp);
		if (relaypay_payee_tick(rp->payee, now)) {
			log_info(LD_APP, "relaypay: new epoch: republishing "
				 "our RouterInfo");
			rp->dirty = true;
			publish(rp);
		}
		if (!rp->job && rp->npend)
			settle_pending(rp);
		if (!rp->job && rp->cc && rp->redeem_sk) {
			struct job *j = xzalloc(sizeof(*j));

			j->kind = JOB_REDEEM;
			if (rp->nretry && time_mono_ms() >= rp->redeem_retry_at) {
				rp->nretry--;
				j->batch = rp->retry[rp->nretry].b;
				j->tries = rp->retry[rp->nretry].tries;
				job_submit(rp, j);
			} else if (relaypay_payee_batch_take(rp->payee, now,
							     &j->batch) == 0) {
				rp->dirty = true;
				job_submit(rp, j);
			} else {
				free(j);
				if ((j = withdraw_job(rp)) != NULL)
					job_submit(rp, j);
			}
		}
		if (rp->dirty && !rp->saving &&
		    time_mono_ms() >= rp->save_at) {
			struct save_job *s = save_job_new(rp);

			s->rp = rp;
			rp->saving = true;
			rp->save_at = time_mono_ms() + BITSD_RELAYPAY_SAVE_MS;
			worker_submit(rp->deps.wp, (struct work){
				save_run, save_done, s });
		}
	}
	fund_job(rp);
	evloop_timer_arm(rp->tick, BITSD_RELAYPAY_TICK_MS);
}

/* ------------------------------------------------------------ /api/status */

static json_t *refused_json(const struct bitsd_relaypay *rp)
{
	json_t *o = json_object();

	for (int i = RELAYPAY_MALFORMED; i <= RELAYPAY_FULL; i++)
		if (rp->refused[i])
			json_object_set_new(o, relaypay_reason_str(i),
					    json_integer((json_int_t)
							 rp->refused[i]));
	return o;
}

static void status_section(void *ctx, json_t *o)
{
	struct bitsd_relaypay *rp = ctx;

	if (rp->payee) {
		struct relaypay_stats st;
		struct u256 owed = owed_for(rp, rp->paid_bytes);
		struct u256 under = rp->underpaid, ahead = rp->paid_ahead;
		uint64_t end;
		uint8_t c[32];
		json_t *r;

		relaypay_payee_stats(rp->payee, &st);
		relaypay_payee_commitment(rp->payee, c, &end);
		for (size_t i = 0; i < rp->npaid; i++)
			paid_balance(rp, &rp->paid[i], &under, &ahead);
		r = json_pack("{sosIsIsIsIsosososIsIsIsososIsIsIsIsb}",
			      "price", u256_json(&rp->price),
			      "tickets_received", (json_int_t)rp->received,
			      "accepted", (json_int_t)st.accepted,
			      "won", (json_int_t)st.won,
			      "pending", (json_int_t)rp->npend,
			      "refused", refused_json(rp),
			      "won_face", u256_json(&st.won_face),
			      "expected_value", u256_json(&rp->ev_accepted),
			      "paid_tunnels", (json_int_t)rp->paid_tunnels,
			      "paid_bytes", (json_int_t)rp->paid_bytes,
			      "transit_bytes", (json_int_t)
			      transit_table_stats(rp->deps.transit)->bytes_in,
			      "owed_for_bytes", u256_json(&owed),
			      "redeemed_face", u256_json(&rp->redeemed_face),
			      "redeemed", (json_int_t)rp->redeemed,
			      "redeem_batches", (json_int_t)rp->redeem_batches,
			      "redeem_failed", (json_int_t)rp->redeem_failed,
			      "redeem_gas", (json_int_t)rp->redeem_gas,
			      "chain", rp->cc != NULL);
		json_object_set_new(r, "withdrawn",
				    json_integer((json_int_t)rp->withdrawn));
		json_object_set_new(r, "withdrawn_amount",
				    u256_json(&rp->withdrawn_amount));
		json_object_set_new(r, "withdraw_failed",
				    json_integer((json_int_t)rp->withdraw_failed));
		json_object_set_new(r, "withdraw_retrying", json_integer(
			(json_int_t)(rp->nwretry + (rp->job &&
				rp->job->kind == JOB_WITHDRAW ?
				rp->job->nwr : 0))));
		json_object_set_new(r, "withdraw_retried",
				    json_integer((json_int_t)rp->withdraw_retried));
		json_object_set_new(r, "withdraw_gas",
				    json_integer((json_int_t)rp->withdraw_gas));
		json_object_set_new(r, "topups_received",
				    json_integer((json_int_t)rp->topups));
		json_object_set_new(r, "topups_refused",
				    json_integer((json_int_t)rp->topups_refused));
		json_object_set_new(r, "ticket_cpu_us",
				    json_integer((json_int_t)(rp->ticket_ns /
							      1000)));
		json_object_set_new(r, "underpaid", u256_json(&under));
		json_object_set_new(r, "paid_ahead", u256_json(&ahead));
		json_object_set_new(r, "pot_reads_failed",
				    json_integer((json_int_t)rp->pot_failed));
		json_object_set_new(r, "pots_cached", json_integer(
			(json_int_t)relaypay_potcache_count(rp->pots)));
		json_object_set_new(r, "epoch_ends_in_s", json_integer(
			(json_int_t)(end > time_now_s() ? end - time_now_s()
							: 0)));
		json_object_set_new(o, "relay", r);
	}
	if (rp->npay_keys) {
		struct tunnel_pool_stats ps = { 0 };
		size_t k = pay_key_now(rp, 0);
		json_t *py;

		if (rp->deps.own)
			tunnel_mgr_stats(rp->deps.own, &ps);
		json_object_set_new(o, "payer", py = json_pack(
			"{sosIsIsIsIsIsosIsI}", "signer",
			addr_json(rp->pay_addr[k == SIZE_MAX ? pay_turn(rp) : k]),
			"signers", (json_int_t)rp->npay_keys,
			"topups_sent", (json_int_t)ps.topups_sent,
			"tickets_sent", (json_int_t)rp->sent,
			"skipped_price", (json_int_t)rp->skipped_price,
			"failed", (json_int_t)rp->failed_make,
			"expected_value", u256_json(&rp->ev_sent),
			"bytes_per_ticket", (json_int_t)rp->pay_bytes,
			"next_nonce", (json_int_t)rp->nonce));
		json_object_set_new(py, "ri_lookups",
				    json_integer((json_int_t)rp->ri_lookups));
		if (rp->fund_sk) {
			size_t n = 0;

			for (size_t i = 0; i < rp->npay_keys; i++)
				n += rp->pot_state[i] == POT_FUNDED;
			json_object_set_new(py, "pots_funded",
					    json_integer((json_int_t)n));
			json_object_set_new(py, "funded",
					    json_integer((json_int_t)rp->funded));
			json_object_set_new(py, "fund_spent",
					    u256_json(&rp->fund_spent));
			json_object_set_new(py, "fund_budget",
					    u256_json(&rp->fund_budget));
			json_object_set_new(py, "fund_over_budget", json_integer(
				(json_int_t)rp->fund_over_budget));
		}
		if (rp->fresh_n) {
			json_object_set_new(py, "pots_live", json_integer(
				(json_int_t)rp->nfpots));
			json_object_set_new(py, "pots_drained", json_integer(
				(json_int_t)rp->pots_drained));
			json_object_set_new(py, "pots_returned",
					    u256_json(&rp->pots_returned));
		}
	}
}

/* ---------------------------------------------------------- start, stop */

static int load_deploy(struct bitsd_relaypay *rp, const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *why = NULL;
	struct eip712_domain d = { .name = EIP712_NAME_HUB };
	int r;

	if (!path) {
		log_err(LD_APP, "relaypay: needs market.deploy (the chain id "
			"and the PaymentHub)");
		return ERR_ARG;
	}
	r = fsutil_read_file(path, CHAIN_DEPLOY_MAX_BYTES, &buf, &len);
	if (r == 0)
		r = chain_deploy_parse((const char *)buf, len, &rp->dep, &why);
	free(buf);
	if (r != 0) {
		log_err(LD_APP, "relaypay: market.deploy %s: %s", path,
			why ? why : err_str(r));
		return r;
	}
	d.chain_id = rp->dep.chain_id;
	memcpy(d.verifying, rp->dep.payment_hub, ETH_ADDR_BYTES);
	eip712_domain_separator(&d, rp->sep);
	return 0;
}

static struct secp_sk *key_load(const char *what, const char *path,
				 bool create, int *r)
{
	struct secp_sk *sk = secmem_alloc(sizeof(*sk));

	if ((*r = bitsd_market_sk_load(path, create, sk)) != 0) {
		log_err(LD_APP, "relaypay: %s %s: %s", what, path,
			err_str(*r));
		secmem_free(sk);
		return NULL;
	}
	return sk;
}

static int payee_start(struct bitsd_relaypay *rp, const struct conf *cfg)
{
	char *path;
	struct stealth_meta meta;
	struct secp_pk spend_pk;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (!cfg->relay_pay_price || u256_parse_str(&rp->price,
						    cfg->relay_pay_price)) {
		log_err(LD_APP, "relay.pay needs relay.pay.price");
		return ERR_ARG;
	}
	path = fsutil_path_join(cfg->datadir, "relaypay-spend.key");
	rp->spend = key_load("stealth spend key", path, true, &r);
	free(path);
	if (!rp->spend)
		return r;
	path = fsutil_path_join(cfg->datadir, "relaypay-view.key");
	rp->view = key_load("stealth view key", path, true, &r);
	free(path);
	if (!rp->view)
		return r;
	if ((r = stealth_meta_from_keys(&meta, rp->spend, rp->view)) != 0 ||
	    (r = secp_sk_pubkey(rp->spend, &spend_pk)) != 0)
		return r;
	stealth_meta_encode(&meta, rp->pay.meta);
	rp->pol.max_paper_ttl_s = BITSD_RELAYPAY_MAX_PAPER_TTL_S;
	rp->pol.redeem_cost = u256_from_u64(1);
	rp->pol.epoch_s = cfg->relay_pay_epoch_s ? cfg->relay_pay_epoch_s :
			  BITSD_RELAYPAY_DEFAULT_EPOCH_S;
	/* A payer's copy of our RouterInfo may name the previous epoch's
	 * commitment for a while: accept it for one more epoch. */
	rp->pol.grace_s = rp->pol.epoch_s;
	rp->pol.redeem_margin_s = cfg->relay_pay_test_redeem_margin_s ?
				  cfg->relay_pay_test_redeem_margin_s :
				  BITSD_RELAYPAY_REDEEM_MARGIN_S;
	rp->pol.max_tickets = 1u << 20;
	path = fsutil_path_join(cfg->datadir, BITSD_RELAYPAY_STATE_FILE);
	r = fsutil_read_file(path, 256u << 20, &buf, &len);
	if (r == 0) {
		r = relaypay_payee_load(&rp->pol, rp->sep, rp->view, &spend_pk,
					buf, len, &rp->payee);
		if (r != 0) {
			/* kept aside, not overwritten: it may hold winners */
			char *aside = fsutil_path_join(cfg->datadir,
				BITSD_RELAYPAY_STATE_FILE ".unreadable");

			if (rename(path, aside) != 0)
				log_warn(LD_APP, "relaypay: cannot move %s "
					 "aside: %s", path, strerror(errno));
			log_warn(LD_APP, "relaypay: %s unreadable (%s): a new "
				 "state; the old one is %s", path, err_str(r),
				 aside);
			free(aside);
		} else
			log_info(LD_APP, "relaypay: state restored from %s",
				 path);
		xfree_wipe(buf, len);
	}
	free(path);
	if (!rp->payee)
		rp->payee = relaypay_payee_new(&rp->pol, rp->sep, rp->view,
					       &spend_pk, time_now_s());
	(void)relaypay_payee_tick(rp->payee, time_now_s());
	if (cfg->relay_pay_redeem_key) {
		rp->redeem_sk = key_load("relay.pay.redeem-key",
					 cfg->relay_pay_redeem_key, false, &r);
		if (!rp->redeem_sk)
			return r;
		(void)secp_sk_address(rp->redeem_sk, rp->redeem_addr);
	}
	if (cfg->relay_pay_withdraw_to) {
		if (!rp->redeem_sk || eth_addr_parse(rp->withdraw_to,
				cfg->relay_pay_withdraw_to) != 0) {
			log_err(LD_APP, "relay.pay.withdraw-to needs an "
				"address (0x and 40 hex digits) and "
				"relay.pay.redeem-key");
			return ERR_ARG;
		}
		rp->has_withdraw = true;
	}
	rp->test_withdraw_fail = cfg->relay_pay_test_withdraw_fail;
	rp->wretry_ms = cfg->relay_pay_test_withdraw_retry_s ?
			cfg->relay_pay_test_withdraw_retry_s * 1000ULL :
			BITSD_RELAYPAY_WITHDRAW_RETRY_MS;
	wretry_load(rp);
	rp->pend = xcalloc(BITSD_RELAYPAY_PENDING_MAX, sizeof(*rp->pend));
	publish(rp);
	return 0;
}

/* tunnels.pay.fund-key: the account, the fill and the budget, what was
 * spent before (DATADIR/relaypay-fund.spent). */
static int fund_start(struct bitsd_relaypay *rp, const struct conf *cfg)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (!rp->cc || !cfg->tunnels_pay_fund ||
	    !cfg->tunnels_pay_fund_budget ||
	    u256_parse_str(&rp->fund_to, cfg->tunnels_pay_fund) != 0 ||
	    u256_parse_str(&rp->fund_budget,
			   cfg->tunnels_pay_fund_budget) != 0 ||
	    u256_is_zero(&rp->fund_to)) {
		log_err(LD_APP, "tunnels.pay.fund-key needs tunnels.pay.fund, "
			"tunnels.pay.fund-budget and a chain client "
			"(market.gateways or market.gateway)");
		return ERR_ARG;
	}
	if (!(rp->fund_sk = key_load("tunnels.pay.fund-key",
				     cfg->tunnels_pay_fund_key, false, &r)))
		return r;
	(void)secp_sk_address(rp->fund_sk, rp->fund_addr);
	rp->fund_path = fsutil_path_join(cfg->datadir, BITSD_RELAYPAY_FUND_FILE);
	if (fsutil_read_file(rp->fund_path, U256_DEC_BYTES, &buf, &len) == 0) {
		char s[U256_DEC_BYTES];

		memcpy(s, buf, len < sizeof(s) ? len : sizeof(s) - 1);
		s[len < sizeof(s) ? len : sizeof(s) - 1] = 0;
		if (u256_parse_str(&rp->fund_spent, s) != 0) {
			log_err(LD_APP, "relaypay: %s unreadable",
				rp->fund_path);
			free(buf);
			return ERR_FORMAT;
		}
	}
	free(buf);
	rp->fund_turn = SIZE_MAX;
	return 0;
}

/*
 * tunnels.pay.fresh-pots N: N pots a turn in slots for as many turns as a
 * tunnel of a turn may outlive it, plus two (the turn and the next, made
 * ahead); the pots a former run made and did not drain, from their key
 * files (this turn's and the next's into their slots).  Needs
 * tunnels.pay.fund-key; not with tunnels.pay.key.
 */
static int fresh_start(struct bitsd_relaypay *rp, const struct conf *cfg)
{
	uint64_t life = cfg->tunnels_lifetime_s ? cfg->tunnels_lifetime_s :
			TUNNEL_LIFETIME_MS / 1000;
	uint64_t rot = cfg->tunnels_pay_rotate_s ? cfg->tunnels_pay_rotate_s :
		       BITSD_RELAYPAY_ROTATE_S;
	uint64_t ttl = cfg->tunnels_pay_ttl_s ? cfg->tunnels_pay_ttl_s :
		       BITSD_RELAYPAY_TICKET_TTL_S, end;
	size_t bad = 0;
	struct dirent *de;
	DIR *d;
	int r;

	life += BITSD_RELAYPAY_FRESH_MARGIN_S;
	rp->fresh_n = cfg->tunnels_pay_fresh;
	rp->fresh_k = (unsigned)((life + rot - 1) / rot + 2);
	if (cfg->tunnels_pay_key || !cfg->tunnels_pay_fund_key ||
	    (uint64_t)rp->fresh_k * rp->fresh_n > BITSD_RELAYPAY_PAY_KEYS_MAX) {
		log_err(LD_APP, "tunnels.pay.fresh-pots needs "
			"tunnels.pay.fund-key, not tunnels.pay.key, and at most "
			"%d pots (%u a turn) of the turns a tunnel lives in "
			"(%u, tunnels.lifetime against tunnels.pay.rotate)",
			BITSD_RELAYPAY_PAY_KEYS_MAX, rp->fresh_n, rp->fresh_k);
		return ERR_ARG;
	}
	rp->npay_keys = (size_t)rp->fresh_k * rp->fresh_n;
	rp->rotate_s = rot;
	rp->retire_s = life + ttl;
	rp->pots_dir = fsutil_path_join(cfg->datadir, BITSD_RELAYPAY_POTS_DIR);
	if ((r = fsutil_dir_ensure_private(rp->pots_dir)) != 0) {
		log_err(LD_APP, "relaypay: %s: %s", rp->pots_dir, err_str(r));
		return r;
	}
	if (!(d = opendir(rp->pots_dir))) {
		log_err(LD_APP, "relaypay: cannot read %s", rp->pots_dir);
		return ERR_IO;
	}
	end = fresh_end(rp);
	while ((de = readdir(d)) != NULL) {
		struct fresh_pot f = { 0 };
		char *path;
		struct secp_sk *sk;

		if (de->d_name[0] == '.')
			continue;
		if (!fresh_name_parse(de->d_name, &f) || !f.end_s ||
		    f.i >= rp->fresh_n) {
			bad++;
			continue;
		}
		path = fresh_path(rp, &f);
		sk = key_load("a fresh pot key", path, false, &r);
		free(path);
		if (!sk) {
			bad++;
			continue;
		}
		(void)secp_sk_address(sk, f.addr);
		if ((f.end_s == end || f.end_s == end + rot) &&
		    f.end_s % rot == 0) {
			size_t k = fresh_slot(rp, f.end_s, f.i);

			secmem_free(rp->pay_sk[k]);
			rp->pay_sk[k] = sk;
			memcpy(rp->pay_addr[k], f.addr, ETH_ADDR_BYTES);
			rp->slot_end[k] = f.end_s;
		} else {
			secmem_free(sk);
		}
		rp->fpots = xrealloc(rp->fpots, (rp->nfpots + 1) *
				     sizeof(*rp->fpots));
		rp->fpots[rp->nfpots++] = f;
	}
	closedir(d);
	if (rp->nfpots)
		log_notice(LD_APP, "relaypay: %zu fresh pots from %s",
			   rp->nfpots, rp->pots_dir);
	if (bad)
		log_warn(LD_APP, "relaypay: %zu files in %s are not pot keys: "
			 "left alone", bad, rp->pots_dir);
	return 0;
}

static int payer_start(struct bitsd_relaypay *rp, const struct conf *cfg)
{
	int r;

	/* FILE[,FILE...]: one pot each, used in turn */
	for (const char *f = cfg->tunnels_pay_key; f && *f;) {
		const char *comma = strchr(f, ',');
		size_t len = comma ? (size_t)(comma - f) : strlen(f);
		char *path = xzalloc(len + 1);
		struct secp_sk *sk;

		memcpy(path, f, len);
		if (rp->npay_keys == BITSD_RELAYPAY_PAY_KEYS_MAX) {
			free(path);
			log_err(LD_APP, "tunnels.pay.key: at most %d keys",
				BITSD_RELAYPAY_PAY_KEYS_MAX);
			return ERR_TOO_BIG;
		}
		sk = key_load("tunnels.pay.key", path, false, &r);
		free(path);
		if (!sk)
			return r;
		rp->pay_sk[rp->npay_keys] = sk;
		(void)secp_sk_address(sk, rp->pay_addr[rp->npay_keys++]);
		f = comma ? comma + 1 : f + len;
	}
	if (cfg->tunnels_pay_fresh && (r = fresh_start(rp, cfg)) != 0)
		return r;
	if (!rp->npay_keys)
		return ERR_ARG;
	rp->rotate_s = rp->npay_keys < 2 ? 0 : cfg->tunnels_pay_rotate_s ?
		       cfg->tunnels_pay_rotate_s : BITSD_RELAYPAY_ROTATE_S;
	if ((r = u256_parse_str(&rp->pay_price.face_value,
				cfg->tunnels_pay_face ? cfg->tunnels_pay_face :
				BITSD_RELAYPAY_DEFAULT_FACE)) != 0)
		return r;
	rp->pay_price.ttl_s = cfg->tunnels_pay_ttl_s ? cfg->tunnels_pay_ttl_s :
			      BITSD_RELAYPAY_TICKET_TTL_S;
	rp->ri_refresh_s = cfg->tunnels_pay_ri_refresh_s ?
			   cfg->tunnels_pay_ri_refresh_s :
			   BITSD_RELAYPAY_RI_REFRESH_S;
	if (cfg->tunnels_pay_max_price) {
		rp->has_max = true;
		if ((r = u256_parse_str(&rp->max_price,
					cfg->tunnels_pay_max_price)) != 0)
			return r;
	}
	rp->pay_bytes = cfg->tunnels_pay_kib ?
			(uint64_t)cfg->tunnels_pay_kib << 10 :
			(uint64_t)(cfg->tunnels_pay_mib ? cfg->tunnels_pay_mib
				   : BITSD_RELAYPAY_DEFAULT_MIB) << 20;
	/* Nonces are used once per signer on chain: counting from the start
	 * time × 2^20 never meets a nonce of an earlier run (fewer than 2^20
	 * tickets a second), and sequential ones share bitmap words. */
	rp->nonce = time_now_s() << 20;
	if (cfg->tunnels_pay_hops &&
	    peer_pay_policy_parse(cfg->tunnels_pay_hops, &rp->pay_policy)) {
		log_err(LD_APP, "tunnels.pay.hops: any, prefer-paid, "
			"prefer-free, paid-only or free-only, not \"%s\"",
			cfg->tunnels_pay_hops);
		return ERR_ARG;
	}
	if (cfg->tunnels_pay_fund_key && (r = fund_start(rp, cfg)) != 0)
		return r;
	if (rp->deps.own) {
		tunnel_mgr_set_ticket_fn(rp->deps.own, pay_ticket, rp);
		tunnel_mgr_set_topup(rp->deps.own, rp->pay_bytes);
		tunnel_mgr_set_pay_policy(rp->deps.own, rp->pay_policy,
					  cfg->tunnels_pay_max_paid);
	}
	return 0;
}

int bitsd_relaypay_start(const struct conf *cfg,
			 const struct bitsd_relaypay_deps *deps,
			 struct bitsd_relaypay **out)
{
	struct bitsd_relaypay *rp = xzalloc(sizeof(*rp));
	int r;

	rp->deps = *deps;
	rp->datadir = xstrdup(cfg->datadir);
	rp->pots = relaypay_potcache_new(BITSD_RELAYPAY_POTS_MAX);
	if (deps->chain) {
		rp->chain = *deps->chain;
		rp->has_chain = true;
	}
	rp->deps.chain = NULL;
	if ((r = load_deploy(rp, cfg->market_deploy)) != 0)
		goto fail;
	if (rp->has_chain)
		rp->cc = chain_client_new(&rp->chain, rp->dep.chain_id);
	if (cfg->relay_pay && deps->transit &&
	    (r = payee_start(rp, cfg)) != 0)
		goto fail;
	if ((cfg->tunnels_pay_key || cfg->tunnels_pay_fresh) &&
	    (r = payer_start(rp, cfg)) != 0)
		goto fail;
	rp->tick = evloop_timer_new(deps->el, tick_cb, rp);
	evloop_timer_arm(rp->tick, BITSD_RELAYPAY_TICK_MS);
	if (deps->api)
		(void)api_add_section(deps->api, "relaypay", status_section,
				      rp);
	log_notice(LD_APP, "relaypay: relay %s (price %s per GiB, epoch %llu "
		   "s, redeeming %s), payer %s, chain client %s",
		   rp->payee ? "on" : "off",
		   cfg->relay_pay_price ? cfg->relay_pay_price : "-",
		   (unsigned long long)rp->pol.epoch_s,
		   rp->redeem_sk ? "on" : "off", rp->npay_keys ? "on" : "off",
		   rp->cc ? "on" : "off");
	*out = rp;
	return 0;
fail:
	bitsd_relaypay_stop(rp);
	return r;
}

static void drain_tick(void *arg)
{
	evloop_break(arg);
}

void bitsd_relaypay_stop(struct bitsd_relaypay *rp)
{
	struct evloop_timer *t;

	if (!rp)
		return;
	if (rp->deps.api)
		api_remove_section(rp->deps.api, "relaypay");
	if (rp->npay_keys && rp->deps.own) {
		struct tunnel_pool_stats ps;

		tunnel_mgr_stats(rp->deps.own, &ps);
		tunnel_mgr_set_ticket_fn(rp->deps.own, NULL, NULL);
		tunnel_mgr_set_topup(rp->deps.own, 0);
		tunnel_mgr_set_pay_policy(rp->deps.own, PEER_PAY_ANY, 0);
		log_notice(LD_APP, "relaypay: the payer sent %llu tickets (%llu "
			   "after the build)", (unsigned long long)rp->sent,
			   (unsigned long long)ps.topups_sent);
	}
	evloop_timer_free(rp->tick);
	/* A worker in a chain call waits on the loop: run it until done
	 * (the job's paced loops stop early). */
	atomic_store(&rp->stopping, true);
	t = evloop_timer_new(rp->deps.el, drain_tick, rp->deps.el);
	while (rp->job || rp->saving) {
		evloop_timer_arm(t, 50);
		if (evloop_run(rp->deps.el) != 0)
			break;
	}
	evloop_timer_free(t);
	if (rp->payee) {
		/* A failed batch goes unredeemed: its epoch is forgotten. */
		if (rp->nretry)
			log_warn(LD_APP, "relaypay: %zu batches of winners "
				 "not redeemed", rp->nretry);
		if (rp->nwretry)
			log_warn(LD_APP, "relaypay: %zu winnings not withdrawn "
				 "(they stay at their stealth addresses)",
				 rp->nwretry);
		save_sync(rp);
	}
	for (size_t i = 0; i < rp->nretry; i++)
		relaypay_batch_free(&rp->retry[i].b);
	free(rp->retry);
	if (rp->wretry)
		memwipe(rp->wretry, rp->nwretry * sizeof(*rp->wretry));
	free(rp->wretry);
	relaypay_payee_free(rp->payee);
	chain_client_free(rp->cc);
	if (rp->pend)
		memwipe(rp->pend, BITSD_RELAYPAY_PENDING_MAX *
				  sizeof(*rp->pend));
	free(rp->pend);
	relaypay_potcache_free(rp->pots);
	free(rp->paid);
	if (rp->view)
		secmem_free(rp->view);
	if (rp->spend)
		secmem_free(rp->spend);
	if (rp->redeem_sk)
		secmem_free(rp->redeem_sk);
	for (size_t i = 0; i < rp->npay_keys; i++)
		secmem_free(rp->pay_sk[i]);
	free(rp->fpots);
	free(rp->pots_dir);
	if (rp->fund_sk)
		secmem_free(rp->fund_sk);
	free(rp->fund_path);
	free(rp->datadir);
	free(rp);
}
