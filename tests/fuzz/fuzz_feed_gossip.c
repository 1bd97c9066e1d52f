/*
 * libFuzzer target: received gossip at a real feed node (apps/feed/gossip.c)
 * and its store (apps/feed/store.c: SQLite in a directory made once per
 * process).  The node is attached to a client_net of our own: its receive
 * hook is the node's datagram handler, its send hook catches every reply
 * and push.  Between inputs the node is made anew and the store emptied,
 * but for one bucket far ahead of the inputs' clock, filled once with more
 * records than one IDS message carries (so that IDS_REQ answers of several
 * messages stay cheap to reach).
 *
 * Input: 4 bytes of node settings
 *   h0  bit 0 followed creators only, bits 1-2 proof of work (none, 2, 4,
 *       8 bits), bit 3 favoured creators (those whose key starts odd),
 *       bit 4 a 30-day retention, bits 5-7 senders 0-2 are peers
 *   h1  peer burst, h2 creator burst (mod 64), h3 items per second per
 *       peer (low 4 bits) and 8 × items per hour per creator (high 4);
 *       0 takes the defaults
 * then chunks of
 *   u8 op ‖ u8 arg ‖ u16 len (BE) ‖ len bytes
 * op & 7 says what the chunk is; op >> 3 moves both clocks on by that many
 * seconds first.  arg & 3 picks one of four sender destinations.  Chunks:
 *   0  a feed message (the bytes), sent as a signed repliable datagram
 *   1  a whole datagram (the bytes, unsigned as they come; arg bit 2: raw
 *      protocol, bit 3: another port)
 *   2  a card built from the bytes and signed by one of six creators
 *   3  a record built from the bytes, about a card of this input
 *   4  IDS or WANT (arg bit 2) naming ids of this input's items
 *   5  SUMMARY or IDS_REQ (arg bit 2) naming their buckets
 *   6  a local call (arg bits 2-4): round, follow, unfollow, block,
 *      unblock, publish a card or a record, hours pass
 *   7  an item of this input sent again
 * In 2 and 3, arg bit 2 flips one byte of the signed encoding and bit 3
 * takes the proof-of-work nonce from the bytes instead of solving it.
 *
 * Properties: no crash or sanitizer report; every datagram the node sends
 * is a repliable datagram from it on the feed port whose payload decodes
 * (feed_msg_decode) within FEED_MSG_MAX_BYTES, of the type the message it
 * answers calls for, to its sender (replies) or to a peer other than the
 * source (pushes), and within the counts the handler documents (IDS_REQ
 * per 16 buckets, IDS per 512 of FEED_IDS_REPLY_MAX ids a bucket, WANT
 * only of ids offered and missing, ITEM only of ids wanted and held); an
 * item is stored only when signed by its creator, with enough proof of
 * work, in time, not blocked, followed when the node keeps followed
 * creators only, and within the per-peer and per-creator rates; the
 * store holds exactly the items the node counts as new; nothing leaks
 * from one input to the next.
 */
#include "config.h"
#include "apps/client/dest.h"
#include "apps/client/net.h"
#include "apps/content/card.h"
#include "apps/content/record.h"
#include "apps/content/signer.h"
#include "apps/feed/gossip.h"
#include "apps/feed/msg.h"
#include "apps/feed/pow.h"
#include "apps/feed/store.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/hash.h"
#include "router/datagram.h"
#include "router/keys_and_cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSENDERS 4
#define NCREATORS 6
#define NITEMS 64		/* items of one input kept for references */
#define VERIFY_REPLIES 4	/* replies per input whose signature we check */
#define START_S (1767225600u + 40 * FEED_BUCKET_SECS)	/* 2026-02-10 */
#define MAX_AGE_S (60 * FEED_BUCKET_SECS)
#define IDS_MSGS_PER_BUCKET (FEED_IDS_REPLY_MAX / FEED_IDS_MAX)
/* The full bucket, and the clock kept two days short of it. */
#define FULL_BUCKET (START_S / FEED_BUCKET_SECS + 1000)
#define FULL_COUNT (FEED_IDS_MAX + 8)
#define CLOCK_MAX_MS ((uint64_t)(FULL_BUCKET - 2) * FEED_BUCKET_SECS * 1000)

static char dir[64], db[96], wal[112], shm[112];
static struct feed_store *store;
static struct client_dest *self, *senders[NSENDERS];
static struct ed25519_seed cseed[NCREATORS];
static struct content_signer csigner[NCREATORS];
static size_t self_prefix;	/* bytes before the payload in our datagrams */
static struct client_rx node_rx;
static bool attached;

struct item_ref {
	uint8_t id[FEED_ID_BYTES];
	uint32_t bucket;
	enum feed_item_kind kind;
	uint8_t *enc;
	size_t len;
	uint64_t pow;
};

enum ctx_kind { CTX_NONE, CTX_MSG, CTX_ROUND, CTX_PUBLISH };

