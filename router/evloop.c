/*
 * The event loop (router/evloop.h): one libevent base with three priority
 * levels.  Ordinary events use the middle one (libevent's default for
 * three queues); the reaper runs at the lowest, so libevent only gets to it
 * once no other callback is active: "after the loop pass".  A loop that
 * stays busy (a socket ready at every pass) never gets there, and marked
 * objects would pile up; so EVLOOP_REAP_MAX_MS after a mark a timer at the
 * ordinary level takes what is marked by then as ripe, and a 0 ms timer
 * frees that in the next pass (an object marked in the timer's own pass
 * may still be in use by a callback after it in that pass).  Posted
 * functions arrive through a mutex-protected queue and one event that other
 * threads activate (libevent_pthreads makes event_active() thread-safe and
 * wakes the loop).
 */
#include "config.h"
#include "router/evloop.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdlib.h>

/* Posted functions run per callback before yielding to other events. */
#define EVLOOP_POST_BATCH 64
#define EVLOOP_PRIORITIES 3
#define EVLOOP_PRIO_REAPER 2
/* A busy loop frees marked objects this long after marking (and a pass). */
#define EVLOOP_REAP_MAX_MS 20

struct evloop_item {
	evloop_fn fn;
	void *arg;
	struct evloop_item *next;
};

/* A FIFO of items; head == NULL when empty. */
struct evloop_queue {
	struct evloop_item *head, *tail;
};

struct evloop {
	struct event_base *base;
	pthread_t loop_thread;
	pthread_mutex_t post_lock;	/* guards posted */
	struct evloop_queue posted;
	struct event *post_ev;
	struct evloop_queue closing;	/* loop thread only */
	struct evloop_queue ripe;	/* marked in an earlier pass */
	struct event *reap_ev;
	struct event *bound_ev;		/* EVLOOP_REAP_MAX_MS after a mark */
	struct event *ripe_ev;		/* 0 ms: the next pass */
};

struct evloop_timer {
	struct event *ev;
	evloop_fn fn;
	void *arg;
};

static void queue_push(struct evloop_queue *q, evloop_fn fn, void *arg)
{
	struct evloop_item *it = xmalloc(sizeof(*it));

	*it = (struct evloop_item){ .fn = fn, .arg = arg };
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
}

/* Pop the head into fn and arg; false when q is empty. */
static bool queue_pop(struct evloop_queue *q, evloop_fn *fn, void **arg)
{
	struct evloop_item *it = q->head;

	if (!it)
		return false;
	q->head = it->next;
	if (!q->head)
		q->tail = NULL;
	*fn = it->fn;
	*arg = it->arg;
	free(it);
	return true;
}

static bool post_pop(struct evloop *el, evloop_fn *fn, void **arg)
{
	bool got;

	pthread_mutex_lock(&el->post_lock);
	got = queue_pop(&el->posted, fn, arg);
	pthread_mutex_unlock(&el->post_lock);
	return got;
}

static void post_cb(evutil_socket_t fd, short what, void *arg)
{
	struct evloop *el = arg;
	evloop_fn fn;
	void *farg;
	int n;

	(void)fd;
	(void)what;
	for (n = 0; n < EVLOOP_POST_BATCH && post_pop(el, &fn, &farg); n++)
		fn(farg);
	if (n == EVLOOP_POST_BATCH) {
		/* Bounded work per callback: come back for the rest. */
		pthread_mutex_lock(&el->post_lock);
		if (el->posted.head)
			event_active(el->post_ev, EV_READ, 0);
		pthread_mutex_unlock(&el->post_lock);
	}
}

/* Run and drop every item of q, and those the items add to it. */
static void queue_run(struct evloop_queue *q)
{
	evloop_fn fn;
	void *obj;

	while (queue_pop(q, &fn, &obj))
		fn(obj);
}

/* Free everything marked so far, including what those frees mark. */
static void reap_all(struct evloop *el)
{
	queue_run(&el->ripe);
	queue_run(&el->closing);
	event_del(el->bound_ev);
	event_del(el->ripe_ev);
}

/* Nothing else to run: every pass's callbacks are done. */
static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reap_all(arg);
}

/* The loop stayed busy since a mark: what is marked now is ripe in the
 * next pass. */
static void bound_cb(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval now = { 0, 0 };
	struct evloop *el = arg;

	(void)fd;
	(void)what;
	if (!el->closing.head)
		return;
	if (el->ripe.tail)
		el->ripe.tail->next = el->closing.head;
	else
		el->ripe.head = el->closing.head;
	el->ripe.tail = el->closing.tail;
	el->closing.head = el->closing.tail = NULL;
	event_add(el->ripe_ev, &now);
}

/* The pass after bound_cb: free what was ripe (what was marked since
 * waits for the reaper or its own bound). */
