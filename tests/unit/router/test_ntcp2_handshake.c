/*
 * router/ntcp2_handshake: both roles against each other with fixed keys,
 * an independent model of the spec's KDF text (HMAC by HMAC, no
 * crypto/noise.c) that must produce the same bytes and keys, every
 * tamper/truncation rejected, clock skew, netId, version, the replay cache.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/ntcp2_handshake.h"
#include "crypto/aes.h"
#include "crypto/base/err.h"
#include "crypto/chacha.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"
#include "router/ntcp2_frame.h"
#include "router/router_keys.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

#define NETID 77
#define TS 1700000000u

struct fixture {
	struct x25519_sk a_s, b_s, a_e, b_e;
	struct noise_static a_st, b_st;
	uint8_t b_rh[32], b_iv[16];
	uint8_t pad1[40], pad2[17];
	uint8_t payload[300];
};

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

static void fixture_init(struct fixture *f)
{
	fill(f->a_s.b, 32, 0x11);
	fill(f->b_s.b, 32, 0x22);
	fill(f->a_e.b, 32, 0x33);
	fill(f->b_e.b, 32, 0x44);
	fill(f->b_rh, 32, 0x55);
	fill(f->b_iv, 16, 0x66);
	fill(f->pad1, sizeof(f->pad1), 0x77);
	fill(f->pad2, sizeof(f->pad2), 0x88);
	fill(f->payload, sizeof(f->payload), 0x99);
	noise_static_from_sk(&f->a_st, &f->a_s);
	noise_static_from_sk(&f->b_st, &f->b_s);
}

/* The three wire messages of one run. */
struct transcript {
	struct bbuf m1, m2, m3;
};

static void transcript_free(struct transcript *tr)
{
	bbuf_free(&tr->m1);
	bbuf_free(&tr->m2);
	bbuf_free(&tr->m3);
}

static void start(struct fixture *f, struct ntcp2_hs *a, struct ntcp2_hs *b)
{
	ntcp2_hs_init_alice(a, &f->a_st, f->b_rh, &f->b_st.pk, f->b_iv, NETID);
	ntcp2_hs_set_ephemeral(a, &f->a_e);
	ntcp2_hs_init_bob(b, &f->b_st, f->b_rh, f->b_iv, NETID);
	ntcp2_hs_set_ephemeral(b, &f->b_e);
}

static void bob_restart(struct fixture *f, struct ntcp2_hs *b)
{
	ntcp2_hs_wipe(b);
	ntcp2_hs_init_bob(b, &f->b_st, f->b_rh, f->b_iv, NETID);
	ntcp2_hs_set_ephemeral(b, &f->b_e);
}

static void alice_restart(struct fixture *f, struct ntcp2_hs *a)
{
	ntcp2_hs_wipe(a);
	ntcp2_hs_init_alice(a, &f->a_st, f->b_rh, &f->b_st.pk, f->b_iv, NETID);
	ntcp2_hs_set_ephemeral(a, &f->a_e);
}

/* Wipe both sides and the transcript (every test's epilogue). */
static void finish(struct ntcp2_hs *a, struct ntcp2_hs *b,
		   struct transcript *tr)
{
	ntcp2_hs_wipe(a);
	ntcp2_hs_wipe(b);
	transcript_free(tr);
}

/* A full successful handshake; returns the number of failed steps. */
static int run(struct tctx *t, struct fixture *f, struct ntcp2_hs *a,
	       struct ntcp2_hs *b, struct transcript *tr, struct ntcp2_keys *ka,
	       struct ntcp2_keys *kb)
{
	struct ntcp2_hs_options o;
	uint8_t got[sizeof(f->payload)];
	size_t plen = 0;
	int before = t->failures;

	start(f, a, b);
	T_OK(t, ntcp2_hs_write_request(a, TS, f->pad1, sizeof(f->pad1),
				       sizeof(f->payload) + 16, &tr->m1));
	T_EQ(t, tr->m1.len, NTCP2_MSG1_BYTES + sizeof(f->pad1));
	T_OK(t, ntcp2_hs_read_request(b, tr->m1.data, TS + 5, NULL, 0, &o));
	T_EQ(t, o.netid, NETID);
	T_EQ(t, o.version, 2);
	T_EQ(t, o.pad_len, sizeof(f->pad1));
	T_EQ(t, o.m3p2_len, sizeof(f->payload) + 16);
	T_EQ(t, o.ts, TS);
	T_EQ(t, ntcp2_hs_skew_s(b), -5);
	T_OK(t, ntcp2_hs_read_padding(b, tr->m1.data + 64, o.pad_len));
	T_OK(t, ntcp2_hs_write_created(b, TS + 5, f->pad2, sizeof(f->pad2),
				       &tr->m2));
	T_EQ(t, tr->m2.len, NTCP2_MSG2_BYTES + sizeof(f->pad2));
	T_OK(t, ntcp2_hs_read_created(a, tr->m2.data, TS, NULL, 0, &o));
	T_EQ(t, o.pad_len, sizeof(f->pad2));
	T_EQ(t, o.ts, TS + 5);
	T_OK(t, ntcp2_hs_read_padding(a, tr->m2.data + 64, o.pad_len));
	T_OK(t, ntcp2_hs_write_confirmed(a, f->payload, sizeof(f->payload),
					 &tr->m3));
	T_EQ(t, tr->m3.len, ntcp2_hs_confirmed_len(b));
	T_OK(t, ntcp2_hs_read_confirmed(b, tr->m3.data, tr->m3.len, got, &plen));
	T_EQ(t, plen, sizeof(f->payload));
	T_MEMEQ(t, got, f->payload, sizeof(f->payload));
	if (ka)
		T_OK(t, ntcp2_hs_split(a, ka));
	if (kb)
		T_OK(t, ntcp2_hs_split(b, kb));
	return t->failures - before;
}

