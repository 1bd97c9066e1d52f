/*
 * ECIES-X25519 tunnel build records (tunnels/build_record.h), after
 * geti2p.net/spec/tunnel-creation-ecies ("Long Record Specification",
 * "Short Record Specification", "KDF", "Record Encryption") and
 * PROTOCOLS.md 2.8.  The Noise_N steps drive crypto/noise.h's symmetric
 * state; the participant's DH goes through the keystore.
 */
#include "config.h"
#include "tunnels/build_record.h"
#include "crypto/aes.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/chacha.h"
#include "crypto/hash.h"
#include "crypto/rand.h"
#include "router/mapping.h"

#include <string.h>

/* "Set protocol_name = "Noise_N_25519_ChaChaPoly_SHA256" (31 bytes ...)
 * Pad to 32 bytes.  Do NOT hash it". */
static const char TB_PROTOCOL[] = "Noise_N_25519_ChaChaPoly_SHA256";

/* Long plaintext offsets ("Request Record Unencrypted"). */
enum {
	L_RECV = 0, L_NEXT_ID = 4, L_NEXT_IDENT = 8, L_LAYER_KEY = 40,
	L_IV_KEY = 72, L_REPLY_KEY = 104, L_REPLY_IV = 136, L_FLAGS = 152,
	L_MORE_FLAGS = 153, L_TIME = 156, L_EXPIRY = 160, L_MSG_ID = 164,
	L_OPTIONS = 168
};
/* Short plaintext offsets ("Short Request Record Unencrypted"). */
enum {
	S_RECV = 0, S_NEXT_ID = 4, S_NEXT_IDENT = 8, S_FLAGS = 40,
	S_MORE_FLAGS = 41, S_LAYER_TYPE = 43, S_TIME = 44, S_EXPIRY = 48,
	S_MSG_ID = 52, S_OPTIONS = 56
};

void tunnel_build_keys_wipe(struct tunnel_build_keys *k)
{
	memwipe(k, sizeof(*k));
}

size_t tunnel_build_record_bytes(enum tunnel_build_kind kind)
{
	return kind == TUNNEL_BUILD_LONG ? TUNNEL_BUILD_LONG_RECORD_BYTES
					 : TUNNEL_BUILD_SHORT_RECORD_BYTES;
}

size_t tunnel_build_plain_bytes(enum tunnel_build_kind kind)
{
	return kind == TUNNEL_BUILD_LONG ? TUNNEL_BUILD_LONG_PLAIN_BYTES
					 : TUNNEL_BUILD_SHORT_PLAIN_BYTES;
}

static size_t options_max(enum tunnel_build_kind kind)
{
	return kind == TUNNEL_BUILD_LONG ? TUNNEL_BUILD_LONG_OPTIONS_MAX_BYTES
					 : TUNNEL_BUILD_SHORT_OPTIONS_MAX_BYTES;
}

static size_t reply_plain_bytes(enum tunnel_build_kind kind)
{
	return kind == TUNNEL_BUILD_LONG ? TUNNEL_BUILD_LONG_REPLY_PLAIN_BYTES
					 : TUNNEL_BUILD_SHORT_REPLY_PLAIN_BYTES;
}

/* Append opts (or the empty Mapping) to b, within max bytes. */
static int options_put(const struct mapping *opts, size_t max, struct bbuf *b)
{
	if (!opts || opts->n == 0) {
		bbuf_be16(b, 0);	/* "this is two bytes 0x00 0x00" */
		return 0;
	}
	if (mapping_encoded_len(opts) > max)
		return ERR_TOO_BIG;
	return mapping_encode(opts, b);
}

