/*
 * Peer selection for our own tunnels (geti2p.net/docs/how/peer-selection,
 * geti2p.net/docs/tunnels/implementation "Peer Selection"; PROTOCOLS.md
 * 2.8): hops come from the netDb's RouterInfos, never ourselves, never a
 * router twice, never two from one IPv4 /16 (an override allows it for
 * loopback test networks), only routers with a published address, an
 * X25519 identity key (ECIES build records), no "U" (unreachable) cap,
 * and, as Java's TunnelPeerSelector, neither the "K" bandwidth class
 * (under 12 KB/s) nor the "G" congestion cap (rejecting all tunnels),
 * nor a router.version below 0.9.36.
 *
 * Congestion caps (proposal 162, "Congestion Caps"), as i2pd reads
 * them: "E" (rejecting most requests) in a RouterInfo published within
 * PEER_SELECT_CONGESTION_E_MS is never a hop; an older "E" counts as
 * "D" ("If this RI is older than 15 minutes, treat as 'D'"); "D" is
 * only derated ("Peers must not completely avoid 'D' routers").
 *
 * Weights: within a tier peers are drawn at random with a weight
 * (peer_select_weight()): a floodfill weighs 5 against 6 for any other
 * router (Java's CapacityCalculator gives non-floodfills a bonus of 1
 * on a base of 5, to spare floodfills' connection limits), "D" divides
 * the weight by 4, and a client tunnel halves the weight of the L and M
 * bandwidth classes (under 48 and 128 KB/s) against N, O, P and X (i2pd
 * builds client tunnels through high-bandwidth routers only; Java's
 * fast tier takes the measured fastest).
 *
 * Unreachable: a peer marked unreachable in its profile (build
 * timeouts in a row, or a failed connection; tunnels/profile.h) is left
 * out unless cfg.use_unreachable asks for it, and then comes after all
 * others, drawn with its weight divided by its build timeouts in a row
 * plus one (the pool tries a shorter tunnel without it first, after a
 * while; tunnels/tunnel_pool.h).
 *
 * Order: peer_select_hops() returns hops in the order drawn;
 * peer_select_order() puts them in a pool's fixed order (Java's
 * TunnelPeerSelector.orderPeers, against the predecessor attack: the
 * same peers keep the same relative order in all of a pool's tunnels,
 * so an attacker's routers cannot hold the positions they want by
 * retrying).  The order is by SipHash of the router hash keyed with the
 * pool's random key, as Java does now: by XOR distance from a random key,
 * as Java did first, two routers whose hashes are far apart land at
 * opposite ends more often than by chance.
 *
 * Tiers, after the spec's "fast" and "high capacity" groups: a client
 * tunnel takes fast peers first (passed tunnel tests, a high bandwidth
 * class O, P or X, and builds answered within PEER_SELECT_FAST_BUILD_MS
 * on average), then peers with a positive capacity score, then any other
 * not failing; an exploratory tunnel takes from all the not-failing
 * peers alike ("exploratory tunnels ... from the not-failing tier").
 * Within a tier peers are drawn at random by weight.
 *
 * Failing peers (tunnels/profile.h) come last, for both kinds, least bad
 * (highest capacity) first: when too few good peers are left, as when
 * our builds time out under load and every hop of them is blamed, a pool
 * builds through the less bad ones rather than stalling (Java's
 * ProfileOrganizer falls back the same way, from fast to high capacity
 * to not failing to any).  Only too few usable routers in the netDb
 * stops a build.
 *
 * Paid relaying (docs/relaypay.md §4): a router that publishes
 * bits.pay.price asks to be paid.  cfg.pay chooses between such hops and
 * free ones (i2pd and Java routers, free bitsd): any (the default),
 * prefer paid or prefer free (the preferred kind's weight is multiplied
 * by PEER_SELECT_PAY_PREFER_MUL: the others are still taken, less often
 * and when too few of the preferred are left), paid only or free only
 * (the other kind is left out: with too few such routers the pool builds
 * shorter tunnels).  cfg.max_paid (0: no limit) caps the paid hops of a
 * tunnel, the others being free.
 *
 * Pure: reads the store and the profiles, takes randomness from
 * crypto/rand.h.  Thread: the loop (the store's owner).
 */
#ifndef TUNNELS_PEER_SELECT_H
#define TUNNELS_PEER_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/siphash.h"
#include "netdb/store.h"
#include "tunnels/profile.h"
#include "tunnels/tunnel_build.h"

