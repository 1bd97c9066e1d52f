/*
 * router/ratelim: a bucket's burst, refill and cap; keyed buckets kept
 * apart; a table flooded with keys stays at its size and a key evicted
 * by the flood comes back with a full bucket.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/ratelim.h"

#include <string.h>

static void test_bucket(struct tctx *t)
{
	struct tbucket b = { 0 };
	unsigned n = 0;

	/* burst 5 at once, then nothing until time passes */
	while (tbucket_take(&b, 60, 5, 1000) && n < 100)
		n++;
	T_EQ(t, n, 5);
	T_FALSE(t, tbucket_take(&b, 60, 5, 1999));
	/* 60 a minute: one a second */
	T_TRUE(t, tbucket_take(&b, 60, 5, 2000));
	T_FALSE(t, tbucket_take(&b, 60, 5, 2500));
	/* a long pause refills to the burst, not beyond */
	n = 0;
	while (tbucket_take(&b, 60, 5, 600000) && n < 100)
		n++;
	T_EQ(t, n, 5);
	/* a clock that goes backwards refills nothing */
	T_FALSE(t, tbucket_take(&b, 60, 5, 500));
	/* per_min 0: no limit */
	for (int i = 0; i < 1000; i++)
		T_TRUE(t, tbucket_take(&b, 0, 5, 500));
}

static void test_rate_over_a_minute(struct tctx *t)
{
	struct tbucket b = { 0 };
	unsigned n = 0;

	/* 120 a minute with burst 10, asked every 10 ms for a minute:
	 * 10 + 120 */
	for (uint64_t ms = 0; ms <= 60000; ms += 10)
		n += tbucket_take(&b, 120, 10, ms);
	T_EQ(t, n, 130);
}

static void test_keys_apart(struct tctx *t)
{
	struct ratelim *rl = ratelim_new(64, 60, 3);
	uint8_t a[32], c[32];

	memset(a, 0xaa, sizeof(a));
	memset(c, 0xcc, sizeof(c));
	for (int i = 0; i < 3; i++)
		T_TRUE(t, ratelim_take(rl, a, sizeof(a), 0));
	T_FALSE(t, ratelim_take(rl, a, sizeof(a), 0));
	/* another key has its own bucket */
	for (int i = 0; i < 3; i++)
		T_TRUE(t, ratelim_take(rl, c, sizeof(c), 0));
	T_FALSE(t, ratelim_take(rl, c, sizeof(c), 0));
	/* the same bytes as a shorter key are another key */
	T_TRUE(t, ratelim_take(rl, a, 4, 0));
	T_EQ(t, ratelim_count(rl), 3);
	/* a minute later a is full again */
	T_TRUE(t, ratelim_take(rl, a, sizeof(a), 60000));
	/* per_min 0 lifts the limit */
	ratelim_set(rl, 0, 0);
	for (int i = 0; i < 100; i++)
		T_TRUE(t, ratelim_take(rl, a, sizeof(a), 60000));
	ratelim_free(rl);
}

static void test_flood_of_keys(struct tctx *t)
{
	struct ratelim *rl = ratelim_new(32, 1, 2);	/* 1 a minute */
	uint8_t victim[4] = { 10, 0, 0, 1 }, k[4];
	unsigned refused = 0;

	T_TRUE(t, ratelim_take(rl, victim, 4, 0));
	T_TRUE(t, ratelim_take(rl, victim, 4, 0));
	T_FALSE(t, ratelim_take(rl, victim, 4, 0));
	/* 10,000 other keys, twice each: every one gets its burst, the
	 * table never grows past its size */
	for (uint32_t i = 0; i < 10000; i++) {
		memcpy(k, &i, 4);
		k[0] ^= 0x80;
		refused += !ratelim_take(rl, k, 4, 1 + i);
		refused += !ratelim_take(rl, k, 4, 1 + i);
	}
	T_EQ(t, refused, 0);
	T_EQ(t, ratelim_count(rl), 32);
	/* the victim was evicted and comes back full (two tokens, where
	 * its own bucket would have gained a sixth of one): the global
	 * limit beside it is what bounds many keys */
	T_TRUE(t, ratelim_take(rl, victim, 4, 10001));
	T_TRUE(t, ratelim_take(rl, victim, 4, 10001));
	T_FALSE(t, ratelim_take(rl, victim, 4, 10001));
	ratelim_free(rl);
}

const struct test_case router_ratelim_tests[] = {
	{ "bucket", test_bucket, 0 },
	{ "rate_over_a_minute", test_rate_over_a_minute, 0 },
	{ "keys_apart", test_keys_apart, 0 },
	{ "flood_of_keys", test_flood_of_keys, 0 },
	{ NULL, NULL, 0 },
};
