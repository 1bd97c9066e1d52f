/*
 * router/garlic_router: Noise_N to a router and one-time replies against
 * an independent Python model (tests/vectors/gen-garlic.py), payload
 * blocks, and the receiving side (one-time tags used once, DateTime
 * window, replayed ephemeral keys, bounded tables).
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/garlic_router.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS 1700000000000ULL

/* A keystore whose identity X25519 secret is sk (the file format of
 * crypto/keystore.h, built by hand). */
static struct keystore *ks_with_identity(struct tctx *t, const uint8_t *sk)
{
	uint8_t buf[KEYSTORE_ENCODED_BYTES];
	struct keystore *ks = NULL;
	size_t off = 0;

	memcpy(buf, "BITSKEYS", 8);
	off = 8;
	buf[off++] = 0;
	buf[off++] = KEYSTORE_VERSION;
	rand_bytes(buf + off, 32);		/* Ed25519 seed */
	off += 32;
	memcpy(buf + off, sk, 32);		/* KEYSTORE_X_IDENTITY */
	off += 32;
	rand_bytes(buf + off, 64);		/* NTCP2, SSU2 */
	off += 64;
	sha256(buf + off, buf, off);
	T_OK(t, keystore_decode(buf, sizeof(buf), &ks));
	memwipe(buf, sizeof(buf));
	return ks;
}

struct model {
	json_t *j;
	uint8_t *router_sk, *router_pk, *eph_sk, *payload, *garlic;
	uint8_t *rkey, *rtag, *tagged;
	size_t payload_len, garlic_len, tagged_len;
};

static void model_load(struct tctx *t, struct model *m)
{
	size_t n;

	memset(m, 0, sizeof(*m));
	if (!(m->j = tvec_load(t, "garlic-model.json")))
		return;
	m->router_sk = tvec_field(t, m->j, "router_sk", &n);
	m->router_pk = tvec_field(t, m->j, "router_pk", &n);
	m->eph_sk = tvec_field(t, m->j, "eph_sk", &n);
	m->payload = tvec_field(t, m->j, "payload", &m->payload_len);
	m->garlic = tvec_field(t, m->j, "garlic", &m->garlic_len);
	m->rkey = tvec_field(t, m->j, "reply_key", &n);
	m->rtag = tvec_field(t, m->j, "reply_tag", &n);
	m->tagged = tvec_field(t, m->j, "tagged", &m->tagged_len);
}

static void model_free(struct model *m)
{
	free(m->router_sk);
	free(m->router_pk);
	free(m->eph_sk);
	free(m->payload);
	free(m->garlic);
	free(m->rkey);
	free(m->rtag);
	free(m->tagged);
	json_decref(m->j);
}

static void test_model_noise_n(struct tctx *t)
{
	struct model m;
	struct x25519_pk rs;
	struct x25519_sk e;
	struct i2np_msg *out = NULL;
	struct keystore *ks = NULL;
	struct bbuf plain = BBUF_INIT;
	uint8_t epk[32];

	model_load(t, &m);
	if (!m.garlic)
		goto out;
	/* Encrypting with the model's ephemeral key gives its bytes. */
	memcpy(rs.b, m.router_pk, 32);
	memcpy(e.b, m.eph_sk, 32);
	T_OK(t, garlic_router_encrypt(&rs, &e, m.payload, m.payload_len, &out));
	if (out) {
		T_EQ(t, out->type, I2NP_GARLIC);
		T_EQ(t, out->len, m.garlic_len);
		if (out->len == m.garlic_len)
			T_MEMEQ(t, out->payload, m.garlic, m.garlic_len);
	}
	/* The router decrypts the model's message. */
	ks = ks_with_identity(t, m.router_sk);
	if (ks) {
		T_OK(t, garlic_router_decrypt(ks, m.garlic + 4,
					      m.garlic_len - 4, &plain, epk));
		T_EQ(t, plain.len, m.payload_len);
		if (plain.len == m.payload_len)
			T_MEMEQ(t, plain.data, m.payload, m.payload_len);
		/* One flipped ciphertext byte: the tag fails. */
		bbuf_reset(&plain);
		m.garlic[m.garlic_len - 20] ^= 1;
		T_ERR(t, garlic_router_decrypt(ks, m.garlic + 4,
					       m.garlic_len - 4, &plain, epk),
		      ERR_AUTH);
		T_EQ(t, plain.len, 0);
	}
out:
	i2np_msg_free(out);
	keystore_free(ks);
	bbuf_free(&plain);
	model_free(&m);
}

