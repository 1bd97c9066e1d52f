/*
 * bitsd's feed subsystem (apps/bitsd_feed.h): the configuration keys
 * turned into a struct feed_service_cfg, and /api/feed handed to the
 * service's JSON calls.
 */
#include "config.h"
#include "apps/bitsd_feed.h"
#include "apps/api/api.h"
#include "apps/client/dest.h"
#include "apps/feed/pow.h"
#include "apps/feed/service.h"
#include "router/conf.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bitsd_feed {
	struct feed_service *svc;
	struct api *api;
};

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
	if (cfg->feed_peers &&
	    (r = feed_service_parse_peers(cfg->feed_peers, fc)) != 0) {
		free(fc);
		return r;
	}
	f = xzalloc(sizeof(*f));
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
	if (f->api)
		api_remove_route(f->api, "/api/feed");
	feed_service_free(f->svc);
	free(f);
}
