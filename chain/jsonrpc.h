/*
 * JSON-RPC 2.0 codec for an Ethereum node (jansson), with every reply
 * treated as hostile: a size cap before parsing, the id and version
 * checked, error objects turned into struct jsonrpc_error, and helpers
 * that read Ethereum's hex quantities and data strings with bounds.
 */
#ifndef CHAIN_JSONRPC_H
#define CHAIN_JSONRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/base/bytes.h"
#include "chain/secp.h"
#include "chain/u256.h"

/* Largest reply body we parse (a block range of logs fits easily). */
#define JSONRPC_MAX_REPLY_BYTES (8u * 1024 * 1024)
/* Deepest JSON nesting we accept in a reply (eth_* results need ~5). */
#define JSONRPC_MAX_DEPTH 32
/* Longest error message and revert data kept from an error object. */
#define JSONRPC_MAX_MESSAGE_BYTES 256
#define JSONRPC_MAX_ERROR_DATA_BYTES 4096

/* Why a reply failed: a JSON-RPC error object as the node sent it
 * (remote = true), or our description of a bad reply. */
struct jsonrpc_error {
	bool remote;
	long long code;
	char message[JSONRPC_MAX_MESSAGE_BYTES];	/* printable, truncated */
	/* "data" when it is a 0x hex string (revert data), else empty. */
	uint8_t data[JSONRPC_MAX_ERROR_DATA_BYTES];
	size_t data_len;
};

/*
 * Format a request: {"jsonrpc":"2.0","id":id,"method":...,"params":...}.
 * Takes params (an array; NULL means []).  *out is NUL-terminated and the
 * caller frees it.  ERR_ARG for a non-array params.
 */
int jsonrpc_request_format(uint64_t id, const char *method, json_t *params,
			   char **out, size_t *out_len);

/*
 * Walk raw JSON text once and refuse nesting deeper than
 * JSONRPC_MAX_DEPTH before jansson recurses over it (brackets inside
 * strings do not count).  For every untrusted JSON text.
 */
bool jsonrpc_depth_ok(const uint8_t *p, size_t n);

/*
 * Parse a reply to request id.  On success *result gets a new reference
 * to "result" (the caller json_decref()s it).  On failure err (required)
 * says why:
 *   ERR_TOO_BIG    body over JSONRPC_MAX_REPLY_BYTES or nested too deep
 *   ERR_FORMAT     not JSON, not an object, no result and no error
 *   ERR_PROTOCOL   the node sent an error object (err->remote, code,
 *                  message and revert data), or a wrong "jsonrpc"/"id"
 */
int jsonrpc_response_parse(const uint8_t *body, size_t len, uint64_t id,
			   json_t **result, struct jsonrpc_error *err);

/* Hex quantity "0x…" (no leading zeros beyond "0x0") → integer.
 * ERR_FORMAT for anything else, ERR_RANGE when too big. */
int jsonrpc_get_u64(const json_t *v, uint64_t *out);
int jsonrpc_get_u256(const json_t *v, struct u256 *out);
/* Hex data "0x…" (even digits) into out (≤ max bytes, else ERR_TOO_BIG). */
int jsonrpc_get_data(const json_t *v, uint8_t *out, size_t max, size_t *len);
/* Hex data into a bbuf (appended), at most max bytes. */
int jsonrpc_get_data_buf(const json_t *v, size_t max, struct bbuf *out);
/* Exactly n bytes of hex data (addresses, hashes). */
int jsonrpc_get_fixed(const json_t *v, uint8_t *out, size_t n);

/* New JSON strings for request params. */
json_t *jsonrpc_hex_u64(uint64_t v);
json_t *jsonrpc_hex_u256(const struct u256 *v);
json_t *jsonrpc_hex_data(const void *p, size_t n);
json_t *jsonrpc_hex_address(const uint8_t addr[ETH_ADDR_BYTES]);

/* One log entry from eth_getLogs (data owned, free with chain_log_clear). */
#define CHAIN_LOG_MAX_TOPICS 4
#define CHAIN_LOG_MAX_DATA_BYTES (64u * 1024)
struct chain_log {
	uint8_t address[ETH_ADDR_BYTES];
	uint8_t topics[CHAIN_LOG_MAX_TOPICS][32];
	size_t ntopics;
	uint8_t *data;
	size_t data_len;
	uint64_t block_number;
	uint8_t tx_hash[32];
	uint64_t log_index;
	bool removed;
};
void chain_log_clear(struct chain_log *l);
/* Parse one log object; ERR_FORMAT/ERR_TOO_BIG on bad fields. */
int chain_log_parse(const json_t *obj, struct chain_log *out);

#endif /* CHAIN_JSONRPC_H */
