/*
 * apps/proxy/http: request heads (whole, byte by byte, malformed, huge),
 * proxy targets, the header filter, address-helper links and error pages.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "apps/proxy/http.h"
#include "crypto/base/err.h"
#include "tests/unit/tharness.h"

static bool contains(const struct bbuf *b, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= b->len; i++)
		if (memcmp(b->data + i, s, n) == 0)
			return true;
	return false;
}

static void test_parse(struct tctx *t)
{
	static const char req[] =
		"GET http://site.i2p/a?b HTTP/1.1\r\n"
		"Host: site.i2p\r\nUser-Agent:  Browser 1.0  \r\n"
		"X-Empty:\r\n\r\nBODY";
	struct http_req r;

	T_OK(t, http_req_parse(req, sizeof(req) - 1, &r));
	T_EQ(t, r.head_len, sizeof(req) - 1 - 4);
	T_TRUE(t, http_str_ieq(r.method, "GET"));
	T_EQ(t, r.target.n, strlen("http://site.i2p/a?b"));
	T_EQ(t, r.minor, 1);
	T_EQ(t, r.nh, 3);
	T_TRUE(t, http_str_ieq(*http_req_header(&r, "user-agent"),
			       "Browser 1.0"));
	T_EQ(t, http_req_header(&r, "x-empty")->n, 0);
	T_TRUE(t, http_req_header(&r, "Cookie") == NULL);
	/* every prefix of the head needs more */
	for (size_t i = 0; i < r.head_len; i++)
		T_EQ(t, http_req_parse(req, i, &r), ERR_TRUNCATED);
	/* bare LF lines too */
	T_OK(t, http_req_parse("GET / HTTP/1.0\nA: b\n\n", 21, &r));
	T_EQ(t, r.minor, 0);
	T_EQ(t, r.nh, 1);
}

static void test_parse_bad(struct tctx *t)
{
	static const char *const bad[] = {
		"GET / HTTP/2.0\r\n\r\n",
		"GET /  HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1 \r\n\r\n",
		" GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
		"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
		"GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n",
		"G\x01T / HTTP/1.1\r\n\r\n",
		"GET /\x7f HTTP/1.1\r\n\r\n",
	};
	static char big[HTTP_HEAD_MAX_BYTES + 100];
	struct http_req r;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EQ(t, http_req_parse(bad[i], strlen(bad[i]), &r), ERR_FORMAT);
	/* garbage is refused before a whole head (a slow client) */
	T_EQ(t, http_req_parse("\x16\x03\x01", 3, &r), ERR_FORMAT);
	/* a head that never ends: too big, not truncated */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	while (n + 10 < sizeof(big)) {
		memcpy(big + n, "A: aaaa\r\n", 9);
		n += 9;
	}
	T_EQ(t, http_req_parse(big, n, &r), ERR_TOO_BIG);
	/* too many headers */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= HTTP_HEADERS_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "H%d: v\r\n", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
	T_EQ(t, http_req_parse(big, n, &r), ERR_TOO_BIG);
}

static struct http_str S(const char *s)
{
	return (struct http_str){ s, strlen(s) };
}

