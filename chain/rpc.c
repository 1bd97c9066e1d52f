/*
 * The chain client over an embedder's transport (see rpc.h).  Methods are
 * those of CHAIN.md §7: eth_chainId, eth_getTransactionCount,
 * eth_feeHistory, eth_getBlockByNumber, eth_estimateGas, eth_call,
 * eth_sendRawTransaction, eth_getTransactionReceipt, eth_getLogs,
 * eth_blockNumber (and eth_getBalance for the CLI).
 */
#include "config.h"
#include "chain/rpc.h"
#include "chain/abi.h"
#include "chain/calls.h"
#include "chain/tx1559.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct chain_client {
	struct chain_transport t;
	uint64_t chain_id;
	uint64_t next_id;
	bool chain_checked;
	char error[512];
	struct jsonrpc_error rpc_err;
};

struct chain_client *chain_client_new(const struct chain_transport *t,
				      uint64_t chain_id)
{
	struct chain_client *c = xzalloc(sizeof(*c));

	c->t = *t;
	c->chain_id = chain_id;
	c->next_id = 1;
	return c;
}

void chain_client_free(struct chain_client *c)
{
	free(c);
}

uint64_t chain_client_chain_id(const struct chain_client *c)
{
	return c->chain_id;
}

const char *chain_client_error(const struct chain_client *c)
{
	return c->error;
}

const struct jsonrpc_error *chain_client_last_rpc_error(
	const struct chain_client *c)
{
	return &c->rpc_err;
}

