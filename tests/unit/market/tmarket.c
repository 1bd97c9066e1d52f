/* Helpers of the apps/market tests. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apps/client/dest.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/time.h"
#include "router/evloop.h"
#include "tests/unit/market/tmarket.h"

extern char **environ;

void tm_init(struct tm_net *tm, struct tctx *t)
{
	memset(tm, 0, sizeof(*tm));
	tm->t = t;
	tm->el = evloop_new();
	tm->ln = localnet_new(tm->el);
	tm->cn = localnet_client_net(tm->ln);
}

struct tm_node *tm_node(struct tm_net *tm)
{
	struct tm_node *nd = &tm->n[tm->count++];
	struct stream_config sc;
	struct client_rx rx = { 0 };

	nd->d = client_dest_new_random();
	client_dest_signer(nd->d, &nd->sg);
	stream_config_default(&sc);
	nd->cs.net = tm->cn;
	nd->cs.from = nd->d;
	nd->mgr = stream_mgr_new(&sc, &nd->sg, client_stream_sink(&nd->cs),
				 tm->el);
	rx.mgr = nd->mgr;
	T_OK(tm->t, tm->cn.attach(tm->cn.ctx, nd->d, &rx));
	return nd;
}

const struct keys_and_cert *tm_pub(const struct tm_node *nd)
{
	return client_dest_pub(nd->d);
}

void tm_free(struct tm_net *tm)
{
	for (unsigned i = 0; i < tm->count; i++) {
		struct tm_node *nd = &tm->n[i];
		tm->cn.detach(tm->cn.ctx, nd->d);
		stream_mgr_free(nd->mgr);
		client_dest_free(nd->d);
	}
	localnet_free(tm->ln);
	evloop_free(tm->el);
}

struct tm_wait {
	struct tm_net *tm;
	struct evloop_timer *poll;
	bool (*cond)(void *arg);
	void *arg;
	uint64_t deadline;
	bool met;
};

static void tm_poll(void *p)
{
	struct tm_wait *w = p;

	if (w->cond(w->arg) || time_mono_ms() >= w->deadline) {
		w->met = w->cond(w->arg);
		evloop_break(w->tm->el);
		return;
	}
	evloop_timer_arm(w->poll, 5);
}

bool tm_run(struct tm_net *tm, bool (*cond)(void *arg), void *arg)
{
	struct tm_wait w = { tm, NULL, cond, arg,
			     time_mono_ms() + TM_TIMEOUT_MS, false };

	w.poll = evloop_timer_new(tm->el, tm_poll, &w);
	evloop_timer_arm(w.poll, 0);
	while (!w.met && time_mono_ms() < w.deadline) {
		evloop_run(tm->el);
		if (w.cond(w.arg)) {
			w.met = true;
			break;
		}
		if (!evloop_timer_is_armed(w.poll))
			break;
	}
	evloop_timer_free(w.poll);
	return w.met;
}

/* ----------------------------------------------------------------- anvil */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Run argv with stdout and stderr to log; its exit status or -1. */
static int run(char *const argv[], const char *log, pid_t *bg)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT |
					 O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (bg) {
		*bg = pid;
		return 0;
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void show_log(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (fsutil_read_file(path, 1 << 20, &buf, &len) == 0)
		fprintf(stderr, "---- %s\n%.*s\n----\n", path,
			(int)(len > 4000 ? 4000 : len),
			(const char *)buf + (len > 4000 ? len - 4000 : 0));
	free(buf);
}

/* The platform's own anvil that npm's wrapper (a node script) starts, not
 * that wrapper, which exits 0 whatever anvil's exit status (tools/lib.sh's
 * foundry_bin does the same for the shell); the last one tried when none
 * is there, for the caller's "missing". */
static char *anvil_path(void)
{
	static const char *const arch[] = { "linux-amd64", "linux-arm64" };
	char rel[128], *p = NULL;

	for (size_t i = 0; i < sizeof(arch) / sizeof(arch[0]); i++) {
		free(p);
		snprintf(rel, sizeof(rel), "chain/contracts/node_modules/"
			 "@foundry-rs/anvil-%s/bin/anvil", arch[i]);
		p = t_srcpath(rel);
		if (access(p, X_OK) == 0)
			break;
	}
	return p;
}

bool tm_anvil_start(struct tctx *t, struct tm_anvil *a, bool deploy)
{
	char *anvil = anvil_path();
	char *script = t_srcpath("chain/contracts/script/deploy.sh");
	char *log, *dlog, *out;
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *why = NULL, *p;
	bool ok = false;

	memset(a, 0, sizeof(*a));
	a->dir = t_tmpdir(t);
	log = fsutil_path_join(a->dir, "anvil.log");
	dlog = fsutil_path_join(a->dir, "deploy.log");
	out = fsutil_path_join(a->dir, "deploy.json");
	if (access(anvil, X_OK) != 0) {
		t_fail(t, __FILE__, __LINE__, "anvil missing at %s: run "
		       "tools/chain-deps", anvil);
		goto out;
	}
	{
		char *argv[] = { anvil, "--host", "127.0.0.1", "--port", "0",
				 "--chain-id", "31337", NULL };
		if (run(argv, log, &a->pid) != 0) {
			t_fail(t, __FILE__, __LINE__, "cannot start anvil");
			goto out;
		}
	}
	/* Wait for "Listening on 127.0.0.1:PORT" (generous: a busy box). */
	for (unsigned i = 0; i < 1200 && !a->url[0]; i++) {
		free(buf);
		buf = NULL;
		if (fsutil_read_file(log, 1 << 20, &buf, &len) == 0 &&
		    (p = memmem(buf, len, "Listening on 127.0.0.1:", 23))) {
			unsigned port = (unsigned)strtoul(p + 23, NULL, 10);
			if (port)
				snprintf(a->url, sizeof(a->url),
					 "http://127.0.0.1:%u", port);
		}
		if (!a->url[0]) {
			if (waitpid(a->pid, NULL, WNOHANG) == a->pid) {
				a->pid = 0;
				break;
			}
			sleep_ms(100);
		}
	}
	if (!a->url[0]) {
		t_fail(t, __FILE__, __LINE__, "anvil did not start");
		show_log(log);
		goto out;
	}
	if (deploy) {
		char *argv[] = { script, a->url, out, NULL };
		if (run(argv, dlog, NULL) != 0) {
			t_fail(t, __FILE__, __LINE__, "deploy failed");
			show_log(dlog);
			goto out;
		}
		free(buf);
		buf = NULL;
		if (fsutil_read_file(out, CHAIN_DEPLOY_MAX_BYTES, &buf,
				     &len) != 0 ||
		    chain_deploy_parse((const char *)buf, len, &a->dep,
				       &why) != 0) {
			t_fail(t, __FILE__, __LINE__, "deploy JSON: %s",
			       why ? why : "unreadable");
			goto out;
		}
	}
	ok = true;
out:
	free(buf);
	free(anvil);
	free(script);
	free(log);
	free(dlog);
	free(out);
	return ok;
}

void tm_anvil_stop(struct tm_anvil *a)
{
	if (a->pid > 0) {
		kill(a->pid, SIGTERM);
		waitpid(a->pid, NULL, 0);
	}
	a->pid = 0;
	if (a->dir) {
		t_rmtree(a->dir);
		free(a->dir);
		a->dir = NULL;
	}
}

/* anvil's default mnemonic accounts 0..9. */
static const char *const anvil_keys[] = {
	"ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
	"59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
	"5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
	"7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
	"47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
	"8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
	"92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
	"4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
	"dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
	"2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
};

void tm_anvil_key(unsigned i, struct secp_sk *sk)
{
	const char *h = anvil_keys[i % 10];

	for (size_t k = 0; k < 32; k++) {
		unsigned v;
		sscanf(h + 2 * k, "%2x", &v);
		sk->b[k] = (uint8_t)v;
	}
}
