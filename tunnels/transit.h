/*
 * Transit tunnels: the participant side of I2P tunnels
 * (geti2p.net/docs/tunnels/implementation, geti2p.net/spec/i2np types
 * 18, 19, 23, 25; PROTOCOLS.md 2.8, 2.9).  One table per router holds
 * the tunnels we take part in, keyed by the tunnel id we receive on, each
 * as inbound gateway (IBGW), middle participant or outbound endpoint
 * (OBEP), with its layer keys, next hop, a 10-minute life and byte
 * counters.  The table
 *   - answers build requests (VariableTunnelBuild, ShortTunnelBuild):
 *     decrypt our record (tunnels/tunnel_build.h), decide with the limits
 *     (transit_table_decide()), reply, and forward the message, or send
 *     the reply to the creator's reply tunnel when we are the OBEP;
 *   - relays TunnelData (one layer each), packs TunnelGateway messages at
 *     an IBGW, and reassembles and delivers at an OBEP;
 *   - accounts bandwidth per tunnel and in all, and drops relayed traffic
 *     beyond the configured share (a token bucket).
 * Nothing here touches the network: messages leave through the send hook
 * main() installs (the transport manager).  Replayed TunnelData (same IV
 * and first block) is dropped through a tunnels/replay.h filter.
 *
 * Thread: one thread (the event loop).  Ownership: the caller owns the
 * table; every message handed to a hook belongs to the hook.
 */
#ifndef TUNNELS_TRANSIT_H
#define TUNNELS_TRANSIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/keystore.h"
#include "router/i2np.h"
#include "tunnels/tunnel_build.h"

/* "request expiration ... the only supported value is 600": a transit
 * tunnel lives 10 minutes; i2pd keeps it a minute longer for stragglers. */
#define TRANSIT_LIFETIME_MS (10ULL * 60 * 1000)
#define TRANSIT_GRACE_MS (60ULL * 1000)
/* i2pd's limits.transittunnels and Java's share default. */
#define TRANSIT_DEFAULT_MAX_TUNNELS 2500
#define TRANSIT_DEFAULT_SHARE_PCT 80
/* Refuse new tunnels once relayed traffic is at 90 % of the share. */
#define TRANSIT_CONGESTED_PCT 90
/* Bandwidth is averaged over this window (1-second buckets). */
#define TRANSIT_RATE_WINDOW_S 10
/* Lifetime of the messages we emit (i2pd's I2NP default is 8 s). */
#define TRANSIT_MSG_TTL_MS 8000
#define TRANSIT_BUILD_TTL_MS 60000

enum transit_role {
	TRANSIT_PARTICIPANT,
	TRANSIT_IBGW,
	TRANSIT_OBEP,
};

/* The decision on a build request; every refusal is reply 30 on the wire
 * ("to avoid fingerprinting"), the reason is for our statistics. */
enum transit_verdict {
	TRANSIT_ACCEPT,
	TRANSIT_REJECT_DISABLED,	/* max_tunnels is 0 */
	TRANSIT_REJECT_LIMIT,		/* max_tunnels reached */
	TRANSIT_REJECT_BANDWIDTH,	/* share nearly used, or "m" too big */
	TRANSIT_REJECT_CONGESTION,	/* the congestion hook said so */
	TRANSIT_REJECT_DUP_ID,		/* receive id in use */
	TRANSIT_REJECT_LAYER_TYPE,	/* short record, layer type not AES */
	TRANSIT_REJECT_OPTIONS,		/* bad bandwidth options */
	TRANSIT_REJECT_PEER_LIMIT,	/* previous or next hop in too many */
	TRANSIT_REJECT_MEMORY,		/* the memory budget says shed */
	TRANSIT_VERDICT_COUNT_
};

struct transit_limits {
	size_t max_tunnels;		/* 0: accept no transit tunnels */
	unsigned share_pct;		/* of bandwidth_Bps, 0..100 */
	uint64_t bandwidth_Bps;		/* 0: no bandwidth limit */
	/* Build requests a minute, in all and from one previous hop (the
	 * router that handed us the request), checked before any
	 * decryption: over them a request is dropped unanswered, as Java's
	 * RequestThrottler does.  0: no limit (the defaults). */
	unsigned builds_per_min, builds_per_peer_min;
	/* Tunnels that may have one router as previous or next hop (Java's
	 * ParticipatingThrottler); 0: no limit (the default). */
	size_t max_per_peer;
	/* Tunnel messages a second (TunnelData at a middle hop or OBEP,
	 * TunnelGateway at an IBGW) one transit tunnel may carry, and one
	 * previous hop may hand us over all its tunnels (TunnelData);
	 * over them a message is dropped before any decryption.  0: no
	 * limit (the defaults). */
	unsigned msgs_per_tunnel_s, msgs_per_peer_s;
	/* Fragments of partial messages an OBEP may hold, and all OBEPs
	 * together; past the second the OBEP holding most drops its oldest.
	 * 0: the defaults (TRANSIT_OBEP_*). */
	size_t obep_bytes, obep_total_bytes;
};
/* A message of the largest size (62 KB) and another beside it; and what
 * 128 such OBEPs hold.  The endpoint's own default, 512 KiB, for 2,500
 * transit tunnels came to 1.25 GB. */
