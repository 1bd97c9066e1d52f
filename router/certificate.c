/*
 * Certificates, Key Certificates and the key type tables (common-structures
 * spec, "Certificate" and "Key Certificates").  router/keys_and_cert.c uses
 * them to find the key boundaries of a RouterIdentity or Destination.
 */
#include "config.h"
#include "router/certificate.h"
#include "crypto/base/err.h"

/* Signing types: public key length and signature length in bytes. */
static const struct {
	uint16_t pubkey;
	uint16_t sig;
} sig_types[] = {
	[CERT_SIG_DSA_SHA1] = { 128, 40 },
	[CERT_SIG_ECDSA_SHA256_P256] = { 64, 64 },
	[CERT_SIG_ECDSA_SHA384_P384] = { 96, 96 },
	[CERT_SIG_ECDSA_SHA512_P521] = { 132, 132 },
	[CERT_SIG_RSA_SHA256_2048] = { 256, 256 },
	[CERT_SIG_RSA_SHA384_3072] = { 384, 384 },
	[CERT_SIG_RSA_SHA512_4096] = { 512, 512 },
	[CERT_SIG_EDDSA_SHA512_ED25519] = { 32, 64 },
	[CERT_SIG_EDDSA_SHA512_ED25519PH] = { 32, 64 },
	[CERT_SIG_GOST_256] = { 64, 64 },
	[CERT_SIG_GOST_512] = { 128, 128 },
	[CERT_SIG_REDDSA_SHA512_ED25519] = { 32, 64 },
};

/* Crypto types: public key length in bytes. */
static const uint16_t enc_types[] = {
	[CERT_ENC_ELGAMAL] = 256,
	[CERT_ENC_P256] = 64,
	[CERT_ENC_P384] = 96,
	[CERT_ENC_P521] = 132,
	[CERT_ENC_X25519] = 32,
};

/* The key area of a KeysAndCert: 256 bytes crypto, 128 bytes signing. */
#define CERT_ENC_AREA_BYTES 256
#define CERT_SIG_AREA_BYTES 128

size_t cert_sig_pubkey_len(unsigned sig_type)
{
	return sig_type < sizeof(sig_types) / sizeof(sig_types[0]) ?
		sig_types[sig_type].pubkey : 0;
}

size_t cert_sig_len(unsigned sig_type)
{
	return sig_type < sizeof(sig_types) / sizeof(sig_types[0]) ?
		sig_types[sig_type].sig : 0;
}

size_t cert_enc_pubkey_len(unsigned enc_type)
{
	return enc_type < sizeof(enc_types) / sizeof(enc_types[0]) ?
		enc_types[enc_type] : 0;
}

/* Is len a valid payload length for a certificate of this type? */
static int cert_check_len(enum cert_type type, size_t len)
{
	/* Certificate Types table: Null 0, Hidden 0, Signed 40 or 72, Key 4+;
	 * HashCash and Multiple "vary" and are bounded by our maximum. */
	switch (type) {
	case CERT_NULL:
	case CERT_HIDDEN:
		return len == 0 ? 0 : ERR_FORMAT;
	case CERT_SIGNED:
		return len == CERT_SIGNED_PAYLOAD_BYTES ||
		       len == CERT_SIGNED_HASH_PAYLOAD_BYTES ? 0 : ERR_FORMAT;
	case CERT_HASHCASH:
	case CERT_MULTIPLE:
		return len <= CERT_MAX_PAYLOAD_BYTES ? 0 : ERR_FORMAT;
	case CERT_KEY:
		return len >= CERT_KEY_MIN_PAYLOAD_BYTES &&
		       len <= CERT_KEY_MAX_PAYLOAD_BYTES ? 0 : ERR_FORMAT;
	}
	return ERR_UNSUPPORTED;
}

int certificate_decode(struct breader *r, struct certificate *out)
{
	/* "1 byte Integer specifying certificate type, followed by a 2 byte
	 * Integer specifying the size of the certificate payload, then that
	 * many bytes." */
	uint8_t type = br_u8(r);
	size_t len = br_be16(r);
	const uint8_t *payload;
	int ret;

	if (r->failed)
		return ERR_TRUNCATED;
	if (type > CERT_KEY)
		return ERR_UNSUPPORTED;
	if ((ret = cert_check_len((enum cert_type)type, len)) != 0)
		return ret;
	if ((payload = br_take(r, len)) == NULL)
		return ERR_TRUNCATED;
	out->type = type;
	out->len = len;
	out->payload = payload;
	return 0;
}

int certificate_encode(struct bbuf *b, const struct certificate *c)
{
	if (c->len > CERT_MAX_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	bbuf_u8(b, c->type);
	bbuf_be16(b, (uint16_t)c->len);
	bbuf_put(b, c->payload, c->len);
	return 0;
}

int certificate_key_decode(const struct certificate *c, struct key_cert *out)
{
	struct key_cert k;
	size_t sig_len, enc_len;

	if (c->type != CERT_KEY || c->len < CERT_KEY_MIN_PAYLOAD_BYTES)
		return ERR_ARG;
	k.sig_type = be16_get(c->payload);
	k.enc_type = be16_get(c->payload + 2);
	sig_len = cert_sig_pubkey_len(k.sig_type);
	enc_len = cert_enc_pubkey_len(k.enc_type);
	if (sig_len == 0 || enc_len == 0)
		return ERR_UNSUPPORTED;
	/* "If the total lengths of the Crypto and Signing Public Keys exceed
	 * 384 bytes, the remainder will be contained in the Key Certificate":
	 * excess signing data first, then excess crypto data. */
	k.excess_sig_len = sig_len > CERT_SIG_AREA_BYTES ?
		sig_len - CERT_SIG_AREA_BYTES : 0;
	k.excess_enc_len = enc_len > CERT_ENC_AREA_BYTES ?
		enc_len - CERT_ENC_AREA_BYTES : 0;
	if (c->len != CERT_KEY_MIN_PAYLOAD_BYTES + k.excess_sig_len +
		      k.excess_enc_len)
		return ERR_FORMAT;
	k.excess_sig = c->payload + CERT_KEY_MIN_PAYLOAD_BYTES;
	k.excess_enc = k.excess_sig + k.excess_sig_len;
	*out = k;
	return 0;
}

int certificate_key_encode(struct bbuf *b, uint16_t sig_type,
			   uint16_t enc_type, const uint8_t *excess,
			   size_t excess_len)
{
	if (excess_len >
	    CERT_KEY_MAX_PAYLOAD_BYTES - CERT_KEY_MIN_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	bbuf_u8(b, CERT_KEY);
	bbuf_be16(b, (uint16_t)(CERT_KEY_MIN_PAYLOAD_BYTES + excess_len));
	bbuf_be16(b, sig_type);
	bbuf_be16(b, enc_type);
	bbuf_put(b, excess, excess_len);
	return 0;
}
