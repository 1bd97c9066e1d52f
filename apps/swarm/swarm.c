/*
 * The swarm engine (docs/swarm.md §3): peers over streams, the piece
 * picker, choking, verification of every piece before it is stored, and
 * serving what we have.  The wire format is apps/swarm/msg.c.
 *
 * Peers live in their content's list once their handshake named it
 * (incoming streams wait in the swarm's pending list until then).  A peer
 * that goes away is unlinked at once and freed after the loop pass
 * (evloop_mark_close), so no callback ever runs on a freed peer.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/content/fsio.h"
#include "apps/swarm/msg.h"
#include "apps/swarm/swarm.h"
#include "apps/swarm/swarm_internal.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"
#include "router/evloop.h"
#include "router/worker.h"

#define SWARM_TICK_MS 1000
#define SWARM_READ_BYTES 65536
#define SWARM_HS_HAVE_META 1u		/* handshake flag: we serve META */
#define SWARM_OPTIMISTIC_ROUNDS 3
#define SWARM_BANNED_MAX 1024
#define SWARM_ENDGAME_DUPLICATES 2	/* peers asked for one chunk at most */
/* A hash the lookup hook did not know is not asked again sooner (each
 * miss may start a netDb lookup; floodfills rate-limit them). */
#define SWARM_LOOKUP_RETRY_MS 5000
#define SWARM_LOOKUP_MISSES 32		/* recent misses remembered */

struct swarm_content;

struct swarm_peer {
	struct swarm *sw;
	struct swarm_content *c;	/* NULL until the handshake names it */
	struct swarm_peer *next;
	struct stream *s;
	uint8_t dest_hash[32];
	bool outgoing, hs_got, dead;
	uint64_t hs_ms;			/* when their handshake came */
	bool has_meta;			/* their handshake flag */
	bool we_choke, they_choke, we_interested, they_interested;
	bool optimistic;
	uint8_t *bits;			/* their have-bitmap, bits_count chunks */
	uint32_t bits_count, have_count;
	uint8_t *in;			/* unparsed input */
	size_t in_len, in_cap;
	struct bbuf out;		/* output not yet taken by the stream */
	size_t out_off;
	uint32_t inflight[SWARM_PIPELINE_MAX];	/* our requests to them */
	unsigned n_inflight;
	uint32_t queue[SWARM_PEER_QUEUE_MAX];	/* their requests to us */
	unsigned q_len;
	struct serve_job *serving;	/* chunks being read for it, oldest first */
	unsigned n_serving;
	uint64_t down, up, down_round, up_round;
	uint64_t last_rx_ms, last_tx_ms;
	uint64_t last_piece_ms;		/* a piece came, or requests started */
	uint64_t snubbed_until_ms;	/* not asked before this */
	unsigned stalls;		/* request timeouts since its last piece */
	bool got_peers;			/* one PEERS taken from it */
	uint64_t pay_wait_ms;		/* held for payment since (0: not) */
	/* An announce to a tracker (in the pending list): for ann_hash. */
	bool announcing;
	bool ann_ended;			/* announce_end() has counted it */
	uint8_t ann_hash[32];
};

struct swarm_hint {
	uint8_t dest[32];
	uint64_t expires_ms;
};

/* Tracker role: one destination that announced one content. */
struct tracker_entry {
	uint8_t hash[32], dest[32];
	uint64_t last_ms;
};

struct swarm_content {
	struct swarm *sw;
	struct swarm_content *next;
	uint8_t hash[32];
	bool have_meta;
	struct content_manifest m;
	uint8_t *have;			/* our have-bitmap */
	uint32_t have_count;
	uint16_t *avail;		/* peers that have each chunk */
	uint8_t *req;			/* our requests in flight per chunk */
	uint32_t unrequested;		/* missing chunks with req == 0 */
	enum swarm_pick_mode mode;
	uint32_t pos;			/* streaming: play position */
	struct swarm_peer *peers;
	unsigned npeers;
	uint8_t (*banned)[32];
	unsigned nbanned;
	uint64_t next_announce_ms[SWARM_TRACKERS_MAX];
	uint64_t announced_ms[SWARM_TRACKERS_MAX];
	uint8_t announce_fails[SWARM_TRACKERS_MAX];	/* in a row */
	uint64_t progress_ms;		/* added, or a piece stored */
	/* Metadata fetch (swarm_content_fetch). */
	struct swarm_peer *meta_peer;
	enum swarm_meta_kind meta_kind;
	struct bbuf meta_buf, manifest;
	uint64_t meta_total;
	bool meta_asked;		/* a META_REQUEST is out */
	uint64_t bytes_down, bytes_up, bad_pieces, request_timeouts;
	uint64_t round_start_ms;
	unsigned round;
	struct swarm_hint hints[SWARM_HINTS_MAX];
	unsigned nhints;
};

struct swarm {
	struct swarm_config cfg;
	struct keys_and_cert self;
	struct stream_mgr *mgr;
	struct content_store *st;
	struct evloop *el;
	struct evloop_timer *tick;
	struct swarm_content *contents;
	struct swarm_peer *pending;
	unsigned npending;
	swarm_chunk_fn chunk_cb;
	void *chunk_ctx;
	swarm_lookup_fn lookup;
	void *lookup_ctx;
	uint8_t trackers[SWARM_TRACKERS_MAX][32];
	unsigned ntrackers;
	bool tracker_role;
	struct tracker_entry *tr;	/* tracker role: the announces */
	size_t ntr, tr_cap;
	bool tr_dirty;			/* changed since swarm_tracker_save() */
	swarm_trace_fn trace;
	void *trace_ctx;
	struct {
		uint8_t hash[32];
		uint64_t until_ms;
	} misses[SWARM_LOOKUP_MISSES];	/* lookups not repeated before */
	unsigned next_miss;
	int64_t up_tokens;		/* upload budget left (bytes) */
	struct evloop_timer *up_timer;	/* refills it (upload_Bps only) */
	bool up_waited;			/* a peer waited for it */
	bool has_pay;			/* the payment hook (swarm_set_pay) */
	struct swarm_pay_hooks pay;
	struct worker_pool *wp;		/* flushes sync here (or NULL) */
	struct flush_job *flushing;	/* the flush on a worker */
	bool flush_again;		/* flush once it is done */
};

/* A chunk read for a peer on a worker (docs/swarm.md §3); a peer has up
 * to SWARM_SERVE_READS under way, and they are sent in the order asked.
 * Read one at a time, each waited a round trip to the worker and back:
 * over localnet a seeder sent 100-160 MB/s against 160-215 on the loop. */
#define SWARM_SERVE_READS 4

struct serve_job {
	struct swarm_peer *p;		/* NULL once the peer is freed */
	struct serve_job *next;		/* the peer's next read */
	uint32_t idx;
	bool done;			/* its run is over */
	struct content_store_read *rd;
};

static void serve_job_free(struct serve_job *j)
{
	content_store_read_free(j->rd);
	free(j);
}

/* The upload budget's refill each SWARM_UPLOAD_TICK_MS; it holds at
 * most two. */
static int64_t up_tick_bytes(const struct swarm *sw)
{
	return (int64_t)(sw->cfg.upload_Bps / (1000 / SWARM_UPLOAD_TICK_MS)) + 1;
}

static void up_add(struct swarm *sw, int64_t n)
{
	sw->up_tokens += n;
	if (sw->up_tokens > 2 * up_tick_bytes(sw))
		sw->up_tokens = 2 * up_tick_bytes(sw);
}

/* The tokens taken when rd began come back: its piece is not sent. */
static void up_return(struct swarm *sw, const struct content_store_read *rd)
{
	if (sw->cfg.upload_Bps)
		up_add(sw, (int64_t)content_store_read_len(rd));
}

/* A flush whose syncs run on a worker (docs/swarm.md §3). */
struct flush_job {
	struct swarm *sw;		/* NULL once the swarm is freed */
	struct content_store_batch *b;
};

void swarm_config_default(struct swarm_config *c)
{
	*c = (struct swarm_config){
		.max_peers = 40,
		.unchoke_slots = 4,
		.pipeline = 8,
		.window_chunks = 32,
		.choke_interval_ms = 10000,
		.keepalive_ms = 60000,
		.idle_timeout_ms = 180000,
		.whole_idle_ms = 30000,
		.request_timeout_ms = 30000,
		.announce_interval_ms = 300000,
		.announce_retry_ms = 15000,
		.tracker_ttl_ms = 1800000,
		.dup_stale_ms = 60000,
	};
}

static bool bit_get(const uint8_t *b, uint32_t i)
{
	return (b[i / 8] >> (i % 8)) & 1;
}

static void bit_set(uint8_t *b, uint32_t i)
{
	b[i / 8] |= (uint8_t)(1u << (i % 8));
}

/*
 * Milliseconds from then to now, 0 when then is later: a timer takes now
 * once, and what it does meanwhile (an announce, requests moved to
 * another peer) stamps objects with a later time_mono_ms(); unsigned
 * now - then would wrap to a huge age and drop them at once.
 */
