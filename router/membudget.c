/* The memory budget (router/membudget.h). */
#include "config.h"
#include "router/membudget.h"
#include "router/i2np.h"

#include "crypto/base/log.h"

#include <malloc.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BITS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define BITS_ASAN 1
#endif

#ifdef BITS_ASAN
#include <sanitizer/allocator_interface.h>
#endif

size_t mem_heap_in_use(void)
{
#ifdef BITS_ASAN
	return __sanitizer_get_current_allocated_bytes();
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
#else
	return 0;
#endif
}

void membudget_init(struct membudget *mb, size_t budget_bytes)
{
	memset(mb, 0, sizeof(*mb));
	mb->budget = budget_bytes;
}

static const unsigned threshold_pct[] = {
	[MEM_NO_NEW_TRANSIT] = MEMBUDGET_NO_NEW_TRANSIT_PCT,
	[MEM_SHED_TRANSIT] = MEMBUDGET_SHED_TRANSIT_PCT,
	[MEM_OVER] = 100,
};

enum mem_level membudget_level(size_t budget, size_t in_use,
			       enum mem_level was)
{
	enum mem_level l = MEM_OK;

	if (budget == 0)
		return MEM_OK;
	/* The highest level whose threshold is reached; a level we are at
	 * is kept until the reading falls MEMBUDGET_HYSTERESIS_PCT below
	 * its threshold. */
	for (int i = MEM_OVER; i > MEM_OK; i--) {
		unsigned pct = threshold_pct[i];

		if (i <= (int)was && pct > MEMBUDGET_HYSTERESIS_PCT)
			pct -= MEMBUDGET_HYSTERESIS_PCT;
		if ((uint64_t)in_use * 100 >= (uint64_t)budget * pct) {
			l = (enum mem_level)i;
			break;
		}
	}
	return l;
}

const char *mem_level_name(enum mem_level l)
{
	switch (l) {
	case MEM_OK: return "ok";
	case MEM_NO_NEW_TRANSIT: return "no new transit";
	case MEM_SHED_TRANSIT: return "shedding transit";
	case MEM_OVER: return "over budget";
	}
	return "?";
}

enum mem_level membudget_update(struct membudget *mb, uint64_t mono_ms,
				bool force)
{
	enum mem_level l;

	if (mb->budget == 0)
		return MEM_OK;
	if (!force && mb->read_once &&
	    mono_ms < mb->read_ms + MEMBUDGET_READ_EVERY_MS)
		return mb->level;
	mb->read_once = true;
	mb->read_ms = mono_ms;
	mb->in_use = mb->read ? mb->read(mb->read_ctx) : mem_heap_in_use();
	if (mb->in_use > mb->peak)
		mb->peak = mb->in_use;
	if (mono_ms >= mb->trim_ms + MEMBUDGET_TRIM_EVERY_MS) {
		mb->trim_ms = mono_ms;
		mb->trims++;
#ifdef __GLIBC__
		(void)malloc_trim(0);
#endif
	}
	l = membudget_level(mb->budget, mb->in_use, mb->level);
	if (l != mb->level) {
		mb->changes++;
		if (l > mb->level)
			log_warn(LD_GENERAL, "memory: %zu KiB of a %zu KiB "
				 "budget: %s", mb->in_use / 1024,
				 mb->budget / 1024, mem_level_name(l));
		else
			log_notice(LD_GENERAL, "memory: %zu KiB of a %zu KiB "
				   "budget: %s", mb->in_use / 1024,
				   mb->budget / 1024, mem_level_name(l));
		if (l == MEM_OVER)
			i2np_pool_trim();
#ifdef __GLIBC__
		if (l == MEM_OVER)
			(void)malloc_trim(0);
#endif
		mb->level = l;
	}
	return l;
}