int tunnel_build_request_encode(enum tunnel_build_kind kind,
				const struct tunnel_build_request *req,
				const struct mapping *opts, uint8_t *out)
{
	const bool lng = kind == TUNNEL_BUILD_LONG;
	const size_t plen = tunnel_build_plain_bytes(kind);
	const size_t opt_at = lng ? L_OPTIONS : S_OPTIONS;
	struct bbuf ob = BBUF_INIT;
	int r;

	/* "tunnel ID to receive messages as, nonzero"; "next tunnel ID,
	 * nonzero"; "Both cannot be set at once." */
	if (req->receive_id == 0 || req->next_id == 0 ||
	    (req->flags & TUNNEL_BUILD_FLAG_IBGW &&
	     req->flags & TUNNEL_BUILD_FLAG_OBEP))
		return ERR_ARG;
	if ((r = options_put(opts, options_max(kind), &ob)) != 0)
		goto out;
	rand_bytes(out, plen);		/* "random padding" */
	memset(out, 0, opt_at);
	be32_put(out + L_RECV, req->receive_id);
	be32_put(out + L_NEXT_ID, req->next_id);
	memcpy(out + L_NEXT_IDENT, req->next_ident, 32);
	if (lng) {
		memcpy(out + L_LAYER_KEY, req->layer_key, 32);
		memcpy(out + L_IV_KEY, req->iv_key, 32);
		memcpy(out + L_REPLY_KEY, req->reply_key, 32);
		memcpy(out + L_REPLY_IV, req->reply_iv, 16);
		out[L_FLAGS] = req->flags;	/* 153-155 stay zero */
		be32_put(out + L_TIME, req->request_time_min);
		be32_put(out + L_EXPIRY, req->expiration_s);
		be32_put(out + L_MSG_ID, req->next_msg_id);
	} else {
		out[S_FLAGS] = req->flags;	/* 41-42 stay zero */
		out[S_LAYER_TYPE] = req->layer_type;
		be32_put(out + S_TIME, req->request_time_min);
		be32_put(out + S_EXPIRY, req->expiration_s);
		be32_put(out + S_MSG_ID, req->next_msg_id);
	}
	memcpy(out + opt_at, ob.data, ob.len);
out:
	bbuf_free(&ob);
	return r;
}

int tunnel_build_request_decode(enum tunnel_build_kind kind,
				const uint8_t *plain, size_t len,
				struct tunnel_build_request *out)
{
	const bool lng = kind == TUNNEL_BUILD_LONG;
	struct tunnel_build_request q;
	struct mapping m = MAPPING_INIT;
	struct breader r;
	size_t opt_at = lng ? L_OPTIONS : S_OPTIONS, olen;
	int rc;

	if (len != tunnel_build_plain_bytes(kind))
		return len < tunnel_build_plain_bytes(kind) ? ERR_TRUNCATED
							    : ERR_FORMAT;
	memset(&q, 0, sizeof(q));
	q.receive_id = be32_get(plain + L_RECV);
	q.next_id = be32_get(plain + L_NEXT_ID);
	memcpy(q.next_ident, plain + L_NEXT_IDENT, 32);
	if (lng) {
		memcpy(q.layer_key, plain + L_LAYER_KEY, 32);
		memcpy(q.iv_key, plain + L_IV_KEY, 32);
		memcpy(q.reply_key, plain + L_REPLY_KEY, 32);
		memcpy(q.reply_iv, plain + L_REPLY_IV, 16);
		q.flags = plain[L_FLAGS];
		q.layer_type = TUNNEL_BUILD_LAYER_AES;
		q.request_time_min = be32_get(plain + L_TIME);
		q.expiration_s = be32_get(plain + L_EXPIRY);
		q.next_msg_id = be32_get(plain + L_MSG_ID);
	} else {
		q.flags = plain[S_FLAGS];
		q.layer_type = plain[S_LAYER_TYPE];
		q.request_time_min = be32_get(plain + S_TIME);
		q.expiration_s = be32_get(plain + S_EXPIRY);
		q.next_msg_id = be32_get(plain + S_MSG_ID);
	}
	if (q.receive_id == 0 || q.next_id == 0 ||
	    (q.flags & TUNNEL_BUILD_FLAG_IBGW && q.flags & TUNNEL_BUILD_FLAG_OBEP)) {
		rc = ERR_FORMAT;
		goto out;
	}
	/* The Mapping's size field is bounded by the kind's limit and by what
	 * is left of the plaintext; the entries are parsed to reject junk. */
	br_init(&r, plain + opt_at, len - opt_at);
	if ((rc = mapping_decode(&r, options_max(kind) - 2, &m)) != 0) {
		rc = ERR_FORMAT;
		goto out;
	}
	olen = (len - opt_at) - br_left(&r);
	memcpy(q.options, plain + opt_at, olen);
	q.options_len = olen;
	*out = q;
out:
	mapping_clear(&m);
	memwipe(&q, sizeof(q));
	return rc;
}