/* The state of one input. */
static struct {
	struct feed_node *node;
	bool followed_only, favoured, retention;
	uint8_t pow_bits, pow_bits_favoured;
	uint32_t peer_burst, peer_per_s, creator_burst, creator_per_h;
	bool peer[NSENDERS];
	unsigned npeers;
	uint64_t t0_ms, now_ms;
	struct item_ref items[NITEMS];
	unsigned nitems;
	unsigned verified;
	bool followed[NCREATORS], blocked[NCREATORS];
	uint64_t from_new[NSENDERS], creator_new[NCREATORS];
	/* What the node may send now and what it sent. */
	enum ctx_kind ctx;
	struct feed_msg in;		/* CTX_MSG: the message handled */
	uint8_t from[32];		/* CTX_MSG: its sender */
	uint8_t item_id[FEED_ID_BYTES];	/* CTX_PUBLISH, CTX_MSG ITEM */
	unsigned sent[FEED_MSG_ITEM + 1];
	unsigned want_ids;
} s;

static void cleanup(void)
{
	feed_store_free(store);
	store = NULL;
	unlink(wal);
	unlink(shm);
	unlink(db);
	rmdir(dir);
}

static int n_attach(void *ctx, const struct client_dest *d,
		    const struct client_rx *rx)
{
	(void)ctx;
	if (attached || d != self)
		abort();
	node_rx = *rx;
	attached = true;
	return 0;
}

static void n_detach(void *ctx, const struct client_dest *d)
{
	(void)ctx;
	if (!attached || d != self)
		abort();
	attached = false;
}

static int n_lookup(void *ctx, const uint8_t hash[32],
		    struct keys_and_cert *out)
{
	(void)ctx, (void)hash, (void)out;
	return ERR_NOT_FOUND;
}

/* The sender index of a destination hash, or -1. */
static int sender_of(const uint8_t hash[32])
{
	int i;

	for (i = 0; i < NSENDERS; i++)
		if (!memcmp(client_dest_pub(senders[i])->hash, hash, 32))
			return i;
	return -1;
}

static bool is_peer(const uint8_t hash[32])
{
	int i = sender_of(hash);

	return i >= 0 && s.peer[i];
}

static bool has_id(const uint8_t *ids, unsigned n, const uint8_t *id)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (!memcmp(ids + (size_t)i * FEED_ID_BYTES, id, FEED_ID_BYTES))
			return true;
	return false;
}

/* A repliable datagram's sender and payload without its signature check
 * (what the node will decode, so that we know what it may answer). */
static int dg_open(const uint8_t *dg, size_t len, struct keys_and_cert *from,
		   const uint8_t **payload, size_t *plen)
{
	struct breader r;
	size_t siglen;

	br_init(&r, dg, len);
	if (keys_and_cert_decode(&r, from) != 0)
		return -1;
	siglen = keys_and_cert_sig_len(from);
	if (siglen == 0 || !br_take(&r, siglen) || r.failed ||
	    br_left(&r) > DATAGRAM_MAX_PAYLOAD_BYTES)
		return -1;
	*plen = br_left(&r);
	*payload = br_take(&r, *plen);
	return 0;
}

static void check_reply(const struct keys_and_cert *to, const struct feed_msg *m)
{
	const struct feed_msg *in = &s.in;
	uint8_t id[FEED_ID_BYTES];
	struct feed_bucket_sum sum;
	unsigned i;
	bool found;

	s.sent[m->type]++;
	switch (m->type) {
	case FEED_MSG_SUMMARY:	/* our own, each round, to the peers */
		if (s.ctx != CTX_ROUND || !is_peer(to->hash))
			abort();
		for (i = 0; i < m->u.summary.n; i++)
			if (feed_store_bucket_sum(store, m->u.summary.b[i].bucket,
						  &sum) != 0 ||
			    sum.count != m->u.summary.b[i].count ||
			    memcmp(sum.digest, m->u.summary.b[i].digest,
				   FEED_DIGEST_BYTES))
				abort();
		return;
	case FEED_MSG_IDS_REQ:	/* buckets of a SUMMARY that differ here */
		if (s.ctx != CTX_MSG || in->type != FEED_MSG_SUMMARY ||
		    memcmp(to->hash, s.from, 32))
			abort();
		for (i = 0; i < m->u.ids_req.n; i++) {
			unsigned j;

			for (j = 0; j < in->u.summary.n; j++)
				if (in->u.summary.b[j].bucket ==
				    m->u.ids_req.bucket[i])
					break;
			if (j == in->u.summary.n ||
			    feed_store_bucket_sum(store, m->u.ids_req.bucket[i],
						  &sum) != 0 ||
			    (sum.count == in->u.summary.b[j].count &&
			     !memcmp(sum.digest, in->u.summary.b[j].digest,
				     FEED_DIGEST_BYTES)))
				abort();
		}
		return;
	case FEED_MSG_IDS:	/* held ids (the first 16 looked up) of a
				 * bucket asked for, ascending */
		if (s.ctx != CTX_MSG || in->type != FEED_MSG_IDS_REQ ||
		    memcmp(to->hash, s.from, 32) || m->u.ids.n == 0)
			abort();
		for (i = 0, found = false; i < in->u.ids_req.n; i++)
			found |= in->u.ids_req.bucket[i] == m->u.ids.bucket;
		if (!found)
			abort();
		for (i = 0; i < m->u.ids.n; i++) {
			const uint8_t *p = m->u.ids.ids + (size_t)i * FEED_ID_BYTES;

			if ((i < 16 && !feed_store_has(store, p)) ||
			    (i && memcmp(p - FEED_ID_BYTES, p, FEED_ID_BYTES) >= 0))
				abort();
		}
		return;
	case FEED_MSG_WANT:	/* offered ids we lack */
		if (s.ctx != CTX_MSG || in->type != FEED_MSG_IDS ||
		    memcmp(to->hash, s.from, 32))
			abort();
		for (i = 0; i < m->u.ids.n; i++) {
			const uint8_t *p = m->u.ids.ids + (size_t)i * FEED_ID_BYTES;

			if (!has_id(in->u.ids.ids, in->u.ids.n, p) ||
			    feed_store_has(store, p))
				abort();
		}
		s.want_ids += m->u.ids.n;
		return;
	case FEED_MSG_ITEM:
		sha256(id, m->u.item.data, m->u.item.len);
		if (s.ctx == CTX_MSG && in->type == FEED_MSG_WANT) {
			/* an answer: an item wanted and held */
			if (memcmp(to->hash, s.from, 32) ||
			    !has_id(in->u.ids.ids, in->u.ids.n, id) ||
			    !feed_store_has(store, id))
				abort();
			return;
		}
		/* a push of the item just taken, to a peer not its source */
		if (!((s.ctx == CTX_MSG && in->type == FEED_MSG_ITEM) ||
		      s.ctx == CTX_PUBLISH) ||
		    !is_peer(to->hash) || memcmp(id, s.item_id, FEED_ID_BYTES) ||
		    (s.ctx == CTX_MSG && !memcmp(to->hash, s.from, 32)) ||
		    !feed_store_has(store, id))
			abort();
		return;
	}
	abort();
}

