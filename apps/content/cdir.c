/*
 * Content directories (apps/content/cdir.h, docs/content-format.md §4):
 * open, verify without the key, read checked chunks, stream plaintext.
 */
#include "config.h"
#include "apps/content/cdir.h"
#include "apps/content/chunk.h"
#include "apps/content/fsio.h"
#include "apps/content/par.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Small enough to stay in L2 with the kernel's copy into it: verifying
 * 256 MiB took 0.29 s (0.09 s kernel) with 4 MiB batches, 0.24 s (0.05 s)
 * with 1 MiB. */
#define VERIFY_BATCH_BYTES (1u << 20)
/* A tree up to this size is read whole the first time a proof is made and
 * the proofs come from memory: each proof read node by node cost a
 * pread(2) per level (11 for 2,048 chunks), at the viewer for every chunk
 * written (checked against the stored tree) and at a seeder for every
 * chunk served.  256 KiB: the tree of 4,096 chunks (256 MiB of 64 KiB
 * chunks); bigger trees are read node by node as before. */
#define CDIR_TREE_KEEP_BYTES (256u * 1024)

struct content_dir {
	char *path;
	struct content_manifest m;
	uint8_t *menc;		/* manifest bytes */
	size_t mlen;
	uint8_t hash[CONTENT_HASH_BYTES];
	int tree_fd, data_fd;
	uint8_t *tree;		/* the tree file, once read (small trees) */
	bool tree_tried;
};

const char *content_fault_str(const struct content_fault *f, int err,
			      char *buf, size_t buflen)
{
	switch (f->part) {
	case CONTENT_FAULT_NONE:
		return err_str(err);
	case CONTENT_FAULT_MANIFEST:
		if (err == ERR_AUTH)
			snprintf(buf, buflen, "manifest rejected: its hash is not "
				 "the content hash the directory is named by");
		else if (err == ERR_UNSUPPORTED)
			snprintf(buf, buflen, "manifest rejected: another format "
				 "version (this build reads version %d only; "
				 "version 1 content must be published again)",
				 CONTENT_MANIFEST_VERSION);
		else
			snprintf(buf, buflen, "manifest rejected: %s",
				 err_str(err));
		return buf;
	case CONTENT_FAULT_TREE:
		snprintf(buf, buflen, "merkle tree rejected (%s): it does not "
			 "match the manifest root", err_str(err));
		return buf;
	case CONTENT_FAULT_DATA:
		snprintf(buf, buflen, "data file rejected: %s", err_str(err));
		return buf;
	case CONTENT_FAULT_CHUNK:
		snprintf(buf, buflen, "chunk %u rejected: its ciphertext does "
			 "not match the merkle tree (tampered or corrupt)",
			 f->chunk);
		return buf;
	case CONTENT_FAULT_KEY:
		snprintf(buf, buflen, "chunk %u does not open with this key "
			 "(wrong key)", f->chunk);
		return buf;
	case CONTENT_FAULT_CARD:
		if (err == ERR_AUTH)
			snprintf(buf, buflen, "card rejected: it is signed for "
				 "another content hash (card or manifest altered)");
		else
			snprintf(buf, buflen, "card rejected: %s", err_str(err));
		return buf;
	case CONTENT_FAULT_OUTPUT:
		snprintf(buf, buflen, "cannot write the output: %s",
			 err_str(err));
		return buf;
	}
	return err_str(err);
}

static void set_fault(struct content_fault *f, enum content_fault_part part,
		      uint32_t chunk)
{
	if (f) {
		f->part = part;
		f->chunk = chunk;
	}
}

static int open_part(const char *dir, const char *name, int *fd)
{
	char *p = fsutil_path_join(dir, name);

	*fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (*fd < 0)
		return errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
	return 0;
}

static int file_size_is(int fd, uint64_t want)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return ERR_IO;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != want)
		return ERR_FORMAT;
	return 0;
}

