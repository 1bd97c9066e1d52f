/*
 * Browsing and hosting over I2P streaming (issue [P]): the HTTP proxy
 * (127.0.0.1:4444 by default), the SOCKS 4/4a/5 proxy (4447), client
 * tunnels (a local port to one remote destination) and server tunnels (a
 * local TCP service published as a destination), all over a
 * struct client_net (apps/client/net.h): localnet in tests, tunnelnet in
 * bitsd.
 *
 * Names: "<52 chars>.b32.i2p" is looked up on the network (the proxy
 * waits for the lookup, up to lookup_timeout_ms); other "*.i2p" names
 * come from the address book; b33 addresses (encrypted LeaseSets) are
 * blinded for today and looked up through the network's lookup_blinded
 * hook (a per-client one opens with the destination's client key,
 * proxy_dest_set_leaseset_key()).  Nothing is ever given to the system resolver: a
 * name that is not I2P, or an IP literal, is clearnet, refused unless an
 * outproxy is configured (HTTP only), and then it goes through the
 * overlay to the outproxy.
 *
 * Each local destination (struct proxy_dest) has one stream manager;
 * the proxies usually share one, each server tunnel has its own
 * (persistent keys, inbound limits in its stream_config).
 * Thread: the loop thread only.  Ownership: the caller owns the proxy and
 * frees it before the network and the address book it borrows.
 */
#ifndef APPS_PROXY_PROXY_H
#define APPS_PROXY_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/client/dest.h"
#include "apps/client/net.h"
#include "apps/client/pump.h"
#include "apps/client/stream.h"
#include "apps/proxy/http.h"
#include "apps/proxy/siteauth.h"

struct evloop;
struct addrbook;
struct proxy;		/* opaque */
struct proxy_dest;	/* opaque; owned by its proxy */

#define PROXY_HTTP_DEFAULT_PORT 4444
#define PROXY_SOCKS_DEFAULT_PORT 4447
#define PROXY_LOOKUP_TIMEOUT_MS 30000	/* a b32 LeaseSet lookup */
#define PROXY_HEAD_TIMEOUT_MS 30000	/* a client's request head */
#define PROXY_CONNECT_TIMEOUT_MS 60000	/* a server tunnel's local dial */
#define PROXY_LOOKUP_POLL_MS 250
/* b33: both days' blinded keys this close to midnight UTC */
#define PROXY_B33_MIDNIGHT_S (15 * 60)
#define PROXY_MAX_CONNS_DEFAULT 512
#define PROXY_OUT_HIGH_BYTES CLIENT_PUMP_OUT_HIGH_BYTES	/* stop reading the stream */
#define PROXY_SUB_MAX_BYTES (16 * 1024 * 1024)	/* a subscription's hosts.txt */
#define PROXY_SUB_TIMEOUT_MS (5 * 60 * 1000)
#define PROXY_SUB_FIRST_MS (3 * 60 * 1000)	/* i2pd's first fetch */
#define PROXY_SUB_INTERVAL_MS (12 * 3600 * 1000)
#define PROXY_SUB_VALIDATOR_MAX_BYTES 256	/* an ETag we keep */
/* bitsd's proxy and tunnel streams (the library's defaults are smaller) */
#define PROXY_STREAM_WINDOW 256			/* packets */
#define PROXY_STREAM_RECV_BYTES (1024 * 1024)

struct proxy_cfg {
	/* An outproxy's name (b32 or address book): clearnet HTTP goes
	 * there through the overlay.  NULL: clearnet is refused. */
	const char *outproxy;
	uint32_t lookup_timeout_ms, head_timeout_ms, connect_timeout_ms;
	unsigned max_conns;		/* client sockets and streams */
	struct stream_config stream;	/* defaults for proxy_dest_add() */
};

enum proxy_kind {
	PROXY_HTTP,		/* HTTP proxy */
	PROXY_SOCKS,		/* SOCKS 4, 4a and 5 */
	PROXY_CLIENT		/* client tunnel: every socket to one target */
};

struct proxy_stats {
	uint64_t accepted, refused_clearnet, unknown_host, lookup_timeouts;
	uint64_t bad_requests, streams_out, streams_in, helper_added;
	uint64_t subs_fetched, subs_failed, subs_unchanged;
	uint64_t els_refused;	/* b33: no access, or it did not open */
	uint64_t keepalive_reuses;	/* a client's next request, same socket */
};

void proxy_cfg_default(struct proxy_cfg *c);
/* ab and net (copied; its context) are borrowed and outlive p.  Never
 * fails; caller owns *out. */
