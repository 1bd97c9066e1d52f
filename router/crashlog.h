/*
 * Fatal signals: on SIGSEGV, SIGBUS, SIGILL, SIGFPE or SIGABRT bitsd
 * writes the signal and a backtrace to DATADIR/crash.log and to its log,
 * then dies of the signal as it would have (a handler installed before
 * ours, such as a sanitizer's, runs after us).  The next start reports
 * the crash in the log and through crashlog_last(), and keeps the record
 * as crash.log.old.
 *
 * Only async-signal-safe calls run in the handler (open, write, close,
 * backtrace_symbols_fd; backtrace() is warmed up at install time).
 */
#ifndef ROUTER_CRASHLOG_H
#define ROUTER_CRASHLOG_H

#include <stddef.h>

#define CRASHLOG_NAME "crash.log"
#define CRASHLOG_MAX_FRAMES 64
/* Lines of a crash record reported at the next start, at most. */
#define CRASHLOG_REPORT_MAX_BYTES (64 * 1024)

/* Arm the handlers for datadir (copied).  ERR_ARG for a path too long. */
int crashlog_install(const char *datadir);
/* The fd the handler also writes to (the log's; -1: standard error).
 * The log sink calls this whenever its file changes. */
void crashlog_set_log_fd(int fd);
/* At start: report and keep a crash record the last run left.  Returns
 * 1 when there was one, 0 when not, ERR_* when it could not be read. */
int crashlog_check(const char *datadir);
/* The first line of the crash the last run left ("" when none). */
const char *crashlog_last(void);

#endif /* ROUTER_CRASHLOG_H */
