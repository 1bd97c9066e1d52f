/*
 * Hash cards (apps/content/card.h, docs/content-format.md §5): canonical
 * binary encoding, Ed25519 signature, and a JSON view for the console.
 */
#include "config.h"
#include "apps/content/card.h"
#include "apps/content/codec_internal.h"
#include "apps/content/text.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t card_magic[4] = { 'B', 'C', 'R', 'D' };
static const char card_domain[] = "bits/card/v1";

_Static_assert(CONTENT_CARD_MAX_BYTES < 32768, "cards stay small");

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static bool currency_is_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

/* strnlen within a fixed field; a missing NUL reads as too long. */
static size_t field_len(const char *s, size_t cap)
{
	return strnlen(s, cap);
}

static int validate_text(const struct content_card *c)
{
	size_t n;

	n = field_len(c->mime, sizeof(c->mime));
	if (n == 0 || n >= sizeof(c->mime) || !content_mime_is_valid(c->mime, n))
		return ERR_FORMAT;
	n = field_len(c->title, sizeof(c->title));
	if (n >= sizeof(c->title))
		return ERR_TOO_BIG;
	if (n == 0 || !content_text_is_valid((const uint8_t *)c->title, n, false))
		return ERR_FORMAT;
	n = field_len(c->description, sizeof(c->description));
	if (n >= sizeof(c->description))
		return ERR_TOO_BIG;
	if (!content_text_is_valid((const uint8_t *)c->description, n, true))
		return ERR_FORMAT;
	if (c->tag_count > CARD_TAGS_MAX)
		return ERR_TOO_BIG;
	for (unsigned i = 0; i < c->tag_count; i++) {
		n = field_len(c->tags[i], sizeof(c->tags[i]));
		if (n >= sizeof(c->tags[i]))
			return ERR_TOO_BIG;
		if (!content_tag_is_valid(c->tags[i], n))
			return ERR_FORMAT;
		if (i > 0 && strcmp(c->tags[i - 1], c->tags[i]) >= 0)
			return ERR_FORMAT;	/* sorted, no duplicates */
	}
	n = field_len(c->did, sizeof(c->did));
	if (n >= sizeof(c->did))
		return ERR_TOO_BIG;
	if (n > 0 && !content_did_is_valid(c->did, n))
		return ERR_FORMAT;
	return 0;
}

static int validate_preview(const struct content_card *c)
{
	size_t n = field_len(c->preview_mime, sizeof(c->preview_mime));

	switch (c->preview_kind) {
	case CONTENT_PREVIEW_NONE:
		return n == 0 && c->preview_len == 0 ? 0 : ERR_FORMAT;
	case CONTENT_PREVIEW_IMAGE:
		if (n >= sizeof(c->preview_mime) || c->preview_len > CARD_IMAGE_MAX_BYTES)
			return ERR_TOO_BIG;
		if (n <= 6 || strncmp(c->preview_mime, "image/", 6) != 0 ||
		    !content_mime_is_valid(c->preview_mime, n) ||
		    c->preview_len == 0)
			return ERR_FORMAT;
		return 0;
	case CONTENT_PREVIEW_TEXT:
		if (c->preview_len > CARD_EXCERPT_MAX_BYTES)
			return ERR_TOO_BIG;
		if (n != 0 || c->preview_len == 0 ||
		    !content_text_is_valid(c->preview, c->preview_len, true))
			return ERR_FORMAT;
		return 0;
	}
	return ERR_FORMAT;	/* a value outside the enum */
}

static int validate_money_and_refs(const struct content_card *c)
{
	size_t n = field_len(c->currency, sizeof(c->currency));

	if (n >= sizeof(c->currency))
		return ERR_TOO_BIG;
	if (c->decimals > CARD_DECIMALS_MAX)
		return ERR_RANGE;
	if (n == 0) {	/* free: no currency, price and decimals zero */
		if (!all_zero(c->price, 32) || c->decimals != 0)
			return ERR_FORMAT;
	} else if (!currency_is_valid(c->currency, n)) {
		return ERR_FORMAT;
	}
	if (all_zero(c->licence_contract, CARD_ADDRESS_BYTES) &&
	    c->licence_index != 0)
		return ERR_FORMAT;
	if (c->seed_count > CARD_SEEDS_MAX)
		return ERR_TOO_BIG;
	for (unsigned i = 0; i < c->seed_count; i++) {
		if (all_zero(c->seeds[i], CARD_DEST_BYTES))
			return ERR_FORMAT;
		if (i > 0 && memcmp(c->seeds[i - 1], c->seeds[i], CARD_DEST_BYTES) >= 0)
			return ERR_FORMAT;
	}
	if (c->version == 0)
		return ERR_RANGE;
	if (c->size > CONTENT_MAX_BYTES)
		return ERR_TOO_BIG;
	return 0;
}

