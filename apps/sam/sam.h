/*
 * The SAM v3 bridge (SAM V3 spec; PROTOCOLS.md 2.16): a libevent server on
 * 127.0.0.1 (7656 by default) for SAM clients.
 *
 * Implemented: HELLO VERSION (3.0-3.3); SESSION CREATE STYLE=STREAM,
 * DATAGRAM or RAW with DESTINATION=TRANSIENT or a private key blob,
 * SIGNATURE_TYPE (Ed25519 only), FROM_PORT/TO_PORT and the streaming
 * options i2p.streaming.*; STREAM CONNECT / ACCEPT (concurrent accepts, as
 * 3.2 allows) / FORWARD with SILENT; NAMING LOOKUP (ME, b32, a base64
 * Destination); DEST GENERATE; DATAGRAM SEND / RAW SEND on the control
 * socket and DATAGRAM RECEIVED / RAW RECEIVED back; datagrams sent to the
 * UDP port (7655: "3.x $nickname $destination [options]\n" + payload) and,
 * for sessions created with PORT (and HOST), received ones forwarded there
 * over UDP (with HEADER=true for RAW); 3.3 PRIMARY sessions (also as
 * i2pd's STYLE=MASTER) with SESSION ADD / REMOVE of subsessions routed by
 * LISTEN_PORT and LISTEN_PROTOCOL; PING/PONG; QUIT/STOP/EXIT.
 * Malformed lines get the spec's error replies.
 *
 * Each session's destination is attached to a struct client_net: with
 * apps/client/localnet that is the other destinations of this process;
 * with the destination glue of issue G1, the I2P network.
 *
 * Thread: the loop thread only.
 */
#ifndef APPS_SAM_SAM_H
#define APPS_SAM_SAM_H

#include <stdint.h>

#include "apps/client/net.h"
#include "apps/client/stream.h"

struct evloop;
struct sam_server;	/* opaque */

#define SAM_DEFAULT_PORT 7656
#define SAM_DEFAULT_UDP_PORT 7655
#define SAM_MAX_CONNS_DEFAULT 256
#define SAM_MAX_SESSIONS_DEFAULT 64
#define SAM_ACCEPT_QUEUE_MAX 16		/* incoming streams nobody accepted yet */

struct sam_server_cfg {
	const char *host;		/* "127.0.0.1" */
	uint16_t port;			/* 0: any free port */
	unsigned max_conns;
	unsigned max_sessions;
	bool udp;			/* the datagram port */
	uint16_t udp_port;		/* 0: any free port */
	struct stream_config stream;	/* defaults for every session */
};

void sam_server_cfg_default(struct sam_server_cfg *c);
/*
 * Listen on cfg's address; sessions attach to net (copied; its context
 * outlives the server).  ERR_IO when the address cannot be bound.  *out is owned by
 * the caller.
 */
int sam_server_new(struct evloop *el, const struct client_net *net,
		   const struct sam_server_cfg *cfg, struct sam_server **out);
/* The port listened on, and the UDP datagram port (0 without one). */
uint16_t sam_server_port(const struct sam_server *srv);
uint16_t sam_server_udp_port(const struct sam_server *srv);
/* Close every connection and session and release srv.  Accepts NULL. */
void sam_server_free(struct sam_server *srv);

#endif /* APPS_SAM_SAM_H */