static uint64_t elapsed_ms(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

static struct swarm_content *content_find(struct swarm *sw,
					  const uint8_t hash[32])
{
	for (struct swarm_content *c = sw->contents; c; c = c->next)
		if (memcmp(c->hash, hash, 32) == 0)
			return c;
	return NULL;
}

static bool content_is_banned(const struct swarm_content *c,
			      const uint8_t h[32])
{
	for (unsigned i = 0; i < c->nbanned; i++)
		if (memcmp(c->banned[i], h, 32) == 0)
			return true;
	return false;
}

/* ---- output ---- */

static void peer_send(struct swarm_peer *p, const struct swarm_msg *m)
{
	size_t at = p->out.len;

	if (p->dead)
		return;
	if (BUG(swarm_msg_encode(m, &p->out) != 0))
		return;
	p->last_tx_ms = time_mono_ms();
	if (p->sw->trace)
		p->sw->trace(p->sw->trace_ctx, p->dest_hash, true,
			     p->out.data + at, p->out.len - at);
}

static void peer_send_simple(struct swarm_peer *p, enum swarm_msg_type t)
{
	struct swarm_msg m = { .type = t };

	peer_send(p, &m);
}

static void peer_send_range(struct swarm_peer *p, enum swarm_msg_type t,
			    uint32_t idx)
{
	struct swarm_msg m = { .type = t };

	m.u.range.index = idx;
	m.u.range.count = 1;
	peer_send(p, &m);
}

/* ---- the payment hook (swarm_set_pay) ---- */

/* Send what a payment hook appended to b as one PAY frame. */
static void pay_send(struct swarm_peer *p, struct bbuf *b)
{
	struct swarm_msg m = { .type = SWARM_PAY };

	if (b->len && b->len <= SWARM_PAY_MAX_BODY) {
		m.u.pay.data = b->data;
		m.u.pay.len = b->len;
		peer_send(p, &m);
	}
	bbuf_free(b);
}

static bool pay_may_serve(const struct swarm_peer *p)
{
	const struct swarm *sw = p->sw;

	return !sw->has_pay || !sw->pay.may_serve ||
	       sw->pay.may_serve(sw->pay.ctx, p->c->hash, p->dest_hash);
}

/* A peer held for payment SWARM_PAY_WAIT_MS or more is not unchoked. */
static bool pay_owing(const struct swarm_peer *p, uint64_t now)
{
	return p->pay_wait_ms && now >= p->pay_wait_ms + SWARM_PAY_WAIT_MS &&
	       !pay_may_serve(p);
}

static void pay_open(struct swarm_peer *p)
{
	struct swarm *sw = p->sw;
	struct bbuf b = BBUF_INIT;

	if (sw->has_pay && sw->pay.open) {
		sw->pay.open(sw->pay.ctx, p->c->hash, p->dest_hash, &b);
		pay_send(p, &b);
	}
}

static void pay_close(struct swarm_peer *p)
{
	struct swarm *sw = p->sw;

	if (sw->has_pay && sw->pay.close && p->c && p->hs_got)
		sw->pay.close(sw->pay.ctx, p->c->hash, p->dest_hash);
}

/* The content became whole: each peer's hook may send what is owed. */
static void pay_complete(struct swarm_content *c)
{
	struct swarm *sw = c->sw;

	if (!sw->has_pay || !sw->pay.complete)
		return;
	for (struct swarm_peer *p = c->peers; p; p = p->next) {
		struct bbuf b = BBUF_INIT;

		if (p->dead || !p->hs_got)
			continue;
		sw->pay.complete(sw->pay.ctx, c->hash, p->dest_hash, &b);
		pay_send(p, &b);
	}
}

static bool peer_serve_one(struct swarm_peer *p);

/* Hand queued output to the stream, serving queued requests while the
 * stream takes it and SWARM_SEND_BUFFER_BYTES is not reached. */
static void peer_flush(struct swarm_peer *p)
{
	for (;;) {
		while (p->out_off < p->out.len) {
			size_t n = stream_write(p->s, p->out.data + p->out_off,
						p->out.len - p->out_off);
			if (n == 0)
				break;
			p->out_off += n;
		}
		if (p->out_off == p->out.len) {
			p->out.len = 0;
			p->out_off = 0;
		} else if (p->out_off >= SWARM_SEND_BUFFER_BYTES) {
			memmove(p->out.data, p->out.data + p->out_off,
				p->out.len - p->out_off);
			p->out.len -= p->out_off;
			p->out_off = 0;
		}
		if (p->dead || p->out.len - p->out_off >=
		    SWARM_SEND_BUFFER_BYTES / 2 || !peer_serve_one(p))
			return;
	}
}

/* A peer with no requests either way and nothing buffered gives its
 * buffers back (they grew with its last transfer; kept, every idle
 * connection a seeder holds, one a viewer and item, would hold them). */
static void peer_trim(struct swarm_peer *p)
{
	if (p->n_inflight || p->q_len || p->serving || p->in_len ||
	    p->out.len)
		return;
	free(p->in);
	p->in = NULL;
	p->in_cap = 0;
	bbuf_free(&p->out);
	p->out_off = 0;
	stream_trim(p->s);
}

static void peer_free_cb(void *arg)
{
	struct swarm_peer *p = arg;

	while (p->serving) {	/* a read under way frees itself when done */
		struct serve_job *j = p->serving;
		p->serving = j->next;
		if (j->done)
			serve_job_free(j);
		else
			j->p = NULL;
	}
	bbuf_free(&p->out);
	free(p->in);
	free(p->bits);
	free(p);
}

static void content_pick_all(struct swarm_content *c);
static void choke_fill(struct swarm_content *c);
static void meta_request_next(struct swarm_content *c);

static void req_dec(struct swarm_content *c, uint32_t idx)
{
	if (BUG(c->req[idx] == 0))
		return;
	if (--c->req[idx] == 0 && !bit_get(c->have, idx))
		c->unrequested++;
}

static void req_inc(struct swarm_content *c, uint32_t idx)
{
	if (c->req[idx]++ == 0 && !bit_get(c->have, idx))
		c->unrequested--;
}

/* Forget our request for idx at p (if any); true if there was one. */
static bool peer_inflight_remove(struct swarm_peer *p, uint32_t idx)
{
	for (unsigned i = 0; i < p->n_inflight; i++) {
		if (p->inflight[i] != idx)
			continue;
		memmove(&p->inflight[i], &p->inflight[i + 1],
			(p->n_inflight - i - 1) * sizeof(p->inflight[0]));
		p->n_inflight--;
		if (p->c && p->c->have_meta)
			req_dec(p->c, idx);
		return true;
	}
	return false;
}

static void peer_inflight_clear(struct swarm_peer *p)
{
	while (p->n_inflight)
		peer_inflight_remove(p, p->inflight[p->n_inflight - 1]);
}

static void list_unlink(struct swarm_peer **head, struct swarm_peer *p)
{
	for (struct swarm_peer **pp = head; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

/*
 * End p: an ERROR first when code is not 0, then the stream is closed
 * gracefully (reset when `reset`).  p is unlinked now and freed after the
 * loop pass; its requests go back to the picker.
 */
static void announce_end(struct swarm_peer *p, bool answered);

static void peer_drop(struct swarm_peer *p, uint8_t code, const char *why,
		      bool reset)
{
	struct swarm *sw = p->sw;
	struct swarm_content *c = p->c;

	if (p->dead)
		return;
	if (log_enabled(LOG_DEBUG)) {
		char h[72];
		log_debug(LD_APP, "swarm: dropping peer %s: %s",
			  log_safe_hash(h, sizeof(h), p->dest_hash), why);
	}
	if (code) {
		struct swarm_msg m = { .type = SWARM_ERROR };
		m.u.error.code = code;
		m.u.error.text = why;
		m.u.error.len = strnlen(why, SWARM_ERROR_TEXT_MAX_BYTES);
		peer_send(p, &m);
		peer_flush(p);
	}
	if (p->announcing)
		announce_end(p, false);
	pay_close(p);
	p->dead = true;
	/* reads under way for p are not sent now (serve_done) */
	for (struct serve_job *j = p->serving; j; j = j->next)
		up_return(sw, j->rd);
	if (reset)
		stream_reset(p->s);
	stream_release(p->s);
	p->s = NULL;
	if (!c) {
		list_unlink(&sw->pending, p);
		sw->npending--;
	} else {
		list_unlink(&c->peers, p);
		c->npeers--;
		peer_inflight_clear(p);
		if (c->have_meta && p->bits && p->bits_count == c->m.chunk_count)
			for (uint32_t i = 0; i < p->bits_count; i++)
				if (bit_get(p->bits, i) && c->avail[i])
					c->avail[i]--;
		if (c->meta_peer == p) {
			c->meta_peer = NULL;
			c->meta_asked = false;
			c->meta_kind = SWARM_META_MANIFEST;
			c->meta_total = 0;
			bbuf_reset(&c->meta_buf);
			bbuf_reset(&c->manifest);
		}
	}
	evloop_mark_close(sw->el, peer_free_cb, p);
	if (c) {
		meta_request_next(c);
		choke_fill(c);
		content_pick_all(c);
	}
}

static void content_ban(struct swarm_content *c, struct swarm_peer *p,
			const char *why)
{
	log_info_rl(60, LD_APP, "swarm: banning a peer: %s", why);
	if (!content_is_banned(c, p->dest_hash) &&
	    c->nbanned < SWARM_BANNED_MAX) {
		c->banned = xrealloc(c->banned, (c->nbanned + 1) * 32);
		memcpy(c->banned[c->nbanned++], p->dest_hash, 32);
	}
	peer_drop(p, SWARM_ERR_BAD_PIECE, why, false);
}

/* ---- handshake and bitfield ---- */

static void peer_send_handshake(struct swarm_peer *p)
{
	struct swarm_msg m = { .type = SWARM_HANDSHAKE };

	m.u.hs.version = SWARM_PROTO_VERSION;
	memcpy(m.u.hs.content_hash, p->c->hash, 32);
	m.u.hs.flags = p->c->have_meta ? SWARM_HS_HAVE_META : 0;
	peer_send(p, &m);
	if (p->c->have_meta && p->c->have_count) {
		m = (struct swarm_msg){ .type = SWARM_BITFIELD };
		m.u.bitfield.count = p->c->m.chunk_count;
		m.u.bitfield.bits = p->c->have;
		peer_send(p, &m);
	}
}

/* Recount what p has against our bitmap (once both are known). */
static int peer_bits_apply(struct swarm_peer *p)
{
	struct swarm_content *c = p->c;

	if (!p->bits)
		return 0;
	if (p->bits_count != c->m.chunk_count)
		return ERR_FORMAT;
	for (uint32_t i = 0; i < p->bits_count; i++) {
		if (!bit_get(p->bits, i))
			continue;
		c->avail[i]++;
		if (!bit_get(c->have, i) && !p->we_interested) {
			p->we_interested = true;
			peer_send_simple(p, SWARM_INTERESTED);
		}
	}
	return 0;
}

/* ---- picking ---- */

static bool peer_has(const struct swarm_peer *p, uint32_t i)
{
	return p->bits && bit_get(p->bits, i);
}

static bool peer_asked(const struct swarm_peer *p, uint32_t i)
{
	for (unsigned k = 0; k < p->n_inflight; k++)
		if (p->inflight[k] == i)
			return true;
	return false;
}

static bool wanted(const struct swarm_content *c, const struct swarm_peer *p,
		   uint32_t i)
{
	return !bit_get(c->have, i) && c->req[i] == 0 && peer_has(p, i);
}

/* Endgame, or a late chunk inside the streaming window: ask p too. */
static bool wanted_again(const struct swarm_content *c,
			 const struct swarm_peer *p, uint32_t i)
{
	return !bit_get(c->have, i) && c->req[i] > 0 &&
	       c->req[i] < SWARM_ENDGAME_DUPLICATES && peer_has(p, i) &&
	       !peer_asked(p, i);
}

static int64_t pick_streaming(const struct swarm_content *c,
			      const struct swarm_peer *p)
{
	uint32_t n = c->m.chunk_count, wend;

	/* An idle peer helps with a chunk of the window that is late. */
	wend = c->pos + c->sw->cfg.window_chunks;
	if (wend > n)
		wend = n;
	for (uint32_t i = c->pos; i < wend; i++) {
		if (wanted(c, p, i))
			return i;
		if (p->n_inflight == 0 && wanted_again(c, p, i))
			return i;
	}
	for (uint32_t i = wend; i < n; i++)
		if (wanted(c, p, i))
			return i;
	for (uint32_t i = 0; i < c->pos && i < n; i++)
		if (wanted(c, p, i))
			return i;
	return -1;
}

static int64_t pick_rarest(const struct swarm_content *c,
			   const struct swarm_peer *p)
{
	uint32_t n = c->m.chunk_count, start = rand_uniform(n);
	int64_t best = -1;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = (start + k) % n;
		if (wanted(c, p, i) &&
		    (best < 0 || c->avail[i] < c->avail[best]))
			best = i;
	}
	return best;
}

static int64_t pick(const struct swarm_content *c, const struct swarm_peer *p)
{
	int64_t i = -1;

	if (c->unrequested > 0) {
		switch (c->mode) {
		case SWARM_PICK_STREAMING:
			i = pick_streaming(c, p);
			break;
		case SWARM_PICK_RAREST:
			i = pick_rarest(c, p);
			break;
		}
		if (i >= 0)
			return i;
	}
	/* Endgame: every missing chunk is asked of someone. */
	if (c->unrequested == 0)
		for (uint32_t k = 0; k < c->m.chunk_count; k++) {
			uint32_t j = (c->pos + k) % c->m.chunk_count;
			if (wanted_again(c, p, j))
				return j;
		}
	return -1;
}

static void peer_pick(struct swarm_peer *p)
{
	struct swarm_content *c = p->c;
	unsigned depth = p->sw->cfg.pipeline;

	if (p->dead || !c || !c->have_meta || p->they_choke || !p->bits ||
	    time_mono_ms() < p->snubbed_until_ms)
		return;
	if (depth > SWARM_PIPELINE_MAX)
		depth = SWARM_PIPELINE_MAX;
	while (p->n_inflight < depth) {
		int64_t i = pick(c, p);
		if (i < 0)
			break;
		if (p->n_inflight == 0)
			p->last_piece_ms = time_mono_ms();
		p->inflight[p->n_inflight++] = (uint32_t)i;
		req_inc(c, (uint32_t)i);
		peer_send_range(p, SWARM_REQUEST, (uint32_t)i);
	}
	peer_flush(p);
}

static void content_pick_all(struct swarm_content *c)
{
	struct swarm_peer *p, *next;

	for (p = c->peers; p; p = next) {
		next = p->next;
		peer_pick(p);
	}
}

/* ---- choking ---- */

static void peer_choke(struct swarm_peer *p, bool choke)
{
	if (p->we_choke == choke)
		return;
	p->we_choke = choke;
	peer_send_simple(p, choke ? SWARM_CHOKE : SWARM_UNCHOKE);
	if (choke) {
		/* Queued requests are answered with REJECT (docs §2). */
		for (unsigned i = 0; i < p->q_len; i++)
			peer_send_range(p, SWARM_REJECT, p->queue[i]);
		p->q_len = 0;
		p->optimistic = false;
	}
	peer_flush(p);
}

static unsigned unchoked_count(const struct swarm_content *c)
{
	unsigned n = 0;

	for (const struct swarm_peer *p = c->peers; p; p = p->next)
		n += !p->we_choke;
	return n;
}

/* Unchoke interested peers at once while slots are free. */
static void choke_fill(struct swarm_content *c)
{
	unsigned n = unchoked_count(c);

	for (struct swarm_peer *p = c->peers;
	     p && n < c->sw->cfg.unchoke_slots; p = p->next) {
		if (p->we_choke && p->they_interested && !p->dead &&
		    !pay_owing(p, time_mono_ms())) {
			peer_choke(p, false);
			n++;
		}
	}
}

static uint64_t choke_score(const struct swarm_content *c,
			    const struct swarm_peer *p)
{
	bool seeding = c->have_meta && c->have_count == c->m.chunk_count;

	return seeding ? p->up_round : p->down_round;
}

/* Tit-for-tat round: the best (slots - 1) reciprocators, plus one
 * optimistic unchoke rotated every SWARM_OPTIMISTIC_ROUNDS rounds. */
static void choke_round(struct swarm_content *c)
{
	unsigned slots = c->sw->cfg.unchoke_slots, regular, n = 0, cand = 0;
	struct swarm_peer *p, *opt = NULL;
	bool rotate = c->round++ % SWARM_OPTIMISTIC_ROUNDS == 0;

	regular = slots > 1 ? slots - 1 : slots;
	for (p = c->peers; p; p = p->next) {
		p->optimistic = p->optimistic && !rotate && !p->we_choke;
		cand += p->they_interested;
	}
	/* Rank by selection: take the best remaining regular times. */
	for (unsigned k = 0; k < regular; k++) {
		struct swarm_peer *best = NULL;
		for (p = c->peers; p; p = p->next)
			if (p->they_interested && !p->optimistic &&
			    p->down_round != UINT64_MAX &&
			    (!best || choke_score(c, p) > choke_score(c, best)))
				best = p;
		if (!best)
			break;
		best->down_round = UINT64_MAX;	/* mark as chosen */
		n++;
	}
	for (p = c->peers; p; p = p->next)
		if (p->optimistic)
			opt = p;
	if (!opt && cand > n) {
		unsigned pickn = rand_uniform(cand - n), k = 0;
		for (p = c->peers; p; p = p->next) {
			if (!p->they_interested || p->down_round == UINT64_MAX)
				continue;
			if (k++ == pickn) {
				opt = p;
				p->optimistic = true;
				break;
			}
		}
	}
	for (p = c->peers; p; p = p->next) {
		bool keep = (p->down_round == UINT64_MAX || p == opt) &&
			    !pay_owing(p, time_mono_ms());
		peer_choke(p, !keep);
		p->down_round = 0;
		p->up_round = 0;
	}
	choke_fill(c);
}

/* ---- serving ---- */

static int read_meta_page(struct swarm *sw, const struct swarm_content *c,
			  enum swarm_meta_kind kind, uint64_t off,
			  uint8_t *buf, size_t *len, uint64_t *total)
{
	char *dir = content_store_dir(sw->st, c->hash);
	char *path = fsutil_path_join(dir, kind == SWARM_META_TREE ?
				      "tree" : "manifest");
	struct stat sb;
	int fd, r = ERR_IO;

	free(dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return ERR_IO;
	if (fstat(fd, &sb) != 0)
		goto out;
	*total = (uint64_t)sb.st_size;
	if (off > *total) {
		r = ERR_RANGE;
		goto out;
	}
	*len = *total - off < SWARM_META_DATA_MAX_BYTES ?
	       (size_t)(*total - off) : SWARM_META_DATA_MAX_BYTES;
	r = content_fs_pread_all(fd, buf, *len, off);
out:
	close(fd);
	return r;
}

/* The store no longer holds chunk idx (it went bad on disk, or was
 * evicted): it is fetched again. */
static void content_unmark(struct swarm_content *c, uint32_t idx)
{
	struct swarm_peer *p;

	if (!bit_get(c->have, idx))
		return;
	c->have[idx / 8] &= (uint8_t)~(1u << (idx % 8));
	c->have_count--;
	if (c->req[idx] == 0)
		c->unrequested++;
	for (p = c->peers; p; p = p->next)
		if (!p->we_interested && peer_has(p, idx)) {
			p->we_interested = true;
			peer_send_simple(p, SWARM_INTERESTED);
			peer_flush(p);
		}
}

/* Chunk idx could not be read for p: REJECT (and fetched again if it
 * went bad on disk, the store unmarked it, or was evicted). */
static void serve_failed(struct swarm_peer *p, uint32_t idx, int r)
{
	if (r == ERR_AUTH || r == ERR_NOT_FOUND)
		content_unmark(p->c, idx);
	peer_send_range(p, SWARM_REJECT, idx);
}

/* The read of chunk idx for p is done: send it (queued in p->out). */
static void serve_finish(struct swarm_peer *p, uint32_t idx,
			 struct content_store_read *rd)
{
	struct swarm *sw = p->sw;
	struct swarm_content *c = p->c;
	struct swarm_msg m = { .type = SWARM_PIECE };
	const struct content_proof *proof;
	const uint8_t *ct;
	size_t len;
	int r = content_store_read_end(sw->st, rd, &ct, &len, &proof);

	if (r != 0 || p->we_choke) {
		up_return(sw, rd);
		if (r != 0)
			serve_failed(p, idx, r);
		else	/* choked while it was read (docs §2) */
			peer_send_range(p, SWARM_REJECT, idx);
		return;
	}
	m.u.piece.index = idx;
	m.u.piece.proof = *proof;
	m.u.piece.chunk = ct;
	m.u.piece.chunk_len = len;
	peer_send(p, &m);
	if (sw->has_pay && sw->pay.served)
		sw->pay.served(sw->pay.ctx, c->hash, p->dest_hash, idx);
	p->up += len;
	p->up_round += len;
	c->bytes_up += len;
}

static void serve_run(void *arg)
{
	struct serve_job *j = arg;

	content_store_read_run(j->rd);
}

/* A read is done: send what is done from the oldest on, then serve on. */
static void serve_done(void *arg)
{
	struct serve_job *j = arg, **pp;
	struct swarm_peer *p = j->p;

	j->done = true;
	if (!p) {
		serve_job_free(j);
		return;
	}
	if (p->dead) {		/* dropped, not freed yet: nothing to send */
		for (pp = &p->serving; *pp != j; pp = &(*pp)->next)
			;
		*pp = j->next;
		p->n_serving--;
		serve_job_free(j);
		return;
	}
	while ((j = p->serving) != NULL && j->done && !p->dead) {
		p->serving = j->next;
		p->n_serving--;
		serve_finish(p, j->idx, j->rd);
		serve_job_free(j);
	}
	peer_flush(p);
}

/*
 * Serve the oldest queued request of p: send its chunk, or with a worker
 * pool start its read there (serve_done sends it); false when there is
 * none to serve, or SWARM_SERVE_READS reads are under way for p.
 */
static bool peer_serve_one(struct swarm_peer *p)
{
	struct swarm *sw = p->sw;
	struct swarm_content *c = p->c;
	struct content_store_read *rd;
	struct serve_job *j, **pp;
	uint32_t idx;
	int r;

	if (!c || p->q_len == 0 || p->we_choke ||
	    p->n_serving >= SWARM_SERVE_READS)
		return false;
	if (sw->cfg.upload_Bps && sw->up_tokens <= 0) {
		sw->up_waited = true;
		return false;
	}
	if (!pay_may_serve(p)) {
		if (!p->pay_wait_ms)
			p->pay_wait_ms = time_mono_ms();
		return false;
	}
	p->pay_wait_ms = 0;
	idx = p->queue[0];
	memmove(&p->queue[0], &p->queue[1], --p->q_len * sizeof(p->queue[0]));
	if ((r = content_store_read_begin(sw->st, c->hash, idx, &rd)) != 0) {
		serve_failed(p, idx, r);
		return true;
	}
	/* Taken now, not when it is sent: peers whose reads are under way
	 * at once would each overdraw the budget by a chunk. */
	sw->up_tokens -= (int64_t)content_store_read_len(rd);
	/* Read here when it cannot wait for the disk (in the page cache, as
	 * a rule) and no earlier read of p's is under way: a round trip to
	 * the worker for each chunk cost a third of a seeder's rate over
	 * localnet. */
	if (!sw->wp || (!p->serving && content_store_read_try(sw->st, rd))) {
		content_store_read_run(rd);	/* (done if tried) */
		serve_finish(p, idx, rd);
		content_store_read_free(rd);
		return true;
	}
	j = xzalloc(sizeof(*j));
	j->p = p;
	j->idx = idx;
	j->rd = rd;
	for (pp = &p->serving; *pp; pp = &(*pp)->next)
		;
	*pp = j;
	p->n_serving++;
	worker_submit(sw->wp, (struct work){ serve_run, serve_done, j });
	return true;
}

static int on_request(struct swarm_peer *p, const struct swarm_msg *m)
{
	struct swarm_content *c = p->c;

	for (uint32_t k = 0; k < m->u.range.count; k++) {
		uint32_t idx = m->u.range.index + k;
		if (!c->have_meta || idx >= c->m.chunk_count)
			return ERR_PROTOCOL;
		if (p->we_choke || !bit_get(c->have, idx) ||
		    p->q_len == SWARM_PEER_QUEUE_MAX) {
			peer_send_range(p, SWARM_REJECT, idx);
			continue;
		}
		p->queue[p->q_len++] = idx;
	}
	return 0;
}

static void on_cancel(struct swarm_peer *p, const struct swarm_msg *m)
{
	for (uint32_t k = 0; k < m->u.range.count; k++) {
		uint32_t idx = m->u.range.index + k;
		for (unsigned i = 0; i < p->q_len; i++) {
			if (p->queue[i] != idx)
				continue;
			memmove(&p->queue[i], &p->queue[i + 1],
				(p->q_len - i - 1) * sizeof(p->queue[0]));
			p->q_len--;
			break;
		}
	}
}

/* ---- receiving chunks ---- */

static void flush_log(int r)
{
	if (r != 0)
		log_warn(LD_APP, "swarm: syncing the store failed: %s",
			 err_str(r));
}

static void flush_run(void *arg)
{
	struct flush_job *j = arg;

	content_store_flush_sync(j->b);
}

static void swarm_store_flush(struct swarm *sw);

static void flush_done(void *arg)
{
	struct flush_job *j = arg;
	struct swarm *sw = j->sw;
	int r = content_store_flush_end(j->b);

	free(j);
	if (!sw)
		return;		/* freed meanwhile: the batch freed itself */
	flush_log(r);
	sw->flushing = NULL;
	if (sw->flush_again) {
		sw->flush_again = false;
		swarm_store_flush(sw);
	}
}

/* Make the chunks written since the last flush durable (group commit:
 * one sync for many chunks, docs/swarm.md §3): with a worker pool, the
 * syncs run there and the index is marked when they are done. */
static void swarm_store_flush(struct swarm *sw)
{
	struct flush_job *j;

	if (!sw->wp) {
		flush_log(content_store_flush(sw->st));
		return;
	}
	if (sw->flushing) {
		sw->flush_again = true;
		return;
	}
	j = xzalloc(sizeof(*j));
	if ((j->b = content_store_flush_begin(sw->st)) == NULL) {
		free(j);
		return;
	}
	j->sw = sw;
	sw->flushing = j;
	worker_submit(sw->wp, (struct work){ flush_run, flush_done, j });
}

/* p told us it holds every chunk of c (a seeder). */
static bool peer_is_seed(const struct swarm_content *c,
			 const struct swarm_peer *p)
{
	return c->have_meta && p->bits && p->bits_count == c->m.chunk_count &&
	       p->have_count == c->m.chunk_count;
}

static bool content_is_whole(const struct swarm_content *c)
{
	return c->have_meta && c->have_count == c->m.chunk_count;
}

/* Neither end needs anything from the other, now or later (a content's
 * chunks never change): both whole, nothing asked or queued. */
static bool peer_is_redundant(const struct swarm_content *c,
			      const struct swarm_peer *p)
{
	return content_is_whole(c) && peer_is_seed(c, p) && !p->n_inflight &&
	       !p->q_len && !p->serving && p->out.len == 0 &&
	       c->meta_peer != p;
}

/* A chunk stored: HAVE to every peer but seeders.  A seeder needs none
 * (it asks us for nothing), and each HAVE is a stream packet of its own
 * through both tunnels: a viewer fetching from four seeders sent them
 * four per chunk, as many packets as its requests and ACKs together. */
static void content_mark_have(struct swarm_content *c, uint32_t idx)
{
	struct swarm_msg hv = { .type = SWARM_HAVE, .u.have = idx };
	struct swarm_peer *p, *next;

	if (c->req[idx] == 0)
		c->unrequested--;
	bit_set(c->have, idx);
	c->have_count++;
	for (p = c->peers; p; p = next) {
		next = p->next;
		if (peer_inflight_remove(p, idx))	/* endgame duplicate */
			peer_send_range(p, SWARM_CANCEL, idx);
		if (!peer_is_seed(c, p))
			peer_send(p, &hv);
		if (c->have_count == c->m.chunk_count && p->we_interested) {
			p->we_interested = false;
			peer_send_simple(p, SWARM_NOT_INTERESTED);
		}
		peer_flush(p);
	}
}

/* Check a PIECE against its proof and the manifest root: 0 or ERR_AUTH;
 * leaf gets the chunk's leaf hash. */
static int piece_check(const struct swarm_content *c,
		       const struct swarm_msg *m, uint8_t leaf[32])
{
	uint32_t idx = m->u.piece.index;

	if (idx >= c->m.chunk_count ||
	    m->u.piece.proof.count != c->m.chunk_count ||
	    m->u.piece.chunk_len != content_chunk_plain_len(&c->m, idx) +
				    CONTENT_TAG_BYTES)
		return ERR_AUTH;
	content_leaf_hash(leaf, m->u.piece.chunk, m->u.piece.chunk_len);
	return content_proof_verify(&m->u.piece.proof, leaf, c->m.root);
}

static int on_piece(struct swarm_peer *p, const struct swarm_msg *m)
{
	struct swarm_content *c = p->c;
	uint32_t idx = m->u.piece.index;
	uint8_t leaf[32];
	int r;

	if (!c->have_meta)
		return ERR_PROTOCOL;
	peer_inflight_remove(p, idx);
	p->last_piece_ms = c->progress_ms = time_mono_ms();
	p->stalls = 0;
	p->down += m->u.piece.chunk_len;
	p->down_round += m->u.piece.chunk_len;
	c->bytes_down += m->u.piece.chunk_len;
	if (piece_check(c, m, leaf) != 0) {
		c->bad_pieces++;
		content_ban(c, p, "chunk or proof does not verify");
		return 0;
	}
	if (p->sw->has_pay && p->sw->pay.received) {
		struct bbuf b = BBUF_INIT;

		p->sw->pay.received(p->sw->pay.ctx, c->hash, p->dest_hash, idx,
				    &b);
		pay_send(p, &b);
	}
	/* A chunk we cancelled late is still welcome. */
	if (bit_get(c->have, idx)) {
		peer_pick(p);
		return 0;
	}
	r = content_store_chunk_write(p->sw->st, c->hash, idx,
				      m->u.piece.chunk, m->u.piece.chunk_len,
				      leaf);
	if (r == ERR_AUTH) {
		c->bad_pieces++;
		content_ban(c, p, "chunk does not match the stored tree");
		return 0;
	}
	if (r != 0) {
		log_warn(LD_APP, "swarm: storing a chunk failed: %s",
			 err_str(r));
		return 0;
	}
	content_mark_have(c, idx);
	if (c->have_count == c->m.chunk_count) {
		/* whole: every chunk in the file now (bits cat reads it),
		 * durable and marked when the flush is done */
		if ((r = content_store_write_out(p->sw->st, c->hash)) != 0)
			log_warn(LD_APP, "swarm: writing a whole content "
				 "failed: %s", err_str(r));
		swarm_store_flush(p->sw);
		pay_complete(c);
	} else if (p->sw->wp && content_store_pending(p->sw->st) >=
		   SWARM_FLUSH_PENDING_CHUNKS) {
		swarm_store_flush(p->sw);
	}
	if (p->sw->chunk_cb)
		p->sw->chunk_cb(p->sw->chunk_ctx, c->hash, idx,
				m->u.piece.chunk, m->u.piece.chunk_len);
	content_pick_all(c);
	return 0;
}

/* ---- metadata fetch ---- */

static int content_load(struct swarm_content *c);

static void meta_request_next(struct swarm_content *c)
{
	struct swarm_msg m = { .type = SWARM_META_REQUEST };
	struct swarm_peer *p;

	if (c->have_meta || c->meta_asked)
		return;
	if (!c->meta_peer) {
		for (p = c->peers; p; p = p->next)
			if (p->has_meta && !p->dead)
				break;
		if (!p)
			return;
		c->meta_peer = p;
		c->meta_kind = SWARM_META_MANIFEST;
		c->meta_total = 0;
		bbuf_reset(&c->meta_buf);
	}
	m.u.metareq.kind = c->meta_kind;
	m.u.metareq.offset = c->meta_buf.len;
	c->meta_asked = true;
	peer_send(c->meta_peer, &m);
	peer_flush(c->meta_peer);
}

/* The whole manifest (kind 0) or tree (kind 1) is in meta_buf. */
static int meta_complete(struct swarm_content *c)
{
	struct content_manifest m;
	uint8_t h[32];
	int r;

	if (c->meta_kind == SWARM_META_MANIFEST) {
		content_hash_of(h, c->meta_buf.data, c->meta_buf.len);
		if (memcmp(h, c->hash, 32) != 0 ||
		    content_manifest_decode(c->meta_buf.data, c->meta_buf.len,
					    &m) != 0)
			return ERR_AUTH;
		content_manifest_clear(&m);
		bbuf_reset(&c->manifest);
		bbuf_put(&c->manifest, c->meta_buf.data, c->meta_buf.len);
		bbuf_reset(&c->meta_buf);
		c->meta_kind = SWARM_META_TREE;
		c->meta_total = 0;
		meta_request_next(c);
		return 0;
	}
	r = content_store_add(c->sw->st, c->manifest.data, c->manifest.len,
			      c->meta_buf.data, c->meta_buf.len, false, h);
	if (r != 0 && r != ERR_EXISTS)
		return r == ERR_LIMIT || r == ERR_IO ? r : ERR_AUTH;
	bbuf_free(&c->meta_buf);
	bbuf_free(&c->manifest);
	c->meta_peer = NULL;
	if ((r = content_load(c)) == 0 && c->sw->chunk_cb)
		c->sw->chunk_cb(c->sw->chunk_ctx, c->hash, SWARM_META_READY,
				NULL, 0);
	return r;
}

static int on_meta(struct swarm_peer *p, const struct swarm_msg *m)
{
	struct swarm_content *c = p->c;
	uint64_t cap;
	int r;

	if (c->have_meta || c->meta_peer != p || !c->meta_asked ||
	    m->u.meta.kind != c->meta_kind ||
	    m->u.meta.offset != c->meta_buf.len)
		return ERR_PROTOCOL;
	c->meta_asked = false;
	if (c->meta_kind == SWARM_META_MANIFEST) {
		cap = CONTENT_MANIFEST_MAX_BYTES;
	} else {
		struct content_manifest mf;
		if (content_manifest_decode(c->manifest.data, c->manifest.len,
					    &mf) != 0)
			return ERR_INTERNAL;
		cap = content_tree_nodes(mf.chunk_count) * CONTENT_NODE_BYTES;
		content_manifest_clear(&mf);
		if (m->u.meta.total != cap)
			return ERR_AUTH;
	}
	if (m->u.meta.total > cap ||
	    (c->meta_total && m->u.meta.total != c->meta_total))
		return ERR_AUTH;
	c->meta_total = m->u.meta.total;
	bbuf_put(&c->meta_buf, m->u.meta.data, m->u.meta.len);
	if (c->meta_buf.len < c->meta_total) {
		if (m->u.meta.len == 0)
			return ERR_PROTOCOL;
		meta_request_next(c);
		return 0;
	}
	if ((r = meta_complete(c)) == ERR_AUTH) {
		c->bad_pieces++;
		content_ban(c, p, "manifest or tree does not verify");
		return 0;
	}
	return r;
}

static int on_meta_request(struct swarm_peer *p, const struct swarm_msg *m)
{
	struct swarm_msg rep = { .type = SWARM_META };
	uint8_t *buf;
	int r;

	if (!p->c->have_meta)
		return ERR_PROTOCOL;
	buf = xmalloc(SWARM_META_DATA_MAX_BYTES);
	r = read_meta_page(p->sw, p->c, m->u.metareq.kind,
			   m->u.metareq.offset, buf, &rep.u.meta.len,
			   &rep.u.meta.total);
	if (r == 0) {
		rep.u.meta.kind = m->u.metareq.kind;
		rep.u.meta.offset = m->u.metareq.offset;
		rep.u.meta.data = buf;
		peer_send(p, &rep);
	}
	free(buf);
	return r == ERR_RANGE ? ERR_PROTOCOL : 0;
}

/* ---- incoming messages ---- */

static int peer_attach(struct swarm_peer *p, struct swarm_content *c);
static void peer_send_pex(struct swarm_peer *p);
static int on_announce(struct swarm_peer *p, const struct swarm_msg *m);
static int on_peers(struct swarm_peer *p, const struct swarm_msg *m);

static int on_handshake(struct swarm_peer *p, const struct swarm_msg *m)
{
	struct swarm_content *c;

	if (m->u.hs.version != SWARM_PROTO_VERSION) {
		peer_drop(p, SWARM_ERR_VERSION, "version 1 only", false);
		return 0;
	}
	/* A peer we connected to for another content: dropped before its
	 * handshake counts, so the payment hook hears no close for a peer
	 * it never heard open. */
	if (p->outgoing && memcmp(m->u.hs.content_hash, p->c->hash, 32) != 0)
		return ERR_PROTOCOL;
	p->has_meta = (m->u.hs.flags & SWARM_HS_HAVE_META) != 0;
	p->hs_got = true;
	p->hs_ms = time_mono_ms();
	if (p->outgoing) {
		peer_send_pex(p);
		pay_open(p);
		meta_request_next(p->c);
		return 0;
	}
	c = content_find(p->sw, m->u.hs.content_hash);
	if (!c) {
		peer_drop(p, SWARM_ERR_UNKNOWN_CONTENT, "unknown content",
			  false);
		return 0;
	}
	return peer_attach(p, c);
}

static int on_bitfield(struct swarm_peer *p, const struct swarm_msg *m)
{
	struct swarm_content *c = p->c;
	size_t nb = (m->u.bitfield.count + 7) / 8;

	if (p->bits)
		return ERR_PROTOCOL;		/* once, first */
	if (c->have_meta && m->u.bitfield.count != c->m.chunk_count)
		return ERR_PROTOCOL;
	p->bits = xmemdup(m->u.bitfield.bits, nb);
	p->bits_count = m->u.bitfield.count;
	for (uint32_t i = 0; i < p->bits_count; i++)
		p->have_count += bit_get(p->bits, i);
	if (c->have_meta)
		return peer_bits_apply(p);
	return 0;
}

static int on_have(struct swarm_peer *p, uint32_t idx)
{
	struct swarm_content *c = p->c;

	if (!c->have_meta)
		return 0;	/* counted from its bitfield once known */
	if (idx >= c->m.chunk_count)
		return ERR_PROTOCOL;
	if (!p->bits) {
		p->bits = xzalloc((c->m.chunk_count + 7) / 8);
		p->bits_count = c->m.chunk_count;
	}
	if (bit_get(p->bits, idx))
		return 0;
	bit_set(p->bits, idx);
	p->have_count++;
	c->avail[idx]++;
	if (!bit_get(c->have, idx) && !p->we_interested) {
		p->we_interested = true;
		peer_send_simple(p, SWARM_INTERESTED);
	}
	return 0;
}

/* A PAY body for the hook; serving resumes when it allows. */
static int on_pay(struct swarm_peer *p, const struct swarm_msg *m)
{
	struct swarm *sw = p->sw;
	struct bbuf b = BBUF_INIT;
	int r;

	if (!sw->has_pay || !sw->pay.recv)
		return 0;		/* not a paying swarm: ignored */
	r = sw->pay.recv(sw->pay.ctx, p->c->hash, p->dest_hash,
			 m->u.pay.data, m->u.pay.len, &b);
	pay_send(p, &b);
	if (r != 0)
		return ERR_PROTOCOL;
	if (p->pay_wait_ms && pay_may_serve(p)) {
		p->pay_wait_ms = 0;
		choke_fill(p->c);
	}
	peer_flush(p);
	return 0;
}

static int peer_handle(struct swarm_peer *p, const struct swarm_msg *m)
{
	if (p->announcing)
		return on_peers(p, m);
	if (!p->hs_got && m->type != SWARM_ERROR)
		return m->type == SWARM_HANDSHAKE ? on_handshake(p, m) :
		       m->type == SWARM_ANNOUNCE ? on_announce(p, m) :
						   ERR_PROTOCOL;
	switch (m->type) {
	case SWARM_HANDSHAKE:
		return ERR_PROTOCOL;
	case SWARM_KEEPALIVE:
		return 0;
	case SWARM_CHOKE:
		p->they_choke = true;
		peer_inflight_clear(p);
		content_pick_all(p->c);
		return 0;
	case SWARM_UNCHOKE:
		p->they_choke = false;
		return 0;
	case SWARM_INTERESTED:
		p->they_interested = true;
		choke_fill(p->c);
		return 0;
	case SWARM_NOT_INTERESTED:
		p->they_interested = false;
		return 0;
	case SWARM_HAVE:
		return on_have(p, m->u.have);
	case SWARM_BITFIELD:
		return on_bitfield(p, m);
	case SWARM_REQUEST:
		return on_request(p, m);
	case SWARM_PIECE:
		return on_piece(p, m);
	case SWARM_CANCEL:
		on_cancel(p, m);
		return 0;
	case SWARM_REJECT:
		for (uint32_t k = 0; k < m->u.range.count; k++)
			peer_inflight_remove(p, m->u.range.index + k);
		return 0;
	case SWARM_META_REQUEST:
		return on_meta_request(p, m);
	case SWARM_META:
		return on_meta(p, m);
	case SWARM_PEERS:
		return on_peers(p, m);
	case SWARM_ERROR:
		peer_drop(p, 0, "the peer sent an error", false);
		return 0;
	case SWARM_ANNOUNCE:
		return ERR_PROTOCOL;
	case SWARM_PAY:
		return on_pay(p, m);
	}
	return ERR_PROTOCOL;
}

/* Read and handle whatever the stream has. */
static void peer_read(struct swarm_peer *p)
{
	size_t off = 0, used;
	struct swarm_msg m;
	int r;

	while (!p->dead && stream_readable(p->s) > 0) {
		size_t want = SWARM_READ_BYTES;
		if (p->in_cap - p->in_len < want) {
			p->in_cap = p->in_len + want;
			p->in = xrealloc(p->in, p->in_cap);
		}
		p->in_len += stream_read(p->s, p->in + p->in_len, want);
		p->last_rx_ms = time_mono_ms();
		while (!p->dead && off < p->in_len) {
			r = swarm_msg_decode(p->in + off, p->in_len - off, &m,
					     &used);
			if (r == ERR_TRUNCATED)
				break;
			if (r == 0 && p->sw->trace)
				p->sw->trace(p->sw->trace_ctx, p->dest_hash,
					     false, p->in + off, used);
			if (r == 0 && (r = peer_handle(p, &m)) != 0)
				log_debug(LD_APP, "swarm: a %s message: %s",
					  swarm_msg_type_name(m.type),
					  err_str(r));
			if (r != 0) {
				peer_drop(p, SWARM_ERR_PROTOCOL, err_str(r),
					  false);
				return;
			}
			if (!p->dead && p->out.len - p->out_off >
			    SWARM_OUT_MAX_BYTES) {
				peer_drop(p, 0, "asks and does not read", true);
				return;
			}
			off += used;
		}
		if (p->dead)
			return;
		memmove(p->in, p->in + off, p->in_len - off);
		p->in_len -= off;
		off = 0;
	}
	if (!p->dead) {
		peer_pick(p);
		peer_flush(p);
	}
}

static void peer_event(void *ctx, struct stream *s, unsigned ev)
{
	struct swarm_peer *p = ctx;

	(void)s;
	if (p->dead)
		return;
	if (ev & STREAM_EV_READABLE)
		peer_read(p);
	if (!p->dead && (ev & (STREAM_EV_CONNECTED | STREAM_EV_WRITABLE)))
		peer_flush(p);
	if (!p->dead && (ev & (STREAM_EV_EOF | STREAM_EV_CLOSED |
			       STREAM_EV_RESET | STREAM_EV_FAILED)))
		peer_drop(p, 0, "stream ended", false);
}

static struct swarm_peer *peer_new(struct swarm *sw, struct stream *s,
				   bool outgoing)
{
	struct swarm_peer *p = xzalloc(sizeof(*p));

	p->sw = sw;
	p->s = s;
	p->outgoing = outgoing;
	p->we_choke = true;
	p->they_choke = true;
	bbuf_init(&p->out);
	p->last_rx_ms = p->last_tx_ms = time_mono_ms();
	if (s)
		memcpy(p->dest_hash, stream_peer(s)->hash, 32);
	return p;
}

static struct swarm_peer *content_peer(struct swarm_content *c,
				       const uint8_t h[32])
{
	for (struct swarm_peer *p = c->peers; p; p = p->next)
		if (memcmp(p->dest_hash, h, 32) == 0)
			return p;
	return NULL;
}

/* An incoming peer named c: admit it (or refuse), answer its handshake. */
static int peer_attach(struct swarm_peer *p, struct swarm_content *c)
{
	struct swarm *sw = p->sw;
	struct swarm_peer *dup;

	if (content_is_banned(c, p->dest_hash)) {
		peer_drop(p, SWARM_ERR_BAD_PIECE, "banned", false);
		return 0;
	}
	if ((dup = content_peer(c, p->dest_hash)) != NULL) {
		/* A peer that had our stream for a while connects again:
		 * it no longer has it (it restarted, or dropped it), and
		 * ours is stale.  Else both sides connected at once: the
		 * stream opened by the lower destination hash stays, on
		 * both ends. */
		if (dup->hs_got && elapsed_ms(time_mono_ms(), dup->hs_ms) >=
				   sw->cfg.dup_stale_ms) {
			peer_drop(dup, 0, "replaced by its new connection",
				  true);
		} else if (memcmp(sw->self.hash, p->dest_hash, 32) < 0) {
			peer_drop(p, 0, "duplicate connection", false);
			return 0;
		} else {
			peer_drop(dup, 0, "duplicate connection", false);
		}
	}
	if (c->npeers >= sw->cfg.max_peers) {
		peer_drop(p, SWARM_ERR_LIMIT, "too many peers", false);
		return 0;
	}
	list_unlink(&sw->pending, p);
	sw->npending--;
	p->c = c;
	p->next = c->peers;
	c->peers = p;
	c->npeers++;
	peer_send_handshake(p);
	peer_send_pex(p);
	pay_open(p);
	meta_request_next(c);
	peer_flush(p);
	return 0;
}

static void swarm_accept(void *ctx, struct stream *s)
{
	struct swarm *sw = ctx;
	struct stream_info si;
	struct swarm_peer *p;

	stream_get_info(s, &si);
	/* The port it was opened to: ours, src_port on our side of the
	 * stream (dst_port is the port it came from). */
	if (si.src_port != SWARM_PORT || sw->npending >= SWARM_PENDING_MAX) {
		/* Refused: a RESET instead of our SYN, and the stream is
		 * ours to give back (nobody else holds it). */
		stream_reset(s);
		stream_release(s);
		return;
	}
	p = peer_new(sw, s, false);
	p->next = sw->pending;
	sw->pending = p;
	sw->npending++;
	stream_set_handler(s, peer_event, p);
}

/* ---- hints, trackers, the tracker role ---- */

/* Our other peers' destination hashes, so p may connect to them too. */
static void peer_send_pex(struct swarm_peer *p)
{
	struct swarm_msg m = { .type = SWARM_PEERS };
	uint8_t hashes[SWARM_PEERS_MAX][32];
	unsigned n = 0;

	for (struct swarm_peer *q = p->c->peers; q && n < SWARM_PEERS_MAX;
	     q = q->next)
		if (q != p && !q->dead && q->hs_got)
			memcpy(hashes[n++], q->dest_hash, 32);
	if (n == 0)
		return;
	m.u.peers.n = (uint8_t)n;
	m.u.peers.hashes = &hashes[0][0];
	peer_send(p, &m);
}

/* The lookup hook, not asked again for a hash it missed lately. */
static int swarm_resolve(struct swarm *sw, const uint8_t hash[32],
			 struct keys_and_cert *out)
{
	uint64_t now = time_mono_ms();
	unsigned i;

	if (!sw->lookup)
		return ERR_NOT_FOUND;
	for (i = 0; i < SWARM_LOOKUP_MISSES; i++)
		if (memcmp(sw->misses[i].hash, hash, 32) == 0 &&
		    now < sw->misses[i].until_ms)
			return ERR_NOT_FOUND;
	if (sw->lookup(sw->lookup_ctx, hash, out) == 0 &&
	    memcmp(out->hash, hash, 32) == 0)
		return 0;
	if (log_enabled(LOG_DEBUG)) {
		char h[72];
		log_debug(LD_APP, "swarm: %s not resolved yet",
			  log_safe_hash(h, sizeof(h), hash));
	}
	i = sw->next_miss++ % SWARM_LOOKUP_MISSES;
	memcpy(sw->misses[i].hash, hash, 32);
	sw->misses[i].until_ms = now + SWARM_LOOKUP_RETRY_MS;
	return ERR_NOT_FOUND;
}

static void hint_add(struct swarm_content *c, const uint8_t dest[32])
{
	if (memcmp(dest, c->sw->self.hash, 32) == 0 || content_peer(c, dest) ||
	    content_is_banned(c, dest))
		return;
	for (unsigned i = 0; i < c->nhints; i++)
		if (memcmp(c->hints[i].dest, dest, 32) == 0)
			return;
	if (c->nhints == SWARM_HINTS_MAX)
		return;
	memcpy(c->hints[c->nhints].dest, dest, 32);
	c->hints[c->nhints++].expires_ms = time_mono_ms() + SWARM_HINT_TTL_MS;
}

/* Connect to the hints the lookup hook resolves now; drop the expired. */
static void hints_try(struct swarm_content *c)
{
	struct swarm *sw = c->sw;
	uint64_t now = time_mono_ms();

	for (unsigned i = 0; i < c->nhints;) {
		struct swarm_hint *h = &c->hints[i];
		struct keys_and_cert k;
		bool done = content_peer(c, h->dest) ||
			    content_is_banned(c, h->dest) ||
			    now >= h->expires_ms;

		if (!done && c->npeers >= sw->cfg.max_peers) {
			i++;
			continue;
		}
		if (!done && swarm_resolve(sw, h->dest, &k) == 0) {
			(void)swarm_peer_add(sw, c->hash, &k);
			done = true;
		}
		if (done)
			c->hints[i] = c->hints[--c->nhints];
		else
			i++;
	}
}

/* PEERS: from a peer (once per connection) or a tracker's answer. */
static int on_peers(struct swarm_peer *p, const struct swarm_msg *m)
{
	struct swarm_content *c = p->c;

	if (p->announcing) {
		if (m->type == SWARM_ERROR) {
			peer_drop(p, 0, "the tracker sent an error", false);
			return 0;
		}
		if (m->type != SWARM_PEERS)
			return ERR_PROTOCOL;
		c = content_find(p->sw, p->ann_hash);
		announce_end(p, true);
		peer_drop(p, 0, "the tracker answered", false);
	} else if (p->got_peers) {
		return 0;		/* one list per connection */
	}
	p->got_peers = true;
	if (log_enabled(LOG_DEBUG)) {
		char h[72];
		log_debug(LD_APP, "swarm: %u peers from %s%s",
			  m->u.peers.n,
			  log_safe_hash(h, sizeof(h), p->dest_hash),
			  p->announcing ? " (tracker)" : "");
	}
	if (!c || content_is_whole(c))
		return 0;	/* whole: those who want a piece connect to us */
	for (unsigned i = 0; i < m->u.peers.n; i++)
		hint_add(c, m->u.peers.hashes + 32 * i);
	hints_try(c);
	return 0;
}

static void tracker_expire(struct swarm *sw, uint64_t now)
{
	for (size_t i = 0; i < sw->ntr;) {
		if (elapsed_ms(now, sw->tr[i].last_ms) >= sw->cfg.tracker_ttl_ms)
			sw->tr[i] = sw->tr[--sw->ntr];
		else
			i++;
	}
}

/* Tracker role: dest announced hash (or stopped) at time now. */
static void tracker_record_at(struct swarm *sw, const uint8_t hash[32],
			      const uint8_t dest[32], uint8_t flags,
			      uint64_t now)
{
	size_t n = 0, oldest = SIZE_MAX, i;

	sw->tr_dirty = true;
	tracker_expire(sw, time_mono_ms());
	for (i = 0; i < sw->ntr; i++) {
		struct tracker_entry *e = &sw->tr[i];
		if (memcmp(e->hash, hash, 32) != 0)
			continue;
		if (memcmp(e->dest, dest, 32) == 0) {
			if (flags & SWARM_ANNOUNCE_STOPPED)
				*e = sw->tr[--sw->ntr];
			else
				e->last_ms = now;
			return;
		}
		n++;
		if (oldest == SIZE_MAX || e->last_ms < sw->tr[oldest].last_ms)
			oldest = i;
	}
	if (flags & SWARM_ANNOUNCE_STOPPED)
		return;
	if (n >= SWARM_TRACKER_PER_CONTENT_MAX) {
		i = oldest;		/* the stalest makes room */
	} else if (sw->ntr >= SWARM_TRACKER_ENTRIES_MAX) {
		return;
	} else {
		if (sw->ntr == sw->tr_cap) {
			sw->tr_cap = sw->tr_cap ? 2 * sw->tr_cap : 64;
			sw->tr = xrealloc(sw->tr, sw->tr_cap * sizeof(*sw->tr));
		}
		i = sw->ntr++;
	}
	memcpy(sw->tr[i].hash, hash, 32);
	memcpy(sw->tr[i].dest, dest, 32);
	sw->tr[i].last_ms = now;
}

static void tracker_record(struct swarm *sw, const uint8_t hash[32],
			   const uint8_t dest[32], uint8_t flags)
{
	tracker_record_at(sw, hash, dest, flags, time_mono_ms());
}

#define TRACKER_FILE_VERSION 1
#define TRACKER_FILE_ENTRY_BYTES (32 + 32 + 4)

void swarm_tracker_save(struct swarm *sw, struct bbuf *out)
{
	uint64_t now = time_mono_ms();

	tracker_expire(sw, now);
	bbuf_put(out, "BTRK", 4);
	bbuf_be32(out, TRACKER_FILE_VERSION);
	bbuf_be32(out, (uint32_t)sw->ntr);
	for (size_t i = 0; i < sw->ntr; i++) {
		bbuf_put(out, sw->tr[i].hash, 32);
		bbuf_put(out, sw->tr[i].dest, 32);
		bbuf_be32(out, (uint32_t)elapsed_ms(now, sw->tr[i].last_ms));
	}
	sw->tr_dirty = false;
}

int swarm_tracker_decode(const uint8_t *buf, size_t len,
			 swarm_tracker_entry_fn fn, void *ctx)
{
	struct breader r;
	uint8_t magic[4];
	uint32_t version, n;

	br_init(&r, buf, len);
	br_copy(&r, magic, 4);
	version = br_be32(&r);
	n = br_be32(&r);
	if (r.failed || memcmp(magic, "BTRK", 4) != 0 ||
	    version != TRACKER_FILE_VERSION || n > SWARM_TRACKER_ENTRIES_MAX ||
	    br_left(&r) != (size_t)n * TRACKER_FILE_ENTRY_BYTES)
		return ERR_FORMAT;
	for (uint32_t k = 0; k < n; k++) {
		const uint8_t *hash = br_take(&r, 32), *dest = br_take(&r, 32);

		fn(ctx, hash, dest, br_be32(&r));
	}
	return 0;
}

static void load_one(void *ctx, const uint8_t hash[32],
		     const uint8_t dest[32], uint32_t age_ms)
{
	struct swarm *sw = ctx;
	uint64_t now = time_mono_ms();

	if (age_ms < sw->cfg.tracker_ttl_ms)
		tracker_record_at(sw, hash, dest, 0,
				  now > age_ms ? now - age_ms : 0);
}

int swarm_tracker_load(struct swarm *sw, const uint8_t *buf, size_t len)
{
	return swarm_tracker_decode(buf, len, load_one, sw);
}

bool swarm_tracker_dirty(const struct swarm *sw)
{
	return sw->tr_dirty;
}

/* Up to SWARM_PEERS_MAX destinations announced for hash but `except`,
 * from a random start. */
static unsigned tracker_answer(struct swarm *sw, const uint8_t hash[32],
			       const uint8_t except[32],
			       uint8_t out[SWARM_PEERS_MAX][32])
{
	size_t start = sw->ntr ? rand_uniform((uint32_t)sw->ntr) : 0;
	unsigned n = 0;

	tracker_expire(sw, time_mono_ms());
	for (size_t k = 0; k < sw->ntr && n < SWARM_PEERS_MAX; k++) {
		const struct tracker_entry *e = &sw->tr[(start + k) % sw->ntr];
		if (memcmp(e->hash, hash, 32) == 0 &&
		    memcmp(e->dest, except, 32) != 0)
			memcpy(out[n++], e->dest, 32);
	}
	return n;
}

/* An ANNOUNCE on an incoming stream: record it, answer PEERS, close. */
static int on_announce(struct swarm_peer *p, const struct swarm_msg *m)
{
	struct swarm_msg rep = { .type = SWARM_PEERS };
	uint8_t hashes[SWARM_PEERS_MAX][32];

	if (!p->sw->tracker_role) {
		peer_drop(p, SWARM_ERR_UNKNOWN_CONTENT, "not a tracker", false);
		return 0;
	}
	tracker_record(p->sw, m->u.announce.content_hash, p->dest_hash,
		       m->u.announce.flags);
	rep.u.peers.n = (uint8_t)tracker_answer(p->sw,
						m->u.announce.content_hash,
						p->dest_hash, hashes);
	rep.u.peers.hashes = &hashes[0][0];
	peer_send(p, &rep);
	peer_flush(p);
	peer_drop(p, 0, "announce answered", false);
	return 0;
}

/* Tracker t's index in sw->trackers, or sw->ntrackers: not one. */
static unsigned tracker_index(const struct swarm *sw, const uint8_t t[32])
{
	unsigned i;

	for (i = 0; i < sw->ntrackers; i++)
		if (memcmp(sw->trackers[i], t, 32) == 0)
			break;
	return i;
}

/* Our announce streams to tracker t waiting for their answer. */
static unsigned announces_open(const struct swarm *sw, const uint8_t t[32])
{
	unsigned n = 0;

	for (const struct swarm_peer *p = sw->pending; p; p = p->next)
		n += p->announcing && memcmp(p->dest_hash, t, 32) == 0;
	return n;
}

/* Announce c to tracker t; false when t cannot be reached yet, or
 * SWARM_ANNOUNCES_MAX announces to it are under way. */
static bool announce_one(struct swarm_content *c, const uint8_t t[32])
{
	struct swarm *sw = c->sw;
	struct swarm_msg m = { .type = SWARM_ANNOUNCE };
	struct keys_and_cert k;
	struct swarm_peer *p;
	struct stream *s;

	memcpy(m.u.announce.content_hash, c->hash, 32);
	if (c->have_meta && c->have_count == c->m.chunk_count)
		m.u.announce.flags = SWARM_ANNOUNCE_SEEDING;
	if (memcmp(t, sw->self.hash, 32) == 0) {	/* our own role */
		uint8_t hashes[SWARM_PEERS_MAX][32];
		unsigned n;
		if (!sw->tracker_role)
			return true;
		tracker_record(sw, c->hash, sw->self.hash, m.u.announce.flags);
		n = content_is_whole(c) ? 0 :
		    tracker_answer(sw, c->hash, sw->self.hash, hashes);
		for (unsigned i = 0; i < n; i++)
			hint_add(c, hashes[i]);
		hints_try(c);
		return true;
	}
	if (sw->npending >= SWARM_PENDING_MAX ||
	    announces_open(sw, t) >= SWARM_ANNOUNCES_MAX ||
	    swarm_resolve(sw, t, &k) != 0)
		return false;
	p = peer_new(sw, NULL, true);
	memcpy(p->dest_hash, t, 32);
	p->announcing = true;
	memcpy(p->ann_hash, c->hash, 32);
	if (stream_connect(sw->mgr, &k, SWARM_PORT, SWARM_PORT, peer_event, p,
			   &s) != 0) {
		peer_free_cb(p);
		return false;
	}
	if (log_enabled(LOG_DEBUG)) {
		char h[72];
		log_debug(LD_APP, "swarm: announcing to tracker %s",
			  log_safe_hash(h, sizeof(h), t));
	}
	p->s = s;
	p->next = sw->pending;
	sw->pending = p;
	sw->npending++;
	peer_send(p, &m);
	peer_flush(p);
	return true;
}

/*
 * The announce on p ended, answered with a PEERS or not (an error, a
 * reset, no answer within the idle timeout).  A failed one goes again
 * after announce_retry_ms, twice that after a second failure in a row,
 * and so on up to the interval: a tracker that was down or restarting
 * learns of its seeders soon after it is back, not minutes later.
 */
static void announce_end(struct swarm_peer *p, bool answered)
{
	struct swarm *sw = p->sw;
	struct swarm_content *c;
	uint64_t wait, due;
	unsigned i;

	if (p->ann_ended)
		return;
	p->ann_ended = true;
	if (!(c = content_find(sw, p->ann_hash)))
		return;			/* removed meanwhile */
	if ((i = tracker_index(sw, p->dest_hash)) == sw->ntrackers)
		return;
	if (answered) {
		c->announce_fails[i] = 0;
		return;
	}
	if (c->announce_fails[i] < UINT8_MAX)
		c->announce_fails[i]++;
	wait = (uint64_t)sw->cfg.announce_retry_ms <<
	       (c->announce_fails[i] > 16 ? 15 : c->announce_fails[i] - 1);
	if (wait > sw->cfg.announce_interval_ms)
		wait = sw->cfg.announce_interval_ms;
	due = time_mono_ms() + wait;
	if (c->next_announce_ms[i] > due)
		c->next_announce_ms[i] = due;
	log_info_rl(60, LD_APP, "swarm: an announce failed (%u in a row); "
		    "again in %" PRIu64 " s", c->announce_fails[i],
		    wait / 1000);
}

/*
 * Announce c to each tracker whose turn it is.  An incomplete content
 * with no peer, or none that sent a piece for a request timeout (its
 * seeders gone or restarted), asks every announce_retry_ms.
 */
static void content_announce(struct swarm_content *c, uint64_t now)
{
	struct swarm *sw = c->sw;
	bool done = c->have_meta && c->have_count == c->m.chunk_count;
	bool lonely = !done && (c->npeers == 0 ||
		elapsed_ms(now, c->progress_ms) >= sw->cfg.request_timeout_ms);

	for (unsigned i = 0; i < sw->ntrackers; i++) {
		uint64_t due = c->next_announce_ms[i];

		if (lonely && due > c->announced_ms[i] +
		    sw->cfg.announce_retry_ms)
			due = c->announced_ms[i] + sw->cfg.announce_retry_ms;
		if (now < due)
			continue;
		c->announced_ms[i] = now;
		if (!announce_one(c, sw->trackers[i]))
			/* (at the next tick when others' answers are due) */
			c->next_announce_ms[i] = now + (announces_open(sw,
				sw->trackers[i]) >= SWARM_ANNOUNCES_MAX ?
				1 : 5) * SWARM_TICK_MS;
		else
			c->next_announce_ms[i] = now + (lonely ?
				sw->cfg.announce_retry_ms :
				sw->cfg.announce_interval_ms);
	}
}

/* ---- timers ---- */

static void content_tick(struct swarm_content *c, uint64_t now)
{
	struct swarm *sw = c->sw;
	struct swarm_peer *p, *next;

	for (p = c->peers; p; p = next) {
		next = p->next;
		if (elapsed_ms(now, p->last_rx_ms) >= sw->cfg.idle_timeout_ms) {
			peer_drop(p, 0, "idle", false);
			continue;
		}
		if (peer_is_redundant(c, p) &&
		    elapsed_ms(now, p->last_rx_ms) >= sw->cfg.whole_idle_ms &&
		    elapsed_ms(now, p->last_tx_ms) >= sw->cfg.whole_idle_ms) {
			peer_drop(p, 0, "both whole", false);
			continue;
		}
		/* "a viewer that stops paying is choked" (issue 13) */
		if (!p->we_choke && pay_owing(p, now))
			peer_choke(p, true);
		if (p->n_inflight && elapsed_ms(now, p->last_piece_ms) >=
		    sw->cfg.request_timeout_ms) {
			/* It keeps the stream up but sits on our requests:
			 * once, it is not asked for a while; twice, its
			 * stream goes (a router that died or restarted may
			 * keep ours open until it times out), so a tracker
			 * or PEX can bring it back fresh. */
			c->request_timeouts++;
			if (++p->stalls >= 2) {
				peer_drop(p, 0, "sat on our requests twice",
					  true);
				content_pick_all(c);
				continue;
			}
			p->snubbed_until_ms = now + sw->cfg.request_timeout_ms;
			for (unsigned i = 0; i < p->n_inflight; i++)
				peer_send_range(p, SWARM_CANCEL, p->inflight[i]);
			peer_inflight_clear(p);
			content_pick_all(c);
		} else if (p->snubbed_until_ms && now >= p->snubbed_until_ms) {
			p->snubbed_until_ms = 0;
			peer_pick(p);
		}
		if (elapsed_ms(now, p->last_tx_ms) >= sw->cfg.keepalive_ms) {
			peer_send_simple(p, SWARM_KEEPALIVE);
			peer_flush(p);
		}
		if (!p->dead)
			peer_trim(p);
	}
	if (elapsed_ms(now, c->round_start_ms) >=
	    sw->cfg.choke_interval_ms) {
		c->round_start_ms = now;
		choke_round(c);
	}
	hints_try(c);
	content_announce(c, now);
}

static void swarm_tick(void *arg)
{
	struct swarm *sw = arg;
	uint64_t now = time_mono_ms();
	struct swarm_peer *p, *next;

	if (content_store_pending(sw->st))
		swarm_store_flush(sw);
	for (struct swarm_content *c = sw->contents; c; c = c->next)
		content_tick(c, now);
	for (p = sw->pending; p; p = next) {
		next = p->next;
		if (elapsed_ms(now, p->last_rx_ms) >= sw->cfg.idle_timeout_ms)
			peer_drop(p, 0, "no handshake", true);
	}
	evloop_timer_arm(sw->tick, SWARM_TICK_MS);
}

/* The upload budget refills; peers that waited for it are served. */
static void swarm_up_tick(void *arg)
{
	struct swarm *sw = arg;

	up_add(sw, up_tick_bytes(sw));
	evloop_timer_arm(sw->up_timer, SWARM_UPLOAD_TICK_MS);
	if (!sw->up_waited || sw->up_tokens <= 0)
		return;
	sw->up_waited = false;
	for (struct swarm_content *c = sw->contents; c; c = c->next) {
		struct swarm_peer *p, *next;
		for (p = c->peers; p; p = next) {
			next = p->next;
			peer_flush(p);
		}
	}
}

/* The timers' callbacks on demand (swarm_internal.h). */
void swarm_tick_run(struct swarm *sw)
{
	swarm_tick(sw);
}

void swarm_upload_tick_run(struct swarm *sw)
{
	if (sw->up_timer)
		swarm_up_tick(sw);
}

/* ---- public ---- */

struct swarm *swarm_new(const struct swarm_config *cfg,
			const struct keys_and_cert *self,
			struct stream_mgr *mgr, struct content_store *st,
			struct evloop *el)
{
	struct swarm *sw = xzalloc(sizeof(*sw));

	sw->cfg = *cfg;
	sw->self = *self;
	sw->mgr = mgr;
	sw->st = st;
	sw->el = el;
	sw->tick = evloop_timer_new(el, swarm_tick, sw);
	evloop_timer_arm(sw->tick, SWARM_TICK_MS);
	if (cfg->upload_Bps) {
		sw->up_tokens = up_tick_bytes(sw);
		sw->up_timer = evloop_timer_new(el, swarm_up_tick, sw);
		evloop_timer_arm(sw->up_timer, SWARM_UPLOAD_TICK_MS);
	}
	stream_mgr_set_acceptor(mgr, swarm_accept, sw);
	return sw;
}

static void peer_free_now(struct swarm_peer *p)
{
	if (!p->dead && p->s) {
		stream_reset(p->s);
		stream_release(p->s);
	}
	peer_free_cb(p);
}

static void content_free(struct swarm_content *c)
{
	struct swarm_peer *p, *next;

	for (p = c->peers; p; p = next) {
		next = p->next;
		peer_free_now(p);
	}
	content_manifest_clear(&c->m);
	free(c->have);
	free(c->avail);
	free(c->req);
	free(c->banned);
	bbuf_free(&c->meta_buf);
	bbuf_free(&c->manifest);
	free(c);
}

void swarm_free(struct swarm *sw)
{
	struct swarm_peer *p, *next;

	if (!sw)
		return;
	stream_mgr_set_acceptor(sw->mgr, NULL, NULL);
	if (sw->flushing)
		sw->flushing->sw = NULL;
	flush_log(content_store_flush(sw->st));
	while (sw->contents) {
		struct swarm_content *c = sw->contents;
		sw->contents = c->next;
		content_free(c);
	}
	for (p = sw->pending; p; p = next) {
		next = p->next;
		peer_free_now(p);
	}
	evloop_timer_free(sw->tick);
	evloop_timer_free(sw->up_timer);
	free(sw->tr);
	free(sw);
}

void swarm_set_workers(struct swarm *sw, struct worker_pool *wp)
{
	sw->wp = wp;
}

void swarm_set_pay(struct swarm *sw, const struct swarm_pay_hooks *h)
{
	sw->has_pay = h != NULL;
	if (h)
		sw->pay = *h;
}

void swarm_set_chunk_cb(struct swarm *sw, swarm_chunk_fn fn, void *ctx)
{
	sw->chunk_cb = fn;
	sw->chunk_ctx = ctx;
}

/* Load manifest and have-bitmap of c from the store. */
static int content_load(struct swarm_content *c)
{
	struct swarm *sw = c->sw;
	uint8_t *bits = NULL;
	size_t blen;
	struct swarm_peer *p, *next;
	int r;

	if ((r = content_store_manifest(sw->st, c->hash, &c->m)) != 0)
		return r;
	if ((r = content_store_have(sw->st, c->hash, &bits, &blen)) != 0 ||
	    blen != (c->m.chunk_count + 7u) / 8) {
		free(bits);
		content_manifest_clear(&c->m);
		return r ? r : ERR_FORMAT;
	}
	c->have = bits;
	c->have_count = 0;
	for (uint32_t i = 0; i < c->m.chunk_count; i++)
		c->have_count += bit_get(bits, i);
	c->avail = xcalloc(c->m.chunk_count, sizeof(*c->avail));
	c->req = xcalloc(c->m.chunk_count, 1);
	c->unrequested = c->m.chunk_count - c->have_count;
	c->have_meta = true;
	for (p = c->peers; p; p = next) {
		next = p->next;
		if (peer_bits_apply(p) != 0) {
			peer_drop(p, SWARM_ERR_PROTOCOL, "bitfield size",
				  false);
			continue;
		}
		if (c->have_count) {
			struct swarm_msg m = { .type = SWARM_BITFIELD };
			m.u.bitfield.count = c->m.chunk_count;
			m.u.bitfield.bits = c->have;
			peer_send(p, &m);
		}
	}
	content_pick_all(c);
	return 0;
}

static struct swarm_content *content_new(struct swarm *sw,
					 const uint8_t hash[32],
					 enum swarm_pick_mode mode)
{
	struct swarm_content *c = xzalloc(sizeof(*c));

	c->sw = sw;
	memcpy(c->hash, hash, 32);
	c->mode = mode;
	c->round_start_ms = c->progress_ms = time_mono_ms();
	bbuf_init(&c->meta_buf);
	bbuf_init(&c->manifest);
	return c;
}

int swarm_content_add(struct swarm *sw, const uint8_t hash[32],
		      enum swarm_pick_mode mode)
{
	struct swarm_content *c;
	int r;

	if (content_find(sw, hash))
		return ERR_EXISTS;
	c = content_new(sw, hash, mode);
	if ((r = content_load(c)) != 0) {
		content_free(c);
		return r == ERR_IO ? ERR_NOT_FOUND : r;
	}
	c->next = sw->contents;
	sw->contents = c;
	content_announce(c, time_mono_ms());
	return 0;
}

int swarm_content_fetch(struct swarm *sw, const uint8_t hash[32],
			enum swarm_pick_mode mode)
{
	struct swarm_content *c;
	struct content_store_info info;

	if (content_find(sw, hash))
		return ERR_EXISTS;
	if (content_store_info(sw->st, hash, &info) == 0)
		return swarm_content_add(sw, hash, mode);
	c = content_new(sw, hash, mode);
	c->next = sw->contents;
	sw->contents = c;
	content_announce(c, time_mono_ms());
	return 0;
}

void swarm_content_remove(struct swarm *sw, const uint8_t hash[32])
{
	for (struct swarm_content **pc = &sw->contents; *pc;
	     pc = &(*pc)->next) {
		struct swarm_content *c = *pc;
		if (memcmp(c->hash, hash, 32) != 0)
			continue;
		*pc = c->next;
		while (c->peers)
			peer_drop(c->peers, SWARM_ERR_SHUTDOWN, "removed",
				  false);
		content_free(c);
		return;
	}
}

int swarm_peer_add(struct swarm *sw, const uint8_t hash[32],
		   const struct keys_and_cert *dest)
{
	struct swarm_content *c = content_find(sw, hash);
	struct swarm_peer *p;
	struct stream *s;
	int r;

	if (!c)
		return ERR_NOT_FOUND;
	if (memcmp(dest->hash, sw->self.hash, 32) == 0 ||
	    content_peer(c, dest->hash))
		return ERR_EXISTS;
	if (content_is_banned(c, dest->hash))
		return ERR_AUTH;
	if (c->npeers >= sw->cfg.max_peers)
		return ERR_LIMIT;
	p = peer_new(sw, NULL, true);
	memcpy(p->dest_hash, dest->hash, 32);
	r = stream_connect(sw->mgr, dest, SWARM_PORT, SWARM_PORT, peer_event,
			   p, &s);
	if (log_enabled(LOG_DEBUG)) {
		char h[72];
		log_debug(LD_APP, "swarm: connecting to %s: %s",
			  log_safe_hash(h, sizeof(h), dest->hash),
			  r ? err_str(r) : "ok");
	}
	if (r != 0) {
		peer_free_cb(p);
		return r;
	}
	p->s = s;
	p->c = c;
	p->next = c->peers;
	c->peers = p;
	c->npeers++;
	peer_send_handshake(p);
	peer_flush(p);
	return 0;
}

int swarm_seek(struct swarm *sw, const uint8_t hash[32], uint32_t idx)
{
	struct swarm_content *c = content_find(sw, hash);
	struct swarm_peer *p;

	if (!c)
		return ERR_NOT_FOUND;
	if (c->have_meta && idx >= c->m.chunk_count)
		return ERR_RANGE;
	c->pos = idx;
	/* Requests behind the new position that a peer has not started on
	 * yet are withdrawn, so the window goes first. */
	for (p = c->peers; p && c->have_meta; p = p->next) {
		for (unsigned i = p->n_inflight; i-- > 0;) {
			uint32_t k = p->inflight[i];
			if (k >= idx && k < idx + sw->cfg.window_chunks)
				continue;
			if (i == 0)
				break;			/* likely under way */
			peer_inflight_remove(p, k);
			peer_send_range(p, SWARM_CANCEL, k);
		}
	}
	content_pick_all(c);
	return 0;
}

int swarm_set_mode(struct swarm *sw, const uint8_t hash[32],
		   enum swarm_pick_mode mode)
{
	struct swarm_content *c = content_find(sw, hash);

	if (!c)
		return ERR_NOT_FOUND;
	c->mode = mode;
	return 0;
}

int swarm_chunk_lost(struct swarm *sw, const uint8_t hash[32], uint32_t idx)
{
	struct swarm_content *c = content_find(sw, hash);

	if (!c)
		return ERR_NOT_FOUND;
	if (!c->have_meta || idx >= c->m.chunk_count)
		return ERR_RANGE;
	content_unmark(c, idx);
	content_pick_all(c);
	return 0;
}

int swarm_play(struct swarm *sw, const uint8_t hash[32], uint32_t idx)
{
	struct swarm_content *c = content_find(sw, hash);

	if (!c)
		return ERR_NOT_FOUND;
	if (c->mode == SWARM_PICK_STREAMING && c->have_meta &&
	    idx < c->m.chunk_count && idx >= c->pos &&
	    idx - c->pos < sw->cfg.window_chunks) {
		c->pos = idx;
		content_pick_all(c);
		return 0;
	}
	c->mode = SWARM_PICK_STREAMING;
	return swarm_seek(sw, hash, idx);
}

int swarm_content_stats(struct swarm *sw, const uint8_t hash[32],
			struct swarm_content_stats *out)
{
	struct swarm_content *c = content_find(sw, hash);

	if (!c)
		return ERR_NOT_FOUND;
	*out = (struct swarm_content_stats){
		.chunk_count = c->have_meta ? c->m.chunk_count : 0,
		.have_count = c->have_count,
		.peers = c->npeers,
		.bytes_down = c->bytes_down,
		.bytes_up = c->bytes_up,
		.bad_pieces = c->bad_pieces,
		.request_timeouts = c->request_timeouts,
		.banned = c->nbanned,
	};
	return 0;
}

size_t swarm_peer_stats(struct swarm *sw, const uint8_t hash[32],
			struct swarm_peer_stats *out, size_t max)
{
	struct swarm_content *c = content_find(sw, hash);
	size_t n = 0;

	for (struct swarm_peer *p = c ? c->peers : NULL; p && n < max;
	     p = p->next, n++) {
		out[n] = (struct swarm_peer_stats){
			.we_choke = p->we_choke,
			.they_choke = p->they_choke,
			.we_interested = p->we_interested,
			.they_interested = p->they_interested,
			.have_count = p->have_count,
			.in_flight = p->n_inflight,
			.bytes_down = p->down,
			.bytes_up = p->up,
			.buffer_bytes = p->in_cap + p->out.cap,
			.has_stream = p->s != NULL,
		};
		if (p->s)
			stream_get_info(p->s, &out[n].stream);
		memcpy(out[n].dest_hash, p->dest_hash, 32);
	}
	return n;
}

bool swarm_is_banned(struct swarm *sw, const uint8_t hash[32],
		     const uint8_t dest_hash[32])
{
	struct swarm_content *c = content_find(sw, hash);

	return c && content_is_banned(c, dest_hash);
}

void swarm_set_lookup(struct swarm *sw, swarm_lookup_fn fn, void *ctx)
{
	sw->lookup = fn;
	sw->lookup_ctx = ctx;
}

int swarm_peer_hint(struct swarm *sw, const uint8_t hash[32],
		    const uint8_t dest_hash[32])
{
	struct swarm_content *c = content_find(sw, hash);

	if (!c)
		return ERR_NOT_FOUND;
	if (c->nhints == SWARM_HINTS_MAX)
		return ERR_LIMIT;
	hint_add(c, dest_hash);
	hints_try(c);
	return 0;
}

int swarm_tracker_add(struct swarm *sw, const uint8_t dest_hash[32])
{
	if (tracker_index(sw, dest_hash) < sw->ntrackers)
		return ERR_EXISTS;
	if (sw->ntrackers == SWARM_TRACKERS_MAX)
		return ERR_LIMIT;
	memcpy(sw->trackers[sw->ntrackers++], dest_hash, 32);
	for (struct swarm_content *c = sw->contents; c; c = c->next) {
		c->next_announce_ms[sw->ntrackers - 1] = 0;
		c->announce_fails[sw->ntrackers - 1] = 0;
	}
	return 0;
}

void swarm_set_tracker_role(struct swarm *sw, bool on)
{
	sw->tracker_role = on;
	/* Without it, a tracker's own fetches asked no tracker (unless it
	 * listed itself) and found no seeder. */
	if (on)
		(void)swarm_tracker_add(sw, sw->self.hash);
}

size_t swarm_tracker_list(struct swarm *sw, const uint8_t hash[32],
			  uint8_t (*out)[32], size_t max)
{
	size_t n = 0;

	tracker_expire(sw, time_mono_ms());
	for (size_t i = 0; i < sw->ntr && n < max; i++)
		if (memcmp(sw->tr[i].hash, hash, 32) == 0)
			memcpy(out[n++], sw->tr[i].dest, 32);
	return n;
}

void swarm_set_trace(struct swarm *sw, swarm_trace_fn fn, void *ctx)
{
	sw->trace = fn;
	sw->trace_ctx = ctx;
}
