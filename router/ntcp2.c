/*
 * NTCP2 sessions on the event loop (router/ntcp2.h), after
 * geti2p.net/spec/ntcp2.  Each TCP connection is a struct sess on a
 * non-blocking socket with a read and a write event, moving through the handshake states of its role (Alice:
 * CONNECTING -> A_WAIT2 -> A_PAD2 -> ESTABLISHED; Bob: B_WAIT1 -> B_PAD1
 * -> B_WAIT3 -> ESTABLISHED) and ending in PROBE (draining a bad
 * SessionRequest), CLOSING (flushing a Termination) or at once.
 *
 * Reads are exact: a handshake state waits until its whole message is
 * buffered; the data phase reads the 2-byte length, then the frame.  The
 * receive buffer is one contiguous block, so a frame is decrypted where
 * it landed; frames are sealed straight into a contiguous output buffer.
 * (Not
 * bufferevents: libevent 2.1 reads at most 4 KiB per call through them,
 * which costs more than the crypto.)  The
 * crypto is router/ntcp2_handshake.c and router/ntcp2_frame.c; this file
 * only moves bytes, keeps time and applies policy (limits, bans, probing
 * resistance, keepalive, idle timeout).
 *
 * A session is never freed inside its own callback: sess_kill() marks it
 * and the loop's reaper frees it (STYLE.md §4), which is also when the
 * transport manager hears that it is down.
 */
#include "config.h"
#include "router/ntcp2.h"
#include "router/evloop.h"
#include "router/ntcp2_frame.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "router/transport.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/rand.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Frames handled per read callback before yielding to the loop. */
#define SESS_READ_BUDGET_FRAMES 64
/* Room kept free in each data frame for its padding block. */
#define SESS_PAD_MAX_BYTES 15
/* Bytes per write system call, at most. */
#define SESS_IO_CHUNK_BYTES (256 * 1024)
/* The receive buffer: starts small, grows to hold a whole frame plus a
 * large read; reads are at least SESS_READ_MIN_BYTES. */
#define SESS_RBUF_INIT_BYTES (16 * 1024)
#define SESS_RBUF_MAX_BYTES (128 * 1024)
#define SESS_READ_MIN_BYTES (16 * 1024)
/* Reads per readable event before yielding to the loop. */
#define SESS_READS_PER_EVENT 8
/* Fill-and-send rounds per write event (bounded work per callback). */
#define SESS_WRITE_PASSES 2
/* Per-IP table: entries and when an idle entry may be reused. */
#define IPTAB_SLOTS 2048

enum sess_state {
	S_CONNECTING,
	S_A_WAIT2,
	S_A_PAD2,
	S_B_WAIT1,
	S_B_PAD1,
	S_B_WAIT3,
	S_ESTABLISHED,
	S_PROBE,
	S_CLOSING,
	S_DEAD,
};

struct ipent {
	uint8_t ip[16];			/* IPv6 or IPv4-mapped */
	bool used;
	unsigned pending;
	unsigned failures;
	uint64_t window_start_ms;
	uint64_t banned_until_ms;
};

struct sess {
	struct sess *prev, *next;
	struct ntcp2 *n;
	uint64_t id;
	enum sess_state state;
	bool inbound;
	bool counted_pending;		/* holds a pending slot */
	bool rst;			/* close with RST */
	bool in_write;			/* inside sess_on_write */
	evutil_socket_t fd;		/* -1 until there is a socket */
	struct event *rev, *wev;
	uint8_t *rbuf;			/* unconsumed input: [rpos, rlen) */
	size_t rpos, rlen, rcap;
	uint8_t *obuf;			/* unsent output: [opos, olen) */
	size_t opos, olen, ocap;
	uint8_t ip[16];
	struct evloop_timer *timer;
	uint64_t deadline_ms;		/* handshake, probe or close deadline */
	/* handshake */
	struct ntcp2_hs hs;
	struct bbuf m3p2;		/* Alice: message 3 part 2 plaintext */
	uint16_t pad_len;		/* padding still to read */
	bool skewed;			/* Bob: answer, then close */
	bool hs_done;			/* reached the data phase */
	/* peer */
	uint8_t peer_rh[32];
	bool has_peer;
	/* data phase */
	struct ntcp2_dir tx, rx;
	bool keys;
	bool up;			/* the manager has it as the peer's session */
	size_t rx_need;			/* frame length being waited for */
	uint64_t partial_since_ms;	/* a partial frame is buffered since */
	uint64_t last_send_ms, last_i2np_ms;
	uint64_t wrote_ms;		/* output last taken, or began waiting */
	uint64_t trim_at_ms;		/* next look at the buffers' size */
	uint64_t timer_at_ms;		/* when the data phase's timer fires */
	bool grew;			/* a buffer grew since the last look */
	bool send_intro;		/* Bob: DateTime + our RI first */
	struct bbuf plain;		/* frame plaintext scratch */
	/* random bytes for padding, drawn in batches (a system call each) */
	uint8_t pool[256];
	size_t pool_left;
	/* probing resistance */
	size_t probe_left;
	int probe_term;			/* termination to send after, or -1 */
};

struct ntcp2 {
	struct evloop *el;
	struct transport_mgr *tm;
	unsigned tid;
	struct ntcp2_config cfg;
	struct evconnlistener *lis4, *lis6;
	struct sockaddr_storage src4, src6;
	bool has_src4, has_src6;
	uint8_t *ri;
	size_t ri_len;
	struct ntcp2_replay *replay;
	struct sess *sessions;
	uint64_t next_id;
	size_t nsessions, pending_in;
	struct ipent iptab[IPTAB_SLOTS];
	struct ntcp2_stats st;
	bool free_when_empty;
	bool shutting_down;
};

static void sess_process(struct sess *s);
static void sess_attach(struct sess *s, evutil_socket_t fd);
static void sess_timer_cb(void *arg);
static void sess_fill(struct sess *s);

void ntcp2_config_default(struct ntcp2_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ipv4 = true;
	cfg->ipv6 = true;
	cfg->max_pending = NTCP2_DEFAULT_MAX_PENDING;
	cfg->max_pending_per_ip = NTCP2_DEFAULT_MAX_PENDING_PER_IP;
	cfg->handshake_timeout_ms = NTCP2_DEFAULT_HANDSHAKE_TIMEOUT_MS;
	cfg->keepalive_ms = NTCP2_DEFAULT_KEEPALIVE_MS;
	cfg->write_stall_ms = NTCP2_DEFAULT_WRITE_STALL_MS;
	cfg->idle_timeout_ms = NTCP2_DEFAULT_IDLE_TIMEOUT_MS;
	cfg->trim_ms = NTCP2_DEFAULT_TRIM_MS;
	cfg->frame_timeout_ms = NTCP2_DEFAULT_FRAME_TIMEOUT_MS;
	cfg->close_timeout_ms = NTCP2_DEFAULT_CLOSE_TIMEOUT_MS;
	cfg->probe_min_ms = NTCP2_DEFAULT_PROBE_MIN_MS;
	cfg->probe_max_ms = NTCP2_DEFAULT_PROBE_MAX_MS;
	cfg->probe_max_bytes = NTCP2_DEFAULT_PROBE_MAX_BYTES;
	cfg->ban_failures = NTCP2_DEFAULT_BAN_FAILURES;
	cfg->ban_window_ms = NTCP2_DEFAULT_BAN_WINDOW_MS;
	cfg->ban_ms = NTCP2_DEFAULT_BAN_MS;
}

/* ---- per-IP table: pending handshakes, failures, bans ---- */

