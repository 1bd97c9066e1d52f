/* apps/content/publish and cdir: round trips, offsets, tampering. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/content/tcontent.h"
#include "apps/content/cdir.h"
#include "apps/content/fsio.h"
#include "apps/content/par.h"
#include "apps/content/publish.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* cat [from, from + len) of d into a file in dir and read it back. */
static int cat_buf(struct content_dir *d, const struct content_key *k,
		   uint64_t from, uint64_t len, const char *dir, uint8_t **out,
		   size_t *outlen, struct content_fault *f)
{
	char *p = fsutil_path_join(dir, "cat.out");
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600), r;

	r = content_dir_cat(d, k, from, len, fd, f);
	close(fd);
	*out = tc_read(p, outlen);
	unlink(p);
	free(p);
	return r;
}

/* Publish n bytes, verify, cat everything back and compare. */
static void roundtrip(struct tctx *t, const char *dir, uint64_t n,
		      unsigned log2, unsigned threads)
{
	struct content_published p;
	struct content_dir *d = NULL;
	struct content_fault f;
	uint8_t *got = NULL, *want;
	size_t len = 0;

	T_OK(t, tc_publish(t, dir, n, (uint32_t)n + log2, log2, threads, &p));
	T_EQ(t, p.manifest.size, n);
	T_EQ(t, p.manifest.chunk_count, content_chunk_count(n, log2 ? log2 : 16));
	T_OK(t, content_dir_open(p.dir, &d, &f));
	if (!d)
		goto out;
	T_MEMEQ(t, content_dir_hash(d), p.content_hash, 32);
	T_OK(t, content_dir_verify(d, threads, NULL, &f));
	T_OK(t, cat_buf(d, &p.key, 0, UINT64_MAX, dir, &got, &len, &f));
	T_EQ(t, len, n);
	want = xmalloc(n + 1);
	tc_fill(want, n, 0, (uint32_t)n + log2);
	if (got && len == n)
		T_MEMEQ(t, got, want, n);
	free(want);
out:
	free(got);
	content_dir_free(d);
	content_fs_rmtree(p.dir);
	content_published_clear(&p);
}

static void test_roundtrip_sizes(struct tctx *t)
{
	static const uint64_t sizes[] = { 0, 1, 2, 16383, 16384, 16385, 32768,
					  65535, 65536, 65537, 131072, 131073,
					  200000 };
	char *dir = t_tmpdir(t);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		roundtrip(t, dir, sizes[i], 0, 1);
		roundtrip(t, dir, sizes[i], 14, 2);
	}
	t_rmtree(dir);
	free(dir);
}

/* Several batches, with more threads than cores. */
static void test_roundtrip_batches(struct tctx *t)
{
	char *dir = t_tmpdir(t);

	roundtrip(t, dir, (9u << 20) + 123, 0, 1);
	roundtrip(t, dir, (9u << 20) + 123, 0, 3);
	roundtrip(t, dir, (1u << 20), 20, 2);	/* 1 MiB chunks */
	roundtrip(t, dir, (5u << 20) + 9, 20, 3);	/* batches of 8 of them */
	t_rmtree(dir);
	free(dir);
}

/* A bad chunk in a later batch is found by every thread count. */
static void test_bad_chunk_late(struct tctx *t)
{
	char *dir = t_tmpdir(t), *data;
	struct content_published p;
	struct content_dir *d = NULL;
	struct content_fault f;

	T_OK(t, tc_publish(t, dir, 9u << 20, 8, 0, 2, &p));
	data = fsutil_path_join(p.dir, "data");
	tc_flip(t, data, 130 * (65536 + 16) + 77, 0x40);
	T_OK(t, content_dir_open(p.dir, &d, &f));
	for (unsigned th = 1; d && th <= 3; th++) {
		T_ERR(t, content_dir_verify(d, th, NULL, &f), ERR_AUTH);
		T_EQ(t, f.part, CONTENT_FAULT_CHUNK);
		T_EQ(t, f.chunk, 130);
	}
	content_dir_free(d);
	content_published_clear(&p);
	free(data);
	t_rmtree(dir);
	free(dir);
}

