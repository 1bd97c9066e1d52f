/*
 * The netDb client (netdb/netdb.h; network-database page "RouterInfo and
 * LeaseSet Lookup", "Exploration", "RouterInfo Storage to Floodfills";
 * PROTOCOLS.md 2.6):
 *
 *  - Iterative lookups: one floodfill at a time, the closest to the
 *    key's routing key that we have not asked yet; a DatabaseSearchReply
 *    marks it done, its unknown routers are fetched from it, and the next
 *    closest is asked shortly after (so the routers just learnt can be
 *    the next); a DatabaseStore for the key ends the lookup.  "Even if the
 *    peer does not return references closer to the search key, the lookup
 *    continues with the next-closest peer".
 *  - Exploration: random keys, as exploration lookups ("a router hash of
 *    all zeros to the don't include field") to learn non-floodfills, and
 *    as RouterInfo lookups to learn floodfills near the key.
 *  - Publishing our RouterInfo: a DatabaseStore with a random reply token
 *    to the closest floodfill, confirmed by a DeliveryStatus with that
 *    token, else the next closest after 5 s; on change and every 40
 *    minutes.
 *  - Floodfill profiles (netdb/ffprof.h): each floodfill asked is scored
 *    when its lookup ends (found, answered, "not found" for what a
 *    farther one had, silent, junk) and when it takes our stores
 *    (confirmed or not, verified or lost); bad ones are left out while
 *    others are known.
 * One timer ticks while anything waits; callbacks run from it or from the
 * message that ends a lookup, never inside netdb_lookup_start().
 */
#include "config.h"
#include "netdb/ffprof.h"
#include "netdb/keymap.h"
#include "netdb/netdb_internal.h"
#include "router/evloop.h"
#include "router/garlic_router.h"
#include "router/i2np.h"
#include "router/keys_and_cert.h"
#include "router/leaseset.h"
#include "router/router_info.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOOKUP_TICK_MS 250
/* After a search reply, wait this long for the routers it named. */
#define LOOKUP_FOLLOW_MS 500
#define LOOKUP_MAX_CBS 8
/* Routers of one search reply we fetch. */
#define LOOKUP_MAX_FETCH NETDB_SEARCH_REPLY_PEERS * 2
/* How many floodfills should hold our RouterInfo from us. */
#define PUBLISH_COPIES 2
/* The first exploration, soon after start. */
#define EXPLORE_FIRST_MS 1000
/* A store is lost when this many other floodfills say "not found" (one
 * hostile verifier alone cannot blame an honest floodfill). */
#define VERIFY_ASK 2
/* The floodfills a verified store may have gone to. */
#define VERIFY_MAX_STORED 4
/* An entry published this recently may not have been flooded to every
 * floodfill yet: "not found" of it is no fault. */
#define MISSED_GRACE_MS (60 * 1000)

/* What a floodfill asked did (TRY_STORED: one a verified store went to,
 * not asked). */
enum try_state { TRY_ASKED, TRY_REPLIED, TRY_FOUND, TRY_JUNK, TRY_STORED };

struct lookup {
	uint8_t key[32];
	enum netdb_lookup_kind kind;
	uint8_t tried[NETDB_LOOKUP_MAX_ATTEMPTS][32];
	size_t n_tried;
	bool answered[NETDB_LOOKUP_MAX_ATTEMPTS];	/* search reply came */
	uint8_t state[NETDB_LOOKUP_MAX_ATTEMPTS];	/* enum try_state */
	uint64_t asked_ms[NETDB_LOOKUP_MAX_ATTEMPTS];	/* monotonic */
	size_t n_answered;
	uint64_t deadline;		/* monotonic: next step */
	int result;			/* 1 while running */
	bool explore;			/* ends with its first answer */
	/* Verifying a store: tried[0..n_stored) are the floodfills it went
	 * to (not asked); at most VERIFY_ASK others are. */
	size_t n_stored;
	struct {
		netdb_lookup_cb cb;
		void *ctx;
	} cbs[LOOKUP_MAX_CBS];
	size_t n_cbs;
	size_t idx;
};

struct netdb_lookups {
	struct keymap *pending;		/* key -> struct lookup */
	struct lookup **arr;
	size_t n, cap;
	struct evloop_timer *tick, *explore, *publish;
	bool explore_toggle;
	/* Routers known at the last round, and the wait after it. */
	size_t explore_known;
	unsigned explore_wait_ms;
	/* Publishing our RouterInfo. */
	bool pub_active;
	uint32_t pub_token;
	uint64_t pub_deadline;
	uint8_t pub_tried[NETDB_PUBLISH_MAX_TRIES][32];
	size_t pub_n_tried, pub_confirmed;
	/* Verifying the first confirmed store: wait, then ask up to
	 * VERIFY_ASK other floodfills in turn whether they have what
	 * ver_ff confirmed (the last asked is ver_by[ver_n - 1]). */
	enum { VER_NONE, VER_WAIT, VER_ASKED } ver;
	uint8_t ver_ff[32], ver_by[VERIFY_ASK][32];
	size_t ver_n;
	uint64_t ver_deadline;
	struct ffprof *prof;
};

