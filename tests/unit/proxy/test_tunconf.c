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
	/* the tunnel and encrypted-LeaseSet keys out of range */
	static const char *const bad_ls[] = {
		"[x]\ntype = client\ndestination = a.i2p\ninbound.length = 8\n",
		"[x]\ntype = client\ndestination = a.i2p\n"
		"outbound.quantity = 0\n",
		"[x]\ntype = server\nport = 1\nkeys = k\n"
		"i2cp.leaseSetType = 4\n",
		"[x]\ntype = server\nport = 1\nkeys = k\n"
		"i2cp.leaseSetAuthType = 3\n",
		/* a per-client LeaseSet without clients */
		"[x]\ntype = server\nport = 1\nkeys = k\n"
		"i2cp.leaseSetType = 5\ni2cp.leaseSetAuthType = 1\n",
		/* 31 bytes, and a bad character */
		"[x]\ntype = client\ndestination = a.i2p\n"
		"i2cp.leaseSetPrivKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
		"[x]\ntype = server\nport = 1\nkeys = k\n"
		"i2cp.leaseSetClient.psk.0 = a:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+A=\n",
		/* a lookup secret that is not base64, empty, over 128 bytes */
		"[x]\ntype = server\nport = 1\nkeys = k\n"
		"i2cp.leaseSetSecret = !!!!\n",
		"[x]\ntype = server\nport = 1\nkeys = k\n"
		"i2cp.leaseSetSecret = \n",
		"[x]\ntype = client\ndestination = a.i2p\n"
		"i2cp.leaseSetSecret = eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\n",
	};
	for (size_t i = 0; i < sizeof(bad_ls) / sizeof(bad_ls[0]); i++) {
		err[0] = 0;
		T_TRUE(t, parse(bad_ls[i], &tc, err, sizeof(err)) != 0);
		T_TRUE(t, strncmp(err, "line ", 5) == 0);
	}
	T_OK(t, parse("", &tc, err, sizeof(err)));
	T_EQ(t, tc->n, 0);
	tunconf_free(tc);
}

/* i2pd's encrypted-LeaseSet and tunnel keys */
static void test_els(struct tctx *t)
{
	static const char conf[] =
		"[site]\ntype = server\nport = 80\nkeys = s.dat\n"
		"inbound.length = 0\noutbound.length = 2\n"
		"inbound.quantity = 3\n"
		"i2cp.leaseSetType = 5\ni2cp.leaseSetAuthType = 1\n"
		"i2cp.leaseSetClient.dh.0 = alice:"
		"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n"
		"i2cp.leaseSetClient.dh.1 = "
		"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n"
		"i2cp.leaseSetSecret = b3BlbiBzZXNhbWU=\n"
		"[c]\ntype = client\ndestination = a.i2p\n"
		"i2cp.leaseSetPrivKey = "
		"~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~8=\n";
	struct tunconf *tc = NULL;
	char err[128] = "";

	T_OK(t, parse(conf, &tc, err, sizeof(err)));
	T_EQ(t, tc->n, 2);
	T_EQ(t, tc->e[0].in_length, 0);
	T_EQ(t, tc->e[0].out_length, 2);
	T_EQ(t, tc->e[0].in_quantity, 3);
	T_EQ(t, tc->e[0].out_quantity, -1);
	T_TRUE(t, tc->e[0].ls_encrypted);
	T_EQ(t, tc->e[0].ls_auth, 1);
	T_EQ(t, tc->e[0].n_ls_clients, 2);
	T_EQ(t, tc->e[0].ls_clients[0][31], 1);
	T_EQ(t, tc->e[0].ls_clients[1][0], 2);
	T_TRUE(t, !tc->e[0].has_ls_priv_key);
	T_TRUE(t, !tc->e[1].ls_encrypted);
	T_EQ(t, tc->e[1].in_length, -1);
	T_TRUE(t, tc->e[1].has_ls_priv_key);
	T_EQ(t, tc->e[1].ls_priv_key[0], 0xff);
	/* the lookup secret, decoded: "open sesame" */
	T_EQ(t, tc->e[0].ls_secret_len, 11);
	T_MEMEQ(t, tc->e[0].ls_secret, "open sesame", 11);
	T_TRUE(t, tc->e[1].ls_secret == NULL);
	tunconf_free(tc);
}

const struct test_case proxy_tunconf_tests[] = {
	{ "good", test_good, 0 },
	{ "els", test_els, 0 },
	{ "bad", test_bad, 0 },
	{ NULL, NULL, 0 }
};
