/*
 * chain/secp: CHAIN.md §7's address of key 1, the EIP-712 "Ether Mail"
 * signature (RFC 6979 makes it reproducible), recovery rules (high-s and
 * bad v refused, like OpenZeppelin's ECDSA.recover), ECDH returning the
 * compressed point, and EIP-55 addresses.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/secp.h"
#include "crypto/base/err.h"
#include "crypto/keccak.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_key1_address(struct tctx *t)
{
	json_t *root = tvec_load(t, "chain.json");
	struct secp_sk sk = { { 0 } };
	uint8_t addr[20];
	uint8_t *want;
	size_t n;

	if (!root)
		return;
	sk.b[31] = 1;
	want = tvec_field(t, json_object_get(root, "chain_md"), "address_of_key_1", &n);
	T_OK(t, secp_sk_address(&sk, addr));
	T_MEMEQ(t, addr, want, 20);
	free(want);
	json_decref(root);
}

static void test_mail_signature(struct tctx *t)
{
	json_t *root = tvec_load(t, "chain.json"), *m;
	struct secp_sk sk;
	uint8_t sig[65], addr[20], *digest, *r, *s, *signer;
	size_t n;

	if (!root)
		return;
	m = json_object_get(root, "eip712_mail");
	keccak256(sk.b, "cow", 3);
	digest = tvec_field(t, m, "digest", &n);
	r = tvec_field(t, m, "sig_r", &n);
	s = tvec_field(t, m, "sig_s", &n);
	signer = tvec_field(t, m, "signer_address", &n);
	T_OK(t, secp_sign(&sk, digest, sig));
	T_MEMEQ(t, sig, r, 32);
	T_MEMEQ(t, sig + 32, s, 32);
	T_EQ(t, sig[64], json_integer_value(json_object_get(m, "sig_v")));
	T_OK(t, secp_recover(digest, sig, addr));
	T_MEMEQ(t, addr, signer, 20);
	T_OK(t, secp_sk_address(&sk, addr));
	T_MEMEQ(t, addr, signer, 20);
	free(digest);
	free(r);
	free(s);
	free(signer);
	json_decref(root);
}

/* n - s for the high-s twin of a signature. */
static void negate_s(uint8_t s[32])
{
	static const uint8_t n[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
		0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41 };
	int borrow = 0;

	for (int i = 31; i >= 0; i--) {
		int d = n[i] - s[i] - borrow;
		borrow = d < 0;
		s[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

static void test_recover_rules(struct tctx *t)
{
	struct secp_sk sk;
	struct secp_pk pk, rpk;
	uint8_t digest[32], sig[65], bad[65], addr[20], want[20];

	keccak256(sk.b, "recover", 7);
	keccak256(digest, "message", 7);
	T_OK(t, secp_sk_address(&sk, want));
	T_OK(t, secp_sk_pubkey(&sk, &pk));
	T_OK(t, secp_sign(&sk, digest, sig));
	T_TRUE(t, sig[64] == 27 || sig[64] == 28);
	T_OK(t, secp_recover(digest, sig, addr));
	T_MEMEQ(t, addr, want, 20);
	T_OK(t, secp_recover_pk(digest, sig, &rpk));
	T_MEMEQ(t, rpk.b, pk.b, 33);
	memcpy(bad, sig, 65);			/* v = 0/1 is accepted */
	bad[64] -= 27;
	T_OK(t, secp_recover(digest, bad, addr));
	T_MEMEQ(t, addr, want, 20);
	bad[64] = 29;
	T_ERR(t, secp_recover(digest, bad, addr), ERR_BAD_SIG);
	memcpy(bad, sig, 65);			/* the malleable twin */
	negate_s(bad + 32);
	bad[64] = (uint8_t)(sig[64] == 27 ? 28 : 27);
	T_ERR(t, secp_recover(digest, bad, addr), ERR_BAD_SIG);
	memset(bad, 0, 64);			/* r = s = 0 */
	bad[64] = 27;
	T_ERR(t, secp_recover(digest, bad, addr), ERR_BAD_SIG);
	digest[0] ^= 1;				/* another message: another signer */
	T_OK(t, secp_recover(digest, sig, addr));
	T_FALSE(t, memcmp(addr, want, 20) == 0);
}

static void test_ecdh_point(struct tctx *t)
{
	struct secp_sk a, b;
	struct secp_pk pa, pb, ab_pk;
	uint8_t ab[33], ba[33], tweak[32] = { 0 };

	keccak256(a.b, "a", 1);
	keccak256(b.b, "b", 1);
	T_OK(t, secp_sk_pubkey(&a, &pa));
	T_OK(t, secp_sk_pubkey(&b, &pb));
	T_OK(t, secp_ecdh_point(&a, &pb, ab));
	T_OK(t, secp_ecdh_point(&b, &pa, ba));
	T_MEMEQ(t, ab, ba, 33);
	T_TRUE(t, ab[0] == 2 || ab[0] == 3);
	/* a·(b·G) is the public key of the scalar a·b: with b = 1 it is A */
	struct secp_sk one = { { 0 } };
	one.b[31] = 1;
	struct secp_pk zero_pk = { { 0 } };
	T_ERR(t, secp_ecdh_point(&a, &zero_pk, ab), ERR_FORMAT);
	T_OK(t, secp_sk_pubkey(&one, &ab_pk));
	T_OK(t, secp_ecdh_point(&a, &ab_pk, ab));
	T_MEMEQ(t, ab, pa.b, 33);
	/* tweak: (a + 1)·G == A + G */
	tweak[31] = 1;
	struct secp_sk a1;
	struct secp_pk pa1, pa_plus;
	T_OK(t, secp_sk_tweak_add(&a1, &a, tweak));
	T_OK(t, secp_sk_pubkey(&a1, &pa1));
	T_OK(t, secp_pk_tweak_add(&pa_plus, &pa, tweak));
	T_MEMEQ(t, pa1.b, pa_plus.b, 33);
}

static void test_eip55(struct tctx *t)
{
	/* EIP-55's own examples */
	static const char *const ex[] = {
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
	};
	uint8_t addr[20];
	char out[ETH_ADDR_STR_BYTES];

	for (size_t i = 0; i < 4; i++) {
		T_OK(t, eth_addr_parse(addr, ex[i]));
		T_STREQ(t, eth_addr_format(addr, out, sizeof(out)), ex[i]);
	}
	T_ERR(t, eth_addr_parse(addr, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe"), ERR_FORMAT);
	T_ERR(t, eth_addr_parse(addr, "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00"), ERR_FORMAT);
	T_ERR(t, eth_addr_parse(addr, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeZ"), ERR_FORMAT);
}

static void test_bad_keys(struct tctx *t)
{
	struct secp_sk zero = { { 0 } }, big;
	struct secp_pk pk;
	uint8_t sig[65], d[32] = { 0 };
	uint8_t notpoint[33] = { 0x02 };

	memset(big.b, 0xff, 32);
	T_FALSE(t, secp_sk_is_valid(&zero));
	T_FALSE(t, secp_sk_is_valid(&big));
	T_ERR(t, secp_sk_pubkey(&zero, &pk), ERR_CRYPTO);
	T_ERR(t, secp_sign(&big, d, sig), ERR_CRYPTO);
	memset(notpoint + 1, 0xff, 32);		/* x ≥ p: not on the curve */
	T_ERR(t, secp_pk_parse(&pk, notpoint, 33), ERR_FORMAT);
	T_ERR(t, secp_pk_parse(&pk, notpoint, 32), ERR_FORMAT);
}

const struct test_case secp_tests[] = {
	{ "key1_address", test_key1_address, 0 },
	{ "mail_signature", test_mail_signature, 0 },
	{ "recover_rules", test_recover_rules, 0 },
	{ "ecdh_point", test_ecdh_point, 0 },
	{ "eip55", test_eip55, 0 },
	{ "bad_keys", test_bad_keys, 0 },
	{ NULL, NULL, 0 }
};
