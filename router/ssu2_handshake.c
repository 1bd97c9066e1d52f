/*
 * SSU2 packet crypto (router/ssu2_handshake.h; geti2p.net/spec/ssu2):
 * header protection, out-of-session AEAD, the Noise XK handshake with the
 * SSU2 deviations (headers mixed into h, ChaCha20-obfuscated ephemeral
 * keys, per-phase header keys), SessionConfirmed fragmentation and the
 * data-phase packet format.  Pure functions: no sockets, no clocks.
 */
#include "config.h"
#include "router/ssu2_handshake.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/chacha.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

enum {
	HS_FAILED,
	HS_A_INIT,		/* Alice: next, write SessionRequest */
	HS_A_REQ_SENT,		/* read SessionCreated */
	HS_A_CREATED,		/* write SessionConfirmed */
	HS_B_INIT,		/* Bob: read SessionRequest */
	HS_B_REQ_READ,		/* write SessionCreated */
	HS_B_CREATED_SENT,	/* read SessionConfirmed */
	HS_DONE,
};

/* ---- headers ---- */

void ssu2_long_hdr_encode(const struct ssu2_long_hdr *h,
			  uint8_t out[SSU2_LONG_HEADER_BYTES])
{
	be64_put(out, h->dst_id);
	be32_put(out + 8, h->pkt_num);
	out[12] = h->type;
	out[13] = h->ver;
	out[14] = h->netid;
	out[15] = h->flag;
	be64_put(out + 16, h->src_id);
	be64_put(out + 24, h->token);
}

void ssu2_long_hdr_decode(const uint8_t in[SSU2_LONG_HEADER_BYTES],
			  struct ssu2_long_hdr *out)
{
	out->dst_id = be64_get(in);
	out->pkt_num = be32_get(in + 8);
	out->type = in[12];
	out->ver = in[13];
	out->netid = in[14];
	out->flag = in[15];
	out->src_id = be64_get(in + 16);
	out->token = be64_get(in + 24);
}

void ssu2_short_hdr_encode(const struct ssu2_short_hdr *h,
			   uint8_t out[SSU2_SHORT_HEADER_BYTES])
{
	be64_put(out, h->dst_id);
	be32_put(out + 8, h->pkt_num);
	out[12] = h->type;
	memcpy(out + 13, h->flags, 3);
}

void ssu2_short_hdr_decode(const uint8_t in[SSU2_SHORT_HEADER_BYTES],
			   struct ssu2_short_hdr *out)
{
	out->dst_id = be64_get(in);
	out->pkt_num = be32_get(in + 8);
	out->type = in[12];
	memcpy(out->flags, in + 13, 3);
}

bool ssu2_type_is_long(uint8_t type)
{
	switch (type) {
	case SSU2_SESSION_REQUEST:
	case SSU2_SESSION_CREATED:
	case SSU2_PEER_TEST:
	case SSU2_RETRY:
	case SSU2_TOKEN_REQUEST:
	case SSU2_HOLE_PUNCH:
		return true;
	default:
		return false;
	}
}

/* ---- header protection ---- */

/* "mask = ChaCha20.encrypt(k, iv, {0 x 8})" with block counter 1
 * (PROTOCOLS.md 0.2: raw ChaCha20 in I2P starts at counter 1). */
static void hp_mask(uint8_t *dst, const uint8_t k[32], const uint8_t iv[12])
{
	chacha20_xor(dst, dst, 8, k, iv, 1);
}

void ssu2_hp_part1(uint8_t *pkt, size_t len, const uint8_t k1[32])
{
	if (BUG(len < SSU2_MIN_PACKET_BYTES))
		return;
	/* "iv = packet[len-24:len-13]" */
	hp_mask(pkt, k1, pkt + len - 24);
}

void ssu2_hp_part2(uint8_t *pkt, size_t len, const uint8_t k2[32])
{
	if (BUG(len < SSU2_MIN_PACKET_BYTES))
		return;
	/* "iv = packet[len-12:len-1]" */
	hp_mask(pkt + 8, k2, pkt + len - 12);
}

