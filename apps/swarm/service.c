/*
 * The swarm service (apps/swarm/service.h): a destination, its streams,
 * the blob store, the engine, and the local streaming endpoint.
 *
 * A content reply (GET /content/<hash>) waits for the chunks it needs in
 * order: the content is traded in streaming mode and seeked to the
 * reply's next chunk, each chunk stored wakes the replies waiting for it,
 * and up to SERVICE_WEB_AHEAD_BYTES of decrypted chunks at a time sit in
 * evhttp's output (the next are sent once they are written), so a slow
 * player holds that much memory and a fast reader is not held to one
 * chunk a loop pass.
 * A chunk that arrives while a reply is under way is kept (its verified
 * sealed bytes, SERVICE_WEB_KEPT_BYTES at most over all replies) until
 * the reply reaches it, so the reply neither reads it back from the store
 * nor hashes it again: a download read as it comes in (bits get) costs
 * one hash and one decryption a chunk.
 * The status line goes out with the first chunk, once the key has opened
 * it: a wrong key gets 403, never a body.
 */
#include "config.h"

#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <unistd.h>

#include "apps/content/cdir.h"
#include "apps/content/chunk.h"
#include "apps/content/store.h"
#include "apps/swarm/msg.h"
#include "apps/swarm/service.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "router/evloop.h"
#include "router/worker.h"

#define SERVICE_KEY_FILE_MAX_BYTES 4096

/* A chunk verified on arrival, kept for a reply that will need it. */
struct web_kept {
	uint32_t idx;
	size_t len;
	uint8_t *ct;			/* sealed, as stored */
};

/* One GET /content reply under way. */
struct web_req {
	struct swarm_service *s;
	struct web_req *next;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	uint8_t hash[32];
	struct content_key key;
	struct content_manifest m;	/* once known */
	bool have_m, started, ranged, in_flight;
	bool safe_types;		/* swarm_service_http(): see there */
	uint64_t from, end;		/* [from, end) of the plaintext */
	uint64_t pos;			/* next byte to send */
	struct aesgcm_ctx *aead;
	struct web_kept *kept;		/* chunks at or past pos */
	unsigned nkept, kept_cap;
	struct web_read *reading;	/* a chunk being read on a worker */
	struct content_store_read *ready;	/* one read, for ready_idx */
	uint32_t ready_idx;
};

/* A chunk the store holds, read for a reply on a worker. */
struct web_read {
	struct web_req *w;		/* NULL once the reply is freed */
	uint32_t idx;
	struct content_store_read *rd;
};

struct swarm_service {
	struct evloop *el;
	struct client_net net;
	struct client_dest *d;
	struct stream_signer sg;
	struct client_stream_sink cs;
	struct stream_mgr *mgr;
	struct content_store *st;
	struct swarm *sw;
	struct worker_pool *wp;		/* the store's syncs and reads */
	bool attached;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	uint16_t port;
	struct web_req *reqs;
	unsigned nreqs;
	uint8_t *buf;			/* one sealed chunk */
	size_t kept_bytes;		/* the replies' kept chunks */
	int capture_fd;			/* -1: none */
	char *tracker_path;		/* tracker role: its announces */
	struct evloop_timer *tracker_save;
};

/* Decrypted content queued a reply at a time (evhttp's output); one
 * 64 KiB chunk at a time held a whole-file read of 32 MiB by a local
 * client to 512 loop passes and 185-730 ms on a loaded machine. */
#define SERVICE_WEB_AHEAD_BYTES (512 * 1024)
/* Chunks kept for replies (all together), and how far past a reply's
 * position: four seeders with 8 chunks each in flight deliver up to 32
 * chunks out of order, and a reader that falls behind finds the rest in
 * the store (read and checked there). */
#define SERVICE_WEB_KEPT_BYTES (8u << 20)
#define SERVICE_WEB_KEPT_CHUNKS 128u
#define TRACKER_FILE "tracker.dat"
#define TRACKER_SAVE_MS 60000
#define TRACKER_FILE_MAX_BYTES (12 + 68 * (size_t)SWARM_TRACKER_ENTRIES_MAX)

/* Tracker role: the announces to DATADIR/tracker.dat when they changed
 * (at most once a minute, at most ~1 MiB), so a restart keeps them. */
static void tracker_save(struct swarm_service *s)
{
	struct bbuf b = BBUF_INIT;
	int r;

	if (!swarm_tracker_dirty(s->sw))
		return;
	swarm_tracker_save(s->sw, &b);
	if ((r = fsutil_write_atomic(s->tracker_path, b.data, b.len, 0600,
				     true)) != 0)
		log_warn(LD_APP, "swarm: cannot save %s: %s", s->tracker_path,
			 err_str(r));
	bbuf_free(&b);
}

