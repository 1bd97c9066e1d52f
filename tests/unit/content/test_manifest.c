/* apps/content/manifest and chunk: encoding, limits, hashes, sealing. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/content/tcontent.h"
#include "apps/content/cdir.h"
#include "apps/content/chunk.h"
#include "apps/content/fsio.h"
#include "apps/content/manifest.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Known answers from tests/unit/content/gen_vectors.py (Python's
 * cryptography and hashlib, and a separate Keccak-256): K = 00..1f,
 * salt = 80..9f, 40000 bytes (i*7+3) mod 256, 16 KiB chunks, text/plain.
 */
#define KAT_SIZE 40000
#define KAT_LOG2 14
static const char kat_chunk_key[] =
	"e8ceeb87018db1434856b8516ba660630b76b75735d18eb6bdd4efbe2f286861";
static const char *const kat_ct_sha256[3] = {
	"2764d67ad41fd10436088624eeadcad63dc26e2e24b1c32266d0f1f92f19e23b",
	"f3984387ce1d6bdb7add290e30e2b7bbdbf6b262b77099e5928974b01bf9b856",
	"64b5059051d6e67319cd917222030eeae5e87d9bab6d7bdbda785a1add0ff2ff",
};
static const char kat_root[] =
	"3b158c05b9af8dc188b8c312fcc9fcc229cb5669d5720ff90f130f9c1d9d71e3";
static const char kat_manifest[] =
	"424d414e020e0000000000009c4000000003808182838485868788898a8b8c8d8e8f"
	"909192939495969798999a9b9c9d9e9f3b158c05b9af8dc188b8c312fcc9fcc229cb"
	"5669d5720ff90f130f9c1d9d71e30a746578742f706c61696e00";
/* The same content as format version 1 wrote it (ChaCha20-Poly1305 chunks,
 * another root): decoding must refuse it, never misread it. */
static const char kat_manifest_v1[] =
	"424d414e010e0000000000009c4000000003808182838485868788898a8b8c8d8e8f"
	"909192939495969798999a9b9c9d9e9f4e34b2f7c6f485b4d2891aaf63b77bd87406"
	"02f361e82ad9da87873cd16e34030a746578742f706c61696e00";
static const char kat_hash[] =
	"98fa13fec9df764020607d37ecb30745cc0e110d4de806cdb0e6356c8006d022";
static const char kat_commitment[] =
	"9e6d60d8d9658d1f068b2c13663a2a7272fa8e96e74bcecf5900b22e2e88008f";
static const char kat_manifest_index[] =
	"424d414e020e0000000000009c4000000003808182838485868788898a8b8c8d8e8f"
	"909192939495969798999a9b9c9d9e9f3b158c05b9af8dc188b8c312fcc9fcc229cb"
	"5669d5720ff90f130f9c1d9d71e309766964656f2f6d703401000003e80000000000"
	"001388000000020000000000000000000000000000000000000000000007d0000000"
	"0000004e20";
static const char kat_hash_index[] =
	"0a3cb015272a01792dca4094473aed07e26697cbbfabb8bf1ad87633448af72c";

static void kat_manifest_base(struct content_manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->chunk_log2 = KAT_LOG2;
	m->size = KAT_SIZE;
	m->chunk_count = content_chunk_count(KAT_SIZE, KAT_LOG2);
	for (int i = 0; i < 32; i++)
		m->salt[i] = (uint8_t)(0x80 + i);
	snprintf(m->mime, sizeof(m->mime), "text/plain");
}

