/*
 * Paid relaying: tickets for tunnel hops (CHAIN.md §5 flow 5 "Relays",
 * docs/relaypay.md).  "Each hop's build record carries a Ticket to S_hop
 * (from its router-info meta-address, fresh e) with recipientRandHash = the
 * hop's published epoch commitment H(r_epoch), plus E and sig.  Hop redeems
 * winners in a batch after the epoch ends, then rotates r_epoch."
 *
 * The payee's acceptance policy is CHAIN.md §5's: "pot not unlocking;
 * signature valid; expiry ≤ maxPaperTTL; own outstanding exposure to the
 * pot ≤ escrow / 8; face value ≥ 100× redemption cost".  The draw is
 * PaymentHub._redeemTicket's.
 */
#include "config.h"
#include "chain/relaypay.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/keccak.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ pricing */

static void u256_shr1(struct u256 *a)
{
	for (int i = 0; i < 4; i++)
		a->w[i] = a->w[i] >> 1 | (i < 3 ? a->w[i + 1] << 63 : 0);
}

static bool fits_u96(const struct u256 *a)
{
	return a->w[3] == 0 && a->w[2] == 0 && a->w[1] >> 32 == 0;
}

int relaypay_win_top(uint64_t *top, const struct u256 *face,
		     const struct u256 *price_per_gib, uint64_t bytes)
{
	struct u256 num, den = *face;
	uint64_t rem;

	if (u256_is_zero(face))
		return ERR_ARG;
	/* w / 2^64 = bytes × price / (2^30 × face), so
	 * w = ceil(bytes × price × 2^34 / face). */
	if (u256_mul_u64(&num, price_per_gib, bytes) != 0 ||
	    u256_mul_u64(&num, &num, 1ull << (64 - RELAYPAY_GIB_SHIFT)) != 0)
		return ERR_RANGE;
	while (!u256_fits_u64(&den)) {	/* keeps 64 significant bits */
		u256_shr1(&den);
		u256_shr1(&num);
	}
	if (u256_div_u64(&num, &rem, &num, den.w[0]) != 0)
		return ERR_INTERNAL;
	if (rem != 0) {
		struct u256 one = u256_from_u64(1);

		if (u256_add(&num, &num, &one) != 0)
			return ERR_RANGE;
	}
	if (!u256_fits_u64(&num))
		return ERR_RANGE;	/* worth more than the face value */
	*top = num.w[0] ? num.w[0] : 1;
	return 0;
}

struct u256 relaypay_win_prob(uint64_t top)
{
	return (struct u256){ { 0, 0, 0, top } };
}

