/* router/i2np: headers, bodies, expiry and the duplicate filter. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/i2np.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/base/alloc.h"
#include "crypto/hash.h"

#include <stdlib.h>
#include <string.h>

#define I2NP_POOL_TEST_N (I2NP_POOL_MAX + 44)

static void test_header_roundtrip(struct tctx *t)
{
	static const uint8_t body[] = "hello i2np";
	struct i2np_msg *m = i2np_msg_new(I2NP_DATA, body, sizeof(body), 60000);
	struct i2np_msg *d = NULL, hdr;
	struct bbuf b = BBUF_INIT;
	struct breader r;
	uint8_t h[32];

	m->msg_id = 0x01020304;
	m->expiration_ms = 0x0000018c00000000ULL;
	i2np_msg_encode(m, &b);
	T_EQ(t, b.len, I2NP_HEADER_BYTES + sizeof(body));
	/* type, id, 8-byte expiration, size, first byte of SHA-256 */
	T_EQ(t, b.data[0], I2NP_DATA);
	T_EQ(t, be32_get(b.data + 1), 0x01020304);
	T_TRUE(t, be64_get(b.data + 5) == 0x0000018c00000000ULL);
	T_EQ(t, be16_get(b.data + 13), sizeof(body));
	sha256(h, body, sizeof(body));
	T_EQ(t, b.data[15], h[0]);
	br_init(&r, b.data, b.len);
	T_OK(t, i2np_msg_decode(&r, &d));
	T_TRUE(t, br_done(&r));
	T_EQ(t, d->type, I2NP_DATA);
	T_EQ(t, d->msg_id, 0x01020304);
	T_TRUE(t, d->expiration_ms == m->expiration_ms);
	T_EQ(t, d->len, sizeof(body));
	T_MEMEQ(t, d->payload, body, sizeof(body));
	i2np_msg_free(d);
	d = NULL;
	/* a wrong checksum is refused, except on Garlic and TunnelData,
	 * which are read as Java reads them, with the byte unchecked */
	b.data[15] ^= 1;
	for (unsigned type = 0; type < 256; type++) {
		bool bulk = type == I2NP_GARLIC || type == I2NP_TUNNEL_DATA;

		b.data[0] = (uint8_t)type;
		br_init(&r, b.data, b.len);
		if (bulk) {
			T_OK(t, i2np_msg_decode(&r, &d));
			T_TRUE(t, br_done(&r));
			T_EQ(t, d->type, type);
			T_MEMEQ(t, d->payload, body, sizeof(body));
			i2np_msg_free(d);
			d = NULL;
		} else {
			T_ERR(t, i2np_msg_decode(&r, &d), ERR_FORMAT);
			T_TRUE(t, d == NULL);
		}
	}
	b.data[0] = I2NP_DATA;
	b.data[15] ^= 1;
	/* every truncation is refused */
	for (size_t n = 0; n < b.len; n++) {
		br_init(&r, b.data, n);
		T_ERR(t, i2np_msg_decode(&r, &d), ERR_TRUNCATED);
		T_ERR(t, i2np_msg_peek(b.data, n, &hdr), ERR_TRUNCATED);
	}
	/* peeked in place: the same header, the payload in the buffer; a
	 * byte after it, or a wrong checksum where one is checked, refused */
	T_OK(t, i2np_msg_peek(b.data, b.len, &hdr));
	T_EQ(t, hdr.type, I2NP_DATA);
	T_EQ(t, hdr.msg_id, 0x01020304);
	T_TRUE(t, hdr.expiration_ms == m->expiration_ms);
	T_EQ(t, hdr.len, sizeof(body));
	T_TRUE(t, hdr.payload == b.data + I2NP_HEADER_BYTES);
	bbuf_u8(&b, 0);
	T_ERR(t, i2np_msg_peek(b.data, b.len, &hdr), ERR_FORMAT);
	b.len--;
	b.data[0] = I2NP_DELIVERY_STATUS;
	b.data[15] ^= 1;
	T_ERR(t, i2np_msg_peek(b.data, b.len, &hdr), ERR_FORMAT);
	b.data[15] ^= 1;
	T_OK(t, i2np_msg_peek(b.data, b.len, &hdr));
	b.data[0] = I2NP_DATA;
	bbuf_free(&b);
	i2np_msg_free(m);
}

