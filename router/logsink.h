/*
 * Log sinks for the daemon: router/ installs one into the front-end of
 * crypto/base/log.h.  Each line is "YYYY-MM-DD HH:MM:SS.mmm [level]
 * domain: function(): message" (UTC), written to standard error or
 * appended to a file.  With a file, errors are also copied to standard
 * error, so a failing start is never silent.  Thread-safe: workers log too.
 */
#ifndef ROUTER_LOGSINK_H
#define ROUTER_LOGSINK_H

#include "crypto/base/log.h"

struct logsink;		/* opaque */

/* A sink writing to standard error.  Never returns NULL; caller owns it. */
struct logsink *logsink_new(void);
/*
 * Switch s to path (appended, created 0600), or back to standard error
 * when path is NULL.  Also the SIGHUP reopen: calling it with the same
 * path opens the file anew (after log rotation).  On failure s keeps its
 * old target and ERR_IO is returned with errno set.
 */
int logsink_open(struct logsink *s, const char *path);
/* The file s writes to, or NULL for standard error (borrowed). */
const char *logsink_path(const struct logsink *s);
/* Make s the log front-end's sink. */
void logsink_install(struct logsink *s);
/* Restore the front-end's default sink if s is installed, then release s.
 * Accepts NULL. */
void logsink_free(struct logsink *s);

/* Format one log line (with newline) into buf; return its length. */
size_t logsink_format(char *buf, size_t buflen, uint64_t wall_ms,
		      enum log_level level, enum log_domain domain,
		      const char *func, const char *msg);

#endif /* ROUTER_LOGSINK_H */
