/* Feed gossip over client datagrams (docs/feed.md §3). */
#include "config.h"
#include "apps/feed/gossip.h"
#include "apps/content/card.h"
#include "apps/content/record.h"
#include "apps/feed/ingest.h"
#include "apps/feed/pow.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/hash.h"
#include "router/datagram.h"
#include "router/evloop.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(CONTENT_CARD_MAX_BYTES <= FEED_ITEM_MAX_BYTES,
	       "a card fits an ITEM");
_Static_assert(FEED_MSG_MAX_BYTES <= DATAGRAM_MAX_PAYLOAD_BYTES,
	       "a message fits a datagram");

#define FEED_RL_SLOTS 256
/* Ids of items refused lately (bad signature or format, time, follow
 * policy), so reconciliation does not fetch them again and again. */
#define FEED_REFUSED_MAX 512

/* Token buckets keyed by 32 bytes (peer hash, creator key); the least
 * recently used slot is reused, so the table stays bounded. */
struct feed_rl_slot {
	uint8_t key[32];
	uint64_t milli;		/* tokens × 1000 */
	uint64_t last_ms;
	bool used;
};

struct feed_rl {
	struct feed_rl_slot slot[FEED_RL_SLOTS];
	uint64_t burst_milli;
	uint64_t per_hour_milli;	/* refill per hour, × 1000 */
};

struct feed_node {
	struct feed_node_cfg cfg;
	struct keys_and_cert *peers;	/* FEED_PEERS_MAX */
	unsigned peer_count;
	struct feed_rl peer_rl, creator_rl, favoured_rl;
	struct feed_rl reply_rl, reply_all_rl;	/* the latter: one key */
	uint8_t (*refused)[FEED_ID_BYTES];	/* FEED_REFUSED_MAX, a ring */
	unsigned refused_count, refused_next;
	/* Items from peers waiting for their checks (FEED_BATCH_MAX). */
	struct feed_in *pending;
	unsigned npending;
	/* With a loop and a pool: the batch whose checks run on the pool's
	 * workers while the loop stores the one before (FEED_BATCH_MAX),
	 * and an empty array to take over as pending. */
	struct feed_in *checking, *spare;
	unsigned nchecking;
	struct evloop_timer *flush;	/* NULL without a loop */
	struct feed_node_stats stats;
};

static void feed_refuse(struct feed_node *n, const uint8_t id[FEED_ID_BYTES])
{
	memcpy(n->refused[n->refused_next], id, FEED_ID_BYTES);
	n->refused_next = (n->refused_next + 1) % FEED_REFUSED_MAX;
	if (n->refused_count < FEED_REFUSED_MAX)
		n->refused_count++;
}

static bool feed_is_refused(const struct feed_node *n,
			    const uint8_t id[FEED_ID_BYTES])
{
	unsigned i;

	for (i = 0; i < n->refused_count; i++)
		if (!memcmp(n->refused[i], id, FEED_ID_BYTES))
			return true;
	return false;
}

static void feed_rl_init(struct feed_rl *rl, uint64_t burst,
			 uint64_t per_hour)
{
	memset(rl, 0, sizeof(*rl));
	rl->burst_milli = burst * 1000;
	rl->per_hour_milli = per_hour * 1000;
}

/* Take one token for key; false when its bucket is empty. */
static bool feed_rl_take(struct feed_rl *rl, const uint8_t key[32],
			 uint64_t now_ms)
{
	struct feed_rl_slot *s = NULL, *old = &rl->slot[0];
	unsigned i;

	for (i = 0; i < FEED_RL_SLOTS; i++) {
		if (rl->slot[i].used && !memcmp(rl->slot[i].key, key, 32)) {
			s = &rl->slot[i];
			break;
		}
		if (!rl->slot[i].used || (old->used &&
		    rl->slot[i].last_ms < old->last_ms))
			old = &rl->slot[i];
	}
	if (!s) {
		s = old;
		memcpy(s->key, key, 32);
		s->used = true;
		s->milli = rl->burst_milli;
		s->last_ms = now_ms;
	}
	if (now_ms > s->last_ms) {
		s->milli += (now_ms - s->last_ms) * rl->per_hour_milli /
			    3600000u;
		if (s->milli > rl->burst_milli)
			s->milli = rl->burst_milli;
		s->last_ms = now_ms;
	}
	if (s->milli < 1000)
		return false;
	s->milli -= 1000;
	return true;
}

