/*
 * Reseeding (netdb/reseed.h): su3 bundles from a file or an HTTPS
 * server, and directories of routerInfo-*.dat files.  The checks and the
 * file I/O run in one worker job per source; the HTTPS fetch runs on the
 * event loop (libevent's HTTP client over a bufferevent_openssl, DNS
 * through evdns); the loop stores what the job accepted.
 */
#include "config.h"
#include "netdb/reseed.h"
#include "netdb/netdb_internal.h"
#include "router/evloop.h"
#include "crypto/base/fsutil.h"
#include "router/router_info.h"
#include "router/su3.h"
#include "router/worker.h"
#include "router/zip.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"

#include <dirent.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RI_PREFIX "routerInfo-"
#define RI_SUFFIX ".dat"
#define RI_B64_CHARS 44
/* Reseed servers answer only this agent (i2pd and Java both send it). */
#define RESEED_USER_AGENT "Wget/1.11.4"

void reseed_result_clear(struct reseed_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		router_info_free(r->ris[i]);
	free(r->ris);
	memset(r, 0, sizeof(*r));
}

/* "routerInfo-(44 character base 64 router hash).dat" -> hash */
static bool name_hash(const char *name, uint8_t hash[32])
{
	size_t n = strlen(name), got = 0;

	if (n != strlen(RI_PREFIX) + RI_B64_CHARS + strlen(RI_SUFFIX) ||
	    strncmp(name, RI_PREFIX, strlen(RI_PREFIX)) != 0 ||
	    strcmp(name + n - strlen(RI_SUFFIX), RI_SUFFIX) != 0)
		return false;
	return b64_decode(hash, 32, &got, name + strlen(RI_PREFIX),
			  RI_B64_CHARS) == 0 && got == 32;
}

/* Decode and check one RouterInfo named hash; NULL: refused. */
static struct router_info *check_ri(const uint8_t hash[32],
				    const uint8_t *data, size_t len,
				    uint8_t netid)
{
	struct router_info *ri = NULL;

	if (len > ROUTER_INFO_MAX_BYTES ||
	    router_info_decode(data, len, &ri) != 0 ||
	    memcmp(router_info_hash(ri), hash, 32) != 0 ||
	    router_info_check_netid(ri, netid) != 0 ||
	    router_info_verify(ri) != 0) {
		router_info_free(ri);
		return NULL;
	}
	return ri;
}

static void result_push(struct reseed_result *out, struct router_info *ri)
{
	out->ris = xrealloc(out->ris, (out->n + 1) * sizeof(*out->ris));
	out->ris[out->n++] = ri;
}

/* Keep one RouterInfo in out, or count it bad. */
static void take_ri(struct reseed_result *out, const uint8_t hash[32],
		    const uint8_t *data, size_t len, uint8_t netid)
{
	struct router_info *ri = check_ri(hash, data, len, netid);

	if (ri)
		result_push(out, ri);
	else
		out->bad++;
}

/* ---- signers ---- */

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && strcmp(s + n - m, suf) == 0;
}

int reseed_signers_load(const char *path, struct su3_signer **out, size_t max,
			size_t *n)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int r;

	*n = 0;
	if (stat(path, &st) != 0)
		return ERR_NOT_FOUND;
	if (!S_ISDIR(st.st_mode)) {
		if ((r = su3_signer_from_file(path, &out[0])) != 0) {
			log_warn(LD_NETDB, "reseed signer certificate %s: %s",
				 path, err_str(r));
			return r;
		}
		*n = 1;
		return 0;
	}
	if ((d = opendir(path)) == NULL)
		return ERR_IO;
	while ((de = readdir(d)) != NULL && *n < max) {
		char *p;
		if (!has_suffix(de->d_name, ".crt") &&
		    !has_suffix(de->d_name, ".pem"))
			continue;
		p = fsutil_path_join(path, de->d_name);
		if ((r = su3_signer_from_file(p, &out[*n])) == 0)
			(*n)++;
		else
			log_warn(LD_NETDB, "reseed signer certificate %s: %s",
				 p, err_str(r));
		free(p);
	}
	closedir(d);
	return *n ? 0 : ERR_NOT_FOUND;
}

/* ---- su3 ---- */

struct zip_ctx {
	struct reseed_result *out;
	uint8_t netid;
};

