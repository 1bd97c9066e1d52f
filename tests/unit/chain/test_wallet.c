/*
 * chain/wallet: seal → open round trip, a wrong passphrase and every
 * tampered header byte refused with a clear error, costs out of bounds.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/wallet.h"
#include "crypto/base/err.h"

#include <string.h>

static void test_roundtrip(struct tctx *t)
{
	struct wallet_keys *k = wallet_keys_generate(), *back = NULL;
	struct wallet_kdf kdf = wallet_kdf_min();
	struct bbuf b = BBUF_INIT;

	T_OK(t, wallet_seal(k, "pass", 4, &kdf, &b));
	T_EQ(t, b.len, WALLET_FILE_BYTES);
	T_MEMEQ(t, b.data, WALLET_MAGIC, 8);
	/* the key bytes do not appear in clear */
	T_TRUE(t, memmem(b.data, b.len, k->account.b, 8) == NULL);
	T_OK(t, wallet_open(b.data, b.len, "pass", 4, &back));
	if (back) {
		T_MEMEQ(t, back->account.b, k->account.b, 32);
		T_MEMEQ(t, back->spend.b, k->spend.b, 32);
		T_MEMEQ(t, back->view.b, k->view.b, 32);
	}
	wallet_keys_free(back);
	back = NULL;
	T_ERR(t, wallet_open(b.data, b.len, "Pass", 4, &back), ERR_AUTH);
	T_TRUE(t, back == NULL);
	T_ERR(t, wallet_open(b.data, b.len - 1, "pass", 4, &back), ERR_TRUNCATED);
	wallet_keys_free(k);
	bbuf_free(&b);
}

static void test_tamper(struct tctx *t)
{
	struct wallet_keys *k = wallet_keys_generate(), *back = NULL;
	struct wallet_kdf kdf = wallet_kdf_min();
	struct bbuf b = BBUF_INIT;

	T_OK(t, wallet_seal(k, "pw", 2, &kdf, &b));
	b.data[0] ^= 1;
	T_ERR(t, wallet_open(b.data, b.len, "pw", 2, &back), ERR_FORMAT);
	b.data[0] ^= 1;
	b.data[8] = 2;				/* version */
	T_ERR(t, wallet_open(b.data, b.len, "pw", 2, &back), ERR_UNSUPPORTED);
	b.data[8] = 1;
	b.data[12] = 0xff;			/* opslimit 2^63+ */
	T_ERR(t, wallet_open(b.data, b.len, "pw", 2, &back), ERR_RANGE);
	b.data[12] = 0;
	b.data[21] = 0x40;			/* memlimit 2^62+: refused, not allocated */
	T_ERR(t, wallet_open(b.data, b.len, "pw", 2, &back), ERR_RANGE);
	b.data[21] = 0;
	b.data[30] ^= 1;			/* salt: authenticated via AD */
	T_ERR(t, wallet_open(b.data, b.len, "pw", 2, &back), ERR_AUTH);
	b.data[30] ^= 1;
	b.data[b.len - 1] ^= 1;			/* tag */
	T_ERR(t, wallet_open(b.data, b.len, "pw", 2, &back), ERR_AUTH);
	b.data[b.len - 1] ^= 1;
	T_OK(t, wallet_open(b.data, b.len, "pw", 2, &back));
	wallet_keys_free(back);
	wallet_keys_free(k);
	bbuf_free(&b);
}

static void test_bad_costs(struct tctx *t)
{
	struct wallet_keys *k = wallet_keys_generate();
	struct wallet_kdf kdf = { 100, 1u << 20 };
	struct bbuf b = BBUF_INIT;

	T_ERR(t, wallet_seal(k, "x", 1, &kdf, &b), ERR_RANGE);
	kdf = wallet_kdf_min();
	kdf.memlimit_bytes = 1;
	T_ERR(t, wallet_seal(k, "x", 1, &kdf, &b), ERR_RANGE);
	T_EQ(t, b.len, 0);
	wallet_keys_free(k);
}

static void test_from_invalid(struct tctx *t)
{
	struct secp_sk zero = { { 0 } }, one = { { 0 } };
	struct wallet_keys *k = NULL;

	one.b[31] = 1;
	T_ERR(t, wallet_keys_from(&zero, &one, &one, &k), ERR_CRYPTO);
	T_OK(t, wallet_keys_from(&one, &one, &one, &k));
	wallet_keys_free(k);
}

const struct test_case wallet_tests[] = {
	{ "roundtrip", test_roundtrip, 0 },
	{ "tamper", test_tamper, 0 },
	{ "bad_costs", test_bad_costs, 0 },
	{ "from_invalid", test_from_invalid, 0 },
	{ NULL, NULL, 0 }
};
