/*
 * Test helper for router/ tests that run the event loop: a guard timer
 * turns a loop that never stops into a failed check instead of a hang.
 */
#ifndef TESTS_UNIT_ROUTER_TLOOP_H
#define TESTS_UNIT_ROUTER_TLOOP_H

#include "tests/unit/tharness.h"

struct evloop;

#define TLOOP_GUARD_MS 10000

/* Run el until a callback breaks it; fail t if the guard had to. */
void tloop_run(struct tctx *t, struct evloop *el);

#endif /* TESTS_UNIT_ROUTER_TLOOP_H */
