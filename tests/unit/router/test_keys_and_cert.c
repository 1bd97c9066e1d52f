/* router/certificate and router/keys_and_cert: key certificates, identity
 * layout, hashes and signatures. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "router/certificate.h"
#include "router/keys_and_cert.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"

#include <string.h>

static int kac_decode_all(const uint8_t *p, size_t len,
			  struct keys_and_cert *k)
{
	struct breader r;
	int ret;

	br_init(&r, p, len);
	if ((ret = keys_and_cert_decode(&r, k)) != 0)
		return ret;
	return br_done(&r) ? 0 : ERR_FORMAT;
}

/* 384 bytes of recognisable key area followed by a certificate. */
static size_t make_kac(uint8_t *out, const uint8_t *cert, size_t cert_len)
{
	for (size_t i = 0; i < KAC_KEY_AREA_BYTES; i++)
		out[i] = (uint8_t)(i * 7 + 1);
	memcpy(out + KAC_KEY_AREA_BYTES, cert, cert_len);
	return KAC_KEY_AREA_BYTES + cert_len;
}

/* Fresh test keys; the secrets are wiped by keys_wipe(). */
struct test_keys {
	struct ed25519_seed seed;
	struct ed25519_pk pk;
	struct x25519_sk xsk;
	struct x25519_pk xpk;
};

static void keys_new(struct test_keys *k)
{
	ed25519_keygen(&k->seed, &k->pk);
	x25519_keygen(&k->xsk, &k->xpk);
}

static void keys_wipe(struct test_keys *k)
{
	memwipe(k, sizeof(*k));
}

static void test_type_table(struct tctx *t)
{
	/* The spec's tables: public key and signature lengths. */
	T_EQ(t, cert_sig_pubkey_len(CERT_SIG_DSA_SHA1), 128);
	T_EQ(t, cert_sig_len(CERT_SIG_DSA_SHA1), 40);
	T_EQ(t, cert_sig_pubkey_len(CERT_SIG_ECDSA_SHA512_P521), 132);
	T_EQ(t, cert_sig_pubkey_len(CERT_SIG_RSA_SHA512_4096), 512);
	T_EQ(t, cert_sig_pubkey_len(CERT_SIG_EDDSA_SHA512_ED25519), 32);
	T_EQ(t, cert_sig_len(CERT_SIG_EDDSA_SHA512_ED25519), 64);
	T_EQ(t, cert_sig_len(CERT_SIG_REDDSA_SHA512_ED25519), 64);
	T_EQ(t, cert_sig_pubkey_len(12), 0);
	T_EQ(t, cert_sig_pubkey_len(65535), 0);
	T_EQ(t, cert_enc_pubkey_len(CERT_ENC_ELGAMAL), 256);
	T_EQ(t, cert_enc_pubkey_len(CERT_ENC_X25519), 32);
	T_EQ(t, cert_enc_pubkey_len(5), 0);
}

