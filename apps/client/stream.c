/*
 * Streaming connections: the manager, the per-stream state machine,
 * windows, retransmission and limits (see stream.h; streaming spec and the
 * "Streaming Library" API page).  Packets are encoded by stream_packet.c.
 *
 * Sequence numbers: each direction starts at 0 with its SYN; every packet
 * with data, SYN or CLOSE takes the next number; "If the sequenceNum is 0
 * and the SYN flag is not set, this is a plain ACK packet that should not
 * be ACKed."  In-flight packets sit in a ring indexed by seq % ring,
 * out-of-order ones in another of the same size, sized at the stream's
 * start to at least twice its max_window, which the window never exceeds.
 */
#include "config.h"
#include "apps/client/stream.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "apps/client/stream_internal.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"
#include "router/evloop.h"

void stream_config_default(struct stream_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mtu = STREAM_MTU_DEFAULT;
	c->initial_window = STREAM_INITIAL_WINDOW;
	c->max_window = STREAM_DEFAULT_WINDOW;
	c->initial_rto_ms = STREAM_INITIAL_RTO_MS;
	c->max_resends = STREAM_MAX_RESENDS;
	c->ack_delay_ms = 50;
	c->inactivity_ms = STREAM_INACTIVITY_MS;
	c->inactivity_action = STREAM_INACTIVITY_SEND;
	c->send_buffer_bytes = 256 * 1024;
	c->answer_pings = true;
}

/* ---- byte FIFO ---------------------------------------------------------- */

static void fifo_push(struct sfifo *f, const void *p, size_t n)
{
	size_t cap = f->cap ? f->cap : 4096;

	if (n == 0)
		return;
	/* Room for twice what it will hold, so the compaction below moves
	 * fewer bytes than were popped since the last one (it ran on every
	 * refill of a full buffer: 256 KiB moved per packet sent). */
	while (cap < 2 * (f->len + n))
		cap *= 2;
	if (f->off > 0 && (cap != f->cap || f->off + f->len + n > f->cap)) {
		memmove(f->buf, f->buf + f->off, f->len);
		f->off = 0;
	}
	if (cap != f->cap) {
		f->buf = xrealloc(f->buf, cap);
		f->cap = cap;
	}
	memcpy(f->buf + f->off + f->len, p, n);
	f->len += n;
}

static size_t fifo_pop(struct sfifo *f, void *out, size_t n)
{
	if (n > f->len)
		n = f->len;
	if (n == 0)
		return 0;
	if (out)
		memcpy(out, f->buf + f->off, n);
	f->off += n;
	f->len -= n;
	if (f->len == 0)
		f->off = 0;
	return n;
}

static void fifo_free(struct sfifo *f)
{
	xfree_wipe(f->buf, f->cap);
	memset(f, 0, sizeof(*f));
}

/* ---- helpers ------------------------------------------------------------ */

static bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static bool seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

static uint64_t now_ms(void) { return time_mono_ms(); }

static uint32_t random_id(void)
{
	uint32_t id;

	do
		rand_bytes(&id, sizeof(id));
	while (id == 0);
	return id;
}

static uint16_t stream_mtu(const struct stream *s)
{
	uint16_t m = s->mgr->cfg.mtu;

	if (s->peer_mtu && s->peer_mtu < m)
		m = s->peer_mtu;
	return m < STREAM_MTU_MIN ? STREAM_MTU_MIN : m;
}

static size_t recv_limit(const struct stream_mgr *mgr)
{
	if (mgr->cfg.recv_buffer_bytes)
		return mgr->cfg.recv_buffer_bytes;
	return (size_t)mgr->cfg.mtu * (mgr->cfg.max_window + 2);
}

static size_t ooo_limit(const struct stream_mgr *mgr)
{
	if (mgr->cfg.ooo_total_bytes)
		return mgr->cfg.ooo_total_bytes;
	return STREAM_OOO_STREAMS * recv_limit(mgr);
}

static void set_event(struct stream *s, unsigned ev)
{
	s->events |= ev;
}

static bool stream_finished(const struct stream *s)
{
	return s->state == STREAM_CLOSED || s->state == STREAM_RESET ||
	       s->state == STREAM_FAILED;
}

/* ---- sending ------------------------------------------------------------ */