static void test_url(struct tctx *t)
{
	struct http_url u;

	T_OK(t, http_url_parse(S("http://Site.I2P:8080/x/y?q=1"), false, &u));
	T_STREQ(t, u.host, "site.i2p");
	T_EQ(t, u.port, 8080);
	T_EQ(t, u.path.n, strlen("/x/y?q=1"));
	T_FALSE(t, u.https);
	T_OK(t, http_url_parse(S("http://a.i2p"), false, &u));
	T_EQ(t, u.port, 80);
	T_EQ(t, u.path.n, 1);
	T_OK(t, http_url_parse(S("http://a.i2p?x"), false, &u));
	T_STREQ(t, u.host, "a.i2p");
	T_OK(t, http_url_parse(S("https://a.com/"), false, &u));
	T_TRUE(t, u.https);
	T_EQ(t, u.port, 443);
	T_OK(t, http_url_parse(S("abc.b32.i2p:443"), true, &u));
	T_EQ(t, u.port, 443);
	T_STREQ(t, u.host, "abc.b32.i2p");

	T_ERR(t, http_url_parse(S("/relative"), false, &u), ERR_FORMAT);
	T_ERR(t, http_url_parse(S("ftp://a.i2p/"), false, &u), ERR_FORMAT);
	T_ERR(t, http_url_parse(S("http://user@a.i2p/"), false, &u),
	      ERR_FORMAT);
	T_ERR(t, http_url_parse(S("http://[::1]/"), false, &u), ERR_FORMAT);
	T_ERR(t, http_url_parse(S("http://a.i2p:0/"), false, &u), ERR_FORMAT);
	T_ERR(t, http_url_parse(S("http://a.i2p:65536/"), false, &u),
	      ERR_FORMAT);
	T_ERR(t, http_url_parse(S("http://a.i2p:/"), false, &u), ERR_FORMAT);
	T_ERR(t, http_url_parse(S("http:///"), false, &u), ERR_FORMAT);
	T_ERR(t, http_url_parse(S("a.i2p"), true, &u), ERR_FORMAT);
	{
		char longhost[400] = "http://";

		memset(longhost + 7, 'a', 300);
		memcpy(longhost + 307, ".i2p/", 6);
		T_ERR(t, http_url_parse(S(longhost), false, &u), ERR_TOO_BIG);
	}
}

static void test_rewrite(struct tctx *t)
{
	static const char req[] =
		"POST http://site.i2p:81/p?x HTTP/1.1\r\n"
		"Host: evil\r\nUser-Agent: Firefox/1.2 (Linux; me)\r\n"
		"X-Forwarded-For: 10.1.2.3\r\nVia: 1.1 squid\r\n"
		"Forwarded: for=10.1.2.3\r\nFrom: me@example.org\r\n"
		"Proxy-Connection: keep-alive\r\nConnection: keep-alive\r\n"
		"Proxy-Authorization: Basic xx\r\nX-Real-IP: 10.1.2.3\r\n"
		"Accept-Language: de-CH\r\nReferer: http://other.i2p/\r\n"
		"Cookie: a=b\r\nContent-Length: 3\r\n\r\n";
	static const char same[] =
		"GET http://site.i2p/ HTTP/1.0\r\n"
		"Referer: http://site.i2p/index.html\r\n\r\n";
	struct http_req r;
	struct http_url u;
	struct bbuf b = BBUF_INIT;

	T_OK(t, http_req_parse(req, sizeof(req) - 1, &r));
	T_OK(t, http_url_parse(r.target, false, &u));
	http_req_rewrite(&r, &u, NULL, &b);
	T_TRUE(t, b.len > 4 && memcmp(b.data, "POST /p?x HTTP/1.1\r\n"
				      "Host: site.i2p:81\r\n", 38) == 0);
	T_TRUE(t, contains(&b, "User-Agent: " HTTP_PROXY_USER_AGENT "\r\n"));
	T_TRUE(t, contains(&b, "Connection: close\r\n"));
	T_TRUE(t, contains(&b, "Cookie: a=b\r\n"));
	T_TRUE(t, contains(&b, "Content-Length: 3\r\n"));
	T_TRUE(t, b.len > 4 && memcmp(b.data + b.len - 4, "\r\n\r\n", 4) == 0);
	T_FALSE(t, contains(&b, "10.1.2.3"));
	T_FALSE(t, contains(&b, "squid"));
	T_FALSE(t, contains(&b, "me@"));
	T_FALSE(t, contains(&b, "Firefox"));
	T_FALSE(t, contains(&b, "keep-alive"));
	T_FALSE(t, contains(&b, "Basic"));
	T_FALSE(t, contains(&b, "de-CH"));
	T_FALSE(t, contains(&b, "other.i2p"));
	T_FALSE(t, contains(&b, "evil"));
	bbuf_reset(&b);
	T_OK(t, http_req_parse(same, sizeof(same) - 1, &r));
	T_OK(t, http_url_parse(r.target, false, &u));
	http_req_rewrite(&r, &u, NULL, &b);
	T_TRUE(t, contains(&b, "GET / HTTP/1.0\r\nHost: site.i2p\r\n"));
	T_TRUE(t, contains(&b, "Referer: http://site.i2p/index.html\r\n"));
	bbuf_free(&b);
}

