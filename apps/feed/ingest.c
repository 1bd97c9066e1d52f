/* Stateless checks of incoming items, in parallel (docs/feed.md §4). */
#include "config.h"
#include "apps/feed/ingest.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"

#include <stdlib.h>
#include <string.h>

void feed_in_init(struct feed_in *it, enum feed_item_kind kind,
		  const uint8_t *enc, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->enc = xmemdup(enc, len ? len : 1);
	it->len = len;
	it->r = 1;
	sha256(it->id, enc, len);
}

void feed_in_check_one(struct feed_in *it)
{
	int r;

	if (it->kind == FEED_ITEM_CARD) {
		if (!it->card)
			it->card = xmalloc(sizeof(*it->card));
		r = content_card_decode(it->enc, it->len, it->card);
		if (r == 0)
			r = content_card_verify(it->card);
	} else if (it->kind == FEED_ITEM_RECORD) {
		r = content_record_decode(it->enc, it->len, &it->rec);
		if (r == 0)
			r = content_record_verify(&it->rec);
	} else {
		r = ERR_FORMAT;
	}
	if (r < 0 && r != ERR_BAD_SIG)
		r = ERR_FORMAT;
	if (r < 0 && it->card)
		FREE_AND_NULL(free, it->card);
	it->r = r;
}

static void feed_in_check_fn(void *ctx, unsigned worker, uint32_t i)
{
	(void)worker;
	feed_in_check_one(&((struct feed_in *)ctx)[i]);
}

void feed_in_check(struct content_pool *pool, struct feed_in *items,
		   unsigned n)
{
	unsigned i;

	if (pool && n > 1) {
		content_pool_run(pool, feed_in_check_fn, items, n);
		return;
	}
	for (i = 0; i < n; i++)
		feed_in_check_one(&items[i]);
}

void feed_in_check_start(struct content_pool *pool, struct feed_in *items,
			 unsigned n)
{
	content_pool_start(pool, feed_in_check_fn, items, n);
}

void feed_in_clear(struct feed_in *it)
{
	free(it->enc);
	free(it->card);
	memset(it, 0, sizeof(*it));
}