uint64_t relaypay_bytes_max(const struct u256 *face,
			    const struct u256 *price_per_gib, uint64_t limit)
{
	uint64_t lo = 0, hi = limit, top;

	if (relaypay_win_top(&top, face, price_per_gib, limit) == 0)
		return limit;
	if (relaypay_win_top(&top, face, price_per_gib, 0) != 0)
		return 0;
	/* win_top(lo) succeeds, win_top(hi) fails; it is monotonic */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (relaypay_win_top(&top, face, price_per_gib, mid) == 0)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* --------------------------------------------------------------- payer */

void relaypay_ticket_digest(const struct eip712_ticket *t,
			    const uint8_t domain_sep[32], uint8_t out[32])
{
	uint8_t sh[32];

	eip712_hash_ticket(t, sh);
	eip712_digest(domain_sep, sh, out);
}

int relaypay_ticket_make(struct relaypay_ticket *out,
			 const struct secp_sk *pot_sk,
			 const uint8_t domain_sep[32],
			 const struct relaypay_hop_info *hop,
			 const struct relaypay_price *price, uint64_t bytes,
			 uint64_t nonce, uint64_t now_s,
			 const struct secp_sk *eph)
{
	struct relaypay_ticket k = { 0 };
	struct stealth_out so;
	uint8_t d[32];
	uint64_t top;
	int r;

	if (!fits_u96(&price->face_value))
		return ERR_RANGE;
	if ((r = relaypay_win_top(&top, &price->face_value,
				  &price->price_per_gib, bytes)) != 0)
		return r;
	if (price->ttl_s > UINT64_MAX - now_s)
		return ERR_RANGE;
	/* "a Ticket to S_hop (from its router-info meta-address, fresh e)" */
	if ((r = stealth_generate(&so, &hop->meta, eph)) != 0)
		return r;
	memcpy(k.t.recipient, so.addr, ETH_ADDR_BYTES);
	k.t.face_value = price->face_value;
	k.t.win_prob = relaypay_win_prob(top);
	k.t.sender_nonce = u256_from_u64(nonce);
	memcpy(k.t.recipient_rand_hash, hop->commitment, 32);
	k.t.expiry = now_s + price->ttl_s;
	k.eph = so.eph;
	relaypay_ticket_digest(&k.t, domain_sep, d);
	if ((r = secp_sign(pot_sk, d, k.sig)) != 0)
		return r;
	*out = k;
	return 0;
}

/* ---------------------------------------------------------------- wire */

int relaypay_wire_encode(const struct relaypay_ticket *k,
			 uint8_t out[RELAYPAY_WIRE_BYTES])
{
	const struct u256 *wp = &k->t.win_prob;
	uint8_t face[32];
	uint8_t *p = out;

	if (wp->w[0] || wp->w[1] || wp->w[2] || !wp->w[3] ||
	    !fits_u96(&k->t.face_value) ||
	    !u256_fits_u64(&k->t.sender_nonce))
		return ERR_RANGE;
	*p++ = RELAYPAY_WIRE_VERSION;
	memcpy(p, k->eph.b, SECP_PK_BYTES);
	p += SECP_PK_BYTES;
	u256_to_be(&k->t.face_value, face);
	memcpy(p, face + 32 - RELAYPAY_FACE_BYTES, RELAYPAY_FACE_BYTES);
	p += RELAYPAY_FACE_BYTES;
	be64_put(p, wp->w[3]);
	be64_put(p + 8, k->t.sender_nonce.w[0]);
	be64_put(p + 16, k->t.expiry);
	p += 24;
	memcpy(p, k->t.recipient_rand_hash, RELAYPAY_TAG_BYTES);
	p += RELAYPAY_TAG_BYTES;
	memcpy(p, k->sig, SECP_SIG_BYTES);
	return 0;
}

int relaypay_wire_decode(const uint8_t *in, size_t len,
			 struct relaypay_wire *out)
{
	struct relaypay_wire w;
	struct breader r;

	if (len < 1)
		return ERR_TRUNCATED;
	if (in[0] != RELAYPAY_WIRE_VERSION)
		return ERR_UNSUPPORTED;
	if (len < RELAYPAY_WIRE_BYTES)
		return ERR_TRUNCATED;
	if (len > RELAYPAY_WIRE_BYTES)
		return ERR_TOO_BIG;
	br_init(&r, in + 1, len - 1);
	if (secp_pk_parse(&w.eph, br_take(&r, SECP_PK_BYTES),
			  SECP_PK_BYTES) != 0)
		return ERR_FORMAT;
	if (u256_from_be(&w.face_value, br_take(&r, RELAYPAY_FACE_BYTES),
			 RELAYPAY_FACE_BYTES) != 0)
		return ERR_INTERNAL;
	w.win_top = br_be64(&r);
	w.nonce = br_be64(&r);
	w.expiry = br_be64(&r);
	br_copy(&r, w.tag, RELAYPAY_TAG_BYTES);
	br_copy(&r, w.sig, SECP_SIG_BYTES);
	if (!br_done(&r))
		return ERR_INTERNAL;
	if (u256_is_zero(&w.face_value) || w.win_top == 0 ||
	    (w.sig[64] != 27 && w.sig[64] != 28))
		return ERR_FORMAT;
	*out = w;
	return 0;
}

/* ---------------------------------------------------------------- draw */

bool relaypay_ticket_wins(const struct eip712_ticket *t,
			  const uint8_t sig[SECP_SIG_BYTES],
			  const uint8_t rand[32])
{
	uint8_t h[32];

	/* "if (t.recipientRandHash != randHash) revert BadRand();" */
	keccak256(h, rand, 32);
	if (memcmp(h, t->recipient_rand_hash, 32) != 0)
		return false;
	/* "if (uint256(_hashSigRand(sig, rand)) >= t.winProb) revert
	 * NotWinning();" */
	return hub_ticket_wins(t, sig, rand);
}

/* --------------------------------------------------------------- payee */

struct epoch {
	uint64_t id;
	uint8_t r[32];
	uint8_t commit[32];
	uint64_t start_s, end_s;
	struct relaypay_winner *w;
	size_t n, cap;
};

#define SEEN_KEY_BYTES (ETH_ADDR_BYTES + 8)

struct seen {
	uint8_t key[SEEN_KEY_BYTES];	/* signer ‖ nonce */
	uint64_t expiry;		/* 0: empty slot */
};

struct relaypay_payee {
	struct relaypay_policy pol;
	uint8_t sep[32];
	struct secp_sk view;
	struct secp_pk spend;
	struct epoch *ep;		/* oldest first; the last is current */
	size_t nep;
	uint64_t next_id;
	struct seen *set;
	size_t set_cap, set_n;
	uint8_t sipkey[SIPHASH_KEY_BYTES];
	struct relaypay_stats st;
};

const char *relaypay_reason_str(enum relaypay_reason r)
{
	switch (r) {
	case RELAYPAY_OK: return "ok";
	case RELAYPAY_MALFORMED: return "malformed";
	case RELAYPAY_UNKNOWN_EPOCH: return "unknown epoch";
	case RELAYPAY_BAD_SIG: return "bad signature";
	case RELAYPAY_EXPIRED: return "expired";
	case RELAYPAY_TTL_TOO_LONG: return "expiry beyond max paper TTL";
	case RELAYPAY_TOO_SHORT: return "expires before redemption";
	case RELAYPAY_FACE_TOO_LOW: return "face value under 100x cost";
	case RELAYPAY_REPLAY: return "replayed";
	case RELAYPAY_NO_POT: return "no funded pot";
	case RELAYPAY_UNLOCKING: return "pot unlocking";
	case RELAYPAY_EXPOSURE: return "exposure over escrow/8";
	case RELAYPAY_FULL: return "ticket table full";
	}
	return "?";
}

static void epoch_wipe(struct epoch *e)
{
	if (e->w) {
		memwipe(e->w, e->cap * sizeof(*e->w));
		free(e->w);
	}
	memwipe(e, sizeof(*e));
}

static void epoch_start(struct relaypay_payee *p, uint64_t now_s)
{
	struct epoch *e;

	p->ep = xrealloc(p->ep, (p->nep + 1) * sizeof(*p->ep));
	e = &p->ep[p->nep++];
	memset(e, 0, sizeof(*e));
	e->id = p->next_id++;
	rand_bytes(e->r, sizeof(e->r));
	/* recipientRandHash = keccak256(abi.encodePacked(rand)) */
	keccak256(e->commit, e->r, sizeof(e->r));
	e->start_s = now_s;
	e->end_s = now_s + p->pol.epoch_s;
}

struct relaypay_payee *relaypay_payee_new(const struct relaypay_policy *pol,
					  const uint8_t domain_sep[32],
					  const struct secp_sk *view,
					  const struct secp_pk *spend_pk,
					  uint64_t now_s)
{
	struct relaypay_payee *p = xcalloc(1, sizeof(*p));

	p->pol = *pol;
	if (p->pol.max_tickets < 16)
		p->pol.max_tickets = 16;
	memcpy(p->sep, domain_sep, 32);
	p->view = *view;
	p->spend = *spend_pk;
	rand_bytes(p->sipkey, sizeof(p->sipkey));
	p->set_cap = 64;
	p->set = xcalloc(p->set_cap, sizeof(*p->set));
	epoch_start(p, now_s);
	return p;
}

void relaypay_payee_free(struct relaypay_payee *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nep; i++)
		epoch_wipe(&p->ep[i]);
	free(p->ep);
	free(p->set);
	memwipe(p, sizeof(*p));
	free(p);
}

