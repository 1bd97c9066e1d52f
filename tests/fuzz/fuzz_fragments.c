/*
 * libFuzzer target: the reassembler over a sequence of tunnel messages.
 * The input is up to 64 chunks of (1-byte time step, 2-byte length L ≤
 * 1003, L payload bytes); each payload becomes a well-formed tunnel message (the
 * checksum is right) at an endpoint with small limits, so eviction,
 * duplicates, out-of-order and oversized messages are reached.  A message
 * delivered must be whole and within bounds.
 */
#include "config.h"
#include "crypto/base/bytes.h"
#include "crypto/rand.h"
#include "tunnels/endpoint.h"
#include "tunnels/tunnel_msg.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void deliver(void *ctx, const struct tunnel_endpoint_msg *m)
{
	(*(size_t *)ctx)++;
	if (m->len == 0 || m->len > TUNNEL_MAX_I2NP_BYTES)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tunnel_endpoint_limits lim = { .max_pending = 4,
					      .max_bytes = 8000,
					      .timeout_ms = 50 };
	size_t delivered = 0;
	struct tunnel_endpoint *e = tunnel_endpoint_new(deliver, &delivered,
							&lim);
	struct breader r;
	uint64_t now = 0;
	static bool seeded;

	/* padding and IVs from a fast reproducible stream */
	if (!seeded) {
		rand_set_deterministic(7);
		seeded = true;
	}
	br_init(&r, data, size);
	/* 64 tunnel messages are plenty and keep each run short */
	for (int k = 0; k < 64 && br_left(&r) >= 3; k++) {
		uint8_t msg[TUNNEL_MSG_BYTES];
		const uint8_t *p;
		size_t len;

		now += br_u8(&r);
		len = br_be16(&r) % (TUNNEL_MAX_PAYLOAD_BYTES + 1);
		if (len > br_left(&r))
			len = br_left(&r);
		p = br_take(&r, len);
		tunnel_msg_finish(msg, p ? p : msg, p ? len : 0);
		(void)tunnel_endpoint_recv(e, msg, now);
		if (tunnel_endpoint_pending(e) > lim.max_pending ||
		    tunnel_endpoint_pending_bytes(e) > lim.max_bytes)
			abort();
		tunnel_endpoint_expire(e, now);
	}
	tunnel_endpoint_free(e);
	return 0;
}