static void test_roundtrip(struct tctx *t)
{
	struct fixture f;
	struct ntcp2_hs a, b;
	struct transcript tr = { BBUF_INIT, BBUF_INIT, BBUF_INIT };
	struct ntcp2_keys ka, kb;
	struct x25519_pk rs;

	fixture_init(&f);
	if (run(t, &f, &a, &b, &tr, NULL, NULL) != 0)
		goto out;
	T_TRUE(t, ntcp2_hs_remote_static(&b, &rs));
	T_MEMEQ(t, rs.b, f.a_st.pk.b, 32);
	T_TRUE(t, ntcp2_hs_remote_static(&a, &rs));
	T_MEMEQ(t, rs.b, f.b_st.pk.b, 32);
	T_OK(t, ntcp2_hs_split(&a, &ka));
	T_OK(t, ntcp2_hs_split(&b, &kb));
	T_MEMEQ(t, &ka.send, &kb.recv, sizeof(ka.send));
	T_MEMEQ(t, &ka.recv, &kb.send, sizeof(ka.recv));
	T_FALSE(t, memcmp(ka.send.k, ka.recv.k, 32) == 0);
	T_FALSE(t, memcmp(ka.send.sipkey, ka.recv.sipkey, 16) == 0);
	/* split wipes: a second split is refused */
	T_ERR(t, ntcp2_hs_split(&a, &ka), ERR_BAD_STATE);
out:
	finish(&a, &b, &tr);
}

/* ---- an independent model of the spec text ---- */

struct model {
	uint8_t ck[32], h[32], k[32];
	uint64_t n;
};

static void m_mixhash(struct model *m, const void *d, size_t len)
{
	sha256_2(m->h, m->h, 32, d, len);
}

/* temp_key = HMAC(ck, ikm); ck = HMAC(temp_key, 0x01);
 * k = HMAC(temp_key, ck || 0x02) */
static void m_mixkey(struct model *m, const uint8_t ikm[32])
{
	uint8_t temp[32], buf[33];
	static const uint8_t one = 1;

	hmac_sha256(temp, m->ck, 32, ikm, 32);
	hmac_sha256(m->ck, temp, 32, &one, 1);
	memcpy(buf, m->ck, 32);
	buf[32] = 2;
	hmac_sha256(m->k, temp, 32, buf, 33);
	m->n = 0;
}

static void m_encrypt(struct model *m, uint8_t *out, const uint8_t *in,
		      size_t len)
{
	chachapoly_encrypt_n(out, m->k, m->n++, m->h, 32, in, len);
	m_mixhash(m, out, len + 16);
}

static void m_init(struct model *m, const uint8_t bob_s[32])
{
	static const char name[] = NTCP2_PROTOCOL_NAME;

	memset(m, 0, sizeof(*m));
	sha256(m->h, name, strlen(name));	/* 48 bytes: hashed */
	memcpy(m->ck, m->h, 32);
	sha256(m->h, m->h, 32);			/* null prologue */
	m_mixhash(m, bob_s, 32);
}

/* Message 1 per "1) SessionRequest" with any version byte. */
static void m_msg1(struct model *m, struct fixture *f, uint8_t iv[16],
		   uint8_t netid, uint8_t ver, uint16_t m3p2, uint32_t ts,
		   uint8_t out[64 + sizeof(f->pad1)])
{
	struct x25519_pk x;
	struct aes256_ctx *aes = aes256_new(f->b_rh);
	uint8_t dh[32], opt[16] = { 0 };

	x25519_pk_from_sk(&x, &f->a_e);
	memcpy(out, x.b, 32);
	memcpy(iv, f->b_iv, 16);
	(void)aes256_cbc_encrypt(aes, iv, out, 32);
	aes256_free(aes);
	m_init(m, f->b_st.pk.b);
	m_mixhash(m, x.b, 32);
	(void)x25519_dh(dh, &f->a_e, &f->b_st.pk);
	m_mixkey(m, dh);
	opt[0] = netid;
	opt[1] = ver;
	opt[2] = sizeof(f->pad1) >> 8;
	opt[3] = sizeof(f->pad1) & 0xff;
	opt[4] = m3p2 >> 8;
	opt[5] = m3p2 & 0xff;
	opt[8] = ts >> 24;
	opt[9] = ts >> 16;
	opt[10] = ts >> 8;
	opt[11] = ts;
	m_encrypt(m, out + 32, opt, 16);
	memcpy(out + 64, f->pad1, sizeof(f->pad1));
	m_mixhash(m, f->pad1, sizeof(f->pad1));
}

