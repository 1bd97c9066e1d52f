/* router/evloop: posting from threads, the reaper, timers. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/router/tloop.h"
#include "router/evloop.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct posted {
	struct evloop *el;
	pthread_t ran_on;
	bool in_loop;
	int runs;
};

static void posted_fn(void *arg)
{
	struct posted *p = arg;

	p->ran_on = pthread_self();
	p->in_loop = evloop_is_in_loop(p->el);
	p->runs++;
	evloop_break(p->el);
}

struct poster {
	struct posted *p;
	bool in_loop;	/* what evloop_is_in_loop said on the thread */
};

static void *poster_main(void *arg)
{
	struct poster *ps = arg;

	ps->in_loop = evloop_is_in_loop(ps->p->el);
	evloop_post(ps->p->el, posted_fn, ps->p);
	return NULL;
}

static void test_post_from_thread(struct tctx *t)
{
	struct evloop *el = evloop_new();
	struct posted p = { .el = el };
	struct poster ps = { .p = &p, .in_loop = true };
	pthread_t th;

	T_TRUE(t, evloop_is_in_loop(el));
	T_EQ(t, pthread_create(&th, NULL, poster_main, &ps), 0);
	tloop_run(t, el);
	pthread_join(th, NULL);
	T_FALSE(t, ps.in_loop);
	T_EQ(t, p.runs, 1);
	T_TRUE(t, p.in_loop);
	T_TRUE(t, pthread_equal(p.ran_on, pthread_self()));
	evloop_free(el);
}

/* Many threads posting at once: every function runs exactly once. */
#define STORM_THREADS 4
#define STORM_POSTS 500

struct storm {
	struct evloop *el;
	pthread_mutex_t lock;
	int count;		/* loop thread only */
	int per_thread[STORM_THREADS];
	int id;
};

struct storm_item {
	struct storm *s;
	int thread;
};

static void storm_fn(void *arg)
{
	struct storm_item *it = arg;

	it->s->per_thread[it->thread]++;
	if (++it->s->count == STORM_THREADS * STORM_POSTS)
		evloop_break(it->s->el);
	free(it);
}

static void *storm_main(void *arg)
{
	struct storm *s = arg;
	int id;

	pthread_mutex_lock(&s->lock);
	id = s->id++;
	pthread_mutex_unlock(&s->lock);
	for (int i = 0; i < STORM_POSTS; i++) {
		struct storm_item *it = xmalloc(sizeof(*it));
		it->s = s;
		it->thread = id;
		evloop_post(s->el, storm_fn, it);
	}
	return NULL;
}

static void test_post_storm(struct tctx *t)
{
	struct storm s = { .el = evloop_new() };
	pthread_t th[STORM_THREADS];

	pthread_mutex_init(&s.lock, NULL);
	for (int i = 0; i < STORM_THREADS; i++)
		T_EQ(t, pthread_create(&th[i], NULL, storm_main, &s), 0);
	tloop_run(t, s.el);
	for (int i = 0; i < STORM_THREADS; i++)
		pthread_join(th[i], NULL);
	T_EQ(t, s.count, STORM_THREADS * STORM_POSTS);
	for (int i = 0; i < STORM_THREADS; i++)
		T_EQ(t, s.per_thread[i], STORM_POSTS);
	pthread_mutex_destroy(&s.lock);
	evloop_free(s.el);
}

/* From the loop thread, in order, more than one batch's worth. */
#define ORDER_N 200

struct order {
	struct evloop *el;
	int seen[ORDER_N];
	int n;
};

static void order_fn(void *arg)
{
	struct order *o = arg;

	o->seen[o->n] = o->n;
	if (++o->n == ORDER_N)
		evloop_break(o->el);
}

static void order_start(void *arg)
{
	struct order *o = arg;

	for (int i = 0; i < ORDER_N; i++)
		evloop_post(o->el, order_fn, o);
}

