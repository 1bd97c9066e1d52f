/*
 * apps/market query isolation (market_iso): a key keeps its destination
 * while taken and idle_ms after; another key never gets it; a full pool
 * gives the place of the longest idle one (closed first) and none that
 * is taken; expiry closes only idle ones; a failed open leaves the place
 * free; free closes everything.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/market/iso.h"
#include "crypto/base/alloc.h"
#include "tests/unit/tharness.h"

struct fake {
	unsigned opened, closed, live;
	bool fail;
	uint8_t last_closed_key;
};

struct fdest {
	unsigned serial;
	uint8_t key0;
};

static void *f_open(void *ctx, const uint8_t key[MARKET_ISO_KEY_BYTES])
{
	struct fake *f = ctx;
	struct fdest *d;

	if (f->fail)
		return NULL;
	d = xmalloc(sizeof(*d));
	d->serial = ++f->opened;
	d->key0 = key[0];
	f->live++;
	return d;
}

static void f_close(void *ctx, void *p)
{
	struct fake *f = ctx;
	struct fdest *d = p;

	f->closed++;
	f->live--;
	f->last_closed_key = d->key0;
	free(d);
}

static const uint8_t *key(uint8_t tag)
{
	static uint8_t k[4][MARKET_ISO_KEY_BYTES];
	static unsigned next;
	uint8_t *p = k[next++ % 4];

	memset(p, tag, MARKET_ISO_KEY_BYTES);
	return p;
}

static void count(void *arg, void *dest)
{
	(void)dest;
	++*(unsigned *)arg;
}

static void test_iso(struct tctx *t)
{
	struct fake f = { 0 };
	struct market_iso_hooks h = { f_open, f_close, &f };
	struct market_iso *iso;
	struct fdest *a, *a2, *b, *c, *d, *e;
	unsigned n = 0;

	T_TRUE(t, market_iso_new(&h, 0, 1000) == NULL);
	T_TRUE(t, market_iso_new(&h, MARKET_ISO_LIMIT + 1, 1000) == NULL);
	iso = market_iso_new(&h, 2, 1000);
	T_TRUE(t, iso != NULL);

	/* one destination a key, none shared */
	a = market_iso_take(iso, key(1), 10);
	a2 = market_iso_take(iso, key(1), 11);
	b = market_iso_take(iso, key(2), 12);
	T_TRUE(t, a && a == a2 && b && b != a);
	T_EQ(t, a->key0, 1);
	T_EQ(t, b->key0, 2);
	T_EQ(t, f.opened, 2);
	T_EQ(t, market_iso_open_count(iso), 2);
	/* all taken: nothing for a third key, nothing closed */
	T_TRUE(t, market_iso_take(iso, key(3), 13) == NULL);
	T_EQ(t, f.closed, 0);
	/* a is still taken once after one put */
	market_iso_put(iso, a, 14);
	T_TRUE(t, market_iso_take(iso, key(3), 15) == NULL);
	/* then idle: b since 20, a since 30 */
	market_iso_put(iso, b, 20);
	market_iso_put(iso, a, 30);
	c = market_iso_take(iso, key(3), 31);
	T_TRUE(t, c != NULL);
	T_EQ(t, c->key0, 3);
	T_EQ(t, f.closed, 1);
	T_EQ(t, f.last_closed_key, 2);	/* b went, the longest idle */
	/* b's key again: a new destination, in a's place (c is taken) */
	d = market_iso_take(iso, key(2), 40);
	T_TRUE(t, d != NULL);
	T_EQ(t, d->key0, 2);
	T_EQ(t, d->serial, 4);		/* not b (serial 2) again */
	T_EQ(t, f.last_closed_key, 1);
	T_EQ(t, f.live, 2);

	/* expiry: only what is idle for 1000 ms and not taken */
	market_iso_put(iso, d, 50);
	T_EQ(t, market_iso_expire(iso, 1049), 0);
	T_EQ(t, market_iso_expire(iso, 1050), 1);	/* d */
	T_EQ(t, market_iso_open_count(iso), 1);
	market_iso_put(iso, c, 60);
	/* taken again before its expiry: kept */
	T_TRUE(t, market_iso_take(iso, key(3), 1059) == c);
	T_EQ(t, market_iso_expire(iso, 5000), 0);
	market_iso_put(iso, c, 5000);

	/* a failed open: NULL, and the place stays free */
	f.fail = true;
	T_TRUE(t, market_iso_take(iso, key(4), 5001) == NULL);
	f.fail = false;
	e = market_iso_take(iso, key(4), 5002);
	T_TRUE(t, e != NULL);
	T_EQ(t, market_iso_open_count(iso), 2);
	T_EQ(t, market_iso_opened_total(iso), 5);
	market_iso_each(iso, count, &n);
	T_EQ(t, n, 2);
	market_iso_put(iso, e, 5003);
	/* a put of something not taken changes nothing */
	market_iso_put(iso, e, 5004);
	/* e idle since 5003 (not 5004) and c since 5000 */
	T_EQ(t, market_iso_expire(iso, 6003), 2);

	market_iso_free(iso);
	T_EQ(t, f.live, 0);
	T_EQ(t, f.opened, f.closed);
	market_iso_free(NULL);
}

const struct test_case market_iso_tests[] = {
	{ "pool", test_iso, 0 },
	{ NULL, NULL, 0 }
};