/* Encode and send one packet of s with the current ack state. */
static void send_packet(struct stream *s, uint32_t seq, uint16_t flags,
			const uint8_t *payload, size_t len)
{
	struct stream_mgr *mgr = s->mgr;
	struct stream_packet *p = &mgr->scratch;
	struct bbuf b = BBUF_INIT;

	memset(p, 0, offsetof(struct stream_packet, from));
	p->send_id = s->remote_id;
	p->recv_id = s->local_id;
	p->seq = seq;
	p->resend_delay = (uint8_t)(s->rto_ms / 1000 > 255 ? 255 :
				    s->rto_ms / 1000);
	if (s->rcv_syn) {
		/* ackThrough: the highest seq received; NACKs: the holes. */
		uint32_t hi = s->rcv_highest;

		p->ack_through = hi;
		for (uint32_t q = s->rcv_next; seq_lt(q, hi) &&
		     p->nack_count < STREAM_MAX_NACKS; q++)
			if (!s->rx[q % s->ring].have)
				p->nacks[p->nack_count++] = q;
		s->ack_pending = 0;
		s->ack_due = 0;
	} else {
		flags |= STREAM_F_NO_ACK;
	}
	if (flags & STREAM_F_SYN) {
		flags |= STREAM_F_FROM | STREAM_F_SIG | STREAM_F_MAX_SIZE;
		p->max_size = mgr->cfg.mtu;
		if (s->initiator) {
			/* Since 0.9.58 the SYN carries the target's hash as
			 * 8 NACKs (replay protection). */
			p->nack_count = 8;
			for (int i = 0; i < 8; i++)
				p->nacks[i] = be32_get(s->peer.hash + 4 * i);
		}
	}
	if (flags & (STREAM_F_CLOSE | STREAM_F_RESET))
		flags |= STREAM_F_SIG;
	if (s->choking) {
		flags |= STREAM_F_DELAY;
		p->delay_ms = STREAM_DELAY_CHOKE_MS + 1;
	} else if (s->unchoke_pending) {
		flags |= STREAM_F_DELAY;
		p->delay_ms = 0;
	} else if (len && s->rtt_valid) {
		/* Ask for ACKs after a tenth of the RTT (at most
		 * ack_delay_ms): when the value changes and every
		 * STREAM_ACK_REQ_EVERY packets (the receiver keeps it). */
		uint32_t r = s->srtt_ms / 10 < s->mgr->cfg.ack_delay_ms ?
				     s->srtt_ms / 10 :
				     s->mgr->cfg.ack_delay_ms;

		if (r != s->ack_req_sent || seq % STREAM_ACK_REQ_EVERY == 0) {
			flags |= STREAM_F_DELAY;
			p->delay_ms = (uint16_t)r;
			s->ack_req_sent = r;
		}
	}
	p->flags = flags;
	p->payload = payload;
	p->payload_len = len;
	if (stream_packet_encode(p, mgr->signer, &b) == 0) {
		if (mgr->sink.send(mgr->sink.ctx, &s->peer, s->src_port,
				   s->dst_port, b.data, b.len) == ERR_NETWORK)
			s->no_route = true;
		mgr->stats.packets_sent++;
		s->packets_sent++;
	}
	bbuf_free(&b);
	s->last_activity = now_ms();
}

static void send_plain_ack(struct stream *s)
{
	/* Nothing to ack yet, or our SYN (which acks theirs) is next. */
	if (!s->rcv_syn || s->remote_id == 0 ||
	    (!s->initiator && s->next_seq == 0))
		return;
	send_packet(s, 0, 0, NULL, 0);
}

static void rto_arm(struct stream *s)
{
	s->rto_due = s->inflight ? now_ms() + s->rto_ms : 0;
}

/* (Re)send the in-flight packet in slot t. */
static void tx_send(struct stream *s, struct stream_tx *t)
{
	if (t->sends > 0) {
		s->mgr->stats.packets_resent++;
		s->packets_resent++;
	}
	t->sends++;
	t->nacks = 0;
	t->last_sent = now_ms();
	send_packet(s, t->seq, t->flags, t->data, t->len);
}

/*
 * Make the rings at least want slots (a power of two, at most ring_max),
 * moving each packet to its slot in the new ones: those in flight by
 * their seq, those out of order by their offset from rcv_next (all lie
 * within a ring of it).
 */
static void ring_grow(struct stream *s, uint32_t want)
{
	unsigned n = s->ring;
	struct stream_tx *tx;
	struct stream_rx *rx;

	while (n < want && n < s->ring_max)
		n *= 2;
	if (n == s->ring)
		return;
	tx = xzalloc(n * sizeof(*tx));
	rx = xzalloc(n * sizeof(*rx));
	for (unsigned i = 0; i < s->ring; i++) {
		uint32_t q = s->rcv_next + ((i - s->rcv_next) & (s->ring - 1));

		if (s->tx[i].used)
			tx[s->tx[i].seq % n] = s->tx[i];
		if (s->rx[i].have)
			rx[q % n] = s->rx[i];
	}
	free(s->tx);
	free(s->rx);
	s->tx = tx;
	s->rx = rx;
	s->ring = n;
}

/* Put a new packet (seq next_seq) in flight. */
static void tx_new(struct stream *s, uint16_t flags, const uint8_t *data,
		   size_t len)
{
	struct stream_tx *t;

	if (s->next_seq - s->una >= s->ring)
		ring_grow(s, s->next_seq - s->una + 1);
	t = &s->tx[s->next_seq % s->ring];

	if (BUG(t->used))
		return;
	memset(t, 0, sizeof(*t));
	t->used = true;
	t->seq = s->next_seq++;
	t->flags = flags;
	t->data = len ? xmemdup(data, len) : NULL;
	t->len = len;
	t->first_sent = now_ms();
	s->bytes_out += len;
	s->inflight++;
	if (!s->rto_due)
		rto_arm(s);
	tx_send(s, t);
}

static bool window_open(const struct stream *s)
{
	unsigned w = (unsigned)s->cwnd;

	if (w < 1)
		w = 1;
	if (s->choked)		/* one probe at a time while choked */
		w = 1;
	/* Never more than a window beyond the oldest unacked packet, even
	 * when packets above a hole are acked: the receiver buffers about
	 * one window out of order ("INBOUND_BUFFER_SIZE = maxMessageSize *
	 * (maxWindowSize + 2)") and drops the rest. */
	if (s->next_seq - s->una >= s->mgr->cfg.max_window)
		return false;
	return s->inflight < w;
}