int tunnel_build_request_options(const struct tunnel_build_request *req,
				 struct mapping *out)
{
	struct breader r;

	br_init(&r, req->options, req->options_len);
	return mapping_decode(&r, TUNNEL_BUILD_OPTIONS_MAX_BYTES - 2, out);
}

int tunnel_build_opts_set_ticket(struct mapping *m, const uint8_t *ticket,
				 size_t len)
{
	char v[B64_ENC_LEN(TUNNEL_BUILD_TICKET_MAX_BYTES)];
	int r;

	if (len == 0)
		return ERR_ARG;
	if (len > TUNNEL_BUILD_TICKET_MAX_BYTES)
		return ERR_TOO_BIG;
	if ((r = b64_encode(v, sizeof(v), ticket, len)) != 0)
		return r;
	return mapping_set(m, TUNNEL_BUILD_OPT_TICKET, v);
}

int tunnel_build_request_ticket(const struct tunnel_build_request *req,
				uint8_t *out, size_t outmax, size_t *len)
{
	struct mapping m = MAPPING_INIT;
	uint8_t buf[TUNNEL_BUILD_TICKET_MAX_BYTES];
	const char *v;
	size_t n;
	int r;

	if (req->options_len <= 2)
		return ERR_NOT_FOUND;
	if (tunnel_build_request_options(req, &m) != 0) {
		r = ERR_FORMAT;
		goto out;
	}
	if (!(v = mapping_get(&m, TUNNEL_BUILD_OPT_TICKET))) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	if (b64_decode(buf, sizeof(buf), &n, v, strlen(v)) != 0 || n == 0 ||
	    n > outmax) {
		r = ERR_FORMAT;
		goto out;
	}
	memcpy(out, buf, n);
	*len = n;
	r = 0;
out:
	mapping_clear(&m);
	return r;
}

int tunnel_topup_encode(uint32_t tunnel_id, const uint8_t *const *tk,
			const size_t *len, size_t n, struct bbuf *out)
{
	if (n == 0 || n > TUNNEL_TOPUP_MAX_TICKETS || tunnel_id == 0)
		return ERR_ARG;
	for (size_t i = 0; i < n; i++) {
		if (len[i] == 0)
			return ERR_ARG;
		if (len[i] > TUNNEL_BUILD_TICKET_MAX_BYTES)
			return ERR_TOO_BIG;
	}
	bbuf_put(out, TUNNEL_TOPUP_MAGIC, 4);
	bbuf_be32(out, tunnel_id);
	bbuf_u8(out, (uint8_t)n);
	for (size_t i = 0; i < n; i++) {
		bbuf_u8(out, (uint8_t)len[i]);
		bbuf_put(out, tk[i], len[i]);
	}
	return 0;
}

int tunnel_topup_decode(const uint8_t *in, size_t len,
			struct tunnel_topup *out)
{
	struct tunnel_topup t;
	struct breader r;
	const uint8_t *magic;

