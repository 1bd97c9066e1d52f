/*
 * The memory budget ([limits] memory, docs/limits.md): how much heap the
 * router uses against the budget, and what to shed.
 *
 * Heap in use is what the allocator has handed out and not had back
 * (glibc's mallinfo2(); under AddressSanitizer its own count, since its
 * shadow and quarantine are not ours), read at most once a second.  The
 * levels, in order: at 75 % of the budget no new transit tunnels are
 * joined; at 90 % transit traffic is dropped as well; at 100 % freed
 * memory is also handed back to the system (the calling thread's cache
 * of freed I2NP messages, router/i2np.h, emptied first).  Our own tunnels, streams and
 * lookups are never shed (inbound sessions included: our inbound tunnels'
 * gateways reach us through them): they are what the user runs the
 * router for, and with transit gone they are bounded by the other
 * limits.
 */
#ifndef ROUTER_MEMBUDGET_H
#define ROUTER_MEMBUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mem_level {
	MEM_OK,
	MEM_NO_NEW_TRANSIT,	/* ≥ 75 %: refuse transit builds */
	MEM_SHED_TRANSIT,	/* ≥ 90 %: drop transit traffic too */
	MEM_OVER,		/* ≥ 100 %: and trim the allocator */
};
#define MEMBUDGET_NO_NEW_TRANSIT_PCT 75
#define MEMBUDGET_SHED_TRANSIT_PCT 90
/* Once shedding, back to a lower level only below it by this much (no
 * flapping around a threshold). */
#define MEMBUDGET_HYSTERESIS_PCT 5
#define MEMBUDGET_READ_EVERY_MS 1000
/* A reading this long after the last trim also hands the allocator's
 * free pages back (glibc's malloc_trim(0)): memory freed inside its
 * arenas stays resident otherwise, and in tools/soak a bitsd's RSS crept
 * up by 0.1-0.4 MiB a minute while its heap in use stayed flat. */
#define MEMBUDGET_TRIM_EVERY_MS 60000

/* Bytes of heap in use now (0 when the allocator cannot tell). */
size_t mem_heap_in_use(void);

struct membudget {
	size_t budget;		/* bytes; 0: no budget (always MEM_OK) */
	enum mem_level level;
	size_t in_use, peak;	/* at the last reading */
	uint64_t read_ms;	/* monotonic time of the last reading */
	bool read_once;
	uint64_t changes;	/* level changes since start */
	uint64_t trim_ms;	/* monotonic time of the last trim */
	uint64_t trims;		/* trims since start */
	/* The reading; tests replace it.  NULL: mem_heap_in_use(). */
	size_t (*read)(void *ctx);
	void *read_ctx;
};

void membudget_init(struct membudget *mb, size_t budget_bytes);
/* Read the heap (at most once per MEMBUDGET_READ_EVERY_MS, or now when
 * force) and return the level; a rise to MEM_OVER empties this thread's
 * I2NP message cache and hands freed memory back to the system, as a
 * reading MEMBUDGET_TRIM_EVERY_MS after the last trim does too. */
enum mem_level membudget_update(struct membudget *mb, uint64_t mono_ms,
				bool force);
/* The level for a reading of in_use bytes after the level `was`. */
enum mem_level membudget_level(size_t budget, size_t in_use,
			       enum mem_level was);
const char *mem_level_name(enum mem_level l);

#endif /* ROUTER_MEMBUDGET_H */