/* Packetize queued bytes while the window allows; then a CLOSE. */
static void pump(struct stream *s)
{
	uint8_t *chunk;
	size_t room_before;

	if (s->state != STREAM_OPEN || s->in_pump || s->syn_pending)
		return;
	s->in_pump = true;
	room_before = s->mgr->cfg.send_buffer_bytes - s->sendq.len;
	chunk = s->mgr->chunk;
	while (window_open(s) && !s->close_sent &&
	       (s->sendq.len > 0 || s->close_requested)) {
		size_t n = fifo_pop(&s->sendq, chunk, stream_mtu(s));
		uint16_t flags = 0;

		if (s->close_requested && s->sendq.len == 0) {
			flags = STREAM_F_CLOSE;
			s->close_sent = true;
		}
		tx_new(s, flags, chunk, n);
	}
	if (room_before == 0 && s->sendq.len < s->mgr->cfg.send_buffer_bytes)
		set_event(s, STREAM_EV_WRITABLE);
	s->in_pump = false;
}

/* ---- RTT and congestion ------------------------------------------------- */

/* RTO = SRTT + max(G, K * RTTVAR), clamped (RFC 6298 2.3, 2.4). */
static void rto_from_rtt(struct stream *s)
{
	uint32_t rto, g;

	if (!s->rtt_valid)
		return;
	/* G: the peer's delayed ACK, which no sample shows (it acks at once
	 * from the second packet). */
	g = 2 * s->mgr->cfg.ack_delay_ms > 10 ? 2 * s->mgr->cfg.ack_delay_ms :
						 10;
	rto = s->srtt_ms + (4 * s->rttvar_ms > g ? 4 * s->rttvar_ms : g);
	if (rto < STREAM_MIN_RTO_MS)
		rto = STREAM_MIN_RTO_MS;
	if (rto > STREAM_MAX_RTO_MS)
		rto = STREAM_MAX_RTO_MS;
	s->rto_ms = rto;
}

/* RFC 6298 section 2, alpha 1/8, beta 1/4, K 4. */
static void rtt_sample(struct stream *s, uint32_t r)
{
	if (!s->rtt_valid) {
		s->srtt_ms = r;
		s->rttvar_ms = r / 2;
		s->rtt_valid = true;
	} else {
		uint32_t d = s->srtt_ms > r ? s->srtt_ms - r : r - s->srtt_ms;

		s->rttvar_ms = (3 * s->rttvar_ms + d) / 4;
		s->srtt_ms = (7 * s->srtt_ms + r) / 8;
	}
	if (!s->srtt_min_ms || r < s->srtt_min_ms)
		s->srtt_min_ms = r;
	rto_from_rtt(s);
}

/* A loss seen by NACKs: shrink once per episode (NewReno's recovery
 * point) to 0.7 of the flight, CUBIC's beta (RFC 8312 4.5) rather than
 * Reno's half: tunnels lose packets without congestion, and over the
 * simulated pipe this gives 25-30 % more at 1-5 % loss
 * (tools/bench/stream-sim). */
static void congestion_loss(struct stream *s, uint32_t seq)
{
	unsigned w = s->inflight * 7 / 10;

	if (s->in_recovery && seq_le(seq, s->recover))
		return;
	s->ssthresh = w > 2 ? w : 2;
	s->cwnd = s->ssthresh;
	s->recover = s->next_seq - 1;
	s->in_recovery = true;
	s->losses++;
}

static void window_grow(struct stream *s, unsigned acked)
{
	unsigned max = s->mgr->cfg.max_window;

	while (acked--) {
		if (s->cwnd < s->ssthresh)
			s->cwnd += 1.0;			/* slow start */
		else
			s->cwnd += 1.0 / s->cwnd;	/* AIMD increase */
	}
	if (s->cwnd > max)
		s->cwnd = max;
	if (s->cwnd > s->cwnd_max)
		s->cwnd_max = s->cwnd;
}

static void tx_release(struct stream *s, struct stream_tx *t)
{
	xfree_wipe(t->data, t->len);
	memset(t, 0, sizeof(*t));
	s->inflight--;
}

static bool nacked(const struct stream_packet *p, uint32_t seq)
{
	for (unsigned i = 0; i < p->nack_count; i++)
		if (p->nacks[i] == seq)
			return true;
	return false;
}

/*
 * After an RTO, the first ACK of the packet it resent tells whether the
 * timeout was spurious: when it also acks, without a NACK, a packet sent
 * after that one and before the timeout, the original had arrived (a
 * packet lost with later ones arriving would have been NACKed) and the
 * ACKs were only late: a hop or an end stalled (on a loaded machine,
 * longer than an RTO of 100-200 ms), nothing was lost.  Then the window,
 * threshold and RTO come back to what they were (the Eifel response,
 * RFC 4015, detected as F-RTO does, RFC 5682): a stall costs no window.
 * An ACK held in the stall may NACK packets that were only overtaken
 * when it was sent (tunnels reorder): when that first ACK NACKs packets
 * sent before the timeout, the later ACKs are watched too, and one that
 * acks, without a NACK of the packet the RTO resent, a packet whose
 * latest copy went out under half the smallest round trip ago (too soon
 * for that copy's ACK: the original had arrived), shows the same (as
 * Eifel does with timestamps), until every packet sent before the
 * timeout is acked.  A second RTO of another packet disarms this.
 */
static bool undo_proved(const struct stream *s, const struct stream_packet *p,
			uint64_t now, bool *nacks_flight)
{
	const struct stream_tx *t;
	bool fast = false;

	*nacks_flight = false;
	for (uint32_t q = s->undo_seq; seq_lt(q, s->undo_next) &&
	     seq_le(q, p->ack_through); q++) {
		t = &s->tx[q % s->ring];
		if (nacked(p, q)) {
			*nacks_flight = true;
			continue;
		}
		if (t->used && t->seq == q &&
		    2 * (now - t->last_sent) < s->srtt_min_ms)
			fast = true;
	}
	if (nacked(p, s->undo_seq))
		return false;
	if (fast)
		return true;
	if (s->undo_later)
		return false;
	return seq_lt(s->undo_seq, p->ack_through) &&
	       seq_lt(s->undo_seq + 1, s->undo_next) &&
	       !nacked(p, s->undo_seq + 1);
}

