/*
 * Hash cards: the signed public record of a content in feeds.  A card
 * names the content by contentHash and carries what a buyer sees before
 * paying: title, description, tags, a bounded preview, price, the creator's
 * DID and key, the licence contract and index, the key agent and seed hints
 * (overlay destination hashes, never IPs).
 *
 * Encoding v1 is canonical (decode → encode is byte-identical; anything
 * else is rejected) and ends in an Ed25519 signature by the creator key
 * over "bits/card/v1" ‖ every byte before the signature
 * (docs/content-format.md §5).  cardId = SHA-256(whole encoding).
 */
#ifndef APPS_CONTENT_CARD_H
#define APPS_CONTENT_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/content/manifest.h"
#include "apps/content/signer.h"
#include "crypto/base/bytes.h"
#include "crypto/ed25519.h"

#include <jansson.h>

#define CONTENT_CARD_VERSION 1
#define CARD_TITLE_MAX_BYTES 200
#define CARD_DESC_MAX_BYTES 4000
#define CARD_TAGS_MAX 16
#define CARD_TAG_MAX_BYTES 32
#define CARD_PREVIEW_MIME_MAX_BYTES 63
#define CARD_IMAGE_MAX_BYTES 16384
#define CARD_EXCERPT_MAX_BYTES 1024
#define CARD_CURRENCY_MAX_BYTES 16
#define CARD_DECIMALS_MAX 36
#define CARD_DID_MAX_BYTES 128
#define CARD_SEEDS_MAX 8
#define CARD_ADDRESS_BYTES 20
#define CARD_DEST_BYTES 32
/* Largest encoding (every field at its limit). */
#define CONTENT_CARD_MAX_BYTES (5 + 32 + 32 + 8 + 1 + CONTENT_MIME_MAX_BYTES + \
	1 + CARD_TITLE_MAX_BYTES + 2 + CARD_DESC_MAX_BYTES + \
	1 + CARD_TAGS_MAX * (1 + CARD_TAG_MAX_BYTES) + \
	1 + 1 + CARD_PREVIEW_MIME_MAX_BYTES + 2 + CARD_IMAGE_MAX_BYTES + \
	32 + 1 + CARD_CURRENCY_MAX_BYTES + 1 + 1 + CARD_DID_MAX_BYTES + 32 + \
	CARD_ADDRESS_BYTES + 8 + CARD_DEST_BYTES + \
	1 + CARD_SEEDS_MAX * CARD_DEST_BYTES + 8 + 4 + 64)

enum content_preview_kind {
	CONTENT_PREVIEW_NONE = 0,
	CONTENT_PREVIEW_IMAGE = 1,	/* thumbnail: preview_mime is image/... */
	CONTENT_PREVIEW_TEXT = 2	/* excerpt: UTF-8 text */
};

/* Fixed-size (no pointers): copy it freely.  Strings are NUL-terminated. */
struct content_card {
	uint8_t content_hash[CONTENT_HASH_BYTES];
	uint8_t key_commitment[32];	/* keccak256(K ‖ contentHash) */
	uint64_t size;			/* plaintext bytes */
	char mime[CONTENT_MIME_MAX_BYTES + 1];
	char title[CARD_TITLE_MAX_BYTES + 1];		/* 1.. bytes */
	char description[CARD_DESC_MAX_BYTES + 1];	/* may be empty */
	uint8_t tag_count;
	char tags[CARD_TAGS_MAX][CARD_TAG_MAX_BYTES + 1]; /* sorted, unique */
	enum content_preview_kind preview_kind;
	char preview_mime[CARD_PREVIEW_MIME_MAX_BYTES + 1];
	uint16_t preview_len;
	uint8_t preview[CARD_IMAGE_MAX_BYTES];
	uint8_t price[32];		/* uint256 token base units, big-endian */
	char currency[CARD_CURRENCY_MAX_BYTES + 1];	/* empty iff free */
	uint8_t decimals;
	char did[CARD_DID_MAX_BYTES + 1];	/* did:ethr:..., or empty */
	struct ed25519_pk creator;
	uint8_t licence_contract[CARD_ADDRESS_BYTES];	/* zero: not on chain */
	uint64_t licence_index;
	uint8_t key_agent[CARD_DEST_BYTES];	/* destination hash, or zero */
	uint8_t seed_count;
	uint8_t seeds[CARD_SEEDS_MAX][CARD_DEST_BYTES];	/* sorted, unique */
	uint64_t created;		/* seconds since the Unix epoch */
	uint32_t version;		/* ≥ 1; a newer version supersedes */
	struct ed25519_sig sig;
};

/* Check every field against its limit and canonical form (not the
 * signature).  ERR_FORMAT, ERR_TOO_BIG or ERR_RANGE. */
int content_card_validate(const struct content_card *c);
/* Sort tags and seeds into canonical order (call before signing). */
void content_card_normalize(struct content_card *c);
/* Set c->creator to s's key and sign c.  Errors from validation. */
int content_card_sign(struct content_card *c, const struct content_signer *s);
/* Validate and append the encoding (with signature) to out. */
int content_card_encode(const struct content_card *c, struct bbuf *out);
/*
 * Decode untrusted bytes (format and limits, not the signature) into
 * *out.  ERR_TRUNCATED, ERR_FORMAT, ERR_TOO_BIG, ERR_RANGE,
 * ERR_UNSUPPORTED.  *out is written only on success.
 */
int content_card_decode(const uint8_t *buf, size_t len,
			struct content_card *out);
/* 0 when the signature verifies under c->creator, else ERR_BAD_SIG. */
int content_card_verify(const struct content_card *c);
/* cardId = SHA-256(encoding).  Errors from validation. */
int content_card_id(const struct content_card *c, uint8_t out[32]);
/* A JSON view for the console (new string, caller frees). */
char *content_card_to_json(const struct content_card *c);
/*
 * A creator's fields from the console's publish form, a JSON object the
 * browser sent (untrusted): title (default_title, if any, when absent
 * or empty), description, tags, price with currency and decimals,
 * royalty, excerpt or preview image, licence and key_agent, into c
 * (whose mime and size the caller has set).  *free_content: no price, or a zero one;
 * *royalty: 0-100, a resale's share for the creator (not a card field).
 * NULL when every field given is well formed, else a message naming the
 * first that is not.  Hash, seeds, time, version and signature are the
 * caller's, and so are content_card_normalize and _validate.
 */
const char *content_card_fields_json(json_t *body, const char *default_title,
				     struct content_card *c,
				     bool *free_content, unsigned *royalty);
/* True when c describes the content of manifest encoding enc (hash, size
 * and MIME agree). */
bool content_card_matches(const struct content_card *c,
			  const struct content_manifest *m,
			  const uint8_t content_hash[32]);

#endif /* APPS_CONTENT_CARD_H */
