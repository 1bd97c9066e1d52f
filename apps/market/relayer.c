/*
 * The purchase relayer service and its client (apps/market/relayer.h).
 */
#include "config.h"

#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "apps/market/relayer.h"
#include "apps/market/rpc.h"
#include "apps/market/service.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/secmem.h"
#include "router/evloop.h"
#include "router/worker.h"

/* ------------------------------------------------------------ the codec */

/* The signer of struct_hash under the registry's domain. */
static bool registry_signer(const struct chain_deploy *dep,
			    const uint8_t struct_hash[32],
			    const uint8_t sig[SECP_SIG_BYTES], uint8_t who[20])
{
	uint8_t digest[32];

	market_registry_digest(dep, struct_hash, digest);
	return secp_recover(digest, sig, who) == 0;
}

void market_purchase_encode(const struct market_purchase *mp,
			    uint8_t out[MARKET_PURCHASE_WIRE_BYTES])
{
	uint8_t *p = out;

	u256_to_be(&mp->p.content_index, p);
	memcpy(p += 32, mp->p.holder, 20);
	u256_to_be(&mp->p.max_price, p += 20);
	u256_to_be(&mp->p.relayer_fee, p += 32);
	u256_to_be(&mp->p.nonce, p += 32);
	be64_put(p += 32, mp->p.deadline);
	memcpy(p += 8, mp->payer, 20);
	memcpy(p += 20, mp->sig, SECP_SIG_BYTES);
	p += SECP_SIG_BYTES;
	if (mp->has_permit) {
		u256_to_be(&mp->permit_value, p);
		be64_put(p + 32, mp->permit_deadline);
		memcpy(p + 40, mp->permit_sig, SECP_SIG_BYTES);
	} else {
		memset(p, 0, 40 + SECP_SIG_BYTES);
	}
}

int market_purchase_decode(const uint8_t *p, size_t len,
			   struct market_purchase *out)
{
	struct market_purchase mp;
	struct breader r;

	if (len != MARKET_PURCHASE_WIRE_BYTES)
		return len < MARKET_PURCHASE_WIRE_BYTES ? ERR_TRUNCATED
							: ERR_FORMAT;
	memset(&mp, 0, sizeof(mp));
	br_init(&r, p, len);
	(void)u256_from_be(&mp.p.content_index, br_take(&r, 32), 32);
	br_copy(&r, mp.p.holder, 20);
	(void)u256_from_be(&mp.p.max_price, br_take(&r, 32), 32);
	(void)u256_from_be(&mp.p.relayer_fee, br_take(&r, 32), 32);
	(void)u256_from_be(&mp.p.nonce, br_take(&r, 32), 32);
	mp.p.deadline = br_be64(&r);
	br_copy(&r, mp.payer, 20);
	br_copy(&r, mp.sig, SECP_SIG_BYTES);
	(void)u256_from_be(&mp.permit_value, br_take(&r, 32), 32);
	mp.permit_deadline = br_be64(&r);
	br_copy(&r, mp.permit_sig, SECP_SIG_BYTES);
	if (!br_done(&r))
		return ERR_TRUNCATED;
	mp.has_permit = mp.permit_deadline != 0;
	if (!mp.has_permit && (!u256_is_zero(&mp.permit_value) ||
			       !sodium_is_zero(mp.permit_sig,
					       SECP_SIG_BYTES)))
		return ERR_FORMAT;
	*out = mp;
	return 0;
}

bool market_purchase_sig_ok(const struct market_purchase *mp,
			    uint64_t chain_id, const uint8_t registry[20])
{
	struct chain_deploy dep;
	uint8_t h[32], who[20];

	memset(&dep, 0, sizeof(dep));
	dep.chain_id = chain_id;
	memcpy(dep.license_registry, registry, 20);
	eip712_hash_purchase(&mp->p, h);
	return registry_signer(&dep, h, mp->sig, who) &&
	       memcmp(who, mp->payer, 20) == 0;
}

static uint8_t *put_u256(uint8_t *p, const struct u256 *v)
{
	u256_to_be(v, p);
	return p + 32;
}

