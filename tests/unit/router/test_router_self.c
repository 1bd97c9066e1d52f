/* router/router_self: the RouterInfo we publish. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/conf.h"
#include "crypto/base/fsutil.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "router/evloop.h"
#include "router/worker.h"
#include "tests/unit/router/tloop.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/keystore.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/stat.h>

static void check_ntcp2(struct tctx *t, const struct router_info *ri,
			const struct router_keys *k, const char *host,
			uint16_t port)
{
	const struct router_address *a =
		router_info_find_address(ri, ROUTER_ADDRESS_STYLE_NTCP2);
	struct router_address_ntcp2 n;
	struct x25519_pk s;

	T_TRUE(t, a != NULL);
	if (!a)
		return;
	T_OK(t, router_address_ntcp2_parse(a, &n));
	T_TRUE(t, n.published);
	T_STREQ(t, n.host, host);
	T_EQ(t, n.port, port);
	T_TRUE(t, n.has_iv);
	T_MEMEQ(t, n.iv, router_keys_ntcp2_iv(k), ROUTER_KEYS_IV_BYTES);
	keystore_x25519_pk(router_keys_keystore(k), KEYSTORE_X_NTCP2, &s);
	T_MEMEQ(t, n.s.b, s.b, sizeof(s.b));
}

static void test_build_verifies(struct tctx *t)
{
	struct router_keys *k = router_keys_new_random();
	struct conf *cfg = conf_new_default("/unused");
	struct router_info *ri = NULL, *back = NULL;
	struct keys_and_cert id;
	const uint8_t *bytes;
	size_t len = 0;

	cfg->netid = 77;
	cfg->port = 12345;
	T_OK(t, conf_set(cfg, "host", "127.0.0.5", NULL, 0));
	T_OK(t, router_self_build(cfg, k, &ri));
	if (!ri)
		goto out;
	bytes = router_info_bytes(ri, &len);
	T_TRUE(t, bytes != NULL);
	/* What a peer does with the bytes: decode, verify, check netId. */
	T_OK(t, router_info_decode(bytes, len, &back));
	if (!back)
		goto out;
	T_OK(t, router_info_verify(back));
	T_OK(t, router_info_check_netid(back, 77));
	T_ERR(t, router_info_check_netid(back, 2), ERR_NETWORK);
	T_STREQ(t, router_info_option(back, "caps"), ROUTER_SELF_CAPS);
	T_STREQ(t, router_info_option(back, "router.version"),
		ROUTER_INFO_VERSION);
	router_keys_identity(k, &id);
	T_MEMEQ(t, router_info_hash(back), id.hash, sizeof(id.hash));
	T_EQ(t, router_info_address_count(back), 1);
	check_ntcp2(t, back, k, "127.0.0.5", 12345);
out:
	router_info_free(ri);
	router_info_free(back);
	conf_free(cfg);
	router_keys_free(k);
}

/* host6: a second NTCP2 address, IPv6, same keys and port. */
static void test_dual_stack(struct tctx *t)
{
	struct router_keys *k = router_keys_new_random();
	struct conf *cfg = conf_new_default("/unused");
	struct router_info *ri = NULL;
	struct router_address_ntcp2 n[2];

	cfg->netid = 77;
	cfg->port = 12345;
	T_OK(t, conf_set(cfg, "host", "127.0.0.5", NULL, 0));
	T_OK(t, conf_set(cfg, "host6", "2001:db8::5", NULL, 0));
	T_OK(t, router_self_build(cfg, k, &ri));
	if (!ri)
		goto out;
	T_EQ(t, router_info_address_count(ri), 2);
	for (size_t i = 0; i < 2 && i < router_info_address_count(ri); i++) {
		T_OK(t, router_address_ntcp2_parse(router_info_address(ri, i),
						   &n[i]));
		T_EQ(t, n[i].port, 12345);
		T_TRUE(t, n[i].published);
		T_MEMEQ(t, n[i].s.b, n[0].s.b, sizeof(n[0].s.b));
	}
	T_EQ(t, n[0].family, AF_INET);
	T_STREQ(t, n[0].host, "127.0.0.5");
	T_EQ(t, n[1].family, AF_INET6);
	T_STREQ(t, n[1].host, "2001:db8::5");
out:
	router_info_free(ri);
	conf_free(cfg);
	router_keys_free(k);
}

