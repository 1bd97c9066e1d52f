/*
 * bits get: fetch a content through the local bitsd's swarm (its
 * streaming endpoint on 127.0.0.1, docs/swarm.md §3a), showing a progress
 * bar and, at the end, what each peer gave.
 *
 *   bits get HASH --key K [--port P] [--peer DEST]... [--output FILE]
 *            [--quiet]
 *
 * POST /swarm/HASH starts the fetch (with the peers as seed hints), then
 * GET /content/HASH at once: the endpoint sends the decrypted file in
 * order as the chunks come in (the fetch goes in streaming order), and it
 * is written as it comes (stdout without --output); nothing is read back
 * at the end.  Meanwhile GET /swarm/HASH every GET_POLL_MS feeds the bar
 * (not with --quiet), and once more at the end the per-peer table.
 * Blocking sockets and poll(2): this is a command, not the daemon.
 */
#include "config.h"
#include "apps/bits_get.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/time.h"
#include "router/b33.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define GET_DEFAULT_PORT 7670
/* The bar's refresh (one GET /swarm/HASH each). */
#define GET_POLL_MS 100
#define GET_PEERS_MAX 8
#define GET_REPLY_MAX_BYTES (1u << 20)	/* a stats reply */
#define GET_BAR_WIDTH 30
#define GET_IO_BYTES (256 * 1024)	/* a read of the content */

struct get_args {
	const char *hash, *key, *output;
	const char *peers[GET_PEERS_MAX];
	unsigned npeers;
	uint16_t port;
	bool quiet;
};

static int get_usage(void)
{
	fputs("usage: bits get HASH --key K [--port P] [--peer DEST]...\n"
	      "           [--output FILE] [--quiet]\n", stderr);
	return 2;
}

/* The status of a reply head starting "HTTP/1.x " (at least 12 bytes);
 * -1 when it is not three digits. */
static int http_status(const char *head)
{
	uint64_t v;

	return dec_decode(&v, 999, head + 9, 3) == 0 ? (int)v : -1;
}

