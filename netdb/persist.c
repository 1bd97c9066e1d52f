/*
 * The netDb in SQLite (netdb/persist.h): the connection with prepared
 * statements for the worker, and the loop-side writer that batches
 * changes into one transaction per job.
 *
 * Crash safety comes from SQLite: WAL journal, synchronous=NORMAL (a
 * commit is durable once the WAL is written; a process kill loses nothing
 * committed, a power cut at most the last transactions), and every batch
 * one transaction, so the database is always a prefix of our changes.
 */
#include "config.h"
#include "netdb/persist.h"
#include "netdb/keymap.h"
#include "netdb/reseed.h"
#include "netdb/store.h"
#include "router/evloop.h"
#include "crypto/base/fsutil.h"
#include "router/leaseset.h"
#include "router/router_info.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the connection ---- */

struct netdb_db {
	sqlite3 *h;
	sqlite3_stmt *put_ri, *put_ls, *del_ri, *del_ls;
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS routers ("
	" hash BLOB PRIMARY KEY NOT NULL,"
	" published INTEGER NOT NULL,"
	" data BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS leasesets ("
	" key BLOB PRIMARY KEY NOT NULL,"
	" type INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" data BLOB NOT NULL) WITHOUT ROWID;";

static int db_exec(struct netdb_db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warn(LD_NETDB, "netDb database: %s: %s", sql,
			 msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return ERR_IO;
	}
	return 0;
}

static int prepare(struct netdb_db *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK) {
		log_warn(LD_NETDB, "netDb database: cannot prepare %s: %s", sql,
			 sqlite3_errmsg(db->h));
		return ERR_IO;
	}
	return 0;
}

static int user_version(struct netdb_db *db, int *v)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_IO;

	if (prepare(db, "PRAGMA user_version", &st) == 0 &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int netdb_db_open(const char *path, struct netdb_db **out)
{
	struct netdb_db *db = xzalloc(sizeof(*db));
	int v = 0, r;

	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		log_warn(LD_NETDB, "cannot open the netDb database %s: %s",
			 path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
		r = ERR_IO;
		goto fail;
	}
	sqlite3_busy_timeout(db->h, 5000);
	if ((r = db_exec(db, "PRAGMA journal_mode=WAL;"
			 "PRAGMA synchronous=NORMAL;")) != 0 ||
	    (r = user_version(db, &v)) != 0)
		goto fail;
	if (v > NETDB_PERSIST_SCHEMA_VERSION) {
		log_warn(LD_NETDB, "the netDb database %s has schema version "
			 "%d, newer than this bitsd knows (%d); move it away",
			 path, v, NETDB_PERSIST_SCHEMA_VERSION);
		r = ERR_FORMAT;
		goto fail;
	}
	if ((r = db_exec(db, schema_sql)) != 0 ||
	    (r = db_exec(db, "PRAGMA user_version=1")) != 0)
		goto fail;
	if ((r = prepare(db, "INSERT OR REPLACE INTO routers"
			 " (hash, published, data) VALUES (?, ?, ?)",
			 &db->put_ri)) != 0 ||
	    (r = prepare(db, "INSERT OR REPLACE INTO leasesets"
			 " (key, type, expires, data) VALUES (?, ?, ?, ?)",
			 &db->put_ls)) != 0 ||
	    (r = prepare(db, "DELETE FROM routers WHERE hash = ?",
			 &db->del_ri)) != 0 ||
	    (r = prepare(db, "DELETE FROM leasesets WHERE key = ?",
			 &db->del_ls)) != 0)
		goto fail;
	*out = db;
	return 0;
fail:
	netdb_db_close(db);
	return r;
}

void netdb_db_close(struct netdb_db *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->put_ri);
	sqlite3_finalize(db->put_ls);
	sqlite3_finalize(db->del_ri);
	sqlite3_finalize(db->del_ls);
	sqlite3_close(db->h);
	free(db);
}

static int step_op(struct netdb_db *db, const struct netdb_db_op *op)
{
	bool ri = op->kind == NETDB_KIND_RI;
	sqlite3_stmt *st;
	int rc;

	if (op->del) {
		st = ri ? db->del_ri : db->del_ls;
		sqlite3_bind_blob(st, 1, op->key, 32, SQLITE_STATIC);
	} else if (ri) {
		st = db->put_ri;
		sqlite3_bind_blob(st, 1, op->key, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)op->stamp_ms);
		sqlite3_bind_blob(st, 3, op->data, (int)op->len, SQLITE_STATIC);
	} else {
		st = db->put_ls;
		sqlite3_bind_blob(st, 1, op->key, 32, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)op->kind);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)op->stamp_ms);
		sqlite3_bind_blob(st, 4, op->data, (int)op->len, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_warn(LD_NETDB, "netDb database write failed: %s",
			 sqlite3_errmsg(db->h));
		return ERR_IO;
	}
	return 0;
}

