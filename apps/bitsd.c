/*
 * bitsd: lists the subsystems, installs their hooks and hands them to the
 * daemon runtime in router/ (STYLE.md §1).  Each hook is a thin adapter
 * from the runtime's (daemon, ctx) calls to a module's own API.
 */
#include "config.h"
#include "apps/api/api.h"
#include "apps/bitsd_console.h"
#include "apps/bitsd_feed.h"
#include "apps/bitsd_market.h"
#include "apps/bitsd_netdb.h"
#include "apps/bitsd_ntcp2.h"
#include "apps/bitsd_proxy.h"
#include "apps/bitsd_relaypay.h"
#include "apps/bitsd_ssu2.h"
#include "apps/bitsd_status.h"
#include "apps/bitsd_seedpay.h"
#include "apps/bitsd_swarm.h"
#include "apps/bitsd_tunnels.h"
#include "apps/api/console_assets.h"
#include "apps/client/tunnelnet.h"
#include "apps/sam/sam.h"
#include "apps/swarm/service.h"
#include "chain/calls.h"
#include "chain/rpc.h"
#include "netdb/netdb.h"
#include "router/conf.h"
#include "router/daemon.h"
#include "router/ri_pay.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

/* What the subsystems share; owned by main(). */
struct bitsd {
	struct router_keys *keys;
	struct router_self *self;
	struct bitsd_ntcp2 *ntcp2;
	struct bitsd_ssu2 *ssu2;
	struct bitsd_netdb *netdb;
	struct api *api;
	struct bitsd_status *status;
	struct bitsd_tunnels *tunnels;
	struct tunnelnet *tunnelnet;	/* SAM's and the proxies' destinations */
	struct sam_server *sam;
	struct bitsd_proxy *proxy;
	struct swarm_service *swarm;
	struct bitsd_feed *feed;
	struct bitsd_market *market;
	struct bitsd_seedpay *seedpay;
	struct bitsd_relaypay *relaypay;
	struct ri_pay pay;		/* what reach.pay points to */
	struct bitsd_console *console;
	struct daemon *d;
	/* firewalled and our introducers, from SSU2; every RouterInfo we
	 * sign follows it */
	struct router_self_reach reach;
};

static int keys_start(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	return router_keys_load_or_create(daemon_conf(d)->datadir, &b->keys,
					  NULL);
}

static void keys_stop(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	FREE_AND_NULL(router_keys_free, b->keys);
}

/* Write router.info before the loop runs (also for --init). */
static int self_start(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	int r;

	if ((r = router_self_publish(daemon_conf(d), b->keys)) != 0)
		return r;
	b->self = router_self_new(daemon_workers(d));
	return 0;
}

static void self_stop(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	FREE_AND_NULL(router_self_free, b->self);
}

/* SIGHUP: host, port or netId may have changed; write on a worker. */
static int self_reload(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	return router_self_refresh_reach(b->self, daemon_conf(d), b->keys,
					 &b->reach);
}

/* NTCP2, the transport manager and the interim RouterInfo table. */
static int ntcp2_start(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	return bitsd_ntcp2_start(d, b->keys, &b->ntcp2);
}

static void ntcp2_stop(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	FREE_AND_NULL(bitsd_ntcp2_stop, b->ntcp2);
}

/* SSU2 found us firewalled (or reachable again), or our introducers
 * changed: re-sign and republish everywhere. */
static void reach_changed(void *ctx)
{
	struct bitsd *b = ctx;

	bitsd_ntcp2_set_reach(b->ntcp2, &b->reach);
	bitsd_netdb_set_reach(b->netdb, &b->reach);
	if (b->self)
		(void)router_self_refresh_reach(b->self, daemon_conf(b->d),
						b->keys, &b->reach);
}

