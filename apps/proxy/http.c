/*
 * HTTP/1.x request heads (see http.h; RFC 9112 §2-§5, RFC 9110 §7.6.1 for
 * hop-by-hop fields) and the HTTP proxy's filtering, after the behaviour
 * of I2P's HTTP client proxy (i2ptunnel's HTTPClient and i2pd's
 * HTTPProxy: the User-Agent it sends, the headers it drops).
 */
#include "config.h"
#include "apps/proxy/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "crypto/base/err.h"

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool http_str_ieq(struct http_str s, const char *lit)
{
	return strlen(lit) == s.n && strncasecmp(s.p, lit, s.n) == 0;
}

/* The end of the head (index after its blank line) within buf, or 0. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* The next line in [*p, end): borrowed, without its CRLF or LF. */
static bool next_line(const char **p, const char *end, struct http_str *line)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (!nl)
		return false;
	line->p = *p;
	line->n = (size_t)(nl - *p);
	if (line->n > 0 && line->p[line->n - 1] == '\r')
		line->n--;
	*p = nl + 1;
	return true;
}

static int parse_request_line(struct http_str l, struct http_req *r)
{
	const char *sp1 = memchr(l.p, ' ', l.n), *sp2;
	struct http_str v;

	if (!sp1 || sp1 == l.p)
		return ERR_FORMAT;
	r->method = (struct http_str){ l.p, (size_t)(sp1 - l.p) };
	for (size_t i = 0; i < r->method.n; i++)
		if (!is_tchar((unsigned char)l.p[i]))
			return ERR_FORMAT;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(l.p + l.n - (sp1 + 1)));
	if (!sp2 || sp2 == sp1 + 1)
		return ERR_FORMAT;
	r->target = (struct http_str){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	for (size_t i = 0; i < r->target.n; i++) {
		unsigned char c = (unsigned char)r->target.p[i];

		if (c <= ' ' || c == 0x7f)
			return ERR_FORMAT;
	}
	v = (struct http_str){ sp2 + 1, (size_t)(l.p + l.n - (sp2 + 1)) };
	if (v.n != 8 || memcmp(v.p, "HTTP/1.", 7) != 0 ||
	    (v.p[7] != '0' && v.p[7] != '1'))
		return ERR_FORMAT;
	r->minor = (unsigned)(v.p[7] - '0');
	return 0;
}

/* "name: value" (no obs-fold: RFC 9112 §5.2 lets us reject it). */
static int parse_header(struct http_str l, struct http_header *h)
{
	const char *colon = memchr(l.p, ':', l.n);
	const char *v, *e = l.p + l.n;

	if (!colon || colon == l.p)
		return ERR_FORMAT;
	for (const char *c = l.p; c < colon; c++)
		if (!is_tchar((unsigned char)*c))
			return ERR_FORMAT;
	for (const char *c = colon + 1; c < e; c++) {
		unsigned char ch = (unsigned char)*c;

		if ((ch < ' ' && ch != '\t') || ch == 0x7f)
			return ERR_FORMAT;
	}
	v = colon + 1;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	h->name = (struct http_str){ l.p, (size_t)(colon - l.p) };
	h->value = (struct http_str){ v, (size_t)(e - v) };
	return 0;
}

/* The header lines up to the blank one. */
static int parse_headers(const char **p, const char *e, struct http_header *h,
			 size_t *nh)
{
	struct http_str l;
	int err;

	while (next_line(p, e, &l) && l.n > 0) {
		if (*nh == HTTP_HEADERS_MAX)
			return ERR_TOO_BIG;
		if ((err = parse_header(l, &h[*nh])) != 0)
			return err;
		(*nh)++;
	}
	return 0;
}

int http_req_parse(const char *buf, size_t len, struct http_req *out)
{
	size_t end = head_end(buf, len < HTTP_HEAD_MAX_BYTES ? len :
						      HTTP_HEAD_MAX_BYTES);
	const char *p = buf, *e;
	struct http_str l;
	struct http_req r;
	int err;

	if (end == 0) {
		/* A first line that already cannot be a request ends it
		 * early (a client sending garbage slowly). */
		const char *sp = memchr(buf, ' ', len);

		for (size_t i = 0; i < (sp ? (size_t)(sp - buf) : len); i++)
			if (!is_tchar((unsigned char)buf[i]))
				return ERR_FORMAT;
		return len >= HTTP_HEAD_MAX_BYTES ? ERR_TOO_BIG :
						    ERR_TRUNCATED;
	}
	memset(&r, 0, sizeof(r));
	e = buf + end;
	if (!next_line(&p, e, &l) || (err = parse_request_line(l, &r)) != 0)
		return ERR_FORMAT;
	if ((err = parse_headers(&p, e, r.h, &r.nh)) != 0)
		return err;
	r.head_len = end;
	*out = r;
	return 0;
}

