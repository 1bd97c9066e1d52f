/*
 * The blob store (apps/content/store.h, docs/content-format.md §7): content
 * directories on disk, a SQLite index, a budget with LRU eviction of
 * unpinned content, crash-safe writes and checked reads.
 */
#include "config.h"
#include "apps/content/store.h"
#include "apps/content/cdir.h"
#include "apps/content/fsio.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_SCHEMA_VERSION 1
#define STORE_BUSY_MS 5000

/* Contents kept open for their chunks, and index rows kept, the least
 * recently used replaced: a seeder serving several contents at once
 * (each viewer's requests interleaved with the others') reopened a
 * content and re-read its row and tree for nearly every chunk once
 * they outnumbered the four (dirs) or one (rows) kept before. */
#define STORE_DIRS_OPEN 8
#define STORE_ROWS_KEPT 8

struct content_store {
	char *root;		/* datadir/content */
	char *objects;		/* root/objects: one directory per content */
	char *tmp;		/* root/tmp: work in progress */
	int lock_fd;
	sqlite3 *db;
	uint64_t budget;	/* 0: unlimited */
	struct store_pending *pending;	/* written, not flushed */
	unsigned npending;		/* chunks in all of them */
	struct content_store_batch *batches;	/* being synced */
	size_t hold_max;		/* content_store_set_hold */
	size_t held;			/* bytes held in pending and batches */
	/* Kept so that reading or writing a chunk calls neither SQLite nor
	 * open(2) (two per chunk in a download, on the loop): the rows
	 * last read (all dropped by any statement but a SELECT), and the
	 * contents last opened for their chunks (dropped with their
	 * content); the least recently used of each goes first. */
	struct {
		struct content_store_info info;
		uint8_t *have;
	} rows[STORE_ROWS_KEPT];
	struct {
		uint8_t hash[32];
		struct content_dir *d;
	} dirs[STORE_DIRS_OPEN];
	/* st->tick at each slot's last use; 0: the slot is free */
	uint64_t row_used[STORE_ROWS_KEPT], dir_used[STORE_DIRS_OPEN];
	uint64_t tick;
	struct content_store_counts counts;
	bool read_try;			/* content_store_set_read_try */
};

/* A pending chunk kept in memory until the flush writes it. */
struct held_chunk {
	uint64_t off;		/* its slot in the data file */
	uint32_t idx, len;
	uint8_t *data;
};

/* The chunks of one content written by content_store_chunk_write since the
 * last flush, and its data file (open for writing while any are).  Those
 * in held are not in the file yet; the others are. */
struct store_pending {
	struct store_pending *next;
	uint8_t hash[32];
	uint32_t chunk_count;
	uint8_t *bits;
	int data_fd;
	struct held_chunk *held;
	unsigned nheld, held_cap;
	bool synced;		/* in a batch: written and fdatasynced */
	bool dropped;		/* in a batch: the content was removed */
};

/* Pending chunks taken off for a sync away from the loop: still served
 * and counted until content_store_flush_end. */
