/*
 * netdb/routing: routing keys against a Python model of the spec text
 * (SHA-256(key ‖ UTC yyyyMMdd)), the midnight rotation, the XOR metric
 * and k-closest selection against a brute-force sort.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "netdb/routing.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"

#include <stdlib.h>
#include <string.h>

/* key = 00 01 02 .. 1f; hashlib.sha256(key + date.encode()). */
static const struct {
	uint64_t ms;
	const char *date;
	const char *hex;
} vec[] = {
	{ 1700000000000ULL, "20231114",
	  "e5e213ffd2cf8922a6d12d447bf7508dd60551c2aaffa1122d4bb1d5804a9228" },
	{ 1700006399999ULL, "20231114",
	  "e5e213ffd2cf8922a6d12d447bf7508dd60551c2aaffa1122d4bb1d5804a9228" },
	{ 1700006400000ULL, "20231115",
	  "dd79a4d3c075a439adc85adeaf7b5c1f92ca6249cc8f9e416365a409513dafc2" },
	{ 951782400000ULL, "20000229",
	  "1c9c8bc2c63b63e5fafac9295d92d7fe6c4c4e5336c8332a913714cacc4ba5de" },
};

static void test_routing_key_vectors(struct tctx *t)
{
	uint8_t key[32], out[32];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (size_t i = 0; i < ARRAY_LEN(vec); i++) {
		char date[NETDB_DATE_CHARS + 1];
		size_t n;
		uint8_t *want = tvec_hex(t, vec[i].hex, &n);

		netdb_routing_date(vec[i].ms, date);
		T_STREQ(t, date, vec[i].date);
		netdb_routing_key(key, vec[i].ms, out);
		T_MEMEQ(t, out, want, 32);
		free(want);
	}
}

static void test_rotation(struct tctx *t)
{
	T_EQ(t, netdb_ms_to_rotation(1700006399999ULL), 1);
	T_EQ(t, netdb_ms_to_rotation(1700006400000ULL), NETDB_DAY_MS);
	T_EQ(t, netdb_ms_to_rotation(1700000000000ULL), 6400000);
}

static void test_xor_cmp(struct tctx *t)
{
	uint8_t target[32] = { 0 }, a[32] = { 0 }, b[32] = { 0 }, x[32];

	a[31] = 1;		/* distance 1 */
	b[0] = 0x80;		/* distance 2^255 */
	T_TRUE(t, netdb_xor_cmp(target, a, b) < 0);
	T_TRUE(t, netdb_xor_cmp(target, b, a) > 0);
	T_EQ(t, netdb_xor_cmp(target, a, a), 0);
	/* Against a target near b, b wins: only the XOR counts. */
	target[0] = 0x80;
	target[31] = 0x01;
	T_TRUE(t, netdb_xor_cmp(target, b, a) < 0);
	netdb_xor(a, b, x);
	T_EQ(t, x[0], 0x80);
	T_EQ(t, x[31], 1);
}

static const uint8_t *cmp_target;
static int by_distance(const void *pa, const void *pb)
{
	return netdb_xor_cmp(cmp_target, pa, pb);
}

static void test_closest_matches_sort(struct tctx *t)
{
	enum { N = 500 };
	uint8_t (*h)[32] = xmalloc(N * 32), target[32];
	struct netdb_closest c;

	for (int round = 0; round < 20; round++) {
		size_t k = 1 + (size_t)round % 8;

		rand_bytes(h, N * 32);
		rand_bytes(target, sizeof(target));
		netdb_closest_init(&c, target, k);
		for (size_t i = 0; i < N; i++)
			netdb_closest_add(&c, h[i], h[i]);
		/* Each kept entry still points at its own candidate. */
		for (size_t i = 0; i < c.n; i++)
			T_MEMEQ(t, c.e[i].obj, c.e[i].hash, 32);
		cmp_target = target;
		qsort(h, N, 32, by_distance);
		T_EQ(t, c.n, k);
		for (size_t i = 0; i < k; i++)
			T_MEMEQ(t, c.e[i].hash, h[i], 32);
	}
	/* Fewer candidates than k, and a clamp of k. */
	netdb_closest_init(&c, target, 5);
	netdb_closest_add(&c, h[3], NULL);
	netdb_closest_add(&c, h[1], NULL);
	T_EQ(t, c.n, 2);
	T_MEMEQ(t, c.e[0].hash, h[1], 32);
	netdb_closest_init(&c, target, 1000);
	T_EQ(t, c.k, NETDB_CLOSEST_MAX);
	free(h);
}

const struct test_case netdb_routing_tests[] = {
	{ "key_vectors", test_routing_key_vectors, 0 },
	{ "rotation", test_rotation, 0 },
	{ "xor_cmp", test_xor_cmp, 0 },
	{ "closest_matches_sort", test_closest_matches_sort, 0 },
	{ NULL, NULL, 0 }
};
