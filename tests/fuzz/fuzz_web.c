/*
 * libFuzzer target: what the built-in web server (apps/proxy/web.h) takes
 * from a request that came over the overlay, from anyone: the target's
 * path (web_path_decode) and a Range header (web_range_parse).  A path
 * accepted is relative to the root and cannot leave it: NUL-terminated
 * once, no NUL or backslash inside, no leading '/', no empty segment but
 * a trailing one, no segment beginning with '.' (so no "..").  A range
 * accepted lies within the file.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/proxy/web.h"
#include "crypto/base/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p, size_t n)
{
	size_t seg = 0;

	if (n && p[0] == '/')
		abort();
	for (size_t i = 0; i <= n; i++) {
		if (i < n && (p[i] == 0 || p[i] == '\\'))
			abort();
		if (i < n && p[i] != '/')
			continue;
		if ((i == seg && i < n) || (i > seg && p[seg] == '.'))
			abort();
		seg = i + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = { 0, 1, 1000, UINT64_MAX };
	struct bbuf b;

	bbuf_init(&b);
	bbuf_put(&b, "x", 1);	/* appended after what is there */
	if (web_path_decode((const char *)data, size, &b) == 0) {
		if (b.len < 2 || b.data[0] != 'x' || b.data[b.len - 1] != 0)
			abort();
		check_path((const char *)b.data + 1, b.len - 2);
	}
	bbuf_free(&b);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t first = 7, last = 7;

		if (web_range_parse((const char *)data, size, sizes[i], &first,
				    &last) == 0 &&
		    (first > last || last >= sizes[i]))
			abort();
	}
	return 0;
}
