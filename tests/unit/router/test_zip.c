/* router/zip: an archive written by Python's zipfile (stored and deflated
 * entries), our writer read back, and hostile archives. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/zip.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* zipfile: "a.txt" stored = "stored entry\n", "b.dat" deflated =
 * "deflated entry " * 8, dates 1980-01-01. */
static const char py_zip_hex[] =
	"504b030414000000000000002100bf7f45400d0000000d00000005000000612e7478"
	"7473746f72656420656e7472790a504b0304140000000800000021005c61ac1f1400"
	"00007800000005000000622e6461744b494dcb492c494d5148cd2b29aa5448a11717"
	"00504b0102140314000000000000002100bf7f45400d0000000d0000000500000000"
	"00000000000000800100000000612e747874504b01021403140000000800000021"
	"005c61ac1f1400000078000000050000000000000000000000800130000000622e64"
	"6174504b0506000000000200020066000000670000000000";

struct seen {
	size_t n;
	char names[8][32];
	size_t lens[8];
	uint8_t first[8];
};

static int record(void *ctx, const char *name, const uint8_t *data,
		  size_t len)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
		s->lens[s->n] = len;
		s->first[s->n] = len ? data[0] : 0;
	}
	s->n++;
	return 0;
}

static void test_python_zip(struct tctx *t)
{
	size_t len;
	uint8_t *z = tvec_hex(t, py_zip_hex, &len);
	struct seen s = { 0 };

	T_OK(t, zip_foreach(z, len, 10, 1000, record, &s));
	T_EQ(t, s.n, 2);
	T_STREQ(t, s.names[0], "a.txt");
	T_EQ(t, s.lens[0], 13);
	T_EQ(t, s.first[0], 's');
	T_STREQ(t, s.names[1], "b.dat");
	T_EQ(t, s.lens[1], 15 * 8);
	T_EQ(t, s.first[1], 'd');
	/* Limits: entries and entry size. */
	T_ERR(t, zip_foreach(z, len, 1, 1000, record, &s), ERR_TOO_BIG);
	T_ERR(t, zip_foreach(z, len, 10, 100, record, &s), ERR_TOO_BIG);
	/* Every cut is refused without a crash. */
	for (size_t cut = 0; cut < len; cut++) {
		memset(&s, 0, sizeof(s));
		T_TRUE(t, zip_foreach(z, cut, 10, 1000, record, &s) != 0);
	}
	/* A flipped data byte fails the CRC-32 (stored entry). */
	z[30 + 5 + 2] ^= 1;
	T_ERR(t, zip_foreach(z, len, 10, 1000, record, &s), ERR_FORMAT);
	free(z);
}

static int stop_at_second(void *ctx, const char *name, const uint8_t *data,
			  size_t len)
{
	size_t *n = ctx;

	(void)name;
	(void)data;
	(void)len;
	return ++*n == 2 ? ERR_EXISTS : 0;
}

static void test_writer_roundtrip(struct tctx *t)
{
	struct zip_writer w;
	struct bbuf out = BBUF_INIT;
	uint8_t big[5000];
	struct seen s = { 0 };
	size_t n = 0;

	rand_bytes(big, sizeof(big));
	zip_writer_init(&w);
	T_OK(t, zip_writer_add(&w, "one", (const uint8_t *)"1", 1));
	T_OK(t, zip_writer_add(&w, "big.bin", big, sizeof(big)));
	T_OK(t, zip_writer_add(&w, "empty", (const uint8_t *)"", 0));
	T_ERR(t, zip_writer_add(&w, "", big, 1), ERR_ARG);
	zip_writer_finish(&w, &out);
	T_OK(t, zip_foreach(out.data, out.len, 10, 10000, record, &s));
	T_EQ(t, s.n, 3);
	T_STREQ(t, s.names[1], "big.bin");
	T_EQ(t, s.lens[1], sizeof(big));
	T_EQ(t, s.first[1], big[0]);
	T_EQ(t, s.lens[2], 0);
	/* The callback's error stops the walk. */
	T_ERR(t, zip_foreach(out.data, out.len, 10, 10000, stop_at_second, &n),
	      ERR_EXISTS);
	T_EQ(t, n, 2);
	bbuf_free(&out);
}

static void test_hostile(struct tctx *t)
{
	size_t len;
	uint8_t *z = tvec_hex(t, py_zip_hex, &len);
	uint8_t *m = xmalloc(len);
	struct seen s = { 0 };
	size_t cd = 0x67, eocd = len - 22;

	/* Central directory offset pointing past the end record. */
	memcpy(m, z, len);
	m[eocd + 16] = 0xf0;
	T_ERR(t, zip_foreach(m, len, 10, 1000, record, &s), ERR_FORMAT);
	/* ZIP64 marker. */
	memcpy(m, z, len);
	memset(m + eocd + 16, 0xff, 4);
	T_ERR(t, zip_foreach(m, len, 10, 1000, record, &s), ERR_UNSUPPORTED);
	/* Encrypted flag in the central header. */
	memcpy(m, z, len);
	m[cd + 8] |= 1;
	T_ERR(t, zip_foreach(m, len, 10, 1000, record, &s), ERR_UNSUPPORTED);
	/* Method 12 (bzip2). */
	memcpy(m, z, len);
	m[cd + 10] = 12;
	T_ERR(t, zip_foreach(m, len, 10, 1000, record, &s), ERR_UNSUPPORTED);
	/* A NUL inside the name. */
	memcpy(m, z, len);
	m[cd + 46 + 1] = 0;
	T_ERR(t, zip_foreach(m, len, 10, 1000, record, &s), ERR_FORMAT);
	/* Central and local names disagree. */
	memcpy(m, z, len);
	m[30] = 'x';
	T_ERR(t, zip_foreach(m, len, 10, 1000, record, &s), ERR_FORMAT);
	/* Not a zip. */
	memset(m, 'A', len);
	T_ERR(t, zip_foreach(m, len, 10, 1000, record, &s), ERR_FORMAT);
	free(m);
	free(z);
}

const struct test_case router_zip_tests[] = {
	{ "python_zip", test_python_zip, 0 },
	{ "writer_roundtrip", test_writer_roundtrip, 0 },
	{ "hostile", test_hostile, 0 },
	{ NULL, NULL, 0 }
};
