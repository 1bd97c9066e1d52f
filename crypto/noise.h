/*
 * The Noise Protocol Framework (revision 34) for 25519 / ChaChaPoly /
 * SHA256: the cipher state, the symmetric state (ck, h, k, n) and a small
 * handshake engine for the patterns N, XK and IK.
 *
 * I2P's protocols deviate from plain Noise (NTCP2 and SSU2 obfuscate the
 * ephemeral key and mix padding and headers into h; tunnel builds use N
 * with their own record layout), so they drive struct noise_sym directly and
 * use the handshake engine only where they follow a standard pattern.
 * Everything here holds session secrets: wipe with the _wipe functions.
 * No function here is thread-safe on a shared object.
 */
#ifndef CRYPTO_NOISE_H
#define CRYPTO_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/keystore.h"
#include "crypto/x25519.h"

#define NOISE_HASH_BYTES 32
#define NOISE_KEY_BYTES 32
#define NOISE_DH_BYTES 32
#define NOISE_TAG_BYTES 16
/* Noise §3: every message, handshake or transport, is at most 65535 bytes. */
#define NOISE_MAX_MSG_BYTES 65535

/* Noise §5.1 CipherState.  n = 2^64 - 1 is reserved and never used. */
struct noise_cipher {
	uint8_t k[NOISE_KEY_BYTES];
	uint64_t n;
	bool has_key;
};

/* InitializeKey(k): set k (copied) and n = 0. */
void noise_cipher_init(struct noise_cipher *c,
		       const uint8_t k[NOISE_KEY_BYTES]);
/*
 * EncryptWithAd: out = ChaChaPoly(k, n, ad, in) (len + 16 bytes), n += 1.
 * Without a key out = in (len bytes).  out may equal in.  ERR_LIMIT when
 * the nonce is exhausted.
 */
int noise_cipher_encrypt(struct noise_cipher *c, uint8_t *out, const void *ad,
			 size_t adlen, const uint8_t *in, size_t len);
/*
 * DecryptWithAd: out gets inlen - 16 bytes (inlen without a key), n += 1 on
 * success only.  out may equal in.  ERR_AUTH on a bad tag, ERR_TRUNCATED
 * when inlen < 16, ERR_LIMIT when the nonce is exhausted.
 */
int noise_cipher_decrypt(struct noise_cipher *c, uint8_t *out, const void *ad,
			 size_t adlen, const uint8_t *in, size_t inlen);
void noise_cipher_wipe(struct noise_cipher *c);

/* Noise §5.2 SymmetricState. */
struct noise_sym {
	uint8_t ck[NOISE_HASH_BYTES];
	uint8_t h[NOISE_HASH_BYTES];
	struct noise_cipher cs;
};

/*
 * InitializeSymmetric(name): h = name zero-padded to 32 bytes when it is 32
 * bytes or shorter, else SHA-256(name); ck = h; no key.
 */
void noise_sym_init(struct noise_sym *s, const char *protocol_name);
/* h = SHA-256(h ‖ data). */
void noise_sym_mix_hash(struct noise_sym *s, const void *data, size_t len);
/* ck, k = HKDF(ck, ikm, "", 64); InitializeKey(k). */
void noise_sym_mix_key(struct noise_sym *s, const uint8_t *ikm, size_t ikmlen);
/* out = EncryptWithAd(h, in); MixHash(out).  out holds len + 16 bytes when
 * a key is set (noise_sym_has_key), len otherwise.  out may equal in. */
int noise_sym_encrypt_and_hash(struct noise_sym *s, uint8_t *out,
			       const uint8_t *in, size_t len);
/* out = DecryptWithAd(h, in); MixHash(in).  out may equal in.  On failure
 * h is unchanged. */
int noise_sym_decrypt_and_hash(struct noise_sym *s, uint8_t *out,
			       const uint8_t *in, size_t inlen);
static inline bool noise_sym_has_key(const struct noise_sym *s)
{
	return s->cs.has_key;
}
/* c1, c2 = HKDF(ck, ZEROLEN, "", 64) as two fresh cipher states. */
void noise_sym_split(const struct noise_sym *s, struct noise_cipher *c1,
		     struct noise_cipher *c2);
void noise_sym_wipe(struct noise_sym *s);

/*
 * A local static X25519 key for a handshake: the public half plus either a
 * raw secret (tests, short-lived keys) or a keystore slot (router keys, so
 * the secret never leaves crypto/keystore.c).  Set exactly one of sk / ks.
 * Both are borrowed and must outlive the handshake.
 */