static void test_kat_seal_tree_hash(struct tctx *t)
{
	struct content_manifest m;
	struct content_key k;
	struct content_chunk_key ck;
	struct aesgcm_ctx *aead;
	struct bbuf enc = BBUF_INIT;
	uint8_t *pt = xmalloc(KAT_SIZE), want[32], got[32];
	uint8_t ct[(1 << KAT_LOG2) + CONTENT_TAG_BYTES];
	char *dir = t_tmpdir(t), *tp = fsutil_path_join(dir, "tree");
	int fd = open(tp, O_RDWR | O_CREAT, 0600);

	kat_manifest_base(&m);
	T_EQ(t, m.chunk_count, 3);
	for (int i = 0; i < 32; i++)
		k.b[i] = (uint8_t)i;
	for (int i = 0; i < KAT_SIZE; i++)
		pt[i] = (uint8_t)(i * 7 + 3);
	content_chunk_key_derive(&ck, &k, m.salt);
	tc_hex(t, kat_chunk_key, want, 32);
	T_MEMEQ(t, ck.b, want, 32);
	aead = aesgcm_new(ck.b);
	for (uint32_t i = 0; i < 3; i++) {
		size_t len = content_chunk_plain_len(&m, i);
		uint8_t leaf[32];
		T_OK(t, content_chunk_seal(ct, aead, &m, i,
					   pt + ((size_t)i << KAT_LOG2), len));
		sha256(got, ct, len + CONTENT_TAG_BYTES);
		tc_hex(t, kat_ct_sha256[i], want, 32);
		T_MEMEQ(t, got, want, 32);
		content_leaf_hash(leaf, ct, len + CONTENT_TAG_BYTES);
		T_OK(t, content_fs_pwrite_all(fd, leaf, 32, 32 * i));
	}
	T_OK(t, content_tree_build_fd(fd, 3, m.root));
	tc_hex(t, kat_root, want, 32);
	T_MEMEQ(t, m.root, want, 32);
	T_OK(t, content_manifest_encode(&m, &enc));
	{
		uint8_t mw[sizeof(kat_manifest) / 2];
		tc_hex(t, kat_manifest, mw, sizeof(mw));
		T_EQ(t, enc.len, sizeof(mw));
		T_MEMEQ(t, enc.data, mw, sizeof(mw));
	}
	content_hash_of(got, enc.data, enc.len);
	tc_hex(t, kat_hash, want, 32);
	T_MEMEQ(t, got, want, 32);
	content_key_commitment(got, &k, want);
	tc_hex(t, kat_commitment, want, 32);
	T_MEMEQ(t, got, want, 32);
	tc_hex(t, kat_hash, got, 32);
	T_TRUE(t, content_key_matches(&k, got, want));
	k.b[0] ^= 1;
	T_FALSE(t, content_key_matches(&k, got, want));
	aesgcm_free(aead);
	close(fd);
	bbuf_free(&enc);
	free(pt);
	free(tp);
	t_rmtree(dir);
	free(dir);
}

static void test_kat_index(struct tctx *t)
{
	uint8_t buf[sizeof(kat_manifest_index) / 2], h[32], want[32];
	struct content_manifest m;
	struct bbuf enc = BBUF_INIT;
	uint64_t off = 99;

	tc_hex(t, kat_manifest_index, buf, sizeof(buf));
	T_OK(t, content_manifest_decode(buf, sizeof(buf), &m));
	T_STREQ(t, m.mime, "video/mp4");
	T_EQ(t, m.timescale, 1000);
	T_EQ(t, m.duration, 5000);
	T_EQ(t, m.index_count, 2);
	T_EQ(t, m.index[1].offset, 20000);
	T_OK(t, content_manifest_encode(&m, &enc));
	T_EQ(t, enc.len, sizeof(buf));
	T_MEMEQ(t, enc.data, buf, sizeof(buf));	/* decode → encode identity */
	content_hash_of(h, enc.data, enc.len);
	tc_hex(t, kat_hash_index, want, 32);
	T_MEMEQ(t, h, want, 32);
	T_OK(t, content_manifest_seek(&m, 1999, &off));
	T_EQ(t, off, 0);
	T_OK(t, content_manifest_seek(&m, 2000, &off));
	T_EQ(t, off, 20000);
	T_OK(t, content_manifest_seek(&m, 99999, &off));
	T_EQ(t, off, 20000);
	bbuf_free(&enc);
	content_manifest_clear(&m);
}

static void test_chunk_counts(struct tctx *t)
{
	struct content_manifest m = { .chunk_log2 = 16 };

	T_EQ(t, content_chunk_count(0, 16), 1);
	T_EQ(t, content_chunk_count(1, 16), 1);
	T_EQ(t, content_chunk_count(65535, 16), 1);
	T_EQ(t, content_chunk_count(65536, 16), 1);
	T_EQ(t, content_chunk_count(65537, 16), 2);
	T_EQ(t, content_chunk_count((uint64_t)1 << 30, 16), 16384);
	T_EQ(t, content_chunk_count(CONTENT_MAX_BYTES, 16), 1u << 24);
	m.size = 65537;
	m.chunk_count = 2;
	T_EQ(t, content_chunk_plain_len(&m, 0), 65536);
	T_EQ(t, content_chunk_plain_len(&m, 1), 1);
	T_EQ(t, content_chunk_plain_len(&m, 2), 0);
	T_EQ(t, content_chunk_data_offset(&m, 1), 65536 + 16);
	T_EQ(t, content_data_bytes(&m), 65537 + 32);
	m.size = 0;
	m.chunk_count = 1;
	T_EQ(t, content_chunk_plain_len(&m, 0), 0);
	T_EQ(t, content_data_bytes(&m), 16);
}

static int decode_manifest(const uint8_t *b, size_t n, void *out)
{
	int r = content_manifest_decode(b, n, out);

	if (r == 0)
		content_manifest_clear(out);
	return r;
}

