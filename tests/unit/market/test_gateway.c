/*
 * apps/market gateway and client transport: the request check, rate
 * limits and the allow-list over localnet with a fake node, the
 * cross-check that catches a lying gateway, and chain calls (a
 * transaction included) to anvil through a gateway.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "apps/market/gateway.h"
#include "apps/market/link.h"
#include "apps/market/rpc.h"
#include "apps/market/upstream_http.h"
#include "chain/calls.h"
#include "chain/jsonrpc.h"
#include "chain/rpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "router/evloop.h"
#include "tests/unit/market/tmarket.h"

static int check(const char *req, char **out, int *code)
{
	struct market_gw_config c;
	const char *why;
	size_t len;
	json_t *id = NULL;
	int r;

	market_gw_config_default(&c);
	*out = NULL;
	r = market_gw_request_check(&c, (const uint8_t *)req, strlen(req), out,
				    &len, &id, code, &why);
	json_decref(id);
	return r;
}

static void test_request_check(struct tctx *t)
{
	char *out = NULL, deep[200];
	int code = 0;

	T_OK(t, check("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
		      "\"eth_blockNumber\",\"x\":1}", &out, &code));
	/* rebuilt from id, method and params only */
	T_STREQ(t, out, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
		"\"eth_blockNumber\",\"params\":[]}");
	free(out);
	T_ERR(t, check("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		       "\"eth_sendTransaction\",\"params\":[]}", &out, &code),
	      ERR_UNSUPPORTED);
	T_EQ(t, code, MARKET_GW_ERR_METHOD);
	T_ERR(t, check("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		       "\"anvil_setBalance\",\"params\":[]}", &out, &code),
	      ERR_UNSUPPORTED);
	T_ERR(t, check("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		       "\"eth_chainId\"}]", &out, &code), ERR_FORMAT);
	T_EQ(t, code, MARKET_GW_ERR_INVALID);
	T_ERR(t, check("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":"
		       "\"eth_chainId\"}", &out, &code), ERR_FORMAT);
	T_ERR(t, check("{\"jsonrpc\":\"2.0\",\"method\":\"eth_chainId\"}",
		       &out, &code), ERR_FORMAT);
	T_ERR(t, check("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		       "\"eth_chainId\",\"params\":{}}", &out, &code),
	      ERR_FORMAT);
	T_ERR(t, check("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":"
		       "\"eth_chainId\"}", &out, &code), ERR_FORMAT);
	/* eth_getLogs: numbered ranges within the limit only */
	T_OK(t, check("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getLogs\","
		      "\"params\":[{\"fromBlock\":\"0x1\",\"toBlock\":\"0x1388\"}]}",
		      &out, &code));
	free(out);
	T_ERR(t, check("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getLogs\","
		       "\"params\":[{\"fromBlock\":\"0x0\",\"toBlock\":\"0x1388\"}]}",
		       &out, &code), ERR_RANGE);
	T_EQ(t, code, MARKET_GW_ERR_LIMIT);
	T_ERR(t, check("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getLogs\","
		       "\"params\":[{\"fromBlock\":\"0x0\",\"toBlock\":\"latest\"}]}",
		       &out, &code), ERR_RANGE);
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	T_ERR(t, check(deep, &out, &code), ERR_TOO_BIG);
}

/* ------------------------------------------------------------ fake node */

struct fake_node {
	struct evloop *el;
	unsigned calls;
	char hash[67];			/* the block hash it reports */
	uint64_t tip;
	bool silent;			/* holds requests (a hung node) */
	bool stale_ids;			/* the check's answers under id 7 */
	market_upstream_done_fn held_done[16];
	void *held_arg[16];
	unsigned nheld;
};

/* The hung node goes away: what it held fails (done runs once). */
static void fake_drop_held(struct fake_node *fn)
{
	for (unsigned i = 0; i < fn->nheld; i++)
		fn->held_done[i](fn->held_arg[i], ERR_IO, NULL, 0);
	fn->nheld = 0;
}

struct fake_reply {
	market_upstream_done_fn done;
	void *arg;
	char *body;
};

static void fake_deliver(void *p)
{
	struct fake_reply *fr = p;

	fr->done(fr->arg, 0, (const uint8_t *)fr->body, strlen(fr->body));
	free(fr->body);
	free(fr);
}

