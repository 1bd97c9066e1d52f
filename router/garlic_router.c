/*
 * Router garlic (router/garlic_router.h): Noise_N to a router's identity
 * key and one-time (key, tag) replies, the payload blocks both carry,
 * and the receiving side's tag table and replay filter.
 *
 * ecies-routers spec, "KDF for Message": h = MixHash(hepk), MixHash(sepk);
 * keydata = HKDF(chainKey, DH(sesk, hepk), "", 64); k = keydata[32:64];
 * ciphertext = ENCRYPT(k, 0, payload, ad = h): exactly the first message
 * of the standard N pattern, so crypto/noise.c's engine runs it.
 *
 * The two tables are open-addressing arrays of SipHash fingerprints with
 * linear probing and backward-shift deletion, bounded in size.
 */
#include "config.h"
#include "router/garlic_router.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/aes.h"
#include "crypto/chacha.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"
#include "crypto/noise.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"

#include <stdlib.h>
#include <string.h>

/* Delivery instructions flag: bit 7 encrypted, bits 6-5 type, bit 4
 * delay ("Session key and delay are unused and never present"). */
#define DI_ENCRYPTED 0x80u
#define DI_TYPE_SHIFT 5
#define DI_TYPE_MASK 0x03u
#define DI_DELAY 0x10u
/* Padding we add to our messages: 1..16 bytes, as i2pd does. */
#define GARLIC_PAD_MAX 16
/* A wrapped message lives as long as the one inside, at least this. */
#define GARLIC_MIN_TTL_MS 10000

/* ---- blocks ---- */

void garlic_block_datetime(struct bbuf *b, uint32_t now_s)
{
	bbuf_u8(b, GARLIC_BLOCK_DATETIME);
	bbuf_be16(b, 4);
	bbuf_be32(b, now_s);
}

int garlic_block_clove(struct bbuf *b, const struct i2np_msg *m,
		       enum garlic_delivery delivery, const uint8_t *to_hash,
		       uint32_t tunnel_id)
{
	size_t di = delivery == GARLIC_DELIVERY_LOCAL ? 1 :
		    delivery == GARLIC_DELIVERY_TUNNEL ? 37 : 33;
	size_t size = di + GARLIC_CLOVE_FIXED_BYTES + m->len;

	if (size > UINT16_MAX)
		return ERR_TOO_BIG;
	if (delivery != GARLIC_DELIVERY_LOCAL && !to_hash)
		return ERR_ARG;
	bbuf_u8(b, GARLIC_BLOCK_CLOVE);
	bbuf_be16(b, (uint16_t)size);
	bbuf_u8(b, (uint8_t)(delivery << DI_TYPE_SHIFT));
	if (delivery != GARLIC_DELIVERY_LOCAL)
		bbuf_put(b, to_hash, 32);
	if (delivery == GARLIC_DELIVERY_TUNNEL)
		bbuf_be32(b, tunnel_id);
	bbuf_u8(b, m->type);
	bbuf_be32(b, m->msg_id);
	bbuf_be32(b, (uint32_t)(m->expiration_ms / 1000));
	bbuf_put(b, m->payload, m->len);
	return 0;
}

void garlic_block_padding(struct bbuf *b, size_t n)
{
	bbuf_u8(b, GARLIC_BLOCK_PADDING);
	bbuf_be16(b, (uint16_t)n);
	memset(bbuf_extend(b, n), 0, n);
}

static int parse_clove(struct breader *r, struct garlic_clove *c)
{
	uint8_t flag = br_u8(r);

	memset(c, 0, sizeof(*c));
	if (r->failed)
		return ERR_TRUNCATED;
	if (flag & (DI_ENCRYPTED | DI_DELAY))
		return ERR_FORMAT;
	c->delivery = (enum garlic_delivery)((flag >> DI_TYPE_SHIFT) &
					     DI_TYPE_MASK);
	if (c->delivery != GARLIC_DELIVERY_LOCAL)
		br_copy(r, c->to_hash, 32);
	if (c->delivery == GARLIC_DELIVERY_TUNNEL)
		c->tunnel_id = br_be32(r);
	c->type = br_u8(r);
	c->msg_id = br_be32(r);
	c->expiration_s = br_be32(r);
	if (r->failed)
		return ERR_TRUNCATED;
	c->len = br_left(r);
	c->body = br_take(r, c->len);
	return 0;
}

