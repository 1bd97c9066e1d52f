/*
 * router/transport (the manager NTCP2 and later SSU2 plug into), driven
 * through a fake transport: connect on demand, queue caps and tail drop,
 * expiry on pull, back-off after a failed dial, the session limit, the
 * duplicate-session rule, the queue-low hook and the counters.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/evloop.h"
#include "router/i2np.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/transport.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A transport that records what the manager asks of it. */
struct fake {
	unsigned tid;
	int cost;			/* reach_cost answer */
	int connect_result;
	uint64_t next_id;
	unsigned connects, wakes, closes;
	uint64_t last_closed;
	enum transport_close last_why;
};

static int f_cost(void *impl, const struct router_info *ri)
{
	(void)ri;
	return ((struct fake *)impl)->cost;
}

static int f_connect(void *impl, const struct router_info *ri, uint64_t *id)
{
	struct fake *f = impl;

	(void)ri;
	f->connects++;
	if (f->connect_result)
		return f->connect_result;
	*id = ++f->next_id;
	return 0;
}

static void f_wake(void *impl, uint64_t id)
{
	(void)id;
	((struct fake *)impl)->wakes++;
}

static void f_close(void *impl, uint64_t id, enum transport_close why)
{
	struct fake *f = impl;

	f->closes++;
	f->last_closed = id;
	f->last_why = why;
}

static const struct transport_ops fake_ops = {
	.name = "FAKE", .reach_cost = f_cost, .connect = f_connect,
	.wake = f_wake, .close = f_close,
};

struct env {
	struct evloop *el;
	struct transport_mgr *tm;
	struct fake f;
	uint8_t self[32], peer[32], other[32];
	struct router_info *ri;		/* returned by lookup for any hash */
	unsigned lows, recvs, ups, downs, failed;
	uint8_t failed_peer[32];
};

static const struct router_info *h_lookup(void *ctx, const uint8_t *peer)
{
	struct env *e = ctx;

	return memcmp(peer, e->other, 32) == 0 ? NULL : e->ri;
}

static void h_recv(void *ctx, const uint8_t *peer, struct i2np_msg *m)
{
	(void)peer;
	((struct env *)ctx)->recvs++;
	i2np_msg_free(m);
}

static void h_failed(void *ctx, const uint8_t *peer)
{
	struct env *e = ctx;

	e->failed++;
	memcpy(e->failed_peer, peer, 32);
}

static void h_low(void *ctx, const uint8_t *peer)
{
	(void)peer;
	((struct env *)ctx)->lows++;
}

static void h_up(void *ctx, const uint8_t *peer, bool inbound)
{
	(void)peer;
	(void)inbound;
	((struct env *)ctx)->ups++;
}

static void h_down(void *ctx, const uint8_t *peer)
{
	(void)peer;
	((struct env *)ctx)->downs++;
}

static void env_init(struct env *e, const struct transport_limits *lim)
{
	struct router_keys *k = router_keys_new_random();
	struct keys_and_cert id;
	struct transport_hooks h = { .recv = h_recv, .lookup = h_lookup,
				     .queue_low = h_low, .peer_up = h_up,
				     .peer_down = h_down,
				     .peer_failed = h_failed };

	memset(e, 0, sizeof(*e));
	memset(e->self, 0x10, 32);
	memset(e->peer, 0x20, 32);
	memset(e->other, 0x30, 32);
	router_keys_identity(k, &id);
	e->ri = router_info_new(&id);	/* contents unused by the fake */
	router_keys_free(k);
	e->el = evloop_new();
	e->tm = transport_mgr_new(e->el, e->self, lim);
	h.ctx = e;
	transport_mgr_set_hooks(e->tm, &h);
	e->f.tid = transport_mgr_add(e->tm, &fake_ops, &e->f);
}

static void env_free(struct env *e)
{
	transport_mgr_free(e->tm);
	evloop_free(e->el);
	router_info_free(e->ri);
}

static struct i2np_msg *msg(size_t len)
{
	uint8_t *p = calloc(1, len ? len : 1);