/* The netDb: takes the transport hooks over from the interim table. */
/* SSU2 on the same transport manager (when the config enables it). */
static int ssu2_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	int r;

	b->d = d;
	r = bitsd_ssu2_start(d, b->keys, bitsd_ntcp2_transport(b->ntcp2),
			     &b->ssu2);
	if (r == 0)
		bitsd_ssu2_set_reach(b->ssu2, &b->reach, reach_changed, b);
	return r;
}

static void ssu2_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	bitsd_ssu2_set_reach(b->ssu2, NULL, NULL, NULL);
	FREE_AND_NULL(bitsd_ssu2_stop, b->ssu2);
}

static int netdb_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	int r = bitsd_netdb_start(d, b->keys, bitsd_ntcp2_transport(b->ntcp2),
				  &b->netdb);

	/* (not firewalled yet: reach_changed() hands it over later) */
	if (r == 0 && b->reach.firewalled)
		bitsd_netdb_set_reach(b->netdb, &b->reach);
	/* Firewalled, SSU2 dials introducers it finds in the netDb. */
	if (r == 0)
		bitsd_ssu2_set_netdb(b->ssu2, bitsd_netdb_get(b->netdb));
	return r;
}

static void netdb_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	bitsd_ssu2_set_netdb(b->ssu2, NULL);
	FREE_AND_NULL(bitsd_netdb_stop, b->netdb);
}

/* Transit tunnels and our own (exploratory) tunnels. */
/* The netDb's receive hook hands tunnel messages and builds on. */
static bool tunnels_take(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	return bitsd_tunnels_recv(ctx, peer, m);
}

static int tunnels_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	int r;

	r = bitsd_tunnels_start(d, b->keys, bitsd_ntcp2_transport(b->ntcp2),
				b->netdb ? bitsd_netdb_get(b->netdb) : NULL,
				&b->tunnels);
	if (r == 0 && b->netdb) {
		bitsd_netdb_set_other(b->netdb, tunnels_take, b->tunnels);
		bitsd_netdb_set_peer_hooks(b->netdb, bitsd_tunnels_peer_failed,
					   bitsd_tunnels_peer_up, b->tunnels);
	}
	return r;
}

static void client_net_free(struct bitsd *b);

static void tunnels_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	if (b->netdb) {
		bitsd_netdb_set_other(b->netdb, NULL, NULL);
		bitsd_netdb_set_peer_hooks(b->netdb, NULL, NULL, NULL);
	}
	client_net_free(b);
	FREE_AND_NULL(bitsd_tunnels_stop, b->tunnels);
}

/* The SAM bridge on 127.0.0.1, when --sam-port is set: its destinations
 * get client tunnels of their own and talk garlic through them. */
static bool sam_garlic(void *ctx, struct i2np_msg *m)
{
	return tunnelnet_garlic_in(ctx, m);
}

/* The destinations' network, made by the first app that needs it (SAM,
 * the proxies) and freed with the tunnels. */
static int client_net_get(struct bitsd *b, struct daemon *d,
			  struct client_net *out)
{
	const struct conf *cfg = daemon_conf(d);
	struct tunnelnet_cfg tc = { 0 };
	int r;

	if (!b->tunnelnet) {
		if (!b->netdb || !bitsd_tunnels_own(b->tunnels)) {
			log_err(LD_APP, "SAM and the proxies need the netDb "
				"and our own tunnels");
			return ERR_BAD_STATE;
		}
		tc.el = daemon_evloop(d);
		tc.tunnels = bitsd_tunnels_own(b->tunnels);
		tc.db = bitsd_netdb_get(b->netdb);
		tunnel_pool_cfg_default(&tc.pool);
		tc.pool.in_length = tc.pool.out_length = cfg->sam_hops;
		tc.pool.in_quantity = tc.pool.out_quantity = 2;
		tc.pool.kind = PEER_SELECT_CLIENT;
		tc.ratchet.max_sessions = cfg->lim_garlic_sessions ?
					  cfg->lim_garlic_sessions : SIZE_MAX;
		if ((r = tunnelnet_new(&tc, &b->tunnelnet)) != 0)
			return r;
		bitsd_tunnels_set_garlic(b->tunnels, sam_garlic, b->tunnelnet);
	}
	*out = tunnelnet_client_net(b->tunnelnet);
	return 0;
}

