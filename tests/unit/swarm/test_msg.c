/* apps/swarm/msg: the peer protocol codec (docs/swarm.md §2). */
#include "config.h"

#include <string.h>

#include "apps/swarm/msg.h"
#include "crypto/base/err.h"
#include "tests/unit/tharness.h"

/* Encode m, check the frame decodes back to the same bytes, and that
 * every proper prefix is "need more" (ERR_TRUNCATED, used 0).  back
 * borrows from a buffer kept until the next call. */
static struct bbuf rt_keep = BBUF_INIT;

static void roundtrip(struct tctx *t, const struct swarm_msg *m,
		      struct swarm_msg *back)
{
	struct bbuf b = BBUF_INIT, b2 = BBUF_INIT;
	size_t used = 99;

	T_OK(t, swarm_msg_encode(m, &b));
	T_OK(t, swarm_msg_decode(b.data, b.len, back, &used));
	T_EQ(t, used, b.len);
	T_EQ(t, back->type, m->type);
	T_OK(t, swarm_msg_encode(back, &b2));
	T_EQ(t, b2.len, b.len);
	T_MEMEQ(t, b2.data, b.data, b.len);
	for (size_t n = 0; n < b.len; n++) {
		used = 99;
		T_ERR(t, swarm_msg_decode(b.data, n, back, &used),
		      ERR_TRUNCATED);
		T_EQ(t, used, 0);
	}
	T_OK(t, swarm_msg_decode(b.data, b.len, back, &used));
	bbuf_free(&rt_keep);
	rt_keep = b;
	bbuf_free(&b2);
}

static void test_handshake(struct tctx *t)
{
	struct swarm_msg m = { .type = SWARM_HANDSHAKE }, back;
	struct bbuf b = BBUF_INIT;
	size_t used;

	m.u.hs.version = SWARM_PROTO_VERSION;
	memset(m.u.hs.content_hash, 0xab, 32);
	roundtrip(t, &m, &back);
	T_EQ(t, back.u.hs.version, 1);
	T_MEMEQ(t, back.u.hs.content_hash, m.u.hs.content_hash, 32);
	T_OK(t, swarm_msg_encode(&m, &b));
	T_EQ(t, b.len, SWARM_HEADER_BYTES + SWARM_HANDSHAKE_BYTES);
	T_MEMEQ(t, b.data + 5, "BSWM", 4);
	b.data[6] ^= 1;				/* bad magic */
	T_ERR(t, swarm_msg_decode(b.data, b.len, &back, &used), ERR_FORMAT);
	b.data[6] ^= 1;
	b.data[3]++;				/* one byte longer */
	bbuf_u8(&b, 0);
	T_ERR(t, swarm_msg_decode(b.data, b.len, &back, &used), ERR_TOO_BIG);
	bbuf_free(&b);
}

static void test_small_messages(struct tctx *t)
{
	static const enum swarm_msg_type empty[] = {
		SWARM_KEEPALIVE, SWARM_CHOKE, SWARM_UNCHOKE,
		SWARM_INTERESTED, SWARM_NOT_INTERESTED
	};
	struct swarm_msg m, back;
	uint8_t frame[6] = { 0, 0, 0, 2, SWARM_CHOKE, 0 };
	size_t used;

	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		m = (struct swarm_msg){ .type = empty[i] };
		roundtrip(t, &m, &back);
	}
	/* An empty message with a body byte: its size is fixed. */
	T_ERR(t, swarm_msg_decode(frame, 6, &back, &used), ERR_TOO_BIG);
	m = (struct swarm_msg){ .type = SWARM_HAVE, .u.have = 12345 };
	roundtrip(t, &m, &back);
	T_EQ(t, back.u.have, 12345);
	m.u.have = CONTENT_MAX_CHUNKS;
	{
		struct bbuf b = BBUF_INIT;
		T_ERR(t, swarm_msg_encode(&m, &b), ERR_ARG);
		T_EQ(t, b.len, 0);
	}
	/* Unknown type, zero length. */
	frame[3] = 1;
	frame[4] = SWARM_MSG_TYPE_COUNT;
	T_ERR(t, swarm_msg_decode(frame, 5, &back, &used), ERR_UNSUPPORTED);
	frame[3] = 0;
	T_ERR(t, swarm_msg_decode(frame, 5, &back, &used), ERR_FORMAT);
}

