/*
 * Logging front-end: level threshold, one installable sink, rate limiting,
 * BUG() accounting and safe-logging helpers (crypto/base/log.h).
 */
#include "config.h"
#include "crypto/base/log.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static _Atomic int log_threshold = LOG_NOTICE;
static log_sink_fn log_sink;
static void *log_sink_ctx;
static atomic_ulong bug_count, warn_count;
static atomic_bool unsafe_logging;

static const char *const level_names[] = {
	"debug", "info", "notice", "warn", "error", "none"
};
static const char *const domain_names[LD_COUNT_] = {
	"general", "bug", "crypto", "router", "config", "ntcp2", "ssu2",
	"i2np", "netdb", "tunnel", "garlic", "client", "chain", "app", "test"
};

void log_set_sink(log_sink_fn fn, void *ctx)
{
	log_sink = fn;
	log_sink_ctx = ctx;
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

enum log_level log_get_level(void)
{
	return (enum log_level)log_threshold;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = LOG_DEBUG; i <= LOG_NONE; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return 0;
	}
	if (strcasecmp(s, "err") == 0) {
		*out = LOG_ERR;
		return 0;
	}
	return ERR_ARG;
}

const char *log_level_name(enum log_level level)
{
	return (unsigned)level <= LOG_NONE ? level_names[level] : "?";
}

const char *log_domain_name(enum log_domain domain)
{
	return (unsigned)domain < LD_COUNT_ ? domain_names[domain] : "?";
}

unsigned long log_bug_count(void)
{
	return bug_count;
}

unsigned long log_warn_count(void)
{
	return warn_count;
}

void log_set_unsafe(bool unsafe)
{
	unsafe_logging = unsafe;
}

bool log_is_unsafe(void)
{
	return unsafe_logging;
}

void log_vmsg(enum log_level level, enum log_domain domain, const char *func,
	      const char *fmt, va_list ap)
{
	char msg[1024];

	if (level >= LOG_WARN)
		warn_count++;
	if (level < (enum log_level)log_threshold)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_sink) {
		log_sink(log_sink_ctx, level, domain, func, msg);
		return;
	}
	fprintf(stderr, "[%s] %s: %s(): %s\n", level_names[level],
		log_domain_name(domain), func, msg);
}

void log_msg(enum log_level level, enum log_domain domain, const char *func,
	     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, domain, func, fmt, ap);
	va_end(ap);
}

bool log_ratelim_allow(struct log_ratelim *rl, unsigned interval_s,
		       unsigned long *suppressed)
{
	uint64_t now = time_mono_ms();

	if (rl->last_ms && now - rl->last_ms < (uint64_t)interval_s * 1000) {
		rl->suppressed++;
		return false;
	}
	rl->last_ms = now ? now : 1;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

void log_bug_hit(const char *file, int line, const char *func, const char *expr)
{
	bug_count++;
	log_msg(LOG_ERR, LD_BUG, func, "BUG: %s:%d: %s", file, line, expr);
}

const char *log_safe_str(char *buf, size_t buflen, const char *value)
{
	snprintf(buf, buflen, "%s", unsafe_logging ? value : "[scrubbed]");
	return buf;
}

const char *log_safe_hash(char *buf, size_t buflen, const uint8_t hash[32])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = unsafe_logging ? 32 : 4, i;

	if (buflen < 2 * n + 1) {
		if (buflen)
			buf[0] = '\0';
		return buf;
	}
	for (i = 0; i < n; i++) {
		buf[2 * i] = hex[hash[i] >> 4];
		buf[2 * i + 1] = hex[hash[i] & 15];
	}
	buf[2 * n] = '\0';
	return buf;
}
