/*
 * libFuzzer target: the swarm engine (apps/swarm/swarm.c) under what
 * remote peers send it, in any order: peer_read and peer_handle with all
 * they call (handshake, bitfield and have, request, cancel and reject,
 * piece, metadata fetch, PEERS, ANNOUNCE to a tracker, PAY).
 *
 * One real struct swarm per input, holding one small content (6 chunks of
 * 16 KiB, the last short) in a real blob store on disk (under /dev/shm
 * when it exists), on a real stream manager.  Two remote destinations R0
 * and R1 speak for the input; their ends of the streams are played here
 * by hand, as in fuzz_stream_mgr (packets in order, each acked at once,
 * signed only where the swarm's manager checks: SYN, CLOSE, RESET), and
 * signatures are remembered, so that an input costs about one signature
 * check per stream.  Packets go through an in-process queue, pumped
 * until quiet after every step; the clock is virtual
 * (time_set_mono_override), the random stream fixed, and the swarm's
 * timers run only when the input moves time on (swarm_internal.h), so an
 * input does the same thing every time.
 *
 * Input: byte 0 is the setup: bits 0-1 the role (0 seeding the whole
 * content, 1 fetching it with its manifest and tree and no chunk, 2
 * fetching it by hash, metadata first, 3 holding the even chunks), bit 2
 * streaming mode, bit 3 a payment hook, bit 4 the tracker role, bit 5
 * small limits (1 peer, 1 slot, pipeline 2), bit 6 an upload budget,
 * bit 7 a reader that calls swarm_play from the chunk callback.  Then up
 * to STEPS_MAX steps: an opcode byte (op % STEP_OPS the step, op /
 * STEP_OPS the connection) and its argument bytes (see step()): open a
 * stream from R0 or R1 (from and to which port), raw bytes, a frame of
 * each type built from the real content (a chunk with its proof, a page
 * of the manifest or tree) with or without a fault, our end's CLOSE or
 * RESET, time moving on, answering what the swarm asked as an honest
 * seeder would, and calls of the swarm's API (seek, play, chunk lost,
 * hints, connecting out, trackers, removing and adding the content).
 *
 * Properties, besides no crash, sanitizer report or leak:
 *  - every frame the swarm sends decodes; what it serves (chunks and
 *    proofs, metadata pages) is the content's own bytes; it never sends a
 *    piece or a reject of a chunk more often than it was asked for it,
 *    never asks for a chunk past the end, never lists a peer to itself;
 *  - a connection whose peer broke the protocol whatever the state (a
 *    frame that does not decode, a first frame that is not a handshake,
 *    a second handshake, a wrong content or version), and a stream
 *    opened to another port than SWARM_PORT, are ended;
 *  - a peer that sent a chunk or proof that does not verify is banned
 *    and gone; no banned peer is connected; no peer outlives its stream,
 *    and no destination is connected twice;
 *  - the counters hold: have_count <= chunk_count, in flight within the
 *    pipeline and none to a peer that chokes us or once whole, peers
 *    within max_peers, the counters of bad pieces and bytes never fall;
 *  - each chunk the callback reports is the real chunk, once; the
 *    payment hook's close only follows its open; at the end the store
 *    holds exactly the chunks the swarm counts.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/client/dest.h"
#include "apps/client/stream.h"
#include "apps/content/manifest.h"
#include "apps/content/merkle.h"
#include "apps/content/store.h"
#include "apps/swarm/msg.h"
#include "apps/swarm/swarm.h"
#include "apps/swarm/swarm_internal.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/hash.h"
#include "crypto/rand.h"
#include "router/evloop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_CHUNKS 6
#define CONTENT_BYTES (5 * 16384 + 1000)
#define ENDS 3			/* 0: the swarm's, 1 and 2: R0 and R1 */
#define CONNS_MAX 6
#define CONNECTS_MAX 10		/* streams per input (each is a SYN) */
#define STEPS_MAX 256
#define PUMP_MAX 20000		/* packets and timer runs per pump */
#define T0 1000000000ull	/* the virtual clock's start (ms) */
#define HS_HAVE_META 1u		/* handshake flag: we serve META */

enum role { ROLE_SEED, ROLE_LEECH, ROLE_FETCH, ROLE_PARTIAL };

/* ---- built once ---- */

/* A signer that remembers: Ed25519 signatures are deterministic, so the
 * same packet signed again (a SYN, a CLOSE, in run after run) takes the
 * signature from the table instead of the key.  Its output is exactly the
 * wrapped signer's. */
#define MEMO_SLOTS 4096
struct memo_signer {
	struct stream_signer real, sg;
	uint8_t id;
};

static struct {
	uint8_t key[32];
	uint8_t sig[64];
	bool used;
} memo[MEMO_SLOTS];

static void memo_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t *sig)
{
	struct memo_signer *m = ctx;
	uint8_t k[32];
	unsigned slot;

	sha256_2(k, &m->id, 1, msg, len);
	slot = be32_get(k) % MEMO_SLOTS;
	if (memo[slot].used && memcmp(memo[slot].key, k, 32) == 0) {
		memcpy(sig, memo[slot].sig, m->real.sig_len);
		return;
	}
	m->real.sign(m->real.ctx, msg, len, sig);
	memcpy(memo[slot].key, k, 32);
	memcpy(memo[slot].sig, sig, m->real.sig_len);
	memo[slot].used = true;
}

static struct {
	bool ready;
	char *dir;
	struct content_store *seed_st, *leech_st;
	struct client_dest *d[ENDS];
	struct memo_signer sg[ENDS];
	uint8_t hash[32], other[32];
	struct content_manifest m;
	uint8_t *meta[2];		/* manifest, tree */
	size_t meta_len[2];
	uint8_t *chunk[N_CHUNKS];
	size_t chunk_len[N_CHUNKS];
	struct content_proof proof[N_CHUNKS];
	int leech_state;		/* the role L is ready for, or -1 */
	bool trace;			/* FUZZ_SWARM_PEER_TRACE */
} g = { .leech_state = -1 };

/* ---- one input ---- */

struct pkt {
	struct pkt *next;
	int to;				/* 0: the swarm's manager; R0, R1 */
	uint16_t sp, dp;
	size_t len;
	uint8_t data[];
};

/*
 * One stream between the swarm and R0 or R1.  The remote end is played
 * here, by hand, as fuzz_stream_mgr does: packets in order, every one of
 * the swarm's acked at once, nothing resent (nothing is lost in the
 * queue), signed only where the swarm's manager checks (SYN, CLOSE,
 * RESET).  Only the swarm's end is a struct stream.
 */
