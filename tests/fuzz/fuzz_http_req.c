/*
 * libFuzzer target: HTTP request and response heads and proxy targets
 * (apps/proxy/http.h).  Every parsed string must lie in the input; a
 * parsed head, rewritten by the proxy's filter, must parse again with
 * the same method, "Connection: close" and none of the headers the
 * filter drops; a rewritten response head must parse again with the
 * same status, no Server or Date, and its Connection answer; the
 * address-helper split must keep every other byte.
 */
#include "config.h"
#include "apps/proxy/http.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const char *buf, size_t n, struct http_str s)
{
	if (s.n && (s.p < buf || s.p + s.n > buf + n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_req r, r2;
	struct http_url u;
	struct bbuf out = BBUF_INIT, v = BBUF_INIT, p = BBUF_INIT;

	struct http_resp rs;

	if (http_resp_parse(buf, size, &rs) == 0) {
		if (rs.head_len > size || rs.status < 100 || rs.status > 999)
			abort();
		for (size_t i = 0; i < rs.nh; i++) {
			inside(buf, size, rs.h[i].name);
			inside(buf, size, rs.h[i].value);
		}
		/* the response filter: it parses again, with the same status,
		 * without Server and Date, and a final answer says whether
		 * the connection stays */
		bool ka = http_resp_rewrite(buf, &rs, size & 1, true, &out);
		struct http_resp rs2;

		if (out.len <= HTTP_HEAD_MAX_BYTES &&
		    http_resp_parse((const char *)out.data, out.len, &rs2) == 0) {
			const struct http_str *c =
				http_resp_header(&rs2, "Connection");

			if (rs2.status != rs.status ||
			    http_resp_header(&rs2, "Server") ||
			    http_resp_header(&rs2, "Date") ||
			    (rs.status >= 200 &&
			     (!c || !http_str_ieq(*c, ka ? "keep-alive" :
							  "close"))))
				abort();
		}
		bbuf_free(&out);
	}
	if (http_req_parse(buf, size, &r) != 0)
		return 0;
	if (r.head_len > size || r.nh > HTTP_HEADERS_MAX)
		abort();
	inside(buf, size, r.method);
	inside(buf, size, r.target);
	for (size_t i = 0; i < r.nh; i++) {
		inside(buf, size, r.h[i].name);
		inside(buf, size, r.h[i].value);
	}
	(void)http_url_parse(r.target, true, &u);
	if (http_url_parse(r.target, false, &u) != 0)
		return 0;
	if (memchr(u.host, 0, sizeof(u.host)) == NULL)
		abort();
	http_req_rewrite(&r, &u, NULL, &out);
	if (out.len < HTTP_HEAD_MAX_BYTES &&
	    http_req_parse((const char *)out.data, out.len, &r2) == 0) {
		if (r2.method.n != r.method.n ||
		    memcmp(r2.method.p, r.method.p, r.method.n) != 0 ||
		    !http_req_header(&r2, "Connection") ||
		    !http_str_ieq(*http_req_header(&r2, "Connection"),
				  "close") ||
		    http_req_header(&r2, "Via") ||
		    http_req_header(&r2, "X-Forwarded-For") ||
		    http_req_header(&r2, "Proxy-Authorization"))
			abort();
	}
	if (http_addresshelper_take(u.path, &v, &p)) {
		if (v.len == 0 || v.data[v.len - 1] != 0 || p.len > u.path.n)
			abort();
	}
	bbuf_free(&out);
	bbuf_free(&v);
	bbuf_free(&p);
	return 0;
}
