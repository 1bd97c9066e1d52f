/*
 * libFuzzer target: the console's publish form (content_card_fields_json,
 * apps/content/card.h), the JSON object a browser sends to turn an
 * upload into a card.  Properties: an accepted form gives a title of 1 to
 * 200 bytes, at most 16 distinct tags, a royalty of 0-100, a currency
 * and decimals exactly when the content is paid, a preview within its
 * buffer; the card made of it, once normalized and valid, encodes and
 * decodes back to itself.  A refused one says why.  (The console's
 * POST /api/publish/ID/seal and the feed's POST /api/feed/publish.)
 */
#include "config.h"
#include "apps/content/card.h"
#include "crypto/base/alloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_card(const struct content_card *c, bool free_content)
{
	if (!c->title[0] || strlen(c->title) > CARD_TITLE_MAX_BYTES ||
	    strlen(c->description) > CARD_DESC_MAX_BYTES ||
	    c->tag_count > CARD_TAGS_MAX ||
	    (c->preview_kind == CONTENT_PREVIEW_TEXT &&
	     c->preview_len > CARD_EXCERPT_MAX_BYTES) ||
	    c->preview_len > sizeof(c->preview) ||
	    free_content != !c->currency[0] ||
	    c->decimals > CARD_DECIMALS_MAX)
		abort();
	for (unsigned i = 0; i < c->tag_count; i++) {
		if (!c->tags[i][0] || strlen(c->tags[i]) > CARD_TAG_MAX_BYTES)
			abort();
		for (unsigned k = 0; k < i; k++)
			if (!strcmp(c->tags[i], c->tags[k]))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct content_card *c = xzalloc(sizeof(*c));
	struct content_card *back = xzalloc(sizeof(*back));
	struct bbuf b = BBUF_INIT;
	json_t *body = json_loadb((const char *)data, size,
				  JSON_REJECT_DUPLICATES, NULL);
	const char *bad;
	bool free_content = false;
	unsigned royalty = 101;

	if (!body || !json_is_object(body))
		goto out;
	snprintf(c->mime, sizeof(c->mime), "%s", "video/webm");
	c->size = 1000;
	bad = content_card_fields_json(body, "upload.webm", c, &free_content,
				       &royalty);
	if (bad) {
		if (!*bad)
			abort();
		goto out;
	}
	if (royalty > 100)
		abort();
	check_card(c, free_content);
	/* what the console adds before validating and signing */
	memset(c->seeds[0], 0x5a, CARD_DEST_BYTES);
	c->seed_count = 1;
	c->created = 1700000000;
	c->version = 1;
	content_card_normalize(c);
	if (content_card_validate(c) != 0)
		goto out;
	if (content_card_encode(c, &b) != 0 ||
	    content_card_decode(b.data, b.len, back) != 0 ||
	    memcmp(c, back, sizeof(*c)) != 0)
		abort();
out:
	json_decref(body);
	bbuf_free(&b);
	free(back);
	free(c);
	return 0;
}
