/*
 * libFuzzer target: streaming packets (apps/client/stream_packet.h).  A
 * decoded packet's borrowed fields must lie inside the input; re-encoding
 * an unsigned packet must give back the same bytes; verification of a
 * signed one must fail cleanly.
 */
#include "config.h"
#include "apps/client/stream_packet.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const uint8_t *p, size_t n, const uint8_t *d, size_t size)
{
	return n == 0 || (p && p >= d && p + n <= d + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_packet p;
	struct bbuf b = BBUF_INIT;

	if (stream_packet_decode(data, size, &p) != 0)
		return 0;
	if (!inside(p.payload, p.payload_len, data, size) ||
	    !inside(p.sig, p.sig_len, data, size) ||
	    p.sig_len > STREAM_SIG_MAX_BYTES)
		abort();
	if (p.flags & STREAM_F_SIG) {
		if (p.sig != data + p.sig_off)
			abort();
		(void)stream_packet_verify(&p, data, size, &p.from, 0);
		return 0;
	}
	if (p.flags & (STREAM_F_FROM | STREAM_F_OFFLINE))
		return 0;
	if (stream_packet_encode(&p, NULL, &b) != 0 || b.len != size ||
	    memcmp(b.data, data, size) != 0)
		abort();
	bbuf_free(&b);
	return 0;
}
