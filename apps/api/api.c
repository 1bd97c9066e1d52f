/*
 * The local HTTP server (apps/api/api.h) on libevent's evhttp: the open
 * endpoints (login page, POST /api/login, GET /api/status), routes the
 * subsystems register, and the console's files; the token, browser
 * sessions, CSRF and the security headers.  Nothing here blocks: handlers
 * only read in-memory state or answer later from the loop.
 */
#include "config.h"
#include "apps/api/api.h"
#include "router/evloop.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define TOKEN_BYTES 32
#define TOKEN_HEX (2 * TOKEN_BYTES)
#define COOKIE_NAME "bits_session"

/* The login page: a form that posts the token (from the form, or from
 * the URL fragment #token=..., which never reaches a server or a log). */
static const char login_page[] =
	"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	"<title>Bits: sign in</title><link rel=\"stylesheet\" href=\"/login.css\">"
	"</head><body><main class=\"login\"><h1>Bits</h1>"
	"<form id=\"login\"><label for=\"token\">Console token</label>"
	"<input id=\"token\" name=\"token\" type=\"password\" "
	"autocomplete=\"off\" required>"
	"<button type=\"submit\">Sign in</button>"
	"<p id=\"msg\" role=\"status\"></p></form>"
	"<p class=\"hint\">The token is in <code>api.token</code> in the "
	"router's data directory; a link of the form <code>/login#token="
	"TOKEN</code> signs in at once.</p></main>"
	"<script src=\"/login.js\"></script></body></html>";

static const char login_js[] =
	"'use strict';\n"
	"async function signIn(token) {\n"
	"  const r = await fetch('/api/login', { method: 'POST',\n"
	"    headers: { 'Content-Type': 'application/json' },\n"
	"    body: JSON.stringify({ token: token }) });\n"
	"  if (r.ok) { location.replace('/'); return; }\n"
	"  document.getElementById('msg').textContent =\n"
	"    r.status === 429 ? 'Too many tries: wait a second.' : 'Wrong token.';\n"
	"}\n"
	"const m = /^#token=([0-9a-f]+)$/.exec(location.hash);\n"
	"if (m) { history.replaceState(null, '', '/login'); signIn(m[1]); }\n"
	"document.getElementById('login').addEventListener('submit', (e) => {\n"
	"  e.preventDefault();\n"
	"  signIn(document.getElementById('token').value.trim());\n"
	"});\n";

static const char login_css[] =
	"body{font:16px system-ui,sans-serif;margin:0;background:#0f1115;"
	"color:#e8e8ea}.login{max-width:22rem;margin:15vh auto;padding:1rem}"
	"label{display:block;margin:.5rem 0}input,button{font:inherit;"
	"width:100%;box-sizing:border-box;padding:.6rem;margin:.3rem 0;"
	"border-radius:.4rem;border:1px solid #444;background:#1a1d24;"
	"color:inherit}button{background:#3b6df6;border:0;cursor:pointer}"
	"button:focus,input:focus{outline:2px solid #9bb5ff}"
	".hint{color:#aaa;font-size:.9rem}";

static const struct api_asset open_assets[] = {
	{ "/login", "text/html; charset=utf-8",
	  (const unsigned char *)login_page, sizeof(login_page) - 1 },
	{ "/login.js", "text/javascript; charset=utf-8",
	  (const unsigned char *)login_js, sizeof(login_js) - 1 },
	{ "/login.css", "text/css; charset=utf-8",
	  (const unsigned char *)login_css, sizeof(login_css) - 1 },
};

struct api_section {
	const char *name;
	api_section_fn fn;
	void *ctx;
};

struct api_route {
	const char *prefix;
	size_t plen;
	unsigned methods;
	api_route_fn fn;
	void *ctx;
};

struct api_session {
	char sid[TOKEN_HEX + 1];	/* "" when the slot is free */
	char csrf[TOKEN_HEX + 1];
	uint64_t last_mono_ms;
};

struct api {
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	uint16_t port;
	bool have_token;
	char token[TOKEN_HEX + 1];
	struct api_section sections[API_MAX_SECTIONS];
	size_t n_sections;
	struct api_route routes[API_MAX_ROUTES];
	size_t n_routes;
	const struct api_asset *assets;
	size_t n_assets;
	struct api_session sessions[API_MAX_SESSIONS];
	unsigned login_failures;
	uint64_t login_last_ms;
};

