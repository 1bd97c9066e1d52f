/*
 * LeaseSet, LeaseSet2, MetaLeaseSet and the outer layer of an
 * EncryptedLeaseSet (common-structures spec; see router/leaseset.h):
 * decode with every length bounded, verify signatures, check times, and
 * encode with a signing callback.
 *
 * The object keeps a private copy of the bytes with the store type in
 * front, because the LS2 types sign "the data above, PREPENDED with the
 * single byte containing the DatabaseStore type"; every borrowed pointer
 * (keys, ciphertext, signature) points into that copy.
 */
#include "config.h"
#include "router/leaseset.h"
#include "router/certificate.h"
#include "router/i2p_types.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"

#include <stdlib.h>
#include <string.h>

/* LeaseSet2Header: published (4) ‖ expires (2) ‖ flags (2). */
#define LS2_TIMES_BYTES 8
/* MetaLease flags are 3 bytes: "Bits 3-0: Type of the entry." */
#define META_FLAGS_BYTES 3

struct leaseset {
	enum leaseset_type type;
	uint8_t *buf;			/* type byte ‖ the LeaseSet */
	size_t len;			/* bytes of the LeaseSet (buf + 1) */
	size_t signed_len;		/* of them, covered by the signature */
	const uint8_t *sig;
	size_t sig_len;
	/* The key that signs the LeaseSet: Destination, blinded or
	 * transient. */
	uint16_t signer_type;
	const uint8_t *signer_key;
	size_t signer_key_len;
	/* The key that signed the offline signature (Destination or
	 * blinded), when there is one. */
	uint16_t off_signer_type;
	const uint8_t *off_signer_key;
	size_t off_signer_key_len;
	size_t off_signed_at;		/* offset of the signed part in buf+1 */
	size_t off_signed_len;
	bool has_dest;
	struct keys_and_cert dest;
	uint8_t key[LEASESET_HASH_BYTES];
	uint64_t published_ms;
	uint64_t expires_ms;
	uint16_t flags;
	bool has_offline;
	struct leaseset_offline offline;
	struct mapping options;
	struct leaseset_enc_key keys[LEASESET_MAX_ENC_KEYS];
	size_t n_keys;
	struct lease leases[LEASESET_MAX_META_LEASES > LEASESET_MAX_LEASES ?
			    LEASESET_MAX_META_LEASES : LEASESET_MAX_LEASES];
	size_t n_leases;
	const uint8_t *revocations;	/* n_revocations × 32 bytes */
	size_t n_revocations;
	uint16_t blinded_type;
	const uint8_t *blinded_key;
	size_t blinded_key_len;
	const uint8_t *ct;
	size_t ct_len;
};

void leaseset_free(struct leaseset *ls)
{
	if (!ls)
		return;
	mapping_clear(&ls->options);
	free(ls->buf);
	free(ls);
}

size_t leaseset_heap_bytes(const struct leaseset *ls)
{
	return alloc_cost(sizeof(*ls)) +
	       (ls->buf ? alloc_cost(ls->len + 1) : 0) +
	       mapping_heap_bytes(&ls->options);
}

int leaseset_sign_ed25519(void *ctx, uint8_t *sig, size_t sig_len,
			  const uint8_t *msg, size_t len)
{
	struct ed25519_sig s;

	if (sig_len != sizeof(s.b))
		return ERR_ARG;
	ed25519_sign(&s, ctx, msg, len);
	memcpy(sig, s.b, sizeof(s.b));
	memwipe(&s, sizeof(s));
	return 0;
}

int leaseset_sig_verify(uint16_t sig_type, const uint8_t *key, size_t key_len,
			const void *msg, size_t len, const uint8_t *sig,
			size_t sig_len)
{
	struct ed25519_pk pk;
	struct ed25519_sig s;

	/* RedDSA "verification is ordinary Ed25519" (red25519 spec). */
	if (sig_type != CERT_SIG_EDDSA_SHA512_ED25519 &&
	    sig_type != CERT_SIG_REDDSA_SHA512_ED25519)
		return ERR_UNSUPPORTED;
	if (key_len != sizeof(pk.b) || sig_len != sizeof(s.b))
		return ERR_FORMAT;
	memcpy(pk.b, key, sizeof(pk.b));
	memcpy(s.b, sig, sizeof(s.b));
	return ed25519_verify(&s, &pk, msg, len) ? 0 : ERR_BAD_SIG;
}