#define TRANSIT_OBEP_BYTES (128u << 10)
#define TRANSIT_OBEP_TOTAL_BYTES (16u << 20)
void transit_limits_default(struct transit_limits *lim);

struct transit_hooks {
	/* Send msg to peer; takes msg on every path.  Required. */
	int (*send)(void *ctx, const uint8_t peer[32], struct i2np_msg *msg);
	/* A message one of our OBEPs delivers to us (LOCAL, or ROUTER to
	 * our hash) that is not a tunnel message (those the table handles
	 * itself); takes msg.  Optional (dropped without it). */
	void (*local)(void *ctx, struct i2np_msg *msg);
	/* The router is congested (transport queues, CPU).  Optional. */
	bool (*congested)(void *ctx);
	/* Our own tunnels use this receive id.  Optional. */
	bool (*id_in_use)(void *ctx, uint32_t id);
	/* Short-build OBEP: wrap the OutboundTunnelBuildReply as a one-time
	 * garlic message with key and tag ("RGarlicKeyAndTag"); takes msg,
	 * returns the wrapped message or NULL.  Optional: without it the
	 * reply goes unwrapped ("recommended but not required"). */
	struct i2np_msg *(*wrap_reply)(void *ctx, struct i2np_msg *msg,
				       const uint8_t key[32],
				       const uint8_t tag[8]);
	/* Paid relaying (docs/relaypay.md §3): an accepted build's record
	 * carried a ticket (untrusted bytes, valid for the call) for the
	 * tunnel we receive as receive_id.  Optional: without it tickets
	 * are ignored.  A ticket never changes the reply. */
	void (*ticket)(void *ctx, const uint8_t *ticket, size_t len,
		       uint32_t receive_id);
	/* Batching: tunnel messages that passed every check wait in a
	 * queue so that up to AES_LAYER_LANES of them get their layer in
	 * one pass (crypto/aes_layer.h).  The hook is called when the first
	 * one is queued; the owner must then call transit_table_flush()
	 * before the event loop waits again (an event made active, run
	 * after the transport's read callbacks of the same pass).  The
	 * table flushes by itself whenever the queue is full, and before it
	 * expires tunnels.  As IBGW, the TunnelGateway messages of one pass
	 * are packed together and their last tunnel message padded out at
	 * the flush.  Optional: without it every message is packed alone,
	 * layered and sent on at once. */
	void (*flush_soon)(void *ctx);
	void *ctx;
};

struct transit_stats {
	uint64_t builds_accepted;
	uint64_t builds_rejected[TRANSIT_VERDICT_COUNT_];
	uint64_t builds_dropped;	/* no reply (tunnel_build_drop) */
	uint64_t builds_loop;		/* of which: previous-hop loop checks */
	uint64_t builds_throttled;	/* of which: over a build rate limit */
	uint64_t tickets;		/* accepted builds that had a ticket */
	uint64_t data_relayed;		/* TunnelData out */
	uint64_t gateway_msgs;		/* TunnelGateway in at an IBGW */
	uint64_t obep_delivered;	/* messages out of an OBEP */
	uint64_t obep_shed;		/* OBEP partial messages dropped:
					 * obep_total_bytes */
	size_t obep_bytes;		/* OBEPs' fragments held now */
	uint64_t dropped_unknown;	/* no such tunnel, or wrong role */
	uint64_t dropped_replay;
	uint64_t dropped_bandwidth;
	uint64_t dropped_shed;		/* while shedding (memory budget) */
	uint64_t dropped_bad;		/* malformed or expired content */
	uint64_t dropped_wrong_hop;	/* TunnelData not from the previous
					 * hop that built the tunnel */
	uint64_t dropped_flood;		/* over lim.msgs_per_* */
	uint64_t send_failed;
	/* layer passes over queued messages, and the messages in them
	 * (their ratio: the average batch) */
	uint64_t layer_passes, layer_msgs;
	uint64_t bytes_in, bytes_out;
	uint64_t expired;		/* tunnels removed at end of life */
};

