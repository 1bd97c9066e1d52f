/* apps/content/text: UTF-8, MIME, DID and tag checks; decimal amounts. */
#include "config.h"
#include "tests/unit/tharness.h"
#include "apps/content/text.h"
#include "crypto/base/err.h"

#include <string.h>

#define U8(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_utf8(struct tctx *t)
{
	T_TRUE(t, content_text_is_valid(U8("plain ascii"), false));
	T_TRUE(t, content_text_is_valid(U8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xac"), false));
	T_TRUE(t, content_text_is_valid(U8(""), false));
	T_FALSE(t, content_text_is_valid(U8("\xc0\xaf"), false));	/* overlong '/' */
	T_FALSE(t, content_text_is_valid(U8("\xe0\x80\xaf"), false));	/* overlong */
	T_FALSE(t, content_text_is_valid(U8("\xed\xa0\x80"), false));	/* surrogate */
	T_FALSE(t, content_text_is_valid(U8("\xf4\x90\x80\x80"), false)); /* > U+10FFFF */
	T_FALSE(t, content_text_is_valid(U8("\xe2\x82"), false));	/* cut short */
	T_FALSE(t, content_text_is_valid(U8("\x80"), false));		/* lone continuation */
	T_FALSE(t, content_text_is_valid(U8("a\x00" "b"), true));	/* NUL */
	T_FALSE(t, content_text_is_valid(U8("\x1b[31m"), true));	/* ESC */
	T_FALSE(t, content_text_is_valid(U8("\x7f"), true));		/* DEL */
	T_FALSE(t, content_text_is_valid(U8("\xc2\x85"), true));	/* C1 NEL */
	T_FALSE(t, content_text_is_valid(U8("two\nlines"), false));
	T_TRUE(t, content_text_is_valid(U8("two\nlines\tok"), true));
	T_FALSE(t, content_text_is_valid(U8("cr\r\n"), true));
}

static void test_mime(struct tctx *t)
{
	static const char *const good[] = { "video/mp4", "application/epub+zip",
		"text/plain", "application/vnd.ms-excel", "image/svg+xml" };
	static const char *const bad[] = { "video", "Video/mp4", "video/",
		"/mp4", "video/mp4; codecs=avc1", "video/mp4 ", "vid eo/mp4",
		"video/mp4/x", "-video/mp4", "video/.mp4" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		T_TRUE(t, content_mime_is_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_FALSE(t, content_mime_is_valid(bad[i], strlen(bad[i])));
}

static void test_did(struct tctx *t)
{
	static const char *const good[] = {
		"did:ethr:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf",
		"did:ethr:0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf",
		"did:ethr:arbitrum-one:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf",
		"did:ethr:0xa4b1:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf",
	};
	static const char *const bad[] = {
		"did:ethr:7e5f4552091a69125d5dfcb7b8c2659029395bdf",
		"did:ethr:0x7e5f4552091a69125d5dfcb7b8c2659029395bd",
		"did:ethr:0x7e5f4552091a69125d5dfcb7b8c2659029395bdfa",
		"did:ethr:0x7e5f4552091a69125d5dfcb7b8c2659029395bdg",
		"did:web:example.com", "did:ethr:", "did:ethr:Main:0x7e5f4552091a69125d5dfcb7b8c2659029395bdf",
		"did:ethr::0x7e5f4552091a69125d5dfcb7b8c2659029395bdf",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		T_TRUE(t, content_did_is_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_FALSE(t, content_did_is_valid(bad[i], strlen(bad[i])));
}

static void test_tag(struct tctx *t)
{
	T_TRUE(t, content_tag_is_valid("jazz", 4));
	T_TRUE(t, content_tag_is_valid("caf\xc3\xa9", 5));
	T_FALSE(t, content_tag_is_valid("", 0));
	T_FALSE(t, content_tag_is_valid("Jazz", 4));
	T_FALSE(t, content_tag_is_valid("free jazz", 9));
	T_FALSE(t, content_tag_is_valid("a,b", 3));
	T_FALSE(t, content_tag_is_valid("#tag", 4));
}

static void test_amount_parse(struct tctx *t)
{
	static const char max[] = "1157920892373161954235709850086879078532699"
				  "84665640564039457584007913129639935";
	static const char over[] = "1157920892373161954235709850086879078532699"
				   "84665640564039457584007913129639936";
	uint8_t v[32], want[32] = { 0 };

	T_OK(t, content_amount_parse("1.5", 6, v));
	want[29] = 0x16; want[30] = 0xe3; want[31] = 0x60;	/* 1 500 000 */
	T_MEMEQ(t, v, want, 32);
	T_OK(t, content_amount_parse("0", 18, v));
	memset(want, 0, 32);
	T_MEMEQ(t, v, want, 32);
	T_OK(t, content_amount_parse(max, 0, v));
	memset(want, 0xff, 32);
	T_MEMEQ(t, v, want, 32);
	T_ERR(t, content_amount_parse(over, 0, v), ERR_RANGE);
	T_ERR(t, content_amount_parse("1", 78, v), ERR_RANGE);
	T_ERR(t, content_amount_parse("1.1234567", 6, v), ERR_FORMAT);
	T_ERR(t, content_amount_parse("1.", 6, v), ERR_FORMAT);
	T_ERR(t, content_amount_parse(".5", 6, v), ERR_FORMAT);
	T_ERR(t, content_amount_parse("", 6, v), ERR_FORMAT);
	T_ERR(t, content_amount_parse("-1", 6, v), ERR_FORMAT);
	T_ERR(t, content_amount_parse("1e6", 6, v), ERR_FORMAT);
	T_ERR(t, content_amount_parse("1.2.3", 6, v), ERR_FORMAT);
}

static void test_amount_format(struct tctx *t)
{
	static const struct { const char *in; unsigned dec; const char *out; } v[] = {
		{ "1.5", 6, "1.5" }, { "0", 6, "0" }, { "0.000001", 6, "0.000001" },
		{ "1000", 18, "1000" }, { "12.340", 3, "12.34" }, { "7", 0, "7" },
	};
	char buf[CONTENT_AMOUNT_TEXT_BYTES];
	uint8_t a[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		T_OK(t, content_amount_parse(v[i].in, v[i].dec, a));
		content_amount_format(a, v[i].dec, buf);
		T_STREQ(t, buf, v[i].out);
	}
	memset(a, 0xff, 32);
	content_amount_format(a, 77, buf);	/* longest: 78 digits, a point */
	T_EQ(t, strlen(buf), 79);
	T_EQ(t, buf[1], '.');
}

const struct test_case content_text_tests[] = {
	{ "utf8", test_utf8, 0 },
	{ "mime", test_mime, 0 },
	{ "did", test_did, 0 },
	{ "tag", test_tag, 0 },
	{ "amount_parse", test_amount_parse, 0 },
	{ "amount_format", test_amount_format, 0 },
	{ NULL, NULL, 0 }
};
