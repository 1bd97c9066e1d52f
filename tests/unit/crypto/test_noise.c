/*
 * crypto/noise against the cacophony vectors (snow v0.10.0
 * tests/vectors/cacophony.txt) for Noise_XK, Noise_IK and Noise_N with
 * 25519/ChaChaPoly/SHA256: fixed static and ephemeral keys, every
 * handshake message byte for byte, the handshake hash, then transport
 * messages through the split cipher states.  Also the protocol-name rule,
 * failure paths and a handshake whose responder key sits in a keystore.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/crypto/cvec.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"
#include "crypto/noise.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MSG_MAX 1024

/* A 32-byte key field, or false when the vector has none. */
static bool key32(struct tctx *t, json_t *v, const char *key, uint8_t out[32])
{
	return json_object_get(v, key) && cvec_fixed(t, v, key, out, 32);
}

struct side {
	struct noise_hs hs;
	struct x25519_sk s, e;
	struct noise_static st;
	struct noise_cipher send, recv;
	uint8_t hash[32];
};

/* Set up one side of a cacophony vector ("init" or "resp"). */
static bool side_init(struct tctx *t, struct side *sd, json_t *v,
		      enum noise_pattern pat, enum noise_role role)
{
	const char *pfx = role == NOISE_INITIATOR ? "init" : "resp";
	const char *name =
		json_string_value(json_object_get(v, "protocol_name"));
	char k[64];
	struct x25519_pk rs;
	bool has_s, has_rs;
	uint8_t *prologue;
	size_t plen;

	memset(sd, 0, sizeof(*sd));
	snprintf(k, sizeof(k), "%s_static", pfx);
	has_s = key32(t, v, k, sd->s.b);
	snprintf(k, sizeof(k), "%s_remote_static", pfx);
	has_rs = key32(t, v, k, rs.b);
	snprintf(k, sizeof(k), "%s_prologue", pfx);
	prologue = tvec_field(t, v, k, &plen);
	if (has_s)
		noise_static_from_sk(&sd->st, &sd->s);
	T_OK(t, noise_hs_init(&sd->hs, pat, role, name, prologue, plen,
			      has_s ? &sd->st : NULL, has_rs ? &rs : NULL));
	free(prologue);
	snprintf(k, sizeof(k), "%s_ephemeral", pfx);
	if (key32(t, v, k, sd->e.b))
		noise_hs_set_ephemeral(&sd->hs, &sd->e);
	return true;
}

