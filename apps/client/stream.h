/*
 * I2P streaming connections (streaming spec; "Streaming Library" API page
 * for behaviour and defaults; PROTOCOLS.md 2.15).
 *
 * A stream manager serves one local destination: it owns every stream of
 * that destination, answers pings, enforces the connection limits and runs
 * the timers.  It never touches a socket or a tunnel.  Packets leave
 * through a struct stream_sink ("send these bytes to destination X, with
 * these ports"), and arrive through stream_mgr_receive(), so the same code
 * runs in-process in tests and, with a small glue, as client payloads
 * (protocol 6) in garlic over tunnels.
 *
 * Reliability: sequence numbers per packet, cumulative ackThrough plus
 * NACKs, delayed ACKs, retransmission on an RFC 6298 RTO (Karn's rule,
 * exponential backoff, 100 ms to 45 s, 9 s before the first sample), fast
 * retransmit of a packet NACKed twice, out-of-order buffering.  Congestion
 * control counts packets (as the spec says): slow start from the initial
 * window, then additive increase, and a multiplicative decrease to 0.7
 * once per loss episode (NewReno's recovery point); an RTO collapses the
 * window to one packet.  A packet counts as lost after two NACKs and a
 * reordering window (RACK).  docs/streaming.md has the measurements.  Flow control: a receiver whose buffer is half full chokes
 * the sender with DELAY_REQUESTED > 60000, and unchokes when the app has
 * read it down.
 *
 * Timers: with an evloop the manager arms its own timer; without one
 * (tests with a virtual clock) the caller runs stream_mgr_run_timers() at
 * stream_mgr_next_deadline().  Time comes from time_mono_ms().
 *
 * Ownership: the manager owns its streams.  A stream handle stays valid
 * until the app calls stream_release(); the manager frees the stream once
 * it is released and finished.  Events are delivered after the manager's
 * own processing, so a handler may call any stream function, including
 * stream_release().  Thread: the loop thread only.
 */
#ifndef APPS_CLIENT_STREAM_H
#define APPS_CLIENT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/client/stream_packet.h"
#include "router/keys_and_cert.h"

struct evloop;
struct stream_mgr;	/* opaque */
struct stream;		/* opaque */

/* Defaults from the API page's option table. */
#define STREAM_MTU_DEFAULT 1730		/* i2p.streaming.maxMessageSize */
#define STREAM_MTU_ECIES 1812		/* over ECIES-X25519 sessions */
#define STREAM_MTU_MIN 512		/* MIN_MESSAGE_SIZE */
#define STREAM_INITIAL_WINDOW 6		/* packets */
#define STREAM_DEFAULT_WINDOW 128	/* packets */
#define STREAM_MAX_WINDOW 1024		/* packets: the most a config takes */
#define STREAM_INITIAL_RTO_MS 9000
#define STREAM_MIN_RTO_MS 100
#define STREAM_MAX_RTO_MS 45000
#define STREAM_MAX_RESENDS 8
/* ... and not before its oldest packet has waited this long. */
#define STREAM_GIVE_UP_MS 120000
/* A choked sender gives up after STREAM_MAX_RESENDS probes once the peer
 * has said nothing this long. */
#define STREAM_CHOKED_SILENCE_MS (2 * STREAM_MAX_RTO_MS)
#define STREAM_INACTIVITY_MS 90000
#define STREAM_PENDING_MAX 32		/* packets held for a SYN not yet seen */
#define STREAM_PENDING_MS 10000
#define STREAM_LINGER_MS 5000		/* a closed stream re-acks this long */

enum stream_inactivity_action {
	STREAM_INACTIVITY_NOOP = 0,
	STREAM_INACTIVITY_DISCONNECT = 1,
	STREAM_INACTIVITY_SEND = 2	/* a duplicate ACK as keepalive */
};

struct stream_config {
	uint16_t mtu;			/* our largest payload */
	unsigned initial_window;	/* packets */
	unsigned max_window;		/* packets, <= STREAM_MAX_WINDOW */
	uint32_t initial_rto_ms;
	unsigned max_resends;
	uint32_t ack_delay_ms;		/* delayed ACK */
	uint32_t inactivity_ms;
	enum stream_inactivity_action inactivity_action;
	size_t send_buffer_bytes;	/* app bytes not yet in packets */
	size_t recv_buffer_bytes;	/* 0: mtu * (max_window + 2) */
	/* out-of-order bytes all streams hold (0: STREAM_OOO_STREAMS
	 * receive buffers) */
	size_t ooo_total_bytes;
	unsigned max_streams;		/* all streams; 0: unlimited */
	/* Incoming connections per peer and in total (0: no limit). */
	unsigned max_conns_per_minute, max_conns_per_hour, max_conns_per_day;
	unsigned max_total_per_minute, max_total_per_hour, max_total_per_day;
	bool answer_pings;
};

