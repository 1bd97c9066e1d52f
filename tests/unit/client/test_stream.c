/*
 * apps/client/stream: two endpoints joined by a lossy, delaying,
 * reordering pipe on a virtual clock (tpipe.h).  Byte-exact transfers both
 * ways at 0, 5 and 20 % loss, the close handshake, reset, connection
 * limits, pings, MTU negotiation, choking, bad signatures and timeouts.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/client/stream.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"
#include "tests/unit/client/tclient.h"
#include "tests/unit/client/tpipe.h"
#include "tests/unit/tharness.h"

#define MIB (1024 * 1024)
#define VIRTUAL_HOUR_MS (3600 * 1000ull)

struct tapp {
	struct stream *s;
	uint64_t total, sent, rcvd;
	uint8_t tx_seed, rx_seed;
	bool connected, eof, closed, reset, failed, mismatch;
	bool close_after_send, close_called, no_read;
	unsigned accepted;
};

static uint8_t pattern(uint8_t seed, uint64_t i)
{
	return (uint8_t)(((i * 2654435761u) >> 11) ^ (i >> 20) ^ seed);
}

static void app_pump(struct tapp *a)
{
	uint8_t buf[16384];
	size_t n;

	if (!a->s)
		return;
	while (a->sent < a->total) {
		size_t want = a->total - a->sent < sizeof(buf) ?
				      (size_t)(a->total - a->sent) : sizeof(buf);

		for (size_t i = 0; i < want; i++)
			buf[i] = pattern(a->tx_seed, a->sent + i);
		n = stream_write(a->s, buf, want);
		a->sent += n;
		if (n < want)
			break;
	}
	if (a->sent == a->total && a->close_after_send && !a->close_called) {
		a->close_called = true;
		stream_close(a->s);
	}
	while (!a->no_read && (n = stream_read(a->s, buf, sizeof(buf))) > 0) {
		for (size_t i = 0; i < n; i++)
			if (buf[i] != pattern(a->rx_seed, a->rcvd + i))
				a->mismatch = true;
		a->rcvd += n;
	}
}

static void app_event(void *ctx, struct stream *s, unsigned ev)
{
	struct tapp *a = ctx;

	(void)s;
	if (ev & STREAM_EV_CONNECTED)
		a->connected = true;
	if (ev & STREAM_EV_RESET)
		a->reset = true;
	if (ev & STREAM_EV_FAILED)
		a->failed = true;
	if (ev & STREAM_EV_CLOSED)
		a->closed = true;
	app_pump(a);
	if (ev & STREAM_EV_EOF)
		a->eof = true;
}

static void app_accept(void *ctx, struct stream *s)
{
	struct tapp *a = ctx;

	a->accepted++;
	if (a->s)		/* tests accept one at a time */
		return;
	a->s = s;
	a->connected = true;
	stream_set_handler(s, app_event, a);
	app_pump(a);
}

struct pair {
	struct tapp a, b;
};

static bool both_closed(void *ctx)
{
	struct pair *p = ctx;

	return (p->a.closed && p->b.closed) || p->a.reset || p->b.reset ||
	       p->a.failed || p->b.failed;
}

static bool a_ended(void *ctx)
{
	struct pair *p = ctx;

	return p->a.reset || p->a.failed || p->a.closed;
}

static bool b_reset(void *ctx)
{
	struct pair *p = ctx;

	return p->b.reset || p->b.failed;
}

static bool b_eof(void *ctx)
{
	struct pair *p = ctx;

	return p->b.eof;
}

static bool b_got_some(void *ctx)
{
	struct pair *p = ctx;

	return p->b.rcvd >= 50000;
}

static bool a_connected(void *ctx)
{
	struct pair *p = ctx;

	return p->a.connected || p->a.reset || p->a.failed;
}

/* B listens, A connects. */
static void pair_connect(struct tctx *t, struct tpipe *pp, struct pair *p)
{
	stream_mgr_set_acceptor(tpipe_mgr(pp, 1), app_accept, &p->b);
	T_OK(t, stream_connect(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), 0, 0,
			       app_event, &p->a, &p->a.s));
}

/* A fresh pipe for cfg and a zeroed pair. */
static struct tpipe *pair_new(const struct tpipe_cfg *cfg, struct pair *p)
{
	memset(p, 0, sizeof(*p));
	return tpipe_new(cfg);
}

static bool never(void *ctx)
{
	(void)ctx;
	return false;
}

static void default_cfg(struct tpipe_cfg *c, unsigned loss, uint32_t delay,
			uint32_t jitter, uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	c->loss_pct = loss;
	c->delay_ms = delay;
	c->jitter_ms = jitter;
	c->seed = seed;
	stream_config_default(&c->stream[0]);
	stream_config_default(&c->stream[1]);
}

static bool mgrs_empty(void *ctx)
{
	struct tpipe *p = ctx;

	return stream_mgr_count(tpipe_mgr(p, 0)) == 0 &&
	       stream_mgr_count(tpipe_mgr(p, 1)) == 0;
}

/* size bytes each way; both close when done; everything verified. */
static void run_transfer(struct tctx *t, const struct tpipe_cfg *cfg,
			 uint64_t size, uint64_t *resent)
{
	struct pair p;
	struct tpipe *pp = pair_new(cfg, &p);
	struct stream_info ia, ib;
	struct stream_mgr_stats st;

	p.a.total = p.b.total = size;
	p.a.tx_seed = p.b.rx_seed = 0x11;
	p.b.tx_seed = p.a.rx_seed = 0x22;
	p.a.close_after_send = p.b.close_after_send = true;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, 4 * VIRTUAL_HOUR_MS));
	T_TRUE(t, p.a.connected);
	T_EQ(t, p.b.accepted, 1);
	T_FALSE(t, p.a.reset || p.b.reset || p.a.failed || p.b.failed);
	T_TRUE(t, p.a.closed && p.b.closed);
	T_TRUE(t, p.a.eof && p.b.eof);
	T_EQ(t, p.a.rcvd, size);
	T_EQ(t, p.b.rcvd, size);
	T_FALSE(t, p.a.mismatch);
	T_FALSE(t, p.b.mismatch);
	if (p.a.s && p.b.s) {
		stream_get_info(p.a.s, &ia);
		stream_get_info(p.b.s, &ib);
		T_EQ(t, ia.state, STREAM_CLOSED);
		T_EQ(t, ib.state, STREAM_CLOSED);
		T_EQ(t, ia.remote_id, ib.local_id);
		T_EQ(t, ib.remote_id, ia.local_id);
		T_EQ(t, ia.mtu, cfg->stream[0].mtu < cfg->stream[1].mtu ?
					cfg->stream[0].mtu : cfg->stream[1].mtu);
		*resent = ia.packets_resent + ib.packets_resent;
		stream_release(p.a.s);
		stream_release(p.b.s);
	}
	/* Released and lingered: the managers free both streams. */
	T_TRUE(t, tpipe_run(pp, mgrs_empty, pp, VIRTUAL_HOUR_MS));
	stream_mgr_stats(tpipe_mgr(pp, 1), &st);
	T_EQ(t, st.conns_in, 1);
	tpipe_free(pp);
}

