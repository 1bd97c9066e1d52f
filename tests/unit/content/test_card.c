/* apps/content/card: canonical encoding, signature, limits, JSON view. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/content/tcontent.h"
#include "apps/content/card.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A signed test card and its encoding. */
static void signed_card(struct tctx *t, struct content_card *c,
			struct bbuf *enc)
{
	struct content_signer s;
	struct ed25519_seed sk;

	tc_card(c);
	tc_signer(&s, &sk, 0x5a);
	T_OK(t, content_card_sign(c, &s));
	T_OK(t, content_card_encode(c, enc));
}

static void test_roundtrip(struct tctx *t)
{
	struct content_card *c = xzalloc(sizeof(*c)), *d = xzalloc(sizeof(*d));
	struct bbuf enc = BBUF_INIT, again = BBUF_INIT;
	uint8_t id1[32], id2[32];

	signed_card(t, c, &enc);
	T_OK(t, content_card_verify(c));
	T_OK(t, content_card_decode(enc.data, enc.len, d));
	T_OK(t, content_card_verify(d));
	T_OK(t, content_card_encode(d, &again));
	T_EQ(t, again.len, enc.len);
	T_MEMEQ(t, again.data, enc.data, enc.len);
	T_STREQ(t, d->title, c->title);
	T_STREQ(t, d->did, c->did);
	T_EQ(t, d->licence_index, 7);
	T_MEMEQ(t, d->seeds[1], c->seeds[1], 32);
	T_OK(t, content_card_id(c, id1));
	T_OK(t, content_card_id(d, id2));
	T_MEMEQ(t, id1, id2, 32);
	bbuf_free(&enc);
	bbuf_free(&again);
	free(c);
	free(d);
}

static int decode_card(const uint8_t *b, size_t n, void *out)
{
	return content_card_decode(b, n, out);
}

/* Every single-bit change is refused by the decoder or the signature. */
static void test_every_bit_flip_rejected(struct tctx *t)
{
	struct content_card *c = xzalloc(sizeof(*c)), *d = xzalloc(sizeof(*d));
	struct bbuf enc = BBUF_INIT;
	int accepted = 0;

	signed_card(t, c, &enc);
	for (size_t i = 0; i < enc.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			enc.data[i] ^= (uint8_t)(1u << bit);
			if (content_card_decode(enc.data, enc.len, d) == 0 &&
			    content_card_verify(d) == 0)
				accepted++;
			enc.data[i] ^= (uint8_t)(1u << bit);
		}
	}
	T_EQ(t, accepted, 0);
	tc_prefixes_fail(t, enc.data, enc.len, decode_card, d);
	bbuf_free(&enc);
	free(c);
	free(d);
}

