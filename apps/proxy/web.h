/*
 * The built-in static web server: serves one folder on a loopback TCP
 * port, so a server tunnel (proxy_serve()) publishes it as a hidden
 * service with no other software.
 *
 * GET and HEAD; MIME types by file extension; single byte ranges
 * ("Range: bytes=a-b", "a-", "-n": 206 / 416, RFC 9110 §14) so browsers
 * can seek in video; "index.html" for a folder, a listing only when
 * enabled; ".." segments, hidden files (a segment starting with '.') and
 * anything but regular files and folders are refused.  One request per
 * connection ("Connection: close").  Thread: the loop thread only.
 */
#ifndef APPS_PROXY_WEB_H
#define APPS_PROXY_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

struct evloop;
struct web;	/* opaque */

#define WEB_MAX_CONNS_DEFAULT 256
#define WEB_HEAD_TIMEOUT_MS 30000

struct web_cfg {
	const char *root;		/* the folder served (copied) */
	const char *host;		/* IPv4 literal, "127.0.0.1" */
	uint16_t port;			/* 0: any free port */
	bool listing;			/* folder listings (off by default) */
	unsigned max_conns;
	uint32_t head_timeout_ms;
};

void web_cfg_default(struct web_cfg *c);
/* ERR_IO when the port cannot be bound, ERR_NOT_FOUND for a root that is
 * not a folder.  *out is owned by the caller. */
int web_new(struct evloop *el, const struct web_cfg *cfg, struct web **out);
uint16_t web_port(const struct web *w);
void web_free(struct web *w);

/* ---- pure parts (tests, fuzzing) ---- */

/* The MIME type for a file name ("application/octet-stream" if unknown). */
const char *web_mime_type(const char *name);
/*
 * A "Range" header value for a file of size bytes: 0 with [*first,
 * *last] for one satisfiable range, ERR_RANGE when unsatisfiable (416),
 * ERR_UNSUPPORTED for several ranges or another unit, ERR_FORMAT when
 * malformed (both: serve the whole file, as RFC 9110 lets us).
 */
int web_range_parse(const char *v, size_t n, uint64_t size, uint64_t *first,
		    uint64_t *last);
/*
 * The path part of a request target (before '?'), percent-decoded, as a
 * path relative to the root ("" for the root itself), into out (appended
 * NUL-terminated).  ERR_FORMAT for '..', a hidden segment, a NUL, a
 * backslash, a bad escape or a target not starting with '/'.
 */
int web_path_decode(const char *target, size_t n, struct bbuf *out);

#endif /* APPS_PROXY_WEB_H */
