/*
 * libFuzzer target: a signed purchase as a relayer gets it
 * (apps/market/relayer.h).  A decoded purchase must encode back to the
 * same bytes; the signature check must not crash on any of them.  The
 * same bytes as a voucher batch to redeem: decoded, it encodes back to
 * them.  The same again as a batch with its fee, a resale listing,
 * cancel and payout.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/market/relayer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct market_purchase mp;
	uint8_t buf[MARKET_PURCHASE_WIRE_BYTES];
	static const uint8_t reg[20] = { 9 };

	if (market_purchase_decode(data, size, &mp) == 0) {
		market_purchase_encode(&mp, buf);
		if (size != sizeof(buf) || memcmp(buf, data, size) != 0)
			abort();
		(void)market_purchase_sig_ok(&mp, 31337, reg);
	}
	{
		static struct eip712_voucher v[MARKET_REDEEM_MAX];
		static uint8_t sigs[MARKET_REDEEM_MAX][SECP_SIG_BYTES];
		struct bbuf b = BBUF_INIT;
		size_t n;

		if (market_redeem_decode(data, size, v, sigs, &n) == 0) {
			if (market_redeem_encode(v, (const uint8_t (*)[
					SECP_SIG_BYTES])sigs, n, &b) != 0 ||
			    b.len != size || memcmp(b.data, data, size) != 0)
				abort();
		}
		bbuf_free(&b);
	}
	{
		static struct eip712_voucher v[MARKET_REDEEM_MAX];
		static uint8_t sigs[MARKET_REDEEM_MAX][SECP_SIG_BYTES];
		struct eip712_redeem_fee f;
		uint8_t fs[SECP_SIG_BYTES];
		struct bbuf b = BBUF_INIT;
		size_t n;

		if (market_redeem_fee_decode(data, size, v, sigs, &n, &f,
					     fs) == 0) {
			if (market_redeem_fee_encode(v, (const uint8_t (*)[
					SECP_SIG_BYTES])sigs, n, &f, fs,
					&b) != 0 ||
			    b.len != size || memcmp(b.data, data, size) != 0)
				abort();
		}
		bbuf_free(&b);
	}
	{
		struct market_listing ml;
		struct market_cancel mc;
		struct market_payout po;
		uint8_t lb[MARKET_LISTING_WIRE_BYTES];
		uint8_t cb[MARKET_CANCEL_WIRE_BYTES];
		uint8_t pb[MARKET_PAYOUT_WIRE_BYTES];

		if (market_listing_decode(data, size, &ml) == 0) {
			market_listing_encode(&ml, lb);
			if (size != sizeof(lb) || memcmp(lb, data, size))
				abort();
		}
		if (market_cancel_decode(data, size, &mc) == 0) {
			market_cancel_encode(&mc, cb);
			if (size != sizeof(cb) || memcmp(cb, data, size))
				abort();
		}
		if (market_payout_decode(data, size, &po) == 0) {
			market_payout_encode(&po, pb);
			if (size != sizeof(pb) || memcmp(pb, data, size))
				abort();
		}
	}
	return 0;
}
