/*
 * router/ssu2: two routers in this process on 127.0.0.1 (loopback allowed
 * by config; i2pd would refuse it), each with a transport manager and an
 * SSU2 transport on one event loop.  Sessions both ways with the token
 * request / Retry path and then a New Token, messages of every size up to
 * the I2NP maximum (fragmented), a lossy in-process UDP relay (5 % and 20
 * % loss, both directions) that must not lose a message, connection
 * migration behind the relay, termination, and bad input: garbage, a
 * replayed SessionRequest, token replay, a Token Request flood.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/evloop.h"
#include "router/i2np.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/ssu2.h"
#include "router/ssu2_block.h"
#include "router/ssu2_internal.h"
#include "router/transport.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NETID 77
#define MAX_SEQ 4096

struct node {
	struct evloop *el;
	struct router_keys *keys;
	struct router_info *ri;		/* ours, advertising adv_port */
	struct transport_mgr *tm;
	struct ssu2 *s;
	const char *caps;		/* SSU2 caps we publish ("4") */
	const char *host;		/* NULL: 127.0.0.1 */
	const char *host6;		/* also listen and publish here */
	const char *caps6;		/* ...with these caps (NULL: "6") */
	uint8_t ik[32];
	const struct router_info *peer, *peer2, *peer3;
	uint64_t recv, bad, ri_stored;
	unsigned ups, downs;
	unsigned intro_calls;		/* ssu2_set_intro_hook */
	unsigned want_calls;		/* ssu2_set_want_intro_hook */
	size_t last_want;
	int last_want_family;
	const struct router_info *dial;	/* the want hook dials it once */
	uint8_t seen[MAX_SEQ];
};

/* Message seq: body = seq (4 bytes) then bytes derived from it. */
static struct i2np_msg *mk_msg(uint32_t seq, size_t len)
{
	uint8_t *b = xmalloc(len);

	be32_put(b, seq);
	for (size_t i = 4; i < len; i++)
		b[i] = (uint8_t)(seq * 31 + i);
	return i2np_msg_new_take(I2NP_DATA, b, len, 60000);
}

static void on_recv(void *ctx, const uint8_t *peer, struct i2np_msg *m)
{
	struct node *nd = ctx;
	uint32_t seq;
	bool ok = m->len >= 4;

	(void)peer;
	if (ok) {
		seq = be32_get(m->payload);
		for (size_t i = 4; i < m->len && ok; i++)
			ok = m->payload[i] == (uint8_t)(seq * 31 + i);
		if (ok && seq < MAX_SEQ)
			nd->seen[seq]++;
	}
	if (ok)
		nd->recv++;
	else
		nd->bad++;
	i2np_msg_free(m);
}

static const struct router_info *on_lookup(void *ctx, const uint8_t *peer)
{
	struct node *nd = ctx;

	if (nd->peer && memcmp(router_info_hash(nd->peer), peer, 32) == 0)
		return nd->peer;
	if (nd->peer2 && memcmp(router_info_hash(nd->peer2), peer, 32) == 0)
		return nd->peer2;
	if (nd->peer3 && memcmp(router_info_hash(nd->peer3), peer, 32) == 0)
		return nd->peer3;
	return NULL;
}

static void on_store_ri(void *ctx, const uint8_t *ri, size_t len, bool fl)
{
	(void)ri;
	(void)len;
	(void)fl;
	((struct node *)ctx)->ri_stored++;
}

static void on_up(void *ctx, const uint8_t *peer, bool inbound)
{
	(void)peer;
	(void)inbound;
	((struct node *)ctx)->ups++;
}

static void on_down(void *ctx, const uint8_t *peer)
{
	(void)peer;
	((struct node *)ctx)->downs++;
}

/* Our RouterInfo with one SSU2 address on host (127.0.0.1):port, and a
 * second one on host6 when set. */
static void node_sign(struct tctx *t, struct node *nd, uint16_t port)
{
	struct router_address a6 = ROUTER_ADDRESS_INIT;
	struct keys_and_cert id;
	struct router_address a = ROUTER_ADDRESS_INIT;
	struct x25519_pk spk;
	const uint8_t *b;
	size_t len;

	router_info_free(nd->ri);
	router_keys_identity(nd->keys, &id);
	nd->ri = router_info_new(&id);
	keystore_x25519_pk(router_keys_keystore(nd->keys), KEYSTORE_X_SSU2,
			   &spk);
	T_OK(t, router_address_ssu2_build(&a, 3, &spk, nd->ik,
					  nd->host ? nd->host : "127.0.0.1",
					  port, nd->caps ? nd->caps : "4",
					  NULL, 0));
	T_OK(t, router_info_add_address(nd->ri, &a));
	if (nd->host6) {
		T_OK(t, router_address_ssu2_build(&a6, 3, &spk, nd->ik,
						  nd->host6,
						  ssu2_port6(nd->s),
						  nd->caps6 ? nd->caps6 : "6",
						  NULL, 0));
		T_OK(t, router_info_add_address(nd->ri, &a6));
	}
	T_OK(t, router_info_set_basic_options(nd->ri, NETID, "LR"));
	T_OK(t, router_info_sign(nd->ri, router_keys_keystore(nd->keys)));
	b = router_info_bytes(nd->ri, &len);
	T_OK(t, ssu2_set_router_info(nd->s, b, len));
}

/* Peer tests that end undecided wait this long (0: the default's 20 s;
 * above SSU2_PT_WAIT_MS): what they check is decided well before. */
static uint64_t pt_timeout_ms;

static void node_start(struct tctx *t, struct node *nd, struct evloop *el,
		       void (*tweak)(struct ssu2_config *))
{
	struct transport_hooks h = {
		.recv = on_recv, .lookup = on_lookup, .store_ri = on_store_ri,
		.peer_up = on_up, .peer_down = on_down, .ctx = nd,
	};
	struct ssu2_config c;
	struct keys_and_cert id;

	const char *caps = nd->caps, *host = nd->host, *host6 = nd->host6;
	const char *caps6 = nd->caps6;

	memset(nd, 0, sizeof(*nd));
	nd->caps = caps;
	nd->caps6 = caps6;
	nd->host = host;
	nd->host6 = host6;
	nd->el = el;
	nd->keys = router_keys_new_random();
	rand_bytes(nd->ik, 32);
	router_keys_identity(nd->keys, &id);
	nd->tm = transport_mgr_new(el, id.hash, NULL);
	transport_mgr_set_hooks(nd->tm, &h);
	ssu2_config_default(&c);
	c.netid = NETID;
	noise_static_from_keystore(&c.st, router_keys_keystore(nd->keys),
				   KEYSTORE_X_SSU2);
	memcpy(c.rh, id.hash, 32);
	memcpy(c.ik, nd->ik, 32);
	c.allow_loopback = true;
	c.ks = router_keys_keystore(nd->keys);
	if (tweak)
		tweak(&c);
	if (pt_timeout_ms)
		c.pt_timeout_ms = pt_timeout_ms;
	nd->s = ssu2_new(el, nd->tm, &c);
	T_OK(t, ssu2_listen(nd->s, host ? host : "127.0.0.1", 0));
	if (host6)
		T_OK(t, ssu2_listen(nd->s, host6, 0));
	node_sign(t, nd, ssu2_port(nd->s));
}

static void node_stop(struct node *nd)
{
	ssu2_free(nd->s);
	transport_mgr_free(nd->tm);
	router_info_free(nd->ri);
	router_keys_free(nd->keys);
}

/* Stop and free the nodes (calloc'ed), then the loop. */
static void nodes_free(struct evloop *el, struct node **nd, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		node_stop(nd[i]);
		free(nd[i]);
	}
	evloop_free(el);
}

/* ---- running the loop until a condition ---- */

struct run {
	struct evloop *el;
	bool (*done)(void *);
	void *arg;
	uint64_t deadline;
	bool timed_out;
	struct evloop_timer *t;
};

static void run_tick(void *arg)
{
	struct run *r = arg;

	if (r->done(r->arg)) {
		evloop_break(r->el);
		return;
	}
	if (time_mono_ms() > r->deadline) {
		r->timed_out = true;
		evloop_break(r->el);
		return;
	}
	evloop_timer_arm(r->t, 5);
}

static bool run_until(struct evloop *el, bool (*done)(void *), void *arg,
		      uint64_t ms)
{
	struct run r = { el, done, arg, time_mono_ms() + ms, false, NULL };

	r.t = evloop_timer_new(el, run_tick, &r);
	evloop_timer_arm(r.t, 0);
	(void)evloop_run(el);
	evloop_timer_free(r.t);
	return !r.timed_out;
}

struct want {
	struct node *nd;
	uint64_t n;
};

static bool got_n(void *arg)
{
	struct want *w = arg;

	return w->nd->recv >= w->n;
}

static bool both_down(void *arg)
{
	struct node **nd = arg;

	return nd[0]->downs >= 1 && nd[1]->downs >= 1;
}

static bool no_sessions(void *arg)
{
	struct ssu2_stats st;

	ssu2_stats(((struct node *)arg)->s, &st);
	return st.sessions == 0;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

/* ---- a lossy UDP relay between two nodes ---- */

struct relay {
	int fd_a;		/* A talks to this one (as "B") */
	int fd_b;		/* talks to B (as "A") */
	struct event *ev_a, *ev_b;
	struct sockaddr_in a_addr;	/* A's address, learned */
	struct sockaddr_in b_addr;	/* B */
	bool have_a;
	unsigned loss_pct;
	uint64_t fwd, dropped;
	bool restricted;	/* only B's packets get back to A (a NAT) */
	/* the last SessionRequest-sized packet from A, for replay tests */
	uint8_t last[2048];
	size_t last_len;
	bool keep_first;
	uint8_t first[2048];
	size_t first_len;
	unsigned b_pass;	/* >0: only B's first b_pass packets reach A */
	unsigned from_b_count;
	unsigned from_a_count;
	unsigned full_from_a;	/* of A's datagrams, full data packets */
};

/* A full data packet at MTU 1500: its payload the IPv4 maximum's cut to
 * whole 64-byte ChaCha20 blocks (1408 bytes). */
#define FULL_DATA_PKT_V4 (SSU2_SHORT_HEADER_BYTES + SSU2_TAG_BYTES + \
	((SSU2_MAX_PACKET_BYTES_V4 - SSU2_SHORT_HEADER_BYTES - \
	  SSU2_TAG_BYTES) & ~63))

static void relay_from_a(evutil_socket_t fd, short w, void *arg)
{
	struct relay *r = arg;
	uint8_t buf[2048];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	(void)w;
	while ((n = recvfrom(fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&from, &fl)) > 0) {
		r->a_addr = from;
		r->have_a = true;
		r->from_a_count++;
		if (n == FULL_DATA_PKT_V4)
			r->full_from_a++;
		if (r->keep_first && r->from_a_count == 2) {
			/* the SessionRequest after the Token Request */
			memcpy(r->first, buf, (size_t)n);
			r->first_len = (size_t)n;
		}
		if (rand_uniform(100) < r->loss_pct) {
			r->dropped++;
			continue;
		}
		(void)sendto(r->fd_b, buf, (size_t)n, 0,
			     (struct sockaddr *)&r->b_addr, sizeof(r->b_addr));
		r->fwd++;
		fl = sizeof(from);
	}
}