static void tick_cb(void *arg);
static void explore_cb(void *arg);
static void publish_cb(void *arg);
static void verify_on_search_reply(struct netdb *db, const uint8_t *sender);

void netdb_lookups_init(struct netdb *db)
{
	struct netdb_lookups *lk = xzalloc(sizeof(*lk));

	lk->pending = keymap_new();
	lk->prof = ffprof_new();
	lk->tick = evloop_timer_new(db->el, tick_cb, db);
	lk->explore = evloop_timer_new(db->el, explore_cb, db);
	lk->publish = evloop_timer_new(db->el, publish_cb, db);
	db->net->lk = lk;
}

void netdb_lookups_free(struct netdb *db)
{
	struct netdb_lookups *lk = db->net->lk;

	if (!lk)
		return;
	for (size_t i = 0; i < lk->n; i++)
		free(lk->arr[i]);
	free(lk->arr);
	keymap_free(lk->pending);
	ffprof_free(lk->prof);
	evloop_timer_free(lk->tick);
	evloop_timer_free(lk->explore);
	evloop_timer_free(lk->publish);
	free(lk);
	db->net->lk = NULL;
}

void netdb_lookups_start_timers(struct netdb *db)
{
	struct netdb_lookups *lk = db->net->lk;

	evloop_timer_arm(lk->explore, EXPLORE_FIRST_MS);
	if (db->net->self_ri)
		netdb_publish_now(db);
}

size_t netdb_lookups_pending(const struct netdb *db)
{
	return db->net->lk->n;
}

bool netdb_lookup_is_pending(const struct netdb *db, const uint8_t key[32])
{
	return keymap_get(db->net->lk->pending, key) != NULL;
}

static void tick_arm(struct netdb *db)
{
	struct netdb_lookups *lk = db->net->lk;

	if (!evloop_timer_is_armed(lk->tick) &&
	    (lk->n || lk->pub_active || lk->ver != VER_NONE))
		evloop_timer_arm(lk->tick, LOOKUP_TICK_MS);
}

static unsigned attempt_ms(const struct netdb *db)
{
	return db->cfg.lookup_attempt_ms ? db->cfg.lookup_attempt_ms
					 : NETDB_LOOKUP_ATTEMPT_MS;
}

static unsigned hedge_ms(const struct netdb *db)
{
	if (db->cfg.lookup_hedge_ms)
		return db->cfg.lookup_hedge_ms;
	return db->cfg.lookup_attempt_ms ? db->cfg.lookup_attempt_ms * 2 / 5
					 : NETDB_LOOKUP_HEDGE_MS;
}

/* ---- floodfill profiles ---- */

static void ff_note(struct netdb *db, const uint8_t ff[32],
		    enum ffprof_event ev)
{
	char h[72];

	if (ffprof_note(db->net->lk->prof, ff, ev, time_mono_ms()))
		log_notice(LD_NETDB, "floodfill %s left out for %d minutes "
			   "(last: %s)", log_safe_hash(h, sizeof(h), ff),
			   FFPROF_BAN_MS / 60000, ffprof_event_name(ev));
	else
		log_debug(LD_NETDB, "floodfill %s: %s",
			  log_safe_hash(h, sizeof(h), ff),
			  ffprof_event_name(ev));
}

bool netdb_ff_is_bad(const struct netdb *db, const uint8_t ff[32])
{
	return ffprof_is_bad(db->net->lk->prof, ff, time_mono_ms());
}

void netdb_lookups_stats(const struct netdb *db, struct netdb_stats *out)
{
	struct ffprof_stats ps;

	ffprof_stats(db->net->lk->prof, time_mono_ms(), &ps);
	out->ff_known = ps.known;
	out->ff_bad = ps.bad;
	out->ff_bans = ps.bans;
	out->ff_junk = ps.events[FFPROF_JUNK];
	out->ff_timeouts = ps.events[FFPROF_TIMEOUT];
	out->ff_missed = ps.events[FFPROF_MISSED];
	out->ff_answered = ps.events[FFPROF_ANSWERED];
	out->store_verified = ps.events[FFPROF_STORE_VERIFIED];
	out->store_lost = ps.events[FFPROF_STORE_LOST];
}

/* ---- choosing floodfills ---- */

struct tried_filter {
	const uint8_t (*tried)[32];
	size_t n;
	const uint8_t *self;
	const struct ffprof *prof;	/* NULL: bad ones too */
	uint64_t now;
};

static bool untried(void *ctx, const struct netdb_ri_entry *e)
{
	const struct tried_filter *f = ctx;

	if (memcmp(e->hash, f->self, 32) == 0 ||
	    (f->prof && ffprof_is_bad(f->prof, e->hash, f->now)))
		return false;
	for (size_t i = 0; i < f->n; i++)
		if (memcmp(e->hash, f->tried[i], 32) == 0)
			return false;
	return true;
}

