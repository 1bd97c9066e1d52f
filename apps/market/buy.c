/*
 * Relayed licence purchases (apps/market/buy.h): LicenseRegistry.buyFor
 * with an EIP-2612 permit.
 */
#include "config.h"

#include <sodium.h>
#include <string.h>

#include "apps/market/buy.h"
#include "chain/abi.h"
#include "crypto/base/err.h"
#include "crypto/keccak.h"

/* A view of `who` on contract `to` by signature, e.g. "nonces(address)". */
static int view_addr(struct chain_client *cc, const uint8_t to[20],
		     const char *sig, const uint8_t who[20], struct u256 *out)
{
	struct bbuf b = BBUF_INIT;
	struct abi_enc e;
	uint8_t sel[4];
	int r;

	abi_selector(sel, sig);
	bbuf_put(&b, sel, 4);
	abi_enc_init(&e, who ? 1 : 0);
	if (who)
		abi_enc_address(&e, who);
	(void)abi_enc_finish(&e, &b);
	r = chain_call_u256(cc, to, b.data, b.len, out);
	bbuf_free(&b);
	return r;
}

void market_registry_digest(const struct chain_deploy *dep,
			    const uint8_t struct_hash[32], uint8_t digest[32])
{
	struct eip712_domain d = { EIP712_NAME_LICENSE, dep->chain_id,
				   { 0 } };
	uint8_t sep[32];

	memcpy(d.verifying, dep->license_registry, 20);
	eip712_domain_separator(&d, sep);
	eip712_digest(sep, struct_hash, digest);
}

/* Sign struct_hash under the registry's EIP-712 domain. */
static int registry_sign(const struct chain_deploy *dep,
			 const struct secp_sk *sk, const uint8_t struct_hash[32],
			 uint8_t sig[SECP_SIG_BYTES])
{
	uint8_t digest[32];

	market_registry_digest(dep, struct_hash, digest);
	return secp_sign(sk, digest, sig);
}

/* EIP-2612: sign Permit(owner, spender, value, nonce, deadline) under the
 * token's own domain separator. */
static int permit_sign(struct chain_client *cc, const uint8_t token[20],
		       const struct secp_sk *owner_sk, const uint8_t owner[20],
		       const uint8_t spender[20], struct market_purchase *mp)
{
	struct u256 nonce, sep_u;
	struct abi_enc e;
	struct bbuf b = BBUF_INIT;
	uint8_t th[32], h[32], sep[32], digest[32];
	int r;

	if ((r = view_addr(cc, token, "nonces(address)", owner, &nonce)) ||
	    (r = view_addr(cc, token, "DOMAIN_SEPARATOR()", NULL, &sep_u)))
		return r;
	u256_to_be(&sep_u, sep);
	eip712_typehash(th, MARKET_PERMIT_TYPE);
	abi_enc_init(&e, 6);
	abi_enc_word(&e, th);
	abi_enc_address(&e, owner);
	abi_enc_address(&e, spender);
	abi_enc_u256(&e, &mp->permit_value);
	abi_enc_u256(&e, &nonce);
	abi_enc_u64(&e, mp->permit_deadline);
	(void)abi_enc_finish(&e, &b);
	keccak256(h, b.data, b.len);
	bbuf_free(&b);
	eip712_digest(sep, h, digest);
	return secp_sign(owner_sk, digest, mp->permit_sig);
}

int market_purchase_sign(struct chain_client *cc,
			 const struct chain_deploy *dep,
			 const struct secp_sk *payer,
			 const struct u256 *index, const uint8_t holder[20],
			 const struct u256 *relayer_fee, uint64_t ttl_s,
			 struct market_purchase *out)
{
	struct market_purchase mp;
	struct license_content lc;
	struct bbuf b = BBUF_INIT, ret = BBUF_INIT;
	uint8_t h[32];
	uint64_t now;
	int r;