static void feed_send(struct feed_node *n, const struct keys_and_cert *to,
		      const struct feed_msg *m)
{
	struct bbuf msg, dg;
	int r;

	bbuf_init(&msg);
	bbuf_init(&dg);
	r = feed_msg_encode(m, &msg);
	if (r == 0)
		r = client_dest_datagram_encode(n->cfg.dest, msg.data, msg.len,
						&dg);
	if (r == 0)
		r = n->cfg.net.send(n->cfg.net.ctx, n->cfg.dest, to,
				    DATAGRAM_PROTO_REPLIABLE, FEED_PORT,
				    FEED_PORT, dg.data, dg.len);
	if (r == 0)
		n->stats.tx_msgs++;
	else
		n->stats.tx_fail++;
	bbuf_free(&msg);
	bbuf_free(&dg);
}

/* May we give to another answer (see peer_replies_per_s)? */
static bool feed_reply_ok(struct feed_node *n, const struct keys_and_cert *to)
{
	static const uint8_t all[32];
	uint64_t now = time_mono_ms();

	if (feed_rl_take(&n->reply_rl, to->hash, now) &&
	    feed_rl_take(&n->reply_all_rl, all, now))
		return true;
	n->stats.replies_limited++;
	return false;
}

static void feed_send_item(struct feed_node *n,
			   const struct keys_and_cert *to,
			   enum feed_item_kind kind, const uint8_t *enc,
			   size_t len, uint64_t pow)
{
	struct feed_msg m = { .type = FEED_MSG_ITEM };

	m.u.item.kind = kind;
	m.u.item.pow = pow;
	m.u.item.len = (uint32_t)len;
	m.u.item.data = enc;
	feed_send(n, to, &m);
}

/* The checks that need no signature work (peer rate, dedup, proof of
 * work); 0 when the item goes on to the costly checks, with *pow_short
 * when its proof of work is enough only for a favoured creator. */
static int feed_precheck(struct feed_node *n, const uint8_t *from_hash,
			 const uint8_t id[FEED_ID_BYTES], uint64_t pow,
			 bool *pow_short)
{
	unsigned bits;
	bool queued = false;
	unsigned i;

	if (from_hash && !feed_rl_take(&n->peer_rl, from_hash,
				       time_mono_ms())) {
		n->stats.rej_peer_rate++;
		return ERR_LIMIT;
	}
	for (i = 0; i < n->npending && !queued; i++)
		queued = !memcmp(n->pending[i].id, id, FEED_ID_BYTES);
	for (i = 0; i < n->nchecking && !queued; i++)
		queued = !memcmp(n->checking[i].id, id, FEED_ID_BYTES);
	if (queued || feed_store_has(n->cfg.store, id)) {
		n->stats.items_dup++;
		return ERR_DUPLICATE;
	}
	*pow_short = false;
	if (n->cfg.pow_bits == FEED_POW_NONE)
		return 0;
	bits = feed_pow_bits(id, pow);
	if (bits >= n->cfg.pow_bits)
		return 0;
	if (n->cfg.favoured && bits >= n->cfg.pow_bits_favoured) {
		*pow_short = true;
		return 0;
	}
	n->stats.rej_pow++;
	return ERR_LIMIT;
}

/* After feed_in_check: the checks that need state, then the store. 0
 * when the item is new here. */
