/*
 * Local destinations and their private key blobs (see dest.h).
 */
#include "config.h"
#include "apps/client/dest.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/ed25519.h"
#include "crypto/secmem.h"
#include "router/certificate.h"
#include "router/datagram.h"
#include "router/dest_keys.h"

struct client_dest {
	struct dest_keys *k;		/* secure memory */
	struct client_tunnel_opts tunnels;
	struct client_ls_opts ls;	/* ls.clients: owned copy */
};

static struct client_dest *dest_new(void)
{
	struct client_dest *d = xzalloc(sizeof(*d));

	d->tunnels = (struct client_tunnel_opts){ -1, -1, -1, -1 };
	return d;
}

void client_dest_set_tunnel_opts(struct client_dest *d,
				 const struct client_tunnel_opts *o)
{
	d->tunnels = *o;
}

const struct client_tunnel_opts *
client_dest_tunnel_opts(const struct client_dest *d)
{
	return &d->tunnels;
}

static void ls_opts_clear(struct client_ls_opts *o)
{
	if (o->clients)
		xfree_wipe((void *)o->clients, o->n_clients * 32);
	if (o->secret)
		xfree_wipe((void *)o->secret, o->secret_len);
	memset(o, 0, sizeof(*o));
}

int client_dest_set_ls_opts(struct client_dest *d,
			    const struct client_ls_opts *o)
{
	uint8_t (*c)[32] = NULL;

	if (o->auth != ELS2_AUTH_NONE &&
	    (o->n_clients == 0 || o->n_clients > ELS2_MAX_CLIENTS))
		return ERR_ARG;
	ls_opts_clear(&d->ls);
	d->ls = *o;
	if (o->auth == ELS2_AUTH_NONE) {
		d->ls.clients = NULL;
		d->ls.n_clients = 0;
	} else {
		c = xmalloc(o->n_clients * 32);
		memcpy(c, o->clients, o->n_clients * 32);
		d->ls.clients = (const uint8_t (*)[32])c;
	}
	d->ls.secret = NULL;
	d->ls.secret_len = 0;
	if (o->secret && o->secret_len) {
		d->ls.secret = xmemdup(o->secret, o->secret_len);
		d->ls.secret_len = o->secret_len;
	}
	return 0;
}

const struct client_ls_opts *client_dest_ls_opts(const struct client_dest *d)
{
	return &d->ls;
}

struct client_dest *client_dest_new_random(void)
{
	struct client_dest *d = dest_new();

	d->k = secmem_alloc(sizeof(*d->k));
	dest_keys_generate(d->k);
	secmem_readonly(d->k);
	return d;
}

int client_dest_decode(const uint8_t *buf, size_t len,
		       struct client_dest **out)
{
	struct client_dest *d = dest_new();
	int e;

	d->k = secmem_alloc(sizeof(*d->k));
	if ((e = dest_keys_decode(buf, len, d->k)) != 0)
		goto out;
	/* Streaming signs with the Destination's own Ed25519 key; offline
	 * keys would need the OFFLINE_SIGNATURE option in every SYN. */
	if (d->k->offline ||
	    d->k->signer_type != CERT_SIG_EDDSA_SHA512_ED25519) {
		e = ERR_UNSUPPORTED;
		goto out;
	}
	if ((e = dest_keys_check(d->k)) != 0) {
		e = ERR_FORMAT;
		goto out;
	}
	secmem_readonly(d->k);
	*out = d;
	d = NULL;
out:
	client_dest_free(d);
	return e;
}

void client_dest_encode_private(const struct client_dest *d, struct bbuf *out)
{
	dest_keys_encode(d->k, out);
}

const struct keys_and_cert *client_dest_pub(const struct client_dest *d)
{
	return &d->k->dest;
}

const struct dest_keys *client_dest_keys(const struct client_dest *d)
{
	return d->k;
}

static void dest_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t *sig)
{
	const struct client_dest *d = ctx;
	struct ed25519_seed seed;
	struct ed25519_sig s;

	memcpy(seed.b, d->k->sig_sk, sizeof(seed.b));
	ed25519_sign(&s, &seed, msg, len);
	memwipe(&seed, sizeof(seed));
	memcpy(sig, s.b, sizeof(s.b));
}

void client_dest_signer(const struct client_dest *d, struct stream_signer *out)
{
	out->dest = &d->k->dest;
	out->sig_len = keys_and_cert_sig_len(&d->k->dest);
	out->sign = dest_sign;
	out->ctx = (void *)d;
}

int client_dest_datagram_encode(const struct client_dest *d,
				const void *payload, size_t len,
				struct bbuf *out)
{
	struct ed25519_seed seed;
	int e;

	memcpy(seed.b, d->k->sig_sk, sizeof(seed.b));
	e = datagram_repliable_encode(&d->k->dest, &seed, payload, len, out);
	memwipe(&seed, sizeof(seed));
	return e;
}

void client_dest_free(struct client_dest *d)
{
	if (!d)
		return;
	secmem_free(d->k);	/* wipes */
	ls_opts_clear(&d->ls);
	free(d);
}

/* A private key blob is 387 bytes of Destination, the keys and perhaps
 * offline signature data: well under this. */
#define DEST_FILE_MAX_BYTES 4096

int client_dest_load_or_create(const char *path, struct client_dest **out)
{
	struct bbuf b = BBUF_INIT;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = fsutil_read_file(path, DEST_FILE_MAX_BYTES, &buf, &len);

	if (r == 0) {
		r = client_dest_decode(buf, len, out);
		xfree_wipe(buf, len);
		if (r != 0)
			log_err(LD_APP, "%s is not a destination key: %s",
				path, err_str(r));
		return r;
	}
	if (r != ERR_NOT_FOUND)
		return r;
	*out = client_dest_new_random();
	client_dest_encode_private(*out, &b);
	r = fsutil_write_atomic(path, b.data, b.len, 0600, false);
	memwipe(b.data, b.len);
	bbuf_free(&b);
	if (r != 0)
		FREE_AND_NULL(client_dest_free, *out);
	return r;
}

int client_dest_write_b32(const char *dir, const char *name,
			  const struct keys_and_cert *k, const char *what)
{
	char b32[DEST_B32_CHARS + 2], *path = fsutil_path_join(dir, name);
	size_t n;
	int r;

	dest_b32_format(k, b32);
	n = strlen(b32);
	b32[n] = '\n';
	b32[n + 1] = 0;
	r = fsutil_write_atomic(path, b32, n + 1, 0644, true);
	if (r == 0)
		log_notice(LD_APP, "%s: our destination is %s", what, b32);
	else
		log_warn(LD_APP, "%s: cannot write %s: %s", what, path,
			 err_str(r));
	free(path);
	return r;
}