static const struct http_str *header_find(const struct http_header *h,
					  size_t nh, const char *name)
{
	for (size_t i = 0; i < nh; i++)
		if (http_str_ieq(h[i].name, name))
			return &h[i].value;
	return NULL;
}

const struct http_str *http_req_header(const struct http_req *r,
				       const char *name)
{
	return header_find(r->h, r->nh, name);
}

const struct http_str *http_resp_header(const struct http_resp *r,
					const char *name)
{
	return header_find(r->h, r->nh, name);
}

int http_resp_parse(const char *buf, size_t len, struct http_resp *out)
{
	size_t end = head_end(buf, len < HTTP_HEAD_MAX_BYTES ? len :
						      HTTP_HEAD_MAX_BYTES);
	const char *p = buf, *e;
	struct http_str l;
	struct http_resp r;
	int err;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0)
		return ERR_FORMAT;
	if (end == 0)
		return len >= HTTP_HEAD_MAX_BYTES ? ERR_TOO_BIG :
						    ERR_TRUNCATED;
	memset(&r, 0, sizeof(r));
	e = buf + end;
	/* "status-line = HTTP-version SP status-code SP [ reason-phrase ]" */
	if (!next_line(&p, e, &l) || l.n < 12 ||
	    memcmp(l.p, "HTTP/1.", 7) != 0 || (l.p[7] != '0' &&
					       l.p[7] != '1') ||
	    l.p[8] != ' ' || l.p[9] < '1' || l.p[9] > '9' ||
	    l.p[10] < '0' || l.p[10] > '9' || l.p[11] < '0' ||
	    l.p[11] > '9' || (l.n > 12 && l.p[12] != ' '))
		return ERR_FORMAT;
	r.minor = (unsigned)(l.p[7] - '0');
	r.status = (unsigned)((l.p[9] - '0') * 100 + (l.p[10] - '0') * 10 +
			      (l.p[11] - '0'));
	if ((err = parse_headers(&p, e, r.h, &r.nh)) != 0)
		return err;
	r.head_len = end;
	*out = r;
	return 0;
}

