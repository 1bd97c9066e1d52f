/*
 * Credentials for single b33 sites (the proxy's `proxy.site-keys` file),
 * as Tor keeps a client key per onion service: a site that publishes a
 * per-client encrypted LeaseSet, or blinds it with a lookup secret, gets
 * its own key or secret instead of the proxy's one for all.
 *
 * The file (untrusted text; it holds secrets, so bitsd wants it 0600) has
 * one site a line:
 *
 *   ADDRESS [key:B64] [secret:TEXT]
 *
 * ADDRESS a b33 address (".b32.i2p" optional); key: 32 bytes in I2P
 * base64, an X25519 private key or a PSK (i2pd's i2cp.leaseSetPrivKey);
 * secret: the lookup secret (Java I2P's i2cp.leaseSetSecret, as text),
 * to the end of the line, so it must come last.  At least one of the two.
 * Blank lines and lines starting with '#' are skipped; CR LF is taken.
 */
#ifndef APPS_PROXY_SITEAUTH_H
#define APPS_PROXY_SITEAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/b33.h"

#define PROXY_SITE_AUTH_MAX 256		/* sites a proxy keeps */
#define PROXY_SITE_SECRET_MAX 256	/* bytes of a secret */
#define PROXY_SITE_FILE_MAX_BYTES (256u * 1024)

struct proxy_site_auth {
	struct b33_addr addr;
	bool has_key;
	uint8_t key[32];
	size_t secret_len;		/* 0: none */
	uint8_t secret[PROXY_SITE_SECRET_MAX];
};

/*
 * Call fn on each site of text (len bytes, no NUL needed); fn's non-zero
 * return stops the walk and is returned.  ERR_FORMAT for a bad line,
 * with its number in *line and what is wrong in *why (static).  The
 * struct handed to fn is wiped after each call.
 */
int proxy_site_auth_parse(const char *text, size_t len,
			  int (*fn)(void *ctx, const struct proxy_site_auth *a),
			  void *ctx, unsigned *line, const char **why);

#endif /* APPS_PROXY_SITEAUTH_H */