static void test_model_tagged(struct tctx *t)
{
	struct model m;
	struct i2np_msg *out = NULL;
	struct bbuf plain = BBUF_INIT;
	uint8_t wrong[32];

	model_load(t, &m);
	if (!m.tagged)
		goto out;
	T_OK(t, garlic_tag_encrypt(m.rkey, m.rtag, m.payload, m.payload_len,
				   &out));
	if (out) {
		T_EQ(t, out->len, m.tagged_len);
		if (out->len == m.tagged_len)
			T_MEMEQ(t, out->payload, m.tagged, m.tagged_len);
	}
	T_OK(t, garlic_tag_decrypt(m.rkey, m.tagged + 4, m.tagged_len - 4,
				   &plain));
	T_EQ(t, plain.len, m.payload_len);
	memcpy(wrong, m.rkey, 32);
	wrong[0] ^= 1;
	bbuf_reset(&plain);
	T_ERR(t, garlic_tag_decrypt(wrong, m.tagged + 4, m.tagged_len - 4,
				    &plain), ERR_AUTH);
out:
	i2np_msg_free(out);
	bbuf_free(&plain);
	model_free(&m);
}

static void test_payload_blocks(struct tctx *t)
{
	struct model m;
	struct garlic_payload gp;
	struct bbuf b = BBUF_INIT;
	struct i2np_msg *ds, *c;
	uint8_t hash[32];

	model_load(t, &m);
	if (m.payload) {
		T_OK(t, garlic_payload_parse(m.payload, m.payload_len, &gp));
		T_TRUE(t, gp.has_datetime);
		T_EQ(t, gp.datetime_s, 1700000000);
		T_EQ(t, gp.n_cloves, 1);
		T_EQ(t, gp.cloves[0].delivery, GARLIC_DELIVERY_LOCAL);
		T_EQ(t, gp.cloves[0].type, I2NP_DELIVERY_STATUS);
		T_EQ(t, gp.cloves[0].msg_id, 0x0a0b0c0d);
		T_EQ(t, gp.cloves[0].expiration_s, 1700000060);
		T_EQ(t, gp.cloves[0].len, 12);
		c = garlic_clove_msg(&gp.cloves[0]);
		T_EQ(t, c->expiration_ms, 1700000060000ULL);
		T_EQ(t, c->msg_id, 0x0a0b0c0d);
		i2np_msg_free(c);
	}
	/* Every delivery type round-trips. */
	rand_bytes(hash, sizeof(hash));
	ds = i2np_msg_new(I2NP_DATA, "abc", 3, 5000);
	garlic_block_datetime(&b, 7);
	T_OK(t, garlic_block_clove(&b, ds, GARLIC_DELIVERY_LOCAL, NULL, 0));
	T_OK(t, garlic_block_clove(&b, ds, GARLIC_DELIVERY_ROUTER, hash, 0));
	T_OK(t, garlic_block_clove(&b, ds, GARLIC_DELIVERY_TUNNEL, hash, 99));
	T_OK(t, garlic_block_clove(&b, ds, GARLIC_DELIVERY_DESTINATION, hash,
				   0));
	T_ERR(t, garlic_block_clove(&b, ds, GARLIC_DELIVERY_ROUTER, NULL, 0),
	      ERR_ARG);
	garlic_block_padding(&b, 5);
	bbuf_u8(&b, 77);		/* an unknown block is skipped */
	bbuf_be16(&b, 1);
	bbuf_u8(&b, 0);
	T_OK(t, garlic_payload_parse(b.data, b.len, &gp));
	T_EQ(t, gp.n_cloves, 4);
	T_EQ(t, gp.cloves[2].delivery, GARLIC_DELIVERY_TUNNEL);
	T_EQ(t, gp.cloves[2].tunnel_id, 99);
	T_MEMEQ(t, gp.cloves[1].to_hash, hash, 32);
	T_EQ(t, gp.cloves[3].len, 3);
	/* Cut anywhere inside: refused. */
	for (size_t n = 1; n < b.len - 4; n++) {
		int r = garlic_payload_parse(b.data, n, &gp);
		T_TRUE(t, r == ERR_TRUNCATED || r == 0);
	}
	/* A second DateTime, an encrypted clove. */
	garlic_block_datetime(&b, 8);
	T_ERR(t, garlic_payload_parse(b.data, b.len, &gp), ERR_FORMAT);
	bbuf_reset(&b);
	T_OK(t, garlic_block_clove(&b, ds, GARLIC_DELIVERY_LOCAL, NULL, 0));
	b.data[3] |= 0x80;
	T_ERR(t, garlic_payload_parse(b.data, b.len, &gp), ERR_FORMAT);
	/* Too many cloves. */
	bbuf_reset(&b);
	for (int i = 0; i <= GARLIC_MAX_CLOVES; i++)
		T_OK(t, garlic_block_clove(&b, ds, GARLIC_DELIVERY_LOCAL, NULL,
					   0));
	T_ERR(t, garlic_payload_parse(b.data, b.len, &gp), ERR_TOO_BIG);
	i2np_msg_free(ds);
	bbuf_free(&b);
	model_free(&m);
}

