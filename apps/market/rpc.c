/*
 * Chain RPC through gateways over I2P streams, with the cross-check of
 * block hashes (apps/market/rpc.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/client/stream.h"
#include "apps/market/gateway.h"
#include "apps/market/link.h"
#include "apps/market/rpc.h"
#include "chain/jsonrpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "router/evloop.h"

struct xreq;

struct rpc_gw {
	struct market_rpc *mr;
	unsigned idx;
	struct keys_and_cert dest;
	struct stream *s;
	struct market_link link;
	struct xreq *head, **tail;	/* sent, waiting for replies */
	struct market_rpc_gw_info info;
	uint64_t down_until_ms;		/* failed lately: others first */
	uint64_t check_id;		/* the id of its check request */
};

/* One request: the caller's or the cross-check's own (fixed gateway). */
struct xreq {
	struct market_rpc *mr;
	char *req;
	size_t len, max;
	market_rpc_done_fn done;
	void *arg;
	int fixed_gw;			/* -1: any gateway */
	unsigned tries;
	struct evloop_timer *timer;
	struct rpc_gw *gw;		/* where it waits */
	struct xreq *next;
};

enum check_phase { CHECK_IDLE, CHECK_TIPS, CHECK_HASHES };

struct market_rpc {
	struct market_rpc_config cfg;
	struct stream_mgr *mgr;
	struct evloop *el;
	struct rpc_gw gws[MARKET_RPC_MAX_GATEWAYS];
	unsigned ngws, next_gw;
	struct xreq *waiting, **waiting_tail;	/* behind a cross-check */
	enum check_phase phase;
	unsigned check_outstanding;
	uint64_t tips[MARKET_RPC_MAX_GATEWAYS];
	bool tip_ok[MARKET_RPC_MAX_GATEWAYS];
	uint64_t check_height;
	uint64_t next_check_ms;		/* 0: before the first */
	bool checked_once, conflict;
	bool freeing;
	uint64_t next_id;
	market_rpc_done_fn check_done;
	void *check_arg;
};

#define RPC_GW_DOWN_MS 30000u

void market_rpc_config_default(struct market_rpc_config *c)
{
	c->timeout_ms = MARKET_RPC_TIMEOUT_MS;
	c->check_interval_ms = MARKET_RPC_CHECK_INTERVAL_MS;
	c->check_depth = MARKET_RPC_CHECK_DEPTH;
	c->port = MARKET_RPC_PORT;
}

struct market_rpc *market_rpc_new(const struct market_rpc_config *c,
				  struct stream_mgr *mgr, struct evloop *el)
{
	struct market_rpc *mr = xcalloc(1, sizeof(*mr));

	mr->cfg = *c;
	mr->mgr = mgr;
	mr->el = el;
	mr->waiting_tail = &mr->waiting;
	mr->next_id = 1ull << 40;
	return mr;
}

int market_rpc_add_gateway(struct market_rpc *mr,
			   const struct keys_and_cert *dest)
{
	struct rpc_gw *g;

	if (mr->ngws >= MARKET_RPC_MAX_GATEWAYS)
		return ERR_LIMIT;
	g = &mr->gws[mr->ngws];
	memset(g, 0, sizeof(*g));
	g->mr = mr;
	g->idx = mr->ngws++;
	g->dest = *dest;
	g->tail = &g->head;
	return 0;
}

int market_rpc_gateway_info(const struct market_rpc *mr, unsigned i,
			    struct market_rpc_gw_info *out)
{
	if (i >= mr->ngws)
		return ERR_ARG;
	*out = mr->gws[i].info;
	return 0;
}

bool market_rpc_in_conflict(const struct market_rpc *mr)
{
	return mr->conflict;
}

static void xreq_finish(struct xreq *x, int err, const uint8_t *body,
			size_t len)
{
	evloop_timer_free(x->timer);
	x->done(x->arg, err, body, len);
	free(x->req);
	free(x);
}

static void dispatch(struct xreq *x);