	return i2np_msg_new_take(I2NP_DATA, p, len, 60000);
}

static void test_connect_on_demand(struct tctx *t)
{
	struct env e;
	struct transport_stats st;
	struct i2np_msg *m;

	env_init(&e, NULL);
	T_OK(t, transport_send(e.tm, e.peer, msg(100)));
	T_OK(t, transport_send(e.tm, e.peer, msg(200)));
	T_EQ(t, e.f.connects, 1);		/* one dial for both */
	T_EQ(t, transport_queued(e.tm, e.peer), 2);
	T_FALSE(t, transport_is_connected(e.tm, e.peer));
	/* the handshake completes: the queue is offered */
	T_OK(t, transport_conn_up(e.tm, e.f.tid, 1, e.peer, false));
	T_TRUE(t, transport_is_connected(e.tm, e.peer));
	T_EQ(t, e.ups, 1);
	T_EQ(t, e.f.wakes, 1);
	/* pulled in order, size-limited */
	T_TRUE(t, transport_conn_pull(e.tm, e.f.tid, 1, 50) == NULL);
	m = transport_conn_pull(e.tm, e.f.tid, 1, 1000);
	T_TRUE(t, m && m->len == 100);
	i2np_msg_free(m);
	m = transport_conn_pull(e.tm, e.f.tid, 1, 1000);
	T_TRUE(t, m && m->len == 200);
	i2np_msg_free(m);
	T_TRUE(t, transport_conn_pull(e.tm, e.f.tid, 1, 1000) == NULL);
	/* a pull for an unknown conn gets nothing */
	T_TRUE(t, transport_conn_pull(e.tm, e.f.tid, 99, 1000) == NULL);
	/* received messages go up; bytes are counted */
	transport_conn_recv(e.tm, e.f.tid, 1, msg(10));
	transport_conn_recv(e.tm, e.f.tid, 42, msg(10));	/* unknown: dropped */
	T_EQ(t, e.recvs, 1);
	transport_count_bytes(e.tm, 1000, 2000);
	transport_mgr_stats(e.tm, &st);
	T_EQ(t, st.msgs_out, 2);
	T_EQ(t, st.msgs_in, 1);
	T_TRUE(t, st.bytes_in == 1000 && st.bytes_out == 2000);
	T_EQ(t, st.sessions, 1);
	T_EQ(t, st.sessions_out, 1);
	T_TRUE(t, st.rate_out_bps > 0);
	/* down: the peer is gone */
	transport_conn_down(e.tm, e.f.tid, 1);
	T_FALSE(t, transport_is_connected(e.tm, e.peer));
	T_EQ(t, e.downs, 1);
	env_free(&e);
}

static void test_unreachable_peers(struct tctx *t)
{
	struct env e;
	struct transport_stats st;

	env_init(&e, NULL);
	T_ERR(t, transport_send(e.tm, e.other, msg(1)), ERR_NOT_FOUND);
	e.f.cost = -1;
	T_ERR(t, transport_send(e.tm, e.peer, msg(1)), ERR_UNSUPPORTED);
	e.f.cost = 0;
	e.f.connect_result = ERR_IO;
	T_ERR(t, transport_send(e.tm, e.peer, msg(1)), ERR_IO);
	/* that failure backs the peer off: no dial, no queueing */
	e.f.connect_result = 0;
	T_ERR(t, transport_send(e.tm, e.peer, msg(1)), ERR_BAD_STATE);
	T_EQ(t, e.f.connects, 1);
	transport_mgr_stats(e.tm, &st);
	T_EQ(t, st.msgs_dropped, 4);
	env_free(&e);
}

static void stop_loop(void *arg)
{
	evloop_break(arg);
}

/* A message to ourselves reaches the receive hook from the loop (as a
 * reply whose gateway is this router does), never inside the send. */
