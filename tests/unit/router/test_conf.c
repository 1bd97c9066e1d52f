/* router/conf: the INI file, the command line and how they combine. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/conf.h"
#include "router/ntcp2.h"
#include "router/ratchet.h"
#include "router/ssu2.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse text as file "t.conf" into a default config. */
static int parse(struct conf **cfg, const char *text, char *err,
		 size_t errlen)
{
	*cfg = conf_new_default("/nonexistent");
	err[0] = '\0';
	return conf_parse_ini(*cfg, "t.conf", (const uint8_t *)text,
			      strlen(text), err, errlen);
}

static bool contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static void test_defaults(struct tctx *t)
{
	struct conf *c = conf_new_default("/d");

	T_STREQ(t, c->datadir, "/d");
	T_EQ(t, c->netid, 2);
	T_EQ(t, c->loglevel, LOG_NOTICE);
	T_STREQ(t, c->host, "127.0.0.1");
	T_EQ(t, c->port, 0);
	T_FALSE(t, c->floodfill);
	T_TRUE(t, c->logfile == NULL);
	conf_free(c);
}

static void test_ini_good(struct tctx *t)
{
	/* BOM, comments of both kinds, blank lines, CRLF, spaces, an
	 * inline comment, a later duplicate winning. */
	static const char text[] =
		"\xef\xbb\xbf# bits.conf\r\n"
		"; another comment\n"
		"\n"
		"   loglevel   =   debug   \r\n"
		"port = 1234\n"
		"port=4567 # the real port\n"
		"netid = 77\n"
		"host = 127.0.0.5\n"
		"host6 = ::1\n"
		"floodfill = yes\n"
		"logfile = /tmp/x.log";
	char err[CONF_ERR_BYTES];
	struct conf *c;

	T_OK(t, parse(&c, text, err, sizeof(err)));
	T_EQ(t, c->loglevel, LOG_DEBUG);
	T_EQ(t, c->port, 4567);
	T_EQ(t, c->netid, 77);
	T_STREQ(t, c->host, "127.0.0.5");
	T_STREQ(t, c->host6, "::1");
	T_TRUE(t, c->floodfill);
	T_STREQ(t, c->logfile, "/tmp/x.log");
	conf_free(c);
}

/* Tunnel pool and transit keys: values, defaults and ranges. */
static void test_ini_tunnels(struct tctx *t)
{
	static const char text[] =
		"bandwidth = 2048\n"
		"[exploratory]\n"
		"inbound.length = 3\n"
		"outbound.length = 0\n"
		"inbound.quantity = 16\n"
		"inbound.variance = 3\n"
		"outbound.variance = -2\n"
		"allow-zero-hop = true\n"
		"outbound.backup = 4\n"
		"[tunnels]\n"
		"same-subnet = true\n"
		"lifetime = 90\n"
		"[transit]\n"
		"max-tunnels = 0\n"
		"share = 50\n";
	static const char *const bad[] = {
		"[exploratory]\ninbound.length = -1\n",
		"[sam]\nhops = 8\n",
		"[exploratory]\noutbound.length = 8\n",
		"[exploratory]\noutbound.length = 99999999999999999999999\n",
		"[exploratory]\noutbound.quantity = 17\n",
		"[exploratory]\ninbound.variance = 4\n",
		"[exploratory]\ninbound.variance = -4\n",
		"[exploratory]\ninbound.variance = --1\n",
		"[exploratory]\noutbound.backup = 5\n",
		"[transit]\nshare = 101\n",
		"[tunnels]\nlifetime = 59\n",
		"[tunnels]\nlifetime = 601\n",
		"[transit]\nmax-tunnels = -1\n",
	};
	char err[CONF_ERR_BYTES];
	struct conf *c = conf_new_default("/d");

	T_EQ(t, c->transit_max_tunnels, CONF_DEFAULT_TRANSIT_MAX_TUNNELS);
	T_EQ(t, c->transit_share_pct, CONF_DEFAULT_TRANSIT_SHARE_PCT);
	T_EQ(t, c->expl_in_length, CONF_DEFAULT_EXPL_LENGTH);
	T_EQ(t, c->expl_out_length, CONF_DEFAULT_EXPL_LENGTH);
	T_EQ(t, c->sam_hops, CONF_DEFAULT_SAM_HOPS);
	T_FALSE(t, c->tunnels_same_subnet);
	T_FALSE(t, c->expl_allow_zero_hop);
	conf_free(c);
	T_OK(t, parse(&c, text, err, sizeof(err)));
	T_EQ(t, c->bandwidth_kBps, 2048);
	T_EQ(t, c->expl_in_length, 3);
	T_EQ(t, c->expl_out_length, 0);	/* zero-hop tunnels */
	T_EQ(t, c->expl_in_quantity, 16);
	T_EQ(t, c->expl_out_quantity, 0);
	T_EQ(t, c->expl_in_variance, 3);
	T_EQ(t, c->expl_out_variance, -2);
	T_TRUE(t, c->expl_allow_zero_hop);
	T_EQ(t, c->expl_in_backup, 0);
	T_EQ(t, c->expl_out_backup, 4);
	T_TRUE(t, c->tunnels_same_subnet);
	T_EQ(t, c->tunnels_lifetime_s, 90);
	T_EQ(t, c->transit_max_tunnels, 0);
	T_EQ(t, c->transit_share_pct, 50);
	conf_free(c);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		c = NULL;
		T_ERR(t, parse(&c, bad[i], err, sizeof(err)), ERR_RANGE);
		T_TRUE(t, contains(err, ":2:"));
		conf_free(c);
	}
}

