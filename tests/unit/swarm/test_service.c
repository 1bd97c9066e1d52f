/*
 * apps/swarm/service: the service over localnet beside a seeder, and its
 * streaming endpoint asked over real loopback HTTP from a client thread
 * while the loop runs.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apps/swarm/service.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "tests/unit/content/tcontent.h"
#include "tests/unit/swarm/tswarm.h"
#include "tests/unit/tharness.h"

#define SVC_BYTES (2 * 1024 * 1024 + 777)	/* 129 chunks of 16 KiB */
#define REQ_MAX 512

/* One HTTP exchange on a client thread. */
struct hx {
	uint16_t port;
	char req[REQ_MAX];
	int status;
	char *head;			/* the response headers */
	uint8_t *body;
	size_t body_len;
	atomic_bool done;
};

static void *hx_run(void *arg)
{
	struct hx *h = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = xmalloc(cap);
	char *end;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons(h->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(fd, h->req, strlen(h->req)) != (ssize_t)strlen(h->req))
		goto out;
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0)
		goto out;
	h->status = atoi((char *)buf + 9);
	buf = xrealloc(buf, len + 1);
	buf[len] = 0;
	end = strstr((char *)buf, "\r\n\r\n");
	if (!end)
		goto out;
	*end = 0;
	h->head = xstrdup((char *)buf);
	h->body_len = len - (size_t)(end + 4 - (char *)buf);
	h->body = xzalloc(h->body_len + 1);
	memcpy(h->body, end + 4, h->body_len);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	atomic_store(&h->done, true);
	return NULL;
}

static struct hx *hx_cur;

static bool hx_done(struct tnet *tn)
{
	(void)tn;
	return atomic_load(&hx_cur->done);
}

