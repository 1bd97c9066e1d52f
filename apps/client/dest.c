/*
 * Local destinations and their private key blobs (see dest.h).
 */
#include "config.h"
#include "apps/client/dest.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/ed25519.h"
#include "crypto/rand.h"
#include "crypto/secmem.h"
#include "router/certificate.h"
#include "router/datagram.h"

#define DEST_ENC_SK_MAX_BYTES 256

struct dest_secrets {
	struct ed25519_seed sign;
	uint8_t enc[DEST_ENC_SK_MAX_BYTES];	/* unused since LS2; kept */
};

struct client_dest {
	struct keys_and_cert pub;
	size_t enc_len;
	struct dest_secrets *sk;		/* secure memory */
};

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static struct client_dest *dest_alloc(void)
{
	struct client_dest *d = xzalloc(sizeof(*d));

	d->sk = secmem_alloc(sizeof(*d->sk));
	return d;
}

struct client_dest *client_dest_new_random(void)
{
	struct client_dest *d = dest_alloc();
	struct ed25519_pk pk;

	ed25519_keygen(&d->sk->sign, &pk);
	keys_and_cert_build(&d->pub, NULL, &pk, NULL);
	/* The Destination's crypto type is 0 (its 256 bytes are padding);
	 * the blob still carries a 256-byte private key for it. */
	d->enc_len = cert_enc_pubkey_len(d->pub.enc_type);
	rand_bytes(d->sk->enc, d->enc_len);
	secmem_readonly(d->sk);
	return d;
}

int client_dest_decode(const uint8_t *buf, size_t len,
		       struct client_dest **out)
{
	struct client_dest *d = dest_alloc();
	struct ed25519_pk pk, want;
	const uint8_t *enc, *sig;
	struct breader r;
	int e;

	br_init(&r, buf, len);
	if ((e = keys_and_cert_decode(&r, &d->pub)) != 0)
		goto out;
	d->enc_len = cert_enc_pubkey_len(d->pub.enc_type);
	if (d->pub.sig_type != CERT_SIG_EDDSA_SHA512_ED25519 ||
	    d->enc_len == 0 || d->enc_len > DEST_ENC_SK_MAX_BYTES) {
		e = ERR_UNSUPPORTED;
		goto out;
	}
	enc = br_take(&r, d->enc_len);
	sig = br_take(&r, sizeof(d->sk->sign.b));
	if (r.failed) {
		e = ERR_TRUNCATED;
		goto out;
	}
	if (br_left(&r) != 0) {
		e = ERR_FORMAT;
		goto out;
	}
	memcpy(d->sk->enc, enc, d->enc_len);
	memcpy(d->sk->sign.b, sig, sizeof(d->sk->sign.b));
	if (all_zero(d->sk->sign.b, sizeof(d->sk->sign.b))) {
		e = ERR_UNSUPPORTED;	/* an offline signing block follows */
		goto out;
	}
	ed25519_pk_from_seed(&pk, &d->sk->sign);
	if ((e = keys_and_cert_ed25519_pk(&d->pub, &want)) != 0)
		goto out;
	if (memcmp(pk.b, want.b, sizeof(pk.b)) != 0) {
		e = ERR_FORMAT;
		goto out;
	}
	secmem_readonly(d->sk);
	*out = d;
	d = NULL;
out:
	client_dest_free(d);
	return e;
}

void client_dest_encode_private(const struct client_dest *d, struct bbuf *out)
{
	bbuf_put(out, d->pub.raw, d->pub.len);
	bbuf_put(out, d->sk->enc, d->enc_len);
	bbuf_put(out, d->sk->sign.b, sizeof(d->sk->sign.b));
}

const struct keys_and_cert *client_dest_pub(const struct client_dest *d)
{
	return &d->pub;
}

static void dest_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t *sig)
{
	const struct client_dest *d = ctx;
	struct ed25519_sig s;

	ed25519_sign(&s, &d->sk->sign, msg, len);
	memcpy(sig, s.b, sizeof(s.b));
}

void client_dest_signer(const struct client_dest *d, struct stream_signer *out)
{
	out->dest = &d->pub;
	out->sig_len = keys_and_cert_sig_len(&d->pub);
	out->sign = dest_sign;
	out->ctx = (void *)d;
}

int client_dest_datagram_encode(const struct client_dest *d,
				const void *payload, size_t len,
				struct bbuf *out)
{
	return datagram_repliable_encode(&d->pub, &d->sk->sign, payload, len,
					 out);
}

void client_dest_free(struct client_dest *d)
{
	if (!d)
		return;
	secmem_free(d->sk);
	free(d);
}
