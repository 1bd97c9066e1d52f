/*
 * b33 addresses (router/b33.h).
 */
#include "config.h"
#include "router/b33.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "router/certificate.h"
#include "router/gzip.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* flags + two 2-byte types + the key */
#define B33_MAX_BYTES (5 + B33_PUBKEY_BYTES)
#define B33_KNOWN_FLAGS (B33_FLAG_TWO_BYTE_TYPES | B33_FLAG_SECRET | \
			 B33_FLAG_CLIENT_AUTH)

static bool blindable(uint16_t sig_type)
{
	return sig_type == CERT_SIG_EDDSA_SHA512_ED25519 ||
	       sig_type == CERT_SIG_REDDSA_SHA512_ED25519;
}

int b33_format(const struct b33_addr *a, char *out, size_t outlen)
{
	uint8_t d[3 + B33_PUBKEY_BYTES];
	char enc[B32_ENC_LEN(sizeof(d))];
	uint32_t crc;
	size_t n;

	if (!blindable(a->sig_type) ||
	    a->blinded_sig_type != CERT_SIG_REDDSA_SHA512_ED25519)
		return ERR_UNSUPPORTED;
	d[0] = a->flags & (B33_FLAG_SECRET | B33_FLAG_CLIENT_AUTH);
	d[1] = (uint8_t)a->sig_type;
	d[2] = (uint8_t)a->blinded_sig_type;
	memcpy(d + 3, a->pk, B33_PUBKEY_BYTES);
	crc = gzip_crc32(d + 3, sizeof(d) - 3);
	d[0] ^= (uint8_t)crc;
	d[1] ^= (uint8_t)(crc >> 8);
	d[2] ^= (uint8_t)(crc >> 16);
	if (b32_encode(enc, sizeof(enc), d, sizeof(d)) != 0)
		return ERR_INTERNAL;
	n = strlen(enc);
	if (n + sizeof(B33_SUFFIX) > outlen)
		return ERR_TOO_BIG;
	memcpy(out, enc, n);
	memcpy(out + n, B33_SUFFIX, sizeof(B33_SUFFIX));
	return 0;
}

int b33_parse(const char *s, size_t len, struct b33_addr *out)
{
	const size_t sl = sizeof(B33_SUFFIX) - 1;
	char lower[B33_MAX_CHARS];
	uint8_t d[B33_MAX_BYTES];
	struct b33_addr a;
	size_t n, off;
	uint32_t crc;

	if (len >= sl && strncasecmp(s + len - sl, B33_SUFFIX, sl) == 0)
		len -= sl;
	/* 35 bytes (one-byte types) encode to 56 characters, 37 to 60. */
	if (len < 56 || len > sizeof(lower))
		return ERR_FORMAT;
	for (size_t i = 0; i < len; i++)
		lower[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	if (b32_decode(d, sizeof(d), &n, lower, len) != 0)
		return ERR_FORMAT;
	crc = gzip_crc32(d + 3, n - 3);
	memset(&a, 0, sizeof(a));
	a.flags = d[0] ^ (uint8_t)crc;
	if (a.flags & ~B33_KNOWN_FLAGS)
		return ERR_FORMAT;
	if (a.flags & B33_FLAG_TWO_BYTE_TYPES) {
		a.sig_type = (uint16_t)((d[1] ^ (uint8_t)(crc >> 8)) << 8 |
					(d[2] ^ (uint8_t)(crc >> 16)));
		a.blinded_sig_type = (uint16_t)(d[3] << 8 | d[4]);
		off = 5;
	} else {
		a.sig_type = d[1] ^ (uint8_t)(crc >> 8);
		a.blinded_sig_type = d[2] ^ (uint8_t)(crc >> 16);
		off = 3;
	}
	if (!blindable(a.sig_type) ||
	    a.blinded_sig_type != CERT_SIG_REDDSA_SHA512_ED25519)
		return ERR_UNSUPPORTED;
	if (n - off != B33_PUBKEY_BYTES)
		return ERR_FORMAT;
	memcpy(a.pk, d + off, B33_PUBKEY_BYTES);
	a.flags &= (uint8_t)~B33_FLAG_TWO_BYTE_TYPES;
	*out = a;
	return 0;
}

bool b32_hash_parse(const char *s, size_t n, uint8_t hash[32])
{
	size_t got = 0;

	if (n == 64)
		return hex_decode(hash, 32, &got, s, 64) == 0 && got == 32;
	return n == 52 + strlen(B33_SUFFIX) &&
	       !strncasecmp(s + 52, B33_SUFFIX, strlen(B33_SUFFIX)) &&
	       b32_decode(hash, 32, &got, s, 52) == 0 && got == 32;
}
