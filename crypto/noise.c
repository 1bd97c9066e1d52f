/*
 * Noise (crypto/noise.h), after "The Noise Protocol Framework", revision
 * 34: §5.1 CipherState, §5.2 SymmetricState, §5.3 HandshakeState, with the
 * 25519 (§12.1), ChaChaPoly (§12.3: nonce = 32 zero bits ‖ LE64 n) and
 * SHA256 (§12.5) functions.  HKDF is crypto/hash.h's, which is Noise §4.3's
 * HKDF with two outputs when info is empty.
 *
 * Patterns are tables of tokens (§7.4 N, §7.5 XK and IK).  All three have
 * the single pre-message "<- s", so both sides start by hashing the
 * responder's static key.
 */
#include "config.h"
#include "crypto/noise.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/chacha.h"
#include "crypto/hash.h"

#include <string.h>

void noise_cipher_init(struct noise_cipher *c, const uint8_t k[NOISE_KEY_BYTES])
{
	memcpy(c->k, k, NOISE_KEY_BYTES);
	c->n = 0;
	c->has_key = true;
}

int noise_cipher_encrypt(struct noise_cipher *c, uint8_t *out, const void *ad,
			 size_t adlen, const uint8_t *in, size_t len)
{
	if (!c->has_key) {
		memmove(out, in, len);
		return 0;
	}
	/* §5.1: "If incrementing n results in 2^64-1, then any further
	 * EncryptWithAd() or DecryptWithAd() calls will signal an error". */
	if (c->n == UINT64_MAX)
		return ERR_LIMIT;
	chachapoly_encrypt_n(out, c->k, c->n, ad, adlen, in, len);
	c->n++;
	return 0;
}

int noise_cipher_decrypt(struct noise_cipher *c, uint8_t *out, const void *ad,
			 size_t adlen, const uint8_t *in, size_t inlen)
{
	int r;

	if (!c->has_key) {
		memmove(out, in, inlen);
		return 0;
	}
	if (c->n == UINT64_MAX)
		return ERR_LIMIT;
	/* §5.1: "If an authentication failure occurs in DecryptWithAd() then
	 * the nonce is not incremented". */
	if ((r = chachapoly_decrypt_n(out, c->k, c->n, ad, adlen, in,
				      inlen)) != 0)
		return r;
	c->n++;
	return 0;
}

void noise_cipher_wipe(struct noise_cipher *c)
{
	memwipe(c, sizeof(*c));
}

void noise_sym_init(struct noise_sym *s, const char *protocol_name)
{
	size_t len = strlen(protocol_name);

	memset(s, 0, sizeof(*s));
	/* §5.2 InitializeSymmetric: "If protocol_name is less than or equal
	 * to HASHLEN bytes in length, sets h equal to protocol_name with
	 * zero bytes appended to make HASHLEN bytes. Otherwise sets
	 * h = HASH(protocol_name)." */
	if (len <= NOISE_HASH_BYTES)
		memcpy(s->h, protocol_name, len);
	else
		sha256(s->h, protocol_name, len);
	memcpy(s->ck, s->h, NOISE_HASH_BYTES);
}

void noise_sym_mix_hash(struct noise_sym *s, const void *data, size_t len)
{
	sha256_2(s->h, s->h, NOISE_HASH_BYTES, data, len);
}

void noise_sym_mix_key(struct noise_sym *s, const uint8_t *ikm, size_t ikmlen)
{
	uint8_t out[2 * NOISE_HASH_BYTES];

	/* §5.2 MixKey: "Sets ck, temp_k = HKDF(ck, input_key_material, 2)." */
	hkdf_sha256(out, sizeof(out), s->ck, NOISE_HASH_BYTES, ikm, ikmlen,
		    NULL, 0);
	memcpy(s->ck, out, NOISE_HASH_BYTES);
	noise_cipher_init(&s->cs, out + NOISE_HASH_BYTES);
	memwipe(out, sizeof(out));
}

int noise_sym_encrypt_and_hash(struct noise_sym *s, uint8_t *out,
			       const uint8_t *in, size_t len)
{
	size_t outlen = len + (s->cs.has_key ? NOISE_TAG_BYTES : 0);
	int r;

	if ((r = noise_cipher_encrypt(&s->cs, out, s->h, NOISE_HASH_BYTES, in,
				      len)) != 0)
		return r;
	noise_sym_mix_hash(s, out, outlen);
	return 0;
}