/* The offset of r's position inside the LeaseSet bytes. */
static size_t pos(const struct leaseset *ls, const struct breader *r)
{
	return (size_t)(r->p - (ls->buf + 1));
}

/*
 * OfflineSignature: expires (4) ‖ sigtype (2) ‖ transient key ‖ signature
 * by the signer (the Destination or the blinded key).  Afterwards the
 * transient key signs the LeaseSet.
 */
static int decode_offline(struct leaseset *ls, struct breader *r)
{
	struct leaseset_offline *o = &ls->offline;
	size_t start = pos(ls, r);

	o->expires_s = br_be32(r);
	o->sig_type = br_be16(r);
	if (r->failed)
		return ERR_TRUNCATED;
	o->transient_key_len = cert_sig_pubkey_len(o->sig_type);
	if (o->transient_key_len == 0)
		return ERR_UNSUPPORTED;
	o->transient_key = br_take(r, o->transient_key_len);
	ls->off_signed_at = start;
	ls->off_signed_len = pos(ls, r) - start;
	/* "signature ... length -> As inferred from the sigtype of the
	 * signing public key in the Destination that preceded this". */
	o->sig_len = cert_sig_len(ls->signer_type);
	o->sig = br_take(r, o->sig_len);
	if (r->failed)
		return ERR_TRUNCATED;
	ls->has_offline = true;
	ls->off_signer_type = ls->signer_type;
	ls->off_signer_key = ls->signer_key;
	ls->off_signer_key_len = ls->signer_key_len;
	ls->signer_type = o->sig_type;
	ls->signer_key = o->transient_key;
	ls->signer_key_len = o->transient_key_len;
	return 0;
}

/* The signature closes every type; nothing may follow it. */
static int decode_signature(struct leaseset *ls, struct breader *r)
{
	ls->signed_len = pos(ls, r);
	ls->sig_len = cert_sig_len(ls->signer_type);
	if (ls->sig_len == 0)
		return ERR_UNSUPPORTED;
	ls->sig = br_take(r, ls->sig_len);
	if (r->failed)
		return ERR_TRUNCATED;
	return br_left(r) ? ERR_FORMAT : 0;
}

static int decode_dest(struct leaseset *ls, struct breader *r)
{
	int ret;

	if ((ret = keys_and_cert_decode(r, &ls->dest)) != 0)
		return r->failed ? ERR_TRUNCATED : ret;
	ls->has_dest = true;
	memcpy(ls->key, ls->dest.hash, sizeof(ls->key));
	ls->signer_type = ls->dest.sig_type;
	ls->signer_key = ls->dest.sig_key;
	ls->signer_key_len = ls->dest.sig_key_len;
	return 0;
}

static int decode_ls1(struct leaseset *ls, struct breader *r)
{
	struct leaseset_enc_key *k = &ls->keys[0];
	size_t n;
	int ret;

	if ((ret = decode_dest(ls, r)) != 0)
		return ret;
	k->type = CERT_ENC_ELGAMAL;
	k->len = LEASESET1_ENC_KEY_BYTES;
	k->key = br_take(r, k->len);
	ls->n_keys = 1;
	/* "signing_key ... 128 bytes or as specified in destination's key
	 * certificate": unused, skipped. */
	br_skip(r, cert_sig_pubkey_len(ls->dest.sig_type));
	n = br_u8(r);
	if (r->failed)
		return ERR_TRUNCATED;
	if (n > LEASESET_MAX_LEASES)
		return ERR_TOO_BIG;
	for (size_t i = 0; i < n; i++) {
		struct lease *l = &ls->leases[i];
		br_copy(r, l->gateway, sizeof(l->gateway));
		l->tunnel_id = br_be32(r);
		l->end_ms = br_be64(r);
		if (i == 0 || l->end_ms < ls->published_ms)
			ls->published_ms = l->end_ms;
		if (l->end_ms > ls->expires_ms)
			ls->expires_ms = l->end_ms;
	}
	if (r->failed)
		return ERR_TRUNCATED;
	ls->n_leases = n;
	return decode_signature(ls, r);
}