static int connect_local(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int bits_http_do(uint16_t port, const char *req, int *status, int out_fd,
		 char **body, uint64_t *body_len)
{
	char *buf = xmalloc(65536 + 1);
	size_t len = 0, hl;
	uint64_t total = 0;
	char *end = NULL;
	ssize_t n;
	int fd = connect_local(port), r = ERR_IO;

	if (fd < 0 || fsutil_write_all(fd, req, strlen(req)) != 0)
		goto out;
	while (!end && len < 65536 &&
	       (n = read(fd, buf + len, 65536 - len)) > 0) {
		len += (size_t)n;
		buf[len] = 0;
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end || len < 12 || strncmp(buf, "HTTP/1.", 7) != 0) {
		r = ERR_FORMAT;
		goto out;
	}
	*status = http_status(buf);
	hl = (size_t)(end + 4 - buf);
	if (out_fd >= 0) {
		if (fsutil_write_all(out_fd, buf + hl, len - hl) != 0)
			goto out;
		total = len - hl;
		while ((n = read(fd, buf, 65536)) > 0) {
			if (fsutil_write_all(out_fd, buf, (size_t)n) != 0)
				goto out;
			total += (uint64_t)n;
		}
	} else {
		size_t cap = len - hl + 65536;
		char *b = xmalloc(cap + 1);
		memcpy(b, buf + hl, len - hl);
		total = len - hl;
		while (total < GET_REPLY_MAX_BYTES &&
		       (n = read(fd, b + total, cap - total)) > 0) {
			total += (uint64_t)n;
			if (total == cap) {
				cap *= 2;
				b = xrealloc(b, cap + 1);
			}
		}
		b[total] = 0;
		*body = b;
	}
	if (body_len)
		*body_len = total;
	r = n < 0 ? ERR_IO : 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

static void show_bar(json_t *st, double mbs)
{
	json_int_t have = json_integer_value(json_object_get(st, "have"));
	json_int_t chunks = json_integer_value(json_object_get(st, "chunks"));
	size_t npeers = json_array_size(json_object_get(st, "peers"));
	int fill = chunks > 0 ? (int)(have * GET_BAR_WIDTH / chunks) : 0;
	char bar[GET_BAR_WIDTH + 1];

	for (int i = 0; i < GET_BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[GET_BAR_WIDTH] = 0;
	fprintf(stderr, "\r[%s] %3d%%  %lld/%lld chunks  %6.2f MB/s  %zu "
		"peer%s ", bar, chunks > 0 ? (int)(have * 100 / chunks) : 0,
		(long long)have, (long long)chunks, mbs, npeers,
		npeers == 1 ? "" : "s");
	fflush(stderr);
}

static void show_peers(json_t *st)
{
	json_t *peers = json_object_get(st, "peers"), *p;
	size_t i;

	fprintf(stderr, "%-16s %12s %12s %8s\n", "peer", "down", "up",
		"has");
	json_array_foreach(peers, i, p) {
		const char *d = json_string_value(json_object_get(p, "dest"));
		fprintf(stderr, "%.16s %12lld %12lld %8lld\n", d ? d : "?",
			(long long)json_integer_value(
				json_object_get(p, "bytes_down")),
			(long long)json_integer_value(
				json_object_get(p, "bytes_up")),
			(long long)json_integer_value(
				json_object_get(p, "have")));
	}
}

bool bits_hash_arg(const char *s, char hex[HEX_ENC_LEN(32)])
{
	uint8_t h[32];

	if (!b32_hash_parse(s, strlen(s), h))
		return false;
	hex_encode(hex, HEX_ENC_LEN(32), h, 32);
	return true;
}

/* The content reply: its header, then its body written to out. */
struct get_reply {
	int fd;				/* the connection */
	char *buf;			/* GET_IO_BYTES + 1 */
	size_t hlen;			/* header bytes so far */
	bool have_hdr;
	int status;
	uint64_t length;		/* Content-Length; UINT64_MAX: none */
	uint64_t got;			/* body bytes written */
	int out;			/* -1 until the 200 */
};

/* Before a message: end the bar's line. */
static void bar_break(const struct get_args *a)
{
	if (!a->quiet)
		fputc('\n', stderr);
}

/* The value of header name (with its colon) in hdr, or NULL. */
static const char *header_value(const char *hdr, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = strstr(hdr, "\r\n"); l; l = strstr(l, "\r\n")) {
		l += 2;
		if (strncasecmp(l, name, n) == 0)
			return l + n + strspn(l + n, " \t");
	}
	return NULL;
}

/* The reply's header is in: check it and open the output. */
static int reply_header(struct get_reply *g, const struct get_args *a,
			char *end)
{
	const char *cl;
	size_t body;

	*end = 0;
	if (g->hlen < 12 || strncmp(g->buf, "HTTP/1.", 7) != 0) {
		bar_break(a);
		fputs("bits: the swarm's answer is not HTTP\n", stderr);
		return -1;
	}
	g->have_hdr = true;
	g->status = http_status(g->buf);
	if (g->status != 200) {
		bar_break(a);
		fprintf(stderr, "bits: the content was refused (%d%s)\n",
			g->status, g->status == 403 ? ": wrong key" : "");
		return -1;
	}
	g->length = UINT64_MAX;
	if ((cl = header_value(g->buf, "Content-Length:")) != NULL &&
	    dec_decode(&g->length, UINT64_MAX - 1, cl,
		       strspn(cl, "0123456789")) != 0)
		g->length = UINT64_MAX;	/* unknown */
	g->out = a->output ? open(a->output, O_WRONLY | O_CREAT | O_TRUNC |
				  O_CLOEXEC, 0644) : STDOUT_FILENO;
	if (g->out < 0) {
		bar_break(a);
		perror(a->output);
		return -1;
	}
	body = g->hlen - (size_t)(end + 4 - g->buf);
	if (body && fsutil_write_all(g->out, end + 4, body) != 0)
		return -1;
	g->got = body;
	return 0;
}

/* Read what the reply has: 1 (more to come), 0 (its end), -1 (said). */
static int reply_read(struct get_reply *g, const struct get_args *a)
{
	ssize_t n;
	char *end;

	if (!g->have_hdr) {
		n = read(g->fd, g->buf + g->hlen, GET_IO_BYTES - g->hlen);
		if (n <= 0)
			goto cut;
		g->hlen += (size_t)n;
		g->buf[g->hlen] = 0;
		if ((end = strstr(g->buf, "\r\n\r\n")) != NULL)
			return reply_header(g, a, end) == 0 ? 1 : -1;
		if (g->hlen == GET_IO_BYTES)
			goto cut;	/* no header is this long */
		return 1;
	}
	if ((n = read(g->fd, g->buf, GET_IO_BYTES)) < 0)
		goto cut;
	if (n == 0)
		return 0;
	if (fsutil_write_all(g->out, g->buf, (size_t)n) != 0) {
		bar_break(a);
		perror(a->output ? a->output : "stdout");
		return -1;
	}
	g->got += (uint64_t)n;
	return 1;
cut:
	bar_break(a);
	fputs("bits: the swarm stopped answering\n", stderr);
	return -1;
}

/* GET /swarm/HASH into *st (replacing it) and the bar. */
static int poll_stats(const struct get_args *a, const char *hash,
		      uint64_t t0, json_t **st)
{
	char req[256], *body = NULL;
	json_t *j = NULL;
	int status = 0;

	snprintf(req, sizeof(req), "GET /swarm/%s HTTP/1.0\r\n"
		 "Host: 127.0.0.1\r\n\r\n", hash);
	if (bits_http_do(a->port, req, &status, -1, &body, NULL) != 0 ||
	    status != 200 || !(j = json_loads(body, 0, NULL))) {
		free(body);
		fprintf(stderr, "\nbits: the swarm stopped answering\n");
		return -1;
	}
	free(body);
	json_decref(*st);
	*st = j;
	show_bar(j, (double)json_integer_value(json_object_get(j,
		 "bytes_down")) / 1e3 / (double)(time_mono_ms() - t0 + 1));
	return 0;
}

static int run_get(const struct get_args *a)
{
	char hash[HEX_ENC_LEN(32)], req[2048], *body = NULL;
	struct get_reply g = { .fd = -1, .out = -1 };
	json_t *st = NULL;
	uint64_t t0 = time_mono_ms(), next = t0;
	int status = 0, r = 1, k;
	size_t off;

	if (!bits_hash_arg(a->hash, hash) || strlen(a->key) != 64 ||
	    strspn(a->key, "0123456789abcdefABCDEF") != 64)
		return get_usage();
	off = (size_t)snprintf(req, sizeof(req), "POST /swarm/%s", hash);
	for (unsigned i = 0; i < a->npeers; i++) {
		char ph[HEX_ENC_LEN(32)];
		if (!bits_hash_arg(a->peers[i], ph))
			return get_usage();
		off += (size_t)snprintf(req + off, sizeof(req) - off, "%cpeer=%s",
					i ? '&' : '?', ph);
	}
	snprintf(req + off, sizeof(req) - off, " HTTP/1.0\r\nHost: 127.0.0.1"
		 "\r\nContent-Length: 0\r\n\r\n");
	if (bits_http_do(a->port, req, &status, -1, &body, NULL) != 0 ||
	    status != 200) {
		fprintf(stderr, "bits: no swarm at 127.0.0.1:%u (is bitsd "
			"running with swarm = true?)\n", a->port);
		goto out;
	}
	/* The content at once: written as it comes in. */
	snprintf(req, sizeof(req), "GET /content/%s HTTP/1.0\r\nHost: "
		 "127.0.0.1\r\nX-Bits-Key: %s\r\n\r\n", hash, a->key);
	g.buf = xmalloc(GET_IO_BYTES + 1);
	if ((g.fd = connect_local(a->port)) < 0 ||
	    fsutil_write_all(g.fd, req, strlen(req)) != 0) {
		fputs("bits: the swarm stopped answering\n", stderr);
		goto out;
	}
	do {
		struct pollfd pfd = { .fd = g.fd, .events = POLLIN };
		int wait = -1;

		if (!a->quiet) {
			uint64_t now = time_mono_ms();
			if (now >= next) {
				if (poll_stats(a, hash, t0, &st) != 0)
					goto out;
				next = now + GET_POLL_MS;
			}
			wait = (int)(next - now);
		}
		k = poll(&pfd, 1, wait);
		if (k < 0 && errno != EINTR) {
			bar_break(a);
			perror("poll");
			goto out;
		}
		k = k > 0 ? reply_read(&g, a) : 1;
		if (k < 0)
			goto out;
	} while (k > 0);
	if (!g.have_hdr || (g.length != UINT64_MAX && g.got != g.length)) {
		bar_break(a);
		fprintf(stderr, "bits: the content was cut short (%llu of "
			"%llu bytes)\n", (unsigned long long)g.got,
			(unsigned long long)g.length);
		goto out;
	}
	if (!a->quiet) {
		if (poll_stats(a, hash, t0, &st) != 0)
			goto out;
		fputc('\n', stderr);
		show_peers(st);
		fprintf(stderr, "%llu bytes\n", (unsigned long long)g.got);
	}
	r = 0;
out:
	memwipe(req, sizeof(req));
	if (g.fd >= 0)
		close(g.fd);
	if (g.out >= 0 && g.out != STDOUT_FILENO) {
		if (close(g.out) != 0 && r == 0) {
			perror(a->output);
			r = 1;
		}
		if (r != 0)	/* no partial file left for the content */
			unlink(a->output);
	}
	free(g.buf);
	json_decref(st);
	free(body);
	return r;
}

int bits_get_main(int argc, char **argv)
{
	struct get_args a = { .port = GET_DEFAULT_PORT };
	int r;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t port;

		if (strcmp(argv[i], "--quiet") == 0) {
			a.quiet = true;
			continue;
		}
		if (argv[i][0] != '-') {
			if (a.hash)
				return get_usage();
			a.hash = argv[i];
			continue;
		}
		if (!v)
			return get_usage();
		i++;
		if (strcmp(argv[i - 1], "--key") == 0)
			a.key = v;
		else if (strcmp(argv[i - 1], "--output") == 0)
			a.output = v;
		else if (strcmp(argv[i - 1], "--port") == 0 &&
			 dec_decode(&port, 65535, v, strlen(v)) == 0 && port)
			a.port = (uint16_t)port;
		else if (strcmp(argv[i - 1], "--peer") == 0 &&
			 a.npeers < GET_PEERS_MAX)
			a.peers[a.npeers++] = v;
		else
			return get_usage();
	}
	if (!a.hash || !a.key)
		return get_usage();
	r = run_get(&a);
	memwipe((char *)a.key, strlen(a.key));	/* the argv copy */
	return r;
}
