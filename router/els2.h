/*
 * Encrypted LeaseSet2 (encryptedleaseset spec): the daily blinding of a
 * destination's signing key, layer 1 (client authorization) and layer 2
 * (the inner LeaseSet2 or MetaLeaseSet), and per-client authorization by
 * X25519 DH or by pre-shared key.  The outer layer (layer 0) and its
 * signature are router/leaseset.h's (leaseset_enc_encode(), and
 * leaseset_decode() of type LEASESET_ENC_LS2); the curve math is
 * crypto/blinding.h's.
 *
 *   publisher: els2_blinding_derive() for today, the inner LS2 signed as
 *              usual, then els2_encode() (layers 2, 1, 0, RedDSA by a').
 *   client:    b33_parse() (router/b33.h), els2_blinding_derive(), look
 *              up els2_blinding.store_key, leaseset_decode() +
 *              leaseset_verify(), then els2_decrypt().
 *
 * Offline keys on the outer layer are not built here (the spec defines no
 * way to hand a router per-day blinded and transient keys).
 *
 * Everything is a plain value or a borrowed pointer; no state is kept.
 */
#ifndef ROUTER_ELS2_H
#define ROUTER_ELS2_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "router/leaseset.h"

#define ELS2_KEY_BYTES 32
#define ELS2_SALT_BYTES 32
/* clientID_i (8) ‖ clientCookie_i (32) */
#define ELS2_CLIENT_ID_BYTES 8
#define ELS2_AUTH_ENTRY_BYTES 40
/* A cap on authClient entries we build or search (the LeaseSet's 3 KiB
 * limit allows about 70). */
#define ELS2_MAX_CLIENTS 64

/* Layer 1 flags: bit 0 per-client; bits 3-1 the scheme. */
#define ELS2_L1_FLAG_PER_CLIENT 0x01u
#define ELS2_L1_SCHEME_SHIFT 1
#define ELS2_L1_SCHEME_MASK 0x0eu

enum els2_auth {
	ELS2_AUTH_NONE,		/* "for everybody" */
	ELS2_AUTH_DH,		/* scheme 0: X25519 per client */
	ELS2_AUTH_PSK,		/* scheme 1: a pre-shared key per client */
};

/* One destination's blinding for one day. */
struct els2_blinding {
	uint16_t sig_type;		/* of pk: 7 or 11 */
	uint16_t blinded_sig_type;	/* 11 */
	uint8_t pk[ELS2_KEY_BYTES];	/* A */
	uint8_t alpha[ELS2_KEY_BYTES];	/* secret to outsiders */
	uint8_t blinded_pk[ELS2_KEY_BYTES];	/* A' */
	uint8_t subcredential[ELS2_KEY_BYTES];
	/* netDb key: SHA-256(blinded sig type ‖ A') */
	uint8_t store_key[ELS2_KEY_BYTES];
};

/*
 * Blind pk (sig_type 7 or 11) for the UTC day of now_s, with the optional
 * secret (NULL when secret_len is 0).  Errors: ERR_UNSUPPORTED (another
 * sig type), ERR_FORMAT (pk is not a usable point).
 */
int els2_blinding_derive(const uint8_t pk[ELS2_KEY_BYTES], uint16_t sig_type,
			 uint64_t now_s, const uint8_t *secret,
			 size_t secret_len, struct els2_blinding *out);

/* What the publisher puts in.  Everything is borrowed for the call. */
struct els2_params {
	const struct els2_blinding *bl;
	const uint8_t *blinded_sk;	/* a' (32 bytes), signs the outer layer */
	/* the inner LeaseSet's (els2_decrypt() allows a minute's
	 * difference, and an outer that ends sooner) */
	uint32_t published_s;
	uint16_t expires_s;
	enum leaseset_type inner_type;	/* LEASESET_LS2 or LEASESET_META */
	const uint8_t *inner;		/* the signed inner LeaseSet */
	size_t inner_len;
	enum els2_auth auth;
	/* DH: each client's X25519 public key; PSK: each client's key. */
	const uint8_t (*clients)[ELS2_KEY_BYTES];
	size_t n_clients;		/* 1..ELS2_MAX_CLIENTS with auth */
};

/*
 * Build the three layers with fresh salts (and a fresh cookie and
 * ephemeral key with auth), clients in random order, and append the whole
 * EncryptedLeaseSet (without the store type byte) to out.  Errors: ERR_ARG
 * (bad params), ERR_TOO_BIG (over LEASESET_MAX_BYTES), ERR_CRYPTO (a
 * client's DH key is unusable).  out is unchanged on error.
 */
int els2_encode(const struct els2_params *p, struct bbuf *out);

/* The client's credential: its X25519 private key (DH) or its PSK. */
struct els2_cred {
	enum els2_auth auth;
	uint8_t key[ELS2_KEY_BYTES];	/* secret */
};

/*
 * Decrypt ls (an EncryptedLeaseSet already decoded and verified) with
 * bl (derived for ls's day) and cred (NULL: none).  On success *inner
 * (caller frees) is the inner LeaseSet, decoded and signature-checked,
 * signed by bl's destination key, published within a minute of the
 * outer and ending no sooner than it.  Errors: ERR_ARG (ls is not an
 * EncryptedLeaseSet, or is blinded with another key), ERR_AUTH
 * (per-client and no matching entry for cred, or no cred), ERR_FORMAT /
 * ERR_TRUNCATED / ERR_UNSUPPORTED (bad layers or inner LeaseSet, times
 * too far apart, another destination), ERR_BAD_SIG.  ChaCha20 carries
 * no MAC: a wrong key shows as ERR_FORMAT or ERR_BAD_SIG.
 */
int els2_decrypt(const struct leaseset *ls, const struct els2_blinding *bl,
		 const struct els2_cred *cred, struct leaseset **inner);

/* Layer 1 plaintext, parsed (untrusted input; pointers borrow from it). */
struct els2_layer1 {
	enum els2_auth auth;
	const uint8_t *auth_key;	/* DH: epk; PSK: authSalt */
	size_t n_clients;
	const uint8_t *entries;		/* n_clients × 40 bytes */
	const uint8_t *inner;		/* innerSalt ‖ encrypted layer 2 */
	size_t inner_len;
};

/*
 * Parse layer 1.  Errors: ERR_TRUNCATED, ERR_TOO_BIG (more than
 * ELS2_MAX_CLIENTS entries), ERR_UNSUPPORTED (an auth scheme other than
 * DH or PSK), ERR_FORMAT (scheme bits without the per-client bit, an
 * inner part too short to hold a salt and a type byte).
 */
int els2_layer1_decode(const uint8_t *buf, size_t len,
		       struct els2_layer1 *out);

#endif /* ROUTER_ELS2_H */