int netdb_db_apply(struct netdb_db *db, const struct netdb_db_op *ops,
		   size_t n)
{
	int r;

	if ((r = db_exec(db, "BEGIN IMMEDIATE")) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if ((r = step_op(db, &ops[i])) != 0) {
			db_exec(db, "ROLLBACK");
			return r;
		}
	}
	return db_exec(db, "COMMIT");
}

/* Rows to delete after a load pass. */
struct doomed {
	struct netdb_db_op *ops;
	size_t n, cap;
};

static int load_table(struct netdb_db *db, bool ri, netdb_db_row_fn fn,
		      void *ctx, struct doomed *d)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((r = prepare(db, ri ? "SELECT hash, 0, data FROM routers" :
			 "SELECT key, type, data FROM leasesets", &st)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const uint8_t *key = sqlite3_column_blob(st, 0);
		int klen = sqlite3_column_bytes(st, 0);
		unsigned kind = (unsigned)sqlite3_column_int(st, 1);
		const uint8_t *data = sqlite3_column_blob(st, 2);
		int len = sqlite3_column_bytes(st, 2);
		bool keep = klen == 32 && data && len > 0 &&
			    len <= NETDB_PERSIST_MAX_ROW_BYTES;

		/* A row is untrusted bytes like any other: fn decodes and
		 * verifies it. */
		if (keep)
			keep = fn(ctx, ri ? NETDB_KIND_RI : kind, key, data,
				  (size_t)len);
		if (!keep && klen == 32) {
			if (d->n == d->cap) {
				d->cap = d->cap ? d->cap * 2 : 16;
				d->ops = xrealloc(d->ops,
						  d->cap * sizeof(*d->ops));
			}
			memset(&d->ops[d->n], 0, sizeof(d->ops[0]));
			d->ops[d->n].kind = ri ? NETDB_KIND_RI : LEASESET_LS2;
			d->ops[d->n].del = true;
			memcpy(d->ops[d->n].key, key, 32);
			d->n++;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warn(LD_NETDB, "netDb database read failed: %s",
			 sqlite3_errmsg(db->h));
		return ERR_IO;
	}
	return 0;
}

int netdb_db_load(struct netdb_db *db, netdb_db_row_fn fn, void *ctx)
{
	struct doomed d = { 0 };
	int r;

	if ((r = load_table(db, true, fn, ctx, &d)) == 0 &&
	    (r = load_table(db, false, fn, ctx, &d)) == 0 && d.n)
		r = netdb_db_apply(db, d.ops, d.n);
	free(d.ops);
	return r;
}

int netdb_db_integrity_check(struct netdb_db *db)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_FORMAT;

	if (prepare(db, "PRAGMA integrity_check", &st) != 0)
		return ERR_IO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *s = sqlite3_column_text(st, 0);
		if (s && strcmp((const char *)s, "ok") == 0)
			r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

static int count_rows(struct netdb_db *db, const char *sql, size_t *out)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_IO;

	if (prepare(db, sql, &st) == 0 && sqlite3_step(st) == SQLITE_ROW) {
		*out = (size_t)sqlite3_column_int64(st, 0);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int netdb_db_counts(struct netdb_db *db, size_t *routers, size_t *leasesets)
{
	int r;

	if ((r = count_rows(db, "SELECT count(*) FROM routers", routers)) != 0)
		return r;
	return count_rows(db, "SELECT count(*) FROM leasesets", leasesets);
}

/* ---- loading on the worker ---- */

void netdb_loaded_free(struct netdb_loaded *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_ris; i++)
		router_info_free(l->ris[i]);
	for (size_t i = 0; i < l->n_lss; i++)
		free(l->lss[i].data);
	free(l->ris);
	free(l->lss);
	free(l);
}

struct load_ctx {
	struct netdb_loaded *l;
	size_t cap_ris, cap_lss;
	uint8_t netid;
	size_t ri_bytes, ls_bytes;	/* the heap of what is loaded */
	size_t max_ri_bytes, max_ls_bytes;	/* SIZE_MAX: no limit */
	struct keymap *rows;		/* NULL, or the good RouterInfo rows'
					 * hashes, loaded or not */
	bool ri_full;			/* a RouterInfo found no room */
};

/* Whether what takes cost more fits under max (adding it to *sum). */
static bool load_room(size_t *sum, size_t cost, size_t max)
{
	if (cost > max || *sum > max - cost)
		return false;
	*sum += cost;
	return true;
}

/* Take ri into the result; false: no room (ri freed). */
static bool load_add_ri(struct load_ctx *c, struct router_info *ri)
{
	struct netdb_loaded *l = c->l;

	if (!load_room(&c->ri_bytes, router_info_heap_bytes(ri),
		       c->max_ri_bytes)) {
		router_info_free(ri);
		c->ri_full = true;
		return false;
	}
	if (l->n_ris == c->cap_ris) {
		c->cap_ris = c->cap_ris ? c->cap_ris * 2 : 256;
		l->ris = xrealloc(l->ris, c->cap_ris * sizeof(*l->ris));
	}
	l->ris[l->n_ris++] = ri;
	return true;
}

/* Decode and verify one row; false drops it from the database. */
static bool load_row(void *arg, unsigned kind, const uint8_t key[32],
		     const uint8_t *data, size_t len)
{
	struct load_ctx *c = arg;
	struct netdb_loaded *l = c->l;
	struct router_info *ri = NULL;
	struct leaseset *ls = NULL;
	bool room;

	if (kind == NETDB_KIND_RI) {
		if (router_info_decode(data, len, &ri) != 0 ||
		    memcmp(router_info_hash(ri), key, 32) != 0 ||
		    router_info_check_netid(ri, c->netid) != 0 ||
		    router_info_verify(ri) != 0) {
			router_info_free(ri);
			l->n_bad++;
			return false;
		}
		if (c->rows)
			(void)keymap_put(c->rows, key, c);
		if (!load_add_ri(c, ri))
			l->n_full++;	/* good: it stays in the database */
		return true;
	}
	if (leaseset_decode((enum leaseset_type)kind, data, len, &ls) != 0 ||
	    memcmp(leaseset_key(ls), key, 32) != 0 || leaseset_verify(ls) != 0) {
		leaseset_free(ls);
		l->n_bad++;
		return false;
	}
	/* the bytes are kept, and the store decodes them again */
	room = load_room(&c->ls_bytes, leaseset_heap_bytes(ls) +
			 alloc_cost(len), c->max_ls_bytes);
	leaseset_free(ls);
	if (!room) {
		l->n_full++;
		return true;
	}
	if (l->n_lss == c->cap_lss) {
		c->cap_lss = c->cap_lss ? c->cap_lss * 2 : 64;
		l->lss = xrealloc(l->lss, c->cap_lss * sizeof(*l->lss));
	}
	l->lss[l->n_lss].type = kind;
	l->lss[l->n_lss].data = xmemdup(data, len);
	l->lss[l->n_lss].len = len;
	l->n_lss++;
	return true;
}

/* ---- the writer ---- */

struct netdb_writer {
	struct evloop *el;
	struct worker_pool *wp;
	struct evloop_timer *timer;
	char *path;
	char *export_dir;		/* i2pd-layout mirror, or NULL */
	uint8_t netid;
	size_t max_ri_bytes, max_ls_bytes;	/* for the load; SIZE_MAX: none */
	struct netdb_db *db;		/* used by one job at a time */
	void (*loaded)(void *ctx, struct netdb_loaded *l);
	void *ctx;
	struct netdb_db_op *q;		/* waiting changes */
	size_t nq, capq;
	bool busy;			/* a job runs (it uses db) */
	bool ready;			/* the load job finished */
	bool closing;			/* freed by the running job's done */
	struct netdb_writer_stats st;
};

/* One job: the load (first) or a batch.  Owned by the job. */
struct wjob {
	struct netdb_writer *w;		/* alive until done: see _free */
	bool load;
	struct netdb_db_op *ops;
	size_t n;
	int err;
	struct netdb_loaded *loaded;
	struct netdb_db *db;		/* the load job opens it */
};

static void ops_free(struct netdb_db_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ops[i].data);
	free(ops);
}

