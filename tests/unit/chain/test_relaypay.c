/*
 * chain/relaypay: winProb sizing, tickets to the CHAIN.md §4 stealth
 * vector, the wire format and its refusals, and the payee's acceptance
 * policy, replay refusal, epochs and batches.  The draw is recomputed
 * here from the revealed r_epoch for every ticket; the digest and the
 * draw are checked against PaymentHub itself in
 * tests/integration/test_relaypay_anvil.sh.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/relaypay.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/keccak.h"

#include <string.h>

#define T0 1800000000ull	/* a fixed "now" */

/* CHAIN.md §4: p_spend = 0x11…, p_view = 0x22…, e = 0x33… → stealth
 * 0xD8606eD2ecDB71fdcb8cCA8fA1925ff84238f2a9. */
static const uint8_t vec_addr[20] = {
	0xD8, 0x60, 0x6e, 0xD2, 0xec, 0xDB, 0x71, 0xfd, 0xcb, 0x8c,
	0xCA, 0x8f, 0xA1, 0x92, 0x5f, 0xf8, 0x42, 0x38, 0xf2, 0xa9
};

struct fix {
	struct secp_sk spend, view, pot;
	struct stealth_meta meta;
	uint8_t pot_addr[20];
	uint8_t sep[32];
	struct relaypay_policy pol;
	struct relaypay_price price;
	struct hub_pot pot_state;
	struct relaypay_payee *payee;
};

static void fix_init(struct tctx *t, struct fix *f)
{
	struct eip712_domain d = { .name = EIP712_NAME_HUB, .chain_id = 31337 };

	memset(f, 0, sizeof(*f));
	memset(f->spend.b, 0x11, 32);
	memset(f->view.b, 0x22, 32);
	memset(f->pot.b, 0x44, 32);
	memset(d.verifying, 0x55, 20);
	eip712_domain_separator(&d, f->sep);
	T_OK(t, stealth_meta_from_keys(&f->meta, &f->spend, &f->view));
	T_OK(t, secp_sk_address(&f->pot, f->pot_addr));
	f->pol = (struct relaypay_policy){
		.max_paper_ttl_s = 12 * 3600, .redeem_cost = u256_from_u64(1000),
		.epoch_s = 3600, .grace_s = 600, .redeem_margin_s = 600,
		.max_tickets = 1000,
	};
	/* 1 GiB is worth 10^6 at face 10^6: 1 MiB wins with p = 2^-10 */
	f->price = (struct relaypay_price){
		.price_per_gib = u256_from_u64(1000000),
		.face_value = u256_from_u64(1000000), .ttl_s = 6 * 3600,
	};
	f->pot_state = (struct hub_pot){
		.deposit = u256_from_u64(100000000), .escrow = u256_from_u64(80000000),
	};
	memset(f->pot_state.funder, 0x66, 20);
	f->payee = relaypay_payee_new(&f->pol, f->sep, &f->view, &f->meta.spend, T0);
}

/* A hop info for the payee's current epoch. */
static struct relaypay_hop_info hop_of(struct fix *f)
{
	struct relaypay_hop_info h = { .meta = f->meta };

	relaypay_payee_commitment(f->payee, h.commitment, NULL);
	return h;
}

static void make_wire(struct tctx *t, struct fix *f, uint64_t bytes,
		      uint64_t nonce, uint64_t now, uint8_t w[RELAYPAY_WIRE_BYTES])
{
	struct relaypay_hop_info h = hop_of(f);
	struct relaypay_ticket k;

	T_OK(t, relaypay_ticket_make(&k, &f->pot, f->sep, &h, &f->price, bytes,
				     nonce, now, NULL));
	T_OK(t, relaypay_wire_encode(&k, w));
}

static void test_win_top(struct tctx *t)
{
	struct u256 face = u256_from_u64(1ull << 40), price = u256_from_u64(1000);
	uint64_t top;

	/* 1 GiB at 1000 per GiB, face 2^40: top = 1000 × 2^64 / 2^40 */
	T_OK(t, relaypay_win_top(&top, &face, &price, 1ull << 30));
	T_EQ(t, top, 1000ull << 24);
	/* 1 and 3 bytes: 1000 × 2^34 / 2^40 = 15.625 → 16, 46.875 → 47 */
	T_OK(t, relaypay_win_top(&top, &face, &price, 1));
	T_EQ(t, top, 16);
	T_OK(t, relaypay_win_top(&top, &face, &price, 3));
	T_EQ(t, top, 47);
	/* worth 2^-6 of the smallest step: rounded up, never zero */
	price = u256_from_u64(1);
	T_OK(t, relaypay_win_top(&top, &face, &price, 1));
	T_EQ(t, top, 1);
	/* a face value over 64 bits: 2^70, 1 GiB at 2^40 → 2^34 */
	face = (struct u256){ { 0, 1ull << 6, 0, 0 } };
	price = u256_from_u64(1ull << 40);
	T_OK(t, relaypay_win_top(&top, &face, &price, 1ull << 30));
	T_EQ(t, top, 1ull << 34);
	/* worth more than the face value: refused */
	face = u256_from_u64(1000);
	price = u256_from_u64(1000);
	T_ERR(t, relaypay_win_top(&top, &face, &price, 2ull << 30), ERR_RANGE);
	face = u256_from_u64(0);
	T_ERR(t, relaypay_win_top(&top, &face, &price, 1), ERR_ARG);
	/* the most one ticket pays for: 1000 per GiB, face 1000 pays for
	 * bytes × 2^34 < 2^64; under the limit, the limit itself */
	T_EQ(t, relaypay_bytes_max(&face, &price, 1ull << 40), 0);
	face = u256_from_u64(1000);
	T_EQ(t, relaypay_bytes_max(&face, &price, 2ull << 30),
	     (1ull << 30) - 1);
	T_EQ(t, relaypay_bytes_max(&face, &price, 5), 5);
	/* tools/bench/relaypay-net: face 10^6 at 32 × 10^6 per GiB, winProb
	 * 1/2 for 16 MiB, so under 32 MiB a ticket */
	face = u256_from_u64(1000000);
	price = u256_from_u64(32000000);
	T_EQ(t, relaypay_bytes_max(&face, &price, 128ull << 20),
	     (32ull << 20) - 1);
	T_OK(t, relaypay_win_top(&top, &face, &price, (32ull << 20) - 1));
	T_EQ(t, top, UINT64_MAX - ((1ull << 39) - 1));
}

