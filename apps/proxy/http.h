/*
 * HTTP/1.x request heads for the HTTP proxy and the static web server, as
 * pure functions (RFC 9112 message syntax), and what the proxy does with
 * them the way I2P's HTTP client proxy does: absolute-URI and CONNECT
 * targets, header filtering (nothing that identifies the user or the
 * machine goes to the site), the i2paddresshelper query key, and HTML
 * error pages.
 *
 * Parsers take the bytes received so far: 0 when a whole head is there,
 * ERR_TRUNCATED when more are needed, ERR_TOO_BIG past
 * HTTP_HEAD_MAX_BYTES or HTTP_HEADERS_MAX, ERR_FORMAT for a malformed
 * head.  Results borrow from the caller's buffer.  Thread: any.
 */
#ifndef APPS_PROXY_HTTP_H
#define APPS_PROXY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

#define HTTP_HEAD_MAX_BYTES 16384	/* request line and headers */
#define HTTP_HEADERS_MAX 64
#define HTTP_HOST_MAX_BYTES 255
/* What I2P's proxies send instead of the browser's User-Agent. */
#define HTTP_PROXY_USER_AGENT "MYOB/6.66 (AN/ON)"

struct http_str {
	const char *p;
	size_t n;
};

struct http_header {
	struct http_str name, value;	/* value without surrounding blanks */
};

struct http_req {
	struct http_str method, target;
	unsigned minor;			/* HTTP/1.<minor>: 0 or 1 */
	struct http_header h[HTTP_HEADERS_MAX];
	size_t nh;
	size_t head_len;		/* bytes up to and with the blank line */
};

/* Parse a request head from buf (untrusted). */
int http_req_parse(const char *buf, size_t len, struct http_req *out);
struct http_resp {
	unsigned minor;			/* HTTP/1.<minor> */
	unsigned status;		/* 100-999 */
	struct http_header h[HTTP_HEADERS_MAX];
	size_t nh;
	size_t head_len;
};

/* Parse a response head from buf (untrusted; same results as
 * http_req_parse()). */
int http_resp_parse(const char *buf, size_t len, struct http_resp *out);
/* The first header called name (case-insensitive), or NULL (borrowed). */
const struct http_str *http_req_header(const struct http_req *r,
				       const char *name);
const struct http_str *http_resp_header(const struct http_resp *r,
					const char *name);
/* True when s equals the NUL-terminated lit, ignoring case. */
bool http_str_ieq(struct http_str s, const char *lit);

struct http_url {
	bool https;			/* "https://" (a clearnet-only form) */
	char host[HTTP_HOST_MAX_BYTES + 1];	/* lowercase */
	uint16_t port;			/* 80 by default */
	struct http_str path;		/* "/..." with the query */
};

/*
 * The target of a proxy request: absolute form "http://host[:port]/path"
 * (RFC 9112 §3.2.2), or with connect, authority form "host:port"
 * (§3.2.3).  A host over HTTP_HOST_MAX_BYTES is ERR_TOO_BIG; an IPv6
 * literal, userinfo, another scheme or a bad port is ERR_FORMAT.  out
 * borrows target for the path ("/" when the URL has none).
 */
int http_url_parse(struct http_str target, bool connect, struct http_url *out);

/*
 * Append the request head the site gets for r to url: the path-only
 * request line, our Host, "Connection: close", and the client's other
 * headers except hop-by-hop and proxy headers and those that identify
 * the user (Via, From, Forwarded, X-Forwarded-*, X-Real-IP, Client-IP,
 * Accept-Language, a Referer from another site); User-Agent becomes
 * HTTP_PROXY_USER_AGENT.  path replaces url->path when not NULL.
 */
void http_req_rewrite(const struct http_req *r, const struct http_url *url,
		      const struct http_str *path, struct bbuf *out);

/*
 * True when the client can find the end of r's body without the
 * connection closing: no body (a HEAD request, 1xx, 204, 304), chunked
 * last in Transfer-Encoding, or a Content-Length of digits.
 */
bool http_resp_delimited(const struct http_resp *r, bool head_req);
/*
 * Append the response head the client gets for r (buf: the bytes r was
 * parsed from): the status line as it came, r's headers except
 * hop-by-hop ones and those I2P's HTTP server tunnel removes (Date,
 * Server, X-Powered-By, X-Runtime: the server's software and clock;
 * Proxy), then for a final response "Connection: keep-alive" when
 * keep_alive is asked, r is HTTP/1.1 and http_resp_delimited(), else
 * "Connection: close".  Returns whether keep-alive was granted.
 */
bool http_resp_rewrite(const char *buf, const struct http_resp *r,
		       bool head_req, bool keep_alive, struct bbuf *out);
/*
 * Find the "i2paddresshelper" key in the query of path.  On true, value_out
 * holds its percent-decoded value (NUL-terminated, in value_out) and
 * path_out the path without the key (both appended).
 */
bool http_addresshelper_take(struct http_str path, struct bbuf *value_out,
			     struct bbuf *path_out);

/* Append a complete HTML error response ("HTTP/1.1 status reason"),
 * detail escaped for HTML, "Connection: close". */
void http_error_page(struct bbuf *out, unsigned status, const char *reason,
		     const char *title, const char *detail);
/* The value of a hex digit, or -1. */
int http_hexval(char c);
/* Append s with <, >, &, " and ' escaped for HTML. */
void http_html_escape(struct bbuf *out, const char *s, size_t n);

#endif /* APPS_PROXY_HTTP_H */
