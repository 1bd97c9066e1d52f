/*
 * The gateway's way to its node: JSON-RPC over HTTP/1.1 to a loopback
 * address (evhttp on the daemon's loop, never blocking it), as a
 * struct market_upstream.  Each request has a total deadline and a reply
 * cap.  Thread: the loop thread only.
 */
#ifndef APPS_MARKET_UPSTREAM_HTTP_H
#define APPS_MARKET_UPSTREAM_HTTP_H

#include <stdint.h>

#include "apps/market/gateway.h"

struct evloop;
struct market_http;	/* opaque */

#define MARKET_HTTP_TIMEOUT_MS 15000u
#define MARKET_HTTP_MAX_HEADERS_BYTES (16u * 1024)

/*
 * A client for the node at url ("http://127.x.y.z:PORT[/path]": the node
 * runs beside the gateway, so only loopback is accepted; ERR_ARG
 * otherwise) on el (borrowed).  timeout_ms 0: MARKET_HTTP_TIMEOUT_MS.
 */
int market_http_new(struct evloop *el, const char *url, unsigned timeout_ms,
		    struct market_http **out);
/* Requests still pending end with ERR_IO (their done runs now).  Accepts
 * NULL. */
void market_http_free(struct market_http *h);
struct market_upstream market_http_upstream(struct market_http *h);

#endif /* APPS_MARKET_UPSTREAM_HTTP_H */