/* Fill c with the defaults of the API page. */
void stream_config_default(struct stream_config *c);

/*
 * Where packets go.  send() hands one packet (borrowed for the call) to
 * the layer below, addressed to `to` with the client payload ports; a
 * failure is a lost packet.  It must not call back into the manager.
 */
struct stream_sink {
	int (*send)(void *ctx, const struct keys_and_cert *to,
		    uint16_t src_port, uint16_t dst_port, const uint8_t *pkt,
		    size_t len);
	void *ctx;
};

enum stream_state {
	STREAM_CONNECTING,	/* SYN sent, no SYN back yet */
	STREAM_OPEN,
	STREAM_CLOSED,		/* CLOSE both ways, all acked */
	STREAM_RESET,		/* reset by either side */
	STREAM_FAILED		/* timed out */
};

enum stream_event {
	STREAM_EV_CONNECTED = 1 << 0,	/* the SYN reply came */
	STREAM_EV_READABLE = 1 << 1,	/* stream_read() has bytes */
	STREAM_EV_WRITABLE = 1 << 2,	/* send buffer has room again */
	STREAM_EV_EOF = 1 << 3,		/* the peer's CLOSE: no more bytes */
	STREAM_EV_CLOSED = 1 << 4,	/* finished cleanly */
	STREAM_EV_RESET = 1 << 5,	/* the peer (or we) reset it */
	STREAM_EV_FAILED = 1 << 6	/* timed out or refused */
};

/* Events for one stream: a bitmask of enum stream_event. */
typedef void (*stream_event_fn)(void *ctx, struct stream *s, unsigned events);
/* A new incoming stream (open: write and read at will), before our SYN
 * reply goes out; the acceptor owns it.  stream_reset() here refuses it,
 * and the acceptor still gives it back with stream_release() (a stream
 * nobody releases stays until the manager goes). */
typedef void (*stream_accept_fn)(void *ctx, struct stream *s);
/* A pong (err 0, rtt_ms) or ERR_TIMEOUT. */
typedef void (*stream_pong_fn)(void *ctx, int err, uint32_t rtt_ms);

/* Out-of-order data all of a destination's streams may hold, in receive
 * buffers (one stream holds one at most).  A peer leaving a hole at the
 * start of each of its streams held a buffer in each, 512 streams a
 * destination: 130-500 MB. */
#define STREAM_OOO_STREAMS 8

struct stream_mgr_stats {
	uint64_t packets_sent, packets_resent, packets_received;
	uint64_t packets_dropped;	/* bad, unverifiable or unknown */
	uint64_t conns_in, conns_out, conns_rejected;
	uint64_t pings_answered;
	uint64_t route_resends;		/* by stream_mgr_route_renewed() */
	/* out-of-order packets not kept: the destination's streams held
	 * STREAM_OOO_STREAMS receive buffers of them already */
	uint64_t ooo_dropped;
	size_t ooo_bytes;		/* held now */
};

/*
 * A manager for our destination (signer borrowed: it outlives the
 * manager), sending through sink.  el may be NULL (see above).  Never
 * returns NULL; caller owns it.
 */
struct stream_mgr *stream_mgr_new(const struct stream_config *cfg,
				  const struct stream_signer *signer,
				  struct stream_sink sink, struct evloop *el);
/* Drop every stream silently (no packets) and release mgr.  Accepts NULL.
 * The app must not use its stream handles afterwards. */
void stream_mgr_free(struct stream_mgr *mgr);
/*
 * Before the manager goes: reset every stream the app has not released
 * (a RESET to its peer) and deliver the events due now, so each handler
 * hears STREAM_EV_RESET and can end what waits on its stream (a pending
 * call's callback).  Not from inside a handler.  Accepts NULL.
 */
void stream_mgr_reset_all(struct stream_mgr *mgr);
/* Who takes incoming streams; without an acceptor a SYN gets a RESET. */
void stream_mgr_set_acceptor(struct stream_mgr *mgr, stream_accept_fn fn,
			     void *ctx);
/*
 * One packet that arrived for our destination (untrusted), with the client
 * payload ports.  Errors (the packet is dropped and counted): ERR_* from
 * decoding, ERR_BAD_SIG, ERR_NOT_FOUND (no such stream), ERR_LIMIT.
 */