static int zip_entry(void *arg, const char *name, const uint8_t *data,
		     size_t len)
{
	struct zip_ctx *z = arg;
	uint8_t hash[32];

	/* "Router info files in the zip file must be at the top level." */
	if (!name_hash(name, hash)) {
		z->out->bad++;
		return 0;
	}
	take_ri(z->out, hash, data, len, z->netid);
	return 0;
}

int reseed_su3_parse(const uint8_t *buf, size_t len,
		     struct su3_signer *const *signers, size_t n_signers,
		     uint8_t netid, struct reseed_result *out)
{
	struct zip_ctx z = { out, netid };
	const struct su3_signer *signer = NULL;
	struct su3 s;
	int r;

	if ((r = su3_decode(buf, len, &s)) != 0)
		return r;
	/* "Clients must verify that the content type is that expected for
	 * the application." */
	if (s.content_type != SU3_CONTENT_RESEED || s.file_type != SU3_FILE_ZIP)
		return ERR_UNSUPPORTED;
	for (size_t i = 0; i < n_signers && !signer; i++)
		if (strcmp(su3_signer_id(signers[i]), s.signer) == 0)
			signer = signers[i];
	if (!signer)
		return ERR_NOT_FOUND;
	if ((r = su3_verify(&s, signer)) != 0)
		return r;
	r = zip_foreach(s.content, s.content_len, RESEED_MAX_ENTRIES,
			RESEED_MAX_ENTRY_BYTES, zip_entry, &z);
	if (r != 0)
		reseed_result_clear(out);
	return r;
}

/* ---- directories ---- */

struct dir_scan {
	uint8_t netid;
	bool (*want)(void *ctx, const uint8_t hash[32]);
	bool (*take)(void *ctx, struct router_info *ri);
	void *ctx;
	size_t bad;
	bool stop;			/* take() ended the pass */
};

static int dir_scan(struct dir_scan *s, const char *dir, int depth)
{
	DIR *d;
	struct dirent *de;
	uint8_t hash[32];

	if ((d = opendir(dir)) == NULL)
		return ERR_NOT_FOUND;
	while (!s->stop && (de = readdir(d)) != NULL) {
		char *p = fsutil_path_join(dir, de->d_name);
		struct router_info *ri;
		uint8_t *buf = NULL;
		size_t len = 0;

		/* i2pd's layout: netDb/r<c>/routerInfo-*.dat */
		if (depth == 0 && de->d_name[0] == 'r' && strlen(de->d_name) == 2)
			(void)dir_scan(s, p, 1);
		else if (name_hash(de->d_name, hash) &&
			 (!s->want || s->want(s->ctx, hash))) {
			ri = NULL;
			if (fsutil_read_file(p, ROUTER_INFO_MAX_BYTES, &buf,
					     &len) == 0)
				ri = check_ri(hash, buf, len, s->netid);
			if (!ri)
				s->bad++;
			else if (!s->take(s->ctx, ri))
				s->stop = true;
			free(buf);
		}
		free(p);
	}
	closedir(d);
	return 0;
}

int reseed_dir_foreach(const char *dir, uint8_t netid,
		       bool (*want)(void *ctx, const uint8_t hash[32]),
		       bool (*take)(void *ctx, struct router_info *ri),
		       void *ctx, size_t *bad)
{
	struct dir_scan s = { .netid = netid, .want = want, .take = take,
			      .ctx = ctx };
	int r = dir_scan(&s, dir, 0);

	if (bad)
		*bad = s.bad;
	return r;
}

struct dir_read {
	struct reseed_result *out;
	size_t heap;			/* what out's RouterInfos take */
};

static bool dir_read_take(void *ctx, struct router_info *ri)
{
	struct dir_read *d = ctx;
	size_t cost = router_info_heap_bytes(ri);

	if (cost > RESEED_MAX_DIR_BYTES - d->heap) {
		router_info_free(ri);
		d->out->full = true;
		return false;
	}
	d->heap += cost;
	result_push(d->out, ri);
	return true;
}

int reseed_dir_read(const char *dir, uint8_t netid, struct reseed_result *out)
{
	struct dir_read d = { .out = out };
	size_t bad = 0;
	int r = reseed_dir_foreach(dir, netid, NULL, dir_read_take, &d, &bad);

	out->bad += bad;
	return r;
}

/* ---- the loop side ---- */

enum reseed_step { STEP_FILE, STEP_DIR, STEP_URL, STEP_END };

