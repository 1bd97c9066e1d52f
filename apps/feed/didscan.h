/*
 * Reading the DID index's events from the chain (docs/feed.md §4, §9):
 * the DIDRegistry's DIDAttributeChanged events for FEED_DID_KEY_ATTR,
 * fetched by block range (chain/rpc.h filters them here), kept in chain
 * order to be applied to a struct feed_did_index on the thread that owns
 * it.
 *
 * Thread: feed_did_scan() blocks on the chain client (a worker thread);
 * the rest runs anywhere.
 */
#ifndef APPS_FEED_DIDSCAN_H
#define APPS_FEED_DIDSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/feed/did.h"
#include "chain/rpc.h"

/* Blocks read by one feed_did_scan() at most (10 requests of
 * CHAIN_LOGS_MAX_RANGE). */
#define FEED_DID_SCAN_BLOCKS 50000u

struct feed_did_event {
	uint64_t block;
	uint8_t identity[20];
	uint8_t key[32];
	bool key_ok;		/* the value was 32 bytes */
	uint64_t valid_to;	/* saturated past 2^64 - 1 */
};

struct feed_did_scan {
	uint64_t from, next;	/* blocks from..next-1 read */
	uint64_t tip;		/* the chain's latest block then */
	struct feed_did_event *ev;	/* in chain order */
	size_t nev, cap;
	unsigned bad;		/* logs of the registry that do not decode */
};

/*
 * Read the key events of blocks from.. (at most max_blocks, and at most
 * the latest block) of the registry at registry into *out (cleared
 * first).  When from is past the latest block nothing is read (out->next
 * = from).  The chain client's errors.
 */
int feed_did_scan(struct chain_client *cc, const uint8_t registry[20],
		  uint64_t from, uint64_t max_blocks,
		  struct feed_did_scan *out);
void feed_did_scan_clear(struct feed_did_scan *s);
/* Apply s's events to x in order; the number applied (the others: a
 * value that is not a key, or the index full). */
size_t feed_did_scan_apply(struct feed_did_index *x,
			   const struct feed_did_scan *s);

#endif /* APPS_FEED_DIDSCAN_H */
