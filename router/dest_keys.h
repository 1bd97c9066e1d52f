/*
 * A local destination's private keys in the format i2pd's key files and
 * SAM's private-key blobs use (SAM v3 "DEST GENERATE": "$privkey is the
 * base 64 of the concatenation of the Destination followed by the Private
 * Key followed by the Signing Private Key, optionally followed by the
 * Offline Signature"; i2pd's PrivateKeys):
 *
 *   Destination (387+ bytes) ‖ crypto private key (32 bytes for
 *   X25519, crypto type 4; 256 bytes for the other types) ‖ signing
 *   private key (its type's length, e.g. 32 for Ed25519)
 *
 * and when the signing private key is all zeros (offline keys):
 *
 *   ‖ expires (4) ‖ transient sig type (2) ‖ transient public key ‖
 *   signature by the Destination (its type's length) ‖ transient
 *   private key
 *
 * Binary (i2pd's .dat files) or I2P Base64 (SAM).  Generation makes
 * Ed25519 (7) + X25519 (4) destinations whose crypto public key field
 * holds the X25519 key of the crypto private key.  i2pd's destinations
 * fill that field with padding instead and store random bytes as the
 * private key: since LeaseSet2 the encryption keys travel in the
 * LeaseSet, so neither is used (dest_keys_enc_key_in_dest() tells).  Decoding accepts the signing
 * types whose private key length is known (DSA, ECDSA, Ed25519, RedDSA);
 * dest_keys_check() verifies that the private keys belong to the
 * public ones where we can compute that (X25519, Ed25519, RedDSA).
 *
 * struct dest_keys is a plain value holding secrets: dest_keys_wipe() it.
 */
#ifndef ROUTER_DEST_KEYS_H
#define ROUTER_DEST_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "router/keys_and_cert.h"

#define DEST_KEYS_ENC_SK_MAX_BYTES 256
#define DEST_KEYS_SIG_SK_MAX_BYTES 128
/* i2pd refuses signing private keys over 128 bytes, as we do. */
#define DEST_KEYS_MAX_BYTES (KAC_MAX_BYTES + DEST_KEYS_ENC_SK_MAX_BYTES + \
			     DEST_KEYS_SIG_SK_MAX_BYTES + 6 + \
			     KAC_MAX_SIG_PUBKEY_BYTES + 512 + \
			     DEST_KEYS_SIG_SK_MAX_BYTES)
/* "<52 base32 characters>.b32.i2p" and the NUL */
#define DEST_B32_CHARS (52 + 8)

struct dest_keys {
	struct keys_and_cert dest;
	uint8_t enc_sk[DEST_KEYS_ENC_SK_MAX_BYTES];	/* secret */
	size_t enc_sk_len;
	/* The Destination's signing key, or with offline keys the
	 * transient one (then the Destination's is absent: all zeros). */
	uint8_t sig_sk[DEST_KEYS_SIG_SK_MAX_BYTES];	/* secret */
	size_t sig_sk_len;
	uint16_t signer_type;		/* the type sig_sk signs with */
	bool offline;
	uint32_t offline_expires_s;
	uint8_t transient_pk[KAC_MAX_SIG_PUBKEY_BYTES];
	size_t transient_pk_len;
	uint8_t offline_sig[512];	/* by the Destination */
	size_t offline_sig_len;
};

/* New Ed25519 + X25519 keys (random padding, proposal 161). */
void dest_keys_generate(struct dest_keys *out);

/*
 * Decode len bytes (untrusted) of the binary form; the whole buffer must
 * be one key set.  Errors: ERR_TRUNCATED, ERR_FORMAT (trailing bytes),
 * ERR_UNSUPPORTED (a signing type whose private key length we do not
 * know), keys_and_cert_decode()'s errors, and with offline keys
 * ERR_BAD_SIG / ERR_UNSUPPORTED from checking the offline signature.
 * *out is written only on success (wipe it when done).
 */
int dest_keys_decode(const uint8_t *buf, size_t len, struct dest_keys *out);
/* Append the binary form to out (secret: bbuf_free() wipes). */
void dest_keys_encode(const struct dest_keys *k, struct bbuf *out);
/* The same in I2P Base64 (SAM's private key), NUL-terminated in *out
 * (caller frees with xfree_wipe(*out, strlen + 1)). */
int dest_keys_parse(const char *s, size_t len, struct dest_keys *out);
char *dest_keys_format(const struct dest_keys *k);

/*
 * Check that the signing private key matches the public one: the
 * Ed25519 / RedDSA key of the Destination, or the transient key with
 * offline keys.  Other types are not checked.  Errors: ERR_CRYPTO (the
 * key does not match).
 */
int dest_keys_check(const struct dest_keys *k);
/* True when the Destination's crypto key is the X25519 public key of
 * enc_sk (ours); false for padding (i2pd's) or another crypto type. */
bool dest_keys_enc_key_in_dest(const struct dest_keys *k);

/* Read (mode must not matter: a private file is made 0600) / write
 * (atomically, 0600, never over an existing file unless replace). */
int dest_keys_load(const char *path, struct dest_keys *out);
int dest_keys_save(const char *path, const struct dest_keys *k, bool replace);

/* Wipe the secrets in k. */
void dest_keys_wipe(struct dest_keys *k);

/* "<base32 of SHA-256(Destination)>.b32.i2p" into out. */
void dest_b32_format(const struct keys_and_cert *dest,
		     char out[DEST_B32_CHARS + 1]);
/* The Destination in I2P Base64 (what SAM calls $destination; caller
 * frees). */
char *dest_b64_format(const struct keys_and_cert *dest);

#endif /* ROUTER_DEST_KEYS_H */
