/* Token buckets, single and keyed (router/ratelim.h). */
#include "config.h"
#include "router/ratelim.h"

#include "crypto/base/alloc.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"

#include <stdlib.h>
#include <string.h>

bool tbucket_take(struct tbucket *b, unsigned per_min, unsigned burst,
		  uint64_t mono_ms)
{
	uint64_t cap;

	if (per_min == 0)
		return true;
	cap = (uint64_t)(burst ? burst : 1) * 1000;
	if (!b->primed) {
		b->primed = true;
		b->milli = cap;
		b->last_ms = mono_ms;
	} else if (mono_ms > b->last_ms) {
		/* per_min tokens a minute: per_min / 60 milli-tokens a ms. */
		uint64_t dt = mono_ms - b->last_ms;
		uint64_t add = dt >= 60000 ? cap : dt * per_min / 60;

		b->milli = b->milli + add > cap ? cap : b->milli + add;
		b->last_ms = mono_ms;
	}
	if (b->milli < 1000)
		return false;
	b->milli -= 1000;
	return true;
}

unsigned ratelim_burst(unsigned per_min)
{
	return per_min / 6 > 10 ? per_min / 6 : 10;
}

struct slot {
	uint8_t key[RATELIM_KEY_MAX_BYTES];
	uint8_t len;
	bool used;
	uint64_t touched_ms;
	struct tbucket b;
};

struct ratelim {
	uint8_t sip[SIPHASH_KEY_BYTES];
	unsigned per_min, burst;
	size_t n_sets;
	struct slot *slots;	/* n_sets × RATELIM_WAYS */
};

struct ratelim *ratelim_new(size_t max_keys, unsigned per_min,
			    unsigned burst)
{
	struct ratelim *rl = xzalloc(sizeof(*rl));

	rand_bytes(rl->sip, sizeof(rl->sip));
	rl->n_sets = (max_keys + RATELIM_WAYS - 1) / RATELIM_WAYS;
	if (rl->n_sets == 0)
		rl->n_sets = 1;
	rl->slots = xcalloc(rl->n_sets * RATELIM_WAYS, sizeof(*rl->slots));
	ratelim_set(rl, per_min, burst);
	return rl;
}

void ratelim_free(struct ratelim *rl)
{
	if (!rl)
		return;
	free(rl->slots);
	free(rl);
}

void ratelim_set(struct ratelim *rl, unsigned per_min, unsigned burst)
{
	rl->per_min = per_min;
	rl->burst = burst;
}

bool ratelim_take(struct ratelim *rl, const void *key, size_t len,
		  uint64_t mono_ms)
{
	struct slot *set, *s = NULL;

	if (rl->per_min == 0)
		return true;
	if (len > RATELIM_KEY_MAX_BYTES)
		len = RATELIM_KEY_MAX_BYTES;
	set = &rl->slots[(siphash24_u64(rl->sip, key, len) % rl->n_sets) *
			 RATELIM_WAYS];
	for (size_t i = 0; i < RATELIM_WAYS; i++) {
		struct slot *c = &set[i];

		if (c->used && c->len == len && memcmp(c->key, key, len) == 0) {
			s = c;
			break;
		}
		/* else the free slot, or the one used longest ago */
		if (!s || (s->used && (!c->used ||
				       c->touched_ms < s->touched_ms)))
			s = c;
	}
	if (!s->used || s->len != len || memcmp(s->key, key, len) != 0) {
		memset(s, 0, sizeof(*s));
		memcpy(s->key, key, len);
		s->len = (uint8_t)len;
		s->used = true;
	}
	s->touched_ms = mono_ms;
	return tbucket_take(&s->b, rl->per_min, rl->burst, mono_ms);
}

size_t ratelim_count(const struct ratelim *rl)
{
	size_t n = 0;

	for (size_t i = 0; i < rl->n_sets * RATELIM_WAYS; i++)
		n += rl->slots[i].used;
	return n;
}
