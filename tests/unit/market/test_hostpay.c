/*
 * apps/market hosts paid per epoch (hostpay.h, CHAIN.md §5 flow 4
 * "Hosters: same, paid by the creator per epoch"): a creator paying a
 * host epoch by epoch through the host's requests, and what the host
 * refuses: a forged voucher (bad signature, another signer on the lane),
 * a replayed one, one over the pot's exposure cap, one for content not
 * held; what the creator refuses: a price over its maximum, an epoch past
 * its budget, a content the host does not hold or a chunk it cannot prove
 * (SHA-256 of the creator's challenge and the chunk: not paid); a lane the host
 * gave up replaced, its spending still counted against the budget; a host
 * restarted with its vouchers kept goes on with the creator's lane.
 */
#include "config.h"

#include <string.h>

#include "apps/market/hostpay.h"
#include "crypto/base/err.h"
#include "tests/unit/tharness.h"

#define NOW 1700000000u
#define EPOCH_S 3600u

#define CHUNKS 4

/* The content's chunks, as the creator and an honest host hold them. */
static void chunk_of(uint32_t idx, uint8_t out[100])
{
	memset(out, 0x30 + (int)idx, 100);
}

struct host {
	struct secp_sk spend, view;
	struct secp_pk spend_pk;
	struct chunkpay_payee *pe;
	struct hostpay_host *h;
	bool held;
	bool lies;			/* proves over bytes it does not hold */
};

static bool held(void *ctx, const uint8_t hash[32])
{
	(void)hash;
	return ((struct host *)ctx)->held;
}

static int prove(void *ctx, const uint8_t hash[32],
		 const uint8_t challenge[HOSTPAY_CHALLENGE_BYTES],
		 uint32_t idx, uint8_t proof[HOSTPAY_PROOF_BYTES])
{
	struct host *h = ctx;
	uint8_t c[100];

	(void)hash;
	if (idx >= CHUNKS)
		return ERR_NOT_FOUND;
	chunk_of(h->lies ? idx + 1 : idx, c);
	hostpay_proof(challenge, idx, c, sizeof(c), proof);
	return 0;
}

/* The payee's policy (the seeder's, per chunk: the host's price is its
 * own). */
static void host_policy(struct chunkpay_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->price = u256_from_u64(7);
	pol->credit = 16;
	pol->max_paper_ttl_s = 12 * 3600;
	pol->min_ttl_s = 600;
	pol->redeem_cost = u256_from_u64(1);
}

static void host_init(struct tctx *t, struct host *h, const uint8_t sep[32],
		      uint64_t price)
{
	struct chunkpay_policy pol;
	struct u256 p = u256_from_u64(price);

	memset(h, 0, sizeof(*h));
	host_policy(&pol);
	secp_sk_generate(&h->spend);
	secp_sk_generate(&h->view);
	T_OK(t, secp_sk_pubkey(&h->spend, &h->spend_pk));
	h->pe = chunkpay_payee_new(&pol, sep, &h->view, &h->spend_pk);
	h->h = hostpay_host_new(h->pe, &p, held, prove, h);
	h->held = true;
}

static void host_free(struct host *h)
{
	hostpay_host_free(h->h);
	chunkpay_payee_free(h->pe);
}

static void pot_of(struct host *h, const struct secp_sk *pot,
		   uint64_t escrow)
{
	struct hub_pot hp;
	uint8_t a[20];

	memset(&hp, 0, sizeof(hp));
	hp.deposit = u256_from_u64(1000000);
	hp.escrow = u256_from_u64(escrow);
	(void)secp_sk_address(pot, a);
	(void)chunkpay_payee_pot_set(h->pe, a, &hp, NOW);
}

/* One request to the host; its answer in out (reset first). */
static enum chunkpay_reason ask(struct host *h, const uint8_t peer[32],
				const uint8_t *req, size_t len, uint64_t now,
				struct bbuf *out)
{
	uint8_t signer[20];

	bbuf_reset(out);
	return hostpay_host_request(h->h, peer, req, len, now, out, signer);
}

/*
 * One epoch's end: TERMS, then the voucher the creator signs, sent.
 * Returns the creator's verdict on the terms (0: a voucher was sent) and
 * its verdict on the host's answer in *vr; the voucher request in vreq.
 */