static int n_send(void *ctx, const struct client_dest *from,
		  const struct keys_and_cert *to, uint8_t proto,
		  uint16_t sp, uint16_t dp, const uint8_t *data, size_t len)
{
	const struct keys_and_cert *me = client_dest_pub(self);
	struct keys_and_cert *k;
	const uint8_t *p;
	struct feed_msg m;
	size_t plen;

	(void)ctx;
	if (from != self || proto != DATAGRAM_PROTO_REPLIABLE ||
	    sp != FEED_PORT || dp != FEED_PORT || len < self_prefix ||
	    len - self_prefix > FEED_MSG_MAX_BYTES ||
	    memcmp(data, me->raw, me->len))
		abort();
	p = data + self_prefix;
	plen = len - self_prefix;
	if (s.verified < VERIFY_REPLIES) {	/* signed by the node */
		const uint8_t *q;
		size_t qlen;

		k = malloc(sizeof(*k));
		if (!k || datagram_repliable_decode(data, len, k, &q, &qlen) != 0 ||
		    memcmp(k->hash, me->hash, 32) || q != p || qlen != plen)
			abort();
		free(k);
		s.verified++;
	}
	if (feed_msg_decode(p, plen, &m) != 0)
		abort();
	check_reply(to, &m);
	return 0;
}

static bool favoured_cb(void *ctx, const struct ed25519_pk *creator,
			const char *did)
{
	(void)ctx, (void)did;
	return creator->b[0] & 1;
}

/* FULL_COUNT records put straight into FULL_BUCKET (the store trusts its
 * callers: the encodings are placeholders that only a WANT sends on). */
static void fill_full_bucket(void)
{
	struct content_record rec;
	uint8_t enc[96], id[FEED_ID_BYTES];
	uint32_t i;

	memset(&rec, 0, sizeof(rec));
	rec.kind = CONTENT_RECORD_VIEW;
	rec.created = (uint64_t)FULL_BUCKET * FEED_BUCKET_SECS + 1;
	memset(rec.card_id, 0xcc, 32);
	if (feed_store_begin(store) != 0)
		abort();
	for (i = 0; i < FULL_COUNT; i++) {
		memset(enc, 0, sizeof(enc));
		memcpy(enc, "full", 4);
		memcpy(enc + 4, &i, sizeof(i));
		memcpy(rec.author.b, enc, 8);
		sha256(id, enc, sizeof(enc));
		if (feed_store_put_record(store, &rec, enc, sizeof(enc), id,
					  0) != 0)
			abort();
	}
	if (feed_store_commit(store) != 0)
		abort();
}

