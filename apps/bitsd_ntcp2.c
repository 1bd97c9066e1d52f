/*
 * bitsd's network subsystem (apps/bitsd_ntcp2.h): creates the transport
 * manager, the NTCP2 transport and the interim RouterInfo table, and
 * installs the hooks between them (STYLE.md §1: main() installs hooks;
 * the modules do not know each other).
 */
#include "config.h"
#include "apps/bitsd_ntcp2.h"
#include "router/conf.h"
#include "router/daemon.h"
#include "router/evloop.h"
#include "crypto/base/fsutil.h"
#include "router/ntcp2.h"
#include "router/ri_table.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "router/transport.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/keystore.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The configuration's defaults are the transport's own. */
_Static_assert(CONF_DEFAULT_LIM_PENDING_HS == NTCP2_DEFAULT_MAX_PENDING &&
	       CONF_DEFAULT_LIM_PENDING_HS_IP ==
	       NTCP2_DEFAULT_MAX_PENDING_PER_IP &&
	       CONF_DEFAULT_NTCP2_HS_TIMEOUT_S * 1000 ==
	       NTCP2_DEFAULT_HANDSHAKE_TIMEOUT_MS &&
	       CONF_DEFAULT_NTCP2_IDLE_S * 1000 ==
	       NTCP2_DEFAULT_IDLE_TIMEOUT_MS, "NTCP2 defaults differ");

struct bitsd_ntcp2 {
	struct daemon *d;
	const struct router_keys *keys;
	struct router_info *ri;		/* ours, signed */
	uint8_t hash[32];
	struct ri_table *rt;
	struct transport_mgr *tm;
	struct ntcp2 *n;
	struct evloop_timer *announce, *resign;
	const struct router_self_reach *rr;	/* run-time reachability */
};

/* ---- hooks ---- */

static void hook_recv(void *ctx, const uint8_t peer[32], struct i2np_msg *m)
{
	struct bitsd_ntcp2 *bn = ctx;

	ri_table_handle(bn->rt, peer, m);
}

static const struct router_info *hook_lookup(void *ctx, const uint8_t peer[32])
{
	return ri_table_get(((struct bitsd_ntcp2 *)ctx)->rt, peer);
}

static void hook_store_ri(void *ctx, const uint8_t *ri, size_t len, bool flood)
{
	struct bitsd_ntcp2 *bn = ctx;
	int r = ri_table_add(bn->rt, ri, len);

	(void)flood;	/* interim table: the netDb, once loaded, floods */
	if (r != 0 && r != ERR_EXISTS)
		log_debug(LD_NETDB, "RouterInfo from a transport not kept: %s",
			  err_str(r));
}

static void hook_peer_up(void *ctx, const uint8_t peer[32], bool inbound)
{
	char h[72];

	(void)ctx;
	log_info(LD_NTCP2, "%s session with %s is up",
		 inbound ? "inbound" : "outbound",
		 log_safe_hash(h, sizeof(h), peer));
}

static void hook_peer_down(void *ctx, const uint8_t peer[32])
{
	char h[72];

	(void)ctx;
	log_info(LD_NTCP2, "session with %s is down",
		 log_safe_hash(h, sizeof(h), peer));
}

static int send_via_transport(void *ctx, const uint8_t peer[32],
			      struct i2np_msg *m)
{
	return transport_send(((struct bitsd_ntcp2 *)ctx)->tm, peer, m);
}

/* ---- our RouterInfo ---- */

static int sign_self(struct bitsd_ntcp2 *bn)
{
	struct router_info *ri = NULL;
	const uint8_t *b;
	size_t len;
	int r;

	if ((r = router_self_build_reach(daemon_conf(bn->d), bn->keys, bn->rr,
					 &ri)) != 0) {
		log_err(LD_NTCP2, "cannot build our RouterInfo: %s", err_str(r));
		return r;
	}
	b = router_info_bytes(ri, &len);
	if ((r = ntcp2_set_router_info(bn->n, b, len)) != 0) {
		log_err(LD_NTCP2, "our RouterInfo is too big: %s", err_str(r));
		router_info_free(ri);
		return r;
	}
	ri_table_set_self(bn->rt, b, len);
	router_info_free(bn->ri);
	bn->ri = ri;
	return 0;
}

void bitsd_ntcp2_set_reach(struct bitsd_ntcp2 *bn,
			   const struct router_self_reach *rr)
{
	if (!bn)
		return;
	bn->rr = rr;
	(void)sign_self(bn);
}

static void resign_cb(void *arg)
{
	struct bitsd_ntcp2 *bn = arg;

	(void)sign_self(bn);
	evloop_timer_arm(bn->resign, BITSD_NTCP2_RESIGN_MS);
}

static void announce_cb(void *arg)
{
	struct bitsd_ntcp2 *bn = arg;
	size_t n = ri_table_announce(bn->rt, BITSD_NTCP2_ANNOUNCE_MAX);

	log_info(LD_NETDB, "sent our RouterInfo to %zu of %zu known routers", n,
		 ri_table_count(bn->rt));
}

/* ---- start / stop ---- */

