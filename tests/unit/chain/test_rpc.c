/*
 * chain/rpc against a scripted transport (no node): the chain-id check,
 * transport failures, reverts decoded, the full send pipeline (the raw
 * transaction the node gets is decoded and checked), receipts, and log
 * fetching by block range with local filtering.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/abi.h"
#include "chain/calls.h"
#include "chain/rpc.h"
#include "chain/tx1559.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TXHASH "0x3333333333333333333333333333333333333333333333333333333333333333"

struct fake {
	const char *chain_id;		/* eth_chainId result */
	int fail;			/* transport error to return */
	const char *reply_override;	/* raw body for every non-chainId call */
	const char *result_override;	/* raw JSON result for every such call */
	const char *estimate_error;	/* error object for eth_estimateGas */
	int receipt_status;
	int receipt_nulls;		/* pending polls before the receipt */
	struct bbuf raw;		/* last eth_sendRawTransaction */
	json_t *last_logs_query;
	unsigned calls, waits;
};

static char *reply_for(struct fake *f, const char *method, json_t *params,
		       json_t *id)
{
	json_t *res = NULL, *r;
	char *out;

	if (strcmp(method, "eth_chainId") == 0) {
		res = json_string(f->chain_id);
	} else if (f->reply_override) {
		return xstrdup(f->reply_override);
	} else if (f->result_override) {
		res = json_loads(f->result_override, JSON_DECODE_ANY, NULL);
	} else if (strcmp(method, "eth_getTransactionCount") == 0) {
		res = json_string("0x5");
	} else if (strcmp(method, "eth_feeHistory") == 0) {
		res = json_pack("{s:[ss],s:[[s]]}", "baseFeePerGas", "0x3b9aca00",
				"0x3b9aca01", "reward", "0x2");
	} else if (strcmp(method, "eth_estimateGas") == 0) {
		if (f->estimate_error) {
			r = json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id,
				      "error", json_loads(f->estimate_error, 0, NULL));
			out = json_dumps(r, JSON_COMPACT);
			json_decref(r);
			return out;
		}
		res = json_string("0x5208");
	} else if (strcmp(method, "eth_sendRawTransaction") == 0) {
		size_t n;
		const char *s = json_string_value(json_array_get(params, 0));
		bbuf_reset(&f->raw);
		uint8_t *p = bbuf_extend(&f->raw, strlen(s) / 2);
		(void)hex_decode(p, strlen(s) / 2, &n, s + 2, strlen(s) - 2);
		f->raw.len = n;
		res = json_string(TXHASH);
	} else if (strcmp(method, "eth_getTransactionReceipt") == 0) {
		if (f->receipt_nulls > 0) {
			f->receipt_nulls--;
			res = json_null();
		} else {
			res = json_pack("{s:s,s:s,s:s,s:s,s:n,s:[]}", "transactionHash",
					TXHASH, "status", f->receipt_status ? "0x1" : "0x0",
					"blockNumber", "0x9", "gasUsed", "0x5208",
					"contractAddress", "logs");
		}
	} else if (strcmp(method, "eth_call") == 0) {
		res = json_string("0x000000000000000000000000000000000000000000000000000000000000002a");
	} else if (strcmp(method, "eth_getLogs") == 0) {
		json_t *q = json_array_get(params, 0);
		json_decref(f->last_logs_query);
		f->last_logs_query = json_incref(q);
		uint64_t from = 0, to = 0;
		(void)jsonrpc_get_u64(json_object_get(q, "fromBlock"), &from);
		(void)jsonrpc_get_u64(json_object_get(q, "toBlock"), &to);
		res = json_array();
		/* one log per block in range 10..12, alternating emitters */
		for (uint64_t b = from; b <= to; b++) {
			if (b < 10 || b > 12)
				continue;
			char blk[32];
			snprintf(blk, sizeof(blk), "0x%llx", (unsigned long long)b);
			json_array_append_new(res, json_pack(
				"{s:s,s:[s],s:s,s:s,s:s,s:s}",
				"address", b % 2 ? "0x1111111111111111111111111111111111111111"
						  : "0x2222222222222222222222222222222222222222",
				"topics", "0x4444444444444444444444444444444444444444444444444444444444444444",
				"data", "0x", "blockNumber", blk, "logIndex", "0x0",
				"transactionHash", TXHASH));
		}
	} else {
		r = json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id,
			      "error", "code", -32601, "message", "method not found");
		out = json_dumps(r, JSON_COMPACT);
		json_decref(r);
		return out;
	}
	r = json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "result", res);
	out = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	return out;
}

