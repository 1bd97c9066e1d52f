/*
 * The netDb store (netdb/store.h): two keymaps (RouterInfos, LeaseSets)
 * plus dense arrays of entries (all routers, floodfills, LeaseSets) for
 * iteration, random picks and closest-peer scans.  An entry knows its
 * array positions, so removal is a swap with the last element.
 *
 * Validation order matters for cost: decode and the cheap checks first,
 * "is it newer than ours" before the signature, so a replayed or stale
 * entry never costs an Ed25519 verification.
 */
#include "config.h"
#include "netdb/store.h"
#include "netdb/keymap.h"
#include "router/certificate.h"
#include "router/gzip.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

struct netdb_store {
	struct netdb_store_cfg cfg;
	struct netdb_store_hooks hooks;
	struct keymap *ri_map, *ls_map;
	struct netdb_ri_entry **all, **ff;
	size_t n_all, cap_all, n_ff, cap_ff;
	struct netdb_ls_entry **ls;
	size_t n_ls, cap_ls;
	size_t ri_bytes, ls_bytes;	/* entries' heap_bytes, gzips */
	uint8_t *gz_spare;		/* a gzip the budget left uncached */
};

struct netdb_store *netdb_store_new(const struct netdb_store_cfg *cfg)
{
	struct netdb_store *s = xzalloc(sizeof(*s));

	s->cfg = *cfg;
	if (!s->cfg.max_routers)
		s->cfg.max_routers = NETDB_MAX_ROUTERS;
	if (!s->cfg.max_leasesets)
		s->cfg.max_leasesets = NETDB_MAX_LEASESETS;
	if (!s->cfg.max_ri_bytes)
		s->cfg.max_ri_bytes = NETDB_MAX_RI_BYTES;
	if (!s->cfg.max_ls_bytes)
		s->cfg.max_ls_bytes = NETDB_MAX_LS_BYTES;
	s->ri_map = keymap_new();
	s->ls_map = keymap_new();
	return s;
}

const struct netdb_store_cfg *netdb_store_config(const struct netdb_store *s)
{
	return &s->cfg;
}

static void ri_entry_free(struct netdb_ri_entry *e)
{
	if (!e)
		return;
	router_info_free(e->ri);
	free(e->gz);
	free(e);
}

static void ls_entry_free(struct netdb_ls_entry *e)
{
	if (!e)
		return;
	leaseset_free(e->ls);
	free(e);
}

void netdb_store_free(struct netdb_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_all; i++)
		ri_entry_free(s->all[i]);
	for (size_t i = 0; i < s->n_ls; i++)
		ls_entry_free(s->ls[i]);
	keymap_free(s->ri_map);
	keymap_free(s->ls_map);
	free(s->all);
	free(s->ff);
	free(s->ls);
	free(s->gz_spare);
	free(s);
}

void netdb_store_set_hooks(struct netdb_store *s,
			   const struct netdb_store_hooks *h)
{
	s->hooks = *h;
}

/* ---- dense arrays ---- */

#define ARR_PUSH(arr, n, cap, e) do { \
	if ((n) == (cap)) { \
		(cap) = (cap) ? (cap) * 2 : 64; \
		(arr) = xrealloc((arr), (cap) * sizeof(*(arr))); \
	} \
	(arr)[(n)++] = (e); \
} while (0)

static void ff_add(struct netdb_store *s, struct netdb_ri_entry *e)
{
	e->idx_ff = s->n_ff;
	ARR_PUSH(s->ff, s->n_ff, s->cap_ff, e);
}

static void ff_remove(struct netdb_store *s, struct netdb_ri_entry *e)
{
	struct netdb_ri_entry *last = s->ff[--s->n_ff];

	s->ff[e->idx_ff] = last;
	last->idx_ff = e->idx_ff;
}

static void all_remove(struct netdb_store *s, struct netdb_ri_entry *e)
{
	struct netdb_ri_entry *last = s->all[--s->n_all];

	s->all[e->idx_all] = last;
	last->idx_all = e->idx_all;
}

static void ls_arr_remove(struct netdb_store *s, struct netdb_ls_entry *e)
{
	struct netdb_ls_entry *last = s->ls[--s->n_ls];

	s->ls[e->idx] = last;
	last->idx = e->idx;
}

void netdb_store_set_floodfill(struct netdb_store *s, bool floodfill)
{
	s->cfg.floodfill = floodfill;
}

/* ---- RouterInfos ---- */

static bool has_option(const struct router_address *a, const char *key)
{
	return mapping_get(&a->options, key) != NULL;
}

