/*
 * The static web server (see web.h; RFC 9110 for ranges and status codes,
 * RFC 9112 for the message syntax, parsed by apps/proxy/http.c).
 *
 * The file system is touched off the loop: opening the requested file
 * (or index.html), fstat() and a folder listing run as a job on the web
 * server's worker thread; the loop gets an open descriptor and sends it
 * by evbuffer_add_file() (sendfile or mmap, never read on the loop).
 */
#include "config.h"
#include "apps/proxy/web.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "apps/proxy/http.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "router/evloop.h"
#include "router/worker.h"

struct web_conn {
	struct web_conn *next;
	struct web *w;
	struct bufferevent *bev;
	struct evloop_timer *timer;
	uint64_t id;
	bool closing, done;
	bool busy;			/* a job for its request is out */
};

struct web {
	struct evloop *el;
	struct web_cfg cfg;
	char *root;
	int root_fd;
	struct evconnlistener *lis;
	struct worker_pool *wp;
	bool stopping;
	uint16_t port;
	uint64_t next_id;
	struct web_conn *conns;
	unsigned nconns;
};

/* What a request needs from the file system, found on the worker. */
enum web_found { WF_FILE, WF_LISTING, WF_FORBIDDEN, WF_NOT_FOUND, WF_ERROR };

struct web_job {
	struct web *w;
	uint64_t conn_id;
	/* in (owned): a copy of the root descriptor, the decoded path */
	int root_fd;
	char *rel;
	bool listing, head;
	char *range;			/* the Range header; NULL: none */
	/* out */
	enum web_found found;
	int fd;				/* WF_FILE: owned until sent */
	struct stat sb;
	const char *name;		/* rel or "index.html" */
	struct bbuf body;		/* WF_LISTING: the page */
};

void web_cfg_default(struct web_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->host = "127.0.0.1";
	c->max_conns = WEB_MAX_CONNS_DEFAULT;
	c->head_timeout_ms = WEB_HEAD_TIMEOUT_MS;
}

const char *web_mime_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} t[] = {
		{ "html", "text/html; charset=utf-8" },
		{ "htm", "text/html; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" },
		{ "js", "text/javascript; charset=utf-8" },
		{ "mjs", "text/javascript; charset=utf-8" },
		{ "json", "application/json" },
		{ "txt", "text/plain; charset=utf-8" },
		{ "md", "text/markdown; charset=utf-8" },
		{ "xml", "application/xml" },
		{ "svg", "image/svg+xml" },
		{ "png", "image/png" },
		{ "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },
		{ "gif", "image/gif" },
		{ "webp", "image/webp" },
		{ "avif", "image/avif" },
		{ "ico", "image/x-icon" },
		{ "mp4", "video/mp4" },
		{ "m4v", "video/mp4" },
		{ "webm", "video/webm" },
		{ "ogv", "video/ogg" },
		{ "mp3", "audio/mpeg" },
		{ "m4a", "audio/mp4" },
		{ "ogg", "audio/ogg" },
		{ "opus", "audio/ogg" },
		{ "wav", "audio/wav" },
		{ "flac", "audio/flac" },
		{ "pdf", "application/pdf" },
		{ "zip", "application/zip" },
		{ "gz", "application/gzip" },
		{ "tar", "application/x-tar" },
		{ "woff", "font/woff" },
		{ "woff2", "font/woff2" },
		{ "ttf", "font/ttf" },
		{ "otf", "font/otf" },
		{ "wasm", "application/wasm" },
	};
	const char *dot = strrchr(name, '.');

	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			if (strcasecmp(dot + 1, t[i].ext) == 0)
				return t[i].type;
	return "application/octet-stream";
}

/* Decimal digits [p, e) into *v (no overflow past 2^63). */
static bool digits(const char *p, const char *e, uint64_t *v)
{
	uint64_t x = 0;

	if (p == e || e - p > 18)
		return false;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return false;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = x;
	return true;
}

int web_range_parse(const char *v, size_t n, uint64_t size, uint64_t *first,
		    uint64_t *last)
{
	const char *e = v + n, *dash;
	uint64_t a, b;

	/* "ranges-specifier = range-unit "=" range-set" (§14.1.1) */
	if (n < 6 || strncasecmp(v, "bytes=", 6) != 0)
		return ERR_UNSUPPORTED;
	v += 6;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (memchr(v, ',', (size_t)(e - v)))
		return ERR_UNSUPPORTED;
	if (!(dash = memchr(v, '-', (size_t)(e - v))))
		return ERR_FORMAT;
	if (dash == v) {
		/* "suffix-range = "-" suffix-length" */
		if (!digits(dash + 1, e, &b))
			return ERR_FORMAT;
		if (b == 0 || size == 0)
			return ERR_RANGE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 0;
	}
	if (!digits(v, dash, &a))
		return ERR_FORMAT;
	if (dash + 1 == e) {
		b = UINT64_MAX;
	} else if (!digits(dash + 1, e, &b) || b < a) {
		return ERR_FORMAT;
	}
	/* "the first-pos ... greater than or equal to the current length"
	 * makes it unsatisfiable */
	if (a >= size)
		return ERR_RANGE;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return 0;
}

