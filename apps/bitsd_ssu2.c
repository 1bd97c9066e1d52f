/*
 * bitsd's SSU2 subsystem (apps/bitsd_ssu2.h): creates the SSU2 transport
 * with our keys and intro key, binds it, keeps its copy of our signed
 * RouterInfo fresh, and logs a session summary when it stops.
 */
#include "config.h"
#include "apps/bitsd_ssu2.h"
#include "router/conf.h"
#include "router/daemon.h"
#include "router/evloop.h"
#include "router/nat.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "router/i2np.h"
#include "router/ssu2.h"
#include "router/transport.h"
#include "netdb/netdb.h"
#include "netdb/store.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The configuration's defaults are the transport's own. */
_Static_assert(CONF_DEFAULT_LIM_PENDING_HS == SSU2_DEFAULT_MAX_PENDING &&
	       CONF_DEFAULT_LIM_PENDING_HS_IP ==
	       SSU2_DEFAULT_MAX_PENDING_PER_IP &&
	       CONF_DEFAULT_SSU2_HS_TIMEOUT_S * 1000 ==
	       SSU2_DEFAULT_HANDSHAKE_TIMEOUT_MS &&
	       CONF_DEFAULT_SSU2_IDLE_S * 1000 ==
	       SSU2_DEFAULT_IDLE_TIMEOUT_MS, "SSU2 defaults differ");

struct bitsd_ssu2 {
	struct daemon *d;
	const struct router_keys *keys;
	struct ssu2 *s;
	struct transport_mgr *tm;
	struct netdb *db;		/* introducer candidates; NULL: none */
	struct evloop_timer *resign, *ptest;
	bool has4, has6;		/* the families we have addresses in */
	uint64_t pt_due[2];		/* IPv4, IPv6: next test once decided */
	struct nat *nat;		/* with cfg->nat */
	struct router_self_reach *rr;	/* NULL until set */
	void (*changed)(void *ctx);
	void *changed_ctx;
};

static int sign_self(struct bitsd_ssu2 *bs)
{
	struct router_info *ri = NULL;
	const uint8_t *b;
	size_t len;
	int r;

	if ((r = router_self_build_reach(daemon_conf(bs->d), bs->keys, bs->rr,
					 &ri)) != 0) {
		log_err(LD_SSU2, "cannot build our RouterInfo: %s", err_str(r));
		return r;
	}
	b = router_info_bytes(ri, &len);
	if ((r = ssu2_set_router_info(bs->s, b, len)) != 0)
		log_err(LD_SSU2, "our RouterInfo is too big: %s", err_str(r));
	router_info_free(ri);
	return r;
}

static void resign_cb(void *arg)
{
	struct bitsd_ssu2 *bs = arg;

	(void)sign_self(bs);
	evloop_timer_arm(bs->resign, BITSD_SSU2_RESIGN_MS);
}

/* A peer test of family (the result is logged by router/ssu2.c as
 * "peer test: ..." or "peer test (IPv6): ...") when it is undecided, or
 * decided and BITSD_SSU2_PT_MS has passed since its last; true while it
 * is undecided (look again soon: Bob may have had no Charlie yet, or we
 * no Bob).  Each family keeps its own time, so an IPv4 test that cannot
 * start does not repeat a decided IPv6 one every few seconds. */
static bool ptest_family(struct bitsd_ssu2 *bs, int family, uint64_t now)
{
	enum ssu2_reach st = ssu2_reachability_family(bs->s, family);
	uint64_t *due = &bs->pt_due[family == AF_INET6];
	int r;

	if (st == SSU2_REACH_TESTING)
		return true;
	if (st != SSU2_REACH_UNKNOWN && now < *due)
		return false;
	if ((r = ssu2_peer_test_family(bs->s, family, NULL)) != 0)
		log_debug(LD_SSU2, "no peer test%s yet: %s",
			  family == AF_INET6 ? " (IPv6)" : "", err_str(r));
	*due = now + BITSD_SSU2_PT_MS;
	return st == SSU2_REACH_UNKNOWN;
}

static void ptest_cb(void *arg)
{
	struct bitsd_ssu2 *bs = arg;
	uint64_t now = time_mono_ms();
	bool soon = bs->has4 && ptest_family(bs, AF_INET, now);

	/* IPv6 (once a peer told us our IPv6 address) */
	if (bs->has6)
		soon = ptest_family(bs, AF_INET6, now) || soon;
	evloop_timer_arm(bs->ptest, soon ? BITSD_SSU2_PT_RETRY_MS :
			 BITSD_SSU2_PT_MS);
}

/* The mapping changed: a new mapping makes a new reachability test
 * worth it soon. */
static void nat_cb(void *arg, const struct nat_status *st)
{
	struct bitsd_ssu2 *bs = arg;

	if (st->mapped) {
		bs->pt_due[0] = bs->pt_due[1] = 0;
		evloop_timer_arm(bs->ptest, BITSD_SSU2_PT_FIRST_MS);
	}
}

