/*
 * The web console's calls (apps/bitsd_console.h): the player's content
 * and swarm progress through the swarm service in process, uploads and
 * publishing, the earnings samples, the router's proxy settings and
 * hosted sites.
 *
 * An upload's pieces are written by worker jobs, one at a time per
 * upload; sealing (encrypt, hash, sign) runs on a worker into
 * DATADIR/console/stage; the sealed directory is then imported into the
 * swarm's store on the loop (the store belongs to the loop thread, as the
 * swarm's own calls do; the copy is bounded by
 * BITSD_CONSOLE_UPLOAD_MAX_BYTES) and seeded.  A job's done() finds its
 * upload again by console generation and upload id.
 */
#include "config.h"
#include "apps/bitsd_console.h"
#include "apps/api/api.h"
#include "apps/bitsd_market.h"
#include "apps/bitsd_proxy.h"
#include "apps/content/card.h"
#include "apps/content/fsio.h"
#include "apps/content/publish.h"
#include "apps/content/store.h"
#include "apps/content/text.h"
#include "apps/market/register.h"
#include "apps/proxy/tunconf.h"
#include "apps/swarm/service.h"
#include "apps/swarm/swarm.h"
#include "router/conf.h"
#include "router/evloop.h"
#include "router/worker.h"
#include "tunnels/transit.h"
#include "netdb/netdb.h"
#include "netdb/store.h"
#include "chain/u256.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/secmem.h"

#include <errno.h>
#include <limits.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#define KEY_LINE_BYTES (64 + 1 + 64 + 1)
#define FREE_KEY_PREFIX "bits-key: "

enum upload_state { UP_RECEIVING, UP_SEALING, UP_SEEDING, UP_REGISTERING,
		    UP_DONE, UP_FAILED };

struct upload {
	unsigned id;			/* 0: a free slot */
	enum upload_state state;
	bool busy;			/* a worker job holds it */
	bool free_content;
	char name[128];
	char mime[CONTENT_MIME_MAX_BYTES + 1];
	uint64_t size, received;
	unsigned royalty_pct;
	char *path;			/* the uploaded file */
	uint64_t last_ms;		/* created or last piece stored */
	char err[200];
	uint8_t hash[32], card_id[32];
	char *card_hex;
	bool on_chain;			/* registered (licence_index, tx) */
	uint64_t licence_index;
	uint8_t tx[32];
};

struct book_key {
	uint8_t hash[32];
	struct content_key key;
};

/* Money (token base units, from the "seedpay", "relaypay" and
 * "hostpay" sections of /api/status): the seeder's vouchers held and
 * redeemed, the relay's tickets' expected value, the face of those that
 * won and of those redeemed, the host's epoch vouchers held and redeemed
 * (docs/market.md §8), and what this router paid hosts as a creator. */
enum { M_SEED, M_SEED_REDEEMED, M_RELAY_EXPECTED, M_RELAY_WON,
       M_RELAY_REDEEMED, M_HOST, M_HOST_REDEEMED, M_HOST_PAID, M_N };

struct sample {
	uint64_t t_s, seeded, relayed, hosted;
	bool seedpay, relaypay, hostpay, hostpay_creator;
	struct u256 money[M_N];
};

struct bitsd_console {
	struct evloop *el;
	struct bitsd_console_deps d;
	char *dir, *uploads, *stage, *keys_path, *creator_path;
	struct upload up[BITSD_CONSOLE_UPLOADS_MAX];
	unsigned next_id;
	struct book_key *keys;
	size_t nkeys;
	struct sample samples[BITSD_CONSOLE_SAMPLES];
	size_t nsamples, first;
	struct evloop_timer *timer;
	json_t *router;			/* GET /api/console/router */
	uint64_t gen;
};

/* The live console, for jobs' done() (loop thread only). */
static struct bitsd_console *live;
static uint64_t live_gen;

static struct upload *upload_find(unsigned id)
{
	for (size_t i = 0; live && id && i < BITSD_CONSOLE_UPLOADS_MAX; i++)
		if (live->up[i].id == id)
			return &live->up[i];
	return NULL;
}

static void upload_clear(struct upload *u)
{
	free(u->path);
	free(u->card_hex);
	memset(u, 0, sizeof(*u));
}

static bool hex32(const char *s, size_t n, uint8_t out[32])
{
	size_t got = 0;

	return s && n == 64 && hex_decode(out, 32, &got, s, 64) == 0 &&
	       got == 32;
}

static const struct content_key *book_find(const struct bitsd_console *c,
					   const uint8_t hash[32])
{
	for (size_t i = 0; i < c->nkeys; i++)
		if (memcmp(c->keys[i].hash, hash, 32) == 0)
			return &c->keys[i].key;
	return NULL;
}

static void book_add(struct bitsd_console *c, const uint8_t hash[32],
		     const struct content_key *k)
{
	if (book_find(c, hash) || c->nkeys >= BITSD_CONSOLE_KEYS_MAX)
		return;
	c->keys = xrealloc(c->keys, (c->nkeys + 1) * sizeof(*c->keys));
	memcpy(c->keys[c->nkeys].hash, hash, 32);
	c->keys[c->nkeys++].key = *k;
}

