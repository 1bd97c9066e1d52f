/*
 * bitsd's sections of the local JSON API (apps/api): "router" (identity,
 * network, uptime), "transports" (counters and connected peers) and
 * "tunnels" (transit tunnels, and our own: built, building, tests, and
 * the peer profiles with their build reply times).
 * Loop thread only.
 */
#ifndef APPS_BITSD_STATUS_H
#define APPS_BITSD_STATUS_H

#include <stdint.h>

struct api;
struct conf;
struct router_keys;
struct transport_mgr;
struct transit_table;
struct tunnel_mgr;

struct bitsd_status;	/* opaque */

/*
 * Register the sections on a (tm or transit may be NULL: no "transports"
 * or "tunnels" section; own NULL: no counts of our own tunnels).
 * Everything is borrowed and must outlive a.  The caller owns the result
 * and frees it with bitsd_status_free() after api_free(a).
 */
struct bitsd_status *bitsd_status_register(struct api *a,
					   const struct conf *cfg,
					   const struct router_keys *keys,
					   struct transport_mgr *tm,
					   const struct transit_table *transit,
					   const struct tunnel_mgr *own);
void bitsd_status_free(struct bitsd_status *st);

#endif /* APPS_BITSD_STATUS_H */
