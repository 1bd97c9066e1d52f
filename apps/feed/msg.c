/* Feed gossip message codec (docs/feed.md §2). */
#include "config.h"
#include "apps/feed/msg.h"
#include "crypto/base/err.h"

#include <string.h>

static int feed_msg_check(const struct feed_msg *m)
{
	unsigned i;

	switch (m->type) {
	case FEED_MSG_SUMMARY:
		if (m->u.summary.n > FEED_SUMMARY_MAX_BUCKETS)
			return ERR_TOO_BIG;
		for (i = 1; i < m->u.summary.n; i++)
			if (m->u.summary.b[i].bucket <= m->u.summary.b[i - 1].bucket)
				return ERR_FORMAT;
		return 0;
	case FEED_MSG_IDS_REQ:
		if (m->u.ids_req.n == 0)
			return ERR_FORMAT;
		return m->u.ids_req.n > FEED_IDS_REQ_MAX ? ERR_TOO_BIG : 0;
	case FEED_MSG_IDS:
		return m->u.ids.n > FEED_IDS_MAX ? ERR_TOO_BIG : 0;
	case FEED_MSG_WANT:
		if (m->u.ids.n == 0)
			return ERR_FORMAT;
		return m->u.ids.n > FEED_WANT_MAX ? ERR_TOO_BIG : 0;
	case FEED_MSG_ITEM:
		if (m->u.item.kind != FEED_ITEM_CARD &&
		    m->u.item.kind != FEED_ITEM_RECORD)
			return ERR_FORMAT;
		if (m->u.item.len == 0)
			return ERR_FORMAT;
		return m->u.item.len > FEED_ITEM_MAX_BYTES ? ERR_TOO_BIG : 0;
	}
	return ERR_UNSUPPORTED;
}

int feed_msg_encode(const struct feed_msg *m, struct bbuf *out)
{
	unsigned i;
	int r = feed_msg_check(m);

	if (r < 0)
		return r;
	bbuf_put(out, "BF", 2);
	bbuf_u8(out, FEED_MSG_VERSION);
	bbuf_u8(out, (uint8_t)m->type);
	switch (m->type) {
	case FEED_MSG_SUMMARY:
		bbuf_u8(out, m->u.summary.n);
		for (i = 0; i < m->u.summary.n; i++) {
			bbuf_be32(out, m->u.summary.b[i].bucket);
			bbuf_be32(out, m->u.summary.b[i].count);
			bbuf_put(out, m->u.summary.b[i].digest, FEED_DIGEST_BYTES);
		}
		break;
	case FEED_MSG_IDS_REQ:
		bbuf_u8(out, m->u.ids_req.n);
		for (i = 0; i < m->u.ids_req.n; i++)
			bbuf_be32(out, m->u.ids_req.bucket[i]);
		break;
	case FEED_MSG_IDS:
		bbuf_be32(out, m->u.ids.bucket);
		/* fall through */
	case FEED_MSG_WANT:
		bbuf_be16(out, m->u.ids.n);
		bbuf_put(out, m->u.ids.ids, (size_t)m->u.ids.n * FEED_ID_BYTES);
		break;
	case FEED_MSG_ITEM:
		bbuf_u8(out, (uint8_t)m->u.item.kind);
		bbuf_be64(out, m->u.item.pow);
		bbuf_be32(out, m->u.item.len);
		bbuf_put(out, m->u.item.data, m->u.item.len);
		break;
	}
	return 0;
}

int feed_msg_decode(const uint8_t *buf, size_t len, struct feed_msg *out)
{
	struct feed_msg m;
	struct breader r;
	const uint8_t *h;
	unsigned i;
	int rc;

	if (len > FEED_MSG_MAX_BYTES)
		return ERR_TOO_BIG;
	br_init(&r, buf, len);
	h = br_take(&r, FEED_MSG_HEADER_BYTES);
	if (!h)
		return ERR_TRUNCATED;
	if (h[0] != 'B' || h[1] != 'F')
		return ERR_FORMAT;
	if (h[2] != FEED_MSG_VERSION)
		return ERR_UNSUPPORTED;
	memset(&m, 0, sizeof(m));
	m.type = (enum feed_msg_type)h[3];
	switch (h[3]) {
	case FEED_MSG_SUMMARY:
		m.u.summary.n = br_u8(&r);
		if (m.u.summary.n > FEED_SUMMARY_MAX_BUCKETS)
			return ERR_TOO_BIG;
		if (br_left(&r) < (size_t)m.u.summary.n * (8 + FEED_DIGEST_BYTES))
			return ERR_TRUNCATED;
		for (i = 0; i < m.u.summary.n; i++) {
			m.u.summary.b[i].bucket = br_be32(&r);
			m.u.summary.b[i].count = br_be32(&r);
			br_copy(&r, m.u.summary.b[i].digest, FEED_DIGEST_BYTES);
		}
		break;
	case FEED_MSG_IDS_REQ:
		m.u.ids_req.n = br_u8(&r);
		if (m.u.ids_req.n > FEED_IDS_REQ_MAX)
			return ERR_TOO_BIG;
		if (br_left(&r) < (size_t)m.u.ids_req.n * 4)
			return ERR_TRUNCATED;
		for (i = 0; i < m.u.ids_req.n; i++)
			m.u.ids_req.bucket[i] = br_be32(&r);
		break;
	case FEED_MSG_IDS:
	case FEED_MSG_WANT:
		if (h[3] == FEED_MSG_IDS)
			m.u.ids.bucket = br_be32(&r);
		m.u.ids.n = br_be16(&r);
		if (m.u.ids.n > (h[3] == FEED_MSG_IDS ? FEED_IDS_MAX : FEED_WANT_MAX))
			return ERR_TOO_BIG;
		m.u.ids.ids = br_take(&r, (size_t)m.u.ids.n * FEED_ID_BYTES);
		break;
	case FEED_MSG_ITEM:
		m.u.item.kind = (enum feed_item_kind)br_u8(&r);
		m.u.item.pow = br_be64(&r);
		m.u.item.len = br_be32(&r);
		if (m.u.item.len > FEED_ITEM_MAX_BYTES)
			return ERR_TOO_BIG;
		m.u.item.data = br_take(&r, m.u.item.len);
		break;
	default:
		return ERR_UNSUPPORTED;
	}
	if (r.failed)
		return ERR_TRUNCATED;
	if (br_left(&r) != 0)
		return ERR_FORMAT;
	rc = feed_msg_check(&m);
	if (rc < 0)
		return rc;
	*out = m;
	return 0;
}
