/*
 * Query isolation for chain calls about addresses (the wallet and resale
 * views): what is asked about one address goes from a destination of its
 * own, so that a gateway, seeing each destination ask about one address
 * only, cannot link a wallet's addresses by who asks (Tor's stream
 * isolation, with a destination for a circuit).
 *
 * The pool keeps at most `max` destinations, each for one key (an
 * address).  A key's destination is made on first use by the open hook
 * (a destination with its own tunnels and chain client: the caller's
 * object, opaque here) and kept while taken and for idle_ms after its
 * last put, so that a view asked again soon asks from the same one; then
 * it is closed, and the key's next take makes a new one.  A new key takes
 * a free place, else the place of the destination idle longest (closed
 * first).  A destination is never handed to a second key.
 *
 * Thread: the loop thread (the hooks run in take, expire and free).
 */
#ifndef APPS_MARKET_ISO_H
#define APPS_MARKET_ISO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MARKET_ISO_DEFAULT 8		/* market.isolation's default */
#define MARKET_ISO_LIMIT 64		/* the most it may ask */
#define MARKET_ISO_IDLE_MS (10u * 60 * 1000)
#define MARKET_ISO_KEY_BYTES 20

struct market_iso_hooks {
	/* A new destination for key's calls; NULL: none can be made. */
	void *(*open)(void *ctx, const uint8_t key[MARKET_ISO_KEY_BYTES]);
	void (*close)(void *ctx, void *dest);
	void *ctx;
};

struct market_iso;	/* opaque */

/* max 1..MARKET_ISO_LIMIT (else NULL).  Caller owns it. */
struct market_iso *market_iso_new(const struct market_iso_hooks *h,
				  unsigned max, uint32_t idle_ms);
/* Close every destination (none may be taken).  Accepts NULL. */
void market_iso_free(struct market_iso *iso);
/*
 * key's destination, taken until market_iso_put(): the one it has, else a
 * new one.  NULL when all `max` are taken or open failed.  A key may be
 * taken more than once; each take is matched by a put.
 */
void *market_iso_take(struct market_iso *iso,
		      const uint8_t key[MARKET_ISO_KEY_BYTES],
		      uint64_t now_ms);
void market_iso_put(struct market_iso *iso, void *dest, uint64_t now_ms);
/* Close the destinations not taken and idle for idle_ms or more; how
 * many were closed. */
unsigned market_iso_expire(struct market_iso *iso, uint64_t now_ms);
/* Destinations open now, and how many were opened in all. */
unsigned market_iso_open_count(const struct market_iso *iso);
uint64_t market_iso_opened_total(const struct market_iso *iso);
/* fn on each open destination. */
void market_iso_each(struct market_iso *iso,
		     void (*fn)(void *arg, void *dest), void *arg);

#endif /* APPS_MARKET_ISO_H */
