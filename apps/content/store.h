/*
 * The blob store: content directories under <datadir>/content/objects/,
 * indexed in SQLite (<datadir>/content/index.sqlite): per content its
 * sizes, have-bitmap of stored chunks, last access and pinned flag.  A
 * storage budget is kept by evicting unpinned content, least recently used
 * first; pinned content is never evicted (docs/content-format.md §7).
 *
 * Crash safety: whole directories are built under a temporary name,
 * fsync'ed and renamed; a single chunk is written in place into its slot,
 * fdatasync'ed, and only then marked in the have-bitmap (the bitmap is the
 * commit record); content_store_chunk_write defers the fdatasync and the
 * mark to a flush that covers many chunks at once.  The SQLite row is the commit point of a content: on open
 * the store removes temporary files and directories the index does not
 * know, so a kill -9 at any point leaves a consistent store.  Every chunk
 * read is checked against the merkle root; a bad chunk is unmarked (to be
 * fetched again), never served.
 *
 * One process owns a store at a time (an flock on <datadir>/content/lock).
 * Calls block on disk and SQLite: the daemon runs them on its worker pool,
 * one thread at a time per store (STYLE.md §4).
 */
#ifndef APPS_CONTENT_STORE_H
#define APPS_CONTENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/content/card.h"
#include "apps/content/merkle.h"
#include "apps/content/publish.h"

/* last_access is rewritten at most this often per content on reads. */
#define CONTENT_STORE_TOUCH_MS 60000u
/* Chunks content_store_chunk_write may leave pending before it flushes. */
#define CONTENT_STORE_PENDING_MAX 256u
/* Bytes of pending chunks held in memory until the flush writes them. */
#define CONTENT_STORE_HOLD_BYTES (8u << 20)

struct content_store;

struct content_store_info {
	uint8_t hash[CONTENT_HASH_BYTES];
	uint64_t size;			/* plaintext bytes */
	uint32_t chunk_count;
	uint32_t have_count;		/* chunks stored */
	uint64_t stored_bytes;		/* counted against the budget */
	bool pinned;
	uint64_t last_access_ms;
	uint64_t added_ms;
};

/*
 * Open (creating if needed) the store under datadir/content and clean up
 * after a crash.  ERR_BAD_STATE when another process holds it, ERR_IO,
 * ERR_FORMAT (an index we cannot read).  Caller owns *out.
 */
int content_store_open(const char *datadir, struct content_store **out);
/* Close and release.  Accepts NULL. */
void content_store_free(struct content_store *st);
/* The budget in bytes (0: unlimited, the default).  Applies from the next
 * addition on; nothing is evicted by the call itself. */
void content_store_set_budget(struct content_store *st, uint64_t bytes);
/* Bytes in use (the sum of stored_bytes). */
uint64_t content_store_used(struct content_store *st);
/* How many bytes of pending chunks content_store_chunk_write may hold in
 * memory for the flush to write (CONTENT_STORE_HOLD_BYTES by default; 0:
 * every chunk is written at once). */
void content_store_set_hold(struct content_store *st, size_t bytes);
/* Bytes held now (pending chunks and batches being synced). */
size_t content_store_held(const struct content_store *st);

/*
 * Publish the file at src_fd into the store (see content_publish_fd),
 * evicting for room first.  ERR_LIMIT when even evicting every unpinned
 * content would not make room (nothing is evicted then).
 */
int content_store_publish(struct content_store *st, int src_fd,
			  const struct content_publish_opts *o, bool pinned,
			  struct content_published *out);
/* Copy and fully verify the content directory at dir into the store. */
int content_store_import(struct content_store *st, const char *dir,
			 bool pinned, uint8_t hash[CONTENT_HASH_BYTES]);
/*
 * Start a content we will download: manifest and tree (both untrusted,
 * checked: the tree must match the manifest root), no chunks yet.  The full
 * size is reserved against the budget.  ERR_EXISTS if already stored.
 */
int content_store_add(struct content_store *st, const uint8_t *manifest,
		      size_t mlen, const uint8_t *tree, size_t tlen,
		      bool pinned, uint8_t hash[CONTENT_HASH_BYTES]);
/*
 * Store chunk idx (untrusted ciphertext): ERR_AUTH unless it matches the
 * tree; durable before the have bit is set.  A chunk already stored is
 * left as it is (0).
 */
int content_store_chunk_put(struct content_store *st, const uint8_t hash[32],
			    uint32_t idx, const uint8_t *ct, size_t len);
/*
 * As content_store_chunk_put, without waiting for the disk (group commit):
 * the chunk is checked and kept in memory (while the store holds fewer
 * than its hold bytes; else written into its slot at once), served at
 * once by content_store_chunk_get and counted by content_store_have, and
 * written and marked in the index by the next content_store_flush() (or
 * chunk_put, or the write that takes the pending count past
 * CONTENT_STORE_PENDING_MAX, which flushes): with the flush's sync on a
 * worker, the loop makes no write(2) for it.  A crash before then loses
 * the pending chunks, never the index's consistency: they are fetched
 * again.  leaf: content_leaf_hash of (ct, len) when the caller has it
 * already (it is then not hashed twice), or NULL.
 */
int content_store_chunk_write(struct content_store *st,
			      const uint8_t hash[32], uint32_t idx,
			      const uint8_t *ct, size_t len,
			      const uint8_t leaf[32]);
/* Make the pending chunks durable: one fdatasync per content written, then
 * one index transaction.  0, or ERR_IO (the chunks of a content whose sync
 * failed are forgotten: not stored). */