static void test_short_header(struct tctx *t)
{
	static const uint8_t body[] = { 9, 8, 7 };
	struct i2np_msg *m = i2np_msg_new(I2NP_GARLIC, body, sizeof(body), 0);
	struct i2np_msg *d = NULL;
	struct bbuf b = BBUF_INIT;

	m->msg_id = 77;
	m->expiration_ms = 1700000000123ULL;
	i2np_msg_encode_short(m, &b);
	T_EQ(t, b.len, I2NP_SHORT_HEADER_BYTES + 3);
	T_EQ(t, be32_get(b.data + 5), 1700000000u);	/* seconds */
	T_OK(t, i2np_msg_decode_short(b.data, b.len, &d));
	T_EQ(t, d->msg_id, 77);
	T_TRUE(t, d->expiration_ms == 1700000000000ULL);
	T_MEMEQ(t, d->payload, body, 3);
	i2np_msg_free(d);
	T_ERR(t, i2np_msg_decode_short(b.data, 8, &d), ERR_TRUNCATED);
	bbuf_free(&b);
	i2np_msg_free(m);
}

static void test_expiry(struct tctx *t)
{
	struct i2np_msg m = { .expiration_ms = 1000000 };

	T_FALSE(t, i2np_msg_is_expired(&m, 1000000));
	T_FALSE(t, i2np_msg_is_expired(&m, 1000000 + I2NP_EXPIRY_PAST_MS));
	T_TRUE(t, i2np_msg_is_expired(&m, 1000000 + I2NP_EXPIRY_PAST_MS + 1));
	T_FALSE(t, i2np_msg_is_expired(&m, 1000000 - I2NP_EXPIRY_FUTURE_MS));
	T_TRUE(t, i2np_msg_is_expired(&m, 1000000 - I2NP_EXPIRY_FUTURE_MS - 1));
}

static struct i2np_msg *wrap(uint8_t type, struct bbuf *b)
{
	struct i2np_msg *m = i2np_msg_new(type, b->data, b->len, 1000);
	bbuf_reset(b);
	return m;
}

static void test_db_store(struct tctx *t)
{
	uint8_t gz[40];
	struct i2np_db_store s = { .store_type = I2NP_STORE_RI,
				   .reply_token = 0x11223344,
				   .reply_tunnel_id = 5,
				   .data = gz, .data_len = sizeof(gz) }, d;
	struct bbuf b = BBUF_INIT;
	struct i2np_msg *m;

	memset(s.key, 0xaa, 32);
	memset(s.reply_gateway, 0xbb, 32);
	memset(gz, 0x1f, sizeof(gz));
	i2np_db_store_encode(&s, &b);
	T_EQ(t, b.len, 32 + 1 + 4 + 4 + 32 + 2 + sizeof(gz));
	m = wrap(I2NP_DATABASE_STORE, &b);
	T_OK(t, i2np_db_store_decode(m, &d));
	T_EQ(t, d.reply_token, 0x11223344);
	T_EQ(t, d.reply_tunnel_id, 5);
	T_MEMEQ(t, d.reply_gateway, s.reply_gateway, 32);
	T_EQ(t, d.data_len, sizeof(gz));
	T_MEMEQ(t, d.data, gz, sizeof(gz));
	/* trailing garbage after the RI's declared length */
	m->payload = realloc(m->payload, m->len + 1);
	m->payload[m->len++] = 0;
	T_ERR(t, i2np_db_store_decode(m, &d), ERR_FORMAT);
	i2np_msg_free(m);

	/* LS2 without reply token: data runs to the end */
	s.store_type = I2NP_STORE_LS2;
	s.reply_token = 0;
	i2np_db_store_encode(&s, &b);
	T_EQ(t, b.len, 32 + 1 + 4 + sizeof(gz));
	m = wrap(I2NP_DATABASE_STORE, &b);
	T_OK(t, i2np_db_store_decode(m, &d));
	T_EQ(t, d.store_type, I2NP_STORE_LS2);
	T_EQ(t, d.data_len, sizeof(gz));
	m->payload[32] = 9;	/* invalid type */
	T_ERR(t, i2np_db_store_decode(m, &d), ERR_UNSUPPORTED);
	i2np_msg_free(m);
	bbuf_free(&b);
}