	br_init(&r, in, len);
	magic = br_take(&r, 4);
	if (r.failed)
		return ERR_TRUNCATED;
	if (memcmp(magic, TUNNEL_TOPUP_MAGIC, 4) != 0)
		return ERR_NOT_FOUND;
	memset(&t, 0, sizeof(t));
	t.tunnel_id = br_be32(&r);
	t.n = br_u8(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (t.tunnel_id == 0 || t.n == 0 || t.n > TUNNEL_TOPUP_MAX_TICKETS)
		return ERR_FORMAT;
	for (size_t i = 0; i < t.n; i++) {
		t.len[i] = br_u8(&r);
		if (!r.failed && (t.len[i] == 0 ||
				  t.len[i] > TUNNEL_BUILD_TICKET_MAX_BYTES))
			return ERR_FORMAT;
		t.tk[i] = br_take(&r, t.len[i]);
		if (r.failed)
			return ERR_TRUNCATED;
	}
	if (br_left(&r) != 0)
		return ERR_TOO_BIG;
	*out = t;
	return 0;
}

/* HKDF(ck, ZEROLEN, info, 64): ck = out[0:32], *second = out[32:64]. */
static void kdf_step(uint8_t ck[32], const char *info, uint8_t second[32])
{
	uint8_t o[64];

	hkdf_sha256(o, sizeof(o), ck, 32, NULL, 0, info, strlen(info));
	memcpy(ck, o, 32);
	memcpy(second, o + 32, 32);
	memwipe(o, sizeof(o));
}

/*
 * "KDF" (short records), from the ck left by the request:
 *   keydata = HKDF(ck, ZEROLEN, "SMTunnelReplyKey", 64)
 *   replyKey = keydata[32:63]; ck = keydata[0:31]
 *   keydata = HKDF(ck, ZEROLEN, "SMTunnelLayerKey", 64)
 *   layerKey = keydata[32:63]
 *   non-OBEP: ivKey = keydata[0:31]
 *   OBEP: ck = keydata[0:31]; keydata = HKDF(ck, ZEROLEN, "TunnelLayerIVKey",
 *   64); ivKey = keydata[32:63]; ck = keydata[0:31]; keydata = HKDF(ck,
 *   ZEROLEN, "RGarlicKeyAndTag", 64); garlicReplyKey = keydata[32:63];
 *   garlicReplyTag = keydata[0:7]
 * k->ck keeps the request's chaining key (the short reply does not use it).
 */
static void short_kdf(struct tunnel_build_keys *k, bool obep)
{
	uint8_t ck[32], gk[32];

	memcpy(ck, k->ck, 32);
	kdf_step(ck, "SMTunnelReplyKey", k->reply_key);
	kdf_step(ck, "SMTunnelLayerKey", k->layer_key);
	memset(k->reply_iv, 0, sizeof(k->reply_iv));
	if (!obep) {
		memcpy(k->iv_key, ck, 32);
		k->has_garlic = false;
	} else {
		kdf_step(ck, "TunnelLayerIVKey", k->iv_key);
		kdf_step(ck, "RGarlicKeyAndTag", gk);
		memcpy(k->garlic_key, gk, 32);
		memcpy(k->garlic_tag, ck, 8);
		k->has_garlic = true;
	}
	memwipe(ck, sizeof(ck));
	memwipe(gk, sizeof(gk));
}

static void keys_from_request(struct tunnel_build_keys *k,
			      enum tunnel_build_kind kind,
			      const struct tunnel_build_request *req)
{
	if (kind == TUNNEL_BUILD_SHORT) {
		short_kdf(k, req->flags & TUNNEL_BUILD_FLAG_OBEP);
		return;
	}
	memcpy(k->layer_key, req->layer_key, 32);
	memcpy(k->iv_key, req->iv_key, 32);
	memcpy(k->reply_key, req->reply_key, 32);
	memcpy(k->reply_iv, req->reply_iv, 16);
	k->has_garlic = false;
}

/* InitializeSymmetric(name); MixHash(null prologue); MixHash(hepk). */
static void noise_base(struct noise_sym *s, const struct x25519_pk *hop_pk)
{
	noise_sym_init(s, TB_PROTOCOL);
	noise_sym_mix_hash(s, NULL, 0);
	noise_sym_mix_hash(s, hop_pk->b, 32);
}

int tunnel_build_record_encrypt(enum tunnel_build_kind kind,
				const struct tunnel_build_request *req,
				const struct mapping *opts,
				const uint8_t hop_hash[32],
				const struct x25519_pk *hop_pk,
				const struct x25519_sk *eph, uint8_t *out,
				struct tunnel_build_keys *keys)
{
	const size_t plen = tunnel_build_plain_bytes(kind);
	uint8_t plain[TUNNEL_BUILD_MAX_PLAIN_BYTES], dh[32];
	struct tunnel_build_keys k;
	struct x25519_sk esk;
	struct x25519_pk epk;
	struct noise_sym s;
	int r;

