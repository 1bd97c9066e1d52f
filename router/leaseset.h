/*
 * LeaseSets, the destination half of the netDb (common-structures spec,
 * "Lease", "LeaseSet", "Lease2", "OfflineSignature", "LeaseSet2Header",
 * "LeaseSet2", "MetaLease", "MetaLeaseSet", "EncryptedLeaseSet"; I2NP
 * DatabaseStore types 1, 3, 7 and 5).
 *
 * One struct leaseset holds any of the four types.  Decoding keeps the
 * exact received bytes (verification and any re-send use them) and checks
 * structure and every length against its limit; leaseset_verify() checks
 * the signatures and leaseset_check_time() the timestamps, so a netDb
 * calls all three before it stores anything.
 *
 * What each type allows us to validate:
 *  - LeaseSet (1): the Destination's signature over every byte before it.
 *  - LeaseSet2 (3) and MetaLeaseSet (7): the signature over the store type
 *    byte followed by every byte before it, by the Destination's key, or by
 *    the transient key of an OfflineSignature that the Destination signed
 *    (itself checked, with its expiry).
 *  - EncryptedLeaseSet (5): only the outer layer (blinded key, times,
 *    flags, ciphertext) and its signature by the blinded key (or a
 *    transient key it signed); decrypting the inner LeaseSet needs the
 *    b33 address's data and lives with the client code.
 * Signatures we can check: Ed25519 (7) and RedDSA (11, verified as
 * Ed25519).  Others give ERR_UNSUPPORTED.
 *
 * Encoders build LS1, LS2 and meta LS (and the outer encrypted layer) and
 * sign through a callback, so a destination's key stays wherever its owner
 * keeps it.
 *
 * Ownership: leaseset_decode() returns an object the caller frees with
 * leaseset_free().  Pointers it hands out borrow from it.  Not
 * thread-safe; one owner (a const one may be read from any thread).
 */
#ifndef ROUTER_LEASESET_H
#define ROUTER_LEASESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "router/keys_and_cert.h"
#include "router/mapping.h"

/* Equal to the DatabaseStore type (i2np.h I2NP_STORE_*). */
enum leaseset_type {
	LEASESET_LS1 = 1,
	LEASESET_LS2 = 3,
	LEASESET_ENC_LS2 = 5,
	LEASESET_META = 7,
};

/* i2pd 2.45.1's MAX_LS_BUFFER_SIZE: the largest LeaseSet it stores. */
#define LEASESET_MAX_BYTES 3072
/* "num ... value: 0 <= num <= 16" (LeaseSet and LeaseSet2). */
#define LEASESET_MAX_LEASES 16
/* MetaLeaseSet "num ... max TBD", "numr ... max TBD": our caps. */
#define LEASESET_MAX_META_LEASES 16
#define LEASESET_MAX_REVOCATIONS 16
/* LeaseSet2 "numk ... 1 <= numk <= max TBD": our cap. */
#define LEASESET_MAX_ENC_KEYS 8
/* An encryption key of a type we do not know may be up to this long. */
#define LEASESET_MAX_ENC_KEY_BYTES 512
#define LEASESET1_ENC_KEY_BYTES 256
#define LEASE_BYTES 44
#define LEASE2_BYTES 40
#define META_LEASE_BYTES 40
#define LEASESET_HASH_BYTES 32

/* LeaseSet2Header / EncryptedLeaseSet flags. */
#define LEASESET_FLAG_OFFLINE 0x0001u
#define LEASESET_FLAG_UNPUBLISHED 0x0002u
#define LEASESET_FLAG_BLINDED 0x0004u	/* LS2 header only */

/* How far ahead a LeaseSet may expire: Java's floodfill limits (15
 * minutes; a MetaLeaseSet's 16-bit expires field allows 18.2 hours, and
 * an encrypted one may carry a MetaLeaseSet). */
#define LEASESET_MAX_FUTURE_MS (15 * 60 * 1000)
#define LEASESET_META_MAX_FUTURE_MS (65535ULL * 1000 + 2 * 60 * 1000)
/* A LeaseSet2 published this far in the future is refused (the same
 * clock allowance as for RouterInfos). */
#define LEASESET_PUBLISHED_MAX_FUTURE_MS (2 * 60 * 1000)
/* i2pd keeps using a lease this long after its end date. */
#define LEASESET_CLOCK_FUDGE_MS 60000

/*
 * One lease.  For a Lease (LS1) and a Lease2 (LS2) gateway is the tunnel
 * gateway's router hash; for a MetaLease it is the hash of a gateway or of
 * another MetaLeaseSet, tunnel_id is 0, and meta_flags (24 bits; bits 3-0
 * the entry's type) and meta_cost are set.
 */