static void test_db_lookup(struct tctx *t)
{
	uint8_t excl[3 * 32], tag[8];
	struct i2np_db_lookup l = { .flags = I2NP_LOOKUP_FLAG_TUNNEL |
					     I2NP_LOOKUP_TYPE_RI |
					     I2NP_LOOKUP_FLAG_ECIES,
				    .reply_tunnel_id = 1234, .n_excluded = 3,
				    .excluded = excl, .n_tags = 1,
				    .tag_len = 8, .tags = tag }, d;
	struct bbuf b = BBUF_INIT;
	struct i2np_msg *m;

	memset(l.key, 1, 32);
	memset(l.from, 2, 32);
	memset(excl, 3, sizeof(excl));
	memset(l.reply_key, 4, 32);
	memset(tag, 5, sizeof(tag));
	i2np_db_lookup_encode(&l, &b);
	T_EQ(t, b.len, 32 + 32 + 1 + 4 + 2 + 96 + 32 + 1 + 8);
	m = wrap(I2NP_DATABASE_LOOKUP, &b);
	T_OK(t, i2np_db_lookup_decode(m, &d));
	T_EQ(t, d.reply_tunnel_id, 1234);
	T_EQ(t, d.n_excluded, 3);
	T_MEMEQ(t, d.excluded, excl, sizeof(excl));
	T_TRUE(t, d.has_reply_key);
	T_EQ(t, d.tag_len, 8);
	T_MEMEQ(t, d.reply_key, l.reply_key, 32);
	T_MEMEQ(t, d.tags, tag, 8);
	/* excluded count above 512 */
	be16_put(m->payload + 69, 513);
	T_ERR(t, i2np_db_lookup_decode(m, &d), ERR_TOO_BIG);
	be16_put(m->payload + 69, 4);	/* more than present */
	T_ERR(t, i2np_db_lookup_decode(m, &d), ERR_TRUNCATED);
	i2np_msg_free(m);
	bbuf_free(&b);
}

static void test_search_reply_and_status(struct tctx *t)
{
	uint8_t peers[2 * 32];
	struct i2np_search_reply s = { .n_peers = 2, .peers = peers }, d;
	struct i2np_delivery_status ds = { 42, 1700000000000ULL }, dd;
	struct bbuf b = BBUF_INIT;
	struct i2np_msg *m;

	memset(peers, 7, sizeof(peers));
	memset(s.key, 8, 32);
	memset(s.from, 9, 32);
	i2np_search_reply_encode(&s, &b);
	m = wrap(I2NP_DATABASE_SEARCH_REPLY, &b);
	T_OK(t, i2np_search_reply_decode(m, &d));
	T_EQ(t, d.n_peers, 2);
	T_MEMEQ(t, d.from, s.from, 32);
	m->payload[32] = 200;
	T_ERR(t, i2np_search_reply_decode(m, &d), ERR_TOO_BIG);
	i2np_msg_free(m);

	i2np_delivery_status_encode(&ds, &b);
	T_EQ(t, b.len, 12);
	m = wrap(I2NP_DELIVERY_STATUS, &b);
	T_OK(t, i2np_delivery_status_decode(m, &dd));
	T_EQ(t, dd.msg_id, 42);
	T_TRUE(t, dd.timestamp_ms == ds.timestamp_ms);
	m->len = 11;
	T_ERR(t, i2np_delivery_status_decode(m, &dd), ERR_TRUNCATED);
	m->type = I2NP_DATA;
	T_ERR(t, i2np_delivery_status_decode(m, &dd), ERR_ARG);
	i2np_msg_free(m);
	bbuf_free(&b);
}

static void test_gateway_and_build(struct tctx *t)
{
	static const uint8_t inner_body[] = { 1, 2, 3, 4 };
	struct i2np_msg *inner = i2np_msg_new(I2NP_DATA, inner_body, 4, 1000);
	struct i2np_tunnel_gateway g;
	struct i2np_build bd;
	struct bbuf b = BBUF_INIT;
	struct i2np_msg *m, *back = NULL;
	struct breader r;

	i2np_tunnel_gateway_encode(99, inner, &b);
	m = wrap(I2NP_TUNNEL_GATEWAY, &b);
	T_OK(t, i2np_tunnel_gateway_decode(m, &g));
	T_EQ(t, g.tunnel_id, 99);
	br_init(&r, g.data, g.len);
	T_OK(t, i2np_msg_decode(&r, &back));
	T_EQ(t, back->msg_id, inner->msg_id);
	i2np_msg_free(back);
	i2np_msg_free(m);

	bbuf_u8(&b, 4);
	memset(bbuf_extend(&b, 4 * I2NP_SHORT_RECORD_BYTES), 0x55,
	       4 * I2NP_SHORT_RECORD_BYTES);
	m = wrap(I2NP_SHORT_TUNNEL_BUILD, &b);
	T_OK(t, i2np_build_decode(m, &bd));
	T_EQ(t, bd.n_records, 4);
	T_EQ(t, bd.record_len, I2NP_SHORT_RECORD_BYTES);
	m->type = I2NP_VARIABLE_TUNNEL_BUILD;	/* 528-byte records: short */
	T_ERR(t, i2np_build_decode(m, &bd), ERR_TRUNCATED);
	m->type = I2NP_SHORT_TUNNEL_BUILD;
	m->payload[0] = 9;
	T_ERR(t, i2np_build_decode(m, &bd), ERR_RANGE);
	i2np_msg_free(m);
	i2np_msg_free(inner);
	bbuf_free(&b);
}