/* Firewalled (peer test) with one introducer: the IPv4 addresses lose
 * host and port, the SSU2 one names the introducer, the caps say "U";
 * not firewalled, the same call publishes the configured host. */
static void test_firewalled(struct tctx *t)
{
	struct router_keys *k = router_keys_new_random();
	struct conf *cfg = conf_new_default("/unused");
	struct router_self_reach rr = { .firewalled = true, .nintro = 1 };
	struct router_info *ri = NULL, *back = NULL;
	struct router_address_ntcp2 n;
	struct router_address_ssu2 u;
	const uint8_t *bytes;
	size_t len = 0;
	bool have_ssu2 = false;

	cfg->netid = 77;
	cfg->port = 12345;
	cfg->ssu2 = true;
	T_OK(t, conf_set(cfg, "host", "127.0.0.5", NULL, 0));
	memset(rr.intro[0].h, 0x42, 32);
	rr.intro[0].tag = 0xdeadbeef;
	rr.intro[0].exp = 1900000000;
	T_OK(t, router_self_build_reach(cfg, k, &rr, &ri));
	if (!ri)
		goto out;
	bytes = router_info_bytes(ri, &len);
	T_OK(t, router_info_decode(bytes, len, &back));
	if (!back)
		goto out;
	T_OK(t, router_info_verify(back));
	T_STREQ(t, router_info_option(back, "caps"),
		ROUTER_SELF_CAPS_FIREWALLED);
	T_EQ(t, router_info_address_count(back), 2);
	for (size_t i = 0; i < router_info_address_count(back); i++) {
		const struct router_address *a = router_info_address(back, i);

		if (router_address_is_ssu2(a)) {
			have_ssu2 = true;
			T_OK(t, router_address_ssu2_parse(a, &u));
			T_FALSE(t, u.published);
			T_EQ(t, u.nintro, 1);
			T_MEMEQ(t, u.intro[0].h, rr.intro[0].h, 32);
			T_EQ(t, u.intro[0].tag, 0xdeadbeef);
			T_EQ(t, u.intro[0].exp, 1900000000);
		} else {
			T_OK(t, router_address_ntcp2_parse(a, &n));
			T_FALSE(t, n.published);
		}
	}
	T_TRUE(t, have_ssu2);
	/* Reachable again: host and port are back, no introducers. */
	router_info_free(ri);
	ri = NULL;
	rr.firewalled = false;
	T_OK(t, router_self_build_reach(cfg, k, &rr, &ri));
	if (!ri)
		goto out;
	T_STREQ(t, router_info_option(ri, "caps"), ROUTER_SELF_CAPS);
	check_ntcp2(t, ri, k, "127.0.0.5", 12345);
	for (size_t i = 0; i < router_info_address_count(ri); i++) {
		const struct router_address *a = router_info_address(ri, i);

		if (router_address_is_ssu2(a)) {
			T_OK(t, router_address_ssu2_parse(a, &u));
			T_TRUE(t, u.published);
			T_EQ(t, u.nintro, 0);
			T_EQ(t, u.port, 12345);
			T_STREQ(t, u.caps, "4");
		}
	}
	/* A peer test said reachable: we introduce ("C") and test ("B"). */
	router_info_free(ri);
	ri = NULL;
	rr.introducer = true;
	T_OK(t, router_self_build_reach(cfg, k, &rr, &ri));
	if (!ri)
		goto out;
	have_ssu2 = false;
	for (size_t i = 0; i < router_info_address_count(ri); i++) {
		const struct router_address *a = router_info_address(ri, i);

		if (router_address_is_ssu2(a)) {
			T_OK(t, router_address_ssu2_parse(a, &u));
			T_TRUE(t, u.published);
			T_STREQ(t, u.caps, "4BC");
			have_ssu2 = true;
		}
	}
	T_TRUE(t, have_ssu2);
out:
	router_info_free(ri);
	router_info_free(back);
	conf_free(cfg);
	router_keys_free(k);
}

/* SSU2 on host and host6: two SSU2 addresses, caps 4 and 6, same keys
 * and port; firewalled, only the IPv4 one loses its host. */
