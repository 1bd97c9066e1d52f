/*
 * Pieces every apps/content encoding shares: the magic-and-version header
 * of manifests, proofs, cards and records, and signing or verifying the
 * domain-separated message of a card or record.
 */
#ifndef APPS_CONTENT_CODEC_INTERNAL_H
#define APPS_CONTENT_CODEC_INTERNAL_H

#include <stdint.h>

#include "apps/content/signer.h"
#include "crypto/base/bytes.h"
#include "crypto/ed25519.h"

/* Read a 4-byte magic and a version byte.  ERR_TRUNCATED, ERR_FORMAT
 * (another magic) or ERR_UNSUPPORTED (another version). */
int content_header_read(struct breader *r, const uint8_t magic[4],
			uint8_t version);

/* Append the message to sign for obj to b (0, or a validation error). */
typedef int (*content_msg_fn)(const void *obj, struct bbuf *b);
/* sig = s's signature of msg(obj). */
int content_msg_sign(const struct content_signer *s, content_msg_fn msg,
		     const void *obj, struct ed25519_sig *sig);
/* 0 when sig is pk's signature of msg(obj), else ERR_BAD_SIG (or the
 * validation error). */
int content_msg_verify(const struct ed25519_pk *pk,
		       const struct ed25519_sig *sig, content_msg_fn msg,
		       const void *obj);

#endif /* APPS_CONTENT_CODEC_INTERNAL_H */
