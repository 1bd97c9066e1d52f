/*
 * Earnings over time, from the chain (issue [UI], the Wallet page): what
 * the licence sales paid to a wallet's accounts, sale by sale, with each
 * sale's block time.
 *
 * The LicenseRegistry's LicensePurchased (a primary sale) and Resold
 * events of the last `blocks` blocks are read by block range (chain/rpc.h
 * filters them here), each content's terms read once (content(index)),
 * and each sale split as the contract splits it (protocolFeeBps read from
 * the registry): a primary sale gives its creator the price less the
 * protocol fee and the agent fee (the whole price less the protocol fee
 * when the creator is its own agent) and the agent its fee; a resale
 * gives the creator its royalty, the agent its fee, the relayer of a
 * relayed listing its fee and the seller the rest.  The Resold event
 * does not name the seller: the ERC-721 Transfer just before it in the
 * same transaction does, and the walk follows Listed, ListingRelayed,
 * Unlisted and Transfer events to know which relayed listing a sale
 * took (a relayed listing made before the blocks read is not seen: its
 * fee then counts as the seller's).  Only the shares of the given
 * accounts count.
 *
 *   { "from_block", "to_block", "fee_bps",
 *     "sales": [ { "t", "block", "kind" ("sale" | "resale"), "index",
 *                  "price", "amount" } ],      (oldest first)
 *     "total" }
 * Amounts are decimal strings of token base units.
 *
 * Not counted yet: PaymentHub payments to the stealth addresses of
 * seeders, hosts and relays (the router does not know which stealth
 * addresses are its own yet).
 *
 * The calls block on the chain client (run on a worker).
 */
#ifndef APPS_MARKET_HISTORY_H
#define APPS_MARKET_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chain/calls.h"
#include "chain/rpc.h"

#define MARKET_HISTORY_BLOCKS 50000	/* about a week of 12 s blocks */
#define MARKET_HISTORY_MAX_SALES 2000	/* the newest kept past that */
#define MARKET_HISTORY_MAX_CONTENTS 256	/* terms cached per walk */
#define MARKET_HISTORY_MAX_RELAYS 64	/* standing relayed listings followed */

/* *out is a new object.  The chain client's errors; ERR_FORMAT for a
 * malformed event or answer. */
int market_history_json(struct chain_client *cc,
			const struct chain_deploy *dep,
			const uint8_t (*accounts)[20], size_t naccounts,
			uint64_t blocks, json_t **out);

#endif /* APPS_MARKET_HISTORY_H */
