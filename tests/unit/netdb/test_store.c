/*
 * netdb/store: validation before storing (signature, netId, key, times,
 * size, newer-than), hooks, floodfill classification, closest-peer
 * queries against brute force, expiry policy, LeaseSets, and i2pd's own
 * RouterInfos from tests/vectors.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/netdb/synth.h"
#include "netdb/store.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"
#include "router/gzip.h"

#include <stdlib.h>
#include <string.h>

#define NETID 77
#define NOW_MS 1700000000000ULL
#define HOUR_MS (3600ULL * 1000)

struct hooklog {
	size_t puts, dels;
	unsigned last_kind;
	uint8_t last_key[32];
};

static void hk_put(void *ctx, unsigned kind, const uint8_t key[32],
		   const uint8_t *bytes, size_t len, uint64_t stamp)
{
	struct hooklog *h = ctx;

	(void)bytes;
	(void)len;
	(void)stamp;
	h->puts++;
	h->last_kind = kind;
	memcpy(h->last_key, key, 32);
}

static void hk_del(void *ctx, unsigned kind, const uint8_t key[32])
{
	struct hooklog *h = ctx;

	h->dels++;
	h->last_kind = kind;
	memcpy(h->last_key, key, 32);
}

static struct netdb_store *store_new(struct hooklog *h, size_t max)
{
	struct netdb_store_cfg cfg = { .netid = NETID, .max_routers = max };
	struct netdb_store_hooks hooks = { hk_put, hk_del, h };
	struct netdb_store *s;

	rand_bytes(cfg.self, 32);
	s = netdb_store_new(&cfg);
	netdb_store_set_hooks(s, &hooks);
	return s;
}

static void test_ri_accept_and_newer(struct tctx *t)
{
	struct hooklog h = { 0 };
	struct netdb_store *s = store_new(&h, 0);
	struct bbuf a = BBUF_INIT, b = BBUF_INIT;
	uint8_t ha[32], hb[32];
	enum netdb_add_result res = NETDB_ADD_UPDATED;
	const struct netdb_ri_entry *e;

	T_OK(t, synth_ri(&a, ha, NETID, "XR", NOW_MS - 1000));
	T_OK(t, netdb_store_add_ri(s, a.data, a.len, ha, NOW_MS, 0, &res));
	T_EQ(t, res, NETDB_ADD_NEW);
	T_EQ(t, h.puts, 1);
	T_EQ(t, h.last_kind, NETDB_KIND_RI);
	T_MEMEQ(t, h.last_key, ha, 32);
	T_EQ(t, netdb_store_ri_count(s), 1);
	T_EQ(t, netdb_store_ff_count(s), 0);
	e = netdb_store_find_ri(s, ha);
	T_TRUE(t, e && e->published_ms == NOW_MS - 1000);
	T_TRUE(t, e && (e->flags & NETDB_RI_REACHABLE));
	/* The same again: not newer, and no verification cost. */
	T_ERR(t, netdb_store_add_ri(s, a.data, a.len, NULL, NOW_MS, 0, NULL),
	      ERR_EXISTS);
	T_EQ(t, h.puts, 1);
	/* No key claimed is fine; a wrong one is not. */
	T_OK(t, synth_ri(&b, hb, NETID, "XfR", NOW_MS - 500));
	T_ERR(t, netdb_store_add_ri(s, b.data, b.len, ha, NOW_MS, 0, NULL),
	      ERR_FORMAT);
	T_OK(t, netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0, &res));
	T_EQ(t, netdb_store_ff_count(s), 1);
	T_EQ(t, netdb_store_ri_count(s), 2);
	/* gzip of the entry inflates back to its bytes. */
	{
		size_t gl = 0;
		const uint8_t *gz = netdb_store_ri_gzip(s, hb, &gl);
		T_TRUE(t, gz != NULL && gl > 0 && gz[0] == 0x1f);
	}
	T_OK(t, netdb_store_remove_ri(s, hb));
	T_EQ(t, h.dels, 1);
	T_EQ(t, netdb_store_ff_count(s), 0);
	T_ERR(t, netdb_store_remove_ri(s, hb), ERR_NOT_FOUND);
	netdb_store_free(s);
	bbuf_free(&a);
	bbuf_free(&b);
}