struct lease {
	uint8_t gateway[LEASESET_HASH_BYTES];
	uint32_t tunnel_id;
	uint64_t end_ms;	/* Lease2/MetaLease carry seconds; kept as ms */
	uint32_t meta_flags;
	uint8_t meta_cost;
};

/* One encryption key of a LeaseSet2 (or the LS1's ElGamal key, type 0). */
struct leaseset_enc_key {
	uint16_t type;			/* enum cert_enc_type, or unknown */
	uint16_t len;
	const uint8_t *key;		/* borrowed from the LeaseSet */
};

/* The OfflineSignature of a LeaseSet2Header or EncryptedLeaseSet. */
struct leaseset_offline {
	uint32_t expires_s;
	uint16_t sig_type;		/* of the transient key */
	const uint8_t *transient_key;	/* borrowed */
	size_t transient_key_len;
	const uint8_t *sig;		/* by the Destination / blinded key */
	size_t sig_len;
};

struct leaseset;

/*
 * Decode len bytes (untrusted) of a LeaseSet of the given type into a new
 * object (*out, caller owns).  The whole buffer must be one LeaseSet.
 * Checks structure and limits only: call leaseset_verify() and
 * leaseset_check_time() before trusting it.  Errors: ERR_TOO_BIG (over
 * LEASESET_MAX_BYTES or a count over its cap), ERR_TRUNCATED, ERR_FORMAT
 * (a bad field, a key length that does not match its type, no leases in
 * a LeaseSet2 or MetaLeaseSet, trailing bytes), ERR_UNSUPPORTED (a type
 * that is not a LeaseSet, or a certificate or key type the spec does not
 * define).  Does not log.
 */
int leaseset_decode(enum leaseset_type type, const uint8_t *buf, size_t len,
		    struct leaseset **out);
/* Release ls.  Accepts NULL. */
void leaseset_free(struct leaseset *ls);
/* The heap ls and all it owns take (alloc_cost of each block). */
size_t leaseset_heap_bytes(const struct leaseset *ls);

/*
 * Check every signature: the offline signature (if any) by the
 * Destination or blinded key, then the LeaseSet's own.  Errors:
 * ERR_UNSUPPORTED (a signature type we cannot verify), ERR_BAD_SIG.
 */
int leaseset_verify(const struct leaseset *ls);
/*
 * Check the times at now_ms: ERR_EXPIRED when ls has expired (for LS1 and
 * LS2 also when every lease has ended, allowing LEASESET_CLOCK_FUDGE_MS),
 * expires too far ahead (LEASESET_MAX_FUTURE_MS, or the MetaLeaseSet
 * limit), was published too far ahead, or its offline signature expired.
 */
int leaseset_check_time(const struct leaseset *ls, uint64_t now_ms);

enum leaseset_type leaseset_type(const struct leaseset *ls);
/* The received (or encoded) bytes, borrowed. */
const uint8_t *leaseset_bytes(const struct leaseset *ls, size_t *len);
/*
 * The netDb key (borrowed, 32 bytes): SHA-256 of the Destination, or for
 * an EncryptedLeaseSet SHA-256 of the blinded sig type (2 bytes, big
 * endian) and the blinded public key (encryptedleaseset spec).
 */
const uint8_t *leaseset_key(const struct leaseset *ls);
/* The Destination (borrowed), or NULL for an EncryptedLeaseSet. */
const struct keys_and_cert *leaseset_destination(const struct leaseset *ls);
/*
 * The version a newer copy must exceed: the published time for the LS2
 * types; for an LS1 (which has none) the earliest lease end, as the spec
 * says ("The earliest expiration of all the Leases is treated as the
 * timestamp or version of the LeaseSet").
 */
uint64_t leaseset_published_ms(const struct leaseset *ls);
/* When ls stops being useful: published + expires for the LS2 types, the
 * latest lease end for an LS1 (0 when it has no lease). */
uint64_t leaseset_expires_ms(const struct leaseset *ls);
/* Header flags (LEASESET_FLAG_*); 0 for an LS1. */
uint16_t leaseset_flags(const struct leaseset *ls);
/* Flag bit 1: "Should not be flooded, published, or sent in response to a
 * query." */
bool leaseset_is_unpublished(const struct leaseset *ls);
/* True when a is a newer version of the same entry than b. */
bool leaseset_is_newer(const struct leaseset *a, const struct leaseset *b);

size_t leaseset_lease_count(const struct leaseset *ls);
/* Lease i (borrowed), or NULL when out of range. */
const struct lease *leaseset_lease(const struct leaseset *ls, size_t i);
size_t leaseset_enc_key_count(const struct leaseset *ls);
/* Encryption key i (LS1: the one ElGamal key), or NULL. */
const struct leaseset_enc_key *leaseset_enc_key(const struct leaseset *ls,
						size_t i);
