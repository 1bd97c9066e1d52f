/*
 * router/ri_pay: the bits.pay.* RouterInfo options of relays that want
 * pay: published from relay.pay / relay.pay.price, read back from the
 * signed bytes a peer receives, and refused when malformed.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/conf.h"
#include "router/mapping.h"
#include "router/ri_pay.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "crypto/base/err.h"

#include <string.h>

static void test_price(struct tctx *t)
{
	T_TRUE(t, ri_pay_price_is_valid("0"));
	T_TRUE(t, ri_pay_price_is_valid("1000000"));
	T_TRUE(t, ri_pay_price_is_valid("79228162514264337593543950335"));
	T_FALSE(t, ri_pay_price_is_valid("79228162514264337593543950336"));
	T_FALSE(t, ri_pay_price_is_valid("100000000000000000000000000000"));
	T_FALSE(t, ri_pay_price_is_valid(""));
	T_FALSE(t, ri_pay_price_is_valid("01"));
	T_FALSE(t, ri_pay_price_is_valid("-1"));
	T_FALSE(t, ri_pay_price_is_valid("12a"));
	T_FALSE(t, ri_pay_price_is_valid(" 12"));
}

static void test_conf(struct tctx *t)
{
	struct conf *cfg = conf_new_default("/unused");

	T_FALSE(t, cfg->relay_pay);
	T_TRUE(t, cfg->relay_pay_price == NULL);
	T_OK(t, conf_set(cfg, "relay.pay", "true", NULL, 0));
	T_OK(t, conf_set(cfg, "relay.pay.price", "250000", NULL, 0));
	T_TRUE(t, cfg->relay_pay);
	T_STREQ(t, cfg->relay_pay_price, "250000");
	T_ERR(t, conf_set(cfg, "relay.pay.price", "2.5", NULL, 0), ERR_RANGE);
	T_ERR(t, conf_set(cfg, "relay.pay.price",
			  "79228162514264337593543950336", NULL, 0), ERR_RANGE);
	T_STREQ(t, cfg->relay_pay_price, "250000");
	conf_free(cfg);
}

/* What a peer sees: the options in the signed RouterInfo bytes. */
static void test_published(struct tctx *t)
{
	struct router_keys *k = router_keys_new_random();
	struct conf *cfg = conf_new_default("/unused");
	struct ri_pay p, got;
	struct router_self_reach rr = { .pay = &p };
	struct router_info *ri = NULL, *back = NULL;
	const uint8_t *bytes;
	size_t len = 0, plain_len = 0;

	memset(&p, 0, sizeof(p));
	for (size_t i = 0; i < sizeof(p.meta); i++)
		p.meta[i] = (uint8_t)(i * 7 + 1);
	memset(p.commit, 0xc3, sizeof(p.commit));
	cfg->netid = 77;
	cfg->port = 12345;
	T_OK(t, conf_set(cfg, "host", "127.0.0.5", NULL, 0));
	/* relay.pay off: nothing published even with pay info */
	T_OK(t, router_self_build_reach(cfg, k, &rr, &ri));
	if (ri) {
		(void)router_info_bytes(ri, &plain_len);
		T_ERR(t, ri_pay_parse(router_info_options(ri), &got), ERR_NOT_FOUND);
	}
	router_info_free(ri);
	ri = NULL;
	/* on, but no price: refused */
	T_OK(t, conf_set(cfg, "relay.pay", "true", NULL, 0));
	T_ERR(t, router_self_build_reach(cfg, k, &rr, &ri), ERR_ARG);
	T_OK(t, conf_set(cfg, "relay.pay.price", "79228162514264337593543950335", NULL, 0));
	T_OK(t, router_self_build_reach(cfg, k, &rr, &ri));
	if (!ri)
		goto out;
	bytes = router_info_bytes(ri, &len);
	T_OK(t, router_info_decode(bytes, len, &back));
	if (!back)
		goto out;
	T_OK(t, router_info_verify(back));
	T_OK(t, ri_pay_parse(router_info_options(back), &got));
	T_MEMEQ(t, got.meta, p.meta, sizeof(p.meta));
	T_MEMEQ(t, got.commit, p.commit, sizeof(p.commit));
	T_STREQ(t, got.price, "79228162514264337593543950335");
	/* three Mapping entries (length ‖ key ‖ '=' ‖ length ‖ value ‖ ';'):
	 * 4 + 13 + 88, 4 + 15 + 44, 4 + 14 + 29 */
	T_EQ(t, len - plain_len, 215);
	T_TRUE(t, len <= ROUTER_INFO_MAX_BYTES);
out:
	router_info_free(ri);
	router_info_free(back);
	conf_free(cfg);
	router_keys_free(k);
}

static void test_parse_refusals(struct tctx *t)
{
	struct mapping m = MAPPING_INIT;
	struct ri_pay got;
	char meta[89], commit[45];

	memset(meta, 'A', 88);
	meta[88] = 0;
	memset(commit, 'A', 44);
	commit[43] = '=';
	commit[44] = 0;
	T_ERR(t, ri_pay_parse(&m, &got), ERR_NOT_FOUND);
	T_OK(t, mapping_set(&m, RI_PAY_OPT_META, meta));
	T_ERR(t, ri_pay_parse(&m, &got), ERR_FORMAT);	/* the others missing */
	T_OK(t, mapping_set(&m, RI_PAY_OPT_COMMIT, commit));
	T_ERR(t, ri_pay_parse(&m, &got), ERR_FORMAT);
	T_OK(t, mapping_set(&m, RI_PAY_OPT_PRICE, "10"));
	T_OK(t, ri_pay_parse(&m, &got));
	T_STREQ(t, got.price, "10");
	T_OK(t, mapping_set(&m, RI_PAY_OPT_PRICE, "1e3"));
	T_ERR(t, ri_pay_parse(&m, &got), ERR_FORMAT);
	T_OK(t, mapping_set(&m, RI_PAY_OPT_PRICE, "10"));
	T_OK(t, mapping_set(&m, RI_PAY_OPT_COMMIT, "AAAA"));	/* 3 bytes */
	T_ERR(t, ri_pay_parse(&m, &got), ERR_FORMAT);
	T_OK(t, mapping_set(&m, RI_PAY_OPT_COMMIT, commit));
	meta[10] = '*';					/* not base64 */
	T_OK(t, mapping_set(&m, RI_PAY_OPT_META, meta));
	T_ERR(t, ri_pay_parse(&m, &got), ERR_FORMAT);
	meta[10] = 'A';
	meta[84] = 0;					/* 63 bytes */
	T_OK(t, mapping_set(&m, RI_PAY_OPT_META, meta));
	T_ERR(t, ri_pay_parse(&m, &got), ERR_FORMAT);
	mapping_clear(&m);
}

const struct test_case router_ri_pay_tests[] = {
	{ "price", test_price, 0 },
	{ "conf", test_conf, 0 },
	{ "published", test_published, 0 },
	{ "parse_refusals", test_parse_refusals, 0 },
	{ NULL, NULL, 0 }
};
