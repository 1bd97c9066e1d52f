/*
 * libFuzzer target: tunnels.conf (apps/proxy/tunconf.h), i2pd's format,
 * read from the data dir at start and posted by the console's hosted-site
 * settings.  A file accepted holds at most TUNCONF_MAX_TUNNELS entries,
 * each named, of a known type, with what its type needs (a server its
 * port and keys, a client its destination, a web tunnel its root and
 * keys), an IPv4 host, tunnel lengths and quantities in range and its
 * per-client keys within bounds; a file refused says why.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "apps/proxy/tunconf.h"
#include "crypto/base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct tunconf_entry *e)
{
	struct in_addr a;
	size_t nl = strnlen(e->name, sizeof(e->name));

	if (nl == 0 || nl > TUNCONF_NAME_MAX_BYTES ||
	    strnlen(e->host, sizeof(e->host)) == sizeof(e->host) ||
	    inet_pton(AF_INET, e->host, &a) != 1)
		abort();
	switch (e->type) {
	case TUNCONF_SERVER:
		if (!e->port || !e->keys)
			abort();
		break;
	case TUNCONF_CLIENT:
		if (!e->destination || !*e->destination)
			abort();
		break;
	case TUNCONF_WEB:
		if (!e->root || !e->keys)
			abort();
		break;
	default:
		abort();
	}
	if (e->in_length < -1 || e->in_length > 7 ||
	    e->out_length < -1 || e->out_length > 7 ||
	    e->in_quantity == 0 || e->in_quantity < -1 || e->in_quantity > 16 ||
	    e->out_quantity == 0 || e->out_quantity < -1 ||
	    e->out_quantity > 16)
		abort();
	if (e->n_ls_clients > TUNCONF_MAX_LS_CLIENTS ||
	    (e->n_ls_clients && !e->ls_clients) ||
	    e->ls_secret_len > TUNCONF_MAX_LS_SECRET_BYTES ||
	    (e->ls_secret_len && !e->ls_secret) ||
	    (e->ls_encrypted && e->ls_auth && !e->n_ls_clients) ||
	    e->ls_auth > 2)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tunconf *tc = NULL;
	char err[256];

	log_set_level(LOG_NONE);
	memset(err, 0x55, sizeof(err));
	if (tunconf_parse((const char *)data, size, &tc, err,
			  sizeof(err)) != 0) {
		if (tc || !memchr(err, 0, sizeof(err)) || !err[0])
			abort();
		return 0;
	}
	if (!tc || tc->n > TUNCONF_MAX_TUNNELS)
		abort();
	for (size_t i = 0; i < tc->n; i++)
		check(&tc->e[i]);
	tunconf_free(tc);
	return 0;
}