static void undo_rto(struct stream *s, const struct stream_packet *p,
		     uint64_t now)
{
	bool nacks_flight;

	if (!s->undo_armed || seq_lt(p->ack_through, s->undo_seq))
		return;
	if (!undo_proved(s, p, now, &nacks_flight)) {
		if (s->undo_later || !nacks_flight)
			s->undo_armed = s->undo_later;
		s->undo_later = true;
		return;
	}
	s->undo_armed = false;
	if (s->cwnd < s->undo_cwnd)
		s->cwnd = s->undo_cwnd;
	if (s->ssthresh < s->undo_ssthresh)
		s->ssthresh = s->undo_ssthresh;
	s->rto_ms = s->undo_rto_ms;
	/* The ACKs held with this one may NACK more packets of that flight
	 * that were only overtaken: they are resent when NACKed long after
	 * their send, but cost no window (one episode per flight). */
	s->in_recovery = true;
	s->recover = s->undo_next - 1;
	s->gobn = false;
	s->rtos_undone++;
}

/*
 * After an RTO everything sent before it is presumed lost (RFC 5681 3.1:
 * after a timeout, slow start from the oldest unacked): as ACKs come, the
 * next of those still unacked and not resent since are resent, two for
 * each packet acked.  Resending only the oldest one per RTO, the rest of
 * a flight lost in a blackout (a dead hop) went one packet per backed-off
 * RTO, up to 45 s each: a stream that lost 40 packets took half an hour.
 */
static void resend_after_rto(struct stream *s, unsigned n)
{
	if (seq_lt(s->gobn_next, s->una))
		s->gobn_next = s->una;
	while (n > 0 && seq_lt(s->gobn_next, s->gobn_end)) {
		struct stream_tx *t = &s->tx[s->gobn_next++ % s->ring];

		if (t->used && t->last_sent <= s->gobn_at) {
			tx_send(s, t);
			n--;
		}
	}
	if (!seq_lt(s->gobn_next, s->gobn_end))
		s->gobn = false;
}

/* "All packets up to and including this sequence number are ACKed,
 * EXCEPT for those listed in NACKs." */
static void handle_ack(struct stream *s, const struct stream_packet *p)
{
	uint64_t now = now_ms();
	unsigned acked = 0;
	uint32_t q, reo;

	reo = s->rtt_valid ? s->srtt_ms + s->srtt_ms / 4 + 2 : s->rto_ms;
	if (!s->inflight || seq_lt(p->ack_through, s->una) ||
	    !seq_lt(p->ack_through, s->next_seq))
		return;
	undo_rto(s, p, now);
	for (q = s->una; seq_le(q, p->ack_through); q++) {
		struct stream_tx *t = &s->tx[q % s->ring];

		if (!t->used || t->seq != q)
			continue;
		if (nacked(p, q)) {
			/* "Two NACKs of a packet is a request for a 'fast
			 * retransmit' of that packet."  Tunnels reorder, so
			 * also wait a reordering window past one round trip
			 * since it was sent (RACK, RFC 8985). */
			/* NACKed long after its send: lost for sure. */
			if ((++t->nacks >= 2 && now - t->last_sent >= reo) ||
			    now - t->last_sent >= 2 * (uint64_t)reo) {
				congestion_loss(s, q);
				tx_send(s, t);
			}
			continue;
		}
		if (t->sends == 1)		/* Karn: clean samples only */
			rtt_sample(s, (uint32_t)(now - t->first_sent));
		if (t->flags & STREAM_F_CLOSE)
			s->close_acked = true;
		if (t->flags & STREAM_F_SYN && !s->initiator)
			s->syn_acked = true;
		tx_release(s, t);
		acked++;
	}
	while (s->una != s->next_seq &&
	       !s->tx[s->una % s->ring].used)
		s->una++;
	if (s->undo_armed && !seq_lt(s->una, s->undo_next))
		s->undo_armed = false;	/* all acked, none proved it */
	if (!acked)
		return;
	s->backoff = 0;
	if (s->in_recovery && seq_lt(s->recover, s->una))
		s->in_recovery = false;
	window_grow(s, acked);
	if (s->gobn)
		resend_after_rto(s, 2 * acked);
	rto_arm(s);
}

/* ---- receiving ---------------------------------------------------------- */

/* An in-order packet: when the peer's data asks for an ACK delay (ours
 * do: a tenth of their RTT), ack after it (at most ack_delay_ms) or at
 * once when STREAM_ACK_EVERY packets wait, so that one ACK covers a
 * burst; each ACK is a garlic message through two tunnels, and acking
 * every second packet cost the hops and both ends as much as a third of
 * the data did.  Otherwise (i2pd, whose resend timer is 1.5 times a mean
 * RTT and fired three times as often when our ACKs waited) ack every
 * second packet at once, and a lone one after ack_delay_ms. */
