/*
 * The daemon runtime: main() lists the subsystems and hands them here
 * (STYLE.md §1).  daemon_main() parses the command line and the config
 * file, installs the log sink, creates the event loop, the worker pool and
 * the signal handlers, starts the subsystems in table order and, on
 * SIGINT or SIGTERM, stops them in reverse order and frees everything.
 * SIGHUP re-reads the config file, applies the log level, reopens the log
 * file and calls each subsystem's reload hook.  Core dumps are disabled
 * first thing (they would hold the router's private keys).
 */
#ifndef ROUTER_DAEMON_H
#define ROUTER_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

struct conf;
struct daemon;		/* opaque; lives for the whole of daemon_main() */
struct evloop;
struct worker_pool;

/* Exit statuses of daemon_main(). */
#define DAEMON_EXIT_OK 0
#define DAEMON_EXIT_FAIL 1	/* a subsystem or the runtime failed */
#define DAEMON_EXIT_USAGE 2	/* bad command line or config file */

/* Also run the subsystem for --init (create files, then exit). */
#define DAEMON_SUBSYS_ON_INIT 1u

/*
 * One subsystem.  Hooks run on the loop thread; ctx is the pointer main()
 * gave daemon_main().  start returns 0 or ERR_* (having logged why); stop
 * and reload may be NULL.  stop runs only for subsystems whose start
 * succeeded, in reverse order.  reload runs after SIGHUP, once the new
 * configuration is in place (daemon_conf()); it returns 0 or ERR_* (the
 * daemon logs a warning and keeps running).
 */
struct daemon_subsys {
	const char *name;
	unsigned flags;		/* DAEMON_SUBSYS_* */
	int (*start)(struct daemon *d, void *ctx);
	void (*stop)(struct daemon *d, void *ctx);
	int (*reload)(struct daemon *d, void *ctx);
};

/*
 * Run bitsd with argv and the subsystems (borrowed for the call).  Returns
 * a DAEMON_EXIT_* status for main() to return.  Call once per process.
 */
int daemon_main(int argc, char **argv, const struct daemon_subsys *subs,
		size_t nsubs, void *ctx);

/* The current configuration (borrowed; valid until the next reload). */
const struct conf *daemon_conf(const struct daemon *d);
/* The event loop and the worker pool (borrowed; they outlive every
 * subsystem). */
struct evloop *daemon_evloop(struct daemon *d);
struct worker_pool *daemon_workers(struct daemon *d);
/* True when running for --init (no event loop run). */
bool daemon_is_init(const struct daemon *d);
/* Ask the daemon to stop as on SIGTERM.  Loop thread. */
void daemon_shutdown(struct daemon *d);

#endif /* ROUTER_DAEMON_H */
