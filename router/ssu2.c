/*
 * The SSU2 transport (router/ssu2.h; geti2p.net/spec/ssu2): sessions on
 * the event loop over one non-blocking UDP socket driven by a libevent
 * event (no bufferevents).  Packet crypto lives in router/ssu2_handshake.c
 * and block codecs in router/ssu2_block.c; this file holds the state
 * machines, timers, tables and the transport-manager glue.
 *
 * Sessions are kept in a list; the one a packet belongs to is found by
 * our receive connection id.  A session is never freed inside its own
 * callback: it is unlinked and handed to evloop_mark_close(), which is also
 * when the transport manager hears that it is down (STYLE.md §4).
 */
#include "config.h"
#include "router/ssu2.h"
#include "router/ssu2_internal.h"
#include "router/evloop.h"
#include "router/gzip.h"
#include "router/i2np.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "router/ssu2_block.h"
#include "router/ssu2_peertest.h"
#include "router/ssu2_relay.h"
#include "router/keys_and_cert.h"
#include "router/ratelim.h"
#include "router/transport.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "crypto/chacha.h"
#include "crypto/rand.h"
#include "crypto/keystore.h"
#include "router/ntcp2_handshake.h"	/* the ephemeral-key replay cache */

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Reaching a firewalled router through an introducer we must dial first
 * costs this much more than through one we have a session with. */
#define SSU2_INTRO_DIAL_COST 5
/* Alice waiting for a session with an introducer looks this often. */
#define SSU2_RELAY_WAIT_POLL_MS 1000
/* Datagrams read per socket event before yielding to the loop. */
#define RECV_BUDGET_PKTS 128
/* Packets taken in before we ACK and refill (a coalesced read can bring
 * a whole window at once). */
#define ACK_EVERY_PKTS 64
/* Room kept in each data packet for an ACK block with a few ranges. */
#define ACK_RESERVE_BYTES (SSU2_BLOCK_HEADER_BYTES + SSU2_ACK_MIN_BYTES + 16)
/* Fragments one packet can carry (each at least 3 + 5 + 1 bytes). */
#define PKT_MAX_FRAGS 32
/* Sent packets remembered: a ring of a power of two slots, allocated
 * when the session first has data to send, doubled when the next
 * packet's slot still holds one in flight (up to SENT_SLOTS, above
 * SSU2_CWND_MAX) and freed after a keepalive interval with nothing in
 * flight.  A record is 304 bytes; a fixed ring of SENT_SLOTS made every
 * session, handshakes and idle ones included, 276 KB. */
#define SENT_SLOTS 512
#define SENT_SLOTS_MIN 16
/* Other routers' RouterInfos a session may hand the netDb. */
#define SSU2_THIRD_RI_PER_MIN 10
#define SSU2_THIRD_RI_BURST 10
/* Messages taken from the manager and not yet acked, per session. */
#define OUT_MAX_MSGS 512
#define OUT_MAX_BYTES (512 * 1024)
/* Message records kept for reuse (a bulk sender frees and takes one for
 * each message; malloc's small caches hold a few only). */
#define OM_SPARE_MAX 1024
/* Datagrams per sendmmsg() / recvmmsg() call. */
#define OUT_BATCH 32
#define IN_BATCH 32
/* Received datagrams whose headers are unprotected, and data packets
 * opened, together (rx_chunk()). */
#define RX_CHUNK 16
/* UDP generic segmentation offload (Linux 4.18): a run of equal-sized
 * datagrams to one address goes down the stack once. */
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#define GSO_MAX_SEGS 64
#define GSO_MAX_BYTES 65000
/* ...and its receive side: datagrams of one flow arrive coalesced, with
 * their size in a UDP_GRO control message. */
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#define GRO_BUF_BYTES 65536
/* IP addresses tracked for rate limits and bans. */
#define IP_SLOTS 256
/* The DateTime block we add to keepalives and handshake messages. */
#define HS_PAD_MAX 16

enum sess_state {
	S_TOKEN_REQ,		/* Alice: Token Request sent */
	S_REQ_SENT,		/* Alice: SessionRequest sent */
	S_CREATED_SENT,		/* Bob: SessionCreated sent */
	S_ESTABLISHED,
	S_CLOSING,		/* Termination sent, lingering */
	S_RELAY,		/* Alice: asked an introducer, waiting */
};

struct outmsg {
	struct outmsg *next;		/* (in n->om_spare: the next spare) */
	struct i2np_msg *m;
	/* cut into blocks when first sent (plan.nfrags 0: not yet, and
	 * pending is 1) */
	struct ssu2_frag_plan plan;
	uint64_t acked;		/* bit i: fragment i acked */
	uint64_t pending;	/* bit i: fragment i to (re)send */
	uint8_t sends[SSU2_MAX_FRAGS];
	uint64_t first_ms;	/* first sent (0: not yet) */
	unsigned refs;		/* in-flight packets carrying a fragment */
	bool dead;		/* given up: free when refs drop to 0 */
};

struct sentpkt {
	bool used;
	uint8_t n;
	uint32_t pn;
	uint64_t sent_ms;
	/* fragment i: fragment frag[i] of om[i] */
	struct outmsg *om[PKT_MAX_FRAGS];
	uint8_t frag[PKT_MAX_FRAGS];
};

struct sess {
	struct sess *next;
	struct ssu2 *n;
	uint64_t id;			/* the manager's conn id */
	enum sess_state state;
	bool inbound;
	bool up;			/* transport_conn_up() accepted it */
	bool closed;			/* unlinked, waiting for the reaper */
	bool msg_in;			/* an I2NP message came (logged) */
	struct sockaddr_in6 peer;
	uint64_t rid, sid;		/* we receive with rid, send to sid */
	uint8_t peer_rh[32];
	uint8_t peer_ik[32];		/* k_header_1 for what we send */
	struct ssu2_hs hs;
	struct ssu2_keys keys;
	struct ssu2_aead aead_tx, aead_rx;	/* keyed with send/recv k_data */
	bool keyed;
	struct evloop_timer *timer;
	uint64_t started_ms, last_recv_ms, last_send_ms;
	/* handshake packets kept for resending, unchanged */
	uint8_t *hs_pkts;
	size_t hs_lens[SSU2_CONFIRMED_MAX_FRAGS];
	unsigned hs_n;
	unsigned hs_resends;
	uint64_t hs_first_ms, hs_next_ms;	/* kept message first sent */
	uint64_t req_token;		/* Alice: token in our SessionRequest */
	unsigned retries;		/* Alice: Retry messages taken */
	bool confirmed_acked;		/* Alice: Bob's first data arrived */
	/* Bob: SessionConfirmed fragments */
	uint8_t *cf_buf[SSU2_CONFIRMED_MAX_FRAGS];
	size_t cf_len[SSU2_CONFIRMED_MAX_FRAGS];
	unsigned cf_total;
	/* data phase */
	uint32_t send_pn;
	struct ssu2_rxwin rx;
	unsigned ack_owed;		/* ack-eliciting packets not yet acked */
	uint64_t ack_due_ms;		/* 0: none */
	struct ssu2_reasm *reasm;
	struct outmsg *out_head, *out_tail;
	/* the last of a run from out_head of messages with nothing to send
	 * (NULL: look from out_head): sess_flush() starts after it */
	struct outmsg *out_sent;
	size_t out_msgs, out_bytes;
	struct sentpkt *sent;		/* ring of sent_cap (NULL: 0) */
	uint32_t sent_cap;
	size_t inflight;
	uint32_t oldest_pn;		/* no packet below it is in flight */
	uint32_t largest_acked;
	bool any_acked;
	unsigned cwnd, ssthresh;
	unsigned cwnd_acked;		/* packets acked toward cwnd + 1 */
	uint64_t srtt_ms, rttvar_ms, rto_ms;
	unsigned rto_backoff;		/* expiries since the last ACK */
	bool have_rtt;
	/* path validation */
	bool path_pending;
	struct sockaddr_in6 path_addr;
	uint8_t path_data[8];
	uint64_t path_sent_ms;
	uint8_t term_reason;
	/* RouterInfos for peer test: the peer's own, and the last one a
	 * RouterInfo block brought (Bob sends Alice's or Charlie's first) */
	uint8_t *peer_ri, *last_ri;
	size_t peer_ri_len, last_ri_len;
	struct tbucket ri_bucket;	/* others' RouterInfos to the netDb */
	/* relay: the tag we gave the peer (as Bob), the tag it gave us (as
	 * Charlie), and Alice's pending introduction */
	uint32_t tag_for_peer, tag_from_peer;
	uint64_t tag_got_s;		/* when tag_from_peer came (wall) */
	uint64_t tag_asked_ms;		/* a Relay Tag Request went out */
	bool tag_asked_hs;		/* ...in our SessionRequest */
	uint32_t relay_nonce;
	uint8_t relay_bob[32];
	/* Alice without a session with any of Charlie's introducers (or not
	 * knowing her own address yet): the introducers, dialled once, and
	 * asked when one is up (relay_nonce 0 until then) */
	struct router_address_ssu2_intro relay_intro[ROUTER_ADDRESS_SSU2_MAX_INTRODUCERS];
	size_t relay_nintro;
	bool relay_v6;			/* to Charlie's IPv6 address */
	bool relay_dialled;
};

enum pt_role { PT_NONE, PT_ALICE, PT_BOB, PT_CHARLIE };

struct ptest {
	enum pt_role role;
	uint32_t nonce;
	uint64_t started_ms, msg4_ms;
	uint8_t sdata[SSU2_PT_SDATA_MAX_BYTES];
	size_t slen;
	bool v6;			/* an IPv6 test (Alice, Charlie) */
	/* Alice */
	uint64_t bob_id;
	bool got4, got5, sent6;
	/* Charlie's address had a flow with us (a session in any state, or
	 * one ended within SSU2_NAT_FLOW_MS): a NAT or firewall lets its
	 * message 5 in whether or not we are reachable, so this test
	 * decides nothing. */
	bool moot;
	uint8_t charlie_ik[32];
	struct sockaddr_in6 charlie_addr;
	bool have_charlie;
	/* Bob */
	uint64_t alice_id, charlie_id;
	uint8_t alice_hash[32];
	/* Charlie */
	uint8_t alice_ik[32];
	struct sockaddr_in6 alice_addr;
};

struct ipent {
	uint8_t ip[16];			/* v4-mapped for IPv4 */
	bool used;
	uint64_t last_ms;
	unsigned failures;
	uint64_t window_start_ms;
	uint64_t banned_until_ms;
	double bucket;			/* Retry replies available */
	uint64_t bucket_ms;
	unsigned pending;
};

struct token {
	uint8_t ip[16];
	uint16_t port;
	uint64_t token;
	uint64_t expires_s;
};

struct token_tab {
	struct token t[SSU2_MAX_TOKENS];
	size_t n;
};

struct ssu2 {
	struct evloop *el;
	struct transport_mgr *tm;
	unsigned tid;
	struct ssu2_config cfg;
	evutil_socket_t fd, fd6;	/* IPv4 and IPv6 sockets (-1: none) */
	struct event *rev, *rev6;
	uint16_t port, port6;
	uint8_t *ri;
	size_t ri_len;
	struct sess *sessions;
	size_t nsess, pending_in;
	size_t sent_bytes;		/* all sessions' sent rings */
	size_t reasm_bytes;		/* all sessions' partial messages */
	/* Killed sessions the loop's reaper has yet to free: they still point
	 * here, so ssu2_free() leaves n to the last of them (gone: set). */
	size_t dying;
	bool gone;
	uint64_t next_id;
	struct token_tab issued, received;
	struct ipent ips[IP_SLOTS];
	struct ntcp2_replay *replay;
	struct i2np_dedup *dedup;
	struct ssu2_stats st;
	bool shutting_down;
	/* our address as peers see it, per family ([0] IPv4, [1] IPv6),
	 * and which came last */
	struct ext_addr {
		bool have;
		uint8_t ip[16];
		size_t iplen;
		uint16_t port;
	} ext[2];
	bool ext_last6;
	enum ssu2_reach reach6;		/* IPv6 peer tests (reach: IPv4) */
	bool firewalled6;		/* ...said so last (firewalled: IPv4) */
	struct sess *dirty[RECV_BUDGET_PKTS];
	size_t ndirty;
	struct outmsg *om_spare;	/* freed records for out_pull() */
	size_t om_nspare;
	struct ptest pt[SSU2_PT_MAX];
	/* where our recently ended sessions went, and when (a ring) */
	struct {
		struct sockaddr_in6 to;
		uint64_t ms;
	} flows[SSU2_FLOW_MAX];
	size_t flow_next;
	/* closing sessions the manager hears about on the next pass */
	uint64_t *down_ids;
	size_t down_n, down_cap;
	struct evloop_timer *down_timer;
	struct {
		uint64_t alice_id;	/* 0: free */
		uint32_t nonce;
		uint64_t started_ms;
	} relays[SSU2_PT_MAX];
	struct evloop_timer *pt_timer;
	enum ssu2_reach reach;
	bool firewalled;		/* the last decided peer test */
	struct evloop_timer *intro_timer;
	ssu2_intro_fn intro_fn;
	void *intro_ctx;
	ssu2_want_intro_fn want_fn;	/* dial more introducers */
	void *want_ctx;
	bool intro_changed;		/* call intro_fn on the next pass */
	/* ssu2_prefer_family(): routers to dial on one family */
	struct {
		uint8_t h[32];
		int family;
		uint64_t until_ms;
	} prefer[SSU2_PREFER_MAX];
	size_t prefer_next;
	/* the session of the last data packet received: on_packet() tries
	 * its header key first */
	struct sess *rx_last;
	/* the payloads of a chunk of received data packets (rx_chunk()) */
	uint8_t rx_plain[RX_CHUNK][SSU2_MAX_PACKET_BYTES];
	/* datagrams waiting for one sendmmsg() while batching > 0 */
	bool no_gso;			/* the kernel refused UDP_SEGMENT */
	unsigned batching;
	size_t nout;
	uint8_t out_buf[OUT_BATCH][SSU2_MAX_PACKET_BYTES];
	size_t out_len[OUT_BATCH];
	/* data packets whose header protection out_flush() adds, all at
	 * once: the keys of its two parts (copies, wiped once used) */
	bool out_hp[OUT_BATCH];
	uint8_t out_hpk[OUT_BATCH][2][32];
	size_t nout_bytes;		/* their bytes, for transport_count_bytes */
	struct sockaddr_in6 out_to[OUT_BATCH];
};

static void sess_flush(struct sess *s);
static void sess_rearm(struct sess *s);
static void sess_kill(struct sess *s);
static bool ri_has_cap(const struct sess *s, char ch);
static int sess_family(const struct sess *s);

void ssu2_config_default(struct ssu2_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = SSU2_DEFAULT_MTU;
	cfg->max_pending = SSU2_DEFAULT_MAX_PENDING;
	cfg->max_pending_per_ip = SSU2_DEFAULT_MAX_PENDING_PER_IP;
	cfg->reasm_max_bytes = SSU2_DEFAULT_REASM_MAX_BYTES;
	cfg->reasm_sess_max_bytes = SSU2_DEFAULT_REASM_SESS_MAX_BYTES;
	cfg->reasm_timeout_ms = SSU2_REASM_TIMEOUT_MS;
	cfg->handshake_timeout_ms = SSU2_DEFAULT_HANDSHAKE_TIMEOUT_MS;
	cfg->keepalive_ms = SSU2_DEFAULT_KEEPALIVE_MS;
	cfg->idle_timeout_ms = SSU2_DEFAULT_IDLE_TIMEOUT_MS;
	cfg->close_timeout_ms = SSU2_DEFAULT_CLOSE_TIMEOUT_MS;
	cfg->token_lifetime_s = SSU2_DEFAULT_TOKEN_LIFETIME_S;
	cfg->retry_token_lifetime_s = SSU2_DEFAULT_RETRY_TOKEN_LIFETIME_S;
	cfg->token_requests_per_s = SSU2_DEFAULT_TOKEN_REQUESTS_PER_S;
	cfg->ban_failures = SSU2_DEFAULT_BAN_FAILURES;
	cfg->ban_window_ms = SSU2_DEFAULT_BAN_WINDOW_MS;
	cfg->ban_ms = SSU2_DEFAULT_BAN_MS;
	cfg->intro_lifetime_s = SSU2_INTRO_LIFETIME_S;
	cfg->intro_refresh_s = SSU2_INTRO_REFRESH_S;
	cfg->pt_timeout_ms = SSU2_PT_TIMEOUT_MS;
}

/* While a burst of datagrams is handled, the clock read at its start (and
 * again after each ACK_EVERY_PKTS): a read per packet, several times, was
 * a visible part of the cost of a packet.  0: read the clock. */
static uint64_t clock_cached, wall_cached;

static uint64_t now_ms(void)
{
	return clock_cached ? clock_cached : time_mono_ms();
}

/* The same for the wall clock (I2NP expirations). */
static uint64_t wall_ms(void)
{
	return wall_cached ? wall_cached : time_now_ms();
}

static void clock_read(void)
{
	clock_cached = time_mono_ms();
	wall_cached = time_now_ms();
}

static uint32_t now_s(void)
{
	return (uint32_t)time_now_s();
}

/* Largest datagram: the MTU less the IP and UDP headers; with an IPv6
 * socket, IPv6's (every session plans its packets for one size). */
static size_t pkt_max(const struct ssu2 *n)
{
	bool v6 = n->fd6 >= 0;
	size_t m = (size_t)n->cfg.mtu - (v6 ? 48 : 28);
	size_t cap = v6 ? SSU2_MAX_PACKET_BYTES_V6 : SSU2_MAX_PACKET_BYTES_V4;

	return m > cap ? cap : m;
}

static size_t payload_max(const struct ssu2 *n)
{
	return pkt_max(n) - SSU2_SHORT_HEADER_BYTES - SSU2_TAG_BYTES;
}

/* Addresses are kept as IPv6 socket addresses, IPv4 ones v4-mapped
 * (::ffff:a.b.c.d); those go out on the IPv4 socket. */
static bool addr_eq(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0 &&
	       a->sin6_port == b->sin6_port;
}

/* A flow between us and `a` exists or ended within SSU2_NAT_FLOW_MS,
 * so a NAT or stateful firewall in front of us would let `a` in. */
static bool flow_open(const struct ssu2 *n, const struct sockaddr_in6 *a)
{
	uint64_t now = now_ms();

	for (const struct sess *s = n->sessions; s; s = s->next)
		if (addr_eq(&s->peer, a))
			return true;
	for (size_t i = 0; i < SSU2_FLOW_MAX; i++)
		if (n->flows[i].ms && n->flows[i].ms + SSU2_NAT_FLOW_MS > now &&
		    addr_eq(&n->flows[i].to, a))
			return true;
	return false;
}

/* We sent `to` a packet outside any session (a peer test message, a Hole
 * Punch), or a session with it ended: a NAT in front of us now lets `to`
 * in for a while, which flow_open() must know. */
static void flow_note(struct ssu2 *n, const struct sockaddr_in6 *to)
{
	n->flows[n->flow_next].to = *to;
	n->flows[n->flow_next].ms = now_ms();
	n->flow_next = (n->flow_next + 1) % SSU2_FLOW_MAX;
}

static bool addr_is_v4(const struct sockaddr_in6 *a)
{
	return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr);
}

/* The session's family: AF_INET or AF_INET6. */
static int sess_family(const struct sess *s)
{
	return addr_is_v4(&s->peer) ? AF_INET : AF_INET6;
}

/* The 4 (IPv4) or 16 address bytes of a. */
static const uint8_t *addr_ip(const struct sockaddr_in6 *a, size_t *len)
{
	*len = addr_is_v4(a) ? 4 : 16;
	return a->sin6_addr.s6_addr + (16 - *len);
}

/* ip: 4 or 16 bytes; port in host order. */
static void addr_set(struct sockaddr_in6 *o, const uint8_t *ip, size_t iplen,
		     uint16_t port)
{
	memset(o, 0, sizeof(*o));
	o->sin6_family = AF_INET6;
	if (iplen == 4) {
		o->sin6_addr.s6_addr[10] = 0xff;
		o->sin6_addr.s6_addr[11] = 0xff;
		memcpy(o->sin6_addr.s6_addr + 12, ip, 4);
	} else {
		memcpy(o->sin6_addr.s6_addr, ip, 16);
	}
	o->sin6_port = htons(port);
}

/* An IPv4 or IPv6 literal.  ERR_ARG for anything else. */
static int addr_parse(struct sockaddr_in6 *o, const char *host,
		      uint16_t port)
{
	uint8_t b[16];

	if (inet_pton(AF_INET, host, b) == 1)
		addr_set(o, b, 4, port);
	else if (inet_pton(AF_INET6, host, b) == 1)
		addr_set(o, b, 16, port);
	else
		return ERR_ARG;
	return 0;
}

static bool addr_is_loopback(const struct sockaddr_in6 *a)
{
	return addr_is_v4(a) ? a->sin6_addr.s6_addr[12] == 127
			     : IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
}

static void put_addr_block(struct bbuf *pl, const struct sockaddr_in6 *a)
{
	size_t len;
	const uint8_t *ip = addr_ip(a, &len);

	ssu2_blk_put_address(pl, ip, len, ntohs(a->sin6_port));
}

static uint64_t rand_id(void)
{
	uint64_t v;

	do
		v = rand_u64();
	while (v == 0);
	return v;
}

/* ---- per-IP limits ---- */

static struct ipent *ip_get(struct ssu2 *n, const struct sockaddr_in6 *a)
{
	const uint8_t *ip = a->sin6_addr.s6_addr;
	struct ipent *e, *victim = NULL;
	uint64_t now = now_ms();

	for (size_t i = 0; i < IP_SLOTS; i++) {
		e = &n->ips[i];
		if (e->used && memcmp(e->ip, ip, 16) == 0) {
			e->last_ms = now;
			return e;
		}
		if (e->pending == 0 && e->banned_until_ms <= now &&
		    (!victim || e->last_ms < victim->last_ms))
			victim = e;
	}
	if (!victim)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->ip, ip, 16);
	victim->used = true;
	victim->last_ms = victim->bucket_ms = now;
	victim->bucket = n->cfg.token_requests_per_s;
	return victim;
}

static bool ip_banned(struct ssu2 *n, const struct sockaddr_in6 *ip)
{
	struct ipent *e = ip_get(n, ip);

	return !e || e->banned_until_ms > now_ms();
}

static void ip_failure(struct ssu2 *n, const struct sockaddr_in6 *ip)
{
	struct ipent *e = ip_get(n, ip);
	uint64_t now = now_ms();

	if (!e || n->cfg.ban_ms == 0)
		return;
	if (now - e->window_start_ms > n->cfg.ban_window_ms) {
		e->window_start_ms = now;
		e->failures = 0;
	}
	if (++e->failures >= n->cfg.ban_failures) {
		e->banned_until_ms = now + n->cfg.ban_ms;
		log_info_rl(60, LD_SSU2, "banning an address after %u "
			    "handshake failures", e->failures);
	}
}