static void run_vector(struct tctx *t, json_t *v)
{
	const char *name =
		json_string_value(json_object_get(v, "protocol_name"));
	enum noise_pattern pat;
	unsigned nhs;
	struct side *si = xzalloc(sizeof(*si)), *sr = xzalloc(sizeof(*sr));
	uint8_t want_hash[32], buf[MSG_MAX], pl[MSG_MAX];
	json_t *m;
	size_t i;

	if (strncmp(name, "Noise_XK_", 9) == 0)
		pat = NOISE_PATTERN_XK, nhs = 3;
	else if (strncmp(name, "Noise_IK_", 9) == 0)
		pat = NOISE_PATTERN_IK, nhs = 2;
	else
		pat = NOISE_PATTERN_N, nhs = 1;
	T_TRUE(t, key32(t, v, "handshake_hash", want_hash));
	side_init(t, si, v, pat, NOISE_INITIATOR);
	side_init(t, sr, v, pat, NOISE_RESPONDER);

	json_array_foreach(json_object_get(v, "messages"), i, m) {
		size_t len, clen, n = 0;
		uint8_t *payload = tvec_field(t, m, "payload", &len);
		uint8_t *ct = tvec_field(t, m, "ciphertext", &clen);
		/* One-way N: all messages go initiator -> responder. */
		bool from_init = pat == NOISE_PATTERN_N || i % 2 == 0;
		struct side *tx = from_init ? si : sr;
		struct side *rx = from_init ? sr : si;

		if (i < nhs) {
			T_EQ(t, noise_hs_overhead(&tx->hs) + len, clen);
			T_OK(t, noise_hs_write(&tx->hs, buf, sizeof(buf), &n,
					       payload, len));
			T_EQ(t, n, clen);
			T_MEMEQ(t, buf, ct, clen);
			T_OK(t, noise_hs_read(&rx->hs, pl, sizeof(pl), &n, ct,
					      clen));
			T_EQ(t, n, len);
			T_MEMEQ(t, pl, payload, len);
			if (i + 1 == nhs) {
				T_TRUE(t, noise_hs_is_done(&si->hs));
				T_TRUE(t, noise_hs_is_done(&sr->hs));
				T_OK(t, noise_hs_split(&si->hs, &si->send,
						       &si->recv, si->hash));
				T_OK(t, noise_hs_split(&sr->hs, &sr->send,
						       &sr->recv, sr->hash));
				T_MEMEQ(t, si->hash, want_hash, 32);
				T_MEMEQ(t, sr->hash, want_hash, 32);
			}
		} else {
			T_EQ(t, len + NOISE_TAG_BYTES, clen);
			T_OK(t, noise_cipher_encrypt(&tx->send, buf, NULL, 0,
						     payload, len));
			T_MEMEQ(t, buf, ct, clen);
			T_OK(t, noise_cipher_decrypt(&rx->recv, pl, NULL, 0,
						     ct, clen));
			T_MEMEQ(t, pl, payload, len);
		}
		free(payload);
		free(ct);
	}
	T_EQ(t, i, 6);
	T_TRUE(t, i > nhs);	/* transport messages were covered */
	noise_cipher_wipe(&si->send);
	free(si);
	free(sr);
}

static void test_cacophony(struct tctx *t)
{
	json_t *root = tvec_load(t, "noise-xk-ik-n.json"), *v;
	size_t i;
	unsigned seen = 0;

	if (!root)
		return;
	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		const char *name =
			json_string_value(json_object_get(v, "protocol_name"));

		if (strcmp(name, "Noise_XK_25519_ChaChaPoly_SHA256") == 0)
			seen |= 1;
		else if (strcmp(name, "Noise_IK_25519_ChaChaPoly_SHA256") == 0)
			seen |= 2;
		else if (strcmp(name, "Noise_N_25519_ChaChaPoly_SHA256") == 0)
			seen |= 4;
		else
			continue;
		run_vector(t, v);
	}
	T_EQ(t, seen, 7);
	json_decref(root);
}

static void test_protocol_name(struct tctx *t)
{
	/* Noise §5.2 / PROTOCOLS.md 0.2: ≤ 32 bytes is zero-padded (the
	 * 31-byte Noise_N name of I2P tunnel builds), longer is hashed (the
	 * 48-byte NTCP2 name). */
	static const char n31[] = "Noise_N_25519_ChaChaPoly_SHA256";
	static const char n48[] =
		"Noise_XKaesobfse+hs2+hs3_25519_ChaChaPoly_SHA256";
	uint8_t want[32] = { 0 };
	struct noise_sym s;

	T_EQ(t, strlen(n31), 31);
	T_EQ(t, strlen(n48), 48);
	noise_sym_init(&s, n31);
	memcpy(want, n31, 31);
	T_MEMEQ(t, s.h, want, 32);
	T_MEMEQ(t, s.ck, want, 32);
	T_FALSE(t, noise_sym_has_key(&s));
	noise_sym_init(&s, n48);
	sha256(want, n48, 48);
	T_MEMEQ(t, s.h, want, 32);
	T_MEMEQ(t, s.ck, want, 32);
	noise_sym_wipe(&s);
}

