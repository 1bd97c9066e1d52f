/*
 * The network of local destinations over the router's tunnels: the
 * struct client_net (apps/client/net.h) bitsd's SAM bridge runs on.
 *
 *   attach  a pair of client tunnel pools for the destination, its
 *           LeaseSet2 (X25519 key, type 4, and a lease per inbound
 *           tunnel) signed and published through its outbound tunnels to
 *           the floodfills closest to it in garlic to their router
 *           keys (with a reply token) whenever
 *           the leases change (once it has an outbound tunnel; again
 *           TUNNELNET_PUBLISH_RETRY_MS later when no store went out,
 *           backing off) and
 *           every TUNNELNET_REPUBLISH_MS (or, with
 *           client_ls_opts.encrypted, an EncryptedLeaseSet around it
 *           under today's blinded key, the LeaseSet2 itself only bundled
 *           to the remotes we talk to), and its
 *           ratchet keys for the garlic that arrives on its tunnels
 *   send    the client payload in a Data clove, garlic through the
 *           (from, to) ratchet session (our LeaseSet bundled while the
 *           session is new or after it changed), out through one of the
 *           sender's outbound tunnels to one of the remote's leases; an
 *           unknown LeaseSet (or one whose leases have all ended or
 *           end within TUNNELNET_LEASE_MARGIN_MS) is looked up through
 *           the netDb and the
 *           payload queued until it is found (TUNNELNET_QUEUE_MS; a
 *           failed lookup is made again meanwhile); a destination a
 *           payload waited for in vain gets ERR_NETWORK for a while
 *   lookup  our own destinations, then the netDb's LeaseSets (a miss
 *           starts a lookup)
 *   lookup_blinded  a b33 destination: the EncryptedLeaseSet under its
 *           blinded key, looked up and decrypted (with a client key for
 *           per-client ones); its inner LeaseSet2 is kept here, out of
 *           the netDb, and looked up again by the blinded key
 *
 * What a remote's ratchet session is owed (an NSR, ACKs, our reverse
 * Next Key) goes with the next payload to it, or alone in a message of
 * its own TUNNELNET_ACK_MS after it was owed when none went (the timer).
 * Garlic from our inbound tunnels reaches it through tunnelnet_garlic_in()
 * (the owner of the tunnel manager's deliver hook calls it first).
 * Thread: the loop thread.  Ownership: the caller owns tn and frees it
 * before the tunnel manager and the netDb.
 */
#ifndef APPS_CLIENT_TUNNELNET_H
#define APPS_CLIENT_TUNNELNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/client/net.h"
#include "crypto/base/bytes.h"
#include "crypto/x25519.h"
#include "router/garlic_router.h"
#include "router/leaseset.h"
#include "router/ratchet.h"
#include "tunnels/tunnel_pool.h"

struct evloop;
struct netdb;
struct dest_keys;
struct tunnelnet;	/* opaque */

/* Leases, LeaseSet and queue timers run this often... */
#define TUNNELNET_TICK_MS 1000
/* ...and this often while a destination waits for its first LeaseSet
 * or for it to reach a floodfill (for at most TUNNELNET_FAST_FOR_MS
 * after its attach) or payloads wait in the queue: a new session's
 * LeaseSet goes out as soon as it has an inbound and an outbound tunnel,
 * and what waited goes as soon as it can. */
#define TUNNELNET_FAST_TICK_MS 50
#define TUNNELNET_FAST_FOR_MS 60000
/* Publish again this often even without a change... */
#define TUNNELNET_REPUBLISH_MS (5 * 60 * 1000)
/* ...and this soon when no store went out (no floodfill known yet),
 * the wait doubling at each try that goes nowhere up to
 * TUNNELNET_PUBLISH_RETRY_MAX_MS; at once when a floodfill becomes
 * known meanwhile. */