/* Accept "127.0.0.1", "localhost" or "[::1]", with or without a port. */
static bool host_is_loopback(const char *host)
{
	static const char *const names[] = { "127.0.0.1", "localhost", "[::1]" };

	if (!host)
		return false;
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		size_t n = strlen(names[i]);
		if (strncasecmp(host, names[i], n) == 0 &&
		    (host[n] == '\0' || host[n] == ':'))
			return true;
	}
	return false;
}

/* Equal strings, in time that does not depend on where they differ. */
static bool str_eq_ct(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && n > 0 && sodium_memcmp(a, b, n) == 0;
}

static void random_hex(char out[TOKEN_HEX + 1])
{
	uint8_t r[TOKEN_BYTES];

	rand_bytes(r, sizeof(r));
	(void)hex_encode(out, TOKEN_HEX + 1, r, sizeof(r));
	memwipe(r, sizeof(r));
}

/* Headers every answer carries: nothing but this origin's own files may
 * run or load, no framing, no referrer, no sniffing. */
static void security_headers(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Security-Policy",
			  "default-src 'none'; script-src 'self'; "
			  "style-src 'self'; img-src 'self' data: blob:; "
			  "media-src 'self' blob:; connect-src 'self'; "
			  "font-src 'self'; base-uri 'none'; "
			  "form-action 'self'; frame-ancestors 'none'");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
	evhttp_add_header(h, "Cross-Origin-Resource-Policy", "same-origin");
}

void api_reply_json(struct evhttp_request *req, int code, json_t *body)
{
	struct evbuffer *buf = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char *text = json_dumps(body, JSON_COMPACT);

	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (buf && text)
		evbuffer_add(buf, text, strlen(text));
	evhttp_send_reply(req, code, NULL, buf);
	free(text);
	if (buf)
		evbuffer_free(buf);
}

void api_reply_error(struct evhttp_request *req, int code, const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg);

	api_reply_json(req, code, o);
	json_decref(o);
}

int api_body_json(struct evhttp_request *req, json_t **out)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = in ? evbuffer_get_length(in) : 0;
	json_error_t jerr;
	json_t *j;

	if (n == 0 || n > API_MAX_BODY_BYTES)
		return ERR_FORMAT;
	j = json_loadb((const char *)evbuffer_pullup(in, -1), n,
		       JSON_REJECT_DUPLICATES, &jerr);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return ERR_FORMAT;
	}
	*out = j;
	return 0;
}

static void reply_asset(struct evhttp_request *req,
			const struct api_asset *f)
{
	struct evbuffer *buf = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", f->mime);
	evhttp_add_header(h, "Cache-Control", "no-cache");
	if (buf && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add_reference(buf, f->data, f->len, NULL, NULL);
	evhttp_send_reply(req, HTTP_OK, "OK", buf);
	if (buf)
		evbuffer_free(buf);
}

static void handle_status(struct api *a, struct evhttp_request *req)
{
	json_t *root = json_object();

	for (size_t i = 0; i < a->n_sections; i++) {
		json_t *obj = json_object();
		a->sections[i].fn(a->sections[i].ctx, obj);
		json_object_set_new(root, a->sections[i].name, obj);
	}
	api_reply_json(req, HTTP_OK, root);
	json_decref(root);
}

/* The session whose cookie the request carries, if any and not idle too
 * long (an idle one is forgotten here). */
static struct api_session *session_of(struct api *a,
				      struct evhttp_request *req)
{
	const char *c = evhttp_find_header(evhttp_request_get_input_headers(req),
					   "Cookie");
	uint64_t now = time_mono_ms();

	while (c && *c) {
		const char *v, *end;

		while (*c == ' ' || *c == ';')
			c++;
		end = strchr(c, ';');
		if (!end)
			end = c + strlen(c);
		if ((size_t)(end - c) == sizeof(COOKIE_NAME) + TOKEN_HEX &&
		    strncmp(c, COOKIE_NAME "=", sizeof(COOKIE_NAME)) == 0) {
			char sid[TOKEN_HEX + 1];

			v = c + sizeof(COOKIE_NAME);
			memcpy(sid, v, TOKEN_HEX);
			sid[TOKEN_HEX] = '\0';
			for (size_t i = 0; i < API_MAX_SESSIONS; i++) {
				struct api_session *s = &a->sessions[i];

				if (!s->sid[0] || !str_eq_ct(s->sid, sid))
					continue;
				if (now - s->last_mono_ms >
				    (uint64_t)API_SESSION_IDLE_S * 1000) {
					memwipe(s, sizeof(*s));
					return NULL;
				}
				s->last_mono_ms = now;
				return s;
			}
		}
		c = end;
	}
	return NULL;
}

static bool bearer_ok(struct api *a, struct evhttp_request *req)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(req),
					   "Authorization");

	return a->have_token && v && strncasecmp(v, "Bearer ", 7) == 0 &&
	       str_eq_ct(v + 7, a->token);
}

