/*
 * Encrypted LeaseSet2 layers and client authorization (router/els2.h).
 */
#include "config.h"
#include "router/els2.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/blinding.h"
#include "crypto/chacha.h"
#include "crypto/hash.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "router/certificate.h"
#include "router/keys_and_cert.h"

#include <string.h>

/* HKDF output: key (32) ‖ IV (12) [‖ clientID (8)] */
#define ELS2_LAYER_KDF_BYTES 44
#define ELS2_CLIENT_KDF_BYTES 52
#define ELS2_IV_BYTES 12
/* innerSalt, then at least the type byte */
#define ELS2_MIN_INNER_BYTES (ELS2_SALT_BYTES + 1)
/* how far the inner LeaseSet's times may lie from the outer's */
#define ELS2_INNER_SKEW_MS 60000
/* authInput: sharedSecret ‖ cpk ‖ subcredential ‖ published (DH) */
#define ELS2_MAX_KDF_INPUT_BYTES (3 * ELS2_KEY_BYTES + 4)

int els2_blinding_derive(const uint8_t pk[ELS2_KEY_BYTES], uint16_t sig_type,
			 uint64_t now_s, const uint8_t *secret,
			 size_t secret_len, struct els2_blinding *out)
{
	static const char cred_p[] = "credential";
	static const char sub_p[] = "subcredential";
	struct els2_blinding b;
	char date[BLIND_DATE_BYTES + 1];
	uint8_t keydata[ELS2_KEY_BYTES + 4], cred[SHA256_BYTES];
	uint8_t st[2];
	struct sha256_ctx h;
	int r;

	if (sig_type != CERT_SIG_EDDSA_SHA512_ED25519 &&
	    sig_type != CERT_SIG_REDDSA_SHA512_ED25519)
		return ERR_UNSUPPORTED;
	memset(&b, 0, sizeof(b));
	b.sig_type = sig_type;
	b.blinded_sig_type = CERT_SIG_REDDSA_SHA512_ED25519;
	memcpy(b.pk, pk, ELS2_KEY_BYTES);
	blind_date_format(date, now_s);
	blind_alpha(b.alpha, pk, sig_type, b.blinded_sig_type, date, secret,
		    secret_len);
	if ((r = blind_pubkey(b.blinded_pk, pk, b.alpha)) != 0) {
		memwipe(&b, sizeof(b));
		return r;
	}
	/* credential = H("credential", A ‖ stA ‖ stA') */
	memcpy(keydata, pk, ELS2_KEY_BYTES);
	be16_put(keydata + ELS2_KEY_BYTES, sig_type);
	be16_put(keydata + ELS2_KEY_BYTES + 2, b.blinded_sig_type);
	sha256_2(cred, cred_p, sizeof(cred_p) - 1, keydata, sizeof(keydata));
	/* subcredential = H("subcredential", credential ‖ A') */
	sha256_init(&h);
	sha256_update(&h, sub_p, sizeof(sub_p) - 1);
	sha256_update(&h, cred, sizeof(cred));
	sha256_update(&h, b.blinded_pk, ELS2_KEY_BYTES);
	sha256_final(&h, b.subcredential);
	be16_put(st, b.blinded_sig_type);
	sha256_2(b.store_key, st, sizeof(st), b.blinded_pk, ELS2_KEY_BYTES);
	*out = b;
	memwipe(&b, sizeof(b));
	return 0;
}

/* HKDF(salt, a ‖ b ‖ subcredential ‖ published, info, n) */
static void kdf(uint8_t *okm, size_t n, const uint8_t salt[ELS2_SALT_BYTES],
		const uint8_t *a, size_t alen, const uint8_t *b2, size_t blen,
		const struct els2_blinding *bl, uint32_t published_s,
		const char info[8])
{
	uint8_t in[ELS2_MAX_KDF_INPUT_BYTES];
	size_t len = 0;

	if (alen) {
		memcpy(in, a, alen);
		len += alen;
	}
	if (blen) {
		memcpy(in + len, b2, blen);
		len += blen;
	}
	memcpy(in + len, bl->subcredential, ELS2_KEY_BYTES);
	len += ELS2_KEY_BYTES;
	be32_put(in + len, published_s);
	len += 4;
	hkdf_sha256(okm, n, salt, ELS2_SALT_BYTES, in, len, info, 8);
	memwipe(in, sizeof(in));
}