static void test_make_vector(struct tctx *t)
{
	struct fix f;
	struct relaypay_hop_info h;
	struct relaypay_ticket k;
	struct relaypay_wire w;
	struct secp_sk e;
	uint8_t buf[RELAYPAY_WIRE_BYTES], d[32], who[20];

	fix_init(t, &f);
	h = hop_of(&f);
	memset(e.b, 0x33, 32);
	T_OK(t, relaypay_ticket_make(&k, &f.pot, f.sep, &h, &f.price, 1 << 20,
				     7, T0, &e));
	T_MEMEQ(t, k.t.recipient, vec_addr, 20);
	T_MEMEQ(t, k.t.recipient_rand_hash, h.commitment, 32);
	T_EQ(t, k.t.expiry, T0 + 6 * 3600);
	T_EQ(t, k.t.win_prob.w[3], 1ull << 54);	/* 2^-10 of 2^64 */
	T_EQ(t, k.t.win_prob.w[0] | k.t.win_prob.w[1] | k.t.win_prob.w[2], 0);
	relaypay_ticket_digest(&k.t, f.sep, d);
	T_OK(t, secp_recover(d, k.sig, who));
	T_MEMEQ(t, who, f.pot_addr, 20);

	T_OK(t, relaypay_wire_encode(&k, buf));
	T_EQ(t, buf[0], RELAYPAY_WIRE_VERSION);
	T_OK(t, relaypay_wire_decode(buf, sizeof(buf), &w));
	T_MEMEQ(t, w.eph.b, k.eph.b, 33);
	T_EQ(t, u256_cmp(&w.face_value, &k.t.face_value), 0);
	T_EQ(t, w.win_top, 1ull << 54);
	T_EQ(t, w.nonce, 7);
	T_EQ(t, w.expiry, T0 + 6 * 3600);
	T_MEMEQ(t, w.tag, h.commitment, RELAYPAY_TAG_BYTES);
	T_MEMEQ(t, w.sig, k.sig, 65);

	/* a face value over uint96 is not made */
	f.price.face_value = (struct u256){ { 0, 1ull << 32, 0, 0 } };
	T_ERR(t, relaypay_ticket_make(&k, &f.pot, f.sep, &h, &f.price, 1, 1,
				      T0, NULL), ERR_RANGE);
	relaypay_payee_free(f.payee);
}

static void test_wire_refusals(struct tctx *t)
{
	struct fix f;
	struct relaypay_wire w;
	uint8_t buf[RELAYPAY_WIRE_BYTES + 1], bad[RELAYPAY_WIRE_BYTES];

	fix_init(t, &f);
	make_wire(t, &f, 1 << 20, 1, T0, buf);
	T_ERR(t, relaypay_wire_decode(buf, 0, &w), ERR_TRUNCATED);
	T_ERR(t, relaypay_wire_decode(buf, RELAYPAY_WIRE_BYTES - 1, &w), ERR_TRUNCATED);
	T_ERR(t, relaypay_wire_decode(buf, RELAYPAY_WIRE_BYTES + 1, &w), ERR_TOO_BIG);
	memcpy(bad, buf, sizeof(bad));
	bad[0] = 2;
	T_ERR(t, relaypay_wire_decode(bad, sizeof(bad), &w), ERR_UNSUPPORTED);
	memcpy(bad, buf, sizeof(bad));
	memset(bad + 2, 0xff, 32);		/* x off the curve (≥ p) */
	T_ERR(t, relaypay_wire_decode(bad, sizeof(bad), &w), ERR_FORMAT);
	memcpy(bad, buf, sizeof(bad));
	memset(bad + 34, 0, 12);		/* zero face value */
	T_ERR(t, relaypay_wire_decode(bad, sizeof(bad), &w), ERR_FORMAT);
	memcpy(bad, buf, sizeof(bad));
	memset(bad + 46, 0, 8);			/* zero winProb */
	T_ERR(t, relaypay_wire_decode(bad, sizeof(bad), &w), ERR_FORMAT);
	memcpy(bad, buf, sizeof(bad));
	bad[RELAYPAY_WIRE_BYTES - 1] = 29;	/* v */
	T_ERR(t, relaypay_wire_decode(bad, sizeof(bad), &w), ERR_FORMAT);
	T_EQ(t, relaypay_payee_check(f.payee, bad, sizeof(bad), T0, &(struct relaypay_checked){ 0 }),
	     RELAYPAY_MALFORMED);
	relaypay_payee_free(f.payee);
}

