/*
 * ECIES-X25519-AEAD-Ratchet (router/ratchet.h): ecies spec sections
 * "1b) New session format", "1g) New Session Reply format", "KDF for
 * Existing Session", "DH RATCHET MESSAGE FLOW", "KEY AND TAG SET IDS";
 * PROTOCOLS.md 2.11 for the i2pd 2.45.1 behaviour we match.
 *
 * Alice (the side that sent the NS) keeps each NS's chaining key and hash
 * and the NSR tags of each; the first NSR that decrypts fixes the session
 * keys (all NSRs of one Bob session reuse his ephemeral key, so the
 * keys do not depend on which one arrives first).  Bob derives the same
 * keys when he answers the NS, registers the Alice->Bob tag set at once,
 * and sends NSRs until Alice's first ES arrives.
 *
 * Several sessions to one peer (session_settle(), bob_session()): every
 * NS of the peer is answered by at least one NSR, and NSRs answer its
 * newest NS; a session starts sending ES once established (Alice: an
 * NSR came; Bob: an ES came), and of two established ones the newer
 * replaces the older, except in an NS/NS race (both sides sent an NS
 * before hearing the other's): there both sides end on the session the
 * NS of the lower static key opened.  So both send on one pair of
 * sessions and its DH ratchets complete.  With i2pd, which answers no NS
 * while its own session is under 120 s old, our session for its NS is
 * the only one established and carries everything.
 */
#include "config.h"
#include "router/ratchet.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/chacha.h"
#include "crypto/elligator2.h"
#include "crypto/hash.h"
#include "crypto/rand.h"
#include "crypto/secmem.h"
#include "router/ratchet_tagset.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The tag table starts with this many buckets and doubles whenever the
 * tags outnumber them (powers of two): a destination with one session
 * holds a few hundred tags, and a table sized to them stays in cache. */
#define TAG_BUCKETS_MIN 256u
#define MAX_SPARE_TAGS 256
#define RX_COMPACT_STEP 64
#define LABEL(s) s, sizeof(s) - 1

enum sess_state { S_NS_SENT, S_NSR_SENT, S_ESTABLISHED };

struct ratchet_session;

/* One inbound tag set and the window of tags it has in the table. */
struct rx_ts {
	struct ratchet_tagset gen;
	struct ratchet_session *s;
	uint16_t id;
	int ns_idx;			/* NSR tag set of Alice's NS ns_idx; -1 */
	uint32_t low;			/* the oldest message still taken */
	uint32_t base;			/* ents[0] is message base (≤ low) */
	struct tag_ent **ents;		/* [base, gen.n); NULL below low */
	size_t cap;
	uint64_t expires_ms;		/* 0: current */
};

struct tag_ent {
	uint64_t tag;
	struct rx_ts *ts;
	uint16_t n;
	uint8_t key[32];
	struct tag_ent *next;
};

/* Alice's record of one NS she sent. */
struct ns_rec {
	uint8_t ck[32], h[32];
	struct x25519_sk esk;
	struct rx_ts *nsr_ts;
	bool used;
};

struct ratchet_session {
	struct ratchet_ctx *c;
	struct ratchet_session *next;
	struct x25519_pk remote;
	enum sess_state state;
	bool retired;			/* replaced: receives, never sends */
	bool ours;			/* opened by our NS (we are Alice) */
	bool race;			/* one of an NS/NS race's two sessions */
	bool owe_nsr;			/* Bob: the peer's NS awaits an NSR */
	bool heard;			/* an ES came in on it */
	uint64_t created_ms, active_ms;
	/* Alice, before the NSR */
	struct ns_rec ns[RATCHET_MAX_PENDING_NS];
	/* Bob, until Alice's first ES: the NS state, his NSR ephemeral key,
	 * the se key of the NSR KDF and the NSR tag set */
	uint8_t ns_h[32], nsr_k[32], k_ba[32];
	struct x25519_pk nsr_epk;
	uint8_t nsr_repr[32];
	struct ratchet_tagset nsr_tx;
	/* after the handshake */
	struct ratchet_tagset tx;
	uint16_t tx_id;
	struct rx_ts *rx_cur, *rx_prev;
	/* DH ratchet, we send tags: our key, theirs, the Next Key we repeat */
	int out_my_id, out_peer_id;
	struct x25519_sk out_sk;
	struct x25519_pk out_pk, out_peer;
	bool out_awaiting;
	struct ratchet_nextkey out_nk;
	/* DH ratchet, we receive tags */
	int in_my_id, in_peer_id;
	struct x25519_sk in_sk;
	struct x25519_pk in_pk, in_peer;
	bool in_reply_pending, in_last_valid, in_heard_new;
	bool owe_reply;			/* in_reply asked for, not sent since */
	struct ratchet_nextkey in_reply, in_last;
	bool send_pn;
	uint16_t pn;
	size_t n_acks;
	struct ratchet_ack acks[RATCHET_MAX_ACKS];
};

struct ratchet_ctx {
	struct x25519_sk *sk;		/* long-lived: secure memory */
	struct x25519_pk pk;
	struct ratchet_params params;
	struct ratchet_stats stats;
	struct tag_ent **buckets;
	size_t nbuckets;
	size_t ntags;
	struct ratchet_session *sessions;
	size_t nsessions;
	uint64_t replay[RATCHET_REPLAY_MAX];
	size_t replay_n, replay_pos;
	/* wiped tag entries kept for reuse: one is spent and one made per
	 * message received, so the hot path does not allocate */
	struct tag_ent *spare;
	size_t nspare;
};

/* ---- the tag table ---- */

static uint64_t tag_u64(const uint8_t t[8])
{
	uint64_t v;

	memcpy(&v, t, 8);
	return v;
}

static size_t bucket(const struct ratchet_ctx *c, uint64_t tag)
{
	/* tags are KDF output: any bits are uniform */
	return (size_t)(tag ^ tag >> 32) & (c->nbuckets - 1);
}

/* Double the table, moving every tag to its new bucket. */
static void tag_table_grow(struct ratchet_ctx *c)
{
	struct tag_ent **old = c->buckets;
	size_t n = c->nbuckets;

	c->nbuckets = n * 2;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	for (size_t i = 0; i < n; i++) {
		while (old[i]) {
			struct tag_ent *e = old[i];
			size_t b = bucket(c, e->tag);

			old[i] = e->next;
			e->next = c->buckets[b];
			c->buckets[b] = e;
		}
	}
	free(old);
}

static struct tag_ent *tag_find(const struct ratchet_ctx *c, uint64_t tag)
{
	for (struct tag_ent *e = c->buckets[bucket(c, tag)]; e; e = e->next)
		if (e->tag == tag)
			return e;
	return NULL;
}

static struct tag_ent *tag_ent_get(struct ratchet_ctx *c)
{
	struct tag_ent *e = c->spare;

