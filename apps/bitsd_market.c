/*
 * bitsd's market subsystem (apps/bitsd_market.h): the market services on
 * destinations of the router's network, the chain client over the
 * gateways, and /api/market.
 */
#include "config.h"
#include "apps/bitsd_market.h"
#include "apps/api/api.h"
#include "apps/client/dest.h"
#include "apps/client/localnet.h"
#include "apps/market/buy.h"
#include "apps/market/gateway.h"
#include "apps/market/history.h"
#include "apps/market/iso.h"
#include "apps/market/keyagent.h"
#include "apps/market/library.h"
#include "apps/market/order.h"
#include "apps/market/purchase.h"
#include "apps/market/register.h"
#include "apps/market/relayer.h"
#include "apps/market/resale.h"
#include "apps/market/service.h"
#include "apps/market/rpc.h"
#include "apps/market/upstream_http.h"
#include "apps/market/wallet.h"
#include "chain/calls.h"
#include "chain/secp.h"
#include "router/b33.h"
#include "router/conf.h"
#include "router/evloop.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/secmem.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKET_FILE_MAX_BYTES 4096
#define MARKET_DEPLOY_MAX_BYTES (64u * 1024)
#define MARKET_LOOKUP_RETRY_MS 5000u
#define MARKET_KEYS_MAX_BYTES (MARKET_KEY_CONTENTS_MAX * 96u)
#define MARKET_ISO_EXPIRE_MS 60000u

/* A destination of ours with its stream manager, attached to a network. */
struct mdest {
	struct client_dest *d;
	struct stream_signer sg;
	struct client_stream_sink cs;
	struct stream_mgr *mgr;
	struct client_net net;
	bool attached;
};

/* A /api/market call running on a worker. */
enum market_job_kind { JOB_BLOCK, JOB_WALLET, JOB_HISTORY, JOB_RESALE };

struct market_job {
	struct bitsd_market *m;
	struct evhttp_request *req;	/* NULL once the client went away */
	enum market_job_kind kind;
	uint8_t (*acc)[20];		/* history: the accounts */
	size_t nacc;
	struct market_licence *lic;	/* resale: the licences held */
	size_t nlic;
	/* wallet, resale: each address's client (accounts, licences) and
	 * the isolated destinations taken for them */
	struct chain_client **icc;
	struct iso_dest **idest;
	size_t nidest;
	int err;
	const char *why;
	json_t *out;
};

struct bitsd_market {
	struct evloop *el;
	struct worker_pool *wp;
	struct api *api;
	struct client_net net;		/* the router's (tunnels) */
	char *datadir;
	bool have_dep;
	struct chain_deploy dep;
	/* the gateway */
	struct market_http *http;
	struct market_gw *gw;
	struct mdest gwd;
	/* our own gateway reached in-process when no market.gateways */
	struct localnet *ln;
	struct mdest gw_local, cli_local;
	/* the chain client */
	struct mdest cli;
	struct market_rpc *rpc;
	struct chain_client *cc;	/* used by one job at a time */
	uint8_t (*gw_hashes)[32];
	bool *gw_added;
	struct keys_and_cert *gw_kc;	/* those added, as found */
	unsigned ngw;
	struct evloop_timer *lookup;
	/* a destination per address asked about (NULL: our own gateway) */
	struct market_iso *iso;
	struct evloop_timer *iso_timer;
	/* the key agent and the relayer */
	struct secp_sk *agent_sk;	/* secmem */
	struct market_agent *agent;
	unsigned agent_contents;	/* keys it holds */
	char *agent_keys;		/* its key file */
	struct market_registrar *reg;	/* NULL: no wallet or agent */
	struct mdest agd;
	struct secp_sk *relayer_sk;	/* secmem */
	struct market_relayer *relayer;
	struct mdest rld;
	/* buying: the key library, the buyer on its own destination */
	struct market_library *lib;
	struct market_buyer *buyer;
	struct mdest bud;
	struct market_reseller *reseller;	/* on the buyer's destination */
	bool resale_relayer;		/* its steps can be relayed */
	struct u256 resale_fee;		/* the relayer's fee a step */
	struct evhttp_request *resale_req;	/* the resale step's caller */
	/* streams for other parts (bitsd_market_streams) */
	struct mdest other;
	/* a service of another part (bitsd_market_serve) */
	struct mdest served;
	/* the wallet view */
	uint8_t (*accounts)[20];
	size_t naccounts;
	struct market_job *job;		/* the one under way */
};

bool bitsd_market_wanted(const struct conf *cfg)
{
	return cfg->market_gateway || cfg->market_gateways ||
	       cfg->market_agent || cfg->market_relayer_key ||
	       cfg->market_accounts || cfg->market_wallet_key;
}

/* ---- destinations ---- */

/* d made (from the key file `name` in the datadir, NULL: a new one each
 * run) and attached to net; its b32 written to DATADIR/b32name. */
static int mdest_open(struct bitsd_market *m, struct mdest *md,
		      const struct client_net *net, const char *name,
		      const char *b32name)
{
	struct stream_config sc;
	struct client_rx rx = { 0 };
	char *path;
	int r = 0;

	if (name) {
		path = fsutil_path_join(m->datadir, name);
		r = client_dest_load_or_create(path, &md->d);
		free(path);
		if (r != 0)
			return r;
	} else {
		md->d = client_dest_new_random();
	}
	client_dest_signer(md->d, &md->sg);
	stream_config_default(&sc);
	md->net = *net;
	md->cs.net = *net;
	md->cs.from = md->d;
	md->mgr = stream_mgr_new(&sc, &md->sg, client_stream_sink(&md->cs),
				 m->el);
	rx.mgr = md->mgr;
	if ((r = net->attach(net->ctx, md->d, &rx)) != 0)
		return r;
	md->attached = true;
	if (b32name)
		client_dest_write_b32(m->datadir, b32name,
				      client_dest_pub(md->d), "market");
	return 0;
}