/* Is there a floodfill other than us not left out? */
static bool any_good_ff(struct netdb *db, uint64_t now)
{
	struct tried_filter f = { NULL, 0, db->cfg.self, db->net->lk->prof,
				  now };
	struct netdb_closest c;
	uint8_t rk[32] = { 0 };

	netdb_closest_init(&c, rk, 1);
	netdb_store_closest(db->store, true, untried, &f, &c);
	return c.n > 0;
}

/* The floodfill closest to key's routing key not in tried, leaving out
 * bad ones while a good one is known; false if none. */
static bool closest_ff(struct netdb *db, const uint8_t key[32],
		       const uint8_t (*tried)[32], size_t n_tried,
		       uint8_t out[32])
{
	struct tried_filter f = { tried, n_tried, db->cfg.self,
				  db->net->lk->prof, time_mono_ms() };
	struct netdb_closest c;
	uint8_t rk[32];

	netdb_routing_key(key, time_now_ms(), rk);
	netdb_closest_init(&c, rk, 1);
	netdb_store_closest(db->store, true, untried, &f, &c);
	/* Bad ones only while every floodfill we know is bad (then a lookup
	 * asks them all rather than none). */
	if (!c.n && !any_good_ff(db, f.now)) {
		f.prof = NULL;
		netdb_store_closest(db->store, true, untried, &f, &c);
	}
	if (!c.n)
		return false;
	memcpy(out, c.e[0].hash, 32);
	return true;
}

/* ---- sending lookups ---- */

/* Send a DatabaseLookup for key of kind to ff, excluding the n hashes of
 * excl; replies come directly to us. */
static int send_lookup(struct netdb *db, const uint8_t ff[32],
		       const uint8_t key[32], enum netdb_lookup_kind kind,
		       const uint8_t (*excl)[32], size_t n)
{
	struct i2np_db_lookup l = { 0 };
	uint8_t ex[(NETDB_LOOKUP_MAX_ATTEMPTS + 1) * 32], tag[8];
	struct bbuf b = BBUF_INIT;
	size_t ne = 0;
	uint8_t *p;
	size_t len = 0;

	memcpy(l.key, key, 32);
	/* "If the tunnel flag is set, the reply is sent to the tunnel id
	 * at the router in from" (our inbound gateway); else to us. */
	if (db->reply_path &&
	    db->reply_path(db->reply_path_ctx, l.from, &l.reply_tunnel_id) == 0 &&
	    l.reply_tunnel_id != 0)
		l.flags = I2NP_LOOKUP_FLAG_TUNNEL;
	else
		memcpy(l.from, db->cfg.self, 32);
	for (size_t i = 0; i < n && ne < NETDB_LOOKUP_MAX_ATTEMPTS; i++)
		memcpy(ex + 32 * ne++, excl[i], 32);
	switch (kind) {
	case NETDB_LOOKUP_RI:
		l.flags |= I2NP_LOOKUP_TYPE_RI;
		break;
	case NETDB_LOOKUP_LS:
		l.flags |= I2NP_LOOKUP_TYPE_LS;
		break;
	case NETDB_LOOKUP_EXPLORE:
		l.flags |= I2NP_LOOKUP_TYPE_EXPLORE;
		/* "adds a router hash of all zeros to the don't include
		 * field" */
		memset(ex + 32 * ne++, 0, 32);
		break;
	}
	l.n_excluded = (uint16_t)ne;
	l.excluded = ex;
	/* LeaseSet lookups ask for an ECIES one-time reply: "set bit 4
	 * alone, give a 32-byte key and one 8-byte tag" (PROTOCOLS.md 2.6). */
	if (kind == NETDB_LOOKUP_LS && db->cfg.garlic) {
		l.flags |= I2NP_LOOKUP_FLAG_ECIES;
		l.has_reply_key = true;
		garlic_router_new_tag(db->cfg.garlic, l.reply_key, tag,
				      time_mono_ms() +
				      NETDB_LOOKUP_ATTEMPT_MS * 2);
		l.n_tags = 1;
		l.tag_len = 8;
		l.tags = tag;
	}
	i2np_db_lookup_encode(&l, &b);
	memwipe(l.reply_key, sizeof(l.reply_key));
	p = bbuf_steal(&b, &len);
	db->st.lookups_sent++;
	return netdb_send(db, ff, i2np_msg_new_take(I2NP_DATABASE_LOOKUP, p,
						    len, NETDB_MSG_TTL_MS),
			  (l.flags & I2NP_LOOKUP_FLAG_TUNNEL) != 0);
}

/* ---- the lookup life cycle ---- */

static void lookup_remove(struct netdb *db, struct lookup *L)
{
	struct netdb_lookups *lk = db->net->lk;
	struct lookup *last = lk->arr[--lk->n];

	lk->arr[L->idx] = last;
	last->idx = L->idx;
	keymap_remove(lk->pending, L->key);
}

