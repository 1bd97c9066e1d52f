/*
 * Our own tunnels (geti2p.net/docs/tunnels/implementation "Tunnel
 * Pools", "Tunnel Creation", "Tunnel Testing";
 * geti2p.net/spec/tunnel-creation-ecies; PROTOCOLS.md 2.8-2.9): the
 * creator side.  A manager holds pools (the exploratory pool, and client
 * pools other layers add), each with its inbound and outbound tunnels.
 *
 *  - Building: hops from tunnels/peer_select.h, a ShortTunnelBuild (25)
 *    when every hop is 0.9.51 or newer, else VariableTunnelBuild (23),
 *    sent to the first hop (an inbound build through one of our outbound
 *    tunnels when we have one).  An inbound tunnel's reply is the build
 *    message itself, coming back to us from its last hop with the reply
 *    message id; an outbound tunnel's reply (OutboundTunnelBuildReply,
 *    garlic-wrapped with the OBEP's one-time key and tag) comes through
 *    one of our inbound tunnels, or, before we have one, to a zero-hop
 *    inbound tunnel (a TunnelGateway message to us).  Each hop's reply
 *    byte and the reply time are recorded in its profile; a build
 *    without a reply in TUNNEL_BUILD_TIMEOUT_MS times out (and is
 *    replaced), but a reply up to TUNNEL_BUILD_LATE_MS later still
 *    counts.
 *  - Pools: keep quantity (+ backup) tunnels each way, build
 *    replacements TUNNEL_REBUILD_BEFORE_MS (or half the lifetime, if
 *    shorter) before a tunnel expires, and
 *    replace failed ones.  Length: length + 0..variance hops, or with a
 *    negative variance -N, length - N..length + N (Java's
 *    TunnelPeerSelector.getLength), never below 0, and never 0 unless
 *    the length is 0 or the pool allows zero hops.
 *  - Peer order: each pool has a random key per direction, and the hops
 *    of each of its tunnels are put in that key's order
 *    (peer_select_order()), so the same peers keep the same relative
 *    order in that pool's tunnels.
 *  - Too few routers: when the netDb has held fewer usable routers than
 *    a tunnel's length for TUNNEL_POOL_SHORTEN_AFTER_MS (not at once: at
 *    start the netDb may still be loading), the pool builds a shorter
 *    tunnel, down to one hop,
 *    or to zero hops when the pool allows it (allow_zero_hop; Java's
 *    exploratory pools allow it, i2pd's do not), rather than stalling;
 *    Java's peer selectors likewise return fewer peers than asked for
 *    and its pools build with them, for client pools too (i2pd's client
 *    pools wait instead).  The first shortened build of a pool's
 *    direction is logged (notice), and the pool's figures show it.
 *    While it has such tunnels, the pool looks every
 *    TUNNEL_POOL_RETRY_MS whether full-length ones can be had again, and
 *    then replaces them at once rather than at their expiry.
 *    Routers marked unreachable (tunnels/profile.h) are left out first:
 *    a shorter tunnel is preferred to one through a router that stopped
 *    answering, and only when not even the shortest tunnel can be had
 *    are they taken again.
 *  - Standby: backup tunnels are built and tested like the others but
 *    not used (no traffic, no lease) while the pool has quantity active
 *    ones; when an active tunnel fails a test or nears its expiry, a
 *    standby one takes its place at the next tick.
 *  - Unreachable: a first hop the send hook cannot reach (an error
 *    other than ERR_LIMIT) is marked unreachable in its profile, as is
 *    a router a connection failed to (tunnel_mgr_peer_unreachable());
 *    our tunnels through it are then handled as having failed a test
 *    (replaced, no traffic while others can carry it) and tested at
 *    once: one more failed test drops them, a passed one keeps them.
 *  - Testing: every TUNNEL_TEST_INTERVAL_MS an outbound tunnel sends a
 *    DeliveryStatus to the gateway of an inbound tunnel of its pool; the
 *    pair passes when it comes back within TUNNEL_TEST_TIMEOUT_MS.  A
 *    tunnel failing two tests in a row is dropped (and so replaced).  An
 *    inbound tunnel that failed a test is tried again with the next
 *    outbound tunnel that has not.
 *  - Zero hops: a pool of length 0 (without variance) has tunnels that
 *    need no build.  A zero-hop inbound tunnel has us as its gateway and
 *    endpoint: its lease names us and an id of ours, and TunnelGateway
 *    messages to that id are ours.  A zero-hop outbound tunnel sends
 *    directly to the target router (or a TunnelGateway message to the
 *    target tunnel's gateway), to ourselves too: the send hook must
 *    loop a message to self back (later, not from inside the send).
 *  - Traffic: tunnel_pool_send() sends an I2NP message out through an
 *    outbound tunnel to a router or a tunnel; what arrives at our inbound
 *    endpoints and is not the manager's own (build replies, tests) goes
 *    to the deliver hook.
 *
 * Nothing here touches the network or a clock: messages leave through
 * the send hook, time comes in as arguments (tunnel_mgr_tick() runs the
 * timers).  Thread: one (the event loop).  Ownership: the caller owns the
 * manager, the manager owns its pools and tunnels.
 */
