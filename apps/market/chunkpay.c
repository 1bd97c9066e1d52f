/*
 * Pay per chunk: cumulative PaymentHub vouchers from a viewer to each
 * seeder (CHAIN.md §5 flow 4), the payer's and the payee's sides and the
 * payee's batches for redeemVouchers.  See chunkpay.h for the messages
 * and the policies.
 *
 * "pays a Voucher per verified chunk (or growing batch, like Filecoin
 * retrieval); seeder keeps the latest" (CHAIN.md §5.4).  PaymentHub pays
 * `cumulative` minus what (signer, lane, recipient) already got, so only
 * the latest voucher of a lane is worth keeping.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/market/chunkpay.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/keccak.h"
#include "crypto/rand.h"

/* ------------------------------------------------------------- codec */

static bool fits_u96(const struct u256 *a)
{
	return a->w[3] == 0 && a->w[2] == 0 && a->w[1] >> 32 == 0;
}

static int amount_put(uint8_t *out, const struct u256 *a)
{
	uint8_t be[32];

	if (!fits_u96(a))
		return ERR_RANGE;
	u256_to_be(a, be);
	memcpy(out, be + 32 - CHUNKPAY_AMOUNT_BYTES, CHUNKPAY_AMOUNT_BYTES);
	return 0;
}

static void amount_get(struct breader *r, struct u256 *a)
{
	const uint8_t *p = br_take(r, CHUNKPAY_AMOUNT_BYTES);

	*a = u256_from_u64(0);
	if (p)
		(void)u256_from_be(a, p, CHUNKPAY_AMOUNT_BYTES);
}

static int size_check(size_t len, size_t want)
{
	if (len < want)
		return ERR_TRUNCATED;
	return len > want ? ERR_TOO_BIG : 0;
}

int chunkpay_msg_type(const uint8_t *in, size_t len)
{
	return len ? in[0] : -1;
}

int chunkpay_terms_encode(const struct chunkpay_terms *t,
			  uint8_t out[CHUNKPAY_TERMS_BYTES])
{
	uint8_t *p = out;
	int r;

	*p++ = CHUNKPAY_MSG_TERMS;
	*p++ = CHUNKPAY_VERSION;
	stealth_meta_encode(&t->meta, p);
	p += STEALTH_META_BYTES;
	if ((r = amount_put(p, &t->price)) != 0)
		return r;
	p += CHUNKPAY_AMOUNT_BYTES;
	p[0] = (uint8_t)(t->credit >> 8);
	p[1] = (uint8_t)t->credit;
	return 0;
}

int chunkpay_terms_decode(const uint8_t *in, size_t len,
			  struct chunkpay_terms *out)
{
	struct chunkpay_terms t;
	struct breader r;
	int e;

	if (len >= 2 && (in[0] != CHUNKPAY_MSG_TERMS ||
			 in[1] != CHUNKPAY_VERSION))
		return in[0] != CHUNKPAY_MSG_TERMS ? ERR_FORMAT :
		       ERR_UNSUPPORTED;
	if ((e = size_check(len, CHUNKPAY_TERMS_BYTES)) != 0)
		return e;
	br_init(&r, in + 2, len - 2);
	if (stealth_meta_decode(&t.meta, br_take(&r, STEALTH_META_BYTES),
				STEALTH_META_BYTES) != 0)
		return ERR_FORMAT;
	amount_get(&r, &t.price);
	t.credit = br_be16(&r);
	if (!br_done(&r))
		return ERR_INTERNAL;
	if (t.credit == 0)
		return ERR_FORMAT;
	*out = t;
	return 0;
}

int chunkpay_voucher_encode(const struct chunkpay_voucher *v,
			    uint8_t out[CHUNKPAY_VOUCHER_BYTES])
{
	uint8_t *p = out;
	int r;

	*p++ = CHUNKPAY_MSG_VOUCHER;
	memcpy(p, v->eph.b, SECP_PK_BYTES);
	p += SECP_PK_BYTES;
	memcpy(p, v->lane, 32);
	p += 32;
	if ((r = amount_put(p, &v->cumulative)) != 0)
		return r;
	p += CHUNKPAY_AMOUNT_BYTES;
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(v->expiry >> (56 - 8 * i));
	memcpy(p, v->sig, SECP_SIG_BYTES);
	return 0;
}

