/*
 * Feed gossip messages (docs/feed.md): the payload of a repliable datagram
 * between two feed peers.  Every message is
 *   "BF" ‖ u8 version=1 ‖ u8 type ‖ body
 * and the decoder takes exactly one message: counts and lengths are checked
 * against their limits before anything is read, and trailing bytes are an
 * error.  Items (cards, records) travel as their own signed encodings and
 * are decoded and verified by the receiver (apps/content/).
 */
#ifndef APPS_FEED_MSG_H
#define APPS_FEED_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

#define FEED_MSG_VERSION 1
#define FEED_MSG_HEADER_BYTES 4
#define FEED_ID_BYTES 32
#define FEED_DIGEST_BYTES 16
/* Items are bucketed by their created time (seconds) into days. */
#define FEED_BUCKET_SECS 86400u
#define FEED_SUMMARY_MAX_BUCKETS 64
#define FEED_IDS_REQ_MAX 16
#define FEED_IDS_MAX 512
#define FEED_WANT_MAX 256
/* Largest item: a card at every field's limit. */
#define FEED_ITEM_MAX_BYTES 24576
/* Largest message (an ITEM), well inside a 32 KB datagram. */
#define FEED_MSG_MAX_BYTES (FEED_MSG_HEADER_BYTES + 1 + 8 + 4 + \
			    FEED_ITEM_MAX_BYTES)

enum feed_msg_type {
	FEED_MSG_SUMMARY = 1,	/* digests of our most recent buckets */
	FEED_MSG_IDS_REQ = 2,	/* send me the ids of these buckets */
	FEED_MSG_IDS = 3,	/* the ids of one bucket */
	FEED_MSG_WANT = 4,	/* send me these items */
	FEED_MSG_ITEM = 5	/* one card or record (answer or push) */
};

enum feed_item_kind {
	FEED_ITEM_CARD = 1,
	FEED_ITEM_RECORD = 2
};

struct feed_bucket_sum {
	uint32_t bucket;		/* created / FEED_BUCKET_SECS */
	uint32_t count;			/* items in it */
	uint8_t digest[FEED_DIGEST_BYTES];	/* SHA-256(sorted ids)[0..16) */
};

/* A decoded message; pointers point into the decoded buffer. */
struct feed_msg {
	enum feed_msg_type type;
	union {
		struct {	/* SUMMARY: buckets strictly ascending */
			uint8_t n;
			struct feed_bucket_sum b[FEED_SUMMARY_MAX_BUCKETS];
		} summary;
		struct {	/* IDS_REQ */
			uint8_t n;
			uint32_t bucket[FEED_IDS_REQ_MAX];
		} ids_req;
		struct {	/* IDS and WANT: n × 32-byte ids */
			uint32_t bucket;	/* IDS only */
			uint16_t n;
			const uint8_t *ids;
		} ids;
		struct {	/* ITEM */
			enum feed_item_kind kind;
			uint64_t pow;	/* proof-of-work nonce (pow.h) */
			uint32_t len;
			const uint8_t *data;
		} item;
	} u;
};

/* Append the encoding of m to out.  ERR_TOO_BIG / ERR_FORMAT when m
 * breaks a limit (the same checks as the decoder). */
int feed_msg_encode(const struct feed_msg *m, struct bbuf *out);
/*
 * Decode untrusted bytes into *out (pointers into buf).  ERR_TRUNCATED,
 * ERR_TOO_BIG, ERR_FORMAT, ERR_UNSUPPORTED (version or type).  *out is
 * written only on success.
 */
int feed_msg_decode(const uint8_t *buf, size_t len, struct feed_msg *out);

#endif /* APPS_FEED_MSG_H */
