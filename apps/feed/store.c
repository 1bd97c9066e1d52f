/* The local feed store in SQLite (docs/feed.md §4). */
#include "config.h"
#include "apps/feed/store.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/hash.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prepared statements of fixed SQL, kept for the store's life (keyed by
 * the SQL text's address: every caller passes a string constant). */
#define FEED_STMT_CACHE 32

struct feed_store {
	sqlite3 *db;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[FEED_STMT_CACHE];
	unsigned ncache;
	unsigned batch;		/* feed_store_begin depth */
	unsigned pending;	/* cards put since their text was indexed */
	feed_owned_fn owned;	/* feed_store_set_owned */
	void *owned_ctx;
};

static const char FEED_SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS feed_meta(k TEXT PRIMARY KEY, v);"
	"CREATE TABLE IF NOT EXISTS cards(id BLOB PRIMARY KEY, "
	" creator BLOB NOT NULL, created INTEGER NOT NULL, "
	" bucket INTEGER NOT NULL, title TEXT NOT NULL, "
	" description TEXT NOT NULL, tags TEXT NOT NULL, "
	" price BLOB NOT NULL, currency TEXT NOT NULL, mime TEXT NOT NULL, "
	" enc BLOB NOT NULL, score INTEGER NOT NULL DEFAULT 0, "
	" pow INTEGER NOT NULL DEFAULT 0, chash BLOB, "
	" version INTEGER NOT NULL DEFAULT 1, live INTEGER NOT NULL DEFAULT 1, "
	" trend REAL NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS cards_bucket ON cards(bucket, id);"
	"CREATE INDEX IF NOT EXISTS cards_score2 ON cards(score, created);"
	"CREATE INDEX IF NOT EXISTS cards_trend ON cards(trend);"
	"CREATE INDEX IF NOT EXISTS cards_creator2 ON cards(creator, chash);"
	"CREATE VIRTUAL TABLE IF NOT EXISTS cards_fts USING "
	" fts5(title, description, tags, content='cards', "
	" content_rowid='rowid');"
	"CREATE TABLE IF NOT EXISTS records(id BLOB PRIMARY KEY, "
	" kind INTEGER NOT NULL, card_id BLOB NOT NULL, author BLOB NOT NULL, "
	" created INTEGER NOT NULL, bucket INTEGER NOT NULL, "
	" reaction INTEGER NOT NULL, follow INTEGER NOT NULL, "
	" enc BLOB NOT NULL, pow INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS records_bucket ON records(bucket, id);"
	"CREATE INDEX IF NOT EXISTS records_target ON "
	" records(card_id, kind, author, reaction);"
	"CREATE TABLE IF NOT EXISTS stats(card_id BLOB PRIMARY KEY, "
	" likes INTEGER NOT NULL DEFAULT 0, dislikes INTEGER NOT NULL DEFAULT 0, "
	" flags INTEGER NOT NULL DEFAULT 0, emojis INTEGER NOT NULL DEFAULT 0, "
	" views INTEGER NOT NULL DEFAULT 0, trend REAL);"
	"CREATE TABLE IF NOT EXISTS following(creator BLOB PRIMARY KEY);"
	"CREATE TABLE IF NOT EXISTS blocked(creator BLOB PRIMARY KEY);"
	"INSERT OR IGNORE INTO feed_meta VALUES('schema', 5);";

/* Schema 1 → 2: no price index (price filters are tested while walking
 * the sort order), an ascending score index, and the text index reading
 * its text from cards (external content) instead of keeping a copy. */
static const char FEED_SCHEMA_1_TO_2[] =
	"DROP INDEX IF EXISTS cards_price;"
	"DROP INDEX IF EXISTS cards_score;"
	"DROP TABLE IF EXISTS cards_fts;"
	"CREATE VIRTUAL TABLE cards_fts USING "
	" fts5(title, description, tags, content='cards', "
	" content_rowid='rowid');"
	"INSERT INTO cards_fts(cards_fts) VALUES('rebuild');"
	"UPDATE feed_meta SET v = 2 WHERE k = 'schema';";

/* Schema 2 → 3: proof-of-work nonces kept with the items; cards carry
 * their content hash and version and whether they are shown (live: not
 * superseded by a newer version, deleted by their creator or blocked
 * here); the block list. */
static const char *const FEED_SCHEMA_2_TO_3[][3] = {
	{ "cards", "pow", "INTEGER NOT NULL DEFAULT 0" },
	{ "cards", "chash", "BLOB" },
	{ "cards", "version", "INTEGER NOT NULL DEFAULT 1" },
	{ "cards", "live", "INTEGER NOT NULL DEFAULT 1" },
	{ "records", "pow", "INTEGER NOT NULL DEFAULT 0" },
};

/* Schema 4 → 5: the trending weight (FEED_TREND_HALF_LIFE_SECS) of cards,
 * and of reactions and views held before their card. */
static const char *const FEED_SCHEMA_4_TO_5[][3] = {
	{ "cards", "trend", "REAL NOT NULL DEFAULT 0" },
	{ "stats", "trend", "REAL" },
};

/* Then the weights from the counts: the times of the reactions and views
 * counted are not kept, so each card's count as if made at its latest
 * record (or, when there is none, the card's creation). */
static const char FEED_SCHEMA_4_TO_5_FILL[] =
	"UPDATE stats SET trend = feed_trend(4 * likes + views + emojis, "
	" coalesce((SELECT max(created) FROM records r WHERE r.card_id = "
	" stats.card_id), (SELECT created FROM cards c WHERE c.id = "
	" stats.card_id), 0));"
	"UPDATE cards SET trend = feed_logadd(feed_trend(1, created), "
	" (SELECT trend FROM stats WHERE card_id = cards.id));"
	"UPDATE feed_meta SET v = 5 WHERE k = 'schema';";

