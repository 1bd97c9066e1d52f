/*
 * A content directory as publish writes it and the store keeps it
 * (manifest, tree, data, and optionally card): open it, verify it without
 * the key (what a seeder does), read chunks with their proofs, and decrypt
 * it as a stream with the key (docs/content-format.md §4).
 *
 * Every chunk read is checked on the way: its leaf hash, with the path
 * from the stored tree, must reach the manifest's root, and the manifest
 * is the content (its hash is the name).  Nothing unchecked is returned.
 */
#ifndef APPS_CONTENT_CDIR_H
#define APPS_CONTENT_CDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/content/card.h"
#include "apps/content/manifest.h"
#include "apps/content/merkle.h"

/* What went wrong where, for messages (filled on failure). */
enum content_fault_part {
	CONTENT_FAULT_NONE,
	CONTENT_FAULT_MANIFEST,	/* manifest unreadable or malformed */
	CONTENT_FAULT_TREE,	/* tree file does not match the root */
	CONTENT_FAULT_DATA,	/* data file missing or of the wrong size */
	CONTENT_FAULT_CHUNK,	/* chunk `chunk` fails its hash */
	CONTENT_FAULT_KEY,	/* the key does not open chunk `chunk` */
	CONTENT_FAULT_CARD,	/* card malformed, badly signed or not ours */
	CONTENT_FAULT_OUTPUT	/* writing the output failed */
};

struct content_fault {
	enum content_fault_part part;
	uint32_t chunk;
};

/* A human-readable sentence for a fault and error (static or buf). */
const char *content_fault_str(const struct content_fault *f, int err,
			      char *buf, size_t buflen);

struct content_dir;

/*
 * Open the directory at path: decode the manifest (its hash becomes the
 * content hash) and check the tree and data files have the right sizes.
 * Errors: ERR_NOT_FOUND, ERR_FORMAT, ERR_TOO_BIG, ERR_IO (fault says
 * which file).  On success the caller owns *out.
 */
int content_dir_open(const char *path, struct content_dir **out,
		     struct content_fault *fault);
void content_dir_free(struct content_dir *d);
const struct content_manifest *content_dir_manifest(const struct content_dir *d);
const uint8_t *content_dir_hash(const struct content_dir *d);
const uint8_t *content_dir_manifest_bytes(const struct content_dir *d,
					  size_t *len);
const char *content_dir_path(const struct content_dir *d);

/* Proof for chunk idx from the stored tree (not checked). */
int content_dir_proof(struct content_dir *d, uint32_t idx,
		      struct content_proof *p);
/*
 * Read chunk idx's ciphertext into buf (cap ≥ its length) and check it
 * reaches the root; *len gets the length.  ERR_AUTH when the chunk or its
 * tree path was altered, ERR_RANGE for a bad index.
 */
int content_dir_chunk(struct content_dir *d, uint32_t idx, uint8_t *buf,
		      size_t cap, size_t *len);
/* content_dir_chunk, also giving the proof it checked (when proof is not
 * NULL), so that a reader sending both reads the tree path once. */
int content_dir_chunk_proof(struct content_dir *d, uint32_t idx, uint8_t *buf,
			    size_t cap, size_t *len,
			    struct content_proof *proof);
/*
 * A chunk read to run on another thread (a worker): prepared on the
 * directory's thread with descriptors of its own, so the directory may be
 * closed meanwhile; the proof comes from the kept tree at once, or from
 * the tree file in the run.  _run (any thread, once) reads the chunk into
 * buf (cap ≥ len) and checks it as content_dir_chunk_proof does, leaving
 * the proof in rd->proof; _clear closes what it holds.  Prepare's errors:
 * ERR_RANGE, ERR_FORMAT (the tree), ERR_IO (nothing held then).
 */
struct content_chunk_read {
	int data_fd, tree_fd;
	bool own;			/* the descriptors are ours to close */
	bool proof_made;
	uint32_t idx, count;
	uint64_t off;
	size_t len;			/* the chunk's sealed length */
	uint8_t root[32];
	struct content_proof proof;
};
int content_dir_read_prepare(struct content_dir *d, uint32_t idx,
			     struct content_chunk_read *rd);
int content_chunk_read_run(struct content_chunk_read *rd, uint8_t *buf,
			   size_t cap);
/*
 * The run, here and now, only if it cannot wait for the disk: when the
 * proof is made and the whole chunk is in the page cache (preadv2's
 * RWF_NOWAIT), true with *r the run's result; else false, nothing done
 * (run it on a worker).
 */
bool content_chunk_read_try(struct content_chunk_read *rd, uint8_t *buf,
			    size_t cap, int *r);
void content_chunk_read_clear(struct content_chunk_read *rd);
/*
 * Check everything a seeder can without the key: the whole tree against
 * the root, then every chunk (only those set in have, if not NULL)
 * against its leaf, hashing with threads threads.  ERR_AUTH on the first
 * bad part (fault says which).
 */
int content_dir_verify(struct content_dir *d, unsigned threads,
		       const uint8_t *have, struct content_fault *fault);
/*
 * Write plaintext bytes [from, from + length) (length UINT64_MAX: to the
 * end) to out_fd, chunk by chunk; each chunk is checked against the tree
 * and opened before any of it is written.  ERR_RANGE when from is past the
 * end; ERR_AUTH (fault: CHUNK or KEY) stops the stream at that chunk.
 */
int content_dir_cat(struct content_dir *d, const struct content_key *k,
		    uint64_t from, uint64_t length, int out_fd,
		    struct content_fault *fault);
/*
 * Load and check the card file: decoded, signature valid and describing
 * this content.  ERR_NOT_FOUND when there is none.
 */
int content_dir_card(struct content_dir *d, struct content_card *out);

#endif /* APPS_CONTENT_CDIR_H */
