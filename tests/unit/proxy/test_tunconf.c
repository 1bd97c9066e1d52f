/*
 * apps/proxy/tunconf: i2pd-format tunnels.conf files, and the errors
 * for what we refuse (names to resolve, missing keys, bad values).
 */
#include "config.h"

#include <string.h>

#include "apps/proxy/tunconf.h"
#include "crypto/base/err.h"
#include "tests/unit/tharness.h"

static int parse(const char *s, struct tunconf **tc, char *err, size_t n)
{
	return tunconf_parse(s, strlen(s), tc, err, n);
}

static void test_good(struct tctx *t)
{
	static const char conf[] =
		"# i2pd style\n"
		"[site]\ntype = http\nhost = 127.0.0.5\nport = 8080\n"
		"keys = site.dat\ninbound.length = 1\n"
		"i2p.streaming.maxConnsPerMinute = 10\n"
		"i2p.streaming.maxConcurrentStreams = 3\n\n"
		"[irc]\ntype = client\naddress = 127.0.0.1\nport = 6668\n"
		"destination = irc.postman.i2p\ndestinationport = 6667\n"
		"[blog]\r\ntype = web\r\nroot = /srv/blog\r\nkeys = blog.dat\r\n"
		"listing = true\r\n";
	struct tunconf *tc = NULL;
	char err[128] = "";

	T_OK(t, parse(conf, &tc, err, sizeof(err)));
	T_EQ(t, tc->n, 3);
	T_STREQ(t, tc->e[0].name, "site");
	T_EQ(t, tc->e[0].type, TUNCONF_SERVER);
	T_STREQ(t, tc->e[0].host, "127.0.0.5");
	T_EQ(t, tc->e[0].port, 8080);
	T_STREQ(t, tc->e[0].keys, "site.dat");
	T_EQ(t, tc->e[0].per_minute, 10);
	T_EQ(t, tc->e[0].max_streams, 3);
	T_EQ(t, tc->e[1].type, TUNCONF_CLIENT);
	T_STREQ(t, tc->e[1].destination, "irc.postman.i2p");
	T_EQ(t, tc->e[1].destination_port, 6667);
	T_EQ(t, tc->e[1].port, 6668);
	T_TRUE(t, tc->e[1].keys == NULL);
	T_EQ(t, tc->e[2].type, TUNCONF_WEB);
	T_STREQ(t, tc->e[2].root, "/srv/blog");
	T_TRUE(t, tc->e[2].listing);
	tunconf_free(tc);
}

static void test_bad(struct tctx *t)
{
	static const char *const bad[] = {
		"key = value\n",
		"[x]\ntype = server\nhost = localhost\nport = 1\nkeys = k\n",
		"[x]\ntype = server\nport = 1\n",
		"[x]\ntype = server\nkeys = k\n",
		"[x]\ntype = client\n",
		"[x]\ntype = web\nkeys = k\n",
		"[x]\ntype = udpserver\n",
		"[x]\ntype = server\nport = 70000\nkeys = k\n",
		"[x]\ntype = server\nport = 1\nkeys = ../../etc/k\n",
		"[x\n",
		"[]\n",
		"[x]\nnoequals\n",
		("[x]\ntype = client\ndestination = a.i2p\n"
		 "i2p.streaming.maxConnsPerMinute = lots\n"),
	};
	struct tunconf *tc;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		T_TRUE(t, parse(bad[i], &tc, err, sizeof(err)) != 0);
		T_TRUE(t, strncmp(err, "line ", 5) == 0);
	}
	T_OK(t, parse("", &tc, err, sizeof(err)));
	T_EQ(t, tc->n, 0);
	tunconf_free(tc);
}

const struct test_case proxy_tunconf_tests[] = {
	{ "good", test_good, 0 },
	{ "bad", test_bad, 0 },
	{ NULL, NULL, 0 }
};
