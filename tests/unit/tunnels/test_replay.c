/*
 * tunnels/replay: the two-generation Bloom filter remembers keys for at
 * least a period, forgets them after two, keeps its memory fixed, rotates
 * early when a generation fills, and keeps false positives near the
 * design rate.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/bytes.h"
#include "tunnels/replay.h"

#include <string.h>

static void key_of(uint8_t k[32], uint32_t i, uint32_t salt)
{
	memset(k, 0, 32);
	be32_put(k, i);
	be32_put(k + 4, salt);
}

static void test_basic(struct tctx *t)
{
	struct tunnel_replay *r = tunnel_replay_new(1000, 60000);
	uint8_t k[32];

	key_of(k, 1, 0);
	T_FALSE(t, tunnel_replay_check(r, k, 32, 10));
	T_FALSE(t, tunnel_replay_add(r, k, 32, 10));
	T_TRUE(t, tunnel_replay_check(r, k, 32, 11));
	T_TRUE(t, tunnel_replay_add(r, k, 32, 12));
	T_EQ(t, tunnel_replay_count(r), 1);
	key_of(k, 2, 0);
	T_FALSE(t, tunnel_replay_check(r, k, 32, 13));
	/* different lengths are different keys */
	key_of(k, 1, 0);
	T_FALSE(t, tunnel_replay_check(r, k, 31, 13));
	tunnel_replay_free(r);
	tunnel_replay_free(NULL);
}

static void test_rotation(struct tctx *t)
{
	const uint64_t P = 600000;
	struct tunnel_replay *r = tunnel_replay_new(1000, P);
	size_t bytes = tunnel_replay_bytes(r);
	uint8_t a[32], b[32];

	key_of(a, 1, 1);
	key_of(b, 2, 1);
	T_FALSE(t, tunnel_replay_add(r, a, 32, 1000));
	/* just before the first rotation */
	T_FALSE(t, tunnel_replay_add(r, b, 32, 1000 + P - 1));
	T_TRUE(t, tunnel_replay_check(r, a, 32, 1000 + P));	/* rotates */
	/* a key added at the very end of a generation lives a full period */
	T_TRUE(t, tunnel_replay_check(r, b, 32, 1000 + P - 1 + P));
	/* after the second rotation a is gone... */
	T_FALSE(t, tunnel_replay_check(r, a, 32, 1000 + 2 * P + 1));
	/* ...and b, added in the first generation, too */
	T_FALSE(t, tunnel_replay_check(r, b, 32, 1000 + 2 * P + 2));
	T_EQ(t, tunnel_replay_bytes(r), bytes);
	tunnel_replay_free(r);
}

/* A cleared generation hands its pages back: a new filter has next to
 * nothing in memory, keys bring pages in, and two periods without keys
 * leave next to nothing again (with a memset, both generations stayed
 * in memory whole from their first clearing on: 2 MiB for the IV
 * filter). */
static void test_cleared_pages_given_back(struct tctx *t)
{
	const uint64_t P = 600000;
	struct tunnel_replay *r = tunnel_replay_new(TUNNEL_REPLAY_IV_ENTRIES, P);
	size_t gen = tunnel_replay_bytes(r) / 2;
	uint8_t k[32];

	T_TRUE(t, tunnel_replay_resident(r) < gen / 8);
	for (uint32_t i = 0; i < 20000; i++) {
		key_of(k, i, 7);
		T_FALSE(t, tunnel_replay_add(r, k, 32, 1000));
	}
	T_TRUE(t, tunnel_replay_resident(r) >= gen / 2);
	T_TRUE(t, tunnel_replay_check(r, k, 32, 1000 + P));	/* rotates */
	T_TRUE(t, tunnel_replay_resident(r) >= gen / 2);
	T_FALSE(t, tunnel_replay_check(r, k, 32, 1000 + 2 * P));
	T_TRUE(t, tunnel_replay_resident(r) < gen / 8);
	T_FALSE(t, tunnel_replay_add(r, k, 32, 1000 + 2 * P));
	T_TRUE(t, tunnel_replay_check(r, k, 32, 1000 + 2 * P + 1));
	tunnel_replay_free(r);
}

static void test_full_generation(struct tctx *t)
{
	struct tunnel_replay *r = tunnel_replay_new(100, 600000);
	size_t bytes = tunnel_replay_bytes(r);
	uint8_t k[32];

	for (uint32_t i = 0; i < 100; i++) {
		key_of(k, i, 2);
		T_FALSE(t, tunnel_replay_add(r, k, 32, 5));
	}
	T_EQ(t, tunnel_replay_count(r), 100);
	key_of(k, 1000, 2);
	T_FALSE(t, tunnel_replay_add(r, k, 32, 5));	/* rotates early */
	T_EQ(t, tunnel_replay_count(r), 1);
	key_of(k, 0, 2);
	T_TRUE(t, tunnel_replay_check(r, k, 32, 6));	/* previous gen */
	for (uint32_t i = 0; i < 100; i++) {
		key_of(k, 2000 + i, 2);
		tunnel_replay_add(r, k, 32, 7);
	}
	key_of(k, 0, 2);
	T_FALSE(t, tunnel_replay_check(r, k, 32, 8));	/* two gens on */
	T_EQ(t, tunnel_replay_bytes(r), bytes);
	tunnel_replay_free(r);
}

/* At a full generation the design rate is ~1e-5 per generation; with two
 * full generations checked, allow a generous 20 in 200000. */
static void test_false_positives(struct tctx *t)
{
	const uint32_t n = 20000;
	struct tunnel_replay *r = tunnel_replay_new(n, 600000);
	uint8_t k[32];
	unsigned fp = 0;

	for (uint32_t i = 0; i < 2 * n; i++) {
		key_of(k, i, 3);
		tunnel_replay_add(r, k, 32, 1);
	}
	for (uint32_t i = 0; i < 200000; i++) {
		key_of(k, i, 4);
		fp += tunnel_replay_check(r, k, 32, 2);
	}
	T_TRUE(t, fp <= 20);
	/* every inserted key of the last two generations is still found */
	for (uint32_t i = 0; i < 2 * n; i++) {
		key_of(k, i, 3);
		if (!tunnel_replay_check(r, k, 32, 2)) {
			T_TRUE(t, false);
			break;
		}
	}
	T_TRUE(t, tunnel_replay_bytes(r) <= 2 * (size_t)n * 64 / 8 * 2);
	tunnel_replay_free(r);
}

const struct test_case tunnels_replay_tests[] = {
	{ "basic", test_basic, 0 },
	{ "rotation", test_rotation, 0 },
	{ "full_generation", test_full_generation, 0 },
	{ "cleared_pages_given_back", test_cleared_pages_given_back, 0 },
	{ "false_positives", test_false_positives, 0 },
	{ NULL, NULL, 0 }
};