int chunkpay_voucher_decode(const uint8_t *in, size_t len,
			    struct chunkpay_voucher *out)
{
	struct chunkpay_voucher v;
	struct breader r;
	int e;

	if (len >= 1 && in[0] != CHUNKPAY_MSG_VOUCHER)
		return ERR_FORMAT;
	if ((e = size_check(len, CHUNKPAY_VOUCHER_BYTES)) != 0)
		return e;
	br_init(&r, in + 1, len - 1);
	if (secp_pk_parse(&v.eph, br_take(&r, SECP_PK_BYTES),
			  SECP_PK_BYTES) != 0)
		return ERR_FORMAT;
	br_copy(&r, v.lane, 32);
	amount_get(&r, &v.cumulative);
	v.expiry = br_be64(&r);
	br_copy(&r, v.sig, SECP_SIG_BYTES);
	if (!br_done(&r))
		return ERR_INTERNAL;
	if (v.sig[64] != 27 && v.sig[64] != 28)
		return ERR_FORMAT;
	*out = v;
	return 0;
}

static void voucher_digest(const uint8_t sep[32],
			   const struct eip712_voucher *v, uint8_t out[32])
{
	uint8_t sh[32];

	eip712_hash_voucher(v, sh);
	eip712_digest(sep, sh, out);
}

/* ------------------------------------------------------------- payer */

struct chunkpay_payer {
	struct chunkpay_payer_config cfg;
	const struct secp_sk *pot_sk;
	uint8_t sep[32];
	bool has_terms;
	struct chunkpay_terms terms;
	struct stealth_out so;
	uint8_t lane[32];
	unsigned batch;
	uint64_t chunks, paid_chunks;
	struct u256 paid;
};

struct chunkpay_payer *chunkpay_payer_new(const struct chunkpay_payer_config *c,
					  const struct secp_sk *pot_sk,
					  const uint8_t domain_sep[32])
{
	struct chunkpay_payer *p = xzalloc(sizeof(*p));

	p->cfg = *c;
	if (p->cfg.max_batch == 0)
		p->cfg.max_batch = 1;
	p->pot_sk = pot_sk;
	memcpy(p->sep, domain_sep, 32);
	return p;
}

void chunkpay_payer_free(struct chunkpay_payer *p)
{
	if (p)
		xfree_wipe(p, sizeof(*p));
}

int chunkpay_payer_terms(struct chunkpay_payer *p, const uint8_t *in,
			 size_t len)
{
	struct chunkpay_terms t;
	unsigned half;
	int r;

	if (p->has_terms)
		return ERR_EXISTS;
	if ((r = chunkpay_terms_decode(in, len, &t)) != 0)
		return r;
	if (u256_cmp(&t.price, &p->cfg.max_price) > 0)
		return ERR_RANGE;
	/* "downloader derives S, random lane L" */
	if ((r = stealth_generate(&p->so, &t.meta, NULL)) != 0)
		return r;
	rand_bytes(p->lane, sizeof(p->lane));
	/* Pay when half the credit is used, so the seeder has the voucher
	 * before it stops serving. */
	half = t.credit / 2 ? t.credit / 2 : 1;
	p->batch = half < p->cfg.max_batch ? half : p->cfg.max_batch;
	p->terms = t;
	p->has_terms = true;
	return 0;
}

bool chunkpay_payer_has_terms(const struct chunkpay_payer *p)
{
	return p->has_terms;
}

static int payer_sign(struct chunkpay_payer *p, uint64_t now_s,
		      uint8_t out[CHUNKPAY_VOUCHER_BYTES])
{
	struct eip712_voucher v;
	struct chunkpay_voucher w;
	uint8_t d[32];
	int r;

	memset(&v, 0, sizeof(v));
	memcpy(v.recipient, p->so.addr, ETH_ADDR_BYTES);
	memcpy(v.lane, p->lane, 32);
	if (u256_mul_u64(&v.cumulative, &p->terms.price, p->chunks) != 0 ||
	    !fits_u96(&v.cumulative))
		return ERR_RANGE;
	v.expiry = now_s + p->cfg.ttl_s;
	voucher_digest(p->sep, &v, d);
	w.eph = p->so.eph;
	memcpy(w.lane, p->lane, 32);
	w.cumulative = v.cumulative;
	w.expiry = v.expiry;
	if ((r = secp_sign(p->pot_sk, d, w.sig)) != 0 ||
	    (r = chunkpay_voucher_encode(&w, out)) != 0)
		return r;
	p->paid = v.cumulative;
	p->paid_chunks = p->chunks;
	return 1;
}