static void take_u256(struct breader *r, struct u256 *v)
{
	const uint8_t *p = br_take(r, 32);

	if (p)
		(void)u256_from_be(v, p, 32);
}

/* A resale request's tag and length checked: its reader after the tag. */
static int resale_open(struct breader *r, const uint8_t *p, size_t len,
		       uint8_t tag, size_t want)
{
	if (len < 1)
		return ERR_TRUNCATED;
	if (p[0] != tag)
		return ERR_FORMAT;
	if (len != want)
		return len < want ? ERR_TRUNCATED : ERR_FORMAT;
	br_init(r, p + 1, len - 1);
	return 0;
}

void market_listing_encode(const struct market_listing *ml,
			   uint8_t out[MARKET_LISTING_WIRE_BYTES])
{
	uint8_t *p = out;

	*p++ = MARKET_LISTING_TAG;
	p = put_u256(p, &ml->l.token_id);
	p = put_u256(p, &ml->l.price);
	p = put_u256(p, &ml->l.relayer_fee);
	p = put_u256(p, &ml->l.nonce);
	be64_put(p, ml->l.deadline);
	memcpy(p + 8, ml->sig, SECP_SIG_BYTES);
}

int market_listing_decode(const uint8_t *p, size_t len,
			  struct market_listing *out)
{
	struct market_listing ml;
	struct breader r;
	int e;

	if ((e = resale_open(&r, p, len, MARKET_LISTING_TAG,
			     MARKET_LISTING_WIRE_BYTES)) != 0)
		return e;
	memset(&ml, 0, sizeof(ml));
	take_u256(&r, &ml.l.token_id);
	take_u256(&r, &ml.l.price);
	take_u256(&r, &ml.l.relayer_fee);
	take_u256(&r, &ml.l.nonce);
	ml.l.deadline = br_be64(&r);
	br_copy(&r, ml.sig, SECP_SIG_BYTES);
	if (!br_done(&r))
		return ERR_INTERNAL;
	*out = ml;
	return 0;
}

void market_cancel_encode(const struct market_cancel *mc,
			  uint8_t out[MARKET_CANCEL_WIRE_BYTES])
{
	uint8_t *p = out;

	*p++ = MARKET_CANCEL_TAG;
	p = put_u256(p, &mc->c.token_id);
	p = put_u256(p, &mc->c.relayer_fee);
	p = put_u256(p, &mc->c.nonce);
	be64_put(p, mc->c.deadline);
	memcpy(p + 8, mc->sig, SECP_SIG_BYTES);
}

int market_cancel_decode(const uint8_t *p, size_t len,
			 struct market_cancel *out)
{
	struct market_cancel mc;
	struct breader r;
	int e;

	if ((e = resale_open(&r, p, len, MARKET_CANCEL_TAG,
			     MARKET_CANCEL_WIRE_BYTES)) != 0)
		return e;
	memset(&mc, 0, sizeof(mc));
	take_u256(&r, &mc.c.token_id);
	take_u256(&r, &mc.c.relayer_fee);
	take_u256(&r, &mc.c.nonce);
	mc.c.deadline = br_be64(&r);
	br_copy(&r, mc.sig, SECP_SIG_BYTES);
	if (!br_done(&r))
		return ERR_INTERNAL;
	*out = mc;
	return 0;
}

void market_payout_encode(const struct market_payout *mp,
			  uint8_t out[MARKET_PAYOUT_WIRE_BYTES])
{
	uint8_t *p = out;

	*p++ = MARKET_PAYOUT_TAG;
	memcpy(p, mp->w.from, 20);
	memcpy(p + 20, mp->w.to, 20);
	p = put_u256(p + 40, &mp->w.amount);
	p = put_u256(p, &mp->w.fee);
	p = put_u256(p, &mp->w.nonce);
	be64_put(p, mp->w.deadline);
	memcpy(p + 8, mp->sig, SECP_SIG_BYTES);
}

