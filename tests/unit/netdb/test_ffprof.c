/*
 * netdb/ffprof: the points that make a floodfill bad, the ban's end and a
 * second offence, the halving of old points, and a full table that keeps
 * its bans.  Time is passed in, so a ban of half an hour takes no time.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "netdb/ffprof.h"

#include <string.h>

static void key(uint8_t h[32], unsigned i)
{
	memset(h, 0, 32);
	memcpy(h, &i, sizeof(i));
	h[31] = 0xff;
}

static void test_scoring(struct tctx *t)
{
	struct ffprof *p = ffprof_new();
	struct ffprof_stats st;
	uint8_t honest[32], silent[32], junk[32];
	uint64_t now = 1000;

	key(honest, 1);
	key(silent, 2);
	key(junk, 3);
	/* An honest floodfill that missed one answer in many stays. */
	for (int i = 0; i < 10; i++)
		T_FALSE(t, ffprof_note(p, honest, FFPROF_FOUND, now));
	T_FALSE(t, ffprof_note(p, honest, FFPROF_TIMEOUT, now));
	T_FALSE(t, ffprof_note(p, honest, FFPROF_STORE_LOST, now));
	T_FALSE(t, ffprof_is_bad(p, honest, now));
	/* Silence: bad at the eighth timeout (8 points), not before. */
	for (int i = 0; i < 7; i++)
		T_FALSE(t, ffprof_note(p, silent, FFPROF_TIMEOUT, now));
	T_FALSE(t, ffprof_is_bad(p, silent, now));
	T_TRUE(t, ffprof_note(p, silent, FFPROF_TIMEOUT, now));
	T_TRUE(t, ffprof_is_bad(p, silent, now));
	/* One junk answer from a floodfill with no good history. */
	T_TRUE(t, ffprof_note(p, junk, FFPROF_JUNK, now));
	ffprof_stats(p, now, &st);
	T_EQ(t, st.known, 3);
	T_EQ(t, st.bad, 2);
	T_EQ(t, st.bans, 2);
	T_EQ(t, st.events[FFPROF_TIMEOUT], 9);
	T_EQ(t, st.events[FFPROF_JUNK], 1);
	/* The ban ends; a second offence bans sooner (half the points kept:
	 * four timeouts instead of eight). */
	now += FFPROF_BAN_MS;
	T_FALSE(t, ffprof_is_bad(p, silent, now));
	for (int i = 0; i < 3; i++)
		T_FALSE(t, ffprof_note(p, silent, FFPROF_TIMEOUT, now));
	T_TRUE(t, ffprof_note(p, silent, FFPROF_TIMEOUT, now));
	T_TRUE(t, ffprof_is_bad(p, silent, now));
	/* Good points outweigh bad ones. */
	key(junk, 4);
	for (int i = 0; i < 5; i++)
		(void)ffprof_note(p, junk, FFPROF_FOUND, now);
	T_FALSE(t, ffprof_note(p, junk, FFPROF_JUNK, now));
	T_TRUE(t, ffprof_note(p, junk, FFPROF_JUNK, now));
	ffprof_free(p);
}

static void test_decay(struct tctx *t)
{
	struct ffprof *p = ffprof_new();
	uint8_t h[32];
	uint64_t now = 5;

	key(h, 7);
	/* Six points, then two hours: halved twice, to one. */
	for (int i = 0; i < 3; i++)
		T_FALSE(t, ffprof_note(p, h, FFPROF_MISSED, now));
	now += 2 * FFPROF_DECAY_MS;
	T_FALSE(t, ffprof_note(p, h, FFPROF_MISSED, now));	/* 1 + 2 */
	T_FALSE(t, ffprof_note(p, h, FFPROF_MISSED, now));	/* 5 */
	T_FALSE(t, ffprof_note(p, h, FFPROF_MISSED, now));	/* 7 */
	T_TRUE(t, ffprof_note(p, h, FFPROF_MISSED, now));	/* 9 */
	ffprof_free(p);
}

/* A full table makes room with floodfills in good standing, never with a
 * banned one: new floodfills cannot wash a ban out. */
static void test_full_table_keeps_bans(struct tctx *t)
{
	struct ffprof *p = ffprof_new();
	struct ffprof_stats st;
	uint8_t bad[32], h[32];

	key(bad, 0);
	T_TRUE(t, ffprof_note(p, bad, FFPROF_JUNK, 1));
	for (unsigned i = 1; i < 3 * FFPROF_MAX; i++) {
		key(h, i);
		(void)ffprof_note(p, h, FFPROF_ANSWERED, 1 + i);
	}
	ffprof_stats(p, 2, &st);
	T_EQ(t, st.known, FFPROF_MAX);
	T_TRUE(t, ffprof_is_bad(p, bad, 3 * FFPROF_MAX));
	/* The most recent ones are there; the oldest good ones went. */
	key(h, 3 * FFPROF_MAX - 1);
	T_FALSE(t, ffprof_note(p, h, FFPROF_TIMEOUT, 3 * FFPROF_MAX));
	ffprof_stats(p, 3 * FFPROF_MAX, &st);
	T_EQ(t, st.known, FFPROF_MAX);
	T_EQ(t, st.bad, 1);
	ffprof_free(p);
}

/* A store verified at another floodfill is counted but earns nothing
 * (the entry may have got there another way): a Sybil that keeps nothing
 * and had ten of its stores "verified" so is still left out at its
 * second lost one (it was not: 20 good points against 12 bad). */
static void test_verified_earns_nothing(struct tctx *t)
{
	struct ffprof *p = ffprof_new();
	struct ffprof_stats st;
	uint8_t h[32];

	key(h, 9);
	for (int i = 0; i < 10; i++)
		T_FALSE(t, ffprof_note(p, h, FFPROF_STORE_VERIFIED, 1));
	T_FALSE(t, ffprof_note(p, h, FFPROF_STORE_LOST, 1));
	T_TRUE(t, ffprof_note(p, h, FFPROF_STORE_LOST, 1));
	T_TRUE(t, ffprof_is_bad(p, h, 1));
	ffprof_stats(p, 1, &st);
	T_EQ(t, st.events[FFPROF_STORE_VERIFIED], 10);
	ffprof_free(p);
}

const struct test_case netdb_ffprof_tests[] = {
	{ "verified_earns_nothing", test_verified_earns_nothing, 0 },
	{ "scoring", test_scoring, 0 },
	{ "decay", test_decay, 0 },
	{ "full_table_keeps_bans", test_full_table_keeps_bans, 0 },
	{ NULL, NULL, 0 }
};
