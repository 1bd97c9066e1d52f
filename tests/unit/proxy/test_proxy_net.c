/*
 * apps/proxy over the in-process localnet: a child process runs the HTTP
 * and SOCKS proxies, a client tunnel, the static web server published by
 * a server tunnel as "site.i2p", and a second server tunnel ("echo.i2p")
 * in front of a TCP listener of the test itself, which sees exactly what
 * a site gets.  Plain blocking clients check pages byte for byte, ranges,
 * the header filter, address helpers, clearnet refusal, and the error
 * pages and limits for bad, huge, slow and unknown requests.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apps/client/localnet.h"
#include "apps/proxy/addrbook.h"
#include "apps/proxy/proxy.h"
#include "apps/proxy/web.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/time.h"
#include "router/b33.h"
#include "router/dest_keys.h"
#include "router/els2.h"
#include "router/evloop.h"
#include "tests/unit/tharness.h"

#define IO_TIMEOUT_S 60
#define BIG_BYTES (1024 * 1024)

struct tinfo {
	uint16_t http, socks, client, web;
	char site_b32[DEST_B32_CHARS + 1];
	char site_b64[600], echo_b64[600];
	char site_b33[B33_MAX_CHARS + 1];
};

struct tproxy {
	pid_t pid;
	int echo_lis;		/* the test's own "site" behind echo.i2p */
	char root[64];
	bool outproxy;		/* clearnet to echo.i2p as the outproxy */
	bool sub_echo;		/* a subscription to echo.i2p, every 200 ms */
	/* b33: the child's wall clock pinned here (0: the real one), and
	 * site.i2p's encrypted LeaseSet under the key blinded for the day
	 * of wall + b33_day_s (with b33_secret: site_b33 says so) */
	uint64_t wall_ms;
	int64_t b33_day_s;
	/* with bad_day: one that does not open under the key of the day
	 * of wall + bad_day_s */
	bool bad_day;
	int64_t bad_day_s;
	const char *b33_secret;		/* the site's */
	const char *proxy_secret;	/* the proxy's lookup secret */
	/* per-client: the site's LeaseSet opens to want_key only; the
	 * proxy's key; a proxy.site-keys entry for the site (its key and
	 * secret), or for another site with site_auth_other */
	const uint8_t *want_key, *proxy_key;
	bool site_auth, site_auth_other;
	const uint8_t *site_auth_key;
	const char *site_auth_secret;
	struct tinfo in;
};

/* The child's network for b33 names: site.i2p's encrypted LeaseSet is
 * found under one blinded key only (the netDb key of a day and secret),
 * and opens to site.i2p; with has_bad, one under bad_key does not open. */
static struct {
	uint8_t store_key[32];
	struct keys_and_cert site;
	bool has_bad;
	uint8_t bad_key[32];
	bool per_client;		/* opens to want_key only */
	uint8_t want_key[32];
} b33net;

static int b33_lookup_blinded(void *ctx, const struct els2_blinding *bl,
			      const uint8_t *auth_key,
			      struct keys_and_cert *out)
{
	(void)ctx;
	if (b33net.has_bad && memcmp(bl->store_key, b33net.bad_key, 32) == 0)
		return ERR_FORMAT;
	if (memcmp(bl->store_key, b33net.store_key, 32) != 0)
		return ERR_NOT_FOUND;
	if (b33net.per_client &&
	    (!auth_key || memcmp(auth_key, b33net.want_key, 32) != 0))
		return ERR_AUTH;
	*out = b33net.site;
	return 0;
}

/* The proxy.site-keys entry tp asks for, added to cli. */
static void b33_site_auth(const struct tproxy *tp, const struct b33_addr *a,
			  struct proxy_dest *cli)
{
	struct proxy_site_auth sa;

	memset(&sa, 0, sizeof(sa));
	sa.addr = *a;
	if (tp->site_auth_other)
		sa.addr.pk[0] ^= 1;
	if (tp->site_auth_key) {
		sa.has_key = true;
		memcpy(sa.key, tp->site_auth_key, 32);
	}
	if (tp->site_auth_secret) {
		sa.secret_len = strlen(tp->site_auth_secret);
		memcpy(sa.secret, tp->site_auth_secret, sa.secret_len);
	}
	if (proxy_dest_add_site_auth(cli, &sa) != 0 ||
	    proxy_dest_add_site_auth(cli, &sa) != ERR_EXISTS)
		_exit(1);
}

/* site's b33 address into in, and the key its LeaseSet is under; cli
 * gets tp's proxy.site-keys entry. */
static void b33_site(const struct tproxy *tp, const struct keys_and_cert *k,
		     struct tinfo *in, struct proxy_dest *cli)
{
	struct b33_addr a = { .sig_type = 7, .blinded_sig_type = 11 };
	const char *sec = tp->b33_secret;
	struct els2_blinding bl;

	memcpy(a.pk, k->sig_key, 32);
	if (sec)
		a.flags = B33_FLAG_SECRET;
	if (b33_format(&a, in->site_b33, sizeof(in->site_b33)) != 0 ||
	    els2_blinding_derive(k->sig_key, 7,
				 (uint64_t)((int64_t)(tp->wall_ms / 1000) +
					    tp->b33_day_s),
				 (const uint8_t *)sec, sec ? strlen(sec) : 0,
				 &bl) != 0)
		_exit(1);
	memcpy(b33net.store_key, bl.store_key, 32);
	b33net.site = *k;
	if (tp->want_key) {
		b33net.per_client = true;
		memcpy(b33net.want_key, tp->want_key, 32);
	}
	if (tp->site_auth)
		b33_site_auth(tp, &a, cli);
	if (tp->bad_day) {
		if (els2_blinding_derive(k->sig_key, 7,
					 (uint64_t)((int64_t)(tp->wall_ms /
							      1000) +
						    tp->bad_day_s),
					 (const uint8_t *)sec,
					 sec ? strlen(sec) : 0, &bl) != 0)
			_exit(1);
		memcpy(b33net.bad_key, bl.store_key, 32);
		b33net.has_bad = true;
	}
}

static uint8_t big_byte(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9));
}

static void write_file(const char *dir, const char *name, const void *b,
		       size_t n)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (!(f = fopen(p, "wb")) || fwrite(b, 1, n, f) != n)
		abort();
	fclose(f);
}

static void make_root(struct tproxy *tp)
{
	uint8_t *big = xmalloc(BIG_BYTES);
	char p[128];

	snprintf(tp->root, sizeof(tp->root), "/tmp/bits-web-XXXXXX");
	if (!mkdtemp(tp->root))
		abort();
	for (size_t i = 0; i < BIG_BYTES; i++)
		big[i] = big_byte(i);
	write_file(tp->root, "index.html", "<h1>hello</h1>\n", 15);
	write_file(tp->root, "big.bin", big, BIG_BYTES);
	write_file(tp->root, "clip.mp4", big, 4096);
	write_file(tp->root, ".secret", "no", 2);
	snprintf(p, sizeof(p), "%s/sub", tp->root);
	mkdir(p, 0700);
	write_file(p, "a.txt", "a", 1);
	free(big);
}

