/*
 * The local JSON API (apps/api/api.h) on libevent's evhttp.  GET
 * /api/status asks every registered section to describe itself and
 * returns one JSON object.  Nothing here blocks: sections only read
 * in-memory state.
 */
#include "config.h"
#include "apps/api/api.h"
#include "router/evloop.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct api_section {
	const char *name;
	api_section_fn fn;
	void *ctx;
};

struct api {
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	uint16_t port;
	struct api_section sections[API_MAX_SECTIONS];
	size_t n_sections;
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

static void reply_json(struct evhttp_request *req, int code,
		       const char *reason, json_t *body)
{
	struct evbuffer *buf = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char *text = json_dumps(body, JSON_COMPACT);

	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (buf && text)
		evbuffer_add(buf, text, strlen(text));
	evhttp_send_reply(req, code, reason, buf);
	free(text);
	if (buf)
		evbuffer_free(buf);
}

static void reply_error(struct evhttp_request *req, int code,
			const char *reason)
{
	json_t *o = json_pack("{s:s}", "error", reason);

	reply_json(req, code, reason, o);
	json_decref(o);
}

static void handle_status(struct api *a, struct evhttp_request *req)
{
	json_t *root = json_object();

	for (size_t i = 0; i < a->n_sections; i++) {
		json_t *obj = json_object();
		a->sections[i].fn(a->sections[i].ctx, obj);
		json_object_set_new(root, a->sections[i].name, obj);
	}
	reply_json(req, HTTP_OK, "OK", root);
	json_decref(root);
}

static void handle(struct evhttp_request *req, void *arg)
{
	struct api *a = arg;
	const char *host = evhttp_find_header(
		evhttp_request_get_input_headers(req), "Host");
	const char *uri = evhttp_request_get_uri(req);

	if (!host_is_loopback(host)) {
		log_info_rl(60, LD_APP, "api: refused a request for a non-loopback host");
		reply_error(req, 403, "Forbidden");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		reply_error(req, 405, "Method Not Allowed");
		return;
	}
	if (uri && (strcmp(uri, "/api/status") == 0 ||
		    strncmp(uri, "/api/status?", 12) == 0)) {
		handle_status(a, req);
		return;
	}
	reply_error(req, HTTP_NOTFOUND, "Not Found");
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
	log_notice(LD_APP, "api: listening on http://127.0.0.1:%u/api/status",
		   a->port);
	*out = a;
	return 0;
}

uint16_t api_port(const struct api *a)
{
	return a->port;
}

int api_add_section(struct api *a, const char *name, api_section_fn fn,
		    void *ctx)
{
	if (a->n_sections >= API_MAX_SECTIONS)
		return ERR_LIMIT;
	a->sections[a->n_sections++] = (struct api_section){ name, fn, ctx };
	return 0;
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

void api_free(struct api *a)
{
	if (!a)
		return;
	evhttp_free(a->http);
	free(a);
}
