/*
 * The swarm peer protocol codec (docs/swarm.md §2): one table of body
 * sizes per type, checked against the declared frame length before the
 * body is read (Transmission's per-message length table), then one decoder
 * per type over the project's byte reader.
 */
#include "config.h"

#include <string.h>

#include "apps/swarm/msg.h"
#include "crypto/base/err.h"

/* Smallest and largest body per type. */
static const struct {
	const char *name;
	uint32_t min, max;
} swarm_body[SWARM_MSG_TYPE_COUNT] = {
	[SWARM_HANDSHAKE] = { "handshake", SWARM_HANDSHAKE_BYTES,
			      SWARM_HANDSHAKE_BYTES },
	[SWARM_KEEPALIVE] = { "keepalive", 0, 0 },
	[SWARM_CHOKE] = { "choke", 0, 0 },
	[SWARM_UNCHOKE] = { "unchoke", 0, 0 },
	[SWARM_INTERESTED] = { "interested", 0, 0 },
	[SWARM_NOT_INTERESTED] = { "not-interested", 0, 0 },
	[SWARM_HAVE] = { "have", 4, 4 },
	[SWARM_BITFIELD] = { "bitfield", 5, SWARM_BITFIELD_MAX_BODY },
	[SWARM_REQUEST] = { "request", 8, 8 },
	[SWARM_PIECE] = { "piece", 4 + 2 + 14, SWARM_PIECE_MAX_BODY },
	[SWARM_CANCEL] = { "cancel", 8, 8 },
	[SWARM_REJECT] = { "reject", 8, 8 },
	[SWARM_META_REQUEST] = { "meta-request", 9, 9 },
	[SWARM_META] = { "meta", 17, SWARM_META_MAX_BODY },
	[SWARM_PEERS] = { "peers", 1, 1 + SWARM_PEERS_MAX * 32 },
	[SWARM_ERROR] = { "error", 2, 2 + SWARM_ERROR_TEXT_MAX_BYTES },
	[SWARM_ANNOUNCE] = { "announce", SWARM_ANNOUNCE_BYTES,
			     SWARM_ANNOUNCE_BYTES },
	[SWARM_PAY] = { "pay", 1, SWARM_PAY_MAX_BODY },
};

#define SWARM_ANNOUNCE_FLAGS (SWARM_ANNOUNCE_SEEDING | SWARM_ANNOUNCE_STOPPED)

const char *swarm_msg_type_name(unsigned type)
{
	return type < SWARM_MSG_TYPE_COUNT ? swarm_body[type].name : "?";
}

static int range_check(uint32_t index, uint32_t count)
{
	if (count == 0 || index >= CONTENT_MAX_CHUNKS)
		return ERR_FORMAT;
	if (count > SWARM_REQUEST_MAX_CHUNKS)
		return ERR_TOO_BIG;
	if ((uint64_t)index + count > CONTENT_MAX_CHUNKS)
		return ERR_FORMAT;
	return 0;
}

static int decode_bitfield(struct breader *r, struct swarm_msg *m)
{
	uint32_t n = br_be32(r);
	size_t nb;

	if (n == 0)
		return ERR_FORMAT;
	if (n > CONTENT_MAX_CHUNKS)
		return ERR_TOO_BIG;
	nb = (n + 7) / 8;
	if (br_left(r) != nb)
		return ERR_FORMAT;
	m->u.bitfield.count = n;
	m->u.bitfield.bits = br_take(r, nb);
	/* Spare bits past the last chunk are zero: one encoding per set. */
	if (n % 8 && (m->u.bitfield.bits[nb - 1] >> (n % 8)) != 0)
		return ERR_FORMAT;
	return 0;
}

static int decode_piece(struct breader *r, struct swarm_msg *m)
{
	size_t plen;
	const uint8_t *p;
	int e;

	m->u.piece.index = br_be32(r);
	plen = br_be16(r);
	if (plen > CONTENT_PROOF_MAX_BYTES)
		return ERR_TOO_BIG;
	if ((p = br_take(r, plen)) == NULL)
		return ERR_FORMAT;
	if ((e = content_proof_decode(p, plen, &m->u.piece.proof)) != 0)
		return e == ERR_TRUNCATED ? ERR_FORMAT : e;
	if (m->u.piece.proof.index != m->u.piece.index)
		return ERR_FORMAT;
	m->u.piece.chunk_len = br_left(r);
	if (m->u.piece.chunk_len < CONTENT_TAG_BYTES)
		return ERR_FORMAT;
	if (m->u.piece.chunk_len > SWARM_CHUNK_MAX_BYTES)
		return ERR_TOO_BIG;
	m->u.piece.chunk = br_take(r, m->u.piece.chunk_len);
	return 0;
}

