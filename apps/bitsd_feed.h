/*
 * bitsd's feed subsystem (issue [H], docs/feed.md §7–8): with `feed =
 * true`, the feed service (apps/feed/service.h) over the destinations'
 * network: its destination and store under feed.dir (default DATADIR),
 * the peers of feed.peers (b32 addresses or hex hashes, commas between),
 * feed.followed-only, feed.views (off by default), feed.round (seconds),
 * feed.pow-bits (proof of work asked, default 12), feed.retention (days);
 * and the calls under /api/feed on the local JSON API.  Its address is
 * written to DATADIR/feed.b32.  Thread: the loop thread.
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

#endif /* APPS_BITSD_FEED_H */