	if (!e)
		return xzalloc(sizeof(*e));
	c->spare = e->next;
	c->nspare--;
	e->next = NULL;
	return e;
}

/* Wipe e and keep it for reuse (or free it beyond MAX_SPARE_TAGS). */
static void tag_ent_put(struct ratchet_ctx *c, struct tag_ent *e)
{
	memwipe(e, sizeof(*e));
	if (c->nspare >= MAX_SPARE_TAGS) {
		free(e);
		return;
	}
	e->next = c->spare;
	c->spare = e;
	c->nspare++;
}

static void tag_unlink(struct ratchet_ctx *c, struct tag_ent *e)
{
	struct tag_ent **pp = &c->buckets[bucket(c, e->tag)];

	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	c->ntags--;
	tag_ent_put(c, e);
}

/* Remove a tag of ts from the table and the window (it was used). */
static void rx_drop(struct ratchet_ctx *c, struct tag_ent *e)
{
	struct rx_ts *ts = e->ts;

	ts->ents[e->n - ts->base] = NULL;
	tag_unlink(c, e);
}

/* Generate tags of ts up to (not including) message `upto`. */
/* Tags kept ahead of the newest message n of a tag set: the base
 * lookahead, plus n/4 up to RATCHET_LOOKAHEAD_MAX. */
static uint32_t lookahead_at(const struct ratchet_ctx *c, uint32_t n)
{
	uint32_t la = c->params.lookahead + n / 4;

	if (la > RATCHET_LOOKAHEAD_MAX)
		la = c->params.lookahead > RATCHET_LOOKAHEAD_MAX ?
			     c->params.lookahead : RATCHET_LOOKAHEAD_MAX;
	return la;
}

static void rx_fill(struct ratchet_ctx *c, struct rx_ts *ts, uint32_t upto)
{
	if (upto > RATCHET_TAGSET_MAX_N)
		upto = RATCHET_TAGSET_MAX_N;
	while (ts->gen.n < upto && c->ntags < RATCHET_MAX_TAGS) {
		struct tag_ent *e = tag_ent_get(c);
		uint8_t tag[8];
		size_t i = ts->gen.n - ts->base;

		e->n = (uint16_t)ratchet_tagset_next(&ts->gen, tag, e->key);
		e->tag = tag_u64(tag);
		e->ts = ts;
		if (i >= ts->cap) {
			size_t ncap = ts->cap ? ts->cap * 2 : 64;

			ts->ents = xrealloc(ts->ents, ncap * sizeof(*ts->ents));
			memset(ts->ents + ts->cap, 0,
			       (ncap - ts->cap) * sizeof(*ts->ents));
			ts->cap = ncap;
		}
		ts->ents[i] = e;
		/* a colliding tag (2^-64) would shadow: drop the new one */
		if (tag_find(c, e->tag)) {
			ts->ents[i] = NULL;
			tag_ent_put(c, e);
			continue;
		}
		if (c->ntags >= c->nbuckets)
			tag_table_grow(c);
		e->next = c->buckets[bucket(c, e->tag)];
		c->buckets[bucket(c, e->tag)] = e;
		c->ntags++;
	}
}

/* Slide ts's window so it starts at message `low` (freeing older tags).
 * The array is compacted only every RX_COMPACT_STEP messages: the window
 * moves by one per message and a memmove of it each time cost more than
 * the rest of the upkeep. */
static void rx_advance(struct ratchet_ctx *c, struct rx_ts *ts, uint32_t low)
{
	size_t have = ts->gen.n - ts->base, k;

	if (low > ts->gen.n)
		low = ts->gen.n;
	for (; ts->low < low; ts->low++) {
		struct tag_ent **pe = &ts->ents[ts->low - ts->base];

		if (*pe) {
			tag_unlink(c, *pe);
			*pe = NULL;
		}
	}
	/* also skip leading holes */
	while (ts->low < ts->gen.n && !ts->ents[ts->low - ts->base])
		ts->low++;
	k = ts->low - ts->base;
	if (k >= RX_COMPACT_STEP || (k > 0 && k == have)) {
		memmove(ts->ents, ts->ents + k, (have - k) * sizeof(*ts->ents));
		memset(ts->ents + (have - k), 0, k * sizeof(*ts->ents));
		ts->base = ts->low;
	}
}

static struct rx_ts *rx_new(struct ratchet_session *s, uint16_t id,
			    int ns_idx)
{
	struct rx_ts *ts = xzalloc(sizeof(*ts));

	ts->s = s;
	ts->id = id;
	ts->ns_idx = ns_idx;
	return ts;
}

static void rx_free(struct ratchet_ctx *c, struct rx_ts *ts)
{
	if (!ts)
		return;
	for (uint32_t i = 0; i < ts->gen.n - ts->base; i++)
		if (ts->ents[i])
			tag_unlink(c, ts->ents[i]);
	free(ts->ents);
	ratchet_tagset_wipe(&ts->gen);
	xfree_wipe(ts, sizeof(*ts));
}

/* ---- sessions ---- */

static struct ratchet_session *session_new(struct ratchet_ctx *c,
					   const struct x25519_pk *remote,
					   enum sess_state st, uint64_t now)
{
	struct ratchet_session *s = xzalloc(sizeof(*s));

	s->c = c;
	s->remote = *remote;
	s->state = st;
	s->created_ms = s->active_ms = now;
	s->out_my_id = s->out_peer_id = -1;
	s->in_my_id = s->in_peer_id = -1;
	s->next = c->sessions;
	c->sessions = s;
	c->nsessions++;
	return s;
}

static void ns_rec_clear(struct ratchet_ctx *c, struct ns_rec *r)
{
	rx_free(c, r->nsr_ts);
	memwipe(r, sizeof(*r));
}

static void session_free(struct ratchet_ctx *c, struct ratchet_session *s)
{
	for (int i = 0; i < RATCHET_MAX_PENDING_NS; i++)
		ns_rec_clear(c, &s->ns[i]);
	rx_free(c, s->rx_cur);
	rx_free(c, s->rx_prev);
	xfree_wipe(s, sizeof(*s));
	c->nsessions--;
}

static void session_unlink_free(struct ratchet_ctx *c,
				struct ratchet_session *s)
{
	struct ratchet_session **pp = &c->sessions;

	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp)
		*pp = s->next;
	session_free(c, s);
}

/* The peer's session to send on, never a retired one: the newest that
 * owes an NSR when owed is set (every NS of the peer gets one, even
 * while another session carries the traffic), else the newest
 * established, else the newest NSR-sent (NSRs answer the newest NS),
 * else the newest NS-sent. */