static void test_limits(struct tctx *t)
{
	struct content_card *c = xzalloc(sizeof(*c));

	tc_card(c);
	T_OK(t, content_card_validate(c));
	memset(c->title, 'a', CARD_TITLE_MAX_BYTES + 1);	/* no NUL left */
	T_ERR(t, content_card_validate(c), ERR_TOO_BIG);
	tc_card(c);
	c->title[0] = '\0';
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	tc_card(c);
	c->title[3] = '\n';	/* one line only */
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	tc_card(c);
	memcpy(c->tags[0], "short", 6);	/* unsorted, duplicate */
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	content_card_normalize(c);
	T_ERR(t, content_card_validate(c), ERR_FORMAT);	/* still a duplicate */
	tc_card(c);
	memcpy(c->tags[0], "zoo", 4);
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	content_card_normalize(c);
	T_OK(t, content_card_validate(c));
	c->tag_count = CARD_TAGS_MAX + 1;
	T_ERR(t, content_card_validate(c), ERR_TOO_BIG);
	tc_card(c);
	c->preview_len = CARD_EXCERPT_MAX_BYTES + 1;
	T_ERR(t, content_card_validate(c), ERR_TOO_BIG);
	tc_card(c);
	c->preview[0] = 0xff;	/* excerpt is not UTF-8 */
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	tc_card(c);
	c->preview_kind = CONTENT_PREVIEW_IMAGE;	/* image without a type */
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	memcpy(c->preview_mime, "text/plain", 11);
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	memcpy(c->preview_mime, "image/png", 10);
	T_OK(t, content_card_validate(c));
	c->preview_len = CARD_IMAGE_MAX_BYTES;
	T_OK(t, content_card_validate(c));
	tc_card(c);
	c->currency[0] = '\0';	/* a price needs a currency */
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	memset(c->price, 0, 32);
	c->decimals = 0;
	T_OK(t, content_card_validate(c));	/* free */
	tc_card(c);
	c->decimals = CARD_DECIMALS_MAX + 1;
	T_ERR(t, content_card_validate(c), ERR_RANGE);
	tc_card(c);
	memset(c->licence_contract, 0, 20);	/* index without a contract */
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	tc_card(c);
	memset(c->seeds[1], 0x44, 32);	/* duplicate seed */
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	tc_card(c);
	memset(c->seeds[0], 0, 32);
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	tc_card(c);
	c->seed_count = CARD_SEEDS_MAX + 1;
	T_ERR(t, content_card_validate(c), ERR_TOO_BIG);
	tc_card(c);
	c->version = 0;
	T_ERR(t, content_card_validate(c), ERR_RANGE);
	tc_card(c);
	memcpy(c->did, "did:ethr:0x12", 14);
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	tc_card(c);
	memcpy(c->mime, "Video/MP4", 10);
	T_ERR(t, content_card_validate(c), ERR_FORMAT);
	free(c);
}

/* A card with every field at its limit fits CONTENT_CARD_MAX_BYTES. */
static void test_largest_card(struct tctx *t)
{
	struct content_card *c = xzalloc(sizeof(*c)), *d = xzalloc(sizeof(*d));
	struct content_signer s;
	struct ed25519_seed sk;
	struct bbuf enc = BBUF_INIT;

	tc_card(c);
	memset(c->mime, 'a', 63);
	c->mime[63] = '/';
	memset(c->mime + 64, 'b', 63);
	c->mime[CONTENT_MIME_MAX_BYTES] = '\0';
	memset(c->title, 'T', CARD_TITLE_MAX_BYTES);
	memset(c->description, 'D', CARD_DESC_MAX_BYTES);
	c->tag_count = CARD_TAGS_MAX;
	for (int i = 0; i < CARD_TAGS_MAX; i++) {
		memset(c->tags[i], 'a' + i, CARD_TAG_MAX_BYTES);
		c->tags[i][CARD_TAG_MAX_BYTES] = '\0';
	}
	c->preview_kind = CONTENT_PREVIEW_IMAGE;
	memset(c->preview_mime, 'p', CARD_PREVIEW_MIME_MAX_BYTES);
	memcpy(c->preview_mime, "image/", 6);
	c->preview_len = CARD_IMAGE_MAX_BYTES;
	memset(c->currency, 'C', CARD_CURRENCY_MAX_BYTES);
	c->decimals = CARD_DECIMALS_MAX;
	memset(c->did, 0, sizeof(c->did));
	memcpy(c->did, "did:ethr:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", 51);
	c->seed_count = CARD_SEEDS_MAX;
	for (int i = 0; i < CARD_SEEDS_MAX; i++)
		memset(c->seeds[i], 0x10 + i, 32);
	tc_signer(&s, &sk, 1);
	T_OK(t, content_card_sign(c, &s));
	T_OK(t, content_card_encode(c, &enc));
	T_TRUE(t, enc.len <= CONTENT_CARD_MAX_BYTES);
	T_TRUE(t, enc.len > CONTENT_CARD_MAX_BYTES - 200);	/* near the cap */
	T_OK(t, content_card_decode(enc.data, enc.len, d));
	T_OK(t, content_card_verify(d));
	bbuf_put(&enc, "", 1);
	T_ERR(t, content_card_decode(enc.data, enc.len, d), ERR_FORMAT);
	bbuf_reset(&enc);
	bbuf_extend(&enc, CONTENT_CARD_MAX_BYTES + 1);
	T_ERR(t, content_card_decode(enc.data, enc.len, d), ERR_TOO_BIG);
	bbuf_free(&enc);
	free(c);
	free(d);
}