/* The [market] section (apps/bitsd_market.h): everything off by default,
 * each key read into its field, a bad bool or count refused. */
static void test_ini_market(struct tctx *t)
{
	static const char text[] =
		"[market]\n"
		"gateway = true\n"
		"gateway.rpc = http://127.0.0.1:8545\n"
		"gateways = a.b32.i2p,b.b32.i2p\n"
		"deploy = /x/deploy.json\n"
		"accounts = 0x00000000000000000000000000000000000000aa\n"
		"agent = true\n"
		"agent.keys = /x/agent.keys\n"
		"relayer.key = /x/relayer.key\n"
		"relayer.min-fee = 1000\n";
	char err[CONF_ERR_BYTES];
	struct conf *c = conf_new_default("/d");

	T_FALSE(t, c->market_gateway);
	T_FALSE(t, c->market_agent);
	T_TRUE(t, !c->market_gateway_rpc && !c->market_gateways &&
		  !c->market_deploy && !c->market_accounts &&
		  !c->market_relayer_key && !c->market_agent_keys);
	T_EQ(t, c->market_relayer_min_fee, 0);
	conf_free(c);
	T_OK(t, parse(&c, text, err, sizeof(err)));
	T_TRUE(t, c->market_gateway);
	T_TRUE(t, c->market_agent);
	T_STREQ(t, c->market_gateway_rpc, "http://127.0.0.1:8545");
	T_STREQ(t, c->market_gateways, "a.b32.i2p,b.b32.i2p");
	T_STREQ(t, c->market_deploy, "/x/deploy.json");
	T_STREQ(t, c->market_accounts,
		"0x00000000000000000000000000000000000000aa");
	T_STREQ(t, c->market_relayer_key, "/x/relayer.key");
	T_STREQ(t, c->market_agent_keys, "/x/agent.keys");
	T_EQ(t, c->market_relayer_min_fee, 1000);
	conf_free(c);
	c = NULL;
	T_ERR(t, parse(&c, "[market]\ngateway = maybe\n", err, sizeof(err)),
	      ERR_FORMAT);
	conf_free(c);
	c = NULL;
	T_ERR(t, parse(&c, "[market]\nrelayer.min-fee = -1\n", err,
		       sizeof(err)), ERR_RANGE);
	conf_free(c);
}

/* [proxy] hops (default: sam.hops), the b33 client key and lookup
 * secret. */
static void test_ini_proxy(struct tctx *t)
{
	char err[CONF_ERR_BYTES];
	struct conf *c = conf_new_default("/d");

	T_EQ(t, c->proxy_hops, CONF_UNSET_HOPS);
	T_TRUE(t, c->proxy_leaseset_key == NULL);
	T_TRUE(t, c->proxy_leaseset_secret == NULL);
	conf_free(c);
	T_OK(t, parse(&c, "[proxy]\nhops = 2\nleaseset-key = AAAA\n"
		      "leaseset-secret = open sesame\n", err, sizeof(err)));
	T_EQ(t, c->proxy_hops, 2);
	T_STREQ(t, c->proxy_leaseset_key, "AAAA");
	T_STREQ(t, c->proxy_leaseset_secret, "open sesame");
	conf_free(c);
	c = NULL;
	T_ERR(t, parse(&c, "[proxy]\nhops = 8\n", err, sizeof(err)),
	      ERR_RANGE);
	conf_free(c);
}

