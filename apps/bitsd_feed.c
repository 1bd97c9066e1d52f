/*
 * bitsd's feed subsystem (apps/bitsd_feed.h): the configuration keys
 * turned into a struct feed_service_cfg, and /api/feed handed to the
 * service's JSON calls.
 */
#include "config.h"
#include "apps/bitsd_feed.h"
#include "apps/api/api.h"
#include "apps/bitsd_market.h"
#include "apps/client/dest.h"
#include "apps/feed/did.h"
#include "apps/feed/didscan.h"
#include "apps/feed/pow.h"
#include "apps/feed/service.h"
#include "chain/calls.h"
#include "chain/rpc.h"
#include "router/conf.h"
#include "router/evloop.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"

#include <event2/http.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One scan of the DID registry on a worker (the index file written
 * first when save is not empty). */
struct did_job {
	struct chain_client *cc;	/* the feed's: one job at a time */
	uint8_t registry[20];
	uint64_t from;
	char *path;
	struct bbuf save;
	int save_r, r;
	char why[160];
	struct feed_did_scan scan;
	struct bitsd_feed *f;
};

struct bitsd_feed {
	struct feed_service *svc;
	struct api *api;
	struct evloop *el;
	char *dir;
	uint32_t round_s;
	/* favoured creators by DID: NULL without market.deploy */
	struct feed_did_index *did;
	struct worker_pool *wp;
	struct chain_client *cc;	/* NULL until bitsd_feed_did_start */
	struct evloop_timer *did_tick;
	struct did_job *job;		/* the scan under way */
	uint8_t registry[20], source[32];
	uint64_t next_block, saved_block, tip;
	bool dirty;			/* pairs changed since the last save */
	uint64_t scans, events, refused, errors;
	char error[160];
};

static void did_status(const struct bitsd_feed *f, json_t *out)
{
	json_object_set_new(out, "did", json_pack(
		"{sb sI sI sI sI sI sI sI ss}", "reading", f->cc != NULL,
		"pairs", (json_int_t)feed_did_count(f->did),
		"next_block", (json_int_t)f->next_block,
		"tip", (json_int_t)f->tip,
		"scans", (json_int_t)f->scans,
		"events", (json_int_t)f->events,
		"refused", (json_int_t)f->refused,
		"errors", (json_int_t)f->errors, "error", f->error));
}

static void on_request(void *ctx, struct evhttp_request *req,
		       const char *rest)
{
	struct bitsd_feed *f = ctx;
	bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	json_t *body = NULL, *out = NULL;
	int code;

	if (post && api_body_json(req, &body) != 0) {
		api_reply_error(req, 400, "the body must be a JSON object");
		return;
	}
	code = feed_service_api(f->svc, post, rest,
				uri ? evhttp_uri_get_query(uri) : NULL, body,
				&out);
	if (f->did && code == 200 && !post && !strcmp(rest, "/status") &&
	    json_is_object(out))
		did_status(f, out);
	api_reply_json(req, code, out);
	json_decref(out);
	json_decref(body);
}

int bitsd_feed_start(struct evloop *el, const struct conf *cfg,
		     const struct client_net *net, struct api *api,
		     feed_owned_fn owned, void *owned_ctx,
		     struct bitsd_feed **out)
{
	struct feed_service_cfg *fc = xzalloc(sizeof(*fc));
	struct bitsd_feed *f;
	int r;

