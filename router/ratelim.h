/*
 * Token buckets: one (struct tbucket) or one per key (struct ratelim).
 *
 * A bucket holds up to `burst` tokens and gains `per_min` a minute; each
 * event takes one.  The keyed table has a fixed size chosen at creation:
 * keys (a router hash, an IP address) hash with a random SipHash key into
 * sets of RATELIM_WAYS slots, and a new key takes the slot in its set
 * used longest ago.  A peer cannot aim its keys at one set, and a
 * flood of keys costs memory only up to the table's size; an evicted key
 * comes back with a full bucket, so the global limit beside a keyed one
 * is what bounds many keys together.
 *
 * Used for the limits of the [limits] section (router/conf.h): inbound
 * handshakes per address, tunnel build requests per previous hop.
 */
#ifndef ROUTER_RATELIM_H
#define ROUTER_RATELIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIM_KEY_MAX_BYTES 32
#define RATELIM_WAYS 4

struct tbucket {
	uint64_t milli;		/* tokens × 1000 */
	uint64_t last_ms;	/* monotonic time of the last refill */
	bool primed;		/* full at the first take */
};

/* Take a token from b: false when empty (nothing taken).  per_min 0: no
 * limit (always true).  burst 0 counts as 1. */
bool tbucket_take(struct tbucket *b, unsigned per_min, unsigned burst,
		  uint64_t mono_ms);

/* The burst the [limits] rates use: a sixth of a minute's, at least 10. */
unsigned ratelim_burst(unsigned per_min);

struct ratelim;		/* opaque */

/* Room for at least max_keys keys (rounded up to whole sets). */
struct ratelim *ratelim_new(size_t max_keys, unsigned per_min,
			    unsigned burst);
void ratelim_free(struct ratelim *rl);
void ratelim_set(struct ratelim *rl, unsigned per_min, unsigned burst);
/* Take a token for key (len ≤ RATELIM_KEY_MAX_BYTES; longer keys use
 * their first RATELIM_KEY_MAX_BYTES): false when its bucket is empty.
 * Always true while per_min is 0. */
bool ratelim_take(struct ratelim *rl, const void *key, size_t len,
		  uint64_t mono_ms);
/* Keys remembered now (tests). */
size_t ratelim_count(const struct ratelim *rl);

#endif /* ROUTER_RATELIM_H */