	memset(&k, 0, sizeof(k));
	if ((r = tunnel_build_request_encode(kind, req, opts, plain)) != 0)
		goto out;
	if (eph)
		esk = *eph;
	else
		x25519_keygen(&esk, &epk);
	x25519_pk_from_sk(&epk, &esk);
	noise_base(&s, hop_pk);
	/* "MixHash(sepk)"; "sharedSecret = DH(sesk, hepk)"; "MixKey". */
	noise_sym_mix_hash(&s, epk.b, 32);
	if ((r = x25519_dh(dh, &esk, hop_pk)) != 0)
		goto out;
	noise_sym_mix_key(&s, dh, sizeof(dh));
	/* "ciphertext = ENCRYPT(k, n, plaintext, ad)"; "MixHash(ciphertext)" */
	if ((r = noise_sym_encrypt_and_hash(&s, out + TUNNEL_BUILD_CIPHER_OFFSET,
					    plain, plen)) != 0)
		goto out;
	memcpy(out, hop_hash, TUNNEL_BUILD_HASH_PREFIX_BYTES);
	memcpy(out + TUNNEL_BUILD_EPH_OFFSET, epk.b, 32);
	memcpy(k.ck, s.ck, 32);
	memcpy(k.h, s.h, 32);
	keys_from_request(&k, kind, req);
	*keys = k;
out:
	noise_sym_wipe(&s);
	memwipe(plain, sizeof(plain));
	memwipe(dh, sizeof(dh));
	memwipe(&esk, sizeof(esk));
	tunnel_build_keys_wipe(&k);
	return r;
}

void tunnel_build_responder_init(struct tunnel_build_responder *r,
				 const struct keystore *ks)
{
	struct x25519_pk pk;

	r->ks = ks;
	keystore_x25519_pk(ks, KEYSTORE_X_IDENTITY, &pk);
	noise_base(&r->base, &pk);
}

int tunnel_build_record_decrypt(const struct tunnel_build_responder *rs,
				enum tunnel_build_kind kind,
				const uint8_t *record,
				struct tunnel_build_request *req,
				struct tunnel_build_keys *keys)
{
	const size_t plen = tunnel_build_plain_bytes(kind);
	uint8_t plain[TUNNEL_BUILD_MAX_PLAIN_BYTES], dh[32];
	struct tunnel_build_request q;
	struct tunnel_build_keys k;
	struct x25519_pk epk;
	struct noise_sym s = rs->base;
	int r;