static void rm_root(struct tproxy *tp)
{
	static const char *const f[] = { "index.html", "big.bin", "clip.mp4",
					 ".secret", "hosts.txt", "sub/a.txt",
					 "sub", "" };
	char p[256];

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tp->root, f[i]);
		if (remove(p) != 0 && i + 1 < sizeof(f) / sizeof(f[0]))
			abort();
	}
	rmdir(tp->root);
}

static int listen_any(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0)
		abort();
	*port = ntohs(sin.sin_port);
	return fd;
}

static void b64_of(const struct keys_and_cert *k, char *out, size_t n)
{
	char *s = dest_b64_format(k);

	snprintf(out, n, "%s", s);
	free(s);
}

/* The child: everything on one loop over localnet. */
static void child(struct tproxy *tp, uint16_t echo_port, int wfd)
{
	struct evloop *el = evloop_new();
	struct localnet *ln = localnet_new(el);
	struct client_net net = localnet_client_net(ln);
	struct addrbook *ab = addrbook_new();
	struct proxy_cfg pc;
	struct web_cfg wc;
	struct proxy *p;
	struct proxy_dest *site, *echo, *cli, *lim;
	struct stream_config lsc;
	struct web *w;
	struct tinfo in = { 0 };

	if (tp->wall_ms) {
		time_set_override(tp->wall_ms);
		net.lookup_blinded = b33_lookup_blinded;
	}
	proxy_cfg_default(&pc);
	pc.lookup_timeout_ms = 1500;
	pc.head_timeout_ms = 1500;
	if (tp->outproxy)
		pc.outproxy = "echo.i2p";
	p = proxy_new(el, &net, ab, &pc);
	web_cfg_default(&wc);
	wc.root = tp->root;
	/* limited.i2p: the same site, 2 connections a minute in all */
	stream_config_default(&lsc);
	lsc.max_total_per_minute = 2;
	if (web_new(el, &wc, &w) != 0 ||
	    proxy_dest_add(p, client_dest_new_random(), NULL, &site) != 0 ||
	    proxy_dest_add(p, client_dest_new_random(), NULL, &echo) != 0 ||
	    proxy_dest_add(p, client_dest_new_random(), NULL, &cli) != 0 ||
	    proxy_serve(p, site, "127.0.0.1", web_port(w)) != 0 ||
	    proxy_serve(p, echo, "127.0.0.1", echo_port) != 0 ||
	    proxy_dest_add(p, client_dest_new_random(), &lsc, &lim) != 0 ||
	    proxy_serve(p, lim, "127.0.0.1", web_port(w)) != 0 ||
	    addrbook_add(ab, "limited.i2p", proxy_dest_pub(lim), false) != 0 ||
	    addrbook_add(ab, "site.i2p", proxy_dest_pub(site), false) != 0 ||
	    addrbook_add(ab, "echo.i2p", proxy_dest_pub(echo), false) != 0 ||
	    proxy_listen(p, PROXY_HTTP, cli, "127.0.0.1", 0, NULL, 0,
			 &in.http) != 0 ||
	    proxy_listen(p, PROXY_SOCKS, cli, "127.0.0.1", 0, NULL, 0,
			 &in.socks) != 0 ||
	    proxy_listen(p, PROXY_CLIENT, cli, "127.0.0.1", 0, "site.i2p", 80,
			 &in.client) != 0)
		_exit(1);
	in.web = web_port(w);
	if (tp->wall_ms)
		b33_site(tp, proxy_dest_pub(site), &in, cli);
	if (tp->proxy_key)
		proxy_dest_set_leaseset_key(cli, tp->proxy_key);
	if (tp->proxy_secret)
		proxy_dest_set_lookup_secret(cli,
					     (const uint8_t *)tp->proxy_secret,
					     strlen(tp->proxy_secret));
	/* a subscription served by site.i2p itself: one plain name, one
	 * line whose signature does not verify */
	{
		char path[128], *b64 = dest_b64_format(proxy_dest_pub(site));
		FILE *f;

		snprintf(path, sizeof(path), "%s/hosts.txt", tp->root);
		if (!(f = fopen(path, "w")))
			_exit(1);
		fprintf(f, "# a feed\nsub.i2p=%s\nforged.i2p=%s#!sig=%.86s\n",
			b64, b64, b64);
		fclose(f);
		free(b64);
		if (tp->sub_echo &&
		    proxy_subscribe(p, cli, "http://echo.i2p/hosts.txt", 0,
				    200) != 0)
			_exit(1);
		if (proxy_subscribe(p, cli, "http://site.i2p/hosts.txt", 0,
				    3600 * 1000) != 0 ||
		    proxy_subscribe(p, cli, "https://site.i2p/", 0, 1) !=
			    ERR_ARG ||
		    proxy_subscribe(p, cli, "http://example.com/", 0, 1) !=
			    ERR_ARG)
			_exit(1);
	}
	dest_b32_format(proxy_dest_pub(site), in.site_b32);
	b64_of(proxy_dest_pub(site), in.site_b64, sizeof(in.site_b64));
	b64_of(proxy_dest_pub(echo), in.echo_b64, sizeof(in.echo_b64));
	if (write(wfd, &in, sizeof(in)) != sizeof(in))
		_exit(1);
	close(wfd);
	evloop_run(el);
	_exit(0);
}

static bool tproxy_start(struct tproxy *tp)
{
	uint16_t echo_port;
	int fds[2];

	make_root(tp);
	tp->echo_lis = listen_any(&echo_port);
	if (pipe(fds) != 0)
		return false;
	if ((tp->pid = fork()) < 0)
		return false;
	if (tp->pid == 0) {
		close(fds[0]);
		child(tp, echo_port, fds[1]);
	}
	close(fds[1]);
	if (read(fds[0], &tp->in, sizeof(tp->in)) != sizeof(tp->in))
		return false;
	close(fds[0]);
	return true;
}

static void tproxy_stop(struct tproxy *tp)
{
	int st;

	kill(tp->pid, SIGTERM);
	waitpid(tp->pid, &st, 0);
	close(tp->echo_lis);
	rm_root(tp);
}

