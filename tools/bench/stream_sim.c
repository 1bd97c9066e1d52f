/*
 * tools/bench/stream-sim: the streaming protocol's own behaviour, without
 * tunnels: two stream managers over the simulated pipe of the unit tests
 * (tests/unit/client/tpipe.h: loss, delay, jitter, a virtual clock), one
 * stream moving N MiB one way for each one-way delay and loss rate.
 *
 *   stream-sim [--mib N] [--no-jitter] [--window N]
 *
 * The one-way delay varies by up to a quarter (reordering) unless
 * --no-jitter.
 * For each case: goodput in virtual time (MiB/s: what the congestion
 * control achieves at that RTT and loss), the ceiling a full window gives
 * (max_window * MTU per RTT), packets resent, and the real CPU seconds per
 * MiB the streaming code spent (both ends together, no garlic or tunnel
 * crypto).  Human output only: the targets are measured against
 * i2pd over tunnels, which this cannot do.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/client/stream.h"
#include "crypto/init.h"
#include "tests/unit/client/tpipe.h"

struct side {
	struct stream *s;
	uint64_t total, moved;
	bool closed, failed, close_called;
};

static void pump(struct side *x)
{
	static uint8_t buf[65536];
	size_t n;

	while (x->moved < x->total && x->total != 0) {
		size_t want = x->total - x->moved < sizeof(buf) ?
				      (size_t)(x->total - x->moved) :
				      sizeof(buf);

		n = stream_write(x->s, buf, want);
		x->moved += n;
		if (n < want)
			return;
	}
	if (x->total && !x->close_called) {
		x->close_called = true;
		stream_close(x->s);
	}
	while (x->total == 0 && (n = stream_read(x->s, buf, sizeof(buf))) > 0)
		x->moved += n;
}

static void on_event(void *ctx, struct stream *s, unsigned ev)
{
	struct side *x = ctx;

	(void)s;
	if (ev & STREAM_EV_CLOSED)
		x->closed = true;
	if (ev & (STREAM_EV_RESET | STREAM_EV_FAILED))
		x->failed = true;
	pump(x);
	if ((ev & STREAM_EV_EOF) && !x->close_called) {
		x->close_called = true;
		stream_close(x->s);
	}
}

static void on_accept(void *ctx, struct stream *s)
{
	struct side *x = ctx;

	x->s = s;
	stream_set_handler(s, on_event, x);
	pump(x);
}

struct two {
	struct side a, b;
};

static bool done(void *ctx)
{
	struct two *t = ctx;

	return (t->a.closed && t->b.closed) || t->a.failed || t->b.failed;
}

int main(int argc, char **argv)
{
	static const uint32_t delays[] = { 10, 50, 150, 400 };
	static const unsigned losses[] = { 0, 1, 5 };
	uint64_t mib = 8;
	unsigned window = STREAM_DEFAULT_WINDOW;
	bool jitter = true;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc) {
			mib = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--no-jitter")) {
			jitter = false;
		} else if (!strcmp(argv[i], "--window") && i + 1 < argc) {
			window = (unsigned)strtoul(argv[++i], NULL, 10);
			if (window < STREAM_INITIAL_WINDOW ||
			    window > STREAM_MAX_WINDOW)
				window = STREAM_DEFAULT_WINDOW;
		} else {
			fprintf(stderr, "usage: stream-sim [--mib N] "
				"[--no-jitter] [--window N]\n");
			return 2;
		}
	}
	if (mib == 0)
		mib = 1;
	crypto_init();
	printf("stream-sim: %llu MiB one way per case, MTU %u, window %u..%u "
	       "packets\n", (unsigned long long)mib, STREAM_MTU_DEFAULT,
	       STREAM_INITIAL_WINDOW, window);
	printf("%8s %6s %12s %12s %9s %12s\n", "RTT ms", "loss", "MiB/s",
	       "ceiling", "resent", "CPU s/MiB");
	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++)
		for (size_t j = 0; j < sizeof(losses) / sizeof(losses[0]);
		     j++) {
			struct tpipe_cfg c;
			struct tpipe *p;
			struct two t;
			struct stream_info info;
			uint64_t t0;
			clock_t c0;
			double secs, cpu, rtt, ceil;
			bool ok;

			memset(&c, 0, sizeof(c));
			c.delay_ms = delays[i];
			c.jitter_ms = jitter ? delays[i] / 4 : 0;
			c.loss_pct = losses[j];
			c.seed = 1000 + i * 10 + j;
			stream_config_default(&c.stream[0]);
			stream_config_default(&c.stream[1]);
			c.stream[0].max_window = c.stream[1].max_window =
				window;
			p = tpipe_new(&c);
			memset(&t, 0, sizeof(t));
			t.a.total = mib << 20;
			stream_mgr_set_acceptor(tpipe_mgr(p, 1), on_accept,
						&t.b);
			c0 = clock();
			t0 = tpipe_now(p);
			if (stream_connect(tpipe_mgr(p, 0), tpipe_dest(p, 1), 0,
					   0, on_event, &t.a, &t.a.s) != 0)
				return 1;
			ok = tpipe_run(p, done, &t, 24 * 3600 * 1000ull) &&
			     !t.a.failed && !t.b.failed &&
			     t.b.moved == t.a.total;
			secs = (double)(tpipe_now(p) - t0) / 1000.0;
			cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
			stream_get_info(t.a.s, &info);
			rtt = 2.0 * (delays[i] + delays[i] / 8.0);
			ceil = window * (double)STREAM_MTU_DEFAULT /
			       (1 << 20) / (rtt / 1000.0);
			printf("%8.0f %5u%% %12.2f %12.2f %9llu %12.4f%s\n",
			       rtt, losses[j], (double)mib / secs, ceil,
			       (unsigned long long)info.packets_resent,
			       cpu / (double)mib, ok ? "" : "  FAILED");
			tpipe_free(p);
		}
	return 0;
}
