/*
 * Hosts paid per epoch by the creator (hostpay.h, CHAIN.md §5 flow 4:
 * "Hosters: same, paid by the creator per epoch").  Both sides are the
 * pay-per-chunk payer and payee of chunkpay.c with an epoch for a chunk:
 * the creator's chunkpay_payer signs one voucher per epoch held (its
 * batch is 1), the host's chunkpay_payee judges it.
 */
#include "config.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "apps/market/hostpay.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"

void hostpay_proof(const uint8_t challenge[HOSTPAY_CHALLENGE_BYTES],
		   uint32_t idx, const uint8_t *chunk, size_t len,
		   uint8_t out[HOSTPAY_PROOF_BYTES])
{
	struct sha256_ctx h;
	uint8_t i[4];

	be32_put(i, idx);
	sha256_init(&h);
	sha256_update(&h, challenge, HOSTPAY_CHALLENGE_BYTES);
	sha256_update(&h, i, sizeof(i));
	sha256_update(&h, chunk, len);
	sha256_final(&h, out);
}

/* ----------------------------------------------------------------- host */

struct hp_session {
	bool used;
	uint8_t peer[32], hash[32], lane[32];
	struct secp_pk eph;
	uint32_t id;			/* the payee's session */
};

struct hostpay_host {
	struct chunkpay_payee *payee;	/* borrowed */
	struct u256 price;
	hostpay_held_fn held;
	hostpay_prove_fn prove;
	void *held_ctx;
	struct hp_session *s;
	size_t ns;
	uint64_t changes;		/* lanes added or dropped */
	struct hostpay_host_stats st;	/* counters only */
};

struct hostpay_host *hostpay_host_new(struct chunkpay_payee *payee,
				      const struct u256 *price,
				      hostpay_held_fn held,
				      hostpay_prove_fn prove, void *ctx)
{
	struct hostpay_host *h = xzalloc(sizeof(*h));

	h->payee = payee;
	h->price = *price;
	h->held = held;
	h->prove = prove;
	h->held_ctx = ctx;
	h->s = xcalloc(HOSTPAY_SESSIONS_MAX, sizeof(*h->s));
	return h;
}

void hostpay_host_free(struct hostpay_host *h)
{
	if (!h)
		return;
	free(h->s);
	free(h);
}

static struct hp_session *session_find(struct hostpay_host *h,
				       const uint8_t peer[32],
				       const uint8_t hash[32],
				       const uint8_t lane[32])
{
	for (size_t i = 0; i < h->ns; i++) {
		struct hp_session *s = &h->s[i];

		if (s->used && !memcmp(s->peer, peer, 32) &&
		    !memcmp(s->hash, hash, 32) && !memcmp(s->lane, lane, 32))
			return s;
	}
	return NULL;
}

static struct hp_session *session_new(struct hostpay_host *h)
{
	size_t i;

	for (i = 0; i < h->ns && h->s[i].used; i++)
		;
	if (i == HOSTPAY_SESSIONS_MAX)
		return NULL;
	if (i == h->ns)
		h->ns++;
	return &h->s[i];
}

static void reply2(struct bbuf *out, enum hostpay_status st, unsigned why)
{
	uint8_t b[2] = { (uint8_t)st, (uint8_t)why };

	bbuf_put(out, b, 2);
}