/* DATADIR/console/keys: "<hash> <key>" lines (hex), 0600. */
static int book_load(struct bitsd_console *c)
{
	uint8_t *buf = NULL;
	size_t len = 0, at = 0;
	int r = fsutil_read_file(c->keys_path,
				 BITSD_CONSOLE_KEYS_MAX * KEY_LINE_BYTES, &buf,
				 &len);

	if (r == ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return r;
	while (at + KEY_LINE_BYTES <= len) {
		const char *l = (const char *)buf + at;
		uint8_t h[32];
		struct content_key k;

		if (l[64] != ' ' || l[129] != '\n' || !hex32(l, 64, h) ||
		    !hex32(l + 65, 64, k.b)) {
			log_warn(LD_APP, "console: %s: a bad line, ignored from "
				 "there on", c->keys_path);
			break;
		}
		book_add(c, h, &k);
		memwipe(&k, sizeof(k));
		at += KEY_LINE_BYTES;
	}
	xfree_wipe(buf, len);
	return 0;
}

/* ---- /api/swarm ---- */

/* The key this router holds for hash: the key book (contents published
 * here), then the market's key library (licences bought).  0 or
 * ERR_NOT_FOUND; the caller wipes *k. */
static int key_of(const struct bitsd_console *c, const uint8_t hash[32],
		  struct content_key *k)
{
	const struct content_key *b = book_find(c, hash);

	if (b) {
		*k = *b;
		return 0;
	}
	return bitsd_market_key_for(c->d.market_sub, hash, k->b);
}

/* The content, with the key of the query or else one we hold. */
static void swarm_content(struct bitsd_console *c, struct evhttp_request *req,
			  const char *rest, const char *query,
			  const uint8_t hash[32])
{
	struct content_key k;
	struct evkeyvalq q;
	bool has_key;
	char kq[4 + 64 + 1];

	TAILQ_INIT(&q);
	if (query)
		evhttp_parse_query_str(query, &q);
	has_key = evhttp_find_header(&q, "key") != NULL;
	evhttp_clear_headers(&q);
	if (has_key || key_of(c, hash, &k) != 0) {
		swarm_service_http(c->d.swarm, req, rest, query);
		return;
	}
	memcpy(kq, "key=", 4);
	hex_encode(kq + 4, sizeof(kq) - 4, k.b, 32);
	memwipe(&k, sizeof(k));
	swarm_service_http(c->d.swarm, req, rest, kq);
	memwipe(kq, sizeof(kq));
}

static void on_swarm(void *ctx, struct evhttp_request *req, const char *rest)
{
	struct bitsd_console *c = ctx;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	size_t n = strlen(rest);
	uint8_t hash[32];
	char path[7 + 64 + 1];

	if (!c->d.swarm) {
		api_reply_error(req, 404, "the swarm is off on this router "
				"(swarm = true in its config)");
		return;
	}
	if (n == 9 + 64 && strncmp(rest, "/content/", 9) == 0 &&
	    hex32(rest + 9, 64, hash)) {
		swarm_content(c, req, rest, query, hash);
		return;
	}
	if (n == 1 + 64 + 4 && strcmp(rest + 65, "/key") == 0 &&
	    hex32(rest + 1, 64, hash)) {
		struct content_key k;
		json_t *o = json_pack("{s:b}", "known", key_of(c, hash, &k) == 0);

		memwipe(&k, sizeof(k));
		api_reply_json(req, 200, o);
		json_decref(o);
		return;
	}
	if (n == 1 + 64 && hex32(rest + 1, 64, hash)) {
		snprintf(path, sizeof(path), "/swarm/%s", rest + 1);
		swarm_service_http(c->d.swarm, req, path, query);
		return;
	}
	api_reply_error(req, 404, "Not Found");
}

/* ---- /api/publish ---- */

/* Registration on chain (apps/market/register.h): the market's
 * registrar, when the router has a wallet and runs the key agent. */
static struct market_registrar *registrar(const struct bitsd_console *c,
					  uint8_t agent[32])
{
	uint8_t a[32];

	return bitsd_market_registrar(c->d.market_sub, agent ? agent : a);
}

/* What the Publish page says of the chain step. */
static const char *chain_note(const struct bitsd_console *c,
			      const struct upload *u)
{
	if (!c->d.market)
		return "market not configured on this router";
	if (u->state == UP_RECEIVING || u->state == UP_SEALING ||
	    u->state == UP_SEEDING)
		return u->free_content || !registrar(c, NULL) ? "" :
		       "waiting for the seal";
	if (u->state == UP_REGISTERING)
		return "sending LicenseRegistry.publish from this router's "
		       "wallet and waiting for its receipt";
	if (u->on_chain)
		return "registered in the licence registry";
	if (u->free_content)
		return "free: nothing to register";
	if (!registrar(c, NULL))
		return "not registered: it needs this router's wallet "
		       "(market.wallet.key) and key agent (market.agent)";
	return "not registered";
}

static json_t *upload_json(const struct bitsd_console *c,
			   const struct upload *u)
{
	static const char *const names[] = { "receiving", "sealing",
					     "seeding", "registering", "done",
					     "failed" };
	char hx[HEX_ENC_LEN(32)];
	json_t *o = json_pack("{s:i, s:s, s:s, s:I, s:I, s:b, s:i}",
			      "id", (int)u->id, "state", names[u->state],
			      "name", u->name, "size", (json_int_t)u->size,
			      "received", (json_int_t)u->received,
			      "free", u->free_content,
			      "royalty_pct", (int)u->royalty_pct);

	if (u->err[0])
		json_object_set_new(o, "error", json_string(u->err));
	if (u->state == UP_SEEDING || u->state == UP_REGISTERING ||
	    u->state == UP_DONE) {
		hex_encode(hx, sizeof(hx), u->hash, 32);
		json_object_set_new(o, "content_hash", json_string(hx));
	}
	if (u->state == UP_DONE) {
		hex_encode(hx, sizeof(hx), u->card_id, 32);
		json_object_set_new(o, "card_id", json_string(hx));
		json_object_set_new(o, "card", json_string(u->card_hex));
	}
	json_object_set_new(o, "chain", json_string(chain_note(c, u)));
	if (u->on_chain) {
		char tx[2 + HEX_ENC_LEN(32)] = "0x";

		hex_encode(tx + 2, sizeof(tx) - 2, u->tx, 32);
		json_object_set_new(o, "licence_index",
				    json_integer((json_int_t)u->licence_index));
		json_object_set_new(o, "tx", json_string(tx));
	}
	return o;
}

static void publish_new(struct bitsd_console *c, struct evhttp_request *req)
{
	struct upload *u = NULL;
	json_t *body = NULL, *o;
	const char *name, *mime;
	json_int_t size;
	char idname[32];
	int fd;

	if (api_body_json(req, &body) != 0 ||
	    !(name = json_string_value(json_object_get(body, "name"))) ||
	    !(mime = json_string_value(json_object_get(body, "mime"))) ||
	    !json_is_integer(json_object_get(body, "size"))) {
		api_reply_error(req, 400, "expected {name, size, mime}");
		goto out;
	}
	size = json_integer_value(json_object_get(body, "size"));
	if (size <= 0 || (uint64_t)size > BITSD_CONSOLE_UPLOAD_MAX_BYTES) {
		api_reply_error(req, 413, "the file must be 1 byte to 256 MiB");
		goto out;
	}
	if (!*mime || strlen(mime) > CONTENT_MIME_MAX_BYTES ||
	    strspn(mime, "abcdefghijklmnopqrstuvwxyz0123456789+-./") !=
	    strlen(mime) || !strchr(mime, '/')) {
		api_reply_error(req, 400, "mime: a lowercase MIME type");
		goto out;
	}
	for (size_t i = 0; i < BITSD_CONSOLE_UPLOADS_MAX && !u; i++)
		if (!c->up[i].id)
			u = &c->up[i];
	for (size_t i = 0; i < BITSD_CONSOLE_UPLOADS_MAX && !u; i++)
		if (!c->up[i].busy && (c->up[i].state == UP_DONE ||
				       c->up[i].state == UP_FAILED ||
				       (c->up[i].state == UP_RECEIVING &&
					time_mono_ms() - c->up[i].last_ms >
					BITSD_CONSOLE_UPLOAD_IDLE_MS))) {
			u = &c->up[i];
			if (u->state == UP_RECEIVING)	/* abandoned */
				(void)unlink(u->path);
			upload_clear(u);
		}
	if (!u) {
		api_reply_error(req, 429, "uploads are under way: wait for one "
				"to finish");
		goto out;
	}
	u->id = ++c->next_id;
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->mime, sizeof(u->mime), "%s", mime);
	u->size = (uint64_t)size;
	u->last_ms = time_mono_ms();
	snprintf(idname, sizeof(idname), "up-%u", u->id);
	u->path = fsutil_path_join(c->uploads, idname);
	fd = open(u->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn(LD_APP, "console: cannot create %s: %s", u->path,
			 strerror(errno));
		upload_clear(u);
		api_reply_error(req, 500, "cannot store the upload");
		goto out;
	}
	close(fd);
	o = upload_json(c, u);
	api_reply_json(req, 201, o);
	json_decref(o);
out:
	json_decref(body);
}

