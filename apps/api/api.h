/*
 * The router's local JSON API on 127.0.0.1 (libevent evhttp).  Today it
 * serves GET /api/status, an object whose members are filled by the
 * subsystems that registered a section; the web console issue adds login
 * tokens, CSRF protection and more endpoints on the same server.
 *
 * Only loopback is ever bound, and requests whose Host header is not a
 * loopback name are refused (DNS rebinding).  Loop thread only.
 */
#ifndef APPS_API_API_H
#define APPS_API_API_H

#include <stdint.h>

struct evloop;
struct json_t;
struct api;	/* opaque */

#define API_MAX_SECTIONS 16
#define API_MAX_BODY_BYTES (256 * 1024)

/* Fill obj (a JSON object the API owns) with one section's members. */
typedef void (*api_section_fn)(void *ctx, struct json_t *obj);

/*
 * Listen on 127.0.0.1:port.  ERR_IO when the port cannot be bound.  On
 * success *out is the caller's; free it with api_free().
 */
int api_start(struct evloop *el, uint16_t port, struct api **out);
/* The port actually bound (useful when port 0 was asked for). */
uint16_t api_port(const struct api *a);
/* Register section name (a static string); ctx is borrowed and must stay
 * valid until api_remove_section() or api_free().  ERR_LIMIT when full. */
int api_add_section(struct api *a, const char *name, api_section_fn fn,
		    void *ctx);
void api_remove_section(struct api *a, const char *name);
/* Stop listening and release a.  Accepts NULL. */
void api_free(struct api *a);

#endif /* APPS_API_API_H */