/* SSU2 says what we publish changed: take it into rr and re-sign. */
static void intro_cb(void *arg)
{
	struct bitsd_ssu2 *bs = arg;
	struct router_self_reach *rr = bs->rr;

	if (!rr)
		return;
	rr->firewalled = ssu2_is_firewalled(bs->s);
	rr->introducer = !rr->firewalled &&
			 ssu2_reachability(bs->s) == SSU2_REACH_OK;
	rr->firewalled6 = ssu2_is_firewalled_family(bs->s, AF_INET6);
	rr->reachable6 = !rr->firewalled6 &&
			 ssu2_reachability_family(bs->s, AF_INET6) ==
			 SSU2_REACH_OK;
	rr->nintro = rr->firewalled ?
		     ssu2_introducers_family(bs->s, AF_INET, rr->intro,
					     ROUTER_SELF_MAX_INTRO) : 0;
	rr->nintro6 = rr->firewalled6 ?
		      ssu2_introducers_family(bs->s, AF_INET6, rr->intro6,
					      ROUTER_SELF_MAX_INTRO) : 0;
	if (rr->firewalled6)
		log_notice(LD_SSU2, "publishing: %s, %zu introducer(s); "
			   "IPv6 firewalled, %zu IPv6 introducer(s)",
			   rr->firewalled ? "firewalled" : rr->introducer ?
			   "reachable, introducer (C)" : "reachable",
			   rr->nintro, rr->nintro6);
	else
		log_notice(LD_SSU2, "publishing: %s, %zu introducer(s)%s",
			   rr->firewalled ? "firewalled" : rr->introducer ?
			   "reachable, introducer (C)" : "reachable",
			   rr->nintro,
			   rr->reachable6 ? "; IPv6 reachable" : "");
	(void)sign_self(bs);
	if (bs->changed)
		bs->changed(bs->changed_ctx);
}

/* Firewalled on family with too few introducers: dial up to want
 * routers from the netDb that can introduce us on that family (SSU2 "C"
 * on their address of that family), not yet connected nor being dialled,
 * from a random place in the store, on that family. */
static void want_intro_cb(void *arg, int family, size_t want)
{
	struct bitsd_ssu2 *bs = arg;
	struct netdb_store *st;
	size_t n, start, dialled = 0;

	if (!bs->db)
		return;
	st = netdb_get_store(bs->db);
	if ((n = netdb_store_ri_count(st)) == 0)
		return;
	start = rand_uniform((uint32_t)n);
	for (size_t i = 0; i < n && dialled < want; i++) {
		const struct netdb_ri_entry *e =
			netdb_store_ri_at(st, (start + i) % n);

		if (!e || transport_is_connected(bs->tm, e->hash) ||
		    transport_queued(bs->tm, e->hash) ||
		    !ssu2_can_introduce_family(bs->s, e->ri, family))
			continue;
		ssu2_prefer_family(bs->s, e->hash, family);
		if (transport_dial(bs->tm, e->hash,
				   BITSD_SSU2_DIAL_TTL_MS) == 0) {
			log_info(LD_SSU2, "dialling a possible introducer%s",
				 family == AF_INET6 ? " (IPv6)" : "");
			dialled++;
		}
	}
	if (!dialled)
		log_debug(LD_SSU2, "no router with \"C\" left to dial");
}

void bitsd_ssu2_set_netdb(struct bitsd_ssu2 *bs, struct netdb *db)
{
	if (!bs)
		return;
	bs->db = db;
	ssu2_set_want_intro_hook(bs->s, db ? want_intro_cb : NULL, bs);
}

void bitsd_ssu2_set_reach(struct bitsd_ssu2 *bs, struct router_self_reach *rr,
			  void (*changed)(void *ctx), void *ctx)
{
	if (!bs)
		return;
	bs->rr = rr;
	bs->changed = changed;
	bs->changed_ctx = ctx;
	ssu2_set_intro_hook(bs->s, rr ? intro_cb : NULL, bs);
}

int bitsd_ssu2_start(struct daemon *d, const struct router_keys *keys,
		     struct transport_mgr *tm, struct bitsd_ssu2 **out)
{
	const struct conf *cfg = daemon_conf(d);
	const struct keystore *ks = router_keys_keystore(keys);
	struct bitsd_ssu2 *bs;
	struct ssu2_config sc;
	struct keys_and_cert id;
	uint16_t port;
	int r;

