/*
 * libFuzzer target: KeysAndCert / RouterIdentity and Certificate decoding
 * (router/keys_and_cert.h, router/certificate.h).  Properties: the kept
 * bytes are exactly the bytes read, the hash is their SHA-256, decoding
 * them again gives the same identity, and keys fit their buffers.
 */
#include "config.h"
#include "router/certificate.h"
#include "router/keys_and_cert.h"
#include "crypto/hash.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct keys_and_cert *k, const uint8_t *in,
		  size_t used)
{
	struct keys_and_cert again;
	uint8_t h[SHA256_BYTES];
	struct ed25519_pk pk;
	struct breader r;
	static const uint8_t sig[64];

	if (k->len != used || k->len < KAC_MIN_BYTES || k->len > KAC_MAX_BYTES ||
	    memcmp(k->raw, in, used) != 0)
		abort();
	if (k->sig_key_len != cert_sig_pubkey_len(k->sig_type) ||
	    k->enc_key_len != cert_enc_pubkey_len(k->enc_type) ||
	    k->sig_key_len == 0 || k->enc_key_len == 0)
		abort();
	sha256(h, in, used);
	if (memcmp(h, k->hash, sizeof(h)) != 0)
		abort();
	br_init(&r, k->raw, k->len);
	if (keys_and_cert_decode(&r, &again) != 0 || !br_done(&r) ||
	    memcmp(again.hash, k->hash, sizeof(h)) != 0 ||
	    again.sig_type != k->sig_type || again.enc_type != k->enc_type)
		abort();
	if (keys_and_cert_ed25519_pk(k, &pk) == 0) {
		/* An all-zero signature never verifies. */
		if (keys_and_cert_verify(k, in, used, sig, sizeof(sig)) == 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keys_and_cert k;
	struct certificate c;
	struct key_cert kc;
	struct breader r;

	br_init(&r, data, size);
	if (keys_and_cert_decode(&r, &k) == 0)
		check(&k, data, size - br_left(&r));
	br_init(&r, data, size);
	if (certificate_decode(&r, &c) == 0) {
		if (c.len > CERT_MAX_PAYLOAD_BYTES)
			abort();
		if (certificate_key_decode(&c, &kc) == 0 &&
		    c.len != CERT_KEY_MIN_PAYLOAD_BYTES + kc.excess_sig_len +
			     kc.excess_enc_len)
			abort();
	}
	return 0;
}
