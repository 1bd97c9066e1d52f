/*
 * Log sinks (router/logsink.h).  Lines are formatted into a stack buffer
 * and written with one write() under a mutex, so lines from different
 * threads never interleave and an O_APPEND file stays line-atomic.
 */
#include "config.h"
#include "router/logsink.h"
#include "router/crashlog.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define LOGSINK_LINE_BYTES 1400

struct logsink {
	pthread_mutex_t lock;	/* guards fd and path */
	int fd;			/* -1: standard error */
	char *path;
	bool installed;
};

struct logsink *logsink_new(void)
{
	struct logsink *s = xzalloc(sizeof(*s));

	pthread_mutex_init(&s->lock, NULL);
	s->fd = -1;
	return s;
}

int logsink_open(struct logsink *s, const char *path)
{
	int fd = -1, old;
	char *old_path;

	if (path) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return ERR_IO;
	}
	pthread_mutex_lock(&s->lock);
	old = s->fd;
	old_path = s->path;
	s->fd = fd;
	s->path = path ? xstrdup(path) : NULL;
	crashlog_set_log_fd(fd);
	pthread_mutex_unlock(&s->lock);
	if (old >= 0)
		close(old);
	free(old_path);
	return 0;
}

const char *logsink_path(const struct logsink *s)
{
	return s->path;
}

size_t logsink_format(char *buf, size_t buflen, uint64_t wall_ms,
		      enum log_level level, enum log_domain domain,
		      const char *func, const char *msg)
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	char stamp[32];
	int n;

	if (!gmtime_r(&secs, &tm) ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "%llu",
			 (unsigned long long)(wall_ms / 1000));
	n = snprintf(buf, buflen, "%s.%03u [%s] %s: %s(): %s\n", stamp,
		     (unsigned)(wall_ms % 1000), log_level_name(level),
		     log_domain_name(domain), func, msg);
	if (n < 0)
		return 0;
	if ((size_t)n >= buflen) {	/* truncated: keep the newline */
		buf[buflen - 2] = '\n';
		return buflen - 1;
	}
	return (size_t)n;
}

static void sink_fn(void *ctx, enum log_level level, enum log_domain domain,
		    const char *func, const char *msg)
{
	int e = errno;	/* callers log strerror(errno) and then use errno */
	struct logsink *s = ctx;
	char line[LOGSINK_LINE_BYTES];
	size_t len = logsink_format(line, sizeof(line), time_now_ms(), level,
				    domain, func, msg);

	/* A failed write has nowhere left to be reported: ignore it. */
	pthread_mutex_lock(&s->lock);
	if (s->fd >= 0)
		(void)fsutil_write_all(s->fd, line, len);
	if (s->fd < 0 || level >= LOG_ERR)
		(void)fsutil_write_all(STDERR_FILENO, line, len);
	pthread_mutex_unlock(&s->lock);
	errno = e;
}

void logsink_install(struct logsink *s)
{
	log_set_sink(sink_fn, s);
	s->installed = true;
}

void logsink_free(struct logsink *s)
{
	if (!s)
		return;
	if (s->installed)
		log_set_sink(NULL, NULL);
	crashlog_set_log_fd(-1);
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
