/* Shared encoding pieces of apps/content (apps/content/codec_internal.h). */
#include "config.h"
#include "apps/content/codec_internal.h"
#include "crypto/base/err.h"

#include <string.h>

int content_header_read(struct breader *r, const uint8_t magic[4],
			uint8_t version)
{
	const uint8_t *m = br_take(r, 4);
	uint8_t v = br_u8(r);

	if (r->failed)
		return ERR_TRUNCATED;
	if (memcmp(m, magic, 4) != 0)
		return ERR_FORMAT;
	return v == version ? 0 : ERR_UNSUPPORTED;
}

int content_msg_sign(const struct content_signer *s, content_msg_fn msg,
		     const void *obj, struct ed25519_sig *sig)
{
	struct bbuf b = BBUF_INIT;
	int r;

	if ((r = msg(obj, &b)) == 0)
		s->sign(s->ctx, sig, b.data, b.len);
	bbuf_free(&b);
	return r;
}

int content_msg_verify(const struct ed25519_pk *pk,
		       const struct ed25519_sig *sig, content_msg_fn msg,
		       const void *obj)
{
	struct bbuf b = BBUF_INIT;
	int r;

	if ((r = msg(obj, &b)) == 0 && !ed25519_verify(sig, pk, b.data, b.len))
		r = ERR_BAD_SIG;
	bbuf_free(&b);
	return r;
}