/* Close g's stream; its requests go elsewhere (or fail with err). */
static void gw_fail(struct rpc_gw *g, int err, struct xreq *culprit)
{
	struct xreq *x = g->head;

	if (g->s) {
		stream_set_handler(g->s, NULL, NULL);
		stream_reset(g->s);
		stream_release(g->s);
		g->s = NULL;
	}
	market_link_clear(&g->link);
	g->head = NULL;
	g->tail = &g->head;
	g->down_until_ms = time_mono_ms() + RPC_GW_DOWN_MS;
	log_info(LD_APP, "chain RPC: gateway %u failed: %s", g->idx,
		 err_str(err));
	while (x) {
		struct xreq *next = x->next;
		x->next = NULL;
		x->gw = NULL;
		evloop_timer_disarm(x->timer);
		if (x == culprit || x->fixed_gw >= 0 ||
		    x->tries >= x->mr->ngws)
			xreq_finish(x, x == culprit ? err : ERR_IO, NULL, 0);
		else
			dispatch(x);
		x = next;
	}
}

static void gw_event(void *ctx, struct stream *s, unsigned ev)
{
	struct rpc_gw *g = ctx;
	const uint8_t *p;
	size_t len;
	int r;

	(void)s;
	if (ev & (STREAM_EV_CONNECTED | STREAM_EV_WRITABLE))
		market_link_flush(&g->link);
	while (g->head && (r = market_link_next(&g->link, &p, &len)) != 0) {
		struct xreq *x = g->head;
		if (r < 0) {
			gw_fail(g, ERR_TOO_BIG, x);
			return;
		}
		g->head = x->next;
		if (!g->head)
			g->tail = &g->head;
		x->next = NULL;
		x->gw = NULL;
		if (len > x->max)
			xreq_finish(x, ERR_TOO_BIG, NULL, 0);
		else
			xreq_finish(x, 0, p, len);
		market_link_pop(&g->link);
	}
	if (ev & (STREAM_EV_EOF | STREAM_EV_RESET | STREAM_EV_FAILED |
		  STREAM_EV_CLOSED))
		gw_fail(g, ERR_IO, NULL);
}

static void xreq_timeout(void *arg)
{
	struct xreq *x = arg;

	if (x->gw)
		gw_fail(x->gw, ERR_TIMEOUT, x);
	else
		xreq_finish(x, ERR_TIMEOUT, NULL, 0);
}

static bool gw_usable(const struct rpc_gw *g)
{
	return !g->info.disagrees;
}

/* The next usable gateway, preferring ones that have not failed lately. */
static struct rpc_gw *pick(struct market_rpc *mr)
{
	uint64_t now = time_mono_ms();
	struct rpc_gw *fallback = NULL;

	for (unsigned k = 0; k < mr->ngws; k++) {
		struct rpc_gw *g = &mr->gws[(mr->next_gw + k) % mr->ngws];
		if (!gw_usable(g))
			continue;
		if (g->down_until_ms <= now) {
			mr->next_gw = (g->idx + 1) % mr->ngws;
			return g;
		}
		if (!fallback)
			fallback = g;
	}
	return fallback;
}

static void dispatch(struct xreq *x)
{
	struct market_rpc *mr = x->mr;
	struct rpc_gw *g;

	if (mr->freeing) {
		xreq_finish(x, ERR_IO, NULL, 0);
		return;
	} else if (x->fixed_gw >= 0) {
		g = &mr->gws[x->fixed_gw];
	} else if (mr->conflict) {
		xreq_finish(x, ERR_BAD_STATE, NULL, 0);
		return;
	} else if (!(g = pick(mr))) {
		xreq_finish(x, ERR_IO, NULL, 0);
		return;
	}
	x->tries++;
	if (!g->s) {
		struct stream *s;
		if (stream_connect(mr->mgr, &g->dest, 0, mr->cfg.port,
				   gw_event, g, &s) != 0) {
			gw_fail(g, ERR_IO, NULL);
			if (x->fixed_gw < 0 && x->tries < mr->ngws)
				dispatch(x);
			else
				xreq_finish(x, ERR_IO, NULL, 0);
			return;
		}
		g->s = s;
		market_link_init(&g->link, s, MARKET_GW_MAX_REPLY_BYTES);
	}
	x->gw = g;
	*g->tail = x;
	g->tail = &x->next;
	if (!x->timer)
		x->timer = evloop_timer_new(mr->el, xreq_timeout, x);
	evloop_timer_arm(x->timer, mr->cfg.timeout_ms);
	market_link_send(&g->link, x->req, x->len);
}