struct content_store_batch {
	struct content_store_batch *next;	/* in st->batches */
	struct content_store *st;	/* NULL once the store is freed */
	struct store_pending *pending;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS content("
	" hash BLOB PRIMARY KEY CHECK(length(hash) = 32),"
	" size INTEGER NOT NULL,"
	" chunk_count INTEGER NOT NULL,"
	" stored_bytes INTEGER NOT NULL,"
	" have BLOB NOT NULL,"		/* bit i: chunk i is stored */
	" have_count INTEGER NOT NULL,"
	" pinned INTEGER NOT NULL DEFAULT 0,"
	" last_access INTEGER NOT NULL,"	/* ms since the epoch */
	" added INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS content_lru"
	" ON content(pinned, last_access, added);";

static size_t have_bytes(uint32_t count)
{
	return ((size_t)count + 7) / 8;
}

static bool bit_get(const uint8_t *bits, uint32_t i)
{
	return bits[i / 8] >> (i % 8) & 1;
}

static struct store_pending *pending_find(const struct content_store *st,
					  const uint8_t hash[32])
{
	for (struct store_pending *p = st->pending; p; p = p->next)
		if (memcmp(p->hash, hash, 32) == 0)
			return p;
	return NULL;
}

static bool pending_bit(const struct store_pending *p,
			const uint8_t hash[32], uint32_t idx)
{
	return !p->dropped && memcmp(p->hash, hash, 32) == 0 &&
	       idx < p->chunk_count && bit_get(p->bits, idx);
}

/* idx of hash is written and not in the index yet (pending or in a
 * batch being synced). */
static bool pending_has(const struct content_store *st,
			const uint8_t hash[32], uint32_t idx)
{
	const struct store_pending *p = pending_find(st, hash);

	if (p && pending_bit(p, hash, idx))
		return true;
	for (const struct content_store_batch *b = st->batches; b; b = b->next)
		for (p = b->pending; p; p = p->next)
			if (pending_bit(p, hash, idx))
				return true;
	return false;
}

/* Clear idx of hash wherever it is pending (it went bad). */
static void pending_unmark(struct content_store *st, const uint8_t hash[32],
			   uint32_t idx)
{
	struct store_pending *p = pending_find(st, hash);

	if (p && pending_bit(p, hash, idx)) {
		p->bits[idx / 8] &= (uint8_t)~(1u << (idx % 8));
		st->npending--;
	}
	for (struct content_store_batch *b = st->batches; b; b = b->next)
		for (p = b->pending; p; p = p->next)
			if (pending_bit(p, hash, idx))
				p->bits[idx / 8] &= (uint8_t)~(1u << (idx % 8));
}

/* p's held copy of chunk idx of hash (pending there, not dropped), or
 * NULL. */
static const struct held_chunk *held_in(const struct store_pending *p,
					const uint8_t hash[32], uint32_t idx)
{
	if (!pending_bit(p, hash, idx))
		return NULL;
	for (unsigned i = 0; i < p->nheld; i++)
		if (p->held[i].idx == idx)
			return &p->held[i];
	return NULL;
}

/* The held copy of chunk idx of hash, pending or in a batch being
 * synced, or NULL (not held: in the data file, or not stored). */
static const struct held_chunk *held_find(const struct content_store *st,
					  const uint8_t hash[32], uint32_t idx)
{
	const struct store_pending *p = pending_find(st, hash);
	const struct held_chunk *h;

	if (p && (h = held_in(p, hash, idx)) != NULL)
		return h;
	for (const struct content_store_batch *b = st->batches; b; b = b->next)
		for (p = b->pending; p; p = p->next)
			if ((h = held_in(p, hash, idx)) != NULL)
				return h;
	return NULL;
}

/* Write p's held chunks into their slots (any thread: touches only p).
 * 0 or ERR_IO. */
static int held_write(const struct store_pending *p)
{
	for (unsigned i = 0; i < p->nheld; i++) {
		const struct held_chunk *h = &p->held[i];
		int r = content_fs_pwrite_all(p->data_fd, h->data, h->len,
					      h->off);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Let p's held chunks go (written, or forgotten); st NULL once the store
 * is freed. */
static void held_release(struct content_store *st, struct store_pending *p)
{
	for (unsigned i = 0; i < p->nheld; i++) {
		if (st)
			st->held -= p->held[i].len;
		free(p->held[i].data);
	}
	free(p->held);
	p->held = NULL;
	p->nheld = p->held_cap = 0;
}

/* Write p's held chunks into their slots now and let them go (p not in a
 * batch).  0 or ERR_IO (then still held). */
static int held_put(struct content_store *st, struct store_pending *p)
{
	int r = held_write(p);

	if (r == 0)
		held_release(st, p);
	return r;
}

static void pending_free(struct content_store *st, struct store_pending *p)
{
	held_release(st, p);
	if (p->data_fd >= 0)
		close(p->data_fd);
	free(p->bits);
	free(p);
}

/* Forget the pending chunks of hash (dropped, or their sync failed). */
static void pending_forget(struct content_store *st, const uint8_t hash[32])
{
	for (struct store_pending **pp = &st->pending; *pp; pp = &(*pp)->next) {
		struct store_pending *p = *pp;
		if (memcmp(p->hash, hash, 32) != 0)
			continue;
		for (uint32_t i = 0; i < p->chunk_count; i++)
			st->npending -= bit_get(p->bits, i);
		*pp = p->next;
		pending_free(st, p);
		break;
	}
	for (struct content_store_batch *b = st->batches; b; b = b->next)
		for (struct store_pending *p = b->pending; p; p = p->next)
			if (memcmp(p->hash, hash, 32) == 0)
				p->dropped = true;
}

static void hexname(const uint8_t hash[32], char out[HEX_ENC_LEN(32)])
{
	hex_encode(out, HEX_ENC_LEN(32), hash, 32);
}

static char *obj_dir(const struct content_store *st, const uint8_t hash[32])
{
	char hex[HEX_ENC_LEN(32)];

	hexname(hash, hex);
	return fsutil_path_join(st->objects, hex);
}

static int db_err(struct content_store *st, const char *what)
{
	log_warn(LD_APP, "content store index: %s: %s", what,
		 sqlite3_errmsg(st->db));
	return ERR_IO;
}

/* Close the directory kept open for hash (NULL: all of them). */
static void dirs_forget(struct content_store *st, const uint8_t *hash)
{
	for (unsigned i = 0; i < STORE_DIRS_OPEN; i++)
		if (st->dirs[i].d &&
		    (!hash || memcmp(st->dirs[i].hash, hash, 32) == 0)) {
			FREE_AND_NULL(content_dir_free, st->dirs[i].d);
			st->dir_used[i] = 0;
		}
}

static void row_cache_drop(struct content_store *st)
{
	for (unsigned i = 0; i < STORE_ROWS_KEPT; i++) {
		st->row_used[i] = 0;
		FREE_AND_NULL(free, st->rows[i].have);
	}
}

static sqlite3_stmt *prep(struct content_store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (strncmp(sql, "SELECT ", 7) != 0)
		row_cache_drop(st);	/* it may change a row */

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_err(st, "prepare");
		return NULL;
	}
	return s;
}

/* Run a statement with the hash bound to ?1 that returns no rows. */
static int exec_hash(struct content_store *st, const char *sql,
		     const uint8_t hash[32])
{
	sqlite3_stmt *s = prep(st, sql);
	int r = 0;

	if (!s)
		return ERR_IO;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = db_err(st, "update");
	sqlite3_finalize(s);
	return r;
}

/* Of n kept slots (their last uses), the one to fill: a free one, else
 * the least recently used. */
static unsigned lru_slot(const uint64_t *used, unsigned n)
{
	unsigned k = 0;

	for (unsigned j = 0; j < n; j++) {
		if (!used[j])
			return j;
		if (used[j] < used[k])
			k = j;
	}
	return k;
}

/* The kept row of hash (selected if not kept); *have (optional) is its
 * bitmap, borrowed until the next statement that is not a SELECT or the
 * next row fetched. */
static int row_find(struct content_store *st, const uint8_t hash[32],
		    struct content_store_info *info, const uint8_t **have)
{
	sqlite3_stmt *s;
	struct content_store_info i = { 0 };
	unsigned k;
	int r = 0, rc;

	for (k = 0; k < STORE_ROWS_KEPT; k++)
		if (st->row_used[k] &&
		    memcmp(st->rows[k].info.hash, hash, 32) == 0)
			goto kept;
	st->counts.row_selects++;
	s = prep(st, "SELECT size, chunk_count, stored_bytes, have, "
		 "have_count, pinned, last_access, added FROM content "
		 "WHERE hash = ?1");
	if (!s)
		return ERR_IO;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = db_err(st, "select");
		goto out;
	}
	memcpy(i.hash, hash, 32);
	i.size = (uint64_t)sqlite3_column_int64(s, 0);
	i.chunk_count = (uint32_t)sqlite3_column_int64(s, 1);
	i.stored_bytes = (uint64_t)sqlite3_column_int64(s, 2);
	i.have_count = (uint32_t)sqlite3_column_int64(s, 4);
	i.pinned = sqlite3_column_int(s, 5) != 0;
	i.last_access_ms = (uint64_t)sqlite3_column_int64(s, 6);
	i.added_ms = (uint64_t)sqlite3_column_int64(s, 7);
	if (i.chunk_count == 0 || i.chunk_count > CONTENT_MAX_CHUNKS ||
	    (size_t)sqlite3_column_bytes(s, 3) != have_bytes(i.chunk_count)) {
		r = ERR_FORMAT;	/* an index row we did not write */
		goto out;
	}
	k = lru_slot(st->row_used, STORE_ROWS_KEPT);
	free(st->rows[k].have);
	st->rows[k].have = xmemdup(sqlite3_column_blob(s, 3),
				   have_bytes(i.chunk_count));
	st->rows[k].info = i;
out:
	sqlite3_finalize(s);
	if (r != 0)
		return r;
kept:
	st->row_used[k] = ++st->tick;
	if (have)
		*have = st->rows[k].have;
	if (info)
		*info = st->rows[k].info;
	return 0;
}

/* Fetch the row of hash; *have (optional) gets a copy of the bitmap. */
static int row_get(struct content_store *st, const uint8_t hash[32],
		   struct content_store_info *info, uint8_t **have)
{
	struct content_store_info i;
	const uint8_t *h;
	int r = row_find(st, hash, &i, &h);

	if (r != 0)
		return r;
	if (have)
		*have = xmemdup(h, have_bytes(i.chunk_count));
	if (info)
		*info = i;
	return 0;
}

static int row_insert(struct content_store *st, const uint8_t hash[32],
		      const struct content_manifest *m, uint64_t stored,
		      bool complete, bool pinned)
{
	size_t hb = have_bytes(m->chunk_count);
	uint8_t *have = xzalloc(hb);
	uint64_t now = time_now_ms();
	sqlite3_stmt *s;
	int r = 0;

	if (complete)
		for (uint32_t i = 0; i < m->chunk_count; i++)
			have[i / 8] |= (uint8_t)(1u << (i % 8));
	s = prep(st, "INSERT INTO content(hash, size, chunk_count, "
		 "stored_bytes, have, have_count, pinned, last_access, added) "
		 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)");
	if (!s) {
		free(have);
		return ERR_IO;
	}
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)m->size);
	sqlite3_bind_int64(s, 3, m->chunk_count);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)stored);
	sqlite3_bind_blob(s, 5, have, (int)hb, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, complete ? m->chunk_count : 0);
	sqlite3_bind_int(s, 7, pinned);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)now);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = sqlite3_extended_errcode(st->db) ==
		    SQLITE_CONSTRAINT_PRIMARYKEY ? ERR_EXISTS :
		    db_err(st, "insert");
	sqlite3_finalize(s);
	free(have);
	return r;
}