static void ip_of(const struct sockaddr *sa, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

static bool ipent_idle(const struct ipent *e, uint64_t now,
		       const struct ntcp2_config *cfg)
{
	return e->pending == 0 && e->banned_until_ms <= now &&
	       (e->failures == 0 || e->window_start_ms + cfg->ban_window_ms <= now);
}

/* The entry for ip, created if create; NULL when the table is full. */
static struct ipent *ip_get(struct ntcp2 *n, const uint8_t ip[16], bool create)
{
	uint64_t now = time_mono_ms();
	size_t h = 0, free_slot = IPTAB_SLOTS;

	for (size_t i = 0; i < 16; i++)
		h = h * 131 + ip[i];
	/* A short probe: the table is small and mostly idle. */
	for (size_t k = 0; k < 32; k++) {
		struct ipent *e = &n->iptab[(h + k) % IPTAB_SLOTS];

		if (e->used && memcmp(e->ip, ip, 16) == 0)
			return e;
		if (free_slot == IPTAB_SLOTS &&
		    (!e->used || ipent_idle(e, now, &n->cfg)))
			free_slot = (h + k) % IPTAB_SLOTS;
	}
	if (!create || free_slot == IPTAB_SLOTS)
		return NULL;
	memset(&n->iptab[free_slot], 0, sizeof(struct ipent));
	n->iptab[free_slot].used = true;
	memcpy(n->iptab[free_slot].ip, ip, 16);
	return &n->iptab[free_slot];
}

/* A handshake from ip failed: count it, ban after too many. */
static void ip_failure(struct ntcp2 *n, const uint8_t ip[16])
{
	struct ipent *e = ip_get(n, ip, true);
	uint64_t now = time_mono_ms();

	if (!e || n->cfg.ban_ms == 0 || n->cfg.ban_failures == 0)
		return;
	if (e->window_start_ms + n->cfg.ban_window_ms <= now) {
		e->window_start_ms = now;
		e->failures = 0;
	}
	if (++e->failures >= n->cfg.ban_failures) {
		e->banned_until_ms = now + n->cfg.ban_ms;
		e->failures = 0;
		log_info_rl(60, LD_NTCP2, "banning an address for %llu s after "
			    "%u failed handshakes",
			    (unsigned long long)(n->cfg.ban_ms / 1000),
			    n->cfg.ban_failures);
	}
}

static void pending_release(struct sess *s)
{
	struct ipent *e;

	if (!s->counted_pending)
		return;
	s->counted_pending = false;
	s->n->pending_in--;
	if ((e = ip_get(s->n, s->ip, false)) && e->pending > 0)
		e->pending--;
}

/* ---- session lifetime ---- */

static uint64_t now_ms(void)
{
	return time_mono_ms();
}

static struct sess *sess_new(struct ntcp2 *n, bool inbound)
{
	struct sess *s = xzalloc(sizeof(*s));

	s->n = n;
	s->id = ++n->next_id;
	s->inbound = inbound;
	s->probe_term = -1;
	s->fd = -1;
	s->ocap = SESS_RBUF_INIT_BYTES;
	s->obuf = xmalloc(s->ocap);
	s->rcap = SESS_RBUF_INIT_BYTES;
	s->rbuf = xmalloc(s->rcap);
	s->timer = evloop_timer_new(n->el, sess_timer_cb, s);
	s->last_send_ms = s->last_i2np_ms = now_ms();
	bbuf_init(&s->m3p2);
	bbuf_init(&s->plain);
	s->next = n->sessions;
	if (n->sessions)
		n->sessions->prev = s;
	n->sessions = s;
	n->nsessions++;
	return s;
}

static void sess_free(void *arg)
{
	struct sess *s = arg;
	struct ntcp2 *n = s->n;

	if (n->tm)
		transport_conn_down(n->tm, n->tid, s->id);
	pending_release(s);
	if (s->rev)
		event_free(s->rev);
	if (s->wev)
		event_free(s->wev);
	if (s->fd >= 0) {
		if (s->rst) {
			/* "This should be an abnormal close (TCP RST)." */
			struct linger l = { 1, 0 };

			(void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l,
					 sizeof(l));
		}
		evutil_closesocket(s->fd);
	}
	free(s->obuf);		/* ciphertext only */
	xfree_wipe(s->rbuf, s->rcap);	/* frames are decrypted in place */
	evloop_timer_free(s->timer);
	ntcp2_hs_wipe(&s->hs);
	ntcp2_dir_wipe(&s->tx);
	ntcp2_dir_wipe(&s->rx);
	bbuf_free(&s->m3p2);
	bbuf_free(&s->plain);
	if (s->prev)
		s->prev->next = s->next;
	else
		n->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	n->nsessions--;
	free(s);
	if (n->free_when_empty && !n->sessions)
		ntcp2_free(n);
}

/* End s now; it is freed after this loop pass. */
static void sess_kill(struct sess *s, bool rst)
{
	if (s->state == S_DEAD)
		return;
	if (!s->hs_done)
		s->n->st.hs_failed++;
	s->state = S_DEAD;
	s->rst = rst;
	if (s->rev)
		event_del(s->rev);
	if (s->wev)
		event_del(s->wev);
	evloop_timer_disarm(s->timer);
	pending_release(s);
	evloop_mark_close(s->n->el, sess_free, s);
}

/* One info line per failed connection (rate-limited, no addresses). */
static void sess_log(const struct sess *s, const char *what, int err)
{
	char h[72] = "?";

	if (s->has_peer)
		(void)log_safe_hash(h, sizeof(h), s->peer_rh);
	log_info_rl(10, LD_NTCP2, "%s session %llu (peer %s): %s%s%s",
		    s->inbound ? "inbound" : "outbound",
		    (unsigned long long)s->id, h, what, err ? ": " : "",
		    err ? err_str(err) : "");
}

/* ---- input buffer and output ---- */

static size_t in_len(const struct sess *s)
{
	return s->rlen - s->rpos;
}

static uint8_t *in_ptr(struct sess *s)
{
	return s->rbuf + s->rpos;
}

static void in_drain(struct sess *s, size_t n)
{
	s->rpos += n;
	if (s->rpos == s->rlen)
		s->rpos = s->rlen = 0;
}

static void in_remove(struct sess *s, void *dst, size_t n)
{
	memcpy(dst, in_ptr(s), n);
	in_drain(s, n);
}

/* A buffer grew: the data phase's timer looks at it by trim_at_ms (a
 * session that only reads arms it nowhere else). */
static void sess_grew(struct sess *s)
{
	uint64_t now = now_ms();

	s->grew = true;
	if (s->state != S_ESTABLISHED || !s->n->cfg.trim_ms ||
	    s->timer_at_ms <= s->trim_at_ms)
		return;
	s->timer_at_ms = s->trim_at_ms;
	evloop_timer_arm(s->timer, s->trim_at_ms > now ? s->trim_at_ms - now : 0);
}

/* Room for a read of at least SESS_READ_MIN_BYTES at the tail. */
static void in_make_room(struct sess *s)
{
	if (s->rcap - s->rlen >= SESS_READ_MIN_BYTES)
		return;
	if (!s->rcap) {			/* freed while the session idled */
		s->rcap = SESS_RBUF_INIT_BYTES;
		s->rbuf = xmalloc(s->rcap);
		sess_grew(s);
		return;
	}
	if (s->rpos > 0) {
		memmove(s->rbuf, s->rbuf + s->rpos, in_len(s));
		s->rlen -= s->rpos;
		s->rpos = 0;
	}
	if (s->rcap - s->rlen < SESS_READ_MIN_BYTES &&
	    s->rcap < SESS_RBUF_MAX_BYTES) {
		size_t cap = s->rcap * 2 > SESS_RBUF_MAX_BYTES ?
			     SESS_RBUF_MAX_BYTES : s->rcap * 2;
		uint8_t *b = xmalloc(cap);

		memcpy(b, s->rbuf, s->rlen);
		xfree_wipe(s->rbuf, s->rcap);
		s->rbuf = b;
		s->rcap = cap;
		sess_grew(s);
	}
}

/* Make sure the write event runs while there is output. */
static void sess_want_write(struct sess *s)
{
	if (s->in_write)	/* sess_on_write decides when it is done */
		return;
	if (s->wev && s->state != S_DEAD && !event_pending(s->wev, EV_WRITE, NULL))
		event_add(s->wev, NULL);
}

static size_t out_len(const struct sess *s)
{
	return s->olen - s->opos;
}

/* Room for n more bytes of output; returns where they go (olen += n). */
static uint8_t *out_extend(struct sess *s, size_t n)
{
	uint8_t *p;

	if (out_len(s) == 0)
		s->wrote_ms = now_ms();	/* waiting from now */
	if (s->ocap - s->olen < n && s->opos > 0) {
		memmove(s->obuf, s->obuf + s->opos, out_len(s));
		s->olen -= s->opos;
		s->opos = 0;
	}
	if (s->ocap - s->olen < n) {
		if (!s->ocap)		/* freed while the session idled */
			s->ocap = SESS_RBUF_INIT_BYTES / 2;
		while (s->ocap - s->olen < n)
			s->ocap *= 2;
		s->obuf = xrealloc(s->obuf, s->ocap);
		sess_grew(s);
	}
	p = s->obuf + s->olen;
	s->olen += n;
	return p;
}

static void out_add(struct sess *s, const void *p, size_t len)
{
	memcpy(out_extend(s, len), p, len);
	sess_want_write(s);
}

static void sess_stop_reading(struct sess *s)
{
	if (s->rev)
		event_del(s->rev);
}

static void sess_arm(struct sess *s, uint64_t delay_ms)
{
	s->deadline_ms = now_ms() + delay_ms;
	evloop_timer_arm(s->timer, delay_ms);
}

/* Bad SessionRequest: read a random number of bytes for a random time,
 * then close with RST (spec, "AEAD Error Handling"). */
static void sess_probe(struct sess *s, const char *what, int err, int term)
{
	struct ntcp2 *n = s->n;
	uint64_t span = n->cfg.probe_max_ms > n->cfg.probe_min_ms ?
			n->cfg.probe_max_ms - n->cfg.probe_min_ms : 0;

	sess_log(s, what, err);
	if (s->inbound && !s->keys)
		ip_failure(n, s->ip);
	n->st.probes++;
	s->state = S_PROBE;
	s->probe_term = term;
	s->probe_left = 1 + rand_uniform((uint32_t)(n->cfg.probe_max_bytes ?
						    n->cfg.probe_max_bytes : 1));
	sess_arm(s, n->cfg.probe_min_ms +
		     (span ? rand_uniform((uint32_t)(span > UINT32_MAX ?
						     UINT32_MAX : span)) : 0));
	/* The read loop goes on in S_PROBE: what is buffered counts. */
}

/* Handshake failure without probing: log, close with RST. */
static void sess_fail(struct sess *s, const char *what, int err)
{
	sess_log(s, what, err);
	if (s->inbound && !s->keys)
		ip_failure(s->n, s->ip);
	sess_kill(s, true);
}

/* n (<= sizeof(s->pool)) random bytes from the session's pool. */
static const uint8_t *sess_random(struct sess *s, size_t n)
{
	if (s->pool_left < n) {
		rand_bytes(s->pool, sizeof(s->pool));
		s->pool_left = sizeof(s->pool);
	}
	s->pool_left -= n;
	return s->pool + s->pool_left;
}

/* A Padding block of 0..SESS_PAD_MAX_BYTES random bytes. */
static void sess_put_padding(struct sess *s)
{
	size_t n = *sess_random(s, 1) % (SESS_PAD_MAX_BYTES + 1);

	bbuf_u8(&s->plain, NTCP2_BLOCK_PADDING);
	bbuf_be16(&s->plain, (uint16_t)n);
	bbuf_put(&s->plain, sess_random(s, n), n);
}

/* Seal plen bytes of s->plain into the output as one frame. */
static int sess_send_plain(struct sess *s)
{
	size_t total = s->plain.len + NTCP2_LEN_BYTES + NTCP2_TAG_BYTES;
	uint8_t *p = out_extend(s, total);
	int r;

	if ((r = ntcp2_frame_seal(&s->tx, p, s->plain.data, s->plain.len)) != 0) {
		s->olen -= total;
		return r;
	}
	s->plain.len = 0;
	s->last_send_ms = now_ms();
	s->n->st.frames_out++;
	sess_want_write(s);
	transport_count_bytes(s->n->tm, 0, total);
	return 0;
}

/* Send a Termination and close once it is flushed (or after
 * close_timeout_ms). */
static void sess_terminate(struct sess *s, uint8_t reason)
{
	if (s->state == S_DEAD || s->state == S_CLOSING)
		return;
	if (!s->keys) {
		sess_kill(s, true);
		return;
	}
	s->plain.len = 0;
	ntcp2_block_put_termination(&s->plain, s->rx.n, reason);
	sess_put_padding(s);
	if (sess_send_plain(s) != 0) {
		sess_kill(s, true);
		return;
	}
	s->n->st.terminations_sent++;
	s->state = S_CLOSING;
	sess_stop_reading(s);
	sess_arm(s, s->n->cfg.close_timeout_ms);
}

/* ---- handshake: Alice ---- */

/* The NTCP2 address of ri we can dial (family enabled, published). */
static int pick_address(const struct ntcp2 *n, const struct router_info *ri,
			struct router_address_ntcp2 *out, int *cost)
{
	int best = -1;

	for (size_t i = 0; i < router_info_address_count(ri); i++) {
		const struct router_address *a = router_info_address(ri, i);
		struct router_address_ntcp2 p;

		if (!router_address_is_ntcp2(a) ||
		    router_address_ntcp2_parse(a, &p) != 0 || !p.published ||
		    (p.family == AF_INET && !n->cfg.ipv4) ||
		    (p.family == AF_INET6 && !n->cfg.ipv6))
			continue;
		if (best < 0 || a->cost < best) {
			best = a->cost;
			*out = p;
		}
	}
	if (best < 0)
		return ERR_NOT_FOUND;
	if (cost)
		*cost = best;
	return 0;
}

static int ntcp2_reach_cost(void *impl, const struct router_info *ri)
{
	struct router_address_ntcp2 a;
	int cost;

	return pick_address(impl, ri, &a, &cost) == 0 ? cost : -1;
}

/* Message 3 part 2: our RouterInfo block, then padding. */
static void build_m3p2(struct sess *s)
{
	struct ntcp2 *n = s->n;

	bbuf_reset(&s->m3p2);
	if (BUG(ntcp2_block_put_routerinfo(&s->m3p2, 0, n->ri, n->ri_len) != 0))
		return;
	ntcp2_block_put_padding(&s->m3p2, rand_uniform(32));
}

static void send_request(struct sess *s)
{
	struct ntcp2 *n = s->n;
	uint8_t pad[NTCP2_HS_SEND_PADDING_MAX_BYTES];
	uint16_t pad_len = (uint16_t)rand_uniform(sizeof(pad) + 1);
	struct bbuf msg = BBUF_INIT;
	int r;

	rand_bytes(pad, pad_len);
	build_m3p2(s);
	if ((r = ntcp2_hs_write_request(&s->hs, (uint32_t)time_now_s(), pad,
					pad_len, (uint16_t)(s->m3p2.len + 16),
					&msg)) != 0) {
		sess_fail(s, "cannot build SessionRequest", r);
		goto out;
	}
	/* "Alice buffers and then flushes the entire contents of the first
	 * message at once, including the padding." */
	out_add(s, msg.data, msg.len);
	transport_count_bytes(n->tm, 0, msg.len);
	s->state = S_A_WAIT2;
	s->last_send_ms = now_ms();
out:
	bbuf_free(&msg);
}

static int ntcp2_connect(void *impl, const struct router_info *ri,
			 uint64_t *conn_id)
{
	struct ntcp2 *n = impl;
	struct router_address_ntcp2 a;
	struct sockaddr_storage ss;
	socklen_t slen;
	evutil_socket_t fd = -1;
	struct sess *s;
	int r, one = 1;

	if (n->shutting_down || !n->ri)
		return ERR_BAD_STATE;
	if ((r = pick_address(n, ri, &a, NULL)) != 0)
		return r;
	memset(&ss, 0, sizeof(ss));
	if (a.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(a.port);
		if (inet_pton(AF_INET, a.host, &s4->sin_addr) != 1)
			return ERR_FORMAT;
		slen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a.port);
		if (inet_pton(AF_INET6, a.host, &s6->sin6_addr) != 1)
			return ERR_FORMAT;
		slen = sizeof(*s6);
	}
	if ((fd = socket(a.family, SOCK_STREAM, 0)) < 0)
		return ERR_IO;
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    evutil_make_socket_closeonexec(fd) != 0)
		goto io;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (a.family == AF_INET && n->has_src4 &&
	    bind(fd, (struct sockaddr *)&n->src4, sizeof(struct sockaddr_in)) != 0)
		goto io;
	if (a.family == AF_INET6 && n->has_src6 &&
	    bind(fd, (struct sockaddr *)&n->src6, sizeof(struct sockaddr_in6)) != 0)
		goto io;
	s = sess_new(n, false);
	s->state = S_CONNECTING;
	ip_of((struct sockaddr *)&ss, s->ip);
	memcpy(s->peer_rh, router_info_hash(ri), 32);
	s->has_peer = true;
	ntcp2_hs_init_alice(&s->hs, &n->cfg.st, s->peer_rh, &a.s, a.iv,
			    n->cfg.netid);
	sess_attach(s, fd);
	fd = -1;
	sess_arm(s, n->cfg.handshake_timeout_ms);
	if (connect(s->fd, (struct sockaddr *)&ss, slen) != 0 &&
	    errno != EINPROGRESS) {
		/* Reported as a failed attempt once the manager knows it. */
		sess_log(s, "cannot connect", ERR_IO);
		sess_kill(s, false);
	} else {
		/* Writable means connected (or failed: SO_ERROR says). */
		event_add(s->wev, NULL);
	}
	*conn_id = s->id;
	return 0;