static void timeouts(int fd)
{
	struct timeval tv = { IO_TIMEOUT_S, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int dial(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		abort();
	timeouts(fd);
	return fd;
}

static void put(int fd, const void *b, size_t n)
{
	if (write(fd, b, n) != (ssize_t)n)
		abort();
}

static void puts_fd(int fd, const char *s)
{
	put(fd, s, strlen(s));
}

/* Read until EOF (or the timeout) into r (NUL-terminated). */
static void read_all(int fd, struct bbuf *r)
{
	uint8_t buf[16384];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		bbuf_put(r, buf, (size_t)n);
	bbuf_u8(r, 0);
	r->len--;
}

/* Exactly n bytes. */
static bool read_n(int fd, void *b, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n && (r = read(fd, (uint8_t *)b + got, n - got)) > 0)
		got += (size_t)r;
	return got == n;
}

/* One request on a new connection to port; the whole answer.  An
 * HTTP/1.1 request gets "Connection: close" (the proxy keeps other
 * connections open: test_keep_alive). */
static void txn(uint16_t port, const char *req, struct bbuf *resp)
{
	int fd = dial(port);
	const char *end = strstr(req, "\r\n\r\n");

	bbuf_reset(resp);
	if (end && strstr(req, " HTTP/1.1\r\n") &&
	    strncmp(req, "CONNECT ", 8) != 0) {
		/* in one write: a proxy that refuses the start may close */
		bbuf_put(resp, req, (size_t)(end - req) + 2);
		bbuf_put(resp, "Connection: close\r\n", 19);
		bbuf_put(resp, end + 2, strlen(end + 2));
		put(fd, resp->data, resp->len);
		bbuf_reset(resp);
	} else {
		puts_fd(fd, req);
	}
	read_all(fd, resp);
	close(fd);
}

static bool starts(const struct bbuf *b, const char *s)
{
	return b->len >= strlen(s) && memcmp(b->data, s, strlen(s)) == 0;
}

static bool has(const struct bbuf *b, const char *s)
{
	return b->data && strstr((const char *)b->data, s) != NULL;
}

/* The body after the head. */
static const uint8_t *body(const struct bbuf *b, size_t *n)
{
	const char *e = b->data ? strstr((const char *)b->data, "\r\n\r\n") :
				  NULL;

	if (!e) {
		*n = 0;
		return NULL;
	}
	*n = b->len - (size_t)((const uint8_t *)e + 4 - b->data);
	return (const uint8_t *)e + 4;
}

static void test_http(struct tctx *t)
{
	struct tproxy tp = { 0 };
	struct bbuf r = BBUF_INIT;
	char req[512];
	const uint8_t *bd;
	size_t n;

	T_TRUE(t, tproxy_start(&tp));
	txn(tp.in.http, "GET http://site.i2p/index.html HTTP/1.1\r\n"
			"Host: site.i2p\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "Content-Type: text/html"));
	bd = body(&r, &n);
	T_EQ(t, n, 15);
	T_TRUE(t, bd && memcmp(bd, "<h1>hello</h1>\n", 15) == 0);
	/* by b32 name: the proxy waits for the lookup */
	snprintf(req, sizeof(req), "GET http://%s/ HTTP/1.0\r\n\r\n",
		 tp.in.site_b32);
	txn(tp.in.http, req, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	/* 1 MiB byte for byte */
	txn(tp.in.http, "GET http://site.i2p/big.bin HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	bd = body(&r, &n);
	T_EQ(t, n, BIG_BYTES);
	for (size_t i = 0; bd && i < n; i++)
		if (bd[i] != big_byte(i)) {
			T_EQ(t, i, -1);
			break;
		}
	/* a range, as a video player seeks */
	txn(tp.in.http, "GET http://site.i2p/clip.mp4 HTTP/1.1\r\n"
			"Range: bytes=1000-1999\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 206 Partial Content\r\n"));
	T_TRUE(t, has(&r, "Content-Range: bytes 1000-1999/4096\r\n"));
	T_TRUE(t, has(&r, "Content-Type: video/mp4\r\n"));
	bd = body(&r, &n);
	T_EQ(t, n, 1000);
	for (size_t i = 0; bd && i < n; i++)
		if (bd[i] != big_byte(1000 + i)) {
			T_EQ(t, i, -1);
			break;
		}
	/* the client tunnel: raw bytes to site.i2p:80 */
	txn(tp.in.client, "GET /index.html HTTP/1.0\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	bbuf_free(&r);
	tproxy_stop(&tp);
}

static void socks5_connect(struct tctx *t, int fd, const char *host,
			   uint16_t port, uint8_t want)
{
	uint8_t b[300] = { 5, 1, 0, 3 };
	uint8_t rep[10];
	size_t n = strlen(host);

	put(fd, "\x05\x01\x00", 3);
	T_TRUE(t, read_n(fd, rep, 2));
	T_EQ(t, rep[0], 5);
	T_EQ(t, rep[1], 0);
	b[4] = (uint8_t)n;
	memcpy(b + 5, host, n);
	b[5 + n] = (uint8_t)(port >> 8);
	b[6 + n] = (uint8_t)port;
	put(fd, b, 7 + n);
	T_TRUE(t, read_n(fd, rep, 10));
	T_EQ(t, rep[0], 5);
	T_EQ(t, rep[1], want);
}

static void test_socks(struct tctx *t)
{
	struct tproxy tp = { 0 };
	struct bbuf r = BBUF_INIT;
	uint8_t rep[10];
	uint8_t s4[64] = { 4, 1, 0, 80, 0, 0, 0, 1, 'u', 0 };
	int fd;

	T_TRUE(t, tproxy_start(&tp));
	fd = dial(tp.in.socks);
	socks5_connect(t, fd, "site.i2p", 80, 0);
	puts_fd(fd, "GET /index.html HTTP/1.0\r\n\r\n");
	read_all(fd, &r);
	close(fd);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	/* b32 */
	bbuf_reset(&r);
	fd = dial(tp.in.socks);
	socks5_connect(t, fd, tp.in.site_b32, 80, 0);
	puts_fd(fd, "GET / HTTP/1.0\r\n\r\n");
	read_all(fd, &r);
	close(fd);
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	/* 4a */
	bbuf_reset(&r);
	fd = dial(tp.in.socks);
	memcpy(s4 + 10, "site.i2p", 9);
	put(fd, s4, 19);
	T_TRUE(t, read_n(fd, rep, 8));
	T_EQ(t, rep[1], 90);
	puts_fd(fd, "GET / HTTP/1.0\r\n\r\n");
	read_all(fd, &r);
	close(fd);
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	/* clearnet: a name and an address, refused without a connection */
	fd = dial(tp.in.socks);
	socks5_connect(t, fd, "example.com", 443, 2);
	close(fd);
	fd = dial(tp.in.socks);
	put(fd, "\x05\x01\x00", 3);
	T_TRUE(t, read_n(fd, rep, 2));
	put(fd, "\x05\x01\x00\x01\x5d\xb8\xd8\x22\x00\x50", 10);
	T_TRUE(t, read_n(fd, rep, 10));
	T_EQ(t, rep[1], 2);
	close(fd);
	fd = dial(tp.in.socks);
	put(fd, "\x04\x01\x00\x50\x5d\xb8\xd8\x22\x00", 9);
	T_TRUE(t, read_n(fd, rep, 8));
	T_EQ(t, rep[1], 91);
	close(fd);
	/* unknown names, a username/password-only client, garbage */
	fd = dial(tp.in.socks);
	socks5_connect(t, fd, "nobody.i2p", 80, 4);
	close(fd);
	fd = dial(tp.in.socks);
	put(fd, "\x05\x01\x02", 3);
	T_TRUE(t, read_n(fd, rep, 2));
	T_EQ(t, rep[1], 0xff);
	close(fd);
	bbuf_reset(&r);
	txn(tp.in.socks, "GET / HTTP/1.0\r\n\r\n", &r);
	T_EQ(t, r.len, 0);
	bbuf_free(&r);
	tproxy_stop(&tp);
}

static void test_errors(struct tctx *t)
{
	struct tproxy tp = { 0 };
	struct bbuf r = BBUF_INIT;
	char req[512];
	char *huge;
	size_t n = 0;
	int fd;

	T_TRUE(t, tproxy_start(&tp));
	txn(tp.in.http, "GET http://example.com/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 403 Forbidden\r\n"));
	T_TRUE(t, has(&r, "Outproxy not configured"));
	txn(tp.in.http, "CONNECT example.com:443 HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 403 "));
	txn(tp.in.http, "GET http://10.0.0.1/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 403 "));
	txn(tp.in.http, "GET http://nobody.i2p/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 404 "));
	T_TRUE(t, has(&r, "Unknown host"));
	/* a b32 nobody serves: the lookup times out */
	snprintf(req, sizeof(req), "GET http://%.52s.b32.i2p/ HTTP/1.1\r\n\r\n",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	txn(tp.in.http, req, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 504 "));
	T_TRUE(t, has(&r, "LeaseSet not found"));
	txn(tp.in.http, "GET /relative HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 400 "));
	txn(tp.in.http, "GET https://site.i2p/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 400 "));
	txn(tp.in.http, "BAD\x01 x HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 400 "));
	txn(tp.in.http, "POST http://site.i2p/ HTTP/1.1\r\n"
			"Transfer-Encoding: chunked\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 501 "));
	/* b33: an encrypted LeaseSet address */
	txn(tp.in.http, "GET http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b32.i2p/ "
			"HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 "));
	T_FALSE(t, starts(&r, "HTTP/1.1 200"));
	/* a huge head */
	huge = xmalloc(40000);
	n = (size_t)snprintf(huge, 40000, "GET http://site.i2p/ HTTP/1.1\r\n");
	while (n + 20 < 40000)
		n += (size_t)snprintf(huge + n, 40000 - n, "X-Pad: aaaaaaaa\r\n");
	huge[n] = 0;
	fd = dial(tp.in.http);
	put(fd, huge, n);
	bbuf_reset(&r);
	read_all(fd, &r);
	close(fd);
	T_TRUE(t, starts(&r, "HTTP/1.1 431 "));
	free(huge);
	/* a slow client: half a request line, then nothing */
	fd = dial(tp.in.http);
	puts_fd(fd, "GET http://site");
	bbuf_reset(&r);
	read_all(fd, &r);
	close(fd);
	T_TRUE(t, starts(&r, "HTTP/1.1 408 "));
	/* the proxy is still fine */
	txn(tp.in.http, "GET http://site.i2p/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	bbuf_free(&r);
	tproxy_stop(&tp);
}

