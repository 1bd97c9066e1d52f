/*
 * Peer selection (tunnels/peer_select.h).  Candidates are grouped by
 * tier; hops are drawn from the first tier by weight, without
 * replacement, then from the next, until the tunnel is full.
 */
#include "config.h"
#include "tunnels/peer_select.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"
#include "router/ri_pay.h"
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

static bool has_cap(const struct router_info *ri, const char *any)
{
	const char *caps = router_info_option(ri, "caps");

	return caps && strpbrk(caps, any) != NULL;
}

static bool high_bw(const struct router_info *ri)
{
	return has_cap(ri, "OPX");
}

/* "E" in a RouterInfo published within PEER_SELECT_CONGESTION_E_MS. */
static bool congested_now(const struct netdb_ri_entry *e, uint64_t now_ms)
{
	return has_cap(e->ri, "E") &&
	       now_ms < router_info_published(e->ri) +
				PEER_SELECT_CONGESTION_E_MS;
}

unsigned peer_select_weight(const struct netdb_ri_entry *e,
			    enum peer_select_kind kind)
{
	unsigned w = has_cap(e->ri, "f") ? PEER_SELECT_WEIGHT_FLOODFILL
					 : PEER_SELECT_WEIGHT_OTHER;

	w *= PEER_SELECT_WEIGHT_D_DIV * PEER_SELECT_WEIGHT_LOW_BW_DIV;
	if (has_cap(e->ri, "DE"))	/* an old "E" counts as "D" */
		w /= PEER_SELECT_WEIGHT_D_DIV;
	if (kind == PEER_SELECT_CLIENT && has_cap(e->ri, "LM"))
		w /= PEER_SELECT_WEIGHT_LOW_BW_DIV;
	return w;
}