/* LeaseSet2Header after the Destination (or the blinded key). */
static int decode_times(struct leaseset *ls, struct breader *r)
{
	uint32_t published = br_be32(r);
	uint16_t expires = br_be16(r);

	ls->flags = br_be16(r);
	if (r->failed)
		return ERR_TRUNCATED;
	ls->published_ms = (uint64_t)published * 1000;
	ls->expires_ms = ((uint64_t)published + expires) * 1000;
	if (ls->flags & LEASESET_FLAG_OFFLINE)
		return decode_offline(ls, r);
	return 0;
}

static int decode_enc_keys(struct leaseset *ls, struct breader *r)
{
	size_t n = br_u8(r);

	if (r->failed)
		return ERR_TRUNCATED;
	if (n == 0)
		return ERR_FORMAT;	/* "1 <= numk" */
	if (n > LEASESET_MAX_ENC_KEYS)
		return ERR_TOO_BIG;
	for (size_t i = 0; i < n; i++) {
		struct leaseset_enc_key *k = &ls->keys[i];
		size_t want;

		k->type = br_be16(r);
		k->len = br_be16(r);
		if (r->failed)
			return ERR_TRUNCATED;
		/* "keylen ... Must match the specified length of the
		 * encryption type."  Unknown types keep their length. */
		want = cert_enc_pubkey_len(k->type);
		if (want && want != k->len)
			return ERR_FORMAT;
		if (k->len == 0)
			return ERR_FORMAT;
		if (k->len > LEASESET_MAX_ENC_KEY_BYTES)
			return ERR_TOO_BIG;
		if ((k->key = br_take(r, k->len)) == NULL)
			return ERR_TRUNCATED;
	}
	ls->n_keys = n;
	return 0;
}

static int decode_leases2(struct leaseset *ls, struct breader *r, bool meta)
{
	size_t n = br_u8(r), cap = meta ? LEASESET_MAX_META_LEASES :
					  LEASESET_MAX_LEASES;

	if (r->failed)
		return ERR_TRUNCATED;
	/* "All LeaseSet2 variants require at least one Lease." */
	if (n == 0)
		return ERR_FORMAT;
	if (n > cap)
		return ERR_TOO_BIG;
	for (size_t i = 0; i < n; i++) {
		struct lease *l = &ls->leases[i];
		br_copy(r, l->gateway, sizeof(l->gateway));
		if (meta) {
			const uint8_t *f = br_take(r, META_FLAGS_BYTES);
			if (f)
				l->meta_flags = (uint32_t)f[0] << 16 |
						(uint32_t)f[1] << 8 | f[2];
			l->meta_cost = br_u8(r);
		} else {
			l->tunnel_id = br_be32(r);
		}
		l->end_ms = (uint64_t)br_be32(r) * 1000;
	}
	if (r->failed)
		return ERR_TRUNCATED;
	ls->n_leases = n;
	return 0;
}

static int decode_ls2(struct leaseset *ls, struct breader *r, bool meta)
{
	int ret;

	if ((ret = decode_dest(ls, r)) != 0 ||
	    (ret = decode_times(ls, r)) != 0)
		return ret;
	if ((ret = mapping_decode(r, LEASESET_MAX_BYTES, &ls->options)) != 0)
		return r->failed ? ERR_TRUNCATED : ret;
	if (!meta && (ret = decode_enc_keys(ls, r)) != 0)
		return ret;
	if ((ret = decode_leases2(ls, r, meta)) != 0)
		return ret;
	if (meta) {
		size_t n = br_u8(r);
		if (r->failed)
			return ERR_TRUNCATED;
		if (n > LEASESET_MAX_REVOCATIONS)
			return ERR_TOO_BIG;
		if (n && (ls->revocations =
			  br_take(r, n * LEASESET_HASH_BYTES)) == NULL)
			return ERR_TRUNCATED;
		ls->n_revocations = n;
	}
	return decode_signature(ls, r);
}