static struct epoch *cur(const struct relaypay_payee *p)
{
	return &p->ep[p->nep - 1];
}

void relaypay_payee_commitment(const struct relaypay_payee *p,
			       uint8_t out[32], uint64_t *end_s)
{
	memcpy(out, cur(p)->commit, 32);
	if (end_s)
		*end_s = cur(p)->end_s;
}

bool relaypay_payee_tick(struct relaypay_payee *p, uint64_t now_s)
{
	if (now_s < cur(p)->end_s)
		return false;
	epoch_start(p, now_s);
	return true;
}

/* Does epoch e still take tickets at now_s? */
static bool epoch_accepting(const struct relaypay_payee *p,
			    const struct epoch *e, uint64_t now_s)
{
	return e == cur(p) || now_s < e->end_s + p->pol.grace_s;
}

static struct epoch *epoch_by_tag(const struct relaypay_payee *p,
				  const uint8_t tag[RELAYPAY_TAG_BYTES],
				  uint64_t now_s)
{
	for (size_t i = p->nep; i-- > 0;)
		if (epoch_accepting(p, &p->ep[i], now_s) &&
		    memcmp(p->ep[i].commit, tag, RELAYPAY_TAG_BYTES) == 0)
			return &p->ep[i];
	return NULL;
}

static struct epoch *epoch_by_id(const struct relaypay_payee *p, uint64_t id)
{
	for (size_t i = 0; i < p->nep; i++)
		if (p->ep[i].id == id)
			return &p->ep[i];
	return NULL;
}

/* ------------------------------------------------------ replay set */

static void seen_key(uint8_t key[SEEN_KEY_BYTES], const uint8_t signer[20],
		     uint64_t nonce)
{
	memcpy(key, signer, ETH_ADDR_BYTES);
	be64_put(key + ETH_ADDR_BYTES, nonce);
}

static struct seen *seen_slot(const struct relaypay_payee *p,
			      struct seen *set, size_t cap,
			      const uint8_t key[SEEN_KEY_BYTES])
{
	size_t i = siphash24_u64(p->sipkey, key, SEEN_KEY_BYTES) & (cap - 1);

	while (set[i].expiry != 0 &&
	       memcmp(set[i].key, key, SEEN_KEY_BYTES) != 0)
		i = (i + 1) & (cap - 1);
	return &set[i];
}

