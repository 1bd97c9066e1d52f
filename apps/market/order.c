/*
 * The console's market orders from JSON (apps/market/order.h).
 */
#include "config.h"
#include "apps/market/order.h"
#include "chain/secp.h"
#include "chain/u256.h"
#include "crypto/base/encode.h"
#include "router/b33.h"

#include <jansson.h>
#include <string.h>

/* A string member under either name (NULL: neither). */
static const char *member_str(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (!v)
		v = json_object_get(o, b);
	return json_string_value(v);
}

static bool content_hash(json_t *o, uint8_t out[32])
{
	const char *h = member_str(o, "content_hash", "contentHash");
	size_t got = 0;

	return h && strlen(h) == 64 && hex_decode(out, 32, &got, h, 64) == 0 &&
	       got == 32;
}

const char *market_buy_order_parse(json_t *o, struct market_buy_order *out)
{
	const char *a = member_str(o, "agent", "keyAgent");
	json_t *idx = json_object_get(o, "index");
	const char *why = NULL;

	memset(out, 0, sizeof(*out));
	if (!content_hash(o, out->content_hash))
		why = "content_hash: 64 hex digits needed";
	else if (!a || !b32_hash_parse(a, strlen(a), out->agent))
		why = "agent: the key agent's b32 address (or 64 hex digits) "
		      "needed";
	if (!why && !idx && json_is_object(json_object_get(o, "licence")))
		idx = json_object_get(json_object_get(o, "licence"), "index");
	if (why || !idx || json_is_null(idx))
		;
	else if (json_is_integer(idx) && json_integer_value(idx) >= 0)
		out->index = (uint64_t)json_integer_value(idx);
	else if (json_is_string(idx))
		why = dec_decode(&out->index, UINT64_MAX,
				 json_string_value(idx),
				 json_string_length(idx)) == 0 ? NULL :
		      "index: a decimal number";
	else
		why = "index: a number (0: the registry is asked)";
	if (why)
		memset(out, 0, sizeof(*out));
	return why;
}

static const char *resale_fields(json_t *o, struct market_resale_order *out)
{
	const char *a = json_string_value(json_object_get(o, "action"));
	json_t *to = json_object_get(o, "to");
	json_t *price = json_object_get(o, "price");

	if (!content_hash(o, out->content_hash))
		return "content_hash: 64 hex digits needed";
	if (a && !strcmp(a, "list"))
		out->action = MARKET_RESALE_LIST;
	else if (a && !strcmp(a, "cancel"))
		out->action = MARKET_RESALE_CANCEL;
	else if (a && !strcmp(a, "payout"))
		out->action = MARKET_RESALE_PAYOUT;
	else
		return "action: \"list\", \"cancel\" or \"payout\"";
	if (out->action == MARKET_RESALE_LIST) {
		if (json_is_integer(price) && json_integer_value(price) > 0)
			out->price = u256_from_u64(
				(uint64_t)json_integer_value(price));
		else if (!json_is_string(price) ||
			 u256_parse_str(&out->price,
					json_string_value(price)) != 0)
			return "price: token base units (a number or a "
			       "decimal string)";
	}
	if (to && !json_is_null(to)) {
		if (!json_is_string(to) ||
		    eth_addr_parse(out->to, json_string_value(to)) != 0)
			return "to: 0x and 40 hex digits";
		out->has_to = true;
	}
	return NULL;
}

const char *market_resale_order_parse(json_t *o,
				      struct market_resale_order *out)
{
	const char *why;

	memset(out, 0, sizeof(*out));
	if ((why = resale_fields(o, out)))
		memset(out, 0, sizeof(*out));
	return why;
}