static void tracker_save_tick(void *arg)
{
	struct swarm_service *s = arg;

	tracker_save(s);
	evloop_timer_arm(s->tracker_save, TRACKER_SAVE_MS);
}

/* A bad or missing file leaves the tracker empty (logged); it is a cache. */
static void tracker_start(struct swarm_service *s, const char *datadir)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	s->tracker_path = fsutil_path_join(datadir, TRACKER_FILE);
	r = fsutil_read_file(s->tracker_path, TRACKER_FILE_MAX_BYTES, &buf,
			     &len);
	if (r == 0)
		r = swarm_tracker_load(s->sw, buf, len);
	if (r != 0 && r != ERR_NOT_FOUND)
		log_warn(LD_APP, "swarm: %s: %s; the tracker starts empty",
			 s->tracker_path, err_str(r));
	xfree_wipe(buf, len);
	s->tracker_save = evloop_timer_new(s->el, tracker_save_tick, s);
	evloop_timer_arm(s->tracker_save, TRACKER_SAVE_MS);
}

void swarm_service_cfg_default(struct swarm_service_cfg *c)
{
	memset(c, 0, sizeof(*c));
	swarm_config_default(&c->swarm);
	stream_config_default(&c->stream);
	c->stream.mtu = STREAM_MTU_ECIES;
}

static int dest_load_or_create(const char *datadir, struct client_dest **out)
{
	char *path = fsutil_path_join(datadir, SWARM_SERVICE_KEY_FILE);
	struct bbuf b = BBUF_INIT;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = fsutil_read_file(path, SERVICE_KEY_FILE_MAX_BYTES, &buf, &len);

	if (r == 0) {
		r = client_dest_decode(buf, len, out);
		xfree_wipe(buf, len);
		if (r != 0)
			log_err(LD_APP, "swarm: %s is not a destination key: %s",
				path, err_str(r));
	} else if (r == ERR_NOT_FOUND) {
		*out = client_dest_new_random();
		client_dest_encode_private(*out, &b);
		r = fsutil_write_atomic(path, b.data, b.len, 0600, false);
		memwipe(b.data, b.len);
		bbuf_free(&b);
		if (r != 0) {
			client_dest_free(*out);
			*out = NULL;
		}
	}
	free(path);
	return r;
}

/* ---- capture (tests) ---- */

static void capture(void *ctx, const uint8_t dest[32], bool sent,
		    const uint8_t *frame, size_t len)
{
	struct swarm_service *s = ctx;
	uint8_t hdr[1 + 32 + 4];

	hdr[0] = sent;
	memcpy(hdr + 1, dest, 32);
	be32_put(hdr + 33, (uint32_t)len);
	if (fsutil_write_all(s->capture_fd, hdr, sizeof(hdr)) != 0 ||
	    fsutil_write_all(s->capture_fd, frame, len) != 0)
		log_info_rl(60, LD_APP, "swarm: writing the capture failed");
}

/* ---- seeding what the store holds ---- */

static void seed_hints_from_card(struct swarm_service *s,
				 const uint8_t hash[32])
{
	char *dir = content_store_dir(s->st, hash);
	struct content_dir *d = NULL;
	struct content_fault f;
	struct content_card card;

	if (content_dir_open(dir, &d, &f) == 0 &&
	    content_dir_card(d, &card) == 0) {
		for (unsigned i = 0; i < card.seed_count; i++)
			(void)swarm_peer_hint(s->sw, hash, card.seeds[i]);
	}
	content_dir_free(d);
	free(dir);
}

static void seed_one(void *ctx, const struct content_store_info *i)
{
	struct swarm_service *s = ctx;
	int r = swarm_content_add(s->sw, i->hash, SWARM_PICK_RAREST);

	if (r != 0 && r != ERR_EXISTS) {
		char hb[80];
		log_warn(LD_APP, "swarm: cannot trade %s: %s",
			 log_safe_hash(hb, sizeof(hb), i->hash), err_str(r));
		return;
	}
	seed_hints_from_card(s, i->hash);
}

/* ---- the endpoint: helpers ---- */

static bool host_is_loopback(const char *host)
{
	static const char *const names[] = { "127.0.0.1", "localhost", "[::1]" };

	for (size_t i = 0; host && i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		if (strncasecmp(host, names[i], n) == 0 &&
		    (host[n] == '\0' || host[n] == ':'))
			return true;
	}
	return false;
}

static void reply_text(struct evhttp_request *req, int code,
		       const char *reason)
{
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "text/plain");
	evbuffer_add_printf(b, "%d %s\n", code, reason);
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static bool parse_hash(const char *s, size_t len, uint8_t out[32])
{
	size_t got;

	return len == 64 && hex_decode(out, 32, &got, s, 64) == 0 && got == 32;
}

