/*
 * The endpoint's reassembler (geti2p.net/spec/tunnel-message,
 * PROTOCOLS.md 2.9): decrypted tunnel messages go in, whole I2NP messages
 * with their delivery instructions come out through the deliver hook.
 * Fragments may arrive out of order; a message waits until its first
 * fragment and every follow-on up to the one flagged last are in.
 *
 * Bounded: at most max_pending partial messages and max_bytes of
 * fragments are held (the oldest partial message is dropped to make
 * room), a partial message older than timeout_ms is dropped, and no
 * message grows past TUNNEL_MAX_I2NP_BYTES or 64 fragments.  Bad input is
 * dropped and counted, never fatal.
 *
 * One owner, not thread-safe.  The hook must not free the endpoint.
 */
#ifndef TUNNELS_ENDPOINT_H
#define TUNNELS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnels/tunnel_msg.h"

#define TUNNEL_ENDPOINT_MAX_PENDING 64
#define TUNNEL_ENDPOINT_MAX_BYTES (512u << 10)
/* i2pd drops incomplete messages after 8 s, Java after ~ 10-20 s. */
#define TUNNEL_ENDPOINT_TIMEOUT_MS 15000

/* One reassembled message. */
struct tunnel_endpoint_msg {
	enum tunnel_delivery type;
	uint32_t tunnel_id;		/* TUNNEL */
	uint8_t hash[32];		/* TUNNEL and ROUTER */
	const uint8_t *data;		/* the I2NP message; borrowed for the
					 * call */
	size_t len;
};

typedef void (*tunnel_deliver_fn)(void *ctx,
				  const struct tunnel_endpoint_msg *m);

struct tunnel_endpoint_limits {
	size_t max_pending;
	size_t max_bytes;
	uint64_t timeout_ms;
};

struct tunnel_endpoint_stats {
	uint64_t msgs_in;		/* tunnel messages */
	uint64_t delivered;		/* I2NP messages out */
	uint64_t bad_checksum;
	uint64_t bad_format;		/* malformed instructions or sizes */
	uint64_t dup_fragments;
	uint64_t dropped_partial;	/* evicted for room, or too big */
	uint64_t expired;		/* timed out incomplete */
};

struct tunnel_endpoint;	/* opaque */

/* New reassembler delivering to fn(ctx, ...); lim NULL: the defaults.
 * Never NULL.  Caller owns it. */
struct tunnel_endpoint *tunnel_endpoint_new(tunnel_deliver_fn fn, void *ctx,
					    const struct tunnel_endpoint_limits *lim);
void tunnel_endpoint_free(struct tunnel_endpoint *e);
/*
 * Take one decrypted tunnel message (TUNNEL_MSG_BYTES, untrusted) received
 * at now_ms (monotonic).  Complete messages are delivered before it
 * returns.  ERR_AUTH on a bad checksum, ERR_FORMAT / ERR_UNSUPPORTED /
 * ERR_TRUNCATED on bad instructions (what came before them was still
 * processed); 0 otherwise.
 */
int tunnel_endpoint_recv(struct tunnel_endpoint *e, const uint8_t *msg,
			 uint64_t now_ms);
/* Drop partial messages older than the timeout. */
void tunnel_endpoint_expire(struct tunnel_endpoint *e, uint64_t now_ms);
/* Drop the oldest partial message (counted in dropped_partial); false
 * when none is held. */
bool tunnel_endpoint_drop_oldest(struct tunnel_endpoint *e);
/* Partial messages held, and the fragment bytes they hold. */
size_t tunnel_endpoint_pending(const struct tunnel_endpoint *e);
size_t tunnel_endpoint_pending_bytes(const struct tunnel_endpoint *e);
const struct tunnel_endpoint_stats *tunnel_endpoint_get_stats(
	const struct tunnel_endpoint *e);

#endif /* TUNNELS_ENDPOINT_H */