struct reseed_state {
	struct netdb *db;		/* NULL once the netDb is gone */
	char *su3_file, *dir, *url, *signers, *cafile;
	uint8_t netid;
	enum reseed_step step;
	bool job_running;		/* a worker job holds rs */
	bool fetching;			/* an HTTPS request is in flight */
	bool cleanup_pending;		/* fetch_cleanup() is marked */
	void (*done)(void *ctx, int err, size_t added);
	void *ctx;
	int last_err;
	/* HTTPS */
	SSL_CTX *ssl_ctx;
	struct evdns_base *dns;
	struct evhttp_connection *conn;
	struct evhttp_uri *uri;
};

/* One worker job: a source's bytes or path in, RouterInfos out. */
struct rjob {
	struct reseed_state *rs;
	enum reseed_step step;
	uint8_t *bytes;			/* STEP_URL: the su3 fetched */
	size_t len;
	int err;
	struct reseed_result res;
};

static void reseed_next(struct reseed_state *rs);

static void rs_free(struct reseed_state *rs)
{
	if (rs->conn)
		evhttp_connection_free(rs->conn);
	if (rs->dns)
		evdns_base_free(rs->dns, 0);
	if (rs->uri)
		evhttp_uri_free(rs->uri);
	SSL_CTX_free(rs->ssl_ctx);
	free(rs->su3_file);
	free(rs->dir);
	free(rs->url);
	free(rs->signers);
	free(rs->cafile);
	free(rs);
}

static int job_su3(struct rjob *j, const uint8_t *buf, size_t len)
{
	struct su3_signer *signers[RESEED_MAX_SIGNERS];
	size_t n = 0;
	int r;

	if (!j->rs->signers)
		return ERR_NOT_FOUND;
	if ((r = reseed_signers_load(j->rs->signers, signers,
				     RESEED_MAX_SIGNERS, &n)) != 0)
		return r;
	r = reseed_su3_parse(buf, len, signers, n, j->rs->netid, &j->res);
	for (size_t i = 0; i < n; i++)
		su3_signer_free(signers[i]);
	return r;
}

/* Worker: everything here touches only the job and the strings of rs,
 * which do not change while a job runs. */
static void job_run(void *arg)
{
	struct rjob *j = arg;
	uint8_t *buf = NULL;
	size_t len = 0;

	switch (j->step) {
	case STEP_FILE:
		if ((j->err = fsutil_read_file(j->rs->su3_file, SU3_MAX_BYTES,
					       &buf, &len)) == 0)
			j->err = job_su3(j, buf, len);
		free(buf);
		break;
	case STEP_DIR:
		j->err = reseed_dir_read(j->rs->dir, j->rs->netid, &j->res);
		break;
	case STEP_URL:
		j->err = job_su3(j, j->bytes, j->len);
		break;
	case STEP_END:
		j->err = ERR_INTERNAL;
		break;
	}
}

static const char *step_name(enum reseed_step s)
{
	switch (s) {
	case STEP_FILE:
		return "su3 file";
	case STEP_DIR:
		return "directory";
	case STEP_URL:
		return "HTTPS server";
	case STEP_END:
		break;
	}
	return "?";
}

static void job_done(void *arg)
{
	struct rjob *j = arg;
	struct reseed_state *rs = j->rs;
	size_t added = 0;

	rs->job_running = false;
	if (!rs->db) {			/* the netDb is gone */
		reseed_result_clear(&j->res);
		free(j->bytes);
		free(j);
		if (!rs->cleanup_pending)
			rs_free(rs);
		return;
	}
	for (size_t i = 0; i < j->res.n; i++) {
		enum netdb_add_result res;
		struct router_info *ri = j->res.ris[i];
		j->res.ris[i] = NULL;
		if (netdb_store_add_ri_verified(rs->db->store, ri, time_now_ms(),
						0, &res) == 0)
			added++;
	}
	if (j->err)
		log_warn(LD_NETDB, "reseed from the %s failed: %s",
			 step_name(j->step), err_str(j->err));
	else
		log_notice(LD_NETDB, "reseed from the %s: %zu RouterInfos "
			   "added, %zu refused%s", step_name(j->step), added,
			   j->res.bad, j->res.full ?
			   "; the rest of the directory unread (full)" : "");
	rs->last_err = j->err ? j->err : added ? 0 : ERR_NOT_FOUND;
	reseed_result_clear(&j->res);
	free(j->bytes);
	free(j);
	if (added) {
		rs->step = STEP_END;
		rs->db->st.reseeded += added;
		if (rs->done)
			rs->done(rs->ctx, 0, added);
		return;
	}
	rs->step++;
	reseed_next(rs);
}

