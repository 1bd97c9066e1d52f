/*
 * The swarm engine: trades the sealed chunks of contents with other
 * destinations over I2P streams (docs/swarm.md §3).
 *
 * One struct swarm serves one local destination: it takes the incoming
 * streams of that destination's stream manager (on SWARM_PORT) and opens
 * streams to the peers it is given.  Per content it keeps a peer set, a
 * have-bitmap mirrored from the blob store, the availability of each chunk
 * among the peers, and what is in flight from whom.
 *
 * Picking: rarest-first (seeding health), or in order from the play
 * position (streaming: the chunks before the window's end come first,
 * whatever their rarity; a seek moves the position).  Once every missing
 * chunk is in flight, endgame asks the idle peers too and cancels the
 * duplicates when a chunk lands.  Each peer has up to `pipeline` chunks in
 * flight, and serves up to SWARM_PEER_QUEUE_MAX queued requests.
 *
 * Choking: tit-for-tat every choke interval (the peers that gave us the
 * most in the last interval, or to whom we sent the most once we seed),
 * plus one optimistic unchoke rotated every third interval; until the
 * slots are full an interested peer is unchoked at once.
 *
 * Verification: every PIECE is checked against its merkle proof and the
 * manifest root before it is stored (content_store_chunk_put checks it
 * once more against the stored tree).  A peer that sends a bad chunk or
 * proof is sent ERROR BAD_PIECE, dropped and banned for the life of the
 * swarm; its requests go to others.
 *
 * Storage: the apps/content blob store, called on the loop thread; with
 * a worker pool (swarm_set_workers) what may wait for the disk runs on
 * it: a chunk read that is not in the page cache, and a flush's writes
 * and syncs (docs/swarm.md §3).  Opening a content (its manifest, its
 * tree at the first proof) and the index's unsynced commit stay here.
 *
 * Ownership: the caller owns the swarm, the stream manager and the store,
 * and frees the swarm first.  Thread: the loop thread only.
 */
#ifndef APPS_SWARM_SWARM_H
#define APPS_SWARM_SWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/client/stream.h"
#include "apps/content/store.h"
#include "crypto/base/bytes.h"
#include "router/keys_and_cert.h"

#define SWARM_PORT 6881
/* Streams waiting for a first message (incoming, before a handshake, and
 * our announces): past it, incoming streams are refused with a RESET. */
#define SWARM_PENDING_MAX 64
/* Announce streams open at once to one tracker: a seeder of many contents
 * announces them a few at a time, so that its start does not fill the
 * tracker's pending streams with one burst (and others' announces are not
 * refused); a tracker that does not answer holds up no other. */
#define SWARM_ANNOUNCES_MAX 8
#define SWARM_PEER_QUEUE_MAX 64		/* requests a peer may queue with us */
#define SWARM_PIPELINE_MAX 64		/* chunks in flight per peer */
#define SWARM_SEND_BUFFER_BYTES (256 * 1024)	/* queued output per peer */
/* A peer whose unread output passes this (it asks and does not read) is
 * dropped. */
#define SWARM_OUT_MAX_BYTES (4u * 1024 * 1024)
#define SWARM_HINTS_MAX 64		/* destination hashes waiting, per content */
#define SWARM_HINT_TTL_MS 120000	/* a hint not resolved by then is dropped */
#define SWARM_TRACKERS_MAX 8
/* Tracker role: destinations kept per content and in all. */
#define SWARM_TRACKER_PER_CONTENT_MAX 256
#define SWARM_TRACKER_ENTRIES_MAX 16384
#define SWARM_UPLOAD_TICK_MS 100	/* the upload budget refills this often */
/* With a worker pool, chunks written and not yet synced start a flush
 * at this count, before the tick's, so that the store never reaches
 * CONTENT_STORE_PENDING_MAX and syncs on the loop (four seeders over
 * tunnels brought 256 chunks within a second). */
#define SWARM_FLUSH_PENDING_CHUNKS 64

struct evloop;
struct swarm;	/* opaque */

enum swarm_pick_mode {
	SWARM_PICK_RAREST = 0,		/* rarest first, random among equals */
	SWARM_PICK_STREAMING = 1	/* in order from the play position */
};