	memset(&mp, 0, sizeof(mp));
	if ((r = secp_sk_address(payer, mp.payer)) != 0)
		return r;
	/* the price now: maxPrice guards against a change before mining */
	license_content_call(&b, index);
	r = chain_call(cc, NULL, dep->license_registry, b.data, b.len, &ret);
	bbuf_free(&b);
	if (r == 0)
		r = license_content_decode(ret.data, ret.len, &lc);
	bbuf_free(&ret);
	if (r != 0)
		return r;
	if ((r = view_addr(cc, dep->license_registry, "nonces(address)",
			   mp.payer, &mp.p.nonce)) != 0 ||
	    (r = chain_block_timestamp(cc, &now)) != 0)
		return r;
	mp.p.content_index = *index;
	memcpy(mp.p.holder, holder, 20);
	mp.p.max_price = lc.price;
	mp.p.relayer_fee = *relayer_fee;
	mp.p.deadline = now + ttl_s;
	eip712_hash_purchase(&mp.p, h);
	if ((r = registry_sign(dep, payer, h, mp.sig)) != 0)
		return r;
	if (u256_add(&mp.permit_value, &lc.price, relayer_fee) != 0)
		return ERR_RANGE;
	mp.permit_deadline = mp.p.deadline;
	mp.has_permit = true;
	if ((r = permit_sign(cc, dep->token, payer, mp.payer,
			     dep->license_registry, &mp)) != 0)
		return r;
	*out = mp;
	sodium_memzero(&mp, sizeof(mp));
	return 0;
}

void market_buy_for_call(struct bbuf *out, const struct market_purchase *mp)
{
	struct abi_enc e;
	uint8_t sel[4];

	abi_selector(sel, "buyFor((uint256,address,uint256,uint256,uint64),"
		     "address,(uint256,uint256,uint8,bytes32,bytes32),bytes)");
	bbuf_put(out, sel, 4);
	/* static tuples sit in the head: 5 + 1 + 5 words, then sig's offset */
	abi_enc_init(&e, 12);
	abi_enc_u256(&e, &mp->p.content_index);
	abi_enc_address(&e, mp->p.holder);
	abi_enc_u256(&e, &mp->p.max_price);
	abi_enc_u256(&e, &mp->p.relayer_fee);
	abi_enc_u64(&e, mp->p.deadline);
	abi_enc_address(&e, mp->payer);
	if (mp->has_permit) {
		abi_enc_u256(&e, &mp->permit_value);
		abi_enc_u64(&e, mp->permit_deadline);
		abi_enc_u64(&e, mp->permit_sig[64]);
		abi_enc_word(&e, mp->permit_sig);
		abi_enc_word(&e, mp->permit_sig + 32);
	} else {
		/* permit.deadline == 0: no permit */
		static const uint8_t zero[32];
		for (unsigned i = 0; i < 5; i++)
			abi_enc_word(&e, zero);
	}
	abi_enc_bytes(&e, mp->sig, SECP_SIG_BYTES);
	(void)abi_enc_finish(&e, out);
}

int market_purchase_relay(struct chain_client *cc,
			  const struct chain_deploy *dep,
			  const struct secp_sk *relayer,
			  const struct market_purchase *mp,
			  struct u256 *token_id)
{
	struct chain_receipt rc = { 0 };
	struct bbuf b = BBUF_INIT;
	struct u256 id, price;
	int r;

	market_buy_for_call(&b, mp);
	r = chain_send(cc, relayer, dep->license_registry, b.data, b.len, NULL,
		       &rc);
	bbuf_free(&b);
	if (r == 0) {
		r = ERR_NOT_FOUND;
		for (size_t i = 0; i < rc.nlogs; i++)
			if (memcmp(rc.logs[i].address, dep->license_registry,
				   20) == 0 &&
			    ev_license_purchased_decode(&rc.logs[i], &id,
							&price) == 0) {
				*token_id = id;
				r = 0;
			}
	}
	chain_receipt_clear(&rc);
	return r;
}