static void setup(void)
{
	struct bbuf b = BBUF_INIT;
	const char *tmp = getenv("TMPDIR");
	unsigned i;

	log_set_level(LOG_NONE);
	snprintf(dir, sizeof(dir), "%s/fuzz-feed-XXXXXX", tmp ? tmp : "/tmp");
	if (strlen(dir) + 1 >= sizeof(dir) || !mkdtemp(dir))
		abort();
	snprintf(db, sizeof(db), "%s/feed.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	snprintf(shm, sizeof(shm), "%s-shm", db);
	if (feed_store_open(db, &store) != 0)
		abort();
	atexit(cleanup);
	fill_full_bucket();
	self = client_dest_new_random();
	for (i = 0; i < NSENDERS; i++)
		senders[i] = client_dest_new_random();
	for (i = 0; i < NCREATORS; i++) {
		memset(cseed[i].b, (int)(0x41 + i), sizeof(cseed[i].b));
		content_signer_from_seed(&csigner[i], &cseed[i]);
	}
	if (client_dest_datagram_encode(self, "", 0, &b) != 0)
		abort();
	self_prefix = b.len;
	bbuf_free(&b);
}

static void set_clock(void)
{
	if (s.now_ms > CLOCK_MAX_MS)
		s.now_ms = CLOCK_MAX_MS;
	time_set_override(s.now_ms);
	time_set_mono_override(s.now_ms);
}

static uint64_t now_s(void)
{
	return s.now_ms / 1000;
}

static int creator_of(const struct ed25519_pk *pk)
{
	int i;

	for (i = 0; i < NCREATORS; i++)
		if (!memcmp(csigner[i].pk.b, pk->b, 32))
			return i;
	return -1;
}

static uint32_t bucket_of(uint64_t created)
{
	return (uint32_t)(created / FEED_BUCKET_SECS);
}

/* Remember an item built here (the first NITEMS). */
static void remember(enum feed_item_kind kind, const uint8_t *enc, size_t len,
		     uint64_t created, uint64_t pow)
{
	struct item_ref *r;

	if (s.nitems == NITEMS)
		return;
	r = &s.items[s.nitems++];
	r->kind = kind;
	r->enc = malloc(len);
	if (!r->enc)
		abort();
	memcpy(r->enc, enc, len);
	r->len = len;
	sha256(r->id, enc, len);
	r->bucket = bucket_of(created);
	r->pow = pow;
}

static char letter(uint8_t b)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	return set[b % (sizeof(set) - 1)];
}

static uint64_t age_of(const uint8_t *p, size_t n, size_t at)
{
	uint64_t a = at + 1 < n ? (uint64_t)(p[at] << 8 | p[at + 1]) : 0;

	return a * (MAX_AGE_S / 65536);
}

/* A card from fuzz bytes signed by creator p[0] % NCREATORS, appended to
 * out; false when the bytes make no valid card. */
static bool build_card(const uint8_t *p, size_t n, struct bbuf *out,
		       uint64_t *created)
{
	struct content_card *c = calloc(1, sizeof(*c));
	unsigned who = n ? p[0] % NCREATORS : 0;
	uint8_t f = n > 1 ? p[1] : 0;
	size_t i, o, tl;
	bool ok;

	if (!c)
		abort();
	memset(c->content_hash, n > 5 ? (p[5] & 7) + 1 : 1, 32);
	memset(c->key_commitment, 0x22, 32);
	c->size = n > 6 ? p[6] : 0;
	snprintf(c->mime, sizeof(c->mime), "%s", f & 1 ? "image/png" :
		 "video/mp4");
	*created = now_s() - age_of(p, n, 2);
	if (f & 2)	/* ahead of the clock, maybe too far */
		*created = now_s() + (n > 2 ? p[2] : 0) * 10u;
	c->created = *created;
	c->version = 1 + (n > 4 ? (p[4] & 3) : 0);
	if (f & 4) {
		snprintf(c->currency, sizeof(c->currency), "USDC");
		c->decimals = 6;
		c->price[31] = n > 7 ? p[7] | 1 : 1;
	}
	if (f & 8)
		snprintf(c->did, sizeof(c->did), "did:ethr:0x%040x",
			 (unsigned)(n > 7 ? p[7] : 0));
	for (i = 0; i < ((f >> 4) & 3u); i++) {	/* tags "a", "b", "c" */
		c->tags[i][0] = (char)('a' + i);
		c->tag_count++;
	}
	if (f & 64) {
		c->preview_kind = CONTENT_PREVIEW_TEXT;
		memcpy(c->preview, "an excerpt", 10);
		c->preview_len = 10;
	}
	/* the title, then the description, from the bytes after the 8th */
	p = n > 8 ? p + 8 : p;
	n = n > 8 ? n - 8 : 0;
	tl = n < 40 ? n : 40;
	for (i = 0; i < tl; i++)
		c->title[i] = letter(p[i]);
	if (tl == 0)
		c->title[0] = 't';
	for (i = tl, o = 0; i < n && o < CARD_DESC_MAX_BYTES; i++)
		c->description[o++] = p[i] & 0x80 ? ' ' : letter(p[i]);
	content_card_normalize(c);
	ok = content_card_sign(c, &csigner[who]) == 0 &&
	     content_card_encode(c, out) == 0;
	free(c);
	return ok;
}

/* A record from fuzz bytes by author p[0] % NCREATORS about an item of
 * this input (or an id of the bytes), appended to out. */
