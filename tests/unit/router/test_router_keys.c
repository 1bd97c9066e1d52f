/* router/router_keys: create, reuse, refuse corrupt files, modes. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/fsutil.h"
#include "router/keys_and_cert.h"
#include "router/router_keys.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0xffff;
}

/* Read a whole file for comparison (caller frees; NULL if missing). */
static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = NULL;

	if (fsutil_read_file(path, 1 << 20, &buf, len) != 0)
		return NULL;
	return buf;
}

struct fixture {
	char *top;		/* the temp dir */
	char *datadir;		/* top/data, not created yet */
	char *keyfile;
};

static bool fixture_init(struct tctx *t, struct fixture *f)
{
	if (!(f->top = t_tmpdir(t)))
		return false;
	f->datadir = fsutil_path_join(f->top, "data");
	f->keyfile = fsutil_path_join(f->datadir, ROUTER_KEYS_FILE_NAME);
	return true;
}

static void fixture_free(struct fixture *f)
{
	t_rmtree(f->top);
	free(f->top);
	free(f->datadir);
	free(f->keyfile);
}

static void test_roundtrip(struct tctx *t)
{
	struct router_keys *k = router_keys_new_random(), *k2 = NULL;
	struct bbuf a = BBUF_INIT, b = BBUF_INIT;
	struct keys_and_cert id1, id2;

	router_keys_encode(k, &a);
	T_EQ(t, a.len, 8 + 2 + 16 + 32 + 2 + KEYSTORE_ENCODED_BYTES + 32);
	T_OK(t, router_keys_decode(a.data, a.len, &k2));
	if (k2) {
		router_keys_encode(k2, &b);
		T_EQ(t, b.len, a.len);
		T_MEMEQ(t, b.data, a.data, a.len);
		T_MEMEQ(t, router_keys_ntcp2_iv(k2), router_keys_ntcp2_iv(k),
			ROUTER_KEYS_IV_BYTES);
		router_keys_identity(k, &id1);
		router_keys_identity(k2, &id2);
		T_EQ(t, id1.len, ROUTER_IDENTITY_BYTES);
		T_EQ(t, id2.len, id1.len);
		T_MEMEQ(t, id2.raw, id1.raw, id1.len);
	}
	router_keys_free(k);
	router_keys_free(k2);
	bbuf_free(&a);
	bbuf_free(&b);
}

/* Every way a file can be damaged gives its error, never a crash. */
static void test_decode_errors(struct tctx *t)
{
	struct router_keys *k = router_keys_new_random(), *out = NULL;
	struct bbuf b = BBUF_INIT;
	uint8_t *copy;

	router_keys_encode(k, &b);
	copy = xmalloc(b.len + 1);
	for (size_t n = 0; n < b.len; n++)	/* every truncation */
		T_NE(t, router_keys_decode(b.data, n, &out), 0);
	T_ERR(t, router_keys_decode(b.data, 5, &out), ERR_TRUNCATED);
	T_ERR(t, router_keys_decode(b.data, b.len - 1, &out), ERR_AUTH);

	memcpy(copy, b.data, b.len);
	copy[0] ^= 1;
	T_ERR(t, router_keys_decode(copy, b.len, &out), ERR_FORMAT);

	memcpy(copy, b.data, b.len);
	copy[9] = 2;				/* version 2 */
	T_ERR(t, router_keys_decode(copy, b.len, &out), ERR_UNSUPPORTED);

	for (size_t i = 10; i < b.len; i += 7) {	/* any flipped bit */
		memcpy(copy, b.data, b.len);
		copy[i] ^= 0x10;
		T_ERR(t, router_keys_decode(copy, b.len, &out), ERR_AUTH);
	}

	/* Extra bytes with a valid checksum: still not a key file. */
	memcpy(copy, b.data, b.len - 32);
	copy[b.len - 32] = 0;
	sha256(copy + b.len - 31, copy, b.len - 31);
	T_ERR(t, router_keys_decode(copy, b.len + 1, &out), ERR_FORMAT);
	T_TRUE(t, out == NULL);

	xfree_wipe(copy, b.len + 1);
	bbuf_free(&b);
	router_keys_free(k);
}