struct proxy *proxy_new(struct evloop *el, const struct client_net *net,
			struct addrbook *ab, const struct proxy_cfg *cfg);
/* Close everything, detach every destination, release p.  Accepts NULL. */
void proxy_free(struct proxy *p);
void proxy_stats(const struct proxy *p, struct proxy_stats *out);

/*
 * Serve d (taken on every path) on the network, its streams made with sc
 * (NULL: the proxy's).  ERR_EXISTS when the network serves it already.
 * *out is borrowed until proxy_free().
 */
int proxy_dest_add(struct proxy *p, struct client_dest *d,
		   const struct stream_config *sc, struct proxy_dest **out);
const struct keys_and_cert *proxy_dest_pub(const struct proxy_dest *pd);
/* The client key pd opens per-client encrypted LeaseSets with (32
 * bytes, copied: an X25519 private key or a PSK, i2pd's
 * i2cp.leaseSetPrivKey); NULL: none. */
void proxy_dest_set_leaseset_key(struct proxy_dest *pd, const uint8_t *key);
/* The lookup secret pd blinds b33 addresses with when their "secret
 * required" flag is set (len bytes, copied; the UTF-8 secret of I2P's
 * i2cp.leaseSetSecret); NULL: none, and such addresses get 403. */
void proxy_dest_set_lookup_secret(struct proxy_dest *pd,
				  const uint8_t *secret, size_t len);
/* One b33 site's own key and/or secret (copied), used for it instead of
 * pd's (apps/proxy/siteauth.h).  ERR_EXISTS for a site given before,
 * ERR_LIMIT past PROXY_SITE_AUTH_MAX. */
int proxy_dest_add_site_auth(struct proxy_dest *pd,
			     const struct proxy_site_auth *a);

/*
 * Listen on host:port (an IPv4 literal; port 0: any) for kind, through
 * pd.  PROXY_CLIENT sends every connection to target (a b32 name, an
 * address-book name or a base64 Destination) port target_port.  *bound
 * (may be NULL) gets the port.  ERR_IO when it cannot listen, ERR_ARG for
 * a bad host.
 */
int proxy_listen(struct proxy *p, enum proxy_kind kind, struct proxy_dest *pd,
		 const char *host, uint16_t port, const char *target,
		 uint16_t target_port, uint16_t *bound);
/*
 * Server tunnel: streams that reach pd (on any port) are joined to new
 * TCP connections to host:port (an IPv4 literal).  ERR_EXISTS when pd serves already.
 */
int proxy_serve(struct proxy *p, struct proxy_dest *pd, const char *host,
		uint16_t port);
/* Bytes a server tunnel's service has sent into its streams so far. */
uint64_t proxy_dest_served(const struct proxy_dest *pd);

/*
 * The result of proxy_fetch(): err 0 with the response head r and the
 * body (both borrowed for the call), or ERR_NOT_FOUND (unknown name, no LeaseSet),
 * ERR_TIMEOUT, ERR_TOO_BIG (over max_bytes), ERR_FORMAT (not HTTP),
 * ERR_NETWORK (the stream failed).
 */
typedef void (*proxy_fetch_fn)(void *ctx, int err,
			       const struct http_resp *r,
			       const uint8_t *body, size_t len);
/*
 * GET url ("http://NAME.i2p/path", a b32, b33 or address-book name)
 * through the overlay as pd, as an HTTP/1.0 request with the proxy's
 * User-Agent and headers ("Name: value\r\n" lines; NULL: none); the
 * response may be up to max_bytes.  fn runs once, from
 * a later callback, unless p is freed first.  ERR_ARG for a URL that is
 * not an I2P http:// URL.
 */
int proxy_fetch(struct proxy *p, struct proxy_dest *pd, const char *url,
		const char *headers, size_t max_bytes, uint32_t timeout_ms,
		proxy_fetch_fn fn, void *ctx);

/*
 * An address-book subscription: GET url (an I2P http:// URL of a
 * hosts.txt) through pd after first_ms and then every interval_ms, and
 * merge each 200 answer into the address book (addrbook_merge(): plain
 * lines add unknown names, signed commands are verified first).  Later
 * fetches are conditional (If-None-Match, If-Modified-Since with the
 * last 200's ETag and Last-Modified): a 304 leaves the book as it is.
 * ERR_ARG for a URL that is not an I2P http:// URL.
 */
int proxy_subscribe(struct proxy *p, struct proxy_dest *pd, const char *url,
		    uint32_t first_ms, uint32_t interval_ms);

#endif /* APPS_PROXY_PROXY_H */
