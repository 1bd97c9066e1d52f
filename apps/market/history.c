/*
 * Earnings over time from the chain's licence sales (apps/market/history.h).
 */
#include "config.h"

#include <string.h>

#include "apps/market/history.h"
#include "chain/abi.h"
#include "chain/jsonrpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#define BPS 10000

struct terms {
	uint64_t index;
	struct license_content lc;
};

/* A standing relayed listing: its relayer is owed fee out of the
 * seller's share when the licence sells. */
struct relay {
	uint8_t token[32];
	uint8_t relayer[20];
	struct u256 fee;
};

struct walk {
	struct chain_client *cc;
	const struct chain_deploy *dep;
	const uint8_t (*accounts)[20];
	size_t naccounts;
	uint64_t fee_bps;
	uint8_t t_sale[32], t_resale[32], t_transfer[32], t_listed[32];
	uint8_t t_unlisted[32], t_relayed[32];
	struct terms *terms;
	size_t nterms;
	struct relay relays[MARKET_HISTORY_MAX_RELAYS];
	size_t nrelays;
	/* The last Transfer (a resale's comes just before its Resold, in
	 * the same transaction): the seller, and the relay it cleared. */
	bool has_moved;
	uint8_t moved_tx[32], moved_token[32], moved_from[20];
	struct relay moved_relay;
	bool moved_relayed;
	uint64_t ts_block, ts;		/* the last block's time */
	json_t *sales;
	struct u256 total;
};

static bool ours(const struct walk *w, const uint8_t a[20])
{
	for (size_t i = 0; i < w->naccounts; i++)
		if (memcmp(w->accounts[i], a, 20) == 0)
			return true;
	return false;
}

static int terms_of(struct walk *w, uint64_t index,
		    const struct license_content **out)
{
	struct bbuf c = BBUF_INIT, ret = BBUF_INIT;
	struct u256 idx = u256_from_u64(index);
	struct license_content lc;
	int r;

	for (size_t i = 0; i < w->nterms; i++)
		if (w->terms[i].index == index) {
			*out = &w->terms[i].lc;
			return 0;
		}
	if (w->nterms == MARKET_HISTORY_MAX_CONTENTS)
		w->nterms = 0;		/* start the cache again */
	license_content_call(&c, &idx);
	r = chain_call(w->cc, NULL, w->dep->license_registry, c.data, c.len,
		       &ret);
	if (r == 0)
		r = license_content_decode(ret.data, ret.len, &lc);
	bbuf_free(&c);
	bbuf_free(&ret);
	if (r != 0)
		return r;
	w->terms[w->nterms].index = index;
	w->terms[w->nterms].lc = lc;
	*out = &w->terms[w->nterms++].lc;
	return 0;
}

static int block_time(struct walk *w, uint64_t block, uint64_t *out)
{
	json_t *res = NULL;
	int r;

	if (w->ts_block == block && block) {
		*out = w->ts;
		return 0;
	}
	r = chain_rpc_call(w->cc, "eth_getBlockByNumber",
			   json_pack("[ob]", jsonrpc_hex_u64(block), 0), &res);
	if (r == 0 && (!json_is_object(res) ||
		       jsonrpc_get_u64(json_object_get(res, "timestamp"),
				       out) != 0))
		r = ERR_FORMAT;
	json_decref(res);
	if (r == 0) {
		w->ts_block = block;
		w->ts = *out;
	}
	return r;
}

/* amount · bps / 10000, as the contract rounds (down). */
static struct u256 share(const struct u256 *amount, uint64_t bps)
{
	struct u256 m, q;
	uint64_t rem;

	if (u256_mul_u64(&m, amount, bps) != 0 ||
	    u256_div_u64(&q, &rem, &m, BPS) != 0)
		return u256_from_u64(0);	/* price < 2^96: never */
	return q;
}

static void sub(struct u256 *a, const struct u256 *b)
{
	if (u256_sub(a, a, b) != 0)
		*a = u256_from_u64(0);
}