int garlic_payload_parse(const uint8_t *p, size_t len,
			 struct garlic_payload *out)
{
	struct breader r;
	int ret;

	memset(out, 0, sizeof(*out));
	br_init(&r, p, len);
	while (br_left(&r)) {
		uint8_t type = br_u8(&r);
		size_t size = br_be16(&r);
		const uint8_t *body = br_take(&r, size);
		struct breader b;

		if (r.failed)
			return ERR_TRUNCATED;
		br_init(&b, body, size);
		switch (type) {
		case GARLIC_BLOCK_DATETIME:
			if (out->has_datetime || size != 4)
				return ERR_FORMAT;
			out->datetime_s = br_be32(&b);
			out->has_datetime = true;
			break;
		case GARLIC_BLOCK_CLOVE:
			if (out->n_cloves == GARLIC_MAX_CLOVES)
				return ERR_TOO_BIG;
			if ((ret = parse_clove(&b,
					&out->cloves[out->n_cloves])) != 0)
				return ret;
			out->n_cloves++;
			break;
		default:		/* padding, and blocks we do not use */
			break;
		}
	}
	return 0;
}

struct i2np_msg *garlic_clove_msg(const struct garlic_clove *c)
{
	struct i2np_msg *m = i2np_msg_new(c->type, c->body, c->len, 0);

	m->msg_id = c->msg_id;
	m->expiration_ms = (uint64_t)c->expiration_s * 1000;
	return m;
}

/* ---- Noise_N ---- */

static struct i2np_msg *garlic_msg(const uint8_t *data, size_t len,
				   uint64_t ttl_ms)
{
	struct bbuf b = BBUF_INIT;
	uint8_t *p;
	size_t n = 0;

	i2np_blob_encode(data, len, &b);
	p = bbuf_steal(&b, &n);
	return i2np_msg_new_take(I2NP_GARLIC, p, n, ttl_ms);
}

int garlic_router_encrypt(const struct x25519_pk *rs,
			  const struct x25519_sk *e, const uint8_t *payload,
			  size_t len, struct i2np_msg **out)
{
	struct noise_hs hs;
	uint8_t *ct;
	size_t ctlen = 0, max = GARLIC_EPK_BYTES + len + GARLIC_MAC_BYTES;
	int r;

	if (max > GARLIC_MAX_BYTES - 4)
		return ERR_TOO_BIG;
	if ((r = noise_hs_init(&hs, NOISE_PATTERN_N, NOISE_INITIATOR,
			       GARLIC_NOISE_N_NAME, NULL, 0, NULL, rs)) != 0)
		return r;
	if (e)
		noise_hs_set_ephemeral(&hs, e);
	ct = xmalloc(max);
	if ((r = noise_hs_write(&hs, ct, max, &ctlen, payload, len)) == 0)
		*out = garlic_msg(ct, ctlen, GARLIC_MIN_TTL_MS);
	noise_hs_wipe(&hs);
	xfree_wipe(ct, max);
	return r;
}

/*
 * [DateTime ‖] LOCAL clove of m ‖ padding.  One-time-tag replies go
 * without the DateTime: i2pd's destinations take only a Garlic Clove
 * block first in those and refuse the message otherwise.
 */
static int local_payload(const struct i2np_msg *m, bool datetime,
			 struct bbuf *b)
{
	uint8_t pad;
	int r;

	if (datetime)
		garlic_block_datetime(b, (uint32_t)time_now_s());
	if ((r = garlic_block_clove(b, m, GARLIC_DELIVERY_LOCAL, NULL, 0)) != 0)
		return r;
	rand_bytes(&pad, 1);
	garlic_block_padding(b, 1 + pad % GARLIC_PAD_MAX);
	return 0;
}

/* A wrapper lives as long as what it carries. */
static void inherit_expiry(struct i2np_msg *w, const struct i2np_msg *m)
{
	if (m->expiration_ms > w->expiration_ms)
		w->expiration_ms = m->expiration_ms;
}

struct i2np_msg *garlic_wrap_for_router(struct i2np_msg *m,
					const struct x25519_pk *rs)
{
	struct bbuf b = BBUF_INIT;
	struct i2np_msg *out = NULL;

	if (local_payload(m, true, &b) == 0 &&
	    garlic_router_encrypt(rs, NULL, b.data, b.len, &out) == 0)
		inherit_expiry(out, m);
	bbuf_free(&b);
	i2np_msg_free(m);
	return out;
}

