/*
 * EIP-1559 transactions (eips.ethereum.org/EIPS/eip-1559):
 *   "0x02 || rlp([chain_id, nonce, max_priority_fee_per_gas,
 *    max_fee_per_gas, gas_limit, destination, amount, data, access_list,
 *    signature_y_parity, signature_r, signature_s])"
 *   "The signature_y_parity, signature_r, signature_s elements of this
 *    transaction represent a secp256k1 signature over
 *    keccak256(0x02 || rlp([chain_id, ..., access_list]))."
 * Note yParity is the bare recovery id here, not 27 + recid.
 */
#include "config.h"
#include "chain/tx1559.h"
#include "chain/rlp.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/keccak.h"

#include <string.h>

/* The nine unsigned fields, RLP-encoded one after the other. */
static void put_fields(struct bbuf *b, const struct tx1559 *tx)
{
	rlp_put_u64(b, tx->chain_id);
	rlp_put_u64(b, tx->nonce);
	rlp_put_u256(b, &tx->max_priority_fee);
	rlp_put_u256(b, &tx->max_fee);
	rlp_put_u64(b, tx->gas_limit);
	if (tx->has_to)
		rlp_put_bytes(b, tx->to, ETH_ADDR_BYTES);
	else
		rlp_put_bytes(b, NULL, 0);
	rlp_put_u256(b, &tx->value);
	rlp_put_bytes(b, tx->data, tx->data_len);
	rlp_put_list(b, NULL, 0);		/* empty access list: 0xc0 */
}

/* 0x02 ‖ rlp(list of payload) into out. */
static void typed(struct bbuf *out, const struct bbuf *payload)
{
	bbuf_u8(out, 0x02);
	rlp_put_list(out, payload->data, payload->len);
}

void tx1559_signing_hash(const struct tx1559 *tx, uint8_t out[32])
{
	struct bbuf f = BBUF_INIT, t = BBUF_INIT;

	put_fields(&f, tx);
	typed(&t, &f);
	keccak256(out, t.data, t.len);
	bbuf_free(&f);
	bbuf_free(&t);
}

/* Strip leading zeros of a 32-byte big-endian scalar for RLP. */
static void put_scalar(struct bbuf *b, const uint8_t s[32])
{
	size_t k = 0;

	while (k < 32 && s[k] == 0)
		k++;
	rlp_put_bytes(b, s + k, 32 - k);
}

int tx1559_sign(const struct tx1559 *tx, const struct secp_sk *sk,
		struct bbuf *raw, uint8_t hash[32])
{
	struct bbuf f = BBUF_INIT, t = BBUF_INIT;
	uint8_t h[32], sig[64];
	int recid, e;

	tx1559_signing_hash(tx, h);
	if ((e = secp_sign_recid(sk, h, sig, &recid)) != 0)
		goto out;
	put_fields(&f, tx);
	rlp_put_u64(&f, (uint64_t)recid);
	put_scalar(&f, sig);
	put_scalar(&f, sig + 32);
	typed(&t, &f);
	if (hash)
		keccak256(hash, t.data, t.len);
	bbuf_put(raw, t.data, t.len);
out:
	bbuf_free(&f);
	bbuf_free(&t);
	memwipe(h, sizeof(h));
	return e;
}

/* A big-endian scalar of ≤ 32 bytes, canonical (no leading zero). */
static int get_scalar(const struct rlp_item *it, uint8_t out[32])
{
	if (it->is_list || it->len > 32 || (it->len && it->p[0] == 0))
		return ERR_FORMAT;
	memset(out, 0, 32);
	memcpy(out + 32 - it->len, it->p, it->len);
	return 0;
}

static int u64_field(const struct rlp_item *it, uint64_t *v)
{
	int e = rlp_item_u64(it, v);

	return e == ERR_RANGE ? ERR_FORMAT : e;
}

static int u256_field(const struct rlp_item *it, struct u256 *v)
{
	int e = rlp_item_u256(it, v);

	return e == ERR_RANGE ? ERR_FORMAT : e;
}

int tx1559_decode(const uint8_t *raw, size_t len, struct tx1559 *tx,
		  uint8_t from[ETH_ADDR_BYTES])
{
	struct rlp_item list, f[12];
	struct breader r;
	struct tx1559 t = { 0 };
	uint64_t parity;
	uint8_t sig[65], h[32];
	size_t n = 0;
	int e;

	if (len > TX1559_MAX_BYTES)
		return ERR_TOO_BIG;
	if (len < 1 || raw[0] != 0x02)
		return ERR_FORMAT;
	if ((e = rlp_decode_one(raw + 1, len - 1, &list)) != 0)
		return e == ERR_TRUNCATED ? ERR_TRUNCATED : ERR_FORMAT;
	if (!list.is_list)
		return ERR_FORMAT;
	br_init(&r, list.p, list.len);
	while (br_left(&r)) {
		if (n == 12)
			return ERR_FORMAT;
		if ((e = rlp_item_decode(&r, &f[n++])) != 0)
			return ERR_FORMAT;
	}
	if (n != 12)
		return ERR_FORMAT;
	if ((e = u64_field(&f[0], &t.chain_id)) != 0 ||
	    (e = u64_field(&f[1], &t.nonce)) != 0 ||
	    (e = u256_field(&f[2], &t.max_priority_fee)) != 0 ||
	    (e = u256_field(&f[3], &t.max_fee)) != 0 ||
	    (e = u64_field(&f[4], &t.gas_limit)) != 0 ||
	    (e = u256_field(&f[6], &t.value)) != 0 ||
	    (e = u64_field(&f[9], &parity)) != 0)
		return e;
	if (f[5].is_list || (f[5].len != 0 && f[5].len != ETH_ADDR_BYTES))
		return ERR_FORMAT;
	t.has_to = f[5].len == ETH_ADDR_BYTES;
	if (t.has_to)
		memcpy(t.to, f[5].p, ETH_ADDR_BYTES);
	if (f[7].is_list || !f[8].is_list || f[8].len != 0 || parity > 1)
		return f[8].is_list && f[8].len ? ERR_UNSUPPORTED : ERR_FORMAT;
	t.data = f[7].p;
	t.data_len = f[7].len;
	if ((e = get_scalar(&f[10], sig)) != 0 ||
	    (e = get_scalar(&f[11], sig + 32)) != 0)
		return e;
	sig[64] = (uint8_t)parity;
	if (from) {
		tx1559_signing_hash(&t, h);
		if ((e = secp_recover(h, sig, from)) != 0)
			return e;
	}
	*tx = t;
	return 0;
}