static int decode_meta(struct breader *r, struct swarm_msg *m, bool reply)
{
	uint8_t kind = br_u8(r);

	if (kind > SWARM_META_TREE)
		return ERR_FORMAT;
	if (!reply) {
		m->u.metareq.kind = kind;
		m->u.metareq.offset = br_be64(r);
		return 0;
	}
	m->u.meta.kind = kind;
	m->u.meta.total = br_be64(r);
	m->u.meta.offset = br_be64(r);
	m->u.meta.len = br_left(r);
	m->u.meta.data = br_take(r, m->u.meta.len);
	/* A page lies inside the object, and only the last may be empty. */
	if (m->u.meta.offset > m->u.meta.total ||
	    m->u.meta.len > m->u.meta.total - m->u.meta.offset ||
	    (m->u.meta.len == 0 && m->u.meta.offset != m->u.meta.total))
		return ERR_FORMAT;
	return 0;
}

static int decode_body(struct breader *r, struct swarm_msg *m)
{
	switch (m->type) {
	case SWARM_HANDSHAKE:
		if (memcmp(br_take(r, 4), SWARM_MAGIC, 4) != 0)
			return ERR_FORMAT;
		m->u.hs.version = br_u8(r);
		br_copy(r, m->u.hs.content_hash, CONTENT_HASH_BYTES);
		m->u.hs.flags = br_be32(r);
		return 0;
	case SWARM_KEEPALIVE:
	case SWARM_CHOKE:
	case SWARM_UNCHOKE:
	case SWARM_INTERESTED:
	case SWARM_NOT_INTERESTED:
		return 0;
	case SWARM_HAVE:
		m->u.have = br_be32(r);
		return m->u.have < CONTENT_MAX_CHUNKS ? 0 : ERR_FORMAT;
	case SWARM_BITFIELD:
		return decode_bitfield(r, m);
	case SWARM_REQUEST:
	case SWARM_CANCEL:
	case SWARM_REJECT:
		m->u.range.index = br_be32(r);
		m->u.range.count = br_be32(r);
		return range_check(m->u.range.index, m->u.range.count);
	case SWARM_PIECE:
		return decode_piece(r, m);
	case SWARM_META_REQUEST:
		return decode_meta(r, m, false);
	case SWARM_META:
		return decode_meta(r, m, true);
	case SWARM_PEERS:
		m->u.peers.n = br_u8(r);
		if (m->u.peers.n > SWARM_PEERS_MAX)
			return ERR_TOO_BIG;
		if (br_left(r) != (size_t)m->u.peers.n * 32)
			return ERR_FORMAT;
		m->u.peers.hashes = br_take(r, br_left(r));
		return 0;
	case SWARM_ERROR:
		m->u.error.code = br_u8(r);
		m->u.error.len = br_u8(r);
		if (m->u.error.len > SWARM_ERROR_TEXT_MAX_BYTES)
			return ERR_TOO_BIG;
		m->u.error.text = (const char *)br_take(r, m->u.error.len);
		return 0;
	case SWARM_ANNOUNCE:
		br_copy(r, m->u.announce.content_hash, CONTENT_HASH_BYTES);
		m->u.announce.flags = br_u8(r);
		return m->u.announce.flags & ~SWARM_ANNOUNCE_FLAGS ?
		       ERR_FORMAT : 0;
	case SWARM_PAY:
		m->u.pay.len = br_left(r);
		m->u.pay.data = br_take(r, m->u.pay.len);
		return 0;
	}
	return ERR_UNSUPPORTED;
}

int swarm_msg_decode(const uint8_t *buf, size_t len, struct swarm_msg *out,
		     size_t *used)
{
	struct swarm_msg m;
	struct breader r;
	uint32_t flen, blen;
	uint8_t type;
	int e;

	*used = 0;
	if (len < SWARM_HEADER_BYTES)
		return ERR_TRUNCATED;
	flen = be32_get(buf);
	type = buf[4];
	if (flen == 0)
		return ERR_FORMAT;
	if (type >= SWARM_MSG_TYPE_COUNT)
		return ERR_UNSUPPORTED;
	blen = flen - 1;
	if (blen > swarm_body[type].max)
		return ERR_TOO_BIG;
	if (blen < swarm_body[type].min)
		return ERR_FORMAT;
	if (len - 4 < flen)
		return ERR_TRUNCATED;
	memset(&m, 0, sizeof(m));
	m.type = type;
	br_init(&r, buf + SWARM_HEADER_BYTES, blen);
	if ((e = decode_body(&r, &m)) != 0)
		return e;
	if (!br_done(&r))
		return ERR_FORMAT;
	*out = m;
	*used = 4 + (size_t)flen;
	return 0;
}

