/*
 * Query isolation: a destination per address (apps/market/iso.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/market/iso.h"
#include "crypto/base/alloc.h"

struct iso_slot {
	uint8_t key[MARKET_ISO_KEY_BYTES];
	void *dest;			/* NULL: a free place */
	unsigned taken;
	uint64_t last_ms;		/* the last put (or take) */
};

struct market_iso {
	struct market_iso_hooks h;
	unsigned max;
	uint32_t idle_ms;
	uint64_t opened;
	struct iso_slot slots[];
};

struct market_iso *market_iso_new(const struct market_iso_hooks *h,
				  unsigned max, uint32_t idle_ms)
{
	struct market_iso *iso;

	if (max == 0 || max > MARKET_ISO_LIMIT)
		return NULL;
	iso = xzalloc(sizeof(*iso) + max * sizeof(iso->slots[0]));
	iso->h = *h;
	iso->max = max;
	iso->idle_ms = idle_ms;
	return iso;
}

static void slot_close(struct market_iso *iso, struct iso_slot *s)
{
	void *d = s->dest;

	memset(s, 0, sizeof(*s));
	iso->h.close(iso->h.ctx, d);
}

void market_iso_free(struct market_iso *iso)
{
	if (!iso)
		return;
	for (unsigned i = 0; i < iso->max; i++)
		if (iso->slots[i].dest)
			slot_close(iso, &iso->slots[i]);
	free(iso);
}

void *market_iso_take(struct market_iso *iso,
		      const uint8_t key[MARKET_ISO_KEY_BYTES], uint64_t now_ms)
{
	struct iso_slot *s, *place = NULL;

	for (unsigned i = 0; i < iso->max; i++) {
		s = &iso->slots[i];
		if (s->dest && memcmp(s->key, key, sizeof(s->key)) == 0) {
			s->taken++;
			s->last_ms = now_ms;
			return s->dest;
		}
		if (!s->dest) {
			if (!place || place->dest)
				place = s;	/* a free place first */
		} else if (!s->taken && (!place || (place->dest &&
				       s->last_ms < place->last_ms))) {
			place = s;		/* else the longest idle */
		}
	}
	if (!place)
		return NULL;
	if (place->dest)
		slot_close(iso, place);
	if (!(place->dest = iso->h.open(iso->h.ctx, key)))
		return NULL;
	iso->opened++;
	memcpy(place->key, key, sizeof(place->key));
	place->taken = 1;
	place->last_ms = now_ms;
	return place->dest;
}

void market_iso_put(struct market_iso *iso, void *dest, uint64_t now_ms)
{
	for (unsigned i = 0; i < iso->max; i++) {
		struct iso_slot *s = &iso->slots[i];
		if (s->dest == dest && s->taken) {
			s->taken--;
			s->last_ms = now_ms;
			return;
		}
	}
}

unsigned market_iso_expire(struct market_iso *iso, uint64_t now_ms)
{
	unsigned n = 0;

	for (unsigned i = 0; i < iso->max; i++) {
		struct iso_slot *s = &iso->slots[i];
		if (s->dest && !s->taken && now_ms >= s->last_ms &&
		    now_ms - s->last_ms >= iso->idle_ms) {
			slot_close(iso, s);
			n++;
		}
	}
	return n;
}

unsigned market_iso_open_count(const struct market_iso *iso)
{
	unsigned n = 0;

	for (unsigned i = 0; iso && i < iso->max; i++)
		n += iso->slots[i].dest != NULL;
	return n;
}

uint64_t market_iso_opened_total(const struct market_iso *iso)
{
	return iso ? iso->opened : 0;
}

void market_iso_each(struct market_iso *iso,
		     void (*fn)(void *arg, void *dest), void *arg)
{
	for (unsigned i = 0; iso && i < iso->max; i++)
		if (iso->slots[i].dest)
			fn(arg, iso->slots[i].dest);
}