static void test_matches_spec_model(struct tctx *t)
{
	/* SHA256("Noise_XKaesobfse+hs2+hs3_25519_ChaChaPoly_SHA256") and its
	 * hash (the null prologue), as i2pd precomputes them: a second
	 * implementation's reading of the protocol name. */
	static const uint8_t name_hash[32] = {
		0x72, 0xe8, 0x42, 0xc5, 0x45, 0xe1, 0x80, 0x80, 0xd3, 0x9c, 0x44,
		0x93, 0xbb, 0x91, 0xd7, 0xed, 0xf2, 0x28, 0x98, 0x17, 0x71, 0x21,
		0x8c, 0x1f, 0x62, 0x4e, 0x20, 0x6f, 0x28, 0xd3, 0x2f, 0x71 };
	static const uint8_t h0[32] = {
		0x49, 0xff, 0x48, 0x3f, 0xc4, 0x04, 0xb9, 0xb2, 0x6b, 0x11, 0x94,
		0x36, 0x72, 0xff, 0x05, 0xb5, 0x61, 0x27, 0x03, 0x31, 0xba, 0x89,
		0xb8, 0xfc, 0x33, 0x15, 0x93, 0x87, 0x57, 0xdd, 0x3d, 0x1e };
	struct fixture f;
	struct ntcp2_hs a, b;
	struct transcript tr = { BBUF_INIT, BBUF_INIT, BBUF_INIT };
	struct ntcp2_keys ka, kb;
	struct model m;
	uint8_t iv[16], m1[64 + sizeof(f.pad1)], y[32], dh[32], opt[16];
	uint8_t m3[48 + sizeof(f.payload) + 16];
	uint8_t temp[32], k_ab[33], k_ba[32], ask[32], sip[32], buf[39];
	uint8_t sk_ab[33], sk_ba[32];
	struct x25519_pk ypk, a_pk;
	struct aes256_ctx *aes;
	static const uint8_t one = 1;
	static const uint8_t ask_in[4] = { 'a', 's', 'k', 1 };

	fixture_init(&f);
	sha256(temp, NTCP2_PROTOCOL_NAME, strlen(NTCP2_PROTOCOL_NAME));
	T_MEMEQ(t, temp, name_hash, 32);
	sha256(temp, name_hash, 32);
	T_MEMEQ(t, temp, h0, 32);

	if (run(t, &f, &a, &b, &tr, &ka, &kb) != 0)
		goto out;
	/* Message 1 */
	m_msg1(&m, &f, iv, NETID, 2, sizeof(f.payload) + 16, TS, m1);
	T_EQ(t, tr.m1.len, sizeof(m1));
	T_MEMEQ(t, tr.m1.data, m1, sizeof(m1));
	/* Message 2, read as Alice: "h = SHA256(h || 32 byte encrypted
	 * payload from message 1)" was done by m_encrypt. */
	memcpy(y, tr.m2.data, 32);
	aes = aes256_new(f.b_rh);
	(void)aes256_cbc_decrypt(aes, iv, y, 32);	/* IV continues */
	aes256_free(aes);
	x25519_pk_from_sk(&ypk, &f.b_e);
	T_MEMEQ(t, y, ypk.b, 32);
	m_mixhash(&m, y, 32);
	(void)x25519_dh(dh, &f.a_e, &ypk);
	m_mixkey(&m, dh);
	T_OK(t, chachapoly_decrypt_n(opt, m.k, 0, m.h, 32, tr.m2.data + 32, 32));
	T_EQ(t, opt[2] << 8 | opt[3], sizeof(f.pad2));
	T_EQ(t, (uint32_t)opt[8] << 24 | opt[9] << 16 | opt[10] << 8 | opt[11],
	     TS + 5);
	m.n = 1;
	m_mixhash(&m, tr.m2.data + 32, 32);
	m_mixhash(&m, tr.m2.data + 64, sizeof(f.pad2));
	/* Message 3 part 1: static key with n = 1; part 2 after "se". */
	x25519_pk_from_sk(&a_pk, &f.a_s);
	m_encrypt(&m, m3, a_pk.b, 32);
	(void)x25519_dh(dh, &f.a_s, &ypk);
	m_mixkey(&m, dh);
	m_encrypt(&m, m3 + 48, f.payload, sizeof(f.payload));
	T_EQ(t, tr.m3.len, sizeof(m3));
	T_MEMEQ(t, tr.m3.data, m3, sizeof(m3));
	/* Data phase, HMAC by HMAC as the spec writes it. */
	hmac_sha256(temp, m.ck, 32, NULL, 0);
	hmac_sha256(k_ab, temp, 32, &one, 1);
	k_ab[32] = 2;
	hmac_sha256(k_ba, temp, 32, k_ab, 33);
	hmac_sha256(ask, temp, 32, ask_in, 4);
	memcpy(buf, m.h, 32);
	memcpy(buf + 32, "siphash", 7);
	hmac_sha256(temp, ask, 32, buf, 39);
	hmac_sha256(sip, temp, 32, &one, 1);
	hmac_sha256(temp, sip, 32, NULL, 0);
	hmac_sha256(sk_ab, temp, 32, &one, 1);
	sk_ab[32] = 2;
	hmac_sha256(sk_ba, temp, 32, sk_ab, 33);
	T_MEMEQ(t, ka.send.k, k_ab, 32);
	T_MEMEQ(t, ka.recv.k, k_ba, 32);
	T_MEMEQ(t, ka.send.sipkey, sk_ab, 16);
	T_MEMEQ(t, ka.send.sipiv, sk_ab + 16, 8);
	T_MEMEQ(t, ka.recv.sipkey, sk_ba, 16);
	T_MEMEQ(t, ka.recv.sipiv, sk_ba + 16, 8);
	T_MEMEQ(t, kb.send.k, k_ba, 32);
	T_MEMEQ(t, kb.recv.sipkey, sk_ab, 16);
out:
	finish(&a, &b, &tr);
}