struct conn {
	bool used, ended, from_swarm;
	unsigned who;			/* R0 or R1 */
	uint32_t b_id, a_id;		/* our stream ID, the swarm's */
	uint32_t tx_seq;		/* our next sequence number */
	uint32_t rx_next;		/* the swarm's next one */
	uint16_t sp, dp;		/* our port, the swarm's */
	/* What we wrote, framed as the swarm frames it. */
	struct bbuf tx;
	unsigned tx_frames;
	bool tx_dead;			/* the swarm stops reading here */
	bool must_end;			/* it must have ended the stream */
	uint64_t meta_off[2];		/* our META pages sent so far */
	/* What the swarm wrote. */
	struct bbuf rx;
	unsigned rx_frames, rx_hs;
	bool rx_announce;
	uint16_t asked[N_CHUNKS];	/* its REQUESTs not answered yet */
	bool meta_asked;
	struct swarm_msg metareq;
	uint16_t our_req[N_CHUNKS];	/* ours not answered by piece/reject */
};

static struct run {
	struct swarm_config cfg;
	enum role role;
	struct content_store *st;
	struct evloop *el;
	struct stream_mgr *mgr;		/* the swarm's */
	struct swarm *sw;
	struct pkt *head, **tail;
	uint64_t now;
	unsigned since_tick;		/* ms since the swarm's last tick */
	struct conn conns[CONNS_MAX];
	unsigned connects;
	bool traded, reader, lost_any;
	unsigned adds;			/* swarm_content_add or _fetch calls */
	unsigned reported[N_CHUNKS], lost[N_CHUNKS], meta_ready;
	int opened[ENDS];		/* pay hook: open minus close */
	bool may_serve[ENDS];
	struct swarm_content_stats prev;
} R;

static struct stream_packet sp_out, sp_in;	/* large: not on the stack */

static const uint8_t *end_hash(int i)
{
	return client_dest_pub(g.d[i])->hash;
}

static int end_of(const uint8_t h[32])
{
	for (int i = 0; i < ENDS; i++)
		if (memcmp(h, end_hash(i), 32) == 0)
			return i;
	return -1;
}

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_swarm_peer: %s:%d: %s\n", __FILE__, __LINE__, \
		#cond); \
	abort(); } } while (0)

/* ---- the packets ---- */

static void enqueue(int to, uint16_t sp, uint16_t dp, const uint8_t *pkt,
		    size_t len)
{
	struct pkt *p = xmalloc(sizeof(*p) + len);

	p->next = NULL;
	p->to = to;
	p->sp = sp;
	p->dp = dp;
	p->len = len;
	memcpy(p->data, pkt, len);
	*R.tail = p;
	R.tail = &p->next;
}

/* The swarm's manager sends. */
static int sink_send(void *ctx, const struct keys_and_cert *to,
		     uint16_t sp, uint16_t dp, const uint8_t *pkt, size_t len)
{
	int dst = end_of(to->hash);

	(void)ctx;
	if (dst <= 0)
		return ERR_NETWORK;
	enqueue(dst, sp, dp, pkt, len);
	return 0;
}

/* Send a packet of c's to the swarm: p's IDs, sequence and ACK are
 * filled in here (seq: the next one, or 0 for a plain ACK). */
static void remote_send(struct conn *c, struct stream_packet *p, bool numbered,
			const uint8_t *payload, size_t len)
{
	struct bbuf b = BBUF_INIT;

	p->send_id = c->a_id;
	p->recv_id = c->b_id;
	p->seq = numbered ? c->tx_seq++ : 0;
	if (c->rx_next)
		p->ack_through = c->rx_next - 1;
	else
		p->flags |= STREAM_F_NO_ACK;
	p->payload = payload;
	p->payload_len = len;
	if (p->flags & (STREAM_F_SYN | STREAM_F_CLOSE | STREAM_F_RESET))
		p->flags |= STREAM_F_SIG;
	if (p->flags & STREAM_F_SYN) {
		p->flags |= STREAM_F_FROM | STREAM_F_MAX_SIZE;
		p->max_size = STREAM_MTU_DEFAULT;
	}
	CHECK(stream_packet_encode(p, &g.sg[c->who].sg, &b) == 0);
	enqueue(0, c->sp, c->dp, b.data, b.len);
	bbuf_free(&b);
}

static void remote_ctl(struct conn *c, uint16_t flags, bool numbered)
{
	memset(&sp_out, 0, sizeof(sp_out));
	sp_out.flags = flags;
	remote_send(c, &sp_out, numbered, NULL, 0);
}

/* Deliver packets and run the swarm's stream timers due now until
 * nothing moves. */
static void remote_receive(int who, const uint8_t *data, size_t len);

static void pump(void)
{
	for (unsigned n = 0; n < PUMP_MAX; n++) {
		struct pkt *p = R.head;

		if (p) {
			R.head = p->next;
			if (!R.head)
				R.tail = &R.head;
			if (p->to == 0)
				(void)stream_mgr_receive(R.mgr, p->data, p->len,
							 p->sp, p->dp);
			else
				remote_receive(p->to, p->data, p->len);
			free(p);
			continue;
		}
		if (stream_mgr_next_deadline(R.mgr) > R.now)
			return;
		stream_mgr_run_timers(R.mgr);
		if (!R.head)
			return;
	}
}

static void queue_free(void)
{
	while (R.head) {
		struct pkt *p = R.head;
		R.head = p->next;
		free(p);
	}
	R.tail = &R.head;
}

/* ---- what the swarm sends us ---- */

static bool meta_page_ok(const struct swarm_msg *m)
{
	unsigned k = m->u.meta.kind;

	return m->u.meta.total == g.meta_len[k] &&
	       m->u.meta.offset <= g.meta_len[k] &&
	       m->u.meta.len <= g.meta_len[k] - m->u.meta.offset &&
	       (m->u.meta.len == 0 ||
		memcmp(m->u.meta.data, g.meta[k] + m->u.meta.offset,
		       m->u.meta.len) == 0);
}

