/* libFuzzer target: hex, I2P Base64 and Base32 decoders, with round trips. */
#include "config.h"
#include "crypto/base/encode.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*dec_fn)(uint8_t *, size_t, size_t *, const char *, size_t);
typedef int (*enc_fn)(char *, size_t, const void *, size_t);

static void one(dec_fn dec, enc_fn enc, const char *s, size_t n, bool nocase)
{
	uint8_t out[1024];
	char back[2048];
	size_t len;

	if (dec(out, sizeof(out), &len, s, n) != 0)
		return;
	/* a strict decoder accepts only canonical text: it must round-trip
	 * (hex digits in either case) */
	if (enc(back, sizeof(back), out, len) != 0 || strlen(back) != n ||
	    (nocase ? strncasecmp(back, s, n) : memcmp(back, s, n)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	if (size > 1024)
		return 0;
	one(b64_decode, b64_encode, s, size, false);
	one(b32_decode, b32_encode, s, size, false);
	one(hex_decode, hex_encode, s, size, true);
	return 0;
}
