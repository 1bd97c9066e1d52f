/*
 * uint256 arithmetic for chain/ (see u256.h).  Everything is constant-size
 * and overflow-checked; nothing here is secret, so no constant-time care.
 */
#include "config.h"
#include "chain/u256.h"
#include "crypto/base/err.h"

#include <ctype.h>
#include <string.h>

bool u256_is_zero(const struct u256 *a)
{
	return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

bool u256_fits_u64(const struct u256 *a)
{
	return (a->w[1] | a->w[2] | a->w[3]) == 0;
}

int u256_cmp(const struct u256 *a, const struct u256 *b)
{
	for (int i = 3; i >= 0; i--) {
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	}
	return 0;
}

int u256_add(struct u256 *out, const struct u256 *a, const struct u256 *b)
{
	struct u256 r;
	unsigned carry = 0;

	for (int i = 0; i < 4; i++) {
		uint64_t s = a->w[i] + b->w[i];
		unsigned c1 = s < a->w[i];
		uint64_t s2 = s + carry;
		unsigned c2 = s2 < s;
		r.w[i] = s2;
		carry = c1 | c2;
	}
	if (carry)
		return ERR_RANGE;
	*out = r;
	return 0;
}

int u256_sub(struct u256 *out, const struct u256 *a, const struct u256 *b)
{
	struct u256 r;
	unsigned borrow = 0;

	if (u256_cmp(a, b) < 0)
		return ERR_RANGE;
	for (int i = 0; i < 4; i++) {
		uint64_t d = a->w[i] - b->w[i];
		unsigned b1 = a->w[i] < b->w[i];
		uint64_t d2 = d - borrow;
		unsigned b2 = d < borrow;
		r.w[i] = d2;
		borrow = b1 | b2;
	}
	*out = r;
	return 0;
}

int u256_mul_u64(struct u256 *out, const struct u256 *a, uint64_t m)
{
	struct u256 r;
	unsigned __int128 carry = 0;

	for (int i = 0; i < 4; i++) {
		unsigned __int128 p = (unsigned __int128)a->w[i] * m + carry;
		r.w[i] = (uint64_t)p;
		carry = p >> 64;
	}
	if (carry)
		return ERR_RANGE;
	*out = r;
	return 0;
}

int u256_div_u64(struct u256 *out, uint64_t *rem, const struct u256 *a,
		 uint64_t d)
{
	struct u256 q;
	unsigned __int128 r = 0;

	if (d == 0)
		return ERR_ARG;
	for (int i = 3; i >= 0; i--) {
		unsigned __int128 cur = r << 64 | a->w[i];
		q.w[i] = (uint64_t)(cur / d);
		r = cur % d;
	}
	*out = q;
	if (rem)
		*rem = (uint64_t)r;
	return 0;
}

void u256_to_be(const struct u256 *a, uint8_t out[32])
{
	for (int i = 0; i < 4; i++) {
		uint64_t v = a->w[3 - i];
		for (int j = 0; j < 8; j++)
			out[8 * i + j] = (uint8_t)(v >> (56 - 8 * j));
	}
}

int u256_from_be(struct u256 *out, const uint8_t *in, size_t len)
{
	uint8_t buf[32] = { 0 };
	struct u256 r;

	if (len > 32)
		return ERR_TOO_BIG;
	if (len)
		memcpy(buf + 32 - len, in, len);
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int j = 0; j < 8; j++)
			v = v << 8 | buf[8 * i + j];
		r.w[3 - i] = v;
	}
	*out = r;
	return 0;
}

size_t u256_to_min_be(const struct u256 *a, uint8_t out[32])
{
	uint8_t buf[32];
	size_t skip = 0;

	u256_to_be(a, buf);
	while (skip < 32 && buf[skip] == 0)
		skip++;
	memcpy(out, buf + skip, 32 - skip);
	return 32 - skip;
}

static const char hex_lower[] = "0123456789abcdef";

/* Count of leading hex digits among the len characters of s. */
static size_t hexspan(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] && strchr(hex_lower, tolower((unsigned char)s[i])))
		i++;
	return i;
}

/* Value of a hex digit already known to be one (strspn checked it). */
static uint64_t nibble(char c)
{
	return (uint64_t)(strchr(hex_lower, tolower((unsigned char)c)) - hex_lower);
}

int u256_parse(struct u256 *out, const char *s, size_t len)
{
	struct u256 r = u256_from_u64(0);
	int e;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
		if (len == 0 || hexspan(s, len) != len)
			return ERR_FORMAT;
		while (len > 1 && *s == '0') {	/* leading zeros are harmless */
			s++;
			len--;
		}
		if (len > 64)
			return ERR_RANGE;
		for (size_t i = 0; i < len; i++) {
			for (int k = 3; k > 0; k--)
				r.w[k] = r.w[k] << 4 | r.w[k - 1] >> 60;
			r.w[0] = r.w[0] << 4 | nibble(s[i]);
		}
		*out = r;
		return 0;
	}
	if (len == 0)
		return ERR_FORMAT;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return ERR_FORMAT;
	for (size_t i = 0; i < len; i++) {
		struct u256 d = u256_from_u64((uint64_t)(s[i] - '0'));
		if ((e = u256_mul_u64(&r, &r, 10)) != 0 ||
		    (e = u256_add(&r, &r, &d)) != 0)
			return e;
	}
	*out = r;
	return 0;
}

int u256_parse_str(struct u256 *out, const char *s)
{
	return u256_parse(out, s, strlen(s));
}

const char *u256_format_dec(const struct u256 *a, char *out, size_t outlen)
{
	char tmp[U256_DEC_BYTES];
	size_t n = 0;
	struct u256 v = *a;
	uint64_t rem;

	if (outlen < U256_DEC_BYTES) {
		if (outlen)
			out[0] = '\0';
		return out;
	}
	do {
		(void)u256_div_u64(&v, &rem, &v, 10);
		tmp[n++] = (char)('0' + rem);
	} while (!u256_is_zero(&v));
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return out;
}

const char *u256_format_hex(const struct u256 *a, char *out, size_t outlen)
{
	const char *digits = hex_lower;
	uint8_t be[32];
	size_t n = 2, i = 0;

	if (outlen < U256_HEX_BYTES) {
		if (outlen)
			out[0] = '\0';
		return out;
	}
	u256_to_be(a, be);
	out[0] = '0';
	out[1] = 'x';
	while (i < 64 && ((be[i / 2] >> (i % 2 ? 0 : 4)) & 0xf) == 0)
		i++;
	if (i == 64)
		out[n++] = '0';
	for (; i < 64; i++)
		out[n++] = digits[(be[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	out[n] = '\0';
	return out;
}
