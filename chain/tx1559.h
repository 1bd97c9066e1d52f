/*
 * EIP-1559 (type 2) transactions: build, sign and encode raw (CHAIN.md §7):
 *   sign keccak256(0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas,
 *   maxFeePerGas, gasLimit, to, value, data, accessList])); the raw tx
 *   appends yParity, r, s inside the list.  Access lists are always empty.
 */
#ifndef CHAIN_TX1559_H
#define CHAIN_TX1559_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "chain/secp.h"
#include "chain/u256.h"

/* Largest raw transaction the decoder accepts (geth's txpool: 128 KiB). */
#define TX1559_MAX_BYTES (128u * 1024)

struct tx1559 {
	uint64_t chain_id;
	uint64_t nonce;
	struct u256 max_priority_fee;	/* wei per gas */
	struct u256 max_fee;		/* wei per gas */
	uint64_t gas_limit;
	bool has_to;			/* false: contract creation */
	uint8_t to[ETH_ADDR_BYTES];
	struct u256 value;
	const uint8_t *data;		/* borrowed */
	size_t data_len;
};

/* The hash the sender signs. */
void tx1559_signing_hash(const struct tx1559 *tx, uint8_t out[32]);
/*
 * Sign tx with sk and append the raw transaction (0x02 ‖ rlp) to raw;
 * hash (may be NULL) gets the transaction hash keccak256(raw).
 */
int tx1559_sign(const struct tx1559 *tx, const struct secp_sk *sk,
		struct bbuf *raw, uint8_t hash[32]);

/*
 * Decode a signed raw transaction (untrusted).  tx->data borrows from raw.
 * *from (may be NULL) gets the recovered sender.  ERR_FORMAT for anything
 * that is not a canonical type-2 transaction with an empty access list,
 * ERR_BAD_SIG when the signature does not recover.
 */
int tx1559_decode(const uint8_t *raw, size_t len, struct tx1559 *tx,
		  uint8_t from[ETH_ADDR_BYTES]);

#endif /* CHAIN_TX1559_H */