void ssu2_hp_long(uint8_t *pkt, size_t len, const uint8_t k2[32], size_t n)
{
	static const uint8_t zero_iv[12];

	if (BUG(len < 16 + n + 24))
		return;
	chacha20_xor(pkt + 16, pkt + 16, n, k2, zero_iv, 1);
}

uint64_t ssu2_pkt_dst_id(const uint8_t *pkt)
{
	return be64_get(pkt);
}

static void protect_long(uint8_t *pkt, size_t len, const uint8_t k1[32],
			 const uint8_t k2[32], size_t n)
{
	ssu2_hp_long(pkt, len, k2, n);
	ssu2_hp_part1(pkt, len, k1);
	ssu2_hp_part2(pkt, len, k2);
}

/* ---- out-of-session messages ---- */

int ssu2_oos_encrypt(const struct ssu2_long_hdr *h, const uint8_t key[32],
		     const uint8_t *payload, size_t plen, uint8_t *out,
		     size_t outmax, size_t *outlen)
{
	size_t len = SSU2_LONG_HEADER_BYTES + plen + SSU2_TAG_BYTES;

	if (plen < SSU2_MIN_PAYLOAD_BYTES || !ssu2_type_is_long(h->type) ||
	    h->type == SSU2_SESSION_REQUEST || h->type == SSU2_SESSION_CREATED)
		return ERR_ARG;
	if (len > outmax || len > SSU2_MAX_PACKET_BYTES)
		return ERR_TOO_BIG;
	ssu2_long_hdr_encode(h, out);
	/* "k = intro key, n = 4 byte packet number from header, ad = 32 byte
	 * header, before header encryption" */
	chachapoly_encrypt_n(out + SSU2_LONG_HEADER_BYTES, key, h->pkt_num, out,
			     SSU2_LONG_HEADER_BYTES, payload, plen);
	protect_long(out, len, key, key, 16);
	*outlen = len;
	return 0;
}

int ssu2_oos_decrypt(const uint8_t *pkt, size_t len, const uint8_t key[32],
		     uint8_t *out, size_t outmax, size_t *plen)
{
	size_t n;

	if (len < SSU2_LONG_HEADER_BYTES + SSU2_TAG_BYTES +
		  SSU2_MIN_PAYLOAD_BYTES)
		return ERR_TRUNCATED;
	n = len - SSU2_LONG_HEADER_BYTES - SSU2_TAG_BYTES;
	if (n > outmax)
		return ERR_TOO_BIG;
	if (chachapoly_decrypt_n(out, key, be32_get(pkt + 8), pkt,
				 SSU2_LONG_HEADER_BYTES,
				 pkt + SSU2_LONG_HEADER_BYTES,
				 len - SSU2_LONG_HEADER_BYTES) != 0)
		return ERR_AUTH;
	*plen = n;
	return 0;
}

/* ---- handshake ---- */

static void hs_fail(struct ssu2_hs *hs)
{
	enum ssu2_role role = hs->role;

	ssu2_hs_wipe(hs);
	hs->role = role;
	hs->step = HS_FAILED;
}

/* "h = SHA256(protocol_name); ck = h; h = SHA256(h) (null prologue);
 * h = SHA256(h || bpk)" */
static void hs_init_common(struct ssu2_hs *hs, enum ssu2_role role,
			   const struct noise_static *s,
			   const struct x25519_pk *bob_s,
			   const uint8_t bob_ik[SSU2_INTRO_KEY_BYTES])
{
	memset(hs, 0, sizeof(*hs));
	hs->role = role;
	hs->s = *s;
	memcpy(hs->bob_ik, bob_ik, SSU2_INTRO_KEY_BYTES);
	noise_sym_init(&hs->sym, SSU2_PROTOCOL_NAME);
	noise_sym_mix_hash(&hs->sym, NULL, 0);
	noise_sym_mix_hash(&hs->sym, bob_s->b, sizeof(bob_s->b));
}