struct swarm_config {
	unsigned max_peers;		/* per content */
	unsigned unchoke_slots;		/* regular + 1 optimistic */
	unsigned pipeline;		/* chunks in flight per peer */
	unsigned window_chunks;		/* streaming: chunks past the position
					 * that may be asked of two peers */
	uint32_t choke_interval_ms;
	uint32_t keepalive_ms;		/* send one after this much silence */
	uint32_t idle_timeout_ms;	/* drop a peer silent this long */
	/* Both ends whole and silent both ways this long: the connection
	 * ends (one that wants a piece again connects anew). */
	uint32_t whole_idle_ms;
	/* Our requests to a peer that sent no piece for this long go back
	 * to the picker, and the peer is not asked again for as long. */
	uint32_t request_timeout_ms;
	/* Announce each content to the trackers this often (sooner while
	 * it has no peer and is not complete). */
	uint32_t announce_interval_ms;
	/* An incomplete content without peers announces this often; an
	 * announce a tracker did not answer (or refused) is sent again
	 * after this, doubled at each further failure up to the interval. */
	uint32_t announce_retry_ms;
	/* Tracker role: an announce is kept this long. */
	uint32_t tracker_ttl_ms;
	/* A peer that connects again this long after its handshake on the
	 * stream we have replaces that stream (it lost it: a restart);
	 * sooner, both opened at once and the lower hash's stream stays. */
	uint32_t dup_stale_ms;
	/* Chunk bytes served a second, all peers together (the seeding
	 * budget); 0: no limit. */
	uint32_t upload_Bps;
};

/* Fill c with the defaults (40 peers, 4 slots, pipeline 8, window 32,
 * 10 s choke interval, 60 s keepalive, 180 s idle timeout, 30 s request
 * timeout, announces every 5 min kept 30 min (every 15 s without peers
 * or after a failed one, backing off), a second connection from
 * a peer replaces a first one older than 60 s). */
void swarm_config_default(struct swarm_config *c);

struct swarm_peer_stats {
	uint8_t dest_hash[32];
	bool we_choke, they_choke, we_interested, they_interested;
	uint32_t have_count;		/* chunks the peer announced */
	unsigned in_flight;		/* our requests out to it */
	uint64_t bytes_down, bytes_up;	/* chunk bytes */
	size_t buffer_bytes;		/* our input and output buffers hold */
	bool has_stream;		/* stream: its figures now */
	struct stream_info stream;
};

struct swarm_content_stats {
	uint32_t chunk_count, have_count;
	unsigned peers;
	uint64_t bytes_down, bytes_up;
	uint64_t bad_pieces;		/* chunks or proofs that failed */
	uint64_t request_timeouts;	/* peers that sat on our requests */
	unsigned banned;
};

/* A chunk was verified and stored (idx; ct and len: its sealed bytes,
 * borrowed for the call, so a reader of the content need not read and
 * hash them again), or (idx SWARM_META_READY, ct NULL) the manifest and
 * tree of a content fetched by hash arrived. */
typedef void (*swarm_chunk_fn)(void *ctx, const uint8_t hash[32],
			       uint32_t idx, const uint8_t *ct, size_t len);
#define SWARM_META_READY UINT32_MAX

/*
 * A swarm for our destination `self` (copied) whose streams mgr carries
 * (borrowed; the swarm installs itself as mgr's acceptor), storing in st
 * (borrowed), with timers on el.  Never returns NULL.
 */
struct swarm *swarm_new(const struct swarm_config *cfg,
			const struct keys_and_cert *self,
			struct stream_mgr *mgr, struct content_store *st,
			struct evloop *el);
/* Reset every peer stream and release sw.  Accepts NULL. */
void swarm_free(struct swarm *sw);
/*
 * Flushes of the store sync on wp (borrowed; NULL: on the loop): the
 * chunks are marked in the index when the syncs are done.  wp must
 * outlive sw, or be freed after it (a flush still running then commits,
 * or frees itself when the store is gone too).
 */
struct worker_pool;
void swarm_set_workers(struct swarm *sw, struct worker_pool *wp);
/* Called for each chunk stored, after it is stored (may call any swarm
 * function except swarm_free and swarm_content_remove). */
