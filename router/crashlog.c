/*
 * Fatal-signal records (router/crashlog.h).
 */
#include "config.h"
#include "router/crashlog.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE,
				     SIGABRT };
#define NSIG_FATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))

static char crash_path[4096];
static volatile sig_atomic_t log_fd = -1;
/* A record was written: a second signal on the way out (a sanitizer's
 * abort after our SIGSEGV record) keeps the first. */
static volatile sig_atomic_t recorded;
static struct sigaction previous[NSIG_FATAL];
static char last_line[256];
/* the handler's stack, so that a stack overflow can still be reported */
static uint8_t alt_stack[64 * 1024];

/* Signal-safe: decimal of v into buf (no NUL); the digits' count. */
static size_t put_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static void put_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static const char *sig_name(int sig)
{
	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGILL: return "SIGILL";
	case SIGFPE: return "SIGFPE";
	case SIGABRT: return "SIGABRT";
	default: return "signal";
	}
}

static void record(int fd, int sig, void *const *frames, int n)
{
	char line[160];
	size_t k = 0;
	const char *name = sig_name(sig);
	static const char a[] = PACKAGE_STRING ": fatal signal ";

	memcpy(line + k, a, sizeof(a) - 1);
	k += sizeof(a) - 1;
	k += put_u64(line + k, (uint64_t)sig);
	line[k++] = ' ';
	line[k++] = '(';
	memcpy(line + k, name, strlen(name));
	k += strlen(name);
	memcpy(line + k, ") at unix time ", 15);
	k += 15;
	k += put_u64(line + k, (uint64_t)time(NULL));
	memcpy(line + k, "; backtrace:\n", 13);
	k += 13;
	put_all(fd, line, k);
	backtrace_symbols_fd(frames, n, fd);
}

static void on_fatal(int sig, siginfo_t *info, void *uctx)
{
	int saved = errno;
	void *frames[CRASHLOG_MAX_FRAMES];
	int lfd = log_fd;

	if (!recorded) {
		int n = backtrace(frames, CRASHLOG_MAX_FRAMES);
		int fd = open(crash_path,
			      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		recorded = 1;
		if (fd >= 0) {
			record(fd, sig, frames, n);
			(void)fsync(fd);
			close(fd);
		}
		record(lfd >= 0 ? lfd : STDERR_FILENO, sig, frames, n);
	}
	errno = saved;
	/* Hand over to whoever was there before (a sanitizer), or die of
	 * the signal as we would have. */
	for (size_t i = 0; i < NSIG_FATAL; i++) {
		struct sigaction *p = &previous[i];

		if (fatal_signals[i] != sig)
			continue;
		if (p->sa_flags & SA_SIGINFO) {
			if (p->sa_sigaction) {
				p->sa_sigaction(sig, info, uctx);
				return;
			}
		} else if (p->sa_handler != SIG_DFL &&
			   p->sa_handler != SIG_IGN) {
			p->sa_handler(sig);
			return;
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int crashlog_install(const char *datadir)
{
	struct sigaction sa;
	stack_t ss;
	void *warm[2];
	int n = snprintf(crash_path, sizeof(crash_path), "%s/%s", datadir,
			 CRASHLOG_NAME);

	if (n < 0 || (size_t)n >= sizeof(crash_path))
		return ERR_ARG;
	/* backtrace() loads its unwinder on the first call: not in a
	 * handler. */
	(void)backtrace(warm, 2);
	memset(&ss, 0, sizeof(ss));
	ss.ss_sp = alt_stack;
	ss.ss_size = sizeof(alt_stack);
	if (sigaltstack(&ss, NULL) != 0)
		log_warn(LD_GENERAL, "crash log: no alternate signal stack: %s",
			 strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSIG_FATAL; i++)
		if (sigaction(fatal_signals[i], &sa, &previous[i]) != 0)
			return ERR_IO;
	return 0;
}

void crashlog_set_log_fd(int fd)
{
	log_fd = fd;
}

int crashlog_check(const char *datadir)
{
	char *path = fsutil_path_join(datadir, CRASHLOG_NAME);
	char *old = fsutil_path_join(datadir, CRASHLOG_NAME ".old");
	uint8_t *buf = NULL;
	size_t len = 0, i, start;
	int r = fsutil_read_file(path, CRASHLOG_REPORT_MAX_BYTES, &buf, &len);

	if (r == ERR_NOT_FOUND) {
		r = 0;
		goto out;
	}
	if (r != 0) {
		log_warn(LD_GENERAL, "the last run left %s, which cannot be "
			 "read: %s (kept as %s.old)", path, err_str(r),
			 CRASHLOG_NAME);
		goto keep;
	}
	log_warn(LD_GENERAL, "the last run ended with a crash (%s, kept as "
		 "%s.old):", path, CRASHLOG_NAME);
	for (i = start = 0; i <= len; i++) {
		if (i < len && buf[i] != '\n')
			continue;
		if (i > start) {
			/* only printable bytes reach the log */
			for (size_t j = start; j < i; j++)
				if (buf[j] < 0x20 || buf[j] > 0x7e)
					buf[j] = '?';
			if (!last_line[0])
				(void)snprintf(last_line, sizeof(last_line),
					       "%.*s", (int)(i - start),
					       (const char *)buf + start);
			log_warn(LD_GENERAL, "  %.*s", (int)(i - start),
				 (const char *)buf + start);
		}
		start = i + 1;
	}
	r = 1;
keep:
	if (rename(path, old) != 0)
		log_warn(LD_GENERAL, "cannot rename %s: %s", path,
			 strerror(errno));
out:
	free(buf);
	free(path);
	free(old);
	return r;
}

const char *crashlog_last(void)
{
	return last_line;
}