static void test_helper(struct tctx *t)
{
	struct bbuf v = BBUF_INIT, p = BBUF_INIT;

	T_TRUE(t, http_addresshelper_take(S("/a?x=1&i2paddresshelper=AB%7ECD"
					    "&y=2#frag"), &v, &p));
	T_STREQ(t, (const char *)v.data, "AB~CD");
	T_EQ(t, p.len, strlen("/a?x=1&y=2#frag"));
	T_MEMEQ(t, p.data, "/a?x=1&y=2#frag", p.len);
	bbuf_reset(&v);
	bbuf_reset(&p);
	T_TRUE(t, http_addresshelper_take(S("/?i2paddresshelper=Q"), &v, &p));
	T_STREQ(t, (const char *)v.data, "Q");
	T_EQ(t, p.len, 1);
	bbuf_reset(&v);
	bbuf_reset(&p);
	T_FALSE(t, http_addresshelper_take(S("/a?i2paddresshelperx=1"), &v,
					   &p));
	bbuf_reset(&p);
	T_FALSE(t, http_addresshelper_take(S("/a#?i2paddresshelper=1"), &v,
					   &p));
	bbuf_free(&v);
	bbuf_free(&p);
}

static void test_error_page(struct tctx *t)
{
	struct bbuf b = BBUF_INIT;

	http_error_page(&b, 404, "Not Found", "Unknown host",
			"<script>alert(1)</script> & co");
	T_TRUE(t, b.len > 30 &&
		       memcmp(b.data, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
	T_TRUE(t, contains(&b, "Content-Type: text/html"));
	T_TRUE(t, contains(&b, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
	T_FALSE(t, contains(&b, "<script>"));
	bbuf_free(&b);
}

static void test_resp(struct tctx *t)
{
	static const char ok[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain"
				 "\r\nX: y\r\n\r\nbody";
	static const char *const bad[] = {
		"HTTP/2.0 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 099 x\r\n\r\n", "HTTP/1.1 200x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nbad header\r\n\r\n", "<html>",
	};
	struct http_resp r;

	T_OK(t, http_resp_parse(ok, sizeof(ok) - 1, &r));
	T_EQ(t, r.status, 200);
	T_EQ(t, r.minor, 0);
	T_EQ(t, r.nh, 2);
	T_EQ(t, r.head_len, sizeof(ok) - 1 - 4);
	T_TRUE(t, http_str_ieq(*http_resp_header(&r, "content-type"),
			       "text/plain"));
	T_OK(t, http_resp_parse("HTTP/1.1 404\r\n\r\n", 16, &r));
	T_EQ(t, r.status, 404);
	for (size_t i = 0; i < r.head_len; i++)
		T_EQ(t, http_resp_parse("HTTP/1.1 404\r\n\r\n", i, &r),
		     ERR_TRUNCATED);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EQ(t, http_resp_parse(bad[i], strlen(bad[i]), &r),
		     ERR_FORMAT);
}

/* The response head the client gets: the server's software and clock and
 * hop-by-hop headers gone, keep-alive only when the body is delimited. */
static void test_resp_rewrite(struct tctx *t)
{
	static const char cl[] =
		"HTTP/1.1 200 OK\r\nServer: nginx/1.2\r\nDate: Sun, 01 Jan "
		"2026 00:00:00 GMT\r\nX-Powered-By: PHP\r\nX-Runtime: 0.1"
		"\r\nConnection: close\r\nKeep-Alive: 5\r\nProxy: x\r\n"
		"Content-Length: 4\r\nContent-Type: text/plain\r\n\r\nbody";
	static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
				      "gzip, chunked\r\n\r\n";
	static const char open_end[] = "HTTP/1.1 200 OK\r\nContent-Type: a"
				       "\r\n\r\n";
	static const char old[] = "HTTP/1.0 200 OK\r\nContent-Length: 0"
				  "\r\n\r\n";
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	static const char nobody[] = "HTTP/1.1 304 Not Modified\r\n\r\n";
	struct http_resp r;
	struct bbuf b = BBUF_INIT;

	T_OK(t, http_resp_parse(cl, sizeof(cl) - 1, &r));
	T_TRUE(t, http_resp_rewrite(cl, &r, false, true, &b));
	T_TRUE(t, b.len > 16 && memcmp(b.data, "HTTP/1.1 200 OK\r\n", 17) == 0);
	T_FALSE(t, contains(&b, "nginx"));
	T_FALSE(t, contains(&b, "Date"));
	T_FALSE(t, contains(&b, "PHP"));
	T_FALSE(t, contains(&b, "X-Runtime"));
	T_FALSE(t, contains(&b, "Keep-Alive: 5"));
	T_FALSE(t, contains(&b, "Proxy"));
	T_FALSE(t, contains(&b, "close"));
	T_TRUE(t, contains(&b, "Content-Length: 4\r\n"));
	T_TRUE(t, contains(&b, "Content-Type: text/plain\r\n"));
	T_TRUE(t, contains(&b, "Connection: keep-alive\r\n\r\n"));
	T_FALSE(t, contains(&b, "body"));
	/* the client did not ask */
	bbuf_reset(&b);
	T_FALSE(t, http_resp_rewrite(cl, &r, false, false, &b));
	T_TRUE(t, contains(&b, "Connection: close\r\n\r\n"));
	/* chunked last: delimited; no length: the close ends it */
	T_OK(t, http_resp_parse(chunked, sizeof(chunked) - 1, &r));
	T_TRUE(t, http_resp_delimited(&r, false));
	T_OK(t, http_resp_parse(open_end, sizeof(open_end) - 1, &r));
	T_FALSE(t, http_resp_delimited(&r, false));
	T_TRUE(t, http_resp_delimited(&r, true));	/* HEAD */
	bbuf_reset(&b);
	T_FALSE(t, http_resp_rewrite(open_end, &r, false, true, &b));
	T_TRUE(t, contains(&b, "Connection: close\r\n"));
	/* HTTP/1.0 servers: no keep-alive */
	T_OK(t, http_resp_parse(old, sizeof(old) - 1, &r));
	bbuf_reset(&b);
	T_FALSE(t, http_resp_rewrite(old, &r, false, true, &b));
	/* 1xx: no Connection header; 304: no body */
	T_OK(t, http_resp_parse(cont, sizeof(cont) - 1, &r));
	bbuf_reset(&b);
	(void)http_resp_rewrite(cont, &r, false, true, &b);
	T_EQ(t, b.len, sizeof(cont) - 1);
	T_OK(t, http_resp_parse(nobody, sizeof(nobody) - 1, &r));
	T_TRUE(t, http_resp_delimited(&r, false));
	bbuf_free(&b);
}

const struct test_case proxy_http_tests[] = {
	{ "resp", test_resp, 0 },
	{ "resp_rewrite", test_resp_rewrite, 0 },
	{ "parse", test_parse, 0 },
	{ "parse_bad", test_parse_bad, 0 },
	{ "url", test_url, 0 },
	{ "rewrite", test_rewrite, 0 },
	{ "helper", test_helper, 0 },
	{ "error_page", test_error_page, 0 },
	{ NULL, NULL, 0 }
};