static int feed_admit(struct feed_node *n, struct feed_in *it)
{
	uint64_t now_ms = time_mono_ms(), now_s = time_now_s();
	const struct ed25519_pk *who;
	uint64_t created;
	bool refuse = true;	/* until the checks that are final pass */
	bool favoured = false;
	int r = it->r;

	if (r < 0) {
		if (r == ERR_BAD_SIG)
			n->stats.rej_sig++;
		else
			n->stats.rej_format++;
		goto out;
	}
	who = it->card ? &it->card->creator : &it->rec.author;
	created = it->card ? it->card->created : it->rec.created;
	if (n->cfg.favoured)
		favoured = n->cfg.favoured(n->cfg.favoured_ctx, who,
					   it->card ? it->card->did : "");
	if (it->pow_short && !favoured) {
		n->stats.rej_pow++;
		r = ERR_LIMIT;
		goto out;
	}
	if (created > now_s + FEED_MAX_SKEW_S ||
	    (n->cfg.retention_days && created + (uint64_t)n->cfg.retention_days *
	     FEED_BUCKET_SECS < now_s)) {
		n->stats.rej_time++;
		r = ERR_EXPIRED;
		goto out;
	}
	if (feed_store_is_blocked(n->cfg.store, who)) {
		n->stats.rej_blocked++;
		r = ERR_AUTH;
		goto out;
	}
	if (!it->card && it->rec.kind == CONTENT_RECORD_DELETE) {
		struct ed25519_pk creator;

		/* A card not here yet is checked when it comes: the store
		 * honours only its creator's deletions. */
		if (feed_store_card_creator(n->cfg.store, it->rec.card_id,
					    &creator) == 0 &&
		    memcmp(creator.b, who->b, 32)) {
			n->stats.rej_delete++;
			r = ERR_AUTH;
			goto out;
		}
	}
	if (n->cfg.followed_only &&
	    (it->card ? !feed_store_is_followed(n->cfg.store, who) :
	     !feed_store_has(n->cfg.store, it->rec.card_id))) {
		n->stats.rej_follow++;
		r = ERR_LIMIT;
		goto out;
	}
	refuse = false;
	if (!feed_rl_take(favoured ? &n->favoured_rl : &n->creator_rl, who->b,
			  now_ms)) {
		n->stats.rej_creator_rate++;
		r = ERR_LIMIT;
		goto out;
	}
	r = it->card ? feed_store_put_card(n->cfg.store, it->card, it->enc,
					   it->len, it->id, it->pow) :
		       feed_store_put_record(n->cfg.store, &it->rec, it->enc,
					     it->len, it->id, it->pow);
	if (r == 0)
		n->stats.items_new++;
	if (r == 0 && favoured)
		n->stats.favoured++;
	if (r == 0 && it->card && n->cfg.followed_only)	/* records of it */
		n->refused_count = n->refused_next = 0;
	else if (r == ERR_DUPLICATE)
		n->stats.items_dup++;
out:
	if (refuse)
		feed_refuse(n, it->id);
	return r;
}

static void feed_push(struct feed_node *n, const uint8_t *from_hash,
		      enum feed_item_kind kind, const uint8_t *enc,
		      size_t len, uint64_t pow);

/* Store the checked items[0..k) that pass in one transaction, then push
 * them on. */
static void feed_admit_batch(struct feed_node *n, struct feed_in *items,
			     unsigned k)
{
	int *res = xcalloc(k ? k : 1, sizeof(*res));
	bool batch = feed_store_begin(n->cfg.store) == 0;
	unsigned i;

	for (i = 0; i < k; i++)
		res[i] = feed_admit(n, &items[i]);
	if (batch && feed_store_commit(n->cfg.store) < 0)
		for (i = 0; i < k; i++)
			res[i] = ERR_IO;
	for (i = 0; i < k; i++) {
		struct feed_in *it = &items[i];

		if (res[i] == 0)
			feed_push(n, it->has_from ? it->from : NULL, it->kind,
				  it->enc, it->len, it->pow);
		feed_in_clear(it);
	}
	free(res);
}

