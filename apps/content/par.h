/*
 * A small fork-join pool for CPU-bound batches (sealing and hashing
 * chunks).  It is owned by one caller at a time; the caller's own thread
 * takes part in every run, so a pool of 1 starts no thread at all.
 */
#ifndef APPS_CONTENT_PAR_H
#define APPS_CONTENT_PAR_H

#include <stdint.h>

#define CONTENT_THREADS_MAX 64

/* worker: which thread runs the call, in [0, content_pool_threads()); a
 * worker runs one call at a time, so per-worker state needs no lock. */
typedef void (*content_par_fn)(void *ctx, unsigned worker, uint32_t item);

struct content_pool;

/* A pool of threads workers in all (1..CONTENT_THREADS_MAX; other values
 * are clamped).  Never returns NULL.  Caller owns it. */
struct content_pool *content_pool_new(unsigned threads);
/* Stop and join the workers.  Accepts NULL. */
void content_pool_free(struct content_pool *p);
unsigned content_pool_threads(const struct content_pool *p);
/* Call fn(ctx, w, i) once for every i in [0, n), spread over the threads;
 * return when all calls are done.  fn must be safe to run concurrently
 * for different items. */
void content_pool_run(struct content_pool *p, content_par_fn fn, void *ctx,
		      uint32_t n);

/*
 * Hand fn(ctx, w, i) for i in [0, n) to the workers only (w ≥ 1) and return
 * at once,
 * so the caller can do I/O meanwhile; content_pool_wait() returns when all
 * calls are done.  A pool of 1 (no workers) runs them inside start.  Start
 * and wait come in pairs, one run at a time.
 */
void content_pool_start(struct content_pool *p, content_par_fn fn, void *ctx,
			uint32_t n);
void content_pool_wait(struct content_pool *p);
/* content_pool_wait, but the caller's thread first takes part in what is
 * left of the run, as worker 0: the caller done with its I/O helps
 * instead of sleeping. */
void content_pool_finish(struct content_pool *p);

#endif /* APPS_CONTENT_PAR_H */
