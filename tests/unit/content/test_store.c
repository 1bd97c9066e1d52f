/* apps/content/store: index, partial downloads, budget, crash safety. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/content/tcontent.h"
#include "apps/content/cdir.h"
#include "apps/content/fsio.h"
#include "apps/content/store.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Publish n bytes of stream seed into st (log2 14) from a file in dir. */
static int store_publish(struct tctx *t, struct content_store *st,
			 const char *dir, uint64_t n, uint32_t seed, bool pinned,
			 uint8_t hash[32])
{
	struct content_publish_opts o = { .mime = "audio/ogg", .chunk_log2 = 14 };
	struct content_published p;
	int fd = tc_source(t, dir, n, seed), r;

	r = fd < 0 ? ERR_IO : content_store_publish(st, fd, &o, pinned, &p);
	if (fd >= 0)
		close(fd);
	if (r == 0) {
		memcpy(hash, p.content_hash, 32);
		content_published_clear(&p);
	}
	return r;
}

/* p, the proof of a chunk whose leaf hash is leaf, verifies against the
 * root of h's manifest in st. */
static void proof_verifies(struct tctx *t, struct content_store *st,
			   const uint8_t h[32], const struct content_proof *p,
			   const uint8_t leaf[32])
{
	struct content_dir *d = NULL;
	struct content_fault f;
	char *cd = content_store_dir(st, h);

	T_OK(t, content_dir_open(cd, &d, &f));
	if (d)
		T_OK(t, content_proof_verify(p, leaf,
					     content_dir_manifest(d)->root));
	content_dir_free(d);
	free(cd);
}

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static bool stored(struct content_store *st, const uint8_t hash[32])
{
	struct content_store_info i;

	return content_store_info(st, hash, &i) == 0;
}

static void test_publish_and_serve(struct tctx *t)
{
	char *dir = t_tmpdir(t);
	struct content_store *st = NULL;
	struct content_store_info info;
	struct content_proof p;
	uint8_t h[32], buf[16400], leaf[32], *have = NULL;
	size_t len, hl;

	T_OK(t, content_store_open(dir, &st));
	if (!st)
		goto out;
	T_OK(t, store_publish(t, st, dir, 300000, 1, false, h));
	T_OK(t, content_store_info(st, h, &info));
	T_EQ(t, info.size, 300000);
	T_EQ(t, info.chunk_count, 19);
	T_EQ(t, info.have_count, 19);
	T_EQ(t, content_store_used(st), info.stored_bytes);
	T_OK(t, content_store_have(st, h, &have, &hl));
	T_EQ(t, hl, 3);
	if (have)
		T_EQ(t, have[2], 0x07);	/* bits 16..18, no stray bits */
	free(have);
	for (uint32_t i = 0; i < 19; i++) {
		T_OK(t, content_store_chunk_get(st, h, i, buf, sizeof(buf), &len, &p));
		content_leaf_hash(leaf, buf, len);
		proof_verifies(t, st, h, &p, leaf);
	}
	T_ERR(t, content_store_chunk_get(st, h, 19, buf, sizeof(buf), &len, NULL),
	      ERR_NOT_FOUND);
	h[0] ^= 1;
	T_ERR(t, content_store_chunk_get(st, h, 0, buf, sizeof(buf), &len, NULL),
	      ERR_NOT_FOUND);
out:
	content_store_free(st);
	t_rmtree(dir);
	free(dir);
}

/* The manifest and tree of content h in store a (caller frees both). */
static void read_meta(struct content_store *a, const uint8_t h[32],
		      uint8_t **mf, size_t *ml, uint8_t **tree, size_t *tl)
{
	char *ad = content_store_dir(a, h), *p;

	p = fsutil_path_join(ad, "manifest");
	*mf = tc_read(p, ml);
	free(p);
	p = fsutil_path_join(ad, "tree");
	*tree = tc_read(p, tl);
	free(p);
	free(ad);
}

/* A second store fetches chunk by chunk from the first. */
static void test_partial_download(struct tctx *t)
{
	char *dir = t_tmpdir(t), *dir2 = fsutil_path_join(dir, "peer");
	struct content_store *a = NULL, *b = NULL;
	struct content_store_info info;
	uint8_t h[32], h2[32], buf[16400], *mf = NULL, *tree = NULL;
	char *p;
	size_t ml = 0, tl = 0, len;

	T_OK(t, content_fs_mkdirs(dir2, 0700));
	T_OK(t, content_store_open(dir, &a));
	T_OK(t, content_store_open(dir2, &b));
	if (!a || !b)
		goto out;
	T_OK(t, store_publish(t, a, dir, 100000, 2, true, h));
	read_meta(a, h, &mf, &ml, &tree, &tl);
	/* A tree that does not match the manifest is refused. */
	tree[40] ^= 1;
	T_ERR(t, content_store_add(b, mf, ml, tree, tl, false, h2), ERR_AUTH);
	tree[40] ^= 1;
	T_ERR(t, content_store_add(b, mf, ml, tree, tl - 1, false, h2), ERR_FORMAT);
	p = fsutil_path_join(dir2, "content/objects");
	T_EQ(t, count_entries(p), 0);	/* nothing left of the refused adds */
	free(p);
	p = fsutil_path_join(dir2, "content/tmp");
	T_EQ(t, count_entries(p), 0);
	free(p);
	T_OK(t, content_store_add(b, mf, ml, tree, tl, false, h2));
	T_MEMEQ(t, h2, h, 32);
	T_ERR(t, content_store_add(b, mf, ml, tree, tl, false, h2), ERR_EXISTS);
	T_OK(t, content_store_info(b, h, &info));
	T_EQ(t, info.have_count, 0);
	T_ERR(t, content_store_chunk_get(b, h, 0, buf, sizeof(buf), &len, NULL),
	      ERR_NOT_FOUND);
	for (uint32_t i = 7; i-- > 0;) {	/* backwards, out of order */
		T_OK(t, content_store_chunk_get(a, h, i, buf, sizeof(buf), &len, NULL));
		buf[len - 1] ^= 1;
		T_ERR(t, content_store_chunk_put(b, h, i, buf, len), ERR_AUTH);
		buf[len - 1] ^= 1;
		T_ERR(t, content_store_chunk_put(b, h, i, buf, len - 1), ERR_FORMAT);
		if (i > 0)	/* the right bytes at the wrong index */
			T_TRUE(t, content_store_chunk_put(b, h, i - 1, buf, len) != 0);
		T_OK(t, content_store_chunk_put(b, h, i, buf, len));
		T_OK(t, content_store_chunk_put(b, h, i, buf, len));	/* again */
		T_OK(t, content_store_info(b, h, &info));
		T_EQ(t, info.have_count, 7 - i);
	}
	T_ERR(t, content_store_chunk_put(b, h, 7, buf, len), ERR_RANGE);
	{	/* The downloaded copy is whole: verify it. */
		struct content_dir *d = NULL;
		struct content_fault f;
		char *bd = content_store_dir(b, h);
		T_OK(t, content_dir_open(bd, &d, &f));
		if (d)
			T_OK(t, content_dir_verify(d, 1, NULL, &f));
		content_dir_free(d);
		free(bd);
	}
out:
	free(mf);
	free(tree);
	content_store_free(a);
	content_store_free(b);
	free(dir2);
	t_rmtree(dir);
	free(dir);
}

