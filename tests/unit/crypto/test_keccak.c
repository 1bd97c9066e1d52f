/*
 * crypto/keccak against the Keccak team's ShortMsgKAT_256 (lengths 0, 135,
 * 136, 137 and 200 bytes: either side of the 136-byte rate) and
 * go-ethereum's Keccak-256("abc"); every message also fed incrementally in
 * pieces split at odd points.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/alloc.h"
#include "crypto/keccak.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Hash msg in pieces of step bytes (the last may be shorter). */
static void keccak_pieces(uint8_t out[32], const uint8_t *msg, size_t len,
			  size_t step)
{
	struct keccak256_ctx c;

	keccak256_init(&c);
	for (size_t off = 0; off < len; off += step)
		keccak256_update(&c, msg + off,
				 len - off < step ? len - off : step);
	keccak256_update(&c, msg, 0);
	keccak256_final(&c, out);
}

static void check_file(struct tctx *t, const char *file, size_t count)
{
	static const size_t steps[] = { 1, 3, 7, 8, 13, 67, 135, 136, 137 };
	json_t *root = tvec_load(t, file), *v;
	uint8_t out[KECCAK256_BYTES];
	size_t i, ml, hl;

	if (!root)
		return;
	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		uint8_t *msg = tvec_field(t, v, "message", &ml);
		uint8_t *want = tvec_field(t, v, "keccak256", &hl);
		json_t *bits = json_object_get(v, "bits");

		T_EQ(t, hl, KECCAK256_BYTES);
		if (bits)
			T_EQ(t, json_integer_value(bits), 8 * ml);
		keccak256(out, msg, ml);
		T_MEMEQ(t, out, want, KECCAK256_BYTES);
		for (size_t s = 0; s < ARRAY_LEN(steps); s++) {
			keccak_pieces(out, msg, ml, steps[s]);
			T_MEMEQ(t, out, want, KECCAK256_BYTES);
		}
		/* An odd split: 5 bytes, then the rest but one, then one. */
		if (ml > 6) {
			struct keccak256_ctx c;

			keccak256_init(&c);
			keccak256_update(&c, msg, 5);
			keccak256_update(&c, msg + 5, ml - 6);
			keccak256_update(&c, msg + ml - 1, 1);
			keccak256_final(&c, out);
			T_MEMEQ(t, out, want, KECCAK256_BYTES);
		}
		free(msg);
		free(want);
	}
	T_EQ(t, i, count);
	json_decref(root);
}

static void test_kat(struct tctx *t)
{
	check_file(t, "keccak256.json", 5);
}

static void test_go_ethereum(struct tctx *t)
{
	check_file(t, "keccak256-go-ethereum.json", 1);
}

static void test_final_wipes(struct tctx *t)
{
	struct keccak256_ctx c, zero;
	uint8_t out[32];

	memset(&zero, 0, sizeof(zero));
	keccak256_init(&c);
	keccak256_update(&c, "secret", 6);
	keccak256_final(&c, out);
	T_MEMEQ(t, &c, &zero, sizeof(c));
}

const struct test_case keccak_tests[] = {
	{ "kat_short_msg_256", test_kat, 0 },
	{ "go_ethereum_abc", test_go_ethereum, 0 },
	{ "final_wipes", test_final_wipes, 0 },
	{ NULL, NULL, 0 }
};
