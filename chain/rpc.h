/*
 * The chain client: eth_* calls over a transport the embedder provides
 * (STYLE.md §1: chain/ has no sockets, files or event base).  Today the
 * transport is apps/chainrpc/'s HTTP/1.1 client to 127.0.0.1; later the
 * overlay stream.  Calls block until the transport answers, so in the
 * daemon they run on the worker pool, never on the loop thread.
 *
 * Every failure leaves a one-line reason in chain_client_error(): the
 * node's JSON-RPC error, a decoded revert reason, a chain-id mismatch.
 */
#ifndef CHAIN_RPC_H
#define CHAIN_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/base/bytes.h"
#include "chain/jsonrpc.h"
#include "chain/secp.h"
#include "chain/u256.h"

/* The transport table the embedder hands to chain/. */
struct chain_transport {
	/*
	 * Send one JSON-RPC request body and append the reply body to
	 * *reply, at most max_reply bytes (ERR_TOO_BIG past it).  Blocking.
	 * 0, or ERR_TIMEOUT (node hangs), ERR_IO (cannot connect),
	 * ERR_PROTOCOL (bad HTTP reply), ERR_TOO_BIG.  A static reason may
	 * go to *why (may be left NULL).
	 */
	int (*exchange)(void *ctx, const char *req, size_t req_len,
			size_t max_reply, struct bbuf *reply, const char **why);
	/* Pause ms before polling again (receipts); NULL polls at once. */
	void (*wait_ms)(void *ctx, unsigned ms);
	void *ctx;
};

/* Polling for a receipt: this many tries, CHAIN_RECEIPT_POLL_MS apart. */
#define CHAIN_RECEIPT_POLLS 240
#define CHAIN_RECEIPT_POLL_MS 250
/* Blocks per eth_getLogs request (halved when a reply is too big). */
#define CHAIN_LOGS_MAX_RANGE 5000
/* Most logs kept from one receipt. */
#define CHAIN_RECEIPT_MAX_LOGS 64

struct chain_client;	/* opaque */

/*
 * A client for the chain chain_id over t (copied; t.ctx stays the
 * caller's).  Never returns NULL; free with chain_client_free().
 */
struct chain_client *chain_client_new(const struct chain_transport *t,
				      uint64_t chain_id);
void chain_client_free(struct chain_client *c);
uint64_t chain_client_chain_id(const struct chain_client *c);
/* The reason for the last failure (never NULL; borrowed until the next
 * call on c). */
const char *chain_client_error(const struct chain_client *c);

/*
 * One JSON-RPC call.  Takes params (an array, NULL = []).  *result gets a
 * new reference.  ERR_PROTOCOL when the node answers with an error object
 * (the code and message are in chain_client_error()); transport errors as
 * above.  The first call on c checks eth_chainId: ERR_NETWORK when the
 * node serves another chain.
 */
int chain_rpc_call(struct chain_client *c, const char *method, json_t *params,
		   json_t **result);
/* The last JSON-RPC error object (valid after ERR_PROTOCOL). */
const struct jsonrpc_error *chain_client_last_rpc_error(
	const struct chain_client *c);

int chain_block_number(struct chain_client *c, uint64_t *out);
/* Latest block's timestamp (seconds). */
int chain_block_timestamp(struct chain_client *c, uint64_t *out);
/* Next nonce of addr, counting pending transactions. */
int chain_get_nonce(struct chain_client *c, const uint8_t addr[20],
		    uint64_t *out);
/* Ether balance in wei. */
int chain_get_balance(struct chain_client *c, const uint8_t addr[20],
		      struct u256 *out);

/*
 * eth_call at "latest"; from may be NULL.  The return data is appended to
 * out.  A revert gives ERR_BAD_STATE with the decoded reason in
 * chain_client_error().
 */
int chain_call(struct chain_client *c, const uint8_t *from,
	       const uint8_t to[20], const uint8_t *data, size_t len,
	       struct bbuf *out);
/* eth_call returning one word (a uint256 view). */
int chain_call_u256(struct chain_client *c, const uint8_t to[20],
		    const uint8_t *data, size_t len, struct u256 *out);
/* eth_estimateGas; a revert gives ERR_BAD_STATE like chain_call(). */
int chain_estimate_gas(struct chain_client *c, const uint8_t from[20],
		       const uint8_t *to, const uint8_t *data, size_t len,
		       const struct u256 *value, uint64_t *gas);
/* Fees for the next block from eth_feeHistory: tip = median reward of
 * the latest block, max_fee = 2 · next base fee + tip. */
int chain_fees(struct chain_client *c, struct u256 *max_fee,
	       struct u256 *tip);
int chain_send_raw(struct chain_client *c, const uint8_t *raw, size_t len,
		   uint8_t hash[32]);

struct chain_receipt {
	uint8_t tx_hash[32];
	bool status;			/* true: success */
	uint64_t block_number;
	uint64_t gas_used;
	struct u256 effective_gas_price;
	bool has_contract;
	uint8_t contract[20];
	struct chain_log *logs;		/* owned */
	size_t nlogs;
};
void chain_receipt_clear(struct chain_receipt *r);
/* ERR_NOT_FOUND while the transaction is pending. */
int chain_get_receipt(struct chain_client *c, const uint8_t hash[32],
		      struct chain_receipt *out);
/* Poll for the receipt (CHAIN_RECEIPT_POLLS); ERR_TIMEOUT if none. */
int chain_wait_receipt(struct chain_client *c, const uint8_t hash[32],
		       struct chain_receipt *out);

/*
 * Build, sign and send an EIP-1559 transaction from sk to `to` (NULL:
 * create a contract), then wait for its receipt.  Nonce, fees and gas
 * (estimate + 25 %) are fetched from the node.  A transaction that
 * reverts in the estimate or on chain gives ERR_BAD_STATE with the reason
 * in chain_client_error(); *out (may be NULL) gets the receipt when one
 * was mined.
 */
int chain_send(struct chain_client *c, const struct secp_sk *sk,
	       const uint8_t *to, const uint8_t *data, size_t len,
	       const struct u256 *value, struct chain_receipt *out);

/* Keep only logs that match: the emitting contract and topic0 (each
 * optional).  Filtering happens here, never at the node (CHAIN.md §7). */
struct chain_log_filter {
	bool has_address;
	uint8_t address[20];
	bool has_topic0;
	uint8_t topic0[32];
	bool has_topic1;
	uint8_t topic1[32];
};
typedef int (*chain_log_fn)(void *arg, const struct chain_log *log);
/*
 * Fetch every log of blocks from..to (inclusive) by block range only, and
 * hand those matching f to fn in order.  A non-zero return from fn stops
 * the walk and is returned.
 */
int chain_get_logs(struct chain_client *c, uint64_t from, uint64_t to,
		   const struct chain_log_filter *f, chain_log_fn fn,
		   void *arg);

#endif /* CHAIN_RPC_H */
