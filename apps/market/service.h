/*
 * The server side shared by the market services (the chain RPC gateway,
 * the key agent): the streams they serve, each read one framed request at
 * a time (apps/market/link.h) and answered in order.  A request may be
 * answered at once or held while work goes on elsewhere (the node, the
 * chain); the next frame is read only once the answer is out.
 *
 * Thread: the loop thread only.
 */
#ifndef APPS_MARKET_SERVICE_H
#define APPS_MARKET_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stream;
struct stream_mgr;
struct market_conn;	/* opaque: one served stream */

/*
 * One request frame (untrusted; borrowed for the call).  Answer with
 * market_conn_reply() now, or call market_conn_hold() and answer later
 * with market_conn_finish().
 */
typedef void (*market_request_fn)(void *ctx, struct market_conn *c,
				  const uint8_t *p, size_t len);

struct market_service {
	market_request_fn request;
	void *ctx;
	size_t max_frame;
	unsigned max_conns, nconns;
	uint64_t conns_total;
	struct market_conn *conns;
};

void market_service_init(struct market_service *sv, size_t max_frame,
			 unsigned max_conns, market_request_fn fn, void *ctx);
/* Reset and release every stream; held requests lose their connection
 * (their *ref becomes NULL). */
void market_service_clear(struct market_service *sv);
/* Serve s (refused with a reset past max_conns). */
void market_service_accept(struct market_service *sv, struct stream *s);
/* Make sv the acceptor of every incoming stream of mgr. */
void market_service_serve(struct market_service *sv, struct stream_mgr *mgr);

/* Queue an answer to the current request (within the request call). */
void market_conn_reply(struct market_conn *c, const void *p, size_t len);
/* The peer of c (borrowed). */
const uint8_t *market_conn_peer_hash(const struct market_conn *c);
/*
 * Hold c's current request: *ref = c, and *ref becomes NULL if the stream
 * goes away before market_conn_finish().
 */
void market_conn_hold(struct market_conn *c, struct market_conn **ref);
/* Answer the held request (p may be NULL: no answer) and read on. */
void market_conn_finish(struct market_conn *c, const void *p, size_t len);

/* ------------------------------------------------------------ rate limits */

#define MARKET_RATE_PEERS 256	/* peers remembered; the oldest goes first */

struct market_rate_peer {
	uint8_t hash[32];
	double tokens;
	uint64_t last_ms;
	bool used;
};

/* A token bucket per peer destination: `burst` requests, refilled at
 * `per_sec`. */
struct market_rate {
	unsigned per_sec, burst;
	struct market_rate_peer peers[MARKET_RATE_PEERS];
};

void market_rate_init(struct market_rate *r, unsigned per_sec,
		      unsigned burst);
/* Take a token for the peer with this destination hash; false when its
 * bucket is empty. */
bool market_rate_take(struct market_rate *r, const uint8_t hash[32]);

/* ------------------------------------------------------- the client side */

struct evloop;
struct keys_and_cert;

/* err 0 with the reply frame (untrusted; borrowed for the call), or
 * ERR_IO (stream failed or closed first), ERR_TIMEOUT, ERR_TOO_BIG. */
typedef void (*market_call_fn)(void *arg, int err, const uint8_t *reply,
			       size_t len);
/*
 * One request to the service at `to` over a new stream from mgr: send
 * req (copied), take one reply frame of at most max_reply bytes, close.
 * done runs later, exactly once, unless this returns non-zero (the
 * errors of stream_connect()).
 */
int market_call(struct stream_mgr *mgr, struct evloop *el,
		const struct keys_and_cert *to, const void *req, size_t len,
		size_t max_reply, unsigned timeout_ms, market_call_fn done,
		void *arg);

#endif /* APPS_MARKET_SERVICE_H */