static void test_random_offsets(struct tctx *t)
{
	const uint64_t n = (1u << 20) + 777;
	char *dir = t_tmpdir(t);
	struct content_published p;
	struct content_dir *d = NULL;
	struct content_fault f;
	uint8_t *want = xmalloc(n);
	uint64_t x = 12345;

	tc_fill(want, n, 0, 5);
	T_OK(t, tc_publish(t, dir, n, 5, 14, 2, &p));
	T_OK(t, content_dir_open(p.dir, &d, &f));
	for (int i = 0; d && i < 60; i++) {
		uint64_t from, len;
		uint8_t *got = NULL;
		size_t gl = 0;
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		from = (x >> 20) % n;
		len = i % 3 == 0 ? UINT64_MAX : (x >> 7) % 70000;
		T_OK(t, cat_buf(d, &p.key, from, len, dir, &got, &gl, &f));
		if (len > n - from)
			len = n - from;
		T_EQ(t, gl, len);
		if (got && gl == len)
			T_MEMEQ(t, got, want + from, len);
		free(got);
	}
	if (d) {	/* the end is an empty read; past it is an error */
		uint8_t *got = NULL;
		size_t gl = 9;
		T_OK(t, cat_buf(d, &p.key, n, UINT64_MAX, dir, &got, &gl, &f));
		T_EQ(t, gl, 0);
		free(got);
		T_ERR(t, cat_buf(d, &p.key, n + 1, 1, dir, &got, &gl, &f), ERR_RANGE);
		free(got);
	}
	content_dir_free(d);
	content_published_clear(&p);
	free(want);
	t_rmtree(dir);
	free(dir);
}

/* A content of 8 chunks of 16 KiB for the tamper tests. */
struct fixture {
	char *dir;
	struct content_published p;
	char *data, *tree, *manifest, *card;
	uint8_t *plain;
};

#define FIX_SIZE (8 * 16384 - 100)

static void fix_open(struct tctx *t, struct fixture *fx)
{
	fx->dir = t_tmpdir(t);
	T_OK(t, tc_publish(t, fx->dir, FIX_SIZE, 9, 14, 1, &fx->p));
	fx->data = fsutil_path_join(fx->p.dir, "data");
	fx->tree = fsutil_path_join(fx->p.dir, "tree");
	fx->manifest = fsutil_path_join(fx->p.dir, "manifest");
	fx->card = fsutil_path_join(fx->p.dir, "card");
	fx->plain = xmalloc(FIX_SIZE);
	tc_fill(fx->plain, FIX_SIZE, 0, 9);
}

static void fix_close(struct fixture *fx)
{
	content_published_clear(&fx->p);
	free(fx->data);
	free(fx->tree);
	free(fx->manifest);
	free(fx->card);
	free(fx->plain);
	t_rmtree(fx->dir);
	free(fx->dir);
}

/* Open fx's directory and verify it: the fault, or NONE. */
static int fix_verify(struct tctx *t, struct fixture *fx,
		      struct content_fault *f)
{
	struct content_dir *d = NULL;
	int r = content_dir_open(fx->p.dir, &d, f);

	if (r == 0)
		r = content_dir_verify(d, 2, NULL, f);
	content_dir_free(d);
	(void)t;
	return r;
}