void ssu2_hs_init_alice(struct ssu2_hs *hs, const struct noise_static *s,
			const struct x25519_pk *bob_s,
			const uint8_t bob_ik[SSU2_INTRO_KEY_BYTES])
{
	hs_init_common(hs, SSU2_ALICE, s, bob_s, bob_ik);
	hs->rs = *bob_s;
	hs->step = HS_A_INIT;
}

void ssu2_hs_init_bob(struct ssu2_hs *hs, const struct noise_static *s,
		      const uint8_t our_ik[SSU2_INTRO_KEY_BYTES])
{
	hs_init_common(hs, SSU2_BOB, s, &s->pk, our_ik);
	hs->step = HS_B_INIT;
}

void ssu2_hs_set_ephemeral(struct ssu2_hs *hs, const struct x25519_sk *e)
{
	hs->e = *e;
	x25519_pk_from_sk(&hs->e_pk, &hs->e);
	hs->has_e = true;
}

static void hs_ensure_ephemeral(struct ssu2_hs *hs)
{
	if (!hs->has_e) {
		x25519_keygen(&hs->e, &hs->e_pk);
		hs->has_e = true;
	}
}

/* k_header_2 for the next message: HKDF(ck, ZEROLEN, label, 32). */
static void hdr_key(const struct ssu2_hs *hs, const char *label,
		    uint8_t out[32])
{
	hkdf_sha256(out, 32, hs->sym.ck, sizeof(hs->sym.ck), NULL, 0, label,
		    strlen(label));
}

/*
 * SessionRequest and SessionCreated share their layout: "MixHash(header);
 * MixHash(epk); MixKey(DH); ciphertext = ENCRYPT(k, 0, payload, h)".
 * dh_peer is the remote key for the DH with our ephemeral (Bob's static
 * for "es", Alice's ephemeral for "ee").
 */
static int write_hs_msg(struct ssu2_hs *hs, const struct ssu2_long_hdr *h,
			uint8_t type, const struct x25519_pk *dh_peer,
			const uint8_t *payload, size_t plen, uint8_t *out,
			size_t outmax, size_t *outlen)
{
	struct ssu2_long_hdr hd = *h;
	size_t len = SSU2_HS_OVERHEAD_BYTES + plen;
	uint8_t dh[32];
	int r;

	if (plen < SSU2_MIN_PAYLOAD_BYTES)
		return ERR_ARG;
	if (len > outmax || len > SSU2_MAX_PACKET_BYTES)
		return ERR_TOO_BIG;
	hd.type = type;
	hd.ver = SSU2_VERSION;
	hs_ensure_ephemeral(hs);
	ssu2_long_hdr_encode(&hd, out);
	noise_sym_mix_hash(&hs->sym, out, SSU2_LONG_HEADER_BYTES);
	memcpy(out + SSU2_LONG_HEADER_BYTES, hs->e_pk.b, 32);
	noise_sym_mix_hash(&hs->sym, hs->e_pk.b, 32);
	if ((r = noise_sym_mix_dh(&hs->sym, x25519_dh(dh, &hs->e, dh_peer), dh)) != 0)
		return r;
	if ((r = noise_sym_encrypt_and_hash(&hs->sym, out + 64, payload,
					    plen)) != 0)
		return r;
	*outlen = len;
	return 0;
}

/* The reading side of write_hs_msg; dh_local does our half of the DH. */
static int read_hs_msg(struct ssu2_hs *hs, const uint8_t *pkt, size_t len,
		       uint8_t type, bool static_local, uint8_t *out,
		       size_t outmax, size_t *plen)
{
	struct ssu2_long_hdr h;
	uint8_t dh[32];
	size_t n;
	int r;

	if (len < SSU2_HS_OVERHEAD_BYTES + SSU2_MIN_PAYLOAD_BYTES)
		return ERR_TRUNCATED;
	n = len - SSU2_HS_OVERHEAD_BYTES;
	if (n > outmax)
		return ERR_TOO_BIG;
	ssu2_long_hdr_decode(pkt, &h);
	if (h.type != type || h.src_id == h.dst_id)
		return ERR_FORMAT;
	noise_sym_mix_hash(&hs->sym, pkt, SSU2_LONG_HEADER_BYTES);
	memcpy(hs->re.b, pkt + SSU2_LONG_HEADER_BYTES, 32);
	noise_sym_mix_hash(&hs->sym, hs->re.b, 32);
	r = static_local ? noise_static_dh(&hs->s, dh, &hs->re)
			 : x25519_dh(dh, &hs->e, &hs->re);
	if ((r = noise_sym_mix_dh(&hs->sym, r, dh)) != 0)
		return r;
	if (noise_sym_decrypt_and_hash(&hs->sym, out, pkt + 64,
				       len - 64) != 0)
		return ERR_AUTH;
	*plen = n;
	return 0;
}

