/*
 * Local destinations for streaming and datagrams: the keys of
 * router/dest_keys.h (the private key format of SAM and i2pd) held in
 * secure memory (STYLE.md §6), signing through client_dest_signer() so
 * callers never copy the key.  Only Ed25519 destinations without offline
 * keys can sign here; others decode with ERR_UNSUPPORTED.
 * Thread: any, one destination per thread at a time.
 */
#ifndef APPS_CLIENT_DEST_H
#define APPS_CLIENT_DEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/client/stream_packet.h"
#include "crypto/base/bytes.h"
#include "router/els2.h"
#include "router/keys_and_cert.h"

struct client_dest;	/* opaque */
struct dest_keys;

/* A new random Ed25519 + X25519 destination (dest_keys_generate()).
 * Never returns NULL; caller owns it. */
struct client_dest *client_dest_new_random(void);
/*
 * Decode a private key blob (untrusted, e.g. from a SAM client): the
 * errors of dest_keys_decode(), ERR_FORMAT for a signing key that does not
 * match its Destination, ERR_UNSUPPORTED for another signing type or
 * offline keys.  *out is a new destination the caller owns.
 */
int client_dest_decode(const uint8_t *buf, size_t len,
		       struct client_dest **out);
/* Append the private key blob (secret: the caller wipes it). */
void client_dest_encode_private(const struct client_dest *d, struct bbuf *out);
/* The public Destination (borrowed; lives as long as d). */
const struct keys_and_cert *client_dest_pub(const struct client_dest *d);
/* The keys (borrowed; live as long as d; secret parts stay in place). */
const struct dest_keys *client_dest_keys(const struct client_dest *d);
/* A signer for streaming packets by d (borrows d). */
void client_dest_signer(const struct client_dest *d, struct stream_signer *out);
/* Append a repliable datagram (datagrams spec) from d carrying payload.
 * ERR_TOO_BIG over DATAGRAM_MAX_PAYLOAD_BYTES. */
int client_dest_datagram_encode(const struct client_dest *d,
				const void *payload, size_t len,
				struct bbuf *out);
/* Tunnels a destination asks for (SAM's inbound.length, ...); -1 leaves
 * the router's setting. */
struct client_tunnel_opts {
	int in_length, out_length;	/* hops, 0..7 */
	int in_quantity, out_quantity;	/* tunnels, 1..16 */
};
/* Set d's tunnel options (copied; default: all -1). */
void client_dest_set_tunnel_opts(struct client_dest *d,
				 const struct client_tunnel_opts *o);
const struct client_tunnel_opts *
client_dest_tunnel_opts(const struct client_dest *d);
/* The LeaseSet a destination publishes: a LeaseSet2 (default), or an
 * encrypted one (b33 address; router/els2.h) for everybody
 * (auth ELS2_AUTH_NONE) or for the clients listed: their X25519 public
 * keys (ELS2_AUTH_DH) or pre-shared keys (ELS2_AUTH_PSK). */
struct client_ls_opts {
	bool encrypted;
	enum els2_auth auth;
	const uint8_t (*clients)[32];
	size_t n_clients;		/* 1..ELS2_MAX_CLIENTS with auth */
	/* the blinding's secret (b33 flag "secret required"); NULL: none */
	const uint8_t *secret;
	size_t secret_len;
};
/* Set d's LeaseSet options (copied, the client keys too).  ERR_ARG for
 * a client count out of range. */
int client_dest_set_ls_opts(struct client_dest *d,
			    const struct client_ls_opts *o);
const struct client_ls_opts *client_dest_ls_opts(const struct client_dest *d);
/*
 * The destination whose private key blob is the file at path, or a new
 * random one written there (mode 0600) when the file is missing.  Errors:
 * the file's (ERR_IO, ...) and client_dest_decode()'s for a file that is
 * not a key (logged).  *out is a new destination the caller owns.
 */
int client_dest_load_or_create(const char *path, struct client_dest **out);
/*
 * Write k's address ("<52 chars>.b32.i2p\n") to DATADIR/name atomically
 * (mode 0644: it is public) and log it as "what: our destination is ...".
 * Returns the file's error, logged.
 */
int client_dest_write_b32(const char *dir, const char *name,
			  const struct keys_and_cert *k, const char *what);
/* Wipe and release d.  Accepts NULL. */
void client_dest_free(struct client_dest *d);

#endif /* APPS_CLIENT_DEST_H */