static struct hx *hx_vstart(struct tnet *tn, uint16_t port, pthread_t *th,
			    const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static struct hx *hx_vstart(struct tnet *tn, uint16_t port, pthread_t *th,
			    const char *fmt, va_list ap)
{
	struct hx *h = xzalloc(sizeof(*h));

	h->port = port;
	vsnprintf(h->req, sizeof(h->req), fmt, ap);
	atomic_init(&h->done, false);
	T_OK(tn->t, pthread_create(th, NULL, hx_run, h));
	return h;
}

/* Start req (printf-style) to the endpoint on a client thread (*th). */
static struct hx *hx_start(struct tnet *tn, uint16_t port, pthread_t *th,
			   const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct hx *hx_start(struct tnet *tn, uint16_t port, pthread_t *th,
			   const char *fmt, ...)
{
	struct hx *h;
	va_list ap;

	va_start(ap, fmt);
	h = hx_vstart(tn, port, th, fmt, ap);
	va_end(ap);
	return h;
}

/* Send req (printf-style) to the endpoint while the loop runs. */
static struct hx *http(struct tnet *tn, uint16_t port, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct hx *http(struct tnet *tn, uint16_t port, const char *fmt, ...)
{
	struct hx *h;
	pthread_t th;
	va_list ap;

	va_start(ap, fmt);
	h = hx_vstart(tn, port, &th, fmt, ap);
	va_end(ap);
	hx_cur = h;
	T_TRUE(tn->t, tn_run(tn, hx_done));
	pthread_join(th, NULL);
	return h;
}

static void hx_free(struct hx *h)
{
	free(h->head);
	free(h->body);
	free(h);
}

/* h is a 200 with exactly the n bytes of want. */
static void expect_whole(struct tctx *t, const struct hx *h,
			 const uint8_t *want, size_t n)
{
	T_EQ(t, h->status, 200);
	T_EQ(t, h->body_len, n);
	if (h->body_len == n)
		T_MEMEQ(t, h->body, want, n);
}

/* POST /swarm/<hash>?peer=<peer>: start fetching with a seed hint. */
static void post_peer(struct tnet *tn, uint16_t port, const char *hash,
		      const char *peer)
{
	struct hx *h = http(tn, port, "POST /swarm/%s?peer=%s HTTP/1.1\r\n"
			    "Host: 127.0.0.1\r\nConnection: close\r\n"
			    "Content-Length: 0\r\n\r\n", hash, peer);

	T_EQ(tn->t, h->status, 200);
	hx_free(h);
}

static struct swarm *svc_sw;

static bool svc_complete(struct tnet *tn)
{
	struct swarm_content_stats s;
	struct swarm *sw = svc_sw;

	return swarm_content_stats(sw, tn->hash, &s) == 0 &&
	       s.chunk_count && s.have_count == s.chunk_count;
}

/* A seeder that holds only the chunks from `first` on. */
static struct tnode *partial_seeder(struct tnet *tn, struct tnode *full,
				    uint32_t first)
{
	struct tnode *nd = tn_node(tn, NULL);
	char *dir = content_store_dir(full->st, tn->hash), *p;
	uint8_t *mf, *tree, h[32], buf[16400];
	size_t ml, tl, len;
	struct content_store_info info;

	p = fsutil_path_join(dir, "manifest");
	mf = tc_read(p, &ml);
	free(p);
	p = fsutil_path_join(dir, "tree");
	tree = tc_read(p, &tl);
	free(p);
	free(dir);
	T_OK(tn->t, content_store_add(nd->st, mf, ml, tree, tl, true, h));
	T_OK(tn->t, content_store_info(full->st, tn->hash, &info));
	for (uint32_t i = first; i < info.chunk_count; i++) {
		T_OK(tn->t, content_store_chunk_get(full->st, tn->hash, i, buf,
						    sizeof(buf), &len, NULL));
		T_OK(tn->t, content_store_chunk_put(nd->st, tn->hash, i, buf,
						    len));
	}
	free(mf);
	free(tree);
	T_OK(tn->t, swarm_content_add(nd->sw, tn->hash, SWARM_PICK_RAREST));
	return nd;
}

/* A service with the endpoint on any port, its data under tn's dir. */
static struct swarm_service *svc_open(struct tnet *tn,
				      struct swarm_service_cfg *cfg)
{
	struct swarm_service *svc = NULL;

	swarm_service_cfg_default(cfg);
	cfg->datadir = fsutil_path_join(tn->dir, "svc");
	cfg->http = true;
	T_OK(tn->t, swarm_service_start(tn->el, cfg, &tn->cn, &svc));
	return svc;
}

/* The content hash, its key and the seeder's hash in hex. */
static void hexes(struct tnet *tn, const struct content_published *pub,
		  const struct tnode *seed, char hx[HEX_ENC_LEN(32)],
		  char key[HEX_ENC_LEN(32)], char sh[HEX_ENC_LEN(32)])
{
	hex_encode(hx, HEX_ENC_LEN(32), tn->hash, 32);
	hex_encode(key, HEX_ENC_LEN(32), pub->key.b, 32);
	hex_encode(sh, HEX_ENC_LEN(32), client_dest_pub(seed->d)->hash, 32);
}

/*
 * A viewer's service that knows only the content hash and a seeder's
 * destination hash, the seeder holding only the second half: a Range
 * request from 75 % is answered 206 with exactly those bytes (playback
 * from there does not wait for the start); once a full seeder is hinted
 * the whole file follows byte-exact (sandboxed by its CSP); a wrong key
 * gets 403, a foreign Host 403, and so does whatever a web page made the
 * browser send (Sec-Fetch-Site other than none, a foreign or null
 * Origin, a foreign Referer) while a typed URL passes; the stats say
 * complete and name the peers; a restart keeps the
 * destination and seeds what the store holds.
 */
static void test_endpoint(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_service_cfg cfg;
	struct swarm_service *svc = NULL;
	struct swarm_content_stats cs;
	struct tnode *seed, *half;
	struct hx *h;
	char hx[HEX_ENC_LEN(32)], key[HEX_ENC_LEN(32)], sh[HEX_ENC_LEN(32)];
	char hh[HEX_ENC_LEN(32)];
	uint8_t *want = xmalloc(SVC_BYTES), dest0[32];
	uint64_t from = SVC_BYTES / 4 * 3 + 5;
	uint16_t port;

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, SVC_BYTES, 31, 14, &pub);
	half = partial_seeder(&tn, seed, 64);
	tc_fill(want, SVC_BYTES, 0, 31);
	if (!(svc = svc_open(&tn, &cfg)))
		goto out;
	svc_sw = swarm_service_swarm(svc);
	memcpy(dest0, swarm_service_dest(svc)->hash, 32);
	port = swarm_service_http_port(svc);
	T_TRUE(t, port != 0);
	hexes(&tn, &pub, seed, hx, key, sh);
	hex_encode(hh, sizeof(hh), client_dest_pub(half->d)->hash, 32);

	post_peer(&tn, port, hx, hh);
	h = http(&tn, port, "GET /content/%s?key=%s HTTP/1.1\r\nHost: "
		 "127.0.0.1\r\nRange: bytes=%llu-\r\nConnection: close\r\n\r\n",
		 hx, key, (unsigned long long)from);
	T_EQ(t, h->status, 206);
	T_TRUE(t, h->head && strstr(h->head, "Content-Range: bytes "));
	T_EQ(t, h->body_len, SVC_BYTES - from);
	if (h->body_len == SVC_BYTES - from)
		T_MEMEQ(t, h->body, want + from, SVC_BYTES - from);
	hx_free(h);
	/* Playback from 75 % did not wait for the first half. */
	T_OK(t, swarm_content_stats(swarm_service_swarm(svc), tn.hash, &cs));
	T_TRUE(t, cs.have_count < cs.chunk_count);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	post_peer(&tn, port, hx, sh);

	h = http(&tn, port, "GET /content/%s HTTP/1.1\r\nHost: localhost\r\n"
		 "X-Bits-Key: %s\r\nConnection: close\r\n\r\n", hx, key);
	expect_whole(t, h, want, SVC_BYTES);
	T_TRUE(t, h->head && strstr(h->head, "Content-Security-Policy: "
				    "sandbox"));
	hx_free(h);
	/* what a page elsewhere makes the browser send is refused, before
	 * anything is fetched; a URL typed into the browser is not */
	{
		static const char *const page[] = {
			"Sec-Fetch-Site: cross-site",
			"Sec-Fetch-Site: same-site",
			"Sec-Fetch-Site: same-origin",
			"Origin: https://evil.example",
			"Origin: null",
			"Referer: http://evil.example/page.html",
			"Referer: http://127.0.0.1.evil.example/",
		};
		for (size_t i = 0; i < sizeof(page) / sizeof(*page); i++) {
			h = http(&tn, port, "GET /content/%s?key=%s HTTP/1.1"
				 "\r\nHost: 127.0.0.1:%u\r\n%s\r\n"
				 "Connection: close\r\n\r\n", hx, key,
				 (unsigned)port, page[i]);
			T_EQ(t, h->status, 403);
			hx_free(h);
			h = http(&tn, port, "POST /swarm/%s?peer=%s HTTP/1.1"
				 "\r\nHost: 127.0.0.1\r\n%s\r\n"
				 "Content-Length: 0\r\nConnection: close"
				 "\r\n\r\n", hx, hh, page[i]);
			T_EQ(t, h->status, 403);
			hx_free(h);
		}
		h = http(&tn, port, "GET /content/%s?key=%s HTTP/1.1\r\n"
			 "Host: 127.0.0.1:%u\r\nSec-Fetch-Site: none\r\n"
			 "Referer: http://localhost:%u/\r\n"
			 "Connection: close\r\n\r\n", hx, key,
			 (unsigned)port, (unsigned)port);
		expect_whole(t, h, want, SVC_BYTES);
		hx_free(h);
	}
	T_TRUE(t, tn_run(&tn, svc_complete));

	key[0] = key[0] == '0' ? '1' : '0';
	h = http(&tn, port, "GET /content/%s?key=%s HTTP/1.1\r\nHost: "
		 "127.0.0.1\r\nConnection: close\r\n\r\n", hx, key);
	T_EQ(t, h->status, 403);
	T_TRUE(t, h->body_len < 64);
	hx_free(h);
	h = http(&tn, port, "GET /content/%s?key=%s HTTP/1.1\r\nHost: "
		 "evil.example\r\nConnection: close\r\n\r\n", hx, key);
	T_EQ(t, h->status, 403);
	hx_free(h);
	h = http(&tn, port, "GET /swarm/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		 "Connection: close\r\n\r\n", hx);
	T_EQ(t, h->status, 200);
	T_TRUE(t, h->body && strstr((char *)h->body, "\"have\":129"));
	T_TRUE(t, h->body && strstr((char *)h->body, sh));
	/* the peer's stream figures, RTOs among them, while it runs */
	T_TRUE(t, h->body && strstr((char *)h->body, "\"stream\":{\"cwnd\":"));
	T_TRUE(t, h->body && strstr((char *)h->body, "\"rtos\":"));
	hx_free(h);

	/* A restart: the same destination, the content seeded again. */
	swarm_service_free(svc);
	svc_sw = NULL;
	svc = NULL;
	cfg.http = false;
	T_OK(t, swarm_service_start(tn.el, &cfg, &tn.cn, &svc));
	if (svc) {
		T_MEMEQ(t, swarm_service_dest(svc)->hash, dest0, 32);
		T_OK(t, swarm_content_stats(swarm_service_swarm(svc), tn.hash,
					    &cs));
		T_EQ(t, cs.have_count, cs.chunk_count);
		T_EQ(t, swarm_service_http_port(svc), 0);
	}
out:
	swarm_service_free(svc);
	free((char *)cfg.datadir);
	free(want);
	content_published_clear(&pub);
	tn_free(&tn);
}

static bool svc_trades(struct tnet *tn)
{
	struct swarm_content_stats s;

	return swarm_content_stats(svc_sw, tn->hash, &s) == 0;
}

/* While a whole-file reply runs, the viewer's data file is zeroed at
 * every poll of the loop (what is on disk no longer matches the tree). */
static char *spoil_path;
static unsigned spoiled;

/* Zero the file at path, all of it; true when it was. */
static bool zero_file(const char *path)
{
	int fd = open(path, O_WRONLY);
	off_t end;
	bool ok = false;

	if (fd >= 0 && (end = lseek(fd, 0, SEEK_END)) > 0) {
		uint8_t *z = xzalloc((size_t)end);
		ok = pwrite(fd, z, (size_t)end, 0) == (ssize_t)end;
		free(z);
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool spoil_until_done(struct tnet *tn)
{
	if (zero_file(spoil_path))
		spoiled++;
	return hx_done(tn);
}

/*
 * A whole-file GET sent before any chunk is in is answered from the
 * chunks as they arrive, verified once on receipt: the reply never reads
 * them back from the store (which checks each read and hashes it again).
 * The viewer's data file is zeroed all along, so a chunk read back would
 * fail its check and never reach the reply; the reply is byte-exact.
 */
static void test_reply_as_it_comes(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_service_cfg cfg;
	struct swarm_service *svc = NULL;
	struct tnode *seed;
	struct hx *get, *post;
	pthread_t tg, tp;
	char hx[HEX_ENC_LEN(32)], key[HEX_ENC_LEN(32)], sh[HEX_ENC_LEN(32)];
	char *dir;
	const uint64_t n = 1024 * 1024 + 333;	/* 65 chunks of 16 KiB */
	uint8_t *want = xmalloc(n);
	uint16_t port;
	bool ok;

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, n, 35, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	tc_fill(want, n, 0, 35);
	if (!(svc = svc_open(&tn, &cfg)))
		goto out;
	svc_sw = swarm_service_swarm(svc);
	port = swarm_service_http_port(svc);
	hexes(&tn, &pub, seed, hx, key, sh);
	dir = content_store_dir(swarm_service_store(svc), tn.hash);
	spoil_path = fsutil_path_join(dir, "data");
	free(dir);
	spoiled = 0;
	/* The GET first: the service knows no peer, so it waits... */
	get = hx_start(&tn, port, &tg, "GET /content/%s HTTP/1.0\r\nHost: "
		       "127.0.0.1\r\nX-Bits-Key: %s\r\n\r\n", hx, key);
	ok = tn_run(&tn, svc_trades);
	T_TRUE(t, ok);
	/* ...until the seeder is named. */
	post = hx_start(&tn, port, &tp, "POST /swarm/%s?peer=%s HTTP/1.0"
			"\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
			hx, sh);
	hx_cur = post;
	T_TRUE(t, ok && (ok = tn_run(&tn, spoil_until_done)));
	if (!ok) {	/* the clients return once their connections close */
		swarm_service_free(svc);
		svc = NULL;
	}
	pthread_join(tp, NULL);
	T_EQ(t, post->status, 200);
	hx_free(post);
	hx_cur = get;
	T_TRUE(t, ok && (ok = tn_run(&tn, spoil_until_done)));
	if (!ok) {
		swarm_service_free(svc);
		svc = NULL;
	}
	pthread_join(tg, NULL);
	T_TRUE(t, spoiled > 0);
	expect_whole(t, get, want, n);
	hx_free(get);
	free(spoil_path);
	spoil_path = NULL;
out:
	swarm_service_free(svc);
	free((char *)cfg.datadir);
	free(want);
	content_published_clear(&pub);
	tn_free(&tn);
}

/*
 * A whole content at the viewer whose data file went bad on disk (zeroed
 * once, after the download): a GET finds each chunk bad in the store,
 * which unmarks it; the swarm fetches it again from the seeder and the
 * reply is byte-exact (the swarm, still counting the chunks had, never
 * asked for them, and the reply waited for ever).
 */
static void test_reply_refetch(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_service_cfg cfg;
	struct swarm_service *svc = NULL;
	struct swarm_content_stats cs;
	struct tnode *seed;
	struct hx *get;
	pthread_t tg;
	char hx[HEX_ENC_LEN(32)], key[HEX_ENC_LEN(32)], sh[HEX_ENC_LEN(32)];
	char *dir, *path;
	const uint64_t n = 512 * 1024 + 99;	/* 33 chunks of 16 KiB */
	uint8_t *want = xmalloc(n);
	uint16_t port;
	bool ok;

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, n, 36, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	tc_fill(want, n, 0, 36);
	if (!(svc = svc_open(&tn, &cfg)))
		goto out;
	svc_sw = swarm_service_swarm(svc);
	port = swarm_service_http_port(svc);
	hexes(&tn, &pub, seed, hx, key, sh);
	post_peer(&tn, port, hx, sh);
	T_TRUE(t, tn_run(&tn, svc_complete));
	dir = content_store_dir(swarm_service_store(svc), tn.hash);
	path = fsutil_path_join(dir, "data");
	free(dir);
	T_TRUE(t, zero_file(path));
	free(path);
	get = hx_start(&tn, port, &tg, "GET /content/%s HTTP/1.0\r\nHost: "
		       "127.0.0.1\r\nX-Bits-Key: %s\r\n\r\n", hx, key);
	hx_cur = get;
	T_TRUE(t, (ok = tn_run(&tn, hx_done)));
	if (!ok) {	/* the client returns once its connection closes */
		swarm_service_free(svc);
		svc = NULL;
	}
	pthread_join(tg, NULL);
	T_EQ(t, get->status, 200);
	T_EQ(t, get->body_len, n);
	if (get->body_len == n)
		T_MEMEQ(t, get->body, want, n);
	hx_free(get);
	if (svc) {	/* fetched again: whole once more */
		T_OK(t, swarm_content_stats(svc_sw, tn.hash, &cs));
		T_EQ(t, cs.have_count, cs.chunk_count);
	}
out:
	swarm_service_free(svc);
	free((char *)cfg.datadir);
	free(want);
	content_published_clear(&pub);
	tn_free(&tn);
}

static pid_t get_pid;
static int get_status;
static bool get_reaped;

static bool get_exited(struct tnet *tn)
{
	(void)tn;
	if (!get_reaped)
		get_reaped = waitpid(get_pid, &get_status, WNOHANG) == get_pid;
	return get_reaped;
}

/*
 * `bits get` (the built apps/bits, or $BITS_BIN) against a service that
 * knows nothing of the content: the peer it names serves it, the bar
 * reaches 100 %, the per-peer table names that peer with the bytes it
 * gave, and the output file is byte-exact.
 */
static void test_bits_get(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_service_cfg cfg;
	struct swarm_service *svc = NULL;
	struct tnode *seed;
	char hx[HEX_ENC_LEN(32)], key[HEX_ENC_LEN(32)], sh[HEX_ENC_LEN(32)];
	char port[8], *out, *err, *bits = getenv("BITS_BIN");
	uint8_t *want = xmalloc(SVC_BYTES), *got = NULL, *log = NULL;
	size_t len = 0, loglen = 0;
	posix_spawn_file_actions_t fa;

	if (!bits)
		bits = "apps/bits";
	T_TRUE(t, access(bits, X_OK) == 0);
	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, SVC_BYTES, 33, 14, &pub);
	T_OK(t, swarm_content_add(seed->sw, tn.hash, SWARM_PICK_RAREST));
	tc_fill(want, SVC_BYTES, 0, 33);
	if (!(svc = svc_open(&tn, &cfg)))
		goto out;
	hexes(&tn, &pub, seed, hx, key, sh);
	snprintf(port, sizeof(port), "%u", swarm_service_http_port(svc));
	out = fsutil_path_join(tn.dir, "got");
	err = fsutil_path_join(tn.dir, "get.log");
	{
		char *argv[] = { bits, "get", hx, "--key", key, "--port", port,
				 "--peer", sh, "--output", out, NULL };
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY |
						 O_CREAT | O_TRUNC, 0600);
		T_OK(t, posix_spawn(&get_pid, bits, &fa, NULL, argv, NULL));
		posix_spawn_file_actions_destroy(&fa);
	}
	if (!tn_run(&tn, get_exited)) {
		T_TRUE(t, !"bits get ended");
		kill(get_pid, SIGKILL);
		waitpid(get_pid, &get_status, 0);
	}
	T_TRUE(t, WIFEXITED(get_status) && WEXITSTATUS(get_status) == 0);
	T_OK(t, fsutil_read_file(out, SVC_BYTES + 1, &got, &len));
	T_EQ(t, len, SVC_BYTES);
	if (got && len == SVC_BYTES)
		T_MEMEQ(t, got, want, SVC_BYTES);
	T_OK(t, fsutil_read_file(err, 1 << 20, &log, &loglen));
	if (log) {
		log = xrealloc(log, loglen + 1);
		log[loglen] = 0;
		if (getenv("BITS_TEST_LOG"))
			fprintf(stderr, "%s\n", (char *)log);
		T_TRUE(t, strstr((char *)log, "100%") != NULL);
		T_TRUE(t, strstr((char *)log, "129/129 chunks") != NULL);
		/* The table names the seeder (16 hex digits) and its bytes. */
		sh[16] = 0;
		T_TRUE(t, strstr((char *)log, sh) != NULL);
	}
	free(out);
	free(err);
out:
	free(got);
	free(log);
	swarm_service_free(svc);
	free((char *)cfg.datadir);
	free(want);
	content_published_clear(&pub);
	tn_free(&tn);
}

/* Range headers: the forms a player sends, and what is refused. */
static void test_range(struct tctx *t)
{
	static const struct {
		const char *h;
		uint64_t size;
		int r;
		uint64_t from, end;
	} c[] = {
		{ "bytes=0-", 1000, 0, 0, 1000 },
		{ "bytes=100-199", 1000, 0, 100, 200 },
		{ "bytes=990-5000", 1000, 0, 990, 1000 },
		{ "bytes=-10", 1000, 0, 990, 1000 },
		{ "bytes=-5000", 1000, 0, 0, 1000 },
		{ "bytes=999-999", 1000, 0, 999, 1000 },
		{ "bytes=1000-", 1000, ERR_RANGE, 0, 0 },
		{ "bytes=-1", 0, ERR_RANGE, 0, 0 },
		{ "bytes=0-", 0, ERR_RANGE, 0, 0 },
		{ "bytes=5-4", 1000, ERR_FORMAT, 0, 0 },
		{ "bytes=0-1,5-6", 1000, ERR_FORMAT, 0, 0 },
		{ "bytes= 1-2", 1000, ERR_FORMAT, 0, 0 },
		{ "bytes=+1-2", 1000, ERR_FORMAT, 0, 0 },
		{ "bytes=-0", 1000, ERR_FORMAT, 0, 0 },
		{ "bytes=-", 1000, ERR_FORMAT, 0, 0 },
		{ "bytes=1", 1000, ERR_FORMAT, 0, 0 },
		{ "items=1-2", 1000, ERR_FORMAT, 0, 0 },
		{ "bytes=99999999999999999999-", 1000, ERR_FORMAT, 0, 0 },
		{ "bytes=18446744073709551615-", 1000, ERR_RANGE, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint64_t from = 7, end = 7;
		int r = swarm_service_parse_range(c[i].h, c[i].size, &from,
						  &end);
		T_EQ(t, r, c[i].r);
		if (r == 0 && c[i].r == 0) {
			T_EQ(t, from, c[i].from);
			T_EQ(t, end, c[i].end);
		}
	}
}

static struct tnet *gate_tn;

/* Open the gate 300 ms from now, from a thread of its own. */
static void *gate_open_later(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	tn_gate_open(gate_tn);
	return NULL;
}

/*
 * The endpoint reads a stored chunk that is in the page cache on the loop
 * (a GET answered whole with the service's workers held), and one that is
 * not on a worker: with the store's try off and the workers held, a GET
 * of a whole stored content gets no answer in 300 ms (read on the loop,
 * all of it came at once), and all of it, byte-exact, once they run.  A reply that goes while a chunk is
 * being read for it (the service stopped) leaves the read to free itself
 * (ASan); started again, the service answers the GET whole.
 */
static void test_reads_on_worker(struct tctx *t)
{
	struct tnet tn;
	struct content_published pub;
	struct swarm_service_cfg cfg;
	struct swarm_service *svc = NULL;
	struct content_store *st = NULL;
	struct hx *h;
	struct tnode *seed;
	pthread_t th, opener;
	char hx[HEX_ENC_LEN(32)], key[HEX_ENC_LEN(32)], sh[HEX_ENC_LEN(32)];
	char req[512], *src, *svcdir;
	uint8_t *want = xmalloc(SVC_BYTES), hh[32];

	tn_init(&tn, t);
	seed = tn_node(&tn, NULL);
	tn_publish(&tn, seed, SVC_BYTES, 33, 14, &pub);
	tc_fill(want, SVC_BYTES, 0, 33);
	hexes(&tn, &pub, seed, hx, key, sh);
	/* the service's store holds the whole content before it starts */
	svcdir = fsutil_path_join(tn.dir, "svc");
	T_OK(t, content_store_open(svcdir, &st));
	src = content_store_dir(seed->st, tn.hash);
	if (st)
		T_OK(t, content_store_import(st, src, true, hh));
	free(src);
	free(svcdir);
	content_store_free(st);
	if (!(svc = svc_open(&tn, &cfg)))
		goto out;
	snprintf(req, sizeof(req), "GET /content/%s?key=%s HTTP/1.1\r\n"
		 "Host: 127.0.0.1\r\nConnection: close\r\n\r\n", hx, key);
	/* Cached (since the import): answered with the workers held. */
	tn_gate_hold(&tn, swarm_service_workers(svc), SWARM_SERVICE_WORKERS);
	h = http(&tn, swarm_service_http_port(svc), "%s", req);
	expect_whole(t, h, want, SVC_BYTES);
	hx_free(h);
	tn_gate_open(&tn);
	/* Not cached (the store's try off stands for that): on a worker. */
	content_store_set_read_try(swarm_service_store(svc), false);

	tn_gate_hold(&tn, swarm_service_workers(svc), SWARM_SERVICE_WORKERS);
	h = hx_start(&tn, swarm_service_http_port(svc), &th, "%s", req);
	tn_run_ms(&tn, 300);
	T_FALSE(t, atomic_load(&h->done));
	tn_gate_open(&tn);
	hx_cur = h;
	T_TRUE(t, tn_run(&tn, hx_done));
	pthread_join(th, NULL);
	expect_whole(t, h, want, SVC_BYTES);
	hx_free(h);

	/* The service stopped while a chunk is read for a reply: the
	 * reply goes first, and the read, done once the gate opens (from
	 * a thread: the stop waits for the workers), frees itself. */
	tn_gate_hold(&tn, swarm_service_workers(svc), SWARM_SERVICE_WORKERS);
	h = hx_start(&tn, swarm_service_http_port(svc), &th, "%s", req);
	tn_run_ms(&tn, 200);
	T_FALSE(t, atomic_load(&h->done));
	gate_tn = &tn;
	T_EQ(t, pthread_create(&opener, NULL, gate_open_later, NULL), 0);
	swarm_service_free(svc);
	svc = NULL;
	pthread_join(opener, NULL);
	pthread_join(th, NULL);
	T_TRUE(t, h->body_len < SVC_BYTES);	/* cut: no whole reply */
	hx_free(h);
	free((char *)cfg.datadir);
	/* Started again on the same store: answered whole. */
	if (!(svc = svc_open(&tn, &cfg)))
		goto out;
	h = http(&tn, swarm_service_http_port(svc), "%s", req);
	expect_whole(t, h, want, SVC_BYTES);
	hx_free(h);
out:
	swarm_service_free(svc);
	free((char *)cfg.datadir);
	free(want);
	content_published_clear(&pub);
	tn_free(&tn);
}

const struct test_case swarm_service_tests[] = {
	{ "range", test_range, 0 },
	{ "endpoint", test_endpoint, TT_FORK },
	{ "bits_get", test_bits_get, TT_FORK },
	{ "reply_as_it_comes", test_reply_as_it_comes, TT_FORK },
	{ "reply_refetch", test_reply_refetch, TT_FORK },
	{ "reads_on_worker", test_reads_on_worker, TT_FORK },
	{ NULL, NULL, 0 }
};