static void relay_from_b(evutil_socket_t fd, short w, void *arg)
{
	struct relay *r = arg;
	uint8_t buf[2048];
	ssize_t n;

	(void)w;
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);

		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &fl);
		if (n <= 0)
			break;
		r->from_b_count++;
		if (!r->have_a || rand_uniform(100) < r->loss_pct ||
		    (r->b_pass && r->from_b_count > r->b_pass) ||
		    (r->restricted && from.sin_port != r->b_addr.sin_port)) {
			r->dropped++;
			continue;
		}
		(void)sendto(r->fd_a, buf, (size_t)n, 0,
			     (struct sockaddr *)&r->a_addr, sizeof(r->a_addr));
		r->fwd++;
	}
}

static int udp_socket(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t l = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), bufsz = 4 << 20;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &l) != 0)
		return -1;
	evutil_make_socket_nonblocking(fd);
	if (port)
		*port = ntohs(sa.sin_port);
	return fd;
}

static void relay_start(struct tctx *t, struct relay *r, struct evloop *el,
			struct node *b, uint16_t *front_port)
{
	memset(r, 0, sizeof(*r));
	r->fd_a = udp_socket(front_port);
	r->fd_b = udp_socket(NULL);
	T_TRUE(t, r->fd_a >= 0 && r->fd_b >= 0);
	r->b_addr.sin_family = AF_INET;
	r->b_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->b_addr.sin_port = htons(ssu2_port(b->s));
	r->ev_a = event_new(evloop_base(el), r->fd_a, EV_READ | EV_PERSIST,
			    relay_from_a, r);
	r->ev_b = event_new(evloop_base(el), r->fd_b, EV_READ | EV_PERSIST,
			    relay_from_b, r);
	event_add(r->ev_a, NULL);
	event_add(r->ev_b, NULL);
}

/* Give the relay a new source port towards B (a NAT rebinding). */
static void relay_rebind(struct tctx *t, struct relay *r, struct evloop *el)
{
	event_free(r->ev_b);
	close(r->fd_b);
	r->fd_b = udp_socket(NULL);
	T_TRUE(t, r->fd_b >= 0);
	r->ev_b = event_new(evloop_base(el), r->fd_b, EV_READ | EV_PERSIST,
			    relay_from_b, r);
	event_add(r->ev_b, NULL);
}

static void relay_stop(struct relay *r)
{
	event_free(r->ev_a);
	event_free(r->ev_b);
	close(r->fd_a);
	close(r->fd_b);
}

/* ---- cases ---- */

static void send_many(struct tctx *t, struct node *from, struct node *to,
		      uint32_t first, uint32_t n, size_t (*size)(uint32_t))
{
	for (uint32_t i = 0; i < n; i++) {
		int r = transport_send(from->tm, router_info_hash(to->ri),
				       mk_msg(first + i, size(first + i)));

		T_OK(t, r);
	}
}

static size_t size_mixed(uint32_t seq)
{
	/* small, one packet, a few fragments, and the I2NP maximum */
	static const size_t sizes[] = { 10, 500, 1390, 1500, 4000, 20000,
					I2NP_MAX_PAYLOAD_BYTES };

	return sizes[seq % 7];
}

static size_t size_1k(uint32_t seq)
{
	(void)seq;
	return 1024;
}


static void via_relay(struct tctx *t, struct node *a, struct node *b,
		      struct relay *r, uint16_t front);

static size_t size_100(uint32_t seq)
{
	(void)seq;
	return 100;
}

static uint64_t pkts_out(struct node *nd)
{
	struct ssu2_stats st;

	ssu2_stats(nd->s, &st);
	return st.pkts_out;
}

/* Packing on a session: messages queued together share packets.  Small
 * ones go several to a packet as I2NP blocks; 1 KiB ones (two do not fit
 * whole) fill each packet's rest with a First Fragment, the receiver
 * joining the parts.  One packet a message would be 60 and 40.  Packets
 * with more to follow are padded to the maximum (one UDP_SEGMENT run):
 * seen at a relay between the two. */
