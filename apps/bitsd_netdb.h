/*
 * bitsd's netDb subsystem: the netDb (netdb/netdb.h) with its SQLite
 * store, the router garlic receiver (router/garlic_router.h), and the
 * hooks between them and the transport manager (STYLE.md §1: main()
 * installs hooks; the modules do not know each other).  It takes the
 * transport manager's receive, lookup and RouterInfo hooks over from the
 * interim RouterInfo table, sends through transport_send(), keeps our
 * RouterInfo published, and reseeds an empty netDb from the configured
 * sources before exploring.
 */
#ifndef APPS_BITSD_NETDB_H
#define APPS_BITSD_NETDB_H

#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct netdb;
struct router_keys;
struct transport_mgr;
struct bitsd_netdb;	/* opaque */
struct i2np_msg;

/* Offered every received message the netDb does not handle; returns true
 * when it took m (and then owns it), false to let it be dropped. */
typedef bool (*bitsd_netdb_other_fn)(void *ctx, const uint8_t peer[32],
				     struct i2np_msg *m);

/* RouterInfos are mirrored in i2pd's layout under DATADIR/netDb (the
 * directory the interim table used), and imported from it at start. */
#define BITSD_NETDB_EXPORT_DIR "netDb"
/* Our RouterInfo is rebuilt (and so republished) this often. */
#define BITSD_NETDB_RESIGN_MS (20 * 60 * 1000)

/*
 * Start the netDb for the router with keys (borrowed; they outlive it)
 * over the transport manager tm (borrowed; it outlives it).  Logs its
 * failures.  On success *out is the caller's.
 */
int bitsd_netdb_start(struct daemon *d, const struct router_keys *keys,
		      struct transport_mgr *tm, struct bitsd_netdb **out);
/* Give the transport hooks back to nobody, write the netDb, free bn.
 * Accepts NULL. */
void bitsd_netdb_stop(struct bitsd_netdb *bn);
/* The netDb (borrowed), for status. */
struct netdb *bitsd_netdb_get(struct bitsd_netdb *bn);
/* Build our RouterInfo with rr from now on (borrowed; outlives bn, or
 * NULL), and republish it now. */
struct router_self_reach;
void bitsd_netdb_set_reach(struct bitsd_netdb *bn,
			   const struct router_self_reach *rr);
/* Install (or with fn NULL remove) the handler for the other types. */
void bitsd_netdb_set_other(struct bitsd_netdb *bn, bitsd_netdb_other_fn fn,
			   void *ctx);
/* Told each peer our connection attempt to failed (failed), and each
 * peer a session with came up either way (up); install (or with NULL
 * remove) them. */
typedef void (*bitsd_netdb_peer_fn)(void *ctx, const uint8_t peer[32]);
void bitsd_netdb_set_peer_hooks(struct bitsd_netdb *bn,
				bitsd_netdb_peer_fn failed,
				bitsd_netdb_peer_fn up, void *ctx);

#endif /* APPS_BITSD_NETDB_H */
