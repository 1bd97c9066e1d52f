/* router/router_address: RouterAddress wire form and NTCP2 options. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/router_address.h"
#include "crypto/base/err.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static const struct x25519_pk test_s = { {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
	0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0xfe } };
static const uint8_t test_iv[16] = { 0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5,
	0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f };

static int addr_decode_all(const uint8_t *p, size_t len,
			   struct router_address *a)
{
	struct breader r;
	int ret;

	br_init(&r, p, len);
	if ((ret = router_address_decode(&r, MAPPING_MAX_BYTES, a)) != 0)
		return ret;
	return br_done(&r) ? 0 : ERR_FORMAT;
}

static void test_ntcp2_published(struct tctx *t)
{
	struct router_address a = ROUTER_ADDRESS_INIT, d = ROUTER_ADDRESS_INIT;
	struct router_address_ntcp2 n;
	struct bbuf b = BBUF_INIT;
	static const uint8_t zero[8] = { 0 };

	T_OK(t, router_address_ntcp2_build(&a, 3, &test_s, "127.0.0.9",
					   23999, test_iv));
	T_STREQ(t, a.style, "NTCP2");
	T_STREQ(t, mapping_get(&a.options, "v"), "2");
	T_STREQ(t, mapping_get(&a.options, "port"), "23999");
	/* I2P Base64 of the 16-byte IV: 24 characters, '=' padded. */
	T_STREQ(t, mapping_get(&a.options, "i"), "8OHSw7Sllod4aVpLPC0eDw==");
	T_EQ(t, strlen(mapping_get(&a.options, "s")), 44);
	T_OK(t, router_address_encode(&a, &b));
	/* cost, then "expiration ... must be all zeros", then "NTCP2". */
	T_EQ(t, b.data[0], 3);
	T_MEMEQ(t, b.data + 1, zero, 8);
	T_EQ(t, b.data[9], 5);
	T_MEMEQ(t, b.data + 10, "NTCP2", 5);
	T_OK(t, addr_decode_all(b.data, b.len, &d));
	T_EQ(t, d.cost, 3);
	T_TRUE(t, mapping_is_sorted(&d.options));
	T_TRUE(t, router_address_is_ntcp2(&d));
	T_OK(t, router_address_ntcp2_parse(&d, &n));
	T_TRUE(t, n.published);
	T_EQ(t, n.family, AF_INET);
	T_STREQ(t, n.host, "127.0.0.9");
	T_EQ(t, n.port, 23999);
	T_TRUE(t, n.has_iv);
	T_MEMEQ(t, n.iv, test_iv, 16);
	T_MEMEQ(t, n.s.b, test_s.b, 32);
	/* Every prefix is an error. */
	for (size_t len = 0; len < b.len; len++)
		T_NE(t, addr_decode_all(b.data, len, &d), 0);
	router_address_clear(&a);
	router_address_clear(&d);
	bbuf_free(&b);
}

static void test_ntcp2_unpublished_v6(struct tctx *t)
{
	struct router_address a = ROUTER_ADDRESS_INIT;
	struct router_address_ntcp2 n;

	T_OK(t, router_address_ntcp2_build(&a, 14, &test_s, NULL, 0, NULL));
	T_EQ(t, a.options.n, 2);		/* s and v only */
	T_OK(t, router_address_ntcp2_parse(&a, &n));
	T_FALSE(t, n.published);
	T_FALSE(t, n.has_iv);
	T_EQ(t, n.family, 0);
	T_STREQ(t, n.host, "");

	T_OK(t, router_address_ntcp2_build(&a, 3, &test_s, "::1", 1, test_iv));
	T_OK(t, router_address_ntcp2_parse(&a, &n));
	T_TRUE(t, n.published);
	T_EQ(t, n.family, AF_INET6);
	T_EQ(t, n.port, 1);
	router_address_clear(&a);
}

static void test_ntcp2_build_args(struct tctx *t)
{
	struct router_address a = ROUTER_ADDRESS_INIT;

	T_OK(t, router_address_ntcp2_build(&a, 3, &test_s, NULL, 0, NULL));
	T_ERR(t, router_address_ntcp2_build(&a, 3, &test_s, "example.org", 1,
					    test_iv), ERR_ARG);
	T_ERR(t, router_address_ntcp2_build(&a, 3, &test_s, "127.0.0.1", 0,
					    test_iv), ERR_ARG);
	T_ERR(t, router_address_ntcp2_build(&a, 3, &test_s, "127.0.0.1", 80,
					    NULL), ERR_ARG);
	T_EQ(t, a.options.n, 2);		/* untouched by the failures */
	router_address_clear(&a);
}

