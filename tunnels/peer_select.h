/*
 * Peer selection for our own tunnels (geti2p.net/docs/how/peer-selection,
 * geti2p.net/docs/tunnels/implementation "Peer Selection"; PROTOCOLS.md
 * 2.8): hops come from the netDb's RouterInfos, never ourselves, never a
 * router twice, never two from one IPv4 /16 (an override allows it for
 * loopback test networks), only routers with a published address, an
 * X25519 identity key (ECIES build records) and no "U" (unreachable) cap,
 * and never a peer whose profile says it is failing.
 *
 * Tiers, after the spec's "fast" and "high capacity" groups: a client
 * tunnel takes proven peers (passed tunnel tests) with a high bandwidth
 * class (O, P, X) first, then peers with a positive capacity score, then
 * any other; an exploratory tunnel takes from all the not-failing peers
 * alike ("exploratory tunnels ... from the not-failing tier").  Within a
 * tier the order is random.
 *
 * Pure: reads the store and the profiles, takes randomness from
 * crypto/rand.h.  Thread: the loop (the store's owner).
 */
#ifndef TUNNELS_PEER_SELECT_H
#define TUNNELS_PEER_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netdb/store.h"
#include "tunnels/profile.h"
#include "tunnels/tunnel_build.h"

/* Short build records need router.version 0.9.51 or later. */
#define PEER_SELECT_SHORT_MIN_VERSION ROUTER_VERSION(0, 9, 51)

enum peer_tier {
	PEER_TIER_FAST,
	PEER_TIER_HIGH_CAP,
	PEER_TIER_STANDARD,
};

enum peer_select_kind {
	PEER_SELECT_EXPLORATORY,
	PEER_SELECT_CLIENT,
};

struct peer_select_cfg {
	uint8_t self[32];
	bool allow_same_subnet;		/* loopback test networks */
};

/* Why a RouterInfo cannot be a hop (0 when it can); for tests. */
int peer_select_check(const struct peer_select_cfg *cfg,
		      const struct netdb_ri_entry *e,
		      const struct peer_profiles *pp, uint64_t now_ms);
/* The tier of a usable peer. */
enum peer_tier peer_select_tier(const struct netdb_ri_entry *e,
				const struct peer_profiles *pp);

/*
 * Pick n (1..TUNNEL_BUILD_MAX_HOPS) hops into out[0..n-1] for a tunnel of
 * kind, leaving out the n_excl hashes in excl.  *need_long is set when a
 * chosen hop is older than PEER_SELECT_SHORT_MIN_VERSION.  ERR_NOT_FOUND
 * when fewer than n usable peers exist (out is then undefined).
 */
int peer_select_hops(const struct peer_select_cfg *cfg,
		     const struct netdb_store *s,
		     const struct peer_profiles *pp,
		     enum peer_select_kind kind, const uint8_t (*excl)[32],
		     size_t n_excl, unsigned n, uint64_t now_ms,
		     struct tunnel_build_hop *out, bool *need_long);

#endif /* TUNNELS_PEER_SELECT_H */
