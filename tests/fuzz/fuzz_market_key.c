/*
 * libFuzzer target: the key agent's wire (apps/market/keyagent.h).  The
 * input is a request frame as the agent gets it and a reply frame as the
 * holder gets it; a decoded request must encode back to the same bytes.
 * The same bytes as the agent's answer to MARKET_KEY_PUBKEY_QUERY: a key
 * accepted is the 33 bytes given.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "apps/market/keyagent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct market_key_request r;
	uint8_t buf[MARKET_KEY_REQUEST_BYTES], w[32], id[32], who[20];
	static const uint8_t kr[20] = { 7 };
	struct secp_pk A;
	int status;

	if (market_key_request_decode(data, size, &r) == 0) {
		market_key_request_encode(&r, buf);
		if (size != sizeof(buf) || memcmp(buf, data, size) != 0)
			abort();
		market_key_request_id(31337, kr, &r.kr, id);
		(void)secp_recover(id, r.sig, who);
	}
	if (market_key_reply_decode(data, size, &status, w) == 0 &&
	    (status < MARKET_KEY_OK || status > MARKET_KEY_BUSY))
		abort();
	if (market_key_pubkey_decode(data, size, &A) == 0 &&
	    (size != SECP_PK_BYTES || memcmp(A.b, data, size) != 0))
		abort();
	return 0;
}