/* The receiving side: wrap for ourselves and open. */
static void test_open_noise_n(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct garlic_router *g = garlic_router_new(ks);
	struct x25519_pk me;
	struct i2np_msg *inner = i2np_msg_new(I2NP_DATA, "hello", 5, 10000);
	struct i2np_msg *w, *old;
	struct bbuf plain = BBUF_INIT, b = BBUF_INIT;
	struct garlic_payload gp;
	bool tagged = true;

	keystore_x25519_pk(ks, KEYSTORE_X_IDENTITY, &me);
	w = garlic_wrap_for_router(inner, &me);
	T_TRUE(t, w != NULL);
	if (!w)
		goto out;
	T_OK(t, garlic_router_open(g, w, time_now_ms(), 1000, &plain, &gp,
				   &tagged));
	T_FALSE(t, tagged);
	T_EQ(t, gp.n_cloves, 1);
	T_EQ(t, gp.cloves[0].type, I2NP_DATA);
	T_TRUE(t, gp.cloves[0].len == 5 &&
		  memcmp(gp.cloves[0].body, "hello", 5) == 0);
	/* The same message again: a replayed ephemeral key. */
	bbuf_reset(&plain);
	T_ERR(t, garlic_router_open(g, w, time_now_ms(), 1001, &plain, &gp,
				    &tagged), ERR_DUPLICATE);
	/* A DateTime ten minutes old, and none at all. */
	garlic_block_datetime(&b, (uint32_t)(time_now_s() - 600));
	T_OK(t, garlic_router_encrypt(&me, NULL, b.data, b.len, &old));
	bbuf_reset(&plain);
	T_ERR(t, garlic_router_open(g, old, time_now_ms(), 1002, &plain, &gp,
				    &tagged), ERR_EXPIRED);
	i2np_msg_free(old);
	bbuf_reset(&b);
	garlic_block_padding(&b, 4);
	T_OK(t, garlic_router_encrypt(&me, NULL, b.data, b.len, &old));
	bbuf_reset(&plain);
	T_ERR(t, garlic_router_open(g, old, time_now_ms(), 1003, &plain, &gp,
				    &tagged), ERR_EXPIRED);
	i2np_msg_free(old);
	/* Someone else's router key: cannot open. */
	{
		struct keystore *other = keystore_new_random();
		struct garlic_router *g2 = garlic_router_new(other);
		bbuf_reset(&plain);
		T_ERR(t, garlic_router_open(g2, w, time_now_ms(), 1004, &plain,
					    &gp, &tagged), ERR_AUTH);
		garlic_router_free(g2);
		keystore_free(other);
	}
out:
	i2np_msg_free(w);
	bbuf_free(&plain);
	bbuf_free(&b);
	garlic_router_free(g);
	keystore_free(ks);
}

static void test_open_tagged(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct garlic_router *g = garlic_router_new(ks);
	uint8_t key[32], tag[8];
	struct i2np_msg *w;
	struct bbuf plain = BBUF_INIT;
	struct garlic_payload gp;
	bool tagged = false;

	garlic_router_new_tag(g, key, tag, 5000);
	T_EQ(t, garlic_router_tag_count(g), 1);
	w = garlic_wrap_tagged(i2np_msg_new(I2NP_DATABASE_STORE, "x", 1, 9000),
			       key, tag);
	T_TRUE(t, w != NULL);
	if (!w)
		goto out;
	T_OK(t, garlic_router_open(g, w, NOW_MS, 1000, &plain, &gp, &tagged));
	T_TRUE(t, tagged);
	T_EQ(t, gp.n_cloves, 1);
	T_EQ(t, gp.cloves[0].type, I2NP_DATABASE_STORE);
	/* The clove comes first: i2pd's destinations refuse anything else
	 * (a DateTime) at the head of a one-time-tag reply. */
	T_TRUE(t, plain.len > 0);
	if (plain.len > 0)
		T_EQ(t, plain.data[0], GARLIC_BLOCK_CLOVE);
	/* One time: the tag is gone, so it is tried as Noise_N and fails. */
	T_EQ(t, garlic_router_tag_count(g), 0);
	bbuf_reset(&plain);
	T_TRUE(t, garlic_router_open(g, w, NOW_MS, 1001, &plain, &gp,
				     &tagged) != 0);
	/* An expired expectation is not honoured. */
	garlic_router_expect_tag(g, tag, key, 900);
	bbuf_reset(&plain);
	T_TRUE(t, garlic_router_open(g, w, NOW_MS, 1002, &plain, &gp,
				     &tagged) != 0);
out:
	i2np_msg_free(w);
	bbuf_free(&plain);
	garlic_router_free(g);
	keystore_free(ks);
}