io:
	r = errno;
	evutil_closesocket(fd);
	errno = r;
	return ERR_IO;
}

/* Install the data-phase keys (wiping k). */
static void sess_set_keys(struct sess *s, struct ntcp2_keys *k)
{
	ntcp2_dir_init(&s->tx, &k->send);
	ntcp2_dir_init(&s->rx, &k->recv);
	memwipe(k, sizeof(*k));
	s->keys = true;
}

/* The session is established: register it with the manager. */
static void sess_established(struct sess *s)
{
	struct ntcp2 *n = s->n;
	char h[72];
	int r;

	s->hs_done = true;
	s->state = S_ESTABLISHED;
	s->last_i2np_ms = s->last_send_ms = now_ms();
	pending_release(s);
	evloop_timer_disarm(s->timer);
	r = transport_conn_up(n->tm, n->tid, s->id, s->peer_rh, s->inbound);
	if (r != 0) {
		sess_log(s, r == ERR_DUPLICATE ? "duplicate session" :
			 "session refused", r);
		sess_terminate(s, r == ERR_DUPLICATE ? NTCP2_TERM_NORMAL :
			       NTCP2_TERM_BANNED);
		return;
	}
	s->up = true;
	if (s->inbound)
		n->st.established_in++;
	else
		n->st.established_out++;
	log_debug(LD_NTCP2, "%s session %llu established with %s",
		  s->inbound ? "inbound" : "outbound", (unsigned long long)s->id,
		  log_safe_hash(h, sizeof(h), s->peer_rh));
	sess_fill(s);
}