static int fake_start(void *ctx, const char *req, size_t len,
		      size_t max_reply, market_upstream_done_fn done,
		      void *arg)
{
	struct fake_node *fn = ctx;
	json_error_t e;
	json_t *o = json_loadb(req, len, 0, &e), *res, *rep;
	const char *m = json_string_value(json_object_get(o, "method"));
	struct fake_reply *fr;
	uint64_t n = 0;

	(void)max_reply;
	fn->calls++;
	if (fn->silent) {
		json_decref(o);
		if (fn->nheld == 16)
			return ERR_LIMIT;
		fn->held_done[fn->nheld] = done;
		fn->held_arg[fn->nheld++] = arg;
		return 0;
	}
	if (m && strcmp(m, "eth_getBlockByNumber") == 0) {
		(void)jsonrpc_get_u64(json_array_get(json_object_get(o,
			"params"), 0), &n);
		res = json_pack("{s:o, s:s}", "number", jsonrpc_hex_u64(n),
				"hash", fn->hash);
	} else if (m && strcmp(m, "eth_blockNumber") == 0) {
		res = jsonrpc_hex_u64(fn->tip);
	} else {
		res = json_string("0x1");
	}
	rep = json_pack("{s:s, s:o, s:o}", "jsonrpc", "2.0", "id",
			fn->stale_ids && m && !strncmp(m, "eth_block", 9) ?
			json_integer(7) : json_incref(json_object_get(o, "id")),
			"result", res);
	fr = xcalloc(1, sizeof(*fr));
	fr->done = done;
	fr->arg = arg;
	fr->body = json_dumps(rep, JSON_COMPACT);
	json_decref(rep);
	json_decref(o);
	evloop_post(fn->el, fake_deliver, fr);
	return 0;
}

static void fake_init(struct fake_node *fn, struct evloop *el, char c)
{
	memset(fn, 0, sizeof(*fn));
	fn->el = el;
	fn->tip = 100;
	fn->hash[0] = '0';
	fn->hash[1] = 'x';
	memset(fn->hash + 2, c, 64);
}

/* --------------------------------------------- raw client over a stream */

struct raw_client {
	struct market_link link;
	unsigned replies, limited, refused;
	bool failed;
};

static void raw_event(void *ctx, struct stream *s, unsigned ev)
{
	struct raw_client *rc = ctx;
	const uint8_t *p;
	size_t len;

	(void)s;
	if (ev & (STREAM_EV_CONNECTED | STREAM_EV_WRITABLE))
		market_link_flush(&rc->link);
	while (market_link_next(&rc->link, &p, &len) == 1) {
		json_error_t e;
		json_t *o = json_loadb((const char *)p, len, 0, &e);
		json_t *err = json_object_get(o, "error");
		json_int_t code = json_integer_value(json_object_get(err,
								     "code"));
		rc->replies++;
		if (code == MARKET_GW_ERR_LIMIT)
			rc->limited++;
		else if (code == MARKET_GW_ERR_METHOD)
			rc->refused++;
		json_decref(o);
		market_link_pop(&rc->link);
	}
	if (ev & (STREAM_EV_RESET | STREAM_EV_FAILED))
		rc->failed = true;
}

struct raw_wait {
	struct raw_client *rc;
	unsigned want;
};

static bool raw_done(void *arg)
{
	struct raw_wait *w = arg;

	return w->rc->replies >= w->want || w->rc->failed;
}

static void raw_send(struct raw_client *rc, unsigned id, const char *m)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "{\"jsonrpc\":\"2.0\",\"id\":%u,"
			 "\"method\":\"%s\",\"params\":[]}", id, m);

	market_link_send(&rc->link, buf, (size_t)n);
}