static void schedule_ack(struct stream *s, bool now)
{
	uint32_t d = s->mgr->cfg.ack_delay_ms;
	unsigned every = s->peer_ack_delay < 0 ? 2 : STREAM_ACK_EVERY;

	if (now || ++s->ack_pending >= every) {
		send_plain_ack(s);
		return;
	}
	if (s->peer_ack_delay >= 0 && (uint32_t)s->peer_ack_delay < d)
		d = (uint32_t)s->peer_ack_delay;
	if (!s->ack_due)
		s->ack_due = now_ms() + d;
}

static size_t buffered(const struct stream *s)
{
	return s->recvq.len + s->rx_bytes;
}

/* Move in-order packets from the ring to the app's queue. */
static void deliver(struct stream *s)
{
	size_t before = s->recvq.len;

	for (;;) {
		struct stream_rx *r = &s->rx[s->rcv_next % s->ring];

		if (!r->have)
			break;
		if (r->len)
			fifo_push(&s->recvq, r->data, r->len);
		s->rx_bytes -= r->len;
		s->mgr->rx_held -= r->len;
		if (r->close)
			s->fin_received = true;
		xfree_wipe(r->data, r->len);
		memset(r, 0, sizeof(*r));
		s->rcv_next++;
	}
	if (s->recvq.len > before)
		set_event(s, STREAM_EV_READABLE);
	if (s->fin_received && !s->eof_signalled) {
		s->eof_signalled = true;
		set_event(s, STREAM_EV_EOF);
	}
}

/* A packet with a sequence number (data, SYN or CLOSE). */
static void receive_data(struct stream *s, const struct stream_packet *p)
{
	struct stream_rx *r = NULL;
	uint32_t off = p->seq - s->rcv_next;
	bool in_order;

	if (seq_lt(p->seq, s->rcv_next)) {	/* a duplicate: re-ack now */
		s->dups++;
		schedule_ack(s, true);
		return;
	}
	if (off >= s->ring_max || s->fin_received)
		return;
	if (off < s->ring)		/* else the rings grow below */
		r = &s->rx[p->seq % s->ring];
	if (r && r->have) {
		s->dups++;
		schedule_ack(s, true);
		return;
	}
	/* Over the buffer: drop (it will come again), except the packet
	 * that fills the first hole, or out-of-order data could block the
	 * stream for good. */
	if (!(p->seq == s->rcv_next && s->rx_bytes > 0) &&
	    buffered(s) + p->payload_len > recv_limit(s->mgr)) {
		if (s->recvq.len > recv_limit(s->mgr) / 2)
			s->choking = true;
		schedule_ack(s, true);
		return;
	}
	/* Out of order past what all streams may hold: dropped too (it
	 * comes again; the packet at rcv_next is always taken). */
	if (p->seq != s->rcv_next &&
	    s->mgr->rx_held + p->payload_len > ooo_limit(s->mgr)) {
		s->mgr->stats.ooo_dropped++;
		schedule_ack(s, true);
		return;
	}
	if (!r) {
		ring_grow(s, off + 1);
		r = &s->rx[p->seq % s->ring];
	}
	r->have = true;
	r->close = (p->flags & STREAM_F_CLOSE) != 0;
	r->len = p->payload_len;
	r->data = r->len ? xmemdup(p->payload, r->len) : NULL;
	s->rx_bytes += r->len;
	s->mgr->rx_held += r->len;
	if (seq_lt(s->rcv_highest, p->seq) || !s->rcv_any) {
		s->rcv_highest = p->seq;
		s->rcv_any = true;
	}
	in_order = p->seq == s->rcv_next;
	if (!in_order)
		s->ooo++;
	s->bytes_in += r->len;
	deliver(s);
	/* Choke for unread data only: out-of-order data is bounded by the
	 * sender's window, and choking for it stalls loss recovery. */
	if (s->recvq.len > recv_limit(s->mgr) / 2)
		s->choking = true;
	/* Out of order (a hole below rcv_highest), CLOSE or SYN: ack now
	 * (from p: deliver() has cleared r). */
	schedule_ack(s, !in_order || s->rcv_next != s->rcv_highest + 1 ||
			     (p->flags & (STREAM_F_CLOSE | STREAM_F_SYN)));
}

/* A stream that moved enough says how it went (info), once it ends. */
static void log_stats(const struct stream *s)
{
	if (s->bytes_out + s->bytes_in >= STREAM_LOG_STATS_BYTES)
		log_info(LD_CLIENT, "stream %u: %llu ms, %llu B out in %llu "
			 "packets (%llu resent, %llu loss episodes, %llu "
			 "RTOs, %llu of them undone), %llu B in (%llu out of "
			 "order, %llu dups); RTT %u ms min %u, cwnd max %u",
			 s->local_id,
			 (unsigned long long)(now_ms() - s->opened),
			 (unsigned long long)s->bytes_out,
			 (unsigned long long)s->packets_sent,
			 (unsigned long long)s->packets_resent,
			 (unsigned long long)s->losses,
			 (unsigned long long)s->rtos,
			 (unsigned long long)s->rtos_undone,
			 (unsigned long long)s->bytes_in,
			 (unsigned long long)s->ooo,
			 (unsigned long long)s->dups, s->srtt_ms,
			 s->srtt_min_ms, (unsigned)s->cwnd_max);
}

static void stream_check_done(struct stream *s)
{
	if (s->state == STREAM_OPEN && s->close_sent && s->close_acked &&
	    s->inflight == 0 && s->fin_received) {
		s->state = STREAM_CLOSED;
		log_stats(s);
		/* Linger to re-ack a CLOSE whose ACK was lost. */
		s->linger_until = now_ms() + STREAM_LINGER_MS +
				  2 * (uint64_t)s->rto_ms;
		set_event(s, STREAM_EV_CLOSED);
	}
}