/* Accept what echo.i2p's server tunnel dials: the request head the site
 * gets. */
static int accept_site(struct tproxy *tp)
{
	int fd = accept(tp->echo_lis, NULL, NULL);

	if (fd < 0)
		abort();
	timeouts(fd);
	return fd;
}

static void read_head(int fd, struct bbuf *b)
{
	char ch;

	bbuf_reset(b);
	while (read(fd, &ch, 1) == 1) {
		bbuf_u8(b, (uint8_t)ch);
		if (b->len >= 4 && memcmp(b->data + b->len - 4, "\r\n\r\n",
					  4) == 0)
			break;
	}
	bbuf_u8(b, 0);
	b->len--;
}

static void test_filter_and_connect(struct tctx *t)
{
	struct tproxy tp = { 0 };
	struct bbuf r = BBUF_INIT, h = BBUF_INIT;
	char buf[8];
	int fd, s;

	T_TRUE(t, tproxy_start(&tp));
	fd = dial(tp.in.http);
	puts_fd(fd, "POST http://echo.i2p/form?a=1 HTTP/1.1\r\n"
		    "Host: echo.i2p\r\nUser-Agent: Mozilla/5.0 (X11; Linux)\r\n"
		    "X-Forwarded-For: 192.168.1.7\r\nVia: 1.1 corp\r\n"
		    "Referer: http://elsewhere.i2p/page\r\n"
		    "Accept-Language: fr-CA\r\nProxy-Connection: keep-alive\r\n"
		    "Content-Length: 4\r\n\r\nbodyGET http://echo.i2p/ "
		    "HTTP/1.1\r\nX-Smuggled: yes\r\n\r\n");
	s = accept_site(&tp);
	read_head(s, &h);
	T_TRUE(t, starts(&h, "POST /form?a=1 HTTP/1.1\r\nHost: echo.i2p\r\n"));
	T_TRUE(t, has(&h, "User-Agent: MYOB/6.66 (AN/ON)\r\n"));
	T_TRUE(t, has(&h, "Connection: close\r\n"));
	T_FALSE(t, has(&h, "Mozilla"));
	T_FALSE(t, has(&h, "192.168"));
	T_FALSE(t, has(&h, "corp"));
	T_FALSE(t, has(&h, "elsewhere"));
	T_FALSE(t, has(&h, "fr-CA"));
	T_FALSE(t, has(&h, "keep-alive"));
	T_TRUE(t, read_n(s, buf, 4));
	T_TRUE(t, memcmp(buf, "body", 4) == 0);
	puts_fd(s, "HTTP/1.0 200 OK\r\n\r\nseen");
	close(s);
	read_all(fd, &r);
	close(fd);
	T_TRUE(t, starts(&r, "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n"
			     "seen"));
	/* the smuggled second request never reached the site */
	{
		struct timeval tv = { 1, 0 };
		fd_set rf;

		FD_ZERO(&rf);
		FD_SET(tp.echo_lis, &rf);
		T_EQ(t, select(tp.echo_lis + 1, &rf, NULL, NULL, &tv), 0);
	}
	/* CONNECT: raw bytes both ways after the 200 */
	fd = dial(tp.in.http);
	puts_fd(fd, "CONNECT echo.i2p:443 HTTP/1.1\r\nHost: echo.i2p:443\r\n"
		    "\r\n");
	s = accept_site(&tp);
	read_head(fd, &h);
	T_TRUE(t, starts(&h, "HTTP/1.1 200 "));
	put(fd, "\x16\x03\x01ping", 7);
	T_TRUE(t, read_n(s, buf, 7));
	T_TRUE(t, memcmp(buf, "\x16\x03\x01ping", 7) == 0);
	put(s, "pong", 4);
	T_TRUE(t, read_n(fd, buf, 4));
	T_TRUE(t, memcmp(buf, "pong", 4) == 0);
	/* half-close: the client's EOF reaches the site, which still
	 * answers */
	shutdown(fd, SHUT_WR);
	T_EQ(t, read(s, buf, 1), 0);
	put(s, "last", 4);
	close(s);
	bbuf_reset(&r);
	read_all(fd, &r);
	T_EQ(t, r.len, 4);
	T_TRUE(t, r.len == 4 && memcmp(r.data, "last", 4) == 0);
	close(fd);
	bbuf_free(&r);
	bbuf_free(&h);
	tproxy_stop(&tp);
}