/* The tag table stays bounded and keeps the entries that expire last. */
static void test_tag_table_bounded(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct garlic_router *g = garlic_router_new(ks);
	uint8_t key[32], tag[8], last_key[32], last_tag[8];
	struct i2np_msg *w;
	struct bbuf plain = BBUF_INIT;
	struct garlic_payload gp;
	bool tagged;

	time_set_mono_override(1000);	/* none expired as they go in */
	for (uint64_t i = 0; i < GARLIC_TAGS_MAX + 100; i++)
		garlic_router_new_tag(g, key, tag, 1000000 + i);
	time_set_mono_override(0);
	memcpy(last_key, key, 32);
	memcpy(last_tag, tag, 8);
	T_EQ(t, garlic_router_tag_count(g), GARLIC_TAGS_MAX);
	/* grown to full size: 2 slots a tag (the key table still small) */
	T_TRUE(t, garlic_router_bytes(g) >= 2 * GARLIC_TAGS_MAX * 48);
	w = garlic_wrap_tagged(i2np_msg_new(I2NP_DATA, "y", 1, 9000), last_key,
			       last_tag);
	T_OK(t, garlic_router_open(g, w, NOW_MS, 1000, &plain, &gp, &tagged));
	T_TRUE(t, tagged);
	T_EQ(t, garlic_router_tag_count(g), GARLIC_TAGS_MAX - 1);
	i2np_msg_free(w);
	bbuf_free(&plain);
	garlic_router_free(g);
	keystore_free(ks);
}

/* The tables' memory follows the entries live at once: a new router's
 * are small, expired tags make no room taken, and live ones grow the
 * table, each still found after the moves.  (At full size from the
 * start, the replayed-key table's 6 MiB became resident page by page.) */
static void test_tables_follow_use(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct garlic_router *g = garlic_router_new(ks);
	uint8_t key[32], tag[8], first_key[32], first_tag[8];
	struct i2np_msg *w;
	struct bbuf plain = BBUF_INIT;
	struct garlic_payload gp;
	bool tagged = false;
	size_t small = garlic_router_bytes(g);

	T_TRUE(t, small <= 16 * 1024);
	/* 20,000 tags, each expired by the time the next comes */
	for (uint64_t i = 0; i < 20000; i++) {
		time_set_mono_override(10000 + 2 * i);
		garlic_router_new_tag(g, key, tag, 10000 + 2 * i + 1);
	}
	T_EQ(t, garlic_router_bytes(g), small);
	T_TRUE(t, garlic_router_tag_count(g) <= 64);
	/* 3,000 live ones: the table grows to hold them */
	time_set_mono_override(100000);
	garlic_router_new_tag(g, first_key, first_tag, 900000);
	for (unsigned i = 0; i < 3000; i++)
		garlic_router_new_tag(g, key, tag, 900000);
	time_set_mono_override(0);
	T_TRUE(t, garlic_router_tag_count(g) >= 3001);
	T_TRUE(t, garlic_router_bytes(g) >= 2 * 3001 * 48);
	T_TRUE(t, garlic_router_bytes(g) < 2 * GARLIC_TAGS_MAX * 48);
	w = garlic_wrap_tagged(i2np_msg_new(I2NP_DATA, "z", 1, 9000),
			       first_key, first_tag);
	T_OK(t, garlic_router_open(g, w, NOW_MS, 200000, &plain, &gp,
				   &tagged));
	T_TRUE(t, tagged);
	i2np_msg_free(w);
	bbuf_free(&plain);
	garlic_router_free(g);
	keystore_free(ks);
}

