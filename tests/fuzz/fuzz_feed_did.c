/*
 * libFuzzer target: the DID index as saved between runs
 * (apps/feed/did.h, feed_did_load).  Properties: what loads saves back
 * as the same bytes (pairs with no validity left dropped: then it loads
 * again and saves the same), and a failed load leaves the index empty.
 */
#include "config.h"
#include "apps/feed/did.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed_did_index *x = feed_did_new();
	struct bbuf a = BBUF_INIT, b = BBUF_INIT;
	uint8_t src[32];
	uint64_t next = 0, next2 = 0;

	/* The source of the seeds: the first 32 bytes after the header's
	 * magic and version, so both outcomes are reached. */
	memset(src, 0, sizeof(src));
	if (size >= 5 + 32)
		memcpy(src, data + 5, 32);
	if (feed_did_load(x, src, data, size, &next) != 0) {
		if (feed_did_count(x) != 0)
			abort();
		goto out;
	}
	feed_did_save(x, src, next, 0, &a);
	if (a.len > size || (a.len == size && memcmp(a.data, data, size)))
		abort();
	if (feed_did_load(x, src, a.data, a.len, &next2) != 0 ||
	    next2 != next)
		abort();
	feed_did_save(x, src, next2, 0, &b);
	if (b.len != a.len || memcmp(a.data, b.data, a.len))
		abort();
out:
	bbuf_free(&a);
	bbuf_free(&b);
	feed_did_free(x);
	return 0;
}