int ssu2_hs_write_request(struct ssu2_hs *hs, const struct ssu2_long_hdr *h,
			  const uint8_t *payload, size_t plen, uint8_t *out,
			  size_t outmax, size_t *outlen)
{
	int r;

	if (hs->step != HS_A_INIT)
		return ERR_BAD_STATE;
	if ((r = write_hs_msg(hs, h, SSU2_SESSION_REQUEST, &hs->rs, payload,
			      plen, out, outmax, outlen)) != 0) {
		if (r != ERR_ARG && r != ERR_TOO_BIG)
			hs_fail(hs);
		return r;
	}
	/* "k_header_2 = HKDF(chainKey, ZEROLEN, "SessCreateHeader", 32)" */
	hdr_key(hs, "SessCreateHeader", hs->hk_created);
	/* This message: k_header_1 = k_header_2 = bik. */
	protect_long(out, *outlen, hs->bob_ik, hs->bob_ik, 48);
	hs->step = HS_A_REQ_SENT;
	return 0;
}

int ssu2_hs_read_request(struct ssu2_hs *hs, const uint8_t *pkt, size_t len,
			 uint8_t *out, size_t outmax, size_t *plen)
{
	int r;

	if (hs->step != HS_B_INIT)
		return ERR_BAD_STATE;
	if ((r = read_hs_msg(hs, pkt, len, SSU2_SESSION_REQUEST, true, out,
			     outmax, plen)) != 0) {
		hs_fail(hs);
		return r;
	}
	hdr_key(hs, "SessCreateHeader", hs->hk_created);
	hs->step = HS_B_REQ_READ;
	return 0;
}

int ssu2_hs_write_created(struct ssu2_hs *hs, const struct ssu2_long_hdr *h,
			  const uint8_t *payload, size_t plen, uint8_t *out,
			  size_t outmax, size_t *outlen)
{
	int r;

	if (hs->step != HS_B_REQ_READ)
		return ERR_BAD_STATE;
	if ((r = write_hs_msg(hs, h, SSU2_SESSION_CREATED, &hs->re, payload,
			      plen, out, outmax, outlen)) != 0) {
		if (r != ERR_ARG && r != ERR_TOO_BIG)
			hs_fail(hs);
		return r;
	}
	/* "k_header_2 = HKDF(chainKey, ZEROLEN, "SessionConfirmed", 32)" */
	hdr_key(hs, "SessionConfirmed", hs->hk_confirmed);
	/* "k_header_1 = bik; k_header_2: See Session Request KDF" */
	protect_long(out, *outlen, hs->bob_ik, hs->hk_created, 48);
	hs->step = HS_B_CREATED_SENT;
	return 0;
}

int ssu2_hs_read_created(struct ssu2_hs *hs, const uint8_t *pkt, size_t len,
			 uint8_t *out, size_t outmax, size_t *plen)
{
	int r;

	if (hs->step != HS_A_REQ_SENT)
		return ERR_BAD_STATE;
	if ((r = read_hs_msg(hs, pkt, len, SSU2_SESSION_CREATED, false, out,
			     outmax, plen)) != 0) {
		hs_fail(hs);
		return r;
	}
	hdr_key(hs, "SessionConfirmed", hs->hk_confirmed);
	hs->step = HS_A_CREATED;
	return 0;
}

