/*
 * chain/abi against the Solidity ABI spec's examples (tests/vectors/
 * chain.json "abi"), and the decoder's bounds on hostile offsets and
 * lengths.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/abi.h"
#include "crypto/base/err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_spec_examples(struct tctx *t)
{
	json_t *root = tvec_load(t, "chain.json"), *abi;
	struct bbuf b = BBUF_INIT, arr = BBUF_INIT;
	struct abi_enc e, el;
	uint8_t sel[4];
	uint8_t *want;
	size_t wl;

	if (!root)
		return;
	abi = json_object_get(root, "abi");
	/* baz(uint32 69, bool true) */
	abi_selector(sel, "baz(uint32,bool)");
	bbuf_put(&b, sel, 4);
	abi_enc_init(&e, 2);
	abi_enc_u64(&e, 69);
	abi_enc_bool(&e, true);
	T_OK(t, abi_enc_finish(&e, &b));
	want = tvec_field(t, abi, "baz_69_true", &wl);
	T_EQ(t, b.len, wl);
	T_MEMEQ(t, b.data, want, wl);
	free(want);
	bbuf_reset(&b);

	/* sam(bytes "dave", bool true, uint256[] [1,2,3]) */
	abi_selector(sel, "sam(bytes,bool,uint256[])");
	bbuf_put(&b, sel, 4);
	abi_enc_init(&el, 3);
	for (uint64_t i = 1; i <= 3; i++)
		abi_enc_u64(&el, i);
	struct bbuf elems = BBUF_INIT;
	T_OK(t, abi_enc_finish(&el, &elems));
	abi_array_encode(&arr, 3, elems.data, elems.len);
	abi_enc_init(&e, 3);
	abi_enc_bytes(&e, "dave", 4);
	abi_enc_bool(&e, true);
	abi_enc_dyn(&e, arr.data, arr.len);
	T_OK(t, abi_enc_finish(&e, &b));
	want = tvec_field(t, abi, "sam_dave_true_123", &wl);
	T_EQ(t, b.len, wl);
	T_MEMEQ(t, b.data, want, wl);

	/* and decode it back */
	struct abi_dec d = abi_dec_init(want + 4, wl - 4), items;
	const uint8_t *p;
	size_t n, count;
	bool flag;
	uint64_t v;
	T_OK(t, abi_dec_bytes(&d, 0, 64, &p, &n));
	T_EQ(t, n, 4);
	T_MEMEQ(t, p, "dave", 4);
	T_OK(t, abi_dec_bool(&d, 1, &flag));
	T_TRUE(t, flag);
	T_OK(t, abi_dec_array(&d, 2, 10, 1, &count, &items));
	T_EQ(t, count, 3);
	T_OK(t, abi_dec_u64(&items, 2, &v));
	T_EQ(t, v, 3);
	T_ERR(t, abi_dec_array(&d, 2, 2, 1, &count, &items), ERR_TOO_BIG);
	T_ERR(t, abi_dec_bytes(&d, 0, 3, &p, &n), ERR_TOO_BIG);
	free(want);
	bbuf_free(&b);
	bbuf_free(&arr);
	bbuf_free(&elems);
	json_decref(root);
}

static void word(uint8_t *w, uint64_t v)
{
	memset(w, 0, 32);
	be64_put(w + 24, v);
}

