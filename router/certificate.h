/*
 * Certificate and Key Certificate (common-structures spec, "Certificate",
 * "Key Certificates"), and the table of signing and crypto key types they
 * name.
 *
 * A Certificate is type (1) ‖ length (2) ‖ payload.  A Key Certificate
 * (type 5) carries the signing key type (2), the crypto key type (2) and
 * any key bytes beyond the 384 bytes of a KeysAndCert (excess signing key
 * data, then excess crypto key data).  "Implementers are cautioned to
 * prohibit excess data in Certificates": every type's payload length is
 * enforced.
 *
 * Decoders do not log; the caller knows the context and logs once.
 */
#ifndef ROUTER_CERTIFICATE_H
#define ROUTER_CERTIFICATE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

enum cert_type {
	CERT_NULL = 0,
	CERT_HASHCASH = 1,	/* experimental, unused */
	CERT_HIDDEN = 2,	/* experimental, unused */
	CERT_SIGNED = 3,	/* experimental, unused */
	CERT_MULTIPLE = 4,	/* experimental, unused */
	CERT_KEY = 5
};

/* Signing public key types ("The defined Signing Public Key types"). */
enum cert_sig_type {
	CERT_SIG_DSA_SHA1 = 0,
	CERT_SIG_ECDSA_SHA256_P256 = 1,
	CERT_SIG_ECDSA_SHA384_P384 = 2,
	CERT_SIG_ECDSA_SHA512_P521 = 3,
	CERT_SIG_RSA_SHA256_2048 = 4,
	CERT_SIG_RSA_SHA384_3072 = 5,
	CERT_SIG_RSA_SHA512_4096 = 6,
	CERT_SIG_EDDSA_SHA512_ED25519 = 7,
	CERT_SIG_EDDSA_SHA512_ED25519PH = 8,
	CERT_SIG_GOST_256 = 9,		/* reserved, proposal 134 */
	CERT_SIG_GOST_512 = 10,		/* reserved, proposal 134 */
	CERT_SIG_REDDSA_SHA512_ED25519 = 11
};

/* Crypto public key types ("The defined Crypto Public Key types"). */
enum cert_enc_type {
	CERT_ENC_ELGAMAL = 0,
	CERT_ENC_P256 = 1,
	CERT_ENC_P384 = 2,
	CERT_ENC_P521 = 3,
	CERT_ENC_X25519 = 4
};

#define CERT_HEADER_BYTES 3
/* Key certificate: the two type fields, then excess key data.  The
 * largest excess is RSA-4096's signing key: 512 - 128 = 384 bytes. */
#define CERT_KEY_MIN_PAYLOAD_BYTES 4
#define CERT_KEY_MAX_PAYLOAD_BYTES (4 + 384)
/* Upper bound for any certificate we accept. */
#define CERT_MAX_PAYLOAD_BYTES CERT_KEY_MAX_PAYLOAD_BYTES
/* "Signed ... Payload contains a 40-byte DSA signature, optionally followed
 * by the 32-byte Hash of the signing Destination." */
#define CERT_SIGNED_PAYLOAD_BYTES 40
#define CERT_SIGNED_HASH_PAYLOAD_BYTES 72

struct certificate {
	uint8_t type;
	size_t len;
	const uint8_t *payload;	/* borrowed from the decoded buffer */
};

struct key_cert {
	uint16_t sig_type;
	uint16_t enc_type;
	const uint8_t *excess_sig;	/* borrowed from the certificate */
	size_t excess_sig_len;
	const uint8_t *excess_enc;
	size_t excess_enc_len;
};

/* Public key, signature and crypto public key lengths of a type, or 0 for
 * a type this table does not know. */
size_t cert_sig_pubkey_len(unsigned sig_type);
size_t cert_sig_len(unsigned sig_type);
size_t cert_enc_pubkey_len(unsigned enc_type);

/*
 * Decode a Certificate from r, checking its length against the type's.
 * Errors: ERR_TRUNCATED, ERR_FORMAT (wrong length for the type),
 * ERR_UNSUPPORTED (a type the spec does not define).
 */
int certificate_decode(struct breader *r, struct certificate *out);
/* Append c.  ERR_TOO_BIG when c->len > CERT_MAX_PAYLOAD_BYTES. */
int certificate_encode(struct bbuf *b, const struct certificate *c);

/*
 * Read the key types and excess data from a CERT_KEY certificate.  The
 * payload must be exactly 4 bytes plus the excess the two types need.
 * Errors: ERR_ARG (c is not a key certificate), ERR_UNSUPPORTED (a key type
 * we do not know, so its excess length is unknown), ERR_FORMAT (wrong
 * payload length).
 */
int certificate_key_decode(const struct certificate *c, struct key_cert *out);
/*
 * Append a key certificate for sig_type/enc_type, with the excess key data
 * (excess_len bytes: excess signing data, then excess crypto data).
 * ERR_TOO_BIG when excess_len > CERT_KEY_MAX_PAYLOAD_BYTES - 4.
 */
int certificate_key_encode(struct bbuf *b, uint16_t sig_type,
			   uint16_t enc_type, const uint8_t *excess,
			   size_t excess_len);

#endif /* ROUTER_CERTIFICATE_H */
