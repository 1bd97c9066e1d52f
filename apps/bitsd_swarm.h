/*
 * bitsd's swarm subsystem (issue [W], docs/swarm.md §3a): with
 * `swarm = true`, the swarm service (apps/swarm/service.h) over the
 * destinations' network: its destination, the blob store under
 * swarm.dir (default DATADIR) with the swarm.storage budget (MiB), the
 * swarm.upload budget (KB/s) for seeding, the trackers of swarm.trackers
 * (b32 addresses or hex hashes, comma-separated), the tracker role with
 * swarm.tracker, and the streaming endpoint on 127.0.0.1:swarm.http-port
 * (default 7670; the destination's tunnels take sam.hops).  Its b32 is
 * written to DATADIR/swarm.b32.  Thread: the loop thread.
 */
#ifndef APPS_BITSD_SWARM_H
#define APPS_BITSD_SWARM_H

#include <stdbool.h>

#include "apps/client/net.h"

#define BITSD_SWARM_HTTP_PORT 7670

struct conf;
struct evloop;
struct swarm_service;

/*
 * Start the service cfg asks for on net (copied; its context outlives
 * the subsystem).  Errors: ERR_FORMAT (a bad swarm.trackers entry,
 * logged), the service's.
 */
int bitsd_swarm_start(struct evloop *el, const struct conf *cfg,
		      const struct client_net *net,
		      struct swarm_service **out);

#endif /* APPS_BITSD_SWARM_H */