static void stream_fail(struct stream *s, enum stream_state st,
			unsigned ev)
{
	if (stream_finished(s))
		return;
	s->state = st;
	log_stats(s);
	for (unsigned i = 0; i < s->ring; i++)
		if (s->tx[i].used)
			tx_release(s, &s->tx[i]);
	s->rto_due = s->ack_due = 0;
	s->linger_until = now_ms();
	set_event(s, ev);
}

void stream_emit(struct stream *s)
{
	unsigned ev = s->events;

	s->events = 0;
	if (ev && s->fn && !s->released)
		s->fn(s->fn_ctx, s, ev);
}

/* The peer has room again: the probes sent while choked were no loss;
 * resend the oldest at once (it was probably dropped). */
static void unchoked(struct stream *s)
{
	struct stream_tx *t = &s->tx[s->una % s->ring];

	s->choked = false;
	for (unsigned i = 0; i < s->ring; i++)
		if (s->tx[i].used)
			s->tx[i].sends = 1;
	rto_from_rtt(s);
	if (s->inflight && t->used) {
		tx_send(s, t);
		rto_arm(s);
	}
}

void stream_on_packet(struct stream *s, const struct stream_packet *p,
		      const uint8_t *raw, size_t len)
{
	struct stream_mgr *mgr = s->mgr;

	if (stream_finished(s)) {
		/* A packet resent after we were done (our ACK was lost):
		 * ack it again. */
		if (s->state == STREAM_CLOSED && p->seq != 0)
			send_plain_ack(s);
		return;
	}
	if (p->flags & (STREAM_F_SIG)) {
		const struct keys_and_cert *k =
			(p->flags & STREAM_F_FROM) ? &p->from : &s->peer;

		if ((p->flags & STREAM_F_FROM) &&
		    memcmp(p->from.hash, s->peer.hash, 32) != 0) {
			mgr->stats.packets_dropped++;
			return;
		}
		if (!(p->sig_checked && (p->flags & STREAM_F_FROM)) &&
		    stream_packet_verify(p, raw, len, k, time_now_s()) != 0) {
			mgr->stats.packets_dropped++;
			return;
		}
	} else if (p->flags & (STREAM_F_SYN | STREAM_F_CLOSE |
			       STREAM_F_RESET)) {
		mgr->stats.packets_dropped++;	/* must be signed */
		return;
	}
	s->last_activity = s->heard = now_ms();
	if (p->flags & STREAM_F_RESET) {
		stream_fail(s, STREAM_RESET, STREAM_EV_RESET);
		return;
	}
	if ((p->flags & STREAM_F_SYN) && s->state == STREAM_CONNECTING) {
		s->remote_id = p->recv_id;
		s->state = STREAM_OPEN;
		set_event(s, STREAM_EV_CONNECTED | STREAM_EV_WRITABLE);
		if (log_enabled(LOG_DEBUG)) {
			char h[72];
			log_debug(LD_CLIENT, "stream %u: connected to %s after "
				  "%llu ms, %u SYN sends", s->local_id,
				  log_safe_hash(h, sizeof(h), s->peer.hash),
				  (unsigned long long)(now_ms() - s->opened),
				  s->tx[0].sends);
		}
	}
	if ((p->flags & STREAM_F_SYN) && (p->flags & STREAM_F_MAX_SIZE) &&
	    p->max_size >= STREAM_MTU_MIN)
		s->peer_mtu = p->max_size;
	if (p->flags & STREAM_F_SYN)
		s->rcv_syn = true;
	if (!(p->flags & STREAM_F_DELAY) ||
	    p->delay_ms <= STREAM_DELAY_CHOKE_MS) {
		if (s->choked)
			unchoked(s);
		/* its data asks for ACKs after this delay */
		if ((p->flags & STREAM_F_DELAY) && p->payload_len)
			s->peer_ack_delay = p->delay_ms;
	} else {
		s->choked = true;
	}
	if (!(p->flags & STREAM_F_NO_ACK) && s->remote_id)
		handle_ack(s, p);
	if (p->seq != 0 || (p->flags & STREAM_F_SYN))
		receive_data(s, p);
	pump(s);
	stream_check_done(s);
}

/* ---- timers ------------------------------------------------------------- */

