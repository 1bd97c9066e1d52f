/*
 * libFuzzer target: swarm peer protocol frames (apps/swarm/msg.h).
 * Properties: decoding never reads past the input; a decoded frame
 * re-encodes to exactly the bytes it came from (one encoding per message);
 * "need more" is only ever answered for a proper prefix of a frame.
 */
#include "config.h"
#include "apps/swarm/msg.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct swarm_msg m;
	struct bbuf b = BBUF_INIT;
	size_t used, off = 0;
	int r;

	/* A stream of frames, as a connection would deliver them. */
	while (off < size) {
		r = swarm_msg_decode(data + off, size - off, &m, &used);
		if (r != 0) {
			if (used != 0)
				abort();
			break;
		}
		if (used == 0 || used > size - off)
			abort();
		bbuf_reset(&b);
		if (swarm_msg_encode(&m, &b) != 0 || b.len != used ||
		    memcmp(b.data, data + off, used) != 0)
			abort();
		(void)swarm_msg_type_name(m.type);
		off += used;
	}
	bbuf_free(&b);
	return 0;
}
