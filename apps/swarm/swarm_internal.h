/*
 * Seams of apps/swarm/swarm.c for tests that drive the engine on a
 * virtual clock (tests/fuzz/fuzz_swarm_peer.c): not part of the API, and
 * nothing in the daemon calls them.
 *
 * The engine's timers are evloop timers, which fire on the loop's own
 * clock.  A harness that sets time_mono_ms() (time_set_mono_override)
 * and never runs the loop calls these instead, so that timeouts, choking
 * rounds, keepalives and announces happen at the virtual times it
 * chooses and every run is the same.  Each does exactly what the timer's
 * callback does, re-arming included.  Loop thread only.
 */
#ifndef APPS_SWARM_SWARM_INTERNAL_H
#define APPS_SWARM_SWARM_INTERNAL_H

struct swarm;

/* Run the swarm's tick (every SWARM_TICK_MS) now. */
void swarm_tick_run(struct swarm *sw);
/* Refill the upload budget now, as every SWARM_UPLOAD_TICK_MS; nothing
 * without an upload_Bps. */
void swarm_upload_tick_run(struct swarm *sw);

#endif /* APPS_SWARM_SWARM_INTERNAL_H */
