/*
 * libFuzzer target: the chain's small value parsers, which read what
 * gateways, deploy files, cards and payment frames carry: amounts
 * (u256_parse: decimal or 0x hex), addresses (eth_addr_parse), public
 * keys (secp_pk_parse: SEC1, 33 or 65 bytes) and stealth meta-addresses
 * (stealth_meta_decode).  Each value accepted formats back to something
 * that parses to the same value; a meta-address accepted encodes back to
 * the input.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chain/secp.h"
#include "chain/stealth.h"
#include "chain/u256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void amount(const uint8_t *data, size_t size)
{
	struct u256 a, b;
	char dec[U256_DEC_BYTES], hex[U256_HEX_BYTES];

	if (u256_parse(&a, (const char *)data, size) != 0)
		return;
	if (u256_parse_str(&b, u256_format_dec(&a, dec, sizeof(dec))) != 0 ||
	    u256_cmp(&a, &b) != 0 ||
	    u256_parse_str(&b, u256_format_hex(&a, hex, sizeof(hex))) != 0 ||
	    u256_cmp(&a, &b) != 0)
		abort();
}

static void address(const uint8_t *data, size_t size)
{
	uint8_t a[ETH_ADDR_BYTES], b[ETH_ADDR_BYTES];
	char s[ETH_ADDR_STR_BYTES], *z;

	if (size > 64)
		return;
	z = malloc(size + 1);
	if (!z)
		abort();
	memcpy(z, data, size);
	z[size] = 0;
	if (eth_addr_parse(a, z) == 0 &&
	    (strlen(z) != 42 || eth_addr_parse(b, eth_addr_format(a, s, sizeof(s))) != 0 ||
	     memcmp(a, b, sizeof(a)) != 0))
		abort();
	free(z);
}

static void point(const uint8_t *data, size_t size)
{
	struct secp_pk pk, again;
	uint8_t full[SECP_PK_FULL_BYTES];

	if (secp_pk_parse(&pk, data, size) != 0)
		return;
	if ((size != SECP_PK_BYTES && size != SECP_PK_FULL_BYTES) ||
	    secp_pk_uncompressed(&pk, full) != 0 ||
	    secp_pk_parse(&again, full, sizeof(full)) != 0 ||
	    memcmp(&pk, &again, sizeof(pk)) != 0)
		abort();
}

static void meta(const uint8_t *data, size_t size)
{
	struct stealth_meta m;
	uint8_t out[STEALTH_META_BYTES];

	if (stealth_meta_decode(&m, data, size) != 0)
		return;
	stealth_meta_encode(&m, out);
	if (size != sizeof(out) || memcmp(out, data, size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	amount(data, size);
	address(data, size);
	point(data, size);
	meta(data, size);
	return 0;
}