static void rx_frame(struct conn *c, const struct swarm_msg *m)
{
	uint32_t i, k;

	if (m->type == SWARM_ANNOUNCE)
		CHECK(c->from_swarm && c->rx_frames == 0 &&
		      memcmp(m->u.announce.content_hash, g.hash, 32) == 0);
	c->rx_frames++;
	switch (m->type) {
	case SWARM_ANNOUNCE:
		c->rx_announce = true;
		break;
	case SWARM_HANDSHAKE:
		CHECK(++c->rx_hs == 1);
		CHECK(m->u.hs.version == SWARM_PROTO_VERSION);
		CHECK(memcmp(m->u.hs.content_hash, g.hash, 32) == 0);
		break;
	case SWARM_BITFIELD:
		CHECK(m->u.bitfield.count == N_CHUNKS);
		break;
	case SWARM_HAVE:
		CHECK(m->u.have < N_CHUNKS);
		break;
	case SWARM_REQUEST:
		CHECK((uint64_t)m->u.range.index + m->u.range.count <=
		      N_CHUNKS);
		for (k = 0; k < m->u.range.count; k++)
			c->asked[m->u.range.index + k]++;
		break;
	case SWARM_CANCEL:
		CHECK((uint64_t)m->u.range.index + m->u.range.count <=
		      N_CHUNKS);
		for (k = 0; k < m->u.range.count; k++)
			if (c->asked[m->u.range.index + k])
				c->asked[m->u.range.index + k]--;
		break;
	case SWARM_REJECT:
		CHECK((uint64_t)m->u.range.index + m->u.range.count <=
		      N_CHUNKS);
		for (k = 0; k < m->u.range.count; k++) {
			i = m->u.range.index + k;
			CHECK(c->our_req[i] > 0);
			c->our_req[i]--;
		}
		break;
	case SWARM_PIECE: {
		uint8_t leaf[32];

		i = m->u.piece.index;
		CHECK(i < N_CHUNKS && c->our_req[i] > 0);
		c->our_req[i]--;
		CHECK(m->u.piece.chunk_len == g.chunk_len[i] &&
		      memcmp(m->u.piece.chunk, g.chunk[i],
			     g.chunk_len[i]) == 0);
		content_leaf_hash(leaf, m->u.piece.chunk, m->u.piece.chunk_len);
		CHECK(content_proof_verify(&m->u.piece.proof, leaf,
					   g.m.root) == 0);
		break;
	}
	case SWARM_META_REQUEST:
		c->meta_asked = true;
		c->metareq = *m;
		break;
	case SWARM_META:
		CHECK(meta_page_ok(m));
		break;
	case SWARM_PEERS:
		for (i = 0; i < m->u.peers.n; i++)
			CHECK(memcmp(m->u.peers.hashes + 32 * i,
				     end_hash((int)c->who), 32) != 0);
		break;
	default:
		break;
	}
}

/* Bytes of the swarm's, in order: its frames, which always decode. */
static void rx_bytes(struct conn *c, const uint8_t *b, size_t len)
{
	struct swarm_msg m;
	size_t used, off = 0;
	int r;

	bbuf_put(&c->rx, b, len);
	while (off < c->rx.len) {
		r = swarm_msg_decode(c->rx.data + off, c->rx.len - off, &m,
				     &used);
		if (r == ERR_TRUNCATED)
			break;
		CHECK(r == 0);
		rx_frame(c, &m);
		off += used;
	}
	if (off) {
		memmove(c->rx.data, c->rx.data + off, c->rx.len - off);
		c->rx.len -= off;
	}
}

static struct conn *conn_slot(void)
{
	for (unsigned i = 0; i < CONNS_MAX; i++) {
		struct conn *c = &R.conns[i];
		if (!c->used || c->ended) {
			bbuf_free(&c->tx);
			bbuf_free(&c->rx);
			memset(c, 0, sizeof(*c));
			c->used = true;
			return c;
		}
	}
	return NULL;
}

static uint32_t new_id(unsigned who)
{
	return 0x0b000000u | (uint32_t)who << 16 | R.connects++;
}

/* A packet from the swarm's manager to R0 or R1. */
static void remote_receive(int who, const uint8_t *data, size_t len)
{
	struct stream_packet *p = &sp_in;
	struct conn *c = NULL;
	bool eof = false;

	if (stream_packet_decode(data, len, p) != 0 ||
	    (p->flags & STREAM_F_ECHO))
		return;
	for (unsigned i = 0; i < CONNS_MAX && !c; i++) {
		struct conn *k = &R.conns[i];
		if (k->used && (int)k->who == who &&
		    (p->send_id ? k->b_id == p->send_id :
		     k->from_swarm && k->a_id == p->recv_id))
			c = k;
	}
	if (!c && p->send_id == 0 && (p->flags & STREAM_F_SYN) &&
	    !(p->flags & STREAM_F_RESET)) {
		/* The swarm connects to us (a peer, or an announce). */
		struct conn tmp = { .who = (unsigned)who, .a_id = p->recv_id,
				    .b_id = new_id((unsigned)who),
				    .sp = SWARM_PORT, .dp = SWARM_PORT };

		c = R.connects <= CONNECTS_MAX + 8 ? conn_slot() : NULL;
		if (!c) {		/* refused */
			tmp.rx_next = 1;
			remote_ctl(&tmp, STREAM_F_RESET, false);
			return;
		}
		*c = tmp;
		c->used = c->from_swarm = true;
		c->rx_next = 1;
		c->tx_seq = 1;
		remote_ctl(c, STREAM_F_SYN, false);	/* seq 0 */
		rx_bytes(c, p->payload, p->payload_len);
		return;
	}
	if (!c || c->ended)
		return;
	if (p->flags & STREAM_F_RESET) {
		c->ended = true;
		return;
	}
	if ((p->flags & STREAM_F_SYN) && !c->from_swarm && !c->a_id)
		c->a_id = p->recv_id;		/* its SYN reply */
	if (p->seq == 0 && !(p->flags & (STREAM_F_SYN | STREAM_F_CLOSE)))
		return;				/* a plain ACK */
	if (p->seq == c->rx_next) {
		c->rx_next++;
		rx_bytes(c, p->payload, p->payload_len);
		eof = p->flags & STREAM_F_CLOSE;
	}
	remote_ctl(c, 0, false);		/* ACK */
	if (eof)
		c->ended = true;
}

/* ---- what we send it ---- */

/* Follow our bytes as the swarm frames them: a frame after which it must
 * end the connection, whatever its state, sets must_end. */
