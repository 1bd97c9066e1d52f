/*
 * NTCP2 handshake crypto (router/ntcp2_handshake.h), after
 * geti2p.net/spec/ntcp2: "KDF for handshake message 1", "1)
 * SessionRequest", "KDF for handshake message 2 and message 3 part 1",
 * "2) SessionCreated", "Encryption for handshake message 3 part 1", "KDF
 * for handshake message 3 part 2", "3) SessionConfirmed" and "KDF for data
 * phase".  Noise_XK over crypto/noise.h's symmetric state, with I2P's
 * additions: the ephemeral keys are AES-256-CBC encrypted under Bob's
 * router hash (the CBC state running on from message 1 to message 2), and
 * the cleartext padding of messages 1 and 2 is mixed into h.
 *
 * The functions here take wire bytes and produce wire bytes; the session
 * code in router/ntcp2.c does the reading, writing and timing.
 */
#include "config.h"
#include "router/ntcp2_handshake.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"
#include "crypto/siphash.h"

#include <stdlib.h>
#include <string.h>

enum hs_step {
	HS_FAILED = 0,
	HS_A_INIT,		/* Alice: write_request next */
	HS_A_WAIT2,		/* read_created next */
	HS_A_PAD2,		/* read_padding (message 2) next */
	HS_A_SEND3,		/* write_confirmed next */
	HS_B_INIT,		/* Bob: read_request next */
	HS_B_PAD1,		/* read_padding (message 1) next */
	HS_B_SEND2,		/* write_created next */
	HS_B_WAIT3,		/* read_confirmed next */
	HS_DONE			/* split next */
};

static void hs_fail(struct ntcp2_hs *hs)
{
	enum ntcp2_role role = hs->role;

	ntcp2_hs_wipe(hs);
	hs->role = role;
	hs->step = HS_FAILED;
}

/* "Define protocol_name ... h = SHA256(protocol_name); ck = h;
 * MixHash(null prologue); MixHash(rs)" -- rs is Bob's static key. */
static void hs_init_common(struct ntcp2_hs *hs, enum ntcp2_role role,
			   const struct noise_static *s, const uint8_t rh_b[32],
			   const uint8_t iv[NTCP2_IV_BYTES],
			   const struct x25519_pk *bob_s, uint8_t netid)
{
	memset(hs, 0, sizeof(*hs));
	hs->role = role;
	hs->s = *s;
	hs->netid = netid;
	hs->aes = aes256_new(rh_b);
	memcpy(hs->iv, iv, NTCP2_IV_BYTES);
	noise_sym_init(&hs->sym, NTCP2_PROTOCOL_NAME);
	noise_sym_mix_hash(&hs->sym, NULL, 0);
	noise_sym_mix_hash(&hs->sym, bob_s->b, sizeof(bob_s->b));
}

void ntcp2_hs_init_alice(struct ntcp2_hs *hs, const struct noise_static *s,
			 const uint8_t bob_rh[32], const struct x25519_pk *bob_s,
			 const uint8_t bob_iv[NTCP2_IV_BYTES], uint8_t netid)
{
	hs_init_common(hs, NTCP2_ALICE, s, bob_rh, bob_iv, bob_s, netid);
	hs->rs = *bob_s;
	hs->step = HS_A_INIT;
}

void ntcp2_hs_init_bob(struct ntcp2_hs *hs, const struct noise_static *s,
		       const uint8_t our_rh[32],
		       const uint8_t our_iv[NTCP2_IV_BYTES], uint8_t netid)
{
	hs_init_common(hs, NTCP2_BOB, s, our_rh, our_iv, &s->pk, netid);
	hs->step = HS_B_INIT;
}

void ntcp2_hs_set_ephemeral(struct ntcp2_hs *hs, const struct x25519_sk *e)
{
	hs->e = *e;
	x25519_pk_from_sk(&hs->e_pk, &hs->e);
	hs->has_e = true;
}

static void hs_ensure_ephemeral(struct ntcp2_hs *hs)
{
	if (!hs->has_e) {
		x25519_keygen(&hs->e, &hs->e_pk);
		hs->has_e = true;
	}
}

