/*
 * The daemon runtime (router/daemon.h).  Start-up order: core dumps off,
 * command line, config, log sink, event loop, signals, worker pool, then
 * the subsystems; shut-down is the exact reverse.  Signals arrive through
 * libevent (evsignal), so their handlers are ordinary loop callbacks.
 */
#include "config.h"
#include "router/daemon.h"
#include "router/crashlog.h"
#include "router/conf.h"
#include "router/evloop.h"
#include "router/logsink.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/init.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct daemon {
	struct conf_args args;
	struct conf *conf;
	struct logsink *log;
	struct evloop *el;
	struct worker_pool *workers;
	struct event *sig_int, *sig_term, *sig_hup;
	const struct daemon_subsys *subs;
	size_t nsubs;
	size_t nstarted;	/* subs[0..nstarted) are running */
	void *ctx;
};

const struct conf *daemon_conf(const struct daemon *d)
{
	return d->conf;
}

struct evloop *daemon_evloop(struct daemon *d)
{
	return d->el;
}

struct worker_pool *daemon_workers(struct daemon *d)
{
	return d->workers;
}

bool daemon_is_init(const struct daemon *d)
{
	return d->args.action == CONF_ACTION_INIT;
}

void daemon_shutdown(struct daemon *d)
{
	evloop_assert_in_loop(d->el);
	evloop_break(d->el);
}

/* Point the log at cfg's file (or stderr) and level. */
static int apply_logging(struct daemon *d, const struct conf *cfg)
{
	if (logsink_open(d->log, cfg->logfile) != 0) {
		log_err(LD_CONFIG, "cannot open log file %s: %s", cfg->logfile,
			strerror(errno));
		return ERR_IO;
	}
	log_set_level(cfg->loglevel);
	return 0;
}

static void reload(struct daemon *d)
{
	char err[CONF_ERR_BYTES];
	struct conf *cfg = NULL;
	int r;

	log_notice(LD_CONFIG, "SIGHUP: reloading the configuration");
	if ((r = conf_load(&d->args, &cfg, err, sizeof(err))) != 0) {
		log_warn(LD_CONFIG, "reload failed, keeping the old "
			 "configuration: %s", err);
		return;
	}
	if (strcmp(cfg->datadir, d->conf->datadir) != 0) {
		log_warn(LD_CONFIG, "datadir changes need a restart; still "
			 "using %s", d->conf->datadir);
		free(cfg->datadir);
		cfg->datadir = xstrdup(d->conf->datadir);
	}
	/* Reopen even when the path is unchanged: log rotation. */
	if (apply_logging(d, cfg) != 0) {
		log_warn(LD_CONFIG, "keeping the old log target");
		free(cfg->logfile);
		cfg->logfile = d->conf->logfile ? xstrdup(d->conf->logfile) :
			       NULL;
	}
	conf_free(d->conf);
	d->conf = cfg;
	for (size_t i = 0; i < d->nstarted; i++) {
		const struct daemon_subsys *s = &d->subs[i];
		if (s->reload && (r = s->reload(d, d->ctx)) != 0)
			log_warn(LD_CONFIG, "%s: reload failed: %s", s->name,
				 err_str(r));
	}
	log_notice(LD_CONFIG, "configuration reloaded (loglevel %s)",
		   log_level_name(cfg->loglevel));
	log_debug(LD_CONFIG, "config file: %s",
		  cfg->conf_path ? cfg->conf_path : "(none)");
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	log_notice(LD_GENERAL, "%s: shutting down",
		   sig == SIGINT ? "SIGINT" : "SIGTERM");
	evloop_break(d->el);
}

static struct event *signal_add(struct daemon *d, int sig)
{
	struct event *ev = evsignal_new(evloop_base(d->el), sig, signal_cb, d);

	if (!ev || event_add(ev, NULL) != 0) {
		log_err(LD_GENERAL, "cannot handle signal %d", sig);
		abort();
	}
	return ev;
}

static bool subsys_selected(const struct daemon *d,
			    const struct daemon_subsys *s)
{
	return !daemon_is_init(d) || (s->flags & DAEMON_SUBSYS_ON_INIT);
}