static void tx_frames(struct conn *c)
{
	struct swarm_msg m;
	size_t used, off = 0;
	int r;

	while (!c->tx_dead && off < c->tx.len) {
		bool first = c->tx_frames++ == 0;

		r = swarm_msg_decode(c->tx.data + off, c->tx.len - off, &m,
				     &used);
		if (r == ERR_TRUNCATED) {
			c->tx_frames--;
			break;
		}
		off += used;
		if (r != 0 ||				/* undecodable */
		    c->rx_announce ||			/* to our announce:
							 * one answer */
		    m.type == SWARM_ERROR || m.type == SWARM_ANNOUNCE ||
		    (m.type == SWARM_HANDSHAKE &&
		     (!first || m.u.hs.version != SWARM_PROTO_VERSION ||
		      memcmp(m.u.hs.content_hash, g.hash, 32) != 0)) ||
		    (first && m.type != SWARM_HANDSHAKE)) {
			c->must_end = true;
			c->tx_dead = true;
		} else if (m.type == SWARM_REQUEST) {
			for (uint32_t k = 0; k < m.u.range.count; k++)
				if (m.u.range.index + k < N_CHUNKS)
					c->our_req[m.u.range.index + k]++;
		}
	}
	if (off) {
		memmove(c->tx.data, c->tx.data + off, c->tx.len - off);
		c->tx.len -= off;
	}
}

static void conn_write(struct conn *c, const uint8_t *b, size_t len)
{
	if (!c || c->ended || len == 0)
		return;
	for (size_t off = 0; off < len; off += STREAM_MTU_DEFAULT) {
		size_t n = len - off < STREAM_MTU_DEFAULT ? len - off :
			   STREAM_MTU_DEFAULT;

		memset(&sp_out, 0, sizeof(sp_out));
		remote_send(c, &sp_out, true, b + off, n);
	}
	bbuf_put(&c->tx, b, len);
	tx_frames(c);
}

static void conn_send(struct conn *c, const struct swarm_msg *m)
{
	struct bbuf b = BBUF_INIT;

	if (swarm_msg_encode(m, &b) == 0)
		conn_write(c, b.data, b.len);
	bbuf_free(&b);
}

/* ---- hooks ---- */

static void on_chunk(void *ctx, const uint8_t hash[32], uint32_t idx,
		     const uint8_t *ct, size_t len)
{
	(void)ctx;
	CHECK(memcmp(hash, g.hash, 32) == 0);
	if (idx == SWARM_META_READY) {
		CHECK(R.role == ROLE_FETCH && ++R.meta_ready <= R.adds);
		return;
	}
	CHECK(idx < N_CHUNKS && len == g.chunk_len[idx] &&
	      memcmp(ct, g.chunk[idx], len) == 0);
	CHECK(++R.reported[idx] <= 1 + R.lost[idx]);
	if (R.reader)
		(void)swarm_play(R.sw, hash,
				 idx + 1 < N_CHUNKS ? idx + 1 : idx);
}

static int pay_who(const uint8_t hash[32], const uint8_t peer[32])
{
	int w = end_of(peer);

	CHECK(memcmp(hash, g.hash, 32) == 0 && w > 0);
	return w;
}

static void pay_open(void *ctx, const uint8_t hash[32],
		     const uint8_t peer[32], struct bbuf *out)
{
	int w = pay_who(hash, peer);

	(void)ctx;
	CHECK(++R.opened[w] == 1);	/* one connection per destination */
	bbuf_put(out, "terms", 5);
}

static int pay_recv(void *ctx, const uint8_t hash[32], const uint8_t peer[32],
		    const uint8_t *body, size_t len, struct bbuf *out)
{
	int w = pay_who(hash, peer);

	(void)ctx;
	CHECK(R.opened[w] == 1);
	if (len >= 2 && body[0] == 0xA0)
		R.may_serve[w] = body[1] & 1;
	if (len >= 1 && body[0] == 0xA1)
		bbuf_put(out, body, len);	/* an answer */
	return len >= 1 && body[0] == 0xEE ? ERR_AUTH : 0;
}

static void pay_received(void *ctx, const uint8_t hash[32],
			 const uint8_t peer[32], uint32_t idx, struct bbuf *out)
{
	int w = pay_who(hash, peer);

	(void)ctx;
	CHECK(R.opened[w] == 1 && idx < N_CHUNKS);
	bbuf_put(out, "voucher", 7);
}

static bool pay_may_serve(void *ctx, const uint8_t hash[32],
			  const uint8_t peer[32])
{
	(void)ctx;
	return R.may_serve[pay_who(hash, peer)];
}

static void pay_served(void *ctx, const uint8_t hash[32],
		       const uint8_t peer[32], uint32_t idx)
{
	int w = pay_who(hash, peer);

	(void)ctx;
	CHECK(R.opened[w] == 1 && R.may_serve[w] && idx < N_CHUNKS);
}

static void pay_close(void *ctx, const uint8_t hash[32],
		      const uint8_t peer[32])
{
	int w = pay_who(hash, peer);

	(void)ctx;
	CHECK(--R.opened[w] == 0);	/* after its open */
}

static void pay_complete(void *ctx, const uint8_t hash[32],
			 const uint8_t peer[32], struct bbuf *out)
{
	int w = pay_who(hash, peer);

	(void)ctx;
	CHECK(R.opened[w] == 1);
	bbuf_put(out, "final", 5);
}

static int lookup(void *ctx, const uint8_t hash[32], struct keys_and_cert *out)
{
	int w = end_of(hash);

	(void)ctx;
	if (w < 0)
		return ERR_NOT_FOUND;
	*out = *client_dest_pub(g.d[w]);
	return 0;
}

/* ---- invariants ---- */

/* A stream of ours from or to w that is up and not an announce. */
static bool live_conn_of(int w)
{
	for (unsigned i = 0; i < CONNS_MAX; i++)
		if (R.conns[i].used && !R.conns[i].ended &&
		    (int)R.conns[i].who == w && !R.conns[i].rx_announce)
			return true;
	return false;
}