static bool seen_has(const struct relaypay_payee *p,
		     const uint8_t key[SEEN_KEY_BYTES])
{
	return seen_slot(p, p->set, p->set_cap, key)->expiry != 0;
}

/* Rebuild the table without entries expired at now_s, at most a quarter
 * full, so as many inserts again come before the next rebuild. */
static void seen_rehash(struct relaypay_payee *p, uint64_t now_s)
{
	size_t live = 0, cap = 64;
	struct seen *n;

	for (size_t i = 0; i < p->set_cap; i++)
		live += p->set[i].expiry >= now_s;
	while (cap < 4 * (live + 1))
		cap *= 2;
	n = xcalloc(cap, sizeof(*n));
	for (size_t i = 0; i < p->set_cap; i++)
		if (p->set[i].expiry >= now_s)
			*seen_slot(p, n, cap, p->set[i].key) = p->set[i];
	free(p->set);
	p->set = n;
	p->set_cap = cap;
	p->set_n = live;
}

static int seen_add(struct relaypay_payee *p,
		    const uint8_t key[SEEN_KEY_BYTES], uint64_t expiry,
		    uint64_t now_s)
{
	struct seen *s;

	if (p->set_n >= p->pol.max_tickets ||
	    2 * (p->set_n + 1) > p->set_cap) {
		seen_rehash(p, now_s);	/* drops expired entries */
		if (p->set_n >= p->pol.max_tickets)
			return ERR_LIMIT;
	}
	s = seen_slot(p, p->set, p->set_cap, key);
	memcpy(s->key, key, SEEN_KEY_BYTES);
	s->expiry = expiry ? expiry : 1;
	p->set_n++;
	return 0;
}

/* ------------------------------------------------------ acceptance */

enum relaypay_reason relaypay_payee_check(const struct relaypay_payee *p,
					  const uint8_t *in, size_t len,
					  uint64_t now_s,
					  struct relaypay_checked *out)
{
	struct relaypay_checked c = { 0 };
	struct relaypay_wire w;
	struct u256 min_face;
	const struct epoch *e;
	uint8_t d[32], key[SEEN_KEY_BYTES];

	if (relaypay_wire_decode(in, len, &w) != 0)
		return RELAYPAY_MALFORMED;
	if (!(e = epoch_by_tag(p, w.tag, now_s)))
		return RELAYPAY_UNKNOWN_EPOCH;
	/* The recipient the payer must have signed: our stealth address
	 * for E.  A ticket to anyone else recovers to a signer with no pot. */
	if (stealth_derive(&p->view, &p->spend, &w.eph, c.t.recipient) != 0)
		return RELAYPAY_MALFORMED;
	c.t.face_value = w.face_value;
	c.t.win_prob = relaypay_win_prob(w.win_top);
	c.t.sender_nonce = u256_from_u64(w.nonce);
	memcpy(c.t.recipient_rand_hash, e->commit, 32);
	c.t.expiry = w.expiry;
	memcpy(c.sig, w.sig, SECP_SIG_BYTES);
	c.eph = w.eph;
	c.epoch_id = e->id;
	relaypay_ticket_digest(&c.t, p->sep, d);
	/* OZ ECDSA.recover: 65 bytes, low s, v 27/28, non-zero signer */
	if (secp_recover(d, c.sig, c.signer) != 0)
		return RELAYPAY_BAD_SIG;
	/* "expiry ≤ maxPaperTTL" (payees reject longer) */
	if (w.expiry <= now_s)
		return RELAYPAY_EXPIRED;
	if (w.expiry - now_s > p->pol.max_paper_ttl_s)
		return RELAYPAY_TTL_TOO_LONG;
	/* Winners are redeemed only after the epoch stops taking tickets. */
	if (w.expiry < e->end_s + p->pol.grace_s + p->pol.redeem_margin_s)
		return RELAYPAY_TOO_SHORT;
	/* "face value ≥ 100× redemption cost" */
	if (u256_mul_u64(&min_face, &p->pol.redeem_cost,
			 RELAYPAY_MIN_FACE_PER_COST) != 0 ||
	    u256_cmp(&w.face_value, &min_face) < 0)
		return RELAYPAY_FACE_TOO_LOW;
	seen_key(key, c.signer, w.nonce);
	if (seen_has(p, key))
		return RELAYPAY_REPLAY;
	*out = c;
	return RELAYPAY_OK;
}

struct u256 relaypay_payee_exposure(const struct relaypay_payee *p,
				    const uint8_t signer[ETH_ADDR_BYTES])
{
	struct u256 sum = { { 0 } };

	for (size_t i = 0; i < p->nep; i++)
		for (size_t j = 0; j < p->ep[i].n; j++)
			if (memcmp(p->ep[i].w[j].signer, signer,
				   ETH_ADDR_BYTES) == 0 &&
			    u256_add(&sum, &sum,
				     &p->ep[i].w[j].t.face_value) != 0)
				return (struct u256){ { ~0ull, ~0ull, ~0ull,
							~0ull } };
	return sum;
}

