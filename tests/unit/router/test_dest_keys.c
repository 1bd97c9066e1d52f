/*
 * router/dest_keys: destination private keys in i2pd's / SAM's format.
 * A blob i2pd 2.45.1's SAM generated (tests/vectors/i2pd-sam-dest.json)
 * parses, checks and re-encodes byte for byte (its crypto key field is
 * padding, not the key of its random crypto private key); generated keys round-trip
 * in binary and Base64, on disk with mode 0600; ElGamal-sized (256-byte)
 * crypto keys, offline keys (signature checked, transient key used), every
 * truncation and a trailing byte refused; b32 addresses.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/x25519.h"
#include "router/certificate.h"
#include "router/dest_keys.h"
#include "router/leaseset.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void test_i2pd_blob(struct tctx *t)
{
	json_t *root = tvec_load(t, "i2pd-sam-dest.json"), *v;
	size_t i;

	if (!root)
		return;
	T_TRUE(t, json_array_size(json_object_get(root, "vectors")) >= 2);
	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		const char *priv = json_string_value(json_object_get(v, "priv"));
		const char *pub = json_string_value(json_object_get(v, "pub"));
		const char *b32 = json_string_value(json_object_get(v, "b32"));
		int enc = (int)json_integer_value(json_object_get(v,
								  "crypto_type"));
		struct dest_keys k;
		char *s, *d, got_b32[DEST_B32_CHARS + 1];

		T_TRUE(t, priv && pub && b32);
		if (!priv || !pub || !b32)
			continue;
		T_OK(t, dest_keys_parse(priv, strlen(priv), &k));
		T_OK(t, dest_keys_check(&k));
		T_EQ(t, k.dest.sig_type, CERT_SIG_EDDSA_SHA512_ED25519);
		T_EQ(t, k.dest.enc_type, enc);
		T_EQ(t, k.enc_sk_len, enc == CERT_ENC_X25519 ? 32 : 256);
		T_FALSE(t, k.offline);
		/* i2pd pads the Destination's crypto key field */
		T_FALSE(t, dest_keys_enc_key_in_dest(&k));
		d = dest_b64_format(&k.dest);
		T_STREQ(t, d, pub);
		dest_b32_format(&k.dest, got_b32);
		T_STREQ(t, got_b32, b32);
		s = dest_keys_format(&k);
		T_STREQ(t, s, priv);
		free(d);
		xfree_wipe(s, strlen(s) + 1);
		dest_keys_wipe(&k);
	}
	json_decref(root);
}

static void test_generate_roundtrip(struct tctx *t)
{
	struct dest_keys k, k2;
	struct bbuf b = BBUF_INIT;
	char *s, b32[DEST_B32_CHARS + 1], want[64];
	uint8_t h[32];

	dest_keys_generate(&k);
	T_EQ(t, k.dest.enc_type, CERT_ENC_X25519);
	T_EQ(t, k.dest.sig_type, CERT_SIG_EDDSA_SHA512_ED25519);
	T_EQ(t, k.dest.len, 391);
	T_OK(t, dest_keys_check(&k));
	dest_keys_encode(&k, &b);
	T_EQ(t, b.len, 391 + 32 + 32);
	T_OK(t, dest_keys_decode(b.data, b.len, &k2));
	T_MEMEQ(t, k2.dest.raw, k.dest.raw, k.dest.len);
	T_MEMEQ(t, k2.enc_sk, k.enc_sk, 32);
	T_MEMEQ(t, k2.sig_sk, k.sig_sk, 32);
	s = dest_keys_format(&k);
	T_OK(t, dest_keys_parse(s, strlen(s), &k2));
	T_MEMEQ(t, k2.dest.hash, k.dest.hash, 32);
	xfree_wipe(s, strlen(s) + 1);
	/* b32: SHA-256 of the Destination bytes */
	dest_b32_format(&k.dest, b32);
	sha256(h, k.dest.raw, k.dest.len);
	T_OK(t, b32_encode(want, sizeof(want), h, 32));
	T_EQ(t, strlen(b32), 60);
	T_TRUE(t, strncmp(b32, want, 52) == 0);
	T_STREQ(t, b32 + 52, ".b32.i2p");
	/* a wrong private key is caught */
	k.sig_sk[3] ^= 1;
	T_ERR(t, dest_keys_check(&k), ERR_CRYPTO);
	k.sig_sk[3] ^= 1;
	T_TRUE(t, dest_keys_enc_key_in_dest(&k));
	k.enc_sk[3] ^= 1;
	T_FALSE(t, dest_keys_enc_key_in_dest(&k));
	bbuf_free(&b);
	dest_keys_wipe(&k);
	dest_keys_wipe(&k2);
}

static void test_truncated_and_trailing(struct tctx *t)
{
	struct dest_keys k, k2;
	struct bbuf b = BBUF_INIT;
	int refused = 0;

	dest_keys_generate(&k);
	dest_keys_encode(&k, &b);
	for (size_t n = 0; n < b.len; n++)
		if (dest_keys_decode(b.data, n, &k2) != 0)
			refused++;
	T_EQ(t, refused, b.len);
	bbuf_u8(&b, 0);
	T_ERR(t, dest_keys_decode(b.data, b.len, &k2), ERR_FORMAT);
	T_ERR(t, dest_keys_parse("not base64!", 11, &k2), ERR_FORMAT);
	bbuf_free(&b);
	dest_keys_wipe(&k);
}

