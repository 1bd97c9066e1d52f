/* apps/feed/did: the index of feed keys named in DIDs on chain. */
#include "config.h"
#include "apps/feed/did.h"
#include "apps/feed/didscan.h"
#include "chain/calls.h"
#include "chain/jsonrpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "tests/unit/feed/tfeed.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000u

static void attr_name(uint8_t name[32], const char *s)
{
	memset(name, 0, 32);
	memcpy(name, s, strlen(s));
}

static void test_identity(struct tctx *t)
{
	uint8_t id[20], want[20];

	memset(want, 0xab, 20);
	want[19] = 0x01;
	T_TRUE(t, feed_did_identity("did:ethr:0x"
				     "ABabababababababababababababababababab01", id));
	T_MEMEQ(t, id, want, 20);
	memset(id, 0, 20);
	T_TRUE(t, feed_did_identity("did:ethr:sepolia:0x"
				     "ababababababababababababababababababab01", id));
	T_MEMEQ(t, id, want, 20);
	T_FALSE(t, feed_did_identity("", id));
	T_FALSE(t, feed_did_identity("did:ethr:0x12", id));
	T_FALSE(t, feed_did_identity("did:web:example.com", id));
	T_FALSE(t, feed_did_identity("did:ethr:0x"
				     "zbabababababababababababababababababab01", id));
	T_FALSE(t, feed_did_identity("did:ethr:0x"
				     "ababababababababababababababababababab0100", id));
}

/* did:ethr of the identity whose 20 bytes are all b. */
static void did_of(char out[64], uint8_t b)
{
	int i, o = snprintf(out, 64, "did:ethr:0x");

	for (i = 0; i < 20; i++)
		o += snprintf(out + o, (size_t)(64 - o), "%02x", b);
}

static void test_index(struct tctx *t)
{
	struct feed_did_index *x = feed_did_new();
	struct ed25519_pk k1, k2;
	uint8_t name[32], other[32], ida[20], idb[20], val[33];
	char dida[64], didb[64];
	unsigned i;

	tf_pk(1, &k1);
	tf_pk(2, &k2);
	memset(ida, 0xaa, 20);
	memset(idb, 0xbb, 20);
	did_of(dida, 0xaa);
	did_of(didb, 0xbb);
	attr_name(name, FEED_DID_KEY_ATTR);
	attr_name(other, "did/svc/KeyAgent");

	/* Nothing known: nobody favoured. */
	T_FALSE(t, feed_did_favoured(x, &k1, dida, NOW));
	/* Other attributes are ignored; a key value is 32 bytes. */
	T_OK(t, feed_did_apply(x, ida, other, k1.b, 32, NOW + 100));
	T_EQ(t, feed_did_count(x), 0);
	memcpy(val, k1.b, 32);
	val[32] = 0;
	T_ERR(t, feed_did_apply(x, ida, name, val, 33, NOW + 100),
	      ERR_FORMAT);
	T_ERR(t, feed_did_apply(x, ida, name, val, 20, NOW + 100),
	      ERR_FORMAT);
	T_EQ(t, feed_did_count(x), 0);

	/* Identity a names k1 until NOW + 100. */
	T_OK(t, feed_did_apply(x, ida, name, k1.b, 32, NOW + 100));
	T_EQ(t, feed_did_count(x), 1);
	T_TRUE(t, feed_did_favoured(x, &k1, dida, NOW));
	T_TRUE(t, feed_did_favoured(x, &k1, dida, NOW + 99));
	T_FALSE(t, feed_did_favoured(x, &k1, dida, NOW + 100));	/* expired */
	T_FALSE(t, feed_did_favoured(x, &k2, dida, NOW));	/* not its key */
	T_FALSE(t, feed_did_favoured(x, &k1, didb, NOW));	/* other DID */
	T_FALSE(t, feed_did_favoured(x, &k1, "", NOW));
	T_FALSE(t, feed_did_favoured(x, &k1, "did:ethr:0x1", NOW));
	/* Revoked (validTo 0), then named again: one pair throughout. */
	T_OK(t, feed_did_apply(x, ida, name, k1.b, 32, 0));
	T_FALSE(t, feed_did_favoured(x, &k1, dida, NOW));
	T_OK(t, feed_did_apply(x, ida, name, k1.b, 32, NOW + 1000));
	T_TRUE(t, feed_did_favoured(x, &k1, dida, NOW + 500));
	T_EQ(t, feed_did_count(x), 1);

	/* Many identities and keys, in no order: each found. */
	for (i = 0; i < 300; i++) {
		uint8_t id[20], key[32];

		memset(id, (int)(i * 37 % 251), 20);
		id[0] = (uint8_t)i;
		id[1] = (uint8_t)(i >> 8);
		memset(key, (int)(i * 91 % 256), 32);
		T_OK(t, feed_did_apply(x, id, name, key, 32, NOW + i + 1));
	}
	T_EQ(t, feed_did_count(x), 301);
	for (i = 0; i < 300; i++) {
		struct ed25519_pk key;
		char did[64];
		int o = snprintf(did, sizeof(did), "did:ethr:0x%02x%02x",
				 (uint8_t)i, (uint8_t)(i >> 8)), j;

		for (j = 2; j < 20; j++)
			o += snprintf(did + o, sizeof(did) - (size_t)o, "%02x",
				      (uint8_t)(i * 37 % 251));
		memset(key.b, (int)(i * 91 % 256), 32);
		T_TRUE(t, feed_did_favoured(x, &key, did, NOW + i));
		T_FALSE(t, feed_did_favoured(x, &key, did, NOW + i + 1));
	}
	T_TRUE(t, feed_did_favoured(x, &k1, dida, NOW));
	feed_did_free(x);
}