static void test_cipher_nonce(struct tctx *t)
{
	static const uint8_t k[32] = { 7 }, abc[3] = { 'a', 'b', 'c' };
	struct noise_cipher a, b;
	uint8_t ct[3 + 16], pt[3];

	noise_cipher_init(&a, k);
	noise_cipher_init(&b, k);
	T_OK(t, noise_cipher_encrypt(&a, ct, "ad", 2, abc, 3));
	T_EQ(t, a.n, 1);
	ct[0] ^= 1;
	T_ERR(t, noise_cipher_decrypt(&b, pt, "ad", 2, ct, sizeof(ct)),
	      ERR_AUTH);
	T_EQ(t, b.n, 0);	/* §5.1: no increment on failure */
	ct[0] ^= 1;
	T_OK(t, noise_cipher_decrypt(&b, pt, "ad", 2, ct, sizeof(ct)));
	T_EQ(t, b.n, 1);
	T_MEMEQ(t, pt, "abc", 3);
	/* 2^64 - 1 is reserved. */
	a.n = UINT64_MAX - 1;
	T_OK(t, noise_cipher_encrypt(&a, ct, NULL, 0, abc, 3));
	T_ERR(t, noise_cipher_encrypt(&a, ct, NULL, 0, abc, 3), ERR_LIMIT);
	b.n = UINT64_MAX;
	T_ERR(t, noise_cipher_decrypt(&b, pt, NULL, 0, ct, sizeof(ct)),
	      ERR_LIMIT);
	/* Without a key the data passes through. */
	memset(&a, 0, sizeof(a));
	T_OK(t, noise_cipher_encrypt(&a, ct, NULL, 0, abc, 3));
	T_MEMEQ(t, ct, "abc", 3);
}

/* A fresh XK pair with random keys; the responder's static key is in ks. */
static void xk_pair(struct tctx *t, struct noise_hs *i, struct noise_hs *r,
		    const struct x25519_sk *isk, const struct keystore *ks)
{
	struct noise_static ist, rst;
	struct x25519_pk rpk;

	noise_static_from_sk(&ist, isk);
	noise_static_from_keystore(&rst, ks, KEYSTORE_X_NTCP2);
	keystore_x25519_pk(ks, KEYSTORE_X_NTCP2, &rpk);
	T_OK(t, noise_hs_init(i, NOISE_PATTERN_XK, NOISE_INITIATOR,
			      "Noise_XK_25519_ChaChaPoly_SHA256", "p", 1, &ist,
			      &rpk));
	T_OK(t, noise_hs_init(r, NOISE_PATTERN_XK, NOISE_RESPONDER,
			      "Noise_XK_25519_ChaChaPoly_SHA256", "p", 1, &rst,
			      NULL));
}

static void test_keystore_static(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct noise_hs *i = xzalloc(sizeof(*i)), *r = xzalloc(sizeof(*r));
	struct x25519_sk isk;
	struct x25519_pk ipk, got;
	struct noise_cipher is, ir, rs, rr;
	uint8_t buf[256], pl[256], hi[32], hr[32];
	size_t n, m;

	x25519_keygen(&isk, &ipk);
	xk_pair(t, i, r, &isk, ks);
	T_OK(t, noise_hs_write(i, buf, sizeof(buf), &n, "one", 3));
	T_OK(t, noise_hs_read(r, pl, sizeof(pl), &m, buf, n));
	T_OK(t, noise_hs_write(r, buf, sizeof(buf), &n, "two", 3));
	T_OK(t, noise_hs_read(i, pl, sizeof(pl), &m, buf, n));
	T_OK(t, noise_hs_write(i, buf, sizeof(buf), &n, "three", 5));
	T_OK(t, noise_hs_read(r, pl, sizeof(pl), &m, buf, n));
	T_EQ(t, m, 5);
	T_MEMEQ(t, pl, "three", 5);
	T_TRUE(t, noise_hs_remote_static(r, &got));
	T_MEMEQ(t, got.b, ipk.b, 32);	/* XK delivers the initiator key */
	T_OK(t, noise_hs_split(i, &is, &ir, hi));
	T_OK(t, noise_hs_split(r, &rs, &rr, hr));
	T_MEMEQ(t, hi, hr, 32);
	T_MEMEQ(t, is.k, rr.k, 32);
	T_MEMEQ(t, ir.k, rs.k, 32);
	T_TRUE(t, memcmp(is.k, ir.k, 32) != 0);
	keystore_free(ks);
	free(i);
	free(r);
}