static void test_wrong_key(struct tctx *t)
{
	struct content_card *c = xzalloc(sizeof(*c));
	struct bbuf enc = BBUF_INIT;

	signed_card(t, c, &enc);
	c->creator.b[0] ^= 1;	/* someone else's key */
	T_ERR(t, content_card_verify(c), ERR_BAD_SIG);
	bbuf_free(&enc);
	free(c);
}

static const char *jstr(json_t *j, const char *a, const char *b)
{
	json_t *v = json_object_get(j, a);

	return json_string_value(b ? json_object_get(v, b) : v);
}

static void test_json(struct tctx *t)
{
	struct content_card *c = xzalloc(sizeof(*c));
	struct bbuf enc = BBUF_INIT;
	uint8_t id[32];
	char idhex[65];
	json_error_t err;
	json_t *j;
	char *s;

	signed_card(t, c, &enc);
	s = content_card_to_json(c);
	T_TRUE(t, s != NULL);
	j = s ? json_loads(s, 0, &err) : NULL;
	T_TRUE(t, j != NULL);
	if (j) {
		T_STREQ(t, jstr(j, "title", NULL), c->title);
		T_STREQ(t, jstr(j, "price", "amount"),
			"1");
		T_STREQ(t, jstr(j, "price", "units"),
			"1000000");
		T_STREQ(t, jstr(j, "licence", "index"),
			"7");
		T_EQ(t, json_array_size(json_object_get(j, "tags")), 2);
		T_EQ(t, json_integer_value(json_object_get(j, "size")), 123456);
		T_TRUE(t, strstr(jstr(j, "keyAgent", NULL), ".b32.i2p") != NULL);
		T_STREQ(t, jstr(j, "preview", "text"),
			"Opening\tact");
		T_OK(t, content_card_id(c, id));
		for (int i = 0; i < 32; i++)
			snprintf(idhex + 2 * i, 3, "%02x", id[i]);
		T_STREQ(t, jstr(j, "cardId", NULL), idhex);
		json_decref(j);
	}
	free(s);
	bbuf_free(&enc);
	free(c);
}

/* fields_json: the form's text into a card, or the field refused. */
static const char *form(const char *js, struct content_card *c, bool *fr,
			unsigned *roy)
{
	json_t *j = json_loads(js, 0, NULL);
	const char *bad;

	memset(c, 0, sizeof(*c));
	*fr = false;
	*roy = 77;
	bad = j ? content_card_fields_json(j, "clip.webm", c, fr, roy) :
		  "not JSON";
	json_decref(j);
	return bad;
}