static void test_rate_limit(struct tctx *t)
{
	struct tm_net tm;
	struct fake_node fn;
	struct market_gw_config c;
	struct market_gw *gw;
	struct market_gw_stats st;
	struct raw_client a = { 0 }, b = { 0 };
	struct raw_wait wa = { &a, 7 }, wb = { &b, 1 };
	struct tm_node *g, *ca, *cb;
	struct stream *sa, *sb;

	tm_init(&tm, t);
	fake_init(&fn, tm.el, 'a');
	g = tm_node(&tm);
	ca = tm_node(&tm);
	cb = tm_node(&tm);
	market_gw_config_default(&c);
	c.rate_burst = 4;
	c.rate_per_sec = 0;	/* no refill: the count is exact */
	gw = market_gw_new(&c, (struct market_upstream){ fake_start, &fn },
			   tm.el);
	market_gw_serve(gw, g->mgr);
	T_OK(t, stream_connect(ca->mgr, tm_pub(g), 0, 0, raw_event, &a, &sa));
	market_link_init(&a.link, sa, MARKET_GW_MAX_REPLY_BYTES);
	/* 6 allowed calls pipelined: 4 served, 2 limited; a refused method
	 * is answered without using the bucket or the node. */
	for (unsigned i = 0; i < 6; i++)
		raw_send(&a, i, "eth_chainId");
	raw_send(&a, 6, "eth_sendTransaction");
	T_TRUE(t, tm_run(&tm, raw_done, &wa));
	T_EQ(t, a.replies, 7);
	T_EQ(t, a.limited, 2);
	T_EQ(t, a.refused, 1);
	T_EQ(t, fn.calls, 4);
	/* another destination has its own bucket */
	T_OK(t, stream_connect(cb->mgr, tm_pub(g), 0, 0, raw_event, &b, &sb));
	market_link_init(&b.link, sb, MARKET_GW_MAX_REPLY_BYTES);
	raw_send(&b, 1, "eth_chainId");
	T_TRUE(t, tm_run(&tm, raw_done, &wb));
	T_EQ(t, b.limited, 0);
	T_EQ(t, fn.calls, 5);
	market_gw_stats(gw, &st);
	T_EQ(t, st.forwarded, 5);
	T_EQ(t, st.refused_rate, 2);
	T_EQ(t, st.refused_method, 1);
	stream_release(sa);
	stream_release(sb);
	market_link_clear(&a.link);
	market_link_clear(&b.link);
	market_gw_free(gw);
	tm_free(&tm);
}

static bool raw_failed(void *arg)
{
	return ((struct raw_client *)arg)->failed;
}

/* A frame announced over MARKET_GW_MAX_REQUEST_BYTES: the stream is reset
 * before the body is read, and the node never hears of it. */
static void test_oversized(struct tctx *t)
{
	struct tm_net tm;
	struct fake_node fn;
	struct market_gw_config c;
	struct market_gw *gw;
	struct market_gw_stats st;
	struct raw_client a = { 0 };
	struct tm_node *g, *ca;
	struct stream *sa;
	uint8_t hdr[4];

	tm_init(&tm, t);
	fake_init(&fn, tm.el, 'a');
	g = tm_node(&tm);
	ca = tm_node(&tm);
	market_gw_config_default(&c);
	gw = market_gw_new(&c, (struct market_upstream){ fake_start, &fn },
			   tm.el);
	market_gw_serve(gw, g->mgr);
	T_OK(t, stream_connect(ca->mgr, tm_pub(g), 0, 0, raw_event, &a, &sa));
	market_link_init(&a.link, sa, MARKET_GW_MAX_REPLY_BYTES);
	be32_put(hdr, MARKET_GW_MAX_REQUEST_BYTES + 1);
	T_EQ(t, stream_write(sa, hdr, sizeof(hdr)), sizeof(hdr));
	T_TRUE(t, tm_run(&tm, raw_failed, &a));
	T_EQ(t, a.replies, 0);
	T_EQ(t, fn.calls, 0);
	market_gw_stats(gw, &st);
	T_EQ(t, st.requests, 0);
	stream_release(sa);
	market_link_clear(&a.link);
	market_gw_free(gw);
	tm_free(&tm);
}

/* ------------------------------------------------------- cross-checking */

struct xdone {
	bool done;
	int err;
	char body[256];
};

static void xdone_fn(void *arg, int err, const uint8_t *body, size_t len)
{
	struct xdone *x = arg;

	x->done = true;
	x->err = err;
	if (body && len < sizeof(x->body)) {
		memcpy(x->body, body, len);
		x->body[len] = '\0';
	}
}

static bool xdone_cond(void *arg)
{
	return ((struct xdone *)arg)->done;
}

/* A client destination and n gateways in front of fake nodes fn. */
static struct market_rpc *fake_gateways(struct tm_net *tm,
					const struct market_rpc_config *rc,
					struct fake_node *fn,
					struct market_gw **gw, unsigned n)
{
	struct market_gw_config c;
	struct tm_node *cl = tm_node(tm);
	struct market_rpc *mr = market_rpc_new(rc, cl->mgr, tm->el);

