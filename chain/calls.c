/*
 * Calldata, events, errors and deploy JSON of the [C1] contracts
 * (chain/contracts/src, CHAIN.md §2).  Signatures are written out as
 * Solidity canonicalises them: static structs are tuples "(…)" encoded in
 * place, dynamic arrays and bytes go to the tail.
 */
#include "config.h"
#include "chain/calls.h"
#include "chain/abi.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/keccak.h"

#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <string.h>

#define VOUCHER_TUPLE "(address,bytes32,uint256,uint64)"
#define TICKET_TUPLE "(address,uint256,uint256,uint256,bytes32,uint64)"
#define VOUCHER_WORDS 4
#define TICKET_WORDS 6

static const struct u256 U96_MAX = { { UINT64_MAX, 0xffffffffu, 0, 0 } };

/* selector then the finished tuple e. */
static void call_finish(struct bbuf *out, const char *sig, struct abi_enc *e)
{
	uint8_t sel[4];

	abi_selector(sel, sig);
	bbuf_put(out, sel, 4);
	(void)abi_enc_finish(e, out);
}

static void call_addr(struct bbuf *out, const char *sig, const uint8_t a[20])
{
	struct abi_enc e;

	abi_enc_init(&e, 1);
	abi_enc_address(&e, a);
	call_finish(out, sig, &e);
}

static void call_u256(struct bbuf *out, const char *sig, const struct u256 *v)
{
	struct abi_enc e;

	abi_enc_init(&e, 1);
	abi_enc_u256(&e, v);
	call_finish(out, sig, &e);
}

static void call_addr_u256(struct bbuf *out, const char *sig,
			   const uint8_t a[20], const struct u256 *v)
{
	struct abi_enc e;

	abi_enc_init(&e, 2);
	abi_enc_address(&e, a);
	abi_enc_u256(&e, v);
	call_finish(out, sig, &e);
}

/* ---------------------------------------------------------------- deploy */

/* Lower-case alphanumerics of s into out (for loose key matching). */
static void squash(const char *s, char *out, size_t outlen)
{
	size_t k = 0;

	for (; *s && k + 1 < outlen; s++)
		if (isalnum((unsigned char)*s))
			out[k++] = (char)tolower((unsigned char)*s);
	out[k] = '\0';
}

/* A contract's address: no contract lives at the zero address. */
static int get_addr_field(const json_t *v, uint8_t out[20])
{
	static const uint8_t zero[20];
	int e;

	if (!json_is_string(v))
		return ERR_FORMAT;
	if ((e = eth_addr_parse(out, json_string_value(v))) != 0)
		return e;
	return memcmp(out, zero, 20) == 0 ? ERR_FORMAT : 0;
}

static int get_u64_field(const json_t *v, uint64_t *out)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		struct u256 u;
		if (u256_parse_str(&u, json_string_value(v)) != 0 ||
		    !u256_fits_u64(&u))
			return ERR_FORMAT;
		*out = u.w[0];
		return 0;
	}
	return ERR_FORMAT;
}

struct deploy_key {
	const char *names[3];
	size_t off;
};

static const struct deploy_key deploy_keys[] = {
	{ { "token", "bitstesttoken", NULL }, offsetof(struct chain_deploy, token) },
	{ { "treasury", "feesplitter", NULL }, offsetof(struct chain_deploy, treasury) },
	{ { "genesis", "networkgenesis", NULL }, offsetof(struct chain_deploy, genesis) },
	{ { "licenseregistry", NULL, NULL }, offsetof(struct chain_deploy, license_registry) },
	{ { "keyrelease", NULL, NULL }, offsetof(struct chain_deploy, key_release) },
	{ { "paymenthub", NULL, NULL }, offsetof(struct chain_deploy, payment_hub) },
	{ { "didregistry", NULL, NULL }, offsetof(struct chain_deploy, did_registry) },
};

/* Look at every member of o (and of o.contracts / o.addresses). */
static int deploy_scan(const json_t *o, struct chain_deploy *d,
		       unsigned *found, bool *has_chain, int level)
{
	const char *key;
	const json_t *v;
	char k[64];
	int e;

	json_object_foreach((json_t *)o, key, v) {
		squash(key, k, sizeof(k));
		if (json_is_object(v) && level == 0) {
			if ((e = deploy_scan(v, d, found, has_chain, 1)) != 0)
				return e;
			continue;
		}
		if (strcmp(k, "chainid") == 0) {
			if (get_u64_field(v, &d->chain_id) != 0)
				return ERR_FORMAT;
			*has_chain = true;
		} else if (strcmp(k, "networkid") == 0) {
			size_t n;
			if (!json_is_string(v))
				return ERR_FORMAT;
			const char *s = json_string_value(v);
			if (strncmp(s, "0x", 2) != 0 || strlen(s) != 66 ||
			    hex_decode(d->network_id, 32, &n, s + 2, 64) != 0)
				return ERR_FORMAT;
			d->has_network_id = true;
		} else if (strcmp(k, "startblock") == 0 ||
			   strcmp(k, "deployblock") == 0 ||
			   strcmp(k, "blocknumber") == 0) {
			if (get_u64_field(v, &d->start_block) != 0)
				return ERR_FORMAT;
		} else {
			for (size_t i = 0; i < ARRAY_LEN(deploy_keys); i++)
				for (size_t j = 0; j < 3 && deploy_keys[i].names[j]; j++)
					if (strcmp(k, deploy_keys[i].names[j]) == 0) {
						if (get_addr_field(v, (uint8_t *)d +
								   deploy_keys[i].off) != 0)
							return ERR_FORMAT;
						*found |= 1u << i;
					}
		}
	}
	return 0;
}