static void test_certificate_lengths(struct tctx *t)
{
	static const struct {
		uint8_t in[8];
		size_t len;
		int want;
	} cases[] = {
		{ { 0, 0, 0 }, 3, 0 },				/* NULL */
		{ { 0, 0, 1, 9 }, 4, ERR_FORMAT },		/* NULL with data */
		{ { 2, 0, 0 }, 3, 0 },				/* HIDDEN */
		{ { 3, 0, 41 }, 3, ERR_FORMAT },		/* SIGNED: 40 or 72 */
		{ { 5, 0, 3, 0, 7, 0 }, 6, ERR_FORMAT },	/* KEY < 4 */
		{ { 5, 0x01, 0x85 }, 3, ERR_FORMAT },		/* KEY > 388 */
		{ { 6, 0, 0 }, 3, ERR_UNSUPPORTED },		/* undefined */
		{ { 5, 0, 4, 0, 7 }, 5, ERR_TRUNCATED },
		{ { 5, 0 }, 2, ERR_TRUNCATED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct certificate c;
		struct breader r;
		br_init(&r, cases[i].in, cases[i].len);
		T_ERR(t, certificate_decode(&r, &c), cases[i].want);
	}
}

static void test_key_cert_excess(struct tctx *t)
{
	/* P521 signing key: 132 bytes, 4 of them in the certificate. */
	static const uint8_t p521[] = { 5, 0, 8, 0, 3, 0, 0, 0xa1, 0xa2, 0xa3,
					0xa4 };
	static const uint8_t p521_short[] = { 5, 0, 7, 0, 3, 0, 0, 0xa1, 0xa2,
					      0xa3 };
	/* Ed25519 + X25519 with a stray byte: "prohibit excess data". */
	static const uint8_t extra[] = { 5, 0, 5, 0, 7, 0, 4, 0xff };
	static const uint8_t unknown_sig[] = { 5, 0, 4, 0, 12, 0, 4 };
	static const uint8_t unknown_enc[] = { 5, 0, 4, 0, 7, 0, 5 };
	uint8_t buf[KAC_MAX_BYTES];
	struct keys_and_cert k;
	size_t n;

	n = make_kac(buf, p521, sizeof(p521));
	T_OK(t, kac_decode_all(buf, n, &k));
	T_EQ(t, k.sig_type, CERT_SIG_ECDSA_SHA512_P521);
	T_EQ(t, k.enc_type, CERT_ENC_ELGAMAL);
	T_EQ(t, k.sig_key_len, 132);
	T_MEMEQ(t, k.sig_key, buf + 256, 128);	/* the whole 128-byte slot */
	T_MEMEQ(t, k.sig_key + 128, p521 + 7, 4);
	T_EQ(t, k.enc_key_len, 256);
	T_MEMEQ(t, k.enc_key, buf, 256);
	T_EQ(t, keys_and_cert_sig_len(&k), 132);
	T_FALSE(t, keys_and_cert_can_verify(&k));

	n = make_kac(buf, p521_short, sizeof(p521_short));
	T_ERR(t, kac_decode_all(buf, n, &k), ERR_FORMAT);
	n = make_kac(buf, extra, sizeof(extra));
	T_ERR(t, kac_decode_all(buf, n, &k), ERR_FORMAT);
	n = make_kac(buf, unknown_sig, sizeof(unknown_sig));
	T_ERR(t, kac_decode_all(buf, n, &k), ERR_UNSUPPORTED);
	n = make_kac(buf, unknown_enc, sizeof(unknown_enc));
	T_ERR(t, kac_decode_all(buf, n, &k), ERR_UNSUPPORTED);
}

static void test_rsa4096_excess(struct tctx *t)
{
	uint8_t cert[7 + 384], buf[KAC_MAX_BYTES];
	struct keys_and_cert k;
	size_t n;

	cert[0] = CERT_KEY;
	cert[1] = (4 + 384) >> 8;
	cert[2] = (4 + 384) & 0xff;
	cert[3] = 0;
	cert[4] = CERT_SIG_RSA_SHA512_4096;
	cert[5] = 0;
	cert[6] = CERT_ENC_ELGAMAL;
	for (size_t i = 7; i < sizeof(cert); i++)
		cert[i] = (uint8_t)i;
	n = make_kac(buf, cert, sizeof(cert));
	T_EQ(t, n, KAC_MAX_BYTES);
	T_OK(t, kac_decode_all(buf, n, &k));
	T_EQ(t, k.len, KAC_MAX_BYTES);
	T_EQ(t, k.sig_key_len, 512);
	T_MEMEQ(t, k.sig_key + 128, cert + 7, 384);
	T_EQ(t, keys_and_cert_sig_len(&k), 512);
}

static void test_null_cert_identity(struct tctx *t)
{
	static const uint8_t null_cert[] = { 0, 0, 0 };
	uint8_t buf[KAC_MAX_BYTES], sig[40] = { 0 }, h[SHA256_BYTES];
	struct keys_and_cert k;
	struct ed25519_pk pk;
	struct x25519_pk xk;
	size_t n = make_kac(buf, null_cert, sizeof(null_cert));

	T_OK(t, kac_decode_all(buf, n, &k));
	T_EQ(t, k.len, KAC_MIN_BYTES);
	T_EQ(t, k.sig_type, CERT_SIG_DSA_SHA1);
	T_EQ(t, k.enc_type, CERT_ENC_ELGAMAL);
	T_MEMEQ(t, k.sig_key, buf + 256, 128);
	sha256(h, buf, n);
	T_MEMEQ(t, k.hash, h, sizeof(h));
	/* Hashable, but its signatures are not ours to check. */
	T_ERR(t, keys_and_cert_verify(&k, "m", 1, sig, sizeof(sig)),
	      ERR_UNSUPPORTED);
	T_ERR(t, keys_and_cert_ed25519_pk(&k, &pk), ERR_UNSUPPORTED);
	T_ERR(t, keys_and_cert_x25519_pk(&k, &xk), ERR_UNSUPPORTED);
}

static void test_router_identity_layout(struct tctx *t)
{
	static const uint8_t cert[] = { 0x05, 0x00, 0x04, 0x00, 0x07, 0x00, 0x04 };
	struct test_keys tk;
	struct ed25519_pk got_pk;
	struct x25519_pk got_xpk;
	uint8_t pattern[KAC_PADDING_PATTERN_BYTES], h[SHA256_BYTES];
	struct keys_and_cert k, d;

	keys_new(&tk);
	rand_bytes(pattern, sizeof(pattern));
	keys_and_cert_build(&k, &tk.xpk, &tk.pk, pattern);
	T_EQ(t, k.len, ROUTER_IDENTITY_BYTES);
	T_EQ(t, k.len, 391);
	T_MEMEQ(t, k.raw, tk.xpk.b, 32);			/* bytes 0-31 */
	for (size_t i = 32; i < 352; i++)		/* proposal 161 */
		if (k.raw[i] != pattern[(i - 32) % 32]) {
			T_EQ(t, k.raw[i], pattern[(i - 32) % 32]);
			break;
		}
	T_MEMEQ(t, k.raw + 352, tk.pk.b, 32);		/* right-aligned */
	T_MEMEQ(t, k.raw + 384, cert, sizeof(cert));
	sha256(h, k.raw, k.len);
	T_MEMEQ(t, k.hash, h, sizeof(h));
	T_OK(t, keys_and_cert_ed25519_pk(&k, &got_pk));
	T_MEMEQ(t, got_pk.b, tk.pk.b, 32);
	T_OK(t, keys_and_cert_x25519_pk(&k, &got_xpk));
	T_MEMEQ(t, got_xpk.b, tk.xpk.b, 32);
	T_TRUE(t, keys_and_cert_can_verify(&k));

	/* Stable: decoding the bytes gives the same hash and keys. */
	T_OK(t, kac_decode_all(k.raw, k.len, &d));
	T_EQ(t, d.len, k.len);
	T_MEMEQ(t, d.hash, k.hash, sizeof(h));
	T_MEMEQ(t, d.raw, k.raw, k.len);
	keys_wipe(&tk);
}

static void test_random_padding(struct tctx *t)
{
	struct test_keys tk;
	struct keys_and_cert a, b;

	keys_new(&tk);
	keys_and_cert_build(&a, &tk.xpk, &tk.pk, NULL);
	keys_and_cert_build(&b, &tk.xpk, &tk.pk, NULL);
	/* Same keys, fresh padding: different identities. */
	T_MEMEQ(t, a.raw, b.raw, 32);
	T_MEMEQ(t, a.raw + 352, b.raw + 352, 39);
	T_TRUE(t, memcmp(a.raw + 32, b.raw + 32, 32) != 0);
	T_TRUE(t, memcmp(a.hash, b.hash, sizeof(a.hash)) != 0);
	/* Still one 32-byte block repeated. */
	T_MEMEQ(t, a.raw + 32, a.raw + 320, 32);
	keys_wipe(&tk);
}

static void test_destination_layout(struct tctx *t)
{
	static const uint8_t cert[] = { 0x05, 0x00, 0x04, 0x00, 0x07, 0x00, 0x00 };
	uint8_t pattern[KAC_PADDING_PATTERN_BYTES];
	struct test_keys tk;
	struct keys_and_cert k;

	memset(pattern, 0x5a, sizeof(pattern));
	keys_new(&tk);
	keys_and_cert_build(&k, NULL, &tk.pk, pattern);
	T_EQ(t, k.len, 391);
	/* "Destinations will contain 11 copies (352 bytes) of the random
	 * data." */
	for (size_t i = 0; i < 352; i++)
		if (k.raw[i] != 0x5a) {
			T_EQ(t, k.raw[i], 0x5a);
			break;
		}
	T_MEMEQ(t, k.raw + 352, tk.pk.b, 32);
	T_MEMEQ(t, k.raw + 384, cert, sizeof(cert));
	T_EQ(t, k.enc_type, CERT_ENC_ELGAMAL);
	keys_wipe(&tk);
}

static void test_truncations(struct tctx *t)
{
	struct test_keys tk;
	struct keys_and_cert k, d;

	keys_new(&tk);
	keys_and_cert_build(&k, &tk.xpk, &tk.pk, NULL);
	for (size_t n = 0; n < k.len; n++)
		T_ERR(t, kac_decode_all(k.raw, n, &d), ERR_TRUNCATED);
	T_OK(t, kac_decode_all(k.raw, k.len, &d));
	keys_wipe(&tk);
}

static void test_verify(struct tctx *t)
{
	static const char msg[] = "signed bytes";
	struct test_keys tk;
	struct ed25519_sig sig;
	struct keys_and_cert k;

	keys_new(&tk);
	keys_and_cert_build(&k, &tk.xpk, &tk.pk, NULL);
	ed25519_sign(&sig, &tk.seed, msg, sizeof(msg));
	T_OK(t, keys_and_cert_verify(&k, msg, sizeof(msg), sig.b, 64));
	T_ERR(t, keys_and_cert_verify(&k, msg, sizeof(msg) - 1, sig.b, 64),
	      ERR_BAD_SIG);
	T_ERR(t, keys_and_cert_verify(&k, msg, sizeof(msg), sig.b, 40),
	      ERR_FORMAT);
	sig.b[10] ^= 1;
	T_ERR(t, keys_and_cert_verify(&k, msg, sizeof(msg), sig.b, 64),
	      ERR_BAD_SIG);
	keys_wipe(&tk);
}

const struct test_case router_kac_tests[] = {
	{ "type_table", test_type_table, 0 },
	{ "certificate_lengths", test_certificate_lengths, 0 },
	{ "key_cert_excess", test_key_cert_excess, 0 },
	{ "rsa4096_excess", test_rsa4096_excess, 0 },
	{ "null_cert_identity", test_null_cert_identity, 0 },
	{ "router_identity_layout", test_router_identity_layout, 0 },
	{ "random_padding", test_random_padding, 0 },
	{ "destination_layout", test_destination_layout, 0 },
	{ "truncations", test_truncations, 0 },
	{ "verify", test_verify, 0 },
	{ NULL, NULL, 0 }
};