static void test_failures(struct tctx *t)
{
	struct keystore *ks = keystore_new_random();
	struct noise_hs *i = xzalloc(sizeof(*i)), *r = xzalloc(sizeof(*r));
	struct x25519_sk isk;
	struct x25519_pk ipk;
	uint8_t buf[256], pl[256];
	size_t n, m;

	memset(buf, 0, sizeof(buf));
	x25519_keygen(&isk, &ipk);
	/* missing keys */
	T_ERR(t, noise_hs_init(i, NOISE_PATTERN_XK, NOISE_INITIATOR, "x", NULL,
			       0, NULL, &ipk), ERR_ARG);
	T_ERR(t, noise_hs_init(r, NOISE_PATTERN_N, NOISE_RESPONDER, "x", NULL,
			       0, NULL, NULL), ERR_ARG);

	/* out of turn, and an output buffer too small (hs stays usable) */
	xk_pair(t, i, r, &isk, ks);
	T_ERR(t, noise_hs_read(i, pl, sizeof(pl), &m, buf, 48), ERR_BAD_STATE);
	T_ERR(t, noise_hs_write(r, buf, sizeof(buf), &n, NULL, 0), ERR_BAD_STATE);
	T_ERR(t, noise_hs_write(i, buf, 40, &n, "abc", 3), ERR_TOO_BIG);
	T_OK(t, noise_hs_write(i, buf, sizeof(buf), &n, "abc", 3));
	T_EQ(t, n, 32 + 3 + 16);

	/* truncated: shorter than e + tag */
	T_ERR(t, noise_hs_read(r, pl, sizeof(pl), &m, buf, 47), ERR_TRUNCATED);
	T_ERR(t, noise_hs_read(r, pl, sizeof(pl), &m, buf, n), ERR_BAD_STATE);

	/* a flipped payload byte fails the tag, and the handshake is over */
	xk_pair(t, i, r, &isk, ks);
	T_OK(t, noise_hs_write(i, buf, sizeof(buf), &n, "abc", 3));
	buf[33] ^= 4;
	T_ERR(t, noise_hs_read(r, pl, sizeof(pl), &m, buf, n), ERR_AUTH);
	T_FALSE(t, noise_hs_is_done(r));
	T_ERR(t, noise_hs_write(r, buf, sizeof(buf), &n, NULL, 0), ERR_BAD_STATE);

	/* a low-order ephemeral key makes the DH fail */
	xk_pair(t, i, r, &isk, ks);
	T_OK(t, noise_hs_write(i, buf, sizeof(buf), &n, "abc", 3));
	memset(buf, 0, 32);
	T_ERR(t, noise_hs_read(r, pl, sizeof(pl), &m, buf, n), ERR_CRYPTO);

	/* payload larger than the caller's buffer */
	xk_pair(t, i, r, &isk, ks);
	T_OK(t, noise_hs_write(i, buf, sizeof(buf), &n, "abc", 3));
	T_ERR(t, noise_hs_read(r, pl, 2, &m, buf, n), ERR_TOO_BIG);
	{
		struct noise_cipher a, b;
		T_ERR(t, noise_hs_split(r, &a, &b, NULL), ERR_BAD_STATE);
	}
	noise_hs_wipe(i);
	noise_hs_wipe(r);
	keystore_free(ks);
	free(i);
	free(r);
}

const struct test_case noise_tests[] = {
	{ "cacophony", test_cacophony, 0 },
	{ "protocol_name", test_protocol_name, 0 },
	{ "cipher_nonce", test_cipher_nonce, 0 },
	{ "keystore_static", test_keystore_static, 0 },
	{ "failures", test_failures, 0 },
	{ NULL, NULL, 0 }
};