/* The pot part of the policy. */
static enum relaypay_reason pot_ok(const struct relaypay_payee *p,
				   const struct relaypay_checked *c,
				   const struct hub_pot *pot)
{
	static const uint8_t zero[ETH_ADDR_BYTES];
	struct u256 exp, exp8;

	if (memcmp(pot->funder, zero, sizeof(zero)) == 0 ||
	    u256_is_zero(&pot->deposit))
		return RELAYPAY_NO_POT;
	/* "pot not unlocking" */
	if (pot->unlock_at != 0)
		return RELAYPAY_UNLOCKING;
	/* "own outstanding exposure to the pot ≤ escrow / 8": the face
	 * values of our unredeemed winners from it, plus this ticket's
	 * should it win; and no more than the deposit can pay. */
	exp = relaypay_payee_exposure(p, c->signer);
	if (u256_add(&exp, &exp, &c->t.face_value) != 0 ||
	    u256_mul_u64(&exp8, &exp, RELAYPAY_EXPOSURE_ESCROW_DIV) != 0 ||
	    u256_cmp(&exp8, &pot->escrow) > 0 ||
	    u256_cmp(&exp, &pot->deposit) > 0)
		return RELAYPAY_EXPOSURE;
	return RELAYPAY_OK;
}

static void epoch_keep(struct epoch *e, const struct relaypay_checked *c)
{
	struct relaypay_winner *w;

	if (e->n == e->cap) {
		size_t ncap = e->cap ? 2 * e->cap : 8;
		struct relaypay_winner *nw = xcalloc(ncap, sizeof(*nw));

		if (e->n)
			memcpy(nw, e->w, e->n * sizeof(*nw));
		if (e->w) {
			memwipe(e->w, e->cap * sizeof(*e->w));
			free(e->w);
		}
		e->w = nw;
		e->cap = ncap;
	}
	w = &e->w[e->n++];
	w->t = c->t;
	memcpy(w->sig, c->sig, SECP_SIG_BYTES);
	w->eph = c->eph;
	memcpy(w->signer, c->signer, ETH_ADDR_BYTES);
}

enum relaypay_reason relaypay_payee_accept(struct relaypay_payee *p,
					   const struct relaypay_checked *c,
					   const struct hub_pot *pot,
					   uint64_t now_s, bool *won)
{
	uint8_t key[SEEN_KEY_BYTES];
	enum relaypay_reason why;
	struct epoch *e;
	bool win;

	if (!(e = epoch_by_id(p, c->epoch_id)) ||
	    !epoch_accepting(p, e, now_s)) {
		why = RELAYPAY_UNKNOWN_EPOCH;
		goto refuse;
	}
	if (c->t.expiry <= now_s) {
		why = RELAYPAY_EXPIRED;
		goto refuse;
	}
	if ((why = pot_ok(p, c, pot)) != RELAYPAY_OK)
		goto refuse;
	/* "a ticket nonce is used once": one draw per (signer, nonce) */
	seen_key(key, c->signer, c->t.sender_nonce.w[0]);
	if (seen_has(p, key)) {
		why = RELAYPAY_REPLAY;
		goto refuse;
	}
	if (seen_add(p, key, c->t.expiry, now_s) != 0) {
		why = RELAYPAY_FULL;
		goto refuse;
	}
	win = relaypay_ticket_wins(&c->t, c->sig, e->r);
	if (win) {
		epoch_keep(e, c);
		p->st.won++;
		(void)u256_add(&p->st.won_face, &p->st.won_face,
			       &c->t.face_value);
	}
	p->st.accepted++;
	if (won)
		*won = win;
	return RELAYPAY_OK;
refuse:
	p->st.refused++;
	return why;
}

void relaypay_payee_stats(const struct relaypay_payee *p,
			  struct relaypay_stats *out)
{
	*out = p->st;
}

/* ------------------------------------------------------ redemption */

static void epoch_remove(struct relaypay_payee *p, size_t i)
{
	epoch_wipe(&p->ep[i]);
	memmove(&p->ep[i], &p->ep[i + 1], (p->nep - i - 1) * sizeof(*p->ep));
	p->nep--;
}

int relaypay_payee_batch_take(struct relaypay_payee *p, uint64_t now_s,
			      struct relaypay_batch *b)
{
	size_t i = 0;

