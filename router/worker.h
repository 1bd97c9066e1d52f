/*
 * The worker pool (STYLE.md §4): threads for blocking work, so nothing
 * blocks the loop.  A job owns its input until it is done and never
 * touches objects the loop owns; done() runs on the loop thread and looks
 * its target up again by id (Tor's cpuworker).
 */
#ifndef ROUTER_WORKER_H
#define ROUTER_WORKER_H

struct evloop;
struct worker_pool;	/* opaque */

struct work {
	void (*run)(void *arg);   /* worker thread: may block; touches only arg */
	void (*done)(void *arg);  /* loop thread: applies the result, frees arg */
	void *arg;
};

#define WORKER_MAX_THREADS 64

/*
 * Start nthreads workers (1..WORKER_MAX_THREADS; 0 picks one per online
 * CPU, at most 8) whose done callbacks run on el.  Loop thread.  Never
 * returns NULL; caller owns the pool and frees it before el.
 */
struct worker_pool *worker_pool_new(struct evloop *el, unsigned nthreads);
/*
 * Stop the pool: every job already submitted still runs, and its done()
 * runs on the calling (loop) thread before this returns.  Not from inside
 * a done callback.  Accepts NULL.
 */
void worker_pool_free(struct worker_pool *wp);
/* Queue w; w.run and w.done must be set.  Loop thread. */
void worker_submit(struct worker_pool *wp, struct work w);
/* Threads in the pool. */
unsigned worker_pool_size(const struct worker_pool *wp);

#endif /* ROUTER_WORKER_H */