static void on_rto(struct stream *s, uint64_t now)
{
	struct stream_tx *t = &s->tx[s->una % s->ring];

	if (!t->used) {
		rto_arm(s);
		return;
	}
	/* Given up after max_resends and STREAM_GIVE_UP_MS: over tunnels,
	 * a dead hop takes the pools about a minute to notice (two failed
	 * tunnel tests) and replace, and the peer's LeaseSet a refresh;
	 * resends at a short RTO would count out before that.  A choked
	 * sender's probes count only once the peer has been silent
	 * STREAM_CHOKED_SILENCE_MS: a choking peer that went away would
	 * hold the stream for ever. */
	if (t->sends > s->mgr->cfg.max_resends &&
	    now - t->first_sent >= STREAM_GIVE_UP_MS &&
	    (!s->choked || now - s->heard >= STREAM_CHOKED_SILENCE_MS)) {
		log_info(LD_CLIENT, "stream: no ACK after %u sends, giving up",
			 t->sends);
		send_packet(s, s->next_seq, STREAM_F_RESET, NULL, 0);
		stream_fail(s, STREAM_FAILED, STREAM_EV_FAILED);
		return;
	}
	/* The first RTO of a packet may prove spurious (undo_rto()); its
	 * later RTOs keep what the first saved. */
	if (t->sends == 1) {
		s->undo_armed = true;
		s->undo_later = false;
		s->undo_cwnd = s->cwnd;
		s->undo_ssthresh = s->ssthresh;
		s->undo_rto_ms = s->rto_ms;
		s->undo_seq = t->seq;
		s->undo_next = s->next_seq;
	} else if (t->seq != s->undo_seq) {
		s->undo_armed = false;
	}
	s->gobn = true;
	s->gobn_next = t->seq + 1;
	s->gobn_end = s->next_seq;
	s->gobn_at = now;
	/* RFC 6298 5.4-5.6: resend the earliest, back off, collapse. */
	s->rtos++;
	s->ssthresh = s->inflight / 2 > 2 ? s->inflight / 2 : 2;
	s->cwnd = 1;
	s->recover = s->next_seq - 1;
	s->in_recovery = true;
	if (log_enabled(LOG_DEBUG)) {
		char h[72];
		log_debug(LD_CLIENT, "stream %u: no ACK from %s for packet %u "
			  "(%s) in %u ms: resent", s->local_id,
			  log_safe_hash(h, sizeof(h), s->peer.hash), t->seq,
			  t->flags & STREAM_F_SYN ? "SYN" : "data", s->rto_ms);
	}
	s->rto_ms = s->rto_ms * 2 > STREAM_MAX_RTO_MS ? STREAM_MAX_RTO_MS :
							s->rto_ms * 2;
	tx_send(s, t);
	rto_arm(s);
}

bool stream_awaiting(const struct stream *s, uint64_t now)
{
	return !stream_finished(s) && s->inflight && s->rto_due &&
	       s->rto_due > now && s->tx[s->una % s->ring].used;
}

void stream_route_renewed(struct stream *s)
{
	uint64_t now = now_ms();

	/* Only a packet already sent and waiting on its RTO: the RTO
	 * fires now, from the RTO the stream had before backing off
	 * (resent at once, then backed off once from there). */
	if (!stream_awaiting(s, now))
		return;
	s->rto_ms = s->mgr->cfg.initial_rto_ms;
	rto_from_rtt(s);
	s->mgr->stats.route_resends++;
	on_rto(s, now);
}

void stream_run_timers(struct stream *s, uint64_t now)
{
	if (s->syn_pending && s->initiator && !stream_finished(s)) {
		stream_send_syn(s);
		/* The network has no way to the peer at all (not even by a
		 * lookup): fail now rather than after every resend. */
		if (s->no_route)
			stream_fail(s, STREAM_FAILED, STREAM_EV_FAILED);
	}
	if (s->rto_due && s->rto_due <= now && !stream_finished(s))
		on_rto(s, now);
	if (s->ack_due && s->ack_due <= now && !stream_finished(s))
		send_plain_ack(s);
	if (!stream_finished(s) && s->mgr->cfg.inactivity_ms &&
	    now - s->last_activity >= s->mgr->cfg.inactivity_ms) {
		switch (s->mgr->cfg.inactivity_action) {
		case STREAM_INACTIVITY_NOOP:
			s->last_activity = now;
			break;
		case STREAM_INACTIVITY_DISCONNECT:
			stream_reset(s);
			break;
		case STREAM_INACTIVITY_SEND:
			s->last_activity = now;
			if (s->released)	/* nobody waits for it */
				stream_reset(s);
			else
				send_plain_ack(s);
			break;
		}
	}
	pump(s);
	stream_check_done(s);
}

uint64_t stream_next_deadline(const struct stream *s)
{
	uint64_t d = UINT64_MAX;

	if (stream_finished(s))
		return s->released ? s->linger_until : UINT64_MAX;
	if (s->syn_pending && s->initiator)
		return 0;		/* the SYN: at once */
	if (s->rto_due && s->rto_due < d)
		d = s->rto_due;
	if (s->ack_due && s->ack_due < d)
		d = s->ack_due;
	if (s->mgr->cfg.inactivity_ms &&
	    s->last_activity + s->mgr->cfg.inactivity_ms < d)
		d = s->last_activity + s->mgr->cfg.inactivity_ms;
	return d;
}

/* ---- the stream API ----------------------------------------------------- */

struct stream *stream_alloc(struct stream_mgr *mgr,
			    const struct keys_and_cert *peer, bool initiator)
{
	struct stream *s = xzalloc(sizeof(*s));

	s->mgr = mgr;
	s->peer = *peer;
	s->initiator = initiator;
	s->local_id = random_id();
	s->state = initiator ? STREAM_CONNECTING : STREAM_OPEN;
	s->syn_pending = true;
	s->peer_ack_delay = -1;
	s->ack_req_sent = UINT32_MAX;
	s->cwnd = mgr->cfg.initial_window;
	s->ssthresh = mgr->cfg.max_window;
	s->ring_max = STREAM_RING_MIN;
	while (s->ring_max < 2 * mgr->cfg.max_window)
		s->ring_max *= 2;
	s->ring = STREAM_RING_START;
	s->tx = xzalloc(s->ring * sizeof(*s->tx));
	s->rx = xzalloc(s->ring * sizeof(*s->rx));
	s->rto_ms = mgr->cfg.initial_rto_ms;
	s->last_activity = s->opened = now_ms();
	s->next = mgr->streams;
	mgr->streams = s;
	mgr->nstreams++;
	return s;
}