int market_list_call(struct bbuf *out, const struct u256 *token_id,
		     const struct u256 *price)
{
	struct abi_enc e;
	uint8_t sel[4], be[32];

	u256_to_be(price, be);
	if (!sodium_is_zero(be, 20))		/* uint96 */
		return ERR_RANGE;
	abi_selector(sel, "list(uint256,uint96)");
	bbuf_put(out, sel, 4);
	abi_enc_init(&e, 2);
	abi_enc_u256(&e, token_id);
	abi_enc_u256(&e, price);
	return abi_enc_finish(&e, out);
}

void market_buy_listed_call(struct bbuf *out, const struct u256 *token_id,
			    const uint8_t holder[20],
			    const struct u256 *max_price)
{
	struct abi_enc e;
	uint8_t sel[4];

	abi_selector(sel, "buyListed(uint256,address,uint256)");
	bbuf_put(out, sel, 4);
	abi_enc_init(&e, 3);
	abi_enc_u256(&e, token_id);
	abi_enc_address(&e, holder);
	abi_enc_u256(&e, max_price);
	(void)abi_enc_finish(&e, out);
}

/* The registry's nonce for `who` and a deadline ttl_s of chain time on. */
static int nonce_deadline(struct chain_client *cc,
			  const struct chain_deploy *dep, const uint8_t who[20],
			  uint64_t ttl_s, struct u256 *nonce, uint64_t *deadline)
{
	uint64_t now;
	int r;

	if ((r = view_addr(cc, dep->license_registry, "nonces(address)", who,
			   nonce)) != 0 ||
	    (r = chain_block_timestamp(cc, &now)) != 0)
		return r;
	*deadline = now + ttl_s;
	return 0;
}

/* Send calldata b (freed) to the registry from sk's account. */
static int registry_send(struct chain_client *cc,
			 const struct chain_deploy *dep,
			 const struct secp_sk *sk, struct bbuf *b)
{
	struct chain_receipt rc = { 0 };
	int r;

	r = chain_send(cc, sk, dep->license_registry, b->data, b->len, NULL,
		       &rc);
	bbuf_free(b);
	chain_receipt_clear(&rc);
	return r;
}

int market_listing_sign(struct chain_client *cc,
			const struct chain_deploy *dep,
			const struct secp_sk *owner,
			const struct u256 *token_id, const struct u256 *price,
			const struct u256 *relayer_fee, uint64_t ttl_s,
			struct market_listing *out)
{
	struct market_listing ml;
	uint8_t owner_a[20], be[32], h[32];
	int r;

	u256_to_be(price, be);
	if (!sodium_is_zero(be, 20))		/* uint96 */
		return ERR_RANGE;
	memset(&ml, 0, sizeof(ml));
	if ((r = secp_sk_address(owner, owner_a)) != 0 ||
	    (r = nonce_deadline(cc, dep, owner_a, ttl_s, &ml.l.nonce,
				&ml.l.deadline)) != 0)
		return r;
	ml.l.token_id = *token_id;
	ml.l.price = *price;
	ml.l.relayer_fee = *relayer_fee;
	eip712_hash_listing(&ml.l, h);
	if ((r = registry_sign(dep, owner, h, ml.sig)) != 0)
		return r;
	*out = ml;
	return 0;
}

void market_list_for_call(struct bbuf *out, const struct market_listing *ml)
{
	struct abi_enc e;
	uint8_t sel[4];

	abi_selector(sel, "listFor((uint256,uint256,uint256,uint64),bytes)");
	bbuf_put(out, sel, 4);
	/* the static tuple's 4 words in the head, then sig's offset */
	abi_enc_init(&e, 5);
	abi_enc_u256(&e, &ml->l.token_id);
	abi_enc_u256(&e, &ml->l.price);
	abi_enc_u256(&e, &ml->l.relayer_fee);
	abi_enc_u64(&e, ml->l.deadline);
	abi_enc_bytes(&e, ml->sig, SECP_SIG_BYTES);
	(void)abi_enc_finish(&e, out);
}