static void test_ranges(struct tctx *t)
{
	static const enum swarm_msg_type types[] = {
		SWARM_REQUEST, SWARM_CANCEL, SWARM_REJECT
	};
	struct swarm_msg m, back;
	struct bbuf b = BBUF_INIT;
	size_t used;

	for (size_t i = 0; i < 3; i++) {
		m = (struct swarm_msg){ .type = types[i] };
		m.u.range.index = 7;
		m.u.range.count = SWARM_REQUEST_MAX_CHUNKS;
		roundtrip(t, &m, &back);
		T_EQ(t, back.u.range.index, 7);
		T_EQ(t, back.u.range.count, SWARM_REQUEST_MAX_CHUNKS);
	}
	m.u.range.count = 0;
	T_ERR(t, swarm_msg_encode(&m, &b), ERR_ARG);
	/* Hand-made frames: count 0, count over the cap, past the end. */
	static const uint8_t zero[] = { 0, 0, 0, 9, 8, 0, 0, 0, 1, 0, 0, 0, 0 };
	static const uint8_t big[] = { 0, 0, 0, 9, 8, 0, 0, 0, 1, 0, 0, 0, 17 };
	static const uint8_t end[] = { 0, 0, 0, 9, 8, 0, 0x3f, 0xff, 0xff,
				       0, 0, 0, 2 };
	T_ERR(t, swarm_msg_decode(zero, sizeof(zero), &back, &used),
	      ERR_FORMAT);
	T_ERR(t, swarm_msg_decode(big, sizeof(big), &back, &used),
	      ERR_TOO_BIG);
	T_ERR(t, swarm_msg_decode(end, sizeof(end), &back, &used),
	      ERR_FORMAT);
	bbuf_free(&b);
}

static void test_bitfield(struct tctx *t)
{
	uint8_t bits[2] = { 0xff, 0x07 };
	struct swarm_msg m = { .type = SWARM_BITFIELD }, back;
	struct bbuf b = BBUF_INIT;
	size_t used;

	m.u.bitfield.count = 11;
	m.u.bitfield.bits = bits;
	roundtrip(t, &m, &back);
	T_EQ(t, back.u.bitfield.count, 11);
	T_MEMEQ(t, back.u.bitfield.bits, bits, 2);
	bits[1] = 0x0f;				/* bit 11 does not exist */
	T_OK(t, swarm_msg_encode(&m, &b));
	T_ERR(t, swarm_msg_decode(b.data, b.len, &back, &used), ERR_FORMAT);
	/* A count that needs more bytes than the frame holds. */
	bbuf_reset(&b);
	m.u.bitfield.count = 8;
	T_OK(t, swarm_msg_encode(&m, &b));
	b.data[8] = 9;
	T_ERR(t, swarm_msg_decode(b.data, b.len, &back, &used), ERR_FORMAT);
	/* A declared length over the largest bitmap is refused from the
	 * header alone, before the body is in. */
	static const uint8_t huge[] = { 0, 0x09, 0, 0, SWARM_BITFIELD };
	T_ERR(t, swarm_msg_decode(huge, sizeof(huge), &back, &used),
	      ERR_TOO_BIG);
	bbuf_free(&b);
}

static void test_piece(struct tctx *t)
{
	uint8_t chunk[100];
	struct swarm_msg m = { .type = SWARM_PIECE }, back;
	struct bbuf b = BBUF_INIT;
	size_t used;

	memset(chunk, 0x5a, sizeof(chunk));
	m.u.piece.index = 5;
	m.u.piece.proof.index = 5;
	m.u.piece.proof.count = 6;
	m.u.piece.proof.depth = (uint8_t)content_proof_depth(5, 6);
	memset(m.u.piece.proof.sib, 0x11, sizeof(m.u.piece.proof.sib));
	m.u.piece.chunk = chunk;
	m.u.piece.chunk_len = sizeof(chunk);
	roundtrip(t, &m, &back);
	T_EQ(t, back.u.piece.index, 5);
	T_EQ(t, back.u.piece.chunk_len, sizeof(chunk));
	T_MEMEQ(t, back.u.piece.chunk, chunk, sizeof(chunk));
	T_EQ(t, back.u.piece.proof.count, 6);
	T_EQ(t, back.u.piece.proof.depth, m.u.piece.proof.depth);
	/* The proof must be for the chunk it comes with. */
	T_OK(t, swarm_msg_encode(&m, &b));
	b.data[8] = 4;				/* piece index 5 -> 4 */
	T_ERR(t, swarm_msg_decode(b.data, b.len, &back, &used), ERR_FORMAT);
	/* A chunk shorter than its tag. */
	m.u.piece.chunk_len = CONTENT_TAG_BYTES - 1;
	bbuf_reset(&b);
	T_ERR(t, swarm_msg_encode(&m, &b), ERR_ARG);
	/* A frame over the largest piece is refused from its header. */
	uint8_t hdr[5] = { 0, 0, 0, 0, SWARM_PIECE };
	be32_put(hdr, (uint32_t)(SWARM_PIECE_MAX_BODY + 2));
	T_ERR(t, swarm_msg_decode(hdr, 5, &back, &used), ERR_TOO_BIG);
	be32_put(hdr, (uint32_t)(SWARM_PIECE_MAX_BODY + 1));
	T_ERR(t, swarm_msg_decode(hdr, 5, &back, &used), ERR_TRUNCATED);
	bbuf_free(&b);
}