/* Flip every byte of every message in turn: the receiver must refuse
 * (message 1's padding is caught one message later, by Alice). */
static void test_tamper_every_byte(struct tctx *t)
{
	struct fixture f;
	struct ntcp2_hs a, b;
	struct transcript tr = { BBUF_INIT, BBUF_INIT, BBUF_INIT };
	struct ntcp2_hs_options o;
	uint8_t buf[1024], out[sizeof(f.payload)];
	size_t plen;

	fixture_init(&f);
	if (run(t, &f, &a, &b, &tr, NULL, NULL) != 0)
		goto out;
	for (size_t i = 0; i < tr.m1.len; i++) {
		struct transcript t2 = { BBUF_INIT, BBUF_INIT, BBUF_INIT };
		int r;

		memcpy(buf, tr.m1.data, tr.m1.len);
		buf[i] ^= 0x01;
		bob_restart(&f, &b);
		r = ntcp2_hs_read_request(&b, buf, TS, NULL, 0, &o);
		if (i < 64) {
			T_ERR(t, r, ERR_AUTH);
			continue;
		}
		/* padding: accepted now, fatal for message 2 */
		T_OK(t, r);
		T_OK(t, ntcp2_hs_read_padding(&b, buf + 64, o.pad_len));
		T_OK(t, ntcp2_hs_write_created(&b, TS, f.pad2, sizeof(f.pad2),
					       &t2.m2));
		alice_restart(&f, &a);
		T_OK(t, ntcp2_hs_write_request(&a, TS, f.pad1, sizeof(f.pad1),
					       sizeof(f.payload) + 16, &t2.m1));
		T_ERR(t, ntcp2_hs_read_created(&a, t2.m2.data, TS, NULL, 0, &o),
		      ERR_AUTH);
		transcript_free(&t2);
	}
	for (size_t i = 0; i < tr.m2.len; i++) {
		struct transcript t2 = { BBUF_INIT, BBUF_INIT, BBUF_INIT };
		int r;

		memcpy(buf, tr.m2.data, tr.m2.len);
		buf[i] ^= 0x80;
		alice_restart(&f, &a);
		T_OK(t, ntcp2_hs_write_request(&a, TS, f.pad1, sizeof(f.pad1),
					       sizeof(f.payload) + 16, &t2.m1));
		r = ntcp2_hs_read_created(&a, buf, TS, NULL, 0, &o);
		if (i < 64) {
			/* h covers the key, so any change fails the AEAD */
			T_ERR(t, r, ERR_AUTH);
			transcript_free(&t2);
			continue;
		}
		T_OK(t, r);
		T_OK(t, ntcp2_hs_read_padding(&a, buf + 64, o.pad_len));
		/* Bob's view of the handshake: a fresh Bob that read the
		 * real message 1 and sent the real message 2. */
		bob_restart(&f, &b);
		T_OK(t, ntcp2_hs_read_request(&b, tr.m1.data, TS, NULL, 0, &o));
		T_OK(t, ntcp2_hs_read_padding(&b, tr.m1.data + 64, o.pad_len));
		T_OK(t, ntcp2_hs_write_created(&b, TS + 5, f.pad2,
					       sizeof(f.pad2), &t2.m2));
		T_OK(t, ntcp2_hs_write_confirmed(&a, f.payload,
						 sizeof(f.payload), &t2.m3));
		T_ERR(t, ntcp2_hs_read_confirmed(&b, t2.m3.data, t2.m3.len, out,
						 &plen), ERR_AUTH);
		transcript_free(&t2);
	}
	for (size_t i = 0; i < tr.m3.len; i += (i < 60 ? 1 : 13)) {
		memcpy(buf, tr.m3.data, tr.m3.len);
		buf[i] ^= 0x04;
		bob_restart(&f, &b);
		T_OK(t, ntcp2_hs_read_request(&b, tr.m1.data, TS, NULL, 0, &o));
		T_OK(t, ntcp2_hs_read_padding(&b, tr.m1.data + 64, o.pad_len));
		bbuf_reset(&tr.m2);
		T_OK(t, ntcp2_hs_write_created(&b, TS + 5, f.pad2,
					       sizeof(f.pad2), &tr.m2));
		T_ERR(t, ntcp2_hs_read_confirmed(&b, buf, tr.m3.len, out, &plen),
		      ERR_AUTH);
		/* a failed handshake stays failed */
		T_ERR(t, ntcp2_hs_read_confirmed(&b, tr.m3.data, tr.m3.len, out,
						 &plen), ERR_BAD_STATE);
	}
out:
	finish(&a, &b, &tr);
}