/* host[:port] into out; a missing port keeps out->port. */
static int parse_authority(const char *p, size_t n, struct http_url *out)
{
	const char *colon = memchr(p, ':', n);
	size_t hl = colon ? (size_t)(colon - p) : n;

	if (hl == 0 || memchr(p, '@', n) || memchr(p, '[', n))
		return ERR_FORMAT;
	if (hl > HTTP_HOST_MAX_BYTES)
		return ERR_TOO_BIG;
	for (size_t i = 0; i < hl; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!(c == '-' || c == '.' || c == '_' ||
		      (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z')))
			return ERR_FORMAT;
		out->host[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out->host[hl] = 0;
	if (colon) {
		unsigned long port = 0;
		size_t pl = n - hl - 1;

		if (pl == 0 || pl > 5)
			return ERR_FORMAT;
		for (size_t i = 0; i < pl; i++) {
			if (colon[1 + i] < '0' || colon[1 + i] > '9')
				return ERR_FORMAT;
			port = port * 10 + (unsigned long)(colon[1 + i] - '0');
		}
		if (port == 0 || port > 65535)
			return ERR_FORMAT;
		out->port = (uint16_t)port;
	}
	return 0;
}

int http_url_parse(struct http_str t, bool connect, struct http_url *out)
{
	struct http_url u = { .port = 80, .path = { "/", 1 } };
	const char *p = t.p, *e = t.p + t.n, *slash;
	int err;

	if (connect) {
		u.port = 0;
		if ((err = parse_authority(p, t.n, &u)) != 0)
			return err;
		if (u.port == 0)
			return ERR_FORMAT;
		*out = u;
		return 0;
	}
	if (t.n >= 7 && strncasecmp(p, "http://", 7) == 0) {
		p += 7;
	} else if (t.n >= 8 && strncasecmp(p, "https://", 8) == 0) {
		p += 8;
		u.https = true;
		u.port = 443;
	} else {
		return ERR_FORMAT;
	}
	slash = memchr(p, '/', (size_t)(e - p));
	if (!slash) {
		const char *q = memchr(p, '?', (size_t)(e - p));

		slash = q ? q : e;
	}
	if ((err = parse_authority(p, (size_t)(slash - p), &u)) != 0)
		return err;
	if (slash < e && *slash == '/')
		u.path = (struct http_str){ slash, (size_t)(e - slash) };
	*out = u;
	return 0;
}

/* Headers never passed on: hop-by-hop ones (RFC 9110 §7.6.1), the
 * proxy's own, and those that say who or where the user is. */
static bool header_dropped(struct http_str name)
{
	static const char *const drop[] = {
		"Host", "Connection", "Keep-Alive", "Proxy-Connection",
		"Proxy-Authorization", "Proxy-Authenticate", "TE", "Trailer",
		"Upgrade", "Via", "From", "Forwarded", "X-Real-IP",
		"Client-IP", "X-Client-IP", "True-Client-IP", "X-Http-Proto",
		"Accept-Language", "User-Agent", "Referer",
	};

	if ((name.n >= 12 && strncasecmp(name.p, "X-Forwarded-", 12) == 0) ||
	    (name.n >= 6 && strncasecmp(name.p, "Proxy-", 6) == 0))
		return true;
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (http_str_ieq(name, drop[i]))
			return true;
	return false;
}

/* A Referer naming the same host as url (any scheme or port). */
static bool referer_same_site(struct http_str ref, const struct http_url *url)
{
	struct http_url r;

	return http_url_parse(ref, false, &r) == 0 &&
	       strcmp(r.host, url->host) == 0;
}

static void put_str(struct bbuf *out, const char *s)
{
	bbuf_put(out, s, strlen(s));
}

static void put_header(struct bbuf *out, const struct http_header *h)
{
	bbuf_put(out, h->name.p, h->name.n);
	put_str(out, ": ");
	bbuf_put(out, h->value.p, h->value.n);
	put_str(out, "\r\n");
}

void http_req_rewrite(const struct http_req *r, const struct http_url *url,
		      const struct http_str *path, struct bbuf *out)
{
	const struct http_str *p = path ? path : &url->path;
	const struct http_str *ref = http_req_header(r, "Referer");
	char port[16];

	bbuf_put(out, r->method.p, r->method.n);
	bbuf_put(out, " ", 1);
	bbuf_put(out, p->p, p->n);
	put_str(out, r->minor ? " HTTP/1.1\r\nHost: " : " HTTP/1.0\r\nHost: ");
	put_str(out, url->host);
	if (url->port != 80) {
		snprintf(port, sizeof(port), ":%u", url->port);
		put_str(out, port);
	}
	put_str(out, "\r\nUser-Agent: " HTTP_PROXY_USER_AGENT
		     "\r\nConnection: close\r\n");
	if (ref && referer_same_site(*ref, url)) {
		put_str(out, "Referer: ");
		bbuf_put(out, ref->p, ref->n);
		put_str(out, "\r\n");
	}
	for (size_t i = 0; i < r->nh; i++)
		if (!header_dropped(r->h[i].name))
			put_header(out, &r->h[i]);
	put_str(out, "\r\n");
}

/* Response headers never passed on: hop-by-hop ones, and those I2P's
 * HTTP server tunnel removes because they tell the server's software or
 * clock (Date, Server, X-Powered-By, X-Runtime) or are httpoxy's
 * (Proxy). */
static bool resp_header_dropped(struct http_str name)
{
	static const char *const drop[] = {
		"Connection", "Keep-Alive", "Proxy-Connection", "TE",
		"Trailer", "Upgrade", "Proxy", "Date", "Server", "X-Powered-By",
		"X-Runtime",
	};

	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (http_str_ieq(name, drop[i]))
			return true;
	return false;
}

bool http_resp_delimited(const struct http_resp *r, bool head_req)
{
	const struct http_str *te = http_resp_header(r, "Transfer-Encoding");
	const struct http_str *cl = http_resp_header(r, "Content-Length");

	if (head_req || r->status < 200 || r->status == 204 ||
	    r->status == 304)
		return true;
	if (te)		/* chunked must be the last coding (RFC 9112 §6.1) */
		return te->n >= 7 &&
		       strncasecmp(te->p + te->n - 7, "chunked", 7) == 0;
	if (!cl || cl->n == 0 || cl->n > 15)
		return false;
	for (size_t i = 0; i < cl->n; i++)
		if (cl->p[i] < '0' || cl->p[i] > '9')
			return false;
	return true;
}

bool http_resp_rewrite(const char *buf, const struct http_resp *r,
		       bool head_req, bool keep_alive, struct bbuf *out)
{
	const char *eol = memchr(buf, '\n', r->head_len);
	size_t n = eol ? (size_t)(eol - buf) : 0;
	bool ka = keep_alive && r->minor >= 1 &&
		  http_resp_delimited(r, head_req);

	/* the status line as it came (the parser checked it), ended by
	 * CRLF whatever ended it */
	if (n && buf[n - 1] == '\r')
		n--;
	bbuf_put(out, buf, n);
	put_str(out, "\r\n");
	for (size_t i = 0; i < r->nh; i++)
		if (!resp_header_dropped(r->h[i].name))
			put_header(out, &r->h[i]);
	if (r->status >= 200)
		put_str(out, ka ? "Connection: keep-alive\r\n" :
				  "Connection: close\r\n");
	put_str(out, "\r\n");
	return ka;
}

int http_hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

#define HELPER_KEY "i2paddresshelper"

bool http_addresshelper_take(struct http_str path, struct bbuf *value_out,
			     struct bbuf *path_out)
{
	const char *q = memchr(path.p, '?', path.n), *e = path.p + path.n;
	const char *frag = memchr(path.p, '#', path.n);
	bool found = false, first = true;

	if (frag)
		e = frag;
	if (!q || q > e)
		return false;
	bbuf_put(path_out, path.p, (size_t)(q - path.p));
	for (const char *s = q + 1; s <= e;) {
		const char *amp = memchr(s, '&', (size_t)(e - s));
		const char *end = amp ? amp : e;
		size_t kl = sizeof(HELPER_KEY) - 1;

		if (!found && (size_t)(end - s) > kl && s[kl] == '=' &&
		    memcmp(s, HELPER_KEY, kl) == 0) {
			for (const char *c = s + kl + 1; c < end; c++) {
				int hi, lo;

				if (*c == '%' && end - c >= 3 &&
				    (hi = http_hexval(c[1])) >= 0 &&
				    (lo = http_hexval(c[2])) >= 0) {
					bbuf_u8(value_out, (uint8_t)(hi << 4 | lo));
					c += 2;
				} else {
					bbuf_u8(value_out, (uint8_t)*c);
				}
			}
			bbuf_u8(value_out, 0);
			found = true;
		} else if (end > s) {
			bbuf_put(path_out, first ? "?" : "&", 1);
			bbuf_put(path_out, s, (size_t)(end - s));
			first = false;
		}
		s = end + 1;
	}
	if (frag)
		bbuf_put(path_out, frag, (size_t)(path.p + path.n - frag));
	return found;
}

void http_html_escape(struct bbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '<': put_str(out, "&lt;"); break;
		case '>': put_str(out, "&gt;"); break;
		case '&': put_str(out, "&amp;"); break;
		case '"': put_str(out, "&quot;"); break;
		case '\'': put_str(out, "&#39;"); break;
		default: bbuf_u8(out, (uint8_t)s[i]);
		}
	}
}

void http_error_page(struct bbuf *out, unsigned status, const char *reason,
		     const char *title, const char *detail)
{
	struct bbuf body = BBUF_INIT;
	char line[128];

	put_str(&body, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
		       "<title>");
	http_html_escape(&body, title, strlen(title));
	put_str(&body, "</title></head>\n<body><h1>");
	http_html_escape(&body, title, strlen(title));
	put_str(&body, "</h1>\n<p>");
	http_html_escape(&body, detail, strlen(detail));
	put_str(&body, "</p>\n<hr><p>bitsd HTTP proxy</p></body></html>\n");
	snprintf(line, sizeof(line), "HTTP/1.1 %u %s\r\n", status, reason);
	put_str(out, line);
	put_str(out, "Content-Type: text/html; charset=utf-8\r\n"
		     "Cache-Control: no-store\r\nConnection: close\r\n");
	snprintf(line, sizeof(line), "Content-Length: %zu\r\n\r\n", body.len);
	put_str(out, line);
	bbuf_put(out, body.data, body.len);
	bbuf_free(&body);
}
