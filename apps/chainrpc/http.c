/*
 * HTTP/1.1 JSON-RPC client on evhttp (see http.h).  RFC 9112 framing is
 * evhttp's; we add the deadline, the size caps and the retry policy, and
 * map every failure to one ERR_* with a short reason.
 */
#include "config.h"
#include "apps/chainrpc/http.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chainrpc_http {
	struct event_base *base;
	struct evhttp_connection *conn;
	char host[INET_ADDRSTRLEN];
	uint16_t port;
	char path[256];
	unsigned timeout_ms;
	unsigned retries;
};

/* One request in flight. */
struct pending {
	bool done;
	int err;
	const char *why;
	size_t max;
	struct bbuf *reply;
	struct evhttp_request *req;
};

static bool parse_url(const char *url, char *host, uint16_t *port, char *path,
		      size_t pathlen)
{
	const char *p, *colon, *slash;
	struct in_addr a;
	char hbuf[INET_ADDRSTRLEN];
	uint64_t pv;
	const char *end;

	if (strncmp(url, "http://", 7) != 0)
		return false;
	p = url + 7;
	slash = strchr(p, '/');
	colon = strchr(p, ':');
	if (!colon || (slash && colon > slash))
		return false;
	if ((size_t)(colon - p) >= sizeof(hbuf))
		return false;
	memcpy(hbuf, p, (size_t)(colon - p));
	hbuf[colon - p] = '\0';
	if (inet_pton(AF_INET, hbuf, &a) != 1)
		return false;
	if ((ntohl(a.s_addr) >> 24) != 127)	/* loopback only for now */
		return false;
	end = colon + 1 + strspn(colon + 1, "0123456789");
	if (dec_decode(&pv, 65535, colon + 1, (size_t)(end - colon - 1)) ||
	    pv == 0 || (*end != '\0' && *end != '/'))
		return false;
	snprintf(path, pathlen, "%s", *end ? end : "/");
	memcpy(host, hbuf, strlen(hbuf) + 1);
	*port = (uint16_t)pv;
	return true;
}

int chainrpc_http_new(struct event_base *base, const char *url,
		      unsigned timeout_ms, unsigned retries,
		      struct chainrpc_http **out, const char **why)
{
	struct chainrpc_http *h = xzalloc(sizeof(*h));

	if (!parse_url(url, h->host, &h->port, h->path, sizeof(h->path))) {
		free(h);
		*why = "RPC URL must be http://127.x.y.z:PORT[/path] (loopback "
		       "only until the overlay carries chain RPC)";
		return ERR_ARG;
	}
	h->base = base;
	h->timeout_ms = timeout_ms ? timeout_ms : CHAINRPC_DEFAULT_TIMEOUT_MS;
	h->retries = retries;
	*out = h;
	return 0;
}

static void drop_conn(struct chainrpc_http *h)
{
	if (h->conn) {
		evhttp_connection_free(h->conn);
		h->conn = NULL;
	}
}

void chainrpc_http_free(struct chainrpc_http *h)
{
	if (!h)
		return;
	drop_conn(h);
	free(h);
}

static void on_error(enum evhttp_request_error e, void *arg)
{
	struct pending *p = arg;

	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		p->err = ERR_TIMEOUT;
		p->why = "the node did not answer in time";
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		p->err = ERR_TOO_BIG;
		p->why = "reply too long";
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		p->err = ERR_PROTOCOL;
		p->why = "malformed HTTP reply";
		break;
	case EVREQ_HTTP_EOF:
	case EVREQ_HTTP_BUFFER_ERROR:
		p->err = ERR_IO;
		p->why = "cannot reach the node (connection failed or closed)";
		break;
	case EVREQ_HTTP_REQUEST_CANCEL:
		if (!p->err) {
			p->err = ERR_TIMEOUT;
			p->why = "the node did not answer in time";
		}
		break;
	}
	p->req = NULL;
	p->done = true;
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct pending *p = arg;
	struct evbuffer *in;
	size_t n;

	p->req = NULL;
	p->done = true;
	if (p->err)
		return;
	if (!req || evhttp_request_get_response_code(req) == 0) {
		p->err = ERR_IO;
		p->why = "cannot reach the node";
		return;
	}
	if (evhttp_request_get_response_code(req) != 200) {
		p->err = ERR_PROTOCOL;
		p->why = "the node answered with an HTTP error status";
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	if (n > p->max) {
		p->err = ERR_TOO_BIG;
		p->why = "reply too long";
		return;
	}
	if (n)
		evbuffer_remove(in, bbuf_extend(p->reply, n), n);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;

	(void)fd;
	(void)what;
	if (p->done || !p->req)
		return;
	p->err = ERR_TIMEOUT;
	p->why = "the node did not answer in time";
	evhttp_cancel_request(p->req);
	p->req = NULL;
	p->done = true;
}

