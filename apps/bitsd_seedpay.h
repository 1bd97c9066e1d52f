/*
 * bitsd's pay per chunk (issue 13, docs/market.md §7): apps/market/seedpay
 * installed as the payment hook of the swarm service's engine.
 *
 * Seeder (swarm.pay.price = AMOUNT a chunk): every content the swarm
 * serves is sold.  Its stealth keys are DATADIR/seedpay-spend.key and
 * seedpay-view.key (made at first start, 0600); each viewer session pays
 * a stealth address of its own.  A voucher whose signer's pot is not
 * known yet waits while the pot is read through the market's chain
 * client on a worker (never on the loop); a pot is read again after
 * BITSD_SEEDPAY_POT_TTL_S.  After a random delay of up to
 * swarm.pay.redeem-delay seconds (a quarter of it at least) the vouchers
 * due (worth 100 times the redemption cost each, or any that would
 * expire before the next look) go, at most
 * MARKET_REDEEM_MAX at a time, to the relayer of swarm.pay.relayer over
 * the overlay, which redeems them from its own account (the stealth
 * addresses need no ETH).  The vouchers owed are kept in
 * DATADIR/seedpay-vouchers (0600; written on a worker within a second of
 * a change, and at stop) and restored at start; before the first
 * redemption after a restart, and after a redemption that failed, what
 * the chain paid of each lane is read (PaymentHub.redeemed), so nothing
 * is redeemed twice.
 *
 * Viewer (swarm.pay.key = FILE, the pot signer's key; with
 * swarm.pay.max-price): every seeder that sends terms at no more than
 * the maximum is paid for each verified chunk by cumulative vouchers,
 * one every swarm.pay.batch chunks (at most half the seeder's credit)
 * and one for the rest when the content is whole; a dearer seeder is
 * left.
 *
 * Host (swarm.host.price = AMOUNT a content per epoch, with
 * swarm.storage: docs/market.md §8): a service on a destination of its
 * own (keys DATADIR/market-host.dat, address DATADIR/market-host.b32)
 * answers creators' TERMS for contents held whole in the store and takes
 * their per-epoch vouchers (apps/market/hostpay.h) into the seeder's
 * payee, so they are checked, kept and redeemed as the seeder's are.
 *
 * Creator (swarm.host.pay-key = FILE, swarm.host.max-price, the hosts'
 * service addresses in swarm.host.hosts): at each swarm.host.epoch's end
 * every host is asked, for each content (swarm.host.contents, or every
 * content held whole here), whether it holds it, with a challenge for a
 * chunk drawn at random checked against our own copy, and paid the epoch
 * by a voucher when it proves it, up to swarm.host.budget per host and
 * content.
 *
 * All need market.deploy (the PaymentHub's domain) and the seeder and
 * host a chain RPC gateway (market.gateways or market.gateway).
 * /api/status gets a "seedpay" section, and a "hostpay" one for hosts
 * and creators.  Thread: the loop thread.
 */
#ifndef APPS_BITSD_SEEDPAY_H
#define APPS_BITSD_SEEDPAY_H

#include <stdbool.h>

#include "apps/client/net.h"

/* The seeder's policy and the viewer's defaults. */
#define BITSD_SEEDPAY_CREDIT 16		/* chunks served ahead of pay */
#define BITSD_SEEDPAY_MAX_PAPER_TTL_S (12 * 3600)
#define BITSD_SEEDPAY_MIN_TTL_S 600
#define BITSD_SEEDPAY_VOUCHER_TTL_S 3600
#define BITSD_SEEDPAY_BATCH 8
#define BITSD_SEEDPAY_REDEEM_DELAY_S 600
#define BITSD_SEEDPAY_POT_TTL_S 60
/* A voucher that expires within the longest redeem delay and this is
 * redeemed whatever it is worth (the next look may come too late). */
#define BITSD_SEEDPAY_REDEEM_SLACK_S 120
/* A pot read or a redemption that failed is tried again after this (a
 * redemption failing again after twice as long, up to the max). */
#define BITSD_SEEDPAY_RETRY_MS 5000
#define BITSD_SEEDPAY_RETRY_MAX_MS 300000
#define BITSD_SEEDPAY_REDEEM_TIMEOUT_MS 120000
/* Pots known at most (each read again every BITSD_SEEDPAY_POT_TTL_S). */
#define BITSD_SEEDPAY_SIGNERS_MAX 256
/* Hosts paid per epoch: the default epoch, a voucher's life, a host
 * service's request rate per creator, a lookup's retries. */
#define BITSD_HOSTPAY_EPOCH_S 3600
#define BITSD_HOSTPAY_VOUCHER_TTL_S 3600
#define BITSD_HOSTPAY_RATE_PER_S 4
#define BITSD_HOSTPAY_RATE_BURST 32
/* TERMS (each a chunk read on the loop) from all creators at most. */
#define BITSD_HOSTPAY_PROOFS_PER_S 16
#define BITSD_HOSTPAY_PROOFS_BURST 64
#define BITSD_HOSTPAY_CALL_TIMEOUT_MS 60000
#define BITSD_HOSTPAY_LOOKUP_TRIES 24
#define BITSD_HOSTPAY_HOSTS_MAX 64
/* A host's lanes kept across restarts (apps/market/hostpay.h), beside
 * the vouchers (DATADIR/seedpay-vouchers), 0600. */
#define BITSD_HOSTPAY_LANES_FILE "hostpay-lanes"
/* Stealth addresses redeemed to, listed in /api/status (the latest). */
#define BITSD_SEEDPAY_PAYEES_SHOWN 64

struct api;
struct bitsd_market;
struct conf;
struct content_store;
struct evloop;
struct swarm;
struct worker_pool;
struct bitsd_seedpay;	/* opaque */

struct bitsd_seedpay_deps {
	struct evloop *el;
	struct worker_pool *wp;
	struct api *api;		/* NULL: no status section */
	struct swarm *swarm;		/* the engine paid or paying */
	struct content_store *store;	/* what a host holds (its store) */
	struct bitsd_market *market;	/* chain, contracts, streams */
	struct client_net net;		/* the relayer's lookup */
};

/* swarm.pay.price, swarm.pay.key, swarm.host.price or
 * swarm.host.pay-key is set. */
bool bitsd_seedpay_wanted(const struct conf *cfg);
/*
 * Start the roles cfg asks for and install the hook on deps->swarm.
 * Errors: ERR_ARG (a missing or contradictory key, logged), ERR_FORMAT,
 * the key files'.
 */
int bitsd_seedpay_start(const struct conf *cfg,
			const struct bitsd_seedpay_deps *deps,
			struct bitsd_seedpay **out);
/* Remove the hook, wait for chain work under way, free.  Accepts NULL. */
void bitsd_seedpay_stop(struct bitsd_seedpay *sp);

#endif /* APPS_BITSD_SEEDPAY_H */