/* Our data asks for ACKs after a tenth of the RTT, and our receiver
 * honours it: one ACK covers a burst (at most STREAM_ACK_EVERY
 * packets), not every second packet, and the window still opens. */
static void test_acks_sparse(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct stream_info ia, ib;

	default_cfg(&c, 0, 20, 0, 4);
	pp = pair_new(&c, &p);
	p.a.total = 4 * MIB;
	p.a.close_after_send = p.b.close_after_send = true;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, VIRTUAL_HOUR_MS));
	T_EQ(t, p.b.rcvd, 4 * MIB);
	T_FALSE(t, p.b.mismatch);
	stream_get_info(p.a.s, &ia);
	stream_get_info(p.b.s, &ib);
	T_EQ(t, ia.packets_resent, 0);
	T_EQ(t, ia.cwnd, STREAM_DEFAULT_WINDOW);
	T_TRUE(t, ia.packets_sent > 2000);
	T_TRUE(t, ib.packets_sent * 6 < ia.packets_sent);
	tpipe_free(pp);
}

static void test_transfer_lossless(struct tctx *t)
{
	struct tpipe_cfg c;
	uint64_t resent = 99;

	default_cfg(&c, 0, 20, 0, 1);
	run_transfer(t, &c, 4 * MIB, &resent);
	T_EQ(t, resent, 0);
}

/* Loss with reordering: resends happen, the bytes still arrive exact. */
static void lossy_transfer(struct tctx *t, unsigned loss, uint32_t jitter,
			   uint64_t seed)
{
	struct tpipe_cfg c;
	uint64_t resent = 0;

	default_cfg(&c, loss, 20, jitter, seed);
	run_transfer(t, &c, 4 * MIB, &resent);
	T_TRUE(t, resent > 0);
}

static void test_transfer_loss5(struct tctx *t)
{
	lossy_transfer(t, 5, 15, 5);
}

static void test_transfer_loss20(struct tctx *t)
{
	lossy_transfer(t, 20, 30, 20);
}

/* Tunnels reorder: without loss, reordering alone causes no resends
 * (RACK's reordering window). */
static void test_reorder_no_spurious_resend(struct tctx *t)
{
	struct tpipe_cfg c;
	uint64_t resent = 99;

	default_cfg(&c, 0, 40, 10, 21);
	run_transfer(t, &c, 2 * MIB, &resent);
	T_EQ(t, resent, 0);
}

/* Out-of-order data fills the receive buffer while the first hole is
 * missing: the packet that fills the hole is still taken (it used to be
 * dropped for good, and the stream stalled). */
static void test_full_buffer_hole(struct tctx *t)
{
	struct tpipe_cfg c;
	uint64_t resent = 0;

	default_cfg(&c, 5, 20, 5, 22);
	c.stream[0].recv_buffer_bytes = 16 * STREAM_MTU_DEFAULT;
	c.stream[1].recv_buffer_bytes = 16 * STREAM_MTU_DEFAULT;
	run_transfer(t, &c, 2 * MIB, &resent);
	T_TRUE(t, resent > 0);
}

static size_t g_ooo_most;

static void ooo_sample(void *ctx, int from, uint8_t *pkt, size_t len)
{
	struct tpipe **pp = ctx;
	struct stream_mgr_stats st;
	static size_t most;

	(void)from;
	(void)pkt;
	(void)len;
	if (!*pp)
		return;
	stream_mgr_stats(tpipe_mgr(*pp, 1), &st);
	if (st.ooo_bytes > most)
		most = st.ooo_bytes;
	g_ooo_most = most;
}

/* Out-of-order data past ooo_total_bytes (all of a destination's
 * streams) is dropped and comes again; the transfer completes and what
 * is held never passes the limit. */
static void test_ooo_total(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp = NULL;
	struct stream_mgr_stats st;
	struct pair p;

	default_cfg(&c, 5, 20, 5, 22);
	c.stream[1].ooo_total_bytes = 4 * STREAM_MTU_DEFAULT;
	c.tap = ooo_sample;
	c.tap_ctx = &pp;
	g_ooo_most = 0;
	pp = pair_new(&c, &p);
	p.a.total = MIB;
	p.a.tx_seed = p.b.rx_seed = 0x11;
	p.a.close_after_send = p.b.close_after_send = true;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, 4 * VIRTUAL_HOUR_MS));
	T_EQ(t, p.b.rcvd, MIB);
	T_FALSE(t, p.b.mismatch);
	stream_mgr_stats(tpipe_mgr(pp, 1), &st);
	T_TRUE(t, st.ooo_dropped > 0);
	T_TRUE(t, g_ooo_most > 0);
	T_TRUE(t, g_ooo_most <= 4 * STREAM_MTU_DEFAULT);
	if (p.a.s)
		stream_release(p.a.s);
	if (p.b.s)
		stream_release(p.b.s);
	T_TRUE(t, tpipe_run(pp, mgrs_empty, pp, VIRTUAL_HOUR_MS));
	stream_mgr_stats(tpipe_mgr(pp, 1), &st);
	T_EQ(t, st.ooo_bytes, 0);
	tpipe_free(pp);
}