static void test_address_helper(struct tctx *t)
{
	struct tproxy tp = { 0 };
	struct bbuf r = BBUF_INIT;
	char *req = xmalloc(2048);

	T_TRUE(t, tproxy_start(&tp));
	txn(tp.in.http, "GET http://new.i2p/index.html HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 404 "));
	snprintf(req, 2048, "GET http://new.i2p/index.html?x=1&"
		 "i2paddresshelper=%s HTTP/1.1\r\n\r\n", tp.in.site_b64);
	txn(tp.in.http, req, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 302 Found\r\n"));
	T_TRUE(t, has(&r, "Location: http://new.i2p/index.html?x=1\r\n"));
	txn(tp.in.http, "GET http://new.i2p/index.html HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	/* a helper never replaces a name the book has */
	snprintf(req, 2048, "GET http://site.i2p/?i2paddresshelper=%s "
		 "HTTP/1.1\r\n\r\n", tp.in.echo_b64);
	txn(tp.in.http, req, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 409 "));
	txn(tp.in.http, "GET http://x.i2p/?i2paddresshelper=AAAA HTTP/1.1\r\n"
			"\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 400 "));
	free(req);
	bbuf_free(&r);
	tproxy_stop(&tp);
}

/* The subscription (fetched through the overlay from site.i2p) adds
 * sub.i2p and not the line with a bad signature. */
static void test_subscription(struct tctx *t)
{
	struct tproxy tp = { 0 };
	struct bbuf r = BBUF_INIT;
	int i;

	T_TRUE(t, tproxy_start(&tp));
	for (i = 0; i < 600; i++) {
		txn(tp.in.http, "GET http://sub.i2p/ HTTP/1.1\r\n\r\n", &r);
		if (starts(&r, "HTTP/1.1 200 "))
			break;
		usleep(100 * 1000);
	}
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	txn(tp.in.http, "GET http://forged.i2p/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 404 "));
	bbuf_free(&r);
	tproxy_stop(&tp);
}

/* Conditional subscription fetches: the first GET is plain; after a 200
 * with validators, the next ones carry them, and a 304 leaves the names
 * as they were. */
static void test_subscription_conditional(struct tctx *t)
{
	struct tproxy tp = { .sub_echo = true };
	struct bbuf h = BBUF_INIT, r = BBUF_INIT;
	char body[1024];
	int s, n;

	T_TRUE(t, tproxy_start(&tp));
	s = accept_site(&tp);
	read_head(s, &h);
	T_TRUE(t, starts(&h, "GET /hosts.txt HTTP/1.0\r\n"));
	T_FALSE(t, has(&h, "If-None-Match"));
	T_FALSE(t, has(&h, "If-Modified-Since"));
	n = snprintf(body, sizeof(body), "cond.i2p=%s\n", tp.in.site_b64);
	dprintf(s, "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nLast-Modified: Sun, "
		"29 Nov 2026 10:00:00 GMT\r\nContent-Length: %d\r\n\r\n%s",
		n, body);
	close(s);
	for (int round = 0; round < 2; round++) {
		s = accept_site(&tp);
		read_head(s, &h);
		T_TRUE(t, has(&h, "If-None-Match: \"v1\"\r\n"));
		T_TRUE(t, has(&h, "If-Modified-Since: Sun, 29 Nov 2026 "
				  "10:00:00 GMT\r\n"));
		puts_fd(s, "HTTP/1.1 304 Not Modified\r\n\r\n");
		close(s);
	}
	/* the name from the 200 is still there */
	txn(tp.in.http, "GET http://cond.i2p/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	bbuf_free(&h);
	bbuf_free(&r);
	tproxy_stop(&tp);
}

/* A server tunnel's inbound limit: the third connection in a minute is
 * refused (a RESET: the 502 page). */
static void test_inbound_limit(struct tctx *t)
{
	struct tproxy tp = { 0 };
	struct bbuf r = BBUF_INIT;

	T_TRUE(t, tproxy_start(&tp));
	txn(tp.in.http, "GET http://limited.i2p/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	txn(tp.in.http, "GET http://limited.i2p/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	txn(tp.in.http, "GET http://limited.i2p/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 502 "));
	T_TRUE(t, has(&r, "refused"));
	/* the same site without the limit still answers */
	txn(tp.in.http, "GET http://site.i2p/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	bbuf_free(&r);
	tproxy_stop(&tp);
}

/* With an outproxy, clearnet HTTP goes through the overlay to it as a
 * proxy request (absolute URI, filtered), and CONNECT as a CONNECT. */
static void test_outproxy(struct tctx *t)
{
	struct tproxy tp = { .outproxy = true };
	struct bbuf r = BBUF_INIT, h = BBUF_INIT;
	char buf[8];
	int fd, s;

	T_TRUE(t, tproxy_start(&tp));
	fd = dial(tp.in.http);
	puts_fd(fd, "GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n"
		    "X-Forwarded-For: 10.9.9.9\r\nUser-Agent: Mine\r\n\r\n");
	s = accept_site(&tp);
	read_head(s, &h);
	T_TRUE(t, starts(&h, "GET http://example.com/x HTTP/1.1\r\n"));
	T_TRUE(t, has(&h, "User-Agent: MYOB/6.66 (AN/ON)\r\n"));
	T_FALSE(t, has(&h, "10.9.9.9"));
	T_FALSE(t, has(&h, "Mine"));
	puts_fd(s, "HTTP/1.0 200 OK\r\n\r\nclearnet");
	close(s);
	read_all(fd, &r);
	close(fd);
	T_TRUE(t, has(&r, "clearnet"));
	fd = dial(tp.in.http);
	puts_fd(fd, "CONNECT example.com:443 HTTP/1.1\r\n\r\n");
	s = accept_site(&tp);
	read_head(s, &h);
	T_TRUE(t, starts(&h, "CONNECT example.com:443 HTTP/1.1\r\n"));
	puts_fd(s, "HTTP/1.1 200 Connection established\r\n\r\n");
	read_head(fd, &h);
	T_TRUE(t, starts(&h, "HTTP/1.1 200 "));
	put(fd, "tls!", 4);
	T_TRUE(t, read_n(s, buf, 4));
	T_TRUE(t, memcmp(buf, "tls!", 4) == 0);
	close(s);
	close(fd);
	/* SOCKS5 to a clearnet name: a CONNECT to the outproxy, the SOCKS
	 * reply only after its 200, then raw bytes (and the bytes that
	 * came right behind its answer) */
	{
		uint8_t rep[10];

		fd = dial(tp.in.socks);
		put(fd, "\x05\x01\x00", 3);
		T_TRUE(t, read_n(fd, rep, 2));
		put(fd, "\x05\x01\x00\x03\x0b" "example.com\x01\xbb", 18);
		s = accept_site(&tp);
		read_head(s, &h);
		T_TRUE(t, starts(&h, "CONNECT example.com:443 HTTP/1.1\r\n"));
		puts_fd(s, "HTTP/1.1 200 OK\r\n\r\nhi");
		T_TRUE(t, read_n(fd, rep, 10));
		T_EQ(t, rep[1], 0);
		T_TRUE(t, read_n(fd, buf, 2));
		T_TRUE(t, memcmp(buf, "hi", 2) == 0);
		put(fd, "ping", 4);
		T_TRUE(t, read_n(s, buf, 4));
		T_TRUE(t, memcmp(buf, "ping", 4) == 0);
		close(s);
		close(fd);
		/* an outproxy that says no: a SOCKS refusal */
		fd = dial(tp.in.socks);
		put(fd, "\x05\x01\x00", 3);
		T_TRUE(t, read_n(fd, rep, 2));
		put(fd, "\x05\x01\x00\x01\x0a\x00\x00\x01\x00\x50", 10);
		s = accept_site(&tp);
		read_head(s, &h);
		T_TRUE(t, starts(&h, "CONNECT 10.0.0.1:80 HTTP/1.1\r\n"));
		puts_fd(s, "HTTP/1.1 403 Forbidden\r\n\r\n");
		T_TRUE(t, read_n(fd, rep, 10));
		T_EQ(t, rep[1], 4);
		close(s);
		close(fd);
	}
	bbuf_free(&r);
	bbuf_free(&h);
	tproxy_stop(&tp);
}

static void test_web(struct tctx *t)
{
	struct tproxy tp = { 0 };
	struct bbuf r = BBUF_INIT;

	T_TRUE(t, tproxy_start(&tp));
	txn(tp.in.web, "GET /sub/ HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 403 "));
	txn(tp.in.web, "GET /sub/a.txt HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 "));
	T_TRUE(t, has(&r, "Content-Type: text/plain"));
	txn(tp.in.web, "GET /.secret HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 404 "));
	txn(tp.in.web, "GET /sub/../.secret HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 404 "));
	txn(tp.in.web, "GET /%2e%2e/etc/passwd HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 404 "));
	txn(tp.in.web, "GET /clip.mp4 HTTP/1.1\r\nRange: bytes=5000-\r\n\r\n",
	    &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 416 "));
	T_TRUE(t, has(&r, "Content-Range: bytes */4096"));
	txn(tp.in.web, "GET /clip.mp4 HTTP/1.1\r\nRange: bytes=-96\r\n\r\n", &r);
	T_TRUE(t, has(&r, "Content-Range: bytes 4000-4095/4096"));
	txn(tp.in.web, "HEAD /big.bin HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 "));
	T_TRUE(t, has(&r, "Content-Length: 1048576\r\n"));
	T_TRUE(t, has(&r, "Accept-Ranges: bytes"));
	T_TRUE(t, has(&r, "\r\n\r\n") && r.data[r.len - 1] == '\n');
	txn(tp.in.web, "DELETE /big.bin HTTP/1.1\r\n\r\n", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 405 "));
	bbuf_free(&r);
	tproxy_stop(&tp);
}

