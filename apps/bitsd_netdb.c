/*
 * bitsd's netDb subsystem (apps/bitsd_netdb.h): wiring only.
 */
#include "config.h"
#include "apps/bitsd_netdb.h"
#include "netdb/netdb.h"
#include "netdb/reseed.h"
#include "router/conf.h"
#include "router/daemon.h"
#include "router/evloop.h"
#include "router/garlic_router.h"
#include "router/i2np.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "router/transport.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct bitsd_netdb {
	struct daemon *d;
	const struct router_keys *keys;
	struct transport_mgr *tm;
	struct garlic_router *garlic;
	struct netdb *db;
	struct evloop_timer *resign;
	bool hooked;			/* the transport hooks are ours */
	bitsd_netdb_other_fn other;	/* types the netDb does not handle */
	void *other_ctx;
	bitsd_netdb_peer_fn failed;	/* a connection attempt failed */
	bitsd_netdb_peer_fn up;		/* a session came up */
	void *peer_ctx;
	const struct router_self_reach *rr;	/* run-time reachability */
};

/* ---- transport hooks ---- */

static void hook_recv(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	struct bitsd_netdb *bn = ctx;

	switch (m->type) {
	case I2NP_DATABASE_STORE:
	case I2NP_DATABASE_LOOKUP:
	case I2NP_DATABASE_SEARCH_REPLY:
	case I2NP_DELIVERY_STATUS:
	case I2NP_GARLIC:
		netdb_handle_msg(bn->db, peer, m);
		break;
	default:
		/* Tunnel messages and builds go to the tunnels subsystem. */
		if (!bn->other || !bn->other(bn->other_ctx, peer, m))
			i2np_msg_free(m);
		break;
	}
}

static const struct router_info *hook_lookup(void *ctx, const uint8_t peer[32])
{
	return netdb_get_ri(((struct bitsd_netdb *)ctx)->db, peer);
}

static void hook_store_ri(void *ctx, const uint8_t *ri, size_t len, bool flood)
{
	netdb_transport_ri(((struct bitsd_netdb *)ctx)->db, ri, len, flood);
}

static void hook_peer_up(void *ctx, const uint8_t peer[32], bool inbound)
{
	struct bitsd_netdb *bn = ctx;
	char h[72];

	log_info(LD_NTCP2, "%s session with %s is up",
		 inbound ? "inbound" : "outbound",
		 log_safe_hash(h, sizeof(h), peer));
	if (bn->up)
		bn->up(bn->peer_ctx, peer);
}

static void hook_peer_down(void *ctx, const uint8_t peer[32])
{
	char h[72];

	(void)ctx;
	log_info(LD_NTCP2, "session with %s is down",
		 log_safe_hash(h, sizeof(h), peer));
}

static void hook_peer_failed(void *ctx, const uint8_t peer[32])
{
	struct bitsd_netdb *bn = ctx;

	if (bn->failed)
		bn->failed(bn->peer_ctx, peer);
}

/* After stop: nobody listens. */
static void drop_recv(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	(void)ctx;
	(void)peer;
	i2np_msg_free(m);
}

static const struct router_info *no_lookup(void *ctx, const uint8_t peer[32])
{
	(void)ctx;
	(void)peer;
	return NULL;
}

static int send_hook(void *ctx, const uint8_t peer[32], struct i2np_msg *m,
		     bool via_tunnel)
{
	/* Direct: with tunnels, apps/bitsd_tunnels.c's sender wraps this
	 * one and sends what wants a tunnel through an exploratory one;
	 * here only while it has no outbound tunnel. */
	(void)via_tunnel;
	return transport_send(((struct bitsd_netdb *)ctx)->tm, peer, m);
}

/* ---- our RouterInfo ---- */

static void set_self(struct bitsd_netdb *bn)
{
	struct router_info *ri = NULL;
	const uint8_t *b;
	size_t len;
	int r;

	if ((r = router_self_build_reach(daemon_conf(bn->d), bn->keys, bn->rr,
					 &ri)) != 0) {
		log_err(LD_NETDB, "cannot build our RouterInfo: %s",
			err_str(r));
		return;
	}
	if ((b = router_info_bytes(ri, &len)) != NULL)
		netdb_set_self(bn->db, b, len);
	router_info_free(ri);
}