int garlic_router_decrypt(const struct keystore *ks, const uint8_t *data,
			  size_t len, struct bbuf *plain, uint8_t epk[32])
{
	struct noise_static st;
	struct noise_hs hs;
	size_t plen = 0;
	uint8_t *out;
	int r;

	if (len < GARLIC_EPK_BYTES + GARLIC_MAC_BYTES)
		return ERR_TRUNCATED;
	if (len > GARLIC_MAX_BYTES)
		return ERR_TOO_BIG;
	noise_static_from_keystore(&st, ks, KEYSTORE_X_IDENTITY);
	if ((r = noise_hs_init(&hs, NOISE_PATTERN_N, NOISE_RESPONDER,
			       GARLIC_NOISE_N_NAME, NULL, 0, &st, NULL)) != 0)
		return r;
	out = bbuf_extend(plain, len);
	r = noise_hs_read(&hs, out, len, &plen, data, len);
	noise_hs_wipe(&hs);
	if (r != 0) {
		plain->len -= len;
		return r;
	}
	plain->len -= len - plen;
	memcpy(epk, data, GARLIC_EPK_BYTES);
	return 0;
}

/* ---- one-time tags ---- */

int garlic_tag_encrypt(const uint8_t key[GARLIC_KEY_BYTES],
		       const uint8_t tag[GARLIC_TAG_BYTES],
		       const uint8_t *payload, size_t len,
		       struct i2np_msg **out)
{
	size_t n = GARLIC_TAG_BYTES + len + GARLIC_MAC_BYTES;
	uint8_t *buf;

	if (n > GARLIC_MAX_BYTES - 4)
		return ERR_TOO_BIG;
	buf = xmalloc(n);
	memcpy(buf, tag, GARLIC_TAG_BYTES);
	/* "ad = The session tag, 8 bytes", nonce 0 (proposal 154). */
	chachapoly_encrypt_n(buf + GARLIC_TAG_BYTES, key, 0, tag,
			     GARLIC_TAG_BYTES, payload, len);
	*out = garlic_msg(buf, n, GARLIC_MIN_TTL_MS);
	xfree_wipe(buf, n);
	return 0;
}

struct i2np_msg *garlic_wrap_tagged(struct i2np_msg *m,
				    const uint8_t key[GARLIC_KEY_BYTES],
				    const uint8_t tag[GARLIC_TAG_BYTES])
{
	struct bbuf b = BBUF_INIT;
	struct i2np_msg *out = NULL;

	if (local_payload(m, false, &b) == 0 &&
	    garlic_tag_encrypt(key, tag, b.data, b.len, &out) == 0)
		inherit_expiry(out, m);
	bbuf_free(&b);
	i2np_msg_free(m);
	return out;
}

int garlic_tag_decrypt(const uint8_t key[GARLIC_KEY_BYTES],
		       const uint8_t *data, size_t len, struct bbuf *plain)
{
	size_t n;
	int r;

	if (len < GARLIC_TAG_BYTES + GARLIC_MAC_BYTES)
		return ERR_TRUNCATED;
	if (len > GARLIC_MAX_BYTES)
		return ERR_TOO_BIG;
	n = len - GARLIC_TAG_BYTES - GARLIC_MAC_BYTES;
	r = chachapoly_decrypt_n(bbuf_extend(plain, n), key, 0, data,
				 GARLIC_TAG_BYTES, data + GARLIC_TAG_BYTES,
				 len - GARLIC_TAG_BYTES);
	if (r != 0)
		plain->len -= n;
	return r;
}

/* ---- ElGamal/AES+SessionTag replies ---- */

/* The AES block's fixed part: tag count, payload size, hash, flag. */
#define AES_TAG_BLOCK_FIXED_BYTES (2 + 4 + 32 + 1)

