/*
 * apps/market orders from the console's JSON (market_buy_order_parse,
 * market_resale_order_parse): both spellings of the card's fields, the
 * index as a number or decimal digits only, each refusal naming its
 * field with the order left zeroed.
 */
#include "config.h"

#include <jansson.h>
#include <string.h>

#include "apps/market/order.h"
#include "tests/unit/tharness.h"

#define HASH_HEX "00112233445566778899aabbccddeeff" \
		 "00112233445566778899aabbccddeeff"
#define AGENT_B32 "aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypq.b32.i2p"

static const char *buy(const char *text, struct market_buy_order *o)
{
	json_t *j = json_loads(text, 0, NULL);
	const char *why = j ? market_buy_order_parse(j, o) : "bad test JSON";

	json_decref(j);
	return why;
}

static const char *resale(const char *text, struct market_resale_order *o)
{
	json_t *j = json_loads(text, 0, NULL);
	const char *why = j ? market_resale_order_parse(j, o) :
			      "bad test JSON";

	json_decref(j);
	return why;
}

static bool zeroed(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* "starts with" for the refusals: each names its field first */
static bool names(const char *why, const char *field)
{
	return why && !strncmp(why, field, strlen(field));
}

static void test_buy(struct tctx *t)
{
	struct market_buy_order o;
	uint8_t agent[32];

	for (unsigned i = 0; i < 32; i++)
		agent[i] = (uint8_t)i;
	/* the card's own spelling, the index inside licence */
	T_TRUE(t, buy("{\"contentHash\":\"" HASH_HEX "\",\"keyAgent\":\""
		      AGENT_B32 "\",\"licence\":{\"index\":7}}", &o) == NULL);
	T_EQ(t, o.content_hash[1], 0x11);
	T_EQ(t, o.content_hash[31], 0xff);
	T_MEMEQ(t, o.agent, agent, 32);
	T_EQ(t, o.index, 7);
	/* the API's, the agent in hex, the index as digits */
	T_TRUE(t, buy("{\"content_hash\":\"" HASH_HEX "\",\"agent\":\""
		      "000102030405060708090a0b0c0d0e0f"
		      "101112131415161718191a1b1c1d1e1f\","
		      "\"index\":\"18446744073709551615\"}", &o) == NULL);
	T_MEMEQ(t, o.agent, agent, 32);
	T_TRUE(t, o.index == UINT64_MAX);
	/* no index, or null: 0 (the registry is asked) */
	T_TRUE(t, buy("{\"content_hash\":\"" HASH_HEX "\",\"agent\":\""
		      AGENT_B32 "\",\"index\":null}", &o) == NULL);
	T_EQ(t, o.index, 0);
	/* an upper-case suffix is still the address */
	T_TRUE(t, buy("{\"content_hash\":\"" HASH_HEX "\",\"agent\":\""
		      "aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypq"
		      ".B32.I2P\"}", &o) == NULL);

	T_TRUE(t, names(buy("{\"agent\":\"" AGENT_B32 "\"}", &o),
			"content_hash:"));
	T_TRUE(t, names(buy("{\"content_hash\":\"" HASH_HEX "0\",\"agent\":\""
			    AGENT_B32 "\"}", &o), "content_hash:"));
	T_TRUE(t, names(buy("{\"content_hash\":\"" HASH_HEX "\"}", &o),
			"agent:"));
	/* a b33 address or a short one is not an agent's */
	T_TRUE(t, names(buy("{\"content_hash\":\"" HASH_HEX "\",\"agent\":\""
			    "aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5"
			    "dypqaaaa.b32.i2p\"}", &o), "agent:"));
	/* strtoull would take each of these */
	static const char *const bad_index[] = {
		"\"-1\"", "\" 5\"", "\"+5\"", "\"5 \"", "\"\"", "\"0x10\"",
		"\"18446744073709551616\"", "-3", "1.5", "true", "[]"
	};
	for (size_t i = 0; i < sizeof(bad_index) / sizeof(*bad_index); i++) {
		char text[512];

		snprintf(text, sizeof(text), "{\"content_hash\":\"" HASH_HEX
			 "\",\"agent\":\"" AGENT_B32 "\",\"index\":%s}",
			 bad_index[i]);
		memset(&o, 0x55, sizeof(o));
		T_TRUE(t, names(buy(text, &o), "index:"));
		T_TRUE(t, zeroed(&o, sizeof(o)));
	}
}

static void test_resale(struct tctx *t)
{
	struct market_resale_order o;

	T_TRUE(t, resale("{\"content_hash\":\"" HASH_HEX "\",\"action\":"
			 "\"list\",\"price\":\"1000000000000000000000\"}",
			 &o) == NULL);
	T_EQ(t, o.action, MARKET_RESALE_LIST);
	T_FALSE(t, u256_fits_u64(&o.price));
	T_FALSE(t, o.has_to);
	T_TRUE(t, resale("{\"contentHash\":\"" HASH_HEX "\",\"action\":"
			 "\"list\",\"price\":250}", &o) == NULL);
	T_TRUE(t, u256_cmp(&o.price, &(struct u256){ 0 }) != 0);
	T_TRUE(t, resale("{\"content_hash\":\"" HASH_HEX "\",\"action\":"
			 "\"payout\",\"to\":\"0x00000000000000000000000000000"
			 "000000000ab\"}", &o) == NULL);
	T_EQ(t, o.action, MARKET_RESALE_PAYOUT);
	T_TRUE(t, o.has_to);
	T_EQ(t, o.to[19], 0xab);
	T_TRUE(t, resale("{\"content_hash\":\"" HASH_HEX "\",\"action\":"
			 "\"cancel\",\"to\":null}", &o) == NULL);
	T_EQ(t, o.action, MARKET_RESALE_CANCEL);
	T_FALSE(t, o.has_to);

	memset(&o, 0x55, sizeof(o));
	T_TRUE(t, names(resale("{\"action\":\"cancel\"}", &o),
			"content_hash:"));
	T_TRUE(t, zeroed(&o, sizeof(o)));
	T_TRUE(t, names(resale("{\"content_hash\":\"" HASH_HEX "\","
			       "\"action\":\"sell\"}", &o), "action:"));
	T_TRUE(t, names(resale("{\"content_hash\":\"" HASH_HEX "\","
			       "\"action\":\"list\"}", &o), "price:"));
	T_TRUE(t, names(resale("{\"content_hash\":\"" HASH_HEX "\","
			       "\"action\":\"list\",\"price\":0}", &o),
			"price:"));
	T_TRUE(t, names(resale("{\"content_hash\":\"" HASH_HEX "\","
			       "\"action\":\"list\",\"price\":\"ten\"}", &o),
			"price:"));
	memset(&o, 0x55, sizeof(o));
	T_TRUE(t, names(resale("{\"content_hash\":\"" HASH_HEX "\","
			       "\"action\":\"payout\",\"to\":\"0x12\"}", &o),
			"to:"));
	T_TRUE(t, zeroed(&o, sizeof(o)));
	/* not a string: refused, no longer ignored */
	T_TRUE(t, names(resale("{\"content_hash\":\"" HASH_HEX "\","
			       "\"action\":\"payout\",\"to\":12}", &o),
			"to:"));
}

const struct test_case market_order_tests[] = {
	{ "buy", test_buy, 0 },
	{ "resale", test_resale, 0 },
	{ NULL, NULL, 0 }
};
