/*
 * router/els2 and router/b33: encrypted LeaseSet2s and b33 addresses from
 * tests/vectors/els2-model.json (gen-els2.py, an independent Python model
 * of the encryptedleaseset and b32encrypted specs; no official vectors
 * exist) decoded, verified and decrypted for each kind of client; our own
 * builds round-tripped without auth, with DH and with PSK clients; the
 * wrong client, day, secret, times or destination refused; every flipped
 * ciphertext byte refused; layer 1 and b33 parsing at their edges.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/blinding.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "router/b33.h"
#include "router/certificate.h"
#include "router/els2.h"
#include "router/leaseset.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_S 1700000000u

static uint8_t *read_vec(struct tctx *t, const char *rel, size_t *len)
{
	char *path = t_srcpath(rel);
	uint8_t *buf = NULL;

	*len = 0;
	T_OK(t, fsutil_read_file(path, 8192, &buf, len));
	free(path);
	return buf;
}

static bool hex32(struct tctx *t, json_t *v, const char *key, uint8_t out[32])
{
	size_t n = 0;
	uint8_t *b = tvec_field(t, v, key, &n);
	bool ok = n == 32;

	T_EQ(t, n, 32);
	if (ok)
		memcpy(out, b, 32);
	free(b);
	return ok;
}

/* ls decrypts with bl and c to exactly the LeaseSet want. */
static void decrypt_expect(struct tctx *t, const struct leaseset *ls,
			   const struct els2_blinding *bl,
			   const struct els2_cred *c, const uint8_t *want,
			   size_t want_len)
{
	struct leaseset *in = NULL;
	const uint8_t *got;
	size_t n = 0;

	T_OK(t, els2_decrypt(ls, bl, c, &in));
	if (!in)
		return;
	got = leaseset_bytes(in, &n);
	T_EQ(t, n, want_len);
	T_MEMEQ(t, got, want, want_len);
	T_EQ(t, leaseset_type(in), LEASESET_LS2);
	leaseset_free(in);
}

static void test_model_els2(struct tctx *t)
{
	json_t *root = tvec_load(t, "els2-model.json"), *arr, *v, *bl0;
	uint8_t pk[32], want[32];
	uint8_t *inner_want;
	size_t inner_len, i;
	struct els2_blinding bl, other;

	if (!root)
		return;
	inner_want = read_vec(t, "tests/vectors/leaseset-model-ls2.bin",
			      &inner_len);
	hex32(t, root, "pk", pk);
	T_OK(t, els2_blinding_derive(pk, 7, MODEL_S, NULL, 0, &bl));
	bl0 = json_array_get(json_object_get(root, "blinding"), 0);
	hex32(t, bl0, "blinded_pk", want);
	T_MEMEQ(t, bl.blinded_pk, want, 32);
	hex32(t, bl0, "subcredential", want);
	T_MEMEQ(t, bl.subcredential, want, 32);
	hex32(t, bl0, "store_key", want);
	T_MEMEQ(t, bl.store_key, want, 32);
	/* the secret and RedDSA rows: subcredentials too */
	T_OK(t, els2_blinding_derive(pk, 7, MODEL_S, (const uint8_t *)"secret",
				     6, &other));
	hex32(t, json_array_get(json_object_get(root, "blinding"), 1),
	      "subcredential", want);
	T_MEMEQ(t, other.subcredential, want, 32);
	T_OK(t, els2_blinding_derive(pk, 11, MODEL_S, NULL, 0, &other));
	hex32(t, json_array_get(json_object_get(root, "blinding"), 2),
	      "store_key", want);
	T_MEMEQ(t, other.store_key, want, 32);

	arr = json_object_get(root, "els2");
	T_EQ(t, json_array_size(arr), 3);
	json_array_foreach(arr, i, v) {
		const char *auth = json_string_value(json_object_get(v, "auth"));
		json_t *keys = json_object_get(v, "client_keys"), *k;
		size_t n = 0, j;
		uint8_t *ls_bytes = tvec_field(t, v, "leaseset", &n);
		struct leaseset *ls = NULL, *in = NULL;
		struct els2_cred cred;

		T_OK(t, leaseset_decode(LEASESET_ENC_LS2, ls_bytes, n, &ls));
		if (!ls) {
			free(ls_bytes);
			continue;
		}
		T_OK(t, leaseset_verify(ls));
		T_MEMEQ(t, leaseset_key(ls), bl.store_key, 32);
		if (strcmp(auth, "none") == 0) {
			decrypt_expect(t, ls, &bl, NULL, inner_want, inner_len);
		}
		json_array_foreach(keys, j, k) {
			memset(&cred, 0, sizeof(cred));
			cred.auth = strcmp(auth, "dh") == 0 ? ELS2_AUTH_DH :
				ELS2_AUTH_PSK;
			{
				size_t kn = 0;
				uint8_t *kb = tvec_hex(t, json_string_value(k),
						       &kn);
				T_EQ(t, kn, 32);
				memcpy(cred.key, kb, 32);
				free(kb);
			}
			decrypt_expect(t, ls, &bl, &cred, inner_want, inner_len);
			/* the other scheme with the same key: refused */
			cred.auth = cred.auth == ELS2_AUTH_DH ? ELS2_AUTH_PSK :
				ELS2_AUTH_DH;
			T_ERR(t, els2_decrypt(ls, &bl, &cred, &in), ERR_AUTH);
			/* an unknown key of the right scheme: refused */
			cred.auth = cred.auth == ELS2_AUTH_DH ? ELS2_AUTH_PSK :
				ELS2_AUTH_DH;
			cred.key[5] ^= 1;
			T_ERR(t, els2_decrypt(ls, &bl, &cred, &in), ERR_AUTH);
		}
		if (strcmp(auth, "none") != 0)
			T_ERR(t, els2_decrypt(ls, &bl, NULL, &in), ERR_AUTH);
		/* blinded for another day: not this LeaseSet */
		T_OK(t, els2_blinding_derive(pk, 7, MODEL_S + 86400, NULL, 0,
					     &other));
		T_ERR(t, els2_decrypt(ls, &other, NULL, &in), ERR_ARG);
		T_TRUE(t, in == NULL);
		leaseset_free(ls);
		free(ls_bytes);
	}
	free(inner_want);
	json_decref(root);
}