struct noise_static {
	struct x25519_pk pk;
	const struct x25519_sk *sk;
	const struct keystore *ks;
	enum keystore_x25519 slot;
};
/* Fill st for a raw secret key (pk derived from sk). */
void noise_static_from_sk(struct noise_static *st, const struct x25519_sk *sk);
/* Fill st for a keystore slot. */
void noise_static_from_keystore(struct noise_static *st,
				const struct keystore *ks,
				enum keystore_x25519 slot);
/* out = X25519(st's secret, peer), through the keystore slot or the raw
 * secret.  ERR_CRYPTO on an all-zero result. */
int noise_static_dh(const struct noise_static *st, uint8_t out[32],
		    const struct x25519_pk *peer);
/* When dh_result is 0, MixKey(dh); wipe dh either way; return dh_result.
 * Lets a caller write mix_dh(s, x25519_dh(dh, ...), dh). */
int noise_sym_mix_dh(struct noise_sym *s, int dh_result, uint8_t dh[32]);

enum noise_pattern {
	NOISE_PATTERN_N,	/* <- s ... -> e, es */
	NOISE_PATTERN_XK,	/* <- s ... -> e, es; <- e, ee; -> s, se */
	NOISE_PATTERN_IK	/* <- s ... -> e, es, s, ss; <- e, ee, se */
};

enum noise_role { NOISE_INITIATOR, NOISE_RESPONDER };

/* Noise §5.3 HandshakeState.  Fields are private to crypto/noise.c. */
struct noise_hs {
	struct noise_sym sym;
	enum noise_pattern pattern;
	enum noise_role role;
	unsigned msg;			/* index of the next message */
	bool failed;
	struct noise_static s;		/* has_s: s.pk valid */
	struct x25519_sk e;
	struct x25519_pk e_pk, rs, re;
	bool has_s, has_e, has_rs, has_re;
};

/*
 * Initialize(pattern, role, prologue, s, rs): InitializeSymmetric(name),
 * MixHash(prologue), then the pattern's pre-message (the responder's
 * static key, for all three patterns).  protocol_name is the full name
 * (e.g. "Noise_XK_25519_ChaChaPoly_SHA256", or an I2P name); it is not
 * checked against pattern.  s (copied; what it points to is borrowed) is
 * the local static key, rs the remote one (copied); pass NULL where the
 * role has none.  ERR_ARG when the pattern needs a key that is missing.
 */
int noise_hs_init(struct noise_hs *hs, enum noise_pattern pattern,
		  enum noise_role role, const char *protocol_name,
		  const void *prologue, size_t prologue_len,
		  const struct noise_static *s, const struct x25519_pk *rs);
/* Use e as the ephemeral key instead of a random one (test vectors, or a
 * protocol that needs e before the first message).  Before the e token. */
void noise_hs_set_ephemeral(struct noise_hs *hs, const struct x25519_sk *e);

/*
 * WriteMessage: process the next message's tokens and append
 * EncryptAndHash(payload).  *outlen gets the length written:
 * noise_hs_overhead() + plen, which must fit outmax and the 65535-byte
 * Noise limit (else ERR_TOO_BIG and hs is unchanged).  payload must not
 * overlap out.  ERR_BAD_STATE when it is not our turn or the handshake is
 * over.  ERR_CRYPTO on a low-order DH result, after which hs is unusable.
 */
int noise_hs_write(struct noise_hs *hs, uint8_t *out, size_t outmax,
		   size_t *outlen, const void *payload, size_t plen);
/*
 * ReadMessage: parse msg (untrusted) and decrypt its payload into out (up
 * to outmax bytes); *plen gets the payload length.  ERR_TRUNCATED,
 * ERR_AUTH, ERR_CRYPTO, ERR_TOO_BIG, ERR_BAD_STATE.  Any error leaves hs
 * unusable (Noise §5.3: the handshake is aborted).
 */
int noise_hs_read(struct noise_hs *hs, uint8_t *out, size_t outmax,
		  size_t *plen, const uint8_t *msg, size_t len);
/* True when every message of the pattern has been processed. */
bool noise_hs_is_done(const struct noise_hs *hs);
/* Bytes the next message carries besides the payload (keys and tags). */
size_t noise_hs_overhead(const struct noise_hs *hs);
/*
 * After the last message: the send and receive cipher states for this
 * role (Split(): the initiator sends with c1, the responder with c2), and
 * the handshake hash h if hash is not NULL.  Wipes hs.  ERR_BAD_STATE if the
 * handshake is not done.
 */
int noise_hs_split(struct noise_hs *hs, struct noise_cipher *send,
		   struct noise_cipher *recv, uint8_t hash[NOISE_HASH_BYTES]);
/* The remote static key, once received or given. False if none yet. */
bool noise_hs_remote_static(const struct noise_hs *hs, struct x25519_pk *out);
void noise_hs_wipe(struct noise_hs *hs);

#endif /* CRYPTO_NOISE_H */
