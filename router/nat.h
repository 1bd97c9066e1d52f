/*
 * Port mapping on the NAT in front of us: NAT-PMP (RFC 6886, libnatpmp)
 * first, then UPnP IGD (miniupnpc).  The mapping is renewed at half its
 * lifetime while the object lives and removed when it is freed.
 *
 * STYLE.md §4: libnatpmp is non-blocking, so NAT-PMP runs on the loop from
 * its socket and a timer (with our own deadline: libnatpmp alone would
 * retry for two minutes); miniupnpc's discovery and SOAP calls block, so
 * UPnP runs as jobs on the worker pool that own their input, and their
 * done callbacks apply the result on the loop.
 *
 * Thread: loop thread only.  Ownership: the caller owns struct nat; it
 * must be freed before the worker pool (the pool runs the UPnP removal
 * job that nat_free() queues, and that job's done callback releases what
 * is left).
 */
#ifndef ROUTER_NAT_H
#define ROUTER_NAT_H

#include <stdbool.h>
#include <stdint.h>

struct evloop;
struct nat;		/* opaque */
struct worker_pool;

#define NAT_PROTO_UDP 1u
#define NAT_PROTO_TCP 2u

/* What we ask for (RFC 6886 recommends 7200 s; miniupnpd caps leases). */
#define NAT_DEFAULT_LIFETIME_S 3600
/* NAT-PMP gets this long before we try UPnP. */
#define NAT_DEFAULT_NATPMP_TIMEOUT_MS 4000
/* "upnpDiscover takes >= ~1 s" (TESTBEDS.md §2). */
#define NAT_DEFAULT_UPNP_DISCOVER_MS 2000
/* After a failure, everything is tried again this much later. */
#define NAT_DEFAULT_RETRY_MS (5 * 60 * 1000)

struct nat_config {
	bool natpmp, upnp;		/* methods to try, in this order */
	uint32_t lifetime_s;
	uint64_t natpmp_timeout_ms;
	int upnp_discover_ms;
	uint64_t retry_ms;
	uint32_t gateway;		/* NAT-PMP gateway, network order;
					 * 0: the default route's */
	char igd_url[128];		/* UPnP root description URL; "":
					 * discover (SSDP) */
};

enum nat_method { NAT_NONE, NAT_NATPMP, NAT_UPNP };

struct nat_status {
	bool mapped;
	enum nat_method method;
	uint32_t ext_ip;		/* network order; 0 if unknown */
	uint16_t ext_port;		/* the mapped public port */
	uint32_t lifetime_s;
	uint64_t mappings;		/* successful (re)mappings so far */
	uint64_t failures;
};

typedef void (*nat_status_fn)(void *arg, const struct nat_status *st);

void nat_config_default(struct nat_config *cfg);

/*
 * Map UDP and/or TCP (protos: NAT_PROTO_*) of local port on the NAT, and
 * keep it mapped.  fn(arg) runs on the loop after every change (mapped,
 * renewed, failed); arg must outlive the object.  el and wp are borrowed.
 * Never returns NULL; the caller owns the result.
 */
struct nat *nat_new(struct evloop *el, struct worker_pool *wp,
		    const struct nat_config *cfg, unsigned protos,
		    uint16_t port, nat_status_fn fn, void *arg);
/* Remove the mapping (NAT-PMP: a zero-lifetime request now; UPnP: a job
 * on the pool) and release n.  Accepts NULL. */
void nat_free(struct nat *n);
void nat_status(const struct nat *n, struct nat_status *out);
const char *nat_method_name(enum nat_method m);

#endif /* ROUTER_NAT_H */
