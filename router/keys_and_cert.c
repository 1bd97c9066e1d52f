/*
 * KeysAndCert / RouterIdentity / Destination (common-structures spec,
 * "KeysAndCert" and "Key Certificates"; padding after proposal 161).
 * Decode finds the key boundaries from the certificate, keeps the exact
 * bytes and hashes them; build makes our Ed25519 (+ X25519) identities.
 * router/router_info.c embeds one per RouterInfo.
 */
#include "config.h"
#include "router/keys_and_cert.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/rand.h"

#include <string.h>

/* Split the key area and the key certificate's excess data into keys. */
static void kac_split_keys(struct keys_and_cert *k, const uint8_t *area,
			   const struct key_cert *kc)
{
	size_t enc_len = cert_enc_pubkey_len(k->enc_type);
	size_t sig_len = cert_sig_pubkey_len(k->sig_type);
	size_t enc_in = enc_len - kc->excess_enc_len;
	size_t sig_in = sig_len - kc->excess_sig_len;

	/* "The Crypto Public Key is aligned at the start and the Signing
	 * Public Key is aligned at the end.  The padding (if any) is in the
	 * middle." */
	memcpy(k->enc_key, area, enc_in);
	if (kc->excess_enc_len)
		memcpy(k->enc_key + enc_in, kc->excess_enc, kc->excess_enc_len);
	k->enc_key_len = enc_len;
	memcpy(k->sig_key, area + KAC_KEY_AREA_BYTES - sig_in, sig_in);
	if (kc->excess_sig_len)
		memcpy(k->sig_key + sig_in, kc->excess_sig, kc->excess_sig_len);
	k->sig_key_len = sig_len;
}

int keys_and_cert_decode(struct breader *r, struct keys_and_cert *out)
{
	struct keys_and_cert k;
	struct certificate c;
	struct key_cert kc = { .sig_type = CERT_SIG_DSA_SHA1,
			       .enc_type = CERT_ENC_ELGAMAL };
	const uint8_t *area;
	int ret;

	if ((area = br_take(r, KAC_KEY_AREA_BYTES)) == NULL)
		return ERR_TRUNCATED;
	if ((ret = certificate_decode(r, &c)) != 0)
		return ret;
	/* "When a Key Certificate is not present, the preceeding 384 bytes
	 * ... are defined as the 256-byte ElGamal PublicKey followed by the
	 * 128-byte DSA-SHA1 SigningPublicKey." */
	if (c.type == CERT_KEY &&
	    (ret = certificate_key_decode(&c, &kc)) != 0)
		return ret;
	/* A key type longer than its area must overflow into the
	 * certificate; certificate_key_decode() checked that.  Every defined
	 * crypto type fits its 256-byte field, so the keys never overlap. */
	memset(&k, 0, sizeof(k));
	k.cert_type = c.type;
	k.sig_type = kc.sig_type;
	k.enc_type = kc.enc_type;
	kac_split_keys(&k, area, &kc);
	/* The bytes are contiguous in r's buffer: area, header, payload. */
	k.len = KAC_MIN_BYTES + c.len;
	memcpy(k.raw, area, k.len);
	sha256(k.hash, k.raw, k.len);
	*out = k;
	return 0;
}

void keys_and_cert_build(struct keys_and_cert *out, const struct x25519_pk *enc,
			 const struct ed25519_pk *sig,
			 const uint8_t pattern[KAC_PADDING_PATTERN_BYTES])
{
	uint8_t pad[KAC_PADDING_PATTERN_BYTES];
	uint8_t area[KAC_KEY_AREA_BYTES];
	size_t start = enc ? sizeof(enc->b) : 0;
	size_t end = KAC_KEY_AREA_BYTES - sizeof(sig->b);
	struct bbuf b = BBUF_INIT;
	struct breader r;
	int ret;

	if (pattern)
		memcpy(pad, pattern, sizeof(pad));
	else
		rand_bytes(pad, sizeof(pad));
	/* Proposal 161: "Generate 32 bytes of random data ... and repeat
	 * those 32 bytes as necessary to fill the public key field (for
	 * Destinations) and the padding field". */
	for (size_t i = start; i < end; i++)
		area[i] = pad[(i - start) % sizeof(pad)];
	if (enc)
		memcpy(area, enc->b, sizeof(enc->b));
	memcpy(area + end, sig->b, sizeof(sig->b));
	bbuf_put(&b, area, sizeof(area));
	(void)certificate_key_encode(&b, CERT_SIG_EDDSA_SHA512_ED25519,
				     enc ? CERT_ENC_X25519 : CERT_ENC_ELGAMAL,
				     NULL, 0);
	/* One code path for the fields: decode what we just wrote. */
	br_init(&r, b.data, b.len);
	ret = keys_and_cert_decode(&r, out);
	if (BUG(ret != 0 || !br_done(&r)))
		memset(out, 0, sizeof(*out));
	bbuf_free(&b);
}

size_t keys_and_cert_sig_len(const struct keys_and_cert *k)
{
	return cert_sig_len(k->sig_type);
}

bool keys_and_cert_can_verify(const struct keys_and_cert *k)
{
	return k->sig_type == CERT_SIG_EDDSA_SHA512_ED25519;
}

int keys_and_cert_verify(const struct keys_and_cert *k, const void *msg,
			 size_t len, const uint8_t *sig, size_t sig_len)
{
	struct ed25519_pk pk;
	struct ed25519_sig s;

	if (sig_len != keys_and_cert_sig_len(k))
		return ERR_FORMAT;
	if (keys_and_cert_ed25519_pk(k, &pk) != 0)
		return ERR_UNSUPPORTED;
	memcpy(s.b, sig, sizeof(s.b));
	return ed25519_verify(&s, &pk, msg, len) ? 0 : ERR_BAD_SIG;
}

int keys_and_cert_ed25519_pk(const struct keys_and_cert *k,
			     struct ed25519_pk *out)
{
	if (k->sig_type != CERT_SIG_EDDSA_SHA512_ED25519 ||
	    BUG(k->sig_key_len != sizeof(out->b)))
		return ERR_UNSUPPORTED;
	memcpy(out->b, k->sig_key, sizeof(out->b));
	return 0;
}

int keys_and_cert_x25519_pk(const struct keys_and_cert *k,
			    struct x25519_pk *out)
{
	if (k->enc_type != CERT_ENC_X25519 ||
	    BUG(k->enc_key_len != sizeof(out->b)))
		return ERR_UNSUPPORTED;
	memcpy(out->b, k->enc_key, sizeof(out->b));
	return 0;
}
