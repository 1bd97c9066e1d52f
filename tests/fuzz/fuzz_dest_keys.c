/*
 * libFuzzer target: destination private keys (router/dest_keys.h), binary
 * (i2pd's key files) and Base64 (SAM).  A binary input that decodes must
 * encode back to exactly the same bytes; a Base64 one must format back to
 * a string that parses to the same Destination.
 */
#include "config.h"
#include "crypto/base/alloc.h"
#include "router/dest_keys.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dest_keys k, k2;
	struct bbuf b = BBUF_INIT;
	char *s;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		if (dest_keys_decode(data + 1, size - 1, &k) != 0)
			return 0;
		(void)dest_keys_check(&k);
		dest_keys_encode(&k, &b);
		if (b.len != size - 1 || memcmp(b.data, data + 1, b.len) != 0)
			abort();
		bbuf_free(&b);
		dest_keys_wipe(&k);
		return 0;
	}
	if (dest_keys_parse((const char *)data + 1, size - 1, &k) != 0)
		return 0;
	s = dest_keys_format(&k);
	if (dest_keys_parse(s, strlen(s), &k2) != 0 ||
	    k2.dest.len != k.dest.len ||
	    memcmp(k2.dest.raw, k.dest.raw, k.dest.len) != 0)
		abort();
	xfree_wipe(s, strlen(s) + 1);
	dest_keys_wipe(&k);
	dest_keys_wipe(&k2);
	return 0;
}
