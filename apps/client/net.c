/*
 * The stream sink over a struct client_net (see net.h).
 */
#include "config.h"
#include "apps/client/net.h"

#include "router/datagram.h"

static int cs_send(void *ctx, const struct keys_and_cert *to,
		   uint16_t src_port, uint16_t dst_port, const uint8_t *pkt,
		   size_t len)
{
	struct client_stream_sink *cs = ctx;

	return cs->net.send(cs->net.ctx, cs->from, to,
			    DATAGRAM_PROTO_STREAMING, src_port, dst_port, pkt,
			    len);
}

struct stream_sink client_stream_sink(struct client_stream_sink *cs)
{
	return (struct stream_sink){ cs_send, cs };
}