int content_store_flush(struct content_store *st);
/*
 * content_store_flush in three steps, so the writes and syncs run on a
 * worker: _begin (loop) takes the pending chunks as a batch (NULL when
 * none); they stay served and counted, and a bad one found meanwhile or a
 * content removed meanwhile is left out of the commit.  _sync (any
 * thread) writes the batch's held chunks into their slots and fdatasyncs
 * its data files, and touches nothing else.
 * _end (loop) marks in the index, in one transaction, the chunks of the
 * contents whose sync succeeded and frees the batch: 0, ERR_IO (a sync
 * or the index failed: those chunks are forgotten), or ERR_BAD_STATE
 * when the store was freed meanwhile (its chunks lost, fetched again).
 * Writes after _begin go to the next batch.
 */
struct content_store_batch;
struct content_store_batch *content_store_flush_begin(
	struct content_store *st);
void content_store_flush_sync(struct content_store_batch *b);
int content_store_flush_end(struct content_store_batch *b);
/*
 * Write the chunks of hash that the store holds into the data file now
 * (pending ones, and those of batches being synced: the same bytes the
 * sync writes), without a sync: what reads the file (bits cat) then finds
 * every chunk the store counts.  For a content that just became whole.
 * 0 or ERR_IO.
 */
int content_store_write_out(struct content_store *st, const uint8_t hash[32]);
/* A copy of the manifest of a stored content (whole or not), from the
 * content the store keeps open for its chunks (opened, its manifest read
 * and hashed, if it is not).  The caller clears it.  ERR_NOT_FOUND when
 * the content is not stored; the open's errors when its files are
 * damaged. */
int content_store_manifest(struct content_store *st, const uint8_t hash[32],
			   struct content_manifest *out);
/* What the store's caches missed: index rows selected (SQLite) and
 * contents opened for their chunks (their manifest read and hashed,
 * their tree read at the first proof). */
struct content_store_counts {
	uint64_t row_selects, dir_opens;
};
void content_store_counts(const struct content_store *st,
			  struct content_store_counts *out);
/* Chunks written by content_store_chunk_write and not flushed yet. */
unsigned content_store_pending(const struct content_store *st);
/*
 * Read chunk idx, checked against the root, and its proof (if proof is not
 * NULL).  ERR_NOT_FOUND when the content or chunk is not stored; ERR_AUTH
 * when the stored chunk went bad (it is then unmarked).
 */
int content_store_chunk_get(struct content_store *st, const uint8_t hash[32],
			    uint32_t idx, uint8_t *buf, size_t cap, size_t *len,
			    struct content_proof *proof);
/*
 * content_store_chunk_get in three steps, so the read and its check run
 * on a worker: _begin (loop) looks the chunk up (errors as chunk_get's
 * before any read) and prepares its read with descriptors of its own (a
 * chunk held in memory is copied now: nothing left to run); _run (any
 * thread) reads and checks it and touches nothing else; _end (loop, with
 * st still open) gives what chunk_get would: the sealed chunk and its
 * proof, borrowed from rd, or ERR_AUTH for a chunk gone bad (unmarked
 * now) or ERR_NOT_FOUND when the content was removed meanwhile.  _free
 * (any time, with or without _end) frees rd.
 */
struct content_store_read;
int content_store_read_begin(struct content_store *st, const uint8_t hash[32],
			     uint32_t idx, struct content_store_read **out);
/* The read done here and now if it cannot wait for the disk (held, or in
 * the page cache: content_chunk_read_try): true, then call _end with no
 * run; false: run it on a worker. */
bool content_store_read_try(struct content_store *st,
			    struct content_store_read *rd);
/* Off: _try never reads (tests of the worker's path).  On by default. */
void content_store_set_read_try(struct content_store *st, bool on);
void content_store_read_run(struct content_store_read *rd);
/* The sealed length of the chunk being read (known at _begin). */
size_t content_store_read_len(const struct content_store_read *rd);
int content_store_read_end(struct content_store *st,
			   struct content_store_read *rd, const uint8_t **ct,
			   size_t *len, const struct content_proof **proof);
void content_store_read_free(struct content_store_read *rd);
/* Attach a card (checked: signed and about this content). */
int content_store_card_put(struct content_store *st, const uint8_t hash[32],
			   const struct content_card *card);
int content_store_pin(struct content_store *st, const uint8_t hash[32],
		      bool pinned);
int content_store_remove(struct content_store *st, const uint8_t hash[32]);
int content_store_info(struct content_store *st, const uint8_t hash[32],
		       struct content_store_info *out);
/* The have-bitmap (chunk i is bit i%8 of byte i/8), pending chunks
 * included; caller frees *bits. */
int content_store_have(struct content_store *st, const uint8_t hash[32],
		       uint8_t **bits, size_t *len);
/* Directory of a stored content (new string; exists only if stored). */
char *content_store_dir(struct content_store *st, const uint8_t hash[32]);
/*
 * Re-check every stored chunk of every content; bad chunks are unmarked
 * (all of them when the manifest or tree cannot be read; the files stay).
 * *bad gets how many chunks were found bad.
 */
int content_store_check(struct content_store *st, uint64_t *bad);
/* Call fn for each stored content, least recently used first. */
int content_store_list(struct content_store *st,
		       void (*fn)(void *ctx, const struct content_store_info *i),
		       void *ctx);

#endif /* APPS_CONTENT_STORE_H */
