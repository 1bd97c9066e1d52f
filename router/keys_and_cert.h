/*
 * KeysAndCert: the RouterIdentity and Destination structure
 * (common-structures spec, "KeysAndCert", "RouterIdentity", "Key
 * Certificates"; proposal 161 for the padding).
 *
 * Layout: a 384-byte key area (crypto public key aligned at the start,
 * signing public key aligned at the end, random padding between) and a
 * Certificate.  A Key Certificate names the key types; key bytes beyond the
 * area live in the certificate.  Ours (PROTOCOLS.md 2.2) is 391 bytes:
 * X25519 key (type 4) at bytes 0-31, padding at 32-351, Ed25519 key
 * (type 7) at 352-383, certificate 05 00 04 00 07 00 04.
 *
 * Decoding accepts every key type the spec defines, so the identity hash
 * (SHA-256 of all the bytes) is known for any router; only Ed25519
 * signatures can be verified, the others give ERR_UNSUPPORTED.  The exact
 * received bytes are kept: the hash and any re-send use them, never a
 * re-encoding.
 *
 * struct keys_and_cert is a plain value (no heap), safe to copy.
 */
#ifndef ROUTER_KEYS_AND_CERT_H
#define ROUTER_KEYS_AND_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/x25519.h"
#include "router/certificate.h"

#define KAC_KEY_AREA_BYTES 384
#define KAC_MIN_BYTES (KAC_KEY_AREA_BYTES + CERT_HEADER_BYTES)	/* 387 */
#define KAC_MAX_BYTES (KAC_MIN_BYTES + CERT_MAX_PAYLOAD_BYTES)
#define KAC_MAX_SIG_PUBKEY_BYTES 512	/* RSA-4096 */
#define KAC_MAX_ENC_PUBKEY_BYTES 256	/* ElGamal */
/* Proposal 161: fill the padding with one random 32-byte block repeated. */
#define KAC_PADDING_PATTERN_BYTES 32
/* Our RouterIdentity: X25519 + Ed25519 + 7-byte key certificate. */
#define ROUTER_IDENTITY_BYTES (KAC_KEY_AREA_BYTES + CERT_HEADER_BYTES + \
			       CERT_KEY_MIN_PAYLOAD_BYTES)	/* 391 */

struct keys_and_cert {
	uint8_t raw[KAC_MAX_BYTES];	/* the exact bytes, len of them */
	size_t len;
	uint8_t cert_type;		/* enum cert_type */
	uint16_t sig_type;		/* enum cert_sig_type */
	uint16_t enc_type;		/* enum cert_enc_type */
	uint8_t sig_key[KAC_MAX_SIG_PUBKEY_BYTES];	/* contiguous copy */
	size_t sig_key_len;
	uint8_t enc_key[KAC_MAX_ENC_PUBKEY_BYTES];
	size_t enc_key_len;
	uint8_t hash[SHA256_BYTES];	/* SHA-256 of raw: the router hash */
};

/*
 * Decode a KeysAndCert from r.  A NULL certificate (or another non-key
 * certificate) means ElGamal + DSA-SHA1.  Errors: ERR_TRUNCATED,
 * ERR_FORMAT (bad certificate length), ERR_UNSUPPORTED (a certificate or
 * key type the spec does not define).  *out is written only on success.
 */
int keys_and_cert_decode(struct breader *r, struct keys_and_cert *out);

/*
 * Build our kind of KeysAndCert: Ed25519 signing key, and either an X25519
 * crypto key (a RouterIdentity) or, with enc NULL, a Destination whose
 * 256-byte crypto field is padding (crypto type 0, unused since LS2).
 * The padding repeats the 32-byte pattern (proposal 161); with pattern NULL
 * a fresh one comes from rand_bytes().  Persist the resulting bytes: the
 * hash covers the padding.
 */
void keys_and_cert_build(struct keys_and_cert *out, const struct x25519_pk *enc,
			 const struct ed25519_pk *sig,
			 const uint8_t pattern[KAC_PADDING_PATTERN_BYTES]);

/* Signature length for k's signing type (0 if unknown). */
size_t keys_and_cert_sig_len(const struct keys_and_cert *k);
/* True when we can verify k's signatures (Ed25519 only). */
bool keys_and_cert_can_verify(const struct keys_and_cert *k);
/*
 * Check sig (sig_len bytes) over msg with k's signing key.  Errors:
 * ERR_FORMAT (sig_len is not the type's length), ERR_UNSUPPORTED (a type
 * we cannot verify), ERR_BAD_SIG.
 */
int keys_and_cert_verify(const struct keys_and_cert *k, const void *msg,
			 size_t len, const uint8_t *sig, size_t sig_len);

/* The Ed25519 / X25519 key of k; ERR_UNSUPPORTED for another type. */
int keys_and_cert_ed25519_pk(const struct keys_and_cert *k,
			     struct ed25519_pk *out);
int keys_and_cert_x25519_pk(const struct keys_and_cert *k,
			    struct x25519_pk *out);

#endif /* ROUTER_KEYS_AND_CERT_H */