static void test_ntcp2_parse_rejects(struct tctx *t)
{
	static const struct {
		const char *key, *value;
		int want;
	} cases[] = {
		{ "s", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH_4=", ERR_FORMAT },
		{ "s", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e", ERR_FORMAT },
		{ "i", "8OHSw7Sllod4aVpLPC0e", ERR_FORMAT },
		{ "port", "0", ERR_FORMAT },
		{ "port", "65536", ERR_FORMAT },
		{ "port", "12a", ERR_FORMAT },
		{ "port", "", ERR_FORMAT },
		{ "v", "1", ERR_UNSUPPORTED },
		{ "host", "example.org", ERR_UNSUPPORTED },
		{ "host", "127.0.0.256", ERR_UNSUPPORTED },
		{ "v", "1,2", 0 },
		{ "port", "65535", 0 },
	};
	struct router_address a = ROUTER_ADDRESS_INIT;
	struct router_address_ntcp2 n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_OK(t, router_address_ntcp2_build(&a, 3, &test_s, "10.1.2.3",
						   9, test_iv));
		T_OK(t, mapping_set(&a.options, cases[i].key, cases[i].value));
		T_ERR(t, router_address_ntcp2_parse(&a, &n), cases[i].want);
	}
	T_OK(t, mapping_remove(&a.options, "s"));
	T_ERR(t, router_address_ntcp2_parse(&a, &n), ERR_FORMAT);
	router_address_set_style(&a, "SSU2", 4);
	T_FALSE(t, router_address_is_ntcp2(&a));
	T_ERR(t, router_address_ntcp2_parse(&a, &n), ERR_ARG);
	router_address_clear(&a);
}

static void test_legacy_ntcp_style(struct tctx *t)
{
	struct router_address a = ROUTER_ADDRESS_INIT;

	router_address_set_style(&a, "NTCP", 4);
	T_FALSE(t, router_address_is_ntcp2(&a));
	T_OK(t, mapping_set(&a.options, "v", "1,2"));
	T_TRUE(t, router_address_is_ntcp2(&a));
	T_OK(t, mapping_set(&a.options, "v", "12"));
	T_FALSE(t, router_address_is_ntcp2(&a));
	router_address_clear(&a);
}

static void test_decode_rejects(struct tctx *t)
{
	/* cost 5, expiration 1 (non-zero), "SSU2", empty options */
	static const uint8_t expiring[] = { 5, 0, 0, 0, 0, 0, 0, 0, 1,
					    4, 'S', 'S', 'U', '2', 0, 0 };
	static const uint8_t nul_style[] = { 5, 0, 0, 0, 0, 0, 0, 0, 0,
					     4, 'S', 0, 'U', '2', 0, 0 };
	static const uint8_t ok[] = { 5, 0, 0, 0, 0, 0, 0, 0, 0,
				      4, 'S', 'S', 'U', '2', 0, 0 };
	struct router_address a = ROUTER_ADDRESS_INIT;

	T_ERR(t, addr_decode_all(expiring, sizeof(expiring), &a), ERR_FORMAT);
	T_ERR(t, addr_decode_all(nul_style, sizeof(nul_style), &a), ERR_FORMAT);
	T_OK(t, addr_decode_all(ok, sizeof(ok), &a));
	T_EQ(t, a.cost, 5);
	T_STREQ(t, a.style, "SSU2");
	T_EQ(t, a.options.n, 0);
	T_EQ(t, sizeof(ok), ROUTER_ADDRESS_MIN_BYTES + 4);
	router_address_clear(&a);
}

/* The styles routers publish are static strings; any other, up to 255
 * bytes, is a block of the address's own, copied with it and freed with
 * it or when another style replaces it. */
static void test_style_storage(struct tctx *t)
{
	uint8_t buf[9 + 1 + 255 + 2] = { 7 };
	struct router_address a = ROUTER_ADDRESS_INIT, c = ROUTER_ADDRESS_INIT;
	static const uint8_t ssu2[] = { 5, 0, 0, 0, 0, 0, 0, 0, 0,
					4, 'S', 'S', 'U', '2', 0, 0 };

	buf[9] = 255;
	memset(buf + 10, 'z', 255);
	T_OK(t, addr_decode_all(buf, sizeof(buf), &a));
	T_TRUE(t, a.style_owned);
	T_EQ(t, strlen(a.style), 255);
	router_address_copy(&c, &a);
	T_TRUE(t, c.style_owned && c.style != a.style);
	T_STREQ(t, c.style, a.style);
	T_OK(t, addr_decode_all(ssu2, sizeof(ssu2), &a));	/* frees it */
	T_FALSE(t, a.style_owned);
	T_STREQ(t, a.style, "SSU2");
	router_address_copy(&c, &a);
	T_FALSE(t, c.style_owned);
	T_STREQ(t, c.style, "SSU2");
	router_address_set_style(&c, "NTCP", 3);	/* a prefix: "NTC" */
	T_TRUE(t, c.style_owned);
	T_STREQ(t, c.style, "NTC");
	router_address_clear(&a);
	router_address_clear(&c);
	T_FALSE(t, c.style_owned);
	T_STREQ(t, c.style, "");
}

const struct test_case router_address_tests[] = {
	{ "ntcp2_published", test_ntcp2_published, 0 },
	{ "ntcp2_unpublished_v6", test_ntcp2_unpublished_v6, 0 },
	{ "ntcp2_build_args", test_ntcp2_build_args, 0 },
	{ "ntcp2_parse_rejects", test_ntcp2_parse_rejects, 0 },
	{ "legacy_ntcp_style", test_legacy_ntcp_style, 0 },
	{ "style_storage", test_style_storage, 0 },
	{ "decode_rejects", test_decode_rejects, 0 },
	{ NULL, NULL, 0 }
};
