/*
 * libFuzzer target: the query string of GET /api/feed
 * (feed_service_parse_query).  Properties: no crash on any bytes, and an
 * accepted query is within the store's limits (a media type of 1 to
 * CONTENT_MIME_MAX_BYTES bytes, a known sort), its strings inside the
 * buffer and NUL-terminated there.
 */
#include "config.h"
#include "apps/feed/service.h"
#include "apps/feed/store.h"
#include "crypto/base/alloc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const char *s, const char *buf, size_t n)
{
	if (s && (s < buf || s > buf + n || memchr(s, '\0',
						    (size_t)(buf + n + 1 - s)) == NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = xmalloc(size + 1);
	struct feed_query q;
	unsigned i;

	memcpy(buf, data, size);
	buf[size] = '\0';
	if (!feed_service_parse_query(buf, &q)) {
		if (q.limit == 0 || q.limit > FEED_QUERY_MAX_ROWS ||
		    q.tag_count > CARD_TAGS_MAX)
			abort();
		if (q.sort != FEED_SORT_NEW && q.sort != FEED_SORT_POPULAR &&
		    q.sort != FEED_SORT_TRENDING)
			abort();
		inside(q.text, buf, size);
		inside(q.media, buf, size);
		if (q.media && (!q.media[0] ||
				strlen(q.media) > CONTENT_MIME_MAX_BYTES))
			abort();
		for (i = 0; i < q.tag_count; i++)
			inside(q.tags[i], buf, size);
	}
	free(buf);
	return 0;
}
