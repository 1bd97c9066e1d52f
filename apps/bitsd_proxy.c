/*
 * bitsd's browsing and hosting subsystem (see bitsd_proxy.h): reads the
 * files at start (the address book and tunnels.conf, once, before any
 * traffic), makes or loads each server's persistent keys, and hands the
 * rest to apps/proxy.
 */
#include "config.h"
#include "apps/bitsd_proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/client/dest.h"
#include "apps/proxy/addrbook.h"
#include "apps/proxy/proxy.h"
#include "apps/proxy/tunconf.h"
#include "apps/proxy/web.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "router/b33.h"
#include "router/certificate.h"
#include "router/conf.h"
#include "router/dest_keys.h"

#define BITSD_PROXY_MAX_WEB TUNCONF_MAX_TUNNELS

struct bitsd_proxy {
	struct addrbook *ab;
	struct proxy *p;
	struct web *web[BITSD_PROXY_MAX_WEB];
	size_t nweb;
	/* the server and web tunnels, for bitsd_proxy_sites() */
	char *site_name[TUNCONF_MAX_TUNNELS];
	struct proxy_dest *site[TUNCONF_MAX_TUNNELS];
	size_t nsites;
};

static int serve_site(struct bitsd_proxy *bp, struct proxy_dest *pd,
		      const char *name, const char *host, uint16_t port)
{
	int e = proxy_serve(bp->p, pd, host, port);

	if (e == 0 && bp->nsites < TUNCONF_MAX_TUNNELS) {
		bp->site_name[bp->nsites] = xstrdup(name);
		bp->site[bp->nsites++] = pd;
	}
	return e;
}

void bitsd_proxy_sites(const struct bitsd_proxy *bp,
		       void (*fn)(void *ctx, const char *name, uint64_t served),
		       void *ctx)
{
	for (size_t i = 0; bp && i < bp->nsites; i++)
		fn(ctx, bp->site_name[i], proxy_dest_served(bp->site[i]));
}

static char *datadir_path(const struct conf *cfg, const char *name)
{
	size_t n = strlen(cfg->datadir) + strlen(name) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", cfg->datadir, name);
	return p;
}

bool bitsd_proxy_wanted(const struct conf *cfg)
{
	char *p;
	bool have;

	if (cfg->proxy || cfg->proxy_tunnels)
		return true;
	p = datadir_path(cfg, "tunnels.conf");
	have = access(p, F_OK) == 0;
	free(p);
	return have;
}

/* Load name's keys from the data dir, or make and save new ones. */
static int server_keys(const struct conf *cfg, const char *name,
		       struct client_dest **out)
{
	struct dest_keys *k = xmalloc(sizeof(*k));
	struct bbuf blob = BBUF_INIT;
	char *path = datadir_path(cfg, name);
	char b32[DEST_B32_CHARS + 1];
	char *b32path;
	FILE *f;
	int e;

	e = dest_keys_load(path, k);
	if (e == ERR_NOT_FOUND || (e == ERR_IO && errno == ENOENT)) {
		dest_keys_generate(k);
		e = dest_keys_save(path, k, false);
	}
	if (e == 0) {
		dest_keys_encode(k, &blob);
		e = client_dest_decode(blob.data, blob.len, out);
		/* the address, for the operator (not a secret) */
		dest_b32_format(&k->dest, b32);
		b32path = xmalloc(strlen(path) + 5);
		snprintf(b32path, strlen(path) + 5, "%s.b32", path);
		if ((f = fopen(b32path, "w"))) {
			fprintf(f, "%s\n", b32);
			fclose(f);
		}
		free(b32path);
	} else {
		log_warn(LD_APP, "proxy: cannot load or create the keys %s: %s",
			 path, err_str(e));
	}
	dest_keys_wipe(k);
	free(k);
	bbuf_free(&blob);
	free(path);
	return e;
}