/* The window opens in slow start on a clean pipe. */
static void test_window_grows(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct stream_info ia;

	default_cfg(&c, 0, 50, 0, 3);
	pp = pair_new(&c, &p);
	p.a.total = 2 * MIB;
	p.a.close_after_send = p.b.close_after_send = true;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, VIRTUAL_HOUR_MS));
	stream_get_info(p.a.s, &ia);
	T_EQ(t, ia.cwnd, STREAM_DEFAULT_WINDOW);
	/* RFC 6298 on a constant 100 ms round trip (plus the ack delay). */
	T_TRUE(t, ia.srtt_ms >= 100 && ia.srtt_ms <= 160);
	T_TRUE(t, ia.rto_ms >= STREAM_MIN_RTO_MS && ia.rto_ms < 1000);
	T_EQ(t, p.b.rcvd, 2 * MIB);
	tpipe_free(pp);
}

/* A sends 16 MiB to B over a one-way delay (ms) and jitter (seed);
 * B's packets (the ACKs) are held from 300 to 900 ms; run for ms; A's
 * stream figures and what B received. */
static uint64_t ack_stall_run(struct tctx *t, uint32_t delay, uint32_t jitter,
			      uint64_t seed, uint64_t ms,
			      struct stream_info *ia)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	uint64_t rcvd;

	default_cfg(&c, 0, delay, jitter, seed);
	c.stall_from = 1;
	c.stall_at_ms = 300;
	c.stall_ms = 600;
	pp = pair_new(&c, &p);
	p.a.total = 16 * MIB;
	pair_connect(t, pp, &p);
	T_FALSE(t, tpipe_run(pp, never, NULL, ms));
	stream_get_info(p.a.s, ia);
	rcvd = p.b.rcvd;
	tpipe_free(pp);
	return rcvd;
}

/* A stall on the ACK path (B's packets held 600 ms mid-transfer, as when
 * a hop is descheduled on a loaded machine): A's RTO fires, and the first
 * ACK after the stall acks packets sent before it, so the RTO is undone:
 * the window is back at its cap, not regrown from 1 through slow start
 * and a halved threshold. */
static void test_rto_stall_undone(struct tctx *t)
{
	struct stream_info ia;
	/* until 300 ms after the stall */
	uint64_t rcvd = ack_stall_run(t, 10, 0, 7, 1200, &ia);

	T_TRUE(t, rcvd > 4 * MIB && rcvd < 16 * MIB);
	T_TRUE(t, ia.rtos >= 1);		/* one episode, undone */
	T_EQ(t, ia.rtos_undone, 1);
	T_EQ(t, ia.cwnd, STREAM_DEFAULT_WINDOW);
	T_TRUE(t, ia.ssthresh >= STREAM_DEFAULT_WINDOW);
	T_TRUE(t, ia.rto_ms < 1000);
}

/* The same stall with ACKs that overtake each other on the way (tunnels
 * reorder): the first ACKs after it were sent while a packet was still
 * overtaken and NACK it, though it arrived.  The RTO is undone all the
 * same (a later ACK acks a resent packet sooner than a round trip), and
 * those NACKs cost no window.  Before, the first ACK decided (no undo),
 * and the stream regrew from a threshold of 14 packets, at 33 by 3 s
 * (0.9 MB received against 4.3 now). */
static void test_rto_stall_reordered_undone(struct tctx *t)
{
	struct stream_info ia;
	uint64_t rcvd = ack_stall_run(t, 50, 5, 307, 3000, &ia);

	T_TRUE(t, ia.rtos >= 1);
	T_TRUE(t, ia.rtos_undone >= 1);
	T_EQ(t, ia.cwnd, STREAM_DEFAULT_WINDOW);
	T_TRUE(t, ia.ssthresh >= STREAM_DEFAULT_WINDOW);
	T_TRUE(t, rcvd > 3 * MIB);
}

/* A blackout (A's packets lost for 1 s): the resends are lost too, so the
 * RTOs stand (nothing is undone), and after it the flight lost in it is
 * resent as ACKs come back (it went one packet per backed-off RTO, and
 * the transfer took hours). */
static void test_rto_blackout_stands(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct stream_info ia;

	default_cfg(&c, 0, 10, 0, 8);
	c.stall_from = 0;
	c.stall_at_ms = 300;
	c.stall_ms = 1000;
	c.stall_drops = true;
	pp = pair_new(&c, &p);
	p.a.total = 8 * MIB;
	p.a.close_after_send = p.b.close_after_send = true;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, VIRTUAL_HOUR_MS));
	stream_get_info(p.a.s, &ia);
	T_EQ(t, p.b.rcvd, 8 * MIB);
	T_FALSE(t, p.b.mismatch);
	T_TRUE(t, ia.rtos >= 2);
	T_EQ(t, ia.rtos_undone, 0);
	tpipe_free(pp);
}

/* A SYN lost while the way to B was down (A's packets dropped for 20 s)
 * waits on its backed-off RTO (sent at 0 and 9 s, next at 27 s).  When
 * the network says it found a newer way to B (stream_mgr_route_renewed,
 * as tunnelnet does when a quiet remote's LeaseSet is renewed), A sends
 * it at once and connects a round trip later; for another peer's hash,
 * nothing moves. */
static void test_route_renewed(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct stream_mgr_stats st;
	uint8_t other[32];
	uint64_t t0;

	for (int kick = 0; kick < 2; kick++) {
		default_cfg(&c, 0, 10, 0, 9);
		c.stall_from = 0;
		c.stall_at_ms = 0;
		c.stall_ms = 20000;
		c.stall_drops = true;
		pp = pair_new(&c, &p);
		t0 = tpipe_now(pp);
		pair_connect(t, pp, &p);
		T_FALSE(t, tpipe_run(pp, a_connected, &p, 21000));
		memset(other, 0x5a, sizeof(other));
		stream_mgr_route_renewed(tpipe_mgr(pp, 0), other);
		if (kick)
			stream_mgr_route_renewed(tpipe_mgr(pp, 0),
						 tpipe_dest(pp, 1)->hash);
		T_EQ(t, tpipe_run(pp, a_connected, &p, 1000), kick == 1);
		stream_mgr_stats(tpipe_mgr(pp, 0), &st);
		T_EQ(t, st.route_resends, (uint64_t)kick);
		/* either way it connects: at 27 s without the word */
		T_TRUE(t, tpipe_run(pp, a_connected, &p, 30000));
		T_TRUE(t, p.a.connected);
		T_TRUE(t, kick ? tpipe_now(pp) - t0 < 22000 :
			  tpipe_now(pp) - t0 >= 27000);
		tpipe_free(pp);
	}
}