#define TUNNELNET_PUBLISH_RETRY_MS 1000
#define TUNNELNET_PUBLISH_RETRY_MAX_MS 60000
/* A clove that expired longer ago than this is dropped (clock skew). */
#define TUNNELNET_CLOVE_GRACE_MS (60 * 1000)
/* Our garlic payloads end in a Padding block of 0-15 random bytes (the
 * ecies spec's "0-15 bytes") when they stay within this size, under
 * what two tunnel messages hold, as i2pd pads: full-size streaming
 * packets get none and take no more fragments. */
#define TUNNELNET_PAD_UNTIL 1850
#define TUNNELNET_PAD_MAX 15
/* Floodfills each LeaseSet is stored to. */
#define TUNNELNET_PUBLISH_PEERS 2
/* A payload waits this long for its LeaseSet. */
#define TUNNELNET_QUEUE_MS 30000
#define TUNNELNET_QUEUE_MAX 256
/* A failed lookup is made again while payloads wait for it, after half
 * the time the oldest of them has waited, at least
 * TUNNELNET_RELOOKUP_MIN_MS and at most TUNNELNET_RELOOKUP_MS: a SAM
 * client connects to a session created a moment before, whose LeaseSet
 * is out a fraction of a second later. */
#define TUNNELNET_RELOOKUP_MIN_MS 250
#define TUNNELNET_RELOOKUP_MS 2000
/* After a payload waited TUNNELNET_QUEUE_MS for a LeaseSet in vain,
 * sends to that destination fail at once (ERR_NETWORK: the stream fails
 * instead of retrying) this long. */
#define TUNNELNET_NEGATIVE_MS 30000
#define TUNNELNET_NEGATIVE_MAX 32
/* Sending to a remote that sent nothing back for this long, look its
 * LeaseSet up again and bundle ours again (at most this often). */
#define TUNNELNET_QUIET_MS 8000
/* Local destinations told at most when a quiet remote's LeaseSet is
 * renewed (route_renewed). */
#define TUNNELNET_RENEWED_MAX 16
/* Quiet this long, the ratchet session to it starts anew (an NS): a
 * remote that restarted with the same keys reads none of the old one. */
#define TUNNELNET_RENEW_MS 20000
/* A remote's ratchet session owes it a protocol-layer response (an NSR,
 * an ACK, our reverse Next Key) and we sent it nothing for this long
 * since: an Existing Session message with only those blocks and padding
 * goes (ecies spec "Message ACKs": wait a little for the application to
 * answer; with one-way traffic the remote's DH ratchet needs it). */
#define TUNNELNET_ACK_MS 1000
/* Leases ending sooner than this are not used to send. */
#define TUNNELNET_LEASE_MARGIN_MS 10000
/* Blinded keys change at midnight UTC. */
#define TUNNELNET_DAY_MS (86400ULL * 1000)
/* Remote destinations known by their encrypted LeaseSets (b33). */
#define TUNNELNET_ELS_MAX 32
/* Remote destinations remembered per local one (LeaseSet bundling). */
#define TUNNELNET_PEERS_MAX 128

struct tunnelnet_cfg {
	struct evloop *el;
	struct tunnel_mgr *tunnels;	/* borrowed; outlives tn */
	struct netdb *db;		/* borrowed; outlives tn */
	struct tunnel_pool_cfg pool;	/* each destination's pools */
	struct ratchet_params ratchet;	/* zero: the defaults */
};

int tunnelnet_new(const struct tunnelnet_cfg *cfg, struct tunnelnet **out);
/* Detach everything, drop the queue.  Accepts NULL. */
void tunnelnet_free(struct tunnelnet *tn);
struct client_net tunnelnet_client_net(struct tunnelnet *tn);
/*
 * A Garlic message that arrived on one of our inbound tunnels: true when
 * one of our destinations opened it (m taken, its cloves handed on),
 * false otherwise (m untouched: it may be the router's).
 */
bool tunnelnet_garlic_in(struct tunnelnet *tn, struct i2np_msg *m);

/* Run the timer's work now (leases, publishing, the queue; tests). */
void tunnelnet_poll(struct tunnelnet *tn);

