/*
 * The transport manager: one session per peer over whichever transport
 * reaches it (NTCP2 now, SSU2 later), connect on demand with a send queue
 * per peer, limits, and bandwidth counters.  Layers above (netDb,
 * tunnels) only see transport_send() and the receive hook; a transport
 * plugs in below through struct transport_ops and the transport_conn_*()
 * calls, so adding SSU2 changes nothing above this file.
 *
 * A connection ("conn") is a transport's session, named by the pair
 * (transport id, conn id) the transport chooses.  It is bound to a peer
 * (a router hash) once its handshake completes: transport_conn_up().
 * From then on the transport pulls queued messages with
 * transport_conn_pull() whenever it can send, hands received messages to
 * transport_conn_recv(), and reports the end with transport_conn_down().
 *
 * Queue policy: a message waits in its peer's queue until a session takes
 * it.  A queue is capped in messages and bytes, and all queues together in
 * bytes; a message that does not fit is dropped (tail drop: the caller
 * gets ERR_LIMIT and the drop is counted).  Expired messages are dropped
 * when pulled.  A failed connection attempt drops the peer's queue and
 * holds the peer back for TRANSPORT_RETRY_BACKOFF_MS.
 *
 * Duplicate sessions: when a second session comes up for a peer (both
 * sides dialled at once), both routers keep the one initiated by the
 * router with the smaller hash, so they agree without talking.
 *
 * Thread: loop thread only.  Ownership: the caller owns the manager and
 * frees it after every transport that uses it.
 */
#ifndef ROUTER_TRANSPORT_H
#define ROUTER_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/i2np.h"

struct evloop;
struct router_info;
struct transport_mgr;	/* opaque */

#define TRANSPORT_MAX_TRANSPORTS 4
#define TRANSPORT_HASH_BYTES 32
/* A peer whose connection attempt failed is not dialled again for this long. */
#define TRANSPORT_RETRY_BACKOFF_MS 30000
/* A spare session (see transport_conn_up) still unneeded after this long
 * is closed: a peer that wanted it has closed the other one by then. */
#define TRANSPORT_SPARE_GRACE_MS 5000
/* Bandwidth rates are averaged over this window. */
#define TRANSPORT_RATE_WINDOW_MS 10000

/* Why the manager closes a session (each transport maps it to its own
 * codes; NTCP2's termination reasons). */
enum transport_close {
	TRANSPORT_CLOSE_NORMAL,
	TRANSPORT_CLOSE_DUPLICATE,	/* another session to the peer won */
	TRANSPORT_CLOSE_LIMIT,		/* over the session limit */
	TRANSPORT_CLOSE_SHUTDOWN,	/* we are stopping */
	TRANSPORT_CLOSE_BANNED,
};

/* What a transport implements.  impl is the transport's own object. */
struct transport_ops {
	const char *name;	/* "NTCP2" */
	/*
	 * Cost of reaching ri with this transport (lower is better), or -1
	 * when it has no address we can use.
	 */
	int (*reach_cost)(void *impl, const struct router_info *ri);
	/*
	 * Start connecting to ri (borrowed for the call).  On success
	 * *conn_id names the attempt; its outcome arrives later through
	 * transport_conn_up() or transport_conn_down().  An error means no
	 * attempt was started.
	 */
	int (*connect)(void *impl, const struct router_info *ri,
		       uint64_t *conn_id);
	/* Messages are queued for the peer of conn: pull them when you can.
	 * Must not call back into the manager synchronously. */
	void (*wake)(void *impl, uint64_t conn_id);
	/* Close conn (after flushing what it has, where the transport can).
	 * transport_conn_down() follows, later, not from inside this call. */
	void (*close)(void *impl, uint64_t conn_id, enum transport_close why);
};

