/*
 * netdb/persist and netdb/netdb: the SQLite database (WAL, schema,
 * batches, integrity), the loader dropping rows that do not verify, and a
 * netDb that keeps its entries across a restart.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/netdb/synth.h"
#include "tests/unit/router/tloop.h"
#include "netdb/netdb.h"
#include "netdb/persist.h"
#include "router/leaseset.h"
#include "router/router_info.h"
#include "router/evloop.h"
#include "crypto/base/fsutil.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NETID 77

static char *db_path(const char *dir)
{
	return fsutil_path_join(dir, NETDB_PERSIST_FILE_NAME);
}

struct rows {
	size_t ri, ls, keep_ri;
};

static bool count_row(void *ctx, unsigned kind, const uint8_t key[32],
		      const uint8_t *data, size_t len)
{
	struct rows *r = ctx;

	(void)key;
	(void)data;
	(void)len;
	if (kind == 0) {
		r->ri++;
		return r->ri <= r->keep_ri;
	}
	r->ls++;
	return true;
}

static void test_db_apply_load(struct tctx *t)
{
	char *dir = t_tmpdir(t), *path = db_path(dir);
	struct netdb_db *db = NULL;
	struct netdb_db_op ops[3] = { 0 };
	struct rows rows = { .keep_ri = 1 };
	size_t nr = 0, nl = 0;
	uint8_t data[10] = "0123456789";

	T_OK(t, netdb_db_open(path, &db));
	if (!db)
		goto out;
	for (int i = 0; i < 3; i++) {
		rand_bytes(ops[i].key, 32);
		ops[i].kind = i == 2 ? 3 : 0;
		ops[i].data = data;
		ops[i].len = sizeof(data);
		ops[i].stamp_ms = 5;
	}
	T_OK(t, netdb_db_apply(db, ops, 3));
	T_OK(t, netdb_db_counts(db, &nr, &nl));
	T_EQ(t, nr, 2);
	T_EQ(t, nl, 1);
	/* The loader deletes the rows its callback refuses. */
	T_OK(t, netdb_db_load(db, count_row, &rows));
	T_EQ(t, rows.ri, 2);
	T_EQ(t, rows.ls, 1);
	T_OK(t, netdb_db_counts(db, &nr, &nl));
	T_EQ(t, nr, 1);
	/* Replace and delete. */
	ops[2].del = true;
	ops[2].data = NULL;
	T_OK(t, netdb_db_apply(db, &ops[2], 1));
	T_OK(t, netdb_db_counts(db, &nr, &nl));
	T_EQ(t, nl, 0);
	T_OK(t, netdb_db_integrity_check(db));
	netdb_db_close(db);
	/* Reopening keeps it; the journal is WAL. */
	T_OK(t, netdb_db_open(path, &db));
	if (db) {
		T_OK(t, netdb_db_counts(db, &nr, &nl));
		T_EQ(t, nr, 1);
		netdb_db_close(db);
	}
out:
	t_rmtree(dir);
	free(path);
	free(dir);
}

static void test_db_not_a_database(struct tctx *t)
{
	char *dir = t_tmpdir(t), *path = db_path(dir);
	struct netdb_db *db = NULL;
	static const char junk[] = "this is not an SQLite file, not at all....";

	T_OK(t, fsutil_write_atomic(path, junk, sizeof(junk), 0600, true));
	T_ERR(t, netdb_db_open(path, &db), ERR_IO);
	T_TRUE(t, db == NULL);
	t_rmtree(dir);
	free(path);
	free(dir);
}

/* A netDb in dir: run the loop until it has loaded. */
struct env {
	struct evloop *el;
	struct worker_pool *wp;
	struct netdb *db;
};

static void stop_loop(void *arg)
{
	evloop_break(arg);
}

static void env_open_max(struct tctx *t, struct env *e, const char *dir,
			 const uint8_t self[32], size_t max_ri_bytes)
{
	struct netdb_cfg cfg = { .datadir = dir, .netid = NETID,
				 .max_ri_bytes = max_ri_bytes };

	memcpy(cfg.self, self, 32);
	e->el = evloop_new();
	e->wp = worker_pool_new(e->el, 2);
	e->db = netdb_new(e->el, e->wp, &cfg);
	netdb_on_loaded(e->db, stop_loop, e->el);
	tloop_run(t, e->el);
}

static void env_open(struct tctx *t, struct env *e, const char *dir,
		     const uint8_t self[32])
{
	env_open_max(t, e, dir, self, 0);
}

static void env_close(struct env *e)
{
	netdb_free(e->db);
	worker_pool_free(e->wp);
	evloop_free(e->el);
}