static int epoch(struct tctx *t, struct hostpay_creator *c, struct host *h,
		 const uint8_t peer[32], const uint8_t hash[32], uint64_t now,
		 int *vr, uint8_t vreq[HOSTPAY_VOUCHER_REQ_BYTES])
{
	uint8_t treq[HOSTPAY_TERMS_REQ_BYTES], ch[HOSTPAY_CHALLENGE_BYTES];
	uint8_t chunk[100], expect[HOSTPAY_PROOF_BYTES];
	uint32_t idx = (uint32_t)(now / EPOCH_S) % CHUNKS;
	struct bbuf out = BBUF_INIT;
	int r;

	/* a fresh challenge for a chunk, proved from our own copy */
	memset(ch, (int)(now & 0xff), sizeof(ch));
	chunk_of(idx, chunk);
	hostpay_proof(ch, idx, chunk, sizeof(chunk), expect);
	hostpay_terms_request(hash, ch, idx, treq);
	T_EQ(t, ask(h, peer, treq, sizeof(treq), now, &out), CHUNKPAY_OK);
	r = hostpay_creator_terms(c, peer, hash, expect, out.data, out.len,
				  now, vreq);
	if (r == 0) {
		(void)ask(h, peer, vreq, HOSTPAY_VOUCHER_REQ_BYTES, now, &out);
		*vr = hostpay_creator_voucher_reply(c, peer, hash, out.data,
						    out.len);
	}
	bbuf_free(&out);
	return r;
}

/* The hub's domain, the creator's destination and the content. */
static void ids(uint8_t sep[32], uint8_t peer[32], uint8_t hash[32])
{
	memset(sep, 0x5e, 32);
	memset(peer, 0xc1, 32);
	memset(hash, 0x42, 32);
}

static void creator_cfg(struct hostpay_creator_config *cc, uint64_t max,
			uint64_t budget)
{
	memset(cc, 0, sizeof(*cc));
	cc->max_price = u256_from_u64(max);
	cc->budget = u256_from_u64(budget);
	cc->ttl_s = 3600;
}

static bool u256_is(const struct u256 *a, uint64_t v)
{
	struct u256 b = u256_from_u64(v);

	return u256_cmp(a, &b) == 0;
}

/* Three epochs paid, each voucher the cumulative of the epochs held; the
 * host's figures are its own (not the seeder's lanes). */
static void test_epochs(struct tctx *t)
{
	struct hostpay_creator_config cc;
	struct hostpay_creator *c;
	struct hostpay_creator_stats cs;
	struct hostpay_host_stats hs;
	struct hostpay_deal_info di;
	struct host h;
	struct secp_sk pot;
	struct chunkpay_batch b;
	uint8_t sep[32], peer[32], hash[32], vreq[HOSTPAY_VOUCHER_REQ_BYTES];
	uint32_t seeder_lane;
	int vr = 1;

	ids(sep, peer, hash);
	host_init(t, &h, sep, 500);
	secp_sk_generate(&pot);
	creator_cfg(&cc, 1000, 0);
	c = hostpay_creator_new(&cc, &pot, sep);
	T_OK(t, chunkpay_session_open(h.pe, &seeder_lane));

	/* the pot not known yet: kept, pending its read */
	T_OK(t, epoch(t, c, &h, peer, hash, NOW, &vr, vreq));
	T_OK(t, vr);
	hostpay_host_stats(h.h, &hs);
	T_EQ(t, hs.vouchers_pending, 1);
	T_TRUE(t, u256_is(&hs.earned, 0));
	pot_of(&h, &pot, 8 * 100000);
	hostpay_host_stats(h.h, &hs);
	T_TRUE(t, u256_is(&hs.earned, 500));
	for (unsigned e = 1; e < 3; e++) {
		T_OK(t, epoch(t, c, &h, peer, hash, NOW + e * EPOCH_S, &vr,
			      vreq));
		T_OK(t, vr);
	}
	hostpay_host_stats(h.h, &hs);
	T_EQ(t, hs.terms_sent, 3);
	T_EQ(t, hs.vouchers_ok, 2);
	T_EQ(t, hs.lanes, 1);
	T_TRUE(t, u256_is(&hs.earned, 1500));
	T_TRUE(t, u256_is(&hs.redeemed, 0));
	T_FALSE(t, hostpay_host_has_lane(h.h, seeder_lane));
	hostpay_creator_stats(c, &cs);
	T_EQ(t, cs.epochs_paid, 3);
	T_EQ(t, cs.vouchers_ok, 3);
	T_TRUE(t, u256_is(&cs.paid, 1500));
	T_EQ(t, hostpay_creator_deals(c, &di, 1), 1);
	T_EQ(t, di.epochs, 3);
	T_TRUE(t, u256_is(&di.paid, 1500));
	T_TRUE(t, u256_is(&di.price, 500));
	/* the payee redeems it with the seeder's vouchers, whole */
	T_OK(t, chunkpay_payee_batch(h.pe, true, &b));
	T_EQ(t, b.n, 1);
	T_TRUE(t, u256_is(&b.total, 1500));
	T_MEMEQ(t, b.v[0].recipient, di.recipient, 20);
	chunkpay_payee_redeemed(h.pe, &b);
	chunkpay_batch_free(&b);
	hostpay_host_stats(h.h, &hs);
	T_TRUE(t, u256_is(&hs.redeemed, 1500));
	T_TRUE(t, u256_is(&hs.earned, 1500));

	/* a chunk past the content's end: not hosted */
	{
		uint8_t ch[HOSTPAY_CHALLENGE_BYTES] = { 0 };
		uint8_t treq[HOSTPAY_TERMS_REQ_BYTES];
		struct bbuf out = BBUF_INIT;

		hostpay_terms_request(hash, ch, CHUNKS, treq);
		(void)ask(&h, peer, treq, sizeof(treq), NOW, &out);
		T_EQ(t, out.len, 1);
		T_EQ(t, out.data[0], HOSTPAY_NOT_HOSTED);
		bbuf_free(&out);
	}
	/* not held whole: no terms, that epoch not paid */
	h.held = false;
	T_ERR(t, epoch(t, c, &h, peer, hash, NOW + 3 * EPOCH_S, &vr, vreq),
	      ERR_NOT_FOUND);
	hostpay_creator_stats(c, &cs);
	T_EQ(t, cs.not_hosted, 1);
	T_EQ(t, cs.epochs_paid, 3);
	hostpay_creator_free(c);
	host_free(&h);
}