static void submit(struct reseed_state *rs, enum reseed_step step,
		   uint8_t *bytes, size_t len)
{
	struct rjob *j = xzalloc(sizeof(*j));

	j->rs = rs;
	j->step = step;
	j->bytes = bytes;
	j->len = len;
	rs->job_running = true;
	worker_submit(rs->db->wp, (struct work){ job_run, job_done, j });
}

/* ---- HTTPS ---- */

static void fetch_cleanup(void *arg)
{
	struct reseed_state *rs = arg;

	rs->cleanup_pending = false;
	if (rs->conn) {
		evhttp_connection_free(rs->conn);
		rs->conn = NULL;
	}
	if (rs->uri) {
		evhttp_uri_free(rs->uri);
		rs->uri = NULL;
	}
	if (!rs->db && !rs->job_running)
		rs_free(rs);
}

/* Free the connection after the callback that ends it has returned. */
static void fetch_end(struct reseed_state *rs)
{
	rs->fetching = false;
	rs->cleanup_pending = true;
	evloop_mark_close(rs->db->el, fetch_cleanup, rs);
}

static void fetch_failed(struct reseed_state *rs, const char *why)
{
	log_warn(LD_NETDB, "reseed from the HTTPS server failed: %s", why);
	rs->last_err = ERR_NETWORK;
	fetch_end(rs);
	rs->step++;
	reseed_next(rs);
}

static void fetch_done(struct evhttp_request *req, void *arg)
{
	struct reseed_state *rs = arg;
	struct evbuffer *in;
	uint8_t *bytes;
	size_t len;
	char why[96];

	if (!req || evhttp_request_get_response_code(req) == 0) {
		unsigned long e = ERR_peek_last_error();
		snprintf(why, sizeof(why), "no answer (%s)",
			 e ? ERR_reason_error_string(e) : "connection failed");
		ERR_clear_error();
		fetch_failed(rs, why);
		return;
	}
	if (evhttp_request_get_response_code(req) != 200) {
		snprintf(why, sizeof(why), "HTTP status %d",
			 evhttp_request_get_response_code(req));
		fetch_failed(rs, why);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if (len == 0 || len > SU3_MAX_BYTES) {
		fetch_failed(rs, "bad body length");
		return;
	}
	bytes = xmalloc(len);
	evbuffer_remove(in, bytes, len);
	fetch_end(rs);
	submit(rs, STEP_URL, bytes, len);
}

static bool is_ip_literal(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	       inet_pton(AF_INET6, host, &a6) == 1;
}

static int fetch_start(struct reseed_state *rs)
{
	struct event_base *base = evloop_base(rs->db->el);
	struct evhttp_request *req;
	struct bufferevent *bev;
	const char *host, *path;
	char target[RESEED_MAX_URL_BYTES];
	SSL *ssl;
	int port;

	if (!(rs->uri = evhttp_uri_parse(rs->url)) ||
	    !evhttp_uri_get_scheme(rs->uri) ||
	    strcmp(evhttp_uri_get_scheme(rs->uri), "https") != 0 ||
	    !(host = evhttp_uri_get_host(rs->uri))) {
		log_warn(LD_NETDB, "reseed URL %s: expected https://host/...",
			 rs->url);
		return ERR_ARG;
	}
	port = evhttp_uri_get_port(rs->uri);
	if (port < 0)
		port = 443;
	path = evhttp_uri_get_path(rs->uri);
	if (!path || !*path)
		path = "/";
	snprintf(target, sizeof(target), "%s%s" RESEED_FILE_NAME "?netid=%u",
		 path, path[strlen(path) - 1] == '/' ? "" : "/",
		 (unsigned)rs->netid);
	if (!rs->ssl_ctx) {
		rs->ssl_ctx = SSL_CTX_new(TLS_client_method());
		if (!rs->ssl_ctx)
			return ERR_CRYPTO;
		SSL_CTX_set_verify(rs->ssl_ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_min_proto_version(rs->ssl_ctx, TLS1_2_VERSION);
		if ((rs->cafile ? SSL_CTX_load_verify_locations(rs->ssl_ctx,
								rs->cafile,
								NULL) :
				  SSL_CTX_set_default_verify_paths(
					  rs->ssl_ctx)) != 1) {
			log_warn(LD_NETDB, "reseed: cannot load TLS roots %s",
				 rs->cafile ? rs->cafile : "(system)");
			return ERR_CRYPTO;
		}
	}
	if (!(ssl = SSL_new(rs->ssl_ctx)))
		return ERR_CRYPTO;
	/* The server must prove it is host: name or IP address. */
	if (is_ip_literal(host)) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	} else {
		SSL_set_tlsext_host_name(ssl, host);
		SSL_set1_host(ssl, host);
		if (!rs->dns)
			rs->dns = evdns_base_new(base,
				EVDNS_BASE_INITIALIZE_NAMESERVERS);
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
		BUFFEREVENT_SSL_CONNECTING,
		BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		SSL_free(ssl);
		return ERR_INTERNAL;
	}
	rs->conn = evhttp_connection_base_bufferevent_new(base, rs->dns, bev,
							  host,
							  (uint16_t)port);
	if (!rs->conn)
		return ERR_INTERNAL;
	evhttp_connection_set_timeout(rs->conn, RESEED_HTTP_TIMEOUT_S);
	evhttp_connection_set_max_body_size(rs->conn, SU3_MAX_BYTES);
	req = evhttp_request_new(fetch_done, rs);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
	evhttp_add_header(evhttp_request_get_output_headers(req), "User-Agent",
			  RESEED_USER_AGENT);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection",
			  "close");
	if (evhttp_make_request(rs->conn, req, EVHTTP_REQ_GET, target) != 0)
		return ERR_NETWORK;
	rs->fetching = true;
	log_info(LD_NETDB, "reseeding from %s", rs->url);
	return 0;
}