/* Decimal digits at *p (at least one, no sign, no overflow). */
static bool digits(const char **p, uint64_t *v)
{
	const char *q = *p;

	*v = 0;
	if (*q < '0' || *q > '9')
		return false;
	for (; *q >= '0' && *q <= '9'; q++) {
		uint64_t d = (uint64_t)(*q - '0');
		if (*v > UINT64_MAX / 10 ||
		    (*v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return false;
		*v = *v * 10 + d;
	}
	*p = q;
	return true;
}

int swarm_service_parse_range(const char *h, uint64_t size, uint64_t *from,
			      uint64_t *end)
{
	const char *p;
	uint64_t a, b;

	if (strncmp(h, "bytes=", 6) != 0)
		return ERR_FORMAT;
	p = h + 6;
	if (*p == '-') {		/* the last b bytes */
		p++;
		if (!digits(&p, &b) || *p || b == 0)
			return ERR_FORMAT;
		if (size == 0)
			return ERR_RANGE;
		*from = b >= size ? 0 : size - b;
		*end = size;
		return 0;
	}
	if (!digits(&p, &a) || *p++ != '-')
		return ERR_FORMAT;
	if (*p) {
		if (!digits(&p, &b) || *p || b < a)
			return ERR_FORMAT;	/* also a list: one range only */
	} else {
		b = UINT64_MAX;
	}
	if (a >= size)
		return ERR_RANGE;
	*from = a;
	*end = b >= size ? size : b + 1;
	return 0;
}

/* ---- the endpoint: content replies ---- */

static void web_kept_drop(struct web_req *w, unsigned i)
{
	w->s->kept_bytes -= w->kept[i].len;
	free(w->kept[i].ct);
	w->kept[i] = w->kept[--w->nkept];
}

/* Keep chunk idx (verified: ct, len) if w will send it soon. */
static void web_keep(struct web_req *w, uint32_t idx, const uint8_t *ct,
		     size_t len)
{
	struct swarm_service *s = w->s;
	uint32_t cur;

	if (!w->have_m || w->pos >= w->end ||
	    s->kept_bytes + len > SERVICE_WEB_KEPT_BYTES)
		return;
	cur = (uint32_t)(w->pos >> w->m.chunk_log2);
	if (idx < cur || idx - cur >= SERVICE_WEB_KEPT_CHUNKS ||
	    (uint64_t)idx << w->m.chunk_log2 >= w->end)
		return;
	for (unsigned i = 0; i < w->nkept; i++)
		if (w->kept[i].idx == idx)
			return;
	if (w->nkept == w->kept_cap) {
		w->kept_cap = w->kept_cap ? 2 * w->kept_cap : 16;
		w->kept = xrealloc(w->kept, w->kept_cap * sizeof(*w->kept));
	}
	w->kept[w->nkept].idx = idx;
	w->kept[w->nkept].len = len;
	w->kept[w->nkept].ct = xmemdup(ct, len);
	w->nkept++;
	s->kept_bytes += len;
}

static void web_req_free(struct web_req *w)
{
	struct swarm_service *s = w->s;

	for (struct web_req **pp = &s->reqs; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			s->nreqs--;
			break;
		}
	if (w->conn)
		evhttp_connection_set_closecb(w->conn, NULL, NULL);
	w->conn = NULL;
	if (w->have_m)
		content_manifest_clear(&w->m);
	aesgcm_free(w->aead);
	memwipe(&w->key, sizeof(w->key));
	while (w->nkept)
		web_kept_drop(w, 0);
	free(w->kept);
	if (w->reading)
		w->reading->w = NULL;	/* it frees itself when done */
	content_store_read_free(w->ready);
	free(w);
}

static void web_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct web_req *w = arg;

	(void)conn;
	w->conn = NULL;		/* evhttp frees the request with it */
	web_req_free(w);
}

static void web_pump(struct web_req *w);

/* Before the last reply call: evhttp may free the connection in it. */
static void web_detach(struct web_req *w)
{
	if (w->conn)
		evhttp_connection_set_closecb(w->conn, NULL, NULL);
	w->conn = NULL;
}

static void web_chunk_sent(struct evhttp_connection *conn, void *arg)
{
	struct web_req *w = arg;

	(void)conn;
	w->in_flight = false;
	web_pump(w);
}

/* The manifest of w's content, once the store has it: 1, 0 (not yet), or
 * -1 when the request was answered (416: w is to be freed). */
static int web_load_manifest(struct web_req *w)
{
	struct swarm_service *s = w->s;
	struct content_chunk_key ck;
	const char *range;
	int r;

	if (w->have_m)
		return 1;
	if (content_store_manifest(s->st, w->hash, &w->m) != 0)
		return 0;
	w->have_m = true;
	content_chunk_key_derive(&ck, &w->key, w->m.salt);
	w->aead = aesgcm_new(ck.b);
	memwipe(&ck, sizeof(ck));
	w->from = 0;
	w->end = w->m.size;
	range = evhttp_find_header(evhttp_request_get_input_headers(w->req),
				   "Range");
	if (range) {
		r = swarm_service_parse_range(range, w->m.size, &w->from,
					      &w->end);
		if (r == ERR_RANGE) {
			char cr[48];
			snprintf(cr, sizeof(cr), "bytes */%llu",
				 (unsigned long long)w->m.size);
			evhttp_add_header(evhttp_request_get_output_headers(
					  w->req), "Content-Range", cr);
			web_detach(w);
			reply_text(w->req, 416, "Range Not Satisfiable");
			return -1;
		}
		w->ranged = r == 0;
		if (r != 0) {
			w->from = 0;
			w->end = w->m.size;
		}
	}
	w->pos = w->from;
	return 1;
}

/* The Content-Type to answer for mime when a page of another origin's
 * trust must not be able to run it: media and raster images as they
 * are, text as plain text, anything else as opaque bytes. */
static const char *safe_type(const char *mime)
{
	if (!strncmp(mime, "video/", 6) || !strncmp(mime, "audio/", 6) ||
	    (!strncmp(mime, "image/", 6) && !strstr(mime, "svg")))
		return mime;
	if (!strncmp(mime, "text/", 5))
		return "text/plain; charset=utf-8";
	return "application/octet-stream";
}

static void web_start_reply(struct web_req *w)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(w->req);
	const char *mime = w->m.mime[0] ? w->m.mime : "application/octet-stream";
	char v[96];

	if (w->safe_types)
		mime = safe_type(mime);
	evhttp_add_header(h, "Content-Security-Policy", "sandbox");
	evhttp_add_header(h, "Content-Type", mime);
	evhttp_add_header(h, "Accept-Ranges", "bytes");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	snprintf(v, sizeof(v), "%llu",
		 (unsigned long long)(w->end - w->from));
	evhttp_add_header(h, "Content-Length", v);
	if (w->ranged) {
		snprintf(v, sizeof(v), "bytes %llu-%llu/%llu",
			 (unsigned long long)w->from,
			 (unsigned long long)(w->end - 1),
			 (unsigned long long)w->m.size);
		evhttp_add_header(h, "Content-Range", v);
	}
	evhttp_send_reply_start(w->req, w->ranged ? 206 : 200,
				w->ranged ? "Partial Content" : "OK");
	w->started = true;
}