	*out = NULL;
	if (!cfg->ssu2)
		return 0;
	bs = xzalloc(sizeof(*bs));
	bs->d = d;
	bs->keys = keys;
	bs->tm = tm;
	bs->has4 = strchr(cfg->host, ':') == NULL;
	bs->has6 = !bs->has4 || cfg->host6 != NULL;
	router_keys_identity(keys, &id);
	ssu2_config_default(&sc);
	sc.netid = cfg->netid;
	noise_static_from_keystore(&sc.st, ks, KEYSTORE_X_SSU2);
	memcpy(sc.rh, id.hash, 32);
	sc.ks = ks;
	sc.max_pending = cfg->lim_pending_hs ? cfg->lim_pending_hs : SIZE_MAX;
	sc.max_pending_per_ip = cfg->lim_pending_hs_ip ?
				cfg->lim_pending_hs_ip : SIZE_MAX;
	/* 0 lifts both; one session an eighth of all, 64 KiB at least */
	sc.reasm_max_bytes = (size_t)cfg->lim_reasm_mib << 20;
	sc.reasm_sess_max_bytes = sc.reasm_max_bytes / 8 > (64u << 10) ?
				  sc.reasm_max_bytes / 8 :
				  sc.reasm_max_bytes ? 64u << 10 : 0;
	sc.handshake_timeout_ms = (uint64_t)cfg->ssu2_hs_timeout_s * 1000;
	sc.idle_timeout_ms = (uint64_t)cfg->ssu2_idle_s * 1000;
	if ((r = ssu2_intro_key_derive(ks, sc.ik)) != 0) {
		log_err(LD_SSU2, "cannot derive our intro key: %s", err_str(r));
		free(bs);
		return r;
	}
	bs->s = ssu2_new(daemon_evloop(d), tm, &sc);
	memwipe(sc.ik, sizeof(sc.ik));
	port = router_self_port(cfg, id.hash);
	if ((r = ssu2_listen(bs->s, cfg->host, port)) != 0) {
		log_err(LD_SSU2, "cannot bind UDP %s port %u: %s", cfg->host,
			(unsigned)port,
			r == ERR_IO ? strerror(errno) : err_str(r));
		goto fail;
	}
	if (cfg->host6 && (r = ssu2_listen(bs->s, cfg->host6, port)) != 0) {
		log_err(LD_SSU2, "cannot bind UDP %s port %u: %s", cfg->host6,
			(unsigned)port,
			r == ERR_IO ? strerror(errno) : err_str(r));
		goto fail;
	}
	if ((r = sign_self(bs)) != 0)
		goto fail;
	bs->resign = evloop_timer_new(daemon_evloop(d), resign_cb, bs);
	evloop_timer_arm(bs->resign, BITSD_SSU2_RESIGN_MS);
	bs->ptest = evloop_timer_new(daemon_evloop(d), ptest_cb, bs);
	evloop_timer_arm(bs->ptest, BITSD_SSU2_PT_FIRST_MS);
	if (cfg->nat) {
		struct nat_config nc;

		/* NTCP2 listens on the same port number over TCP. */
		nat_config_default(&nc);
		bs->nat = nat_new(daemon_evloop(d), daemon_workers(d), &nc,
				  NAT_PROTO_UDP | NAT_PROTO_TCP, port, nat_cb,
				  bs);
	}
	log_notice(LD_SSU2, "SSU2 listening on UDP port %u", (unsigned)port);
	log_info(LD_SSU2, "SSU2: handshake timeout %llu s, idle timeout "
		 "%llu s, %zu handshakes under way at most (%zu from one "
		 "address)", (unsigned long long)sc.handshake_timeout_ms / 1000,
		 (unsigned long long)sc.idle_timeout_ms / 1000, sc.max_pending,
		 sc.max_pending_per_ip);
	*out = bs;
	return 0;
fail:
	bitsd_ssu2_stop(bs);
	return r;
}

void bitsd_ssu2_stop(struct bitsd_ssu2 *bs)
{
	struct ssu2_stats st;

	if (!bs)
		return;
	ssu2_stats(bs->s, &st);
	log_info(LD_SSU2, "SSU2: %llu sessions in, %llu out, %llu handshakes "
		 "failed, %llu packets in, %llu out, %llu fragments resent, "
		 "%llu messages cut to fill packets, %llu partial messages "
		 "dropped at the reassembly limits and %llu expired",
		 (unsigned long long)st.established_in,
		 (unsigned long long)st.established_out,
		 (unsigned long long)st.hs_failed,
		 (unsigned long long)st.pkts_in, (unsigned long long)st.pkts_out,
		 (unsigned long long)st.resent_frags,
		 (unsigned long long)st.msgs_cut,
		 (unsigned long long)st.reasm_dropped,
		 (unsigned long long)st.reasm_expired);
	ssu2_set_intro_hook(bs->s, NULL, NULL);
	ssu2_set_want_intro_hook(bs->s, NULL, NULL);
	/* Remove the mapping (UPnP: a job the worker pool finishes). */
	nat_free(bs->nat);
	evloop_timer_free(bs->resign);
	evloop_timer_free(bs->ptest);
	/* Tell every peer (the Termination goes out now), then close. */
	ssu2_shutdown(bs->s);
	ssu2_free(bs->s);
	free(bs);
}

struct ssu2 *bitsd_ssu2_transport(struct bitsd_ssu2 *bs)
{
	return bs ? bs->s : NULL;
}