/* STREAM: ChaCha20 with the initial counter 1. */
static void stream(uint8_t *out, const uint8_t *in, size_t len,
		   const uint8_t okm[ELS2_LAYER_KDF_BYTES])
{
	chacha20_xor(out, in, len, okm, okm + ELS2_KEY_BYTES, 1);
}

/* salt ‖ ENCRYPT(key, iv, pt), keys from HKDF(salt, cookie ‖ sub ‖ t). */
static void seal_layer(struct bbuf *out, const uint8_t *pt, size_t len,
		       const uint8_t *cookie, size_t cookie_len,
		       const struct els2_blinding *bl, uint32_t published_s,
		       const char info[8])
{
	uint8_t salt[ELS2_SALT_BYTES], okm[ELS2_LAYER_KDF_BYTES];

	rand_bytes(salt, sizeof(salt));
	kdf(okm, sizeof(okm), salt, cookie, cookie_len, NULL, 0, bl,
	    published_s, info);
	bbuf_put(out, salt, sizeof(salt));
	stream(bbuf_extend(out, len), pt, len, okm);
	memwipe(okm, sizeof(okm));
}

/* The reverse of seal_layer() into a new buffer *pt (len - 32 bytes). */
static int open_layer(const uint8_t *ct, size_t len, const uint8_t *cookie,
		      size_t cookie_len, const struct els2_blinding *bl,
		      uint32_t published_s, const char info[8],
		      struct bbuf *pt)
{
	uint8_t okm[ELS2_LAYER_KDF_BYTES];

	if (len < ELS2_MIN_INNER_BYTES)
		return ERR_TRUNCATED;
	kdf(okm, sizeof(okm), ct, cookie, cookie_len, NULL, 0, bl,
	    published_s, info);
	bbuf_reset(pt);
	stream(bbuf_extend(pt, len - ELS2_SALT_BYTES), ct + ELS2_SALT_BYTES,
	       len - ELS2_SALT_BYTES, okm);
	memwipe(okm, sizeof(okm));
	return 0;
}

/* okm for client i: DH (sharedSecret ‖ cpk) or PSK (psk). */
static int client_okm(uint8_t okm[ELS2_CLIENT_KDF_BYTES], enum els2_auth auth,
		      const uint8_t salt[ELS2_SALT_BYTES],
		      const struct x25519_sk *esk,
		      const uint8_t key[ELS2_KEY_BYTES],
		      const struct els2_blinding *bl, uint32_t published_s)
{
	uint8_t ss[32];
	struct x25519_pk cpk;
	int r;

	if (auth == ELS2_AUTH_PSK) {
		kdf(okm, ELS2_CLIENT_KDF_BYTES, salt, key, ELS2_KEY_BYTES,
		    NULL, 0, bl, published_s, "ELS2PSKA");
		return 0;
	}
	memcpy(cpk.b, key, sizeof(cpk.b));
	if ((r = x25519_dh(ss, esk, &cpk)) != 0)
		return r;
	kdf(okm, ELS2_CLIENT_KDF_BYTES, salt, ss, sizeof(ss), cpk.b,
	    sizeof(cpk.b), bl, published_s, "ELS2_XCA");
	memwipe(ss, sizeof(ss));
	return 0;
}

struct sign_ctx {
	const uint8_t *sk;
	const uint8_t *pk;
};

static int sign_reddsa(void *ctx, uint8_t *sig, size_t sig_len,
		       const uint8_t *msg, size_t len)
{
	const struct sign_ctx *c = ctx;

	if (sig_len != REDDSA_SIG_BYTES)
		return ERR_ARG;
	reddsa_sign(sig, c->sk, c->pk, msg, len, NULL);
	return 0;
}

