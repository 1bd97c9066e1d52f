/*
 * router/membudget: the levels at 75, 90 and 100 % of the budget, the
 * hysteresis on the way down, readings at most once a second, no budget,
 * and that the heap reading follows a real allocation.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/membudget.h"

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
	/* no budget: not even read */
	membudget_init(&mb, 0);
	mb.read = fake_read;
	mb.read_ctx = &heap;
	heap = 1u << 30;
	T_EQ(t, membudget_update(&mb, 0, true), MEM_OK);
	T_EQ(t, mb.in_use, 0);
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
	{ "heap_reading", test_heap_reading, TT_FORK },
	{ NULL, NULL, 0 }
};
