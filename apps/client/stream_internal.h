/*
 * Private to apps/client/stream*.c: the stream and manager structures and
 * the calls between stream.c (one connection) and stream_mgr.c (dispatch,
 * limits, pings, timers).
 */
#ifndef APPS_CLIENT_STREAM_INTERNAL_H
#define APPS_CLIENT_STREAM_INTERNAL_H

#include "apps/client/stream.h"

/* Slots of a stream's in-flight and out-of-order rings: a power of two,
 * at least twice its max_window (STREAM_RING_MIN..2 * STREAM_MAX_WINDOW)
 * at most; they begin at STREAM_RING_START and double as packets in
 * flight or out of order need (a stream that is opened and left took
 * 20-40 KB from its SYN). */
#define STREAM_RING_MIN 256
#define STREAM_RING_START 16
#define STREAM_RATE_PEERS 256	/* peers tracked for the per-peer limits */
#define STREAM_PINGS_MAX 16
/* Streams that moved this much log their figures when freed (info). */
#define STREAM_LOG_STATS_BYTES (1024 * 1024)
#define STREAM_ACK_EVERY 16	/* in-order packets one ACK may cover */
#define STREAM_ACK_REQ_EVERY 32	/* data packets between our delay requests */

struct sfifo {
	uint8_t *buf;
	size_t off, len, cap;
};

struct stream_tx {		/* a packet in flight */
	bool used;
	uint32_t seq;
	uint16_t flags;
	uint8_t *data;
	size_t len;
	uint64_t first_sent, last_sent;
	unsigned sends, nacks;
};

struct stream_rx {		/* a packet received out of order */
	bool have, close;
	uint8_t *data;
	size_t len;
};

struct stream {
	struct stream_mgr *mgr;
	struct stream *next;		/* mgr->streams */
	enum stream_state state;
	bool initiator, released, in_pump;
	/* Our SYN not sent yet: an incoming stream's until its acceptor
	 * decided; an outgoing one's until the end of the loop turn that
	 * opened it, so that what the caller writes meanwhile rides in
	 * the SYN (one round trip less to the first answer). */
	bool syn_pending;
	bool no_route;			/* the sink said ERR_NETWORK */
	uint32_t local_id, remote_id;
	struct keys_and_cert peer;
	uint16_t src_port, dst_port, peer_mtu;
	stream_event_fn fn;
	void *fn_ctx;
	unsigned events;		/* pending enum stream_event bits */
	/* sending */
	struct sfifo sendq;
	uint32_t next_seq, una;
	struct stream_tx *tx;		/* ring slots */
	unsigned inflight;
	double cwnd;
	unsigned ssthresh;
	uint32_t recover;
	bool in_recovery;
	bool close_requested, close_sent, close_acked, syn_acked;
	bool choked;			/* the peer asked us to wait */
	uint32_t srtt_ms, rttvar_ms, rto_ms;
	bool rtt_valid;
	unsigned backoff;
	/* An RTO that may prove spurious (undo_rto()): what it changed, the
	 * packet it resent and the next sequence number at that time. */
	bool undo_armed;
	bool undo_later;	/* past its first ACK: by the ACKs' time only */
	double undo_cwnd;
	unsigned undo_ssthresh;
	uint32_t undo_rto_ms, undo_seq, undo_next;
	/* After an RTO, the packets sent before it (below gobn_end) are
	 * resent as ACKs come back (resend_after_rto()); sent at or before
	 * gobn_at, they had not been resent since. */
	bool gobn;
	uint32_t gobn_next, gobn_end;
	uint64_t gobn_at;
	/* receiving */
	bool rcv_syn, rcv_any, fin_received, eof_signalled;
	uint32_t rcv_next, rcv_highest;
	struct stream_rx *rx;		/* ring slots */
	unsigned ring;			/* slots in tx[] and rx[] */
	unsigned ring_max;		/* what they may grow to */
	size_t rx_bytes;		/* bytes in rx[] */
	struct sfifo recvq;
	bool choking, unchoke_pending;
	unsigned ack_pending;
	int32_t peer_ack_delay;		/* the delay its data asks for; -1: none */
	uint32_t ack_req_sent;		/* the delay we last asked for */
	/* timers (0: off) */
	uint64_t rto_due, ack_due, last_activity, linger_until;
	uint64_t heard;			/* last packet from the peer */
	uint64_t packets_sent, packets_resent;
	/* for the end-of-stream log line */
	uint64_t opened, bytes_out, bytes_in, rtos, losses, ooo, dups;
	uint64_t rtos_undone;
	uint32_t srtt_min_ms;
	double cwnd_max;
};

struct stream_rate {		/* fixed windows of incoming connections */
	uint8_t hash[32];
	bool used;
	uint64_t start[3];		/* minute, hour, day */
	unsigned count[3];
};

struct stream_pending {		/* a packet ahead of its SYN */
	uint32_t recv_id;
	uint64_t expires;
	uint8_t *data;
	size_t len;
	uint16_t src_port, dst_port;
};

struct stream_ping {
	uint32_t id;
	uint64_t sent, deadline;
	stream_pong_fn fn;
	void *ctx;
};

struct stream_mgr {
	struct stream_config cfg;
	const struct stream_signer *signer;
	struct stream_sink sink;
	struct evloop *el;
	struct evloop_timer *timer;
	bool in_call;			/* inside a public entry point */
	stream_accept_fn accept_fn;
	void *accept_ctx;
	struct stream *streams;
	size_t nstreams;
	size_t rx_held;			/* all streams' out-of-order bytes */
	struct stream_rate rates[STREAM_RATE_PEERS];
	struct stream_rate total;
	struct stream_pending pending[STREAM_PENDING_MAX];
	struct stream_ping pings[STREAM_PINGS_MAX];
	struct stream_mgr_stats stats;
	struct stream_packet scratch;	/* big: kept off the stack */
	uint8_t chunk[65536];
};

/* stream.c */
struct stream *stream_alloc(struct stream_mgr *mgr,
			    const struct keys_and_cert *peer, bool initiator);
void stream_send_syn(struct stream *s);
void stream_on_packet(struct stream *s, const struct stream_packet *p,
		      const uint8_t *raw, size_t len);
void stream_run_timers(struct stream *s, uint64_t now);
/* The network has a newer way to the peer: what waits on an RTO goes
 * now (stream_mgr_route_renewed). */
void stream_route_renewed(struct stream *s);
/* A packet of s was sent and waits on its RTO (due after now). */
bool stream_awaiting(const struct stream *s, uint64_t now);
uint64_t stream_next_deadline(const struct stream *s);
void stream_emit(struct stream *s);
void stream_free_(struct stream *s);
/* stream_mgr.c: re-arm the loop timer (no-op without a loop). */
void stream_mgr_rearm(struct stream_mgr *mgr);

#endif /* APPS_CLIENT_STREAM_INTERNAL_H */