/* Is the entry L found (in our store now) younger than MISSED_GRACE_MS? */
static bool found_is_fresh(struct netdb *db, const struct lookup *L)
{
	const struct netdb_ri_entry *ri;
	const struct netdb_ls_entry *ls;
	uint64_t pub = 0;

	if (L->kind == NETDB_LOOKUP_LS &&
	    (ls = netdb_store_find_ls(db->store, L->key)) != NULL)
		pub = leaseset_published_ms(ls->ls);
	else if (L->kind == NETDB_LOOKUP_RI &&
		 (ri = netdb_store_find_ri(db->store, L->key)) != NULL)
		pub = ri->published_ms;
	return pub + MISSED_GRACE_MS > time_now_ms();
}

/* Score the floodfills L asked, now that it ends with r; for a
 * verification, those the store went to: verified when a floodfill asked
 * had it, lost when those asked all said "not found". */
static void lookup_score(struct netdb *db, const struct lookup *L, int r)
{
	bool found = false, fresh;

	for (size_t i = 0; i < L->n_tried; i++)
		found |= L->state[i] == TRY_FOUND;
	/* Not yet flooded everywhere (a LeaseSet looked up the moment it is
	 * out): a "not found" of it says nothing, good or bad. */
	fresh = found && found_is_fresh(db, L);
	for (size_t i = 0; i < L->n_tried; i++) {
		switch ((enum try_state)L->state[i]) {
		case TRY_STORED:
			if (r == 0)
				ff_note(db, L->tried[i], FFPROF_STORE_VERIFIED);
			else if (r == ERR_NOT_FOUND && L->n_tried > L->n_stored)
				ff_note(db, L->tried[i], FFPROF_STORE_LOST);
			break;
		case TRY_FOUND:
			ff_note(db, L->tried[i], FFPROF_FOUND);
			break;
		case TRY_REPLIED:
			/* "Not found" from a floodfill when another had it.
			 * An exploration's answer proves nothing: any router
			 * can name some (a Sybil naming only its accomplices
			 * earned a point an exploration). */
			if (fresh || L->explore)
				break;
			ff_note(db, L->tried[i],
				found ? FFPROF_MISSED : FFPROF_ANSWERED);
			break;
		case TRY_JUNK:		/* scored when it came */
			break;
		case TRY_ASKED:
			/* Silent: a timeout, unless the lookup ended before
			 * its time was up (silent past the hedge while a
			 * later one answered counts). */
			if (r != 0 || i + 1 < L->n_tried)
				ff_note(db, L->tried[i], FFPROF_TIMEOUT);
			break;
		}
	}
}

/* End L with result r: remove it, then run its callbacks. */
static void lookup_finish(struct netdb *db, struct lookup *L, int r)
{
	lookup_score(db, L, r);
	lookup_remove(db, L);
	if (r == 0)
		db->st.lookups_succeeded++;
	else
		db->st.lookups_failed++;
	for (size_t i = 0; i < L->n_cbs; i++)
		L->cbs[i].cb(L->cbs[i].ctx, L->key, r);
	free(L);
}

/* Ask the next floodfill; false when there is none or the lookup is
 * over. */
static bool lookup_step(struct netdb *db, struct lookup *L)
{
	uint8_t ff[32];

	if (L->n_tried >= NETDB_LOOKUP_MAX_ATTEMPTS ||
	    (L->n_stored && L->n_tried >= L->n_stored + VERIFY_ASK) ||
	    !closest_ff(db, L->key, (const uint8_t (*)[32])L->tried,
			L->n_tried, ff))
		return false;
	L->asked_ms[L->n_tried] = time_mono_ms();
	memcpy(L->tried[L->n_tried++], ff, 32);
	(void)send_lookup(db, ff, L->key, L->kind,
			  (const uint8_t (*)[32])L->tried, L->n_tried - 1);
	/* Silent until then: the next is asked too. */
	L->deadline = time_mono_ms() + hedge_ms(db);
	return true;
}

/* When the last attempt of L still open (asked, silent) is up; 0 when
 * none is. */
static uint64_t open_until(const struct netdb *db, const struct lookup *L)
{
	uint64_t end = 0;

	for (size_t i = L->n_stored; i < L->n_tried; i++)
		if (L->state[i] == TRY_ASKED &&
		    L->asked_ms[i] + attempt_ms(db) > end)
			end = L->asked_ms[i] + attempt_ms(db);
	return end;
}

/* netdb_lookup_start(); explore: a random key, done at its first
 * answer; stored (n_stored of them): verify a store that went there. */
