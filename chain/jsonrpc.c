/*
 * JSON-RPC 2.0 (www.jsonrpc.org/specification) for Ethereum's eth_*
 * methods (ethereum.org, "JSON-RPC API": quantities are "0x"-prefixed hex
 * with no leading zeros, data is "0x"-prefixed hex of even length).
 * Replies are untrusted: size and depth are bounded before jansson builds
 * the tree, and every field is type-checked before use.
 */
#include "config.h"
#include "chain/jsonrpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/encode.h"

#include <stdio.h>
#include <string.h>

int jsonrpc_request_format(uint64_t id, const char *method, json_t *params,
			   char **out, size_t *out_len)
{
	json_t *req;
	char *s;

	if (!params)
		params = json_array();
	if (!json_is_array(params)) {
		json_decref(params);
		return ERR_ARG;
	}
	req = json_object();
	json_object_set_new(req, "jsonrpc", json_string("2.0"));
	json_object_set_new(req, "id", json_integer((json_int_t)id));
	json_object_set_new(req, "method", json_string(method));
	json_object_set_new(req, "params", params);
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!s)
		return ERR_INTERNAL;
	*out = s;
	*out_len = strlen(s);
	return 0;
}

bool jsonrpc_depth_ok(const uint8_t *p, size_t n)
{
	unsigned depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > JSONRPC_MAX_DEPTH)
				return false;
		} else if ((c == ']' || c == '}') && depth) {
			depth--;
		}
	}
	return true;
}

static void copy_printable(char *out, size_t outlen, const char *s,
			   size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[k] = '\0';
}

static int parse_error(const json_t *eo, struct jsonrpc_error *err)
{
	const json_t *code = json_object_get(eo, "code");
	const json_t *msg = json_object_get(eo, "message");
	const json_t *data = json_object_get(eo, "data");
	struct jsonrpc_error e = { 0 };

	if (!json_is_object(eo) || !json_is_integer(code))
		return ERR_FORMAT;
	e.code = json_integer_value(code);
	if (json_is_string(msg))
		copy_printable(e.message, sizeof(e.message),
			       json_string_value(msg), json_string_length(msg));
	/* geth and anvil put revert data in "data" as a hex string (anvil
	 * may nest it as {"data": "0x…"}); anything else is ignored. */
	if (json_is_object(data))
		data = json_object_get(data, "data");
	if (json_is_string(data) &&
	    jsonrpc_get_data(data, e.data, sizeof(e.data), &e.data_len) != 0)
		e.data_len = 0;
	e.remote = true;
	*err = e;
	return 0;
}

int jsonrpc_response_parse(const uint8_t *body, size_t len, uint64_t id,
			   json_t **result, struct jsonrpc_error *err)
{
	json_t *root = NULL, *v, *res, *eo;
	json_error_t jerr;
	int r;

	memset(err, 0, sizeof(*err));
	if (len > JSONRPC_MAX_REPLY_BYTES || !jsonrpc_depth_ok(body, len)) {
		snprintf(err->message, sizeof(err->message),
			 "reply too big (%zu bytes) or nested too deep", len);
		return ERR_TOO_BIG;
	}
	/* anvil's revert messages carry custom-error arguments as raw
	 * bytes, \u0000 included: allow them (strings are read by length). */
	root = json_loadb((const char *)body, len,
			  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!root || !json_is_object(root)) {
		snprintf(err->message, sizeof(err->message),
			 "reply is not a JSON object");
		r = ERR_FORMAT;
		goto out;
	}
	v = json_object_get(root, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		snprintf(err->message, sizeof(err->message),
			 "reply is not JSON-RPC 2.0");
		r = ERR_PROTOCOL;
		goto out;
	}
	v = json_object_get(root, "id");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) != id) {
		snprintf(err->message, sizeof(err->message),
			 "reply id does not match request %llu",
			 (unsigned long long)id);
		r = ERR_PROTOCOL;
		goto out;
	}
	res = json_object_get(root, "result");
	eo = json_object_get(root, "error");
	if (eo && !json_is_null(eo)) {
		if ((r = parse_error(eo, err)) == 0)
			r = ERR_PROTOCOL;
		else
			snprintf(err->message, sizeof(err->message),
				 "malformed error object");
		goto out;
	}
	if (!res) {
		snprintf(err->message, sizeof(err->message),
			 "reply has neither result nor error");
		r = ERR_FORMAT;
		goto out;
	}
	*result = json_incref(res);
	r = 0;
out:
	json_decref(root);
	return r;
}

/* A quantity string: "0x", then 1..64 hex digits, no leading zero unless
 * it is "0x0" (u256_parse checks the digits). */
int jsonrpc_get_u256(const json_t *v, struct u256 *out)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return ERR_FORMAT;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len < 3 || s[0] != '0' || s[1] != 'x' || (len > 3 && s[2] == '0'))
		return ERR_FORMAT;
	return u256_parse(out, s, len);
}