	market_gw_config_default(&c);
	for (unsigned i = 0; i < n; i++) {
		struct tm_node *g = tm_node(tm);
		gw[i] = market_gw_new(&c, (struct market_upstream){
				      fake_start, &fn[i] }, tm->el);
		market_gw_serve(gw[i], g->mgr);
		T_OK(tm->t, market_rpc_add_gateway(mr, tm_pub(g)));
	}
	return mr;
}

#define REQ "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"eth_chainId\"}"

/* Three gateways in front of fake nodes reporting the block hashes
 * named by hashes[0..2]. */
struct xnet {
	struct tm_net tm;
	struct fake_node fn[3];
	struct market_gw *gw[3];
	struct market_rpc *mr;
};

static void xnet_init(struct xnet *n, struct tctx *t, const char *hashes)
{
	struct market_rpc_config rc;

	tm_init(&n->tm, t);
	for (unsigned i = 0; i < 3; i++)
		fake_init(&n->fn[i], n->tm.el, hashes[i]);
	market_rpc_config_default(&rc);
	n->mr = fake_gateways(&n->tm, &rc, n->fn, n->gw, 3);
}

static void xnet_free(struct xnet *n)
{
	market_rpc_free(n->mr);
	for (unsigned i = 0; i < 3; i++)
		market_gw_free(n->gw[i]);
	tm_free(&n->tm);
}

static void test_crosscheck(struct tctx *t)
{
	struct xnet n;
	struct market_rpc_gw_info info;
	struct xdone x;
	unsigned before1;

	xnet_init(&n, t, "aab");		/* the third lies about the block */
	n.fn[2].tip = 120;			/* and about the tip */
	/* the first request runs the check first */
	memset(&x, 0, sizeof(x));
	market_rpc_exchange(n.mr, REQ, strlen(REQ), 4096, xdone_fn, &x);
	T_TRUE(t, tm_run(&n.tm, xdone_cond, &x));
	T_OK(t, x.err);
	T_TRUE(t, strstr(x.body, "\"id\":5") != NULL);
	for (unsigned i = 0; i < 3; i++) {
		T_OK(t, market_rpc_gateway_info(n.mr, i, &info));
		T_TRUE(t, info.checked);
		T_EQ(t, info.height, 100 - MARKET_RPC_CHECK_DEPTH);
		T_EQ(t, info.disagrees, i == 2);
	}
	T_FALSE(t, market_rpc_in_conflict(n.mr));
	/* the liar gets no more requests */
	before1 = n.fn[2].calls;
	for (unsigned k = 0; k < 6; k++) {
		memset(&x, 0, sizeof(x));
		market_rpc_exchange(n.mr, REQ, strlen(REQ), 4096, xdone_fn,
				    &x);
		T_TRUE(t, tm_run(&n.tm, xdone_cond, &x));
		T_OK(t, x.err);
	}
	T_EQ(t, n.fn[2].calls, before1);
	T_TRUE(t, n.fn[0].calls >= 3 && n.fn[1].calls >= 3);
	/* one honest gateway now disagrees too: no majority, nothing used */
	memset(n.fn[1].hash + 2, 'c', 64);
	memset(&x, 0, sizeof(x));
	market_rpc_crosscheck(n.mr, xdone_fn, &x);
	T_TRUE(t, tm_run(&n.tm, xdone_cond, &x));
	T_ERR(t, x.err, ERR_BAD_STATE);
	T_TRUE(t, market_rpc_in_conflict(n.mr));
	memset(&x, 0, sizeof(x));
	market_rpc_exchange(n.mr, REQ, strlen(REQ), 4096, xdone_fn, &x);
	T_TRUE(t, tm_run(&n.tm, xdone_cond, &x));
	T_ERR(t, x.err, ERR_BAD_STATE);
	xnet_free(&n);
}

/* A gateway answering the check under another request's id (an old
 * answer replayed) has not answered it: it is neither checked nor used,
 * however right its figures. */
