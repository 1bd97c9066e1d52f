/*
 * router/ntcp2 + router/transport on loopback, in-process: two routers
 * exchanging 10,000 messages each way, simultaneous dials, keepalive and
 * idle timeout, shutdown.  The bad-input cases (garbage, truncated
 * handshakes, a replayed SessionRequest, a wrong netId, a skewed clock,
 * oversize and corrupt frames) drive a node from a raw socket in a client
 * thread, each in its own process so the log lines can be counted.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/router/test_ntcp2_client.h"
#include "tests/unit/router/tnode.h"
#include "router/evloop.h"
#include "router/ntcp2.h"
#include "router/ntcp2_frame.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/transport.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NMSG 10000

/* ---- two routers ---- */

struct pair {
	struct evloop *el;
	struct tnode a, b;
	uint32_t target;
};

static bool pair_start2(struct tctx *t, struct pair *p,
			void (*tweak_a)(struct ntcp2_config *),
			void (*tweak_b)(struct ntcp2_config *))
{
	p->el = evloop_new();
	if (!tnode_start(t, &p->a, p->el, tweak_a) ||
	    !tnode_start(t, &p->b, p->el, tweak_b))
		return false;
	tnode_know(&p->a, &p->b);
	tnode_know(&p->b, &p->a);
	return true;
}

static bool pair_start(struct tctx *t, struct pair *p,
		       void (*tweak)(struct ntcp2_config *))
{
	return pair_start2(t, p, tweak, tweak);
}

static void pair_stop(struct pair *p)
{
	tnode_stop(&p->a);
	tnode_stop(&p->b);
	evloop_free(p->el);
}

static bool both_up(void *arg)
{
	struct pair *p = arg;

	return transport_is_connected(p->a.tm, p->b.hash) &&
	       transport_is_connected(p->b.tm, p->a.hash);
}

static bool both_received(void *arg)
{
	struct pair *p = arg;

	return p->a.recv_count >= p->target && p->b.recv_count >= p->target;
}

static void test_exchange_10k(struct tctx *t)
{
	struct pair p;
	struct ntcp2_stats sa, sb;
	struct transport_stats ta;

	if (!pair_start(t, &p, NULL))
		goto out;
	/* One message opens the session; then 10,000 each way at once. */
	T_OK(t, transport_send(p.a.tm, p.b.hash, tnode_msg(0, 100)));
	T_TRUE(t, tnode_run_until(p.el, both_up, &p, 20000));
	for (uint32_t i = 0; i < NMSG; i++) {
		size_t len = 4 + (i * 7919u) % 3000;

		T_OK(t, transport_send(p.a.tm, p.b.hash, tnode_msg(i + 1, len)));
		T_OK(t, transport_send(p.b.tm, p.a.hash, tnode_msg(i, len)));
	}
	p.target = NMSG;
	p.b.recv_count--;	/* the opener */
	T_TRUE(t, tnode_run_until(p.el, both_received, &p, 120000));
	T_EQ(t, p.a.recv_count, NMSG);
	T_EQ(t, p.b.recv_count, NMSG);
	T_EQ(t, p.a.recv_bad, 0);	/* none reordered, none corrupt */
	T_EQ(t, p.b.recv_bad, 0);
	T_EQ(t, p.a.next_seq, NMSG);
	T_EQ(t, p.b.next_seq, NMSG + 1);
	ntcp2_stats(p.a.n, &sa);
	ntcp2_stats(p.b.n, &sb);
	T_EQ(t, sa.sessions, 1);		/* one session per peer */
	T_EQ(t, sb.sessions, 1);
	T_EQ(t, sa.established_out, 1);
	T_EQ(t, sb.established_in, 1);
	T_EQ(t, sa.hs_failed + sb.hs_failed, 0);
	/* RouterInfos flowed both ways: A's in message 3, B's first frame */
	T_EQ(t, p.a.ri_stored, 1);
	T_EQ(t, p.b.ri_stored, 1);
	transport_mgr_stats(p.a.tm, &ta);
	T_EQ(t, ta.msgs_out, NMSG + 1);
	T_EQ(t, ta.msgs_in, NMSG);
	T_EQ(t, ta.msgs_dropped, 0);
	T_TRUE(t, ta.bytes_out > (uint64_t)NMSG * 1500);
	T_TRUE(t, ta.rate_out_bps > 0);
out:
	pair_stop(&p);
}

static bool a_got_one(void *arg);