static void add(struct u256 *a, const struct u256 *b)
{
	(void)u256_add(a, a, b);	/* a sum of uint96 prices */
}

static struct relay *relay_find(struct walk *w, const uint8_t token[32])
{
	for (size_t i = 0; i < w->nrelays; i++)
		if (memcmp(w->relays[i].token, token, 32) == 0)
			return &w->relays[i];
	return NULL;
}

static void relay_drop(struct walk *w, const uint8_t token[32])
{
	struct relay *r = relay_find(w, token);

	if (r)
		*r = w->relays[--w->nrelays];
}

/* Listings, their relays and transfers, in chain order: what a resale's
 * seller and relayer get.  True when l was one of them. */
static bool track(struct walk *w, const struct chain_log *l)
{
	struct relay *r;

	if (l->ntopics == 4 && l->data_len == 0 &&
	    memcmp(l->topics[0], w->t_transfer, 32) == 0) {
		w->has_moved = true;
		memcpy(w->moved_tx, l->tx_hash, 32);
		memcpy(w->moved_token, l->topics[3], 32);
		memcpy(w->moved_from, l->topics[1] + 12, 20);
		r = relay_find(w, l->topics[3]);
		w->moved_relayed = r != NULL;
		if (r)
			w->moved_relay = *r;
		relay_drop(w, l->topics[3]);	/* a transfer clears it */
		return true;
	}
	if ((l->ntopics == 3 && l->data_len == 32 &&
	     memcmp(l->topics[0], w->t_listed, 32) == 0) ||
	    (l->ntopics == 2 && l->data_len == 0 &&
	     memcmp(l->topics[0], w->t_unlisted, 32) == 0)) {
		relay_drop(w, l->topics[1]);
		return true;
	}
	if (l->ntopics == 3 && l->data_len == 32 &&
	    memcmp(l->topics[0], w->t_relayed, 32) == 0) {
		relay_drop(w, l->topics[1]);
		if (w->nrelays == MARKET_HISTORY_MAX_RELAYS)
			relay_drop(w, w->relays[0].token);
		r = &w->relays[w->nrelays++];
		memcpy(r->token, l->topics[1], 32);
		memcpy(r->relayer, l->topics[2] + 12, 20);
		(void)u256_from_be(&r->fee, l->data, 32);
		return true;
	}
	return false;
}

/* A resale's seller part and relayer: the Transfer just before the
 * Resold in its transaction names the seller; the relayed listing it
 * cleared, the relayer and its fee. */
static void resale_parts(struct walk *w, const struct chain_log *l,
			 const struct u256 *price, const struct u256 *cuts,
			 struct u256 *mine)
{
	struct u256 seller = *price;

	if (!w->has_moved || memcmp(w->moved_tx, l->tx_hash, 32) != 0 ||
	    memcmp(w->moved_token, l->topics[1], 32) != 0)
		return;
	sub(&seller, cuts);
	if (w->moved_relayed) {
		sub(&seller, &w->moved_relay.fee);
		if (ours(w, w->moved_relay.relayer))
			add(mine, &w->moved_relay.fee);
	}
	if (ours(w, w->moved_from))
		add(mine, &seller);
}