int chunkpay_payer_chunk(struct chunkpay_payer *p, uint64_t now_s,
			 uint8_t out[CHUNKPAY_VOUCHER_BYTES])
{
	if (!p->has_terms)
		return ERR_BAD_STATE;
	p->chunks++;
	if (p->chunks - p->paid_chunks < p->batch)
		return 0;
	return payer_sign(p, now_s, out);
}

int chunkpay_payer_flush(struct chunkpay_payer *p, uint64_t now_s,
			 uint8_t out[CHUNKPAY_VOUCHER_BYTES])
{
	if (!p->has_terms)
		return ERR_BAD_STATE;
	if (p->chunks == p->paid_chunks)
		return 0;
	return payer_sign(p, now_s, out);
}

uint64_t chunkpay_payer_chunks(const struct chunkpay_payer *p)
{
	return p->chunks;
}

struct u256 chunkpay_payer_paid(const struct chunkpay_payer *p)
{
	return p->paid;
}

void chunkpay_payer_recipient(const struct chunkpay_payer *p,
			      uint8_t out[ETH_ADDR_BYTES])
{
	memcpy(out, p->so.addr, ETH_ADDR_BYTES);
}

/* ------------------------------------------------------------- payee */

struct lane {
	bool used, open, bound, pending;
	struct secp_pk eph;
	uint8_t lane[32];
	uint8_t recipient[ETH_ADDR_BYTES];
	uint8_t signer[ETH_ADDR_BYTES];
	struct u256 redeemed;		/* what the chain paid us */
	bool has_v;
	struct eip712_voucher v;	/* latest accepted */
	uint8_t sig[SECP_SIG_BYTES];
	struct eip712_voucher pv;	/* pending its pot */
	uint8_t psig[SECP_SIG_BYTES];
	uint64_t served;
};

struct pot_entry {
	uint8_t signer[ETH_ADDR_BYTES];
	bool exists;
	struct hub_pot pot;
};

struct chunkpay_payee {
	struct chunkpay_policy pol;
	uint8_t sep[32];
	struct secp_sk view;
	struct secp_pk spend;
	struct lane *lanes;
	size_t nlanes, caplanes;
	struct pot_entry *pots;
	size_t npots, cappots;
	uint64_t changes;		/* chunkpay_payee_changes() */
};

const char *chunkpay_reason_str(enum chunkpay_reason r)
{
	switch (r) {
	case CHUNKPAY_OK: return "ok";
	case CHUNKPAY_MALFORMED: return "malformed";
	case CHUNKPAY_BAD_SIG: return "bad signature";
	case CHUNKPAY_EXPIRED: return "expired or too short";
	case CHUNKPAY_TTL_TOO_LONG: return "expiry past maxPaperTTL";
	case CHUNKPAY_WRONG_LANE: return "lane, E or signer changed";
	case CHUNKPAY_STALE: return "not above the last voucher";
	case CHUNKPAY_NEED_POT: return "pot state needed";
	case CHUNKPAY_NO_POT: return "no funded pot";
	case CHUNKPAY_UNLOCKING: return "pot unlocking";
	case CHUNKPAY_EXPOSURE: return "exposure over escrow / 8";
	}
	return "?";
}

struct chunkpay_payee *chunkpay_payee_new(const struct chunkpay_policy *pol,
					  const uint8_t domain_sep[32],
					  const struct secp_sk *view,
					  const struct secp_pk *spend_pk)
{
	struct chunkpay_payee *p = xzalloc(sizeof(*p));

	p->pol = *pol;
	if (p->pol.credit == 0)
		p->pol.credit = 1;
	memcpy(p->sep, domain_sep, 32);
	p->view = *view;
	p->spend = *spend_pk;
	return p;
}

void chunkpay_payee_free(struct chunkpay_payee *p)
{
	if (!p)
		return;
	if (p->lanes)
		xfree_wipe(p->lanes, p->caplanes * sizeof(*p->lanes));
	free(p->pots);
	xfree_wipe(p, sizeof(*p));
}

void chunkpay_payee_terms(const struct chunkpay_payee *p,
			  uint8_t out[CHUNKPAY_TERMS_BYTES])
{
	chunkpay_payee_terms_at(p, &p->pol.price, p->pol.credit, out);
}

