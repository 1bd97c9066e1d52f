/*
 * chain/rlp against the Ethereum docs' RLP examples (tests/vectors/
 * chain.json "rlp"), and the canonical-form rules of the decoder.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/rlp.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_vectors(struct tctx *t)
{
	json_t *root = tvec_load(t, "chain.json"), *v;
	size_t i, n = 0;

	if (!root)
		return;
	json_array_foreach(json_object_get(json_object_get(root, "rlp"), "vectors"), i, v) {
		const char *kind = json_string_value(json_object_get(v, "kind"));
		size_t wl, vl = 0;
		uint8_t *want = tvec_field(t, v, "rlp", &wl);
		struct bbuf b = BBUF_INIT;
		struct rlp_item it;

		if (strcmp(kind, "bytes") == 0) {
			uint8_t *val = tvec_field(t, v, "value", &vl);
			rlp_put_bytes(&b, val, vl);
			T_EQ(t, b.len, wl);
			T_MEMEQ(t, b.data, want, wl);
			T_OK(t, rlp_decode_one(want, wl, &it));
			T_FALSE(t, it.is_list);
			T_EQ(t, it.len, vl);
			if (vl)
				T_MEMEQ(t, it.p, val, vl);
			free(val);
		} else if (strcmp(kind, "uint") == 0) {
			struct u256 u;
			uint64_t got;
			T_OK(t, u256_parse_str(&u, json_string_value(json_object_get(v, "value"))));
			rlp_put_u256(&b, &u);
			T_EQ(t, b.len, wl);
			T_MEMEQ(t, b.data, want, wl);
			bbuf_reset(&b);
			rlp_put_u64(&b, u.w[0]);
			T_MEMEQ(t, b.data, want, wl);
			T_OK(t, rlp_decode_one(want, wl, &it));
			T_OK(t, rlp_item_u64(&it, &got));
			T_EQ(t, got, u.w[0]);
		} else {
			T_OK(t, rlp_decode_one(want, wl, &it));
			T_TRUE(t, it.is_list);
		}
		bbuf_free(&b);
		free(want);
		n++;
	}
	T_EQ(t, n, 11);
	json_decref(root);
}

static void test_lists(struct tctx *t)
{
	/* [ [], [[]], [ [], [[]] ] ] built with the encoder */
	struct bbuf e = BBUF_INIT, a = BBUF_INIT, b = BBUF_INIT, c = BBUF_INIT,
		    top = BBUF_INIT;
	static const uint8_t want[] = { 0xc7, 0xc0, 0xc1, 0xc0, 0xc3, 0xc0, 0xc1, 0xc0 };
	struct rlp_item it;
	size_t count;
	unsigned depth;

	rlp_put_list(&e, NULL, 0);			/* [] */
	rlp_put_list(&a, e.data, e.len);		/* [[]] */
	bbuf_put(&b, e.data, e.len);
	bbuf_put(&b, a.data, a.len);
	rlp_put_list(&c, b.data, b.len);		/* [ [], [[]] ] */
	bbuf_reset(&b);
	bbuf_put(&b, e.data, e.len);
	bbuf_put(&b, a.data, a.len);
	bbuf_put(&b, c.data, c.len);
	rlp_put_list(&top, b.data, b.len);
	T_EQ(t, top.len, sizeof(want));
	T_MEMEQ(t, top.data, want, sizeof(want));
	T_OK(t, rlp_decode_one(top.data, top.len, &it));
	T_OK(t, rlp_list_count(&it, &count));
	T_EQ(t, count, 3);
	T_OK(t, rlp_item_depth(&it, &depth));
	T_EQ(t, depth, 4);		/* [[[ [] ]]] is four deep */
	bbuf_free(&e);
	bbuf_free(&a);
	bbuf_free(&b);
	bbuf_free(&c);
	bbuf_free(&top);
}

static void test_long(struct tctx *t)
{
	uint8_t *big = xzalloc(70000);
	struct bbuf b = BBUF_INIT;
	struct rlp_item it;

	rlp_put_bytes(&b, big, 70000);		/* 0xba 01 11 70 */
	T_EQ(t, b.data[0], 0xba);
	T_EQ(t, b.data[1], 0x01);
	T_EQ(t, b.data[2], 0x11);
	T_EQ(t, b.data[3], 0x70);
	T_OK(t, rlp_decode_one(b.data, b.len, &it));
	T_EQ(t, it.len, 70000);
	T_ERR(t, rlp_decode_one(b.data, b.len - 1, &it), ERR_TRUNCATED);
	bbuf_free(&b);
	free(big);
}

static void test_noncanonical(struct tctx *t)
{
	static const uint8_t wrapped_byte[] = { 0x81, 0x05 };
	static const uint8_t long_short[] = { 0xb8, 0x02, 0x61, 0x62 };
	static const uint8_t lead_zero_len[] = { 0xb9, 0x00, 0x38 };
	static const uint8_t list_long_short[] = { 0xf8, 0x01, 0x80 };
	static const uint8_t trailing[] = { 0x80, 0x80 };
	static const uint8_t int_lead_zero[] = { 0x82, 0x00, 0x01 };
	static const uint8_t huge_len[] = { 0xbf, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff };
	static const uint8_t list_bad_inner[] = { 0xc2, 0x81, 0x05 };
	struct rlp_item it;
	uint64_t v;
	size_t n;

	T_ERR(t, rlp_decode_one(wrapped_byte, sizeof(wrapped_byte), &it), ERR_FORMAT);
	T_ERR(t, rlp_decode_one(long_short, sizeof(long_short), &it), ERR_FORMAT);
	T_ERR(t, rlp_decode_one(lead_zero_len, sizeof(lead_zero_len), &it), ERR_FORMAT);
	T_ERR(t, rlp_decode_one(list_long_short, sizeof(list_long_short), &it), ERR_FORMAT);
	T_ERR(t, rlp_decode_one(trailing, sizeof(trailing), &it), ERR_FORMAT);
	T_ERR(t, rlp_decode_one(huge_len, sizeof(huge_len), &it), ERR_TRUNCATED);
	T_ERR(t, rlp_decode_one(NULL, 0, &it), ERR_TRUNCATED);
	T_OK(t, rlp_decode_one(int_lead_zero, sizeof(int_lead_zero), &it));
	T_ERR(t, rlp_item_u64(&it, &v), ERR_FORMAT);
	T_OK(t, rlp_decode_one(list_bad_inner, sizeof(list_bad_inner), &it));
	T_ERR(t, rlp_list_count(&it, &n), ERR_FORMAT);
}

static void test_deep(struct tctx *t)
{
	/* 20 nested lists: over RLP_MAX_DEPTH */
	uint8_t buf[20];
	struct rlp_item it;
	unsigned d;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0xc0 + sizeof(buf) - 1 - i);
	T_OK(t, rlp_decode_one(buf, sizeof(buf), &it));
	T_ERR(t, rlp_item_depth(&it, &d), ERR_TOO_BIG);
}

const struct test_case rlp_tests[] = {
	{ "vectors", test_vectors, 0 },
	{ "lists", test_lists, 0 },
	{ "long", test_long, 0 },
	{ "noncanonical", test_noncanonical, 0 },
	{ "deep", test_deep, 0 },
	{ NULL, NULL, 0 }
};
