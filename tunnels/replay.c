/*
 * Two-generation Bloom filter (tunnels/replay.h).  It is a blocked Bloom
 * filter (Putze, Sanders & Singler): each half of h1 picks a 512-bit block
 * (a cache line), and 8 bit positions inside each come from double
 * hashing (Kirsch & Mitzenmacher), g_i = a + i·b mod 512 with a, b from
 * the same half of h2.  Two cache lines per generation per lookup, instead
 * of sixteen, keep the relay path fast.
 */
#include "config.h"
#include "tunnels/replay.h"
#include "crypto/base/alloc.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct gen {
	uint64_t *bits;
	size_t count;
	uint64_t start_ms;
	bool paged;		/* bits: whole pages (gen_zero gives them back) */
};

struct tunnel_replay {
	struct gen g[2];	/* g[cur] current, g[!cur] previous */
	unsigned cur;
	size_t words;		/* per generation */
	uint64_t mask;		/* bit index mask */
	size_t max_entries;
	uint64_t period_ms;
	uint8_t key[SIPHASH_KEY_BYTES];
	bool started;
};

static size_t page_bytes(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

/*
 * Zero a generation.  One of whole pages hands them back to the system
 * instead (they read as zeros again, and take memory once written): a
 * memset made every page resident, so at its first rotation a filter
 * grew to its full size however few keys it held (the IV filter's
 * 2 MiB, at a tunnel's lifetime into a router's life), and kept it.
 */
static void gen_zero(struct tunnel_replay *r, struct gen *g)
{
	size_t n = r->words * sizeof(uint64_t);

	if (g->paged && madvise(g->bits, n, MADV_DONTNEED) == 0)
		return;
	memset(g->bits, 0, n);
}

static void gen_alloc(struct tunnel_replay *r, struct gen *g)
{
	size_t n = r->words * sizeof(uint64_t), pg = page_bytes();
	void *p;

	if (n % pg == 0 && posix_memalign(&p, pg, n) == 0) {
		g->bits = p;
		g->paged = true;
		gen_zero(r, g);
	} else {
		g->bits = xcalloc(r->words, sizeof(uint64_t));
	}
}

struct tunnel_replay *tunnel_replay_new(size_t max_entries, uint64_t period_ms)
{
	struct tunnel_replay *r = xzalloc(sizeof(*r));
	uint64_t nbits = 512;

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
		gen_alloc(r, &r->g[i]);
	rand_bytes(r->key, sizeof(r->key));
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
	gen_zero(r, &r->g[r->cur]);
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

#define BLOCK_BITS 512
#define BLOCK_WORDS (BLOCK_BITS / 64)
/* Two blocks of 8 bits each: a single block with 16 bits has a false
 * positive rate ~80 times the classic filter's at this size; two come
 * within a few times of it (simulated: 1e-5 at 26 bits per key). */
#define BLOCKS 2
#define BITS_PER_BLOCK (TUNNEL_REPLAY_HASHES / BLOCKS)

struct probe {
	size_t block[BLOCKS];		/* word index of each block */
	uint64_t m[BLOCKS][BLOCK_WORDS];
};

static void probe_of(const struct tunnel_replay *r, uint64_t h1, uint64_t h2,
		     struct probe *p)
{
	const uint64_t nblocks_mask = r->mask / BLOCK_BITS;

	memset(p->m, 0, sizeof(p->m));
	for (unsigned j = 0; j < BLOCKS; j++) {
		uint64_t hb = h1 >> (32 * j), hm = h2 >> (32 * j);
		uint64_t a = hm & (BLOCK_BITS - 1);
		uint64_t b = ((hm >> 9) & (BLOCK_BITS - 1)) | 1;

		p->block[j] = (size_t)(hb & nblocks_mask) * BLOCK_WORDS;
		for (unsigned i = 0; i < BITS_PER_BLOCK; i++) {
			uint64_t bit = (a + i * b) & (BLOCK_BITS - 1);

			p->m[j][bit >> 6] |= 1ULL << (bit & 63);
		}
	}
}

static bool gen_has(const struct gen *g, const struct probe *p)
{
	for (unsigned j = 0; j < BLOCKS; j++) {
		const uint64_t *w = g->bits + p->block[j];

		for (unsigned i = 0; i < BLOCK_WORDS; i++)
			if ((w[i] & p->m[j][i]) != p->m[j][i])
				return false;
	}
	return true;
}

/* h1 and h2 are the two halves of one SipHash-128 under the filter's
 * random key: two independent PRF outputs, as two SipHash-64 under two
 * keys were, for a little more than the cost of one. */
static void hashes(const struct tunnel_replay *r, const void *key, size_t len,
		   uint64_t *h1, uint64_t *h2)
{
	uint64_t h[2];

	siphashx24_u128(h, r->key, key, len);
	*h1 = h[0];
	*h2 = h[1];
}

bool tunnel_replay_check(struct tunnel_replay *r, const void *key, size_t len,
			 uint64_t now_mono_ms)
{
	struct probe p;
	uint64_t h1, h2;

	maybe_rotate(r, now_mono_ms);
	hashes(r, key, len, &h1, &h2);
	probe_of(r, h1, h2, &p);
	return gen_has(&r->g[0], &p) || gen_has(&r->g[1], &p);
}

bool tunnel_replay_add(struct tunnel_replay *r, const void *key, size_t len,
		       uint64_t now_mono_ms)
{
	struct probe p;
	struct gen *c;
	uint64_t h1, h2;

	maybe_rotate(r, now_mono_ms);
	hashes(r, key, len, &h1, &h2);
	probe_of(r, h1, h2, &p);
	if (gen_has(&r->g[0], &p) || gen_has(&r->g[1], &p))
		return true;
	c = &r->g[r->cur];
	if (c->count >= r->max_entries) {
		rotate(r, now_mono_ms);
		c = &r->g[r->cur];
	}
	for (unsigned j = 0; j < BLOCKS; j++)
		for (unsigned i = 0; i < BLOCK_WORDS; i++)
			c->bits[p.block[j] + i] |= p.m[j][i];
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

size_t tunnel_replay_resident(const struct tunnel_replay *r)
{
	size_t n = r->words * sizeof(uint64_t), pg = page_bytes();
	size_t pages = n / pg, sum = 0;
	unsigned char *v;

	for (unsigned i = 0; i < 2; i++) {
		if (!r->g[i].paged) {
			sum += n;
			continue;
		}
		v = xmalloc(pages);
		if (mincore(r->g[i].bits, n, v) != 0)
			memset(v, 1, pages);
		for (size_t k = 0; k < pages; k++)
			sum += (v[k] & 1) ? pg : 0;
		free(v);
	}
	return sum;
}