/* IPv6: listen on ::1, publish it, dial it. */
static void test_ipv6(struct tctx *t)
{
	struct pair p;
	struct ntcp2_stats sb;

	p.el = evloop_new();
	if (!tnode_start_on(t, &p.a, p.el, NULL, "::1") ||
	    !tnode_start_on(t, &p.b, p.el, NULL, "::1"))
		goto out;
	tnode_know(&p.a, &p.b);
	tnode_know(&p.b, &p.a);
	T_OK(t, transport_send(p.a.tm, p.b.hash, tnode_msg(0, 10)));
	T_TRUE(t, tnode_run_until(p.el, a_got_one, &p, 20000));
	p.b.recv_count = 0;
	p.b.next_seq = 0;
	for (uint32_t i = 0; i < 500; i++) {
		T_OK(t, transport_send(p.a.tm, p.b.hash, tnode_msg(i, 700)));
		T_OK(t, transport_send(p.b.tm, p.a.hash, tnode_msg(i, 900)));
	}
	p.target = 500;
	T_TRUE(t, tnode_run_until(p.el, both_received, &p, 20000));
	T_EQ(t, p.a.recv_bad + p.b.recv_bad, 0);
	ntcp2_stats(p.b.n, &sb);
	T_EQ(t, sb.established_in, 1);
	T_EQ(t, sb.sessions, 1);
	T_EQ(t, ntcp2_listen_port(p.b.n, AF_INET), 0);
	T_EQ(t, ntcp2_listen_port(p.b.n, AF_INET6), p.b.port);
out:
	pair_stop(&p);
}

/* Both dial at once: both keep the session dialled by the smaller hash. */
static void count_only(struct tnode *tn, const uint8_t *peer,
		       struct i2np_msg *m)
{
	(void)tn;
	(void)peer;
	i2np_msg_free(m);
}

static bool settled(void *arg)
{
	struct pair *p = arg;
	struct ntcp2_stats sa, sb;

	ntcp2_stats(p->a.n, &sa);
	ntcp2_stats(p->b.n, &sb);
	return both_up(p) && sa.sessions == 1 && sb.sessions == 1;
}

static int g_inbound;
static bool g_a_smaller;

static void note_dir(void *arg, const uint8_t peer[32], bool inbound)
{
	(void)arg;
	(void)peer;
	g_inbound = inbound;
}

static void test_simultaneous_dial(struct tctx *t)
{
	struct pair p;
	struct ntcp2_stats sa, sb;

	if (!pair_start(t, &p, NULL))
		goto out;
	p.a.on_recv = p.b.on_recv = count_only;
	T_OK(t, transport_send(p.a.tm, p.b.hash, tnode_msg(0, 50)));
	T_OK(t, transport_send(p.b.tm, p.a.hash, tnode_msg(0, 50)));
	T_TRUE(t, tnode_run_until(p.el, settled, &p, 20000));
	ntcp2_stats(p.a.n, &sa);
	ntcp2_stats(p.b.n, &sb);
	/* the one that stays was dialled by the smaller hash */
	g_a_smaller = memcmp(p.a.hash, p.b.hash, 32) < 0;
	g_inbound = -1;
	transport_mgr_foreach_peer(p.a.tm, note_dir, NULL);
	T_EQ(t, g_inbound, !g_a_smaller);
	g_inbound = -1;
	transport_mgr_foreach_peer(p.b.tm, note_dir, NULL);
	T_EQ(t, g_inbound, g_a_smaller);
	/* the other one was kept as a spare for a grace period, then closed */
	T_TRUE(t, sa.terminations_sent + sb.terminations_sent >= 1);
	/* and it carries traffic afterwards, in order */
	p.a.on_recv = p.b.on_recv = NULL;
	p.a.recv_count = p.b.recv_count = 0;
	for (uint32_t i = 0; i < 100; i++) {
		T_OK(t, transport_send(p.a.tm, p.b.hash, tnode_msg(i, 200)));
		T_OK(t, transport_send(p.b.tm, p.a.hash, tnode_msg(i, 200)));
	}
	p.target = 100;
	T_TRUE(t, tnode_run_until(p.el, both_received, &p, 20000));
	T_EQ(t, p.a.recv_bad + p.b.recv_bad, 0);
out:
	pair_stop(&p);
}

static void short_timers(struct ntcp2_config *c)
{
	c->keepalive_ms = 100;
	c->idle_timeout_ms = 1500;
}