static void web_read_run(void *arg)
{
	struct web_read *j = arg;

	content_store_read_run(j->rd);
}

static void web_read_done(void *arg)
{
	struct web_read *j = arg;
	struct web_req *w = j->w;

	if (w) {
		w->reading = NULL;
		w->ready = j->rd;
		w->ready_idx = j->idx;
	} else {
		content_store_read_free(j->rd);
	}
	free(j);
	if (w)
		web_pump(w);
}

/* Run rd, the read of chunk idx for w, on a worker (web_read_done
 * resumes w). */
static void web_read_start(struct web_req *w, uint32_t idx,
			   struct content_store_read *rd)
{
	struct web_read *j = xzalloc(sizeof(*j));

	j->w = w;
	j->idx = idx;
	j->rd = rd;
	w->reading = j;
	worker_submit(w->s->wp, (struct work){ web_read_run, web_read_done,
					       j });
}

/* Queue the chunk at w->pos: 1, 0 when it is not stored (the play
 * position moves there; the chunk callback resumes), -1 when the reply
 * ended (w freed). */
static int web_pump_one(struct web_req *w)
{
	struct swarm_service *s = w->s;
	struct evbuffer *b;
	struct evbuffer_iovec v;
	struct content_store_read *rd = NULL;
	const uint8_t *ct = s->buf;
	uint32_t idx;
	uint64_t start;
	size_t len = 0, plen, skip, take;
	int r, k = -1;

	if ((r = web_load_manifest(w)) <= 0) {
		if (r < 0) {
			web_req_free(w);	/* 416 sent */
			return -1;
		}
		return 0;	/* SWARM_META_READY resumes it */
	}
	if (w->pos >= w->end) {
		if (!w->started)
			web_start_reply(w);
		web_detach(w);
		evhttp_send_reply_end(w->req);	/* after what is queued */
		web_req_free(w);
		return -1;
	}
	idx = (uint32_t)(w->pos >> w->m.chunk_log2);
	start = (uint64_t)idx << w->m.chunk_log2;
	for (unsigned i = w->nkept; i-- > 0;)
		if (w->kept[i].idx < idx)
			web_kept_drop(w, i);	/* passed */
	for (unsigned i = 0; i < w->nkept; i++)
		if (w->kept[i].idx == idx)
			k = (int)i;
	if (w->ready && w->ready_idx != idx) {
		content_store_read_free(w->ready);	/* not this one's */
		w->ready = NULL;
	}
	if (k >= 0) {	/* verified when it came in */
		ct = w->kept[k].ct;
		len = w->kept[k].len;
		r = 0;
	} else if (w->ready) {	/* read and checked on the worker */
		rd = w->ready;
		w->ready = NULL;
		r = content_store_read_end(s->st, rd, &ct, &len, NULL);
	} else if (s->wp) {
		if ((r = content_store_read_begin(s->st, w->hash, idx,
						  &rd)) == 0 &&
		    content_store_read_try(s->st, rd))	/* cached: here */
			r = content_store_read_end(s->st, rd, &ct, &len, NULL);
		else if (r == 0) {
			web_read_start(w, idx, rd);
			return 0;	/* web_read_done resumes it */
		}
	} else {
		r = content_store_chunk_get(s->st, w->hash, idx, s->buf,
					    SWARM_CHUNK_MAX_BYTES, &len, NULL);
	}
	if (r == ERR_NOT_FOUND || r == ERR_AUTH) {
		/* Not in yet; or gone bad on disk, or evicted, while the
		 * swarm still counts it had: fetched again (else the reply
		 * would wait for it for ever). */
		content_store_read_free(rd);
		(void)swarm_chunk_lost(s->sw, w->hash, idx);
		(void)swarm_play(s->sw, w->hash, idx);
		return 0;			/* the chunk callback resumes */
	}
	b = evbuffer_new();
	plen = r == 0 ? len - CONTENT_TAG_BYTES : 0;
	skip = (size_t)(w->pos - start);
	take = start + plen > w->end ? (size_t)(w->end - start) - skip :
	       plen - skip;
	if (r == 0 && skip == 0 && take == plen && plen > 0) {
		/* the whole chunk: opened straight into the reply */
		if (evbuffer_reserve_space(b, plen, &v, 1) != 1)
			r = ERR_IO;
		else if ((r = content_chunk_open(v.iov_base, w->aead, &w->m,
						 idx, ct, len)) == 0) {
			v.iov_len = plen;
			evbuffer_commit_space(b, &v, 1);
		}
	} else if (r == 0 &&
		   (r = content_chunk_open(s->buf, w->aead, &w->m, idx, ct,
					   len)) == 0) {
		evbuffer_add(b, s->buf + skip, take);
		memwipe(s->buf, plen);
	}
	content_store_read_free(rd);
	if (k >= 0)
		web_kept_drop(w, (unsigned)k);
	if (r != 0) {
		evbuffer_free(b);
		web_detach(w);
		if (!w->started)
			reply_text(w->req, r == ERR_AUTH ? 403 : 500,
				   r == ERR_AUTH ? "Wrong key" : "Error");
		else	/* cut short: the length tells the client */
			evhttp_send_reply_end(w->req);
		web_req_free(w);
		return -1;
	}
	if (!w->started)
		web_start_reply(w);
	w->pos += take;
	w->in_flight = true;
	/* Each call sets the same callback: it comes once all is written. */
	evhttp_send_reply_chunk_with_cb(w->req, b, web_chunk_sent, w);
	evbuffer_free(b);
	return 1;
}