static void writer_kick(struct netdb_writer *w);

/* DIR/r<c>/routerInfo-<hash>.dat for key (caller frees). */
static char *export_path(const char *dir, const uint8_t key[32], bool mkdirs)
{
	char name[ROUTER_INFO_FILE_NAME_BYTES], sub[3], *d, *p;

	router_info_file_name(key, name, sizeof(name));
	sub[0] = 'r';
	sub[1] = name[11];		/* first character of the hash */
	sub[2] = '\0';
	d = fsutil_path_join(dir, sub);
	if (mkdirs) {
		(void)mkdir(dir, 0755);
		(void)mkdir(d, 0755);
	}
	p = fsutil_path_join(d, name);
	free(d);
	return p;
}

/* Mirror one change (worker; no fsync: the database is the authority). */
static void export_op(const char *dir, const struct netdb_db_op *op)
{
	char *p, *tmp;
	size_t n;
	FILE *f;

	if (op->kind != NETDB_KIND_RI)
		return;
	p = export_path(dir, op->key, !op->del);
	if (op->del) {
		(void)unlink(p);
		free(p);
		return;
	}
	n = strlen(p) + 5;
	tmp = xmalloc(n);
	snprintf(tmp, n, "%s.tmp", p);
	if ((f = fopen(tmp, "wb")) != NULL) {
		bool ok = fwrite(op->data, 1, op->len, f) == op->len;
		if (fclose(f) == 0 && ok)
			(void)rename(tmp, p);
		else
			(void)unlink(tmp);
	}
	free(tmp);
	free(p);
}