struct i2np_msg *garlic_wrap_aes_tagged(struct i2np_msg *m,
					const uint8_t key[GARLIC_AES_KEY_BYTES],
					const uint8_t tag[GARLIC_AES_TAG_BYTES])
{
	struct bbuf g = BBUF_INIT, b = BBUF_INIT;
	struct i2np_msg *out = NULL;
	struct aes256_ctx *aes;
	uint8_t iv[32], cid[4], *p;
	uint64_t exp = m->expiration_ms;
	size_t fill;

	/* The garlic (i2np spec "Garlic"): one LOCAL clove (flag 0, the
	 * message with its full header, clove id, expiration, null
	 * certificate), then a null certificate, a message id and the
	 * expiration. */
	bbuf_u8(&g, 1);
	bbuf_u8(&g, 0);
	i2np_msg_encode(m, &g);
	rand_bytes(cid, sizeof(cid));
	bbuf_put(&g, cid, sizeof(cid));
	bbuf_be64(&g, exp);
	bbuf_put(&g, "\0\0\0", 3);
	bbuf_put(&g, "\0\0\0", 3);
	rand_bytes(cid, sizeof(cid));
	bbuf_put(&g, cid, sizeof(cid));
	bbuf_be64(&g, exp);
	/* The AES block (elgamal-aes spec): no new tags, the payload's size
	 * and SHA-256, no new key, the payload, random padding to a whole
	 * number of AES blocks. */
	bbuf_put(&b, tag, GARLIC_AES_TAG_BYTES);
	bbuf_be16(&b, 0);
	bbuf_be32(&b, (uint32_t)g.len);
	sha256(bbuf_extend(&b, 32), g.data, g.len);
	bbuf_u8(&b, 0);
	bbuf_put(&b, g.data, g.len);
	fill = (16 - (b.len - GARLIC_AES_TAG_BYTES) % 16) % 16;
	rand_bytes(bbuf_extend(&b, fill), fill);
	if (b.len + 4 <= GARLIC_MAX_BYTES) {
		sha256(iv, tag, GARLIC_AES_TAG_BYTES);
		aes = aes256_new(key);
		p = b.data + GARLIC_AES_TAG_BYTES;
		if (aes256_cbc_encrypt(aes, iv, p,
				       b.len - GARLIC_AES_TAG_BYTES) == 0) {
			out = garlic_msg(b.data, b.len, GARLIC_MIN_TTL_MS);
			inherit_expiry(out, m);
		}
		aes256_free(aes);
	}
	memwipe(iv, sizeof(iv));
	bbuf_free(&g);
	bbuf_free(&b);
	i2np_msg_free(m);
	return out;
}

int garlic_aes_tag_decrypt(const uint8_t key[GARLIC_AES_KEY_BYTES],
			   const uint8_t *data, size_t len, struct bbuf *garlic)
{
	struct aes256_ctx *aes;
	uint8_t iv[32], h[32], *p;
	size_t n;
	uint32_t plen;
	int r = 0;

	if (len < GARLIC_AES_TAG_BYTES + 16 * 3)
		return ERR_TRUNCATED;
	if (len > GARLIC_MAX_BYTES)
		return ERR_TOO_BIG;
	n = len - GARLIC_AES_TAG_BYTES;
	if (n % 16 != 0)
		return ERR_FORMAT;
	p = xmalloc(n);
	memcpy(p, data + GARLIC_AES_TAG_BYTES, n);
	sha256(iv, data, GARLIC_AES_TAG_BYTES);
	aes = aes256_new(key);
	if (aes256_cbc_decrypt(aes, iv, p, n) != 0)
		r = ERR_CRYPTO;
	aes256_free(aes);
	if (r == 0 && be16_get(p) != 0)
		r = ERR_UNSUPPORTED;	/* new tags: not in a reply */
	plen = r == 0 ? be32_get(p + 2) : 0;
	if (r == 0 && (p[38] != 0 ||
		       plen > n - AES_TAG_BLOCK_FIXED_BYTES))
		r = ERR_FORMAT;
	if (r == 0) {
		sha256(h, p + AES_TAG_BLOCK_FIXED_BYTES, plen);
		if (memcmp(h, p + 6, 32) != 0)
			r = ERR_AUTH;
	}
	if (r == 0)
		bbuf_put(garlic, p + AES_TAG_BLOCK_FIXED_BYTES, plen);
	memwipe(iv, sizeof(iv));
	xfree_wipe(p, n);
	return r;
}

/* ---- bounded fingerprint tables ---- */

struct fent {
	uint64_t fp;			/* 0: empty */
	uint64_t expires;
	uint8_t key[GARLIC_KEY_BYTES];
};

/*
 * The table starts at FTAB_CAP_MIN slots and doubles as it fills, up to
 * cap_max (2 x max), dropping expired entries first: its memory follows
 * the entries live at once, not max.  (At full size the replayed-key
 * table is 6 MiB, and the random slots its keys land in made the pages
 * resident one by one: a slow RSS climb over the first hours.)
 */