static void mdest_close(struct mdest *md)
{
	/* A call still waiting on a stream (a purchase asking a key agent,
	 * a voucher at a relayer) ends now and frees what it holds. */
	stream_mgr_reset_all(md->mgr);
	if (md->attached)
		md->net.detach(md->net.ctx, md->d);
	stream_mgr_free(md->mgr);
	client_dest_free(md->d);
	memset(md, 0, sizeof(*md));
}

static json_t *mdest_b32(const struct mdest *md)
{
	char b32[80];
	size_t n;

	if (!md->d || b32_encode(b32, sizeof(b32), client_dest_pub(md->d)->hash,
				 32) != 0)
		return json_null();
	n = strlen(b32);
	snprintf(b32 + n, sizeof(b32) - n, ".b32.i2p");
	return json_string(b32);
}

/* ---- configuration ---- */

/* Call fn on each comma- or space-separated item of list. */
static int list_each(const char *key, const char *list,
		     int (*fn)(struct bitsd_market *m, const char *p, size_t n),
		     struct bitsd_market *m)
{
	const char *p = list;
	size_t n;
	int r;

	for (; *p; p += n) {
		p += strspn(p, ", \t");
		if (!(n = strcspn(p, ", \t")))
			break;
		if ((r = fn(m, p, n)) != 0) {
			log_err(LD_APP, "%s: bad entry %.*s: %s", key,
				(int)(n > 80 ? 80 : n), p, err_str(r));
			return r;
		}
	}
	return 0;
}

int bitsd_market_hash_list(const char *key, const char *list, size_t max,
			   uint8_t (**out)[32], size_t *n)
{
	const char *p = list;
	size_t k;

	*out = NULL;
	*n = 0;
	for (; *p; p += k) {
		p += strspn(p, ", \t");
		if (!(k = strcspn(p, ", \t")))
			break;
		*out = xrealloc(*out, (*n + 1) * 32);
		if (*n == max || !b32_hash_parse(p, k, (*out)[*n])) {
			int r = *n == max ? ERR_LIMIT : ERR_FORMAT;

			log_err(LD_APP, "%s: bad entry %.*s: %s", key,
				(int)(k > 80 ? 80 : k), p,
				r == ERR_LIMIT ? "too many" : "not a b32 "
				"address or 64 hex digits");
			free(*out);
			*out = NULL;
			*n = 0;
			return r;
		}
		++*n;
	}
	return 0;
}

static int add_gateway_hash(struct bitsd_market *m, const char *p, size_t n)
{
	uint8_t h[32];

	if (!b32_hash_parse(p, n, h))
		return ERR_FORMAT;
	if (m->ngw == MARKET_RPC_MAX_GATEWAYS)
		return ERR_LIMIT;
	m->gw_hashes = xrealloc(m->gw_hashes, (m->ngw + 1) * 32);
	m->gw_added = xrealloc(m->gw_added, (m->ngw + 1) * sizeof(bool));
	memcpy(m->gw_hashes[m->ngw], h, 32);
	m->gw_added[m->ngw++] = false;
	return 0;
}

static int add_account(struct bitsd_market *m, const char *p, size_t n)
{
	size_t got = 0;

	if (n != 42 || p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
		return ERR_FORMAT;
	if (m->naccounts == MARKET_WALLET_MAX_ADDRS)
		return ERR_LIMIT;
	m->accounts = xrealloc(m->accounts, (m->naccounts + 1) * 20);
	if (hex_decode(m->accounts[m->naccounts], 20, &got, p + 2, 40) != 0 ||
	    got != 20)
		return ERR_FORMAT;
	m->naccounts++;
	return 0;
}

static int load_deploy(struct bitsd_market *m, const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *why = NULL;
	int r = fsutil_read_file(path, MARKET_DEPLOY_MAX_BYTES, &buf, &len);

	if (r == 0)
		r = chain_deploy_parse((const char *)buf, len, &m->dep, &why);
	free(buf);
	if (r != 0) {
		log_err(LD_APP, "market.deploy: %s: %s", path,
			why ? why : err_str(r));
		return r;
	}
	m->have_dep = true;
	return 0;
}

int bitsd_market_sk_load(const char *path, bool create, struct secp_sk *sk)
{
	uint8_t *buf = NULL;
	size_t len = 0, got = 0;
	char hex[2 * SECP_SK_BYTES + 2];
	int r = fsutil_read_file(path, MARKET_FILE_MAX_BYTES, &buf, &len);

	if (r == ERR_NOT_FOUND && create) {
		secp_sk_generate(sk);
		if (hex_encode(hex, sizeof(hex), sk->b, SECP_SK_BYTES) != 0)
			return ERR_INTERNAL;
		len = strlen(hex);
		hex[len++] = '\n';
		r = fsutil_write_atomic(path, hex, len, 0600, false);
		memwipe(hex, sizeof(hex));
		return r;
	}
	if (r != 0)
		return r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
		       buf[len - 1] == ' '))
		len--;
	if (len > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X'))
		r = hex_decode(sk->b, SECP_SK_BYTES, &got, (char *)buf + 2,
			       len - 2);
	else
		r = hex_decode(sk->b, SECP_SK_BYTES, &got, (char *)buf, len);
	xfree_wipe(buf, len);
	if (r != 0 || got != SECP_SK_BYTES || !secp_sk_is_valid(sk)) {
		log_err(LD_APP, "market: %s: not a secp256k1 key (64 hex "
			"digits)", path);
		return ERR_FORMAT;
	}
	return 0;
}

/*
 * The key agent's content keys: lines "INDEX HEX64" (the content's index
 * in the registry, its key K), blank lines and # comments.  The file
 * holds secrets: refused when others may read it.
 */