static struct ratchet_session *session_pick(const struct ratchet_ctx *c,
					    const struct x25519_pk *remote,
					    bool owed)
{
	struct ratchet_session *best = NULL;
	int best_rank = -1;

	for (struct ratchet_session *s = c->sessions; s; s = s->next) {
		int rank;

		if (s->retired || memcmp(s->remote.b, remote->b, 32) != 0)
			continue;
		rank = owed && s->owe_nsr ? S_ESTABLISHED + 1 : (int)s->state;
		if (rank > best_rank ||
		    (rank == best_rank && s->created_ms > best->created_ms)) {
			best = s;
			best_rank = rank;
		}
	}
	return best;
}

static struct ratchet_session *session_for(const struct ratchet_ctx *c,
					   const struct x25519_pk *remote)
{
	return session_pick(c, remote, false);
}

/*
 * s has just been established (Alice: its first NSR; Bob: the first ES).
 * At most one established session per peer sends: of s and another
 * established one, the two sessions of an NS/NS race keep the one the
 * NS of the lower static key opened, which both sides pick alike;
 * otherwise s, the peer's latest word, replaces the other.  The loser
 * is retired (it still receives, so nothing in flight is lost).  Bob's
 * sessions answering other NS of the same peer owe no more NSRs: Alice
 * took one of them ("any other ... sessions (for multiple NSRs) should
 * be destroyed" after her first ES; they expire with the handshake).
 */
static void session_settle(struct ratchet_ctx *c, struct ratchet_session *s)
{
	/* our key is the lower: the session our NS opened wins a race */
	bool ours_win = memcmp(c->pk.b, s->remote.b, 32) < 0;

	if (s->retired)
		return;
	for (struct ratchet_session *o = c->sessions; o; o = o->next) {
		if (o == s || o->retired ||
		    memcmp(o->remote.b, s->remote.b, 32) != 0)
			continue;
		if (!s->ours && !o->ours)
			o->owe_nsr = false;
		if (o->state != S_ESTABLISHED)
			continue;
		if (s->race && o->race && s->ours != o->ours &&
		    s->ours != ours_win) {
			s->retired = true;
			log_debug(LD_GARLIC, "NS/NS race: the %s session stays",
				  o->ours ? "our NS's" : "peer NS's");
			return;
		}
		o->retired = true;
	}
}

/*
 * The peer still sends on s, a session we retired for one of ours whose
 * NS it never answered: i2pd keeps a session younger than two minutes
 * and ignores an NS that would replace it.  Send on s again (the new one
 * stays, and replaces s if its NSR ever comes); otherwise every message
 * went as an NS, and the peer's DH ratchet on s, which needs our answer
 * there, never completed.
 */
static void session_revive(struct ratchet_ctx *c, struct ratchet_session *s)
{
	bool unanswered = false;

	for (struct ratchet_session *o = c->sessions; o; o = o->next) {
		if (o == s || o->retired ||
		    memcmp(o->remote.b, s->remote.b, 32) != 0)
			continue;
		if (o->state != S_NS_SENT || !o->ours)
			return;
		unanswered = true;
	}
	if (unanswered)
		s->retired = false;
}

struct ratchet_ctx *ratchet_ctx_new(const struct x25519_sk *sk)
{
	struct ratchet_ctx *c = xzalloc(sizeof(*c));

	c->sk = secmem_alloc(sizeof(*c->sk));
	*c->sk = *sk;
	secmem_readonly(c->sk);
	x25519_pk_from_sk(&c->pk, sk);
	c->nbuckets = TAG_BUCKETS_MIN;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	c->params.ratchet_after = RATCHET_RATCHET_AFTER;
	c->params.lookahead = RATCHET_LOOKAHEAD;
	c->params.max_sessions = RATCHET_MAX_SESSIONS;
	return c;
}

void ratchet_ctx_free(struct ratchet_ctx *c)
{
	if (!c)
		return;
	while (c->sessions) {
		struct ratchet_session *s = c->sessions;

		c->sessions = s->next;
		session_free(c, s);
	}
	while (c->spare) {
		struct tag_ent *e = c->spare;

		c->spare = e->next;
		free(e);
	}
	free(c->buckets);
	secmem_free(c->sk);
	xfree_wipe(c, sizeof(*c));
}

void ratchet_ctx_set_params(struct ratchet_ctx *c,
			    const struct ratchet_params *p)
{
	c->params = *p;
	if (c->params.lookahead == 0)
		c->params.lookahead = 1;
	if (c->params.ratchet_after == 0 ||
	    c->params.ratchet_after > RATCHET_TAGSET_MAX_N - 1024)
		c->params.ratchet_after = RATCHET_RATCHET_AFTER;
	if (c->params.max_sessions == 0)
		c->params.max_sessions = RATCHET_MAX_SESSIONS;
}

const struct ratchet_stats *ratchet_ctx_stats(const struct ratchet_ctx *c)
{
	return &c->stats;
}

const struct x25519_pk *ratchet_ctx_pubkey(const struct ratchet_ctx *c)
{
	return &c->pk;
}

/* ---- Noise: the NS ---- */

static void mix_hash(uint8_t h[32], const void *d, size_t n)
{
	sha256_2(h, h, 32, d, n);
}

/* ck, k = HKDF(ck, ikm, "", 64) */
static void mix_key(uint8_t ck[32], uint8_t k[32], const uint8_t ikm[32])
{
	uint8_t kd[64];

	hkdf_sha256(kd, 64, ck, 32, ikm, 32, NULL, 0);
	memcpy(ck, kd, 32);
	memcpy(k, kd + 32, 32);
	memwipe(kd, sizeof(kd));
}

/* The state before Alice's ephemeral key: "h = SHA256(protocol_name);
 * ck = h; h = SHA256(h) [MixHash(null prologue)]; h = SHA256(h || bpk)". */
static void ns_init(uint8_t ck[32], uint8_t h[32], const struct x25519_pk *bpk)
{
	sha256(h, RATCHET_PROTOCOL_NAME, sizeof(RATCHET_PROTOCOL_NAME) - 1);
	memcpy(ck, h, 32);
	sha256(h, h, 32);
	mix_hash(h, bpk->b, 32);
}

static void add_datetime(struct bbuf *b, uint64_t now_ms)
{
	garlic_block_datetime(b, (uint32_t)(now_ms / 1000));
}

/*
 * Write an NS to bpk carrying payload (already with its DateTime).  as NULL:
 * one-time (zero static key).  ck/h/esk get the state for the NSR (when
 * not NULL).
 */
