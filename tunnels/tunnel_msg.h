/*
 * The decrypted tunnel message (geti2p.net/spec/tunnel-message,
 * PROTOCOLS.md 2.9): IV (16) ‖ checksum (4) ‖ non-zero padding ‖ 0x00 ‖
 * (delivery instructions ‖ fragment)*, 1024 bytes in all, the checksum
 * being "the first 4 bytes of the SHA256 hash of (the contents of the
 * message (after the zero byte) + IV)".  And the tunnel flavour of
 * delivery instructions (not the garlic one).
 *
 * Pure codecs: no allocation, thread-safe.
 */
#ifndef TUNNELS_TUNNEL_MSG_H
#define TUNNELS_TUNNEL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "tunnels/layer.h"

#define TUNNEL_CHECKSUM_BYTES 4
/* Instructions and fragments fit in 1008 - 4 (checksum) - 1 (zero). */
#define TUNNEL_MAX_PAYLOAD_BYTES 1003
/* "The maximum size of an initial fragment is 956 bytes (assuming TUNNEL
 * delivery mode); the maximum size of a follow-on fragment is 996". */
#define TUNNEL_FIRST_FRAG_MAX_BYTES 956
#define TUNNEL_FOLLOW_FRAG_MAX_BYTES 996
/* Fragment numbers are 6 bits: the first fragment and up to 63 more. */
#define TUNNEL_MAX_FRAGMENTS 64
/* The largest I2NP message (standard header included) carried. */
#define TUNNEL_MAX_I2NP_BYTES (16 + 62708)
/* Longest instructions: flag, tunnel id, hash, message id, size. */
#define TUNNEL_DI_MAX_BYTES 43
#define TUNNEL_DI_FOLLOW_BYTES 7

enum tunnel_delivery {
	TUNNEL_DELIVER_LOCAL = 0,
	TUNNEL_DELIVER_TUNNEL = 1,
	TUNNEL_DELIVER_ROUTER = 2,
};

/* One set of delivery instructions. */
struct tunnel_di {
	bool follow_on;
	/* first fragment */
	enum tunnel_delivery type;
	uint32_t tunnel_id;		/* TUNNEL */
	uint8_t hash[32];		/* TUNNEL (gateway) and ROUTER */
	bool fragmented;		/* a message id follows */
	/* fragmented first fragments and follow-ons */
	uint32_t msg_id;
	/* follow-on */
	unsigned frag_num;		/* 1 .. 63 */
	bool last;
	uint16_t size;			/* bytes of fragment that follow */
};

/* Bytes tunnel_di_encode() writes for di. */
size_t tunnel_di_len(const struct tunnel_di *di);
/* Write di to out (tunnel_di_len(di) ≤ TUNNEL_DI_MAX_BYTES bytes);
 * returns the length. */
size_t tunnel_di_encode(const struct tunnel_di *di, uint8_t *out);
/*
 * Decode one set of instructions from r (untrusted).  ERR_TRUNCATED,
 * ERR_FORMAT (delivery type 3, fragment number 0, a zero size),
 * ERR_UNSUPPORTED (the delay or extended-options bits: "Unimplemented,
 * always 0").  The fragment itself stays in r.
 */
int tunnel_di_decode(struct breader *r, struct tunnel_di *out);

/*
 * Finish a tunnel message in msg (TUNNEL_MSG_BYTES): payload (len ≤
 * TUNNEL_MAX_PAYLOAD_BYTES bytes of instructions and fragments) goes at the
 * end, a random IV at the start, the checksum, non-zero random padding and
 * the zero byte between.  payload may point into msg (it is moved).
 */
void tunnel_msg_finish(uint8_t *msg, const uint8_t *payload, size_t len);
/*
 * Check a decrypted tunnel message (untrusted) and find its payload:
 * *payload points into msg after the zero byte, *len bytes to the end.
 * ERR_FORMAT when there is no zero byte, ERR_AUTH on a checksum mismatch.
 */
int tunnel_msg_open(const uint8_t *msg, const uint8_t **payload, size_t *len);

#endif /* TUNNELS_TUNNEL_MSG_H */