static int agent_keys_load(struct market_agent *ag, const char *path,
			   unsigned *count)
{
	uint8_t *buf = NULL, key[32];
	size_t len = 0, got;
	char *text, *line, *save = NULL;
	unsigned lineno = 0;
	int r;

	if ((r = fsutil_read_private_file(path, MARKET_KEYS_MAX_BYTES, &buf,
					  &len)) != 0) {
		log_err(LD_APP, "market.agent.keys: %s: %s", path, r == ERR_ARG ?
			"readable by others; chmod 600 it first" : err_str(r));
		return r;
	}
	text = xmalloc(len + 1);	/* NUL-terminated; no realloc of secrets */
	memcpy(text, buf, len);
	text[len] = 0;
	xfree_wipe(buf, len);
	for (line = strtok_r(text, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char *end;
		uint64_t index;

		lineno++;
		line += strspn(line, " \t\r");
		if (!*line || *line == '#')
			continue;
		end = line + strspn(line, "0123456789");
		got = 0;
		if (dec_decode(&index, UINT64_MAX, line,
			       (size_t)(end - line)) != 0 ||
		    (*end != ' ' && *end != '\t'))
			r = ERR_FORMAT;
		else if (end += strspn(end, " \t"),
			 strcspn(end, " \t\r") != 64 ||
			 hex_decode(key, 32, &got, end, 64) != 0 || got != 32)
			r = ERR_FORMAT;
		else
			r = market_agent_add_content(ag, index, key);
		if (r == 0)
			(*count)++;
		else
			log_err(LD_APP, "market.agent.keys: %s:%u: not INDEX "
				"and 64 hex digits (%s)", path, lineno,
				err_str(r));
	}
	memwipe(key, sizeof(key));
	xfree_wipe(text, len + 1);
	return r;
}

/* ---- query isolation: a destination per address (apps/market/iso.h) ---- */

/* A destination of its own with its chain client over the gateways. */
struct iso_dest {
	struct mdest md;
	struct market_rpc *rpc;
	struct chain_client *cc;
};

static void *iso_open(void *ctx, const uint8_t key[MARKET_ISO_KEY_BYTES])
{
	struct bitsd_market *m = ctx;
	struct iso_dest *d = xzalloc(sizeof(*d));
	struct market_rpc_config rc;
	struct chain_transport t;
	int r;

	if ((r = mdest_open(m, &d->md, &m->net, NULL, NULL)) != 0) {
		log_warn(LD_APP, "market: no destination for a query of its "
			 "own: %s", err_str(r));
		mdest_close(&d->md);
		free(d);
		return NULL;
	}
	market_rpc_config_default(&rc);
	d->rpc = market_rpc_new(&rc, d->md.mgr, m->el);
	for (unsigned i = 0; i < m->ngw; i++)
		if (m->gw_added[i])
			(void)market_rpc_add_gateway(d->rpc, &m->gw_kc[i]);
	t = market_rpc_transport(d->rpc);
	d->cc = chain_client_new(&t, m->dep.chain_id);
	if (log_enabled(LOG_DEBUG)) {
		char a[ETH_ADDR_STR_BYTES], h[72];
		log_debug(LD_APP, "market: calls about %s from destination %s",
			  eth_addr_format(key, a, sizeof(a)),
			  log_safe_hash(h, sizeof(h),
					client_dest_pub(d->md.d)->hash));
	}
	return d;
}

static void iso_close(void *ctx, void *p)
{
	struct iso_dest *d = p;

	(void)ctx;
	chain_client_free(d->cc);
	market_rpc_free(d->rpc);
	mdest_close(&d->md);
	free(d);
}

static void iso_stop(void *arg, void *p)
{
	(void)arg;
	market_rpc_stop(((struct iso_dest *)p)->rpc);
}

static void iso_add_gateway(void *arg, void *p)
{
	(void)market_rpc_add_gateway(((struct iso_dest *)p)->rpc, arg);
}

static void iso_tick(void *arg)
{
	struct bitsd_market *m = arg;
	unsigned n = market_iso_expire(m->iso, time_mono_ms());

	if (n)
		log_debug(LD_APP, "market: %u destination(s) of addresses not "
			  "asked about for %u s closed", n,
			  MARKET_ISO_IDLE_MS / 1000);
	evloop_timer_arm(m->iso_timer, MARKET_ISO_EXPIRE_MS);
}

static void iso_start(struct bitsd_market *m, const struct conf *cfg)
{
	struct market_iso_hooks h = { iso_open, iso_close, m };

	m->iso = market_iso_new(&h, cfg->market_isolation ?
				cfg->market_isolation : MARKET_ISO_DEFAULT,
				MARKET_ISO_IDLE_MS);
	m->iso_timer = evloop_timer_new(m->el, iso_tick, m);
	evloop_timer_arm(m->iso_timer, MARKET_ISO_EXPIRE_MS);
}

/*
 * Job j's client for each of n addresses: a destination of the address's
 * own, taken until the job ends (without isolation, the shared client).
 * Past the pool's size, the job's own destinations take the rest in turn
 * (so at most ceil(n / max) addresses share one); none at all fails.
 */
static int job_isolate(struct bitsd_market *m, struct market_job *j,
		       const uint8_t (*keys)[20], size_t n)
{
	uint64_t now = time_mono_ms();
	size_t shared = 0;

	j->icc = xcalloc(n ? n : 1, sizeof(*j->icc));
	j->idest = xcalloc(n ? n : 1, sizeof(*j->idest));
	for (size_t i = 0; i < n; i++) {
		struct iso_dest *d;

		if (!m->iso) {
			j->icc[i] = m->cc;
		} else if ((d = market_iso_take(m->iso, keys[i], now))) {
			j->idest[j->nidest++] = d;
			j->icc[i] = d->cc;
		} else if (j->nidest) {
			j->icc[i] = j->idest[shared++ % j->nidest]->cc;
		} else {
			return ERR_IO;
		}
	}
	if (shared)
		log_notice(LD_APP, "market: %zu addresses in one view, %zu "
			   "destinations for them (market.isolation): some "
			   "share one", n, j->nidest);
	return 0;
}

static void job_unisolate(struct bitsd_market *m, struct market_job *j)
{
	uint64_t now = time_mono_ms();

	for (size_t i = 0; i < j->nidest; i++)
		market_iso_put(m->iso, j->idest[i], now);
	free(j->idest);
	free(j->icc);
}

/* ---- the chain client ---- */

/* Add the configured gateways whose Destination is known by now. */
static void on_lookup(void *arg)
{
	struct bitsd_market *m = arg;
	bool missing = false;

	for (unsigned i = 0; i < m->ngw; i++) {
		if (m->gw_added[i])
			continue;
		if (m->net.lookup(m->net.ctx, m->gw_hashes[i],
				  &m->gw_kc[i]) == 0 &&
		    market_rpc_add_gateway(m->rpc, &m->gw_kc[i]) == 0) {
			m->gw_added[i] = true;
			market_iso_each(m->iso, iso_add_gateway, &m->gw_kc[i]);
		} else {
			missing = true;
		}
	}
	if (missing)
		evloop_timer_arm(m->lookup, MARKET_LOOKUP_RETRY_MS);
}

static int client_start(struct bitsd_market *m, const struct conf *cfg)
{
	struct market_rpc_config rc;
	struct chain_transport t;
	int r;

	market_rpc_config_default(&rc);
	if (m->ngw) {
		if ((r = mdest_open(m, &m->cli, &m->net, NULL, NULL)) != 0)
			return r;
		m->rpc = market_rpc_new(&rc, m->cli.mgr, m->el);
		m->gw_kc = xcalloc(m->ngw, sizeof(*m->gw_kc));
		if (m->have_dep)
			iso_start(m, cfg);
		m->lookup = evloop_timer_new(m->el, on_lookup, m);
		on_lookup(m);
	} else if (m->gw) {
		struct client_net ln;

		m->ln = localnet_new(m->el);
		ln = localnet_client_net(m->ln);
		if ((r = mdest_open(m, &m->gw_local, &ln, NULL, NULL)) != 0 ||
		    (r = mdest_open(m, &m->cli_local, &ln, NULL, NULL)) != 0)
			return r;
		market_gw_serve(m->gw, m->gw_local.mgr);
		m->rpc = market_rpc_new(&rc, m->cli_local.mgr, m->el);
		if ((r = market_rpc_add_gateway(m->rpc,
				client_dest_pub(m->gw_local.d))) != 0)
			return r;
	} else {
		return 0;
	}
	if (!m->have_dep) {
		log_warn(LD_APP, "market: no chain calls from here without "
			 "market.deploy (the chain id)");
		return 0;
	}
	t = market_rpc_transport(m->rpc);
	m->cc = chain_client_new(&t, m->dep.chain_id);
	return 0;
}

/* ---- /api/market ---- */

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char hex[2 * 64 + 1];

	if (n > 64 || hex_encode(hex, sizeof(hex), p, n) != 0)
		return json_null();
	return json_string(hex);
}