static int decode_enc(struct leaseset *ls, struct breader *r)
{
	struct sha256_ctx h;
	uint8_t st[2];
	int ret;

	ls->blinded_type = br_be16(r);
	if (r->failed)
		return ERR_TRUNCATED;
	if ((ls->blinded_key_len = cert_sig_pubkey_len(ls->blinded_type)) == 0)
		return ERR_UNSUPPORTED;
	if ((ls->blinded_key = br_take(r, ls->blinded_key_len)) == NULL)
		return ERR_TRUNCATED;
	ls->signer_type = ls->blinded_type;
	ls->signer_key = ls->blinded_key;
	ls->signer_key_len = ls->blinded_key_len;
	if ((ret = decode_times(ls, r)) != 0)
		return ret;
	ls->ct_len = br_be16(r);
	if (r->failed)
		return ERR_TRUNCATED;
	if (ls->ct_len == 0)
		return ERR_FORMAT;	/* "1 <= num" */
	if ((ls->ct = br_take(r, ls->ct_len)) == NULL)
		return ERR_TRUNCATED;
	/* The store location: SHA-256(sig type ‖ blinded key). */
	be16_put(st, ls->blinded_type);
	sha256_init(&h);
	sha256_update(&h, st, sizeof(st));
	sha256_update(&h, ls->blinded_key, ls->blinded_key_len);
	sha256_final(&h, ls->key);
	return decode_signature(ls, r);
}

int leaseset_decode(enum leaseset_type type, const uint8_t *buf, size_t len,
		    struct leaseset **out)
{
	struct leaseset *ls;
	struct breader r;
	int ret = ERR_INTERNAL;

	switch (type) {
	case LEASESET_LS1:
	case LEASESET_LS2:
	case LEASESET_ENC_LS2:
	case LEASESET_META:
		break;
	default:
		return ERR_UNSUPPORTED;
	}
	if (len > LEASESET_MAX_BYTES)
		return ERR_TOO_BIG;
	ls = xzalloc(sizeof(*ls));
	mapping_init(&ls->options);
	ls->type = type;
	ls->buf = xmalloc(len + 1);
	ls->buf[0] = (uint8_t)type;
	if (len)
		memcpy(ls->buf + 1, buf, len);
	ls->len = len;
	br_init(&r, ls->buf + 1, len);
	switch (type) {
	case LEASESET_LS1:
		ret = decode_ls1(ls, &r);
		break;
	case LEASESET_LS2:
		ret = decode_ls2(ls, &r, false);
		break;
	case LEASESET_META:
		ret = decode_ls2(ls, &r, true);
		break;
	case LEASESET_ENC_LS2:
		ret = decode_enc(ls, &r);
		break;
	}
	if (ret != 0) {
		leaseset_free(ls);
		return ret;
	}
	*out = ls;
	return 0;
}

int leaseset_verify(const struct leaseset *ls)
{
	const uint8_t *msg;
	size_t len;
	int ret;

	if (ls->has_offline &&
	    (ret = leaseset_sig_verify(ls->off_signer_type, ls->off_signer_key,
				       ls->off_signer_key_len,
				       ls->buf + 1 + ls->off_signed_at,
				       ls->off_signed_len, ls->offline.sig,
				       ls->offline.sig_len)) != 0)
		return ret;
	/* LS1 signs its bytes; the LS2 types sign the type byte first. */
	if (ls->type == LEASESET_LS1) {
		msg = ls->buf + 1;
		len = ls->signed_len;
	} else {
		msg = ls->buf;
		len = ls->signed_len + 1;
	}
	return leaseset_sig_verify(ls->signer_type, ls->signer_key,
				   ls->signer_key_len, msg, len, ls->sig,
				   ls->sig_len);
}