static struct xreq *xreq_new(struct market_rpc *mr, const char *req,
			     size_t len, size_t max, market_rpc_done_fn done,
			     void *arg, int fixed_gw)
{
	struct xreq *x = xcalloc(1, sizeof(*x));

	x->mr = mr;
	x->req = xmalloc(len ? len : 1);
	memcpy(x->req, req, len);
	x->len = len;
	x->max = max;
	x->done = done;
	x->arg = arg;
	x->fixed_gw = fixed_gw;
	return x;
}

/* ----------------------------------------------------------- cross-check */

static void check_start(struct market_rpc *mr);

static void check_finish(struct market_rpc *mr, int err)
{
	struct xreq *x = mr->waiting;
	market_rpc_done_fn done = mr->check_done;

	mr->phase = CHECK_IDLE;
	mr->checked_once = true;
	mr->next_check_ms = time_mono_ms() + mr->cfg.check_interval_ms;
	mr->check_done = NULL;
	if (done)
		done(mr->check_arg, err, NULL, 0);
	mr->waiting = NULL;
	mr->waiting_tail = &mr->waiting;
	while (x) {
		struct xreq *next = x->next;
		x->next = NULL;
		dispatch(x);
		x = next;
	}
}

/* Send method(params) to gateway i as part of the check. */
static void check_send(struct market_rpc *mr, unsigned i, const char *method,
		       json_t *params, market_rpc_done_fn done)
{
	char *req = NULL;
	size_t len = 0;
	struct xreq *x;

	mr->check_outstanding++;
	mr->gws[i].check_id = mr->next_id;
	if (jsonrpc_request_format(mr->next_id++, method, params, &req,
				   &len) != 0) {
		done(&mr->gws[i], ERR_INTERNAL, NULL, 0);
		return;
	}
	x = xreq_new(mr, req, len, JSONRPC_MAX_REPLY_BYTES, done,
		     &mr->gws[i], (int)i);
	free(req);
	dispatch(x);
}

/* The result of g's reply to its check request (new reference), or NULL
 * for anything else: an error, a malformed reply, or one with another id
 * (a gateway replaying an old answer). */
static json_t *check_result(const struct rpc_gw *g, const uint8_t *body,
			    size_t len)
{
	struct jsonrpc_error e;
	json_t *res = NULL;

	if (!body || jsonrpc_response_parse(body, len, g->check_id, &res,
					    &e) != 0)
		return NULL;
	return res;
}

static void check_decide(struct market_rpc *mr)
{
	unsigned answered = 0, best = 0, best_i = 0;

	for (unsigned i = 0; i < mr->ngws; i++) {
		unsigned same = 0;
		if (!mr->gws[i].info.checked)
			continue;
		answered++;
		for (unsigned j = 0; j < mr->ngws; j++)
			if (mr->gws[j].info.checked &&
			    memcmp(mr->gws[i].info.hash, mr->gws[j].info.hash,
				   32) == 0)
				same++;
		if (same > best) {
			best = same;
			best_i = i;
		}
	}
	if (answered < 2) {
		/* Nothing to compare: keep the last verdict. */
		check_finish(mr, mr->ngws >= 2 ? ERR_IO : 0);
		return;
	}
	if (2 * best <= answered) {
		mr->conflict = true;
		log_warn(LD_APP, "chain RPC: the gateways disagree on block "
			 "%llu and none has a majority; not using any",
			 (unsigned long long)mr->check_height);
		check_finish(mr, ERR_BAD_STATE);
		return;
	}
	mr->conflict = false;
	for (unsigned i = 0; i < mr->ngws; i++) {
		struct rpc_gw *g = &mr->gws[i];
		if (!g->info.checked)
			continue;
		g->info.disagrees = memcmp(g->info.hash,
					   mr->gws[best_i].info.hash, 32) != 0;
		if (g->info.disagrees)
			log_warn(LD_APP, "chain RPC: gateway %u gives another "
				 "block %llu than the majority; not using it",
				 i, (unsigned long long)mr->check_height);
	}
	check_finish(mr, 0);
}

