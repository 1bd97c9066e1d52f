/*
 * Peer profiles for tunnel building (geti2p.net/docs/how/peer-selection,
 * "Peer Profiling"): per router, how its tunnel build requests went
 * (accepted, rejected, no answer in time) and how the tunnels it was in
 * did in tunnel tests.  Peer selection (tunnels/peer_select.h) reads them
 * to rank peers into tiers and to skip failing ones.
 *
 * Persistence: one SQLite database (DATADIR/profiles.sqlite).  The table
 * lives on the loop; peer_profiles_snapshot() copies it into plain rows
 * that peer_profiles_db_save() writes on a worker thread, and
 * peer_profiles_db_load() reads rows (worker) that peer_profiles_merge()
 * puts back (loop).  Schema (version 2): profiles(hash PRIMARY KEY,
 * build_ok, build_reject, build_timeout, test_ok, test_fail, last_ok,
 * last_fail, build_ms), times in milliseconds since the epoch, build_ms
 * the average build reply time (0: none yet); a version 1 database gets
 * the build_ms column when opened.
 *
 * Load: when builds time out because our own machine or links are slow,
 * every hop of every build is blamed, and soon every peer looks failing.
 * Three things keep that from stalling the pools: timeouts weigh half a
 * rejection and fade faster than the rest (PEER_PROFILE_TIMEOUT_DECAY_MS),
 * a reply that comes after the timeout takes the blame back
 * (peer_profiles_record_late()), and peer selection falls back to the
 * least bad failing peers rather than building nothing.
 *
 * Unreachable: a router that stopped answering must leave our tunnels
 * at once, not after the failing tier has caught up with it (one build
 * every 20 s through it, minutes).  PEER_PROFILE_UNREACHABLE_TIMEOUTS
 * build timeouts in a row, with no answer of any kind between them, or
 * a failed connection (peer_profiles_mark_unreachable()), mark the peer
 * unreachable for PEER_PROFILE_UNREACHABLE_MS, doubled for each further
 * mark up to PEER_PROFILE_UNREACHABLE_MAX_MS; any answer (a build reply,
 * even a rejection, or a passed test) clears the mark, and so does a
 * session with it coming up (peer_profiles_mark_reachable(): a router
 * started again connects to its neighbours at once, and new tunnels take
 * it again then, not when the mark runs out, up to 8 minutes later; the
 * count of marks stays, so one that keeps failing is marked longer).  Java's
 * TunnelPeerSelector leaves out peers the transports found unreachable
 * the same way.  The mark is not persisted.
 *
 * Thread: the table is for one thread; the db functions are blocking and
 * touch only their arguments.
 */
#ifndef TUNNELS_PROFILE_H
#define TUNNELS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PEER_PROFILES_FILE_NAME "profiles.sqlite"
#define PEER_PROFILES_SCHEMA_VERSION 2
/* Memory bound: profiles beyond this are not kept. */
#define PEER_PROFILES_MAX 8192
/* A peer is failing when at least this many of its recent build
 * attempts ended, and less than a quarter of them were accepted (a
 * timeout counting as half an attempt)... */
#define PEER_PROFILE_MIN_ATTEMPTS 4
/* ...or when its last failure is this recent, after its last success,
 * and it failed at least twice and more often than it succeeded (a quick
 * back-off, like Java's "failing" tier). */
#define PEER_PROFILE_BACKOFF_MS (2ULL * 60 * 1000)
/* Counters are halved this often, so old history fades... */
#define PEER_PROFILE_DECAY_MS (60ULL * 60 * 1000)
/* ...and build timeouts this often: a timeout is blamed on every hop of
 * the build (we cannot tell which one was slow), and under load on all
 * of them, so that blame must not last. */
#define PEER_PROFILE_TIMEOUT_DECAY_MS (10ULL * 60 * 1000)
/* Unreachable marks (see above). */
#define PEER_PROFILE_UNREACHABLE_TIMEOUTS 2
#define PEER_PROFILE_UNREACHABLE_MS (60ULL * 1000)
#define PEER_PROFILE_UNREACHABLE_MAX_MS (8ULL * 60 * 1000)
/* Marks older than this are forgotten: the next starts short again. */
#define PEER_PROFILE_UNREACHABLE_FORGET_MS (30ULL * 60 * 1000)
/* Build reply times: a new one weighs a quarter of the average. */
#define PEER_PROFILE_BUILD_MS_WEIGHT 4

enum peer_event {
	PEER_BUILD_OK,		/* accepted our build request */
	PEER_BUILD_REJECT,	/* replied with a non-zero code */
	PEER_BUILD_TIMEOUT,	/* was in a build that got no reply */
	PEER_TEST_OK,		/* in a tunnel whose test passed */
	PEER_TEST_FAIL,		/* in a tunnel whose test failed */
};