/* The index saved and loaded: pairs valid at the save kept, the next
 * block, another source refused, damaged files refused whole. */
static void test_save_load(struct tctx *t)
{
	struct feed_did_index *x = feed_did_new(), *y = feed_did_new();
	struct ed25519_pk k1, k2, k3;
	uint8_t name[32], ida[20], idb[20], src[32], other[32];
	struct bbuf b = BBUF_INIT;
	char dida[64], didb[64];
	uint64_t next = 0;
	uint8_t *bad;

	tf_pk(1, &k1);
	tf_pk(2, &k2);
	tf_pk(3, &k3);
	memset(ida, 0xaa, 20);
	memset(idb, 0xbb, 20);
	did_of(dida, 0xaa);
	did_of(didb, 0xbb);
	attr_name(name, FEED_DID_KEY_ATTR);
	memset(src, 7, 32);
	memset(other, 8, 32);
	T_OK(t, feed_did_apply(x, ida, name, k1.b, 32, NOW + 100));
	T_OK(t, feed_did_apply(x, ida, name, k2.b, 32, NOW - 1));  /* ended */
	T_OK(t, feed_did_apply(x, idb, name, k3.b, 32, NOW + 5));
	T_OK(t, feed_did_apply(x, idb, name, k1.b, 32, 0));	/* revoked */
	T_EQ(t, feed_did_count(x), 4);
	feed_did_save(x, src, 1234, NOW, &b);
	T_EQ(t, b.len, FEED_DID_FILE_HEAD + 2 * FEED_DID_FILE_PAIR);

	T_OK(t, feed_did_load(y, src, b.data, b.len, &next));
	T_EQ(t, next, 1234);
	T_EQ(t, feed_did_count(y), 2);
	T_TRUE(t, feed_did_favoured(y, &k1, dida, NOW));
	T_TRUE(t, feed_did_favoured(y, &k3, didb, NOW + 4));
	T_FALSE(t, feed_did_favoured(y, &k3, didb, NOW + 5));
	T_FALSE(t, feed_did_favoured(y, &k2, dida, NOW - 2));
	T_FALSE(t, feed_did_favoured(y, &k1, didb, NOW));
	/* Loaded pairs are updated by later events like any. */
	T_OK(t, feed_did_apply(y, ida, name, k1.b, 32, 0));
	T_FALSE(t, feed_did_favoured(y, &k1, dida, NOW));
	T_EQ(t, feed_did_count(y), 2);

	/* Another chain or registry: nothing taken. */
	next = 99;
	T_ERR(t, feed_did_load(y, other, b.data, b.len, &next),
	      ERR_NOT_FOUND);
	T_EQ(t, feed_did_count(y), 0);
	T_EQ(t, next, 99);
	/* Damaged: every length short of the whole, a bad magic, version,
	 * count, pairs out of order or twice. */
	for (size_t n = 0; n < b.len; n++)
		T_ERR(t, feed_did_load(y, src, b.data, n, &next), ERR_FORMAT);
	bad = xmalloc(b.len + 1);
	memcpy(bad, b.data, b.len);
	bad[b.len] = 0;
	T_ERR(t, feed_did_load(y, src, bad, b.len + 1, &next), ERR_FORMAT);
	bad[0] ^= 1;
	T_ERR(t, feed_did_load(y, src, bad, b.len, &next), ERR_FORMAT);
	bad[0] ^= 1;
	bad[4] = 2;
	T_ERR(t, feed_did_load(y, src, bad, b.len, &next), ERR_FORMAT);
	bad[4] = 1;
	bad[FEED_DID_FILE_HEAD - 1] = 3;
	T_ERR(t, feed_did_load(y, src, bad, b.len, &next), ERR_FORMAT);
	bad[FEED_DID_FILE_HEAD - 1] = 2;
	memcpy(bad + FEED_DID_FILE_HEAD + FEED_DID_FILE_PAIR,
	       bad + FEED_DID_FILE_HEAD, FEED_DID_FILE_PAIR);
	T_ERR(t, feed_did_load(y, src, bad, b.len, &next), ERR_FORMAT);
	T_EQ(t, feed_did_count(y), 0);
	T_EQ(t, next, 99);
	T_OK(t, feed_did_load(y, src, b.data, b.len, &next));
	T_EQ(t, feed_did_count(y), 2);
	free(bad);
	bbuf_free(&b);
	feed_did_free(y);
	feed_did_free(x);
}