#define FTAB_CAP_MIN 64

struct ftab {
	struct fent *e;
	size_t cap;			/* power of two, at most cap_max */
	size_t cap_max;			/* power of two, 2 x max */
	size_t n, max;
};

static void ftab_init(struct ftab *t, size_t max)
{
	t->max = max;
	for (t->cap_max = FTAB_CAP_MIN; t->cap_max < 2 * max;
	     t->cap_max *= 2)
		;
	t->cap = FTAB_CAP_MIN;
	t->e = xcalloc(t->cap, sizeof(*t->e));
	t->n = 0;
}

static void ftab_clear(struct ftab *t)
{
	xfree_wipe(t->e, t->cap * sizeof(*t->e));
	t->e = NULL;
}

static struct fent *ftab_find(struct ftab *t, uint64_t fp)
{
	for (size_t i = fp & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (t->e[i].fp == fp)
			return &t->e[i];
		if (t->e[i].fp == 0)
			return NULL;
	}
}

/* Remove e, shifting later entries of its cluster back. */
static void ftab_del(struct ftab *t, struct fent *e)
{
	size_t i = (size_t)(e - t->e), j = i;

	memwipe(e, sizeof(*e));
	for (;;) {
		size_t home;
		j = (j + 1) & (t->cap - 1);
		if (t->e[j].fp == 0)
			break;
		home = t->e[j].fp & (t->cap - 1);
		/* Move j back to i unless its home lies in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			t->e[i] = t->e[j];
			memwipe(&t->e[j], sizeof(t->e[j]));
			i = j;
		}
	}
	t->n--;
}

/* Drop every expired entry. */
static void ftab_drop_expired(struct ftab *t, uint64_t now)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct fent *e = &t->e[i];
		if (e->fp && e->expires <= now) {
			ftab_del(t, e);
			i--;		/* a shifted entry may sit here now */
		}
	}
}

/* Move the entries to a table of cap slots. */
static void ftab_resize(struct ftab *t, size_t cap)
{
	struct fent *old = t->e;
	size_t old_cap = t->cap;

	t->e = xcalloc(cap, sizeof(*t->e));
	t->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		size_t j;

		if (!old[i].fp)
			continue;
		for (j = old[i].fp & (cap - 1); t->e[j].fp;
		     j = (j + 1) & (cap - 1))
			;
		t->e[j] = old[i];
	}
	xfree_wipe(old, old_cap * sizeof(*old));
}

/* Room for one more below full size: past half full, expired entries go,
 * and the table doubles unless that left it at most a quarter full (so
 * a sweep comes at most every cap/4 insertions). */
static void ftab_grow(struct ftab *t, uint64_t now)
{
	if (t->cap >= t->cap_max || 2 * (t->n + 1) <= t->cap)
		return;
	ftab_drop_expired(t, now);
	if (4 * (t->n + 1) > t->cap)
		ftab_resize(t, 2 * t->cap);
}

/* Make room: drop expired entries, else the one expiring first. */
static void ftab_make_room(struct ftab *t, uint64_t now)
{
	struct fent *oldest = NULL;

	for (size_t i = 0; i < t->cap && t->n >= t->max; i++) {
		struct fent *e = &t->e[i];
		if (e->fp && e->expires <= now) {
			ftab_del(t, e);
			i--;		/* a shifted entry may sit here now */
		}
	}
	if (t->n < t->max)
		return;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].fp &&
		    (!oldest || t->e[i].expires < oldest->expires))
			oldest = &t->e[i];
	if (oldest)
		ftab_del(t, oldest);
}

static struct fent *ftab_put(struct ftab *t, uint64_t fp, uint64_t expires,
			     uint64_t now)
{
	struct fent *e = ftab_find(t, fp);
	size_t i;

	if (!e) {
		if (t->n >= t->max)
			ftab_make_room(t, now);
		else
			ftab_grow(t, now);
		for (i = fp & (t->cap - 1); t->e[i].fp;
		     i = (i + 1) & (t->cap - 1))
			;
		e = &t->e[i];
		e->fp = fp;
		t->n++;
	}
	e->expires = expires;
	return e;
}

/* ---- the receiving side ---- */

struct garlic_router {
	const struct keystore *ks;
	uint8_t sip[SIPHASH_KEY_BYTES];
	struct ftab tags, seen;
};

