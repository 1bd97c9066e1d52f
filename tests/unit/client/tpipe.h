/*
 * A simulated network for streaming tests: two stream managers on a
 * virtual clock (time_set_mono_override), joined by a pipe that loses,
 * delays and reorders packets by a seeded generator.  Nothing sleeps: the
 * clock jumps to the next packet arrival or timer deadline.
 */
#ifndef TESTS_UNIT_CLIENT_TPIPE_H
#define TESTS_UNIT_CLIENT_TPIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/client/dest.h"
#include "apps/client/stream.h"

struct tpipe;

/* Called for every packet the pipe carries (after loss); may edit it. */
typedef void (*tpipe_tap_fn)(void *ctx, int from, uint8_t *pkt, size_t len);

struct tpipe_cfg {
	unsigned loss_pct;		/* 0..100 */
	uint32_t delay_ms;		/* one way */
	uint32_t jitter_ms;		/* extra 0..jitter: reorders */
	uint64_t seed;
	struct stream_config stream[2];	/* per endpoint */
	tpipe_tap_fn tap;
	void *tap_ctx;
	/* A stall (stall_ms > 0): what endpoint stall_from sends from
	 * stall_at_ms (after the start) for stall_ms is held until the
	 * stall ends (a hop descheduled), or lost with stall_drops. */
	int stall_from;
	uint64_t stall_at_ms, stall_ms;
	bool stall_drops;
};

/* Endpoints 0 and 1 with destinations tclient_dest(1) and (2).  Starts the
 * virtual clock.  Caller frees. */
struct tpipe *tpipe_new(const struct tpipe_cfg *cfg);
void tpipe_free(struct tpipe *p);
struct stream_mgr *tpipe_mgr(struct tpipe *p, int i);
const struct keys_and_cert *tpipe_dest(struct tpipe *p, int i);
/* Run until done(ctx) is true or limit_ms of virtual time have passed
 * (the clock then stands at the limit); returns done(ctx). */
bool tpipe_run(struct tpipe *p, bool (*done)(void *ctx), void *ctx,
	       uint64_t limit_ms);
/* The virtual clock (ms). */
uint64_t tpipe_now(const struct tpipe *p);
/* Packets carried and lost so far. */
uint64_t tpipe_carried(const struct tpipe *p);
uint64_t tpipe_lost(const struct tpipe *p);
/* Largest packet carried. */
size_t tpipe_max_len(const struct tpipe *p);

#endif /* TESTS_UNIT_CLIENT_TPIPE_H */