	while (i + 1 < p->nep) {	/* never the current epoch */
		struct epoch *e = &p->ep[i];
		size_t k = 0;

		if (now_s < e->end_s + p->pol.grace_s)
			break;		/* later ones ended later */
		/* a winner that expires before the batch lands reverts it */
		for (size_t j = 0; j < e->n; j++)
			if (e->w[j].t.expiry >= now_s + p->pol.redeem_margin_s)
				e->w[k++] = e->w[j];
		e->n = k;
		if (k == 0) {
			epoch_remove(p, i);
			continue;
		}
		b->epoch_id = e->id;
		memcpy(b->rand, e->r, 32);
		b->w = e->w;
		b->n = e->n;
		e->w = NULL;
		e->n = e->cap = 0;
		epoch_remove(p, i);
		return 0;
	}
	return ERR_NOT_FOUND;
}

void relaypay_batch_free(struct relaypay_batch *b)
{
	if (!b)
		return;
	if (b->w) {
		memwipe(b->w, b->n * sizeof(*b->w));
		free(b->w);
	}
	memwipe(b, sizeof(*b));
}

/* ------------------------------------------------------- persistence */

#define SAVE_MAGIC "RPAY"
#define SAVE_VERSION 1
/* recipient, face, winProb, nonce, randHash, expiry, sig, E, signer */
#define WINNER_BYTES (20 + 32 + 32 + 32 + 32 + 8 + 65 + 33 + 20)

static void put_u256(struct bbuf *b, const struct u256 *v)
{
	uint8_t w[32];

	u256_to_be(v, w);
	bbuf_put(b, w, sizeof(w));
}

static void get_u256(struct breader *r, struct u256 *v)
{
	const uint8_t *p = br_take(r, 32);

	if (p)
		(void)u256_from_be(v, p, 32);
}

static void put_winner(struct bbuf *out, const struct relaypay_winner *w)
{
	bbuf_put(out, w->t.recipient, 20);
	put_u256(out, &w->t.face_value);
	put_u256(out, &w->t.win_prob);
	put_u256(out, &w->t.sender_nonce);
	bbuf_put(out, w->t.recipient_rand_hash, 32);
	bbuf_be64(out, w->t.expiry);
	bbuf_put(out, w->sig, SECP_SIG_BYTES);
	bbuf_put(out, w->eph.b, SECP_PK_BYTES);
	bbuf_put(out, w->signer, 20);
}

/* An epoch to write: one of the payee's, or a batch taken from it. */
struct save_ep {
	uint64_t id;
	const uint8_t *r;
	uint64_t start_s, end_s;
	const struct relaypay_winner *w;
	size_t n;
};

void relaypay_payee_save_with(const struct relaypay_payee *p,
			      const struct relaypay_batch *const *b, size_t nb,
			      struct bbuf *out)
{
	struct save_ep *v = xcalloc(p->nep + nb, sizeof(*v));
	size_t nv = 0, live = 0, groups = 0;

	for (size_t i = 0; i < p->nep; i++)
		v[nv++] = (struct save_ep){ p->ep[i].id, p->ep[i].r,
			p->ep[i].start_s, p->ep[i].end_s, p->ep[i].w,
			p->ep[i].n };
	/* a batch is an epoch that has ended (start = end = 0): restored,
	 * it is taken again at once and accepts no ticket */
	for (size_t i = 0; i < nb; i++)
		if (b[i] && b[i]->n)
			v[nv++] = (struct save_ep){ b[i]->epoch_id, b[i]->rand,
				0, 0, b[i]->w, b[i]->n };
	/* by id (few: insertion sort), a stable order keeping the payee's
	 * own epoch first among equal ids */
	for (size_t i = 1; i < nv; i++)
		for (size_t k = i; k > 0 && v[k - 1].id > v[k].id; k--) {
			struct save_ep t = v[k - 1];

			v[k - 1] = v[k];
			v[k] = t;
		}
	for (size_t i = 0; i < nv; i++)
		groups += i == 0 || v[i].id != v[i - 1].id;
	bbuf_put(out, SAVE_MAGIC, 4);
	bbuf_u8(out, SAVE_VERSION);
	bbuf_be64(out, p->next_id);
	bbuf_be64(out, p->st.accepted);
	bbuf_be64(out, p->st.won);
	bbuf_be64(out, p->st.refused);
	put_u256(out, &p->st.won_face);
	bbuf_be32(out, (uint32_t)groups);
	for (size_t i = 0; i < nv;) {
		size_t k = i, n = 0;

		/* equal ids are one epoch (its winners split between the
		 * payee and a batch, or two batches) */
		while (k < nv && v[k].id == v[i].id)
			n += v[k++].n;
		bbuf_be64(out, v[i].id);
		bbuf_put(out, v[i].r, 32);
		bbuf_be64(out, v[i].start_s);
		bbuf_be64(out, v[i].end_s);
		bbuf_be32(out, (uint32_t)n);
		for (; i < k; i++)
			for (size_t j = 0; j < v[i].n; j++)
				put_winner(out, &v[i].w[j]);
	}
	free(v);
	for (size_t i = 0; i < p->set_cap; i++)
		live += p->set[i].expiry != 0;
	bbuf_be32(out, (uint32_t)live);
	for (size_t i = 0; i < p->set_cap; i++)
		if (p->set[i].expiry != 0) {
			bbuf_put(out, p->set[i].key, SEEN_KEY_BYTES);
			bbuf_be64(out, p->set[i].expiry);
		}
}