int web_path_decode(const char *target, size_t n, struct bbuf *out)
{
	const char *q = memchr(target, '?', n);
	size_t start = out->len, seg;

	if (q)
		n = (size_t)(q - target);
	if (n == 0 || target[0] != '/')
		return ERR_FORMAT;
	for (size_t i = 1; i < n; i++) {
		int c = (unsigned char)target[i], hi, lo;

		if (c == '%') {
			if (i + 2 >= n)
				return ERR_FORMAT;
			if ((hi = http_hexval(target[i + 1])) < 0 ||
			    (lo = http_hexval(target[i + 2])) < 0)
				return ERR_FORMAT;
			c = hi << 4 | lo;
			i += 2;
		}
		if (c == 0 || c == '\\')
			return ERR_FORMAT;
		bbuf_u8(out, (uint8_t)c);
	}
	/* check each segment of the decoded path */
	seg = start;
	for (size_t i = start; i <= out->len; i++) {
		if (i < out->len && out->data[i] != '/')
			continue;
		if (i > seg && out->data[seg] == '.')
			return ERR_FORMAT;	/* "..", ".", hidden */
		if (i == seg && i < out->len)
			return ERR_FORMAT;	/* "//" */
		seg = i + 1;
	}
	bbuf_u8(out, 0);
	return 0;
}

/* ---- connections -------------------------------------------------------- */

static void wc_free(void *arg)
{
	struct web_conn *c = arg;

	bufferevent_free(c->bev);
	evloop_timer_free(c->timer);
	free(c);
}

static void wc_close(struct web_conn *c)
{
	struct web *w = c->w;

	if (c->closing)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	evloop_timer_disarm(c->timer);
	for (struct web_conn **pp = &w->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	w->nconns--;
	evloop_mark_close(w->el, wc_free, c);
}

/* The response is queued: close once it is written. */
static void wc_finish(struct web_conn *c)
{
	c->done = true;
	evloop_timer_disarm(c->timer);
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		wc_close(c);
}

static void put_s(struct evbuffer *b, const char *s)
{
	evbuffer_add(b, s, strlen(s));
}

static void wc_error(struct web_conn *c, unsigned status, const char *reason)
{
	struct bbuf b = BBUF_INIT;

	http_error_page(&b, status, reason, reason, reason);
	evbuffer_add(bufferevent_get_output(c->bev), b.data, b.len);
	bbuf_free(&b);
	wc_finish(c);
}

/* The listing page of folder dfd (taken) into *body_out.  Worker
 * thread. */
static int listing_build(int dfd, const char *rel, struct bbuf *body_out)
{
	struct bbuf body = BBUF_INIT;
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return ERR_IO;
	}
	bbuf_put(&body, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
			"<title>/", 57);
	http_html_escape(&body, rel, strlen(rel));
	bbuf_put(&body, "</title></head><body><ul>\n", 26);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		bbuf_put(&body, "<li><a href=\"", 13);
		http_html_escape(&body, de->d_name, strlen(de->d_name));
		bbuf_put(&body, "\">", 2);
		http_html_escape(&body, de->d_name, strlen(de->d_name));
		bbuf_put(&body, "</a></li>\n", 10);
	}
	closedir(d);
	bbuf_put(&body, "</ul></body></html>\n", 20);
	*body_out = body;
	return 0;
}

static void listing_send(struct web_conn *c, const struct bbuf *body,
			 bool head)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char line[64];

	put_s(out, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8"
		   "\r\nConnection: close\r\n");
	snprintf(line, sizeof(line), "Content-Length: %zu\r\n\r\n", body->len);
	put_s(out, line);
	if (!head)
		evbuffer_add(out, body->data, body->len);
	wc_finish(c);
}

/* Send fd (a regular file of sb's size; taken) whole or the range asked
 * (range: the Range header's value, or NULL). */
