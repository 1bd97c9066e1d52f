/*
 * A feed node: one local destination that gossips hash cards and records
 * with its peers (other destinations) through a struct client_net, and
 * keeps what it accepts in a feed store (docs/feed.md).
 *
 * Reconciliation is pulled: each round sends our SUMMARY (digests of our
 * most recent day buckets) to every peer; a peer asks for the ids of the
 * buckets whose digest differs (IDS_REQ/IDS), then for the items it lacks
 * (WANT/ITEM).  A new item is pushed at once to every peer but the one it
 * came from.  An item is stored and relayed only after its format, size,
 * signature, time, follow policy and rate limits pass; duplicates are
 * dropped by id before any signature work; the ids of the last 512 items
 * refused (format, signature, time, follow policy) are not fetched again.
 *
 * Thread: the loop thread only.
 */
#ifndef APPS_FEED_GOSSIP_H
#define APPS_FEED_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/client/dest.h"
#include "apps/client/net.h"
#include "apps/content/par.h"
#include "apps/feed/store.h"
#include "router/keys_and_cert.h"

/* The datagram port of the feed protocol (both ends). */
#define FEED_PORT 7656
#define FEED_PEERS_MAX 64
/* At most this many ids of one bucket answer one IDS_REQ entry. */
#define FEED_IDS_REPLY_MAX 4096
#define FEED_MAX_SKEW_S 600

struct feed_node;	/* opaque */

/* Items from peers checked and stored together (one transaction). */
#define FEED_BATCH_MAX 256

struct evloop;

struct feed_node_cfg {
	struct client_net net;
	/* With a loop, items from peers are queued and checked in batches
	 * at the end of the loop pass (or when FEED_BATCH_MAX are queued);
	 * without one (NULL), each as it comes. */
	struct evloop *el;
	/* Threads for the signature checks of a batch; NULL: the loop's. */
	struct content_pool *pool;
	const struct client_dest *dest;	/* borrowed; outlives the node */
	struct feed_store *store;	/* borrowed; outlives the node */
	/* Keep (and so relay) only cards of followed creators and records
	 * of cards we keep. */
	bool followed_only;
	/* Items accepted per peer: a bucket of peer_burst refilled at
	 * peer_items_per_s; 0 takes the defaults (50/s, burst 500). */
	uint32_t peer_items_per_s, peer_burst;
	/* Answers given one sender (each IDS for its IDS_REQ, each item for
	 * its WANT, each SUMMARY's bucket digests): a bucket of
	 * peer_reply_burst refilled at peer_replies_per_s; 0 takes the
	 * defaults (64/s, burst 1024).  All senders together get four
	 * times that (destinations are cheap to make).  Any destination
	 * may ask, and one small request names up to 16 buckets of 4096
	 * ids: without a cap it could have us send megabytes for each
	 * datagram. */
	uint32_t peer_replies_per_s, peer_reply_burst;
	/* Items (cards and records) accepted per creator or author: burst
	 * creator_burst refilled at creator_items_per_hour; 0: 60/h, 60. */
	uint32_t creator_items_per_hour, creator_burst;
	/* Proof of work asked of every item (apps/feed/pow.h), in leading
	 * zero bits: 0 takes FEED_POW_BITS_DEFAULT, FEED_POW_NONE asks none.
	 * What we publish carries this much. */
	uint8_t pow_bits;
	/* Keep items this many days after their creation (older ones are
	 * refused, and dropped each round); 0 keeps everything. */
	uint32_t retention_days;
	/*
	 * Favoured creators (e.g. those whose DID is registered on chain,
	 * as the owner's check finds; NULL: nobody is favoured).  An item
	 * whose creator or author favoured() names needs only
	 * pow_bits_favoured bits of proof of work (0: pow_bits - 4), and
	 * its creator's bucket holds and refills FEED_FAVOUR_FACTOR times
	 * as many items.  did: the card's DID text, "" for a record.  Items
	 * with less than pow_bits are checked against it after their
	 * signature, so the lower difficulty is only open to signed items.
	 */
	bool (*favoured)(void *ctx, const struct ed25519_pk *creator,
			 const char *did);
	void *favoured_ctx;
	uint8_t pow_bits_favoured;
};

#define FEED_FAVOUR_FACTOR 4

#define FEED_POW_NONE UINT8_MAX

struct feed_node_stats {
	uint64_t rx_msgs;		/* datagrams on the feed port */
	uint64_t rx_bad;		/* undecodable or unsigned */
	uint64_t tx_msgs, tx_fail;
	uint64_t items_new, items_dup;
	uint64_t rej_format;		/* item does not decode */
	uint64_t rej_sig;		/* signature does not verify */
	uint64_t rej_time;		/* created too far ahead, or expired */
	uint64_t rej_pow;		/* not enough proof of work */
	uint64_t rej_blocked;		/* creator or author blocked here */
	uint64_t rej_delete;		/* deletion not by the card's creator */
	uint64_t rej_follow;		/* not kept by the follow policy */
	uint64_t rej_peer_rate, rej_creator_rate;
	uint64_t replies_limited;	/* answers not given: over the cap */
	uint64_t favoured;		/* items taken as a favoured creator's */
};

/* Attach cfg->dest to cfg->net and start.  Caller owns *out. */
int feed_node_new(const struct feed_node_cfg *cfg, struct feed_node **out);
/* Detach and release.  Accepts NULL. */
void feed_node_free(struct feed_node *n);
/* Gossip with peer (copied) from now on.  ERR_EXISTS, ERR_LIMIT. */
int feed_node_add_peer(struct feed_node *n, const struct keys_and_cert *peer);
/* Follow or unfollow creator in the store's follow set, and forget the
 * items refused lately so that reconciliation may fetch them again. */
int feed_node_follow(struct feed_node *n, const struct ed25519_pk *creator,
		     bool on);
/* Block or unblock a creator (their items refused, their cards hidden). */
int feed_node_block(struct feed_node *n, const struct ed25519_pk *creator,
		    bool on);
/* One reconciliation round: our SUMMARY to every peer (and, with a
 * retention, what has expired dropped first). */
void feed_node_round(struct feed_node *n);
/*
 * Accept a local item (its signed encoding) as if it came from the
 * network, then push it to every peer.  0, or the rejection
 * (ERR_FORMAT, ERR_BAD_SIG, ERR_EXPIRED, ERR_DUPLICATE, ERR_LIMIT,
 * ERR_IO).
 */
int feed_node_publish(struct feed_node *n, enum feed_item_kind kind,
		      const uint8_t *enc, size_t len);
/* Items from peers queued for their checks (0 once the loop has run). */
unsigned feed_node_pending(const struct feed_node *n);
const struct feed_node_stats *feed_node_get_stats(const struct feed_node *n);

#endif /* APPS_FEED_GOSSIP_H */