static bool import_want(void *arg, const uint8_t hash[32])
{
	struct load_ctx *c = arg;

	if (keymap_get(c->rows, hash))
		return false;
	if (c->ri_full)
		c->l->n_full++;	/* a file: not read, not lost */
	return !c->ri_full;
}

static bool import_take(void *arg, struct router_info *ri)
{
	struct load_ctx *c = arg;

	/* the key is copied before load_add_ri() can free ri */
	(void)keymap_put(c->rows, router_info_hash(ri), c);
	if (!load_add_ri(c, ri))
		c->l->n_full++;
	return true;
}

/* Import the mirror directory's RouterInfos not in the database, within
 * the room the database's rows left: files of routers with a row are not
 * read, nor any once the room is used up. */
static void import_dir(struct load_ctx *c, const char *dir)
{
	(void)reseed_dir_foreach(dir, c->netid, import_want, import_take, c,
				 &c->l->n_files_bad);
}

static void job_run(void *arg)
{
	struct wjob *j = arg;

	if (j->load) {
		struct load_ctx c = { .netid = j->w->netid,
				      .max_ri_bytes = j->w->max_ri_bytes,
				      .max_ls_bytes = j->w->max_ls_bytes };
		c.l = j->loaded = xzalloc(sizeof(*j->loaded));
		if (j->w->export_dir)
			c.rows = keymap_new();
		if ((j->err = netdb_db_open(j->w->path, &j->db)) == 0)
			j->err = netdb_db_load(j->db, load_row, &c);
		if (j->w->export_dir)
			import_dir(&c, j->w->export_dir);
		keymap_free(c.rows);
		j->loaded->err = j->err;
		return;
	}
	j->err = netdb_db_apply(j->db, j->ops, j->n);
	if (j->err == 0 && j->w->export_dir)
		for (size_t i = 0; i < j->n; i++)
			export_op(j->w->export_dir, &j->ops[i]);
}

/* Shutdown: write what is left on this thread and close. */
static void writer_finish(struct netdb_writer *w)
{
	if (w->db && w->nq)
		(void)netdb_db_apply(w->db, w->q, w->nq);
	ops_free(w->q, w->nq);
	netdb_db_close(w->db);
	evloop_timer_free(w->timer);
	free(w->path);
	free(w->export_dir);
	free(w);
}

static void job_done(void *arg)
{
	struct wjob *j = arg;
	struct netdb_writer *w = j->w;

	w->busy = false;
	if (j->load) {
		w->db = j->db;
		w->ready = true;
		if (!w->closing && w->loaded)
			w->loaded(w->ctx, j->loaded);
		else
			netdb_loaded_free(j->loaded);
	} else if (j->err) {
		w->st.errors++;
	} else {
		w->st.ops_written += j->n;
		w->st.batches++;
	}
	ops_free(j->ops, j->n);
	free(j);
	if (w->closing)
		writer_finish(w);
	else if (w->nq >= NETDB_PERSIST_BATCH)
		writer_kick(w);
	else if (w->nq && !evloop_timer_is_armed(w->timer))
		evloop_timer_arm(w->timer, NETDB_PERSIST_FLUSH_MS);
}