/* One Retry reply from the IP's bucket (refilled per second). */
static bool ip_may_retry(struct ssu2 *n, const struct sockaddr_in6 *ip)
{
	struct ipent *e = ip_get(n, ip);
	uint64_t now = now_ms();
	double cap = n->cfg.token_requests_per_s;

	if (!e)
		return false;
	e->bucket += (double)(now - e->bucket_ms) * cap / 1000.0;
	if (e->bucket > cap)
		e->bucket = cap;
	e->bucket_ms = now;
	if (e->bucket < 1.0)
		return false;
	e->bucket -= 1.0;
	return true;
}

/* ---- tokens ---- */

static struct token *token_find(struct token_tab *tt,
				const struct sockaddr_in6 *a)
{
	for (size_t i = 0; i < tt->n; i++)
		if (memcmp(tt->t[i].ip, a->sin6_addr.s6_addr, 16) == 0 &&
		    tt->t[i].port == a->sin6_port)
			return &tt->t[i];
	return NULL;
}

static void token_put(struct token_tab *tt, const struct sockaddr_in6 *a,
		      uint64_t token, uint64_t expires_s)
{
	struct token *t = token_find(tt, a);
	uint64_t now = now_s();

	if (!t) {
		/* Drop expired entries; when full, the one nearest expiry. */
		size_t victim = 0;

		for (size_t i = 0; i < tt->n;) {
			if (tt->t[i].expires_s <= now) {
				tt->t[i] = tt->t[--tt->n];
				continue;
			}
			if (tt->t[i].expires_s < tt->t[victim].expires_s)
				victim = i;
			i++;
		}
		if (tt->n == SSU2_MAX_TOKENS)
			t = &tt->t[victim];
		else
			t = &tt->t[tt->n++];
	}
	memcpy(t->ip, a->sin6_addr.s6_addr, 16);
	t->port = a->sin6_port;
	t->token = token;
	t->expires_s = expires_s;
}

/* The unexpired token for a, or 0. */
static uint64_t token_get(struct token_tab *tt, const struct sockaddr_in6 *a)
{
	struct token *t = token_find(tt, a);

	if (!t || t->expires_s <= now_s())
		return 0;
	return t->token;
}

/* The token to put in a Retry to a: the one a already holds while it
 * has half a Retry lifetime left (so a resent Token Request, or a
 * SessionRequest crossing our Retry, does not void the token the peer
 * is about to use), else a new one. */
static uint64_t token_for_retry(struct ssu2 *n, const struct sockaddr_in6 *a)
{
	struct token *t = token_find(&n->issued, a);
	uint64_t now = now_s(), tok;

	if (t && t->expires_s > now + n->cfg.retry_token_lifetime_s / 2)
		return t->token;
	tok = rand_id();
	token_put(&n->issued, a, tok, now + n->cfg.retry_token_lifetime_s);
	return tok;
}

static void token_drop(struct token_tab *tt, const struct sockaddr_in6 *a)
{
	struct token *t = token_find(tt, a);

	if (t)
		*t = tt->t[--tt->n];
}

/* ---- sockets ---- */

/* Send the queued datagrams of one family in as few system calls as
 * possible: one sendmmsg() for the batch, and within it each run of
 * equal-sized datagrams to one address (the last may be shorter) as one
 * UDP_SEGMENT message. */