static void test_post_order_in_loop(struct tctx *t)
{
	struct order o = { .el = evloop_new() };

	evloop_post(o.el, order_start, &o);
	tloop_run(t, o.el);
	T_EQ(t, o.n, ORDER_N);
	for (int i = 0; i < ORDER_N; i++)
		T_EQ(t, o.seen[i], i);
	evloop_free(o.el);
}

static void count_fn(void *arg)
{
	(*(int *)arg)++;
}

static void test_free_runs_pending(struct tctx *t)
{
	struct evloop *el = evloop_new();
	int n = 0;

	evloop_post(el, count_fn, &n);
	evloop_post(el, count_fn, &n);
	T_EQ(t, n, 0);			/* never inside evloop_post() */
	evloop_free(el);
	T_EQ(t, n, 2);
}

/*
 * The reaper: A marks obj closing inside a callback and activates B at
 * normal priority; B runs in the same pass and must still see obj alive;
 * the free runs after, then C breaks the loop.
 */
struct reap {
	struct evloop *el;
	struct event *b_ev;
	bool *alive;		/* obj's liveness flag */
	bool alive_in_b;
	bool alive_in_a_after_mark;
	int frees;
};

struct reap_obj {
	struct reap *r;
};

static void obj_free(void *arg)
{
	struct reap_obj *o = arg;

	*o->r->alive = false;
	o->r->frees++;
	evloop_break(o->r->el);
	free(o);
}

static void b_cb(evutil_socket_t fd, short what, void *arg)
{
	struct reap *r = arg;

	(void)fd;
	(void)what;
	r->alive_in_b = *r->alive;
}

static void a_fn(void *arg)
{
	struct reap_obj *o = arg;

	evloop_mark_close(o->r->el, obj_free, o);
	event_active(o->r->b_ev, EV_READ, 0);
	o->r->alive_in_a_after_mark = *o->r->alive;
}

static void test_reaper_after_pass(struct tctx *t)
{
	bool alive = true;
	struct reap r = { .el = evloop_new(), .alive = &alive };
	struct reap_obj *o = xmalloc(sizeof(*o));

	o->r = &r;
	r.b_ev = event_new(evloop_base(r.el), -1, 0, b_cb, &r);
	evloop_post(r.el, a_fn, o);
	tloop_run(t, r.el);
	T_TRUE(t, r.alive_in_a_after_mark);
	T_TRUE(t, r.alive_in_b);
	T_FALSE(t, alive);
	T_EQ(t, r.frees, 1);
	event_free(r.b_ev);
	evloop_free(r.el);
}

static void test_reaper_on_free(struct tctx *t)
{
	struct evloop *el = evloop_new();
	int n = 0;

	evloop_mark_close(el, count_fn, &n);
	evloop_mark_close(el, count_fn, &n);
	T_EQ(t, n, 0);
	evloop_free(el);	/* nothing marked is leaked */
	T_EQ(t, n, 2);
}

struct tick {
	struct evloop *el;
	struct evloop_timer *timer;
	int fired;
};

static void tick_fn(void *arg)
{
	struct tick *k = arg;

	k->fired++;
	if (k->fired < 3)
		evloop_timer_arm(k->timer, 0);	/* re-arm from the callback */
	else
		evloop_break(k->el);
}

static void test_timer_rearm(struct tctx *t)
{
	struct tick k = { .el = evloop_new() };

	k.timer = evloop_timer_new(k.el, tick_fn, &k);
	T_FALSE(t, evloop_timer_is_armed(k.timer));
	evloop_timer_arm(k.timer, 0);
	T_TRUE(t, evloop_timer_is_armed(k.timer));
	tloop_run(t, k.el);
	T_EQ(t, k.fired, 3);
	T_FALSE(t, evloop_timer_is_armed(k.timer));
	evloop_timer_free(k.timer);
	evloop_free(k.el);
}

static void break_fn(void *arg)
{
	evloop_break(arg);
}