/* Forged, replayed and over-budget vouchers are refused by the host. */
static void test_refused(struct tctx *t)
{
	struct hostpay_creator_config cc;
	struct hostpay_creator *c, *other;
	struct hostpay_host_stats hs;
	struct host h;
	struct secp_sk pot, pot2;
	struct bbuf out = BBUF_INIT;
	uint8_t sep[32], peer[32], hash[32];
	uint8_t v1[HOSTPAY_VOUCHER_REQ_BYTES], v2[HOSTPAY_VOUCHER_REQ_BYTES];
	uint8_t bad[HOSTPAY_VOUCHER_REQ_BYTES], treq[HOSTPAY_TERMS_REQ_BYTES];
	int vr = 1;

	ids(sep, peer, hash);
	host_init(t, &h, sep, 500);
	secp_sk_generate(&pot);
	secp_sk_generate(&pot2);
	pot_of(&h, &pot, 8 * 1200);	/* exposure ≤ 1200: two epochs */
	pot_of(&h, &pot2, 8 * 100000);
	creator_cfg(&cc, 1000, 0);
	c = hostpay_creator_new(&cc, &pot, sep);

	T_OK(t, epoch(t, c, &h, peer, hash, NOW, &vr, v1));
	T_OK(t, vr);
	/* replayed: the same voucher again */
	T_EQ(t, ask(&h, peer, v1, sizeof(v1), NOW, &out), CHUNKPAY_STALE);
	T_EQ(t, out.len, 2);
	T_EQ(t, out.data[0], HOSTPAY_REFUSED);
	/* forged: the signature changed (recovers to no one, or to
	 * another signer than the lane's) */
	memcpy(bad, v1, sizeof(bad));
	bad[sizeof(bad) - 10] ^= 0x55;
	enum chunkpay_reason why = ask(&h, peer, bad, sizeof(bad), NOW, &out);
	T_TRUE(t, why == CHUNKPAY_BAD_SIG || why == CHUNKPAY_WRONG_LANE);
	/* forged: a higher cumulative with the old signature */
	memcpy(bad, v1, sizeof(bad));
	bad[1 + 32 + 1 + 33 + 32 + 11] ^= 0x01;	/* cumulative's last byte */
	why = ask(&h, peer, bad, sizeof(bad), NOW, &out);
	T_TRUE(t, why == CHUNKPAY_BAD_SIG || why == CHUNKPAY_WRONG_LANE);
	/* another creator's pot signing on this lane: its voucher on our
	 * lane is refused (the lane is bound to its signer) */
	other = hostpay_creator_new(&cc, &pot2, sep);
	{
		uint8_t ch[HOSTPAY_CHALLENGE_BYTES] = { 1 }, c0[100];
		uint8_t expect[HOSTPAY_PROOF_BYTES];

		chunk_of(0, c0);
		hostpay_proof(ch, 0, c0, sizeof(c0), expect);
		hostpay_terms_request(hash, ch, 0, treq);
		(void)ask(&h, peer, treq, sizeof(treq), NOW, &out);
		T_OK(t, hostpay_creator_terms(other, peer, hash, expect,
					      out.data, out.len, NOW, v2));
	}
	memcpy(v2 + 1 + 32 + 1 + 33, v1 + 1 + 32 + 1 + 33, 32);	/* lane */
	why = ask(&h, peer, v2, sizeof(v2), NOW, &out);
	T_TRUE(t, why == CHUNKPAY_BAD_SIG || why == CHUNKPAY_WRONG_LANE);
	/* a malformed request */
	T_EQ(t, ask(&h, peer, v1, sizeof(v1) - 1, NOW, &out),
	     CHUNKPAY_MALFORMED);
	T_EQ(t, out.data[0], HOSTPAY_BAD_REQUEST);
	/* over the pot's budget for us: exposure over escrow / 8 (1200):
	 * 1000 held, a third epoch would be 1500 */
	T_OK(t, epoch(t, c, &h, peer, hash, NOW + EPOCH_S, &vr, v1));
	T_OK(t, vr);
	T_OK(t, epoch(t, c, &h, peer, hash, NOW + 2 * EPOCH_S, &vr, v1));
	T_ERR(t, vr, ERR_PROTOCOL);
	hostpay_host_stats(h.h, &hs);
	T_TRUE(t, u256_is(&hs.earned, 1000));
	T_EQ(t, hs.lanes, 1);		/* refused new lanes left nothing */
	T_EQ(t, hs.vouchers_ok, 2);
	/* content not held: a voucher for it is not taken */
	h.held = false;
	T_EQ(t, ask(&h, peer, v1, sizeof(v1), NOW, &out), CHUNKPAY_OK);
	T_EQ(t, out.len, 1);
	T_EQ(t, out.data[0], HOSTPAY_NOT_HOSTED);
	bbuf_free(&out);
	hostpay_creator_free(other);
	hostpay_creator_free(c);
	host_free(&h);
}