/*
 * A card's rowid is its time of creation and a slot: created << 20 plus
 * the first free slot of that second (in arrival order), so the newest
 * cards are the highest rowids.  The newest first is a walk down the
 * table, and the text index (whose rowids are the cards') yields the
 * newest matches of a text first without gathering them all.  A second
 * of more than 2^20 cards takes rowids past the highest.
 */
#define FEED_ROWID_SLOT_BITS 20
#define FEED_ROWID_CREATED_MAX ((UINT64_C(1) << 42) - 1)

/* Schema 3 → 4: the cards renumbered so (FEED_ROWID_SLOT_BITS; slots in
 * id order), the text index rebuilt for the new rowids, no index on
 * created (the rowid is one). */
static const char FEED_SCHEMA_3_TO_4[] =
	"CREATE TEMP TABLE feed_renum(o INTEGER PRIMARY KEY, n INTEGER);"
	"INSERT INTO temp.feed_renum SELECT rowid, (k << 20) + row_number() "
	" OVER (PARTITION BY k ORDER BY id) - 1 FROM (SELECT rowid, id, "
	" max(0, min(CAST(created AS INTEGER), 4398046511103)) AS k "
	" FROM cards);"
	"UPDATE cards SET rowid = -rowid;"
	"UPDATE cards SET rowid = (SELECT n FROM temp.feed_renum "
	" WHERE o = -cards.rowid);"
	"DROP TABLE temp.feed_renum;"
	"DROP INDEX IF EXISTS cards_created;"
	"INSERT INTO cards_fts(cards_fts) VALUES('rebuild');"
	"UPDATE feed_meta SET v = 4 WHERE k = 'schema';";

/* Whether card row c is shown: no newer version of the same content by
 * the same creator, no deletion by its creator, creator not blocked. */
#define FEED_LIVE_EXPR \
	"NOT EXISTS(SELECT 1 FROM cards n WHERE n.creator = c.creator AND " \
	"n.chash = c.chash AND n.version > c.version) AND NOT EXISTS(" \
	"SELECT 1 FROM records d WHERE d.card_id = c.id AND d.kind = 4 AND " \
	"d.author = c.creator) AND NOT EXISTS(SELECT 1 FROM blocked b " \
	"WHERE b.creator = c.creator)"

static int feed_exec(struct feed_store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warn(LD_APP, "feed store: %s", msg ? msg : "?");
		sqlite3_free(msg);
		return ERR_IO;
	}
	return 0;
}

/* A statement for a fixed SQL text (cached), reset when released. */
static sqlite3_stmt *feed_prep(struct feed_store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	unsigned i;

	for (i = 0; i < s->ncache; i++)
		if (s->cache[i].sql == sql)
			return s->cache[i].st;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK) {
		log_warn(LD_APP, "feed store: %s", sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return NULL;
	}
	if (s->ncache < FEED_STMT_CACHE) {
		s->cache[s->ncache].sql = sql;
		s->cache[s->ncache++].st = st;
	}
	return st;
}

static void feed_release(struct feed_store *s, sqlite3_stmt *st)
{
	unsigned i;

	for (i = 0; i < s->ncache; i++)
		if (s->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	sqlite3_finalize(st);
}

/* Add the columns of cols (table, name, type) that the tables lack. */
static int feed_add_columns(struct feed_store *s,
			    const char *const cols[][3], unsigned n)
{
	char sql[256];
	sqlite3_stmt *st;
	unsigned i;
	int r = 0, has;

	for (i = 0; i < n && r == 0; i++) {
		const char *const *c = cols[i];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM "
			 "pragma_table_info('%s') WHERE name = '%s'", c[0], c[1]);
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
			return ERR_IO;
		has = sqlite3_step(st) == SQLITE_ROW &&
		      sqlite3_column_int(st, 0) > 0;
		sqlite3_finalize(st);
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s",
			 c[0], c[1], c[2]);
		if (!has)
			r = feed_exec(s, sql);
	}
	return r;
}

/* Add the columns of schema 3 that the tables lack. */
static int feed_schema_2_to_3(struct feed_store *s)
{
	int r = feed_add_columns(s, FEED_SCHEMA_2_TO_3,
				 ARRAY_LEN(FEED_SCHEMA_2_TO_3));

	if (r == 0)
		r = feed_exec(s, "DROP INDEX IF EXISTS cards_creator;"
			      "UPDATE feed_meta SET v = 3 WHERE k = 'schema';");
	return r;
}