static void test_truncation_and_lengths(struct tctx *t)
{
	struct fixture f;
	struct ntcp2_hs a, b;
	struct transcript tr = { BBUF_INIT, BBUF_INIT, BBUF_INIT };
	struct ntcp2_hs_options o;
	uint8_t out[sizeof(f.payload)];
	size_t plen;

	fixture_init(&f);
	start(&f, &a, &b);
	/* too much padding to send, an impossible m3p2len */
	T_ERR(t, ntcp2_hs_write_request(&a, TS, f.payload,
					NTCP2_HS_SEND_PADDING_MAX_BYTES + 1,
					100, &tr.m1), ERR_ARG);
	T_ERR(t, ntcp2_hs_write_request(&a, TS, f.pad1, 0, 15, &tr.m1), ERR_ARG);
	T_EQ(t, tr.m1.len, 0);
	T_OK(t, ntcp2_hs_write_request(&a, TS, f.pad1, sizeof(f.pad1),
				       sizeof(f.payload) + 16, &tr.m1));
	T_OK(t, ntcp2_hs_read_request(&b, tr.m1.data, TS, NULL, 0, &o));
	/* a short padding read is refused (the caller reads exactly) */
	T_ERR(t, ntcp2_hs_read_padding(&b, tr.m1.data + 64, o.pad_len - 1),
	      ERR_ARG);
	T_OK(t, ntcp2_hs_read_padding(&b, tr.m1.data + 64, o.pad_len));
	T_OK(t, ntcp2_hs_write_created(&b, TS, f.pad2, 0, &tr.m2));
	T_EQ(t, tr.m2.len, 64);
	T_OK(t, ntcp2_hs_read_created(&a, tr.m2.data, TS, NULL, 0, &o));
	T_EQ(t, o.pad_len, 0);
	T_OK(t, ntcp2_hs_read_padding(&a, NULL, 0));
	/* payload not matching the announced m3p2len */
	T_ERR(t, ntcp2_hs_write_confirmed(&a, f.payload, sizeof(f.payload) - 1,
					  &tr.m3), ERR_ARG);
	T_OK(t, ntcp2_hs_write_confirmed(&a, f.payload, sizeof(f.payload),
					 &tr.m3));
	/* a truncated message 3 */
	T_ERR(t, ntcp2_hs_read_confirmed(&b, tr.m3.data, tr.m3.len - 1, out,
					 &plen), ERR_ARG);
	finish(&a, &b, &tr);
}

static void test_out_of_order(struct tctx *t)
{
	struct fixture f;
	struct ntcp2_hs a, b;
	struct bbuf out = BBUF_INIT;
	struct ntcp2_hs_options o;
	struct ntcp2_keys k;
	uint8_t zero[64] = { 0 }, p[16];
	size_t plen;

	fixture_init(&f);
	start(&f, &a, &b);
	T_ERR(t, ntcp2_hs_read_request(&a, zero, TS, NULL, 0, &o), ERR_BAD_STATE);
	T_ERR(t, ntcp2_hs_write_created(&a, TS, NULL, 0, &out), ERR_BAD_STATE);
	T_ERR(t, ntcp2_hs_read_created(&a, zero, TS, NULL, 0, &o), ERR_BAD_STATE);
	T_ERR(t, ntcp2_hs_read_padding(&a, NULL, 0), ERR_BAD_STATE);
	T_ERR(t, ntcp2_hs_split(&a, &k), ERR_BAD_STATE);
	T_ERR(t, ntcp2_hs_write_request(&b, TS, NULL, 0, 100, &out), ERR_BAD_STATE);
	T_ERR(t, ntcp2_hs_write_confirmed(&b, p, 0, &out), ERR_BAD_STATE);
	T_ERR(t, ntcp2_hs_read_confirmed(&b, zero, 64, p, &plen), ERR_BAD_STATE);
	T_EQ(t, out.len, 0);
	ntcp2_hs_wipe(&a);
	ntcp2_hs_wipe(&b);
}