/* The creator's side: its maximum price, its budget, a lane replaced. */
static void test_creator(struct tctx *t)
{
	struct hostpay_creator_config cc;
	struct hostpay_creator *c;
	struct hostpay_creator_stats cs;
	struct hostpay_deal_info di;
	struct host h, dear;
	struct secp_sk pot;
	uint8_t sep[32], peer[32], hash[32], vreq[HOSTPAY_VOUCHER_REQ_BYTES];
	uint8_t stale[2] = { HOSTPAY_REFUSED, CHUNKPAY_STALE };
	int vr = 1;

	ids(sep, peer, hash);
	host_init(t, &h, sep, 500);
	host_init(t, &dear, sep, 1001);
	secp_sk_generate(&pot);
	pot_of(&h, &pot, 8 * 100000);
	creator_cfg(&cc, 1000, 1700);	/* three epochs of 500 fit */
	c = hostpay_creator_new(&cc, &pot, sep);
	T_ERR(t, epoch(t, c, &dear, peer, hash, NOW, &vr, vreq), ERR_RANGE);
	T_ERR(t, hostpay_creator_terms(c, peer, hash, vreq,
				       (const uint8_t *)"\0", 1, NOW, vreq),
	      ERR_TRUNCATED);
	/* a host that does not hold the chunk asked: its proof is wrong,
	 * the epoch is not paid */
	h.lies = true;
	T_ERR(t, epoch(t, c, &h, peer, hash, NOW, &vr, vreq), ERR_AUTH);
	h.lies = false;
	T_OK(t, epoch(t, c, &h, peer, hash, NOW, &vr, vreq));
	T_OK(t, vr);
	/* the host says it no longer follows the lane: a new one */
	T_ERR(t, hostpay_creator_voucher_reply(c, peer, hash, stale, 2),
	      ERR_BAD_SIG);
	T_OK(t, epoch(t, c, &h, peer, hash, NOW + EPOCH_S, &vr, vreq));
	T_OK(t, vr);
	T_OK(t, epoch(t, c, &h, peer, hash, NOW + 2 * EPOCH_S, &vr, vreq));
	T_OK(t, vr);
	/* 1500 signed; another 500 is over the budget of 1700 */
	T_ERR(t, epoch(t, c, &h, peer, hash, NOW + 3 * EPOCH_S, &vr, vreq),
	      ERR_LIMIT);
	hostpay_creator_stats(c, &cs);
	T_EQ(t, cs.terms_refused, 1);
	T_EQ(t, cs.proofs_failed, 1);
	T_EQ(t, cs.over_budget, 1);
	T_EQ(t, cs.epochs_paid, 3);
	T_EQ(t, hostpay_creator_deals(c, &di, 1), 1);
	T_TRUE(t, u256_is(&di.paid, 1500));
	hostpay_creator_free(c);
	host_free(&dear);
	host_free(&h);
}

