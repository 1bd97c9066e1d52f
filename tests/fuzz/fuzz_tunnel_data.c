/*
 * libFuzzer target: one decrypted tunnel message at an endpoint.  The
 * input is the 1024 bytes (zero-padded); the target writes the right
 * checksum for wherever the zero byte falls, so the instruction and
 * fragment parser is reached; the bytes as they are go in first.
 */
#include "config.h"
#include "crypto/base/bytes.h"
#include "crypto/hash.h"
#include "tunnels/endpoint.h"
#include "tunnels/tunnel_msg.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void deliver(void *ctx, const struct tunnel_endpoint_msg *m)
{
	(void)ctx;
	if (m->len > TUNNEL_MAX_I2NP_BYTES || (m->len && !m->data))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tunnel_endpoint *e;
	static uint64_t now;
	uint8_t msg[TUNNEL_MSG_BYTES] = { 0 }, h[32];
	const uint8_t *zero;
	struct sha256_ctx c;

	if (!e)
		e = tunnel_endpoint_new(deliver, NULL, NULL);
	memcpy(msg, data, size < sizeof(msg) ? size : sizeof(msg));
	(void)tunnel_endpoint_recv(e, msg, ++now);
	zero = memchr(msg + 20, 0, sizeof(msg) - 20);
	if (zero) {
		sha256_init(&c);
		sha256_update(&c, zero + 1, (size_t)(msg + sizeof(msg) - zero - 1));
		sha256_update(&c, msg, TUNNEL_IV_BYTES);
		sha256_final(&c, h);
		memcpy(msg + TUNNEL_IV_BYTES, h, TUNNEL_CHECKSUM_BYTES);
		(void)tunnel_endpoint_recv(e, msg, ++now);
	}
	if (now % 64 == 0)
		tunnel_endpoint_expire(e, now + TUNNEL_ENDPOINT_TIMEOUT_MS);
	return 0;
}