static int64_t skew_of(uint32_t peer_s, uint32_t now_s)
{
	return (int64_t)peer_s - (int64_t)now_s;
}

static bool skew_ok(int64_t skew)
{
	return skew >= -NTCP2_CLOCK_SKEW_S && skew <= NTCP2_CLOCK_SKEW_S;
}

int ntcp2_hs_write_request(struct ntcp2_hs *hs, uint32_t now_s,
			   const uint8_t *pad, uint16_t pad_len,
			   uint16_t m3p2_len, struct bbuf *out)
{
	uint8_t x[32], opt[NTCP2_OPTIONS_BYTES], ct[NTCP2_OPTIONS_BYTES + 16];
	uint8_t dh[32];
	int r;

	if (hs->step != HS_A_INIT)
		return ERR_BAD_STATE;
	if (pad_len > NTCP2_HS_SEND_PADDING_MAX_BYTES ||
	    m3p2_len < NTCP2_M3P2_MIN_BYTES || m3p2_len > NTCP2_M3P2_MAX_BYTES)
		return ERR_ARG;
	hs_ensure_ephemeral(hs);
	/* "X :: AES-256-CBC encrypted X25519 ephemeral key; key: RH_B; iv:
	 * As published in Bob's network database entry"; the CBC state
	 * carries on into message 2. */
	memcpy(x, hs->e_pk.b, 32);
	if ((r = aes256_cbc_encrypt(hs->aes, hs->iv, x, sizeof(x))) != 0)
		goto fail;
	/* "e": h = SHA256(h || e.pubkey) -- the cleartext key. */
	noise_sym_mix_hash(&hs->sym, hs->e_pk.b, 32);
	/* "es": MixKey(DH(e, rs)).  A low-order rs fails here ("Alice must
	 * validate that Bob's static key is a valid point"). */
	if ((r = noise_sym_mix_dh(&hs->sym, x25519_dh(dh, &hs->e, &hs->rs), dh)) != 0)
		goto fail;
	/* Options: netid, ver, padLen, m3p2Len, 2 reserved, tsA, 4 reserved. */
	memset(opt, 0, sizeof(opt));
	opt[0] = hs->netid;
	opt[1] = NTCP2_VERSION;
	be16_put(opt + 2, pad_len);
	be16_put(opt + 4, m3p2_len);
	be32_put(opt + 8, now_s);
	if ((r = noise_sym_encrypt_and_hash(&hs->sym, ct, opt, sizeof(opt))) != 0)
		goto fail;
	/* "MixHash(padding) -- only if padding length is nonzero". */
	if (pad_len > 0)
		noise_sym_mix_hash(&hs->sym, pad, pad_len);
	bbuf_put(out, x, sizeof(x));
	bbuf_put(out, ct, sizeof(ct));
	bbuf_put(out, pad, pad_len);
	hs->m3p2_len = m3p2_len;
	hs->step = HS_A_WAIT2;
	return 0;
fail:
	hs_fail(hs);
	return r;
}

/* Decrypt the 32-byte obfuscated key and the options frame of message 1
 * or 2 (the shared part of read_request and read_created). */
static int read_key_and_options(struct ntcp2_hs *hs, const uint8_t msg[64],
				uint8_t opt[NTCP2_OPTIONS_BYTES])
{
	uint8_t dh[32];
	int r;

	memcpy(hs->re.b, msg, 32);
	if ((r = aes256_cbc_decrypt(hs->aes, hs->iv, hs->re.b, 32)) != 0)
		return r;
	noise_sym_mix_hash(&hs->sym, hs->re.b, 32);
	if (hs->role == NTCP2_BOB)
		r = noise_static_dh(&hs->s, dh, &hs->re);	/* "es" */
	else
		r = x25519_dh(dh, &hs->e, &hs->re);	/* "ee" */
	if ((r = noise_sym_mix_dh(&hs->sym, r, dh)) != 0)
		return r;
	return noise_sym_decrypt_and_hash(&hs->sym, opt, msg + 32, 32);
}