int chain_deploy_parse(const char *json, size_t len, struct chain_deploy *out,
		       const char **why)
{
	struct chain_deploy d = { 0 };
	json_error_t jerr;
	json_t *root;
	unsigned found = 0;
	bool has_chain = false;
	int e;

	if (why)
		*why = NULL;
	if (len > CHAIN_DEPLOY_MAX_BYTES) {
		if (why)
			*why = "deploy file too big";
		return ERR_TOO_BIG;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		if (why)
			*why = "deploy file is not a JSON object";
		return ERR_FORMAT;
	}
	e = deploy_scan(root, &d, &found, &has_chain, 0);
	json_decref(root);
	if (e != 0) {
		if (why)
			*why = "a field of the deploy file has a bad value";
		return e;
	}
	/* Everything but the genesis and treasury is needed by the client. */
	unsigned need = 1u << 0 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6;
	if (!has_chain || (found & need) != need) {
		if (why)
			*why = "deploy file lacks chainId or a contract address";
		return ERR_FORMAT;
	}
	*out = d;
	return 0;
}

/* ---------------------------------------------------------------- ERC-20 */

void erc20_balance_of(struct bbuf *out, const uint8_t who[20])
{
	call_addr(out, "balanceOf(address)", who);
}

void erc20_allowance(struct bbuf *out, const uint8_t owner[20],
		     const uint8_t spender[20])
{
	struct abi_enc e;

	abi_enc_init(&e, 2);
	abi_enc_address(&e, owner);
	abi_enc_address(&e, spender);
	call_finish(out, "allowance(address,address)", &e);
}

void erc20_approve(struct bbuf *out, const uint8_t spender[20],
		   const struct u256 *amount)
{
	call_addr_u256(out, "approve(address,uint256)", spender, amount);
}

void erc20_transfer(struct bbuf *out, const uint8_t to[20],
		    const struct u256 *amount)
{
	call_addr_u256(out, "transfer(address,uint256)", to, amount);
}

void erc20_mint(struct bbuf *out, const uint8_t to[20],
		const struct u256 *amount)
{
	call_addr_u256(out, "mint(address,uint256)", to, amount);
}

/* ------------------------------------------------------- LicenseRegistry */

int license_publish_call(struct bbuf *out, const struct license_publish *p)
{
	struct abi_enc e;

	if (u256_cmp(&p->price, &U96_MAX) > 0)
		return ERR_RANGE;
	abi_enc_init(&e, 6);
	abi_enc_word(&e, p->content_hash);
	abi_enc_u256(&e, &p->price);
	abi_enc_u64(&e, p->royalty_bps);
	abi_enc_address(&e, p->key_agent);
	abi_enc_u64(&e, p->agent_fee_bps);
	abi_enc_word(&e, p->key_commitment);
	call_finish(out, "publish(bytes32,uint96,uint16,address,uint16,bytes32)",
		    &e);
	return 0;
}

void license_buy_call(struct bbuf *out, const struct u256 *index,
		      const uint8_t holder[20], const struct u256 *max_price)
{
	struct abi_enc e;

	abi_enc_init(&e, 3);
	abi_enc_u256(&e, index);
	abi_enc_address(&e, holder);
	abi_enc_u256(&e, max_price);
	call_finish(out, "buy(uint256,address,uint256)", &e);
}

void license_withdraw_call(struct bbuf *out, const uint8_t to[20])
{
	call_addr(out, "withdraw(address)", to);
}

void license_owner_of_call(struct bbuf *out, const struct u256 *token_id)
{
	call_u256(out, "ownerOf(uint256)", token_id);
}

void license_owed_call(struct bbuf *out, const uint8_t who[20])
{
	call_addr(out, "owed(address)", who);
}

void license_index_of_call(struct bbuf *out, const uint8_t content_hash[32])
{
	struct abi_enc e;

	abi_enc_init(&e, 1);
	abi_enc_word(&e, content_hash);
	call_finish(out, "indexOf(bytes32)", &e);
}