static bool build_record(const uint8_t *p, size_t n, struct bbuf *out,
			 uint64_t *created)
{
	static const char *const emoji[] = { "\xf0\x9f\x91\x8d", ":)", "ok" };
	struct content_record r;
	unsigned who = n ? p[0] % NCREATORS : 0;
	uint8_t k = n > 1 ? p[1] : 0, t = n > 2 ? p[2] : 0xff;

	memset(&r, 0, sizeof(r));
	r.kind = (enum content_record_kind)(1 + (k & 3));
	if (r.kind == CONTENT_RECORD_REACTION) {
		r.reaction = (enum content_reaction)(1 + ((k >> 2) & 3));
		if (r.reaction == CONTENT_REACT_EMOJI)
			snprintf(r.text, sizeof(r.text), "%s",
				 emoji[(k >> 4) % 3]);
	}
	if (r.kind == CONTENT_RECORD_FOLLOW)
		r.follow = k & 0x40;
	if (t < 0x80 && s.nitems)
		memcpy(r.card_id, s.items[t % s.nitems].id, 32);
	else
		memset(r.card_id, t, 32);
	*created = now_s() - age_of(p, n, 3);
	if (k & 0x80)
		*created = now_s() + (n > 3 ? p[3] : 0) * 10u;
	r.created = *created;
	return content_record_sign(&r, &csigner[who]) == 0 &&
	       content_record_encode(&r, out) == 0;
}

/* An item the node took: check that it deserved it and count it. */
static void accepted(enum feed_item_kind kind, const uint8_t *enc,
		     size_t len, uint64_t pow, bool check_pow, int sender)
{
	uint64_t elapsed = s.now_ms - s.t0_ms, created, f;
	struct content_card *c = NULL;
	struct content_record rec;
	const struct ed25519_pk *who;
	uint8_t id[FEED_ID_BYTES];
	unsigned bits;
	bool fav;
	int ci;

	sha256(id, enc, len);
	if (!feed_store_has(store, id))
		abort();
	if (kind == FEED_ITEM_CARD) {
		c = malloc(sizeof(*c));
		if (!c || content_card_decode(enc, len, c) != 0 ||
		    content_card_verify(c) != 0)
			abort();
		who = &c->creator;
		created = c->created;
	} else {
		if (content_record_decode(enc, len, &rec) != 0 ||
		    content_record_verify(&rec) != 0)
			abort();
		who = &rec.author;
		created = rec.created;
	}
	ci = creator_of(who);	/* nobody else can sign */
	if (ci < 0 || s.blocked[ci])
		abort();
	fav = s.favoured && favoured_cb(NULL, who, "");
	bits = feed_pow_bits(id, pow);
	if (check_pow && s.pow_bits != FEED_POW_NONE && bits < s.pow_bits &&
	    !(fav && bits >= s.pow_bits_favoured))
		abort();
	if (created > now_s() + FEED_MAX_SKEW_S ||
	    (s.retention && created + 30 * FEED_BUCKET_SECS < now_s()))
		abort();
	if (s.followed_only && (c ? !s.followed[ci] :
				!feed_store_has(store, rec.card_id)))
		abort();
	f = fav ? FEED_FAVOUR_FACTOR : 1;
	if (++s.creator_new[ci] > f * s.creator_burst +
	    elapsed * f * s.creator_per_h / 3600000u)
		abort();
	if (sender >= 0 && ++s.from_new[sender] > s.peer_burst +
	    elapsed * s.peer_per_s / 1000u)
		abort();
	free(c);
}

static void ctx_reset(enum ctx_kind k)
{
	s.ctx = k;
	memset(s.sent, 0, sizeof(s.sent));
	s.want_ids = 0;
}

static unsigned peers_but(int sender)
{
	return s.npeers - (sender >= 0 && s.peer[sender]);
}

/* Hand a datagram to the node as the network would, and check what it
 * did about it. */
static void deliver(uint8_t proto, uint16_t dst_port, const uint8_t *dg,
		    size_t len)
{
	const struct feed_node_stats *st = feed_node_get_stats(s.node);
	uint64_t rx0 = st->rx_msgs, new0 = st->items_new;
	struct keys_and_cert *from = malloc(sizeof(*from));
	const uint8_t *p;
	size_t plen;
	int sender = -1;
	bool took;

	if (!from)
		abort();
	ctx_reset(CTX_NONE);
	if (proto == DATAGRAM_PROTO_REPLIABLE && dst_port == FEED_PORT &&
	    dg_open(dg, len, from, &p, &plen) == 0 &&
	    feed_msg_decode(p, plen, &s.in) == 0) {
		s.ctx = CTX_MSG;
		memcpy(s.from, from->hash, 32);
		sender = sender_of(from->hash);
		if (s.in.type == FEED_MSG_ITEM)
			sha256(s.item_id, s.in.u.item.data, s.in.u.item.len);
	}
	free(from);
	node_rx.datagram(node_rx.ctx, proto, FEED_PORT, dst_port, dg, len);
	if (st->rx_msgs != rx0 + (dst_port == FEED_PORT))
		abort();
	took = st->items_new != new0;
	if (st->items_new > new0 + 1 || (took && (s.ctx != CTX_MSG ||
						  s.in.type != FEED_MSG_ITEM)))
		abort();
	if (s.ctx != CTX_MSG)
		return;
	switch (s.in.type) {
	case FEED_MSG_SUMMARY:
		if (s.sent[FEED_MSG_IDS_REQ] > (s.in.u.summary.n +
		    FEED_IDS_REQ_MAX - 1u) / FEED_IDS_REQ_MAX)
			abort();
		break;
	case FEED_MSG_IDS_REQ:
		if (s.sent[FEED_MSG_IDS] > s.in.u.ids_req.n * IDS_MSGS_PER_BUCKET)
			abort();
		break;
	case FEED_MSG_IDS:
		if (s.sent[FEED_MSG_WANT] > (s.in.u.ids.n + FEED_WANT_MAX - 1u) /
		    FEED_WANT_MAX || s.want_ids > s.in.u.ids.n)
			abort();
		break;
	case FEED_MSG_WANT:
		if (s.sent[FEED_MSG_ITEM] > s.in.u.ids.n)
			abort();
		break;
	case FEED_MSG_ITEM:
		if (took)
			accepted(s.in.u.item.kind, s.in.u.item.data,
				 s.in.u.item.len, s.in.u.item.pow, true, sender);
		if (s.sent[FEED_MSG_ITEM] != (took ? peers_but(sender) : 0))
			abort();
		break;
	}
}

