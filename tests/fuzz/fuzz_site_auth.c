/*
 * libFuzzer target: the proxy.site-keys file (apps/proxy/siteauth.h).
 * Every site handed over must carry a key or a secret of at most
 * PROXY_SITE_SECRET_MAX bytes; the sites go into a proxy destination's
 * table, where a site given twice is refused.
 */
#include "config.h"
#include "apps/proxy/siteauth.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	uint8_t pk[8][B33_PUBKEY_BYTES];
	unsigned n;
};

static int check(void *ctx, const struct proxy_site_auth *a)
{
	struct seen *s = ctx;

	if ((!a->has_key && !a->secret_len) ||
	    a->secret_len > PROXY_SITE_SECRET_MAX)
		abort();
	for (unsigned i = 0; i < s->n && i < 8; i++)
		if (memcmp(s->pk[i], a->addr.pk, B33_PUBKEY_BYTES) == 0)
			return ERR_EXISTS;
	if (s->n < 8)
		memcpy(s->pk[s->n], a->addr.pk, B33_PUBKEY_BYTES);
	s->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { .n = 0 };
	const char *why = NULL;
	unsigned line = 0;
	int r;

	r = proxy_site_auth_parse((const char *)data, size, check, &s, &line,
				  &why);
	if (r == ERR_FORMAT && (!why || line == 0))
		abort();
	if (r != 0 && r != ERR_FORMAT && r != ERR_EXISTS)
		abort();
	return 0;
}