static void send_file(struct web_conn *c, int fd, const struct stat *sb,
		      const char *name, const char *range, bool head)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint64_t size = (uint64_t)sb->st_size, first = 0, last = size - 1;
	char line[160];
	int e = ERR_UNSUPPORTED;

	if (range)
		e = web_range_parse(range, strlen(range), size, &first, &last);
	if (e == ERR_RANGE) {
		close(fd);
		snprintf(line, sizeof(line), "HTTP/1.1 416 Range Not "
			 "Satisfiable\r\nContent-Range: bytes */%" PRIu64
			 "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			 size);
		put_s(out, line);
		return wc_finish(c);
	}
	if (e == 0) {
		log_debug(LD_APP, "web: bytes %" PRIu64 "-%" PRIu64 " of %"
			  PRIu64 " (206)", first, last, size);
		snprintf(line, sizeof(line), "HTTP/1.1 206 Partial Content\r\n"
			 "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%"
			 PRIu64 "\r\n", first, last, size);
	} else {
		first = 0;
		last = size ? size - 1 : 0;
		snprintf(line, sizeof(line), "HTTP/1.1 200 OK\r\n");
	}
	put_s(out, line);
	put_s(out, "Content-Type: ");
	put_s(out, web_mime_type(name));
	snprintf(line, sizeof(line), "\r\nAccept-Ranges: bytes\r\n"
		 "Content-Length: %" PRIu64 "\r\nConnection: close\r\n\r\n",
		 size ? last - first + 1 : 0);
	put_s(out, line);
	if (head || size == 0) {
		close(fd);
	} else if (evbuffer_add_file(out, fd, (ev_off_t)first,
				     (ev_off_t)(last - first + 1)) != 0) {
		close(fd);	/* (evbuffer_add_file() closes it on success) */
		return wc_close(c);
	}
	wc_finish(c);
}

/* Worker thread: open what the request names, the way serve() needs
 * it.  Touches only j. */