/* A directory named by 64 hex digits must be named by its own hash. */
static bool name_matches(const char *path, const uint8_t hash[32])
{
	const char *base = strrchr(path, '/');
	char hex[HEX_ENC_LEN(32)];
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n != 64 || strspn(base, "0123456789abcdef") != 64)
		return true;	/* not a hash name: nothing to compare */
	hex_encode(hex, sizeof(hex), hash, 32);
	return strcmp(hex, base) == 0;
}

static int load(struct content_dir *d, struct content_fault *f)
{
	char *mp = fsutil_path_join(d->path, "manifest");
	int r;

	r = fsutil_read_file(mp, CONTENT_MANIFEST_MAX_BYTES, &d->menc,
				 &d->mlen);
	free(mp);
	if (r == 0)
		r = content_manifest_decode(d->menc, d->mlen, &d->m);
	if (r != 0) {
		set_fault(f, CONTENT_FAULT_MANIFEST, 0);
		return r;
	}
	content_hash_of(d->hash, d->menc, d->mlen);
	if (!name_matches(d->path, d->hash)) {
		set_fault(f, CONTENT_FAULT_MANIFEST, 0);
		return ERR_AUTH;	/* the manifest is not this content's */
	}
	if ((r = open_part(d->path, "tree", &d->tree_fd)) != 0 ||
	    (r = file_size_is(d->tree_fd,
			      content_tree_nodes(d->m.chunk_count) * 32))) {
		set_fault(f, CONTENT_FAULT_TREE, 0);
		return r;
	}
	if ((r = open_part(d->path, "data", &d->data_fd)) != 0 ||
	    (r = file_size_is(d->data_fd, content_data_bytes(&d->m)))) {
		set_fault(f, CONTENT_FAULT_DATA, 0);
		return r;
	}
	return 0;
}

int content_dir_open(const char *path, struct content_dir **out,
		     struct content_fault *fault)
{
	struct content_dir *d = xzalloc(sizeof(*d));
	int r;

	d->path = xstrdup(path);
	d->tree_fd = d->data_fd = -1;
	set_fault(fault, CONTENT_FAULT_NONE, 0);
	if ((r = load(d, fault)) != 0) {
		content_dir_free(d);
		return r;
	}
	*out = d;
	return 0;
}

void content_dir_free(struct content_dir *d)
{
	if (!d)
		return;
	if (d->tree_fd >= 0)
		close(d->tree_fd);
	if (d->data_fd >= 0)
		close(d->data_fd);
	free(d->tree);
	content_manifest_clear(&d->m);
	free(d->menc);
	free(d->path);
	free(d);
}

const struct content_manifest *content_dir_manifest(const struct content_dir *d)
{
	return &d->m;
}

const uint8_t *content_dir_hash(const struct content_dir *d)
{
	return d->hash;
}

const uint8_t *content_dir_manifest_bytes(const struct content_dir *d,
					  size_t *len)
{
	*len = d->mlen;
	return d->menc;
}

const char *content_dir_path(const struct content_dir *d)
{
	return d->path;
}

/* Node reader over the kept tree (its size was checked at open). */
static int tree_mem_read(void *ctx, uint64_t node, uint8_t out[32])
{
	const struct content_dir *d = ctx;

	memcpy(out, d->tree + 32 * node, 32);
	return 0;
}

/* Read the tree into memory once, when it is small enough to keep. */
static void tree_keep(struct content_dir *d)
{
	uint64_t size = content_tree_nodes(d->m.chunk_count) * 32;

	if (d->tree_tried)	/* untrusted like the file: proofs checked */
		return;
	d->tree_tried = true;
	if (size > CDIR_TREE_KEEP_BYTES)
		return;
	d->tree = xmalloc((size_t)size);
	if (content_fs_pread_all(d->tree_fd, d->tree, (size_t)size, 0) != 0) {
		free(d->tree);
		d->tree = NULL;
	}
}

int content_dir_proof(struct content_dir *d, uint32_t idx,
		      struct content_proof *p)
{
	int r;

	tree_keep(d);
	if (d->tree)
		r = content_proof_make(p, idx, d->m.chunk_count,
				       tree_mem_read, d);
	else
		r = content_proof_make(p, idx, d->m.chunk_count,
				       content_tree_fd_read, &d->tree_fd);
	return r == ERR_TRUNCATED ? ERR_FORMAT : r;
}

