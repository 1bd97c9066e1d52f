/*
 * Base 32 addresses: a plain one names a destination by its hash; those
 * for encrypted LeaseSets ("b33"; b32encrypted spec):
 * flags ‖ unblinded sig type ‖ blinded sig type ‖ public key, the first
 * three bytes XORed with CRC-32 of the rest, in lowercase Base32 with the
 * usual ".b32.i2p" suffix.  56 or more characters, against 52 for a plain
 * b32 address.
 *
 * Only one-byte sig types are written (the spec: "Don't expect 2-byte
 * sigtypes to ever happen"); both are read.  Public keys we can blind are
 * Ed25519 (7) and RedDSA (11), 32 bytes; other types give ERR_UNSUPPORTED.
 */
#ifndef ROUTER_B33_H
#define ROUTER_B33_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define B33_FLAG_TWO_BYTE_TYPES 0x01u
#define B33_FLAG_SECRET 0x02u		/* "secret is required" */
#define B33_FLAG_CLIENT_AUTH 0x04u	/* "client private key is required" */
#define B33_PUBKEY_BYTES 32
/* 3 + 32 bytes → 56 characters, plus ".b32.i2p" and the NUL. */
#define B33_SUFFIX ".b32.i2p"
#define B33_MAX_CHARS 72

struct b33_addr {
	uint8_t flags;			/* B33_FLAG_SECRET, _CLIENT_AUTH */
	uint16_t sig_type;		/* of pk: 7 or 11 */
	uint16_t blinded_sig_type;	/* 11 */
	uint8_t pk[B33_PUBKEY_BYTES];	/* the unblinded signing key */
};

/*
 * Write a as "<56 chars>.b32.i2p" into out (outlen bytes, NUL-terminated).
 * ERR_UNSUPPORTED for a sig type that is not 7 or 11 (or over 255),
 * ERR_TOO_BIG when out is too small.
 */
int b33_format(const struct b33_addr *a, char *out, size_t outlen);
/*
 * Parse len characters of s (untrusted; the ".b32.i2p" suffix is
 * optional, case is ignored).  Errors: ERR_FORMAT (not Base32, too short,
 * nonzero unused bits, trailing key bytes), ERR_UNSUPPORTED (a sig type
 * other than 7/11, or a blinded type other than 11).  The checksum cannot
 * fail on its own: it only masks the flags and types, so a corrupted
 * address shows as bad flags or types, or as another key.
 */
int b33_parse(const char *s, size_t len, struct b33_addr *out);

/*
 * A 32-byte hash as people write one: a plain b32 address ("<52 base32>"
 * and ".b32.i2p", the suffix in any case) or 64 hex digits; n characters
 * of s (untrusted).  False for anything else, b33 addresses included.
 */
bool b32_hash_parse(const char *s, size_t n, uint8_t hash[32]);

#endif /* ROUTER_B33_H */
