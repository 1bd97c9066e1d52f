/* apps/feed/store: cards, records, aggregates, follows, feed queries. */
#include "config.h"
#include "apps/feed/store.h"
#include "crypto/base/err.h"
#include "tests/unit/feed/tfeed.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCARDS 30

/* The synthetic set: card i's attributes. */
static uint8_t gen_creator(unsigned i) { return (uint8_t)(1 + i % 3); }
static uint64_t gen_price(unsigned i) { return i % 4 == 0 ? 0 : i * 1000u; }
static uint64_t gen_created(unsigned i) { return TF_T0 + i * 3600u; }

struct set {
	struct feed_store *st;
	char *dir, path[512];
	uint8_t id[NCARDS][32];
	struct content_card card[1];
};

static void put_card(struct tctx *t, struct set *s, unsigned i)
{
	struct bbuf b = BBUF_INIT;
	char title[64], desc[64], tags[64];

	snprintf(title, sizeof(title), "Card %u %s", i, i < 10 ? "alpha" : "beta");
	snprintf(desc, sizeof(desc), "about %s", i == 7 ? "a zebra" : "cats");
	snprintf(tags, sizeof(tags), "%s%s", i % 2 ? "music" : "film",
		 i % 5 == 0 ? ",live" : "");
	tf_card(t, gen_creator(i), title, desc, tags, gen_price(i),
		gen_created(i), &b, s->id[i]);
	T_OK(t, content_card_decode(b.data, b.len, s->card));
	T_OK(t, feed_store_put_card(s->st, s->card, b.data, b.len, s->id[i],
				    i));
	T_ERR(t, feed_store_put_card(s->st, s->card, b.data, b.len, s->id[i],
				     i),
	      ERR_DUPLICATE);
	bbuf_free(&b);
}

static void set_open(struct tctx *t, struct set *s)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	s->dir = t_tmpdir(t);
	snprintf(s->path, sizeof(s->path), "%s/feed.db", s->dir);
	T_OK(t, feed_store_open(s->path, &s->st));
	for (i = 0; i < NCARDS; i++)
		put_card(t, s, i);
}

/* Run q and check it returns exactly the cards whose index pick() accepts,
 * newest first. */
static void expect(struct tctx *t, struct set *s, const struct feed_query *q,
		   bool (*pick)(unsigned i, const void *arg), const void *arg)
{
	struct feed_row rows[FEED_QUERY_MAX_ROWS];
	unsigned n = 0, k = 0, skipped = 9;
	int i;

	T_OK(t, feed_store_query(s->st, q, rows, &n, &skipped));
	T_EQ(t, skipped, 0);
	for (i = NCARDS - 1; i >= 0; i--) {
		if (!pick((unsigned)i, arg))
			continue;
		if (k >= n) {
			T_TRUE(t, k < n);
			return;
		}
		T_MEMEQ(t, rows[k].id, s->id[i], 32);
		T_EQ(t, rows[k].created, gen_created((unsigned)i));
		k++;
	}
	T_EQ(t, n, k);
}

static bool pick_music(unsigned i, const void *a) { (void)a; return i % 2; }
static bool pick_film_live(unsigned i, const void *a)
{ (void)a; return i % 2 == 0 && i % 5 == 0; }
static bool pick_creator(unsigned i, const void *a)
{ return gen_creator(i) == *(const uint8_t *)a; }
static bool pick_price(unsigned i, const void *a)
{ (void)a; return gen_price(i) >= 5000 && gen_price(i) <= 20000; }
static bool pick_free(unsigned i, const void *a) { (void)a; return !gen_price(i); }
static bool pick_beta(unsigned i, const void *a) { (void)a; return i >= 10; }
static bool pick_7(unsigned i, const void *a) { (void)a; return i == 7; }
static bool pick_none(unsigned i, const void *a) { (void)i; (void)a; return false; }
static bool pick_all(unsigned i, const void *a) { (void)i; (void)a; return true; }
static bool pick_music_beta_c2(unsigned i, const void *a)
{ return pick_music(i, a) && pick_beta(i, a) && gen_creator(i) == 2; }

static void price_be(uint8_t out[32], uint64_t v)
{
	int i;

	memset(out, 0, 32);
	for (i = 0; i < 8; i++)
		out[31 - i] = (uint8_t)(v >> (8 * i));
}