/* The authorization part of layer 1 (flags, key/salt, entries). */
static int encode_auth(const struct els2_params *p, uint8_t cookie[32],
		       struct bbuf *l1)
{
	uint8_t salt[ELS2_SALT_BYTES], okm[ELS2_CLIENT_KDF_BYTES];
	uint8_t order[ELS2_MAX_CLIENTS];
	struct x25519_sk esk;
	struct x25519_pk epk;
	int r = 0;

	if (p->auth == ELS2_AUTH_NONE) {
		bbuf_u8(l1, 0);
		return 0;
	}
	rand_bytes(cookie, ELS2_KEY_BYTES);
	if (p->auth == ELS2_AUTH_DH) {
		x25519_keygen(&esk, &epk);
		memcpy(salt, epk.b, sizeof(salt));
		bbuf_u8(l1, ELS2_L1_FLAG_PER_CLIENT);
	} else {
		rand_bytes(salt, sizeof(salt));
		bbuf_u8(l1, ELS2_L1_FLAG_PER_CLIENT |
			    1u << ELS2_L1_SCHEME_SHIFT);
	}
	bbuf_put(l1, salt, sizeof(salt));
	bbuf_be16(l1, (uint16_t)p->n_clients);
	/* "Servers SHOULD randomize the order of clients" */
	for (size_t i = 0; i < p->n_clients; i++)
		order[i] = (uint8_t)i;
	for (size_t i = p->n_clients; i > 1; i--) {
		size_t j = rand_uniform((uint32_t)i);
		uint8_t tmp = order[i - 1];

		order[i - 1] = order[j];
		order[j] = tmp;
	}
	for (size_t i = 0; i < p->n_clients; i++) {
		if ((r = client_okm(okm, p->auth, salt, &esk,
				    p->clients[order[i]], p->bl,
				    p->published_s)) != 0)
			break;
		bbuf_put(l1, okm + ELS2_LAYER_KDF_BYTES, ELS2_CLIENT_ID_BYTES);
		stream(bbuf_extend(l1, ELS2_KEY_BYTES), cookie, ELS2_KEY_BYTES,
		       okm);
	}
	memwipe(okm, sizeof(okm));
	memwipe(&esk, sizeof(esk));
	return r;
}

int els2_encode(const struct els2_params *p, struct bbuf *out)
{
	struct bbuf l2 = BBUF_INIT, l1 = BBUF_INIT, ct = BBUF_INIT;
	uint8_t cookie[ELS2_KEY_BYTES];
	struct sign_ctx sc;
	uint8_t pk[32];
	int r;

	if (!p->bl || !p->blinded_sk || !p->inner || p->inner_len == 0 ||
	    (p->inner_type != LEASESET_LS2 && p->inner_type != LEASESET_META) ||
	    (p->auth != ELS2_AUTH_NONE &&
	     (p->n_clients == 0 || p->n_clients > ELS2_MAX_CLIENTS ||
	      !p->clients)) ||
	    p->inner_len > LEASESET_MAX_BYTES)
		return ERR_ARG;
	/* a' must be the key of A' */
	if (reddsa_pk_from_sk(pk, p->blinded_sk) != 0 ||
	    memcmp(pk, p->bl->blinded_pk, sizeof(pk)) != 0)
		return ERR_ARG;
	bbuf_u8(&l2, (uint8_t)p->inner_type);
	bbuf_put(&l2, p->inner, p->inner_len);
	if ((r = encode_auth(p, cookie, &l1)) != 0)
		goto out;
	seal_layer(&l1, l2.data, l2.len, cookie,
		   p->auth == ELS2_AUTH_NONE ? 0 : sizeof(cookie), p->bl,
		   p->published_s, "ELS2_L2K");
	seal_layer(&ct, l1.data, l1.len, NULL, 0, p->bl, p->published_s,
		   "ELS2_L1K");
	if (ct.len > LEASESET_MAX_BYTES) {
		r = ERR_TOO_BIG;
		goto out;
	}
	sc.sk = p->blinded_sk;
	sc.pk = p->bl->blinded_pk;
	r = leaseset_enc_encode(p->bl->blinded_sig_type, p->bl->blinded_pk,
				p->published_s, p->expires_s, 0, NULL, ct.data,
				ct.len, sign_reddsa, &sc, out);
out:
	memwipe(cookie, sizeof(cookie));
	bbuf_free(&l2);
	bbuf_free(&l1);
	bbuf_free(&ct);
	return r;
}