static void test_create_then_reuse(struct tctx *t)
{
	struct fixture f;
	struct router_keys *k1 = NULL, *k2 = NULL;
	struct keys_and_cert id1, id2;
	uint8_t *before, *after;
	size_t blen = 0, alen = 0;
	bool created = false;

	if (!fixture_init(t, &f))
		return;
	T_OK(t, router_keys_load_or_create(f.datadir, &k1, &created));
	T_TRUE(t, created);
	T_EQ(t, mode_of(f.datadir), 0700);
	T_EQ(t, mode_of(f.keyfile), 0600);
	before = slurp(f.keyfile, &blen);
	T_TRUE(t, before != NULL);

	created = true;
	T_OK(t, router_keys_load_or_create(f.datadir, &k2, &created));
	T_FALSE(t, created);
	after = slurp(f.keyfile, &alen);
	T_EQ(t, alen, blen);
	T_MEMEQ(t, after, before, blen);	/* byte-identical */
	if (k1 && k2) {
		router_keys_identity(k1, &id1);
		router_keys_identity(k2, &id2);
		T_MEMEQ(t, id2.hash, id1.hash, sizeof(id1.hash));
		T_MEMEQ(t, router_keys_ntcp2_iv(k2), router_keys_ntcp2_iv(k1),
			ROUTER_KEYS_IV_BYTES);
	}
	xfree_wipe(before, blen);
	xfree_wipe(after, alen);
	router_keys_free(k1);
	router_keys_free(k2);
	fixture_free(&f);
}

/* The last error logged (captured instead of printed). */
static char last_err[1024];

static void capture_sink(void *ctx, enum log_level level,
			 enum log_domain domain, const char *func,
			 const char *msg)
{
	(void)ctx;
	(void)domain;
	(void)func;
	if (level >= LOG_ERR)
		snprintf(last_err, sizeof(last_err), "%s", msg);
}

/* Write bytes as the key file; loading must fail with want, say why and
 * what to do, and leave the file exactly as it was. */
static void check_refused(struct tctx *t, const char *what,
			  const uint8_t *bytes, size_t len, int want)
{
	struct fixture f;
	struct router_keys *k = NULL;
	uint8_t *after;
	size_t alen = 0;
	bool created = false;

	if (!fixture_init(t, &f))
		return;
	T_OK(t, fsutil_dir_ensure_private(f.datadir));
	T_OK(t, fsutil_write_atomic(f.keyfile, bytes, len, 0600, false));
	last_err[0] = '\0';
	T_ERR(t, router_keys_load_or_create(f.datadir, &k, &created), want);
	T_TRUE(t, k == NULL);
	T_TRUE(t, strstr(last_err, f.keyfile) != NULL);
	T_TRUE(t, strstr(last_err, "was not modified") != NULL);
	after = slurp(f.keyfile, &alen);
	T_EQ(t, alen, len);
	if (after && alen == len)
		T_MEMEQ(t, after, bytes, len);
	if (t->failures)
		fprintf(stderr, "    case: %s\n", what);
	if (after)
		xfree_wipe(after, alen);
	fixture_free(&f);
}

static void test_corrupt_file_untouched(struct tctx *t)
{
	struct router_keys *k = router_keys_new_random();
	struct bbuf b = BBUF_INIT;
	uint8_t *flipped;

	log_set_sink(capture_sink, NULL);	/* forked: global state */
	router_keys_encode(k, &b);
	flipped = xmemdup(b.data, b.len);
	flipped[40] ^= 0xff;
	check_refused(t, "flipped byte", flipped, b.len, ERR_AUTH);
	check_refused(t, "truncated", b.data, b.len / 2, ERR_AUTH);
	check_refused(t, "header only", b.data, 10, ERR_TRUNCATED);
	check_refused(t, "empty", b.data, 0, ERR_TRUNCATED);
	check_refused(t, "text", (const uint8_t *)"not a key file\n", 15,
		      ERR_FORMAT);
	xfree_wipe(flipped, b.len);
	bbuf_free(&b);
	router_keys_free(k);
}

static void test_modes_fixed(struct tctx *t)
{
	struct fixture f;
	struct router_keys *k = NULL;

	if (!fixture_init(t, &f))
		return;
	T_OK(t, router_keys_load_or_create(f.datadir, &k, NULL));
	router_keys_free(k);
	k = NULL;
	chmod(f.keyfile, 0644);
	chmod(f.datadir, 0755);
	T_OK(t, router_keys_load_or_create(f.datadir, &k, NULL));
	T_TRUE(t, k != NULL);
	T_EQ(t, mode_of(f.keyfile), 0600);
	T_EQ(t, mode_of(f.datadir), 0700);
	router_keys_free(k);
	fixture_free(&f);
}

const struct test_case router_router_keys_tests[] = {
	{ "roundtrip", test_roundtrip, 0 },
	{ "decode_errors", test_decode_errors, 0 },
	{ "create_then_reuse", test_create_then_reuse, 0 },
	{ "corrupt_file_untouched", test_corrupt_file_untouched, TT_FORK },
	{ "modes_fixed", test_modes_fixed, 0 },
	{ NULL, NULL, 0 }
};
