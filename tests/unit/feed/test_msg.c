/* apps/feed/msg: the gossip codec and its limits. */
#include "config.h"
#include "apps/feed/msg.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "tests/unit/tharness.h"

#include <stdlib.h>
#include <string.h>

/* Encode m, decode it back and re-encode: identical bytes; every proper
 * prefix and one trailing byte are rejected. */
static void roundtrip(struct tctx *t, const struct feed_msg *m)
{
	struct bbuf a = BBUF_INIT, b = BBUF_INIT;
	struct feed_msg d;
	size_t n;
	int bad = 0;

	T_OK(t, feed_msg_encode(m, &a));
	T_OK(t, feed_msg_decode(a.data, a.len, &d));
	T_EQ(t, d.type, m->type);
	T_OK(t, feed_msg_encode(&d, &b));
	T_EQ(t, b.len, a.len);
	T_MEMEQ(t, b.data, a.data, a.len);
	for (n = 0; n < a.len; n++) {
		uint8_t *copy = xmemdup(a.data, n ? n : 1);

		if (feed_msg_decode(copy, n, &d) == 0)
			bad++;
		free(copy);
	}
	T_EQ(t, bad, 0);
	bbuf_u8(&a, 0);
	T_ERR(t, feed_msg_decode(a.data, a.len, &d), ERR_FORMAT);
	bbuf_free(&a);
	bbuf_free(&b);
}

static void test_roundtrip(struct tctx *t)
{
	uint8_t ids[3 * FEED_ID_BYTES], item[40];
	struct feed_msg m;

	memset(ids, 0x5a, sizeof(ids));
	memset(item, 0x77, sizeof(item));
	memset(&m, 0, sizeof(m));
	m.type = FEED_MSG_SUMMARY;
	m.u.summary.n = 2;
	m.u.summary.b[0] = (struct feed_bucket_sum){ 20454, 7, { 1, 2, 3 } };
	m.u.summary.b[1] = (struct feed_bucket_sum){ 20455, 1, { 9 } };
	roundtrip(t, &m);
	m.u.summary.n = 0;		/* an empty store */
	roundtrip(t, &m);

	memset(&m, 0, sizeof(m));
	m.type = FEED_MSG_IDS_REQ;
	m.u.ids_req.n = 2;
	m.u.ids_req.bucket[0] = 5;
	m.u.ids_req.bucket[1] = 3;
	roundtrip(t, &m);

	memset(&m, 0, sizeof(m));
	m.type = FEED_MSG_IDS;
	m.u.ids.bucket = 20454;
	m.u.ids.n = 3;
	m.u.ids.ids = ids;
	roundtrip(t, &m);
	m.type = FEED_MSG_WANT;
	roundtrip(t, &m);

	memset(&m, 0, sizeof(m));
	m.type = FEED_MSG_ITEM;
	m.u.item.kind = FEED_ITEM_RECORD;
	m.u.item.pow = 0x0102030405060708ull;
	m.u.item.len = sizeof(item);
	m.u.item.data = item;
	roundtrip(t, &m);
}

static void test_limits(struct tctx *t)
{
	uint8_t *big = xzalloc(FEED_MSG_MAX_BYTES + 8);
	struct feed_msg m, d;
	struct bbuf b = BBUF_INIT;

	/* Summary buckets must ascend strictly. */
	memset(&m, 0, sizeof(m));
	m.type = FEED_MSG_SUMMARY;
	m.u.summary.n = 2;
	m.u.summary.b[0].bucket = 9;
	m.u.summary.b[1].bucket = 9;
	T_ERR(t, feed_msg_encode(&m, &b), ERR_FORMAT);
	bbuf_put(&b, "BF\x01\x01\x02", 5);
	bbuf_put(&b, big, 2 * 24);
	b.data[5 + 3] = 9;
	b.data[5 + 24 + 3] = 9;
	T_ERR(t, feed_msg_decode(b.data, b.len, &d), ERR_FORMAT);
	b.data[5 + 24 + 3] = 10;
	T_OK(t, feed_msg_decode(b.data, b.len, &d));
	T_EQ(t, d.u.summary.b[1].bucket, 10);

	/* Counts over their limits fail before anything is read. */
	bbuf_reset(&b);
	bbuf_put(&b, "BF\x01\x01", 4);
	bbuf_u8(&b, FEED_SUMMARY_MAX_BUCKETS + 1);
	T_ERR(t, feed_msg_decode(b.data, b.len, &d), ERR_TOO_BIG);
	bbuf_reset(&b);
	bbuf_put(&b, "BF\x01\x03", 4);
	bbuf_be32(&b, 1);
	bbuf_be16(&b, FEED_IDS_MAX + 1);
	T_ERR(t, feed_msg_decode(b.data, b.len, &d), ERR_TOO_BIG);
	bbuf_reset(&b);
	bbuf_put(&b, "BF\x01\x04", 4);
	bbuf_be16(&b, 0xffff);
	T_ERR(t, feed_msg_decode(b.data, b.len, &d), ERR_TOO_BIG);
	bbuf_reset(&b);
	bbuf_put(&b, "BF\x01\x04", 4);
	bbuf_be16(&b, 0);
	T_ERR(t, feed_msg_decode(b.data, b.len, &d), ERR_FORMAT);
	bbuf_reset(&b);
	bbuf_put(&b, "BF\x01\x05\x01", 5);
	bbuf_be64(&b, 0);
	bbuf_be32(&b, FEED_ITEM_MAX_BYTES + 1);
	T_ERR(t, feed_msg_decode(b.data, b.len, &d), ERR_TOO_BIG);
	bbuf_reset(&b);
	bbuf_put(&b, "BF\x01\x05\x03", 5);	/* unknown item kind */
	bbuf_be64(&b, 0);
	bbuf_be32(&b, 1);
	bbuf_u8(&b, 0);
	T_ERR(t, feed_msg_decode(b.data, b.len, &d), ERR_FORMAT);
	/* Whole message over the limit, wrong magic, version, type. */
	T_ERR(t, feed_msg_decode(big, FEED_MSG_MAX_BYTES + 1, &d), ERR_TOO_BIG);
	T_ERR(t, feed_msg_decode((const uint8_t *)"XF\x01\x01\x00", 5, &d),
	      ERR_FORMAT);
	T_ERR(t, feed_msg_decode((const uint8_t *)"BF\x02\x01\x00", 5, &d),
	      ERR_UNSUPPORTED);
	T_ERR(t, feed_msg_decode((const uint8_t *)"BF\x01\x09\x00", 5, &d),
	      ERR_UNSUPPORTED);
	bbuf_free(&b);
	free(big);
}

const struct test_case feed_msg_tests[] = {
	{ "roundtrip", test_roundtrip, 0 },
	{ "limits", test_limits, 0 },
	{ NULL, NULL, 0 }
};