static json_t *addr_json(const uint8_t a[20])
{
	char s[43] = "0x";

	if (hex_encode(s + 2, sizeof(s) - 2, a, 20) != 0)
		return json_null();
	return json_string(s);
}

/* ownerOf(token_id): the answer's word is an address (its last 20
 * bytes). */
static int owner_of(struct chain_client *cc, const struct chain_deploy *dep,
		    const struct u256 *token_id, uint8_t owner[20])
{
	struct bbuf b = BBUF_INIT, ret = BBUF_INIT;
	int r;

	license_owner_of_call(&b, token_id);
	r = chain_call(cc, NULL, dep->license_registry, b.data, b.len, &ret);
	bbuf_free(&b);
	if (r == 0 && ret.len != 32)
		r = ERR_FORMAT;
	if (r == 0)
		memcpy(owner, ret.data + 12, 20);
	bbuf_free(&ret);
	return r;
}

/* GET /api/market/resale: each licence of the key library as the chain
 * has it now: still held by its holder address, its standing listing
 * (askPrice, 0: none), what the registry owes the holder (a sale's share
 * until paid out). */
static int resale_status(struct market_job *j)
{
	struct bitsd_market *m = j->m;
	json_t *a = json_array();
	char num[80];
	int r = 0;

	for (size_t i = 0; i < j->nlic && r == 0; i++) {
		const struct market_licence *l = &j->lic[i];
		struct chain_client *cc = j->icc[i];	/* the holder's */
		struct bbuf ac = BBUF_INIT, oc = BBUF_INIT;
		struct u256 ask, owed;
		uint8_t owner[20];
		json_t *o;

		if ((r = owner_of(cc, &m->dep, &l->token_id, owner)) != 0)
			break;
		market_ask_price_call(&ac, &l->token_id);
		license_owed_call(&oc, l->holder);
		r = chain_call_u256(cc, m->dep.license_registry, ac.data,
				    ac.len, &ask);
		if (r == 0)
			r = chain_call_u256(cc, m->dep.license_registry,
					    oc.data, oc.len, &owed);
		bbuf_free(&ac);
		bbuf_free(&oc);
		if (r != 0)
			break;
		o = market_licence_json(l);
		json_object_set_new(o, "owner", addr_json(owner));
		json_object_set_new(o, "held", json_boolean(
			!memcmp(owner, l->holder, 20)));
		json_object_set_new(o, "ask", json_string(
			u256_format_dec(&ask, num, sizeof(num))));
		json_object_set_new(o, "owed", json_string(
			u256_format_dec(&owed, num, sizeof(num))));
		json_array_append_new(a, o);
	}
	if (r != 0) {
		json_decref(a);
		return r;
	}
	j->out = json_pack("{sb ss so}", "relayer", m->resale_relayer,
			   "relayer_fee", u256_format_dec(&m->resale_fee, num,
							  sizeof(num)),
			   "licences", a);
	return 0;
}

static void job_run(void *arg)
{
	struct market_job *j = arg;
	struct bitsd_market *m = j->m;

	if (j->kind == JOB_RESALE) {
		j->err = resale_status(j);
	} else if (j->kind == JOB_HISTORY) {
		j->err = market_history_json(m->cc, &m->dep,
					     (const uint8_t (*)[20])j->acc,
					     j->nacc, MARKET_HISTORY_BLOCKS,
					     &j->out);
	} else if (j->kind == JOB_WALLET) {
		struct market_wallet_query q = { 0 };

		q.accounts = (const uint8_t (*)[20])m->accounts;
		q.naccounts = m->naccounts;
		q.account_cc = j->icc;
		j->err = market_wallet_json(m->cc, &m->dep, &q, &j->out);
	} else {
		uint64_t n = 0;

		j->err = chain_block_number(m->cc, &n);
		if (j->err == 0)
			j->out = json_pack("{sI}", "block", (json_int_t)n);
	}
	if (j->err)
		j->why = chain_client_error(m->cc);
}