/* Older routers are not hops (Java and i2pd: 0.9.36). */
#define PEER_SELECT_MIN_VERSION ROUTER_VERSION(0, 9, 36)
/* Short build records need router.version 0.9.51 or later. */
#define PEER_SELECT_SHORT_MIN_VERSION ROUTER_VERSION(0, 9, 51)
/* A fast peer answers builds this quickly on average (Java counts a
 * build reply over 10 s as slow, i2pd waits 30 s). */
#define PEER_SELECT_FAST_BUILD_MS 5000
/* "E" in a RouterInfo published within this long: never a hop (i2pd's
 * HIGH_CONGESTION_INTERVAL; proposal 162's 15 minutes). */
#define PEER_SELECT_CONGESTION_E_MS (15ULL * 60 * 1000)
/* Weights (peer_select_weight()). */
#define PEER_SELECT_WEIGHT_FLOODFILL 5
#define PEER_SELECT_WEIGHT_OTHER 6
#define PEER_SELECT_WEIGHT_D_DIV 4
#define PEER_SELECT_WEIGHT_LOW_BW_DIV 2

enum peer_tier {
	PEER_TIER_FAST,
	PEER_TIER_HIGH_CAP,
	PEER_TIER_STANDARD,
	PEER_TIER_FAILING,	/* only when the others are too few */
	PEER_TIER_UNREACHABLE,	/* only with cfg.use_unreachable */
};

enum peer_select_kind {
	PEER_SELECT_EXPLORATORY,
	PEER_SELECT_CLIENT,
};

/* Paid or free hops (see above). */
enum peer_pay_policy {
	PEER_PAY_ANY = 0,
	PEER_PAY_PREFER_PAID,
	PEER_PAY_PREFER_FREE,
	PEER_PAY_PAID_ONLY,
	PEER_PAY_FREE_ONLY,
};
#define PEER_SELECT_PAY_PREFER_MUL 16

struct peer_select_cfg {
	uint8_t self[32];
	bool allow_same_subnet;		/* loopback test networks */
	bool use_unreachable;		/* last resort: marked peers too */
	enum peer_pay_policy pay;
	unsigned max_paid;		/* paid hops a tunnel; 0: any */
};

/* "any", "prefer-paid", "prefer-free", "paid-only", "free-only" into
 * *out; ERR_ARG for another name. */
int peer_pay_policy_parse(const char *s, enum peer_pay_policy *out);
/* Does the router ask to be paid (bits.pay.price in its options)? */
bool peer_select_asks_pay(const struct netdb_ri_entry *e);

/* Why a RouterInfo cannot be a hop at now_ms (0 when it can; its
 * profile aside); for tests. */
int peer_select_check(const struct peer_select_cfg *cfg,
		      const struct netdb_ri_entry *e, uint64_t now_ms);
/* The draw weight of a usable peer for a tunnel of kind (see above; a
 * fresh "E" is not usable at all). */
unsigned peer_select_weight(const struct netdb_ri_entry *e,
			    enum peer_select_kind kind);
/* Put hops[0..n-1] in the fixed order of key (a pool's random key). */
void peer_select_order(struct tunnel_build_hop *hops, unsigned n,
		       const uint8_t key[SIPHASH_KEY_BYTES]);
/* The tier of a usable peer for a tunnel of kind (an exploratory tunnel
 * has two: standard and failing; and unreachable for both). */
enum peer_tier peer_select_tier(const struct netdb_ri_entry *e,
				const struct peer_profiles *pp,
				enum peer_select_kind kind, uint64_t now_ms);

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

/*
 * The n (1..TUNNEL_BUILD_MAX_HOPS) routers ids as hops out[0..n-1], in
 * this order (fixed paths for tests: tunnel_mgr_set_test_hops()).  Each
 * must be in s and pass peer_select_check(); profiles, tiers, the pay
 * policy and the /16 rule are not applied.  ERR_NOT_FOUND otherwise (out
 * is then undefined); *need_long as for peer_select_hops().
 */
int peer_select_fixed(const struct peer_select_cfg *cfg,
		      const struct netdb_store *s, const uint8_t (*ids)[32],
		      unsigned n, uint64_t now_ms,
		      struct tunnel_build_hop *out, bool *need_long);

#endif /* TUNNELS_PEER_SELECT_H */
