/*
 * netdb/reseed: the model su3 bundle (tests/vectors/gen-su3.py) checked
 * against its certificate and netId, signer lookup, directories of
 * routerInfo-*.dat files with junk among them, and a netDb reseeded from
 * an su3 file on the worker pool.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/netdb/synth.h"
#include "tests/unit/router/tloop.h"
#include "netdb/netdb.h"
#include "netdb/reseed.h"
#include "router/evloop.h"
#include "crypto/base/fsutil.h"
#include "router/router_info.h"
#include "router/su3.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NETID 77
#define MODEL_SU3 "tests/vectors/su3-model-reseed.su3"
#define MODEL_CRT "tests/vectors/su3-model-signer.crt"

static uint8_t *read_src(struct tctx *t, const char *rel, size_t *len)
{
	char *p = t_srcpath(rel);
	uint8_t *buf = NULL;

	T_OK(t, fsutil_read_file(p, 1 << 20, &buf, len));
	free(p);
	return buf;
}

static void test_su3_parse(struct tctx *t)
{
	char *crt = t_srcpath(MODEL_CRT);
	struct su3_signer *sg[2] = { NULL, NULL };
	struct reseed_result res = { 0 };
	size_t len = 0, n = 0;
	uint8_t *buf = read_src(t, MODEL_SU3, &len);

	T_OK(t, reseed_signers_load(crt, sg, 2, &n));
	T_EQ(t, n, 1);
	if (!buf || !sg[0])
		goto out;
	T_OK(t, reseed_su3_parse(buf, len, sg, 1, NETID, &res));
	T_EQ(t, res.n, 1);
	T_EQ(t, res.bad, 0);
	reseed_result_clear(&res);
	/* The same bundle for another network: its router is refused. */
	T_OK(t, reseed_su3_parse(buf, len, sg, 1, 2, &res));
	T_EQ(t, res.n, 0);
	T_EQ(t, res.bad, 1);
	reseed_result_clear(&res);
	/* Nobody we trust signed it. */
	T_ERR(t, reseed_su3_parse(buf, len, sg, 0, NETID, &res), ERR_NOT_FOUND);
	/* A flipped byte anywhere in the signed part. */
	buf[len / 2] ^= 0x40;
	T_ERR(t, reseed_su3_parse(buf, len, sg, 1, NETID, &res), ERR_BAD_SIG);
	T_EQ(t, res.n, 0);
out:
	su3_signer_free(sg[0]);
	free(buf);
	free(crt);
}

static void write_file(struct tctx *t, const char *dir, const char *name,
		       const void *data, size_t len)
{
	char *p = fsutil_path_join(dir, name);

	T_OK(t, fsutil_write_atomic(p, data, len, 0644, true));
	free(p);
}

/* n RouterInfo files, the first n_top in dir, the rest in sub (made);
 * b ends holding the last one's bytes. */
static void write_ris(struct tctx *t, const char *dir, const char *sub,
		      int n, int n_top, struct bbuf *b)
{
	uint8_t hash[32];
	char name[ROUTER_INFO_FILE_NAME_BYTES];

	T_EQ(t, mkdir(sub, 0700), 0);
	for (int i = 0; i < n; i++) {
		bbuf_reset(b);
		T_OK(t, synth_ri(b, hash, NETID, "XR", time_now_ms() - 1000));
		router_info_file_name(hash, name, sizeof(name));
		write_file(t, i < n_top ? dir : sub, name, b->data, b->len);
	}
}

static void test_dir_read(struct tctx *t)
{
	char *dir = t_tmpdir(t), *sub = fsutil_path_join(dir, "rA");
	struct reseed_result res = { 0 };
	struct bbuf b = BBUF_INIT;
	uint8_t hash[32];
	char name[ROUTER_INFO_FILE_NAME_BYTES];

	write_ris(t, dir, sub, 5, 3, &b);
	/* A RouterInfo under another router's name (refused), and files
	 * that are not RouterInfos at all (ignored). */
	rand_bytes(hash, sizeof(hash));
	router_info_file_name(hash, name, sizeof(name));
	write_file(t, dir, name, b.data, b.len);
	write_file(t, dir, "routerInfo-short.dat", "x", 1);
	write_file(t, dir, "README", "hello", 5);
	T_OK(t, reseed_dir_read(dir, NETID, &res));
	T_EQ(t, res.n, 5);
	T_EQ(t, res.bad, 1);		/* the wrong name; junk is not counted */
	reseed_result_clear(&res);
	T_ERR(t, reseed_dir_read("/nonexistent/bits", NETID, &res),
	      ERR_NOT_FOUND);
	bbuf_free(&b);
	t_rmtree(dir);
	free(sub);
	free(dir);
}

struct foreach_ctx {
	uint8_t skip[32];		/* the hash want() refuses */
	size_t asked, taken, stop_at;
};

static bool fe_want(void *arg, const uint8_t hash[32])
{
	struct foreach_ctx *f = arg;

	f->asked++;
	return memcmp(hash, f->skip, 32) != 0;
}

static bool fe_take(void *arg, struct router_info *ri)
{
	struct foreach_ctx *f = arg;

	router_info_free(ri);
	return ++f->taken < f->stop_at;
}

/* want() is asked before a file is read (a junk file it refuses is not
 * counted bad), and take() ends the pass. */