/* True when some lease is still usable at now_ms. */
static bool has_live_lease(const struct leaseset *ls, uint64_t now_ms)
{
	for (size_t i = 0; i < ls->n_leases; i++)
		if (ls->leases[i].end_ms + LEASESET_CLOCK_FUDGE_MS > now_ms)
			return true;
	return false;
}

int leaseset_check_time(const struct leaseset *ls, uint64_t now_ms)
{
	uint64_t max_future = LEASESET_MAX_FUTURE_MS;

	if (ls->type == LEASESET_META || ls->type == LEASESET_ENC_LS2)
		max_future = LEASESET_META_MAX_FUTURE_MS;
	if (ls->expires_ms + LEASESET_CLOCK_FUDGE_MS <= now_ms ||
	    ls->expires_ms > now_ms + max_future)
		return ERR_EXPIRED;
	if (ls->type != LEASESET_LS1 &&
	    ls->published_ms > now_ms + LEASESET_PUBLISHED_MAX_FUTURE_MS)
		return ERR_EXPIRED;
	if ((ls->type == LEASESET_LS1 || ls->type == LEASESET_LS2) &&
	    !has_live_lease(ls, now_ms))
		return ERR_EXPIRED;
	if (ls->has_offline &&
	    (uint64_t)ls->offline.expires_s * 1000 <= now_ms)
		return ERR_EXPIRED;
	return 0;
}

enum leaseset_type leaseset_type(const struct leaseset *ls)
{
	return ls->type;
}

const uint8_t *leaseset_bytes(const struct leaseset *ls, size_t *len)
{
	*len = ls->len;
	return ls->buf + 1;
}

const uint8_t *leaseset_key(const struct leaseset *ls)
{
	return ls->key;
}

const struct keys_and_cert *leaseset_destination(const struct leaseset *ls)
{
	return ls->has_dest ? &ls->dest : NULL;
}

uint64_t leaseset_published_ms(const struct leaseset *ls)
{
	return ls->published_ms;
}

uint64_t leaseset_expires_ms(const struct leaseset *ls)
{
	return ls->expires_ms;
}

uint16_t leaseset_flags(const struct leaseset *ls)
{
	return ls->flags;
}

bool leaseset_is_unpublished(const struct leaseset *ls)
{
	return (ls->flags & LEASESET_FLAG_UNPUBLISHED) != 0;
}

bool leaseset_is_newer(const struct leaseset *a, const struct leaseset *b)
{
	return a->published_ms > b->published_ms;
}

size_t leaseset_lease_count(const struct leaseset *ls)
{
	return ls->n_leases;
}

const struct lease *leaseset_lease(const struct leaseset *ls, size_t i)
{
	return i < ls->n_leases ? &ls->leases[i] : NULL;
}

size_t leaseset_enc_key_count(const struct leaseset *ls)
{
	return ls->n_keys;
}

const struct leaseset_enc_key *leaseset_enc_key(const struct leaseset *ls,
						size_t i)
{
	return i < ls->n_keys ? &ls->keys[i] : NULL;
}

const struct mapping *leaseset_options(const struct leaseset *ls)
{
	return &ls->options;
}

size_t leaseset_revocation_count(const struct leaseset *ls)
{
	return ls->n_revocations;
}

const uint8_t *leaseset_revocation(const struct leaseset *ls, size_t i)
{
	return i < ls->n_revocations ?
		ls->revocations + i * LEASESET_HASH_BYTES : NULL;
}

const struct leaseset_offline *leaseset_offline(const struct leaseset *ls)
{
	return ls->has_offline ? &ls->offline : NULL;
}

const uint8_t *leaseset_blinded_key(const struct leaseset *ls,
				    uint16_t *sig_type, size_t *len)
{
	if (ls->type != LEASESET_ENC_LS2)
		return NULL;
	*sig_type = ls->blinded_type;
	*len = ls->blinded_key_len;
	return ls->blinded_key;
}