struct tunnelnet_stats {
	uint64_t sent, queued, queue_dropped, no_route;
	uint64_t garlic_in, data_in, stores_in, bad_payload;
	uint64_t published, lookups;
	uint64_t publish_none;	/* LeaseSet publishes that went nowhere */
	uint64_t published_garlic;	/* of published: in garlic */
	/* Stores verified at another floodfill, and lost (netdb_verify_store:
	 * stored again at once). */
	uint64_t ls_verified, ls_lost;
	uint64_t refreshes;	/* LeaseSets looked up again: quiet remotes */
	/* ...that found a newer one: our destinations' streams told */
	uint64_t routes_renewed;
	/* of refreshes: between sends, for a stream waiting on its RTO */
	uint64_t quiet_refreshes;
	/* ratchet sessions started anew for such a stream, which resent at
	 * once (TUNNELNET_RENEW_MS of silence) */
	uint64_t quiet_renewals;
	uint64_t els_opened;	/* encrypted LeaseSets decrypted */
	uint64_t acks_sent;	/* of sent: protocol-layer responses only */
};
void tunnelnet_stats(const struct tunnelnet *tn, struct tunnelnet_stats *out);
/* The ratchet counters of local destination d (NULL: not attached). */
const struct ratchet_stats *tunnelnet_ratchet_stats(const struct tunnelnet *tn,
						    const struct client_dest *d);

/* ---- the pure parts (tests) ---- */

/*
 * The DatabaseStore of data (a LeaseSet of store type `type`) under key,
 * asking for the DeliveryStatus `token` through (reply_tid, reply_gw);
 * with ff_pk, in Noise_N garlic to that floodfill's router key (a LOCAL
 * clove).  NULL on error.
 */
struct i2np_msg *tunnelnet_store_msg_new(const uint8_t key[32], uint8_t type,
					 const uint8_t *data, size_t len,
					 uint32_t token, uint32_t reply_tid,
					 const uint8_t reply_gw[32],
					 const struct x25519_pk *ff_pk);

/*
 * Append the signed LeaseSet2 of k (Ed25519) with X25519 key enc and the
 * n leases (1..LEASESET_MAX_LEASES), published at now_ms and expiring
 * with the last lease.  Errors: leaseset2_encode()'s, ERR_UNSUPPORTED for
 * another signing type.
 */
int tunnelnet_leaseset_build(const struct dest_keys *k,
			     const struct x25519_pk *enc,
			     const struct lease *leases, size_t n,
			     uint64_t now_ms, struct bbuf *out);
/*
 * Append the EncryptedLeaseSet of k (Ed25519) wrapping inner (a signed
 * LeaseSet2 of k, len bytes) as o says, with inner's published and
 * expiry times and blinded for the UTC day inner was published (the day
 * a reader takes the blinding's date from: i2pd checks it); store_key
 * gets its netDb key.  Errors: ERR_UNSUPPORTED for another signing
 * type, leaseset_decode()'s and els2_encode()'s.
 */
int tunnelnet_els_build(const struct dest_keys *k,
			const struct client_ls_opts *o, const uint8_t *inner,
			size_t inner_len, struct bbuf *out,
			uint8_t store_key[32]);
/*
 * Hand the cloves of a decrypted garlic payload to destination self on:
 * Data messages as client payloads (protocol 6 to rx->mgr, others to
 * rx->datagram), the LeaseSets of DatabaseStore cloves to db (NULL:
 * dropped).  Only cloves for us are taken: LOCAL ones and DESTINATION
 * ones naming self; a DESTINATION clove for another destination and
 * ROUTER or TUNNEL ones (not forwarded) are dropped and counted in *bad,
 * as are malformed ones and those expired TUNNELNET_CLOVE_GRACE_MS
 * before now_ms (wall clock).  Returns the number of client payloads
 * delivered.
 */
size_t tunnelnet_dispatch(const struct client_rx *rx, struct netdb *db,
			  const uint8_t self[32], uint64_t now_ms,
			  const struct garlic_payload *g, uint64_t *bad);

#endif /* APPS_CLIENT_TUNNELNET_H */
