/*
 * Destination private keys in i2pd's / SAM's format (router/dest_keys.h).
 */
#include "config.h"
#include "router/dest_keys.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/blinding.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/x25519.h"
#include "router/certificate.h"
#include "router/leaseset.h"

#include <string.h>

/* i2pd: "private key length always 256, but type 4" */
static size_t enc_sk_len(uint16_t enc_type)
{
	return enc_type == CERT_ENC_X25519 ? 32 : DEST_KEYS_ENC_SK_MAX_BYTES;
}

/* Signing private key lengths: half the signature for DSA, ECDSA and the
 * Ed25519 family; 0 (unknown here) for RSA and GOST. */
static size_t sig_sk_len(uint16_t sig_type)
{
	switch (sig_type) {
	case CERT_SIG_DSA_SHA1:
	case CERT_SIG_ECDSA_SHA256_P256:
	case CERT_SIG_ECDSA_SHA384_P384:
	case CERT_SIG_ECDSA_SHA512_P521:
	case CERT_SIG_EDDSA_SHA512_ED25519:
	case CERT_SIG_EDDSA_SHA512_ED25519PH:
	case CERT_SIG_REDDSA_SHA512_ED25519:
		return cert_sig_len(sig_type) / 2;
	default:
		return 0;
	}
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

void dest_keys_generate(struct dest_keys *out)
{
	struct x25519_sk xsk;
	struct x25519_pk xpk;
	struct ed25519_seed esk;
	struct ed25519_pk epk;

	memset(out, 0, sizeof(*out));
	x25519_keygen(&xsk, &xpk);
	ed25519_keygen(&esk, &epk);
	keys_and_cert_build(&out->dest, &xpk, &epk, NULL);
	memcpy(out->enc_sk, xsk.b, sizeof(xsk.b));
	out->enc_sk_len = sizeof(xsk.b);
	memcpy(out->sig_sk, esk.b, sizeof(esk.b));
	out->sig_sk_len = sizeof(esk.b);
	out->signer_type = CERT_SIG_EDDSA_SHA512_ED25519;
	memwipe(&xsk, sizeof(xsk));
	memwipe(&esk, sizeof(esk));
}

/* The offline block after the zero signing key. */
static int decode_offline(struct breader *r, struct dest_keys *k)
{
	const uint8_t *start = r->p, *tpk, *sig, *tsk;
	size_t tpk_len, sig_len, tsk_len;
	int ret;

	k->offline_expires_s = br_be32(r);
	k->signer_type = br_be16(r);
	if (r->failed)
		return ERR_TRUNCATED;
	tpk_len = cert_sig_pubkey_len(k->signer_type);
	tsk_len = sig_sk_len(k->signer_type);
	sig_len = keys_and_cert_sig_len(&k->dest);
	if (tpk_len == 0 || tsk_len == 0 || sig_len == 0)
		return ERR_UNSUPPORTED;
	if (tpk_len > sizeof(k->transient_pk) ||
	    sig_len > sizeof(k->offline_sig) || tsk_len > sizeof(k->sig_sk))
		return ERR_UNSUPPORTED;
	tpk = br_take(r, tpk_len);
	sig = br_take(r, sig_len);
	tsk = br_take(r, tsk_len);
	if (r->failed)
		return ERR_TRUNCATED;
	/* signed: expires ‖ type ‖ transient key */
	if ((ret = leaseset_sig_verify(k->dest.sig_type, k->dest.sig_key,
				       k->dest.sig_key_len, start,
				       6 + tpk_len, sig, sig_len)) != 0)
		return ret;
	memcpy(k->transient_pk, tpk, tpk_len);
	k->transient_pk_len = tpk_len;
	memcpy(k->offline_sig, sig, sig_len);
	k->offline_sig_len = sig_len;
	memcpy(k->sig_sk, tsk, tsk_len);
	k->sig_sk_len = tsk_len;
	k->offline = true;
	return 0;
}

int dest_keys_decode(const uint8_t *buf, size_t len, struct dest_keys *out)
{
	struct dest_keys *k = xzalloc(sizeof(*k));
	const uint8_t *sk;
	struct breader r;
	int ret;

	br_init(&r, buf, len);
	if ((ret = keys_and_cert_decode(&r, &k->dest)) != 0)
		goto out;
	k->enc_sk_len = enc_sk_len(k->dest.enc_type);
	k->sig_sk_len = sig_sk_len(k->dest.sig_type);
	k->signer_type = k->dest.sig_type;
	if (k->sig_sk_len == 0) {
		ret = ERR_UNSUPPORTED;
		goto out;
	}
	br_copy(&r, k->enc_sk, k->enc_sk_len);
	sk = br_take(&r, k->sig_sk_len);
	if (r.failed) {
		ret = ERR_TRUNCATED;
		goto out;
	}
	if (!all_zero(sk, k->sig_sk_len))
		memcpy(k->sig_sk, sk, k->sig_sk_len);
	else if ((ret = decode_offline(&r, k)) != 0)
		goto out;
	if (!br_done(&r)) {
		ret = ERR_FORMAT;
		goto out;
	}
	*out = *k;
	ret = 0;
out:
	xfree_wipe(k, sizeof(*k));
	return ret;
}

void dest_keys_encode(const struct dest_keys *k, struct bbuf *out)
{
	bbuf_put(out, k->dest.raw, k->dest.len);
	bbuf_put(out, k->enc_sk, k->enc_sk_len);
	if (!k->offline) {
		bbuf_put(out, k->sig_sk, k->sig_sk_len);
		return;
	}
	memset(bbuf_extend(out, sig_sk_len(k->dest.sig_type)), 0,
	       sig_sk_len(k->dest.sig_type));
	bbuf_be32(out, k->offline_expires_s);
	bbuf_be16(out, k->signer_type);
	bbuf_put(out, k->transient_pk, k->transient_pk_len);
	bbuf_put(out, k->offline_sig, k->offline_sig_len);
	bbuf_put(out, k->sig_sk, k->sig_sk_len);
}

int dest_keys_parse(const char *s, size_t len, struct dest_keys *out)
{
	uint8_t *buf;
	size_t n = 0;
	int ret;

	if (len > B64_ENC_LEN(DEST_KEYS_MAX_BYTES))
		return ERR_TOO_BIG;
	buf = xmalloc(len);
	if ((ret = b64_decode(buf, len, &n, s, len)) == 0)
		ret = dest_keys_decode(buf, n, out);
	xfree_wipe(buf, len);
	return ret;
}

char *dest_keys_format(const struct dest_keys *k)
{
	struct bbuf b = BBUF_INIT;
	size_t n;
	char *s;

	dest_keys_encode(k, &b);
	n = B64_ENC_LEN(b.len);
	s = xmalloc(n);
	if (BUG(b64_encode(s, n, b.data, b.len) != 0))
		s[0] = '\0';
	bbuf_free(&b);
	return s;
}

int dest_keys_check(const struct dest_keys *k)
{
	const uint8_t *pk = k->offline ? k->transient_pk : k->dest.sig_key;
	size_t pk_len = k->offline ? k->transient_pk_len : k->dest.sig_key_len;
	uint8_t want[32];
	int ret;

	if (k->signer_type == CERT_SIG_EDDSA_SHA512_ED25519) {
		struct ed25519_seed seed;
		struct ed25519_pk p;

		memcpy(seed.b, k->sig_sk, sizeof(seed.b));
		ed25519_pk_from_seed(&p, &seed);
		memwipe(&seed, sizeof(seed));
		memcpy(want, p.b, sizeof(want));
	} else if (k->signer_type == CERT_SIG_REDDSA_SHA512_ED25519) {
		if ((ret = reddsa_pk_from_sk(want, k->sig_sk)) != 0)
			return ERR_CRYPTO;
	} else {
		return 0;
	}
	if (pk_len != sizeof(want) || memcmp(want, pk, sizeof(want)) != 0)
		return ERR_CRYPTO;
	return 0;
}

bool dest_keys_enc_key_in_dest(const struct dest_keys *k)
{
	struct x25519_sk sk;
	struct x25519_pk p;

	if (k->dest.enc_type != CERT_ENC_X25519 ||
	    k->dest.enc_key_len != sizeof(p.b) || k->enc_sk_len != sizeof(sk.b))
		return false;
	memcpy(sk.b, k->enc_sk, sizeof(sk.b));
	x25519_pk_from_sk(&p, &sk);
	memwipe(&sk, sizeof(sk));
	return memcmp(p.b, k->dest.enc_key, sizeof(p.b)) == 0;
}

int dest_keys_load(const char *path, struct dest_keys *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	if ((ret = fsutil_read_file(path, DEST_KEYS_MAX_BYTES, &buf,
				    &len)) != 0)
		return ret;
	ret = dest_keys_decode(buf, len, out);
	xfree_wipe(buf, len);
	return ret;
}

int dest_keys_save(const char *path, const struct dest_keys *k, bool replace)
{
	struct bbuf b = BBUF_INIT;
	int ret;

	dest_keys_encode(k, &b);
	ret = fsutil_write_atomic(path, b.data, b.len, 0600, replace);
	bbuf_free(&b);
	return ret;
}

void dest_keys_wipe(struct dest_keys *k)
{
	memwipe(k, sizeof(*k));
}

void dest_b32_format(const struct keys_and_cert *dest,
		     char out[DEST_B32_CHARS + 1])
{
	char enc[B32_ENC_LEN(SHA256_BYTES)];

	if (BUG(b32_encode(enc, sizeof(enc), dest->hash, SHA256_BYTES) != 0))
		enc[0] = '\0';
	memcpy(out, enc, 52);
	memcpy(out + 52, ".b32.i2p", 9);
}

char *dest_b64_format(const struct keys_and_cert *dest)
{
	size_t n = B64_ENC_LEN(dest->len);
	char *s = xmalloc(n);

	if (BUG(b64_encode(s, n, dest->raw, dest->len) != 0))
		s[0] = '\0';
	return s;
}