static void test_send_to_self(struct tctx *t)
{
	struct env e;
	struct transport_stats st;
	struct evloop_timer *stop;

	env_init(&e, NULL);
	stop = evloop_timer_new(e.el, stop_loop, e.el);
	T_OK(t, transport_send(e.tm, e.self, msg(1)));
	T_OK(t, transport_send(e.tm, e.self, msg(2)));
	T_EQ(t, e.recvs, 0);
	evloop_timer_arm(stop, 200);
	T_OK(t, evloop_run(e.el));
	evloop_timer_free(stop);
	T_EQ(t, e.recvs, 2);
	transport_mgr_stats(e.tm, &st);
	T_EQ(t, st.msgs_local, 2);
	T_EQ(t, st.msgs_dropped, 0);
	T_EQ(t, e.f.connects, 0);
	/* Freed with messages still queued to us: nothing leaks. */
	T_OK(t, transport_send(e.tm, e.self, msg(3)));
	env_free(&e);
}

static void test_failed_dial_drops_queue(struct tctx *t)
{
	struct env e;
	struct transport_stats st;

	env_init(&e, NULL);
	T_OK(t, transport_send(e.tm, e.peer, msg(10)));
	T_OK(t, transport_send(e.tm, e.peer, msg(10)));
	T_EQ(t, e.failed, 0);
	transport_conn_down(e.tm, e.f.tid, 1);	/* the dial failed */
	T_EQ(t, transport_queued(e.tm, e.peer), 0);
	/* the layers above hear of it (tunnels leave the peer out) */
	T_EQ(t, e.failed, 1);
	T_MEMEQ(t, e.failed_peer, e.peer, 32);
	transport_mgr_stats(e.tm, &st);
	T_EQ(t, st.connect_failures, 1);
	T_EQ(t, st.msgs_dropped, 2);
	T_ERR(t, transport_send(e.tm, e.peer, msg(10)), ERR_BAD_STATE);
	env_free(&e);
}

static void test_queue_caps(struct tctx *t)
{
	struct env e;
	struct transport_limits lim;
	struct transport_stats st;
	uint8_t p2[32];

	transport_limits_default(&lim);
	lim.peer_queue_msgs = 3;
	lim.peer_queue_bytes = 1000;
	lim.total_queue_bytes = 1500;
	lim.queue_low_msgs = 1;
	env_init(&e, &lim);
	T_OK(t, transport_send(e.tm, e.peer, msg(100)));
	T_OK(t, transport_send(e.tm, e.peer, msg(100)));
	T_OK(t, transport_send(e.tm, e.peer, msg(100)));
	/* tail drop: the fourth message does not fit the count... */
	T_ERR(t, transport_send(e.tm, e.peer, msg(100)), ERR_LIMIT);
	T_EQ(t, transport_queued(e.tm, e.peer), 3);
	T_OK(t, transport_conn_up(e.tm, e.f.tid, 1, e.peer, false));
	i2np_msg_free(transport_conn_pull(e.tm, e.f.tid, 1, 1000));
	/* ...one over the peer's bytes does not fit either... */
	T_ERR(t, transport_send(e.tm, e.peer, msg(900)), ERR_LIMIT);
	/* ...and the total cap covers every peer */
	memset(p2, 0x21, 32);
	T_OK(t, transport_send(e.tm, p2, msg(900)));
	T_ERR(t, transport_send(e.tm, p2, msg(500)), ERR_LIMIT);
	transport_mgr_stats(e.tm, &st);
	T_EQ(t, st.queued_msgs, 3);
	T_EQ(t, st.queued_bytes, 1100);
	T_EQ(t, st.msgs_dropped, 3);
	/* draining to the low-water mark fires the hook once */
	i2np_msg_free(transport_conn_pull(e.tm, e.f.tid, 1, 1000));
	T_EQ(t, e.lows, 1);
	i2np_msg_free(transport_conn_pull(e.tm, e.f.tid, 1, 1000));
	T_EQ(t, e.lows, 1);
	env_free(&e);
}

