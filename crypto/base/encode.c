/*
 * Text encodings (crypto/base/encode.h): lowercase hex, I2P Base64 and
 * Base32.
 *
 * I2P Base64 is RFC 4648 §4 Base64 with '-' in place of '+' and '~' in place
 * of '/', always '='-padded (PROTOCOLS.md 0.1; i2pd rejects a length that is
 * not a multiple of 4).  Base32 is RFC 4648 §6 with the lowercase alphabet
 * and no padding, as in .b32.i2p names.  Decoders are strict: a character
 * outside the alphabet, misplaced padding or non-zero leftover bits is
 * ERR_FORMAT, so one byte string has exactly one accepted text form.
 * Lookups are table-driven; timing may depend on the data (these encode
 * public values).
 */
#include "config.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"

#include <string.h>

static const char hex_digits[] = "0123456789abcdef";
static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~";
static const char b32_alpha[] = "abcdefghijklmnopqrstuvwxyz234567";

int hex_encode(char *out, size_t outlen, const void *in, size_t n)
{
	const uint8_t *p = in;

	if (n > (SIZE_MAX - 1) / 2 || outlen < HEX_ENC_LEN(n))
		return ERR_TOO_BIG;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digits[p[i] >> 4];
		out[2 * i + 1] = hex_digits[p[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *s,
	       size_t len)
{
	if (len % 2)
		return ERR_FORMAT;
	for (size_t i = 0; i < len; i++)
		if (hex_val(s[i]) < 0)
			return ERR_FORMAT;
	if (len / 2 > outmax)
		return ERR_TOO_BIG;
	for (size_t i = 0; i < len / 2; i++)
		out[i] = (uint8_t)(hex_val(s[2 * i]) << 4 |
				   hex_val(s[2 * i + 1]));
	*outlen = len / 2;
	return 0;
}

int b64_encode(char *out, size_t outlen, const void *in, size_t n)
{
	const uint8_t *p = in;
	size_t o = 0;

	if (n > (SIZE_MAX - 1) / 4 * 3 - 2 || outlen < B64_ENC_LEN(n))
		return ERR_TOO_BIG;
	for (size_t i = 0; i < n; i += 3) {
		size_t rem = n - i;
		uint32_t v = (uint32_t)p[i] << 16;

		if (rem > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (rem > 2)
			v |= p[i + 2];
		out[o++] = b64_alpha[v >> 18 & 63];
		out[o++] = b64_alpha[v >> 12 & 63];
		out[o++] = rem > 1 ? b64_alpha[v >> 6 & 63] : '=';
		out[o++] = rem > 2 ? b64_alpha[v & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}

/* Index of c in alpha (of size n), or -1.  alpha never contains '\0'. */
static int alpha_index(const char *alpha, size_t n, char c)
{
	const char *q = c ? memchr(alpha, c, n) : NULL;

	return q ? (int)(q - alpha) : -1;
}

int b64_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *s,
	       size_t len)
{
	size_t pad = 0, n;
	uint32_t v = 0;
	unsigned bits = 0;

	if (len % 4)
		return ERR_FORMAT;
	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++)
		if (alpha_index(b64_alpha, 64, s[i]) < 0)
			return ERR_FORMAT;	/* includes a stray '=' */
	n = (len - pad) * 6 / 8;
	if (n > outmax)
		return ERR_TOO_BIG;
	/* Leftover bits of the last group must be zero (canonical form). */
	if (pad && (alpha_index(b64_alpha, 64, s[len - pad - 1]) &
		    (pad == 1 ? 0x03 : 0x0f)))
		return ERR_FORMAT;
	for (size_t i = 0, o = 0; i < len - pad; i++) {
		v = v << 6 | (uint32_t)alpha_index(b64_alpha, 64, s[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(v >> bits);
		}
	}
	*outlen = n;
	return 0;
}

int b32_encode(char *out, size_t outlen, const void *in, size_t n)
{
	const uint8_t *p = in;
	uint32_t v = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (n > (SIZE_MAX - 5) / 8 || outlen < B32_ENC_LEN(n))
		return ERR_TOO_BIG;
	for (size_t i = 0; i < n; i++) {
		v = (v << 8 | p[i]) & 0xfff;	/* at most 12 live bits */
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alpha[v >> bits & 31];
		}
	}
	if (bits)
		out[o++] = b32_alpha[v << (5 - bits) & 31];
	out[o] = '\0';
	return 0;
}

int b32_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *s,
	       size_t len)
{
	size_t n = len * 5 / 8;
	unsigned rbits = (unsigned)(len * 5 % 8);
	uint32_t v = 0;
	unsigned bits = 0;

	/* Unpadded lengths mod 8 can only be 0, 2, 4, 5 or 7 characters. */
	if (rbits >= 5)
		return ERR_FORMAT;
	for (size_t i = 0; i < len; i++)
		if (alpha_index(b32_alpha, 32, s[i]) < 0)
			return ERR_FORMAT;
	if (n > outmax)
		return ERR_TOO_BIG;
	if (rbits && (alpha_index(b32_alpha, 32, s[len - 1]) &
		      ((1u << rbits) - 1)))
		return ERR_FORMAT;
	for (size_t i = 0, o = 0; i < len; i++) {
		v = (v << 5 | (uint32_t)alpha_index(b32_alpha, 32, s[i])) &
		    0x1fff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(v >> bits);
		}
	}
	*outlen = n;
	return 0;
}

int dec_decode(uint64_t *out, uint64_t max, const char *s, size_t len)
{
	uint64_t v = 0;

	if (!len)
		return ERR_FORMAT;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return ERR_FORMAT;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		/* v * 10 + d <= max  <=>  v <= (max - d) / 10 */
		if (d > max || v > (max - d) / 10)
			return ERR_RANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}
