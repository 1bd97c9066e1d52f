/*
 * ECIES-X25519-AEAD-Ratchet payload blocks (ecies spec "5) Payload"):
 * the control blocks the ratchet itself reads and writes (Termination 4,
 * Options 5, Message Numbers 6, Next Key 7, ACK 8, ACK Request 9) beside
 * those router/garlic_router.h already codes (DateTime 0, Garlic Clove
 * 11, Padding 254), and one parser for a whole decrypted payload with the
 * spec's ordering rules for NS, NSR and ES messages.
 *
 * Pure functions, thread-safe.
 */
#ifndef ROUTER_RATCHET_BLOCK_H
#define ROUTER_RATCHET_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "crypto/x25519.h"
#include "router/garlic_router.h"

#define RATCHET_BLOCK_TERMINATION 4
#define RATCHET_BLOCK_OPTIONS 5
#define RATCHET_BLOCK_MSGNUM 6
#define RATCHET_BLOCK_NEXTKEY 7
#define RATCHET_BLOCK_ACK 8
#define RATCHET_BLOCK_ACK_REQUEST 9

/* Next Key flags: "bit 0: 1 for key present; bit 1: 1 for reverse key;
 * bit 2: 1 to request reverse key, only set if bit 1 is 0". */
#define RATCHET_NK_KEY 0x01u
#define RATCHET_NK_REVERSE 0x02u
#define RATCHET_NK_REQUEST 0x04u
/* "The maximum Key ID is 32767." */
#define RATCHET_MAX_KEY_ID 32767
/* Acks we take from one message ("size :: 4 * number of acks"). */
#define RATCHET_MAX_ACKS 32
/* "Options ... 21 bytes minimum". */
#define RATCHET_OPTIONS_MIN_BYTES 21

enum ratchet_kind { RATCHET_KIND_NS, RATCHET_KIND_NSR, RATCHET_KIND_ES };

struct ratchet_nextkey {
	uint8_t flags;
	uint16_t key_id;
	struct x25519_pk key;	/* when flags & RATCHET_NK_KEY */
};

struct ratchet_ack {
	uint16_t tagset_id;
	uint16_t n;
};

/* A decrypted payload; the cloves borrow from the parsed buffer. */
struct ratchet_payload {
	struct garlic_payload g;	/* DateTime and Garlic Cloves */
	bool has_termination;
	uint8_t term_reason;
	bool has_options;
	bool has_pn;
	uint16_t pn;
	size_t n_nextkeys;
	struct ratchet_nextkey nextkeys[2];
	size_t n_acks;
	struct ratchet_ack acks[RATCHET_MAX_ACKS];
	bool ack_request;
};

void ratchet_block_termination(struct bbuf *b, uint8_t reason);
void ratchet_block_msgnum(struct bbuf *b, uint16_t pn);
/* Next Key: the key is written when nk->flags has RATCHET_NK_KEY. */
void ratchet_block_nextkey(struct bbuf *b, const struct ratchet_nextkey *nk);
/* ACK with n (1..RATCHET_MAX_ACKS) entries. */
void ratchet_block_ack(struct bbuf *b, const struct ratchet_ack *acks,
		       size_t n);
void ratchet_block_ack_request(struct bbuf *b);

/*
 * Parse a decrypted payload (untrusted) of the given message kind.
 * Unknown block types are skipped.  Refused (ERR_FORMAT): in an NS a
 * missing or not-first DateTime; in NS and NSR any of Termination, Message
 * Numbers, Next Key, ACK, ACK Request; Padding that is not last, a second
 * Padding; a Termination followed by anything but Padding; a malformed
 * block (wrong size, Next Key flags bits 7-3, reverse with request, a key
 * ID over 32767, an Options block under 21 bytes); more than two Next
 * Keys.  ERR_TOO_BIG: more than RATCHET_MAX_ACKS acks or
 * GARLIC_MAX_CLOVES cloves.  ERR_TRUNCATED: a block past the end.
 */
int ratchet_payload_parse(const uint8_t *p, size_t len, enum ratchet_kind kind,
			  struct ratchet_payload *out);

#endif /* ROUTER_RATCHET_BLOCK_H */