int peer_select_check(const struct peer_select_cfg *cfg,
		      const struct netdb_ri_entry *e, uint64_t now_ms)
{
	const char *caps = router_info_option(e->ri, "caps");
	const char *ver = router_info_option(e->ri, "router.version");
	struct x25519_pk pk;
	uint32_t v;

	if (memcmp(e->hash, cfg->self, 32) == 0)
		return ERR_ARG;
	if (!(e->flags & NETDB_RI_REACHABLE) || (caps && strchr(caps, 'U')))
		return ERR_NETWORK;
	if ((caps && (strchr(caps, 'K') || strchr(caps, 'G'))) ||
	    congested_now(e, now_ms))
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

	if (peer_profile_is_unreachable(pr, now_ms))
		return PEER_TIER_UNREACHABLE;
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
	uint32_t suspect;	/* orders the unreachable tier */
	unsigned weight;
	uint32_t net;
	bool paid;		/* asks to be paid */
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

static void swap(struct cand *a, struct cand *b)
{
	struct cand t = *a;

	*a = *b;
	*b = t;
}

/* Fisher-Yates. */
static void shuffle(struct cand *c, size_t n)
{
	for (size_t i = n; i > 1; i--)
		swap(&c[i - 1], &c[rand_uniform((uint32_t)i)]);
}

/* Move one of c[0..n) to c[0], drawn by weight (weight 0: the tier is
 * ordered already, c[0] stays). */
static void draw(struct cand *c, size_t n)
{
	uint64_t total = 0, x;

	for (size_t i = 0; i < n; i++)
		total += c[i].weight;
	if (total == 0 || total > UINT32_MAX)
		return;
	x = rand_uniform((uint32_t)total);
	for (size_t i = 0; i < n; i++) {
		if (x < c[i].weight) {
			swap(&c[0], &c[i]);
			return;
		}
		x -= c[i].weight;
	}
}

/* Would a hop in net share a /16 with one of the got chosen? */
static bool clashes(const struct peer_select_cfg *cfg, const uint32_t *nets,
		    unsigned got, uint32_t net)
{
	for (unsigned k = 0; k < got && !cfg->allow_same_subnet; k++)
		if (net != 0 && nets[k] == net)
			return true;
	return false;
}

/* Make c hop k of out. */
int peer_pay_policy_parse(const char *s, enum peer_pay_policy *out)
{
	static const char *const names[] = {
		[PEER_PAY_ANY] = "any", [PEER_PAY_PREFER_PAID] = "prefer-paid",
		[PEER_PAY_PREFER_FREE] = "prefer-free",
		[PEER_PAY_PAID_ONLY] = "paid-only",
		[PEER_PAY_FREE_ONLY] = "free-only",
	};

	for (size_t i = 0; s && i < ARRAY_LEN(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum peer_pay_policy)i;
			return 0;
		}
	return ERR_ARG;
}

bool peer_select_asks_pay(const struct netdb_ri_entry *e)
{
	const char *p = router_info_option(e->ri, RI_PAY_OPT_PRICE);

	return p && *p;
}

/* The pay policy on a candidate: false to leave it out; else its weight
 * adjusted. */
static bool pay_weigh(const struct peer_select_cfg *cfg, struct cand *c)
{
	switch (cfg->pay) {
	case PEER_PAY_PAID_ONLY:
		return c->paid;
	case PEER_PAY_FREE_ONLY:
		return !c->paid;
	case PEER_PAY_PREFER_PAID:
	case PEER_PAY_PREFER_FREE:
		/* the preferred kind weighs more, so no weight goes to 0 */
		if (c->paid == (cfg->pay == PEER_PAY_PREFER_PAID))
			c->weight *= PEER_SELECT_PAY_PREFER_MUL;
		return true;
	case PEER_PAY_ANY:
		break;
	}
	return true;
}

static void take(const struct cand *c, struct tunnel_build_hop *out,
		 uint32_t *nets, unsigned k, bool *lng)
{
	const char *ver;
	uint32_t v = 0;

	nets[k] = c->net;
	memcpy(out[k].ident, c->e->hash, 32);
	(void)keys_and_cert_x25519_pk(router_info_identity(c->e->ri),
				      &out[k].enc_pk);
	ver = router_info_option(c->e->ri, "router.version");
	if (!ver || router_info_version_parse(ver, &v) != 0 ||
	    v < PEER_SELECT_SHORT_MIN_VERSION)
		*lng = true;
}

void peer_select_order(struct tunnel_build_hop *hops, unsigned n,
		       const uint8_t key[SIPHASH_KEY_BYTES])
{
	uint64_t k[TUNNEL_BUILD_MAX_HOPS];

	if (n > TUNNEL_BUILD_MAX_HOPS)
		return;
	for (unsigned i = 0; i < n; i++)
		k[i] = siphash24_u64(key, hops[i].ident, 32);
	for (unsigned i = 1; i < n; i++) {	/* insertion sort */
		struct tunnel_build_hop h = hops[i];
		uint64_t v = k[i];
		unsigned j = i;

		for (; j > 0 && k[j - 1] > v; j--) {
			hops[j] = hops[j - 1];
			k[j] = k[j - 1];
		}
		hops[j] = h;
		k[j] = v;
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
	unsigned got = 0, paid = 0;
	bool lng = false;

	if (n < 1 || n > TUNNEL_BUILD_MAX_HOPS)
		return ERR_ARG;
	c = xcalloc(total ? total : 1, sizeof(*c));
	for (size_t i = 0; i < total; i++) {
		const struct netdb_ri_entry *e = netdb_store_ri_at(s, i);
		const struct peer_profile *pr;

		if (!e || excluded(e->hash, excl, n_excl) ||
		    peer_select_check(cfg, e, now_ms) != 0)
			continue;
		c[nc].e = e;
		c[nc].tier = peer_select_tier(e, pp, kind, now_ms);
		if (c[nc].tier == PEER_TIER_UNREACHABLE && !cfg->use_unreachable)
			continue;
		c[nc].weight = peer_select_weight(e, kind);
		pr = peer_profiles_get(pp, e->hash);
		c[nc].capacity = peer_profile_capacity(pr);
		c[nc].suspect = pr ? pr->timeouts_row : 0;
		c[nc].net = subnet16(e->ri);
		c[nc].paid = peer_select_asks_pay(e);
		if (!pay_weigh(cfg, &c[nc]))
			continue;
		nc++;
	}
	/* Group by tier; the failing tier least bad first.  In the
	 * unreachable one, a peer's weight is divided by its timeouts in a
	 * row plus one (a dead router is in every build that timed out; a
	 * live one's row ends with any answer), drawn at random still, so
	 * that one batch of builds does not all go to the same one. */
	qsort(c, nc, sizeof(*c), by_tier);
	for (size_t lo = 0; lo < nc;) {
		size_t hi = lo;

		while (hi < nc && c[hi].tier == c[lo].tier)
			hi++;
		if (c[lo].tier == PEER_TIER_FAILING) {
			shuffle(c + lo, hi - lo);
			by_capacity(c + lo, hi - lo);
			for (size_t i = lo; i < hi; i++)
				c[i].weight = 0;	/* in this order */
		}
		for (size_t i = lo; i < hi &&
				    c[lo].tier == PEER_TIER_UNREACHABLE; i++)
			c[i].weight = c[i].weight / (1 + c[i].suspect) + 1;
		lo = hi;
	}
	/* Draw tier by tier: c[0..i) are used or skipped. */
	for (size_t i = 0; i < nc && got < n; i++) {
		size_t hi = i;

		while (hi < nc && c[hi].tier == c[i].tier)
			hi++;
		draw(c + i, hi - i);
		if (clashes(cfg, nets, got, c[i].net) ||
		    (c[i].paid && cfg->max_paid && paid >= cfg->max_paid))
			continue;
		paid += c[i].paid;
		take(&c[i], out, nets, got++, &lng);
	}
	free(c);
	if (got < n)
		return ERR_NOT_FOUND;
	*need_long = lng;
	return 0;
}

int peer_select_fixed(const struct peer_select_cfg *cfg,
		      const struct netdb_store *s, const uint8_t (*ids)[32],
		      unsigned n, uint64_t now_ms,
		      struct tunnel_build_hop *out, bool *need_long)
{
	uint32_t nets[TUNNEL_BUILD_MAX_HOPS];
	bool lng = false;

	if (n < 1 || n > TUNNEL_BUILD_MAX_HOPS)
		return ERR_ARG;
	for (unsigned k = 0; k < n; k++) {
		struct cand c;

		memset(&c, 0, sizeof(c));
		c.e = netdb_store_find_ri(s, ids[k]);
		if (!c.e || peer_select_check(cfg, c.e, now_ms) != 0)
			return ERR_NOT_FOUND;
		take(&c, out, nets, k, &lng);
	}
	*need_long = lng;
	return 0;
}