int els2_layer1_decode(const uint8_t *buf, size_t len,
		       struct els2_layer1 *out)
{
	struct els2_layer1 l;
	struct breader r;
	uint8_t flags, scheme;

	memset(&l, 0, sizeof(l));
	br_init(&r, buf, len);
	flags = br_u8(&r);
	scheme = (flags & ELS2_L1_SCHEME_MASK) >> ELS2_L1_SCHEME_SHIFT;
	if (r.failed)
		return ERR_TRUNCATED;
	if (!(flags & ELS2_L1_FLAG_PER_CLIENT)) {
		if (scheme != 0)
			return ERR_FORMAT;
		l.auth = ELS2_AUTH_NONE;
	} else {
		if (scheme > 1)
			return ERR_UNSUPPORTED;
		l.auth = scheme == 0 ? ELS2_AUTH_DH : ELS2_AUTH_PSK;
		l.auth_key = br_take(&r, ELS2_SALT_BYTES);
		l.n_clients = br_be16(&r);
		if (r.failed)
			return ERR_TRUNCATED;
		if (l.n_clients > ELS2_MAX_CLIENTS)
			return ERR_TOO_BIG;
		l.entries = br_take(&r, l.n_clients * ELS2_AUTH_ENTRY_BYTES);
		if (r.failed)
			return ERR_TRUNCATED;
	}
	l.inner_len = br_left(&r);
	l.inner = br_take(&r, l.inner_len);
	if (l.inner_len < ELS2_MIN_INNER_BYTES)
		return ERR_FORMAT;
	*out = l;
	return 0;
}

/* Find cred's entry and decrypt authCookie into cookie. */
static int find_cookie(const struct els2_layer1 *l,
		       const struct els2_blinding *bl,
		       const struct els2_cred *cred, uint32_t published_s,
		       uint8_t cookie[ELS2_KEY_BYTES])
{
	uint8_t okm[ELS2_CLIENT_KDF_BYTES], key[ELS2_KEY_BYTES];
	struct x25519_sk csk;
	struct x25519_pk cpk;
	struct x25519_pk epk;
	uint8_t ss[32];
	int r = ERR_AUTH;

	if (!cred || cred->auth != l->auth)
		return ERR_AUTH;
	if (l->auth == ELS2_AUTH_DH) {
		/* sharedSecret = DH(csk, epk); authInput uses cpk */
		memcpy(csk.b, cred->key, sizeof(csk.b));
		memcpy(epk.b, l->auth_key, sizeof(epk.b));
		x25519_pk_from_sk(&cpk, &csk);
		if (x25519_dh(ss, &csk, &epk) != 0) {
			memwipe(&csk, sizeof(csk));
			return ERR_FORMAT;
		}
		kdf(okm, sizeof(okm), l->auth_key, ss, sizeof(ss), cpk.b,
		    sizeof(cpk.b), bl, published_s, "ELS2_XCA");
		memwipe(ss, sizeof(ss));
		memwipe(&csk, sizeof(csk));
	} else {
		memcpy(key, cred->key, sizeof(key));
		kdf(okm, sizeof(okm), l->auth_key, key, sizeof(key), NULL, 0,
		    bl, published_s, "ELS2PSKA");
		memwipe(key, sizeof(key));
	}
	for (size_t i = 0; i < l->n_clients; i++) {
		const uint8_t *e = l->entries + i * ELS2_AUTH_ENTRY_BYTES;

		if (memcmp(e, okm + ELS2_LAYER_KDF_BYTES,
			   ELS2_CLIENT_ID_BYTES) == 0) {
			stream(cookie, e + ELS2_CLIENT_ID_BYTES, ELS2_KEY_BYTES,
			       okm);
			r = 0;
			break;
		}
	}
	memwipe(okm, sizeof(okm));
	return r;
}

