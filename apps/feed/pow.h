/*
 * Proof of work for feed items (docs/feed.md §4): the sender of an item
 * finds a nonce such that SHA-256("bits/feed/pow/v1" ‖ id ‖ u64 nonce BE)
 * starts with at least `bits` zero bits, where id is the item's id.  It
 * travels with the item (ITEM messages) and is kept with it in the store,
 * so relaying costs nothing; checking it is one hash, done before any
 * signature work.  Each node sets the difficulty it asks for.
 */
#ifndef APPS_FEED_POW_H
#define APPS_FEED_POW_H

#include <stdint.h>

#include "apps/feed/msg.h"

/* The difficulty a node asks for by default (about 2^12 hashes). */
#define FEED_POW_BITS_DEFAULT 12
#define FEED_POW_BITS_MAX 32

/* Leading zero bits of the proof's hash. */
unsigned feed_pow_bits(const uint8_t id[FEED_ID_BYTES], uint64_t nonce);
/* The first nonce from 0 up with at least bits (≤ FEED_POW_BITS_MAX). */
uint64_t feed_pow_solve(const uint8_t id[FEED_ID_BYTES], unsigned bits);

#endif /* APPS_FEED_POW_H */
