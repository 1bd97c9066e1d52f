/*
 * The local feed store: cards and records received by gossip or published
 * here, in SQLite (WAL) under the data dir, with per-card aggregates
 * (reactions, views), the local follow set, full-text search (FTS5) over
 * title, description and tags, and feed queries with filters, sorts and
 * paging (docs/feed.md §4).
 *
 * The store trusts its callers: cards and records are decoded and their
 * signatures checked before they are put (apps/feed/gossip.c).  Reading
 * never trusts the file: a row with a wrong-sized or missing column is
 * skipped and counted, never a crash.  Each put is one transaction.
 * Thread: one thread at a time (the loop thread).
 */
#ifndef APPS_FEED_STORE_H
#define APPS_FEED_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/content/card.h"
#include "apps/content/record.h"
#include "apps/feed/msg.h"
#include "crypto/base/bytes.h"
#include "crypto/ed25519.h"

#define FEED_QUERY_MAX_ROWS 100
#define FEED_QUERY_TEXT_MAX_BYTES 256

struct feed_store;	/* opaque */

enum feed_sort {
	FEED_SORT_NEW = 0,	/* created, newest first (ties: last come first) */
	FEED_SORT_POPULAR = 1,	/* score 4 × likes + views − dislikes, then new */
	FEED_SORT_TRENDING = 2	/* attention decayed by age, then new */
};

/*
 * Trending (docs/feed.md §4): a card's weight is the sum of its events'
 * weights, each halved every FEED_TREND_HALF_LIFE_SECS of age: the card
 * itself 1 at its creation, a like 4, a view or an emoji 1, each at the
 * record's time (dislikes and flags add nothing).  Kept per card as
 * log2(sum of w × 2^(t / half-life)), whose order is the order of the
 * decayed weights at any one time.
 */
#define FEED_TREND_HALF_LIFE_SECS 86400u

/* Whether this router holds a licence for a content (by content hash);
 * the store asks it for the owned filter. */
typedef bool (*feed_owned_fn)(void *ctx, const uint8_t content_hash[32]);

struct feed_query {
	const char *text;	/* words that must all occur (FTS5), or NULL */
	const char *tags[CARD_TAGS_MAX];	/* all must be on the card */
	unsigned tag_count;
	bool has_creator;
	struct ed25519_pk creator;
	bool has_price_min, has_price_max;	/* inclusive, uint256 BE */
	uint8_t price_min[32], price_max[32];
	bool followed_only;	/* creators in the local follow set */
	bool owned_only;	/* contents feed_owned_fn says are held */
	/* Media type: "video/mp4" (the card's MIME type, case-insensitive)
	 * or its top-level type alone ("video"); NULL: any. */
	const char *media;
	enum feed_sort sort;
	unsigned offset;
	unsigned limit;		/* 1..FEED_QUERY_MAX_ROWS */
};

/* Aggregates of one card: distinct authors per reaction, distinct viewers. */
struct feed_card_stats {
	uint32_t likes, dislikes, flags, emojis, views;
};

struct feed_row {
	uint8_t id[FEED_ID_BYTES];
	struct ed25519_pk creator;
	uint64_t created;
	char title[CARD_TITLE_MAX_BYTES + 1];
	uint8_t price[32];
	char mime[CONTENT_MIME_MAX_BYTES + 1];
	struct feed_card_stats stats;
};

/* Open (creating) the store at path.  ERR_IO / ERR_FORMAT (not a feed
 * store).  Caller owns *out. */
int feed_store_open(const char *path, struct feed_store **out);
void feed_store_free(struct feed_store *s);

/* Group the puts that follow into one transaction until the matching
 * feed_store_commit (nests; a failed put still undoes only itself). */
int feed_store_begin(struct feed_store *s);
int feed_store_commit(struct feed_store *s);

bool feed_store_has(struct feed_store *s, const uint8_t id[FEED_ID_BYTES]);
/*
 * Store a verified card (c decoded from enc, id = SHA-256(enc)) with its
 * proof-of-work nonce.  Of the versions of one content (creator and
 * content hash) only the highest is shown.  ERR_DUPLICATE when held
 * already, ERR_IO on a database error.
 */
int feed_store_put_card(struct feed_store *s, const struct content_card *c,
			const uint8_t *enc, size_t len,
			const uint8_t id[FEED_ID_BYTES], uint64_t pow);
/* Store a verified record and update its card's aggregates (an author
 * counts once per card and reaction, or view; a deletion by the card's
 * creator hides the card).  ERR_DUPLICATE, ERR_IO. */
int feed_store_put_record(struct feed_store *s,
			  const struct content_record *rec,
			  const uint8_t *enc, size_t len,
			  const uint8_t id[FEED_ID_BYTES], uint64_t pow);
/* The encoding of an item (appended to out), its kind and proof-of-work
 * nonce (pow may be NULL).  ERR_NOT_FOUND. */
int feed_store_get_item(struct feed_store *s, const uint8_t id[FEED_ID_BYTES],
			enum feed_item_kind *kind, struct bbuf *out,
			uint64_t *pow);
/* The creator of a stored card.  ERR_NOT_FOUND. */
int feed_store_card_creator(struct feed_store *s,
			    const uint8_t card_id[FEED_ID_BYTES],
			    struct ed25519_pk *out);

/* The max most recent non-empty buckets, ascending, with their digests. */
int feed_store_summary(struct feed_store *s, struct feed_bucket_sum *b,
		       unsigned max, unsigned *n);
/* Summary of one bucket (count 0 and the digest of nothing if empty). */
int feed_store_bucket_sum(struct feed_store *s, uint32_t bucket,
			  struct feed_bucket_sum *out);
/* Ids of bucket in ascending order, from the skip-th on; at most max.  */
int feed_store_bucket_ids(struct feed_store *s, uint32_t bucket,
			  unsigned skip, uint8_t *ids, unsigned max,
			  unsigned *n);

/* Set (fn NULL: clear) what answers the owned filter; with none, an
 * owned-only query finds nothing. */
void feed_store_set_owned(struct feed_store *s, feed_owned_fn fn, void *ctx);

/* Add or remove a creator in the local follow set. */
int feed_store_follow(struct feed_store *s, const struct ed25519_pk *creator,
		      bool on);
bool feed_store_is_followed(struct feed_store *s,
			    const struct ed25519_pk *creator);
/* Add or remove a creator in the local block list: their cards are
 * hidden from queries while blocked (gossip refuses their items). */
int feed_store_block(struct feed_store *s, const struct ed25519_pk *creator,
		     bool on);
bool feed_store_is_blocked(struct feed_store *s,
			   const struct ed25519_pk *creator);
/* Retention: drop every card and record of the buckets before
 * before_bucket, their index entries and aggregates. */
int feed_store_expire(struct feed_store *s, uint32_t before_bucket);

int feed_store_card_stats(struct feed_store *s,
			  const uint8_t card_id[FEED_ID_BYTES],
			  struct feed_card_stats *out);
/*
 * Run a feed query: up to q->limit rows into rows (room for q->limit),
 * *n of them.  *skipped (may be NULL) counts bad rows left out.
 * ERR_ARG on a bad query (limit, text or media type too long), ERR_IO.
 */
int feed_store_query(struct feed_store *s, const struct feed_query *q,
		     struct feed_row *rows, unsigned *n, unsigned *skipped);

#endif /* APPS_FEED_STORE_H */