static void test_meta_peers_error(struct tctx *t)
{
	uint8_t data[40], hashes[2 * 32];
	struct swarm_msg m = { .type = SWARM_META_REQUEST }, back;
	struct bbuf b = BBUF_INIT;
	size_t used;

	m.u.metareq.kind = SWARM_META_TREE;
	m.u.metareq.offset = 65536;
	roundtrip(t, &m, &back);
	T_EQ(t, back.u.metareq.kind, SWARM_META_TREE);
	T_EQ(t, back.u.metareq.offset, 65536);

	memset(data, 3, sizeof(data));
	m = (struct swarm_msg){ .type = SWARM_META };
	m.u.meta.kind = SWARM_META_MANIFEST;
	m.u.meta.total = 100;
	m.u.meta.offset = 60;
	m.u.meta.data = data;
	m.u.meta.len = 40;
	roundtrip(t, &m, &back);
	T_EQ(t, back.u.meta.total, 100);
	T_EQ(t, back.u.meta.len, 40);
	m.u.meta.offset = 61;			/* past the end */
	T_ERR(t, swarm_msg_encode(&m, &b), ERR_ARG);
	m.u.meta.offset = 60;
	T_OK(t, swarm_msg_encode(&m, &b));
	b.data[5 + 1 + 8 + 7] = 61;
	T_ERR(t, swarm_msg_decode(b.data, b.len, &back, &used), ERR_FORMAT);

	memset(hashes, 7, sizeof(hashes));
	m = (struct swarm_msg){ .type = SWARM_PEERS };
	m.u.peers.n = 2;
	m.u.peers.hashes = hashes;
	roundtrip(t, &m, &back);
	T_EQ(t, back.u.peers.n, 2);
	T_MEMEQ(t, back.u.peers.hashes, hashes, 64);
	m.u.peers.n = SWARM_PEERS_MAX + 1;
	bbuf_reset(&b);
	T_ERR(t, swarm_msg_encode(&m, &b), ERR_ARG);

	m = (struct swarm_msg){ .type = SWARM_ERROR };
	m.u.error.code = SWARM_ERR_BAD_PIECE;
	m.u.error.text = "bad proof";
	m.u.error.len = 9;
	roundtrip(t, &m, &back);
	T_EQ(t, back.u.error.code, SWARM_ERR_BAD_PIECE);
	T_EQ(t, back.u.error.len, 9);
	T_MEMEQ(t, back.u.error.text, "bad proof", 9);
	bbuf_free(&b);
}