#ifndef TUNNELS_TUNNEL_POOL_H
#define TUNNELS_TUNNEL_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netdb/store.h"
#include "router/i2np.h"
#include "tunnels/peer_select.h"
#include "tunnels/profile.h"

/* "For now, the only supported value is 600 (10 minutes)." */
#define TUNNEL_LIFETIME_MS (10ULL * 60 * 1000)
/* Rebuild at ~9 minutes. */
#define TUNNEL_REBUILD_BEFORE_MS (60ULL * 1000)
/* i2pd waits 30 s for a build reply, Java 13 s; under load we allow 20. */
#define TUNNEL_BUILD_TIMEOUT_MS 20000
/* After the timeout a build is replaced, but its reply is still read
 * this long (Java keeps "recently building" tunnels too): it takes the
 * timeout blame back from the hops, and when they all accepted, the
 * tunnel is used for the rest of its life. */
#define TUNNEL_BUILD_LATE_MS 40000
/* i2pd tests each pair every 15 s. */
#define TUNNEL_TEST_INTERVAL_MS 15000
#define TUNNEL_TEST_TIMEOUT_MS 15000
#define TUNNEL_TEST_MAX_FAILS 2
/* After a failed selection (too few peers), wait before trying again. */
#define TUNNEL_POOL_RETRY_MS 5000
/* Full-length tunnels failing this long: shorter ones (see above). */
#define TUNNEL_POOL_SHORTEN_AFTER_MS 30000
/* Messages we send through tunnels live this long. */
#define TUNNEL_MSG_TTL_MS 10000
#define TUNNEL_BUILD_MSG_TTL_MS 60000
#define TUNNEL_POOL_MAX_LENGTH 7
#define TUNNEL_POOL_MAX_QUANTITY 16
#define TUNNEL_POOL_MAX_VARIANCE 3	/* -3..3 */
#define TUNNEL_POOL_MAX_BACKUP 4
/* Defaults (i2pd's exploratory pool: 2 hops, 3 tunnels each way). */
#define TUNNEL_POOL_DEFAULT_LENGTH 2
#define TUNNEL_POOL_DEFAULT_QUANTITY 3

struct tunnel_pool_cfg {
	unsigned in_length, out_length;		/* hops, 0..7 */
	unsigned in_quantity, out_quantity;	/* 1..16 */
	int in_variance, out_variance;		/* -3..3 (see above) */
	unsigned in_backup, out_backup;		/* 0..4 standby tunnels */
	bool allow_zero_hop;	/* shorten to zero hops, and variance too */
	enum peer_select_kind kind;
};
void tunnel_pool_cfg_default(struct tunnel_pool_cfg *c);
/* ERR_RANGE when a field is outside its limits. */
int tunnel_pool_cfg_check(const struct tunnel_pool_cfg *c);

struct tunnel_mgr_hooks {
	/* Send msg to peer (directly); takes msg on every path.  Required.
	 * peer may be ourselves (zero-hop tunnels): the message is then to
	 * be handled as received, after the call returns. */
	int (*send)(void *ctx, const uint8_t peer[32], struct i2np_msg *msg);
	/* A message that arrived through one of our inbound tunnels (LOCAL
	 * delivery) and is not a build reply or a test; takes msg.
	 * Optional (dropped without it). */
	void (*deliver)(void *ctx, struct i2np_msg *msg);
	void *ctx;
	/* Packing: the messages sent into an outbound tunnel wait so that
	 * those of one loop pass share its tunnel messages.  Called when the
	 * first waits; the owner must then call tunnel_mgr_flush() before
	 * the event loop waits again.  Optional: without it each message is
	 * packed alone and sent at once. */
	void (*flush_soon)(void *ctx);
};

/*
 * Paid relaying (docs/relaypay.md §3): the ticket for hop (router hash) of
 * a tunnel about to be built, or of one built that has carried what its
 * tickets paid for, written into out (outmax bytes); returns its length,
 * 0 for none.  A tunnel with a ticket is built with long records.  *tag
 * is 0 for a tunnel's first call; what the function leaves there comes
 * back with each later call for the same tunnel (the payer's pot: one
 * tunnel's tickets name one signer).  pool numbers the tunnel's pool: 0
 * the exploratory one, each client pool the next number when added
 * (never reused), so a payer can keep pools' pots apart (a destination's
 * tunnels and another's, a client's and a server's).  *bytes: the bytes
 * of tunnel messages the ticket is to pay the hop for (0: the payer's
 * own size); the function leaves there what it pays for, which may be
 * less (a ticket is worth at most its face value).
 */