static void test_ssu2_dual_stack(struct tctx *t)
{
	struct router_keys *k = router_keys_new_random();
	struct conf *cfg = conf_new_default("/unused");
	struct router_self_reach rr = { .firewalled = true };
	struct router_info *ri = NULL;
	struct router_address_ssu2 u[2];
	size_t n = 0;

	cfg->netid = 77;
	cfg->port = 12345;
	cfg->ssu2 = true;
	T_OK(t, conf_set(cfg, "host", "127.0.0.5", NULL, 0));
	T_OK(t, conf_set(cfg, "host6", "2001:db8::5", NULL, 0));
	for (int fw = 0; fw < 2; fw++) {
		router_info_free(ri);
		ri = NULL;
		n = 0;
		T_OK(t, router_self_build_reach(cfg, k, fw ? &rr : NULL, &ri));
		if (!ri)
			break;
		for (size_t i = 0; i < router_info_address_count(ri); i++) {
			const struct router_address *a =
				router_info_address(ri, i);

			if (router_address_is_ssu2(a) && n < 2)
				T_OK(t, router_address_ssu2_parse(a, &u[n++]));
		}
		T_EQ(t, n, 2);
		if (n != 2)
			break;
		T_STREQ(t, u[0].caps, "4");
		T_STREQ(t, u[1].caps, "6");
		T_MEMEQ(t, u[0].s.b, u[1].s.b, 32);
		T_MEMEQ(t, u[0].ik, u[1].ik, 32);
		T_EQ(t, u[0].published, !fw);
		T_TRUE(t, u[1].published);
		T_EQ(t, u[1].family, AF_INET6);
		T_STREQ(t, u[1].host, "2001:db8::5");
		T_EQ(t, u[1].port, 12345);
	}
	/* IPv6 by its own peer tests: reachable, "6BC"; firewalled, no
	 * host nor IPv6 NTCP2 address (IPv4 reachable, "4"), and its own
	 * introducers (intro6: two), none in the IPv4 address. */
	rr = (struct router_self_reach){ .reachable6 = true, .nintro = 1,
					 .nintro6 = 2 };
	for (int i = 0; i < 3; i++) {
		memset(rr.intro[i].h, 0x10 + i, 32);
		memset(rr.intro6[i].h, 0x60 + i, 32);
		rr.intro[i].tag = rr.intro6[i].tag = 100u + (uint32_t)i;
		rr.intro[i].exp = rr.intro6[i].exp = 2000000000u;
	}
	for (int fw6 = 0; fw6 < 2; fw6++) {
		size_t ntcp2 = 0;

		rr.firewalled6 = fw6;
		rr.reachable6 = !fw6;
		router_info_free(ri);
		ri = NULL;
		n = 0;
		T_OK(t, router_self_build_reach(cfg, k, &rr, &ri));
		if (!ri)
			break;
		for (size_t i = 0; i < router_info_address_count(ri); i++) {
			const struct router_address *a =
				router_info_address(ri, i);

			if (router_address_is_ssu2(a) && n < 2)
				T_OK(t, router_address_ssu2_parse(a, &u[n++]));
			else if (!router_address_is_ssu2(a))
				ntcp2++;
		}
		T_EQ(t, n, 2);
		if (n != 2)
			break;
		T_STREQ(t, u[0].caps, "4");
		T_TRUE(t, u[0].published);
		T_STREQ(t, u[1].caps, fw6 ? "6" : "6BC");
		T_EQ(t, u[1].published, !fw6);
		T_EQ(t, u[1].family, AF_INET6);
		T_EQ(t, ntcp2, fw6 ? 1 : 2);
		T_EQ(t, u[0].nintro, 0);
		T_EQ(t, u[1].nintro, fw6 ? 2 : 0);
		if (fw6 && u[1].nintro == 2) {
			T_MEMEQ(t, u[1].intro[0].h, rr.intro6[0].h, 32);
			T_MEMEQ(t, u[1].intro[1].h, rr.intro6[1].h, 32);
			T_EQ(t, u[1].intro[1].tag, 101);
		}
	}
	router_info_free(ri);
	conf_free(cfg);
	router_keys_free(k);
}

