/*
 * RouterInfo options of relays that want pay (router/ri_pay.h).  Mapping
 * strings are at most 255 bytes (common-structures "String"); ours are 88,
 * 44 and ≤ 29, so one RouterInfo grows by about 200 bytes, well within
 * ROUTER_INFO_MAX_BYTES.
 */
#include "config.h"
#include "router/ri_pay.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "router/mapping.h"
#include "router/router_info.h"

#include <stdbool.h>
#include <string.h>

/* 2^96 - 1 */
static const char price_max[] = "79228162514264337593543950335";

bool ri_pay_price_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RI_PAY_PRICE_MAX_DIGITS || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	/* same length: digit strings compare as numbers */
	return n < RI_PAY_PRICE_MAX_DIGITS || strcmp(s, price_max) <= 0;
}

int ri_pay_publish(struct router_info *ri, const struct ri_pay *p)
{
	char meta[B64_ENC_LEN(RI_PAY_META_BYTES)];
	char commit[B64_ENC_LEN(RI_PAY_COMMIT_BYTES)];
	int r;

	if (!ri_pay_price_is_valid(p->price))
		return ERR_FORMAT;
	if ((r = b64_encode(meta, sizeof(meta), p->meta,
			    RI_PAY_META_BYTES)) != 0 ||
	    (r = b64_encode(commit, sizeof(commit), p->commit,
			    RI_PAY_COMMIT_BYTES)) != 0 ||
	    (r = router_info_set_option(ri, RI_PAY_OPT_META, meta)) != 0 ||
	    (r = router_info_set_option(ri, RI_PAY_OPT_COMMIT, commit)) != 0)
		return r;
	return router_info_set_option(ri, RI_PAY_OPT_PRICE, p->price);
}

/* Decode base64 value s into exactly n bytes. */
static bool b64_exact(const char *s, uint8_t *out, size_t n)
{
	uint8_t buf[RI_PAY_META_BYTES];
	size_t got;

	if (!s || n > sizeof(buf) ||
	    b64_decode(buf, sizeof(buf), &got, s, strlen(s)) != 0 || got != n)
		return false;
	memcpy(out, buf, n);
	return true;
}

int ri_pay_parse(const struct mapping *opts, struct ri_pay *out)
{
	const char *meta = mapping_get(opts, RI_PAY_OPT_META);
	const char *commit = mapping_get(opts, RI_PAY_OPT_COMMIT);
	const char *price = mapping_get(opts, RI_PAY_OPT_PRICE);
	struct ri_pay p;

	if (!meta && !commit && !price)
		return ERR_NOT_FOUND;
	if (!b64_exact(meta, p.meta, RI_PAY_META_BYTES) ||
	    !b64_exact(commit, p.commit, RI_PAY_COMMIT_BYTES) ||
	    !price || !ri_pay_price_is_valid(price))
		return ERR_FORMAT;
	memcpy(p.price, price, strlen(price) + 1);
	*out = p;
	return 0;
}