void license_content_call(struct bbuf *out, const struct u256 *index)
{
	call_u256(out, "content(uint256)", index);
}

static int dec_u16(const struct abi_dec *d, size_t i, uint16_t *out)
{
	uint64_t v;
	int e;

	if ((e = abi_dec_u64(d, i, &v)) != 0)
		return e;
	if (v > UINT16_MAX)
		return ERR_RANGE;
	*out = (uint16_t)v;
	return 0;
}

int license_content_decode(const uint8_t *ret, size_t len,
			   struct license_content *out)
{
	struct abi_dec d = abi_dec_init(ret, len);
	struct license_content c;
	int e;

	if (len != 7 * ABI_WORD_BYTES)
		return len < 7 * ABI_WORD_BYTES ? ERR_TRUNCATED : ERR_FORMAT;
	if ((e = abi_dec_address(&d, 0, c.creator)) != 0 ||
	    (e = abi_dec_u64(&d, 1, &c.serial)) != 0 ||
	    (e = dec_u16(&d, 2, &c.royalty_bps)) != 0 ||
	    (e = dec_u16(&d, 3, &c.agent_fee_bps)) != 0 ||
	    (e = abi_dec_address(&d, 4, c.key_agent)) != 0 ||
	    (e = abi_dec_u256(&d, 5, &c.price)) != 0 ||
	    (e = abi_dec_bytes32(&d, 6, c.key_commitment)) != 0)
		return e == ERR_RANGE ? ERR_FORMAT : e;
	*out = c;
	return 0;
}

void license_key_commitment(const uint8_t key[32],
			    const uint8_t content_hash[32], uint8_t out[32])
{
	uint8_t buf[64];

	memcpy(buf, key, 32);
	memcpy(buf + 32, content_hash, 32);
	keccak256(out, buf, sizeof(buf));
	memwipe(buf, sizeof(buf));
}

/* ------------------------------------------------------------ KeyRelease */

void keyrel_request_call(struct bbuf *out, const struct u256 *token_id,
			 const struct secp_pk *eph)
{
	struct abi_enc e;

	abi_enc_init(&e, 2);
	abi_enc_u256(&e, token_id);
	abi_enc_bytes(&e, eph->b, SECP_PK_BYTES);
	call_finish(out, "requestKey(uint256,bytes)", &e);
}

void keyrel_deliver_call(struct bbuf *out, const struct u256 *token_id,
			 const uint8_t holder[20], const uint8_t wrapped[32])
{
	struct abi_enc e;

	abi_enc_init(&e, 3);
	abi_enc_u256(&e, token_id);
	abi_enc_address(&e, holder);
	abi_enc_word(&e, wrapped);
	call_finish(out, "deliverKey(uint256,address,bytes32)", &e);
}

int keyrel_wrap(uint8_t out[32], const uint8_t in[32],
		const struct secp_sk *self, const struct secp_pk *peer,
		const uint8_t request_id[32])
{
	uint8_t point[SECP_PK_BYTES], buf[52], pad[32];
	struct secp_pk shared;
	int e;

	/* w = K xor keccak256(address(a·E) ‖ requestId) */
	if ((e = secp_ecdh_point(self, peer, point)) != 0 ||
	    (e = secp_pk_parse(&shared, point, sizeof(point))) != 0 ||
	    (e = secp_pk_address(&shared, buf)) != 0)
		goto out;
	memcpy(buf + 20, request_id, 32);
	keccak256(pad, buf, sizeof(buf));
	for (size_t i = 0; i < 32; i++)
		out[i] = in[i] ^ pad[i];
out:
	memwipe(point, sizeof(point));
	memwipe(&shared, sizeof(shared));
	memwipe(buf, sizeof(buf));
	memwipe(pad, sizeof(pad));
	return e;
}

/* ------------------------------------------------------------ PaymentHub */

int hub_fund_call(struct bbuf *out, const uint8_t signer[20],
		  const struct u256 *deposit, const struct u256 *escrow)
{
	struct abi_enc e;

	if (u256_cmp(deposit, &U96_MAX) > 0 || u256_cmp(escrow, &U96_MAX) > 0)
		return ERR_RANGE;
	abi_enc_init(&e, 3);
	abi_enc_address(&e, signer);
	abi_enc_u256(&e, deposit);
	abi_enc_u256(&e, escrow);
	call_finish(out, "fund(address,uint96,uint96)", &e);
	return 0;
}

void hub_request_unlock_call(struct bbuf *out, const uint8_t signer[20])
{
	call_addr(out, "requestUnlock(address)", signer);
}

void hub_withdraw_pot_call(struct bbuf *out, const uint8_t signer[20])
{
	call_addr(out, "withdrawPot(address)", signer);
}

void hub_balances_call(struct bbuf *out, const uint8_t who[20])
{
	call_addr(out, "balances(address)", who);
}

