/*
 * Publishing (apps/content/publish.h, docs/content-format.md §4).
 *
 * The file is processed in batches of about 1 MiB: read plaintext into
 * slots laid out as in the data file, seal and leaf-hash the chunks in
 * parallel (each chunk is independent: its nonce is its index), then write
 * the batch and its leaf hashes.  With worker threads two batches take
 * turns, so reading and writing overlap the hashing.  The tree's upper
 * levels are built from the leaf file at the end, so memory stays bounded
 * (two batches, about 2 MiB, whatever the file size).
 *
 * Where the time goes (256 MiB, 64 KiB chunks, one thread): SHA-256 over
 * the ciphertext ~0.19 s of CPU and AES-256-GCM ~0.10 s, the primitives'
 * times per byte added up (1/S + 1/A: no single thread publishes faster
 * than S·A/(S+A), about two thirds of SHA-256's rate here); the kernel
 * copying the plaintext in and the ciphertext out and keeping the page
 * cache takes about a quarter of publish's CPU on top.  Each chunk is
 * sealed in its slot and hashed at once, while it is still in L1/L2, and
 * there is no file, fsync or key set-up per chunk: each worker's AEAD
 * context is keyed once per content.  A batch that fits in L2 (1 MiB
 * here, beside 4 MiB before) keeps both copies and the sealing in cache:
 * about a third less kernel time.
 */
#include "config.h"
#include "apps/content/publish.h"
#include "apps/content/chunk.h"
#include "apps/content/fsio.h"
#include "apps/content/merkle.h"
#include "apps/content/par.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define PUBLISH_BATCH_BYTES (1u << 20)
#define PUBLISH_WRITEBACK_BYTES (8u << 20)
#define PUBLISH_IOV_MAX 64	/* chunks per preadv (IOV_MAX: 1024 on Linux, BSDs) */

/* One batch of chunks [first, first + n). */
struct batch {
	const struct content_manifest *m;
	struct aesgcm_ctx **aead;	/* one keyed context per pool worker */
	atomic_int err;			/* first sealing error, or 0 */
	uint8_t *slots;		/* n slots of stride bytes */
	uint8_t *leaves;	/* n leaf hashes */
	size_t stride;		/* chunk bytes + tag */
	size_t bytes;		/* sealed bytes in slots */
	uint32_t first, n;
};

/* Seal chunk i of the batch in its slot, then hash it while it is still
 * in cache. */
static void seal_one(void *ctx, unsigned worker, uint32_t i)
{
	struct batch *b = ctx;
	uint32_t idx = b->first + i;
	size_t len = content_chunk_plain_len(b->m, idx);
	uint8_t *slot = b->slots + (size_t)i * b->stride;
	int r, none = 0;

	if ((r = content_chunk_seal(slot, b->aead[worker], b->m, idx, slot,
				    len)) != 0) {
		atomic_compare_exchange_strong(&b->err, &none, r);
		return;
	}
	content_leaf_hash(b->leaves + 32 * (size_t)i, slot,
			  len + CONTENT_TAG_BYTES);
}

/*
 * Writeback of the data file is started every PUBLISH_WRITEBACK_BYTES
 * written (sync_file_range, Linux; elsewhere the final fsync does it
 * all), so the disk works while we seal and the final fsync is short.
 * Started per 1 MiB batch it took ~4.5 % of publish's CPU samples, per
 * 8 MiB ~3.4 %, for the same overlap.
 */
struct writeback {
	int fd;
	uint64_t from, to;	/* written but not yet started */
};

static void writeback_add(struct writeback *w, uint64_t end, bool last)
{
	w->to = end;
	if (w->to - w->from < PUBLISH_WRITEBACK_BYTES && !last)
		return;
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(w->fd, (off_t)w->from, (off_t)(w->to - w->from),
			      SYNC_FILE_RANGE_WRITE);
#endif
	w->from = w->to;
}

/*
 * Read the plaintext of chunks [first, first + n) into b's slots: the
 * chunks follow each other in the file, so one preadv per
 * PUBLISH_IOV_MAX chunks scatters them into their slots (a pread per
 * chunk was 4096 system calls per 256 MiB).
 */
static int read_batch(int src, struct batch *b, uint32_t first, uint32_t n)
{
	const struct content_manifest *m = b->m;
	struct iovec iov[PUBLISH_IOV_MAX];
	int r = 0;

	b->first = first;
	b->n = n;
	b->bytes = 0;
	for (uint32_t i = 0; i < n && r == 0; ) {
		uint64_t off = ((uint64_t)(first + i)) << m->chunk_log2;
		int k;
		for (k = 0; k < PUBLISH_IOV_MAX && i < n; k++, i++) {
			size_t len = content_chunk_plain_len(m, first + i);
			iov[k].iov_base = b->slots + i * b->stride;
			iov[k].iov_len = len;
			b->bytes = i * b->stride + len + CONTENT_TAG_BYTES;
		}
		r = content_fs_preadv_all(src, iov, k, off);
	}
	return r == ERR_TRUNCATED ? ERR_BAD_STATE : r;	/* the file shrank */
}