int noise_sym_decrypt_and_hash(struct noise_sym *s, uint8_t *out,
			       const uint8_t *in, size_t inlen)
{
	uint8_t h[NOISE_HASH_BYTES];
	int r;

	/* Hash the ciphertext first: out may overwrite it. */
	sha256_2(h, s->h, NOISE_HASH_BYTES, in, inlen);
	if ((r = noise_cipher_decrypt(&s->cs, out, s->h, NOISE_HASH_BYTES, in,
				      inlen)) == 0)
		memcpy(s->h, h, NOISE_HASH_BYTES);
	memwipe(h, sizeof(h));
	return r;
}

void noise_sym_split(const struct noise_sym *s, struct noise_cipher *c1,
		     struct noise_cipher *c2)
{
	uint8_t out[2 * NOISE_HASH_BYTES];

	/* §5.2 Split: "Sets temp_k1, temp_k2 = HKDF(ck, zerolen, 2)." */
	hkdf_sha256(out, sizeof(out), s->ck, NOISE_HASH_BYTES, NULL, 0, NULL,
		    0);
	noise_cipher_init(c1, out);
	noise_cipher_init(c2, out + NOISE_HASH_BYTES);
	memwipe(out, sizeof(out));
}

void noise_sym_wipe(struct noise_sym *s)
{
	memwipe(s, sizeof(*s));
}

void noise_static_from_sk(struct noise_static *st, const struct x25519_sk *sk)
{
	memset(st, 0, sizeof(*st));
	st->sk = sk;
	x25519_pk_from_sk(&st->pk, sk);
}

void noise_static_from_keystore(struct noise_static *st,
				const struct keystore *ks,
				enum keystore_x25519 slot)
{
	memset(st, 0, sizeof(*st));
	st->ks = ks;
	st->slot = slot;
	keystore_x25519_pk(ks, slot, &st->pk);
}

/* ---- Handshake patterns ---- */

enum noise_token { TOK_END, TOK_E, TOK_S, TOK_EE, TOK_ES, TOK_SE, TOK_SS };

#define NOISE_MAX_MSGS 3
#define NOISE_MAX_TOKENS 5

struct noise_pattern_def {
	unsigned nmsgs;
	bool needs_init_static;
	uint8_t tok[NOISE_MAX_MSGS][NOISE_MAX_TOKENS];	/* TOK_END-terminated */
};

/* Message 0 is the initiator's; they alternate from there.  Every pattern
 * here has the pre-message "<- s". */
static const struct noise_pattern_def noise_patterns[] = {
	[NOISE_PATTERN_N] = { 1, false, { { TOK_E, TOK_ES } } },
	[NOISE_PATTERN_XK] = { 3, true, { { TOK_E, TOK_ES },
					  { TOK_E, TOK_EE },
					  { TOK_S, TOK_SE } } },
	[NOISE_PATTERN_IK] = { 2, true, { { TOK_E, TOK_ES, TOK_S, TOK_SS },
					  { TOK_E, TOK_EE, TOK_SE } } },
};

static const struct noise_pattern_def *hs_def(const struct noise_hs *hs)
{
	return &noise_patterns[hs->pattern];
}

int noise_hs_init(struct noise_hs *hs, enum noise_pattern pattern,
		  enum noise_role role, const char *protocol_name,
		  const void *prologue, size_t prologue_len,
		  const struct noise_static *s, const struct x25519_pk *rs)
{
	const bool init = role == NOISE_INITIATOR;

	memset(hs, 0, sizeof(*hs));
	if ((unsigned)pattern >= ARRAY_LEN(noise_patterns))
		return ERR_ARG;
	if (init ? !rs || (noise_patterns[pattern].needs_init_static && !s)
		 : !s)
		return ERR_ARG;
	if (s && (!s->sk) == (!s->ks))
		return ERR_ARG;		/* exactly one secret source */
	hs->pattern = pattern;
	hs->role = role;
	if (s) {
		hs->s = *s;
		hs->has_s = true;
	}
	if (rs) {
		hs->rs = *rs;
		hs->has_rs = true;
	}
	noise_sym_init(&hs->sym, protocol_name);
	noise_sym_mix_hash(&hs->sym, prologue, prologue_len);
	/* Pre-message "<- s": "the responder's static public key". */
	noise_sym_mix_hash(&hs->sym, init ? hs->rs.b : hs->s.pk.b,
			   NOISE_DH_BYTES);
	return 0;
}

void noise_hs_set_ephemeral(struct noise_hs *hs, const struct x25519_sk *e)
{
	hs->e = *e;
	x25519_pk_from_sk(&hs->e_pk, e);
	hs->has_e = true;
}

bool noise_hs_is_done(const struct noise_hs *hs)
{
	return !hs->failed && hs->msg >= hs_def(hs)->nmsgs;
}

bool noise_hs_remote_static(const struct noise_hs *hs, struct x25519_pk *out)
{
	if (!hs->has_rs)
		return false;
	*out = hs->rs;
	return true;
}

