/* router/gzip: round trips, vectors from Python's gzip/zlib modules (an
 * independent implementation), output caps and malformed input. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/gzip.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"

#include <stdlib.h>
#include <string.h>

/* gzip.compress(b'I2P netDb gzip vector\n' * 3, mtime=0), Python 3. */
static const char py_gzip_hex[] =
	"1f8b0800000000000203f3340a50c84b2d71495248afca2c50284b4d2ec92fe2f2"
	"244114001cd48a5b42000000";
/* zlib.compressobj(9, zlib.DEFLATED, -15) of the same 66 bytes. */
static const char py_raw_hex[] =
	"f3340a50c84b2d71495248afca2c50284b4d2ec92fe2f224411400";

static void expected_plain(uint8_t out[66])
{
	for (int i = 0; i < 3; i++)
		memcpy(out + 22 * i, "I2P netDb gzip vector\n", 22);
}

static void test_python_vector(struct tctx *t)
{
	size_t glen, rlen, outlen = 0;
	uint8_t *g = tvec_hex(t, py_gzip_hex, &glen);
	uint8_t *raw = tvec_hex(t, py_raw_hex, &rlen);
	uint8_t want[66], out[100];

	expected_plain(want);
	T_OK(t, gzip_decompress(g, glen, out, sizeof(out), &outlen));
	T_EQ(t, outlen, sizeof(want));
	T_MEMEQ(t, out, want, sizeof(want));
	outlen = 0;
	T_OK(t, gzip_inflate_raw(raw, rlen, out, sizeof(out), &outlen));
	T_EQ(t, outlen, sizeof(want));
	T_MEMEQ(t, out, want, sizeof(want));
	/* A raw stream is not gzip and vice versa. */
	T_ERR(t, gzip_decompress(raw, rlen, out, sizeof(out), &outlen),
	      ERR_FORMAT);
	T_ERR(t, gzip_inflate_raw(g, glen, out, sizeof(out), &outlen),
	      ERR_FORMAT);
	free(g);
	free(raw);
}

static void test_roundtrip(struct tctx *t)
{
	static const size_t sizes[] = { 0, 1, 3071, 70000 };

	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		struct bbuf z = BBUF_INIT;
		size_t n = sizes[i], outlen = 12345;
		uint8_t *in = xmalloc(n + 1), *out = xmalloc(n + 1);

		rand_bytes(in, n);
		if (n > 100)
			memset(in, 'a', n / 2);	/* compressible half */
		T_OK(t, gzip_compress(in, n, &z));
		T_TRUE(t, z.len >= 18);		/* header + trailer */
		T_EQ(t, z.data[0], 0x1f);
		T_EQ(t, z.data[1], 0x8b);
		T_OK(t, gzip_decompress(z.data, z.len, out, n, &outlen));
		T_EQ(t, outlen, n);
		if (n)
			T_MEMEQ(t, out, in, n);
		if (n) {
			/* One byte short of room: refused, not truncated. */
			outlen = 777;
			T_ERR(t, gzip_decompress(z.data, z.len, out, n - 1,
						 &outlen), ERR_TOO_BIG);
			T_EQ(t, outlen, 777);
		}
		bbuf_free(&z);
		free(in);
		free(out);
	}
}

static void test_bomb_capped(struct tctx *t)
{
	size_t n = 4u << 20, outlen;
	uint8_t *zeros = xzalloc(n), out[3071];
	struct bbuf z = BBUF_INIT;

	T_OK(t, gzip_compress(zeros, n, &z));
	T_TRUE(t, z.len < 8192);
	T_ERR(t, gzip_decompress(z.data, z.len, out, sizeof(out), &outlen),
	      ERR_TOO_BIG);
	bbuf_free(&z);
	free(zeros);
}

static void test_malformed(struct tctx *t)
{
	size_t glen, outlen = 5;
	uint8_t *g = tvec_hex(t, py_gzip_hex, &glen);
	uint8_t *m = xmalloc(glen + 1), out[100];

	/* Trailing garbage after the member. */
	memcpy(m, g, glen);
	m[glen] = 0;
	T_ERR(t, gzip_decompress(m, glen + 1, out, sizeof(out), &outlen),
	      ERR_FORMAT);
	/* Cut anywhere: never accepted. */
	for (size_t cut = 0; cut < glen; cut++) {
		int r = gzip_decompress(g, cut, out, sizeof(out), &outlen);
		T_TRUE(t, r == ERR_TRUNCATED || r == ERR_FORMAT);
	}
	/* CRC-32 and ISIZE trailer flipped. */
	memcpy(m, g, glen);
	m[glen - 8] ^= 1;
	T_ERR(t, gzip_decompress(m, glen, out, sizeof(out), &outlen),
	      ERR_FORMAT);
	memcpy(m, g, glen);
	m[glen - 1] ^= 1;
	T_ERR(t, gzip_decompress(m, glen, out, sizeof(out), &outlen),
	      ERR_FORMAT);
	/* Bad magic, bad method. */
	memcpy(m, g, glen);
	m[0] = 0x1e;
	T_ERR(t, gzip_decompress(m, glen, out, sizeof(out), &outlen),
	      ERR_FORMAT);
	memcpy(m, g, glen);
	m[2] = 7;
	T_ERR(t, gzip_decompress(m, glen, out, sizeof(out), &outlen),
	      ERR_FORMAT);
	/* Nothing at all. */
	T_ERR(t, gzip_decompress(g, 0, out, sizeof(out), &outlen),
	      ERR_TRUNCATED);
	T_EQ(t, outlen, 5);		/* never written on error */
	free(g);
	free(m);
}

