/*
 * libFuzzer target: JSON-RPC reply handling.  The input is the body a
 * node sends back; each client call gets a fresh client whose eth_chainId
 * check passes (id 1) so the input answers request id 2.
 */
#include "config.h"
#include "chain/jsonrpc.h"
#include "chain/rpc.h"
#include "crypto/base/err.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	const uint8_t *data;
	size_t size;
	unsigned calls;
};

static int fz_exchange(void *ctx, const char *req, size_t req_len,
		       size_t max_reply, struct bbuf *reply, const char **why)
{
	static const char chain[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x7a69\"}";
	struct fz *f = ctx;

	(void)req;
	(void)req_len;
	(void)why;
	if (f->calls++ == 0) {
		bbuf_put(reply, chain, strlen(chain));
		return 0;
	}
	if (f->size > max_reply)
		return ERR_TOO_BIG;
	bbuf_put(reply, f->data, f->size);
	return 0;
}

static int on_log(void *arg, const struct chain_log *l)
{
	(void)arg;
	return l->data_len > 1000000 ? 1 : 0;
}

static struct chain_client *fresh(struct fz *f)
{
	struct chain_transport t = { fz_exchange, NULL, f };

	f->calls = 0;
	return chain_client_new(&t, 31337);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size, 0 };
	struct chain_client *c;
	struct chain_receipt rc;
	struct jsonrpc_error err;
	struct bbuf out = BBUF_INIT;
	struct u256 a, b;
	uint8_t h[32] = { 0 }, to[20] = { 0 };
	uint64_t v;
	json_t *res = NULL;

	if (jsonrpc_response_parse(data, size, 2, &res, &err) == 0) {
		struct chain_log l;
		size_t i;
		json_t *o;
		(void)jsonrpc_get_u64(res, &v);
		(void)jsonrpc_get_u256(res, &a);
		if (json_is_array(res))
			json_array_foreach(res, i, o)
				if (chain_log_parse(o, &l) == 0)
					chain_log_clear(&l);
		json_decref(res);
	}
	c = fresh(&f);
	(void)chain_block_number(c, &v);
	chain_client_free(c);
	c = fresh(&f);
	if (chain_get_receipt(c, h, &rc) == 0)
		chain_receipt_clear(&rc);
	chain_client_free(c);
	c = fresh(&f);
	(void)chain_get_logs(c, 0, 10, NULL, on_log, NULL);
	chain_client_free(c);
	c = fresh(&f);
	(void)chain_fees(c, &a, &b);
	chain_client_free(c);
	c = fresh(&f);
	(void)chain_call(c, NULL, to, NULL, 0, &out);
	chain_client_free(c);
	bbuf_free(&out);
	return 0;
}
