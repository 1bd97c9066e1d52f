/*
 * Unsigned 256-bit integers for token amounts, gas prices, nonces and
 * ticket win probabilities (Solidity's uint256).  Four 64-bit limbs, least
 * significant first; arithmetic reports overflow instead of wrapping.
 */
#ifndef CHAIN_U256_H
#define CHAIN_U256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u256 {
	uint64_t w[4];	/* w[0] is the least significant limb */
};

/* Longest u256_format_dec() output including the NUL (78 digits). */
#define U256_DEC_BYTES 79
/* Longest u256_format_hex() output including the NUL ("0x" + 64). */
#define U256_HEX_BYTES 67

static inline struct u256 u256_from_u64(uint64_t v)
{
	return (struct u256){ { v, 0, 0, 0 } };
}
bool u256_is_zero(const struct u256 *a);
/* True when a fits in 64 bits. */
bool u256_fits_u64(const struct u256 *a);
/* -1, 0 or 1 as a <, =, > b. */
int u256_cmp(const struct u256 *a, const struct u256 *b);

/* out = a + b; ERR_RANGE on overflow (out untouched).  out may alias. */
int u256_add(struct u256 *out, const struct u256 *a, const struct u256 *b);
/* out = a - b; ERR_RANGE when b > a (out untouched).  out may alias. */
int u256_sub(struct u256 *out, const struct u256 *a, const struct u256 *b);
/* out = a * m; ERR_RANGE on overflow (out untouched).  out may alias. */
int u256_mul_u64(struct u256 *out, const struct u256 *a, uint64_t m);
/* out = a / d, *rem = a % d (rem may be NULL); d > 0 else ERR_ARG. */
int u256_div_u64(struct u256 *out, uint64_t *rem, const struct u256 *a,
		 uint64_t d);

/* 32-byte big-endian (an ABI word). */
void u256_to_be(const struct u256 *a, uint8_t out[32]);
/* Read len ≤ 32 big-endian bytes; ERR_TOO_BIG when len > 32. */
int u256_from_be(struct u256 *out, const uint8_t *in, size_t len);
/* Minimal big-endian bytes (no leading zeros; 0 has none) into out[32];
 * return the count. */
size_t u256_to_min_be(const struct u256 *a, uint8_t out[32]);

/*
 * Parse decimal digits or "0x"-prefixed hex (1..64 digits) of len
 * characters.  ERR_FORMAT on any other character or an empty number,
 * ERR_RANGE above 2^256 - 1.
 */
int u256_parse(struct u256 *out, const char *s, size_t len);
/* NUL-terminated variant of u256_parse(). */
int u256_parse_str(struct u256 *out, const char *s);
/* Decimal into out (outlen ≥ U256_DEC_BYTES); returns out. */
const char *u256_format_dec(const struct u256 *a, char *out, size_t outlen);
/* JSON-RPC quantity: "0x" then minimal hex ("0x0" for zero). */
const char *u256_format_hex(const struct u256 *a, char *out, size_t outlen);

#endif /* CHAIN_U256_H */