typedef size_t (*tunnel_ticket_fn)(void *ctx, const uint8_t hop[32],
				   bool inbound, unsigned pool, uint32_t *tag,
				   uint64_t *bytes, uint8_t *out,
				   size_t outmax);

struct tunnel_mgr_cfg {
	uint8_t self[32];
	bool allow_same_subnet;		/* loopback test networks */
	const struct netdb_store *store;	/* borrowed; outlives the mgr */
	struct peer_profiles *profiles;		/* borrowed; outlives the mgr */
	struct tunnel_pool_cfg exploratory;
	uint64_t lifetime_ms;		/* 0: TUNNEL_LIFETIME_MS (tests may
					 * shorten our use of a tunnel) */
};

struct tunnel_pool_stats {
	size_t in_ready, out_ready;		/* established */
	size_t in_building, out_building;
	size_t in_standby, out_standby;		/* established backups */
	bool in_shortened, out_shortened;	/* the last build was shorter
						 * than asked (too few routers) */
	uint64_t builds_short;			/* shortened builds */
	uint64_t builds_started, builds_ok, builds_rejected;
	uint64_t builds_timeout, builds_bad;	/* bad: reply did not verify */
	uint64_t builds_late;			/* replies after the timeout */
	uint64_t tickets_sent;			/* hops given a ticket */
	uint64_t topups_sent;			/* tickets sent after the build */
	uint64_t tests_sent, tests_ok, tests_failed;
	uint64_t expired, failed;		/* tunnels removed */
	uint64_t msgs_sent, msgs_received;	/* through our tunnels */
	uint64_t dropped;			/* malformed or unwanted input */
};

struct tunnel_mgr;	/* opaque */
struct tunnel_pool;	/* opaque; owned by its manager */

/* New manager (cfg and hooks copied) with its exploratory pool.  ERR_RANGE
 * for a bad pool config. */
int tunnel_mgr_new(const struct tunnel_mgr_cfg *cfg,
		   const struct tunnel_mgr_hooks *hooks, struct tunnel_mgr **out);
/* Free m, its pools and tunnels (wiping their keys); messages waiting
 * for tunnel_mgr_flush() are dropped.  Accepts NULL. */
void tunnel_mgr_free(struct tunnel_mgr *m);
/* Send what waits in outbound tunnels (see flush_soon). */
void tunnel_mgr_flush(struct tunnel_mgr *m);
struct tunnel_pool *tunnel_mgr_exploratory(struct tunnel_mgr *m);
/* Ask fn (NULL: nobody) for each hop's ticket from now on. */
void tunnel_mgr_set_ticket_fn(struct tunnel_mgr *m, tunnel_ticket_fn fn,
			      void *ctx);
/* Paid relaying: once a paid tunnel has carried about what its tickets
 * pay for, each paid hop gets further tickets from the ticket function,
 * sent after the build (tunnel_topup_encode(), docs/relaypay.md §3.1).
 * The build ticket pays for bytes (0: no top-ups); a further one for
 * bytes doubled as long as that stays within TUNNEL_TOPUP_SIZE_S times
 * what the tunnel carried in the last tick, at most TUNNEL_TOPUP_GROW_MAX
 * times bytes; as many as pay for what the tunnel carried, at most
 * TUNNEL_TOPUP_PER_TICK a hop each tick. */
#define TUNNEL_TOPUP_PER_TICK 16
#define TUNNEL_TOPUP_SIZE_S 4
#define TUNNEL_TOPUP_GROW_MAX 8
void tunnel_mgr_set_topup(struct tunnel_mgr *m, uint64_t bytes);
/* Paid or free hops for our tunnels from now on, at most max_paid paid
 * ones a tunnel (0: any; tunnels/peer_select.h). */
void tunnel_mgr_set_pay_policy(struct tunnel_mgr *m,
			       enum peer_pay_policy pay, unsigned max_paid);
/* Tests and benchmarks (fixed paths, e.g. tools/bench/relaypay-net):
 * every tunnel we build in a direction, in every pool, gets exactly the
 * n routers ids as its hops, in this order (hops[0] as in
 * tunnel_build_cfg: the inbound gateway, or the hop after us outbound),
 * whatever the pool's length; a build waits while one of them is not in
 * the netDb or cannot be a hop (peer_select_fixed()).  n 0: hops drawn
 * as usual.  ERR_ARG for n over TUNNEL_BUILD_MAX_HOPS. */