/* A window past the default (512 packets, rings of 1024): it opens all
 * the way on a long clean path, and bytes arrive exact through loss and
 * reordering with that many packets in flight. */
static void test_window_512(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct stream_info ia;
	uint64_t resent = 0;

	default_cfg(&c, 0, 100, 0, 7);
	c.stream[0].max_window = c.stream[1].max_window = 512;
	pp = pair_new(&c, &p);
	p.a.total = 8 * MIB;
	p.a.close_after_send = p.b.close_after_send = true;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, VIRTUAL_HOUR_MS));
	stream_get_info(p.a.s, &ia);
	T_EQ(t, ia.cwnd, 512);
	T_EQ(t, p.b.rcvd, 8 * MIB);
	T_FALSE(t, p.b.mismatch);
	tpipe_free(pp);
	default_cfg(&c, 5, 100, 25, 8);
	c.stream[0].max_window = c.stream[1].max_window = 512;
	run_transfer(t, &c, 4 * MIB, &resent);
	T_TRUE(t, resent > 0);
}

/* A stream opened and left idle holds small rings (each took 20-40 KB
 * from its SYN); they grow with the packets in flight and out of order,
 * to twice the window at most, and the bytes still arrive exact. */
static void test_rings_on_demand(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct stream_info ia, ib;

	default_cfg(&c, 0, 20, 0, 31);
	pp = pair_new(&c, &p);
	pair_connect(t, pp, &p);
	T_FALSE(t, tpipe_run(pp, never, NULL, 2000));
	T_TRUE(t, p.a.connected && p.b.s != NULL);
	if (p.a.s && p.b.s) {
		stream_get_info(p.a.s, &ia);
		stream_get_info(p.b.s, &ib);
		T_EQ(t, ia.state, STREAM_OPEN);
		T_TRUE(t, ia.ring_slots <= 16);
		T_TRUE(t, ib.ring_slots <= 16);
	}
	tpipe_free(pp);

	default_cfg(&c, 5, 20, 15, 32);
	pp = pair_new(&c, &p);
	p.a.total = 4 * MIB;
	p.a.tx_seed = p.b.rx_seed = 0x33;
	p.a.close_after_send = p.b.close_after_send = true;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, 4 * VIRTUAL_HOUR_MS));
	T_EQ(t, p.b.rcvd, 4 * MIB);
	T_FALSE(t, p.b.mismatch);
	if (p.a.s && p.b.s) {
		stream_get_info(p.a.s, &ia);
		stream_get_info(p.b.s, &ib);
		T_TRUE(t, ia.packets_resent > 0);
		T_TRUE(t, ia.ring_slots > 16);	/* packets in flight */
		T_TRUE(t, ib.ring_slots > 16);	/* out of order */
		T_TRUE(t, ia.ring_slots <= 2 * STREAM_DEFAULT_WINDOW &&
			  ib.ring_slots <= 2 * STREAM_DEFAULT_WINDOW);
	}
	tpipe_free(pp);
}

/* One side closes first: the other sees EOF, may still send, then closes. */
static void test_half_close(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;

	default_cfg(&c, 0, 10, 0, 4);
	pp = pair_new(&c, &p);
	p.a.total = 1000;
	p.a.close_after_send = true;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, b_eof, &p, VIRTUAL_HOUR_MS));
	T_EQ(t, p.b.rcvd, 1000);
	T_FALSE(t, p.a.closed);			/* B has not closed */
	/* B answers after the EOF, then closes. */
	p.b.total = 5000;
	p.b.close_after_send = true;
	app_pump(&p.b);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, VIRTUAL_HOUR_MS));
	T_TRUE(t, p.a.closed && p.b.closed);
	T_EQ(t, p.a.rcvd, 5000);
	T_TRUE(t, p.a.eof);
	tpipe_free(pp);
}

static void test_reset(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct stream_info ib;

	default_cfg(&c, 0, 10, 0, 6);
	pp = pair_new(&c, &p);
	p.a.total = 200000;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, b_got_some, &p, VIRTUAL_HOUR_MS));
	stream_reset(p.a.s);
	T_TRUE(t, tpipe_run(pp, b_reset, &p, VIRTUAL_HOUR_MS));
	T_TRUE(t, p.b.reset);
	stream_get_info(p.b.s, &ib);
	T_EQ(t, ib.state, STREAM_RESET);
	T_EQ(t, stream_write(p.b.s, "x", 1), 0);
	stream_release(p.a.s);
	stream_release(p.b.s);
	T_TRUE(t, tpipe_run(pp, mgrs_empty, pp, VIRTUAL_HOUR_MS));
	tpipe_free(pp);
}

/* A manager about to go resets what the app still holds: the handler
 * hears it at once (a call waiting on its stream can end), the peer gets
 * the RESET, a released stream hears nothing. */
static void test_reset_all(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct tapp other = { 0 };

	default_cfg(&c, 0, 10, 0, 6);
	pp = pair_new(&c, &p);
	p.a.total = 200000;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, b_got_some, &p, VIRTUAL_HOUR_MS));
	/* a second stream, released at once */
	T_OK(t, stream_connect(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), 0, 0,
			       app_event, &other, &other.s));
	stream_release(other.s);
	T_FALSE(t, p.a.reset);
	stream_mgr_reset_all(tpipe_mgr(pp, 0));
	T_TRUE(t, p.a.reset);
	T_FALSE(t, other.reset);
	T_TRUE(t, tpipe_run(pp, b_reset, &p, VIRTUAL_HOUR_MS));
	T_TRUE(t, p.b.reset);
	stream_mgr_reset_all(NULL);
	stream_release(p.a.s);
	stream_release(p.b.s);
	tpipe_free(pp);
}