int ssu2_hs_write_confirmed(struct ssu2_hs *hs, uint64_t dst_id,
			    const uint8_t *payload, size_t plen,
			    size_t max_pkt, uint8_t *out, size_t outmax,
			    size_t lens[SSU2_CONFIRMED_MAX_FRAGS],
			    unsigned *nfrags)
{
	/* Body after the 16-byte header: S frame (48) ‖ payload ‖ MAC. */
	size_t body = 48 + plen + SSU2_TAG_BYTES, cap, per, rem, off, boff;
	uint8_t *jumbo = NULL, dh[32];
	struct ssu2_short_hdr sh = { .dst_id = dst_id,
				     .type = SSU2_SESSION_CONFIRMED };
	unsigned n, i;
	int r;

	if (hs->step != HS_A_CREATED)
		return ERR_BAD_STATE;
	if (plen < SSU2_MIN_PAYLOAD_BYTES || max_pkt > SSU2_MAX_PACKET_BYTES ||
	    max_pkt < SSU2_SHORT_HEADER_BYTES + 64)
		return ERR_ARG;
	cap = max_pkt - SSU2_SHORT_HEADER_BYTES;
	n = (unsigned)((body + cap - 1) / cap);
	if (n > SSU2_CONFIRMED_MAX_FRAGS ||
	    body + n * SSU2_SHORT_HEADER_BYTES > outmax)
		return ERR_TOO_BIG;
	/* Equal shares, so the last fragment is never short ("must be
	 * greater than or equal to 24 bytes"): body ≥ 72 and each share is
	 * at least body / n ≥ cap / 2 once n ≥ 2. */
	per = body / n;
	rem = body % n;
	jumbo = xmalloc(SSU2_SHORT_HEADER_BYTES + body);
	/* "frag: bits 7-4: fragment number, bits 3-0: total fragments";
	 * the header of fragment 0 is the AD ("MixHash(header)"). */
	sh.flags[0] = (uint8_t)n;
	ssu2_short_hdr_encode(&sh, jumbo);
	noise_sym_mix_hash(&hs->sym, jumbo, SSU2_SHORT_HEADER_BYTES);
	/* "s": ENCRYPT(k, n = 1, apk, h) with the key of the "ee" MixKey. */
	if ((r = noise_sym_encrypt_and_hash(&hs->sym, jumbo + 16, hs->s.pk.b,
					    32)) != 0)
		goto fail;
	/* "se": MixKey(DH(ask, bepk)), then the payload with n = 0. */
	if ((r = noise_sym_mix_dh(&hs->sym, noise_static_dh(&hs->s, dh, &hs->re), dh)) != 0 ||
	    (r = noise_sym_encrypt_and_hash(&hs->sym, jumbo + 64, payload,
					    plen)) != 0)
		goto fail;
	off = 0;
	boff = SSU2_SHORT_HEADER_BYTES;
	for (i = 0; i < n; i++) {
		size_t share = per + (i < rem ? 1 : 0);
		uint8_t *p = out + off;

		sh.flags[0] = (uint8_t)(i << 4 | n);
		ssu2_short_hdr_encode(&sh, p);
		memcpy(p + SSU2_SHORT_HEADER_BYTES, jumbo + boff, share);
		lens[i] = SSU2_SHORT_HEADER_BYTES + share;
		/* "Each header uses the SAME k_header_1 and k_header_2" */
		ssu2_hp_part1(p, lens[i], hs->bob_ik);
		ssu2_hp_part2(p, lens[i], hs->hk_confirmed);
		off += lens[i];
		boff += share;
	}
	*nfrags = n;
	memwipe(jumbo, SSU2_SHORT_HEADER_BYTES + body);
	free(jumbo);
	hs->step = HS_DONE;
	return 0;
fail:
	memwipe(jumbo, SSU2_SHORT_HEADER_BYTES + body);
	free(jumbo);
	hs_fail(hs);
	return r;
}