static void test_netdb_survives_restart(struct tctx *t)
{
	enum { N = 40 };
	char *dir = t_tmpdir(t), *path = db_path(dir);
	uint8_t self[32], hashes[N][32], lskey[32];
	struct env e;
	struct netdb_stats st;
	struct netdb_db *db = NULL;
	struct bbuf b = BBUF_INIT;
	size_t nr = 0, nl = 0;
	uint64_t now = time_now_ms();

	rand_bytes(self, sizeof(self));
	env_open(t, &e, dir, self);
	for (int i = 0; i < N; i++) {
		bbuf_reset(&b);
		T_OK(t, synth_ri(&b, hashes[i], NETID, i % 4 ? "XR" : "XfR",
				 now - 1000));
		T_OK(t, netdb_add_ri(e.db, b.data, b.len, NULL, NULL, NULL));
	}
	bbuf_reset(&b);
	T_OK(t, synth_ls2(&b, lskey, (uint32_t)(now / 1000), 3));
	T_OK(t, netdb_add_ls(e.db, LEASESET_LS2, b.data, b.len, lskey, NULL,
			     NULL));
	/* A bad one is refused and never reaches the database. */
	b.data[b.len - 1] ^= 1;
	T_ERR(t, netdb_add_ls(e.db, LEASESET_LS2, b.data, b.len, NULL, NULL,
			      NULL), ERR_EXISTS);
	netdb_stats(e.db, &st);
	T_EQ(t, st.ri_stored, N);
	env_close(&e);		/* writes the queue */

	T_OK(t, netdb_db_open(path, &db));
	if (db) {
		T_OK(t, netdb_db_counts(db, &nr, &nl));
		T_EQ(t, nr, N);
		T_EQ(t, nl, 1);
		T_OK(t, netdb_db_integrity_check(db));
		netdb_db_close(db);
	}
	env_open(t, &e, dir, self);
	netdb_stats(e.db, &st);
	T_TRUE(t, st.loaded);
	T_EQ(t, st.loaded_ri, N);
	T_EQ(t, st.loaded_ls, 1);
	T_EQ(t, netdb_store_ri_count(netdb_get_store(e.db)), N);
	T_EQ(t, netdb_store_ff_count(netdb_get_store(e.db)), N / 4);
	for (int i = 0; i < N; i++)
		T_TRUE(t, netdb_get_ri(e.db, hashes[i]) != NULL);
	env_close(&e);
	bbuf_free(&b);
	t_rmtree(dir);
	free(path);
	free(dir);
}

/* A row that does not verify (a flipped byte on disk) is dropped at load
 * and deleted from the database. */
static void test_load_drops_corrupt_rows(struct tctx *t)
{
	char *dir = t_tmpdir(t), *path = db_path(dir);
	struct netdb_db *db = NULL;
	struct netdb_db_op op = { 0 };
	struct bbuf b = BBUF_INIT;
	uint8_t self[32], good[32];
	struct env e;
	struct netdb_stats st;
	size_t nr = 0, nl = 0;

	rand_bytes(self, sizeof(self));
	T_OK(t, netdb_db_open(path, &db));
	if (!db)
		goto out;
	T_OK(t, synth_ri(&b, good, NETID, "XR", time_now_ms() - 1000));
	memcpy(op.key, good, 32);
	op.data = b.data;
	op.len = b.len;
	T_OK(t, netdb_db_apply(db, &op, 1));
	b.data[b.len / 2] ^= 0x20;
	rand_bytes(op.key, 32);
	T_OK(t, netdb_db_apply(db, &op, 1));
	netdb_db_close(db);
	db = NULL;
	env_open(t, &e, dir, self);
	netdb_stats(e.db, &st);
	T_EQ(t, st.loaded_ri, 1);
	T_EQ(t, st.loaded_bad, 1);
	T_TRUE(t, netdb_get_ri(e.db, good) != NULL);
	env_close(&e);
	T_OK(t, netdb_db_open(path, &db));
	if (db) {
		T_OK(t, netdb_db_counts(db, &nr, &nl));
		T_EQ(t, nr, 1);
		netdb_db_close(db);
	}
out:
	bbuf_free(&b);
	t_rmtree(dir);
	free(path);
	free(dir);
}

/* A database at path holding n fresh RouterInfos. */
static bool db_write_ris(struct tctx *t, const char *path, int n)
{
	struct netdb_db *db = NULL;
	struct bbuf b = BBUF_INIT;

	T_OK(t, netdb_db_open(path, &db));
	for (int i = 0; db && i < n; i++) {
		struct netdb_db_op op = { 0 };

		bbuf_reset(&b);
		T_OK(t, synth_ri(&b, op.key, NETID, "XR",
				 time_now_ms() - 1000));
		op.data = b.data;
		op.len = b.len;
		T_OK(t, netdb_db_apply(db, &op, 1));
	}
	bbuf_free(&b);
	if (!db)
		return false;
	netdb_db_close(db);
	return true;
}