int ntcp2_hs_read_request(struct ntcp2_hs *hs, const uint8_t msg[NTCP2_MSG1_BYTES],
			  uint32_t now_s, struct ntcp2_replay *replay,
			  uint64_t now_mono_ms, struct ntcp2_hs_options *opt)
{
	uint8_t o[NTCP2_OPTIONS_BYTES];
	struct ntcp2_hs_options res;
	int r;

	if (hs->step != HS_B_INIT)
		return ERR_BAD_STATE;
	if ((r = read_key_and_options(hs, msg, o)) != 0)
		goto fail;
	memset(&res, 0, sizeof(res));
	res.netid = o[0];
	res.version = o[1];
	res.pad_len = be16_get(o + 2);
	res.m3p2_len = be16_get(o + 4);
	res.ts = be32_get(o + 8);
	/* "ver :: 1 byte, protocol version (currently 2)"; a non-zero
	 * network id must be ours (PROTOCOLS.md 1.2). */
	if (res.netid != 0 && res.netid != hs->netid) {
		r = ERR_NETWORK;
		goto fail;
	}
	if (res.version != NTCP2_VERSION) {
		r = ERR_UNSUPPORTED;
		goto fail;
	}
	if (res.pad_len > NTCP2_HS_RECV_PADDING_MAX_BYTES ||
	    res.m3p2_len > NTCP2_M3P2_MAX_BYTES) {
		r = ERR_TOO_BIG;
		goto fail;
	}
	if (res.m3p2_len < NTCP2_M3P2_MIN_BYTES) {
		r = ERR_FORMAT;
		goto fail;
	}
	/* "Bob must maintain a local cache of previously-used handshake
	 * values and reject duplicates ... the 32-byte X value may be used." */
	if (replay && (r = ntcp2_replay_check(replay, hs->re.b, now_mono_ms)) != 0)
		goto fail;
	hs->pad_len = res.pad_len;
	hs->m3p2_len = res.m3p2_len;
	hs->skew_s = skew_of(res.ts, now_s);
	hs->step = HS_B_PAD1;
	*opt = res;
	/* "Bob must reject connections where the timestamp value is too far
	 * off": the caller may still answer with SessionCreated so Alice
	 * learns our clock (as i2pd does), then close. */
	if (!skew_ok(hs->skew_s)) {
		hs->skewed = true;
		return ERR_EXPIRED;
	}
	return 0;
fail:
	hs_fail(hs);
	return r;
}

int ntcp2_hs_read_padding(struct ntcp2_hs *hs, const uint8_t *pad, size_t len)
{
	if (hs->step != HS_B_PAD1 && hs->step != HS_A_PAD2)
		return ERR_BAD_STATE;
	if (len != hs->pad_len)
		return ERR_ARG;
	if (len > 0)
		noise_sym_mix_hash(&hs->sym, pad, len);
	hs->step = hs->step == HS_B_PAD1 ? HS_B_SEND2 : HS_A_SEND3;
	return 0;
}

int ntcp2_hs_write_created(struct ntcp2_hs *hs, uint32_t now_s,
			   const uint8_t *pad, uint16_t pad_len,
			   struct bbuf *out)
{
	uint8_t y[32], opt[NTCP2_OPTIONS_BYTES], ct[NTCP2_OPTIONS_BYTES + 16];
	uint8_t dh[32];
	int r;

	if (hs->step != HS_B_SEND2)
		return ERR_BAD_STATE;
	if (pad_len > NTCP2_HS_SEND_PADDING_MAX_BYTES)
		return ERR_ARG;
	hs_ensure_ephemeral(hs);
	/* "Y :: AES-256-CBC encrypted ... key: RH_B, iv: Using AES state
	 * from message 1". */
	memcpy(y, hs->e_pk.b, 32);
	if ((r = aes256_cbc_encrypt(hs->aes, hs->iv, y, sizeof(y))) != 0)
		goto fail;
	noise_sym_mix_hash(&hs->sym, hs->e_pk.b, 32);
	/* "ee" */
	if ((r = noise_sym_mix_dh(&hs->sym, x25519_dh(dh, &hs->e, &hs->re), dh)) != 0)
		goto fail;
	/* Options: 2 reserved, padLen, 4 reserved, tsB, 4 reserved. */
	memset(opt, 0, sizeof(opt));
	be16_put(opt + 2, pad_len);
	be32_put(opt + 8, now_s);
	if ((r = noise_sym_encrypt_and_hash(&hs->sym, ct, opt, sizeof(opt))) != 0)
		goto fail;
	if (pad_len > 0)
		noise_sym_mix_hash(&hs->sym, pad, pad_len);
	bbuf_put(out, y, sizeof(y));
	bbuf_put(out, ct, sizeof(ct));
	bbuf_put(out, pad, pad_len);
	hs->step = HS_B_WAIT3;
	return 0;
fail:
	hs_fail(hs);
	return r;
}

