/* The unit-test harness (tests/unit/tharness.h). */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/log.h"

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void t_fail(struct tctx *t, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	t->failures++;
	fprintf(stderr, "  FAIL %s (%s:%d): ", t->name, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void hexdump(const char *label, const uint8_t *p, size_t n)
{
	fprintf(stderr, "    %s: ", label);
	for (size_t i = 0; i < n && i < 64; i++)
		fprintf(stderr, "%02x", p[i]);
	fprintf(stderr, "%s\n", n > 64 ? "..." : "");
}

bool t_memeq(struct tctx *t, const char *file, int line, const char *what,
	     const void *a, const void *b, size_t n)
{
	if (a && b && (n == 0 || memcmp(a, b, n) == 0))
		return true;
	t_fail(t, file, line, "%s differ (%zu bytes)", what, n);
	if (a && b) {
		hexdump("got ", a, n);
		hexdump("want", b, n);
	}
	return false;
}

char *t_srcpath(const char *rel)
{
	const char *top = getenv("top_srcdir");
	size_t n;
	char *p;

	if (!top)
		top = ".";
	n = strlen(top) + strlen(rel) + 2;
	p = xmalloc(n);
	snprintf(p, n, "%s/%s", top, rel);
	return p;
}

struct json_t *tvec_load(struct tctx *t, const char *file)
{
	const char *dir = getenv("BITS_VECTORS");
	char path[4096];
	json_error_t jerr;
	json_t *j;

	if (dir)
		snprintf(path, sizeof(path), "%s/%s", dir, file);
	else {
		char *p = t_srcpath("tests/vectors");
		snprintf(path, sizeof(path), "%s/%s", p, file);
		free(p);
	}
	j = json_load_file(path, 0, &jerr);
	if (!j)
		t_fail(t, __FILE__, __LINE__, "cannot load vectors %s: %s", path,
		       jerr.text);
	return j;
}

uint8_t *tvec_hex(struct tctx *t, const char *s, size_t *len)
{
	size_t n = strlen(s);
	uint8_t *out = xzalloc(n / 2 + 1);

	if (hex_decode(out, n / 2 + 1, len, s, n) != 0) {
		t_fail(t, __FILE__, __LINE__, "bad hex in vector: %.40s", s);
		*len = 0;
	}
	return out;
}

uint8_t *tvec_field(struct tctx *t, struct json_t *obj, const char *key,
		    size_t *len)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v)) {
		t_fail(t, __FILE__, __LINE__, "vector has no string field %s", key);
		*len = 0;
		return xzalloc(1);
	}
	return tvec_hex(t, json_string_value(v), len);
}

char *t_tmpdir(struct tctx *t)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];

	snprintf(tmpl, sizeof(tmpl), "%s/bits-test-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(tmpl)) {
		t_fail(t, __FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
		return NULL;
	}
	if (t->ntmpdirs < T_MAX_TMPDIRS)
		t->tmpdirs[t->ntmpdirs++] = xstrdup(tmpl);
	else
		t_fail(t, __FILE__, __LINE__, "more than %d temporary directories "
		       "in one case; %s is left behind", T_MAX_TMPDIRS, tmpl);
	return xstrdup(tmpl);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void t_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The case is over: its temporary directories go, unless it failed. */
static void case_done(struct tctx *t)
{
	for (int i = 0; i < t->ntmpdirs; i++) {
		if (t->failures)
			fprintf(stderr, "  kept %s (the case failed)\n",
				t->tmpdirs[i]);
		else
			t_rmtree(t->tmpdirs[i]);
		free(t->tmpdirs[i]);
	}
	t->ntmpdirs = 0;
}

static bool selected(const char *name, int argc, char **argv)
{
	if (argc <= 1)
		return true;
	for (int i = 1; i < argc; i++)
		if (strncmp(name, argv[i], strlen(argv[i])) == 0)
			return true;
	return false;
}

static int run_case(const char *full, const struct test_case *c)
{
	struct tctx t = { .name = full };
	int status;
	pid_t pid;

	if (!(c->flags & TT_FORK)) {
		c->fn(&t);
		case_done(&t);
		if (t.checks == 0 && t.failures == 0) {
			fprintf(stderr, "  FAIL %s: asserted nothing\n", full);
			return 1;
		}
		return t.failures != 0;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		c->fn(&t);
		case_done(&t);
		if (t.checks == 0 && t.failures == 0)
			fprintf(stderr, "  FAIL %s: asserted nothing\n", full);
		fflush(NULL);
		_exit(t.failures != 0 || t.checks == 0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "  FAIL %s: killed by signal %d\n", full,
			WTERMSIG(status));
		return 1;
	}
	return WEXITSTATUS(status) != 0;
}

int tharness_main(int argc, char **argv, const struct test_group *groups)
{
	int passed = 0, failed = 0;
	char full[256];
	const char *prog = strrchr(argv[0], '/');

	prog = prog ? prog + 1 : argv[0];
	enum log_level lv = LOG_ERR;
	const char *want = getenv("BITS_TEST_LOG");

	/* BITS_TEST_LOG=debug|info|... shows the code's own log lines. */
	if (want && log_level_parse(want, &lv) != 0)
		lv = LOG_ERR;
	else if (!want && getenv("BITS_TEST_VERBOSE"))
		lv = LOG_NOTICE;
	log_set_level(lv);
	for (const struct test_group *g = groups; g->prefix; g++) {
		for (const struct test_case *c = g->cases; c->name; c++) {
			snprintf(full, sizeof(full), "%s/%s", g->prefix, c->name);
			if (!selected(full, argc, argv))
				continue;
			if (run_case(full, c)) {
				printf("FAIL %s\n", full);
				failed++;
			} else {
				printf("ok   %s\n", full);
				passed++;
			}
			fflush(stdout);
		}
	}
	printf("RESULT %s: %d passed, %d failed\n", prog, passed, failed);
	return failed ? 1 : (passed ? 0 : 1);
}
