/*
 * SSU2 payload blocks (geti2p.net/spec/ssu2, "Noise Payload", "Block
 * Ordering Rules", "Block Specifications"): splitting a decrypted payload
 * into blocks with the ordering rules and per-type size limits, decoders
 * and encoders for the blocks a session uses, ACK blocks with ranges over
 * a received-packet window, and reassembly of fragmented I2NP messages.
 *
 * Decoders take untrusted bytes through the byte reader; decoded structs
 * borrow pointers into the payload and live no longer than it.  Encoders
 * append to a struct bbuf.  Nothing here logs: the caller knows the
 * context and logs once, rate-limited.
 *
 * Thread: none of this is thread-safe on a shared object.
 */
#ifndef ROUTER_SSU2_BLOCK_H
#define ROUTER_SSU2_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "router/i2np.h"

enum ssu2_block_type {
	SSU2_BLK_DATETIME = 0,
	SSU2_BLK_OPTIONS = 1,
	SSU2_BLK_ROUTERINFO = 2,
	SSU2_BLK_I2NP = 3,
	SSU2_BLK_FIRST_FRAG = 4,
	SSU2_BLK_FOLLOW_FRAG = 5,
	SSU2_BLK_TERMINATION = 6,
	SSU2_BLK_RELAY_REQUEST = 7,
	SSU2_BLK_RELAY_RESPONSE = 8,
	SSU2_BLK_RELAY_INTRO = 9,
	SSU2_BLK_PEER_TEST = 10,
	SSU2_BLK_NEXT_NONCE = 11,
	SSU2_BLK_ACK = 12,
	SSU2_BLK_ADDRESS = 13,
	SSU2_BLK_RELAY_TAG_REQUEST = 15,
	SSU2_BLK_RELAY_TAG = 16,
	SSU2_BLK_NEW_TOKEN = 17,
	SSU2_BLK_PATH_CHALLENGE = 18,
	SSU2_BLK_PATH_RESPONSE = 19,
	SSU2_BLK_FIRST_PKT_NUM = 20,
	SSU2_BLK_CONGESTION = 21,
	SSU2_BLK_PADDING = 254,
};

/* Termination reasons ("rsn :: reason, 1 byte"). */
enum ssu2_term_reason {
	SSU2_TERM_NORMAL = 0,
	SSU2_TERM_RECEIVED = 1,
	SSU2_TERM_IDLE = 2,
	SSU2_TERM_SHUTDOWN = 3,
	SSU2_TERM_AEAD = 4,
	SSU2_TERM_OPTIONS = 5,
	SSU2_TERM_SIG_TYPE = 6,
	SSU2_TERM_CLOCK_SKEW = 7,
	SSU2_TERM_PADDING = 8,
	SSU2_TERM_FRAMING = 9,
	SSU2_TERM_PAYLOAD = 10,
	SSU2_TERM_REQUEST = 11,
	SSU2_TERM_CREATED = 12,
	SSU2_TERM_CONFIRMED = 13,
	SSU2_TERM_TIMEOUT = 14,
	SSU2_TERM_RI_SIG = 15,
	SSU2_TERM_S_PARAM = 16,
	SSU2_TERM_BANNED = 17,
	SSU2_TERM_BAD_TOKEN = 18,
	SSU2_TERM_LIMITS = 19,
	SSU2_TERM_VERSION = 20,
	SSU2_TERM_NETID = 21,
	SSU2_TERM_REPLACED = 22,
};

#define SSU2_BLOCK_HEADER_BYTES 3
/* A payload fits one packet, so no payload holds more blocks than this
 * (most are 3+ bytes; 490 empty blocks would fill 1470 bytes). */
#define SSU2_MAX_PAYLOAD_BYTES 1472
#define SSU2_MAX_BLOCKS 64
#define SSU2_DATETIME_BYTES 4
#define SSU2_OPTIONS_MIN_BYTES 12
#define SSU2_TERMINATION_MIN_BYTES 9
#define SSU2_NEW_TOKEN_BYTES 12
#define SSU2_RELAY_TAG_BYTES 4
#define SSU2_FIRST_PKT_NUM_BYTES 4
#define SSU2_ACK_MIN_BYTES 5
/* ACK ranges we read from one block (a 1472-byte packet holds at most
 * about 730) and write into one. */