void bitsd_netdb_set_reach(struct bitsd_netdb *bn,
			   const struct router_self_reach *rr)
{
	if (!bn)
		return;
	bn->rr = rr;
	set_self(bn);		/* netdb_set_self() publishes it now */
}

static void resign_cb(void *arg)
{
	struct bitsd_netdb *bn = arg;

	set_self(bn);
	evloop_timer_arm(bn->resign, BITSD_NETDB_RESIGN_MS);
}

/* ---- start-up: load, reseed if needed, then explore and publish ---- */

static void reseeded(void *ctx, int err, size_t added)
{
	struct bitsd_netdb *bn = ctx;

	if (err)
		log_warn(LD_NETDB, "reseed failed (%s); the netDb holds %zu "
			 "RouterInfos", err_str(err),
			 netdb_store_ri_count(netdb_get_store(bn->db)));
	else
		log_notice(LD_NETDB, "reseeded with %zu RouterInfos", added);
	netdb_start(bn->db);
}

static void loaded(void *ctx)
{
	struct bitsd_netdb *bn = ctx;
	const struct conf *cfg = daemon_conf(bn->d);
	struct netdb_reseed_cfg rc = {
		.su3_file = cfg->reseed_file, .dir = cfg->reseed_dir,
		.url = cfg->reseed_url, .signers = cfg->reseed_signers,
		.cafile = cfg->reseed_cafile,
	};
	struct transport_hooks h = {
		.recv = hook_recv, .lookup = hook_lookup,
		.store_ri = hook_store_ri, .peer_up = hook_peer_up,
		.peer_down = hook_peer_down, .peer_failed = hook_peer_failed,
		.ctx = bn,
	};
	size_t known = netdb_store_ri_count(netdb_get_store(bn->db));
	size_t threshold = cfg->reseed_threshold ? cfg->reseed_threshold :
						   NETDB_RESEED_THRESHOLD;

	/* Take the transport over from the interim table once the netDb
	 * holds what was on disk (its netDb/ files included). */
	transport_mgr_set_hooks(bn->tm, &h);
	bn->hooked = true;
	if (known >= threshold) {
		netdb_start(bn->db);
		return;
	}
	if (netdb_reseed_start(bn->db, &rc, reseeded, bn) != 0) {
		log_notice(LD_NETDB, "the netDb knows %zu routers and no reseed "
			   "source is configured", known);
		netdb_start(bn->db);
	}
}

/* netdb.accomplices: a Sybil's accomplices, a hex router hash a line
 * (attack tests).  Returns how many; *out is the caller's to free. */
static size_t read_accomplices(const char *path, uint8_t (**out)[32])
{
	uint8_t *buf = NULL, (*h)[32] = NULL;
	size_t len = 0, n = 0, got;
	char *p, *line, *save = NULL;

	*out = NULL;
	if (!path || fsutil_read_file(path, 1 << 20, &buf, &len) != 0) {
		log_warn(LD_NETDB, "netdb.hostile 3: no netdb.accomplices "
			 "to read");
		return 0;
	}
	p = xmalloc(len + 1);
	memcpy(p, buf, len);
	p[len] = '\0';
	for (line = strtok_r(p, " \t\r\n,", &save); line;
	     line = strtok_r(NULL, " \t\r\n,", &save)) {
		h = xrealloc(h, (n + 1) * sizeof(*h));
		if (hex_decode(h[n], 32, &got, line, strlen(line)) == 0 &&
		    got == 32)
			n++;
	}
	free(p);
	free(buf);
	log_notice(LD_NETDB, "netdb.hostile 3: a Sybil naming %zu "
		   "accomplices", n);
	*out = h;
	return n;
}

