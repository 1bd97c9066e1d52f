/*
 * tools/bench/feed: the feed store (apps/feed/store.h) at scale.
 *
 *   index  cards verified and indexed per second: decode, signature check
 *          and store of pre-signed cards as gossip does with a stream of
 *          new cards (batches of 256 checked on the T - 1 worker threads
 *          of a pool while the batch before is stored in one transaction,
 *          and then on this thread too); where the wall-clock time went
 *          (on a CPU, waiting for one, blocked; Linux schedstat); must
 *          reach ≥ 5,000/s; ceiling: decode + verify on one thread
 *   query  feed query latency over the whole set, p50 and p99, across a
 *          mix of queries (new, popular, tag, creator, price, text, paging,
 *          trending, media type;
 *          p99 must stay ≤ 50 ms)
 *
 * Usage: bench_feed [--cards N] [--queries Q] [--threads T]
 *        (defaults 100000, 400, one thread per online CPU up to 8)
 */
#include "config.h"
#include "apps/content/card.h"
#include "apps/content/signer.h"
#include "apps/feed/ingest.h"
#include "apps/feed/store.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"
#include "crypto/init.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const WORDS[] = {
	"river", "night", "city", "piano", "forest", "engine", "garden",
	"winter", "signal", "harbour", "desert", "orbit", "violin", "market"
};
#define NWORDS (sizeof(WORDS) / sizeof(WORDS[0]))
static const char *const MIMES[4] = {
	"video/mp4", "audio/ogg", "image/png", "text/plain"
};
#define NKINDS 10	/* query kinds in the mix */
#define NCREATORS 200
#define FEED_BENCH_BATCH 256u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the process (all threads): what the machine's load does
 * not change much. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread: the store's share. */
static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* From the kernel's scheduler statistics (Linux): the seconds the threads
 * of the process ran and waited runnable for a CPU (the machine's load),
 * over all threads (self false) or the calling one; false without them. */
static bool sched_s(bool self, double *run, double *wait)
{
	char path[64];
	unsigned long long a, b;
	struct dirent *e;
	DIR *d;
	FILE *f;
	bool any = false;

	*run = *wait = 0;
	if (self) {
		f = fopen("/proc/thread-self/schedstat", "r");
		if (f && fscanf(f, "%llu %llu", &a, &b) == 2) {
			*run = a / 1e9;
			*wait = b / 1e9;
			any = true;
		}
		if (f)
			fclose(f);
		return any;
	}
	if (!(d = opendir("/proc/self/task")))
		return false;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "/proc/self/task/%.20s/"
				 "schedstat", e->d_name);
			if (!(f = fopen(path, "r")))
				continue;
			if (fscanf(f, "%llu %llu", &a, &b) == 2) {
				*run += a / 1e9;
				*wait += b / 1e9;
				any = true;
			}
			fclose(f);
		}
	closedir(d);
	return any;
}