/* LRU eviction of unpinned content; pinned content never goes. */
static void test_budget_eviction(struct tctx *t)
{
	char *dir = t_tmpdir(t);
	struct content_store *st = NULL;
	struct content_store_info info;
	uint8_t h[6][32], buf[16400];
	uint64_t one, used;
	size_t len;

	T_OK(t, content_store_open(dir, &st));
	if (!st)
		goto out;
	time_set_override(1000000);
	T_OK(t, store_publish(t, st, dir, 100000, 10, false, h[0]));
	one = content_store_used(st);
	content_store_set_budget(st, one * 7 / 2);	/* room for 3 */
	time_set_override(2000000);
	T_OK(t, store_publish(t, st, dir, 100000, 11, false, h[1]));
	time_set_override(3000000);
	T_OK(t, store_publish(t, st, dir, 100000, 12, true, h[2]));
	/* Reading h[0] later makes h[1] the least recently used. */
	time_set_override(3000000 + CONTENT_STORE_TOUCH_MS + 1);
	T_OK(t, content_store_chunk_get(st, h[0], 0, buf, sizeof(buf), &len, NULL));
	T_OK(t, content_store_info(st, h[0], &info));
	T_EQ(t, info.last_access_ms, 3000000 + CONTENT_STORE_TOUCH_MS + 1);
	time_set_override(5000000);
	T_OK(t, store_publish(t, st, dir, 100000, 13, false, h[3]));
	T_TRUE(t, stored(st, h[0]));
	T_FALSE(t, stored(st, h[1]));	/* evicted */
	T_TRUE(t, stored(st, h[2]));
	T_TRUE(t, stored(st, h[3]));
	T_TRUE(t, content_store_used(st) <= one * 7 / 2);
	/* With everything pinned nothing can make room, and nothing goes. */
	T_OK(t, content_store_pin(st, h[0], true));
	T_OK(t, content_store_pin(st, h[3], true));
	used = content_store_used(st);
	T_ERR(t, store_publish(t, st, dir, 100000, 14, false, h[4]), ERR_LIMIT);
	T_EQ(t, content_store_used(st), used);
	T_TRUE(t, stored(st, h[0]) && stored(st, h[2]) && stored(st, h[3]));
	/* Over the whole budget on its own. */
	T_ERR(t, store_publish(t, st, dir, one * 4, 15, true, h[5]), ERR_LIMIT);
	/* Unpin one: it is the one that goes. */
	T_OK(t, content_store_pin(st, h[2], false));
	T_OK(t, store_publish(t, st, dir, 100000, 14, false, h[4]));
	T_FALSE(t, stored(st, h[2]));
	T_TRUE(t, stored(st, h[0]) && stored(st, h[3]) && stored(st, h[4]));
	{
		char *obj = fsutil_path_join(dir, "content/objects");
		T_EQ(t, count_entries(obj), 3);
		free(obj);
	}
	content_store_set_budget(st, 0);
	T_OK(t, content_store_remove(st, h[0]));
	T_FALSE(t, stored(st, h[0]));
	T_ERR(t, content_store_remove(st, h[0]), ERR_NOT_FOUND);
out:
	time_set_override(0);
	content_store_free(st);
	t_rmtree(dir);
	free(dir);
}

static void test_bad_chunk_on_read(struct tctx *t)
{
	char *dir = t_tmpdir(t), *cd = NULL, *data = NULL;
	struct content_store *st = NULL;
	struct content_store_info info;
	uint8_t h[32], buf[16400];
	uint64_t bad = 9;
	size_t len;

	T_OK(t, content_store_open(dir, &st));
	if (!st)
		goto out;
	T_OK(t, store_publish(t, st, dir, 100000, 3, false, h));
	cd = content_store_dir(st, h);
	data = fsutil_path_join(cd, "data");
	tc_flip(t, data, 3 * 16400 + 7, 0x20);
	T_ERR(t, content_store_chunk_get(st, h, 3, buf, sizeof(buf), &len, NULL),
	      ERR_AUTH);
	T_OK(t, content_store_info(st, h, &info));
	T_EQ(t, info.have_count, 6);	/* unmarked, to be fetched again */
	T_ERR(t, content_store_chunk_get(st, h, 3, buf, sizeof(buf), &len, NULL),
	      ERR_NOT_FOUND);
	T_OK(t, content_store_check(st, &bad));
	T_EQ(t, bad, 0);
	tc_flip(t, data, 5 * 16400 + 100, 0x01);
	T_OK(t, content_store_check(st, &bad));
	T_EQ(t, bad, 1);
	T_OK(t, content_store_info(st, h, &info));
	T_EQ(t, info.have_count, 5);
	/* The good chunks are still served. */
	T_OK(t, content_store_chunk_get(st, h, 4, buf, sizeof(buf), &len, NULL));
	/* An unreadable manifest: nothing is served, nothing is deleted. */
	{
		char *mf = fsutil_path_join(cd, "manifest");
		tc_flip(t, mf, 0, 0xff);
		T_OK(t, content_store_check(st, &bad));
		T_EQ(t, bad, 5);
		T_OK(t, content_store_info(st, h, &info));
		T_EQ(t, info.have_count, 0);
		T_ERR(t, content_store_chunk_get(st, h, 4, buf, sizeof(buf), &len,
						 NULL), ERR_NOT_FOUND);
		T_EQ(t, access(data, F_OK), 0);
		free(mf);
	}
out:
	free(cd);
	free(data);
	content_store_free(st);
	t_rmtree(dir);
	free(dir);
}