#define SSU2_ACK_MAX_RANGES 736
#define SSU2_ACK_SEND_MAX_RANGES 32
/* The Address block: port ‖ IPv4 (6) or IPv6 (18). */
#define SSU2_ADDRESS_V4_BYTES 6
#define SSU2_ADDRESS_V6_BYTES 18
/* RouterInfo block: "flag ‖ frag ‖ RouterInfo"; frag "always 0/1". */
#define SSU2_RI_FLAG_FLOOD 0x01
#define SSU2_RI_FLAG_GZIP 0x02
#define SSU2_RI_FRAG_ONLY 0x01
/* i2pd refuses RouterInfos over 3071 bytes; with fragmented
 * SessionConfirmed an uncompressed one may take up to 4 KiB. */
#define SSU2_RI_MAX_BYTES 4096
/* I2NP and First Fragment: 9-byte short header, then (part of) the body. */
#define SSU2_I2NP_HDR_BYTES 9
/* Follow-on Fragment: frag ‖ message id. */
#define SSU2_FOLLOW_HDR_BYTES 5
/* "bits 7-1: fragment number 1 - 127"; we take at most 64 fragments per
 * message (62708 bytes at 1280 MTU need about 55). */
#define SSU2_MAX_FRAGS 64
/* Partial messages one session reassembles at once, and how long one
 * may wait for its missing fragments. */
#define SSU2_REASM_MAX_MSGS 64
/* Completed message ids remembered per session. */
#define SSU2_REASM_DONE_IDS 64
#define SSU2_REASM_TIMEOUT_MS 10000
/* Path challenge data we answer (we send 8 bytes; i2pd sends 8). */
#define SSU2_PATH_DATA_MAX_BYTES 64

struct ssu2_block {
	uint8_t type;
	const uint8_t *data;	/* borrowed from the payload */
	size_t len;
};

/* A decoded payload: its blocks in order. */
struct ssu2_payload {
	size_t n;
	struct ssu2_block b[SSU2_MAX_BLOCKS];
};

/*
 * Split a decrypted payload (untrusted) into blocks.  Ordering rules:
 * "Padding, if present, must be the last block ... Termination, if
 * present, must be the last block except for Padding. Multiple Padding
 * blocks are not allowed".  With ri_first (SessionConfirmed) the first
 * block must be a RouterInfo.  Unknown types are kept (the caller skips
 * them).  Errors: ERR_TRUNCATED (a block runs past the end), ERR_FORMAT
 * (order), ERR_TOO_BIG (over SSU2_MAX_BLOCKS or SSU2_MAX_PAYLOAD_BYTES),
 * ERR_RANGE (a block's length outside its type's fixed size or minimum).
 */
int ssu2_payload_decode(const uint8_t *p, size_t len, bool ri_first,
			struct ssu2_payload *out);

/* ---- single blocks ---- */

/* Append a block header and data (len ≤ 65535) to b. */
void ssu2_blk_put(struct bbuf *b, uint8_t type, const void *data, size_t len);
void ssu2_blk_put_datetime(struct bbuf *b, uint32_t now_s);
/* Address block for ip (4 or 16 bytes, network order) and port. */
void ssu2_blk_put_address(struct bbuf *b, const uint8_t *ip, size_t iplen,
			  uint16_t port);
void ssu2_blk_put_termination(struct bbuf *b, uint64_t rcvd, uint8_t reason);
void ssu2_blk_put_new_token(struct bbuf *b, uint32_t expires_s,
			    uint64_t token);
void ssu2_blk_put_relay_tag(struct bbuf *b, uint32_t tag);
/* RouterInfo block around ri (already gzipped when flags has GZIP). */
void ssu2_blk_put_ri(struct bbuf *b, uint8_t flags, const uint8_t *ri,
		     size_t len);
/* I2NP block for m (short header + whole body). */
void ssu2_blk_put_i2np(struct bbuf *b, const struct i2np_msg *m);
/* First Fragment of m: short header + body[0..n). */
void ssu2_blk_put_first_frag(struct bbuf *b, const struct i2np_msg *m,
			     size_t n);
/* Follow-on Fragment number frag (1..127) of m: body[off..off+n). */
void ssu2_blk_put_follow_frag(struct bbuf *b, const struct i2np_msg *m,
			      unsigned frag, bool last, size_t off, size_t n);
