/*
 * apps/sam/sam_cmd: the SAM v3 line syntax ("Encoding and Escaping",
 * "Empty values", "Case Sensitivity") and HELLO VERSION negotiation.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/sam/sam_cmd.h"
#include "crypto/base/err.h"
#include "tests/unit/tharness.h"

static int parse(struct sam_cmd *c, const char *s)
{
	return sam_cmd_parse(s, strlen(s), c);
}

static void test_basic(struct tctx *t)
{
	struct sam_cmd c;

	T_OK(t, parse(&c, "HELLO VERSION MIN=3.0 MAX=3.3\n"));
	T_STREQ(t, c.verb, "HELLO");
	T_STREQ(t, c.sub, "VERSION");
	T_EQ(t, c.npairs, 2);
	T_STREQ(t, sam_cmd_get(&c, "MIN"), "3.0");
	T_STREQ(t, sam_cmd_get(&c, "MAX"), "3.3");
	T_TRUE(t, sam_cmd_get(&c, "min") == NULL);	/* keys keep case */
	sam_cmd_free(&c);

	/* Lower-case commands (telnet), several spaces, CRLF, pairs in any
	 * order; values keep their case. */
	T_OK(t, parse(&c, "session   create ID=abc\tSTYLE=STREAM "
			  "DESTINATION=TRANSIENT inbound.length=0\r\n"));
	T_STREQ(t, c.verb, "SESSION");
	T_STREQ(t, c.sub, "CREATE");
	T_EQ(t, c.npairs, 4);
	T_STREQ(t, sam_cmd_get(&c, "ID"), "abc");
	T_STREQ(t, sam_cmd_get(&c, "inbound.length"), "0");
	sam_cmd_free(&c);

	/* A command without subcommand (3.2). */
	T_OK(t, parse(&c, "QUIT"));
	T_STREQ(t, c.verb, "QUIT");
	T_TRUE(t, c.sub == NULL);
	T_EQ(t, c.npairs, 0);
	sam_cmd_free(&c);
}

static void test_quotes_and_empty(struct tctx *t)
{
	struct sam_cmd c;

	T_OK(t, parse(&c, "HELLO VERSION USER=\"a b\" PASSWORD=\"q\\\"x\\\\y\" "
			  "E1 E2= E3=\"\" V=x=y"));
	T_STREQ(t, sam_cmd_get(&c, "USER"), "a b");
	T_STREQ(t, sam_cmd_get(&c, "PASSWORD"), "q\"x\\y");
	T_STREQ(t, sam_cmd_get(&c, "E1"), "");
	T_STREQ(t, sam_cmd_get(&c, "E2"), "");
	T_STREQ(t, sam_cmd_get(&c, "E3"), "");
	T_STREQ(t, sam_cmd_get(&c, "V"), "x=y");
	sam_cmd_free(&c);

	T_OK(t, parse(&c, "PING hello there  "));
	T_STREQ(t, c.verb, "PING");
	T_STREQ(t, c.text, "hello there  ");
	sam_cmd_free(&c);
	T_OK(t, parse(&c, "PING"));
	T_STREQ(t, c.text, "");
	sam_cmd_free(&c);
}

static void test_bad_lines(struct tctx *t)
{
	struct sam_cmd c;
	char *big;
	size_t i, n;

	T_ERR(t, parse(&c, ""), ERR_FORMAT);
	T_ERR(t, parse(&c, "   \r\n"), ERR_FORMAT);
	T_ERR(t, parse(&c, "HELLO VERSION MIN=\"3.0"), ERR_FORMAT);
	T_ERR(t, parse(&c, "HELLO VERSION =3"), ERR_FORMAT);
	T_ERR(t, parse(&c, "HELLO VERSION \"K\"=3"), ERR_FORMAT);
	T_ERR(t, sam_cmd_parse("HELLO\0X", 7, &c), ERR_FORMAT);
	big = malloc(SAM_LINE_MAX_BYTES + 2);
	memset(big, 'A', SAM_LINE_MAX_BYTES + 1);
	big[SAM_LINE_MAX_BYTES + 1] = '\0';
	T_ERR(t, parse(&c, big), ERR_TOO_BIG);
	/* Too many pairs. */
	n = 0;
	n += (size_t)snprintf(big, 32, "A B");
	for (i = 0; i <= SAM_PAIRS_MAX; i++)
		n += (size_t)snprintf(big + n, 16, " K%zu=v", i);
	T_ERR(t, parse(&c, big), ERR_TOO_BIG);
	free(big);
}

static void test_version(struct tctx *t)
{
	unsigned v = 0;

	T_OK(t, sam_version_negotiate(NULL, NULL, &v));
	T_EQ(t, v, 33);
	T_OK(t, sam_version_negotiate("3.0", "3.1", &v));
	T_EQ(t, v, 31);
	T_OK(t, sam_version_negotiate("3", "3", &v));	/* single digits */
	T_EQ(t, v, 33);
	T_OK(t, sam_version_negotiate("3.1", "4.0", &v));
	T_EQ(t, v, 33);
	T_OK(t, sam_version_negotiate("", "3.2", &v));
	T_EQ(t, v, 32);
	T_OK(t, sam_version_negotiate("1", "3.0", &v));
	T_EQ(t, v, 30);
	T_ERR(t, sam_version_negotiate("3.4", NULL, &v), ERR_NOT_FOUND);
	T_ERR(t, sam_version_negotiate(NULL, "2.0", &v), ERR_NOT_FOUND);
	T_ERR(t, sam_version_negotiate("x", NULL, &v), ERR_FORMAT);
	T_ERR(t, sam_version_negotiate("3.", NULL, &v), ERR_FORMAT);
	T_ERR(t, sam_version_negotiate(NULL, "3.1a", &v), ERR_FORMAT);
}

static void test_put_pair(struct tctx *t)
{
	struct bbuf b = BBUF_INIT;
	struct sam_cmd c;

	bbuf_put(&b, "X Y", 3);
	sam_put_pair(&b, "RESULT", "OK");
	sam_put_pair(&b, "MESSAGE", "bad \"key\" \\ here");
	sam_put_pair(&b, "E", "");
	bbuf_u8(&b, '\0');
	T_STREQ(t, (char *)b.data,
		"X Y RESULT=OK MESSAGE=\"bad \\\"key\\\" \\\\ here\" E=\"\"");
	/* What we write, we read back. */
	T_OK(t, parse(&c, (char *)b.data));
	T_STREQ(t, sam_cmd_get(&c, "MESSAGE"), "bad \"key\" \\ here");
	T_STREQ(t, sam_cmd_get(&c, "E"), "");
	sam_cmd_free(&c);
	bbuf_free(&b);
}

const struct test_case client_sam_cmd_tests[] = {
	{ "basic", test_basic, 0 },
	{ "quotes_and_empty", test_quotes_and_empty, 0 },
	{ "bad_lines", test_bad_lines, 0 },
	{ "version", test_version, 0 },
	{ "put_pair", test_put_pair, 0 },
	{ NULL, NULL, 0 }
};