static void test_dir_foreach(struct tctx *t)
{
	char *dir = t_tmpdir(t), *sub = fsutil_path_join(dir, "rB");
	struct foreach_ctx f = { .stop_at = 100 };
	struct bbuf b = BBUF_INIT;
	char name[ROUTER_INFO_FILE_NAME_BYTES];
	size_t bad = 99;

	write_ris(t, dir, sub, 6, 4, &b);
	rand_bytes(f.skip, sizeof(f.skip));
	router_info_file_name(f.skip, name, sizeof(name));
	write_file(t, sub, name, "junk", 4);
	T_OK(t, reseed_dir_foreach(dir, NETID, fe_want, fe_take, &f, &bad));
	T_EQ(t, f.asked, 7);
	T_EQ(t, f.taken, 6);
	T_EQ(t, bad, 0);
	/* without want() the junk file is read and refused */
	memset(&f, 0, sizeof(f));
	f.stop_at = 100;
	T_OK(t, reseed_dir_foreach(dir, NETID, NULL, fe_take, &f, &bad));
	T_EQ(t, f.taken, 6);
	T_EQ(t, bad, 1);
	/* take() returning false ends the pass, subdirectories too */
	memset(&f, 0, sizeof(f));
	f.stop_at = 2;
	T_OK(t, reseed_dir_foreach(dir, NETID, fe_want, fe_take, &f, NULL));
	T_EQ(t, f.taken, 2);
	T_ERR(t, reseed_dir_foreach("/nonexistent/bits", NETID, NULL, fe_take,
				    &f, NULL), ERR_NOT_FOUND);
	bbuf_free(&b);
	t_rmtree(dir);
	free(sub);
	free(dir);
}

/* Pin the clock an hour after the model's RouterInfo was published. */
static void clock_after_model(struct tctx *t)
{
	char *p = t_srcpath("tests/vectors/i2pd-routerinfo-ntcp2.dat");
	struct router_info *ri = NULL;

	T_OK(t, router_info_file_read(p, &ri));
	if (ri)
		time_set_override(router_info_published(ri) + 3600 * 1000);
	router_info_free(ri);
	free(p);
}

struct rctx {
	struct evloop *el;
	int err;
	size_t added;
	int calls;
};

static void reseeded(void *ctx, int err, size_t added)
{
	struct rctx *r = ctx;

	r->err = err;
	r->added = added;
	r->calls++;
	evloop_break(r->el);
}

/* A netDb (in memory) reseeded from the model su3 file, first with a
 * file that is no certificate, then with the right one.  The clock is set
 * an hour after the bundled RouterInfo was published. */
static void test_netdb_reseed_file(struct tctx *t)
{
	struct rctx rc = { 0 };
	struct netdb_cfg cfg = { .netid = NETID, .no_persist = true };
	struct netdb_reseed_cfg rcfg = { 0 };
	struct worker_pool *wp;
	struct netdb *db;
	char *su3 = t_srcpath(MODEL_SU3), *crt = t_srcpath(MODEL_CRT);
	struct netdb_stats st;

	clock_after_model(t);
	rc.el = evloop_new();
	wp = worker_pool_new(rc.el, 1);
	rand_bytes(cfg.self, 32);
	db = netdb_new(rc.el, wp, &cfg);
	T_ERR(t, netdb_reseed_start(db, &rcfg, reseeded, &rc), ERR_ARG);
	/* A wrong certificate: nothing is added. */
	rcfg.su3_file = su3;
	rcfg.signers = su3;		/* not a certificate */
	T_OK(t, netdb_reseed_start(db, &rcfg, reseeded, &rc));
	T_TRUE(t, netdb_reseed_is_busy(db));
	tloop_run(t, rc.el);
	T_EQ(t, rc.calls, 1);
	T_TRUE(t, rc.err != 0);
	T_EQ(t, netdb_store_ri_count(netdb_get_store(db)), 0);
	/* The right one. */
	rcfg.signers = crt;
	T_OK(t, netdb_reseed_start(db, &rcfg, reseeded, &rc));
	tloop_run(t, rc.el);
	T_EQ(t, rc.calls, 2);
	T_OK(t, rc.err);
	T_EQ(t, rc.added, 1);
	T_EQ(t, netdb_store_ri_count(netdb_get_store(db)), 1);
	T_EQ(t, netdb_store_ff_count(netdb_get_store(db)), 1);
	netdb_stats(db, &st);
	T_EQ(t, st.reseeded, 1);
	T_FALSE(t, netdb_reseed_is_busy(db));
	netdb_free(db);
	worker_pool_free(wp);
	evloop_free(rc.el);
	free(su3);
	free(crt);
}

/* Freed while a reseed job runs: the job finishes on its own. */
static void test_free_while_busy(struct tctx *t)
{
	struct rctx rc = { 0 };
	struct netdb_cfg cfg = { .netid = NETID, .no_persist = true };
	char *su3 = t_srcpath(MODEL_SU3), *crt = t_srcpath(MODEL_CRT);
	struct netdb_reseed_cfg rcfg = { .su3_file = su3, .signers = crt };
	struct worker_pool *wp;
	struct netdb *db;

	rc.el = evloop_new();
	wp = worker_pool_new(rc.el, 1);
	db = netdb_new(rc.el, wp, &cfg);
	T_OK(t, netdb_reseed_start(db, &rcfg, reseeded, &rc));
	netdb_free(db);
	worker_pool_free(wp);		/* runs the job's done callback */
	evloop_free(rc.el);
	T_EQ(t, rc.calls, 0);
	free(su3);
	free(crt);
}

const struct test_case netdb_reseed_tests[] = {
	{ "su3_parse", test_su3_parse, 0 },
	{ "dir_read", test_dir_read, 0 },
	{ "dir_foreach", test_dir_foreach, 0 },
	{ "netdb_reseed_file", test_netdb_reseed_file, TT_FORK },
	{ "free_while_busy", test_free_while_busy, 0 },
	{ NULL, NULL, 0 }
};