void chunkpay_payee_terms_at(const struct chunkpay_payee *p,
			     const struct u256 *price, uint16_t credit,
			     uint8_t out[CHUNKPAY_TERMS_BYTES])
{
	struct chunkpay_terms t;

	t.meta.view = (struct secp_pk){ { 0 } };
	(void)secp_sk_pubkey(&p->view, &t.meta.view);
	t.meta.spend = p->spend;
	t.price = *price;
	t.credit = credit ? credit : 1;
	/* the price was checked to fit at start; BUG otherwise */
	if (chunkpay_terms_encode(&t, out) != 0)
		memset(out, 0, CHUNKPAY_TERMS_BYTES);
}

static struct lane *lane_get(const struct chunkpay_payee *p, uint32_t id)
{
	if (id >= p->nlanes || !p->lanes[id].used)
		return NULL;
	return &p->lanes[id];
}

int chunkpay_session_open(struct chunkpay_payee *p, uint32_t *id)
{
	size_t i;

	for (i = 0; i < p->nlanes; i++)
		if (!p->lanes[i].used)
			break;
	if (i == p->nlanes) {
		if (p->nlanes == CHUNKPAY_LANES_MAX)
			return ERR_LIMIT;
		if (p->nlanes == p->caplanes) {
			size_t nc = p->caplanes ? 2 * p->caplanes : 16;

			p->lanes = xrealloc(p->lanes, nc * sizeof(*p->lanes));
			memset(p->lanes + p->caplanes, 0,
			       (nc - p->caplanes) * sizeof(*p->lanes));
			p->caplanes = nc;
		}
		p->nlanes++;
	}
	memset(&p->lanes[i], 0, sizeof(p->lanes[i]));
	p->lanes[i].used = p->lanes[i].open = true;
	*id = (uint32_t)i;
	return 0;
}

static bool lane_owes(const struct lane *l)
{
	return l->has_v && u256_cmp(&l->v.cumulative, &l->redeemed) > 0;
}

int chunkpay_session_resume(struct chunkpay_payee *p,
			    const struct secp_pk *eph, const uint8_t lane[32],
			    uint32_t *id)
{
	for (size_t i = 0; i < p->nlanes; i++) {
		struct lane *l = &p->lanes[i];

		if (l->used && l->bound && !l->open &&
		    !memcmp(l->eph.b, eph->b, SECP_PK_BYTES) &&
		    !memcmp(l->lane, lane, 32)) {
			l->open = true;
			*id = (uint32_t)i;
			return 0;
		}
	}
	return ERR_NOT_FOUND;
}

void chunkpay_session_close(struct chunkpay_payee *p, uint32_t id)
{
	struct lane *l = lane_get(p, id);

	if (!l)
		return;
	l->open = false;
	if (!lane_owes(l))
		memset(l, 0, sizeof(*l));
}

static uint64_t lane_paid_chunks(const struct chunkpay_payee *p,
				 const struct lane *l)
{
	struct u256 q;
	uint64_t rem;

	if (!l->has_v)
		return 0;
	if (u256_is_zero(&p->pol.price))
		return UINT64_MAX;
	if (!u256_fits_u64(&p->pol.price) ||
	    u256_div_u64(&q, &rem, &l->v.cumulative, p->pol.price.w[0]) != 0)
		return 0;
	return u256_fits_u64(&q) ? q.w[0] : UINT64_MAX;
}

bool chunkpay_session_may_serve(const struct chunkpay_payee *p, uint32_t id)
{
	const struct lane *l = lane_get(p, id);
	uint64_t paid;

	if (!l)
		return false;
	paid = lane_paid_chunks(p, l);
	return paid >= l->served || l->served - paid < p->pol.credit;
}

void chunkpay_session_served(struct chunkpay_payee *p, uint32_t id)
{
	struct lane *l = lane_get(p, id);

	if (l)
		l->served++;
}

void chunkpay_session_counts(const struct chunkpay_payee *p, uint32_t id,
			     uint64_t *served, uint64_t *paid)
{
	const struct lane *l = lane_get(p, id);

	*served = l ? l->served : 0;
	*paid = l ? lane_paid_chunks(p, l) : 0;
}

bool chunkpay_session_value(const struct chunkpay_payee *p, uint32_t id,
			    struct u256 *accepted, struct u256 *redeemed)
{
	const struct lane *l = lane_get(p, id);

