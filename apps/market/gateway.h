/*
 * The chain RPC gateway (issue 13): any bitsd can publish an L2 JSON-RPC
 * endpoint (a local node such as anvil) to other destinations.  Clients
 * connect with an I2P stream and send framed JSON-RPC requests
 * (apps/market/link.h); the gateway answers each in order.
 *
 * Every request is untrusted: size and nesting are bounded, it must be a
 * single JSON-RPC 2.0 call (no batches) whose method is on the allow-list
 * (by default the read and submit calls of CHAIN.md §7: no node-side
 * signing, no anvil_*, no admin or debug namespaces; eth_getLogs over at
 * most MARKET_GW_MAX_LOG_BLOCKS numbered blocks), and it is sent on
 * rebuilt from its id, method and params only.  Each peer destination has
 * a token bucket (requests per second and a burst); the gateway as a whole
 * caps requests waiting on the node.  Refusals are JSON-RPC error objects
 * with the request's id.
 *
 * The node is reached through a hook table (struct market_upstream), so
 * tests can put a fake node behind it; apps/market/upstream_http.h is the
 * HTTP one.  Thread: the loop thread only.
 */
#ifndef APPS_MARKET_GATEWAY_H
#define APPS_MARKET_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct evloop;
struct stream;
struct stream_mgr;

/* Largest request frame and largest node reply passed on. */
#define MARKET_GW_MAX_REQUEST_BYTES (64u * 1024)
#define MARKET_GW_MAX_REPLY_BYTES (8u * 1024 * 1024)
#define MARKET_GW_MAX_ID_BYTES 64
#define MARKET_GW_MAX_METHODS 32
#define MARKET_GW_MAX_LOG_BLOCKS 5000	/* eth_getLogs range (CHAIN.md §7) */
/* JSON-RPC error codes of refusals (EIP-1474). */
#define MARKET_GW_ERR_INVALID (-32600)
#define MARKET_GW_ERR_METHOD (-32601)
#define MARKET_GW_ERR_LIMIT (-32005)
#define MARKET_GW_ERR_NODE (-32603)

/* Done: err 0 with the node's reply body (borrowed for the call), or an
 * ERR_* (no body). */
typedef void (*market_upstream_done_fn)(void *arg, int err,
					const uint8_t *body, size_t len);
struct market_upstream {
	/*
	 * Send one request body to the node.  done runs exactly once, later
	 * (never inside start), unless start fails (non-zero: done never
	 * runs).  Replies over max_reply bytes fail with ERR_TOO_BIG.
	 */
	int (*start)(void *ctx, const char *req, size_t len, size_t max_reply,
		     market_upstream_done_fn done, void *arg);
	void *ctx;
};

struct market_gw_config {
	/* Allowed methods (borrowed strings); n = 0: the default list. */
	const char *methods[MARKET_GW_MAX_METHODS];
	unsigned nmethods;
	/* Per peer: a bucket of `burst` requests refilled at `per_sec`. */
	unsigned rate_per_sec;
	unsigned rate_burst;
	/* Requests waiting on the node, all peers together. */
	unsigned max_inflight;
	/* Streams served at once. */
	unsigned max_conns;
};

struct market_gw_stats {
	uint64_t requests, forwarded, refused_method, refused_invalid,
		refused_rate, refused_busy, node_errors, conns;
};

void market_gw_config_default(struct market_gw_config *c);

/*
 * Check one request frame (untrusted) against the allow-list of c.  On
 * success *out is the request rebuilt from id, method and params (the
 * caller frees it) and *out_len its length.  On refusal *code gets the
 * JSON-RPC error code and *why a static reason.  Either way *id (may be
 * NULL) gets a new reference to the request's id when one could be read
 * (else NULL).
 * Returns 0, ERR_FORMAT/ERR_TOO_BIG (invalid), ERR_UNSUPPORTED (method) or
 * ERR_RANGE (eth_getLogs over more than MARKET_GW_MAX_LOG_BLOCKS or not by
 * block numbers).
 */
int market_gw_request_check(const struct market_gw_config *c,
			    const uint8_t *p, size_t len, char **out,
			    size_t *out_len, json_t **id, int *code,
			    const char **why);

struct market_gw;	/* opaque */

/* A gateway on el (borrowed) passing requests to up (copied; up.ctx
 * borrowed).  Never returns NULL; caller owns it. */
struct market_gw *market_gw_new(const struct market_gw_config *c,
				struct market_upstream up, struct evloop *el);
/* Reset every stream it serves and release gw.  Requests still at the
 * node finish into nothing.  Accepts NULL. */
void market_gw_free(struct market_gw *gw);
/* Serve an accepted stream (the embedder's acceptor dispatches by port). */
void market_gw_accept(struct market_gw *gw, struct stream *s);
/* Make gw the acceptor of every incoming stream of mgr. */
void market_gw_serve(struct market_gw *gw, struct stream_mgr *mgr);
void market_gw_stats(const struct market_gw *gw, struct market_gw_stats *out);

#endif /* APPS_MARKET_GATEWAY_H */
