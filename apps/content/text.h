/*
 * Checks for the text fields of manifests, cards and records, and token
 * amounts (uint256, big-endian) as decimal text.  Every check is strict so
 * that a field has exactly one accepted spelling (canonical encodings).
 */
#ifndef APPS_CONTENT_TEXT_H
#define APPS_CONTENT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the longest uint256 in decimal with a point, plus NUL. */
#define CONTENT_AMOUNT_TEXT_BYTES 82

/*
 * True when s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF) without control characters (C0, DEL, C1).
 * With multiline, '\n' and '\t' are allowed.
 */
bool content_text_is_valid(const uint8_t *s, size_t n, bool multiline);
/* True for a lowercase MIME type "type/subtype" (RFC 6838 §4.2
 * restricted-name characters, each part 1..63 bytes, no parameters). */
bool content_mime_is_valid(const char *s, size_t n);
/* True for a did:ethr identifier: "did:ethr:" [network ":"] "0x" 40 hex,
 * network being 1..32 of [a-z0-9-] or "0x" hex. */
bool content_did_is_valid(const char *s, size_t n);
/* True for a tag: 1..n bytes of valid text with no space, ',' or '#',
 * and no ASCII capital letters (tags compare bytewise). */
bool content_tag_is_valid(const char *s, size_t n);

/*
 * Parse a non-negative decimal amount ("12", "1.5") with at most decimals
 * fraction digits into base units: out = value * 10^decimals as a 256-bit
 * big-endian integer.  Errors: ERR_FORMAT (not a plain decimal, too many
 * fraction digits), ERR_RANGE (does not fit in 256 bits).
 */
int content_amount_parse(const char *s, unsigned decimals, uint8_t out[32]);
/* Format base units with decimals fraction digits (trailing zeros and a
 * bare point dropped) into out (CONTENT_AMOUNT_TEXT_BYTES). */
void content_amount_format(const uint8_t amount[32], unsigned decimals,
			   char out[CONTENT_AMOUNT_TEXT_BYTES]);

#endif /* APPS_CONTENT_TEXT_H */