static void test_ini_empty_value_clears_logfile(struct tctx *t)
{
	char err[CONF_ERR_BYTES];
	struct conf *c;

	T_OK(t, parse(&c, "logfile = /a\nlogfile =\n", err, sizeof(err)));
	T_TRUE(t, c->logfile == NULL);
	conf_free(c);
}

/* Each bad line gives the error code and "t.conf:LINE:" plus a hint. */
static void test_ini_bad_lines(struct tctx *t)
{
	static const struct {
		const char *text;
		int err;
		const char *where, *hint;
	} cases[] = {
		{ "port = 1\nport = 70000\n", ERR_RANGE, "t.conf:2: ", "65535" },
		{ "port = 0\n", ERR_RANGE, "t.conf:1: ", "port" },
		{ "port = 12ab\n", ERR_RANGE, "t.conf:1: ", "12ab" },
		{ "port = -5\n", ERR_RANGE, "t.conf:1: ", "port" },
		{ "port = 080\n", ERR_RANGE, "t.conf:1: ", "port" },
		{ "\n\nnetid = 256\n", ERR_RANGE, "t.conf:3: ", "255" },
		{ "loglevel = loud\n", ERR_FORMAT, "t.conf:1: ", "loud" },
		{ "host = example.com\n", ERR_FORMAT, "t.conf:1: ", "IPv4" },
		{ "host6 = 10.0.0.1\n", ERR_FORMAT, "t.conf:1: ", "IPv6" },
		{ "floodfill = maybe\n", ERR_FORMAT, "t.conf:1: ", "true" },
		{ "datadir =\n", ERR_FORMAT, "t.conf:1: ", "datadir" },
		{ "# ok\njust words\n", ERR_FORMAT, "t.conf:2: ", "key = value" },
		{ "[unclosed\n", ERR_FORMAT, "t.conf:1: ", "[section]" },
		{ "[a b]\n", ERR_FORMAT, "t.conf:1: ", "section" },
		{ "[x] trailing\n", ERR_FORMAT, "t.conf:1: ", "[section]" },
		{ " = 5\n", ERR_FORMAT, "t.conf:1: ", "bad key" },
	};
	char err[CONF_ERR_BYTES];
	struct conf *c;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		T_EQ(t, parse(&c, cases[i].text, err, sizeof(err)),
		     cases[i].err);
		T_TRUE(t, strncmp(err, cases[i].where,
				  strlen(cases[i].where)) == 0);
		T_TRUE(t, contains(err, cases[i].hint));
		if (t->failures)
			fprintf(stderr, "    case %zu: \"%s\"\n", i, err);
		conf_free(c);
	}
}

static void test_ini_nul_and_long_line(struct tctx *t)
{
	static const uint8_t nul[] = "port = 1\nport\0 = 2\n";
	char err[CONF_ERR_BYTES], *big;
	struct conf *c = conf_new_default("/d");

	T_ERR(t, conf_parse_ini(c, "n.conf", nul, sizeof(nul) - 1, err,
				sizeof(err)), ERR_FORMAT);
	T_TRUE(t, contains(err, "n.conf:2: NUL"));
	big = xmalloc(CONF_MAX_LINE_BYTES + 20);
	memset(big, '#', CONF_MAX_LINE_BYTES + 20);
	T_ERR(t, conf_parse_ini(c, "n.conf", (uint8_t *)big,
				CONF_MAX_LINE_BYTES + 20, err, sizeof(err)),
	      ERR_TOO_BIG);
	T_TRUE(t, contains(err, "n.conf:1: line longer"));
	free(big);
	conf_free(c);
}

static void test_ini_unknown_warns(struct tctx *t)
{
	char err[CONF_ERR_BYTES];
	unsigned long before = log_warn_count();
	struct conf *c;

	/* An unknown top-level key, and a known name in an unknown section:
	 * both warnings, neither changes a value, parsing goes on. */
	T_OK(t, parse(&c, "colour = blue\n[ntcp2]\nport = 99\n[x]\n", err,
		      sizeof(err)));
	T_EQ(t, log_warn_count() - before, 2);
	T_EQ(t, c->port, 0);
	conf_free(c);
}

