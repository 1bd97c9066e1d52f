/*
 * The checks of an incoming item that need no state (docs/feed.md §4,
 * steps 3–4): canonical decode within the field limits and the signature
 * of the card's creator or the record's author.  They are the costly part
 * of accepting an item, so a batch of items is checked on the threads of
 * a content pool (apps/content/par.h) before the loop thread applies the
 * checks that need state (time, follow policy, rate limits) and stores
 * the batch in one transaction.
 *
 * Thread: feed_in_check runs items on the pool's threads; each item is
 * touched by one thread only.  The rest: the caller's thread.
 */
#ifndef APPS_FEED_INGEST_H
#define APPS_FEED_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/content/card.h"
#include "apps/content/par.h"
#include "apps/content/record.h"
#include "apps/feed/msg.h"

struct feed_in {
	enum feed_item_kind kind;
	uint8_t *enc;			/* owned: the item's signed encoding */
	size_t len;
	uint8_t id[FEED_ID_BYTES];	/* SHA-256(enc), set by the caller */
	uint64_t pow;			/* its proof-of-work nonce */
	bool pow_short;			/* enough only if its creator is favoured */
	bool has_from;
	uint8_t from[32];		/* the peer it came from */
	/* After the check: 0, ERR_FORMAT (does not decode within the
	 * limits) or ERR_BAD_SIG. */
	int r;
	struct content_card *card;	/* owned; a card that checked out */
	struct content_record rec;	/* a record that checked out */
};

/* Fill it with a copy of enc and its id (it->r = 1: not checked yet). */
void feed_in_init(struct feed_in *it, enum feed_item_kind kind,
		  const uint8_t *enc, size_t len);
/* Decode and verify one item. */
void feed_in_check_one(struct feed_in *it);
/* feed_in_check_one for items[0..n), spread over pool's threads (NULL:
 * on the calling thread). */
void feed_in_check(struct content_pool *pool, struct feed_in *items,
		   unsigned n);
/* Hand the checks to pool's workers and return at once (pair it with
 * content_pool_wait), so the caller can store the previous batch. */
void feed_in_check_start(struct content_pool *pool, struct feed_in *items,
			 unsigned n);
/* Free what it owns.  Accepts an item never filled. */
void feed_in_clear(struct feed_in *it);

#endif /* APPS_FEED_INGEST_H */