	if (!l)
		return false;
	*redeemed = l->redeemed;
	*accepted = l->has_v ? l->v.cumulative : l->redeemed;
	return true;
}

static struct pot_entry *pot_find(const struct chunkpay_payee *p,
				  const uint8_t signer[ETH_ADDR_BYTES])
{
	for (size_t i = 0; i < p->npots; i++)
		if (memcmp(p->pots[i].signer, signer, ETH_ADDR_BYTES) == 0)
			return &p->pots[i];
	return NULL;
}

struct u256 chunkpay_payee_exposure(const struct chunkpay_payee *p,
				    const uint8_t signer[ETH_ADDR_BYTES])
{
	struct u256 sum = u256_from_u64(0), d;

	for (size_t i = 0; i < p->nlanes; i++) {
		const struct lane *l = &p->lanes[i];

		if (!l->used || !lane_owes(l) ||
		    memcmp(l->signer, signer, ETH_ADDR_BYTES) != 0)
			continue;
		if (u256_sub(&d, &l->v.cumulative, &l->redeemed) == 0)
			(void)u256_add(&sum, &sum, &d);
	}
	return sum;
}

/* The pot policy for voucher v of lane l, pot known. */
static enum chunkpay_reason judge(struct chunkpay_payee *p, struct lane *l,
				  const struct eip712_voucher *v,
				  const uint8_t sig[SECP_SIG_BYTES],
				  const struct pot_entry *pe)
{
	struct u256 exp, add, cap;
	uint64_t rem;

	if (!pe->exists || (u256_is_zero(&pe->pot.deposit)))
		return CHUNKPAY_NO_POT;
	/* "pot not unlocking" */
	if (pe->pot.unlock_at != 0)
		return CHUNKPAY_UNLOCKING;
	/* "own outstanding exposure to the pot ≤ escrow / 8" */
	exp = chunkpay_payee_exposure(p, l->signer);
	if (u256_sub(&add, &v->cumulative,
		     l->has_v ? &l->v.cumulative : &l->redeemed) != 0 ||
	    u256_add(&exp, &exp, &add) != 0 ||
	    u256_div_u64(&cap, &rem, &pe->pot.escrow,
			 CHUNKPAY_EXPOSURE_ESCROW_DIV) != 0 ||
	    u256_cmp(&exp, &cap) > 0)
		return CHUNKPAY_EXPOSURE;
	l->v = *v;
	memcpy(l->sig, sig, SECP_SIG_BYTES);
	l->has_v = true;
	p->changes++;
	return CHUNKPAY_OK;
}

enum chunkpay_reason chunkpay_session_voucher(struct chunkpay_payee *p,
					      uint32_t id, const uint8_t *in,
					      size_t len, uint64_t now_s,
					      uint8_t signer[ETH_ADDR_BYTES])
{
	struct lane *l = lane_get(p, id);
	struct chunkpay_voucher w;
	struct eip712_voucher v;
	struct pot_entry *pe;
	uint8_t d[32], who[ETH_ADDR_BYTES];
	const struct u256 *last;

	if (!l || chunkpay_voucher_decode(in, len, &w) != 0)
		return CHUNKPAY_MALFORMED;
	if (l->bound && (memcmp(w.eph.b, l->eph.b, SECP_PK_BYTES) != 0 ||
			 memcmp(w.lane, l->lane, 32) != 0))
		return CHUNKPAY_WRONG_LANE;
	memset(&v, 0, sizeof(v));
	/* The recipient the payer must have signed: our stealth address
	 * for E (one ECDH per session). */
	if (l->bound)
		memcpy(v.recipient, l->recipient, ETH_ADDR_BYTES);
	else if (stealth_derive(&p->view, &p->spend, &w.eph,
				v.recipient) != 0)
		return CHUNKPAY_MALFORMED;
	memcpy(v.lane, w.lane, 32);
	v.cumulative = w.cumulative;
	v.expiry = w.expiry;
	voucher_digest(p->sep, &v, d);
	/* as PaymentHub._recover: 65 bytes, low s, v 27/28 */
	if (secp_recover(d, w.sig, who) != 0)
		return CHUNKPAY_BAD_SIG;
	if (l->bound && memcmp(who, l->signer, ETH_ADDR_BYTES) != 0)
		return CHUNKPAY_WRONG_LANE;
	/* "expiry ≤ maxPaperTTL" (payees reject longer) */
	if (w.expiry <= now_s || w.expiry - now_s < p->pol.min_ttl_s)
		return CHUNKPAY_EXPIRED;
	if (w.expiry - now_s > p->pol.max_paper_ttl_s)
		return CHUNKPAY_TTL_TOO_LONG;
	last = l->pending ? &l->pv.cumulative :
	       l->has_v ? &l->v.cumulative : &l->redeemed;
	if (u256_cmp(&w.cumulative, last) <= 0 || u256_is_zero(&w.cumulative))
		return CHUNKPAY_STALE;
	if (!l->bound) {
		l->eph = w.eph;
		memcpy(l->lane, w.lane, 32);
		memcpy(l->recipient, v.recipient, ETH_ADDR_BYTES);
		memcpy(l->signer, who, ETH_ADDR_BYTES);
		l->bound = true;
	}
	if (!(pe = pot_find(p, who))) {
		l->pv = v;
		memcpy(l->psig, w.sig, SECP_SIG_BYTES);
		l->pending = true;
		if (signer)
			memcpy(signer, who, ETH_ADDR_BYTES);
		return CHUNKPAY_NEED_POT;
	}
	l->pending = false;
	return judge(p, l, &v, w.sig, pe);
}