static void test_web_pure(struct tctx *t)
{
	struct bbuf p = BBUF_INIT;
	uint64_t a = 0, b = 0;

	T_STREQ(t, web_mime_type("a/b/film.MP4"), "video/mp4");
	T_STREQ(t, web_mime_type("x.webm"), "video/webm");
	T_STREQ(t, web_mime_type("index.html"), "text/html; charset=utf-8");
	T_STREQ(t, web_mime_type("noext"), "application/octet-stream");
	T_STREQ(t, web_mime_type("dir.png/file"), "application/octet-stream");
	T_OK(t, web_range_parse("bytes=0-0", 9, 10, &a, &b));
	T_EQ(t, a, 0);
	T_EQ(t, b, 0);
	T_OK(t, web_range_parse("bytes=5-", 8, 10, &a, &b));
	T_EQ(t, a, 5);
	T_EQ(t, b, 9);
	T_OK(t, web_range_parse("bytes=3-100", 11, 10, &a, &b));
	T_EQ(t, b, 9);
	T_OK(t, web_range_parse("bytes=-3", 8, 10, &a, &b));
	T_EQ(t, a, 7);
	T_OK(t, web_range_parse("bytes=-30", 9, 10, &a, &b));
	T_EQ(t, a, 0);
	T_ERR(t, web_range_parse("bytes=10-", 9, 10, &a, &b), ERR_RANGE);
	T_ERR(t, web_range_parse("bytes=-0", 8, 10, &a, &b), ERR_RANGE);
	T_ERR(t, web_range_parse("bytes=5-4", 9, 10, &a, &b), ERR_FORMAT);
	T_ERR(t, web_range_parse("bytes=a-", 8, 10, &a, &b), ERR_FORMAT);
	T_ERR(t, web_range_parse("bytes=1-2,4-5", 13, 10, &a, &b),
	      ERR_UNSUPPORTED);
	T_ERR(t, web_range_parse("items=1-2", 9, 10, &a, &b), ERR_UNSUPPORTED);
	T_ERR(t, web_range_parse("bytes=99999999999999999999-", 27, 10, &a,
				 &b), ERR_FORMAT);
	T_OK(t, web_path_decode("/a%20b/c.txt?q=1", 16, &p));
	T_STREQ(t, (const char *)p.data, "a b/c.txt");
	bbuf_reset(&p);
	T_OK(t, web_path_decode("/", 1, &p));
	T_STREQ(t, (const char *)p.data, "");
	bbuf_reset(&p);
	T_OK(t, web_path_decode("/dir/", 5, &p));
	T_STREQ(t, (const char *)p.data, "dir/");
	bbuf_reset(&p);
	T_ERR(t, web_path_decode("/a/../b", 7, &p), ERR_FORMAT);
	bbuf_reset(&p);
	T_ERR(t, web_path_decode("/a/%2E%2e/b", 11, &p), ERR_FORMAT);
	bbuf_reset(&p);
	T_ERR(t, web_path_decode("/a%00b", 6, &p), ERR_FORMAT);
	bbuf_reset(&p);
	T_ERR(t, web_path_decode("/a%2", 4, &p), ERR_FORMAT);
	bbuf_reset(&p);
	T_ERR(t, web_path_decode("/a\\b", 4, &p), ERR_FORMAT);
	bbuf_reset(&p);
	T_ERR(t, web_path_decode("//etc", 5, &p), ERR_FORMAT);
	bbuf_reset(&p);
	T_ERR(t, web_path_decode("a", 1, &p), ERR_FORMAT);
	bbuf_free(&p);
}