int market_payout_decode(const uint8_t *p, size_t len,
			 struct market_payout *out)
{
	struct market_payout mp;
	struct breader r;
	int e;

	if ((e = resale_open(&r, p, len, MARKET_PAYOUT_TAG,
			     MARKET_PAYOUT_WIRE_BYTES)) != 0)
		return e;
	memset(&mp, 0, sizeof(mp));
	br_copy(&r, mp.w.from, 20);
	br_copy(&r, mp.w.to, 20);
	take_u256(&r, &mp.w.amount);
	take_u256(&r, &mp.w.fee);
	take_u256(&r, &mp.w.nonce);
	mp.w.deadline = br_be64(&r);
	br_copy(&r, mp.sig, SECP_SIG_BYTES);
	if (!br_done(&r))
		return ERR_INTERNAL;
	*out = mp;
	return 0;
}

/* ---------------------------------------------------------- the service */

struct market_relayer;

/* One purchase on a worker thread; the loop side looks at `r` and `conn`
 * only in done(). */
struct relay_job {
	struct market_relayer *r;
	struct market_conn *conn;	/* NULL once the stream is gone */
	/* worker input, read-only on the loop while it runs */
	struct market_rpc *rpc;
	const struct secp_sk *sk;
	struct chain_deploy dep;
	enum relay_kind {
		K_PURCHASE, K_REDEEM, K_LISTING, K_CANCEL, K_PAYOUT,
		K_REDEEM_FEE
	} kind;
	struct eip712_redeem_fee rf;
	uint8_t rf_sig[SECP_SIG_BYTES];
	struct market_purchase mp;
	struct market_listing ml;
	struct market_cancel mc;
	struct market_payout po;
	struct eip712_voucher v[MARKET_REDEEM_MAX];
	uint8_t sigs[MARKET_REDEEM_MAX][SECP_SIG_BYTES];
	size_t nv;
	/* worker output */
	int err;
	struct u256 token_id;
	char why[128];
};

struct market_relayer {
	struct market_relayer_config cfg;
	struct secp_sk *sk;		/* secmem */
	struct market_rpc *rpc;
	struct worker_pool *wp;
	struct evloop *el;
	struct market_service sv;
	unsigned jobs;
	struct market_relayer_stats stats;
};

static void relay_request(void *ctx, struct market_conn *c, const uint8_t *p,
			  size_t len);

struct market_relayer *market_relayer_new(
	const struct market_relayer_config *c, const struct secp_sk *sk,
	struct market_rpc *rpc, struct worker_pool *wp, struct evloop *el)
{
	struct market_relayer *r = xcalloc(1, sizeof(*r));

	r->cfg = *c;
	r->sk = secmem_alloc(sizeof(*r->sk));
	*r->sk = *sk;
	secmem_readonly(r->sk);
	r->rpc = rpc;
	r->wp = wp;
	r->el = el;
	market_service_init(&r->sv, MARKET_REDEEM_MAX_BYTES +
			    MARKET_REDEEM_FEE_PART_BYTES, 256,
			    relay_request, r);
	return r;
}

unsigned market_relayer_busy(const struct market_relayer *r)
{
	return r->jobs;
}

void market_relayer_free(struct market_relayer *r)
{
	if (!r)
		return;
	if (BUG(r->jobs != 0))
		return;		/* a worker still uses it: leak, not crash */
	market_service_clear(&r->sv);
	secmem_free(r->sk);
	free(r);
}

static void reply_status(struct market_conn *c, int status)
{
	uint8_t b = (uint8_t)status;

	market_conn_reply(c, &b, 1);
}