	fc->datadir = cfg->feed_dir ? cfg->feed_dir : cfg->datadir;
	fc->followed_only = cfg->feed_followed_only;
	fc->views = cfg->feed_views;
	fc->round_s = cfg->feed_round_s;
	fc->pow_bits = (uint8_t)(cfg->feed_pow_bits > FEED_POW_BITS_MAX ?
				 FEED_POW_BITS_MAX : cfg->feed_pow_bits);
	fc->retention_days = cfg->feed_retention_days;
	fc->owned = owned;
	fc->owned_ctx = owned_ctx;
	f = xzalloc(sizeof(*f));
	f->el = el;
	f->dir = xstrdup(fc->datadir);
	f->round_s = cfg->feed_round_s ? cfg->feed_round_s :
		     FEED_SERVICE_ROUND_S;
	if (cfg->market_deploy) {
		/* Favoured by DID; the index fills once the chain is up. */
		f->did = feed_did_new();
		fc->favoured = feed_did_favoured_now;
		fc->favoured_ctx = f->did;
	}
	if (cfg->feed_peers &&
	    (r = feed_service_parse_peers(cfg->feed_peers, fc)) != 0) {
		free(fc);
		bitsd_feed_stop(f);
		return r;
	}
	r = feed_service_start(el, fc, net, &f->svc);
	if (r == 0) {
		client_dest_write_b32(fc->datadir, "feed.b32",
				      feed_service_dest(f->svc), "feed");
		if (api && (r = api_add_route(api, "/api/feed",
					      EVHTTP_REQ_GET | EVHTTP_REQ_POST,
					      on_request, f)) == 0)
			f->api = api;
	}
	if (r == 0)
		log_notice(LD_APP, "feed: %u peers, /api/feed %s", fc->npeers,
			   api ? "served" : "off (no api-port)");
	free(fc);
	if (r != 0) {
		bitsd_feed_stop(f);
		return r;
	}
	*out = f;
	return 0;
}

void bitsd_feed_stop(struct bitsd_feed *f)
{
	if (!f)
		return;
	bitsd_feed_did_stop(f);
	if (f->api)
		api_remove_route(f->api, "/api/feed");
	feed_service_free(f->svc);
	feed_did_free(f->did);
	free(f->dir);
	free(f);
}

/* ---- the DID index from the chain (docs/feed.md §9) ---- */

static char *did_path(const struct bitsd_feed *f)
{
	return fsutil_path_join(f->dir, BITSD_FEED_DID_FILE);
}

/* The index as saved now, in *out. */
static void did_snapshot(struct bitsd_feed *f, struct bbuf *out)
{
	feed_did_save(f->did, f->source, f->next_block, time_now_s(), out);
	f->saved_block = f->next_block;
	f->dirty = false;
}

static void did_job_run(void *arg)
{
	struct did_job *j = arg;

	if (j->save.len)
		j->save_r = fsutil_write_atomic(j->path, j->save.data,
						j->save.len, 0600, true);
	j->r = feed_did_scan(j->cc, j->registry, j->from,
			     FEED_DID_SCAN_BLOCKS, &j->scan);
	if (j->r != 0)
		snprintf(j->why, sizeof(j->why), "%s: %s", err_str(j->r),
			 chain_client_error(j->cc));
}

static void did_job_done(void *arg)
{
	struct did_job *j = arg;
	struct bitsd_feed *f = j->f;
	size_t n = 0;

	f->job = NULL;
	if (j->save_r != 0) {
		log_warn(LD_APP, "feed: cannot save the DID index to %s: %s",
			 j->path, err_str(j->save_r));
		f->dirty = true;
		f->saved_block = 0;
	}
	f->scans++;
	if (j->r != 0) {
		f->errors++;
		if (strcmp(f->error, j->why))
			log_info(LD_APP, "feed: reading the DID registry: %s",
				 j->why);
		snprintf(f->error, sizeof(f->error), "%s", j->why);
	} else {
		f->error[0] = '\0';
		f->tip = j->scan.tip;
		n = feed_did_scan_apply(f->did, &j->scan);
		f->events += n;
		f->refused += j->scan.nev - n;
		if (j->scan.nev)
			f->dirty = true;
		if (n)
			log_info(LD_APP, "feed: DID index: %zu key events in "
				 "blocks %" PRIu64 "-%" PRIu64 ", %zu pairs",
				 n, j->scan.from, j->scan.next - 1,
				 feed_did_count(f->did));
		f->next_block = j->scan.next;
	}
	/* More to read: at once; else at the next round. */
	if (f->did_tick)
		evloop_timer_arm(f->did_tick, j->r == 0 &&
				 f->next_block <= f->tip ? 0 :
				 (uint64_t)f->round_s * 1000u);
	feed_did_scan_clear(&j->scan);
	bbuf_free(&j->save);
	free(j->path);
	free(j);
}