/*
 * Move the queued items on.  With a loop and a pool the checks are a
 * pipeline: the batch checked on the pool's workers since the last call
 * is stored while the workers check the queued one, which the next loop
 * pass stores; otherwise the queued items are checked (on the pool's
 * threads and ours) and stored at once.
 */
static void feed_flush(void *arg)
{
	struct feed_node *n = arg;
	struct feed_in *ready = NULL;
	unsigned nready = 0;

	if (n->flush)
		evloop_timer_disarm(n->flush);
	if (!n->flush || !n->cfg.pool) {
		unsigned k = n->npending;

		feed_in_check(n->cfg.pool, n->pending, k);
		n->npending = 0;	/* nothing below re-enters */
		feed_admit_batch(n, n->pending, k);
		return;
	}
	if (n->nchecking) {
		content_pool_finish(n->cfg.pool);
		ready = n->checking;
		nready = n->nchecking;
		n->checking = n->spare;
		n->spare = NULL;
		n->nchecking = 0;
	}
	if (n->npending) {
		struct feed_in *t = n->checking;

		n->checking = n->pending;
		n->nchecking = n->npending;
		n->pending = t;
		n->npending = 0;
		feed_in_check_start(n->cfg.pool, n->checking, n->nchecking);
		evloop_timer_arm(n->flush, 0);	/* stored next pass */
	}
	if (ready) {
		feed_admit_batch(n, ready, nready);
		n->spare = ready;
	}
}

/* Queue an item from a peer for the costly checks. */
static void feed_take(struct feed_node *n, const uint8_t from_hash[32],
		      enum feed_item_kind kind, const uint8_t *enc,
		      size_t len, uint64_t pow)
{
	struct feed_in *it = &n->pending[n->npending];
	uint8_t id[FEED_ID_BYTES];
	bool pow_short;

	sha256(id, enc, len);
	if (feed_precheck(n, from_hash, id, pow, &pow_short) < 0)
		return;
	feed_in_init(it, kind, enc, len);
	it->pow = pow;
	it->pow_short = pow_short;
	it->has_from = true;
	memcpy(it->from, from_hash, 32);
	n->npending++;
	if (n->npending == FEED_BATCH_MAX || !n->flush)
		feed_flush(n);
	else if (!evloop_timer_is_armed(n->flush))
		evloop_timer_arm(n->flush, 0);
}

/* Push a new item to every peer but its source. */
static void feed_push(struct feed_node *n, const uint8_t *from_hash,
		      enum feed_item_kind kind, const uint8_t *enc,
		      size_t len, uint64_t pow)
{
	unsigned i;

	for (i = 0; i < n->peer_count; i++)
		if (!from_hash || memcmp(n->peers[i].hash, from_hash, 32))
			feed_send_item(n, &n->peers[i], kind, enc, len, pow);
}

static void feed_on_summary(struct feed_node *n,
			    const struct keys_and_cert *from,
			    const struct feed_msg *m)
{
	struct feed_msg req = { .type = FEED_MSG_IDS_REQ };
	struct feed_bucket_sum mine;
	unsigned i;

	if (!feed_reply_ok(n, from))	/* up to 64 bucket digests */
		return;
	for (i = 0; i < m->u.summary.n; i++) {
		const struct feed_bucket_sum *b = &m->u.summary.b[i];

		if (feed_store_bucket_sum(n->cfg.store, b->bucket, &mine) < 0)
			return;
		if (mine.count == b->count &&
		    !memcmp(mine.digest, b->digest, FEED_DIGEST_BYTES))
			continue;
		req.u.ids_req.bucket[req.u.ids_req.n++] = b->bucket;
		if (req.u.ids_req.n == FEED_IDS_REQ_MAX) {
			feed_send(n, from, &req);
			req.u.ids_req.n = 0;
		}
	}
	if (req.u.ids_req.n)
		feed_send(n, from, &req);
}

