/*
 * tools/bench/netdb: a floodfill netDb (netdb/netdb.h, with its SQLite
 * store on the worker pool) holding 10,000 synthetic RouterInfos.
 *
 *   netdb [--routers N]      (default 10000)
 *
 * Measures, in the same run:
 *  - the Ed25519 verify rate over the RouterInfos' own signatures
 *    (libsodium, the ceiling: storing a RouterInfo verifies it once);
 *  - RouterInfos verified and stored per second: DatabaseStore messages
 *    (gzip RouterInfo) handed to the floodfill, through gunzip, decode,
 *    netId/time/newer checks, signature, insert and the SQLite write
 *    queue, plus the wait for the last batch to be written;
 *  - lookups answered per second with the table full: half for known
 *    routers (a DatabaseStore comes back), half for unknown keys (a
 *    DatabaseSearchReply of the 3 closest floodfills).
 * Verify and store run in alternating slices of the same RouterInfos, so
 * a busy neighbour slows both alike.  Prints human lines, then one JSON
 * line for the figure that must reach 50 % of its ceiling (stores/s).
 */
#include "config.h"
#include "tests/unit/netdb/synth.h"
#include "netdb/netdb.h"
#include "router/evloop.h"
#include "crypto/base/fsutil.h"
#include "router/gzip.h"
#include "router/router_info.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/ed25519.h"
#include "crypto/init.h"
#include "crypto/rand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NETID 77
#define BENCH_SLICE 250
#define BENCH_TARGET 0.5
#define BENCH_LOOKUPS 20000

struct ri_sample {
	uint8_t hash[32];
	struct bbuf ri, gz;
	struct ed25519_pk pk;
	struct ed25519_sig sig;
	const uint8_t *msg;
	size_t msg_len;
};

struct bench {
	struct evloop *el;
	struct worker_pool *wp;
	struct netdb *db;
	struct ri_sample *s;
	size_t n, next;
	double t_verify, t_store, t_flush;
	double flush_start;
	uint64_t replies;
	unsigned long sink;
	struct evloop_timer *timer;
	bool failed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int count_reply(void *ctx, const uint8_t peer[32], struct i2np_msg *m,
		       bool via_tunnel)
{
	struct bench *b = ctx;

	(void)peer;
	(void)via_tunnel;
	b->replies++;
	i2np_msg_free(m);
	return 0;
}

static int make_samples(struct bench *b)
{
	uint64_t now = time_now_ms();

	b->s = xcalloc(b->n, sizeof(*b->s));
	for (size_t i = 0; i < b->n; i++) {
		struct ri_sample *s = &b->s[i];
		struct router_info *ri = NULL;
		size_t len;
		int r;

		bbuf_init(&s->ri);
		bbuf_init(&s->gz);
		if ((r = synth_ri(&s->ri, s->hash, BENCH_NETID,
				  i % 3 ? "XR" : "XfR", now - 60000)) != 0 ||
		    (r = gzip_compress(s->ri.data, s->ri.len, &s->gz)) != 0 ||
		    (r = router_info_decode(s->ri.data, s->ri.len, &ri)) != 0)
			return r;
		keys_and_cert_ed25519_pk(router_info_identity(ri), &s->pk);
		router_info_free(ri);
		/* The signature closes the RouterInfo; it covers the rest. */
		len = s->ri.len;
		memcpy(s->sig.b, s->ri.data + len - 64, 64);
		s->msg = s->ri.data;
		s->msg_len = len - 64;
	}
	return 0;
}

/* One slice: the raw verify ceiling, then the same RouterInfos stored. */
static void slice(void *arg)
{
	struct bench *b = arg;
	size_t end = b->next + BENCH_SLICE < b->n ? b->next + BENCH_SLICE : b->n;
	struct netdb_stats st;
	uint8_t peer[32];
	double t0, t1, t2;

	memset(peer, 0x77, sizeof(peer));
	if (b->next < b->n) {
		t0 = now_s();
		for (size_t i = b->next; i < end; i++)
			b->sink += ed25519_verify(&b->s[i].sig, &b->s[i].pk,
						  b->s[i].msg, b->s[i].msg_len);
		t1 = now_s();
		for (size_t i = b->next; i < end; i++) {
			struct ri_sample *s = &b->s[i];
			netdb_handle_msg(b->db, peer,
				netdb_store_msg_new(s->hash, I2NP_STORE_RI,
						    s->gz.data, s->gz.len, 0, 0,
						    NULL));
		}
		t2 = now_s();
		b->t_verify += t1 - t0;
		b->t_store += t2 - t1;
		b->next = end;
		if (b->next == b->n)
			b->flush_start = now_s();
		evloop_timer_arm(b->timer, 0);
		return;
	}
	/* Everything handed over: wait for the last batch on disk. */
	netdb_stats(b->db, &st);
	if (st.db_written + st.db_dropped < b->n || st.db_busy ||
	    st.db_queued) {
		evloop_timer_arm(b->timer, 1);
		return;
	}
	b->t_flush = now_s() - b->flush_start;
	if (st.ri_stored != b->n || st.db_dropped || st.db_errors) {
		fprintf(stderr, "netdb bench: stored %llu of %zu, %llu writes "
			"dropped, %llu errors\n",
			(unsigned long long)st.ri_stored, b->n,
			(unsigned long long)st.db_dropped,
			(unsigned long long)st.db_errors);
		b->failed = true;
	}
	evloop_break(b->el);
}

static void lookup_msg(struct bench *b, const uint8_t key[32],
		       const uint8_t from[32])
{
	struct i2np_db_lookup l = { 0 };
	struct bbuf m = BBUF_INIT;
	uint8_t *p;
	size_t n = 0;

	memcpy(l.key, key, 32);
	memcpy(l.from, from, 32);
	l.flags = I2NP_LOOKUP_TYPE_RI;
	i2np_db_lookup_encode(&l, &m);
	p = bbuf_steal(&m, &n);
	netdb_handle_msg(b->db, from, i2np_msg_new_take(I2NP_DATABASE_LOOKUP, p,
							n, 10000));
}

static double lookups(struct bench *b)
{
	uint8_t from[32], key[32];
	uint64_t before = b->replies;
	double t0 = now_s(), t;

	memset(from, 0x42, sizeof(from));
	for (size_t i = 0; i < BENCH_LOOKUPS; i++) {
		if (i % 2)
			memcpy(key, b->s[rand_uniform((uint32_t)b->n)].hash, 32);
		else
			rand_bytes(key, sizeof(key));
		lookup_msg(b, key, from);
	}
	t = now_s() - t0;
	if (b->replies - before != BENCH_LOOKUPS) {
		fprintf(stderr, "netdb bench: %llu replies to %d lookups\n",
			(unsigned long long)(b->replies - before),
			BENCH_LOOKUPS);
		b->failed = true;
	}
	return BENCH_LOOKUPS / t;
}

int main(int argc, char **argv)
{
	struct bench b = { .n = 10000 };
	struct netdb_cfg cfg = { .netid = BENCH_NETID, .floodfill = true,
				 .passive = true,
				 .lookup_rate_per_min = 1000000000,
				 .lookup_burst = 1000000000,
				 .store_rate_per_min = 1000000000,
				 .store_burst = 1000000000 };
	char dir[] = "/tmp/bits-bench-netdb.XXXXXX";
	double verify_rate, store_rate, lookup_rate, t0;
	int r;

	for (int i = 1; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "--routers") == 0)
			b.n = strtoul(argv[i + 1], NULL, 10);
	if (b.n < BENCH_SLICE) {
		fprintf(stderr, "usage: netdb [--routers N>=%d]\n", BENCH_SLICE);
		return 2;
	}
	crypto_init();
	log_set_level(LOG_WARN);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	printf("netdb bench: making %zu signed RouterInfos...\n", b.n);
	fflush(stdout);
	t0 = now_s();
	if ((r = make_samples(&b)) != 0) {
		fprintf(stderr, "netdb bench: %s\n", err_str(r));
		return 1;
	}
	printf("  made in %.1f s\n", now_s() - t0);
	cfg.datadir = dir;
	rand_bytes(cfg.self, 32);
	b.el = evloop_new();
	b.wp = worker_pool_new(b.el, 1);
	b.db = netdb_new(b.el, b.wp, &cfg);
	netdb_set_sender(b.db, (struct netdb_sender){ count_reply, &b });
	b.timer = evloop_timer_new(b.el, slice, &b);
	evloop_timer_arm(b.timer, 0);
	evloop_run(b.el);

