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
 *   inbound.length, outbound.length (0-7), inbound.quantity,
 *   outbound.quantity (1-16)  this destination's tunnels (default: the
 *                             router's client tunnels)
 *   i2cp.leaseSetType = 5     server/web: publish an encrypted LeaseSet
 *                             (b33 address); 1 or 3: a plain LeaseSet2
 *   i2cp.leaseSetAuthType = 0 | 1 | 2   none, per-client DH, per-client
 *                             PSK, with the clients'
 *   i2cp.leaseSetClient.dh.N = [name:]B64   X25519 public keys, or
 *   i2cp.leaseSetClient.psk.N = [name:]B64  pre-shared keys (32 bytes)
 *   i2cp.leaseSetPrivKey = B64  client: our key (X25519 private key or
 *                             PSK) for per-client encrypted LeaseSets
 *   i2cp.leaseSetSecret = B64  the lookup secret (UTF-8, in base64 as in
 *                             Java I2P): server/web blind their b33
 *                             address with it, clients look b33
 *                             addresses up with it
 *
 * "web" is ours: the built-in static web server on a free loopback port,
 * published like a server tunnel.  Other i2pd keys are accepted and
 * ignored.  Host names are never resolved: hosts are IPv4 literals.
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
/* i2cp.leaseSetClient.* entries per tunnel (ELS2_MAX_CLIENTS) */
#define TUNCONF_MAX_LS_CLIENTS 64
#define TUNCONF_MAX_LS_SECRET_BYTES 128	/* i2cp.leaseSetSecret */

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
	/* tunnels: -1 the router's */
	int in_length, out_length, in_quantity, out_quantity;
	/* encrypted LeaseSet (server, web) */
	bool ls_encrypted;
	unsigned ls_auth;		/* 0 none, 1 DH, 2 PSK */
	uint8_t (*ls_clients)[32];	/* owned; n_ls_clients keys */
	size_t n_ls_clients;
	/* client: i2cp.leaseSetPrivKey (secret) */
	bool has_ls_priv_key;
	uint8_t ls_priv_key[32];
	/* i2cp.leaseSetSecret, decoded (owned, secret); NULL: none */
	uint8_t *ls_secret;
	size_t ls_secret_len;
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