int ssu2_hs_read_confirmed(struct ssu2_hs *hs, const uint8_t *msg, size_t len,
			   uint8_t *out, size_t outmax, size_t *plen)
{
	struct ssu2_short_hdr sh;
	uint8_t dh[32];
	size_t n;
	int r;

	if (hs->step != HS_B_CREATED_SENT)
		return ERR_BAD_STATE;
	if (len < SSU2_CONFIRMED_OVERHEAD_BYTES + SSU2_MIN_PAYLOAD_BYTES) {
		r = ERR_TRUNCATED;
		goto fail;
	}
	n = len - SSU2_CONFIRMED_OVERHEAD_BYTES;
	if (n > outmax) {
		r = ERR_TOO_BIG;
		goto fail;
	}
	ssu2_short_hdr_decode(msg, &sh);
	if (sh.type != SSU2_SESSION_CONFIRMED || (sh.flags[0] >> 4) != 0) {
		r = ERR_FORMAT;
		goto fail;
	}
	noise_sym_mix_hash(&hs->sym, msg, SSU2_SHORT_HEADER_BYTES);
	if (noise_sym_decrypt_and_hash(&hs->sym, hs->rs.b, msg + 16, 48) != 0) {
		r = ERR_AUTH;
		goto fail;
	}
	/* "se" from Bob's side: DH(besk, apk). */
	if ((r = noise_sym_mix_dh(&hs->sym, x25519_dh(dh, &hs->e, &hs->rs), dh)) != 0)
		goto fail;
	if (noise_sym_decrypt_and_hash(&hs->sym, out, msg + 64,
				       len - 64) != 0) {
		r = ERR_AUTH;
		goto fail;
	}
	*plen = n;
	hs->step = HS_DONE;
	return 0;
fail:
	hs_fail(hs);
	return r;
}

static void dir_keys(const uint8_t k[32], struct ssu2_dir_keys *out)
{
	static const char label[] = "HKDFSSU2DataKeys";
	uint8_t kd[64];

	/* "keydata = HKDF(key, ZEROLEN, "HKDFSSU2DataKeys", 64)" */
	hkdf_sha256(kd, sizeof(kd), k, 32, NULL, 0, label, sizeof(label) - 1);
	memcpy(out->k_data, kd, 32);
	memcpy(out->k_hdr2, kd + 32, 32);
	memwipe(kd, sizeof(kd));
}

int ssu2_hs_split(struct ssu2_hs *hs, struct ssu2_keys *out)
{
	struct noise_cipher ab, ba;

	if (hs->step != HS_DONE)
		return ERR_BAD_STATE;
	noise_sym_split(&hs->sym, &ab, &ba);
	if (hs->role == SSU2_ALICE) {
		dir_keys(ab.k, &out->send);
		dir_keys(ba.k, &out->recv);
	} else {
		dir_keys(ba.k, &out->send);
		dir_keys(ab.k, &out->recv);
	}
	noise_cipher_wipe(&ab);
	noise_cipher_wipe(&ba);
	noise_sym_wipe(&hs->sym);
	memwipe(&hs->e, sizeof(hs->e));
	hs->has_e = false;
	return 0;
}

bool ssu2_hs_remote_static(const struct ssu2_hs *hs, struct x25519_pk *out)
{
	if (hs->role == SSU2_ALICE ||
	    (hs->step == HS_DONE && hs->role == SSU2_BOB)) {
		*out = hs->rs;
		return true;
	}
	return false;
}

const uint8_t *ssu2_hs_remote_ephemeral(const struct ssu2_hs *hs)
{
	return hs->re.b;
}

void ssu2_hs_wipe(struct ssu2_hs *hs)
{
	memwipe(hs, sizeof(*hs));
}

/* ---- data phase ---- */

