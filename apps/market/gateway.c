/*
 * The chain RPC gateway (apps/market/gateway.h): framed JSON-RPC requests
 * from streams, checked and rate limited, passed to the node through the
 * upstream hook, answered in order per stream.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "apps/client/stream.h"
#include "apps/market/gateway.h"
#include "apps/market/service.h"
#include "chain/jsonrpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "router/evloop.h"

static const char *const default_methods[] = {
	"eth_chainId", "eth_blockNumber", "eth_getBlockByNumber",
	"eth_getTransactionCount", "eth_feeHistory", "eth_estimateGas",
	"eth_call", "eth_sendRawTransaction", "eth_getTransactionReceipt",
	"eth_getLogs", "eth_getBalance",
};

void market_gw_config_default(struct market_gw_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(default_methods) /
			    sizeof(default_methods[0]); i++)
		c->methods[c->nmethods++] = default_methods[i];
	c->rate_per_sec = 20;
	c->rate_burst = 60;
	c->max_inflight = 64;
	c->max_conns = 256;
}

static bool method_allowed(const struct market_gw_config *c, const char *m)
{
	for (unsigned i = 0; i < c->nmethods; i++)
		if (strcmp(c->methods[i], m) == 0)
			return true;
	return false;
}

/* A usable id: an integer, or a short string; null when absent. */
static json_t *take_id(const json_t *req)
{
	json_t *id = json_object_get(req, "id");

	if (json_is_integer(id))
		return json_incref(id);
	if (json_is_string(id) &&
	    json_string_length(id) <= MARKET_GW_MAX_ID_BYTES)
		return json_incref(id);
	return NULL;
}

/*
 * eth_getLogs costs the node in proportion to the blocks it scans: only
 * numeric ranges of at most MARKET_GW_MAX_LOG_BLOCKS (or one blockHash).
 */
static bool logs_range_ok(const json_t *params)
{
	const json_t *q = json_array_get(params, 0);
	uint64_t from, to;

	if (json_array_size(params) != 1 || !json_is_object(q))
		return false;
	if (json_object_get(q, "blockHash"))
		return !json_object_get(q, "fromBlock") &&
		       !json_object_get(q, "toBlock");
	if (jsonrpc_get_u64(json_object_get(q, "fromBlock"), &from) != 0 ||
	    jsonrpc_get_u64(json_object_get(q, "toBlock"), &to) != 0)
		return false;
	return from <= to && to - from < MARKET_GW_MAX_LOG_BLOCKS;
}

int market_gw_request_check(const struct market_gw_config *c,
			    const uint8_t *p, size_t len, char **out,
			    size_t *out_len, json_t **id_out, int *code,
			    const char **why)
{
	json_t *req = NULL, *id = NULL, *params, *m, *v, *o = NULL;
	json_error_t jerr;
	int r = ERR_FORMAT;

	*code = MARKET_GW_ERR_INVALID;
	*why = "invalid request";
	if (id_out)
		*id_out = NULL;
	if (len > MARKET_GW_MAX_REQUEST_BYTES ||
	    !jsonrpc_depth_ok(p, len)) {
		*why = "request too big or nested too deep";
		return ERR_TOO_BIG;
	}
	req = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(req)) {
		*why = json_is_array(req) ? "batches are not served"
					   : "not a JSON object";
		goto out;
	}
	id = take_id(req);
	v = json_object_get(req, "jsonrpc");
	m = json_object_get(req, "method");
	params = json_object_get(req, "params");
	if (!id || !json_is_string(v) || strcmp(json_string_value(v), "2.0") ||
	    !json_is_string(m) || (params && !json_is_array(params))) {
		*why = "not a JSON-RPC 2.0 call with an id";
		goto out;
	}
	if (!method_allowed(c, json_string_value(m))) {
		*code = MARKET_GW_ERR_METHOD;
		*why = "method not served by this gateway";
		r = ERR_UNSUPPORTED;
		goto out;
	}
	if (strcmp(json_string_value(m), "eth_getLogs") == 0 &&
	    !logs_range_ok(params)) {
		*code = MARKET_GW_ERR_LIMIT;
		*why = "eth_getLogs needs a numeric block range within the limit";
		r = ERR_RANGE;
		goto out;
	}
	o = json_pack("{s:s, s:O, s:O, s:o}", "jsonrpc", "2.0", "id", id,
		      "method", m, "params",
		      params ? json_incref(params) : json_array());
	*out = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (!*out) {
		*why = "cannot rebuild the request";
		goto out;
	}
	*out_len = strlen(*out);
	r = 0;
out:
	if (id_out) {
		*id_out = id;
		id = NULL;
	}
	json_decref(id);
	json_decref(o);
	json_decref(req);
	return r;
}

/* ------------------------------------------------------------ the service */

/* A request at the node; outlives its connection (conn = NULL then). */
struct gw_req {
	struct market_gw *gw;		/* NULL once gw is freed */
	struct market_conn *conn;
	json_t *id;			/* for an error reply */
	struct gw_req *next, **pprev;	/* gw->reqs */
};

struct market_gw {
	struct market_gw_config cfg;
	struct market_upstream up;
	struct evloop *el;
	struct market_service sv;
	struct gw_req *reqs;
	unsigned inflight;
	struct market_rate rate;
	struct market_gw_stats stats;
};

static void gw_request(void *ctx, struct market_conn *c, const uint8_t *p,
		       size_t len);

struct market_gw *market_gw_new(const struct market_gw_config *c,
				struct market_upstream up, struct evloop *el)
{
	struct market_gw *gw = xcalloc(1, sizeof(*gw));