/* ---- feed_did_scan against a scripted node ---- */

#define REGISTRY "0x5fbdb2315678afecb367f032d93f642f64180aa3"

struct scripted_log {
	uint64_t block;
	const char *address;
	uint8_t identity;	/* all 20 bytes */
	const char *name;
	uint8_t key;		/* the value's bytes */
	size_t value_len;
	uint64_t valid_to;
};

struct node {
	uint64_t tip;
	const struct scripted_log *logs;
	size_t nlogs;
	unsigned get_logs;
};

static void hex_word_u64(char *out, uint64_t v)
{
	snprintf(out, 65, "%064llx", (unsigned long long)v);
}

/* The log's JSON as eth_getLogs gives it. */
static json_t *log_json(const struct scripted_log *l)
{
	char t0[67] = "0x", t1[67], data[2 + 64 * 7 + 1] = "0x", w[65], blk[24];
	uint8_t topic[32], name[32] = { 0 };
	size_t o = 2;

	chain_event_topic(topic, EV_DID_ATTRIBUTE);
	hex_encode(t0 + 2, sizeof(t0) - 2, topic, 32);
	snprintf(t1, sizeof(t1), "0x%024d", 0);
	for (int i = 0; i < 20; i++)
		snprintf(t1 + 26 + 2 * i, 3, "%02x", l->identity);
	memcpy(name, l->name, strlen(l->name));
	hex_encode(data + o, 65, name, 32);
	o += 64;
	hex_word_u64(data + o, 0x80);		/* the value's offset */
	o += 64;
	hex_word_u64(data + o, l->valid_to);
	o += 64;
	hex_word_u64(data + o, 0);		/* previousChange */
	o += 64;
	hex_word_u64(data + o, l->value_len);
	o += 64;
	for (size_t i = 0; i < 64; i++) {	/* value, two words */
		memset(w, '0', 2);
		if (i < l->value_len)
			snprintf(w, 3, "%02x", l->key);
		memcpy(data + o + 2 * i, w, 2);
	}
	o += 128;
	data[o] = '\0';
	snprintf(blk, sizeof(blk), "0x%llx", (unsigned long long)l->block);
	return json_pack("{s:s,s:[s,s],s:s,s:s,s:s,s:s}", "address",
			 l->address, "topics", t0, t1, "data", data,
			 "blockNumber", blk, "logIndex", "0x0",
			 "transactionHash", "0x" "33333333333333333333333333333333"
			 "33333333333333333333333333333333");
}

static int node_exchange(void *ctx, const char *req, size_t req_len,
			 size_t max_reply, struct bbuf *reply,
			 const char **why)
{
	struct node *nd = ctx;
	json_t *j = json_loadb(req, req_len, 0, NULL), *res, *r;
	const char *m = json_string_value(json_object_get(j, "method"));
	char *out;

	(void)why;
	if (!strcmp(m, "eth_chainId")) {
		res = json_string("0x7a69");
	} else if (!strcmp(m, "eth_blockNumber")) {
		char b[24];

		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)nd->tip);
		res = json_string(b);
	} else {	/* eth_getLogs */
		json_t *q = json_array_get(json_object_get(j, "params"), 0);
		uint64_t from = 0, to = 0;

		nd->get_logs++;
		(void)jsonrpc_get_u64(json_object_get(q, "fromBlock"), &from);
		(void)jsonrpc_get_u64(json_object_get(q, "toBlock"), &to);
		res = json_array();
		for (size_t i = 0; i < nd->nlogs; i++)
			if (nd->logs[i].block >= from && nd->logs[i].block <= to)
				json_array_append_new(res,
						      log_json(&nd->logs[i]));
	}
	r = json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id",
		      json_object_get(j, "id"), "result", res);
	out = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	json_decref(j);
	if (strlen(out) > max_reply) {
		free(out);
		return ERR_TOO_BIG;
	}
	bbuf_put(reply, out, strlen(out));
	free(out);
	return 0;
}