/* Create the tables, or bring an older store to the current schema. */
static int feed_schema(struct feed_store *s)
{
	sqlite3_stmt *st;
	int version = 0, r;

	if (sqlite3_prepare_v2(s->db, "SELECT v FROM feed_meta WHERE "
			       "k = 'schema'", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (version > 5)
		return ERR_FORMAT;
	r = feed_exec(s, "BEGIN IMMEDIATE");
	if (r == 0 && version == 1)
		r = feed_exec(s, FEED_SCHEMA_1_TO_2);
	if (r == 0 && version >= 1 && version <= 2)
		r = feed_schema_2_to_3(s);
	if (r == 0 && version >= 1 && version <= 3)
		r = feed_exec(s, FEED_SCHEMA_3_TO_4);
	if (r == 0 && version >= 1 && version <= 4)
		r = feed_add_columns(s, FEED_SCHEMA_4_TO_5,
				     ARRAY_LEN(FEED_SCHEMA_4_TO_5));
	if (r == 0 && version >= 1 && version <= 4)
		r = feed_exec(s, FEED_SCHEMA_4_TO_5_FILL);
	if (r == 0)
		r = feed_exec(s, FEED_SCHEMA);
	if (r == 0)
		return feed_exec(s, "COMMIT");
	feed_exec(s, "ROLLBACK");
	return r;
}

/* feed_logadd(a, b): log2(2^a + 2^b), either NULL for nothing. */
static void feed_sql_logadd(sqlite3_context *cx, int argc, sqlite3_value **v)
{
	double a, b, hi, lo;

	(void)argc;
	if (sqlite3_value_type(v[0]) == SQLITE_NULL) {
		sqlite3_result_value(cx, v[1]);
		return;
	}
	if (sqlite3_value_type(v[1]) == SQLITE_NULL) {
		sqlite3_result_value(cx, v[0]);
		return;
	}
	a = sqlite3_value_double(v[0]);
	b = sqlite3_value_double(v[1]);
	hi = a > b ? a : b;
	lo = a > b ? b : a;
	sqlite3_result_double(cx, hi + log2(1.0 + exp2(lo - hi)));
}

/* feed_trend(w, t): log2(w × 2^(t / half-life)), NULL when w ≤ 0. */
static void feed_sql_trend(sqlite3_context *cx, int argc, sqlite3_value **v)
{
	sqlite3_int64 w = sqlite3_value_int64(v[0]);
	sqlite3_int64 t = sqlite3_value_int64(v[1]);

	(void)argc;
	if (w <= 0) {
		sqlite3_result_null(cx);
		return;
	}
	sqlite3_result_double(cx, log2((double)w) + (double)(t < 0 ? 0 : t) /
			      FEED_TREND_HALF_LIFE_SECS);
}

/* feed_owned(content hash): 1 when the owned callback says it is held. */
static void feed_sql_owned(sqlite3_context *cx, int argc, sqlite3_value **v)
{
	struct feed_store *s = sqlite3_user_data(cx);
	const void *h = sqlite3_value_blob(v[0]);

	(void)argc;
	sqlite3_result_int(cx, s->owned && h &&
			   sqlite3_value_bytes(v[0]) == 32 &&
			   s->owned(s->owned_ctx, h));
}

void feed_store_set_owned(struct feed_store *s, feed_owned_fn fn, void *ctx)
{
	s->owned = fn;
	s->owned_ctx = ctx;
}

static int feed_functions(struct feed_store *s)
{
	const int det = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	if (sqlite3_create_function(s->db, "feed_logadd", 2, det, NULL,
				    feed_sql_logadd, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "feed_trend", 2, det, NULL,
				    feed_sql_trend, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "feed_owned", 1, SQLITE_UTF8, s,
				    feed_sql_owned, NULL, NULL) != SQLITE_OK)
		return ERR_IO;
	return 0;
}

int feed_store_open(const char *path, struct feed_store **out)
{
	struct feed_store *s = xzalloc(sizeof(*s));
	int r;

	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		feed_store_free(s);
		return ERR_IO;
	}
	sqlite3_busy_timeout(s->db, 2000);
	/* A 16 MiB page cache and a WAL of up to 4,000 pages between
	 * checkpoints (each checkpoint writes and syncs the database):
	 * store CPU per card at 30,000 cards about 140 -> 105 us. */
	r = feed_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		      "PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY;"
		      "PRAGMA wal_autocheckpoint=4000;"
		      "PRAGMA mmap_size=268435456;");
	if (r == 0)
		r = feed_functions(s);
	if (r == 0)
		r = feed_schema(s);
	if (r == 0)	/* this connection's cards awaiting the text index */
		r = feed_exec(s, "CREATE TEMP TABLE feed_fts_pending("
			      "r INTEGER PRIMARY KEY)");
	if (r < 0) {
		feed_store_free(s);
		return ERR_FORMAT;
	}
	*out = s;
	return 0;
}

void feed_store_free(struct feed_store *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	sqlite3_close(s->db);
	free(s);
}