static void job_closed(struct evhttp_connection *evcon, void *arg)
{
	struct market_job *j = arg;

	(void)evcon;
	j->req = NULL;
}

static void job_done(void *arg)
{
	struct market_job *j = arg;

	if (j->req) {
		evhttp_connection_set_closecb(
			evhttp_request_get_connection(j->req), NULL, NULL);
		if (j->err == 0) {
			api_reply_json(j->req, 200, j->out);
		} else {
			char msg[256];

			snprintf(msg, sizeof(msg), "chain: %s",
				 j->why ? j->why : err_str(j->err));
			api_reply_error(j->req, 502, msg);
		}
	}
	json_decref(j->out);
	j->m->job = NULL;
	job_unisolate(j->m, j);
	free(j->acc);
	free(j->lic);
	free(j);
}

static void start_job(struct bitsd_market *m, struct evhttp_request *req,
		      enum market_job_kind kind)
{
	struct market_job *j;
	int r = 0;

	if (!m->cc) {
		api_reply_error(req, 503, "no chain RPC gateway: set "
				"market.gateways or run market.gateway");
		return;
	}
	if (kind != JOB_BLOCK && !m->have_dep) {
		api_reply_error(req, 503, "no contracts: set market.deploy");
		return;
	}
	if (m->job) {
		api_reply_error(req, 503, "a chain call is under way; try "
				"again");
		return;
	}
	j = xzalloc(sizeof(*j));
	j->m = m;
	j->req = req;
	j->kind = kind;
	/* history: market.accounts, the paying wallet and the holders of
	 * the licences bought here (resales) */
	if (kind == JOB_HISTORY) {
		size_t nlib = m->lib ? market_library_count(m->lib) : 0;

		j->acc = xmalloc((m->naccounts + 1 + nlib) * 20);
		if (m->naccounts)
			memcpy(j->acc, m->accounts, m->naccounts * 20);
		j->nacc = m->naccounts;
		if (m->buyer && market_buyer_payer(m->buyer, j->acc[j->nacc]))
			j->nacc++;
		for (size_t i = 0; i < nlib; i++)
			memcpy(j->acc[j->nacc++],
			       market_library_at(m->lib, i)->holder, 20);
	}
	if (kind == JOB_RESALE) {	/* the licences minted to us */
		size_t nlib = market_library_count(m->lib);

		j->lic = xmalloc((nlib ? nlib : 1) * sizeof(*j->lic));
		for (size_t i = 0; i < nlib; i++)
			if (market_library_at(m->lib, i)->has_token)
				j->lic[j->nlic++] = *market_library_at(m->lib,
								       i);
		j->acc = xmalloc((j->nlic ? j->nlic : 1) * 20);
		for (size_t i = 0; i < j->nlic; i++)
			memcpy(j->acc[i], j->lic[i].holder, 20);
		r = job_isolate(m, j, (const uint8_t (*)[20])j->acc, j->nlic);
	} else if (kind == JOB_WALLET) {
		r = job_isolate(m, j, (const uint8_t (*)[20])m->accounts,
				m->naccounts);
	}
	if (r != 0) {
		api_reply_error(req, 503, "no destination of their own for "
				"the addresses asked about; try again");
		job_unisolate(m, j);
		free(j->acc);
		free(j->lic);
		free(j);
		return;
	}
	m->job = j;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
				      job_closed, j);
	worker_submit(m->wp, (struct work){ job_run, job_done, j });
}

static json_t *status_json(struct bitsd_market *m)
{
	json_t *o = json_object(), *gws = json_array();
	struct market_gw_stats gs;
	struct market_rpc_gw_info gi;

	json_object_set_new(o, "gateway", m->gw ? mdest_b32(&m->gwd) :
					       json_null());
	if (m->gw) {
		market_gw_stats(m->gw, &gs);
		json_object_set_new(o, "gateway_stats", json_pack(
			"{sI sI sI sI sI sI}",
			"requests", (json_int_t)gs.requests,
			"forwarded", (json_int_t)gs.forwarded,
			"refused_method", (json_int_t)gs.refused_method,
			"refused_invalid", (json_int_t)gs.refused_invalid,
			"refused_rate", (json_int_t)gs.refused_rate,
			"node_errors", (json_int_t)gs.node_errors));
	}
	json_object_set_new(o, "agent", m->agent ? mdest_b32(&m->agd) :
					     json_null());
	if (m->agent) {
		struct secp_pk A;
		uint8_t addr[20];

		json_object_set_new(o, "agent_contents",
				    json_integer(m->agent_contents));
		if (secp_sk_pubkey(m->agent_sk, &A) == 0 &&
		    secp_pk_address(&A, addr) == 0) {
			json_object_set_new(o, "agent_address",
					    addr_json(addr));
			json_object_set_new(o, "agent_pubkey",
					    hex_json(A.b, SECP_PK_BYTES));
		}
	}
	{
		uint8_t addr[20];

		json_object_set_new(o, "wallet", m->buyer &&
				    market_buyer_payer(m->buyer, addr) ?
				    addr_json(addr) : json_null());
		json_object_set_new(o, "buyer", m->buyer ? mdest_b32(&m->bud) :
						     json_null());
		json_object_set_new(o, "licences", json_integer(m->lib ?
				    (json_int_t)market_library_held(m->lib) :
				    0));
	}
	json_object_set_new(o, "relayer", m->relayer ? mdest_b32(&m->rld) :
					       json_null());
	for (unsigned i = 0; m->rpc &&
	     market_rpc_gateway_info(m->rpc, i, &gi) == 0; i++)
		json_array_append_new(gws, json_pack(
			"{sb sb sI}", "checked", gi.checked, "disagrees",
			gi.disagrees, "height", (json_int_t)gi.height));
	json_object_set_new(o, "client", json_pack(
		"{ss so sb}", "via", m->ngw ? "gateways" : m->cc ?
		"own gateway" : "none", "gateways", gws, "conflict",
		m->rpc ? market_rpc_in_conflict(m->rpc) : false));
	json_object_set_new(o, "chain_id", m->have_dep ?
			    json_integer((json_int_t)m->dep.chain_id) :
			    json_null());
	json_object_set_new(o, "isolation", m->iso ? json_pack(
		"{sI sI}", "open", (json_int_t)market_iso_open_count(m->iso),
		"opened", (json_int_t)market_iso_opened_total(m->iso)) :
		json_null());
	return o;
}