void hub_nonces_call(struct bbuf *out, const uint8_t who[20])
{
	call_addr(out, "nonces(address)", who);
}

void hub_is_nonce_used_call(struct bbuf *out, const uint8_t signer[20],
			    const struct u256 *nonce)
{
	call_addr_u256(out, "isNonceUsed(address,uint256)", signer, nonce);
}

void hub_pots_call(struct bbuf *out, const uint8_t signer[20])
{
	call_addr(out, "pots(address)", signer);
}

int hub_pot_decode(const uint8_t *ret, size_t len, struct hub_pot *out)
{
	struct abi_dec d = abi_dec_init(ret, len);
	struct hub_pot p;
	int e;

	if (len != 5 * ABI_WORD_BYTES)
		return len < 5 * ABI_WORD_BYTES ? ERR_TRUNCATED : ERR_FORMAT;
	if ((e = abi_dec_u256(&d, 0, &p.deposit)) != 0 ||
	    (e = abi_dec_u256(&d, 1, &p.fees)) != 0 ||
	    (e = abi_dec_u64(&d, 2, &p.unlock_at)) != 0 ||
	    (e = abi_dec_address(&d, 3, p.funder)) != 0 ||
	    (e = abi_dec_u256(&d, 4, &p.escrow)) != 0)
		return e == ERR_RANGE ? ERR_FORMAT : e;
	if (u256_cmp(&p.deposit, &U96_MAX) > 0 ||
	    u256_cmp(&p.fees, &U96_MAX) > 0 || u256_cmp(&p.escrow, &U96_MAX) > 0)
		return ERR_FORMAT;
	*out = p;
	return 0;
}

void hub_withdraw_call(struct bbuf *out, const uint8_t to[20],
		       const struct u256 *amount)
{
	call_addr_u256(out, "withdraw(address,uint256)", to, amount);
}

void hub_withdraw_for_call(struct bbuf *out, const struct eip712_withdraw *w,
			   const uint8_t sig[SECP_SIG_BYTES])
{
	struct abi_enc e;

	abi_enc_init(&e, 6);
	abi_enc_address(&e, w->from);
	abi_enc_address(&e, w->to);
	abi_enc_u256(&e, &w->amount);
	abi_enc_u256(&e, &w->fee);
	abi_enc_u64(&e, w->deadline);
	abi_enc_bytes(&e, sig, SECP_SIG_BYTES);
	call_finish(out, "withdrawFor(address,address,uint256,uint256,uint64,"
		    "bytes)", &e);
}

int hub_fund_from_balance_call(struct bbuf *out,
			       const struct eip712_fundpot *f,
			       const uint8_t sig[SECP_SIG_BYTES])
{
	struct abi_enc e;

	if (u256_cmp(&f->amount, &U96_MAX) > 0)
		return ERR_RANGE;
	abi_enc_init(&e, 5);
	abi_enc_address(&e, f->from);
	abi_enc_address(&e, f->signer);
	abi_enc_u256(&e, &f->amount);
	abi_enc_u64(&e, f->deadline);
	abi_enc_bytes(&e, sig, SECP_SIG_BYTES);
	call_finish(out, "fundFromBalance(address,address,uint96,uint64,bytes)",
		    &e);
	return 0;
}

static void put_voucher(struct abi_enc *e, const struct eip712_voucher *v)
{
	abi_enc_address(e, v->recipient);
	abi_enc_word(e, v->lane);
	abi_enc_u256(e, &v->cumulative);
	abi_enc_u64(e, v->expiry);
}

static void put_ticket(struct abi_enc *e, const struct eip712_ticket *t)
{
	abi_enc_address(e, t->recipient);
	abi_enc_u256(e, &t->face_value);
	abi_enc_u256(e, &t->win_prob);
	abi_enc_u256(e, &t->sender_nonce);
	abi_enc_word(e, t->recipient_rand_hash);
	abi_enc_u64(e, t->expiry);
}

void hub_redeem_voucher_call(struct bbuf *out, const struct eip712_voucher *v,
			     const uint8_t sig[SECP_SIG_BYTES])
{
	struct abi_enc e;

	abi_enc_init(&e, VOUCHER_WORDS + 1);
	put_voucher(&e, v);
	abi_enc_bytes(&e, sig, SECP_SIG_BYTES);
	call_finish(out, "redeemVoucher(" VOUCHER_TUPLE ",bytes)", &e);
}

/* sigs[] as bytes[] data. */
static void sigs_array(struct bbuf *b, size_t n,
		       const uint8_t (*sigs)[SECP_SIG_BYTES])
{
	const uint8_t **vals = xcalloc(n + 1, sizeof(*vals));
	size_t *lens = xcalloc(n + 1, sizeof(*lens));

	for (size_t i = 0; i < n; i++) {
		vals[i] = sigs[i];
		lens[i] = SECP_SIG_BYTES;
	}
	abi_bytes_array_encode(b, n, vals, lens);
	free(vals);
	free(lens);
}