static void read_created(struct sess *s)
{
	struct ntcp2_hs_options o;
	uint8_t msg[NTCP2_MSG2_BYTES];
	int r;

	if (in_len(s) < NTCP2_MSG2_BYTES)
		return;
	in_remove(s, msg, sizeof(msg));
	transport_count_bytes(s->n->tm, sizeof(msg), 0);
	r = ntcp2_hs_read_created(&s->hs, msg, (uint32_t)time_now_s(),
				  s->n->replay, now_ms(), &o);
	if (r == ERR_EXPIRED)
		s->n->st.skewed++;
	if (r == ERR_DUPLICATE)
		s->n->st.replays++;
	if (r != 0) {
		sess_fail(s, r == ERR_EXPIRED ? "SessionCreated clock skew" :
			  "bad SessionCreated", r);
		return;
	}
	s->pad_len = o.pad_len;
	s->state = S_A_PAD2;
}

static void read_created_padding(struct sess *s)
{
	struct bbuf msg = BBUF_INIT;
	struct ntcp2_keys k;
	uint8_t *pad;
	int r;

	if (in_len(s) < s->pad_len)
		return;
	pad = xmalloc(s->pad_len + 1u);
	in_remove(s, pad, s->pad_len);
	transport_count_bytes(s->n->tm, s->pad_len, 0);
	r = ntcp2_hs_read_padding(&s->hs, pad, s->pad_len);
	free(pad);
	/* "Alice must fail the connection if any incoming data remains
	 * after validating message 2 and reading in the padding." */
	if (r == 0 && in_len(s) > 0)
		r = ERR_PROTOCOL;
	if (r != 0) {
		sess_fail(s, "bad SessionCreated padding", r);
		return;
	}
	/* "Alice buffers and then flushes the entire contents of the third
	 * message at once, including both AEAD frames"; data frames follow
	 * in the same write. */
	if ((r = ntcp2_hs_write_confirmed(&s->hs, s->m3p2.data, s->m3p2.len,
					  &msg)) != 0 ||
	    (r = ntcp2_hs_split(&s->hs, &k)) != 0) {
		sess_fail(s, "cannot build SessionConfirmed", r);
		bbuf_free(&msg);
		return;
	}
	out_add(s, msg.data, msg.len);
	transport_count_bytes(s->n->tm, 0, msg.len);
	bbuf_free(&msg);
	bbuf_free(&s->m3p2);
	sess_set_keys(s, &k);
	sess_established(s);
}

/* ---- handshake: Bob ---- */

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct ntcp2 *n = arg;
	struct ipent *e;
	struct sess *s;
	uint8_t ip[16];
	int one = 1;

	(void)lis;
	(void)salen;
	ip_of(sa, ip);
	e = ip_get(n, ip, true);
	if (n->shutting_down || !n->ri || !e ||
	    e->banned_until_ms > time_mono_ms() ||
	    n->pending_in >= n->cfg.max_pending ||
	    e->pending >= n->cfg.max_pending_per_ip ||
	    !transport_may_accept_from(n->tm, ip)) {
		n->st.refused++;
		log_info_rl(60, LD_NTCP2, "refused an inbound connection "
			    "(limits or ban)");
		evutil_closesocket(fd);
		return;
	}
	(void)evutil_make_socket_closeonexec(fd);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s = sess_new(n, true);
	memcpy(s->ip, ip, 16);
	s->state = S_B_WAIT1;
	s->counted_pending = true;
	e->pending++;
	n->pending_in++;
	ntcp2_hs_init_bob(&s->hs, &n->cfg.st, n->cfg.rh, n->cfg.iv,
			  n->cfg.netid);
	sess_attach(s, fd);
	event_add(s->rev, NULL);
	sess_arm(s, n->cfg.handshake_timeout_ms);
}