/* Set bytes [at, at + n) of a copy of buf to val; decoding gives want. */
static void expect_reject(struct tctx *t, const uint8_t *buf, size_t len,
			  size_t at, size_t n, uint8_t val, int want)
{
	uint8_t *c = xmemdup(buf, len);
	struct content_manifest m;

	memset(c + at, val, n);
	T_ERR(t, content_manifest_decode(c, len, &m), want);
	free(c);
}

static void test_decode_rejects(struct tctx *t)
{
	uint8_t buf[sizeof(kat_manifest_index) / 2], *big;
	const size_t mime = 4 + 1 + 1 + 8 + 4 + 32 + 32;	/* mime length byte */
	const size_t idx = mime + 1 + 9;			/* index kind byte */
	struct content_manifest m;

	tc_hex(t, kat_manifest_index, buf, sizeof(buf));
	tc_prefixes_fail(t, buf, sizeof(buf), decode_manifest, &m);
	expect_reject(t, buf, sizeof(buf), 0, 1, 'b', ERR_FORMAT);	/* magic */
	expect_reject(t, buf, sizeof(buf), 4, 1, 1, ERR_UNSUPPORTED);
	expect_reject(t, buf, sizeof(buf), 4, 1, 3, ERR_UNSUPPORTED);
	expect_reject(t, buf, sizeof(buf), 5, 1, 13, ERR_RANGE);	/* chunk_log2 */
	expect_reject(t, buf, sizeof(buf), 5, 1, 21, ERR_RANGE);
	expect_reject(t, buf, sizeof(buf), 17, 1, 4, ERR_FORMAT);	/* chunk count */
	expect_reject(t, buf, sizeof(buf), 6, 1, 1, ERR_TOO_BIG);	/* size 2^56+ */
	expect_reject(t, buf, sizeof(buf), mime + 1, 1, 'V', ERR_FORMAT);
	expect_reject(t, buf, sizeof(buf), mime + 3, 1, 0, ERR_FORMAT);	/* NUL */
	expect_reject(t, buf, sizeof(buf), mime, 1, 200, ERR_TOO_BIG);
	expect_reject(t, buf, sizeof(buf), mime, 1, 0, ERR_FORMAT);
	expect_reject(t, buf, sizeof(buf), idx, 1, 2, ERR_FORMAT);	/* kind 2 */
	expect_reject(t, buf, sizeof(buf), idx + 1, 4, 0, ERR_FORMAT); /* timescale 0 */
	expect_reject(t, buf, sizeof(buf), idx + 16, 1, 0, ERR_FORMAT); /* 0 entries */
	expect_reject(t, buf, sizeof(buf), idx + 14, 1, 1, ERR_TOO_BIG); /* 65538 */
	expect_reject(t, buf, sizeof(buf), idx + 16, 1, 3, ERR_TRUNCATED);
	/* Second entry's time equal to the first's: not increasing. */
	expect_reject(t, buf, sizeof(buf), idx + 33, 8, 0, ERR_FORMAT);
	/* Second entry's offset past the end. */
	expect_reject(t, buf, sizeof(buf), idx + 46, 1, 1, ERR_RANGE);
	/* Duration 136, before the second entry. */
	expect_reject(t, buf, sizeof(buf), idx + 11, 1, 0, ERR_RANGE);
	big = xmalloc(sizeof(buf) + 1);	/* a trailing byte */
	memcpy(big, buf, sizeof(buf));
	big[sizeof(buf)] = 0;
	T_ERR(t, content_manifest_decode(big, sizeof(buf) + 1, &m), ERR_FORMAT);
	free(big);
}

static void test_validate(struct tctx *t)
{
	struct content_manifest m;
	struct content_index_entry e[2] = { { 0, 0 }, { 10, 100 } };
	struct bbuf b = BBUF_INIT;

	kat_manifest_base(&m);
	T_OK(t, content_manifest_validate(&m));
	m.timescale = 1000;		/* index without entries */
	T_ERR(t, content_manifest_encode(&m, &b), ERR_FORMAT);
	m.duration = 10;
	m.index = e;
	m.index_count = 2;
	T_OK(t, content_manifest_validate(&m));
	m.index_count = CONTENT_INDEX_MAX_ENTRIES + 1;
	T_ERR(t, content_manifest_validate(&m), ERR_TOO_BIG);
	m.index_count = 2;
	m.timescale = CONTENT_TIMESCALE_MAX + 1;
	T_ERR(t, content_manifest_validate(&m), ERR_RANGE);
	m.timescale = 0;
	T_ERR(t, content_manifest_validate(&m), ERR_FORMAT);
	kat_manifest_base(&m);
	m.size = CONTENT_MAX_BYTES + 1;
	m.chunk_count = content_chunk_count(m.size, m.chunk_log2);
	T_ERR(t, content_manifest_validate(&m), ERR_TOO_BIG);
	kat_manifest_base(&m);
	m.size = CONTENT_MAX_BYTES;	/* 2^26 chunks of 16 KiB: over the cap */
	m.chunk_count = content_chunk_count(m.size, m.chunk_log2);
	T_ERR(t, content_manifest_validate(&m), ERR_TOO_BIG);
	m.chunk_log2 = 18;		/* 2^22 chunks of 256 KiB: the cap */
	m.chunk_count = content_chunk_count(m.size, m.chunk_log2);
	T_OK(t, content_manifest_validate(&m));
	T_EQ(t, b.len, 0);		/* nothing written on failure */
	bbuf_free(&b);
}

