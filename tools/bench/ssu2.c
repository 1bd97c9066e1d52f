/*
 * SSU2 bulk benchmark (run through tools/bench/ssu2, which builds this
 * against a build tree): two routers in two processes on 127.0.0.1 (SSU2
 * allows loopback by config here; i2pd would not), the sender pushing 1 KiB
 * I2NP Data messages over one SSU2 session, the receiver counting them.
 * Prints one line:
 *   msgs=N bytes=B seconds=S cpu_s=C lost=L reordered=R resent=F
 *   pkts_tx=P pkts_rx=Q
 * where bytes counts I2NP bodies, seconds runs from the first message
 * received to the last, cpu_s is user+system time of both processes, and
 * reordered counts messages that arrived after a later one (SSU2 does not
 * promise order), resent the sender's retransmitted fragments, pkts_tx
 * and pkts_rx the datagrams the sender and the receiver sent (data, and
 * the receiver's ACKs).
 *
 *   ssu2-bench [MESSAGES]       (default 200000)
 */
#include "config.h"
#include "router/conf.h"
#include "router/evloop.h"
#include "router/i2np.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "router/ssu2.h"
#include "router/transport.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/init.h"
#include "crypto/keystore.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSG_BYTES 1024
#define WINDOW_MSGS 512

static uint8_t template_body[MSG_BYTES];

struct node {
	struct evloop *el;
	struct router_keys *keys;
	struct router_info *ri, *peer;
	struct transport_mgr *tm;
	struct ssu2 *n;
	uint8_t hash[32], peer_hash[32];
	/* sender */
	uint64_t total, sent;
	/* receiver */
	uint64_t got, lost, reordered;
	uint32_t next;
	uint64_t t_first, t_last;
};

/* A message with a sequential id (i2np_msg_new() draws a random id from
 * the kernel for each message, which would dominate this benchmark). */
static struct i2np_msg *make_msg(uint32_t seq, uint64_t expiration_ms)
{
	struct i2np_msg *m = i2np_msg_make(I2NP_DATA, MSG_BYTES);

	m->msg_id = seq;
	m->expiration_ms = expiration_ms;
	memcpy(m->payload, template_body, MSG_BYTES);
	be32_put(m->payload, seq);
	return m;
}

static void top_up(struct node *nd)
{
	size_t q = transport_queued(nd->tm, nd->peer_hash);
	uint64_t exp = time_now_ms() + 60000;

	while (q < WINDOW_MSGS && nd->sent < nd->total) {
		if (transport_send(nd->tm, nd->peer_hash,
				   make_msg((uint32_t)nd->sent, exp)) != 0)
			break;
		nd->sent++;
		q++;
	}
}

static void on_low(void *ctx, const uint8_t *peer)
{
	(void)peer;
	top_up(ctx);
}

static void on_recv(void *ctx, const uint8_t *peer, struct i2np_msg *m)
{
	struct node *nd = ctx;
	uint32_t seq = m->len >= 4 ? be32_get(m->payload) : 0;

	(void)peer;
	if (nd->got == 0)
		nd->t_first = time_mono_ms();
	if (seq < nd->next)
		nd->reordered++;
	else
		nd->next = seq + 1;
	nd->got++;
	i2np_msg_free(m);
	if (nd->got == nd->total) {
		nd->t_last = time_mono_ms();
		evloop_break(nd->el);
	}
}

static const struct router_info *on_lookup(void *ctx, const uint8_t *peer)
{
	struct node *nd = ctx;

	return nd->peer && memcmp(router_info_hash(nd->peer), peer, 32) == 0 ?
	       nd->peer : NULL;
}

/* A router on its own loop, listening on 127.0.0.1 (any port), with a
 * signed RouterInfo naming that port. */
static void node_start(struct node *nd, struct evloop *el)
{
	struct conf *cfg = conf_new_default("/nonexistent");
	struct transport_hooks h = { .recv = on_recv, .lookup = on_lookup,
				     .queue_low = on_low, .ctx = nd };
	struct transport_limits lim;
	struct ssu2_config sc;
	struct keys_and_cert id;
	const uint8_t *b;
	size_t len;

	nd->keys = router_keys_new_random();
	nd->el = el ? el : evloop_new();
	router_keys_identity(nd->keys, &id);
	memcpy(nd->hash, id.hash, 32);
	transport_limits_default(&lim);
	lim.peer_queue_msgs = 2 * WINDOW_MSGS;
	nd->tm = transport_mgr_new(nd->el, nd->hash, &lim);
	transport_mgr_set_hooks(nd->tm, &h);
	ssu2_config_default(&sc);
	sc.netid = 77;
	sc.allow_loopback = true;
	noise_static_from_keystore(&sc.st, router_keys_keystore(nd->keys),
				   KEYSTORE_X_SSU2);
	memcpy(sc.rh, nd->hash, 32);
	if (ssu2_intro_key_derive(router_keys_keystore(nd->keys), sc.ik) != 0)
		exit(1);
	nd->n = ssu2_new(nd->el, nd->tm, &sc);
	if (ssu2_listen(nd->n, "127.0.0.1", 0) != 0) {
		fprintf(stderr, "ssu2-bench: cannot bind\n");
		exit(1);
	}
	cfg->netid = 77;
	cfg->ssu2 = true;
	cfg->port = ssu2_port(nd->n);
	if (router_self_build(cfg, nd->keys, &nd->ri) != 0)
		exit(1);
	b = router_info_bytes(nd->ri, &len);
	(void)ssu2_set_router_info(nd->n, b, len);
	conf_free(cfg);
}