static void test_packing(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct relay r;
	struct want w;
	struct ssu2_stats st;
	uint64_t p0;
	unsigned full0;
	uint16_t front;

	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	relay_start(t, &r, el, b, &front);
	via_relay(t, a, b, &r, front);
	send_many(t, a, b, 0, 1, size_1k);
	w = (struct want){ b, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	p0 = pkts_out(a);
	send_many(t, a, b, 1, 60, size_100);
	w = (struct want){ b, 61 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	/* 12 blocks of 112 bytes in a packet: 5 packets (and any resent) */
	T_TRUE(t, pkts_out(a) - p0 <= 10);
	p0 = pkts_out(a);
	full0 = r.full_from_a;
	send_many(t, a, b, 61, 40, size_1k);
	w = (struct want){ b, 101 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	/* 40 x 1036 bytes in packets of 1384 (1408 less the ACK reserve):
	 * 31, all but the last full */
	T_TRUE(t, pkts_out(a) - p0 <= 34);
	ssu2_stats(a->s, &st);
	T_TRUE(t, st.msgs_cut >= 20);
	T_TRUE(t, r.full_from_a - full0 >= 28);
	T_EQ(t, b->bad, 0);
	for (uint32_t i = 0; i < 101; i++)
		T_EQ(t, b->seen[i], 1);
	relay_stop(&r);
	nodes_free(el, (struct node *[]){ a, b }, 2);
}

static struct ssu2_stats stats_of(struct node *nd)
{
	struct ssu2_stats st;

	ssu2_stats(nd->s, &st);
	return st;
}

static size_t ring_bytes(struct node *nd)
{
	return stats_of(nd).sent_ring_bytes;
}

static bool ring_freed(void *arg)
{
	return ring_bytes(arg) == 0;
}

static void quick_keepalive(struct ssu2_config *c)
{
	c->keepalive_ms = 300;
}

/* What a session keeps for its packets in flight: nothing until it has
 * data to send (a handshake, or a session that only ACKs, holds no
 * ring); 16 records at first (304 bytes each), more as the window needs
 * them, never above 512; all of it freed after a keepalive interval with
 * nothing in flight, and sending again starts a new ring. */
static void test_sent_ring(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct want w;
	size_t bulk;

	node_start(t, a, el, quick_keepalive);
	node_start(t, b, el, NULL);
	a->peer = b->ri;
	b->peer = a->ri;
	T_EQ(t, ring_bytes(a), 0);
	send_many(t, a, b, 0, 1, size_100);
	w = (struct want){ b, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	T_EQ(t, ring_bytes(b), 0);		/* ACKs only */
	T_TRUE(t, ring_bytes(a) >= 16 * 300 && ring_bytes(a) <= 16 * 320);
	send_many(t, a, b, 1, 400, size_1k);
	w = (struct want){ b, 401 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	bulk = ring_bytes(a);
	T_TRUE(t, bulk > 16 * 320);		/* grown with the window */
	T_TRUE(t, bulk <= 512 * 320);
	T_EQ(t, ring_bytes(b), 0);
	T_TRUE(t, run_until(el, ring_freed, a, 5000));
	send_many(t, a, b, 401, 20, size_1k);
	w = (struct want){ b, 421 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	T_TRUE(t, ring_bytes(a) > 0);
	T_EQ(t, b->bad, 0);
	for (uint32_t i = 0; i < 421; i++)
		T_EQ(t, b->seen[i], 1);
	nodes_free(el, (struct node *[]){ a, b }, 2);
}

static void reasm_small(struct ssu2_config *c)
{
	c->reasm_sess_max_bytes = 256 << 10;
	c->reasm_max_bytes = 384 << 10;
	c->reasm_timeout_ms = 1500;
}

static bool reasm_empty(void *arg)
{
	return stats_of(arg).reasm_bytes == 0;
}

/* As from peer, 64 messages' Follow-on Fragments 1-5 of 1,200 bytes
 * each, and never the first or the last: 384,000 bytes nobody will
 * finish. */
static void send_parts(struct tctx *t, struct node *to, struct node *peer,
		       uint32_t id0)
{
	struct i2np_msg *m = mk_msg(0, 8000);

	for (uint32_t id = 0; id < 64; id++) {
		m->msg_id = id0 + id;
		for (unsigned f = 1; f <= 5; f++) {
			struct bbuf pl = BBUF_INIT;

			ssu2_blk_put_follow_frag(&pl, m, f, false, f * 1200,
						 1200);
			T_OK(t, ssu2_input_payload(to->s,
						   router_info_hash(peer->ri),
						   pl.data, pl.len));
			bbuf_free(&pl);
		}
	}
	i2np_msg_free(m);
}

/* Partial messages held for a peer that sends parts and never the rest:
 * at most reasm_sess_max_bytes for one session (its oldest go first) and
 * reasm_max_bytes in all (the session holding most gives way), and none
 * once reasm_timeout_ms old.  Whole messages still cross meanwhile. */
static void test_reasm_limits(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)),
		    *c = calloc(1, sizeof(*c));
	struct ssu2_stats st;
	struct want w;

	node_start(t, a, el, NULL);
	node_start(t, b, el, reasm_small);
	node_start(t, c, el, NULL);
	a->peer = b->ri;
	c->peer = b->ri;
	send_many(t, a, b, 0, 1, size_100);
	send_many(t, c, b, 1, 1, size_100);
	w = (struct want){ b, 2 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	T_EQ(t, stats_of(b).reasm_bytes, 0);	/* no fragment yet */
	send_parts(t, b, a, 0xf0000000u);
	st = stats_of(b);
	T_TRUE(t, st.reasm_bytes <= 256 << 10);
	T_TRUE(t, st.reasm_bytes >= (256 << 10) - 6000);
	T_TRUE(t, st.reasm_dropped >= 20);	/* 384,000 less 262,144 */
	send_parts(t, b, c, 0xf1000000u);
	st = stats_of(b);
	T_TRUE(t, st.reasm_bytes <= 384 << 10);
	T_TRUE(t, st.reasm_bytes >= (384 << 10) - 6000);
	/* Whole messages, cut into fragments, still arrive. */
	send_many(t, a, b, 2, 20, size_mixed);
	w = (struct want){ b, 22 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	T_TRUE(t, stats_of(b).reasm_bytes <= 384 << 10);
	/* and the parts nobody finished expire */
	T_TRUE(t, run_until(el, reasm_empty, b, 6000));
	/* each of the 128 partial messages dropped or expired, once: the
	 * one shed is the first begun, not the one being filled though
	 * both began in the same millisecond; a fragment sent again after
	 * its message was whole begins nothing.  (More only if a whole
	 * message's parts, slow under load, outlived the 1.5 s timeout: one
	 * at most for each fragment a or c sent again.) */
	st = stats_of(b);
	T_TRUE(t, st.reasm_expired >= 40);
	T_TRUE(t, st.reasm_expired + st.reasm_dropped >= 128);
	T_TRUE(t, st.reasm_expired + st.reasm_dropped <=
		  128 + stats_of(a).resent_frags + stats_of(c).resent_frags);
	T_EQ(t, b->bad, 0);
	for (uint32_t i = 0; i < 22; i++)
		T_EQ(t, b->seen[i], 1);
	nodes_free(el, (struct node *[]){ a, b, c }, 3);
}

/* As from peer to nd: a RouterInfo block with whose RouterInfo. */
static void ri_block_from(struct tctx *t, struct node *nd, struct node *peer,
			  struct node *whose)
{
	struct bbuf pl = BBUF_INIT;
	const uint8_t *ri;
	size_t len;

	ri = router_info_bytes(whose->ri, &len);
	ssu2_blk_put_ri(&pl, 0, ri, len);
	T_OK(t, ssu2_input_payload(nd->s, router_info_hash(peer->ri), pl.data,
				   pl.len));
	bbuf_free(&pl);
}

/* RouterInfo blocks in the data phase: the peer's own always reaches
 * the netDb; other routers' (a peer test's Charlie) at most
 * SSU2_THIRD_RI_BURST at once, the rest counted and left out. */
static void test_ri_blocks(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *nd[14];
	struct node *a, *b;
	struct want w;
	uint64_t stored0;

	for (int i = 0; i < 14; i++) {
		nd[i] = calloc(1, sizeof(*nd[i]));
		node_start(t, nd[i], el, NULL);
	}
	a = nd[0];
	b = nd[1];
	a->peer = b->ri;
	send_many(t, a, b, 0, 1, size_100);
	w = (struct want){ b, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	stored0 = b->ri_stored;
	for (int i = 2; i < 14; i++)
		ri_block_from(t, b, a, nd[i]);
	T_EQ(t, b->ri_stored - stored0, 10);
	T_EQ(t, stats_of(b).ri_limited, 2);
	for (int i = 0; i < 3; i++)		/* a's own: always */
		ri_block_from(t, b, a, a);
	T_EQ(t, b->ri_stored - stored0, 13);
	T_EQ(t, stats_of(b).ri_limited, 2);
	nodes_free(el, nd, 14);
}

static void test_both_ways(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct want w;
	struct ssu2_stats sa, sb;
	uint64_t retries, token_reqs;

	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	a->peer = b->ri;
	b->peer = a->ri;
	send_many(t, a, b, 0, 70, size_mixed);
	w = (struct want){ b, 70 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	T_EQ(t, b->recv, 70);
	T_EQ(t, b->bad, 0);
	for (uint32_t i = 0; i < 70; i++)
		T_EQ(t, b->seen[i], 1);
	ssu2_stats(a->s, &sa);
	ssu2_stats(b->s, &sb);
	T_EQ(t, sa.established_out, 1);
	T_EQ(t, sb.established_in, 1);
	/* No token yet: Token Request, then Retry (a Token Request resent
	 * on a slow machine gets the same token, and its Retry is no new
	 * one to Alice). */
	T_TRUE(t, sb.token_requests >= 1);
	T_EQ(t, sa.retries_received, 1);
	retries = sa.retries_received;
	token_reqs = sb.token_requests;
	T_TRUE(t, b->ri_stored >= 1);		/* Alice's RI from Confirmed */
	/* The other way over the same session. */
	send_many(t, b, a, 100, 300, size_1k);
	w = (struct want){ a, 300 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	T_EQ(t, a->bad, 0);
	ssu2_stats(a->s, &sa);
	T_EQ(t, sa.established_in + sa.established_out, 1);
	T_EQ(t, a->ups, 1);
	T_EQ(t, b->ups, 1);
	/* Close: B hears the termination; A then reconnects with the New
	 * Token from SessionCreated (no Retry this time). */
	transport_mgr_close_all(a->tm);
	T_TRUE(t, run_until(el, both_down, (struct node *[]){ a, b }, 15000));
	ssu2_stats(b->s, &sb);
	T_EQ(t, sb.terminations_received, 1);
	T_EQ(t, sb.last_term_reason, SSU2_TERM_SHUTDOWN);
	T_EQ(t, a->downs, 1);
	T_EQ(t, b->downs, 1);
	send_many(t, a, b, 1000, 5, size_1k);
	w = (struct want){ b, 75 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	ssu2_stats(a->s, &sa);
	ssu2_stats(b->s, &sb);
	T_EQ(t, sa.established_out, 2);
	T_EQ(t, sa.retries_received, retries);
	T_EQ(t, sb.token_requests, token_reqs);
	T_EQ(t, sb.bad_tokens, 0);
	node_stop(a);
	node_stop(b);
	evloop_free(el);
	free(a);
	free(b);
}

/* IPv6: A and B on ::1 only (addresses with caps "6"): a session both
 * ways with messages of every size (packets at most 1452 bytes), and the
 * Address block gives A its IPv6 address.  Then C listens on 127.0.0.1
 * and ::1 and publishes both: A (IPv6 only) reaches it over IPv6, D
 * (IPv4 only) over IPv4. */
static void test_ipv6(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct node *c = calloc(1, sizeof(*c)), *d = calloc(1, sizeof(*d));
	static const uint8_t lo6[16] = { [15] = 1 };
	struct ssu2_stats sa, sb, sc;
	struct want w;
	uint8_t ip[16];
	size_t iplen = 0;
	uint16_t port = 0;

	a->host = b->host = "::1";
	a->caps = b->caps = "6";
	c->host6 = "::1";
	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	node_start(t, c, el, NULL);
	node_start(t, d, el, NULL);
	T_EQ(t, ssu2_port6(a->s), ssu2_port(a->s));
	T_NE(t, ssu2_port6(c->s), 0);
	a->peer = b->ri;
	b->peer = a->ri;
	send_many(t, a, b, 0, 70, size_mixed);
	w = (struct want){ b, 70 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	T_EQ(t, b->bad, 0);
	for (uint32_t i = 0; i < 70; i++)
		T_EQ(t, b->seen[i], 1);
	send_many(t, b, a, 0, 50, size_1k);
	w = (struct want){ a, 50 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	ssu2_stats(a->s, &sa);
	ssu2_stats(b->s, &sb);
	T_EQ(t, sa.established_out, 1);
	T_EQ(t, sb.established_in, 1);
	T_EQ(t, sa.msgs_dropped + sb.msgs_dropped, 0);
	T_TRUE(t, ssu2_external_address(a->s, ip, &iplen, &port));
	T_EQ(t, iplen, 16);
	T_MEMEQ(t, ip, lo6, 16);
	T_EQ(t, port, ssu2_port6(a->s));
	/* C on both: A over IPv6, D over IPv4. */
	a->peer2 = c->ri;
	d->peer = c->ri;
	c->peer = a->ri;
	c->peer2 = d->ri;
	send_many(t, a, c, 100, 5, size_mixed);
	send_many(t, d, c, 200, 5, size_mixed);
	w = (struct want){ c, 10 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	ssu2_stats(c->s, &sc);
	T_EQ(t, sc.established_in, 2);
	T_TRUE(t, ssu2_external_address(d->s, ip, &iplen, &port));
	T_EQ(t, iplen, 4);
	T_TRUE(t, ssu2_external_address(a->s, ip, &iplen, &port));
	T_EQ(t, iplen, 16);
	nodes_free(el, (struct node *[]){ a, b, c, d }, 4);
}

/* One session per router, as i2pd and Java keep (docs/ssu2.md §2): A and
 * C listen on 127.0.0.1 and ::1 and publish both.  A reaches C over IPv4
 * (its IPv4 address comes first; C's Address block tells A its IPv4
 * address), then prefers IPv6 for C and sends again, and C sends to A:
 * the one session carries it all, no second one is dialled over IPv6. */
static void test_one_per_router(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *c = calloc(1, sizeof(*c));
	struct ssu2_stats sa, sc;
	struct want w;
	uint8_t ip[16];
	size_t iplen;
	uint16_t port;

	a->host6 = c->host6 = "::1";
	node_start(t, a, el, NULL);
	node_start(t, c, el, NULL);
	a->peer = c->ri;
	c->peer = a->ri;
	send_many(t, a, c, 0, 5, size_1k);
	w = (struct want){ c, 5 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	T_TRUE(t, ssu2_external_address_family(a->s, AF_INET, ip, &iplen,
					       &port));
	ssu2_prefer_family(a->s, router_info_hash(c->ri), AF_INET6);
	send_many(t, a, c, 5, 5, size_1k);
	send_many(t, c, a, 0, 5, size_1k);
	w = (struct want){ c, 10 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	w = (struct want){ a, 5 };
	T_TRUE(t, run_until(el, got_n, &w, 20000));
	ssu2_stats(a->s, &sa);
	ssu2_stats(c->s, &sc);
	T_EQ(t, sa.established_out, 1);
	T_EQ(t, sa.established_in, 0);
	T_EQ(t, sc.established_in, 1);
	T_EQ(t, sc.established_out, 0);
	T_EQ(t, sa.sessions, 1);
	T_EQ(t, sc.sessions, 1);
	T_FALSE(t, ssu2_external_address_family(a->s, AF_INET6, ip, &iplen,
						&port));
	T_EQ(t, a->ups, 1);
	T_EQ(t, c->ups, 1);
	nodes_free(el, (struct node *[]){ a, c }, 2);
}

/* A reaches B through the relay: B's RouterInfo (as A knows it) names the
 * relay's front port. */
static void via_relay(struct tctx *t, struct node *a, struct node *b,
		      struct relay *r, uint16_t front)
{
	static struct router_info *fake;
	(void)r;
	router_info_free(fake);
	fake = NULL;
	{
		struct keys_and_cert id;
		struct router_address ad = ROUTER_ADDRESS_INIT;
		struct x25519_pk spk;

		router_keys_identity(b->keys, &id);
		fake = router_info_new(&id);
		keystore_x25519_pk(router_keys_keystore(b->keys),
				   KEYSTORE_X_SSU2, &spk);
		T_OK(t, router_address_ssu2_build(&ad, 3, &spk, b->ik,
						  "127.0.0.1", front,
						  b->caps ? b->caps : "4",
						  NULL, 0));
		T_OK(t, router_info_add_address(fake, &ad));
		T_OK(t, router_info_set_basic_options(fake, NETID, "LR"));
		T_OK(t, router_info_sign(fake,
					 router_keys_keystore(b->keys)));
	}
	a->peer = fake;
	b->peer = a->ri;
}

static void lossy(struct tctx *t, unsigned loss, uint32_t n)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct relay r;
	struct want w;
	struct ssu2_stats sa, sb;
	uint16_t front;

	rand_set_deterministic(loss);
	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	relay_start(t, &r, el, b, &front);
	via_relay(t, a, b, &r, front);
	r.loss_pct = loss;
	send_many(t, a, b, 0, n, size_mixed);
	w = (struct want){ b, n };
	T_TRUE(t, run_until(el, got_n, &w, 60000));
	T_EQ(t, b->recv, n);
	T_EQ(t, b->bad, 0);
	for (uint32_t i = 0; i < n; i++)
		T_EQ(t, b->seen[i], 1);
	send_many(t, b, a, 0, n, size_1k);
	w = (struct want){ a, n };
	T_TRUE(t, run_until(el, got_n, &w, 60000));
	T_EQ(t, a->recv, n);
	ssu2_stats(a->s, &sa);
	ssu2_stats(b->s, &sb);
	T_TRUE(t, r.dropped > 0);
	T_TRUE(t, sa.resent_frags + sb.resent_frags > 0);
	T_EQ(t, sa.msgs_dropped + sb.msgs_dropped, 0);
	T_EQ(t, sa.established_out, 1);
	relay_stop(&r);
	node_stop(a);
	node_stop(b);
	evloop_free(el);
	free(a);
	free(b);
	rand_set_deterministic(0);
}

static void test_loss_5(struct tctx *t)
{
	lossy(t, 5, 140);
}

static void test_loss_20(struct tctx *t)
{
	lossy(t, 20, 70);
}

/* The relay moves to a new source port: B validates the path and moves
 * the session; messages keep flowing both ways. */
static void test_migration(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct relay r;
	struct want w;
	struct ssu2_stats sb;
	uint16_t front;

	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	relay_start(t, &r, el, b, &front);
	via_relay(t, a, b, &r, front);
	send_many(t, a, b, 0, 10, size_1k);
	w = (struct want){ b, 10 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	relay_rebind(t, &r, el);
	send_many(t, a, b, 10, 20, size_1k);
	w = (struct want){ b, 30 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	send_many(t, b, a, 0, 20, size_1k);
	w = (struct want){ a, 20 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	ssu2_stats(b->s, &sb);
	T_TRUE(t, sb.path_challenges >= 1);
	T_EQ(t, sb.migrations, 1);
	T_EQ(t, sb.established_in, 1);
	relay_stop(&r);
	node_stop(a);
	node_stop(b);
	evloop_free(el);
	free(a);
	free(b);
}

static void quiet_bans(struct ssu2_config *c)
{
	c->ban_failures = 1000;
}

struct count_over {
	struct node *nd;
	uint64_t n;
};

static bool dropped_more(void *arg)
{
	struct count_over *c = arg;

	return stats_of(c->nd).dropped > c->n;
}

/* Garbage, a replayed SessionRequest (token spent), floods. */
static void test_bad_input(struct tctx *t)
{
	struct count_over dropped_over;
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct relay r;
	struct want w;
	struct ssu2_stats sb, sb2;
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint16_t front;
	uint8_t junk[1500];
	int fd = udp_socket(NULL);

	node_start(t, a, el, NULL);
	node_start(t, b, el, quiet_bans);
	relay_start(t, &r, el, b, &front);
	via_relay(t, a, b, &r, front);
	r.keep_first = true;
	send_many(t, a, b, 0, 3, size_1k);
	w = (struct want){ b, 3 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	T_TRUE(t, r.first_len > 80);
	/* A replayed SessionRequest while its session lives is dropped
	 * (its connection id is taken). */
	ssu2_stats(b->s, &sb);
	dropped_over.nd = b;
	dropped_over.n = sb.dropped;
	(void)sendto(r.fd_b, r.first, r.first_len, 0,
		     (struct sockaddr *)&r.b_addr, sizeof(r.b_addr));
	/* until it is read (50 ms was not always enough under ASan) */
	T_TRUE(t, run_until(el, dropped_more, &dropped_over, 5000));
	ssu2_stats(b->s, &sb2);
	T_EQ(t, sb2.sessions, 1);
	T_EQ(t, sb2.dropped, sb.dropped + 1);
	T_EQ(t, sb2.retries_sent, sb.retries_sent);
	/* Close it; then the token it used is spent: a replay gets a Retry
	 * and no session. */
	transport_mgr_close_all(a->tm);
	T_TRUE(t, run_until(el, both_down, (struct node *[]){ a, b }, 15000));
	/* ...and B's closing session lingers a little longer. */
	T_TRUE(t, run_until(el, no_sessions, b, 15000));
	ssu2_stats(b->s, &sb);
	T_EQ(t, sb.sessions, 0);
	(void)sendto(r.fd_b, r.first, r.first_len, 0,
		     (struct sockaddr *)&r.b_addr, sizeof(r.b_addr));
	/* Garbage of every size from another socket. */
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons(ssu2_port(b->s));
	for (size_t len = 1; len <= sizeof(junk); len += 7) {
		rand_bytes(junk, len);
		(void)sendto(fd, junk, len, 0, (struct sockaddr *)&to,
			     sizeof(to));
		if (len % 64 == 0)
			run_until(el, never, NULL, 1);
	}
	/* The replayed SessionRequest from a spoofed (other) source, many
	 * times: each is a bad token; Retries are rate-limited. */
	for (int i = 0; i < 50; i++)
		(void)sendto(fd, r.first, r.first_len, 0,
			     (struct sockaddr *)&to, sizeof(to));
	run_until(el, never, NULL, 200);
	ssu2_stats(b->s, &sb2);
	T_EQ(t, sb2.sessions, 0);
	T_EQ(t, sb2.established_in, 1);
	T_EQ(t, sb2.bad_tokens, sb.bad_tokens + 51);
	T_TRUE(t, sb2.dropped > sb.dropped + 150);
	T_TRUE(t, sb2.retries_sent - sb.retries_sent <=
		  SSU2_DEFAULT_TOKEN_REQUESTS_PER_S);
	T_TRUE(t, sb2.refused >= sb.refused + 45);
	/* A new session (with the New Token from the first) still works. */
	b->recv = 0;
	send_many(t, a, b, 3, 3, size_1k);
	w = (struct want){ b, 3 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	T_EQ(t, b->bad, 0);
	close(fd);
	relay_stop(&r);
	node_stop(a);
	node_stop(b);
	evloop_free(el);
	free(a);
	free(b);
}

/* A dial to a router that does not answer stays a pending attempt (its
 * Token Requests are resent) and never comes up. */
/* bitsd's stop: ssu2_shutdown() ends every session (one still in its
 * handshake goes to the reaper at once), then ssu2_free() and the
 * transport manager go before the loop reaps: the reaped session must not
 * touch either (ASan caught this at a bitsd stop). */
static void test_shutdown_then_free(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct ssu2_stats sa;

	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	a->peer = b->ri;
	ssu2_free(b->s);		/* B never answers */
	b->s = NULL;
	T_OK(t, transport_send(a->tm, router_info_hash(b->ri),
			       mk_msg(0, 100)));
	run_until(el, never, NULL, 100);
	ssu2_stats(a->s, &sa);
	T_EQ(t, sa.sessions, 1);
	ssu2_shutdown(a->s);
	ssu2_stats(a->s, &sa);
	T_EQ(t, sa.sessions, 0);	/* handed to the reaper */
	node_stop(a);			/* ssu2_free, transport_mgr_free */
	transport_mgr_free(b->tm);
	router_info_free(b->ri);
	router_keys_free(b->keys);
	evloop_free(el);		/* reaps the session now */
	free(a);
	free(b);
}

static void test_dial_unanswered(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct ssu2_stats sa, sb;
	struct transport_stats ts;

	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	a->peer = b->ri;
	/* B's transport is gone: A's Token Requests go nowhere. */
	ssu2_free(b->s);
	b->s = NULL;
	T_OK(t, transport_send(a->tm, router_info_hash(b->ri),
			       mk_msg(0, 100)));
	run_until(el, never, NULL, 200);
	ssu2_stats(a->s, &sa);
	T_EQ(t, sa.sessions, 1);
	T_EQ(t, sa.established_out, 0);
	(void)sb;
	transport_mgr_stats(a->tm, &ts);
	T_EQ(t, ts.connecting, 1);
	node_stop(a);
	transport_mgr_free(b->tm);
	router_info_free(b->ri);
	router_keys_free(b->keys);
	evloop_free(el);
	free(a);
	free(b);
}

/* B's cap on handshakes under way from one address (max_pending_per_ip)
 * and its handshake timeout: A1 reaches B through a relay that passes
 * B's first packet (the Retry) and nothing after, so A1's handshake stays
 * under way at B.  With a cap of one, A2 from the same address is
 * refused meanwhile and gets no session; once B's 2 s handshake timeout
 * drops A1's, A3 from that address comes up.  With the default four, A2
 * comes up at once. */
static unsigned pend_cap;

static void pend_cfg(struct ssu2_config *c)
{
	c->max_pending_per_ip = pend_cap;
	c->handshake_timeout_ms = 2000;
}

static bool pending_1(void *arg)
{
	struct ssu2_stats st;

	ssu2_stats(((struct node *)arg)->s, &st);
	return st.pending_in == 1;
}

static bool pending_0(void *arg)
{
	struct ssu2_stats st;

	ssu2_stats(((struct node *)arg)->s, &st);
	return st.pending_in == 0;
}

static bool refused_1(void *arg)
{
	struct ssu2_stats st;

	ssu2_stats(((struct node *)arg)->s, &st);
	return st.refused >= 1;
}

static bool up_1(void *arg)
{
	return ((struct node *)arg)->ups >= 1;
}

static void pending_per_ip(struct tctx *t, unsigned cap)
{
	struct evloop *el = evloop_new();
	struct node *nd[4];
	struct node *a1, *a2, *a3, *b;
	struct relay r;
	struct ssu2_stats sb;
	uint16_t front;
	uint64_t t0;

	for (size_t i = 0; i < 4; i++)
		nd[i] = calloc(1, sizeof(*nd[i]));
	a1 = nd[0], a2 = nd[1], a3 = nd[2], b = nd[3];
	pend_cap = cap;
	node_start(t, a1, el, NULL);
	node_start(t, a2, el, NULL);
	node_start(t, a3, el, NULL);
	node_start(t, b, el, pend_cfg);
	relay_start(t, &r, el, b, &front);
	via_relay(t, a1, b, &r, front);
	r.b_pass = 1;
	T_OK(t, transport_send(a1->tm, router_info_hash(b->ri),
			       mk_msg(0, 100)));
	T_TRUE(t, run_until(el, pending_1, b, 5000));
	a2->peer = b->ri;
	a3->peer = b->ri;
	t0 = time_mono_ms();
	T_OK(t, transport_send(a2->tm, router_info_hash(b->ri),
			       mk_msg(1, 100)));
	if (cap == 1) {
		T_TRUE(t, run_until(el, refused_1, b, 2000));
		run_until(el, never, NULL, 300);
		T_EQ(t, a2->ups, 0);
		/* B's handshake timeout ends A1's... */
		T_TRUE(t, run_until(el, pending_0, b, 5000));
		T_TRUE(t, time_mono_ms() - t0 >= 1500);
		/* ...and the address may begin one again. */
		T_OK(t, transport_send(a3->tm, router_info_hash(b->ri),
				       mk_msg(2, 100)));
		T_TRUE(t, run_until(el, up_1, a3, 3000));
	} else {
		T_TRUE(t, run_until(el, up_1, a2, 3000));
		T_TRUE(t, time_mono_ms() - t0 < 1500);
		ssu2_stats(b->s, &sb);
		T_EQ(t, sb.refused, 0);
	}
	T_EQ(t, a1->ups, 0);
	relay_stop(&r);
	nodes_free(el, nd, 4);
}

static void test_pending_per_ip(struct tctx *t)
{
	pending_per_ip(t, 1);
}

static void test_pending_per_ip_default(struct tctx *t)
{
	pending_per_ip(t, SSU2_DEFAULT_MAX_PENDING_PER_IP);
}

/* SSU2 RouterAddress helpers: build, encode, decode, parse. */
static void test_address(struct tctx *t)
{
	struct router_address a = ROUTER_ADDRESS_INIT, d = ROUTER_ADDRESS_INIT;
	struct router_address_ssu2 p;
	struct router_address_ssu2_intro in[2] = { { { 1 }, 77, 1700000000 },
						   { { 2 }, 78, 0 } };
	struct x25519_pk s;
	uint8_t ik[32];
	struct bbuf b = BBUF_INIT;
	struct breader r;

	memset(s.b, 0x5a, 32);
	memset(ik, 0xa5, 32);
	T_OK(t, router_address_ssu2_build(&a, 5, &s, ik, "198.18.0.7", 9999,
					  "4B", in, 2));
	T_OK(t, router_address_encode(&a, &b));
	br_init(&r, b.data, b.len);
	T_OK(t, router_address_decode(&r, 1024, &d));
	T_TRUE(t, router_address_is_ssu2(&d));
	T_OK(t, router_address_ssu2_parse(&d, &p));
	T_MEMEQ(t, p.s.b, s.b, 32);
	T_MEMEQ(t, p.ik, ik, 32);
	T_TRUE(t, p.published);
	T_EQ(t, p.family, AF_INET);
	T_STREQ(t, p.host, "198.18.0.7");
	T_EQ(t, p.port, 9999);
	T_STREQ(t, p.caps, "4B");
	T_EQ(t, p.nintro, 2);
	T_EQ(t, p.intro[0].tag, 77);
	T_EQ(t, p.intro[0].exp, 1700000000);
	T_EQ(t, p.intro[1].h[0], 2);
	T_EQ(t, p.intro[1].exp, 0);
	/* Unpublished: s, i, v and caps only. */
	T_OK(t, router_address_ssu2_build(&a, 5, &s, ik, NULL, 0, "4", NULL,
					  0));
	T_OK(t, router_address_ssu2_parse(&a, &p));
	T_FALSE(t, p.published);
	T_EQ(t, p.family, AF_INET);		/* the caps say */
	T_STREQ(t, mapping_get(&a.options, "v"), "2");
	router_address_clear(&a);
	T_OK(t, router_address_ssu2_build(&a, 5, &s, ik, NULL, 0, "6", NULL,
					  0));
	T_OK(t, router_address_ssu2_parse(&a, &p));
	T_EQ(t, p.family, AF_INET6);
	router_address_clear(&a);
	T_OK(t, router_address_ssu2_build(&a, 5, &s, ik, NULL, 0, "46", NULL,
					  0));
	T_OK(t, router_address_ssu2_parse(&a, &p));
	T_EQ(t, p.family, 0);
	/* Missing i; bad introducer tag; not SSU2. */
	(void)mapping_remove(&a.options, "i");
	T_ERR(t, router_address_ssu2_parse(&a, &p), ERR_FORMAT);
	T_OK(t, router_address_ssu2_build(&a, 5, &s, ik, NULL, 0, "4", in, 1));
	(void)mapping_set(&a.options, "itag0", "0");
	T_ERR(t, router_address_ssu2_parse(&a, &p), ERR_FORMAT);
	T_ERR(t, router_address_ssu2_build(&a, 5, &s, ik, "host.example", 1,
					   NULL, NULL, 0), ERR_ARG);
	router_address_set_style(&a, "NTCP2", 5);
	T_ERR(t, router_address_ssu2_parse(&a, &p), ERR_ARG);
	router_address_clear(&a);
	router_address_clear(&d);
	bbuf_free(&b);
}

static bool reach_decided(void *arg)
{
	struct node *a = arg;
	enum ssu2_reach r = ssu2_reachability(a->s);

	return r == SSU2_REACH_OK || r == SSU2_REACH_FIREWALLED;
}

static void on_intro(void *ctx);

/* Alice, and Bob and Charlie (both with "B") with a session between
 * them, on one loop. */
static void trio_start(struct tctx *t, struct evloop *el, struct node **nd,
		       void (*tweak_b)(struct ssu2_config *),
		       void (*tweak_c)(struct ssu2_config *))
{
	struct want w;

	for (int i = 0; i < 3; i++)
		nd[i] = calloc(1, sizeof(*nd[i]));
	nd[1]->caps = "4B";
	nd[2]->caps = "4B";
	node_start(t, nd[0], el, NULL);
	node_start(t, nd[1], el, tweak_b);
	node_start(t, nd[2], el, tweak_c);
	nd[1]->peer = nd[2]->ri;
	nd[2]->peer = nd[1]->ri;
	send_many(t, nd[1], nd[2], 0, 1, size_1k);
	w = (struct want){ nd[2], 1 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
}

static void trio_stop(struct evloop *el, struct node **nd)
{
	for (int i = 0; i < 3; i++)
		node_stop(nd[i]);
	evloop_free(el);
	for (int i = 0; i < 3; i++)
		free(nd[i]);
}

/* Peer test with all three roles in bitsd: A (Alice) asks B (Bob), who
 * picks C (Charlie, the other router with "B" it has a session with).
 * Directly on loopback A is reachable; behind a relay that only lets
 * B's packets back (an address-restricted NAT) it is firewalled. */
static void peer_test(struct tctx *t, bool behind_nat)
{
	struct evloop *el = evloop_new();
	struct node *nd[3], *a, *b, *c;
	struct ssu2_stats sa, sb, sc;
	struct relay r;
	struct want w;
	uint16_t front;

	trio_start(t, el, nd, NULL, NULL);
	a = nd[0];
	b = nd[1];
	c = nd[2];
	/* A -> B session (through the relay when behind the NAT) */
	if (behind_nat) {
		relay_start(t, &r, el, b, &front);
		r.restricted = true;
		via_relay(t, a, b, &r, front);
	} else {
		a->peer = b->ri;
	}
	send_many(t, a, b, 0, 1, size_1k);
	w = (struct want){ b, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	T_EQ(t, ssu2_reachability(a->s), SSU2_REACH_UNKNOWN);
	ssu2_set_intro_hook(a->s, on_intro, a);
	T_OK(t, ssu2_peer_test(a->s, NULL));
	T_EQ(t, ssu2_reachability(a->s), SSU2_REACH_TESTING);
	T_TRUE(t, run_until(el, reach_decided, a, 15000));
	T_EQ(t, ssu2_reachability(a->s), behind_nat ? SSU2_REACH_FIREWALLED
						     : SSU2_REACH_OK);
	run_until(el, never, NULL, 300);	/* messages 6 and 7 */
	ssu2_stats(a->s, &sa);
	ssu2_stats(b->s, &sb);
	ssu2_stats(c->s, &sc);
	T_EQ(t, sa.pt_started, 1);
	T_EQ(t, sb.pt_relayed, 1);
	T_EQ(t, sc.pt_answered, 1);
	T_EQ(t, sa.pt_msg4, 1);
	T_EQ(t, sa.pt_msg5, behind_nat ? 0 : 1);
	T_EQ(t, sc.pt_msg6, behind_nat ? 0 : 1);
	T_EQ(t, sa.pt_msg7, behind_nat ? 0 : 1);
	T_EQ(t, sa.pt_rejected, 0);
	/* Either way what A publishes changed: "U" and introducers, or
	 * the "C" cap. */
	T_TRUE(t, a->intro_calls >= 1);
	if (behind_nat)
		relay_stop(&r);
	trio_stop(el, nd);
}

static void test_peer_test_reachable(struct tctx *t)
{
	peer_test(t, false);
}

static void test_peer_test_firewalled(struct tctx *t)
{
	peer_test(t, true);
}

static void on_intro(void *ctx)
{
	((struct node *)ctx)->intro_calls++;
}

static bool reach_unknown(void *arg)
{
	return ssu2_reachability(((struct node *)arg)->s) ==
	       SSU2_REACH_UNKNOWN;
}

static void quick_idle(struct ssu2_config *c)
{
	c->idle_timeout_ms = 1500;
}

/* A peer test whose Charlie has, or lately had, a session with Alice
 * decides nothing: a NAT in front of Alice would let Charlie's message 5
 * in through that flow.  live: the A-C session is up during the test (C
 * refuses, code 68); else C ended it (idle) before the test and answers,
 * and A must not believe message 5 from it. */
static void peer_test_flow(struct tctx *t, bool live)
{
	struct evloop *el = evloop_new();
	struct node *nd[3], *a, *b, *c;
	struct ssu2_stats sa, sc;
	struct want w;

	/* B's keepalives keep B-C and B-A up */
	pt_timeout_ms = 10000;
	trio_start(t, el, nd, quick_keepalive, live ? NULL : quick_idle);
	a = nd[0];
	b = nd[1];
	c = nd[2];
	a->peer = c->ri;
	send_many(t, a, c, 0, 1, size_1k);
	w = (struct want){ c, 2 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	if (!live) {	/* C idles the A-C session out; A forgets it */
		T_TRUE(t, run_until(el, no_sessions, a, 15000));
		T_TRUE(t, transport_is_connected(b->tm, router_info_hash(c->ri)));
	}
	a->peer = b->ri;
	send_many(t, a, b, 0, 1, size_1k);
	w = (struct want){ b, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	T_OK(t, ssu2_peer_test(a->s, NULL));
	T_EQ(t, ssu2_reachability(a->s), SSU2_REACH_TESTING);
	T_TRUE(t, run_until(el, reach_unknown, a, SSU2_PT_TIMEOUT_MS + 5000));
	ssu2_stats(a->s, &sa);
	ssu2_stats(c->s, &sc);
	T_EQ(t, sa.pt_msg4, 1);
	T_EQ(t, sa.pt_msg5, 0);			/* none believed */
	T_EQ(t, sa.pt_rejected, live ? 1 : 0);
	T_EQ(t, sc.pt_answered, live ? 0 : 1);	/* C did send it */
	trio_stop(el, nd);
}

static void test_peer_test_charlie_connected(struct tctx *t)
{
	peer_test_flow(t, true);
}

static void test_peer_test_charlie_recent(struct tctx *t)
{
	peer_test_flow(t, false);
}

static bool reach_ok(void *arg)
{
	return ssu2_reachability(((struct node *)arg)->s) == SSU2_REACH_OK;
}

static bool reach6_decided(void *arg)
{
	enum ssu2_reach r = ssu2_reachability_family(((struct node *)arg)->s,
						     AF_INET6);

	return r == SSU2_REACH_OK || r == SSU2_REACH_FIREWALLED;
}

/* An IPv6 peer test: A on ::1 only, B and C on 127.0.0.1 and ::1 with
 * "B" on both addresses, B-C over IPv4.  A asks B over IPv6 with its
 * IPv6 address; B picks C for its IPv6 "B" address, C sends message 5
 * to A's IPv6 address, A answers C's IPv6 address (6) and C tells A its
 * address (7).  A's IPv6 result is its own: IPv4 stays unknown (and
 * cannot be tested without an IPv4 address). */
static void test_peer_test_ipv6(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct node *c = calloc(1, sizeof(*c));
	static const uint8_t lo6[16] = { [15] = 1 };
	struct ssu2_stats sa, sb, sc;
	struct want w;
	uint8_t ip[16];
	size_t iplen = 0;
	uint16_t port = 0;

	a->host = "::1";
	a->caps = "6";
	b->caps = c->caps = "4B";
	b->caps6 = c->caps6 = "6B";
	b->host6 = c->host6 = "::1";
	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	node_start(t, c, el, NULL);
	b->peer = c->ri;
	c->peer = b->ri;
	send_many(t, b, c, 0, 1, size_1k);
	w = (struct want){ c, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	a->peer = b->ri;
	a->peer2 = c->ri;
	b->peer2 = a->ri;
	send_many(t, a, b, 1, 1, size_1k);
	w = (struct want){ b, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	T_TRUE(t, ssu2_external_address_family(a->s, AF_INET6, ip, &iplen,
					       &port));
	T_EQ(t, iplen, 16);
	T_MEMEQ(t, ip, lo6, 16);
	T_FALSE(t, ssu2_external_address_family(a->s, AF_INET, ip, &iplen,
						&port));
	T_ERR(t, ssu2_peer_test(a->s, NULL), ERR_BAD_STATE);
	T_OK(t, ssu2_peer_test_family(a->s, AF_INET6, NULL));
	T_EQ(t, ssu2_reachability_family(a->s, AF_INET6), SSU2_REACH_TESTING);
	T_TRUE(t, run_until(el, reach6_decided, a, 15000));
	T_EQ(t, ssu2_reachability_family(a->s, AF_INET6), SSU2_REACH_OK);
	T_EQ(t, ssu2_reachability(a->s), SSU2_REACH_UNKNOWN);
	run_until(el, never, NULL, 300);	/* messages 6 and 7 */
	ssu2_stats(a->s, &sa);
	ssu2_stats(b->s, &sb);
	ssu2_stats(c->s, &sc);
	T_EQ(t, sb.pt_relayed, 1);
	T_EQ(t, sc.pt_answered, 1);
	T_EQ(t, sa.pt_msg4, 1);
	T_EQ(t, sa.pt_msg5, 1);
	T_EQ(t, sc.pt_msg6, 1);
	T_EQ(t, sa.pt_msg7, 1);
	T_FALSE(t, transport_is_connected(a->tm, router_info_hash(c->ri)));
	nodes_free(el, (struct node *[]){ a, b, c }, 3);
}

/* A was Charlie in C's peer test (through B): A's message 5 to C opened
 * A's NAT to C, so in A's own test through B a moment later, C's
 * message 5 as Charlie proves nothing (no session between A and C ever;
 * seen behind a real NAT with i2pd, where A called itself reachable). */
static void test_peer_test_charlie_was_alice(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *nd[3], *a, *b, *c;
	struct ssu2_stats sa, sc;
	struct want w;

	/* A, B and C all with "B"; A -> B and C -> B (so both know their
	 * address), no A-C session */
	pt_timeout_ms = 10000;
	for (int i = 0; i < 3; i++) {
		nd[i] = calloc(1, sizeof(*nd[i]));
		nd[i]->caps = "4B";
		node_start(t, nd[i], el, NULL);
	}
	a = nd[0];
	b = nd[1];
	c = nd[2];
	a->peer = b->ri;
	c->peer = b->ri;
	b->peer = a->ri;
	b->peer2 = c->ri;
	send_many(t, c, b, 0, 1, size_1k);
	send_many(t, a, b, 1, 1, size_1k);
	w = (struct want){ b, 2 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	/* C's test: Bob B, Charlie A (B's other peer with "B") */
	T_OK(t, ssu2_peer_test(c->s, NULL));
	T_TRUE(t, run_until(el, reach_ok, c, 15000));
	ssu2_stats(a->s, &sa);
	T_EQ(t, sa.pt_answered, 1);
	T_FALSE(t, transport_is_connected(a->tm, router_info_hash(c->ri)));
	/* A's test: Bob B, Charlie C */
	T_OK(t, ssu2_peer_test(a->s, NULL));
	T_TRUE(t, run_until(el, reach_unknown, a, SSU2_PT_TIMEOUT_MS + 5000));
	ssu2_stats(a->s, &sa);
	ssu2_stats(c->s, &sc);
	T_EQ(t, sa.pt_msg4, 1);
	T_EQ(t, sc.pt_answered, 1);		/* C did send it */
	T_EQ(t, sa.pt_msg5, 0);			/* A did not believe it */
	trio_stop(el, nd);
}

static void short_intro(struct ssu2_config *c)
{
	c->intro_lifetime_s = 6;
	c->intro_refresh_s = 4;
}

/* Firewalled and short of introducers: dial nd->dial (once), as
 * apps/bitsd_ssu2.c dials routers with "C" from the netDb. */
static void on_want_intro(void *ctx, int family, size_t want)
{
	struct node *nd = ctx;

	nd->want_calls++;
	nd->last_want = want;
	nd->last_want_family = family;
	if (nd->dial && ssu2_can_introduce_family(nd->s, nd->dial, family) &&
	    transport_send(nd->tm, router_info_hash(nd->dial),
			   mk_msg(0, 1024)) == 0)
		nd->dial = NULL;
}

/* The want hook said one more introducer is missing. */
static bool wants_one(void *arg)
{
	struct node *nd = arg;

	return nd->want_calls && nd->last_want == 1;
}

struct intro_want {
	struct node *nd;
	size_t n;		/* introducers */
	uint32_t exp_above;	/* ...the first expiring after this */
};

static bool intros_are(void *arg)
{
	struct intro_want *w = arg;
	struct router_address_ssu2_intro in[SSU2_INTRO_MAX];
	size_t k = ssu2_introducers(w->nd->s, in, SSU2_INTRO_MAX);

	return k == w->n && (k == 0 || in[0].exp > w->exp_above);
}

/* Firewalled (the peer test behind the address-restricted relay), A asks
 * its session peer with "C" for a relay tag by itself, tells its
 * embedder, renews the tag before it expires (a short lifetime here);
 * a new session to another peer with "C" asks in its SessionRequest and
 * gets the tag in SessionCreated (as i2pd does it); an introducer is
 * dropped when its session ends. */
static void test_intro_auto(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct node *c = calloc(1, sizeof(*c)), *d = calloc(1, sizeof(*d));
	struct router_address_ssu2_intro in[SSU2_INTRO_MAX];
	struct intro_want iw;
	struct ssu2_stats sa;
	struct relay r;
	struct want w;
	uint16_t front;
	unsigned calls;

	b->caps = "4BC";
	c->caps = "4B";
	d->caps = "4BC";
	node_start(t, a, el, short_intro);
	node_start(t, b, el, NULL);
	node_start(t, c, el, NULL);
	node_start(t, d, el, NULL);
	ssu2_set_intro_hook(a->s, on_intro, a);
	ssu2_set_want_intro_hook(a->s, on_want_intro, a);
	b->peer = c->ri;
	c->peer = b->ri;
	send_many(t, b, c, 0, 1, size_1k);
	w = (struct want){ c, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	relay_start(t, &r, el, b, &front);
	r.restricted = true;
	via_relay(t, a, b, &r, front);
	send_many(t, a, b, 0, 1, size_1k);
	w = (struct want){ b, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	T_FALSE(t, ssu2_is_firewalled(a->s));
	T_EQ(t, ssu2_introducers(a->s, in, SSU2_INTRO_MAX), 0);
	T_EQ(t, a->want_calls, 0);	/* not firewalled: no introducers */
	T_TRUE(t, ssu2_can_introduce(a->s, b->ri));
	T_TRUE(t, ssu2_can_introduce(a->s, d->ri));
	T_FALSE(t, ssu2_can_introduce(a->s, c->ri));	/* no "C" */
	T_OK(t, ssu2_peer_test(a->s, NULL));
	T_TRUE(t, run_until(el, reach_decided, a, 30000));
	T_EQ(t, ssu2_reachability(a->s), SSU2_REACH_FIREWALLED);
	T_TRUE(t, ssu2_is_firewalled(a->s));
	/* The tag from B (the only peer with "C"), without being asked. */
	iw = (struct intro_want){ a, 1, 0 };
	T_TRUE(t, run_until(el, intros_are, &iw, 30000));
	T_EQ(t, ssu2_introducers(a->s, in, SSU2_INTRO_MAX), 1);
	T_MEMEQ(t, in[0].h, router_info_hash(b->ri), 32);
	T_NE(t, in[0].tag, 0);
	T_TRUE(t, in[0].exp >= (uint32_t)time_now_s() + 4);
	T_TRUE(t, in[0].exp <= (uint32_t)time_now_s() + 6);
	T_TRUE(t, a->intro_calls >= 2);	/* firewalled; the tag */
	/* B is the only session peer with "C": two more wanted. */
	T_TRUE(t, a->want_calls >= 1);
	T_EQ(t, a->last_want, 2);
	T_EQ(t, a->last_want_family, AF_INET);
	/* Renewed before it expires: a later expiry, same tag. */
	iw = (struct intro_want){ a, 1, in[0].exp };
	T_TRUE(t, run_until(el, intros_are, &iw, 30000));
	ssu2_stats(a->s, &sa);
	T_TRUE(t, sa.relay_tags_got >= 2);
	T_EQ(t, sa.relay_tags_hs, 0);
	/* The want hook dials D (A's embedder found it with "C"): the
	 * tag comes in SessionCreated; then one more is wanted. */
	a->peer2 = d->ri;
	d->peer = a->ri;
	a->dial = d->ri;
	w = (struct want){ d, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	T_TRUE(t, a->dial == NULL);
	iw = (struct intro_want){ a, 2, 0 };
	T_TRUE(t, run_until(el, intros_are, &iw, 30000));
	ssu2_stats(a->s, &sa);
	T_EQ(t, sa.relay_tags_hs, 1);
	T_TRUE(t, run_until(el, wants_one, a, 30000));
	/* B's session ends: D is left. */
	calls = a->intro_calls;
	transport_mgr_close_all(b->tm);
	iw = (struct intro_want){ a, 1, 0 };
	T_TRUE(t, run_until(el, intros_are, &iw, 30000));
	run_until(el, never, NULL, 100);
	T_TRUE(t, a->intro_calls > calls);
	T_EQ(t, ssu2_introducers(a->s, in, SSU2_INTRO_MAX), 1);
	T_MEMEQ(t, in[0].h, router_info_hash(d->ri), 32);
	relay_stop(&r);
	nodes_free(el, (struct node *[]){ a, b, c, d }, 4);
}

static bool tags_2(void *arg)
{
	struct ssu2_stats st;

	ssu2_stats(((struct node *)arg)->s, &st);
	return st.relay_tags_got >= 2;
}

/* Introducers per family: A on 127.0.0.1 and ::1; B with "C" on both
 * its addresses, D with "C" on its IPv4 one only.  A dials B on IPv6
 * (ssu2_prefer_family(), as bitsd's want hook does for IPv6
 * introducers; B's IPv4 address would be taken otherwise) and D on
 * IPv4, and gets a relay tag from each: B is an introducer for A's IPv6
 * address only, D for its IPv4 one only. */
static void test_intro_family(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct node *d = calloc(1, sizeof(*d));
	struct router_address_ssu2_intro in[SSU2_INTRO_MAX];
	struct want w;

	a->host6 = b->host6 = d->host6 = "::1";
	b->caps = d->caps = "4BC";
	b->caps6 = "6BC";
	d->caps6 = "6B";
	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	node_start(t, d, el, NULL);
	T_TRUE(t, ssu2_can_introduce_family(a->s, b->ri, AF_INET));
	T_TRUE(t, ssu2_can_introduce_family(a->s, b->ri, AF_INET6));
	T_TRUE(t, ssu2_can_introduce_family(a->s, d->ri, AF_INET));
	T_FALSE(t, ssu2_can_introduce_family(a->s, d->ri, AF_INET6));
	T_FALSE(t, ssu2_can_introduce_family(a->s, a->ri, AF_INET6));
	a->peer = b->ri;
	a->peer2 = d->ri;
	b->peer = d->peer = a->ri;
	ssu2_prefer_family(a->s, router_info_hash(b->ri), AF_INET6);
	send_many(t, a, b, 0, 1, size_1k);
	send_many(t, a, d, 1, 1, size_1k);
	w = (struct want){ b, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	w = (struct want){ d, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	T_OK(t, ssu2_request_relay_tag(a->s, router_info_hash(b->ri)));
	T_OK(t, ssu2_request_relay_tag(a->s, router_info_hash(d->ri)));
	T_TRUE(t, run_until(el, tags_2, a, 20000));
	T_EQ(t, ssu2_introducers(a->s, in, SSU2_INTRO_MAX), 2);
	T_EQ(t, ssu2_introducers_family(a->s, AF_INET6, in, SSU2_INTRO_MAX), 1);
	T_MEMEQ(t, in[0].h, router_info_hash(b->ri), 32);
	T_NE(t, in[0].tag, 0);
	T_EQ(t, ssu2_introducers_family(a->s, AF_INET, in, SSU2_INTRO_MAX), 1);
	T_MEMEQ(t, in[0].h, router_info_hash(d->ri), 32);
	T_NE(t, in[0].tag, 0);
	nodes_free(el, (struct node *[]){ a, b, d }, 3);
}

/* Bob without a Charlie says so (code 2) and Alice stays undecided. */
static void test_peer_test_no_charlie(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct ssu2_stats sa;
	struct want w;

	b->caps = "4B";
	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	a->peer = b->ri;
	T_ERR(t, ssu2_peer_test(a->s, NULL), ERR_BAD_STATE);	/* no address */
	send_many(t, a, b, 0, 1, size_1k);
	w = (struct want){ b, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 10000));
	T_OK(t, ssu2_peer_test(a->s, NULL));
	run_until(el, never, NULL, 500);
	ssu2_stats(a->s, &sa);
	T_EQ(t, sa.pt_msg4, 1);
	T_EQ(t, sa.pt_rejected, 1);
	T_EQ(t, ssu2_reachability(a->s), SSU2_REACH_UNKNOWN);
	node_stop(a);
	node_stop(b);
	evloop_free(el);
	free(a);
	free(b);
}

static bool downs_2(void *arg)
{
	return ((struct node *)arg)->downs >= 2;
}

static bool got_tag(void *arg)
{
	struct node *c = arg;
	struct ssu2_stats st;

	ssu2_stats(c->s, &st);
	return st.relay_tags_got >= 1;
}

/* Relay with all three roles in bitsd: C (Charlie) gets a relay tag from
 * B (the introducer) and publishes an address with no host, only B as
 * introducer; A (Alice), who has a session with B, reaches C: Relay
 * Request -> Intro -> Response (+ Hole Punch) -> SessionRequest with
 * Charlie's token. */
/* C's RouterInfo as a firewalled router publishes it: introducer in[0]. */
static struct router_info *fw_ri_caps(struct tctx *t, struct node *c,
				      const struct router_address_ssu2_intro *in,
				      size_t nin, const char *caps)
{
	struct router_address ad = ROUTER_ADDRESS_INIT;
	struct router_info *cri;
	struct keys_and_cert id;
	struct x25519_pk spk;

	router_keys_identity(c->keys, &id);
	cri = router_info_new(&id);
	keystore_x25519_pk(router_keys_keystore(c->keys), KEYSTORE_X_SSU2, &spk);
	T_OK(t, router_address_ssu2_build(&ad, 3, &spk, c->ik, NULL, 0, caps,
					  in, nin));
	T_OK(t, router_info_add_address(cri, &ad));
	T_OK(t, router_info_set_basic_options(cri, NETID, "LU"));
	T_OK(t, router_info_sign(cri, router_keys_keystore(c->keys)));
	router_address_clear(&ad);
	return cri;
}

static struct router_info *fw_ri(struct tctx *t, struct node *c,
				 const struct router_address_ssu2_intro *in)
{
	return fw_ri_caps(t, c, in, 1, "4");
}

/* A, B (caps BC) and C on el; C gets a relay tag from B and publishes B
 * as its introducer (in[0]) in the RouterInfo returned.  A knows B and C,
 * B and C know A; A has no session yet. */
static struct router_info *relay_setup(struct tctx *t, struct evloop *el,
				       struct node *a, struct node *b,
				       struct node *c,
				       struct router_address_ssu2_intro in[2])
{
	struct router_info *cri;
	struct want w;
	const uint8_t *bytes;
	size_t len;

	b->caps = "4BC";
	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	node_start(t, c, el, NULL);
	/* C -> B, and the tag */
	c->peer = b->ri;
	b->peer = c->ri;
	send_many(t, c, b, 0, 1, size_1k);
	w = (struct want){ b, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	T_EQ(t, ssu2_introducers(c->s, in, 2), 0);
	T_OK(t, ssu2_request_relay_tag(c->s, NULL));
	T_TRUE(t, run_until(el, got_tag, c, 20000));
	T_EQ(t, ssu2_introducers(c->s, in, 2), 1);
	T_MEMEQ(t, in[0].h, router_info_hash(b->ri), 32);
	T_NE(t, in[0].tag, 0);
	cri = fw_ri(t, c, in);
	bytes = router_info_bytes(cri, &len);
	T_OK(t, ssu2_set_router_info(c->s, bytes, len));
	a->peer = b->ri;
	a->peer2 = cri;
	b->peer2 = a->ri;
	c->peer2 = a->ri;
	return cri;
}

static void relay_teardown(struct evloop *el, struct node *a, struct node *b,
			   struct node *c, struct router_info *cri)
{
	router_info_free(cri);
	node_stop(a);
	node_stop(b);
	node_stop(c);
	evloop_free(el);
	free(a);
	free(b);
	free(c);
}

static void test_relay(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct node *c = calloc(1, sizeof(*c));
	struct router_address_ssu2_intro in[2];
	struct router_info *cri = relay_setup(t, el, a, b, c, in);
	struct ssu2_stats sa, sb, sc;
	struct want w;

	/* A -> B first (A learns its address), then A -> C by relay. */
	send_many(t, a, b, 1, 1, size_1k);
	w = (struct want){ b, 2 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	T_OK(t, transport_send(a->tm, router_info_hash(cri), mk_msg(7, 3000)));
	w = (struct want){ c, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	T_EQ(t, c->seen[7], 1);
	ssu2_stats(a->s, &sa);
	ssu2_stats(b->s, &sb);
	ssu2_stats(c->s, &sc);
	T_EQ(t, sb.relay_tags_given, 1);
	T_EQ(t, sa.relays_asked, 1);
	T_EQ(t, sb.relays_forwarded, 1);
	T_EQ(t, sc.relays_answered, 1);
	T_EQ(t, sa.relays_done, 1);
	T_EQ(t, sa.hole_punches, 1);
	T_EQ(t, sa.relays_refused, 0);
	T_EQ(t, sc.established_in, 1);		/* from A */
	/* An unknown tag is refused by Bob. */
	in[0].tag ^= 0x5a5a;
	router_info_free(cri);
	cri = fw_ri(t, c, in);
	transport_mgr_close_all(a->tm);
	T_TRUE(t, run_until(el, downs_2, a, 15000));
	a->peer2 = cri;
	send_many(t, a, b, 2, 1, size_1k);
	w = (struct want){ b, 3 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	(void)transport_send(a->tm, router_info_hash(cri), mk_msg(8, 100));
	run_until(el, never, NULL, 500);
	ssu2_stats(a->s, &sa);
	T_EQ(t, sa.relays_refused, 1);
	T_EQ(t, c->seen[8], 0);
	relay_teardown(el, a, b, c, cri);
}

/* Alice with no session with Charlie's introducer: she dials Bob first
 * (through the manager), learns her address from him, then asks. */
static void test_relay_dials_introducer(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct node *c = calloc(1, sizeof(*c));
	struct router_address_ssu2_intro in[2];
	struct router_info *cri = relay_setup(t, el, a, b, c, in);
	struct ssu2_stats sa, sb, sc;
	struct want w;

	T_FALSE(t, transport_is_connected(a->tm, router_info_hash(b->ri)));
	T_OK(t, transport_send(a->tm, router_info_hash(cri), mk_msg(7, 30000)));
	w = (struct want){ c, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	T_EQ(t, c->seen[7], 1);
	T_TRUE(t, transport_is_connected(a->tm, router_info_hash(b->ri)));
	ssu2_stats(a->s, &sa);
	ssu2_stats(b->s, &sb);
	ssu2_stats(c->s, &sc);
	T_EQ(t, sa.relays_asked, 1);
	T_EQ(t, sb.relays_forwarded, 1);
	T_EQ(t, sc.relays_answered, 1);
	T_EQ(t, sa.relays_done, 1);
	T_EQ(t, sa.established_out, 2);		/* B, then C */
	T_EQ(t, sc.established_in, 1);		/* from A */
	relay_teardown(el, a, b, c, cri);
}

/* Charlie's first introducer (D, which A has a session with) does not
 * know the tag Charlie publishes for it (a stale introducer: D refuses,
 * code 5); A asks the next one, B, and gets through. */
static void test_relay_next_introducer(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct node *c = calloc(1, sizeof(*c)), *d = calloc(1, sizeof(*d));
	struct router_address_ssu2_intro in[2], two[2];
	struct router_info *cri = relay_setup(t, el, a, b, c, in);
	struct ssu2_stats sa, sb, sd;
	struct want w;

	d->caps = "4BC";
	node_start(t, d, el, NULL);
	a->peer3 = d->ri;
	send_many(t, a, d, 1, 1, size_1k);
	w = (struct want){ d, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	send_many(t, a, b, 2, 1, size_1k);
	w = (struct want){ b, 2 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	memcpy(two[0].h, router_info_hash(d->ri), 32);
	two[0].tag = in[0].tag ^ 0x5a5a;
	two[0].exp = in[0].exp;
	two[1] = in[0];
	router_info_free(cri);
	cri = fw_ri_caps(t, c, two, 2, "4");
	a->peer2 = cri;
	T_OK(t, transport_send(a->tm, router_info_hash(cri), mk_msg(7, 30000)));
	w = (struct want){ c, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	T_EQ(t, c->seen[7], 1);
	ssu2_stats(a->s, &sa);
	ssu2_stats(b->s, &sb);
	ssu2_stats(d->s, &sd);
	T_EQ(t, sa.relays_asked, 2);		/* D, then B */
	T_EQ(t, sa.relays_refused, 1);
	T_EQ(t, sa.relays_done, 1);
	T_EQ(t, sd.relays_forwarded, 0);
	T_EQ(t, sb.relays_forwarded, 1);
	node_stop(d);
	free(d);
	relay_teardown(el, a, b, c, cri);
}

/* Relay over IPv6: A, B (caps BC) and C on ::1 only; C (firewalled, its
 * address "6" with B as introducer) learnt its IPv6 address from B, A
 * its own likewise; A's Relay Request carries A's IPv6 address, C's
 * Relay Response C's, and the Hole Punch and A's SessionRequest go
 * between them over IPv6. */
static void test_relay_ipv6(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct node *c = calloc(1, sizeof(*c));
	struct router_address_ssu2_intro in[2];
	struct router_info *cri;
	struct router_address_ssu2 p;
	struct ssu2_stats sa, sb, sc;
	struct want w;
	uint8_t ip[16];
	size_t iplen;
	uint16_t port;

	a->host = b->host = c->host = "::1";
	a->caps = c->caps = "6";
	cri = relay_setup(t, el, a, b, c, in);
	T_TRUE(t, ssu2_external_address_family(c->s, AF_INET6, ip, &iplen,
					       &port));
	router_info_free(cri);
	cri = fw_ri_caps(t, c, in, 1, "6");
	T_OK(t, router_address_ssu2_parse(router_info_address(cri, 0), &p));
	T_EQ(t, p.family, AF_INET6);
	a->peer2 = cri;
	send_many(t, a, b, 1, 1, size_1k);
	w = (struct want){ b, 2 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	T_OK(t, transport_send(a->tm, router_info_hash(cri), mk_msg(7, 30000)));
	w = (struct want){ c, 1 };
	T_TRUE(t, run_until(el, got_n, &w, 30000));
	T_EQ(t, c->seen[7], 1);
	ssu2_stats(a->s, &sa);
	ssu2_stats(b->s, &sb);
	ssu2_stats(c->s, &sc);
	T_EQ(t, sa.relays_asked, 1);
	T_EQ(t, sb.relays_forwarded, 1);
	T_EQ(t, sc.relays_answered, 1);
	T_EQ(t, sa.relays_done, 1);
	T_EQ(t, sa.hole_punches, 1);
	T_EQ(t, sc.established_in, 1);		/* from A */
	relay_teardown(el, a, b, c, cri);
}

/* ---- a peer played by the test on a bare socket ---- */

struct fake {
	int fd;
	struct event *ev;
	uint8_t pkt[8][2048];
	size_t len[8];
	unsigned n;		/* packets received (the first 8 kept) */
};

static void fake_read(evutil_socket_t fd, short w, void *arg)
{
	struct fake *f = arg;
	uint8_t buf[2048];
	ssize_t n;

	(void)w;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		if (f->n < 8) {
			memcpy(f->pkt[f->n], buf, (size_t)n);
			f->len[f->n] = (size_t)n;
		}
		f->n++;
	}
}

static bool fake_got(void *arg)
{
	struct want *w = arg;

	return ((struct fake *)(void *)w->nd)->n >= w->n;
}

static bool retried(void *arg)
{
	struct ssu2_stats st;

	ssu2_stats(((struct node *)arg)->s, &st);
	return st.retries_received >= 1;
}

/* A Retry (or SessionCreated) is protected with the peer's intro key, so
 * peeling it with our own key gives a random type byte: once in 128 it
 * reads as Peer Test or Hole Punch.  Bob (the test, on a bare socket)
 * answers A's Token Request with a Retry chosen so that it does: A must
 * still take it, because the type byte means nothing until the AEAD
 * agrees.  (Every resend is the same bytes, so dropping it would fail the
 * whole handshake.) */
static void retry_misread(struct tctx *t, uint8_t as_type)
{
	struct evloop *el = evloop_new();
	struct node *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct fake f = { 0 };
	struct ssu2_long_hdr req, h;
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint8_t pkt[SSU2_MAX_PACKET_BYTES], c[SSU2_MAX_PACKET_BYTES];
	const uint8_t lo[4] = { 127, 0, 0, 1 };
	struct want w;
	size_t len = 0;
	uint16_t port;
	uint32_t pn;
	bool found = false;

	node_start(t, a, el, NULL);
	node_start(t, b, el, NULL);
	f.fd = udp_socket(&port);
	T_TRUE(t, f.fd >= 0);
	f.ev = event_new(evloop_base(el), f.fd, EV_READ | EV_PERSIST,
			 fake_read, &f);
	event_add(f.ev, NULL);
	via_relay(t, a, b, NULL, port);
	T_OK(t, transport_send(a->tm, router_info_hash(b->ri), mk_msg(0, 100)));
	w = (struct want){ (struct node *)(void *)&f, 1 };
	T_TRUE(t, run_until(el, fake_got, &w, 10000));
	memcpy(c, f.pkt[0], f.len[0]);
	ssu2_hp_part1(c, f.len[0], b->ik);
	ssu2_hp_part2(c, f.len[0], b->ik);
	ssu2_hp_long(c, f.len[0], b->ik, 16);
	ssu2_long_hdr_decode(c, &req);
	T_EQ(t, req.type, SSU2_TOKEN_REQUEST);
	for (pn = 1; pn < 100000 && !found; pn++) {
		struct bbuf pl = BBUF_INIT;

		h = (struct ssu2_long_hdr){
			.dst_id = req.src_id, .src_id = req.dst_id,
			.type = SSU2_RETRY, .ver = SSU2_VERSION,
			.netid = NETID, .token = 0x1122334455667788ull,
			.pkt_num = pn,
		};
		ssu2_blk_put_datetime(&pl, (uint32_t)time_now_s());
		ssu2_blk_put_address(&pl, lo, 4, ssu2_port(a->s));
		ssu2_blk_put_padding(&pl, 5);
		T_OK(t, ssu2_oos_encrypt(&h, b->ik, pl.data, pl.len, pkt,
					 sizeof(pkt), &len));
		bbuf_free(&pl);
		memcpy(c, pkt, len);
		ssu2_hp_part1(c, len, a->ik);
		ssu2_hp_part2(c, len, a->ik);
		found = c[12] == as_type;
	}
	T_TRUE(t, found);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons(ssu2_port(a->s));
	T_EQ(t, sendto(f.fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)),
	     (ssize_t)len);
	T_TRUE(t, run_until(el, retried, a, 10000));
	/* ...and answers with a SessionRequest carrying the token. */
	w = (struct want){ (struct node *)(void *)&f, 2 };
	T_TRUE(t, run_until(el, fake_got, &w, 10000));
	memcpy(c, f.pkt[1], f.len[1]);
	ssu2_hp_part1(c, f.len[1], b->ik);
	ssu2_hp_part2(c, f.len[1], b->ik);
	T_EQ(t, c[12], SSU2_SESSION_REQUEST);
	ssu2_hp_long(c, f.len[1], b->ik, 48);
	ssu2_long_hdr_decode(c, &h);
	T_EQ(t, h.token, 0x1122334455667788ull);
	event_free(f.ev);
	close(f.fd);
	nodes_free(el, (struct node *[]){ a, b }, 2);
}

static void test_retry_reads_as_peer_test(struct tctx *t)
{
	retry_misread(t, SSU2_PEER_TEST);
}

static void test_retry_reads_as_hole_punch(struct tctx *t)
{
	retry_misread(t, SSU2_HOLE_PUNCH);
}

const struct test_case router_ssu2_tests[] = {
	{ "relay", test_relay, TT_FORK },
	{ "relay_dials_introducer", test_relay_dials_introducer, TT_FORK },
	{ "relay_next_introducer", test_relay_next_introducer, TT_FORK },
	{ "relay_ipv6", test_relay_ipv6, TT_FORK },
	{ "peer_test_reachable", test_peer_test_reachable, TT_FORK },
	{ "peer_test_firewalled", test_peer_test_firewalled, TT_FORK },
	{ "peer_test_charlie_connected", test_peer_test_charlie_connected,
	  TT_FORK },
	{ "peer_test_charlie_recent", test_peer_test_charlie_recent, TT_FORK },
	{ "peer_test_charlie_was_alice", test_peer_test_charlie_was_alice,
	  TT_FORK },
	{ "peer_test_ipv6", test_peer_test_ipv6, TT_FORK },
	{ "peer_test_no_charlie", test_peer_test_no_charlie, TT_FORK },
	{ "intro_auto", test_intro_auto, TT_FORK },
	{ "intro_family", test_intro_family, TT_FORK },
	{ "both_ways", test_both_ways, TT_FORK },
	{ "packing", test_packing, TT_FORK },
	{ "sent_ring", test_sent_ring, TT_FORK },
	{ "reasm_limits", test_reasm_limits, TT_FORK },
	{ "ri_blocks", test_ri_blocks, TT_FORK },
	{ "ipv6", test_ipv6, TT_FORK },
	{ "one_per_router", test_one_per_router, TT_FORK },
	{ "loss_5", test_loss_5, TT_FORK },
	{ "loss_20", test_loss_20, TT_FORK },
	{ "migration", test_migration, TT_FORK },
	{ "bad_input", test_bad_input, TT_FORK },
	{ "dial_unanswered", test_dial_unanswered, TT_FORK },
	{ "pending_per_ip", test_pending_per_ip, TT_FORK },
	{ "pending_per_ip_default", test_pending_per_ip_default, TT_FORK },
	{ "shutdown_then_free", test_shutdown_then_free, TT_FORK },
	{ "retry_reads_as_peer_test", test_retry_reads_as_peer_test, TT_FORK },
	{ "retry_reads_as_hole_punch", test_retry_reads_as_hole_punch,
	  TT_FORK },
	{ "address", test_address, 0 },
	{ NULL, NULL, 0 }
};
