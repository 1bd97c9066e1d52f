/*
 * bitsd's SSU2 subsystem: the SSU2 transport (router/ssu2.h) on the
 * configured host and the NTCP2 port (UDP), registered with the transport
 * manager that apps/bitsd_ntcp2.h made, so the manager picks NTCP2 or
 * SSU2 per peer.  Off unless the configuration says ssu2 = true; then our
 * RouterInfo (router/router_self.h) also publishes the SSU2 address.
 * Peer tests (as Alice) tell whether we are reachable; with nat = true
 * the port is mapped on the NAT (router/nat.h) while we run.
 * This file only wires modules together (configuration, timers).
 */
#ifndef APPS_BITSD_SSU2_H
#define APPS_BITSD_SSU2_H

struct daemon;
struct router_keys;
struct router_self_reach;
struct bitsd_ssu2;	/* opaque */
struct transport_mgr;
struct ssu2;
struct netdb;

/* Re-sign the RouterInfo SSU2 sends in SessionConfirmed this often. */
#define BITSD_SSU2_RESIGN_MS (20 * 60 * 1000)
/* Peer test (reachability): first try this soon after start, again this
 * often until a test gave an answer, and then every BITSD_SSU2_PT_MS. */
#define BITSD_SSU2_PT_FIRST_MS 5000
#define BITSD_SSU2_PT_RETRY_MS 10000
#define BITSD_SSU2_PT_MS (10 * 60 * 1000)
/* The message that dials a possible introducer lives this long. */
#define BITSD_SSU2_DIAL_TTL_MS 30000

/*
 * Start SSU2 for tm (borrowed; must outlive the subsystem).  keys are
 * borrowed too.  With SSU2 off in the configuration *out is NULL and 0 is
 * returned.  Logs its failures.
 */
int bitsd_ssu2_start(struct daemon *d, const struct router_keys *keys,
		     struct transport_mgr *tm, struct bitsd_ssu2 **out);
/* Terminate every session and free bs.  Accepts NULL. */
void bitsd_ssu2_stop(struct bitsd_ssu2 *bs);
/*
 * Keep rr (borrowed; outlives bs) up to date with what SSU2 learns: a
 * peer test said firewalled (or reachable again), relay tags from peers
 * with "C" (asked for and renewed by router/ssu2.c) make our introducers.
 * Our RouterInfo in SessionConfirmed follows rr, and changed(ctx) runs
 * after each change so the embedder re-signs and republishes the rest.
 */
void bitsd_ssu2_set_reach(struct bitsd_ssu2 *bs, struct router_self_reach *rr,
			  void (*changed)(void *ctx), void *ctx);
/*
 * Firewalled with fewer than SSU2_INTRO_MAX introducers, dial routers
 * from db (borrowed; NULL before it exists or after it is gone) whose
 * SSU2 address has the "C" cap: a new session asks them for a relay tag.
 */
void bitsd_ssu2_set_netdb(struct bitsd_ssu2 *bs, struct netdb *db);
/* The transport (borrowed), for status. */
struct ssu2 *bitsd_ssu2_transport(struct bitsd_ssu2 *bs);

#endif /* APPS_BITSD_SSU2_H */
