/*
 * The wallet and earnings view of the local JSON API (issue 13): for the
 * addresses a wallet holds, what the chain says they have and are owed,
 * as one JSON object.  Amounts are decimal strings (wei and token base
 * units do not fit a JSON number):
 *
 *   { "accounts": [ { "address", "eth", "token" } ],
 *     "earnings": { "licences": [ { "address", "owed" } ],
 *                   "stealth": [ { "address", "balance" } ],
 *                   "total" },
 *     "pots": [ { "signer", "deposit", "escrow", "unlock_at" } ] }
 *
 * licences: LicenseRegistry.owed (sales as creator or key agent);
 * stealth: PaymentHub balances of the stealth addresses the wallet found
 * (vouchers and tickets redeemed); pots: the PaymentHub pots it funds.
 *
 * The calls block on the chain client (run on a worker, apps/market/rpc.h).
 * What is asked about an address goes through that address's client
 * when the query names one (apps/market/iso.h: a destination of its own,
 * so that a gateway cannot link the wallet's addresses), else through cc.
 */
#ifndef APPS_MARKET_WALLET_H
#define APPS_MARKET_WALLET_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chain/calls.h"
#include "chain/rpc.h"

#define MARKET_WALLET_MAX_ADDRS 256

struct market_wallet_query {
	const uint8_t (*accounts)[20];		/* plain accounts */
	size_t naccounts;
	const uint8_t (*stealth)[20];		/* stealth addresses */
	size_t nstealth;
	const uint8_t (*pot_signers)[20];
	size_t npots;
	/* Each one's own client (NULL: cc for all of that kind). */
	struct chain_client *const *account_cc, *const *stealth_cc,
		*const *pot_cc;
};

/* *out is a new object (the caller json_decref()s it).  ERR_TOO_BIG past
 * MARKET_WALLET_MAX_ADDRS of a kind; the chain client's errors. */
int market_wallet_json(struct chain_client *cc,
		       const struct chain_deploy *dep,
		       const struct market_wallet_query *q, json_t **out);

#endif /* APPS_MARKET_WALLET_H */