static void test_model_b33(struct tctx *t)
{
	json_t *root = tvec_load(t, "els2-model.json"), *v;
	uint8_t pk[32];
	size_t i;

	if (!root)
		return;
	hex32(t, root, "pk", pk);
	json_array_foreach(json_object_get(root, "b33"), i, v) {
		const char *want = json_string_value(
			json_object_get(v, "address"));
		struct b33_addr a = {
			.flags = (uint8_t)json_integer_value(
				json_object_get(v, "flags")),
			.sig_type = (uint16_t)json_integer_value(
				json_object_get(v, "sig_type")),
			.blinded_sig_type = 11,
		}, b;
		char s[B33_MAX_CHARS + 16], up[B33_MAX_CHARS + 16];
		size_t n;

		memcpy(a.pk, pk, 32);
		T_OK(t, b33_format(&a, s, sizeof(s)));
		T_STREQ(t, s, want);
		n = strlen(want);
		T_EQ(t, n, 56 + 8);
		memset(&b, 0, sizeof(b));
		T_OK(t, b33_parse(want, n, &b));
		T_EQ(t, b.flags, a.flags);
		T_EQ(t, b.sig_type, a.sig_type);
		T_EQ(t, b.blinded_sig_type, 11);
		T_MEMEQ(t, b.pk, pk, 32);
		/* without the suffix, and in capitals */
		T_OK(t, b33_parse(want, 56, &b));
		T_MEMEQ(t, b.pk, pk, 32);
		for (size_t k = 0; k <= n; k++)
			up[k] = (char)(want[k] >= 'a' && want[k] <= 'z' ?
				       want[k] - 32 : want[k]);
		T_OK(t, b33_parse(up, n, &b));
		T_MEMEQ(t, b.pk, pk, 32);
	}
	json_decref(root);
}

