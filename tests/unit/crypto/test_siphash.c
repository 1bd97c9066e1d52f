/*
 * crypto/siphash against all 64 SipHash-2-4 vectors of the reference
 * implementation (veorq/SipHash 1.0 vectors.h, vectors_sip64).
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/siphash.h"

#include <jansson.h>
#include <stdlib.h>

static void test_reference_vectors(struct tctx *t)
{
	json_t *root = tvec_load(t, "siphash-2-4.json"), *v;
	uint8_t out[SIPHASH_BYTES];
	size_t i, kl, ml, ol;

	if (!root)
		return;
	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		uint8_t *key = tvec_field(t, v, "key", &kl);
		uint8_t *msg = tvec_field(t, v, "message", &ml);
		uint8_t *want = tvec_field(t, v, "output", &ol);
		uint64_t le = 0;

		T_EQ(t, kl, SIPHASH_KEY_BYTES);
		T_EQ(t, ol, SIPHASH_BYTES);
		T_EQ(t, ml, i);		/* vector i hashes i bytes */
		siphash24(out, key, msg, ml);
		T_MEMEQ(t, out, want, SIPHASH_BYTES);
		/* the numeric form reads the output little-endian */
		for (int b = 7; b >= 0; b--)
			le = le << 8 | want[b];
		T_TRUE(t, siphash24_u64(key, msg, ml) == le);
		free(key);
		free(msg);
		free(want);
	}
	T_EQ(t, i, 64);
	json_decref(root);
}

const struct test_case siphash_tests[] = {
	{ "reference_vectors", test_reference_vectors, 0 },
	{ NULL, NULL, 0 }
};
