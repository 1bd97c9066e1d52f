/* router/i2p_types and router/mapping: Date, String and Mapping. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/i2p_types.h"
#include "router/mapping.h"
#include "crypto/base/err.h"

#include <stdio.h>
#include <string.h>

/* Decode exactly len bytes as one Mapping. */
static int decode_all(const uint8_t *p, size_t len, size_t max,
		      struct mapping *m)
{
	struct breader r;
	int ret;

	br_init(&r, p, len);
	if ((ret = mapping_decode(&r, max, m)) != 0)
		return ret;
	return br_done(&r) ? 0 : ERR_FORMAT;
}

static void test_date_string(struct tctx *t)
{
	static const uint8_t in[] = { 0x00, 0x00, 0x01, 0x8c, 0x01, 0x02, 0x03,
				      0x04, 0x03, 'a', 'b', 'c', 0x00, 0x05 };
	struct bbuf b = BBUF_INIT;
	struct i2p_string s;
	struct breader r;
	char big[300];
	uint64_t ms = 0;

	br_init(&r, in, sizeof(in));
	T_OK(t, i2p_date_decode(&r, &ms));
	T_TRUE(t, ms == 0x0000018c01020304ULL);
	T_OK(t, i2p_string_decode(&r, &s));
	T_EQ(t, s.len, 3);
	T_MEMEQ(t, s.p, "abc", 3);
	T_OK(t, i2p_string_decode(&r, &s));	/* "Length may be 0." */
	T_EQ(t, s.len, 0);
	/* Length byte 5 with no bytes left. */
	T_ERR(t, i2p_string_decode(&r, &s), ERR_TRUNCATED);
	T_ERR(t, i2p_date_decode(&r, &ms), ERR_TRUNCATED);
	T_TRUE(t, ms == 0x0000018c01020304ULL);	/* untouched on error */

	i2p_date_encode(&b, 0x0000018c01020304ULL);
	T_OK(t, i2p_string_encode(&b, "abc", 3));
	T_OK(t, i2p_string_encode(&b, "", 0));
	T_EQ(t, b.len, 13);
	T_MEMEQ(t, b.data, in, 13);
	memset(big, 'x', sizeof(big));
	T_OK(t, i2p_string_encode(&b, big, 255));
	T_ERR(t, i2p_string_encode(&b, big, 256), ERR_TOO_BIG);
	T_EQ(t, b.len, 13 + 256);	/* the refused one wrote nothing */
	bbuf_free(&b);
}

/* The canonical encoding, written out by hand from the spec. */
static void test_encode_sorted(struct tctx *t)
{
	static const uint8_t want[] = {
		0x00, 0x18,
		0x00, '=', 0x01, 'e', ';',		/* "" sorts first */
		0x01, 'B', '=', 0x01, '2', ';',		/* 'B' < 'a' */
		0x01, 'a', '=', 0x00, ';',
		0x02, 'a', 'a', '=', 0x02, 'x', 'y', ';',
	};
	struct mapping m = MAPPING_INIT;
	struct bbuf b = BBUF_INIT;

	T_OK(t, mapping_set(&m, "aa", "xy"));
	T_OK(t, mapping_set(&m, "a", "old"));
	T_OK(t, mapping_set(&m, "B", "2"));
	T_OK(t, mapping_set(&m, "", "e"));
	T_OK(t, mapping_set(&m, "a", ""));	/* replaces, stays unique */
	T_EQ(t, m.n, 4);
	T_FALSE(t, mapping_is_sorted(&m));
	T_EQ(t, mapping_encoded_len(&m), sizeof(want));
	T_OK(t, mapping_encode(&m, &b));
	T_EQ(t, b.len, sizeof(want));
	T_MEMEQ(t, b.data, want, sizeof(want));
	T_STREQ(t, mapping_get(&m, "a"), "");
	T_STREQ(t, mapping_get(&m, "B"), "2");
	T_TRUE(t, mapping_get(&m, "b") == NULL);	/* case-sensitive */
	T_TRUE(t, mapping_get(&m, "aaa") == NULL);
	mapping_clear(&m);
	bbuf_free(&b);
}