static int write_batch(struct writeback *wb, int tree_fd, const struct batch *b)
{
	uint64_t off = content_chunk_data_offset(b->m, b->first);
	int r;

	if (b->n == 0)
		return 0;
	if ((r = content_fs_pwrite_all(wb->fd, b->slots, b->bytes, off)) ||
	    (r = content_fs_pwrite_all(tree_fd, b->leaves, 32 * (size_t)b->n,
				       32 * (uint64_t)b->first)))
		return r;
	writeback_add(wb, off + b->bytes,
		      b->first + b->n == b->m->chunk_count);
	return 0;
}

/*
 * Read, seal and write every chunk; leaf hashes go to tree_fd.  Two
 * batches take turns: while the workers seal one, this thread writes the
 * one before and reads the one after.
 */
static int seal_all(int src, int data_fd, int tree_fd,
		    const struct content_manifest *m, struct aesgcm_ctx **aead,
		    struct content_pool *pool)
{
	struct batch b[2] = { { .m = m, .aead = aead }, { .m = m, .aead = aead } };
	struct writeback wb = { .fd = data_fd };
	uint32_t per = PUBLISH_BATCH_BYTES >> m->chunk_log2, count = m->chunk_count;
	uint8_t probe;
	int r, k;

	if (per < 2 * content_pool_threads(pool))
		per = 2 * content_pool_threads(pool);
	for (k = 0; k < 2; k++) {
		b[k].stride = ((size_t)1 << m->chunk_log2) + CONTENT_TAG_BYTES;
		b[k].slots = xmalloc(per * b[k].stride);
		b[k].leaves = xmalloc(per * (size_t)32);
	}
	r = read_batch(src, &b[0], 0, count < per ? count : per);
	for (k = 0; r == 0 && b[k & 1].n; k++) {
		struct batch *cur = &b[k & 1], *other = &b[(k + 1) & 1];
		uint32_t next = cur->first + cur->n;
		int rw = 0;
		content_pool_start(pool, seal_one, cur, cur->n);
		if (k > 0)
			rw = write_batch(&wb, tree_fd, other);
		r = rw ? rw : read_batch(src, other, next,
					 count - next < per ? count - next : per);
		content_pool_wait(pool);
		if (r == 0)
			r = atomic_load(&cur->err);
		if (r == 0 && other->n == 0)	/* cur was the last batch */
			r = write_batch(&wb, tree_fd, cur);
	}
	/* The file must end where fstat said it would. */
	if (r == 0 && pread(src, &probe, 1, (off_t)m->size) != 0)
		r = ERR_BAD_STATE;
	for (k = 0; k < 2; k++) {
		xfree_wipe(b[k].slots, per * b[k].stride);
		free(b[k].leaves);
	}
	return r;
}