/* Many tickets at p = 1/2: every accepted one, drawn again here with the
 * r_epoch the batch reveals, is a winner iff the payee kept it. */
static void test_accept_draw_batch(struct tctx *t)
{
	enum { N = 64 };
	struct fix f;
	struct relaypay_checked c[N];
	struct relaypay_batch b;
	struct relaypay_stats st;
	uint8_t w[RELAYPAY_WIRE_BYTES], h[32], commit[32];
	bool won[N];
	size_t nwon = 0, found = 0;

	fix_init(t, &f);
	relaypay_payee_commitment(f.payee, commit, NULL);
	f.pot_state.escrow = u256_from_u64(8000000000ull);	/* no exposure cap */
	f.pot_state.deposit = u256_from_u64(1000000000ull);
	for (size_t i = 0; i < N; i++) {
		make_wire(t, &f, 1ull << 29, 100 + i, T0 + i, w); /* p = 1/2 */
		T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0 + i, &c[i]),
		     RELAYPAY_OK);
		T_MEMEQ(t, c[i].signer, f.pot_addr, 20);
		T_EQ(t, relaypay_payee_accept(f.payee, &c[i], &f.pot_state, T0 + i,
					      &won[i]), RELAYPAY_OK);
		nwon += won[i];
	}
	/* P(all 64 land on one side) = 2^-63 */
	T_TRUE(t, nwon > 0 && nwon < N);
	relaypay_payee_stats(f.payee, &st);
	T_EQ(t, st.accepted, N);
	T_EQ(t, st.won, nwon);
	T_EQ(t, st.won_face.w[0], nwon * 1000000ull);
	T_EQ(t, relaypay_payee_exposure(f.payee, f.pot_addr).w[0], nwon * 1000000ull);

	/* nothing to redeem while the epoch takes tickets */
	T_ERR(t, relaypay_payee_batch_take(f.payee, T0 + 100, &b), ERR_NOT_FOUND);
	T_FALSE(t, relaypay_payee_tick(f.payee, T0 + 3599));
	T_TRUE(t, relaypay_payee_tick(f.payee, T0 + 3600));
	T_ERR(t, relaypay_payee_batch_take(f.payee, T0 + 3600 + 599, &b), ERR_NOT_FOUND);
	T_OK(t, relaypay_payee_batch_take(f.payee, T0 + 3600 + 600, &b));
	keccak256(h, b.rand, 32);
	T_MEMEQ(t, h, commit, 32);
	T_EQ(t, b.n, nwon);
	for (size_t i = 0; i < N; i++) {
		/* the contract's draw, computed from scratch */
		uint8_t buf[97], d[32], wp[32];
		memcpy(buf, c[i].sig, 65);
		memcpy(buf + 65, b.rand, 32);
		keccak256(d, buf, sizeof(buf));
		u256_to_be(&c[i].t.win_prob, wp);
		T_EQ(t, memcmp(d, wp, 32) < 0, won[i]);
		T_EQ(t, relaypay_ticket_wins(&c[i].t, c[i].sig, b.rand), won[i]);
		for (size_t j = 0; j < b.n; j++)
			found += memcmp(b.w[j].sig, c[i].sig, 65) == 0;
	}
	T_EQ(t, found, nwon);
	for (size_t j = 0; j < b.n; j++)
		T_MEMEQ(t, b.w[j].signer, f.pot_addr, 20);
	/* the wrong rand never wins */
	b.rand[0] ^= 1;
	T_FALSE(t, relaypay_ticket_wins(&b.w[0].t, b.w[0].sig, b.rand));
	relaypay_batch_free(&b);
	/* redeemed: exposure gone, the epoch is forgotten */
	T_EQ(t, relaypay_payee_exposure(f.payee, f.pot_addr).w[0], 0);
	T_EQ(t, relaypay_payee_accept(f.payee, &c[0], &f.pot_state, T0 + 3600 + 600,
				      NULL), RELAYPAY_UNKNOWN_EPOCH);
	T_ERR(t, relaypay_payee_batch_take(f.payee, T0 + 99999, &b), ERR_NOT_FOUND);
	relaypay_payee_free(f.payee);
}

