/*
 * apps/proxy/socks: SOCKS4, 4a and 5 requests parsed whole, byte by byte
 * (need more, never wrong), and refused when malformed or over the caps.
 */
#include "config.h"

#include <string.h>

#include "apps/proxy/socks.h"
#include "crypto/base/err.h"
#include "tests/unit/tharness.h"

/* Every proper prefix of buf must ask for more bytes. */
static void prefixes_truncated(struct tctx *t, const uint8_t *buf, size_t n,
			       int which)
{
	struct socks_req r;
	size_t used;
	bool na;

	for (size_t i = 0; i < n; i++) {
		int e = which == 0 ? socks5_greeting_parse(buf, i, &na, &used) :
			which == 5 ? socks5_request_parse(buf, i, &r, &used) :
				     socks4_request_parse(buf, i, &r, &used);

		T_EQ(t, e, ERR_TRUNCATED);
	}
}

static void test_socks5(struct tctx *t)
{
	static const uint8_t greet[] = { 5, 2, 2, 0 };
	static const uint8_t greet_auth[] = { 5, 1, 2 };
	uint8_t req[300] = { 5, 1, 0, 3 };
	const char *host = "abc.i2p";
	struct socks_req r;
	size_t used;
	bool na = false;

	T_OK(t, socks5_greeting_parse(greet, sizeof(greet), &na, &used));
	T_TRUE(t, na);
	T_EQ(t, used, 4);
	T_OK(t, socks5_greeting_parse(greet_auth, 3, &na, &used));
	T_FALSE(t, na);
	prefixes_truncated(t, greet, sizeof(greet), 0);

	req[4] = (uint8_t)strlen(host);
	memcpy(req + 5, host, strlen(host));
	req[5 + strlen(host)] = 0x01;
	req[6 + strlen(host)] = 0xbb;
	T_OK(t, socks5_request_parse(req, 7 + strlen(host) + 3, &r, &used));
	T_EQ(t, used, 7 + strlen(host));
	T_EQ(t, r.version, 5);
	T_EQ(t, r.cmd, SOCKS_CMD_CONNECT);
	T_EQ(t, r.atyp, SOCKS_ATYP_DOMAIN);
	T_STREQ(t, r.host, host);
	T_EQ(t, r.port, 443);
	prefixes_truncated(t, req, 7 + strlen(host), 5);

	/* IPv4 and IPv6 literals come back as text (never resolved) */
	{
		static const uint8_t v4[] = { 5, 1, 0, 1, 10, 0, 0, 1, 0, 80 };
		uint8_t v6[22] = { 5, 1, 0, 4 };

		v6[19] = 1;
		v6[21] = 22;
		T_OK(t, socks5_request_parse(v4, sizeof(v4), &r, &used));
		T_STREQ(t, r.host, "10.0.0.1");
		T_EQ(t, r.atyp, SOCKS_ATYP_IPV4);
		T_OK(t, socks5_request_parse(v6, sizeof(v6), &r, &used));
		T_STREQ(t, r.host, "::1");
		T_EQ(t, r.port, 22);
	}
}

static void test_socks5_bad(struct tctx *t)
{
	static const uint8_t v4[] = { 4, 1, 0 };
	static const uint8_t nomethods[] = { 5, 0 };
	static const uint8_t rsv[] = { 5, 1, 1, 1, 1, 2, 3, 4, 0, 80 };
	static const uint8_t atyp[] = { 5, 1, 0, 9, 1, 2, 3, 4, 0, 80 };
	static const uint8_t empty[] = { 5, 1, 0, 3, 0, 0, 80 };
	static const uint8_t nul[] = { 5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80 };
	struct socks_req r;
	size_t used;
	bool na;

	T_ERR(t, socks5_greeting_parse(v4, sizeof(v4), &na, &used), ERR_FORMAT);
	T_ERR(t, socks5_greeting_parse(nomethods, 2, &na, &used), ERR_FORMAT);
	T_ERR(t, socks5_request_parse(rsv, sizeof(rsv), &r, &used), ERR_FORMAT);
	T_ERR(t, socks5_request_parse(atyp, sizeof(atyp), &r, &used),
	      ERR_UNSUPPORTED);
	T_ERR(t, socks5_request_parse(empty, sizeof(empty), &r, &used),
	      ERR_FORMAT);
	T_ERR(t, socks5_request_parse(nul, sizeof(nul), &r, &used), ERR_FORMAT);
}

static void test_socks4(struct tctx *t)
{
	static const uint8_t plain[] = { 4, 1, 0, 80, 127, 0, 0, 1, 'u', 0 };
	uint8_t a[64] = { 4, 1, 0x1f, 0x90, 0, 0, 0, 1, 'm', 'e', 0 };
	uint8_t huge[600];
	struct socks_req r;
	size_t used;

	T_OK(t, socks4_request_parse(plain, sizeof(plain), &r, &used));
	T_EQ(t, used, sizeof(plain));
	T_STREQ(t, r.host, "127.0.0.1");
	T_EQ(t, r.atyp, SOCKS_ATYP_IPV4);
	T_EQ(t, r.port, 80);
	prefixes_truncated(t, plain, sizeof(plain), 4);

	/* 4a: 0.0.0.1 and a name after the user id */
	memcpy(a + 11, "x.b32.i2p", 10);
	T_OK(t, socks4_request_parse(a, 21, &r, &used));
	T_EQ(t, used, 21);
	T_EQ(t, r.atyp, SOCKS_ATYP_DOMAIN);
	T_STREQ(t, r.host, "x.b32.i2p");
	T_EQ(t, r.port, 8080);
	prefixes_truncated(t, a, 21, 4);
	a[11] = 0;	/* empty name */
	T_ERR(t, socks4_request_parse(a, 21, &r, &used), ERR_FORMAT);

	/* a user id or a name with no end: too big, not "more" forever */
	memset(huge, 'x', sizeof(huge));
	memcpy(huge, a, 8);
	T_ERR(t, socks4_request_parse(huge, sizeof(huge), &r, &used),
	      ERR_TOO_BIG);
	huge[9] = 0;
	T_ERR(t, socks4_request_parse(huge, sizeof(huge), &r, &used),
	      ERR_TOO_BIG);
	huge[0] = 5;
	T_ERR(t, socks4_request_parse(huge, sizeof(huge), &r, &used),
	      ERR_FORMAT);
}

static void test_replies(struct tctx *t)
{
	static const uint8_t r5[] = { 5, 4, 0, 1, 0, 0, 0, 0, 0, 0 };
	static const uint8_t r4[] = { 0, 90, 0, 0, 0, 0, 0, 0 };
	struct bbuf b = BBUF_INIT;

	socks5_reply_encode(&b, SOCKS5_HOST_UNREACHABLE);
	T_EQ(t, b.len, sizeof(r5));
	T_MEMEQ(t, b.data, r5, sizeof(r5));
	bbuf_reset(&b);
	socks4_reply_encode(&b, true);
	T_EQ(t, b.len, sizeof(r4));
	T_MEMEQ(t, b.data, r4, sizeof(r4));
	bbuf_free(&b);
}

const struct test_case proxy_socks_tests[] = {
	{ "socks5", test_socks5, 0 },
	{ "socks5_bad", test_socks5_bad, 0 },
	{ "socks4", test_socks4, 0 },
	{ "replies", test_replies, 0 },
	{ NULL, NULL, 0 }
};
