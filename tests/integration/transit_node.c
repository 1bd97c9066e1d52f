/*
 * transit_node: a test router that is bitsd's NTCP2 and tunnels
 * subsystems plus a receive hook that routes the tunnel messages (18, 19,
 * 23, 25) to the transit table and everything else to the interim
 * RouterInfo table.  It lets i2pd build tunnels through our participant
 * code (tests/integration/test_tunnels_i2pd.sh) while bitsd's own
 * dispatch of those types is not wired yet.
 *
 *   transit_node [bitsd options]      (the same command line as bitsd)
 *
 * Logs "transit: N tunnels, A accepted, R rejected, D dropped, T relayed"
 * at notice whenever a count changes.
 */
#include "config.h"
#include "apps/bitsd_ntcp2.h"
#include "apps/bitsd_tunnels.h"
#include "router/conf.h"
#include "router/daemon.h"
#include "router/evloop.h"
#include "router/i2np.h"
#include "router/ri_table.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "router/transport.h"
#include "tunnels/transit.h"
#include "crypto/base/alloc.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"

#include <stdlib.h>
#include <string.h>

#define REPORT_MS 1000

struct node {
	struct router_keys *keys;
	struct bitsd_ntcp2 *ntcp2;
	struct bitsd_tunnels *tunnels;
	struct ri_table *rt;
	struct evloop_timer *report;
	uint64_t last[5];
};

static void hook_recv(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	struct node *n = ctx;

	if (!bitsd_tunnels_recv(n->tunnels, peer, m))
		ri_table_handle(n->rt, peer, m);
}

static const struct router_info *hook_lookup(void *ctx, const uint8_t peer[32])
{
	return ri_table_get(((struct node *)ctx)->rt, peer);
}

static void hook_store_ri(void *ctx, const uint8_t *ri, size_t len, bool flood)
{
	(void)flood;
	(void)ri_table_add(((struct node *)ctx)->rt, ri, len);
}

static void hook_peer_up(void *ctx, const uint8_t peer[32], bool inbound)
{
	char h[72];

	(void)ctx;
	log_info(LD_NTCP2, "%s session with %s is up",
		 inbound ? "inbound" : "outbound",
		 log_safe_hash(h, sizeof(h), peer));
}

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

static int send_hook(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	return transport_send(bitsd_ntcp2_transport(((struct node *)ctx)->ntcp2),
			      peer, m);
}

static void report_cb(void *arg)
{
	struct node *n = arg;
	struct transit_table *t = bitsd_tunnels_transit(n->tunnels);
	const struct transit_stats *st = transit_table_stats(t);
	uint64_t rej = 0, now[5];

	for (unsigned i = 0; i < TRANSIT_VERDICT_COUNT_; i++)
		rej += st->builds_rejected[i];
	now[0] = transit_table_count(t);
	now[1] = st->builds_accepted;
	now[2] = rej;
	now[3] = st->builds_dropped;
	now[4] = st->data_relayed + st->obep_delivered;
	if (memcmp(now, n->last, sizeof(now)) != 0) {
		log_notice(LD_TUNNEL, "transit: %llu tunnels, %llu accepted, "
			   "%llu rejected, %llu dropped, %llu relayed, %llu "
			   "gateway, %llu delivered",
			   (unsigned long long)now[0], (unsigned long long)now[1],
			   (unsigned long long)now[2], (unsigned long long)now[3],
			   (unsigned long long)st->data_relayed,
			   (unsigned long long)st->gateway_msgs,
			   (unsigned long long)st->obep_delivered);
		memcpy(n->last, now, sizeof(now));
	}
	evloop_timer_arm(n->report, REPORT_MS);
}

static int keys_start(struct daemon *d, void *ctx)
{
	return router_keys_load_or_create(daemon_conf(d)->datadir,
					  &((struct node *)ctx)->keys, NULL);
}

static void keys_stop(struct daemon *d, void *ctx)
{
	(void)d;
	FREE_AND_NULL(router_keys_free, ((struct node *)ctx)->keys);
}

static int self_start(struct daemon *d, void *ctx)
{
	return router_self_publish(daemon_conf(d), ((struct node *)ctx)->keys);
}

static int net_start(struct daemon *d, void *ctx)
{
	struct node *n = ctx;
	int r;

	if ((r = bitsd_ntcp2_start(d, n->keys, &n->ntcp2)) != 0)
		return r;
	return bitsd_tunnels_start(d, n->keys, bitsd_ntcp2_transport(n->ntcp2),
				   NULL, &n->tunnels);
}

static void net_stop(struct daemon *d, void *ctx)
{
	struct node *n = ctx;

	(void)d;
	FREE_AND_NULL(bitsd_tunnels_stop, n->tunnels);
	FREE_AND_NULL(bitsd_ntcp2_stop, n->ntcp2);
}

/* Our own hooks over the transport manager, and our own RouterInfo table
 * loaded from the same netDb/ directory. */
static int dispatch_start(struct daemon *d, void *ctx)
{
	struct node *n = ctx;
	const struct conf *cfg = daemon_conf(d);
	struct transport_hooks h = {
		.recv = hook_recv, .lookup = hook_lookup,
		.store_ri = hook_store_ri, .peer_up = hook_peer_up, .ctx = n,
	};
	struct router_info *ri = NULL;
	struct keys_and_cert id;
	const uint8_t *b;
	size_t len;
	char *dir;
	int r;

	router_keys_identity(n->keys, &id);
	dir = fsutil_path_join(cfg->datadir, BITSD_NTCP2_NETDB_DIR);
	n->rt = ri_table_new(id.hash, cfg->netid, dir, daemon_workers(d));
	free(dir);
	(void)ri_table_load(n->rt);
	ri_table_set_sender(n->rt, (struct ri_table_sender){ send_hook, n });
	if ((r = router_self_build(cfg, n->keys, &ri)) != 0)
		return r;
	b = router_info_bytes(ri, &len);
	ri_table_set_self(n->rt, b, len);
	router_info_free(ri);
	transport_mgr_set_hooks(bitsd_ntcp2_transport(n->ntcp2), &h);
	n->report = evloop_timer_new(daemon_evloop(d), report_cb, n);
	evloop_timer_arm(n->report, REPORT_MS);
	return 0;
}

static void dispatch_stop(struct daemon *d, void *ctx)
{
	struct node *n = ctx;
	struct transport_hooks h = { .recv = drop_recv, .lookup = no_lookup };

	(void)d;
	/* what arrives while the sessions close goes nowhere */
	transport_mgr_set_hooks(bitsd_ntcp2_transport(n->ntcp2), &h);
	FREE_AND_NULL(evloop_timer_free, n->report);
	FREE_AND_NULL(ri_table_free, n->rt);
}

int main(int argc, char **argv)
{
	static const struct daemon_subsys subsystems[] = {
		{ "keys", DAEMON_SUBSYS_ON_INIT, keys_start, keys_stop, NULL },
		{ "router.info", DAEMON_SUBSYS_ON_INIT, self_start, NULL, NULL },
		{ "net", 0, net_start, net_stop, NULL },
		{ "dispatch", 0, dispatch_start, dispatch_stop, NULL },
	};
	struct node n = { 0 };

	return daemon_main(argc, argv, subsystems, ARRAY_LEN(subsystems), &n);
}