__attribute__((format(printf, 2, 3)))
static void set_error(struct chain_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

/* One request/reply without the chain-id check. */
static int call_raw(struct chain_client *c, const char *method,
		    json_t *params, json_t **result)
{
	struct bbuf reply = BBUF_INIT;
	const char *why = NULL;
	char *req = NULL;
	size_t req_len;
	uint64_t id = c->next_id++;
	int r;

	c->error[0] = '\0';
	if ((r = jsonrpc_request_format(id, method, params, &req, &req_len)) != 0) {
		set_error(c, "%s: cannot format request", method);
		return r;
	}
	r = c->t.exchange(c->t.ctx, req, req_len, JSONRPC_MAX_REPLY_BYTES,
			  &reply, &why);
	free(req);
	if (r != 0) {
		set_error(c, "%s: %s%s%s", method, err_str(r), why ? ": " : "",
			  why ? why : "");
		goto out;
	}
	r = jsonrpc_response_parse(reply.data, reply.len, id, result,
				   &c->rpc_err);
	if (r != 0) {
		if (c->rpc_err.remote)
			set_error(c, "%s: node error %lld: %s", method,
				  c->rpc_err.code, c->rpc_err.message);
		else
			set_error(c, "%s: bad reply: %s", method,
				  c->rpc_err.message);
	}
out:
	bbuf_free(&reply);
	return r;
}

static int check_chain(struct chain_client *c)
{
	json_t *res = NULL;
	uint64_t id;
	int r;

	if (c->chain_checked)
		return 0;
	if ((r = call_raw(c, "eth_chainId", NULL, &res)) != 0)
		return r;
	r = jsonrpc_get_u64(res, &id);
	json_decref(res);
	if (r != 0) {
		set_error(c, "eth_chainId: not a quantity");
		return ERR_FORMAT;
	}
	if (id != c->chain_id) {
		set_error(c, "wrong chain: the node serves chain id %llu, "
			  "we expect %llu", (unsigned long long)id,
			  (unsigned long long)c->chain_id);
		return ERR_NETWORK;
	}
	c->chain_checked = true;
	return 0;
}

int chain_rpc_call(struct chain_client *c, const char *method, json_t *params,
		   json_t **result)
{
	int r;

	if ((r = check_chain(c)) != 0) {
		json_decref(params);
		return r;
	}
	return call_raw(c, method, params, result);
}

/* Call returning a quantity. */
static int call_u64(struct chain_client *c, const char *method,
		    json_t *params, uint64_t *out)
{
	json_t *res = NULL;
	int r;

	if ((r = chain_rpc_call(c, method, params, &res)) != 0)
		return r;
	if ((r = jsonrpc_get_u64(res, out)) != 0)
		set_error(c, "%s: result is not a 64-bit quantity", method);
	json_decref(res);
	return r;
}

int chain_block_number(struct chain_client *c, uint64_t *out)
{
	return call_u64(c, "eth_blockNumber", NULL, out);
}

int chain_block_timestamp(struct chain_client *c, uint64_t *out)
{
	json_t *res = NULL;
	int r;

	if ((r = chain_rpc_call(c, "eth_getBlockByNumber",
				json_pack("[sb]", "latest", 0), &res)) != 0)
		return r;
	if (!json_is_object(res) ||
	    (r = jsonrpc_get_u64(json_object_get(res, "timestamp"), out)) != 0) {
		set_error(c, "eth_getBlockByNumber: no timestamp");
		r = ERR_FORMAT;
	}
	json_decref(res);
	return r;
}

int chain_get_nonce(struct chain_client *c, const uint8_t addr[20],
		    uint64_t *out)
{
	return call_u64(c, "eth_getTransactionCount",
			json_pack("[os]", jsonrpc_hex_address(addr), "pending"),
			out);
}

int chain_get_balance(struct chain_client *c, const uint8_t addr[20],
		      struct u256 *out)
{
	json_t *res = NULL;
	int r;

	if ((r = chain_rpc_call(c, "eth_getBalance",
				json_pack("[os]", jsonrpc_hex_address(addr),
					  "latest"), &res)) != 0)
		return r;
	if ((r = jsonrpc_get_u256(res, out)) != 0)
		set_error(c, "eth_getBalance: not a quantity");
	json_decref(res);
	return r;
}

static json_t *call_object(const uint8_t *from, const uint8_t *to,
			   const uint8_t *data, size_t len,
			   const struct u256 *value)
{
	json_t *o = json_object();

	if (from)
		json_object_set_new(o, "from", jsonrpc_hex_address(from));
	if (to)
		json_object_set_new(o, "to", jsonrpc_hex_address(to));
	json_object_set_new(o, "data", jsonrpc_hex_data(data, len));
	if (value && !u256_is_zero(value))
		json_object_set_new(o, "value", jsonrpc_hex_u256(value));
	return o;
}

/* After ERR_PROTOCOL from eth_call/eth_estimateGas: a revert? */
static int revert_check(struct chain_client *c, const char *method, int r)
{
	char why[256];

	if (r != ERR_PROTOCOL || !c->rpc_err.remote)
		return r;
	/* geth and anvil: code 3 ("execution reverted") with revert data;
	 * some nodes use -32000 and only a message. */
	if (c->rpc_err.code == 3 || c->rpc_err.data_len ||
	    strstr(c->rpc_err.message, "revert")) {
		abi_revert_format(why, sizeof(why), c->rpc_err.data,
				  c->rpc_err.data_len, chain_calls_error_name);
		if (c->rpc_err.data_len == 0 && c->rpc_err.message[0])
			set_error(c, "%s: %s", method, c->rpc_err.message);
		else
			set_error(c, "%s: %s", method, why);
		return ERR_BAD_STATE;
	}
	return r;
}

int chain_call(struct chain_client *c, const uint8_t *from,
	       const uint8_t to[20], const uint8_t *data, size_t len,
	       struct bbuf *out)
{
	json_t *res = NULL;
	int r;

	r = chain_rpc_call(c, "eth_call",
			   json_pack("[os]", call_object(from, to, data, len,
							 NULL), "latest"),
			   &res);
	if (r != 0)
		return revert_check(c, "eth_call", r);
	if ((r = jsonrpc_get_data_buf(res, JSONRPC_MAX_REPLY_BYTES / 2, out)) != 0)
		set_error(c, "eth_call: result is not hex data");
	json_decref(res);
	return r;
}

int chain_call_u256(struct chain_client *c, const uint8_t to[20],
		    const uint8_t *data, size_t len, struct u256 *out)
{
	struct bbuf b = BBUF_INIT;
	int r;

	if ((r = chain_call(c, NULL, to, data, len, &b)) == 0) {
		if (b.len != 32) {
			set_error(c, "eth_call: %zu bytes where one word was "
				  "expected (no contract there?)", b.len);
			r = ERR_FORMAT;
		} else {
			r = u256_from_be(out, b.data, 32);
		}
	}
	bbuf_free(&b);
	return r;
}

int chain_estimate_gas(struct chain_client *c, const uint8_t from[20],
		       const uint8_t *to, const uint8_t *data, size_t len,
		       const struct u256 *value, uint64_t *gas)
{
	int r = call_u64(c, "eth_estimateGas",
			 json_pack("[o]", call_object(from, to, data, len,
						      value)), gas);

	return revert_check(c, "eth_estimateGas", r);
}

int chain_fees(struct chain_client *c, struct u256 *max_fee, struct u256 *tip)
{
	json_t *res = NULL, *base, *reward, *last;
	struct u256 b, t = u256_from_u64(0), m;
	int r;

	if ((r = chain_rpc_call(c, "eth_feeHistory",
				json_pack("[is[i]]", 1, "latest", 50),
				&res)) != 0)
		return r;
	base = json_object_get(res, "baseFeePerGas");
	reward = json_object_get(res, "reward");
	r = ERR_FORMAT;
	if (!json_is_array(base) || json_array_size(base) == 0 ||
	    json_array_size(base) > 16)
		goto bad;
	last = json_array_get(base, json_array_size(base) - 1);
	if (jsonrpc_get_u256(last, &b) != 0)
		goto bad;
	if (json_is_array(reward) && json_array_size(reward) > 0) {
		json_t *row = json_array_get(reward, 0);
		if (!json_is_array(row) ||
		    jsonrpc_get_u256(json_array_get(row, 0), &t) != 0)
			goto bad;
	}
	if (u256_mul_u64(&m, &b, 2) != 0 || u256_add(&m, &m, &t) != 0) {
		r = ERR_RANGE;
		goto bad;
	}
	*max_fee = m;
	*tip = t;
	json_decref(res);
	return 0;
bad:
	set_error(c, "eth_feeHistory: malformed result");
	json_decref(res);
	return r;
}

int chain_send_raw(struct chain_client *c, const uint8_t *raw, size_t len,
		   uint8_t hash[32])
{
	json_t *res = NULL;
	int r;

	if ((r = chain_rpc_call(c, "eth_sendRawTransaction",
				json_pack("[o]", jsonrpc_hex_data(raw, len)),
				&res)) != 0)
		return r;
	if ((r = jsonrpc_get_fixed(res, hash, 32)) != 0)
		set_error(c, "eth_sendRawTransaction: result is not a hash");
	json_decref(res);
	return r;
}

void chain_receipt_clear(struct chain_receipt *r)
{
	for (size_t i = 0; i < r->nlogs; i++)
		chain_log_clear(&r->logs[i]);
	free(r->logs);
	memset(r, 0, sizeof(*r));
}

static int receipt_parse(const json_t *o, struct chain_receipt *out)
{
	struct chain_receipt rc = { 0 };
	const json_t *logs, *ca, *l;
	uint64_t status;
	size_t i;
	int r;

	if ((r = jsonrpc_get_fixed(json_object_get(o, "transactionHash"),
				   rc.tx_hash, 32)) != 0 ||
	    (r = jsonrpc_get_u64(json_object_get(o, "status"), &status)) != 0 ||
	    (r = jsonrpc_get_u64(json_object_get(o, "blockNumber"),
				 &rc.block_number)) != 0 ||
	    (r = jsonrpc_get_u64(json_object_get(o, "gasUsed"),
				 &rc.gas_used)) != 0)
		return r == ERR_RANGE ? ERR_FORMAT : r;
	if (status > 1)
		return ERR_FORMAT;
	rc.status = status == 1;
	if (json_object_get(o, "effectiveGasPrice") &&
	    (r = jsonrpc_get_u256(json_object_get(o, "effectiveGasPrice"),
				  &rc.effective_gas_price)) != 0)
		return r;
	ca = json_object_get(o, "contractAddress");
	if (ca && !json_is_null(ca)) {
		if ((r = jsonrpc_get_fixed(ca, rc.contract, 20)) != 0)
			return r;
		rc.has_contract = true;
	}
	logs = json_object_get(o, "logs");
	if (!json_is_array(logs))
		return ERR_FORMAT;
	if (json_array_size(logs) > CHAIN_RECEIPT_MAX_LOGS)
		return ERR_TOO_BIG;
	rc.logs = xcalloc(json_array_size(logs) + 1, sizeof(*rc.logs));
	json_array_foreach(logs, i, l) {
		if ((r = chain_log_parse(l, &rc.logs[i])) != 0) {
			chain_receipt_clear(&rc);
			return r;
		}
		rc.nlogs = i + 1;
	}
	*out = rc;
	return 0;
}

int chain_get_receipt(struct chain_client *c, const uint8_t hash[32],
		      struct chain_receipt *out)
{
	json_t *res = NULL;
	int r;

	if ((r = chain_rpc_call(c, "eth_getTransactionReceipt",
				json_pack("[o]", jsonrpc_hex_data(hash, 32)),
				&res)) != 0)
		return r;
	if (json_is_null(res)) {
		set_error(c, "transaction pending");
		r = ERR_NOT_FOUND;
	} else if (!json_is_object(res) || (r = receipt_parse(res, out)) != 0) {
		set_error(c, "eth_getTransactionReceipt: malformed receipt");
		r = r ? r : ERR_FORMAT;
	} else if (memcmp(out->tx_hash, hash, 32) != 0) {
		chain_receipt_clear(out);
		set_error(c, "eth_getTransactionReceipt: receipt for another "
			  "transaction");
		r = ERR_PROTOCOL;
	}
	json_decref(res);
	return r;
}

int chain_wait_receipt(struct chain_client *c, const uint8_t hash[32],
		       struct chain_receipt *out)
{
	int r = ERR_NOT_FOUND;

	for (unsigned i = 0; i < CHAIN_RECEIPT_POLLS; i++) {
		if (i && c->t.wait_ms)
			c->t.wait_ms(c->t.ctx, CHAIN_RECEIPT_POLL_MS);
		r = chain_get_receipt(c, hash, out);
		if (r != ERR_NOT_FOUND)
			return r;
	}
	set_error(c, "no receipt after %u polls", CHAIN_RECEIPT_POLLS);
	return ERR_TIMEOUT;
}

int chain_send(struct chain_client *c, const struct secp_sk *sk,
	       const uint8_t *to, const uint8_t *data, size_t len,
	       const struct u256 *value, struct chain_receipt *out)
{
	struct tx1559 tx = { 0 };
	struct chain_receipt rc = { 0 };
	struct bbuf raw = BBUF_INIT;
	uint8_t from[20], hash[32];
	uint64_t gas;
	char why[sizeof(c->error)];
	int r;

	if ((r = secp_sk_address(sk, from)) != 0) {
		set_error(c, "invalid sending key");
		return r;
	}
	tx.chain_id = c->chain_id;
	if (to) {
		tx.has_to = true;
		memcpy(tx.to, to, 20);
	}
	if (value)
		tx.value = *value;
	tx.data = data;
	tx.data_len = len;
	if ((r = chain_get_nonce(c, from, &tx.nonce)) != 0 ||
	    (r = chain_fees(c, &tx.max_fee, &tx.max_priority_fee)) != 0 ||
	    (r = chain_estimate_gas(c, from, to, data, len, value, &gas)) != 0)
		goto out;
	tx.gas_limit = gas + gas / 4;
	if ((r = tx1559_sign(&tx, sk, &raw, NULL)) != 0) {
		set_error(c, "cannot sign the transaction");
		goto out;
	}
	if ((r = chain_send_raw(c, raw.data, raw.len, hash)) != 0 ||
	    (r = chain_wait_receipt(c, hash, &rc)) != 0)
		goto out;
	if (!rc.status) {
		/* Replay the call to learn why (the block's state may have
		 * moved on, so the reason is a best effort). */
		struct bbuf ignore = BBUF_INIT;
		snprintf(why, sizeof(why), "reverted on chain");
		if (chain_call(c, from, to, data, len, &ignore) == ERR_BAD_STATE)
			snprintf(why, sizeof(why), "%s", c->error);
		bbuf_free(&ignore);
		set_error(c, "transaction %02x%02x%02x%02x… %.400s", hash[0],
			  hash[1], hash[2], hash[3], why);
		r = ERR_BAD_STATE;
	}
	if (out) {
		*out = rc;
		memset(&rc, 0, sizeof(rc));
	}
out:
	chain_receipt_clear(&rc);
	bbuf_free(&raw);
	return r;
}

static bool log_matches(const struct chain_log_filter *f,
			const struct chain_log *l)
{
	if (!f)
		return true;
	if (f->has_address && memcmp(l->address, f->address, 20) != 0)
		return false;
	if (f->has_topic0 &&
	    (l->ntopics < 1 || memcmp(l->topics[0], f->topic0, 32) != 0))
		return false;
	if (f->has_topic1 &&
	    (l->ntopics < 2 || memcmp(l->topics[1], f->topic1, 32) != 0))
		return false;
	return true;
}

/* One eth_getLogs over [from, to]; fn gets matching logs. */
static int logs_range(struct chain_client *c, uint64_t from, uint64_t to,
		      const struct chain_log_filter *f, chain_log_fn fn,
		      void *arg)
{
	json_t *res = NULL, *q, *o;
	size_t i;
	int r;

	/* By block range only: never name an address of ours to the node. */
	q = json_pack("{s:o,s:o}", "fromBlock", jsonrpc_hex_u64(from),
		      "toBlock", jsonrpc_hex_u64(to));
	if ((r = chain_rpc_call(c, "eth_getLogs", json_pack("[o]", q),
				&res)) != 0)
		return r;
	if (!json_is_array(res)) {
		set_error(c, "eth_getLogs: result is not an array");
		json_decref(res);
		return ERR_FORMAT;
	}
	json_array_foreach(res, i, o) {
		struct chain_log l;
		if ((r = chain_log_parse(o, &l)) != 0) {
			set_error(c, "eth_getLogs: malformed log %zu", i);
			break;
		}
		if (l.block_number < from || l.block_number > to) {
			set_error(c, "eth_getLogs: log outside the range");
			chain_log_clear(&l);
			r = ERR_PROTOCOL;
			break;
		}
		if (!l.removed && log_matches(f, &l))
			r = fn(arg, &l);
		chain_log_clear(&l);
		if (r != 0)
			break;
	}
	json_decref(res);
	return r;
}

int chain_get_logs(struct chain_client *c, uint64_t from, uint64_t to,
		   const struct chain_log_filter *f, chain_log_fn fn,
		   void *arg)
{
	uint64_t span = CHAIN_LOGS_MAX_RANGE;
	int r;

	if (from > to)
		return ERR_ARG;
	while (from <= to) {
		uint64_t end = to - from >= span ? from + span - 1 : to;
		r = logs_range(c, from, end, f, fn, arg);
		if (r == ERR_TOO_BIG && span > 1) {
			span /= 2;		/* too many logs: smaller ranges */
			continue;
		}
		if (r != 0)
			return r;
		if (end == UINT64_MAX)
			break;
		from = end + 1;
	}
	return 0;
}