/* A plain b32 address or 64 hex digits; nothing else. */
static void test_b32_hash(struct tctx *t)
{
	static const char b32[] =
		"aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypq.b32.i2p";
	static const char hex[] =
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	uint8_t want[32], h[32];
	char s[80];

	for (unsigned i = 0; i < 32; i++)
		want[i] = (uint8_t)i;
	T_TRUE(t, b32_hash_parse(b32, strlen(b32), h));
	T_MEMEQ(t, h, want, 32);
	T_TRUE(t, b32_hash_parse(hex, 64, h));
	T_MEMEQ(t, h, want, 32);
	snprintf(s, sizeof(s), "%.52s.B32.I2P", b32);
	T_TRUE(t, b32_hash_parse(s, strlen(s), h));
	T_FALSE(t, b32_hash_parse(b32, 52, h));		/* no suffix */
	T_FALSE(t, b32_hash_parse(b32, strlen(b32) - 1, h));
	T_FALSE(t, b32_hash_parse(hex, 63, h));
	snprintf(s, sizeof(s), "%.52s.b32.i2q", b32);
	T_FALSE(t, b32_hash_parse(s, strlen(s), h));
	snprintf(s, sizeof(s), "%.51s1.b32.i2p", b32);	/* not base32 */
	T_FALSE(t, b32_hash_parse(s, strlen(s), h));
	/* a b33 address is longer than a plain one */
	snprintf(s, sizeof(s), "%.52saaaa.b32.i2p", b32);
	T_FALSE(t, b32_hash_parse(s, strlen(s), h));
}

static void test_b33_edges(struct tctx *t)
{
	struct b33_addr a = { .flags = 0, .sig_type = 7, .blinded_sig_type = 11 },
			b;
	char s[B33_MAX_CHARS], small[40];
	int bad = 0, other = 0;

	rand_bytes(a.pk, sizeof(a.pk));
	T_OK(t, b33_format(&a, s, sizeof(s)));
	T_ERR(t, b33_format(&a, small, sizeof(small)), ERR_TOO_BIG);
	a.sig_type = 1;
	T_ERR(t, b33_format(&a, s, sizeof(s)), ERR_UNSUPPORTED);
	a.sig_type = 7;
	T_OK(t, b33_format(&a, s, sizeof(s)));
	/* a plain 52-character b32 is not a b33 */
	T_ERR(t, b33_parse(s, 52, &b), ERR_FORMAT);
	T_ERR(t, b33_parse("", 0, &b), ERR_FORMAT);
	T_ERR(t, b33_parse(s, 55, &b), ERR_FORMAT);
	/* one character changed: the checksum turns the flags or types into
	 * something refused, or the key is another one */
	for (size_t i = 0; i < 56; i++) {
		char c[B33_MAX_CHARS];

		memcpy(c, s, sizeof(c));
		c[i] = c[i] == 'a' ? 'b' : 'a';
		memset(&b, 0, sizeof(b));
		if (b33_parse(c, strlen(c), &b) != 0)
			bad++;
		else if (memcmp(b.pk, a.pk, 32) != 0 || b.flags != a.flags ||
			 b.sig_type != a.sig_type ||
			 b.blinded_sig_type != a.blinded_sig_type)
			other++;	/* decodes, but to another address */
	}
	T_EQ(t, bad + other, 56);
	T_TRUE(t, bad > 40);	/* mostly caught; 3 in 256 types pass */
	/* not Base32 */
	s[3] = '1';
	T_ERR(t, b33_parse(s, strlen(s), &b), ERR_FORMAT);
}

/* An Ed25519 destination, its inner LS2 and a blinding for MODEL_S. */
struct pub {
	struct ed25519_seed sk;
	struct ed25519_pk pk;
	struct keys_and_cert dest;
	struct els2_blinding bl;
	uint8_t bsk[32];
	struct bbuf inner;
};

static void pub_make(struct tctx *t, struct pub *p, uint32_t inner_pub_s)
{
	static const uint8_t x[32] = { 9 };
	struct leaseset_enc_key key = { CERT_ENC_X25519, 32, x };
	struct lease l;
	struct leaseset2_params lp;
	uint8_t a[32];

	memset(p, 0, sizeof(*p));
	ed25519_keygen(&p->sk, &p->pk);
	keys_and_cert_build(&p->dest, NULL, &p->pk, NULL);
	memset(&l, 0, sizeof(l));
	rand_bytes(l.gateway, sizeof(l.gateway));
	l.tunnel_id = 77;
	l.end_ms = (uint64_t)(MODEL_S + 500) * 1000;
	lp = (struct leaseset2_params){
		.type = LEASESET_LS2, .dest = &p->dest,
		.published_s = inner_pub_s, .expires_s = 600, .keys = &key,
		.n_keys = 1, .leases = &l, .n_leases = 1,
	};
	T_OK(t, leaseset2_encode(&lp, leaseset_sign_ed25519, &p->sk,
				 &p->inner));
	T_OK(t, els2_blinding_derive(p->pk.b, 7, MODEL_S, NULL, 0, &p->bl));
	blind_ed25519_scalar(a, &p->sk);
	blind_privkey(p->bsk, a, p->bl.alpha);
}

