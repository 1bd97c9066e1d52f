/*
 * Client and server tunnels from a tunnels.conf file, in i2pd's format:
 *
 *   [name]
 *   type = server | http | client | web
 *   host = 127.0.0.1          server/http: the local service (IPv4)
 *   port = 8080               server/http: its port; client: listen port
 *   address = 127.0.0.1       client: listen address (default 127.0.0.1)
 *   destination = site.i2p    client: b32, address-book name or base64
 *   destinationport = 80      client: the remote port (default 0)
 *   keys = site.dat           persistent keys (under the data dir); a
 *                             client without keys is transient
 *   root = /srv/site          web: the folder the built-in server serves
 *   listing = false           web: folder listings
 *   i2p.streaming.maxConcurrentStreams, maxConnsPerMinute/Hour/Day,
 *   maxTotalConnsPerMinute/Hour/Day   inbound limits (streaming options)
 *
 * "web" is ours: the built-in static web server on a free loopback port,
 * published like a server tunnel.  Other i2pd keys (inbound.length, ...)
 * are accepted and ignored: every destination uses the proxy's tunnel
 * length.  Host names are never resolved: hosts are IPv4 literals.
 * Thread: any (pure).
 */
#ifndef APPS_PROXY_TUNCONF_H
#define APPS_PROXY_TUNCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TUNCONF_MAX_TUNNELS 64
#define TUNCONF_MAX_BYTES (256 * 1024)
#define TUNCONF_NAME_MAX_BYTES 64

enum tunconf_type { TUNCONF_SERVER, TUNCONF_CLIENT, TUNCONF_WEB };

struct tunconf_entry {
	char name[TUNCONF_NAME_MAX_BYTES + 1];
	enum tunconf_type type;
	char host[16];			/* IPv4 literal */
	uint16_t port;
	char *destination;		/* client (owned) */
	uint16_t destination_port;
	char *keys;			/* file name (owned); NULL: none */
	char *root;			/* web (owned) */
	bool listing;
	/* inbound limits (0: none) */
	unsigned max_streams;
	unsigned per_minute, per_hour, per_day;
	unsigned total_minute, total_hour, total_day;
};

struct tunconf {
	struct tunconf_entry e[TUNCONF_MAX_TUNNELS];
	size_t n;
};

/*
 * Parse text (len bytes) into a new *out the caller frees with
 * tunconf_free().  Errors: ERR_FORMAT / ERR_RANGE / ERR_TOO_BIG with
 * "line N: why" in err.
 */
int tunconf_parse(const char *text, size_t len, struct tunconf **out,
		  char *err, size_t errlen);
void tunconf_free(struct tunconf *tc);

#endif /* APPS_PROXY_TUNCONF_H */
