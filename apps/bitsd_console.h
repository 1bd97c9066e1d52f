/*
 * The web console's own calls on the local JSON API (issue [UI],
 * docs/console.md), beside the subsystems' (/api/feed, /api/market):
 *
 *   /api/swarm/content/<hash>[?key=K]   the content, through the swarm
 *        service in process (swarm_service_http): Range answered while
 *        it downloads; without a key, the key this router holds for it
 *        (published here: the key book; bought: the market's key
 *        library, bitsd_market_key_for()), else 400.
 *   GET  /api/swarm/<hash>     download progress, chunk map and peers
 *   POST /api/swarm/<hash>[?peer=H]...   start fetching (seed hints)
 *   GET  /api/swarm/<hash>/key    {"known": bool}: whether this router
 *        holds the key (the key itself never leaves bitsd)
 *   POST /api/publish {name, size, mime}   a new upload: {"id"} (429
 *        when BITSD_CONSOLE_UPLOADS_MAX are under way)
 *   POST /api/publish/<id>/data?offset=N   the next piece of the file
 *        (raw bytes, at most API_MAX_BODY_BYTES), written on a worker
 *   POST /api/publish/<id>/seal {title, description, tags, price,
 *        currency, decimals, royalty, preview: {mime, data} | excerpt,
 *        licence: {contract, index}, key_agent}
 *        seal (encrypt), store and seed it, and sign its card with the
 *        creator key (what `bits publish` does); a free content's card
 *        carries its key (a last description line "bits-key: K")
 *   GET  /api/publish/<id>     {state, received, size, ...,
 *        content_hash, card (hex, for /api/feed/publish), card_id}
 *   GET  /api/console/router   the proxies' settings and hosted sites
 *   GET  /api/status "netdb" section: RouterInfos, floodfills and
 *        LeaseSets held (counts only, like the other open sections)
 *   GET  /api/console/earnings the samples of bytes served as seeder,
 *        relay and host (the hosted sites' streams), and of money earned
 *        as seeder and relay from the "seedpay" and "relaypay" sections
 *        (every BITSD_CONSOLE_SAMPLE_MS, the last BITSD_CONSOLE_SAMPLES)
 *   GET  /api/console/router also gives each hosted site's bytes served
 *
 * Thread: the loop thread; file writes and sealing run on the workers.
 */
#ifndef APPS_BITSD_CONSOLE_H
#define APPS_BITSD_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#define BITSD_CONSOLE_UPLOAD_MAX_BYTES ((uint64_t)256 << 20)
#define BITSD_CONSOLE_UPLOADS_MAX 4
/* An upload with no piece for this long gives its place to a new one. */
#define BITSD_CONSOLE_UPLOAD_IDLE_MS (10 * 60 * 1000)
#define BITSD_CONSOLE_SAMPLE_MS 10000
#define BITSD_CONSOLE_SAMPLES 360
#define BITSD_CONSOLE_KEYS_MAX 4096

struct api;
struct bitsd_market;
struct bitsd_proxy;
struct conf;
struct evloop;
struct netdb;
struct swarm_service;
struct transit_table;
struct worker_pool;
struct bitsd_console;	/* opaque */

struct bitsd_console_deps {
	struct api *api;		/* required */
	struct swarm_service *swarm;	/* NULL: swarm off */
	const struct transit_table *transit;	/* NULL: none */
	struct worker_pool *workers;
	bool market;			/* a market.* key is set */
	const struct bitsd_market *market_sub;	/* NULL: no key library */
	struct netdb *netdb;		/* NULL: no "netdb" section */
	const struct bitsd_proxy *proxy;	/* NULL: no hosted sites */
};

/*
 * Register the calls on deps->api; everything in deps is borrowed and
 * outlives the console.  Reads the key book (DATADIR/console/keys) and
 * tunnels.conf.  ERR_IO (the console's folder), ERR_LIMIT (routes).
 */
int bitsd_console_start(struct evloop *el, const struct conf *cfg,
			const struct bitsd_console_deps *deps,
			struct bitsd_console **out);
/* Remove the routes and release c (jobs still running finish alone).
 * Accepts NULL. */
void bitsd_console_stop(struct bitsd_console *c);

#endif /* APPS_BITSD_CONSOLE_H */
