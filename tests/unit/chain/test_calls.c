/*
 * chain/calls: deploy JSON, paper round trips (and every field of a
 * tampered paper refused), event decoders on hand-built logs, key
 * wrapping both ways, the ticket win check, custom error names.
 * (cast checks the calldata in tests/integration/test_chain_xcheck.sh.)
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/abi.h"
#include "chain/calls.h"
#include "crypto/base/err.h"
#include "crypto/keccak.h"

#include <string.h>

static void test_deploy(struct tctx *t)
{
	static const char good[] =
		"{\"chainId\":31337,\"contracts\":{"
		"\"BitsTestToken\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\","
		"\"FeeSplitter\":\"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\","
		"\"NetworkGenesis\":\"0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0\","
		"\"LicenseRegistry\":\"0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9\","
		"\"KeyRelease\":\"0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9\","
		"\"PaymentHub\":\"0x5FC8d32690cc91D4c39d9d3abcBD16989F875707\","
		"\"DIDRegistry\":\"0x0165878A594ca255338adfa4d48449f69242Eb8F\"},"
		"\"networkId\":\"0x1111111111111111111111111111111111111111111111111111111111111111\"}";
	static const char flat[] =
		"{\"chain_id\":\"0x7a69\",\"token\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\","
		"\"license_registry\":\"0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9\","
		"\"key_release\":\"0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9\","
		"\"payment_hub\":\"0x5FC8d32690cc91D4c39d9d3abcBD16989F875707\","
		"\"did_registry\":\"0x0165878A594ca255338adfa4d48449f69242Eb8F\"}";
	static const char missing[] = "{\"chainId\":31337,\"token\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"}";
	static const char bad_addr[] = "{\"chainId\":31337,\"paymentHub\":\"0x123\"}";
	char zero_hub[sizeof(flat)];
	struct chain_deploy d;
	const char *why;

	T_OK(t, chain_deploy_parse(good, strlen(good), &d, &why));
	T_EQ(t, d.chain_id, 31337);
	T_EQ(t, d.payment_hub[0], 0x5f);
	T_EQ(t, d.payment_hub[19], 0x07);
	T_EQ(t, d.treasury[0], 0xe7);
	T_TRUE(t, d.has_network_id);
	T_OK(t, chain_deploy_parse(flat, strlen(flat), &d, &why));
	T_EQ(t, d.chain_id, 31337);
	T_ERR(t, chain_deploy_parse(missing, strlen(missing), &d, &why), ERR_FORMAT);
	T_TRUE(t, why && strstr(why, "lacks") != NULL);
	T_ERR(t, chain_deploy_parse(bad_addr, strlen(bad_addr), &d, &why), ERR_FORMAT);
	/* the zero address is no contract's */
	memcpy(zero_hub, flat, sizeof(flat));
	memcpy(strstr(zero_hub, "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707") + 2,
	       "0000000000000000000000000000000000000000", 40);
	T_ERR(t, chain_deploy_parse(zero_hub, strlen(zero_hub), &d, &why), ERR_FORMAT);
	T_TRUE(t, why && strstr(why, "bad value") != NULL);
	T_ERR(t, chain_deploy_parse("[]", 2, &d, &why), ERR_FORMAT);
	T_ERR(t, chain_deploy_parse("{", 1, &d, &why), ERR_FORMAT);
}

static void sample_ticket(struct eip712_ticket *k)
{
	memset(k, 0, sizeof(*k));
	memset(k->recipient, 0xab, 20);
	k->face_value = u256_from_u64(1000);
	k->win_prob.w[3] = 1ull << 62;		/* one in four */
	k->sender_nonce = u256_from_u64(77);
	memset(k->recipient_rand_hash, 0xcd, 32);
	k->expiry = 1700000000;
}

static bool ticket_eq(const struct eip712_ticket *a,
		      const struct eip712_ticket *b)
{
	return memcmp(a->recipient, b->recipient, 20) == 0 &&
	       u256_cmp(&a->face_value, &b->face_value) == 0 &&
	       u256_cmp(&a->win_prob, &b->win_prob) == 0 &&
	       u256_cmp(&a->sender_nonce, &b->sender_nonce) == 0 &&
	       memcmp(a->recipient_rand_hash, b->recipient_rand_hash, 32) == 0 &&
	       a->expiry == b->expiry;
}