static int ns_write(const struct x25519_pk *bpk, const struct x25519_sk *as,
		    const struct x25519_pk *apk, const uint8_t *payload,
		    size_t len, struct bbuf *out, uint8_t ck_out[32],
		    uint8_t h_out[32], struct x25519_sk *esk_out)
{
	uint8_t ck[32], h[32], k[32], dh[32], repr[32];
	static const uint8_t zero[32];
	struct x25519_sk esk;
	struct x25519_pk epk;
	uint8_t *p;
	int r = 0;

	ns_init(ck, h, bpk);
	elligator2_keygen(&esk, &epk, repr);
	/* "MixHash(aepk)": the decoded key, never the representative */
	mix_hash(h, epk.b, 32);
	if ((r = x25519_dh(dh, &esk, bpk)) != 0)
		goto out;
	mix_key(ck, k, dh);
	bbuf_put(out, repr, 32);
	p = bbuf_extend(out, 48);
	chachapoly_encrypt_n(p, k, 0, h, 32, as ? apk->b : zero, 32);
	mix_hash(h, p, 48);
	p = bbuf_extend(out, len + 16);
	if (as) {
		if ((r = x25519_dh(dh, as, bpk)) != 0)
			goto out;
		mix_key(ck, k, dh);
		chachapoly_encrypt_n(p, k, 0, h, 32, payload, len);
	} else {
		/* one-time: same k, n = 1 */
		chachapoly_encrypt_n(p, k, 1, h, 32, payload, len);
	}
	mix_hash(h, p, len + 16);
	if (ck_out)
		memcpy(ck_out, ck, 32);
	if (h_out)
		memcpy(h_out, h, 32);
	if (esk_out)
		*esk_out = esk;
out:
	memwipe(ck, sizeof(ck));
	memwipe(k, sizeof(k));
	memwipe(dh, sizeof(dh));
	memwipe(&esk, sizeof(esk));
	return r;
}

/* ---- Noise: the NSR KDF shared by both sides ---- */

/*
 * From the NS state (ck, h) and the two DH results (ee, se): the key of
 * the empty AEAD (k), the chaining key after it, k_ab and k_ba.
 * "ck = HKDF(ck, DH(ae, be), "", 32)"; "MixKey(DH(as, be))"; Split.
 */
static void nsr_keys(const uint8_t ns_ck[32], const uint8_t ee[32],
		     const uint8_t se[32], uint8_t k[32], uint8_t ck[32],
		     uint8_t k_ab[32], uint8_t k_ba[32])
{
	uint8_t kd[64];

	hkdf_sha256(ck, 32, ns_ck, 32, ee, 32, NULL, 0);
	mix_key(ck, k, se);
	hkdf_sha256(kd, 64, ck, 32, NULL, 0, NULL, 0);
	memcpy(k_ab, kd, 32);
	memcpy(k_ba, kd + 32, 32);
	memwipe(kd, sizeof(kd));
}

/* h after the NSR's key section; hash tag and decoded key, then the
 * empty AEAD's 16 bytes. */
static void nsr_hash(uint8_t h[32], const uint8_t ns_h[32],
		     const uint8_t tag[8], const struct x25519_pk *bepk)
{
	memcpy(h, ns_h, 32);
	mix_hash(h, tag, 8);
	mix_hash(h, bepk->b, 32);
}

static void attach_payload_key(uint8_t pk[32], const uint8_t k_ba[32])
{
	/* "k = HKDF(k_ba, ZEROLEN, "AttachPayloadKDF", 32)" */
	hkdf_sha256(pk, 32, k_ba, 32, NULL, 0, LABEL("AttachPayloadKDF"));
}

/* ---- sending ---- */

/* Start the DH ratchet of our outbound tag set (ecies spec "DH RATCHET
 * MESSAGE FLOW"): odd tag sets ask for a new reverse key, even ones
 * carry a new forward key; the very first does both. */
static int out_ratchet_start(struct ratchet_session *s)
{
	uint32_t next = (uint32_t)s->tx_id + 1;

	if (next > 65535)
		return ERR_LIMIT;
	memset(&s->out_nk, 0, sizeof(s->out_nk));
	if (s->out_my_id < 0 || next % 2 == 0) {
		if (s->out_my_id >= RATCHET_MAX_KEY_ID)
			return ERR_LIMIT;
		s->out_my_id++;
		x25519_keygen(&s->out_sk, &s->out_pk);
		s->out_nk.flags = RATCHET_NK_KEY;
		s->out_nk.key = s->out_pk;
	}
	if (next % 2 == 1)
		s->out_nk.flags |= RATCHET_NK_REQUEST;
	s->out_nk.key_id = (uint16_t)s->out_my_id;
	s->out_awaiting = true;
	return 0;
}

/* The payload is written in place after room for the tag and encrypted
 * there: no buffer of its own, no copy (an ES is the hot path). */
static int es_write(struct ratchet_ctx *c, struct ratchet_session *s,
		    const uint8_t *blocks, size_t len, unsigned flags,
		    struct bbuf *out)
{
	size_t start = out->len, pl_start, pl_len;
	uint8_t key[32];
	uint32_t n;
	int r;

	if (s->tx.n >= RATCHET_TAGSET_MAX_N)
		return ERR_LIMIT;
	/* "When a tag set is almost exhausted, the tag set sender must
	 * initiate a NextKey exchange." */
	if (!s->out_awaiting && s->tx.n >= c->params.ratchet_after &&
	    (r = out_ratchet_start(s)) != 0 &&
	    s->tx.n >= RATCHET_TAGSET_MAX_N - 1)
		return r;
	bbuf_reserve(out, 8 + len + 16 + 256);
	bbuf_extend(out, 8);
	pl_start = out->len;
	if (s->out_awaiting)
		ratchet_block_nextkey(out, &s->out_nk);
	if (s->in_reply_pending)
		ratchet_block_nextkey(out, &s->in_reply);
	if (s->send_pn)
		ratchet_block_msgnum(out, s->pn);
	if (s->n_acks)
		ratchet_block_ack(out, s->acks, s->n_acks);
	if (flags & RATCHET_F_ACK_REQUEST)
		ratchet_block_ack_request(out);
	bbuf_put(out, blocks, len);
	pl_len = out->len - pl_start;
	if (pl_len > RATCHET_MAX_PAYLOAD_BYTES) {
		memwipe(out->data + start, out->len - start);
		out->len = start;
		return ERR_TOO_BIG;
	}
	s->send_pn = false;
	s->n_acks = 0;
	s->owe_reply = false;
	n = ratchet_tagset_next(&s->tx, out->data + start, key);
	/* "ES: tag ‖ AEAD(key for that tag, nonce = N, AD = tag)" */
	bbuf_extend(out, 16);
	chachapoly_encrypt_n(out->data + pl_start, key, n, out->data + start,
			     8, out->data + pl_start, pl_len);
	memwipe(key, sizeof(key));
	c->stats.es_out++;
	return 0;
}