size_t chunkpay_payee_pot_set(struct chunkpay_payee *p,
			      const uint8_t signer[ETH_ADDR_BYTES],
			      const struct hub_pot *pot, uint64_t now_s)
{
	struct pot_entry *pe = pot_find(p, signer);
	size_t n = 0;

	if (!pe) {
		if (p->npots == CHUNKPAY_POTS_MAX)
			return 0;
		if (p->npots == p->cappots) {
			p->cappots = p->cappots ? 2 * p->cappots : 8;
			p->pots = xrealloc(p->pots,
					   p->cappots * sizeof(*p->pots));
		}
		pe = &p->pots[p->npots++];
		memset(pe, 0, sizeof(*pe));
		memcpy(pe->signer, signer, ETH_ADDR_BYTES);
	}
	pe->exists = pot != NULL;
	if (pot)
		pe->pot = *pot;
	for (size_t i = 0; i < p->nlanes; i++) {
		struct lane *l = &p->lanes[i];

		if (!l->used || !l->pending ||
		    memcmp(l->signer, signer, ETH_ADDR_BYTES) != 0)
			continue;
		l->pending = false;
		if (l->pv.expiry > now_s &&
		    judge(p, l, &l->pv, l->psig, pe) == CHUNKPAY_OK)
			n++;
	}
	return n;
}

void chunkpay_batch_free(struct chunkpay_batch *b)
{
	if (!b)
		return;
	free(b->v);
	free(b->sig);
	free(b->eph);
	free(b->lane_id);
	free(b->owed);
	memset(b, 0, sizeof(*b));
}

int chunkpay_payee_batch(const struct chunkpay_payee *p, bool force,
			 struct chunkpay_batch *out)
{
	struct chunkpay_batch b = { 0 };
	struct u256 d, min;
	size_t n = 0;

	for (size_t i = 0; i < p->nlanes; i++)
		if (p->lanes[i].used && lane_owes(&p->lanes[i]))
			n++;
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0;
	b.v = xcalloc(n, sizeof(*b.v));
	b.sig = xcalloc(n, sizeof(*b.sig));
	b.eph = xcalloc(n, sizeof(*b.eph));
	b.lane_id = xcalloc(n, sizeof(*b.lane_id));
	b.owed = xcalloc(n, sizeof(*b.owed));
	for (size_t i = 0; i < p->nlanes; i++) {
		const struct lane *l = &p->lanes[i];

		if (!l->used || !lane_owes(l))
			continue;
		b.v[b.n] = l->v;
		memcpy(b.sig[b.n], l->sig, SECP_SIG_BYTES);
		b.eph[b.n] = l->eph;
		b.lane_id[b.n] = (uint32_t)i;
		if (u256_sub(&d, &l->v.cumulative, &l->redeemed) == 0) {
			b.owed[b.n] = d;
			(void)u256_add(&b.total, &b.total, &d);
		}
		b.n++;
	}
	/* "face value ≥ 100× redemption cost", per voucher of the batch */
	if (!force &&
	    (u256_mul_u64(&min, &p->pol.redeem_cost,
			  CHUNKPAY_MIN_BATCH_PER_COST) != 0 ||
	     u256_mul_u64(&min, &min, b.n) != 0 ||
	     u256_cmp(&b.total, &min) < 0)) {
		chunkpay_batch_free(&b);
		return 0;
	}
	*out = b;
	return 0;
}

