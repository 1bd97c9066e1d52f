/*
 * Our router's keys on disk: DATADIR/router.keys holds the keystore
 * (crypto/keystore.h: identity signing key and X25519 static keys) plus
 * the non-secret values that must stay the same across restarts: the
 * NTCP2 IV (the RouterInfo "i" option) and the RouterIdentity padding
 * pattern (proposal 161; the router hash covers it).
 *
 * File format (ours, big-endian integers):
 *   magic "BITSRKEY" (8) ‖ version u16 = 1 ‖ NTCP2 IV (16) ‖
 *   padding pattern (32) ‖ keystore length u16 ‖ keystore blob ‖
 *   SHA-256 of all preceding bytes (32).
 *
 * The file is created once, crash-safely, mode 0600 in a 0700 directory,
 * and never rewritten: a file we cannot read is reported and left alone.
 */
#ifndef ROUTER_ROUTER_KEYS_H
#define ROUTER_ROUTER_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "router/keys_and_cert.h"

#define ROUTER_KEYS_FILE_NAME "router.keys"
#define ROUTER_KEYS_VERSION 1
#define ROUTER_KEYS_IV_BYTES 16
#define ROUTER_KEYS_PAD_BYTES 32
/* Far above any version's size; bounds the read of an untrusted file. */
#define ROUTER_KEYS_MAX_FILE_BYTES 4096

struct keystore;
struct router_keys;	/* opaque */

/* Fresh keys, IV and padding from rand_bytes().  Never returns NULL;
 * caller owns the result. */
struct router_keys *router_keys_new_random(void);
/*
 * Decode a key file (untrusted bytes).  Errors: ERR_TRUNCATED (too
 * short), ERR_FORMAT (not a key file, or trailing bytes), ERR_UNSUPPORTED
 * (a version we do not know), ERR_AUTH (checksum mismatch: corrupt), or
 * keystore_decode()'s errors.  *out is written only on success.
 */
int router_keys_decode(const uint8_t *buf, size_t len,
		       struct router_keys **out);
/* Append the file form to out.  Secret: bbuf_free() wipes it. */
void router_keys_encode(const struct router_keys *k, struct bbuf *out);
/* Wipe and release k.  Accepts NULL. */
void router_keys_free(struct router_keys *k);

/*
 * Load DATADIR/router.keys, or create it when there is none (*created
 * then true).  Makes datadir 0700 and the file 0600, fixing wider modes
 * (logged at warn).  A file that cannot be read or decoded is reported at
 * error level, with what to do, and is never modified.  Errors: those of
 * router_keys_decode(), ERR_IO (errno says why), ERR_BAD_STATE (datadir or
 * file owned by another user), ERR_FORMAT (not a directory or not a
 * regular file).  Out-params are written only on success.
 */
int router_keys_load_or_create(const char *datadir, struct router_keys **out,
			       bool *created);

/* The keystore (borrowed; lives as long as k). */
const struct keystore *router_keys_keystore(const struct router_keys *k);
/* The NTCP2 IV, ROUTER_KEYS_IV_BYTES bytes (borrowed). */
const uint8_t *router_keys_ntcp2_iv(const struct router_keys *k);
/* Our RouterIdentity: X25519 identity key, Ed25519 signing key and the
 * stored padding, so the router hash is the same on every start. */
void router_keys_identity(const struct router_keys *k,
			  struct keys_and_cert *out);

#endif /* ROUTER_ROUTER_KEYS_H */
