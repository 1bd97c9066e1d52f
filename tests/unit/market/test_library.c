/*
 * apps/market key library: licences kept across a reopen with their
 * public facts, holder keys and content keys; files 0600 in a 0700
 * directory; a later put without K keeps the K held; a bad file left out;
 * a licence marked sold no longer counts as held but keeps its keys;
 * and the key agent's public-key answer decoded (market_key_pubkey_decode).
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apps/market/keyagent.h"
#include "apps/market/library.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/rand.h"
#include "tests/unit/tharness.h"

static void fill(struct market_licence *l, uint8_t tag)
{
	memset(l, 0, sizeof(*l));
	memset(l->content_hash, tag, 32);
	l->index = tag;
	l->price = u256_from_u64(1000000u + tag);
	l->relayer_fee = u256_from_u64(2500);
	memset(l->holder, 0x40 + tag, 20);
	memset(l->agent, 0x80 + tag, 32);
	l->bought_at = 1700000000u + tag;
}

static void test_library(struct tctx *t)
{
	char *dir = t_tmpdir(t), *ldir, *path;
	struct market_library *lib;
	struct market_licence a, b;
	const struct market_licence *got;
	struct secp_sk ha, hb, h;
	uint8_t ka[32], k[32];
	struct stat st;
	json_t *j;

	secp_sk_generate(&ha);
	secp_sk_generate(&hb);
	rand_bytes(ka, 32);
	fill(&a, 1);
	fill(&b, 2);
	T_OK(t, market_library_open(dir, &lib));
	T_EQ(t, market_library_count(lib), 0);
	/* a: paying (no token yet), then paid, then its key */
	T_OK(t, market_library_put(lib, &a, &ha, NULL));
	T_ERR(t, market_library_content_key(lib, a.content_hash, k),
	      ERR_NOT_FOUND);
	a.has_token = true;
	a.token_id = u256_from_u64((1ull << 40) | 3);
	T_OK(t, market_library_put(lib, &a, &ha, ka));
	/* a later put without K keeps it */
	T_OK(t, market_library_put(lib, &a, &ha, NULL));
	/* b in two steps (the file on a worker, then the memory view):
	 * stored alone, the memory knows nothing of it yet */
	{
		struct market_licence w;

		T_TRUE(t, market_library_has_room(lib, b.content_hash));
		T_OK(t, market_library_store(lib, &b, &hb, NULL, &w));
		T_EQ(t, market_library_count(lib), 1);
		T_TRUE(t, !w.has_key);
		T_MEMEQ(t, w.content_hash, b.content_hash, 32);
		market_library_note(lib, &w);
		T_EQ(t, market_library_count(lib), 2);
		/* a stored K comes back as has_key */
		T_OK(t, market_library_store(lib, &a, &ha, NULL, &w));
		T_TRUE(t, w.has_key);
	}
	T_OK(t, market_library_put(lib, &b, &hb, NULL));
	T_EQ(t, market_library_count(lib), 2);
	market_library_free(lib);

	ldir = malloc(strlen(dir) + 64);
	snprintf(ldir, strlen(dir) + 64, "%s/%s", dir, MARKET_LIBRARY_DIR);
	T_OK(t, stat(ldir, &st));
	T_EQ(t, st.st_mode & 0777, 0700);
	path = malloc(strlen(ldir) + 80);
	snprintf(path, strlen(ldir) + 80, "%s/%s", ldir,
		 "0101010101010101010101010101010101010101010101010101010101010101");
	T_OK(t, stat(path, &st));
	T_EQ(t, st.st_mode & 0777, 0600);
	/* a file that does not parse is left out */
	snprintf(path, strlen(ldir) + 80, "%s/%s", ldir,
		 "0303030303030303030303030303030303030303030303030303030303030303");
	T_OK(t, fsutil_write_atomic(path, "content 03\n", 11, 0600, true));

	T_OK(t, market_library_open(dir, &lib));
	T_EQ(t, market_library_count(lib), 2);
	got = market_library_find(lib, a.content_hash);
	T_TRUE(t, got != NULL);
	if (got) {
		T_TRUE(t, got->has_key);
		T_TRUE(t, got->has_token);
		T_EQ(t, u256_cmp(&got->token_id, &a.token_id), 0);
		T_EQ(t, u256_cmp(&got->price, &a.price), 0);
		T_EQ(t, u256_cmp(&got->relayer_fee, &a.relayer_fee), 0);
		T_EQ(t, got->index, 1);
		T_EQ(t, got->bought_at, a.bought_at);
		T_MEMEQ(t, got->holder, a.holder, 20);
		T_MEMEQ(t, got->agent, a.agent, 32);
	}
	T_OK(t, market_library_content_key(lib, a.content_hash, k));
	T_MEMEQ(t, k, ka, 32);
	T_OK(t, market_library_holder_key(lib, a.content_hash, &h));
	T_MEMEQ(t, h.b, ha.b, 32);
	got = market_library_find(lib, b.content_hash);
	T_TRUE(t, got && !got->has_key && !got->has_token);
	T_ERR(t, market_library_content_key(lib, b.content_hash, k),
	      ERR_NOT_FOUND);
	T_OK(t, market_library_holder_key(lib, b.content_hash, &h));
	T_MEMEQ(t, h.b, hb.b, 32);
	memset(k, 3, 32);
	T_ERR(t, market_library_content_key(lib, k, k), ERR_NOT_FOUND);
	j = market_library_json(lib);
	T_EQ(t, json_array_size(json_object_get(j, "licences")), 2);
	T_EQ(t, json_array_size(json_object_get(j, "sold")), 0);
	json_decref(j);
	T_EQ(t, market_library_held(lib), 2);

	/* a sold: out of the held ones, across a reopen, K and the holder
	 * key kept; marking it again keeps the first time */
	T_OK(t, market_library_mark_sold(lib, a.content_hash, 1800000000u));
	T_OK(t, market_library_mark_sold(lib, a.content_hash, 1900000000u));
	T_ERR(t, market_library_mark_sold(lib, k, 1800000000u), ERR_NOT_FOUND);
	T_EQ(t, market_library_held(lib), 1);
	T_EQ(t, market_library_count(lib), 2);
	market_library_free(lib);
	T_OK(t, market_library_open(dir, &lib));
	T_EQ(t, market_library_count(lib), 2);
	T_EQ(t, market_library_held(lib), 1);
	got = market_library_find(lib, a.content_hash);
	T_TRUE(t, got && got->sold_at == 1800000000u && got->has_key &&
		  got->has_token);
	T_TRUE(t, market_library_find(lib, b.content_hash)->sold_at == 0);
	T_OK(t, market_library_content_key(lib, a.content_hash, k));
	T_MEMEQ(t, k, ka, 32);
	T_OK(t, market_library_holder_key(lib, a.content_hash, &h));
	T_MEMEQ(t, h.b, ha.b, 32);
	j = market_library_json(lib);
	T_EQ(t, json_array_size(json_object_get(j, "licences")), 1);
	T_EQ(t, json_array_size(json_object_get(j, "sold")), 1);
	T_TRUE(t, json_is_false(json_object_get(json_array_get(
		json_object_get(j, "sold"), 0), "held")));
	T_EQ(t, json_integer_value(json_object_get(json_array_get(
		json_object_get(j, "sold"), 0), "sold_at")), 1800000000);
	T_TRUE(t, json_is_true(json_object_get(json_array_get(
		json_object_get(j, "licences"), 0), "held")));
	json_decref(j);
	market_library_free(lib);
	free(path);
	free(ldir);
	t_rmtree(dir);
	free(dir);
}

static void test_pubkey_decode(struct tctx *t)
{
	struct secp_sk a;
	struct secp_pk A, got;
	uint8_t buf[SECP_PK_BYTES];

	secp_sk_generate(&a);
	T_OK(t, secp_sk_pubkey(&a, &A));
	T_OK(t, market_key_pubkey_decode(A.b, SECP_PK_BYTES, &got));
	T_MEMEQ(t, got.b, A.b, SECP_PK_BYTES);
	T_ERR(t, market_key_pubkey_decode(A.b, SECP_PK_BYTES - 1, &got),
	      ERR_FORMAT);
	memcpy(buf, A.b, sizeof(buf));
	buf[0] = 4;
	T_ERR(t, market_key_pubkey_decode(buf, sizeof(buf), &got), ERR_FORMAT);
}

const struct test_case market_library_tests[] = {
	{ "library", test_library, 0 },
	{ "pubkey_decode", test_pubkey_decode, 0 },
	{ NULL, NULL, 0 }
};