static void test_replay(struct tctx *t)
{
	struct fix f;
	struct relaypay_checked c, c2;
	uint8_t w[RELAYPAY_WIRE_BYTES], w2[RELAYPAY_WIRE_BYTES];

	fix_init(t, &f);
	make_wire(t, &f, 1 << 20, 5, T0, w);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_OK);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c2), RELAYPAY_OK);
	T_EQ(t, relaypay_payee_accept(f.payee, &c, &f.pot_state, T0, NULL), RELAYPAY_OK);
	/* the same ticket again, at either step */
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0 + 1, &c2), RELAYPAY_REPLAY);
	T_EQ(t, relaypay_payee_accept(f.payee, &c, &f.pot_state, T0 + 1, NULL),
	     RELAYPAY_REPLAY);
	/* another ticket (new E, other size) with the same nonce */
	make_wire(t, &f, 2 << 20, 5, T0, w2);
	T_EQ(t, relaypay_payee_check(f.payee, w2, sizeof(w2), T0 + 1, &c2), RELAYPAY_REPLAY);
	/* many more nonces: the table grows and keeps every one */
	for (uint64_t n = 1000; n < 1300; n++) {
		make_wire(t, &f, 1, n, T0, w2);
		T_EQ(t, relaypay_payee_check(f.payee, w2, sizeof(w2), T0, &c2), RELAYPAY_OK);
		T_EQ(t, relaypay_payee_accept(f.payee, &c2, &f.pot_state, T0, NULL), RELAYPAY_OK);
	}
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0 + 2, &c2), RELAYPAY_REPLAY);
	T_EQ(t, relaypay_payee_check(f.payee, w2, sizeof(w2), T0 + 2, &c2), RELAYPAY_REPLAY);
	relaypay_payee_free(f.payee);
}

static void test_forged(struct tctx *t)
{
	struct fix f;
	struct relaypay_checked c;
	struct relaypay_hop_info h;
	struct relaypay_ticket k;
	struct secp_sk other;
	uint8_t w[RELAYPAY_WIRE_BYTES], x[RELAYPAY_WIRE_BYTES];
	struct hub_pot none = { 0 };
	enum relaypay_reason r;

	fix_init(t, &f);
	make_wire(t, &f, 1 << 20, 9, T0, w);
	/* a raised face value: the digest changes, so does the signer */
	memcpy(x, w, sizeof(x));
	x[45] ^= 0x01;
	T_EQ(t, relaypay_payee_check(f.payee, x, sizeof(x), T0, &c), RELAYPAY_OK);
	T_TRUE(t, memcmp(c.signer, f.pot_addr, 20) != 0);
	/* ...whose pot (none) is refused */
	T_EQ(t, relaypay_payee_accept(f.payee, &c, &none, T0, NULL), RELAYPAY_NO_POT);
	/* a raised winProb, a later expiry: other signers too */
	memcpy(x, w, sizeof(x));
	x[46] ^= 0x80;
	r = relaypay_payee_check(f.payee, x, sizeof(x), T0, &c);
	T_TRUE(t, r != RELAYPAY_OK || memcmp(c.signer, f.pot_addr, 20) != 0);
	/* a high-s signature is refused as OpenZeppelin's recover does */
	memcpy(x, w, sizeof(x));
	memset(x + 74 + 32, 0xff, 32);
	T_EQ(t, relaypay_payee_check(f.payee, x, sizeof(x), T0, &c), RELAYPAY_BAD_SIG);
	/* a ticket to another payee's meta-address recovers to a stranger */
	h = hop_of(&f);
	memset(other.b, 0x77, 32);
	T_OK(t, stealth_meta_from_keys(&h.meta, &f.spend, &other));
	T_OK(t, relaypay_ticket_make(&k, &f.pot, f.sep, &h, &f.price, 1 << 20, 10,
				     T0, NULL));
	T_OK(t, relaypay_wire_encode(&k, x));
	T_EQ(t, relaypay_payee_check(f.payee, x, sizeof(x), T0, &c), RELAYPAY_OK);
	T_TRUE(t, memcmp(c.signer, f.pot_addr, 20) != 0);
	/* a commitment that is not ours */
	memcpy(x, w, sizeof(x));
	x[70] ^= 1;
	T_EQ(t, relaypay_payee_check(f.payee, x, sizeof(x), T0, &c), RELAYPAY_UNKNOWN_EPOCH);
	relaypay_payee_free(f.payee);
}

