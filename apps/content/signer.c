/* Signers for cards and records (apps/content/signer.h). */
#include "config.h"
#include "apps/content/signer.h"

static void seed_sign(void *ctx, struct ed25519_sig *sig, const void *msg,
		      size_t len)
{
	ed25519_sign(sig, ctx, msg, len);
}

void content_signer_from_seed(struct content_signer *s,
			      const struct ed25519_seed *sk)
{
	s->sign = seed_sign;
	s->ctx = (void *)sk;
	ed25519_pk_from_seed(&s->pk, sk);
}