/* Crypto type 0: the private key field is 256 bytes. */
static void test_elgamal_sized(struct tctx *t)
{
	struct dest_keys k, k2;
	struct ed25519_seed sk;
	struct ed25519_pk pk;
	struct bbuf b = BBUF_INIT;

	memset(&k, 0, sizeof(k));
	ed25519_keygen(&sk, &pk);
	keys_and_cert_build(&k.dest, NULL, &pk, NULL);
	k.enc_sk_len = 256;
	memset(k.enc_sk, 0x5a, 256);
	memcpy(k.sig_sk, sk.b, 32);
	k.sig_sk_len = 32;
	k.signer_type = CERT_SIG_EDDSA_SHA512_ED25519;
	dest_keys_encode(&k, &b);
	T_EQ(t, b.len, 391 + 256 + 32);
	T_OK(t, dest_keys_decode(b.data, b.len, &k2));
	T_EQ(t, k2.enc_sk_len, 256);
	T_MEMEQ(t, k2.enc_sk, k.enc_sk, 256);
	T_OK(t, dest_keys_check(&k2));
	bbuf_free(&b);
}

static void test_offline(struct tctx *t)
{
	struct dest_keys k, k2, k3;
	struct ed25519_seed dsk, tsk;
	struct ed25519_pk tpk;
	struct ed25519_sig sig;
	struct bbuf b = BBUF_INIT, signed_bytes = BBUF_INIT;

	dest_keys_generate(&k);
	memcpy(dsk.b, k.sig_sk, 32);
	ed25519_keygen(&tsk, &tpk);
	leaseset_offline_signed_bytes(1800000000u, 7, tpk.b, 32, &signed_bytes);
	ed25519_sign(&sig, &dsk, signed_bytes.data, signed_bytes.len);
	k.offline = true;
	k.offline_expires_s = 1800000000u;
	k.signer_type = 7;
	memcpy(k.transient_pk, tpk.b, 32);
	k.transient_pk_len = 32;
	memcpy(k.offline_sig, sig.b, 64);
	k.offline_sig_len = 64;
	memcpy(k.sig_sk, tsk.b, 32);
	dest_keys_encode(&k, &b);
	T_EQ(t, b.len, 391 + 32 + 32 + 6 + 32 + 64 + 32);
	T_OK(t, dest_keys_decode(b.data, b.len, &k2));
	T_TRUE(t, k2.offline);
	T_EQ(t, k2.offline_expires_s, 1800000000u);
	T_MEMEQ(t, k2.sig_sk, tsk.b, 32);	/* signs with the transient key */
	T_MEMEQ(t, k2.transient_pk, tpk.b, 32);
	T_OK(t, dest_keys_check(&k2));
	/* wrong transient private key */
	k2.sig_sk[0] ^= 1;
	T_ERR(t, dest_keys_check(&k2), ERR_CRYPTO);
	/* offline signature tampered */
	b.data[391 + 64 + 6 + 32 + 5] ^= 1;
	T_ERR(t, dest_keys_decode(b.data, b.len, &k3), ERR_BAD_SIG);
	b.data[391 + 64 + 6 + 32 + 5] ^= 1;
	/* unknown transient type */
	b.data[391 + 64 + 5] = 200;
	T_ERR(t, dest_keys_decode(b.data, b.len, &k3), ERR_UNSUPPORTED);
	bbuf_free(&b);
	bbuf_free(&signed_bytes);
	dest_keys_wipe(&k);
	dest_keys_wipe(&k2);
}

static void test_save_load(struct tctx *t)
{
	char *dir = t_tmpdir(t), *path;
	struct dest_keys k, k2;
	struct stat st;

	if (!dir)
		return;
	path = xmalloc(strlen(dir) + 16);
	memcpy(path, dir, strlen(dir));
	memcpy(path + strlen(dir), "/dest.dat", 10);
	dest_keys_generate(&k);
	T_OK(t, dest_keys_save(path, &k, false));
	T_OK(t, stat(path, &st));
	T_EQ(t, st.st_mode & 0777, 0600);
	T_ERR(t, dest_keys_save(path, &k, false), ERR_EXISTS);
	T_OK(t, dest_keys_load(path, &k2));
	T_MEMEQ(t, k2.dest.hash, k.dest.hash, 32);
	T_MEMEQ(t, k2.sig_sk, k.sig_sk, 32);
	free(path);
	t_rmtree(dir);
	free(dir);
	dest_keys_wipe(&k);
	dest_keys_wipe(&k2);
}

const struct test_case router_dest_keys_tests[] = {
	{ "i2pd_blob", test_i2pd_blob, 0 },
	{ "generate_roundtrip", test_generate_roundtrip, 0 },
	{ "truncated_and_trailing", test_truncated_and_trailing, 0 },
	{ "elgamal_sized", test_elgamal_sized, 0 },
	{ "offline", test_offline, 0 },
	{ "save_load", test_save_load, 0 },
	{ NULL, NULL, 0 }
};