static void test_lock_and_sweep(struct tctx *t)
{
	char *dir = t_tmpdir(t), *cd = NULL, *junk, *obj, *tmp;
	struct content_store *st = NULL, *st2 = NULL;
	uint8_t h[32], h2[32];

	T_OK(t, content_store_open(dir, &st));
	if (!st)
		goto out;
	T_ERR(t, content_store_open(dir, &st2), ERR_BAD_STATE);
	T_OK(t, store_publish(t, st, dir, 5000, 4, false, h));
	T_OK(t, store_publish(t, st, dir, 5000, 5, false, h2));
	content_store_free(st);
	st = NULL;
	/* What a crash can leave: half a publish, an unindexed content,
	 * temporary files; and a content directory someone removed. */
	obj = fsutil_path_join(dir, "content/objects");
	tmp = fsutil_path_join(dir, "content/tmp");
	junk = fsutil_path_join(obj, ".pub-abcdef");
	T_OK(t, content_fs_mkdirs(junk, 0700));
	free(junk);
	junk = fsutil_path_join(obj, "00000000000000000000000000000000000000"
			       "00000000000000000000000000");
	T_OK(t, content_fs_mkdirs(junk, 0700));
	free(junk);
	junk = fsutil_path_join(tmp, "imp-123456");
	T_OK(t, content_fs_mkdirs(junk, 0700));
	free(junk);
	{
		char hex[65];
		hex_encode(hex, sizeof(hex), h2, 32);
		junk = fsutil_path_join(obj, hex);
		T_OK(t, content_fs_rmtree(junk));
		free(junk);
	}
	T_OK(t, content_store_open(dir, &st));
	if (st) {
		T_EQ(t, count_entries(obj), 1);
		T_EQ(t, count_entries(tmp), 0);
		T_TRUE(t, stored(st, h));
		T_FALSE(t, stored(st, h2));
	}
	free(obj);
	free(tmp);
out:
	free(cd);
	content_store_free(st);
	t_rmtree(dir);
	free(dir);
}

static void test_import(struct tctx *t)
{
	char *dir = t_tmpdir(t), *out = fsutil_path_join(dir, "out"), *data;
	struct content_store *st = NULL;
	struct content_published p;
	uint8_t h[32];

	T_OK(t, content_fs_mkdirs(out, 0700));
	T_OK(t, tc_publish(t, out, 70000, 6, 14, 1, &p));
	T_OK(t, content_store_open(dir, &st));
	if (!st)
		goto out;
	data = fsutil_path_join(p.dir, "data");
	tc_flip(t, data, 20000, 1);
	T_ERR(t, content_store_import(st, p.dir, false, h), ERR_AUTH);
	T_FALSE(t, stored(st, p.content_hash));
	tc_flip(t, data, 20000, 1);
	free(data);
	T_OK(t, content_store_import(st, p.dir, true, h));
	T_MEMEQ(t, h, p.content_hash, 32);
	T_ERR(t, content_store_import(st, p.dir, true, h), ERR_EXISTS);
	{
		struct content_store_info i;
		T_OK(t, content_store_info(st, h, &i));
		T_TRUE(t, i.pinned);
		T_EQ(t, i.have_count, 5);
	}
out:
	content_published_clear(&p);
	content_store_free(st);
	free(out);
	t_rmtree(dir);
	free(dir);
}

/* content_store_chunk_write: served at once, in the index only after a
 * flush; a process that ends without one loses the pending chunks and
 * leaves a consistent store; removing a content forgets its pending ones. */
/* Store a in dir publishes 200,000 bytes of stream seed (hash h); store
 * b in dir2 gets its manifest and tree only (*mf, *tree: the caller
 * frees them).  False when a store did not open. */
static bool pair_open(struct tctx *t, const char *dir, const char *dir2,
		      uint32_t seed, struct content_store **a,
		      struct content_store **b, uint8_t h[32], uint8_t **mf,
		      size_t *ml, uint8_t **tree, size_t *tl)
{
	uint8_t h2[32];

	T_OK(t, content_fs_mkdirs(dir2, 0700));
	T_OK(t, content_store_open(dir, a));
	T_OK(t, content_store_open(dir2, b));
	if (!*a || !*b)
		return false;
	T_OK(t, store_publish(t, *a, dir, 200000, seed, true, h));
	read_meta(*a, h, mf, ml, tree, tl);
	T_OK(t, content_store_add(*b, *mf, *ml, *tree, *tl, false, h2));
	T_MEMEQ(t, h2, h, 32);
	return true;
}

/* What pair_open made: both stores, dir's tree, the strings. */
static void pair_close(struct content_store *a, struct content_store *b,
		       char *dir, char *dir2, uint8_t *mf, uint8_t *tree)
{
	free(mf);
	free(tree);
	content_store_free(a);
	content_store_free(b);
	t_rmtree(dir);
	free(dir);
	free(dir2);
}