static enum chunkpay_reason on_voucher(struct hostpay_host *h,
				       const uint8_t peer[32],
				       const uint8_t *in, size_t len,
				       uint64_t now_s, struct bbuf *out,
				       uint8_t signer[ETH_ADDR_BYTES])
{
	const uint8_t *hash = in + 1, *body = in + 1 + 32;
	struct chunkpay_voucher w;
	struct hp_session *s;
	enum chunkpay_reason why;
	bool fresh = false;	/* a new or resumed lane: ours if paid */

	if (len != HOSTPAY_VOUCHER_REQ_BYTES ||
	    chunkpay_voucher_decode(body, CHUNKPAY_VOUCHER_BYTES, &w) != 0) {
		h->st.bad_requests++;
		bbuf_u8(out, HOSTPAY_BAD_REQUEST);
		return CHUNKPAY_MALFORMED;
	}
	if (!h->held(h->held_ctx, hash)) {
		h->st.not_hosted++;
		bbuf_u8(out, HOSTPAY_NOT_HOSTED);
		return CHUNKPAY_OK;
	}
	if (!(s = session_find(h, peer, hash, w.lane))) {
		if (!(s = session_new(h))) {
			h->st.vouchers_refused++;
			reply2(out, HOSTPAY_REFUSED, CHUNKPAY_EXPOSURE);
			return CHUNKPAY_EXPOSURE;
		}
		/* a lane restored after our restart goes on (one lane a
		 * creator and content, never two for the same key) */
		if (chunkpay_session_resume(h->payee, &w.eph, w.lane,
					    &s->id) != 0 &&
		    chunkpay_session_open(h->payee, &s->id) != 0) {
			h->st.vouchers_refused++;
			reply2(out, HOSTPAY_REFUSED, CHUNKPAY_EXPOSURE);
			return CHUNKPAY_EXPOSURE;
		}
		s->used = fresh = true;
		memcpy(s->peer, peer, 32);
		memcpy(s->hash, hash, 32);
		memcpy(s->lane, w.lane, 32);
		s->eph = w.eph;
		h->changes++;
	}
	why = chunkpay_session_voucher(h->payee, s->id, body,
				       CHUNKPAY_VOUCHER_BYTES, now_s, signer);
	switch (why) {
	case CHUNKPAY_OK:
		h->st.vouchers_ok++;
		reply2(out, HOSTPAY_OK, why);
		return why;
	case CHUNKPAY_NEED_POT:
		h->st.vouchers_pending++;
		reply2(out, HOSTPAY_OK, why);
		return why;
	case CHUNKPAY_MALFORMED:
	case CHUNKPAY_BAD_SIG:
	case CHUNKPAY_EXPIRED:
	case CHUNKPAY_TTL_TOO_LONG:
	case CHUNKPAY_WRONG_LANE:
	case CHUNKPAY_STALE:
	case CHUNKPAY_NO_POT:
	case CHUNKPAY_UNLOCKING:
	case CHUNKPAY_EXPOSURE:
		break;
	}
	h->st.vouchers_refused++;
	/* a refused first voucher leaves nothing (a resumed lane stays
	 * closed and owed, for its own creator's next voucher) */
	if (fresh) {
		chunkpay_session_close(h->payee, s->id);
		memset(s, 0, sizeof(*s));
		h->changes++;
		while (h->ns && !h->s[h->ns - 1].used)
			h->ns--;
	}
	reply2(out, HOSTPAY_REFUSED, why);
	return why;
}

enum chunkpay_reason hostpay_host_request(struct hostpay_host *h,
					  const uint8_t peer[32],
					  const uint8_t *in, size_t len,
					  uint64_t now_s, struct bbuf *out,
					  uint8_t signer[ETH_ADDR_BYTES])
{
	uint8_t terms[CHUNKPAY_TERMS_BYTES], proof[HOSTPAY_PROOF_BYTES];

	if (len == HOSTPAY_TERMS_REQ_BYTES && in[0] == HOSTPAY_REQ_TERMS) {
		const uint8_t *hash = in + 1, *ch = in + 1 + 32;
		uint32_t idx = be32_get(ch + HOSTPAY_CHALLENGE_BYTES);

		if (!h->held(h->held_ctx, hash) ||
		    h->prove(h->held_ctx, hash, ch, idx, proof) != 0) {
			h->st.not_hosted++;
			bbuf_u8(out, HOSTPAY_NOT_HOSTED);
			return CHUNKPAY_OK;
		}
		/* per epoch; credit 1: one epoch held before it is paid */
		chunkpay_payee_terms_at(h->payee, &h->price, 1, terms);
		bbuf_u8(out, HOSTPAY_OK);
		bbuf_put(out, terms, sizeof(terms));
		bbuf_put(out, proof, sizeof(proof));
		h->st.terms_sent++;
		return CHUNKPAY_OK;
	}
	if (len >= 1 && in[0] == HOSTPAY_REQ_VOUCHER)
		return on_voucher(h, peer, in, len, now_s, out, signer);
	h->st.bad_requests++;
	bbuf_u8(out, HOSTPAY_BAD_REQUEST);
	return CHUNKPAY_MALFORMED;
}