/* Read one response whose body has a Content-Length: head and body. */
static void read_resp(int fd, struct bbuf *b)
{
	const char *cl;
	size_t n = 0;
	uint8_t *p;

	read_head(fd, b);
	cl = strstr((const char *)b->data, "Content-Length: ");
	if (cl)
		n = strtoul(cl + 16, NULL, 10);
	p = xmalloc(n + 1);
	if (read_n(fd, p, n))
		bbuf_put(b, p, n);
	free(p);
	bbuf_u8(b, 0);
	b->len--;
}

/* Keep-alive to the client: three requests on one socket, the last two
 * sent at once; each response head filtered and saying keep-alive until
 * the client asks to close. */
static void test_keep_alive(struct tctx *t)
{
	struct tproxy tp = { 0 };
	struct bbuf r = BBUF_INIT;
	const uint8_t *bd;
	size_t n;
	int fd;

	T_TRUE(t, tproxy_start(&tp));
	fd = dial(tp.in.http);
	puts_fd(fd, "GET http://site.i2p/index.html HTTP/1.1\r\n\r\n");
	read_resp(fd, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "Connection: keep-alive\r\n"));
	bd = body(&r, &n);
	T_TRUE(t, n == 15 && memcmp(bd, "<h1>hello</h1>\n", 15) == 0);
	bbuf_reset(&r);
	puts_fd(fd, "HEAD http://site.i2p/big.bin HTTP/1.1\r\n\r\n"
		    "GET http://site.i2p/clip.mp4 HTTP/1.1\r\n"
		    "Range: bytes=10-19\r\nConnection: close\r\n\r\n");
	read_head(fd, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "Connection: keep-alive\r\n"));
	bbuf_reset(&r);
	read_all(fd, &r);
	close(fd);
	T_TRUE(t, starts(&r, "HTTP/1.1 206 Partial Content\r\n"));
	T_TRUE(t, has(&r, "Connection: close\r\n"));
	bd = body(&r, &n);
	T_EQ(t, n, 10);
	for (size_t i = 0; bd && i < n; i++)
		T_EQ(t, bd[i], big_byte(10 + i));
	bbuf_free(&r);
	tproxy_stop(&tp);
}

/* GET http://B33/ through the HTTP proxy of child tp (started here)
 * into r. */
static void b33_get_tp(struct tctx *t, struct tproxy *tp, struct bbuf *r)
{
	char req[200];

	T_TRUE(t, tproxy_start(tp));
	T_TRUE(t, strlen(tp->in.site_b33) > DEST_B32_CHARS);
	snprintf(req, sizeof(req), "GET http://%s/index.html HTTP/1.1\r\n\r\n",
		 tp->in.site_b33);
	txn(tp->in.http, req, r);
	tproxy_stop(tp);
}

/* GET http://B33/ through the HTTP proxy of a child whose clock reads
 * wall_ms, with site.i2p's encrypted LeaseSet under the key of the day
 * day_s away; the response in r. */
static void b33_get(struct tctx *t, uint64_t wall_ms, int64_t day_s,
		    const char *site_secret, const char *proxy_secret,
		    struct bbuf *r)
{
	struct tproxy tp = { .wall_ms = wall_ms, .b33_day_s = day_s,
			     .b33_secret = site_secret,
			     .proxy_secret = proxy_secret };

	b33_get_tp(t, &tp, r);
}

/* 2026-03-01 00:00:00 UTC */
#define MIDNIGHT_MS 1772323200000ull
#define MIN_MS (60 * 1000ull)

/* The key blinding changes at midnight UTC.  Within 15 minutes of it
 * the proxy also tries the other day's key: at 23:55 a site already
 * under the new day's key is found, and at 00:05 one still under the
 * old day's; at noon only the day's own key is tried (tomorrow's is not
 * found: 504), and it finds the site there. */