static void job_run(void *arg)
{
	struct web_job *j = arg;
	int fd, ifd;

	j->found = WF_NOT_FOUND;
	j->fd = -1;
	j->name = j->rel;
	fd = *j->rel ? openat(j->root_fd, j->rel, O_RDONLY | O_CLOEXEC |
						  O_NOFOLLOW | O_NONBLOCK) :
		       dup(j->root_fd);
	if (fd < 0 || fstat(fd, &j->sb) != 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (S_ISREG(j->sb.st_mode)) {
		j->found = WF_FILE;
		j->fd = fd;
		return;
	}
	if (!S_ISDIR(j->sb.st_mode)) {
		close(fd);
		return;
	}
	ifd = openat(fd, "index.html", O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
				       O_NONBLOCK);
	if (ifd >= 0 && fstat(ifd, &j->sb) == 0 && S_ISREG(j->sb.st_mode)) {
		close(fd);
		j->found = WF_FILE;
		j->fd = ifd;
		j->name = "index.html";
		return;
	}
	if (ifd >= 0)
		close(ifd);
	if (!j->listing) {
		close(fd);
		j->found = WF_FORBIDDEN;
		return;
	}
	j->found = listing_build(fd, j->rel, &j->body) == 0 ? WF_LISTING :
							       WF_ERROR;
}

static struct web_conn *conn_find(struct web *w, uint64_t id)
{
	for (struct web_conn *c = w->conns; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/* Loop thread: answer the request with what the job found. */
static void job_done(void *arg)
{
	struct web_job *j = arg;
	struct web_conn *c = j->w->stopping ? NULL :
						conn_find(j->w, j->conn_id);

	if (c && !c->closing) {
		c->busy = false;
		switch (j->found) {
		case WF_FILE:
			send_file(c, j->fd, &j->sb, j->name, j->range, j->head);
			j->fd = -1;
			break;
		case WF_LISTING:
			listing_send(c, &j->body, j->head);
			break;
		case WF_FORBIDDEN:
			wc_error(c, 403, "Forbidden");
			break;
		case WF_NOT_FOUND:
			wc_error(c, 404, "Not Found");
			break;
		case WF_ERROR:
			wc_error(c, 500, "Internal Server Error");
			break;
		}
	}
	if (j->fd >= 0)
		close(j->fd);
	close(j->root_fd);
	bbuf_free(&j->body);
	free(j->range);
	free(j->rel);
	free(j);
}

static void serve(struct web_conn *c, const struct http_req *r)
{
	struct web *w = c->w;
	bool head = http_str_ieq(r->method, "HEAD");
	const struct http_str *range = http_req_header(r, "Range");
	struct bbuf path = BBUF_INIT;
	struct web_job *j;
	int rfd;

	if (!head && !http_str_ieq(r->method, "GET"))
		return wc_error(c, 405, "Method Not Allowed");
	if (web_path_decode(r->target.p, r->target.n, &path) != 0) {
		bbuf_free(&path);
		return wc_error(c, 404, "Not Found");
	}
	if ((rfd = dup(w->root_fd)) < 0) {
		bbuf_free(&path);
		return wc_error(c, 503, "Service Unavailable");
	}
	j = xzalloc(sizeof(*j));
	j->w = w;
	j->conn_id = c->id;
	j->root_fd = rfd;
	j->rel = xstrdup((const char *)path.data);
	j->listing = w->cfg.listing;
	j->head = head;
	j->fd = -1;
	if (range) {
		j->range = xmalloc(range->n + 1);
		memcpy(j->range, range->p, range->n);
		j->range[range->n] = 0;
	}
	bbuf_free(&path);
	/* nothing more from this client until the answer */
	c->busy = true;
	evloop_timer_disarm(c->timer);
	bufferevent_disable(c->bev, EV_READ);
	worker_submit(w->wp, (struct work){ job_run, job_done, j });
}

static void wc_read_cb(struct bufferevent *bev, void *arg)
{
	struct web_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	size_t take = len < HTTP_HEAD_MAX_BYTES ? len : HTTP_HEAD_MAX_BYTES;
	struct http_req r;
	int e;

	if (c->done || c->closing || c->busy)
		return;
	e = http_req_parse((const char *)evbuffer_pullup(in, (ssize_t)take),
			   take, &r);
	if (e == ERR_TRUNCATED)
		return;
	if (e == ERR_TOO_BIG)
		return wc_error(c, 431, "Request Header Fields Too Large");
	if (e != 0)
		return wc_error(c, 400, "Bad Request");
	serve(c, &r);
}

static void wc_write_cb(struct bufferevent *bev, void *arg)
{
	struct web_conn *c = arg;

	if (c->done && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		wc_close(c);
}

static void wc_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	wc_close(arg);
}

static void wc_timer_cb(void *arg)
{
	struct web_conn *c = arg;

	if (!c->done && !c->closing)
		wc_error(c, 408, "Request Timeout");
}

static void web_accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
			  struct sockaddr *sa, int salen, void *arg)
{
	struct web *w = arg;
	struct web_conn *c;

	(void)lis;
	(void)sa;
	(void)salen;
	if (w->nconns >= w->cfg.max_conns) {
		evutil_closesocket(fd);
		return;
	}
	c = xzalloc(sizeof(*c));
	c->w = w;
	c->id = ++w->next_id;
	c->bev = bufferevent_socket_new(evloop_base(w->el), fd,
					BEV_OPT_CLOSE_ON_FREE);
	c->timer = evloop_timer_new(w->el, wc_timer_cb, c);
	c->next = w->conns;
	w->conns = c;
	w->nconns++;
	bufferevent_setcb(c->bev, wc_read_cb, wc_write_cb, wc_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	evloop_timer_arm(c->timer, w->cfg.head_timeout_ms);
}

int web_new(struct evloop *el, const struct web_cfg *cfg, struct web **out)
{
	struct web *w;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int rfd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(cfg->port);
	if (!cfg->root || inet_pton(AF_INET, cfg->host, &sin.sin_addr) != 1)
		return ERR_ARG;
	rfd = open(cfg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0) {
		log_warn(LD_APP, "web: cannot open the folder %s", cfg->root);
		return ERR_NOT_FOUND;
	}
	w = xzalloc(sizeof(*w));
	w->el = el;
	w->cfg = *cfg;
	w->root = xstrdup(cfg->root);
	w->cfg.root = w->root;
	w->cfg.host = NULL;
	w->root_fd = rfd;
	w->wp = worker_pool_new(el, 1);
	w->lis = evconnlistener_new_bind(evloop_base(el), web_accept_cb, w,
					 LEV_OPT_CLOSE_ON_FREE |
						 LEV_OPT_REUSEABLE,
					 64, (struct sockaddr *)&sin,
					 sizeof(sin));
	if (!w->lis) {
		log_warn(LD_APP, "web: cannot listen on %s:%u", cfg->host,
			 cfg->port);
		worker_pool_free(w->wp);
		close(rfd);
		free(w->root);
		free(w);
		return ERR_IO;
	}
	getsockname(evconnlistener_get_fd(w->lis), (struct sockaddr *)&sin,
		    &sl);
	w->port = ntohs(sin.sin_port);
	*out = w;
	return 0;
}

uint16_t web_port(const struct web *w)
{
	return w->port;
}

void web_free(struct web *w)
{
	if (!w)
		return;
	evconnlistener_free(w->lis);
	/* jobs still out finish here and find no connection */
	w->stopping = true;
	worker_pool_free(w->wp);
	while (w->conns)
		wc_close(w->conns);
	close(w->root_fd);
	free(w->root);
	free(w);
}
