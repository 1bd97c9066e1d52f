/*
 * Logging front-end (STYLE.md §7).  Sinks are installed by router/; until
 * then messages at or above the threshold go to stderr.
 *
 * Anonymity: IPs, destinations, tunnel ids and full hashes are logged only
 * through log_safe_*() helpers, which redact unless unsafe logging is on.
 */
#ifndef CRYPTO_BASE_LOG_H
#define CRYPTO_BASE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_NOTICE,
	LOG_WARN,
	LOG_ERR,
	LOG_NONE	/* threshold only: log nothing */
};

enum log_domain {
	LD_GENERAL,
	LD_BUG,
	LD_CRYPTO,
	LD_ROUTER,
	LD_CONFIG,
	LD_NTCP2,
	LD_SSU2,
	LD_I2NP,
	LD_NETDB,
	LD_TUNNEL,
	LD_GARLIC,
	LD_CLIENT,
	LD_CHAIN,
	LD_APP,
	LD_TEST,
	LD_COUNT_
};

typedef void (*log_sink_fn)(void *ctx, enum log_level level,
			    enum log_domain domain, const char *func,
			    const char *msg);

/* Install the sink (NULL restores the stderr default). */
void log_set_sink(log_sink_fn fn, void *ctx);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "debug", "info", "notice", "warn", "error" or "none". */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);
const char *log_domain_name(enum log_domain domain);
/* Count of BUG() hits and warn-or-worse messages since start (for tests). */
unsigned long log_bug_count(void);
unsigned long log_warn_count(void);
void log_set_unsafe(bool unsafe);
bool log_is_unsafe(void);

void log_msg(enum log_level level, enum log_domain domain, const char *func,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_vmsg(enum log_level level, enum log_domain domain, const char *func,
	      const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static inline bool log_enabled(enum log_level level)
{
	return level >= log_get_level();
}

#define log_debug(d, ...) \
	do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, d, __func__, __VA_ARGS__); } while (0)
#define log_info(d, ...) log_msg(LOG_INFO, d, __func__, __VA_ARGS__)
#define log_notice(d, ...) log_msg(LOG_NOTICE, d, __func__, __VA_ARGS__)
#define log_warn(d, ...) log_msg(LOG_WARN, d, __func__, __VA_ARGS__)
#define log_err(d, ...) log_msg(LOG_ERR, d, __func__, __VA_ARGS__)

/*
 * Rate-limited logging for peer misbehaviour: at most one message per
 * `interval_s` seconds per call site; the next one says how many were dropped.
 */
struct log_ratelim {
	uint64_t last_ms;
	unsigned long suppressed;
};
bool log_ratelim_allow(struct log_ratelim *rl, unsigned interval_s,
		       unsigned long *suppressed);
#define log_info_rl(interval_s, d, ...) do { \
	static struct log_ratelim rl_; unsigned long sup_; \
	if (log_ratelim_allow(&rl_, (interval_s), &sup_)) { \
		log_msg(LOG_INFO, d, __func__, __VA_ARGS__); \
		if (sup_) log_msg(LOG_INFO, d, __func__, \
				  "(%lu similar messages suppressed)", sup_); \
	} } while (0)

/* Our own bug: log once per call site, count it, and yield cond. */
void log_bug_hit(const char *file, int line, const char *func, const char *expr);
#define BUG(cond) (__extension__({ \
	static bool bug_once_; bool c_ = !!(cond); \
	if (c_ && !bug_once_) { bug_once_ = true; log_bug_hit(__FILE__, __LINE__, __func__, #cond); } \
	c_; }))

/*
 * Format an identifying value for the log: the full value with unsafe
 * logging on, otherwise "[scrubbed]".  buf must hold at least 64 bytes.
 */
const char *log_safe_str(char *buf, size_t buflen, const char *value);
/* First 4 bytes of a hash as hex (or all 32 with unsafe logging). */
const char *log_safe_hash(char *buf, size_t buflen, const uint8_t hash[32]);

#endif /* CRYPTO_BASE_LOG_H */
