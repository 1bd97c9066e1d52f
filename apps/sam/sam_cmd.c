/*
 * SAM v3 command line parsing and version negotiation (see sam_cmd.h).
 */
#include "config.h"
#include "apps/sam/sam_cmd.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static void upcase(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

/*
 * Read one word at *pp into the output cursor *op (in place: the output
 * never overtakes the input), unquoting a quoted value.  *eq_at gets the
 * offset of the first unquoted '=' (or -1), *quoted_key whether a quote
 * came before it.  Returns the word start or NULL on an open quote.
 */
static char *word(char **pp, char **op, long *eq_at, bool *quoted_key)
{
	char *p = *pp, *o = *op, *start = o;
	bool inq = false;

	*eq_at = -1;
	*quoted_key = false;
	while (*p && (inq || !is_space(*p))) {
		if (*p == '"') {
			if (*eq_at < 0)
				*quoted_key = true;
			inq = !inq;
			p++;
			continue;
		}
		if (inq && *p == '\\' && (p[1] == '"' || p[1] == '\\')) {
			*o++ = p[1];
			p += 2;
			continue;
		}
		if (!inq && *p == '=' && *eq_at < 0)
			*eq_at = o - start;
		*o++ = *p++;
	}
	if (inq)
		return NULL;
	if (*p)
		p++;			/* the separator */
	*o++ = '\0';
	*pp = p;
	*op = o;
	return start;
}

int sam_cmd_parse(const char *line, size_t len, struct sam_cmd *out)
{
	struct sam_cmd c;
	char *p, *o, *w;
	long eq;
	bool qk;
	int e = ERR_FORMAT;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > SAM_LINE_MAX_BYTES)
		return ERR_TOO_BIG;
	if (memchr(line, '\0', len))
		return ERR_FORMAT;
	memset(&c, 0, sizeof(c));
	c.buf = xmalloc(len + 1);
	c.buflen = len + 1;
	memcpy(c.buf, line, len);
	c.buf[len] = '\0';
	p = c.buf;
	while (is_space(*p))
		p++;
	o = p;
	if (!*p || !(w = word(&p, &o, &eq, &qk)))
		goto fail;
	upcase(w);
	c.verb = w;
	if (strcmp(w, "PING") == 0 || strcmp(w, "PONG") == 0) {
		c.text = p;		/* "PING[ arbitrary text]" */
		*out = c;
		return 0;
	}
	while (is_space(*p))
		p++;
	if (*p && !memchr(p, '=', strcspn(p, " \t"))) {
		if (!(w = word(&p, &o, &eq, &qk)))
			goto fail;
		upcase(w);
		c.sub = w;
	}
	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		if (!(w = word(&p, &o, &eq, &qk)) || qk || eq == 0)
			goto fail;
		if (c.npairs == SAM_PAIRS_MAX) {
			e = ERR_TOO_BIG;
			goto fail;
		}
		c.pairs[c.npairs].key = w;
		if (eq > 0) {
			w[eq] = '\0';
			c.pairs[c.npairs].value = w + eq + 1;
		} else {
			c.pairs[c.npairs].value = w + strlen(w);  /* "" */
		}
		c.npairs++;
	}
	*out = c;
	return 0;
fail:
	xfree_wipe(c.buf, c.buflen);
	return e;
}

void sam_cmd_free(struct sam_cmd *c)
{
	if (!c)
		return;
	xfree_wipe(c->buf, c->buflen);
	memset(c, 0, sizeof(*c));
}

const char *sam_cmd_get(const struct sam_cmd *c, const char *key)
{
	const char *v = NULL;

	for (size_t i = 0; i < c->npairs; i++)
		if (strcmp(c->pairs[i].key, key) == 0)
			v = c->pairs[i].value;
	return v;
}

int sam_version_parse(const char *s, unsigned *out)
{
	unsigned major = 0, minor = 0;
	const char *p = s;

	if (!(*p >= '0' && *p <= '9'))
		return ERR_FORMAT;
	while (*p >= '0' && *p <= '9' && major < 100)
		major = major * 10 + (unsigned)(*p++ - '0');
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return ERR_FORMAT;
		/* "3.10" would be above 3.9: keep minors in one digit's
		 * range by saturating. */
		while (*p >= '0' && *p <= '9' && minor < 100)
			minor = minor * 10 + (unsigned)(*p++ - '0');
		if (minor > 9)
			minor = 9;
	}
	if (*p || major >= 100)
		return ERR_FORMAT;
	*out = major * 10 + minor;
	return 0;
}

int sam_version_negotiate(const char *min, const char *max, unsigned *out)
{
	unsigned lo = 0, hi = SAM_VERSION_MAX;

	if (min && *min && sam_version_parse(min, &lo) != 0)
		return ERR_FORMAT;
	if (max && *max) {
		if (sam_version_parse(max, &hi) != 0)
			return ERR_FORMAT;
		/* "3" as MAX means any 3.x. */
		if (strchr(max, '.') == NULL)
			hi = hi + 9;
	}
	if (hi > SAM_VERSION_MAX)
		hi = SAM_VERSION_MAX;
	if (lo < SAM_VERSION_MIN)
		lo = SAM_VERSION_MIN;
	if (hi < lo)
		return ERR_NOT_FOUND;
	*out = hi;
	return 0;
}

void sam_put_pair(struct bbuf *b, const char *key, const char *value)
{
	bool quote = *value == '\0' || strpbrk(value, " \t\"\\") != NULL;

	bbuf_u8(b, ' ');
	bbuf_put(b, key, strlen(key));
	bbuf_u8(b, '=');
	if (!quote) {
		bbuf_put(b, value, strlen(value));
		return;
	}
	bbuf_u8(b, '"');
	for (const char *v = value; *v; v++) {
		if (*v == '"' || *v == '\\')
			bbuf_u8(b, '\\');
		bbuf_u8(b, (uint8_t)*v);
	}
	bbuf_u8(b, '"');
}