static unsigned long long resent(const struct node *nd)
{
	struct ssu2_stats st;

	ssu2_stats(nd->n, &st);
	return (unsigned long long)st.resent_frags;
}

static unsigned long long pkts_out(const struct node *nd)
{
	struct ssu2_stats st;

	ssu2_stats(nd->n, &st);
	return (unsigned long long)st.pkts_out;
}

static double cpu_s(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The receiver's report arrived on the pipe: stop the sender. */
static void report_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evloop_break(arg);
}

/* Both routers on one loop in this process: the same code and the same
 * loopback UDP, but one core does both ends, so the figure does not
 * depend on getting two idle cores. */
static int one_loop(struct node *rx, struct node *tx)
{
	double c0 = cpu_s(RUSAGE_SELF);

	node_start(tx, rx->el);
	tx->peer = rx->ri;
	memcpy(tx->peer_hash, router_info_hash(rx->ri), 32);
	top_up(tx);
	(void)evloop_run(rx->el);
	printf("msgs=%llu bytes=%llu seconds=%.3f cpu_s=%.3f cpu_tx=0 "
	       "cpu_rx=0 lost=%llu reordered=%llu resent=%llu pkts_tx=%llu "
	       "pkts_rx=%llu\n",
	       (unsigned long long)rx->got,
	       (unsigned long long)rx->got * MSG_BYTES,
	       (double)(rx->t_last - rx->t_first) / 1000.0,
	       cpu_s(RUSAGE_SELF) - c0,
	       (unsigned long long)(rx->total - rx->got),
	       (unsigned long long)rx->reordered, resent(tx), pkts_out(tx),
	       pkts_out(rx));
	return rx->got == rx->total ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct node rx, tx;
	uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
	struct event *ev;
	double res[5];
	int fds[2];
	pid_t child;

	crypto_init();
	log_set_level(LOG_WARN);
	for (size_t i = 0; i < MSG_BYTES; i++)
		template_body[i] = (uint8_t)(i * 7);
	if (total == 0 || pipe(fds) != 0)
		return 2;
	rx.total = tx.total = total;
	node_start(&rx, NULL);
	if (getenv("SSU2_BENCH_ONE_LOOP"))
		return one_loop(&rx, &tx);
	child = fork();
	if (child < 0)
		return 2;
	if (child == 0) {
		/* the receiver: counts, then reports through the pipe */
		close(fds[0]);
		if (event_reinit(evloop_base(rx.el)) != 0)
			_exit(2);
		(void)evloop_run(rx.el);
		res[0] = (double)rx.got;
		res[1] = (double)(rx.t_last - rx.t_first) / 1000.0;
		res[2] = cpu_s(RUSAGE_SELF);
		res[3] = (double)rx.reordered;
		res[4] = (double)pkts_out(&rx);
		_exit(write(fds[1], res, sizeof(res)) == (ssize_t)sizeof(res) ?
		      0 : 1);
	}
	close(fds[1]);
	/* the sender, on a loop of its own (the receiver's is the child's) */
	node_start(&tx, NULL);
	tx.peer = rx.ri;
	memcpy(tx.peer_hash, router_info_hash(rx.ri), 32);
	ev = event_new(evloop_base(tx.el), fds[0], EV_READ, report_cb, tx.el);
	event_add(ev, NULL);
	top_up(&tx);
	(void)evloop_run(tx.el);
	event_free(ev);
	if (read(fds[0], res, sizeof(res)) != (ssize_t)sizeof(res)) {
		fprintf(stderr, "ssu2-bench: the receiver died\n");
		return 1;
	}
	waitpid(child, NULL, 0);
	printf("msgs=%llu bytes=%llu seconds=%.3f cpu_s=%.3f cpu_tx=%.3f "
	       "cpu_rx=%.3f lost=%llu reordered=%llu resent=%llu pkts_tx=%llu "
	       "pkts_rx=%llu\n",
	       (unsigned long long)res[0],
	       (unsigned long long)res[0] * MSG_BYTES, res[1],
	       res[2] + cpu_s(RUSAGE_SELF), cpu_s(RUSAGE_SELF), res[2],
	       (unsigned long long)(total - (uint64_t)res[0]),
	       (unsigned long long)res[3], resent(&tx), pkts_out(&tx),
	       (unsigned long long)res[4]);
	return res[0] == (double)total ? 0 : 1;
}