/*
 * How a message of len body bytes is cut into blocks, decided when it is
 * first put into a packet with avail bytes left (block headers
 * included).  room is what a packet gives one block (its payload less
 * the room kept for an ACK); every fragment fits that, so a fragment
 * resent alone always fits.  The first block takes what fits of avail
 * (avail is capped at room): the whole message as an I2NP block, or a
 * First Fragment filling avail with the rest in Follow-on Fragments of
 * room bytes each ("multiple I2NP blocks ... and fragments may be packed
 * in one packet", ssu2.rst, Data phase).  Fragment boundaries stay fixed
 * from then on: a receiver joins fragments by number.
 *
 * Returns false when the message should not start in this packet: it is
 * not whole in avail, and avail holds under SSU2_SPLIT_MIN_BYTES of its
 * body, or cutting it there needs over SSU2_MAX_FRAGS fragments.  With
 * avail == room (an empty packet) false means it cannot be sent at all.
 */
#define SSU2_SPLIT_MIN_BYTES 64
struct ssu2_frag_plan {
	unsigned nfrags;	/* 1: a whole I2NP block */
	size_t frag0;		/* body bytes in the first block */
	size_t fragn;		/* ...in each later one (the last: the rest) */
};
bool ssu2_frag_plan(size_t len, size_t avail, size_t room,
		    struct ssu2_frag_plan *out);
/* Body bytes of fragment f (< p->nfrags) of a message of len bytes, and
 * their offset in the body. */
size_t ssu2_frag_len(const struct ssu2_frag_plan *p, size_t len, unsigned f,
		     size_t *off);
/* Its block on the wire: header, I2NP or follow-on header, body. */
size_t ssu2_frag_wire(const struct ssu2_frag_plan *p, size_t len, unsigned f);
/* Append fragment f of m as planned (an I2NP block when whole). */
void ssu2_blk_put_frag(struct bbuf *b, const struct i2np_msg *m,
		       const struct ssu2_frag_plan *p, unsigned f);

/* Padding block of n random bytes. */
void ssu2_blk_put_padding(struct bbuf *b, size_t n);

struct ssu2_address {
	uint16_t port;
	uint8_t ip[16];
	size_t iplen;		/* 4 or 16 */
};
/* Address block: 6 or 18 bytes.  ERR_FORMAT otherwise. */
int ssu2_address_decode(const struct ssu2_block *blk, struct ssu2_address *out);

struct ssu2_termination {
	uint64_t rcvd;		/* "valid data packets received" */
	uint8_t reason;
};
int ssu2_termination_decode(const struct ssu2_block *blk,
			    struct ssu2_termination *out);

/* DateTime: exactly 4 bytes of seconds. */
int ssu2_datetime_decode(const struct ssu2_block *blk, uint32_t *out);
/* New Token: expires (seconds) and the token. */
int ssu2_new_token_decode(const struct ssu2_block *blk, uint32_t *expires_s,
			  uint64_t *token);
/* Relay Tag: 4 bytes, nonzero (ERR_FORMAT for 0). */
int ssu2_relay_tag_decode(const struct ssu2_block *blk, uint32_t *tag);

struct ssu2_ri_block {
	uint8_t flags;		/* SSU2_RI_FLAG_* */
	const uint8_t *data;	/* the RouterInfo, gzipped when GZIP */
	size_t len;
};
/* RouterInfo block: flag ‖ frag (must be 0x01) ‖ data ≤ SSU2_RI_MAX_BYTES.
 * ERR_UNSUPPORTED for a fragmented one, ERR_TOO_BIG. */
int ssu2_ri_block_decode(const struct ssu2_block *blk,
			 struct ssu2_ri_block *out);
/* The RouterInfo of blk, gunzipped if needed, into out (outmax bytes).
 * Errors: as ssu2_ri_block_decode() and gzip_decompress(). */
int ssu2_ri_block_extract(const struct ssu2_ri_block *rb, uint8_t *out,
			  size_t outmax, size_t *len);

/* I2NP block or First Fragment: "type ‖ msg id ‖ short exp ‖ body". */
struct ssu2_i2np_part {
	uint8_t type;		/* I2NP type (first fragment / whole) */
	uint32_t msg_id;
	uint32_t exp_s;		/* first fragment / whole only */
	unsigned frag;		/* 0 for I2NP / First; 1..127 Follow-on */
	bool last;		/* I2NP: true; First: false; Follow-on: flag */
	const uint8_t *data;
	size_t len;		/* > 0 for fragments */
};
/* Decode an I2NP (3), First Fragment (4) or Follow-on Fragment (5)
 * block.  ERR_FORMAT (empty fragment, fragment number 0 or over
 * SSU2_MAX_FRAGS - 1), ERR_TRUNCATED, ERR_ARG (other type). */