/* ANNOUNCE: a content hash and flags; unknown flag bits are refused. */
static void test_announce(struct tctx *t)
{
	struct swarm_msg m = { .type = SWARM_ANNOUNCE }, back;
	struct bbuf b = BBUF_INIT;
	size_t used;

	memset(m.u.announce.content_hash, 0x5c, 32);
	m.u.announce.flags = SWARM_ANNOUNCE_SEEDING;
	roundtrip(t, &m, &back);
	T_MEMEQ(t, back.u.announce.content_hash, m.u.announce.content_hash, 32);
	T_EQ(t, back.u.announce.flags, SWARM_ANNOUNCE_SEEDING);
	m.u.announce.flags = SWARM_ANNOUNCE_STOPPED;
	roundtrip(t, &m, &back);
	T_EQ(t, back.u.announce.flags, SWARM_ANNOUNCE_STOPPED);
	T_OK(t, swarm_msg_encode(&m, &b));
	T_EQ(t, b.len, SWARM_HEADER_BYTES + SWARM_ANNOUNCE_BYTES);
	b.data[b.len - 1] = 0x04;		/* a flag nobody defined */
	T_ERR(t, swarm_msg_decode(b.data, b.len, &back, &used), ERR_FORMAT);
	b.data[3]--;				/* one byte short */
	T_ERR(t, swarm_msg_decode(b.data, b.len - 1, &back, &used),
	      ERR_FORMAT);
	m.u.announce.flags = 0x80;
	bbuf_reset(&b);
	T_ERR(t, swarm_msg_encode(&m, &b), ERR_ARG);
	T_EQ(t, b.len, 0);
	bbuf_free(&b);
}

/* Two frames back to back decode one at a time. */
static void test_stream_of_frames(struct tctx *t)
{
	struct swarm_msg a = { .type = SWARM_HAVE, .u.have = 1 }, back;
	struct swarm_msg k = { .type = SWARM_KEEPALIVE };
	struct bbuf b = BBUF_INIT;
	size_t used;

	T_OK(t, swarm_msg_encode(&a, &b));
	T_OK(t, swarm_msg_encode(&k, &b));
	T_OK(t, swarm_msg_decode(b.data, b.len, &back, &used));
	T_EQ(t, used, 9);
	T_EQ(t, back.type, SWARM_HAVE);
	T_OK(t, swarm_msg_decode(b.data + used, b.len - used, &back, &used));
	T_EQ(t, used, 5);
	T_EQ(t, back.type, SWARM_KEEPALIVE);
	T_STREQ(t, swarm_msg_type_name(SWARM_PIECE), "piece");
	T_STREQ(t, swarm_msg_type_name(200), "?");
	bbuf_free(&rt_keep);
	bbuf_free(&b);
}

/* PAY carries 1..SWARM_PAY_MAX_BODY opaque bytes, as they are. */
static void test_pay(struct tctx *t)
{
	static const uint8_t body[3] = { 2, 0xaa, 0x55 };
	static const uint8_t empty[] = { 0, 0, 0, 1, SWARM_PAY };
	uint8_t big[SWARM_HEADER_BYTES + SWARM_PAY_MAX_BODY + 1] = { 0 };
	struct swarm_msg m = { .type = SWARM_PAY }, back;
	struct bbuf b = BBUF_INIT;
	size_t used;

	m.u.pay.data = body;
	m.u.pay.len = sizeof(body);
	roundtrip(t, &m, &back);
	T_EQ(t, back.u.pay.len, 3);
	T_MEMEQ(t, back.u.pay.data, body, 3);
	m.u.pay.len = 0;
	T_ERR(t, swarm_msg_encode(&m, &b), ERR_ARG);
	m.u.pay.len = SWARM_PAY_MAX_BODY + 1;
	T_ERR(t, swarm_msg_encode(&m, &b), ERR_ARG);
	T_EQ(t, b.len, 0);
	T_ERR(t, swarm_msg_decode(empty, sizeof(empty), &back, &used),
	      ERR_FORMAT);
	big[2] = (SWARM_PAY_MAX_BODY + 2) >> 8;
	big[3] = (SWARM_PAY_MAX_BODY + 2) & 0xff;
	big[4] = SWARM_PAY;
	T_ERR(t, swarm_msg_decode(big, sizeof(big), &back, &used),
	      ERR_TOO_BIG);
	T_STREQ(t, swarm_msg_type_name(SWARM_PAY), "pay");
	bbuf_free(&rt_keep);
	bbuf_free(&b);
}

const struct test_case swarm_msg_tests[] = {
	{ "handshake", test_handshake, 0 },
	{ "small", test_small_messages, 0 },
	{ "ranges", test_ranges, 0 },
	{ "bitfield", test_bitfield, 0 },
	{ "piece", test_piece, 0 },
	{ "meta_peers_error", test_meta_peers_error, 0 },
	{ "stream_of_frames", test_stream_of_frames, 0 },
	{ "announce", test_announce, 0 },
	{ "pay", test_pay, 0 },
	{ NULL, NULL, 0 }
};
