/* router/worker: jobs run on worker threads, done() on the loop. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/router/tloop.h"
#include "router/evloop.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <pthread.h>
#include <stdlib.h>

#define JOBS 100

struct batch {
	struct evloop *el;
	pthread_t loop_thread;
	int done;		/* loop thread only */
	int done_off_loop;	/* done() calls not on the loop thread */
	int run_on_loop;	/* run() calls on the loop thread */
	unsigned long results[JOBS];
	pthread_mutex_t lock;	/* guards run_on_loop */
};

struct job {
	struct batch *b;
	int i;
	unsigned long in, out;
};

static void job_run(void *arg)
{
	struct job *j = arg;

	if (pthread_equal(pthread_self(), j->b->loop_thread)) {
		pthread_mutex_lock(&j->b->lock);
		j->b->run_on_loop++;
		pthread_mutex_unlock(&j->b->lock);
	}
	j->out = j->in * j->in + 1;	/* the "blocking" work */
}

static void job_done(void *arg)
{
	struct job *j = arg;
	struct batch *b = j->b;

	if (!evloop_is_in_loop(b->el))
		b->done_off_loop++;
	b->results[j->i] = j->out;
	free(j);
	if (++b->done == JOBS)
		evloop_break(b->el);
}

static void submit_all(struct batch *b, struct worker_pool *wp)
{
	for (int i = 0; i < JOBS; i++) {
		struct job *j = xmalloc(sizeof(*j));
		*j = (struct job){ .b = b, .i = i, .in = (unsigned long)i + 7 };
		worker_submit(wp, (struct work){ job_run, job_done, j });
	}
}

static void check_results(struct tctx *t, const struct batch *b)
{
	T_EQ(t, b->done, JOBS);
	T_EQ(t, b->done_off_loop, 0);
	T_EQ(t, b->run_on_loop, 0);
	for (int i = 0; i < JOBS; i++)
		T_EQ(t, b->results[i],
		     ((unsigned long)i + 7) * ((unsigned long)i + 7) + 1);
}

static void test_done_on_loop(struct tctx *t)
{
	struct batch b = { .el = evloop_new(), .loop_thread = pthread_self() };
	struct worker_pool *wp = worker_pool_new(b.el, 3);

	pthread_mutex_init(&b.lock, NULL);
	T_EQ(t, worker_pool_size(wp), 3);
	submit_all(&b, wp);
	tloop_run(t, b.el);
	check_results(t, &b);
	worker_pool_free(wp);
	evloop_free(b.el);
	pthread_mutex_destroy(&b.lock);
}

/* Freeing the pool finishes every job and runs its done() first. */
static void test_free_drains(struct tctx *t)
{
	struct batch b = { .el = evloop_new(), .loop_thread = pthread_self() };
	struct worker_pool *wp = worker_pool_new(b.el, 2);

	pthread_mutex_init(&b.lock, NULL);
	submit_all(&b, wp);
	worker_pool_free(wp);	/* the loop never ran */
	check_results(t, &b);
	evloop_free(b.el);
	pthread_mutex_destroy(&b.lock);
}

static void test_default_size(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct worker_pool *wp = worker_pool_new(el, 0);

	T_TRUE(t, worker_pool_size(wp) >= 1);
	T_TRUE(t, worker_pool_size(wp) <= 8);
	worker_pool_free(wp);
	evloop_free(el);
}

const struct test_case router_worker_tests[] = {
	{ "done_on_loop", test_done_on_loop, 0 },
	{ "free_drains", test_free_drains, 0 },
	{ "default_size", test_default_size, 0 },
	{ NULL, NULL, 0 }
};
