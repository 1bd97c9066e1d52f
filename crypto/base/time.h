/*
 * Clocks, injectable for tests (STYLE.md §8: tests never sleep).
 * Wall time is for protocol timestamps; monotonic time for deadlines.
 */
#ifndef CRYPTO_BASE_TIME_H
#define CRYPTO_BASE_TIME_H

#include <stdint.h>

/* Milliseconds since the Unix epoch (overridable). */
uint64_t time_now_ms(void);
/* Seconds since the Unix epoch (overridable). */
uint64_t time_now_s(void);
/* Milliseconds from an arbitrary monotonic origin (overridable). */
uint64_t time_mono_ms(void);
/* Tests: pin wall time to ms (0 returns to the real clock). */
void time_set_override(uint64_t wall_ms);
/* Tests: pin monotonic time to ms (0 returns to the real clock). */
void time_set_mono_override(uint64_t mono_ms);

/* The UTC date of unix time now_s as 8 ASCII digits "YYYYMMDD" and a NUL
 * (the netDb routing key and the key blinding both rotate on it). */
#define TIME_DATE_CHARS 8
void time_date_format(char out[TIME_DATE_CHARS + 1], uint64_t now_s);

#endif /* CRYPTO_BASE_TIME_H */