static void client_net_free(struct bitsd *b)
{
	if (b->tunnels)
		bitsd_tunnels_set_garlic(b->tunnels, NULL, NULL);
	FREE_AND_NULL(tunnelnet_free, b->tunnelnet);
}

static int sam_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	const struct conf *cfg = daemon_conf(d);
	struct sam_server_cfg sc;
	struct client_net net;
	int r;

	if (!cfg->sam_port)
		return 0;
	if ((r = client_net_get(b, d, &net)) != 0)
		return r;
	sam_server_cfg_default(&sc);
	sc.port = cfg->sam_port;
	/* Datagrams on the port below (7655 below 7656, as i2pd). */
	sc.udp = cfg->sam_port > 1;
	sc.udp_port = (uint16_t)(cfg->sam_port - 1);
	sc.stream.mtu = STREAM_MTU_ECIES;
	/* [limits]: a session's i2p.streaming.maxConcurrentStreams may set
	 * its own. */
	sc.max_sessions = cfg->lim_sam_sessions ? cfg->lim_sam_sessions
						: UINT_MAX;
	sc.stream.max_streams = cfg->lim_streams;
	if ((r = sam_server_new(daemon_evloop(d), &net, &sc, &b->sam)) != 0)
		return r;
	log_notice(LD_APP, "SAM bridge on 127.0.0.1:%u", sam_server_port(b->sam));
	return 0;
}

static void sam_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	FREE_AND_NULL(sam_server_free, b->sam);
}

/* The HTTP and SOCKS proxies and the tunnels of tunnels.conf. */
static int proxy_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	struct client_net net;
	int r;

	if (!bitsd_proxy_wanted(daemon_conf(d)))
		return 0;
	if ((r = client_net_get(b, d, &net)) != 0)
		return r;
	return bitsd_proxy_start(daemon_evloop(d), daemon_conf(d), &net,
				 &b->proxy);
}

static void proxy_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	FREE_AND_NULL(bitsd_proxy_stop, b->proxy);
}

/* The swarm service (issue [W]) when `swarm = true`. */
static int swarm_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	struct client_net net;
	int r;

	if (!daemon_conf(d)->swarm)
		return 0;
	if ((r = client_net_get(b, d, &net)) != 0)
		return r;
	return bitsd_swarm_start(daemon_evloop(d), daemon_conf(d), &net,
				 &b->swarm);
}

static void swarm_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	FREE_AND_NULL(swarm_service_free, b->swarm);
}

/* The feed's owned filter: the market's key library (none without the
 * market, which may start after the feed). */
static bool feed_owns(void *ctx, const uint8_t content_hash[32])
{
	struct bitsd *b = ctx;

	return bitsd_market_owns(b->market, content_hash);
}

/* The feed (issue [H]) when `feed = true`; after the API so that it can
 * serve /api/feed there. */
static int feed_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	struct client_net net;
	int r;

	if (!daemon_conf(d)->feed)
		return 0;
	if ((r = client_net_get(b, d, &net)) != 0)
		return r;
	return bitsd_feed_start(daemon_evloop(d), daemon_conf(d), &net,
				b->api, feed_owns, b, &b->feed);
}

static void feed_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	FREE_AND_NULL(bitsd_feed_stop, b->feed);
}

/* The market services and chain client (issue 13) when a market.* key
 * asks; after the API so that it can serve /api/market there. */
static int market_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	struct client_net net;
	int r;

	if (!bitsd_market_wanted(daemon_conf(d)))
		return 0;
	if ((r = client_net_get(b, d, &net)) != 0)
		return r;
	return bitsd_market_start(daemon_evloop(d), daemon_conf(d), &net,
				  daemon_workers(d), b->api, &b->market);
}

