/* Proof of work for feed items (apps/feed/pow.h). */
#include "config.h"
#include "apps/feed/pow.h"
#include "crypto/base/bytes.h"
#include "crypto/hash.h"

#include <string.h>

static const char POW_TAG[] = "bits/feed/pow/v1";

unsigned feed_pow_bits(const uint8_t id[FEED_ID_BYTES], uint64_t nonce)
{
	uint8_t in[sizeof(POW_TAG) - 1 + FEED_ID_BYTES + 8], h[SHA256_BYTES];
	unsigned n = 0, i;

	memcpy(in, POW_TAG, sizeof(POW_TAG) - 1);
	memcpy(in + sizeof(POW_TAG) - 1, id, FEED_ID_BYTES);
	be64_put(in + sizeof(POW_TAG) - 1 + FEED_ID_BYTES, nonce);
	sha256(h, in, sizeof(in));
	for (i = 0; i < sizeof(h) && h[i] == 0; i++)
		n += 8;
	if (i < sizeof(h))
		n += (unsigned)__builtin_clz((unsigned)h[i]) - 24;
	return n;
}

uint64_t feed_pow_solve(const uint8_t id[FEED_ID_BYTES], unsigned bits)
{
	uint64_t nonce = 0;

	if (bits > FEED_POW_BITS_MAX)
		bits = FEED_POW_BITS_MAX;
	while (feed_pow_bits(id, nonce) < bits)
		nonce++;
	return nonce;
}
