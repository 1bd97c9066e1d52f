/* Helpers shared by the apps/feed unit tests. */
#ifndef TESTS_UNIT_FEED_TFEED_H
#define TESTS_UNIT_FEED_TFEED_H

#include <stddef.h>
#include <stdint.h>

#include "apps/content/card.h"
#include "apps/content/record.h"
#include "crypto/base/bytes.h"
#include "tests/unit/tharness.h"

/* 2026-01-01, the base of the test cards' created times. */
#define TF_T0 1767225600u

/* A signed card by the key of seed byte who, appended to out, its id in
 * id.  tags: comma-separated (sorted by the card code); price in base
 * units (0: free). */
void tf_card(struct tctx *t, uint8_t who, const char *title,
	     const char *desc, const char *tags, uint64_t price,
	     uint64_t created, struct bbuf *out, uint8_t id[32]);
/* The same as version (≥ 1) of the content (who, created). */
void tf_card_v(struct tctx *t, uint8_t who, const char *title,
	       const char *desc, const char *tags, uint64_t price,
	       uint64_t created, uint32_t version, struct bbuf *out,
	       uint8_t id[32]);
/* tf_card_v with the content's MIME type. */
void tf_card_mime(struct tctx *t, uint8_t who, const char *title,
		  const char *mime, uint64_t price, uint64_t created,
		  uint32_t version, struct bbuf *out, uint8_t id[32]);
/* A free video card naming did (a did:ethr) as its creator's. */
void tf_card_did(struct tctx *t, uint8_t who, const char *title,
		 const char *did, uint64_t created, struct bbuf *out,
		 uint8_t id[32]);
/* A signed record by seed byte who about card_id, appended to out. */
void tf_record(struct tctx *t, uint8_t who, enum content_record_kind kind,
	       enum content_reaction reaction, const uint8_t card_id[32],
	       uint64_t created, struct bbuf *out, uint8_t id[32]);
/* The public key of seed byte who. */
void tf_pk(uint8_t who, struct ed25519_pk *out);

#endif /* TESTS_UNIT_FEED_TFEED_H */