/* max_streams on the acceptor: a second SYN gets a signed RESET. */
static void test_limit_max_streams(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p, q;
	struct stream_mgr_stats st;

	default_cfg(&c, 0, 10, 0, 7);
	c.stream[1].max_streams = 1;
	pp = pair_new(&c, &p);
	memset(&q, 0, sizeof(q));
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, a_connected, &p, VIRTUAL_HOUR_MS));
	T_TRUE(t, p.a.connected);
	T_OK(t, stream_connect(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), 0, 0,
			       app_event, &q.a, &q.a.s));
	T_TRUE(t, tpipe_run(pp, a_ended, &q, VIRTUAL_HOUR_MS));
	T_TRUE(t, q.a.reset);
	T_FALSE(t, q.a.connected);
	stream_mgr_stats(tpipe_mgr(pp, 1), &st);
	T_EQ(t, st.conns_rejected, 1);
	T_EQ(t, st.conns_in, 1);
	T_EQ(t, p.b.accepted, 1);
	stream_release(q.a.s);
	tpipe_free(pp);

	/* The local limit: a second connect is refused at once. */
	default_cfg(&c, 0, 10, 0, 7);
	c.stream[0].max_streams = 1;
	pp = pair_new(&c, &p);
	T_OK(t, stream_connect(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), 0, 0,
			       app_event, &p.a, &p.a.s));
	T_ERR(t, stream_connect(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), 0, 0,
				app_event, &q.a, &q.a.s), ERR_LIMIT);
	tpipe_free(pp);
}

/* Per-peer connections per minute: the second in a minute is refused,
 * one a minute later is let in. */
static void test_limit_per_minute(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p[3];

	default_cfg(&c, 0, 10, 0, 8);
	c.stream[1].max_conns_per_minute = 1;
	pp = tpipe_new(&c);
	memset(p, 0, sizeof(p));
	for (int i = 0; i < 3; i++) {
		p[i].a.total = 10;
		p[i].a.close_after_send = p[i].b.close_after_send = true;
	}
	stream_mgr_set_acceptor(tpipe_mgr(pp, 1), app_accept, &p[0].b);
	T_OK(t, stream_connect(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), 0, 0,
			       app_event, &p[0].a, &p[0].a.s));
	T_TRUE(t, tpipe_run(pp, both_closed, &p[0], VIRTUAL_HOUR_MS));
	T_TRUE(t, p[0].a.closed);
	stream_mgr_set_acceptor(tpipe_mgr(pp, 1), app_accept, &p[1].b);
	T_OK(t, stream_connect(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), 0, 0,
			       app_event, &p[1].a, &p[1].a.s));
	T_TRUE(t, tpipe_run(pp, a_ended, &p[1], VIRTUAL_HOUR_MS));
	T_TRUE(t, p[1].a.reset);
	T_EQ(t, p[1].b.accepted, 0);
	/* A minute later. */
	T_FALSE(t, tpipe_run(pp, never, NULL, 61000));
	stream_mgr_set_acceptor(tpipe_mgr(pp, 1), app_accept, &p[2].b);
	T_OK(t, stream_connect(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), 0, 0,
			       app_event, &p[2].a, &p[2].a.s));
	T_TRUE(t, tpipe_run(pp, both_closed, &p[2], VIRTUAL_HOUR_MS));
	T_TRUE(t, p[2].a.closed && p[2].b.closed);
	T_EQ(t, p[2].b.rcvd, 10);
	tpipe_free(pp);
}

/* Nobody listening: the SYN is refused. */
static void test_no_acceptor(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;

	default_cfg(&c, 0, 10, 0, 9);
	pp = pair_new(&c, &p);
	T_OK(t, stream_connect(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), 0, 0,
			       app_event, &p.a, &p.a.s));
	T_TRUE(t, tpipe_run(pp, a_ended, &p, VIRTUAL_HOUR_MS));
	T_TRUE(t, p.a.reset);
	tpipe_free(pp);
}

/* Nothing gets through: the SYN is resent with backoff, then it fails. */
static void test_connect_timeout(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct stream_info ia;

	default_cfg(&c, 100, 10, 0, 10);
	pp = pair_new(&c, &p);
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, a_ended, &p, VIRTUAL_HOUR_MS));
	T_TRUE(t, p.a.failed);
	stream_get_info(p.a.s, &ia);
	T_EQ(t, ia.state, STREAM_FAILED);
	T_EQ(t, ia.packets_resent, STREAM_MAX_RESENDS);
	tpipe_free(pp);
}

struct pong {
	int calls, err;
	uint32_t rtt;
};

static void on_pong(void *ctx, int err, uint32_t rtt)
{
	struct pong *pg = ctx;

	pg->calls++;
	pg->err = err;
	pg->rtt = rtt;
}

static bool pong_done(void *ctx)
{
	return ((struct pong *)ctx)->calls > 0;
}

static void test_ping(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pong pg = { 0, 1, 0 };
	struct stream_mgr_stats st;

	default_cfg(&c, 0, 25, 0, 11);
	pp = tpipe_new(&c);
	T_OK(t, stream_mgr_ping(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), "abc", 3,
				5000, on_pong, &pg));
	T_TRUE(t, tpipe_run(pp, pong_done, &pg, VIRTUAL_HOUR_MS));
	T_EQ(t, pg.err, 0);
	T_EQ(t, pg.rtt, 50);
	stream_mgr_stats(tpipe_mgr(pp, 1), &st);
	T_EQ(t, st.pings_answered, 1);
	T_ERR(t, stream_mgr_ping(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), "x", 33,
				 5000, on_pong, &pg), ERR_TOO_BIG);
	tpipe_free(pp);

	/* i2p.streaming.answerPings=false: the ping times out. */
	default_cfg(&c, 0, 25, 0, 12);
	c.stream[1].answer_pings = false;
	pp = tpipe_new(&c);
	memset(&pg, 0, sizeof(pg));
	T_OK(t, stream_mgr_ping(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), NULL, 0,
				5000, on_pong, &pg));
	T_TRUE(t, tpipe_run(pp, pong_done, &pg, VIRTUAL_HOUR_MS));
	T_EQ(t, pg.err, ERR_TIMEOUT);
	tpipe_free(pp);
}