static void test_expired_dropped_on_pull(struct tctx *t)
{
	struct env e;
	struct transport_stats st;
	struct i2np_msg *old = msg(10), *m;

	env_init(&e, NULL);
	old->expiration_ms = time_now_ms() - 120000;	/* long gone */
	T_OK(t, transport_send(e.tm, e.peer, old));
	T_OK(t, transport_send(e.tm, e.peer, msg(20)));
	T_OK(t, transport_conn_up(e.tm, e.f.tid, 1, e.peer, false));
	m = transport_conn_pull(e.tm, e.f.tid, 1, 1000);
	T_TRUE(t, m && m->len == 20);
	i2np_msg_free(m);
	transport_mgr_stats(e.tm, &st);
	T_EQ(t, st.msgs_dropped, 1);
	env_free(&e);
}

/* A session that takes nothing (a peer that never reads): what waits
 * for it goes when it expires, not when the session ends.  A send to
 * the peer drops its queue's expired head; a send past the total cap
 * looks at every queue. */
static void test_expired_dropped_unpulled(struct tctx *t)
{
	struct env e;
	struct transport_limits lim;
	struct transport_stats st;
	struct i2np_msg *m;
	uint8_t p2[32];

	transport_limits_default(&lim);
	lim.total_queue_bytes = 1000;
	env_init(&e, &lim);
	T_OK(t, transport_send(e.tm, e.peer, msg(10)));	/* the dial */
	T_OK(t, transport_conn_up(e.tm, e.f.tid, 1, e.peer, false));
	i2np_msg_free(transport_conn_pull(e.tm, e.f.tid, 1, 1000));
	for (int i = 0; i < 4; i++) {
		m = msg(200);
		m->expiration_ms = time_now_ms() - I2NP_EXPIRY_PAST_MS - 1;
		T_OK(t, transport_send(e.tm, e.peer, m));
	}
	T_EQ(t, transport_queued(e.tm, e.peer), 1);	/* each drops the last */
	m = msg(200);
	m->expiration_ms = time_now_ms() - I2NP_EXPIRY_PAST_MS - 1;
	T_OK(t, transport_send(e.tm, e.peer, m));
	T_OK(t, transport_send(e.tm, e.peer, msg(100)));
	T_EQ(t, transport_queued(e.tm, e.peer), 1);
	transport_mgr_stats(e.tm, &st);
	T_EQ(t, st.msgs_expired, 5);
	T_EQ(t, st.queued_bytes, 100);
	/* another peer's expired messages make room under the total */
	memset(p2, 0x21, 32);
	for (int i = 0; i < 4; i++) {
		m = msg(200);
		/* past expiry (and the skew allowed) in 50 ms */
		m->expiration_ms = time_now_ms() - I2NP_EXPIRY_PAST_MS + 50;
		T_OK(t, transport_send(e.tm, p2, m));
	}
	T_ERR(t, transport_send(e.tm, e.peer, msg(300)), ERR_LIMIT);
	usleep(100 * 1000);
	T_OK(t, transport_send(e.tm, e.peer, msg(300)));
	T_EQ(t, transport_queued(e.tm, p2), 0);
	transport_mgr_stats(e.tm, &st);
	T_EQ(t, st.msgs_expired, 9);
	T_EQ(t, st.queued_bytes, 400);
	env_free(&e);
}

static void test_session_limit(struct tctx *t)
{
	struct env e;
	struct transport_limits lim;
	uint8_t p2[32];

	transport_limits_default(&lim);
	lim.max_sessions = 1;
	env_init(&e, &lim);
	memset(p2, 0x21, 32);
	T_OK(t, transport_send(e.tm, e.peer, msg(1)));
	T_FALSE(t, transport_may_accept(e.tm));
	T_ERR(t, transport_send(e.tm, p2, msg(1)), ERR_LIMIT);
	T_ERR(t, transport_conn_up(e.tm, e.f.tid, 77, p2, true), ERR_LIMIT);
	env_free(&e);
}