static void test_args_parse(struct tctx *t)
{
	char *argv[] = { "bitsd", "--datadir", "/tmp/d", "--port=99",
			 "--floodfill", "--loglevel", "info", "--conf",
			 "/c.conf", "--init", NULL };
	struct conf_args a;
	char err[CONF_ERR_BYTES];

	T_OK(t, conf_args_parse(10, argv, &a, err, sizeof(err)));
	T_EQ(t, a.action, CONF_ACTION_INIT);
	T_STREQ(t, a.datadir, "/tmp/d");
	T_STREQ(t, a.conf, "/c.conf");
	T_EQ(t, a.noverrides, 4);
	T_STREQ(t, a.overrides[0].key, "datadir");
	T_STREQ(t, a.overrides[1].key, "port");
	T_STREQ(t, a.overrides[1].value, "99");
	T_STREQ(t, a.overrides[2].key, "floodfill");
	T_STREQ(t, a.overrides[2].value, "true");
	T_STREQ(t, a.overrides[3].value, "info");
}

static void test_args_actions(struct tctx *t)
{
	char *help[] = { "bitsd", "--init", "--version", "-h", NULL };
	char *ver[] = { "bitsd", "-V", NULL };
	char *run[] = { "bitsd", NULL };
	struct conf_args a;
	char err[CONF_ERR_BYTES];

	T_OK(t, conf_args_parse(4, help, &a, err, sizeof(err)));
	T_EQ(t, a.action, CONF_ACTION_HELP);
	T_OK(t, conf_args_parse(2, ver, &a, err, sizeof(err)));
	T_EQ(t, a.action, CONF_ACTION_VERSION);
	T_OK(t, conf_args_parse(1, run, &a, err, sizeof(err)));
	T_EQ(t, a.action, CONF_ACTION_RUN);
	T_EQ(t, a.noverrides, 0);
}

static void test_args_errors(struct tctx *t)
{
	char *unknown[] = { "bitsd", "--colour", "blue", NULL };
	char *missing[] = { "bitsd", "--port", NULL };
	char *stray[] = { "bitsd", "init", NULL };
	struct conf_args a = { .noverrides = 7 };
	char err[CONF_ERR_BYTES];

	T_ERR(t, conf_args_parse(3, unknown, &a, err, sizeof(err)), ERR_ARG);
	T_TRUE(t, contains(err, "--colour"));
	T_ERR(t, conf_args_parse(2, missing, &a, err, sizeof(err)), ERR_ARG);
	T_TRUE(t, contains(err, "--port needs a value"));
	T_ERR(t, conf_args_parse(2, stray, &a, err, sizeof(err)), ERR_ARG);
	T_TRUE(t, contains(err, "\"init\""));
	T_EQ(t, a.noverrides, 7);	/* untouched on failure */
}