static void did_tick(void *arg)
{
	struct bitsd_feed *f = arg;
	struct did_job *j;

	if (f->job)
		return;
	j = xzalloc(sizeof(*j));
	j->f = f;
	j->cc = f->cc;
	memcpy(j->registry, f->registry, 20);
	j->from = f->next_block;
	if (f->dirty || f->next_block - f->saved_block >=
	    BITSD_FEED_DID_SAVE_BLOCKS) {
		j->path = did_path(f);
		did_snapshot(f, &j->save);
	}
	f->job = j;
	worker_submit(f->wp, (struct work){ did_job_run, did_job_done, j });
}

int bitsd_feed_did_start(struct bitsd_feed *f, struct worker_pool *wp,
			 const struct chain_transport *t,
			 const struct chain_deploy *dep)
{
	static const uint8_t none[20];
	uint8_t *buf = NULL;
	size_t len = 0;
	char *path;
	int r;

	if (!f || !f->did)
		return 0;
	if (f->cc)
		return ERR_BAD_STATE;
	if (!memcmp(dep->did_registry, none, 20)) {
		log_notice(LD_APP, "feed: market.deploy names no DIDRegistry: "
			   "nobody is favoured by DID");
		return 0;
	}
	memcpy(f->registry, dep->did_registry, 20);
	memset(f->source, 0, sizeof(f->source));
	be64_put(f->source, dep->chain_id);
	memcpy(f->source + 8, dep->did_registry, 20);
	f->next_block = f->saved_block = dep->start_block;
	path = did_path(f);
	r = fsutil_read_file(path, FEED_DID_FILE_MAX, &buf, &len);
	if (r == 0) {
		r = feed_did_load(f->did, f->source, buf, len,
				  &f->next_block);
		xfree_wipe(buf, len);
		if (r == 0) {
			f->saved_block = f->next_block;
			log_info(LD_APP, "feed: DID index: %zu pairs from %s, "
				 "reading from block %" PRIu64,
				 feed_did_count(f->did), path, f->next_block);
		} else {
			f->next_block = f->saved_block = dep->start_block;
			log_notice(LD_APP, "feed: %s %s: reading the DID "
				   "registry again", path, r == ERR_NOT_FOUND ?
				   "is of another chain or registry" :
				   "is not a DID index");
		}
	} else if (r != ERR_NOT_FOUND) {
		log_warn(LD_APP, "feed: cannot read %s: %s", path, err_str(r));
	}
	free(path);
	f->wp = wp;
	f->cc = chain_client_new(t, dep->chain_id);
	f->did_tick = evloop_timer_new(f->el, did_tick, f);
	evloop_timer_arm(f->did_tick, 0);
	return 0;
}

static bool did_busy(void *arg)
{
	return ((struct bitsd_feed *)arg)->job != NULL;
}

void bitsd_feed_did_stop(struct bitsd_feed *f)
{
	struct bbuf b = BBUF_INIT;
	char *path;
	int r;

	if (!f || !f->cc)
		return;
	evloop_timer_free(f->did_tick);
	f->did_tick = NULL;
	/* A worker in a chain call waits on the loop: run it until done. */
	bitsd_market_drain(f->el, did_busy, f);
	if (f->dirty || f->next_block != f->saved_block) {
		path = did_path(f);
		did_snapshot(f, &b);
		if ((r = fsutil_write_atomic(path, b.data, b.len, 0600,
					     true)) != 0)
			log_warn(LD_APP, "feed: cannot save the DID index to "
				 "%s: %s", path, err_str(r));
		free(path);
		bbuf_free(&b);
	}
	chain_client_free(f->cc);
	f->cc = NULL;
}
