/* router/logsink: line format and the file sink. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/logsink.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool has(const uint8_t *buf, size_t len, const char *s)
{
	return buf && memmem(buf, len, s, strlen(s)) != NULL;
}

static void test_format(struct tctx *t)
{
	char buf[200], small[24];
	size_t n;

	/* 2021-01-02 03:04:05.678 UTC */
	n = logsink_format(buf, sizeof(buf), 1609556645678ULL, LOG_WARN,
			   LD_CONFIG, "fn", "hello");
	T_STREQ(t, buf,
		"2021-01-02 03:04:05.678 [warn] config: fn(): hello\n");
	T_EQ(t, n, strlen(buf));
	n = logsink_format(small, sizeof(small), 1609556645678ULL, LOG_WARN,
			   LD_CONFIG, "fn", "hello");
	T_EQ(t, n, sizeof(small) - 1);
	T_EQ(t, small[n - 1], '\n');		/* truncated, still a line */
	T_EQ(t, small[n], '\0');
}

/* Installs a sink and sets the level: global state, so forked. */
static void test_file_sink(struct tctx *t)
{
	char *dir = t_tmpdir(t), *path, *moved;
	struct logsink *s = logsink_new();
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;

	if (!dir)
		return;
	path = fsutil_path_join(dir, "bits.log");
	moved = fsutil_path_join(dir, "bits.log.1");
	T_OK(t, logsink_open(s, path));
	T_STREQ(t, logsink_path(s), path);
	logsink_install(s);
	log_set_level(LOG_INFO);
	log_info(LD_TEST, "first %d", 1);
	log_debug(LD_TEST, "not shown");
	/* Rotation: move the file away, reopen the same path. */
	T_EQ(t, rename(path, moved), 0);
	T_OK(t, logsink_open(s, path));
	log_notice(LD_TEST, "second");
	T_OK(t, fsutil_read_file(moved, 4096, &buf, &len));
	T_TRUE(t, has(buf, len, "[info] test: test_file_sink(): first 1\n"));
	T_FALSE(t, has(buf, len, "not shown"));
	T_FALSE(t, has(buf, len, "second"));
	free(buf);
	T_OK(t, fsutil_read_file(path, 4096, &buf, &len));
	T_TRUE(t, has(buf, len, "[notice] test: test_file_sink(): second\n"));
	free(buf);
	T_EQ(t, stat(path, &st), 0);
	T_EQ(t, st.st_mode & 0777, 0600);
	/* A bad path keeps the old target. */
	T_ERR(t, logsink_open(s, "/nonexistent/dir/x.log"), ERR_IO);
	T_STREQ(t, logsink_path(s), path);
	logsink_free(s);
	free(path);
	free(moved);
	t_rmtree(dir);
	free(dir);
}

const struct test_case router_logsink_tests[] = {
	{ "format", test_format, 0 },
	{ "file_sink", test_file_sink, TT_FORK },
	{ NULL, NULL, 0 }
};
