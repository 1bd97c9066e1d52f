/*
 * bitsd's status sections for the local JSON API.  Peer hashes appear in
 * full: the API answers only on loopback, to the router's own operator.
 */
#include "config.h"
#include "apps/bitsd_status.h"
#include "apps/api/api.h"
#include "router/conf.h"
#include "router/crashlog.h"
#include "router/keys_and_cert.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/transport.h"
#include "tunnels/profile.h"
#include "tunnels/transit.h"
#include "router/membudget.h"
#include "tunnels/tunnel_pool.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/time.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>

/* Peer profiles listed in tunnels.own.profiles.peers at most. */
#define STATUS_MAX_PROFILES 256

struct bitsd_status {
	const struct conf *cfg;
	const struct router_keys *keys;
	struct transport_mgr *tm;
	const struct transit_table *transit;
	const struct tunnel_mgr *own;
	uint64_t started_ms;
};

static json_t *hash_json(const uint8_t h[32])
{
	char b64[B64_ENC_LEN(32)];

	if (b64_encode(b64, sizeof(b64), h, 32) != 0)
		return json_null();
	return json_string(b64);
}

static void router_section(void *ctx, json_t *o)
{
	struct bitsd_status *st = ctx;
	struct keys_and_cert id;

	router_keys_identity(st->keys, &id);
	json_object_set_new(o, "hash", hash_json(id.hash));
	json_object_set_new(o, "version", json_string(PACKAGE_VERSION));
	json_object_set_new(o, "router_version", json_string(ROUTER_INFO_VERSION));
	json_object_set_new(o, "netid", json_integer(st->cfg->netid));
	json_object_set_new(o, "host", json_string(st->cfg->host));
	if (crashlog_last()[0])
		json_object_set_new(o, "last_crash",
				    json_string(crashlog_last()));
	json_object_set_new(o, "uptime_s",
			    json_integer((json_int_t)((time_mono_ms() -
						       st->started_ms) / 1000)));
}

static void add_peer(void *arg, const uint8_t peer[32], bool inbound)
{
	json_t *p = json_object();

	json_object_set_new(p, "hash", hash_json(peer));
	json_object_set_new(p, "inbound", json_boolean(inbound));
	json_array_append_new(arg, p);
}

static void transports_section(void *ctx, json_t *o)
{
	struct bitsd_status *st = ctx;
	struct transport_stats s;
	json_t *peers = json_array();

	transport_mgr_stats(st->tm, &s);
	json_object_set_new(o, "sessions", json_integer((json_int_t)s.sessions));
	json_object_set_new(o, "connecting", json_integer((json_int_t)s.connecting));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)s.bytes_in));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)s.bytes_out));
	json_object_set_new(o, "msgs_in", json_integer((json_int_t)s.msgs_in));
	json_object_set_new(o, "msgs_out", json_integer((json_int_t)s.msgs_out));
	json_object_set_new(o, "msgs_dropped", json_integer((json_int_t)s.msgs_dropped));
	json_object_set_new(o, "connect_failures",
			    json_integer((json_int_t)s.connect_failures));
	json_object_set_new(o, "rate_in_Bps", json_real(s.rate_in_bps));
	json_object_set_new(o, "rate_out_Bps", json_real(s.rate_out_bps));
	transport_mgr_foreach_peer(st->tm, add_peer, peers);
	json_object_set_new(o, "peers", peers);
}

