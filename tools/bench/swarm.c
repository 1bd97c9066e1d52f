/*
 * tools/bench/swarm: one viewer fetching a content from 1, 2 and 4 seeders
 * over localnet (every destination in this process, on one event loop, no
 * tunnels), beside the rate at which the same content verifies
 * (content_dir_verify, one thread) in the same run.
 *
 *   swarm [--mib N]        (default 32 MiB, 64 KiB chunks)
 *
 * For each seeder count: time from swarm_content_fetch() to the first
 * chunk stored (rarest-first and streaming mode), and the throughput of
 * the whole download (MB = 10^6 bytes).  Both ends of every stream, the
 * streaming protocol, the proof checks and the blob store share one core
 * here, so the figures bound what the engine costs, not what tunnels give;
 * the targets (first byte <= 3 s, 4 seeders >= 2x one stream)
 * are for 3-hop tunnels and wait for the tunnel client_net.
 *
 * JSON lines: throughput against the verify rate (the ceiling: nothing is
 * stored unverified), target 0.25; first chunk in ms (lower is better,
 * ceiling 3000 ms: the first-byte budget).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/content/cdir.h"
#include "crypto/base/alloc.h"
#include "crypto/base/time.h"
#include "crypto/init.h"
#include "tests/unit/swarm/tswarm.h"

static double verify_rate(struct tnet *tn, struct tnode *nd, uint64_t bytes)
{
	char *dir = content_store_dir(nd->st, tn->hash);
	struct content_dir *d = NULL;
	struct content_fault f;
	double best = 0;

	for (int trial = 0; trial < 3; trial++) {
		uint64_t t0 = time_mono_ms(), ms;
		if (content_dir_open(dir, &d, &f) != 0 ||
		    content_dir_verify(d, 1, NULL, &f) != 0) {
			fprintf(stderr, "swarm: verify failed\n");
			exit(1);
		}
		content_dir_free(d);
		ms = time_mono_ms() - t0;
		if (ms && bytes / 1e3 / ms > best)
			best = bytes / 1e3 / ms;
	}
	free(dir);
	return best;
}

struct run {
	double mbs;		/* MB/s */
	double first_ms;
};

static struct run one_run(uint64_t bytes, unsigned seeders,
			  enum swarm_pick_mode mode, double *verify)
{
	struct tctx t = { .name = "bench" };
	struct tnet tn;
	struct content_published pub;
	struct tnode *leech, *s0;
	struct run r = { 0, 0 };
	char *src;
	uint64_t t0;

	tn_init(&tn, &t);
	s0 = tn_node(&tn, NULL);
	tn_publish(&tn, s0, bytes, 5, 16, &pub);
	if (swarm_content_add(s0->sw, tn.hash, SWARM_PICK_RAREST) != 0)
		t.failures++;
	src = content_store_dir(s0->st, tn.hash);
	for (unsigned i = 1; i < seeders; i++) {
		struct tnode *s = tn_node(&tn, NULL);
		uint8_t h[32];
		if (content_store_import(s->st, src, true, h) != 0 ||
		    swarm_content_add(s->sw, h, SWARM_PICK_RAREST) != 0)
			t.failures++;
	}
	free(src);
	/* The viewer is the last node (all_complete looks from index 1, and
	 * the other seeders are complete already). */
	leech = tn_node(&tn, NULL);
	if (verify)
		*verify = verify_rate(&tn, s0, bytes);
	t0 = time_mono_ms();
	if (swarm_content_fetch(leech->sw, tn.hash, mode) != 0)
		t.failures++;
	for (unsigned i = 0; i < seeders; i++)
		if (swarm_peer_add(leech->sw, tn.hash,
				   client_dest_pub(tn.n[i].d)) != 0)
			t.failures++;
	if (!tn_run(&tn, all_complete) || t.failures) {
		fprintf(stderr, "swarm: the download did not complete\n");
		exit(1);
	}
	r.mbs = bytes / 1e3 / (double)(time_mono_ms() - t0 + 1);
	r.first_ms = (double)(leech->first_chunk_ms - t0);
	check_plaintext(&tn, leech, &pub.key, bytes, 5);
	if (t.failures) {
		fprintf(stderr, "swarm: the download is not byte-exact\n");
		exit(1);
	}
	content_published_clear(&pub);
	tn_free(&tn);
	return r;
}

static void json_line(const char *metric, double v, double ceiling,
		      double target, bool higher)
{
	printf("{\"bench\":\"swarm\",\"metric\":\"%s\",\"value\":%.2f,"
	       "\"ceiling\":%.2f,\"ratio\":%.3f,\"target\":%.2f,"
	       "\"higher_is_better\":%s}\n", metric, v, ceiling,
	       ceiling > 0 ? v / ceiling : 0, target,
	       higher ? "true" : "false");
}

int main(int argc, char **argv)
{
	static const unsigned counts[] = { 1, 2, 4 };
	uint64_t mib = 32;
	double verify = 0;
	struct run rr[3], st;
	char metric[64];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc) {
			mib = strtoull(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: swarm [--mib N]\n");
			return 2;
		}
	}
	if (mib == 0 || mib > 4096)
		return 2;
	crypto_init();
	for (int i = 0; i < 3; i++)
		rr[i] = one_run(mib << 20, counts[i], SWARM_PICK_RAREST,
				i == 0 ? &verify : NULL);
	st = one_run(mib << 20, 1, SWARM_PICK_STREAMING, NULL);
	printf("swarm over localnet, %llu MiB in 64 KiB chunks\n",
	       (unsigned long long)mib);
	printf("  verify (1 thread)          %8.1f MB/s\n", verify);
	for (int i = 0; i < 3; i++)
		printf("  %u seeder%s, rarest-first    %8.1f MB/s, first chunk "
		       "%5.0f ms\n", counts[i], counts[i] > 1 ? "s" : " ",
		       rr[i].mbs, rr[i].first_ms);
	printf("  1 seeder, streaming        %8.1f MB/s, first chunk "
	       "%5.0f ms\n", st.mbs, st.first_ms);
	for (int i = 0; i < 3; i++) {
		snprintf(metric, sizeof(metric), "localnet_%useeders_MB/s",
			 counts[i]);
		json_line(metric, rr[i].mbs, verify, 0.25, true);
	}
	json_line("localnet_streaming_first_chunk_ms", st.first_ms, 3000, 1.0,
		  false);
	return 0;
}