static void market_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	FREE_AND_NULL(bitsd_market_stop, b->market);
}

/* Stopped first: the market's chain calls end at once (a gateway may
 * have gone before us), so no subsystem waits on one while stopping. */
static int chain_calls_start_hook(struct daemon *d, void *ctx)
{
	(void)d;
	(void)ctx;
	return 0;
}

static void chain_calls_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	bitsd_market_quiesce(b->market);
}

/* The feed's favoured creators by DID read from the chain; after the
 * market, whose chain client and contracts it uses, stopped before it. */
static int feed_did_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	struct chain_transport t;
	struct chain_deploy dep;

	if (!b->feed || !bitsd_market_chain(b->market, &t) ||
	    !bitsd_market_deploy(b->market, &dep))
		return 0;
	return bitsd_feed_did_start(b->feed, daemon_workers(d), &t, &dep);
}

static void feed_did_stop_hook(struct daemon *d, void *ctx)
{
	(void)d;
	bitsd_feed_did_stop(((struct bitsd *)ctx)->feed);
}

/* Pay per chunk on the swarm (swarm.pay.*); after the market, whose
 * chain client, contracts and streams it uses. */
static int seedpay_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	struct bitsd_seedpay_deps deps = {
		.el = daemon_evloop(d), .wp = daemon_workers(d), .api = b->api,
		.swarm = b->swarm ? swarm_service_swarm(b->swarm) : NULL,
		.store = b->swarm ? swarm_service_store(b->swarm) : NULL,
		.market = b->market,
	};
	int r;

	if (!bitsd_seedpay_wanted(daemon_conf(d)))
		return 0;
	if ((r = client_net_get(b, d, &deps.net)) != 0)
		return r;
	return bitsd_seedpay_start(daemon_conf(d), &deps, &b->seedpay);
}

static void seedpay_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	FREE_AND_NULL(bitsd_seedpay_stop, b->seedpay);
}

/* Paid relaying publishes bits.pay.* (a new commitment each epoch):
 * re-sign and republish as for a change of reach. */
static void relaypay_publish(void *ctx, const struct ri_pay *pay)
{
	struct bitsd *b = ctx;

	b->pay = *pay;
	b->reach.pay = &b->pay;
	reach_changed(b);
}

/* Paid relaying (issue [R]) when relay.pay or tunnels.pay.key; after
 * the market, whose chain client it shares. */
static int relaypay_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	struct chain_transport t;
	struct bitsd_relaypay_deps deps = {
		.el = daemon_evloop(d), .wp = daemon_workers(d), .api = b->api,
		.store = b->netdb ? netdb_get_store(bitsd_netdb_get(b->netdb))
				  : NULL,
		.db = b->netdb ? bitsd_netdb_get(b->netdb) : NULL,
		.own = bitsd_tunnels_own(b->tunnels),
		.transit = bitsd_tunnels_transit(b->tunnels),
		.publish = relaypay_publish, .ctx = b,
	};
	int r;

	if (!bitsd_relaypay_wanted(daemon_conf(d)))
		return 0;
	if (bitsd_market_chain(b->market, &t))
		deps.chain = &t;
	r = bitsd_relaypay_start(daemon_conf(d), &deps, &b->relaypay);
	if (r == 0)
		bitsd_tunnels_set_ticket(b->tunnels, bitsd_relaypay_ticket,
					 b->relaypay);
	if (r == 0 && b->netdb)
		netdb_set_data_fn(bitsd_netdb_get(b->netdb),
				  bitsd_relaypay_data, b->relaypay);
	return r;
}

static void relaypay_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	bitsd_tunnels_set_ticket(b->tunnels, NULL, NULL);
	if (b->netdb)
		netdb_set_data_fn(bitsd_netdb_get(b->netdb), NULL, NULL);
	FREE_AND_NULL(bitsd_relaypay_stop, b->relaypay);
	b->reach.pay = NULL;
}