static int lookup_begin(struct netdb *db, const uint8_t key[32],
			enum netdb_lookup_kind kind, bool explore,
			const uint8_t (*stored)[32], size_t n_stored,
			netdb_lookup_cb cb, void *ctx)
{
	struct netdb_lookups *lk = db->net->lk;
	struct lookup *L = keymap_get(lk->pending, key);

	if (!db->sender.send)
		return ERR_BAD_STATE;
	if (L && n_stored)		/* not while another is running */
		return ERR_EXISTS;
	if (L) {			/* join the running one */
		if (cb && L->n_cbs < LOOKUP_MAX_CBS) {
			L->cbs[L->n_cbs].cb = cb;
			L->cbs[L->n_cbs++].ctx = ctx;
		}
		return cb && L->n_cbs == LOOKUP_MAX_CBS ? ERR_LIMIT : 0;
	}
	if (lk->n >= NETDB_LOOKUP_MAX_PENDING)
		return ERR_LIMIT;
	L = xzalloc(sizeof(*L));
	memcpy(L->key, key, 32);
	L->kind = kind;
	L->explore = explore || kind == NETDB_LOOKUP_EXPLORE;
	L->result = 1;
	for (; L->n_stored < n_stored && L->n_stored < VERIFY_MAX_STORED;
	     L->n_stored++) {
		memcpy(L->tried[L->n_stored], stored[L->n_stored], 32);
		L->state[L->n_stored] = TRY_STORED;
	}
	L->n_tried = L->n_stored;
	if (cb) {
		L->cbs[0].cb = cb;
		L->cbs[0].ctx = ctx;
		L->n_cbs = 1;
	}
	if (lk->n == lk->cap) {
		lk->cap = lk->cap ? lk->cap * 2 : 16;
		lk->arr = xrealloc(lk->arr, lk->cap * sizeof(*lk->arr));
	}
	L->idx = lk->n;
	lk->arr[lk->n++] = L;
	keymap_put(lk->pending, L->key, L);
	db->st.lookups_started++;
	/* No floodfill at all: the next tick reports the failure. */
	if (!lookup_step(db, L))
		L->deadline = time_mono_ms();
	tick_arm(db);
	return 0;
}

int netdb_lookup_start(struct netdb *db, const uint8_t key[32],
		       enum netdb_lookup_kind kind, netdb_lookup_cb cb,
		       void *ctx)
{
	return lookup_begin(db, key, kind, false, NULL, 0, cb, ctx);
}

int netdb_verify_store(struct netdb *db, const uint8_t key[32],
		       enum netdb_lookup_kind kind, const uint8_t (*stored)[32],
		       size_t n_stored, netdb_lookup_cb cb, void *ctx)
{
	if (!n_stored || kind == NETDB_LOOKUP_EXPLORE)
		return ERR_ARG;
	return lookup_begin(db, key, kind, false, stored, n_stored, cb, ctx);
}

int netdb_lookup_cancel(struct netdb *db, const uint8_t key[32])
{
	struct lookup *L = keymap_get(db->net->lk->pending, key);

	if (!L)
		return ERR_NOT_FOUND;
	lookup_remove(db, L);
	free(L);
	return 0;
}

/* The index in L->tried of the floodfill that sent an answer: peer when
 * it is one asked, else (through our tunnel, which hides the sender) the
 * last one asked; SIZE_MAX when none. */
static size_t answerer(const struct lookup *L, const uint8_t *peer)
{
	for (size_t i = L->n_stored; peer && i < L->n_tried; i++)
		if (memcmp(L->tried[i], peer, 32) == 0)
			return i;
	return L->n_tried > L->n_stored ? L->n_tried - 1 : SIZE_MAX;
}

/* A refusal that says the answer was junk: it failed validation (not
 * "we have it already", "store full", or our own hash). */
static bool is_junk(int err)
{
	return err != 0 && err != ERR_EXISTS && err != ERR_LIMIT &&
	       err != ERR_ARG;
}

void netdb_lookup_on_store(struct netdb *db, const uint8_t *peer,
			   const uint8_t key[32], int err)
{
	struct lookup *L = keymap_get(db->net->lk->pending, key);
	size_t who;

	if (!L)
		return;
	who = peer ? answerer(L, peer) : SIZE_MAX;
	/* ERR_EXISTS: we have it already, which is what the lookup wants. */
	if (err == 0 || err == ERR_EXISTS) {
		if (who != SIZE_MAX)
			L->state[who] = TRY_FOUND;
		lookup_finish(db, L, 0);
		return;
	}
	/* A transport's RouterInfo names no floodfill; an answer from a
	 * router we did not ask is not scored. */
	if (!peer || !is_junk(err) || who == SIZE_MAX ||
	    L->state[who] != TRY_ASKED)
		return;
	L->state[who] = TRY_JUNK;
	ff_note(db, L->tried[who], FFPROF_JUNK);
	if (!L->answered[who]) {
		L->answered[who] = true;
		L->n_answered++;
	}
	/* Ask the next one now. */
	L->deadline = time_mono_ms();
	tick_arm(db);
}

/* Fetch router h from the floodfill that named it (fire and forget: its
 * DatabaseStore is stored like any other). */
static void fetch_router(struct netdb *db, const uint8_t from[32],
			 const uint8_t h[32])
{
	(void)send_lookup(db, from, h, NETDB_LOOKUP_RI, NULL, 0);
}