/* ---- buying and the key library ---- */

static void buy_post(struct bitsd_market *m, struct evhttp_request *req)
{
	struct market_buy_order o;
	json_t *body = NULL, *reply;
	const char *why;
	uint64_t id;
	bool done;

	if (!m->buyer) {
		api_reply_error(req, 503, "no buying here: it needs "
				"market.deploy and a chain RPC gateway");
		return;
	}
	if (api_body_json(req, &body) != 0) {
		api_reply_error(req, 400, "a JSON object is needed");
		return;
	}
	why = market_buy_order_parse(body, &o);
	json_decref(body);
	if (why) {
		api_reply_error(req, 400, why);
		return;
	}
	if (market_buyer_start(m->buyer, &o, &id, &done, &why) != 0) {
		api_reply_error(req, 409, why);
		return;
	}
	reply = market_buyer_job_json(m->buyer, id);
	api_reply_json(req, done ? 200 : 202, reply);
	json_decref(reply);
}

static void buy_get(struct bitsd_market *m, struct evhttp_request *req,
		    const char *idtext)
{
	uint64_t id;
	json_t *o = NULL;

	if (dec_decode(&id, UINT64_MAX, idtext, strlen(idtext)) == 0 &&
	    m->buyer)
		o = market_buyer_job_json(m->buyer, id);
	if (!o) {
		api_reply_error(req, 404, "no such purchase");
		return;
	}
	api_reply_json(req, 200, o);
	json_decref(o);
}

/* ---- resale of a licence held ---- */

static void resale_done(void *arg, int err, const char *why, json_t *res)
{
	struct bitsd_market *m = arg;
	struct evhttp_request *req = m->resale_req;

	m->resale_req = NULL;
	if (!req)
		return;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
				      NULL, NULL);
	if (err == 0)
		api_reply_json(req, 200, res);
	else
		api_reply_error(req, err == ERR_BAD_STATE ? 409 : 502, why);
}

static void resale_closed(struct evhttp_connection *evcon, void *arg)
{
	struct bitsd_market *m = arg;

	(void)evcon;
	m->resale_req = NULL;	/* the step goes on; nobody to tell */
}

static void resale_post(struct bitsd_market *m, struct evhttp_request *req)
{
	struct market_resale_order o;
	json_t *body = NULL;
	const char *why;
	int r;

	if (!m->reseller) {
		api_reply_error(req, 503, "no resale here: it needs "
				"market.deploy and a chain RPC gateway");
		return;
	}
	if (api_body_json(req, &body) != 0) {
		api_reply_error(req, 400, "a JSON object is needed");
		return;
	}
	why = market_resale_order_parse(body, &o);
	json_decref(body);
	if (why) {
		api_reply_error(req, 400, why);
		return;
	}
	if ((r = market_reseller_start(m->reseller, &o, resale_done, m,
				       &why)) != 0) {
		api_reply_error(req, r == ERR_NOT_FOUND ? 404 : 409, why);
		return;
	}
	m->resale_req = req;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
				      resale_closed, m);
}

struct market_registrar *bitsd_market_registrar(const struct bitsd_market *m,
						uint8_t agent_dest[32])
{
	if (!m || !m->reg)
		return NULL;
	memcpy(agent_dest, client_dest_pub(m->agd.d)->hash, 32);
	return m->reg;
}

bool bitsd_market_chain(struct bitsd_market *m, struct chain_transport *out)
{
	if (!m || !m->rpc)
		return false;
	*out = market_rpc_transport(m->rpc);
	return true;
}

bool bitsd_market_deploy(const struct bitsd_market *m,
			 struct chain_deploy *out)
{
	if (!m || !m->have_dep)
		return false;
	*out = m->dep;
	return true;
}

int bitsd_market_serve(struct bitsd_market *m, struct market_service *sv,
		       const char *name, const char *b32name)
{
	int r;

	if (!m || m->served.mgr)
		return ERR_BAD_STATE;
	if ((r = mdest_open(m, &m->served, &m->net, name, b32name)) != 0) {
		mdest_close(&m->served);
		return r;
	}
	market_service_serve(sv, m->served.mgr);
	return 0;
}

void bitsd_market_unserve(struct bitsd_market *m)
{
	if (m && m->served.mgr)
		mdest_close(&m->served);
}

json_t *bitsd_market_served_b32(const struct bitsd_market *m)
{
	return m ? mdest_b32(&m->served) : json_null();
}

struct stream_mgr *bitsd_market_streams(struct bitsd_market *m)
{
	if (!m)
		return NULL;
	if (!m->other.mgr && mdest_open(m, &m->other, &m->net, NULL,
					NULL) != 0) {
		mdest_close(&m->other);
		return NULL;
	}
	return m->other.mgr;
}

bool bitsd_market_owns(const struct bitsd_market *m,
		       const uint8_t content_hash[32])
{
	const struct market_licence *l;

	if (!m || !m->lib)
		return false;
	l = market_library_find(m->lib, content_hash);
	return l && l->has_token && !l->sold_at;
}

int bitsd_market_key_for(const struct bitsd_market *m,
			 const uint8_t content_hash[32], uint8_t key[32])
{
	if (!m || !m->lib)
		return ERR_NOT_FOUND;
	return market_library_content_key(m->lib, content_hash, key);
}