static void test_ri_refusals(struct tctx *t)
{
	struct hooklog h = { 0 };
	struct netdb_store *s = store_new(&h, 0);
	struct bbuf b = BBUF_INIT;
	uint8_t hash[32], *big;

	/* One flipped signature byte. */
	T_OK(t, synth_ri(&b, hash, NETID, "XR", NOW_MS));
	b.data[b.len - 1] ^= 1;
	T_ERR(t, netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0, NULL),
	      ERR_BAD_SIG);
	/* Another network. */
	bbuf_reset(&b);
	T_OK(t, synth_ri(&b, hash, NETID + 1, "XR", NOW_MS));
	T_ERR(t, netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0, NULL),
	      ERR_NETWORK);
	/* Published 10 minutes ahead, and 73 hours ago. */
	bbuf_reset(&b);
	T_OK(t, synth_ri(&b, hash, NETID, "XR", NOW_MS + 10 * 60000));
	T_ERR(t, netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0, NULL),
	      ERR_EXPIRED);
	bbuf_reset(&b);
	T_OK(t, synth_ri(&b, hash, NETID, "XR", NOW_MS - 73 * HOUR_MS));
	T_ERR(t, netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0, NULL),
	      ERR_EXPIRED);
	/* Over the size limit, whatever it holds. */
	big = xzalloc(ROUTER_INFO_MAX_BYTES + 1);
	memcpy(big, b.data, b.len);
	T_ERR(t, netdb_store_add_ri(s, big, ROUTER_INFO_MAX_BYTES + 1, NULL,
				    NOW_MS, 0, NULL), ERR_TOO_BIG);
	free(big);
	/* Garbage. */
	T_TRUE(t, netdb_store_add_ri(s, b.data, b.len / 2, NULL, NOW_MS, 0,
				     NULL) != 0);
	T_EQ(t, netdb_store_ri_count(s), 0);
	T_EQ(t, h.puts, 0);
	netdb_store_free(s);
	bbuf_free(&b);
}

static void test_ri_self_and_limit(struct tctx *t)
{
	struct hooklog h = { 0 };
	struct netdb_store_cfg cfg = { .netid = NETID, .max_routers = 3 };
	struct netdb_store *s;
	struct bbuf b = BBUF_INIT;
	uint8_t hash[32];

	T_OK(t, synth_ri(&b, hash, NETID, "XR", NOW_MS));
	memcpy(cfg.self, hash, 32);
	s = netdb_store_new(&cfg);
	T_ERR(t, netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0, NULL),
	      ERR_ARG);
	for (int i = 0; i < 3; i++) {
		bbuf_reset(&b);
		T_OK(t, synth_ri(&b, hash, NETID, "XR", NOW_MS));
		T_OK(t, netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0,
					   NULL));
	}
	bbuf_reset(&b);
	T_OK(t, synth_ri(&b, hash, NETID, "XR", NOW_MS));
	T_ERR(t, netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0, NULL),
	      ERR_LIMIT);
	T_EQ(t, netdb_store_ri_count(s), 3);
	(void)h;
	netdb_store_free(s);
	bbuf_free(&b);
}

/* A store given new synthetic RouterInfos until one is refused. */
static size_t fill_ri(struct tctx *t, struct netdb_store *s, size_t most,
		      uint8_t first[32])
{
	size_t n = 0;

	for (; n < most; n++) {
		struct bbuf b = BBUF_INIT;
		uint8_t hash[32];
		int r;

		T_OK(t, synth_ri(&b, hash, NETID, "XR", NOW_MS));
		r = netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0,
				       NULL);
		bbuf_free(&b);
		if (r == ERR_LIMIT)
			break;
		T_OK(t, r);
		if (n == 0)
			memcpy(first, hash, 32);
	}
	return n;
}

/* The heap the RouterInfos take is bounded as well as their number:
 * 128 entries of long keys decode to about 16 KB, so 50,000 of them were
 * 785 MB.  A RouterInfo past max_ri_bytes is refused; removing one makes
 * room; a gzip is cached only while there is room for it. */