unsigned netdb_ri_classify(const struct router_info *ri)
{
	const char *caps = router_info_option(ri, "caps");
	const char *ver = router_info_option(ri, "router.version");
	uint32_t v = 0;
	unsigned flags = 0;

	for (size_t i = 0; i < router_info_address_count(ri); i++) {
		const struct router_address *a = router_info_address(ri, i);
		if ((strcmp(a->style, "NTCP2") == 0 ||
		     strcmp(a->style, "SSU2") == 0 ||
		     strcmp(a->style, "SSU") == 0) &&
		    has_option(a, "host") && has_option(a, "port"))
			flags |= NETDB_RI_REACHABLE;
		if (has_option(a, "ihost0"))
			flags |= NETDB_RI_INTRODUCERS;
	}
	/* i2pd: floodfill eligible if reachable, >= 0.9.38, not DSA. */
	if (caps && strchr(caps, 'f') && (flags & NETDB_RI_REACHABLE) &&
	    ver && router_info_version_parse(ver, &v) == 0 &&
	    v >= NETDB_FLOODFILL_MIN_VERSION &&
	    router_info_identity(ri)->sig_type != CERT_SIG_DSA_SHA1)
		flags |= NETDB_RI_FLOODFILL;
	return flags;
}

/* What an entry holding ri takes (its gzip aside). */
static size_t ri_entry_heap(const struct router_info *ri)
{
	return alloc_cost(sizeof(struct netdb_ri_entry)) +
	       router_info_heap_bytes(ri);
}

/* What e counts against max_ri_bytes. */
static size_t ri_entry_bytes(const struct netdb_ri_entry *e)
{
	return e->heap + (e->gz ? alloc_cost(e->gz_len) : 0);
}

/* The checks every RouterInfo passes before the signature. */
static int ri_precheck(const struct netdb_store *s,
		       const struct router_info *ri, uint64_t now_ms)
{
	const uint8_t *h = router_info_hash(ri);
	const struct netdb_ri_entry *old;
	uint64_t pub = router_info_published(ri);
	int r;

	if (memcmp(h, s->cfg.self, NETDB_HASH_BYTES) == 0)
		return ERR_ARG;
	if ((r = router_info_check_netid(ri, s->cfg.netid)) != 0 ||
	    (r = router_info_check_published(ri, now_ms)) != 0)
		return r;
	if (pub + NETDB_RI_MAX_AGE_MS < now_ms)
		return ERR_EXPIRED;
	old = keymap_get(s->ri_map, h);
	if (old && old->published_ms >= pub)
		return ERR_EXISTS;
	if (!old && s->n_all >= s->cfg.max_routers)
		return ERR_LIMIT;
	if (s->ri_bytes - (old ? ri_entry_bytes(old) : 0) +
	    ri_entry_heap(ri) > s->cfg.max_ri_bytes)
		return ERR_LIMIT;
	return 0;
}

/* Insert or replace; takes ri. */
static void ri_insert(struct netdb_store *s, struct router_info *ri,
		      unsigned flags, enum netdb_add_result *res)
{
	const uint8_t *h = router_info_hash(ri);
	struct netdb_ri_entry *e = keymap_get(s->ri_map, h);
	const uint8_t *bytes;
	size_t len;

	if (e) {
		s->ri_bytes -= ri_entry_bytes(e);
		router_info_free(e->ri);
		FREE_AND_NULL(free, e->gz);
		e->gz_len = 0;
		if (e->flags & NETDB_RI_FLOODFILL)
			ff_remove(s, e);
		if (res)
			*res = NETDB_ADD_UPDATED;
	} else {
		e = xzalloc(sizeof(*e));
		memcpy(e->hash, h, NETDB_HASH_BYTES);
		keymap_put(s->ri_map, e->hash, e);
		e->idx_all = s->n_all;
		ARR_PUSH(s->all, s->n_all, s->cap_all, e);
		if (res)
			*res = NETDB_ADD_NEW;
	}
	e->ri = ri;
	e->heap = ri_entry_heap(ri);
	s->ri_bytes += e->heap;
	e->published_ms = router_info_published(ri);
	e->flags = netdb_ri_classify(ri);
	if (e->flags & NETDB_RI_FLOODFILL)
		ff_add(s, e);
	bytes = router_info_bytes(ri, &len);
	if (!(flags & NETDB_ADD_FROM_DB) && s->hooks.put && bytes)
		s->hooks.put(s->hooks.ctx, NETDB_KIND_RI, e->hash, bytes, len,
			     e->published_ms);
}

int netdb_store_add_ri_verified(struct netdb_store *s, struct router_info *ri,
				uint64_t now_ms, unsigned flags,
				enum netdb_add_result *res)
{
	int r;

	if ((r = ri_precheck(s, ri, now_ms)) != 0) {
		router_info_free(ri);
		return r;
	}
	ri_insert(s, ri, flags, res);
	return 0;
}

