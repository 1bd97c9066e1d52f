/*
 * Favoured creators (docs/feed.md §4, §9): the index of creators' feed
 * keys named in their DIDs on chain, the ERC-1056 DIDRegistry's
 * attribute FEED_DID_KEY_ATTR (value: the 32-byte Ed25519 key a creator
 * signs cards with), and the check gossip's favoured() hook runs: a card
 * whose did field names an identity that lists its creator's key, valid
 * now, is a favoured creator's.  The card's did field alone proves
 * nothing; the index is filled from the registry's DIDAttributeChanged
 * events in chain order (the caller reads and decodes the logs, off the
 * loop thread; this file knows no chain client).  The network part of a
 * did:ethr is not compared: the index is of the one chain the caller
 * reads.
 *
 * Thread: one thread at a time.
 */
#ifndef APPS_FEED_DID_H
#define APPS_FEED_DID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "crypto/ed25519.h"

/* The attribute's name, as the bytes32 of the event (right-padded). */
#define FEED_DID_KEY_ATTR "did/pub/Ed25519/veriKey/hex"
#define FEED_DID_MAX 65536	/* (identity, key) pairs kept */

struct feed_did_index;	/* opaque */

struct feed_did_index *feed_did_new(void);
void feed_did_free(struct feed_did_index *x);

/* The identity (address) of a did:ethr identifier ("did:ethr:0x…" or
 * "did:ethr:NETWORK:0x…"); false when did is not one. */
bool feed_did_identity(const char *did, uint8_t identity[20]);

/*
 * One DIDAttributeChanged event, in chain order: for FEED_DID_KEY_ATTR,
 * the key value is valid until valid_to (Unix seconds; a revocation's 0
 * ends it).  Other attributes are ignored (0).  ERR_FORMAT: the
 * attribute's value is not a 32-byte key; ERR_LIMIT: FEED_DID_MAX pairs
 * held already.
 */
int feed_did_apply(struct feed_did_index *x, const uint8_t identity[20],
		   const uint8_t name[32], const uint8_t *value,
		   size_t value_len, uint64_t valid_to);
/* Pairs held. */
size_t feed_did_count(const struct feed_did_index *x);
/* Drop every pair (a new chain or registry). */
void feed_did_clear(struct feed_did_index *x);

/*
 * The index as saved between runs (docs/feed.md §4):
 *   "BDID" ‖ u8 version = 1 ‖ source[32] ‖ u64 next block ‖ u32 n ‖
 *   n × (identity[20] ‖ key[32] ‖ u64 validTo), pairs strictly ascending
 * source names what was read (the caller's: chain and registry), next
 * block the first block not read yet.  Pairs whose validity has ended
 * by now_s are left out (a later event brings a pair back).
 */
#define FEED_DID_FILE_MAGIC "BDID"
#define FEED_DID_FILE_HEAD (4 + 1 + 32 + 8 + 4)
#define FEED_DID_FILE_PAIR (20 + 32 + 8)
#define FEED_DID_FILE_MAX (FEED_DID_FILE_HEAD + \
			   (size_t)FEED_DID_MAX * FEED_DID_FILE_PAIR)
void feed_did_save(const struct feed_did_index *x, const uint8_t source[32],
		   uint64_t next_block, uint64_t now_s, struct bbuf *out);
/*
 * Replace x's pairs with those of a saved index (untrusted bytes: any
 * fault leaves x empty).  ERR_FORMAT: not a saved index (bad magic or
 * version, a length that does not add up, pairs out of order, more than
 * FEED_DID_MAX); ERR_NOT_FOUND: another source's (x left empty).
 */
int feed_did_load(struct feed_did_index *x, const uint8_t source[32],
		  const uint8_t *p, size_t n, uint64_t *next_block);

/* Whether did names an identity whose feed keys include creator, valid
 * at now_s. */
bool feed_did_favoured(const struct feed_did_index *x,
		       const struct ed25519_pk *creator, const char *did,
		       uint64_t now_s);
/* feed_did_favoured at the clock's time, in the shape of struct
 * feed_node_cfg's favoured hook (ctx: the index). */
bool feed_did_favoured_now(void *ctx, const struct ed25519_pk *creator,
			   const char *did);

#endif /* APPS_FEED_DID_H */