static bool hs_my_turn(const struct noise_hs *hs)
{
	return !hs->failed && hs->msg < hs_def(hs)->nmsgs &&
	       (hs->msg % 2 == 0) == (hs->role == NOISE_INITIATOR);
}

size_t noise_hs_overhead(const struct noise_hs *hs)
{
	const uint8_t *tok;
	bool key = hs->sym.cs.has_key;
	size_t n = 0;

	if (hs->failed || hs->msg >= hs_def(hs)->nmsgs)
		return 0;
	tok = hs_def(hs)->tok[hs->msg];
	for (unsigned i = 0; i < NOISE_MAX_TOKENS && tok[i] != TOK_END; i++) {
		if (tok[i] == TOK_E)
			n += NOISE_DH_BYTES;
		else if (tok[i] == TOK_S)
			n += NOISE_DH_BYTES + (key ? NOISE_TAG_BYTES : 0);
		else
			key = true;
	}
	return n + (key ? NOISE_TAG_BYTES : 0);
}

/* MixKey(DH(local, remote)) for a DH token, from our role's view. */
int noise_static_dh(const struct noise_static *st, uint8_t out[32],
		    const struct x25519_pk *peer)
{
	if (st->ks)
		return keystore_dh(st->ks, st->slot, out, peer);
	if (BUG(!st->sk))
		return ERR_INTERNAL;
	return x25519_dh(out, st->sk, peer);
}

int noise_sym_mix_dh(struct noise_sym *s, int dh_result, uint8_t dh[32])
{
	if (dh_result == 0)
		noise_sym_mix_key(s, dh, 32);
	memwipe(dh, 32);
	return dh_result;
}

static int hs_mix_dh(struct noise_hs *hs, enum noise_token tok)
{
	const bool init = hs->role == NOISE_INITIATOR;
	bool local_s = false, remote_s = false;
	uint8_t dh[NOISE_DH_BYTES];
	int r;

	switch (tok) {
	case TOK_EE:
		break;
	case TOK_ES:
		local_s = !init;
		remote_s = init;
		break;
	case TOK_SE:
		local_s = init;
		remote_s = !init;
		break;
	case TOK_SS:
		local_s = remote_s = true;
		break;
	case TOK_END:
	case TOK_E:
	case TOK_S:
		return ERR_INTERNAL;
	}
	if (BUG(local_s ? !hs->has_s : !hs->has_e) ||
	    BUG(remote_s ? !hs->has_rs : !hs->has_re))
		return ERR_BAD_STATE;
	{
		const struct x25519_pk *peer = remote_s ? &hs->rs : &hs->re;

		r = local_s ? noise_static_dh(&hs->s, dh, peer)
			    : x25519_dh(dh, &hs->e, peer);
	}
	return noise_sym_mix_dh(&hs->sym, r, dh);
}

/* Token "e": send our ephemeral key (made now unless preset); MixHash. */
static int hs_write_e(struct noise_hs *hs, struct bbuf *w)
{
	if (!hs->has_e) {
		x25519_keygen(&hs->e, &hs->e_pk);
		hs->has_e = true;
	}
	bbuf_put(w, hs->e_pk.b, NOISE_DH_BYTES);
	noise_sym_mix_hash(&hs->sym, hs->e_pk.b, NOISE_DH_BYTES);
	return 0;
}

/* Token "e" received: re = the next 32 bytes; MixHash. */
static int hs_read_e(struct noise_hs *hs, struct breader *rd)
{
	br_copy(rd, hs->re.b, NOISE_DH_BYTES);
	if (rd->failed)
		return ERR_TRUNCATED;
	hs->has_re = true;
	noise_sym_mix_hash(&hs->sym, hs->re.b, NOISE_DH_BYTES);
	return 0;
}

/* Bytes an "s" token takes now: the key, plus a tag once keyed. */
static size_t hs_s_len(const struct noise_hs *hs)
{
	return NOISE_DH_BYTES +
	       (noise_sym_has_key(&hs->sym) ? NOISE_TAG_BYTES : 0);
}

/* Token "s": EncryptAndHash(s.pub). */
static int hs_write_s(struct noise_hs *hs, struct bbuf *w)
{
	uint8_t *p = bbuf_extend(w, hs_s_len(hs));

	return noise_sym_encrypt_and_hash(&hs->sym, p, hs->s.pk.b,
					  NOISE_DH_BYTES);
}

/* Token "s" received: rs = DecryptAndHash(next 32 or 48 bytes). */
static int hs_read_s(struct noise_hs *hs, struct breader *rd)
{
	size_t n = hs_s_len(hs);
	const uint8_t *p = br_take(rd, n);
	uint8_t tmp[NOISE_DH_BYTES + NOISE_TAG_BYTES];
	int r;

	if (!p)
		return ERR_TRUNCATED;
	if ((r = noise_sym_decrypt_and_hash(&hs->sym, tmp, p, n)) != 0)
		return r;
	memcpy(hs->rs.b, tmp, NOISE_DH_BYTES);
	hs->has_rs = true;
	return 0;
}

