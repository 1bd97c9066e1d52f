/*
 * SSU2 Peer Test blocks (geti2p.net/spec/ssu2, "PeerTest" block and "Peer
 * Test Process"): the block codec and the signed data of messages 1-4.
 * The three roles (Alice, Bob, Charlie) run in router/ssu2.c, which owns
 * the sessions and the socket.
 *
 * Signed data, "Sign or verify the following data": the 16-byte prologue
 * "PeerTestValidate", Bob's hash, Alice's hash (messages 3 and 4 only),
 * then ver ‖ nonce ‖ timestamp ‖ asz ‖ Alice's port ‖ Alice's IP as they
 * appear in the block (the block's "signed part").
 *
 * Decoded structs borrow from the block they came from.
 */
#ifndef ROUTER_SSU2_PEERTEST_H
#define ROUTER_SSU2_PEERTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "router/ssu2_block.h"

#define SSU2_PT_PROLOGUE "PeerTestValidate"
#define SSU2_PT_PROLOGUE_BYTES 16
/* ver ‖ nonce ‖ ts ‖ asz ‖ port ‖ IPv6 at most */
#define SSU2_PT_SDATA_MAX_BYTES (1 + 4 + 4 + 1 + 2 + 16)
/* Ed25519; other signature types are longer but we verify only these. */
#define SSU2_PT_SIG_MAX_BYTES 128

/* Status codes ("code :: 1 byte status code") we send. */
enum ssu2_pt_code {
	SSU2_PT_ACCEPT = 0,
	SSU2_PT_BOB_UNSPEC = 1,
	SSU2_PT_BOB_NO_CHARLIE = 2,
	SSU2_PT_BOB_LIMIT = 3,
	SSU2_PT_BOB_SIGNATURE = 4,
	SSU2_PT_BOB_ADDRESS = 5,
	SSU2_PT_CHARLIE_UNSPEC = 64,
	SSU2_PT_CHARLIE_ADDRESS = 65,
	SSU2_PT_CHARLIE_LIMIT = 66,
	SSU2_PT_CHARLIE_SIGNATURE = 67,
	SSU2_PT_CHARLIE_CONNECTED = 68,
	SSU2_PT_CHARLIE_UNKNOWN = 70,
};

struct ssu2_pt {
	uint8_t msg;		/* 1..7 */
	uint8_t code;
	bool has_hash;		/* messages 2 and 4 */
	uint8_t hash[32];	/* Alice's (2) or Charlie's (4) */
	uint8_t ver;
	uint32_t nonce;
	uint32_t ts;
	uint16_t port;		/* Alice's */
	uint8_t ip[16];
	size_t iplen;		/* 4 or 16 */
	const uint8_t *sdata;	/* the signed part, ver .. IP */
	size_t slen;
	const uint8_t *sig;	/* may be empty in messages 5-7 */
	size_t siglen;
};

/* Decode a PeerTest block.  ERR_FORMAT (message number, asz, version),
 * ERR_TRUNCATED, ERR_TOO_BIG (signature over SSU2_PT_SIG_MAX_BYTES). */
int ssu2_pt_decode(const struct ssu2_block *b, struct ssu2_pt *out);
/* The signed part for nonce, ts and Alice's ip (4 or 16 bytes) and port;
 * returns its length. */
size_t ssu2_pt_sdata(uint8_t out[SSU2_PT_SDATA_MAX_BYTES], uint32_t nonce,
		     uint32_t ts, const uint8_t *ip, size_t iplen,
		     uint16_t port);
/* Append a PeerTest block: msg, code, hash (messages 2 and 4, else
 * NULL), the signed part and the signature (may be NULL/0). */
void ssu2_pt_put(struct bbuf *b, uint8_t msg, uint8_t code,
		 const uint8_t *hash, const uint8_t *sdata, size_t slen,
		 const uint8_t *sig, size_t siglen);
/* Append to out the bytes a signature covers: prologue, bhash, ahash
 * (NULL for messages 1 and 2) and the signed part. */
void ssu2_pt_sigmsg(struct bbuf *out, const uint8_t bhash[32],
		    const uint8_t *ahash, const uint8_t *sdata, size_t slen);

#endif /* ROUTER_SSU2_PEERTEST_H */