static void test_crosscheck_ids(struct tctx *t)
{
	struct xnet n;
	struct market_rpc_gw_info info;
	struct xdone x;

	xnet_init(&n, t, "aaa");
	n.fn[2].stale_ids = true;
	memset(&x, 0, sizeof(x));
	market_rpc_crosscheck(n.mr, xdone_fn, &x);
	T_TRUE(t, tm_run(&n.tm, xdone_cond, &x));
	T_OK(t, x.err);
	for (unsigned i = 0; i < 3; i++) {
		T_OK(t, market_rpc_gateway_info(n.mr, i, &info));
		T_EQ(t, info.checked, i != 2);
	}
	T_TRUE(t, n.fn[2].calls >= 1);
	xnet_free(&n);
}

/* A gateway whose node hangs: the request times out there and the
 * next one goes to the other gateway. */
static void test_failover(struct tctx *t)
{
	struct tm_net tm;
	struct fake_node fn[2];
	struct market_gw *gw[2];
	struct market_rpc_config rc;
	struct market_rpc *mr;
	struct xdone x;
	unsigned ok = 0, timeouts = 0;

	tm_init(&tm, t);
	fake_init(&fn[0], tm.el, 'a');
	fake_init(&fn[1], tm.el, 'a');
	market_rpc_config_default(&rc);
	rc.timeout_ms = 300;
	mr = fake_gateways(&tm, &rc, fn, gw, 2);
	memset(&x, 0, sizeof(x));
	market_rpc_crosscheck(mr, xdone_fn, &x);
	T_TRUE(t, tm_run(&tm, xdone_cond, &x));
	T_OK(t, x.err);
	fn[1].silent = true;
	for (unsigned k = 0; k < 4; k++) {
		memset(&x, 0, sizeof(x));
		market_rpc_exchange(mr, REQ, strlen(REQ), 4096, xdone_fn, &x);
		T_TRUE(t, tm_run(&tm, xdone_cond, &x));
		if (x.err == 0)
			ok++;
		else if (x.err == ERR_TIMEOUT)
			timeouts++;
	}
	/* at most one request waits out the hung gateway; the rest go to
	 * the live one while the hung one rests */
	T_TRUE(t, timeouts <= 1);
	T_EQ(t, ok + timeouts, 4);
	T_EQ(t, fn[1].nheld, timeouts);
	market_rpc_free(mr);
	for (unsigned i = 0; i < 2; i++)
		market_gw_free(gw[i]);
	fake_drop_held(&fn[1]);
	tm_free(&tm);
}

static bool held_cond(void *arg)
{
	return ((struct fake_node *)arg)->nheld > 0;
}

/* Stopping: a request held by a gateway whose node hangs ends at once
 * (not at the minute's timeout), and so does any later one. */
static void test_stop(struct tctx *t)
{
	struct tm_net tm;
	struct fake_node fn[1];
	struct market_gw *gw[1];
	struct market_rpc_config rc;
	struct market_rpc *mr;
	struct xdone x, y;

	tm_init(&tm, t);
	fake_init(&fn[0], tm.el, 'a');
	fn[0].silent = true;
	market_rpc_config_default(&rc);
	mr = fake_gateways(&tm, &rc, fn, gw, 1);
	memset(&x, 0, sizeof(x));
	market_rpc_exchange(mr, REQ, strlen(REQ), 4096, xdone_fn, &x);
	/* the node holds it: it reached the gateway */
	T_TRUE(t, tm_run(&tm, held_cond, &fn[0]));
	T_FALSE(t, x.done);
	market_rpc_stop(mr);
	T_TRUE(t, x.done);
	T_ERR(t, x.err, ERR_IO);
	memset(&y, 0, sizeof(y));
	market_rpc_exchange(mr, REQ, strlen(REQ), 4096, xdone_fn, &y);
	T_TRUE(t, y.done);
	T_ERR(t, y.err, ERR_IO);
	market_rpc_stop(mr);
	market_rpc_free(mr);
	market_gw_free(gw[0]);
	fake_drop_held(&fn[0]);
	tm_free(&tm);
}

/* ---------------------------------------------------------------- anvil */

/* A worker thread using the blocking transport while the loop runs. */
struct worker_call {
	struct market_rpc *mr;
	const uint8_t *addr;
	uint64_t bn;
	struct u256 bal;
	int r;
	atomic_bool done;
};

