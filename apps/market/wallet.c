/*
 * The wallet and earnings view (apps/market/wallet.h).
 */
#include "config.h"

#include "apps/market/wallet.h"
#include "crypto/base/err.h"

static json_t *amount(const struct u256 *v)
{
	char buf[U256_DEC_BYTES];

	return json_string(u256_format_dec(v, buf, sizeof(buf)));
}

static json_t *address(const uint8_t a[20])
{
	char buf[ETH_ADDR_STR_BYTES];

	return json_string(eth_addr_format(a, buf, sizeof(buf)));
}

/* A uint256 view of `who` (the encoder appends the calldata). */
static int view(struct chain_client *cc, const uint8_t to[20],
		void (*enc)(struct bbuf *, const uint8_t *),
		const uint8_t who[20], struct u256 *out)
{
	struct bbuf b = BBUF_INIT;
	int r;

	enc(&b, who);
	r = chain_call_u256(cc, to, b.data, b.len, out);
	bbuf_free(&b);
	return r;
}

static int accounts(struct chain_client *cc, const struct chain_deploy *dep,
		    const struct market_wallet_query *q, json_t *o,
		    struct u256 *total)
{
	json_t *acc = json_array(), *lic = json_array();
	struct u256 eth, tok, owed;
	int r = 0;

	json_object_set_new(o, "accounts", acc);
	json_object_set_new(json_object_get(o, "earnings"), "licences", lic);
	for (size_t i = 0; i < q->naccounts && r == 0; i++) {
		const uint8_t *a = q->accounts[i];
		struct chain_client *c = q->account_cc ? q->account_cc[i] : cc;
		if ((r = chain_get_balance(c, a, &eth)) ||
		    (r = view(c, dep->token, erc20_balance_of, a, &tok)) ||
		    (r = view(c, dep->license_registry, license_owed_call, a,
			      &owed)))
			break;
		json_array_append_new(acc, json_pack("{s:o, s:o, s:o}",
			"address", address(a), "eth", amount(&eth),
			"token", amount(&tok)));
		json_array_append_new(lic, json_pack("{s:o, s:o}",
			"address", address(a), "owed", amount(&owed)));
		if (u256_add(total, total, &owed) != 0)
			r = ERR_RANGE;
	}
	return r;
}

static int stealth(struct chain_client *cc, const struct chain_deploy *dep,
		   const struct market_wallet_query *q, json_t *o,
		   struct u256 *total)
{
	json_t *st = json_array();
	struct u256 bal;
	int r = 0;

	json_object_set_new(json_object_get(o, "earnings"), "stealth", st);
	for (size_t i = 0; i < q->nstealth && r == 0; i++) {
		const uint8_t *a = q->stealth[i];
		if ((r = view(q->stealth_cc ? q->stealth_cc[i] : cc,
			      dep->payment_hub, hub_balances_call, a,
			      &bal)) != 0)
			break;
		json_array_append_new(st, json_pack("{s:o, s:o}",
			"address", address(a), "balance", amount(&bal)));
		if (u256_add(total, total, &bal) != 0)
			r = ERR_RANGE;
	}
	return r;
}

static int pots(struct chain_client *cc, const struct chain_deploy *dep,
		const struct market_wallet_query *q, json_t *o)
{
	json_t *arr = json_array();
	struct bbuf b = BBUF_INIT, ret = BBUF_INIT;
	struct hub_pot pot;
	int r = 0;

	json_object_set_new(o, "pots", arr);
	for (size_t i = 0; i < q->npots && r == 0; i++) {
		const uint8_t *s = q->pot_signers[i];
		bbuf_reset(&b);
		bbuf_reset(&ret);
		hub_pots_call(&b, s);
		if ((r = chain_call(q->pot_cc ? q->pot_cc[i] : cc, NULL,
				    dep->payment_hub, b.data, b.len,
				    &ret)) != 0 ||
		    (r = hub_pot_decode(ret.data, ret.len, &pot)) != 0)
			break;
		json_array_append_new(arr, json_pack("{s:o, s:o, s:o, s:I}",
			"signer", address(s), "deposit", amount(&pot.deposit),
			"escrow", amount(&pot.escrow),
			"unlock_at", (json_int_t)pot.unlock_at));
	}
	bbuf_free(&b);
	bbuf_free(&ret);
	return r;
}

int market_wallet_json(struct chain_client *cc,
		       const struct chain_deploy *dep,
		       const struct market_wallet_query *q, json_t **out)
{
	json_t *o;
	struct u256 total = u256_from_u64(0);
	int r;

	if (q->naccounts > MARKET_WALLET_MAX_ADDRS ||
	    q->nstealth > MARKET_WALLET_MAX_ADDRS ||
	    q->npots > MARKET_WALLET_MAX_ADDRS)
		return ERR_TOO_BIG;
	o = json_pack("{s:{}}", "earnings");
	if ((r = accounts(cc, dep, q, o, &total)) != 0 ||
	    (r = stealth(cc, dep, q, o, &total)) != 0 ||
	    (r = pots(cc, dep, q, o)) != 0) {
		json_decref(o);
		return r;
	}
	json_object_set_new(json_object_get(o, "earnings"), "total",
			    amount(&total));
	*out = o;
	return 0;
}