static void test_filters(struct tctx *t)
{
	struct set *s = calloc(1, sizeof(*s));
	struct feed_query q;
	uint8_t who;

	set_open(t, s);
	memset(&q, 0, sizeof(q));
	q.limit = 100;
	expect(t, s, &q, pick_all, NULL);
	q.tags[0] = "music";
	q.tag_count = 1;
	expect(t, s, &q, pick_music, NULL);
	q.tags[0] = "film";
	q.tags[1] = "live";
	q.tag_count = 2;
	expect(t, s, &q, pick_film_live, NULL);
	q.tags[0] = "mus";	/* a tag matches whole, never a prefix */
	q.tag_count = 1;
	expect(t, s, &q, pick_none, NULL);
	q.tag_count = 0;

	who = 2;
	q.has_creator = true;
	tf_pk(who, &q.creator);
	expect(t, s, &q, pick_creator, &who);
	q.has_creator = false;

	q.has_price_min = q.has_price_max = true;
	price_be(q.price_min, 5000);
	price_be(q.price_max, 20000);
	expect(t, s, &q, pick_price, NULL);
	q.has_price_min = false;
	price_be(q.price_max, 0);
	expect(t, s, &q, pick_free, NULL);
	q.has_price_max = false;

	q.text = "beta";
	expect(t, s, &q, pick_beta, NULL);
	q.text = "ZEBRA";	/* case-insensitive, over the description */
	expect(t, s, &q, pick_7, NULL);
	q.text = "\"zeb AND OR (";	/* user text is never FTS5 syntax */
	expect(t, s, &q, pick_none, NULL);
	q.text = "   ";
	expect(t, s, &q, pick_all, NULL);
	q.text = "beta";
	q.tags[0] = "music";
	q.tag_count = 1;
	who = 2;
	q.has_creator = true;
	tf_pk(who, &q.creator);
	expect(t, s, &q, pick_music_beta_c2, NULL);
	memset(&q, 0, sizeof(q));

	/* Followed only: nothing until a creator is followed. */
	q.limit = 100;
	q.followed_only = true;
	expect(t, s, &q, pick_none, NULL);
	tf_pk(3, &q.creator);
	T_OK(t, feed_store_follow(s->st, &q.creator, true));
	T_TRUE(t, feed_store_is_followed(s->st, &q.creator));
	who = 3;
	expect(t, s, &q, pick_creator, &who);
	T_OK(t, feed_store_follow(s->st, &q.creator, false));
	expect(t, s, &q, pick_none, NULL);

	/* Bad queries. */
	q.limit = 0;
	T_ERR(t, feed_store_query(s->st, &q, NULL, &q.offset, NULL), ERR_ARG);
	q.limit = FEED_QUERY_MAX_ROWS + 1;
	T_ERR(t, feed_store_query(s->st, &q, NULL, &q.offset, NULL), ERR_ARG);
	feed_store_free(s->st);
	free(s->dir);
	free(s);
}

static void test_paging(struct tctx *t)
{
	struct set *s = calloc(1, sizeof(*s));
	struct feed_row rows[7];
	struct feed_query q;
	unsigned n, page, k = 0;

	set_open(t, s);
	memset(&q, 0, sizeof(q));
	q.limit = 7;
	for (page = 0; page < 6; page++) {
		q.offset = page * 7;
		T_OK(t, feed_store_query(s->st, &q, rows, &n, NULL));
		T_EQ(t, n, page < 4 ? 7 : page == 4 ? 2 : 0);
		for (unsigned i = 0; i < n; i++, k++)
			T_MEMEQ(t, rows[i].id, s->id[NCARDS - 1 - k], 32);
	}
	T_EQ(t, k, NCARDS);
	feed_store_free(s->st);
	free(s->dir);
	free(s);
}

static void put_rec(struct tctx *t, struct set *s, uint8_t who,
		    enum content_record_kind kind, enum content_reaction re,
		    unsigned card, uint64_t created)
{
	struct content_record r;
	struct bbuf b = BBUF_INIT;
	uint8_t id[32];

	tf_record(t, who, kind, re, s->id[card], created, &b, id);
	T_OK(t, content_record_decode(b.data, b.len, &r));
	T_OK(t, feed_store_put_record(s->st, &r, b.data, b.len, id, 0));
	T_ERR(t, feed_store_put_record(s->st, &r, b.data, b.len, id, 0),
	      ERR_DUPLICATE);
	T_TRUE(t, feed_store_has(s->st, id));
	bbuf_free(&b);
}

