/*
 * Text field checks and decimal token amounts (apps/content/text.h).
 * UTF-8 is checked after RFC 3629 §4 (the well-formed byte sequences
 * table); MIME names after RFC 6838 §4.2; DIDs after the did:ethr method
 * spec ("did:ethr:" [network ":"] address).
 */
#include "config.h"
#include "apps/content/text.h"
#include "crypto/base/err.h"

#include <string.h>

/* Length of the UTF-8 sequence at s (1..4), or 0 if it is malformed;
 * *cp gets the code point. */
static size_t utf8_seq(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t c = s[0];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; v = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; v = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; v = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

bool content_text_is_valid(const uint8_t *s, size_t n, bool multiline)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_seq(s + i, n - i, &cp);
		if (len == 0)
			return false;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			if (!multiline || (cp != '\n' && cp != '\t'))
				return false;
		}
		i += len;
	}
	return true;
}

static bool mime_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return !first && c != '\0' && strchr("!#$&-^_.+", c) != NULL;
}

bool content_mime_is_valid(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	size_t t, sub;

	if (!slash)
		return false;
	t = (size_t)(slash - s);
	sub = n - t - 1;
	if (t < 1 || t > 63 || sub < 1 || sub > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == t)
			continue;
		if (!mime_char(s[i], i == 0 || i == t + 1))
			return false;
	}
	return true;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* True when s[0..n) is "0x" followed by 40 hex digits. */
static bool is_address(const char *s, size_t n)
{
	if (n != 42 || s[0] != '0' || s[1] != 'x')
		return false;
	for (size_t i = 2; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

static bool is_network(const char *s, size_t n)
{
	if (n >= 3 && s[0] == '0' && s[1] == 'x') {
		if (n > 2 + 16)
			return false;
		for (size_t i = 2; i < n; i++)
			if (!is_hex(s[i]))
				return false;
		return true;
	}
	if (n < 1 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

bool content_did_is_valid(const char *s, size_t n)
{
	static const char pfx[] = "did:ethr:";
	const size_t pl = sizeof(pfx) - 1;
	const char *rest, *colon;
	size_t rn;

	if (n <= pl || memcmp(s, pfx, pl) != 0)
		return false;
	rest = s + pl;
	rn = n - pl;
	colon = memchr(rest, ':', rn);
	if (!colon)
		return is_address(rest, rn);
	return is_network(rest, (size_t)(colon - rest)) &&
	       is_address(colon + 1, rn - (size_t)(colon - rest) - 1);
}

bool content_tag_is_valid(const char *s, size_t n)
{
	if (n == 0 || !content_text_is_valid((const uint8_t *)s, n, false))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ' ' || s[i] == ',' || s[i] == '#' ||
		    (s[i] >= 'A' && s[i] <= 'Z'))
			return false;
	return true;
}

/* a = a * 10 + d over 32 big-endian bytes; false on overflow. */
static bool u256_mul10_add(uint8_t a[32], unsigned d)
{
	unsigned carry = d;

	for (int i = 31; i >= 0; i--) {
		unsigned v = a[i] * 10u + carry;
		a[i] = (uint8_t)v;
		carry = v >> 8;
	}
	return carry == 0;
}

/* a = a / 10; returns the remainder. */
static unsigned u256_div10(uint8_t a[32])
{
	unsigned rem = 0;

	for (int i = 0; i < 32; i++) {
		unsigned v = rem << 8 | a[i];
		a[i] = (uint8_t)(v / 10);
		rem = v % 10;
	}
	return rem;
}

static bool u256_is_zero(const uint8_t a[32])
{
	for (int i = 0; i < 32; i++)
		if (a[i])
			return false;
	return true;
}

int content_amount_parse(const char *s, unsigned decimals, uint8_t out[32])
{
	uint8_t v[32] = { 0 };
	unsigned frac = 0, digits = 0;
	bool point = false;

	if (decimals > 77)
		return ERR_RANGE;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (point || digits == 0)
				return ERR_FORMAT;
			point = true;
			continue;
		}
		if (*p < '0' || *p > '9')
			return ERR_FORMAT;
		if (point && ++frac > decimals)
			return ERR_FORMAT;
		digits++;
		if (!u256_mul10_add(v, (unsigned)(*p - '0')))
			return ERR_RANGE;
	}
	if (digits == 0 || (point && frac == 0))
		return ERR_FORMAT;
	for (; frac < decimals; frac++)
		if (!u256_mul10_add(v, 0))
			return ERR_RANGE;
	memcpy(out, v, 32);
	return 0;
}

void content_amount_format(const uint8_t amount[32], unsigned decimals,
			   char out[CONTENT_AMOUNT_TEXT_BYTES])
{
	char rev[CONTENT_AMOUNT_TEXT_BYTES];
	uint8_t v[32];
	size_t n = 0, o = 0;

	if (decimals > 77)
		decimals = 77;
	memcpy(v, amount, 32);
	/* Digits least significant first; at least decimals + 1 of them. */
	do {
		rev[n++] = (char)('0' + u256_div10(v));
	} while (!u256_is_zero(v) || n <= decimals);
	for (size_t i = n; i-- > decimals;)
		out[o++] = rev[i];
	if (decimals) {
		size_t last = 0;	/* drop trailing zeros of the fraction */
		while (last < decimals && rev[last] == '0')
			last++;
		if (last < decimals) {
			out[o++] = '.';
			for (size_t i = decimals; i-- > last;)
				out[o++] = rev[i];
		}
	}
	out[o] = '\0';
}