/* The smaller MTU of the two sides wins; 1812 when both use ECIES's. */
static void test_mtu(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct stream_info ia, ib;
	uint64_t resent;

	default_cfg(&c, 0, 10, 0, 13);
	c.stream[1].mtu = STREAM_MTU_ECIES;
	pp = pair_new(&c, &p);
	p.a.total = p.b.total = 100000;
	p.a.tx_seed = p.b.rx_seed = 1;
	p.b.tx_seed = p.a.rx_seed = 2;
	p.a.close_after_send = p.b.close_after_send = true;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, VIRTUAL_HOUR_MS));
	stream_get_info(p.a.s, &ia);
	stream_get_info(p.b.s, &ib);
	T_EQ(t, ia.mtu, STREAM_MTU_DEFAULT);
	T_EQ(t, ib.mtu, STREAM_MTU_DEFAULT);
	T_EQ(t, p.a.rcvd, 100000);
	/* Data packets: 22-byte header, NACKs and the payload; the SYNs
	 * carry no payload. */
	T_TRUE(t, tpipe_max_len(pp) <= STREAM_MTU_DEFAULT + 22 + 2 + 4 * 8);
	tpipe_free(pp);

	default_cfg(&c, 0, 10, 0, 14);
	c.stream[0].mtu = c.stream[1].mtu = STREAM_MTU_ECIES;
	resent = 0;
	run_transfer(t, &c, 100000, &resent);
	pp = pair_new(&c, &p);
	p.a.total = 100000;
	p.a.close_after_send = p.b.close_after_send = true;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, VIRTUAL_HOUR_MS));
	stream_get_info(p.a.s, &ia);
	T_EQ(t, ia.mtu, STREAM_MTU_ECIES);
	T_TRUE(t, tpipe_max_len(pp) > STREAM_MTU_ECIES);
	tpipe_free(pp);
}

static bool a_stuck(void *ctx)
{
	struct pair *p = ctx;

	return p->a.failed || p->a.reset;
}

/* A reader that stops: the sender is choked, nothing fails, and the
 * transfer completes once it reads again. */
static void test_choke(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	size_t limit;

	default_cfg(&c, 0, 10, 0, 15);
	pp = tpipe_new(&c);
	limit = (size_t)c.stream[1].mtu * (c.stream[1].max_window + 2);
	memset(&p, 0, sizeof(p));
	p.a.total = 2 * MIB;
	p.a.close_after_send = p.b.close_after_send = true;
	p.b.no_read = true;
	pair_connect(t, pp, &p);
	/* Ten virtual minutes of a full receiver. */
	T_FALSE(t, tpipe_run(pp, a_stuck, &p, 600000));
	T_TRUE(t, stream_readable(p.b.s) > 0);
	T_TRUE(t, stream_readable(p.b.s) <= limit);
	T_TRUE(t, stream_unacked(p.a.s) > 0);
	T_TRUE(t, p.a.sent < 2 * MIB);
	p.b.no_read = false;
	app_pump(&p.b);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, VIRTUAL_HOUR_MS));
	T_TRUE(t, p.a.closed && p.b.closed);
	T_EQ(t, p.b.rcvd, 2 * MIB);
	T_FALSE(t, p.b.mismatch);
	tpipe_free(pp);
}

/* Once cut, the pipe carries only zeros (dropped as unknown streams). */
static void cut_tap(void *ctx, int from, uint8_t *pkt, size_t len)
{
	(void)from;
	if (*(bool *)ctx)
		memset(pkt, 0, len);
}

/* A reader that chokes the sender and then goes away (a hop of its
 * tunnels died, say): the choked sender's probes go unanswered, and it
 * gives up instead of probing for ever. */
static void test_choke_then_silence(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct stream_info ia;
	bool cut = false;

	default_cfg(&c, 0, 10, 0, 15);
	c.tap = cut_tap;
	c.tap_ctx = &cut;
	pp = tpipe_new(&c);
	memset(&p, 0, sizeof(p));
	p.a.total = 2 * MIB;
	p.b.no_read = true;
	pair_connect(t, pp, &p);
	T_FALSE(t, tpipe_run(pp, a_stuck, &p, 60000));
	T_TRUE(t, stream_unacked(p.a.s) > 0);
	cut = true;
	T_TRUE(t, tpipe_run(pp, a_stuck, &p, VIRTUAL_HOUR_MS));
	T_TRUE(t, p.a.failed);
	stream_get_info(p.a.s, &ia);
	T_EQ(t, ia.state, STREAM_FAILED);
	tpipe_free(pp);
}

/* Flip a bit in the signature of A's first CLOSE: B drops it, A resends
 * it, and the close still completes. */
struct tamper {
	int done;
};

static void tamper_close(void *ctx, int from, uint8_t *pkt, size_t len)
{
	struct tamper *tp = ctx;
	struct stream_packet p;

	if (from != 0 || tp->done || stream_packet_decode(pkt, len, &p) != 0)
		return;
	if ((p.flags & STREAM_F_CLOSE) && p.sig) {
		pkt[p.sig_off + 5] ^= 0x20;
		tp->done = 1;
	}
}

static void test_bad_signature_dropped(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct tamper tp = { 0 };
	struct stream_mgr_stats st;

	default_cfg(&c, 0, 10, 0, 16);
	c.tap = tamper_close;
	c.tap_ctx = &tp;
	pp = pair_new(&c, &p);
	p.a.total = 3000;
	p.a.close_after_send = p.b.close_after_send = true;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, both_closed, &p, VIRTUAL_HOUR_MS));
	T_EQ(t, tp.done, 1);
	T_TRUE(t, p.a.closed && p.b.closed);
	stream_mgr_stats(tpipe_mgr(pp, 1), &st);
	T_TRUE(t, st.packets_dropped >= 1);
	T_EQ(t, p.b.rcvd, 3000);
	tpipe_free(pp);
}

/* i2p.streaming.inactivityAction=1: an idle stream is reset. */
static void test_inactivity_disconnect(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;

	default_cfg(&c, 0, 10, 0, 17);
	c.stream[0].inactivity_ms = 5000;
	c.stream[0].inactivity_action = STREAM_INACTIVITY_DISCONNECT;
	pp = pair_new(&c, &p);
	p.a.total = 100;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, b_reset, &p, VIRTUAL_HOUR_MS));
	T_TRUE(t, p.a.reset);
	T_TRUE(t, p.b.reset);
	T_EQ(t, p.b.rcvd, 100);
	tpipe_free(pp);
}

static int sink_no_route(void *ctx, const struct keys_and_cert *to,
			 uint16_t sp, uint16_t dp, const uint8_t *pkt,
			 size_t len)
{
	(void)ctx;
	(void)to;
	(void)sp;
	(void)dp;
	(void)pkt;
	(void)len;
	return ERR_NETWORK;
}

