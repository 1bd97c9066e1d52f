/*
 * RouterInfo (common-structures spec, "RouterInfo"; network-database page
 * for the options): what a router publishes about itself.
 *
 * Wire form: RouterIdentity ‖ published Date ‖ address count (1) ‖
 * RouterAddresses ‖ peer count (1, always 0) ‖ options Mapping ‖ signature
 * over every byte before it (length from the identity's signing type).
 *
 * A decoded RouterInfo keeps the exact received bytes; verification and any
 * re-send use them, never a re-encoding (PROTOCOLS.md 0.1).  A RouterInfo
 * we build is encoded canonically (options sorted, expirations zero) and
 * signed by the keystore; changing it afterwards drops the signed bytes
 * until the next router_info_sign().
 *
 * The file format of i2pd's router.info and netDb/r?/routerInfo-*.dat is
 * just these bytes (checked against i2pd 2.45.1's files).
 *
 * Ownership: router_info_new()/router_info_decode() return an object the
 * caller frees with router_info_free().  Not thread-safe; one owner.
 */
#ifndef ROUTER_ROUTER_INFO_H
#define ROUTER_ROUTER_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "crypto/keystore.h"
#include "router/keys_and_cert.h"
#include "router/mapping.h"
#include "router/router_address.h"

/* i2pd 2.45.1 refuses a RouterInfo of 3072 bytes or more in DatabaseStore. */
#define ROUTER_INFO_MAX_BYTES 3071
/* Our policy: real routers publish at most a handful (NTCP2/SSU2 × v4/v6). */
#define ROUTER_INFO_MAX_ADDRESSES 16
/* Our policy: options entries of its addresses and its own together (a
 * router with NTCP2 and SSU2 over both families and three introducers
 * publishes about 60). */
#define ROUTER_INFO_MAX_ENTRIES 128
/* A RouterInfo published more than 2 minutes in the future is refused
 * (i2pd NetDb; PROTOCOLS.md 2.2). */
#define ROUTER_INFO_MAX_FUTURE_MS (2 * 60 * 1000)
/* The router.version we announce (PROTOCOLS.md 2.17). */
#define ROUTER_INFO_VERSION "0.9.58"
/* "routerInfo-" ‖ Base64(hash) (44) ‖ ".dat" ‖ NUL */
#define ROUTER_INFO_FILE_NAME_BYTES (11 + 44 + 4 + 1)
/* Pack a router.version a.b.c for comparison. */
#define ROUTER_VERSION(a, b, c) \
	((uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c))

struct router_info;

/* A new, unsigned RouterInfo for identity id (copied), published now
 * (time_now_ms()), no addresses, no options.  Caller owns the result. */
struct router_info *router_info_new(const struct keys_and_cert *id);
/* Release ri and all it owns.  Accepts NULL. */
void router_info_free(struct router_info *ri);
/* The heap ri and all it owns take (alloc_cost of each block). */
size_t router_info_heap_bytes(const struct router_info *ri);

void router_info_set_published(struct router_info *ri, uint64_t ms);
/*
 * Append an address.  Takes a's content on every path (a is left empty).
 * ERR_LIMIT when ri already has ROUTER_INFO_MAX_ADDRESSES.
 */
int router_info_add_address(struct router_info *ri, struct router_address *a);
/* Set an option (replacing).  ERR_TOO_BIG for a key or value > 255 bytes. */
int router_info_set_option(struct router_info *ri, const char *key,
			   const char *value);
/* Set `caps`, `netId` (1-255) and `router.version` = ROUTER_INFO_VERSION.
 * ERR_ARG for a bad netid or caps. */
int router_info_set_basic_options(struct router_info *ri, unsigned netid,
				  const char *caps);

/*
 * Encode and sign ri with ks's Ed25519 identity key; afterwards
 * router_info_bytes() returns the result.  Errors: ERR_ARG (ks does not hold
 * the identity's signing key, or the identity is not Ed25519), ERR_TOO_BIG
 * (over ROUTER_INFO_MAX_BYTES, or an oversize Mapping).
 */
int router_info_sign(struct router_info *ri, const struct keystore *ks);

/*
 * Decode len bytes (untrusted) into a new RouterInfo (*out, caller owns).
 * The whole buffer must be one RouterInfo.  Does not verify the signature:
 * call router_info_verify().  A rejection is logged at info, rate-limited.
 * Errors: ERR_TOO_BIG (over ROUTER_INFO_MAX_BYTES, too many addresses or
 * options entries), ERR_TRUNCATED, ERR_FORMAT (bad field or trailing bytes), ERR_DUPLICATE
 * (duplicate option key), ERR_UNSUPPORTED (unknown certificate/key type).
 */
int router_info_decode(const uint8_t *buf, size_t len,
		       struct router_info **out);
/*
 * Verify the signature over the signed bytes.  Errors: ERR_BAD_STATE (ri was
 * changed since it was decoded or signed), ERR_UNSUPPORTED (a signing type
 * we cannot check: only Ed25519 is supported), ERR_BAD_SIG.
 */
int router_info_verify(const struct router_info *ri);

/* The signed bytes (borrowed, valid until ri changes), or NULL when ri has
 * not been signed since its last change. */
const uint8_t *router_info_bytes(const struct router_info *ri, size_t *len);
const struct keys_and_cert *router_info_identity(const struct router_info *ri);
/* The router hash: SHA-256 of the identity bytes (borrowed). */
const uint8_t *router_info_hash(const struct router_info *ri);
uint64_t router_info_published(const struct router_info *ri);
size_t router_info_address_count(const struct router_info *ri);
/* Address i (borrowed), or NULL when i is out of range. */
const struct router_address *router_info_address(const struct router_info *ri,
						 size_t i);
/* The first address with transport style `style`, or NULL. */
const struct router_address *
router_info_find_address(const struct router_info *ri, const char *style);
/* The value of option key (borrowed), or NULL. */
const char *router_info_option(const struct router_info *ri, const char *key);
const struct mapping *router_info_options(const struct router_info *ri);

/* 0 when ri's `netId` option is netid; ERR_NETWORK when it is missing,
 * malformed or different. */
int router_info_check_netid(const struct router_info *ri, unsigned netid);
/* 0 unless ri was published more than ROUTER_INFO_MAX_FUTURE_MS after
 * now_ms (ERR_EXPIRED). */
int router_info_check_published(const struct router_info *ri, uint64_t now_ms);
/*
 * Parse a router.version "a.b.c" (each 0-255) into ROUTER_VERSION(a, b, c).
 * ERR_FORMAT otherwise.  *out is written only on success.
 */
int router_info_version_parse(const char *s, uint32_t *out);

/* The netDb file name "routerInfo-<Base64 hash>.dat" for hash.  ERR_TOO_BIG
 * when outlen < ROUTER_INFO_FILE_NAME_BYTES. */
int router_info_file_name(const uint8_t hash[SHA256_BYTES], char *out,
			  size_t outlen);
/*
 * Read and decode the RouterInfo file at path (i2pd's format: the raw
 * bytes).  Does not verify.  Errors: those of fsutil_read_file() (ERR_IO,
 * ERR_NOT_FOUND, ERR_TOO_BIG) and router_info_decode().
 */
int router_info_file_read(const char *path, struct router_info **out);
/* Write ri's signed bytes to path, atomically (replacing).  Errors:
 * ERR_BAD_STATE (not signed), ERR_IO. */
int router_info_file_write(const struct router_info *ri, const char *path);

#endif /* ROUTER_ROUTER_INFO_H */