/* Send what is stored from w->pos on, SERVICE_WEB_AHEAD_BYTES at a time
 * (the next once they are written). */
static void web_pump(struct web_req *w)
{
	uint64_t from = w->pos;

	if (w->in_flight || w->reading || !w->conn)
		return;
	while (w->pos - from < SERVICE_WEB_AHEAD_BYTES)
		if (web_pump_one(w) <= 0)
			return;
}

static void service_chunk(void *ctx, const uint8_t hash[32], uint32_t idx,
			  const uint8_t *ct, size_t len)
{
	struct swarm_service *s = ctx;
	struct web_req *w, *next;

	/* a chunk, or the metadata: either may unblock */
	for (w = s->reqs; w; w = next) {
		next = w->next;
		if (memcmp(w->hash, hash, 32) != 0)
			continue;
		if (ct && idx != SWARM_META_READY)
			web_keep(w, idx, ct, len);
		web_pump(w);
	}
}

static int trade(struct swarm_service *s, const uint8_t hash[32],
		 enum swarm_pick_mode mode)
{
	int r = swarm_content_fetch(s->sw, hash, mode);

	return r == ERR_EXISTS ? 0 : r;
}

static void handle_content(struct swarm_service *s, struct evhttp_request *req,
			   const uint8_t hash[32], const char *query,
			   bool safe_types)
{
	struct evkeyvalq q;
	const char *kh;
	struct web_req *w;
	size_t got = 0;
	int r;

	TAILQ_INIT(&q);
	if (query)
		evhttp_parse_query_str(query, &q);
	kh = evhttp_find_header(&q, "key");
	if (!kh)
		kh = evhttp_find_header(evhttp_request_get_input_headers(req),
					"X-Bits-Key");
	if (s->nreqs >= SWARM_SERVICE_REQS_MAX) {
		reply_text(req, 503, "Busy");
		goto out;
	}
	w = xzalloc(sizeof(*w));
	if (!kh || strlen(kh) != 64 ||
	    hex_decode(w->key.b, sizeof(w->key.b), &got, kh, 64) != 0 ||
	    got != sizeof(w->key.b)) {
		memwipe(w, sizeof(*w));
		free(w);
		reply_text(req, 400, "A key (64 hex digits) is needed");
		goto out;
	}
	if ((r = trade(s, hash, SWARM_PICK_STREAMING)) != 0) {
		memwipe(w, sizeof(*w));
		free(w);
		reply_text(req, 500, err_str(r));
		goto out;
	}
	w->s = s;
	w->req = req;
	w->safe_types = safe_types;
	memcpy(w->hash, hash, 32);
	w->conn = evhttp_request_get_connection(req);
	evhttp_connection_set_closecb(w->conn, web_conn_closed, w);
	w->next = s->reqs;
	s->reqs = w;
	s->nreqs++;
	web_pump(w);
out:
	evhttp_clear_headers(&q);
}

