/*
 * secp256k1 through libsecp256k1 (CHAIN.md §7): keys, Ethereum addresses,
 * RFC 6979 recoverable signatures in the contracts' r ‖ s ‖ v form
 * (v = 27 + recid, low-s), recovery, ECDH whose output is the compressed
 * shared point (the library's default hashes it with SHA-256; ERC-5564
 * needs the point), and the tweaks stealth addresses need.
 *
 * One shared context, made on first use with SECP256K1_CONTEXT_NONE and
 * randomised from rand_bytes(); all functions are thread-safe.
 */
#ifndef CHAIN_SECP_H
#define CHAIN_SECP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECP_SK_BYTES 32
#define SECP_PK_BYTES 33	/* compressed */
#define SECP_PK_FULL_BYTES 65	/* 0x04 ‖ x ‖ y */
#define SECP_SIG_BYTES 65	/* r ‖ s ‖ v */
#define ETH_ADDR_BYTES 20

/* A private key; long-lived ones live in secmem (crypto/secmem.h). */
struct secp_sk {
	uint8_t b[SECP_SK_BYTES];
};
/* A public key, compressed. */
struct secp_pk {
	uint8_t b[SECP_PK_BYTES];
};

/* True when sk is in [1, n-1]. */
bool secp_sk_is_valid(const struct secp_sk *sk);
/* A fresh random valid key from rand_bytes(). */
void secp_sk_generate(struct secp_sk *sk);
/* ERR_CRYPTO for an invalid key. */
int secp_sk_pubkey(const struct secp_sk *sk, struct secp_pk *pk);
int secp_sk_address(const struct secp_sk *sk, uint8_t addr[ETH_ADDR_BYTES]);

/* Parse a 33- or 65-byte SEC1 point; ERR_FORMAT when not on the curve. */
int secp_pk_parse(struct secp_pk *pk, const uint8_t *in, size_t len);
/* 0x04 ‖ x ‖ y. */
int secp_pk_uncompressed(const struct secp_pk *pk,
			 uint8_t out[SECP_PK_FULL_BYTES]);
/* Last 20 bytes of keccak256(x ‖ y). */
int secp_pk_address(const struct secp_pk *pk, uint8_t addr[ETH_ADDR_BYTES]);

/*
 * Sign a 32-byte digest (RFC 6979 nonce, low-s).  sig = r ‖ s ‖ v with
 * v = 27 + recid.  ERR_CRYPTO for an invalid key.
 */
int secp_sign(const struct secp_sk *sk, const uint8_t digest[32],
	      uint8_t sig[SECP_SIG_BYTES]);
/* As secp_sign() but the recovery id (0/1) goes to *recid and sig is 64
 * bytes r ‖ s (EIP-1559's yParity). */
int secp_sign_recid(const struct secp_sk *sk, const uint8_t digest[32],
		    uint8_t sig64[64], int *recid);
/*
 * The address that signed digest, as OpenZeppelin's ECDSA.recover sees
 * it: v must be 27 or 28 (0 or 1 also accepted), s must be low (high-s →
 * ERR_BAD_SIG), r and s non-zero.
 */
int secp_recover(const uint8_t digest[32], const uint8_t sig[SECP_SIG_BYTES],
		 uint8_t addr[ETH_ADDR_BYTES]);
/* Recover the public key instead of the address (same rules). */
int secp_recover_pk(const uint8_t digest[32],
		    const uint8_t sig[SECP_SIG_BYTES], struct secp_pk *pk);

/* out = compress(sk · pk) (ECDH with the point-returning hash callback). */
int secp_ecdh_point(const struct secp_sk *sk, const struct secp_pk *pk,
		    uint8_t out[SECP_PK_BYTES]);
/* out = pk + t·G; ERR_CRYPTO if t ≥ n or the result is infinity. */
int secp_pk_tweak_add(struct secp_pk *out, const struct secp_pk *pk,
		      const uint8_t t[32]);
/* out = sk + t mod n; ERR_CRYPTO if t ≥ n or the result is zero. */
int secp_sk_tweak_add(struct secp_sk *out, const struct secp_sk *sk,
		      const uint8_t t[32]);

/* Format an address with the EIP-55 checksum: "0x" + 40 hex (43 bytes). */
#define ETH_ADDR_STR_BYTES 43
const char *eth_addr_format(const uint8_t addr[ETH_ADDR_BYTES], char *out,
			    size_t outlen);
/* Parse "0x" + 40 hex digits (any case; no checksum enforced). */
int eth_addr_parse(uint8_t addr[ETH_ADDR_BYTES], const char *s);

#endif /* CHAIN_SECP_H */