void swarm_set_chunk_cb(struct swarm *sw, swarm_chunk_fn fn, void *ctx);

/*
 * Trade content `hash`, which must be in the store (complete: we seed it;
 * partial: we fetch what we lack and seed what we have).  ERR_NOT_FOUND
 * when the store does not hold it, ERR_EXISTS if it is already traded.
 */
int swarm_content_add(struct swarm *sw, const uint8_t hash[32],
		      enum swarm_pick_mode mode);
/*
 * Fetch a content the store does not hold yet: its manifest and tree come
 * from the first peer that has them (checked against hash and root), then
 * the chunks.  ERR_EXISTS if already traded.
 */
int swarm_content_fetch(struct swarm *sw, const uint8_t hash[32],
			enum swarm_pick_mode mode);
/* Stop trading hash (its peers are closed; the store keeps the chunks). */
void swarm_content_remove(struct swarm *sw, const uint8_t hash[32]);
/*
 * Connect to a peer for hash (a seed hint resolved to its Destination,
 * copied).  ERR_NOT_FOUND (content not traded), ERR_EXISTS (connected
 * already, or ourselves), ERR_AUTH (banned), ERR_LIMIT (max_peers).
 */
int swarm_peer_add(struct swarm *sw, const uint8_t hash[32],
		   const struct keys_and_cert *dest);
/*
 * Seed hints by destination hash (a card's seeds, a tracker's or a peer's
 * PEERS): each is resolved through the lookup hook (which may start a
 * LeaseSet lookup and answer later: it is asked again every tick for
 * SWARM_HINT_TTL_MS) and then connected as swarm_peer_add does.
 */
typedef int (*swarm_lookup_fn)(void *ctx, const uint8_t hash[32],
			       struct keys_and_cert *out);
void swarm_set_lookup(struct swarm *sw, swarm_lookup_fn fn, void *ctx);
/* ERR_NOT_FOUND (content not traded), ERR_LIMIT (SWARM_HINTS_MAX). */
int swarm_peer_hint(struct swarm *sw, const uint8_t hash[32],
		    const uint8_t dest_hash[32]);
/*
 * Trackers (docs/swarm.md §2, ANNOUNCE): every content is announced to
 * each of them (resolved through the lookup hook) when it is added and
 * every announce_interval_ms; the destinations they answer become hints.
 * ERR_LIMIT past SWARM_TRACKERS_MAX, ERR_EXISTS for a repeat.
 */
int swarm_tracker_add(struct swarm *sw, const uint8_t dest_hash[32]);
/* The tracker role: answer ANNOUNCEs with the other destinations that
 * announced the same content (never anything but destination hashes).
 * On, the swarm is also one of its own trackers (swarm_tracker_add of
 * its own hash, while SWARM_TRACKERS_MAX leaves room; answered in place,
 * no stream): what it fetches finds the seeders that announced to it,
 * and others are told it trades. */
void swarm_set_tracker_role(struct swarm *sw, bool on);
/* Tracker role: up to max destination hashes announced for hash. */
size_t swarm_tracker_list(struct swarm *sw, const uint8_t hash[32],
			  uint8_t (*out)[32], size_t max);
/*
 * Tracker role: the announces as bytes, so that a restarted tracker
 * answers at once instead of after every seeder's next announce: "BTRK",
 * version (be32, 1), count (be32), then per announce the content hash,
 * the destination hash and its age in ms (be32).  Load merges bytes from
 * a file (untrusted: ERR_FORMAT for anything but a whole version-1 table
 * of at most SWARM_TRACKER_ENTRIES_MAX; announces past the TTL are
 * dropped).  swarm_tracker_dirty(): announces changed since the last save.
 */
void swarm_tracker_save(struct swarm *sw, struct bbuf *out);
int swarm_tracker_load(struct swarm *sw, const uint8_t *buf, size_t len);
/* The parser under swarm_tracker_load(): fn for each announce of a valid
 * table (none for an invalid one: it is checked whole first). */
typedef void (*swarm_tracker_entry_fn)(void *ctx, const uint8_t hash[32],
				       const uint8_t dest[32], uint32_t age_ms);
