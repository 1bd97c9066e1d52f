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
		      const struct netdb_ri_entry *e)
{
	const char *caps = router_info_option(e->ri, "caps");
	const char *ver = router_info_option(e->ri, "router.version");
	struct x25519_pk pk;
	uint32_t v;

	if (memcmp(e->hash, cfg->self, 32) == 0)
		return ERR_ARG;
	if (!(e->flags & NETDB_RI_REACHABLE) || (caps && strchr(caps, 'U')))
		return ERR_NETWORK;
	if (caps && (strchr(caps, 'K') || strchr(caps, 'G')))
		return ERR_LIMIT;
	if (ver && router_info_version_parse(ver, &v) == 0 &&
	    v < PEER_SELECT_MIN_VERSION)
		return ERR_UNSUPPORTED;
	if (keys_and_cert_x25519_pk(router_info_identity(e->ri), &pk) != 0)
		return ERR_UNSUPPORTED;
	return 0;
}

/* Answers builds quickly (unknown counts as quick: a profile loaded
 * from a database without reply times). */
static bool quick(const struct peer_profile *pr)
{
	return pr->build_ms <= PEER_SELECT_FAST_BUILD_MS;
}

enum peer_tier peer_select_tier(const struct netdb_ri_entry *e,
				const struct peer_profiles *pp,
				enum peer_select_kind kind, uint64_t now_ms)
{
	const struct peer_profile *pr = peer_profiles_get(pp, e->hash);

	if (peer_profile_is_failing(pr, now_ms))
		return PEER_TIER_FAILING;
	if (kind == PEER_SELECT_EXPLORATORY)
		return PEER_TIER_STANDARD;
	if (peer_profile_is_proven(pr) && high_bw(e->ri) && quick(pr))
		return PEER_TIER_FAST;
	if (peer_profile_capacity(pr) > 0)
		return PEER_TIER_HIGH_CAP;
	return PEER_TIER_STANDARD;
}

struct cand {
	const struct netdb_ri_entry *e;
	enum peer_tier tier;
	int64_t capacity;	/* orders the failing tier */
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

/* The failing tier after shuffling: least bad first (a stable insertion
 * sort, so equal ones keep their random order). */
static void by_capacity(struct cand *c, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct cand v = c[i];
		size_t j = i;

		for (; j > 0 && c[j - 1].capacity < v.capacity; j--)
			c[j] = c[j - 1];
		c[j] = v;
	}
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
		    peer_select_check(cfg, e) != 0)
			continue;
		c[nc].e = e;
		c[nc].tier = peer_select_tier(e, pp, kind, now_ms);
		c[nc].capacity = peer_profile_capacity(
			peer_profiles_get(pp, e->hash));
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
		if (c[lo].tier == PEER_TIER_FAILING)
			by_capacity(c + lo, hi - lo);
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