/* Hooks into the layers above (installed by main()). */
struct transport_hooks {
	/* A message arrived from peer; takes m. */
	void (*recv)(void *ctx, const uint8_t peer[TRANSPORT_HASH_BYTES],
		     struct i2np_msg *m);
	/* The RouterInfo of peer for connecting (borrowed; NULL if unknown). */
	const struct router_info *(*lookup)(void *ctx,
					    const uint8_t peer[TRANSPORT_HASH_BYTES]);
	/* A verified RouterInfo arrived over a transport (handshake or RI
	 * block); bytes borrowed for the call.  flood: the sender asked us to
	 * flood it. */
	void (*store_ri)(void *ctx, const uint8_t *ri, size_t len, bool flood);
	/* A session with peer came up or went down (optional). */
	void (*peer_up)(void *ctx, const uint8_t peer[TRANSPORT_HASH_BYTES],
			bool inbound);
	void (*peer_down)(void *ctx, const uint8_t peer[TRANSPORT_HASH_BYTES]);
	/* Our connection attempt to peer failed (optional): its queue was
	 * dropped and it is backed off for TRANSPORT_RETRY_BACKOFF_MS. */
	void (*peer_failed)(void *ctx,
			    const uint8_t peer[TRANSPORT_HASH_BYTES]);
	/* The peer's queue fell to the low-water mark after being above it
	 * (optional; senders that pace themselves use it). */
	void (*queue_low)(void *ctx, const uint8_t peer[TRANSPORT_HASH_BYTES]);
	void *ctx;
};

struct transport_limits {
	size_t max_sessions;		/* established + connecting */
	size_t peer_queue_msgs;		/* per peer */
	size_t peer_queue_bytes;	/* per peer */
	size_t total_queue_bytes;	/* all peers */
	size_t queue_low_msgs;		/* queue_low hook threshold */
	/* Inbound handshakes a minute, in all and from one IP address
	 * (router/ratelim.h buckets, a burst of a sixth of a minute's, at
	 * least 10); 0: no limit.  The defaults set none: bitsd takes them
	 * from its [limits] section. */
	unsigned handshakes_per_min, handshakes_per_ip_min;
};
#define TRANSPORT_DEFAULT_MAX_SESSIONS 512
#define TRANSPORT_DEFAULT_PEER_QUEUE_MSGS 1024
#define TRANSPORT_DEFAULT_PEER_QUEUE_BYTES (4u << 20)
#define TRANSPORT_DEFAULT_TOTAL_QUEUE_BYTES (64u << 20)
#define TRANSPORT_DEFAULT_QUEUE_LOW_MSGS 64
void transport_limits_default(struct transport_limits *lim);

/* Counters, totals since start plus rates over TRANSPORT_RATE_WINDOW_MS. */
struct transport_stats {
	uint64_t bytes_in, bytes_out;
	uint64_t msgs_in, msgs_out;
	uint64_t msgs_dropped;		/* queue full, expired, failed peer */
	uint64_t msgs_expired;		/* of those: expired while queued */
	uint64_t msgs_local;		/* sent to ourselves, handed to recv */
	uint64_t sessions_in, sessions_out;	/* established, cumulative */
	uint64_t connect_failures;
	uint64_t handshakes_refused;	/* over a handshake rate limit */
	size_t sessions;		/* established now */
	size_t connecting;		/* outbound attempts now */
	size_t queued_msgs, queued_bytes;
	double rate_in_bps, rate_out_bps;	/* bytes per second */
};

/*
 * New manager for the router whose hash is self (copied), on el
 * (borrowed).  lim NULL takes the defaults.  Never returns NULL.
 */
struct transport_mgr *transport_mgr_new(struct evloop *el,
					const uint8_t self[TRANSPORT_HASH_BYTES],
					const struct transport_limits *lim);
/* Free tm, dropping queued messages.  Every transport must be freed
 * first.  Accepts NULL. */
void transport_mgr_free(struct transport_mgr *tm);
void transport_mgr_set_limits(struct transport_mgr *tm,
			      const struct transport_limits *lim);
void transport_mgr_limits(const struct transport_mgr *tm,
			  struct transport_limits *out);
void transport_mgr_set_hooks(struct transport_mgr *tm,
			     const struct transport_hooks *h);
/* Register a transport (ops borrowed, static); returns its id. */
unsigned transport_mgr_add(struct transport_mgr *tm,
			   const struct transport_ops *ops, void *impl);
/* The router hash the manager was made for (borrowed). */
const uint8_t *transport_mgr_self(const struct transport_mgr *tm);