/* A browser's state-changing request came from our own page: the CSRF
 * token matches and the Origin, when sent, is this server on loopback. */
static bool csrf_ok(struct api *a, struct evhttp_request *req,
		    const struct api_session *s)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *tok = evhttp_find_header(in, "X-Bits-CSRF");
	const char *origin = evhttp_find_header(in, "Origin");
	char want[3][40];

	if (!tok || !str_eq_ct(tok, s->csrf))
		return false;
	if (!origin)
		return true;
	(void)snprintf(want[0], sizeof(want[0]), "http://127.0.0.1:%u", a->port);
	(void)snprintf(want[1], sizeof(want[1]), "http://localhost:%u", a->port);
	(void)snprintf(want[2], sizeof(want[2]), "http://[::1]:%u", a->port);
	for (size_t i = 0; i < 3; i++)
		if (strcmp(origin, want[i]) == 0)
			return true;
	return false;
}

static void handle_login(struct api *a, struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct api_session *s = &a->sessions[0];
	uint64_t now = time_mono_ms();
	const char *tok;
	char cookie[128];
	json_t *body = NULL, *o;

	if (a->login_failures >= API_LOGIN_FREE_FAILURES &&
	    now - a->login_last_ms < 1000) {
		api_reply_error(req, 429, "too many logins: wait a second");
		return;
	}
	a->login_last_ms = now;
	if (api_body_json(req, &body) != 0 ||
	    !(tok = json_string_value(json_object_get(body, "token")))) {
		json_decref(body);
		api_reply_error(req, 400, "expected {\"token\": \"...\"}");
		return;
	}
	if (!a->have_token || !str_eq_ct(tok, a->token)) {
		json_decref(body);
		a->login_failures++;
		log_info_rl(60, LD_APP, "api: a login with a wrong token");
		api_reply_error(req, 401, "wrong token");
		return;
	}
	json_decref(body);
	a->login_failures = 0;
	/* a free slot, or the session used longest ago */
	for (size_t i = 0; i < API_MAX_SESSIONS; i++) {
		if (!a->sessions[i].sid[0]) {
			s = &a->sessions[i];
			break;
		}
		if (a->sessions[i].last_mono_ms < s->last_mono_ms)
			s = &a->sessions[i];
	}
	random_hex(s->sid);
	random_hex(s->csrf);
	s->last_mono_ms = now;
	(void)snprintf(cookie, sizeof(cookie),
		       COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict",
		       s->sid);
	evhttp_add_header(h, "Set-Cookie", cookie);
	o = json_pack("{s:s}", "csrf", s->csrf);
	api_reply_json(req, HTTP_OK, o);
	json_decref(o);
}

static void handle_session(struct evhttp_request *req,
			   struct api_session *s, bool logout)
{
	json_t *o;

	if (!s) {	/* a bearer client has no session */
		api_reply_error(req, 400, "no browser session");
		return;
	}
	if (logout) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Set-Cookie", COOKIE_NAME "=; Path=/; "
				  "Max-Age=0; HttpOnly; SameSite=Strict");
		memwipe(s, sizeof(*s));
		o = json_object();
	} else {
		o = json_pack("{s:s}", "csrf", s->csrf);
	}
	api_reply_json(req, HTTP_OK, o);
	json_decref(o);
}

static const struct api_asset *asset_find(const struct api_asset *t,
					  size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].path, path) == 0)
			return &t[i];
	return NULL;
}

