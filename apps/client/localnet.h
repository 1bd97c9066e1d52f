/*
 * An in-process network of local destinations: client payloads (streaming
 * packets, repliable and raw datagrams) go from one attached destination
 * to another on the same event loop, without tunnels.  It is what SAM and
 * the tests run on until destinations send garlic over tunnels; that glue
 * has the same shape: a struct stream_sink for protocol 6 and a
 * struct client_rx that receives by protocol.
 *
 * Delivery is always later (a zero-delay timer on the loop, in order),
 * never inside the send, so two managers never call into each other.
 * Thread: the loop thread only.
 */
#ifndef APPS_CLIENT_LOCALNET_H
#define APPS_CLIENT_LOCALNET_H

#include <stddef.h>
#include <stdint.h>

#include "apps/client/net.h"
#include "apps/client/stream.h"
#include "router/keys_and_cert.h"

struct evloop;
struct localnet;	/* opaque */

/* Never returns NULL; caller owns it and frees it before el. */
struct localnet *localnet_new(struct evloop *el);
/* Drop undelivered payloads and release ln.  Accepts NULL. */
void localnet_free(struct localnet *ln);
/* Attach dest (copied) with its receiver (copied; borrowed pointers inside
 * must outlive the attachment).  ERR_EXISTS if it is attached already. */
int localnet_attach(struct localnet *ln, const struct keys_and_cert *dest,
		    const struct client_rx *rx);
void localnet_detach(struct localnet *ln, const uint8_t hash[32]);
/* The attached destination with this hash, or NULL (borrowed). */
const struct keys_and_cert *localnet_lookup(struct localnet *ln,
					    const uint8_t hash[32]);
/*
 * Queue len bytes of protocol proto for `to`.  ERR_NETWORK when `to` is
 * not attached now (as a LeaseSet lookup would fail), ERR_TOO_BIG over
 * CLIENT_PAYLOAD_MAX_BYTES.
 */
int localnet_send(struct localnet *ln, const struct keys_and_cert *to,
		  uint8_t proto, uint16_t src_port, uint16_t dst_port,
		  const uint8_t *data, size_t len);
/* A sink that sends streaming packets (protocol 6) through ln. */
struct stream_sink localnet_stream_sink(struct localnet *ln);
/* ln as a struct client_net (borrows ln). */
struct client_net localnet_client_net(struct localnet *ln);

#endif /* APPS_CLIENT_LOCALNET_H */
