/*
 * Small file-system helpers for the daemon's data directory: bounded reads,
 * crash-safe writes (temp file, fsync, rename or link, fsync the directory)
 * and private permissions (files 0600, directories 0700).
 *
 * These functions do not log failures: they return ERR_IO with errno kept
 * from the failing call, so the caller can say which file and why.  A
 * permission fix is logged at warn (the operator should know).
 */
#ifndef CRYPTO_BASE_FSUTIL_H
#define CRYPTO_BASE_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Return "dir/name" in a new string the caller frees. */
char *fsutil_path_join(const char *dir, const char *name);

/* Write all len bytes to fd, retrying EINTR and short writes.  Errors:
 * ERR_IO (errno says why). */
int fsutil_write_all(int fd, const void *data, size_t len);

/*
 * Read the regular file at path, at most max_bytes long, into a new buffer
 * (*out, *outlen; caller releases it with xfree_wipe(*out, *outlen)).
 * Errors: ERR_NOT_FOUND (no such file), ERR_TOO_BIG (longer than
 * max_bytes), ERR_FORMAT (not a regular file), ERR_IO (errno says why).
 * Out-params are written only on success.
 */
int fsutil_read_file(const char *path, size_t max_bytes, uint8_t **out,
		     size_t *outlen);
/* The same for a file that holds secrets: ERR_ARG when others than its
 * owner may read it (its mode has any of 077), checked on the file
 * opened. */
int fsutil_read_private_file(const char *path, size_t max_bytes,
			     uint8_t **out, size_t *outlen);

/*
 * Write len bytes to path so that a crash leaves either the old file or
 * the new one, never a mix: write path.tmp-XXXXXX with the given mode,
 * fsync it, move it into place, fsync the directory.  With replace false
 * an existing path is never touched (ERR_EXISTS).  Errors: ERR_EXISTS,
 * ERR_IO (errno says why); the temp file is removed on every failure.
 */
int fsutil_write_atomic(const char *path, const void *data, size_t len,
			mode_t mode, bool replace);

/*
 * Create dir (and missing parents) with mode 0700.  An existing dir with
 * group or other permission bits is chmod'ed to 0700 (logged at warn).
 * Errors: ERR_FORMAT (exists but is not a directory), ERR_BAD_STATE (owned by
 * another user), ERR_IO (errno says why).
 */
int fsutil_dir_ensure_private(const char *dir);

/*
 * Make sure the existing file at path is only readable by us: group or
 * other bits are cleared (chmod 0600, logged at warn).  Errors: ERR_BAD_STATE
 * (owned by another user), ERR_IO (errno says why).
 */
int fsutil_file_ensure_private(const char *path);

#endif /* CRYPTO_BASE_FSUTIL_H */