static void test_clock_skew(struct tctx *t)
{
	struct fixture f;
	struct ntcp2_hs a, b;
	struct transcript tr = { BBUF_INIT, BBUF_INIT, BBUF_INIT };
	struct ntcp2_hs_options o;
	uint8_t out[sizeof(f.payload)];
	size_t plen;

	fixture_init(&f);
	/* exactly 60 s either way is fine */
	start(&f, &a, &b);
	T_OK(t, ntcp2_hs_write_request(&a, TS, NULL, 0, 100, &tr.m1));
	T_OK(t, ntcp2_hs_read_request(&b, tr.m1.data, TS + 60, NULL, 0, &o));
	bob_restart(&f, &b);
	T_OK(t, ntcp2_hs_read_request(&b, tr.m1.data, TS - 60, NULL, 0, &o));
	/* 61 s: Bob refuses but may still answer with his clock */
	bob_restart(&f, &b);
	T_ERR(t, ntcp2_hs_read_request(&b, tr.m1.data, TS + 61, NULL, 0, &o),
	      ERR_EXPIRED);
	T_EQ(t, ntcp2_hs_skew_s(&b), -61);
	T_OK(t, ntcp2_hs_read_padding(&b, NULL, 0));
	T_OK(t, ntcp2_hs_write_created(&b, TS + 61, NULL, 0, &tr.m2));
	/* ...so Alice sees the skew from message 2 and gives up */
	T_ERR(t, ntcp2_hs_read_created(&a, tr.m2.data, TS, NULL, 0, &o),
	      ERR_EXPIRED);
	T_EQ(t, ntcp2_hs_skew_s(&a), 61);
	T_ERR(t, ntcp2_hs_read_padding(&a, NULL, 0), ERR_BAD_STATE);
	/* and a Bob that saw the skew never accepts message 3 */
	uint8_t junk[48 + 100] = { 0 };
	T_ERR(t, ntcp2_hs_read_confirmed(&b, junk, 48 + 100, out, &plen),
	      ERR_EXPIRED);
	/* Alice too far behind */
	bob_restart(&f, &b);
	T_ERR(t, ntcp2_hs_read_request(&b, tr.m1.data, TS - 3600, NULL, 0, &o),
	      ERR_EXPIRED);
	finish(&a, &b, &tr);
}

static void test_netid_and_version(struct tctx *t)
{
	struct fixture f;
	struct ntcp2_hs a, b;
	struct bbuf m1 = BBUF_INIT;
	struct ntcp2_hs_options o;
	struct model m;
	uint8_t iv[16], raw[64 + sizeof(f.pad1)];

	fixture_init(&f);
	/* a different network id is refused... */
	ntcp2_hs_init_alice(&a, &f.a_st, f.b_rh, &f.b_st.pk, f.b_iv, 2);
	ntcp2_hs_init_bob(&b, &f.b_st, f.b_rh, f.b_iv, NETID);
	T_OK(t, ntcp2_hs_write_request(&a, TS, NULL, 0, 100, &m1));
	T_ERR(t, ntcp2_hs_read_request(&b, m1.data, TS, NULL, 0, &o),
	      ERR_NETWORK);
	/* ..."unspecified" (0) is accepted */
	ntcp2_hs_wipe(&a);
	ntcp2_hs_wipe(&b);
	bbuf_reset(&m1);
	ntcp2_hs_init_alice(&a, &f.a_st, f.b_rh, &f.b_st.pk, f.b_iv, 0);
	ntcp2_hs_init_bob(&b, &f.b_st, f.b_rh, f.b_iv, NETID);
	T_OK(t, ntcp2_hs_write_request(&a, TS, NULL, 0, 100, &m1));
	T_OK(t, ntcp2_hs_read_request(&b, m1.data, TS, NULL, 0, &o));
	T_EQ(t, o.netid, 0);
	/* version 1 and 3, built with the model */
	for (uint8_t ver = 1; ver <= 3; ver += 2) {
		bob_restart(&f, &b);
		m_msg1(&m, &f, iv, NETID, ver, 100, TS, raw);
		T_ERR(t, ntcp2_hs_read_request(&b, raw, TS, NULL, 0, &o),
		      ERR_UNSUPPORTED);
	}
	/* m3p2len below one tag, and padding over our limit */
	bob_restart(&f, &b);
	m_msg1(&m, &f, iv, NETID, 2, 15, TS, raw);
	T_ERR(t, ntcp2_hs_read_request(&b, raw, TS, NULL, 0, &o), ERR_FORMAT);
	ntcp2_hs_wipe(&a);
	ntcp2_hs_wipe(&b);
	bbuf_free(&m1);
}

static void test_low_order_keys(struct tctx *t)
{
	struct fixture f;
	struct ntcp2_hs a;
	struct bbuf m1 = BBUF_INIT;
	struct x25519_pk zero = { { 0 } };

	fixture_init(&f);
	ntcp2_hs_init_alice(&a, &f.a_st, f.b_rh, &zero, f.b_iv, NETID);
	T_ERR(t, ntcp2_hs_write_request(&a, TS, NULL, 0, 100, &m1), ERR_CRYPTO);
	T_EQ(t, m1.len, 0);
	ntcp2_hs_wipe(&a);
	bbuf_free(&m1);
}

/* Bob's static key in the keystore, as the daemon holds it. */
static void test_keystore_static(struct tctx *t)
{
	struct fixture f;
	struct keystore *ks = keystore_new_random();
	struct ntcp2_hs a, b;
	struct transcript tr = { BBUF_INIT, BBUF_INIT, BBUF_INIT };
	struct ntcp2_keys ka, kb;

	fixture_init(&f);
	noise_static_from_keystore(&f.b_st, ks, KEYSTORE_X_NTCP2);
	if (run(t, &f, &a, &b, &tr, &ka, &kb) == 0) {
		T_MEMEQ(t, &ka.send, &kb.recv, sizeof(ka.send));
		T_MEMEQ(t, &ka.recv, &kb.send, sizeof(ka.recv));
	}
	finish(&a, &b, &tr);
	keystore_free(ks);
}