static void test_ri_bytes_limit(struct tctx *t)
{
	struct netdb_store_cfg cfg = { .netid = NETID };
	struct netdb_store *s;
	uint8_t first[32];
	size_t one, n, gl = 0, gl2 = 0, before;
	const uint8_t *gz;
	uint8_t raw[4096];
	const uint8_t *rb;
	size_t rl, raw_len = 0;

	rand_bytes(cfg.self, 32);
	s = netdb_store_new(&cfg);
	T_EQ(t, netdb_store_ri_bytes(s), 0);
	T_EQ(t, fill_ri(t, s, 1, first), 1);
	one = netdb_store_ri_bytes(s);
	/* what a synthetic RouterInfo (one NTCP2 address) takes */
	T_TRUE(t, one > 1000 && one < 4000);
	T_OK(t, netdb_store_remove_ri(s, first));
	T_EQ(t, netdb_store_ri_bytes(s), 0);
	netdb_store_free(s);

	cfg.max_ri_bytes = 5 * one + 16;
	s = netdb_store_new(&cfg);
	n = fill_ri(t, s, 100, first);
	T_EQ(t, n, 5);				/* the count allows 50,000 */
	T_EQ(t, netdb_store_ri_count(s), 5);
	T_TRUE(t, netdb_store_ri_bytes(s) <= cfg.max_ri_bytes);
	T_OK(t, netdb_store_remove_ri(s, first));
	T_EQ(t, fill_ri(t, s, 100, first), 1);
	T_EQ(t, netdb_store_ri_count(s), 5);
	/* The 16 bytes left are no room for a gzip: it is made and handed
	 * out, not kept. */
	before = netdb_store_ri_bytes(s);
	gz = netdb_store_ri_gzip(s, first, &gl);
	T_TRUE(t, gz && gl > 0 && gz[0] == 0x1f);
	T_TRUE(t, before + alloc_cost(gl) > cfg.max_ri_bytes);
	T_EQ(t, netdb_store_ri_bytes(s), before);
	rb = router_info_bytes(netdb_store_find_ri(s, first)->ri, &rl);
	T_OK(t, gzip_decompress(gz, gl, raw, sizeof(raw), &raw_len));
	T_EQ(t, raw_len, rl);
	T_MEMEQ(t, raw, rb, rl);
	netdb_store_free(s);

	/* With room, it is kept and counted until the entry goes. */
	cfg.max_ri_bytes = 0;
	s = netdb_store_new(&cfg);
	T_EQ(t, fill_ri(t, s, 1, first), 1);
	gz = netdb_store_ri_gzip(s, first, &gl);
	T_TRUE(t, gz != NULL);
	T_EQ(t, netdb_store_ri_bytes(s), one + alloc_cost(gl));
	T_TRUE(t, netdb_store_ri_gzip(s, first, &gl2) == gz);
	T_EQ(t, gl2, gl);
	T_EQ(t, netdb_store_ri_bytes(s), one + alloc_cost(gl));
	T_OK(t, netdb_store_remove_ri(s, first));
	T_EQ(t, netdb_store_ri_bytes(s), 0);
	netdb_store_free(s);
}

/* LeaseSets the same: max_ls_bytes refuses one past it. */
static void test_ls_bytes_limit(struct tctx *t)
{
	struct netdb_store_cfg cfg = { .netid = NETID };
	struct netdb_store *s;
	uint32_t now_s = (uint32_t)(NOW_MS / 1000);
	uint8_t key[32], first[32];
	size_t one = 0;

	rand_bytes(cfg.self, 32);
	s = netdb_store_new(&cfg);
	for (int i = 0; i < 2; i++) {
		struct bbuf b = BBUF_INIT;

		T_OK(t, synth_ls2(&b, key, now_s, 2));
		T_OK(t, netdb_store_add_ls(s, LEASESET_LS2, b.data, b.len,
					   key, NOW_MS, 0, NULL));
		bbuf_free(&b);
		if (i == 0) {
			memcpy(first, key, 32);
			one = netdb_store_ls_bytes(s);
		}
	}
	/* the decoded LeaseSet's fixed part is most of it */
	T_TRUE(t, one > 400 && one < 16000);
	T_EQ(t, netdb_store_ls_bytes(s), 2 * one);
	netdb_store_free(s);

	cfg.max_ls_bytes = 2 * one + one / 2;
	s = netdb_store_new(&cfg);
	for (int i = 0; i < 3; i++) {
		struct bbuf b = BBUF_INIT;

		T_OK(t, synth_ls2(&b, key, now_s, 2));
		if (i == 0)
			memcpy(first, key, 32);
		if (i < 2)
			T_OK(t, netdb_store_add_ls(s, LEASESET_LS2, b.data,
						   b.len, key, NOW_MS, 0,
						   NULL));
		else
			T_ERR(t, netdb_store_add_ls(s, LEASESET_LS2, b.data,
						    b.len, key, NOW_MS, 0,
						    NULL), ERR_LIMIT);
		bbuf_free(&b);
	}
	T_EQ(t, netdb_store_ls_count(s), 2);
	T_OK(t, netdb_store_remove_ls(s, first));
	T_EQ(t, netdb_store_ls_bytes(s), one);
	netdb_store_free(s);
}

static const uint8_t *cmp_t;
static int by_dist(const void *a, const void *b)
{
	return netdb_xor_cmp(cmp_t, a, b);
}