/* A network with no route to the peer at all: the connect fails at once
 * instead of after every resend. */
static void test_no_route(struct tctx *t)
{
	struct client_dest *me = tclient_dest(5), *peer = tclient_dest(6);
	struct stream_signer sg;
	struct stream_config cfg;
	struct stream_mgr *mgr;
	struct pair p;

	client_dest_signer(me, &sg);
	stream_config_default(&cfg);
	mgr = stream_mgr_new(&cfg, &sg,
			     (struct stream_sink){ sink_no_route, NULL }, NULL);
	memset(&p, 0, sizeof(p));
	T_OK(t, stream_connect(mgr, client_dest_pub(peer), 0, 0, app_event,
			       &p.a, &p.a.s));
	T_TRUE(t, stream_mgr_next_deadline(mgr) <= time_mono_ms());
	stream_mgr_run_timers(mgr);
	T_TRUE(t, p.a.failed);
	T_FALSE(t, p.a.connected);
	stream_release(p.a.s);
	stream_mgr_run_timers(mgr);
	T_EQ(t, stream_mgr_count(mgr), 0);
	stream_mgr_free(mgr);
	client_dest_free(me);
	client_dest_free(peer);
}

#define PARALLEL 50

struct many {
	struct pair p[PARALLEL];
	unsigned next_b;
};

static void many_accept(void *ctx, struct stream *s)
{
	struct many *m = ctx;

	if (m->next_b == PARALLEL) {
		stream_reset(s);
		stream_release(s);
		return;
	}
	app_accept(&m->p[m->next_b++].b, s);
}

static bool many_closed(void *ctx)
{
	struct many *m = ctx;

	for (int i = 0; i < PARALLEL; i++)
		if (!both_closed(&m->p[i]))
			return false;
	return true;
}

/* 50 streams at once between two destinations, 5 % loss: each moves its
 * bytes both ways, exact, and closes. */
static void test_parallel_streams(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct many *m = calloc(1, sizeof(*m));
	struct stream_mgr_stats st;
	unsigned ok = 0;
	uint64_t a_sent = 0, a_rcvd = 0, b_sent = 0, b_rcvd = 0;

	default_cfg(&c, 5, 20, 10, 50);
	pp = tpipe_new(&c);
	stream_mgr_set_acceptor(tpipe_mgr(pp, 1), many_accept, m);
	for (int i = 0; i < PARALLEL; i++) {
		struct pair *p = &m->p[i];

		p->a.total = p->b.total = 64 * 1024 + (uint64_t)i * 1000;
		p->a.tx_seed = p->b.rx_seed = 0x31;
		p->b.tx_seed = p->a.rx_seed = 0x32;
		p->a.close_after_send = p->b.close_after_send = true;
		T_OK(t, stream_connect(tpipe_mgr(pp, 0), tpipe_dest(pp, 1),
				       0, 0, app_event, &p->a, &p->a.s));
	}
	T_TRUE(t, tpipe_run(pp, many_closed, m, 4 * VIRTUAL_HOUR_MS));
	T_EQ(t, m->next_b, PARALLEL);
	for (int i = 0; i < PARALLEL; i++) {
		struct pair *p = &m->p[i];

		/* B's total was set before its stream arrived: the ith
		 * accepted stream need not be the ith connected one, so
		 * compare each side with what its peer sent. */
		if (p->a.closed && p->b.closed && !p->a.mismatch &&
		    !p->b.mismatch && p->a.rcvd > 0 && p->b.rcvd > 0)
			ok++;
		a_sent += p->a.sent;
		a_rcvd += p->a.rcvd;
		b_sent += p->b.sent;
		b_rcvd += p->b.rcvd;
	}
	T_EQ(t, ok, PARALLEL);
	T_EQ(t, a_sent, b_rcvd);
	T_EQ(t, b_sent, a_rcvd);
	T_TRUE(t, a_sent > (uint64_t)PARALLEL * 64 * 1024);
	stream_mgr_stats(tpipe_mgr(pp, 1), &st);
	T_EQ(t, st.conns_in, PARALLEL);
	T_EQ(t, stream_mgr_count(tpipe_mgr(pp, 0)), PARALLEL);
	tpipe_free(pp);
	free(m);
}

static bool b_rcvd_all(void *ctx)
{
	struct pair *p = ctx;

	return p->b.rcvd == p->a.total || p->a.reset || p->b.reset ||
	       p->a.failed || p->b.failed;
}

/* Once everything was read, stream_trim() gives the send and receive
 * buffers back (an open stream that idles held them for its life); the
 * stream carries more data after it, byte-exact. */
static void test_trim(struct tctx *t)
{
	struct tpipe_cfg c;
	struct tpipe *pp;
	struct pair p;
	struct stream_info ia, ib;

	default_cfg(&c, 0, 20, 0, 6);
	pp = pair_new(&c, &p);
	p.a.total = MIB;
	p.a.tx_seed = p.b.rx_seed = 0x33;
	pair_connect(t, pp, &p);
	T_TRUE(t, tpipe_run(pp, b_rcvd_all, &p, VIRTUAL_HOUR_MS));
	T_EQ(t, p.b.rcvd, MIB);
	stream_get_info(p.a.s, &ia);
	stream_get_info(p.b.s, &ib);
	T_TRUE(t, ia.buffer_bytes >= 256 * 1024);	/* the send buffer */
	T_TRUE(t, ib.buffer_bytes > 0);
	stream_trim(p.a.s);
	stream_trim(p.b.s);
	stream_get_info(p.a.s, &ia);
	stream_get_info(p.b.s, &ib);
	T_EQ(t, ia.buffer_bytes, 0);
	T_EQ(t, ib.buffer_bytes, 0);
	T_EQ(t, ia.state, STREAM_OPEN);
	p.a.total += MIB / 2;
	app_pump(&p.a);
	T_TRUE(t, tpipe_run(pp, b_rcvd_all, &p, VIRTUAL_HOUR_MS));
	T_EQ(t, p.b.rcvd, MIB + MIB / 2);
	T_FALSE(t, p.b.mismatch);
	T_FALSE(t, p.a.reset || p.b.reset || p.a.failed || p.b.failed);
	tpipe_free(pp);
}