int netdb_store_add_ri(struct netdb_store *s, const uint8_t *buf, size_t len,
		       const uint8_t *key, uint64_t now_ms, unsigned flags,
		       enum netdb_add_result *res)
{
	struct router_info *ri = NULL;
	int r;

	if ((r = router_info_decode(buf, len, &ri)) != 0)
		return r;
	if (key && memcmp(key, router_info_hash(ri), NETDB_HASH_BYTES) != 0)
		r = ERR_FORMAT;
	else if ((r = ri_precheck(s, ri, now_ms)) == 0 &&
		 !(flags & NETDB_ADD_VERIFIED))
		r = router_info_verify(ri);
	if (r != 0) {
		router_info_free(ri);
		return r;
	}
	ri_insert(s, ri, flags, res);
	return 0;
}

const struct netdb_ri_entry *netdb_store_find_ri(const struct netdb_store *s,
						 const uint8_t hash[32])
{
	return keymap_get(s->ri_map, hash);
}

const uint8_t *netdb_store_ri_gzip(struct netdb_store *s,
				   const uint8_t hash[32], size_t *len)
{
	struct netdb_ri_entry *e = keymap_get(s->ri_map, hash);
	struct bbuf b = BBUF_INIT;
	const uint8_t *bytes;
	size_t n;

	if (!e)
		return NULL;
	if (!e->gz) {
		if (!(bytes = router_info_bytes(e->ri, &n)) ||
		    gzip_compress(bytes, n, &b) != 0) {
			bbuf_free(&b);
			return NULL;
		}
		FREE_AND_NULL(free, s->gz_spare);
		if (s->ri_bytes + alloc_cost(b.len) > s->cfg.max_ri_bytes) {
			s->gz_spare = bbuf_steal(&b, len);
			return s->gz_spare;
		}
		/* exactly its size: what the budget counts is what it takes */
		e->gz = xmemdup(b.data, b.len);
		e->gz_len = b.len;
		bbuf_free(&b);
		s->ri_bytes += alloc_cost(e->gz_len);
	}
	*len = e->gz_len;
	return e->gz;
}

int netdb_store_remove_ri(struct netdb_store *s, const uint8_t hash[32])
{
	struct netdb_ri_entry *e = keymap_remove(s->ri_map, hash);

	if (!e)
		return ERR_NOT_FOUND;
	if (e->flags & NETDB_RI_FLOODFILL)
		ff_remove(s, e);
	all_remove(s, e);
	s->ri_bytes -= ri_entry_bytes(e);
	if (s->hooks.del)
		s->hooks.del(s->hooks.ctx, NETDB_KIND_RI, e->hash);
	ri_entry_free(e);
	return 0;
}

/* ---- LeaseSets ---- */

static size_t ls_entry_heap(const struct leaseset *ls)
{
	return alloc_cost(sizeof(struct netdb_ls_entry)) +
	       leaseset_heap_bytes(ls);
}

int netdb_store_add_ls(struct netdb_store *s, enum leaseset_type type,
		       const uint8_t *buf, size_t len, const uint8_t *key,
		       uint64_t now_ms, unsigned flags,
		       enum netdb_add_result *res)
{
	struct leaseset *ls = NULL;
	struct netdb_ls_entry *e;
	const uint8_t *bytes;
	size_t n;
	int r;

	if ((r = leaseset_decode(type, buf, len, &ls)) != 0)
		return r;
	e = keymap_get(s->ls_map, leaseset_key(ls));
	if (key && memcmp(key, leaseset_key(ls), NETDB_HASH_BYTES) != 0)
		r = ERR_FORMAT;
	else if ((r = leaseset_check_time(ls, now_ms)) != 0)
		;
	else if (e && !leaseset_is_newer(ls, e->ls))
		r = ERR_EXISTS;
	else if (!e && s->n_ls >= s->cfg.max_leasesets)
		r = ERR_LIMIT;
	else if (s->ls_bytes - (e ? e->heap : 0) + ls_entry_heap(ls) >
		 s->cfg.max_ls_bytes)
		r = ERR_LIMIT;
	else if (!(flags & NETDB_ADD_VERIFIED))
		r = leaseset_verify(ls);
	if (r != 0) {
		leaseset_free(ls);
		return r;
	}
	if (e) {
		s->ls_bytes -= e->heap;
		leaseset_free(e->ls);
		if (res)
			*res = NETDB_ADD_UPDATED;
	} else {
		e = xzalloc(sizeof(*e));
		memcpy(e->key, leaseset_key(ls), NETDB_HASH_BYTES);
		keymap_put(s->ls_map, e->key, e);
		e->idx = s->n_ls;
		ARR_PUSH(s->ls, s->n_ls, s->cap_ls, e);
		if (res)
			*res = NETDB_ADD_NEW;
	}
	e->ls = ls;
	e->heap = ls_entry_heap(ls);
	s->ls_bytes += e->heap;
	bytes = leaseset_bytes(ls, &n);
	if (!(flags & NETDB_ADD_FROM_DB) && s->hooks.put)
		s->hooks.put(s->hooks.ctx, type, e->key, bytes, n,
			     leaseset_expires_ms(ls));
	return 0;
}