int ssu2_data_encrypt(const struct ssu2_dir_keys *k,
		      const uint8_t peer_ik[SSU2_INTRO_KEY_BYTES],
		      uint64_t dst_id, uint32_t pkt_num, uint8_t flags,
		      const uint8_t *payload, size_t plen, uint8_t *out,
		      size_t outmax, size_t *outlen)
{
	struct ssu2_short_hdr sh = { .dst_id = dst_id, .pkt_num = pkt_num,
				     .type = SSU2_DATA,
				     .flags = { flags, 0, 0 } };
	size_t len = SSU2_SHORT_HEADER_BYTES + plen + SSU2_TAG_BYTES;

	if (plen < SSU2_MIN_PAYLOAD_BYTES)
		return ERR_ARG;
	if (len > outmax || len > SSU2_MAX_PACKET_BYTES)
		return ERR_TOO_BIG;
	ssu2_short_hdr_encode(&sh, out);
	/* "n = 4 byte packet number from header, ad = 16 byte header,
	 * before header encryption" */
	chachapoly_encrypt_n(out + SSU2_SHORT_HEADER_BYTES, k->k_data, pkt_num,
			     out, SSU2_SHORT_HEADER_BYTES, payload, plen);
	/* "k_header_1 = Receiver's intro key; k_header_2: from above" */
	ssu2_hp_part1(out, len, peer_ik);
	ssu2_hp_part2(out, len, k->k_hdr2);
	*outlen = len;
	return 0;
}

int ssu2_data_decrypt(const struct ssu2_dir_keys *k, const uint8_t *pkt,
		      size_t len, uint8_t *out, size_t outmax, size_t *plen)
{
	size_t n;

	if (len < SSU2_SHORT_HEADER_BYTES + SSU2_TAG_BYTES +
		  SSU2_MIN_PAYLOAD_BYTES)
		return ERR_TRUNCATED;
	n = len - SSU2_SHORT_HEADER_BYTES - SSU2_TAG_BYTES;
	if (n > outmax)
		return ERR_TOO_BIG;
	if (chachapoly_decrypt_n(out, k->k_data, be32_get(pkt + 8), pkt,
				 SSU2_SHORT_HEADER_BYTES,
				 pkt + SSU2_SHORT_HEADER_BYTES,
				 len - SSU2_SHORT_HEADER_BYTES) != 0)
		return ERR_AUTH;
	*plen = n;
	return 0;
}

int ssu2_intro_key_derive(const struct keystore *ks,
			  uint8_t out[SSU2_INTRO_KEY_BYTES])
{
	static const char label[] = "bits-ssu2-intro";
	struct x25519_sk fixed;
	struct x25519_pk p, ours;
	uint8_t dh[32];
	int r;

	/* P: the public key of a fixed, published scalar. */
	sha256(fixed.b, "bits ssu2 intro point", 21);
	x25519_pk_from_sk(&p, &fixed);
	keystore_x25519_pk(ks, KEYSTORE_X_SSU2, &ours);
	if ((r = keystore_dh(ks, KEYSTORE_X_SSU2, dh, &p)) != 0)
		return r;
	hkdf_sha256(out, SSU2_INTRO_KEY_BYTES, ours.b, 32, dh, 32, label,
		    sizeof(label) - 1);
	memwipe(dh, sizeof(dh));
	memwipe(&fixed, sizeof(fixed));
	return 0;
}

void ssu2_aead_init(struct ssu2_aead *a, const uint8_t k_data[32])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	/* The key is set once; each packet only sets its nonce. */
	if (!c || EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, k_data,
				    NULL, -1) != 1)
		abort();	/* like OOM: OpenSSL cannot allocate */
	a->ctx = c;
}

void ssu2_aead_free(struct ssu2_aead *a)
{
	EVP_CIPHER_CTX_free(a->ctx);	/* cleans the key schedule */
	a->ctx = NULL;
}

/* ChaCha20-Poly1305 with the I2P nonce for n and AD ad; enc appends the
 * tag, else checks the tag at in + len.  0, ERR_AUTH or ERR_CRYPTO. */
