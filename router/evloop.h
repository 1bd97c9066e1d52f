/*
 * The daemon's one event loop (STYLE.md §4): a libevent event_base created
 * here and handed to every module that needs it (no global getter).
 *
 * - evloop_post() gets a function onto the loop thread from any thread
 *   (Transmission's tr_runInEventThread).
 * - evloop_mark_close() frees an object after the current loop pass, so a
 *   callback never frees its own object (Tor's mark-for-close).
 * - struct evloop_timer: one-shot monotonic deadlines.
 *
 * Thread: everything but evloop_post(), evloop_break() and
 * evloop_is_in_loop() is for the loop thread only.
 */
#ifndef ROUTER_EVLOOP_H
#define ROUTER_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/base/log.h"

struct event_base;
struct evloop;		/* opaque */
struct evloop_timer;	/* opaque */

typedef void (*evloop_fn)(void *arg);

/*
 * Create the loop; the calling thread becomes the loop thread.  Turns on
 * libevent's pthread locking first.  Never returns NULL; caller owns it.
 */
struct evloop *evloop_new(void);
/*
 * Release el: functions still queued by evloop_post() run first (each
 * posted function runs exactly once), then marked objects are reaped.
 * Every event and timer made on el must be freed before.  Accepts NULL.
 */
void evloop_free(struct evloop *el);
/* The libevent base, for modules that add their own events (borrowed; it
 * lives as long as el). */
struct event_base *evloop_base(struct evloop *el);

/* Run until evloop_break().  Return 0, or ERR_INTERNAL if libevent fails. */
int evloop_run(struct evloop *el);
/* Make evloop_run() return after the current callback.  Any thread. */
void evloop_break(struct evloop *el);

/*
 * Queue fn(arg) to run on the loop thread.  Any thread, including the loop
 * thread itself (then it runs on a later pass, never inside this call).
 * Functions run in the order they were posted.
 */
void evloop_post(struct evloop *el, evloop_fn fn, void *arg);

/* True on the loop thread. */
bool evloop_is_in_loop(const struct evloop *el);
/* Loop-only functions start with this: a BUG() when called elsewhere. */
#define evloop_assert_in_loop(el) ((void)BUG(!evloop_is_in_loop(el)))

/*
 * Mark obj closing: free_fn(obj) runs after every other callback active in
 * this loop pass has run: once the loop has nothing else to run, or in a
 * later pass about 20 ms on when it stays busy.  The caller must stop
 * using obj for new work and must mark it only once.
 */
void evloop_mark_close(struct evloop *el, evloop_fn free_fn, void *obj);

/*
 * A one-shot timer on the monotonic clock.  fn(arg) runs on the loop
 * thread once the deadline has passed; re-arm from fn to repeat.  Never
 * returns NULL; caller owns it and frees it before el.
 */
struct evloop_timer *evloop_timer_new(struct evloop *el, evloop_fn fn,
				      void *arg);
/* (Re)arm t to fire delay_ms from now; replaces any earlier deadline. */
void evloop_timer_arm(struct evloop_timer *t, uint64_t delay_ms);
void evloop_timer_disarm(struct evloop_timer *t);
bool evloop_timer_is_armed(const struct evloop_timer *t);
/* Disarm and release t.  Accepts NULL; may be called from t's callback. */
void evloop_timer_free(struct evloop_timer *t);

#endif /* ROUTER_EVLOOP_H */