static void read_request(struct sess *s)
{
	struct ntcp2_hs_options o;
	uint8_t msg[NTCP2_MSG1_BYTES];
	int r;

	if (in_len(s) < NTCP2_MSG1_BYTES)
		return;
	in_remove(s, msg, sizeof(msg));
	transport_count_bytes(s->n->tm, sizeof(msg), 0);
	r = ntcp2_hs_read_request(&s->hs, msg, (uint32_t)time_now_s(),
				  s->n->replay, now_ms(), &o);
	switch (r) {
	case 0:
		break;
	case ERR_EXPIRED:
		/* Answer so Alice learns our clock (as i2pd does), then
		 * close: the padding must still be read to answer. */
		s->n->st.skewed++;
		sess_log(s, "SessionRequest clock skew", r);
		s->skewed = true;
		break;
	case ERR_DUPLICATE:
		s->n->st.replays++;
		sess_probe(s, "replayed SessionRequest", r, -1);
		return;
	default:
		sess_probe(s, "bad SessionRequest", r, -1);
		return;
	}
	s->pad_len = o.pad_len;
	s->state = S_B_PAD1;
}

static void read_request_padding(struct sess *s)
{
	uint8_t pad[NTCP2_HS_SEND_PADDING_MAX_BYTES], *p = pad;
	struct bbuf msg = BBUF_INIT;
	uint16_t pad_len;
	int r;

	if (in_len(s) < s->pad_len)
		return;
	if (s->pad_len > sizeof(pad))
		p = xmalloc(s->pad_len);
	in_remove(s, p, s->pad_len);
	transport_count_bytes(s->n->tm, s->pad_len, 0);
	r = ntcp2_hs_read_padding(&s->hs, p, s->pad_len);
	if (p != pad)
		free(p);
	/* "Bob must fail the connection if any incoming data remains after
	 * validating message 1 and reading in the padding." */
	if (r == 0 && in_len(s) > 0)
		r = ERR_PROTOCOL;
	if (r != 0) {
		sess_probe(s, "bad SessionRequest padding", r, -1);
		return;
	}
	pad_len = (uint16_t)rand_uniform(NTCP2_HS_SEND_PADDING_MAX_BYTES + 1);
	rand_bytes(pad, pad_len);
	if ((r = ntcp2_hs_write_created(&s->hs, (uint32_t)time_now_s(), pad,
					pad_len, &msg)) != 0) {
		sess_fail(s, "cannot build SessionCreated", r);
		goto out;
	}
	out_add(s, msg.data, msg.len);
	transport_count_bytes(s->n->tm, 0, msg.len);
	s->last_send_ms = now_ms();
	if (s->skewed) {
		/* Flush SessionCreated, then close. */
		s->state = S_CLOSING;
		ip_failure(s->n, s->ip);
		sess_stop_reading(s);
		sess_arm(s, s->n->cfg.close_timeout_ms);
	} else {
		s->state = S_B_WAIT3;
	}
out:
	bbuf_free(&msg);
}

/* Check Alice's RouterInfo from message 3 against her static key rs; 0
 * or a termination reason. */
static int check_alice_ri(struct sess *s, const uint8_t *buf, size_t len,
			  const struct x25519_pk *rs)
{
	struct router_info *ri = NULL;
	uint64_t now = time_now_ms();
	int reason = NTCP2_TERM_MSG3, r;

	if ((r = router_info_decode(buf, len, &ri)) != 0) {
		sess_log(s, "SessionConfirmed RouterInfo", r);
		goto out;
	}
	if ((r = router_info_verify(ri)) != 0) {
		sess_log(s, "SessionConfirmed RouterInfo signature", r);
		reason = NTCP2_TERM_RI_SIG;
		goto out;
	}
	if ((r = router_info_check_netid(ri, s->n->cfg.netid)) != 0 ||
	    (r = router_info_check_published(ri, now)) != 0) {
		sess_log(s, "SessionConfirmed RouterInfo netId or date", r);
		goto out;
	}
	if (router_info_published(ri) + NTCP2_RI_MAX_AGE_MS < now) {
		sess_log(s, "SessionConfirmed RouterInfo too old", ERR_EXPIRED);
		goto out;
	}
	/* "Bob must verify that Alice's static key received in the first
	 * frame matches the static key in the Router Info." */
	reason = NTCP2_TERM_S_PARAM;
	for (size_t i = 0; i < router_info_address_count(ri); i++) {
		const struct router_address *a = router_info_address(ri, i);
		struct router_address_ntcp2 p;

		if (router_address_is_ntcp2(a) &&
		    router_address_ntcp2_parse(a, &p) == 0 &&
		    memcmp(p.s.b, rs->b, 32) == 0)
			reason = 0;
	}
	if (reason) {
		sess_log(s, "SessionConfirmed static key not in RouterInfo", 0);
		goto out;
	}
	memcpy(s->peer_rh, router_info_hash(ri), 32);
	s->has_peer = true;
	transport_conn_ri(s->n->tm, buf, len, false);
out:
	router_info_free(ri);
	return reason;
}

static void read_confirmed(struct sess *s)
{
	size_t need = ntcp2_hs_confirmed_len(&s->hs), plen = 0, nblk;
	struct ntcp2_keys k;
	struct ntcp2_block b;
	struct breader r;
	struct x25519_pk rs;
	uint8_t *msg, *payload, flag;
	const uint8_t *ri;
	size_t ri_len;
	int e, reason;

	if (in_len(s) < need)
		return;
	msg = xmalloc(need);
	payload = xmalloc(need);
	in_remove(s, msg, need);
	transport_count_bytes(s->n->tm, need, 0);
	if ((e = ntcp2_hs_read_confirmed(&s->hs, msg, need, payload, &plen)) != 0) {
		sess_fail(s, "bad SessionConfirmed", e);
		goto out;
	}
	if (BUG(!ntcp2_hs_remote_static(&s->hs, &rs)) ||
	    (e = ntcp2_hs_split(&s->hs, &k)) != 0) {
		sess_fail(s, "SessionConfirmed split", ERR_INTERNAL);
		goto out;
	}
	/* Keys first, so the failures below can send a Termination. */
	sess_set_keys(s, &k);
	br_init(&r, payload, plen);
	if ((e = ntcp2_frame_check(payload, plen, NTCP2_FRAME_MSG3, &nblk)) != 0 ||
	    ntcp2_block_decode(&r, &b) != 0 ||
	    ntcp2_block_routerinfo(&b, &flag, &ri, &ri_len) != 0) {
		sess_log(s, "SessionConfirmed payload", e ? e : ERR_FORMAT);
		ip_failure(s->n, s->ip);
		sess_terminate(s, NTCP2_TERM_MSG3);
		goto out;
	}
	if ((reason = check_alice_ri(s, ri, ri_len, &rs)) != 0) {
		ip_failure(s->n, s->ip);
		sess_terminate(s, (uint8_t)reason);
		goto out;
	}
	s->send_intro = true;
	sess_established(s);
out:
	memwipe(&k, sizeof(k));
	xfree_wipe(payload, need);
	free(msg);
}

/* ---- data phase ---- */

static void handle_ri_block(struct sess *s, const struct ntcp2_block *b)
{
	struct router_info *ri = NULL;
	const uint8_t *p;
	size_t len;
	uint8_t flag;

	if (ntcp2_block_routerinfo(b, &flag, &p, &len) != 0 ||
	    router_info_decode(p, len, &ri) != 0 ||
	    router_info_verify(ri) != 0 ||
	    router_info_check_netid(ri, s->n->cfg.netid) != 0) {
		sess_log(s, "unusable RouterInfo block ignored", 0);
		goto out;
	}
	/* "receiver shall validate that it's the same Router Hash as
	 * originally sent (for Alice) or sent to (for Bob)". */
	if (memcmp(router_info_hash(ri), s->peer_rh, 32) != 0) {
		log_debug(LD_NTCP2, "session %llu: third-party RouterInfo "
			  "block ignored", (unsigned long long)s->id);
		goto out;
	}
	transport_conn_ri(s->n->tm, p, len, flag & NTCP2_RI_FLAG_FLOOD);
out:
	router_info_free(ri);
}