/*
 * The inner LeaseSet must be bl's destination's, published within
 * ELS2_INNER_SKEW_MS of the outer (i2pd stamps the two with separate
 * clock reads) and not ending before it: i2pd ends the outer at the
 * next midnight UTC, when its blinded key changes, and leaves the
 * inner as it was.
 */
static int check_inner(const struct leaseset *outer,
		       const struct leaseset *in,
		       const struct els2_blinding *bl)
{
	const struct keys_and_cert *d = leaseset_destination(in);
	uint64_t ip = leaseset_published_ms(in);
	uint64_t op = leaseset_published_ms(outer);

	if (!d || d->sig_type != bl->sig_type || d->sig_key_len !=
	    ELS2_KEY_BYTES || memcmp(d->sig_key, bl->pk, ELS2_KEY_BYTES) != 0)
		return ERR_FORMAT;
	if ((ip > op ? ip - op : op - ip) > ELS2_INNER_SKEW_MS ||
	    leaseset_expires_ms(outer) >
	    leaseset_expires_ms(in) + ELS2_INNER_SKEW_MS)
		return ERR_FORMAT;
	return 0;
}

int els2_decrypt(const struct leaseset *ls, const struct els2_blinding *bl,
		 const struct els2_cred *cred, struct leaseset **inner)
{
	struct bbuf l1 = BBUF_INIT, l2 = BBUF_INIT;
	struct els2_layer1 lay;
	struct leaseset *in = NULL;
	uint8_t cookie[ELS2_KEY_BYTES];
	const uint8_t *bk, *ct;
	size_t bk_len, ct_len;
	uint16_t bst;
	uint32_t published_s;
	bool with_cookie;
	int r;

	if (leaseset_type(ls) != LEASESET_ENC_LS2)
		return ERR_ARG;
	bk = leaseset_blinded_key(ls, &bst, &bk_len);
	ct = leaseset_ciphertext(ls, &ct_len);
	if (!bk || !ct || bst != bl->blinded_sig_type ||
	    bk_len != ELS2_KEY_BYTES ||
	    memcmp(bk, bl->blinded_pk, ELS2_KEY_BYTES) != 0)
		return ERR_ARG;
	published_s = (uint32_t)(leaseset_published_ms(ls) / 1000);
	if ((r = open_layer(ct, ct_len, NULL, 0, bl, published_s, "ELS2_L1K",
			    &l1)) != 0 ||
	    (r = els2_layer1_decode(l1.data, l1.len, &lay)) != 0)
		goto out;
	with_cookie = lay.auth != ELS2_AUTH_NONE;
	if (with_cookie &&
	    (r = find_cookie(&lay, bl, cred, published_s, cookie)) != 0)
		goto out;
	if ((r = open_layer(lay.inner, lay.inner_len, cookie,
			    with_cookie ? sizeof(cookie) : 0, bl, published_s,
			    "ELS2_L2K", &l2)) != 0)
		goto out;
	if (l2.data[0] != LEASESET_LS2 && l2.data[0] != LEASESET_META) {
		r = ERR_FORMAT;
		goto out;
	}
	if ((r = leaseset_decode((enum leaseset_type)l2.data[0], l2.data + 1,
				 l2.len - 1, &in)) != 0 ||
	    (r = leaseset_verify(in)) != 0 ||
	    (r = check_inner(ls, in, bl)) != 0)
		goto out;
	*inner = in;
	in = NULL;
out:
	leaseset_free(in);
	memwipe(cookie, sizeof(cookie));
	bbuf_free(&l1);
	bbuf_free(&l2);
	return r;
}