static void test_paper(struct tctx *t)
{
	struct eip712_voucher v = { 0 }, v2;
	struct eip712_ticket k, k2;
	uint8_t sig[65], sig2[65];
	struct bbuf b = BBUF_INIT;

	memset(v.recipient, 0x12, 20);
	memset(v.lane, 0x34, 32);
	v.cumulative = u256_from_u64(555);
	v.expiry = 99;
	memset(sig, 0x5a, 65);
	chain_voucher_paper_encode(&b, &v, sig);
	T_EQ(t, b.len, 9 * 32);
	T_OK(t, chain_voucher_paper_decode(b.data, b.len, &v2, sig2));
	T_MEMEQ(t, v2.recipient, v.recipient, 20);
	T_MEMEQ(t, v2.lane, v.lane, 32);
	T_EQ(t, u256_cmp(&v2.cumulative, &v.cumulative), 0);
	T_EQ(t, v2.expiry, v.expiry);
	T_MEMEQ(t, sig2, sig, 65);
	T_ERR(t, chain_voucher_paper_decode(b.data, b.len - 1, &v2, sig2), ERR_TRUNCATED);
	b.data[0] = 1;				/* dirty address word */
	T_ERR(t, chain_voucher_paper_decode(b.data, b.len, &v2, sig2), ERR_FORMAT);
	b.data[0] = 0;
	b.data[5 * 32 + 31] = 64;		/* sig length 64 */
	T_ERR(t, chain_voucher_paper_decode(b.data, b.len, &v2, sig2), ERR_FORMAT);
	bbuf_reset(&b);

	sample_ticket(&k);
	chain_ticket_paper_encode(&b, &k, sig);
	T_OK(t, chain_ticket_paper_decode(b.data, b.len, &k2, sig2));
	T_TRUE(t, ticket_eq(&k2, &k));
	b.data[5 * 32 + 20] = 1;		/* expiry over 64 bits */
	T_ERR(t, chain_ticket_paper_decode(b.data, b.len, &k2, sig2), ERR_FORMAT);
	bbuf_free(&b);
}

static void test_calldata_shapes(struct tctx *t)
{
	struct eip712_voucher v[2];
	uint8_t sigs[2][65];
	struct eip712_ticket k;
	struct bbuf b = BBUF_INIT;
	uint8_t sel[4], rand[32] = { 0 };
	size_t count;

	memset(v, 0, sizeof(v));
	memset(sigs, 0x11, sizeof(sigs));
	hub_redeem_vouchers_call(&b, 2, v, (const uint8_t (*)[65])sigs);
	abi_selector(sel, "redeemVouchers((address,bytes32,uint256,uint64)[],bytes[])");
	T_MEMEQ(t, b.data, sel, 4);
	/* decode the two arrays back */
	struct abi_dec d = abi_dec_init(b.data + 4, b.len - 4), el, sa;
	T_OK(t, abi_dec_array(&d, 0, 10, 4, &count, &el));
	T_EQ(t, count, 2);
	T_OK(t, abi_dec_array(&d, 1, 10, 0, &count, &sa));
	T_EQ(t, count, 2);
	const uint8_t *p;
	size_t n;
	T_OK(t, abi_dec_bytes(&sa, 1, 65, &p, &n));
	T_EQ(t, n, 65);
	T_EQ(t, p[64], 0x11);
	bbuf_reset(&b);

	sample_ticket(&k);
	hub_redeem_ticket_call(&b, &k, sigs[0], rand);
	T_EQ(t, b.len, 4 + 8 * 32 + 32 + 96);
	bbuf_free(&b);

	struct license_publish pub = { 0 };
	pub.price.w[1] = 1ull << 32;		/* 2^96: one over uint96 */
	T_ERR(t, license_publish_call(&b, &pub), ERR_RANGE);
	T_EQ(t, b.len, 0);
	T_ERR(t, did_set_attribute_call(&b, v[0].recipient,
					"a name longer than thirty-two bytes!",
					NULL, 0, 1), ERR_TOO_BIG);
}