static void test_decode_keeps_order(struct tctx *t)
{
	static const uint8_t in[] = {
		0x00, 0x0e,
		0x01, 'z', '=', 0x01, '1', ';',
		0x01, 'a', '=', 0x03, '=', ';', '=', ';',	/* "=;=" */
	};
	struct mapping m = MAPPING_INIT, again = MAPPING_INIT;
	struct bbuf b = BBUF_INIT;

	T_OK(t, decode_all(in, sizeof(in), MAPPING_MAX_BYTES, &m));
	T_EQ(t, m.n, 2);
	if (m.n == 2) {
		T_STREQ(t, m.e[0].key, "z");
		T_STREQ(t, m.e[1].key, "a");
		T_STREQ(t, m.e[1].value, "=;=");
	}
	T_FALSE(t, mapping_is_sorted(&m));
	/* Re-encoding sorts; decoding that is canonical. */
	T_OK(t, mapping_encode(&m, &b));
	T_EQ(t, b.len, sizeof(in));
	T_OK(t, decode_all(b.data, b.len, MAPPING_MAX_BYTES, &again));
	T_TRUE(t, mapping_is_sorted(&again));
	T_EQ(t, again.n, 2);
	if (again.n == 2)
		T_STREQ(t, again.e[0].key, "a");
	mapping_clear(&m);
	mapping_clear(&again);
	bbuf_free(&b);
}

static void test_decode_rejects(struct tctx *t)
{
	static const uint8_t dup[] = { 0x00, 0x0c, 0x01, 'k', '=', 0x01, '1',
				       ';', 0x01, 'k', '=', 0x01, '2', ';' };
	static const uint8_t no_eq[] = { 0x00, 0x06, 0x01, 'k', ':', 0x01, '1',
					 ';' };
	static const uint8_t no_semi[] = { 0x00, 0x06, 0x01, 'k', '=', 0x01,
					   '1', ',' };
	/* The value's length runs past the declared size. */
	static const uint8_t overrun[] = { 0x00, 0x05, 0x01, 'k', '=', 0x02,
					   '1', ';', 0x00 };
	static const uint8_t nul[] = { 0x00, 0x06, 0x01, 'k', '=', 0x01, 0x00,
				       ';' };
	static const uint8_t short_size[] = { 0x00 };
	static const uint8_t short_body[] = { 0x00, 0x07, 0x01, 'k', '=', 0x01,
					      '1', ';' };
	struct mapping m = MAPPING_INIT;

	T_OK(t, mapping_set(&m, "keep", "me"));
	T_ERR(t, decode_all(dup, sizeof(dup), 100, &m), ERR_DUPLICATE);
	T_ERR(t, decode_all(no_eq, sizeof(no_eq), 100, &m), ERR_FORMAT);
	T_ERR(t, decode_all(no_semi, sizeof(no_semi), 100, &m), ERR_FORMAT);
	T_ERR(t, decode_all(overrun, sizeof(overrun), 100, &m), ERR_FORMAT);
	T_ERR(t, decode_all(nul, sizeof(nul), 100, &m), ERR_FORMAT);
	T_ERR(t, decode_all(short_size, sizeof(short_size), 100, &m),
	      ERR_TRUNCATED);
	T_ERR(t, decode_all(short_body, sizeof(short_body), 100, &m),
	      ERR_TRUNCATED);
	/* The size field over the caller's limit is refused before reading. */
	T_ERR(t, decode_all(dup, sizeof(dup), 11, &m), ERR_TOO_BIG);
	/* out is untouched by every failure. */
	T_EQ(t, m.n, 1);
	T_STREQ(t, mapping_get(&m, "keep"), "me");
	mapping_clear(&m);
}

static void test_truncations(struct tctx *t)
{
	struct mapping m = MAPPING_INIT, d = MAPPING_INIT;
	struct bbuf b = BBUF_INIT;

	T_OK(t, mapping_set(&m, "host", "127.0.0.1"));
	T_OK(t, mapping_set(&m, "port", "12345"));
	T_OK(t, mapping_encode(&m, &b));
	for (size_t n = 0; n < b.len; n++) {
		struct breader r;
		br_init(&r, b.data, n);
		T_NE(t, mapping_decode(&r, MAPPING_MAX_BYTES, &d), 0);
	}
	T_EQ(t, d.n, 0);
	T_OK(t, decode_all(b.data, b.len, MAPPING_MAX_BYTES, &d));
	T_EQ(t, d.n, 2);
	mapping_clear(&m);
	mapping_clear(&d);
	bbuf_free(&b);
}

