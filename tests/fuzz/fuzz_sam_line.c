/*
 * libFuzzer target: SAM v3 command lines (apps/sam/sam_cmd.h).  Every
 * parsed string must lie in the parser's own buffer, and a line built back
 * from the pairs with sam_put_pair() must parse to the same pairs.
 */
#include "config.h"
#include "apps/sam/sam_cmd.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void in_buf(const struct sam_cmd *c, const char *s)
{
	if (s && (s < c->buf || s >= c->buf + c->buflen))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sam_cmd c, d;
	struct bbuf b = BBUF_INIT;
	unsigned v;

	if (sam_cmd_parse((const char *)data, size, &c) != 0)
		return 0;
	in_buf(&c, c.verb);
	in_buf(&c, c.sub);
	in_buf(&c, c.text);
	(void)sam_version_negotiate(sam_cmd_get(&c, "MIN"),
				    sam_cmd_get(&c, "MAX"), &v);
	if (c.text || strpbrk(c.verb, "\r\n") ||
	    (c.sub && strpbrk(c.sub, "\r\n\"")) || strchr(c.verb, '"'))
		goto out;
	bbuf_put(&b, "X Y", 3);
	for (size_t i = 0; i < c.npairs; i++) {
		in_buf(&c, c.pairs[i].key);
		in_buf(&c, c.pairs[i].value);
		if (strpbrk(c.pairs[i].key, "\r\n") ||
		    strpbrk(c.pairs[i].value, "\r\n"))
			goto out;
		sam_put_pair(&b, c.pairs[i].key, c.pairs[i].value);
	}
	if (sam_cmd_parse((const char *)b.data, b.len, &d) == 0) {
		if (d.npairs != c.npairs)
			abort();
		for (size_t i = 0; i < c.npairs; i++)
			if (strcmp(d.pairs[i].key, c.pairs[i].key) ||
			    strcmp(d.pairs[i].value, c.pairs[i].value))
				abort();
		sam_cmd_free(&d);
	}
out:
	bbuf_free(&b);
	sam_cmd_free(&c);
	return 0;
}
