/*
 * Fork-join pool (apps/content/par.h).  Items are handed out through an
 * atomic counter, so uneven items balance themselves; a generation number
 * wakes the workers for each run.
 */
#include "config.h"
#include "apps/content/par.h"
#include "crypto/base/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

struct content_pool {
	unsigned threads;
	pthread_t *tid;
	struct worker_arg *args;	/* one per thread */
	pthread_mutex_t mu;
	pthread_cond_t wake, idle;
	uint64_t gen;		/* bumped per run (under mu) */
	unsigned busy;		/* workers still in the current run */
	bool stop;
	/* The current run. */
	content_par_fn fn;
	void *ctx;
	uint32_t n;
	atomic_uint_fast32_t next;
};

static void drain(struct content_pool *p, unsigned w)
{
	for (;;) {
		uint_fast32_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			return;
		p->fn(p->ctx, w, (uint32_t)i);
	}
}

/* A worker thread's argument: its pool and its index. */
struct worker_arg {
	struct content_pool *p;
	unsigned w;
};

static void *worker(void *arg)
{
	struct content_pool *p = ((struct worker_arg *)arg)->p;
	unsigned w = ((struct worker_arg *)arg)->w;
	uint64_t seen = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->gen == seen)
			pthread_cond_wait(&p->wake, &p->mu);
		if (p->stop)
			break;
		seen = p->gen;
		pthread_mutex_unlock(&p->mu);
		drain(p, w);
		pthread_mutex_lock(&p->mu);
		if (--p->busy == 0)
			pthread_cond_signal(&p->idle);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct content_pool *content_pool_new(unsigned threads)
{
	struct content_pool *p = xzalloc(sizeof(*p));

	if (threads < 1)
		threads = 1;
	if (threads > CONTENT_THREADS_MAX)
		threads = CONTENT_THREADS_MAX;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->wake, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->tid = xcalloc(threads, sizeof(*p->tid));
	p->args = xcalloc(threads, sizeof(*p->args));
	p->threads = 1;
	for (unsigned i = 1; i < threads; i++) {
		p->args[i] = (struct worker_arg){ p, i };
		if (pthread_create(&p->tid[i], NULL, worker, &p->args[i]) != 0)
			break;	/* run with the threads we got */
		p->threads++;
	}
	return p;
}

void content_pool_free(struct content_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 1; i < p->threads; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->wake);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->mu);
	free(p->tid);
	free(p->args);
	free(p);
}

unsigned content_pool_threads(const struct content_pool *p)
{
	return p->threads;
}

void content_pool_start(struct content_pool *p, content_par_fn fn, void *ctx,
			uint32_t n)
{
	if (p->threads == 1) {
		for (uint32_t i = 0; i < n; i++)
			fn(ctx, 0, i);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->ctx = ctx;
	p->n = n;
	atomic_store(&p->next, 0);
	p->busy = p->threads - 1;
	p->gen++;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
}

void content_pool_wait(struct content_pool *p)
{
	if (p->threads == 1)
		return;
	pthread_mutex_lock(&p->mu);
	while (p->busy)
		pthread_cond_wait(&p->idle, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void content_pool_finish(struct content_pool *p)
{
	if (p->threads > 1)
		drain(p, 0);
	content_pool_wait(p);
}

void content_pool_run(struct content_pool *p, content_par_fn fn, void *ctx,
		      uint32_t n)
{
	content_pool_start(p, fn, ctx, n);
	content_pool_finish(p);	/* the caller takes part, as worker 0 */
}