/* A piece of an upload written on a worker. */
struct piece_job {
	uint64_t gen;
	unsigned id;
	char *path;
	uint64_t offset;
	uint8_t *data;
	size_t len;
	int r;
	struct evhttp_request *req;	/* NULL once its connection closed */
	struct evhttp_connection *conn;
};

static void piece_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct piece_job *j = arg;

	(void)conn;
	j->req = NULL;
	j->conn = NULL;
}

static void piece_run(void *arg)
{
	struct piece_job *j = arg;
	int fd = open(j->path, O_WRONLY | O_CLOEXEC);
	size_t done = 0;

	j->r = fd < 0 ? ERR_IO : 0;
	while (j->r == 0 && done < j->len) {
		ssize_t w = pwrite(fd, j->data + done, j->len - done,
				   (off_t)(j->offset + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			j->r = ERR_IO;
		else
			done += (size_t)w;
	}
	if (fd >= 0 && close(fd) != 0)
		j->r = ERR_IO;
}

static void piece_done(void *arg)
{
	struct piece_job *j = arg;
	struct upload *u = live_gen == j->gen ? upload_find(j->id) : NULL;

	if (u) {
		u->busy = false;
		if (j->r == 0)
			u->received = j->offset + j->len;
		u->last_ms = time_mono_ms();
	}
	if (j->req) {
		evhttp_connection_set_closecb(j->conn, NULL, NULL);
		if (!u) {
			api_reply_error(j->req, 410, "the upload is gone");
		} else if (j->r != 0) {
			api_reply_error(j->req, 500, "cannot store the upload");
		} else {
			json_t *o = upload_json(live, u);
			api_reply_json(j->req, 200, o);
			json_decref(o);
		}
	}
	free(j->path);
	free(j->data);
	free(j);
}

static void publish_data(struct bitsd_console *c, struct evhttp_request *req,
			 struct upload *u, const char *query)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = in ? evbuffer_get_length(in) : 0;
	struct evkeyvalq q;
	const char *v;
	uint64_t off = 0;
	struct piece_job *j;

	TAILQ_INIT(&q);
	if (query)
		evhttp_parse_query_str(query, &q);
	v = evhttp_find_header(&q, "offset");
	if (!v || dec_decode(&off, UINT64_MAX, v, strlen(v)) != 0) {
		api_reply_error(req, 400, "offset: a number of bytes");
		goto out;
	}
	if (u->state != UP_RECEIVING || u->busy) {
		api_reply_error(req, 409, "the upload takes no data now");
		goto out;
	}
	if (off != u->received || len == 0 || len > u->size - u->received) {
		api_reply_error(req, 409, "send the next piece, at offset "
				"\"received\", within the size");
		goto out;
	}
	j = xzalloc(sizeof(*j));
	j->gen = c->gen;
	j->id = u->id;
	j->path = xstrdup(u->path);
	j->offset = off;
	j->len = len;
	j->data = xmalloc(len);
	evbuffer_remove(in, j->data, len);
	j->req = req;
	j->conn = evhttp_request_get_connection(req);
	evhttp_connection_set_closecb(j->conn, piece_conn_closed, j);
	u->busy = true;
	worker_submit(c->d.workers, (struct work){ piece_run, piece_done, j });
out:
	evhttp_clear_headers(&q);
}

/* Sealing, signing and the key book line, on a worker. */
struct seal_job {
	uint64_t gen;
	unsigned id;
	char *path, *stage, *creator_path, *keys_path;
	struct content_card *card;
	bool free_content;
	int r;
	char err[200];
	struct content_published pub;
	char *card_hex;
	uint8_t card_id[32];
	bool reg;			/* on chain before it is signed */
};

/* Sign the card with the creator key and encode it (worker). */
static void card_sign(struct seal_job *j)
{
	struct ed25519_seed *sk = secmem_alloc(sizeof(*sk));
	struct content_signer sg;
	struct bbuf b = BBUF_INIT;

	if ((j->r = content_creator_seed_load(j->creator_path, sk)) != 0) {
		snprintf(j->err, sizeof(j->err), "the creator key: %s",
			 err_str(j->r));
		goto out;
	}
	content_signer_from_seed(&sg, sk);
	if ((j->r = content_card_sign(j->card, &sg)) != 0 ||
	    (j->r = content_card_encode(j->card, &b)) != 0 ||
	    (j->r = content_card_id(j->card, j->card_id)) != 0) {
		snprintf(j->err, sizeof(j->err), "the card: %s", err_str(j->r));
		goto out;
	}
	free(j->card_hex);
	j->card_hex = xmalloc(2 * b.len + 1);
	hex_encode(j->card_hex, 2 * b.len + 1, b.data, b.len);
out:
	bbuf_free(&b);
	secmem_free(sk);
}

static void seal_run(void *arg)
{
	struct seal_job *j = arg;
	struct content_publish_opts o = { .mime = j->card->mime, .threads = 1 };
	struct content_card *cd = j->card;
	char line[KEY_LINE_BYTES + 1];
	int fd;

	if ((j->r = content_fs_mkdirs(j->stage, 0700)) != 0) {
		snprintf(j->err, sizeof(j->err), "cannot make the stage folder");
		return;
	}
	if ((fd = open(j->path, O_RDONLY | O_CLOEXEC)) < 0) {
		j->r = ERR_IO;
		snprintf(j->err, sizeof(j->err), "the upload is gone");
		return;
	}
	j->r = content_publish_fd(fd, j->stage, &o, &j->pub);
	close(fd);
	if (j->r != 0) {
		snprintf(j->err, sizeof(j->err), "sealing failed: %s",
			 err_str(j->r));
		return;
	}
	memcpy(cd->content_hash, j->pub.content_hash, 32);
	memcpy(cd->key_commitment, j->pub.key_commitment, 32);
	cd->size = j->pub.manifest.size;
	if (j->free_content) {	/* whoever sees the card may play it */
		size_t n = strlen(cd->description);
		char hx[HEX_ENC_LEN(32)];

		hex_encode(hx, sizeof(hx), j->pub.key.b, 32);
		if (n + 2 + strlen(FREE_KEY_PREFIX) + 64 >=
		    sizeof(cd->description)) {
			j->r = ERR_TOO_BIG;
			snprintf(j->err, sizeof(j->err), "the description is too "
				 "long to carry the key of a free content");
		} else {
			snprintf(cd->description + n, sizeof(cd->description) - n,
				 "%s" FREE_KEY_PREFIX "%s", n ? "\n\n" : "", hx);
		}
		memwipe(hx, sizeof(hx));
		if (j->r != 0)
			return;
	}
	/* a card registered on chain is signed once it has its licence */
	if (!j->reg && (card_sign(j), j->r != 0))
		return;
	/* the key book: the creator keeps the key */
	hex_encode(line, sizeof(line), j->pub.content_hash, 32);
	line[64] = ' ';
	hex_encode(line + 65, sizeof(line) - 65, j->pub.key.b, 32);
	line[129] = '\n';
	fd = open(j->keys_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || fsutil_write_all(fd, line, KEY_LINE_BYTES) != 0 ||
	    fsync(fd) != 0) {
		j->r = ERR_IO;
		snprintf(j->err, sizeof(j->err), "cannot keep the key in %s",
			 j->keys_path);
	}
	if (fd >= 0)
		close(fd);
	memwipe(line, sizeof(line));
}

/* Remove the stage copy and the upload (worker). */
struct cleanup_job {
	char *dir, *file;
};

static void cleanup_run(void *arg)
{
	struct cleanup_job *j = arg;

	if (j->dir)
		(void)content_fs_rmtree(j->dir);
	if (j->file)
		(void)unlink(j->file);
}

static void cleanup_done(void *arg)
{
	struct cleanup_job *j = arg;

	free(j->dir);
	free(j->file);
	free(j);
}

/* The stage copy and the upload removed, the job freed. */
static void seal_end(struct seal_job *j)
{
	struct cleanup_job *cj = xzalloc(sizeof(*cj));

	cj->dir = j->pub.dir ? xstrdup(j->pub.dir) : NULL;
	cj->file = xstrdup(j->path);
	if (live && live_gen == j->gen)
		worker_submit(live->d.workers,
			      (struct work){ cleanup_run, cleanup_done, cj });
	else
		cleanup_done(cj);
	content_published_clear(&j->pub);
	free(j->card_hex);
	free(j->card);
	free(j->path);
	free(j->stage);
	free(j->creator_path);
	free(j->keys_path);
	free(j);
}

static void upload_fail(struct upload *u, int r, const char *what)
{
	u->state = UP_FAILED;
	snprintf(u->err, sizeof(u->err), "%s: %s", what, err_str(r));
}

/* The signed card in the store: published. */
static void seal_finish(struct seal_job *j, struct upload *u)
{
	int r = content_store_card_put(swarm_service_store(live->d.swarm),
				       j->pub.content_hash, j->card);

	if (r != 0)
		return upload_fail(u, r, "storing the card failed");
	u->state = UP_DONE;
	memcpy(u->card_id, j->card_id, 32);
	u->card_hex = j->card_hex;
	j->card_hex = NULL;
	log_notice(LD_APP, "console: published %s (%llu bytes)", u->name,
		   (unsigned long long)u->size);
}

static void sign_run(void *arg)
{
	card_sign(arg);
}

static void sign_done(void *arg)
{
	struct seal_job *j = arg;
	struct upload *u = live_gen == j->gen ? upload_find(j->id) : NULL;

	if (u) {
		u->busy = false;
		if (j->r != 0) {
			u->state = UP_FAILED;
			snprintf(u->err, sizeof(u->err), "%s", j->err);
		} else {
			seal_finish(j, u);
		}
	}
	seal_end(j);
}

static void on_registered(void *arg, int err, const char *why,
			  uint64_t index, const uint8_t tx[32])
{
	struct seal_job *j = arg;
	struct upload *u = live_gen == j->gen ? upload_find(j->id) : NULL;
	struct market_registrar *reg;

	if (!u)
		return seal_end(j);
	reg = registrar(live, j->card->key_agent);
	if (err != 0 || !reg) {
		u->busy = false;
		u->state = UP_FAILED;
		snprintf(u->err, sizeof(u->err), "the chain registration "
			 "failed: %s", err ? why : "the market stopped");
		return seal_end(j);
	}
	u->on_chain = true;
	u->licence_index = index;
	memcpy(u->tx, tx, 32);
	market_registrar_registry(reg, j->card->licence_contract);
	j->card->licence_index = index;
	worker_submit(live->d.workers, (struct work){ sign_run, sign_done, j });
}

/* Sealed: into the store and seeded; then registered on chain and signed,
 * or published at once. */
static void seal_done(void *arg)
{
	struct seal_job *j = arg;
	struct upload *u = live_gen == j->gen ? upload_find(j->id) : NULL;
	struct market_registrar *reg;
	struct market_register_order o;
	struct content_store *st;
	uint8_t h[32];
	int r = j->r;

	if (!u)
		return seal_end(j);
	u->busy = false;
	if (r != 0) {
		u->state = UP_FAILED;
		snprintf(u->err, sizeof(u->err), "%s", j->err);
		return seal_end(j);
	}
	st = swarm_service_store(live->d.swarm);
	u->state = UP_SEEDING;
	r = content_store_import(st, j->pub.dir, true, h);
	if (r == 0 || r == ERR_EXISTS)
		r = swarm_content_add(swarm_service_swarm(live->d.swarm),
				      j->pub.content_hash, SWARM_PICK_RAREST);
	if (r != 0 && r != ERR_EXISTS) {
		upload_fail(u, r, "storing and seeding failed");
		return seal_end(j);
	}
	memcpy(u->hash, j->pub.content_hash, 32);
	book_add(live, j->pub.content_hash, &j->pub.key);
	if (!j->reg) {
		seal_finish(j, u);
		return seal_end(j);
	}
	memset(&o, 0, sizeof(o));
	memcpy(o.content_hash, j->pub.content_hash, 32);
	memcpy(o.key, j->pub.key.b, 32);
	o.royalty_bps = (uint16_t)(u->royalty_pct * 100);
	reg = registrar(live, j->card->key_agent);
	if (!reg || u256_from_be(&o.price, j->card->price, 32) != 0 ||
	    market_registrar_start(reg, &o, on_registered, j) != 0) {
		u->state = UP_FAILED;
		snprintf(u->err, sizeof(u->err), "the chain registration "
			 "could not start: %s", reg ? "another one is under "
			 "way" : "the market is off");
		memwipe(&o, sizeof(o));
		return seal_end(j);
	}
	memwipe(&o, sizeof(o));
	u->state = UP_REGISTERING;
	u->busy = true;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (p[n])
			return false;
	return true;
}

/* The card's fields from the body (hash and signature come later). */
static const char *card_fields(const struct bitsd_console *c,
			       const struct upload *u, json_t *body,
			       struct content_card *cd, bool *free_content,
			       unsigned *royalty)
{
	const char *bad;

	snprintf(cd->mime, sizeof(cd->mime), "%s", u->mime);
	cd->size = u->size;
	if ((bad = content_card_fields_json(body, u->name, cd, free_content,
					    royalty)))
		return bad;
	/* we seed it: our swarm destination is its first seed hint */
	memcpy(cd->seeds[0], swarm_service_dest(c->d.swarm)->hash, 32);
	cd->seed_count = 1;
	cd->created = time_now_s();
	cd->version = 1;
	content_card_normalize(cd);
	return content_card_validate(cd) == 0 ? NULL :
	       "the card's fields are out of their limits";
}

static void publish_seal(struct bitsd_console *c, struct evhttp_request *req,
			 struct upload *u)
{
	struct content_card *cd = xzalloc(sizeof(*cd));
	struct seal_job *j;
	json_t *body = NULL, *o;
	const char *bad;
	bool fr = true;
	unsigned roy = 0;

	if (api_body_json(req, &body) != 0) {
		api_reply_error(req, 400, "the body must be a JSON object");
		goto fail;
	}
	if (u->state != UP_RECEIVING || u->busy || u->received != u->size) {
		api_reply_error(req, 409, "the whole file must be uploaded "
				"first, once");
		goto fail;
	}
	if ((bad = card_fields(c, u, body, cd, &fr, &roy))) {
		api_reply_error(req, 400, bad);
		goto fail;
	}
	json_decref(body);
	u->free_content = fr;
	u->royalty_pct = roy;
	u->state = UP_SEALING;
	u->busy = true;
	j = xzalloc(sizeof(*j));
	j->gen = c->gen;
	j->id = u->id;
	j->path = xstrdup(u->path);
	j->stage = xstrdup(c->stage);
	j->creator_path = xstrdup(c->creator_path);
	j->keys_path = xstrdup(c->keys_path);
	j->card = cd;
	j->free_content = fr;
	/* a paid content with no licence named is registered here when the
	 * market can (the card is signed once it has its licence) */
	j->reg = !fr && is_zero(cd->licence_contract, CARD_ADDRESS_BYTES) &&
		 registrar(c, NULL) != NULL;
	worker_submit(c->d.workers, (struct work){ seal_run, seal_done, j });
	o = upload_json(c, u);
	api_reply_json(req, 202, o);
	json_decref(o);
	return;
fail:
	json_decref(body);
	free(cd);
}

static void on_publish(void *ctx, struct evhttp_request *req,
		       const char *rest)
{
	struct bitsd_console *c = ctx;
	bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct upload *u;
	const char *end;
	uint64_t id;
	json_t *o;

	if (!c->d.swarm) {
		api_reply_error(req, 409, "publishing needs the swarm, which is "
				"off on this router (swarm = true in its config)");
		return;
	}
	if (!*rest) {
		if (post)
			publish_new(c, req);
		else
			api_reply_error(req, 405, "Method Not Allowed");
		return;
	}
	/* "/ID" and what follows it; the id no wider than upload ids */
	end = rest + 1 + strspn(rest + 1, "0123456789");
	if (rest[0] != '/' || dec_decode(&id, UINT_MAX, rest + 1,
					 (size_t)(end - rest - 1)) != 0 ||
	    !(u = upload_find((unsigned)id))) {
		api_reply_error(req, 404, "no such upload");
		return;
	}
	if (!*end && !post) {
		o = upload_json(c, u);
		api_reply_json(req, 200, o);
		json_decref(o);
	} else if (!strcmp(end, "/data") && post) {
		publish_data(c, req, u, uri ? evhttp_uri_get_query(uri) : NULL);
	} else if (!strcmp(end, "/seal") && post) {
		publish_seal(c, req, u);
	} else {
		api_reply_error(req, 404, "Not Found");
	}
}

/* ---- /api/console ---- */

struct seeded_sum {
	struct swarm *sw;
	uint64_t bytes;
};

static void seeded_one(void *ctx, const struct content_store_info *i)
{
	struct seeded_sum *sum = ctx;
	struct swarm_content_stats cs;

	if (swarm_content_stats(sum->sw, i->hash, &cs) == 0)
		sum->bytes += cs.bytes_up;
}

static void hosted_one(void *ctx, const char *name, uint64_t served)
{
	(void)name;
	*(uint64_t *)ctx += served;
}

/* Section sec's object member role, decimal fields into money. */
static bool money_of(struct api *api, const char *sec, const char *role,
		     const char *const *keys, struct u256 *money)
{
	json_t *o = api_section_json(api, sec), *r;
	bool on = false;

	if (o && (r = json_object_get(o, role)) != NULL) {
		on = true;
		for (; *keys; keys++, money++) {
			const char *v = json_string_value(json_object_get(
				r, *keys));

			if (!v || u256_parse_str(money, v) != 0)
				*money = u256_from_u64(0);
		}
	}
	json_decref(o);
	return on;
}

/* What the router has served and earned so far, into s. */
static void sample_fill(const struct bitsd_console *c, struct sample *s)
{
	static const char *const seed[] = { "unredeemed", "redeemed_value",
					    NULL };
	static const char *const relay[] = { "expected_value", "won_face",
					     "redeemed_face", NULL };
	static const char *const host[] = { "earned", "redeemed", NULL };
	static const char *const creator[] = { "paid", NULL };
	struct seeded_sum sum = { 0 };

	memset(s, 0, sizeof(*s));
	s->t_s = time_now_s();
	if (c->d.swarm) {
		sum.sw = swarm_service_swarm(c->d.swarm);
		(void)content_store_list(swarm_service_store(c->d.swarm),
					 seeded_one, &sum);
		s->seeded = sum.bytes;
	}
	if (c->d.transit)
		s->relayed = transit_table_stats(c->d.transit)->bytes_out;
	bitsd_proxy_sites(c->d.proxy, hosted_one, &s->hosted);
	s->seedpay = money_of(c->d.api, "seedpay", "seeder", seed,
			      &s->money[M_SEED]);
	/* earned as seeder: the vouchers held and those redeemed */
	if (s->seedpay &&
	    u256_add(&s->money[M_SEED], &s->money[M_SEED],
		     &s->money[M_SEED_REDEEMED]) != 0)
		s->money[M_SEED] = s->money[M_SEED_REDEEMED];
	s->relaypay = money_of(c->d.api, "relaypay", "relay", relay,
			       &s->money[M_RELAY_EXPECTED]);
	s->hostpay = money_of(c->d.api, "hostpay", "host", host,
			      &s->money[M_HOST]);
	s->hostpay_creator = money_of(c->d.api, "hostpay", "creator", creator,
				      &s->money[M_HOST_PAID]);
}

static void sample_take(void *arg)
{
	struct bitsd_console *c = arg;

	if (c->nsamples == BITSD_CONSOLE_SAMPLES) {
		c->first = (c->first + 1) % BITSD_CONSOLE_SAMPLES;
		c->nsamples--;
	}
	sample_fill(c, &c->samples[(c->first + c->nsamples) %
				   BITSD_CONSOLE_SAMPLES]);
	c->nsamples++;
	evloop_timer_arm(c->timer, BITSD_CONSOLE_SAMPLE_MS);
}

static json_t *sample_json(const struct sample *s)
{
	static const char *const names[M_N] = {
		"seeder", "seeder_redeemed", "relay_expected", "relay_won",
		"relay_redeemed", "host", "host_redeemed", "host_paid" };
	json_t *m = json_object();
	char d[U256_DEC_BYTES];

	for (size_t k = 0; k < M_N; k++)
		if (k < M_RELAY_EXPECTED ? s->seedpay :
		    k < M_HOST ? s->relaypay :
		    k < M_HOST_PAID ? s->hostpay : s->hostpay_creator)
			json_object_set_new(m, names[k], json_string(
				u256_format_dec(&s->money[k], d, sizeof(d))));
	return json_pack("{s:I, s:I, s:I, s:I, s:o}", "t", (json_int_t)s->t_s,
			 "seeded", (json_int_t)s->seeded,
			 "relayed", (json_int_t)s->relayed,
			 "hosted", (json_int_t)s->hosted, "money", m);
}

/* The samples, oldest first, and "now": the same taken at the call. */
static json_t *earnings_json(const struct bitsd_console *c)
{
	json_t *arr = json_array();
	struct sample now;

	for (size_t i = 0; i < c->nsamples; i++)
		json_array_append_new(arr, sample_json(
			&c->samples[(c->first + i) % BITSD_CONSOLE_SAMPLES]));
	sample_fill(c, &now);
	return json_pack("{s:i, s:b, s:b, s:b, s:b, s:o, s:o}",
			 "interval_s", BITSD_CONSOLE_SAMPLE_MS / 1000,
			 "swarm", c->d.swarm != NULL,
			 "transit", c->d.transit != NULL,
			 "hosting", c->d.proxy != NULL,
			 "market", c->d.market, "samples", arr,
			 "now", sample_json(&now));
}

/* A hosted site's bytes served, on its entry of the router's "sites". */
static void served_one(void *ctx, const char *name, uint64_t served)
{
	json_t *sites = ctx, *e;
	const char *n;
	size_t i;

	json_array_foreach(sites, i, e)
		if ((n = json_string_value(json_object_get(e, "name"))) &&
		    !strcmp(n, name))
			json_object_set_new(e, "served",
					    json_integer((json_int_t)served));
}

static void on_console(void *ctx, struct evhttp_request *req,
		       const char *rest)
{
	struct bitsd_console *c = ctx;
	json_t *o;

	if (!strcmp(rest, "/router")) {
		o = json_deep_copy(c->router);
		bitsd_proxy_sites(c->d.proxy, served_one,
				  json_object_get(o, "sites"));
		api_reply_json(req, 200, o);
		json_decref(o);
	} else if (!strcmp(rest, "/earnings")) {
		o = earnings_json(c);
		api_reply_json(req, 200, o);
		json_decref(o);
	} else {
		api_reply_error(req, 404, "Not Found");
	}
}

/* The "netdb" section of /api/status. */
static void netdb_section(void *ctx, json_t *o)
{
	struct bitsd_console *c = ctx;
	struct netdb_store *st = netdb_get_store(c->d.netdb);
	struct netdb_stats ns;

	netdb_stats(c->d.netdb, &ns);
	json_object_set_new(o, "routers",
			    json_integer((json_int_t)netdb_store_ri_count(st)));
	json_object_set_new(o, "floodfills",
			    json_integer((json_int_t)netdb_store_ff_count(st)));
	json_object_set_new(o, "leasesets",
			    json_integer((json_int_t)netdb_store_ls_count(st)));
	/* what they take, against [limits] netdb-routers/-leasesets, and
	 * the ones refused for want of room */
	json_object_set_new(o, "routers_bytes",
			    json_integer((json_int_t)netdb_store_ri_bytes(st)));
	json_object_set_new(o, "leasesets_bytes",
			    json_integer((json_int_t)netdb_store_ls_bytes(st)));
	json_object_set_new(o, "refused_full",
			    json_integer((json_int_t)ns.rejected_full));
	/* Floodfill profiles (netdb/ffprof.h): left out now, bans so far,
	 * junk answers, our stores verified or lost at another floodfill. */
	json_object_set_new(o, "floodfills_bad",
			    json_integer((json_int_t)ns.ff_bad));
	json_object_set_new(o, "floodfill_bans",
			    json_integer((json_int_t)ns.ff_bans));
	json_object_set_new(o, "floodfill_junk",
			    json_integer((json_int_t)ns.ff_junk));
	json_object_set_new(o, "stores_verified",
			    json_integer((json_int_t)ns.store_verified));
	json_object_set_new(o, "stores_lost",
			    json_integer((json_int_t)ns.store_lost));
	/* Lookups and stores refused by the rate limits; lookups we sent
	 * and exploration keys. */
	json_object_set_new(o, "rate_limited",
			    json_integer((json_int_t)ns.rate_limited));
	json_object_set_new(o, "lookups_sent",
			    json_integer((json_int_t)ns.lookups_sent));
	json_object_set_new(o, "explorations",
			    json_integer((json_int_t)ns.explorations));
}

/* The first line of path (an address file), or NULL. */
static char *first_line(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char *s;

	if (fsutil_read_file(path, 1024, &buf, &len) != 0)
		return NULL;
	s = xmalloc(len + 1);
	memcpy(s, buf, len);
	s[len] = '\0';
	s[strcspn(s, "\r\n")] = '\0';
	free(buf);
	return s;
}

/* The proxies' settings and the server and web tunnels of tunnels.conf
 * with their addresses (the .b32 files the proxy subsystem wrote). */
static json_t *router_json(const struct conf *cfg)
{
	char hp[32], sp[32], err[256];
	char *path = cfg->proxy_tunnels ? xstrdup(cfg->proxy_tunnels) :
		     fsutil_path_join(cfg->datadir, "tunnels.conf");
	uint8_t *text = NULL;
	size_t len = 0;
	struct tunconf *tc = NULL;
	json_t *sites = json_array(), *o;
	int r;

	snprintf(hp, sizeof(hp), "127.0.0.1:%u",
		 cfg->proxy_http_port ? cfg->proxy_http_port : 4444);
	snprintf(sp, sizeof(sp), "127.0.0.1:%u",
		 cfg->proxy_socks_port ? cfg->proxy_socks_port : 4447);
	r = fsutil_read_file(path, TUNCONF_MAX_BYTES, &text, &len);
	if (r == 0 && tunconf_parse((const char *)text, len, &tc, err,
				    sizeof(err)) == 0) {
		for (size_t i = 0; i < tc->n; i++) {
			const struct tunconf_entry *e = &tc->e[i];
			char target[64], *kp, *bp, *b32 = NULL;

			if (e->type == TUNCONF_CLIENT)
				continue;
			snprintf(target, sizeof(target), "%s:%u", e->host,
				 e->port);
			if (e->keys) {
				kp = e->keys[0] == '/' ? xstrdup(e->keys) :
				     fsutil_path_join(cfg->datadir, e->keys);
				bp = xmalloc(strlen(kp) + 5);
				snprintf(bp, strlen(kp) + 5, "%s.b32", kp);
				b32 = first_line(bp);
				free(bp);
				free(kp);
			}
			json_array_append_new(sites, json_pack(
				"{s:s, s:s, s:s, s:s?}", "name", e->name,
				"type", e->type == TUNCONF_WEB ? "web" : "server",
				"serves", e->type == TUNCONF_WEB && e->root ?
				e->root : target, "address", b32));
			free(b32);
		}
	}
	o = json_pack("{s:{s:b, s:s, s:s}, s:o}", "proxy", "on", cfg->proxy,
		      "http", hp, "socks", sp, "sites", sites);
	tunconf_free(tc);
	free(text);
	free(path);
	return o;
}

/* ---- start and stop ---- */

static const char *const routes[] = { "/api/swarm", "/api/publish",
				      "/api/console" };

int bitsd_console_start(struct evloop *el, const struct conf *cfg,
			const struct bitsd_console_deps *deps,
			struct bitsd_console **out)
{
	static const api_route_fn fns[] = { on_swarm, on_publish, on_console };
	static const unsigned methods[] = {
		EVHTTP_REQ_GET | EVHTTP_REQ_POST, EVHTTP_REQ_GET | EVHTTP_REQ_POST,
		EVHTTP_REQ_GET };
	struct bitsd_console *c = xzalloc(sizeof(*c));
	int r;

	c->el = el;
	c->d = *deps;
	c->gen = ++live_gen;
	c->dir = fsutil_path_join(cfg->datadir, "console");
	c->uploads = fsutil_path_join(c->dir, "uploads");
	c->stage = fsutil_path_join(c->dir, "stage");
	c->keys_path = fsutil_path_join(c->dir, "keys");
	c->creator_path = fsutil_path_join(cfg->feed_dir ? cfg->feed_dir :
					   cfg->datadir, "creator.key");
	if ((r = content_fs_mkdirs(c->uploads, 0700)) != 0 ||
	    (r = fsutil_dir_ensure_private(c->dir)) != 0) {
		log_err(LD_APP, "console: cannot make %s", c->uploads);
		goto fail;
	}
	/* what a crash left behind */
	(void)content_fs_rmtree(c->stage);
	(void)content_fs_rmtree(c->uploads);
	if ((r = content_fs_mkdirs(c->uploads, 0700)) != 0 ||
	    (r = book_load(c)) != 0)
		goto fail;
	c->router = router_json(cfg);
	live = c;
	for (size_t i = 0; i < ARRAY_LEN(routes); i++)
		if ((r = api_add_route(deps->api, routes[i], methods[i], fns[i],
				       c)) != 0) {
			while (i--)
				api_remove_route(deps->api, routes[i]);
			goto fail;
		}
	if (deps->netdb)
		(void)api_add_section(deps->api, "netdb", netdb_section, c);
	c->timer = evloop_timer_new(el, sample_take, c);
	sample_take(c);
	*out = c;
	return 0;
fail:
	if (live == c)
		live = NULL;
	json_decref(c->router);
	free(c->dir);
	free(c->uploads);
	free(c->stage);
	free(c->keys_path);
	free(c->creator_path);
	free(c);
	return r;
}

void bitsd_console_stop(struct bitsd_console *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ARRAY_LEN(routes); i++)
		api_remove_route(c->d.api, routes[i]);
	api_remove_section(c->d.api, "netdb");
	if (live == c)
		live = NULL;
	live_gen++;	/* jobs still out find nothing */
	evloop_timer_free(c->timer);
	for (size_t i = 0; i < BITSD_CONSOLE_UPLOADS_MAX; i++)
		upload_clear(&c->up[i]);
	if (c->keys)
		xfree_wipe(c->keys, c->nkeys * sizeof(*c->keys));
	json_decref(c->router);
	free(c->dir);
	free(c->uploads);
	free(c->stage);
	free(c->keys_path);
	free(c->creator_path);
	free(c);
}
