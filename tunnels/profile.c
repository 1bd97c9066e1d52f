/*
 * Peer profiles (tunnels/profile.h).  A keymap finds a profile by hash;
 * an array holds them all for snapshots.
 */
#include "config.h"
#include "tunnels/profile.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "netdb/keymap.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct peer_profiles {
	struct keymap *map;		/* hash -> struct peer_profile * */
	struct peer_profile **all;
	size_t n, cap;
};

struct peer_profiles *peer_profiles_new(void)
{
	struct peer_profiles *p = xzalloc(sizeof(*p));

	p->map = keymap_new();
	return p;
}

void peer_profiles_free(struct peer_profiles *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->all[i]);
	free(p->all);
	keymap_free(p->map);
	free(p);
}

size_t peer_profiles_count(const struct peer_profiles *p)
{
	return p->n;
}

const struct peer_profile *peer_profiles_get(const struct peer_profiles *p,
					     const uint8_t hash[32])
{
	return keymap_get(p->map, hash);
}

/* The profile of hash, made if absent; NULL when the table is full. */
static struct peer_profile *get_or_add(struct peer_profiles *p,
				       const uint8_t hash[32])
{
	struct peer_profile *pr = keymap_get(p->map, hash);

	if (pr)
		return pr;
	if (p->n >= PEER_PROFILES_MAX)
		return NULL;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->all = xrealloc(p->all, p->cap * sizeof(*p->all));
	}
	pr = xzalloc(sizeof(*pr));
	memcpy(pr->hash, hash, 32);
	p->all[p->n++] = pr;
	keymap_put(p->map, hash, pr);
	return pr;
}

static void inc(uint32_t *c)
{
	if (*c < UINT32_MAX)
		(*c)++;
}

static void mark(struct peer_profile *pr, uint64_t now_ms)
{
	uint64_t ms = PEER_PROFILE_UNREACHABLE_MS;

	if (pr->unreach_until_ms &&
	    now_ms > pr->unreach_until_ms + PEER_PROFILE_UNREACHABLE_FORGET_MS)
		pr->unreach_marks = 0;
	for (uint32_t i = 0; i < pr->unreach_marks &&
			     ms < PEER_PROFILE_UNREACHABLE_MAX_MS; i++)
		ms *= 2;
	if (ms > PEER_PROFILE_UNREACHABLE_MAX_MS)
		ms = PEER_PROFILE_UNREACHABLE_MAX_MS;
	inc(&pr->unreach_marks);
	pr->unreach_until_ms = now_ms + ms;
}

/* It answered: no longer unreachable. */
static void answered(struct peer_profile *pr)
{
	pr->timeouts_row = 0;
	pr->unreach_marks = 0;
	pr->unreach_until_ms = 0;
}

void peer_profiles_mark_unreachable(struct peer_profiles *p,
				    const uint8_t hash[32], uint64_t now_ms)
{
	struct peer_profile *pr = get_or_add(p, hash);

	/* A mark in force is not lengthened by more of the same failure
	 * (every queued message to a dead peer reports it). */
	if (pr && !peer_profile_is_unreachable(pr, now_ms))
		mark(pr, now_ms);
}

void peer_profiles_mark_reachable(struct peer_profiles *p,
				  const uint8_t hash[32])
{
	struct peer_profile *pr = keymap_get(p->map, hash);

	if (pr)
		pr->unreach_until_ms = 0;
}

bool peer_profile_is_unreachable(const struct peer_profile *pr,
				 uint64_t now_ms)
{
	return pr && now_ms < pr->unreach_until_ms;
}

void peer_profiles_record(struct peer_profiles *p, const uint8_t hash[32],
			  enum peer_event ev, uint64_t now_ms)
{
	struct peer_profile *pr = get_or_add(p, hash);

	if (!pr)
		return;
	switch (ev) {
	case PEER_BUILD_OK:
		inc(&pr->build_ok);
		pr->last_ok_ms = now_ms;
		answered(pr);
		return;
	case PEER_BUILD_REJECT:
		inc(&pr->build_reject);
		pr->last_fail_ms = now_ms;
		answered(pr);
		return;
	case PEER_BUILD_TIMEOUT:
		inc(&pr->build_timeout);
		pr->last_fail_ms = now_ms;
		inc(&pr->timeouts_row);
		if (pr->timeouts_row >= PEER_PROFILE_UNREACHABLE_TIMEOUTS &&
		    !peer_profile_is_unreachable(pr, now_ms))
			mark(pr, now_ms);
		return;
	case PEER_TEST_OK:
		inc(&pr->test_ok);
		pr->last_ok_ms = now_ms;
		answered(pr);
		return;
	case PEER_TEST_FAIL:
		inc(&pr->test_fail);
		pr->last_fail_ms = now_ms;
		return;
	}
}

