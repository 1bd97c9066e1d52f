/*
 * The network a local destination talks through, as a table of hooks
 * (STYLE.md §1: a lower layer never calls up).  Apps such as SAM use only
 * this table; apps/client/localnet.c implements it in-process, and the
 * destination glue of issue G1 implements it with garlic over tunnels:
 *
 *   attach  start serving the destination (tunnel pools, LeaseSet) and
 *           hand what arrives for it, by I2CP protocol, to rx
 *   send    wrap the payload as a client payload (router/datagram.h: gzip
 *           header with ports and protocol) and send it as garlic from
 *           `from` to `to` (LeaseSet lookup and ratchet session inside)
 *   lookup  a Destination by hash if known now (LeaseSet store, local
 *           destinations); ERR_NOT_FOUND may start a lookup
 *
 * Thread: the loop thread only; no hook calls back into the caller before
 * it returns.
 */
#ifndef APPS_CLIENT_NET_H
#define APPS_CLIENT_NET_H

#include <stddef.h>
#include <stdint.h>

#include "apps/client/dest.h"
#include "apps/client/stream.h"
#include "router/els2.h"
#include "router/keys_and_cert.h"

/* What an attached destination receives. */
struct client_rx {
	struct stream_mgr *mgr;		/* protocol 6; NULL drops */
	/* Other protocols (17, 18, ...; untrusted payloads); NULL drops. */
	void (*datagram)(void *ctx, uint8_t proto, uint16_t src_port,
			 uint16_t dst_port, const uint8_t *data, size_t len);
	void *ctx;
};

struct client_net {
	/* Serve d (borrowed until detach); rx is copied, the pointers in it
	 * are borrowed until detach.  ERR_EXISTS if d is served already. */
	int (*attach)(void *ctx, const struct client_dest *d,
		      const struct client_rx *rx);
	void (*detach)(void *ctx, const struct client_dest *d);
	/* Send len bytes of protocol proto from `from` to `to`.  A failure
	 * is a lost payload (ERR_NOT_FOUND: no route now, ERR_TOO_BIG);
	 * ERR_NETWORK says `to` cannot be reached on this network at all,
	 * and a stream whose SYN gets it fails at once. */
	int (*send)(void *ctx, const struct client_dest *from,
		    const struct keys_and_cert *to, uint8_t proto,
		    uint16_t src_port, uint16_t dst_port, const uint8_t *data,
		    size_t len);
	/* The Destination with this hash, if known now (copied to out);
	 * ERR_NOT_FOUND otherwise. */
	int (*lookup)(void *ctx, const uint8_t hash[32],
		      struct keys_and_cert *out);
	void *ctx;
	/* Optional, after ctx so that tables written in order leave it
	 * NULL (no encrypted LeaseSets on that network).  The Destination
	 * behind the encrypted LeaseSet stored under bl->store_key (bl:
	 * els2_blinding_derive() for today), opened with auth_key (32
	 * bytes: the client's X25519 private key or PSK; NULL: none), if
	 * known now (copied to out); send() reaches it from then on.
	 * ERR_NOT_FOUND starts a lookup; ERR_AUTH: it needs a client key
	 * that we lack or that does not fit; others: it does not open. */
	int (*lookup_blinded)(void *ctx, const struct els2_blinding *bl,
			      const uint8_t *auth_key,
			      struct keys_and_cert *out);
};

/* A stream sink sending as `from` through net: fill cs and keep it alive
 * as long as the sink is used. */
struct client_stream_sink {
	struct client_net net;
	const struct client_dest *from;
};
struct stream_sink client_stream_sink(struct client_stream_sink *cs);

#endif /* APPS_CLIENT_NET_H */
