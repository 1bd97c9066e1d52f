/* Helpers shared by the apps/swarm tests and tools/bench/swarm. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/content/cdir.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/time.h"
#include "router/evloop.h"
#include "router/worker.h"
#include "tests/unit/content/tcontent.h"
#include "tests/unit/swarm/tswarm.h"

static void tn_chunk(void *ctx, const uint8_t hash[32], uint32_t idx,
		     const uint8_t *ct, size_t len)
{
	struct tnode *nd = ctx;

	(void)ct;
	(void)len;
	if (idx == SWARM_META_READY)
		return;
	if (nd->nlog == 0)
		nd->first_chunk_ms = time_mono_ms();
	if (nd->nlog < TN_LOG_MAX)
		nd->log[nd->nlog++] = idx;
	if (nd->reader == 1)
		(void)swarm_play(nd->sw, hash, idx + 1);
	else if (nd->reader == 2)
		(void)swarm_seek(nd->sw, hash, idx + 1);
	if (nd->seek_after && nd->nlog == nd->seek_after) {
		nd->seek_at = nd->nlog;
		(void)swarm_seek(nd->sw, hash, nd->seek_to);
	}
	/* tn_run's condition is met the moment this chunk makes it so, not
	 * at the next 10 ms poll: a transfer can finish in between. */
	if (nd->tn->poll && !nd->tn->met && nd->tn->cond(nd->tn)) {
		nd->tn->met = true;
		evloop_break(nd->tn->el);
	}
}

void tn_init(struct tnet *tn, struct tctx *t)
{
	memset(tn, 0, sizeof(*tn));
	tn->t = t;
	tn->dir = t_tmpdir(t);
	tn->el = evloop_new();
	tn->ln = localnet_new(tn->el);
	tn->cn = localnet_client_net(tn->ln);
	tn->wp = worker_pool_new(tn->el, 1);
	tn->gate[0] = tn->gate[1] = -1;
}

/* A destination with its stream manager and store (no swarm yet). */
struct tnode *tn_dest(struct tnet *tn)
{
	struct tnode *nd = &tn->n[tn->count];
	struct stream_config sc;
	struct client_rx rx = { 0 };
	char name[16];
	char *dir;

	snprintf(name, sizeof(name), "node%u", tn->count++);
	nd->tn = tn;
	nd->d = client_dest_new_random();
	client_dest_signer(nd->d, &nd->sg);
	stream_config_default(&sc);
	nd->cs.net = tn->cn;
	nd->cs.from = nd->d;
	nd->mgr = stream_mgr_new(&sc, &nd->sg, client_stream_sink(&nd->cs),
				 tn->el);
	rx.mgr = nd->mgr;
	T_OK(tn->t, tn->cn.attach(tn->cn.ctx, nd->d, &rx));
	dir = fsutil_path_join(tn->dir, name);
	T_OK(tn->t, content_store_open(dir, &nd->st));
	free(dir);
	return nd;
}

struct tnode *tn_node(struct tnet *tn, const struct swarm_config *c)
{
	struct swarm_config def;
	struct tnode *nd = tn_dest(tn);

	if (!c) {
		swarm_config_default(&def);
		c = &def;
	}
	nd->sw = swarm_new(c, client_dest_pub(nd->d), nd->mgr, nd->st,
			   tn->el);
	swarm_set_chunk_cb(nd->sw, tn_chunk, nd);
	swarm_set_workers(nd->sw, tn->wp);
	return nd;
}

void tn_free(struct tnet *tn)
{
	for (unsigned i = 0; i < tn->count; i++) {
		struct tnode *nd = &tn->n[i];
		swarm_free(nd->sw);
		tn->cn.detach(tn->cn.ctx, nd->d);
		stream_mgr_free(nd->mgr);
		content_store_free(nd->st);
		client_dest_free(nd->d);
	}
	tn_gate_open(tn);		/* else the pool never stops */
	worker_pool_free(tn->wp);
	if (tn->gate[0] >= 0) {
		close(tn->gate[0]);
		close(tn->gate[1]);
	}
	localnet_free(tn->ln);
	evloop_free(tn->el);
	t_rmtree(tn->dir);
	free(tn->dir);
}