/* The host restarts with its vouchers kept (the seeder's file) and its
 * lanes (hostpay's): the restored lane is the host's at once, the
 * creator's next voucher goes on with it, one lane owed. */
static void test_restart(struct tctx *t)
{
	struct hostpay_creator_config cc;
	struct hostpay_creator *c;
	struct hostpay_host_stats hs;
	struct chunkpay_saved *sv = NULL;
	struct chunkpay_policy pol;
	struct bbuf kept = BBUF_INIT;
	struct chunkpay_batch b;
	struct host h;
	struct secp_sk pot;
	struct u256 p = u256_from_u64(500);
	uint8_t sep[32], peer[32], hash[32], vreq[HOSTPAY_VOUCHER_REQ_BYTES];
	size_t n;
	int vr = 1;

	ids(sep, peer, hash);
	host_init(t, &h, sep, 500);
	secp_sk_generate(&pot);
	pot_of(&h, &pot, 8 * 100000);
	creator_cfg(&cc, 1000, 0);
	c = hostpay_creator_new(&cc, &pot, sep);
	for (unsigned e = 0; e < 2; e++) {
		T_OK(t, epoch(t, c, &h, peer, hash, NOW + e * EPOCH_S, &vr,
			      vreq));
		T_OK(t, vr);
	}
	/* the vouchers and the host's lanes kept, the host gone and back
	 * with the same keys */
	n = chunkpay_payee_saved(h.pe, &sv);
	T_EQ(t, n, 1);
	hostpay_host_lanes_encode(h.h, &kept);
	T_EQ(t, kept.len, 8 + HOSTPAY_LANE_REC_BYTES);
	hostpay_host_free(h.h);
	chunkpay_payee_free(h.pe);
	host_policy(&pol);
	h.pe = chunkpay_payee_new(&pol, sep, &h.view, &h.spend_pk);
	h.h = hostpay_host_new(h.pe, &p, held, prove, &h);
	T_OK(t, chunkpay_payee_restore(h.pe, &sv[0], NOW + EPOCH_S));
	free(sv);
	pot_of(&h, &pot, 8 * 100000);
	hostpay_host_stats(h.h, &hs);
	T_EQ(t, hs.lanes, 0);		/* not known as the host's yet */
	/* a bad file adopts nothing; the kept one adopts the lane */
	T_ERR(t, hostpay_host_lanes_load(h.h, kept.data, kept.len - 1, &n),
	      ERR_TRUNCATED);
	kept.data[0] ^= 1;
	T_ERR(t, hostpay_host_lanes_load(h.h, kept.data, kept.len, &n),
	      ERR_FORMAT);
	kept.data[0] ^= 1;
	T_OK(t, hostpay_host_lanes_load(h.h, kept.data, kept.len, &n));
	T_EQ(t, n, 1);
	T_OK(t, hostpay_host_lanes_load(h.h, kept.data, kept.len, &n));
	T_EQ(t, n, 0);			/* followed already */
	bbuf_free(&kept);
	hostpay_host_stats(h.h, &hs);
	T_EQ(t, hs.lanes, 1);		/* the host's at once */
	T_TRUE(t, u256_is(&hs.earned, 1000));
	T_OK(t, epoch(t, c, &h, peer, hash, NOW + 2 * EPOCH_S, &vr, vreq));
	T_OK(t, vr);
	hostpay_host_stats(h.h, &hs);
	T_EQ(t, hs.lanes, 1);
	T_TRUE(t, u256_is(&hs.earned, 1500));
	/* one lane owed, its latest voucher: no second lane of the key */
	T_OK(t, chunkpay_payee_batch(h.pe, true, &b));
	T_EQ(t, b.n, 1);
	T_TRUE(t, u256_is(&b.total, 1500));
	chunkpay_batch_free(&b);
	hostpay_creator_free(c);
	host_free(&h);
}

const struct test_case market_hostpay_tests[] = {
	{ "epochs", test_epochs, 0 },
	{ "refused", test_refused, 0 },
	{ "creator", test_creator, 0 },
	{ "restart", test_restart, 0 },
	{ NULL, NULL, 0 }
};