static void out_flush_family(struct ssu2 *n, bool v4)
{
	struct mmsghdr mh[OUT_BATCH];
	struct iovec iov[OUT_BATCH];
	struct sockaddr_in to4[OUT_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[OUT_BATCH];
	evutil_socket_t fd = v4 ? n->fd : n->fd6;
	size_t k = 0, done = 0, nio = 0;

	for (size_t i = 0; i < n->nout; i++) {
		const struct sockaddr_in6 *to = &n->out_to[i];
		size_t seg = n->out_len[i], total = seg, cnt = 1;

		if (addr_is_v4(to) != v4)
			continue;
		memset(&mh[k], 0, sizeof(mh[k]));
		mh[k].msg_hdr.msg_iov = &iov[nio];
		iov[nio].iov_base = n->out_buf[i];
		iov[nio++].iov_len = seg;
		/* the run: same family and address, same size but the last */
		while (!n->no_gso && i + 1 < n->nout && cnt < GSO_MAX_SEGS &&
		       addr_eq(&n->out_to[i + 1], to) &&
		       n->out_len[i + 1] <= seg &&
		       total + n->out_len[i + 1] <= GSO_MAX_BYTES) {
			bool last = n->out_len[i + 1] < seg;

			i++;
			iov[nio].iov_base = n->out_buf[i];
			iov[nio++].iov_len = n->out_len[i];
			total += n->out_len[i];
			cnt++;
			if (last)
				break;
		}
		mh[k].msg_hdr.msg_iovlen = cnt;
		if (cnt > 1) {
			struct cmsghdr *cm;
			uint16_t gso = (uint16_t)seg;

			mh[k].msg_hdr.msg_control = ctl[k].buf;
			mh[k].msg_hdr.msg_controllen = sizeof(ctl[k].buf);
			cm = CMSG_FIRSTHDR(&mh[k].msg_hdr);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(gso));
			memcpy(CMSG_DATA(cm), &gso, sizeof(gso));
		}
		if (v4) {
			memset(&to4[k], 0, sizeof(to4[k]));
			to4[k].sin_family = AF_INET;
			memcpy(&to4[k].sin_addr, to->sin6_addr.s6_addr + 12, 4);
			to4[k].sin_port = to->sin6_port;
			mh[k].msg_hdr.msg_name = &to4[k];
			mh[k].msg_hdr.msg_namelen = sizeof(to4[k]);
		} else {
			mh[k].msg_hdr.msg_name = (void *)to;
			mh[k].msg_hdr.msg_namelen = sizeof(*to);
		}
		k++;
	}
	while (fd >= 0 && done < k) {
		int r = sendmmsg(fd, mh + done, (unsigned)(k - done), 0);

		if (r < 0 && (errno == EIO || errno == EINVAL) &&
		    mh[done].msg_hdr.msg_control && !n->no_gso) {
			/* no segmentation offload here: send one by one
			 * from now on (this batch is lost: the protocol
			 * recovers it) */
			log_info(LD_SSU2, "UDP segmentation offload refused "
				 "(%s): not used", strerror(errno));
			n->no_gso = true;
			break;
		}
		if (r <= 0) {
			/* UDP: a full socket buffer is loss, which the
			 * protocol recovers. */
			if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_info_rl(60, LD_SSU2, "send failed: %s",
					    strerror(errno));
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		done += (size_t)r;
	}
}

/* The header protection of the queued data packets, in one pass: two
 * ChaCha20 blocks a packet, one a vector lane each. */
static void out_protect(struct ssu2 *n)
{
	uint8_t *dst[2 * OUT_BATCH];
	const uint8_t *key[2 * OUT_BATCH], *nonce[2 * OUT_BATCH];
	size_t m = 0;

	for (size_t i = 0; i < n->nout; i++) {
		uint8_t *p = n->out_buf[i];
		size_t len = n->out_len[i];

		if (!n->out_hp[i])
			continue;
		n->out_hp[i] = false;
		/* ssu2_hp_part1(): "iv = packet[len-24:len-13]";
		 * ssu2_hp_part2(): "iv = packet[len-12:len-1]" */
		dst[m] = p;
		key[m] = n->out_hpk[i][0];
		nonce[m++] = p + len - 24;
		dst[m] = p + 8;
		key[m] = n->out_hpk[i][1];
		nonce[m++] = p + len - 12;
	}
	if (!m)
		return;
	chacha20_xor8_many(m, dst, key, nonce);
	memwipe(n->out_hpk, n->nout * sizeof(n->out_hpk[0]));
}

static void out_flush(struct ssu2 *n)
{
	out_protect(n);
	out_flush_family(n, true);
	out_flush_family(n, false);
	n->nout = 0;
	transport_count_bytes(n->tm, 0, n->nout_bytes);
	n->nout_bytes = 0;
}

static void batch_begin(struct ssu2 *n)
{
	n->batching++;
}

static void batch_end(struct ssu2 *n)
{
	if (--n->batching == 0 && n->nout)
		out_flush(n);
}

/* The buffer the next datagram is written into (SSU2_MAX_PACKET_BYTES),
 * sent with out_commit(). */
static uint8_t *out_next(struct ssu2 *n)
{
	return n->out_buf[n->nout];
}

/* Queue the datagram written into out_next(), of len bytes, to to; when
 * k1 is not NULL, a data packet whose header protection (k1 for part 1,
 * k2 for part 2) is added when the batch goes. */
static void out_commit_hp(struct ssu2 *n, const struct sockaddr_in6 *to,
			  size_t len, const uint8_t *k1, const uint8_t *k2)
{
	if ((addr_is_v4(to) ? n->fd : n->fd6) < 0 ||
	    len > SSU2_MAX_PACKET_BYTES || (k1 && len < SSU2_MIN_PACKET_BYTES))
		return;
	n->out_hp[n->nout] = k1 != NULL;
	if (k1) {
		memcpy(n->out_hpk[n->nout][0], k1, 32);
		memcpy(n->out_hpk[n->nout][1], k2, 32);
	}
	n->out_len[n->nout] = len;
	n->out_to[n->nout] = *to;
	n->nout++;
	n->st.pkts_out++;
	n->nout_bytes += len;
	if (n->nout == OUT_BATCH || n->batching == 0)
		out_flush(n);
}

static void out_commit(struct ssu2 *n, const struct sockaddr_in6 *to,
		       size_t len)
{
	out_commit_hp(n, to, len, NULL, NULL);
}

static void send_raw(struct ssu2 *n, const struct sockaddr_in6 *to,
		     const uint8_t *p, size_t len)
{
	if (len > SSU2_MAX_PACKET_BYTES)
		return;
	memcpy(out_next(n), p, len);
	out_commit(n, to, len);
}

/* ---- sessions: life cycle ---- */

static struct sess *sess_new(struct ssu2 *n, bool inbound);

static void timer_cb(void *arg);

static struct sess *sess_new(struct ssu2 *n, bool inbound)
{
	struct sess *s = xzalloc(sizeof(*s));

	s->n = n;
	s->id = ++n->next_id;
	s->inbound = inbound;
	s->timer = evloop_timer_new(n->el, timer_cb, s);
	s->started_ms = s->last_recv_ms = s->last_send_ms = now_ms();
	ssu2_rxwin_init(&s->rx);
	s->cwnd = SSU2_CWND_MIN;
	s->ssthresh = SSU2_CWND_MAX;
	s->rto_ms = SSU2_RTO_INIT_MS;
	s->next = n->sessions;
	n->sessions = s;
	n->nsess++;
	if (inbound)
		n->pending_in++;
	return s;
}

static void outmsg_free(struct outmsg *om)
{
	i2np_msg_free(om->m);
	free(om);
}

/* Free om's message and keep the record for out_pull() (a few; none
 * once ssu2_free() has let the spares go). */
static void outmsg_recycle(struct ssu2 *n, struct outmsg *om)
{
	if (n->om_nspare >= OM_SPARE_MAX || n->gone) {
		outmsg_free(om);
		return;
	}
	i2np_msg_free(om->m);
	om->next = n->om_spare;
	n->om_spare = om;
	n->om_nspare++;
}

static struct outmsg *outmsg_take(struct ssu2 *n)
{
	struct outmsg *om = n->om_spare;

	if (!om)
		return xzalloc(sizeof(*om));
	n->om_spare = om->next;
	n->om_nspare--;
	memset(om, 0, sizeof(*om));
	return om;
}

/* ---- partial messages ---- */

/* Free s's reassembly (allocated with its first fragment). */
static void reasm_drop(struct sess *s)
{
	if (!s->reasm)
		return;
	s->n->reasm_bytes -= ssu2_reasm_bytes(s->reasm);
	ssu2_reasm_free(s->reasm);
	s->reasm = NULL;
}

/* s's reassembly held `before` bytes: account for what it holds now. */
static void reasm_account(struct sess *s, size_t before)
{
	s->n->reasm_bytes -= before;
	s->n->reasm_bytes += ssu2_reasm_bytes(s->reasm);
}

static void reasm_shed(struct sess *s)
{
	size_t before = ssu2_reasm_bytes(s->reasm);

	if (ssu2_reasm_drop_oldest(s->reasm))
		s->n->st.reasm_dropped++;
	reasm_account(s, before);
}

/* Within the limits after s took a fragment: s's own first, then all
 * sessions', the one holding most giving up its oldest each time (a
 * peer that sends parts and never the rest pays for it, not the others:
 * a session in the middle of a message holds a few KB). */
static void reasm_limit(struct sess *s)
{
	struct ssu2 *n = s->n;

	while (n->cfg.reasm_sess_max_bytes &&
	       ssu2_reasm_bytes(s->reasm) > n->cfg.reasm_sess_max_bytes)
		reasm_shed(s);
	while (n->cfg.reasm_max_bytes &&
	       n->reasm_bytes > n->cfg.reasm_max_bytes) {
		struct sess *most = NULL;
		size_t b = 0;

		for (struct sess *t = n->sessions; t; t = t->next)
			if (t->reasm && ssu2_reasm_bytes(t->reasm) > b) {
				b = ssu2_reasm_bytes(t->reasm);
				most = t;
			}
		if (!most)
			break;		/* the rest: sessions being reaped */
		reasm_shed(most);
	}
}

/* Partial messages reasm_timeout_ms old go; a session quiet for a
 * keepalive interval with none held frees its reassembly. */
static void reasm_expire(struct sess *s, uint64_t now, bool quiet)
{
	size_t before;

	if (!s->reasm)
		return;
	before = ssu2_reasm_bytes(s->reasm);
	s->n->st.reasm_expired += ssu2_reasm_expire(s->reasm, now,
						    s->n->cfg.reasm_timeout_ms);
	reasm_account(s, before);
	if (quiet && !ssu2_reasm_count(s->reasm))
		reasm_drop(s);
}

/* ---- the ring of sent packets ---- */

/* Free s's ring (callers: nothing in flight, or the session is going:
 * its records hold no references then, or none that matter). */
static void sent_drop(struct sess *s)
{
	if (!s->sent)
		return;
	s->n->sent_bytes -= (size_t)s->sent_cap * sizeof(*s->sent);
	free(s->sent);
	s->sent = NULL;
	s->sent_cap = 0;
}

/* Give s a ring of want slots (a power of two, more than it has).  The
 * records in flight move to their slots in the larger ring: two that
 * share a slot there would have shared one in the smaller too. */
static void sent_resize(struct sess *s, uint32_t want)
{
	uint32_t mask;
	struct sentpkt *ring;

	ring = xcalloc(want, sizeof(*ring));
	mask = want - 1;
	for (uint32_t i = 0; i < s->sent_cap; i++)
		if (s->sent[i].used)
			ring[s->sent[i].pn & mask] = s->sent[i];
	sent_drop(s);
	s->sent = ring;
	s->sent_cap = want;
	s->n->sent_bytes += (size_t)want * sizeof(*ring);
}

static void sess_free_common(struct sess *s, bool reaped)
{
	struct ssu2 *n = s->n;

	/* For an outbound attempt that never came up the manager backs the
	 * peer off; for a session it never knew this is a no-op.  After
	 * ssu2_free() the manager may be gone already. */
	if (!n->gone)
		transport_conn_down(n->tm, n->tid, s->id);
	if (n->rx_last == s)
		n->rx_last = NULL;
	evloop_timer_free(s->timer);
	ssu2_hs_wipe(&s->hs);
	if (s->keyed) {
		ssu2_aead_free(&s->aead_tx);
		ssu2_aead_free(&s->aead_rx);
	}
	memwipe(&s->keys, sizeof(s->keys));
	free(s->hs_pkts);
	for (unsigned i = 0; i < SSU2_CONFIRMED_MAX_FRAGS; i++)
		free(s->cf_buf[i]);
	reasm_drop(s);
	sent_drop(s);
	free(s->peer_ri);
	free(s->last_ri);
	while (s->out_head) {
		struct outmsg *om = s->out_head;

		s->out_head = om->next;
		outmsg_free(om);
	}
	free(s);
	if (reaped && --n->dying == 0 && n->gone) {
		memwipe(n, sizeof(*n));
		free(n);
	}
}

/* The reaper's entry: a session sess_kill() handed over. */
static void sess_reap(void *arg)
{
	sess_free_common(arg, true);
}

/* What we publish changed: tell the embedder on the next loop pass. */
static void intro_note_change(struct ssu2 *n)
{
	n->intro_changed = true;
	evloop_timer_arm(n->intro_timer, 0);
}

/* Unlink s and have the reaper free it after this loop pass. */
static void sess_kill(struct sess *s)
{
	struct ssu2 *n = s->n;
	struct sess **pp;

	if (s->closed)
		return;
	if (s->tag_from_peer && s->state == S_ESTABLISHED)
		intro_note_change(n);	/* an introducer is gone */
	s->closed = true;
	/* Noted now, not when the reaper frees it: a peer test's message 5
	 * from this peer may come before that. */
	flow_note(n, &s->peer);
	for (pp = &n->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	n->nsess--;
	if (s->inbound && s->state != S_ESTABLISHED && s->state != S_CLOSING) {
		struct ipent *e = ip_get(n, &s->peer);

		n->pending_in--;
		if (e && e->pending)
			e->pending--;
	}
	if (s->state != S_ESTABLISHED && s->state != S_CLOSING)
		n->st.hs_failed++;
	evloop_timer_disarm(s->timer);
	n->dying++;
	evloop_mark_close(n->el, sess_reap, s);
}

static struct sess *sess_by_rid(struct ssu2 *n, uint64_t rid)
{
	for (struct sess *s = n->sessions; s; s = s->next)
		if (s->rid == rid)
			return s;
	return NULL;
}

static struct sess *sess_by_id(struct ssu2 *n, uint64_t id)
{
	for (struct sess *s = n->sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void hs_debug(const struct sess *s, const char *what)
{
	log_debug(LD_SSU2, "%s session %llu: %s (state %d, resends %u)",
		  s->inbound ? "inbound" : "outbound",
		  (unsigned long long)s->id, what, (int)s->state,
		  s->hs_resends);
}

static void sess_log(const struct sess *s, const char *what, int err)
{
	if (log_enabled(LOG_DEBUG)) {
		hs_debug(s, what);
		if (err)
			log_debug(LD_SSU2, "  (%s)", err_str(err));
		return;
	}
	log_info_rl(10, LD_SSU2, "%s session %llu: %s%s%s",
		    s->inbound ? "inbound" : "outbound",
		    (unsigned long long)s->id, what, err ? ": " : "",
		    err ? err_str(err) : "");
}

static void mark_dirty(struct sess *s)
{
	struct ssu2 *n = s->n;

	for (size_t i = 0; i < n->ndirty; i++)
		if (n->dirty[i] == s)
			return;
	if (n->ndirty < RECV_BUDGET_PKTS)
		n->dirty[n->ndirty++] = s;
	else
		sess_flush(s);
}

/* ---- data phase: sending ---- */

static void sent_release(struct sess *s, struct sentpkt *p, bool acked)
{
	for (unsigned i = 0; i < p->n; i++) {
		struct outmsg *om = p->om[i];
		uint64_t bit = (uint64_t)1 << p->frag[i];

		if (acked)
			om->acked |= bit;
		else if (!(om->acked & bit) && !om->dead) {
			if (om->sends[p->frag[i]] >= SSU2_MAX_RESENDS &&
			    now_ms() - om->first_ms >= SSU2_MSG_GIVEUP_MS) {
				om->dead = true;
				s->n->st.msgs_dropped++;
			} else {
				om->pending |= bit;
				s->out_sent = NULL;
				s->n->st.resent_frags++;
			}
		}
		om->refs--;
	}
	p->used = false;
	s->inflight--;
}

static uint64_t frag_bits(unsigned nfrags)
{
	return nfrags >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << nfrags) - 1);
}

static bool outmsg_done(const struct outmsg *om)
{
	return om->refs == 0 &&
	       (om->dead || (om->plan.nfrags &&
			     om->acked == frag_bits(om->plan.nfrags)));
}

/* Drop messages fully acked (or given up) that no packet refers to.
 * ACKs come mostly in order, so the run at the head goes; the whole
 * queue is looked through only when it is full and the head did not
 * move (a lost packet holds the head while later messages are acked: a
 * bulk sender's queue is always full, and a walk of it at each ACK
 * showed in its profile). */
static void out_gc(struct sess *s)
{
	struct outmsg **pp = &s->out_head, *last = NULL;
	bool full = s->out_msgs >= OUT_MAX_MSGS ||
		    s->out_bytes >= OUT_MAX_BYTES;
	bool all = false, freed = false;

	while (*pp) {
		struct outmsg *om = *pp;

		if (outmsg_done(om)) {
			if (om == s->out_sent)
				s->out_sent = NULL;
			*pp = om->next;
			s->out_msgs--;
			s->out_bytes -= om->m->len;
			outmsg_recycle(s->n, om);
			freed = true;
			continue;
		}
		if (!all) {
			if (!full || freed)
				return;	/* the tail stays */
			all = true;
		}
		last = om;
		pp = &om->next;
	}
	s->out_tail = last;
}

/* The payload of the data packets sess_flush() fills: payload_max()
 * less what passes a whole 64-byte ChaCha20 block (1408 of 1440 bytes
 * at MTU 1500).  The cipher makes the key stream a block at a time, and a
 * partial last block costs a block function call of its own: an AEAD of
 * 1440 bytes took 0.74 us against 0.63 for 1408 (OpenSSL 3.0, AVX-512),
 * more than the 2.3 % more packets cost. */
static size_t data_payload_max(const struct ssu2 *n)
{
	return payload_max(n) & ~(size_t)63;
}

/* Room for one block in a data packet: its payload less an ACK's. */
static size_t block_room(const struct ssu2 *n)
{
	return data_payload_max(n) - ACK_RESERVE_BYTES;
}

/* Cut om into blocks, its first to go where avail bytes are left in the
 * packet being filled.  False: it starts in the next packet (or, in an
 * empty one, cannot be sent: it is given up). */
static bool outmsg_plan(struct sess *s, struct outmsg *om, size_t avail,
			bool empty)
{
	if (ssu2_frag_plan(om->m->len, avail, block_room(s->n), &om->plan)) {
		om->pending = frag_bits(om->plan.nfrags);
		if (om->plan.nfrags > 1 && om->m->len + SSU2_BLOCK_HEADER_BYTES +
		    SSU2_I2NP_HDR_BYTES <= block_room(s->n))
			s->n->st.msgs_cut++;
		return true;
	}
	if (empty) {
		om->dead = true;
		om->pending = 0;
		s->n->st.msgs_dropped++;
	}
	return false;
}

/* Take more messages from the manager while our queue has room. */
static void out_pull(struct sess *s)
{
	struct ssu2 *n = s->n;

	while (s->up && s->out_msgs < OUT_MAX_MSGS &&
	       s->out_bytes < OUT_MAX_BYTES) {
		struct i2np_msg *m = transport_conn_pull(n->tm, n->tid, s->id,
							 I2NP_MAX_PAYLOAD_BYTES);
		struct outmsg *om;

		if (!m)
			break;
		om = outmsg_take(n);
		om->m = m;
		memset(&om->plan, 0, sizeof(om->plan));
		om->pending = 1;
		if (s->out_tail)
			s->out_tail->next = om;
		else
			s->out_head = om;
		s->out_tail = om;
		s->out_msgs++;
		s->out_bytes += m->len;
	}
}

/* Encrypt and send one data packet; returns its packet number. */
static uint32_t send_data(struct sess *s, const struct sockaddr_in6 *to,
			  struct bbuf *pl, uint8_t flags)
{
	uint8_t *pkt = out_next(s->n);	/* sealed in place: no copy */
	uint32_t pn = s->send_pn++;
	size_t len;

	if (pl->len < SSU2_MIN_PAYLOAD_BYTES)
		ssu2_blk_put_padding(pl, SSU2_MIN_PAYLOAD_BYTES - pl->len);
	if (BUG(ssu2_data_seal_bare(&s->aead_tx, s->sid, pn, flags, pl->data,
				    pl->len, pkt, SSU2_MAX_PACKET_BYTES,
				    &len) != 0))
		return pn;
	out_commit_hp(s->n, to, len, s->peer_ik, s->keys.send.k_hdr2);
	s->last_send_ms = now_ms();
	return pn;
}

/* An ACK block for what we received, if anything (and it fits).  The
 * caller sends pl right away: what is owed counts as acked. */
static void put_ack(struct sess *s, struct bbuf *pl, size_t room)
{
	if (s->rx.any && ssu2_rxwin_put_ack(&s->rx, pl, room) > 0) {
		s->ack_owed = 0;
		s->ack_due_ms = 0;
	}
}

/* The same for a data packet that may not be sent after all, and only
 * when an ack-eliciting packet came since our last ACK: the peer has no
 * use for ACKs of its ACK-only packets (an ACK lost is covered by the
 * next one, whose ranges repeat it). */
static bool put_ack_tentative(struct sess *s, struct bbuf *pl, size_t room)
{
	return s->ack_owed && s->rx.any &&
	       ssu2_rxwin_put_ack(&s->rx, pl, room) > 0;
}

/* Send an ACK now, alone (no tracking: it elicits nothing). */
static void send_ack_only(struct sess *s)
{
	struct bbuf pl = BBUF_INIT;

	put_ack(s, &pl, payload_max(s->n));
	if (pl.len)
		(void)send_data(s, &s->peer, &pl, 0);
	bbuf_free(&pl);
}

/* Fill and send packets while the window allows; ACK what is owed. */
static void sess_flush(struct sess *s)
{
	size_t pmax = data_payload_max(s->n);
	struct bbuf pl = BBUF_INIT;
	bool sent_any = false, had_ack;
	uint64_t now = now_ms();

	if (s->state != S_ESTABLISHED || !s->keyed)
		return;
	out_pull(s);
	if (s->out_head && !s->sent_cap)
		sent_resize(s, SENT_SLOTS_MIN);
	while (s->sent_cap && s->inflight < s->cwnd) {
		struct sentpkt *slot = &s->sent[s->send_pn & (s->sent_cap - 1)];
		struct outmsg *om;

		/* the slot still holds a packet in flight: a larger ring, up
		 * to SENT_SLOTS; past that the packet is counted lost */
		if (slot->used && s->sent_cap < SENT_SLOTS) {
			sent_resize(s, 2 * s->sent_cap);
			slot = &s->sent[s->send_pn & (s->sent_cap - 1)];
		}

		/* the next packet's record, last used sent_cap packets ago
		 * (out of the caches at bulk rates: its first read here was
		 * half of this function's own time) */
		__builtin_prefetch(&s->sent[(s->send_pn + 1) &
					    (s->sent_cap - 1)], 1);

		/* skip the run of messages sent in full */
		for (om = s->out_sent ? s->out_sent->next : s->out_head;
		     om && (om->dead || !om->pending); om = om->next)
			s->out_sent = om;
		if (!om)
			break;
		if (slot->used)		/* ancient: count it lost */
			sent_release(s, slot, false);
		slot->n = 0;
		bbuf_reset(&pl);
		had_ack = put_ack_tentative(s, &pl, ACK_RESERVE_BYTES);
		for (; om && slot->n < PKT_MAX_FRAGS; om = om->next) {
			if (om->dead || !om->pending)
				continue;
			if (!om->plan.nfrags &&
			    !outmsg_plan(s, om, pmax - pl.len, slot->n == 0)) {
				if (om->dead)
					continue;
				goto full;
			}
			for (unsigned f = 0; f < om->plan.nfrags &&
			     slot->n < PKT_MAX_FRAGS; f++) {
				if (!(om->pending & ((uint64_t)1 << f)))
					continue;
				if (om->acked & ((uint64_t)1 << f)) {
					/* a late ACK came for it after all */
					om->pending &= ~((uint64_t)1 << f);
					continue;
				}
				if (pl.len + ssu2_frag_wire(&om->plan,
							    om->m->len, f) > pmax)
					goto full;
				ssu2_blk_put_frag(&pl, om->m, &om->plan, f);
				om->pending &= ~((uint64_t)1 << f);
				if (om->sends[f] < UINT8_MAX)
					om->sends[f]++;
				if (!om->first_ms)
					om->first_ms = now;
				om->refs++;
				slot->om[slot->n] = om;
				slot->frag[slot->n] = (uint8_t)f;
				slot->n++;
			}
		}
full:
		if (slot->n == 0)
			break;
		/* More to send: pad to the full size, so the burst's packets
		 * are all one size and go down the stack as one UDP_SEGMENT
		 * run (packing leaves under 76 bytes, which would end a run
		 * at each packet). */
		if (om && pl.len + SSU2_BLOCK_HEADER_BYTES <= pmax)
			ssu2_blk_put_padding(&pl, pmax - pl.len -
					     SSU2_BLOCK_HEADER_BYTES);
		slot->used = true;
		slot->sent_ms = now;
		slot->pn = s->send_pn;
		s->inflight++;
		(void)send_data(s, &s->peer, &pl, 0);
		if (had_ack) {
			s->ack_owed = 0;
			s->ack_due_ms = 0;
		}
		sent_any = true;
		out_pull(s);
	}
	/* Nothing to carry it: an ACK alone when one is due. */
	if (!sent_any && s->ack_owed &&
	    (s->ack_owed >= 2 || (s->ack_due_ms && s->ack_due_ms <= now)))
		send_ack_only(s);
	bbuf_free(&pl);
	(void)pmax;
	sess_rearm(s);
}

/* ---- data phase: ACKs and loss ---- */

/* The packet at pn, if it is still in flight. */
static struct sentpkt *sent_at(struct sess *s, uint32_t pn)
{
	struct sentpkt *p;

	if (!s->sent_cap)
		return NULL;
	p = &s->sent[pn & (s->sent_cap - 1)];
	return p->used && p->pn == pn ? p : NULL;
}

/* Move oldest_pn up to the oldest packet in flight (amortized O(1): it
 * only moves forward). */
static void advance_oldest(struct sess *s)
{
	while (s->oldest_pn < s->send_pn && !sent_at(s, s->oldest_pn))
		s->oldest_pn++;
}


struct ack_ctx {
	struct sess *s;
	uint64_t now;
	bool newest_sampled;
	unsigned newly;
};

static void on_acked_pn(void *arg, uint32_t pn)
{
	struct ack_ctx *c = arg;
	struct sess *s = c->s;
	struct sentpkt *p = sent_at(s, pn);

	if (!p)
		return;
	if (!c->newest_sampled) {
		/* RFC 6298 from the newest packet this ACK covers. */
		uint64_t r = c->now - p->sent_ms;

		c->newest_sampled = true;
		if (!s->have_rtt) {
			s->srtt_ms = r;
			s->rttvar_ms = r / 2;
			s->have_rtt = true;
		} else {
			uint64_t d = s->srtt_ms > r ? s->srtt_ms - r
						    : r - s->srtt_ms;

			s->rttvar_ms = (3 * s->rttvar_ms + d) / 4;
			s->srtt_ms = (7 * s->srtt_ms + r) / 8;
		}
		s->rto_ms = s->srtt_ms +
			    (s->rttvar_ms ? 4 * s->rttvar_ms : 1) +
			    SSU2_ACK_DELAY_MS;
		s->rto_backoff = 0;
		if (s->rto_ms < SSU2_RTO_MIN_MS)
			s->rto_ms = SSU2_RTO_MIN_MS;
		if (s->rto_ms > SSU2_RTO_MAX_MS)
			s->rto_ms = SSU2_RTO_MAX_MS;
	}
	sent_release(s, p, true);
	c->newly++;
	if (s->cwnd < SSU2_CWND_MAX) {
		if (s->cwnd < s->ssthresh)
			s->cwnd++;		/* slow start */
		else if (++s->cwnd_acked >= s->cwnd) {
			s->cwnd_acked = 0;
			s->cwnd++;		/* +1 per window acked */
		}
	}
}

/* Packets sent before the largest acked by SSU2_LOSS_REORDER and still
 * unacked are lost. */
static void detect_loss(struct sess *s)
{
	bool lost = false;

	if (!s->any_acked)
		return;
	advance_oldest(s);
	for (uint32_t pn = s->oldest_pn; s->inflight && pn < s->send_pn &&
	     (uint64_t)pn + SSU2_LOSS_REORDER <= s->largest_acked; pn++) {
		struct sentpkt *p = sent_at(s, pn);

		if (p) {
			sent_release(s, p, false);
			s->n->st.lost_pkts++;
			lost = true;
		}
	}
	if (lost) {
		s->ssthresh = s->cwnd / 2 > SSU2_CWND_MIN ? s->cwnd / 2
							  : SSU2_CWND_MIN;
		s->cwnd = s->ssthresh;
	}
}

static void handle_ack(struct sess *s, const struct ssu2_block *b)
{
	static struct ssu2_ack a;	/* large: ranges */
	struct ack_ctx c = { s, now_ms(), false, 0 };

	if (ssu2_ack_decode(b, &a) != 0) {
		sess_log(s, "bad ACK block", ERR_FORMAT);
		return;
	}
	/* Alice: an ACK of packet 0 acknowledges SessionConfirmed. */
	if (!s->inbound && !s->confirmed_acked)
		s->confirmed_acked = true;
	/* Only packets still in flight matter. */
	advance_oldest(s);
	if (s->inflight && a.through >= s->oldest_pn)
		ssu2_ack_foreach_from(&a, s->oldest_pn, on_acked_pn, &c);
	if (c.newly && (!s->any_acked || a.through > s->largest_acked)) {
		s->largest_acked = a.through;
		s->any_acked = true;
	}
	detect_loss(s);
	out_gc(s);
}

/* The retransmission timeout now: the RTO doubled per expiry since the
 * last ACK (RFC 6298 5.5; QUIC's PTO backoff). */
static uint64_t rto_now(const struct sess *s)
{
	uint64_t t = s->rto_ms << (s->rto_backoff < 8 ? s->rto_backoff : 8);

	return t > SSU2_RTO_BACKOFF_MAX_MS ? SSU2_RTO_BACKOFF_MAX_MS : t;
}

/* RTO: the packets in flight for a whole timeout are lost (not those
 * sent since: they get their own timeout); back off. */
static void on_rto(struct sess *s, uint64_t now)
{
	uint64_t rto = rto_now(s);

	advance_oldest(s);
	for (uint32_t pn = s->oldest_pn; s->inflight && pn < s->send_pn; pn++) {
		struct sentpkt *p = sent_at(s, pn);

		if (p && p->sent_ms + rto <= now) {
			sent_release(s, p, false);
			s->n->st.lost_pkts++;
		}
	}
	s->rto_backoff++;
	s->ssthresh = s->cwnd / 2 > SSU2_CWND_MIN ? s->cwnd / 2 : SSU2_CWND_MIN;
	s->cwnd = SSU2_CWND_MIN;
	out_gc(s);
}

static uint64_t oldest_inflight_ms(struct sess *s)
{
	advance_oldest(s);
	struct sentpkt *p = s->inflight ? sent_at(s, s->oldest_pn) : NULL;

	return p ? p->sent_ms : 0;
}

/* ---- termination ---- */

static void send_termination(struct sess *s, uint8_t reason)
{
	struct bbuf pl = BBUF_INIT;

	put_ack(s, &pl, ACK_RESERVE_BYTES);
	ssu2_blk_put_termination(&pl, s->rx.any ? (uint64_t)s->rx.highest + 1
						: 0, reason);
	(void)send_data(s, &s->peer, &pl, 0);
	bbuf_free(&pl);
	s->n->st.terminations_sent++;
}

static void down_timer_cb(void *arg)
{
	struct ssu2 *n = arg;
	size_t k = n->down_n;

	n->down_n = 0;
	for (size_t i = 0; i < k; i++)
		transport_conn_down(n->tm, n->tid, n->down_ids[i]);
}

/* Tell the manager on the next loop pass (never inside its own call)
 * that s is gone, so a new session with the peer is no duplicate of one
 * that is only closing.  (The reaper says it again: harmless.) */
static void note_down_soon(struct sess *s)
{
	struct ssu2 *n = s->n;

	if (n->down_n == n->down_cap) {
		n->down_cap = n->down_cap ? 2 * n->down_cap : 16;
		n->down_ids = xrealloc(n->down_ids,
				       n->down_cap * sizeof(*n->down_ids));
	}
	n->down_ids[n->down_n++] = s->id;
	evloop_timer_arm(n->down_timer, 0);
}

/* Terminate an established session (or kill one in the handshake). */
static void sess_terminate(struct sess *s, uint8_t reason)
{
	if (s->closed)
		return;
	if (s->state != S_ESTABLISHED || !s->keyed) {
		sess_kill(s);
		return;
	}
	send_termination(s, reason);
	if (s->tag_from_peer)
		intro_note_change(s->n);	/* an introducer is gone */
	s->term_reason = reason;
	s->state = S_CLOSING;
	s->up = false;
	note_down_soon(s);
	evloop_timer_arm(s->timer, s->n->cfg.close_timeout_ms);
}

/* ---- timers ---- */

static void sess_rearm(struct sess *s)
{
	struct ssu2 *n = s->n;
	uint64_t now = now_ms(), due = UINT64_MAX, t;

	if (s->closed)
		return;
	switch (s->state) {
	case S_TOKEN_REQ:
	case S_REQ_SENT:
	case S_CREATED_SENT:
	case S_RELAY:
		due = s->hs_next_ms;
		t = s->started_ms + n->cfg.handshake_timeout_ms;
		if (t < due)
			due = t;
		break;
	case S_ESTABLISHED:
		if (!s->inbound && !s->confirmed_acked && s->hs_n)
			due = s->hs_next_ms;
		if (s->ack_due_ms && s->ack_due_ms < due)
			due = s->ack_due_ms;
		if (s->inflight) {
			t = oldest_inflight_ms(s) + rto_now(s);
			if (t < due)
				due = t;
		}
		t = s->last_send_ms + n->cfg.keepalive_ms;
		if (t < due)
			due = t;
		t = s->last_recv_ms + n->cfg.idle_timeout_ms;
		if (t < due)
			due = t;
		if (s->reasm && ssu2_reasm_count(s->reasm)) {
			t = ssu2_reasm_oldest_ms(s->reasm) +
			    n->cfg.reasm_timeout_ms + 1;
			if (t < due)
				due = t;
		}
		break;
	case S_CLOSING:
		return;		/* armed once by sess_terminate */
	}
	evloop_timer_arm(s->timer, due > now ? due - now : 0);
}

static void resend_hs(struct sess *s)
{
	size_t off = 0;

	hs_debug(s, "resending handshake");
	for (unsigned i = 0; i < s->hs_n; i++) {
		send_raw(s->n, &s->peer, s->hs_pkts + off, s->hs_lens[i]);
		off += s->hs_lens[i];
	}
	s->hs_resends++;
	s->hs_next_ms = now_ms() + SSU2_HS_RESEND_MAX_MS;
}

/* May the kept handshake message go out once more? */
static bool hs_may_resend(const struct sess *s)
{
	return s->hs_n && s->hs_resends + 1 < SSU2_HS_MAX_SENDS &&
	       now_ms() < s->hs_first_ms + s->n->cfg.handshake_timeout_ms;
}

/* Keep the handshake packet(s) just sent for resending. */
static void keep_hs(struct sess *s, const uint8_t *p, const size_t *lens,
		    unsigned n)
{
	size_t total = 0;

	for (unsigned i = 0; i < n; i++)
		total += lens[i];
	free(s->hs_pkts);
	s->hs_pkts = xmemdup(p, total);
	memcpy(s->hs_lens, lens, n * sizeof(lens[0]));
	s->hs_n = n;
	s->hs_resends = 0;
	s->hs_first_ms = now_ms();
	s->hs_next_ms = s->hs_first_ms + SSU2_HS_RESEND_FIRST_MS;
}

static void timer_run(struct sess *s);

static void timer_cb(void *arg)
{
	struct sess *s = arg;
	struct ssu2 *n = s->n;

	batch_begin(n);
	timer_run(s);
	batch_end(n);
}

static int relay_start(struct ssu2 *n, struct sess *s,
		       const struct router_address_ssu2 *a);

/* Alice waiting to ask an introducer (relay_start() found no session with
 * one, or did not know our address): ask now if she can, else dial the
 * introducers we know (once) and look again in a while, or as soon as a
 * session comes up (relay_wake()).  The handshake timeout ends it. */
static void relay_wait(struct sess *s)
{
	struct ssu2 *n = s->n;
	struct router_address_ssu2 a;

	memset(&a, 0, sizeof(a));
	a.nintro = s->relay_nintro;
	memcpy(a.intro, s->relay_intro, s->relay_nintro * sizeof(a.intro[0]));
	if (relay_start(n, s, &a) != 0) {
		sess_kill(s);
		return;
	}
	if (s->relay_nonce)
		return;			/* asked */
	if (!s->relay_dialled) {
		s->relay_dialled = true;
		for (size_t i = 0; i < s->relay_nintro; i++)
			if (transport_lookup(n->tm, s->relay_intro[i].h))
				(void)transport_dial(n->tm, s->relay_intro[i].h,
						     n->cfg.handshake_timeout_ms);
		hs_debug(s, "dialling Charlie's introducers first");
	}
	s->hs_next_ms = now_ms() + SSU2_RELAY_WAIT_POLL_MS;
}

/* A session came up: Alices waiting for an introducer look again. */
static void relay_wake(struct ssu2 *n)
{
	for (struct sess *t = n->sessions; t; t = t->next)
		if (t->state == S_RELAY && !t->relay_nonce && !t->closed) {
			t->hs_next_ms = 0;
			evloop_timer_arm(t->timer, 0);
		}
}

static void timer_run(struct sess *s)
{
	struct ssu2 *n = s->n;
	uint64_t now = now_ms();

	if (s->closed)
		return;
	if (s->state == S_CLOSING) {
		sess_kill(s);
		return;
	}
	if (s->state != S_ESTABLISHED) {
		if (now >= s->started_ms + n->cfg.handshake_timeout_ms) {
			sess_log(s, "handshake timed out", ERR_TIMEOUT);
			sess_kill(s);
			return;
		}
		if (s->state == S_RELAY && !s->relay_nonce &&
		    now >= s->hs_next_ms)
			relay_wait(s);
		else if (now >= s->hs_next_ms && hs_may_resend(s))
			resend_hs(s);
		sess_rearm(s);
		return;
	}
	/* A session whose relay tag we publish stays while our keepalives
	 * go out: its tag is valid only as long as the session, and an
	 * i2pd introducer sends nothing on a quiet session (closing it
	 * after a minute churned our introducers faster than routers
	 * learned them: Relay Requests with the old tags, code 5). */
	if (!s->tag_from_peer &&
	    now >= s->last_recv_ms + n->cfg.idle_timeout_ms) {
		sess_log(s, "idle", 0);
		sess_terminate(s, SSU2_TERM_IDLE);
		return;
	}
	/* Alice: "retransmit Session Confirmed until a data message is
	 * received". */
	if (!s->inbound && !s->confirmed_acked && s->hs_n &&
	    now >= s->hs_next_ms) {
		if (!hs_may_resend(s)) {
			sess_log(s, "SessionConfirmed never acked",
				 ERR_TIMEOUT);
			sess_terminate(s, SSU2_TERM_TIMEOUT);
			return;
		}
		resend_hs(s);
	}
	if (s->inflight && now >= oldest_inflight_ms(s) + rto_now(s))
		on_rto(s, now);
	reasm_expire(s, now, now >= s->last_recv_ms + n->cfg.keepalive_ms);
	if (now >= s->last_send_ms + n->cfg.keepalive_ms) {
		struct bbuf pl = BBUF_INIT;

		/* quiet for a keepalive interval: the ring goes until data
		 * does again */
		if (!s->inflight)
			sent_drop(s);

		put_ack(s, &pl, ACK_RESERVE_BYTES);
		ssu2_blk_put_datetime(&pl, now_s());
		(void)send_data(s, &s->peer, &pl, 0);
		bbuf_free(&pl);
	}
	if (s->ack_due_ms && now >= s->ack_due_ms && s->ack_owed)
		send_ack_only(s);
	sess_flush(s);
}

/* ---- establishment ---- */

/* The data-phase keys are in s->keys: key the AEAD contexts. */
static void sess_keyed(struct sess *s)
{
	ssu2_aead_init(&s->aead_tx, s->keys.send.k_data);
	ssu2_aead_init(&s->aead_rx, s->keys.recv.k_data);
	s->keyed = true;
}

static void sess_established(struct sess *s)
{
	struct ssu2 *n = s->n;
	int r;

	if (s->inbound) {
		struct ipent *e = ip_get(n, &s->peer);

		n->pending_in--;
		if (e && e->pending)
			e->pending--;
	}
	s->state = S_ESTABLISHED;
	s->last_recv_ms = s->last_send_ms = now_ms();
	r = transport_conn_up(n->tm, n->tid, s->id, s->peer_rh, s->inbound);
	if (r != 0) {
		sess_log(s, r == ERR_DUPLICATE ? "duplicate session" :
			 "session refused", r);
		sess_terminate(s, r == ERR_DUPLICATE ? SSU2_TERM_REPLACED :
			       SSU2_TERM_LIMITS);
		return;
	}
	s->up = true;
	if (s->inbound)
		n->st.established_in++;
	else
		n->st.established_out++;
	relay_wake(n);
	log_debug(LD_SSU2, "%s session %llu established with %02x%02x%02x%02x "
		  "over %s", s->inbound ? "inbound" : "outbound",
		  (unsigned long long)s->id, s->peer_rh[0], s->peer_rh[1],
		  s->peer_rh[2], s->peer_rh[3],
		  sess_family(s) == AF_INET ? "IPv4" : "IPv6");
}

/* ---- received blocks ---- */

static void note_address(struct ssu2 *n, const struct ssu2_block *b)
{
	struct ssu2_address a;
	struct ext_addr *e;

	if (ssu2_address_decode(b, &a) != 0 || (a.iplen != 4 && a.iplen != 16))
		return;
	e = &n->ext[a.iplen == 16];

	memcpy(e->ip, a.ip, a.iplen);
	e->iplen = a.iplen;
	e->port = a.port;
	e->have = true;
	n->ext_last6 = a.iplen == 16;
}

static void handle_ri_block(struct sess *s, const struct ssu2_block *b)
{
	static uint8_t buf[SSU2_RI_MAX_BYTES];
	struct ssu2_ri_block rb;
	struct router_info *ri = NULL;
	size_t len;
	bool own;
	int r;

	if ((r = ssu2_ri_block_decode(b, &rb)) != 0 ||
	    (r = ssu2_ri_block_extract(&rb, buf, sizeof(buf), &len)) != 0 ||
	    (r = router_info_decode(buf, len, &ri)) != 0 ||
	    (r = router_info_verify(ri)) != 0) {
		sess_log(s, "bad RouterInfo block", r);
		router_info_free(ri);
		return;
	}
	own = memcmp(router_info_hash(ri), s->peer_rh, 32) == 0;
	router_info_free(ri);
	free(s->last_ri);
	s->last_ri = xmemdup(buf, len);
	s->last_ri_len = len;
	/* Another router's (a peer test's Charlie, a relay's): kept for the
	 * test, and into the netDb at a few a minute (each new router is
	 * one more entry there); flooded only when it is the peer's own. */
	if (!own && !tbucket_take(&s->ri_bucket, SSU2_THIRD_RI_PER_MIN,
				  SSU2_THIRD_RI_BURST, now_ms())) {
		s->n->st.ri_limited++;
		return;
	}
	transport_conn_ri(s->n->tm, buf, len,
			  own && (rb.flags & SSU2_RI_FLAG_FLOOD));
}

static void deliver(struct sess *s, struct i2np_msg *m)
{
	struct ssu2 *n = s->n;

	if (i2np_msg_is_expired(m, wall_ms()) ||
	    i2np_dedup_check(n->dedup, m->msg_id, m->expiration_ms)) {
		i2np_msg_free(m);
		return;
	}
	if (!s->up) {
		i2np_msg_free(m);
		return;
	}
	if (!s->msg_in) {
		s->msg_in = true;
		log_debug(LD_SSU2, "session %llu: first I2NP message in "
			  "(type %u)", (unsigned long long)s->id,
			  (unsigned)m->type);
	}
	transport_conn_recv(n->tm, n->tid, s->id, m);
}

static void handle_i2np(struct sess *s, const struct ssu2_block *b)
{
	struct ssu2_i2np_part part;
	struct i2np_msg *m = NULL;
	size_t before;
	int r;

	if (b->type == SSU2_BLK_I2NP) {
		if ((r = i2np_msg_decode_short(b->data, b->len, &m)) != 0) {
			sess_log(s, "bad I2NP block", r);
			return;
		}
		deliver(s, m);
		return;
	}
	if ((r = ssu2_i2np_part_decode(b, &part)) != 0) {
		sess_log(s, "bad I2NP fragment", r);
		return;
	}
	if (!s->reasm)
		s->reasm = ssu2_reasm_new();
	before = ssu2_reasm_bytes(s->reasm);
	r = ssu2_reasm_add(s->reasm, &part, now_ms(), &m);
	reasm_account(s, before);
	if (r != 0) {
		sess_log(s, "bad I2NP fragment", r);
		return;
	}
	reasm_limit(s);
	if (m)
		deliver(s, m);
}

static void send_path_response(struct sess *s, const struct sockaddr_in6 *to,
			       const struct ssu2_block *b)
{
	struct bbuf pl = BBUF_INIT;

	if (b->len > SSU2_PATH_DATA_MAX_BYTES)
		return;
	put_ack(s, &pl, ACK_RESERVE_BYTES);
	ssu2_blk_put(&pl, SSU2_BLK_PATH_RESPONSE, b->data, b->len);
	(void)send_data(s, to, &pl, 0);
	bbuf_free(&pl);
}

/* "validate an IP/Port change": challenge the new address; keep using
 * the old one until the response comes from the new one. */
static void start_path_challenge(struct sess *s, const struct sockaddr_in6 *to)
{
	struct bbuf pl = BBUF_INIT;
	uint64_t now = now_ms();

	if (s->path_pending && addr_eq(&s->path_addr, to) &&
	    now - s->path_sent_ms < s->rto_ms)
		return;
	s->path_pending = true;
	s->path_addr = *to;
	s->path_sent_ms = now;
	rand_bytes(s->path_data, sizeof(s->path_data));
	ssu2_blk_put(&pl, SSU2_BLK_PATH_CHALLENGE, s->path_data,
		     sizeof(s->path_data));
	put_addr_block(&pl, to);
	(void)send_data(s, to, &pl, 0);
	bbuf_free(&pl);
	s->n->st.path_challenges++;
}

static void handle_path_response(struct sess *s, const struct sockaddr_in6 *from,
				 const struct ssu2_block *b)
{
	if (!s->path_pending || !addr_eq(&s->path_addr, from) ||
	    b->len != sizeof(s->path_data) ||
	    memcmp(b->data, s->path_data, sizeof(s->path_data)) != 0)
		return;
	s->path_pending = false;
	if (!addr_eq(&s->peer, from)) {
		s->peer = *from;
		s->n->st.migrations++;
		log_info(LD_SSU2, "session %llu moved to a new address",
			 (unsigned long long)s->id);
	}
}

static void pt_in_session(struct sess *s, const struct ssu2_block *b);
static void relay_in_session(struct sess *s, const struct ssu2_block *b);
static bool relay_hole_punch(struct ssu2 *n, uint8_t *p, size_t len,
			     const struct sockaddr_in6 *from);
static bool pt_out_of_session(struct ssu2 *n, uint8_t *p, size_t len,
			      const struct sockaddr_in6 *from);

/* "In-session data packets containing any block EXCEPT for the
 * following are ack-eliciting: ACK, Address, DateTime, Padding,
 * Termination" (so keepalives and ACK-only packets never ping-pong). */
static bool block_elicits_ack(uint8_t type)
{
	switch (type) {
	case SSU2_BLK_ACK:
	case SSU2_BLK_ADDRESS:
	case SSU2_BLK_DATETIME:
	case SSU2_BLK_PADDING:
	case SSU2_BLK_TERMINATION:
		return false;
	default:
		return true;
	}
}

/* The blocks of a data-phase payload (and of SessionConfirmed after its
 * RouterInfo).  Returns whether an ACK is owed. */
static bool handle_blocks(struct sess *s, const struct sockaddr_in6 *from,
			  const struct ssu2_payload *pl, size_t first)
{
	bool elicit = false;

	for (size_t i = first; i < pl->n && !s->closed; i++) {
		const struct ssu2_block *b = &pl->b[i];
		struct ssu2_termination term;
		uint32_t exp;
		uint64_t tok;

		if (block_elicits_ack(b->type))
			elicit = true;
		/* Closing: only the peer's Termination matters now. */
		if (s->state == S_CLOSING && b->type != SSU2_BLK_TERMINATION)
			continue;
		switch (b->type) {
		case SSU2_BLK_ACK:
			handle_ack(s, b);
			break;
		case SSU2_BLK_I2NP:
		case SSU2_BLK_FIRST_FRAG:
		case SSU2_BLK_FOLLOW_FRAG:
			handle_i2np(s, b);
			break;
		case SSU2_BLK_ROUTERINFO:
			handle_ri_block(s, b);
			break;
		case SSU2_BLK_NEW_TOKEN:
			if (ssu2_new_token_decode(b, &exp, &tok) == 0 && tok)
				token_put(&s->n->received, &s->peer, tok, exp);
			break;
		case SSU2_BLK_ADDRESS:
			note_address(s->n, b);
			break;
		case SSU2_BLK_PATH_CHALLENGE:
			send_path_response(s, from, b);
			break;
		case SSU2_BLK_PATH_RESPONSE:
			handle_path_response(s, from, b);
			break;
		case SSU2_BLK_TERMINATION:
			if (ssu2_termination_decode(b, &term) != 0)
				break;
			s->n->st.terminations_received++;
			s->n->st.last_term_reason = term.reason;
			if (term.reason != SSU2_TERM_RECEIVED &&
			    s->state == S_ESTABLISHED) {
				/* "the peer should respond with a termination
				 * block with the reason termination
				 * received" */
				sess_terminate(s, SSU2_TERM_RECEIVED);
			} else {
				sess_kill(s);
			}
			return false;
		case SSU2_BLK_PEER_TEST:
			pt_in_session(s, b);
			break;
		case SSU2_BLK_RELAY_REQUEST:
		case SSU2_BLK_RELAY_RESPONSE:
		case SSU2_BLK_RELAY_INTRO:
		case SSU2_BLK_RELAY_TAG_REQUEST:
		case SSU2_BLK_RELAY_TAG:
			relay_in_session(s, b);
			break;
		default:
			/* DateTime, Options, Padding, Congestion, unknown:
			 * nothing to do here (the relay blocks are above). */
			break;
		}
	}
	return elicit;
}

/* ---- inbound packets: data phase ---- */

/* The duplicate filter's lines for the messages a payload starts: a
 * message cut in two is checked when its last part comes, in a later
 * packet, and a whole one after it was copied out. */
static void prefetch_dedup(struct ssu2 *n, const struct ssu2_payload *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		const struct ssu2_block *b = &pl->b[i];

		if ((b->type == SSU2_BLK_I2NP ||
		     b->type == SSU2_BLK_FIRST_FRAG) &&
		    b->len >= SSU2_I2NP_HDR_BYTES)
			i2np_dedup_prefetch(n->dedup, be32_get(b->data + 1),
					    (uint64_t)be32_get(b->data + 5) *
					    1000);
	}
}

/* False when pkt does not authenticate (it may be another type whose
 * type byte read as Data). */
/* A data packet of s's, opened: its header (unprotected) and its
 * payload's plen bytes at plain. */
/* The payload of a data packet new to s's receive window. */
static void data_payload(struct sess *s, const uint8_t *plain, size_t plen,
			 const struct sockaddr_in6 *from, bool ack_now)
{
	static struct ssu2_payload pl;
	int r;

	s->last_recv_ms = now_ms();
	if (!s->inbound)
		s->confirmed_acked = true;
	if ((r = ssu2_payload_decode(plain, plen, false, &pl)) != 0) {
		sess_log(s, "bad data payload", r);
		return;
	}
	if (!addr_eq(from, &s->peer))
		start_path_challenge(s, from);
	prefetch_dedup(s->n, &pl);
	if (handle_blocks(s, from, &pl, 0) && !s->closed) {
		s->ack_owed++;
		if (!s->ack_due_ms)
			s->ack_due_ms = now_ms() + SSU2_ACK_DELAY_MS;
		if (ack_now)
			s->ack_owed = 2;	/* "immediate ack requested" */
	}
	if (!s->closed)
		mark_dirty(s);
}

static void on_data_plain(struct sess *s, const uint8_t *hdr,
			  const uint8_t *plain, size_t plen,
			  const struct sockaddr_in6 *from)
{
	struct ssu2_short_hdr sh;
	int r;

	ssu2_short_hdr_decode(hdr, &sh);
	s->n->rx_last = s;
	if ((r = ssu2_rxwin_add(&s->rx, sh.pkt_num)) != 0) {
		/* A duplicate: the ACK for it was lost, so ACK again. */
		s->n->st.dup_packets++;
		s->ack_owed++;
		mark_dirty(s);
		return;
	}
	data_payload(s, plain, plen, from, sh.flags[0] & 1);
}

/* A data packet of s's (hdr: its header, unprotected): false if it does
 * not open with s's key. */
static bool on_data(struct sess *s, const uint8_t *hdr, const uint8_t *pkt,
		    size_t len, const struct sockaddr_in6 *from)
{
	static uint8_t plain[SSU2_MAX_PACKET_BYTES];
	size_t plen;

	if (ssu2_data_open(&s->aead_rx, hdr, pkt, len, plain, sizeof(plain),
			   &plen) != 0)
		return false;
	on_data_plain(s, hdr, plain, plen, from);
	return true;
}

/* ---- inbound packets: Bob ---- */

static void send_retry(struct ssu2 *n, const struct sockaddr_in6 *to,
		       const struct ssu2_long_hdr *req, uint64_t token,
		       int term_reason)
{
	struct ssu2_long_hdr h = {
		.dst_id = req->src_id, .src_id = req->dst_id,
		.type = SSU2_RETRY, .ver = SSU2_VERSION, .netid = n->cfg.netid,
		.token = token, .pkt_num = (uint32_t)rand_u64(),
	};
	struct bbuf pl = BBUF_INIT;
	uint8_t pkt[256];
	size_t len;

	ssu2_blk_put_datetime(&pl, now_s());
	put_addr_block(&pl, to);
	if (term_reason >= 0)
		ssu2_blk_put_termination(&pl, 0, (uint8_t)term_reason);
	/* "a simple method such as adding a random amount of padding in the
	 * range 1-64 bytes" -- we stay smaller than the request. */
	ssu2_blk_put_padding(&pl, rand_uniform(HS_PAD_MAX));
	if (ssu2_oos_encrypt(&h, n->cfg.ik, pl.data, pl.len, pkt, sizeof(pkt),
			     &len) == 0) {
		send_raw(n, to, pkt, len);
		n->st.retries_sent++;
	}
	bbuf_free(&pl);
}

static void on_token_request(struct ssu2 *n, uint8_t *pkt, size_t len,
			     const struct sockaddr_in6 *from,
			     const struct ssu2_long_hdr *h)
{
	static uint8_t plain[SSU2_MAX_PACKET_BYTES];
	static struct ssu2_payload pl;
	size_t plen;
	uint64_t tok;

	if (ssu2_oos_decrypt(pkt, len, n->cfg.ik, plain, sizeof(plain),
			     &plen) != 0 ||
	    ssu2_payload_decode(plain, plen, false, &pl) != 0) {
		n->st.dropped++;
		return;
	}
	if (!ip_may_retry(n, from)) {
		n->st.refused++;
		return;
	}
	tok = token_for_retry(n, from);
	log_debug(LD_SSU2, "Token Request answered");
	send_retry(n, from, h, tok, -1);
	n->st.token_requests++;
}

static void send_created(struct sess *s, const struct ssu2_long_hdr *req)
{
	struct ssu2 *n = s->n;
	struct ssu2_long_hdr h = {
		.dst_id = req->src_id, .src_id = req->dst_id,
		.netid = n->cfg.netid, .pkt_num = (uint32_t)rand_u64(),
	};
	struct bbuf pl = BBUF_INIT;
	uint8_t pkt[SSU2_MAX_PACKET_BYTES];
	size_t len;
	uint64_t tok = rand_id();

	ssu2_blk_put_datetime(&pl, now_s());
	put_addr_block(&pl, &s->peer);
	/* A token for Alice's next connection. */
	token_put(&n->issued, &s->peer, tok, now_s() + n->cfg.token_lifetime_s);
	ssu2_blk_put_new_token(&pl, (uint32_t)(now_s() +
					       n->cfg.token_lifetime_s), tok);
	/* Alice asked for a relay tag in SessionRequest. */
	if (s->tag_for_peer) {
		ssu2_blk_put_relay_tag(&pl, s->tag_for_peer);
		n->st.relay_tags_given++;
		log_info(LD_SSU2, "relay: relay tag given in SessionCreated "
			 "(session %llu)", (unsigned long long)s->id);
	}
	ssu2_blk_put_padding(&pl, rand_uniform(HS_PAD_MAX));
	if (ssu2_hs_write_created(&s->hs, &h, pl.data, pl.len, pkt,
				  sizeof(pkt), &len) != 0) {
		bbuf_free(&pl);
		sess_kill(s);
		return;
	}
	bbuf_free(&pl);
	send_raw(n, &s->peer, pkt, len);
	keep_hs(s, pkt, &len, 1);
	s->state = S_CREATED_SENT;
	hs_debug(s, "sent SessionCreated");
	sess_rearm(s);
}

static void on_session_request(struct ssu2 *n, uint8_t *pkt, size_t len,
			       const struct sockaddr_in6 *from,
			       const struct ssu2_long_hdr *h)
{
	static uint8_t plain[SSU2_MAX_PACKET_BYTES];
	static struct ssu2_payload pl;
	struct ipent *e = ip_get(n, from);
	uint64_t valid = token_get(&n->issued, from);
	uint32_t ts = 0;
	size_t plen;
	struct sess *s;
	int r;

	if (h->src_id == h->dst_id) {
		n->st.dropped++;
		return;
	}
	/* "Bob accepts a SessionRequest only with a token it issued to that
	 * IP:port"; otherwise a Retry, before any DH. */
	if (!valid || valid != h->token) {
		n->st.bad_tokens++;
		log_debug(LD_SSU2, "SessionRequest with %s token",
			  valid ? "a wrong" : "no valid");
		if (!ip_may_retry(n, from)) {
			n->st.refused++;
			return;
		}
		valid = token_for_retry(n, from);
		send_retry(n, from, h, valid, -1);
		return;
	}
	if (!e || n->pending_in >= n->cfg.max_pending ||
	    e->pending >= n->cfg.max_pending_per_ip ||
	    n->nsess >= SSU2_MAX_SESSIONS || n->shutting_down ||
	    !transport_may_accept_from(n->tm, e->ip)) {
		n->st.refused++;
		if (ip_may_retry(n, from))
			send_retry(n, from, h, 0, SSU2_TERM_LIMITS);
		return;
	}
	s = sess_new(n, true);
	e->pending++;
	s->peer = *from;
	s->rid = h->dst_id;
	s->sid = h->src_id;
	ssu2_hs_init_bob(&s->hs, &n->cfg.st, n->cfg.ik);
	if ((r = ssu2_hs_read_request(&s->hs, pkt, len, plain, sizeof(plain),
				      &plen)) != 0) {
		sess_log(s, "bad SessionRequest", r);
		ip_failure(n, from);
		n->st.dropped++;
		sess_kill(s);
		return;
	}
	/* The token is single-use. */
	token_drop(&n->issued, from);
	if (ntcp2_replay_check(n->replay, ssu2_hs_remote_ephemeral(&s->hs),
			       now_ms()) != 0) {
		n->st.replays++;
		sess_log(s, "replayed SessionRequest", ERR_DUPLICATE);
		sess_kill(s);
		return;
	}
	if ((r = ssu2_payload_decode(plain, plen, false, &pl)) != 0) {
		sess_log(s, "bad SessionRequest payload", r);
		sess_kill(s);
		return;
	}
	for (size_t i = 0; i < pl.n; i++) {
		if (pl.b[i].type == SSU2_BLK_DATETIME)
			(void)ssu2_datetime_decode(&pl.b[i], &ts);
		/* (we introduce only with a key to sign Relay Intros) */
		if (pl.b[i].type == SSU2_BLK_RELAY_TAG_REQUEST && n->cfg.ks &&
		    !s->tag_for_peer)
			do
				s->tag_for_peer = (uint32_t)rand_u64();
			while (s->tag_for_peer == 0);
	}
	if (!ssu2_skew_ok(ts, now_s())) {
		/* "Bob MAY send a Retry message containing a zero token and
		 * a Termination block with a clock skew reason code" */
		n->st.skewed++;
		sess_log(s, "SessionRequest clock skew", ERR_EXPIRED);
		send_retry(n, from, h, 0, SSU2_TERM_CLOCK_SKEW);
		sess_kill(s);
		return;
	}
	send_created(s, h);
}

/* Check Alice's RouterInfo from SessionConfirmed; 0 or a reason. */
static int check_alice_ri(struct sess *s, const struct ssu2_block *b)
{
	static uint8_t buf[SSU2_RI_MAX_BYTES];
	struct ssu2_ri_block rb;
	struct router_info *ri = NULL;
	struct x25519_pk rs;
	uint64_t now = time_now_ms();
	int reason = SSU2_TERM_CONFIRMED, r;
	size_t len;

	if ((r = ssu2_ri_block_decode(b, &rb)) != 0 ||
	    (r = ssu2_ri_block_extract(&rb, buf, sizeof(buf), &len)) != 0 ||
	    (r = router_info_decode(buf, len, &ri)) != 0) {
		sess_log(s, "SessionConfirmed RouterInfo", r);
		goto out;
	}
	if ((r = router_info_verify(ri)) != 0) {
		sess_log(s, "SessionConfirmed RouterInfo signature", r);
		reason = SSU2_TERM_RI_SIG;
		goto out;
	}
	if ((r = router_info_check_netid(ri, s->n->cfg.netid)) != 0 ||
	    (r = router_info_check_published(ri, now)) != 0 ||
	    router_info_published(ri) + SSU2_RI_MAX_AGE_MS < now) {
		sess_log(s, "SessionConfirmed RouterInfo netId or date", r);
		goto out;
	}
	/* "Bob must verify that Alice's static key received in the first
	 * frame matches the static key in the Router Info"; its "i" is
	 * Alice's intro key from now on. */
	reason = SSU2_TERM_S_PARAM;
	(void)ssu2_hs_remote_static(&s->hs, &rs);
	for (size_t i = 0; i < router_info_address_count(ri); i++) {
		const struct router_address *a = router_info_address(ri, i);
		struct router_address_ssu2 p;

		if (router_address_is_ssu2(a) &&
		    router_address_ssu2_parse(a, &p) == 0 &&
		    memcmp(p.s.b, rs.b, 32) == 0) {
			memcpy(s->peer_ik, p.ik, 32);
			reason = 0;
			break;
		}
	}
	if (reason) {
		sess_log(s, "SessionConfirmed static key not in RouterInfo", 0);
		goto out;
	}
	memcpy(s->peer_rh, router_info_hash(ri), 32);
	free(s->peer_ri);
	s->peer_ri = xmemdup(buf, len);
	s->peer_ri_len = len;
	transport_conn_ri(s->n->tm, buf, len, false);
out:
	router_info_free(ri);
	return reason;
}

static void on_confirmed_frag(struct sess *s, uint8_t *pkt, size_t len)
{
	static uint8_t jumbo[SSU2_CONFIRMED_MAX_FRAGS * SSU2_MAX_PACKET_BYTES];
	static uint8_t plain[sizeof(jumbo)];
	static struct ssu2_payload pl;
	struct ssu2_short_hdr sh;
	unsigned f, total;
	size_t jlen = 0, plen;
	int r;

	ssu2_short_hdr_decode(pkt, &sh);
	f = sh.flags[0] >> 4;
	total = sh.flags[0] & 0x0f;
	if (total == 0 || f >= total || sh.pkt_num != 0 ||
	    (s->cf_total && total != s->cf_total)) {
		s->n->st.dropped++;
		return;
	}
	s->cf_total = total;
	if (s->cf_buf[f])
		return;		/* a resent fragment */
	s->cf_buf[f] = xmemdup(pkt, len);
	s->cf_len[f] = len;
	for (unsigned i = 0; i < total; i++)
		if (!s->cf_buf[i])
			return;
	/* All fragments: header of fragment 0 ‖ every body in order. */
	memcpy(jumbo, s->cf_buf[0], SSU2_SHORT_HEADER_BYTES);
	jlen = SSU2_SHORT_HEADER_BYTES;
	for (unsigned i = 0; i < total; i++) {
		memcpy(jumbo + jlen, s->cf_buf[i] + SSU2_SHORT_HEADER_BYTES,
		       s->cf_len[i] - SSU2_SHORT_HEADER_BYTES);
		jlen += s->cf_len[i] - SSU2_SHORT_HEADER_BYTES;
	}
	if ((r = ssu2_hs_read_confirmed(&s->hs, jumbo, jlen, plain,
					sizeof(plain), &plen)) != 0 ||
	    (r = ssu2_payload_decode(plain, plen, true, &pl)) != 0) {
		sess_log(s, "bad SessionConfirmed", r);
		ip_failure(s->n, &s->peer);
		sess_kill(s);
		return;
	}
	if (check_alice_ri(s, &pl.b[0]) != 0) {
		ip_failure(s->n, &s->peer);
		sess_kill(s);
		return;
	}
	if (BUG(ssu2_hs_split(&s->hs, &s->keys) != 0)) {
		sess_kill(s);
		return;
	}
	sess_keyed(s);
	/* Packet 0 was SessionConfirmed: it is received. */
	(void)ssu2_rxwin_add(&s->rx, 0);
	free(s->hs_pkts);
	s->hs_pkts = NULL;
	s->hs_n = 0;
	sess_established(s);
	if (s->closed || s->state != S_ESTABLISHED)
		return;
	(void)handle_blocks(s, &s->peer, &pl, 1);
	/* "Bob responds immediately with a Data message containing an ACK
	 * block." */
	s->ack_owed = 2;
	mark_dirty(s);
}

/* ---- inbound packets: Alice ---- */

static void send_token_request(struct sess *s)
{
	struct ssu2 *n = s->n;
	struct ssu2_long_hdr h = {
		.dst_id = s->sid, .src_id = s->rid, .type = SSU2_TOKEN_REQUEST,
		.ver = SSU2_VERSION, .netid = n->cfg.netid,
		.pkt_num = (uint32_t)rand_u64(),
	};
	struct bbuf pl = BBUF_INIT;
	uint8_t pkt[256];
	size_t len;

	ssu2_blk_put_datetime(&pl, now_s());
	ssu2_blk_put_padding(&pl, 1 + rand_uniform(HS_PAD_MAX));
	if (ssu2_oos_encrypt(&h, s->hs.bob_ik, pl.data, pl.len, pkt,
			     sizeof(pkt), &len) == 0) {
		send_raw(n, &s->peer, pkt, len);
		keep_hs(s, pkt, &len, 1);
	}
	bbuf_free(&pl);
	s->state = S_TOKEN_REQ;
	hs_debug(s, "sent Token Request");
}

static int send_request(struct sess *s, uint64_t token)
{
	struct ssu2 *n = s->n;
	struct ssu2_long_hdr h = {
		.dst_id = s->sid, .src_id = s->rid, .netid = n->cfg.netid,
		.token = token, .pkt_num = (uint32_t)rand_u64(),
	};
	struct bbuf pl = BBUF_INIT;
	uint8_t pkt[SSU2_MAX_PACKET_BYTES];
	size_t len;
	int r;

	ssu2_blk_put_datetime(&pl, now_s());
	/* Firewalled: ask an introducer for a relay tag right away (i2pd
	 * answers only in SessionCreated). */
	if (ssu2_is_firewalled_family(n, sess_family(s)) &&
	    ri_has_cap(s, 'C')) {
		ssu2_blk_put(&pl, SSU2_BLK_RELAY_TAG_REQUEST, NULL, 0);
		s->tag_asked_hs = true;
		s->tag_asked_ms = now_ms();
	}
	ssu2_blk_put_padding(&pl, 1 + rand_uniform(HS_PAD_MAX));
	r = ssu2_hs_write_request(&s->hs, &h, pl.data, pl.len, pkt,
				  sizeof(pkt), &len);
	bbuf_free(&pl);
	if (r != 0)
		return r;
	send_raw(n, &s->peer, pkt, len);
	keep_hs(s, pkt, &len, 1);
	s->req_token = token;
	s->state = S_REQ_SENT;
	hs_debug(s, "sent SessionRequest");
	return 0;
}

/* False when pkt does not authenticate as a Retry (it may be a
 * SessionCreated whose type byte read as Retry). */
static bool on_retry(struct sess *s, uint8_t *pkt, size_t len,
		     const struct ssu2_long_hdr *h)
{
	static uint8_t plain[SSU2_MAX_PACKET_BYTES];
	static struct ssu2_payload pl;
	struct ssu2 *n = s->n;
	struct x25519_pk bob_s;
	uint8_t bob_ik[32];
	size_t plen;

	if (ssu2_oos_decrypt(pkt, len, s->hs.bob_ik, plain, sizeof(plain),
			     &plen) != 0)
		return false;
	if (ssu2_payload_decode(plain, plen, false, &pl) != 0) {
		n->st.dropped++;
		return true;
	}
	/* The same token again (Bob answered a resent Token Request, or
	 * a Retry came twice): the SessionRequest out already has it. */
	if (s->state == S_REQ_SENT && h->token && h->token == s->req_token)
		return true;
	n->st.retries_received++;
	hs_debug(s, "got Retry");
	for (size_t i = 0; i < pl.n; i++) {
		struct ssu2_termination term;

		if (pl.b[i].type == SSU2_BLK_ADDRESS)
			note_address(n, &pl.b[i]);
		if (pl.b[i].type == SSU2_BLK_TERMINATION &&
		    ssu2_termination_decode(&pl.b[i], &term) == 0) {
			n->st.terminations_received++;
			n->st.last_term_reason = term.reason;
			sess_log(s, "refused by a Retry with a Termination",
				 0);
			sess_kill(s);
			return true;
		}
	}
	if (h->token == 0 || ++s->retries > SSU2_HS_MAX_RETRIES) {
		sess_log(s, "handshake refused by Retry", 0);
		sess_kill(s);
		return true;
	}
	/* A new handshake with the token: the header is in h. */
	token_put(&n->received, &s->peer, h->token,
		  now_s() + SSU2_DEFAULT_RETRY_TOKEN_LIFETIME_S);
	(void)ssu2_hs_remote_static(&s->hs, &bob_s);
	memcpy(bob_ik, s->hs.bob_ik, 32);
	ssu2_hs_wipe(&s->hs);
	ssu2_hs_init_alice(&s->hs, &n->cfg.st, &bob_s, bob_ik);
	if (send_request(s, h->token) != 0)
		sess_kill(s);
	else
		sess_rearm(s);
	return true;
}

static void send_confirmed(struct sess *s)
{
	struct ssu2 *n = s->n;
	struct bbuf pl = BBUF_INIT, z = BBUF_INIT;
	static uint8_t pkts[SSU2_CONFIRMED_MAX_FRAGS * SSU2_MAX_PACKET_BYTES];
	size_t lens[SSU2_CONFIRMED_MAX_FRAGS];
	unsigned nf;
	int r;

	/* gzip the RouterInfo when it would not fit one packet (i2pd takes
	 * at most 2 fragments). */
	if (n->ri_len + 5 + SSU2_CONFIRMED_OVERHEAD_BYTES > pkt_max(n) &&
	    gzip_compress(n->ri, n->ri_len, &z) == 0 && z.len < n->ri_len)
		ssu2_blk_put_ri(&pl, SSU2_RI_FLAG_GZIP, z.data, z.len);
	else
		ssu2_blk_put_ri(&pl, 0, n->ri, n->ri_len);
	bbuf_free(&z);
	r = ssu2_hs_write_confirmed(&s->hs, s->sid, pl.data, pl.len,
				    pkt_max(n), pkts, sizeof(pkts), lens, &nf);
	bbuf_free(&pl);
	if (r != 0) {
		sess_log(s, "cannot write SessionConfirmed", r);
		sess_kill(s);
		return;
	}
	keep_hs(s, pkts, lens, nf);
	s->hs_resends = 0;
	{
		size_t off = 0;

		for (unsigned i = 0; i < nf; i++) {
			send_raw(n, &s->peer, pkts + off, lens[i]);
			off += lens[i];
		}
	}
	/* Packet number 0 was SessionConfirmed. */
	s->send_pn = 1;
	hs_debug(s, "sent SessionConfirmed");
}

static void on_created(struct sess *s, uint8_t *pkt, size_t len)
{
	static uint8_t plain[SSU2_MAX_PACKET_BYTES];
	static struct ssu2_payload pl;
	struct ssu2 *n = s->n;
	uint32_t ts = 0, exp, tag;
	uint64_t tok;
	size_t plen;
	int r;

	if ((r = ssu2_hs_read_created(&s->hs, pkt, len, plain, sizeof(plain),
				      &plen)) != 0 ||
	    (r = ssu2_payload_decode(plain, plen, false, &pl)) != 0) {
		sess_log(s, "bad SessionCreated", r);
		sess_kill(s);
		return;
	}
	if (ntcp2_replay_check(n->replay, ssu2_hs_remote_ephemeral(&s->hs),
			       now_ms()) != 0) {
		n->st.replays++;
		sess_kill(s);
		return;
	}
	for (size_t i = 0; i < pl.n; i++) {
		const struct ssu2_block *b = &pl.b[i];

		if (b->type == SSU2_BLK_DATETIME)
			(void)ssu2_datetime_decode(b, &ts);
		else if (b->type == SSU2_BLK_ADDRESS)
			note_address(n, b);
		else if (b->type == SSU2_BLK_NEW_TOKEN &&
			 ssu2_new_token_decode(b, &exp, &tok) == 0 && tok)
			token_put(&n->received, &s->peer, tok, exp);
		else if (b->type == SSU2_BLK_RELAY_TAG && s->tag_asked_ms &&
			 ssu2_relay_tag_decode(b, &tag) == 0 && tag) {
			s->tag_from_peer = tag;
			s->tag_got_s = now_s();
			s->tag_asked_ms = 0;
			n->st.relay_tags_got++;
			n->st.relay_tags_hs++;
			intro_note_change(n);
		}
	}
	if (!ssu2_skew_ok(ts, now_s())) {
		n->st.skewed++;
		sess_log(s, "SessionCreated clock skew", ERR_EXPIRED);
		sess_kill(s);
		return;
	}
	send_confirmed(s);
	if (s->closed)
		return;
	if (BUG(ssu2_hs_split(&s->hs, &s->keys) != 0)) {
		sess_kill(s);
		return;
	}
	sess_keyed(s);
	sess_established(s);
	if (!s->closed && s->state == S_ESTABLISHED)
		mark_dirty(s);
}

/* ---- packet dispatch ---- */

/* A packet whose part 1 was peeled with our intro key and whose
 * destination id is s's.  p is a scratch copy of the original. */
static void on_session_pkt(struct sess *s, uint8_t *p, const uint8_t *orig,
			   size_t len, const struct sockaddr_in6 *from)
{
	struct ssu2 *n = s->n;
	struct ssu2_short_hdr sh;

	if (s->state == S_ESTABLISHED || s->state == S_CLOSING) {
		ssu2_hp_part2(p, len, s->keys.recv.k_hdr2);
		ssu2_short_hdr_decode(p, &sh);
		if (sh.type == SSU2_DATA && on_data(s, p, p, len, from))
			return;
		/* Bob: a resent SessionConfirmed means our ACK was lost
		 * (its type byte may have read as Data above). */
		memcpy(p + 8, orig + 8, 8);
		ssu2_hp_part2(p, len, s->hs.hk_confirmed);
		ssu2_short_hdr_decode(p, &sh);
		if (s->inbound && sh.type == SSU2_SESSION_CONFIRMED) {
			s->ack_owed = 2;
			mark_dirty(s);
			return;
		}
		n->st.dropped++;
		return;
	}
	if (s->state == S_CREATED_SENT && addr_eq(from, &s->peer)) {
		ssu2_hp_part2(p, len, s->hs.hk_confirmed);
		ssu2_short_hdr_decode(p, &sh);
		/* (packet number 0 too: a resent SessionRequest read with
		 * this key may show any type) */
		if (sh.type == SSU2_SESSION_CONFIRMED && sh.pkt_num == 0) {
			on_confirmed_frag(s, p, len);
			return;
		}
		/* A resent SessionRequest: our SessionCreated was lost. */
		memcpy(p + 8, orig + 8, 8);
		ssu2_hp_part2(p, len, n->cfg.ik);
		ssu2_short_hdr_decode(p, &sh);
		if (sh.type == SSU2_SESSION_REQUEST && hs_may_resend(s)) {
			resend_hs(s);
			sess_rearm(s);
			return;
		}
	}
	n->st.dropped++;
}

/* SessionCreated or Retry for one of our pending outbound sessions to
 * from (they use Bob's intro key for k_header_1). */
static bool on_fallback(struct ssu2 *n, const uint8_t *orig, size_t len,
			const struct sockaddr_in6 *from)
{
	static uint8_t p[SSU2_MAX_PACKET_BYTES];
	struct ssu2_long_hdr h;

	for (struct sess *s = n->sessions; s; s = s->next) {
		bool want_created = s->state == S_REQ_SENT ||
				    (s->state == S_ESTABLISHED && !s->inbound &&
				     !s->confirmed_acked);

		if (s->inbound || !addr_eq(&s->peer, from) ||
		    (s->state != S_TOKEN_REQ && !want_created))
			continue;
		memcpy(p, orig, len);
		ssu2_hp_part1(p, len, s->hs.bob_ik);
		if (ssu2_pkt_dst_id(p) != s->rid)
			continue;
		/* Retry: k_header_2 = Bob's intro key. */
		ssu2_hp_part2(p, len, s->hs.bob_ik);
		if (p[12] == SSU2_RETRY && s->state != S_ESTABLISHED &&
		    len >= 16 + 16 + 24) {
			ssu2_hp_long(p, len, s->hs.bob_ik, 16);
			ssu2_long_hdr_decode(p, &h);
			if (h.ver == SSU2_VERSION && h.src_id == s->sid &&
			    on_retry(s, p, len, &h))
				return true;
			/* not a Retry after all: try SessionCreated */
			memcpy(p, orig, len);
			ssu2_hp_part1(p, len, s->hs.bob_ik);
		}
		/* SessionCreated: k_header_2 from the SessionRequest KDF. */
		memcpy(p + 8, orig + 8, 8);
		ssu2_hp_part2(p, len, s->hs.hk_created);
		if (p[12] != SSU2_SESSION_CREATED || len < 64 + 24)
			return false;
		if (s->state == S_ESTABLISHED) {
			/* Bob resent it: our SessionConfirmed was lost. */
			if (hs_may_resend(s))
				resend_hs(s);
			return true;
		}
		ssu2_hp_long(p, len, s->hs.hk_created, 48);
		on_created(s, p, len);
		return true;
	}
	return false;
}

/* hdr, when not NULL: orig's first 16 bytes with both header masks
 * taken off, part 2's with guess's key. */
static void on_packet(struct ssu2 *n, const uint8_t *orig, size_t len,
		      const struct sockaddr_in6 *from, const uint8_t *hdr,
		      const struct sess *guess)
{
	static uint8_t p[SSU2_MAX_PACKET_BYTES];
	struct ssu2_long_hdr h;
	struct sess *s;

	if (len < SSU2_MIN_PACKET_BYTES || len > SSU2_MAX_PACKET_BYTES) {
		n->st.dropped++;
		return;
	}
	if (ip_banned(n, from)) {
		n->st.refused++;
		return;
	}
	/* Most packets are data of the session the last one was for: both
	 * header masks in one pass, that session's key the guess for part
	 * 2 (the destination id part 1 gives, then the AEAD, confirm it),
	 * and the packet read where it came. */
	s = n->rx_last;
	if (s && s->state == S_ESTABLISHED) {
		uint8_t hd[SSU2_SHORT_HEADER_BYTES];

		if (!hdr || guess != s) {
			memcpy(hd, orig, sizeof(hd));
			chacha20_xor8x2(hd, n->cfg.ik, orig + len - 24, hd + 8,
					s->keys.recv.k_hdr2, orig + len - 12);
			hdr = hd;
		}
		if (ssu2_pkt_dst_id(hdr) == s->rid && hdr[12] == SSU2_DATA &&
		    on_data(s, hdr, orig, len, from))
			return;
	}
	memcpy(p, orig, len);
	ssu2_hp_part1(p, len, n->cfg.ik);
	s = sess_by_rid(n, ssu2_pkt_dst_id(p));
	if (s && (s->inbound || s->state == S_ESTABLISHED ||
		  s->state == S_CLOSING)) {
		on_session_pkt(s, p, orig, len, from);
		return;
	}
	/* New: Token Request or SessionRequest (our key for both parts),
	 * or Peer Test messages 5-7 keyed with our intro key. */
	ssu2_hp_part2(p, len, n->cfg.ik);
	/* The type byte is only a guess until the AEAD agrees: a packet
	 * keyed with a peer's intro key (SessionCreated, Retry) reads as
	 * any type here, so what does not authenticate goes on to the
	 * pending outbound sessions. */
	if (!s && p[12] == SSU2_PEER_TEST && len >= 16 + 16 + 24) {
		if (pt_out_of_session(n, p, len, from))
			return;
		goto fallback;
	}
	if (!s && p[12] == SSU2_HOLE_PUNCH && len >= 16 + 16 + 24) {
		if (relay_hole_punch(n, p, len, from))
			return;
		goto fallback;
	}
	if (!s && (p[12] == SSU2_TOKEN_REQUEST ||
		   p[12] == SSU2_SESSION_REQUEST)) {
		size_t extra = p[12] == SSU2_SESSION_REQUEST ? 48 : 16;

		if (len < 16 + extra + 24)
			goto fallback;
		ssu2_hp_long(p, len, n->cfg.ik, extra);
		ssu2_long_hdr_decode(p, &h);
		/* "should not send a Retry ... unless the message type,
		 * protocol version, and network ID fields ... are valid" */
		if (h.ver != SSU2_VERSION || h.netid != n->cfg.netid)
			goto fallback;
		if (n->shutting_down)
			return;
		if (h.type == SSU2_TOKEN_REQUEST)
			on_token_request(n, p, len, from, &h);
		else
			on_session_request(n, p, len, from, &h);
		return;
	}
fallback:
	if (!on_fallback(n, orig, len, from)) {
		log_debug(LD_SSU2, "dropped a packet no session claims "
			  "(type %u, %zu bytes)", p[12], len);
		n->st.dropped++;
	}
}

static void flush_dirty(struct ssu2 *n)
{
	for (size_t i = 0; i < n->ndirty; i++) {
		struct sess *s = n->dirty[i];

		if (!s->closed)
			sess_flush(s);
	}
	n->ndirty = 0;
}

/* ACK and refill now, and send at once: the peer's window waits on these
 * ACKs, so they go out while we work through the rest of what came. */
static void flush_now(struct ssu2 *n)
{
	flush_dirty(n);
	if (n->nout)
		out_flush(n);
	clock_read();
}

/* Datagrams read and not yet handled: their header masks are taken off
 * a chunk at a time (chacha20_xor8_many()), part 2's with the key of the
 * session the last data packet was for. */
struct rx_item {
	const uint8_t *p;
	size_t len;
	struct sockaddr_in6 from;
	uint8_t hdr[SSU2_SHORT_HEADER_BYTES];
	size_t plen;		/* opened: its payload's length, else 0 */
};

static void rx_chunk(struct ssu2 *n, struct rx_item *it, size_t cnt,
		     unsigned *since_ack)
{
	struct sess *s = n->rx_last;
	uint8_t *dst[2 * RX_CHUNK];
	const uint8_t *key[2 * RX_CHUNK], *nonce[2 * RX_CHUNK];
	size_t m = 0;

	if (s && s->state != S_ESTABLISHED)
		s = NULL;
	for (size_t i = 0; s && i < cnt; i++) {
		const uint8_t *p = it[i].p;
		size_t len = it[i].len;

		if (len < SSU2_MIN_PACKET_BYTES)
			continue;	/* on_packet() drops it */
		memcpy(it[i].hdr, p, SSU2_SHORT_HEADER_BYTES);
		dst[m] = it[i].hdr;
		key[m] = n->cfg.ik;
		nonce[m++] = p + len - 24;
		dst[m] = it[i].hdr + 8;
		key[m] = s->keys.recv.k_hdr2;
		nonce[m++] = p + len - 12;
	}
	if (m)
		chacha20_xor8_many(m, dst, key, nonce);
	/* Open the data packets of that session, then handle them all:
	 * the AEAD's code and tables stay in the caches for the chunk. */
	for (size_t i = 0; s && i < cnt; i++) {
		it[i].plen = 0;
		if (it[i].len >= SSU2_MIN_PACKET_BYTES &&
		    ssu2_pkt_dst_id(it[i].hdr) == s->rid &&
		    it[i].hdr[12] == SSU2_DATA &&
		    ssu2_data_open(&s->aead_rx, it[i].hdr, it[i].p, it[i].len,
				   n->rx_plain[i], SSU2_MAX_PACKET_BYTES,
				   &it[i].plen) != 0)
			it[i].plen = 0;
	}
	for (size_t i = 0; i < cnt; i++) {
		/* (s may have gone meanwhile: then rx_last is not s) */
		if (s && it[i].plen && n->rx_last == s &&
		    s->state == S_ESTABLISHED &&
		    ssu2_pkt_dst_id(it[i].hdr) == s->rid &&
		    !ip_banned(n, &it[i].from))
			on_data_plain(s, it[i].hdr, n->rx_plain[i],
				      it[i].plen, &it[i].from);
		else
			on_packet(n, it[i].p, it[i].len, &it[i].from,
				  s ? it[i].hdr : NULL, s);
		if (++*since_ack == ACK_EVERY_PKTS) {
			*since_ack = 0;
			flush_now(n);
		}
	}
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t buf[IN_BATCH][GRO_BUF_BYTES];
	static struct sockaddr_storage from[IN_BATCH];
	static union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl[IN_BATCH];
	struct sockaddr_in6 src;
	struct mmsghdr mh[IN_BATCH];
	struct iovec iov[IN_BATCH];
	struct rx_item items[RX_CHUNK];
	size_t nitems = 0;
	struct ssu2 *n = arg;
	unsigned since_ack = 0;
	size_t in_bytes = 0;

	(void)what;
	clock_read();
	batch_begin(n);
	for (int round = 0; round < RECV_BUDGET_PKTS / IN_BATCH; round++) {
		int got;

		for (int i = 0; i < IN_BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = sizeof(buf[i]);
			memset(&mh[i], 0, sizeof(mh[i]));
			mh[i].msg_hdr.msg_name = &from[i];
			mh[i].msg_hdr.msg_namelen = sizeof(from[i]);
			mh[i].msg_hdr.msg_iov = &iov[i];
			mh[i].msg_hdr.msg_iovlen = 1;
			mh[i].msg_hdr.msg_control = ctl[i].buf;
			mh[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
		got = recvmmsg(fd, mh, IN_BATCH, 0, NULL);
		if (got <= 0)
			break;
		for (int i = 0; i < got; i++) {
			size_t len = mh[i].msg_len, seg = len;
			struct cmsghdr *cm;

			for (cm = CMSG_FIRSTHDR(&mh[i].msg_hdr); cm;
			     cm = CMSG_NXTHDR(&mh[i].msg_hdr, cm)) {
				int g;

				if (cm->cmsg_level == SOL_UDP &&
				    cm->cmsg_type == UDP_GRO &&
				    cm->cmsg_len >= CMSG_LEN(sizeof(g))) {
					memcpy(&g, CMSG_DATA(cm), sizeof(g));
					if (g > 0 && (size_t)g < seg)
						seg = (size_t)g;
				}
			}

			if (from[i].ss_family == AF_INET &&
			    mh[i].msg_hdr.msg_namelen ==
			    sizeof(struct sockaddr_in)) {
				const struct sockaddr_in *f4 =
					(const struct sockaddr_in *)&from[i];

				addr_set(&src, (const uint8_t *)&f4->sin_addr,
					 4, ntohs(f4->sin_port));
			} else if (from[i].ss_family == AF_INET6 &&
				   mh[i].msg_hdr.msg_namelen ==
				   sizeof(struct sockaddr_in6)) {
				memcpy(&src, &from[i], sizeof(src));
				src.sin6_flowinfo = 0;
				src.sin6_scope_id = 0;
			} else {
				continue;
			}
			/* one datagram, or several of seg bytes (GRO) */
			for (size_t off = 0; off < len; off += seg) {
				size_t l = len - off < seg ? len - off : seg;

				n->st.pkts_in++;
				in_bytes += l;
				items[nitems].p = buf[i] + off;
				items[nitems].len = l;
				items[nitems].from = src;
				if (++nitems == RX_CHUNK) {
					rx_chunk(n, items, nitems, &since_ack);
					nitems = 0;
				}
			}
		}
		rx_chunk(n, items, nitems, &since_ack);
		nitems = 0;
		flush_now(n);
		if (got < IN_BATCH)
			break;
	}
	/* counted once a burst: the manager's rate reads the clock */
	transport_count_bytes(n->tm, in_bytes, 0);
	batch_end(n);
	clock_cached = 0;
	wall_cached = 0;
}

void ssu2_input(struct ssu2 *n, const uint8_t *pkt, size_t len,
		const struct sockaddr_in6 *from)
{
	struct rx_item it = { .p = pkt, .len = len, .from = *from };
	unsigned since_ack = 0;

	clock_read();
	batch_begin(n);
	n->st.pkts_in++;
	rx_chunk(n, &it, 1, &since_ack);
	flush_now(n);
	batch_end(n);
	clock_cached = 0;
	wall_cached = 0;
}

int ssu2_input_payload(struct ssu2 *n, const uint8_t peer[32],
		       const uint8_t *plain, size_t plen)
{
	struct sess *s;

	for (s = n->sessions; s; s = s->next)
		if (s->state == S_ESTABLISHED && !s->closed &&
		    memcmp(s->peer_rh, peer, 32) == 0)
			break;
	if (!s)
		return ERR_NOT_FOUND;
	clock_read();
	batch_begin(n);
	data_payload(s, plain, plen, &s->peer, false);
	flush_now(n);
	batch_end(n);
	clock_cached = 0;
	wall_cached = 0;
	return 0;
}

/* ---- peer test ("Peer Test Process") ---- */

/* Does a RouterInfo of len bytes fit a data packet beside a PeerTest
 * block, uncompressed? */
static bool ri_len_fits(const struct sess *s, size_t len)
{
	return SSU2_BLOCK_HEADER_BYTES + 2 + len + SSU2_BLOCK_HEADER_BYTES +
	       3 + 32 + SSU2_PT_SDATA_MAX_BYTES + 64 <= payload_max(s->n);
}

/* The IPv4 SSU2 address of a RouterInfo (bytes), its hash and whether it
 * offers peer testing ("B"); and a signature check against its identity
 * when msg is not NULL.  0, or an ERR_*. */
static int ri_look_family(const uint8_t *ri, size_t len, int family,
			  struct router_address_ssu2 *out, bool *has_b,
			  uint8_t hash[32], const uint8_t *msg, size_t mlen,
			  const uint8_t *sig, size_t siglen)
{
	struct router_info *r = NULL;
	int rc = ERR_NOT_FOUND;

	if (!ri || router_info_decode(ri, len, &r) != 0)
		return ERR_FORMAT;
	if (msg && keys_and_cert_verify(router_info_identity(r), msg, mlen,
					sig, siglen) != 0) {
		rc = ERR_BAD_SIG;
		goto out;
	}
	if (hash)
		memcpy(hash, router_info_hash(r), 32);
	for (size_t i = 0; i < router_info_address_count(r); i++) {
		const struct router_address *a = router_info_address(r, i);
		struct router_address_ssu2 p;

		if (!router_address_is_ssu2(a) ||
		    router_address_ssu2_parse(a, &p) != 0 ||
		    (p.family == AF_INET6) != (family == AF_INET6))
			continue;
		if (out)
			*out = p;
		if (has_b)
			*has_b = strchr(p.caps, 'B') != NULL;
		rc = 0;
		break;
	}
out:
	router_info_free(r);
	return rc;
}

/* ri_look_family() for the IPv4 (or family-less) SSU2 address. */
static int ri_look(const uint8_t *ri, size_t len,
		   struct router_address_ssu2 *out, bool *has_b,
		   uint8_t hash[32], const uint8_t *msg, size_t mlen,
		   const uint8_t *sig, size_t siglen)
{
	return ri_look_family(ri, len, AF_INET, out, has_b, hash, msg, mlen,
			      sig, siglen);
}

/* The hash of a RouterInfo with an SSU2 address of either family. */
static int ri_hash(const uint8_t *ri, size_t len, uint8_t hash[32])
{
	int r = ri_look(ri, len, NULL, NULL, hash, NULL, 0, NULL, 0);

	if (r == ERR_NOT_FOUND)
		r = ri_look_family(ri, len, AF_INET6, NULL, NULL, hash, NULL,
				   0, NULL, 0);
	return r;
}

static struct ptest *pt_find(struct ssu2 *n, enum pt_role role,
			     uint32_t nonce)
{
	for (size_t i = 0; i < SSU2_PT_MAX; i++)
		if (n->pt[i].role == role && n->pt[i].nonce == nonce)
			return &n->pt[i];
	return NULL;
}

static struct ptest *pt_new(struct ssu2 *n, enum pt_role role, uint32_t nonce)
{
	for (size_t i = 0; i < SSU2_PT_MAX; i++)
		if (n->pt[i].role == PT_NONE) {
			memset(&n->pt[i], 0, sizeof(n->pt[i]));
			n->pt[i].role = role;
			n->pt[i].nonce = nonce;
			n->pt[i].started_ms = now_ms();
			evloop_timer_arm(n->pt_timer, 1000);
			return &n->pt[i];
		}
	return NULL;
}

/* Sign the peer-test data with our router key. */
static void pt_sign(struct ssu2 *n, const uint8_t bhash[32],
		    const uint8_t *ahash, const uint8_t *sdata, size_t slen,
		    struct ed25519_sig *sig)
{
	struct bbuf m = BBUF_INIT;

	ssu2_pt_sigmsg(&m, bhash, ahash, sdata, slen);
	keystore_sign(n->cfg.ks, sig, m.data, m.len);
	bbuf_free(&m);
}

static bool pt_check_sig(const uint8_t *ri, size_t rilen,
			 const uint8_t bhash[32], const uint8_t *ahash,
			 const struct ssu2_pt *pt, struct router_address_ssu2 *a)
{
	struct bbuf m = BBUF_INIT;
	int r;

	/* (a: the signer's address of the test's family, else its other
	 * one: the intro key is what is used of it) */
	ssu2_pt_sigmsg(&m, bhash, ahash, pt->sdata, pt->slen);
	r = ri_look_family(ri, rilen, pt->iplen == 16 ? AF_INET6 : AF_INET,
			   a, NULL, NULL, m.data, m.len, pt->sig, pt->siglen);
	if (r == ERR_NOT_FOUND)
		r = ri_look_family(ri, rilen, pt->iplen == 16 ? AF_INET :
				   AF_INET6, a, NULL, NULL, m.data, m.len,
				   pt->sig, pt->siglen);
	bbuf_free(&m);
	return r == 0;
}

/* In-session blocks: the RouterInfo first when given, then the test. */
static void pt_send_in(struct sess *s, const uint8_t *ri, size_t rilen,
		       uint8_t msg, uint8_t code, const uint8_t *hash,
		       const uint8_t *sdata, size_t slen, const uint8_t *sig,
		       size_t siglen)
{
	struct bbuf pl = BBUF_INIT, z = BBUF_INIT;

	if (ri) {
		if (ri_len_fits(s, rilen))
			ssu2_blk_put_ri(&pl, 0, ri, rilen);
		else if (gzip_compress(ri, rilen, &z) == 0)
			ssu2_blk_put_ri(&pl, SSU2_RI_FLAG_GZIP, z.data, z.len);
		bbuf_free(&z);
	}
	ssu2_pt_put(&pl, msg, code, hash, sdata, slen, sig, siglen);
	if (pl.len <= payload_max(s->n))
		(void)send_data(s, &s->peer, &pl, 0);
	bbuf_free(&pl);
}

/* Out of session (messages 5-7): "Destination Connection ID is two
 * copies of the 4-byte big-endian test nonce ... Source Connection ID is
 * the inverse"; message 6 swaps them. */
static void pt_send_out(struct ssu2 *n, const struct sockaddr_in6 *to,
			const uint8_t key[32], uint32_t nonce, bool swap,
			uint8_t msg, const struct sockaddr_in6 *addr_blk,
			const uint8_t *sdata, size_t slen, const uint8_t *sig,
			size_t siglen)
{
	uint64_t x = (uint64_t)nonce << 32 | nonce;
	struct ssu2_long_hdr h = {
		.dst_id = swap ? ~x : x, .src_id = swap ? x : ~x,
		.type = SSU2_PEER_TEST, .ver = SSU2_VERSION,
		.netid = n->cfg.netid, .pkt_num = (uint32_t)rand_u64(),
		.token = rand_u64(),
	};
	struct bbuf pl = BBUF_INIT;
	uint8_t pkt[SSU2_MAX_PACKET_BYTES];
	size_t len;

	ssu2_blk_put_datetime(&pl, now_s());
	if (addr_blk)
		put_addr_block(&pl, addr_blk);
	ssu2_pt_put(&pl, msg, SSU2_PT_ACCEPT, NULL, sdata, slen, sig, siglen);
	if (ssu2_oos_encrypt(&h, key, pl.data, pl.len, pkt, sizeof(pkt),
			     &len) == 0) {
		send_raw(n, to, pkt, len);
		/* As Charlie, message 5 opens our NAT to Alice: her own
		 * peer test through us as Charlie would prove nothing. */
		flow_note(n, to);
	}
	bbuf_free(&pl);
}

static struct sess *sess_up_by_id(struct ssu2 *n, uint64_t id)
{
	struct sess *s = sess_by_id(n, id);

	return s && s->state == S_ESTABLISHED && s->keyed ? s : NULL;
}

static void set_reach(struct ssu2 *n, enum ssu2_reach r)
{
	bool fw = n->firewalled, was_ok = n->reach == SSU2_REACH_OK;

	if (n->reach != r)
		log_notice(LD_SSU2, "peer test: %s", ssu2_reach_name(r));
	n->reach = r;
	if (r == SSU2_REACH_OK)
		fw = false;
	else if (r == SSU2_REACH_FIREWALLED)
		fw = true;
	/* Firewalled or not, and reachable (we may introduce) or not,
	 * change what we publish. */
	if (fw != n->firewalled || was_ok != (r == SSU2_REACH_OK)) {
		n->firewalled = fw;
		intro_note_change(n);
	}
}

/* The result of an IPv6 test: kept apart (IPv4's decides introducers
 * and caps); the embedder hears of a change to or from reachable. */
static void set_reach6(struct ssu2 *n, enum ssu2_reach r)
{
	bool was_ok = n->reach6 == SSU2_REACH_OK, fw = n->firewalled6;

	if (n->reach6 != r)
		log_notice(LD_SSU2, "peer test (IPv6): %s",
			   ssu2_reach_name(r));
	n->reach6 = r;
	if (r == SSU2_REACH_OK)
		fw = false;
	else if (r == SSU2_REACH_FIREWALLED)
		fw = true;
	if (fw != n->firewalled6 || was_ok != (r == SSU2_REACH_OK)) {
		n->firewalled6 = fw;
		intro_note_change(n);
	}
}

/* Alice: the result of test t, for its family. */
static void pt_set_reach(struct ssu2 *n, const struct ptest *t,
			 enum ssu2_reach r)
{
	if (t->v6)
		set_reach6(n, r);
	else
		set_reach(n, r);
}

static enum ssu2_reach pt_reach(const struct ssu2 *n, const struct ptest *t)
{
	return t->v6 ? n->reach6 : n->reach;
}

/* Alice: Bob said yes and Charlie wrote: answer Charlie (message 6). */
static void pt_alice_msg6(struct ssu2 *n, struct ptest *t)
{
	if (t->sent6 || !t->got4 || !t->got5 || !t->have_charlie)
		return;
	t->sent6 = true;
	pt_send_out(n, &t->charlie_addr, t->charlie_ik, t->nonce, true, 6,
		    &t->charlie_addr, t->sdata, t->slen, NULL, 0);
}

/* Bob: choose a Charlie: another established session whose router
 * offers peer testing. */
static struct sess *pt_pick_charlie(struct ssu2 *n, const struct sess *alice,
				    int family)
{
	for (struct sess *c = n->sessions; c; c = c->next) {
		bool b = false;

		if (c == alice || c->state != S_ESTABLISHED || !c->keyed ||
		    memcmp(c->peer_rh, alice->peer_rh, 32) == 0)
			continue;
		/* "Bob must select a Charlie that advertises an address
		 * of the family" of Alice's test */
		if (ri_look_family(c->peer_ri, c->peer_ri_len, family, NULL,
				   &b, NULL, NULL, 0, NULL, 0) == 0 && b)
			return c;
	}
	return NULL;
}

static void pt_bob_msg1(struct sess *s, const struct ssu2_pt *pt)
{
	struct ssu2 *n = s->n;
	static const uint8_t zero[32];
	struct sess *c;
	struct ptest *t;
	bool v6;

	/* Alice signed for us: "Signature of prologue, Bob's hash, and
	 * signed data above, as signed by Alice". */
	if (!pt_check_sig(s->peer_ri, s->peer_ri_len, n->cfg.rh, NULL, pt,
			  NULL)) {
		pt_send_in(s, NULL, 0, 4, SSU2_PT_BOB_SIGNATURE, zero,
			   pt->sdata, pt->slen, NULL, 0);
		return;
	}
	/* "Bob should validate this IP and port, and reject with code 5 if
	 * invalid ... for IPv4, it matches Alice's IP"; no privileged port.
	 * The test is of the family of our session with Alice. */
	v6 = !addr_is_v4(&s->peer);
	if (pt->iplen != (v6 ? 16 : 4) ||
	    memcmp(pt->ip, s->peer.sin6_addr.s6_addr + (v6 ? 0 : 12),
		   pt->iplen) != 0 ||
	    pt->port < 1024) {
		pt_send_in(s, NULL, 0, 4, SSU2_PT_BOB_ADDRESS, zero, pt->sdata,
			   pt->slen, NULL, 0);
		return;
	}
	c = pt_pick_charlie(n, s, v6 ? AF_INET6 : AF_INET);
	t = c ? pt_new(n, PT_BOB, pt->nonce) : NULL;
	if (!t) {
		pt_send_in(s, NULL, 0, 4, c ? SSU2_PT_BOB_LIMIT :
			   SSU2_PT_BOB_NO_CHARLIE, zero, pt->sdata, pt->slen,
			   NULL, 0);
		return;
	}
	t->alice_id = s->id;
	t->charlie_id = c->id;
	memcpy(t->alice_hash, s->peer_rh, 32);
	/* "Bob must send Alice's RI to Charlie prior to sending message
	 * 2." */
	pt_send_in(c, s->peer_ri, s->peer_ri_len, 2, SSU2_PT_ACCEPT,
		   s->peer_rh, pt->sdata, pt->slen, pt->sig, pt->siglen);
	n->st.pt_relayed++;
}

static void pt_bob_msg3(struct sess *s, const struct ssu2_pt *pt)
{
	struct ssu2 *n = s->n;
	struct ptest *t = pt_find(n, PT_BOB, pt->nonce);
	struct sess *a;

	if (!t || t->charlie_id != s->id)
		return;
	if ((a = sess_up_by_id(n, t->alice_id)) != NULL)
		/* "Bob must send Charlie's RI to Alice prior to sending
		 * message 4, if accepted" */
		pt_send_in(a, pt->code == SSU2_PT_ACCEPT ? s->peer_ri : NULL,
			   s->peer_ri_len, 4, pt->code, s->peer_rh, pt->sdata,
			   pt->slen, pt->sig, pt->siglen);
	t->role = PT_NONE;
}

/* A session with router `hash` in any state. */
static bool have_sess_with(const struct ssu2 *n, const uint8_t *hash)
{
	for (const struct sess *c = n->sessions; c; c = c->next)
		if (memcmp(c->peer_rh, hash, 32) == 0)
			return true;
	return false;
}

static void pt_charlie_msg2(struct sess *s, const struct ssu2_pt *pt)
{
	struct ssu2 *n = s->n;
	struct router_address_ssu2 a;
	struct ed25519_sig sig;
	struct ptest *t = NULL;
	uint8_t code = SSU2_PT_ACCEPT, ahash[32];
	bool known = false;

	/* Alice's RouterInfo came just before, in a RouterInfo block. */
	if (s->last_ri && ri_hash(s->last_ri, s->last_ri_len, ahash) == 0 &&
	    memcmp(ahash, pt->hash, 32) == 0)
		known = true;
	if (!known)
		code = SSU2_PT_CHARLIE_UNKNOWN;
	else if (!pt_check_sig(s->last_ri, s->last_ri_len, s->peer_rh, NULL,
			       pt, &a))
		code = SSU2_PT_CHARLIE_SIGNATURE;
	else if ((pt->iplen != 4 && pt->iplen != 16) ||
		 (pt->iplen == 4 ? n->fd : n->fd6) < 0)
		code = SSU2_PT_CHARLIE_ADDRESS;	/* a family we lack */
	else if (have_sess_with(n, pt->hash))
		code = SSU2_PT_CHARLIE_CONNECTED;	/* proves nothing */
	else if (!(t = pt_new(n, PT_CHARLIE, pt->nonce)))
		code = SSU2_PT_CHARLIE_LIMIT;
	/* message 3: Charlie signs prologue, Bob's hash, Alice's hash and
	 * the signed data. */
	pt_sign(n, s->peer_rh, pt->hash, pt->sdata, pt->slen, &sig);
	pt_send_in(s, NULL, 0, 3, code, NULL, pt->sdata, pt->slen, sig.b,
		   sizeof(sig.b));
	if (code != SSU2_PT_ACCEPT)
		return;
	memcpy(t->alice_ik, a.ik, 32);
	t->v6 = pt->iplen == 16;
	addr_set(&t->alice_addr, pt->ip, pt->iplen, pt->port);
	memcpy(t->sdata, pt->sdata, pt->slen);
	t->slen = pt->slen;
	/* message 5, straight to Alice's address: this is the test. */
	pt_send_out(n, &t->alice_addr, t->alice_ik, pt->nonce, false, 5, NULL,
		    pt->sdata, pt->slen, sig.b, sizeof(sig.b));
	n->st.pt_answered++;
}

static void pt_alice_msg4(struct sess *s, const struct ssu2_pt *pt)
{
	struct ssu2 *n = s->n;
	struct ptest *t = pt_find(n, PT_ALICE, pt->nonce);
	struct router_address_ssu2 a;
	uint8_t chash[32];

	if (!t || t->bob_id != s->id || t->got4)
		return;
	n->st.pt_msg4++;
	if (pt->code != SSU2_PT_ACCEPT) {
		log_info(LD_SSU2, "peer test refused (code %u)",
			 (unsigned)pt->code);
		n->st.pt_rejected++;
		t->role = PT_NONE;
		if (pt_reach(n, t) == SSU2_REACH_TESTING)
			pt_set_reach(n, t, SSU2_REACH_UNKNOWN);
		return;
	}
	t->got4 = true;
	t->msg4_ms = now_ms();
	/* Charlie's RouterInfo came just before (or we know it); its
	 * address of the test's family. */
	if (s->last_ri &&
	    ri_look_family(s->last_ri, s->last_ri_len,
			   t->v6 ? AF_INET6 : AF_INET, &a, NULL, chash, NULL,
			   0, NULL, 0) == 0 && memcmp(chash, pt->hash, 32) == 0 &&
	    a.published && a.family == (t->v6 ? AF_INET6 : AF_INET) &&
	    addr_parse(&t->charlie_addr, a.host, a.port) == 0) {
		memcpy(t->charlie_ik, a.ik, 32);
		t->have_charlie = true;
		if (flow_open(n, &t->charlie_addr))
			t->moot = true;
	}
	if (have_sess_with(n, pt->hash))
		t->moot = true;
	if (t->moot)
		log_info(LD_SSU2, "peer test: Charlie has a flow with us, "
			 "no verdict");
	pt_alice_msg6(n, t);
}

static void pt_in_session(struct sess *s, const struct ssu2_block *b)
{
	struct ssu2_pt pt;
	int r;

	if (!s->n->cfg.ks || s->state != S_ESTABLISHED)
		return;
	if ((r = ssu2_pt_decode(b, &pt)) != 0) {
		sess_log(s, "bad PeerTest block", r);
		return;
	}
	switch (pt.msg) {
	case 1:
		pt_bob_msg1(s, &pt);
		break;
	case 2:
		pt_charlie_msg2(s, &pt);
		break;
	case 3:
		pt_bob_msg3(s, &pt);
		break;
	case 4:
		pt_alice_msg4(s, &pt);
		break;
	default:	/* 5-7 are out of session */
		sess_log(s, "PeerTest message in session", ERR_PROTOCOL);
		break;
	}
}

static bool pt_out_of_session(struct ssu2 *n, uint8_t *p, size_t len,
			      const struct sockaddr_in6 *from)
{
	static uint8_t plain[SSU2_MAX_PACKET_BYTES];
	static struct ssu2_payload pl;
	struct ssu2_long_hdr h;
	struct ssu2_pt pt;
	struct ptest *t;
	size_t plen, i;
	uint64_t x;

	ssu2_hp_long(p, len, n->cfg.ik, 16);
	ssu2_long_hdr_decode(p, &h);
	if (!n->cfg.ks || h.ver != SSU2_VERSION ||
	    ssu2_oos_decrypt(p, len, n->cfg.ik, plain, sizeof(plain),
			     &plen) != 0)
		return false;
	if (ssu2_payload_decode(plain, plen, false, &pl) != 0) {
		n->st.dropped++;
		return true;
	}
	for (i = 0; i < pl.n && pl.b[i].type != SSU2_BLK_PEER_TEST; i++)
		;
	if (i == pl.n || ssu2_pt_decode(&pl.b[i], &pt) != 0) {
		n->st.dropped++;
		return true;
	}
	x = (uint64_t)pt.nonce << 32 | pt.nonce;
	switch (pt.msg) {
	case 5:		/* Charlie -> Alice: we are reachable */
		if (h.dst_id != x || !(t = pt_find(n, PT_ALICE, pt.nonce)))
			break;
		/* From an address we have (or recently had) a session
		 * with, it came through the flow that session opened in a
		 * NAT: it proves nothing either way. */
		if (flow_open(n, from)) {
			t->moot = true;
			return true;
		}
		n->st.pt_msg5++;
		t->got5 = true;
		pt_set_reach(n, t, SSU2_REACH_OK);
		pt_alice_msg6(n, t);
		return true;
	case 6:		/* Alice -> Charlie: answer from where it came */
		if (h.dst_id != ~x ||
		    !(t = pt_find(n, PT_CHARLIE, pt.nonce)))
			break;
		n->st.pt_msg6++;
		pt_send_out(n, from, t->alice_ik, pt.nonce, false, 7, from,
			    t->sdata, t->slen, NULL, 0);
		t->role = PT_NONE;
		return true;
	case 7:		/* Charlie -> Alice: the address Charlie saw */
		if (h.dst_id != x || !(t = pt_find(n, PT_ALICE, pt.nonce)))
			break;
		n->st.pt_msg7++;
		for (i = 0; i < pl.n; i++)
			if (pl.b[i].type == SSU2_BLK_ADDRESS)
				note_address(n, &pl.b[i]);
		t->role = PT_NONE;
		return true;
	default:
		break;
	}
	n->st.dropped++;
	return true;
}

/* Expire tests; Alice decides "firewalled" when message 5 never came. */
static void pt_timer_cb(void *arg)
{
	struct ssu2 *n = arg;
	uint64_t now = now_ms();
	bool active = false;

	for (size_t i = 0; i < SSU2_PT_MAX; i++) {
		struct ptest *t = &n->pt[i];

		if (t->role == PT_NONE)
			continue;
		if (t->role == PT_ALICE && t->got4 && !t->got5 && !t->moot &&
		    now - t->msg4_ms >= SSU2_PT_WAIT_MS) {
			pt_set_reach(n, t, SSU2_REACH_FIREWALLED);
			t->role = PT_NONE;
			continue;
		}
		if (now - t->started_ms >= n->cfg.pt_timeout_ms) {
			if (t->role == PT_ALICE && !t->got5 &&
			    pt_reach(n, t) == SSU2_REACH_TESTING)
				pt_set_reach(n, t, SSU2_REACH_UNKNOWN);
			t->role = PT_NONE;
			continue;
		}
		active = true;
	}
	if (active)
		evloop_timer_arm(n->pt_timer, 500);
}

int ssu2_peer_test(struct ssu2 *n, const uint8_t *bob_hash)
{
	return ssu2_peer_test_family(n, AF_INET, bob_hash);
}

int ssu2_peer_test_family(struct ssu2 *n, int family, const uint8_t *bob_hash)
{
	uint8_t sdata[SSU2_PT_SDATA_MAX_BYTES];
	struct ed25519_sig sig;
	struct ptest *t;
	struct sess *bob = NULL;
	bool v6 = family == AF_INET6;
	const struct ext_addr *e = &n->ext[v6];
	size_t slen;
	uint32_t nonce;

	if (!n->cfg.ks || !e->have)
		return ERR_BAD_STATE;
	/* "Alice sends the request to Bob over the transport (IPv4 or
	 * IPv6) that she wishes to test" */
	for (struct sess *s = n->sessions; s && !bob; s = s->next) {
		bool b = false;

		if (s->state != S_ESTABLISHED || !s->keyed ||
		    addr_is_v4(&s->peer) == v6)
			continue;
		if (bob_hash ? memcmp(s->peer_rh, bob_hash, 32) == 0 :
		    (ri_look_family(s->peer_ri, s->peer_ri_len, family, NULL,
				    &b, NULL, NULL, 0, NULL, 0) == 0 && b))
			bob = s;
	}
	if (!bob)
		return ERR_NOT_FOUND;
	do
		nonce = (uint32_t)rand_u64();
	while (nonce == 0 || pt_find(n, PT_ALICE, nonce));
	if (!(t = pt_new(n, PT_ALICE, nonce)))
		return ERR_LIMIT;
	t->bob_id = bob->id;
	t->v6 = v6;
	/* "message 1 must include Alice's IP address and port": the one
	 * peers see (Address blocks). */
	slen = ssu2_pt_sdata(sdata, nonce, now_s(), e->ip, e->iplen, e->port);
	memcpy(t->sdata, sdata, slen);
	t->slen = slen;
	pt_sign(n, bob->peer_rh, NULL, sdata, slen, &sig);
	pt_send_in(bob, NULL, 0, 1, SSU2_PT_ACCEPT, NULL, sdata, slen, sig.b,
		   sizeof(sig.b));
	n->st.pt_started++;
	if (pt_reach(n, t) != SSU2_REACH_OK)
		pt_set_reach(n, t, SSU2_REACH_TESTING);
	return 0;
}

enum ssu2_reach ssu2_reachability_family(const struct ssu2 *n, int family)
{
	return family == AF_INET6 ? n->reach6 : n->reach;
}

enum ssu2_reach ssu2_reachability(const struct ssu2 *n)
{
	return n->reach;
}

const char *ssu2_reach_name(enum ssu2_reach r)
{
	switch (r) {
	case SSU2_REACH_UNKNOWN:
		return "unknown";
	case SSU2_REACH_TESTING:
		return "testing";
	case SSU2_REACH_OK:
		return "reachable";
	case SSU2_REACH_FIREWALLED:
		return "firewalled";
	}
	return "?";
}

/* ---- relay ("Relay Process") ---- */

/* The peer's SSU2 address of our session's family has cap ch ("B": peer
 * test, "C": introducer). */
static bool ri_has_cap(const struct sess *s, char ch)
{
	struct router_address_ssu2 a;

	return s->peer_ri &&
	       ri_look_family(s->peer_ri, s->peer_ri_len,
			      addr_is_v4(&s->peer) ? AF_INET : AF_INET6, &a,
			      NULL, NULL, NULL, 0, NULL, 0) == 0 &&
	       strchr(a.caps, ch) != NULL;
}

/* An established session with the router whose hash is h. */
static struct sess *sess_up_by_hash(struct ssu2 *n, const uint8_t h[32])
{
	for (struct sess *s = n->sessions; s; s = s->next)
		if (s->state == S_ESTABLISHED && s->keyed &&
		    memcmp(s->peer_rh, h, 32) == 0)
			return s;
	return NULL;
}

static void relay_sign(struct ssu2 *n, const char *prologue,
		       const uint8_t bhash[32], const uint8_t *chash,
		       const uint8_t *sdata, size_t slen,
		       struct ed25519_sig *sig)
{
	struct bbuf m = BBUF_INIT;

	ssu2_relay_sigmsg(&m, prologue, bhash, chash, sdata, slen);
	keystore_sign(n->cfg.ks, sig, m.data, m.len);
	bbuf_free(&m);
}

static bool relay_check(const uint8_t *ri, size_t rilen, const char *prologue,
			const uint8_t bhash[32], const uint8_t *chash,
			const uint8_t *sdata, size_t slen, const uint8_t *sig,
			size_t siglen, struct router_address_ssu2 *a)
{
	struct bbuf m = BBUF_INIT;
	int r;

	/* (a: the signer's IPv4 address, else its IPv6 one: its intro key
	 * is what is used of it) */
	ssu2_relay_sigmsg(&m, prologue, bhash, chash, sdata, slen);
	r = ri_look(ri, rilen, a, NULL, NULL, m.data, m.len, sig, siglen);
	if (r == ERR_NOT_FOUND)
		r = ri_look_family(ri, rilen, AF_INET6, a, NULL, NULL, m.data,
				   m.len, sig, siglen);
	bbuf_free(&m);
	return r == 0;
}

/* Send blocks in session: a RouterInfo first when given, then pl2. */
static void relay_send_in(struct sess *s, const uint8_t *ri, size_t rilen,
			  const struct bbuf *blk)
{
	struct bbuf pl = BBUF_INIT, z = BBUF_INIT;

	if (ri) {
		if (SSU2_BLOCK_HEADER_BYTES + 2 + rilen + blk->len <=
		    payload_max(s->n))
			ssu2_blk_put_ri(&pl, 0, ri, rilen);
		else if (gzip_compress(ri, rilen, &z) == 0)
			ssu2_blk_put_ri(&pl, SSU2_RI_FLAG_GZIP, z.data, z.len);
		bbuf_free(&z);
	}
	bbuf_put(&pl, blk->data, blk->len);
	if (pl.len <= payload_max(s->n))
		(void)send_data(s, &s->peer, &pl, 0);
	bbuf_free(&pl);
}

/* Bob: a RelayResponse of our own (a rejection, signed by us). */
static void relay_bob_reject(struct sess *a, uint32_t nonce, uint8_t code)
{
	struct ssu2 *n = a->n;
	uint8_t sd[SSU2_RELAY_SDATA_MAX_BYTES];
	struct ed25519_sig sig;
	struct bbuf blk = BBUF_INIT;
	size_t sl = ssu2_relay_resp_sdata(sd, nonce, now_s(), NULL, 0, 0);

	relay_sign(n, SSU2_RELAY_RESP_PROLOGUE, n->cfg.rh, NULL, sd, sl, &sig);
	ssu2_relay_put_resp(&blk, code, sd, sl, sig.b, sizeof(sig.b), 0);
	relay_send_in(a, NULL, 0, &blk);
	bbuf_free(&blk);
}

/* Bob: the peer asks for a relay tag ("Relay Tag Request"). */
static void relay_bob_tag(struct sess *s)
{
	struct bbuf pl = BBUF_INIT;

	if (!s->tag_for_peer)
		do
			s->tag_for_peer = (uint32_t)rand_u64();
		while (s->tag_for_peer == 0);
	ssu2_blk_put_relay_tag(&pl, s->tag_for_peer);
	(void)send_data(s, &s->peer, &pl, 0);
	bbuf_free(&pl);
	s->n->st.relay_tags_given++;
	log_info(LD_SSU2, "relay: relay tag given to %02x%02x%02x%02x "
		 "(session %llu)", s->peer_rh[0], s->peer_rh[1],
		 s->peer_rh[2], s->peer_rh[3], (unsigned long long)s->id);
}

/* Bob: Alice asks to be introduced to the holder of a tag. */
static void relay_bob_request(struct sess *a, const struct ssu2_block *b)
{
	struct ssu2 *n = a->n;
	struct ssu2_relay_req rq;
	struct sess *c = NULL;
	struct bbuf blk = BBUF_INIT;

	if (ssu2_relay_req_decode(b, &rq) != 0 || rq.has_hash)
		return;
	for (struct sess *s = n->sessions; s && !c; s = s->next)
		if (s->state == S_ESTABLISHED && s->keyed &&
		    s->tag_for_peer == rq.tag)
			c = s;
	if (!c) {
		relay_bob_reject(a, rq.nonce, SSU2_RELAY_BOB_NO_TAG);
		return;
	}
	/* Alice signed "bhash, chash": ours and Charlie's. */
	if (!relay_check(a->peer_ri, a->peer_ri_len, SSU2_RELAY_REQ_PROLOGUE,
			 n->cfg.rh, c->peer_rh, rq.sdata, rq.slen, rq.sig,
			 rq.siglen, NULL)) {
		relay_bob_reject(a, rq.nonce, SSU2_RELAY_BOB_SIGNATURE);
		return;
	}
	for (size_t i = 0; i < SSU2_PT_MAX; i++)
		if (n->relays[i].alice_id == 0 ||
		    now_ms() - n->relays[i].started_ms > SSU2_PT_TIMEOUT_MS) {
			n->relays[i].alice_id = a->id;
			n->relays[i].nonce = rq.nonce;
			n->relays[i].started_ms = now_ms();
			break;
		}
	/* RelayIntro: "Must be preceded by ... Alice's Router Info". */
	ssu2_relay_put_req(&blk, a->peer_rh, rq.sdata, rq.slen, rq.sig,
			   rq.siglen);
	relay_send_in(c, a->peer_ri, a->peer_ri_len, &blk);
	bbuf_free(&blk);
	n->st.relays_forwarded++;
	log_info(LD_SSU2, "relay: Relay Request from Alice %02x%02x%02x%02x "
		 "sent on to Charlie %02x%02x%02x%02x (session %llu)",
		 a->peer_rh[0], a->peer_rh[1], a->peer_rh[2], a->peer_rh[3],
		 c->peer_rh[0], c->peer_rh[1], c->peer_rh[2], c->peer_rh[3],
		 (unsigned long long)c->id);
}

/* Bob: Charlie answered; hand it to Alice unchanged. */
static void relay_bob_response(struct sess *c, const struct ssu2_block *b,
			       const struct ssu2_relay_resp *rs)
{
	struct ssu2 *n = c->n;
	struct bbuf blk = BBUF_INIT;
	struct sess *a = NULL;

	for (size_t i = 0; i < SSU2_PT_MAX; i++)
		if (n->relays[i].alice_id && n->relays[i].nonce == rs->nonce) {
			a = sess_up_by_id(n, n->relays[i].alice_id);
			n->relays[i].alice_id = 0;
			break;
		}
	if (!a)
		return;
	ssu2_blk_put(&blk, SSU2_BLK_RELAY_RESPONSE, b->data, b->len);
	relay_send_in(a, rs->code == SSU2_RELAY_ACCEPT ? c->peer_ri : NULL,
		      c->peer_ri_len, &blk);
	bbuf_free(&blk);
	log_info(LD_SSU2, "relay: Relay Response from Charlie "
		 "%02x%02x%02x%02x (code %u) sent on to Alice %02x%02x%02x%02x",
		 c->peer_rh[0], c->peer_rh[1], c->peer_rh[2], c->peer_rh[3],
		 (unsigned)rs->code, a->peer_rh[0], a->peer_rh[1],
		 a->peer_rh[2], a->peer_rh[3]);
}

/* Charlie: Bob introduces Alice: answer Bob and punch a hole to her. */
static void relay_charlie_intro(struct sess *s, const struct ssu2_block *b)
{
	struct ssu2 *n = s->n;
	struct ssu2_relay_req rq;
	struct router_address_ssu2 aa;
	struct sockaddr_in6 alice;
	uint8_t sd[SSU2_RELAY_SDATA_MAX_BYTES], ahash[32], code;
	struct ed25519_sig sig;
	struct bbuf blk = BBUF_INIT, pl = BBUF_INIT;
	uint64_t tok = rand_id();
	size_t sl;

	if (ssu2_relay_req_decode(b, &rq) != 0 || !rq.has_hash)
		return;
	code = SSU2_RELAY_ACCEPT;
	if (!s->tag_from_peer || rq.tag != s->tag_from_peer)
		code = SSU2_RELAY_CHARLIE_UNSPEC;
	else if (!s->last_ri ||
		 ri_hash(s->last_ri, s->last_ri_len, ahash) != 0 ||
		 memcmp(ahash, rq.hash, 32) != 0)
		code = SSU2_RELAY_CHARLIE_UNKNOWN;
	else if (!relay_check(s->last_ri, s->last_ri_len,
			      SSU2_RELAY_REQ_PROLOGUE, s->peer_rh, n->cfg.rh,
			      rq.sdata, rq.slen, rq.sig, rq.siglen, &aa))
		code = SSU2_RELAY_CHARLIE_SIGNATURE;
	else if ((rq.iplen != 4 && rq.iplen != 16) ||
		 (rq.iplen == 4 ? n->fd : n->fd6) < 0 ||
		 !n->ext[rq.iplen == 16].have)
		code = SSU2_RELAY_CHARLIE_ADDRESS;	/* a family we lack */
	else if (sess_up_by_hash(n, rq.hash))
		code = SSU2_RELAY_CHARLIE_CONNECTED;
	sl = ssu2_relay_resp_sdata(sd, rq.nonce, now_s(),
				   code == SSU2_RELAY_ACCEPT ?
				   n->ext[rq.iplen == 16].ip : NULL,
				   rq.iplen == 16 ? 16 : 4,
				   n->ext[rq.iplen == 16].port);
	relay_sign(n, SSU2_RELAY_RESP_PROLOGUE, s->peer_rh, NULL, sd, sl, &sig);
	ssu2_relay_put_resp(&blk, code, sd, sl, sig.b, sizeof(sig.b), tok);
	relay_send_in(s, NULL, 0, &blk);
	if (code == SSU2_RELAY_ACCEPT) {
		uint64_t x = (uint64_t)rq.nonce << 32 | rq.nonce;
		struct ssu2_long_hdr h = {
			.dst_id = x, .src_id = ~x, .type = SSU2_HOLE_PUNCH,
			.ver = SSU2_VERSION, .netid = n->cfg.netid,
			.pkt_num = (uint32_t)rand_u64(), .token = rand_id(),
		};
		uint8_t pkt[SSU2_MAX_PACKET_BYTES];
		size_t len;

		addr_set(&alice, rq.ip, rq.iplen, rq.port);
		/* Alice's SessionRequest will carry this token. */
		token_put(&n->issued, &alice, tok,
			  now_s() + n->cfg.retry_token_lifetime_s * 6);
		ssu2_blk_put_datetime(&pl, now_s());
		ssu2_blk_put_address(&pl, rq.ip, rq.iplen, rq.port);
		bbuf_put(&pl, blk.data, blk.len);
		if (ssu2_oos_encrypt(&h, aa.ik, pl.data, pl.len, pkt,
				     sizeof(pkt), &len) == 0) {
			send_raw(n, &alice, pkt, len);
			flow_note(n, &alice);
		}
		n->st.relays_answered++;
	}
	log_info(LD_SSU2, "relay: Relay Intro for Alice %02x%02x%02x%02x "
		 "from session %llu: code %u%s", rq.hash[0], rq.hash[1],
		 rq.hash[2], rq.hash[3], (unsigned long long)s->id,
		 (unsigned)code,
		 code == SSU2_RELAY_ACCEPT ? ", Hole Punch sent" : "");
	bbuf_free(&blk);
	bbuf_free(&pl);
}

/* Alice: forget the introducer that refused (s->relay_bob); true when
 * Charlie has others left to ask. */
static bool relay_drop_intro(struct sess *s)
{
	size_t k = 0;

	for (size_t i = 0; i < s->relay_nintro; i++)
		if (memcmp(s->relay_intro[i].h, s->relay_bob, 32) != 0)
			s->relay_intro[k++] = s->relay_intro[i];
	s->relay_nintro = k;
	return k > 0;
}

/* Alice: Charlie's Relay Response, through Bob or in Charlie's Hole Punch
 * (hp_from: where that came from, NULL through Bob): on "accept", the
 * SessionRequest goes to Charlie's address with Charlie's token; Bob's
 * refusal sends us to Charlie's next introducer. */
static void relay_alice_response(struct ssu2 *n, const struct ssu2_relay_resp *rs,
				 const struct sockaddr_in6 *hp_from)
{
	struct sess *s;

	for (s = n->sessions; s; s = s->next)
		if ((s->state == S_RELAY ||
		     (hp_from && s->state == S_REQ_SENT)) && s->relay_nonce &&
		    s->relay_nonce == rs->nonce)
			break;
	if (!s)
		return;
	if (s->state == S_REQ_SENT) {
		/* The Hole Punch after the Relay Response through Bob: if it
		 * came from elsewhere, that is the way through Charlie's
		 * NAT (see below) */
		if (rs->code == SSU2_RELAY_ACCEPT &&
		    addr_is_v4(hp_from) != s->relay_v6 &&
		    !addr_eq(hp_from, &s->peer) &&
		    relay_check(s->peer_ri, s->peer_ri_len,
				SSU2_RELAY_RESP_PROLOGUE, s->relay_bob, NULL,
				rs->sdata, rs->slen, rs->sig, rs->siglen, NULL)) {
			log_info(LD_SSU2, "relay: Charlie's Hole Punch came "
				 "from port %u after its Relay Response named "
				 "%u: SessionRequest again, to the Hole Punch's",
				 ntohs(hp_from->sin6_port),
				 ntohs(s->peer.sin6_port));
			s->peer = *hp_from;
			resend_hs(s);
			sess_rearm(s);
		}
		return;
	}
	if (rs->code != SSU2_RELAY_ACCEPT) {
		n->st.relays_refused++;
		if (!hp_from && rs->code < SSU2_RELAY_CHARLIE_UNSPEC &&
		    relay_drop_intro(s)) {
			/* Bob refused (a stale tag, a limit): another of
			 * Charlie's introducers may not */
			log_info(LD_SSU2, "relay: introducer %02x%02x%02x%02x "
				 "refused (code %u), asking another",
				 s->relay_bob[0], s->relay_bob[1],
				 s->relay_bob[2], s->relay_bob[3],
				 (unsigned)rs->code);
			s->relay_nonce = 0;
			relay_wait(s);
			if (!s->closed)
				sess_rearm(s);
			return;
		}
		sess_log(s, "relay refused", 0);
		sess_kill(s);
		return;
	}
	/* Charlie signed "Bob's hash" and the data. */
	if (rs->iplen != (s->relay_v6 ? 16 : 4) || !rs->has_token ||
	    !relay_check(s->peer_ri, s->peer_ri_len, SSU2_RELAY_RESP_PROLOGUE,
			 s->relay_bob, NULL, rs->sdata, rs->slen, rs->sig,
			 rs->siglen, NULL)) {
		sess_log(s, "bad RelayResponse", ERR_BAD_SIG);
		sess_kill(s);
		return;
	}
	addr_set(&s->peer, rs->ip, rs->iplen, rs->port);
	/* The Hole Punch came through Charlie's NAT from the address that
	 * lets our SessionRequest in; a NAT may have mapped it to another
	 * port than the one Charlie knows of itself. */
	if (hp_from && addr_is_v4(hp_from) != s->relay_v6 &&
	    !addr_eq(hp_from, &s->peer)) {
		log_info(LD_SSU2, "relay: Charlie's Hole Punch came from port "
			 "%u, its Relay Response names %u: using the Hole "
			 "Punch's", ntohs(hp_from->sin6_port), rs->port);
		s->peer = *hp_from;
	}
	log_debug(LD_SSU2, "relay: Relay Response %s accepted: SessionRequest "
		  "to Charlie's port %u", hp_from ? "in the Hole Punch" :
		  "through Bob", ntohs(s->peer.sin6_port));
	n->st.relays_done++;
	if (send_request(s, rs->token) != 0)
		sess_kill(s);
	else
		sess_rearm(s);
}

static void relay_in_session(struct sess *s, const struct ssu2_block *b)
{
	struct ssu2_relay_resp rs;
	uint32_t tag;

	if (!s->n->cfg.ks || s->state != S_ESTABLISHED)
		return;
	switch (b->type) {
	case SSU2_BLK_RELAY_TAG_REQUEST:
		relay_bob_tag(s);
		break;
	case SSU2_BLK_RELAY_TAG:
		if (ssu2_relay_tag_decode(b, &tag) == 0 && tag) {
			s->tag_from_peer = tag;
			s->tag_got_s = now_s();
			s->tag_asked_ms = 0;
			s->n->st.relay_tags_got++;
			intro_note_change(s->n);
		}
		break;
	case SSU2_BLK_RELAY_REQUEST:
		relay_bob_request(s, b);
		break;
	case SSU2_BLK_RELAY_INTRO:
		relay_charlie_intro(s, b);
		break;
	case SSU2_BLK_RELAY_RESPONSE:
		if (ssu2_relay_resp_decode(b, &rs) != 0)
			break;
		/* From Charlie to us as Bob, or from Bob to us as Alice. */
		relay_bob_response(s, b, &rs);
		relay_alice_response(s->n, &rs, NULL);
		break;
	default:
		break;
	}
}

/* Alice: Charlie's Hole Punch (keyed with our intro key). */
static bool relay_hole_punch(struct ssu2 *n, uint8_t *p, size_t len,
			     const struct sockaddr_in6 *from)
{
	static uint8_t plain[SSU2_MAX_PACKET_BYTES];
	static struct ssu2_payload pl;
	struct ssu2_relay_resp rs;
	size_t plen;

	ssu2_hp_long(p, len, n->cfg.ik, 16);
	if (ssu2_oos_decrypt(p, len, n->cfg.ik, plain, sizeof(plain),
			     &plen) != 0)
		return false;
	if (ssu2_payload_decode(plain, plen, false, &pl) != 0) {
		n->st.dropped++;
		return true;
	}
	n->st.hole_punches++;
	for (size_t i = 0; i < pl.n; i++)
		if (pl.b[i].type == SSU2_BLK_RELAY_RESPONSE &&
		    ssu2_relay_resp_decode(&pl.b[i], &rs) == 0)
			relay_alice_response(n, &rs, from);
	return true;
}

/* Alice: ask Bob (an introducer named in Charlie's address) to
 * introduce us; s waits in S_RELAY. */
static int relay_start(struct ssu2 *n, struct sess *s,
		       const struct router_address_ssu2 *a)
{
	uint8_t sd[SSU2_RELAY_SDATA_MAX_BYTES];
	struct ed25519_sig sig;
	struct bbuf blk = BBUF_INIT;
	struct sess *bob = NULL;
	uint32_t tag = 0;
	size_t sl;

	if (!n->cfg.ks)
		return ERR_BAD_STATE;
	/* Kept for relay_wait(), and to ask another introducer when one
	 * refuses (relay_alice_response()). */
	s->relay_nintro = a->nintro < ROUTER_ADDRESS_SSU2_MAX_INTRODUCERS ?
			  a->nintro : ROUTER_ADDRESS_SSU2_MAX_INTRODUCERS;
	memmove(s->relay_intro, a->intro,
		s->relay_nintro * sizeof(a->intro[0]));
	for (size_t i = 0; i < s->relay_nintro && !bob; i++)
		if ((bob = sess_up_by_hash(n, s->relay_intro[i].h)) != NULL)
			tag = s->relay_intro[i].tag;
	if (!bob || !n->ext[s->relay_v6].have) {
		/* Wait: relay_wait() dials the introducers, and an
		 * introducer's session (whose Address block tells us our
		 * address) brings us back here. */
		s->relay_nonce = 0;
		s->state = S_RELAY;
		s->hs_next_ms = now_ms();
		return 0;
	}
	do
		s->relay_nonce = (uint32_t)rand_u64();
	while (s->relay_nonce == 0);
	memcpy(s->relay_bob, bob->peer_rh, 32);
	/* our address of the family we want to reach Charlie on */
	sl = ssu2_relay_req_sdata(sd, s->relay_nonce, tag, now_s(),
				  n->ext[s->relay_v6].ip,
				  n->ext[s->relay_v6].iplen,
				  n->ext[s->relay_v6].port);
	relay_sign(n, SSU2_RELAY_REQ_PROLOGUE, bob->peer_rh, s->peer_rh, sd,
		   sl, &sig);
	ssu2_relay_put_req(&blk, NULL, sd, sl, sig.b, sizeof(sig.b));
	relay_send_in(bob, NULL, 0, &blk);
	bbuf_free(&blk);
	s->state = S_RELAY;
	s->hs_next_ms = now_ms() + SSU2_DEFAULT_HANDSHAKE_TIMEOUT_MS;
	n->st.relays_asked++;
	return 0;
}

static void ask_relay_tag(struct sess *s)
{
	struct bbuf pl = BBUF_INIT;

	ssu2_blk_put(&pl, SSU2_BLK_RELAY_TAG_REQUEST, NULL, 0);
	(void)send_data(s, &s->peer, &pl, 0);
	bbuf_free(&pl);
	s->tag_asked_ms = now_ms();
}

int ssu2_request_relay_tag(struct ssu2 *n, const uint8_t *bob_hash)
{
	int sent = 0;

	for (struct sess *s = n->sessions; s; s = s->next) {
		if (s->state != S_ESTABLISHED || !s->keyed || s->tag_from_peer)
			continue;
		if (bob_hash ? memcmp(s->peer_rh, bob_hash, 32) != 0 :
		    !ri_has_cap(s, 'C'))
			continue;
		ask_relay_tag(s);
		sent++;
	}
	return sent ? 0 : ERR_NOT_FOUND;
}

/* Firewalled on family: renew the tags of that family's sessions near
 * their expiry, and ask its session peers with "C" for more while we
 * have fewer than SSU2_INTRO_MAX.  Returns the milliseconds until the
 * next renewal is due (at most SSU2_INTRO_CHECK_MS). */
static uint64_t intro_seek(struct ssu2 *n, int family)
{
	uint64_t now = now_s(), next = SSU2_INTRO_CHECK_MS;
	uint64_t life = n->cfg.intro_lifetime_s;
	uint64_t ahead = n->cfg.intro_refresh_s < life ?
			 n->cfg.intro_refresh_s : life / 2;
	size_t have = 0;
	struct sess *s;

	for (s = n->sessions; s; s = s->next) {
		bool asking = s->tag_asked_ms &&
			      now_ms() - s->tag_asked_ms < SSU2_INTRO_CHECK_MS;
		uint64_t renew;

		if (s->state != S_ESTABLISHED || !s->keyed ||
		    !s->tag_from_peer || sess_family(s) != family)
			continue;
		if (now >= s->tag_got_s + life) {
			/* Not renewed (i2pd answers a Relay Tag Request in
			 * SessionCreated only): a stale introducer, which we
			 * stop publishing.  Our own session is ended, so the
			 * want hook dials it again and asks in the
			 * SessionRequest. */
			s->tag_from_peer = 0;
			intro_note_change(n);
			if (!s->inbound)
				sess_terminate(s, SSU2_TERM_NORMAL);
			continue;
		}
		have++;
		renew = s->tag_got_s + life - ahead;
		if (now >= renew) {
			if (!asking)
				ask_relay_tag(s);
		} else if ((renew - now) * 1000 < next) {
			next = (renew - now) * 1000;
		}
	}
	for (s = n->sessions; s && have < SSU2_INTRO_MAX; s = s->next) {
		if (s->state != S_ESTABLISHED || !s->keyed ||
		    s->tag_from_peer || sess_family(s) != family ||
		    !ri_has_cap(s, 'C'))
			continue;
		/* A session from before we were firewalled, asked in the
		 * data phase without an answer for a whole period: i2pd
		 * gives tags only in SessionCreated.  End it, so that it is
		 * dialled again (the want hook) and asked in the
		 * SessionRequest. */
		if (s->tag_asked_ms && !s->tag_asked_hs && !s->inbound &&
		    now_ms() - s->tag_asked_ms >= SSU2_INTRO_CHECK_MS) {
			sess_terminate(s, SSU2_TERM_NORMAL);
			continue;
		}
		if (!s->tag_asked_ms ||
		    now_ms() - s->tag_asked_ms >= SSU2_INTRO_CHECK_MS)
			ask_relay_tag(s);
		have++;
	}
	/* Our handshakes with routers with "C" ask in SessionRequest. */
	for (s = n->sessions; s && have < SSU2_INTRO_MAX; s = s->next)
		if ((s->state == S_TOKEN_REQ || s->state == S_REQ_SENT) &&
		    sess_family(s) == family && ri_has_cap(s, 'C'))
			have++;
	/* Still short: the embedder dials routers with "C" (from the loop,
	 * after our walks over the session list). */
	if (have < SSU2_INTRO_MAX && n->want_fn)
		n->want_fn(n->want_ctx, family, SSU2_INTRO_MAX - have);
	return next < 1000 ? 1000 : next;
}

static void intro_timer_cb(void *arg)
{
	struct ssu2 *n = arg;
	uint64_t next = 0;

	if (n->firewalled && !n->shutting_down)
		next = intro_seek(n, AF_INET);
	if (n->firewalled6 && !n->shutting_down) {
		uint64_t next6 = intro_seek(n, AF_INET6);

		if (!next || next6 < next)
			next = next6;
	}
	if (n->intro_changed) {
		n->intro_changed = false;
		if (n->intro_fn)
			n->intro_fn(n->intro_ctx);
	}
	if (next)
		evloop_timer_arm(n->intro_timer, next);
}

void ssu2_set_intro_hook(struct ssu2 *n, ssu2_intro_fn fn, void *ctx)
{
	n->intro_fn = fn;
	n->intro_ctx = ctx;
}

void ssu2_set_want_intro_hook(struct ssu2 *n, ssu2_want_intro_fn fn,
			      void *ctx)
{
	n->want_fn = fn;
	n->want_ctx = ctx;
}

bool ssu2_is_firewalled(const struct ssu2 *n)
{
	return n->firewalled;
}

bool ssu2_is_firewalled_family(const struct ssu2 *n, int family)
{
	return family == AF_INET6 ? n->firewalled6 : n->firewalled;
}

static size_t introducers(const struct ssu2 *n, int family,
			  struct router_address_ssu2_intro *out, size_t max)
{
	size_t k = 0;

	for (const struct sess *s = n->sessions; s && k < max; s = s->next)
		if (s->state == S_ESTABLISHED && s->tag_from_peer &&
		    (!family || sess_family(s) == family) &&
		    now_s() < s->tag_got_s + n->cfg.intro_lifetime_s) {
			memcpy(out[k].h, s->peer_rh, 32);
			out[k].tag = s->tag_from_peer;
			out[k].exp = (uint32_t)(s->tag_got_s +
						n->cfg.intro_lifetime_s);
			k++;
		}
	return k;
}

size_t ssu2_introducers(const struct ssu2 *n,
			struct router_address_ssu2_intro *out, size_t max)
{
	return introducers(n, 0, out, max);
}

size_t ssu2_introducers_family(const struct ssu2 *n, int family,
			       struct router_address_ssu2_intro *out,
			       size_t max)
{
	return introducers(n, family, out, max);
}

void ssu2_prefer_family(struct ssu2 *n, const uint8_t hash[32], int family)
{
	size_t i;

	for (i = 0; i < SSU2_PREFER_MAX; i++)
		if (memcmp(n->prefer[i].h, hash, 32) == 0)
			break;
	if (i == SSU2_PREFER_MAX)
		i = n->prefer_next++ % SSU2_PREFER_MAX;
	memcpy(n->prefer[i].h, hash, 32);
	n->prefer[i].family = family;
	n->prefer[i].until_ms = now_ms() + SSU2_PREFER_MS;
}

/* The family ssu2_prefer_family() asked for hash, or 0 (any). */
static int preferred_family(const struct ssu2 *n, const uint8_t hash[32])
{
	for (size_t i = 0; i < SSU2_PREFER_MAX; i++)
		if (n->prefer[i].until_ms > now_ms() &&
		    memcmp(n->prefer[i].h, hash, 32) == 0)
			return n->prefer[i].family;
	return 0;
}

/* ---- transport_ops ---- */

/* The SSU2 address of ri we can dial (published, of a family we have a
 * socket for; of family unless 0), the cheapest. */
static int pick_address_family(const struct ssu2 *n,
			       const struct router_info *ri, int family,
			       struct router_address_ssu2 *out, int *cost)
{
	int best = -1;

	for (size_t i = 0; i < router_info_address_count(ri); i++) {
		const struct router_address *a = router_info_address(ri, i);
		struct router_address_ssu2 p;
		struct sockaddr_in6 sa;

		if (!router_address_is_ssu2(a) ||
		    router_address_ssu2_parse(a, &p) != 0 || !p.published ||
		    addr_parse(&sa, p.host, p.port) != 0 ||
		    (addr_is_v4(&sa) ? n->fd : n->fd6) < 0 ||
		    (family && (addr_is_v4(&sa) ? AF_INET : AF_INET6) != family))
			continue;
		if (!n->cfg.allow_loopback && addr_is_loopback(&sa))
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

/* The same, of the family ssu2_prefer_family() asked for ri, if any
 * (else of any family). */
static int pick_address(const struct ssu2 *n, const struct router_info *ri,
			struct router_address_ssu2 *out, int *cost)
{
	int f = preferred_family(n, router_info_hash(ri));

	if (f && pick_address_family(n, ri, f, out, cost) == 0)
		return 0;
	return pick_address_family(n, ri, 0, out, cost);
}

bool ssu2_can_introduce_family(const struct ssu2 *n,
			       const struct router_info *ri, int family)
{
	struct router_address_ssu2 a;

	return pick_address_family(n, ri, family, &a, NULL) == 0 &&
	       strchr(a.caps, 'C') != NULL;
}

bool ssu2_can_introduce(const struct ssu2 *n, const struct router_info *ri)
{
	return ssu2_can_introduce_family(n, ri, AF_INET);
}

/* An SSU2 address of ri with introducers (IPv4 first; IPv6 when we have
 * an IPv6 socket): best one of them we have a session with; else one
 * whose RouterInfo we know, to dial first (dearer by
 * SSU2_INTRO_DIAL_COST). */
static int pick_intro(struct ssu2 *n, const struct router_info *ri,
		      struct router_address_ssu2 *out, int *cost)
{
	for (int pass = 0; pass < 4; pass++)
		for (size_t i = 0; i < router_info_address_count(ri); i++) {
			const struct router_address *a =
				router_info_address(ri, i);
			struct router_address_ssu2 p;
			bool v6 = pass % 2;

			if (!router_address_is_ssu2(a) ||
			    router_address_ssu2_parse(a, &p) != 0 ||
			    p.published || p.nintro == 0 ||
			    (p.family == AF_INET6) != v6 ||
			    (v6 ? n->fd6 : n->fd) < 0)
				continue;
			for (size_t k = 0; k < p.nintro; k++) {
				if (pass < 2 ?
				    !sess_up_by_hash(n, p.intro[k].h) :
				    !transport_lookup(n->tm, p.intro[k].h))
					continue;
				*out = p;
				if (cost)
					*cost = a->cost + SSU2_INTRO_COST +
						(pass >= 2 ?
						 SSU2_INTRO_DIAL_COST : 0);
				return 0;
			}
		}
	return ERR_NOT_FOUND;
}

static int ssu2_reach_cost(void *impl, const struct router_info *ri)
{
	struct router_address_ssu2 a;
	int cost;

	if (((struct ssu2 *)impl)->fd < 0 && ((struct ssu2 *)impl)->fd6 < 0)
		return -1;
	if (pick_address(impl, ri, &a, &cost) == 0 ||
	    pick_intro(impl, ri, &a, &cost) == 0)
		return cost;
	return -1;
}

static int ssu2_connect(void *impl, const struct router_info *ri,
			uint64_t *conn_id)
{
	struct ssu2 *n = impl;
	struct router_address_ssu2 a;
	struct sess *s;
	uint64_t tok;
	bool intro = false;
	int r;

	if ((n->fd < 0 && n->fd6 < 0) || n->shutting_down || !n->ri)
		return ERR_BAD_STATE;
	if (pick_address(n, ri, &a, NULL) != 0) {
		if (pick_intro(n, ri, &a, NULL) != 0)
			return ERR_UNSUPPORTED;
		intro = true;
	}
	if (n->nsess >= SSU2_MAX_SESSIONS)
		return ERR_LIMIT;
	s = sess_new(n, false);
	s->peer.sin6_family = AF_INET6;
	if (!intro)
		(void)addr_parse(&s->peer, a.host, a.port);
	memcpy(s->peer_rh, router_info_hash(ri), 32);
	memcpy(s->peer_ik, a.ik, 32);
	{
		size_t rl;
		const uint8_t *rb = router_info_bytes(ri, &rl);

		if (rb) {
			s->peer_ri = xmemdup(rb, rl);
			s->peer_ri_len = rl;
		}
	}
	s->rid = rand_id();
	do
		s->sid = rand_id();
	while (s->sid == s->rid);
	ssu2_hs_init_alice(&s->hs, &n->cfg.st, &a.s, a.ik);
	if (intro) {
		/* Charlie's address comes in the RelayResponse. */
		s->relay_v6 = a.family == AF_INET6;
		if ((r = relay_start(n, s, &a)) != 0) {
			sess_kill(s);
			return r;
		}
		sess_rearm(s);
		*conn_id = s->id;
		return 0;
	}
	tok = token_get(&n->received, &s->peer);
	/* (send_raw() sends at once outside a batch) */
	if (tok) {
		token_drop(&n->received, &s->peer);
		if ((r = send_request(s, tok)) != 0) {
			sess_kill(s);
			return r;
		}
	} else {
		send_token_request(s);
	}
	sess_rearm(s);
	*conn_id = s->id;
	return 0;
}

static void ssu2_wake(void *impl, uint64_t conn_id)
{
	struct sess *s = sess_by_id(impl, conn_id);

	/* Fill from the loop, not from inside the manager's call. */
	if (s && s->state == S_ESTABLISHED)
		evloop_timer_arm(s->timer, 0);
}

static void ssu2_close(void *impl, uint64_t conn_id, enum transport_close why)
{
	struct sess *s = sess_by_id(impl, conn_id);
	uint8_t reason = SSU2_TERM_NORMAL;

	if (!s)
		return;
	switch (why) {
	case TRANSPORT_CLOSE_NORMAL:
		reason = SSU2_TERM_NORMAL;
		break;
	case TRANSPORT_CLOSE_DUPLICATE:
		reason = SSU2_TERM_REPLACED;
		break;
	case TRANSPORT_CLOSE_LIMIT:
		reason = SSU2_TERM_LIMITS;
		break;
	case TRANSPORT_CLOSE_SHUTDOWN:
		reason = SSU2_TERM_SHUTDOWN;
		break;
	case TRANSPORT_CLOSE_BANNED:
		reason = SSU2_TERM_BANNED;
		break;
	}
	s->up = false;
	sess_terminate(s, reason);
}

static const struct transport_ops ssu2_ops = {
	.name = "SSU2",
	.reach_cost = ssu2_reach_cost,
	.connect = ssu2_connect,
	.wake = ssu2_wake,
	.close = ssu2_close,
};

/* ---- struct ssu2 ---- */

struct ssu2 *ssu2_new(struct evloop *el, struct transport_mgr *tm,
		      const struct ssu2_config *cfg)
{
	struct ssu2 *n = xzalloc(sizeof(*n));

	n->el = el;
	n->tm = tm;
	n->cfg = *cfg;
	if (n->cfg.mtu < SSU2_MIN_MTU)
		n->cfg.mtu = SSU2_MIN_MTU;
	n->fd = n->fd6 = -1;
	n->replay = ntcp2_replay_new(8192, 2 * SSU2_CLOCK_SKEW_S * 1000);
	n->dedup = i2np_dedup_new(65536);
	n->tid = transport_mgr_add(tm, &ssu2_ops, n);
	n->pt_timer = evloop_timer_new(el, pt_timer_cb, n);
	n->intro_timer = evloop_timer_new(el, intro_timer_cb, n);
	n->down_timer = evloop_timer_new(el, down_timer_cb, n);
	return n;
}

void ssu2_free(struct ssu2 *n)
{
	if (!n)
		return;
	while (n->sessions) {
		struct sess *s = n->sessions;

		n->sessions = s->next;
		s->closed = true;
		sess_free_common(s, false);
	}
	evloop_timer_free(n->pt_timer);
	evloop_timer_free(n->intro_timer);
	evloop_timer_free(n->down_timer);
	free(n->down_ids);
	if (n->rev)
		event_free(n->rev);
	if (n->rev6)
		event_free(n->rev6);
	if (n->fd >= 0)
		evutil_closesocket(n->fd);
	if (n->fd6 >= 0)
		evutil_closesocket(n->fd6);
	ntcp2_replay_free(n->replay);
	i2np_dedup_free(n->dedup);
	while (n->om_spare) {
		struct outmsg *om = n->om_spare;

		n->om_spare = om->next;
		free(om);
	}
	n->om_nspare = 0;
	free(n->ri);
	if (n->dying > 0) {
		n->gone = true;		/* the last reaped session frees n */
		return;
	}
	memwipe(n, sizeof(*n));
	free(n);
}

int ssu2_listen(struct ssu2 *n, const char *host, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t slen;
	int fd, one = 1, bufsz = 4 << 20;
	bool v6;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		v6 = false;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		slen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		v6 = true;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		slen = sizeof(*s6);
	} else {
		return ERR_ARG;
	}
	if ((v6 ? n->fd6 : n->fd) >= 0)
		return ERR_BAD_STATE;
	if ((fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0)) < 0)
		return ERR_IO;
	/* (no SO_REUSEADDR: on UDP it would let another socket share the
	 * port and take our datagrams) */
	if (v6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				 sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	/* coalesced receive where the kernel has it (on_readable splits) */
	(void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    evutil_make_socket_closeonexec(fd) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, slen) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &slen) != 0) {
		int e = errno;

		evutil_closesocket(fd);
		errno = e;
		return ERR_IO;
	}
	if (v6) {
		n->fd6 = fd;
		n->port6 = ntohs(s6->sin6_port);
		n->rev6 = event_new(evloop_base(n->el), fd,
				    EV_READ | EV_PERSIST, on_readable, n);
		event_add(n->rev6, NULL);
	} else {
		n->fd = fd;
		n->port = ntohs(s4->sin_port);
		n->rev = event_new(evloop_base(n->el), fd,
				   EV_READ | EV_PERSIST, on_readable, n);
		event_add(n->rev, NULL);
	}
	return 0;
}

uint16_t ssu2_port(const struct ssu2 *n)
{
	return n->port ? n->port : n->port6;
}

uint16_t ssu2_port6(const struct ssu2 *n)
{
	return n->port6;
}

int ssu2_set_router_info(struct ssu2 *n, const uint8_t *ri, size_t len)
{
	if (len > SSU2_RI_MAX_BYTES || len == 0)
		return ERR_TOO_BIG;
	free(n->ri);
	n->ri = xmemdup(ri, len);
	n->ri_len = len;
	return 0;
}

void ssu2_shutdown(struct ssu2 *n)
{
	struct sess *s, *next;

	n->shutting_down = true;
	for (s = n->sessions; s; s = next) {
		next = s->next;
		s->up = false;
		sess_terminate(s, SSU2_TERM_SHUTDOWN);
	}
}

void ssu2_stats(const struct ssu2 *n, struct ssu2_stats *out)
{
	*out = n->st;
	out->sessions = n->nsess;
	out->pending_in = n->pending_in;
	out->sent_ring_bytes = n->sent_bytes;
	out->reasm_bytes = n->reasm_bytes;
}

bool ssu2_external_address(const struct ssu2 *n, uint8_t ip[16],
			   size_t *iplen, uint16_t *port)
{
	return ssu2_external_address_family(n, n->ext_last6 ? AF_INET6 :
					    AF_INET, ip, iplen, port);
}

bool ssu2_external_address_family(const struct ssu2 *n, int family,
				  uint8_t ip[16], size_t *iplen,
				  uint16_t *port)
{
	const struct ext_addr *e = &n->ext[family == AF_INET6];

	if (!e->have)
		return false;
	memcpy(ip, e->ip, e->iplen);
	*iplen = e->iplen;
	*port = e->port;
	return true;
}
