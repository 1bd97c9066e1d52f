/*
 * File helpers for content directories and the blob store beyond those of
 * crypto/base/fsutil.h (path joins, whole writes, bounded whole-file
 * reads): positional reads and writes that retry short transfers,
 * crash-safe small files in a directory, and tree removal.
 *
 * Failures return ERR_IO with errno kept from the failing call, and log
 * nothing: the caller knows which file it was and says so.
 */
#ifndef APPS_CONTENT_FSIO_H
#define APPS_CONTENT_FSIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "crypto/base/fsutil.h"

/* pwrite/pread all n bytes at off.  A read that hits end of file is
 * ERR_TRUNCATED. */
int content_fs_pwrite_all(int fd, const void *buf, size_t n, uint64_t off);
int content_fs_pread_all(int fd, void *buf, size_t n, uint64_t off);
/* preadv until every buffer of iov[0..cnt) is full, reading from off on
 * (retrying short reads; iov is consumed: bases and lengths change).  A
 * read that hits end of file is ERR_TRUNCATED.  cnt ≤ IOV_MAX. */
int content_fs_preadv_all(int fd, struct iovec *iov, int cnt, uint64_t off);
/* Read up to n bytes, stopping early only at end of file; *got is the
 * count read. */
int content_fs_read_full(int fd, void *buf, size_t n, size_t *got);
/*
 * Create dir/name holding buf so that a crash leaves the old file or the
 * new one: write dir/.name.tmp, fsync, rename, fsync dir.  Replaces an
 * existing file.  mode is the new file's permission.
 */
int content_fs_write_atomic(const char *dir, const char *name,
			    const void *buf, size_t len, mode_t mode);
/* fsync the directory at path, so a rename or unlink in it is durable. */
int content_fs_fsync_dir(const char *path);
/* mkdir -p with mode for the directories it creates. */
int content_fs_mkdirs(const char *path, mode_t mode);
/* Remove path and everything below it (no error if it does not exist). */
int content_fs_rmtree(const char *path);

#endif /* APPS_CONTENT_FSIO_H */
