/*
 * chain/jsonrpc: request shape, and replies a hostile or broken node can
 * send: not JSON, wrong id or version, error objects with and without
 * revert data, huge and deeply nested bodies, bad quantities.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/jsonrpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

static int parse(const char *s, uint64_t id, json_t **res,
		 struct jsonrpc_error *err)
{
	return jsonrpc_response_parse((const uint8_t *)s, strlen(s), id, res, err);
}

static void test_request(struct tctx *t)
{
	char *out;
	size_t n;
	json_t *j;

	T_OK(t, jsonrpc_request_format(7, "eth_chainId", NULL, &out, &n));
	T_STREQ(t, out, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_chainId\",\"params\":[]}");
	T_EQ(t, n, strlen(out));
	free(out);
	T_ERR(t, jsonrpc_request_format(1, "x", json_object(), &out, &n), ERR_ARG);
	j = json_pack("[os]", jsonrpc_hex_u64(255), "latest");
	T_OK(t, jsonrpc_request_format(2, "m", j, &out, &n));
	T_TRUE(t, strstr(out, "[\"0xff\",\"latest\"]") != NULL);
	free(out);
}

static void test_result(struct tctx *t)
{
	json_t *res = NULL;
	struct jsonrpc_error err;
	uint64_t v;

	T_OK(t, parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":\"0x7a69\"}", 3, &res, &err));
	T_OK(t, jsonrpc_get_u64(res, &v));
	T_EQ(t, v, 31337);
	json_decref(res);
	/* result null is a valid result (pending receipt) */
	T_OK(t, parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":null}", 3, &res, &err));
	T_TRUE(t, json_is_null(res));
	json_decref(res);
}

static void test_bad_replies(struct tctx *t)
{
	json_t *res = NULL;
	struct jsonrpc_error err;

	T_ERR(t, parse("", 1, &res, &err), ERR_FORMAT);
	T_ERR(t, parse("<html>502 Bad Gateway</html>", 1, &res, &err), ERR_FORMAT);
	T_ERR(t, parse("[1,2]", 1, &res, &err), ERR_FORMAT);
	T_ERR(t, parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x1\"", 1, &res, &err), ERR_FORMAT);
	T_ERR(t, parse("{\"jsonrpc\":\"1.0\",\"id\":1,\"result\":1}", 1, &res, &err), ERR_PROTOCOL);
	T_FALSE(t, err.remote);
	T_ERR(t, parse("{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":1}", 1, &res, &err), ERR_PROTOCOL);
	T_TRUE(t, strstr(err.message, "id") != NULL);
	T_ERR(t, parse("{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":1}", 1, &res, &err), ERR_PROTOCOL);
	T_ERR(t, parse("{\"jsonrpc\":\"2.0\",\"id\":1}", 1, &res, &err), ERR_FORMAT);
	T_ERR(t, parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"result\":2}", 1, &res, &err), ERR_FORMAT);
	T_ERR(t, parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"message\":\"no code\"}}", 1, &res, &err), ERR_FORMAT);
}

static void test_error_object(struct tctx *t)
{
	json_t *res = NULL;
	struct jsonrpc_error err;

	T_ERR(t, parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,"
		       "\"message\":\"method not found\"}}", 1, &res, &err), ERR_PROTOCOL);
	T_TRUE(t, err.remote);
	T_EQ(t, err.code, -32601);
	T_STREQ(t, err.message, "method not found");
	T_EQ(t, err.data_len, 0);
	T_ERR(t, parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":3,"
		       "\"message\":\"execution reverted\",\"data\":\"0x4b3e3a6e\"}}",
		       1, &res, &err), ERR_PROTOCOL);
	T_EQ(t, err.code, 3);
	T_EQ(t, err.data_len, 4);
	T_EQ(t, err.data[0], 0x4b);
	/* control characters in the message are neutralised */
	T_ERR(t, parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1,"
		       "\"message\":\"a\\nb\\u001b[31m\"}}", 1, &res, &err), ERR_PROTOCOL);
	T_STREQ(t, err.message, "a?b?[31m");
	/* anvil's custom-error reverts put raw bytes, NULs too, in the
	 * message: still an error object, the NULs neutralised */
	T_ERR(t, parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":3,"
		       "\"message\":\"reverted: \\u0000\\u0001x\",\"data\":"
		       "\"0x7e273289\"}}", 1, &res, &err), ERR_PROTOCOL);
	T_TRUE(t, err.remote);
	T_STREQ(t, err.message, "reverted: ??x");
	T_EQ(t, err.data_len, 4);
	/* revert data too long for us is dropped, not overflowed */
	size_t n = 2 * JSONRPC_MAX_ERROR_DATA_BYTES + 200;
	char *big = xmalloc(n + 128);
	int k = snprintf(big, 128, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":3,\"data\":\"0x");
	memset(big + k, 'a', n);
	memcpy(big + k + n, "\"}}", 4);
	T_ERR(t, parse(big, 1, &res, &err), ERR_PROTOCOL);
	T_EQ(t, err.data_len, 0);
	free(big);
}

