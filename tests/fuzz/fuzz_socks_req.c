/*
 * libFuzzer target: SOCKS requests (apps/proxy/socks.h).  The first byte
 * picks the parser (greeting, SOCKS5 request, SOCKS4/4a request).  A
 * parse that succeeds must use no more than it was given, give the same
 * result on exactly the bytes it used, and leave a NUL-terminated host;
 * every shorter prefix of those bytes must ask for more.
 */
#include "config.h"
#include "apps/proxy/socks.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(unsigned which, const uint8_t *b, size_t n,
		 struct socks_req *r, size_t *used)
{
	bool na;

	memset(r, 0, sizeof(*r));
	switch (which % 3) {
	case 0:
		return socks5_greeting_parse(b, n, &na, used);
	case 1:
		return socks5_request_parse(b, n, r, used);
	default:
		return socks4_request_parse(b, n, r, used);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct socks_req a, b;
	size_t used = 0, used2 = 0;
	unsigned which;

	if (size < 1)
		return 0;
	which = data[0];
	data++;
	size--;
	if (parse(which, data, size, &a, &used) != 0)
		return 0;
	if (used == 0 || used > size ||
	    memchr(a.host, 0, sizeof(a.host)) == NULL)
		abort();
	if (parse(which, data, used, &b, &used2) != 0 || used2 != used ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	for (size_t i = 0; i < used; i++)
		if (parse(which, data, i, &b, &used2) != ERR_TRUNCATED)
			abort();
	return 0;
}