static int fake_exchange(void *ctx, const char *req, size_t req_len,
			 size_t max_reply, struct bbuf *reply, const char **why)
{
	struct fake *f = ctx;
	json_t *j = json_loadb(req, req_len, 0, NULL);
	char *out;

	f->calls++;
	if (f->fail) {
		json_decref(j);
		*why = "scripted failure";
		return f->fail;
	}
	out = reply_for(f, json_string_value(json_object_get(j, "method")),
			json_object_get(j, "params"), json_object_get(j, "id"));
	if (strlen(out) > max_reply) {
		free(out);
		json_decref(j);
		return ERR_TOO_BIG;
	}
	bbuf_put(reply, out, strlen(out));
	free(out);
	json_decref(j);
	return 0;
}

static void fake_wait(void *ctx, unsigned ms)
{
	struct fake *f = ctx;

	(void)ms;
	f->waits++;
}

static struct chain_client *client(struct fake *f)
{
	struct chain_transport tr = { fake_exchange, fake_wait, f };

	return chain_client_new(&tr, 31337);
}

static void fake_free(struct fake *f)
{
	bbuf_free(&f->raw);
	json_decref(f->last_logs_query);
}

static void test_wrong_chain(struct tctx *t)
{
	struct fake f = { .chain_id = "0x1" };
	struct chain_client *c = client(&f);
	uint64_t n;

	T_ERR(t, chain_block_number(c, &n), ERR_NETWORK);
	T_TRUE(t, strstr(chain_client_error(c), "chain id 1") != NULL);
	chain_client_free(c);
	fake_free(&f);
}

static void test_transport_errors(struct tctx *t)
{
	struct fake f = { .chain_id = "0x7a69", .fail = ERR_TIMEOUT };
	struct chain_client *c = client(&f);
	uint64_t n;

	T_ERR(t, chain_block_number(c, &n), ERR_TIMEOUT);
	T_TRUE(t, strstr(chain_client_error(c), "scripted failure") != NULL);
	f.fail = 0;
	f.reply_override = "this is not json";
	T_ERR(t, chain_block_number(c, &n), ERR_FORMAT);
	f.reply_override = "{\"jsonrpc\":\"2.0\",\"id\":999,\"result\":\"0x1\"}";
	T_ERR(t, chain_block_number(c, &n), ERR_PROTOCOL);
	f.reply_override = NULL;
	f.result_override = "[1]";
	T_ERR(t, chain_block_number(c, &n), ERR_FORMAT);
	T_TRUE(t, strstr(chain_client_error(c), "eth_blockNumber") != NULL);
	chain_client_free(c);
	fake_free(&f);
}

static void test_call(struct tctx *t)
{
	struct fake f = { .chain_id = "0x7a69" };
	struct chain_client *c = client(&f);
	uint8_t to[20] = { 1 };
	struct u256 v;

	T_OK(t, chain_call_u256(c, to, (const uint8_t *)"\x01\x02\x03\x04", 4, &v));
	T_EQ(t, v.w[0], 42);
	chain_client_free(c);
	fake_free(&f);
}

static void test_send(struct tctx *t)
{
	struct fake f = { .chain_id = "0x7a69", .receipt_status = 1,
			  .receipt_nulls = 3 };
	struct chain_client *c = client(&f);
	struct secp_sk sk = { { 0 } };
	struct chain_receipt rc;
	struct tx1559 tx;
	uint8_t to[20], from[20], want[20];
	static const uint8_t data[] = { 0xaa, 0xbb };

	sk.b[31] = 9;
	memset(to, 0x77, 20);
	T_OK(t, secp_sk_address(&sk, want));
	T_OK(t, chain_send(c, &sk, to, data, sizeof(data), NULL, &rc));
	T_TRUE(t, rc.status);
	T_EQ(t, rc.block_number, 9);
	T_EQ(t, f.waits, 3);
	chain_receipt_clear(&rc);
	/* what reached the node */
	T_OK(t, tx1559_decode(f.raw.data, f.raw.len, &tx, from));
	T_MEMEQ(t, from, want, 20);
	T_EQ(t, tx.chain_id, 31337);
	T_EQ(t, tx.nonce, 5);
	T_EQ(t, tx.gas_limit, 21000 + 21000 / 4);
	T_EQ(t, tx.max_priority_fee.w[0], 2);
	T_EQ(t, tx.max_fee.w[0], 2 * 1000000001ull + 2);
	T_MEMEQ(t, tx.to, to, 20);
	T_EQ(t, tx.data_len, 2);

	/* mined but reverted */
	f.receipt_status = 0;
	T_ERR(t, chain_send(c, &sk, to, data, sizeof(data), NULL, NULL), ERR_BAD_STATE);
	T_TRUE(t, strstr(chain_client_error(c), "revert") != NULL);
	chain_client_free(c);
	fake_free(&f);
}