static void on_hash(void *arg, int err, const uint8_t *body, size_t len)
{
	struct rpc_gw *g = arg;
	struct market_rpc *mr = g->mr;
	json_t *res = err ? NULL : check_result(g, body, len);
	uint64_t n;

	if (json_is_object(res) &&
	    jsonrpc_get_fixed(json_object_get(res, "hash"), g->info.hash,
			      32) == 0 &&
	    jsonrpc_get_u64(json_object_get(res, "number"), &n) == 0 &&
	    n == mr->check_height) {
		g->info.checked = true;
		g->info.height = n;
	}
	json_decref(res);
	if (--mr->check_outstanding == 0 && !mr->freeing)
		check_decide(mr);
}

static void check_hashes(struct market_rpc *mr)
{
	uint64_t low = UINT64_MAX;

	for (unsigned i = 0; i < mr->ngws; i++)
		if (mr->tip_ok[i] && mr->tips[i] < low)
			low = mr->tips[i];
	if (low == UINT64_MAX) {
		check_decide(mr);
		return;
	}
	mr->check_height = low > mr->cfg.check_depth ?
			   low - mr->cfg.check_depth : 0;
	mr->phase = CHECK_HASHES;
	for (unsigned i = 0; i < mr->ngws; i++)
		if (mr->tip_ok[i])
			mr->check_outstanding++;
	/* Count first: a send may finish at once (no stream). */
	for (unsigned i = 0; i < mr->ngws; i++) {
		if (!mr->tip_ok[i])
			continue;
		mr->check_outstanding--;
		check_send(mr, i, "eth_getBlockByNumber",
			   json_pack("[ob]", jsonrpc_hex_u64(mr->check_height),
				     0), on_hash);
	}
}

static void on_tip(void *arg, int err, const uint8_t *body, size_t len)
{
	struct rpc_gw *g = arg;
	struct market_rpc *mr = g->mr;
	json_t *res = err ? NULL : check_result(g, body, len);

	mr->tip_ok[g->idx] = res &&
			     jsonrpc_get_u64(res, &mr->tips[g->idx]) == 0;
	json_decref(res);
	if (--mr->check_outstanding == 0 && !mr->freeing)
		check_hashes(mr);
}

static void check_start(struct market_rpc *mr)
{
	unsigned n = 0;

	mr->phase = CHECK_TIPS;
	/* Every gateway is asked, also one caught lying before: a node
	 * that was on a fork may have caught up. */
	for (unsigned i = 0; i < mr->ngws; i++) {
		mr->gws[i].info.checked = false;
		mr->tip_ok[i] = false;
		n++;
	}
	mr->check_outstanding = n;
	for (unsigned i = 0; i < mr->ngws; i++) {
		mr->check_outstanding--;
		check_send(mr, i, "eth_blockNumber", NULL, on_tip);
	}
}

void market_rpc_crosscheck(struct market_rpc *mr, market_rpc_done_fn done,
			   void *arg)
{
	if (mr->phase != CHECK_IDLE || mr->ngws < 2) {
		/* One gateway: nothing to compare. */
		if (done)
			done(arg, mr->phase != CHECK_IDLE ? ERR_BAD_STATE : 0,
			     NULL, 0);
		return;
	}
	mr->check_done = done;
	mr->check_arg = arg;
	check_start(mr);
}

void market_rpc_exchange(struct market_rpc *mr, const char *req, size_t len,
			 size_t max_reply, market_rpc_done_fn done, void *arg)
{
	struct xreq *x = xreq_new(mr, req, len, max_reply, done, arg, -1);

	if (mr->freeing)	/* stopped: dispatch ends it */
		return dispatch(x);
	if (mr->phase == CHECK_IDLE && mr->ngws >= 2 &&
	    (!mr->checked_once || time_mono_ms() >= mr->next_check_ms))
		market_rpc_crosscheck(mr, NULL, NULL);
	if (mr->phase != CHECK_IDLE) {
		*mr->waiting_tail = x;
		mr->waiting_tail = &x->next;
		return;
	}
	dispatch(x);
}