int tunnel_mgr_set_test_hops(struct tunnel_mgr *m, bool inbound,
			     const uint8_t (*ids)[32], unsigned n);
/* The peer profiles m records into (its cfg's). */
const struct peer_profiles *tunnel_mgr_profiles(const struct tunnel_mgr *m);
/* Add a client pool (cfg copied; owned by m until tunnel_pool_remove()).
 * ERR_RANGE for a bad config. */
int tunnel_mgr_add_pool(struct tunnel_mgr *m, const struct tunnel_pool_cfg *cfg,
			struct tunnel_pool **out);
/* Remove and free a client pool (not the exploratory one). */
void tunnel_pool_remove(struct tunnel_pool *p);

/* Run the timers at now_ms (wall clock, for build request times) and
 * mono_ms (monotonic): build timeouts, tests, expiry, new builds. */
void tunnel_mgr_tick(struct tunnel_mgr *m, uint64_t now_ms, uint64_t mono_ms);
/*
 * Offer a message from peer (NULL: unknown): TunnelData for one of our
 * inbound endpoints, TunnelGateway for a zero-hop reply tunnel, or a
 * build message that is the reply to one of our inbound builds.  Returns
 * true when it was ours (m taken), false otherwise (m untouched).
 */
bool tunnel_mgr_handle(struct tunnel_mgr *m, const uint8_t *peer,
		       struct i2np_msg *msg, uint64_t now_ms, uint64_t mono_ms);
/* peer could not be reached (a failed connection): leave it out of new
 * tunnels for a while (peer_profiles_mark_unreachable()); our tunnels
 * through it are replaced and tested at once (one more failed test
 * retires them). */
void tunnel_mgr_peer_unreachable(struct tunnel_mgr *m, const uint8_t peer[32],
				 uint64_t now_ms);
/* An id we receive on (the transit table must not take it). */
bool tunnel_mgr_id_in_use(const struct tunnel_mgr *m, uint32_t id);
/* Every pool's figures, summed (in_shortened, out_shortened: any;
 * tickets_sent, topups_sent: pools removed since included). */
void tunnel_mgr_stats(const struct tunnel_mgr *m, struct tunnel_pool_stats *out);

void tunnel_pool_stats(const struct tunnel_pool *p,
		       struct tunnel_pool_stats *out);
/*
 * Send msg (taken on every path) out through one of p's outbound tunnels,
 * to the router to (tunnel_id 0) or to the gateway to of tunnel tunnel_id.
 * ERR_NOT_FOUND when p has no outbound tunnel.
 */
int tunnel_pool_send(struct tunnel_pool *p, const uint8_t to[32],
		     uint32_t tunnel_id, struct i2np_msg *msg,
		     uint64_t mono_ms);
/*
 * As tunnel_pool_send(), through the outbound tunnel *path names while it
 * is one of p's and as good as any (established, not near its end nor
 * failing its tests), else through a new pick, whose name is written to
 * *path (0 before the first send).  A flow of messages kept on one tunnel
 * arrives in order: spread at random over the pool's tunnels, a stream's
 * packets came out of order so often that half of its resends were
 * needless.
 */
int tunnel_pool_send_on(struct tunnel_pool *p, uint64_t *path,
			const uint8_t to[32], uint32_t tunnel_id,
			struct i2np_msg *msg, uint64_t mono_ms);
/* A reply path into us: gateway and tunnel id of one of p's inbound
 * tunnels.  ERR_NOT_FOUND when it has none. */
int tunnel_pool_reply_path(const struct tunnel_pool *p, uint8_t gateway[32],
			   uint32_t *tunnel_id, uint64_t mono_ms);
/*
 * The hops of p's established tunnel i of a direction (0 ≤ i <
 * in_ready/out_ready; standby ones not counted), gateway first, into
 * hops (n ≤ 8 hashes).
 * ERR_NOT_FOUND past the end.
 */
int tunnel_pool_hops(const struct tunnel_pool *p, bool inbound, size_t i,
		     uint8_t hops[][32], unsigned *n);
/*
 * The lease of p's established inbound tunnel i (0 ≤ i < in_ready; not
 * standby ones): its
 * gateway, the tunnel id the gateway receives on and when we stop using
 * the tunnel (monotonic).  ERR_NOT_FOUND past the end.
 */
int tunnel_pool_lease(const struct tunnel_pool *p, size_t i,
		      uint8_t gateway[32], uint32_t *tunnel_id,
		      uint64_t *expires_mono_ms);

#endif /* TUNNELS_TUNNEL_POOL_H */