static int evp_aead(const struct ssu2_aead *a, bool enc, uint64_t n,
		    const uint8_t *ad, size_t adlen, uint8_t *out,
		    const uint8_t *in, size_t len)
{
	EVP_CIPHER_CTX *c = a->ctx;
	uint8_t nonce[CHACHAPOLY_NONCE_BYTES];
	int l = 0, fl = 0;

	if (BUG(!c) || len > INT32_MAX)
		return ERR_CRYPTO;
	chachapoly_nonce(nonce, n);
	if (EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, enc) != 1)
		return ERR_CRYPTO;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG,
					SSU2_TAG_BYTES, (void *)(in + len)) != 1)
		return ERR_CRYPTO;
	if (EVP_CipherUpdate(c, NULL, &l, ad, (int)adlen) != 1 ||
	    (len > 0 && EVP_CipherUpdate(c, out, &l, in, (int)len) != 1) ||
	    EVP_CipherFinal_ex(c, out + l, &fl) != 1) {
		if (enc)
			return ERR_CRYPTO;
		memwipe(out, len);	/* never hand out unauthenticated bytes */
		return ERR_AUTH;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, SSU2_TAG_BYTES,
				       out + len) != 1)
		return ERR_CRYPTO;
	return 0;
}

int ssu2_data_seal_bare(const struct ssu2_aead *a, uint64_t dst_id,
			uint32_t pkt_num, uint8_t flags,
			const uint8_t *payload, size_t plen, uint8_t *out,
			size_t outmax, size_t *outlen)
{
	struct ssu2_short_hdr sh = { .dst_id = dst_id, .pkt_num = pkt_num,
				     .type = SSU2_DATA,
				     .flags = { flags, 0, 0 } };
	size_t len = SSU2_SHORT_HEADER_BYTES + plen + SSU2_TAG_BYTES;
	int r;

	if (plen < SSU2_MIN_PAYLOAD_BYTES)
		return ERR_ARG;
	if (len > outmax || len > SSU2_MAX_PACKET_BYTES)
		return ERR_TOO_BIG;
	ssu2_short_hdr_encode(&sh, out);
	if ((r = evp_aead(a, true, pkt_num, out, SSU2_SHORT_HEADER_BYTES,
			  out + SSU2_SHORT_HEADER_BYTES, payload, plen)) != 0)
		return r;
	*outlen = len;
	return 0;
}

int ssu2_data_seal(const struct ssu2_aead *a, const uint8_t k_hdr2[32],
		   const uint8_t peer_ik[SSU2_INTRO_KEY_BYTES],
		   uint64_t dst_id, uint32_t pkt_num, uint8_t flags,
		   const uint8_t *payload, size_t plen, uint8_t *out,
		   size_t outmax, size_t *outlen)
{
	int r = ssu2_data_seal_bare(a, dst_id, pkt_num, flags, payload, plen,
				    out, outmax, outlen);

	if (r != 0)
		return r;
	/* ssu2_hp_part1() and ssu2_hp_part2() in one go */
	chacha20_xor8x2(out, peer_ik, out + *outlen - 24, out + 8, k_hdr2,
			out + *outlen - 12);
	return 0;
}

int ssu2_data_open(const struct ssu2_aead *a,
		   const uint8_t hdr[SSU2_SHORT_HEADER_BYTES],
		   const uint8_t *pkt, size_t len, uint8_t *out, size_t outmax,
		   size_t *plen)
{
	size_t n;

	if (len < SSU2_SHORT_HEADER_BYTES + SSU2_TAG_BYTES +
		  SSU2_MIN_PAYLOAD_BYTES)
		return ERR_TRUNCATED;
	n = len - SSU2_SHORT_HEADER_BYTES - SSU2_TAG_BYTES;
	if (n > outmax)
		return ERR_TOO_BIG;
	if (evp_aead(a, false, be32_get(hdr + 8), hdr, SSU2_SHORT_HEADER_BYTES,
		     out, pkt + SSU2_SHORT_HEADER_BYTES, n) != 0)
		return ERR_AUTH;
	*plen = n;
	return 0;
}

bool ssu2_skew_ok(uint32_t peer_s, uint32_t now_s)
{
	int64_t d = (int64_t)peer_s - (int64_t)now_s;

	return d >= -SSU2_CLOCK_SKEW_S && d <= SSU2_CLOCK_SKEW_S;
}