static void test_group_commit(struct tctx *t)
{
	char *dir = t_tmpdir(t), *dir2 = fsutil_path_join(dir, "peer");
	struct content_store *a = NULL, *b = NULL;
	struct content_store_info info;
	uint8_t h[32], buf[16400], *mf = NULL, *tree = NULL, *have;
	size_t ml = 0, tl = 0, len, hl;
	uint64_t bad = 1;
	int status = 0;
	pid_t pid;

	if (!pair_open(t, dir, dir2, 4, &a, &b, h, &mf, &ml, &tree, &tl))
		goto out;
	for (uint32_t i = 0; i < 4; i++) {
		T_OK(t, content_store_chunk_get(a, h, i, buf, sizeof(buf), &len, NULL));
		buf[3] ^= 1;
		T_ERR(t, content_store_chunk_write(b, h, i, buf, len, NULL), ERR_AUTH);
		buf[3] ^= 1;
		T_OK(t, content_store_chunk_write(b, h, i, buf, len, NULL));
		T_OK(t, content_store_chunk_write(b, h, i, buf, len, NULL));	/* again */
		T_EQ(t, content_store_pending(b), i + 1);
		/* Served at once, and counted by the bitmap. */
		T_OK(t, content_store_chunk_get(b, h, i, buf, sizeof(buf), &len, NULL));
	}
	T_OK(t, content_store_have(b, h, &have, &hl));
	T_EQ(t, have ? have[0] & 0x1f : 0, 0x0f);
	free(have);
	T_OK(t, content_store_info(b, h, &info));
	T_EQ(t, info.have_count, 0);		/* not in the index yet */
	T_OK(t, content_store_flush(b));
	T_EQ(t, content_store_pending(b), 0);
	T_OK(t, content_store_info(b, h, &info));
	T_EQ(t, info.have_count, 4);
	/* A synced put commits the pending writes before it as well. */
	for (uint32_t i = 4; i < 6; i++) {
		T_OK(t, content_store_chunk_get(a, h, i, buf, sizeof(buf), &len, NULL));
		T_OK(t, content_store_chunk_write(b, h, i, buf, len, NULL));
	}
	T_OK(t, content_store_chunk_get(a, h, 6, buf, sizeof(buf), &len, NULL));
	T_OK(t, content_store_chunk_put(b, h, 6, buf, len));
	T_EQ(t, content_store_pending(b), 0);
	T_OK(t, content_store_info(b, h, &info));
	T_EQ(t, info.have_count, 7);
	/* A process that ends without a flush: its pending chunks are lost,
	 * the store stays consistent. */
	content_store_free(b);
	b = NULL;
	T_OK(t, content_store_chunk_get(a, h, 7, buf, sizeof(buf), &len, NULL));
	pid = fork();
	if (pid == 0) {	/* touches only its own store */
		struct content_store *c;
		if (content_store_open(dir2, &c) != 0)
			_exit(3);
		if (content_store_chunk_write(c, h, 7, buf, len, NULL) != 0)
			_exit(4);
		_exit(content_store_pending(c) == 1 ? 0 : 5);
	}
	T_TRUE(t, pid > 0 && waitpid(pid, &status, 0) == pid);
	T_TRUE(t, WIFEXITED(status) && WEXITSTATUS(status) == 0);
	T_OK(t, content_store_open(dir2, &b));
	if (!b)
		goto out;
	T_OK(t, content_store_info(b, h, &info));
	T_EQ(t, info.have_count, 7);
	T_ERR(t, content_store_chunk_get(b, h, 7, buf, sizeof(buf), &len, NULL),
	      ERR_NOT_FOUND);
	T_OK(t, content_store_check(b, &bad));
	T_EQ(t, bad, 0);
	/* Removing a content forgets its pending chunks. */
	T_OK(t, content_store_chunk_get(a, h, 7, buf, sizeof(buf), &len, NULL));
	T_OK(t, content_store_chunk_write(b, h, 7, buf, len, NULL));
	T_EQ(t, content_store_pending(b), 1);
	T_OK(t, content_store_remove(b, h));
	T_EQ(t, content_store_pending(b), 0);
	T_OK(t, content_store_flush(b));
out:
	pair_close(a, b, dir, dir2, mf, tree);
}

/* The flush in three steps (the sync on a worker): a batch's chunks are
 * served and counted while it syncs and reach the index only at its end;
 * writes meanwhile go to the next batch; a chunk that goes bad meanwhile
 * and a content removed meanwhile are left out of the commit; a store
 * freed meanwhile leaves the batch to free itself.  (A store that holds
 * no chunk in memory: each goes into the file at once, where it can go
 * bad.) */
static void test_flush_batch(struct tctx *t)
{
	char *dir = t_tmpdir(t), *dir2 = fsutil_path_join(dir, "peer");
	char *cd = NULL, *data = NULL;
	struct content_store *a = NULL, *b = NULL;
	struct content_store_batch *bt;
	struct content_store_info info;
	uint8_t h[32], h2[32], buf[16400], *mf = NULL, *tree = NULL, *have;
	size_t ml = 0, tl = 0, len, hl;

	if (!pair_open(t, dir, dir2, 4, &a, &b, h, &mf, &ml, &tree, &tl))
		goto out;
	content_store_set_hold(b, 0);
	T_TRUE(t, content_store_flush_begin(b) == NULL);	/* nothing */
	for (uint32_t i = 0; i < 4; i++) {
		T_OK(t, content_store_chunk_get(a, h, i, buf, sizeof(buf), &len, NULL));
		T_OK(t, content_store_chunk_write(b, h, i, buf, len, NULL));
	}
	bt = content_store_flush_begin(b);
	T_TRUE(t, bt != NULL);
	T_EQ(t, content_store_pending(b), 0);
	/* Still served, counted, and not written twice. */
	T_OK(t, content_store_chunk_get(b, h, 2, buf, sizeof(buf), &len, NULL));
	T_OK(t, content_store_chunk_write(b, h, 2, buf, len, NULL));
	T_EQ(t, content_store_pending(b), 0);
	T_OK(t, content_store_have(b, h, &have, &hl));
	T_EQ(t, have ? have[0] & 0x1f : 0, 0x0f);
	free(have);
	/* A write meanwhile goes to the next batch. */
	T_OK(t, content_store_chunk_get(a, h, 4, buf, sizeof(buf), &len, NULL));
	T_OK(t, content_store_chunk_write(b, h, 4, buf, len, NULL));
	T_EQ(t, content_store_pending(b), 1);
	/* Chunk 3 goes bad on disk while the batch syncs: unmarked. */
	cd = content_store_dir(b, h);
	data = fsutil_path_join(cd, "data");
	tc_flip(t, data, 3 * 16400 + 7, 0x20);
	T_ERR(t, content_store_chunk_get(b, h, 3, buf, sizeof(buf), &len, NULL),
	      ERR_AUTH);
	content_store_flush_sync(bt);
	T_OK(t, content_store_info(b, h, &info));
	T_EQ(t, info.have_count, 0);		/* not before the end */
	T_OK(t, content_store_flush_end(bt));
	T_OK(t, content_store_info(b, h, &info));
	T_EQ(t, info.have_count, 3);		/* 0, 1, 2: not the bad 3 */
	T_EQ(t, content_store_pending(b), 1);
	T_OK(t, content_store_have(b, h, &have, &hl));
	T_EQ(t, have ? have[0] & 0x1f : 0, 0x17);
	free(have);
	/* The next batch, its content removed while it syncs. */
	bt = content_store_flush_begin(b);
	T_TRUE(t, bt != NULL);
	content_store_flush_sync(bt);
	T_OK(t, content_store_remove(b, h));
	T_OK(t, content_store_flush_end(bt));
	T_ERR(t, content_store_info(b, h, &info), ERR_NOT_FOUND);
	/* A store freed while a batch syncs: the batch frees itself. */
	T_OK(t, content_store_add(b, mf, ml, tree, tl, false, h2));
	T_OK(t, content_store_chunk_get(a, h, 5, buf, sizeof(buf), &len, NULL));
	T_OK(t, content_store_chunk_write(b, h, 5, buf, len, NULL));
	bt = content_store_flush_begin(b);
	T_TRUE(t, bt != NULL);
	content_store_free(b);
	b = NULL;
	if (bt) {
		content_store_flush_sync(bt);
		T_ERR(t, content_store_flush_end(bt), ERR_BAD_STATE);
	}
	T_OK(t, content_store_open(dir2, &b));
	if (b) {
		T_OK(t, content_store_info(b, h, &info));
		T_EQ(t, info.have_count, 0);	/* lost, fetched again */
	}
out:
	free(cd);
	free(data);
	pair_close(a, b, dir, dir2, mf, tree);
}