static void test_policy(struct tctx *t)
{
	struct fix f;
	struct relaypay_checked c;
	struct hub_pot pot;
	uint8_t w[RELAYPAY_WIRE_BYTES];
	uint64_t n = 1;

	fix_init(t, &f);
	/* expired (now past expiry) and too long (ttl over maxPaperTTL) */
	make_wire(t, &f, 1 << 20, n++, T0 - 6 * 3600, w);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_EXPIRED);
	f.price.ttl_s = 12 * 3600 + 1;
	make_wire(t, &f, 1 << 20, n++, T0, w);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_TTL_TOO_LONG);
	f.price.ttl_s = 12 * 3600;
	make_wire(t, &f, 1 << 20, n++, T0, w);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_OK);
	/* expiring before the epoch (1 h) + grace + margin can be redeemed */
	f.price.ttl_s = 3600 + 1199;
	make_wire(t, &f, 1 << 20, n++, T0, w);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_TOO_SHORT);
	f.price.ttl_s = 3600 + 1200;
	make_wire(t, &f, 1 << 20, n++, T0, w);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_OK);
	/* face value 100 × cost passes, one less does not */
	f.price.face_value = u256_from_u64(99999);
	make_wire(t, &f, 1 << 10, n++, T0, w);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_FACE_TOO_LOW);
	f.price.face_value = u256_from_u64(100000);
	make_wire(t, &f, 1 << 10, n++, T0, w);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_OK);

	/* an unlocking pot */
	f.price.face_value = u256_from_u64(1000000);
	make_wire(t, &f, 1 << 20, n++, T0, w);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_OK);
	pot = f.pot_state;
	pot.unlock_at = T0 + 3 * 86400;
	T_EQ(t, relaypay_payee_accept(f.payee, &c, &pot, T0, NULL), RELAYPAY_UNLOCKING);
	/* exposure: escrow 8 × face - 1 cannot cover one more face value */
	pot = f.pot_state;
	pot.escrow = u256_from_u64(8 * 1000000 - 1);
	T_EQ(t, relaypay_payee_accept(f.payee, &c, &pot, T0, NULL), RELAYPAY_EXPOSURE);
	pot.escrow = u256_from_u64(8 * 1000000);
	pot.deposit = u256_from_u64(999999);
	T_EQ(t, relaypay_payee_accept(f.payee, &c, &pot, T0, NULL), RELAYPAY_EXPOSURE);
	pot.deposit = u256_from_u64(1000000);
	T_EQ(t, relaypay_payee_accept(f.payee, &c, &pot, T0, NULL), RELAYPAY_OK);

	/* with winners outstanding, exposure counts them: sure winners
	 * (1 GiB at face 10^6 = p ≈ 1) until escrow / 8 is used up */
	relaypay_payee_free(f.payee);
	fix_init(t, &f);
	pot = f.pot_state;
	pot.escrow = u256_from_u64(3 * 8 * 1000000);
	for (int i = 0; i < 4; i++) {
		bool won = false;
		make_wire(t, &f, (1ull << 30) - 1, 50 + i, T0, w);
		T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_OK);
		T_EQ(t, relaypay_payee_accept(f.payee, &c, &pot, T0, &won),
		     i < 3 ? RELAYPAY_OK : RELAYPAY_EXPOSURE);
		if (i < 3)	/* p = 1 - 2^-30: a loss means a broken draw */
			T_TRUE(t, won);
	}
	T_EQ(t, relaypay_payee_exposure(f.payee, f.pot_addr).w[0], 3000000);
	relaypay_payee_free(f.payee);
}

static void test_epochs(struct tctx *t)
{
	struct fix f;
	struct relaypay_checked c;
	struct relaypay_batch b;
	uint8_t w[RELAYPAY_WIRE_BYTES], c1[32], c2[32];
	uint64_t end;

	fix_init(t, &f);
	relaypay_payee_commitment(f.payee, c1, &end);
	T_EQ(t, end, T0 + 3600);
	make_wire(t, &f, (1ull << 30) - 1, 1, T0, w); /* a sure winner */
	T_TRUE(t, relaypay_payee_tick(f.payee, T0 + 3600));
	relaypay_payee_commitment(f.payee, c2, &end);
	T_TRUE(t, memcmp(c1, c2, 32) != 0);
	T_EQ(t, end, T0 + 7200);
	/* an old-epoch ticket is taken during the grace period... */
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0 + 3700, &c), RELAYPAY_OK);
	T_EQ(t, c.epoch_id, 0);
	T_EQ(t, relaypay_payee_accept(f.payee, &c, &f.pot_state, T0 + 3700, NULL),
	     RELAYPAY_OK);
	/* ...and refused after it */
	make_wire(t, &f, 1, 2, T0, w);	/* current epoch: fine */
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0 + 4200, &c), RELAYPAY_OK);
	T_EQ(t, c.epoch_id, 1);
	memcpy(w + 70, c1, RELAYPAY_TAG_BYTES);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0 + 4200, &c),
	     RELAYPAY_UNKNOWN_EPOCH);
	/* the old epoch's batch, once; the new epoch's not yet */
	T_OK(t, relaypay_payee_batch_take(f.payee, T0 + 4200, &b));
	T_EQ(t, b.epoch_id, 0);
	T_EQ(t, b.n, 1);
	relaypay_batch_free(&b);
	T_ERR(t, relaypay_payee_batch_take(f.payee, T0 + 4200, &b), ERR_NOT_FOUND);
	/* a winner too close to its expiry is not put in a batch */
	relaypay_payee_free(f.payee);
	fix_init(t, &f);
	f.price.ttl_s = 3600 + 1200;
	make_wire(t, &f, (1ull << 30) - 1, 1, T0, w);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_OK);
	T_EQ(t, relaypay_payee_accept(f.payee, &c, &f.pot_state, T0, NULL), RELAYPAY_OK);
	T_TRUE(t, relaypay_payee_tick(f.payee, T0 + 3600));
	T_ERR(t, relaypay_payee_batch_take(f.payee, T0 + 3600 + 601, &b), ERR_NOT_FOUND);
	relaypay_payee_free(f.payee);
}

static void test_replay_limit(struct tctx *t)
{
	struct fix f;
	struct relaypay_checked c;
	uint8_t w[RELAYPAY_WIRE_BYTES];
	int full = 0;

	fix_init(t, &f);
	relaypay_payee_free(f.payee);
	f.pol.max_tickets = 40;
	f.payee = relaypay_payee_new(&f.pol, f.sep, &f.view, &f.meta.spend, T0);
	for (uint64_t n = 0; n < 80; n++) {
		make_wire(t, &f, 1, n, T0, w);
		T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_OK);
		full += relaypay_payee_accept(f.payee, &c, &f.pot_state, T0, NULL) ==
			RELAYPAY_FULL;
	}
	T_EQ(t, full, 40);
	/* once those tickets expire, room again */
	make_wire(t, &f, 1, 500, T0 + 6 * 3600, w);
	T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0 + 6 * 3600 + 1, &c),
	     RELAYPAY_OK);
	T_EQ(t, relaypay_payee_accept(f.payee, &c, &f.pot_state, T0 + 6 * 3600 + 1, NULL),
	     RELAYPAY_OK);
	relaypay_payee_free(f.payee);
}

