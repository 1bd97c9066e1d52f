/*
 * The swarm service: what bitsd runs for issue [W] on top of any
 * struct client_net (tunnels in the daemon, localnet in tests).
 *
 *   - one destination of its own (keys in DATADIR/swarm.dest, made on
 *     first start), its stream manager and the blob store in
 *     DATADIR/content under a storage budget;
 *   - the engine (apps/swarm/swarm.h) seeding every content the store
 *     holds (complete or partial: partial ones are fetched on), with the
 *     seeds of their cards as hints, announcing to the trackers, and
 *     the tracker role when asked;
 *   - the local streaming endpoint on 127.0.0.1 (docs/swarm.md §5):
 *       GET  /content/<hash>?key=<hex>   the decrypted file, Range
 *            requests answered while it downloads (the chunks a request
 *            needs go first: streaming picking, seeking to its start)
 *       GET  /swarm/<hash>               progress and per-peer stats (JSON)
 *       POST /swarm/<hash>?peer=<hash>   start fetching (peer: seed hints,
 *            repeatable)
 *     Only loopback Host headers are served (DNS rebinding).
 *
 * Ownership: the caller owns the service, the loop and the network, and
 * frees the service first.  Thread: the loop thread.
 */
#ifndef APPS_SWARM_SERVICE_H
#define APPS_SWARM_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/client/net.h"
#include "apps/client/stream.h"
#include "apps/swarm/swarm.h"

#define SWARM_SERVICE_KEY_FILE "swarm.dest"
/* Content replies under way at once on the endpoint. */
#define SWARM_SERVICE_REQS_MAX 32
/* GET /swarm/<hash> adds "have_map" (hex of the have-bitmap: chunk i is
 * bit i%8 of byte i/8) up to this many bytes of bitmap. */
#define SWARM_SERVICE_MAP_MAX_BYTES 65536

struct evloop;
struct swarm_service;	/* opaque */

struct swarm_service_cfg {
	const char *datadir;		/* the store and the key file */
	uint64_t storage_bytes;		/* store budget; 0: unlimited */
	bool tracker;			/* run the tracker role */
	uint8_t trackers[SWARM_TRACKERS_MAX][32];
	unsigned ntrackers;
	/* Append every swarm frame sent and received to this file (tests:
	 * the protocol's plaintext); NULL: none.  Each record: u8 1 sent /
	 * 0 received, the peer's destination hash, u32 length (big-endian),
	 * the frame. */
	const char *capture_path;
	bool http;			/* run the streaming endpoint */
	uint16_t http_port;		/* 0: any free port */
	struct swarm_config swarm;
	struct stream_config stream;
};

/* Defaults: swarm_config_default, stream_config_default, no endpoint. */
void swarm_service_cfg_default(struct swarm_service_cfg *c);

/*
 * Start: load or make the destination, attach it to net (copied; its
 * context is borrowed), open the store, seed what it holds, listen.
 * Errors: ERR_IO (store, key file, the port), the store's, the network's.
 */
int swarm_service_start(struct evloop *el, const struct swarm_service_cfg *cfg,
			const struct client_net *net,
			struct swarm_service **out);
/* Stop serving, detach the destination, close the store.  Accepts NULL. */
void swarm_service_free(struct swarm_service *s);

struct swarm *swarm_service_swarm(struct swarm_service *s);
struct content_store *swarm_service_store(struct swarm_service *s);
/* Its worker pool (SWARM_SERVICE_WORKERS threads): the store's syncs and
 * the chunk reads of seeding and of the endpoint run there. */
#define SWARM_SERVICE_WORKERS 2
struct worker_pool;
struct worker_pool *swarm_service_workers(struct swarm_service *s);
const struct keys_and_cert *swarm_service_dest(const struct swarm_service *s);
/*
 * A Range header value (untrusted) for a file of size bytes: one range,
 * "bytes=a-b", "bytes=a-" or "bytes=-n".  0 with [*from, *end) inside
 * the file; ERR_RANGE when it cannot be satisfied (416); ERR_FORMAT for
 * anything else (the whole file is served).
 */
int swarm_service_parse_range(const char *h, uint64_t size, uint64_t *from,
			      uint64_t *end);
/*
 * Answer req, a request another server on this loop took (the console's
 * /api/swarm), as the endpoint would answer path ("/content/<hash>" or
 * "/swarm/<hash>") and query (NULL: none), without the Host check (the
 * caller's).  Content is answered with a Content-Type no page can run
 * (media and raster images as they are, text/plain, else
 * application/octet-stream) and a sandbox CSP, since it shares the
 * caller's origin.
 */
struct evhttp_request;
void swarm_service_http(struct swarm_service *s, struct evhttp_request *req,
			const char *path, const char *query);
/* The endpoint's port (0 when it does not run). */
uint16_t swarm_service_http_port(const struct swarm_service *s);

#endif /* APPS_SWARM_SERVICE_H */
