/*
 * The router's local HTTP server on 127.0.0.1 (libevent evhttp): the JSON
 * APIs of the subsystems and the web console's static files.
 *
 * Only loopback is ever bound, and requests whose Host header is not a
 * loopback name are refused (DNS rebinding).  Every answer carries a
 * strict Content-Security-Policy and no-sniff/no-frame/no-referrer
 * headers.
 *
 * Access: everything but the login page, POST /api/login and GET
 * /api/status needs the API token (DATADIR/api.token, made at first
 * start, mode 0600), either as "Authorization: Bearer TOKEN" (scripts and
 * `bits`) or as the session cookie POST /api/login hands a browser for
 * it.  A request authenticated by the cookie that changes anything (not
 * GET or HEAD) must also carry the session's CSRF token in X-Bits-CSRF
 * and, when the browser sends one, a loopback Origin of this server.
 * GET /api/status stays open to local processes, as i2pd's and Java
 * I2P's consoles are: it holds counts, no keys, names or addresses of
 * peers' destinations.
 *
 * Loop thread only.
 */
#ifndef APPS_API_API_H
#define APPS_API_API_H

#include <stddef.h>
#include <stdint.h>

struct evloop;
struct evhttp_request;
struct json_t;
struct api;	/* opaque */

#define API_MAX_SECTIONS 16
#define API_MAX_ROUTES 32
#define API_MAX_BODY_BYTES (256 * 1024)
/* Browser sessions at most (the oldest goes first), and how long an
 * unused one lasts. */
#define API_MAX_SESSIONS 16
#define API_SESSION_IDLE_S (12 * 3600)
/* Wrong tokens tolerated before logins are slowed to one per second. */
#define API_LOGIN_FREE_FAILURES 5

/* Fill obj (a JSON object the API owns) with one section's members. */
typedef void (*api_section_fn)(void *ctx, struct json_t *obj);

/*
 * A route's handler: answer req (api_reply_json/api_reply_error or evhttp
 * directly), now or later from the loop.  rest is the path after the
 * route's prefix, without the query ("" for the prefix itself).
 */
typedef void (*api_route_fn)(void *ctx, struct evhttp_request *req,
			     const char *rest);

/* A file of the console, compiled in (apps/console). */
struct api_asset {
	const char *path;	/* "/app.js"; "/" is the page itself */
	const char *mime;
	const unsigned char *data;
	size_t len;
};

/*
 * Listen on 127.0.0.1:port.  ERR_IO when the port cannot be bound.  On
 * success *out is the caller's; free it with api_free().
 */
int api_start(struct evloop *el, uint16_t port, struct api **out);
/* The port actually bound (useful when port 0 was asked for). */
uint16_t api_port(const struct api *a);
/*
 * Take the token from path, or make one (32 random bytes, hex) and write
 * it there with mode 0600.  Until this succeeds only the open endpoints
 * answer.  ERR_IO / ERR_FORMAT with a log line naming the file.
 */
int api_load_token(struct api *a, const char *path);
/* Register section name (a static string); ctx is borrowed and must stay
 * valid until api_remove_section() or api_free().  ERR_LIMIT when full. */
int api_add_section(struct api *a, const char *name, api_section_fn fn,
		    void *ctx);
void api_remove_section(struct api *a, const char *name);
/* One section's members as /api/status has them now (a new object), or
 * NULL when no such section is registered. */
struct json_t *api_section_json(struct api *a, const char *name);
/*
 * Route requests whose path is prefix or starts with prefix followed by
 * '/' to fn (token needed; methods: an EVHTTP_REQ_* mask, others get
 * 405).  prefix is a static string under "/api/".  ERR_LIMIT when full,
 * ERR_ARG for a prefix taken or not under /api/.
 */
int api_add_route(struct api *a, const char *prefix, unsigned methods,
		  api_route_fn fn, void *ctx);
void api_remove_route(struct api *a, const char *prefix);
/* Serve these files (token needed; a borrowed static table). */
void api_set_assets(struct api *a, const struct api_asset *assets, size_t n);

/* Answer with body (borrowed) as JSON, or {"error": msg}. */
void api_reply_json(struct evhttp_request *req, int code,
		    struct json_t *body);
void api_reply_error(struct evhttp_request *req, int code, const char *msg);
/* The request body as a JSON object: ERR_FORMAT (answer 400) otherwise.
 * *out is the caller's (json_decref). */
int api_body_json(struct evhttp_request *req, struct json_t **out);

/* Stop listening and release a.  Accepts NULL. */
void api_free(struct api *a);

#endif /* APPS_API_API_H */