void hostpay_host_stats(const struct hostpay_host *h,
			struct hostpay_host_stats *out)
{
	*out = h->st;
	out->lanes = 0;
	out->earned = out->redeemed = u256_from_u64(0);
	for (size_t i = 0; i < h->ns; i++) {
		struct u256 acc, red;

		if (!h->s[i].used ||
		    !chunkpay_session_value(h->payee, h->s[i].id, &acc, &red))
			continue;
		out->lanes++;
		(void)u256_add(&out->earned, &out->earned, &acc);
		(void)u256_add(&out->redeemed, &out->redeemed, &red);
	}
}

uint64_t hostpay_host_changes(const struct hostpay_host *h)
{
	return h->changes;
}

void hostpay_host_lanes_encode(const struct hostpay_host *h,
			       struct bbuf *out)
{
	uint32_t n = 0;

	for (size_t i = 0; i < h->ns; i++)
		n += h->s[i].used;
	bbuf_put(out, HOSTPAY_LANES_MAGIC, 4);
	bbuf_be32(out, n);
	for (size_t i = 0; i < h->ns; i++) {
		const struct hp_session *s = &h->s[i];

		if (!s->used)
			continue;
		bbuf_put(out, s->peer, 32);
		bbuf_put(out, s->hash, 32);
		bbuf_put(out, s->lane, 32);
		bbuf_put(out, s->eph.b, SECP_PK_BYTES);
	}
}

int hostpay_host_lanes_load(struct hostpay_host *h, const uint8_t *in,
			    size_t len, size_t *adopted)
{
	struct breader r;
	const uint8_t *m;
	uint32_t n;

	*adopted = 0;
	br_init(&r, in, len);
	m = br_take(&r, 4);
	n = br_be32(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (memcmp(m, HOSTPAY_LANES_MAGIC, 4) != 0)
		return ERR_FORMAT;
	if (n > HOSTPAY_SESSIONS_MAX)
		return ERR_TOO_BIG;
	if (r.left != (size_t)n * HOSTPAY_LANE_REC_BYTES)
		return r.left < (size_t)n * HOSTPAY_LANE_REC_BYTES ?
		       ERR_TRUNCATED : ERR_FORMAT;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *peer = br_take(&r, 32), *hash = br_take(&r, 32);
		const uint8_t *lane = br_take(&r, 32);
		struct secp_pk eph;
		struct hp_session *s;
		uint32_t id;

		memcpy(eph.b, br_take(&r, SECP_PK_BYTES), SECP_PK_BYTES);
		if (session_find(h, peer, hash, lane) ||
		    chunkpay_session_resume(h->payee, &eph, lane, &id) != 0)
			continue;	/* paid in full before: nothing owed */
		if (!(s = session_new(h))) {
			chunkpay_session_close(h->payee, id);
			break;
		}
		s->used = true;
		memcpy(s->peer, peer, 32);
		memcpy(s->hash, hash, 32);
		memcpy(s->lane, lane, 32);
		s->eph = eph;
		s->id = id;
		h->changes++;
		++*adopted;
	}
	return 0;
}

bool hostpay_host_has_lane(const struct hostpay_host *h, uint32_t id)
{
	for (size_t i = 0; i < h->ns; i++)
		if (h->s[i].used && h->s[i].id == id)
			return true;
	return false;
}

/* -------------------------------------------------------------- creator */

struct hp_deal {
	bool used;
	uint8_t host[32], hash[32];
	struct chunkpay_payer *payer;	/* its current lane; NULL: none */
	uint8_t terms[CHUNKPAY_TERMS_BYTES];	/* that payer's */
	struct u256 price;
	struct u256 spent;		/* on lanes given up */
	uint64_t epochs;
};