static void feed_on_ids_req(struct feed_node *n,
			    const struct keys_and_cert *from,
			    const struct feed_msg *m)
{
	uint8_t *ids = xmalloc((size_t)FEED_IDS_MAX * FEED_ID_BYTES);
	struct feed_msg out = { .type = FEED_MSG_IDS };
	unsigned i, skip, got;

	for (i = 0; i < m->u.ids_req.n; i++) {
		bool again = false;

		for (unsigned k = 0; k < i && !again; k++)
			again = m->u.ids_req.bucket[k] ==
				m->u.ids_req.bucket[i];
		for (skip = 0; !again && skip < FEED_IDS_REPLY_MAX;
		     skip += got) {
			if (feed_store_bucket_ids(n->cfg.store,
						  m->u.ids_req.bucket[i], skip,
						  ids, FEED_IDS_MAX, &got) < 0 ||
			    got == 0)
				break;
			if (!feed_reply_ok(n, from))
				goto out;
			out.u.ids.bucket = m->u.ids_req.bucket[i];
			out.u.ids.n = (uint16_t)got;
			out.u.ids.ids = ids;
			feed_send(n, from, &out);
			if (got < FEED_IDS_MAX)
				break;
		}
	}
out:
	free(ids);
}

static void feed_on_ids(struct feed_node *n, const struct keys_and_cert *from,
			const struct feed_msg *m)
{
	uint8_t *want = xmalloc((size_t)FEED_WANT_MAX * FEED_ID_BYTES);
	struct feed_msg out = { .type = FEED_MSG_WANT };
	unsigned i, k = 0;

	for (i = 0; i < m->u.ids.n; i++) {
		const uint8_t *id = m->u.ids.ids + (size_t)i * FEED_ID_BYTES;

		if (feed_store_has(n->cfg.store, id) || feed_is_refused(n, id))
			continue;
		memcpy(want + (size_t)k * FEED_ID_BYTES, id, FEED_ID_BYTES);
		if (++k == FEED_WANT_MAX || i + 1 == m->u.ids.n) {
			out.u.ids.n = (uint16_t)k;
			out.u.ids.ids = want;
			feed_send(n, from, &out);
			k = 0;
		}
	}
	if (k) {
		out.u.ids.n = (uint16_t)k;
		out.u.ids.ids = want;
		feed_send(n, from, &out);
	}
	free(want);
}

static void feed_on_want(struct feed_node *n, const struct keys_and_cert *from,
			 const struct feed_msg *m)
{
	enum feed_item_kind kind;
	struct bbuf item;
	uint64_t pow;
	unsigned i;

	bbuf_init(&item);
	for (i = 0; i < m->u.ids.n; i++) {
		const uint8_t *id = m->u.ids.ids + (size_t)i * FEED_ID_BYTES;
		bool again = false;

		for (unsigned k = 0; k < i && !again; k++)
			again = !memcmp(m->u.ids.ids + (size_t)k *
					FEED_ID_BYTES, id, FEED_ID_BYTES);
		bbuf_reset(&item);
		if (again || feed_store_get_item(n->cfg.store, id, &kind,
						 &item, &pow) != 0)
			continue;
		if (!feed_reply_ok(n, from))
			break;
		feed_send_item(n, from, kind, item.data, item.len, pow);
	}
	bbuf_free(&item);
}

