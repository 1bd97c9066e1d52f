/* libFuzzer target: hex, I2P Base64 and Base32 decoders, with round trips,
 * and the strict decimal one against strtoull. */
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

/* An accepted number is the digits strtoull reads, and within max; a
 * refused string of digits only is above max. */
static void dec(const char *s, size_t n)
{
	char buf[32];
	uint64_t v, max = n ? (uint64_t)(unsigned char)s[0] * 1000003u : 0;
	int r;

	if (n >= sizeof(buf))
		return;
	memcpy(buf, s, n);
	buf[n] = '\0';
	r = dec_decode(&v, max, s, n);
	if (r == 0 && (v > max || v != strtoull(buf, NULL, 10) ||
		       strspn(buf, "0123456789") != n || !n))
		abort();
	if (r != 0 && n && strspn(buf, "0123456789") == n && n < 20 &&
	    strtoull(buf, NULL, 10) <= max)
		abort();
	if (dec_decode(&v, UINT64_MAX, s, n) == 0 &&
	    v != strtoull(buf, NULL, 10))
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
	dec(s, size);
	return 0;
}