static void check_state(void)
{
	struct swarm_content_stats s;
	struct swarm_peer_stats ps[CONNS_MAX + 2];
	bool whole;
	size_t n;

	CHECK(log_bug_count() == 0);
	for (unsigned i = 0; i < CONNS_MAX; i++)
		CHECK(!R.conns[i].used || !R.conns[i].must_end ||
		      R.conns[i].ended);
	if (!R.traded) {
		CHECK(swarm_content_stats(R.sw, g.hash, &s) == ERR_NOT_FOUND);
		return;
	}
	CHECK(swarm_content_stats(R.sw, g.hash, &s) == 0);
	CHECK(s.chunk_count == 0 || s.chunk_count == N_CHUNKS);
	CHECK(s.have_count <= s.chunk_count);
	CHECK(s.peers <= R.cfg.max_peers);
	CHECK(s.bad_pieces >= R.prev.bad_pieces &&
	      s.bytes_down >= R.prev.bytes_down &&
	      s.bytes_up >= R.prev.bytes_up && s.banned >= R.prev.banned &&
	      s.request_timeouts >= R.prev.request_timeouts);
	if (R.role == ROLE_SEED && !R.lost_any)
		CHECK(s.have_count == N_CHUNKS);
	R.prev = s;
	whole = s.chunk_count && s.have_count == s.chunk_count;
	n = swarm_peer_stats(R.sw, g.hash, ps, CONNS_MAX + 2);
	CHECK(n == s.peers);
	for (size_t i = 0; i < n; i++) {
		int w = end_of(ps[i].dest_hash);

		CHECK(w > 0);
		CHECK(!swarm_is_banned(R.sw, g.hash, ps[i].dest_hash));
		CHECK(live_conn_of(w));	/* no peer outlives its stream */
		CHECK(ps[i].in_flight <= R.cfg.pipeline);
		CHECK(!ps[i].they_choke || ps[i].in_flight == 0);
		CHECK(!s.chunk_count || ps[i].have_count <= s.chunk_count);
		CHECK(!whole || (ps[i].in_flight == 0 &&
				 !ps[i].we_interested));
		for (size_t j = 0; j < i; j++)
			CHECK(memcmp(ps[i].dest_hash, ps[j].dest_hash,
				     32) != 0);
	}
}

/* c is the stream of a peer the swarm has taken (listed, and its first
 * frame was a good handshake), with the metadata, whose next frame it
 * reads whole: a piece that does not verify must get its peer banned. */
static bool attached(const struct conn *c)
{
	struct swarm_content_stats s;
	struct swarm_peer_stats ps[CONNS_MAX + 2];
	unsigned live = 0;
	bool listed = false;
	size_t n;

	if (!c || c->ended || c->tx_dead || !c->tx_frames || c->tx.len ||
	    c->rx_announce ||
	    swarm_content_stats(R.sw, g.hash, &s) != 0 || !s.chunk_count)
		return false;
	n = swarm_peer_stats(R.sw, g.hash, ps, CONNS_MAX + 2);
	for (size_t i = 0; i < n; i++)
		listed |= end_of(ps[i].dest_hash) == (int)c->who;
	for (unsigned i = 0; i < CONNS_MAX; i++)
		live += R.conns[i].used && !R.conns[i].ended &&
			R.conns[i].who == c->who && !R.conns[i].rx_announce;
	return listed && live == 1;
}

/* At the end: the store holds what the swarm counts. */
static void check_store(void)
{
	struct swarm_content_stats s;
	uint8_t *bits = NULL;
	size_t blen = 0;
	uint32_t have = 0;

	if (!R.traded || R.lost_any ||
	    swarm_content_stats(R.sw, g.hash, &s) != 0 || !s.chunk_count)
		return;
	CHECK(content_store_have(R.st, g.hash, &bits, &blen) == 0);
	for (uint32_t i = 0; i < N_CHUNKS && i / 8 < blen; i++)
		have += (bits[i / 8] >> (i % 8)) & 1;
	free(bits);
	CHECK(have == s.have_count);
}

/* ---- steps ---- */

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t in_u8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static struct conn *pick_conn(unsigned sel)
{
	struct conn *c = &R.conns[sel % CONNS_MAX];

	if (c->used && !c->ended)
		return c;
	for (unsigned i = 0; i < CONNS_MAX; i++)
		if (R.conns[i].used && !R.conns[i].ended)
			return &R.conns[i];
	return NULL;
}

/* R0 or R1 opens a stream to the swarm, from the swarm port or another
 * (it may: the port that matters is the one it opens the stream to), to
 * the swarm port or another (which the swarm must refuse). */
static void step_connect(uint8_t a)
{
	struct conn *c;
	unsigned who = 1 + (a & 1);

	if (R.connects >= CONNECTS_MAX || (c = conn_slot()) == NULL)
		return;
	c->who = who;
	c->b_id = new_id(who);
	c->sp = (a & 4) ? 1234 : SWARM_PORT;
	c->dp = (a & 2) ? SWARM_PORT + 1 : SWARM_PORT;
	c->must_end = c->dp != SWARM_PORT;
	memset(&sp_out, 0, sizeof(sp_out));
	sp_out.flags = STREAM_F_SYN;
	/* Since 0.9.58 a SYN names its target in 8 NACKs. */
	sp_out.nack_count = 8;
	for (int i = 0; i < 8; i++)
		sp_out.nacks[i] = be32_get(end_hash(0) + 4 * i);
	remote_send(c, &sp_out, true, NULL, 0);	/* seq 0 */
}

static void step_piece(struct conn *c, uint8_t a, uint8_t k)
{
	struct swarm_msg m = { .type = SWARM_PIECE };
	uint32_t i = a % N_CHUNKS, j = (i + 1) % N_CHUNKS;
	uint8_t *buf = xmemdup(g.chunk[i], g.chunk_len[i]);

	m.u.piece.index = i;
	m.u.piece.proof = g.proof[i];
	m.u.piece.chunk = buf;
	m.u.piece.chunk_len = g.chunk_len[i];
	switch (k % 8) {
	case 1:				/* a chunk that does not verify */
		buf[k % g.chunk_len[i]] ^= 0x20;
		break;
	case 2:				/* a proof that does not verify */
		m.u.piece.proof.sib[0][k % 32] ^= 0x01;
		break;
	case 3:				/* another chunk's bytes */
		m.u.piece.chunk = g.chunk[j];
		m.u.piece.chunk_len = g.chunk_len[j];
		break;
	case 4:				/* one byte short */
		m.u.piece.chunk_len--;
		break;
	case 5:				/* a tree of another size */
		m.u.piece.proof.count = N_CHUNKS + 1 + k / 8;
		m.u.piece.proof.depth =
			(uint8_t)content_proof_depth(i, m.u.piece.proof.count);
		break;
	default:
		break;
	}
	conn_send(c, &m);
	free(buf);
}

static void step_meta(struct conn *c, uint8_t a, uint8_t o, uint8_t l)
{
	struct swarm_msg m = { .type = SWARM_META };
	unsigned kind = a & 1;
	uint64_t total = g.meta_len[kind], off;
	uint8_t *buf;

	if (!c)
		return;
	off = (a & 2) ? c->meta_off[kind] : (uint64_t)o * 16;
	if (off > total)
		off = total;
	m.u.meta.kind = kind;
	m.u.meta.offset = off;
	m.u.meta.total = (a & 4) ? total + 1 + o : total;
	m.u.meta.len = l ? (size_t)l * 8 : (size_t)(total - off);
	if (m.u.meta.len > total - off)
		m.u.meta.len = (size_t)(total - off);
	buf = xmalloc(m.u.meta.len + 1);
	memcpy(buf, g.meta[kind] + off, m.u.meta.len);
	if ((a & 8) && m.u.meta.len)
		buf[o % m.u.meta.len] ^= 0x10;
	m.u.meta.data = buf;
	conn_send(c, &m);
	c->meta_off[kind] = off + m.u.meta.len;
	free(buf);
}