static void test_aggregates(struct tctx *t)
{
	struct set *s = calloc(1, sizeof(*s));
	struct feed_row rows[3];
	struct feed_card_stats cs;
	struct feed_bucket_sum sum[4];
	uint8_t ids[40 * 32];
	struct feed_query q;
	unsigned n, i;

	set_open(t, s);
	/* Card 3: liked by two authors (one twice, at two times). */
	put_rec(t, s, 50, CONTENT_RECORD_REACTION, CONTENT_REACT_LIKE, 3, TF_T0);
	put_rec(t, s, 50, CONTENT_RECORD_REACTION, CONTENT_REACT_LIKE, 3, TF_T0 + 1);
	put_rec(t, s, 51, CONTENT_RECORD_REACTION, CONTENT_REACT_LIKE, 3, TF_T0);
	put_rec(t, s, 51, CONTENT_RECORD_REACTION, CONTENT_REACT_DISLIKE, 3, TF_T0);
	/* Card 5: three viewers, one of them twice (in one batch). */
	T_OK(t, feed_store_begin(s->st));
	for (i = 0; i < 3; i++)
		put_rec(t, s, (uint8_t)(60 + i), CONTENT_RECORD_VIEW, 0, 5, TF_T0);
	T_OK(t, feed_store_commit(s->st));
	T_ERR(t, feed_store_commit(s->st), ERR_BAD_STATE);
	put_rec(t, s, 60, CONTENT_RECORD_VIEW, 0, 5, TF_T0 + 90000);
	put_rec(t, s, 61, CONTENT_RECORD_FOLLOW, 0, 5, TF_T0);
	T_OK(t, feed_store_card_stats(s->st, s->id[3], &cs));
	T_EQ(t, cs.likes, 2);
	T_EQ(t, cs.dislikes, 1);
	T_EQ(t, cs.views, 0);
	T_OK(t, feed_store_card_stats(s->st, s->id[5], &cs));
	T_EQ(t, cs.views, 3);
	T_EQ(t, cs.likes, 0);

	memset(&q, 0, sizeof(q));
	q.limit = 3;
	q.sort = FEED_SORT_POPULAR;
	T_OK(t, feed_store_query(s->st, &q, rows, &n, NULL));
	T_EQ(t, n, 3);
	T_MEMEQ(t, rows[0].id, s->id[3], 32);	/* 4 × 2 − 1 = 7 */
	T_EQ(t, rows[0].stats.likes, 2);
	T_MEMEQ(t, rows[1].id, s->id[5], 32);	/* 3 views */
	T_EQ(t, rows[1].stats.views, 3);
	T_MEMEQ(t, rows[2].id, s->id[NCARDS - 1], 32);	/* then newest */

	/* Buckets: cards 0..23 and 8 records on day 0, cards 24..29 and one
	 * view on day 1; digests are of the sorted ids. */
	T_OK(t, feed_store_summary(s->st, sum, 4, &n));
	T_EQ(t, n, 2);
	T_EQ(t, sum[0].bucket, TF_T0 / FEED_BUCKET_SECS);
	T_EQ(t, sum[0].count, 24 + 8);
	T_EQ(t, sum[1].bucket, TF_T0 / FEED_BUCKET_SECS + 1);
	T_EQ(t, sum[1].count, 6 + 1);
	T_OK(t, feed_store_bucket_ids(s->st, sum[1].bucket, 0, ids, 40, &n));
	T_EQ(t, n, 7);
	for (i = 1; i < n; i++)
		T_TRUE(t, memcmp(ids + (i - 1) * 32, ids + i * 32, 32) < 0);
	T_OK(t, feed_store_bucket_ids(s->st, sum[1].bucket, 5, ids + 32 * 10,
				      40, &n));
	T_EQ(t, n, 2);
	T_MEMEQ(t, ids + 32 * 10, ids + 32 * 5, 64);
	T_OK(t, feed_store_summary(s->st, sum, 1, &n));
	T_EQ(t, n, 1);
	T_EQ(t, sum[0].bucket, TF_T0 / FEED_BUCKET_SECS + 1);
	feed_store_free(s->st);
	free(s->dir);
	free(s);
}

/* The columns of schema 1 that the bad rows below fill. */
#define COLS "(id, creator, created, bucket, title, description, tags, " \
	"price, currency, mime, enc, score)"

/* Rows written behind the store's back (a corrupt or hostile file) are
 * skipped, and the store survives a reopen. */
