/*
 * bitsd's network subsystem: the transport manager, NTCP2 and the interim
 * RouterInfo table (router/ri_table.h), which holds the transport hooks
 * (answering peers' DatabaseStore/DatabaseLookup) until the netDb
 * subsystem has loaded and takes them over, and which announces our
 * RouterInfo to the routers in netDb/ at start.  main() puts
 * bitsd_ntcp2_start/stop in its subsystem table; this file only wires
 * modules together (hooks, configuration, timers).  NTCP2 runs with the
 * defaults of ntcp2_config_default() (FIXME: [ntcp2] keys once the
 * configuration has them) on the configured host and port.
 */
#ifndef APPS_BITSD_NTCP2_H
#define APPS_BITSD_NTCP2_H

struct daemon;
struct router_keys;
struct bitsd_ntcp2;	/* opaque */
struct transport_mgr;

/* Routers sent our RouterInfo at start (the interim "publish"). */
#define BITSD_NTCP2_ANNOUNCE_MAX 32
/* Delay before announcing: let the listener settle. */
#define BITSD_NTCP2_ANNOUNCE_DELAY_MS 500
/* Re-sign our RouterInfo this often (peers refuse one older than 90
 * minutes in SessionConfirmed). */
#define BITSD_NTCP2_RESIGN_MS (20 * 60 * 1000)
/* Sub-directory of the data directory for RouterInfos (i2pd's name). */
#define BITSD_NTCP2_NETDB_DIR "netDb"

/*
 * Start: build and sign our RouterInfo, load DATADIR/netDb, listen on the
 * configured host and port, announce.  keys are borrowed and must outlive
 * the subsystem.  On success *out is the caller's.  Logs its failures.
 */
int bitsd_ntcp2_start(struct daemon *d, const struct router_keys *keys,
		      struct bitsd_ntcp2 **out);
/* Close everything and free bn.  Accepts NULL. */
void bitsd_ntcp2_stop(struct bitsd_ntcp2 *bn);
/* Sign our RouterInfo with rr from now on (borrowed; outlives bn, or
 * NULL), and now. */
struct router_self_reach;
void bitsd_ntcp2_set_reach(struct bitsd_ntcp2 *bn,
			   const struct router_self_reach *rr);
/* The transport manager (borrowed; lives as long as bn), for status. */
struct transport_mgr *bitsd_ntcp2_transport(struct bitsd_ntcp2 *bn);

#endif /* APPS_BITSD_NTCP2_H */