/* Answer, as an honest seeder, what the swarm asked on c. */
static void step_serve(struct conn *c)
{
	for (uint32_t i = 0; i < N_CHUNKS; i++)
		while (c->asked[i] && !c->ended) {
			c->asked[i]--;
			step_piece(c, (uint8_t)i, 0);
		}
	if (c->meta_asked) {
		unsigned kind = c->metareq.u.metareq.kind;
		uint64_t off = c->metareq.u.metareq.offset;
		struct swarm_msg m = { .type = SWARM_META };

		c->meta_asked = false;
		if (off > g.meta_len[kind])
			return;
		m.u.meta.kind = kind;
		m.u.meta.total = g.meta_len[kind];
		m.u.meta.offset = off;
		m.u.meta.data = g.meta[kind] + off;
		m.u.meta.len = (size_t)(g.meta_len[kind] - off);
		conn_send(c, &m);
	}
}

static void swarm_add(void)
{
	int r = R.role == ROLE_FETCH ?
		swarm_content_fetch(R.sw, g.hash, SWARM_PICK_RAREST) :
		swarm_content_add(R.sw, g.hash, SWARM_PICK_RAREST);

	CHECK(r == 0);
	R.traded = true;
	R.adds++;
	memset(&R.prev, 0, sizeof(R.prev));
}

/* Time moves on by steps of step_ms; the timers due run. */
static void step_time(unsigned steps, unsigned step_ms)
{
	for (unsigned k = 0; k < steps; k++) {
		R.now += step_ms;
		time_set_mono_override(R.now);
		for (unsigned u = 0; u < step_ms; u += 100)
			swarm_upload_tick_run(R.sw);
		R.since_tick += step_ms;
		if (R.since_tick >= 1000) {
			R.since_tick = 0;
			swarm_tick_run(R.sw);
		}
		pump();
	}
}

static void step_api(uint8_t a, uint8_t b)
{
	const uint8_t *h = end_hash(1 + (b & 1));
	uint8_t junk[32];

	switch (a % 10) {
	case 0:
		(void)swarm_seek(R.sw, g.hash, b % (N_CHUNKS + 1));
		break;
	case 1:
		(void)swarm_play(R.sw, g.hash, b % (N_CHUNKS + 1));
		break;
	case 2:
		(void)swarm_set_mode(R.sw, g.hash,
				     (enum swarm_pick_mode)(b & 1));
		break;
	case 3:
		if (swarm_chunk_lost(R.sw, g.hash, b % (N_CHUNKS + 1)) == 0) {
			R.lost[b % (N_CHUNKS + 1)]++;
			R.lost_any = true;
		}
		break;
	case 4:
		memset(junk, b, sizeof(junk));
		(void)swarm_peer_hint(R.sw, g.hash, (b & 2) ? junk : h);
		break;
	case 5:
		if (R.connects < CONNECTS_MAX) {
			R.connects++;
			(void)swarm_peer_add(R.sw, g.hash,
					     client_dest_pub(g.d[1 + (b & 1)]));
		}
		break;
	case 6:
		(void)swarm_tracker_add(R.sw, h);
		break;
	case 7:
		if (R.traded && R.adds < 3) {
			swarm_content_remove(R.sw, g.hash);
			R.traded = false;
			pump();
			swarm_add();
		}
		break;
	case 8:
		swarm_set_tracker_role(R.sw, b & 1);
		break;
	default:
		break;
	}
}

#define STEP_OPS 20

/* FUZZ_SWARM_PEER_TRACE set: a line per step on stderr (to read what an
 * input does). */
static void trace_step(unsigned op)
{
	struct swarm_content_stats st;

	fprintf(stderr, "step %2u:", op);
	if (swarm_content_stats(R.sw, g.hash, &st) == 0)
		fprintf(stderr, " chunks %u have %u peers %u down %llu up %llu"
			" bad %llu banned %u", st.chunk_count, st.have_count,
			st.peers, (unsigned long long)st.bytes_down,
			(unsigned long long)st.bytes_up,
			(unsigned long long)st.bad_pieces, st.banned);
	for (unsigned i = 0; i < CONNS_MAX; i++) {
		const struct conn *c = &R.conns[i];
		if (c->used)
			fprintf(stderr, " [%u: R%u%s%s%s, %u frames in]", i,
				c->who - 1, c->from_swarm ? " out" : "",
				c->ended ? " ended" : "",
				c->must_end ? " must end" : "", c->rx_frames);
	}
	fprintf(stderr, "\n");
}

