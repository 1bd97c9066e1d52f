/* Helpers shared by the apps/swarm tests and tools/bench/swarm: several
 * destinations with their own blob stores and swarms on one localnet. */
#ifndef TESTS_UNIT_SWARM_TSWARM_H
#define TESTS_UNIT_SWARM_TSWARM_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/client/localnet.h"
#include "apps/client/net.h"
#include "apps/content/publish.h"
#include "apps/content/store.h"
#include "apps/swarm/swarm.h"
#include "tests/unit/tharness.h"

#define TN_NODES_MAX 6
#define TN_LOG_MAX 8192
#define TN_TIMEOUT_MS 180000		/* generous: ASan builds on a busy box */

struct tnet;

struct tnode {
	struct tnet *tn;
	struct client_dest *d;
	struct stream_signer sg;
	struct client_stream_sink cs;
	struct stream_mgr *mgr;
	struct content_store *st;
	struct swarm *sw;
	/* Chunks in the order they were stored. */
	uint32_t log[TN_LOG_MAX];
	unsigned nlog;
	uint64_t first_chunk_ms;	/* time_mono_ms() of the first */
	/* Seek to seek_to once seek_after chunks are in (0: never). */
	unsigned seek_after;
	uint32_t seek_to;
	unsigned seek_at;		/* nlog when the seek happened */
	/* A reader in order: after chunk i, wait for i + 1 with
	 * swarm_play (1) or swarm_seek (2); 0: none. */
	unsigned reader;
};

struct tnet {
	struct tctx *t;
	char *dir;
	struct evloop *el;
	struct localnet *ln;
	struct client_net cn;
	struct tnode n[TN_NODES_MAX];
	unsigned count;
	uint8_t hash[32];
	struct evloop_timer *poll;
	struct worker_pool *wp;		/* every swarm's flushes */
	bool (*cond)(struct tnet *tn);
	uint64_t deadline, until;
	bool met;
	int gate[2];			/* tn_gate_hold's pipe, or -1 */
	unsigned gate_held;		/* jobs waiting on it */
};

/* A loop, a localnet and a temporary directory for t. */
void tn_init(struct tnet *tn, struct tctx *t);
/* A destination with its stream manager and store (no swarm). */
struct tnode *tn_dest(struct tnet *tn);
/* A destination with a swarm (cfg NULL: the defaults) that logs the
 * chunks it stores. */
struct tnode *tn_node(struct tnet *tn, const struct swarm_config *cfg);
void tn_free(struct tnet *tn);
/* Run the loop until cond holds (true) or TN_TIMEOUT_MS pass (false). */
bool tn_run(struct tnet *tn, bool (*cond)(struct tnet *tn));
/* Run the loop for ms milliseconds. */
void tn_run_ms(struct tnet *tn, unsigned ms);
/* Hold n threads of wp (a job each that waits) until tn_gate_open (from
 * any thread; tn_free opens it too). */
struct worker_pool;
void tn_gate_hold(struct tnet *tn, struct worker_pool *wp, unsigned n);
void tn_gate_open(struct tnet *tn);
bool node_complete(struct tnode *nd, const uint8_t hash[32]);
/* Every node with a swarm from index 1 on has the whole content. */
bool all_complete(struct tnet *tn);
/* Publish n bytes of stream seed (chunks of 2^log2) into nd's store;
 * tn->hash becomes its hash. */
void tn_publish(struct tnet *tn, struct tnode *nd, uint64_t n,
		uint32_t seed, unsigned log2, struct content_published *out);
/* nd's copy decrypts with k to exactly n bytes of stream seed. */
void check_plaintext(struct tnet *tn, struct tnode *nd,
		     const struct content_key *k, uint64_t n, uint32_t seed);

#endif /* TESTS_UNIT_SWARM_TSWARM_H */