static void feed_on_datagram(void *ctx, uint8_t proto, uint16_t src_port,
			     uint16_t dst_port, const uint8_t *data,
			     size_t len)
{
	struct feed_node *n = ctx;
	struct keys_and_cert *from;
	const uint8_t *payload;
	struct feed_msg m;
	size_t plen;

	(void)src_port;
	if (dst_port != FEED_PORT)
		return;
	n->stats.rx_msgs++;
	if (proto != DATAGRAM_PROTO_REPLIABLE) {
		n->stats.rx_bad++;
		return;
	}
	from = xmalloc(sizeof(*from));
	if (datagram_repliable_decode(data, len, from, &payload, &plen) < 0 ||
	    feed_msg_decode(payload, plen, &m) < 0) {
		n->stats.rx_bad++;
		goto out;
	}
	switch (m.type) {
	case FEED_MSG_SUMMARY:
		feed_on_summary(n, from, &m);
		break;
	case FEED_MSG_IDS_REQ:
		feed_on_ids_req(n, from, &m);
		break;
	case FEED_MSG_IDS:
		feed_on_ids(n, from, &m);
		break;
	case FEED_MSG_WANT:
		feed_on_want(n, from, &m);
		break;
	case FEED_MSG_ITEM:
		feed_take(n, from->hash, m.u.item.kind, m.u.item.data,
			  m.u.item.len, m.u.item.pow);
		break;
	}
out:
	free(from);
}

int feed_node_new(const struct feed_node_cfg *cfg, struct feed_node **out)
{
	struct feed_node *n = xzalloc(sizeof(*n));
	struct client_rx rx = { .datagram = feed_on_datagram, .ctx = n };
	int r;

	n->cfg = *cfg;
	if (!n->cfg.peer_items_per_s)
		n->cfg.peer_items_per_s = 50;
	if (!n->cfg.peer_burst)
		n->cfg.peer_burst = 500;
	if (!n->cfg.peer_replies_per_s)
		n->cfg.peer_replies_per_s = 64;
	if (!n->cfg.peer_reply_burst)
		n->cfg.peer_reply_burst = 1024;
	if (!n->cfg.creator_items_per_hour)
		n->cfg.creator_items_per_hour = 60;
	if (!n->cfg.creator_burst)
		n->cfg.creator_burst = 60;
	if (!n->cfg.pow_bits)
		n->cfg.pow_bits = FEED_POW_BITS_DEFAULT;
	else if (n->cfg.pow_bits != FEED_POW_NONE &&
		 n->cfg.pow_bits > FEED_POW_BITS_MAX)
		n->cfg.pow_bits = FEED_POW_BITS_MAX;
	if (!n->cfg.pow_bits_favoured || n->cfg.pow_bits_favoured >
	    n->cfg.pow_bits)
		n->cfg.pow_bits_favoured = n->cfg.pow_bits > 4 ?
					   (uint8_t)(n->cfg.pow_bits - 4) : 0;
	feed_rl_init(&n->peer_rl, n->cfg.peer_burst,
		     (uint64_t)n->cfg.peer_items_per_s * 3600);
	feed_rl_init(&n->reply_rl, n->cfg.peer_reply_burst,
		     (uint64_t)n->cfg.peer_replies_per_s * 3600);
	feed_rl_init(&n->reply_all_rl, 4ull * n->cfg.peer_reply_burst,
		     4ull * n->cfg.peer_replies_per_s * 3600);
	feed_rl_init(&n->creator_rl, n->cfg.creator_burst,
		     n->cfg.creator_items_per_hour);
	feed_rl_init(&n->favoured_rl, (uint64_t)n->cfg.creator_burst *
		     FEED_FAVOUR_FACTOR, (uint64_t)n->cfg.creator_items_per_hour *
		     FEED_FAVOUR_FACTOR);
	n->peers = xcalloc(FEED_PEERS_MAX, sizeof(*n->peers));
	n->refused = xcalloc(FEED_REFUSED_MAX, sizeof(*n->refused));
	n->pending = xcalloc(FEED_BATCH_MAX, sizeof(*n->pending));
	n->checking = xcalloc(FEED_BATCH_MAX, sizeof(*n->checking));
	n->spare = xcalloc(FEED_BATCH_MAX, sizeof(*n->spare));
	if (n->cfg.el)
		n->flush = evloop_timer_new(n->cfg.el, feed_flush, n);
	r = n->cfg.net.attach(n->cfg.net.ctx, n->cfg.dest, &rx);
	if (r < 0) {
		evloop_timer_free(n->flush);
		free(n->spare);
		free(n->checking);
		free(n->pending);
		free(n->refused);
		free(n->peers);
		free(n);
		return r;
	}
	*out = n;
	return 0;
}