/* The Voucher[] and bytes[] arguments of a batch. */
static void vouchers_arrays(struct bbuf *arr, struct bbuf *sa, size_t n,
			    const struct eip712_voucher *v,
			    const uint8_t (*sigs)[SECP_SIG_BYTES])
{
	struct abi_enc el;
	struct bbuf elems = BBUF_INIT;

	abi_enc_init(&el, n * VOUCHER_WORDS);
	for (size_t i = 0; i < n; i++)
		put_voucher(&el, &v[i]);
	(void)abi_enc_finish(&el, &elems);
	abi_array_encode(arr, n, elems.data, elems.len);
	sigs_array(sa, n, sigs);
	bbuf_free(&elems);
}

void hub_redeem_vouchers_call(struct bbuf *out, size_t n,
			      const struct eip712_voucher *v,
			      const uint8_t (*sigs)[SECP_SIG_BYTES])
{
	struct abi_enc e;
	struct bbuf arr = BBUF_INIT, sa = BBUF_INIT;

	vouchers_arrays(&arr, &sa, n, v, sigs);
	abi_enc_init(&e, 2);
	abi_enc_dyn(&e, arr.data, arr.len);
	abi_enc_dyn(&e, sa.data, sa.len);
	call_finish(out, "redeemVouchers(" VOUCHER_TUPLE "[],bytes[])", &e);
	bbuf_free(&arr);
	bbuf_free(&sa);
}

void hub_redeem_vouchers_for_call(struct bbuf *out, size_t n,
				  const struct eip712_voucher *v,
				  const uint8_t (*sigs)[SECP_SIG_BYTES],
				  const struct eip712_redeem_fee *f,
				  const uint8_t fee_sig[SECP_SIG_BYTES])
{
	struct abi_enc e;
	struct bbuf arr = BBUF_INIT, sa = BBUF_INIT;

	vouchers_arrays(&arr, &sa, n, v, sigs);
	abi_enc_init(&e, 6);
	abi_enc_dyn(&e, arr.data, arr.len);
	abi_enc_dyn(&e, sa.data, sa.len);
	abi_enc_address(&e, f->payee);
	abi_enc_u256(&e, &f->fee);
	abi_enc_u64(&e, f->deadline);
	abi_enc_bytes(&e, fee_sig, SECP_SIG_BYTES);
	call_finish(out, "redeemVouchersFor(" VOUCHER_TUPLE "[],bytes[],"
		    "address,uint256,uint64,bytes)", &e);
	bbuf_free(&arr);
	bbuf_free(&sa);
}

void hub_redeem_ticket_call(struct bbuf *out, const struct eip712_ticket *t,
			    const uint8_t sig[SECP_SIG_BYTES],
			    const uint8_t rand[32])
{
	struct abi_enc e;

	abi_enc_init(&e, TICKET_WORDS + 2);
	put_ticket(&e, t);
	abi_enc_bytes(&e, sig, SECP_SIG_BYTES);
	abi_enc_word(&e, rand);
	call_finish(out, "redeemTicket(" TICKET_TUPLE ",bytes,bytes32)", &e);
}

void hub_redeem_tickets_call(struct bbuf *out, size_t n,
			     const struct eip712_ticket *t,
			     const uint8_t (*sigs)[SECP_SIG_BYTES],
			     const uint8_t rand[32])
{
	struct abi_enc e, el;
	struct bbuf elems = BBUF_INIT, arr = BBUF_INIT, sa = BBUF_INIT;

	abi_enc_init(&el, n * TICKET_WORDS);
	for (size_t i = 0; i < n; i++)
		put_ticket(&el, &t[i]);
	(void)abi_enc_finish(&el, &elems);
	abi_array_encode(&arr, n, elems.data, elems.len);
	sigs_array(&sa, n, sigs);
	abi_enc_init(&e, 3);
	abi_enc_dyn(&e, arr.data, arr.len);
	abi_enc_dyn(&e, sa.data, sa.len);
	abi_enc_word(&e, rand);
	call_finish(out, "redeemTickets(" TICKET_TUPLE "[],bytes[],bytes32)",
		    &e);
	bbuf_free(&elems);
	bbuf_free(&arr);
	bbuf_free(&sa);
}

void hub_hash_voucher_call(struct bbuf *out, const struct eip712_voucher *v)
{
	struct abi_enc e;

	abi_enc_init(&e, VOUCHER_WORDS);
	put_voucher(&e, v);
	call_finish(out, "hashVoucher(" VOUCHER_TUPLE ")", &e);
}

void hub_hash_ticket_call(struct bbuf *out, const struct eip712_ticket *t)
{
	struct abi_enc e;

	abi_enc_init(&e, TICKET_WORDS);
	put_ticket(&e, t);
	call_finish(out, "hashTicket(" TICKET_TUPLE ")", &e);
}