/* A build reply time into the running average. */
static void add_build_ms(struct peer_profile *pr, uint32_t ms)
{
	uint64_t w = PEER_PROFILE_BUILD_MS_WEIGHT;

	if (ms == 0)
		ms = 1;
	if (pr->build_ms == 0)
		pr->build_ms = ms;
	else
		pr->build_ms = (uint32_t)(((uint64_t)pr->build_ms * (w - 1) +
					   ms) / w);
}

void peer_profiles_record_build(struct peer_profiles *p, const uint8_t hash[32],
				uint32_t ms, uint64_t now_ms)
{
	struct peer_profile *pr = get_or_add(p, hash);

	if (!pr)
		return;
	inc(&pr->build_ok);
	pr->last_ok_ms = now_ms;
	answered(pr);
	add_build_ms(pr, ms);
}

void peer_profiles_record_late(struct peer_profiles *p, const uint8_t hash[32],
			       enum peer_event ev, uint32_t ms, uint64_t now_ms)
{
	struct peer_profile *pr = get_or_add(p, hash);

	if (!pr)
		return;
	/* The timeout may have faded already. */
	if (pr->build_timeout > 0)
		pr->build_timeout--;
	if (ev == PEER_BUILD_OK)
		peer_profiles_record_build(p, hash, ms, now_ms);
	else
		peer_profiles_record(p, hash, ev, now_ms);
}

void peer_profiles_decay(struct peer_profiles *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct peer_profile *pr = p->all[i];

		pr->build_ok /= 2;
		pr->build_reject /= 2;
		pr->build_timeout /= 2;
		pr->test_ok /= 2;
		pr->test_fail /= 2;
	}
}

void peer_profiles_decay_timeouts(struct peer_profiles *p)
{
	for (size_t i = 0; i < p->n; i++)
		p->all[i]->build_timeout /= 2;
}

/*
 * In half units: a timeout is half a rejection, since it is blamed on
 * every hop of the build while at most one of them was at fault.
 */
bool peer_profile_is_failing(const struct peer_profile *pr, uint64_t now_ms)
{
	uint64_t bad2, good2, attempts2;

	if (!pr)
		return false;
	bad2 = 2 * ((uint64_t)pr->build_reject + pr->test_fail) +
	       pr->build_timeout;
	good2 = 2 * ((uint64_t)pr->build_ok + pr->test_ok);
	attempts2 = 2 * ((uint64_t)pr->build_ok + pr->build_reject) +
		    pr->build_timeout;
	if (attempts2 >= 2 * PEER_PROFILE_MIN_ATTEMPTS &&
	    8 * (uint64_t)pr->build_ok < attempts2)
		return true;
	return pr->last_fail_ms > pr->last_ok_ms &&
	       now_ms < pr->last_fail_ms + PEER_PROFILE_BACKOFF_MS &&
	       bad2 >= 4 && bad2 > good2;
}

int64_t peer_profile_capacity(const struct peer_profile *pr)
{
	if (!pr)
		return 0;
	return 4 * (int64_t)pr->build_ok + 6 * (int64_t)pr->test_ok -
	       2 * (int64_t)pr->build_reject - (int64_t)pr->build_timeout -
	       6 * (int64_t)pr->test_fail;
}

bool peer_profile_is_proven(const struct peer_profile *pr)
{
	return pr && pr->test_ok > 0 && pr->test_ok > pr->test_fail;
}

void peer_profiles_snapshot(const struct peer_profiles *p,
			    struct peer_profile **rows, size_t *n)
{
	*rows = xcalloc(p->n ? p->n : 1, sizeof(**rows));
	for (size_t i = 0; i < p->n; i++)
		(*rows)[i] = *p->all[i];
	*n = p->n;
}

void peer_profiles_merge(struct peer_profiles *p,
			 const struct peer_profile *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct peer_profile *pr = get_or_add(p, rows[i].hash);
		struct peer_profile keep;

		if (!pr)
			continue;
		keep = *pr;		/* the unreachable mark is not on disk */
		*pr = rows[i];
		pr->timeouts_row = keep.timeouts_row;
		pr->unreach_marks = keep.unreach_marks;
		pr->unreach_until_ms = keep.unreach_until_ms;
	}
}

