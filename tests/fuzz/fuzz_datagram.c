/*
 * libFuzzer target: client payloads and repliable datagrams
 * (router/datagram.h).  First byte even: a gzip client payload (inflated
 * into a 64 KiB cap, which must hold); odd: a repliable datagram, whose
 * payload must lie inside the input and within its limit.
 */
#include "config.h"
#include "router/datagram.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[CLIENT_PAYLOAD_MAX_BYTES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_payload_hdr h;
	struct keys_and_cert from;
	const uint8_t *p;
	size_t n = (size_t)-1;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		if (client_payload_decode(data + 1, size - 1, &h, out,
					  sizeof(out), &n) == 0 &&
		    n > sizeof(out))
			abort();
		return 0;
	}
	if (datagram_repliable_decode(data + 1, size - 1, &from, &p, &n) == 0 &&
	    (n > DATAGRAM_MAX_PAYLOAD_BYTES || p < data + 1 ||
	     p + n > data + size))
		abort();
	return 0;
}