void feed_node_free(struct feed_node *n)
{
	unsigned i;

	if (!n)
		return;
	n->cfg.net.detach(n->cfg.net.ctx, n->cfg.dest);
	if (n->nchecking)
		content_pool_wait(n->cfg.pool);
	for (i = 0; i < n->nchecking; i++)	/* not stored: dropped */
		feed_in_clear(&n->checking[i]);
	for (i = 0; i < n->npending; i++)	/* unchecked: dropped */
		feed_in_clear(&n->pending[i]);
	evloop_timer_free(n->flush);
	free(n->spare);
	free(n->checking);
	free(n->pending);
	free(n->refused);
	free(n->peers);
	free(n);
}

int feed_node_add_peer(struct feed_node *n, const struct keys_and_cert *peer)
{
	unsigned i;

	for (i = 0; i < n->peer_count; i++)
		if (!memcmp(n->peers[i].hash, peer->hash, 32))
			return ERR_EXISTS;
	if (n->peer_count == FEED_PEERS_MAX)
		return ERR_LIMIT;
	n->peers[n->peer_count++] = *peer;
	return 0;
}

int feed_node_block(struct feed_node *n, const struct ed25519_pk *creator,
		    bool on)
{
	if (!on)
		n->refused_count = n->refused_next = 0;	/* wanted again */
	return feed_store_block(n->cfg.store, creator, on);
}

int feed_node_follow(struct feed_node *n, const struct ed25519_pk *creator,
		     bool on)
{
	n->refused_count = n->refused_next = 0;	/* worth fetching again */
	return feed_store_follow(n->cfg.store, creator, on);
}

void feed_node_round(struct feed_node *n)
{
	struct feed_msg m = { .type = FEED_MSG_SUMMARY };
	unsigned i, k = 0;

	if (n->cfg.retention_days) {
		uint64_t now_b = time_now_s() / FEED_BUCKET_SECS;

		if (now_b > n->cfg.retention_days)
			feed_store_expire(n->cfg.store, (uint32_t)(now_b -
					  n->cfg.retention_days));
	}
	if (feed_store_summary(n->cfg.store, m.u.summary.b,
			       FEED_SUMMARY_MAX_BUCKETS, &k) < 0)
		return;
	m.u.summary.n = (uint8_t)k;
	for (i = 0; i < n->peer_count; i++)
		feed_send(n, &n->peers[i], &m);
}

int feed_node_publish(struct feed_node *n, enum feed_item_kind kind,
		      const uint8_t *enc, size_t len)
{
	struct feed_in it;
	int r;

	if (len == 0 || len > FEED_ITEM_MAX_BYTES ||
	    (kind != FEED_ITEM_CARD && kind != FEED_ITEM_RECORD))
		return ERR_FORMAT;
	while (n->npending || n->nchecking)	/* keep the order items came in */
		feed_flush(n);
	feed_in_init(&it, kind, enc, len);
	if (n->cfg.pow_bits != FEED_POW_NONE)
		it.pow = feed_pow_solve(it.id, n->cfg.pow_bits);
	r = feed_precheck(n, NULL, it.id, it.pow, &it.pow_short);
	if (r == 0) {
		feed_in_check_one(&it);
		r = feed_admit(n, &it);
	}
	if (r == 0)
		feed_push(n, NULL, kind, enc, len, it.pow);
	feed_in_clear(&it);
	return r;
}

unsigned feed_node_pending(const struct feed_node *n)
{
	return n->npending + n->nchecking;
}

const struct feed_node_stats *feed_node_get_stats(const struct feed_node *n)
{
	return &n->stats;
}