/* A request written in the turn that opens the stream rides in the SYN:
 * the acceptor has it when it accepts, and the answer is back one round
 * trip after the connect (it took two when the SYN went out alone and
 * the request after the peer's SYN).  What does not fit in the SYN's
 * packet follows the peer's SYN, byte-exact. */
struct syn_req {
	struct stream *s;
	size_t want, got, at_accept;
	bool answered, mismatch;
	uint64_t answer_at;
	size_t answer_got;
	struct tpipe *pp;
};

static void syn_srv_event(void *ctx, struct stream *s, unsigned ev)
{
	struct syn_req *r = ctx;
	uint8_t buf[4096];
	size_t n;

	(void)ev;
	while ((n = stream_read(s, buf, sizeof(buf))) > 0) {
		for (size_t i = 0; i < n; i++)
			r->mismatch |= buf[i] != pattern(0x33, r->got + i);
		r->got += n;
	}
	if (r->got == r->want && !r->answered) {
		r->answered = true;
		stream_write(s, "answer", 6);
		stream_close(s);
	}
}

static void syn_srv_accept(void *ctx, struct stream *s)
{
	struct syn_req *r = ctx;

	r->s = s;
	r->at_accept = stream_readable(s);
	stream_set_handler(s, syn_srv_event, r);
	syn_srv_event(r, s, 0);
}

static void syn_cli_event(void *ctx, struct stream *s, unsigned ev)
{
	struct syn_req *r = ctx;
	uint8_t buf[64];
	size_t n;

	(void)ev;
	while ((n = stream_read(s, buf, sizeof(buf))) > 0) {
		r->answer_got += n;
		if (r->answer_got == 6 && !r->answer_at)
			r->answer_at = tpipe_now(r->pp);
	}
}

static bool syn_answered(void *ctx)
{
	return ((struct syn_req *)ctx)->answer_at != 0;
}

static void syn_request(struct tctx *t, size_t len, uint32_t delay_ms,
			struct syn_req *srv, struct syn_req *cli)
{
	struct tpipe_cfg cfg;
	struct tpipe *pp;
	struct stream *s;
	uint8_t *req = xmalloc(len);
	uint64_t t0;

	default_cfg(&cfg, 0, delay_ms, 0, 7);
	pp = tpipe_new(&cfg);
	memset(srv, 0, sizeof(*srv));
	memset(cli, 0, sizeof(*cli));
	srv->want = len;
	cli->pp = pp;
	for (size_t i = 0; i < len; i++)
		req[i] = pattern(0x33, i);
	stream_mgr_set_acceptor(tpipe_mgr(pp, 1), syn_srv_accept, srv);
	t0 = tpipe_now(pp);
	T_OK(t, stream_connect(tpipe_mgr(pp, 0), tpipe_dest(pp, 1), 0, 0,
			       syn_cli_event, cli, &s));
	T_EQ(t, stream_write(s, req, len), len);
	T_TRUE(t, tpipe_run(pp, syn_answered, cli, 60000));
	T_EQ(t, srv->got, len);
	T_FALSE(t, srv->mismatch);
	cli->answer_at -= t0;
	stream_release(s);
	tpipe_free(pp);
	free(req);
}

static void test_request_in_syn(struct tctx *t)
{
	struct syn_req srv, cli;

	/* 200 bytes over a 100 ms pipe: in the SYN; the answer after one
	 * round trip (200 ms), not two. */
	syn_request(t, 200, 100, &srv, &cli);
	T_EQ(t, srv.at_accept, 200);
	T_TRUE(t, cli.answer_at >= 200);
	T_TRUE(t, cli.answer_at < 300);
	/* 5000 bytes: the SYN's packet holds the first MTU of them, the
	 * rest follows the acceptor's SYN. */
	syn_request(t, 5000, 100, &srv, &cli);
	T_TRUE(t, srv.at_accept > 0);
	T_TRUE(t, srv.at_accept <= STREAM_MTU_DEFAULT);
	T_TRUE(t, cli.answer_at >= 400);
}

const struct test_case client_stream_tests[] = {
	{ "parallel_streams", test_parallel_streams, TT_FORK },
	{ "reset_all", test_reset_all, TT_FORK },
	{ "no_route", test_no_route, TT_FORK },
	{ "transfer_lossless", test_transfer_lossless, TT_FORK },
	{ "transfer_loss5", test_transfer_loss5, TT_FORK },
	{ "transfer_loss20", test_transfer_loss20, TT_FORK },
	{ "window_grows", test_window_grows, TT_FORK },
	{ "acks_sparse", test_acks_sparse, TT_FORK },
	{ "window_512", test_window_512, TT_FORK },
	{ "rings_on_demand", test_rings_on_demand, TT_FORK },
	{ "reorder_no_spurious_resend", test_reorder_no_spurious_resend,
	  TT_FORK },
	{ "full_buffer_hole", test_full_buffer_hole, TT_FORK },
	{ "ooo_total", test_ooo_total, 0 },
	{ "half_close", test_half_close, TT_FORK },
	{ "reset", test_reset, TT_FORK },
	{ "limit_max_streams", test_limit_max_streams, TT_FORK },
	{ "limit_per_minute", test_limit_per_minute, TT_FORK },
	{ "no_acceptor", test_no_acceptor, TT_FORK },
	{ "connect_timeout", test_connect_timeout, TT_FORK },
	{ "ping", test_ping, TT_FORK },
	{ "mtu", test_mtu, TT_FORK },
	{ "choke", test_choke, TT_FORK },
	{ "choke_then_silence", test_choke_then_silence, TT_FORK },
	{ "rto_stall_undone", test_rto_stall_undone, TT_FORK },
	{ "rto_stall_reordered_undone", test_rto_stall_reordered_undone,
	  TT_FORK },
	{ "route_renewed", test_route_renewed, TT_FORK },
	{ "rto_blackout_stands", test_rto_blackout_stands, TT_FORK },
	{ "bad_signature_dropped", test_bad_signature_dropped, TT_FORK },
	{ "inactivity_disconnect", test_inactivity_disconnect, TT_FORK },
	{ "trim", test_trim, TT_FORK },
	{ "request_in_syn", test_request_in_syn, TT_FORK },
	{ NULL, NULL, 0 }
};