static void test_tampered_chunk(struct tctx *t)
{
	struct fixture fx;
	struct content_dir *d = NULL;
	struct content_fault f;
	uint8_t *got = NULL;
	size_t len = 0;
	char msg[256];

	fix_open(t, &fx);
	/* A byte inside chunk 5's ciphertext. */
	tc_flip(t, fx.data, 5 * (16384 + 16) + 1000, 0x01);
	T_ERR(t, fix_verify(t, &fx, &f), ERR_AUTH);
	T_EQ(t, f.part, CONTENT_FAULT_CHUNK);
	T_EQ(t, f.chunk, 5);
	T_TRUE(t, strstr(content_fault_str(&f, ERR_AUTH, msg, sizeof(msg)),
			 "chunk 5") != NULL);
	/* The stream stops before chunk 5: nothing unchecked is written. */
	T_OK(t, content_dir_open(fx.p.dir, &d, &f));
	T_ERR(t, cat_buf(d, &fx.p.key, 0, UINT64_MAX, fx.dir, &got, &len, &f),
	      ERR_AUTH);
	T_EQ(t, f.part, CONTENT_FAULT_CHUNK);
	T_EQ(t, len, 5 * 16384);
	if (got && len == 5 * 16384)
		T_MEMEQ(t, got, fx.plain, len);
	free(got);
	/* From chunk 6 on, all is well. */
	T_OK(t, cat_buf(d, &fx.p.key, 6 * 16384, UINT64_MAX, fx.dir, &got, &len,
			&f));
	T_EQ(t, len, FIX_SIZE - 6 * 16384);
	free(got);
	content_dir_free(d);
	tc_flip(t, fx.data, 5 * (16384 + 16) + 1000, 0x01);
	/* The tag of chunk 2 is covered as well. */
	tc_flip(t, fx.data, 2 * (16384 + 16) + 16384 + 3, 0x80);
	T_ERR(t, fix_verify(t, &fx, &f), ERR_AUTH);
	T_EQ(t, f.chunk, 2);
	tc_flip(t, fx.data, 2 * (16384 + 16) + 16384 + 3, 0x80);
	T_OK(t, fix_verify(t, &fx, &f));
	fix_close(&fx);
}

static void test_swapped_chunks(struct tctx *t)
{
	struct fixture fx;
	struct content_fault f;
	uint8_t a[16400], b[16400];
	int fd;

	fix_open(t, &fx);
	fd = open(fx.data, O_RDWR);
	T_OK(t, content_fs_pread_all(fd, a, sizeof(a), 1 * sizeof(a)));
	T_OK(t, content_fs_pread_all(fd, b, sizeof(b), 2 * sizeof(b)));
	T_OK(t, content_fs_pwrite_all(fd, b, sizeof(b), 1 * sizeof(a)));
	T_OK(t, content_fs_pwrite_all(fd, a, sizeof(a), 2 * sizeof(b)));
	close(fd);
	T_ERR(t, fix_verify(t, &fx, &f), ERR_AUTH);
	T_EQ(t, f.part, CONTENT_FAULT_CHUNK);
	T_EQ(t, f.chunk, 1);
	fix_close(&fx);
}

static void test_tampered_tree_and_data(struct tctx *t)
{
	struct fixture fx;
	struct content_fault f;

	fix_open(t, &fx);
	tc_flip(t, fx.tree, 8 * 32 + 1, 0x02);	/* a level-1 node */
	T_ERR(t, fix_verify(t, &fx, &f), ERR_AUTH);
	T_EQ(t, f.part, CONTENT_FAULT_TREE);
	tc_flip(t, fx.tree, 8 * 32 + 1, 0x02);
	tc_flip(t, fx.tree, 3 * 32, 0x02);	/* a leaf */
	T_ERR(t, fix_verify(t, &fx, &f), ERR_AUTH);
	T_EQ(t, f.part, CONTENT_FAULT_TREE);
	tc_flip(t, fx.tree, 3 * 32, 0x02);
	T_OK(t, truncate(fx.data, FIX_SIZE + 8 * 16 - 1));
	T_ERR(t, fix_verify(t, &fx, &f), ERR_FORMAT);
	T_EQ(t, f.part, CONTENT_FAULT_DATA);
	T_OK(t, unlink(fx.tree));
	T_ERR(t, fix_verify(t, &fx, &f), ERR_NOT_FOUND);
	T_EQ(t, f.part, CONTENT_FAULT_TREE);
	fix_close(&fx);
}

static void test_tampered_manifest(struct tctx *t)
{
	struct fixture fx;
	struct content_fault f;
	char *renamed;

	fix_open(t, &fx);
	/* A manifest of format version 1 (ChaCha20-Poly1305 chunks). */
	tc_flip(t, fx.manifest, 4, 0x02 ^ 0x01);	/* version 2 -> 1 */
	T_ERR(t, fix_verify(t, &fx, &f), ERR_UNSUPPORTED);
	T_EQ(t, f.part, CONTENT_FAULT_MANIFEST);
	tc_flip(t, fx.manifest, 4, 0x02 ^ 0x01);	/* back */
	T_OK(t, fix_verify(t, &fx, &f));
	tc_flip(t, fx.manifest, 60, 0x01);	/* inside the root */
	T_ERR(t, fix_verify(t, &fx, &f), ERR_AUTH);	/* not its name */
	T_EQ(t, f.part, CONTENT_FAULT_MANIFEST);
	/* Under another name the root is checked against the tree. */
	renamed = fsutil_path_join(fx.dir, "renamed");
	T_OK(t, rename(fx.p.dir, renamed));
	free(fx.p.dir);
	fx.p.dir = renamed;
	T_ERR(t, fix_verify(t, &fx, &f), ERR_AUTH);
	T_EQ(t, f.part, CONTENT_FAULT_TREE);
	fix_close(&fx);
}