static void test_timer_disarm(struct tctx *t)
{
	struct tick k = { .el = evloop_new() };
	struct evloop_timer *stop = evloop_timer_new(k.el, break_fn, k.el);

	k.timer = evloop_timer_new(k.el, tick_fn, &k);
	evloop_timer_arm(k.timer, 0);
	evloop_timer_disarm(k.timer);
	T_FALSE(t, evloop_timer_is_armed(k.timer));
	/* Timeouts fire in deadline order: had the disarm failed, the 0 ms
	 * timer would run before the 1 ms one that ends the loop. */
	evloop_timer_arm(stop, 1);
	tloop_run(t, k.el);
	T_EQ(t, k.fired, 0);
	evloop_timer_free(stop);
	evloop_timer_free(k.timer);
	evloop_free(k.el);
}

/*
 * A loop that stays busy: a pipe end always readable (its callback reads
 * nothing) puts a callback in every pass, so the reaper at the lowest
 * level never runs.  The objects marked (one in the busy callback's own
 * pass, to see that a callback after the mark in that pass still finds it
 * alive) are freed within the bound anyway, not when the loop goes idle
 * (the old reaper freed them only at evloop_free).
 */
struct busy {
	struct evloop *el;
	struct event *rd, *after;
	struct evloop_timer *stop;
	bool alive, alive_after;
	int passes, frees;
	uint64_t marked_ms, freed_ms;
};

static void busy_free(void *arg)
{
	struct busy *b = arg;

	b->alive = false;
	b->frees++;
	b->freed_ms = time_mono_ms();
}

static void busy_after(evutil_socket_t fd, short what, void *arg)
{
	struct busy *b = arg;

	(void)fd;
	(void)what;
	b->alive_after = b->alive;
}

static void busy_read(evutil_socket_t fd, short what, void *arg)
{
	struct busy *b = arg;

	(void)fd;
	(void)what;
	if (++b->passes == 10) {
		b->marked_ms = time_mono_ms();
		evloop_mark_close(b->el, busy_free, b);
		event_active(b->after, EV_READ, 0);
	}
}

static void busy_stop(void *arg)
{
	evloop_break(((struct busy *)arg)->el);
}

static void test_reaper_busy_loop(struct tctx *t)
{
	struct busy b = { .el = evloop_new(), .alive = true };
	int fds[2];

	T_TRUE(t, pipe(fds) == 0);
	T_TRUE(t, write(fds[1], "x", 1) == 1);	/* readable for good */
	b.rd = event_new(evloop_base(b.el), fds[0], EV_READ | EV_PERSIST,
			 busy_read, &b);
	b.after = event_new(evloop_base(b.el), -1, 0, busy_after, &b);
	event_add(b.rd, NULL);
	b.stop = evloop_timer_new(b.el, busy_stop, &b);
	evloop_timer_arm(b.stop, 300);
	tloop_run(t, b.el);
	T_TRUE(t, b.passes > 100);		/* it did stay busy */
	T_TRUE(t, b.alive_after);		/* not within the pass */
	T_EQ(t, b.frees, 1);
	T_FALSE(t, b.alive);
	T_TRUE(t, b.freed_ms - b.marked_ms < 200);
	event_free(b.rd);
	event_free(b.after);
	evloop_timer_free(b.stop);
	evloop_free(b.el);
	T_EQ(t, b.frees, 1);
	close(fds[0]);
	close(fds[1]);
}

const struct test_case router_evloop_tests[] = {
	{ "post/from_thread", test_post_from_thread, 0 },
	{ "post/storm", test_post_storm, 0 },
	{ "post/order_in_loop", test_post_order_in_loop, 0 },
	{ "post/free_runs_pending", test_free_runs_pending, 0 },
	{ "reaper/after_pass", test_reaper_after_pass, 0 },
	{ "reaper/on_free", test_reaper_on_free, 0 },
	{ "reaper/busy_loop", test_reaper_busy_loop, 0 },
	{ "timer/rearm", test_timer_rearm, 0 },
	{ "timer/disarm", test_timer_disarm, 0 },
	{ NULL, NULL, 0 }
};
