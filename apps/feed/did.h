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