/* Rows the store has no room for ([limits] netdb-routers) are good: they
 * are left out of memory and kept in the database. */
static void test_load_full_keeps_rows(struct tctx *t)
{
	enum { N = 10 };
	char *dir = t_tmpdir(t), *path = db_path(dir);
	struct netdb_stats st;
	struct netdb_db *db = NULL;
	size_t nr = 0, nl = 0;
	uint8_t self[32];
	struct env e;

	rand_bytes(self, sizeof(self));
	if (db_write_ris(t, path, N)) {
		env_open_max(t, &e, dir, self, 1);	/* room for none */
		netdb_stats(e.db, &st);
		T_TRUE(t, st.loaded);
		T_EQ(t, st.loaded_ri, 0);
		T_EQ(t, st.rejected_full, N);
		T_EQ(t, st.loaded_bad, 0);
		T_EQ(t, netdb_store_ri_count(netdb_get_store(e.db)), 0);
		env_close(&e);
	}
	T_OK(t, netdb_db_open(path, &db));
	if (db) {
		T_OK(t, netdb_db_counts(db, &nr, &nl));
		T_EQ(t, nr, N);
		netdb_db_close(db);
	}
	env_open(t, &e, dir, self);
	netdb_stats(e.db, &st);
	T_EQ(t, st.loaded_ri, N);
	T_EQ(t, st.rejected_full, 0);
	env_close(&e);
	t_rmtree(dir);
	free(path);
	free(dir);
}

struct got_loaded {
	struct evloop *el;
	struct netdb_loaded *l;
};

static void on_loaded(void *ctx, struct netdb_loaded *l)
{
	struct got_loaded *g = ctx;

	g->l = l;
	evloop_break(g->el);
}

/* What a writer for cfg loads (the caller frees it). */
static struct netdb_loaded *load_with(struct tctx *t,
				      const struct netdb_writer_cfg *cfg)
{
	struct got_loaded g = { .el = evloop_new() };
	struct worker_pool *wp = worker_pool_new(g.el, 2);
	struct netdb_writer *w = netdb_writer_new(g.el, wp, cfg, on_loaded, &g);

	tloop_run(t, g.el);
	T_TRUE(t, g.l != NULL);
	if (g.l)
		T_OK(t, g.l->err);
	netdb_writer_free(w);
	worker_pool_free(wp);
	evloop_free(g.el);
	return g.l;
}

/* Write n LeaseSet2 rows at path; the heap one takes at load in *one. */
static bool db_write_lss(struct tctx *t, const char *path, int n,
			 size_t *one)
{
	struct netdb_db *db = NULL;
	struct bbuf b = BBUF_INIT;
	struct leaseset *ls = NULL;

	T_OK(t, netdb_db_open(path, &db));
	for (int i = 0; db && i < n; i++) {
		struct netdb_db_op op = { .kind = LEASESET_LS2 };

		bbuf_reset(&b);
		T_OK(t, synth_ls2(&b, op.key,
				  (uint32_t)(time_now_ms() / 1000), 3));
		op.data = b.data;
		op.len = b.len;
		T_OK(t, netdb_db_apply(db, &op, 1));
	}
	T_OK(t, leaseset_decode(LEASESET_LS2, b.data, b.len, &ls));
	*one = ls ? leaseset_heap_bytes(ls) + alloc_cost(b.len) : 1000;
	leaseset_free(ls);
	bbuf_free(&b);
	if (!db)
		return false;
	netdb_db_close(db);
	return true;
}

/* The load decodes no more than the store has room for: past it, good
 * rows are counted and left in the database, not held in memory until
 * the store refuses them. */
static void test_load_decodes_within_room(struct tctx *t)
{
	enum { N = 10 };
	char *dir = t_tmpdir(t), *path = db_path(dir);
	struct netdb_writer_cfg cfg = { .path = path, .netid = NETID };
	struct netdb_loaded *l;
	struct router_info *ri = NULL;
	struct bbuf b = BBUF_INIT;
	uint8_t h[32];
	size_t one, one_ls = 0, sum = 0;

	T_OK(t, synth_ri(&b, h, NETID, "XR", time_now_ms() - 1000));
	T_OK(t, router_info_decode(b.data, b.len, &ri));
	one = ri ? router_info_heap_bytes(ri) : 1000;
	router_info_free(ri);
	bbuf_free(&b);
	cfg.max_ri_bytes = 3 * one + one / 2;	/* about three */
	if (db_write_ris(t, path, N) && db_write_lss(t, path, N, &one_ls)) {
		cfg.max_ls_bytes = 2 * one_ls + one_ls / 2;	/* two */
		l = load_with(t, &cfg);
		if (l) {
			for (size_t i = 0; i < l->n_ris; i++)
				sum += router_info_heap_bytes(l->ris[i]);
			T_TRUE(t, sum <= cfg.max_ri_bytes);
			T_TRUE(t, l->n_ris >= 2 && l->n_ris <= 4);
			T_EQ(t, l->n_lss, 2);
			T_EQ(t, l->n_ris + l->n_lss + l->n_full, 2 * N);
			T_EQ(t, l->n_bad, 0);
		}
		netdb_loaded_free(l);
	}
	t_rmtree(dir);
	free(path);
	free(dir);
}

