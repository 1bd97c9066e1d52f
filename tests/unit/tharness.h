/*
 * A small test harness (tinytest habits): one function per case, a table
 * per module, one binary per folder.  `test_X [prefix...]` runs the cases
 * whose "module/name" starts with a prefix.  Cases flagged TT_FORK run in a
 * child process because they touch global state.
 */
#ifndef TESTS_UNIT_THARNESS_H
#define TESTS_UNIT_THARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define T_MAX_TMPDIRS 16
struct tctx {
	const char *name;
	int failures;
	int checks;
	char *tmpdirs[T_MAX_TMPDIRS];	/* made by t_tmpdir, removed after the case */
	int ntmpdirs;
};

typedef void (*test_fn)(struct tctx *t);

struct test_case {
	const char *name;
	test_fn fn;
	unsigned flags;
};
#define TT_FORK 1u

struct test_group {
	const char *prefix;
	const struct test_case *cases;
};

/* Run the groups (NULL-terminated) filtered by argv; returns the exit code. */
int tharness_main(int argc, char **argv, const struct test_group *groups);

void t_fail(struct tctx *t, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
bool t_memeq(struct tctx *t, const char *file, int line, const char *what,
	     const void *a, const void *b, size_t n);

#define T_CHECK_(t, cond, ...) do { (t)->checks++; \
	if (!(cond)) t_fail((t), __FILE__, __LINE__, __VA_ARGS__); } while (0)
#define T_TRUE(t, c) T_CHECK_(t, (c), "expected true: %s", #c)
#define T_FALSE(t, c) T_CHECK_(t, !(c), "expected false: %s", #c)
#define T_EQ(t, a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	T_CHECK_(t, a_ == b_, "%s == %s: %lld != %lld", #a, #b, a_, b_); } while (0)
#define T_NE(t, a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	T_CHECK_(t, a_ != b_, "%s != %s: both %lld", #a, #b, a_); } while (0)
#define T_OK(t, expr) do { int r_ = (expr); \
	T_CHECK_(t, r_ == 0, "%s failed: %d (%s)", #expr, r_, err_str(r_)); } while (0)
#define T_ERR(t, expr, want) do { int r_ = (expr); \
	T_CHECK_(t, r_ == (want), "%s: got %d (%s), want %s", #expr, r_, err_str(r_), #want); } while (0)
#define T_STREQ(t, a, b) do { const char *a_ = (a), *b_ = (b); \
	T_CHECK_(t, a_ && b_ && strcmp(a_, b_) == 0, "%s == %s: \"%s\" != \"%s\"", \
		 #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define T_MEMEQ(t, a, b, n) do { (t)->checks++; \
	t_memeq((t), __FILE__, __LINE__, #a " == " #b, (a), (b), (n)); } while (0)

/*
 * Official vectors live in tests/vectors/NAME.json ($BITS_VECTORS or
 * $top_srcdir/tests/vectors).  tvec_load() returns a jansson object the
 * caller json_decref()s, or fails the test and returns NULL.
 */
struct json_t;
struct json_t *tvec_load(struct tctx *t, const char *file);
/* Hex-decode s into a new buffer (caller frees); *len gets its length. */
uint8_t *tvec_hex(struct tctx *t, const char *s, size_t *len);
/* Hex-decode a string field of a JSON object (caller frees). */
uint8_t *tvec_field(struct tctx *t, struct json_t *obj, const char *key,
		    size_t *len);
/* A fresh private temporary directory (caller frees the string).  The
 * harness removes it after the case, or keeps and names it if the case
 * failed; a case may remove it sooner with t_rmtree. */
char *t_tmpdir(struct tctx *t);
/* Remove a directory tree created by a test. */
void t_rmtree(const char *path);
/* Path of a file under the source tree (caller frees). */
char *t_srcpath(const char *rel);

#endif /* TESTS_UNIT_THARNESS_H */
