/*
 * Two-generation Bloom filter (tunnels/replay.h).  The k bit positions
 * come from double hashing (Kirsch & Mitzenmacher): g_i = h1 + i·h2 over
 * a power-of-two bit array, with h1, h2 the two halves of a keyed hash.
 */
#include "config.h"
#include "tunnels/replay.h"
#include "crypto/base/alloc.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"

#include <stdlib.h>
#include <string.h>

struct gen {
	uint64_t *bits;
	size_t count;
	uint64_t start_ms;
};

struct tunnel_replay {
	struct gen g[2];	/* g[cur] current, g[!cur] previous */
	unsigned cur;
	size_t words;		/* per generation */
	uint64_t mask;		/* bit index mask */
	size_t max_entries;
	uint64_t period_ms;
	uint8_t key1[SIPHASH_KEY_BYTES], key2[SIPHASH_KEY_BYTES];
	bool started;
};

struct tunnel_replay *tunnel_replay_new(size_t max_entries, uint64_t period_ms)
{
	struct tunnel_replay *r = xzalloc(sizeof(*r));
	uint64_t nbits = 64;

	if (max_entries < 1)
		max_entries = 1;
	if (max_entries > TUNNEL_REPLAY_MAX_ENTRIES)
		max_entries = TUNNEL_REPLAY_MAX_ENTRIES;
	while (nbits < (uint64_t)max_entries * TUNNEL_REPLAY_BITS_PER_ENTRY)
		nbits <<= 1;
	r->words = (size_t)(nbits / 64);
	r->mask = nbits - 1;
	r->max_entries = max_entries;
	r->period_ms = period_ms ? period_ms : 1;
	for (unsigned i = 0; i < 2; i++)
		r->g[i].bits = xcalloc(r->words, sizeof(uint64_t));
	rand_bytes(r->key1, sizeof(r->key1));
	rand_bytes(r->key2, sizeof(r->key2));
	return r;
}

void tunnel_replay_free(struct tunnel_replay *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < 2; i++)
		free(r->g[i].bits);
	memwipe(r, sizeof(*r));
	free(r);
}

/* Age out: the current generation becomes the previous one. */
static void rotate(struct tunnel_replay *r, uint64_t now)
{
	r->cur ^= 1;
	memset(r->g[r->cur].bits, 0, r->words * sizeof(uint64_t));
	r->g[r->cur].count = 0;
	r->g[r->cur].start_ms = now;
}

/*
 * Rotation is lazy, on use: a key goes in while its generation is younger
 * than period_ms, and that generation is wiped only at the rotation after
 * the next one, which comes at least period_ms after the first.  So every
 * key is remembered for at least period_ms.
 */
static void maybe_rotate(struct tunnel_replay *r, uint64_t now)
{
	const struct gen *c = &r->g[r->cur];

	if (!r->started) {
		r->started = true;
		r->g[0].start_ms = r->g[1].start_ms = now;
		return;
	}
	/* A clock that went backwards counts as a full period. */
	if (now < c->start_ms || now - c->start_ms >= r->period_ms)
		rotate(r, now);
}

static bool gen_has(const struct tunnel_replay *r, const struct gen *g,
		    uint64_t h1, uint64_t h2)
{
	for (unsigned i = 0; i < TUNNEL_REPLAY_HASHES; i++) {
		uint64_t b = (h1 + i * h2) & r->mask;

		if (!(g->bits[b >> 6] & (1ULL << (b & 63))))
			return false;
	}
	return true;
}

static void hashes(const struct tunnel_replay *r, const void *key, size_t len,
		   uint64_t *h1, uint64_t *h2)
{
	*h1 = siphash24_u64(r->key1, key, len);
	*h2 = siphash24_u64(r->key2, key, len) | 1;	/* odd: full cycle */
}

bool tunnel_replay_check(struct tunnel_replay *r, const void *key, size_t len,
			 uint64_t now_mono_ms)
{
	uint64_t h1, h2;

	maybe_rotate(r, now_mono_ms);
	hashes(r, key, len, &h1, &h2);
	return gen_has(r, &r->g[0], h1, h2) || gen_has(r, &r->g[1], h1, h2);
}

bool tunnel_replay_add(struct tunnel_replay *r, const void *key, size_t len,
		       uint64_t now_mono_ms)
{
	struct gen *c;
	uint64_t h1, h2;

	maybe_rotate(r, now_mono_ms);
	hashes(r, key, len, &h1, &h2);
	if (gen_has(r, &r->g[0], h1, h2) || gen_has(r, &r->g[1], h1, h2))
		return true;
	c = &r->g[r->cur];
	if (c->count >= r->max_entries) {
		rotate(r, now_mono_ms);
		c = &r->g[r->cur];
	}
	for (unsigned i = 0; i < TUNNEL_REPLAY_HASHES; i++) {
		uint64_t b = (h1 + i * h2) & r->mask;

		c->bits[b >> 6] |= 1ULL << (b & 63);
	}
	c->count++;
	return false;
}

size_t tunnel_replay_count(const struct tunnel_replay *r)
{
	return r->g[r->cur].count;
}

size_t tunnel_replay_bytes(const struct tunnel_replay *r)
{
	return 2 * r->words * sizeof(uint64_t);
}
