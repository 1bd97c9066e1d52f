/*
 * ssu2_alice: a router that is bitsd's SSU2 transport (router/ssu2 under
 * the transport manager) and nothing else, for the relay's Alice role in
 * the namespace tests: bitsd itself sends only to routers it has reason
 * to reach (tunnel hops, floodfills), which leave out firewalled ones.
 * It knows the RouterInfos given, dials none of them but the target,
 * sends the target a Delivery Status and waits for the session.  The
 * target's address has introducers and no host, so router/ssu2 must dial
 * an introducer (Bob) first, send it a Relay Request, take Charlie's
 * Relay Response and Hole Punch and then reach Charlie at the address
 * they name.
 *
 *   ssu2_alice NETID HOST PORT SECONDS TARGET_RI [RI...]
 *
 * Prints "alice: hash HHHHHHHH" (the first 4 bytes of its router hash in
 * hex) at start, then "alice: up with the target: ..." and the SSU2
 * counters, and exits 0 once a session with the target is up; exits 1
 * when SECONDS pass first, 2 on a usage or setup error.
 */
#include "config.h"
#include "router/conf.h"
#include "router/evloop.h"
#include "router/i2np.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/router_self.h"
#include "router/ssu2.h"
#include "router/transport.h"
#include "crypto/base/alloc.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/init.h"
#include "crypto/keystore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RIS 8
#define RI_MAX_BYTES 4096
/* after the session is up, time for the Delivery Status to go out */
#define LINGER_MS 1000

struct alice {
	struct evloop *el;
	struct transport_mgr *tm;
	struct ssu2 *s;
	struct router_info *ri[MAX_RIS];
	size_t nri;
	uint8_t target[32];
	bool up;
	struct evloop_timer *done;
};

static const struct router_info *on_lookup(void *ctx, const uint8_t *peer)
{
	struct alice *a = ctx;

	for (size_t i = 0; i < a->nri; i++)
		if (memcmp(router_info_hash(a->ri[i]), peer, 32) == 0)
			return a->ri[i];
	return NULL;
}

static void on_recv(void *ctx, const uint8_t *peer, struct i2np_msg *m)
{
	(void)ctx;
	(void)peer;
	i2np_msg_free(m);
}

static void on_done(void *arg)
{
	evloop_break(((struct alice *)arg)->el);
}

static void on_up(void *ctx, const uint8_t *peer, bool inbound)
{
	struct alice *a = ctx;

	if (inbound || memcmp(peer, a->target, 32) != 0 || a->up)
		return;
	a->up = true;
	evloop_timer_arm(a->done, LINGER_MS);
}

static struct router_info *load_ri(const char *path)
{
	struct router_info *ri = NULL;
	uint8_t *b;
	size_t len;

	if (fsutil_read_file(path, RI_MAX_BYTES, &b, &len) != 0 ||
	    router_info_decode(b, len, &ri) != 0) {
		fprintf(stderr, "ssu2_alice: cannot read a RouterInfo from %s\n",
			path);
		exit(2);
	}
	free(b);
	return ri;
}

int main(int argc, char **argv)
{
	static struct alice a;
	struct transport_hooks h = { .recv = on_recv, .lookup = on_lookup,
				     .peer_up = on_up, .ctx = &a };
	struct transport_limits lim;
	struct ssu2_config sc;
	struct ssu2_stats st;
	struct keys_and_cert id;
	struct router_keys *keys;
	struct router_info *self;
	struct evloop_timer *timeout;
	struct conf *cfg;
	const uint8_t *b;
	size_t len;
	int port, secs;

	if (argc < 6 || argc - 5 > MAX_RIS ||
	    (port = atoi(argv[3])) <= 0 || port > 65535 ||
	    (secs = atoi(argv[4])) <= 0) {
		fprintf(stderr, "usage: ssu2_alice NETID HOST PORT SECONDS "
			"TARGET_RI [RI...]\n");
		return 2;
	}
	crypto_init();
	log_set_level(getenv("BITS_TEST_LOG") ? LOG_DEBUG : LOG_NOTICE);
	for (int i = 5; i < argc; i++)
		a.ri[a.nri++] = load_ri(argv[i]);
	memcpy(a.target, router_info_hash(a.ri[0]), 32);

	keys = router_keys_new_random();
	router_keys_identity(keys, &id);
	a.el = evloop_new();
	transport_limits_default(&lim);
	a.tm = transport_mgr_new(a.el, id.hash, &lim);
	transport_mgr_set_hooks(a.tm, &h);
	ssu2_config_default(&sc);
	sc.netid = (uint8_t)atoi(argv[1]);
	noise_static_from_keystore(&sc.st, router_keys_keystore(keys),
				   KEYSTORE_X_SSU2);
	memcpy(sc.rh, id.hash, 32);
	sc.ks = router_keys_keystore(keys);
	if (ssu2_intro_key_derive(router_keys_keystore(keys), sc.ik) != 0)
		return 2;
	a.s = ssu2_new(a.el, a.tm, &sc);
	if (ssu2_listen(a.s, argv[2], (uint16_t)port) != 0) {
		fprintf(stderr, "ssu2_alice: cannot bind %s:%d\n", argv[2], port);
		return 2;
	}
	cfg = conf_new_default("/nonexistent");
	cfg->netid = sc.netid;
	cfg->ssu2 = true;
	cfg->port = (uint16_t)port;
	free(cfg->host);
	cfg->host = xstrdup(argv[2]);
	if (router_self_build(cfg, keys, &self) != 0)
		return 2;
	b = router_info_bytes(self, &len);
	(void)ssu2_set_router_info(a.s, b, len);
	conf_free(cfg);

	printf("alice: hash %02x%02x%02x%02x\n", id.hash[0], id.hash[1],
	       id.hash[2], id.hash[3]);
	fflush(stdout);
	a.done = evloop_timer_new(a.el, on_done, &a);
	timeout = evloop_timer_new(a.el, on_done, &a);
	evloop_timer_arm(timeout, (uint64_t)secs * 1000);
	if (transport_dial(a.tm, a.target, (uint64_t)secs * 1000) != 0) {
		fprintf(stderr, "ssu2_alice: no transport reaches the target\n");
		return 1;
	}
	(void)evloop_run(a.el);
	ssu2_stats(a.s, &st);
	printf("alice: %s the target: relays asked %llu, done %llu, refused "
	       "%llu, hole punches %llu, sessions out %llu\n",
	       a.up ? "up with" : "no session with",
	       (unsigned long long)st.relays_asked,
	       (unsigned long long)st.relays_done,
	       (unsigned long long)st.relays_refused,
	       (unsigned long long)st.hole_punches,
	       (unsigned long long)st.established_out);
	evloop_timer_free(timeout);
	evloop_timer_free(a.done);
	ssu2_free(a.s);
	transport_mgr_free(a.tm);
	for (size_t i = 0; i < a.nri; i++)
		router_info_free(a.ri[i]);
	router_info_free(self);
	router_keys_free(keys);
	evloop_free(a.el);
	return a.up ? 0 : 1;
}
