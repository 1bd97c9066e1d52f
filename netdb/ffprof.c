/*
 * Floodfill profiles (netdb/ffprof.h): points per floodfill in a keymap,
 * with an array beside it to count and to pick the entry to evict.
 */
#include "config.h"
#include "netdb/ffprof.h"
#include "netdb/keymap.h"
#include "crypto/base/alloc.h"

#include <stdlib.h>
#include <string.h>

struct ffent {
	uint8_t hash[32];
	uint32_t good, bad;		/* points */
	uint64_t bad_until;		/* monotonic ms; 0: not banned */
	uint64_t decay_at;		/* next halving */
	uint64_t used;			/* last event */
	size_t idx;			/* in arr */
};

struct ffprof {
	struct keymap *map;		/* hash -> struct ffent */
	struct ffent **arr;
	size_t n;
	uint64_t bans;
	uint64_t events[FFPROF_N_EVENTS];
};

static const struct {
	const char *name;
	uint8_t good, bad;
} weights[FFPROF_N_EVENTS] = {
	[FFPROF_FOUND] = { "found", 2, 0 },
	[FFPROF_ANSWERED] = { "answered", 1, 0 },
	[FFPROF_STORE_CONFIRMED] = { "store-confirmed", 1, 0 },
	[FFPROF_STORE_VERIFIED] = { "store-verified", 0, 0 },
	[FFPROF_TIMEOUT] = { "timeout", 0, 1 },
	[FFPROF_STORE_UNCONFIRMED] = { "store-unconfirmed", 0, 2 },
	[FFPROF_MISSED] = { "missed", 0, 2 },
	[FFPROF_JUNK] = { "junk", 0, 8 },
	[FFPROF_STORE_LOST] = { "store-lost", 0, 6 },
};

struct ffprof *ffprof_new(void)
{
	struct ffprof *p = xzalloc(sizeof(*p));

	p->map = keymap_new();
	p->arr = xzalloc(FFPROF_MAX * sizeof(*p->arr));
	return p;
}

void ffprof_free(struct ffprof *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->arr[i]);
	free(p->arr);
	keymap_free(p->map);
	free(p);
}

const char *ffprof_event_name(enum ffprof_event ev)
{
	return (unsigned)ev < FFPROF_N_EVENTS ? weights[ev].name : "?";
}

static bool banned(const struct ffent *e, uint64_t now_ms)
{
	return e->bad_until > now_ms;
}

/* Make room: drop the least recently used entry that is not banned
 * (false when every one is). */
static bool evict(struct ffprof *p, uint64_t now_ms)
{
	struct ffent *victim = NULL, *last;

	for (size_t i = 0; i < p->n; i++)
		if (!banned(p->arr[i], now_ms) &&
		    (!victim || p->arr[i]->used < victim->used))
			victim = p->arr[i];
	if (!victim)
		return false;
	keymap_remove(p->map, victim->hash);
	last = p->arr[--p->n];
	p->arr[victim->idx] = last;
	last->idx = victim->idx;
	free(victim);
	return true;
}

static struct ffent *entry(struct ffprof *p, const uint8_t ff[32],
			   uint64_t now_ms)
{
	struct ffent *e = keymap_get(p->map, ff);

	if (e)
		return e;
	if (p->n == FFPROF_MAX && !evict(p, now_ms))
		return NULL;
	e = xzalloc(sizeof(*e));
	memcpy(e->hash, ff, 32);
	e->decay_at = now_ms + FFPROF_DECAY_MS;
	e->idx = p->n;
	p->arr[p->n++] = e;
	keymap_put(p->map, e->hash, e);
	return e;
}

bool ffprof_note(struct ffprof *p, const uint8_t ff[32],
		 enum ffprof_event ev, uint64_t now_ms)
{
	struct ffent *e;

	if ((unsigned)ev >= FFPROF_N_EVENTS)
		return false;
	p->events[ev]++;
	if (!(e = entry(p, ff, now_ms)))
		return false;
	e->used = now_ms;
	while (e->decay_at <= now_ms) {
		e->good /= 2;
		e->bad /= 2;
		e->decay_at += FFPROF_DECAY_MS;
	}
	/* A ban that ended: back with half the bad points. */
	if (e->bad_until && !banned(e, now_ms)) {
		e->bad_until = 0;
		e->bad /= 2;
		e->good = 0;
	}
	e->good += weights[ev].good;
	e->bad += weights[ev].bad;
	if (banned(e, now_ms) || e->bad < FFPROF_BAD_MIN || e->bad <= e->good)
		return false;
	e->bad_until = now_ms + FFPROF_BAN_MS;
	p->bans++;
	return true;
}

bool ffprof_is_bad(const struct ffprof *p, const uint8_t ff[32],
		   uint64_t now_ms)
{
	const struct ffent *e = keymap_get(p->map, ff);

	return e && banned(e, now_ms);
}

void ffprof_stats(const struct ffprof *p, uint64_t now_ms,
		  struct ffprof_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->known = p->n;
	for (size_t i = 0; i < p->n; i++)
		out->bad += banned(p->arr[i], now_ms);
	out->bans = p->bans;
	memcpy(out->events, p->events, sizeof(out->events));
}
