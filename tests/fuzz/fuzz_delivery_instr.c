/*
 * libFuzzer target: tunnel delivery instructions.  Decode them one after
 * another (skipping each fragment), and check that every decoded set
 * encodes to the length it claims and decodes back to the same fields.
 */
#include "config.h"
#include "crypto/base/bytes.h"
#include "tunnels/tunnel_msg.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct tunnel_di *a, const struct tunnel_di *b)
{
	if (a->follow_on != b->follow_on || a->size != b->size ||
	    a->msg_id != b->msg_id)
		return false;
	if (a->follow_on)
		return a->frag_num == b->frag_num && a->last == b->last;
	return a->type == b->type && a->fragmented == b->fragmented &&
	       a->tunnel_id == b->tunnel_id &&
	       memcmp(a->hash, b->hash, 32) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct breader r;

	br_init(&r, data, size);
	while (br_left(&r) > 0) {
		struct tunnel_di d, back;
		uint8_t enc[TUNNEL_DI_MAX_BYTES];
		struct breader r2;
		size_t n;

		if (tunnel_di_decode(&r, &d) != 0)
			break;
		n = tunnel_di_encode(&d, enc);
		if (n != tunnel_di_len(&d) || n > TUNNEL_DI_MAX_BYTES)
			abort();
		br_init(&r2, enc, n);
		if (tunnel_di_decode(&r2, &back) != 0 || !br_done(&r2) ||
		    !same(&d, &back))
			abort();
		br_skip(&r, d.size > br_left(&r) ? br_left(&r) : d.size);
	}
	return 0;
}
