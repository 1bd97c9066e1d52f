/*
 * Small signed records that point at a card: reactions, follows and views
 * (docs/content-format.md §6).  A record names its target by cardId
 * (SHA-256 of the card's encoding); a follow targets the card's creator.
 *
 * Encoding v1 (canonical):
 *   "BREC" ‖ u8 version=1 ‖ u8 kind ‖ card_id[32] ‖ author[32] ‖
 *   u64 created ‖ body ‖ sig[64]
 *   reaction body: u8 reaction ‖ u8 text_len ‖ text (emoji only)
 *   follow body:   u8 on (1 follow, 0 unfollow)
 *   view body:     (none)
 *   delete body:   (none; the author must be the card's creator)
 * The signature is Ed25519 by author over "bits/record/v1" ‖ every byte
 * before it.
 */
#ifndef APPS_CONTENT_RECORD_H
#define APPS_CONTENT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/content/signer.h"
#include "crypto/base/bytes.h"
#include "crypto/ed25519.h"

#define CONTENT_RECORD_VERSION 1
#define RECORD_TEXT_MAX_BYTES 32
#define CONTENT_RECORD_MAX_BYTES (4 + 1 + 1 + 32 + 32 + 8 + 1 + 1 + \
				  RECORD_TEXT_MAX_BYTES + 64)

enum content_record_kind {
	CONTENT_RECORD_REACTION = 1,
	CONTENT_RECORD_FOLLOW = 2,
	CONTENT_RECORD_VIEW = 3,
	/* The card's creator withdraws it (valid only by the creator) */
	CONTENT_RECORD_DELETE = 4
};

enum content_reaction {
	CONTENT_REACT_LIKE = 1,
	CONTENT_REACT_DISLIKE = 2,
	CONTENT_REACT_FLAG = 3,		/* report to moderators of a feed */
	CONTENT_REACT_EMOJI = 4		/* text holds one short emoji string */
};

struct content_record {
	enum content_record_kind kind;
	uint8_t card_id[32];
	struct ed25519_pk author;
	uint64_t created;			/* seconds since the epoch */
	enum content_reaction reaction;		/* REACTION only */
	char text[RECORD_TEXT_MAX_BYTES + 1];	/* EMOJI only, else empty */
	bool follow;				/* FOLLOW: false = unfollow */
	struct ed25519_sig sig;
};

/* Check fields (not the signature).  ERR_FORMAT / ERR_TOO_BIG. */
int content_record_validate(const struct content_record *rec);
/* Set author to s's key and sign. */
int content_record_sign(struct content_record *rec,
			const struct content_signer *s);
int content_record_encode(const struct content_record *rec, struct bbuf *out);
/* Decode untrusted bytes (format, not signature).  ERR_TRUNCATED,
 * ERR_FORMAT, ERR_TOO_BIG, ERR_UNSUPPORTED.  *out written on success. */
int content_record_decode(const uint8_t *buf, size_t len,
			  struct content_record *out);
/* 0 when the signature verifies under rec->author, else ERR_BAD_SIG. */
int content_record_verify(const struct content_record *rec);
/* Name of a kind ("reaction", "follow", "view"). */
const char *content_record_kind_name(enum content_record_kind k);

#endif /* APPS_CONTENT_RECORD_H */