int content_dir_chunk(struct content_dir *d, uint32_t idx, uint8_t *buf,
		      size_t cap, size_t *len)
{
	return content_dir_chunk_proof(d, idx, buf, cap, len, NULL);
}

/* The read of chunk idx; own: with descriptors of its own (dup), else
 * borrowing d's for a read on d's thread before d changes. */
static int read_prepare(struct content_dir *d, uint32_t idx,
			struct content_chunk_read *rd, bool own)
{
	int r;

	memset(rd, 0, sizeof(*rd));
	rd->data_fd = rd->tree_fd = -1;
	if (idx >= d->m.chunk_count)
		return ERR_RANGE;
	rd->idx = idx;
	rd->count = d->m.chunk_count;
	rd->off = content_chunk_data_offset(&d->m, idx);
	rd->len = content_chunk_plain_len(&d->m, idx) + CONTENT_TAG_BYTES;
	memcpy(rd->root, d->m.root, 32);
	rd->own = own;
	tree_keep(d);
	if (d->tree) {		/* the proof from memory, here */
		r = content_proof_make(&rd->proof, idx, rd->count,
				       tree_mem_read, d);
		if (r != 0)
			return r == ERR_TRUNCATED ? ERR_FORMAT : r;
		rd->proof_made = true;
	} else {
		rd->tree_fd = own ? fcntl(d->tree_fd, F_DUPFD_CLOEXEC, 0) :
			      d->tree_fd;
	}
	rd->data_fd = own ? fcntl(d->data_fd, F_DUPFD_CLOEXEC, 0) : d->data_fd;
	if (rd->data_fd < 0 || (!rd->proof_made && rd->tree_fd < 0)) {
		content_chunk_read_clear(rd);
		return ERR_IO;
	}
	return 0;
}

int content_dir_read_prepare(struct content_dir *d, uint32_t idx,
			     struct content_chunk_read *rd)
{
	return read_prepare(d, idx, rd, true);
}

/* The chunk read into buf is the one the root commits to. */
static int read_check(const struct content_chunk_read *rd, const uint8_t *buf)
{
	uint8_t leaf[32];

	content_leaf_hash(leaf, buf, rd->len);
	return content_proof_verify(&rd->proof, leaf, rd->root);
}

int content_chunk_read_run(struct content_chunk_read *rd, uint8_t *buf,
			   size_t cap)
{
	int r;

	if (rd->len > cap)
		return ERR_ARG;
	if (!rd->proof_made) {
		r = content_proof_make(&rd->proof, rd->idx, rd->count,
				       content_tree_fd_read, &rd->tree_fd);
		if (r != 0)
			return r == ERR_TRUNCATED ? ERR_FORMAT : r;
		rd->proof_made = true;
	}
	r = content_fs_pread_all(rd->data_fd, buf, rd->len, rd->off);
	if (r != 0)
		return r == ERR_TRUNCATED ? ERR_FORMAT : r;
	return read_check(rd, buf);
}

bool content_chunk_read_try(struct content_chunk_read *rd, uint8_t *buf,
			    size_t cap, int *r)
{
#ifdef RWF_NOWAIT
	struct iovec iov = { .iov_base = buf, .iov_len = rd->len };
	ssize_t n;

	if (!rd->proof_made || rd->len > cap)
		return false;
	do
		n = preadv2(rd->data_fd, &iov, 1, (off_t)rd->off, RWF_NOWAIT);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)rd->len)	/* not all of it cached, or an error */
		return false;		/* (the run will say which) */
	*r = read_check(rd, buf);
	return true;
#else
	(void)rd;
	(void)buf;
	(void)cap;
	(void)r;
	return false;
#endif
}

void content_chunk_read_clear(struct content_chunk_read *rd)
{
	if (rd->own && rd->data_fd >= 0)
		close(rd->data_fd);
	if (rd->own && rd->tree_fd >= 0)
		close(rd->tree_fd);
	rd->data_fd = rd->tree_fd = -1;
}