const struct netdb_ls_entry *netdb_store_find_ls(const struct netdb_store *s,
						 const uint8_t key[32])
{
	return keymap_get(s->ls_map, key);
}

int netdb_store_remove_ls(struct netdb_store *s, const uint8_t key[32])
{
	struct netdb_ls_entry *e = keymap_remove(s->ls_map, key);

	if (!e)
		return ERR_NOT_FOUND;
	ls_arr_remove(s, e);
	s->ls_bytes -= e->heap;
	if (s->hooks.del)
		s->hooks.del(s->hooks.ctx, leaseset_type(e->ls), e->key);
	ls_entry_free(e);
	return 0;
}

/* ---- queries ---- */

size_t netdb_store_ri_count(const struct netdb_store *s)
{
	return s->n_all;
}

size_t netdb_store_ff_count(const struct netdb_store *s)
{
	return s->n_ff;
}

size_t netdb_store_ls_count(const struct netdb_store *s)
{
	return s->n_ls;
}

size_t netdb_store_ri_bytes(const struct netdb_store *s)
{
	return s->ri_bytes;
}

size_t netdb_store_ls_bytes(const struct netdb_store *s)
{
	return s->ls_bytes;
}

const struct netdb_ri_entry *netdb_store_ri_at(const struct netdb_store *s,
					       size_t i)
{
	return i < s->n_all ? s->all[i] : NULL;
}

const struct netdb_ri_entry *netdb_store_ff_at(const struct netdb_store *s,
					       size_t i)
{
	return i < s->n_ff ? s->ff[i] : NULL;
}

const struct netdb_ls_entry *netdb_store_ls_at(const struct netdb_store *s,
					       size_t i)
{
	return i < s->n_ls ? s->ls[i] : NULL;
}

void netdb_store_closest(const struct netdb_store *s, bool floodfills,
			 netdb_store_filter_fn filter, void *ctx,
			 struct netdb_closest *out)
{
	struct netdb_ri_entry *const *arr = floodfills ? s->ff : s->all;
	size_t n = floodfills ? s->n_ff : s->n_all;

	for (size_t i = 0; i < n; i++) {
		const struct netdb_ri_entry *e = arr[i];
		if (!floodfills && (e->flags & NETDB_RI_FLOODFILL))
			continue;
		if (filter && !filter(ctx, e))
			continue;
		netdb_closest_add(out, e->hash, (void *)(uintptr_t)e);
	}
}

/* ---- expiry ---- */

uint64_t netdb_store_ri_expiry_ms(const struct netdb_store *s)
{
	uint64_t ms;

	if (s->cfg.floodfill)
		return NETDB_EXPIRE_SHORT_MS;
	if (s->n_all < NETDB_EXPIRE_FULL_ROUTERS)
		return NETDB_EXPIRE_MAX_MS;
	ms = NETDB_EXPIRE_MAX_MS * NETDB_EXPIRE_FULL_ROUTERS / s->n_all;
	return ms < NETDB_EXPIRE_MIN_MS ? NETDB_EXPIRE_MIN_MS : ms;
}

size_t netdb_store_expire(struct netdb_store *s, uint64_t now_ms,
			  uint64_t uptime_ms)
{
	size_t removed = 0, i;
	uint64_t limit = netdb_store_ri_expiry_ms(s);

	for (i = 0; i < s->n_ls;) {
		struct netdb_ls_entry *e = s->ls[i];
		if (leaseset_expires_ms(e->ls) + LEASESET_CLOCK_FUDGE_MS <=
		    now_ms) {
			netdb_store_remove_ls(s, e->key);	/* swaps in last */
			removed++;
		} else {
			i++;
		}
	}
	if (uptime_ms < NETDB_EXPIRE_GRACE_MS ||
	    s->n_all <= NETDB_EXPIRE_MIN_ROUTERS)
		return removed;
	for (i = 0; i < s->n_all && s->n_all > NETDB_EXPIRE_MIN_ROUTERS;) {
		struct netdb_ri_entry *e = s->all[i];
		uint64_t lim = (e->flags & NETDB_RI_INTRODUCERS) &&
			       limit > NETDB_EXPIRE_SHORT_MS ?
				       NETDB_EXPIRE_SHORT_MS : limit;
		if (e->published_ms + lim < now_ms) {
			netdb_store_remove_ri(s, e->hash);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}