void relaypay_payee_save(const struct relaypay_payee *p, struct bbuf *out)
{
	relaypay_payee_save_with(p, NULL, 0, out);
}

/* One epoch from r into e (zeroed by the caller). */
static int load_epoch(struct breader *r, struct epoch *e)
{
	uint32_t n;

	e->id = br_be64(r);
	br_copy(r, e->r, 32);
	e->start_s = br_be64(r);
	e->end_s = br_be64(r);
	n = br_be32(r);
	if (r->failed)
		return ERR_TRUNCATED;
	if (n > RELAYPAY_SAVE_MAX_WINNERS)
		return ERR_TOO_BIG;
	if ((size_t)n * WINNER_BYTES > br_left(r))
		return ERR_TRUNCATED;
	keccak256(e->commit, e->r, 32);
	e->cap = n ? n : 0;
	e->w = n ? xcalloc(n, sizeof(*e->w)) : NULL;
	for (e->n = 0; e->n < n; e->n++) {
		struct relaypay_winner *w = &e->w[e->n];

		br_copy(r, w->t.recipient, 20);
		get_u256(r, &w->t.face_value);
		get_u256(r, &w->t.win_prob);
		get_u256(r, &w->t.sender_nonce);
		br_copy(r, w->t.recipient_rand_hash, 32);
		w->t.expiry = br_be64(r);
		br_copy(r, w->sig, SECP_SIG_BYTES);
		br_copy(r, w->eph.b, SECP_PK_BYTES);
		br_copy(r, w->signer, 20);
		if (r->failed)
			return ERR_TRUNCATED;
		if (memcmp(w->t.recipient_rand_hash, e->commit, 32) != 0)
			return ERR_FORMAT;
	}
	return 0;
}

int relaypay_payee_load(const struct relaypay_policy *pol,
			const uint8_t domain_sep[32],
			const struct secp_sk *view,
			const struct secp_pk *spend_pk,
			const uint8_t *in, size_t len,
			struct relaypay_payee **out)
{
	struct relaypay_payee *p = relaypay_payee_new(pol, domain_sep, view,
						      spend_pk, 0);
	struct breader r;
	uint32_t nep, nseen;
	uint8_t magic[4];
	int e = 0;

	/* drop the fresh epoch relaypay_payee_new() made */
	epoch_wipe(&p->ep[0]);
	p->nep = 0;
	br_init(&r, in, len);
	br_copy(&r, magic, 4);
	if (r.failed || memcmp(magic, SAVE_MAGIC, 4) != 0) {
		e = ERR_FORMAT;
		goto out;
	}
	if (br_u8(&r) != SAVE_VERSION) {
		e = r.failed ? ERR_TRUNCATED : ERR_UNSUPPORTED;
		goto out;
	}
	p->next_id = br_be64(&r);
	p->st.accepted = br_be64(&r);
	p->st.won = br_be64(&r);
	p->st.refused = br_be64(&r);
	get_u256(&r, &p->st.won_face);
	nep = br_be32(&r);
	if (r.failed) {
		e = ERR_TRUNCATED;
		goto out;
	}
	/* at least the current epoch; ids below next_id, increasing */
	if (nep == 0 || nep > RELAYPAY_SAVE_MAX_EPOCHS) {
		e = nep ? ERR_TOO_BIG : ERR_FORMAT;
		goto out;
	}
	p->ep = xrealloc(p->ep, nep * sizeof(*p->ep));
	for (uint32_t i = 0; i < nep && e == 0; i++) {
		memset(&p->ep[i], 0, sizeof(p->ep[i]));
		p->nep++;
		if ((e = load_epoch(&r, &p->ep[i])) == 0 &&
		    (p->ep[i].id >= p->next_id ||
		     (i && p->ep[i].id <= p->ep[i - 1].id)))
			e = ERR_FORMAT;
	}
	if (e)
		goto out;
	nseen = br_be32(&r);
	if (r.failed) {
		e = ERR_TRUNCATED;
		goto out;
	}
	if (nseen > p->pol.max_tickets) {
		e = ERR_TOO_BIG;
		goto out;
	}
	if ((size_t)nseen * (SEEN_KEY_BYTES + 8) != br_left(&r)) {
		e = ERR_FORMAT;
		goto out;
	}
	for (uint32_t i = 0; i < nseen; i++) {
		uint8_t key[SEEN_KEY_BYTES];
		uint64_t exp;

		br_copy(&r, key, sizeof(key));
		exp = br_be64(&r);
		if (exp == 0 || seen_has(p, key)) {
			e = ERR_FORMAT;
			goto out;
		}
		/* now 0: nothing is dropped as expired while loading */
		if (seen_add(p, key, exp, 0) != 0) {
			e = ERR_TOO_BIG;
			goto out;
		}
	}
	*out = p;
	p = NULL;
out:
	relaypay_payee_free(p);
	return e;
}