/*
 * Send m to peer; takes m on every path.  Queues it and, without a
 * session, starts one through the cheapest transport that reaches the
 * peer's RouterInfo (hooks.lookup).  A message to ourselves is handed to
 * hooks.recv (peer = our hash) from the loop, never from inside this
 * call.  Errors (m dropped and counted): ERR_NOT_FOUND (no RouterInfo),
 * ERR_UNSUPPORTED
 * (no transport reaches it), ERR_LIMIT (queue full or session limit),
 * ERR_BAD_STATE (the peer failed recently: backing off), and the
 * transport's connect error.
 */
int transport_send(struct transport_mgr *tm,
		   const uint8_t peer[TRANSPORT_HASH_BYTES], struct i2np_msg *m);
/* Open a session to peer (when none is up) by sending it a Delivery
 * Status, which the peer ignores, that expires in ttl_ms.  As
 * transport_send(). */
int transport_dial(struct transport_mgr *tm,
		   const uint8_t peer[TRANSPORT_HASH_BYTES], uint64_t ttl_ms);
/* True when an established session to peer exists. */
bool transport_is_connected(const struct transport_mgr *tm,
			    const uint8_t peer[TRANSPORT_HASH_BYTES]);
/* Messages queued for peer (0 if unknown). */
size_t transport_queued(const struct transport_mgr *tm,
			const uint8_t peer[TRANSPORT_HASH_BYTES]);
/* Close every session (reason SHUTDOWN) and drop every queue. */
void transport_mgr_close_all(struct transport_mgr *tm);
void transport_mgr_stats(struct transport_mgr *tm, struct transport_stats *out);
/* Call fn for each established session's peer. */
void transport_mgr_foreach_peer(const struct transport_mgr *tm,
				void (*fn)(void *arg, const uint8_t peer[32],
					   bool inbound),
				void *arg);

/* ---- for transports ---- */

/* Whether a new inbound handshake may start (session limit). */
bool transport_may_accept(const struct transport_mgr *tm);
/* The same, and within the handshake rate limits for the IP address ip
 * (IPv4 as ::ffff:a.b.c.d); takes a token when it says yes. */
bool transport_may_accept_from(struct transport_mgr *tm,
			       const uint8_t ip[16]);
/*
 * conn's handshake completed with peer.  inbound: the peer dialled us.
 * Returns 0 (conn is the peer's session now, or its spare: with two
 * sessions after a simultaneous open, the one dialled by the smaller
 * router hash carries our traffic and the other stays open, receiving,
 * and takes over if the first ends, as a peer
 * such as i2pd may keep either; after TRANSPORT_SPARE_GRACE_MS with
 * both still up the spare is closed), ERR_LIMIT (close it: too many
 * sessions) or ERR_ARG (peer is ourselves).  On 0 the manager may close
 * an older spare through ops->close (reason DUPLICATE).
 */
int transport_conn_up(struct transport_mgr *tm, unsigned tid, uint64_t conn_id,
		      const uint8_t peer[TRANSPORT_HASH_BYTES], bool inbound);
/* conn ended (established or not; for an outbound attempt that never came
 * up, the failure backs the peer off).  Safe for a conn the manager does
 * not know. */
void transport_conn_down(struct transport_mgr *tm, unsigned tid,
			 uint64_t conn_id);
/*
 * The next message for conn's peer (caller owns it), or NULL when none
 * fits max_len bytes of body (it stays queued) or the queue is empty.
 * Expired messages are dropped on the way.
 */
struct i2np_msg *transport_conn_pull(struct transport_mgr *tm, unsigned tid,
				     uint64_t conn_id, size_t max_len);
/* A message arrived on conn; takes m. */
void transport_conn_recv(struct transport_mgr *tm, unsigned tid,
			 uint64_t conn_id, struct i2np_msg *m);
/* A verified RouterInfo arrived on conn (see hooks.store_ri). */
void transport_conn_ri(struct transport_mgr *tm, const uint8_t *ri, size_t len,
		       bool flood);
/* Count wire bytes (both directions, any session). */
void transport_count_bytes(struct transport_mgr *tm, size_t in, size_t out);
/* The RouterInfo of peer through the lookup hook, or NULL. */
const struct router_info *transport_lookup(const struct transport_mgr *tm,
					   const uint8_t peer[TRANSPORT_HASH_BYTES]);

#endif /* ROUTER_TRANSPORT_H */