static void set_count(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

/* The peer profiles: how many, how many failing, and each one (up to
 * STATUS_MAX_PROFILES) with its counters and average build reply time. */
static void profiles_json(const struct peer_profiles *pp, json_t *o)
{
	struct peer_profile *rows = NULL;
	json_t *j = json_object(), *peers = json_array();
	uint64_t now = time_now_ms();
	size_t n = 0, failing = 0;

	peer_profiles_snapshot(pp, &rows, &n);
	for (size_t i = 0; i < n; i++) {
		const struct peer_profile *r = &rows[i];
		bool f = peer_profile_is_failing(r, now);
		json_t *p;

		failing += f;
		if (i >= STATUS_MAX_PROFILES)
			continue;
		p = json_object();
		json_object_set_new(p, "hash", hash_json(r->hash));
		set_count(p, "build_ok", r->build_ok);
		set_count(p, "build_reject", r->build_reject);
		set_count(p, "build_timeout", r->build_timeout);
		set_count(p, "test_ok", r->test_ok);
		set_count(p, "test_fail", r->test_fail);
		set_count(p, "build_ms", r->build_ms);
		json_object_set_new(p, "capacity", json_integer(
			(json_int_t)peer_profile_capacity(r)));
		json_object_set_new(p, "failing", json_boolean(f));
		json_array_append_new(peers, p);
	}
	free(rows);
	set_count(j, "count", n);
	set_count(j, "failing", failing);
	json_object_set_new(j, "peers", peers);
	json_object_set_new(o, "profiles", j);
}

/* Our own tunnels, all pools summed. */
static void own_tunnels(const struct tunnel_mgr *m, json_t *o)
{
	struct tunnel_pool_stats s;
	json_t *j = json_object();

	tunnel_mgr_stats(m, &s);
	set_count(j, "inbound", s.in_ready);
	set_count(j, "outbound", s.out_ready);
	set_count(j, "building", s.in_building + s.out_building);
	set_count(j, "standby", s.in_standby + s.out_standby);
	set_count(j, "builds_short", s.builds_short);
	/* a pool builds shorter tunnels than asked: too few routers */
	json_object_set_new(j, "shortened", json_boolean(s.in_shortened ||
							 s.out_shortened));
	set_count(j, "builds_ok", s.builds_ok);
	set_count(j, "builds_rejected", s.builds_rejected);
	set_count(j, "builds_timeout", s.builds_timeout);
	set_count(j, "builds_bad", s.builds_bad);
	set_count(j, "builds_late", s.builds_late);
	set_count(j, "tickets_sent", s.tickets_sent);
	set_count(j, "tests_ok", s.tests_ok);
	set_count(j, "tests_failed", s.tests_failed);
	set_count(j, "expired", s.expired);
	set_count(j, "failed", s.failed);
	profiles_json(tunnel_mgr_profiles(m), j);
	json_object_set_new(o, "own", j);
}

/* The transit limits in force: tunnels, and the share of the bandwidth
 * relaying may use (bytes/s; 0: no bandwidth limit). */
static void transit_limits_section(const struct transit_table *t, json_t *o)
{
	struct transit_limits lim;
	json_t *j = json_object();

	transit_table_limits(t, &lim);
	set_count(j, "max_tunnels", lim.max_tunnels);
	set_count(j, "share_pct", lim.share_pct);
	set_count(j, "bandwidth_Bps", lim.bandwidth_Bps);
	set_count(j, "share_Bps", lim.bandwidth_Bps * lim.share_pct / 100);
	json_object_set_new(o, "transit_limits", j);
}

static void tunnels_section(void *ctx, json_t *o)
{
	struct bitsd_status *st = ctx;
	const struct transit_stats *s = transit_table_stats(st->transit);

	json_object_set_new(o, "transit", json_integer((json_int_t)
				transit_table_count(st->transit)));
	json_object_set_new(o, "builds_accepted",
			    json_integer((json_int_t)s->builds_accepted));
	json_object_set_new(o, "tickets_received",
			    json_integer((json_int_t)s->tickets));
	json_object_set_new(o, "data_relayed",
			    json_integer((json_int_t)s->data_relayed));
	json_object_set_new(o, "bytes_relayed_in",
			    json_integer((json_int_t)s->bytes_in));
	json_object_set_new(o, "bytes_relayed_out",
			    json_integer((json_int_t)s->bytes_out));
	transit_limits_section(st->transit, o);
	if (st->own)
		own_tunnels(st->own, o);
}

/* The [limits] in force, what they refused, and the memory budget. */
static void limits_section(void *ctx, json_t *o)
{
	struct bitsd_status *st = ctx;
	const struct conf *c = st->cfg;
	struct transport_stats ts;
	json_t *cf = json_object(), *mem = json_object();

	set_count(cf, "sessions", c->lim_sessions);
	set_count(cf, "handshakes", c->lim_handshakes);
	set_count(cf, "handshakes_per_ip", c->lim_handshakes_ip);
	set_count(cf, "pending_handshakes", c->lim_pending_hs);
	set_count(cf, "pending_handshakes_per_ip", c->lim_pending_hs_ip);
	set_count(cf, "builds", c->lim_builds);
	set_count(cf, "builds_per_peer", c->lim_builds_peer);
	set_count(cf, "transit_per_peer", c->lim_transit_peer);
	set_count(cf, "tunnel_msgs", c->lim_tunnel_msgs);
	set_count(cf, "tunnel_msgs_per_peer", c->lim_tunnel_msgs_peer);
	set_count(cf, "netdb_lookups", c->lim_netdb_lookups);
	set_count(cf, "netdb_stores", c->lim_netdb_stores);
	set_count(cf, "streams", c->lim_streams);
	set_count(cf, "sam_sessions", c->lim_sam_sessions);
	set_count(cf, "memory_mib", c->lim_memory_mib);
	set_count(cf, "reassembly_mib", c->lim_reasm_mib);
	set_count(cf, "obep_reassembly_mib", c->lim_obep_mib);
	set_count(cf, "garlic_sessions", c->lim_garlic_sessions);
	set_count(cf, "netdb_routers_mib", c->lim_netdb_ri_mib);
	set_count(cf, "netdb_leasesets_mib", c->lim_netdb_ls_mib);
	json_object_set_new(o, "config", cf);
	transport_mgr_stats(st->tm, &ts);
	set_count(o, "handshakes_refused", ts.handshakes_refused);
	set_count(mem, "budget_bytes", (uint64_t)c->lim_memory_mib << 20);
	set_count(mem, "heap_bytes", mem_heap_in_use());
	if (st->transit) {
		const struct transit_stats *s = transit_table_stats(st->transit);
		bool refusing, shedding;

		set_count(o, "builds_throttled", s->builds_throttled);
		set_count(o, "builds_refused_peer_limit",
			  s->builds_rejected[TRANSIT_REJECT_PEER_LIMIT]);
		set_count(o, "builds_refused_memory",
			  s->builds_rejected[TRANSIT_REJECT_MEMORY]);
		set_count(o, "transit_dropped_memory", s->dropped_shed);
		set_count(o, "transit_dropped_flood", s->dropped_flood);
		set_count(o, "transit_dropped_wrong_hop", s->dropped_wrong_hop);
		transit_table_shedding(st->transit, &refusing, &shedding);
		json_object_set_new(mem, "refusing_transit",
				    json_boolean(refusing));
		json_object_set_new(mem, "shedding_transit",
				    json_boolean(shedding));
	}
	json_object_set_new(o, "memory", mem);
}

void bitsd_status_free(struct bitsd_status *st)
{
	free(st);
}

struct bitsd_status *bitsd_status_register(struct api *a,
					   const struct conf *cfg,
					   const struct router_keys *keys,
					   struct transport_mgr *tm,
					   const struct transit_table *transit,
					   const struct tunnel_mgr *own)
{
	struct bitsd_status *st = xzalloc(sizeof(*st));

	st->cfg = cfg;
	st->keys = keys;
	st->tm = tm;
	st->transit = transit;
	st->own = own;
	st->started_ms = time_mono_ms();
	api_add_section(a, "router", router_section, st);
	if (tm) {
		api_add_section(a, "transports", transports_section, st);
		api_add_section(a, "limits", limits_section, st);
	}
	if (transit)
		api_add_section(a, "tunnels", tunnels_section, st);
	return st;
}