static void test_fields_json(struct tctx *t)
{
	struct content_card *c = xzalloc(sizeof(*c));
	const char *bad;
	unsigned roy;
	bool fr;

	/* the defaults: the upload's name for a title, free, no royalty */
	T_TRUE(t, form("{}", c, &fr, &roy) == NULL);
	T_STREQ(t, c->title, "clip.webm");
	T_TRUE(t, fr);
	T_EQ(t, roy, 0);
	T_TRUE(t, form("{\"title\":\"A walk\",\"description\":\"Rain\","
		       "\"tags\":[\"rain\",\"hills\"],\"excerpt\":\"It began\"}",
		       c, &fr, &roy) == NULL);
	T_STREQ(t, c->title, "A walk");
	T_STREQ(t, c->description, "Rain");
	T_EQ(t, c->tag_count, 2);
	T_EQ(t, c->preview_kind, CONTENT_PREVIEW_TEXT);
	T_EQ(t, c->preview_len, 8);
	/* paid: 1.5 at 6 decimals is 1,500,000 units; a zero price is free */
	T_TRUE(t, form("{\"price\":\"1.5\",\"currency\":\"USDC\","
		       "\"decimals\":6,\"royalty\":10,\"licence\":{\"contract\":"
		       "\"0x00112233445566778899aabbccddeeff00112233\",\"index\":7}}",
		       c, &fr, &roy) == NULL);
	T_FALSE(t, fr);
	T_EQ(t, roy, 10);
	T_STREQ(t, c->currency, "USDC");
	T_EQ(t, c->decimals, 6);
	T_EQ(t, c->price[29], 0x16);
	T_EQ(t, c->price[30], 0xe3);
	T_EQ(t, c->price[31], 0x60);
	T_EQ(t, c->licence_index, 7);
	T_EQ(t, c->licence_contract[19], 0x33);
	T_TRUE(t, form("{\"price\":\"0.00\"}", c, &fr, &roy) == NULL);
	T_TRUE(t, fr);
	/* each refusal names its field */
	bad = form("{\"title\":\"\"}", c, &fr, &roy);
	T_TRUE(t, bad == NULL);	/* empty: the default title */
	T_TRUE(t, (bad = form("{\"tags\":[\"a\",\"a\"]}", c, &fr, &roy)) &&
		  !strncmp(bad, "tags:", 5));
	T_TRUE(t, (bad = form("{\"tags\":[\"\"]}", c, &fr, &roy)) &&
		  !strncmp(bad, "tags:", 5));
	T_TRUE(t, (bad = form("{\"royalty\":101}", c, &fr, &roy)) &&
		  !strncmp(bad, "royalty:", 8));
	T_TRUE(t, (bad = form("{\"royalty\":\"5\"}", c, &fr, &roy)) &&
		  !strncmp(bad, "royalty:", 8));
	T_TRUE(t, (bad = form("{\"price\":\"1\"}", c, &fr, &roy)) &&
		  !strncmp(bad, "price:", 6));	/* no currency */
	T_TRUE(t, (bad = form("{\"price\":\"1\",\"currency\":\"X\","
			      "\"decimals\":37}", c, &fr, &roy)) &&
		  !strncmp(bad, "price:", 6));
	T_TRUE(t, (bad = form("{\"preview\":{\"mime\":\"image/svg+xml\","
			      "\"data\":\"AAAA\"}}", c, &fr, &roy)) &&
		  !strncmp(bad, "preview:", 8));
	T_TRUE(t, (bad = form("{\"licence\":{\"contract\":\"0x12\",\"index\":1}}",
			      c, &fr, &roy)) && !strncmp(bad, "licence:", 8));
	T_TRUE(t, (bad = form("{\"key_agent\":\"nope.b32.i2p\"}", c, &fr,
			      &roy)) && !strncmp(bad, "key_agent:", 10));
	/* no default: a title is required */
	{
		json_t *j = json_loads("{}", 0, NULL);

		memset(c, 0, sizeof(*c));
		bad = content_card_fields_json(j, NULL, c, &fr, &roy);
		T_TRUE(t, bad && !strncmp(bad, "title:", 6));
		json_decref(j);
	}
	free(c);
}

/* creator.key: made 0600 on first use, the same seed read back, a file of
 * another size refused. */
static void test_creator_seed(struct tctx *t)
{
	char *dir = t_tmpdir(t), *p = fsutil_path_join(dir, "creator.key");
	struct ed25519_seed a, b;
	struct stat sb;

	T_OK(t, content_creator_seed_load(p, &a));
	T_OK(t, stat(p, &sb));
	T_EQ(t, sb.st_mode & 0777, 0600);
	T_EQ(t, sb.st_size, 32);
	T_OK(t, content_creator_seed_load(p, &b));
	T_MEMEQ(t, a.b, b.b, 32);
	T_OK(t, fsutil_write_atomic(p, "short", 5, 0600, true));
	T_EQ(t, content_creator_seed_load(p, &b), ERR_FORMAT);
	t_rmtree(dir);
	free(p);
	free(dir);
}

const struct test_case content_card_tests[] = {
	{ "creator_seed", test_creator_seed, 0 },
	{ "roundtrip", test_roundtrip, 0 },
	{ "every_bit_flip_rejected", test_every_bit_flip_rejected, 0 },
	{ "limits", test_limits, 0 },
	{ "largest_card", test_largest_card, 0 },
	{ "wrong_key", test_wrong_key, 0 },
	{ "json", test_json, 0 },
	{ "fields_json", test_fields_json, 0 },
	{ NULL, NULL, 0 }
};