static void test_replayed_request(struct tctx *t)
{
	struct fixture f;
	struct ntcp2_hs a, b;
	struct bbuf m1 = BBUF_INIT, m2 = BBUF_INIT;
	struct ntcp2_hs_options o;
	struct ntcp2_replay *rc = ntcp2_replay_new(64, NTCP2_REPLAY_LIFETIME_MS);

	fixture_init(&f);
	start(&f, &a, &b);
	T_OK(t, ntcp2_hs_write_request(&a, TS, f.pad1, 3, 100, &m1));
	T_OK(t, ntcp2_hs_read_request(&b, m1.data, TS, rc, 1000, &o));
	/* the same bytes again, within the lifetime */
	bob_restart(&f, &b);
	T_ERR(t, ntcp2_hs_read_request(&b, m1.data, TS, rc, 1000 + 119000, &o),
	      ERR_DUPLICATE);
	/* Alice's side: a replayed Y */
	bob_restart(&f, &b);
	T_OK(t, ntcp2_hs_read_request(&b, m1.data, TS, NULL, 0, &o));
	T_OK(t, ntcp2_hs_read_padding(&b, m1.data + 64, 3));
	T_OK(t, ntcp2_hs_write_created(&b, TS, NULL, 0, &m2));
	struct ntcp2_replay *rca = ntcp2_replay_new(64, NTCP2_REPLAY_LIFETIME_MS);
	T_OK(t, ntcp2_replay_check(rca, f.b_st.pk.b, 5));	/* unrelated key */
	struct x25519_pk y;
	x25519_pk_from_sk(&y, &f.b_e);
	T_OK(t, ntcp2_replay_check(rca, y.b, 5));
	T_ERR(t, ntcp2_hs_read_created(&a, m2.data, TS, rca, 6, &o),
	      ERR_DUPLICATE);
	ntcp2_replay_free(rca);
	ntcp2_hs_wipe(&a);
	ntcp2_hs_wipe(&b);
	bbuf_free(&m1);
	bbuf_free(&m2);
	ntcp2_replay_free(rc);
}

static void test_replay_cache_lifetime(struct tctx *t)
{
	struct ntcp2_replay *rc = ntcp2_replay_new(100, 1000);
	uint8_t k[32];

	memset(k, 0xab, sizeof(k));
	T_OK(t, ntcp2_replay_check(rc, k, 10000));
	T_ERR(t, ntcp2_replay_check(rc, k, 10999), ERR_DUPLICATE);
	/* rotated once: still remembered in the previous generation */
	T_ERR(t, ntcp2_replay_check(rc, k, 11500), ERR_DUPLICATE);
	/* at least one lifetime, at most two: gone after 2 lifetimes */
	T_OK(t, ntcp2_replay_check(rc, k, 14000));
	T_ERR(t, ntcp2_replay_check(rc, k, 14001), ERR_DUPLICATE);
	/* a flood stays bounded: 100 per generation, 2 generations */
	for (unsigned i = 0; i < 1000; i++) {
		memset(k, 0, sizeof(k));
		be32_put(k, i);
		T_OK(t, ntcp2_replay_check(rc, k, 14002));
	}
	T_TRUE(t, ntcp2_replay_count(rc) <= 200);
	/* the most recent ones are still caught */
	be32_put(k, 999);
	T_ERR(t, ntcp2_replay_check(rc, k, 14003), ERR_DUPLICATE);
	ntcp2_replay_free(rc);
}

/*
 * A session with i2pd 2.45.1 recorded by tests/integration/
 * test_ntcp2_record (tests/vectors/ntcp2-i2pd-transcript.json): with our
 * recorded secrets we must rebuild our three wire messages byte for byte,
 * accept i2pd's SessionCreated, and decrypt and parse every frame i2pd
 * sent, among them the DeliveryStatus for our store.
 */
static uint8_t *field(struct tctx *t, json_t *v, const char *k, size_t *len)
{
	size_t l = 0;
	uint8_t *p = tvec_field(t, v, k, &l);

	*len = l;
	return p;
}