/* Hand the queue to a job, unless one runs or the database is not up. */
static void writer_kick(struct netdb_writer *w)
{
	struct wjob *j;

	if (w->busy || !w->ready || !w->nq)
		return;
	if (!w->db) {			/* the load failed: nothing to write to */
		w->st.ops_dropped += w->nq;
		ops_free(w->q, w->nq);
		w->q = NULL;
		w->nq = w->capq = 0;
		return;
	}
	j = xzalloc(sizeof(*j));
	j->w = w;
	j->db = w->db;
	j->ops = w->q;
	j->n = w->nq;
	w->q = NULL;
	w->nq = w->capq = 0;
	w->busy = true;
	evloop_timer_disarm(w->timer);
	worker_submit(w->wp, (struct work){ job_run, job_done, j });
}

static void writer_timer(void *arg)
{
	writer_kick(arg);
}

struct netdb_writer *netdb_writer_new(struct evloop *el, struct worker_pool *wp,
				      const struct netdb_writer_cfg *cfg,
				      void (*loaded)(void *ctx,
						     struct netdb_loaded *l),
				      void *ctx)
{
	struct netdb_writer *w = xzalloc(sizeof(*w));
	struct wjob *j = xzalloc(sizeof(*j));

	w->el = el;
	w->wp = wp;
	w->path = xstrdup(cfg->path);
	w->export_dir = cfg->export_dir ? xstrdup(cfg->export_dir) : NULL;
	w->netid = cfg->netid;
	w->max_ri_bytes = cfg->max_ri_bytes ? cfg->max_ri_bytes : SIZE_MAX;
	w->max_ls_bytes = cfg->max_ls_bytes ? cfg->max_ls_bytes : SIZE_MAX;
	w->loaded = loaded;
	w->ctx = ctx;
	w->timer = evloop_timer_new(el, writer_timer, w);
	j->w = w;
	j->load = true;
	w->busy = true;
	worker_submit(wp, (struct work){ job_run, job_done, j });
	return w;
}

static struct netdb_db_op *writer_push(struct netdb_writer *w)
{
	if (w->nq >= NETDB_PERSIST_MAX_QUEUE) {
		w->st.ops_dropped++;
		log_info_rl(60, LD_NETDB, "netDb database writes are behind; "
			    "dropping changes (%zu waiting)", w->nq);
		return NULL;
	}
	if (w->nq == w->capq) {
		w->capq = w->capq ? w->capq * 2 : 256;
		w->q = xrealloc(w->q, w->capq * sizeof(*w->q));
	}
	memset(&w->q[w->nq], 0, sizeof(w->q[0]));
	return &w->q[w->nq++];
}

static void writer_queued(struct netdb_writer *w)
{
	if (w->nq >= NETDB_PERSIST_BATCH)
		writer_kick(w);
	else if (!evloop_timer_is_armed(w->timer))
		evloop_timer_arm(w->timer, NETDB_PERSIST_FLUSH_MS);
}

void netdb_writer_put(struct netdb_writer *w, unsigned kind,
		      const uint8_t key[32], const uint8_t *data, size_t len,
		      uint64_t stamp_ms)
{
	struct netdb_db_op *op = writer_push(w);

	if (!op)
		return;
	op->kind = kind;
	memcpy(op->key, key, 32);
	op->data = xmemdup(data, len);
	op->len = len;
	op->stamp_ms = stamp_ms;
	writer_queued(w);
}

void netdb_writer_del(struct netdb_writer *w, unsigned kind,
		      const uint8_t key[32])
{
	struct netdb_db_op *op = writer_push(w);

	if (!op)
		return;
	op->kind = kind;
	op->del = true;
	memcpy(op->key, key, 32);
	writer_queued(w);
}

void netdb_writer_stats(const struct netdb_writer *w,
			struct netdb_writer_stats *out)
{
	*out = w->st;
	out->queued = w->nq;
	out->busy = w->busy;
}

void netdb_writer_free(struct netdb_writer *w)
{
	if (!w)
		return;
	evloop_timer_disarm(w->timer);
	if (w->busy) {
		w->closing = true;	/* job_done finishes the shutdown */
		return;
	}
	writer_finish(w);
}