/* Start the subsystems in order; on failure stop those already started. */
static int start_all(struct daemon *d)
{
	int r;

	for (d->nstarted = 0; d->nstarted < d->nsubs; d->nstarted++) {
		const struct daemon_subsys *s = &d->subs[d->nstarted];
		if (!subsys_selected(d, s))
			continue;
		log_info(LD_GENERAL, "starting %s", s->name);
		if ((r = s->start(d, d->ctx)) != 0) {
			log_err(LD_GENERAL, "%s failed to start: %s", s->name,
				err_str(r));
			return r;
		}
	}
	return 0;
}

/* Stop subs[0..nstarted) in reverse order. */
static void stop_all(struct daemon *d)
{
	while (d->nstarted > 0) {
		const struct daemon_subsys *s = &d->subs[--d->nstarted];
		if (!subsys_selected(d, s) || !s->stop)
			continue;
		log_info(LD_GENERAL, "stopping %s", s->name);
		s->stop(d, d->ctx);
	}
}

/* Everything before the subsystems; returns a DAEMON_EXIT_* status, or
 * -1 when the daemon should go on. */
static int setup(struct daemon *d, int argc, char **argv)
{
	const char *prog = argc > 0 ? argv[0] : "bitsd";
	char err[CONF_ERR_BYTES];

	if (conf_args_parse(argc, argv, &d->args, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\nTry '%s --help'.\n", prog, err, prog);
		return DAEMON_EXIT_USAGE;
	}
	switch (d->args.action) {
	case CONF_ACTION_HELP:
		conf_help_print(stdout, prog);
		return DAEMON_EXIT_OK;
	case CONF_ACTION_VERSION:
		printf("%s\n", PACKAGE_STRING);
		return DAEMON_EXIT_OK;
	case CONF_ACTION_RUN:
	case CONF_ACTION_INIT:
		break;
	}
	if (conf_load(&d->args, &d->conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return DAEMON_EXIT_USAGE;
	}
	d->log = logsink_new();
	logsink_install(d->log);
	if (apply_logging(d, d->conf) != 0)
		return DAEMON_EXIT_FAIL;
	if (d->args.action == CONF_ACTION_RUN) {
		(void)crashlog_check(d->conf->datadir);
		if (crashlog_install(d->conf->datadir) != 0)
			log_warn(LD_GENERAL, "fatal signals will not be recorded");
	}
	crypto_init();
	d->el = evloop_new();
	d->sig_int = signal_add(d, SIGINT);
	d->sig_term = signal_add(d, SIGTERM);
	d->sig_hup = signal_add(d, SIGHUP);
	d->workers = worker_pool_new(d->el, 0);
	return -1;
}

static void teardown(struct daemon *d, int status)
{
	stop_all(d);
	worker_pool_free(d->workers);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_hup)
		event_free(d->sig_hup);
	evloop_free(d->el);
	if (d->el && status == DAEMON_EXIT_OK && !daemon_is_init(d))
		log_notice(LD_GENERAL, "stopped cleanly");
	logsink_free(d->log);
	conf_free(d->conf);
}

int daemon_main(int argc, char **argv, const struct daemon_subsys *subs,
		size_t nsubs, void *ctx)
{
	const struct rlimit no_core = { 0, 0 };
	struct daemon d = { .subs = subs, .nsubs = nsubs, .ctx = ctx };
	int status;

	/* A core file would hold our private keys (libsodium's advice). */
	if (setrlimit(RLIMIT_CORE, &no_core) != 0)
		fprintf(stderr, "warning: cannot disable core dumps: %s\n",
			strerror(errno));
	signal(SIGPIPE, SIG_IGN);	/* write errors come back as EPIPE */
	if ((status = setup(&d, argc, argv)) >= 0)
		goto out;
	if (start_all(&d) != 0) {
		status = DAEMON_EXIT_FAIL;
		goto out;
	}
	status = DAEMON_EXIT_OK;
	if (daemon_is_init(&d)) {
		log_notice(LD_GENERAL, "initialised %s", d.conf->datadir);
		goto out;
	}
	log_notice(LD_GENERAL, "%s running (datadir %s, netid %u)",
		   PACKAGE_STRING, d.conf->datadir, (unsigned)d.conf->netid);
	if (evloop_run(d.el) != 0)
		status = DAEMON_EXIT_FAIL;
out:
	teardown(&d, status);
	return status;
}