int ntcp2_hs_read_created(struct ntcp2_hs *hs, const uint8_t msg[NTCP2_MSG2_BYTES],
			  uint32_t now_s, struct ntcp2_replay *replay,
			  uint64_t now_mono_ms, struct ntcp2_hs_options *opt)
{
	uint8_t o[NTCP2_OPTIONS_BYTES];
	struct ntcp2_hs_options res;
	int r;

	if (hs->step != HS_A_WAIT2)
		return ERR_BAD_STATE;
	if ((r = read_key_and_options(hs, msg, o)) != 0)
		goto fail;
	memset(&res, 0, sizeof(res));
	res.pad_len = be16_get(o + 2);
	res.ts = be32_get(o + 8);
	if (res.pad_len > NTCP2_HS_RECV_PADDING_MAX_BYTES) {
		r = ERR_TOO_BIG;
		goto fail;
	}
	/* "Alice must maintain a local cache of previously-used handshake
	 * values ... the 32-byte Y value may be used." */
	if (replay && (r = ntcp2_replay_check(replay, hs->re.b, now_mono_ms)) != 0)
		goto fail;
	hs->skew_s = skew_of(res.ts, now_s);
	/* "Alice must reject connections where the timestamp value is too
	 * far off from the current time." */
	if (!skew_ok(hs->skew_s)) {
		int64_t skew = hs->skew_s;

		r = ERR_EXPIRED;
		hs_fail(hs);
		hs->skew_s = skew;
		return r;
	}
	hs->pad_len = res.pad_len;
	hs->step = HS_A_PAD2;
	*opt = res;
	return 0;
fail:
	hs_fail(hs);
	return r;
}

int ntcp2_hs_write_confirmed(struct ntcp2_hs *hs, const uint8_t *payload,
			     size_t plen, struct bbuf *out)
{
	uint8_t dh[32];
	uint8_t *p;
	int r;

	if (hs->step != HS_A_SEND3)
		return ERR_BAD_STATE;
	if (plen + 16 != hs->m3p2_len)
		return ERR_ARG;
	/* Part 1, "s": EncryptAndHash(s.publickey) with the message 2 key at
	 * n = 1 (the cipher state counted message 2's options as n = 0). */
	p = bbuf_extend(out, NTCP2_MSG3P1_BYTES + hs->m3p2_len);
	if ((r = noise_sym_encrypt_and_hash(&hs->sym, p, hs->s.pk.b, 32)) != 0)
		goto fail;
	/* Part 2, "se": MixKey(DH(s, re)); EncryptAndHash(payload), n = 0. */
	if ((r = noise_sym_mix_dh(&hs->sym, noise_static_dh(&hs->s, dh, &hs->re), dh)) != 0)
		goto fail;
	if ((r = noise_sym_encrypt_and_hash(&hs->sym, p + NTCP2_MSG3P1_BYTES,
					    payload, plen)) != 0)
		goto fail;
	hs->step = HS_DONE;
	return 0;
fail:
	out->len -= NTCP2_MSG3P1_BYTES + hs->m3p2_len;
	hs_fail(hs);
	return r;
}

size_t ntcp2_hs_confirmed_len(const struct ntcp2_hs *hs)
{
	return NTCP2_MSG3P1_BYTES + (size_t)hs->m3p2_len;
}