/* Chunk i of h in the data file of store st equals want (len bytes). */
static bool in_file(struct content_store *st, const uint8_t h[32], uint32_t i,
		    const uint8_t *want, size_t len)
{
	char *cd = content_store_dir(st, h), *data = fsutil_path_join(cd, "data");
	uint8_t got[16400];
	int fd = open(data, O_RDONLY);
	bool same = fd >= 0 && len <= sizeof(got) &&
		    pread(fd, got, len, (off_t)i * 16400) == (ssize_t)len &&
		    memcmp(got, want, len) == 0;

	if (fd >= 0)
		close(fd);
	free(data);
	free(cd);
	return same;
}

/*
 * Chunks held in memory until the flush writes them: content_store_
 * chunk_write makes no write to the file; the chunk is served (with its
 * proof) from memory, pending and in a batch being synced; _sync writes
 * the batch's chunks and syncs them, _end marks them.  Past the hold
 * bytes a chunk goes into the file at once.  A synced put writes the
 * content's held chunks first and marks them with it; write_out puts a
 * content's held chunks into the file at once; a store freed cleanly
 * marks its pending chunks.
 */
static void test_held_chunks(struct tctx *t)
{
	char *dir = t_tmpdir(t), *dir2 = fsutil_path_join(dir, "peer");
	struct content_store *a = NULL, *b = NULL;
	struct content_store_batch *bt;
	struct content_store_info info;
	struct content_proof pf;
	uint8_t h[32], ch[10][16400], buf[16400], *mf = NULL, *tree = NULL;
	uint8_t leaf[32], *have;
	size_t ml = 0, tl = 0, len = 0, cl[10], hl;

	if (!pair_open(t, dir, dir2, 9, &a, &b, h, &mf, &ml, &tree, &tl))
		goto out;
	for (uint32_t i = 0; i < 10; i++)
		T_OK(t, content_store_chunk_get(a, h, i, ch[i], sizeof(ch[i]),
						&cl[i], NULL));
	content_leaf_hash(leaf, ch[0], cl[0]);
	for (uint32_t i = 0; i < 4; i++) {
		T_OK(t, content_store_chunk_write(b, h, i, ch[i], cl[i], NULL));
		T_FALSE(t, in_file(b, h, i, ch[i], cl[i]));	/* held */
	}
	T_EQ(t, content_store_held(b), cl[0] + cl[1] + cl[2] + cl[3]);
	T_EQ(t, content_store_pending(b), 4);
	/* Served from memory, with a proof that verifies. */
	memset(&pf, 0, sizeof(pf));
	T_OK(t, content_store_chunk_get(b, h, 0, buf, sizeof(buf), &len, &pf));
	T_EQ(t, len, cl[0]);
	T_MEMEQ(t, buf, ch[0], cl[0]);
	proof_verifies(t, b, h, &pf, leaf);
	T_ERR(t, content_store_chunk_get(b, h, 1, buf, 100, &len, NULL), ERR_ARG);
	T_OK(t, content_store_have(b, h, &have, &hl));
	T_EQ(t, have ? have[0] & 0x1f : 0, 0x0f);
	free(have);
	/* In a batch: still served from memory until _sync writes it. */
	bt = content_store_flush_begin(b);
	T_TRUE(t, bt != NULL);
	T_OK(t, content_store_chunk_get(b, h, 3, buf, sizeof(buf), &len, NULL));
	T_MEMEQ(t, buf, ch[3], cl[3]);
	T_OK(t, content_store_chunk_write(b, h, 4, ch[4], cl[4], NULL));
	T_EQ(t, content_store_pending(b), 1);
	T_FALSE(t, in_file(b, h, 3, ch[3], cl[3]));
	if (bt) {
		content_store_flush_sync(bt);
		for (uint32_t i = 0; i < 4; i++)
			T_TRUE(t, in_file(b, h, i, ch[i], cl[i]));
		T_OK(t, content_store_info(b, h, &info));
		T_EQ(t, info.have_count, 0);		/* not before the end */
		T_OK(t, content_store_flush_end(bt));
	}
	T_OK(t, content_store_info(b, h, &info));
	T_EQ(t, info.have_count, 4);
	T_EQ(t, content_store_held(b), cl[4]);		/* chunk 4's */
	T_OK(t, content_store_chunk_get(b, h, 2, buf, sizeof(buf), &len, NULL));
	T_MEMEQ(t, buf, ch[2], cl[2]);			/* now from the file */
	/* Past the hold bytes: into the file at once. */
	content_store_set_hold(b, cl[4] + 100);
	T_OK(t, content_store_chunk_write(b, h, 5, ch[5], cl[5], NULL));
	T_TRUE(t, in_file(b, h, 5, ch[5], cl[5]));
	T_FALSE(t, in_file(b, h, 4, ch[4], cl[4]));
	T_EQ(t, content_store_held(b), cl[4]);
	T_EQ(t, content_store_pending(b), 2);
	/* A synced put: chunk 4 written first, all three marked. */
	T_OK(t, content_store_chunk_put(b, h, 6, ch[6], cl[6]));
	T_TRUE(t, in_file(b, h, 4, ch[4], cl[4]));
	T_EQ(t, content_store_held(b), 0);
	T_EQ(t, content_store_pending(b), 0);
	T_OK(t, content_store_info(b, h, &info));
	T_EQ(t, info.have_count, 7);
	/* Written out now (a content that became whole): into the file,
	 * from a batch being synced too, marked by the flush. */
	content_store_set_hold(b, CONTENT_STORE_HOLD_BYTES);
	T_OK(t, content_store_chunk_write(b, h, 7, ch[7], cl[7], NULL));
	bt = content_store_flush_begin(b);
	T_OK(t, content_store_chunk_write(b, h, 8, ch[8], cl[8], NULL));
	T_EQ(t, content_store_held(b), cl[7] + cl[8]);
	T_OK(t, content_store_write_out(b, h));
	T_TRUE(t, in_file(b, h, 7, ch[7], cl[7]));
	T_TRUE(t, in_file(b, h, 8, ch[8], cl[8]));
	T_EQ(t, content_store_held(b), cl[7]);		/* the batch's, till its end */
	T_EQ(t, content_store_pending(b), 1);
	T_OK(t, content_store_info(b, h, &info));
	T_EQ(t, info.have_count, 7);
	if (bt) {
		content_store_flush_sync(bt);
		T_OK(t, content_store_flush_end(bt));
	}
	T_EQ(t, content_store_held(b), 0);
	/* A clean free writes and marks what it holds. */
	T_OK(t, content_store_chunk_write(b, h, 9, ch[9], cl[9], NULL));
	T_EQ(t, content_store_held(b), cl[9]);
	content_store_free(b);
	b = NULL;
	T_OK(t, content_store_open(dir2, &b));
	if (b) {
		uint64_t bad = 1;

		T_OK(t, content_store_info(b, h, &info));
		T_EQ(t, info.have_count, 10);
		T_OK(t, content_store_check(b, &bad));
		T_EQ(t, bad, 0);
		for (uint32_t i = 0; i < 10; i++) {
			T_OK(t, content_store_chunk_get(b, h, i, buf, sizeof(buf),
							&len, NULL));
			T_MEMEQ(t, buf, ch[i], cl[i]);
		}
	}
out:
	pair_close(a, b, dir, dir2, mf, tree);
}