static void test_closest(struct tctx *t)
{
	enum { N = 60 };
	struct hooklog h = { 0 };
	struct netdb_store *s = store_new(&h, 0);
	uint8_t ff[N][32], nf[N][32], target[32], rk[32];
	size_t nff = 0, nnf = 0;
	struct netdb_closest c;

	for (int i = 0; i < N; i++) {
		struct bbuf b = BBUF_INIT;
		uint8_t hash[32];
		bool isff = i % 3 == 0;
		T_OK(t, synth_ri(&b, hash, NETID, isff ? "XfR" : "XR", NOW_MS));
		T_OK(t, netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0,
					   NULL));
		memcpy(isff ? ff[nff++] : nf[nnf++], hash, 32);
		bbuf_free(&b);
	}
	T_EQ(t, netdb_store_ff_count(s), nff);
	rand_bytes(target, sizeof(target));
	netdb_routing_key(target, NOW_MS, rk);
	netdb_closest_init(&c, rk, 3);
	netdb_store_closest(s, true, NULL, NULL, &c);
	cmp_t = rk;
	qsort(ff, nff, 32, by_dist);
	T_EQ(t, c.n, 3);
	for (size_t i = 0; i < c.n; i++) {
		const struct netdb_ri_entry *e = c.e[i].obj;
		T_MEMEQ(t, c.e[i].hash, ff[i], 32);
		T_TRUE(t, e->flags & NETDB_RI_FLOODFILL);
	}
	netdb_closest_init(&c, rk, 3);
	netdb_store_closest(s, false, NULL, NULL, &c);
	qsort(nf, nnf, 32, by_dist);
	for (size_t i = 0; i < c.n; i++)
		T_MEMEQ(t, c.e[i].hash, nf[i], 32);
	netdb_store_free(s);
}

static void test_expiry_policy(struct tctx *t)
{
	struct hooklog h = { 0 };
	struct netdb_store *s = store_new(&h, 0);
	uint8_t old[32];

	/* 30 routers: one 80 hours old (accepted when it was fresh). */
	for (int i = 0; i < 30; i++) {
		struct bbuf b = BBUF_INIT;
		uint8_t hash[32];
		uint64_t pub = i == 0 ? NOW_MS - 71 * HOUR_MS : NOW_MS - 1000;
		T_OK(t, synth_ri(&b, hash, NETID, "XR", pub));
		T_OK(t, netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0,
					   NULL));
		if (i == 0)
			memcpy(old, hash, 32);
		bbuf_free(&b);
	}
	T_EQ(t, netdb_store_ri_expiry_ms(s), NETDB_EXPIRE_MAX_MS);
	/* "no expiration during the first hour of uptime" */
	T_EQ(t, netdb_store_expire(s, NOW_MS + 2 * HOUR_MS, HOUR_MS / 2), 0);
	T_EQ(t, netdb_store_expire(s, NOW_MS + 2 * HOUR_MS, 2 * HOUR_MS), 1);
	T_TRUE(t, netdb_store_find_ri(s, old) == NULL);
	T_EQ(t, h.dels, 1);
	/* A floodfill keeps RouterInfos one hour. */
	netdb_store_set_floodfill(s, true);
	T_EQ(t, netdb_store_ri_expiry_ms(s), NETDB_EXPIRE_SHORT_MS);
	/* ...but never drops below 25 routers. */
	T_EQ(t, netdb_store_expire(s, NOW_MS + 3 * HOUR_MS, 3 * HOUR_MS),
	     29 - NETDB_EXPIRE_MIN_ROUTERS);
	T_EQ(t, netdb_store_ri_count(s), NETDB_EXPIRE_MIN_ROUTERS);
	netdb_store_free(s);
}

static void test_expiry_scales_with_size(struct tctx *t)
{
	struct hooklog h = { 0 };
	struct netdb_store *s = store_new(&h, 0);

	for (int i = 0; i < 300; i++) {
		struct bbuf b = BBUF_INIT;
		uint8_t hash[32];
		T_OK(t, synth_ri(&b, hash, NETID, "XR", NOW_MS));
		T_OK(t, netdb_store_add_ri(s, b.data, b.len, NULL, NOW_MS, 0,
					   NULL));
		bbuf_free(&b);
	}
	/* "with 300 routers is around 30 hours" */
	T_EQ(t, netdb_store_ri_expiry_ms(s), 72 * HOUR_MS * 120 / 300);
	netdb_store_free(s);
}