/* ---- SQLite (worker threads) ---- */

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS profiles ("
	" hash BLOB PRIMARY KEY, build_ok INTEGER, build_reject INTEGER,"
	" build_timeout INTEGER, test_ok INTEGER, test_fail INTEGER,"
	" last_ok INTEGER, last_fail INTEGER, build_ms INTEGER DEFAULT 0);";

/* A version 1 table has no build_ms column: add it. */
static int db_upgrade(sqlite3 *h)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(h, "SELECT build_ms FROM profiles LIMIT 0", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return SQLITE_OK;
	}
	return sqlite3_exec(h, "ALTER TABLE profiles ADD COLUMN build_ms"
			    " INTEGER DEFAULT 0;", NULL, NULL, NULL);
}

static int db_open(const char *path, sqlite3 **h)
{
	char *msg = NULL;

	if (sqlite3_open_v2(path, h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(*h, 5000);
	if (sqlite3_exec(*h, schema_sql, NULL, NULL, &msg) != SQLITE_OK ||
	    db_upgrade(*h) != SQLITE_OK ||
	    sqlite3_exec(*h, "PRAGMA user_version=2;", NULL, NULL,
			 &msg) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	log_warn(LD_TUNNEL, "profiles database %s: %s", path,
		 msg ? msg : *h ? sqlite3_errmsg(*h) : "out of memory");
	sqlite3_free(msg);
	sqlite3_close(*h);
	*h = NULL;
	return ERR_IO;
}

static uint32_t col_u32(sqlite3_stmt *st, int i)
{
	sqlite3_int64 v = sqlite3_column_int64(st, i);

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static uint64_t col_u64(sqlite3_stmt *st, int i)
{
	sqlite3_int64 v = sqlite3_column_int64(st, i);

	return v < 0 ? 0 : (uint64_t)v;
}

int peer_profiles_db_save(const char *path, const struct peer_profile *rows,
			  size_t n)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = db_open(path, &h)) != 0)
		return r;
	r = ERR_IO;
	if (sqlite3_exec(h, "BEGIN; DELETE FROM profiles;", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, "INSERT OR REPLACE INTO profiles (hash,"
			       " build_ok, build_reject, build_timeout, test_ok,"
			       " test_fail, last_ok, last_fail, build_ms) VALUES"
			       " (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct peer_profile *p = &rows[i];

		sqlite3_bind_blob(st, 1, p->hash, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, p->build_ok);
		sqlite3_bind_int64(st, 3, p->build_reject);
		sqlite3_bind_int64(st, 4, p->build_timeout);
		sqlite3_bind_int64(st, 5, p->test_ok);
		sqlite3_bind_int64(st, 6, p->test_fail);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)p->last_ok_ms);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)p->last_fail_ms);
		sqlite3_bind_int64(st, 9, p->build_ms);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
	}
	if (sqlite3_exec(h, "COMMIT;", NULL, NULL, NULL) == SQLITE_OK)
		r = 0;
out:
	if (r != 0)
		log_warn(LD_TUNNEL, "cannot write the profiles to %s: %s",
			 path, sqlite3_errmsg(h));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return r;
}

int peer_profiles_db_load(const char *path, struct peer_profile **rows,
			  size_t *n)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	struct peer_profile *out = NULL;
	size_t k = 0, cap = 0;
	int r, rc;

	*rows = NULL;
	*n = 0;
	if (access(path, F_OK) != 0)
		return 0;
	if ((r = db_open(path, &h)) != 0)
		return r;
	if (sqlite3_prepare_v2(h, "SELECT hash, build_ok, build_reject,"
			       " build_timeout, test_ok, test_fail, last_ok,"
			       " last_fail, build_ms FROM profiles", -1, &st,
			       NULL) != SQLITE_OK) {
		r = ERR_IO;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < PEER_PROFILES_MAX) {
		struct peer_profile *p;

		if (sqlite3_column_type(st, 0) != SQLITE_BLOB ||
		    sqlite3_column_bytes(st, 0) != 32)
			continue;
		if (k == cap) {
			cap = cap ? cap * 2 : 64;
			out = xrealloc(out, cap * sizeof(*out));
		}
		p = &out[k++];
		memset(p, 0, sizeof(*p));
		memcpy(p->hash, sqlite3_column_blob(st, 0), 32);
		p->build_ok = col_u32(st, 1);
		p->build_reject = col_u32(st, 2);
		p->build_timeout = col_u32(st, 3);
		p->test_ok = col_u32(st, 4);
		p->test_fail = col_u32(st, 5);
		p->last_ok_ms = col_u64(st, 6);
		p->last_fail_ms = col_u64(st, 7);
		p->build_ms = col_u32(st, 8);
	}
	r = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : ERR_IO;
out:
	if (r != 0) {
		log_warn(LD_TUNNEL, "cannot read the profiles from %s: %s",
			 path, sqlite3_errmsg(h));
		free(out);
	} else {
		*rows = out;
		*n = k;
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return r;
}