int ntcp2_hs_read_confirmed(struct ntcp2_hs *hs, const uint8_t *msg,
			    size_t len, uint8_t *payload, size_t *plen)
{
	uint8_t dh[32];
	struct x25519_pk rs;
	int r;

	if (hs->step != HS_B_WAIT3)
		return ERR_BAD_STATE;
	if (hs->skewed) {
		r = ERR_EXPIRED;
		goto fail;
	}
	if (len != ntcp2_hs_confirmed_len(hs)) {
		r = ERR_ARG;
		goto fail;
	}
	/* Part 1: Alice's static key, k from message 2, n = 1. */
	if ((r = noise_sym_decrypt_and_hash(&hs->sym, rs.b, msg,
					    NTCP2_MSG3P1_BYTES)) != 0)
		goto fail;
	/* "se" from Bob's side: DH(e, rs).  A low-order rs fails here
	 * ("Bob must validate that Alice's static key is a valid point"). */
	if ((r = noise_sym_mix_dh(&hs->sym, x25519_dh(dh, &hs->e, &rs), dh)) != 0)
		goto fail;
	if ((r = noise_sym_decrypt_and_hash(&hs->sym, payload,
					    msg + NTCP2_MSG3P1_BYTES,
					    hs->m3p2_len)) != 0)
		goto fail;
	hs->rs = rs;
	*plen = (size_t)hs->m3p2_len - 16;
	hs->step = HS_DONE;
	return 0;
fail:
	hs_fail(hs);
	return r;
}

int ntcp2_hs_split(struct ntcp2_hs *hs, struct ntcp2_keys *out)
{
	uint8_t k[64], ask[32], sip[32], ikm[NTCP2_HASH_BYTES + 7];
	struct ntcp2_dir_keys ab, ba;

	if (hs->step != HS_DONE)
		return ERR_BAD_STATE;
	/* "k_ab, k_ba = HKDF(ck, zerolen)" */
	hkdf_sha256(k, 64, hs->sym.ck, 32, NULL, 0, NULL, 0);
	memcpy(ab.k, k, 32);
	memcpy(ba.k, k + 32, 32);
	/* "ask_master = HKDF(ck, zerolen, info="ask")" */
	hkdf_sha256(ask, 32, hs->sym.ck, 32, NULL, 0, "ask", 3);
	/* "sip_master = HKDF(ask_master, h || "siphash")", h from message 3
	 * part 2. */
	memcpy(ikm, hs->sym.h, NTCP2_HASH_BYTES);
	memcpy(ikm + NTCP2_HASH_BYTES, "siphash", 7);
	hkdf_sha256(sip, 32, ask, 32, ikm, sizeof(ikm), NULL, 0);
	/* "sipkeys_ab, sipkeys_ba = HKDF(sip_master, zerolen)": bytes 0-15
	 * are k1 ‖ k2, bytes 16-23 the IV. */
	hkdf_sha256(k, 64, sip, 32, NULL, 0, NULL, 0);
	memcpy(ab.sipkey, k, 16);
	memcpy(ab.sipiv, k + 16, 8);
	memcpy(ba.sipkey, k + 32, 16);
	memcpy(ba.sipiv, k + 48, 8);
	if (hs->role == NTCP2_ALICE) {
		out->send = ab;
		out->recv = ba;
	} else {
		out->send = ba;
		out->recv = ab;
	}
	memwipe(k, sizeof(k));
	memwipe(ask, sizeof(ask));
	memwipe(sip, sizeof(sip));
	memwipe(ikm, sizeof(ikm));
	memwipe(&ab, sizeof(ab));
	memwipe(&ba, sizeof(ba));
	ntcp2_hs_wipe(hs);
	return 0;
}

bool ntcp2_hs_remote_static(const struct ntcp2_hs *hs, struct x25519_pk *out)
{
	if (hs->role == NTCP2_ALICE ? hs->step == HS_FAILED
				    : hs->step != HS_DONE)
		return false;
	*out = hs->rs;
	return true;
}

int64_t ntcp2_hs_skew_s(const struct ntcp2_hs *hs)
{
	return hs->skew_s;
}

uint16_t ntcp2_hs_m3p2_len(const struct ntcp2_hs *hs)
{
	return hs->m3p2_len;
}