/* Start the next configured source, or report the end. */
static void reseed_next(struct reseed_state *rs)
{
	for (; rs->step < STEP_END; rs->step++) {
		switch (rs->step) {
		case STEP_FILE:
			if (!rs->su3_file)
				continue;
			submit(rs, STEP_FILE, NULL, 0);
			return;
		case STEP_DIR:
			if (!rs->dir)
				continue;
			submit(rs, STEP_DIR, NULL, 0);
			return;
		case STEP_URL:
			if (!rs->url)
				continue;
			if (fetch_start(rs) == 0)
				return;
			rs->last_err = ERR_NETWORK;
			fetch_cleanup(rs);
			continue;
		case STEP_END:
			break;
		}
	}
	if (rs->done)
		rs->done(rs->ctx, rs->last_err ? rs->last_err : ERR_NOT_FOUND,
			 0);
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

int netdb_reseed_start(struct netdb *db, const struct netdb_reseed_cfg *cfg,
		       void (*done)(void *ctx, int err, size_t added),
		       void *ctx)
{
	struct reseed_state *rs = db->reseed;

	if (rs && (rs->job_running || rs->fetching || rs->cleanup_pending ||
		   rs->step < STEP_END))
		return ERR_BAD_STATE;
	if (!(cfg->su3_file && *cfg->su3_file) && !(cfg->dir && *cfg->dir) &&
	    !(cfg->url && *cfg->url))
		return ERR_ARG;
	if (rs)
		rs_free(rs);
	rs = db->reseed = xzalloc(sizeof(*rs));
	rs->db = db;
	rs->netid = db->cfg.netid;
	rs->su3_file = dup_or_null(cfg->su3_file);
	rs->dir = dup_or_null(cfg->dir);
	rs->url = dup_or_null(cfg->url);
	rs->signers = dup_or_null(cfg->signers);
	rs->cafile = dup_or_null(cfg->cafile);
	rs->done = done;
	rs->ctx = ctx;
	rs->step = STEP_FILE;
	reseed_next(rs);
	return 0;
}

bool netdb_reseed_is_busy(const struct netdb *db)
{
	return db->reseed && db->reseed->step < STEP_END;
}

void netdb_reseed_free(struct netdb *db)
{
	struct reseed_state *rs = db->reseed;

	if (!rs)
		return;
	db->reseed = NULL;
	rs->db = NULL;
	rs->done = NULL;
	/* A running job or a marked cleanup frees rs when it ends; a request
	 * in flight dies with its connection (no callback runs). */
	if (rs->job_running || rs->cleanup_pending)
		return;
	rs_free(rs);
}