static char *hex32(char out[HEX_ENC_LEN(32)], const uint8_t h[32])
{
	hex_encode(out, HEX_ENC_LEN(32), h, 32);
	return out;
}

/* A peer stream's figures now (its sender's side for what we send). */
static json_t *stream_json(const struct stream_info *si)
{
	json_t *o = json_object();

	json_object_set_new(o, "cwnd", json_integer(si->cwnd));
	json_object_set_new(o, "inflight", json_integer(si->inflight));
	json_object_set_new(o, "srtt_ms", json_integer(si->srtt_ms));
	json_object_set_new(o, "rto_ms", json_integer(si->rto_ms));
	json_object_set_new(o, "rtos", json_integer((json_int_t)si->rtos));
	json_object_set_new(o, "rtos_undone",
			    json_integer((json_int_t)si->rtos_undone));
	json_object_set_new(o, "packets_sent",
			    json_integer((json_int_t)si->packets_sent));
	json_object_set_new(o, "packets_resent",
			    json_integer((json_int_t)si->packets_resent));
	return o;
}

static void handle_stats(struct swarm_service *s, struct evhttp_request *req,
			 const uint8_t hash[32])
{
	struct swarm_content_stats cs;
	struct swarm_peer_stats ps[64];
	struct content_store_info info;
	json_t *root, *peers;
	struct evbuffer *b;
	char hx[HEX_ENC_LEN(32)], *txt;
	size_t n;

	if (swarm_content_stats(s->sw, hash, &cs) != 0) {
		reply_text(req, 404, "Not traded");
		return;
	}
	root = json_object();
	json_object_set_new(root, "hash", json_string(hex32(hx, hash)));
	json_object_set_new(root, "chunks", json_integer(cs.chunk_count));
	json_object_set_new(root, "have", json_integer(cs.have_count));
	json_object_set_new(root, "size", json_integer(
		content_store_info(s->st, hash, &info) == 0 ?
		(json_int_t)info.size : 0));
	json_object_set_new(root, "bytes_down", json_integer(
		(json_int_t)cs.bytes_down));
	json_object_set_new(root, "bytes_up", json_integer(
		(json_int_t)cs.bytes_up));
	json_object_set_new(root, "bad_pieces", json_integer(
		(json_int_t)cs.bad_pieces));
	json_object_set_new(root, "banned", json_integer(cs.banned));
	{	/* chunk i stored: bit i%8 of byte i/8, as hex */
		uint8_t *bits = NULL;
		size_t blen = 0;

		if (content_store_have(s->st, hash, &bits, &blen) == 0 &&
		    blen <= SWARM_SERVICE_MAP_MAX_BYTES) {
			char *hx2 = xmalloc(2 * blen + 1);
			hex_encode(hx2, 2 * blen + 1, bits, blen);
			json_object_set_new(root, "have_map", json_string(hx2));
			free(hx2);
		}
		free(bits);
	}
	peers = json_array();
	n = swarm_peer_stats(s->sw, hash, ps, 64);
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "dest", json_string(
			hex32(hx, ps[i].dest_hash)));
		json_object_set_new(p, "have", json_integer(ps[i].have_count));
		json_object_set_new(p, "in_flight",
				    json_integer(ps[i].in_flight));
		json_object_set_new(p, "bytes_down", json_integer(
			(json_int_t)ps[i].bytes_down));
		json_object_set_new(p, "bytes_up", json_integer(
			(json_int_t)ps[i].bytes_up));
		json_object_set_new(p, "choking_us",
				    json_boolean(ps[i].they_choke));
		if (ps[i].has_stream)
			json_object_set_new(p, "stream",
					    stream_json(&ps[i].stream));
		json_array_append_new(peers, p);
	}
	json_object_set_new(root, "peers", peers);
	txt = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	b = evbuffer_new();
	evbuffer_add(b, txt, strlen(txt));
	free(txt);
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Cache-Control", "no-store");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void handle_fetch(struct swarm_service *s, struct evhttp_request *req,
			 const uint8_t hash[32], const char *query)
{
	struct evkeyvalq q;
	struct evkeyval *kv;
	uint8_t peer[32];
	int r;

	if ((r = trade(s, hash, SWARM_PICK_RAREST)) != 0) {
		reply_text(req, 500, err_str(r));
		return;
	}
	TAILQ_INIT(&q);
	if (query)
		evhttp_parse_query_str(query, &q);
	TAILQ_FOREACH(kv, &q, next)
		if (strcmp(kv->key, "peer") == 0 &&
		    parse_hash(kv->value, strlen(kv->value), peer))
			(void)swarm_peer_hint(s->sw, hash, peer);
	evhttp_clear_headers(&q);
	reply_text(req, 200, "OK");
}