/* One peer's record; also the persisted row. */
struct peer_profile {
	uint8_t hash[32];
	uint32_t build_ok, build_reject, build_timeout;
	uint32_t test_ok, test_fail;
	uint64_t last_ok_ms, last_fail_ms;	/* wall clock; 0: never */
	uint32_t build_ms;	/* average build reply time; 0: unknown */
	/* not persisted: */
	uint32_t timeouts_row;	/* build timeouts since the last answer */
	uint32_t unreach_marks;	/* marks since the last answer */
	uint64_t unreach_until_ms;	/* wall clock; 0: not marked */
};

struct peer_profiles;	/* opaque */

/* New empty table.  Never NULL; caller owns it. */
struct peer_profiles *peer_profiles_new(void);
void peer_profiles_free(struct peer_profiles *p);
size_t peer_profiles_count(const struct peer_profiles *p);
/* The profile of hash (borrowed until the table changes), or NULL. */
const struct peer_profile *peer_profiles_get(const struct peer_profiles *p,
					     const uint8_t hash[32]);
/* Count ev for hash at now_ms (wall clock); a new profile is made unless
 * the table is full. */
void peer_profiles_record(struct peer_profiles *p, const uint8_t hash[32],
			  enum peer_event ev, uint64_t now_ms);
/* hash accepted our build request and the reply took ms: counted as
 * PEER_BUILD_OK, and ms goes into the average build time. */
void peer_profiles_record_build(struct peer_profiles *p, const uint8_t hash[32],
				uint32_t ms, uint64_t now_ms);
/* The reply of a build we had given up on (PEER_BUILD_TIMEOUT recorded
 * for hash) came after all: the timeout is taken back, and ev
 * (PEER_BUILD_OK with the reply time ms, or PEER_BUILD_REJECT) counted. */
void peer_profiles_record_late(struct peer_profiles *p, const uint8_t hash[32],
			       enum peer_event ev, uint32_t ms, uint64_t now_ms);
/* hash did not answer (a failed connection): mark it unreachable at
 * now_ms (wall clock); a new profile is made unless the table is full. */
void peer_profiles_mark_unreachable(struct peer_profiles *p,
				    const uint8_t hash[32], uint64_t now_ms);
/* A session with hash came up (either way): its unreachable mark, if
 * any, is lifted.  Makes no profile. */
void peer_profiles_mark_reachable(struct peer_profiles *p,
				  const uint8_t hash[32]);
/* Halve every counter (the caller's timer, each PEER_PROFILE_DECAY_MS). */
void peer_profiles_decay(struct peer_profiles *p);
/* Halve the build timeouts only (each PEER_PROFILE_TIMEOUT_DECAY_MS). */
void peer_profiles_decay_timeouts(struct peer_profiles *p);

/* Failing: to be left out of new tunnels.  pr may be NULL (unknown). */
bool peer_profile_is_failing(const struct peer_profile *pr, uint64_t now_ms);
/* Marked unreachable at now_ms.  pr may be NULL (unknown: false). */
bool peer_profile_is_unreachable(const struct peer_profile *pr,
				 uint64_t now_ms);
/* Capacity score, higher is better (accepted builds and passed tests
 * against rejections, timeouts and failed tests).  NULL: 0.  Peer
 * selection takes failing peers in this order when it must. */
int64_t peer_profile_capacity(const struct peer_profile *pr);
/* Has this peer's tunnels passed tests (Java's "fast" needs speed data;
 * ours is tested throughput of any kind).  NULL: false. */
bool peer_profile_is_proven(const struct peer_profile *pr);

/* Copy every profile into *rows (n of them; caller frees). */
void peer_profiles_snapshot(const struct peer_profiles *p,
			    struct peer_profile **rows, size_t *n);
/* Put rows loaded from disk in (replacing what is there for a hash). */
void peer_profiles_merge(struct peer_profiles *p,
			 const struct peer_profile *rows, size_t n);

/*
 * Blocking (worker thread): write rows to the database at path, replacing
 * its content, in one transaction.  ERR_IO on an SQLite error.
 */
int peer_profiles_db_save(const char *path, const struct peer_profile *rows,
			  size_t n);
/*
 * Blocking (worker thread): read the database at path (untrusted) into
 * *rows (caller frees), at most PEER_PROFILES_MAX; rows with a malformed
 * hash are skipped.  A missing file is 0 rows.  ERR_IO on an SQLite error.
 */
int peer_profiles_db_load(const char *path, struct peer_profile **rows,
			  size_t *n);

#endif /* TUNNELS_PROFILE_H */