/* Process the tokens of the current message: writing into w, or reading
 * from rd when w is NULL. */
static int hs_tokens(struct noise_hs *hs, struct bbuf *w, struct breader *rd)
{
	const uint8_t *tok = hs_def(hs)->tok[hs->msg];
	int r = 0;

	for (unsigned i = 0; i < NOISE_MAX_TOKENS && tok[i] != TOK_END; i++) {
		switch ((enum noise_token)tok[i]) {
		case TOK_E:
			r = w ? hs_write_e(hs, w) : hs_read_e(hs, rd);
			break;
		case TOK_S:
			r = w ? hs_write_s(hs, w) : hs_read_s(hs, rd);
			break;
		case TOK_EE:
		case TOK_ES:
		case TOK_SE:
		case TOK_SS:
			r = hs_mix_dh(hs, (enum noise_token)tok[i]);
			break;
		case TOK_END:
			break;
		}
		if (r != 0)
			return r;
	}
	return 0;
}

int noise_hs_write(struct noise_hs *hs, uint8_t *out, size_t outmax,
		   size_t *outlen, const void *payload, size_t plen)
{
	struct bbuf w = BBUF_INIT;
	size_t total;
	uint8_t *p;
	int r;

	if (!hs_my_turn(hs))
		return ERR_BAD_STATE;
	total = noise_hs_overhead(hs);
	if (plen > NOISE_MAX_MSG_BYTES - total || total + plen > outmax)
		return ERR_TOO_BIG;	/* nothing changed: hs still usable */
	if ((r = hs_tokens(hs, &w, NULL)) != 0)
		goto out;
	p = bbuf_extend(&w, plen + (noise_sym_has_key(&hs->sym)
				    ? NOISE_TAG_BYTES : 0));
	if ((r = noise_sym_encrypt_and_hash(&hs->sym, p, payload, plen)) != 0)
		goto out;
	if (BUG(w.len != total + plen)) {
		r = ERR_INTERNAL;
		goto out;
	}
	memcpy(out, w.data, w.len);
	*outlen = w.len;
	hs->msg++;
out:
	if (r != 0)
		hs->failed = true;
	bbuf_free(&w);
	return r;
}

int noise_hs_read(struct noise_hs *hs, uint8_t *out, size_t outmax,
		  size_t *plen, const uint8_t *msg, size_t len)
{
	struct breader rd;
	size_t tag, n;
	int r;

	if (hs->failed || hs->msg >= hs_def(hs)->nmsgs || hs_my_turn(hs))
		return ERR_BAD_STATE;
	if (len > NOISE_MAX_MSG_BYTES) {
		r = ERR_TOO_BIG;
		goto out;
	}
	if (len < noise_hs_overhead(hs)) {
		r = ERR_TRUNCATED;
		goto out;
	}
	br_init(&rd, msg, len);
	if ((r = hs_tokens(hs, NULL, &rd)) != 0)
		goto out;
	tag = noise_sym_has_key(&hs->sym) ? NOISE_TAG_BYTES : 0;
	n = br_left(&rd);
	if (n < tag) {
		r = ERR_TRUNCATED;
		goto out;
	}
	if (n - tag > outmax) {
		r = ERR_TOO_BIG;
		goto out;
	}
	if ((r = noise_sym_decrypt_and_hash(&hs->sym, out, br_take(&rd, n),
					    n)) != 0)
		goto out;
	*plen = n - tag;
	hs->msg++;
out:
	if (r != 0)
		hs->failed = true;
	return r;
}

int noise_hs_split(struct noise_hs *hs, struct noise_cipher *send,
		   struct noise_cipher *recv, uint8_t hash[NOISE_HASH_BYTES])
{
	struct noise_cipher c1, c2;

	if (!noise_hs_is_done(hs))
		return ERR_BAD_STATE;
	noise_sym_split(&hs->sym, &c1, &c2);
	if (hs->role == NOISE_INITIATOR) {
		*send = c1;
		*recv = c2;
	} else {
		*send = c2;
		*recv = c1;
	}
	if (hash)
		memcpy(hash, hs->sym.h, NOISE_HASH_BYTES);
	noise_cipher_wipe(&c1);
	noise_cipher_wipe(&c2);
	noise_hs_wipe(hs);
	return 0;
}

void noise_hs_wipe(struct noise_hs *hs)
{
	memwipe(hs, sizeof(*hs));
}