struct hostpay_creator {
	struct hostpay_creator_config cfg;
	const struct secp_sk *pot_sk;
	uint8_t sep[32];
	struct hp_deal *d;
	size_t nd;
	struct hostpay_creator_stats st;
};

struct hostpay_creator *hostpay_creator_new(
	const struct hostpay_creator_config *cfg,
	const struct secp_sk *pot_sk, const uint8_t domain_sep[32])
{
	struct hostpay_creator *c = xzalloc(sizeof(*c));

	c->cfg = *cfg;
	c->pot_sk = pot_sk;
	memcpy(c->sep, domain_sep, 32);
	c->d = xcalloc(HOSTPAY_DEALS_MAX, sizeof(*c->d));
	return c;
}

void hostpay_creator_free(struct hostpay_creator *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nd; i++)
		chunkpay_payer_free(c->d[i].payer);
	free(c->d);
	free(c);
}

void hostpay_terms_request(const uint8_t hash[32],
			   const uint8_t challenge[HOSTPAY_CHALLENGE_BYTES],
			   uint32_t idx, uint8_t out[HOSTPAY_TERMS_REQ_BYTES])
{
	out[0] = HOSTPAY_REQ_TERMS;
	memcpy(out + 1, hash, 32);
	memcpy(out + 1 + 32, challenge, HOSTPAY_CHALLENGE_BYTES);
	be32_put(out + 1 + 32 + HOSTPAY_CHALLENGE_BYTES, idx);
}

static struct hp_deal *deal_find(struct hostpay_creator *c,
				 const uint8_t host[32],
				 const uint8_t hash[32])
{
	for (size_t i = 0; i < c->nd; i++)
		if (c->d[i].used && !memcmp(c->d[i].host, host, 32) &&
		    !memcmp(c->d[i].hash, hash, 32))
			return &c->d[i];
	return NULL;
}

/* What the deal has signed over all its lanes. */
static struct u256 deal_paid(const struct hp_deal *d)
{
	struct u256 t = d->spent, p;

	if (d->payer) {
		p = chunkpay_payer_paid(d->payer);
		(void)u256_add(&t, &t, &p);
	}
	return t;
}

/* Give up the deal's lane (what it signed stays counted). */
static void lane_drop(struct hp_deal *d)
{
	if (!d->payer)
		return;
	d->spent = deal_paid(d);
	chunkpay_payer_free(d->payer);
	d->payer = NULL;
}