static void write_ri_file(struct tctx *t, const char *dir,
			  const uint8_t hash[32], const void *data, size_t len)
{
	char name[ROUTER_INFO_FILE_NAME_BYTES], *p;

	router_info_file_name(hash, name, sizeof(name));
	p = fsutil_path_join(dir, name);
	T_OK(t, fsutil_write_atomic(p, data, len, 0644, false));
	free(p);
}

/* The export mirror is imported at load without reading the files of
 * routers with a row (junk under such a name is not refused: never
 * read), and only as far as the RouterInfos' room goes (a LeaseSet
 * with no room does not stop it); what is past it is counted, not read,
 * and a row's file not counted twice. */
static void test_load_imports_mirror(struct tctx *t)
{
	enum { N = 4, M = 6 };
	char *dir = t_tmpdir(t), *path = db_path(dir);
	char *mirror = fsutil_path_join(dir, "mirror");
	struct netdb_writer_cfg cfg = { .path = path, .export_dir = mirror,
					.netid = NETID };
	struct netdb_db *db = NULL;
	struct router_info *ri = NULL;
	struct bbuf b = BBUF_INIT;
	uint8_t h[32], junk[32];
	size_t one = 1000, one_ls = 0;

	T_EQ(t, mkdir(mirror, 0700), 0);
	T_OK(t, netdb_db_open(path, &db));
	for (int i = 0; db && i < N + M; i++) {
		struct netdb_db_op op = { 0 };

		bbuf_reset(&b);
		T_OK(t, synth_ri(&b, h, NETID, "XR", time_now_ms() - 1000));
		if (i < N) {		/* a row, and junk under its name */
			memcpy(op.key, h, 32);
			op.data = b.data;
			op.len = b.len;
			T_OK(t, netdb_db_apply(db, &op, 1));
			write_ri_file(t, mirror, h, "junk", 4);
		} else {		/* only in the mirror */
			write_ri_file(t, mirror, h, b.data, b.len);
		}
	}
	netdb_db_close(db);
	/* a LeaseSet row with no room: the RouterInfos' room is another */
	(void)db_write_lss(t, path, 1, &one_ls);
	cfg.max_ls_bytes = 1;
	rand_bytes(junk, sizeof(junk));	/* junk of no loaded router */
	write_ri_file(t, mirror, junk, "junk", 4);
	T_OK(t, router_info_decode(b.data, b.len, &ri));
	if (ri)
		one = router_info_heap_bytes(ri);
	router_info_free(ri);
	for (int pass = 0; pass < 3; pass++) {
		struct netdb_loaded *l;

		/* all of them; room for the rows and two files more; room
		 * for two rows (the others' files are theirs: not counted
		 * again) */
		cfg.max_ri_bytes = pass == 0 ? 0 : pass == 1 ?
				   (N + 2) * one + one / 2 : 2 * one + one / 2;
		if ((l = load_with(t, &cfg)) != NULL) {
			T_EQ(t, l->n_bad, 0);
			if (pass == 0) {
				T_EQ(t, l->n_ris, N + M);
				T_EQ(t, l->n_full, 1);
				T_EQ(t, l->n_files_bad, 1);
			} else if (pass == 1) {
				T_EQ(t, l->n_ris, N + 2);
				T_EQ(t, l->n_ris + l->n_full +
					l->n_files_bad, N + M + 1 + 1);
			} else {
				T_EQ(t, l->n_ris, 2);
				T_EQ(t, l->n_full, N - 2 + M + 1 + 1);
				T_EQ(t, l->n_files_bad, 0);
			}
		}
		netdb_loaded_free(l);
	}
	bbuf_free(&b);
	t_rmtree(dir);
	free(mirror);
	free(path);
	free(dir);
}

const struct test_case netdb_persist_tests[] = {
	{ "db_apply_load", test_db_apply_load, 0 },
	{ "db_not_a_database", test_db_not_a_database, 0 },
	{ "netdb_survives_restart", test_netdb_survives_restart, 0 },
	{ "load_drops_corrupt_rows", test_load_drops_corrupt_rows, 0 },
	{ "load_full_keeps_rows", test_load_full_keeps_rows, 0 },
	{ "load_decodes_within_room", test_load_decodes_within_room, 0 },
	{ "load_imports_mirror", test_load_imports_mirror, 0 },
	{ NULL, NULL, 0 }
};
