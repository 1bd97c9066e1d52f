/*
 * Our own RouterInfo: built from the configuration and the router keys,
 * signed by the keystore and written to DATADIR/router.info in the format
 * i2pd uses for router.info and routerInfo-*.dat (the raw signed bytes).
 *
 * Published: the RouterIdentity, one NTCP2 address on the configured host
 * and port (options host, port, s, i, v=2), and the options caps, netId
 * and router.version; with relay.pay, bits.pay.* (router/ri_pay.h).
 */
#ifndef ROUTER_ROUTER_SELF_H
#define ROUTER_ROUTER_SELF_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "router/router_address.h"

struct conf;
struct router_info;
struct ri_pay;
struct router_keys;
struct router_self;	/* opaque: rewrites router.info off the loop */
struct worker_pool;

#define ROUTER_SELF_FILE_NAME "router.info"
/* i2pd's cost for a published NTCP2 address. */
#define ROUTER_SELF_NTCP2_COST 3
/* i2pd's cost for a direct SSU2 address (COST_SSU2_DIRECT): above NTCP2's,
 * so peers that can use both prefer NTCP2, as with i2pd. */
#define ROUTER_SELF_SSU2_COST 8
/* Without a configured port, one in i2pd's random range is derived from
 * the router hash, so it is the same on every start. */
#define ROUTER_SELF_PORT_MIN 9111
#define ROUTER_SELF_PORT_MAX 30777
/* The caps of a router without a bandwidth limit (class L, as i2pd's
 * default; reachable), a floodfill's (adds "f"), and a firewalled one's
 * (a peer test said so: "U", unreachable).  With `bandwidth` set, the
 * letter follows the share for transit: router_self_caps(). */
#define ROUTER_SELF_CAPS "LR"
#define ROUTER_SELF_CAPS_FLOODFILL "LfR"
#define ROUTER_SELF_CAPS_FIREWALLED "LU"
#define ROUTER_SELF_MAX_INTRO 3

/*
 * What we learned about reaching us while running (SSU2 peer test and
 * relay): when firewalled, our IPv4 NTCP2 and SSU2 addresses go out
 * without host and port, the SSU2 one with these introducers (ih, itag,
 * iexp), and the caps say "U".  introducer (a peer test said reachable):
 * the IPv4 SSU2 address gets the "C" cap (we introduce firewalled
 * routers to others).
 */
struct router_self_reach {
	/* With cfg->relay_pay: our meta-address and epoch commitment, published
	 * with cfg->relay_pay_price (router/ri_pay.h).  NULL: none. */
	const struct ri_pay *pay;
	bool firewalled;
	bool introducer;
	/* IPv6 (host6), from its own peer tests: firewalled6, its SSU2
	 * address loses host and port and no IPv6 NTCP2 address is
	 * published; reachable6, its SSU2 address says "6BC" */
	bool firewalled6, reachable6;
	size_t nintro;
	struct router_address_ssu2_intro intro[ROUTER_SELF_MAX_INTRO];
	/* firewalled6: the IPv6 SSU2 address's introducers (relay tags from
	 * sessions over IPv6) */
	size_t nintro6;
	struct router_address_ssu2_intro intro6[ROUTER_SELF_MAX_INTRO];
};

/* The NTCP2 port to publish: cfg->port, or one derived from hash. */
uint16_t router_self_port(const struct conf *cfg,
			  const uint8_t hash[SHA256_BYTES]);
/*
 * The caps we publish into buf (at least 4 bytes): the bandwidth letter,
 * "f" on a floodfill, "R" or (firewalled) "U".  The letter is "L" without
 * a bandwidth limit; with one it is the class of the transit share,
 * bandwidth x transit.share (network-database spec: K under 12 KB/s,
 * L 12-48, M 48-64, N 64-128, O 128-256, P 256-2000, X above), as Java
 * derives it from its share bandwidth.  i2pd and Java take client-tunnel
 * hops only from M and up.
 */
void router_self_caps(const struct conf *cfg, bool firewalled, char buf[4]);
/*
 * Build and sign our RouterInfo, published now.  On success *out is new
 * and the caller owns it.  Errors: those of router_address_ntcp2_build()
 * and router_info_sign().
 */
int router_self_build(const struct conf *cfg, const struct router_keys *keys,
		      struct router_info **out);
/* The same with what we learned at run time (rr NULL: nothing). */
int router_self_build_reach(const struct conf *cfg,
			    const struct router_keys *keys,
			    const struct router_self_reach *rr,
			    struct router_info **out);
/*
 * Build, sign and write cfg->datadir/router.info (replacing it
 * atomically) on the calling thread; logs what went wrong.  For start-up,
 * before the loop runs.  Errors: as router_self_build(), ERR_IO.
 */
int router_self_publish(const struct conf *cfg,
			const struct router_keys *keys);

/*
 * A publisher that writes router.info on the worker pool wp (the write
 * fsyncs, so it stays off the loop).  Loop thread.  Never returns NULL;
 * caller owns it and frees it before the pool.
 */
struct router_self *router_self_new(struct worker_pool *wp);
/*
 * Rebuild and sign our RouterInfo now and queue it to be written to
 * cfg->datadir/router.info.  Writes never overlap; while one runs, only
 * the newest queued RouterInfo is kept, so the file ends up with the
 * latest.  Loop thread.  Errors: as router_self_build() (logged; nothing
 * is queued).  A failed write is logged by the done callback.
 */
int router_self_refresh(struct router_self *rs, const struct conf *cfg,
			const struct router_keys *keys);
/* The same with what we learned at run time (rr NULL: nothing). */
int router_self_refresh_reach(struct router_self *rs, const struct conf *cfg,
			      const struct router_keys *keys,
			      const struct router_self_reach *rr);
/* True while a write is queued or running. */
bool router_self_is_busy(const struct router_self *rs);
/*
 * Release rs.  A RouterInfo waiting behind a running write is dropped; the
 * running write finishes and its done callback frees rs (mark-for-close),
 * which worker_pool_free() guarantees.  Accepts NULL.  Loop thread.
 */
void router_self_free(struct router_self *rs);

#endif /* ROUTER_ROUTER_SELF_H */
