/*
 * libFuzzer target: merkle inclusion proof decoding and checking
 * (apps/content/merkle.h).  Properties: a decoded proof re-encodes to the
 * input, has the one depth its (index, count) allows, and checking it
 * against any leaf and root returns cleanly.
 */
#include "config.h"
#include "apps/content/merkle.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct content_proof p;
	struct bbuf b = BBUF_INIT;
	uint8_t leaf[32] = { 0 }, root[32];
	int r;

	if (content_proof_decode(data, size, &p) != 0)
		return 0;
	content_proof_encode(&p, &b);
	if (b.len != size || memcmp(b.data, data, size) != 0 ||
	    p.depth != content_proof_depth(p.index, p.count))
		abort();
	/* The last sibling doubles as the root to aim at. */
	memcpy(root, p.depth ? p.sib[p.depth - 1] : leaf, 32);
	r = content_proof_verify(&p, leaf, root);
	if (r != 0 && r != ERR_AUTH)
		abort();
	bbuf_free(&b);
	return 0;
}