static void test_port_derived(struct tctx *t)
{
	struct conf *cfg = conf_new_default("/unused");
	uint8_t h1[SHA256_BYTES] = { 0 }, h2[SHA256_BYTES];
	uint16_t p;

	memset(h2, 0xff, sizeof(h2));
	T_EQ(t, router_self_port(cfg, h1), ROUTER_SELF_PORT_MIN);
	p = router_self_port(cfg, h2);
	T_TRUE(t, p >= ROUTER_SELF_PORT_MIN && p <= ROUTER_SELF_PORT_MAX);
	T_EQ(t, router_self_port(cfg, h2), p);		/* stable */
	cfg->port = 4444;
	T_EQ(t, router_self_port(cfg, h2), 4444);	/* configured wins */
	conf_free(cfg);
}

static void test_publish_file(struct tctx *t)
{
	char *dir = t_tmpdir(t), *path;
	struct router_keys *k = router_keys_new_random();
	struct conf *cfg;
	struct router_info *ri = NULL;
	struct stat st;

	if (!dir) {
		router_keys_free(k);
		return;
	}
	cfg = conf_new_default(dir);
	path = fsutil_path_join(dir, ROUTER_SELF_FILE_NAME);
	T_OK(t, router_self_publish(cfg, k));
	T_EQ(t, stat(path, &st), 0);
	T_EQ(t, st.st_mode & 022, 0);		/* nobody else may write it */
	T_OK(t, router_info_file_read(path, &ri));
	if (ri) {
		T_OK(t, router_info_verify(ri));
		T_OK(t, router_info_check_netid(ri, CONF_DEFAULT_NETID));
	}
	router_info_free(ri);
	free(path);
	conf_free(cfg);
	router_keys_free(k);
	t_rmtree(dir);
	free(dir);
}

/* The NTCP2 port in the router.info at path, or 0. */
static unsigned file_port(const char *path)
{
	struct router_info *ri = NULL;
	struct router_address_ntcp2 n;
	const struct router_address *a;
	unsigned port = 0;

	if (router_info_file_read(path, &ri) == 0 &&
	    router_info_verify(ri) == 0 &&
	    (a = router_info_find_address(ri, ROUTER_ADDRESS_STYLE_NTCP2)) &&
	    router_address_ntcp2_parse(a, &n) == 0)
		port = n.port;
	router_info_free(ri);
	return port;
}

struct idle_wait {
	struct evloop *el;
	struct router_self *rs;
	struct evloop_timer *timer;
};

static void idle_check(void *arg)
{
	struct idle_wait *w = arg;

	if (router_self_is_busy(w->rs))
		evloop_timer_arm(w->timer, 1);
	else
		evloop_break(w->el);
}

/* A loop, a pool of nthreads workers, a publisher and a config whose
 * datadir is a fresh temp dir. */
struct fix {
	char *dir, *path;
	struct router_keys *keys;
	struct evloop *el;
	struct worker_pool *wp;
	struct router_self *rs;
	struct conf *cfg;
};

static bool fix_init(struct tctx *t, struct fix *f, unsigned nthreads)
{
	memset(f, 0, sizeof(*f));
	if (!(f->dir = t_tmpdir(t)))
		return false;
	f->path = fsutil_path_join(f->dir, ROUTER_SELF_FILE_NAME);
	f->keys = router_keys_new_random();
	f->el = evloop_new();
	f->wp = worker_pool_new(f->el, nthreads);
	f->rs = router_self_new(f->wp);
	f->cfg = conf_new_default(f->dir);
	return true;
}

static void fix_free(struct fix *f)
{
	router_self_free(f->rs);
	worker_pool_free(f->wp);
	evloop_free(f->el);
	router_keys_free(f->keys);
	conf_free(f->cfg);
	t_rmtree(f->dir);
	free(f->dir);
	free(f->path);
}

/* Three refreshes in a row: the file ends with the last one, whatever
 * order the workers pick the jobs in. */