void relaypay_retry_line_format(const struct secp_pk *eph, unsigned rounds,
				struct bbuf *out)
{
	char line[RELAYPAY_RETRY_LINE_MAX + 1];
	int n;

	(void)hex_encode(line, 2 * SECP_PK_BYTES + 1, eph->b, SECP_PK_BYTES);
	n = snprintf(line + 2 * SECP_PK_BYTES,
		     sizeof(line) - 2 * SECP_PK_BYTES, " %u\n", rounds);
	bbuf_put(out, line, 2 * SECP_PK_BYTES + (size_t)n);
}

int relaypay_retry_line_parse(const char *s, size_t len,
			      unsigned max_rounds, struct secp_pk *eph,
			      unsigned *rounds)
{
	uint8_t b[SECP_PK_BYTES];
	size_t got;
	unsigned r = 0;

	/* E, a space, 1-3 digits */
	if (len < 2 * SECP_PK_BYTES + 2 || len > 2 * SECP_PK_BYTES + 4 ||
	    s[2 * SECP_PK_BYTES] != ' ' ||
	    hex_decode(b, sizeof(b), &got, s, 2 * SECP_PK_BYTES) != 0 ||
	    got != SECP_PK_BYTES)
		return ERR_FORMAT;
	for (size_t i = 2 * SECP_PK_BYTES + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ERR_FORMAT;
		r = r * 10 + (unsigned)(s[i] - '0');
	}
	if (r >= max_rounds || secp_pk_parse(eph, b, got) != 0)
		return ERR_FORMAT;
	*rounds = r;
	return 0;
}

/* ---- the pot states read ---- */

struct potcache_entry {
	uint8_t signer[ETH_ADDR_BYTES];
	struct hub_pot pot;
	uint64_t read_s;
};

struct relaypay_potcache {
	struct potcache_entry *e;
	size_t n, cap, max;
};

struct relaypay_potcache *relaypay_potcache_new(size_t max)
{
	struct relaypay_potcache *c = xzalloc(sizeof(*c));

	c->max = max ? max : 1;
	return c;
}

void relaypay_potcache_free(struct relaypay_potcache *c)
{
	if (!c)
		return;
	free(c->e);
	free(c);
}

static struct potcache_entry *potcache_find(const struct relaypay_potcache *c,
					    const uint8_t signer[ETH_ADDR_BYTES])
{
	for (size_t i = 0; i < c->n; i++)
		if (memcmp(c->e[i].signer, signer, ETH_ADDR_BYTES) == 0)
			return &c->e[i];
	return NULL;
}

const struct hub_pot *relaypay_potcache_get(const struct relaypay_potcache *c,
					    const uint8_t signer[ETH_ADDR_BYTES],
					    uint64_t *read_s)
{
	const struct potcache_entry *e = potcache_find(c, signer);

	if (e && read_s)
		*read_s = e->read_s;
	return e ? &e->pot : NULL;
}

void relaypay_potcache_put(struct relaypay_potcache *c,
			   const uint8_t signer[ETH_ADDR_BYTES],
			   const struct hub_pot *pot, uint64_t now_s)
{
	struct potcache_entry *e = potcache_find(c, signer);

	if (!e && c->n == c->max) {
		e = &c->e[0];
		for (size_t i = 1; i < c->n; i++)
			if (c->e[i].read_s < e->read_s)
				e = &c->e[i];
	} else if (!e) {
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 16;
			if (c->cap > c->max)
				c->cap = c->max;
			c->e = xrealloc(c->e, c->cap * sizeof(*c->e));
		}
		e = &c->e[c->n++];
	}
	memcpy(e->signer, signer, ETH_ADDR_BYTES);
	e->pot = *pot;
	e->read_s = now_s;
}

size_t relaypay_potcache_prune(struct relaypay_potcache *c, uint64_t now_s,
			       uint64_t max_age_s)
{
	size_t keep = 0, n = c->n;

	for (size_t i = 0; i < n; i++)
		if (c->e[i].read_s + max_age_s > now_s)
			c->e[keep++] = c->e[i];
	c->n = keep;
	if (!keep) {
		FREE_AND_NULL(free, c->e);
		c->cap = 0;
	}
	return n - keep;
}

size_t relaypay_potcache_count(const struct relaypay_potcache *c)
{
	return c->n;
}