/* Write bitmap and count back; also counts as an access. */
static int row_set_have(struct content_store *st, const uint8_t hash[32],
			const uint8_t *have, uint32_t count)
{
	sqlite3_stmt *s = prep(st, "UPDATE content SET have = ?2, "
			       "have_count = ?3, last_access = ?4 "
			       "WHERE hash = ?1");
	uint32_t n = 0;
	int r = 0;

	if (!s)
		return ERR_IO;
	for (uint32_t i = 0; i < count; i++)
		n += bit_get(have, i);
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, have, (int)have_bytes(count), SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, n);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)time_now_ms());
	if (sqlite3_step(s) != SQLITE_DONE)
		r = db_err(st, "update have");
	sqlite3_finalize(s);
	return r;
}

static void touch(struct content_store *st, const struct content_store_info *i)
{
	uint64_t now = time_now_ms();
	sqlite3_stmt *s;

	if (now >= i->last_access_ms &&
	    now - i->last_access_ms < CONTENT_STORE_TOUCH_MS)
		return;
	if (!(s = prep(st, "UPDATE content SET last_access = ?2 WHERE hash = ?1")))
		return;
	sqlite3_bind_blob(s, 1, i->hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	if (sqlite3_step(s) != SQLITE_DONE)
		db_err(st, "touch");
	sqlite3_finalize(s);
}

uint64_t content_store_used(struct content_store *st)
{
	sqlite3_stmt *s = prep(st, "SELECT COALESCE(SUM(stored_bytes), 0) "
			       "FROM content");
	uint64_t used = 0;

	if (s && sqlite3_step(s) == SQLITE_ROW)
		used = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return used;
}

/* Drop a content: the row first (the commit point), then its files.  A
 * crash in between leaves an orphan directory, removed on the next open. */
static int drop(struct content_store *st, const uint8_t hash[32])
{
	char hex[HEX_ENC_LEN(32)], name[HEX_ENC_LEN(32) + 4];
	char *from = obj_dir(st, hash), *to;
	int r;

	if ((r = exec_hash(st, "DELETE FROM content WHERE hash = ?1", hash))) {
		free(from);
		return r;
	}
	pending_forget(st, hash);
	dirs_forget(st, hash);
	hexname(hash, hex);
	snprintf(name, sizeof(name), "rm-%s", hex);
	to = fsutil_path_join(st->tmp, name);
	if (rename(from, to) == 0) {
		content_fs_fsync_dir(st->objects);
		content_fs_rmtree(to);
	} else {
		content_fs_rmtree(from);
	}
	free(from);
	free(to);
	return 0;
}

/* Bytes a content takes on disk (manifest, tree, data). */
static uint64_t footprint(const struct content_manifest *m, size_t mlen)
{
	return mlen + content_tree_nodes(m->chunk_count) * 32 +
	       content_data_bytes(m);
}

/*
 * Make room for need more bytes: evict unpinned content, least recently
 * used first.  When even all of it would not do, evict nothing (ERR_LIMIT).
 */
static int make_room(struct content_store *st, uint64_t need)
{
	uint64_t used, over, freed = 0;
	uint8_t (*victims)[32] = NULL;
	size_t nv = 0, cap = 0;
	sqlite3_stmt *s;
	int r = 0;

	if (st->budget == 0)
		return 0;
	if (need > st->budget)
		return ERR_LIMIT;
	used = content_store_used(st);
	if (used + need <= st->budget)
		return 0;
	over = used + need - st->budget;
	if (!(s = prep(st, "SELECT hash, stored_bytes FROM content "
		       "WHERE pinned = 0 ORDER BY last_access, added")))
		return ERR_IO;
	while (freed < over && sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != 32)
			continue;
		if (nv == cap) {
			cap = cap ? 2 * cap : 16;
			victims = xrealloc(victims, cap * sizeof(*victims));
		}
		memcpy(victims[nv++], sqlite3_column_blob(s, 0), 32);
		freed += (uint64_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (freed < over)
		r = ERR_LIMIT;
	for (size_t i = 0; i < nv && r == 0; i++) {
		char buf[80];
		log_info(LD_APP, "content store over budget: evicting %s",
			 log_safe_hash(buf, sizeof(buf), victims[i]));
		r = drop(st, victims[i]);
	}
	free(victims);
	return r;
}

static bool parse_hexname(const char *name, uint8_t hash[32])
{
	size_t n;

	return strlen(name) == 64 && strspn(name, "0123456789abcdef") == 64 &&
	       hex_decode(hash, 32, &n, name, 64) == 0 && n == 32;
}

/* Remove what a crash left behind: temporary work, directories the index
 * does not know, rows whose directory is gone. */
static int sweep(struct content_store *st)
{
	sqlite3_stmt *s;
	DIR *d;
	struct dirent *e;
	int r;

	if ((r = content_fs_rmtree(st->tmp)) != 0 ||
	    (r = content_fs_mkdirs(st->tmp, 0700)) != 0)
		return r;
	if (!(d = opendir(st->objects)))
		return ERR_IO;
	while ((e = readdir(d)) != NULL) {
		uint8_t hash[32];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (parse_hexname(e->d_name, hash) &&
		    row_get(st, hash, NULL, NULL) != ERR_NOT_FOUND)
			continue;
		char *p = fsutil_path_join(st->objects, e->d_name);
		log_info(LD_APP, "content store: removing unfinished %s",
			 e->d_name[0] == '.' ? "publish" : "content");
		content_fs_rmtree(p);
		free(p);
	}
	closedir(d);
	if (!(s = prep(st, "SELECT hash FROM content")))
		return ERR_IO;
	while (sqlite3_step(s) == SQLITE_ROW) {
		uint8_t hash[32];
		char *dir, *mf;
		if (sqlite3_column_bytes(s, 0) != 32)
			continue;
		memcpy(hash, sqlite3_column_blob(s, 0), 32);
		dir = obj_dir(st, hash);
		mf = fsutil_path_join(dir, "manifest");
		if (access(mf, F_OK) != 0) {
			log_warn(LD_APP, "content store: a content directory "
				 "vanished; dropping it from the index");
			exec_hash(st, "DELETE FROM content WHERE hash = ?1", hash);
		}
		free(mf);
		free(dir);
	}
	sqlite3_finalize(s);
	return content_fs_fsync_dir(st->objects);
}

static int open_db(struct content_store *st)
{
	char *path = fsutil_path_join(st->root, "index.sqlite");
	sqlite3_stmt *s;
	int v = -1, rc;

	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	free(path);
	if (rc != SQLITE_OK)
		return db_err(st, "open");
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (sqlite3_exec(st->db, "PRAGMA journal_mode = WAL;"
			 "PRAGMA synchronous = FULL;", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(st, "pragma");
	if (!(s = prep(st, "PRAGMA user_version")))
		return ERR_IO;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (v != 0 && v != STORE_SCHEMA_VERSION)
		return ERR_FORMAT;
	if (sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "PRAGMA user_version = 1", NULL, NULL,
			 NULL) != SQLITE_OK)
		return db_err(st, "schema");
	return 0;
}

int content_store_open(const char *datadir, struct content_store **out)
{
	struct content_store *st = xzalloc(sizeof(*st));
	char *lock;
	int r;

	st->lock_fd = -1;
	st->hold_max = CONTENT_STORE_HOLD_BYTES;
	st->read_try = true;
	st->root = fsutil_path_join(datadir, "content");
	st->objects = fsutil_path_join(st->root, "objects");
	st->tmp = fsutil_path_join(st->root, "tmp");
	if ((r = content_fs_mkdirs(st->objects, 0700)) != 0)
		goto fail;
	lock = fsutil_path_join(st->root, "lock");
	st->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lock);
	if (st->lock_fd < 0) {
		r = ERR_IO;
		goto fail;
	}
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		r = errno == EWOULDBLOCK ? ERR_BAD_STATE : ERR_IO;
		goto fail;
	}
	if ((r = open_db(st)) != 0 || (r = sweep(st)) != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	content_store_free(st);
	return r;
}

void content_store_free(struct content_store *st)
{
	if (!st)
		return;
	if (st->db)
		(void)content_store_flush(st);
	while (st->pending) {
		struct store_pending *p = st->pending;
		st->pending = p->next;
		pending_free(st, p);
	}
	/* Batches still being synced: their chunks are lost (fetched
	 * again); content_store_flush_end then only frees them. */
	while (st->batches) {
		struct content_store_batch *b = st->batches;
		st->batches = b->next;
		b->st = NULL;
	}
	dirs_forget(st, NULL);
	row_cache_drop(st);
	if (st->db)
		sqlite3_close(st->db);
	if (st->lock_fd >= 0)
		close(st->lock_fd);	/* releases the flock */
	free(st->root);
	free(st->objects);
	free(st->tmp);
	free(st);
}

void content_store_set_budget(struct content_store *st, uint64_t bytes)
{
	st->budget = bytes;
}

static size_t manifest_len(const struct content_manifest *m)
{
	return CONTENT_MANIFEST_FIXED_BYTES + strlen(m->mime) +
	       (m->timescale ? 16 + 16 * (size_t)m->index_count : 0);
}

int content_store_publish(struct content_store *st, int src_fd,
			  const struct content_publish_opts *o, bool pinned,
			  struct content_published *out)
{
	struct content_manifest est = { 0 };
	struct content_published p = { 0 };
	struct stat sb;
	uint64_t need;
	int r;

	if (fstat(src_fd, &sb) != 0)
		return ERR_IO;
	est.chunk_log2 = (uint8_t)(o->chunk_log2 ? o->chunk_log2 :
				   CONTENT_CHUNK_LOG2_DEFAULT);
	if (est.chunk_log2 > CONTENT_CHUNK_LOG2_MAX || sb.st_size < 0 ||
	    (uint64_t)sb.st_size > CONTENT_MAX_BYTES)
		return ERR_TOO_BIG;
	est.size = (uint64_t)sb.st_size;
	est.chunk_count = content_chunk_count(est.size, est.chunk_log2);
	if (est.chunk_count > CONTENT_MAX_CHUNKS)
		return ERR_TOO_BIG;
	est.timescale = o->timescale;
	est.index_count = o->index_count;
	snprintf(est.mime, sizeof(est.mime), "%s", o->mime ? o->mime : "");
	need = footprint(&est, manifest_len(&est));
	if ((r = make_room(st, need)) != 0)
		return r;
	if ((r = content_publish_fd(src_fd, st->objects, o, &p)) != 0)
		return r;
	need = footprint(&p.manifest, manifest_len(&p.manifest));
	if ((r = row_insert(st, p.content_hash, &p.manifest, need, true,
			    pinned)) != 0) {
		content_fs_rmtree(p.dir);
		content_published_clear(&p);
		return r;
	}
	*out = p;
	return 0;
}

static int copy_file(const char *from_dir, const char *to_dir,
		     const char *name, bool optional)
{
	char *src = fsutil_path_join(from_dir, name);
	char *dst = fsutil_path_join(to_dir, name);
	int in = open(src, O_RDONLY | O_CLOEXEC), outfd = -1, r = 0;
	uint8_t *buf = NULL;
	size_t got;

	if (in < 0) {
		r = errno == ENOENT && optional ? 0 :
		    errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
		goto out;
	}
	outfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (outfd < 0) {
		r = ERR_IO;
		goto out;
	}
	buf = xmalloc(1 << 20);
	do {
		if ((r = content_fs_read_full(in, buf, 1 << 20, &got)) == 0)
			r = fsutil_write_all(outfd, buf, got);
	} while (r == 0 && got == 1 << 20);
	if (r == 0 && fsync(outfd) != 0)
		r = ERR_IO;
out:
	if (in >= 0)
		close(in);
	if (outfd >= 0)
		close(outfd);
	free(buf);
	free(src);
	free(dst);
	return r;
}

/* Move the checked directory tmpd into objects/ and index it. */
static int commit_dir(struct content_store *st, const char *tmpd,
		      const struct content_manifest *m, size_t mlen,
		      const uint8_t hash[32], bool complete, bool pinned)
{
	char *dst = obj_dir(st, hash);
	int r = 0;

	if (rename(tmpd, dst) != 0 || content_fs_fsync_dir(st->objects) != 0)
		r = ERR_IO;
	if (r == 0 && (r = row_insert(st, hash, m, footprint(m, mlen),
				      complete, pinned)) != 0)
		content_fs_rmtree(dst);
	free(dst);
	return r;
}

int content_store_import(struct content_store *st, const char *dir,
			 bool pinned, uint8_t hash[CONTENT_HASH_BYTES])
{
	static const char *const parts[] = { "manifest", "tree", "data" };
	struct content_dir *src = NULL, *cp = NULL;
	struct content_fault f;
	char *tmpd = NULL;
	size_t mlen;
	int r;

	if ((r = content_dir_open(dir, &src, &f)) != 0)
		return r;
	(void)content_dir_manifest_bytes(src, &mlen);
	if (row_get(st, content_dir_hash(src), NULL, NULL) == 0) {
		r = ERR_EXISTS;
		goto out;
	}
	if ((r = make_room(st, footprint(content_dir_manifest(src), mlen))))
		goto out;
	tmpd = fsutil_path_join(st->tmp, "imp-XXXXXX");
	if (!mkdtemp(tmpd)) {
		r = ERR_IO;
		goto out;
	}
	for (size_t i = 0; i < ARRAY_LEN(parts) && r == 0; i++)
		r = copy_file(dir, tmpd, parts[i], false);
	if (r == 0)
		r = copy_file(dir, tmpd, "card", true);
	/* Check the copy, not the source: that is what we will serve. */
	if (r == 0 && (r = content_dir_open(tmpd, &cp, &f)) == 0 &&
	    (r = content_dir_verify(cp, 1, NULL, &f)) == 0 &&
	    memcmp(content_dir_hash(cp), content_dir_hash(src), 32) != 0)
		r = ERR_BAD_STATE;	/* the source changed while we copied */
	if (r == 0)
		r = commit_dir(st, tmpd, content_dir_manifest(cp), mlen,
			       content_dir_hash(cp), true, pinned);
	if (r == 0)
		memcpy(hash, content_dir_hash(cp), 32);
out:
	if (tmpd && r != 0)
		content_fs_rmtree(tmpd);
	free(tmpd);
	content_dir_free(cp);
	content_dir_free(src);
	return r;
}

/* Write the parts of a content we will download into tmpd. */
static int stage_partial(const char *tmpd, const struct content_manifest *m,
			 const uint8_t *manifest, size_t mlen,
			 const uint8_t *tree, size_t tlen)
{
	char *tp = fsutil_path_join(tmpd, "tree"), *dp = fsutil_path_join(tmpd, "data");
	int tfd = -1, dfd = -1, r;

	if ((r = content_fs_write_atomic(tmpd, "manifest", manifest, mlen,
					 0644)) != 0)
		goto out;
	tfd = open(tp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	dfd = open(dp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (tfd < 0 || dfd < 0) {
		r = ERR_IO;
		goto out;
	}
	if ((r = fsutil_write_all(tfd, tree, tlen)) != 0 ||
	    (r = content_tree_check_fd(tfd, m->chunk_count, m->root)) != 0)
		goto out;
	/* A sparse data file of full size: chunks land in their slots. */
	if (ftruncate(dfd, (off_t)content_data_bytes(m)) != 0 ||
	    fsync(tfd) != 0 || fsync(dfd) != 0)
		r = ERR_IO;
out:
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	free(tp);
	free(dp);
	return r;
}

int content_store_add(struct content_store *st, const uint8_t *manifest,
		      size_t mlen, const uint8_t *tree, size_t tlen,
		      bool pinned, uint8_t hash[CONTENT_HASH_BYTES])
{
	struct content_manifest m;
	uint8_t h[32];
	char *tmpd = NULL;
	int r;

	if (mlen > CONTENT_MANIFEST_MAX_BYTES)
		return ERR_TOO_BIG;
	if ((r = content_manifest_decode(manifest, mlen, &m)) != 0)
		return r;
	content_hash_of(h, manifest, mlen);
	if (tlen != content_tree_nodes(m.chunk_count) * 32) {
		r = ERR_FORMAT;
		goto out;
	}
	if (row_get(st, h, NULL, NULL) == 0) {
		r = ERR_EXISTS;
		goto out;
	}
	if ((r = make_room(st, footprint(&m, mlen))) != 0)
		goto out;
	tmpd = fsutil_path_join(st->tmp, "add-XXXXXX");
	if (!mkdtemp(tmpd)) {
		r = ERR_IO;
		goto out;
	}
	if ((r = stage_partial(tmpd, &m, manifest, mlen, tree, tlen)) == 0 &&
	    (r = commit_dir(st, tmpd, &m, mlen, h, false, pinned)) == 0)
		memcpy(hash, h, 32);
out:
	if (tmpd && r != 0)
		content_fs_rmtree(tmpd);
	free(tmpd);
	content_manifest_clear(&m);
	return r;
}

static int open_stored(struct content_store *st, const uint8_t hash[32],
		       struct content_dir **d)
{
	char *dir = obj_dir(st, hash);
	struct content_fault f;
	int r = content_dir_open(dir, d, &f);

	free(dir);
	if (r != 0)
		log_warn(LD_APP, "content store: a stored content is damaged "
			 "(%s); run a store check", err_str(r));
	return r;
}

/* The content's directory opened for its chunks (borrowed: kept open
 * in st->dirs until its content is dropped, or another is opened while
 * it is the least recently used of STORE_DIRS_OPEN). */
static int open_chunks(struct content_store *st, const uint8_t hash[32],
		       struct content_dir **d)
{
	unsigned k;
	int r;

	for (unsigned i = 0; i < STORE_DIRS_OPEN; i++) {
		if (st->dirs[i].d && memcmp(st->dirs[i].hash, hash, 32) == 0) {
			st->dir_used[i] = ++st->tick;
			*d = st->dirs[i].d;
			return 0;
		}
	}
	st->counts.dir_opens++;
	k = lru_slot(st->dir_used, STORE_DIRS_OPEN);
	FREE_AND_NULL(content_dir_free, st->dirs[k].d);
	st->dir_used[k] = 0;
	if ((r = open_stored(st, hash, d)) != 0)
		return r;
	memcpy(st->dirs[k].hash, hash, 32);
	st->dirs[k].d = *d;
	st->dir_used[k] = ++st->tick;
	return 0;
}

int content_store_manifest(struct content_store *st, const uint8_t hash[32],
			   struct content_manifest *out)
{
	struct content_dir *d;
	int r;

	if ((r = row_find(st, hash, NULL, NULL)) != 0 ||
	    (r = open_chunks(st, hash, &d)) != 0)
		return r;
	content_manifest_copy(out, content_dir_manifest(d));
	return 0;
}

static int data_open(struct content_store *st, const uint8_t hash[32])
{
	char *dir = obj_dir(st, hash), *dp = fsutil_path_join(dir, "data");
	int fd = open(dp, O_WRONLY | O_CLOEXEC);

	free(dir);
	free(dp);
	return fd;
}

/* Write ct into its slot and make it durable (with every pending write to
 * the same file before it). */
static int write_slot(struct content_store *st, const uint8_t hash[32],
		      uint64_t off, const uint8_t *ct, size_t len)
{
	int fd = data_open(st, hash), r;

	if (fd < 0)
		return ERR_IO;
	r = content_fs_pwrite_all(fd, ct, len, off);
	if (r == 0 && fdatasync(fd) != 0)
		r = ERR_IO;
	close(fd);
	return r;
}

/* Keep ct for the flush to write (within the hold bytes), or write it
 * into its slot now, without a sync; idx becomes pending. */
static int write_pending(struct content_store *st, const uint8_t hash[32],
			 uint32_t count, uint32_t idx, uint64_t off,
			 const uint8_t *ct, size_t len)
{
	struct store_pending *p = pending_find(st, hash);
	int r;

	if (!p) {
		int fd = data_open(st, hash);
		if (fd < 0)
			return ERR_IO;
		p = xzalloc(sizeof(*p));
		memcpy(p->hash, hash, 32);
		p->chunk_count = count;
		p->bits = xzalloc(have_bytes(count));
		p->data_fd = fd;
		p->next = st->pending;
		st->pending = p;
	}
	if (len <= st->hold_max && st->held <= st->hold_max - len) {
		struct held_chunk *h;

		if (p->nheld == p->held_cap) {
			p->held_cap = p->held_cap ? 2 * p->held_cap : 16;
			p->held = xrealloc(p->held,
					   p->held_cap * sizeof(*p->held));
		}
		h = &p->held[p->nheld++];
		h->off = off;
		h->idx = idx;
		h->len = (uint32_t)len;
		h->data = xmemdup(ct, len);
		st->held += len;
	} else if ((r = content_fs_pwrite_all(p->data_fd, ct, len, off)) != 0) {
		return r;
	}
	p->bits[idx / 8] |= (uint8_t)(1u << (idx % 8));
	st->npending++;
	return 0;
}

static int chunk_store(struct content_store *st, const uint8_t hash[32],
		       uint32_t idx, const uint8_t *ct, size_t len, bool sync,
		       const uint8_t *known_leaf)
{
	struct content_store_info info;
	struct content_dir *d = NULL;
	const struct content_manifest *m;
	struct content_proof p;
	struct store_pending *pend;
	const uint8_t *kept;
	uint8_t *have = NULL, leaf[32];
	int r;

	if ((r = row_find(st, hash, &info, &kept)) != 0)
		return r;
	if (idx >= info.chunk_count)
		return ERR_RANGE;
	if (bit_get(kept, idx) || pending_has(st, hash, idx))
		return 0;	/* never overwrite a stored chunk */
	if ((r = open_chunks(st, hash, &d)) != 0)
		goto out;
	m = content_dir_manifest(d);
	if (len != content_chunk_plain_len(m, idx) + CONTENT_TAG_BYTES) {
		r = ERR_FORMAT;
		goto out;
	}
	if (known_leaf)
		memcpy(leaf, known_leaf, 32);
	else
		content_leaf_hash(leaf, ct, len);
	if ((r = content_dir_proof(d, idx, &p)) != 0 ||
	    (r = content_proof_verify(&p, leaf, m->root)) != 0)
		goto out;
	if (!sync) {
		r = write_pending(st, hash, info.chunk_count, idx,
				  content_chunk_data_offset(m, idx), ct, len);
		if (r == 0 && st->npending >= CONTENT_STORE_PENDING_MAX)
			r = content_store_flush(st);
		goto out;
	}
	/* kept is the row cache's (no statement has run since): a copy to
	 * set bits in */
	have = xmemdup(kept, have_bytes(info.chunk_count));
	/* The held chunks of the same content go into the file first, so
	 * that the sync covers them with the rest of its pending writes. */
	if ((pend = pending_find(st, hash)) != NULL &&
	    (r = held_put(st, pend)) != 0)
		goto out;
	if ((r = write_slot(st, hash, content_chunk_data_offset(m, idx), ct,
			    len)) != 0)
		goto out;
	/* The sync covered the pending writes to the same file too. */
	if ((pend = pending_find(st, hash)) != NULL)
		for (size_t i = 0; i < have_bytes(info.chunk_count); i++)
			have[i] |= pend->bits[i];
	have[idx / 8] |= (uint8_t)(1u << (idx % 8));
	if ((r = row_set_have(st, hash, have, info.chunk_count)) == 0)
		pending_forget(st, hash);
out:
	free(have);
	return r;
}

int content_store_chunk_put(struct content_store *st, const uint8_t hash[32],
			    uint32_t idx, const uint8_t *ct, size_t len)
{
	return chunk_store(st, hash, idx, ct, len, true, NULL);
}

int content_store_chunk_write(struct content_store *st,
			      const uint8_t hash[32], uint32_t idx,
			      const uint8_t *ct, size_t len,
			      const uint8_t leaf[32])
{
	return chunk_store(st, hash, idx, ct, len, false, leaf);
}

void content_store_counts(const struct content_store *st,
			  struct content_store_counts *out)
{
	*out = st->counts;
}

unsigned content_store_pending(const struct content_store *st)
{
	return st->npending;
}

int content_store_write_out(struct content_store *st, const uint8_t hash[32])
{
	struct store_pending *p = pending_find(st, hash);
	int r;

	if (p && (r = held_put(st, p)) != 0)
		return r;
	for (struct content_store_batch *b = st->batches; b; b = b->next)
		for (p = b->pending; p; p = p->next)
			if (!p->dropped && memcmp(p->hash, hash, 32) == 0 &&
			    (r = held_write(p)) != 0)
				return r;
	return 0;
}

void content_store_set_hold(struct content_store *st, size_t bytes)
{
	st->hold_max = bytes;
}

size_t content_store_held(const struct content_store *st)
{
	return st->held;
}

struct content_store_batch *content_store_flush_begin(
	struct content_store *st)
{
	struct content_store_batch *b;

	if (!st->pending)
		return NULL;
	b = xzalloc(sizeof(*b));
	b->st = st;
	b->pending = st->pending;
	b->next = st->batches;
	st->batches = b;
	st->pending = NULL;
	st->npending = 0;
	return b;
}

void content_store_flush_sync(struct content_store_batch *b)
{
	for (struct store_pending *p = b->pending; p; p = p->next)
		p->synced = held_write(p) == 0 && fdatasync(p->data_fd) == 0;
}

static void batch_free(struct content_store_batch *b)
{
	struct store_pending *p, *next;

	if (b->st) {
		struct content_store_batch **bp = &b->st->batches;
		while (*bp && *bp != b)
			bp = &(*bp)->next;
		if (*bp)
			*bp = b->next;
	}
	for (p = b->pending; p; p = next) {
		next = p->next;
		pending_free(b->st, p);
	}
	free(b);
}

int content_store_flush_end(struct content_store_batch *b)
{
	struct content_store *st = b->st;
	struct store_pending *p;
	bool db_ok = true;
	int r = 0;

	if (!st) {
		batch_free(b);
		return ERR_BAD_STATE;
	}
	/* Data first: a content whose sync failed loses its pending chunks. */
	for (p = b->pending; p; p = p->next) {
		if (p->synced || p->dropped)
			continue;
		log_warn(LD_APP, "content store: syncing chunks failed");
		r = ERR_IO;
		p->dropped = true;
	}
	/* No sync of the index here (WAL, synchronous = NORMAL for this
	 * transaction: durable at the next checkpoint or FULL commit): the
	 * data is synced already, and a mark a power loss takes back only
	 * has its chunk fetched again, as a crash before the flush does.
	 * The WAL's fsync at COMMIT held the loop 20 to 80 ms a second
	 * while a download ran. */
	(void)sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL", NULL, NULL,
			   NULL);
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		db_ok = false, r = db_err(st, "begin");
	for (p = b->pending; p && db_ok; p = p->next) {
		struct content_store_info info;
		uint8_t *have = NULL;
		int e;

		if (p->dropped)
			continue;
		e = row_get(st, p->hash, &info, &have);
		if (e == 0 && info.chunk_count == p->chunk_count) {
			for (size_t i = 0; i < have_bytes(p->chunk_count); i++)
				have[i] |= p->bits[i];
			e = row_set_have(st, p->hash, have, p->chunk_count);
		}
		free(have);
		if (e != 0 && e != ERR_NOT_FOUND)
			db_ok = false, r = e;
	}
	if (db_ok && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) !=
	    SQLITE_OK)
		db_ok = false, r = db_err(st, "commit");
	if (!db_ok)
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	row_cache_drop(st);
	(void)sqlite3_exec(st->db, "PRAGMA synchronous = FULL", NULL, NULL,
			   NULL);
	batch_free(b);
	return r;
}

int content_store_flush(struct content_store *st)
{
	struct content_store_batch *b = content_store_flush_begin(st);

	if (!b)
		return 0;
	content_store_flush_sync(b);
	return content_store_flush_end(b);
}

/* A chunk read whose pread and check run away from the loop. */
struct content_store_read {
	uint8_t hash[32];
	uint32_t idx;
	struct content_chunk_read cr;
	bool ready;		/* copied from memory at begin: nothing to run */
	int r;			/* the run's result */
	size_t len;
	uint8_t *buf;		/* cr.len bytes */
};

int content_store_read_begin(struct content_store *st, const uint8_t hash[32],
			     uint32_t idx, struct content_store_read **out)
{
	struct content_store_info info;
	struct content_store_read *rd;
	struct content_dir *d = NULL;
	const struct held_chunk *h;
	const uint8_t *have;
	int r;

	*out = NULL;
	if ((r = row_find(st, hash, &info, &have)) != 0)
		return r;
	if (idx >= info.chunk_count ||
	    (!bit_get(have, idx) && !pending_has(st, hash, idx)))
		return ERR_NOT_FOUND;
	h = bit_get(have, idx) ? NULL : held_find(st, hash, idx);
	if ((r = open_chunks(st, hash, &d)) != 0)
		return r;
	rd = xzalloc(sizeof(*rd));
	memcpy(rd->hash, hash, 32);
	rd->idx = idx;
	rd->cr.data_fd = rd->cr.tree_fd = -1;
	if (h) {
		/* checked when it was written; not in the file yet */
		rd->ready = true;
		rd->len = h->len;
		rd->buf = xmemdup(h->data, h->len);
		rd->r = content_dir_proof(d, idx, &rd->cr.proof);
	} else if ((rd->r = content_dir_read_prepare(d, idx, &rd->cr)) != 0) {
		rd->ready = true;	/* the tree went bad, or no fd */
	} else {
		rd->len = rd->cr.len;
		rd->buf = xmalloc(rd->len);
	}
	*out = rd;
	return 0;
}

size_t content_store_read_len(const struct content_store_read *rd)
{
	return rd->len;
}

bool content_store_read_try(struct content_store *st,
			    struct content_store_read *rd)
{
	if (rd->ready)
		return true;
	if (!st->read_try ||
	    !content_chunk_read_try(&rd->cr, rd->buf, rd->len, &rd->r))
		return false;
	content_chunk_read_clear(&rd->cr);
	rd->ready = true;
	return true;
}

void content_store_set_read_try(struct content_store *st, bool on)
{
	st->read_try = on;
}

void content_store_read_run(struct content_store_read *rd)
{
	if (rd->ready)
		return;
	rd->r = content_chunk_read_run(&rd->cr, rd->buf, rd->len);
	content_chunk_read_clear(&rd->cr);
	rd->ready = true;
}

int content_store_read_end(struct content_store *st,
			   struct content_store_read *rd, const uint8_t **ct,
			   size_t *len, const struct content_proof **proof)
{
	struct content_store_info info;
	uint8_t *have = NULL;
	int r = rd->r;

	if (BUG(!rd->ready))
		return ERR_BAD_STATE;
	if (r == ERR_AUTH || r == ERR_FORMAT) {
		char hb[80];
		log_info(LD_APP, "content store: chunk %u of %s failed its "
			 "check; it will be fetched again", rd->idx,
			 log_safe_hash(hb, sizeof(hb), rd->hash));
		pending_unmark(st, rd->hash, rd->idx);
		if (row_get(st, rd->hash, &info, &have) == 0 &&
		    rd->idx < info.chunk_count) {
			have[rd->idx / 8] &= (uint8_t)~(1u << (rd->idx % 8));
			row_set_have(st, rd->hash, have, info.chunk_count);
		}
		free(have);
		return ERR_AUTH;
	}
	if (r != 0)
		return r;
	/* removed meanwhile: not served */
	if ((r = row_get(st, rd->hash, &info, NULL)) != 0)
		return r;
	touch(st, &info);
	*ct = rd->buf;
	*len = rd->len;
	if (proof)
		*proof = &rd->cr.proof;
	return 0;
}

void content_store_read_free(struct content_store_read *rd)
{
	if (!rd)
		return;
	content_chunk_read_clear(&rd->cr);
	free(rd->buf);
	free(rd);
}

int content_store_chunk_get(struct content_store *st, const uint8_t hash[32],
			    uint32_t idx, uint8_t *buf, size_t cap, size_t *len,
			    struct content_proof *proof)
{
	struct content_store_read *rd;
	const struct content_proof *p;
	const uint8_t *ct;
	int r;

	if ((r = content_store_read_begin(st, hash, idx, &rd)) != 0)
		return r;
	if (rd->len > cap) {
		content_store_read_free(rd);
		return ERR_ARG;
	}
	content_store_read_run(rd);
	if ((r = content_store_read_end(st, rd, &ct, len, &p)) == 0) {
		memcpy(buf, ct, *len);
		if (proof)
			*proof = *p;
	}
	content_store_read_free(rd);
	return r;
}

int content_store_card_put(struct content_store *st, const uint8_t hash[32],
			   const struct content_card *card)
{
	struct content_dir *d = NULL;
	struct bbuf b = BBUF_INIT;
	int r;

	if ((r = row_get(st, hash, NULL, NULL)) != 0)
		return r;
	if ((r = content_card_verify(card)) != 0)
		return r;
	if ((r = open_stored(st, hash, &d)) != 0)
		return r;
	if (!content_card_matches(card, content_dir_manifest(d), hash))
		r = ERR_ARG;
	else if ((r = content_card_encode(card, &b)) == 0)
		r = content_fs_write_atomic(content_dir_path(d), "card", b.data,
					    b.len, 0644);
	bbuf_free(&b);
	content_dir_free(d);
	return r;
}

int content_store_pin(struct content_store *st, const uint8_t hash[32],
		      bool pinned)
{
	int r = row_get(st, hash, NULL, NULL);

	if (r == 0)
		r = exec_hash(st, pinned ? "UPDATE content SET pinned = 1 "
			      "WHERE hash = ?1" : "UPDATE content SET pinned = 0 "
			      "WHERE hash = ?1", hash);
	return r;
}

int content_store_remove(struct content_store *st, const uint8_t hash[32])
{
	int r = row_get(st, hash, NULL, NULL);

	return r == 0 ? drop(st, hash) : r;
}

int content_store_info(struct content_store *st, const uint8_t hash[32],
		       struct content_store_info *out)
{
	return row_get(st, hash, out, NULL);
}

int content_store_have(struct content_store *st, const uint8_t hash[32],
		       uint8_t **bits, size_t *len)
{
	struct content_store_info info;
	const struct store_pending *p = pending_find(st, hash);
	int r = row_get(st, hash, &info, bits);

	if (r != 0)
		return r;
	*len = have_bytes(info.chunk_count);
	if (p && p->chunk_count == info.chunk_count)
		for (size_t i = 0; i < *len; i++)
			(*bits)[i] |= p->bits[i];
	for (const struct content_store_batch *b = st->batches; b; b = b->next)
		for (p = b->pending; p; p = p->next)
			if (!p->dropped && p->chunk_count == info.chunk_count &&
			    memcmp(p->hash, hash, 32) == 0)
				for (size_t i = 0; i < *len; i++)
					(*bits)[i] |= p->bits[i];
	return 0;
}

char *content_store_dir(struct content_store *st, const uint8_t hash[32])
{
	return obj_dir(st, hash);
}

/* Re-check one content's stored chunks; unmark the bad ones. */
static int check_one(struct content_store *st, const uint8_t hash[32],
		     uint64_t *bad)
{
	struct content_store_info info;
	struct content_dir *d = NULL;
	uint8_t *have = NULL, *buf = NULL;
	size_t cap, len;
	uint64_t nbad = 0;
	int r;

	if ((r = row_get(st, hash, &info, &have)) != 0)
		return r;
	if (open_stored(st, hash, &d) != 0) {
		/* Nothing can be checked or served; unmark it all but keep the
		 * files for the operator (and for eviction to account). */
		*bad += info.have_count;
		memset(have, 0, have_bytes(info.chunk_count));
		r = info.have_count ? row_set_have(st, hash, have,
						   info.chunk_count) : 0;
		goto out;
	}
	cap = ((size_t)1 << content_dir_manifest(d)->chunk_log2) +
	      CONTENT_TAG_BYTES;
	buf = xmalloc(cap);
	for (uint32_t i = 0; i < info.chunk_count; i++) {
		if (!bit_get(have, i) ||
		    content_dir_chunk(d, i, buf, cap, &len) == 0)
			continue;
		have[i / 8] &= (uint8_t)~(1u << (i % 8));
		nbad++;
	}
	if (nbad) {
		*bad += nbad;
		r = row_set_have(st, hash, have, info.chunk_count);
	}
out:
	free(buf);
	free(have);
	content_dir_free(d);
	return r;
}

/* The hashes a query returns (column 0), in its order. */
static int collect_hashes(struct content_store *st, const char *sql,
			  uint8_t (**out)[32], size_t *count)
{
	uint8_t (*all)[32] = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s = prep(st, sql);

	if (!s)
		return ERR_IO;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != 32)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			all = xrealloc(all, cap * sizeof(*all));
		}
		memcpy(all[n++], sqlite3_column_blob(s, 0), 32);
	}
	sqlite3_finalize(s);
	*out = all;
	*count = n;
	return 0;
}

int content_store_check(struct content_store *st, uint64_t *bad)
{
	uint8_t (*all)[32];
	size_t n;
	int r;

	*bad = 0;
	if ((r = collect_hashes(st, "SELECT hash FROM content", &all, &n)))
		return r;
	for (size_t i = 0; i < n && r == 0; i++)
		r = check_one(st, all[i], bad);
	free(all);
	return r;
}

int content_store_list(struct content_store *st,
		       void (*fn)(void *ctx, const struct content_store_info *i),
		       void *ctx)
{
	uint8_t (*all)[32];
	size_t n;
	int r;

	if ((r = collect_hashes(st, "SELECT hash FROM content "
				"ORDER BY last_access, added", &all, &n)))
		return r;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct content_store_info info;
		if ((r = row_get(st, all[i], &info, NULL)) == 0)
			fn(ctx, &info);
	}
	free(all);
	return r;
}