/* Act on the blocks of a checked frame; false when the session ended. */
static bool handle_frame(struct sess *s, const uint8_t *p, size_t len)
{
	struct breader r;
	struct ntcp2_block b;
	struct i2np_msg *m;
	uint64_t frames;
	uint32_t ts;
	uint8_t reason;
	int64_t skew;
	bool got_i2np = false;

	br_init(&r, p, len);
	while (br_left(&r) > 0 && s->state == S_ESTABLISHED) {
		if (BUG(ntcp2_block_decode(&r, &b) != 0))
			return false;
		switch (b.type) {
		case NTCP2_BLOCK_DATETIME:
			(void)ntcp2_block_datetime(&b, &ts);
			skew = (int64_t)ts - (int64_t)time_now_s();
			if (skew < -NTCP2_CLOCK_SKEW_S || skew > NTCP2_CLOCK_SKEW_S) {
				sess_log(s, "DateTime clock skew", ERR_EXPIRED);
				sess_terminate(s, NTCP2_TERM_CLOCK_SKEW);
				return false;
			}
			break;
		case NTCP2_BLOCK_ROUTERINFO:
			handle_ri_block(s, &b);
			break;
		case NTCP2_BLOCK_I2NP:
			if (i2np_msg_decode_short(b.data, b.len, &m) != 0) {
				sess_log(s, "bad I2NP block", ERR_FORMAT);
				sess_terminate(s, NTCP2_TERM_PAYLOAD);
				return false;
			}
			got_i2np = true;
			if (s->up)
				transport_conn_recv(s->n->tm, s->n->tid, s->id, m);
			else
				i2np_msg_free(m);
			break;
		case NTCP2_BLOCK_TERMINATION:
			(void)ntcp2_block_termination(&b, &frames, &reason);
			s->n->st.terminations_received++;
			s->n->st.last_term_reason = reason;
			log_debug(LD_NTCP2, "session %llu: peer terminated: %s",
				  (unsigned long long)s->id,
				  ntcp2_term_reason_str(reason));
			sess_terminate(s, NTCP2_TERM_RECEIVED);
			return false;
		default:	/* Options, Padding, unknown: nothing to do */
			break;
		}
	}
	if (got_i2np)
		s->last_i2np_ms = now_ms();
	return s->state == S_ESTABLISHED;
}

static void read_data(struct sess *s)
{
	unsigned budget = SESS_READ_BUDGET_FRAMES;
	uint8_t lb[NTCP2_LEN_BYTES];
	size_t plen;
	uint8_t *p;
	int r;

	while (s->state == S_ESTABLISHED && budget-- > 0) {
		if (s->rx_need == 0) {
			if (in_len(s) < NTCP2_LEN_BYTES)
				break;
			in_remove(s, lb, sizeof(lb));
			if ((r = ntcp2_frame_len_decode(&s->rx, lb, &s->rx_need)) != 0) {
				/* "Take the same error action for an invalid
				 * length field value." */
				sess_probe(s, "bad frame length", r,
					   NTCP2_TERM_FRAMING);
				return;
			}
			s->partial_since_ms = now_ms();
		}
		if (in_len(s) < s->rx_need)
			break;
		p = in_ptr(s);
		r = ntcp2_frame_open(&s->rx, p, s->rx_need, &plen);
		transport_count_bytes(s->n->tm, s->rx_need + NTCP2_LEN_BYTES, 0);
		if (r != 0) {
			sess_probe(s, "data phase AEAD failure", r, NTCP2_TERM_AEAD);
			return;
		}
		s->n->st.frames_in++;
		if ((r = ntcp2_frame_check(p, plen, NTCP2_FRAME_DATA, NULL)) != 0) {
			sess_log(s, "bad frame payload", r);
			sess_terminate(s, NTCP2_TERM_PAYLOAD);
			return;
		}
		if (!handle_frame(s, p, plen))
			return;
		in_drain(s, s->rx_need);
		s->rx_need = 0;
	}
	/* Out of budget with whole frames left: carry on next pass. */
	if (s->state == S_ESTABLISHED && in_len(s) >= NTCP2_LEN_BYTES &&
	    (s->rx_need == 0 || in_len(s) >= s->rx_need))
		event_active(s->rev, EV_READ, 0);
}

/* Drain (probing resistance) and count what we throw away. */
static void read_probe(struct sess *s)
{
	size_t have = in_len(s);
	size_t take = have < s->probe_left ? have : s->probe_left;

	in_drain(s, take);
	s->probe_left -= take;
	if (s->probe_left == 0) {
		if (s->probe_term >= 0)
			sess_terminate(s, (uint8_t)s->probe_term);
		else
			sess_kill(s, true);
	}
}

/* Act on the buffered input in the session's current state. */
static void sess_process(struct sess *s)
{
	enum sess_state before;

	do {
		before = s->state;
		switch (s->state) {
		case S_A_WAIT2:
			read_created(s);
			break;
		case S_A_PAD2:
			read_created_padding(s);
			break;
		case S_B_WAIT1:
			read_request(s);
			break;
		case S_B_PAD1:
			read_request_padding(s);
			break;
		case S_B_WAIT3:
			read_confirmed(s);
			break;
		case S_ESTABLISHED:
			read_data(s);
			break;
		case S_PROBE:
			read_probe(s);
			return;
		case S_CONNECTING:
		case S_CLOSING:
			in_drain(s, in_len(s));
			return;
		case S_DEAD:
			return;
		}
	} while (s->state != before && s->state != S_DEAD);
}

/* Pull queued messages into frames until the output is full enough. */
static void sess_fill(struct sess *s)
{
	struct i2np_msg *m;
	size_t room;
	bool any, sent_i2np = false;

	if (s->state != S_ESTABLISHED)
		return;
	while (out_len(s) < NTCP2_OUTBUF_HIGH_BYTES) {
		s->plain.len = 0;
		any = false;
		if (s->send_intro) {
			/* "Bob may send his RouterInfo to Alice as his first
			 * message to Alice in the data phase." */
			s->send_intro = false;
			ntcp2_block_put_datetime(&s->plain, (uint32_t)time_now_s());
			if (s->n->ri)
				(void)ntcp2_block_put_routerinfo(&s->plain, 0,
								 s->n->ri,
								 s->n->ri_len);
			any = true;
		}
		while (s->up) {
			room = NTCP2_FRAME_MAX_PLAIN_BYTES - SESS_PAD_MAX_BYTES -
			       NTCP2_BLOCK_HEADER_BYTES - s->plain.len;
			if (room < NTCP2_I2NP_BLOCK_BYTES(0))
				break;
			m = transport_conn_pull(s->n->tm, s->n->tid, s->id,
						room - NTCP2_I2NP_BLOCK_BYTES(0));
			if (!m)
				break;
			(void)ntcp2_block_put_i2np(&s->plain, m);
			i2np_msg_free(m);
			any = sent_i2np = true;
		}
		if (!any)
			break;
		sess_put_padding(s);
		if (sess_send_plain(s) != 0) {
			sess_log(s, "cannot send a frame", ERR_LIMIT);
			sess_kill(s, true);
			return;
		}
	}
	/* Re-arm the keepalive / idle timer from the latest activity. */
	uint64_t now = now_ms();

	if (sent_i2np)
		s->last_i2np_ms = now;
	uint64_t ka = s->last_send_ms + s->n->cfg.keepalive_ms;
	uint64_t idle = s->last_i2np_ms + s->n->cfg.idle_timeout_ms;
	uint64_t next = ka < idle ? ka : idle;

	if (s->rx_need && s->partial_since_ms + s->n->cfg.frame_timeout_ms < next)
		next = s->partial_since_ms + s->n->cfg.frame_timeout_ms;
	if (s->n->cfg.write_stall_ms && out_len(s) &&
	    s->wrote_ms + s->n->cfg.write_stall_ms < next)
		next = s->wrote_ms + s->n->cfg.write_stall_ms;
	if (s->n->cfg.trim_ms && s->trim_at_ms < next && (s->ocap || s->rcap))
		next = s->trim_at_ms;
	s->timer_at_ms = next;
	evloop_timer_arm(s->timer, next > now ? next - now : 0);
}