static void test_bad_rows(struct tctx *t)
{
	struct set *s = calloc(1, sizeof(*s));
	struct feed_row rows[FEED_QUERY_MAX_ROWS];
	enum feed_item_kind kind;
	struct bbuf b = BBUF_INIT;
	struct feed_query q;
	unsigned n, skipped;
	uint64_t pow = 0;
	sqlite3 *db;
	FILE *f;
	char junk[512];

	set_open(t, s);
	T_EQ(t, sqlite3_open(s->path, &db), SQLITE_OK);
	T_EQ(t, sqlite3_exec(db,
		"INSERT INTO cards" COLS " VALUES(x'0102', x'03', 1, 1, 'short id', "
		"'', ',', zeroblob(32), '', '', x'00', 0);"
		"INSERT INTO cards" COLS " VALUES(zeroblob(32), zeroblob(32), "
		"9999999999, 1, x'00ff', '', ',', zeroblob(32), '', '', x'', 0);"
		"INSERT INTO cards" COLS " VALUES(randomblob(32), zeroblob(32), "
		"9999999998, 1, 'ok title', '', ',', x'01', '', '', x'', 0);"
		"INSERT INTO stats VALUES(zeroblob(32), -5, 'x', 1, 1, 1, NULL);",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	memset(&q, 0, sizeof(q));
	q.limit = 100;
	T_OK(t, feed_store_query(s->st, &q, rows, &n, &skipped));
	T_EQ(t, n, NCARDS);
	T_EQ(t, skipped, 3);
	q.sort = FEED_SORT_POPULAR;
	T_OK(t, feed_store_query(s->st, &q, rows, &n, &skipped));
	T_EQ(t, n, NCARDS);
	T_EQ(t, skipped, 3);
	T_OK(t, feed_store_get_item(s->st, s->id[4], &kind, &b, &pow));
	T_EQ(t, pow, 4);
	T_EQ(t, kind, FEED_ITEM_CARD);
	bbuf_reset(&b);
	{
		uint8_t zero[32] = { 0 };

		T_ERR(t, feed_store_get_item(s->st, zero, &kind, &b, NULL),
		      ERR_FORMAT);
	}
	feed_store_free(s->st);

	/* Reopen: everything is still there. */
	T_OK(t, feed_store_open(s->path, &s->st));
	q.sort = FEED_SORT_NEW;
	T_OK(t, feed_store_query(s->st, &q, rows, &n, &skipped));
	T_EQ(t, n, NCARDS);
	T_TRUE(t, feed_store_has(s->st, s->id[0]));
	feed_store_free(s->st);

	/* A file that is not a database is refused, not crashed on. */
	snprintf(junk, sizeof(junk), "%s/junk.db", s->dir);
	f = fopen(junk, "wb");
	T_TRUE(t, f != NULL);
	if (f) {
		memset(rows, 0x41, 8192);
		fwrite(rows, 1, 8192, f);
		fclose(f);
	}
	s->st = NULL;
	T_TRUE(t, feed_store_open(junk, &s->st) < 0);
	T_TRUE(t, s->st == NULL);
	bbuf_free(&b);
	free(s->dir);
	free(s);
}

/* A store of schema 1 (its own copy of the text in the text index, a
 * price index) is brought to schema 2 on open: the text index is rebuilt
 * from the cards, so text search finds what was stored before. */
static void test_schema_1(struct tctx *t)
{
	struct set *s = calloc(1, sizeof(*s));
	struct feed_row rows[FEED_QUERY_MAX_ROWS];
	struct feed_query q;
	unsigned n;
	sqlite3 *db;
	sqlite3_stmt *st;

	set_open(t, s);
	/* A like for card 3 as new as card 29 (schema 5 fills the trending
	 * weights from the counts). */
	put_rec(t, s, 9, CONTENT_RECORD_REACTION, CONTENT_REACT_LIKE, 3,
		gen_created(NCARDS - 1));
	feed_store_free(s->st);
	T_EQ(t, sqlite3_open(s->path, &db), SQLITE_OK);
	T_EQ(t, sqlite3_exec(db,
		"DROP INDEX cards_trend;"
		"ALTER TABLE cards DROP COLUMN trend;"
		"ALTER TABLE stats DROP COLUMN trend;"
		"DROP TABLE cards_fts;"
		"CREATE VIRTUAL TABLE cards_fts USING fts5(title, description, "
		" tags);"
		"CREATE INDEX cards_price ON cards(price);"
		"CREATE INDEX cards_created ON cards(created);"
		"UPDATE cards SET rowid = 1000 - rowid;"	/* oldest last */
		"UPDATE feed_meta SET v = 1 WHERE k = 'schema';",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	T_OK(t, feed_store_open(s->path, &s->st));
	memset(&q, 0, sizeof(q));
	q.limit = 100;
	q.text = "zebra";
	T_OK(t, feed_store_query(s->st, &q, rows, &n, NULL));
	T_EQ(t, n, 1);
	T_MEMEQ(t, rows[0].id, s->id[7], 32);
	/* Schema 4: renumbered in time order (newest first as before). */
	q.text = NULL;
	expect(t, s, &q, pick_all, NULL);
	q.text = "card";
	expect(t, s, &q, pick_all, NULL);
	/* Schema 5: trending weights, card 3's like counted at its time. */
	q.text = NULL;
	q.sort = FEED_SORT_TRENDING;
	T_OK(t, feed_store_query(s->st, &q, rows, &n, NULL));
	T_EQ(t, n, NCARDS);
	T_MEMEQ(t, rows[0].id, s->id[3], 32);
	T_MEMEQ(t, rows[1].id, s->id[NCARDS - 1], 32);
	T_MEMEQ(t, rows[NCARDS - 1].id, s->id[0], 32);
	feed_store_free(s->st);
	T_EQ(t, sqlite3_open(s->path, &db), SQLITE_OK);
	T_EQ(t, sqlite3_prepare_v2(db, "SELECT (SELECT v FROM feed_meta WHERE "
				   "k = 'schema'), (SELECT count(*) FROM "
				   "sqlite_master WHERE name = 'cards_price')",
				   -1, &st, NULL), SQLITE_OK);
	T_EQ(t, sqlite3_step(st), SQLITE_ROW);
	T_EQ(t, sqlite3_column_int(st, 0), 5);
	T_EQ(t, sqlite3_column_int(st, 1), 0);
	sqlite3_finalize(st);
	T_EQ(t, sqlite3_prepare_v2(db, "SELECT count(*) FROM cards WHERE "
				   "rowid = created << 20", -1, &st, NULL),
	     SQLITE_OK);
	T_EQ(t, sqlite3_step(st), SQLITE_ROW);
	T_EQ(t, sqlite3_column_int(st, 0), NCARDS);
	sqlite3_finalize(st);
	T_EQ(t, sqlite3_exec(db, "INSERT INTO cards_fts(cards_fts, rank) "
			     "VALUES('integrity-check', 1)", NULL, NULL, NULL),
	     SQLITE_OK);
	/* A newer schema than this code knows is refused. */
	T_EQ(t, sqlite3_exec(db, "UPDATE feed_meta SET v = 6", NULL, NULL,
			     NULL), SQLITE_OK);
	sqlite3_close(db);
	s->st = NULL;
	T_ERR(t, feed_store_open(s->path, &s->st), ERR_FORMAT);
	free(s->dir);
	free(s);
}

/* Store the card encoded in b (decoded into s->card, pow 0); empty b. */
static void put_one(struct tctx *t, struct set *s, struct bbuf *b,
		    uint8_t id[32])
{
	T_OK(t, content_card_decode(b->data, b->len, s->card));
	T_OK(t, feed_store_put_card(s->st, s->card, b->data, b->len, id, 0));
	bbuf_reset(b);
}

/* Rows of a text query (only shown cards), the first one's id in first. */
static unsigned text_rows(struct tctx *t, struct set *s, const char *text,
			  uint8_t first[32])
{
	struct feed_row rows[FEED_QUERY_MAX_ROWS];
	struct feed_query q;
	unsigned n = 0;

	memset(&q, 0, sizeof(q));
	q.limit = 100;
	q.text = text;
	T_OK(t, feed_store_query(s->st, &q, rows, &n, NULL));
	if (n && first)
		memcpy(first, rows[0].id, 32);
	return n;
}

/* Versions supersede older ones in either order of arrival; a block
 * hides a creator's cards until lifted; the creator's deletion hides a
 * card; retention drops old buckets. */
static void test_versions_block_delete(struct tctx *t)
{
	struct set *s = calloc(1, sizeof(*s));
	struct bbuf b = BBUF_INIT;
	uint8_t v1[32], v2[32], w4[32], w5[32], del[32], got[32];
	struct content_record r;
	struct ed25519_pk pk;

	set_open(t, s);
	tf_card_v(t, 4, "Versioned", "", "a", 0, TF_T0 + 7, 1, &b, v1);
	put_one(t, s, &b, v1);
	T_EQ(t, text_rows(t, s, "versioned", got), 1);
	T_MEMEQ(t, got, v1, 32);
	tf_card_v(t, 4, "Versioned", "two", "a", 0, TF_T0 + 7, 2, &b, v2);
	put_one(t, s, &b, v2);
	T_EQ(t, text_rows(t, s, "versioned", got), 1);
	T_MEMEQ(t, got, v2, 32);
	/* Newer first, older later: the older stays hidden. */
	tf_card_v(t, 6, "Reordered", "", "a", 0, TF_T0 + 8, 5, &b, w5);
	put_one(t, s, &b, w5);
	tf_card_v(t, 6, "Reordered", "", "a", 0, TF_T0 + 8, 4, &b, w4);
	put_one(t, s, &b, w4);
	T_EQ(t, text_rows(t, s, "reordered", got), 1);
	T_MEMEQ(t, got, w5, 32);
	T_TRUE(t, feed_store_has(s->st, w4));	/* kept for gossip */

	tf_pk(4, &pk);
	T_OK(t, feed_store_block(s->st, &pk, true));
	T_TRUE(t, feed_store_is_blocked(s->st, &pk));
	T_EQ(t, text_rows(t, s, "versioned", NULL), 0);
	T_OK(t, feed_store_block(s->st, &pk, false));
	T_EQ(t, text_rows(t, s, "versioned", got), 1);
	T_MEMEQ(t, got, v2, 32);

	/* A deletion by someone else changes nothing; by the creator it
	 * hides the card (and v1 stays superseded). */
	tf_record(t, 9, CONTENT_RECORD_DELETE, 0, v2, TF_T0 + 9, &b, del);
	T_OK(t, content_record_decode(b.data, b.len, &r));
	T_OK(t, feed_store_put_record(s->st, &r, b.data, b.len, del, 0));
	bbuf_reset(&b);
	T_EQ(t, text_rows(t, s, "versioned", NULL), 1);
	tf_record(t, 4, CONTENT_RECORD_DELETE, 0, v2, TF_T0 + 9, &b, del);
	T_OK(t, content_record_decode(b.data, b.len, &r));
	T_OK(t, feed_store_put_record(s->st, &r, b.data, b.len, del, 0));
	bbuf_reset(&b);
	T_EQ(t, text_rows(t, s, "versioned", NULL), 0);

	/* Retention: everything before the day after TF_T0 + 30 h goes. */
	T_OK(t, feed_store_expire(s->st, (TF_T0 + 30 * 3600) / 86400));
	T_FALSE(t, feed_store_has(s->st, s->id[0]));
	T_FALSE(t, feed_store_has(s->st, del));
	T_TRUE(t, feed_store_has(s->st, s->id[NCARDS - 1]));
	T_EQ(t, text_rows(t, s, "reordered", NULL), 0);
	T_EQ(t, text_rows(t, s, "zebra", NULL), 0);	/* card 7: day 0 */
	T_EQ(t, text_rows(t, s, "beta", NULL), NCARDS - 24);
	bbuf_free(&b);
	feed_store_free(s->st);
	free(s->dir);
	free(s);
}

/* Position of id among the newest-first rows of everything (-1: none). */
static int new_pos(struct tctx *t, struct set *s, const uint8_t id[32])
{
	struct feed_row rows[FEED_QUERY_MAX_ROWS];
	struct feed_query q;
	unsigned n = 0, i;

	memset(&q, 0, sizeof(q));
	q.limit = 100;
	T_OK(t, feed_store_query(s->st, &q, rows, &n, NULL));
	for (i = 0; i < n; i++)
		if (!memcmp(rows[i].id, id, 32))
			return (int)i;
	return -1;
}

/* In a batch the cards' text is indexed at the end, in one statement:
 * a query inside the batch already finds them, a duplicate adds no index
 * row, and the index agrees with the cards (FTS5's integrity check).
 * Cards created in the same second come newest first by arrival. */
/* Cards of several media types, three times, and what owns them. */
#define NMEDIA 6
static const char *const MEDIA_MIME[NMEDIA] = {
	"video/mp4", "audio/ogg", "video/webm", "image/png", "text/plain",
	"video/mp4",
};

struct owned_set {
	uint8_t hash[2][32];
	unsigned calls;
};

static bool owns(void *ctx, const uint8_t content_hash[32])
{
	struct owned_set *o = ctx;

	o->calls++;
	return !memcmp(content_hash, o->hash[0], 32) ||
	       !memcmp(content_hash, o->hash[1], 32);
}

/* Run q; the rows must be the cards of want[] (indexes, -1 ends) in
 * that order. */
static void expect_ids(struct tctx *t, struct feed_store *st,
		       const struct feed_query *q, uint8_t ids[][32],
		       const int *want)
{
	struct feed_row rows[FEED_QUERY_MAX_ROWS];
	unsigned n = 99, k;

	T_OK(t, feed_store_query(st, q, rows, &n, NULL));
	for (k = 0; want[k] >= 0; k++) {
		if (k >= n) {
			T_TRUE(t, k < n);
			return;
		}
		T_MEMEQ(t, rows[k].id, ids[want[k]], 32);
	}
	T_EQ(t, n, k);
}

static void test_media_owned(struct tctx *t)
{
	static const int video[] = { 5, 2, 0, -1 }, mp4[] = { 5, 0, -1 },
		audio[] = { 1, -1 }, none[] = { -1 }, owned[] = { 3, 1, -1 },
		owned_video[] = { 5, -1 };
	struct set *s = calloc(1, sizeof(*s));
	struct owned_set o;
	struct feed_row rows[FEED_QUERY_MAX_ROWS];
	struct feed_query q;
	struct bbuf b = BBUF_INIT;
	unsigned i, n = 0;

	s->dir = t_tmpdir(t);
	snprintf(s->path, sizeof(s->path), "%s/feed.db", s->dir);
	T_OK(t, feed_store_open(s->path, &s->st));
	memset(&o, 0, sizeof(o));
	for (i = 0; i < NMEDIA; i++) {
		bbuf_reset(&b);
		tf_card_mime(t, (uint8_t)(1 + i), "Card", MEDIA_MIME[i],
			     i * 1000u, TF_T0 + i * 60u, 1, &b, s->id[i]);
		T_OK(t, content_card_decode(b.data, b.len, s->card));
		T_OK(t, feed_store_put_card(s->st, s->card, b.data, b.len,
					    s->id[i], 0));
		if (i == 1 || i == 3)	/* the licences held */
			memcpy(o.hash[i == 3], s->card->content_hash, 32);
	}
	bbuf_free(&b);
	memset(&q, 0, sizeof(q));
	q.limit = 100;
	q.media = "video";	/* the top-level type, any case */
	expect_ids(t, s->st, &q, s->id, video);
	q.media = "VIDEO/MP4";
	expect_ids(t, s->st, &q, s->id, mp4);
	q.media = "audio/ogg";
	expect_ids(t, s->st, &q, s->id, audio);
	T_OK(t, feed_store_query(s->st, &q, rows, &n, NULL));
	T_EQ(t, n, 1);
	T_STREQ(t, rows[0].mime, "audio/ogg");
	q.media = "vid";	/* never a prefix of the type */
	expect_ids(t, s->st, &q, s->id, none);
	q.media = "video/";
	expect_ids(t, s->st, &q, s->id, none);
	q.media = "";
	T_ERR(t, feed_store_query(s->st, &q, rows, &n, NULL), ERR_ARG);
	q.media = NULL;

	/* Owned: nothing without the callback, then what it says is held. */
	q.owned_only = true;
	expect_ids(t, s->st, &q, s->id, none);
	feed_store_set_owned(s->st, owns, &o);
	expect_ids(t, s->st, &q, s->id, owned);
	T_TRUE(t, o.calls >= NMEDIA);
	q.media = "video";
	expect_ids(t, s->st, &q, s->id, none);
	memcpy(o.hash[0], s->card->content_hash, 32);	/* card 5 bought */
	expect_ids(t, s->st, &q, s->id, owned_video);
	feed_store_set_owned(s->st, NULL, NULL);
	expect_ids(t, s->st, &q, s->id, none);
	feed_store_free(s->st);
	free(s->dir);
	free(s);
}

/*
 * Trending: the weights decay with age.  Cards 0, 1, 2 made a day apart
 * (weights 0.25, 0.5, 1 at card 2's time), and card 3 as old as card 0;
 * card 0 gets three likes at its creation (13 → 3.25), card 1 two likes
 * at card 2's time (8.5): 1, 0, 2 by trend where the fixed score says
 * 0 (12), 1 (8).  Card 3's four likes at card 2's time (16.25) came
 * before the card: it leads.
 */
static void test_trending(struct tctx *t)
{
	static const int fresh[] = { 2, 1, 0, -1 }, decayed[] = { 1, 0, 2, -1 },
		popular[] = { 0, 1, 2, -1 }, early[] = { 3, 1, 0, 2, -1 };
	struct set *s = calloc(1, sizeof(*s));
	struct feed_query q;
	struct content_card *late = calloc(1, sizeof(*late));
	struct bbuf b = BBUF_INIT, lb = BBUF_INIT;
	const uint64_t day = FEED_TREND_HALF_LIFE_SECS;
	unsigned i;

	s->dir = t_tmpdir(t);
	snprintf(s->path, sizeof(s->path), "%s/feed.db", s->dir);
	T_OK(t, feed_store_open(s->path, &s->st));
	for (i = 0; i < 3; i++) {
		bbuf_reset(&b);
		tf_card_mime(t, (uint8_t)(1 + i), "Card", "video/mp4", 0,
			     TF_T0 + i * day, 1, &b, s->id[i]);
		T_OK(t, content_card_decode(b.data, b.len, s->card));
		T_OK(t, feed_store_put_card(s->st, s->card, b.data, b.len,
					    s->id[i], 0));
	}
	memset(&q, 0, sizeof(q));
	q.limit = 100;
	q.sort = FEED_SORT_TRENDING;
	expect_ids(t, s->st, &q, s->id, fresh);
	for (i = 0; i < 3; i++)
		put_rec(t, s, (uint8_t)(10 + i), CONTENT_RECORD_REACTION,
			CONTENT_REACT_LIKE, 0, TF_T0);
	for (i = 0; i < 2; i++)
		put_rec(t, s, (uint8_t)(20 + i), CONTENT_RECORD_REACTION,
			CONTENT_REACT_LIKE, 1, TF_T0 + 2 * day);
	/* A dislike adds nothing. */
	put_rec(t, s, 30, CONTENT_RECORD_REACTION, CONTENT_REACT_DISLIKE, 2,
		TF_T0 + 2 * day);
	expect_ids(t, s->st, &q, s->id, decayed);
	q.sort = FEED_SORT_POPULAR;
	expect_ids(t, s->st, &q, s->id, popular);

	q.sort = FEED_SORT_TRENDING;
	tf_card_mime(t, 4, "Late", "video/mp4", 0, TF_T0, 1, &lb, s->id[3]);
	T_OK(t, content_card_decode(lb.data, lb.len, late));
	for (i = 0; i < 4; i++)
		put_rec(t, s, (uint8_t)(40 + i), CONTENT_RECORD_REACTION,
			CONTENT_REACT_LIKE, 3, TF_T0 + 2 * day);
	T_OK(t, feed_store_put_card(s->st, late, lb.data, lb.len, s->id[3], 0));
	expect_ids(t, s->st, &q, s->id, early);
	/* The order survives reopening. */
	feed_store_free(s->st);
	T_OK(t, feed_store_open(s->path, &s->st));
	expect_ids(t, s->st, &q, s->id, early);
	bbuf_free(&b);
	bbuf_free(&lb);
	free(late);
	feed_store_free(s->st);
	free(s->dir);
	free(s);
}

static void test_batch_text(struct tctx *t)
{
	struct set *s = calloc(1, sizeof(*s));
	struct bbuf b = BBUF_INIT;
	uint8_t a[32], c[32], got[32];
	sqlite3 *db;

	set_open(t, s);
	T_OK(t, feed_store_begin(s->st));
	tf_card(t, 8, "Batched quokka", "", "a", 0, gen_created(5), &b, a);
	put_one(t, s, &b, a);
	tf_card(t, 8, "Quokka two", "", "a", 0, gen_created(5), &b, c);
	T_OK(t, content_card_decode(b.data, b.len, s->card));
	T_OK(t, feed_store_put_card(s->st, s->card, b.data, b.len, c, 0));
	T_ERR(t, feed_store_put_card(s->st, s->card, b.data, b.len, c, 0),
	      ERR_DUPLICATE);
	bbuf_reset(&b);
	T_EQ(t, text_rows(t, s, "quokka", got), 2);	/* inside the batch */
	T_MEMEQ(t, got, c, 32);
	T_OK(t, feed_store_commit(s->st));
	T_EQ(t, text_rows(t, s, "quokka", got), 2);
	T_MEMEQ(t, got, c, 32);
	T_EQ(t, text_rows(t, s, "batched", got), 1);
	T_MEMEQ(t, got, a, 32);
	/* Same second as card 5, which came first: c, a, card 5. */
	T_TRUE(t, new_pos(t, s, c) >= 0);
	T_EQ(t, new_pos(t, s, a), new_pos(t, s, c) + 1);
	T_EQ(t, new_pos(t, s, s->id[5]), new_pos(t, s, c) + 2);
	T_EQ(t, sqlite3_open(s->path, &db), SQLITE_OK);
	T_EQ(t, sqlite3_exec(db, "INSERT INTO cards_fts(cards_fts, rank) "
			     "VALUES('integrity-check', 1)", NULL, NULL, NULL),
	     SQLITE_OK);
	sqlite3_close(db);
	bbuf_free(&b);
	feed_store_free(s->st);
	free(s->dir);
	free(s);
}

const struct test_case feed_store_tests[] = {
	{ "batch_text", test_batch_text, 0 },
	{ "media_owned", test_media_owned, 0 },
	{ "trending", test_trending, 0 },
	{ "versions_block_delete", test_versions_block_delete, 0 },
	{ "schema_1", test_schema_1, 0 },
	{ "filters", test_filters, 0 },
	{ "paging", test_paging, 0 },
	{ "aggregates", test_aggregates, 0 },
	{ "bad_rows", test_bad_rows, 0 },
	{ NULL, NULL, 0 }
};