static void test_seal_binding(struct tctx *t)
{
	struct content_manifest m, m2;
	struct content_key k = { { 7 } }, k2 = { { 8 } };
	struct content_chunk_key ck, ck2;
	struct aesgcm_ctx *a, *a2;
	uint8_t pt[1 << KAT_LOG2], ct[sizeof(pt) + 16], ct1[sizeof(pt) + 16];
	uint8_t out[sizeof(pt) + 16], nonce[12], want[12] = { 0 };
	size_t n = sizeof(pt) + 16;

	kat_manifest_base(&m);
	tc_fill(pt, sizeof(pt), 0, 1);
	content_chunk_nonce(nonce, 0x01020304);
	want[8] = 1, want[9] = 2, want[10] = 3, want[11] = 4;
	T_MEMEQ(t, nonce, want, 12);	/* 96-bit big-endian index */
	content_chunk_key_derive(&ck, &k, m.salt);
	a = aesgcm_new(ck.b);
	T_OK(t, content_chunk_seal(ct, a, &m, 0, pt, sizeof(pt)));
	T_OK(t, content_chunk_seal(ct1, a, &m, 1, pt, sizeof(pt)));
	T_TRUE(t, memcmp(ct, ct1, n) != 0);	/* same plaintext, new nonce */
	T_OK(t, content_chunk_open(out, a, &m, 0, ct, n));
	T_MEMEQ(t, out, pt, sizeof(pt));
	/* Swapped into another position. */
	T_ERR(t, content_chunk_open(out, a, &m, 1, ct, n), ERR_AUTH);
	/* Another content (salt) under the same K. */
	m2 = m;
	m2.salt[0] ^= 1;
	content_chunk_key_derive(&ck2, &k, m2.salt);
	a2 = aesgcm_new(ck2.b);
	T_ERR(t, content_chunk_open(out, a2, &m2, 0, ct, n), ERR_AUTH);
	/* Same salt, another size: the AD differs. */
	m2 = m;
	m2.size = KAT_SIZE + 1;
	T_ERR(t, content_chunk_open(out, a, &m2, 0, ct, n), ERR_AUTH);
	/* Wrong key. */
	content_chunk_key_derive(&ck2, &k2, m.salt);
	aesgcm_set_key(a2, ck2.b);
	T_ERR(t, content_chunk_open(out, a2, &m, 0, ct, n), ERR_AUTH);
	/* Flipped bit, wrong length, index out of range. */
	ct[100] ^= 4;
	T_ERR(t, content_chunk_open(out, a, &m, 0, ct, n), ERR_AUTH);
	T_ERR(t, content_chunk_open(out, a, &m, 0, ct, n - 1), ERR_FORMAT);
	T_ERR(t, content_chunk_open(out, a, &m, 3, ct, n), ERR_FORMAT);
	/* The context still opens good chunks after all those failures. */
	T_OK(t, content_chunk_open(out, a, &m, 1, ct1, n));
	T_MEMEQ(t, out, pt, sizeof(pt));
	aesgcm_free(a);
	aesgcm_free(a2);
}

/* Content of format version 1 is refused with a clear error. */
static void test_old_version(struct tctx *t)
{
	uint8_t buf[sizeof(kat_manifest_v1) / 2];
	struct content_manifest m;
	struct content_fault f = { CONTENT_FAULT_MANIFEST, 0 };
	char msg[256];

	tc_hex(t, kat_manifest_v1, buf, sizeof(buf));
	T_ERR(t, content_manifest_decode(buf, sizeof(buf), &m), ERR_UNSUPPORTED);
	T_TRUE(t, strstr(content_fault_str(&f, ERR_UNSUPPORTED, msg,
					   sizeof(msg)), "version") != NULL);
}

const struct test_case content_manifest_tests[] = {
	{ "kat_seal_tree_hash", test_kat_seal_tree_hash, 0 },
	{ "kat_index", test_kat_index, 0 },
	{ "old_version", test_old_version, 0 },
	{ "chunk_counts", test_chunk_counts, 0 },
	{ "decode_rejects", test_decode_rejects, 0 },
	{ "validate", test_validate, 0 },
	{ "seal_binding", test_seal_binding, 0 },
	{ NULL, NULL, 0 }
};