static void step(struct input *in)
{
	uint8_t op = in_u8(in);
	unsigned sel = op / STEP_OPS;
	struct conn *c = pick_conn(sel);
	struct swarm_msg m = { .type = SWARM_KEEPALIVE };
	uint8_t a = in_u8(in), b, buf[256];
	static const enum swarm_msg_type simple[5] = {
		SWARM_KEEPALIVE, SWARM_CHOKE, SWARM_UNCHOKE, SWARM_INTERESTED,
		SWARM_NOT_INTERESTED
	};
	uint8_t hashes[4][32];
	struct conn *liar = NULL;
	uint64_t bad = R.prev.bad_pieces;

	switch (op % STEP_OPS) {
	case 0:
		step_connect(a);
		break;
	case 1:				/* raw bytes */
		for (unsigned i = 0; i < a; i++)
			buf[i] = in_u8(in);
		conn_write(c, buf, a);
		break;
	case 2:
		m.type = SWARM_HANDSHAKE;
		m.u.hs.version = (a & 4) ? 2 : SWARM_PROTO_VERSION;
		memcpy(m.u.hs.content_hash, (a & 3) == 1 ? g.other : g.hash,
		       32);
		m.u.hs.flags = (a & 8 ? HS_HAVE_META : 0) | (a & 0x10 ? 2 : 0);
		conn_send(c, &m);
		break;
	case 3:
		m.type = simple[a % 5];
		conn_send(c, &m);
		break;
	case 4:
		m.type = SWARM_HAVE;
		m.u.have = a < 0xf0 ? a % (N_CHUNKS + 2) :
			   CONTENT_MAX_CHUNKS - 1 - (a & 0xf);
		conn_send(c, &m);
		break;
	case 5:				/* bitfield */
		b = in_u8(in);
		memset(buf, 0, sizeof(buf));
		m.type = SWARM_BITFIELD;
		m.u.bitfield.count = (a & 3) == 3 ? N_CHUNKS + 1 + (a >> 2) :
				     N_CHUNKS;
		if ((a & 3) == 0)
			buf[0] = (1u << N_CHUNKS) - 1;
		else if ((a & 3) != 1)
			memset(buf, b, sizeof(buf));
		/* no bit past the count */
		buf[(m.u.bitfield.count - 1) / 8] &= (uint8_t)(0xffu >>
			(7 - (m.u.bitfield.count - 1) % 8));
		memset(buf + (m.u.bitfield.count + 7) / 8, 0,
		       sizeof(buf) - (m.u.bitfield.count + 7) / 8);
		m.u.bitfield.bits = buf;
		conn_send(c, &m);
		break;
	case 6:
	case 7:
	case 8:
		b = in_u8(in);
		m.type = (op % STEP_OPS) == 6 ? SWARM_REQUEST :
			 (op % STEP_OPS) == 7 ? SWARM_CANCEL : SWARM_REJECT;
		m.u.range.index = a < 0xf0 ? a % (N_CHUNKS + 2) :
				  CONTENT_MAX_CHUNKS - 1 - (a & 0xf);
		m.u.range.count = 1 + b % SWARM_REQUEST_MAX_CHUNKS;
		conn_send(c, &m);
		break;
	case 9:
		b = in_u8(in);
		if ((b % 8 == 1 || b % 8 == 2) && attached(c))
			liar = c;
		step_piece(c, a, b);
		break;
	case 10:
		b = in_u8(in);
		m.type = SWARM_META_REQUEST;
		m.u.metareq.kind = a & 1;
		m.u.metareq.offset = b == 0 ? 0 : b == 1 ? g.meta_len[a & 1] :
				     (uint64_t)b * 7;
		conn_send(c, &m);
		break;
	case 11:
		b = in_u8(in);
		step_meta(c, a, b, in_u8(in));
		break;
	case 12:			/* PEERS */
		b = in_u8(in);
		m.type = SWARM_PEERS;
		m.u.peers.n = a % 5;
		for (unsigned i = 0; i < 4; i++) {
			unsigned e = (b >> (2 * i)) & 3;
			if (e < ENDS)
				memcpy(hashes[i], end_hash((int)e), 32);
			else
				memset(hashes[i], 0x5a + i, 32);
		}
		m.u.peers.hashes = &hashes[0][0];
		conn_send(c, &m);
		break;
	case 13:
		m.type = SWARM_ERROR;
		m.u.error.code = a;
		m.u.error.text = "fuzz";
		m.u.error.len = a & 3;
		conn_send(c, &m);
		break;
	case 14:
		m.type = SWARM_ANNOUNCE;
		memcpy(m.u.announce.content_hash, (a & 1) ? g.other : g.hash,
		       32);
		m.u.announce.flags = (a >> 1) & 3;
		conn_send(c, &m);
		break;
	case 15:			/* PAY */
		m.type = SWARM_PAY;
		b = in_u8(in);
		buf[0] = (a & 3) == 0 ? 0xA0 : (a & 3) == 1 ? 0xA1 :
			 (a & 3) == 2 ? 0xEE : a;
		buf[1] = b;
		m.u.pay.data = buf;
		m.u.pay.len = 1 + (a >> 2) % 16;
		memset(buf + 2, b, sizeof(buf) - 2);
		conn_send(c, &m);
		break;
	case 16:			/* our end of the stream */
		if (c && (a & 1)) {
			remote_ctl(c, STREAM_F_RESET, false);
			c->ended = true;
		} else if (c) {
			remote_ctl(c, STREAM_F_CLOSE, true);
		}
		break;
	case 17:
		step_time((a & 0x7f) + 1, (a & 0x80) ? 1000 : 100);
		break;
	case 18:
		if (c)
			step_serve(c);
		break;
	case 19:
		step_api(a, in_u8(in));
		break;
	}
	pump();
	if (liar)			/* banned, gone, counted */
		CHECK(liar->ended && swarm_is_banned(R.sw, g.hash,
						     end_hash((int)liar->who)));
	check_state();
	if (liar)
		CHECK(R.prev.bad_pieces == bad + 1);
	if (g.trace)
		trace_step(op % STEP_OPS);
}