int ssu2_i2np_part_decode(const struct ssu2_block *blk,
			  struct ssu2_i2np_part *out);

/* ---- ACKs ---- */

struct ssu2_ack {
	uint32_t through;	/* "highest packet number acked" */
	uint8_t acnt;		/* acked just below through */
	size_t nranges;
	uint8_t ranges[2 * SSU2_ACK_MAX_RANGES];	/* nack, ack pairs */
};
/* ACK block: through ‖ acnt ‖ (nack, ack)*.  ERR_FORMAT for an odd
 * tail, ERR_TOO_BIG over SSU2_ACK_MAX_RANGES.  Ranges running below packet
 * 0 are clamped by the readers below. */
int ssu2_ack_decode(const struct ssu2_block *blk, struct ssu2_ack *out);
/* Call fn for each acked packet number, highest first. */
void ssu2_ack_foreach(const struct ssu2_ack *a,
		      void (*fn)(void *arg, uint32_t pn), void *arg);
/* The same, stopping below packet lo (packets already settled). */
void ssu2_ack_foreach_from(const struct ssu2_ack *a, uint32_t lo,
			   void (*fn)(void *arg, uint32_t pn), void *arg);
/* True when a acks pn. */
bool ssu2_ack_has(const struct ssu2_ack *a, uint32_t pn);

/*
 * Packets received, for duplicate detection and our ACK blocks: a bitmap
 * of the SSU2_RXWIN_BITS packet numbers ending at the highest received.
 */
#define SSU2_RXWIN_BITS 1024
struct ssu2_rxwin {
	bool any;
	uint32_t highest;
	uint64_t bits[SSU2_RXWIN_BITS / 64];	/* bit i: highest - i seen */
};
void ssu2_rxwin_init(struct ssu2_rxwin *w);
/* Record pn: 0 if new, ERR_DUPLICATE if seen, ERR_RANGE if older than the
 * window (treated as seen). */
int ssu2_rxwin_add(struct ssu2_rxwin *w, uint32_t pn);
bool ssu2_rxwin_has(const struct ssu2_rxwin *w, uint32_t pn);
/* Append an ACK block for w using at most max bytes (block header
 * included; ≥ 8) and at most SSU2_ACK_SEND_MAX_RANGES ranges.  Nothing
 * when nothing was received.  Returns the bytes appended. */
size_t ssu2_rxwin_put_ack(const struct ssu2_rxwin *w, struct bbuf *b,
			  size_t max);

/* ---- reassembly ---- */

struct ssu2_reasm;	/* opaque */
/* Never returns NULL; caller owns it. */
struct ssu2_reasm *ssu2_reasm_new(void);
void ssu2_reasm_free(struct ssu2_reasm *r);
/*
 * Add a First or Follow-on fragment (part from ssu2_i2np_part_decode;
 * data copied).  When it completes a message, *done gets it (caller
 * owns; expiration from the first fragment) and 0 is returned; otherwise
 * *done is NULL.  A fragment already held is ignored, and so is one of
 * the last SSU2_REASM_DONE_IDS messages completed (sent again after its
 * ACK was lost, it would begin a message nobody finishes).  Errors (the
 * partial message is dropped): ERR_TOO_BIG (over I2NP_MAX_PAYLOAD_BYTES),
 * ERR_FORMAT (two different last fragments, a fragment after the last).
 * With SSU2_REASM_MAX_MSGS partial messages held already, the oldest is
 * dropped to make room.
 */
int ssu2_reasm_add(struct ssu2_reasm *r, const struct ssu2_i2np_part *part,
		   uint64_t now_ms, struct i2np_msg **done);
/* Drop partial messages older than timeout_ms (SSU2_REASM_TIMEOUT_MS
 * unless configured); returns how many. */
size_t ssu2_reasm_expire(struct ssu2_reasm *r, uint64_t now_ms,
			 uint64_t timeout_ms);
size_t ssu2_reasm_count(const struct ssu2_reasm *r);
/* Fragment bytes held (the partial messages' bodies so far). */
size_t ssu2_reasm_bytes(const struct ssu2_reasm *r);
/* When the oldest partial message held began (UINT64_MAX: none). */
uint64_t ssu2_reasm_oldest_ms(const struct ssu2_reasm *r);
/* Drop the oldest partial message; false if none was held. */
bool ssu2_reasm_drop_oldest(struct ssu2_reasm *r);

#endif /* ROUTER_SSU2_BLOCK_H */
