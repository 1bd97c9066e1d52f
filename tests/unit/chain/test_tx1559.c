/*
 * chain/tx1559: the unsigned payload laid out by hand from EIP-1559's
 * field list, sign → decode → recover round trips, and malformed raw
 * transactions refused.  (cast decodes our raw transactions in
 * tests/integration/test_chain_xcheck.sh, and anvil mines them.)
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "chain/rlp.h"
#include "chain/tx1559.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/keccak.h"

#include <stdlib.h>
#include <string.h>

static void simple_tx(struct tx1559 *tx)
{
	memset(tx, 0, sizeof(*tx));
	tx->chain_id = 1;
	tx->nonce = 0;
	tx->max_priority_fee = u256_from_u64(1000000000);
	tx->max_fee = u256_from_u64(2000000000);
	tx->gas_limit = 21000;
	tx->has_to = true;
	memset(tx->to, 0x11, 20);
	tx->value = u256_from_u64(1);
}

static void test_signing_payload(struct tctx *t)
{
	/* 0x02 ‖ rlp([1, 0, 1 gwei, 2 gwei, 21000, 0x11…11, 1, "", []]) */
	static const char hex[] =
		"02e7018084" "3b9aca00" "84" "77359400" "825208" "94"
		"1111111111111111111111111111111111111111" "01" "80" "c0";
	uint8_t want[64], h[32], hw[32];
	size_t n;
	struct tx1559 tx;

	T_OK(t, hex_decode(want, sizeof(want), &n, hex, strlen(hex)));
	T_EQ(t, n, 41);
	simple_tx(&tx);
	tx1559_signing_hash(&tx, h);
	keccak256(hw, want, n);
	T_MEMEQ(t, h, hw, 32);
}

static void test_sign_decode(struct tctx *t)
{
	struct secp_sk sk = { { 0 } };
	struct tx1559 tx, back;
	struct bbuf raw = BBUF_INIT;
	uint8_t hash[32], h2[32], from[20], want[20];
	static const uint8_t data[] = { 0xde, 0xad, 0xbe, 0xef, 0x00 };

	sk.b[31] = 7;
	T_OK(t, secp_sk_address(&sk, want));
	simple_tx(&tx);
	tx.chain_id = 31337;
	tx.nonce = 300;
	tx.data = data;
	tx.data_len = sizeof(data);
	T_OK(t, tx1559_sign(&tx, &sk, &raw, hash));
	T_EQ(t, raw.data[0], 0x02);
	keccak256(h2, raw.data, raw.len);
	T_MEMEQ(t, hash, h2, 32);
	T_OK(t, tx1559_decode(raw.data, raw.len, &back, from));
	T_MEMEQ(t, from, want, 20);
	T_EQ(t, back.chain_id, 31337);
	T_EQ(t, back.nonce, 300);
	T_EQ(t, back.gas_limit, 21000);
	T_EQ(t, back.max_fee.w[0], 2000000000);
	T_TRUE(t, back.has_to);
	T_MEMEQ(t, back.to, tx.to, 20);
	T_EQ(t, back.data_len, sizeof(data));
	T_MEMEQ(t, back.data, data, sizeof(data));

	/* contract creation: empty "to" */
	bbuf_reset(&raw);
	tx.has_to = false;
	T_OK(t, tx1559_sign(&tx, &sk, &raw, NULL));
	T_OK(t, tx1559_decode(raw.data, raw.len, &back, from));
	T_FALSE(t, back.has_to);
	T_MEMEQ(t, from, want, 20);

	/* flipping a byte of the payload changes the recovered sender or
	 * breaks the encoding */
	raw.data[raw.len - 40] ^= 0x01;
	int r = tx1559_decode(raw.data, raw.len, &back, from);
	T_TRUE(t, r != 0 || memcmp(from, want, 20) != 0);
	bbuf_free(&raw);
}

static void test_malformed(struct tctx *t)
{
	struct tx1559 tx;
	uint8_t from[20];
	static const uint8_t legacy[] = { 0xc0 };
	static const uint8_t type1[] = { 0x01, 0xc0 };
	static const uint8_t empty_list[] = { 0x02, 0xc0 };
	static const uint8_t not_list[] = { 0x02, 0x80 };
	struct bbuf b = BBUF_INIT, p = BBUF_INIT;

	T_ERR(t, tx1559_decode(legacy, sizeof(legacy), &tx, from), ERR_FORMAT);
	T_ERR(t, tx1559_decode(type1, sizeof(type1), &tx, from), ERR_FORMAT);
	T_ERR(t, tx1559_decode(empty_list, sizeof(empty_list), &tx, from), ERR_FORMAT);
	T_ERR(t, tx1559_decode(not_list, sizeof(not_list), &tx, from), ERR_FORMAT);
	T_ERR(t, tx1559_decode(NULL, 0, &tx, from), ERR_FORMAT);
	/* twelve fields but yParity 2 */
	for (int i = 0; i < 9; i++)
		i == 8 ? rlp_put_list(&p, NULL, 0) : rlp_put_u64(&p, 1);
	rlp_put_u64(&p, 2);
	rlp_put_u64(&p, 1);
	rlp_put_u64(&p, 1);
	bbuf_u8(&b, 0x02);
	rlp_put_list(&b, p.data, p.len);
	T_ERR(t, tx1559_decode(b.data, b.len, &tx, from), ERR_FORMAT);
	bbuf_free(&b);
	bbuf_free(&p);
}

const struct test_case tx1559_tests[] = {
	{ "signing_payload", test_signing_payload, 0 },
	{ "sign_decode", test_sign_decode, 0 },
	{ "malformed", test_malformed, 0 },
	{ NULL, NULL, 0 }
};
