/*
 * The netDb's Kademlia metric (network-database page, "Kademlia Closeness
 * Metric"; PROTOCOLS.md 2.6): routing keys, XOR distance and picking the
 * entries closest to a key.
 *
 * "the SHA256 hash is taken of the 32-byte binary search key appended
 * with the UTC date represented as an 8-byte ASCII string yyyyMMdd ...
 * it changes every day at midnight UTC.  Only the search key is modified
 * in this way, not the floodfill router hashes."  Distances compare as
 * 256-bit big-endian numbers (memcmp order).
 *
 * Pure functions; thread-safe.
 */
#ifndef NETDB_ROUTING_H
#define NETDB_ROUTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETDB_HASH_BYTES 32
/* "yyyyMMdd" */
#define NETDB_DATE_CHARS 8
#define NETDB_DAY_MS (24ULL * 60 * 60 * 1000)

/* The UTC date of now_ms as "yyyyMMdd" (out gets 8 chars and a NUL). */
void netdb_routing_date(uint64_t now_ms, char out[NETDB_DATE_CHARS + 1]);
/* out = SHA-256(key ‖ yyyyMMdd of now_ms). */
void netdb_routing_key(const uint8_t key[NETDB_HASH_BYTES], uint64_t now_ms,
		       uint8_t out[NETDB_HASH_BYTES]);
/* The routing key from a precomputed date string (no clock). */
void netdb_routing_key_for_date(const uint8_t key[NETDB_HASH_BYTES],
				const char date[NETDB_DATE_CHARS],
				uint8_t out[NETDB_HASH_BYTES]);
/* Milliseconds from now_ms to the next 00:00 UTC (the next rotation). */
uint64_t netdb_ms_to_rotation(uint64_t now_ms);

/* out = a XOR b. */
void netdb_xor(const uint8_t a[NETDB_HASH_BYTES],
	       const uint8_t b[NETDB_HASH_BYTES], uint8_t out[NETDB_HASH_BYTES]);
/*
 * Compare the distances of a and b from target (a routing key): < 0 when
 * a is closer, > 0 when b is, 0 when a == b.
 */
int netdb_xor_cmp(const uint8_t target[NETDB_HASH_BYTES],
		  const uint8_t a[NETDB_HASH_BYTES],
		  const uint8_t b[NETDB_HASH_BYTES]);

/*
 * A bounded "k closest" set: feed it candidates one at a time, it keeps
 * the k closest to target in order (closest first).  k is at most
 * NETDB_CLOSEST_MAX.  Each candidate carries an opaque pointer back to
 * the caller's object.
 */
#define NETDB_CLOSEST_MAX 32
struct netdb_closest {
	uint8_t target[NETDB_HASH_BYTES];
	size_t k, n;
	struct {
		uint8_t hash[NETDB_HASH_BYTES];
		void *obj;
	} e[NETDB_CLOSEST_MAX];
};
/* Start a set for target keeping k (clamped to 1..NETDB_CLOSEST_MAX). */
void netdb_closest_init(struct netdb_closest *c,
			const uint8_t target[NETDB_HASH_BYTES], size_t k);
/* Offer hash (with obj); true when it was kept. */
bool netdb_closest_add(struct netdb_closest *c,
		       const uint8_t hash[NETDB_HASH_BYTES], void *obj);

#endif /* NETDB_ROUTING_H */