/* The endpoint's calls on path and query (untrusted), for a request
 * whose Host was checked. */
static void route(struct swarm_service *s, struct evhttp_request *req,
		  const char *path, const char *query, bool safe_types)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	uint8_t hash[32];

	if (path && strncmp(path, "/content/", 9) == 0 &&
	    parse_hash(path + 9, strlen(path + 9), hash)) {
		if (cmd != EVHTTP_REQ_GET)
			reply_text(req, 405, "Method Not Allowed");
		else
			handle_content(s, req, hash, query, safe_types);
		return;
	}
	if (path && strncmp(path, "/swarm/", 7) == 0 &&
	    parse_hash(path + 7, strlen(path + 7), hash)) {
		if (cmd == EVHTTP_REQ_GET)
			handle_stats(s, req, hash);
		else if (cmd == EVHTTP_REQ_POST)
			handle_fetch(s, req, hash, query);
		else
			reply_text(req, 405, "Method Not Allowed");
		return;
	}
	reply_text(req, 404, "Not Found");
}

/* "http://" and a loopback host (any port) at the start of v: what a
 * page of this endpoint or a local player names. */
static bool url_is_loopback(const char *v)
{
	char host[64];
	size_t n;

	if (strncasecmp(v, "http://", 7) != 0)
		return false;
	n = strcspn(v + 7, "/?#");
	if (n >= sizeof(host))
		return false;
	memcpy(host, v + 7, n);
	host[n] = '\0';
	return host_is_loopback(host);
}

/*
 * A request some web page made the browser send: any Sec-Fetch-Site but
 * "none" (a page's fetch, media or form, whatever its site), an Origin
 * or a Referer that is not a loopback URL (older browsers; "null" from a
 * sandboxed page).  Such a page must not make this router fetch content
 * from peers it names (a peer that sees the fetch would tie the page's
 * visitor to this router's swarm destination), nor learn what it holds.
 * A player, `bits get` and a URL typed into the browser send none of
 * these; the console serves content from its own origin through
 * swarm_service_http().  Content served here is sandboxed (CSP), so an
 * HTML file among it cannot script requests to its own origin either.
 */
static bool from_a_page(struct evkeyvalq *in)
{
	const char *sfs = evhttp_find_header(in, "Sec-Fetch-Site");
	const char *origin = evhttp_find_header(in, "Origin");
	const char *referer = evhttp_find_header(in, "Referer");

	return (sfs && strcasecmp(sfs, "none") != 0) ||
	       (origin && !url_is_loopback(origin)) ||
	       (referer && !url_is_loopback(referer));
}

static void handle(struct evhttp_request *req, void *arg)
{
	struct swarm_service *s = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *host = evhttp_find_header(in, "Host");
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);

	if (!host_is_loopback(host)) {
		reply_text(req, 403, "Forbidden");
		return;
	}
	if (from_a_page(in)) {
		reply_text(req, 403, "Forbidden: not for other web pages "
			   "(the console plays content from its own origin)");
		return;
	}
	route(s, req, u ? evhttp_uri_get_path(u) : NULL,
	      u ? evhttp_uri_get_query(u) : NULL, false);
}

void swarm_service_http(struct swarm_service *s, struct evhttp_request *req,
			const char *path, const char *query)
{
	route(s, req, path, query, true);
}