/* Send m from sender i as a signed repliable datagram. */
static void send_msg(unsigned i, const struct feed_msg *m)
{
	struct bbuf msg = BBUF_INIT, dg = BBUF_INIT;

	if (feed_msg_encode(m, &msg) == 0 &&
	    client_dest_datagram_encode(senders[i], msg.data, msg.len,
					&dg) == 0)
		deliver(DATAGRAM_PROTO_REPLIABLE, FEED_PORT, dg.data, dg.len);
	bbuf_free(&msg);
	bbuf_free(&dg);
}

static void send_payload(unsigned i, const uint8_t *p, size_t n)
{
	struct bbuf dg = BBUF_INIT;

	if (client_dest_datagram_encode(senders[i], p, n, &dg) == 0)
		deliver(DATAGRAM_PROTO_REPLIABLE, FEED_PORT, dg.data, dg.len);
	bbuf_free(&dg);
}

static void send_item(unsigned i, enum feed_item_kind kind,
		      const uint8_t *enc, size_t len, uint64_t pow)
{
	struct feed_msg m = { .type = FEED_MSG_ITEM };

	m.u.item.kind = kind;
	m.u.item.pow = pow;
	m.u.item.len = (uint32_t)len;
	m.u.item.data = enc;
	send_msg(i, &m);
}

/* Build a card or record (op 2, 3) and send it. */
static void op_item(unsigned i, uint8_t arg, enum feed_item_kind kind,
		    const uint8_t *p, size_t n)
{
	struct bbuf b = BBUF_INIT;
	uint8_t id[FEED_ID_BYTES];
	uint64_t created, pow = 0;
	const struct feed_node_stats *st = feed_node_get_stats(s.node);
	uint64_t new0 = st->items_new;

	if (!(kind == FEED_ITEM_CARD ? build_card(p, n, &b, &created) :
	      build_record(p, n, &b, &created))) {
		bbuf_free(&b);
		return;
	}
	if (arg & 4) {	/* one byte changed after signing */
		size_t at = (n > 1 ? (size_t)p[n - 1] << 8 | p[n - 2] : 0) %
			    b.len;

		b.data[at] ^= (uint8_t)(n > 2 ? p[n - 3] | 1 : 1);
	}
	sha256(id, b.data, b.len);
	if (arg & 8)	/* a nonce from the bytes */
		pow = n ? p[n - 1] : 0;
	else if (s.pow_bits != FEED_POW_NONE)
		pow = feed_pow_solve(id, s.pow_bits);
	if (!(arg & 4))
		remember(kind, b.data, b.len, created, pow);
	send_item(i, kind, b.data, b.len, pow);
	if ((arg & 4) && st->items_new != new0)	/* a forgery taken */
		abort();
	bbuf_free(&b);
}

/* IDS or WANT naming ids of this input's items (op 4). */
static void op_ids(unsigned i, uint8_t arg, const uint8_t *p, size_t n)
{
	struct feed_msg m = { .type = arg & 4 ? FEED_MSG_WANT : FEED_MSG_IDS };
	unsigned max = arg & 4 ? FEED_WANT_MAX : FEED_IDS_MAX, k;
	uint8_t *ids = malloc((size_t)FEED_IDS_MAX * FEED_ID_BYTES);

	if (!ids)
		abort();
	if (n && p[0] < 0x80 && s.nitems)
		m.u.ids.bucket = s.items[p[0] % s.nitems].bucket;
	else if (n)
		m.u.ids.bucket = bucket_of(now_s()) - p[0];
	for (k = 0; k + 1 < n && k < max; k++) {
		uint8_t b = p[k + 1];

		if (b < 0x80 && s.nitems)
			memcpy(ids + (size_t)k * FEED_ID_BYTES,
			       s.items[b % s.nitems].id, FEED_ID_BYTES);
		else
			memset(ids + (size_t)k * FEED_ID_BYTES, b,
			       FEED_ID_BYTES);
	}
	m.u.ids.n = (uint16_t)k;
	m.u.ids.ids = ids;
	send_msg(i, &m);
	free(ids);
}