/* Key events from the registry only, in chain order, a block range at a
 * time and up to the tip; other attributes, other contracts and bad
 * values left out of the index. */
static void test_scan(struct tctx *t)
{
	static const struct scripted_log logs[] = {
		{ 2, REGISTRY, 0xaa, FEED_DID_KEY_ATTR, 0x11, 32, NOW + 100 },
		{ 3, REGISTRY, 0xaa, "did/svc/KeyAgent", 0x22, 32, NOW + 100 },
		{ 3, "0x1111111111111111111111111111111111111111", 0xbb,
		  FEED_DID_KEY_ATTR, 0x33, 32, NOW + 100 },
		{ 4, REGISTRY, 0xbb, FEED_DID_KEY_ATTR, 0x44, 33, NOW + 100 },
		{ 6, REGISTRY, 0xbb, FEED_DID_KEY_ATTR, 0x55, 32, NOW + 100 },
		{ 9, REGISTRY, 0xaa, FEED_DID_KEY_ATTR, 0x11, 32, 0 },
	};
	struct node nd = { .tip = 7, .logs = logs,
			   .nlogs = sizeof(logs) / sizeof(logs[0]) };
	struct chain_transport tr = { node_exchange, NULL, &nd };
	struct chain_client *cc = chain_client_new(&tr, 31337);
	struct feed_did_index *x = feed_did_new();
	struct feed_did_scan s = { 0 };
	struct ed25519_pk k11, k33, k44, k55;
	uint8_t reg[20];
	char dida[64], didb[64];
	size_t got;

	T_OK(t, hex_decode(reg, 20, &got, &REGISTRY[2], 40));
	memset(k11.b, 0x11, 32);
	memset(k33.b, 0x33, 32);
	memset(k44.b, 0x44, 32);
	memset(k55.b, 0x55, 32);
	did_of(dida, 0xaa);
	did_of(didb, 0xbb);

	/* Blocks 0-3: the registry's key event of block 2 only. */
	T_OK(t, feed_did_scan(cc, reg, 0, 4, &s));
	T_EQ(t, s.from, 0);
	T_EQ(t, s.next, 4);
	T_EQ(t, s.tip, 7);
	T_EQ(t, s.nev, 1);
	T_EQ(t, s.bad, 0);
	T_EQ(t, feed_did_scan_apply(x, &s), 1);
	T_TRUE(t, feed_did_favoured(x, &k11, dida, NOW));
	/* Blocks 4-7 (the tip stops it): a 33-byte value refused, then
	 * b's key. */
	T_OK(t, feed_did_scan(cc, reg, s.next, 100, &s));
	T_EQ(t, s.from, 4);
	T_EQ(t, s.next, 8);
	T_EQ(t, s.nev, 2);
	T_FALSE(t, s.ev[0].key_ok);
	T_EQ(t, s.ev[1].block, 6);
	T_EQ(t, feed_did_scan_apply(x, &s), 1);
	T_EQ(t, feed_did_count(x), 2);
	T_TRUE(t, feed_did_favoured(x, &k55, didb, NOW));
	T_FALSE(t, feed_did_favoured(x, &k33, didb, NOW));
	T_FALSE(t, feed_did_favoured(x, &k44, didb, NOW));
	/* Past the tip: nothing asked. */
	nd.get_logs = 0;
	T_OK(t, feed_did_scan(cc, reg, 8, 100, &s));
	T_EQ(t, s.next, 8);
	T_EQ(t, s.nev, 0);
	T_EQ(t, nd.get_logs, 0);
	/* The chain goes on: a's key revoked in block 9. */
	nd.tip = 12;
	T_OK(t, feed_did_scan(cc, reg, 8, 100, &s));
	T_EQ(t, s.next, 13);
	T_EQ(t, feed_did_scan_apply(x, &s), 1);
	T_FALSE(t, feed_did_favoured(x, &k11, dida, NOW));
	T_TRUE(t, feed_did_favoured(x, &k55, didb, NOW));
	feed_did_scan_clear(&s);
	feed_did_free(x);
	chain_client_free(cc);
}

const struct test_case feed_did_tests[] = {
	{ "identity", test_identity, 0 },
	{ "index", test_index, 0 },
	{ "save_load", test_save_load, 0 },
	{ "scan", test_scan, 0 },
	{ NULL, NULL, 0 }
};
