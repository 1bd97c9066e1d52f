/*
 * libFuzzer target: hash card decoding (apps/content/card.h).
 * Properties: a decoded card re-encodes to the input, has a card id, a
 * JSON view, and a signature check that returns cleanly.
 */
#include "config.h"
#include "apps/content/card.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct content_card *c = xzalloc(sizeof(*c));
	struct bbuf b = BBUF_INIT;
	uint8_t id[32];
	char *json;
	int r;

	if (content_card_decode(data, size, c) != 0)
		goto out;
	if (content_card_encode(c, &b) != 0 || b.len != size ||
	    memcmp(b.data, data, size) != 0 || content_card_id(c, id) != 0)
		abort();
	r = content_card_verify(c);
	if (r != 0 && r != ERR_BAD_SIG)
		abort();
	if (!(json = content_card_to_json(c)))
		abort();
	free(json);
out:
	bbuf_free(&b);
	free(c);
	return 0;
}