/* Saved and restored: same commitment, winners, replay refusals and
 * counters; every truncation and a forged field refused. */
static void test_save_load(struct tctx *t)
{
	struct fix f;
	struct relaypay_checked c;
	struct relaypay_payee *q = NULL;
	struct relaypay_batch b1, b2;
	struct relaypay_stats s1, s2;
	struct bbuf buf = BBUF_INIT, buf2 = BBUF_INIT;
	uint8_t w[RELAYPAY_WIRE_BYTES], w0[RELAYPAY_WIRE_BYTES];
	uint8_t c1[32], c2[32], *x;
	int bad = 0;

	fix_init(t, &f);
	f.pot_state.escrow = u256_from_u64(8000000000ull);
	f.pot_state.deposit = u256_from_u64(1000000000ull);
	for (uint64_t n = 0; n < 12; n++) {
		make_wire(t, &f, 1ull << 29, n, T0, w);	/* p = 1/2 */
		if (n == 0)
			memcpy(w0, w, sizeof(w));
		T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_OK);
		T_EQ(t, relaypay_payee_accept(f.payee, &c, &f.pot_state, T0, NULL),
		     RELAYPAY_OK);
	}
	T_TRUE(t, relaypay_payee_tick(f.payee, T0 + 3600));
	relaypay_payee_save(f.payee, &buf);
	T_OK(t, relaypay_payee_load(&f.pol, f.sep, &f.view, &f.meta.spend,
				    buf.data, buf.len, &q));
	if (!q)
		goto out;
	/* saved again: the same bytes up to the replay set, whose order
	 * follows each payee's own hash key (12 entries of 36 bytes) */
	relaypay_payee_save(q, &buf2);
	T_EQ(t, buf2.len, buf.len);
	T_MEMEQ(t, buf2.data, buf.data, buf.len - 12 * 36);
	relaypay_payee_commitment(f.payee, c1, NULL);
	relaypay_payee_commitment(q, c2, NULL);
	T_MEMEQ(t, c1, c2, 32);
	relaypay_payee_stats(f.payee, &s1);
	relaypay_payee_stats(q, &s2);
	T_EQ(t, s2.accepted, 12);
	T_EQ(t, s2.won, s1.won);
	T_EQ(t, relaypay_payee_exposure(q, f.pot_addr).w[0],
	     relaypay_payee_exposure(f.payee, f.pot_addr).w[0]);
	/* the replay set came along */
	T_EQ(t, relaypay_payee_check(q, w0, sizeof(w0), T0 + 3700, &c), RELAYPAY_REPLAY);
	/* the same batch from both */
	T_EQ(t, relaypay_payee_batch_take(f.payee, T0 + 4200, &b1),
	     relaypay_payee_batch_take(q, T0 + 4200, &b2));
	if (s1.won) {
		T_EQ(t, b1.n, b2.n);
		T_MEMEQ(t, b1.rand, b2.rand, 32);
		for (size_t i = 0; i < b1.n && i < b2.n; i++)
			T_MEMEQ(t, b1.w[i].sig, b2.w[i].sig, 65);
		relaypay_batch_free(&b1);
		relaypay_batch_free(&b2);
	}
	relaypay_payee_free(q);
	q = NULL;
	/* every truncation refused */
	for (size_t n = 0; n < buf.len; n++) {
		if (relaypay_payee_load(&f.pol, f.sep, &f.view, &f.meta.spend,
					buf.data, n, &q) == 0) {
			bad++;
			relaypay_payee_free(q);
			q = NULL;
		}
	}
	T_EQ(t, bad, 0);
	x = buf.data;
	x[4] = 2;				/* version */
	T_ERR(t, relaypay_payee_load(&f.pol, f.sep, &f.view, &f.meta.spend,
				     x, buf.len, &q), ERR_UNSUPPORTED);
	x[4] = 1;
	x[0] = 'X';				/* magic */
	T_ERR(t, relaypay_payee_load(&f.pol, f.sep, &f.view, &f.meta.spend,
				     x, buf.len, &q), ERR_FORMAT);
	x[0] = 'R';
	/* the first epoch's r_epoch altered: its winners no longer match */
	if (s1.won) {
		x[4 + 1 + 8 * 4 + 32 + 4 + 8] ^= 1;
		T_ERR(t, relaypay_payee_load(&f.pol, f.sep, &f.view, &f.meta.spend,
					     x, buf.len, &q), ERR_FORMAT);
	}
out:
	relaypay_payee_free(q);
	bbuf_free(&buf);
	bbuf_free(&buf2);
	relaypay_payee_free(f.payee);
}

/* Batches taken for the chain and saved with the payee come back as
 * ended epochs, handed out again at once with the same winners; a batch
 * split in two (part retried) is one epoch again; the payee's own epochs
 * and the current one are unchanged. */