int stream_mgr_receive(struct stream_mgr *mgr, const uint8_t *pkt, size_t len,
		       uint16_t src_port, uint16_t dst_port);
/* The earliest timer deadline (time_mono_ms() scale), UINT64_MAX if none. */
uint64_t stream_mgr_next_deadline(struct stream_mgr *mgr);
/* Run every timer that is due. */
void stream_mgr_run_timers(struct stream_mgr *mgr);
/*
 * The network found a newer way to the peer with this Destination hash
 * (a LeaseSet newer than the one its packets went to, after they went
 * unanswered): each stream to it with a packet waiting on a backed-off
 * RTO resends it now, from the RTO it had before backing off, rather
 * than after the backoff (9, 18, 36 s... for a SYN).  Accepts NULL.
 */
void stream_mgr_route_renewed(struct stream_mgr *mgr,
			      const uint8_t peer_hash[32]);
/* Whether a stream to the peer with this Destination hash has a packet
 * sent and waiting on its RTO (what stream_mgr_route_renewed() would
 * resend).  Accepts NULL (false). */
bool stream_mgr_awaiting(const struct stream_mgr *mgr,
			 const uint8_t peer_hash[32]);
/* Ping `to` with up to 32 payload bytes; fn runs once, from a later call. */
int stream_mgr_ping(struct stream_mgr *mgr, const struct keys_and_cert *to,
		    const void *payload, size_t len, uint32_t timeout_ms,
		    stream_pong_fn fn, void *ctx);
void stream_mgr_stats(const struct stream_mgr *mgr,
		      struct stream_mgr_stats *out);
/* Streams the manager holds (open, closing or waiting to be released). */
size_t stream_mgr_count(const struct stream_mgr *mgr);

/*
 * Open a stream to `to` (copied).  The SYN goes at the end of this loop
 * turn and carries the first packet of what the caller writes before
 * then (the peer gets a request with the SYN, and its answer can come
 * a round trip sooner).  fn gets the events; when the sink answers the
 * SYN with ERR_NETWORK (no way to the peer at all) the first is
 * STREAM_EV_FAILED.  *out is borrowed until stream_release().
 * ERR_LIMIT when max_streams are open.
 */
int stream_connect(struct stream_mgr *mgr, const struct keys_and_cert *to,
		   uint16_t src_port, uint16_t dst_port, stream_event_fn fn,
		   void *ctx, struct stream **out);
/* Set the event handler (for accepted streams). */
void stream_set_handler(struct stream *s, stream_event_fn fn, void *ctx);
/* Queue up to n bytes; returns how many fit (0 when the send buffer is full:
 * wait for STREAM_EV_WRITABLE, or when the stream cannot send). */
size_t stream_write(struct stream *s, const void *buf, size_t n);
/* Take up to n bytes that arrived in order. */
size_t stream_read(struct stream *s, void *buf, size_t n);
size_t stream_readable(const struct stream *s);
/* Give back the send and receive buffers while they are empty.  They
 * grow to twice what they held (up to the send buffer) and are kept for
 * the stream's life: a connection that moved data once and then idles
 * would hold them for nothing. */
void stream_trim(struct stream *s);
/* Bytes written but not yet acked by the peer (queued or in flight). */
size_t stream_unacked(const struct stream *s);
/* True once the peer's CLOSE came and every byte before it was read. */
bool stream_is_eof(const struct stream *s);
/* Half-close: a CLOSE follows the bytes already written. */
void stream_close(struct stream *s);
/* Abort: send a RESET now and drop all data. */
void stream_reset(struct stream *s);
/* The app is done with s: no more events; an open stream is closed
 * gracefully first.  s must not be used afterwards. */
void stream_release(struct stream *s);

struct stream_info {
	enum stream_state state;
	uint32_t local_id, remote_id;
	uint16_t src_port, dst_port;
	uint16_t mtu;			/* payload bytes per packet now */
	unsigned cwnd, ssthresh, inflight;
	uint32_t srtt_ms, rto_ms;
	uint64_t packets_sent, packets_resent;
	uint64_t rtos, rtos_undone;	/* timeouts; found spurious */
	size_t buffer_bytes;		/* its send and receive buffers hold */
	unsigned ring_slots;		/* in its in-flight and out-of-order
					 * rings (they grow as needed) */
};
void stream_get_info(const struct stream *s, struct stream_info *out);
/* The remote destination (borrowed; lives as long as s). */
const struct keys_and_cert *stream_peer(const struct stream *s);

#endif /* APPS_CLIENT_STREAM_H */