void hub_domain_separator_call(struct bbuf *out)
{
	struct abi_enc e;

	abi_enc_init(&e, 0);
	call_finish(out, "domainSeparator()", &e);
}

bool hub_ticket_wins(const struct eip712_ticket *t,
		     const uint8_t sig[SECP_SIG_BYTES], const uint8_t rand[32])
{
	uint8_t buf[SECP_SIG_BYTES + 32], h[32], wp[32];

	/* uint256(keccak256(abi.encodePacked(sig, rand))) < winProb */
	memcpy(buf, sig, SECP_SIG_BYTES);
	memcpy(buf + SECP_SIG_BYTES, rand, 32);
	keccak256(h, buf, sizeof(buf));
	u256_to_be(&t->win_prob, wp);
	return memcmp(h, wp, 32) < 0;
}

/* ----------------------------------------------------------- DIDRegistry */

int did_set_attribute_call(struct bbuf *out, const uint8_t identity[20],
			   const char *name, const uint8_t *value,
			   size_t value_len, uint64_t validity_s)
{
	struct abi_enc e;
	size_t n = strlen(name);

	if (n > 32)
		return ERR_TOO_BIG;
	abi_enc_init(&e, 4);
	abi_enc_address(&e, identity);
	abi_enc_fixed(&e, name, n);
	abi_enc_bytes(&e, value, value_len);
	abi_enc_u64(&e, validity_s);
	call_finish(out, "setAttribute(address,bytes32,bytes,uint256)", &e);
	return 0;
}

void did_identity_owner_call(struct bbuf *out, const uint8_t identity[20])
{
	call_addr(out, "identityOwner(address)", identity);
}

/* ---------------------------------------------------------------- events */

void chain_event_topic(uint8_t out[32], const char *signature)
{
	keccak256(out, signature, strlen(signature));
}

/* Check topic0 and the topic count; a view of the data. */
static int ev_start(const struct chain_log *l, const char *sig,
		    size_t ntopics, struct abi_dec *d)
{
	uint8_t t[32];

	chain_event_topic(t, sig);
	if (l->ntopics < 1 || memcmp(l->topics[0], t, 32) != 0)
		return ERR_NOT_FOUND;
	if (l->ntopics != ntopics)
		return ERR_FORMAT;
	*d = abi_dec_init(l->data, l->data_len);
	return 0;
}

/* An indexed address topic. */
static int topic_addr(const uint8_t topic[32], uint8_t out[20])
{
	for (size_t i = 0; i < 12; i++)
		if (topic[i])
			return ERR_FORMAT;
	memcpy(out, topic + 12, 20);
	return 0;
}

int ev_content_published_decode(const struct chain_log *l,
				struct ev_content_published *out)
{
	struct ev_content_published c;
	struct abi_dec d;
	int e;

	if ((e = ev_start(l, EV_CONTENT_PUBLISHED, 4, &d)) != 0)
		return e;
	if (l->data_len != 4 * ABI_WORD_BYTES)
		return ERR_FORMAT;
	(void)u256_from_be(&c.index, l->topics[1], 32);
	memcpy(c.content_hash, l->topics[2], 32);
	if ((e = topic_addr(l->topics[3], c.creator)) != 0 ||
	    (e = abi_dec_u256(&d, 0, &c.price)) != 0 ||
	    (e = abi_dec_address(&d, 2, c.key_agent)) != 0 ||
	    (e = abi_dec_bytes32(&d, 3, c.key_commitment)) != 0)
		return e;
	*out = c;
	return 0;
}

int ev_license_purchased_decode(const struct chain_log *l,
				struct u256 *token_id, struct u256 *price)
{
	struct abi_dec d;
	struct u256 id, p;
	int e;

	if ((e = ev_start(l, EV_LICENSE_PURCHASED, 2, &d)) != 0)
		return e;
	if (l->data_len != ABI_WORD_BYTES)
		return ERR_FORMAT;
	(void)u256_from_be(&id, l->topics[1], 32);
	if ((e = abi_dec_u256(&d, 0, &p)) != 0)
		return e;
	*token_id = id;
	*price = p;
	return 0;
}

int ev_key_requested_decode(const struct chain_log *l,
			    struct ev_key_requested *out)
{
	struct ev_key_requested k;
	struct abi_dec d;
	const uint8_t *p;
	size_t n;
	int e;

	if ((e = ev_start(l, EV_KEY_REQUESTED, 3, &d)) != 0)
		return e;
	(void)u256_from_be(&k.token_id, l->topics[1], 32);
	if ((e = topic_addr(l->topics[2], k.holder)) != 0 ||
	    (e = abi_dec_bytes(&d, 0, SECP_PK_BYTES, &p, &n)) != 0)
		return e;
	if (n != SECP_PK_BYTES || secp_pk_parse(&k.eph, p, n) != 0)
		return ERR_FORMAT;
	*out = k;
	return 0;
}

