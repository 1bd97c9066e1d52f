/*
 * libFuzzer target: the market's orders from the console's JSON
 * (market_buy_order_parse, market_resale_order_parse; apps/market/
 * order.h).  The input is one JSON object, given to both.  Properties:
 * an order is accepted only with a content hash that is the 64 hex
 * digits of the body; a refused one says why and leaves the order
 * zeroed; an accepted listing has a price, and a payout's address is
 * there exactly when "to" is.
 */
#include "config.h"
#include "apps/market/order.h"
#include "crypto/base/encode.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

/* the body's content hash, as the parser should have read it */
static void check_hash(json_t *o, const uint8_t got[32])
{
	json_t *v = json_object_get(o, "content_hash");
	uint8_t want[32];
	size_t n = 0;

	if (!v)
		v = json_object_get(o, "contentHash");
	if (!json_is_string(v) || json_string_length(v) != 64 ||
	    hex_decode(want, 32, &n, json_string_value(v), 64) != 0 ||
	    n != 32 || memcmp(want, got, 32) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *o = json_loadb((const char *)data, size, 0, NULL);
	struct market_buy_order b;
	struct market_resale_order r;
	const char *why;

	if (!o)
		return 0;
	why = market_buy_order_parse(o, &b);
	if (why && (!*why || !all_zero(&b, sizeof(b))))
		abort();
	if (!why)
		check_hash(o, b.content_hash);
	why = market_resale_order_parse(o, &r);
	if (why && (!*why || !all_zero(&r, sizeof(r))))
		abort();
	if (!why) {
		json_t *to = json_object_get(o, "to");

		check_hash(o, r.content_hash);
		if (r.has_to != (to && !json_is_null(to)))
			abort();
		if (r.action == MARKET_RESALE_LIST &&
		    u256_is_zero(&r.price) && !json_is_string(
			    json_object_get(o, "price")))
			abort();
	}
	json_decref(o);
	return 0;
}
