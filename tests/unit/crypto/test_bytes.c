/* crypto/base/bytes: the bounded reader and the wiping writer. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"

#include <stdlib.h>

static void test_reader_short_input(struct tctx *t)
{
	static const uint8_t in[] = { 0x01, 0x00 };
	struct breader r;

	br_init(&r, in, sizeof(in));
	T_EQ(t, br_u8(&r), 1);
	T_EQ(t, br_be16(&r), 0);	/* one byte left: fails, yields 0 */
	T_TRUE(t, r.failed);
	T_EQ(t, br_u8(&r), 0);		/* stays failed */
	T_TRUE(t, br_take(&r, 0) == NULL);
	T_FALSE(t, br_done(&r));
}

static void test_reader_ints(struct tctx *t)
{
	static const uint8_t in[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				      13, 14, 15, 16, 17, 18, 19, 20, 21, 22 };
	struct breader r;

	br_init(&r, in, sizeof(in));
	T_EQ(t, br_be16(&r), 0x0102);
	T_EQ(t, br_be32(&r), 0x03040506);
	T_TRUE(t, br_be64(&r) == 0x0708090a0b0c0d0eULL);
	T_EQ(t, br_le16(&r), 0x100f);
	T_TRUE(t, br_le32(&r) == 0x14131211u);
	T_EQ(t, br_left(&r), 2);
	br_skip(&r, 2);
	T_TRUE(t, br_done(&r));
}

static void test_reader_huge_length(struct tctx *t)
{
	static const uint8_t in[4] = { 0 };
	struct breader r;

	br_init(&r, in, sizeof(in));
	T_TRUE(t, br_take(&r, SIZE_MAX) == NULL);
	T_TRUE(t, r.failed);
	T_EQ(t, br_left(&r), 0);
}

static void test_writer_roundtrip(struct tctx *t)
{
	struct bbuf b = BBUF_INIT;
	struct breader r;
	uint8_t big[1000];
	size_t len;
	uint8_t *p;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	bbuf_u8(&b, 0xab);
	bbuf_be16(&b, 0x1234);
	bbuf_be32(&b, 0xdeadbeef);
	bbuf_be64(&b, 0x0102030405060708ULL);
	bbuf_le64(&b, 0x0102030405060708ULL);
	bbuf_put(&b, big, sizeof(big));
	T_EQ(t, b.len, 1 + 2 + 4 + 8 + 8 + sizeof(big));
	br_init(&r, b.data, b.len);
	T_EQ(t, br_u8(&r), 0xab);
	T_EQ(t, br_be16(&r), 0x1234);
	T_TRUE(t, br_be32(&r) == 0xdeadbeefu);
	T_TRUE(t, br_be64(&r) == 0x0102030405060708ULL);
	T_TRUE(t, br_le64(&r) == 0x0102030405060708ULL);
	T_MEMEQ(t, br_take(&r, sizeof(big)), big, sizeof(big));
	T_TRUE(t, br_done(&r));
	p = bbuf_steal(&b, &len);
	T_EQ(t, len, 1 + 2 + 4 + 8 + 8 + sizeof(big));
	T_TRUE(t, b.data == NULL && b.len == 0);
	free(p);
	bbuf_free(&b);
}

const struct test_case base_bytes_tests[] = {
	{ "reader/short_input", test_reader_short_input, 0 },
	{ "reader/ints", test_reader_ints, 0 },
	{ "reader/huge_length", test_reader_huge_length, 0 },
	{ "writer/roundtrip", test_writer_roundtrip, 0 },
	{ NULL, NULL, 0 }
};