/* p's inner LS2 wrapped with the outer times published_s, expires_s */
static int build_at(struct pub *p, enum els2_auth auth,
		    const uint8_t (*clients)[32], size_t n,
		    uint32_t published_s, uint16_t expires_s, struct bbuf *out)
{
	struct els2_params ep = {
		.bl = &p->bl, .blinded_sk = p->bsk,
		.published_s = published_s, .expires_s = expires_s,
		.inner_type = LEASESET_LS2,
		.inner = p->inner.data, .inner_len = p->inner.len,
		.auth = auth, .clients = clients, .n_clients = n,
	};

	return els2_encode(&ep, out);
}

static int build(struct pub *p, enum els2_auth auth,
		 const uint8_t (*clients)[32], size_t n, struct bbuf *out)
{
	return build_at(p, auth, clients, n, MODEL_S, 600, out);
}

static struct leaseset *decode_ok(struct tctx *t, const struct bbuf *b)
{
	struct leaseset *ls = NULL;

	T_OK(t, leaseset_decode(LEASESET_ENC_LS2, b->data, b->len, &ls));
	if (ls) {
		T_OK(t, leaseset_verify(ls));
		T_OK(t, leaseset_check_time(ls, (uint64_t)MODEL_S * 1000));
	}
	return ls;
}

static void expect_inner(struct tctx *t, const struct leaseset *ls,
			 const struct pub *p, const struct els2_cred *c)
{
	decrypt_expect(t, ls, &p->bl, c, p->inner.data, p->inner.len);
}

static void test_roundtrip(struct tctx *t)
{
	struct pub p;
	struct bbuf b = BBUF_INIT, b2 = BBUF_INIT;
	struct leaseset *ls;
	struct els2_cred c;
	struct x25519_sk csk[5];
	struct x25519_pk cpk_s[5];
	uint8_t cpk[5][32], psk[4][32];
	struct leaseset *in = NULL;

	pub_make(t, &p, MODEL_S);
	/* no auth */
	T_OK(t, build(&p, ELS2_AUTH_NONE, NULL, 0, &b));
	ls = decode_ok(t, &b);
	if (ls) {
		T_MEMEQ(t, leaseset_key(ls), p.bl.store_key, 32);
		expect_inner(t, ls, &p, NULL);
		leaseset_free(ls);
	}
	/* fresh salts: two builds differ */
	T_OK(t, build(&p, ELS2_AUTH_NONE, NULL, 0, &b2));
	T_TRUE(t, b.len == b2.len && memcmp(b.data, b2.data, b.len) != 0);
	bbuf_reset(&b);

	/* DH: four of five clients authorized */
	for (int i = 0; i < 5; i++) {
		x25519_keygen(&csk[i], &cpk_s[i]);
		memcpy(cpk[i], cpk_s[i].b, 32);
	}
	T_OK(t, build(&p, ELS2_AUTH_DH, (const uint8_t (*)[32])cpk, 4, &b));
	ls = decode_ok(t, &b);
	for (int i = 0; ls && i < 5; i++) {
		c.auth = ELS2_AUTH_DH;
		memcpy(c.key, csk[i].b, 32);
		if (i < 4)
			expect_inner(t, ls, &p, &c);
		else
			T_ERR(t, els2_decrypt(ls, &p.bl, &c, &in), ERR_AUTH);
	}
	leaseset_free(ls);
	bbuf_reset(&b);

	/* PSK: three of four */
	rand_bytes(psk, sizeof(psk));
	T_OK(t, build(&p, ELS2_AUTH_PSK, (const uint8_t (*)[32])psk, 3, &b));
	ls = decode_ok(t, &b);
	for (int i = 0; ls && i < 4; i++) {
		c.auth = ELS2_AUTH_PSK;
		memcpy(c.key, psk[i], 32);
		if (i < 3)
			expect_inner(t, ls, &p, &c);
		else
			T_ERR(t, els2_decrypt(ls, &p.bl, &c, &in), ERR_AUTH);
	}
	T_ERR(t, els2_decrypt(ls, &p.bl, NULL, &in), ERR_AUTH);
	leaseset_free(ls);

	/* bad params */
	T_ERR(t, build(&p, ELS2_AUTH_PSK, NULL, 0, &b2), ERR_ARG);
	T_ERR(t, build(&p, ELS2_AUTH_PSK, (const uint8_t (*)[32])psk,
		       ELS2_MAX_CLIENTS + 1, &b2), ERR_ARG);
	p.bsk[0] ^= 1;		/* a' that is not A''s key */
	T_ERR(t, build(&p, ELS2_AUTH_NONE, NULL, 0, &b2), ERR_ARG);
	T_TRUE(t, in == NULL);
	bbuf_free(&b);
	bbuf_free(&b2);
	bbuf_free(&p.inner);
}

