/* Wall and monotonic clocks with test overrides (crypto/base/time.h). */
#include "config.h"
#include "crypto/base/time.h"

#include <stdatomic.h>
#include <string.h>
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

void time_date_format(char out[TIME_DATE_CHARS + 1], uint64_t now_s)
{
	time_t t = (time_t)now_s;
	struct tm tm;
	int y, mo, d;

	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	y = tm.tm_year + 1900;
	mo = tm.tm_mon + 1;
	d = tm.tm_mday;
	if (y < 0 || y > 9999)
		y = 0;
	/* Digits by hand: snprintf's truncation warnings get in the way. */
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = (char)('0' + mo / 10);
	out[5] = (char)('0' + mo % 10);
	out[6] = (char)('0' + d / 10);
	out[7] = (char)('0' + d % 10);
	out[8] = '\0';
}