/* 1 when sql with blob ?1 = id yields a row, 0 when not, ERR_IO. */
static int feed_exists(struct feed_store *s, const char *sql,
		       const uint8_t *blob, size_t len)
{
	sqlite3_stmt *st = feed_prep(s, sql);
	int rc;

	if (!st)
		return ERR_IO;
	sqlite3_bind_blob(st, 1, blob, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	feed_release(s, st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : ERR_IO;
}

bool feed_store_has(struct feed_store *s, const uint8_t id[FEED_ID_BYTES])
{
	return feed_exists(s, "SELECT 1 FROM cards WHERE id=?1 UNION ALL "
			   "SELECT 1 FROM records WHERE id=?1", id,
			   FEED_ID_BYTES) == 1;
}

static uint32_t feed_bucket_of(uint64_t created)
{
	uint64_t b = created / FEED_BUCKET_SECS;

	return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

/* Tags as ",a,b," so that one tag matches as ",tag,". */
static void feed_tags_join(const struct content_card *c, char *out,
			   size_t cap)
{
	size_t o = 0, l;
	unsigned i;

	out[o++] = ',';
	for (i = 0; i < c->tag_count; i++) {
		l = strlen(c->tags[i]);
		if (o + l + 2 > cap)
			break;
		memcpy(out + o, c->tags[i], l);
		o += l;
		out[o++] = ',';
	}
	out[o] = '\0';
}

/* One put is a savepoint: its own transaction, or part of a batch. */
static int feed_step_done(struct feed_store *s, sqlite3_stmt *st);

static int feed_txn_begin(struct feed_store *s)
{
	return feed_step_done(s, feed_prep(s, "SAVEPOINT feed_put"));
}

static int feed_txn_end(struct feed_store *s, int r)
{
	if (r < 0) {
		feed_step_done(s, feed_prep(s, "ROLLBACK TO feed_put"));
		feed_step_done(s, feed_prep(s, "RELEASE feed_put"));
		return r;
	}
	return feed_step_done(s, feed_prep(s, "RELEASE feed_put"));
}

/*
 * The text index of the cards put since the last call, in one statement.
 * FTS5 writes what it holds in memory as a new segment of the index at
 * every savepoint and statement journal that follow a write to it, so a
 * card's own index row written in its put cost a segment (and the merges
 * that follow) per card; written here, at the end of a batch, it costs one
 * per batch.
 */
static int feed_fts_flush(struct feed_store *s)
{
	int r;

	if (!s->pending)
		return 0;
	r = feed_step_done(s, feed_prep(s, "INSERT INTO cards_fts(rowid, "
				       "title, description, tags) SELECT "
				       "c.rowid, c.title, c.description, "
				       "c.tags FROM temp.feed_fts_pending p "
				       "JOIN cards c ON c.rowid = p.r"));
	if (r == 0)
		r = feed_step_done(s, feed_prep(s, "DELETE FROM "
					       "temp.feed_fts_pending"));
	if (r == 0)
		s->pending = 0;
	return r;
}

int feed_store_begin(struct feed_store *s)
{
	if (s->batch++)
		return 0;
	if (feed_exec(s, "BEGIN IMMEDIATE") == 0)
		return 0;
	s->batch = 0;
	return ERR_IO;
}

int feed_store_commit(struct feed_store *s)
{
	if (s->batch == 0)
		return ERR_BAD_STATE;
	if (--s->batch)
		return 0;
	if (feed_fts_flush(s) < 0) {	/* the batch is undone */
		feed_exec(s, "ROLLBACK");
		s->pending = 0;
		return ERR_IO;
	}
	return feed_exec(s, "COMMIT");
}

static int feed_step_done(struct feed_store *s, sqlite3_stmt *st)
{
	int rc;

	if (!st)
		return ERR_IO;
	rc = sqlite3_step(st);
	feed_release(s, st);
	if (rc == SQLITE_CONSTRAINT)
		return ERR_DUPLICATE;
	return rc == SQLITE_DONE ? 0 : ERR_IO;
}

/* A card's rows but its text index's (feed_fts_flush). */
static int feed_put_card(struct feed_store *s, const struct content_card *c,
			 const uint8_t *enc, size_t len,
			 const uint8_t id[FEED_ID_BYTES], uint64_t pow)
{
	char tags[CARD_TAGS_MAX * (CARD_TAG_MAX_BYTES + 1) + 2];
	sqlite3_stmt *st;
	int r;

	feed_tags_join(c, tags, sizeof(tags));
	if ((r = feed_txn_begin(s)) < 0)
		return r;
	/* Shown unless a newer version, a deletion by its creator or a
	 * block came first (FEED_LIVE_EXPR for the new row). */
	st = feed_prep(s, "INSERT INTO cards(id, creator, created, bucket, "
		       "title, description, tags, price, currency, mime, enc, "
		       "pow, chash, version, rowid, trend, score, live) VALUES("
		       "?,?,?,?,?,?,?,?,?,?,?,?,?,?, (SELECT CASE WHEN m IS NULL "
		       "THEN ?15 WHEN m < ?15 + 1048575 THEN m + 1 ELSE "
		       "(SELECT max(rowid) + 1 FROM cards) END FROM (SELECT "
		       "max(rowid) AS m FROM cards WHERE rowid BETWEEN ?15 AND "
		       "?15 + 1048575)), feed_logadd(feed_trend(1, ?3), (SELECT "
		       "trend FROM stats WHERE card_id = ?1)), "
		       "coalesce((SELECT 4 * likes + views - "
		       "dislikes FROM stats WHERE card_id = ?1), 0), "
		       "NOT EXISTS(SELECT 1 FROM cards n WHERE n.creator = ?2 "
		       "AND n.chash = ?13 AND n.version > ?14) AND NOT EXISTS("
		       "SELECT 1 FROM records d WHERE d.card_id = ?1 AND "
		       "d.kind = 4 AND d.author = ?2) AND NOT EXISTS(SELECT 1 "
		       "FROM blocked b WHERE b.creator = ?2))");
	if (st) {
		sqlite3_bind_blob(st, 1, id, FEED_ID_BYTES, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, c->creator.b, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)(c->created > INT64_MAX ?
				   INT64_MAX : c->created));
		sqlite3_bind_int64(st, 4, feed_bucket_of(c->created));
		sqlite3_bind_text(st, 5, c->title, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, c->description, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, tags, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 8, c->price, 32, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, c->currency, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 10, c->mime, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 11, enc, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 12, (sqlite3_int64)pow);
		sqlite3_bind_blob(st, 13, c->content_hash, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 14, c->version);
		sqlite3_bind_int64(st, 15, (sqlite3_int64)((c->created >
				   FEED_ROWID_CREATED_MAX ?
				   FEED_ROWID_CREATED_MAX : c->created) <<
				   FEED_ROWID_SLOT_BITS));
	}
	r = feed_step_done(s, st);
	if (r == 0 && c->version > 1) {	/* older versions: hidden */
		st = feed_prep(s, "UPDATE cards SET live = 0 WHERE creator = ? "
			       "AND chash = ? AND version < ?");
		if (st) {
			sqlite3_bind_blob(st, 1, c->creator.b, 32,
					  SQLITE_STATIC);
			sqlite3_bind_blob(st, 2, c->content_hash, 32,
					  SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, c->version);
		}
		r = feed_step_done(s, st);
	}
	if (r == 0) {	/* its text is indexed when the batch ends */
		st = feed_prep(s, "INSERT INTO temp.feed_fts_pending(r) "
			       "VALUES(last_insert_rowid())");
		r = feed_step_done(s, st);
	}
	if (r == 0)
		s->pending++;
	return feed_txn_end(s, r);
}

int feed_store_put_card(struct feed_store *s, const struct content_card *c,
			const uint8_t *enc, size_t len,
			const uint8_t id[FEED_ID_BYTES], uint64_t pow)
{
	int r, rc;

	if ((r = feed_store_begin(s)) < 0)
		return r;
	r = feed_put_card(s, c, enc, len, id, pow);
	rc = feed_store_commit(s);
	return r < 0 ? r : rc;
}

/* The stats update a record makes (NULL: follows count nowhere), and
 * what it adds to the card's popularity score and trending weight. */
static const char *feed_stat_sql(const struct content_record *rec,
				 int *score, int *trend)
{
#define FEED_STAT_SQL(col) "INSERT INTO stats(card_id, " col ") " \
	"VALUES(?, 1) ON CONFLICT(card_id) DO UPDATE SET " col " = " col " + 1"
	static const char likes[] = FEED_STAT_SQL("likes");
	static const char dislikes[] = FEED_STAT_SQL("dislikes");
	static const char flags[] = FEED_STAT_SQL("flags");
	static const char emojis[] = FEED_STAT_SQL("emojis");
	static const char views[] = FEED_STAT_SQL("views");
#undef FEED_STAT_SQL

	*score = *trend = 0;
	switch (rec->kind) {
	case CONTENT_RECORD_VIEW:
		*score = *trend = 1;
		return views;
	case CONTENT_RECORD_FOLLOW:
	case CONTENT_RECORD_DELETE:
		return NULL;
	case CONTENT_RECORD_REACTION:
		switch (rec->reaction) {
		case CONTENT_REACT_LIKE:
			*score = *trend = 4;
			return likes;
		case CONTENT_REACT_DISLIKE:
			*score = -1;
			return dislikes;
		case CONTENT_REACT_FLAG:
			return flags;
		case CONTENT_REACT_EMOJI:
			*trend = 1;
			return emojis;
		}
	}
	return NULL;
}

int feed_store_put_record(struct feed_store *s,
			  const struct content_record *rec,
			  const uint8_t *enc, size_t len,
			  const uint8_t id[FEED_ID_BYTES], uint64_t pow)
{
	int score, trend;
	const char *stat_sql = feed_stat_sql(rec, &score, &trend);
	sqlite3_int64 when = (sqlite3_int64)(rec->created > INT64_MAX ?
					     INT64_MAX : rec->created);
	int reaction = rec->kind == CONTENT_RECORD_REACTION ?
		       (int)rec->reaction : 0;
	sqlite3_stmt *st;
	int r, seen = 0;

	if (feed_store_has(s, id))
		return ERR_DUPLICATE;
	if ((r = feed_txn_begin(s)) < 0)
		return r;
	/* Has this author counted for this card and reaction already? */
	st = feed_prep(s, "SELECT 1 FROM records WHERE card_id=? AND kind=? "
		       "AND author=? AND reaction=?");
	if (!st) {
		r = ERR_IO;
		goto out;
	}
	sqlite3_bind_blob(st, 1, rec->card_id, 32, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)rec->kind);
	sqlite3_bind_blob(st, 3, rec->author.b, 32, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, reaction);
	seen = sqlite3_step(st) == SQLITE_ROW;
	feed_release(s, st);

	st = feed_prep(s, "INSERT INTO records(id, kind, card_id, author, "
		       "created, bucket, reaction, follow, enc, pow) "
		       "VALUES(?,?,?,?,?,?,?,?,?,?)");
	if (st) {
		sqlite3_bind_blob(st, 1, id, FEED_ID_BYTES, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)rec->kind);
		sqlite3_bind_blob(st, 3, rec->card_id, 32, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, rec->author.b, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, when);
		sqlite3_bind_int64(st, 6, feed_bucket_of(rec->created));
		sqlite3_bind_int(st, 7, reaction);
		sqlite3_bind_int(st, 8, rec->follow ? 1 : 0);
		sqlite3_bind_blob(st, 9, enc, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 10, (sqlite3_int64)pow);
	}
	r = feed_step_done(s, st);
	if (r == 0 && rec->kind == CONTENT_RECORD_DELETE) {
		st = feed_prep(s, "UPDATE cards SET live = 0 WHERE id = ? AND "
			       "creator = ?");
		if (st) {
			sqlite3_bind_blob(st, 1, rec->card_id, 32,
					  SQLITE_STATIC);
			sqlite3_bind_blob(st, 2, rec->author.b, 32,
					  SQLITE_STATIC);
		}
		r = feed_step_done(s, st);
	}
	if (r < 0 || seen || !stat_sql)
		goto out;
	st = feed_prep(s, stat_sql);
	if (st)
		sqlite3_bind_blob(st, 1, rec->card_id, 32, SQLITE_STATIC);
	r = feed_step_done(s, st);
	if (r < 0 || (!score && !trend))
		goto out;
	/* The card's, and its stats' for a card that comes later. */
	st = feed_prep(s, "UPDATE stats SET trend = feed_logadd(trend, "
		       "feed_trend(?1, ?2)) WHERE card_id = ?3");
	if (st) {
		sqlite3_bind_int(st, 1, trend);
		sqlite3_bind_int64(st, 2, when);
		sqlite3_bind_blob(st, 3, rec->card_id, 32, SQLITE_STATIC);
	}
	r = feed_step_done(s, st);
	if (r < 0)
		goto out;
	st = feed_prep(s, "UPDATE cards SET score = score + ?1, trend = "
		       "feed_logadd(trend, feed_trend(?2, ?3)) WHERE id = ?4");
	if (st) {
		sqlite3_bind_int(st, 1, score);
		sqlite3_bind_int(st, 2, trend);
		sqlite3_bind_int64(st, 3, when);
		sqlite3_bind_blob(st, 4, rec->card_id, 32, SQLITE_STATIC);
	}
	r = feed_step_done(s, st);
out:
	return feed_txn_end(s, r);
}