static void ms_to_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

/* One attempt. */
static int attempt(struct chainrpc_http *h, const char *body, size_t len,
		   size_t max, struct bbuf *reply, const char **why)
{
	struct pending p = { .max = max, .reply = reply };
	struct evhttp_request *req;
	struct event *deadline;
	struct evkeyvalq *hdr;
	struct timeval tv;
	char hostport[INET_ADDRSTRLEN + 8];
	size_t before = reply->len;

	if (!h->conn) {
		h->conn = evhttp_connection_base_new(h->base, NULL, h->host,
						     h->port);
		if (!h->conn) {
			*why = "cannot create an HTTP connection";
			return ERR_IO;
		}
		ms_to_tv(h->timeout_ms, &tv);
		evhttp_connection_set_timeout_tv(h->conn, &tv);
		evhttp_connection_set_max_body_size(h->conn, (ev_ssize_t)max);
		evhttp_connection_set_max_headers_size(h->conn,
						       CHAINRPC_MAX_HEADERS_BYTES);
	}
	req = evhttp_request_new(on_done, &p);
	evhttp_request_set_error_cb(req, on_error);
	hdr = evhttp_request_get_output_headers(req);
	snprintf(hostport, sizeof(hostport), "%s:%u", h->host, h->port);
	evhttp_add_header(hdr, "Host", hostport);
	evhttp_add_header(hdr, "Content-Type", "application/json");
	evhttp_add_header(hdr, "Accept", "application/json");
	evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
	p.req = req;
	if (evhttp_make_request(h->conn, req, EVHTTP_REQ_POST, h->path) != 0) {
		/* evhttp freed req */
		drop_conn(h);
		*why = "cannot send the HTTP request";
		return ERR_IO;
	}
	deadline = evtimer_new(h->base, on_deadline, &p);
	ms_to_tv(h->timeout_ms, &tv);
	evtimer_add(deadline, &tv);
	while (!p.done)
		if (event_base_loop(h->base, EVLOOP_ONCE) < 0)
			break;
	event_free(deadline);
	if (!p.done) {
		if (p.req)
			evhttp_cancel_request(p.req);
		p.err = ERR_INTERNAL;
		p.why = "event loop failure";
	}
	if (p.err) {
		reply->len = before;
		drop_conn(h);		/* a failed connection is not reused */
		*why = p.why;
	}
	return p.err;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Wait ms on the base (timers only: nothing else of ours is pending). */
static void base_wait(struct event_base *base, unsigned ms)
{
	bool woke = false;
	struct event *ev = evtimer_new(base, on_wake, &woke);
	struct timeval tv;

	ms_to_tv(ms, &tv);
	evtimer_add(ev, &tv);
	while (!woke)
		if (event_base_loop(base, EVLOOP_ONCE) < 0)
			break;
	event_free(ev);
}

static int http_exchange(void *ctx, const char *req, size_t req_len,
			 size_t max_reply, struct bbuf *reply, const char **why)
{
	struct chainrpc_http *h = ctx;
	unsigned backoff_ms = 100;
	int r = ERR_IO;

	for (unsigned i = 0; i <= h->retries; i++) {
		if (i) {
			log_info(LD_CHAIN, "RPC attempt %u failed (%s); retrying "
				 "in %u ms", i, *why ? *why : err_str(r),
				 backoff_ms);
			base_wait(h->base, backoff_ms);
			backoff_ms *= 2;
		}
		r = attempt(h, req, req_len, max_reply, reply, why);
		if (r != ERR_IO)	/* only a failed connection is retried */
			break;
	}
	return r;
}

static void http_wait(void *ctx, unsigned ms)
{
	struct chainrpc_http *h = ctx;

	base_wait(h->base, ms);
}

struct chain_transport chainrpc_http_transport(struct chainrpc_http *h)
{
	return (struct chain_transport){ http_exchange, http_wait, h };
}