static void test_tampered_card(struct tctx *t)
{
	struct fixture fx;
	struct content_fault f;
	struct content_card *c = xzalloc(sizeof(*c));
	struct content_signer s;
	struct ed25519_seed sk;
	struct bbuf b = BBUF_INIT;

	fix_open(t, &fx);
	tc_card(c);
	memcpy(c->content_hash, fx.p.content_hash, 32);
	memcpy(c->key_commitment, fx.p.key_commitment, 32);
	c->size = FIX_SIZE;
	snprintf(c->mime, sizeof(c->mime), "application/octet-stream");
	tc_signer(&s, &sk, 4);
	T_OK(t, content_card_sign(c, &s));
	T_OK(t, content_card_encode(c, &b));
	T_OK(t, content_fs_write_atomic(fx.p.dir, "card", b.data, b.len, 0644));
	T_OK(t, fix_verify(t, &fx, &f));
	tc_flip(t, fx.card, 40, 0x01);		/* the key commitment */
	T_ERR(t, fix_verify(t, &fx, &f), ERR_BAD_SIG);
	T_EQ(t, f.part, CONTENT_FAULT_CARD);
	/* A valid card of another content does not belong here. */
	c->content_hash[0] ^= 1;
	T_OK(t, content_card_sign(c, &s));
	bbuf_reset(&b);
	T_OK(t, content_card_encode(c, &b));
	T_OK(t, content_fs_write_atomic(fx.p.dir, "card", b.data, b.len, 0644));
	T_ERR(t, fix_verify(t, &fx, &f), ERR_AUTH);
	T_EQ(t, f.part, CONTENT_FAULT_CARD);
	bbuf_free(&b);
	free(c);
	fix_close(&fx);
}

static void test_wrong_key(struct tctx *t)
{
	struct fixture fx;
	struct content_dir *d = NULL;
	struct content_fault f;
	struct content_key k;
	uint8_t *got = NULL;
	size_t len = 1;

	fix_open(t, &fx);
	k = fx.p.key;
	k.b[31] ^= 1;
	T_OK(t, content_dir_open(fx.p.dir, &d, &f));
	T_ERR(t, cat_buf(d, &k, 0, UINT64_MAX, fx.dir, &got, &len, &f), ERR_AUTH);
	T_EQ(t, f.part, CONTENT_FAULT_KEY);
	T_EQ(t, f.chunk, 0);
	T_EQ(t, len, 0);	/* nothing written */
	free(got);
	content_dir_free(d);
	fix_close(&fx);
}

static void test_chunk_and_proof(struct tctx *t)
{
	struct fixture fx;
	struct content_dir *d = NULL;
	struct content_fault f;
	struct content_proof p, q;
	struct bbuf b = BBUF_INIT;
	uint8_t buf[16400], leaf[32];
	size_t len;

	fix_open(t, &fx);
	T_OK(t, content_dir_open(fx.p.dir, &d, &f));
	for (uint32_t i = 0; d && i < 8; i++) {
		T_OK(t, content_dir_chunk(d, i, buf, sizeof(buf), &len));
		T_EQ(t, len, content_chunk_plain_len(&fx.p.manifest, i) + 16);
		T_OK(t, content_dir_proof(d, i, &p));
		content_proof_encode(&p, &b);
		T_OK(t, content_proof_decode(b.data, b.len, &q));
		bbuf_reset(&b);
		content_leaf_hash(leaf, buf, len);
		T_OK(t, content_proof_verify(&q, leaf, fx.p.manifest.root));
	}
	if (d) {
		T_ERR(t, content_dir_chunk(d, 8, buf, sizeof(buf), &len), ERR_RANGE);
		T_ERR(t, content_dir_chunk(d, 0, buf, 100, &len), ERR_ARG);
	}
	bbuf_free(&b);
	content_dir_free(d);
	fix_close(&fx);
}