int feed_store_get_item(struct feed_store *s, const uint8_t id[FEED_ID_BYTES],
			enum feed_item_kind *kind, struct bbuf *out,
			uint64_t *pow)
{
	sqlite3_stmt *st = feed_prep(s, "SELECT 1, enc, pow FROM cards WHERE "
				     "id=?1 UNION ALL SELECT 2, enc, pow FROM "
				     "records WHERE id=?1");
	const void *p;
	int rc, k, n;

	if (!st)
		return ERR_IO;
	sqlite3_bind_blob(st, 1, id, FEED_ID_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		feed_release(s, st);
		return rc == SQLITE_DONE ? ERR_NOT_FOUND : ERR_IO;
	}
	k = sqlite3_column_int(st, 0);
	p = sqlite3_column_blob(st, 1);
	n = sqlite3_column_bytes(st, 1);
	if (!p || n <= 0 || n > FEED_ITEM_MAX_BYTES) {
		feed_release(s, st);
		return ERR_FORMAT;
	}
	bbuf_put(out, p, (size_t)n);
	*kind = k == 1 ? FEED_ITEM_CARD : FEED_ITEM_RECORD;
	if (pow)
		*pow = (uint64_t)sqlite3_column_int64(st, 2);
	feed_release(s, st);
	return 0;
}