static void handle(struct evhttp_request *req, void *arg)
{
	struct api *a = arg;
	const char *host = evhttp_find_header(
		evhttp_request_get_input_headers(req), "Host");
	const char *uri = evhttp_request_get_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool read_only = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
	const struct api_asset *f;
	struct api_session *s;
	char path[256];
	size_t plen;

	security_headers(req);
	if (!host_is_loopback(host)) {
		log_info_rl(60, LD_APP, "api: refused a request for a non-loopback host");
		api_reply_error(req, 403, "Forbidden");
		return;
	}
	plen = uri ? strcspn(uri, "?#") : 0;
	if (!uri || uri[0] != '/' || plen >= sizeof(path)) {
		api_reply_error(req, 400, "Bad Request");
		return;
	}
	memcpy(path, uri, plen);
	path[plen] = '\0';
	/* open: the login page and its files, logging in, the status */
	if ((f = asset_find(open_assets, ARRAY_LEN(open_assets), path))) {
		if (read_only)
			reply_asset(req, f);
		else
			api_reply_error(req, 405, "Method Not Allowed");
		return;
	}
	if (strcmp(path, "/api/login") == 0) {
		if (cmd == EVHTTP_REQ_POST)
			handle_login(a, req);
		else
			api_reply_error(req, 405, "Method Not Allowed");
		return;
	}
	if (strcmp(path, "/api/status") == 0) {
		if (cmd == EVHTTP_REQ_GET)
			handle_status(a, req);
		else
			api_reply_error(req, 405, "Method Not Allowed");
		return;
	}
	/* everything else: the token, and for a browser's changes, CSRF */
	s = session_of(a, req);
	if (!s && !bearer_ok(a, req)) {
		if (read_only && strcmp(path, "/") == 0) {
			evhttp_add_header(evhttp_request_get_output_headers(req),
					  "Location", "/login");
			evhttp_send_reply(req, 303, "See Other", NULL);
			return;
		}
		api_reply_error(req, 401, "the API token is needed");
		return;
	}
	if (s && !read_only && !csrf_ok(a, req, s)) {
		log_info_rl(60, LD_APP, "api: refused a request without its CSRF token");
		api_reply_error(req, 403, "CSRF check failed");
		return;
	}
	if (strcmp(path, "/api/session") == 0 ||
	    strcmp(path, "/api/logout") == 0) {
		bool out = path[5] == 'l';

		if (out ? cmd == EVHTTP_REQ_POST : cmd == EVHTTP_REQ_GET)
			handle_session(req, s, out);
		else
			api_reply_error(req, 405, "Method Not Allowed");
		return;
	}
	for (size_t i = 0; i < a->n_routes; i++) {
		struct api_route *r = &a->routes[i];

		if (strncmp(path, r->prefix, r->plen) != 0 ||
		    (path[r->plen] != '\0' && path[r->plen] != '/'))
			continue;
		if (!(r->methods & cmd)) {
			api_reply_error(req, 405, "Method Not Allowed");
			return;
		}
		r->fn(r->ctx, req, path + r->plen);
		return;
	}
	if ((f = asset_find(a->assets, a->n_assets, path))) {
		if (read_only)
			reply_asset(req, f);
		else
			api_reply_error(req, 405, "Method Not Allowed");
		return;
	}
	api_reply_error(req, HTTP_NOTFOUND, "Not Found");
}

int api_start(struct evloop *el, uint16_t port, struct api **out)
{
	struct api *a = xzalloc(sizeof(*a));
	evutil_socket_t fd;
	struct sockaddr_storage ss;
	ev_socklen_t sl = sizeof(ss);

	a->http = evhttp_new(evloop_base(el));
	if (!a->http) {
		free(a);
		return ERR_IO;
	}
	/* Accept the usual verbs so that we, not evhttp (501), answer 405. */
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
				   EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
				   EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(a->http, API_MAX_BODY_BYTES);
	evhttp_set_max_headers_size(a->http, 16 * 1024);
	evhttp_set_timeout(a->http, 30);
	evhttp_set_gencb(a->http, handle, a);
	a->sock = evhttp_bind_socket_with_handle(a->http, "127.0.0.1", port);
	if (!a->sock) {
		log_warn(LD_APP, "api: cannot listen on 127.0.0.1:%u", port);
		evhttp_free(a->http);
		free(a);
		return ERR_IO;
	}
	fd = evhttp_bound_socket_get_fd(a->sock);
	a->port = port;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    ss.ss_family == AF_INET)
		a->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	log_notice(LD_APP, "api: console on http://127.0.0.1:%u/ (sign in "
		   "with DATADIR/api.token)", a->port);
	*out = a;
	return 0;
}