static void test_save_batches(struct tctx *t)
{
	struct fix f;
	struct relaypay_checked c;
	struct relaypay_payee *q = NULL;
	struct relaypay_batch b = { 0 }, half = { 0 }, r1 = { 0 }, r2 = { 0 };
	const struct relaypay_batch *bs[2];
	struct bbuf buf = BBUF_INIT, plain = BBUF_INIT;
	uint8_t w[RELAYPAY_WIRE_BYTES], c1[32], c2[32];
	uint64_t n = 0;

	fix_init(t, &f);
	f.pot_state.escrow = u256_from_u64(8000000000ull);
	f.pot_state.deposit = u256_from_u64(1000000000ull);
	/* p = 1 - 2^-20: every ticket wins (but once in ~170,000 runs);
	 * six in the first epoch */
	for (; n < 6; n++) {
		make_wire(t, &f, (1ull << 30) - 1024, n, T0, w);
		T_EQ(t, relaypay_payee_check(f.payee, w, sizeof(w), T0, &c), RELAYPAY_OK);
		T_EQ(t, relaypay_payee_accept(f.payee, &c, &f.pot_state, T0, NULL),
		     RELAYPAY_OK);
	}
	T_TRUE(t, relaypay_payee_tick(f.payee, T0 + 3600));
	T_OK(t, relaypay_payee_batch_take(f.payee, T0 + 4200, &b));
	T_EQ(t, b.n, 6);
	/* taken: a plain save no longer holds them */
	relaypay_payee_save(f.payee, &plain);
	T_OK(t, relaypay_payee_load(&f.pol, f.sep, &f.view, &f.meta.spend,
				    plain.data, plain.len, &q));
	if (q)
		T_ERR(t, relaypay_payee_batch_take(q, T0 + 4200, &r1), ERR_NOT_FOUND);
	relaypay_payee_free(q);
	q = NULL;
	/* the batch in two parts: 4 on the chain, 2 to retry */
	half.epoch_id = b.epoch_id;
	memcpy(half.rand, b.rand, 32);
	half.w = b.w + 4;
	half.n = 2;
	b.n = 4;
	bs[0] = &half;
	bs[1] = &b;
	relaypay_payee_save_with(f.payee, bs, 2, &buf);
	b.n = 6;
	T_OK(t, relaypay_payee_load(&f.pol, f.sep, &f.view, &f.meta.spend,
				    buf.data, buf.len, &q));
	if (!q)
		goto out;
	relaypay_payee_commitment(f.payee, c1, NULL);
	relaypay_payee_commitment(q, c2, NULL);
	T_MEMEQ(t, c1, c2, 32);
	/* handed out again at once (its end is past), all six, once */
	T_OK(t, relaypay_payee_batch_take(q, T0 + 3601, &r1));
	T_EQ(t, r1.epoch_id, b.epoch_id);
	T_MEMEQ(t, r1.rand, b.rand, 32);
	T_EQ(t, r1.n, 6);
	for (size_t i = 0; i < r1.n && i < 6; i++) {
		bool found = false;

		for (size_t k = 0; k < 6; k++)
			found |= memcmp(r1.w[i].sig, b.w[k].sig, 65) == 0;
		T_TRUE(t, found);
	}
	T_ERR(t, relaypay_payee_batch_take(q, T0 + 3601, &r2), ERR_NOT_FOUND);
	/* ...and the epoch takes no ticket */
	{
		struct relaypay_hop_info h = { .meta = f.meta };
		struct relaypay_ticket k;
		struct relaypay_checked c2k;
		enum relaypay_reason why;

		keccak256(h.commitment, b.rand, 32);
		T_OK(t, relaypay_ticket_make(&k, &f.pot, f.sep, &h, &f.price,
					     (1ull << 30) - 1024, n,
					     T0 + 3601, NULL));
		T_OK(t, relaypay_wire_encode(&k, w));
		why = relaypay_payee_check(q, w, sizeof(w), T0 + 3601, &c2k);
		if (why == RELAYPAY_OK)
			why = relaypay_payee_accept(q, &c2k, &f.pot_state,
						    T0 + 3601, NULL);
		T_TRUE(t, why != RELAYPAY_OK);
	}
	relaypay_batch_free(&r1);
	/* NULL and empty batches are skipped: the plain save's bytes */
	bbuf_free(&buf);
	half.n = 0;
	bs[0] = NULL;
	bs[1] = &half;
	relaypay_payee_save_with(f.payee, bs, 2, &buf);
	T_EQ(t, buf.len, plain.len);
	T_MEMEQ(t, buf.data, plain.data, plain.len - 6 * 36);
out:
	relaypay_payee_free(q);
	relaypay_batch_free(&b);
	bbuf_free(&buf);
	bbuf_free(&plain);
	relaypay_payee_free(f.payee);
}

/* A withdrawal to try again as a line and back; lines that do not
 * read. */