	memset(&k, 0, sizeof(k));
	memcpy(epk.b, record + TUNNEL_BUILD_EPH_OFFSET, 32);
	noise_sym_mix_hash(&s, epk.b, 32);
	/* "sharedSecret = ... DH(hesk, sepk)": through the keystore. */
	if ((r = keystore_dh(rs->ks, KEYSTORE_X_IDENTITY, dh, &epk)) != 0)
		goto out;
	noise_sym_mix_key(&s, dh, sizeof(dh));
	if ((r = noise_sym_decrypt_and_hash(&s, plain,
					    record + TUNNEL_BUILD_CIPHER_OFFSET,
					    plen + NOISE_TAG_BYTES)) != 0)
		goto out;
	if ((r = tunnel_build_request_decode(kind, plain, plen, &q)) != 0)
		goto out;
	memcpy(k.ck, s.ck, 32);
	memcpy(k.h, s.h, 32);
	keys_from_request(&k, kind, &q);
	*req = q;
	*keys = k;
out:
	noise_sym_wipe(&s);
	memwipe(plain, sizeof(plain));
	memwipe(dh, sizeof(dh));
	memwipe(&q, sizeof(q));
	tunnel_build_keys_wipe(&k);
	return r;
}

int tunnel_build_reply_encrypt(enum tunnel_build_kind kind, uint8_t *record,
			       unsigned index,
			       const struct tunnel_build_keys *keys,
			       const struct mapping *opts, uint8_t code)
{
	const size_t plen = reply_plain_bytes(kind);
	uint8_t plain[TUNNEL_BUILD_LONG_REPLY_PLAIN_BYTES];
	struct bbuf ob = BBUF_INIT;
	int r;

	/* "bytes 0-x: Tunnel Build Reply Options (Mapping) ... x-510: Random
	 * padding, byte 511: Reply byte" (201 for short records). */
	if ((r = options_put(opts, plen - 1, &ob)) != 0)
		goto out;
	rand_bytes(plain, plen);
	memcpy(plain, ob.data, ob.len);
	plain[plen - 1] = code;
	if (kind == TUNNEL_BUILD_LONG)
		/* "k = chainkey from build request, n = 0, ad = h" */
		chachapoly_encrypt_n(record, keys->ck, 0, keys->h, 32, plain,
				     plen);
	else
		/* "k = replyKey from KDF above, n = record number 0-7" */
		chachapoly_encrypt_n(record, keys->reply_key, index, keys->h,
				     32, plain, plen);
out:
	memwipe(plain, sizeof(plain));
	bbuf_free(&ob);
	return r;
}

int tunnel_build_reply_decrypt(enum tunnel_build_kind kind, uint8_t *record,
			       unsigned index,
			       const struct tunnel_build_keys *keys,
			       uint8_t *code)
{
	const size_t plen = reply_plain_bytes(kind);
	int r;

	if (kind == TUNNEL_BUILD_LONG)
		r = chachapoly_decrypt_n(record, keys->ck, 0, keys->h, 32,
					 record, plen + CHACHAPOLY_TAG_BYTES);
	else
		r = chachapoly_decrypt_n(record, keys->reply_key, index,
					 keys->h, 32, record,
					 plen + CHACHAPOLY_TAG_BYTES);
	if (r != 0)
		return r;
	*code = record[plen - 1];
	return 0;
}

int tunnel_build_records_layer(enum tunnel_build_kind kind, uint8_t *records,
			       unsigned n, uint32_t mask,
			       const struct tunnel_build_keys *keys,
			       bool forward)
{
	const size_t rlen = tunnel_build_record_bytes(kind);
	struct aes256_ctx *aes = NULL;
	uint8_t iv[16], nonce[CHACHAPOLY_NONCE_BYTES];
	int r = 0;

	for (unsigned i = 0; i < n && r == 0; i++) {
		uint8_t *rec = records + (size_t)i * rlen;

		if (!(mask & (1u << i)))
			continue;
		if (kind == TUNNEL_BUILD_SHORT) {
			/* "iv = 12 bytes, all zeros except iv[4] = n" */
			chachapoly_nonce(nonce, i);
			chacha20_xor(rec, rec, rlen, keys->reply_key, nonce, 1);
			continue;
		}
		if (!aes)
			aes = aes256_new(keys->reply_key);
		/* "AES256/CBC ... for each record, without chaining across
		 * multiple records": the IV restarts for every record. */
		memcpy(iv, keys->reply_iv, 16);
		r = forward ? aes256_cbc_encrypt(aes, iv, rec, rlen)
			    : aes256_cbc_decrypt(aes, iv, rec, rlen);
	}
	aes256_free(aes);
	memwipe(iv, sizeof(iv));
	return r;
}