uint16_t api_port(const struct api *a)
{
	return a->port;
}

int api_load_token(struct api *a, const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = fsutil_read_file(path, 256, &buf, &len);

	if (r == ERR_NOT_FOUND) {
		random_hex(a->token);
		if ((r = fsutil_write_atomic(path, a->token, TOKEN_HEX, 0600,
					     false)) != 0) {
			log_warn(LD_APP, "api: cannot write the token to %s: %s",
				 path, err_str(r));
			memwipe(a->token, sizeof(a->token));
			return r;
		}
		a->have_token = true;
		return 0;
	}
	if (r != 0) {
		log_warn(LD_APP, "api: cannot read the token from %s: %s", path,
			 err_str(r));
		return r;
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	r = ERR_FORMAT;
	if (len == TOKEN_HEX) {
		size_t i;

		for (i = 0; i < len && ((buf[i] >= '0' && buf[i] <= '9') ||
					(buf[i] >= 'a' && buf[i] <= 'f')); i++)
			;
		if (i == len) {
			memcpy(a->token, buf, TOKEN_HEX);
			a->token[TOKEN_HEX] = '\0';
			a->have_token = true;
			r = fsutil_file_ensure_private(path);
		}
	}
	if (r == ERR_FORMAT)
		log_warn(LD_APP, "api: %s is not %d lowercase hex digits; "
			 "remove it to make a new token", path, TOKEN_HEX);
	memwipe(buf, len);
	free(buf);
	return r;
}

int api_add_section(struct api *a, const char *name, api_section_fn fn,
		    void *ctx)
{
	if (a->n_sections >= API_MAX_SECTIONS)
		return ERR_LIMIT;
	a->sections[a->n_sections++] = (struct api_section){ name, fn, ctx };
	return 0;
}

json_t *api_section_json(struct api *a, const char *name)
{
	json_t *obj;

	for (size_t i = 0; i < a->n_sections; i++)
		if (strcmp(a->sections[i].name, name) == 0) {
			obj = json_object();
			a->sections[i].fn(a->sections[i].ctx, obj);
			return obj;
		}
	return NULL;
}

void api_remove_section(struct api *a, const char *name)
{
	for (size_t i = 0; i < a->n_sections; i++) {
		if (strcmp(a->sections[i].name, name) == 0) {
			memmove(&a->sections[i], &a->sections[i + 1],
				(a->n_sections - i - 1) * sizeof(a->sections[0]));
			a->n_sections--;
			return;
		}
	}
}

int api_add_route(struct api *a, const char *prefix, unsigned methods,
		  api_route_fn fn, void *ctx)
{
	size_t n = strlen(prefix);

	if (strncmp(prefix, "/api/", 5) != 0 || n <= 5 ||
	    prefix[n - 1] == '/' || strcmp(prefix, "/api/status") == 0 ||
	    strcmp(prefix, "/api/login") == 0 ||
	    strcmp(prefix, "/api/logout") == 0 ||
	    strcmp(prefix, "/api/session") == 0)
		return ERR_ARG;
	for (size_t i = 0; i < a->n_routes; i++)
		if (strcmp(a->routes[i].prefix, prefix) == 0)
			return ERR_ARG;
	if (a->n_routes >= API_MAX_ROUTES)
		return ERR_LIMIT;
	a->routes[a->n_routes++] = (struct api_route){ prefix, n, methods, fn,
						       ctx };
	return 0;
}

void api_remove_route(struct api *a, const char *prefix)
{
	for (size_t i = 0; i < a->n_routes; i++) {
		if (strcmp(a->routes[i].prefix, prefix) == 0) {
			memmove(&a->routes[i], &a->routes[i + 1],
				(a->n_routes - i - 1) * sizeof(a->routes[0]));
			a->n_routes--;
			return;
		}
	}
}

void api_set_assets(struct api *a, const struct api_asset *assets, size_t n)
{
	a->assets = assets;
	a->n_assets = n;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	evhttp_free(a->http);
	memwipe(a, sizeof(*a));
	free(a);
}
