/*
 * Peer selection (tunnels/peer_select.h).
 */
#include "config.h"
#include "tunnels/peer_select.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"
#include "router/router_info.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* The /16 of ri's first published IPv4 address; 0 when it has none. */
static uint32_t subnet16(const struct router_info *ri)
{
	for (size_t i = 0; i < router_info_address_count(ri); i++) {
		const struct router_address *a = router_info_address(ri, i);
		const char *host = mapping_get(&a->options, "host");
		uint8_t ip[4];

		if (host && inet_pton(AF_INET, host, ip) == 1)
			return 0x10000u | (uint32_t)ip[0] << 8 | ip[1];
	}
	return 0;
}

static bool high_bw(const struct router_info *ri)
{
	const char *caps = router_info_option(ri, "caps");

	return caps && (strchr(caps, 'O') || strchr(caps, 'P') ||
			strchr(caps, 'X'));
}

int peer_select_check(const struct peer_select_cfg *cfg,
		      const struct netdb_ri_entry *e,
		      const struct peer_profiles *pp, uint64_t now_ms)
{
	const char *caps = router_info_option(e->ri, "caps");
	struct x25519_pk pk;

	if (memcmp(e->hash, cfg->self, 32) == 0)
		return ERR_ARG;
	if (!(e->flags & NETDB_RI_REACHABLE) || (caps && strchr(caps, 'U')))
		return ERR_NETWORK;
	if (keys_and_cert_x25519_pk(router_info_identity(e->ri), &pk) != 0)
		return ERR_UNSUPPORTED;
	if (peer_profile_is_failing(peer_profiles_get(pp, e->hash), now_ms))
		return ERR_LIMIT;
	return 0;
}

enum peer_tier peer_select_tier(const struct netdb_ri_entry *e,
				const struct peer_profiles *pp)
{
	const struct peer_profile *pr = peer_profiles_get(pp, e->hash);

	if (peer_profile_is_proven(pr) && high_bw(e->ri))
		return PEER_TIER_FAST;
	if (peer_profile_capacity(pr) > 0)
		return PEER_TIER_HIGH_CAP;
	return PEER_TIER_STANDARD;
}

struct cand {
	const struct netdb_ri_entry *e;
	enum peer_tier tier;
	uint32_t net;
};

static bool excluded(const uint8_t hash[32], const uint8_t (*excl)[32],
		     size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(hash, excl[i], 32) == 0)
			return true;
	return false;
}

static int by_tier(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return (int)x->tier - (int)y->tier;
}

int peer_select_hops(const struct peer_select_cfg *cfg,
		     const struct netdb_store *s,
		     const struct peer_profiles *pp,
		     enum peer_select_kind kind, const uint8_t (*excl)[32],
		     size_t n_excl, unsigned n, uint64_t now_ms,
		     struct tunnel_build_hop *out, bool *need_long)
{
	size_t total = netdb_store_ri_count(s), nc = 0;
	struct cand *c;
	uint32_t nets[TUNNEL_BUILD_MAX_HOPS];
	unsigned got = 0;
	bool lng = false;

	if (n < 1 || n > TUNNEL_BUILD_MAX_HOPS)
		return ERR_ARG;
	c = xcalloc(total ? total : 1, sizeof(*c));
	for (size_t i = 0; i < total; i++) {
		const struct netdb_ri_entry *e = netdb_store_ri_at(s, i);

		if (!e || excluded(e->hash, excl, n_excl) ||
		    peer_select_check(cfg, e, pp, now_ms) != 0)
			continue;
		c[nc].e = e;
		c[nc].tier = kind == PEER_SELECT_CLIENT ?
				     peer_select_tier(e, pp) : PEER_TIER_STANDARD;
		c[nc].net = subnet16(e->ri);
		nc++;
	}
	/* Group by tier, then shuffle inside each group (Fisher-Yates). */
	qsort(c, nc, sizeof(*c), by_tier);
	for (size_t lo = 0; lo < nc;) {
		size_t hi = lo;

		while (hi < nc && c[hi].tier == c[lo].tier)
			hi++;
		for (size_t i = hi - 1; i > lo; i--) {
			size_t j = lo + rand_uniform((uint32_t)(i - lo + 1));
			struct cand t = c[i];

			c[i] = c[j];
			c[j] = t;
		}
		lo = hi;
	}
	for (size_t i = 0; i < nc && got < n; i++) {
		const char *ver;
		uint32_t v = 0;
		bool clash = false;

		for (unsigned k = 0; k < got && !cfg->allow_same_subnet; k++)
			clash |= c[i].net != 0 && nets[k] == c[i].net;
		if (clash)
			continue;
		nets[got] = c[i].net;
		memcpy(out[got].ident, c[i].e->hash, 32);
		(void)keys_and_cert_x25519_pk(router_info_identity(c[i].e->ri),
					      &out[got].enc_pk);
		ver = router_info_option(c[i].e->ri, "router.version");
		if (!ver || router_info_version_parse(ver, &v) != 0 ||
		    v < PEER_SELECT_SHORT_MIN_VERSION)
			lng = true;
		got++;
	}
	free(c);
	if (got < n)
		return ERR_NOT_FOUND;
	*need_long = lng;
	return 0;
}