/* With a secret, only those who know it find and open the LeaseSet. */
static void test_secret(struct tctx *t)
{
	struct pub p;
	struct els2_blinding plain;
	struct bbuf b = BBUF_INIT;
	struct leaseset *ls, *in = NULL;
	uint8_t a[32];

	pub_make(t, &p, MODEL_S);
	plain = p.bl;
	T_OK(t, els2_blinding_derive(p.pk.b, 7, MODEL_S,
				     (const uint8_t *)"pw", 2, &p.bl));
	T_TRUE(t, memcmp(plain.store_key, p.bl.store_key, 32) != 0);
	blind_ed25519_scalar(a, &p.sk);
	blind_privkey(p.bsk, a, p.bl.alpha);
	T_OK(t, build(&p, ELS2_AUTH_NONE, NULL, 0, &b));
	ls = decode_ok(t, &b);
	if (ls) {
		T_MEMEQ(t, leaseset_key(ls), p.bl.store_key, 32);
		T_ERR(t, els2_decrypt(ls, &plain, NULL, &in), ERR_ARG);
		expect_inner(t, ls, &p, NULL);
	}
	leaseset_free(ls);
	bbuf_free(&b);
	bbuf_free(&p.inner);
}

/* Outer times against the inner LS2's (published MODEL_S, 600 s): want
 * 0 or ERR_FORMAT from decryption. */
static void times_case(struct tctx *t, struct pub *p, uint32_t published_s,
		       uint16_t expires_s, int want)
{
	struct bbuf b = BBUF_INIT;
	struct leaseset *ls, *in = NULL;

	T_OK(t, build_at(p, ELS2_AUTH_NONE, NULL, 0, published_s, expires_s,
			 &b));
	ls = decode_ok(t, &b);
	if (ls) {
		T_ERR(t, els2_decrypt(ls, &p->bl, NULL, &in), want);
		T_TRUE(t, (in != NULL) == (want == 0));
	}
	leaseset_free(in);
	leaseset_free(ls);
	bbuf_free(&b);
}

/* Inner times far from the outer's, or another destination's LS2
 * inside: refused after decryption.  i2pd's outer ends at midnight
 * UTC before its inner does, and takes its own clock read: opened. */
static void test_inner_checks(struct tctx *t)
{
	struct pub p, q;
	struct bbuf b = BBUF_INIT;
	struct leaseset *ls, *in = NULL;

	pub_make(t, &p, MODEL_S);
	times_case(t, &p, MODEL_S, 600, 0);
	times_case(t, &p, MODEL_S, 120, 0);		/* ends at midnight */
	times_case(t, &p, MODEL_S + 1, 599, 0);	/* a second later */
	times_case(t, &p, MODEL_S - 60, 660, 0);
	times_case(t, &p, MODEL_S + 61, 300, ERR_FORMAT);
	times_case(t, &p, MODEL_S - 61, 600, ERR_FORMAT);
	times_case(t, &p, MODEL_S, 661, ERR_FORMAT);	/* outlives it */
	bbuf_free(&p.inner);

	pub_make(t, &p, MODEL_S);
	pub_make(t, &q, MODEL_S);
	bbuf_free(&p.inner);
	p.inner = q.inner;		/* q's LS2 under p's blinding */
	T_OK(t, build(&p, ELS2_AUTH_NONE, NULL, 0, &b));
	ls = decode_ok(t, &b);
	if (ls)
		T_ERR(t, els2_decrypt(ls, &p.bl, NULL, &in), ERR_FORMAT);
	T_TRUE(t, in == NULL);
	leaseset_free(ls);
	bbuf_free(&b);
	bbuf_free(&q.inner);
}

/* Each flipped byte of the outer ciphertext (salt, layer 1, layer 2) is
 * refused by decryption even when the outer signature is not checked.
 * One client: a flip in another client's entry would go unnoticed until
 * the outer signature is checked, which is the point of that signature. */