void netdb_lookup_on_search_reply(struct netdb *db, const uint8_t peer[32],
				  const struct i2np_search_reply *sr)
{
	static const uint8_t via_tunnel[32];
	struct lookup *L = keymap_get(db->net->lk->pending, sr->key);
	size_t fetched = 0, who = SIZE_MAX;
	/* Only answers to what we asked, from whom we asked, once.  A reply
	 * through our tunnel names the floodfill only in "from". */
	const uint8_t *sender = memcmp(peer, via_tunnel, 32) == 0 ? sr->from
								  : peer;

	if (memcmp(sr->key, db->cfg.self, 32) == 0) {
		verify_on_search_reply(db, sender);
		return;
	}
	if (!L)
		return;
	for (size_t i = L->n_stored; i < L->n_tried; i++)
		if (memcmp(L->tried[i], sender, 32) == 0)
			who = i;
	if (who == SIZE_MAX || L->answered[who])
		return;
	L->answered[who] = true;
	L->state[who] = TRY_REPLIED;
	for (size_t i = 0; i < sr->n_peers && fetched < LOOKUP_MAX_FETCH; i++) {
		const uint8_t *h = sr->peers + 32 * i;
		if (memcmp(h, db->cfg.self, 32) == 0 ||
		    netdb_store_find_ri(db->store, h))
			continue;
		fetch_router(db, L->tried[who], h);
		fetched++;
	}
	/* An exploration (of either kind: its key is random, so no
	 * floodfill has it) ends with its first answer; a lookup goes on
	 * with the next closest floodfill, once the new routers had a
	 * moment to arrive. */
	if (L->explore) {
		lookup_finish(db, L, 0);
		return;
	}
	L->n_answered++;
	L->deadline = time_mono_ms() + (fetched ? LOOKUP_FOLLOW_MS : 0);
	tick_arm(db);
}

/* ---- publishing ---- */

/*
 * Store our RouterInfo (gz, len) to the floodfill ff with reply token.
 * Once there is a reply path (our exploratory tunnels are up) the store
 * goes out through an outbound tunnel in Noise_N garlic to ff's router
 * key, so the OBEP cannot read it, and asks for the DeliveryStatus
 * through our inbound tunnel (as i2pd and Java I2P store through
 * tunnels); before that, or when ff has no X25519 key, directly with
 * the reply to us ("reply tunnel 0, gateway = our hash").
 */
static int publish_send(struct netdb *db, const uint8_t ff[32],
			const uint8_t *gz, size_t len, uint32_t token)
{
	const struct router_info *ri = netdb_get_ri(db, ff);
	struct x25519_pk pk;
	struct i2np_msg *m;
	uint8_t gw[32];
	uint32_t tid = 0;

	if (db->reply_path && ri &&
	    keys_and_cert_x25519_pk(router_info_identity(ri), &pk) == 0 &&
	    db->reply_path(db->reply_path_ctx, gw, &tid) == 0 && tid != 0 &&
	    (m = garlic_wrap_for_router(
		     netdb_store_msg_new(db->cfg.self, I2NP_STORE_RI, gz, len,
					 token, tid, gw),
		     &pk)) != NULL) {
		char h[72];

		log_info(LD_NETDB, "storing our RouterInfo to %s through a "
			 "tunnel", log_safe_hash(h, sizeof(h), ff));
		return netdb_send(db, ff, m, true);
	}
	return netdb_send(db, ff, netdb_store_msg_new(db->cfg.self,
						      I2NP_STORE_RI, gz, len,
						      token, 0, db->cfg.self),
			  false);
}

static void publish_next(struct netdb *db)
{
	struct netdb_lookups *lk = db->net->lk;
	size_t len;
	const uint8_t *gz = netdb_self_gz(db, &len);
	uint8_t ff[32];

	lk->pub_active = false;
	if (!gz || lk->pub_confirmed >= PUBLISH_COPIES ||
	    lk->pub_n_tried >= NETDB_PUBLISH_MAX_TRIES)
		return;
	if (!closest_ff(db, db->cfg.self, (const uint8_t (*)[32])lk->pub_tried,
			lk->pub_n_tried, ff)) {
		if (!lk->pub_confirmed)
			evloop_timer_arm(lk->publish, NETDB_PUBLISH_RETRY_MS);
		return;
	}
	memcpy(lk->pub_tried[lk->pub_n_tried++], ff, 32);
	do
		rand_bytes(&lk->pub_token, sizeof(lk->pub_token));
	while (!lk->pub_token);
	if (publish_send(db, ff, gz, len, lk->pub_token) == 0)
		db->st.publish_sent++;
	lk->pub_active = true;
	lk->pub_deadline = time_mono_ms() + NETDB_PUBLISH_CONFIRM_MS;
	tick_arm(db);
}