static void test_hostile(struct tctx *t)
{
	uint8_t buf[128];
	struct abi_dec d = abi_dec_init(buf, sizeof(buf)), sub;
	const uint8_t *p;
	size_t n, count;
	uint8_t addr[20];
	bool flag;

	/* offset past the end */
	word(buf, 4096);
	T_ERR(t, abi_dec_bytes(&d, 0, 1024, &p, &n), ERR_TRUNCATED);
	/* offset not a multiple of 32 */
	word(buf, 33);
	T_ERR(t, abi_dec_bytes(&d, 0, 1024, &p, &n), ERR_FORMAT);
	/* huge offset (high bits set) */
	memset(buf, 0xff, 32);
	T_ERR(t, abi_dec_bytes(&d, 0, 1024, &p, &n), ERR_FORMAT);
	/* length beyond the data */
	word(buf, 32);
	word(buf + 32, 1000);
	T_ERR(t, abi_dec_bytes(&d, 0, 4096, &p, &n), ERR_TRUNCATED);
	/* length 2^64-1 */
	memset(buf + 32, 0xff, 32);
	T_ERR(t, abi_dec_bytes(&d, 0, 4096, &p, &n), ERR_TOO_BIG);
	/* non-zero padding after the data */
	word(buf + 32, 1);
	memset(buf + 64, 0, 32);
	buf[64] = 0xaa;
	buf[65] = 0x01;
	T_ERR(t, abi_dec_bytes(&d, 0, 4096, &p, &n), ERR_FORMAT);
	buf[65] = 0x00;
	T_OK(t, abi_dec_bytes(&d, 0, 4096, &p, &n));
	T_EQ(t, n, 1);
	T_EQ(t, p[0], 0xaa);
	/* array count that cannot fit */
	word(buf + 32, 1000);
	T_ERR(t, abi_dec_array(&d, 0, 4096, 2, &count, &sub), ERR_TRUNCATED);
	/* dirty address and bool words */
	memset(buf, 0x11, 32);
	T_ERR(t, abi_dec_address(&d, 0, addr), ERR_FORMAT);
	word(buf, 2);
	T_ERR(t, abi_dec_bool(&d, 0, &flag), ERR_FORMAT);
	/* word index out of range */
	T_TRUE(t, abi_dec_word(&d, 4) == NULL);
	T_ERR(t, abi_dec_address(&d, 4, addr), ERR_TRUNCATED);
}

static const char *no_names(const uint8_t sel[4])
{
	static const uint8_t known[4] = { 0xde, 0xad, 0xbe, 0xef };
	return memcmp(sel, known, 4) == 0 ? "Dead()" : NULL;
}

static void test_revert_format(struct tctx *t)
{
	/* Error("nope") */
	uint8_t err[4 + 96] = { 0x08, 0xc3, 0x79, 0xa0 };
	uint8_t panic[36] = { 0x4e, 0x48, 0x7b, 0x71 };
	uint8_t custom[4] = { 0xde, 0xad, 0xbe, 0xef };
	uint8_t other[4] = { 0x01, 0x02, 0x03, 0x04 };
	char out[128];

	word(err + 4, 32);
	word(err + 36, 4);
	memcpy(err + 68, "nope", 4);
	abi_revert_format(out, sizeof(out), err, sizeof(err), NULL);
	T_STREQ(t, out, "reverted: nope");
	panic[35] = 0x11;
	abi_revert_format(out, sizeof(out), panic, sizeof(panic), NULL);
	T_STREQ(t, out, "panic 0x11");
	abi_revert_format(out, sizeof(out), custom, sizeof(custom), no_names);
	T_STREQ(t, out, "reverted: Dead()");
	abi_revert_format(out, sizeof(out), other, sizeof(other), no_names);
	T_STREQ(t, out, "reverted: custom error 0x01020304");
	abi_revert_format(out, sizeof(out), NULL, 0, NULL);
	T_STREQ(t, out, "reverted without a reason");
	word(err + 36, 5000);		/* lying length */
	abi_revert_format(out, sizeof(out), err, sizeof(err), NULL);
	T_STREQ(t, out, "reverted: malformed Error(string)");
}

static void test_selector(struct tctx *t)
{
	uint8_t sel[4];
	static const uint8_t transfer[4] = { 0xa9, 0x05, 0x9c, 0xbb };

	abi_selector(sel, "transfer(address,uint256)");
	T_MEMEQ(t, sel, transfer, 4);
}

static void test_head_mismatch(struct tctx *t)
{
	struct abi_enc e;
	struct bbuf b = BBUF_INIT;

	abi_enc_init(&e, 2);
	abi_enc_u64(&e, 1);			/* one word short */
	T_ERR(t, abi_enc_finish(&e, &b), ERR_INTERNAL);
	T_EQ(t, b.len, 0);
	bbuf_free(&b);
}

const struct test_case abi_tests[] = {
	{ "spec_examples", test_spec_examples, 0 },
	{ "hostile", test_hostile, 0 },
	{ "revert_format", test_revert_format, 0 },
	{ "selector", test_selector, 0 },
	{ "head_mismatch", test_head_mismatch, TT_FORK },
	{ NULL, NULL, 0 }
};