	verify_rate = b.n / b.t_verify;
	store_rate = b.n / (b.t_store + b.t_flush);
	printf("  Ed25519 verify (libsodium, ceiling): %10.0f /s\n",
	       verify_rate);
	printf("  RouterInfos verified and stored:     %10.0f /s  (%.0f /s "
	       "before the last SQLite batch; %.0f %% of the ceiling)\n",
	       store_rate, b.n / b.t_store, 100.0 * store_rate / verify_rate);
	printf("  netDb: %zu RouterInfos, %zu floodfills\n",
	       netdb_store_ri_count(netdb_get_store(b.db)),
	       netdb_store_ff_count(netdb_get_store(b.db)));
	lookup_rate = lookups(&b);
	printf("  lookups answered (half known, half search replies): "
	       "%.0f /s\n", lookup_rate);
	printf("{\"bench\":\"netdb\",\"metric\":\"stores/s\",\"value\":%.1f,"
	       "\"ceiling\":%.1f,\"ratio\":%.3f,\"target\":%.1f,"
	       "\"higher_is_better\":true}\n", store_rate, verify_rate,
	       store_rate / verify_rate, BENCH_TARGET);

	evloop_timer_free(b.timer);
	netdb_free(b.db);
	worker_pool_free(b.wp);
	evloop_free(b.el);
	for (size_t i = 0; i < b.n; i++) {
		bbuf_free(&b.s[i].ri);
		bbuf_free(&b.s[i].gz);
	}
	free(b.s);
	{
		char *p = fsutil_path_join(dir, "netdb.sqlite");
		char *pw = fsutil_path_join(dir, "netdb.sqlite-wal");
		char *ps = fsutil_path_join(dir, "netdb.sqlite-shm");
		unlink(p);
		unlink(pw);
		unlink(ps);
		free(p);
		free(pw);
		free(ps);
		rmdir(dir);
	}
	(void)b.sink;
	return b.failed ? 1 : 0;
}