int jsonrpc_get_u64(const json_t *v, uint64_t *out)
{
	struct u256 u;
	int e;

	if ((e = jsonrpc_get_u256(v, &u)) != 0)
		return e;
	if (!u256_fits_u64(&u))
		return ERR_RANGE;
	*out = u.w[0];
	return 0;
}

int jsonrpc_get_data(const json_t *v, uint8_t *out, size_t max, size_t *len)
{
	const char *s;
	size_t n, got;
	int e;

	if (!json_is_string(v))
		return ERR_FORMAT;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n < 2 || s[0] != '0' || s[1] != 'x' || n % 2)
		return ERR_FORMAT;
	if ((n - 2) / 2 > max)
		return ERR_TOO_BIG;
	if (n == 2) {
		*len = 0;
		return 0;
	}
	if ((e = hex_decode(out, max, &got, s + 2, n - 2)) != 0)
		return e;
	*len = got;
	return 0;
}

int jsonrpc_get_data_buf(const json_t *v, size_t max, struct bbuf *out)
{
	size_t n, got, before = out->len;
	uint8_t *p;
	int e;

	if (!json_is_string(v))
		return ERR_FORMAT;
	n = json_string_length(v);
	if (n < 2)
		return ERR_FORMAT;
	if ((n - 2) / 2 > max)
		return ERR_TOO_BIG;
	if ((n - 2) / 2 == 0)	/* "0x" or bad: no bbuf_extend(0) (NULL + 0) */
		return jsonrpc_get_data(v, NULL, 0, &got);
	p = bbuf_extend(out, (n - 2) / 2);
	if ((e = jsonrpc_get_data(v, p, (n - 2) / 2, &got)) != 0) {
		out->len = before;
		return e;
	}
	return 0;
}

int jsonrpc_get_fixed(const json_t *v, uint8_t *out, size_t n)
{
	uint8_t tmp[64];
	size_t got;
	int e;

	if (n > sizeof(tmp))
		return ERR_ARG;
	if ((e = jsonrpc_get_data(v, tmp, n, &got)) != 0)
		return e;
	if (got != n)
		return ERR_FORMAT;
	memcpy(out, tmp, n);
	return 0;
}

json_t *jsonrpc_hex_u64(uint64_t v)
{
	struct u256 u = u256_from_u64(v);

	return jsonrpc_hex_u256(&u);
}

json_t *jsonrpc_hex_u256(const struct u256 *v)
{
	char buf[U256_HEX_BYTES];

	return json_string(u256_format_hex(v, buf, sizeof(buf)));
}

json_t *jsonrpc_hex_data(const void *p, size_t n)
{
	size_t sz = 2 + HEX_ENC_LEN(n);
	char *s = xmalloc(sz);
	json_t *j;

	s[0] = '0';
	s[1] = 'x';
	(void)hex_encode(s + 2, sz - 2, p, n);
	j = json_string(s);
	free(s);
	return j;
}

json_t *jsonrpc_hex_address(const uint8_t addr[ETH_ADDR_BYTES])
{
	return jsonrpc_hex_data(addr, ETH_ADDR_BYTES);
}

void chain_log_clear(struct chain_log *l)
{
	free(l->data);
	memset(l, 0, sizeof(*l));
}

int chain_log_parse(const json_t *obj, struct chain_log *out)
{
	struct chain_log l = { 0 };
	const json_t *topics, *t, *rm;
	struct bbuf data = BBUF_INIT;
	size_t i;
	int e;

	if (!json_is_object(obj))
		return ERR_FORMAT;
	topics = json_object_get(obj, "topics");
	if (!json_is_array(topics))
		return ERR_FORMAT;
	if (json_array_size(topics) > CHAIN_LOG_MAX_TOPICS)
		return ERR_TOO_BIG;
	if ((e = jsonrpc_get_fixed(json_object_get(obj, "address"), l.address,
				   ETH_ADDR_BYTES)) != 0 ||
	    (e = jsonrpc_get_u64(json_object_get(obj, "blockNumber"),
				 &l.block_number)) != 0 ||
	    (e = jsonrpc_get_u64(json_object_get(obj, "logIndex"),
				 &l.log_index)) != 0 ||
	    (e = jsonrpc_get_fixed(json_object_get(obj, "transactionHash"),
				   l.tx_hash, 32)) != 0)
		return e;
	json_array_foreach(topics, i, t) {
		if ((e = jsonrpc_get_fixed(t, l.topics[i], 32)) != 0)
			return e;
	}
	l.ntopics = json_array_size(topics);
	if ((e = jsonrpc_get_data_buf(json_object_get(obj, "data"),
				      CHAIN_LOG_MAX_DATA_BYTES, &data)) != 0) {
		bbuf_free(&data);
		return e;
	}
	rm = json_object_get(obj, "removed");
	l.removed = json_is_true(rm);
	l.data = bbuf_steal(&data, &l.data_len);
	*out = l;
	return 0;
}