/* The socket closed or failed (read returned 0 or an error). */
static void sess_closed(struct sess *s, bool eof)
{
	switch (s->state) {
	case S_ESTABLISHED:
		log_debug(LD_NTCP2, "session %llu: connection closed",
			  (unsigned long long)s->id);
		sess_kill(s, false);
		break;
	case S_CONNECTING:
		sess_log(s, "cannot connect", ERR_IO);
		sess_kill(s, false);
		break;
	case S_PROBE:
	case S_CLOSING:
	case S_DEAD:
		sess_kill(s, false);
		break;
	case S_A_WAIT2:
	case S_A_PAD2:
	case S_B_WAIT1:
	case S_B_PAD1:
	case S_B_WAIT3:
		/* A truncated handshake: the peer gave up or lied. */
		sess_log(s, eof ? "connection closed during the handshake" :
			 "socket error during the handshake", 0);
		if (s->inbound)
			ip_failure(s->n, s->ip);
		sess_kill(s, false);
		break;
	}
}

/* ACK what came at once.  A peer sending with Nagle's algorithm holds
 * its next small frame until the last one is acked, and Linux delays an
 * ACK by up to 40 ms: in about half of tools/bench/proxy's runs on the
 * loopback testnet (bitsd and i2pd hops), a stream's SYN took ~45 ms to
 * reach the site, 3 ms with quick ACKs.  Quick-ACK mode ends by itself,
 * so it is set again after every read. */
static void quickack(evutil_socket_t fd)
{
#ifdef TCP_QUICKACK
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)fd;
#endif
}

static void sess_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct sess *s = arg;

	(void)what;
	/* Whole frames left over from the last pass come first. */
	sess_process(s);
	for (unsigned i = 0; i < SESS_READS_PER_EVENT; i++) {
		ssize_t r;

		if (s->state == S_DEAD || s->state == S_CLOSING ||
		    !event_pending(s->rev, EV_READ, NULL))
			return;
		in_make_room(s);
		r = recv(fd, s->rbuf + s->rlen, s->rcap - s->rlen, 0);
		if (r > 0) {
			quickack(fd);
			s->rlen += (size_t)r;
			sess_process(s);
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			      errno == EINTR))
			return;
		sess_closed(s, r == 0);
		return;
	}
}

static void sess_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct sess *s = arg;
	int err = 0;
	socklen_t elen = sizeof(err);

	(void)what;
	if (s->state == S_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err) {
			sess_closed(s, false);
			return;
		}
		event_add(s->rev, NULL);
		send_request(s);
		if (s->state == S_DEAD)
			return;
	}
	/* Frames are made and sent in the same call (filled after the send,
	 * they waited for the next pass of the loop, and the write event
	 * went into epoll and out again around every burst); the event
	 * stays in epoll only while the socket is full. */
	s->in_write = true;
	for (unsigned pass = 0; pass < SESS_WRITE_PASSES; pass++) {
		size_t n;
		ssize_t w;

		if (s->state == S_ESTABLISHED &&
		    out_len(s) <= NTCP2_OUTBUF_LOW_BYTES)
			sess_fill(s);
		if (s->state == S_DEAD || out_len(s) == 0)
			break;
		n = out_len(s) < SESS_IO_CHUNK_BYTES ? out_len(s) :
			SESS_IO_CHUNK_BYTES;
		w = send(fd, s->obuf + s->opos, n, MSG_NOSIGNAL);
		if (w > 0) {
			s->wrote_ms = now_ms();
			s->opos += (size_t)w;
			if (s->opos == s->olen)
				s->opos = s->olen = 0;
			if ((size_t)w < n)
				break;		/* the socket is full */
		} else if (errno == EAGAIN || errno == EWOULDBLOCK ||
			   errno == EINTR) {
			break;
		} else {
			s->in_write = false;
			sess_closed(s, false);
			return;
		}
	}
	s->in_write = false;
	if (s->state == S_DEAD)
		return;
	if (s->state == S_CLOSING && out_len(s) == 0) {
		sess_kill(s, false);
		return;
	}
	/* The last pass can empty the buffer exactly while messages are
	 * still queued (a fill stops at NTCP2_OUTBUF_HIGH_BYTES): with the
	 * event gone and the queue not empty, no wake would come until the
	 * keepalive timer. */
	if (s->state == S_ESTABLISHED && out_len(s) == 0)
		sess_fill(s);
	if (out_len(s) == 0)
		event_del(s->wev);
	else
		sess_want_write(s);
}

/* Give s its socket and events (reads are enabled by the caller). */
static void sess_attach(struct sess *s, evutil_socket_t fd)
{
	struct event_base *base = evloop_base(s->n->el);

	s->fd = fd;
	s->rev = event_new(base, fd, EV_READ | EV_PERSIST, sess_on_read, s);
	s->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, sess_on_write, s);
	if (!s->rev || !s->wev)
		abort();	/* like OOM */
}

/*
 * Buffers go once empty and not grown (or made again) for a check's
 * period, and come back with the next byte in or out: kept, every
 * session held 32 KiB while it idled (17 MB over 512), and one that
 * ever carried a burst held what it grew to (output 512 KiB, input 128
 * KiB) for its life.
 */
static void sess_trim(struct sess *s, uint64_t now)
{
	if (!s->grew && out_len(s) == 0 && s->ocap) {
		free(s->obuf);
		s->obuf = NULL;
		s->ocap = 0;
		s->opos = s->olen = 0;
	}
	if (!s->grew && in_len(s) == 0 && s->rcap) {
		xfree_wipe(s->rbuf, s->rcap);	/* decrypted in place */
		s->rbuf = NULL;
		s->rcap = 0;
		s->rpos = s->rlen = 0;
	}
	s->grew = false;
	s->trim_at_ms = now + s->n->cfg.trim_ms;
}

static void sess_timer_cb(void *arg)
{
	struct sess *s = arg;
	uint64_t now = now_ms();

	switch (s->state) {
	case S_ESTABLISHED:
		/* It sends (so its idle timer never fires) and reads nothing:
		 * what waits for it would wait for the session's life. */
		if (s->n->cfg.write_stall_ms && out_len(s) &&
		    s->wrote_ms + s->n->cfg.write_stall_ms <= now) {
			sess_log(s, "the peer stopped reading", ERR_TIMEOUT);
			s->n->st.write_stalls++;
			sess_kill(s, true);
			return;
		}
		if (s->rx_need && s->partial_since_ms +
				  s->n->cfg.frame_timeout_ms <= now) {
			sess_log(s, "intra-frame read timeout", ERR_TIMEOUT);
			sess_terminate(s, NTCP2_TERM_READ_TIMEOUT);
			return;
		}
		if (s->last_i2np_ms + s->n->cfg.idle_timeout_ms <= now) {
			log_debug(LD_NTCP2, "session %llu: idle timeout",
				  (unsigned long long)s->id);
			sess_terminate(s, NTCP2_TERM_IDLE);
			return;
		}
		if (s->n->cfg.trim_ms && s->trim_at_ms <= now)
			sess_trim(s, now);
		if (s->last_send_ms + s->n->cfg.keepalive_ms <= now) {
			/* Keepalive: a DateTime block keeps the peer's idle
			 * timer (i2pd: 120 s) from closing us. */
			s->plain.len = 0;
			ntcp2_block_put_datetime(&s->plain, (uint32_t)time_now_s());
			sess_put_padding(s);
			if (sess_send_plain(s) != 0) {
				sess_kill(s, true);
				return;
			}
		}
		sess_fill(s);	/* re-arms */
		break;
	case S_PROBE:
		if (s->probe_term >= 0)
			sess_terminate(s, (uint8_t)s->probe_term);
		else
			sess_kill(s, true);
		break;
	case S_CLOSING:
		sess_kill(s, false);
		break;
	case S_CONNECTING:
	case S_A_WAIT2:
	case S_A_PAD2:
	case S_B_WAIT1:
	case S_B_PAD1:
	case S_B_WAIT3:
		/* Slow or stuck handshake ("Enforce read timeouts ... total
		 * for slowloris"). */
		sess_log(s, "handshake timeout", ERR_TIMEOUT);
		if (s->inbound)
			ip_failure(s->n, s->ip);
		sess_kill(s, true);
		break;
	case S_DEAD:
		break;
	}
}

