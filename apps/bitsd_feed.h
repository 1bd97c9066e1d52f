/*
 * bitsd's feed subsystem (issue [H], docs/feed.md §7–8): with `feed =
 * true`, the feed service (apps/feed/service.h) over the destinations'
 * network: its destination and store under feed.dir (default DATADIR),
 * the peers of feed.peers (b32 addresses or hex hashes, commas between),
 * feed.followed-only, feed.views (off by default), feed.round (seconds),
 * feed.pow-bits (proof of work asked, default 12), feed.retention (days);
 * and the calls under /api/feed on the local JSON API.  Its address is
 * written to DATADIR/feed.b32.  Thread: the loop thread.
 *
 * Favoured creators by DID (docs/feed.md §4, §9): with market.deploy set,
 * the feed favours creators whose did:ethr names their feed key in the
 * DIDRegistry, from an index of its DIDAttributeChanged events kept in
 * FEED_DIR/BITSD_FEED_DID_FILE; bitsd_feed_did_start() brings it up to
 * date each feed round through the market's chain client, on a worker.
 */
#ifndef APPS_BITSD_FEED_H
#define APPS_BITSD_FEED_H

#include "apps/client/net.h"
#include "apps/feed/store.h"

struct api;
struct conf;
struct evloop;
struct bitsd_feed;

/* Start what cfg asks for on net (copied); with api (may be NULL), serve
 * /api/feed there until stopped; owned (may be NULL) answers the owned
 * filter (feed_service_cfg).  Errors: ERR_FORMAT (a bad feed.peers entry,
 * logged), the service's. */
int bitsd_feed_start(struct evloop *el, const struct conf *cfg,
		     const struct client_net *net, struct api *api,
		     feed_owned_fn owned, void *owned_ctx,
		     struct bitsd_feed **out);
/* Accepts NULL. */
void bitsd_feed_stop(struct bitsd_feed *f);

#define BITSD_FEED_DID_FILE "feed-did.idx"
/* Blocks read between two saves of the index when no key changed. */
#define BITSD_FEED_DID_SAVE_BLOCKS 10000u

struct chain_deploy;
struct chain_transport;
struct worker_pool;
/*
 * Read the DID index from the file (when it is of this chain and
 * registry), then read the registry's events from where it stopped (or
 * dep's start block) over t (copied; the market's: blocking, so on wp),
 * now and each feed round.  Nothing when the feed favours nobody (no
 * market.deploy) or dep has no DIDRegistry.  0, or ERR_BAD_STATE when
 * started already.
 */
int bitsd_feed_did_start(struct bitsd_feed *f, struct worker_pool *wp,
			 const struct chain_transport *t,
			 const struct chain_deploy *dep);
/* Wait (running the loop) for the scan under way, save the index, stop
 * reading.  Before the chain transport goes.  Accepts NULL. */
void bitsd_feed_did_stop(struct bitsd_feed *f);

#endif /* APPS_BITSD_FEED_H */