/* An ElGamal/AES lookup reply, opened here with OpenSSL directly and
 * read by hand as the elgamal-aes and i2np specs lay it out. */
static void test_aes_tagged(struct tctx *t)
{
	uint8_t key[32], tag[32], iv[32], h[32], *p = NULL;
	struct i2np_msg *in = i2np_msg_new(I2NP_DATABASE_STORE, "hello", 5,
					   9000);
	struct i2np_msg *w, *back = NULL;
	struct bbuf g = BBUF_INIT;
	struct breader r;
	const uint8_t *d;
	uint32_t id = in->msg_id, plen;
	EVP_CIPHER_CTX *c;
	size_t n, dlen;
	int outl = 0;

	rand_bytes(key, sizeof(key));
	rand_bytes(tag, sizeof(tag));
	w = garlic_wrap_aes_tagged(in, key, tag);
	T_TRUE(t, w != NULL);
	if (!w)
		return;
	T_EQ(t, w->type, I2NP_GARLIC);
	T_OK(t, i2np_blob_decode(w, &d, &dlen));
	T_TRUE(t, dlen > 32 + 48 && (dlen - 32) % 16 == 0);
	if (dlen <= 32 + 48 || (dlen - 32) % 16 != 0)
		goto out;
	T_MEMEQ(t, d, tag, 32);
	n = dlen - 32;
	p = xmalloc(n);
	SHA256(tag, 32, iv);
	c = EVP_CIPHER_CTX_new();
	T_EQ(t, EVP_DecryptInit_ex(c, EVP_aes_256_cbc(), NULL, key, iv), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	T_EQ(t, EVP_DecryptUpdate(c, p, &outl, d + 32, (int)n), 1);
	EVP_CIPHER_CTX_free(c);
	T_EQ(t, (size_t)outl, n);
	/* tag count 0, payload size, its SHA-256, flag 0 */
	T_EQ(t, be16_get(p), 0);
	plen = be32_get(p + 2);
	T_TRUE(t, plen <= n - 39 && n - 39 - plen < 16);
	if (plen > n - 39)
		goto out;
	SHA256(p + 39, plen, h);
	T_MEMEQ(t, h, p + 6, 32);
	T_EQ(t, p[38], 0);
	/* the garlic: 1 clove, LOCAL, the message with its full header,
	 * clove id, expiration, null certificate; then certificate, id,
	 * expiration */
	br_init(&r, p + 39, plen);
	T_EQ(t, br_u8(&r), 1);
	T_EQ(t, br_u8(&r), 0);
	T_OK(t, i2np_msg_decode(&r, &back));
	if (back) {
		T_EQ(t, back->type, I2NP_DATABASE_STORE);
		T_EQ(t, back->msg_id, id);
		T_EQ(t, back->len, 5);
		T_MEMEQ(t, back->payload, "hello", 5);
	}
	(void)br_take(&r, 4 + 8);
	T_MEMEQ(t, br_take(&r, 3), "\0\0\0", 3);
	T_MEMEQ(t, br_take(&r, 3), "\0\0\0", 3);
	(void)br_take(&r, 4 + 8);
	T_TRUE(t, br_done(&r));
	/* our own opener agrees, and a wrong key fails */
	T_OK(t, garlic_aes_tag_decrypt(key, d, dlen, &g));
	T_EQ(t, g.len, plen);
	T_MEMEQ(t, g.data, p + 39, plen);
	key[0] ^= 1;
	bbuf_reset(&g);
	T_TRUE(t, garlic_aes_tag_decrypt(key, d, dlen, &g) != 0);
	T_EQ(t, g.len, 0);
	T_EQ(t, garlic_aes_tag_decrypt(key, d, 40, &g), ERR_TRUNCATED);
	T_EQ(t, garlic_aes_tag_decrypt(key, d, dlen - 1, &g), ERR_FORMAT);
out:
	free(p);
	i2np_msg_free(back);
	i2np_msg_free(w);
	bbuf_free(&g);
}

const struct test_case router_garlic_tests[] = {
	{ "model_noise_n", test_model_noise_n, 0 },
	{ "model_tagged", test_model_tagged, 0 },
	{ "payload_blocks", test_payload_blocks, 0 },
	{ "open_noise_n", test_open_noise_n, 0 },
	{ "open_tagged", test_open_tagged, 0 },
	{ "tag_table_bounded", test_tag_table_bounded, 0 },
	{ "tables_follow_use", test_tables_follow_use, 0 },
	{ "aes_tagged", test_aes_tagged, 0 },
	{ NULL, NULL, 0 }
};