static void ripe_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	queue_run(&((struct evloop *)arg)->ripe);
}

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

static void threads_init(void)
{
	if (evthread_use_pthreads() != 0) {
		log_err(LD_GENERAL, "libevent has no pthread support");
		abort();
	}
}

struct evloop *evloop_new(void)
{
	struct evloop *el = xzalloc(sizeof(*el));

	pthread_once(&threads_once, threads_init);
	el->base = event_base_new();
	if (!el->base || event_base_priority_init(el->base, EVLOOP_PRIORITIES)) {
		log_err(LD_GENERAL, "cannot create the libevent base");
		abort();	/* like OOM: nothing can run without it */
	}
	el->loop_thread = pthread_self();
	pthread_mutex_init(&el->post_lock, NULL);
	el->post_ev = event_new(el->base, -1, 0, post_cb, el);
	el->reap_ev = event_new(el->base, -1, 0, reap_cb, el);
	el->bound_ev = evtimer_new(el->base, bound_cb, el);
	el->ripe_ev = evtimer_new(el->base, ripe_cb, el);
	if (!el->post_ev || !el->reap_ev || !el->bound_ev || !el->ripe_ev ||
	    event_priority_set(el->reap_ev, EVLOOP_PRIO_REAPER) != 0) {
		log_err(LD_GENERAL, "cannot create loop events");
		abort();
	}
	return el;
}

void evloop_free(struct evloop *el)
{
	evloop_fn fn;
	void *arg;

	if (!el)
		return;
	evloop_assert_in_loop(el);
	while (post_pop(el, &fn, &arg))
		fn(arg);
	reap_all(el);
	event_free(el->post_ev);
	event_free(el->reap_ev);
	event_free(el->bound_ev);
	event_free(el->ripe_ev);
	event_base_free(el->base);
	pthread_mutex_destroy(&el->post_lock);
	free(el);
}

struct event_base *evloop_base(struct evloop *el)
{
	return el->base;
}

int evloop_run(struct evloop *el)
{
	evloop_assert_in_loop(el);
	if (event_base_dispatch(el->base) < 0) {
		log_err(LD_GENERAL, "event loop failed");
		return ERR_INTERNAL;
	}
	return 0;
}

void evloop_break(struct evloop *el)
{
	event_base_loopbreak(el->base);
}

void evloop_post(struct evloop *el, evloop_fn fn, void *arg)
{
	bool was_empty;

	pthread_mutex_lock(&el->post_lock);
	was_empty = el->posted.head == NULL;
	queue_push(&el->posted, fn, arg);
	/* Activate while holding the lock, so post_cb's re-check and this
	 * activation cannot both miss each other. */
	if (was_empty)
		event_active(el->post_ev, EV_READ, 0);
	pthread_mutex_unlock(&el->post_lock);
}

bool evloop_is_in_loop(const struct evloop *el)
{
	return pthread_equal(el->loop_thread, pthread_self()) != 0;
}

void evloop_mark_close(struct evloop *el, evloop_fn free_fn, void *obj)
{
	evloop_assert_in_loop(el);
	if (!el->closing.head) {
		static const struct timeval bound = {
			0, EVLOOP_REAP_MAX_MS * 1000
		};

		event_active(el->reap_ev, EV_READ, 0);
		if (!event_pending(el->bound_ev, EV_TIMEOUT, NULL))
			event_add(el->bound_ev, &bound);
	}
	queue_push(&el->closing, free_fn, obj);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct evloop_timer *t = arg;

	(void)fd;
	(void)what;
	t->fn(t->arg);
}

struct evloop_timer *evloop_timer_new(struct evloop *el, evloop_fn fn,
				      void *arg)
{
	struct evloop_timer *t = xzalloc(sizeof(*t));

	evloop_assert_in_loop(el);
	t->fn = fn;
	t->arg = arg;
	t->ev = evtimer_new(el->base, timer_cb, t);
	if (!t->ev) {
		log_err(LD_GENERAL, "cannot create a timer");
		abort();
	}
	return t;
}

void evloop_timer_arm(struct evloop_timer *t, uint64_t delay_ms)
{
	struct timeval tv = {
		.tv_sec = (time_t)(delay_ms / 1000),
		.tv_usec = (suseconds_t)(delay_ms % 1000) * 1000,
	};

	/* libevent keeps timeouts on CLOCK_MONOTONIC. */
	evtimer_add(t->ev, &tv);
}

void evloop_timer_disarm(struct evloop_timer *t)
{
	evtimer_del(t->ev);
}

bool evloop_timer_is_armed(const struct evloop_timer *t)
{
	return evtimer_pending(t->ev, NULL) != 0;
}

void evloop_timer_free(struct evloop_timer *t)
{
	if (!t)
		return;
	event_free(t->ev);
	free(t);
}