static void test_refresh_newest_wins(struct tctx *t)
{
	struct fix f;
	struct idle_wait w;

	if (!fix_init(t, &f, 3))
		return;
	for (unsigned port = 1001; port <= 1003; port++) {
		f.cfg->port = (uint16_t)port;
		T_OK(t, router_self_refresh(f.rs, f.cfg, f.keys));
		T_TRUE(t, router_self_is_busy(f.rs));
	}
	w = (struct idle_wait){ .el = f.el, .rs = f.rs };
	w.timer = evloop_timer_new(f.el, idle_check, &w);
	evloop_timer_arm(w.timer, 1);
	tloop_run(t, f.el);
	T_FALSE(t, router_self_is_busy(f.rs));
	T_EQ(t, file_port(f.path), 1003);
	evloop_timer_free(w.timer);
	fix_free(&f);
}

/* Freed with a write running and one waiting: the running one completes,
 * the waiting one is dropped, nothing leaks (the sanitizer build checks). */
static void test_free_while_writing(struct tctx *t)
{
	struct fix f;

	if (!fix_init(t, &f, 1))
		return;
	f.cfg->port = 2001;
	T_OK(t, router_self_refresh(f.rs, f.cfg, f.keys));
	f.cfg->port = 2002;
	T_OK(t, router_self_refresh(f.rs, f.cfg, f.keys));
	FREE_AND_NULL(router_self_free, f.rs);
	/* Runs the done callback, which frees the publisher. */
	FREE_AND_NULL(worker_pool_free, f.wp);
	T_EQ(t, file_port(f.path), 2001);
	fix_free(&f);
}

/* The bandwidth letter follows bandwidth x transit.share at the spec's
 * class edges (K below 12, L up to 48, ... X above 2000 KB/s); no limit
 * publishes L; a floodfill adds f, a firewalled router U (and no f). */
static void test_caps_classes(struct tctx *t)
{
	static const struct {
		uint32_t kBps, share;
		bool ff, fw;
		const char *caps;
	} c[] = {
		{ 0, 80, false, false, "LR" },
		{ 0, 80, true, false, "LfR" },
		{ 0, 80, false, true, "LU" },
		{ 11, 100, false, false, "KR" },
		{ 12, 100, false, false, "LR" },
		{ 60, 80, false, false, "LR" },		/* 48 */
		{ 49, 100, false, false, "MR" },
		{ 80, 80, false, false, "MR" },		/* 64 */
		{ 65, 100, false, false, "NR" },
		{ 128, 100, false, false, "NR" },
		{ 256, 100, false, false, "OR" },
		{ 257, 100, false, false, "PR" },
		{ 2500, 80, false, false, "PR" },	/* 2000 */
		{ 2001, 100, true, false, "XfR" },
		{ 100000, 0, false, false, "KR" },	/* no transit share */
		{ 5000, 100, true, true, "XU" },
	};
	struct conf *cfg = conf_new_default("/unused");
	char caps[4];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cfg->bandwidth_kBps = c[i].kBps;
		cfg->transit_share_pct = c[i].share;
		cfg->floodfill = c[i].ff;
		router_self_caps(cfg, c[i].fw, caps);
		T_STREQ(t, caps, c[i].caps);
	}
	/* and what is published */
	{
		struct router_keys *k = router_keys_new_random();
		struct router_info *ri = NULL;

		cfg->bandwidth_kBps = 1000;
		cfg->transit_share_pct = 50;
		cfg->floodfill = false;
		cfg->port = 12345;
		T_OK(t, conf_set(cfg, "host", "127.0.0.5", NULL, 0));
		T_OK(t, router_self_build(cfg, k, &ri));
		if (ri)
			T_STREQ(t, router_info_option(ri, "caps"), "PR");
		router_info_free(ri);
		router_keys_free(k);
	}
	conf_free(cfg);
}

const struct test_case router_router_self_tests[] = {
	{ "caps_classes", test_caps_classes, 0 },
	{ "build_verifies", test_build_verifies, 0 },
	{ "port_derived", test_port_derived, 0 },
	{ "dual_stack", test_dual_stack, 0 },
	{ "firewalled", test_firewalled, 0 },
	{ "ssu2_dual_stack", test_ssu2_dual_stack, 0 },
	{ "publish_file", test_publish_file, 0 },
	{ "refresh_newest_wins", test_refresh_newest_wins, 0 },
	{ "free_while_writing", test_free_while_writing, 0 },
	{ NULL, NULL, 0 }
};
