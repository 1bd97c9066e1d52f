/*
 * Floodfill profiles: what each floodfill did with the lookups and stores
 * we sent it, and whether to keep asking it.
 *
 * A hostile floodfill may drop the stores it acknowledges, answer lookups
 * with junk (entries that fail validation, or under another key), name
 * only its accomplices in its search replies, or stay silent.  Java I2P
 * keeps per-floodfill counts of lookups answered and failed and of stores
 * verified (FloodfillVerifyStoreJob) and leaves out floodfills that fail;
 * this is the same idea in one place.  Each event weighs (in points):
 *
 *   good: the entry found there 2, a search reply 1, a store confirmed 1
 *         (a store verified at another floodfill is counted, worth
 *         nothing: the entry may have got there another way, as our
 *         other copies or our RouterInfo in a transport handshake, so a
 *         Sybil that keeps nothing earned 2 a store)
 *   bad:  no answer in time 1 (the answer may have been lost in our own
 *         tunnels), a store not confirmed 2, "not found" for a key a
 *         farther floodfill had 2, a junk answer 8, a confirmed store
 *         another floodfill never saw 6
 *
 * A floodfill is bad while its bad points reach FFPROF_BAD_MIN and
 * exceed its good ones: it is left out for FFPROF_BAN_MS, then comes back
 * with half its bad points (a second offence bans it sooner).  Points
 * halve every FFPROF_DECAY_MS so old history fades.  The table holds
 * FFPROF_MAX floodfills; when full, the least recently used one that is
 * not bad makes room (so a flood of new floodfills cannot wash a ban out).
 *
 * Thread: loop thread only.  Caller owns the table.
 */
#ifndef NETDB_FFPROF_H
#define NETDB_FFPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FFPROF_MAX 2048
#define FFPROF_BAD_MIN 8
#define FFPROF_BAN_MS (30 * 60 * 1000)
#define FFPROF_DECAY_MS (60 * 60 * 1000)

enum ffprof_event {
	FFPROF_FOUND,		/* answered a lookup with the entry */
	FFPROF_ANSWERED,	/* answered with a search reply */
	FFPROF_STORE_CONFIRMED,	/* acknowledged a store */
	FFPROF_STORE_VERIFIED,	/* a store it took was found elsewhere */
	FFPROF_TIMEOUT,		/* no answer to a lookup in time */
	FFPROF_STORE_UNCONFIRMED, /* no acknowledgement of a store */
	FFPROF_MISSED,		/* "not found"; a farther floodfill had it */
	FFPROF_JUNK,		/* answered with data that failed validation */
	FFPROF_STORE_LOST,	/* acknowledged a store nobody else saw */
};
#define FFPROF_N_EVENTS (FFPROF_STORE_LOST + 1)

struct ffprof;

struct ffprof_stats {
	size_t known;			/* floodfills in the table */
	size_t bad;			/* of them, left out now */
	uint64_t bans;			/* times a floodfill became bad */
	uint64_t events[FFPROF_N_EVENTS];
};

/* New empty table.  Never returns NULL. */
struct ffprof *ffprof_new(void);
void ffprof_free(struct ffprof *p);
/* Record ev for floodfill ff at monotonic time now_ms.  True when this
 * event made ff bad. */
bool ffprof_note(struct ffprof *p, const uint8_t ff[32],
		 enum ffprof_event ev, uint64_t now_ms);
/* Is ff left out at now_ms? */
bool ffprof_is_bad(const struct ffprof *p, const uint8_t ff[32],
		   uint64_t now_ms);
void ffprof_stats(const struct ffprof *p, uint64_t now_ms,
		  struct ffprof_stats *out);
const char *ffprof_event_name(enum ffprof_event ev);

#endif /* NETDB_FFPROF_H */