static void test_limits(struct tctx *t)
{
	struct mapping m = MAPPING_INIT;
	struct bbuf b = BBUF_INIT;
	char k[300], v[300];

	memset(v, 'v', sizeof(v));
	v[255] = '\0';
	T_OK(t, mapping_set(&m, "k", v));		/* 255 bytes: fine */
	v[255] = 'v';
	v[256] = '\0';
	T_ERR(t, mapping_set(&m, "k", v), ERR_TOO_BIG);
	T_ERR(t, mapping_set(&m, v, "x"), ERR_TOO_BIG);
	T_EQ(t, strlen(mapping_get(&m, "k")), 255);
	/* 300 entries of ~520 bytes overflow the 2-byte size: refused, and
	 * nothing is written. */
	v[255] = '\0';
	for (int i = 0; i < 300; i++) {
		snprintf(k, sizeof(k), "%0250d", i);
		T_OK(t, mapping_set(&m, k, v));
	}
	T_TRUE(t, mapping_encoded_len(&m) > MAPPING_MAX_BYTES + 2);
	T_ERR(t, mapping_encode(&m, &b), ERR_TOO_BIG);
	T_EQ(t, b.len, 0);
	mapping_clear(&m);
	/* Received: MAPPING_DECODE_MAX_ENTRIES entries and no more. */
	for (int i = 0; i <= MAPPING_DECODE_MAX_ENTRIES; i++) {
		struct mapping d = MAPPING_INIT;

		snprintf(k, sizeof(k), "k%03d", i);
		T_OK(t, mapping_set(&m, k, "v"));
		bbuf_reset(&b);
		T_OK(t, mapping_encode(&m, &b));
		if (i + 1 <= MAPPING_DECODE_MAX_ENTRIES) {
			T_OK(t, decode_all(b.data, b.len, MAPPING_MAX_BYTES,
					   &d));
			T_EQ(t, d.n, i + 1);
		} else {
			T_ERR(t, decode_all(b.data, b.len, MAPPING_MAX_BYTES,
					    &d), ERR_TOO_BIG);
			T_EQ(t, d.n, 0);
		}
		mapping_clear(&d);
	}
	mapping_clear(&m);
	bbuf_free(&b);
}

static void test_remove_copy(struct tctx *t)
{
	struct mapping m = MAPPING_INIT, c = MAPPING_INIT;

	T_OK(t, mapping_set(&m, "a", "1"));
	T_OK(t, mapping_set(&m, "b", "2"));
	T_OK(t, mapping_set(&m, "c", "3"));
	T_OK(t, mapping_set(&c, "old", "gone"));
	mapping_copy(&c, &m);
	T_OK(t, mapping_remove(&m, "b"));
	T_ERR(t, mapping_remove(&m, "b"), ERR_NOT_FOUND);
	T_EQ(t, m.n, 2);
	T_TRUE(t, mapping_get(&m, "b") == NULL);
	T_STREQ(t, mapping_get(&m, "c"), "3");
	T_EQ(t, c.n, 3);
	T_STREQ(t, mapping_get(&c, "b"), "2");
	T_TRUE(t, mapping_get(&c, "old") == NULL);
	T_TRUE(t, mapping_is_sorted(&c));
	mapping_clear(&m);
	mapping_clear(&c);
	mapping_clear(NULL);
}

const struct test_case router_mapping_tests[] = {
	{ "date_string", test_date_string, 0 },
	{ "encode_sorted", test_encode_sorted, 0 },
	{ "decode_keeps_order", test_decode_keeps_order, 0 },
	{ "decode_rejects", test_decode_rejects, 0 },
	{ "truncations", test_truncations, 0 },
	{ "limits", test_limits, 0 },
	{ "remove_copy", test_remove_copy, 0 },
	{ NULL, NULL, 0 }
};