struct bucket_pick {
	uint32_t bucket;
	uint8_t b;	/* the byte that picked it */
};

static int cmp_pick(const void *a, const void *b)
{
	uint32_t x = ((const struct bucket_pick *)a)->bucket;
	uint32_t y = ((const struct bucket_pick *)b)->bucket;

	return x < y ? -1 : x > y;
}

/* SUMMARY or IDS_REQ naming the buckets of this input's items (op 5):
 * each byte picks an item's bucket (low 6 bits; 63: FULL_BUCKET) and a
 * bucket next to it
 * (high 2 bits: 0, +1, -1, +2); a SUMMARY gives our store's count and
 * digest of each, changed (unless arg bit 3) by bits 4 and 5. */
static void op_buckets(unsigned i, uint8_t arg, const uint8_t *p, size_t n)
{
	static const int32_t near[4] = { 0, 1, -1, 2 };
	struct feed_msg m = { .type = arg & 4 ? FEED_MSG_IDS_REQ :
					       FEED_MSG_SUMMARY };
	struct bucket_pick bk[FEED_SUMMARY_MAX_BUCKETS];
	unsigned max = arg & 4 ? FEED_IDS_REQ_MAX : FEED_SUMMARY_MAX_BUCKETS;
	unsigned k, j, u;

	for (k = 0; k < n && k < max; k++) {
		uint32_t base = (p[k] & 63) == 63 ? FULL_BUCKET :
				s.nitems ? s.items[(p[k] & 63) % s.nitems].bucket :
				bucket_of(now_s());

		bk[k].bucket = base + (uint32_t)near[p[k] >> 6];
		bk[k].b = p[k];
	}
	if (m.type == FEED_MSG_IDS_REQ) {
		m.u.ids_req.n = (uint8_t)k;
		for (j = 0; j < k; j++)
			m.u.ids_req.bucket[j] = bk[j].bucket;
		send_msg(i, &m);
		return;
	}
	qsort(bk, k, sizeof(bk[0]), cmp_pick);
	for (j = 0, u = 0; j < k; j++) {
		struct feed_bucket_sum *b = &m.u.summary.b[u];

		if (u && bk[j].bucket == m.u.summary.b[u - 1].bucket)
			continue;
		if (feed_store_bucket_sum(store, bk[j].bucket, b) != 0)
			abort();
		if (!(arg & 8) && (bk[j].b & 32))	/* differs from ours */
			b->digest[bk[j].b & 15] ^= 1;
		if (!(arg & 8) && (bk[j].b & 16))
			b->count += 1;
		u++;
	}
	m.u.summary.n = (uint8_t)u;
	send_msg(i, &m);
}

/* A local call (op 6). */
static void op_local(uint8_t arg, const uint8_t *p, size_t n)
{
	const struct feed_node_stats *st = feed_node_get_stats(s.node);
	unsigned who = n ? p[0] % NCREATORS : 0;
	uint64_t new0 = st->items_new, created;
	struct bbuf b = BBUF_INIT;
	enum feed_item_kind kind;
	unsigned sub = (arg >> 2) & 7;
	int r;

	switch (sub) {
	case 0:
		ctx_reset(CTX_ROUND);
		feed_node_round(s.node);
		if (s.sent[FEED_MSG_SUMMARY] != s.npeers)
			abort();
		break;
	case 1:
	case 2:
		ctx_reset(CTX_NONE);
		s.followed[who] = sub == 1;
		if (feed_node_follow(s.node, &csigner[who].pk,
				     s.followed[who]) != 0)
			abort();
		break;
	case 3:
	case 4:
		ctx_reset(CTX_NONE);
		s.blocked[who] = sub == 3;
		if (feed_node_block(s.node, &csigner[who].pk,
				    s.blocked[who]) != 0)
			abort();
		break;
	case 5:
	case 6:
		kind = sub == 5 ? FEED_ITEM_CARD : FEED_ITEM_RECORD;
		if (!(kind == FEED_ITEM_CARD ? build_card(p, n, &b, &created) :
		      build_record(p, n, &b, &created)))
			break;
		ctx_reset(CTX_PUBLISH);
		sha256(s.item_id, b.data, b.len);
		r = feed_node_publish(s.node, kind, b.data, b.len);
		if ((r == 0) != (st->items_new == new0 + 1) ||
		    st->items_new > new0 + 1 ||
		    s.sent[FEED_MSG_ITEM] != (r == 0 ? s.npeers : 0))
			abort();
		if (r == 0)
			accepted(kind, b.data, b.len, 0, false, -1);
		remember(kind, b.data, b.len, created, 0);
		break;
	case 7:
		s.now_ms += (uint64_t)(n ? p[0] : 1) * 3600000u;
		set_clock();
		break;
	}
	bbuf_free(&b);
}

