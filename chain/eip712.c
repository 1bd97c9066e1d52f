/*
 * EIP-712 hashStruct and digests (eips.ethereum.org/EIPS/eip-712):
 *   "hashStruct(s : 𝕊) = keccak256(typeHash ‖ encodeData(s))"
 *   "encode(domainSeparator : 𝔹²⁵⁶, message : 𝕊) =
 *    "\x19\x01" ‖ domainSeparator ‖ hashStruct(message)"
 * Each member is one 32-byte word; `bytes` and `string` are encoded as
 * keccak256 of their contents.  The words are the ABI encoding of the
 * members, so abi_enc builds them.
 */
#include "config.h"
#include "chain/eip712.h"
#include "chain/abi.h"
#include "crypto/keccak.h"

#include <string.h>

void eip712_typehash(uint8_t out[32], const char *type)
{
	keccak256(out, type, strlen(type));
}

/* keccak256 of a static tuple that e holds, then release e. */
static void hash_enc(struct abi_enc *e, uint8_t out[32])
{
	struct bbuf b = BBUF_INIT;

	(void)abi_enc_finish(e, &b);
	keccak256(out, b.data, b.len);
	bbuf_free(&b);
}

static void start(struct abi_enc *e, size_t members, const char *type)
{
	uint8_t th[32];

	abi_enc_init(e, members + 1);
	eip712_typehash(th, type);
	abi_enc_word(e, th);
}

void eip712_domain_separator(const struct eip712_domain *d, uint8_t out[32])
{
	struct abi_enc e;
	uint8_t h[32];

	start(&e, 4, "EIP712Domain(string name,string version,"
		     "uint256 chainId,address verifyingContract)");
	keccak256(h, d->name, strlen(d->name));
	abi_enc_word(&e, h);
	keccak256(h, "1", 1);
	abi_enc_word(&e, h);
	abi_enc_u64(&e, d->chain_id);
	abi_enc_address(&e, d->verifying);
	hash_enc(&e, out);
}

void eip712_digest(const uint8_t separator[32], const uint8_t struct_hash[32],
		   uint8_t out[32])
{
	uint8_t buf[66];

	buf[0] = 0x19;
	buf[1] = 0x01;
	memcpy(buf + 2, separator, 32);
	memcpy(buf + 34, struct_hash, 32);
	keccak256(out, buf, sizeof(buf));
}

void eip712_hash_ticket(const struct eip712_ticket *t, uint8_t out[32])
{
	struct abi_enc e;

	start(&e, 6, EIP712_TYPE_TICKET);
	abi_enc_address(&e, t->recipient);
	abi_enc_u256(&e, &t->face_value);
	abi_enc_u256(&e, &t->win_prob);
	abi_enc_u256(&e, &t->sender_nonce);
	abi_enc_word(&e, t->recipient_rand_hash);
	abi_enc_u64(&e, t->expiry);
	hash_enc(&e, out);
}

void eip712_hash_voucher(const struct eip712_voucher *v, uint8_t out[32])
{
	struct abi_enc e;

	start(&e, 4, EIP712_TYPE_VOUCHER);
	abi_enc_address(&e, v->recipient);
	abi_enc_word(&e, v->lane);
	abi_enc_u256(&e, &v->cumulative);
	abi_enc_u64(&e, v->expiry);
	hash_enc(&e, out);
}

void eip712_hash_withdraw(const struct eip712_withdraw *w, uint8_t out[32])
{
	struct abi_enc e;

	start(&e, 6, EIP712_TYPE_WITHDRAW);
	abi_enc_address(&e, w->from);
	abi_enc_address(&e, w->to);
	abi_enc_u256(&e, &w->amount);
	abi_enc_u256(&e, &w->fee);
	abi_enc_u256(&e, &w->nonce);
	abi_enc_u64(&e, w->deadline);
	hash_enc(&e, out);
}

void eip712_hash_fundpot(const struct eip712_fundpot *f, uint8_t out[32])
{
	struct abi_enc e;

	start(&e, 5, EIP712_TYPE_FUNDPOT);
	abi_enc_address(&e, f->from);
	abi_enc_address(&e, f->signer);
	abi_enc_u256(&e, &f->amount);
	abi_enc_u256(&e, &f->nonce);
	abi_enc_u64(&e, f->deadline);
	hash_enc(&e, out);
}

void eip712_hash_purchase(const struct eip712_purchase *p, uint8_t out[32])
{
	struct abi_enc e;

	start(&e, 6, EIP712_TYPE_PURCHASE);
	abi_enc_u256(&e, &p->content_index);
	abi_enc_address(&e, p->holder);
	abi_enc_u256(&e, &p->max_price);
	abi_enc_u256(&e, &p->relayer_fee);
	abi_enc_u256(&e, &p->nonce);
	abi_enc_u64(&e, p->deadline);
	hash_enc(&e, out);
}

void eip712_hash_key_request(const struct eip712_key_request *k,
			     uint8_t out[32])
{
	struct abi_enc e;
	uint8_t h[32];

	start(&e, 3, EIP712_TYPE_KEYREQUEST);
	abi_enc_u256(&e, &k->token_id);
	keccak256(h, k->eph_pub, sizeof(k->eph_pub));	/* bytes → keccak */
	abi_enc_word(&e, h);
	abi_enc_u64(&e, k->deadline);
	hash_enc(&e, out);
}
