/* apps/content/record: reactions, follows and views. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "tests/unit/content/tcontent.h"
#include "apps/content/record.h"
#include "crypto/base/err.h"

#include <string.h>

static void make(struct content_record *r, enum content_record_kind kind)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	memset(r->card_id, 0xc4, 32);
	r->created = 1767225600;
}

/* Sign, encode, decode, verify, re-encode; returns the encoded length. */
static size_t roundtrip(struct tctx *t, struct content_record *r)
{
	struct content_signer s;
	struct ed25519_seed sk;
	struct content_record d;
	struct bbuf a = BBUF_INIT, b = BBUF_INIT;
	size_t n;

	tc_signer(&s, &sk, 9);
	T_OK(t, content_record_sign(r, &s));
	T_OK(t, content_record_encode(r, &a));
	T_TRUE(t, a.len <= CONTENT_RECORD_MAX_BYTES);
	T_OK(t, content_record_decode(a.data, a.len, &d));
	T_OK(t, content_record_verify(&d));
	T_OK(t, content_record_encode(&d, &b));
	T_EQ(t, a.len, b.len);
	T_MEMEQ(t, a.data, b.data, a.len);
	T_EQ(t, d.kind, r->kind);
	T_STREQ(t, d.text, r->text);
	n = a.len;
	bbuf_free(&a);
	bbuf_free(&b);
	return n;
}

static void test_kinds(struct tctx *t)
{
	struct content_record r;

	make(&r, CONTENT_RECORD_REACTION);
	r.reaction = CONTENT_REACT_LIKE;
	T_EQ(t, roundtrip(t, &r), 4 + 1 + 1 + 32 + 32 + 8 + 2 + 64);
	r.reaction = CONTENT_REACT_EMOJI;
	memcpy(r.text, "\xf0\x9f\x94\xa5", 5);	/* fire */
	T_EQ(t, roundtrip(t, &r), 4 + 1 + 1 + 32 + 32 + 8 + 2 + 4 + 64);
	make(&r, CONTENT_RECORD_FOLLOW);
	r.follow = true;
	T_EQ(t, roundtrip(t, &r), 4 + 1 + 1 + 32 + 32 + 8 + 1 + 64);
	make(&r, CONTENT_RECORD_VIEW);
	T_EQ(t, roundtrip(t, &r), 4 + 1 + 1 + 32 + 32 + 8 + 64);
	T_STREQ(t, content_record_kind_name(CONTENT_RECORD_VIEW), "view");
	make(&r, CONTENT_RECORD_DELETE);
	T_EQ(t, roundtrip(t, &r), 4 + 1 + 1 + 32 + 32 + 8 + 64);
	T_STREQ(t, content_record_kind_name(CONTENT_RECORD_DELETE), "delete");
}

static void test_field_rules(struct tctx *t)
{
	struct content_record r;
	struct bbuf b = BBUF_INIT;

	make(&r, CONTENT_RECORD_REACTION);
	r.reaction = CONTENT_REACT_EMOJI;	/* emoji needs text */
	T_ERR(t, content_record_validate(&r), ERR_FORMAT);
	r.reaction = CONTENT_REACT_LIKE;
	memcpy(r.text, "x", 2);			/* like carries none */
	T_ERR(t, content_record_validate(&r), ERR_FORMAT);
	r.reaction = 9;
	T_ERR(t, content_record_validate(&r), ERR_FORMAT);
	r.reaction = CONTENT_REACT_EMOJI;
	memset(r.text, 'x', sizeof(r.text));	/* no NUL: over the limit */
	T_ERR(t, content_record_validate(&r), ERR_TOO_BIG);
	memcpy(r.text, "\x1b", 2);
	T_ERR(t, content_record_validate(&r), ERR_FORMAT);
	make(&r, CONTENT_RECORD_VIEW);
	r.follow = true;
	T_ERR(t, content_record_validate(&r), ERR_FORMAT);
	make(&r, CONTENT_RECORD_DELETE);
	r.follow = true;
	T_ERR(t, content_record_validate(&r), ERR_FORMAT);
	make(&r, CONTENT_RECORD_FOLLOW);
	r.reaction = CONTENT_REACT_LIKE;
	T_ERR(t, content_record_validate(&r), ERR_FORMAT);
	r.reaction = 0;
	r.kind = 7;
	T_ERR(t, content_record_encode(&r, &b), ERR_FORMAT);
	T_EQ(t, b.len, 0);
	bbuf_free(&b);
}

static int decode_record(const uint8_t *b, size_t n, void *out)
{
	return content_record_decode(b, n, out);
}

static void test_tamper(struct tctx *t)
{
	struct content_record r, d;
	struct content_signer s;
	struct ed25519_seed sk;
	struct bbuf b = BBUF_INIT;
	int accepted = 0;

	make(&r, CONTENT_RECORD_REACTION);
	r.reaction = CONTENT_REACT_EMOJI;
	memcpy(r.text, "ok", 3);
	tc_signer(&s, &sk, 3);
	T_OK(t, content_record_sign(&r, &s));
	T_OK(t, content_record_encode(&r, &b));
	for (size_t i = 0; i < b.len; i++)
		for (int bit = 0; bit < 8; bit++) {
			b.data[i] ^= (uint8_t)(1u << bit);
			if (content_record_decode(b.data, b.len, &d) == 0 &&
			    content_record_verify(&d) == 0)
				accepted++;
			b.data[i] ^= (uint8_t)(1u << bit);
		}
	T_EQ(t, accepted, 0);
	tc_prefixes_fail(t, b.data, b.len, decode_record, &d);
	b.data[5] = 4;	/* unknown kind */
	T_ERR(t, content_record_decode(b.data, b.len, &d), ERR_FORMAT);
	b.data[5] = 1;
	b.data[4] = 2;	/* another version */
	T_ERR(t, content_record_decode(b.data, b.len, &d), ERR_UNSUPPORTED);
	b.data[4] = 1;
	b.data[4 + 1 + 1 + 32 + 32 + 8 + 1] = RECORD_TEXT_MAX_BYTES + 1;
	T_ERR(t, content_record_decode(b.data, b.len, &d), ERR_TOO_BIG);
	bbuf_put(&b, "", 1);
	T_TRUE(t, content_record_decode(b.data, b.len, &d) != 0);
	bbuf_free(&b);
}

const struct test_case content_record_tests[] = {
	{ "kinds", test_kinds, 0 },
	{ "field_rules", test_field_rules, 0 },
	{ "tamper", test_tamper, 0 },
	{ NULL, NULL, 0 }
};