int ev_key_delivered_decode(const struct chain_log *l, struct u256 *token_id,
			    uint8_t holder[20], uint8_t wrapped[32])
{
	struct abi_dec d;
	uint8_t h[20], w[32];
	int e;

	if ((e = ev_start(l, EV_KEY_DELIVERED, 3, &d)) != 0)
		return e;
	if (l->data_len != ABI_WORD_BYTES)
		return ERR_FORMAT;
	if ((e = topic_addr(l->topics[2], h)) != 0 ||
	    (e = abi_dec_bytes32(&d, 0, w)) != 0)
		return e;
	(void)u256_from_be(token_id, l->topics[1], 32);
	memcpy(holder, h, 20);
	memcpy(wrapped, w, 32);
	return 0;
}

/* Attribute values: the longest a DID attribute may be for us. */
#define DID_MAX_VALUE_BYTES 1024

int ev_did_attribute_decode(const struct chain_log *l,
			    struct ev_did_attribute *out)
{
	struct ev_did_attribute a;
	struct abi_dec d;
	int e;

	if ((e = ev_start(l, EV_DID_ATTRIBUTE, 2, &d)) != 0)
		return e;
	if ((e = topic_addr(l->topics[1], a.identity)) != 0 ||
	    (e = abi_dec_bytes32(&d, 0, a.name)) != 0 ||
	    (e = abi_dec_bytes(&d, 1, DID_MAX_VALUE_BYTES, &a.value,
			       &a.value_len)) != 0 ||
	    (e = abi_dec_u256(&d, 2, &a.valid_to)) != 0)
		return e;
	*out = a;
	return 0;
}

int ev_announcement_decode(const struct chain_log *l,
			   struct ev_announcement *out)
{
	struct ev_announcement a;
	struct abi_dec d;
	struct u256 scheme;
	const uint8_t *p, *meta;
	size_t n, mn;
	int e;

	if ((e = ev_start(l, EV_ANNOUNCEMENT, 4, &d)) != 0)
		return e;
	(void)u256_from_be(&scheme, l->topics[1], 32);
	if (!u256_fits_u64(&scheme))
		return ERR_FORMAT;
	a.scheme_id = scheme.w[0];
	if ((e = topic_addr(l->topics[2], a.stealth)) != 0 ||
	    (e = abi_dec_bytes(&d, 0, SECP_PK_BYTES, &p, &n)) != 0 ||
	    (e = abi_dec_bytes(&d, 1, 1024, &meta, &mn)) != 0)
		return e;
	if (n != SECP_PK_BYTES || mn < 1 || secp_pk_parse(&a.eph, p, n) != 0)
		return ERR_FORMAT;
	a.view_tag = meta[0];
	*out = a;
	return 0;
}

/* ---------------------------------------------------------------- errors */

static const char *const error_sigs[] = {
	/* chain/contracts/src */
	"AgentFeeTooHigh(uint256)", "AlreadyPublished(bytes32)",
	"BadEphemeralKey()", "BadParams()", "BadRand()", "BadSignature()",
	"DuplicatePayee(address)", "Expired(uint64)", "ExpiryTooFar(uint64)",
	"FeeTooHigh(uint256)", "InsufficientBalance(uint256,uint256)",
	"LengthMismatch()", "Mismatch(string)", "NotCreator(uint256)",
	"NotFunder(address,address)", "NotHolder(uint256,address)",
	"NotKeyAgent(uint256,address)", "NotListed(uint256)",
	"NotOwner(address,address)", "NotPayee(address)",
	"NotTokenOwner(uint256)", "NotUnlocking(address)", "NotWinning()",
	"NothingNew(uint256,uint256)", "NothingOwed()",
	"NothingToRelease(address)", "PotEmpty(address)",
	"PotUnlocking(address)", "PriceAboveMax(uint256,uint256)",
	"RoyaltyTooHigh(uint256)", "SharesNot10000(uint256)",
	"SplitNot10000(uint256)", "StillLocked(uint256)",
	"TicketUsed(address,uint256)", "UnknownContent(uint256)",
	"UnknownPot(address)", "WrongChain(uint256)", "ZeroAddress()",
	"ZeroAmount()", "ZeroCommitment()", "ZeroContentHash()", "ZeroPrice()",
	/* OpenZeppelin 5 */
	"ERC20InsufficientBalance(address,uint256,uint256)",
	"ERC20InsufficientAllowance(address,uint256,uint256)",
	"ERC20InvalidReceiver(address)", "ERC20InvalidSender(address)",
	"ERC721NonexistentToken(uint256)", "ERC721InvalidReceiver(address)",
	"ERC721InsufficientApproval(address,uint256)",
	"ERC721IncorrectOwner(address,uint256,address)",
	"SafeERC20FailedOperation(address)", "ECDSAInvalidSignature()",
	"ECDSAInvalidSignatureLength(uint256)",
	"ECDSAInvalidSignatureS(bytes32)", "ReentrancyGuardReentrantCall()",
	"FeesOverflow()",
};