void ntcp2_hs_wipe(struct ntcp2_hs *hs)
{
	aes256_free(hs->aes);
	noise_sym_wipe(&hs->sym);
	memwipe(hs, sizeof(*hs));
}

/* ---- replay cache ---- */

struct replay_gen {
	uint64_t *slots;	/* fingerprints; 0 = empty */
	size_t n;
};

struct ntcp2_replay {
	struct replay_gen gen[2];	/* [0] current, [1] previous */
	size_t cap;			/* slots per generation (power of 2) */
	size_t max_per_gen;
	uint64_t lifetime_ms;
	uint64_t gen_start_ms;
	bool started;
	uint8_t key[SIPHASH_KEY_BYTES];
};

struct ntcp2_replay *ntcp2_replay_new(size_t max_per_gen, uint64_t lifetime_ms)
{
	struct ntcp2_replay *rc = xzalloc(sizeof(*rc));

	if (max_per_gen < 16)
		max_per_gen = 16;
	rc->max_per_gen = max_per_gen;
	rc->cap = 32;
	while (rc->cap < 2 * max_per_gen)	/* load factor <= 1/2 */
		rc->cap *= 2;
	rc->gen[0].slots = xcalloc(rc->cap, sizeof(uint64_t));
	rc->gen[1].slots = xcalloc(rc->cap, sizeof(uint64_t));
	rc->lifetime_ms = lifetime_ms;
	rand_bytes(rc->key, sizeof(rc->key));
	return rc;
}

void ntcp2_replay_free(struct ntcp2_replay *rc)
{
	if (!rc)
		return;
	free(rc->gen[0].slots);
	free(rc->gen[1].slots);
	memwipe(rc, sizeof(*rc));
	free(rc);
}

static bool gen_has(const struct ntcp2_replay *rc, const struct replay_gen *g,
		    uint64_t fp)
{
	size_t mask = rc->cap - 1;

	for (size_t i = fp & mask;; i = (i + 1) & mask) {
		if (g->slots[i] == 0)
			return false;
		if (g->slots[i] == fp)
			return true;
	}
}

static void gen_add(const struct ntcp2_replay *rc, struct replay_gen *g,
		    uint64_t fp)
{
	size_t mask = rc->cap - 1;
	size_t i = fp & mask;

	while (g->slots[i] != 0)
		i = (i + 1) & mask;
	g->slots[i] = fp;
	g->n++;
}

static void replay_rotate(struct ntcp2_replay *rc, uint64_t now_mono_ms)
{
	struct replay_gen old = rc->gen[1];

	rc->gen[1] = rc->gen[0];
	memset(old.slots, 0, rc->cap * sizeof(uint64_t));
	old.n = 0;
	rc->gen[0] = old;
	rc->gen_start_ms = now_mono_ms;
}

int ntcp2_replay_check(struct ntcp2_replay *rc, const uint8_t key[32],
		       uint64_t now_mono_ms)
{
	uint64_t fp = siphash24_u64(rc->key, key, 32);
	uint64_t elapsed;

	if (fp == 0)
		fp = 1;
	if (!rc->started) {
		rc->started = true;
		rc->gen_start_ms = now_mono_ms;
	}
	elapsed = now_mono_ms - rc->gen_start_ms;
	if (elapsed >= rc->lifetime_ms) {
		replay_rotate(rc, now_mono_ms);
		/* Idle for two lifetimes: the previous generation is stale. */
		if (elapsed >= 2 * rc->lifetime_ms)
			replay_rotate(rc, now_mono_ms);
	}
	if (gen_has(rc, &rc->gen[0], fp) || gen_has(rc, &rc->gen[1], fp))
		return ERR_DUPLICATE;
	if (rc->gen[0].n >= rc->max_per_gen) {
		log_info_rl(60, LD_NTCP2, "replay cache full after %llu ms: "
			    "rotating early",
			    (unsigned long long)(now_mono_ms - rc->gen_start_ms));
		replay_rotate(rc, now_mono_ms);
	}
	gen_add(rc, &rc->gen[0], fp);
	return 0;
}

size_t ntcp2_replay_count(const struct ntcp2_replay *rc)
{
	return rc->gen[0].n + rc->gen[1].n;
}