int feed_store_card_creator(struct feed_store *s,
			    const uint8_t card_id[FEED_ID_BYTES],
			    struct ed25519_pk *out)
{
	sqlite3_stmt *st = feed_prep(s, "SELECT creator FROM cards WHERE id=?");
	int rc = ERR_IO;

	if (!st)
		return ERR_IO;
	sqlite3_bind_blob(st, 1, card_id, FEED_ID_BYTES, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (sqlite3_column_bytes(st, 0) != 32) {
			rc = ERR_FORMAT;
			break;
		}
		memcpy(out->b, sqlite3_column_blob(st, 0), 32);
		rc = 0;
		break;
	case SQLITE_DONE:
		rc = ERR_NOT_FOUND;
		break;
	}
	feed_release(s, st);
	return rc;
}

static const char FEED_BUCKET_IDS_SQL[] =
	"SELECT id FROM cards WHERE bucket=?1 UNION ALL "
	"SELECT id FROM records WHERE bucket=?1 ORDER BY 1";

int feed_store_bucket_sum(struct feed_store *s, uint32_t bucket,
			  struct feed_bucket_sum *out)
{
	sqlite3_stmt *st = feed_prep(s, FEED_BUCKET_IDS_SQL);
	uint8_t d[SHA256_BYTES];
	struct sha256_ctx h;
	uint32_t count = 0;
	int rc;

	if (!st)
		return ERR_IO;
	sqlite3_bind_int64(st, 1, bucket);
	sha256_init(&h);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != FEED_ID_BYTES)
			continue;	/* a bad row is nobody's item */
		sha256_update(&h, sqlite3_column_blob(st, 0), FEED_ID_BYTES);
		count++;
	}
	feed_release(s, st);
	sha256_final(&h, d);
	if (rc != SQLITE_DONE)
		return ERR_IO;
	out->bucket = bucket;
	out->count = count;
	memcpy(out->digest, d, FEED_DIGEST_BYTES);
	return 0;
}

int feed_store_summary(struct feed_store *s, struct feed_bucket_sum *b,
		       unsigned max, unsigned *n)
{
	sqlite3_stmt *st = feed_prep(s, "SELECT bucket FROM cards UNION "
				     "SELECT bucket FROM records "
				     "ORDER BY 1 DESC LIMIT ?");
	uint32_t buckets[FEED_SUMMARY_MAX_BUCKETS];
	unsigned k = 0, i;
	int rc;

	if (!st)
		return ERR_IO;
	if (max > FEED_SUMMARY_MAX_BUCKETS)
		max = FEED_SUMMARY_MAX_BUCKETS;
	sqlite3_bind_int(st, 1, (int)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < max) {
		sqlite3_int64 v = sqlite3_column_int64(st, 0);

		if (v < 0 || v > UINT32_MAX)
			continue;
		buckets[k++] = (uint32_t)v;
	}
	feed_release(s, st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return ERR_IO;
	for (i = 0; i < k; i++) {	/* ascending */
		rc = feed_store_bucket_sum(s, buckets[k - 1 - i], &b[i]);
		if (rc < 0)
			return rc;
	}
	*n = k;
	return 0;
}

int feed_store_bucket_ids(struct feed_store *s, uint32_t bucket,
			  unsigned skip, uint8_t *ids, unsigned max,
			  unsigned *n)
{
	sqlite3_stmt *st = feed_prep(s, FEED_BUCKET_IDS_SQL);
	unsigned k = 0, seen = 0;
	int rc;

	if (!st)
		return ERR_IO;
	sqlite3_bind_int64(st, 1, bucket);
	while (k < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != FEED_ID_BYTES)
			continue;
		if (seen++ < skip)
			continue;
		memcpy(ids + (size_t)k * FEED_ID_BYTES,
		       sqlite3_column_blob(st, 0), FEED_ID_BYTES);
		k++;
	}
	feed_release(s, st);
	*n = k;
	return 0;
}

int feed_store_follow(struct feed_store *s, const struct ed25519_pk *creator,
		      bool on)
{
	sqlite3_stmt *st = feed_prep(s, on ?
		"INSERT OR IGNORE INTO following(creator) VALUES(?)" :
		"DELETE FROM following WHERE creator=?");

	if (st)
		sqlite3_bind_blob(st, 1, creator->b, 32, SQLITE_STATIC);
	return feed_step_done(s, st);
}

bool feed_store_is_followed(struct feed_store *s,
			    const struct ed25519_pk *creator)
{
	return feed_exists(s, "SELECT 1 FROM following WHERE creator=?",
			   creator->b, 32) == 1;
}