static uint8_t error_sels[ARRAY_LEN(error_sigs)][4];
static pthread_once_t error_once = PTHREAD_ONCE_INIT;

static void error_init(void)
{
	for (size_t i = 0; i < ARRAY_LEN(error_sigs); i++)
		abi_selector(error_sels[i], error_sigs[i]);
}

const char *chain_calls_error_name(const uint8_t sel[4])
{
	pthread_once(&error_once, error_init);
	for (size_t i = 0; i < ARRAY_LEN(error_sigs); i++)
		if (memcmp(sel, error_sels[i], 4) == 0)
			return error_sigs[i];
	return NULL;
}

/* ----------------------------------------------------------------- paper */

void chain_voucher_paper_encode(struct bbuf *out,
				const struct eip712_voucher *v,
				const uint8_t sig[SECP_SIG_BYTES])
{
	struct abi_enc e;

	abi_enc_init(&e, VOUCHER_WORDS + 1);
	put_voucher(&e, v);
	abi_enc_bytes(&e, sig, SECP_SIG_BYTES);
	(void)abi_enc_finish(&e, out);
}

static int paper_sig(const struct abi_dec *d, size_t i, uint8_t sig[65])
{
	const uint8_t *p;
	size_t n;
	int e;

	if ((e = abi_dec_bytes(d, i, SECP_SIG_BYTES, &p, &n)) != 0)
		return e;
	if (n != SECP_SIG_BYTES)
		return ERR_FORMAT;
	memcpy(sig, p, n);
	return 0;
}

int chain_voucher_paper_decode(const uint8_t *p, size_t len,
			       struct eip712_voucher *v,
			       uint8_t sig[SECP_SIG_BYTES])
{
	struct abi_dec d = abi_dec_init(p, len);
	struct eip712_voucher t;
	uint8_t s[SECP_SIG_BYTES];
	int e;

	if (len > CHAIN_PAPER_MAX_BYTES)
		return ERR_TOO_BIG;
	if ((e = abi_dec_address(&d, 0, t.recipient)) != 0 ||
	    (e = abi_dec_bytes32(&d, 1, t.lane)) != 0 ||
	    (e = abi_dec_u256(&d, 2, &t.cumulative)) != 0 ||
	    (e = abi_dec_u64(&d, 3, &t.expiry)) != 0 ||
	    (e = paper_sig(&d, 4, s)) != 0)
		return e == ERR_RANGE ? ERR_FORMAT : e;
	/* Exactly the canonical encoding: 5 head words, length, 3 data words. */
	if (len != (VOUCHER_WORDS + 1 + 1 + 3) * ABI_WORD_BYTES)
		return ERR_FORMAT;
	*v = t;
	memcpy(sig, s, sizeof(s));
	return 0;
}

void chain_ticket_paper_encode(struct bbuf *out, const struct eip712_ticket *t,
			       const uint8_t sig[SECP_SIG_BYTES])
{
	struct abi_enc e;

	abi_enc_init(&e, TICKET_WORDS + 1);
	put_ticket(&e, t);
	abi_enc_bytes(&e, sig, SECP_SIG_BYTES);
	(void)abi_enc_finish(&e, out);
}

int chain_ticket_paper_decode(const uint8_t *p, size_t len,
			      struct eip712_ticket *t,
			      uint8_t sig[SECP_SIG_BYTES])
{
	struct abi_dec d = abi_dec_init(p, len);
	struct eip712_ticket k;
	uint8_t s[SECP_SIG_BYTES];
	int e;

	if (len > CHAIN_PAPER_MAX_BYTES)
		return ERR_TOO_BIG;
	if ((e = abi_dec_address(&d, 0, k.recipient)) != 0 ||
	    (e = abi_dec_u256(&d, 1, &k.face_value)) != 0 ||
	    (e = abi_dec_u256(&d, 2, &k.win_prob)) != 0 ||
	    (e = abi_dec_u256(&d, 3, &k.sender_nonce)) != 0 ||
	    (e = abi_dec_bytes32(&d, 4, k.recipient_rand_hash)) != 0 ||
	    (e = abi_dec_u64(&d, 5, &k.expiry)) != 0 ||
	    (e = paper_sig(&d, 6, s)) != 0)
		return e == ERR_RANGE ? ERR_FORMAT : e;
	if (len != (TICKET_WORDS + 1 + 1 + 3) * ABI_WORD_BYTES)
		return ERR_FORMAT;
	*t = k;
	memcpy(sig, s, sizeof(s));
	return 0;
}