/* ---- setup ---- */

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown_once(void)
{
	content_store_free(g.seed_st);
	content_store_free(g.leech_st);
	for (int i = 0; i < ENDS; i++)
		client_dest_free(g.d[i]);
	for (int i = 0; i < N_CHUNKS; i++)
		free(g.chunk[i]);
	free(g.meta[0]);
	free(g.meta[1]);
	content_manifest_clear(&g.m);
	if (g.dir) {
		(void)nftw(g.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(g.dir);
	}
}

/* The directories of earlier runs that did not end by exit() (a crash,
 * a kill): named after their process, removed once it is gone. */
static void remove_stale(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;
	char *path;
	int pid;

	while (d && (e = readdir(d)) != NULL) {
		if (sscanf(e->d_name, "fuzz_swarm_peer.%d.", &pid) != 1 ||
		    pid <= 0 || pid == (int)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		path = fsutil_path_join(base, e->d_name);
		(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(path);
	}
	if (d)
		closedir(d);
}

static void setup_once(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char tmpl[96], *path, *cdir;
	struct content_publish_opts o = { .mime = "video/mp4",
					  .chunk_log2 = 14 };
	struct content_published pub;
	uint8_t *src = xmalloc(CONTENT_BYTES);
	int fd;

	log_set_level(LOG_ERR);
	g.trace = getenv("FUZZ_SWARM_PEER_TRACE") != NULL;
	rand_set_deterministic(0x5157a4d);
	remove_stale(base);
	snprintf(tmpl, sizeof(tmpl), "%s/fuzz_swarm_peer.%d.XXXXXX", base,
		 (int)getpid());
	CHECK(mkdtemp(tmpl) != NULL);
	g.dir = xstrdup(tmpl);
	atexit(teardown_once);
	path = fsutil_path_join(g.dir, "seed");
	CHECK(content_store_open(path, &g.seed_st) == 0);
	free(path);
	path = fsutil_path_join(g.dir, "leech");
	CHECK(content_store_open(path, &g.leech_st) == 0);
	free(path);
	for (size_t i = 0; i < CONTENT_BYTES; i++)
		src[i] = (uint8_t)(i * 7 + (i >> 9));
	path = fsutil_path_join(g.dir, "src");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && fsutil_write_all(fd, src, CONTENT_BYTES) == 0);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(content_store_publish(g.seed_st, fd, &o, true, &pub) == 0);
	close(fd);
	unlink(path);
	free(path);
	free(src);
	memcpy(g.hash, pub.content_hash, 32);
	memcpy(g.other, g.hash, 32);
	g.other[0] ^= 0xff;
	content_published_clear(&pub);
	CHECK(content_store_manifest(g.seed_st, g.hash, &g.m) == 0);
	CHECK(g.m.chunk_count == N_CHUNKS);
	cdir = content_store_dir(g.seed_st, g.hash);
	path = fsutil_path_join(cdir, "manifest");
	CHECK(fsutil_read_file(path, 1 << 20, &g.meta[0], &g.meta_len[0]) == 0);
	free(path);
	path = fsutil_path_join(cdir, "tree");
	CHECK(fsutil_read_file(path, 1 << 20, &g.meta[1], &g.meta_len[1]) == 0);
	free(path);
	free(cdir);
	for (uint32_t i = 0; i < N_CHUNKS; i++) {
		g.chunk[i] = xmalloc(SWARM_CHUNK_MAX_BYTES);
		CHECK(content_store_chunk_get(g.seed_st, g.hash, i, g.chunk[i],
					      SWARM_CHUNK_MAX_BYTES,
					      &g.chunk_len[i],
					      &g.proof[i]) == 0);
	}
	for (int i = 0; i < ENDS; i++) {
		g.d[i] = client_dest_new_random();
		/* One remote hash below ours and one above: both ways of
		 * settling a connection opened from both ends at once. */
		while (i == 2 && (memcmp(end_hash(0), end_hash(1), 32) < 0) ==
				 (memcmp(end_hash(0), end_hash(2), 32) < 0)) {
			client_dest_free(g.d[2]);
			g.d[2] = client_dest_new_random();
		}
		client_dest_signer(g.d[i], &g.sg[i].real);
		CHECK(g.sg[i].real.sig_len <= sizeof(memo[0].sig));
		g.sg[i].id = (uint8_t)i;
		g.sg[i].sg = g.sg[i].real;
		g.sg[i].sg.sign = memo_sign;
		g.sg[i].sg.ctx = &g.sg[i];
	}
	g.ready = true;
}

/* The leech store as the role starts: without the content (fetch), with
 * its manifest and tree only, or with its even chunks too. */
static void leech_state(enum role role)
{
	uint8_t h[32];
	int r;

	if (g.leech_state == (int)role)
		return;
	r = content_store_remove(g.leech_st, g.hash);
	CHECK(r == 0 || r == ERR_NOT_FOUND);
	if (role != ROLE_FETCH) {
		CHECK(content_store_add(g.leech_st, g.meta[0], g.meta_len[0],
					g.meta[1], g.meta_len[1], false,
					h) == 0);
		for (uint32_t i = 0; role == ROLE_PARTIAL && i < N_CHUNKS;
		     i += 2)
			CHECK(content_store_chunk_put(g.leech_st, g.hash, i,
						      g.chunk[i],
						      g.chunk_len[i]) == 0);
	}
	g.leech_state = (int)role;
}

/* After a run: does the leech store still hold what the role starts
 * with? */
static void leech_after(void)
{
	struct content_store_info info;
	int r = content_store_info(g.leech_st, g.hash, &info);

	if (R.role == ROLE_FETCH ? r != ERR_NOT_FOUND :
	    r != 0 || info.have_count !=
		    (R.role == ROLE_PARTIAL ? (N_CHUNKS + 1) / 2 : 0))
		g.leech_state = -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct stream_config sc;
	struct swarm_pay_hooks hooks = {
		.open = pay_open, .recv = pay_recv, .received = pay_received,
		.may_serve = pay_may_serve, .served = pay_served,
		.close = pay_close, .complete = pay_complete,
	};
	uint8_t setup;

	if (!g.ready)
		setup_once();
	if (size < 1)
		return 0;
	setup = in_u8(&in);
	memset(&R, 0, sizeof(R));
	R.tail = &R.head;
	R.role = (enum role)(setup & 3);
	R.reader = setup & 0x80;
	R.may_serve[1] = R.may_serve[2] = true;
	rand_set_deterministic(0x5157a4d);
	R.now = T0;
	time_set_mono_override(R.now);
	if (R.role == ROLE_SEED) {
		R.st = g.seed_st;
	} else {
		leech_state(R.role);
		R.st = g.leech_st;
	}
	R.el = evloop_new();
	stream_config_default(&sc);
	sc.ack_delay_ms = 0;		/* ACKs at once: no waiting in pump */
	R.mgr = stream_mgr_new(&sc, &g.sg[0].sg,
			       (struct stream_sink){ sink_send, NULL }, NULL);
	swarm_config_default(&R.cfg);
	if (setup & 0x20) {
		R.cfg.max_peers = 1;
		R.cfg.unchoke_slots = 1;
		R.cfg.pipeline = 2;
		R.cfg.window_chunks = 2;
	}
	if (setup & 0x40)
		R.cfg.upload_Bps = 40000;
	R.sw = swarm_new(&R.cfg, client_dest_pub(g.d[0]), R.mgr, R.st,
			 R.el);
	swarm_set_chunk_cb(R.sw, on_chunk, NULL);
	swarm_set_lookup(R.sw, lookup, NULL);
	if (setup & 0x08)
		swarm_set_pay(R.sw, &hooks);
	if (setup & 0x10)
		swarm_set_tracker_role(R.sw, true);
	swarm_add();
	if (setup & 0x04)
		(void)swarm_set_mode(R.sw, g.hash, SWARM_PICK_STREAMING);
	pump();
	check_state();
	for (unsigned n = 0; n < STEPS_MAX && in.left; n++)
		step(&in);
	check_store();

	swarm_free(R.sw);
	stream_mgr_free(R.mgr);
	queue_free();
	for (unsigned i = 0; i < CONNS_MAX; i++) {
		bbuf_free(&R.conns[i].tx);
		bbuf_free(&R.conns[i].rx);
	}
	evloop_free(R.el);		/* frees the peers it dropped */
	if (R.role != ROLE_SEED)
		leech_after();
	time_set_mono_override(0);
	return 0;
}