static uint64_t fingerprint(const struct garlic_router *g, const void *p,
			    size_t n)
{
	uint64_t fp = siphash24_u64(g->sip, p, n);

	return fp ? fp : 1;		/* 0 marks an empty slot */
}

struct garlic_router *garlic_router_new(const struct keystore *ks)
{
	struct garlic_router *g = xzalloc(sizeof(*g));

	g->ks = ks;
	rand_bytes(g->sip, sizeof(g->sip));
	ftab_init(&g->tags, GARLIC_TAGS_MAX);
	ftab_init(&g->seen, GARLIC_REPLAY_MAX);
	return g;
}

void garlic_router_free(struct garlic_router *g)
{
	if (!g)
		return;
	ftab_clear(&g->tags);
	ftab_clear(&g->seen);
	memwipe(g, sizeof(*g));
	free(g);
}

void garlic_router_expect_tag(struct garlic_router *g,
			      const uint8_t tag[GARLIC_TAG_BYTES],
			      const uint8_t key[GARLIC_KEY_BYTES],
			      uint64_t expires_mono_ms)
{
	struct fent *e = ftab_put(&g->tags, fingerprint(g, tag,
							GARLIC_TAG_BYTES),
				  expires_mono_ms, time_mono_ms());

	memcpy(e->key, key, GARLIC_KEY_BYTES);
}

void garlic_router_new_tag(struct garlic_router *g,
			   uint8_t key[GARLIC_KEY_BYTES],
			   uint8_t tag[GARLIC_TAG_BYTES],
			   uint64_t expires_mono_ms)
{
	rand_bytes(key, GARLIC_KEY_BYTES);
	rand_bytes(tag, GARLIC_TAG_BYTES);
	garlic_router_expect_tag(g, tag, key, expires_mono_ms);
}

size_t garlic_router_tag_count(const struct garlic_router *g)
{
	return g->tags.n;
}

size_t garlic_router_bytes(const struct garlic_router *g)
{
	return (g->tags.cap + g->seen.cap) * sizeof(struct fent);
}

/* A one-time tag we wait for: decrypt and use it up. */
static int open_tagged(struct garlic_router *g, const uint8_t *data,
		       size_t len, uint64_t now_mono, struct bbuf *plain,
		       bool *found)
{
	struct fent *e;
	int r;

	*found = false;
	if (len < GARLIC_TAG_BYTES + GARLIC_MAC_BYTES)
		return 0;
	e = ftab_find(&g->tags, fingerprint(g, data, GARLIC_TAG_BYTES));
	if (!e || e->expires <= now_mono)
		return 0;
	*found = true;
	r = garlic_tag_decrypt(e->key, data, len, plain);
	if (r == 0)
		ftab_del(&g->tags, e);	/* one time */
	return r;
}

int garlic_router_open(struct garlic_router *g, const struct i2np_msg *m,
		       uint64_t now_ms, uint64_t now_mono_ms,
		       struct bbuf *plain, struct garlic_payload *out,
		       bool *tagged)
{
	const uint8_t *data;
	uint8_t epk[GARLIC_EPK_BYTES];
	uint64_t fp, ts;
	size_t len;
	bool found;
	int r;

	if ((r = i2np_blob_decode(m, &data, &len)) != 0)
		return r;
	if ((r = open_tagged(g, data, len, now_mono_ms, plain, &found)) != 0)
		return r;
	*tagged = found;
	if (found)
		return garlic_payload_parse(plain->data, plain->len, out);
	if ((r = garlic_router_decrypt(g->ks, data, len, plain, epk)) != 0)
		return r;
	if ((r = garlic_payload_parse(plain->data, plain->len, out)) != 0)
		return r;
	/* "All messages must contain a DateTime block for replay
	 * prevention." */
	ts = (uint64_t)out->datetime_s * 1000;
	if (!out->has_datetime || ts + GARLIC_MAX_AGE_MS < now_ms ||
	    ts > now_ms + GARLIC_MAX_FUTURE_MS)
		return ERR_EXPIRED;
	fp = fingerprint(g, epk, sizeof(epk));
	if (ftab_find(&g->seen, fp))
		return ERR_DUPLICATE;
	/* Remember the key as long as its DateTime stays acceptable. */
	ftab_put(&g->seen, fp, now_mono_ms + GARLIC_MAX_AGE_MS +
		 GARLIC_MAX_FUTURE_MS, now_mono_ms);
	return 0;
}