	gw->cfg = *c;
	if (gw->cfg.nmethods == 0) {
		struct market_gw_config d;
		market_gw_config_default(&d);
		memcpy(gw->cfg.methods, d.methods, sizeof(d.methods));
		gw->cfg.nmethods = d.nmethods;
	}
	gw->up = up;
	gw->el = el;
	market_service_init(&gw->sv, MARKET_GW_MAX_REQUEST_BYTES,
			    gw->cfg.max_conns, gw_request, gw);
	market_rate_init(&gw->rate, gw->cfg.rate_per_sec, gw->cfg.rate_burst);
	return gw;
}

void market_gw_free(struct market_gw *gw)
{
	if (!gw)
		return;
	market_service_clear(&gw->sv);
	for (struct gw_req *rq = gw->reqs; rq; rq = rq->next)
		rq->gw = NULL;
	free(gw);
}

/* A JSON-RPC error object as a new string (NULL if it cannot be made). */
static char *error_body(json_t *id, int code, const char *msg, size_t *len)
{
	json_t *o = json_pack("{s:s, s:O?, s:{s:i, s:s}}", "jsonrpc", "2.0",
			      "id", id, "error", "code", code, "message", msg);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	*len = s ? strlen(s) : 0;
	return s;
}

static void send_error(struct market_conn *c, json_t *id, int code,
		       const char *msg)
{
	size_t len;
	char *s = error_body(id, code, msg, &len);

	if (s)
		market_conn_reply(c, s, len);
	free(s);
}

static void upstream_done(void *arg, int err, const uint8_t *body, size_t len)
{
	struct gw_req *rq = arg;
	struct market_conn *c = rq->conn;
	char *e = NULL;
	size_t elen = 0;

	if (rq->gw) {
		rq->gw->inflight--;
		if (rq->next)
			rq->next->pprev = rq->pprev;
		*rq->pprev = rq->next;
		if (err != 0)
			rq->gw->stats.node_errors++;
	}
	if (err != 0) {
		log_info(LD_APP, "chain gateway: node failed: %s",
			 err_str(err));
		e = error_body(rq->id, MARKET_GW_ERR_NODE, "node unavailable",
			       &elen);
		body = (const uint8_t *)e;
		len = elen;
	}
	json_decref(rq->id);
	free(rq);
	if (c)
		market_conn_finish(c, body, len);
	free(e);
}

/* Forward one checked request to the node. */
static void forward(struct market_gw *gw, struct market_conn *c, json_t *id,
		    const char *req, size_t req_len)
{
	struct gw_req *rq = xcalloc(1, sizeof(*rq));

	rq->gw = gw;
	rq->id = json_incref(id);
	if (gw->up.start(gw->up.ctx, req, req_len, MARKET_GW_MAX_REPLY_BYTES,
			 upstream_done, rq) != 0) {
		json_decref(rq->id);
		free(rq);
		gw->stats.node_errors++;
		send_error(c, id, MARKET_GW_ERR_NODE, "node unavailable");
		return;
	}
	gw->inflight++;
	gw->stats.forwarded++;
	market_conn_hold(c, &rq->conn);
	rq->next = gw->reqs;
	if (rq->next)
		rq->next->pprev = &rq->next;
	rq->pprev = &gw->reqs;
	gw->reqs = rq;
}

/* At debug: which destination asked for which method (never the
 * parameters, which name addresses). */
static void log_request(const struct market_conn *c, const char *req,
			size_t len)
{
	json_t *o = json_loadb(req, len, 0, NULL);
	const char *m = json_string_value(json_object_get(o, "method"));
	char h[72];

	log_debug(LD_APP, "chain gateway: %s from %s", m ? m : "?",
		  log_safe_hash(h, sizeof(h), market_conn_peer_hash(c)));
	json_decref(o);
}

/* Handle one request frame. */
static void gw_request(void *ctx, struct market_conn *c, const uint8_t *p,
		       size_t len)
{
	struct market_gw *gw = ctx;
	const char *why;
	json_t *id = NULL;
	char *req = NULL;
	size_t req_len = 0;
	int code, r;

	gw->stats.requests++;
	r = market_gw_request_check(&gw->cfg, p, len, &req, &req_len, &id,
				    &code, &why);
	if (r == 0 && !market_rate_take(&gw->rate, market_conn_peer_hash(c))) {
		gw->stats.refused_rate++;
		send_error(c, id, MARKET_GW_ERR_LIMIT, "rate limited");
	} else if (r == 0 && gw->inflight >= gw->cfg.max_inflight) {
		gw->stats.refused_busy++;
		send_error(c, id, MARKET_GW_ERR_LIMIT, "gateway busy");
	} else if (r == 0) {
		if (log_enabled(LOG_DEBUG))
			log_request(c, req, req_len);
		forward(gw, c, id, req, req_len);
	} else {
		if (r == ERR_UNSUPPORTED)
			gw->stats.refused_method++;
		else
			gw->stats.refused_invalid++;
		send_error(c, id, code, why);
	}
	free(req);
	json_decref(id);
}

void market_gw_accept(struct market_gw *gw, struct stream *s)
{
	market_service_accept(&gw->sv, s);
}

void market_gw_serve(struct market_gw *gw, struct stream_mgr *mgr)
{
	market_service_serve(&gw->sv, mgr);
}

void market_gw_stats(const struct market_gw *gw, struct market_gw_stats *out)
{
	*out = gw->stats;
	out->conns = gw->sv.conns_total;
}
