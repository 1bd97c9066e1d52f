/*
 * SSU2 relay blocks (geti2p.net/spec/ssu2, "RelayRequest", "RelayIntro",
 * "RelayResponse", "Relay Process"): codecs and the signed data.  The
 * roles (Alice asks Bob, the introducer, who tells Charlie, who answers
 * and punches a hole to Alice) run in router/ssu2.c.
 *
 * Signed data:
 *  - RelayRequest / RelayIntro (signed by Alice): "RelayRequestData" ‖
 *    Bob's hash ‖ Charlie's hash ‖ nonce ‖ relay tag ‖ timestamp ‖ ver ‖
 *    asz ‖ Alice's port ‖ Alice's IP;
 *  - RelayResponse (signed by Charlie, or by Bob for codes 1-63):
 *    "RelayAgreementOK" ‖ Bob's hash ‖ nonce ‖ timestamp ‖ ver ‖ csz ‖
 *    Charlie's port ‖ Charlie's IP.
 * Decoded structs borrow from their block.
 */
#ifndef ROUTER_SSU2_RELAY_H
#define ROUTER_SSU2_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "router/ssu2_block.h"

#define SSU2_RELAY_REQ_PROLOGUE "RelayRequestData"
#define SSU2_RELAY_RESP_PROLOGUE "RelayAgreementOK"
#define SSU2_RELAY_PROLOGUE_BYTES 16
#define SSU2_RELAY_SIG_MAX_BYTES 128
/* nonce ‖ tag ‖ ts ‖ ver ‖ asz ‖ port ‖ IPv6 */
#define SSU2_RELAY_SDATA_MAX_BYTES (4 + 4 + 4 + 1 + 1 + 2 + 16)

enum ssu2_relay_code {
	SSU2_RELAY_ACCEPT = 0,
	SSU2_RELAY_BOB_UNSPEC = 1,
	SSU2_RELAY_BOB_BANNED = 2,
	SSU2_RELAY_BOB_LIMIT = 3,
	SSU2_RELAY_BOB_SIGNATURE = 4,
	SSU2_RELAY_BOB_NO_TAG = 5,
	SSU2_RELAY_BOB_NO_ALICE_RI = 6,
	SSU2_RELAY_CHARLIE_UNSPEC = 64,
	SSU2_RELAY_CHARLIE_ADDRESS = 65,
	SSU2_RELAY_CHARLIE_LIMIT = 66,
	SSU2_RELAY_CHARLIE_SIGNATURE = 67,
	SSU2_RELAY_CHARLIE_CONNECTED = 68,
	SSU2_RELAY_CHARLIE_UNKNOWN = 70,
};

/* RelayRequest (7) or RelayIntro (9). */
struct ssu2_relay_req {
	bool has_hash;		/* RelayIntro: Alice's hash */
	uint8_t hash[32];
	uint32_t nonce, tag, ts;
	uint8_t ver;
	uint16_t port;		/* Alice's */
	uint8_t ip[16];
	size_t iplen;
	const uint8_t *sdata;	/* nonce .. IP */
	size_t slen;
	const uint8_t *sig;
	size_t siglen;
};

/* RelayResponse (8). */
struct ssu2_relay_resp {
	uint8_t code;
	uint32_t nonce, ts;
	uint8_t ver;
	uint16_t port;		/* Charlie's; 0 without an address */
	uint8_t ip[16];
	size_t iplen;		/* 0, 4 or 16 */
	const uint8_t *sdata;	/* nonce .. IP */
	size_t slen;
	const uint8_t *sig;
	size_t siglen;
	bool has_token;		/* code 0 only */
	uint64_t token;
};

/* Decode a RelayRequest or RelayIntro block.  ERR_FORMAT, ERR_TRUNCATED,
 * ERR_TOO_BIG. */
int ssu2_relay_req_decode(const struct ssu2_block *b,
			  struct ssu2_relay_req *out);
/* Decode a RelayResponse block; the signature is 64 bytes (Ed25519)
 * when present: a response to us always comes from Ed25519 routers. */
int ssu2_relay_resp_decode(const struct ssu2_block *b,
			   struct ssu2_relay_resp *out);
/* The signed part of a request: returns its length. */
size_t ssu2_relay_req_sdata(uint8_t out[SSU2_RELAY_SDATA_MAX_BYTES],
			    uint32_t nonce, uint32_t tag, uint32_t ts,
			    const uint8_t *ip, size_t iplen, uint16_t port);
/* The signed part of a response (ip NULL for csz 0). */
size_t ssu2_relay_resp_sdata(uint8_t out[SSU2_RELAY_SDATA_MAX_BYTES],
			     uint32_t nonce, uint32_t ts, const uint8_t *ip,
			     size_t iplen, uint16_t port);
/* Append a RelayRequest (alice_hash NULL) or RelayIntro block. */
void ssu2_relay_put_req(struct bbuf *b, const uint8_t *alice_hash,
			const uint8_t *sdata, size_t slen, const uint8_t *sig,
			size_t siglen);
/* Append a RelayResponse block (token only with code 0). */
void ssu2_relay_put_resp(struct bbuf *b, uint8_t code, const uint8_t *sdata,
			 size_t slen, const uint8_t *sig, size_t siglen,
			 uint64_t token);
/* The bytes a signature covers (chash NULL for responses). */
void ssu2_relay_sigmsg(struct bbuf *out, const char *prologue,
		       const uint8_t bhash[32], const uint8_t *chash,
		       const uint8_t *sdata, size_t slen);

#endif /* ROUTER_SSU2_RELAY_H */