/* Worker thread: a chain client of its own over the blocking transport. */
static void relay_run(void *arg)
{
	struct relay_job *j = arg;
	struct chain_transport tr = market_rpc_transport(j->rpc);
	struct chain_client *cc = chain_client_new(&tr, j->dep.chain_id);

	switch (j->kind) {
	case K_REDEEM:
	case K_REDEEM_FEE: {
		struct bbuf b = BBUF_INIT;
		struct chain_receipt rc = { 0 };

		if (j->kind == K_REDEEM_FEE)
			hub_redeem_vouchers_for_call(
				&b, j->nv, j->v,
				(const uint8_t (*)[SECP_SIG_BYTES])j->sigs,
				&j->rf, j->rf_sig);
		else
			hub_redeem_vouchers_call(
				&b, j->nv, j->v,
				(const uint8_t (*)[SECP_SIG_BYTES])j->sigs);
		j->err = chain_send(cc, j->sk, j->dep.payment_hub, b.data,
				    b.len, NULL, &rc);
		if (j->err == 0 && !rc.status)
			j->err = ERR_BAD_STATE;
		chain_receipt_clear(&rc);
		bbuf_free(&b);
		break;
	}
	case K_PURCHASE:
		j->err = market_purchase_relay(cc, &j->dep, j->sk, &j->mp,
					       &j->token_id);
		break;
	case K_LISTING:
		j->err = market_listing_relay(cc, &j->dep, j->sk, &j->ml);
		break;
	case K_CANCEL:
		j->err = market_cancel_relay(cc, &j->dep, j->sk, &j->mc);
		break;
	case K_PAYOUT:
		j->err = market_payout_relay(cc, &j->dep, j->sk, &j->po);
		break;
	}
	if (j->err)
		snprintf(j->why, sizeof(j->why), "%s",
			 chain_client_error(cc));
	chain_client_free(cc);
}

const char *market_relay_status_str(int status)
{
	switch (status) {
	case MARKET_RELAY_OK:
		return "relayed";
	case MARKET_RELAY_BAD_REQUEST:
		return "the relayer refused the request as malformed";
	case MARKET_RELAY_FEE_LOW:
		return "the fee offered is below the relayer's minimum "
		       "(market.buy.relayer-fee)";
	case MARKET_RELAY_REVERTED:
		return "the chain refused it";
	case MARKET_RELAY_CHAIN:
		return "the relayer cannot reach the chain";
	case MARKET_RELAY_BUSY:
		return "the relayer is busy";
	default:
		return "unknown status";
	}
}

static const char *const kind_names[] = {
	"purchase", "redemption", "listing", "cancel", "payout",
	"redemption"
};

static void relay_done(void *arg)
{
	struct relay_job *j = arg;
	struct market_relayer *r = j->r;
	uint8_t out[33];
	int status;

	r->jobs--;
	if (j->err == 0) {
		static const size_t off[] = {
			offsetof(struct market_relayer_stats, relayed),
			offsetof(struct market_relayer_stats, redeemed),
			offsetof(struct market_relayer_stats, listed),
			offsetof(struct market_relayer_stats, cancelled),
			offsetof(struct market_relayer_stats, paid_out),
			offsetof(struct market_relayer_stats, redeemed),
		};
		status = MARKET_RELAY_OK;
		(*(uint64_t *)((char *)&r->stats + off[j->kind]))++;
		if (j->kind == K_REDEEM_FEE)
			r->stats.redeem_fees++;
	} else if (j->err == ERR_BAD_STATE) {
		status = MARKET_RELAY_REVERTED;
		r->stats.reverted++;
		log_info(LD_APP, "relayer: %s reverted: %s",
			 kind_names[j->kind], j->why);
	} else {
		status = MARKET_RELAY_CHAIN;
		r->stats.chain_errors++;
		log_info(LD_APP, "relayer: chain failed: %s", j->why);
	}
	out[0] = (uint8_t)status;
	u256_to_be(&j->token_id, out + 1);
	if (j->conn)
		market_conn_finish(j->conn, out,
				   status || j->kind != K_PURCHASE ? 1 : 33);
	sodium_memzero(j, sizeof(*j));
	free(j);
}

int market_redeem_encode(const struct eip712_voucher *v,
			 const uint8_t (*sigs)[SECP_SIG_BYTES], size_t n,
			 struct bbuf *out)
{
	uint8_t w[32];

