/* Guarded event-loop runs for tests (tests/unit/router/tloop.h). */
#include "config.h"
#include "tests/unit/router/tloop.h"
#include "router/evloop.h"
#include "crypto/base/err.h"

struct guard {
	struct evloop *el;
	bool fired;
};

static void guard_cb(void *arg)
{
	struct guard *g = arg;

	g->fired = true;
	evloop_break(g->el);
}

void tloop_run(struct tctx *t, struct evloop *el)
{
	struct guard g = { .el = el };
	struct evloop_timer *timer = evloop_timer_new(el, guard_cb, &g);

	evloop_timer_arm(timer, TLOOP_GUARD_MS);
	T_OK(t, evloop_run(el));
	T_FALSE(t, g.fired);
	evloop_timer_free(timer);
}
