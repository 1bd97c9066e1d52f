/*
 * libFuzzer target: content manifest decoding (apps/content/manifest.h).
 * Properties: whatever decodes re-encodes to exactly the input (the
 * encoding is canonical), and the chunk arithmetic and keyframe seek stay
 * within the content.
 */
#include "config.h"
#include "apps/content/manifest.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct content_manifest m;
	struct bbuf b = BBUF_INIT;
	uint8_t h[32];
	uint64_t off;

	if (content_manifest_decode(data, size, &m) != 0)
		return 0;
	if (content_manifest_encode(&m, &b) != 0 || b.len != size ||
	    memcmp(b.data, data, size) != 0)
		abort();
	content_hash_of(h, b.data, b.len);
	if (m.chunk_count < 1 || m.chunk_count > CONTENT_MAX_CHUNKS ||
	    content_chunk_plain_len(&m, m.chunk_count - 1) >
	    ((size_t)1 << m.chunk_log2) ||
	    content_chunk_data_offset(&m, m.chunk_count - 1) +
	    content_chunk_plain_len(&m, m.chunk_count - 1) + CONTENT_TAG_BYTES !=
	    content_data_bytes(&m))
		abort();
	if (content_manifest_seek(&m, size >= 8 ? be64_get(data) : 0,
				  &off) == 0 && off >= m.size && m.size)
		abort();
	bbuf_free(&b);
	content_manifest_clear(&m);
	return 0;
}