/* The console's own calls (issue [UI]) when the API runs; after the
 * swarm, the proxies and the market, whose parts it shows. */
static int console_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	struct bitsd_console_deps deps = {
		.api = b->api, .swarm = b->swarm,
		.transit = b->tunnels ? bitsd_tunnels_transit(b->tunnels) : NULL,
		.workers = daemon_workers(d),
		.market = bitsd_market_wanted(daemon_conf(d)),
		.market_sub = b->market,
		.netdb = b->netdb ? bitsd_netdb_get(b->netdb) : NULL,
		.proxy = b->proxy,
	};

	if (!b->api)
		return 0;
	return bitsd_console_start(daemon_evloop(d), daemon_conf(d), &deps,
				   &b->console);
}

static void console_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	FREE_AND_NULL(bitsd_console_stop, b->console);
}

/* The local JSON API, when --api-port is set. */
static int api_start_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;
	const struct conf *cfg = daemon_conf(d);
	char *tok;
	int r;

	if (!cfg->api_port)
		return 0;
	if ((r = api_start(daemon_evloop(d), cfg->api_port, &b->api)) != 0)
		return r;
	tok = fsutil_path_join(cfg->datadir, "api.token");
	r = api_load_token(b->api, tok);
	free(tok);
	if (r != 0) {
		FREE_AND_NULL(api_free, b->api);
		return r;
	}
	api_set_assets(b->api, console_assets, console_n_assets);
	b->status = bitsd_status_register(b->api, cfg, b->keys,
					  b->ntcp2 ? bitsd_ntcp2_transport(b->ntcp2)
						   : NULL,
					  b->tunnels ? bitsd_tunnels_transit(b->tunnels)
						     : NULL,
					  bitsd_tunnels_own(b->tunnels));
	return 0;
}

static void api_stop_hook(struct daemon *d, void *ctx)
{
	struct bitsd *b = ctx;

	(void)d;
	FREE_AND_NULL(api_free, b->api);
	FREE_AND_NULL(bitsd_status_free, b->status);
}

int main(int argc, char **argv)
{
	static const struct daemon_subsys subsystems[] = {
		{ "keys", DAEMON_SUBSYS_ON_INIT, keys_start, keys_stop, NULL },
		{ "router.info", DAEMON_SUBSYS_ON_INIT, self_start, self_stop,
		  self_reload },
		{ "ntcp2", 0, ntcp2_start, ntcp2_stop, NULL },
		{ "ssu2", 0, ssu2_start_hook, ssu2_stop_hook, NULL },
		{ "netdb", 0, netdb_start_hook, netdb_stop_hook, NULL },
		{ "tunnels", 0, tunnels_start_hook, tunnels_stop_hook, NULL },
		{ "sam", 0, sam_start_hook, sam_stop_hook, NULL },
		{ "proxy", 0, proxy_start_hook, proxy_stop_hook, NULL },
		{ "swarm", 0, swarm_start_hook, swarm_stop_hook, NULL },
		{ "api", 0, api_start_hook, api_stop_hook, NULL },
		{ "feed", 0, feed_start_hook, feed_stop_hook, NULL },
		{ "market", 0, market_start_hook, market_stop_hook, NULL },
		{ "feed-did", 0, feed_did_start_hook, feed_did_stop_hook,
		  NULL },
		{ "seedpay", 0, seedpay_start_hook, seedpay_stop_hook, NULL },
		{ "relaypay", 0, relaypay_start_hook, relaypay_stop_hook,
		  NULL },
		{ "console", 0, console_start_hook, console_stop_hook, NULL },
		{ "chain-calls", 0, chain_calls_start_hook,
		  chain_calls_stop_hook, NULL },
	};
	struct bitsd b = { 0 };

	return daemon_main(argc, argv, subsystems, ARRAY_LEN(subsystems), &b);
}
