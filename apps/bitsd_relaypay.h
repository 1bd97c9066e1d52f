/*
 * bitsd's paid relaying (issue [R], docs/relaypay.md): wiring of
 * chain/relaypay into the router.
 *
 * Relay (relay.pay): stealth keys in DATADIR/relaypay-spend.key and
 * relaypay-view.key (made at first start, 0600); the meta-address, the
 * current epoch commitment and relay.pay.price go into our RouterInfo
 * through the publish callback, again at each epoch rotation
 * (relay.pay.epoch).  A ticket that an accepted transit build carries is
 * checked on the loop (relaypay_payee_check), its signer's pot is read
 * through the chain client on a worker (cached BITSD_RELAYPAY_POT_TTL_S),
 * then accepted and drawn; the bytes each paid tunnel carries are counted
 * from the transit table.  Once an epoch stops taking tickets its winners
 * are redeemed in one redeemTickets transaction from relay.pay.redeem-key
 * (one ticket at a time when the batch reverts).  The payee's state
 * (epoch secrets, winners, replay set) is kept in DATADIR/relaypay.state
 * (0600).
 *
 * Payer (tunnels.pay.key): each hop of our tunnels that publishes
 * bits.pay.* at no more than tunnels.pay.max-price gets a ticket worth
 * tunnels.pay.mib MiB at its price, signed with the pot signer key (with
 * several, the next each tunnels.pay.rotate seconds; a tunnel keeps the
 * one it was built with), and another each time the tunnel carries as
 * much; the other hops (i2pd, free or too dear) get none.  With
 * tunnels.pay.fresh-pots the pots are made, funded and drained by bitsd,
 * new ones each turn (docs/relaypay.md §4).
 *
 * Both need market.deploy (chain id and PaymentHub: the EIP-712 domain);
 * the relay reads pots and redeems through the market's chain client
 * (market.gateways or market.gateway) and refuses every ticket without
 * one.  /api/status gets a "relaypay" section.  Thread: the loop thread.
 */
#ifndef APPS_BITSD_RELAYPAY_H
#define APPS_BITSD_RELAYPAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct api;
struct chain_transport;
struct conf;
struct i2np_msg;
struct evloop;
struct netdb;
struct netdb_store;
struct ri_pay;
struct transit_table;
struct tunnel_mgr;
struct worker_pool;
struct bitsd_relaypay;	/* opaque */

/*
 * The payer's choice of pot key for the tunnels of pool (tunnel_ticket_fn
 * numbers the pools: 0 the exploratory one, each client pool its own):
 * of nkeys keys used in turn, the turn's key pool places on, or the first
 * key from there whose bit is set in usable (the pots known funded);
 * SIZE_MAX when none is.  With as many keys as pools, no two pools name
 * the same pot at once.
 */
static inline size_t bitsd_relaypay_key_pick(uint64_t turn, unsigned pool,
					     size_t nkeys, uint32_t usable)
{
	size_t k = (size_t)((turn + pool) % nkeys);

	for (size_t i = 0; i < nkeys; i++)
		if (usable & 1u << (k + i) % nkeys)
			return (k + i) % nkeys;
	return SIZE_MAX;
}

/* tunnels.pay.fresh-pots: the slot of pot pool mod per_turn of turn, in
 * slots for turns turns (a slot is used again that many turns later). */
static inline size_t bitsd_relaypay_fresh_slot(uint64_t turn, unsigned pool,
					       unsigned per_turn,
					       unsigned turns)
{
	return (size_t)(turn % turns) * per_turn + pool % per_turn;
}

/* A pot's state is read again after this long (while a redemption holds
 * the chain client, after the second). */
#define BITSD_RELAYPAY_POT_TTL_S 60
#define BITSD_RELAYPAY_POT_STALE_S 600
/* Pot states kept (a ticket may name any signer; each read adds one):
 * past BITSD_RELAYPAY_POT_STALE_S, or this many, they go. */
#define BITSD_RELAYPAY_POTS_MAX 4096
/* Epochs, tickets, paid tunnels and saving are looked at this often. */
#define BITSD_RELAYPAY_TICK_MS 2000
/* The payee's state is written at most this often when it changed (and
 * at stop). */
#define BITSD_RELAYPAY_SAVE_MS 10000
/* Tickets waiting for their pot's state (more are refused), at most
 * this long; a pot read that failed is tried again after a while. */
#define BITSD_RELAYPAY_PENDING_MAX 256
#define BITSD_RELAYPAY_PENDING_S 300
#define BITSD_RELAYPAY_POT_RETRY_MS 5000
/* Winners that could not be redeemed are tried again after this long,
 * this many times in all; at most this many a redeemTickets (one log
 * each in the receipt: CHAIN_RECEIPT_MAX_LOGS). */
#define BITSD_RELAYPAY_REDEEM_RETRY_MS 60000
#define BITSD_RELAYPAY_REDEEM_TRIES 4
#define BITSD_RELAYPAY_BATCH_MAX 48
/* The payer's ticket lifetime (≤ maxPaperTTL, 12 h in genesis/demo.json;
 * it must outlast a relay's epoch, grace and redemption margin). */