const uint8_t *leaseset_ciphertext(const struct leaseset *ls, size_t *len)
{
	if (ls->type != LEASESET_ENC_LS2)
		return NULL;
	*len = ls->ct_len;
	return ls->ct;
}

/* ---- encoding ---- */

void leaseset_offline_signed_bytes(uint32_t expires_s, uint16_t sig_type,
				   const uint8_t *transient_key, size_t key_len,
				   struct bbuf *out)
{
	bbuf_be32(out, expires_s);
	bbuf_be16(out, sig_type);
	bbuf_put(out, transient_key, key_len);
}

/* Append the OfflineSignature signed by a key of signer_type. */
static int encode_offline(const struct leaseset_offline *o,
			  uint16_t signer_type, struct bbuf *b)
{
	if (cert_sig_pubkey_len(o->sig_type) != o->transient_key_len ||
	    o->transient_key_len == 0 ||
	    cert_sig_len(signer_type) != o->sig_len)
		return ERR_ARG;
	leaseset_offline_signed_bytes(o->expires_s, o->sig_type,
				      o->transient_key, o->transient_key_len,
				      b);
	bbuf_put(b, o->sig, o->sig_len);
	return 0;
}

/*
 * b holds the type byte and the unsigned LeaseSet: sign it (from byte
 * skip on) with a key of signer_type, then append the LeaseSet and its
 * signature to out.
 */
static int finish_encode(struct bbuf *b, size_t skip, uint16_t signer_type,
			 leaseset_sign_fn sign, void *ctx, struct bbuf *out)
{
	size_t sig_len = cert_sig_len(signer_type);
	uint8_t *sig;
	int ret;

	if (sig_len == 0)
		return ERR_ARG;
	if (b->len - 1 + sig_len > LEASESET_MAX_BYTES)
		return ERR_TOO_BIG;
	sig = xmalloc(sig_len);
	if ((ret = sign(ctx, sig, sig_len, b->data + skip,
			b->len - skip)) == 0) {
		bbuf_put(out, b->data + 1, b->len - 1);
		bbuf_put(out, sig, sig_len);
	}
	free(sig);
	return ret;
}

static int encode_ls2_body(const struct leaseset2_params *p, struct bbuf *b)
{
	bool meta = p->type == LEASESET_META;
	int ret;

	if (p->options && (ret = mapping_encode(p->options, b)) != 0)
		return ret;
	if (!p->options)
		bbuf_be16(b, 0);
	if (!meta) {
		if (p->n_keys == 0 || p->n_keys > LEASESET_MAX_ENC_KEYS)
			return ERR_ARG;
		bbuf_u8(b, (uint8_t)p->n_keys);
		for (size_t i = 0; i < p->n_keys; i++) {
			bbuf_be16(b, p->keys[i].type);
			bbuf_be16(b, p->keys[i].len);
			bbuf_put(b, p->keys[i].key, p->keys[i].len);
		}
	}
	if (p->n_leases == 0 ||
	    p->n_leases > (meta ? LEASESET_MAX_META_LEASES :
				  LEASESET_MAX_LEASES))
		return ERR_ARG;
	bbuf_u8(b, (uint8_t)p->n_leases);
	for (size_t i = 0; i < p->n_leases; i++) {
		const struct lease *l = &p->leases[i];
		bbuf_put(b, l->gateway, sizeof(l->gateway));
		if (meta) {
			bbuf_u8(b, (uint8_t)(l->meta_flags >> 16));
			bbuf_be16(b, (uint16_t)l->meta_flags);
			bbuf_u8(b, l->meta_cost);
		} else {
			bbuf_be32(b, l->tunnel_id);
		}
		bbuf_be32(b, (uint32_t)(l->end_ms / 1000));
	}
	if (meta) {
		if (p->n_revocations > LEASESET_MAX_REVOCATIONS)
			return ERR_ARG;
		bbuf_u8(b, (uint8_t)p->n_revocations);
		for (size_t i = 0; i < p->n_revocations; i++)
			bbuf_put(b, p->revocations[i], LEASESET_HASH_BYTES);
	}
	return 0;
}

