/*
 * The swarm peer protocol: messages two destinations exchange over one I2P
 * stream to trade the sealed chunks of one content (docs/swarm.md).
 *
 * Framing: u32 length ‖ u8 type ‖ body, big-endian, length = 1 + body
 * bytes.  Every type has a fixed body size or a cap, checked before any
 * body byte is read; trailing bytes are an error.  The stream carries no
 * address: peers are named by destination hash, never by IP.
 *
 * The decoder is incremental: swarm_msg_decode() on a buffer that holds
 * only part of a frame returns ERR_TRUNCATED with *used = 0 ("need more"),
 * and a frame whose declared length is over its type's cap is refused as
 * soon as its header is in (ERR_TOO_BIG), so a peer cannot make us buffer
 * more than SWARM_FRAME_MAX_BYTES.
 */
#ifndef APPS_SWARM_MSG_H
#define APPS_SWARM_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/content/manifest.h"
#include "apps/content/merkle.h"
#include "crypto/base/bytes.h"

#define SWARM_PROTO_VERSION 1
#define SWARM_MAGIC "BSWM"
#define SWARM_HEADER_BYTES 5		/* u32 length ‖ u8 type */
#define SWARM_HANDSHAKE_BYTES (4 + 1 + CONTENT_HASH_BYTES + 4)
/* Largest sealed chunk: 2^CONTENT_CHUNK_LOG2_MAX plaintext + tag. */
#define SWARM_CHUNK_MAX_BYTES (((size_t)1 << CONTENT_CHUNK_LOG2_MAX) + \
			       CONTENT_TAG_BYTES)
#define SWARM_PIECE_MAX_BODY (4 + 2 + CONTENT_PROOF_MAX_BYTES + \
			      SWARM_CHUNK_MAX_BYTES)
/* A have-bitmap for CONTENT_MAX_CHUNKS chunks. */
#define SWARM_BITFIELD_MAX_BODY (4 + CONTENT_MAX_CHUNKS / 8)
#define SWARM_META_DATA_MAX_BYTES 65536	/* one page of manifest or tree */
#define SWARM_META_MAX_BODY (1 + 8 + 8 + SWARM_META_DATA_MAX_BYTES)
#define SWARM_REQUEST_MAX_CHUNKS 16	/* chunks per REQUEST range */
#define SWARM_PEERS_MAX 32		/* destination hashes per PEERS */
#define SWARM_ERROR_TEXT_MAX_BYTES 200
/* The largest frame of any type (the PIECE). */
#define SWARM_FRAME_MAX_BYTES (SWARM_HEADER_BYTES + SWARM_PIECE_MAX_BODY)

enum swarm_msg_type {
	SWARM_HANDSHAKE = 0,
	SWARM_KEEPALIVE = 1,
	SWARM_CHOKE = 2,
	SWARM_UNCHOKE = 3,
	SWARM_INTERESTED = 4,
	SWARM_NOT_INTERESTED = 5,
	SWARM_HAVE = 6,
	SWARM_BITFIELD = 7,
	SWARM_REQUEST = 8,
	SWARM_PIECE = 9,
	SWARM_CANCEL = 10,
	SWARM_REJECT = 11,
	SWARM_META_REQUEST = 12,
	SWARM_META = 13,
	SWARM_PEERS = 14,
	SWARM_ERROR = 15,
	SWARM_ANNOUNCE = 16,		/* to a tracker, instead of HANDSHAKE */
	SWARM_PAY = 17			/* a payment message, opaque here */
};
#define SWARM_MSG_TYPE_COUNT 18
/* A PAY body: the payment app's message (terms, a voucher), carried
 * as is; the swarm reads none of it (swarm.h, swarm_pay_hooks). */
#define SWARM_PAY_MAX_BODY 512

/* ANNOUNCE flags; the other bits must be 0. */
#define SWARM_ANNOUNCE_SEEDING 0x01u	/* we hold every chunk */
#define SWARM_ANNOUNCE_STOPPED 0x02u	/* forget us for this content */
#define SWARM_ANNOUNCE_BYTES (CONTENT_HASH_BYTES + 1)

enum swarm_meta_kind {
	SWARM_META_MANIFEST = 0,
	SWARM_META_TREE = 1
};

enum swarm_error_code {
	SWARM_ERR_VERSION = 1,		/* protocol version not spoken */
	SWARM_ERR_UNKNOWN_CONTENT = 2,	/* we do not serve this content */
	SWARM_ERR_PROTOCOL = 3,		/* a malformed or unexpected message */
	SWARM_ERR_BAD_PIECE = 4,	/* a chunk or proof did not verify */
	SWARM_ERR_LIMIT = 5,		/* too many peers or requests */
	SWARM_ERR_SHUTDOWN = 6
};

/*
 * One decoded message.  Pointers (bits, proof bytes, chunk, data, peers,
 * text) borrow from the decoded buffer.
 */
struct swarm_msg {
	enum swarm_msg_type type;
	union {
		struct {
			uint8_t version;
			uint8_t content_hash[CONTENT_HASH_BYTES];
			uint32_t flags;		/* none defined: 0 */
		} hs;
		uint32_t have;			/* HAVE: chunk index */
		struct {
			uint32_t count;		/* chunks */
			const uint8_t *bits;	/* ceil(count / 8) bytes */
		} bitfield;
		struct {			/* REQUEST, CANCEL, REJECT */
			uint32_t index, count;
		} range;
		struct {
			uint32_t index;
			struct content_proof proof;
			const uint8_t *chunk;	/* sealed ciphertext */
			size_t chunk_len;
		} piece;
		struct {			/* META_REQUEST */
			enum swarm_meta_kind kind;
			uint64_t offset;
		} metareq;
		struct {
			enum swarm_meta_kind kind;
			uint64_t total, offset;
			const uint8_t *data;
			size_t len;		/* ≤ SWARM_META_DATA_MAX_BYTES */
		} meta;
		struct {
			uint8_t n;
			const uint8_t *hashes;	/* n × 32 bytes */
		} peers;
		struct {
			uint8_t code;
			const char *text;	/* not NUL-terminated */
			size_t len;
		} error;
		struct {
			uint8_t content_hash[CONTENT_HASH_BYTES];
			uint8_t flags;		/* SWARM_ANNOUNCE_* */
		} announce;
		struct {			/* PAY */
			const uint8_t *data;
			size_t len;		/* 1..SWARM_PAY_MAX_BODY */
		} pay;
	} u;
};

/*
 * Decode the first frame of buf (untrusted).  On success *used is the
 * frame's size.  ERR_TRUNCATED with *used = 0: the frame is not complete
 * yet (read more).  Any other error is fatal for the connection:
 * ERR_TOO_BIG (a declared length or count over its cap), ERR_FORMAT (bad
 * magic, a size not the type's, a zero count, spare bitmap bits set,
 * trailing bytes, a proof that is not canonical), ERR_UNSUPPORTED (an
 * unknown type).  *out is written only on success.
 */
int swarm_msg_decode(const uint8_t *buf, size_t len, struct swarm_msg *out,
		     size_t *used);
/*
 * Append the frame of m to out.  ERR_ARG for a message the decoder would
 * refuse (a cap exceeded, a zero count), nothing appended then.
 */
int swarm_msg_encode(const struct swarm_msg *m, struct bbuf *out);
/* A short name for a type ("piece"), "?" for an unknown value. */
const char *swarm_msg_type_name(unsigned type);

#endif /* APPS_SWARM_MSG_H */
