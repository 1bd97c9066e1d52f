/*
 * The proxy.site-keys file (apps/proxy/siteauth.h).
 */
#include "config.h"

#include <string.h>

#include "apps/proxy/siteauth.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* One line (p, n: without its newline): 0 with *a filled, 1 for a blank
 * or comment line, ERR_FORMAT with *why. */
static int parse_line(const char *p, size_t n, struct proxy_site_auth *a,
		      const char **why)
{
	size_t i = 0, w;

	while (n && (p[n - 1] == '\r' || is_space(p[n - 1])))
		n--;
	while (i < n && is_space(p[i]))
		i++;
	if (i == n || p[i] == '#')
		return 1;
	for (w = i; w < n && !is_space(p[w]); w++)
		;
	if (b33_parse(p + i, w - i, &a->addr) != 0) {
		*why = "not a b33 address";
		return ERR_FORMAT;
	}
	for (i = w; i < n;) {
		while (i < n && is_space(p[i]))
			i++;
		if (i == n)
			break;
		if (n - i >= 7 && memcmp(p + i, "secret:", 7) == 0) {
			if (a->secret_len) {
				*why = "secret: given twice";
				return ERR_FORMAT;
			}
			i += 7;
			if (n - i == 0 || n - i > PROXY_SITE_SECRET_MAX) {
				*why = "secret: 1 to 256 bytes";
				return ERR_FORMAT;
			}
			memcpy(a->secret, p + i, n - i);
			a->secret_len = n - i;
			break;		/* to the end of the line */
		}
		for (w = i; w < n && !is_space(p[w]); w++)
			;
		if (w - i > 4 && memcmp(p + i, "key:", 4) == 0) {
			size_t got = 0;

			if (a->has_key) {
				*why = "key: given twice";
				return ERR_FORMAT;
			}
			if (w - i - 4 != 44 ||
			    b64_decode(a->key, sizeof(a->key), &got, p + i + 4,
				       44) != 0 || got != 32) {
				*why = "key: 32 bytes in I2P base64 (44 "
				       "characters) needed";
				return ERR_FORMAT;
			}
			a->has_key = true;
		} else {
			*why = "neither key:B64 nor secret:TEXT";
			return ERR_FORMAT;
		}
		i = w;
	}
	if (!a->has_key && !a->secret_len) {
		*why = "a key: or a secret: is needed";
		return ERR_FORMAT;
	}
	return 0;
}

int proxy_site_auth_parse(const char *text, size_t len,
			  int (*fn)(void *ctx, const struct proxy_site_auth *a),
			  void *ctx, unsigned *line, const char **why)
{
	struct proxy_site_auth a;
	size_t off = 0;
	unsigned no = 0;
	int r = 0;

	*why = NULL;
	while (off < len && r == 0) {
		const char *p = text + off, *nl = memchr(p, '\n', len - off);
		size_t n = nl ? (size_t)(nl - p) : len - off;

		no++;
		memset(&a, 0, sizeof(a));
		r = parse_line(p, n, &a, why);
		if (r == 0)
			r = fn(ctx, &a);
		else if (r == 1)
			r = 0;
		memwipe(&a, sizeof(a));
		off += n + (nl != NULL);
	}
	*line = no;
	return r;
}