/* The child of the kill -9 test: write and write until killed.  Each
 * phase starts with a marker byte on wfd, so the parent can kill it in a
 * chosen phase: 'p' publish (with eviction), 'a' add, 'c' chunk put or write. */
static void crash_child(const char *dir, const char *seed_dir, int wfd)
{
	struct content_publish_opts o = { .mime = "audio/ogg", .chunk_log2 = 14 };
	struct content_published pub;
	struct content_store *st;
	struct content_dir *src;
	struct content_fault f;
	uint8_t buf[16400], h[32], *tree;
	const uint8_t *mf;
	char *tp = fsutil_path_join(seed_dir, "tree");
	char *in = fsutil_path_join(dir, "in");
	size_t ml, tl, len;
	int fd;

	if ((fd = open(in, O_RDONLY)) < 0 ||
	    content_store_open(dir, &st) != 0 ||
	    content_dir_open(seed_dir, &src, &f) != 0)
		_exit(3);
	content_store_set_budget(st, 6u << 20);	/* evictions every round */
	mf = content_dir_manifest_bytes(src, &ml);
	tree = tc_read(tp, &tl);
	for (;;) {
		if (write(wfd, "p", 1) != 1)
			_exit(4);
		if (content_store_publish(st, fd, &o, false, &pub) == 0)
			content_published_clear(&pub);
		if (write(wfd, "a", 1) != 1)
			_exit(4);
		content_store_remove(st, content_dir_hash(src));
		if (content_store_add(st, mf, ml, tree, tl, false, h) != 0)
			continue;
		for (uint32_t c = 0; c < content_dir_manifest(src)->chunk_count; c++) {
			if (write(wfd, "c", 1) != 1)
				_exit(4);
			if (content_dir_chunk(src, c, buf, sizeof(buf), &len) != 0)
				continue;
			if (c % 2)	/* group commit: a flush every 4 */
				content_store_chunk_write(st, h, c, buf, len, NULL);
			else
				content_store_chunk_put(st, h, c, buf, len);
			if (c % 8 == 5)
				content_store_flush(st);
		}
	}
}

struct crash_seen {
	struct tctx *t;
	struct content_store *st;
	uint64_t total;
	int contents;
};

/* After a crash every listed content is intact where it says it is: its
 * bitmap agrees with its count, and every chunk it marks verifies. */
static void crash_check_one(void *ctx, const struct content_store_info *i)
{
	struct crash_seen *cs = ctx;
	struct content_dir *d = NULL;
	struct content_fault f;
	char *cd = content_store_dir(cs->st, i->hash);
	uint8_t *have = NULL;
	uint32_t n = 0;
	size_t hl = 0;

	T_OK(cs->t, content_store_have(cs->st, i->hash, &have, &hl));
	for (uint32_t c = 0; have && c < i->chunk_count; c++)
		n += have[c / 8] >> (c % 8) & 1;
	T_EQ(cs->t, n, i->have_count);
	T_OK(cs->t, content_dir_open(cd, &d, &f));
	if (d && have)
		T_OK(cs->t, content_dir_verify(d, 1, have, &f));
	cs->total += i->stored_bytes;
	cs->contents++;
	free(have);
	content_dir_free(d);
	free(cd);
}