static int write_file_fd(const char *dir, const char *name, const void *buf,
			 size_t len)
{
	char *path = fsutil_path_join(dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int r;

	free(path);
	if (fd < 0)
		return ERR_IO;
	r = fsutil_write_all(fd, buf, len);
	if (r == 0 && fsync(fd) != 0)
		r = ERR_IO;
	close(fd);
	return r;
}

static int open_in(const char *dir, const char *name, int flags)
{
	char *path = fsutil_path_join(dir, name);
	int fd = open(path, flags | O_CLOEXEC, 0644);

	free(path);
	return fd;
}

static int make_manifest(struct content_manifest *m, uint64_t size,
			 const struct content_publish_opts *o)
{
	memset(m, 0, sizeof(*m));
	m->chunk_log2 = (uint8_t)(o->chunk_log2 ? o->chunk_log2 :
				  CONTENT_CHUNK_LOG2_DEFAULT);
	if (!o->mime || strlen(o->mime) > CONTENT_MIME_MAX_BYTES ||
	    m->chunk_log2 < CONTENT_CHUNK_LOG2_MIN ||
	    m->chunk_log2 > CONTENT_CHUNK_LOG2_MAX)
		return ERR_ARG;
	m->size = size;
	m->chunk_count = content_chunk_count(size, m->chunk_log2);
	snprintf(m->mime, sizeof(m->mime), "%s", o->mime);
	if (o->timescale) {
		if (o->index_count > CONTENT_INDEX_MAX_ENTRIES)
			return ERR_TOO_BIG;
		m->timescale = o->timescale;
		m->duration = o->duration;
		m->index_count = o->index_count;
		if (o->index_count)
			m->index = xmemdup(o->index, o->index_count *
					   sizeof(*o->index));
	}
	rand_bytes(m->salt, sizeof(m->salt));
	/* Everything but the root is known now: check it before any work. */
	return content_manifest_validate(m);
}

/*
 * Give the data file its final size and blocks before writing it (Linux
 * fallocate).  ext4 then maps each written block to a block it already
 * has instead of reserving a delayed allocation per 4 KiB page (about a
 * sixth less kernel time per byte written here), the file comes out in
 * few extents, and a full disk fails now rather than after the sealing.
 * Where the file system cannot, the writes allocate as before.  Crash
 * safety is unchanged: blocks fallocated but not yet written read as
 * zeros, but the file is fsynced after its last write and only then is
 * the directory renamed into sight (content_publish_fd), so no reader
 * ever sees them.
 */
static int reserve(int fd, uint64_t len)
{
#ifdef FALLOC_FL_KEEP_SIZE
	if (len > 0 && fallocate(fd, 0, 0, (off_t)len) != 0 &&
	    errno != EOPNOTSUPP && errno != ENOSYS)
		return ERR_IO;
#else
	(void)fd; (void)len;
#endif
	return 0;
}

/* Seal into the temporary directory tmp; fills m->root and the encoding. */
static int build(int src, const char *tmp, struct content_manifest *m,
		 const struct content_key *k, unsigned threads,
		 struct bbuf *enc)
{
	struct content_chunk_key ck;
	struct content_pool *pool = NULL;
	struct aesgcm_ctx **aead = NULL;
	unsigned nw = 0;
	int data = -1, tree = -1, r;

	data = open_in(tmp, "data", O_WRONLY | O_CREAT | O_EXCL);
	tree = open_in(tmp, "tree", O_RDWR | O_CREAT | O_EXCL);
	if (data < 0 || tree < 0) {
		r = ERR_IO;
		goto out;
	}
	if ((r = reserve(data, content_data_bytes(m))) != 0)
		goto out;
	content_chunk_key_derive(&ck, k, m->salt);
	/* threads workers; this thread reads and writes meanwhile. */
	pool = content_pool_new(threads > 1 ? threads + 1 : 1);
	/* One AEAD context per worker, keyed once for the whole content. */
	nw = content_pool_threads(pool);
	aead = xcalloc(nw, sizeof(*aead));
	for (unsigned i = 0; i < nw; i++)
		aead[i] = aesgcm_new(ck.b);
	if ((r = seal_all(src, data, tree, m, aead, pool)) != 0 ||
	    (r = content_tree_build_fd(tree, m->chunk_count, m->root)) != 0)
		goto out;
	if (fsync(data) != 0 || fsync(tree) != 0) {
		r = ERR_IO;
		goto out;
	}
	if ((r = content_manifest_encode(m, enc)) == 0)
		r = write_file_fd(tmp, "manifest", enc->data, enc->len);
out:
	memwipe(&ck, sizeof(ck));
	content_pool_free(pool);
	for (unsigned i = 0; i < nw; i++)
		aesgcm_free(aead[i]);
	free(aead);
	if (data >= 0)
		close(data);
	if (tree >= 0)
		close(tree);
	return r;
}

int content_publish_fd(int src_fd, const char *parent,
		       const struct content_publish_opts *o,
		       struct content_published *out)
{
	struct content_published p = { 0 };
	struct bbuf enc = BBUF_INIT;
	char hex[HEX_ENC_LEN(32)];
	char *tmp = NULL;
	struct stat st;
	int r;

	if (fstat(src_fd, &st) != 0)
		return ERR_IO;
	if (!S_ISREG(st.st_mode))
		return ERR_ARG;
	if ((uint64_t)st.st_size > CONTENT_MAX_BYTES)
		return ERR_TOO_BIG;
	if ((r = make_manifest(&p.manifest, (uint64_t)st.st_size, o)) != 0)
		goto out;
	tmp = fsutil_path_join(parent, ".pub-XXXXXX");
	if (!mkdtemp(tmp)) {
		r = ERR_IO;
		FREE_AND_NULL(free, tmp);
		goto out;
	}
	rand_bytes(p.key.b, sizeof(p.key.b));
	if ((r = build(src_fd, tmp, &p.manifest, &p.key, o->threads, &enc)))
		goto out;
	content_hash_of(p.content_hash, enc.data, enc.len);
	content_key_commitment(p.key_commitment, &p.key, p.content_hash);
	hex_encode(hex, sizeof(hex), p.content_hash, 32);
	p.dir = fsutil_path_join(parent, hex);
	if (rename(tmp, p.dir) != 0 || content_fs_fsync_dir(parent) != 0) {
		r = errno == ENOTEMPTY || errno == EEXIST ? ERR_EXISTS : ERR_IO;
		goto out;
	}
	FREE_AND_NULL(free, tmp);
	*out = p;
	memset(&p, 0, sizeof(p));
out:
	if (tmp) {
		int saved = errno;
		content_fs_rmtree(tmp);
		free(tmp);
		errno = saved;
	}
	bbuf_free(&enc);
	content_published_clear(&p);
	return r;
}

void content_published_clear(struct content_published *p)
{
	memwipe(&p->key, sizeof(p->key));
	content_manifest_clear(&p->manifest);
	free(p->dir);
	p->dir = NULL;
}
