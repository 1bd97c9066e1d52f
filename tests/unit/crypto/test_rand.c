/*
 * crypto/rand: the deterministic test stream is reproducible, seed-specific
 * and independent of how reads are chunked; the normal stream is not
 * repeated; rand_uniform stays in range.  Every case runs forked since the
 * mode is process-global.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/rand.h"

#include <sys/wait.h>
#include <unistd.h>

#include <string.h>

static void test_deterministic_repeats(struct tctx *t)
{
	uint8_t a[200], b[200], c[200];

	rand_set_deterministic(42);
	rand_bytes(a, sizeof(a));
	rand_set_deterministic(42);
	rand_bytes(b, sizeof(b));
	T_MEMEQ(t, a, b, sizeof(a));
	rand_set_deterministic(43);
	rand_bytes(c, sizeof(c));
	T_TRUE(t, memcmp(a, c, sizeof(a)) != 0);
	/* Same stream read in odd-sized pieces across block boundaries. */
	rand_set_deterministic(42);
	for (size_t off = 0, step = 1; off < sizeof(b); off += step, step += 6)
		rand_bytes(b + off, off + step > sizeof(b) ? sizeof(b) - off
							   : step);
	T_MEMEQ(t, a, b, sizeof(a));
	/* ...and continues rather than restarting. */
	rand_bytes(c, 64);
	T_TRUE(t, memcmp(a, c, 64) != 0);
	rand_set_deterministic(0);
}

static void test_deterministic_derived(struct tctx *t)
{
	/* rand_u64 and rand_uniform draw from the same stream. */
	uint64_t x, y;
	uint32_t u1[50], u2[50];

	rand_set_deterministic(9);
	x = rand_u64();
	for (int i = 0; i < 50; i++)
		u1[i] = rand_uniform(1000);
	rand_set_deterministic(9);
	y = rand_u64();
	for (int i = 0; i < 50; i++)
		u2[i] = rand_uniform(1000);
	T_TRUE(t, x == y);
	T_MEMEQ(t, u1, u2, sizeof(u1));
	rand_set_deterministic(0);
}

static void test_system_stream(struct tctx *t)
{
	uint8_t a[32], b[32], zero[32] = { 0 };

	rand_set_deterministic(5);
	rand_set_deterministic(0);	/* back to libsodium */
	rand_bytes(a, sizeof(a));
	rand_bytes(b, sizeof(b));
	T_TRUE(t, memcmp(a, b, sizeof(a)) != 0);
	T_TRUE(t, memcmp(a, zero, sizeof(a)) != 0);
	rand_set_deterministic(5);
	rand_bytes(b, sizeof(b));
	T_TRUE(t, memcmp(a, b, sizeof(a)) != 0);
	rand_set_deterministic(0);
}

static void test_uniform_range(struct tctx *t)
{
	unsigned seen[7] = { 0 };
	bool in_range = true;

	rand_set_deterministic(11);
	for (int i = 0; i < 7000; i++) {
		uint32_t v = rand_uniform(7);

		if (v >= 7)
			in_range = false;
		else
			seen[v]++;
	}
	T_TRUE(t, in_range);
	for (int i = 0; i < 7; i++)
		T_TRUE(t, seen[i] > 700 && seen[i] < 1300);
	T_EQ(t, rand_uniform(1), 0);
	T_TRUE(t, rand_uniform(UINT32_MAX) < UINT32_MAX);
	rand_set_deterministic(0);
}

/* After fork() parent and child must not continue the same stream. */
static void test_fork_diverges(struct tctx *t)
{
	uint8_t warm[16], mine[32], theirs[32];
	int fds[2];
	pid_t pid;

	rand_bytes(warm, sizeof(warm));	/* buffered state exists before fork */
	T_EQ(t, pipe(fds), 0);
	pid = fork();
	T_TRUE(t, pid >= 0);
	if (pid == 0) {
		rand_bytes(theirs, sizeof(theirs));
		_exit(write(fds[1], theirs, sizeof(theirs)) == sizeof(theirs) ? 0 : 1);
	}
	rand_bytes(mine, sizeof(mine));
	T_EQ(t, read(fds[0], theirs, sizeof(theirs)), sizeof(theirs));
	waitpid(pid, NULL, 0);
	close(fds[0]);
	close(fds[1]);
	T_TRUE(t, memcmp(mine, theirs, sizeof(mine)) != 0);
}

/* Small reads (the buffered path) across many refills and reseeds: no
 * repeats of 16-byte values and every byte value shows up about evenly. */
static void test_buffered_stream(struct tctx *t)
{
	enum { N = 70000 };	/* > RAND_FKE_RESEED_BYTES / 16 */
	static uint8_t v[N][16];
	static uint8_t len[N];
	unsigned long count[256] = { 0 }, total = 0;
	size_t dups = 0;

	for (size_t i = 0; i < N; i++) {
		len[i] = (i % 3) ? 16 : (uint8_t)(7 + i % 9);
		rand_bytes(v[i], len[i]);
		for (size_t j = 0; j < len[i]; j++)
			count[v[i][j]]++;
		total += len[i];
	}
	for (size_t i = 1; i < N; i++)
		dups += len[i] == 16 && len[i - 1] == 16 &&
			memcmp(v[i], v[i - 1], 16) == 0;
	T_EQ(t, dups, 0);
	for (unsigned b = 0; b < 256; b++) {
		/* expected total/256 (~3900, sd ~ 62): 10 sd either way */
		double e = total / 256.0;
		T_TRUE(t, count[b] > e - 620 && count[b] < e + 620);
	}
}

const struct test_case rand_tests[] = {
	{ "fork_diverges", test_fork_diverges, TT_FORK },
	{ "buffered_stream", test_buffered_stream, TT_FORK },
	{ "deterministic_repeats", test_deterministic_repeats, TT_FORK },
	{ "deterministic_derived", test_deterministic_derived, TT_FORK },
	{ "system_stream", test_system_stream, TT_FORK },
	{ "uniform_range", test_uniform_range, TT_FORK },
	{ NULL, NULL, 0 }
};
