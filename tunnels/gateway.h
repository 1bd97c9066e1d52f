/*
 * The gateway's packer (geti2p.net/spec/tunnel-message "Message
 * preprocessing", PROTOCOLS.md 2.9): I2NP messages (standard 16-byte
 * header) go in with their delivery instructions, fixed-size tunnel
 * messages come out: several small messages share one tunnel message, a
 * large one is cut into a first fragment (≤ 956 bytes) and follow-ons
 * (≤ 996 bytes), at most 64 fragments.  Output messages are plaintext
 * (IV ‖ checksum ‖ padding ‖ 0 ‖ payload, TUNNEL_MSG_BYTES) for the
 * caller to put the layers on (tunnels/layer.h).
 *
 * Packing: a message that fits in what is left of the current tunnel
 * message goes there whole; one that would fit a fresh tunnel message
 * whole closes the current one first (so small messages are never cut);
 * a larger one starts in the current message when its first fragment
 * header and some bytes fit.  tunnel_gateway_flush() pads out the
 * current message.
 *
 * One owner, not thread-safe.  Memory: the finished messages wait in a
 * queue the caller drains with tunnel_gateway_pop().
 */
#ifndef TUNNELS_GATEWAY_H
#define TUNNELS_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tunnels/tunnel_msg.h"

/* Start a message's first fragment in the current tunnel message only
 * when at least this many of its bytes fit beside the instructions. */
#define TUNNEL_GATEWAY_MIN_FIRST_BYTES 32

struct tunnel_gateway;	/* opaque */

struct tunnel_gateway *tunnel_gateway_new(void);
/* Release g and any queued messages.  Accepts NULL. */
void tunnel_gateway_free(struct tunnel_gateway *g);

/*
 * Queue msg (len bytes: a standard-header I2NP message, whose message id
 * also names its fragments) for delivery type (tunnel_id and hash as the
 * type needs; hash may be NULL for LOCAL).  ERR_TOO_BIG when len exceeds
 * TUNNEL_MAX_I2NP_BYTES, ERR_ARG when len < 16 (no I2NP header).
 */
int tunnel_gateway_put(struct tunnel_gateway *g, enum tunnel_delivery type,
		       uint32_t tunnel_id, const uint8_t *hash,
		       const uint8_t *msg, size_t len);
/* Finish the partly filled tunnel message, if any. */
void tunnel_gateway_flush(struct tunnel_gateway *g);
/* Bytes allocated for finished tunnel messages (0 when none wait). */
size_t tunnel_gateway_queue_bytes(const struct tunnel_gateway *g);
/* Finished tunnel messages waiting. */
size_t tunnel_gateway_pending(const struct tunnel_gateway *g);
/* Take the oldest finished message into out (TUNNEL_MSG_BYTES); false
 * when none is waiting.  Taking the last frees the queue. */
bool tunnel_gateway_pop(struct tunnel_gateway *g, uint8_t *out);

#endif /* TUNNELS_GATEWAY_H */