	if (n == 0 || n > MARKET_REDEEM_MAX)
		return ERR_RANGE;
	bbuf_u8(out, MARKET_REDEEM_TAG);
	bbuf_u8(out, (uint8_t)n);
	for (size_t i = 0; i < n; i++) {
		bbuf_put(out, v[i].recipient, 20);
		bbuf_put(out, v[i].lane, 32);
		u256_to_be(&v[i].cumulative, w);
		bbuf_put(out, w, 32);
		bbuf_be64(out, v[i].expiry);
		bbuf_put(out, sigs[i], SECP_SIG_BYTES);
	}
	return 0;
}

/* n ‖ n vouchers, the whole of p (after the tag). */
static int redeem_body_decode(const uint8_t *p, size_t len,
			      struct eip712_voucher *v,
			      uint8_t (*sigs)[SECP_SIG_BYTES], size_t *n)
{
	struct breader r;
	size_t k;

	br_init(&r, p, len);
	k = br_u8(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (k == 0)
		return ERR_FORMAT;
	if (k > MARKET_REDEEM_MAX)
		return ERR_TOO_BIG;
	if (br_left(&r) != k * MARKET_VOUCHER_WIRE_BYTES)
		return br_left(&r) < k * MARKET_VOUCHER_WIRE_BYTES ?
		       ERR_TRUNCATED : ERR_TOO_BIG;
	for (size_t i = 0; i < k; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		br_copy(&r, v[i].recipient, 20);
		br_copy(&r, v[i].lane, 32);
		(void)u256_from_be(&v[i].cumulative, br_take(&r, 32), 32);
		v[i].expiry = br_be64(&r);
		br_copy(&r, sigs[i], SECP_SIG_BYTES);
	}
	if (!br_done(&r))
		return ERR_INTERNAL;
	*n = k;
	return 0;
}

int market_redeem_decode(const uint8_t *p, size_t len,
			 struct eip712_voucher *v,
			 uint8_t (*sigs)[SECP_SIG_BYTES], size_t *n)
{
	if (len < 1)
		return ERR_TRUNCATED;
	if (p[0] != MARKET_REDEEM_TAG)
		return ERR_FORMAT;
	return redeem_body_decode(p + 1, len - 1, v, sigs, n);
}

int market_redeem_fee_encode(const struct eip712_voucher *v,
			     const uint8_t (*sigs)[SECP_SIG_BYTES], size_t n,
			     const struct eip712_redeem_fee *f,
			     const uint8_t fee_sig[SECP_SIG_BYTES],
			     struct bbuf *out)
{
	uint8_t w[32];
	size_t at = out->len;
	int e = market_redeem_encode(v, sigs, n, out);

	if (e != 0)
		return e;
	out->data[at] = MARKET_REDEEM_FEE_TAG;
	bbuf_put(out, f->payee, 20);
	u256_to_be(&f->fee, w);
	bbuf_put(out, w, 32);
	u256_to_be(&f->nonce, w);
	bbuf_put(out, w, 32);
	bbuf_be64(out, f->deadline);
	bbuf_put(out, fee_sig, SECP_SIG_BYTES);
	return 0;
}

int market_redeem_fee_decode(const uint8_t *p, size_t len,
			     struct eip712_voucher *v,
			     uint8_t (*sigs)[SECP_SIG_BYTES], size_t *n,
			     struct eip712_redeem_fee *f,
			     uint8_t fee_sig[SECP_SIG_BYTES])
{
	struct breader r;
	size_t body;
	int e;

	if (len < 2 + MARKET_REDEEM_FEE_PART_BYTES)
		return ERR_TRUNCATED;
	if (p[0] != MARKET_REDEEM_FEE_TAG)
		return ERR_FORMAT;
	body = len - 1 - MARKET_REDEEM_FEE_PART_BYTES;
	if ((e = redeem_body_decode(p + 1, body, v, sigs, n)) != 0)
		return e;
	memset(f, 0, sizeof(*f));
	br_init(&r, p + 1 + body, MARKET_REDEEM_FEE_PART_BYTES);
	br_copy(&r, f->payee, 20);
	take_u256(&r, &f->fee);
	take_u256(&r, &f->nonce);
	f->deadline = br_be64(&r);
	br_copy(&r, fee_sig, SECP_SIG_BYTES);
	return br_done(&r) ? 0 : ERR_INTERNAL;
}

int market_redeem_fee_sign(const uint8_t sep[32],
			   const struct eip712_voucher *v, size_t n,
			   const struct secp_sk *payee,
			   const struct u256 *fee, const struct u256 *nonce,
			   uint64_t deadline, struct eip712_redeem_fee *f,
			   uint8_t fee_sig[SECP_SIG_BYTES])
{
	uint8_t h[32], d[32];
	int e;

	memset(f, 0, sizeof(*f));
	if ((e = secp_sk_address(payee, f->payee)) != 0)
		return e;
	eip712_redeem_batch_hash(sep, v, n, f->batch);
	f->fee = *fee;
	f->nonce = *nonce;
	f->deadline = deadline;
	eip712_hash_redeem_fee(f, h);
	eip712_digest(sep, h, d);
	return secp_sign(payee, d, fee_sig);
}

/* j (allocated, its request filled) to a worker, or BUSY. */
static void job_submit(struct market_relayer *r, struct market_conn *c,
		       struct relay_job *j)
{
	if (r->jobs >= MARKET_RELAY_MAX_JOBS) {
		r->stats.busy++;
		reply_status(c, MARKET_RELAY_BUSY);
		sodium_memzero(j, sizeof(*j));
		free(j);
		return;
	}
	j->r = r;
	j->rpc = r->rpc;
	j->sk = r->sk;
	j->dep = r->cfg.dep;
	market_conn_hold(c, &j->conn);
	r->jobs++;
	worker_submit(r->wp, (struct work){ relay_run, relay_done, j });
}

/* A listing, cancel or payout: decoded and checked as relayer.h says.
 * 0 with j filled, or the status to answer. */
static int resale_check(struct market_relayer *r, const uint8_t *p,
			size_t len, struct relay_job *j)
{
	const struct chain_deploy *dep = &r->cfg.dep;
	uint8_t h[32], who[20], be[32];

	switch (p[0]) {
	case MARKET_LISTING_TAG:
		if (market_listing_decode(p, len, &j->ml) != 0)
			return MARKET_RELAY_BAD_REQUEST;
		u256_to_be(&j->ml.l.price, be);
		if (u256_is_zero(&j->ml.l.price) || !sodium_is_zero(be, 20))
			return MARKET_RELAY_BAD_REQUEST;
		eip712_hash_listing(&j->ml.l, h);
		if (!registry_signer(dep, h, j->ml.sig, who))
			return MARKET_RELAY_BAD_REQUEST;
		if (u256_cmp(&j->ml.l.relayer_fee, &r->cfg.min_fee) < 0)
			return MARKET_RELAY_FEE_LOW;
		j->kind = K_LISTING;
		return 0;
	case MARKET_CANCEL_TAG:
		if (market_cancel_decode(p, len, &j->mc) != 0)
			return MARKET_RELAY_BAD_REQUEST;
		eip712_hash_cancel_listing(&j->mc.c, h);
		if (!registry_signer(dep, h, j->mc.sig, who))
			return MARKET_RELAY_BAD_REQUEST;
		j->kind = K_CANCEL;
		return 0;
	default:
		if (market_payout_decode(p, len, &j->po) != 0 ||
		    u256_is_zero(&j->po.w.amount) ||
		    sodium_is_zero(j->po.w.to, 20))
			return MARKET_RELAY_BAD_REQUEST;
		eip712_hash_withdraw(&j->po.w, h);
		if (!registry_signer(dep, h, j->po.sig, who) ||
		    memcmp(who, j->po.w.from, 20) != 0)
			return MARKET_RELAY_BAD_REQUEST;
		if (u256_cmp(&j->po.w.fee, &r->cfg.min_fee) < 0)
			return MARKET_RELAY_FEE_LOW;
		j->kind = K_PAYOUT;
		return 0;
	}
}

static void resale_request(struct market_relayer *r, struct market_conn *c,
			   const uint8_t *p, size_t len)
{
	struct relay_job *j = xcalloc(1, sizeof(*j));
	int st = resale_check(r, p, len, j);

	if (st == 0) {
		job_submit(r, c, j);
		return;
	}
	if (st == MARKET_RELAY_FEE_LOW)
		r->stats.fee_low++;
	else
		r->stats.bad++;
	reply_status(c, st);
	sodium_memzero(j, sizeof(*j));
	free(j);
}

/* A voucher batch: every signature must recover before gas is spent. */
static void redeem_request(struct market_relayer *r, struct market_conn *c,
			   const uint8_t *p, size_t len)
{
	struct relay_job *j = xcalloc(1, sizeof(*j));
	struct eip712_domain dom = { EIP712_NAME_HUB, r->cfg.dep.chain_id,
				     { 0 } };
	uint8_t sep[32], sh[32], d[32], who[20];

	bool fee = p[0] == MARKET_REDEEM_FEE_TAG;

	if ((fee ? market_redeem_fee_decode(p, len, j->v, j->sigs, &j->nv,
					    &j->rf, j->rf_sig) :
	     market_redeem_decode(p, len, j->v, j->sigs, &j->nv)) != 0)
		goto bad;
	memcpy(dom.verifying, r->cfg.dep.payment_hub, 20);
	eip712_domain_separator(&dom, sep);
	for (size_t i = 0; i < j->nv; i++) {
		eip712_hash_voucher(&j->v[i], sh);
		eip712_digest(sep, sh, d);
		if (secp_recover(d, j->sigs[i], who) != 0)
			goto bad;
	}
	if (fee) {
		/* the fee signed by its payee for this very batch */
		eip712_redeem_batch_hash(sep, j->v, j->nv, j->rf.batch);
		eip712_hash_redeem_fee(&j->rf, sh);
		eip712_digest(sep, sh, d);
		if (secp_recover(d, j->rf_sig, who) != 0 ||
		    memcmp(who, j->rf.payee, 20) != 0)
			goto bad;
	}
	if (u256_cmp(fee ? &j->rf.fee : &(struct u256){ { 0 } },
		     &r->cfg.redeem_min_fee) < 0) {
		r->stats.fee_low++;
		reply_status(c, MARKET_RELAY_FEE_LOW);
		free(j);
		return;
	}
	j->kind = fee ? K_REDEEM_FEE : K_REDEEM;
	job_submit(r, c, j);
	return;
bad:
	r->stats.bad++;
	reply_status(c, MARKET_RELAY_BAD_REQUEST);
	free(j);
}

static void relay_request(void *ctx, struct market_conn *c, const uint8_t *p,
			  size_t len)
{
	struct market_relayer *r = ctx;
	struct relay_job *j;
	struct market_purchase mp;

	r->stats.requests++;
	if (len > 0 && (p[0] == MARKET_REDEEM_TAG ||
			p[0] == MARKET_REDEEM_FEE_TAG)) {
		redeem_request(r, c, p, len);
		return;
	}
	if (len > 0 && (p[0] == MARKET_LISTING_TAG ||
			p[0] == MARKET_CANCEL_TAG ||
			p[0] == MARKET_PAYOUT_TAG)) {
		resale_request(r, c, p, len);
		return;
	}
	if (market_purchase_decode(p, len, &mp) != 0 ||
	    !market_purchase_sig_ok(&mp, r->cfg.dep.chain_id,
				    r->cfg.dep.license_registry)) {
		r->stats.bad++;
		reply_status(c, MARKET_RELAY_BAD_REQUEST);
		return;
	}
	if (u256_cmp(&mp.p.relayer_fee, &r->cfg.min_fee) < 0) {
		r->stats.fee_low++;
		reply_status(c, MARKET_RELAY_FEE_LOW);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->kind = K_PURCHASE;
	j->mp = mp;
	job_submit(r, c, j);
}

void market_relayer_accept(struct market_relayer *r, struct stream *s)
{
	market_service_accept(&r->sv, s);
}

void market_relayer_serve(struct market_relayer *r, struct stream_mgr *mgr)
{
	market_service_serve(&r->sv, mgr);
}

void market_relayer_stats(const struct market_relayer *r,
			  struct market_relayer_stats *out)
{
	*out = r->stats;
}

/* ------------------------------------------------------ the payer side */

struct relay_send {
	market_relay_fn done;
	void *arg;
	bool status_only;		/* not a purchase: status only */
};

static void send_reply(void *arg, int err, const uint8_t *p, size_t len)
{
	struct relay_send *rs = arg;
	struct u256 id = { { 0 } };
	int status = 0;

	if (err == 0) {
		if (rs->status_only && len == 1 && p[0] <= MARKET_RELAY_BUSY)
			status = p[0];	/* a batch: the status alone */
		else if (len == 33 && p[0] == MARKET_RELAY_OK)
			(void)u256_from_be(&id, p + 1, 32);
		else if (len == 1 && p[0] != MARKET_RELAY_OK &&
			 p[0] <= MARKET_RELAY_BUSY)
			status = p[0];
		else
			err = ERR_PROTOCOL;
	}
	rs->done(rs->arg, err, status,
		 err || status || rs->status_only ? NULL : &id);
	free(rs);
}

int market_redeem_send(struct stream_mgr *mgr, struct evloop *el,
		       const struct keys_and_cert *relayer,
		       const struct eip712_voucher *v,
		       const uint8_t (*sigs)[SECP_SIG_BYTES], size_t n,
		       unsigned timeout_ms, market_relay_fn done, void *arg)
{
	struct bbuf b = BBUF_INIT;
	int err;

	if ((err = market_redeem_encode(v, sigs, n, &b)) != 0) {
		bbuf_free(&b);
		return err;
	}
	err = market_resale_send(mgr, el, relayer, b.data, b.len,
				 timeout_ms, done, arg);
	bbuf_free(&b);
	return err;
}

int market_redeem_fee_send(struct stream_mgr *mgr, struct evloop *el,
			   const struct keys_and_cert *relayer,
			   const struct eip712_voucher *v,
			   const uint8_t (*sigs)[SECP_SIG_BYTES], size_t n,
			   const struct eip712_redeem_fee *f,
			   const uint8_t fee_sig[SECP_SIG_BYTES],
			   unsigned timeout_ms, market_relay_fn done,
			   void *arg)
{
	struct bbuf b = BBUF_INIT;
	int err;

	if ((err = market_redeem_fee_encode(v, sigs, n, f, fee_sig,
					    &b)) == 0)
		err = market_resale_send(mgr, el, relayer, b.data, b.len,
					 timeout_ms, done, arg);
	bbuf_free(&b);
	return err;
}

int market_resale_send(struct stream_mgr *mgr, struct evloop *el,
		       const struct keys_and_cert *relayer,
		       const uint8_t *req, size_t len, unsigned timeout_ms,
		       market_relay_fn done, void *arg)
{
	struct relay_send *rs = xcalloc(1, sizeof(*rs));
	int err;

	rs->done = done;
	rs->arg = arg;
	rs->status_only = true;
	err = market_call(mgr, el, relayer, req, len, 33, timeout_ms,
			  send_reply, rs);
	if (err)
		free(rs);
	return err;
}

int market_relay_send(struct stream_mgr *mgr, struct evloop *el,
		      const struct keys_and_cert *relayer,
		      const struct market_purchase *mp, unsigned timeout_ms,
		      market_relay_fn done, void *arg)
{
	struct relay_send *rs = xcalloc(1, sizeof(*rs));
	uint8_t buf[MARKET_PURCHASE_WIRE_BYTES];
	int err;

	rs->done = done;
	rs->arg = arg;
	market_purchase_encode(mp, buf);
	err = market_call(mgr, el, relayer, buf, sizeof(buf), 33, timeout_ms,
			  send_reply, rs);
	if (err)
		free(rs);
	return err;
}