/* gzip.compress(b'I2P stored gzip vector\n' * 3, compresslevel=0,
 * mtime=0), Python 3: one final stored block (XFL 4, OS 3). */
static const char py_stored_hex[] =
	"1f8b0800000000000403014500baff4932502073746f72656420677a697020766563"
	"746f720a4932502073746f72656420677a697020766563746f720a49325020737"
	"46f72656420677a697020766563746f720af26ee11f45000000";

static void test_stored(struct tctx *t)
{
	static const size_t sizes[] = { 0, 1, 1812, 65535, 65536, 140000 };
	size_t plen, outlen = 5;
	uint8_t *py = tvec_hex(t, py_stored_hex, &plen);
	uint8_t *m = xmalloc(plen + 1), out[100];
	struct bbuf z = BBUF_INIT;
	const char *v = "I2P stored gzip vector\n";

	/* Ours is Python's member but for XFL and OS. */
	T_EQ(t, plen, 92);
	T_OK(t, gzip_decompress(py, plen, out, sizeof(out), &outlen));
	T_EQ(t, outlen, 69);
	for (int i = 0; i < 3; i++)
		T_MEMEQ(t, out + 23 * i, v, 23);
	T_OK(t, gzip_store(out, 69, &z));
	T_EQ(t, z.len, plen);
	T_MEMEQ(t, z.data, py, 8);
	T_MEMEQ(t, z.data + 10, py + 10, plen - 10);
	bbuf_free(&z);
	/* A wrong CRC, a wrong ISIZE, a wrong NLEN, a byte after it, too
	 * little room, cut anywhere: refused as zlib refuses them. */
	memcpy(m, py, plen);
	m[plen - 8] ^= 1;
	T_ERR(t, gzip_decompress(m, plen, out, sizeof(out), &outlen),
	      ERR_FORMAT);
	memcpy(m, py, plen);
	m[plen - 4] ^= 1;
	T_ERR(t, gzip_decompress(m, plen, out, sizeof(out), &outlen),
	      ERR_FORMAT);
	memcpy(m, py, plen);
	m[13] ^= 1;
	T_ERR(t, gzip_decompress(m, plen, out, sizeof(out), &outlen),
	      ERR_FORMAT);
	memcpy(m, py, plen);
	m[plen] = 0;
	T_ERR(t, gzip_decompress(m, plen + 1, out, sizeof(out), &outlen),
	      ERR_FORMAT);
	T_ERR(t, gzip_decompress(py, plen, out, 68, &outlen), ERR_TOO_BIG);
	for (size_t cut = 0; cut < plen; cut++) {
		int r = gzip_decompress(py, cut, out, sizeof(out), &outlen);
		T_TRUE(t, r == ERR_TRUNCATED || r == ERR_FORMAT);
	}
	T_EQ(t, outlen, 69);
	/* Round trips, one block and several. */
	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		size_t n = sizes[i];
		uint8_t *in = xmalloc(n + 1), *o = xmalloc(n + 1);

		rand_bytes(in, n);
		T_OK(t, gzip_store(in, n, &z));
		T_EQ(t, z.len, n + 18 + 5 * (n ? (n + 65534) / 65535 : 1));
		outlen = 0;
		T_OK(t, gzip_decompress(z.data, z.len, o, n, &outlen));
		T_EQ(t, outlen, n);
		if (n) {
			T_MEMEQ(t, o, in, n);
			T_ERR(t, gzip_decompress(z.data, z.len, o, n - 1,
						 &outlen), ERR_TOO_BIG);
		}
		bbuf_free(&z);
		free(in);
		free(o);
	}
	free(py);
	free(m);
}

static void test_crc32(struct tctx *t)
{
	/* The CRC-32 check value (catalogue of CRCs, "CRC-32/ISO-HDLC"). */
	T_EQ(t, gzip_crc32("123456789", 9), 0xCBF43926u);
	T_EQ(t, gzip_crc32("", 0), 0);
}

const struct test_case router_gzip_tests[] = {
	{ "python_vector", test_python_vector, 0 },
	{ "roundtrip", test_roundtrip, 0 },
	{ "bomb_capped", test_bomb_capped, 0 },
	{ "malformed", test_malformed, 0 },
	{ "stored", test_stored, 0 },
	{ "crc32", test_crc32, 0 },
	{ NULL, NULL, 0 }
};
