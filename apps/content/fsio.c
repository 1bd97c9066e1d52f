/*
 * File helpers for apps/content (apps/content/fsio.h).  POSIX only; every
 * loop retries EINTR and short transfers.
 */
#include "config.h"
#include "apps/content/fsio.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Write all n bytes, at off (pwrite) or at the file position (off < 0). */
static int put_all(int fd, const uint8_t *p, size_t n, int64_t off)
{
	while (n) {
		ssize_t w = off < 0 ? write(fd, p, n) : pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ERR_IO;
		p += w;
		n -= (size_t)w;
		if (off >= 0)
			off += w;
	}
	return 0;
}

int content_fs_pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	return put_all(fd, buf, n, (int64_t)off);
}

int content_fs_preadv_all(int fd, struct iovec *iov, int cnt, uint64_t off)
{
	for (;;) {
		ssize_t r;
		while (cnt > 0 && iov->iov_len == 0) {	/* nothing to fill */
			iov++;
			cnt--;
		}
		if (cnt == 0)
			return 0;
		r = preadv(fd, iov, cnt, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ERR_IO;
		if (r == 0)
			return ERR_TRUNCATED;
		off += (uint64_t)r;
		/* Step past what was read: whole buffers, then into one. */
		while (cnt > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
}

int content_fs_pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	struct iovec iov = { .iov_base = buf, .iov_len = n };

	return content_fs_preadv_all(fd, &iov, 1, off);
}

int content_fs_read_full(int fd, void *buf, size_t n, size_t *got)
{
	uint8_t *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, p + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ERR_IO;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

int content_fs_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return ERR_IO;
	if (fsync(fd) != 0)
		r = ERR_IO;
	close(fd);
	return r;
}

int content_fs_write_atomic(const char *dir, const char *name,
			    const void *buf, size_t len, mode_t mode)
{
	size_t tn = strlen(name) + 6;
	char *tname = xmalloc(tn), *tmp, *dst;
	int fd, r = 0, saved;

	snprintf(tname, tn, ".%s.tmp", name);
	tmp = fsutil_path_join(dir, tname);
	dst = fsutil_path_join(dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		r = ERR_IO;
		goto out;
	}
	if ((r = fsutil_write_all(fd, buf, len)) != 0 || fsync(fd) != 0)
		r = ERR_IO;
	saved = errno;
	close(fd);
	errno = saved;
	if (r == 0 && rename(tmp, dst) != 0)
		r = ERR_IO;
	if (r != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		goto out;
	}
	r = content_fs_fsync_dir(dir);
out:
	free(tname);
	free(tmp);
	free(dst);
	return r;
}

int content_fs_mkdirs(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	int r = 0;

	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			r = ERR_IO;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	if (r == 0) {
		struct stat st;
		if (stat(path, &st) != 0)
			return ERR_IO;
		if (!S_ISDIR(st.st_mode))
			return ERR_FORMAT;
	}
	return r;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

int content_fs_rmtree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : ERR_IO;
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : ERR_IO;
}