static void test_golden_i2pd(struct tctx *t)
{
	json_t *v = tvec_load(t, "ntcp2-i2pd-transcript.json");
	struct router_keys *keys = NULL;
	struct noise_static st;
	struct ntcp2_hs hs;
	struct ntcp2_hs_options o;
	struct ntcp2_keys k;
	struct ntcp2_dir tx, rx;
	struct bbuf m1 = BBUF_INIT, m3 = BBUF_INIT;
	uint8_t *kb, *e, *rh, *bs, *iv, *pad, *w1, *w2, *p3, *w3, *op, *of, *in;
	size_t kl, el, rhl, bsl, ivl, pl, l1, l2, l3p, l3, lop, lof, lin;
	uint8_t out[4096];
	uint32_t ts, token;
	bool acked = false;

	memset(&hs, 0, sizeof(hs));
	if (!v)
		return;
	kb = field(t, v, "alice_router_keys", &kl);
	e = field(t, v, "alice_ephemeral_sk", &el);
	rh = field(t, v, "bob_rh", &rhl);
	bs = field(t, v, "bob_static", &bsl);
	iv = field(t, v, "bob_iv", &ivl);
	pad = field(t, v, "pad1", &pl);
	w1 = field(t, v, "msg1", &l1);
	w2 = field(t, v, "msg2", &l2);
	p3 = field(t, v, "m3p2_plain", &l3p);
	w3 = field(t, v, "msg3", &l3);
	op = field(t, v, "out_plain", &lop);
	of = field(t, v, "out_frame", &lof);
	in = field(t, v, "in_frames", &lin);
	ts = (uint32_t)json_integer_value(json_object_get(v, "ts_a"));
	token = (uint32_t)json_integer_value(json_object_get(v, "token"));
	if (!kb || !e || !rh || !bs || !iv || !pad || !w1 || !w2 || !p3 ||
	    !w3 || !op || !of || !in || el != 32 || rhl != 32 || bsl != 32 ||
	    ivl != 16 || l2 < 64 || lof != lop + 18 || lop > sizeof(out)) {
		t_fail(t, __FILE__, __LINE__, "transcript fields");
		goto out;
	}
	T_OK(t, router_keys_decode(kb, kl, &keys));
	if (!keys)
		goto out;
	noise_static_from_keystore(&st, router_keys_keystore(keys),
				   KEYSTORE_X_NTCP2);
	ntcp2_hs_init_alice(&hs, &st, rh, (const struct x25519_pk *)bs, iv,
			    (uint8_t)json_integer_value(json_object_get(v, "netid")));
	ntcp2_hs_set_ephemeral(&hs, (const struct x25519_sk *)e);
	T_OK(t, ntcp2_hs_write_request(&hs, ts, pad, (uint16_t)pl,
				       (uint16_t)(l3p + 16), &m1));
	T_EQ(t, m1.len, l1);
	T_MEMEQ(t, m1.data, w1, l1);
	T_OK(t, ntcp2_hs_read_created(&hs, w2, ts, NULL, 0, &o));
	T_EQ(t, o.pad_len + 64, l2);
	T_OK(t, ntcp2_hs_read_padding(&hs, w2 + 64, o.pad_len));
	T_OK(t, ntcp2_hs_write_confirmed(&hs, p3, l3p, &m3));
	T_EQ(t, m3.len, l3);
	T_MEMEQ(t, m3.data, w3, l3);
	T_OK(t, ntcp2_hs_split(&hs, &k));
	ntcp2_dir_init(&tx, &k.send);
	ntcp2_dir_init(&rx, &k.recv);
	/* our first data frame */
	T_OK(t, ntcp2_frame_seal(&tx, out, op, lop));
	T_MEMEQ(t, out, of, lof);
	/* i2pd's frames: SipHash chain, AEAD and block layout */
	for (size_t off = 0, len, plen; off + 2 <= lin; off += 2 + len) {
		uint8_t *f = in + off;
		struct breader r;
		struct ntcp2_block b;

		T_OK(t, ntcp2_frame_len_decode(&rx, f, &len));
		if (len > lin - off - 2) {
			t_fail(t, __FILE__, __LINE__, "frame past the end");
			break;
		}
		T_OK(t, ntcp2_frame_open(&rx, f + 2, len, &plen));
		T_OK(t, ntcp2_frame_check(f + 2, plen, NTCP2_FRAME_DATA, NULL));
		br_init(&r, f + 2, plen);
		while (br_left(&r) > 0 && ntcp2_block_decode(&r, &b) == 0) {
			struct i2np_msg *m;
			struct i2np_delivery_status ds;

			if (b.type != NTCP2_BLOCK_I2NP ||
			    i2np_msg_decode_short(b.data, b.len, &m) != 0)
				continue;
			if (m->type == I2NP_DELIVERY_STATUS &&
			    i2np_delivery_status_decode(m, &ds) == 0 &&
			    ds.msg_id == token)
				acked = true;
			i2np_msg_free(m);
		}
	}
	T_TRUE(t, acked);
	ntcp2_dir_wipe(&tx);
	ntcp2_dir_wipe(&rx);
out:
	ntcp2_hs_wipe(&hs);
	router_keys_free(keys);
	bbuf_free(&m1);
	bbuf_free(&m3);
	free(kb); free(e); free(rh); free(bs); free(iv); free(pad); free(w1);
	free(w2); free(p3); free(w3); free(op); free(of); free(in);
	json_decref(v);
}

const struct test_case router_ntcp2_handshake_tests[] = {
	{ "roundtrip", test_roundtrip, 0 },
	{ "matches_spec_model", test_matches_spec_model, 0 },
	{ "tamper_every_byte", test_tamper_every_byte, 0 },
	{ "truncation_and_lengths", test_truncation_and_lengths, 0 },
	{ "out_of_order", test_out_of_order, 0 },
	{ "clock_skew", test_clock_skew, 0 },
	{ "netid_and_version", test_netid_and_version, 0 },
	{ "low_order_keys", test_low_order_keys, 0 },
	{ "keystore_static", test_keystore_static, 0 },
	{ "replayed_request", test_replayed_request, 0 },
	{ "replay_cache_lifetime", test_replay_cache_lifetime, 0 },
	{ "golden_i2pd", test_golden_i2pd, 0 },
	{ NULL, NULL, 0 }
};