static void start(const uint8_t h[4])
{
	static const uint8_t pow_modes[4] = { FEED_POW_NONE, 2, 4, 8 };
	struct feed_node_cfg cfg = { 0 };
	unsigned i;

	memset(&s, 0, sizeof(s));
	s.followed_only = h[0] & 1;
	s.pow_bits = pow_modes[(h[0] >> 1) & 3];
	s.pow_bits_favoured = s.pow_bits > 4 ? (uint8_t)(s.pow_bits - 4) : 0;
	s.favoured = h[0] & 8;
	s.retention = h[0] & 16;
	s.peer_burst = h[1] ? h[1] : 500;
	s.creator_burst = h[2] % 64 ? h[2] % 64 : 60;
	s.peer_per_s = h[3] & 15 ? h[3] & 15 : 50;
	s.creator_per_h = h[3] >> 4 ? (h[3] >> 4) * 8u : 60;
	s.t0_ms = s.now_ms = (uint64_t)START_S * 1000;
	set_clock();
	cfg.net = (struct client_net){ .attach = n_attach, .detach = n_detach,
				       .send = n_send, .lookup = n_lookup };
	cfg.dest = self;
	cfg.store = store;
	cfg.followed_only = s.followed_only;
	cfg.peer_items_per_s = s.peer_per_s;
	cfg.peer_burst = s.peer_burst;
	cfg.creator_items_per_hour = s.creator_per_h;
	cfg.creator_burst = s.creator_burst;
	cfg.pow_bits = s.pow_bits;
	cfg.retention_days = s.retention ? 30 : 0;
	if (s.favoured)
		cfg.favoured = favoured_cb;
	if (feed_node_new(&cfg, &s.node) != 0 || !attached)
		abort();
	for (i = 0; i < NSENDERS - 1; i++) {
		s.peer[i] = h[0] & (32u << i);
		if (s.peer[i] && feed_node_add_peer(s.node,
				client_dest_pub(senders[i])) != 0)
			abort();
		s.npeers += s.peer[i];
	}
}

/* The store holds what the node took (and the full bucket); then empty
 * it but for the full bucket for the next input. */
static void finish(void)
{
	struct feed_bucket_sum *sum = malloc(FEED_SUMMARY_MAX_BUCKETS *
					     sizeof(*sum));
	uint64_t total = 0, taken = feed_node_get_stats(s.node)->items_new +
				    FULL_COUNT;
	unsigned k, i;

	if (!sum || feed_store_summary(store, sum, FEED_SUMMARY_MAX_BUCKETS,
				       &k) != 0)
		abort();
	for (i = 0; i < k; i++)
		total += sum[i].count;
	if (k < FEED_SUMMARY_MAX_BUCKETS &&
	    (s.retention ? total > taken : total != taken))
		abort();
	feed_node_free(s.node);
	if (attached)
		abort();
	if (feed_store_expire(store, FULL_BUCKET) != 0)
		abort();
	for (i = 0; i < NCREATORS; i++) {
		if (s.followed[i] &&
		    feed_store_follow(store, &csigner[i].pk, false) != 0)
			abort();
		if (s.blocked[i] &&
		    feed_store_block(store, &csigner[i].pk, false) != 0)
			abort();
		if (feed_store_is_followed(store, &csigner[i].pk) ||
		    feed_store_is_blocked(store, &csigner[i].pk))
			abort();
	}
	if (feed_store_summary(store, sum, FEED_SUMMARY_MAX_BUCKETS, &k) != 0 ||
	    k != 1 || sum[0].bucket != FULL_BUCKET || sum[0].count != FULL_COUNT)
		abort();
	for (i = 0; i < s.nitems; i++)
		free(s.items[i].enc);
	free(sum);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 4;

	if (!store)
		setup();
	if (size < 4)
		return 0;
	start(data);
	while (off + 4 <= size) {
		uint8_t op = data[off], arg = data[off + 1];
		size_t n = (size_t)data[off + 2] << 8 | data[off + 3];
		const uint8_t *p = data + off + 4;
		unsigned i = arg & 3;

		off += 4;
		if (n > size - off)
			n = size - off;
		off += n;
		s.now_ms += (uint64_t)(op >> 3) * 1000;
		set_clock();
		switch (op & 7) {
		case 0:
			send_payload(i, p, n);
			break;
		case 1:
			deliver(arg & 4 ? DATAGRAM_PROTO_RAW :
				DATAGRAM_PROTO_REPLIABLE,
				arg & 8 ? FEED_PORT + 1 : FEED_PORT, p, n);
			break;
		case 2:
			op_item(i, arg, FEED_ITEM_CARD, p, n);
			break;
		case 3:
			op_item(i, arg, FEED_ITEM_RECORD, p, n);
			break;
		case 4:
			op_ids(i, arg, p, n);
			break;
		case 5:
			op_buckets(i, arg, p, n);
			break;
		case 6:
			op_local(arg, p, n);
			break;
		case 7:
			if (s.nitems) {
				const struct item_ref *r =
					&s.items[(n ? p[0] : 0) % s.nitems];

				send_item(i, r->kind, r->enc, r->len,
					  arg & 8 ? 0 : r->pow);
			}
			break;
		}
	}
	finish();
	return 0;
}