void netdb_publish_now(struct netdb *db)
{
	struct netdb_lookups *lk = db->net->lk;

	if (!db->net->self_ri || !db->sender.send)
		return;
	lk->pub_n_tried = 0;
	lk->pub_confirmed = 0;
	lk->ver = VER_NONE;
	publish_next(db);
	evloop_timer_arm(lk->publish, NETDB_PUBLISH_INTERVAL_MS);
}

void netdb_publish_changed(struct netdb *db)
{
	if (db->net->started && !db->cfg.passive)
		netdb_publish_now(db);
}

bool netdb_publish_on_status(struct netdb *db, uint32_t msg_id)
{
	struct netdb_lookups *lk = db->net->lk;
	char h[72];

	if (!lk->pub_active || msg_id != lk->pub_token)
		return false;
	db->st.publish_confirmed++;
	lk->pub_confirmed++;
	log_info(LD_NETDB, "our RouterInfo is published (confirmed by %s)",
		 log_safe_hash(h, sizeof(h),
			       lk->pub_tried[lk->pub_n_tried - 1]));
	ff_note(db, lk->pub_tried[lk->pub_n_tried - 1],
		FFPROF_STORE_CONFIRMED);
	if (lk->pub_confirmed == 1) {
		/* Verify the first copy before sending the next. */
		lk->pub_active = false;
		lk->ver = VER_WAIT;
		memcpy(lk->ver_ff, lk->pub_tried[lk->pub_n_tried - 1], 32);
		lk->ver_deadline = time_mono_ms() +
				   (db->cfg.verify_delay_ms ?
				    db->cfg.verify_delay_ms :
				    NETDB_VERIFY_DELAY_MS);
		tick_arm(db);
		return true;
	}
	publish_next(db);
	return true;
}

/* ---- verifying our store ---- */

/* The verification is over; ev scores the floodfill that took the store
 * (-1: it says nothing of it), and the next copy goes out. */
static void verify_end(struct netdb *db, int ev)
{
	struct netdb_lookups *lk = db->net->lk;
	char h[72];

	lk->ver = VER_NONE;
	if (ev >= 0) {
		ff_note(db, lk->ver_ff, (enum ffprof_event)ev);
		log_info(LD_NETDB, "our RouterInfo at %s: %s",
			 log_safe_hash(h, sizeof(h), lk->ver_ff),
			 ev == FFPROF_STORE_VERIFIED ? "verified elsewhere"
			 : "acknowledged, but not found elsewhere");
	}
	publish_next(db);
}

/* Ask the closest floodfill neither stored to nor asked yet, through the
 * same lookup as any other (its answer: our RouterInfo or a search
 * reply).  Out of floodfills, a "not found" already heard decides. */
static void verify_send(struct netdb *db)
{
	struct netdb_lookups *lk = db->net->lk;
	uint8_t excl[NETDB_PUBLISH_MAX_TRIES + VERIFY_ASK][32];
	size_t n = lk->pub_n_tried;

	memcpy(excl, lk->pub_tried, n * 32);
	memcpy(excl + n, lk->ver_by, lk->ver_n * 32);
	n += lk->ver_n;
	if (lk->ver_n == VERIFY_ASK ||
	    !closest_ff(db, db->cfg.self, (const uint8_t (*)[32])excl, n,
			lk->ver_by[lk->ver_n])) {
		verify_end(db, lk->ver_n ? FFPROF_STORE_LOST : -1);
		return;
	}
	(void)send_lookup(db, lk->ver_by[lk->ver_n], db->cfg.self,
			  NETDB_LOOKUP_RI, (const uint8_t (*)[32])excl, n);
	lk->ver_n++;
	lk->ver = VER_ASKED;
	lk->ver_deadline = time_mono_ms() + attempt_ms(db);
}

/* Is peer the floodfill asked last (or, all zero, our tunnel)? */
static bool from_verifier(const struct netdb_lookups *lk,
			  const uint8_t *peer)
{
	static const uint8_t via_tunnel[32];

	return lk->ver == VER_ASKED && peer &&
	       (memcmp(peer, lk->ver_by[lk->ver_n - 1], 32) == 0 ||
		memcmp(peer, via_tunnel, 32) == 0);
}

void netdb_verify_on_store(struct netdb *db, const uint8_t peer[32],
			   const uint8_t *ri, size_t len)
{
	struct netdb_lookups *lk = db->net->lk;
	bool same;

	if (!from_verifier(lk, peer))
		return;
	same = len == db->net->self_ri_len &&
	       memcmp(ri, db->net->self_ri, len) == 0;
	ff_note(db, lk->ver_by[lk->ver_n - 1], FFPROF_FOUND);
	/* Those asked before said "not found" of what this one had. */
	for (size_t i = 0; same && i + 1 < lk->ver_n; i++)
		ff_note(db, lk->ver_by[i], FFPROF_MISSED);
	/* An older RouterInfo of ours: the new one did not get there. */
	verify_end(db, same ? FFPROF_STORE_VERIFIED : FFPROF_STORE_LOST);
}