static void *read_main(void *arg)
{
	content_store_read_run(arg);
	return NULL;
}

/* _run on a thread of its own, as on a worker. */
static void read_on_thread(struct tctx *t, struct content_store_read *rd)
{
	pthread_t th;

	T_EQ(t, pthread_create(&th, NULL, read_main, rd), 0);
	pthread_join(th, NULL);
}

/*
 * A chunk read in three steps (content_store_read_*) with its read and
 * check on another thread: the bytes content_store_chunk_get gives and a
 * proof that verifies; begin's errors before any read; a chunk altered on
 * disk after _begin caught by _run and unmarked by _end; a content
 * removed after _begin still read by _run (descriptors of its own) and
 * not served by _end; a chunk held in memory served with nothing to run;
 * reads freed before their run or without _end (ASan: nothing leaks).
 */
static void test_read_in_steps(struct tctx *t)
{
	char *dir = t_tmpdir(t), *dir2 = fsutil_path_join(dir, "peer");
	char *cd = NULL, *data = NULL;
	struct content_store *a = NULL, *b = NULL;
	struct content_store_read *rd = NULL;
	struct content_store_info info;
	const struct content_proof *pf;
	const uint8_t *ct;
	uint8_t h[32], other[32], want[16400], leaf[32], *mf = NULL, *tree = NULL;
	size_t ml = 0, tl = 0, wl = 0, len = 0;

	if (!pair_open(t, dir, dir2, 12, &a, &b, h, &mf, &ml, &tree, &tl))
		goto out;
	T_OK(t, content_store_chunk_get(a, h, 2, want, sizeof(want), &wl, NULL));
	T_OK(t, content_store_read_begin(a, h, 2, &rd));
	if (!rd)
		goto out;
	read_on_thread(t, rd);
	T_OK(t, content_store_read_end(a, rd, &ct, &len, &pf));
	T_EQ(t, len, wl);
	if (len == wl) {
		T_MEMEQ(t, ct, want, wl);
		content_leaf_hash(leaf, ct, len);
		proof_verifies(t, a, h, pf, leaf);
	}
	content_store_read_free(rd);
	/* Tried here: in the page cache since the publish. */
	T_OK(t, content_store_read_begin(a, h, 2, &rd));
	T_TRUE(t, content_store_read_try(a, rd));
	T_OK(t, content_store_read_end(a, rd, &ct, &len, &pf));
	T_EQ(t, len, wl);
	if (len == wl)
		T_MEMEQ(t, ct, want, wl);
	content_store_read_free(rd);
	/* Not when the store's try is off (a chunk not in the page cache:
	 * posix_fadvise cannot be relied on to evict one). */
	content_store_set_read_try(a, false);
	T_OK(t, content_store_read_begin(a, h, 2, &rd));
	T_FALSE(t, content_store_read_try(a, rd));
	read_on_thread(t, rd);
	T_OK(t, content_store_read_end(a, rd, &ct, &len, &pf));
	if (len == wl)
		T_MEMEQ(t, ct, want, wl);
	content_store_read_free(rd);
	content_store_set_read_try(a, true);
	/* Errors at _begin: nothing to run. */
	rd = (struct content_store_read *)1;
	T_ERR(t, content_store_read_begin(a, h, 13, &rd), ERR_NOT_FOUND);
	T_TRUE(t, rd == NULL);
	memset(other, 0x5a, sizeof(other));
	T_ERR(t, content_store_read_begin(a, other, 0, &rd), ERR_NOT_FOUND);
	T_ERR(t, content_store_read_begin(b, h, 0, &rd), ERR_NOT_FOUND);
	/* Held in memory at b: copied at _begin, the same bytes. */
	T_OK(t, content_store_chunk_write(b, h, 2, want, wl, NULL));
	T_OK(t, content_store_read_begin(b, h, 2, &rd));
	if (rd) {
		T_TRUE(t, content_store_read_try(b, rd));	/* nothing to read */
		read_on_thread(t, rd);
		T_OK(t, content_store_read_end(b, rd, &ct, &len, &pf));
		T_EQ(t, len, wl);
		if (len == wl)
			T_MEMEQ(t, ct, want, wl);
		proof_verifies(t, b, h, pf, leaf);
		content_store_read_free(rd);
	}
	/* Freed before its run; freed after its run without _end. */
	T_OK(t, content_store_read_begin(a, h, 4, &rd));
	content_store_read_free(rd);
	T_OK(t, content_store_read_begin(a, h, 5, &rd));
	read_on_thread(t, rd);
	content_store_read_free(rd);
	/* Altered on disk between _begin and _run. */
	cd = content_store_dir(a, h);
	data = fsutil_path_join(cd, "data");
	T_OK(t, content_store_read_begin(a, h, 3, &rd));
	tc_flip(t, data, 3 * 16400 + 7, 0x20);
	read_on_thread(t, rd);
	T_ERR(t, content_store_read_end(a, rd, &ct, &len, &pf), ERR_AUTH);
	content_store_read_free(rd);
	T_OK(t, content_store_info(a, h, &info));
	T_EQ(t, info.have_count, info.chunk_count - 1);
	T_ERR(t, content_store_read_begin(a, h, 3, &rd), ERR_NOT_FOUND);
	/* Removed between _begin and _run. */
	T_OK(t, content_store_read_begin(a, h, 1, &rd));
	T_OK(t, content_store_remove(a, h));
	T_TRUE(t, access(data, F_OK) != 0);
	read_on_thread(t, rd);
	T_ERR(t, content_store_read_end(a, rd, &ct, &len, &pf), ERR_NOT_FOUND);
	content_store_read_free(rd);
out:
	free(cd);
	free(data);
	pair_close(a, b, dir, dir2, mf, tree);
}