static int nsr_write(struct ratchet_ctx *c, struct ratchet_session *s,
		     const uint8_t *blocks, size_t len, struct bbuf *out)
{
	uint8_t tag[8], key[32], h[32], pk[32];
	uint8_t *p;

	if (len > RATCHET_MAX_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	if (s->nsr_tx.n >= RATCHET_NSR_TAGS)
		return ERR_LIMIT;
	(void)ratchet_tagset_next(&s->nsr_tx, tag, key);
	nsr_hash(h, s->ns_h, tag, &s->nsr_epk);
	bbuf_put(out, tag, 8);
	/* i2pd reuses one ephemeral key for all NSRs of a session */
	bbuf_put(out, s->nsr_repr, 32);
	p = bbuf_extend(out, 16);
	chachapoly_encrypt_n(p, s->nsr_k, 0, h, 32, NULL, 0);
	mix_hash(h, p, 16);
	attach_payload_key(pk, s->k_ba);
	chachapoly_encrypt_n(bbuf_extend(out, len + 16), pk, 0, h, 32, blocks,
			     len);
	memwipe(key, sizeof(key));
	memwipe(pk, sizeof(pk));
	s->owe_nsr = false;
	c->stats.nsr_out++;
	return 0;
}

static int ns_send(struct ratchet_ctx *c, struct ratchet_session *s,
		   const uint8_t *blocks, size_t len, uint64_t now_ms,
		   struct bbuf *out)
{
	struct bbuf pl = BBUF_INIT;
	struct ns_rec *rec = NULL;
	int r;

	/* a free slot, else the oldest NS is given up */
	for (int i = 0; i < RATCHET_MAX_PENDING_NS && !rec; i++)
		if (!s->ns[i].used)
			rec = &s->ns[i];
	if (!rec) {
		ns_rec_clear(c, &s->ns[0]);
		memmove(&s->ns[0], &s->ns[1],
			(RATCHET_MAX_PENDING_NS - 1) * sizeof(s->ns[0]));
		rec = &s->ns[RATCHET_MAX_PENDING_NS - 1];
		memset(rec, 0, sizeof(*rec));
		for (int i = 0; i < RATCHET_MAX_PENDING_NS; i++)
			if (s->ns[i].nsr_ts)
				s->ns[i].nsr_ts->ns_idx = i;
	}
	add_datetime(&pl, now_ms);
	bbuf_put(&pl, blocks, len);
	if (pl.len > RATCHET_MAX_PAYLOAD_BYTES) {
		bbuf_free(&pl);
		return ERR_TOO_BIG;
	}
	r = ns_write(&s->remote, c->sk, &c->pk, pl.data, pl.len, out,
		     rec->ck, rec->h, &rec->esk);
	bbuf_free(&pl);
	if (r != 0)
		return r;
	rec->used = true;
	rec->nsr_ts = rx_new(s, 0, (int)(rec - s->ns));
	ratchet_tagset_init_nsr(&rec->nsr_ts->gen, rec->ck);
	rx_fill(c, rec->nsr_ts, RATCHET_NSR_TAGS);
	c->stats.ns_out++;
	return 0;
}

int ratchet_encrypt(struct ratchet_ctx *c, const struct x25519_pk *remote,
		    const uint8_t *blocks, size_t len, unsigned flags,
		    uint64_t now_ms, struct bbuf *out)
{
	struct ratchet_session *s;
	int r;

	if (len > RATCHET_MAX_PAYLOAD_BYTES)
		return ERR_TOO_BIG;
	if (flags & RATCHET_F_ONE_TIME) {
		struct bbuf pl = BBUF_INIT;

		add_datetime(&pl, now_ms);
		bbuf_put(&pl, blocks, len);
		r = pl.len > RATCHET_MAX_PAYLOAD_BYTES ? ERR_TOO_BIG :
		    ns_write(remote, NULL, NULL, pl.data, pl.len, out, NULL,
			     NULL, NULL);
		bbuf_free(&pl);
		if (r == 0)
			c->stats.ns_out++;
		return r;
	}
	s = session_pick(c, remote, true);
	if (!s) {
		s = session_new(c, remote, S_NS_SENT, now_ms);
		s->ours = true;
	}
	s->active_ms = now_ms;
	switch (s->state) {
	case S_ESTABLISHED:
		return es_write(c, s, blocks, len, flags, out);
	case S_NSR_SENT:
		return nsr_write(c, s, blocks, len, out);
	case S_NS_SENT:
		return ns_send(c, s, blocks, len, now_ms, out);
	}
	return ERR_INTERNAL;
}

/* ---- receiving ---- */

/* n bytes of plain to decrypt into; never a NULL pointer, even for an
 * empty payload. */
static uint8_t *plain_room(struct bbuf *plain, size_t n)
{
	bbuf_reserve(plain, n + 1);
	return bbuf_extend(plain, n);
}

static bool replay_seen(struct ratchet_ctx *c, const uint8_t epk[32])
{
	uint64_t v = tag_u64(epk);

	for (size_t i = 0; i < c->replay_n; i++)
		if (c->replay[i] == v)
			return true;
	return false;
}

static void replay_add(struct ratchet_ctx *c, const uint8_t epk[32])
{
	c->replay[c->replay_pos] = tag_u64(epk);
	c->replay_pos = (c->replay_pos + 1) % RATCHET_REPLAY_MAX;
	if (c->replay_n < RATCHET_REPLAY_MAX)
		c->replay_n++;
}

/*
 * Bob: a new session answering a bound NS from apk, with the NS state
 * (ck, h) and Alice's ephemeral key aepk; it owes Alice an NSR (she may
 * send nothing until one comes: i2pd does so).  An established session
 * to apk older than RATCHET_REPLACE_MS is replaced at once ("replace
 * session if NS received after" that long); a younger one keeps sending
 * until the new session's first ES shows Alice uses it (a late NS, or
 * several NS before her NSR, must not cut a working session).  Our own
 * session to apk still waiting for its NSR, or established but never
 * answered, makes this an NS/NS race (session_settle()).
 */
static int bob_session(struct ratchet_ctx *c, const struct x25519_pk *apk,
		       const struct x25519_pk *aepk, const uint8_t ck[32],
		       const uint8_t h[32], uint64_t now_ms)
{
	struct ratchet_session *s;
	struct x25519_sk besk;
	uint8_t ee[32], se[32], ck2[32], k_ab[32];
	int r;

	if (c->nsessions >= c->params.max_sessions) {
		/* room: the oldest session answering an NS that Alice has
		 * not used (an ES on it would have established it) */
		struct ratchet_session *old = NULL;

		for (s = c->sessions; s; s = s->next)
			if (!s->ours && s->state == S_NSR_SENT &&
			    (!old || s->created_ms <= old->created_ms))
				old = s;
		if (!old) {
			c->stats.sessions_refused++;
			return ERR_LIMIT;
		}
		session_unlink_free(c, old);
		c->stats.sessions_evicted++;
	}
	s = session_new(c, apk, S_NSR_SENT, now_ms);
	elligator2_keygen(&besk, &s->nsr_epk, s->nsr_repr);
	if ((r = x25519_dh(ee, &besk, aepk)) != 0 ||
	    (r = x25519_dh(se, &besk, apk)) != 0) {
		session_unlink_free(c, s);
		goto out;
	}
	memcpy(s->ns_h, h, 32);
	ratchet_tagset_init_nsr(&s->nsr_tx, ck);
	nsr_keys(ck, ee, se, s->nsr_k, ck2, k_ab, s->k_ba);
	/* tagset_ba = DH_INITIALIZE(ck, k_ba) for Bob's ES, tagset_ab for
	 * Alice's */
	ratchet_tagset_init(&s->tx, ck2, s->k_ba);
	s->rx_cur = rx_new(s, 0, -1);
	ratchet_tagset_init(&s->rx_cur->gen, ck2, k_ab);
	rx_fill(c, s->rx_cur, c->params.lookahead);
	s->owe_nsr = true;
	for (struct ratchet_session *o = c->sessions; o; o = o->next) {
		bool young = now_ms < o->created_ms + RATCHET_REPLACE_MS;

		if (o == s || o->retired ||
		    memcmp(o->remote.b, apk->b, 32) != 0)
			continue;
		if (!o->ours)		/* NSRs answer the newest NS */
			o->owe_nsr = false;
		if (o->ours && (o->state == S_NS_SENT ||
				(o->state == S_ESTABLISHED && young &&
				 !o->heard)))
			o->race = s->race = true;
		else if (o->state == S_ESTABLISHED && !young)
			o->retired = true;
	}
out:
	memwipe(&besk, sizeof(besk));
	memwipe(ee, sizeof(ee));
	memwipe(se, sizeof(se));
	memwipe(ck2, sizeof(ck2));
	memwipe(k_ab, sizeof(k_ab));
	return r;
}

static int ns_read(struct ratchet_ctx *c, const uint8_t *data, size_t len,
		   uint64_t now_ms, struct bbuf *plain,
		   struct ratchet_payload *pl, struct ratchet_rx_info *info)
{
	static const uint8_t zero[32];
	uint8_t ck[32], h[32], k[32], dh[32];
	struct x25519_pk epk, apk;
	const uint8_t *ct;
	size_t plen;
	bool bound;
	int r;

	if (len < RATCHET_NS_OVERHEAD_BYTES) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	/* untrusted representative: out of range means "not an NS" */
	if (elligator2_decode(data, &epk) != 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	ns_init(ck, h, &c->pk);
	mix_hash(h, epk.b, 32);
	if ((r = x25519_dh(dh, c->sk, &epk)) != 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	mix_key(ck, k, dh);
	if (chachapoly_decrypt_n(apk.b, k, 0, h, 32, data + 32, 48) != 0) {
		r = ERR_NOT_FOUND;	/* garbage, or an unknown tag */
		goto out;
	}
	mix_hash(h, data + 32, 48);
	bound = memcmp(apk.b, zero, 32) != 0;
	ct = data + 80;
	plen = len - 80 - 16;
	bbuf_reset(plain);
	if (bound) {
		if ((r = x25519_dh(dh, c->sk, &apk)) != 0) {
			r = ERR_NOT_FOUND;
			goto out;
		}
		mix_key(ck, k, dh);
	}
	/* one-time: "keep the same k and use n = 1 for the payload" */
	if (chachapoly_decrypt_n(plain_room(plain, plen), k, bound ? 0 : 1,
				 h, 32, ct, plen + 16) != 0) {
		r = ERR_AUTH;
		c->stats.bad_auth++;
		goto out;
	}
	mix_hash(h, ct, plen + 16);
	if ((r = ratchet_payload_parse(plain->data, plain->len,
				       RATCHET_KIND_NS, pl)) != 0) {
		c->stats.bad_format++;
		goto out;
	}
	{
		uint64_t t = (uint64_t)pl->g.datetime_s * 1000;

		if (t + RATCHET_NS_MAX_AGE_MS < now_ms ||
		    t > now_ms + RATCHET_NS_MAX_FUTURE_MS) {
			c->stats.bad_time++;
			r = ERR_EXPIRED;
			goto out;
		}
	}
	if (replay_seen(c, epk.b)) {
		c->stats.replay++;
		r = ERR_DUPLICATE;
		goto out;
	}
	replay_add(c, epk.b);
	if (bound && (r = bob_session(c, &apk, &epk, ck, h, now_ms)) != 0)
		goto out;
	c->stats.ns_in++;
	memset(info, 0, sizeof(*info));
	info->kind = RATCHET_KIND_NS;
	info->bound = bound;
	if (bound)
		info->remote = apk;
out:
	memwipe(ck, sizeof(ck));
	memwipe(k, sizeof(k));
	memwipe(dh, sizeof(dh));
	return r;
}

/* Alice: an NSR under the tag of her NS rec. */
static int nsr_read(struct ratchet_ctx *c, struct tag_ent *e,
		    const uint8_t *data, size_t len, uint64_t now_ms,
		    struct bbuf *plain, struct ratchet_payload *pl)
{
	struct rx_ts *ts = e->ts;
	struct ratchet_session *s = ts->s;
	struct ns_rec *rec = &s->ns[ts->ns_idx];
	struct x25519_pk bepk;
	uint8_t h[32], k[32], ck[32], k_ab[32], k_ba[32], ee[32], se[32];
	uint8_t pk[32];
	size_t plen;
	int r;

	if (len < RATCHET_NSR_OVERHEAD_BYTES)
		return ERR_TRUNCATED;
	if (elligator2_decode(data + 8, &bepk) != 0)
		return ERR_FORMAT;
	if ((r = x25519_dh(ee, &rec->esk, &bepk)) != 0 ||
	    (r = x25519_dh(se, c->sk, &bepk)) != 0)
		goto out;
	nsr_hash(h, rec->h, data, &bepk);
	nsr_keys(rec->ck, ee, se, k, ck, k_ab, k_ba);
	if ((r = chachapoly_decrypt_n(pk, k, 0, h, 32, data + 40, 16)) != 0)
		goto out;
	mix_hash(h, data + 40, 16);
	attach_payload_key(pk, k_ba);
	plen = len - RATCHET_NSR_OVERHEAD_BYTES;
	bbuf_reset(plain);
	if ((r = chachapoly_decrypt_n(plain_room(plain, plen), pk, 0, h, 32,
				      data + 56, plen + 16)) != 0)
		goto out;
	/* the tag is spent once the NSR authenticates */
	rx_drop(c, e);
	if ((r = ratchet_payload_parse(plain->data, plain->len,
				       RATCHET_KIND_NSR, pl)) != 0) {
		c->stats.bad_format++;
		goto out;
	}
	if (s->state == S_NS_SENT) {
		/* "Alice ... uses the first" NSR: the session's keys */
		ratchet_tagset_init(&s->tx, ck, k_ab);
		s->rx_cur = rx_new(s, 0, -1);
		ratchet_tagset_init(&s->rx_cur->gen, ck, k_ba);
		rx_fill(c, s->rx_cur, c->params.lookahead);
		s->state = S_ESTABLISHED;
		/* the other NS records stay until expiry so that their NSRs
		 * still deliver payloads; their keys are not used */
		for (int i = 0; i < RATCHET_MAX_PENDING_NS; i++)
			if (s->ns[i].nsr_ts)
				s->ns[i].nsr_ts->expires_ms =
					now_ms + RATCHET_OLD_TAGSET_MS;
		session_settle(c, s);
	}
	s->active_ms = now_ms;
	c->stats.nsr_in++;
out:
	memwipe(h, sizeof(h));
	memwipe(k, sizeof(k));
	memwipe(ck, sizeof(ck));
	memwipe(k_ab, sizeof(k_ab));
	memwipe(k_ba, sizeof(k_ba));
	memwipe(ee, sizeof(ee));
	memwipe(se, sizeof(se));
	memwipe(pk, sizeof(pk));
	if (r == ERR_AUTH)
		c->stats.bad_auth++;
	return r;
}

/* A forward Next Key: the peer ratchets the tag set it sends us. */
static int nextkey_forward(struct ratchet_ctx *c, struct ratchet_session *s,
			   const struct ratchet_nextkey *nk, uint64_t now_ms)
{
	struct rx_ts *ts;
	uint8_t dh[32];
	uint32_t id;
	int r, my_id = s->in_my_id;
	bool newkey = false;

	/* "(repeat until next key received)": a repeat gets our reply again */
	if (s->in_last_valid && s->in_last.flags == nk->flags &&
	    s->in_last.key_id == nk->key_id &&
	    (!(nk->flags & RATCHET_NK_KEY) ||
	     memcmp(s->in_last.key.b, nk->key.b, 32) == 0)) {
		/* nothing has come on the new tag set yet */
		if (!s->in_heard_new)
			s->in_reply_pending = s->owe_reply = true;
		return 0;
	}
	if (!(nk->flags & RATCHET_NK_KEY) && s->in_peer_id != nk->key_id)
		return ERR_PROTOCOL;
	if (nk->flags & RATCHET_NK_REQUEST) {
		newkey = true;
		my_id++;
	} else if (my_id < 0) {
		return ERR_PROTOCOL;
	}
	if (my_id > RATCHET_MAX_KEY_ID)
		return ERR_LIMIT;
	/* "the tag set number is (1 + sender key id + receiver key id)" */
	id = 1 + (uint32_t)nk->key_id + (uint32_t)my_id;
	if (id != (uint32_t)s->rx_cur->id + 1)
		return ERR_PROTOCOL;
	if (newkey)
		x25519_keygen(&s->in_sk, &s->in_pk);
	s->in_my_id = my_id;
	if (nk->flags & RATCHET_NK_KEY)
		s->in_peer = nk->key;
	s->in_peer_id = nk->key_id;
	if ((r = x25519_dh(dh, &s->in_sk, &s->in_peer)) != 0)
		return r;
	ts = rx_new(s, (uint16_t)id, -1);
	ratchet_tagset_dh_step(&ts->gen, &s->rx_cur->gen, dh);
	memwipe(dh, sizeof(dh));
	rx_fill(c, ts, c->params.lookahead);
	rx_free(c, s->rx_prev);
	s->rx_prev = s->rx_cur;
	s->rx_prev->expires_ms = now_ms + RATCHET_OLD_TAGSET_MS;
	s->rx_cur = ts;
	memset(&s->in_reply, 0, sizeof(s->in_reply));
	s->in_reply.flags = RATCHET_NK_REVERSE |
			    (newkey ? RATCHET_NK_KEY : 0);
	s->in_reply.key_id = (uint16_t)my_id;
	s->in_reply.key = s->in_pk;
	s->in_reply_pending = s->owe_reply = true;
	s->in_last = *nk;
	s->in_last_valid = true;
	s->in_heard_new = false;
	c->stats.ratchets_in++;
	log_debug(LD_GARLIC, "DH ratchet: the peer's tag set %u (%" PRIu64
		  " so far)", (unsigned)my_id, c->stats.ratchets_in);
	return 0;
}

/* A reverse Next Key: the answer to our forward one. */
static int nextkey_reverse(struct ratchet_ctx *c, struct ratchet_session *s,
			   const struct ratchet_nextkey *nk)
{
	uint8_t dh[32];
	uint32_t id;
	uint16_t last;
	int r;

	if (!s->out_awaiting)
		return 0;		/* a repeat of one we used */
	if (!(nk->flags & RATCHET_NK_KEY) && s->out_peer_id != nk->key_id)
		return ERR_PROTOCOL;
	id = 1 + (uint32_t)s->out_my_id + (uint32_t)nk->key_id;
	if (id != (uint32_t)s->tx_id + 1)
		return ERR_PROTOCOL;
	if (nk->flags & RATCHET_NK_KEY)
		s->out_peer = nk->key;
	s->out_peer_id = nk->key_id;
	if ((r = x25519_dh(dh, &s->out_sk, &s->out_peer)) != 0)
		return r;
	last = (uint16_t)(s->tx.n ? s->tx.n - 1 : 0);
	ratchet_tagset_dh_step(&s->tx, &s->tx, dh);
	memwipe(dh, sizeof(dh));
	s->tx_id = (uint16_t)id;
	s->out_awaiting = false;
	/* "PN: the index of the last tag sent in the previous tag set" */
	s->pn = last;
	s->send_pn = true;
	c->stats.ratchets_out++;
	log_debug(LD_GARLIC, "DH ratchet: our tag set %u (%" PRIu64
		  " so far)", (unsigned)id, c->stats.ratchets_out);
	return 0;
}

/* Act on an ES payload's control blocks. */
static void es_control(struct ratchet_ctx *c, struct ratchet_session *s,
		       struct rx_ts *ts, uint16_t n,
		       const struct ratchet_payload *pl, uint64_t now_ms)
{
	for (size_t i = 0; i < pl->n_nextkeys; i++) {
		const struct ratchet_nextkey *nk = &pl->nextkeys[i];
		int r = (nk->flags & RATCHET_NK_REVERSE) ?
			nextkey_reverse(c, s, nk) :
			nextkey_forward(c, s, nk, now_ms);

		if (r != 0)
			c->stats.bad_nextkey++;
	}
	c->stats.acks_in += pl->n_acks;
	if (pl->ack_request && s->n_acks < RATCHET_MAX_ACKS) {
		s->acks[s->n_acks].tagset_id = ts->id;
		s->acks[s->n_acks++].n = n;
	}
	/* "Receiver may immediately delete tags higher than PN from the
	 * previous tag set." */
	if (pl->has_pn && s->rx_prev && ts == s->rx_cur) {
		struct rx_ts *p = s->rx_prev;

		for (uint32_t m = (uint32_t)pl->pn + 1; m < p->gen.n; m++)
			if (m >= p->low && p->ents[m - p->base]) {
				tag_unlink(c, p->ents[m - p->base]);
				p->ents[m - p->base] = NULL;
			}
	}
	if (pl->has_termination)
		s->retired = true;
}

static int es_read(struct ratchet_ctx *c, struct tag_ent *e,
		   const uint8_t *data, size_t len, uint64_t now_ms,
		   struct bbuf *plain, struct ratchet_payload *pl,
		   struct ratchet_rx_info *info)
{
	struct rx_ts *ts = e->ts;
	struct ratchet_session *s = ts->s;
	uint16_t n = e->n;
	size_t plen;
	int r;

	if (len < RATCHET_ES_OVERHEAD_BYTES)
		return ERR_TRUNCATED;
	plen = len - RATCHET_ES_OVERHEAD_BYTES;
	bbuf_reset(plain);
	if (chachapoly_decrypt_n(plain_room(plain, plen), e->key, n, data, 8,
				 data + 8, plen + 16) != 0) {
		/* keep the tag: tags are public, so a forgery must not
		 * burn it */
		c->stats.bad_auth++;
		return ERR_AUTH;
	}
	/* spent: drop it, keep the window LOOKAHEAD ahead and MAX_BEHIND
	 * behind */
	rx_drop(c, e);
	rx_fill(c, ts, (uint32_t)n + 1 + lookahead_at(c, n));
	if ((uint32_t)n + 1 > RATCHET_MAX_BEHIND)
		rx_advance(c, ts, (uint32_t)n + 1 - RATCHET_MAX_BEHIND);
	else
		rx_advance(c, ts, ts->low);
	s->active_ms = now_ms;
	if (s->state == S_NSR_SENT) {
		/* Alice's first ES: Bob "switches to use Existing Session
		 * messages" */
		s->state = S_ESTABLISHED;
		s->owe_nsr = false;
		ratchet_tagset_wipe(&s->nsr_tx);
		memwipe(s->nsr_k, sizeof(s->nsr_k));
		memwipe(s->k_ba, sizeof(s->k_ba));
		session_settle(c, s);
	}
	s->heard = true;
	if (s->retired && s->state == S_ESTABLISHED)
		session_revive(c, s);
	/* the reverse key goes out "until tag received on new tagset" */
	if (ts == s->rx_cur && ts->id != 0) {
		s->in_heard_new = true;
		s->in_reply_pending = s->owe_reply = false;
	}
	if ((r = ratchet_payload_parse(plain->data, plain->len,
				       RATCHET_KIND_ES, pl)) != 0) {
		c->stats.bad_format++;
		return r;
	}
	es_control(c, s, ts, n, pl, now_ms);
	c->stats.es_in++;
	memset(info, 0, sizeof(*info));
	info->kind = RATCHET_KIND_ES;
	info->bound = true;
	info->remote = s->remote;
	info->tagset_id = ts->id;
	info->n = n;
	return 0;
}

int ratchet_decrypt(struct ratchet_ctx *c, const uint8_t *data, size_t len,
		    uint64_t now_ms, struct bbuf *plain,
		    struct ratchet_payload *pl, struct ratchet_rx_info *info)
{
	struct tag_ent *e = NULL;
	int r;

	if (len > RATCHET_MAX_PAYLOAD_BYTES + RATCHET_NS_OVERHEAD_BYTES) {
		c->stats.bad_size++;
		return ERR_TOO_BIG;
	}
	if (len >= 8)
		e = tag_find(c, tag_u64(data));
	if (e && e->ts->ns_idx >= 0) {
		struct ratchet_session *s = e->ts->s;

		if ((r = nsr_read(c, e, data, len, now_ms, plain, pl)) != 0)
			return r;
		memset(info, 0, sizeof(*info));
		info->kind = RATCHET_KIND_NSR;
		info->bound = true;
		info->remote = s->remote;
		return 0;
	}
	if (e)
		return es_read(c, e, data, len, now_ms, plain, pl, info);
	r = ns_read(c, data, len, now_ms, plain, pl, info);
	if (r == ERR_NOT_FOUND)
		c->stats.no_tag++;
	return r;
}

bool ratchet_ctx_has_tag(const struct ratchet_ctx *c, const uint8_t *data,
			 size_t len)
{
	return len >= 8 && tag_find(c, tag_u64(data)) != NULL;
}

bool ratchet_ctx_ack_pending(const struct ratchet_ctx *c,
			     const struct x25519_pk *remote)
{
	const struct ratchet_session *s = session_pick(c, remote, true);

	return s && (s->owe_nsr || s->n_acks > 0 || s->owe_reply);
}

void ratchet_ctx_expire(struct ratchet_ctx *c, uint64_t now_ms)
{
	struct ratchet_session **pp = &c->sessions;

	while (*pp) {
		struct ratchet_session *s = *pp;
		bool drop = s->active_ms + RATCHET_SESSION_IDLE_MS < now_ms ||
			    (s->state != S_ESTABLISHED &&
			     s->created_ms + RATCHET_HANDSHAKE_MS < now_ms) ||
			    (s->retired &&
			     s->active_ms + RATCHET_OLD_TAGSET_MS < now_ms);

		if (drop) {
			*pp = s->next;
			session_free(c, s);
			continue;
		}
		if (s->rx_prev && s->rx_prev->expires_ms < now_ms)
		{
			rx_free(c, s->rx_prev);
			s->rx_prev = NULL;
		}
		for (int i = 0; i < RATCHET_MAX_PENDING_NS; i++)
			if (s->ns[i].nsr_ts && s->ns[i].nsr_ts->expires_ms &&
			    s->ns[i].nsr_ts->expires_ms < now_ms)
				ns_rec_clear(c, &s->ns[i]);
		pp = &s->next;
	}
}

size_t ratchet_ctx_session_count(const struct ratchet_ctx *c)
{
	size_t n = 0;

	for (const struct ratchet_session *s = c->sessions; s; s = s->next)
		n++;
	return n;
}

size_t ratchet_ctx_tag_count(const struct ratchet_ctx *c)
{
	return c->ntags;
}

bool ratchet_ctx_renew(struct ratchet_ctx *c, const struct x25519_pk *remote)
{
	bool any = false;

	for (struct ratchet_session *s = c->sessions; s; s = s->next)
		if (!s->retired && s->state == S_ESTABLISHED &&
		    memcmp(s->remote.b, remote->b, 32) == 0) {
			s->retired = true;
			any = true;
		}
	return any;
}

int ratchet_ctx_tx_tagset_id(const struct ratchet_ctx *c,
			     const struct x25519_pk *remote)
{
	const struct ratchet_session *s = session_for(c, remote);

	return s && s->state == S_ESTABLISHED ? s->tx_id : -1;
}