static void json_line(const char *metric, double v, double ceiling,
		      double target, bool higher)
{
	printf("{\"bench\":\"feed\",\"metric\":\"%s\",\"value\":%.2f,"
	       "\"ceiling\":%.2f,\"ratio\":%.3f,\"target\":%.2f,"
	       "\"higher_is_better\":%s}\n", metric, v, ceiling,
	       ceiling > 0 ? v / ceiling : 0, target, higher ? "true" : "false");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Card i of the synthetic set, signed by creator i % NCREATORS. */
static void make_card(unsigned i, const struct content_signer *signers,
		      struct content_card *c, struct bbuf *out)
{
	int r;

	memset(c, 0, sizeof(*c));
	memcpy(c->content_hash, &i, sizeof(i));
	memset(c->key_commitment, 0x22, 32);
	c->size = 1000 + i;
	snprintf(c->mime, sizeof(c->mime), "%s", MIMES[i % 4]);
	snprintf(c->title, sizeof(c->title), "%s %s %u", WORDS[i % NWORDS],
		 WORDS[(i / NWORDS) % NWORDS], i);
	snprintf(c->description, sizeof(c->description),
		 "A %s about the %s and the %s.", WORDS[(i * 7) % NWORDS],
		 WORDS[(i * 3) % NWORDS], WORDS[(i / 5) % NWORDS]);
	c->tag_count = 2;
	snprintf(c->tags[0], sizeof(c->tags[0]), "t%u", i % 50);
	snprintf(c->tags[1], sizeof(c->tags[1]), "%s", i % 3 ? "video" : "music");
	if (i % 4) {
		c->price[31] = (uint8_t)i;
		c->price[30] = (uint8_t)(i >> 8);
		c->price[29] = 1;
		snprintf(c->currency, sizeof(c->currency), "USDC");
		c->decimals = 6;
	}
	c->created = 1767225600u + i * 30u;
	c->version = 1;
	content_card_normalize(c);
	r = content_card_sign(c, &signers[i % NCREATORS]);
	if (r == 0)
		r = content_card_encode(c, out);
	if (r != 0) {
		fprintf(stderr, "feed bench: card %u: %s\n", i, err_str(r));
		abort();
	}
}

int main(int argc, char **argv)
{
	unsigned ncards = 100000, nq = 400, i, n;
	struct content_signer *signers = xcalloc(NCREATORS, sizeof(*signers));
	struct ed25519_seed *seeds = xcalloc(NCREATORS, sizeof(*seeds));
	struct content_card *c = xmalloc(sizeof(*c));
	struct feed_row *rows = xcalloc(FEED_QUERY_MAX_ROWS, sizeof(*rows));
	uint8_t **enc;
	size_t *len;
	struct feed_store *st;
	struct content_pool *pool;
	struct feed_in *in;
	unsigned threads = 0, at, prev;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char tmpl[512], path[600];
	const char *base = getenv("TMPDIR");
	double cpu0, cpu_index, t0, t1, t_store = 0, c_store = 0, c1, t_verify, t_index, *lat, worst[NKINDS] = { 0 };
	double run0, wait0, run1, wait1, mrun0, mwait0, mrun1, mwait1;
	bool sched;

	for (i = 1; i + 1 < (unsigned)argc; i += 2) {
		if (!strcmp(argv[i], "--cards"))
			ncards = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--queries"))
			nq = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--threads"))
			threads = (unsigned)strtoul(argv[i + 1], NULL, 10);
	}
	if (ncards < 100 || nq < 10) {
		fprintf(stderr, "usage: bench_feed [--cards N>=100] "
			"[--queries Q>=10]\n");
		return 2;
	}
	if (threads == 0)
		threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (unsigned)ncpu;
	crypto_init();
	for (i = 0; i < NCREATORS; i++) {	/* signers borrow the seeds */
		memset(seeds[i].b, (int)(i + 1), sizeof(seeds[i].b));
		seeds[i].b[1] = (uint8_t)(i >> 8);
		content_signer_from_seed(&signers[i], &seeds[i]);
	}
	enc = xcalloc(ncards, sizeof(*enc));
	len = xcalloc(ncards, sizeof(*len));
	for (i = 0; i < ncards; i++) {
		struct bbuf b = BBUF_INIT;

		make_card(i, signers, c, &b);
		enc[i] = bbuf_steal(&b, &len[i]);
	}
	snprintf(tmpl, sizeof(tmpl), "%s/bits-bench-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(tmpl))
		return 2;
	snprintf(path, sizeof(path), "%s/feed.db", tmpl);
	if (feed_store_open(path, &st) != 0)
		return 2;
	printf("feed bench: %u cards by %u creators, %u queries\n", ncards,
	       NCREATORS, nq);

	/* Ceiling: decode + verify alone. */
	t0 = now_s();
	for (i = 0; i < ncards; i++)
		if (content_card_decode(enc[i], len[i], c) != 0 ||
		    content_card_verify(c) != 0)
			abort();
	t_verify = now_s() - t0;

	/* As gossip does with a stream of items: a batch is checked on the
	 * pool's workers while the batch before it is stored in one
	 * transaction on this thread. */
	pool = content_pool_new(threads);
	in = xcalloc(2 * FEED_BENCH_BATCH, sizeof(*in));
	sched = sched_s(false, &run0, &wait0) &&
		sched_s(true, &mrun0, &mwait0);
	cpu0 = cpu_s();
	t0 = now_s();
	for (at = 0, prev = 0; at < ncards || prev; at += FEED_BENCH_BATCH) {
		unsigned m = at >= ncards ? 0 : ncards - at < FEED_BENCH_BATCH ?
			     ncards - at : FEED_BENCH_BATCH, j;
		struct feed_in *cur = in + (at / FEED_BENCH_BATCH % 2) *
				      FEED_BENCH_BATCH;
		struct feed_in *old = cur == in ? in + FEED_BENCH_BATCH : in;

		for (j = 0; j < m; j++)
			feed_in_init(&cur[j], FEED_ITEM_CARD, enc[at + j],
				     len[at + j]);
		if (m)
			feed_in_check_start(pool, cur, m);
		t1 = now_s();
		c1 = thread_cpu_s();
		if (feed_store_begin(st) != 0)
			abort();
		for (j = 0; j < prev; j++)
			if (old[j].r != 0 ||
			    feed_store_put_card(st, old[j].card, old[j].enc,
						old[j].len, old[j].id, 0) != 0)
				abort();
		if (feed_store_commit(st) != 0)
			abort();
		t_store += now_s() - t1;
		c_store += thread_cpu_s() - c1;
		for (j = 0; j < prev; j++)
			feed_in_clear(&old[j]);
		if (m)	/* this thread checks what is left */
			content_pool_finish(pool);
		prev = m;
	}
	t_index = now_s() - t0;
	cpu_index = cpu_s() - cpu0;
	sched = sched && sched_s(false, &run1, &wait1) &&
		sched_s(true, &mrun1, &mwait1);
	printf("  decode + verify on one thread: %.0f cards/s; checked on %u "
	       "worker thread%s while the last batch is indexed, then on "
	       "this one too: %.0f cards/s (store alone %.0f cards/s)\n",
	       ncards / t_verify, threads > 1 ? threads - 1 : 1,
	       threads > 2 ? "s" : "", ncards / t_index, ncards / t_store);
	printf("  CPU time per card indexed (all threads): %.0f us, of which "
	       "the store %.0f us\n", cpu_index * 1e6 / ncards,
	       c_store * 1e6 / ncards);
	/* Where the wall-clock time of a card went: on a CPU, runnable but
	 * waiting for one (other processes' load), or blocked (I/O, or this
	 * thread waiting for the workers). */
	if (sched) {
		double per = 1e6 / ncards, mrun = mrun1 - mrun0;
		double mwait = mwait1 - mwait0;

		printf("  wall time a card %.0f us; this thread: on a CPU %.0f "
		       "us, waiting runnable for a CPU %.0f us, blocked %.0f "
		       "us; all threads: on a CPU %.0f us, waiting for a CPU "
		       "%.0f us\n", t_index * per, mrun * per, mwait * per,
		       (t_index - mrun - mwait) * per, (run1 - run0) * per,
		       (wait1 - wait0) * per);
	}
	lat = xcalloc(nq, sizeof(*lat));
	for (i = 0; i < nq; i++) {
		struct feed_query q;
		char tag[8];

		memset(&q, 0, sizeof(q));
		q.limit = 50;
		switch (i % NKINDS) {
		case 0:
			break;
		case 1:
			q.sort = FEED_SORT_POPULAR;
			break;
		case 2:
			snprintf(tag, sizeof(tag), "t%u", i % 50);
			q.tags[0] = tag;
			q.tag_count = 1;
			break;
		case 3:
			q.has_creator = true;
			q.creator = signers[i % NCREATORS].pk;
			break;
		case 4:
			q.has_price_max = true;	/* free only */
			break;
		case 5:
			q.text = WORDS[i % NWORDS];
			break;
		case 6:
			q.text = WORDS[i % NWORDS];
			q.tags[0] = "music";
			q.tag_count = 1;
			q.offset = 100;
			break;
		case 7:	/* pages 2..20 of the newest */
			q.offset = 50 * (1 + i % 19);
			break;
		case 8:
			q.sort = FEED_SORT_TRENDING;
			break;
		case 9:	/* a top-level media type, a quarter of the cards */
			q.media = "audio";
			break;
		}
		t0 = now_s();
		if (feed_store_query(st, &q, rows, &n, NULL) != 0)
			abort();
		lat[i] = (now_s() - t0) * 1000;
		if (lat[i] > worst[i % NKINDS])
			worst[i % NKINDS] = lat[i];
	}
	printf("  slowest per kind (new, popular, tag, creator, free, text, "
	       "text+tag+page, page, trending, media): ");
	for (i = 0; i < NKINDS; i++)
		printf("%.1f%s", worst[i], i + 1 < NKINDS ? ", " : " ms\n");
	qsort(lat, nq, sizeof(*lat), cmp_double);
	printf("  query latency: p50 %.2f ms, p99 %.2f ms\n",
	       lat[nq / 2], lat[(nq * 99) / 100]);
	json_line("cards_indexed_per_s", ncards / t_index, ncards / t_verify,
		  5000, true);
	json_line("query_p50_ms", lat[nq / 2], 50, 50, false);
	json_line("query_p99_ms", lat[(nq * 99) / 100], 50, 50, false);

	feed_store_free(st);
	unlink(path);
	snprintf(path, sizeof(path), "%s/feed.db-wal", tmpl);
	unlink(path);
	snprintf(path, sizeof(path), "%s/feed.db-shm", tmpl);
	unlink(path);
	rmdir(tmpl);
	for (i = 0; i < ncards; i++)
		free(enc[i]);
	free(enc);
	free(len);
	free(lat);
	free(in);
	content_pool_free(pool);
	free(rows);
	free(c);
	free(signers);
	free(seeds);
	return 0;
}