static int mem_node(void *ctx, uint64_t node, uint8_t out[32])
{
	memcpy(out, (const uint8_t *)ctx + 32 * node, 32);
	return 0;
}

/*
 * A small tree is read once, at the first proof: the later proofs, and
 * the chunk reads checked with them, read no tree node from the file
 * (here truncated to nothing after the first proof) and are the proofs
 * the file held.
 */
static void test_proof_tree_kept(struct tctx *t)
{
	struct fixture fx;
	struct content_dir *d = NULL;
	struct content_fault f;
	struct content_proof p, want;
	uint8_t *tree = NULL, buf[16400];
	size_t tlen = 0, len;

	fix_open(t, &fx);
	T_OK(t, fsutil_read_file(fx.tree, 1 << 20, &tree, &tlen));
	T_OK(t, content_dir_open(fx.p.dir, &d, &f));
	if (d && tree) {
		T_OK(t, content_dir_proof(d, 0, &p));
		T_OK(t, truncate(fx.tree, 0));
		for (uint32_t i = 0; i < 8; i++) {
			T_OK(t, content_dir_proof(d, i, &p));
			T_OK(t, content_proof_make(&want, i, 8, mem_node, tree));
			T_MEMEQ(t, &p, &want, sizeof(p));
			T_OK(t, content_dir_chunk(d, i, buf, sizeof(buf), &len));
		}
	}
	content_dir_free(d);
	/* A directory opened now finds the tree file cut short. */
	T_ERR(t, content_dir_open(fx.p.dir, &d, &f), ERR_FORMAT);
	free(tree);
	fix_close(&fx);
}

/* Bad options and non-files leave nothing behind. */
static void test_publish_refuses(struct tctx *t)
{
	struct content_publish_opts o = { .mime = "text/plain" };
	struct content_published p;
	char *dir = t_tmpdir(t), *src = fsutil_path_join(dir, "src");
	int fd, pfd[2], entries = 0;
	DIR *dd;
	struct dirent *e;

	tc_write_file(t, src, 1000, 1);
	fd = open(src, O_RDONLY);
	o.mime = NULL;
	T_ERR(t, content_publish_fd(fd, dir, &o, &p), ERR_ARG);
	o.mime = "Text/Plain";
	T_ERR(t, content_publish_fd(fd, dir, &o, &p), ERR_FORMAT);
	o.mime = "text/plain";
	o.chunk_log2 = 13;
	T_ERR(t, content_publish_fd(fd, dir, &o, &p), ERR_ARG);
	o.chunk_log2 = 0;
	o.timescale = 1000;	/* an index with no entries */
	T_ERR(t, content_publish_fd(fd, dir, &o, &p), ERR_FORMAT);
	close(fd);
	o.timescale = 0;
	T_OK(t, pipe(pfd));
	T_ERR(t, content_publish_fd(pfd[0], dir, &o, &p), ERR_ARG);
	close(pfd[0]);
	close(pfd[1]);
	dd = opendir(dir);
	while (dd && (e = readdir(dd)))
		entries += e->d_name[0] != '.';
	if (dd)
		closedir(dd);
	T_EQ(t, entries, 1);	/* just the source */
	free(src);
	t_rmtree(dir);
	free(dir);
}

/* content_fs_preadv_all fills every buffer in file order, skips empty
 * ones, and reports a read past the end as ERR_TRUNCATED. */
