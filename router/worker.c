/*
 * Worker pool (router/worker.h): a FIFO of jobs guarded by a mutex and a
 * condition variable, N threads that run them, and a second FIFO of
 * finished jobs that one libevent event drains on the loop thread in
 * bounded batches.  Workers block every signal, so libevent's signal
 * handling and the loop thread's syscalls behave as in a single thread.
 */
#include "config.h"
#include "router/worker.h"
#include "router/evloop.h"
#include "crypto/base/alloc.h"
#include "crypto/base/log.h"

#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

/* done() callbacks run per loop callback before yielding. */
#define WORKER_DONE_BATCH 32
#define WORKER_DEFAULT_MAX_THREADS 8

struct job {
	struct work w;
	struct job *next;
};

struct job_queue {
	struct job *head, *tail;
};

struct worker_pool {
	struct evloop *el;
	pthread_mutex_t lock;		/* guards todo, finished, stopping */
	pthread_cond_t cond;		/* todo grew or stopping was set */
	struct job_queue todo, finished;
	bool stopping;
	struct event *done_ev;
	unsigned nthreads;
	pthread_t threads[WORKER_MAX_THREADS];
};

static void jq_push(struct job_queue *q, struct job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct job *jq_pop(struct job_queue *q)
{
	struct job *j = q->head;

	if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
	}
	return j;
}

static void *worker_main(void *arg)
{
	struct worker_pool *wp = arg;
	struct job *j;

	pthread_mutex_lock(&wp->lock);
	for (;;) {
		while (!wp->todo.head && !wp->stopping)
			pthread_cond_wait(&wp->cond, &wp->lock);
		if (!(j = jq_pop(&wp->todo)))
			break;		/* stopping and nothing left */
		pthread_mutex_unlock(&wp->lock);
		j->w.run(j->w.arg);
		pthread_mutex_lock(&wp->lock);
		if (!wp->finished.head)
			event_active(wp->done_ev, EV_READ, 0);
		jq_push(&wp->finished, j);
	}
	pthread_mutex_unlock(&wp->lock);
	return NULL;
}

/* Run up to max done callbacks; return how many ran. */
static unsigned run_finished(struct worker_pool *wp, unsigned max)
{
	unsigned n;
	struct job *j;

	for (n = 0; n < max; n++) {
		pthread_mutex_lock(&wp->lock);
		j = jq_pop(&wp->finished);
		pthread_mutex_unlock(&wp->lock);
		if (!j)
			break;
		j->w.done(j->w.arg);
		free(j);
	}
	return n;
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker_pool *wp = arg;

	(void)fd;
	(void)what;
	if (run_finished(wp, WORKER_DONE_BATCH) == WORKER_DONE_BATCH) {
		pthread_mutex_lock(&wp->lock);
		if (wp->finished.head)
			event_active(wp->done_ev, EV_READ, 0);
		pthread_mutex_unlock(&wp->lock);
	}
}

static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > WORKER_DEFAULT_MAX_THREADS ? WORKER_DEFAULT_MAX_THREADS :
	       (unsigned)n;
}

struct worker_pool *worker_pool_new(struct evloop *el, unsigned nthreads)
{
	struct worker_pool *wp = xzalloc(sizeof(*wp));
	sigset_t all, old;

	evloop_assert_in_loop(el);
	if (nthreads == 0)
		nthreads = default_threads();
	if (BUG(nthreads > WORKER_MAX_THREADS))
		nthreads = WORKER_MAX_THREADS;
	wp->el = el;
	pthread_mutex_init(&wp->lock, NULL);
	pthread_cond_init(&wp->cond, NULL);
	wp->done_ev = event_new(evloop_base(el), -1, 0, done_cb, wp);
	if (!wp->done_ev) {
		log_err(LD_GENERAL, "cannot create the worker event");
		abort();
	}
	/* Threads inherit the mask: keep signals on the loop thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < nthreads; i++) {
		if (pthread_create(&wp->threads[i], NULL, worker_main, wp) != 0) {
			log_err(LD_GENERAL, "cannot start worker thread %u", i);
			abort();
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	wp->nthreads = nthreads;
	return wp;
}

void worker_pool_free(struct worker_pool *wp)
{
	if (!wp)
		return;
	evloop_assert_in_loop(wp->el);
	pthread_mutex_lock(&wp->lock);
	wp->stopping = true;
	pthread_cond_broadcast(&wp->cond);
	pthread_mutex_unlock(&wp->lock);
	for (unsigned i = 0; i < wp->nthreads; i++)
		pthread_join(wp->threads[i], NULL);
	while (run_finished(wp, WORKER_DONE_BATCH) > 0)
		;
	event_free(wp->done_ev);
	pthread_cond_destroy(&wp->cond);
	pthread_mutex_destroy(&wp->lock);
	free(wp);
}

void worker_submit(struct worker_pool *wp, struct work w)
{
	struct job *j;

	evloop_assert_in_loop(wp->el);
	if (BUG(!w.run || !w.done))
		return;
	j = xmalloc(sizeof(*j));
	j->w = w;
	pthread_mutex_lock(&wp->lock);
	jq_push(&wp->todo, j);
	pthread_cond_signal(&wp->cond);
	pthread_mutex_unlock(&wp->lock);
}

unsigned worker_pool_size(const struct worker_pool *wp)
{
	return wp->nthreads;
}
