/*
 * JSON-RPC over HTTP/1.1 to the gateway's own node, asynchronous on the
 * loop (apps/market/upstream_http.h).  RFC 9112 framing is evhttp's; we
 * add the deadline, the caps and the loopback rule.
 */
#include "config.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/market/upstream_http.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "router/evloop.h"

struct http_req;

struct market_http {
	struct evloop *el;
	struct evhttp_connection *conn;
	char host[INET_ADDRSTRLEN];
	uint16_t port;
	char path[128];
	unsigned timeout_ms;
	struct http_req *pending;
};

struct http_req {
	struct market_http *h;
	struct evhttp_request *req;	/* NULL once evhttp is done with it */
	struct event *deadline;
	market_upstream_done_fn done;
	void *arg;
	size_t max;
	int err;
	bool starting;		/* inside http_start */
	bool failed_early;	/* evhttp failed it inside http_start */
	struct http_req *next, **pprev;
};

/* "http://127.a.b.c:port[/path]" → host, port, path. */
static int url_split(struct market_http *h, const char *url)
{
	const char *p = url + 7, *colon, *end;
	struct in_addr a;
	uint64_t port;

	if (strncmp(url, "http://", 7) != 0 || !(colon = strchr(p, ':')) ||
	    (size_t)(colon - p) >= sizeof(h->host))
		return ERR_ARG;
	memcpy(h->host, p, (size_t)(colon - p));
	h->host[colon - p] = '\0';
	if (inet_pton(AF_INET, h->host, &a) != 1 ||
	    (ntohl(a.s_addr) >> 24) != 127)
		return ERR_ARG;
	end = colon + 1 + strspn(colon + 1, "0123456789");
	if (dec_decode(&port, 65535, colon + 1, (size_t)(end - colon - 1)) ||
	    port == 0 || (*end && *end != '/') ||
	    strlen(end) >= sizeof(h->path))
		return ERR_ARG;
	h->port = (uint16_t)port;
	snprintf(h->path, sizeof(h->path), "%s", *end ? end : "/");
	return 0;
}

int market_http_new(struct evloop *el, const char *url, unsigned timeout_ms,
		    struct market_http **out)
{
	struct market_http *h = xcalloc(1, sizeof(*h));
	struct timeval tv;

	if (url_split(h, url) != 0) {
		free(h);
		return ERR_ARG;
	}
	h->el = el;
	h->timeout_ms = timeout_ms ? timeout_ms : MARKET_HTTP_TIMEOUT_MS;
	h->conn = evhttp_connection_base_new(evloop_base(el), NULL, h->host,
					     h->port);
	if (!h->conn) {
		free(h);
		return ERR_IO;
	}
	tv.tv_sec = h->timeout_ms / 1000;
	tv.tv_usec = (h->timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(h->conn, &tv);
	evhttp_connection_set_max_headers_size(h->conn,
					       MARKET_HTTP_MAX_HEADERS_BYTES);
	*out = h;
	return 0;
}

/* Unlink and free rq after telling its owner. */
static void req_finish(struct http_req *rq, int err, const uint8_t *body,
		       size_t len)
{
	if (rq->next)
		rq->next->pprev = rq->pprev;
	*rq->pprev = rq->next;
	event_free(rq->deadline);
	rq->done(rq->arg, err, body, len);
	free(rq);
}

void market_http_free(struct market_http *h)
{
	if (!h)
		return;
	while (h->pending) {
		struct http_req *rq = h->pending;
		if (rq->req)
			evhttp_cancel_request(rq->req);
		req_finish(rq, ERR_IO, NULL, 0);
	}
	evhttp_connection_free(h->conn);
	free(h);
}

static void on_error(enum evhttp_request_error e, void *arg)
{
	struct http_req *rq = arg;

	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		rq->err = ERR_TIMEOUT;
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		rq->err = ERR_TOO_BIG;
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		rq->err = ERR_PROTOCOL;
		break;
	case EVREQ_HTTP_EOF:
	case EVREQ_HTTP_BUFFER_ERROR:
	case EVREQ_HTTP_REQUEST_CANCEL:
		rq->err = ERR_IO;
		break;
	}
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct http_req *rq = arg;
	struct evbuffer *in;
	uint8_t *body = NULL;
	size_t n = 0;
	int err = rq->err;

	rq->req = NULL;
	if (rq->starting) {
		rq->failed_early = true;
		return;
	}
	if (!err && (!req || evhttp_request_get_response_code(req) != 200))
		err = req && evhttp_request_get_response_code(req) ?
		      ERR_PROTOCOL : ERR_IO;
	if (!err) {
		in = evhttp_request_get_input_buffer(req);
		n = evbuffer_get_length(in);
		if (n > rq->max)
			err = ERR_TOO_BIG;
		else
			body = evbuffer_pullup(in, (ev_ssize_t)n);
	}
	req_finish(rq, err, err ? NULL : body, err ? 0 : n);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct http_req *rq = arg;

	(void)fd;
	(void)what;
	if (rq->req)
		evhttp_cancel_request(rq->req);	/* no callback after this */
	rq->req = NULL;
	req_finish(rq, ERR_TIMEOUT, NULL, 0);
}

static int http_start(void *ctx, const char *body, size_t len,
		      size_t max_reply, market_upstream_done_fn done,
		      void *arg)
{
	struct market_http *h = ctx;
	struct http_req *rq = xcalloc(1, sizeof(*rq));
	struct evkeyvalq *hdr;
	struct timeval tv;
	char hostport[INET_ADDRSTRLEN + 8];

	rq->h = h;
	rq->done = done;
	rq->arg = arg;
	rq->max = max_reply;
	rq->req = evhttp_request_new(on_done, rq);
	evhttp_request_set_error_cb(rq->req, on_error);
	hdr = evhttp_request_get_output_headers(rq->req);
	snprintf(hostport, sizeof(hostport), "%s:%u", h->host, h->port);
	evhttp_add_header(hdr, "Host", hostport);
	evhttp_add_header(hdr, "Content-Type", "application/json");
	evbuffer_add(evhttp_request_get_output_buffer(rq->req), body, len);
	evhttp_connection_set_max_body_size(h->conn, (ev_ssize_t)max_reply);
	rq->starting = true;
	if (evhttp_make_request(h->conn, rq->req, EVHTTP_REQ_POST,
				h->path) != 0 || rq->failed_early) {
		free(rq);		/* evhttp freed the request */
		return ERR_IO;
	}
	rq->starting = false;
	rq->deadline = evtimer_new(evloop_base(h->el), on_deadline, rq);
	tv.tv_sec = h->timeout_ms / 1000;
	tv.tv_usec = (h->timeout_ms % 1000) * 1000;
	evtimer_add(rq->deadline, &tv);
	rq->next = h->pending;
	if (rq->next)
		rq->next->pprev = &rq->next;
	rq->pprev = &h->pending;
	h->pending = rq;
	return 0;
}

struct market_upstream market_http_upstream(struct market_http *h)
{
	return (struct market_upstream){ http_start, h };
}
