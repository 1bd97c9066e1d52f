/*
 * libFuzzer target: the swarm tracker's saved table (DATADIR/tracker.dat,
 * swarm_tracker_decode, apps/swarm/swarm.h).  Properties: no read past the
 * input; an accepted table is exactly its header and whole entries, each
 * handed over once.
 */
#include "config.h"
#include "apps/swarm/swarm.h"
#include "crypto/base/err.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(void *ctx, const uint8_t hash[32], const uint8_t dest[32],
		  uint32_t age_ms)
{
	volatile uint8_t sink = hash[31] ^ dest[31] ^ (uint8_t)age_ms;

	(void)sink;
	++*(size_t *)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	int r = swarm_tracker_decode(data, size, count, &n);

	if (r == 0 && size != 12 + 68 * n)
		abort();
	if (r != 0 && (r != ERR_FORMAT || n != 0))
		abort();
	return 0;
}
