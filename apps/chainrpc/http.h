/*
 * JSON-RPC over HTTP/1.1 to a local Ethereum node, on libevent's evhttp:
 * the embedder side of chain/'s transport table (chain/rpc.h).  Until the
 * overlay carries chain RPC, only 127.0.0.0/8 is accepted.
 *
 * Each exchange has a total deadline (a node that accepts and then hangs,
 * or trickles bytes, fails with ERR_TIMEOUT), a body cap (ERR_TOO_BIG),
 * and retries with backoff when the connection fails (ERR_IO).
 * chainrpc_http_transport() blocks: it runs the event base it was given
 * until the reply is in, so it is for a tool's own loop or a worker's
 * private base, never the daemon's loop thread.
 */
#ifndef APPS_CHAINRPC_HTTP_H
#define APPS_CHAINRPC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "chain/rpc.h"

struct event_base;
struct chainrpc_http;	/* opaque */

#define CHAINRPC_DEFAULT_TIMEOUT_MS 10000u
#define CHAINRPC_DEFAULT_RETRIES 3u
#define CHAINRPC_MAX_HEADERS_BYTES (16u * 1024)

/*
 * Parse url ("http://127.0.0.1:8545" or with a path) and make a client
 * on base (borrowed; it must outlive the client).  ERR_ARG for anything
 * but http:// to a numeric 127.x.y.z address; *why says so.
 */
int chainrpc_http_new(struct event_base *base, const char *url,
		      unsigned timeout_ms, unsigned retries,
		      struct chainrpc_http **out, const char **why);
void chainrpc_http_free(struct chainrpc_http *h);

/* The transport table over h (h borrowed). */
struct chain_transport chainrpc_http_transport(struct chainrpc_http *h);

#endif /* APPS_CHAINRPC_HTTP_H */