int chunkpay_payee_batch_due(const struct chunkpay_payee *p, uint64_t now_s,
			     uint64_t margin_s, struct chunkpay_batch *out)
{
	int r = chunkpay_payee_batch(p, true, out);

	for (size_t i = 0; r == 0 && i < out->n; i++)
		if (out->v[i].expiry <= now_s + margin_s)
			return 0;
	chunkpay_batch_free(out);
	return r ? r : chunkpay_payee_batch(p, false, out);
}

void chunkpay_payee_redeemed(struct chunkpay_payee *p,
			     const struct chunkpay_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct lane *l = lane_get(p, b->lane_id[i]);

		if (!l || memcmp(l->lane, b->v[i].lane, 32) != 0)
			continue;
		if (u256_cmp(&b->v[i].cumulative, &l->redeemed) > 0)
			l->redeemed = b->v[i].cumulative;
		if (!l->open && !lane_owes(l))
			memset(l, 0, sizeof(*l));
	}
	p->changes++;
}

size_t chunkpay_payee_saved(const struct chunkpay_payee *p,
			    struct chunkpay_saved **out)
{
	size_t n = 0;

	*out = NULL;
	for (size_t i = 0; i < p->nlanes; i++)
		if (p->lanes[i].used && lane_owes(&p->lanes[i]))
			n++;
	if (n == 0)
		return 0;
	*out = xcalloc(n, sizeof(**out));
	n = 0;
	for (size_t i = 0; i < p->nlanes; i++) {
		const struct lane *l = &p->lanes[i];
		struct chunkpay_saved *s = &(*out)[n];

		if (!l->used || !lane_owes(l))
			continue;
		s->eph = l->eph;
		memcpy(s->signer, l->signer, ETH_ADDR_BYTES);
		s->v = l->v;
		memcpy(s->sig, l->sig, SECP_SIG_BYTES);
		s->redeemed = l->redeemed;
		n++;
	}
	return n;
}

uint64_t chunkpay_payee_changes(const struct chunkpay_payee *p)
{
	return p->changes;
}

static struct lane *lane_find(const struct chunkpay_payee *p,
			      const uint8_t signer[ETH_ADDR_BYTES],
			      const uint8_t lane[32],
			      const uint8_t recipient[ETH_ADDR_BYTES])
{
	for (size_t i = 0; i < p->nlanes; i++) {
		struct lane *l = &p->lanes[i];

		if (l->used && l->bound &&
		    !memcmp(l->signer, signer, ETH_ADDR_BYTES) &&
		    !memcmp(l->lane, lane, 32) &&
		    !memcmp(l->recipient, recipient, ETH_ADDR_BYTES))
			return l;
	}
	return NULL;
}

int chunkpay_payee_restore(struct chunkpay_payee *p,
			   const struct chunkpay_saved *s, uint64_t now_s)
{
	uint8_t rcpt[ETH_ADDR_BYTES], d[32], who[ETH_ADDR_BYTES];
	struct lane *l;
	uint32_t id;
	int r;

	if (s->v.expiry <= now_s)
		return ERR_EXPIRED;
	if (u256_cmp(&s->v.cumulative, &s->redeemed) <= 0 ||
	    stealth_derive(&p->view, &p->spend, &s->eph, rcpt) != 0 ||
	    memcmp(rcpt, s->v.recipient, ETH_ADDR_BYTES) != 0)
		return ERR_FORMAT;
	voucher_digest(p->sep, &s->v, d);
	if (secp_recover(d, s->sig, who) != 0 ||
	    memcmp(who, s->signer, ETH_ADDR_BYTES) != 0)
		return ERR_BAD_SIG;
	if (lane_find(p, s->signer, s->v.lane, s->v.recipient))
		return ERR_EXISTS;
	if ((r = chunkpay_session_open(p, &id)) != 0)
		return r;
	l = &p->lanes[id];
	l->open = false;
	l->bound = true;
	l->eph = s->eph;
	memcpy(l->lane, s->v.lane, 32);
	memcpy(l->recipient, s->v.recipient, ETH_ADDR_BYTES);
	memcpy(l->signer, s->signer, ETH_ADDR_BYTES);
	l->redeemed = s->redeemed;
	l->v = s->v;
	memcpy(l->sig, s->sig, SECP_SIG_BYTES);
	l->has_v = true;
	return 0;
}