int hostpay_creator_terms(struct hostpay_creator *c, const uint8_t host[32],
			  const uint8_t hash[32],
			  const uint8_t expect[HOSTPAY_PROOF_BYTES],
			  const uint8_t *reply, size_t len, uint64_t now_s,
			  uint8_t req[HOSTPAY_VOUCHER_REQ_BYTES])
{
	struct chunkpay_payer_config pc = { .max_price = c->cfg.max_price,
					    .max_batch = 1,
					    .ttl_s = c->cfg.ttl_s };
	uint8_t v[CHUNKPAY_VOUCHER_BYTES];
	struct chunkpay_terms t;
	struct hp_deal *d;
	struct u256 next;
	int r;

	if (len == 1 && reply[0] == HOSTPAY_NOT_HOSTED) {
		c->st.not_hosted++;
		return ERR_NOT_FOUND;
	}
	if (len < 1 || reply[0] != HOSTPAY_OK)
		return ERR_FORMAT;
	if (len != HOSTPAY_REPLY_MAX_BYTES)
		return len < HOSTPAY_REPLY_MAX_BYTES ? ERR_TRUNCATED :
						       ERR_TOO_BIG;
	/* "proves it holds the chunk asked" */
	if (sodium_memcmp(reply + 1 + CHUNKPAY_TERMS_BYTES, expect,
			  HOSTPAY_PROOF_BYTES) != 0) {
		c->st.proofs_failed++;
		return ERR_AUTH;
	}
	len -= HOSTPAY_PROOF_BYTES;
	if ((r = chunkpay_terms_decode(reply + 1, len - 1, &t)) != 0)
		return r;
	if (!(d = deal_find(c, host, hash))) {
		size_t i;

		for (i = 0; i < c->nd && c->d[i].used; i++)
			;
		if (i == HOSTPAY_DEALS_MAX)
			return ERR_LIMIT;
		if (i == c->nd)
			c->nd++;
		d = &c->d[i];
		memset(d, 0, sizeof(*d));
		d->used = true;
		memcpy(d->host, host, 32);
		memcpy(d->hash, hash, 32);
	}
	/* new keys or a new price: a new lane */
	if (d->payer && memcmp(d->terms, reply + 1, CHUNKPAY_TERMS_BYTES))
		lane_drop(d);
	if (!d->payer) {
		d->payer = chunkpay_payer_new(&pc, c->pot_sk, c->sep);
		if ((r = chunkpay_payer_terms(d->payer, reply + 1,
					      len - 1)) != 0) {
			chunkpay_payer_free(d->payer);
			d->payer = NULL;
			c->st.terms_refused++;
			return r;
		}
		memcpy(d->terms, reply + 1, CHUNKPAY_TERMS_BYTES);
		d->price = t.price;
	}
	/* the budget: what it signed in all, and this epoch */
	next = deal_paid(d);
	if (u256_add(&next, &next, &d->price) != 0 ||
	    (!u256_is_zero(&c->cfg.budget) &&
	     u256_cmp(&next, &c->cfg.budget) > 0)) {
		c->st.over_budget++;
		return ERR_LIMIT;
	}
	if ((r = chunkpay_payer_chunk(d->payer, now_s, v)) != 1)
		return r < 0 ? r : ERR_INTERNAL;
	d->epochs++;
	c->st.epochs_paid++;
	c->st.vouchers_sent++;
	(void)u256_add(&c->st.paid, &c->st.paid, &d->price);
	req[0] = HOSTPAY_REQ_VOUCHER;
	memcpy(req + 1, hash, 32);
	memcpy(req + 1 + 32, v, CHUNKPAY_VOUCHER_BYTES);
	return 0;
}

int hostpay_creator_voucher_reply(struct hostpay_creator *c,
				  const uint8_t host[32],
				  const uint8_t hash[32],
				  const uint8_t *reply, size_t len)
{
	struct hp_deal *d = deal_find(c, host, hash);

	if (len == 1 && reply[0] == HOSTPAY_NOT_HOSTED)
		return ERR_NOT_FOUND;
	if (len != 2 || (reply[0] != HOSTPAY_OK &&
			 reply[0] != HOSTPAY_REFUSED))
		return ERR_FORMAT;
	if (reply[0] == HOSTPAY_OK &&
	    (reply[1] == CHUNKPAY_OK || reply[1] == CHUNKPAY_NEED_POT)) {
		c->st.vouchers_ok++;
		return 0;
	}
	if (reply[0] == HOSTPAY_OK)
		return ERR_FORMAT;
	c->st.vouchers_refused++;
	switch (reply[1]) {
	case CHUNKPAY_MALFORMED:
	case CHUNKPAY_BAD_SIG:
	case CHUNKPAY_WRONG_LANE:
	case CHUNKPAY_STALE:
		/* the host does not follow this lane (any more) */
		if (d)
			lane_drop(d);
		return ERR_BAD_SIG;
	default:
		return ERR_PROTOCOL;
	}
}

void hostpay_creator_stats(const struct hostpay_creator *c,
			   struct hostpay_creator_stats *out)
{
	*out = c->st;
}

size_t hostpay_creator_deals(const struct hostpay_creator *c,
			     struct hostpay_deal_info *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nd && n < max; i++) {
		const struct hp_deal *d = &c->d[i];

		if (!d->used)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(out[n].host, d->host, 32);
		memcpy(out[n].hash, d->hash, 32);
		out[n].epochs = d->epochs;
		out[n].paid = deal_paid(d);
		out[n].price = d->price;
		if (d->payer)
			chunkpay_payer_recipient(d->payer, out[n].recipient);
		n++;
	}
	return n;
}
