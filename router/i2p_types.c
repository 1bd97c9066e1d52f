/*
 * I2P Date and String (common-structures spec, "Common type
 * specification").  The building blocks of Mapping, RouterAddress and
 * RouterInfo (router/mapping.c, router/router_address.c,
 * router/router_info.c).
 */
#include "config.h"
#include "router/i2p_types.h"
#include "crypto/base/err.h"

int i2p_date_decode(struct breader *r, uint64_t *ms)
{
	/* "Date: 8 byte Integer", milliseconds since the epoch. */
	uint64_t v = br_be64(r);

	if (r->failed)
		return ERR_TRUNCATED;
	*ms = v;
	return 0;
}

void i2p_date_encode(struct bbuf *b, uint64_t ms)
{
	bbuf_be64(b, ms);
}

int i2p_string_decode(struct breader *r, struct i2p_string *out)
{
	/* "the first byte is the number of bytes ... the remaining 0-255
	 * bytes are the non-null terminated UTF-8 encoded character array" */
	size_t len = br_u8(r);
	const uint8_t *p = br_take(r, len);

	if (r->failed)
		return ERR_TRUNCATED;
	out->p = p;
	out->len = len;
	return 0;
}

int i2p_string_encode(struct bbuf *b, const void *s, size_t len)
{
	if (len > I2P_STRING_MAX_BYTES)
		return ERR_TOO_BIG;
	bbuf_u8(b, (uint8_t)len);
	bbuf_put(b, s, len);
	return 0;
}