int content_dir_chunk_proof(struct content_dir *d, uint32_t idx, uint8_t *buf,
			    size_t cap, size_t *len,
			    struct content_proof *proof)
{
	struct content_chunk_read rd;
	int r;

	if ((r = read_prepare(d, idx, &rd, false)) == 0)
		r = content_chunk_read_run(&rd, buf, cap);
	content_chunk_read_clear(&rd);
	if (r != 0)
		return r;
	*len = rd.len;
	if (proof)
		*proof = rd.proof;
	return 0;
}

/* Parallel leaf hashing of one verify batch [first, first + n). */
struct vbatch {
	const struct content_manifest *m;
	const uint8_t *have;
	uint8_t *buf;		/* the batch's data bytes */
	uint8_t *want;		/* stored leaves */
	uint32_t first, n;
	size_t stride;
	atomic_uint_fast32_t bad;	/* lowest bad item, or UINT32_MAX */
};

static bool has_chunk(const uint8_t *have, uint32_t idx)
{
	return !have || (have[idx / 8] >> (idx % 8) & 1);
}

static void check_one(void *ctx, unsigned worker, uint32_t i)
{
	struct vbatch *b = ctx;
	uint32_t idx = b->first + i;
	uint8_t leaf[32];

	(void)worker;
	if (!has_chunk(b->have, idx))
		return;
	content_leaf_hash(leaf, b->buf + (size_t)i * b->stride,
			  content_chunk_plain_len(b->m, idx) + CONTENT_TAG_BYTES);
	if (memcmp(leaf, b->want + 32 * (size_t)i, 32) != 0) {
		uint_fast32_t cur = atomic_load(&b->bad);
		while (i < cur && !atomic_compare_exchange_weak(&b->bad, &cur, i))
			;
	}
}

/* Read the ciphertext and stored leaves of chunks [first, first + n). */
static int read_vbatch(struct content_dir *d, struct vbatch *b, uint32_t first,
		       uint32_t n)
{
	uint64_t off, end;
	int r;

	b->first = first;
	b->n = n;
	atomic_store(&b->bad, UINT32_MAX);
	if (n == 0)
		return 0;
	off = content_chunk_data_offset(&d->m, first);
	end = content_chunk_data_offset(&d->m, first + n - 1) +
	      content_chunk_plain_len(&d->m, first + n - 1) + CONTENT_TAG_BYTES;
	if ((r = content_fs_pread_all(d->data_fd, b->buf, end - off, off)) == 0)
		r = content_fs_pread_all(d->tree_fd, b->want, 32 * (size_t)n,
					 32 * (uint64_t)first);
	return r;
}

/* Hash every chunk against its stored leaf; two batches take turns, so
 * the next is read while the workers hash this one. */
static int verify_chunks(struct content_dir *d, struct content_pool *pool,
			 const uint8_t *have, struct content_fault *f)
{
	struct vbatch b[2] = { { .m = &d->m, .have = have },
			       { .m = &d->m, .have = have } };
	uint32_t per = VERIFY_BATCH_BYTES >> d->m.chunk_log2;
	uint32_t count = d->m.chunk_count;
	int r, k;

	if (per < 2 * content_pool_threads(pool))	/* work for every worker */
		per = 2 * content_pool_threads(pool);
	for (k = 0; k < 2; k++) {
		b[k].stride = ((size_t)1 << d->m.chunk_log2) + CONTENT_TAG_BYTES;
		b[k].buf = xmalloc(per * b[k].stride);
		b[k].want = xmalloc(per * (size_t)32);
	}
	if ((r = read_vbatch(d, &b[0], 0, count < per ? count : per)) != 0)
		set_fault(f, CONTENT_FAULT_DATA, 0);
	for (k = 0; r == 0 && b[k & 1].n; k++) {
		struct vbatch *cur = &b[k & 1], *other = &b[(k + 1) & 1];
		uint32_t next = cur->first + cur->n;
		content_pool_start(pool, check_one, cur, cur->n);
		if ((r = read_vbatch(d, other, next, count - next < per ?
				     count - next : per)) != 0)
			set_fault(f, CONTENT_FAULT_DATA, next);
		content_pool_wait(pool);
		if (atomic_load(&cur->bad) != UINT32_MAX) {
			set_fault(f, CONTENT_FAULT_CHUNK,
				  cur->first + (uint32_t)atomic_load(&cur->bad));
			r = ERR_AUTH;
		}
	}
	for (k = 0; k < 2; k++) {
		free(b[k].buf);
		free(b[k].want);
	}
	return r == ERR_TRUNCATED ? ERR_FORMAT : r;
}