/* Two sessions to one peer: keep the one dialled by the smaller hash. */
static void test_duplicate_rule(struct tctx *t)
{
	struct env e;
	uint8_t small[32], big[32];

	env_init(&e, NULL);			/* self = 0x10... */
	memset(small, 0x01, 32);		/* smaller than us */
	memset(big, 0xf0, 32);			/* bigger than us */
	/* big: ours (outbound) up first, theirs (inbound) second -> ours
	 * carries traffic; theirs stays open as the spare, receiving */
	T_OK(t, transport_send(e.tm, big, msg(1)));
	T_OK(t, transport_conn_up(e.tm, e.f.tid, 1, big, false));
	T_OK(t, transport_conn_up(e.tm, e.f.tid, 50, big, true));
	T_EQ(t, e.ups, 1);			/* one peer_up per peer */
	T_EQ(t, e.f.closes, 0);
	transport_conn_recv(e.tm, e.f.tid, 50, msg(7));
	T_EQ(t, e.recvs, 1);			/* the spare delivers */
	T_TRUE(t, transport_conn_pull(e.tm, e.f.tid, 50, 1000) == NULL);
	{
		struct i2np_msg *m1 = transport_conn_pull(e.tm, e.f.tid, 1,
							 1000);

		T_TRUE(t, m1 != NULL);
		i2np_msg_free(m1);
	}
	/* The peer kept the spare (as i2pd keeps the older session):
	 * traffic moves over, no peer_down. */
	transport_conn_down(e.tm, e.f.tid, 1);
	T_TRUE(t, transport_is_connected(e.tm, big));
	T_EQ(t, e.downs, 0);
	T_OK(t, transport_send(e.tm, big, msg(2)));
	{
		struct i2np_msg *m2 = transport_conn_pull(e.tm, e.f.tid, 50,
							 1000);

		T_TRUE(t, m2 && m2->len == 2);
		i2np_msg_free(m2);
	}
	transport_conn_down(e.tm, e.f.tid, 50);
	T_FALSE(t, transport_is_connected(e.tm, big));
	T_EQ(t, e.downs, 1);
	/* small: theirs wins and ours becomes the spare; a third session
	 * replaces the spare, which is closed */
	T_OK(t, transport_send(e.tm, small, msg(1)));
	T_OK(t, transport_conn_up(e.tm, e.f.tid, 2, small, false));
	T_OK(t, transport_conn_up(e.tm, e.f.tid, 51, small, true));
	T_EQ(t, e.f.closes, 0);
	T_OK(t, transport_conn_up(e.tm, e.f.tid, 52, small, true));
	T_EQ(t, e.f.last_closed, 2);
	T_EQ(t, e.f.last_why, TRANSPORT_CLOSE_DUPLICATE);
	transport_conn_down(e.tm, e.f.tid, 2);		/* no effect now */
	T_TRUE(t, transport_is_connected(e.tm, small));
	/* and the queue follows the peer, not the session: what was
	 * queued while dialling goes out on the winner */
	T_OK(t, transport_send(e.tm, small, msg(33)));
	struct i2np_msg *m = transport_conn_pull(e.tm, e.f.tid, 51, 1000);
	T_TRUE(t, m && m->len == 1);
	i2np_msg_free(m);
	m = transport_conn_pull(e.tm, e.f.tid, 51, 1000);
	T_TRUE(t, m && m->len == 33);
	i2np_msg_free(m);
	/* close_all asks every session to go, with "shutdown" */
	e.f.closes = 0;
	transport_mgr_close_all(e.tm);
	T_EQ(t, e.f.closes, 2);
	T_EQ(t, e.f.last_why, TRANSPORT_CLOSE_SHUTDOWN);
	env_free(&e);
}

const struct test_case router_ntcp2_transport_tests[] = {
	{ "connect_on_demand", test_connect_on_demand, 0 },
	{ "send_to_self", test_send_to_self, 0 },
	{ "unreachable_peers", test_unreachable_peers, 0 },
	{ "failed_dial_drops_queue", test_failed_dial_drops_queue, 0 },
	{ "queue_caps", test_queue_caps, 0 },
	{ "expired_dropped_on_pull", test_expired_dropped_on_pull, 0 },
	{ "expired_dropped_unpulled", test_expired_dropped_unpulled, 0 },
	{ "session_limit", test_session_limit, 0 },
	{ "duplicate_rule", test_duplicate_rule, 0 },
	{ NULL, NULL, 0 }
};
