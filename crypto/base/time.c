/* Wall and monotonic clocks with test overrides (crypto/base/time.h). */
#include "config.h"
#include "crypto/base/time.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic uint64_t wall_override, mono_override;

uint64_t time_now_ms(void)
{
	struct timespec ts;
	uint64_t o = wall_override;

	if (o)
		return o;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t time_now_s(void)
{
	return time_now_ms() / 1000;
}

uint64_t time_mono_ms(void)
{
	struct timespec ts;
	uint64_t o = mono_override;

	if (o)
		return o;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void time_set_override(uint64_t wall_ms)
{
	wall_override = wall_ms;
}

void time_set_mono_override(uint64_t mono_ms)
{
	mono_override = mono_ms;
}
