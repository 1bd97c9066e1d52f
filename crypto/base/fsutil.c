/*
 * File-system helpers for the data directory (router/fsutil.h).  Writes go
 * through a temp file in the same directory so rename()/link() is atomic;
 * fsync of the file and then of the directory makes the result durable
 * (the pattern LMDB, SQLite and git use for their metadata files).
 */
#include "config.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *fsutil_path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Close fd without letting close() overwrite the errno we want to report. */
static void close_keep_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
}

static int read_file(const char *path, size_t max_bytes, bool private,
		     uint8_t **out, size_t *outlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len, got = 0;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
	if (fstat(fd, &st) != 0) {
		r = ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = ERR_FORMAT;
		goto out;
	}
	if (private && (st.st_mode & 077)) {
		r = ERR_ARG;
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max_bytes) {
		r = ERR_TOO_BIG;
		goto out;
	}
	len = (size_t)st.st_size;
	/* One byte more than the size: a file that grew is caught below. */
	buf = xmalloc(len + 1);
	for (;;) {
		ssize_t n = read(fd, buf + got, len + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > len) {
			r = ERR_TOO_BIG;	/* changed while we read it */
			goto out;
		}
	}
	*out = buf;
	*outlen = got;
	buf = NULL;
	r = 0;
out:
	if (buf)
		xfree_wipe(buf, len + 1);
	close_keep_errno(fd);
	return r;
}

int fsutil_read_file(const char *path, size_t max_bytes, uint8_t **out,
		     size_t *outlen)
{
	return read_file(path, max_bytes, false, out, outlen);
}

int fsutil_read_private_file(const char *path, size_t max_bytes,
			     uint8_t **out, size_t *outlen)
{
	return read_file(path, max_bytes, true, out, outlen);
}

int fsutil_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync the directory holding path, so a rename or link is durable. */
static int fsync_parent(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd, r = 0;

	if (!slash) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir) {
		slash[1] = '\0';		/* the root directory */
	} else {
		*slash = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return ERR_IO;
	if (fsync(fd) != 0 && errno != EINVAL)	/* some fs cannot */
		r = ERR_IO;
	close_keep_errno(fd);
	return r;
}

/* Move tmp to path without ever replacing an existing path. */
static int place_new(const char *tmp, const char *path)
{
	struct stat st;

	if (link(tmp, path) == 0)
		return 0;
	if (errno == EEXIST)
		return ERR_EXISTS;
	if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS)
		return ERR_IO;
	/* No hard links here (e.g. vfat): check, then rename. */
	if (lstat(path, &st) == 0)
		return ERR_EXISTS;
	return rename(tmp, path) == 0 ? 0 : ERR_IO;
}

int fsutil_write_atomic(const char *path, const void *data, size_t len,
			mode_t mode, bool replace)
{
	size_t n = strlen(path) + sizeof(".tmp-XXXXXX");
	char *tmp = xmalloc(n);
	int fd, r;

	snprintf(tmp, n, "%s.tmp-XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		free(tmp);
		return ERR_IO;
	}
	if (fchmod(fd, mode) != 0 || fsutil_write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		close_keep_errno(fd);
		r = ERR_IO;
		goto out;
	}
	if (close(fd) != 0) {
		r = ERR_IO;
		goto out;
	}
	if (replace)
		r = rename(tmp, path) == 0 ? 0 : ERR_IO;
	else
		r = place_new(tmp, path);
	if (r == 0)
		r = fsync_parent(path);
out:
	{
		int e = errno;
		unlink(tmp);	/* after link() or on failure; no-op after rename */
		errno = e;
	}
	free(tmp);
	return r;
}

/* Check owner and clear group/other bits of an existing file or dir. */
static int make_private(const char *path, const struct stat *st, mode_t want)
{
	if (st->st_uid != geteuid())
		return ERR_BAD_STATE;
	if ((st->st_mode & 077) == 0)
		return 0;
	if (chmod(path, want) != 0)
		return ERR_IO;
	log_warn(LD_ROUTER, "%s had mode %04o; changed it to %04o", path,
		 (unsigned)(st->st_mode & 07777), (unsigned)want);
	return 0;
}

int fsutil_dir_ensure_private(const char *dir)
{
	struct stat st;
	char *p = xstrdup(dir);

	/* mkdir -p: each missing component in turn, all 0700. */
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			free(p);
			return ERR_IO;
		}
		*s = '/';
	}
	free(p);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ERR_IO;
	if (stat(dir, &st) != 0)
		return ERR_IO;
	if (!S_ISDIR(st.st_mode))
		return ERR_FORMAT;
	return make_private(dir, &st, 0700);
}

int fsutil_file_ensure_private(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return ERR_IO;
	return make_private(path, &st, 0600);
}