void chunkpay_saved_encode(const struct chunkpay_saved *s, size_t n,
			   struct bbuf *out)
{
	uint8_t w[32];

	bbuf_put(out, CHUNKPAY_SAVED_MAGIC, 4);
	bbuf_be32(out, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		bbuf_put(out, s[i].eph.b, SECP_PK_BYTES);
		bbuf_put(out, s[i].signer, ETH_ADDR_BYTES);
		bbuf_put(out, s[i].v.recipient, ETH_ADDR_BYTES);
		bbuf_put(out, s[i].v.lane, 32);
		u256_to_be(&s[i].v.cumulative, w);
		bbuf_put(out, w, 32);
		bbuf_be64(out, s[i].v.expiry);
		bbuf_put(out, s[i].sig, SECP_SIG_BYTES);
		u256_to_be(&s[i].redeemed, w);
		bbuf_put(out, w, 32);
	}
}

int chunkpay_saved_decode(const uint8_t *in, size_t len,
			  struct chunkpay_saved **out, size_t *n)
{
	struct chunkpay_saved *s;
	struct breader r;
	uint32_t k;

	*out = NULL;
	*n = 0;
	if (len < CHUNKPAY_SAVED_HEAD_BYTES)
		return ERR_TRUNCATED;
	if (memcmp(in, CHUNKPAY_SAVED_MAGIC, 4) != 0)
		return ERR_FORMAT;
	br_init(&r, in + 4, len - 4);
	k = br_be32(&r);
	if (k > CHUNKPAY_LANES_MAX)
		return ERR_TOO_BIG;
	if (br_left(&r) != (size_t)k * CHUNKPAY_SAVED_BYTES)
		return br_left(&r) < (size_t)k * CHUNKPAY_SAVED_BYTES ?
		       ERR_TRUNCATED : ERR_FORMAT;
	if (k == 0)
		return 0;
	s = xcalloc(k, sizeof(*s));
	for (uint32_t i = 0; i < k; i++) {
		br_copy(&r, s[i].eph.b, SECP_PK_BYTES);
		br_copy(&r, s[i].signer, ETH_ADDR_BYTES);
		br_copy(&r, s[i].v.recipient, ETH_ADDR_BYTES);
		br_copy(&r, s[i].v.lane, 32);
		(void)u256_from_be(&s[i].v.cumulative, br_take(&r, 32), 32);
		s[i].v.expiry = br_be64(&r);
		br_copy(&r, s[i].sig, SECP_SIG_BYTES);
		(void)u256_from_be(&s[i].redeemed, br_take(&r, 32), 32);
	}
	if (!br_done(&r)) {
		free(s);
		return ERR_INTERNAL;
	}
	*out = s;
	*n = k;
	return 0;
}

void chunkpay_lane_key(const uint8_t signer[ETH_ADDR_BYTES],
		       const uint8_t lane[32],
		       const uint8_t recipient[ETH_ADDR_BYTES],
		       uint8_t key[32])
{
	uint8_t m[96];

	memset(m, 0, sizeof(m));
	memcpy(m + 12, signer, ETH_ADDR_BYTES);
	memcpy(m + 32, lane, 32);
	memcpy(m + 76, recipient, ETH_ADDR_BYTES);
	keccak256(key, m, sizeof(m));
}

void chunkpay_payee_chain_redeemed(struct chunkpay_payee *p,
				   const uint8_t signer[ETH_ADDR_BYTES],
				   const uint8_t lane[32],
				   const uint8_t recipient[ETH_ADDR_BYTES],
				   const struct u256 *redeemed)
{
	struct lane *l = lane_find(p, signer, lane, recipient);

	if (!l || u256_cmp(redeemed, &l->redeemed) <= 0)
		return;
	l->redeemed = *redeemed;
	if (!l->open && !lane_owes(l))
		memset(l, 0, sizeof(*l));
	p->changes++;
}

uint64_t chunkpay_redeem_delay_ms(uint64_t min_ms, uint64_t max_ms)
{
	if (max_ms <= min_ms)
		return min_ms;
	return min_ms + rand_u64() % (max_ms - min_ms + 1);
}