static void test_leasesets(struct tctx *t)
{
	struct hooklog h = { 0 };
	struct netdb_store *s = store_new(&h, 0);
	struct bbuf a = BBUF_INIT, b = BBUF_INIT;
	uint8_t key[32], key2[32];
	uint32_t now_s = (uint32_t)(NOW_MS / 1000);
	enum netdb_add_result res;

	T_OK(t, synth_ls2(&a, key, now_s, 2));
	T_OK(t, netdb_store_add_ls(s, LEASESET_LS2, a.data, a.len, key, NOW_MS,
				   0, &res));
	T_EQ(t, res, NETDB_ADD_NEW);
	T_EQ(t, h.last_kind, LEASESET_LS2);
	T_EQ(t, netdb_store_ls_count(s), 1);
	T_TRUE(t, netdb_store_find_ls(s, key) != NULL);
	T_ERR(t, netdb_store_add_ls(s, LEASESET_LS2, a.data, a.len, key,
				    NOW_MS, 0, NULL), ERR_EXISTS);
	/* A flipped signature, a wrong key, an expired one. */
	T_OK(t, synth_ls2(&b, key2, now_s, 1));
	b.data[b.len - 2] ^= 4;
	T_ERR(t, netdb_store_add_ls(s, LEASESET_LS2, b.data, b.len, NULL,
				    NOW_MS, 0, NULL), ERR_BAD_SIG);
	b.data[b.len - 2] ^= 4;
	T_ERR(t, netdb_store_add_ls(s, LEASESET_LS2, b.data, b.len, key,
				    NOW_MS, 0, NULL), ERR_FORMAT);
	T_ERR(t, netdb_store_add_ls(s, LEASESET_LS2, b.data, b.len, key2,
				    NOW_MS + HOUR_MS, 0, NULL), ERR_EXPIRED);
	T_TRUE(t, netdb_store_add_ls(s, LEASESET_META, b.data, b.len, key2,
				     NOW_MS, 0, NULL) != 0);
	T_EQ(t, netdb_store_ls_count(s), 1);
	/* LeaseSets expire with their expiry. */
	T_EQ(t, netdb_store_expire(s, NOW_MS + 700 * 1000, 0), 1);
	T_EQ(t, netdb_store_ls_count(s), 0);
	netdb_store_free(s);
	bbuf_free(&a);
	bbuf_free(&b);
}

/* RouterInfos written by i2pd 2.45.1 (tests/vectors/README.md). */
static void test_i2pd_routerinfos(struct tctx *t)
{
	static const char *const files[] = {
		"tests/vectors/i2pd-routerinfo-ntcp2.dat",
		"tests/vectors/i2pd-routerinfo-ntcp2-ssu2.dat",
		"tests/vectors/i2pd-routerinfo-floodfill.dat",
		"tests/vectors/i2pd-routerinfo-netdb.dat",
	};
	struct hooklog h = { 0 };
	struct netdb_store *s = store_new(&h, 0);
	size_t ff = 0;

	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *p = t_srcpath(files[i]);
		uint8_t *buf = NULL;
		size_t len = 0;
		struct router_info *ri = NULL;

		T_OK(t, fsutil_read_file(p, 4096, &buf, &len));
		if (buf && router_info_decode(buf, len, &ri) == 0) {
			uint64_t pub = router_info_published(ri);
			unsigned f = netdb_ri_classify(ri);
			ff += (f & NETDB_RI_FLOODFILL) != 0;
			T_TRUE(t, f & NETDB_RI_REACHABLE);
			T_OK(t, netdb_store_add_ri(s, buf, len,
						   router_info_hash(ri),
						   pub + HOUR_MS, 0, NULL));
		} else {
			t_fail(t, __FILE__, __LINE__, "cannot read %s", p);
		}
		router_info_free(ri);
		free(buf);
		free(p);
	}
	/* Two of them are floodfills (caps Xf). */
	T_EQ(t, ff, 2);
	T_EQ(t, netdb_store_ff_count(s), 2);
	netdb_store_free(s);
}

const struct test_case netdb_store_tests[] = {
	{ "ri_accept_and_newer", test_ri_accept_and_newer, 0 },
	{ "ri_refusals", test_ri_refusals, 0 },
	{ "ri_self_and_limit", test_ri_self_and_limit, 0 },
	{ "ri_bytes_limit", test_ri_bytes_limit, 0 },
	{ "ls_bytes_limit", test_ls_bytes_limit, 0 },
	{ "closest", test_closest, 0 },
	{ "expiry_policy", test_expiry_policy, 0 },
	{ "expiry_scales_with_size", test_expiry_scales_with_size, 0 },
	{ "leasesets", test_leasesets, 0 },
	{ "i2pd_routerinfos", test_i2pd_routerinfos, 0 },
	{ NULL, NULL, 0 }
};