static int read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat sb;
	char *buf;
	ssize_t r;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ERR_IO;
	if (fstat(fd, &sb) != 0 || (size_t)sb.st_size > max) {
		close(fd);
		return ERR_TOO_BIG;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size &&
	       (r = read(fd, buf + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	*out = buf;
	*len = got;
	return 0;
}

/* KEYS.b33 in the data directory: the b33 address of an encrypted
 * LeaseSet, for the operator (not a secret). */
static void write_b33(const struct conf *cfg, const char *keys,
		      const struct keys_and_cert *dest,
		      const struct client_ls_opts *lo)
{
	struct b33_addr a = { .sig_type = CERT_SIG_EDDSA_SHA512_ED25519,
			      .blinded_sig_type = 11 };
	char b33[B33_MAX_CHARS + 1], *name, *path;
	size_t n;

	if (lo->auth != ELS2_AUTH_NONE)
		a.flags = B33_FLAG_CLIENT_AUTH;
	if (lo->secret)
		a.flags |= B33_FLAG_SECRET;
	memcpy(a.pk, dest->sig_key, B33_PUBKEY_BYTES);
	if (b33_format(&a, b33, sizeof(b33) - 1) != 0)
		return;
	n = strlen(b33);
	b33[n] = '\n';
	b33[n + 1] = 0;
	name = xmalloc(strlen(keys) + 5);
	snprintf(name, strlen(keys) + 5, "%s.b33", keys);
	path = fsutil_path_join(cfg->datadir, name);
	if (fsutil_write_atomic(path, b33, n + 1, 0644, true) == 0)
		log_notice(LD_APP, "proxy: encrypted LeaseSet at %.*s", (int)n,
			   b33);
	free(path);
	free(name);
}

/* Streams of the proxies and tunnels: ECIES-sized packets, and room for
 * a fast sender: a window of PROXY_STREAM_WINDOW packets and a receive
 * buffer of PROXY_STREAM_RECV_BYTES, so that a 128-packet window of
 * reordered data is never dropped for want of room (the default buffer,
 * about 230 KB, is full at 128 packets). */
static void proxy_stream_tune(struct stream_config *sc)
{
	sc->mtu = STREAM_MTU_ECIES;
	sc->max_window = PROXY_STREAM_WINDOW;
	sc->recv_buffer_bytes = PROXY_STREAM_RECV_BYTES;
}

/* 32 bytes of I2P base64 (44 characters) into key. */
static int b64_key(const char *s, uint8_t key[32])
{
	size_t n;

	if (strlen(s) != 44 || b64_decode(key, 32, &n, s, 44) != 0 || n != 32)
		return ERR_FORMAT;
	return 0;
}

static int start_tunnel(struct bitsd_proxy *bp, struct evloop *el,
			const struct conf *cfg, const struct tunconf_entry *t)
{
	struct stream_config sc;
	struct client_dest *d;
	struct proxy_dest *pd;
	struct web_cfg wc;
	uint16_t port = t->port;
	int e;

	stream_config_default(&sc);
	proxy_stream_tune(&sc);
	sc.max_streams = t->max_streams ? t->max_streams
					: cfg->lim_streams;
	sc.max_conns_per_minute = t->per_minute;
	sc.max_conns_per_hour = t->per_hour;
	sc.max_conns_per_day = t->per_day;
	sc.max_total_per_minute = t->total_minute;
	sc.max_total_per_hour = t->total_hour;
	sc.max_total_per_day = t->total_day;
	struct client_tunnel_opts to = { t->in_length, t->out_length,
					 t->in_quantity, t->out_quantity };
	struct client_ls_opts lo = {
		.encrypted = t->ls_encrypted,
		.auth = t->ls_auth == 1 ? ELS2_AUTH_DH :
			t->ls_auth == 2 ? ELS2_AUTH_PSK : ELS2_AUTH_NONE,
		.clients = (const uint8_t (*)[32])t->ls_clients,
		.n_clients = t->n_ls_clients,
		.secret = t->ls_secret, .secret_len = t->ls_secret_len,
	};

	if (t->keys) {
		if ((e = server_keys(cfg, t->keys, &d)) != 0)
			return e;
	} else {
		d = client_dest_new_random();
	}
	client_dest_set_tunnel_opts(d, &to);
	if ((e = client_dest_set_ls_opts(d, &lo)) != 0) {
		client_dest_free(d);
		return e;
	}
	if (t->ls_encrypted && t->keys)
		write_b33(cfg, t->keys, client_dest_pub(d), &lo);
	if ((e = proxy_dest_add(bp->p, d, &sc, &pd)) != 0)
		return e;
	if (t->has_ls_priv_key)
		proxy_dest_set_leaseset_key(pd, t->ls_priv_key);
	proxy_dest_set_lookup_secret(pd, t->ls_secret, t->ls_secret_len);
	switch (t->type) {
	case TUNCONF_CLIENT:
		return proxy_listen(bp->p, PROXY_CLIENT, pd, t->host, t->port,
				    t->destination, t->destination_port, NULL);
	case TUNCONF_WEB:
		if (bp->nweb == BITSD_PROXY_MAX_WEB)
			return ERR_LIMIT;
		web_cfg_default(&wc);
		wc.root = t->root;
		wc.listing = t->listing;
		if ((e = web_new(el, &wc, &bp->web[bp->nweb])) != 0)
			return e;
		port = web_port(bp->web[bp->nweb++]);
		return serve_site(bp, pd, t->name, "127.0.0.1", port);
	case TUNCONF_SERVER:
		return serve_site(bp, pd, t->name, t->host, port);
	}
	return ERR_INTERNAL;
}

static int start_tunnels(struct bitsd_proxy *bp, struct evloop *el,
			 const struct conf *cfg)
{
	char *path = cfg->proxy_tunnels ? xstrdup(cfg->proxy_tunnels) :
					  datadir_path(cfg, "tunnels.conf");
	struct tunconf *tc = NULL;
	char err[256] = "";
	char *text = NULL;
	size_t len;
	int e;

	if ((e = read_file(path, TUNCONF_MAX_BYTES, &text, &len)) != 0) {
		if (!cfg->proxy_tunnels && e == ERR_IO && errno == ENOENT)
			e = 0;		/* no tunnels.conf: none */
		else
			log_err(LD_APP, "proxy: cannot read %s", path);
		goto out;
	}
	if ((e = tunconf_parse(text, len, &tc, err, sizeof(err))) != 0) {
		log_err(LD_APP, "proxy: %s: %s", path, err);
		goto out;
	}
	for (size_t i = 0; i < tc->n && e == 0; i++)
		if ((e = start_tunnel(bp, el, cfg, &tc->e[i])) != 0)
			log_err(LD_APP, "proxy: tunnel [%s]: %s",
				tc->e[i].name, err_str(e));
	if (e == 0 && tc->n)
		log_notice(LD_APP, "proxy: %zu tunnel(s) from %s", tc->n,
			   path);
out:
	tunconf_free(tc);
	free(text);
	free(path);
	return e;
}

/* Each URL of list (',' or ' ' apart; NULL: none), fetched as pd. */
struct site_load {
	struct proxy_dest *pd;
	unsigned n;
};

static int site_add(void *ctx, const struct proxy_site_auth *a)
{
	struct site_load *sl = ctx;
	int e = proxy_dest_add_site_auth(sl->pd, a);

	sl->n += e == 0;
	return e;
}

/* proxy.site-keys: single b33 sites' own keys and secrets for pd.  The
 * file holds secrets: refused when others may read it. */
static int site_keys_load(struct proxy_dest *pd, const char *path)
{
	struct site_load sl = { pd, 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *why = NULL;
	unsigned line = 0;
	int e;

	if ((e = fsutil_read_private_file(path, PROXY_SITE_FILE_MAX_BYTES,
					  &buf, &len)) != 0) {
		log_err(LD_APP, "proxy.site-keys: %s: %s", path, e == ERR_ARG ?
			"readable by others; chmod 600 it first" : err_str(e));
		return e;
	}
	e = proxy_site_auth_parse((const char *)buf, len, site_add, &sl,
				  &line, &why);
	xfree_wipe(buf, len);
	if (e != 0) {
		log_err(LD_APP, "proxy.site-keys: %s line %u: %s", path, line,
			why ? why : e == ERR_EXISTS ? "a site given twice" :
			err_str(e));
		return e;
	}
	log_notice(LD_APP, "proxy: %u b33 site(s) with a key or secret of "
		   "their own (proxy.site-keys)", sl.n);
	return 0;
}

static int subscribe(struct bitsd_proxy *bp, struct proxy_dest *pd,
		     const char *list)
{
	char *copy, *tok, *save = NULL;
	int e = 0;

	if (!list)
		return 0;
	copy = xstrdup(list);
	for (tok = strtok_r(copy, ", \t", &save); tok && e == 0;
	     tok = strtok_r(NULL, ", \t", &save))
		if ((e = proxy_subscribe(bp->p, pd, tok, PROXY_SUB_FIRST_MS,
					 PROXY_SUB_INTERVAL_MS)) != 0)
			log_err(LD_APP, "proxy: bad subscription URL %s "
				"(http://NAME.i2p/... only)", tok);
	free(copy);
	return e;
}

int bitsd_proxy_start(struct evloop *el, const struct conf *cfg,
		      const struct client_net *net, struct bitsd_proxy **out)
{
	struct bitsd_proxy *bp = xzalloc(sizeof(*bp));
	struct addrbook_merge_stats st;
	struct proxy_cfg pc;
	struct proxy_dest *pd;
	struct client_dest *d;
	uint8_t key[32];
	char *hosts;
	uint16_t hp, sp;
	int e = 0;

	bp->ab = addrbook_new();
	hosts = cfg->proxy_hosts ? xstrdup(cfg->proxy_hosts) :
				   datadir_path(cfg, "hosts.txt");
	if (addrbook_load_file(bp->ab, hosts, &st) == 0)
		log_notice(LD_APP, "proxy: address book: %zu names from %s "
			   "(%zu bad lines, %zu bad signatures)",
			   addrbook_count(bp->ab), hosts, st.bad, st.bad_sig);
	else if (cfg->proxy_hosts)
		log_warn(LD_APP, "proxy: cannot read %s", hosts);
	free(hosts);
	proxy_cfg_default(&pc);
	pc.outproxy = cfg->proxy_outproxy;
	proxy_stream_tune(&pc.stream);
	pc.stream.max_streams = cfg->lim_streams;
	bp->p = proxy_new(el, net, bp->ab, &pc);
	if (cfg->proxy) {
		hp = cfg->proxy_http_port ? cfg->proxy_http_port :
					    PROXY_HTTP_DEFAULT_PORT;
		sp = cfg->proxy_socks_port ? cfg->proxy_socks_port :
					     PROXY_SOCKS_DEFAULT_PORT;
		d = client_dest_new_random();
		if (cfg->proxy_hops != CONF_UNSET_HOPS) {
			struct client_tunnel_opts to = {
				(int)cfg->proxy_hops, (int)cfg->proxy_hops, -1,
				-1 };

			client_dest_set_tunnel_opts(d, &to);
		}
		if (cfg->proxy_leaseset_key &&
		    (e = b64_key(cfg->proxy_leaseset_key, key)) != 0) {
			log_err(LD_APP, "proxy.leaseset-key: 32 bytes in I2P "
				"base64 expected");
			client_dest_free(d);
			goto fail;
		}
		if ((e = proxy_dest_add(bp->p, d, NULL, &pd)) != 0)
			goto fail;
		if (cfg->proxy_leaseset_key)
			proxy_dest_set_leaseset_key(pd, key);
		if (cfg->proxy_leaseset_secret)
			proxy_dest_set_lookup_secret(
				pd, (const uint8_t *)cfg->proxy_leaseset_secret,
				strlen(cfg->proxy_leaseset_secret));
		memwipe(key, sizeof(key));
		if (cfg->proxy_site_keys &&
		    (e = site_keys_load(pd, cfg->proxy_site_keys)) != 0)
			goto fail;
		if (
		    (e = proxy_listen(bp->p, PROXY_HTTP, pd, "127.0.0.1", hp,
				      NULL, 0, NULL)) != 0 ||
		    (e = proxy_listen(bp->p, PROXY_SOCKS, pd, "127.0.0.1", sp,
				      NULL, 0, NULL)) != 0)
			goto fail;
		log_notice(LD_APP, "HTTP proxy on 127.0.0.1:%u, SOCKS proxy on "
			   "127.0.0.1:%u", hp, sp);
		if ((e = subscribe(bp, pd, cfg->proxy_subscriptions)) != 0)
			goto fail;
	}
	if ((e = start_tunnels(bp, el, cfg)) != 0)
		goto fail;
	*out = bp;
	return 0;
fail:
	bitsd_proxy_stop(bp);
	return e;
}

void bitsd_proxy_stop(struct bitsd_proxy *bp)
{
	if (!bp)
		return;
	proxy_free(bp->p);
	for (size_t i = 0; i < bp->nweb; i++)
		web_free(bp->web[i]);
	for (size_t i = 0; i < bp->nsites; i++)
		free(bp->site_name[i]);
	addrbook_free(bp->ab);
	free(bp);
}