static void tn_poll(void *arg)
{
	struct tnet *tn = arg;

	if (tn->cond(tn) || time_mono_ms() >= tn->deadline) {
		tn->met = tn->cond(tn);
		evloop_break(tn->el);
		return;
	}
	evloop_timer_arm(tn->poll, 10);
}

/* Run the loop until cond holds (true) or TN_TIMEOUT_MS pass (false). */
bool tn_run(struct tnet *tn, bool (*cond)(struct tnet *tn))
{
	tn->cond = cond;
	tn->met = false;
	tn->deadline = time_mono_ms() + TN_TIMEOUT_MS;
	tn->poll = evloop_timer_new(tn->el, tn_poll, tn);
	evloop_timer_arm(tn->poll, 0);
	evloop_run(tn->el);
	evloop_timer_free(tn->poll);
	tn->poll = NULL;
	return tn->met;
}

static bool tn_waited(struct tnet *tn)
{
	return time_mono_ms() >= tn->until;
}

void tn_run_ms(struct tnet *tn, unsigned ms)
{
	tn->until = time_mono_ms() + ms;
	T_TRUE(tn->t, tn_run(tn, tn_waited));
}

static void gate_run(void *arg)
{
	int fd = *(int *)arg;
	char c;

	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
}

static void gate_done(void *arg)
{
	(void)arg;
}

void tn_gate_hold(struct tnet *tn, struct worker_pool *wp, unsigned n)
{
	if (tn->gate[0] < 0)
		T_EQ(tn->t, pipe(tn->gate), 0);
	for (unsigned i = 0; i < n; i++)
		worker_submit(wp, (struct work){ gate_run, gate_done,
						 &tn->gate[0] });
	tn->gate_held += n;
}

void tn_gate_open(struct tnet *tn)
{
	for (; tn->gate_held > 0; tn->gate_held--)
		if (write(tn->gate[1], "x", 1) != 1)
			break;
}

bool node_complete(struct tnode *nd, const uint8_t hash[32])
{
	struct swarm_content_stats s;

	return swarm_content_stats(nd->sw, hash, &s) == 0 &&
	       s.chunk_count > 0 && s.have_count == s.chunk_count;
}

/* Every node from index 1 on has the whole content. */
bool all_complete(struct tnet *tn)
{
	for (unsigned i = 1; i < tn->count; i++)
		if (tn->n[i].sw && !node_complete(&tn->n[i], tn->hash))
			return false;
	return true;
}

/* Publish n bytes of stream seed (16 KiB chunks) into nd's store. */
void tn_publish(struct tnet *tn, struct tnode *nd, uint64_t n,
		uint32_t seed, unsigned log2, struct content_published *out)
{
	struct content_publish_opts o = { .mime = "video/mp4",
					  .chunk_log2 = log2 };
	int fd = tc_source(tn->t, tn->dir, n, seed);

	T_TRUE(tn->t, fd >= 0);
	T_OK(tn->t, content_store_publish(nd->st, fd, &o, true, out));
	close(fd);
	memcpy(tn->hash, out->content_hash, 32);
}

/* nd's copy decrypts with k to exactly n bytes of stream seed. */
void check_plaintext(struct tnet *tn, struct tnode *nd,
			    const struct content_key *k, uint64_t n,
			    uint32_t seed)
{
	char *dir = content_store_dir(nd->st, tn->hash);
	char *out = fsutil_path_join(tn->dir, "plain");
	struct content_dir *cd = NULL;
	struct content_fault f;
	uint8_t *got = NULL, *want = xmalloc(n);
	size_t len = 0;
	int fd;

	T_OK(tn->t, content_dir_open(dir, &cd, &f));
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_TRUE(tn->t, fd >= 0);
	if (cd && fd >= 0)
		T_OK(tn->t, content_dir_cat(cd, k, 0, UINT64_MAX, fd, &f));
	if (fd >= 0)
		close(fd);
	T_OK(tn->t, fsutil_read_file(out, n + 1, &got, &len));
	tc_fill(want, n, 0, seed);
	T_EQ(tn->t, len, n);
	if (got && len == n)
		T_MEMEQ(tn->t, got, want, n);
	unlink(out);
	content_dir_free(cd);
	free(got);
	free(want);
	free(out);
	free(dir);
}