static void test_huge_and_deep(struct tctx *t)
{
	size_t n = JSONRPC_MAX_REPLY_BYTES + 1;
	char *big = xmalloc(n);
	json_t *res = NULL;
	struct jsonrpc_error err;

	memset(big, ' ', n);
	T_ERR(t, jsonrpc_response_parse((uint8_t *)big, n, 1, &res, &err), ERR_TOO_BIG);
	/* 100000 nested arrays: refused before jansson recurses */
	size_t d = 100000;
	memset(big, '[', d);
	memset(big + d, ']', d);
	T_ERR(t, jsonrpc_response_parse((uint8_t *)big, 2 * d, 1, &res, &err), ERR_TOO_BIG);
	/* brackets inside strings do not count */
	T_OK(t, parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", 1, &res, &err));
	json_decref(res);
	free(big);
}

static void test_quantities(struct tctx *t)
{
	uint64_t v;
	struct u256 u;
	uint8_t d[4];
	size_t n;
	json_t *j;

#define Q(s) (j = json_string(s))
	T_OK(t, jsonrpc_get_u64(Q("0x0"), &v)); json_decref(j);
	T_EQ(t, v, 0);
	T_OK(t, jsonrpc_get_u64(Q("0xffffffffffffffff"), &v)); json_decref(j);
	T_EQ(t, v, UINT64_MAX);
	T_ERR(t, jsonrpc_get_u64(Q("0x10000000000000000"), &v), ERR_RANGE); json_decref(j);
	T_ERR(t, jsonrpc_get_u64(Q("0x01"), &v), ERR_FORMAT); json_decref(j);
	T_ERR(t, jsonrpc_get_u64(Q("0x"), &v), ERR_FORMAT); json_decref(j);
	T_ERR(t, jsonrpc_get_u64(Q("12"), &v), ERR_FORMAT); json_decref(j);
	T_ERR(t, jsonrpc_get_u64(Q("0x1g"), &v), ERR_FORMAT); json_decref(j);
	j = json_integer(5);
	T_ERR(t, jsonrpc_get_u64(j, &v), ERR_FORMAT); json_decref(j);
	T_OK(t, jsonrpc_get_u256(Q("0xde0b6b3a7640000"), &u)); json_decref(j);
	T_EQ(t, u.w[0], 1000000000000000000ull);
	T_OK(t, jsonrpc_get_data(Q("0x"), d, sizeof(d), &n)); json_decref(j);
	T_EQ(t, n, 0);
	T_OK(t, jsonrpc_get_data(Q("0x01020304"), d, sizeof(d), &n)); json_decref(j);
	T_EQ(t, n, 4);
	T_ERR(t, jsonrpc_get_data(Q("0x0102030405"), d, sizeof(d), &n), ERR_TOO_BIG); json_decref(j);
	T_ERR(t, jsonrpc_get_data(Q("0x012"), d, sizeof(d), &n), ERR_FORMAT); json_decref(j);
	T_ERR(t, jsonrpc_get_fixed(Q("0x0102"), d, 4), ERR_FORMAT); json_decref(j);
#undef Q
}

static void test_log_parse(struct tctx *t)
{
	struct chain_log l;
	json_t *o;

	o = json_loads("{\"address\":\"0x1111111111111111111111111111111111111111\","
		       "\"topics\":[\"0x" "2222222222222222222222222222222222222222222222222222222222222222\"],"
		       "\"data\":\"0x0102\",\"blockNumber\":\"0x10\",\"logIndex\":\"0x0\","
		       "\"transactionHash\":\"0x3333333333333333333333333333333333333333333333333333333333333333\"}", 0, NULL);
	T_OK(t, chain_log_parse(o, &l));
	T_EQ(t, l.ntopics, 1);
	T_EQ(t, l.topics[0][0], 0x22);
	T_EQ(t, l.data_len, 2);
	T_EQ(t, l.block_number, 16);
	chain_log_clear(&l);
	json_object_set_new(o, "topics", json_pack("[ssss s]", "0x00", "0x00", "0x00", "0x00", "0x00"));
	T_ERR(t, chain_log_parse(o, &l), ERR_TOO_BIG);
	json_object_set_new(o, "topics", json_pack("[s]", "0x22"));
	T_ERR(t, chain_log_parse(o, &l), ERR_FORMAT);
	json_decref(o);
}

const struct test_case jsonrpc_tests[] = {
	{ "request", test_request, 0 },
	{ "result", test_result, 0 },
	{ "bad_replies", test_bad_replies, 0 },
	{ "error_object", test_error_object, 0 },
	{ "huge_and_deep", test_huge_and_deep, 0 },
	{ "quantities", test_quantities, 0 },
	{ "log_parse", test_log_parse, 0 },
	{ NULL, NULL, 0 }
};