/* ---- transport_ops ---- */

static struct sess *sess_find(struct ntcp2 *n, uint64_t id)
{
	for (struct sess *s = n->sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void ntcp2_wake(void *impl, uint64_t conn_id)
{
	struct sess *s = sess_find(impl, conn_id);

	/* Fill from the loop, not from inside the manager's call. */
	if (s && s->state == S_ESTABLISHED && s->wev)
		event_active(s->wev, EV_WRITE, 0);
}

static void ntcp2_close(void *impl, uint64_t conn_id, enum transport_close why)
{
	struct sess *s = sess_find(impl, conn_id);
	uint8_t reason = NTCP2_TERM_NORMAL;

	if (!s)
		return;
	switch (why) {
	case TRANSPORT_CLOSE_NORMAL:
	case TRANSPORT_CLOSE_DUPLICATE:
	case TRANSPORT_CLOSE_LIMIT:
		reason = NTCP2_TERM_NORMAL;
		break;
	case TRANSPORT_CLOSE_SHUTDOWN:
		reason = NTCP2_TERM_SHUTDOWN;
		break;
	case TRANSPORT_CLOSE_BANNED:
		reason = NTCP2_TERM_BANNED;
		break;
	}
	s->up = false;	/* the manager has let go of it */
	if (s->state == S_ESTABLISHED)
		sess_terminate(s, reason);
	else
		sess_kill(s, false);
}

static const struct transport_ops ntcp2_ops = {
	.name = "NTCP2",
	.reach_cost = ntcp2_reach_cost,
	.connect = ntcp2_connect,
	.wake = ntcp2_wake,
	.close = ntcp2_close,
};

/* ---- struct ntcp2 ---- */

struct ntcp2 *ntcp2_new(struct evloop *el, struct transport_mgr *tm,
			const struct ntcp2_config *cfg)
{
	struct ntcp2 *n = xzalloc(sizeof(*n));

	n->el = el;
	n->tm = tm;
	n->cfg = *cfg;
	n->replay = ntcp2_replay_new(8192, NTCP2_REPLAY_LIFETIME_MS);
	n->tid = transport_mgr_add(tm, &ntcp2_ops, n);
	return n;
}

/* Freeing with the loop stopped: queue a Termination (router shutdown)
 * and give it one non-blocking write, then close without RST. */
static void sess_goodbye(struct sess *s)
{
	s->plain.len = 0;
	ntcp2_block_put_termination(&s->plain, s->rx.n, NTCP2_TERM_SHUTDOWN);
	if (sess_send_plain(s) == 0) {
		s->n->st.terminations_sent++;
		(void)send(s->fd, s->obuf + s->opos, out_len(s),
			   MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	sess_kill(s, false);
}

void ntcp2_free(struct ntcp2 *n)
{
	struct sess *s, *next;

	if (!n)
		return;
	if (!n->free_when_empty) {
		if (n->lis4)
			evconnlistener_free(n->lis4);
		if (n->lis6)
			evconnlistener_free(n->lis6);
		n->lis4 = n->lis6 = NULL;
		for (s = n->sessions; s; s = next) {
			next = s->next;
			if (s->state == S_ESTABLISHED)
				sess_goodbye(s);
			else if (s->state != S_DEAD)
				sess_kill(s, true);
		}
		n->tm = NULL;	/* the manager hears nothing more from us */
		/* Marked sessions are freed by the loop's reaper; the last
		 * one frees n. */
		n->free_when_empty = true;
		if (n->sessions)
			return;
	} else if (n->sessions) {
		return;
	}
	ntcp2_replay_free(n->replay);
	xfree_wipe(n->ri, n->ri_len);
	memwipe(n, sizeof(*n));
	free(n);
}

static void listen_error_cb(struct evconnlistener *lis, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();

	(void)lis;
	(void)arg;
	/* EMFILE and friends: a local problem for the operator. */
	log_warn(LD_NTCP2, "accept failed: %s", evutil_socket_error_to_string(e));
}

static int parse_host(const char *host, uint16_t port,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return ERR_ARG;
}

int ntcp2_listen(struct ntcp2 *n, const char *host, uint16_t port)
{
	struct sockaddr_storage ss;
	struct evconnlistener *lis;
	socklen_t len;
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
			 LEV_OPT_CLOSE_ON_EXEC;

	if (parse_host(host, port, &ss, &len) != 0)
		return ERR_ARG;
	if (ss.ss_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	lis = evconnlistener_new_bind(evloop_base(n->el), accept_cb, n, flags,
				      128, (struct sockaddr *)&ss, (int)len);
	if (!lis)
		return ERR_IO;
	evconnlistener_set_error_cb(lis, listen_error_cb);
	if (ss.ss_family == AF_INET) {
		if (n->lis4)
			evconnlistener_free(n->lis4);
		n->lis4 = lis;
	} else {
		if (n->lis6)
			evconnlistener_free(n->lis6);
		n->lis6 = lis;
	}
	return 0;
}

uint16_t ntcp2_listen_port(const struct ntcp2 *n, int family)
{
	struct evconnlistener *lis = family == AF_INET ? n->lis4 :
				     family == AF_INET6 ? n->lis6 : NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!lis || getsockname(evconnlistener_get_fd(lis),
				(struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int ntcp2_set_source(struct ntcp2 *n, const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!host) {
		n->has_src4 = n->has_src6 = false;
		return 0;
	}
	if (parse_host(host, 0, &ss, &len) != 0)
		return ERR_ARG;
	if (ss.ss_family == AF_INET) {
		n->src4 = ss;
		n->has_src4 = true;
	} else {
		n->src6 = ss;
		n->has_src6 = true;
	}
	return 0;
}

int ntcp2_set_router_info(struct ntcp2 *n, const uint8_t *ri, size_t len)
{
	if (len == 0 || len > NTCP2_RI_MAX_BYTES)
		return ERR_TOO_BIG;
	xfree_wipe(n->ri, n->ri_len);
	n->ri = xmemdup(ri, len);
	n->ri_len = len;
	return 0;
}

void ntcp2_shutdown(struct ntcp2 *n)
{
	n->shutting_down = true;
	if (n->lis4)
		evconnlistener_disable(n->lis4);
	if (n->lis6)
		evconnlistener_disable(n->lis6);
	for (struct sess *s = n->sessions; s; s = s->next) {
		if (s->state == S_ESTABLISHED)
			sess_terminate(s, NTCP2_TERM_SHUTDOWN);
		else if (s->state != S_CLOSING && s->state != S_DEAD)
			sess_kill(s, false);
	}
}

void ntcp2_stats(const struct ntcp2 *n, struct ntcp2_stats *out)
{
	*out = n->st;
	out->sessions = n->nsessions;
	out->pending_in = n->pending_in;
	out->buffer_bytes = 0;
	for (const struct sess *s = n->sessions; s; s = s->next)
		out->buffer_bytes += s->ocap + s->rcap;
}