static void test_preadv_all(struct tctx *t)
{
	char *dir = t_tmpdir(t);
	int fd = tc_source(t, dir, 100, 5);
	uint8_t want[100], a[30], b[70], c[50], none[1];
	struct iovec iov[4] = { { none, 0 }, { a, sizeof(a) }, { none, 0 },
				{ b, sizeof(b) } };

	tc_fill(want, sizeof(want), 0, 5);
	T_TRUE(t, fd >= 0);
	T_OK(t, content_fs_preadv_all(fd, iov, 4, 0));
	T_TRUE(t, memcmp(a, want, sizeof(a)) == 0);
	T_TRUE(t, memcmp(b, want + 30, sizeof(b)) == 0);
	iov[0] = (struct iovec){ none, 0 };
	T_OK(t, content_fs_preadv_all(fd, iov, 1, 0));	/* nothing to read */
	T_OK(t, content_fs_preadv_all(fd, iov, 0, 0));
	iov[0] = (struct iovec){ c, sizeof(c) };
	T_ERR(t, content_fs_preadv_all(fd, iov, 1, 80), ERR_TRUNCATED);
	T_ERR(t, content_fs_pread_all(fd, c, sizeof(c), 60), ERR_TRUNCATED);
	T_OK(t, content_fs_pread_all(fd, c, sizeof(c), 50));
	T_TRUE(t, memcmp(c, want + 50, sizeof(c)) == 0);
	if (fd >= 0)
		close(fd);
	t_rmtree(dir);
	free(dir);
}

/* The pool's worker index: in range, and never held by two calls at once
 * (publish keeps one AEAD context per worker on it). */
struct pool_probe {
	unsigned threads;
	atomic_int busy[8];
	atomic_int bad, calls, seen[8];
};

static void probe_one(void *ctx, unsigned w, uint32_t item)
{
	struct pool_probe *p = ctx;

	(void)item;
	atomic_fetch_add(&p->calls, 1);
	if (w >= p->threads) {
		atomic_fetch_add(&p->bad, 1);
		return;
	}
	atomic_store(&p->seen[w], 1);
	if (atomic_exchange(&p->busy[w], 1) != 0)
		atomic_fetch_add(&p->bad, 1);	/* two calls on one worker */
	for (volatile int spin = 0; spin < 2000; spin++)
		;
	atomic_store(&p->busy[w], 0);
}

static void test_pool_workers(struct tctx *t)
{
	for (unsigned th = 1; th <= 4; th++) {
		struct content_pool *pool = content_pool_new(th);
		struct pool_probe p = { .threads = content_pool_threads(pool) };

		T_EQ(t, p.threads, th);
		content_pool_run(pool, probe_one, &p, 5000);
		T_EQ(t, atomic_load(&p.calls), 5000);
		T_EQ(t, atomic_load(&p.bad), 0);
		/* Alone, the caller does every item as worker 0; with workers
		 * it takes part too, but a loaded machine may let them empty
		 * the queue first, so only the index range is certain. */
		if (th == 1)
			T_EQ(t, atomic_load(&p.seen[0]), 1);
		/* start/wait: only the workers (1..th-1), or the caller alone. */
		for (int i = 0; i < 8; i++)
			atomic_store(&p.seen[i], 0);
		content_pool_start(pool, probe_one, &p, 3000);
		content_pool_wait(pool);
		T_EQ(t, atomic_load(&p.calls), 8000);
		T_EQ(t, atomic_load(&p.bad), 0);
		T_EQ(t, atomic_load(&p.seen[0]), th == 1);
		content_pool_free(pool);
	}
}

const struct test_case content_publish_tests[] = {
	{ "pool_workers", test_pool_workers, 0 },
	{ "preadv_all", test_preadv_all, 0 },
	{ "roundtrip_sizes", test_roundtrip_sizes, 0 },
	{ "roundtrip_batches", test_roundtrip_batches, 0 },
	{ "bad_chunk_late", test_bad_chunk_late, 0 },
	{ "random_offsets", test_random_offsets, 0 },
	{ "tampered_chunk", test_tampered_chunk, 0 },
	{ "swapped_chunks", test_swapped_chunks, 0 },
	{ "tampered_tree_and_data", test_tampered_tree_and_data, 0 },
	{ "tampered_manifest", test_tampered_manifest, 0 },
	{ "tampered_card", test_tampered_card, 0 },
	{ "wrong_key", test_wrong_key, 0 },
	{ "chunk_and_proof", test_chunk_and_proof, 0 },
	{ "proof_tree_kept", test_proof_tree_kept, 0 },
	{ "publish_refuses", test_publish_refuses, 0 },
	{ NULL, NULL, 0 }
};
