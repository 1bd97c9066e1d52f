/*
 * The netDb on disk: one SQLite database (DATADIR/netdb.sqlite) in WAL
 * mode, so a crash or kill -9 leaves the last committed batch and a
 * database that opens and passes PRAGMA integrity_check.
 *
 * Two layers:
 *  - struct netdb_db: the connection and its statements.  Blocking; used
 *    only on a worker thread, by one thread at a time.
 *  - struct netdb_writer: the loop side.  Changes are queued and written
 *    in one transaction per batch by a worker job (STYLE.md §4: sqlite
 *    writes never block the loop), at most one job at a time, so batches
 *    commit in order.  A batch goes out every NETDB_PERSIST_FLUSH_MS, or
 *    as soon as NETDB_PERSIST_BATCH changes wait.  The first job opens the
 *    database and loads it: rows are decoded and their signatures checked
 *    on the worker, rows that fail are deleted, and the rest are handed
 *    to the loop.
 *
 * Schema (version 1): routers(hash PRIMARY KEY, published, data) and
 * leasesets(key PRIMARY KEY, type, expires, data); data is the exact
 * signed bytes.
 *
 * Optionally the writer also mirrors the RouterInfos into an export
 * directory in i2pd's layout (DIR/r<c>/routerInfo-<Base64 hash>.dat, the
 * raw signed bytes), which other tools and routers read; the load job
 * imports that directory too (verified like any other row), so a netDb
 * seeded the i2pd way starts with those routers.  The database stays the
 * authority: mirror files are written without fsync.
 */
#ifndef NETDB_PERSIST_H
#define NETDB_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;
struct router_info;
struct worker_pool;

#define NETDB_PERSIST_FILE_NAME "netdb.sqlite"
#define NETDB_PERSIST_SCHEMA_VERSION 1
/* Write at least this often under load, and this many at a time. */
#define NETDB_PERSIST_FLUSH_MS 1000
#define NETDB_PERSIST_BATCH 2000
/* Changes waiting beyond this are dropped (memory bound; counted). */
#define NETDB_PERSIST_MAX_QUEUE 100000
/* A stored row larger than this is corrupt (LeaseSets and RIs are ~3 K). */
#define NETDB_PERSIST_MAX_ROW_BYTES 65536

/* ---- the connection (worker threads) ---- */

struct netdb_db;

struct netdb_db_op {
	unsigned kind;			/* NETDB_KIND_RI or a LeaseSet type */
	bool del;
	uint8_t key[32];
	uint8_t *data;			/* owned; NULL for a delete */
	size_t len;
	uint64_t stamp_ms;		/* RI: published; LS: expires */
};

/*
 * Open (creating) the database at path: WAL, synchronous=NORMAL, schema.
 * Errors: ERR_IO (SQLite could not open or create it; logged at warn),
 * ERR_FORMAT (a schema version we do not know).
 */
int netdb_db_open(const char *path, struct netdb_db **out);
/* Close (checkpointing the WAL).  Accepts NULL. */
void netdb_db_close(struct netdb_db *db);
/* Apply ops in order in one transaction.  ERR_IO (rolled back). */
int netdb_db_apply(struct netdb_db *db, const struct netdb_db_op *ops,
		   size_t n);
/*
 * Call fn for every row (data borrowed for the call).  fn returns false
 * to have the row deleted (it was invalid).  ERR_IO.
 */
typedef bool (*netdb_db_row_fn)(void *ctx, unsigned kind,
				const uint8_t key[32], const uint8_t *data,
				size_t len);
int netdb_db_load(struct netdb_db *db, netdb_db_row_fn fn, void *ctx);
/* PRAGMA integrity_check: 0 when SQLite says "ok", else ERR_FORMAT. */
int netdb_db_integrity_check(struct netdb_db *db);
/* Rows in each table (tests, tools). */
int netdb_db_counts(struct netdb_db *db, size_t *routers, size_t *leasesets);

/* ---- the loop side ---- */

/* What the first job loaded, handed to the loop (owned by the callee). */
struct netdb_loaded {
	struct router_info **ris;	/* decoded and verified */
	size_t n_ris;
	struct {
		unsigned type;
		uint8_t *data;		/* verified LeaseSet bytes */
		size_t len;
	} *lss;
	size_t n_lss;
	size_t n_bad;			/* rows dropped as invalid */
	size_t n_full;			/* good rows past the room: left in
					 * the database, not loaded */
	size_t n_files_bad;		/* export_dir files refused (left
					 * as they are) */
	int err;			/* 0, or why the database is unusable */
};
/* Release l and what it still holds.  Accepts NULL. */
void netdb_loaded_free(struct netdb_loaded *l);

struct netdb_writer_stats {
	uint64_t ops_written, batches, ops_dropped, errors;
	size_t queued;
	bool busy;			/* a job runs */
};

struct netdb_writer;

struct netdb_writer_cfg {
	const char *path;		/* the database (copied) */
	const char *export_dir;		/* i2pd-layout mirror (copied), or
					 * NULL */
	uint8_t netid;			/* only rows of this network load */
	/* The heap the loaded RouterInfos (router_info_heap_bytes()) and
	 * LeaseSets (leaseset_heap_bytes()) may take: past it, good rows
	 * stay in the database unloaded (n_full).  0: no limit. */
	size_t max_ri_bytes, max_ls_bytes;
};

/*
 * A writer for cfg's database, mirroring RouterInfos into its export_dir,
 * which it opens and loads on wp at once; loaded(ctx, l) runs on the loop
 * thread with the result (takes l), before any queued change is written.
 * Never returns NULL.  Loop thread.
 */
struct netdb_writer *netdb_writer_new(struct evloop *el, struct worker_pool *wp,
				      const struct netdb_writer_cfg *cfg,
				      void (*loaded)(void *ctx,
						     struct netdb_loaded *l),
				      void *ctx);
/* Queue a change (data copied). */
void netdb_writer_put(struct netdb_writer *w, unsigned kind,
		      const uint8_t key[32], const uint8_t *data, size_t len,
		      uint64_t stamp_ms);
void netdb_writer_del(struct netdb_writer *w, unsigned kind,
		      const uint8_t key[32]);
void netdb_writer_stats(const struct netdb_writer *w,
			struct netdb_writer_stats *out);
/*
 * Stop: whatever is queued is written, synchronously on the calling
 * thread once no job runs (shutdown only), and the database is closed.
 * A job still running finishes first; its done callback completes the
 * shutdown and frees w (worker_pool_free() guarantees it runs).  The
 * loaded callback is never called after this.  Accepts NULL.
 */
void netdb_writer_free(struct netdb_writer *w);

#endif /* NETDB_PERSIST_H */