/* Every request waiting ends with ERR_IO now. */
static void end_pending(struct market_rpc *mr)
{
	struct xreq *x;

	for (unsigned i = 0; i < mr->ngws; i++) {
		struct rpc_gw *g = &mr->gws[i];

		while ((x = g->head)) {
			g->head = x->next;
			xreq_finish(x, ERR_IO, NULL, 0);
		}
		g->tail = &g->head;
	}
	while ((x = mr->waiting)) {
		mr->waiting = x->next;
		xreq_finish(x, ERR_IO, NULL, 0);
	}
	mr->waiting_tail = &mr->waiting;
}

void market_rpc_stop(struct market_rpc *mr)
{
	if (!mr || mr->freeing)
		return;
	mr->freeing = true;
	end_pending(mr);
}

void market_rpc_free(struct market_rpc *mr)
{
	if (!mr)
		return;
	mr->freeing = true;
	end_pending(mr);
	for (unsigned i = 0; i < mr->ngws; i++) {
		struct rpc_gw *g = &mr->gws[i];

		if (g->s) {
			stream_set_handler(g->s, NULL, NULL);
			stream_release(g->s);
		}
		market_link_clear(&g->link);
	}
	free(mr);
}

/* --------------------------------------------------- blocking transport */

struct rpc_wait {
	struct market_rpc *mr;
	const char *req;
	size_t len, max;
	struct bbuf *reply;
	int err;
	bool done;
	bool driving;			/* the caller runs the loop */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void wait_done(void *arg, int err, const uint8_t *body, size_t len)
{
	struct rpc_wait *w = arg;

	if (!w->driving)
		pthread_mutex_lock(&w->mu);
	w->err = err;
	if (err == 0 && len)
		bbuf_put(w->reply, body, len);
	w->done = true;
	if (w->driving) {
		evloop_break(w->mr->el);
	} else {
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
}

static void wait_start(void *arg)
{
	struct rpc_wait *w = arg;

	market_rpc_exchange(w->mr, w->req, w->len, w->max, wait_done, w);
}

static const char *err_why(int err)
{
	switch (err) {
	case ERR_BAD_STATE:
		return "the chain RPC gateways disagree";
	case ERR_TIMEOUT:
		return "the chain RPC gateway did not answer in time";
	case ERR_TOO_BIG:
		return "reply too long";
	default:
		return "no chain RPC gateway reachable";
	}
}

static int rpc_exchange_blocking(void *ctx, const char *req, size_t req_len,
				 size_t max_reply, struct bbuf *reply,
				 const char **why)
{
	struct market_rpc *mr = ctx;
	struct rpc_wait w = { .mr = mr, .req = req, .len = req_len,
			      .max = max_reply, .reply = reply };

	w.driving = evloop_is_in_loop(mr->el);
	if (w.driving) {
		wait_start(&w);
		while (!w.done)
			if (evloop_run(mr->el) != 0)
				return ERR_INTERNAL;	/* re-entered */
	} else {
		pthread_mutex_init(&w.mu, NULL);
		pthread_cond_init(&w.cv, NULL);
		pthread_mutex_lock(&w.mu);
		evloop_post(mr->el, wait_start, &w);
		while (!w.done)
			pthread_cond_wait(&w.cv, &w.mu);
		pthread_mutex_unlock(&w.mu);
		pthread_cond_destroy(&w.cv);
		pthread_mutex_destroy(&w.mu);
	}
	if (w.err)
		*why = err_why(w.err);
	return w.err;
}

static void wake(void *arg)
{
	struct market_rpc *mr = arg;

	evloop_break(mr->el);
}

static void rpc_wait_ms(void *ctx, unsigned ms)
{
	struct market_rpc *mr = ctx;

	if (evloop_is_in_loop(mr->el)) {
		struct evloop_timer *t = evloop_timer_new(mr->el, wake, mr);
		evloop_timer_arm(t, ms);
		(void)evloop_run(mr->el);
		evloop_timer_free(t);
	} else {
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
		nanosleep(&ts, NULL);
	}
}

struct chain_transport market_rpc_transport(struct market_rpc *mr)
{
	return (struct chain_transport){ rpc_exchange_blocking, rpc_wait_ms,
					 mr };
}
