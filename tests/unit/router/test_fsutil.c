/* router/fsutil: bounded reads, crash-safe writes, private modes. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0xffff;
}

/* Number of entries in dir (to catch left-over temp files). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_write_read(struct tctx *t)
{
	char *dir = t_tmpdir(t), *path;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (!dir)
		return;
	path = fsutil_path_join(dir, "f");
	T_OK(t, fsutil_write_atomic(path, "hello", 5, 0640, false));
	T_EQ(t, mode_of(path), 0640);
	T_OK(t, fsutil_read_file(path, 5, &buf, &len));
	T_EQ(t, len, 5);
	T_MEMEQ(t, buf, "hello", 5);
	xfree_wipe(buf, len);
	/* Replacing works; the no-replace write refuses and keeps it. */
	T_OK(t, fsutil_write_atomic(path, "bye", 3, 0600, true));
	T_ERR(t, fsutil_write_atomic(path, "other", 5, 0600, false),
	      ERR_EXISTS);
	T_OK(t, fsutil_read_file(path, 100, &buf, &len));
	T_EQ(t, len, 3);
	T_MEMEQ(t, buf, "bye", 3);
	xfree_wipe(buf, len);
	T_EQ(t, count_entries(dir), 1);		/* no temp files left */
	free(path);
	t_rmtree(dir);
	free(dir);
}

static void test_read_errors(struct tctx *t)
{
	char *dir = t_tmpdir(t), *path;
	uint8_t *buf = (uint8_t *)"untouched";
	size_t len = 42;

	if (!dir)
		return;
	path = fsutil_path_join(dir, "f");
	T_ERR(t, fsutil_read_file(path, 10, &buf, &len), ERR_NOT_FOUND);
	T_OK(t, fsutil_write_atomic(path, "0123456789a", 11, 0600, false));
	T_ERR(t, fsutil_read_file(path, 10, &buf, &len), ERR_TOO_BIG);
	T_ERR(t, fsutil_read_file(dir, 10, &buf, &len), ERR_FORMAT);
	T_EQ(t, len, 42);		/* out-params only on success */
	free(path);
	t_rmtree(dir);
	free(dir);
}

/* A file of secrets is read only while its owner alone may read it. */
static void test_read_private(struct tctx *t)
{
	char *dir = t_tmpdir(t), *path;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (!dir)
		return;
	path = fsutil_path_join(dir, "k");
	T_ERR(t, fsutil_read_private_file(path, 10, &buf, &len),
	      ERR_NOT_FOUND);
	T_OK(t, fsutil_write_atomic(path, "key", 3, 0600, false));
	T_OK(t, fsutil_read_private_file(path, 10, &buf, &len));
	T_EQ(t, len, 3);
	if (buf)
		xfree_wipe(buf, len);
	buf = NULL;
	T_OK(t, chmod(path, 0640) == 0 ? 0 : ERR_IO);
	T_ERR(t, fsutil_read_private_file(path, 10, &buf, &len), ERR_ARG);
	T_OK(t, chmod(path, 0604) == 0 ? 0 : ERR_IO);
	T_ERR(t, fsutil_read_private_file(path, 10, &buf, &len), ERR_ARG);
	T_OK(t, fsutil_read_file(path, 10, &buf, &len));	/* no check */
	if (buf)
		xfree_wipe(buf, len);
	free(path);
	t_rmtree(dir);
	free(dir);
}

static void test_dir_private(struct tctx *t)
{
	char *dir = t_tmpdir(t), *sub, *file;

	if (!dir)
		return;
	sub = fsutil_path_join(dir, "a/b/c");
	T_OK(t, fsutil_dir_ensure_private(sub));
	T_EQ(t, mode_of(sub), 0700);
	chmod(sub, 0755);
	T_OK(t, fsutil_dir_ensure_private(sub));
	T_EQ(t, mode_of(sub), 0700);
	file = fsutil_path_join(sub, "k");
	T_OK(t, fsutil_write_atomic(file, "x", 1, 0644, false));
	T_OK(t, fsutil_file_ensure_private(file));
	T_EQ(t, mode_of(file), 0600);
	T_ERR(t, fsutil_dir_ensure_private(file), ERR_FORMAT);
	free(file);
	free(sub);
	t_rmtree(dir);
	free(dir);
}

const struct test_case router_fsutil_tests[] = {
	{ "write_read", test_write_read, 0 },
	{ "read_errors", test_read_errors, 0 },
	{ "read_private", test_read_private, 0 },
	{ "dir_private", test_dir_private, 0 },
	{ NULL, NULL, 0 }
};