static void test_dedup(struct tctx *t)
{
	struct i2np_dedup *d = i2np_dedup_new(1000);

	T_FALSE(t, i2np_dedup_check(d, 1, 100));
	T_TRUE(t, i2np_dedup_check(d, 1, 100));
	T_FALSE(t, i2np_dedup_check(d, 1, 101));	/* other expiration */
	T_FALSE(t, i2np_dedup_check(d, 2, 100));
	T_TRUE(t, i2np_dedup_check(d, 1, 101));
	T_TRUE(t, i2np_dedup_check(d, 2, 100));
	i2np_dedup_free(d);
}

/* The filter holds the most recent keys: sized for 1000, the last 250 of
 * 3500 are all still known, and keys 3000 older are mostly forgotten (a
 * bucket of 16 keeps a key until 16 newer ones came to it: the last 250
 * put about 2 in each of 128 buckets, the 3000 after key i about 23). */
/* Freed messages of the common size come back wiped; the cache is
 * bounded; other sizes and foreign buffers go back to malloc. */
static void test_pool(struct tctx *t)
{
	struct i2np_msg *m, *many[I2NP_POOL_TEST_N];
	uint8_t *p, zero[1028] = { 0 };
	size_t on = i2np_pool_enabled ? 1 : 0;

	i2np_pool_trim();
	T_EQ(t, i2np_pool_held(), 0);
	m = i2np_msg_new(I2NP_DATA, NULL, 0, 1000);
	T_EQ(t, m->len, 0);
	i2np_msg_free(m);
	m = i2np_msg_make(I2NP_TUNNEL_DATA, 1028);
	T_EQ(t, m->type, I2NP_TUNNEL_DATA);
	T_EQ(t, m->msg_id, 0);
	memset(m->payload, 0xa5, m->len);
	p = m->payload;
	i2np_msg_free(m);
	T_EQ(t, i2np_pool_held(), on);
	m = i2np_msg_make(I2NP_DATA, 1000);
	T_EQ(t, m->payload == p, i2np_pool_enabled);
	if (m->payload == p)	/* the old bytes were wiped */
		T_MEMEQ(t, m->payload, zero, sizeof(zero));
	T_EQ(t, i2np_pool_held(), 0);
	i2np_msg_free(m);
	/* small payloads and a caller's own smaller block are not kept */
	i2np_msg_free(i2np_msg_make(I2NP_DATA, 100));
	m = i2np_msg_new_take(I2NP_DATA, xmalloc(1024), 1024, 1000);
	i2np_msg_free(m);
	T_EQ(t, i2np_pool_held(), on);
	for (int i = 0; i < I2NP_POOL_TEST_N; i++)
		many[i] = i2np_msg_new(I2NP_DATA, zero, 900, 1000);
	for (int i = 0; i < I2NP_POOL_TEST_N; i++)
		i2np_msg_free(many[i]);
	T_EQ(t, i2np_pool_held(), i2np_pool_enabled ? I2NP_POOL_MAX : 0);
	i2np_pool_trim();
	T_EQ(t, i2np_pool_held(), 0);
}

static void test_dedup_full(struct tctx *t)
{
	struct i2np_dedup *d = i2np_dedup_new(1000);
	unsigned dup = 0;

	for (uint32_t i = 0; i < 3500; i++)
		T_FALSE(t, i2np_dedup_check(d, i, 7));
	for (uint32_t i = 3250; i < 3500; i++)
		dup += i2np_dedup_check(d, i, 7);
	T_EQ(t, dup, 250);
	dup = 0;
	for (uint32_t i = 0; i < 500; i++)
		dup += i2np_dedup_check(d, i, 7);
	T_TRUE(t, dup < 60);
	i2np_dedup_free(d);
}

const struct test_case router_i2np_tests[] = {
	{ "header/roundtrip", test_header_roundtrip, 0 },
	{ "header/short", test_short_header, 0 },
	{ "expiry", test_expiry, 0 },
	{ "db_store", test_db_store, 0 },
	{ "db_lookup", test_db_lookup, 0 },
	{ "search_reply_and_status", test_search_reply_and_status, 0 },
	{ "gateway_and_build", test_gateway_and_build, 0 },
	{ "dedup", test_dedup, 0 },
	{ "dedup_full", test_dedup_full, 0 },
	{ "pool", test_pool, 0 },
	{ NULL, NULL, 0 }
};