static bool encodable(const struct swarm_msg *m)
{
	switch (m->type) {
	case SWARM_BITFIELD:
		return m->u.bitfield.count > 0 &&
		       m->u.bitfield.count <= CONTENT_MAX_CHUNKS;
	case SWARM_REQUEST:
	case SWARM_CANCEL:
	case SWARM_REJECT:
		return range_check(m->u.range.index, m->u.range.count) == 0;
	case SWARM_PIECE:
		return m->u.piece.chunk_len >= CONTENT_TAG_BYTES &&
		       m->u.piece.chunk_len <= SWARM_CHUNK_MAX_BYTES &&
		       m->u.piece.proof.index == m->u.piece.index;
	case SWARM_META:
		return m->u.meta.len <= SWARM_META_DATA_MAX_BYTES &&
		       m->u.meta.offset <= m->u.meta.total &&
		       m->u.meta.len <= m->u.meta.total - m->u.meta.offset;
	case SWARM_PEERS:
		return m->u.peers.n <= SWARM_PEERS_MAX;
	case SWARM_ERROR:
		return m->u.error.len <= SWARM_ERROR_TEXT_MAX_BYTES;
	case SWARM_HAVE:
		return m->u.have < CONTENT_MAX_CHUNKS;
	case SWARM_ANNOUNCE:
		return (m->u.announce.flags & ~SWARM_ANNOUNCE_FLAGS) == 0;
	case SWARM_PAY:
		return m->u.pay.len >= 1 && m->u.pay.len <= SWARM_PAY_MAX_BODY;
	case SWARM_HANDSHAKE:
	case SWARM_KEEPALIVE:
	case SWARM_CHOKE:
	case SWARM_UNCHOKE:
	case SWARM_INTERESTED:
	case SWARM_NOT_INTERESTED:
	case SWARM_META_REQUEST:
		return true;
	}
	return false;
}

static void encode_body(const struct swarm_msg *m, struct bbuf *out)
{
	struct bbuf pb = BBUF_INIT;

	switch (m->type) {
	case SWARM_HANDSHAKE:
		bbuf_put(out, SWARM_MAGIC, 4);
		bbuf_u8(out, m->u.hs.version);
		bbuf_put(out, m->u.hs.content_hash, CONTENT_HASH_BYTES);
		bbuf_be32(out, m->u.hs.flags);
		break;
	case SWARM_KEEPALIVE:
	case SWARM_CHOKE:
	case SWARM_UNCHOKE:
	case SWARM_INTERESTED:
	case SWARM_NOT_INTERESTED:
		break;
	case SWARM_HAVE:
		bbuf_be32(out, m->u.have);
		break;
	case SWARM_BITFIELD:
		bbuf_be32(out, m->u.bitfield.count);
		bbuf_put(out, m->u.bitfield.bits,
			 (m->u.bitfield.count + 7) / 8);
		break;
	case SWARM_REQUEST:
	case SWARM_CANCEL:
	case SWARM_REJECT:
		bbuf_be32(out, m->u.range.index);
		bbuf_be32(out, m->u.range.count);
		break;
	case SWARM_PIECE:
		content_proof_encode(&m->u.piece.proof, &pb);
		bbuf_be32(out, m->u.piece.index);
		bbuf_be16(out, (uint16_t)pb.len);
		bbuf_put(out, pb.data, pb.len);
		bbuf_put(out, m->u.piece.chunk, m->u.piece.chunk_len);
		bbuf_free(&pb);
		break;
	case SWARM_META_REQUEST:
		bbuf_u8(out, m->u.metareq.kind);
		bbuf_be64(out, m->u.metareq.offset);
		break;
	case SWARM_META:
		bbuf_u8(out, m->u.meta.kind);
		bbuf_be64(out, m->u.meta.total);
		bbuf_be64(out, m->u.meta.offset);
		bbuf_put(out, m->u.meta.data, m->u.meta.len);
		break;
	case SWARM_PEERS:
		bbuf_u8(out, m->u.peers.n);
		bbuf_put(out, m->u.peers.hashes, (size_t)m->u.peers.n * 32);
		break;
	case SWARM_ERROR:
		bbuf_u8(out, m->u.error.code);
		bbuf_u8(out, (uint8_t)m->u.error.len);
		bbuf_put(out, m->u.error.text, m->u.error.len);
		break;
	case SWARM_ANNOUNCE:
		bbuf_put(out, m->u.announce.content_hash, CONTENT_HASH_BYTES);
		bbuf_u8(out, m->u.announce.flags);
		break;
	case SWARM_PAY:
		bbuf_put(out, m->u.pay.data, m->u.pay.len);
		break;
	}
}

int swarm_msg_encode(const struct swarm_msg *m, struct bbuf *out)
{
	size_t start = out->len;

	if ((unsigned)m->type >= SWARM_MSG_TYPE_COUNT || !encodable(m))
		return ERR_ARG;
	bbuf_be32(out, 0);
	bbuf_u8(out, (uint8_t)m->type);
	encode_body(m, out);
	be32_put(out->data + start, (uint32_t)(out->len - start - 4));
	return 0;
}
