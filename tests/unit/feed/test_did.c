/* apps/feed/did: the index of feed keys named in DIDs on chain. */
#include "config.h"
#include "apps/feed/did.h"
#include "crypto/base/err.h"
#include "tests/unit/feed/tfeed.h"

#include <stdio.h>
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

const struct test_case feed_did_tests[] = {
	{ "identity", test_identity, 0 },
	{ "index", test_index, 0 },
	{ NULL, NULL, 0 }
};
