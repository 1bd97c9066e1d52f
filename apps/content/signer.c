/* Signers for cards and records (apps/content/signer.h). */
#include "config.h"
#include "apps/content/signer.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/rand.h"

#include <string.h>

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

int content_creator_seed_load(const char *path, struct ed25519_seed *sk)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = fsutil_read_file(path, 64, &buf, &len);

	if (r == ERR_NOT_FOUND) {
		rand_bytes(sk->b, sizeof(sk->b));
		return fsutil_write_atomic(path, sk->b, sizeof(sk->b), 0600,
					   false);
	}
	if (r != 0)
		return r;
	if (len == sizeof(sk->b))
		memcpy(sk->b, buf, len);
	else
		r = ERR_FORMAT;
	xfree_wipe(buf, len);
	return r;
}