int feed_store_block(struct feed_store *s, const struct ed25519_pk *creator,
		     bool on)
{
	sqlite3_stmt *st;
	int r;

	if ((r = feed_txn_begin(s)) < 0)
		return r;
	st = feed_prep(s, on ? "INSERT OR IGNORE INTO blocked(creator) "
			       "VALUES(?)" :
			       "DELETE FROM blocked WHERE creator=?");
	if (st)
		sqlite3_bind_blob(st, 1, creator->b, 32, SQLITE_STATIC);
	r = feed_step_done(s, st);
	if (r == 0) {
		st = feed_prep(s, "UPDATE cards AS c SET live = ("
			       FEED_LIVE_EXPR ") WHERE creator = ?");
		if (st)
			sqlite3_bind_blob(st, 1, creator->b, 32,
					  SQLITE_STATIC);
		r = feed_step_done(s, st);
	}
	return feed_txn_end(s, r);
}

bool feed_store_is_blocked(struct feed_store *s,
			   const struct ed25519_pk *creator)
{
	return feed_exists(s, "SELECT 1 FROM blocked WHERE creator=?",
			   creator->b, 32) == 1;
}

int feed_store_expire(struct feed_store *s, uint32_t before_bucket)
{
	static const char *const steps[] = {
		/* the text index reads from cards: unindex the rows first */
		"INSERT INTO cards_fts(cards_fts, rowid, title, description, "
		"tags) SELECT 'delete', rowid, title, description, tags FROM "
		"cards WHERE bucket < ?",
		"DELETE FROM cards WHERE bucket < ?",
		"DELETE FROM records WHERE bucket < ?",
		"DELETE FROM stats WHERE card_id NOT IN (SELECT id FROM cards)",
	};
	unsigned i;
	int r;

	if ((r = feed_fts_flush(s)) < 0 || (r = feed_txn_begin(s)) < 0)
		return r;
	for (i = 0; i < ARRAY_LEN(steps) && r == 0; i++) {
		sqlite3_stmt *st = feed_prep(s, steps[i]);

		if (st && sqlite3_bind_parameter_count(st) == 1)
			sqlite3_bind_int64(st, 1, before_bucket);
		r = feed_step_done(s, st);
	}
	return feed_txn_end(s, r);
}