int market_listing_relay(struct chain_client *cc,
			 const struct chain_deploy *dep,
			 const struct secp_sk *relayer,
			 const struct market_listing *ml)
{
	struct bbuf b = BBUF_INIT;

	market_list_for_call(&b, ml);
	return registry_send(cc, dep, relayer, &b);
}

void market_ask_price_call(struct bbuf *out, const struct u256 *token_id)
{
	struct abi_enc e;
	uint8_t sel[4];

	abi_selector(sel, "askPrice(uint256)");
	bbuf_put(out, sel, 4);
	abi_enc_init(&e, 1);
	abi_enc_u256(&e, token_id);
	(void)abi_enc_finish(&e, out);
}

int market_cancel_sign(struct chain_client *cc,
		       const struct chain_deploy *dep,
		       const struct secp_sk *owner,
		       const struct u256 *token_id,
		       const struct u256 *relayer_fee, uint64_t ttl_s,
		       struct market_cancel *out)
{
	struct market_cancel mc;
	uint8_t owner_a[20], h[32];
	int r;

	memset(&mc, 0, sizeof(mc));
	if ((r = secp_sk_address(owner, owner_a)) != 0 ||
	    (r = nonce_deadline(cc, dep, owner_a, ttl_s, &mc.c.nonce,
				&mc.c.deadline)) != 0)
		return r;
	mc.c.token_id = *token_id;
	mc.c.relayer_fee = *relayer_fee;
	eip712_hash_cancel_listing(&mc.c, h);
	if ((r = registry_sign(dep, owner, h, mc.sig)) != 0)
		return r;
	*out = mc;
	return 0;
}

void market_cancel_for_call(struct bbuf *out, const struct market_cancel *mc)
{
	struct abi_enc e;
	uint8_t sel[4];

	abi_selector(sel, "cancelFor(uint256,uint256,uint64,bytes)");
	bbuf_put(out, sel, 4);
	abi_enc_init(&e, 4);
	abi_enc_u256(&e, &mc->c.token_id);
	abi_enc_u256(&e, &mc->c.relayer_fee);
	abi_enc_u64(&e, mc->c.deadline);
	abi_enc_bytes(&e, mc->sig, SECP_SIG_BYTES);
	(void)abi_enc_finish(&e, out);
}

int market_cancel_relay(struct chain_client *cc,
			const struct chain_deploy *dep,
			const struct secp_sk *relayer,
			const struct market_cancel *mc)
{
	struct bbuf b = BBUF_INIT;

	market_cancel_for_call(&b, mc);
	return registry_send(cc, dep, relayer, &b);
}

int market_payout_sign(struct chain_client *cc,
		       const struct chain_deploy *dep,
		       const struct secp_sk *owner, const uint8_t to[20],
		       const struct u256 *amount, const struct u256 *fee,
		       uint64_t ttl_s, struct market_payout *out)
{
	struct market_payout mp;
	uint8_t h[32];
	int r;

	memset(&mp, 0, sizeof(mp));
	if ((r = secp_sk_address(owner, mp.w.from)) != 0 ||
	    (r = nonce_deadline(cc, dep, mp.w.from, ttl_s, &mp.w.nonce,
				&mp.w.deadline)) != 0)
		return r;
	memcpy(mp.w.to, to, 20);
	mp.w.amount = *amount;
	mp.w.fee = *fee;
	eip712_hash_withdraw(&mp.w, h);
	if ((r = registry_sign(dep, owner, h, mp.sig)) != 0)
		return r;
	*out = mp;
	return 0;
}

int market_payout_relay(struct chain_client *cc,
			const struct chain_deploy *dep,
			const struct secp_sk *relayer,
			const struct market_payout *mp)
{
	struct bbuf b = BBUF_INIT;

	hub_withdraw_for_call(&b, &mp->w, mp->sig);
	return registry_send(cc, dep, relayer, &b);
}
