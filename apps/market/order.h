/*
 * The orders a user gives the market through the console's API: a
 * purchase (POST /api/market/buy) and a resale step (POST
 * /api/market/resale), each a JSON object from the request body.  Both
 * parsers take untrusted input and refuse it with a reason naming the
 * field, never a partial order.
 */
#ifndef APPS_MARKET_ORDER_H
#define APPS_MARKET_ORDER_H

#include "apps/market/purchase.h"
#include "apps/market/resale.h"

struct json_t;

/*
 * A purchase: the card's own JSON (contentHash, licence.index, keyAgent)
 * or content_hash, index, agent.  The agent is a b32 address or 64 hex
 * digits; the index a non-negative integer or a string of decimal digits
 * (absent, null or 0: the registry is asked).  NULL when *out holds the
 * order, else why not (static text; *out zeroed).
 */
const char *market_buy_order_parse(struct json_t *o,
				   struct market_buy_order *out);

/*
 * A resale step: content_hash (or contentHash), action ("list", "cancel"
 * or "payout"), price for a listing (token base units, a positive
 * integer or a decimal string; its range is the reseller's to check),
 * to for a payout (optional: 0x and 40 hex digits).  As above.
 */
const char *market_resale_order_parse(struct json_t *o,
				      struct market_resale_order *out);

#endif /* APPS_MARKET_ORDER_H */