static void test_retry_line(struct tctx *t)
{
	static const char g[] = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2d"
				"ce28d959f2815b16f81798";
	static const char *const bad[] = {
		"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798 6",
		"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798 ",
		"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798 1x",
		"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798  1",
		"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798 0001",
		"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f8179 1",
		"02ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff 1",
		"0779be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798 1",
		"zz79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798 1",
		"",
	};
	struct secp_pk e, e2;
	struct bbuf b = BBUF_INIT;
	unsigned rounds = 9;
	size_t got;

	T_OK(t, hex_decode(e.b, sizeof(e.b), &got, g, strlen(g)));
	relaypay_retry_line_format(&e, 5, &b);
	T_EQ(t, b.len, strlen(g) + 3);
	T_OK(t, memcmp(b.data, g, strlen(g)));
	T_OK(t, memcmp(b.data + strlen(g), " 5\n", 3));
	T_OK(t, relaypay_retry_line_parse((const char *)b.data, b.len - 1, 6,
					  &e2, &rounds));
	T_EQ(t, rounds, 5);
	T_OK(t, memcmp(&e, &e2, sizeof(e)));
	T_ERR(t, relaypay_retry_line_parse((const char *)b.data, b.len - 1,
					   5, &e2, &rounds), ERR_FORMAT);
	rounds = 9;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_ERR(t, relaypay_retry_line_parse(bad[i], strlen(bad[i]), 6,
						   &e2, &rounds), ERR_FORMAT);
	T_EQ(t, rounds, 9);	/* untouched */
	bbuf_free(&b);
}

/* The pot states read: found by signer, replaced by a newer read, gone
 * max_age_s after their read, and never more than max (the one read
 * longest ago makes room). */
static void test_potcache(struct tctx *t)
{
	struct relaypay_potcache *c = relaypay_potcache_new(3);
	struct hub_pot pot = { .unlock_at = 0 };
	const struct hub_pot *got;
	uint8_t s[5][ETH_ADDR_BYTES];
	uint64_t read_s = 0;

	for (int i = 0; i < 5; i++)
		memset(s[i], 0x10 + i, ETH_ADDR_BYTES);
	T_TRUE(t, relaypay_potcache_get(c, s[0], &read_s) == NULL);
	for (int i = 0; i < 3; i++) {
		pot.unlock_at = 100 + (uint64_t)i;
		relaypay_potcache_put(c, s[i], &pot, 1000 + (uint64_t)i);
	}
	T_EQ(t, relaypay_potcache_count(c), 3);
	got = relaypay_potcache_get(c, s[1], &read_s);
	T_TRUE(t, got && got->unlock_at == 101);
	T_EQ(t, read_s, 1001);
	/* read again: replaced, not added */
	pot.unlock_at = 7;
	relaypay_potcache_put(c, s[0], &pot, 1010);
	T_EQ(t, relaypay_potcache_count(c), 3);
	got = relaypay_potcache_get(c, s[0], &read_s);
	T_TRUE(t, got && got->unlock_at == 7);
	T_EQ(t, read_s, 1010);
	/* full: s[1] (read at 1001) makes room for s[3] */
	relaypay_potcache_put(c, s[3], &pot, 1011);
	T_EQ(t, relaypay_potcache_count(c), 3);
	T_TRUE(t, relaypay_potcache_get(c, s[1], NULL) == NULL);
	T_TRUE(t, relaypay_potcache_get(c, s[0], NULL) != NULL);
	T_TRUE(t, relaypay_potcache_get(c, s[2], NULL) != NULL);
	T_TRUE(t, relaypay_potcache_get(c, s[3], NULL) != NULL);
	/* max_age 10 at 1012: s[2] (1002) goes; 1010 and 1011 stay */
	T_EQ(t, relaypay_potcache_prune(c, 1012, 10), 1);
	T_TRUE(t, relaypay_potcache_get(c, s[2], NULL) == NULL);
	T_EQ(t, relaypay_potcache_count(c), 2);
	T_EQ(t, relaypay_potcache_prune(c, 1020, 10), 1);	/* 1010 */
	T_EQ(t, relaypay_potcache_prune(c, 1021, 10), 1);	/* 1011 */
	T_EQ(t, relaypay_potcache_count(c), 0);
	T_EQ(t, relaypay_potcache_prune(c, 5000, 10), 0);
	relaypay_potcache_put(c, s[4], &pot, 5000);
	T_TRUE(t, relaypay_potcache_get(c, s[4], NULL) != NULL);
	relaypay_potcache_free(c);
	/* many signers, one at a time: never more than max held */
	c = relaypay_potcache_new(100);
	for (uint32_t i = 0; i < 1000; i++) {
		uint8_t a[ETH_ADDR_BYTES] = { 0 };

		memcpy(a, &i, sizeof(i));
		relaypay_potcache_put(c, a, &pot, i);
		T_TRUE(t, relaypay_potcache_count(c) <= 100);
	}
	T_EQ(t, relaypay_potcache_count(c), 100);
	T_EQ(t, relaypay_potcache_prune(c, 1000, 50), 51);	/* 900..950 */
	relaypay_potcache_free(c);
}

const struct test_case relaypay_tests[] = {
	{ "win_top", test_win_top, 0 },
	{ "make_vector", test_make_vector, 0 },
	{ "wire_refusals", test_wire_refusals, 0 },
	{ "accept_draw_batch", test_accept_draw_batch, 0 },
	{ "replay", test_replay, 0 },
	{ "forged", test_forged, 0 },
	{ "policy", test_policy, 0 },
	{ "epochs", test_epochs, 0 },
	{ "replay_limit", test_replay_limit, 0 },
	{ "save_load", test_save_load, 0 },
	{ "save_batches", test_save_batches, 0 },
	{ "retry_line", test_retry_line, 0 },
	{ "potcache", test_potcache, 0 },
	{ NULL, NULL, 0 }
};