static int on_log(void *arg, const struct chain_log *l)
{
	struct walk *w = arg;
	const struct license_content *lc;
	struct u256 token, index, price, fee, afee, creator, agent, mine;
	bool resale;
	uint64_t t;
	char a[80], b[80];
	int r;

	if (track(w, l) || l->ntopics != 2 || l->data_len != 32)
		return 0;
	resale = memcmp(l->topics[0], w->t_resale, 32) == 0;
	if (!resale && memcmp(l->topics[0], w->t_sale, 32) != 0)
		return 0;
	(void)u256_from_be(&token, l->topics[1], 32);
	(void)u256_from_be(&index, l->topics[1], 24);	/* tokenId >> 64 */
	(void)u256_from_be(&price, l->data, 32);
	if (!u256_fits_u64(&index))
		return ERR_FORMAT;
	if ((r = terms_of(w, index.w[0], &lc)) != 0)
		return r;
	fee = share(&price, w->fee_bps);
	afee = share(&price, lc->agent_fee_bps);
	if (resale) {
		creator = share(&price, lc->royalty_bps);
		agent = afee;
	} else if (memcmp(lc->creator, lc->key_agent, 20) == 0) {
		creator = price;
		sub(&creator, &fee);
		agent = u256_from_u64(0);
	} else {
		creator = price;
		sub(&creator, &fee);
		sub(&creator, &afee);
		agent = afee;
	}
	mine = u256_from_u64(0);
	if (ours(w, lc->creator))
		add(&mine, &creator);
	if (ours(w, lc->key_agent))
		add(&mine, &agent);
	if (resale) {
		struct u256 cuts = fee;

		add(&cuts, &afee);
		add(&cuts, &creator);
		resale_parts(w, l, &price, &cuts, &mine);
	}
	if (u256_is_zero(&mine))
		return 0;
	if ((r = block_time(w, l->block_number, &t)) != 0)
		return r;
	if (json_array_size(w->sales) == MARKET_HISTORY_MAX_SALES)
		json_array_remove(w->sales, 0);
	add(&w->total, &mine);
	json_array_append_new(w->sales, json_pack(
		"{sI sI ss sI ss ss}", "t", (json_int_t)t,
		"block", (json_int_t)l->block_number,
		"kind", resale ? "resale" : "sale",
		"index", (json_int_t)index.w[0],
		"price", u256_format_dec(&price, a, sizeof(a)),
		"amount", u256_format_dec(&mine, b, sizeof(b))));
	return 0;
}

int market_history_json(struct chain_client *cc,
			const struct chain_deploy *dep,
			const uint8_t (*accounts)[20], size_t naccounts,
			uint64_t blocks, json_t **out)
{
	struct walk w = { 0 };
	struct chain_log_filter f = { 0 };
	struct u256 fee;
	uint8_t sel[ABI_SELECTOR_BYTES];
	uint64_t tip, from;
	char tot[80];
	int r;

	w.cc = cc;
	w.dep = dep;
	w.accounts = accounts;
	w.naccounts = naccounts;
	chain_event_topic(w.t_sale, EV_LICENSE_PURCHASED);
	chain_event_topic(w.t_resale, "Resold(uint256,uint256)");
	chain_event_topic(w.t_transfer, "Transfer(address,address,uint256)");
	chain_event_topic(w.t_listed, "Listed(uint256,address,uint256)");
	chain_event_topic(w.t_unlisted, "Unlisted(uint256)");
	chain_event_topic(w.t_relayed,
			  "ListingRelayed(uint256,address,uint256)");
	abi_selector(sel, "protocolFeeBps()");
	if ((r = chain_call_u256(cc, dep->license_registry, sel, sizeof(sel),
				 &fee)) != 0)
		return r;
	if (!u256_fits_u64(&fee) || fee.w[0] > BPS)
		return ERR_FORMAT;
	w.fee_bps = fee.w[0];
	if ((r = chain_block_number(cc, &tip)) != 0)
		return r;
	from = tip >= blocks ? tip - blocks + 1 : 0;
	f.has_address = true;
	memcpy(f.address, dep->license_registry, 20);
	w.terms = xmalloc(MARKET_HISTORY_MAX_CONTENTS * sizeof(*w.terms));
	w.sales = json_array();
	r = chain_get_logs(cc, from, tip, &f, on_log, &w);
	free(w.terms);
	if (r != 0) {
		json_decref(w.sales);
		return r;
	}
	*out = json_pack("{sI sI sI so ss}", "from_block", (json_int_t)from,
			 "to_block", (json_int_t)tip,
			 "fee_bps", (json_int_t)w.fee_bps, "sales", w.sales,
			 "total", u256_format_dec(&w.total, tot, sizeof(tot)));
	return 0;
}