static void test_b33_midnight(struct tctx *t)
{
	struct bbuf r = BBUF_INIT;
	struct tproxy tp;

	b33_get(t, MIDNIGHT_MS - 5 * MIN_MS, 86400, NULL, NULL, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	b33_get(t, MIDNIGHT_MS + 5 * MIN_MS, -86400, NULL, NULL, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	b33_get(t, MIDNIGHT_MS + 5 * MIN_MS, 0, NULL, NULL, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	b33_get(t, MIDNIGHT_MS + 720 * MIN_MS, 86400, NULL, NULL, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 504 "));
	T_TRUE(t, has(&r, "LeaseSet not found"));
	b33_get(t, MIDNIGHT_MS + 720 * MIN_MS, 0, NULL, NULL, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	/* at 00:05 the day before's does not open (i2pd's used to end
	 * before its inner LeaseSet did, which we refused): with today's
	 * found it is never tried, and without, today's is waited for
	 * (504 at the deadline), not given up on at once (502) */
	tp = (struct tproxy){ .wall_ms = MIDNIGHT_MS + 5 * MIN_MS,
			      .bad_day = true, .bad_day_s = -86400 };
	b33_get_tp(t, &tp, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	tp = (struct tproxy){ .wall_ms = MIDNIGHT_MS + 5 * MIN_MS,
			      .b33_day_s = 2 * 86400,
			      .bad_day = true, .bad_day_s = -86400 };
	b33_get_tp(t, &tp, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 504 "));
	bbuf_free(&r);
}

/* A b33 address with "secret required": without a lookup secret the
 * proxy says 403 at once; with the site's secret it finds and fetches
 * it; with another secret it looks under another key (504).  An address
 * without the flag is blinded without the proxy's secret. */
static void test_b33_secret(struct tctx *t)
{
	struct bbuf r = BBUF_INIT;
	uint64_t noon = MIDNIGHT_MS + 720 * MIN_MS;

	b33_get(t, noon, 0, "open sesame", NULL, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 403 "));
	T_TRUE(t, has(&r, "lookup secret"));
	b33_get(t, noon, 0, "open sesame", "open sesame", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	b33_get(t, noon, 0, "open sesame", "open sesame!", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 504 "));
	/* the proxy's secret is for addresses that say so only */
	b33_get(t, noon, 0, NULL, "open sesame", &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	bbuf_free(&r);
}

/* proxy.site-keys: a site's own secret serves it where the proxy has
 * another or none; a site's own client key opens its per-client
 * LeaseSet where the proxy's key does not (403 "no access" without the
 * entry); an entry for another site changes nothing. */
static void test_b33_site_auth(struct tctx *t)
{
	static const uint8_t k1[32] = { 1, 2, 3 }, k2[32] = { 9, 8, 7 };
	uint64_t noon = MIDNIGHT_MS + 720 * MIN_MS;
	struct bbuf r = BBUF_INIT;
	struct tproxy tp;

	tp = (struct tproxy){ .wall_ms = noon, .b33_secret = "open sesame",
			      .proxy_secret = "not it", .site_auth = true,
			      .site_auth_secret = "open sesame" };
	b33_get_tp(t, &tp, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	tp = (struct tproxy){ .wall_ms = noon, .b33_secret = "open sesame",
			      .site_auth = true,
			      .site_auth_secret = "open sesame" };
	b33_get_tp(t, &tp, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	/* the entry for another site: the proxy has no secret (403) */
	tp = (struct tproxy){ .wall_ms = noon, .b33_secret = "open sesame",
			      .site_auth = true, .site_auth_other = true,
			      .site_auth_secret = "open sesame" };
	b33_get_tp(t, &tp, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 403 "));
	T_TRUE(t, has(&r, "lookup secret"));

	/* per-client: the proxy's key k2 does not open it */
	tp = (struct tproxy){ .wall_ms = noon, .want_key = k1,
			      .proxy_key = k2 };
	b33_get_tp(t, &tp, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 403 "));
	tp = (struct tproxy){ .wall_ms = noon, .want_key = k1,
			      .proxy_key = k2, .site_auth = true,
			      .site_auth_key = k1 };
	b33_get_tp(t, &tp, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 200 OK\r\n"));
	T_TRUE(t, has(&r, "<h1>hello</h1>"));
	tp = (struct tproxy){ .wall_ms = noon, .want_key = k1,
			      .site_auth = true, .site_auth_other = true,
			      .site_auth_key = k1 };
	b33_get_tp(t, &tp, &r);
	T_TRUE(t, starts(&r, "HTTP/1.1 403 "));
	bbuf_free(&r);
}

/* ---- a server tunnel's stream gone while its site sends ---------------- */

#define GONE_SEND_MAX (64u << 20)	/* what the site tries to send */
#define GONE_BOUND (32u << 20)	/* socket buffers hold far less */

struct gone {
	struct evloop *el;
	struct evloop_timer *tick;
	struct stream *s;
	int lis, site;
	unsigned phase;
	bool connected, closed;
	size_t sent;
	uint64_t deadline;
};

static void gone_event(void *ctx, struct stream *s, unsigned ev)
{
	struct gone *g = ctx;

	(void)s;
	if (ev & STREAM_EV_CONNECTED)
		g->connected = true;
}

/* The site's side, one step a tick: accept the proxy's connection, see
 * the request and the EOF the stream's CLOSE gave, reset the stream, then
 * send until the proxy closes the socket or GONE_SEND_MAX went in. */
static void gone_tick(void *arg)
{
	static uint8_t buf[64 * 1024];
	struct gone *g = arg;
	char in[16];
	ssize_t n;

	if (time_mono_ms() > g->deadline)
		return evloop_break(g->el);
	switch (g->phase) {
	case 0:		/* the proxy dials the site */
		if (g->connected &&
		    (g->site = accept(g->lis, NULL, NULL)) >= 0) {
			stream_write(g->s, "GET", 3);
			stream_close(g->s);
			g->phase = 1;
		}
		break;
	case 1:		/* "GET", then EOF: the proxy shut its writing side */
		n = recv(g->site, in, sizeof(in), MSG_DONTWAIT);
		if (n == 0) {
			stream_reset(g->s);
			g->phase = 2;
		}
		break;
	case 2:
		while (g->sent < GONE_SEND_MAX) {
			n = send(g->site, buf, sizeof(buf),
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				g->sent += (size_t)n;
				continue;
			}
			if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
				g->closed = true;
			break;
		}
		if (g->closed || g->sent >= GONE_SEND_MAX)
			return evloop_break(g->el);
		break;
	}
	evloop_timer_arm(g->tick, 2);
}

static void test_serve_stream_gone(struct tctx *t)
{
	struct gone g = { 0 };
	struct localnet *ln;
	struct client_net net;
	struct addrbook *ab = addrbook_new();
	struct proxy_cfg pc;
	struct proxy *p;
	struct proxy_dest *srv;
	struct client_dest *d = client_dest_new_random();
	struct client_stream_sink cs;
	struct stream_signer sg;
	struct stream_config sc;
	struct stream_mgr *mgr;
	struct client_rx rx = { 0 };
	uint16_t port;

	g.el = evloop_new();
	ln = localnet_new(g.el);
	net = localnet_client_net(ln);
	proxy_cfg_default(&pc);
	p = proxy_new(g.el, &net, ab, &pc);
	g.lis = listen_any(&port);
	T_OK(t, fcntl(g.lis, F_SETFL, O_NONBLOCK));
	g.site = -1;
	T_OK(t, proxy_dest_add(p, client_dest_new_random(), NULL, &srv));
	T_OK(t, proxy_serve(p, srv, "127.0.0.1", port));
	client_dest_signer(d, &sg);
	stream_config_default(&sc);
	cs.net = net;
	cs.from = d;
	mgr = stream_mgr_new(&sc, &sg, client_stream_sink(&cs), g.el);
	rx.mgr = mgr;
	T_OK(t, net.attach(net.ctx, d, &rx));
	T_OK(t, stream_connect(mgr, proxy_dest_pub(srv), 0, 0, gone_event,
			       &g, &g.s));
	g.tick = evloop_timer_new(g.el, gone_tick, &g);
	g.deadline = time_mono_ms() + IO_TIMEOUT_S * 1000;
	evloop_timer_arm(g.tick, 0);
	evloop_run(g.el);
	T_EQ(t, g.phase, 2u);
	/* the proxy closed the socket; it did not read the rest into
	 * memory (it read all GONE_SEND_MAX before the fix) */
	T_TRUE(t, g.closed);
	T_TRUE(t, g.sent < GONE_BOUND);
	stream_release(g.s);
	if (g.site >= 0)
		close(g.site);
	close(g.lis);
	evloop_timer_free(g.tick);
	proxy_free(p);
	net.detach(net.ctx, d);
	stream_mgr_free(mgr);
	client_dest_free(d);
	addrbook_free(ab);
	localnet_free(ln);
	evloop_free(g.el);
}

const struct test_case proxy_net_tests[] = {
	{ "serve_stream_gone", test_serve_stream_gone, TT_FORK },
	{ "b33_midnight", test_b33_midnight, TT_FORK },
	{ "b33_secret", test_b33_secret, TT_FORK },
	{ "b33_site_auth", test_b33_site_auth, TT_FORK },
	{ "keep_alive", test_keep_alive, TT_FORK },
	{ "web_pure", test_web_pure, 0 },
	{ "http", test_http, TT_FORK },
	{ "socks", test_socks, TT_FORK },
	{ "errors", test_errors, TT_FORK },
	{ "filter_and_connect", test_filter_and_connect, TT_FORK },
	{ "address_helper", test_address_helper, TT_FORK },
	{ "web", test_web, TT_FORK },
	{ "subscription", test_subscription, TT_FORK },
	{ "subscription_conditional", test_subscription_conditional,
	  TT_FORK },
	{ "inbound_limit", test_inbound_limit, TT_FORK },
	{ "outproxy", test_outproxy, TT_FORK },
	{ NULL, NULL, 0 }
};