static void verify_on_search_reply(struct netdb *db, const uint8_t *sender)
{
	struct netdb_lookups *lk = db->net->lk;

	if (lk->ver != VER_ASKED ||
	    memcmp(sender, lk->ver_by[lk->ver_n - 1], 32) != 0)
		return;
	/* Scored as answered once the verification ends without a find. */
	if (lk->ver_n == VERIFY_ASK)
		for (size_t i = 0; i < lk->ver_n; i++)
			ff_note(db, lk->ver_by[i], FFPROF_ANSWERED);
	verify_send(db);
}

static void publish_cb(void *arg)
{
	netdb_publish_now(arg);
}

/* ---- exploration ---- */

/* One round of n random keys. */
static void explore_round(struct netdb *db, size_t n)
{
	struct netdb_lookups *lk = db->net->lk;
	uint8_t key[32];

	for (size_t i = 0; i < n; i++) {
		rand_bytes(key, sizeof(key));
		/* Alternate: non-floodfills near a key, floodfills near
		 * another. */
		lk->explore_toggle = !lk->explore_toggle;
		if (lookup_begin(db, key, lk->explore_toggle ?
				 NETDB_LOOKUP_EXPLORE : NETDB_LOOKUP_RI, true,
				 NULL, 0, NULL, NULL) == 0)
			db->st.explorations++;
	}
}

/* i2pd: "800 / known routers random keys, clamped to 1-9". */
static size_t explore_keys(size_t known)
{
	size_t n = known ? 800 / known : NETDB_EXPLORE_MAX_KEYS;

	return n < 1 ? 1 : n > NETDB_EXPLORE_MAX_KEYS ? NETDB_EXPLORE_MAX_KEYS
						      : n;
}

void netdb_explore_now(struct netdb *db)
{
	explore_round(db, explore_keys(netdb_store_ri_count(db->store)));
}

unsigned netdb_explore_step(struct netdb *db)
{
	struct netdb_lookups *lk = db->net->lk;
	size_t known = netdb_store_ri_count(db->store);
	bool small = known < NETDB_EXPLORE_FAST_BELOW;
	unsigned base = small ? NETDB_EXPLORE_FAST_MS
			      : NETDB_EXPLORE_INTERVAL_MS,
		 cap = small ? NETDB_EXPLORE_SMALL_MAX_MS
			     : NETDB_EXPLORE_MAX_MS;
	/* The last round (or anything since) taught us a router. */
	bool learnt = known > lk->explore_known || !lk->explore_wait_ms;

	lk->explore_known = known;
	if (learnt || lk->explore_wait_ms < base)
		lk->explore_wait_ms = base;
	else if (lk->explore_wait_ms < cap / 2)
		lk->explore_wait_ms *= 2;
	else
		lk->explore_wait_ms = cap;
	explore_round(db, learnt ? explore_keys(known) : 1);
	return lk->explore_wait_ms;
}

static void explore_cb(void *arg)
{
	struct netdb *db = arg;

	evloop_timer_arm(db->net->lk->explore, netdb_explore_step(db));
}

/* ---- the tick ---- */

static void tick_cb(void *arg)
{
	struct netdb *db = arg;
	struct netdb_lookups *lk = db->net->lk;
	uint64_t now = time_mono_ms();
	uint8_t (*due)[32] = NULL;
	size_t n = 0;

	/* Collect first: a step or a callback may start or end lookups. */
	for (size_t i = 0; i < lk->n; i++) {
		if (lk->arr[i]->deadline > now)
			continue;
		due = xrealloc(due, (n + 1) * sizeof(*due));
		memcpy(due[n++], lk->arr[i]->key, 32);
	}
	for (size_t i = 0; i < n; i++) {
		struct lookup *L = keymap_get(lk->pending, due[i]);
		if (!L || L->deadline > now)
			continue;
		/* Out of floodfills: wait for those still silent until
		 * their attempts are up; then "not found" when every one
		 * answered so, a timeout when some never did. */
		/* (A verification that could ask none: unverified.) */
		if (lookup_step(db, L))
			continue;
		if (open_until(db, L) > now)
			L->deadline = open_until(db, L);
		else
			lookup_finish(db, L,
				      L->n_answered < L->n_tried - L->n_stored ||
				      L->n_tried == L->n_stored
				      ? ERR_TIMEOUT : ERR_NOT_FOUND);
	}
	free(due);
	if (lk->pub_active && lk->pub_deadline <= now) {
		ff_note(db, lk->pub_tried[lk->pub_n_tried - 1],
			FFPROF_STORE_UNCONFIRMED);
		publish_next(db);
	}
	if (lk->ver == VER_WAIT && lk->ver_deadline <= now) {
		lk->ver_n = 0;
		verify_send(db);
	} else if (lk->ver == VER_ASKED && lk->ver_deadline <= now) {
		ff_note(db, lk->ver_by[lk->ver_n - 1], FFPROF_TIMEOUT);
		verify_end(db, -1);
	}
	tick_arm(db);
}