static int http_start(struct swarm_service *s, uint16_t port)
{
	evutil_socket_t fd;
	struct sockaddr_storage ss;
	ev_socklen_t sl = sizeof(ss);

	s->http = evhttp_new(evloop_base(s->el));
	if (!s->http)
		return ERR_IO;
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
				   EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS);
	evhttp_set_max_body_size(s->http, 4096);
	evhttp_set_max_headers_size(s->http, 16 * 1024);
	evhttp_set_gencb(s->http, handle, s);
	s->sock = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", port);
	if (!s->sock) {
		log_warn(LD_APP, "swarm: cannot listen on 127.0.0.1:%u", port);
		return ERR_IO;
	}
	fd = evhttp_bound_socket_get_fd(s->sock);
	s->port = port;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    ss.ss_family == AF_INET)
		s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	log_notice(LD_APP, "swarm: streaming on http://127.0.0.1:%u/content/",
		   s->port);
	return 0;
}

/* ---- public ---- */

int swarm_service_start(struct evloop *el, const struct swarm_service_cfg *cfg,
			const struct client_net *net,
			struct swarm_service **out)
{
	struct swarm_service *s = xzalloc(sizeof(*s));
	struct client_rx rx = { 0 };
	int r;

	s->el = el;
	s->net = *net;
	s->buf = xmalloc(SWARM_CHUNK_MAX_BYTES);
	s->capture_fd = -1;
	if ((r = fsutil_dir_ensure_private(cfg->datadir)) != 0 ||
	    (r = dest_load_or_create(cfg->datadir, &s->d)) != 0)
		goto fail;
	client_dest_signer(s->d, &s->sg);
	s->cs.net = s->net;
	s->cs.from = s->d;
	s->mgr = stream_mgr_new(&cfg->stream, &s->sg,
				client_stream_sink(&s->cs), el);
	if ((r = content_store_open(cfg->datadir, &s->st)) != 0)
		goto fail;
	content_store_set_budget(s->st, cfg->storage_bytes);
	s->sw = swarm_new(&cfg->swarm, client_dest_pub(s->d), s->mgr, s->st,
			  el);
	/* Two: a chunk read for a peer need not wait behind a flush's
	 * fdatasync (one flush at a time takes one thread). */
	s->wp = worker_pool_new(el, SWARM_SERVICE_WORKERS);
	swarm_set_workers(s->sw, s->wp);
	swarm_set_chunk_cb(s->sw, service_chunk, s);
	swarm_set_lookup(s->sw, s->net.lookup, s->net.ctx);
	/* the trackers named first: the role takes a slot only if left */
	for (unsigned i = 0; i < cfg->ntrackers; i++)
		(void)swarm_tracker_add(s->sw, cfg->trackers[i]);
	swarm_set_tracker_role(s->sw, cfg->tracker);
	if (cfg->tracker)
		tracker_start(s, cfg->datadir);
	if (cfg->capture_path) {
		s->capture_fd = open(cfg->capture_path, O_WRONLY | O_CREAT |
				     O_APPEND | O_CLOEXEC, 0600);
		if (s->capture_fd < 0) {
			r = ERR_IO;
			goto fail;
		}
		swarm_set_trace(s->sw, capture, s);
	}
	rx.mgr = s->mgr;
	if ((r = s->net.attach(s->net.ctx, s->d, &rx)) != 0)
		goto fail;
	s->attached = true;
	if ((r = content_store_list(s->st, seed_one, s)) != 0)
		goto fail;
	if (cfg->http && (r = http_start(s, cfg->http_port)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	swarm_service_free(s);
	return r;
}

void swarm_service_free(struct swarm_service *s)
{
	if (!s)
		return;
	while (s->reqs) {
		struct web_req *w = s->reqs;
		if (w->conn)
			evhttp_connection_set_closecb(w->conn, NULL, NULL);
		w->conn = NULL;
		web_req_free(w);
	}
	if (s->http)
		evhttp_free(s->http);
	if (s->tracker_save) {
		evloop_timer_free(s->tracker_save);
		tracker_save(s);
	}
	free(s->tracker_path);
	swarm_free(s->sw);
	worker_pool_free(s->wp);	/* a flush under way commits */
	if (s->attached)
		s->net.detach(s->net.ctx, s->d);
	stream_mgr_free(s->mgr);
	content_store_free(s->st);
	client_dest_free(s->d);
	if (s->capture_fd >= 0)
		close(s->capture_fd);
	free(s->buf);
	free(s);
}

struct swarm *swarm_service_swarm(struct swarm_service *s)
{
	return s->sw;
}

struct content_store *swarm_service_store(struct swarm_service *s)
{
	return s->st;
}

struct worker_pool *swarm_service_workers(struct swarm_service *s)
{
	return s->wp;
}

const struct keys_and_cert *swarm_service_dest(const struct swarm_service *s)
{
	return client_dest_pub(s->d);
}

uint16_t swarm_service_http_port(const struct swarm_service *s)
{
	return s->port;
}
