/*
 * ECIES ratchet payload blocks (router/ratchet_block.h; ecies spec
 * "5) Payload", "Block Ordering Rules" and each block's section).  The
 * clove and DateTime decoding is garlic_payload_parse()'s; this file adds
 * the control blocks and the ordering rules per message kind.
 */
#include "config.h"
#include "router/ratchet_block.h"
#include "crypto/base/err.h"

#include <string.h>

void ratchet_block_termination(struct bbuf *b, uint8_t reason)
{
	bbuf_u8(b, RATCHET_BLOCK_TERMINATION);
	bbuf_be16(b, 1);
	bbuf_u8(b, reason);
}

void ratchet_block_msgnum(struct bbuf *b, uint16_t pn)
{
	bbuf_u8(b, RATCHET_BLOCK_MSGNUM);
	bbuf_be16(b, 2);
	bbuf_be16(b, pn);
}

void ratchet_block_nextkey(struct bbuf *b, const struct ratchet_nextkey *nk)
{
	bool key = nk->flags & RATCHET_NK_KEY;

	bbuf_u8(b, RATCHET_BLOCK_NEXTKEY);
	bbuf_be16(b, key ? 35 : 3);
	bbuf_u8(b, nk->flags);
	bbuf_be16(b, nk->key_id);
	if (key)
		bbuf_put(b, nk->key.b, 32);
}

void ratchet_block_ack(struct bbuf *b, const struct ratchet_ack *acks,
		       size_t n)
{
	bbuf_u8(b, RATCHET_BLOCK_ACK);
	bbuf_be16(b, (uint16_t)(4 * n));
	for (size_t i = 0; i < n; i++) {
		bbuf_be16(b, acks[i].tagset_id);
		bbuf_be16(b, acks[i].n);
	}
}

void ratchet_block_ack_request(struct bbuf *b)
{
	bbuf_u8(b, RATCHET_BLOCK_ACK_REQUEST);
	bbuf_be16(b, 1);
	bbuf_u8(b, 0);
}

static int parse_nextkey(struct breader *b, size_t size,
			 struct ratchet_nextkey *nk)
{
	nk->flags = br_u8(b);
	nk->key_id = br_be16(b);
	if (nk->flags & ~(RATCHET_NK_KEY | RATCHET_NK_REVERSE |
			  RATCHET_NK_REQUEST))
		return ERR_FORMAT;
	if ((nk->flags & RATCHET_NK_REVERSE) &&
	    (nk->flags & RATCHET_NK_REQUEST))
		return ERR_FORMAT;
	if (nk->key_id > RATCHET_MAX_KEY_ID)
		return ERR_FORMAT;
	if (size != ((nk->flags & RATCHET_NK_KEY) ? 35u : 3u))
		return ERR_FORMAT;
	if (nk->flags & RATCHET_NK_KEY)
		br_copy(b, nk->key.b, 32);
	return b->failed ? ERR_TRUNCATED : 0;
}

/* One control block (types 4..9) of an ES message. */
static int parse_control(uint8_t type, struct breader *b, size_t size,
			 struct ratchet_payload *out)
{
	switch (type) {
	case RATCHET_BLOCK_TERMINATION:
		if (size < 1)
			return ERR_FORMAT;
		out->has_termination = true;
		out->term_reason = br_u8(b);
		return 0;
	case RATCHET_BLOCK_MSGNUM:
		if (size != 2)
			return ERR_FORMAT;
		out->has_pn = true;
		out->pn = br_be16(b);
		return 0;
	case RATCHET_BLOCK_NEXTKEY:
		if (out->n_nextkeys == 2)
			return ERR_FORMAT;
		return parse_nextkey(b, size,
				     &out->nextkeys[out->n_nextkeys++]);
	case RATCHET_BLOCK_ACK:
		if (size == 0 || size % 4)
			return ERR_FORMAT;
		if (out->n_acks + size / 4 > RATCHET_MAX_ACKS)
			return ERR_TOO_BIG;
		for (size_t i = 0; i < size / 4; i++) {
			out->acks[out->n_acks].tagset_id = br_be16(b);
			out->acks[out->n_acks++].n = br_be16(b);
		}
		return 0;
	case RATCHET_BLOCK_ACK_REQUEST:
		if (size != 1)
			return ERR_FORMAT;
		out->ack_request = true;
		return 0;
	default:
		return ERR_INTERNAL;
	}
}

int ratchet_payload_parse(const uint8_t *p, size_t len, enum ratchet_kind kind,
			  struct ratchet_payload *out)
{
	struct breader r;
	bool first = true, padded = false, terminated = false;
	int ret;

	memset(out, 0, sizeof(*out));
	/* DateTime and cloves (with their own checks), then the rest */
	if ((ret = garlic_payload_parse(p, len, &out->g)) != 0)
		return ret;
	br_init(&r, p, len);
	while (br_left(&r)) {
		uint8_t type = br_u8(&r);
		size_t size = br_be16(&r);
		const uint8_t *body = br_take(&r, size);
		struct breader b;

		if (r.failed)
			return ERR_TRUNCATED;
		/* "Padding, if present, must be the last block." */
		if (padded)
			return ERR_FORMAT;
		/* "Termination, if present, must be the last block except
		 * for Padding." */
		if (terminated && type != GARLIC_BLOCK_PADDING)
			return ERR_FORMAT;
		/* NS: "the DateTime block is required, and must be the
		 * first block." */
		if (kind == RATCHET_KIND_NS && first &&
		    type != GARLIC_BLOCK_DATETIME)
			return ERR_FORMAT;
		first = false;
		br_init(&b, body, size);
		switch (type) {
		case GARLIC_BLOCK_PADDING:
			padded = true;
			break;
		case RATCHET_BLOCK_OPTIONS:
			if (size < RATCHET_OPTIONS_MIN_BYTES)
				return ERR_FORMAT;
			out->has_options = true;	/* "for further study" */
			break;
		case RATCHET_BLOCK_TERMINATION:
		case RATCHET_BLOCK_MSGNUM:
		case RATCHET_BLOCK_NEXTKEY:
		case RATCHET_BLOCK_ACK:
		case RATCHET_BLOCK_ACK_REQUEST:
			/* "Not allowed in NS or NSR." */
			if (kind != RATCHET_KIND_ES)
				return ERR_FORMAT;
			if ((ret = parse_control(type, &b, size, out)) != 0)
				return ret;
			if (b.failed)
				return ERR_TRUNCATED;
			terminated = type == RATCHET_BLOCK_TERMINATION;
			break;
		default:	/* DateTime, cloves: parsed above; unknown */
			break;
		}
	}
	if (kind == RATCHET_KIND_NS && !out->g.has_datetime)
		return ERR_FORMAT;
	return 0;
}