int content_dir_verify(struct content_dir *d, unsigned threads,
		       const uint8_t *have, struct content_fault *fault)
{
	struct content_pool *pool;
	struct content_card *card;
	int r;

	set_fault(fault, CONTENT_FAULT_NONE, 0);
	if ((r = content_tree_check_fd(d->tree_fd, d->m.chunk_count,
				       d->m.root)) != 0) {
		set_fault(fault, CONTENT_FAULT_TREE, 0);
		return r;
	}
	/* threads workers; this thread reads meanwhile. */
	pool = content_pool_new(threads > 1 ? threads + 1 : 1);
	r = verify_chunks(d, pool, have, fault);
	content_pool_free(pool);
	if (r != 0)
		return r;
	card = xzalloc(sizeof(*card));
	r = content_dir_card(d, card);
	free(card);
	if (r == ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		set_fault(fault, CONTENT_FAULT_CARD, 0);
	return r;
}

int content_dir_cat(struct content_dir *d, const struct content_key *k,
		    uint64_t from, uint64_t length, int out_fd,
		    struct content_fault *fault)
{
	const struct content_manifest *m = &d->m;
	size_t cap = ((size_t)1 << m->chunk_log2) + CONTENT_TAG_BYTES;
	uint8_t *buf = xmalloc(cap);
	struct content_chunk_key ck;
	struct aesgcm_ctx *aead;
	uint64_t end;
	int r = 0;

	set_fault(fault, CONTENT_FAULT_NONE, 0);
	if (from > m->size) {
		free(buf);
		return ERR_RANGE;
	}
	end = length > m->size - from ? m->size : from + length;
	content_chunk_key_derive(&ck, k, m->salt);
	aead = aesgcm_new(ck.b);	/* keyed once for the whole stream */
	for (uint32_t idx = (uint32_t)(from >> m->chunk_log2);
	     idx < m->chunk_count; idx++) {
		uint64_t start = (uint64_t)idx << m->chunk_log2;
		size_t len, skip, take;
		if (start >= end && !(m->size == 0 && idx == 0))
			break;
		if ((r = content_dir_chunk(d, idx, buf, cap, &len)) != 0) {
			set_fault(fault, CONTENT_FAULT_CHUNK, idx);
			break;
		}
		if ((r = content_chunk_open(buf, aead, m, idx, buf, len)) != 0) {
			set_fault(fault, CONTENT_FAULT_KEY, idx);
			break;
		}
		len -= CONTENT_TAG_BYTES;
		skip = start < from ? (size_t)(from - start) : 0;
		take = start + len > end ? (size_t)(end - start) - skip :
		       len - skip;
		if ((r = fsutil_write_all(out_fd, buf + skip, take)) != 0) {
			set_fault(fault, CONTENT_FAULT_OUTPUT, idx);
			break;
		}
	}
	memwipe(&ck, sizeof(ck));
	aesgcm_free(aead);
	xfree_wipe(buf, cap);
	return r;
}

int content_dir_card(struct content_dir *d, struct content_card *out)
{
	struct content_card *c = xzalloc(sizeof(*c));
	char *p = fsutil_path_join(d->path, "card");
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = fsutil_read_file(p, CONTENT_CARD_MAX_BYTES, &buf, &len);
	free(p);
	if (r == 0 && (r = content_card_decode(buf, len, c)) == 0 &&
	    (r = content_card_verify(c)) == 0 &&
	    !content_card_matches(c, &d->m, d->hash))
		r = ERR_AUTH;	/* a valid card, but of another content */
	if (r == 0)
		*out = *c;
	free(buf);
	free(c);
	return r;
}
