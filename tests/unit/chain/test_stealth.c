/*
 * chain/stealth: the pinned vector of CHAIN.md §4 (p_spend = 0x11…,
 * p_view = 0x22…, e = 0x33…), then generate → scan → spend-key round trips
 * with random keys, and strangers' keys rejected.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/stealth.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/keccak.h"
#include "crypto/rand.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_chain_md_vector(struct tctx *t)
{
	json_t *root = tvec_load(t, "chain.json"), *s;
	struct secp_sk spend, view, e, key;
	struct stealth_meta m;
	struct stealth_out o;
	uint8_t *ps, *pv, *pe, *want_e, *tag, *want_key, want_addr[20], addr[20];
	uint8_t sp[33], h[32];
	size_t n;

	if (!root)
		return;
	s = json_object_get(json_object_get(root, "chain_md"), "stealth");
	ps = tvec_field(t, s, "p_spend", &n);
	pv = tvec_field(t, s, "p_view", &n);
	pe = tvec_field(t, s, "e", &n);
	want_e = tvec_field(t, s, "E", &n);
	tag = tvec_field(t, s, "view_tag", &n);
	want_key = tvec_field(t, s, "stealth_key", &n);
	T_OK(t, eth_addr_parse(want_addr, json_string_value(json_object_get(s, "stealth_address"))));
	memcpy(spend.b, ps, 32);
	memcpy(view.b, pv, 32);
	memcpy(e.b, pe, 32);

	T_OK(t, stealth_meta_from_keys(&m, &spend, &view));
	T_OK(t, stealth_generate(&o, &m, &e));
	T_MEMEQ(t, o.eph.b, want_e, 33);
	T_EQ(t, o.view_tag, tag[0]);
	T_MEMEQ(t, o.addr, want_addr, 20);
	T_EQ(t, stealth_scan(&view, &m.spend, &o.eph, o.view_tag, want_addr, addr), 1);
	T_MEMEQ(t, addr, want_addr, 20);
	T_OK(t, stealth_spend_key(&key, &spend, &view, &o.eph));
	T_MEMEQ(t, key.b, want_key, 32);
	T_OK(t, secp_sk_address(&key, addr));
	T_MEMEQ(t, addr, want_addr, 20);

	/* The two wrong hashings the spec warns about really give other
	 * stealth addresses (CHAIN.md §4: 0x35cfea… and 0x824af4…). */
	struct secp_pk full, p;
	uint8_t xy[65], wrong[20];
	T_OK(t, secp_ecdh_point(&e, &m.view, sp));
	keccak256(h, sp + 1, 32);
	T_OK(t, secp_pk_tweak_add(&p, &m.spend, h));
	T_OK(t, secp_pk_address(&p, wrong));
	T_EQ(t, wrong[0], 0x35);
	T_EQ(t, wrong[1], 0xcf);
	T_EQ(t, wrong[2], 0xea);
	T_OK(t, secp_pk_parse(&full, sp, 33));
	T_OK(t, secp_pk_uncompressed(&full, xy));
	keccak256(h, xy + 1, 64);
	T_OK(t, secp_pk_tweak_add(&p, &m.spend, h));
	T_OK(t, secp_pk_address(&p, wrong));
	T_EQ(t, wrong[0], 0x82);
	T_EQ(t, wrong[1], 0x4a);
	T_EQ(t, wrong[2], 0xf4);
	free(ps);
	free(pv);
	free(pe);
	free(want_e);
	free(tag);
	free(want_key);
	json_decref(root);
}

static void test_roundtrip_random(struct tctx *t)
{
	struct secp_sk spend, view, other, key;
	struct stealth_meta m, m2;
	struct stealth_out o;
	uint8_t meta[STEALTH_META_BYTES], addr[20];
	int matches = 0;

	rand_set_deterministic(5564);
	secp_sk_generate(&spend);
	secp_sk_generate(&view);
	secp_sk_generate(&other);
	T_OK(t, stealth_meta_from_keys(&m, &spend, &view));
	stealth_meta_encode(&m, meta);
	T_OK(t, stealth_meta_decode(&m2, meta, sizeof(meta)));
	T_MEMEQ(t, m2.spend.b, m.spend.b, 33);
	T_MEMEQ(t, m2.view.b, m.view.b, 33);
	for (int i = 0; i < 20; i++) {
		T_OK(t, stealth_generate(&o, &m, NULL));
		T_EQ(t, stealth_scan(&view, &m.spend, &o.eph, o.view_tag, NULL, addr), 1);
		T_MEMEQ(t, addr, o.addr, 20);
		T_OK(t, stealth_spend_key(&key, &spend, &view, &o.eph));
		T_OK(t, secp_sk_address(&key, addr));
		T_MEMEQ(t, addr, o.addr, 20);
		/* without the tag (E over the overlay): the same address,
		 * and another with a stranger's view key */
		T_OK(t, stealth_derive(&view, &m.spend, &o.eph, addr));
		T_MEMEQ(t, addr, o.addr, 20);
		T_OK(t, stealth_derive(&other, &m.spend, &o.eph, addr));
		T_TRUE(t, memcmp(addr, o.addr, 20) != 0);
		/* a stranger's view key never yields the announced address,
		 * and passes the tag alone about 1 time in 256 */
		T_EQ(t, stealth_scan(&other, &m.spend, &o.eph, o.view_tag, o.addr, addr), 0);
		matches += stealth_scan(&other, &m.spend, &o.eph, o.view_tag, NULL, addr) == 1;
		/* a wrong tag is refused at once */
		T_EQ(t, stealth_scan(&view, &m.spend, &o.eph,
				     (uint8_t)(o.view_tag ^ 1), NULL, addr), 0);
	}
	T_TRUE(t, matches <= 2);
	rand_set_deterministic(0);
}

static void test_bad_meta(struct tctx *t)
{
	uint8_t meta[STEALTH_META_BYTES] = { 0x02 };
	struct stealth_meta m;

	T_ERR(t, stealth_meta_decode(&m, meta, sizeof(meta)), ERR_FORMAT);
	T_ERR(t, stealth_meta_decode(&m, meta, 65), ERR_FORMAT);
}

const struct test_case stealth_tests[] = {
	{ "chain_md_vector", test_chain_md_vector, 0 },
	{ "roundtrip_random", test_roundtrip_random, TT_FORK },
	{ "bad_meta", test_bad_meta, 0 },
	{ NULL, NULL, 0 }
};