static uint32_t feed_col_u32(sqlite3_stmt *st, int col)
{
	sqlite3_int64 v = sqlite3_column_int64(st, col);

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void feed_stats_read(sqlite3_stmt *st, int col,
			    struct feed_card_stats *out)
{
	out->likes = feed_col_u32(st, col);
	out->dislikes = feed_col_u32(st, col + 1);
	out->flags = feed_col_u32(st, col + 2);
	out->emojis = feed_col_u32(st, col + 3);
	out->views = feed_col_u32(st, col + 4);
}

int feed_store_card_stats(struct feed_store *s,
			  const uint8_t card_id[FEED_ID_BYTES],
			  struct feed_card_stats *out)
{
	sqlite3_stmt *st = feed_prep(s, "SELECT likes, dislikes, flags, "
				     "emojis, views FROM stats WHERE card_id=?");
	int rc;

	if (!st)
		return ERR_IO;
	sqlite3_bind_blob(st, 1, card_id, FEED_ID_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	memset(out, 0, sizeof(*out));
	if (rc == SQLITE_ROW)
		feed_stats_read(st, 0, out);
	feed_release(s, st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : ERR_IO;
}

/* A growing SQL text. */
struct feed_sql {
	char buf[1536];
	size_t len;
	bool over;
};

static void feed_sql_add(struct feed_sql *q, const char *s)
{
	size_t l = strlen(s);

	if (q->len + l + 1 > sizeof(q->buf)) {
		q->over = true;
		return;
	}
	memcpy(q->buf + q->len, s, l + 1);
	q->len += l;
}

/* The FTS5 query of user text: every word as a quoted string (implicit
 * AND), so no user byte is FTS5 syntax.  Empty when text has no word. */
static char *feed_fts_query(const char *text)
{
	size_t tl = strlen(text), o = 0, i;
	char *out = xmalloc(tl * 3 + 4);
	bool in = false;

	for (i = 0; i < tl; i++) {
		char ch = text[i];

		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
			if (in)
				out[o++] = '"';
			in = false;
			continue;
		}
		if (!in) {
			if (o)
				out[o++] = ' ';
			out[o++] = '"';
			in = true;
		}
		if (ch == '"')
			out[o++] = '"';
		out[o++] = ch;
	}
	if (in)
		out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* Copy one result row; false when a column is missing or mis-sized. */
static bool feed_row_read(sqlite3_stmt *st, struct feed_row *r)
{
	const unsigned char *title, *mime;
	int tl, ml;

	if (sqlite3_column_bytes(st, 0) != FEED_ID_BYTES ||
	    sqlite3_column_bytes(st, 1) != 32 ||
	    sqlite3_column_bytes(st, 4) != 32 ||
	    sqlite3_column_type(st, 3) != SQLITE_TEXT)
		return false;
	title = sqlite3_column_text(st, 3);
	tl = sqlite3_column_bytes(st, 3);
	if (!title || tl <= 0 || tl > CARD_TITLE_MAX_BYTES ||
	    memchr(title, '\0', (size_t)tl))
		return false;
	memset(r, 0, sizeof(*r));
	memcpy(r->id, sqlite3_column_blob(st, 0), FEED_ID_BYTES);
	memcpy(r->creator.b, sqlite3_column_blob(st, 1), 32);
	r->created = (uint64_t)(sqlite3_column_int64(st, 2) < 0 ? 0 :
				sqlite3_column_int64(st, 2));
	memcpy(r->title, title, (size_t)tl);
	memcpy(r->price, sqlite3_column_blob(st, 4), 32);
	feed_stats_read(st, 5, &r->stats);
	mime = sqlite3_column_text(st, 10);
	ml = sqlite3_column_bytes(st, 10);
	if (mime && ml > 0 && ml <= CONTENT_MIME_MAX_BYTES &&
	    !memchr(mime, '\0', (size_t)ml))
		memcpy(r->mime, mime, (size_t)ml);
	return true;
}

int feed_store_query(struct feed_store *s, const struct feed_query *q,
		     struct feed_row *rows, unsigned *n, unsigned *skipped)
{
	struct feed_sql sql = { .len = 0 };
	char *fts = NULL;
	sqlite3_stmt *st;
	unsigned i, k = 0, bad = 0;
	int idx = 1, rc;
	bool walk_fts;

	if (q->limit == 0 || q->limit > FEED_QUERY_MAX_ROWS ||
	    q->tag_count > CARD_TAGS_MAX)
		return ERR_ARG;
	if (q->text && strlen(q->text) > FEED_QUERY_TEXT_MAX_BYTES)
		return ERR_ARG;
	if (q->media && (!q->media[0] ||
			 strlen(q->media) > CONTENT_MIME_MAX_BYTES))
		return ERR_ARG;
	for (i = 0; i < q->tag_count; i++)
		if (!q->tags[i] || strlen(q->tags[i]) > CARD_TAG_MAX_BYTES)
			return ERR_ARG;
	if (feed_fts_flush(s) < 0)	/* a query inside a batch */
		return ERR_IO;
	if (q->text) {
		fts = feed_fts_query(q->text);
		if (!fts[0])
			FREE_AND_NULL(free, fts);
	}
	feed_sql_add(&sql, "SELECT c.id, c.creator, c.created, c.title, "
		     "c.price, coalesce(s.likes,0), coalesce(s.dislikes,0), "
		     "coalesce(s.flags,0), coalesce(s.emojis,0), "
		     "coalesce(s.views,0), c.mime FROM ");
	/* Newest first, a text is a walk down the text index's matches
	 * (rowids in time order), each looked up in cards, until the page
	 * is full (18-25 ms -> 0.2-0.3 ms for a word in half of 100,000
	 * cards).  Most popular first, or with a creator (whose cards the
	 * creator index finds: the walk would go through every match of a
	 * common word, 220 -> 27 ms), the unary + keeps the planner walking
	 * cards in that order and testing each against the matches. */
	walk_fts = fts && q->sort == FEED_SORT_NEW && !q->has_creator &&
		   !q->followed_only;
	if (walk_fts)
		feed_sql_add(&sql, "cards_fts f CROSS JOIN cards c LEFT JOIN "
			     "stats s ON s.card_id = c.id WHERE f.cards_fts "
			     "MATCH ? AND c.rowid = f.rowid AND c.live = 1");
	else
		feed_sql_add(&sql, "cards c LEFT JOIN stats s ON s.card_id = "
			     "c.id WHERE c.live = 1");
	if (fts && !walk_fts)
		feed_sql_add(&sql, " AND +c.rowid IN (SELECT rowid FROM "
			     "cards_fts WHERE cards_fts MATCH ?)");
	for (i = 0; i < q->tag_count; i++)
		feed_sql_add(&sql, " AND instr(c.tags, ',' || ? || ',') > 0");
	if (q->has_creator)
		feed_sql_add(&sql, " AND c.creator = ?");
	if (q->has_price_min)
		feed_sql_add(&sql, " AND c.price >= ?");
	if (q->has_price_max)
		feed_sql_add(&sql, " AND c.price <= ?");
	if (q->followed_only)
		feed_sql_add(&sql, " AND c.creator IN (SELECT creator FROM "
			     "following)");
	if (q->media && strchr(q->media, '/'))	/* the type */
		feed_sql_add(&sql, " AND lower(c.mime) = lower(?)");
	else if (q->media)	/* the top-level type */
		feed_sql_add(&sql, " AND instr(c.mime, '/') > 1 AND "
			     "lower(substr(c.mime, 1, instr(c.mime, '/') - 1)) "
			     "= lower(?)");
	if (q->owned_only)
		feed_sql_add(&sql, " AND feed_owned(c.chash)");
	switch (q->sort) {
	case FEED_SORT_NEW:	/* created, then arrival (FEED_ROWID_*) */
		feed_sql_add(&sql, walk_fts ? " ORDER BY f.rowid DESC" :
			     " ORDER BY c.rowid DESC");
		break;
	case FEED_SORT_POPULAR:
		feed_sql_add(&sql, " ORDER BY c.score DESC, c.created DESC, "
			     "c.id");
		break;
	case FEED_SORT_TRENDING:
		feed_sql_add(&sql, " ORDER BY c.trend DESC, c.rowid DESC");
		break;
	}
	feed_sql_add(&sql, " LIMIT ? OFFSET ?");
	if (sql.over) {
		free(fts);
		return ERR_INTERNAL;
	}
	if (sqlite3_prepare_v2(s->db, sql.buf, -1, &st, NULL) != SQLITE_OK) {
		log_warn(LD_APP, "feed store: %s", sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		free(fts);
		return ERR_IO;
	}
	if (fts)
		sqlite3_bind_text(st, idx++, fts, -1, SQLITE_STATIC);
	for (i = 0; i < q->tag_count; i++)
		sqlite3_bind_text(st, idx++, q->tags[i], -1, SQLITE_STATIC);
	if (q->has_creator)
		sqlite3_bind_blob(st, idx++, q->creator.b, 32, SQLITE_STATIC);
	if (q->has_price_min)
		sqlite3_bind_blob(st, idx++, q->price_min, 32, SQLITE_STATIC);
	if (q->has_price_max)
		sqlite3_bind_blob(st, idx++, q->price_max, 32, SQLITE_STATIC);
	if (q->media)
		sqlite3_bind_text(st, idx++, q->media, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, idx++, (int)q->limit);
	sqlite3_bind_int64(st, idx++, q->offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < q->limit) {
		if (feed_row_read(st, &rows[k]))
			k++;
		else
			bad++;
	}
	feed_release(s, st);
	free(fts);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return ERR_IO;
	*n = k;
	if (skipped)
		*skipped = bad;
	return 0;
}