int bitsd_netdb_start(struct daemon *d, const struct router_keys *keys,
		      struct transport_mgr *tm, struct bitsd_netdb **out)
{
	const struct conf *cfg = daemon_conf(d);
	struct bitsd_netdb *bn = xzalloc(sizeof(*bn));
	struct netdb_cfg nc = { .datadir = cfg->datadir, .netid = cfg->netid,
				.floodfill = cfg->floodfill,
				.export_dir = BITSD_NETDB_EXPORT_DIR };
	/* [limits]; 0 lifts them (the netDb reads 0 as its default). */
	nc.lookup_rate_per_min = cfg->lim_netdb_lookups ? cfg->lim_netdb_lookups
							: UINT_MAX / 1000;
	nc.store_rate_per_min = cfg->lim_netdb_stores ? cfg->lim_netdb_stores
						      : UINT_MAX / 1000;
	if (!cfg->lim_netdb_lookups)
		nc.lookup_burst = UINT_MAX / 1000;
	if (!cfg->lim_netdb_stores)
		nc.store_burst = UINT_MAX / 1000;
	nc.max_ri_bytes = cfg->lim_netdb_ri_mib ?
			  (size_t)cfg->lim_netdb_ri_mib << 20 : SIZE_MAX;
	nc.max_ls_bytes = cfg->lim_netdb_ls_mib ?
			  (size_t)cfg->lim_netdb_ls_mib << 20 : SIZE_MAX;
	/* tools/attacknet's hostile floodfills. */
	if (cfg->floodfill && cfg->netdb_hostile >= 1 && cfg->netdb_hostile <= 3)
		nc.hostile = cfg->netdb_hostile == 1 ? NETDB_HOSTILE_DROP :
			     cfg->netdb_hostile == 2 ? NETDB_HOSTILE_JUNK :
			     NETDB_HOSTILE_SYBIL;
	uint8_t (*accomplices)[32] = NULL;
	if (nc.hostile == NETDB_HOSTILE_SYBIL)
		nc.n_accomplices = read_accomplices(cfg->netdb_accomplices,
						    &accomplices);
	nc.accomplices = (const uint8_t (*)[32])accomplices;
	struct keys_and_cert id;

	bn->d = d;
	bn->keys = keys;
	bn->tm = tm;
	router_keys_identity(keys, &id);
	memcpy(nc.self, id.hash, 32);
	bn->garlic = garlic_router_new(router_keys_keystore(keys));
	nc.garlic = bn->garlic;
	bn->db = netdb_new(daemon_evloop(d), daemon_workers(d), &nc);
	free(accomplices);
	netdb_set_sender(bn->db, (struct netdb_sender){ send_hook, bn });
	set_self(bn);
	bn->resign = evloop_timer_new(daemon_evloop(d), resign_cb, bn);
	evloop_timer_arm(bn->resign, BITSD_NETDB_RESIGN_MS);
	if (cfg->floodfill)
		log_notice(LD_NETDB, "acting as a floodfill");
	netdb_on_loaded(bn->db, loaded, bn);
	*out = bn;
	return 0;
}

void bitsd_netdb_stop(struct bitsd_netdb *bn)
{
	struct transport_hooks h = { .recv = drop_recv, .lookup = no_lookup };

	if (!bn)
		return;
	if (bn->hooked)
		transport_mgr_set_hooks(bn->tm, &h);
	evloop_timer_free(bn->resign);
	netdb_free(bn->db);
	garlic_router_free(bn->garlic);
	free(bn);
}

struct netdb *bitsd_netdb_get(struct bitsd_netdb *bn)
{
	return bn->db;
}

void bitsd_netdb_set_other(struct bitsd_netdb *bn, bitsd_netdb_other_fn fn,
			   void *ctx)
{
	bn->other = fn;
	bn->other_ctx = ctx;
}

void bitsd_netdb_set_peer_hooks(struct bitsd_netdb *bn,
				bitsd_netdb_peer_fn failed,
				bitsd_netdb_peer_fn up, void *ctx)
{
	bn->failed = failed;
	bn->up = up;
	bn->peer_ctx = ctx;
}
