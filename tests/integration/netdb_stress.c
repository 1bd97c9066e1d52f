/*
 * netdb_stress: drive a netDb (netdb/netdb.h) with a stream of fresh,
 * signed RouterInfos so its SQLite writer is busy, for the kill -9 test
 * (test_netdb_persist.sh).
 *
 *   netdb_stress run DIR      store RouterInfos until killed; every 100 ms
 *                             print "<ms since start> <stored> <written>"
 *   netdb_stress check DIR    open DIR/netdb.sqlite, run PRAGMA
 *                             integrity_check, print "<routers> <leasesets>",
 *                             then load it through a netDb and print
 *                             "loaded <n> bad <m>"; exit 1 on any failure
 *   netdb_stress reseed [--file SU3] [--dir DIR] [--url URL]
 *                [--signers CERT] [--cafile CA] [--netid N]
 *                             reseed an empty in-memory netDb, print
 *                             "added <n> err <code>" (exit 0 when n > 0)
 */
#include "config.h"
#include "tests/unit/netdb/synth.h"
#include "netdb/netdb.h"
#include "netdb/persist.h"
#include "netdb/reseed.h"
#include "router/evloop.h"
#include "crypto/base/fsutil.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/init.h"
#include "crypto/rand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NETID 77
#define STRESS_BATCH 50
#define REPORT_MS 100

struct stress {
	struct evloop *el;
	struct netdb *db;
	struct evloop_timer *feed, *report;
	uint64_t start, stored;
	uint8_t self[32];
};

static void feed(void *arg)
{
	struct stress *s = arg;
	struct bbuf b = BBUF_INIT;
	uint8_t h[32];

	for (int i = 0; i < STRESS_BATCH; i++) {
		bbuf_reset(&b);
		if (synth_ri(&b, h, NETID, i % 8 ? "XR" : "XfR",
			     time_now_ms() - 1000) == 0 &&
		    netdb_add_ri(s->db, b.data, b.len, NULL, NULL, NULL) == 0)
			s->stored++;
	}
	bbuf_free(&b);
	evloop_timer_arm(s->feed, 0);
}

static void report(void *arg)
{
	struct stress *s = arg;

	printf("%llu %llu\n", (unsigned long long)(time_mono_ms() - s->start),
	       (unsigned long long)s->stored);
	fflush(stdout);
	evloop_timer_arm(s->report, REPORT_MS);
}

static void loaded(void *arg)
{
	struct stress *s = arg;

	evloop_timer_arm(s->feed, 0);
	evloop_timer_arm(s->report, REPORT_MS);
}

static int run(const char *dir)
{
	struct stress s = { 0 };
	/* no heap limit: however many a run stores, all are checked */
	struct netdb_cfg cfg = { .datadir = dir, .netid = NETID,
				 .max_ri_bytes = SIZE_MAX };
	struct worker_pool *wp;

	if (fsutil_dir_ensure_private(dir) != 0) {
		fprintf(stderr, "netdb_stress: cannot create %s\n", dir);
		return 2;
	}
	rand_bytes(cfg.self, 32);
	s.el = evloop_new();
	wp = worker_pool_new(s.el, 1);
	s.db = netdb_new(s.el, wp, &cfg);
	s.start = time_mono_ms();
	s.feed = evloop_timer_new(s.el, feed, &s);
	s.report = evloop_timer_new(s.el, report, &s);
	netdb_on_loaded(s.db, loaded, &s);
	evloop_run(s.el);	/* until killed */
	return 1;
}

static void stop(void *arg)
{
	evloop_break(arg);
}

static int check(const char *dir)
{
	char *path = fsutil_path_join(dir, NETDB_PERSIST_FILE_NAME);
	struct netdb_db *ndb = NULL;
	/* no heap limit: however many a run stores, all are checked */
	struct netdb_cfg cfg = { .datadir = dir, .netid = NETID,
				 .max_ri_bytes = SIZE_MAX };
	struct netdb_stats st;
	struct evloop *el;
	struct worker_pool *wp;
	struct netdb *db;
	size_t nr = 0, nl = 0;
	int r;

	if ((r = netdb_db_open(path, &ndb)) != 0 ||
	    (r = netdb_db_integrity_check(ndb)) != 0 ||
	    (r = netdb_db_counts(ndb, &nr, &nl)) != 0) {
		fprintf(stderr, "netdb_stress: %s: %s\n", path, err_str(r));
		netdb_db_close(ndb);
		free(path);
		return 1;
	}
	netdb_db_close(ndb);
	free(path);
	printf("%zu %zu\n", nr, nl);
	rand_bytes(cfg.self, 32);
	el = evloop_new();
	wp = worker_pool_new(el, 1);
	db = netdb_new(el, wp, &cfg);
	netdb_on_loaded(db, stop, el);
	evloop_run(el);
	netdb_stats(db, &st);
	printf("loaded %zu bad %zu\n", st.loaded_ri, st.loaded_bad);
	netdb_free(db);
	worker_pool_free(wp);
	evloop_free(el);
	return st.loaded_ri == nr && st.loaded_bad == 0 ? 0 : 1;
}

struct reseed_run {
	struct evloop *el;
	int err;
	size_t added;
};

static void reseed_done(void *ctx, int err, size_t added)
{
	struct reseed_run *rr = ctx;

	rr->err = err;
	rr->added = added;
	evloop_break(rr->el);
}

static int reseed(int argc, char **argv)
{
	struct netdb_reseed_cfg rc = { 0 };
	struct netdb_cfg cfg = { .netid = NETID, .no_persist = true };
	struct reseed_run rr = { 0 };
	struct worker_pool *wp;
	struct netdb *db;
	int r;

	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--file") == 0)
			rc.su3_file = argv[i + 1];
		else if (strcmp(argv[i], "--dir") == 0)
			rc.dir = argv[i + 1];
		else if (strcmp(argv[i], "--url") == 0)
			rc.url = argv[i + 1];
		else if (strcmp(argv[i], "--signers") == 0)
			rc.signers = argv[i + 1];
		else if (strcmp(argv[i], "--cafile") == 0)
			rc.cafile = argv[i + 1];
		else if (strcmp(argv[i], "--netid") == 0)
			cfg.netid = (uint8_t)atoi(argv[i + 1]);
	}
	rand_bytes(cfg.self, 32);
	rr.el = evloop_new();
	wp = worker_pool_new(rr.el, 1);
	db = netdb_new(rr.el, wp, &cfg);
	if ((r = netdb_reseed_start(db, &rc, reseed_done, &rr)) == 0)
		evloop_run(rr.el);
	else
		rr.err = r;
	printf("added %zu err %d\n", rr.added, rr.err);
	netdb_free(db);
	worker_pool_free(wp);
	evloop_free(rr.el);
	return rr.added ? 0 : 1;
}

int main(int argc, char **argv)
{
	crypto_init();
	if (argc == 3 && strcmp(argv[1], "run") == 0)
		return run(argv[2]);
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return check(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "reseed") == 0)
		return reseed(argc, argv);
	fprintf(stderr, "usage: netdb_stress run|check DIR | reseed ...\n");
	return 2;
}