static void *worker_main(void *arg)
{
	struct worker_call *wc = arg;
	struct chain_transport tr = market_rpc_transport(wc->mr);
	struct chain_client *cc = chain_client_new(&tr, 31337);

	wc->r = chain_block_number(cc, &wc->bn);
	if (wc->r == 0)
		wc->r = chain_get_balance(cc, wc->addr, &wc->bal);
	chain_client_free(cc);
	atomic_store(&wc->done, true);
	return NULL;
}

static bool worker_done(void *arg)
{
	return atomic_load(&((struct worker_call *)arg)->done);
}

static void test_anvil(struct tctx *t)
{
	struct tm_anvil a;
	struct tm_net tm;
	struct market_gw_config c;
	struct market_gw *gw[2] = { NULL, NULL };
	struct market_http *up[2] = { NULL, NULL };
	struct market_rpc_config rc;
	struct market_rpc *mr;
	struct chain_client *cc;
	struct chain_transport tr;
	struct chain_receipt rcpt = { 0 };
	struct market_gw_stats st;
	struct secp_sk sk;
	struct u256 bal, one = u256_from_u64(1000);
	struct tm_node *cl;
	uint8_t to[20] = { 0x42 };
	uint64_t bn = 0;
	json_t *res = NULL;

	if (!tm_anvil_start(t, &a, false))
		goto out_anvil;
	tm_init(&tm, t);
	market_gw_config_default(&c);
	cl = tm_node(&tm);
	market_rpc_config_default(&rc);
	mr = market_rpc_new(&rc, cl->mgr, tm.el);
	for (unsigned i = 0; i < 2; i++) {
		struct tm_node *g = tm_node(&tm);
		T_OK(t, market_http_new(tm.el, a.url, 0, &up[i]));
		gw[i] = market_gw_new(&c, market_http_upstream(up[i]), tm.el);
		market_gw_serve(gw[i], g->mgr);
		T_OK(t, market_rpc_add_gateway(mr, tm_pub(g)));
	}
	tr = market_rpc_transport(mr);
	cc = chain_client_new(&tr, 31337);
	T_OK(t, chain_block_number(cc, &bn));
	T_FALSE(t, market_rpc_in_conflict(mr));
	/* a transaction through the overlay, mined */
	tm_anvil_key(1, &sk);
	T_OK(t, chain_send(cc, &sk, to, NULL, 0, &one, &rcpt));
	T_TRUE(t, rcpt.status);
	T_OK(t, chain_get_balance(cc, to, &bal));
	T_EQ(t, u256_cmp(&bal, &one), 0);
	/* node-side methods are refused by the gateway */
	T_ERR(t, chain_rpc_call(cc, "anvil_setBalance",
				json_pack("[ss]", "0x00", "0x1"), &res),
	      ERR_PROTOCOL);
	T_EQ(t, chain_client_last_rpc_error(cc)->code, MARKET_GW_ERR_METHOD);
	market_gw_stats(gw[0], &st);
	T_TRUE(t, st.forwarded > 0);
	market_gw_stats(gw[1], &st);
	T_TRUE(t, st.forwarded > 0);		/* both were used */
	/* from another thread: the calls are posted to the running loop */
	{
		struct worker_call wc = { .mr = mr, .addr = to };
		pthread_t th;

		atomic_init(&wc.done, false);
		T_EQ(t, pthread_create(&th, NULL, worker_main, &wc), 0);
		T_TRUE(t, tm_run(&tm, worker_done, &wc));
		pthread_join(th, NULL);
		T_OK(t, wc.r);
		T_TRUE(t, wc.bn >= bn + 1);
		T_EQ(t, u256_cmp(&wc.bal, &one), 0);
	}
	chain_receipt_clear(&rcpt);
	chain_client_free(cc);
	market_rpc_free(mr);
	for (unsigned i = 0; i < 2; i++) {
		market_gw_free(gw[i]);
		market_http_free(up[i]);
	}
	tm_free(&tm);
out_anvil:
	tm_anvil_stop(&a);
}

const struct test_case market_gateway_tests[] = {
	{ "request_check", test_request_check, 0 },
	{ "rate_limit", test_rate_limit, 0 },
	{ "oversized", test_oversized, 0 },
	{ "crosscheck_ids", test_crosscheck_ids, 0 },
	{ "crosscheck", test_crosscheck, 0 },
	{ "stop", test_stop, 0 },
	{ "failover", test_failover, 0 },
	{ "anvil", test_anvil, TT_FORK },
	{ NULL, NULL, 0 }
};
