/*
 * ERC-5564 scheme 1 stealth addresses with the pinned encoding of
 * CHAIN.md §4: h = keccak256 over all 33 bytes of the compressed shared
 * point, view tag = h[0], P = P_spend + h·G, spend key = p_spend + h mod n.
 */
#ifndef CHAIN_STEALTH_H
#define CHAIN_STEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/secp.h"

#define STEALTH_META_BYTES 66	/* compressed P_spend ‖ compressed P_view */

struct stealth_meta {
	struct secp_pk spend;
	struct secp_pk view;
};

/* One payment to a meta-address: the stealth address and what the payee
 * needs to find it (E and the view tag). */
struct stealth_out {
	uint8_t addr[ETH_ADDR_BYTES];
	struct secp_pk eph;	/* E = e·G */
	uint8_t view_tag;
};

void stealth_meta_encode(const struct stealth_meta *m,
			 uint8_t out[STEALTH_META_BYTES]);
/* ERR_FORMAT unless both halves are valid compressed points. */
int stealth_meta_decode(struct stealth_meta *m, const uint8_t *in, size_t len);
/* The meta-address of a payee's spend and view keys. */
int stealth_meta_from_keys(struct stealth_meta *m, const struct secp_sk *spend,
			   const struct secp_sk *view);

/*
 * Sender: derive a stealth address for m with ephemeral key e (a fresh
 * random one when e is NULL).  e is only read; the caller wipes it.
 */
int stealth_generate(struct stealth_out *out, const struct stealth_meta *m,
		     const struct secp_sk *e);

/*
 * Recipient: does (E, view_tag) pay us?  Compares the view tag first (one
 * ECDH; 255 of 256 strangers stop there), then derives the address and,
 * when want is not NULL (an announced address), compares it.  Returns 1
 * on a match with *addr the stealth address (addr may be NULL), 0 when
 * not ours, or an ERR_* for a bad E.
 */
int stealth_scan(const struct secp_sk *view, const struct secp_pk *spend_pk,
		 const struct secp_pk *eph, uint8_t view_tag,
		 const uint8_t *want, uint8_t addr[ETH_ADDR_BYTES]);
/* Recipient: the stealth address for E whatever its view tag (when E
 * came over the overlay to us, with no tag to filter on). */
int stealth_derive(const struct secp_sk *view, const struct secp_pk *spend_pk,
		   const struct secp_pk *eph, uint8_t addr[ETH_ADDR_BYTES]);
/* Recipient: the private key of the stealth address for E. */
int stealth_spend_key(struct secp_sk *out, const struct secp_sk *spend,
		      const struct secp_sk *view, const struct secp_pk *eph);

#endif /* CHAIN_STEALTH_H */