static void on_request(void *ctx, struct evhttp_request *req,
		       const char *rest)
{
	struct bitsd_market *m = ctx;
	bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
	json_t *o;

	if (post) {
		if (!strcmp(rest, "/buy"))
			buy_post(m, req);
		else if (!strcmp(rest, "/resale"))
			resale_post(m, req);
		else
			api_reply_error(req, 405, "Method Not Allowed");
	} else if (!rest || !*rest || !strcmp(rest, "/")) {
		o = status_json(m);
		api_reply_json(req, 200, o);
		json_decref(o);
	} else if (!strcmp(rest, "/wallet")) {
		start_job(m, req, JOB_WALLET);
	} else if (!strcmp(rest, "/history")) {
		start_job(m, req, JOB_HISTORY);
	} else if (!strcmp(rest, "/resale")) {
		if (m->lib)
			start_job(m, req, JOB_RESALE);
		else
			api_reply_error(req, 503, "no key library");
	} else if (!strcmp(rest, "/block")) {
		start_job(m, req, JOB_BLOCK);
	} else if (!strcmp(rest, "/keys")) {
		o = m->lib ? market_library_json(m->lib) : NULL;
		if (o)
			api_reply_json(req, 200, o);
		else
			api_reply_error(req, 503, "no key library");
		json_decref(o);
	} else if (!strncmp(rest, "/buy/", 5)) {
		buy_get(m, req, rest + 5);
	} else {
		api_reply_error(req, 404, "no such market call");
	}
}

/* ---- start and stop ---- */

/* The key library, and the buyer when the chain can be reached. */
static int buyer_start(struct bitsd_market *m, const struct conf *cfg)
{
	struct market_buyer_config bc;
	struct secp_sk *payer = NULL;
	int r;

	if ((r = market_library_open(m->datadir, &m->lib)) != 0)
		return r;
	if (!m->cc || !m->have_dep) {
		if (cfg->market_wallet_key) {
			log_err(LD_APP, "market.wallet.key needs market.deploy "
				"and a chain RPC gateway");
			return ERR_ARG;
		}
		return 0;
	}
	market_buyer_config_default(&bc);
	bc.dep = m->dep;
	if (cfg->market_buy_relayer) {
		if (!b32_hash_parse(cfg->market_buy_relayer,
				     strlen(cfg->market_buy_relayer),
				     bc.relayer)) {
			log_err(LD_APP, "market.buy.relayer: not a b32 "
				"address or 64 hex digits: %s",
				cfg->market_buy_relayer);
			return ERR_FORMAT;
		}
		bc.has_relayer = true;
	}
	bc.relayer_fee = u256_from_u64(cfg->market_buy_relayer_fee);
	if (cfg->market_wallet_key) {
		payer = secmem_alloc(sizeof(*payer));
		if ((r = bitsd_market_sk_load(cfg->market_wallet_key, false,
					      payer)) != 0) {
			log_err(LD_APP, "market.wallet.key: %s: %s",
				cfg->market_wallet_key, err_str(r));
			secmem_free(payer);
			return r;
		}
	}
	if ((r = mdest_open(m, &m->bud, &m->net, NULL, NULL)) == 0) {
		struct market_reseller_config sc;

		m->buyer = market_buyer_new(&bc, payer, m->rpc, m->bud.mgr,
					    &m->net, m->wp, m->el, m->lib);
		market_reseller_config_default(&sc);
		sc.dep = m->dep;
		sc.has_relayer = bc.has_relayer;
		memcpy(sc.relayer, bc.relayer, 32);
		sc.relayer_fee = bc.relayer_fee;
		m->resale_relayer = bc.has_relayer;
		m->resale_fee = bc.relayer_fee;
		sc.has_payee = market_buyer_payer(m->buyer, sc.payee);
		m->reseller = market_reseller_new(&sc, m->rpc, m->bud.mgr,
						  &m->net, m->wp, m->el,
						  m->lib);
	}
	if (payer && m->agent)	/* the console registers contents */
		m->reg = market_registrar_new(&m->dep, payer, m->agent_sk,
					      m->agent, m->agent_keys, m->rpc,
					      m->wp);
	if (payer)
		secmem_free(payer);
	return r;
}

static int services_start(struct bitsd_market *m, const struct conf *cfg)
{
	int r;

	if (cfg->market_gateway) {
		struct market_gw_config gc;

		if (!cfg->market_gateway_rpc) {
			log_err(LD_APP, "market.gateway needs "
				"market.gateway.rpc");
			return ERR_ARG;
		}
		if ((r = market_http_new(m->el, cfg->market_gateway_rpc, 0,
					 &m->http)) != 0) {
			log_err(LD_APP, "market.gateway.rpc: %s: not "
				"http://127.x.y.z:PORT", cfg->market_gateway_rpc);
			return r;
		}
		market_gw_config_default(&gc);
		m->gw = market_gw_new(&gc, market_http_upstream(m->http),
				      m->el);
		if ((r = mdest_open(m, &m->gwd, &m->net, "market-gateway.dat",
				    "market-gateway.b32")) != 0)
			return r;
		market_gw_serve(m->gw, m->gwd.mgr);
	}
	if ((r = client_start(m, cfg)) != 0)
		return r;
	if ((cfg->market_agent || cfg->market_relayer_key) &&
	    (!m->have_dep || !m->cc)) {
		log_err(LD_APP, "market.agent and market.relayer.key need "
			"market.deploy and a chain RPC gateway");
		return ERR_ARG;
	}
	if (cfg->market_agent) {
		struct market_agent_config ac;
		char *path = fsutil_path_join(m->datadir, "market-agent.key");

		m->agent_sk = secmem_alloc(sizeof(*m->agent_sk));
		r = bitsd_market_sk_load(path, true, m->agent_sk);
		free(path);
		if (r != 0)
			return r;
		market_agent_config_default(&ac);
		ac.chain_id = m->dep.chain_id;
		memcpy(ac.key_release, m->dep.key_release, 20);
		memcpy(ac.license_registry, m->dep.license_registry, 20);
		m->agent = market_agent_new(&ac, m->agent_sk, m->rpc, m->el);
		/* default: DATADIR/market-agent.keys, where the console's
		 * registrations add theirs */
		m->agent_keys = cfg->market_agent_keys ?
			xstrdup(cfg->market_agent_keys) :
			fsutil_path_join(m->datadir, "market-agent.keys");
		if ((cfg->market_agent_keys ||
		     access(m->agent_keys, F_OK) == 0) &&
		    (r = agent_keys_load(m->agent, m->agent_keys,
					 &m->agent_contents)) != 0)
			return r;
		if ((r = mdest_open(m, &m->agd, &m->net, "market-agent.dat",
				    "market-agent.b32")) != 0)
			return r;
		market_agent_serve(m->agent, m->agd.mgr);
	}
	if (cfg->market_relayer_key) {
		struct market_relayer_config rc = { 0 };

		m->relayer_sk = secmem_alloc(sizeof(*m->relayer_sk));
		if ((r = bitsd_market_sk_load(cfg->market_relayer_key, false,
					      m->relayer_sk)) != 0) {
			log_err(LD_APP, "market.relayer.key: %s: %s",
				cfg->market_relayer_key, err_str(r));
			return r;
		}
		rc.dep = m->dep;
		rc.min_fee = u256_from_u64(cfg->market_relayer_min_fee);
		rc.redeem_min_fee =
			u256_from_u64(cfg->market_relayer_redeem_min_fee);
		m->relayer = market_relayer_new(&rc, m->relayer_sk, m->rpc,
						m->wp, m->el);
		if ((r = mdest_open(m, &m->rld, &m->net, "market-relayer.dat",
				    "market-relayer.b32")) != 0)
			return r;
		market_relayer_serve(m->relayer, m->rld.mgr);
	}
	return buyer_start(m, cfg);
}

