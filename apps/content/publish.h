/*
 * Publishing a file: draw K and a salt, cut the file into chunks, seal
 * each, hash the ciphertext into the merkle tree and write a content
 * directory (docs/content-format.md §4):
 *
 *   <parent>/<hex contentHash>/manifest   the encoded manifest
 *                              tree       merkle tree, all levels
 *                              data       sealed chunks back to back
 *
 * The directory is built under a temporary name, fsync'ed and renamed into
 * place, so a crash leaves either nothing or a whole directory.  Memory
 * stays bounded (a few MiB of batch buffers) whatever the file size.
 */
#ifndef APPS_CONTENT_PUBLISH_H
#define APPS_CONTENT_PUBLISH_H

#include <stdint.h>

#include "apps/content/manifest.h"

struct content_publish_opts {
	const char *mime;		/* required, e.g. "video/mp4" */
	unsigned chunk_log2;		/* 0: CONTENT_CHUNK_LOG2_DEFAULT */
	/* Hashing threads.  0 or 1: everything on the caller's thread;
	 * more: that many workers seal and hash while the caller's thread
	 * reads the next batch and writes the last one. */
	unsigned threads;
	/* Optional keyframe index (copied into the manifest). */
	uint32_t timescale;
	uint64_t duration;
	const struct content_index_entry *index;
	uint32_t index_count;
};

struct content_published {
	struct content_key key;			/* secret: the caller wipes it */
	uint8_t content_hash[CONTENT_HASH_BYTES];
	uint8_t key_commitment[32];
	struct content_manifest manifest;	/* owned */
	char *dir;				/* owned: the new directory */
};

/*
 * Publish the regular file open at src_fd (read from its start to its
 * end) into a new directory under parent, which must exist.  Fills *out,
 * which the caller releases with content_published_clear().
 * Errors: ERR_ARG (bad options, not a regular file), ERR_TOO_BIG (over
 * CONTENT_MAX_BYTES), ERR_BAD_STATE (the file changed size while read),
 * ERR_IO.  Nothing is left in parent on failure.
 */
int content_publish_fd(int src_fd, const char *parent,
		       const struct content_publish_opts *o,
		       struct content_published *out);
/* Wipe the key and release what p owns.  Accepts a zeroed struct. */
void content_published_clear(struct content_published *p);

#endif /* APPS_CONTENT_PUBLISH_H */