static void test_every_flip(struct tctx *t)
{
	struct pub p;
	struct bbuf b = BBUF_INIT;
	struct leaseset *ls = NULL, *in = NULL;
	uint8_t psk[1][32];
	struct els2_cred c = { .auth = ELS2_AUTH_PSK };
	const uint8_t *ct;
	size_t clen = 0, off, accepted = 0;

	pub_make(t, &p, MODEL_S);
	rand_bytes(psk, sizeof(psk));
	memcpy(c.key, psk[0], 32);
	T_OK(t, build(&p, ELS2_AUTH_PSK, (const uint8_t (*)[32])psk, 1, &b));
	if (leaseset_decode(LEASESET_ENC_LS2, b.data, b.len, &ls) != 0) {
		t_fail(t, __FILE__, __LINE__, "own ELS2 does not decode");
		goto out;
	}
	ct = leaseset_ciphertext(ls, &clen);
	off = (size_t)(ct - leaseset_bytes(ls, &(size_t){ 0 }));
	leaseset_free(ls);
	ls = NULL;
	for (size_t i = 0; i < clen; i++) {
		b.data[off + i] ^= 0x01;
		if (leaseset_decode(LEASESET_ENC_LS2, b.data, b.len, &ls) == 0) {
			T_ERR(t, leaseset_verify(ls), ERR_BAD_SIG);
			if (els2_decrypt(ls, &p.bl, &c, &in) == 0)
				accepted++;
			leaseset_free(in);
			in = NULL;
			leaseset_free(ls);
			ls = NULL;
		}
		b.data[off + i] ^= 0x01;
	}
	T_EQ(t, accepted, 0);
	T_TRUE(t, clen > 32 + 1 + 32 + 2 + 40 + 32);
out:
	bbuf_free(&b);
	bbuf_free(&p.inner);
}

static void test_layer1_decode(struct tctx *t)
{
	uint8_t buf[2 + 32 + 2 + 3 * 40 + 40];
	struct els2_layer1 l;

	memset(buf, 0, sizeof(buf));
	/* everybody: flags 0 then the inner part */
	T_OK(t, els2_layer1_decode(buf, 1 + 33, &l));
	T_EQ(t, l.auth, ELS2_AUTH_NONE);
	T_EQ(t, l.inner_len, 33);
	T_ERR(t, els2_layer1_decode(buf, 1 + 32, &l), ERR_FORMAT);
	T_ERR(t, els2_layer1_decode(buf, 0, &l), ERR_TRUNCATED);
	buf[0] = 0x02;		/* scheme bits without the per-client bit */
	T_ERR(t, els2_layer1_decode(buf, 34, &l), ERR_FORMAT);
	buf[0] = 0x05;		/* scheme 2 */
	T_ERR(t, els2_layer1_decode(buf, sizeof(buf), &l), ERR_UNSUPPORTED);
	buf[0] = 0x03;		/* PSK, 3 clients */
	buf[33] = 0;
	buf[34] = 3;
	T_OK(t, els2_layer1_decode(buf, 35 + 120 + 33, &l));
	T_EQ(t, l.auth, ELS2_AUTH_PSK);
	T_EQ(t, l.n_clients, 3);
	T_TRUE(t, l.entries == buf + 35);
	T_TRUE(t, l.inner == buf + 155);
	T_ERR(t, els2_layer1_decode(buf, 35 + 119, &l), ERR_TRUNCATED);
	T_ERR(t, els2_layer1_decode(buf, 35 + 120 + 32, &l), ERR_FORMAT);
	buf[33] = 0xff;		/* 65283 clients */
	T_ERR(t, els2_layer1_decode(buf, sizeof(buf), &l), ERR_TOO_BIG);
	buf[0] = 0x01;
	T_ERR(t, els2_layer1_decode(buf, 20, &l), ERR_TRUNCATED);
}

const struct test_case router_els2_tests[] = {
	{ "model_els2", test_model_els2, 0 },
	{ "model_b33", test_model_b33, 0 },
	{ "b33_edges", test_b33_edges, 0 },
	{ "b32_hash", test_b32_hash, 0 },
	{ "roundtrip", test_roundtrip, 0 },
	{ "secret", test_secret, 0 },
	{ "inner_checks", test_inner_checks, 0 },
	{ "every_flip", test_every_flip, 0 },
	{ "layer1_decode", test_layer1_decode, 0 },
	{ NULL, NULL, 0 }
};