void stream_send_syn(struct stream *s)
{
	size_t n = 0;

	s->syn_pending = false;
	/* Ours opens the stream: it carries the first packet of what the
	 * caller wrote (the peer's MTU is not known yet: ours).  The rest
	 * waits for the peer's SYN, which gives its stream ID. */
	if (s->initiator)
		n = fifo_pop(&s->sendq, s->mgr->chunk, stream_mtu(s));
	if (log_enabled(LOG_DEBUG)) {
		char h[72];
		log_debug(LD_CLIENT, "stream %u: SYN to %s (%s, %zu B)",
			  s->local_id, log_safe_hash(h, sizeof(h),
						     s->peer.hash),
			  s->initiator ? "opening" : "answering", n);
	}
	tx_new(s, STREAM_F_SYN, n ? s->mgr->chunk : NULL, n);
	pump(s);		/* what the acceptor wrote already */
}

void stream_free_(struct stream *s)
{
	s->mgr->rx_held -= s->rx_bytes;
	for (unsigned i = 0; i < s->ring; i++)
		xfree_wipe(s->tx[i].data, s->tx[i].len);
	for (unsigned i = 0; i < s->ring; i++)
		xfree_wipe(s->rx[i].data, s->rx[i].len);
	free(s->tx);
	free(s->rx);
	fifo_free(&s->sendq);
	fifo_free(&s->recvq);
	free(s);
}

int stream_connect(struct stream_mgr *mgr, const struct keys_and_cert *to,
		   uint16_t src_port, uint16_t dst_port, stream_event_fn fn,
		   void *ctx, struct stream **out)
{
	struct stream *s;

	if (mgr->cfg.max_streams && mgr->nstreams >= mgr->cfg.max_streams)
		return ERR_LIMIT;
	s = stream_alloc(mgr, to, true);
	s->src_port = src_port;
	s->dst_port = dst_port;
	s->fn = fn;
	s->fn_ctx = ctx;
	mgr->stats.conns_out++;
	/* The SYN goes at the end of this loop turn (stream_run_timers()),
	 * with what the caller writes before then. */
	stream_mgr_rearm(mgr);
	*out = s;
	return 0;
}

void stream_set_handler(struct stream *s, stream_event_fn fn, void *ctx)
{
	s->fn = fn;
	s->fn_ctx = ctx;
}

size_t stream_write(struct stream *s, const void *buf, size_t n)
{
	size_t room;

	if (stream_finished(s) || s->close_requested)
		return 0;
	room = s->mgr->cfg.send_buffer_bytes - s->sendq.len;
	if (n > room)
		n = room;
	fifo_push(&s->sendq, buf, n);
	pump(s);
	s->events &= ~(unsigned)STREAM_EV_WRITABLE;	/* the caller knows */
	stream_mgr_rearm(s->mgr);
	return n;
}

void stream_trim(struct stream *s)
{
	if (s->sendq.len == 0)
		fifo_free(&s->sendq);
	if (s->recvq.len == 0)
		fifo_free(&s->recvq);
}

size_t stream_read(struct stream *s, void *buf, size_t n)
{
	n = fifo_pop(&s->recvq, buf, n);
	if (s->choking && s->recvq.len <= recv_limit(s->mgr) / 4) {
		s->choking = false;
		s->unchoke_pending = true;
		send_plain_ack(s);
		s->unchoke_pending = false;
	}
	return n;
}

size_t stream_readable(const struct stream *s)
{
	return s->recvq.len;
}

size_t stream_unacked(const struct stream *s)
{
	size_t n = s->sendq.len;

	for (unsigned i = 0; i < s->ring; i++)
		if (s->tx[i].used)
			n += s->tx[i].len;
	return n;
}

bool stream_is_eof(const struct stream *s)
{
	return s->fin_received && s->recvq.len == 0;
}

void stream_close(struct stream *s)
{
	if (stream_finished(s) || s->close_requested)
		return;
	s->close_requested = true;
	pump(s);
	stream_mgr_rearm(s->mgr);
}

void stream_reset(struct stream *s)
{
	if (stream_finished(s))
		return;
	/* (An outgoing stream whose SYN has not gone: the peer knows
	 * nothing of it.) */
	if (s->remote_id || (s->state == STREAM_CONNECTING && !s->syn_pending))
		send_packet(s, s->next_seq, STREAM_F_RESET, NULL, 0);
	stream_fail(s, STREAM_RESET, STREAM_EV_RESET);
	stream_mgr_rearm(s->mgr);
}

void stream_release(struct stream *s)
{
	if (s->state == STREAM_CONNECTING)
		stream_reset(s);
	else
		stream_close(s);
	s->released = true;
	s->fn = NULL;
	if (stream_finished(s) && s->linger_until == 0)
		s->linger_until = now_ms();
	stream_mgr_rearm(s->mgr);
}

void stream_get_info(const struct stream *s, struct stream_info *out)
{
	memset(out, 0, sizeof(*out));
	out->state = s->state;
	out->local_id = s->local_id;
	out->remote_id = s->remote_id;
	out->src_port = s->src_port;
	out->dst_port = s->dst_port;
	out->mtu = stream_mtu(s);
	out->cwnd = (unsigned)s->cwnd;
	out->ssthresh = s->ssthresh;
	out->inflight = s->inflight;
	out->srtt_ms = s->srtt_ms;
	out->rto_ms = s->rto_ms;
	out->packets_sent = s->packets_sent;
	out->packets_resent = s->packets_resent;
	out->rtos = s->rtos;
	out->rtos_undone = s->rtos_undone;
	out->buffer_bytes = s->sendq.cap + s->recvq.cap;
	out->ring_slots = s->ring;
}

const struct keys_and_cert *stream_peer(const struct stream *s)
{
	return &s->peer;
}
