/*
 * bitsd's tunnels subsystem: the transit table (tunnels/transit.h) and
 * our own tunnels (tunnels/tunnel_pool.h) on the event loop, sending
 * through the transport manager (STYLE.md §1: main() installs the hooks).
 * It answers build requests (types 23 and 25), relays TunnelData (18) and
 * packs TunnelGateway (19) messages for the tunnels it joined, and
 * expires them.  With a netDb it also keeps the exploratory pool built
 * from the netDb's routers (sizes from the [exploratory] config keys),
 * tests its tunnels, keeps peer profiles in DATADIR/profiles.sqlite
 * (loaded and written on the worker pool), sends the netDb's lookups out
 * through the exploratory tunnels with their replies asked back through
 * them (the netDb's sender and reply-path hooks), and hands what arrives
 * on our inbound tunnels for the netDb to it.
 *
 * Messages reach it through bitsd_tunnels_recv(), which whoever owns the
 * transport manager's receive hook calls for the tunnel types.
 * Thread: the loop thread.
 */
#ifndef APPS_BITSD_TUNNELS_H
#define APPS_BITSD_TUNNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;
struct i2np_msg;
struct netdb;
struct tunnel_mgr;
struct router_keys;
struct transit_table;
struct transport_mgr;
struct bitsd_tunnels;	/* opaque */

/* Transit tunnels and stale fragments are swept this often. */
#define BITSD_TUNNELS_SWEEP_MS 10000
/* Our pools' timers (builds, tests, expiry) run this often. */
#define BITSD_TUNNELS_TICK_MS 1000
/* Peer profiles are written this often (and at stop). */
#define BITSD_TUNNELS_PROFILE_SAVE_MS (5 * 60 * 1000)
/* Refuse new transit tunnels while the transport queues hold more than
 * this share of their global cap (percent). */
#define BITSD_TUNNELS_CONGESTED_QUEUE_PCT 50
/* Messages our zero-hop tunnels send to ourselves, waiting for the loop
 * to hand them back in (more are dropped). */
#define BITSD_TUNNELS_LOOPBACK_MAX 256

/*
 * Start for the router with keys (borrowed; they outlive it) over the
 * transport manager tm (borrowed; it outlives it).  db (borrowed; it
 * outlives it) NULL: transit only, no tunnels of our own.  On success
 * *out is the caller's.
 */
int bitsd_tunnels_start(struct daemon *d, const struct router_keys *keys,
			struct transport_mgr *tm, struct netdb *db,
			struct bitsd_tunnels **out);
/* Free bt and every transit tunnel.  Accepts NULL. */
void bitsd_tunnels_stop(struct bitsd_tunnels *bt);
/*
 * A message from peer: TunnelData, TunnelGateway, VariableTunnelBuild or
 * ShortTunnelBuild are handled (m is taken, true); any other type is not
 * (false, m untouched).  bt may be NULL (false).
 */
bool bitsd_tunnels_recv(struct bitsd_tunnels *bt, const uint8_t peer[32],
			struct i2np_msg *m);
/* The transit table (borrowed), for status. */
struct transit_table *bitsd_tunnels_transit(struct bitsd_tunnels *bt);
/*
 * Offer the Garlic messages that arrive on our inbound tunnels to fn
 * first (the local destinations' ratchet sessions): fn returns true when
 * it took m; the rest go to the netDb.  fn NULL: none.
 */
typedef bool (*bitsd_tunnels_garlic_fn)(void *ctx, struct i2np_msg *m);
void bitsd_tunnels_set_garlic(struct bitsd_tunnels *bt,
			      bitsd_tunnels_garlic_fn fn, void *ctx);
/*
 * Paid relaying: hand the tickets that accepted transit builds carry
 * (untrusted bytes, valid for the call) to fn with the tunnel's receive
 * id.  fn NULL: none (they are counted and dropped).
 */
typedef void (*bitsd_tunnels_ticket_fn)(void *ctx, const uint8_t *tk,
					size_t len, uint32_t receive_id);
void bitsd_tunnels_set_ticket(struct bitsd_tunnels *bt,
			      bitsd_tunnels_ticket_fn fn, void *ctx);
/* Our connection attempt to peer failed: it leaves new tunnels for a
 * while (tunnel_mgr_peer_unreachable()).  ctx: the bitsd_tunnels. */
void bitsd_tunnels_peer_failed(void *ctx, const uint8_t peer[32]);
/* A session with peer came up: it is no longer left out of new tunnels
 * as unreachable (peer_profiles_mark_reachable()).  ctx: the
 * bitsd_tunnels. */
void bitsd_tunnels_peer_up(void *ctx, const uint8_t peer[32]);
/* Our own tunnels (borrowed), or NULL without a netDb. */
struct tunnel_mgr *bitsd_tunnels_own(struct bitsd_tunnels *bt);

#endif /* APPS_BITSD_TUNNELS_H */
