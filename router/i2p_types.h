/*
 * I2P's primitive wire types (common-structures spec, "Common type
 * specification"): Date (8-byte big-endian milliseconds since the epoch,
 * 0 = undefined) and String (1 length byte, then 0-255 bytes).
 *
 * Decoders read through the breader (STYLE.md §5): a short input poisons the
 * reader and returns ERR_TRUNCATED.  They do not log; the caller knows the
 * context and logs once.
 */
#ifndef ROUTER_I2P_TYPES_H
#define ROUTER_I2P_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

#define I2P_DATE_BYTES 8
/* "Length limit is 255 bytes (not characters). Length may be 0." */
#define I2P_STRING_MAX_BYTES 255

/* A String as received: borrowed from the reader's buffer, not
 * NUL-terminated, valid as long as that buffer. */
struct i2p_string {
	const uint8_t *p;
	size_t len;
};

/* Read a Date into *ms.  ERR_TRUNCATED on short input (*ms untouched). */
int i2p_date_decode(struct breader *r, uint64_t *ms);
void i2p_date_encode(struct bbuf *b, uint64_t ms);

/* Read a String (borrowed, see above).  ERR_TRUNCATED on short input. */
int i2p_string_decode(struct breader *r, struct i2p_string *out);
/* Append s (len bytes) as a String.  ERR_TOO_BIG when len > 255 (nothing
 * is written). */
int i2p_string_encode(struct bbuf *b, const void *s, size_t len);

#endif /* ROUTER_I2P_TYPES_H */