#define BITSD_RELAYPAY_TICKET_TTL_S (6 * 3600)
/* The relay's checks: maxPaperTTL, the redemption margin, the default
 * epoch, the default face value and MiB per tunnel. */
#define BITSD_RELAYPAY_MAX_PAPER_TTL_S (12 * 3600)
#define BITSD_RELAYPAY_REDEEM_MARGIN_S 300
#define BITSD_RELAYPAY_DEFAULT_EPOCH_S 3600
#define BITSD_RELAYPAY_DEFAULT_FACE "1000000000000000000"
#define BITSD_RELAYPAY_DEFAULT_MIB 16
#define BITSD_RELAYPAY_STATE_FILE "relaypay.state"
/* Tickets after the build taken for one tunnel (a 10-minute tunnel at
 * 1 KiB a ticket carries 1 MiB a second). */
#define BITSD_RELAYPAY_TOPUPS_MAX 4096
/* Payer: a paid hop's RouterInfo older than tunnels.pay.ri-refresh
 * (default) is looked up again (its epoch commitment changes), at most
 * once that long for each of the last this many hops. */
#define BITSD_RELAYPAY_RI_REFRESH_S 600
#define BITSD_RELAYPAY_RI_FRESH_MAX 64
/* Pot signer keys in tunnels.pay.key, and how long each is used in turn
 * by default (tunnels.pay.rotate). */
#define BITSD_RELAYPAY_PAY_KEYS_MAX 16
#define BITSD_RELAYPAY_ROTATE_S 3600
/* A withdrawal's deadline after the chain's time; tries for each (2 s,
 * 4 s... apart) and the pause between two (a chain gateway allows each
 * peer 20 requests a second). */
#define BITSD_RELAYPAY_WITHDRAW_S 3600
#define BITSD_RELAYPAY_WITHDRAW_TRIES 4
#define BITSD_RELAYPAY_WITHDRAW_PACE_MS 300
/* A withdrawal whose tries all failed is tried again in a later round,
 * this long after, doubling each round, this many rounds in all. */
#define BITSD_RELAYPAY_WITHDRAW_RETRY_MS 30000
/* Pot funding (tunnels.pay.fund-key): the pots are checked at start and
 * this often (and at a turn to a pot not read); what was spent is kept in
 * this file. */
#define BITSD_RELAYPAY_FUND_CHECK_MS 600000
#define BITSD_RELAYPAY_FUND_FILE "relaypay-fund.spent"
#define BITSD_RELAYPAY_WITHDRAW_ROUNDS 6
/* The withdrawals to try again, kept across a restart (0600, written
 * with the state): a line each, the winner's ephemeral key (66 hex
 * digits, compressed) and the rounds that failed. */
#define BITSD_RELAYPAY_WRETRY_FILE "relaypay-withdraw.retry"
/* tunnels.pay.fresh-pots: the pots' keys (DATADIR/relaypay-pots/END-I.key,
 * pot I of the turn ending at END, unix s); a tunnel may outlive
 * tunnels.lifetime by this much (its build), so a pot is unlocked this
 * long after its turn plus the lifetime and the ticket TTL. */
#define BITSD_RELAYPAY_POTS_DIR "relaypay-pots"
#define BITSD_RELAYPAY_FRESH_MARGIN_S 60

struct bitsd_relaypay_deps {
	struct evloop *el;
	struct worker_pool *wp;
	struct api *api;			/* NULL: no status section */
	const struct netdb_store *store;	/* payer: the hops' RIs */
	struct netdb *db;			/* payer: RIs looked up again */
	struct tunnel_mgr *own;			/* payer: our tunnels */
	struct transit_table *transit;		/* relay: bytes carried */
	const struct chain_transport *chain;	/* NULL: no chain client */
	/* Relay: sign and publish our RouterInfo with pay (borrowed for
	 * the call; NULL: without bits.pay.*). */
	void (*publish)(void *ctx, const struct ri_pay *pay);
	void *ctx;
};

/* relay.pay or tunnels.pay.key. */
bool bitsd_relaypay_wanted(const struct conf *cfg);
/* Start (deps copied; what they point to outlives rp).  ERR_ARG without
 * market.deploy or a price, key and file errors (logged). */
int bitsd_relaypay_start(const struct conf *cfg,
			 const struct bitsd_relaypay_deps *deps,
			 struct bitsd_relaypay **out);
/* A transit build's ticket (untrusted; bitsd_tunnels_ticket_fn). */
void bitsd_relaypay_ticket(void *ctx, const uint8_t *tk, size_t len,
			   uint32_t receive_id);
/* A Data message in garlic to our router (netdb_data_fn, m borrowed):
 * tickets after the build (tunnel_topup_decode()) for a paid tunnel
 * through us, at most BITSD_RELAYPAY_TOPUPS_MAX a tunnel; others are
 * ignored. */
void bitsd_relaypay_data(void *ctx, const struct i2np_msg *m);
/* Wait for chain calls under way (running the loop), save the state,
 * publish no more.  Accepts NULL. */
void bitsd_relaypay_stop(struct bitsd_relaypay *rp);

#endif /* APPS_BITSD_RELAYPAY_H */