/* A waits longer, so it hears B's Termination. */
static void longer_idle(struct ntcp2_config *c)
{
	c->keepalive_ms = 100;
	c->idle_timeout_ms = 6000;
}

static bool a_got_one(void *arg)
{
	struct pair *p = arg;

	return p->b.recv_count >= 1 && both_up(p);
}

static bool both_down(void *arg)
{
	struct pair *p = arg;

	return p->a.peer_downs >= 1 && p->b.peer_downs >= 1;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

static void test_keepalive_and_idle(struct tctx *t)
{
	struct pair p;
	struct ntcp2_stats sa, sb;
	uint64_t t0;

	if (!pair_start2(t, &p, longer_idle, short_timers))
		goto out;
	T_OK(t, transport_send(p.a.tm, p.b.hash, tnode_msg(0, 10)));
	T_TRUE(t, tnode_run_until(p.el, a_got_one, &p, 20000));
	ntcp2_stats(p.b.n, &sb);
	t0 = sb.frames_in;
	/* quiet for 800 ms: keepalives flow, the session stays */
	T_FALSE(t, tnode_run_until(p.el, never, NULL, 800));
	T_TRUE(t, both_up(&p));
	ntcp2_stats(p.b.n, &sb);
	T_TRUE(t, sb.frames_in >= t0 + 4);
	/* B: no I2NP for 1.5 s, idle timeout, Termination reason 2 */
	T_TRUE(t, tnode_run_until(p.el, both_down, &p, 4000));
	ntcp2_stats(p.a.n, &sa);
	ntcp2_stats(p.b.n, &sb);
	T_EQ(t, sb.terminations_sent, 1);
	T_EQ(t, sa.terminations_received, 1);
	T_EQ(t, sa.last_term_reason, NTCP2_TERM_IDLE);
out:
	pair_stop(&p);
}

static void quick_trim(struct ntcp2_config *c)
{
	c->trim_ms = 200;
}

struct trim_watch {
	struct pair *p;
	size_t max_a, max_b;
};

static size_t buffer_bytes(const struct tnode *nd)
{
	struct ntcp2_stats s;

	ntcp2_stats(nd->n, &s);
	return s.buffer_bytes;
}

static bool burst_received(void *arg)
{
	struct trim_watch *w = arg;
	size_t a = buffer_bytes(&w->p->a), b = buffer_bytes(&w->p->b);

	w->max_a = a > w->max_a ? a : w->max_a;
	w->max_b = b > w->max_b ? b : w->max_b;
	return w->p->b.recv_count >= w->p->target;
}

static bool a_received(void *arg)
{
	return ((struct pair *)arg)->a.recv_count >= 1;
}

/* One session each, its buffers gone. */
static bool buffers_back(void *arg)
{
	struct pair *p = arg;

	return buffer_bytes(&p->a) == 0 && buffer_bytes(&p->b) == 0;
}

/* A burst grows the sender's output buffer and the receiver's input
 * buffer; once the session idles they go (an idle session holds none),
 * and the session still carries messages, both ways. */
static void test_buffers_trimmed(struct tctx *t)
{
	struct pair p;
	struct trim_watch w = { &p, 0, 0 };

	if (!pair_start(t, &p, quick_trim))
		goto out;
	T_OK(t, transport_send(p.a.tm, p.b.hash, tnode_msg(0, 100)));
	T_TRUE(t, tnode_run_until(p.el, both_up, &p, 20000));
	for (uint32_t i = 0; i < 2000; i++)
		T_OK(t, transport_send(p.a.tm, p.b.hash,
				       tnode_msg(i + 1, 3000)));
	p.target = 2001;
	T_TRUE(t, tnode_run_until(p.el, burst_received, &w, 60000));
	/* A's output past NTCP2_OUTBUF_HIGH_BYTES, B's input doubled */
	T_TRUE(t, w.max_a >= NTCP2_OUTBUF_HIGH_BYTES);
	T_TRUE(t, w.max_b >= 3 * 16 * 1024);
	T_TRUE(t, tnode_run_until(p.el, buffers_back, &p, 5000));
	T_OK(t, transport_send(p.a.tm, p.b.hash, tnode_msg(2001, 3000)));
	p.target = 2002;
	T_TRUE(t, tnode_run_until(p.el, burst_received, &w, 20000));
	T_EQ(t, p.b.recv_bad, 0);
	T_TRUE(t, tnode_run_until(p.el, buffers_back, &p, 5000));
	T_OK(t, transport_send(p.b.tm, p.a.hash, tnode_msg(0, 3000)));
	T_TRUE(t, tnode_run_until(p.el, a_received, &p, 20000));
	T_EQ(t, p.a.recv_bad, 0);
out:
	pair_stop(&p);
}

static void test_shutdown_reason(struct tctx *t)
{
	struct pair p;
	struct ntcp2_stats sb;

	if (!pair_start(t, &p, NULL))
		goto out;
	T_OK(t, transport_send(p.a.tm, p.b.hash, tnode_msg(0, 10)));
	T_TRUE(t, tnode_run_until(p.el, a_got_one, &p, 20000));
	ntcp2_shutdown(p.a.n);
	T_TRUE(t, tnode_run_until(p.el, both_down, &p, 10000));
	ntcp2_stats(p.b.n, &sb);
	T_EQ(t, sb.terminations_received, 1);
	T_EQ(t, sb.last_term_reason, NTCP2_TERM_SHUTDOWN);
	/* a shut-down transport neither dials nor accepts */
	T_ERR(t, transport_send(p.a.tm, p.b.hash, tnode_msg(1, 10)),
	      ERR_BAD_STATE);
out:
	pair_stop(&p);
}

static bool b_down(void *arg)
{
	return ((struct pair *)arg)->b.peer_downs >= 1;
}

/* Freed with the loop stopped (daemon exit): still a Termination. */
static void test_free_says_goodbye(struct tctx *t)
{
	struct pair p;
	struct ntcp2_stats sb;

	if (!pair_start(t, &p, NULL))
		goto out;
	T_OK(t, transport_send(p.a.tm, p.b.hash, tnode_msg(0, 10)));
	T_TRUE(t, tnode_run_until(p.el, a_got_one, &p, 20000));
	ntcp2_free(p.a.n);
	p.a.n = NULL;
	T_TRUE(t, tnode_run_until(p.el, b_down, &p, 10000));
	ntcp2_stats(p.b.n, &sb);
	T_EQ(t, sb.terminations_received, 1);
	T_EQ(t, sb.last_term_reason, NTCP2_TERM_SHUTDOWN);
out:
	pair_stop(&p);
}

/* ---- a raw client against one node ---- */

static unsigned long g_info_lines, g_warn_lines;

static void count_sink(void *ctx, enum log_level level, enum log_domain d,
		       const char *func, const char *msg)
{
	(void)ctx;
	(void)func;
	if (level == LOG_INFO && d == LD_NTCP2 && !strstr(msg, "suppressed"))
		g_info_lines++;
	if (level >= LOG_WARN)
		g_warn_lines++;
}

struct client {
	struct tnode *b;		/* the node under attack */
	struct ntc_target target;	/* b's address and keys */
	struct tnode *a;		/* whose keys and RI the client uses */
	void (*fn)(struct client *c);
	/* results */
	int result;			/* what fn concluded, 0 = as expected */
	char why[160];
	uint64_t closed_after_ms;
	bool done;
};

static void cfail(struct client *c, const char *why)
{
	if (c->result == 0) {
		c->result = -1;
		snprintf(c->why, sizeof(c->why), "%s", why);
	}
}

static void *client_main(void *arg)
{
	struct client *c = arg;

	c->fn(c);
	c->done = true;
	evloop_break(c->b->el);
	return NULL;
}

static bool client_done_and_idle(void *arg)
{
	struct client *c = arg;
	struct ntcp2_stats s;

	ntcp2_stats(c->b->n, &s);
	return c->done && s.sessions == 0;
}

/* Run fn in a thread against a fresh node; then let the node settle. */
static bool run_client(struct tctx *t, struct client *c,
		       void (*fn)(struct client *))
{
	pthread_t th;
	bool ok;

	c->fn = fn;
	if (pthread_create(&th, NULL, client_main, c) != 0)
		return false;
	while (!c->done)
		(void)tnode_run_until(c->b->el, never, NULL, 200);
	pthread_join(th, NULL);
	ok = tnode_run_until(c->b->el, client_done_and_idle, c, 15000);
	T_TRUE(t, ok);
	if (c->result != 0)
		t_fail(t, __FILE__, __LINE__, "client: %s", c->why);
	return ok && c->result == 0;
}

static void probe_fast(struct ntcp2_config *cfg)
{
	cfg->probe_min_ms = 150;
	cfg->probe_max_ms = 300;
	cfg->probe_max_bytes = 64;
	cfg->handshake_timeout_ms = 3000;
	cfg->frame_timeout_ms = 1000;
}

struct attack {
	struct evloop *el;
	struct tnode a, b;
	struct client c;
	struct ntcp2_stats st;
};

static bool attack_start2(struct tctx *t, struct attack *at,
			  void (*tweak)(struct ntcp2_config *))
{
	memset(at, 0, sizeof(*at));
	log_set_sink(count_sink, NULL);
	log_set_level(LOG_INFO);
	at->el = evloop_new();
	if (!tnode_start(t, &at->b, at->el, tweak) ||
	    !tnode_start(t, &at->a, at->el, NULL))
		return false;
	at->c.a = &at->a;
	at->c.b = &at->b;
	if (ntc_target_from_ri(&at->c.target, at->b.ri, TNODE_NETID) != 0)
		return false;
	g_info_lines = g_warn_lines = 0;
	return true;
}

static bool attack_start(struct tctx *t, struct attack *at)
{
	return attack_start2(t, at, probe_fast);
}

static void attack_stop(struct attack *at)
{
	ntcp2_stats(at->b.n, &at->st);
	tnode_stop(&at->a);
	tnode_stop(&at->b);
	evloop_free(at->el);
	log_set_sink(NULL, NULL);
}

static void cl_garbage(struct client *c)
{
	uint8_t junk[64];
	int fd = ntc_connect(&c->target);
	int64_t ms;

	if (fd < 0)
		return;
	rand_bytes(junk, sizeof(junk));
	ntc_send(fd, junk, sizeof(junk));
	ms = ntc_wait_close(fd, NULL);
	if (ms < 0)
		cfail(c, "server never closed");
	c->closed_after_ms = (uint64_t)(ms < 0 ? 0 : ms);
	close(fd);
}

static void test_bad_garbage(struct tctx *t)
{
	struct attack at;

	if (attack_start(t, &at) && run_client(t, &at.c, cl_garbage)) {
		/* probing resistance: a random wait before the RST */
		T_TRUE(t, at.c.closed_after_ms >= 140);
	}
	attack_stop(&at);
	T_EQ(t, at.st.probes, 1);
	T_EQ(t, at.st.hs_failed, 1);
	T_EQ(t, g_info_lines, 1);
	T_EQ(t, g_warn_lines, 0);
	T_EQ(t, log_bug_count(), 0);
}

static void cl_truncated(struct client *c)
{
	struct ntcp2_hs hs;
	struct bbuf m1 = BBUF_INIT;
	int fd = ntc_connect(&c->target);

	if (fd < 0)
		return;
	ntc_request(&c->target, &c->a->cfg.st, &hs, TNODE_NETID, (uint32_t)time_now_s(), 100, &m1);
	ntc_send(fd, m1.data, 40);		/* then hang up */
	shutdown(fd, SHUT_WR);
	if (ntc_wait_close(fd, NULL) < 0)
		cfail(c, "server never closed");
	close(fd);
	/* and one that stops half-way and waits: the handshake timeout */
	fd = ntc_connect(&c->target);
	if (fd < 0)
		goto out;
	ntc_send(fd, m1.data, 40);
	if (ntc_wait_close(fd, NULL) < 0)
		cfail(c, "server never timed out");
	close(fd);
out:
	ntcp2_hs_wipe(&hs);
	bbuf_free(&m1);
}

static void test_bad_truncated(struct tctx *t)
{
	struct attack at;

	if (attack_start(t, &at))
		(void)run_client(t, &at.c, cl_truncated);
	attack_stop(&at);
	T_EQ(t, at.st.hs_failed, 2);
	T_EQ(t, at.st.probes, 0);
	T_EQ(t, g_info_lines, 1);	/* rate-limited: one site, 2 failures */
	T_EQ(t, g_warn_lines, 0);
}

static void cl_replay(struct client *c)
{
	struct ntcp2_hs hs;
	struct bbuf m1 = BBUF_INIT;
	uint8_t m2[64];
	int fd = ntc_connect(&c->target);

	if (fd < 0)
		return;
	ntc_request(&c->target, &c->a->cfg.st, &hs, TNODE_NETID, (uint32_t)time_now_s(), 100, &m1);
	ntc_send(fd, m1.data, m1.len);
	if (!ntc_read(fd, m2, sizeof(m2)))	/* accepted: SessionCreated */
		cfail(c, "first request not answered");
	close(fd);
	fd = ntc_connect(&c->target);
	if (fd < 0)
		goto out;
	ntc_send(fd, m1.data, m1.len);		/* the same bytes again */
	if (ntc_wait_close(fd, NULL) < 0)
		cfail(c, "replay not closed");
	close(fd);
out:
	ntcp2_hs_wipe(&hs);
	bbuf_free(&m1);
}

static void test_bad_replay(struct tctx *t)
{
	struct attack at;

	if (attack_start(t, &at))
		(void)run_client(t, &at.c, cl_replay);
	attack_stop(&at);
	T_EQ(t, at.st.replays, 1);
	T_EQ(t, at.st.probes, 1);
	T_EQ(t, g_warn_lines, 0);
}

static void cl_netid(struct client *c)
{
	struct ntcp2_hs hs;
	struct bbuf m1 = BBUF_INIT;
	size_t extra = 0;
	int fd = ntc_connect(&c->target);

	if (fd < 0)
		return;
	ntc_request(&c->target, &c->a->cfg.st, &hs, 5, (uint32_t)time_now_s(), 100, &m1);
	ntc_send(fd, m1.data, m1.len);
	if (ntc_wait_close(fd, &extra) < 0 || extra != 0)
		cfail(c, "wrong netId answered or not closed");
	close(fd);
	ntcp2_hs_wipe(&hs);
	bbuf_free(&m1);
}

static void test_bad_netid(struct tctx *t)
{
	struct attack at;

	if (attack_start(t, &at))
		(void)run_client(t, &at.c, cl_netid);
	attack_stop(&at);
	T_EQ(t, at.st.probes, 1);
	T_EQ(t, at.st.established_in, 0);
	T_EQ(t, g_info_lines, 1);
	T_EQ(t, g_warn_lines, 0);
}

static void cl_skew(struct client *c)
{
	struct ntcp2_hs hs;
	struct ntcp2_hs_options o;
	struct bbuf m1 = BBUF_INIT;
	uint8_t m2[64];
	uint32_t fake = (uint32_t)time_now_s() - 3600;
	int fd = ntc_connect(&c->target), r;

	if (fd < 0)
		return;
	ntc_request(&c->target, &c->a->cfg.st, &hs, TNODE_NETID, fake, 100, &m1);
	ntc_send(fd, m1.data, m1.len);
	/* Bob answers with his clock, then closes */
	if (!ntc_read(fd, m2, sizeof(m2))) {
		cfail(c, "no SessionCreated for a skewed clock");
		goto out;
	}
	r = ntcp2_hs_read_created(&hs, m2, fake, NULL, 0, &o);
	if (r != ERR_EXPIRED || ntcp2_hs_skew_s(&hs) < 3590)
		cfail(c, "SessionCreated did not carry Bob's clock");
	if (ntc_wait_close(fd, NULL) < 0)
		cfail(c, "not closed after the skew");
out:
	close(fd);
	ntcp2_hs_wipe(&hs);
	bbuf_free(&m1);
}

static void test_bad_skew(struct tctx *t)
{
	struct attack at;

	if (attack_start(t, &at))
		(void)run_client(t, &at.c, cl_skew);
	attack_stop(&at);
	T_EQ(t, at.st.skewed, 1);
	T_EQ(t, at.st.established_in, 0);
	T_EQ(t, g_info_lines, 1);
	T_EQ(t, g_warn_lines, 0);
}

static enum ntc_frame_attack g_fa;

static void cl_frames(struct client *c)
{
	const uint8_t *ri;
	size_t len;
	int got, want = ntc_expected_reason(g_fa);

	ri = router_info_bytes(c->a->ri, &len);
	got = ntc_frame_attack(&c->target, &c->a->cfg.st, ri, len, g_fa);
	if (got != want) {
		snprintf(c->why, sizeof(c->why), "termination %d, want %d",
			 got, want);
		c->result = -1;
	}
}

static void frame_attack(struct tctx *t, enum ntc_frame_attack fa)
{
	struct attack at;

	g_fa = fa;
	if (attack_start(t, &at))
		(void)run_client(t, &at.c, cl_frames);
	attack_stop(&at);
	T_EQ(t, at.st.established_in, 1);
	T_EQ(t, at.st.terminations_sent, 1);
	T_EQ(t, at.st.probes, fa == NTC_BAD_AEAD || fa == NTC_SHORT_LENGTH);
	T_EQ(t, g_info_lines, 1);
	T_EQ(t, g_warn_lines, 0);
	T_EQ(t, log_bug_count(), 0);
}

static void test_bad_oversize_block(struct tctx *t)
{
	frame_attack(t, NTC_OVERSIZE_I2NP);
}

static void test_bad_ri_block(struct tctx *t)
{
	frame_attack(t, NTC_OVERSIZE_RI);
}

static void test_bad_frame_aead(struct tctx *t)
{
	frame_attack(t, NTC_BAD_AEAD);
}

static void test_bad_frame_length(struct tctx *t)
{
	frame_attack(t, NTC_SHORT_LENGTH);
}

/* Many bad connections in a row leave nothing behind. */
static void cl_many(struct client *c)
{
	for (int i = 0; i < 200 && c->result == 0; i++) {
		uint8_t junk[200];
		int fd = ntc_connect(&c->target);

		if (fd < 0)
			return;
		rand_bytes(junk, sizeof(junk));
		/* short, hung up at once; or a bad request, read or not */
		ntc_send(fd, junk, (size_t)(i % 3 == 0 ? 30 : 64 + i % 100));
		if (i % 3 != 0 && i % 2 == 0)
			(void)ntc_wait_close(fd, NULL);
		close(fd);
	}
}

static void no_ban(struct ntcp2_config *cfg)
{
	probe_fast(cfg);
	cfg->probe_min_ms = 1;
	cfg->probe_max_ms = 20;
	cfg->max_pending_per_ip = 1000;
	cfg->max_pending = 1000;
	cfg->ban_ms = 0;
}

static void test_bad_many_no_growth(struct tctx *t)
{
	struct attack at;

	if (attack_start2(t, &at, no_ban))
		(void)run_client(t, &at.c, cl_many);
	attack_stop(&at);
	T_EQ(t, at.st.sessions, 0);
	T_EQ(t, at.st.pending_in, 0);
	T_EQ(t, at.st.hs_failed, 200);
	T_EQ(t, g_warn_lines, 0);
}

/* An address that keeps failing gets banned. */
static void cl_until_banned(struct client *c)
{
	for (int i = 0; i < 6; i++) {
		uint8_t junk[64] = { 0 };
		int fd = ntc_connect(&c->target);

		if (fd < 0)
			return;
		ntc_send(fd, junk, sizeof(junk));
		(void)ntc_wait_close(fd, NULL);
		close(fd);
	}
}

static void ban_fast(struct ntcp2_config *cfg)
{
	probe_fast(cfg);
	cfg->probe_min_ms = 1;
	cfg->probe_max_ms = 5;
	cfg->ban_failures = 3;
}

static void test_ban_after_failures(struct tctx *t)
{
	struct attack at;

	if (attack_start2(t, &at, ban_fast))
		(void)run_client(t, &at.c, cl_until_banned);
	attack_stop(&at);
	T_EQ(t, at.st.probes, 3);
	T_EQ(t, at.st.refused, 3);
}

/* Thirty connections with junk from one address, its handshake limit 1 a
 * minute (burst 10): ten handshakes start (and fail), twenty are closed
 * at accept, before any work, and the transport counts them. */
static void cl_thirty(struct client *c)
{
	for (int i = 0; i < 30; i++) {
		uint8_t junk[64];
		int fd = ntc_connect(&c->target);

		if (fd < 0)
			return;
		rand_bytes(junk, sizeof(junk));
		ntc_send(fd, junk, sizeof(junk));
		close(fd);
	}
}

static bool thirty_seen(void *arg)
{
	struct attack *at = arg;
	struct ntcp2_stats s;

	ntcp2_stats(at->b.n, &s);
	return s.refused + s.hs_failed >= 30 && s.pending_in == 0;
}

/* A peer that sends and never reads: once the output waiting for it has
 * gone untaken for write_stall_ms, the session is closed (its messages
 * would wait for the session's life, and it may keep the session alive
 * with its own I2NP). */
static volatile bool g_stall_stop;

static void cl_no_read(struct client *c)
{
	struct ntcp2_keys k;
	const uint8_t *ri;
	size_t len;
	int fd, small = 4096;

	ri = router_info_bytes(c->a->ri, &len);
	fd = ntc_handshake(&c->target, &c->a->cfg.st, ri, len, &k);
	memwipe(&k, sizeof(k));
	if (fd < 0) {
		cfail(c, "no handshake");
		return;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	while (!g_stall_stop)
		usleep(10 * 1000);
	close(fd);
}

static void *no_read_main(void *arg)
{
	struct client *c = arg;

	c->fn(c);
	c->done = true;
	return NULL;
}

static void stall_fast(struct ntcp2_config *cfg)
{
	cfg->write_stall_ms = 1000;
}

static bool b_stalled(void *arg)
{
	struct attack *at = arg;
	struct ntcp2_stats s;

	ntcp2_stats(at->b.n, &s);
	return s.write_stalls > 0 && s.sessions == 0;
}

static bool b_has_session(void *arg)
{
	struct attack *at = arg;
	struct ntcp2_stats s;

	ntcp2_stats(at->b.n, &s);
	return s.established_in > 0;
}

static void test_write_stall(struct tctx *t)
{
	struct attack at;
	pthread_t th;
	bool stalled = false;
	uint32_t seq = 0;

	g_stall_stop = false;
	if (!attack_start2(t, &at, stall_fast))
		goto out;
	at.c.fn = cl_no_read;
	T_TRUE(t, pthread_create(&th, NULL, no_read_main, &at.c) == 0);
	T_TRUE(t, tnode_run_until(at.el, b_has_session, &at, 15000));
	/* far more than the socket buffers take: the queue and the output
	 * fill, and nothing is taken */
	for (int round = 0; round < 200 && !stalled; round++) {
		for (int i = 0; i < 16; i++)
			(void)transport_send(at.b.tm, at.a.hash,
					     tnode_msg(seq++, 60000));
		stalled = tnode_run_until(at.el, b_stalled, &at, 50);
	}
	T_TRUE(t, stalled);
	g_stall_stop = true;
	pthread_join(th, NULL);
	T_EQ(t, at.c.result, 0);
out:
	attack_stop(&at);
	T_EQ(t, at.st.write_stalls, 1);
	T_EQ(t, g_warn_lines, 0);
}

static void test_handshake_rate(struct tctx *t)
{
	struct attack at;
	struct transport_limits lim;
	struct transport_stats ts = { 0 };

	if (attack_start2(t, &at, no_ban)) {
		transport_mgr_limits(at.b.tm, &lim);
		lim.handshakes_per_ip_min = 1;
		lim.handshakes_per_min = 600;
		transport_mgr_set_limits(at.b.tm, &lim);
		(void)run_client(t, &at.c, cl_thirty);
		T_TRUE(t, tnode_run_until(at.el, thirty_seen, &at, 15000));
		transport_mgr_stats(at.b.tm, &ts);
	}
	attack_stop(&at);
	T_EQ(t, at.st.hs_failed, 10);
	T_EQ(t, at.st.refused, 20);
	T_EQ(t, ts.handshakes_refused, 20);
	T_EQ(t, at.st.sessions, 0);
}

const struct test_case router_ntcp2_tests[] = {
	{ "exchange_10k", test_exchange_10k, TT_FORK },
	{ "simultaneous_dial", test_simultaneous_dial, TT_FORK },
	{ "ipv6", test_ipv6, TT_FORK },
	{ "keepalive_and_idle", test_keepalive_and_idle, TT_FORK },
	{ "buffers_trimmed", test_buffers_trimmed, TT_FORK },
	{ "shutdown_reason", test_shutdown_reason, TT_FORK },
	{ "free_says_goodbye", test_free_says_goodbye, TT_FORK },
	{ "bad_garbage", test_bad_garbage, TT_FORK },
	{ "bad_truncated", test_bad_truncated, TT_FORK },
	{ "bad_replay", test_bad_replay, TT_FORK },
	{ "bad_netid", test_bad_netid, TT_FORK },
	{ "bad_skew", test_bad_skew, TT_FORK },
	{ "bad_oversize_block", test_bad_oversize_block, TT_FORK },
	{ "bad_ri_block", test_bad_ri_block, TT_FORK },
	{ "bad_frame_aead", test_bad_frame_aead, TT_FORK },
	{ "bad_frame_length", test_bad_frame_length, TT_FORK },
	{ "bad_many_no_growth", test_bad_many_no_growth, TT_FORK },
	{ "handshake_rate", test_handshake_rate, TT_FORK },
	{ "write_stall", test_write_stall, TT_FORK },
	{ "ban_after_failures", test_ban_after_failures, TT_FORK },
	{ NULL, NULL, 0 }
};
