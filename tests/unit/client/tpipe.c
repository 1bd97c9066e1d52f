/* The simulated network of tpipe.h. */
#include "config.h"
#include "tests/unit/client/tpipe.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/base/alloc.h"
#include "crypto/base/time.h"
#include "tests/unit/client/tclient.h"

#define TPIPE_T0_MS 1000000

struct tpkt {
	uint64_t at;
	int to;
	uint16_t sp, dp;
	uint8_t *data;
	size_t len;
};

struct tend {
	struct tpipe *p;
	int idx;
};

struct tpipe {
	struct tpipe_cfg cfg;
	uint64_t rng, now;
	struct tend end[2];
	struct client_dest *dest[2];
	struct stream_signer signer[2];
	struct stream_mgr *mgr[2];
	struct tpkt *q;
	size_t nq, capq;
	uint64_t carried, lost;
	size_t max_len;
};

static uint32_t prng(struct tpipe *p)
{
	/* xorshift64* */
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return (uint32_t)((p->rng * 2685821657736338717ull) >> 32);
}

/* What endpoint from sends now is stalled (tpipe_cfg). */
static bool in_stall(const struct tpipe *p, int from)
{
	uint64_t at = TPIPE_T0_MS + p->cfg.stall_at_ms;

	return p->cfg.stall_ms && from == p->cfg.stall_from &&
	       p->now >= at && p->now < at + p->cfg.stall_ms;
}

static int pipe_send(void *ctx, const struct keys_and_cert *to,
		     uint16_t src_port, uint16_t dst_port, const uint8_t *pkt,
		     size_t len)
{
	struct tend *e = ctx;
	struct tpipe *p = e->p;
	int dst = 1 - e->idx;
	struct tpkt *t;

	if (memcmp(to->hash, client_dest_pub(p->dest[dst])->hash, 32) != 0)
		abort();		/* addressed to nobody we know */
	if (prng(p) % 100 < p->cfg.loss_pct || (in_stall(p, e->idx) &&
						 p->cfg.stall_drops)) {
		p->lost++;
		return 0;
	}
	if (p->nq == p->capq) {
		p->capq = p->capq ? 2 * p->capq : 256;
		p->q = xrealloc(p->q, p->capq * sizeof(*p->q));
	}
	t = &p->q[p->nq++];
	t->at = p->now + p->cfg.delay_ms +
		(p->cfg.jitter_ms ? prng(p) % (p->cfg.jitter_ms + 1) : 0);
	if (in_stall(p, e->idx) &&
	    t->at < TPIPE_T0_MS + p->cfg.stall_at_ms + p->cfg.stall_ms)
		t->at = TPIPE_T0_MS + p->cfg.stall_at_ms + p->cfg.stall_ms;
	t->to = dst;
	t->sp = src_port;
	t->dp = dst_port;
	t->data = xmemdup(pkt, len);
	t->len = len;
	if (p->cfg.tap)
		p->cfg.tap(p->cfg.tap_ctx, e->idx, t->data, t->len);
	p->carried++;
	if (len > p->max_len)
		p->max_len = len;
	return 0;
}

struct tpipe *tpipe_new(const struct tpipe_cfg *cfg)
{
	struct tpipe *p = xzalloc(sizeof(*p));

	p->cfg = *cfg;
	p->rng = cfg->seed ? cfg->seed : 1;
	p->now = TPIPE_T0_MS;
	time_set_mono_override(p->now);
	for (int i = 0; i < 2; i++) {
		p->end[i].p = p;
		p->end[i].idx = i;
		p->dest[i] = tclient_dest((uint8_t)(i + 1));
		client_dest_signer(p->dest[i], &p->signer[i]);
		p->mgr[i] = stream_mgr_new(&cfg->stream[i], &p->signer[i],
					   (struct stream_sink){ pipe_send,
								 &p->end[i] },
					   NULL);
	}
	return p;
}

void tpipe_free(struct tpipe *p)
{
	if (!p)
		return;
	for (int i = 0; i < 2; i++) {
		stream_mgr_free(p->mgr[i]);
		client_dest_free(p->dest[i]);
	}
	for (size_t i = 0; i < p->nq; i++)
		free(p->q[i].data);
	free(p->q);
	free(p);
	time_set_mono_override(0);
}

struct stream_mgr *tpipe_mgr(struct tpipe *p, int i)
{
	return p->mgr[i];
}

const struct keys_and_cert *tpipe_dest(struct tpipe *p, int i)
{
	return client_dest_pub(p->dest[i]);
}

bool tpipe_run(struct tpipe *p, bool (*done)(void *ctx), void *ctx,
	       uint64_t limit_ms)
{
	uint64_t end = p->now + limit_ms;

	while (!done(ctx)) {
		uint64_t next = UINT64_MAX;
		size_t best = 0;

		for (size_t i = 0; i < p->nq; i++)
			if (p->q[i].at < next) {
				next = p->q[i].at;
				best = i;
			}
		for (int i = 0; i < 2; i++) {
			uint64_t d = stream_mgr_next_deadline(p->mgr[i]);

			if (d < next)
				next = d;
		}
		if (next == UINT64_MAX || next > end) {
			p->now = end;		/* nothing more before end */
			time_set_mono_override(p->now);
			return done(ctx);
		}
		if (next > p->now) {
			p->now = next;
			time_set_mono_override(p->now);
		}
		if (p->nq && p->q[best].at <= p->now) {
			struct tpkt t = p->q[best];

			/* Keep the rest in order: ties leave as they came. */
			memmove(&p->q[best], &p->q[best + 1],
				(p->nq - best - 1) * sizeof(*p->q));
			p->nq--;
			stream_mgr_receive(p->mgr[t.to], t.data, t.len, t.sp,
					   t.dp);
			free(t.data);
			continue;
		}
		for (int i = 0; i < 2; i++)
			if (stream_mgr_next_deadline(p->mgr[i]) <= p->now)
				stream_mgr_run_timers(p->mgr[i]);
	}
	return true;
}

uint64_t tpipe_now(const struct tpipe *p)
{
	return p->now;
}

uint64_t tpipe_carried(const struct tpipe *p)
{
	return p->carried;
}

uint64_t tpipe_lost(const struct tpipe *p)
{
	return p->lost;
}

size_t tpipe_max_len(const struct tpipe *p)
{
	return p->max_len;
}