int swarm_tracker_decode(const uint8_t *buf, size_t len,
			 swarm_tracker_entry_fn fn, void *ctx);
bool swarm_tracker_dirty(const struct swarm *sw);
/* Streaming mode: the play position moved to chunk idx (seek). */
int swarm_seek(struct swarm *sw, const uint8_t hash[32], uint32_t idx);
int swarm_set_mode(struct swarm *sw, const uint8_t hash[32],
		   enum swarm_pick_mode mode);
/*
 * A reader of the content in order (the endpoint's reply) waits for
 * chunk idx: streaming mode, and the play position moves there.  A move
 * forward inside the window keeps the requests under way (they are the
 * window's next chunks; cancelling those past the new window, as a seek
 * does, had them asked again at once); anything else is swarm_seek.
 */
int swarm_play(struct swarm *sw, const uint8_t hash[32], uint32_t idx);
/* The store found chunk idx bad on a read of ours (it unmarked it): fetch
 * it again.  ERR_NOT_FOUND (not traded), ERR_RANGE. */
int swarm_chunk_lost(struct swarm *sw, const uint8_t hash[32], uint32_t idx);

int swarm_content_stats(struct swarm *sw, const uint8_t hash[32],
			struct swarm_content_stats *out);
/* Every frame sent to (sent) or received from a peer, whole, as on the
 * wire (tests check the protocol's plaintext with it). */
typedef void (*swarm_trace_fn)(void *ctx, const uint8_t dest_hash[32],
			       bool sent, const uint8_t *frame, size_t len);
void swarm_set_trace(struct swarm *sw, swarm_trace_fn fn, void *ctx);
/*
 * Payment hook (pay per chunk, docs/market.md §7): an app that pays or is
 * paid for chunks installs it; the swarm carries the app's messages in
 * PAY frames without reading them and asks it before serving a chunk.
 * Peers are named by content and destination hash; every hook may append
 * a PAY body (≤ SWARM_PAY_MAX_BODY) to out, sent to that peer.
 *   open:     the peer's handshake is done (a seeder sends its terms);
 *   recv:     a PAY body from the peer (non-zero: drop the peer);
 *   received: a chunk from the peer verified (a viewer pays for it; a
 *             chunk that fails its proof is never reported);
 *   may_serve: false holds the peer's requests; a peer held for
 *             SWARM_PAY_WAIT_MS is choked until it may be served again;
 *   served:   a chunk was sent to the peer;
 *   close:    the peer is gone;
 *   complete: the content just became whole, once for each peer with a
 *             handshake (a viewer pays what it still owes).
 * Without a hook the swarm serves and sends no PAY.  Loop thread only.
 */
#define SWARM_PAY_WAIT_MS 10000
struct swarm_pay_hooks {
	void (*open)(void *ctx, const uint8_t hash[32], const uint8_t peer[32],
		     struct bbuf *out);
	int (*recv)(void *ctx, const uint8_t hash[32], const uint8_t peer[32],
		    const uint8_t *body, size_t len, struct bbuf *out);
	void (*received)(void *ctx, const uint8_t hash[32],
			 const uint8_t peer[32], uint32_t idx,
			 struct bbuf *out);
	bool (*may_serve)(void *ctx, const uint8_t hash[32],
			  const uint8_t peer[32]);
	void (*served)(void *ctx, const uint8_t hash[32],
		       const uint8_t peer[32], uint32_t idx);
	void (*close)(void *ctx, const uint8_t hash[32],
		      const uint8_t peer[32]);
	void (*complete)(void *ctx, const uint8_t hash[32],
			 const uint8_t peer[32], struct bbuf *out);
	void *ctx;
};
/* Install h (copied; NULL removes it) before any peer connects. */
void swarm_set_pay(struct swarm *sw, const struct swarm_pay_hooks *h);

/* Up to max peers' stats; returns how many were written. */
size_t swarm_peer_stats(struct swarm *sw, const uint8_t hash[32],
			struct swarm_peer_stats *out, size_t max);
/* True when dest_hash is banned for hash. */
bool swarm_is_banned(struct swarm *sw, const uint8_t hash[32],
		     const uint8_t dest_hash[32]);

#endif /* APPS_SWARM_SWARM_H */
