/*
 * What a relay that wants pay publishes in its RouterInfo options
 * (docs/relaypay.md §2, CHAIN.md §4–5): its stealth meta-address, the
 * commitment H(r_epoch) of its current epoch and its price per GiB.
 *
 *   bits.pay.meta    base64 (I2P alphabet) of the 66-byte meta-address
 *   bits.pay.commit  base64 of the 32-byte commitment
 *   bits.pay.price   token base units per 2^30 bytes, decimal (≤ uint96)
 *
 * Keys nobody else defines: i2pd and Java I2P keep unknown options and
 * ignore them, so a RouterInfo with them still verifies and routes.  The
 * values are only checked for form here; the points of the meta-address
 * are checked by chain/stealth when a ticket is made.
 */
#ifndef ROUTER_RI_PAY_H
#define ROUTER_RI_PAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mapping;
struct router_info;

#define RI_PAY_OPT_META "bits.pay.meta"
#define RI_PAY_OPT_COMMIT "bits.pay.commit"
#define RI_PAY_OPT_PRICE "bits.pay.price"
#define RI_PAY_META_BYTES 66
#define RI_PAY_COMMIT_BYTES 32
/* uint96: 79228162514264337593543950335, 29 digits. */
#define RI_PAY_PRICE_MAX_DIGITS 29

struct ri_pay {
	uint8_t meta[RI_PAY_META_BYTES];
	uint8_t commit[RI_PAY_COMMIT_BYTES];
	char price[RI_PAY_PRICE_MAX_DIGITS + 1];	/* decimal, NUL-ended */
};

/* True when s is a decimal price: 1..29 digits, no leading zero (but "0"),
 * at most 2^96 - 1. */
bool ri_pay_price_is_valid(const char *s);

/* Put p's three options into ri (replacing).  ERR_FORMAT for a bad
 * price; errors of router_info_set_option(). */
int ri_pay_publish(struct router_info *ri, const struct ri_pay *p);

/*
 * Read a peer's pay options (untrusted).  ERR_NOT_FOUND when the router
 * asks for no pay (none of the three keys), ERR_FORMAT when any is
 * missing or malformed.  out is written only on success.
 */
int ri_pay_parse(const struct mapping *opts, struct ri_pay *out);

#endif /* ROUTER_RI_PAY_H */