/* The options of an LS2 or meta LS (borrowed; empty for the others). */
const struct mapping *leaseset_options(const struct leaseset *ls);
/* MetaLeaseSet revocations. */
size_t leaseset_revocation_count(const struct leaseset *ls);
const uint8_t *leaseset_revocation(const struct leaseset *ls, size_t i);
/* The offline signature (borrowed), or NULL when there is none. */
const struct leaseset_offline *leaseset_offline(const struct leaseset *ls);
/* EncryptedLeaseSet: the blinded key's sig type and bytes, and the
 * ciphertext (borrowed); NULL for the other types. */
const uint8_t *leaseset_blinded_key(const struct leaseset *ls,
				    uint16_t *sig_type, size_t *len);
const uint8_t *leaseset_ciphertext(const struct leaseset *ls, size_t *len);

/* ---- encoding ---- */

/*
 * Sign msg (len bytes) into sig (sig_len bytes, the length for the
 * signing key's type).  Return 0 or ERR_*.
 */
typedef int (*leaseset_sign_fn)(void *ctx, uint8_t *sig, size_t sig_len,
				const uint8_t *msg, size_t len);
/* A leaseset_sign_fn for an Ed25519 key: ctx is its struct ed25519_seed
 * (borrowed). */
int leaseset_sign_ed25519(void *ctx, uint8_t *sig, size_t sig_len,
			  const uint8_t *msg, size_t len);

/* What an LS2 or meta LS says.  Everything is borrowed for the call. */
struct leaseset2_params {
	enum leaseset_type type;	/* LEASESET_LS2 or LEASESET_META */
	const struct keys_and_cert *dest;
	uint32_t published_s;
	uint16_t expires_s;		/* offset from published */
	uint16_t flags;			/* OFFLINE is set from offline */
	const struct leaseset_offline *offline;	/* NULL: none */
	const struct mapping *options;	/* NULL: empty */
	const struct leaseset_enc_key *keys;	/* LS2 */
	size_t n_keys;
	const struct lease *leases;	/* Lease2s, or MetaLeases */
	size_t n_leases;
	const uint8_t (*revocations)[LEASESET_HASH_BYTES];	/* meta */
	size_t n_revocations;
};

/*
 * Encode and sign an LS2 or meta LS, appending it to out.  sign signs
 * with the Destination's key, or the transient key when offline is set.
 * Errors: ERR_ARG (a bad type, count or key), ERR_TOO_BIG (over
 * LEASESET_MAX_BYTES), the signer's error.  out is unchanged on error.
 */
int leaseset2_encode(const struct leaseset2_params *p, leaseset_sign_fn sign,
		     void *ctx, struct bbuf *out);
/*
 * Encode and sign an LS1: dest, its 256-byte ElGamal key, the unused
 * signing key (sized for dest's signing type) and leases.  Errors as
 * leaseset2_encode().
 */
int leaseset1_encode(const struct keys_and_cert *dest,
		     const uint8_t enc_key[LEASESET1_ENC_KEY_BYTES],
		     const uint8_t *signing_key, const struct lease *leases,
		     size_t n_leases, leaseset_sign_fn sign, void *ctx,
		     struct bbuf *out);
/*
 * Encode and sign the outer layer of an EncryptedLeaseSet around
 * ciphertext (1..65535 bytes), signed by the blinded key (or the transient
 * key when offline is set).  Errors as leaseset2_encode().
 */
int leaseset_enc_encode(uint16_t blinded_sig_type, const uint8_t *blinded_key,
			uint32_t published_s, uint16_t expires_s,
			uint16_t flags, const struct leaseset_offline *offline,
			const uint8_t *ciphertext, size_t clen,
			leaseset_sign_fn sign, void *ctx, struct bbuf *out);

/*
 * The bytes an OfflineSignature's signature covers: expires (4) ‖ sig
 * type (2) ‖ transient key.  Appended to out, for a signer.
 */
void leaseset_offline_signed_bytes(uint32_t expires_s, uint16_t sig_type,
				   const uint8_t *transient_key, size_t key_len,
				   struct bbuf *out);

/*
 * Verify an Ed25519 or RedDSA signature (sig types 7 and 11) by key.
 * ERR_UNSUPPORTED for another type, ERR_FORMAT for a wrong key or
 * signature length, ERR_BAD_SIG.
 */
int leaseset_sig_verify(uint16_t sig_type, const uint8_t *key, size_t key_len,
			const void *msg, size_t len, const uint8_t *sig,
			size_t sig_len);

#endif /* ROUTER_LEASESET_H */