int leaseset2_encode(const struct leaseset2_params *p, leaseset_sign_fn sign,
		     void *ctx, struct bbuf *out)
{
	struct bbuf b = BBUF_INIT;
	uint16_t flags = p->flags & ~LEASESET_FLAG_OFFLINE;
	uint16_t signer;
	int ret;

	if ((p->type != LEASESET_LS2 && p->type != LEASESET_META) || !p->dest)
		return ERR_ARG;
	if (p->offline)
		flags |= LEASESET_FLAG_OFFLINE;
	bbuf_u8(&b, (uint8_t)p->type);
	bbuf_put(&b, p->dest->raw, p->dest->len);
	bbuf_be32(&b, p->published_s);
	bbuf_be16(&b, p->expires_s);
	bbuf_be16(&b, flags);
	signer = p->dest->sig_type;
	if (p->offline) {
		if ((ret = encode_offline(p->offline, signer, &b)) != 0)
			goto out;
		signer = p->offline->sig_type;
	}
	if ((ret = encode_ls2_body(p, &b)) != 0)
		goto out;
	ret = finish_encode(&b, 0, signer, sign, ctx, out);
out:
	bbuf_free(&b);
	return ret;
}

int leaseset1_encode(const struct keys_and_cert *dest,
		     const uint8_t enc_key[LEASESET1_ENC_KEY_BYTES],
		     const uint8_t *signing_key, const struct lease *leases,
		     size_t n_leases, leaseset_sign_fn sign, void *ctx,
		     struct bbuf *out)
{
	struct bbuf b = BBUF_INIT;
	int ret;

	if (n_leases > LEASESET_MAX_LEASES)
		return ERR_ARG;
	bbuf_u8(&b, LEASESET_LS1);
	bbuf_put(&b, dest->raw, dest->len);
	bbuf_put(&b, enc_key, LEASESET1_ENC_KEY_BYTES);
	bbuf_put(&b, signing_key, cert_sig_pubkey_len(dest->sig_type));
	bbuf_u8(&b, (uint8_t)n_leases);
	for (size_t i = 0; i < n_leases; i++) {
		bbuf_put(&b, leases[i].gateway, LEASESET_HASH_BYTES);
		bbuf_be32(&b, leases[i].tunnel_id);
		bbuf_be64(&b, leases[i].end_ms);
	}
	/* LS1 signs its bytes without the type byte. */
	ret = finish_encode(&b, 1, dest->sig_type, sign, ctx, out);
	bbuf_free(&b);
	return ret;
}

int leaseset_enc_encode(uint16_t blinded_sig_type, const uint8_t *blinded_key,
			uint32_t published_s, uint16_t expires_s,
			uint16_t flags, const struct leaseset_offline *offline,
			const uint8_t *ciphertext, size_t clen,
			leaseset_sign_fn sign, void *ctx, struct bbuf *out)
{
	struct bbuf b = BBUF_INIT;
	size_t key_len = cert_sig_pubkey_len(blinded_sig_type);
	uint16_t signer = blinded_sig_type;
	int ret;

	if (key_len == 0 || clen == 0 || clen > UINT16_MAX)
		return ERR_ARG;
	flags &= ~LEASESET_FLAG_OFFLINE;
	if (offline)
		flags |= LEASESET_FLAG_OFFLINE;
	bbuf_u8(&b, LEASESET_ENC_LS2);
	bbuf_be16(&b, blinded_sig_type);
	bbuf_put(&b, blinded_key, key_len);
	bbuf_be32(&b, published_s);
	bbuf_be16(&b, expires_s);
	bbuf_be16(&b, flags);
	if (offline) {
		if ((ret = encode_offline(offline, signer, &b)) != 0)
			goto out;
		signer = offline->sig_type;
	}
	bbuf_be16(&b, (uint16_t)clen);
	bbuf_put(&b, ciphertext, clen);
	ret = finish_encode(&b, 0, signer, sign, ctx, out);
out:
	bbuf_free(&b);
	return ret;
}