int content_card_validate(const struct content_card *c)
{
	int r;

	if ((r = validate_text(c)) != 0 || (r = validate_preview(c)) != 0)
		return r;
	return validate_money_and_refs(c);
}

static int cmp_tag(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int cmp_seed(const void *a, const void *b)
{
	return memcmp(a, b, CARD_DEST_BYTES);
}

void content_card_normalize(struct content_card *c)
{
	if (c->tag_count <= CARD_TAGS_MAX)
		qsort(c->tags, c->tag_count, sizeof(c->tags[0]), cmp_tag);
	if (c->seed_count <= CARD_SEEDS_MAX)
		qsort(c->seeds, c->seed_count, sizeof(c->seeds[0]), cmp_seed);
}

static void put_str8(struct bbuf *b, const char *s)
{
	size_t n = strlen(s);

	bbuf_u8(b, (uint8_t)n);
	bbuf_put(b, s, n);
}

/* Everything before the signature (c already validated). */
static void encode_body(const struct content_card *c, struct bbuf *b)
{
	size_t n;

	bbuf_put(b, card_magic, 4);
	bbuf_u8(b, CONTENT_CARD_VERSION);
	bbuf_put(b, c->content_hash, 32);
	bbuf_put(b, c->key_commitment, 32);
	bbuf_be64(b, c->size);
	put_str8(b, c->mime);
	put_str8(b, c->title);
	n = strlen(c->description);
	bbuf_be16(b, (uint16_t)n);
	bbuf_put(b, c->description, n);
	bbuf_u8(b, c->tag_count);
	for (unsigned i = 0; i < c->tag_count; i++)
		put_str8(b, c->tags[i]);
	bbuf_u8(b, (uint8_t)c->preview_kind);
	if (c->preview_kind == CONTENT_PREVIEW_IMAGE)
		put_str8(b, c->preview_mime);
	if (c->preview_kind != CONTENT_PREVIEW_NONE) {
		bbuf_be16(b, c->preview_len);
		bbuf_put(b, c->preview, c->preview_len);
	}
	bbuf_put(b, c->price, 32);
	put_str8(b, c->currency);
	bbuf_u8(b, c->decimals);
	put_str8(b, c->did);
	bbuf_put(b, c->creator.b, 32);
	bbuf_put(b, c->licence_contract, CARD_ADDRESS_BYTES);
	bbuf_be64(b, c->licence_index);
	bbuf_put(b, c->key_agent, CARD_DEST_BYTES);
	bbuf_u8(b, c->seed_count);
	for (unsigned i = 0; i < c->seed_count; i++)
		bbuf_put(b, c->seeds[i], CARD_DEST_BYTES);
	bbuf_be64(b, c->created);
	bbuf_be32(b, c->version);
}

/* The signed message: domain ‖ body. */
static int signed_msg(const void *obj, struct bbuf *b)
{
	const struct content_card *c = obj;
	int r = content_card_validate(c);

	if (r == 0) {
		bbuf_put(b, card_domain, sizeof(card_domain) - 1);
		encode_body(c, b);
	}
	return r;
}

int content_card_sign(struct content_card *c, const struct content_signer *s)
{
	c->creator = s->pk;
	return content_msg_sign(s, signed_msg, c, &c->sig);
}

int content_card_encode(const struct content_card *c, struct bbuf *out)
{
	int r = content_card_validate(c);

	if (r != 0)
		return r;
	encode_body(c, out);
	bbuf_put(out, c->sig.b, sizeof(c->sig.b));
	return 0;
}

int content_card_verify(const struct content_card *c)
{
	return content_msg_verify(&c->creator, &c->sig, signed_msg, c);
}

int content_card_id(const struct content_card *c, uint8_t out[32])
{
	struct bbuf b = BBUF_INIT;
	int r;

	if ((r = content_card_encode(c, &b)) == 0)
		sha256(out, b.data, b.len);
	bbuf_free(&b);
	return r;
}

/* Read a length-prefixed string of at most max bytes into dst (cap bytes,
 * NUL-terminated).  NUL inside is a format error. */
static int take_str(struct breader *r, size_t n, size_t max, char *dst)
{
	const uint8_t *p;

	if (n > max)
		return ERR_TOO_BIG;
	p = br_take(r, n);
	if (!p)
		return ERR_TRUNCATED;
	if (memchr(p, '\0', n))
		return ERR_FORMAT;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

static int decode_head(struct breader *r, struct content_card *c)
{
	int rc;

	if ((rc = content_header_read(r, card_magic, CONTENT_CARD_VERSION)))
		return rc;
	br_copy(r, c->content_hash, 32);
	br_copy(r, c->key_commitment, 32);
	c->size = br_be64(r);
	if ((rc = take_str(r, br_u8(r), CONTENT_MIME_MAX_BYTES, c->mime)) ||
	    (rc = take_str(r, br_u8(r), CARD_TITLE_MAX_BYTES, c->title)) ||
	    (rc = take_str(r, br_be16(r), CARD_DESC_MAX_BYTES, c->description)))
		return rc;
	c->tag_count = br_u8(r);
	if (c->tag_count > CARD_TAGS_MAX)
		return ERR_TOO_BIG;
	for (unsigned i = 0; i < c->tag_count; i++)
		if ((rc = take_str(r, br_u8(r), CARD_TAG_MAX_BYTES, c->tags[i])))
			return rc;
	return r->failed ? ERR_TRUNCATED : 0;
}

static int decode_preview(struct breader *r, struct content_card *c)
{
	uint8_t kind = br_u8(r);
	size_t max;
	int rc;

	if (r->failed)
		return ERR_TRUNCATED;
	if (kind == CONTENT_PREVIEW_NONE) {
		c->preview_kind = CONTENT_PREVIEW_NONE;
		return 0;
	}
	if (kind == CONTENT_PREVIEW_IMAGE) {
		c->preview_kind = CONTENT_PREVIEW_IMAGE;
		if ((rc = take_str(r, br_u8(r), CARD_PREVIEW_MIME_MAX_BYTES,
				   c->preview_mime)))
			return rc;
		max = CARD_IMAGE_MAX_BYTES;
	} else if (kind == CONTENT_PREVIEW_TEXT) {
		c->preview_kind = CONTENT_PREVIEW_TEXT;
		max = CARD_EXCERPT_MAX_BYTES;
	} else {
		return ERR_FORMAT;
	}
	c->preview_len = br_be16(r);
	if (c->preview_len > max)
		return ERR_TOO_BIG;
	br_copy(r, c->preview, c->preview_len);
	return r->failed ? ERR_TRUNCATED : 0;
}

static int decode_tail(struct breader *r, struct content_card *c)
{
	int rc;

	br_copy(r, c->price, 32);
	if ((rc = take_str(r, br_u8(r), CARD_CURRENCY_MAX_BYTES, c->currency)))
		return rc;
	c->decimals = br_u8(r);
	if ((rc = take_str(r, br_u8(r), CARD_DID_MAX_BYTES, c->did)))
		return rc;
	br_copy(r, c->creator.b, 32);
	br_copy(r, c->licence_contract, CARD_ADDRESS_BYTES);
	c->licence_index = br_be64(r);
	br_copy(r, c->key_agent, CARD_DEST_BYTES);
	c->seed_count = br_u8(r);
	if (c->seed_count > CARD_SEEDS_MAX)
		return ERR_TOO_BIG;
	for (unsigned i = 0; i < c->seed_count; i++)
		br_copy(r, c->seeds[i], CARD_DEST_BYTES);
	c->created = br_be64(r);
	c->version = br_be32(r);
	br_copy(r, c->sig.b, sizeof(c->sig.b));
	return r->failed ? ERR_TRUNCATED : 0;
}

int content_card_decode(const uint8_t *buf, size_t len,
			struct content_card *out)
{
	struct content_card *c;
	struct breader r;
	int rc;

	if (len > CONTENT_CARD_MAX_BYTES)
		return ERR_TOO_BIG;
	c = xzalloc(sizeof(*c));
	br_init(&r, buf, len);
	if ((rc = decode_head(&r, c)) == 0 && (rc = decode_preview(&r, c)) == 0 &&
	    (rc = decode_tail(&r, c)) == 0) {
		if (br_left(&r) != 0)
			rc = ERR_FORMAT;
		else
			rc = content_card_validate(c);
	}
	if (rc == 0)
		*out = *c;
	free(c);
	return rc;
}

bool content_card_matches(const struct content_card *c,
			  const struct content_manifest *m,
			  const uint8_t content_hash[32])
{
	return memcmp(c->content_hash, content_hash, 32) == 0 &&
	       c->size == m->size && strcmp(c->mime, m->mime) == 0;
}

static json_t *json_hex(const uint8_t *p, size_t n)
{
	char buf[HEX_ENC_LEN(64)];

	if (n > 64 || hex_encode(buf, sizeof(buf), p, n) != 0)
		return json_null();
	return json_string(buf);
}

/* An overlay destination hash as "<base32>.b32.i2p". */
static json_t *json_dest(const uint8_t d[CARD_DEST_BYTES])
{
	char buf[B32_ENC_LEN(CARD_DEST_BYTES) + 8];

	size_t n;

	if (b32_encode(buf, sizeof(buf), d, CARD_DEST_BYTES) != 0)
		return json_null();
	n = strlen(buf);
	memcpy(buf + n, ".b32.i2p", 9);
	return json_string(buf);
}

static json_t *json_preview(const struct content_card *c)
{
	char *b64;
	size_t n;
	json_t *j;

	switch (c->preview_kind) {
	case CONTENT_PREVIEW_NONE:
		return json_null();
	case CONTENT_PREVIEW_TEXT:
		return json_pack("{s:s, s:s%}", "kind", "text", "text",
				 (const char *)c->preview, (size_t)c->preview_len);
	case CONTENT_PREVIEW_IMAGE:
		n = sodium_base64_encoded_len(c->preview_len,
					      sodium_base64_VARIANT_ORIGINAL);
		b64 = xmalloc(n);
		sodium_bin2base64(b64, n, c->preview, c->preview_len,
				  sodium_base64_VARIANT_ORIGINAL);
		j = json_pack("{s:s, s:s, s:s}", "kind", "image", "mime",
			      c->preview_mime, "data", b64);
		free(b64);
		return j;
	}
	return json_null();
}

static json_t *json_price(const struct content_card *c)
{
	static const uint8_t zero[32];
	char amount[CONTENT_AMOUNT_TEXT_BYTES], units[CONTENT_AMOUNT_TEXT_BYTES];

	content_amount_format(c->price, c->decimals, amount);
	content_amount_format(c->price, 0, units);
	return json_pack("{s:s, s:s, s:s, s:i, s:b}", "amount", amount,
			 "units", units, "currency", c->currency,
			 "decimals", (int)c->decimals,
			 "free", memcmp(c->price, zero, 32) == 0);
}

char *content_card_to_json(const struct content_card *c)
{
	json_t *j, *tags, *seeds, *lic;
	char addr[2 + HEX_ENC_LEN(CARD_ADDRESS_BYTES)] = "0x";
	char idx[24];
	uint8_t id[32];
	char *s;

	if (content_card_id(c, id) != 0)
		return NULL;
	tags = json_array();
	seeds = json_array();
	for (unsigned i = 0; i < c->tag_count && i < CARD_TAGS_MAX; i++)
		json_array_append_new(tags, json_string(c->tags[i]));
	for (unsigned i = 0; i < c->seed_count && i < CARD_SEEDS_MAX; i++)
		json_array_append_new(seeds, json_dest(c->seeds[i]));
	hex_encode(addr + 2, sizeof(addr) - 2, c->licence_contract,
		   CARD_ADDRESS_BYTES);
	snprintf(idx, sizeof(idx), "%" PRIu64, c->licence_index);
	lic = all_zero(c->licence_contract, CARD_ADDRESS_BYTES) ? json_null() :
	      json_pack("{s:s, s:s}", "contract", addr, "index", idx);
	j = json_pack("{s:o, s:o, s:o, s:I, s:s, s:s, s:s, s:o, s:o, s:o,"
		      " s:{s:s?, s:o}, s:o, s:o, s:o, s:I, s:I, s:o}",
		      "cardId", json_hex(id, 32),
		      "contentHash", json_hex(c->content_hash, 32),
		      "keyCommitment", json_hex(c->key_commitment, 32),
		      "size", (json_int_t)c->size, "mime", c->mime,
		      "title", c->title, "description", c->description,
		      "tags", tags, "preview", json_preview(c),
		      "price", json_price(c),
		      "creator", "did", c->did[0] ? c->did : NULL,
		      "key", json_hex(c->creator.b, 32),
		      "licence", lic,
		      "keyAgent", all_zero(c->key_agent, CARD_DEST_BYTES) ?
				  json_null() : json_dest(c->key_agent),
		      "seeds", seeds,
		      "created", (json_int_t)c->created,
		      "version", (json_int_t)c->version,
		      "signature", json_hex(c->sig.b, 64));
	if (!j)
		return NULL;
	s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	return s;
}

/* ---- the console's publish form ---- */

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

const char *content_card_fields_json(json_t *body, const char *default_title,
				     struct content_card *cd,
				     bool *free_content, unsigned *royalty)
{
	const char *v;
	json_t *t, *pv;
	size_t i, got;

	*free_content = true;
	*royalty = 0;
	v = jstr(body, "title");
	if (!v || !*v)
		v = default_title ? default_title : "";
	if (!*v || strlen(v) >= sizeof(cd->title))
		return "title: 1 to 200 bytes";
	snprintf(cd->title, sizeof(cd->title), "%s", v);
	if ((v = jstr(body, "description"))) {
		if (strlen(v) >= sizeof(cd->description))
			return "description: at most 4000 bytes";
		snprintf(cd->description, sizeof(cd->description), "%s", v);
	}
	json_array_foreach(json_object_get(body, "tags"), i, t) {
		v = json_string_value(t);
		if (!v || !*v || cd->tag_count == CARD_TAGS_MAX ||
		    strlen(v) >= sizeof(cd->tags[0]))
			return "tags: at most 16 words of 32 bytes";
		for (unsigned k = 0; k < cd->tag_count; k++)
			if (!strcmp(cd->tags[k], v))
				return "tags: each once";
		snprintf(cd->tags[cd->tag_count++], sizeof(cd->tags[0]), "%s", v);
	}
	v = jstr(body, "price");
	*free_content = !v || !*v || strspn(v, "0.") == strlen(v);
	if (!*free_content) {
		json_int_t d = json_integer_value(json_object_get(body,
								  "decimals"));
		const char *cur = jstr(body, "currency");

		if (d < 0 || d > CARD_DECIMALS_MAX || !cur || !*cur ||
		    strlen(cur) >= sizeof(cd->currency) ||
		    content_amount_parse(v, (unsigned)d, cd->price) != 0)
			return "price: a decimal amount, with a currency and "
			       "its decimals";
		cd->decimals = (uint8_t)d;
		snprintf(cd->currency, sizeof(cd->currency), "%s", cur);
	}
	t = json_object_get(body, "royalty");
	if (t && (!json_is_integer(t) || json_integer_value(t) < 0 ||
		  json_integer_value(t) > 100))
		return "royalty: a whole percentage, 0 to 100";
	*royalty = t ? (unsigned)json_integer_value(t) : 0;
	if ((v = jstr(body, "excerpt")) && *v) {
		if (strlen(v) > CARD_EXCERPT_MAX_BYTES)
			return "excerpt: at most 1024 bytes";
		cd->preview_kind = CONTENT_PREVIEW_TEXT;
		cd->preview_len = (uint16_t)strlen(v);
		memcpy(cd->preview, v, cd->preview_len);
	} else if ((pv = json_object_get(body, "preview")) &&
		   json_is_object(pv)) {
		const char *m = jstr(pv, "mime"), *data = jstr(pv, "data");

		if (!m || !data || (strcmp(m, "image/png") &&
				    strcmp(m, "image/jpeg") &&
				    strcmp(m, "image/webp") &&
				    strcmp(m, "image/gif")))
			return "preview: a PNG, JPEG, WebP or GIF image";
		if (b64_decode(cd->preview, sizeof(cd->preview), &got, data,
			       strlen(data)) != 0 || got == 0)
			return "preview: an image of at most 16 KiB (base64)";
		cd->preview_kind = CONTENT_PREVIEW_IMAGE;
		cd->preview_len = (uint16_t)got;
		snprintf(cd->preview_mime, sizeof(cd->preview_mime), "%s", m);
	}
	if ((t = json_object_get(body, "licence")) && !json_is_null(t)) {
		json_t *ix = json_object_get(t, "index");

		v = jstr(t, "contract");
		if (!v || strlen(v) != 42 || strncmp(v, "0x", 2) ||
		    hex_decode(cd->licence_contract, CARD_ADDRESS_BYTES, &got,
			       v + 2, 40) != 0 || got != CARD_ADDRESS_BYTES ||
		    !json_is_integer(ix) || json_integer_value(ix) <= 0)
			return "licence: {contract: 0x and 40 hex digits, "
			       "index: a positive number}";
		cd->licence_index = (uint64_t)json_integer_value(ix);
	}
	if ((v = jstr(body, "key_agent")) && *v &&
	    (strlen(v) != 60 || strcmp(v + 52, ".b32.i2p") ||
	     b32_decode(cd->key_agent, sizeof(cd->key_agent), &got, v, 52) ||
	     got != sizeof(cd->key_agent)))
		return "key_agent: the agent's b32 address";
	return NULL;
}