static void test_kill9_during_writes(struct tctx *t)
{
	char *dir = t_tmpdir(t), *seed = fsutil_path_join(dir, "seed"), *objs, *tmp;
	char *in;
	struct content_published sp;

	T_OK(t, content_fs_mkdirs(seed, 0700));
	T_OK(t, tc_publish(t, seed, 40 * 16384 - 5, 77, 14, 1, &sp));
	in = fsutil_path_join(dir, "in");
	tc_write_file(t, in, (1u << 20) + 4099, 100);
	free(in);
	objs = fsutil_path_join(dir, "content/objects");
	tmp = fsutil_path_join(dir, "content/tmp");
	for (int round = 0; round < 18; round++) {
		struct content_store *st = NULL;
		struct crash_seen cs = { .t = t };
		static uint8_t spin[1 << 19];
		uint64_t bad = 1;
		int pfd[2], status;
		char c;
		pid_t pid;

		T_OK(t, pipe(pfd));
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			crash_child(dir, sp.dir, pfd[1]);
			_exit(0);
		}
		close(pfd[1]);
		/* Kill it just after it starts the n-th publish, add or chunk
		 * write, a different phase and count each round. */
		for (int seen = 0; seen < 1 + round / 3 % 3;)
			if (read(pfd[0], &c, 1) != 1 || c == "pac"[round % 3])
				seen++;
		/* Spread the kill over the phase: some CPU work first (0 to
		 * about 15 ms), so the test does not depend on a clock. */
		for (int k = 0; k < round % 6; k++)
			tc_fill(spin, sizeof(spin), (uint64_t)k << 19, (uint32_t)round);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(pfd[0]);
		T_TRUE(t, WIFSIGNALED(status));
		/* The store opens, and whatever it lists is intact. */
		T_OK(t, content_store_open(dir, &st));
		if (!st)
			break;
		cs.st = st;
		T_OK(t, content_store_list(st, crash_check_one, &cs));
		T_OK(t, content_store_check(st, &bad));
		T_EQ(t, bad, 0);
		T_EQ(t, cs.total, content_store_used(st));
		T_TRUE(t, content_store_used(st) <= 6u << 20);
		T_EQ(t, count_entries(objs), cs.contents);
		T_EQ(t, count_entries(tmp), 0);
		content_store_free(st);
	}
	content_published_clear(&sp);
	free(objs);
	free(tmp);
	free(seed);
	t_rmtree(dir);
	free(dir);
}

/* A chunk read keeps its row and its content's files for the next (no
 * SQLite or open(2) a chunk), for several contents read in turn (a
 * seeder serving several viewers): the rows follow every change to the
 * index, and the files close when their content goes. */
static void test_kept_open(struct tctx *t)
{
	char *dir = t_tmpdir(t);
	struct content_store *st = NULL;
	struct content_store_info info;
	struct content_store_counts c0, c1;
	uint8_t h[6][32], buf[16400], first[6][64];
	size_t len;
	int fds;

	T_OK(t, content_store_open(dir, &st));
	if (!st)
		goto out;
	for (uint32_t i = 0; i < 6; i++)
		T_OK(t, store_publish(t, st, dir, 100000, 40 + i, false, h[i]));
	fds = count_entries("/proc/self/fd");
	for (int round = 0; round < 2; round++)
		for (unsigned i = 0; i < 6; i++) {
			T_OK(t, content_store_chunk_get(st, h[i], 3, buf,
							sizeof(buf), &len, NULL));
			if (round == 0)
				memcpy(first[i], buf, 64);
			else
				T_MEMEQ(t, buf, first[i], 64);
		}
	/* Six contents read in turn, ten rounds more, each read with its
	 * manifest asked for (the streaming endpoint's request): no SELECT
	 * and no open (with one row and four directories kept, every read
	 * missed both). */
	content_store_counts(st, &c0);
	for (int round = 0; round < 10; round++)
		for (unsigned i = 0; i < 6; i++) {
			struct content_manifest m;
			T_OK(t, content_store_manifest(st, h[i], &m));
			T_OK(t, content_store_info(st, h[i], &info));
			T_EQ(t, m.size, info.size);
			T_EQ(t, m.chunk_count, info.chunk_count);
			content_manifest_clear(&m);
			T_OK(t, content_store_chunk_get(st, h[i], round % 6,
							buf, sizeof(buf), &len,
							NULL));
		}
	content_store_counts(st, &c1);
	T_EQ(t, c1.row_selects, c0.row_selects);
	T_EQ(t, c1.dir_opens, c0.dir_opens);
	T_OK(t, content_store_pin(st, h[5], true));	/* a row kept */
	T_OK(t, content_store_info(st, h[5], &info));
	T_TRUE(t, info.pinned);
	for (unsigned i = 0; i < 6; i++) {
		T_OK(t, content_store_remove(st, h[i]));
		T_ERR(t, content_store_chunk_get(st, h[i], 3, buf, sizeof(buf),
						 &len, NULL), ERR_NOT_FOUND);
		{
			struct content_manifest m;
			T_ERR(t, content_store_manifest(st, h[i], &m),
			      ERR_NOT_FOUND);
		}
	}
	T_EQ(t, count_entries("/proc/self/fd"), fds);
	T_OK(t, store_publish(t, st, dir, 100000, 40, false, h[0]));
	T_OK(t, content_store_chunk_get(st, h[0], 3, buf, sizeof(buf), &len,
					NULL));
out:
	content_store_free(st);
	t_rmtree(dir);
	free(dir);
}

const struct test_case content_store_tests[] = {
	{ "kept_open", test_kept_open, TT_FORK },
	{ "publish_and_serve", test_publish_and_serve, 0 },
	{ "partial_download", test_partial_download, 0 },
	{ "budget_eviction", test_budget_eviction, TT_FORK },
	{ "bad_chunk_on_read", test_bad_chunk_on_read, 0 },
	{ "lock_and_sweep", test_lock_and_sweep, 0 },
	{ "import", test_import, 0 },
	{ "kill9_during_writes", test_kill9_during_writes, TT_FORK },
	{ "group_commit", test_group_commit, TT_FORK },
	{ "flush_batch", test_flush_batch, TT_FORK },
	{ "held_chunks", test_held_chunks, TT_FORK },
	{ "read_in_steps", test_read_in_steps, TT_FORK },
	{ NULL, NULL, 0 }
};
