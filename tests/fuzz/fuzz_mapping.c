/*
 * libFuzzer target: Mapping and String decoding (router/mapping.h).
 * Properties: a decoded Mapping re-encodes canonically (sorted, decodable,
 * stable under a second round trip), and a Mapping that arrived sorted
 * re-encodes to exactly the bytes that were read.
 */
#include "config.h"
#include "router/i2p_types.h"
#include "router/mapping.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct mapping *m, const uint8_t *in, size_t used)
{
	struct mapping again = MAPPING_INIT;
	struct bbuf b1 = BBUF_INIT, b2 = BBUF_INIT;
	struct breader r;

	if (mapping_encode(m, &b1) != 0)
		abort();		/* it fit when it came in */
	if (mapping_is_sorted(m) &&
	    (b1.len != used || memcmp(b1.data, in, used) != 0))
		abort();
	br_init(&r, b1.data, b1.len);
	if (mapping_decode(&r, MAPPING_MAX_BYTES, &again) != 0 ||
	    !br_done(&r) || again.n != m->n || !mapping_is_sorted(&again))
		abort();
	for (size_t i = 0; i < m->n; i++) {
		const char *v = mapping_get(&again, m->e[i].key);
		if (!v || strcmp(v, m->e[i].value) != 0)
			abort();
	}
	if (mapping_encode(&again, &b2) != 0 || b2.len != b1.len ||
	    memcmp(b1.data, b2.data, b1.len) != 0)
		abort();
	mapping_clear(&again);
	bbuf_free(&b1);
	bbuf_free(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mapping m = MAPPING_INIT;
	struct i2p_string s;
	struct breader r;

	br_init(&r, data, size);
	if (mapping_decode(&r, MAPPING_MAX_BYTES, &m) == 0)
		roundtrip(&m, data, size - br_left(&r));
	mapping_clear(&m);
	/* A small enclosing limit must be honoured too. */
	br_init(&r, data, size);
	if (mapping_decode(&r, 64, &m) == 0 && size - br_left(&r) > 66)
		abort();
	mapping_clear(&m);
	br_init(&r, data, size);
	while (i2p_string_decode(&r, &s) == 0)
		if (s.len > I2P_STRING_MAX_BYTES)
			abort();
	return 0;
}