int bitsd_market_start(struct evloop *el, const struct conf *cfg,
		       const struct client_net *net, struct worker_pool *wp,
		       struct api *api, struct bitsd_market **out)
{
	struct bitsd_market *m = xzalloc(sizeof(*m));
	int r = 0;

	m->el = el;
	m->wp = wp;
	m->net = *net;
	m->datadir = xstrdup(cfg->datadir);
	if (cfg->market_isolation > MARKET_ISO_LIMIT) {
		log_err(LD_APP, "market.isolation: at most %u",
			MARKET_ISO_LIMIT);
		r = ERR_RANGE;
	}
	if (r == 0 && cfg->market_gateways)
		r = list_each("market.gateways", cfg->market_gateways,
			      add_gateway_hash, m);
	if (r == 0 && cfg->market_accounts)
		r = list_each("market.accounts", cfg->market_accounts,
			      add_account, m);
	if (r == 0 && cfg->market_deploy)
		r = load_deploy(m, cfg->market_deploy);
	if (r == 0)
		r = services_start(m, cfg);
	if (r == 0 && api &&
	    (r = api_add_route(api, "/api/market",
				      EVHTTP_REQ_GET | EVHTTP_REQ_POST,
			       on_request, m)) == 0)
		m->api = api;
	if (r != 0) {
		bitsd_market_stop(m);
		return r;
	}
	log_notice(LD_APP, "market: gateway %s, agent %s, relayer %s, chain "
		   "client %s, /api/market %s", m->gw ? "on" : "off",
		   m->agent ? "on" : "off", m->relayer ? "on" : "off",
		   m->ngw ? "over market.gateways" : m->cc ? "over our gateway"
		   : "off", api ? "served" : "off (no api-port)");
	*out = m;
	return 0;
}

struct secp_sk *bitsd_market_sk_secure(const char *what, const char *path,
				       bool create, int *r)
{
	struct secp_sk *sk = secmem_alloc(sizeof(*sk));

	if ((*r = bitsd_market_sk_load(path, create, sk)) != 0) {
		log_err(LD_APP, "%s %s: %s", what, path, err_str(*r));
		secmem_free(sk);
		return NULL;
	}
	return sk;
}

static void drain_tick(void *arg)
{
	evloop_break(arg);
}

void bitsd_market_drain(struct evloop *el, bool (*busy)(void *arg),
			void *arg)
{
	struct evloop_timer *t = evloop_timer_new(el, drain_tick, el);

	while (busy(arg)) {
		evloop_timer_arm(t, 50);
		if (evloop_run(el) != 0)
			break;
	}
	evloop_timer_free(t);
}

static bool market_busy(void *arg)
{
	struct bitsd_market *m = arg;

	if (m->job)
		m->job->req = NULL;
	return m->job || (m->relayer && market_relayer_busy(m->relayer)) ||
	       market_buyer_busy(m->buyer) || market_registrar_busy(m->reg) ||
	       market_reseller_busy(m->reseller);
}

void bitsd_market_quiesce(struct bitsd_market *m)
{
	if (m && m->rpc) {
		log_info(LD_APP, "market: stopping: chain calls through "
			 "gateways end now");
		market_rpc_stop(m->rpc);
		market_iso_each(m->iso, iso_stop, NULL);
	}
}

void bitsd_market_stop(struct bitsd_market *m)
{
	if (!m)
		return;
	if (m->api)
		api_remove_route(m->api, "/api/market");
	/* Workers in chain calls wait on the loop: run it until they end. */
	bitsd_market_drain(m->el, market_busy, m);
	market_buyer_free(m->buyer);
	if (m->resale_req)
		evhttp_connection_set_closecb(
			evhttp_request_get_connection(m->resale_req), NULL,
			NULL);
	market_reseller_free(m->reseller);
	market_registrar_free(m->reg);
	free(m->agent_keys);
	mdest_close(&m->bud);
	mdest_close(&m->other);
	mdest_close(&m->served);
	market_library_free(m->lib);
	market_relayer_free(m->relayer);
	mdest_close(&m->rld);
	if (m->relayer_sk)
		secmem_free(m->relayer_sk);
	market_agent_free(m->agent);
	mdest_close(&m->agd);
	if (m->agent_sk)
		secmem_free(m->agent_sk);
	evloop_timer_free(m->lookup);
	evloop_timer_free(m->iso_timer);
	market_iso_free(m->iso);
	chain_client_free(m->cc);
	/* Each service resets its streams before their managers go. */
	market_rpc_free(m->rpc);
	market_gw_free(m->gw);
	mdest_close(&m->cli);
	mdest_close(&m->cli_local);
	mdest_close(&m->gw_local);
	localnet_free(m->ln);
	mdest_close(&m->gwd);
	market_http_free(m->http);
	free(m->gw_hashes);
	free(m->gw_added);
	free(m->gw_kc);
	free(m->accounts);
	free(m->datadir);
	free(m);
}
