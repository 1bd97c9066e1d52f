/*
 * Chain RPC through the overlay (issue 13): the client side of
 * apps/market/gateway.h.  Requests go as framed JSON-RPC over an I2P
 * stream from our destination to one of several configured gateways,
 * never to a node directly.  Each gateway has one stream, opened on first
 * use; requests are pipelined on it and answered in order.  A gateway
 * that fails or times out is left for the next one.
 *
 * Gateways that lie are caught by comparing them: before the first
 * request, and again every check_interval_ms, every gateway is asked for
 * its latest block number and then for the hash of block
 * min(latest) − check_depth.  A gateway whose hash differs from the
 * majority's is not used again; when there is no majority (two gateways
 * that differ) no gateway is trusted and every request fails with
 * ERR_BAD_STATE until a later check agrees.
 *
 * market_rpc_transport() is the blocking struct chain_transport that
 * chain/rpc.h wants: called on the loop thread while the loop is not
 * running (a tool, a test), it runs the loop until the answer is in;
 * called from another thread (a worker), it posts the request to the loop
 * and waits.  Never call it from a loop callback.
 *
 * Thread: the loop thread only, except market_rpc_transport()'s calls.
 */
#ifndef APPS_MARKET_RPC_H
#define APPS_MARKET_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/rpc.h"
#include "router/keys_and_cert.h"

struct evloop;
struct stream_mgr;

#define MARKET_RPC_MAX_GATEWAYS 8
#define MARKET_RPC_TIMEOUT_MS 60000u		/* one request, tunnels slow */
#define MARKET_RPC_CHECK_INTERVAL_MS 600000u
#define MARKET_RPC_CHECK_DEPTH 3		/* blocks below the tip */
#define MARKET_RPC_PORT 0			/* gateway's stream port */

struct market_rpc_config {
	unsigned timeout_ms;
	unsigned check_interval_ms;
	unsigned check_depth;
	uint16_t port;
};
void market_rpc_config_default(struct market_rpc_config *c);

/* What the last cross-check found about one gateway. */
struct market_rpc_gw_info {
	bool checked;		/* answered in the last check */
	bool disagrees;		/* not used: its hash was not the majority's */
	uint64_t height;	/* the block compared */
	uint8_t hash[32];
};

/* err 0 with the reply body (borrowed for the call), or ERR_IO (no
 * gateway reachable), ERR_TIMEOUT, ERR_TOO_BIG, ERR_BAD_STATE (gateways
 * disagree). */
typedef void (*market_rpc_done_fn)(void *arg, int err, const uint8_t *body,
				   size_t len);

struct market_rpc;	/* opaque */

/* A client sending from mgr's destination (borrowed, like el).  Never
 * returns NULL; caller owns it. */
struct market_rpc *market_rpc_new(const struct market_rpc_config *c,
				  struct stream_mgr *mgr, struct evloop *el);
/* Close the streams; pending requests end with ERR_IO now.  Accepts
 * NULL. */
void market_rpc_free(struct market_rpc *mr);
/* The router is stopping: pending requests end with ERR_IO now, and any
 * later one at once, so that no one waits out MARKET_RPC_TIMEOUT_MS on a
 * gateway gone meanwhile.  Accepts NULL. */
void market_rpc_stop(struct market_rpc *mr);
/* Add a gateway (copied).  ERR_LIMIT past MARKET_RPC_MAX_GATEWAYS. */
int market_rpc_add_gateway(struct market_rpc *mr,
			   const struct keys_and_cert *dest);
/*
 * Send one JSON-RPC request body (copied) and hand the reply body to
 * done, later, exactly once.  A cross-check runs first when one is due.
 */
void market_rpc_exchange(struct market_rpc *mr, const char *req, size_t len,
			 size_t max_reply, market_rpc_done_fn done, void *arg);
/* Run a cross-check now (requests wait for it); done gets 0 or
 * ERR_BAD_STATE (no majority) / ERR_IO (fewer than two answered when two
 * or more are configured).  body is NULL. */
void market_rpc_crosscheck(struct market_rpc *mr, market_rpc_done_fn done,
			   void *arg);
/* The last check's view of gateway i (in the order added). */
int market_rpc_gateway_info(const struct market_rpc *mr, unsigned i,
			    struct market_rpc_gw_info *out);
/* True while the gateways disagree without a majority. */
bool market_rpc_in_conflict(const struct market_rpc *mr);

/* The blocking transport over mr (borrowed); see above. */
struct chain_transport market_rpc_transport(struct market_rpc *mr);

#endif /* APPS_MARKET_RPC_H */