static void test_events(struct tctx *t)
{
	struct chain_log l = { 0 };
	struct u256 id, price;
	uint8_t data[32] = { 0 };
	uint8_t holder[20], wrapped[32];

	chain_event_topic(l.topics[0], EV_LICENSE_PURCHASED);
	l.topics[1][31] = 9;
	l.ntopics = 2;
	data[31] = 100;
	l.data = data;
	l.data_len = 32;
	T_OK(t, ev_license_purchased_decode(&l, &id, &price));
	T_EQ(t, id.w[0], 9);
	T_EQ(t, price.w[0], 100);
	l.ntopics = 3;
	T_ERR(t, ev_license_purchased_decode(&l, &id, &price), ERR_FORMAT);
	l.ntopics = 2;
	l.data_len = 31;
	T_ERR(t, ev_license_purchased_decode(&l, &id, &price), ERR_FORMAT);
	/* another event's log is not ours */
	T_ERR(t, ev_key_delivered_decode(&l, &id, holder, wrapped), ERR_NOT_FOUND);
	/* KeyDelivered with a dirty holder topic */
	chain_event_topic(l.topics[0], EV_KEY_DELIVERED);
	l.ntopics = 3;
	l.data_len = 32;
	memset(l.topics[2], 0xff, 32);
	T_ERR(t, ev_key_delivered_decode(&l, &id, holder, wrapped), ERR_FORMAT);
	memset(l.topics[2], 0, 12);
	T_OK(t, ev_key_delivered_decode(&l, &id, holder, wrapped));
	T_EQ(t, holder[0], 0xff);
}

static void test_key_wrap(struct tctx *t)
{
	struct secp_sk a, e;
	struct secp_pk A, E;
	uint8_t k[32], w[32], back[32], rid[32];

	keccak256(a.b, "agent", 5);
	keccak256(e.b, "eph", 3);
	T_OK(t, secp_sk_pubkey(&a, &A));
	T_OK(t, secp_sk_pubkey(&e, &E));
	memset(k, 0x42, 32);
	memset(rid, 0x07, 32);
	T_OK(t, keyrel_wrap(w, k, &a, &E, rid));	/* agent: a·E */
	T_FALSE(t, memcmp(w, k, 32) == 0);
	T_OK(t, keyrel_wrap(back, w, &e, &A, rid));	/* holder: e·A */
	T_MEMEQ(t, back, k, 32);
	rid[0] ^= 1;					/* another request */
	T_OK(t, keyrel_wrap(back, w, &e, &A, rid));
	T_FALSE(t, memcmp(back, k, 32) == 0);
}

static void test_ticket_wins(struct tctx *t)
{
	struct eip712_ticket k;
	uint8_t sig[65], rand[32] = { 0 }, buf[97], h[32];
	int wins = 0;

	sample_ticket(&k);
	memset(sig, 0, sizeof(sig));
	for (int i = 0; i < 400; i++) {
		sig[0] = (uint8_t)i;
		sig[1] = (uint8_t)(i >> 8);
		bool w = hub_ticket_wins(&k, sig, rand);
		/* the contract's rule, spelled out: keccak(sig ‖ rand) < winProb */
		memcpy(buf, sig, 65);
		memcpy(buf + 65, rand, 32);
		keccak256(h, buf, sizeof(buf));
		T_EQ(t, w, h[0] < 0x40);
		wins += w;
	}
	T_TRUE(t, wins > 60 && wins < 140);	/* about a quarter */
	memset(&k.win_prob, 0, sizeof(k.win_prob));
	T_FALSE(t, hub_ticket_wins(&k, sig, rand));
}

static void test_error_names(struct tctx *t)
{
	uint8_t sel[4];

	abi_selector(sel, "TicketUsed(address,uint256)");
	T_STREQ(t, chain_calls_error_name(sel), "TicketUsed(address,uint256)");
	abi_selector(sel, "ERC20InsufficientAllowance(address,uint256,uint256)");
	T_TRUE(t, chain_calls_error_name(sel) != NULL);
	memset(sel, 0, 4);
	T_TRUE(t, chain_calls_error_name(sel) == NULL);
}

const struct test_case calls_tests[] = {
	{ "deploy", test_deploy, 0 },
	{ "paper", test_paper, 0 },
	{ "calldata_shapes", test_calldata_shapes, 0 },
	{ "events", test_events, 0 },
	{ "key_wrap", test_key_wrap, 0 },
	{ "ticket_wins", test_ticket_wins, 0 },
	{ "error_names", test_error_names, 0 },
	{ NULL, NULL, 0 }
};