static void write_text(struct tctx *t, const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	T_TRUE(t, f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

/* Defaults < DATADIR/bits.conf < command line. */
static void test_load_overrides(struct tctx *t)
{
	char *dir = t_tmpdir(t), path[4200], err[CONF_ERR_BYTES];
	char *argv[] = { "bitsd", "--datadir", dir, "--port", "2000", NULL };
	struct conf_args a;
	struct conf *c = NULL;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/bits.conf", dir);
	write_text(t, path, "port = 1000\nloglevel = info\nnetid = 77\n");
	T_OK(t, conf_args_parse(5, argv, &a, err, sizeof(err)));
	T_OK(t, conf_load(&a, &c, err, sizeof(err)));
	if (c) {
		T_EQ(t, c->port, 2000);
		T_EQ(t, c->loglevel, LOG_INFO);
		T_EQ(t, c->netid, 77);
		T_STREQ(t, c->datadir, dir);
		T_STREQ(t, c->conf_path, path);
	}
	conf_free(c);
	t_rmtree(dir);
	free(dir);
}

static void test_load_errors(struct tctx *t)
{
	char *dir = t_tmpdir(t), path[4200], err[CONF_ERR_BYTES];
	char *missing[] = { "bitsd", "--conf", "/nonexistent/bits.conf", NULL };
	char *badflag[] = { "bitsd", "--datadir", dir, "--netid", "0", NULL };
	char *nofile[] = { "bitsd", "--datadir", path, NULL };
	struct conf_args a;
	struct conf *c = NULL;

	if (!dir)
		return;
	T_OK(t, conf_args_parse(3, missing, &a, err, sizeof(err)));
	T_ERR(t, conf_load(&a, &c, err, sizeof(err)), ERR_NOT_FOUND);
	T_TRUE(t, contains(err, "/nonexistent/bits.conf"));
	T_TRUE(t, c == NULL);

	T_OK(t, conf_args_parse(5, badflag, &a, err, sizeof(err)));
	T_ERR(t, conf_load(&a, &c, err, sizeof(err)), ERR_RANGE);
	T_TRUE(t, contains(err, "command line: --netid"));

	/* A bad file line is reported with the file's path and line. */
	snprintf(path, sizeof(path), "%s/bits.conf", dir);
	write_text(t, path, "netid = 2\nport = big\n");
	T_OK(t, conf_args_parse(3, badflag, &a, err, sizeof(err)));
	T_ERR(t, conf_load(&a, &c, err, sizeof(err)), ERR_RANGE);
	T_TRUE(t, contains(err, "bits.conf:2: port"));

	/* No DATADIR/bits.conf at all: defaults, no error. */
	snprintf(path, sizeof(path), "%s/empty", dir);
	T_OK(t, conf_args_parse(3, nofile, &a, err, sizeof(err)));
	T_OK(t, conf_load(&a, &c, err, sizeof(err)));
	T_TRUE(t, c && c->conf_path == NULL);
	conf_free(c);
	t_rmtree(dir);
	free(dir);
}

/* $BITS_DATADIR, then $HOME/.bits (forked: changes the environment). */
static void test_load_default_datadir(struct tctx *t)
{
	char *argv[] = { "bitsd", NULL }, err[CONF_ERR_BYTES];
	struct conf_args a;
	struct conf *c = NULL;

	T_OK(t, conf_args_parse(1, argv, &a, err, sizeof(err)));
	setenv("BITS_DATADIR", "/nonexistent/env-dir", 1);
	T_OK(t, conf_load(&a, &c, err, sizeof(err)));
	T_TRUE(t, c && strcmp(c->datadir, "/nonexistent/env-dir") == 0);
	conf_free(c);
	c = NULL;
	unsetenv("BITS_DATADIR");
	setenv("HOME", "/nonexistent/home", 1);
	T_OK(t, conf_load(&a, &c, err, sizeof(err)));
	T_TRUE(t, c && strcmp(c->datadir, "/nonexistent/home/.bits") == 0);
	conf_free(c);
	c = NULL;
	unsetenv("HOME");
	T_ERR(t, conf_load(&a, &c, err, sizeof(err)), ERR_ARG);
	T_TRUE(t, contains(err, "--datadir"));
}

static void test_help_lists_every_option(struct tctx *t)
{
	static const char *const flags[] = {
		"--datadir DIR", "--conf FILE", "--loglevel LEVEL",
		"--logfile FILE", "--host ADDR", "--port PORT", "--netid ID",
		"--floodfill", "--init", "--help", "--version",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	T_TRUE(t, f != NULL);
	if (!f)
		return;
	conf_help_print(f, "bitsd");
	fclose(f);
	for (size_t i = 0; i < ARRAY_LEN(flags); i++) {
		T_TRUE(t, contains(text, flags[i]));
		if (t->failures)
			fprintf(stderr, "    missing %s\n", flags[i]);
	}
	free(text);
}

/* The [limits] section: on by default, each key read, 0 lifts one, and a
 * value out of range is an error naming the key. */
static void test_ini_limits(struct tctx *t)
{
	static const char text[] =
		"[limits]\n"
		"sessions = 100\n"
		"handshakes = 0\n"
		"handshakes-per-ip = 5\n"
		"builds = 1000\n"
		"builds-per-peer = 20\n"
		"transit-per-peer = 7\n"
		"tunnel-msgs = 400\n"
		"tunnel-msgs-per-peer = 0\n"
		"netdb-lookups = 30\n"
		"netdb-stores = 0\n"
		"streams = 9\n"
		"sam-sessions = 3\n"
		"memory = 128\n"
		"reassembly = 2\n"
		"obep-reassembly = 4\n"
		"garlic-sessions = 0\n"
		"netdb-routers = 12\n"
		"netdb-leasesets = 0\n"
		"pending-handshakes = 0\n"
		"pending-handshakes-per-ip = 2\n";
	char err[CONF_ERR_BYTES];
	struct conf *c = conf_new_default("/d");

	T_EQ(t, c->lim_sessions, CONF_DEFAULT_LIM_SESSIONS);
	T_EQ(t, c->lim_handshakes, CONF_DEFAULT_LIM_HANDSHAKES);
	T_EQ(t, c->lim_handshakes_ip, CONF_DEFAULT_LIM_HANDSHAKES_IP);
	T_EQ(t, c->lim_builds, CONF_DEFAULT_LIM_BUILDS);
	T_EQ(t, c->lim_builds_peer, CONF_DEFAULT_LIM_BUILDS_PEER);
	T_EQ(t, c->lim_transit_peer, CONF_DEFAULT_LIM_TRANSIT_PEER);
	T_EQ(t, c->lim_tunnel_msgs, CONF_DEFAULT_LIM_TUNNEL_MSGS);
	T_EQ(t, c->lim_tunnel_msgs_peer, CONF_DEFAULT_LIM_TUNNEL_MSGS_PEER);
	T_TRUE(t, c->lim_tunnel_msgs && c->lim_tunnel_msgs_peer);
	T_EQ(t, c->lim_netdb_lookups, CONF_DEFAULT_LIM_NETDB_LOOKUPS);
	T_EQ(t, c->lim_netdb_stores, CONF_DEFAULT_LIM_NETDB_STORES);
	T_EQ(t, c->lim_streams, CONF_DEFAULT_LIM_STREAMS);
	T_EQ(t, c->lim_sam_sessions, CONF_DEFAULT_LIM_SAM_SESSIONS);
	T_EQ(t, c->lim_memory_mib, 64);
	T_EQ(t, c->lim_reasm_mib, 8);
	T_EQ(t, c->lim_obep_mib, 16);	/* TRANSIT_OBEP_TOTAL_BYTES */
	T_EQ(t, c->lim_garlic_sessions, RATCHET_MAX_SESSIONS);
	T_EQ(t, c->lim_netdb_ri_mib, 48);	/* NETDB_MAX_RI_BYTES */
	T_EQ(t, c->lim_netdb_ls_mib, 16);	/* NETDB_MAX_LS_BYTES */
	T_EQ(t, (size_t)c->lim_reasm_mib << 20, SSU2_DEFAULT_REASM_MAX_BYTES);
	T_EQ(t, c->lim_pending_hs, CONF_DEFAULT_LIM_PENDING_HS);
	T_EQ(t, c->lim_pending_hs_ip, CONF_DEFAULT_LIM_PENDING_HS_IP);
	T_TRUE(t, c->lim_pending_hs && c->lim_pending_hs_ip);
	T_TRUE(t, c->lim_sessions && c->lim_handshakes &&
		  c->lim_handshakes_ip && c->lim_builds &&
		  c->lim_builds_peer && c->lim_transit_peer &&
		  c->lim_netdb_lookups && c->lim_netdb_stores &&
		  c->lim_streams && c->lim_sam_sessions);
	conf_free(c);
	T_OK(t, parse(&c, text, err, sizeof(err)));
	T_EQ(t, c->lim_sessions, 100);
	T_EQ(t, c->lim_handshakes, 0);
	T_EQ(t, c->lim_handshakes_ip, 5);
	T_EQ(t, c->lim_builds, 1000);
	T_EQ(t, c->lim_builds_peer, 20);
	T_EQ(t, c->lim_transit_peer, 7);
	T_EQ(t, c->lim_tunnel_msgs, 400);
	T_EQ(t, c->lim_tunnel_msgs_peer, 0);
	T_EQ(t, c->lim_netdb_lookups, 30);
	T_EQ(t, c->lim_netdb_stores, 0);
	T_EQ(t, c->lim_streams, 9);
	T_EQ(t, c->lim_sam_sessions, 3);
	T_EQ(t, c->lim_memory_mib, 128);
	T_EQ(t, c->lim_reasm_mib, 2);
	T_EQ(t, c->lim_obep_mib, 4);
	T_EQ(t, c->lim_garlic_sessions, 0);
	T_EQ(t, c->lim_netdb_ri_mib, 12);
	T_EQ(t, c->lim_netdb_ls_mib, 0);
	T_EQ(t, c->lim_pending_hs, 0);
	T_EQ(t, c->lim_pending_hs_ip, 2);
	conf_free(c);
	T_ERR(t, parse(&c, "[limits]\nbuilds = -1\n", err, sizeof(err)),
	      ERR_RANGE);
	T_TRUE(t, contains(err, "limits.builds"));
	conf_free(c);
}

/* [ntcp2] and [ssu2] timeouts: the transports' defaults, each key read
 * from the file and the command line, 2-3600 seconds. */
static void test_ini_transport_timeouts(struct tctx *t)
{
	static const char text[] =
		"[ntcp2]\n"
		"handshake-timeout = 3\n"
		"idle-timeout = 3600\n"
		"write-stall = 20\n"
		"[ssu2]\n"
		"handshake-timeout = 2\n"
		"idle-timeout = 45\n";
	static const char *const bad[] = {
		"[ntcp2]\nhandshake-timeout = 1\n",
		"[ntcp2]\nidle-timeout = 3601\n",
		"[ssu2]\nhandshake-timeout = 0\n",
		"[ssu2]\nidle-timeout = ten\n",
		"[ntcp2]\nwrite-stall = 1\n",
	};
	static const char *const key[] = {
		"ntcp2.handshake-timeout", "ntcp2.idle-timeout",
		"ssu2.handshake-timeout", "ssu2.idle-timeout",
		"ntcp2.write-stall",
	};
	char *argv[] = { "bitsd", "--datadir", "/nonexistent/d",
			 "--ntcp2.idle-timeout", "7", NULL };
	char err[CONF_ERR_BYTES];
	struct conf_args a;
	struct conf *c = conf_new_default("/d");

	T_EQ(t, c->ntcp2_hs_timeout_s, 10);
	T_EQ(t, c->ntcp2_idle_s, 300);
	T_EQ(t, c->ssu2_hs_timeout_s, 20);
	T_EQ(t, c->ssu2_idle_s, 60);
	T_EQ(t, c->ntcp2_write_stall_s * 1000ULL, NTCP2_DEFAULT_WRITE_STALL_MS);
	conf_free(c);
	T_OK(t, parse(&c, text, err, sizeof(err)));
	T_EQ(t, c->ntcp2_write_stall_s, 20);
	T_EQ(t, c->ntcp2_hs_timeout_s, 3);
	T_EQ(t, c->ntcp2_idle_s, 3600);
	T_EQ(t, c->ssu2_hs_timeout_s, 2);
	T_EQ(t, c->ssu2_idle_s, 45);
	conf_free(c);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		c = NULL;
		T_ERR(t, parse(&c, bad[i], err, sizeof(err)), ERR_RANGE);
		T_TRUE(t, contains(err, key[i]));
		conf_free(c);
	}
	T_OK(t, conf_args_parse(5, argv, &a, err, sizeof(err)));
	c = NULL;
	T_OK(t, conf_load(&a, &c, err, sizeof(err)));
	T_TRUE(t, c && c->ntcp2_idle_s == 7 && c->ntcp2_hs_timeout_s == 10);
	conf_free(c);
}

const struct test_case router_conf_tests[] = {
	{ "defaults", test_defaults, 0 },
	{ "ini/good", test_ini_good, 0 },
	{ "ini/empty_value_clears_logfile", test_ini_empty_value_clears_logfile, 0 },
	{ "ini/bad_lines", test_ini_bad_lines, 0 },
	{ "ini/tunnels", test_ini_tunnels, 0 },
	{ "ini/limits", test_ini_limits, 0 },
	{ "ini/transport_timeouts", test_ini_transport_timeouts, 0 },
	{ "ini/market", test_ini_market, 0 },
	{ "ini/proxy", test_ini_proxy, 0 },
	{ "ini/nul_and_long_line", test_ini_nul_and_long_line, 0 },
	{ "ini/unknown_warns", test_ini_unknown_warns, 0 },
	{ "args/parse", test_args_parse, 0 },
	{ "args/actions", test_args_actions, 0 },
	{ "args/errors", test_args_errors, 0 },
	{ "load/overrides", test_load_overrides, 0 },
	{ "load/errors", test_load_errors, 0 },
	{ "load/default_datadir", test_load_default_datadir, TT_FORK },
	{ "help/lists_every_option", test_help_lists_every_option, 0 },
	{ NULL, NULL, 0 }
};
