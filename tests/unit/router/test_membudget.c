/*
 * router/membudget: the levels at 75, 90 and 100 % of the budget, the
 * hysteresis on the way down, readings at most once a second, no budget,
 * and that the heap reading follows a real allocation.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/membudget.h"
#include "router/i2np.h"

#include <stdlib.h>
#include <string.h>

static void test_levels(struct tctx *t)
{
	const size_t b = 1000;

	T_EQ(t, membudget_level(b, 0, MEM_OK), MEM_OK);
	T_EQ(t, membudget_level(b, 749, MEM_OK), MEM_OK);
	T_EQ(t, membudget_level(b, 750, MEM_OK), MEM_NO_NEW_TRANSIT);
	T_EQ(t, membudget_level(b, 899, MEM_OK), MEM_NO_NEW_TRANSIT);
	T_EQ(t, membudget_level(b, 900, MEM_OK), MEM_SHED_TRANSIT);
	T_EQ(t, membudget_level(b, 1000, MEM_OK), MEM_OVER);
	T_EQ(t, membudget_level(b, 5000, MEM_OK), MEM_OVER);
	/* on the way down each level holds until 5 % below it */
	T_EQ(t, membudget_level(b, 960, MEM_OVER), MEM_OVER);
	T_EQ(t, membudget_level(b, 949, MEM_OVER), MEM_SHED_TRANSIT);
	T_EQ(t, membudget_level(b, 860, MEM_SHED_TRANSIT), MEM_SHED_TRANSIT);
	T_EQ(t, membudget_level(b, 849, MEM_SHED_TRANSIT),
	     MEM_NO_NEW_TRANSIT);
	T_EQ(t, membudget_level(b, 710, MEM_NO_NEW_TRANSIT),
	     MEM_NO_NEW_TRANSIT);
	T_EQ(t, membudget_level(b, 699, MEM_NO_NEW_TRANSIT), MEM_OK);
	/* and a level above the one we are at needs its full threshold */
	T_EQ(t, membudget_level(b, 899, MEM_NO_NEW_TRANSIT),
	     MEM_NO_NEW_TRANSIT);
	/* no budget: never shed */
	T_EQ(t, membudget_level(0, 1u << 30, MEM_OK), MEM_OK);
}

static size_t fake_read(void *ctx)
{
	return *(size_t *)ctx;
}

static void test_update(struct tctx *t)
{
	struct membudget mb;
	size_t heap = 100;

	membudget_init(&mb, 1000);
	mb.read = fake_read;
	mb.read_ctx = &heap;
	T_EQ(t, membudget_update(&mb, 0, false), MEM_OK);
	heap = 950;
	/* read at most once a second */
	T_EQ(t, membudget_update(&mb, 500, false), MEM_OK);
	T_EQ(t, membudget_update(&mb, 1000, false), MEM_SHED_TRANSIT);
	T_EQ(t, mb.in_use, 950);
	heap = 1200;
	T_EQ(t, membudget_update(&mb, 1100, true), MEM_OVER);
	heap = 300;
	T_EQ(t, membudget_update(&mb, 2100, false), MEM_OK);
	T_EQ(t, mb.peak, 1200);
	T_EQ(t, mb.changes, 3);
	/* the allocator trimmed once a minute of readings */
	T_EQ(t, mb.trims, 0);
	T_EQ(t, membudget_update(&mb, 60000, false), MEM_OK);
	T_EQ(t, mb.trims, 1);
	T_EQ(t, membudget_update(&mb, 119000, false), MEM_OK);
	T_EQ(t, mb.trims, 1);
	T_EQ(t, membudget_update(&mb, 120000, false), MEM_OK);
	T_EQ(t, mb.trims, 2);
	/* no budget: not even read */
	membudget_init(&mb, 0);
	mb.read = fake_read;
	mb.read_ctx = &heap;
	heap = 1u << 30;
	T_EQ(t, membudget_update(&mb, 0, true), MEM_OK);
	T_EQ(t, mb.in_use, 0);
}

/* A rise to MEM_OVER empties the loop thread's cache of freed I2NP
 * messages (up to I2NP_POOL_MAX messages and buffers, about 280 KiB)
 * before malloc_trim(): it was not tied to the budget at all. */
static void test_over_trims_i2np_pool(struct tctx *t)
{
	struct membudget mb;
	size_t heap = 100;

	for (int i = 0; i < 10; i++)
		i2np_msg_free(i2np_msg_make(I2NP_TUNNEL_DATA, 1028));
	T_EQ(t, i2np_pool_held(), i2np_pool_enabled ? 1 : 0);
	membudget_init(&mb, 1000);
	mb.read = fake_read;
	mb.read_ctx = &heap;
	T_EQ(t, membudget_update(&mb, 0, true), MEM_OK);
	heap = 990;
	T_EQ(t, membudget_update(&mb, 1000, true), MEM_SHED_TRANSIT);
	T_EQ(t, i2np_pool_held(), i2np_pool_enabled ? 1 : 0);
	heap = 1100;
	T_EQ(t, membudget_update(&mb, 2000, true), MEM_OVER);
	T_EQ(t, i2np_pool_held(), 0);
}

/* Where the test's block is kept: the compiler may not drop an
 * allocation that escapes (clang removes a malloc, memset, free). */
static char *volatile kept;

static void test_heap_reading(struct tctx *t)
{
	size_t before = mem_heap_in_use(), after;
	char *p;

	T_TRUE(t, before > 0);
	p = malloc(8u << 20);
	T_TRUE(t, p != NULL);
	if (!p)
		return;
	memset(p, 1, 8u << 20);
	kept = p;
	after = mem_heap_in_use();
	T_TRUE(t, after >= before + (8u << 20) - (1u << 20));
	free(kept);
	kept = NULL;
	T_TRUE(t, mem_heap_in_use() + (7u << 20) <= after);
}

const struct test_case router_membudget_tests[] = {
	{ "levels", test_levels, 0 },
	{ "update", test_update, 0 },
	{ "over_trims_i2np_pool", test_over_trims_i2np_pool, TT_FORK },
	{ "heap_reading", test_heap_reading, TT_FORK },
	{ NULL, NULL, 0 }
};