int bitsd_ntcp2_start(struct daemon *d, const struct router_keys *keys,
		      struct bitsd_ntcp2 **out)
{
	const struct conf *cfg = daemon_conf(d);
	struct evloop *el = daemon_evloop(d);
	struct bitsd_ntcp2 *bn = xzalloc(sizeof(*bn));
	struct transport_hooks h = {
		.recv = hook_recv, .lookup = hook_lookup,
		.store_ri = hook_store_ri, .peer_up = hook_peer_up,
		.peer_down = hook_peer_down, .ctx = bn,
	};
	struct ntcp2_config nc;
	struct transport_limits tl;
	struct keys_and_cert id;
	char *dir;
	uint16_t port;
	int r;

	bn->d = d;
	bn->keys = keys;
	router_keys_identity(keys, &id);
	memcpy(bn->hash, id.hash, 32);
	dir = fsutil_path_join(cfg->datadir, BITSD_NTCP2_NETDB_DIR);
	bn->rt = ri_table_new(bn->hash, cfg->netid, dir, daemon_workers(d));
	free(dir);
	log_info(LD_NETDB, "loaded %zu RouterInfos", ri_table_load(bn->rt));
	ri_table_set_sender(bn->rt, (struct ri_table_sender){
		send_via_transport, bn });
	transport_limits_default(&tl);
	tl.max_sessions = cfg->lim_sessions ? cfg->lim_sessions : SIZE_MAX;
	tl.handshakes_per_min = cfg->lim_handshakes;
	tl.handshakes_per_ip_min = cfg->lim_handshakes_ip;
	bn->tm = transport_mgr_new(el, bn->hash, &tl);
	transport_mgr_set_hooks(bn->tm, &h);

	ntcp2_config_default(&nc);
	nc.netid = cfg->netid;
	/* Dial only the families we have an address in. */
	nc.ipv4 = strchr(cfg->host, ':') == NULL;
	nc.ipv6 = !nc.ipv4 || cfg->host6 != NULL;
	noise_static_from_keystore(&nc.st, router_keys_keystore(keys),
				   KEYSTORE_X_NTCP2);
	memcpy(nc.rh, bn->hash, 32);
	memcpy(nc.iv, router_keys_ntcp2_iv(keys), NTCP2_IV_BYTES);
	nc.max_pending = cfg->lim_pending_hs ? cfg->lim_pending_hs : SIZE_MAX;
	nc.max_pending_per_ip = cfg->lim_pending_hs_ip ?
				cfg->lim_pending_hs_ip : SIZE_MAX;
	nc.handshake_timeout_ms = (uint64_t)cfg->ntcp2_hs_timeout_s * 1000;
	nc.idle_timeout_ms = (uint64_t)cfg->ntcp2_idle_s * 1000;
	nc.write_stall_ms = (uint64_t)cfg->ntcp2_write_stall_s * 1000;
	bn->n = ntcp2_new(el, bn->tm, &nc);
	port = router_self_port(cfg, bn->hash);
	if ((r = ntcp2_listen(bn->n, cfg->host, port)) != 0) {
		log_err(LD_NTCP2, "cannot listen on %s port %u: %s", cfg->host,
			(unsigned)port, r == ERR_IO ? strerror(errno) : err_str(r));
		goto fail;
	}
	if (cfg->host6 && (r = ntcp2_listen(bn->n, cfg->host6, port)) != 0) {
		log_err(LD_NTCP2, "cannot listen on %s port %u: %s", cfg->host6,
			(unsigned)port, r == ERR_IO ? strerror(errno) : err_str(r));
		goto fail;
	}
	/* Dial from the addresses we publish, so peers see the same ones. */
	if (strcmp(cfg->host, "0.0.0.0") != 0 && strcmp(cfg->host, "::") != 0)
		(void)ntcp2_set_source(bn->n, cfg->host);
	if (cfg->host6 && strcmp(cfg->host6, "::") != 0)
		(void)ntcp2_set_source(bn->n, cfg->host6);
	if ((r = sign_self(bn)) != 0)
		goto fail;
	log_notice(LD_NTCP2, "NTCP2 listening on port %u", (unsigned)port);
	log_info(LD_NTCP2, "NTCP2: handshake timeout %llu s, idle timeout "
		 "%llu s, %zu handshakes under way at most (%zu from one "
		 "address)", (unsigned long long)nc.handshake_timeout_ms / 1000,
		 (unsigned long long)nc.idle_timeout_ms / 1000, nc.max_pending,
		 nc.max_pending_per_ip);
	bn->announce = evloop_timer_new(el, announce_cb, bn);
	evloop_timer_arm(bn->announce, BITSD_NTCP2_ANNOUNCE_DELAY_MS);
	bn->resign = evloop_timer_new(el, resign_cb, bn);
	evloop_timer_arm(bn->resign, BITSD_NTCP2_RESIGN_MS);
	*out = bn;
	return 0;
fail:
	bitsd_ntcp2_stop(bn);
	return r;
}

void bitsd_ntcp2_stop(struct bitsd_ntcp2 *bn)
{
	if (!bn)
		return;
	evloop_timer_free(bn->announce);
	evloop_timer_free(bn->resign);
	ntcp2_free(bn->n);
	transport_mgr_free(bn->tm);
	ri_table_free(bn->rt);
	router_info_free(bn->ri);
	free(bn);
}

struct transport_mgr *bitsd_ntcp2_transport(struct bitsd_ntcp2 *bn)
{
	return bn->tm;
}