static void test_estimate_revert(struct tctx *t)
{
	struct fake f = { .chain_id = "0x7a69" };
	struct chain_client *c = client(&f);
	struct secp_sk sk = { { 0 } };
	uint8_t to[20] = { 0 }, sel[4];
	char err[128];

	sk.b[31] = 9;
	abi_selector(sel, "NotWinning()");
	snprintf(err, sizeof(err), "{\"code\":3,\"message\":\"execution reverted\","
		 "\"data\":\"0x%02x%02x%02x%02x\"}", sel[0], sel[1], sel[2], sel[3]);
	f.estimate_error = err;
	T_ERR(t, chain_send(c, &sk, to, NULL, 0, NULL, NULL), ERR_BAD_STATE);
	T_TRUE(t, strstr(chain_client_error(c), "NotWinning()") != NULL);
	T_EQ(t, f.raw.len, 0);		/* nothing was sent */
	f.estimate_error = "{\"code\":-32000,\"message\":\"insufficient funds for gas\"}";
	T_ERR(t, chain_send(c, &sk, to, NULL, 0, NULL, NULL), ERR_PROTOCOL);
	T_TRUE(t, strstr(chain_client_error(c), "insufficient funds") != NULL);
	chain_client_free(c);
	fake_free(&f);
}

struct seen {
	unsigned n;
	uint64_t blocks[8];
};

static int on_log(void *arg, const struct chain_log *l)
{
	struct seen *s = arg;

	if (s->n < 8)
		s->blocks[s->n] = l->block_number;
	s->n++;
	return 0;
}

static void test_logs(struct tctx *t)
{
	struct fake f = { .chain_id = "0x7a69" };
	struct chain_client *c = client(&f);
	struct chain_log_filter flt = { 0 };
	struct seen s = { 0 };

	T_OK(t, chain_get_logs(c, 0, 20, NULL, on_log, &s));
	T_EQ(t, s.n, 3);
	/* the node was asked by block range only */
	T_TRUE(t, json_object_get(f.last_logs_query, "address") == NULL);
	T_TRUE(t, json_object_get(f.last_logs_query, "topics") == NULL);
	flt.has_address = true;
	memset(flt.address, 0x11, 20);
	memset(&s, 0, sizeof(s));
	T_OK(t, chain_get_logs(c, 0, 20, &flt, on_log, &s));
	T_EQ(t, s.n, 1);			/* only block 11's log is 0x11…'s */
	T_EQ(t, s.blocks[0], 11);
	flt.has_topic0 = true;
	memset(flt.topic0, 0x45, 32);
	memset(&s, 0, sizeof(s));
	T_OK(t, chain_get_logs(c, 0, 20, &flt, on_log, &s));
	T_EQ(t, s.n, 0);
	T_ERR(t, chain_get_logs(c, 5, 4, NULL, on_log, &s), ERR_ARG);
	/* a range over CHAIN_LOGS_MAX_RANGE is split */
	unsigned before = f.calls;
	memset(&s, 0, sizeof(s));
	T_OK(t, chain_get_logs(c, 0, 2 * CHAIN_LOGS_MAX_RANGE + 3, NULL, on_log, &s));
	T_EQ(t, f.calls - before, 3);
	T_EQ(t, s.n, 3);
	chain_client_free(c);
	fake_free(&f);
}

static void test_receipt_mismatch(struct tctx *t)
{
	struct fake f = { .chain_id = "0x7a69", .receipt_status = 1 };
	struct chain_client *c = client(&f);
	struct chain_receipt rc;
	uint8_t other[32];

	memset(other, 0x44, 32);
	T_ERR(t, chain_get_receipt(c, other, &rc), ERR_PROTOCOL);
	f.receipt_nulls = CHAIN_RECEIPT_POLLS + 5;
	memset(other, 0x33, 32);
	T_ERR(t, chain_wait_receipt(c, other, &rc), ERR_TIMEOUT);
	chain_client_free(c);
	fake_free(&f);
}

const struct test_case rpc_tests[] = {
	{ "wrong_chain", test_wrong_chain, 0 },
	{ "transport_errors", test_transport_errors, 0 },
	{ "call", test_call, 0 },
	{ "send", test_send, 0 },
	{ "estimate_revert", test_estimate_revert, 0 },
	{ "logs", test_logs, 0 },
	{ "receipt_mismatch", test_receipt_mismatch, 0 },
	{ NULL, NULL, 0 }
};
