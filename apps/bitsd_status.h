/*
 * bitsd's sections of the local JSON API (apps/api): "router" (identity,
 * network, uptime) and "transports" (counters and connected peers).
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

struct bitsd_status;	/* opaque */

/*
 * Register the sections on a (tm or transit may be NULL: no "transports"
 * or "tunnels" section).
 * Everything is borrowed and must outlive a.  The caller owns the result
 * and frees it with bitsd_status_free() after api_free(a).
 */
struct bitsd_status *bitsd_status_register(struct api *a,
					   const struct conf *cfg,
					   const struct router_keys *keys,
					   struct transport_mgr *tm,
					   const struct transit_table *transit);
void bitsd_status_free(struct bitsd_status *st);

#endif /* APPS_BITSD_STATUS_H */