/* What the table knows about one tunnel (for tests and the console). */
struct transit_info {
	enum transit_role role;
	uint32_t receive_id, next_id;
	uint8_t next_ident[32];
	uint64_t created_ms, expires_ms;	/* monotonic */
	uint64_t bytes_in, bytes_out, msgs_in, msgs_out;
};

struct transit_table;	/* opaque */

/*
 * New table for the router with keystore ks (borrowed; outlives the
 * table) and hash self (copied).  lim NULL: the defaults.  Never NULL.
 */
struct transit_table *transit_table_new(const struct keystore *ks,
					const uint8_t self[32],
					const struct transit_limits *lim,
					const struct transit_hooks *hooks);
/* Free t, wiping every tunnel's keys.  Accepts NULL. */
void transit_table_free(struct transit_table *t);
void transit_table_set_limits(struct transit_table *t,
			      const struct transit_limits *lim);
/* The memory budget (router/membudget.h): refuse_builds refuses every
 * build request (reply 30), drop_traffic drops every transit tunnel
 * message; the tunnels stay and carry traffic again once it is off. */
void transit_table_set_shedding(struct transit_table *t, bool refuse_builds,
				bool drop_traffic);
void transit_table_shedding(const struct transit_table *t,
			    bool *refuse_builds, bool *drop_traffic);
void transit_table_limits(const struct transit_table *t,
			  struct transit_limits *out);
/* The participant state (its request-time window may be changed). */
struct tunnel_build_participant *transit_table_participant(
	struct transit_table *t);

/*
 * A VariableTunnelBuild (23) or ShortTunnelBuild (25) message (m
 * borrowed) from the router from (NULL when not known).  now_ms is the
 * wall clock (request times), mono_ms the monotonic one.  Returns 0 when
 * a reply went out (accept or reject), else the reason it was dropped:
 * ERR_LIMIT over a build rate limit (before any decryption), an ERR_*
 * from tunnel_build_participant_open(), ERR_PROTOCOL for Java's
 * loop checks on from (we are the previous hop of a hop that is not an
 * IBGW, or a middle hop's previous and next hop are the same router), or
 * ERR_FORMAT / ERR_ARG.
 */
int transit_table_handle_build(struct transit_table *t,
			       const struct i2np_msg *m, const uint8_t *from,
			       uint64_t now_ms, uint64_t mono_ms);
/*
 * TunnelData (18) for one of our transit tunnels (m borrowed) from the
 * router from (NULL when not known).  It must come from the router that
 * handed us the tunnel's build request, when we know it (ERR_PROTOCOL), and
 * within lim.msgs_per_* (ERR_LIMIT); both are checked before any
 * decryption.  With the flush_soon hook, 0 means queued (later errors
 * only count in the statistics).
 */
int transit_table_handle_data(struct transit_table *t,
			      const struct i2np_msg *m, const uint8_t *from,
			      uint64_t mono_ms);
/* Layer and send on every queued tunnel message (see flush_soon), in the
 * order they came. */
void transit_table_flush(struct transit_table *t);
/* TunnelGateway (19) for a tunnel where we are the IBGW (m borrowed). */
int transit_table_handle_gateway(struct transit_table *t,
				 const struct i2np_msg *m, uint64_t mono_ms);
/* Remove tunnels past their life, and stale OBEP fragments. */
void transit_table_expire(struct transit_table *t, uint64_t mono_ms);

/*
 * Decide on the request in o (limits, bandwidth, options, ids) without
 * joining; *avail_kBps gets the bandwidth to offer when the request had
 * "m" or "r" options (0 otherwise).
 */
enum transit_verdict transit_table_decide(struct transit_table *t,
					  const struct tunnel_build_open *o,
					  uint64_t mono_ms,
					  uint32_t *avail_kBps);
const char *transit_verdict_name(enum transit_verdict v);

size_t transit_table_count(const struct transit_table *t);
bool transit_table_lookup(const struct transit_table *t, uint32_t receive_id,
			  struct transit_info *out);
/* Relayed bytes per second over the last TRANSIT_RATE_WINDOW_S seconds. */
uint64_t transit_table_rate_Bps(struct transit_table *t, uint64_t mono_ms);
const struct transit_stats *transit_table_stats(const struct transit_table *t);

#endif /* TUNNELS_TRANSIT_H */
