/*
 * libFuzzer target: feed gossip messages (apps/feed/msg.h).
 * Properties: a decoded message re-encodes to exactly the input (the
 * format is canonical), and every count and pointer stays inside it.
 */
#include "config.h"
#include "apps/feed/msg.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed_msg m;
	struct bbuf b = BBUF_INIT;

	if (feed_msg_decode(data, size, &m) != 0)
		return 0;
	if (m.type == FEED_MSG_ITEM &&
	    (m.u.item.data < data || m.u.item.data + m.u.item.len > data + size))
		abort();
	if (feed_msg_encode(&m, &b) != 0 || b.len != size ||
	    memcmp(b.data, data, size) != 0)
		abort();
	bbuf_free(&b);
	return 0;
}
