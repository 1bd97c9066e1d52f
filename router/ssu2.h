/*
 * The SSU2 transport (geti2p.net/spec/ssu2): one UDP socket per address
 * family, the handshake state machine for both roles over
 * router/ssu2_handshake.h (tokens and Retry, SessionRequest / Created /
 * Confirmed with fragmentation and retransmission), the data phase over
 * router/ssu2_block.h (ACKs with ranges, RTO and retransmission of
 * fragments in new packets, a congestion window, I2NP fragmentation and
 * reassembly, duplicate suppression), path validation and connection
 * migration, keepalive, idle timeout and termination.
 *
 * It plugs into the transport manager (router/transport.h) as one struct
 * transport_ops, exactly like NTCP2: the manager picks the cheaper
 * transport per peer from the addresses in its RouterInfo.
 *
 * Inbound packet classification ("Inbound Packet Handling"): k_header_1
 * is our intro key for everything except SessionCreated and Retry, so the
 * destination connection id finds an established or inbound session in
 * one lookup; SessionCreated and Retry fall back to the pending outbound
 * sessions to the packet's source address.
 *
 * Bad input from a peer is dropped and logged at info, rate-limited and
 * without addresses (STYLE.md §7); nothing a peer sends can make us send
 * more than a small Retry to an unvalidated address.
 *
 * Thread: loop thread only.  Ownership: the caller owns struct ssu2 and
 * frees it before the transport manager and the event loop.
 */
#ifndef ROUTER_SSU2_H
#define ROUTER_SSU2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/noise.h"
#include "router/router_address.h"
#include "router/ssu2_handshake.h"

struct evloop;
struct ssu2;		/* opaque */
struct transport_mgr;
struct router_info;

struct ssu2_config {
	uint8_t netid;
	struct noise_static st;		/* our static key (borrowed target) */
	uint8_t rh[32];			/* our router hash */
	uint8_t ik[SSU2_INTRO_KEY_BYTES];	/* the "i" we publish */
	uint16_t mtu;			/* 1280..1500 */
	size_t max_pending;		/* inbound handshakes at once */
	size_t max_pending_per_ip;
	/* Fragments of partial messages held, in all sessions and in one
	 * (0: no limit); past either the oldest partial message of the
	 * session holding most goes.  A partial message goes as well when
	 * it is reasm_timeout_ms old. */
	size_t reasm_max_bytes, reasm_sess_max_bytes;
	uint64_t reasm_timeout_ms;
	uint64_t handshake_timeout_ms;	/* first packet to established */
	uint64_t keepalive_ms;		/* send something after this long quiet */
	uint64_t idle_timeout_ms;	/* close after this long without input */
	uint64_t close_timeout_ms;	/* a terminated session lingers */
	uint64_t token_lifetime_s;	/* New Token blocks we issue */
	uint64_t retry_token_lifetime_s;	/* tokens in our Retry */
	unsigned token_requests_per_s;	/* Retry replies per IP per second */
	unsigned ban_failures;		/* handshake failures from one IP... */
	uint64_t ban_window_ms;		/* ...within this window... */
	uint64_t ban_ms;		/* ...ban it this long (0 = never) */
	bool allow_loopback;		/* dial 127/8 (tests; i2pd refuses) */
	uint32_t intro_lifetime_s;	/* SSU2_INTRO_LIFETIME_S */
	uint32_t intro_refresh_s;	/* SSU2_INTRO_REFRESH_S */
	/* a peer test of ours with no answer ends undecided after this long
	 * (SSU2_PT_TIMEOUT_MS) */
	uint64_t pt_timeout_ms;
	/* Signs Peer Test messages (borrowed; NULL: no peer test roles). */
	const struct keystore *ks;
};

#define SSU2_DEFAULT_MTU 1500
#define SSU2_MIN_MTU 1280
#define SSU2_DEFAULT_MAX_PENDING 64
#define SSU2_DEFAULT_MAX_PENDING_PER_IP 4
/* A session's window (at most SSU2_CWND_MAX packets) holds under 400 KB
 * of fragments; a peer that sends parts and never the rest held up to
 * SSU2_REASM_MAX_MSGS whole I2NP messages, 4 MiB a session. */
#define SSU2_DEFAULT_REASM_MAX_BYTES (8u << 20)
#define SSU2_DEFAULT_REASM_SESS_MAX_BYTES (1u << 20)
/* "Recommended total timeout for the handshake is 20 seconds." */
#define SSU2_DEFAULT_HANDSHAKE_TIMEOUT_MS 20000
#define SSU2_DEFAULT_KEEPALIVE_MS 15000
#define SSU2_DEFAULT_IDLE_TIMEOUT_MS 60000
#define SSU2_DEFAULT_CLOSE_TIMEOUT_MS 2000
/* i2pd gives ~52 minutes in New Token and ~9 s in Retry. */
#define SSU2_DEFAULT_TOKEN_LIFETIME_S 3600
#define SSU2_DEFAULT_RETRY_TOKEN_LIFETIME_S 10
#define SSU2_DEFAULT_TOKEN_REQUESTS_PER_S 4
#define SSU2_DEFAULT_BAN_FAILURES 20
#define SSU2_DEFAULT_BAN_WINDOW_MS (10 * 60 * 1000)
#define SSU2_DEFAULT_BAN_MS (30 * 60 * 1000)
/* A RouterInfo in SessionConfirmed older than this is refused. */
#define SSU2_RI_MAX_AGE_MS (90 * 60 * 1000)
/* Handshake resends: "1.25, 2.5, and 5 seconds" (SessionRequest and
 * SessionConfirmed), "1, 2, and 4 seconds" (SessionCreated).  We resend
 * after 1.25 s, then every 2.5 s until the handshake timeout, so that a
 * lossy path (each try is a round trip) still comes up; a handshake
 * message goes out at most SSU2_HS_MAX_SENDS times (a cap on what a
 * replayed packet can make us send). */
#define SSU2_HS_RESEND_FIRST_MS 1250
#define SSU2_HS_RESEND_MAX_MS 2500
#define SSU2_HS_MAX_SENDS 16
/* Retry messages one outbound handshake accepts. */
#define SSU2_HS_MAX_RETRIES 4
/* Data phase: RTO bounds (i2pd: 100..2500 ms) and the window in packets
 * (i2pd: 16..256).  RTO = SRTT + 4 RTTVAR + the peer's ACK delay (RFC
 * 6298 with QUIC's max_ack_delay), doubled on each expiry without an
 * ACK up to SSU2_RTO_BACKOFF_MAX_MS. */
#define SSU2_RTO_MIN_MS 100
#define SSU2_RTO_MAX_MS 2500
#define SSU2_RTO_INIT_MS 1000
#define SSU2_RTO_BACKOFF_MAX_MS 10000
#define SSU2_CWND_MIN 16
#define SSU2_CWND_MAX 256
/* A packet is lost once this many later packets are acked. */
#define SSU2_LOSS_REORDER 3
/* A message is given up only once one of its fragments was sent
 * SSU2_MAX_RESENDS times AND SSU2_MSG_GIVEUP_MS passed since its first
 * send: a peer starved of CPU (late ACKs, spurious RTOs) costs resends,
 * never messages. */
#define SSU2_MAX_RESENDS 8
#define SSU2_MSG_GIVEUP_MS 15000
/* ACK delay for ack-eliciting packets (immediate when the immediate-ACK
 * flag is set or two packets wait). */
#define SSU2_ACK_DELAY_MS 10
/* Tokens and handshake state kept, at most. */
#define SSU2_MAX_TOKENS 4096
/* Sessions at most (established + handshakes). */
#define SSU2_MAX_SESSIONS 1024

/* Defaults for everything but the keys, hash, intro key and netid. */
void ssu2_config_default(struct ssu2_config *cfg);

/* Peer Test: how long Alice waits for Charlie's message 5 after Bob's
 * message 4, and for message 4 at all. */
#define SSU2_PT_WAIT_MS 8000
#define SSU2_PT_TIMEOUT_MS 20000
/* A NAT or stateful firewall keeps a UDP flow open this long after its
 * last packet (Linux conntrack: 120 s; home routers up to a few
 * minutes): a peer test whose Charlie had a session with us within it,
 * or was sent a peer test message or a Hole Punch by us, decides
 * nothing.  Ended sessions and such sends remembered: SSU2_FLOW_MAX. */
#define SSU2_NAT_FLOW_MS 300000
#define SSU2_FLOW_MAX 256
/* Peer tests we take part in at once (each role). */
#define SSU2_PT_MAX 16

/* Relay: a path through an introducer costs this much above the
 * address's own cost; introducers we publish last this long from the
 * Relay Tag, and a tag is asked for again this long before it expires.
 * When firewalled we keep up to SSU2_INTRO_MAX introducers, looking for
 * more every SSU2_INTRO_CHECK_MS. */
#define SSU2_INTRO_COST 10
#define SSU2_INTRO_LIFETIME_S 3600
#define SSU2_INTRO_REFRESH_S 1200
#define SSU2_INTRO_MAX 3
#define SSU2_INTRO_CHECK_MS 30000
/* ssu2_prefer_family(): routers remembered, and for how long. */
#define SSU2_PREFER_MAX 8
#define SSU2_PREFER_MS 60000

/* What peer testing found out about us. */
enum ssu2_reach {
	SSU2_REACH_UNKNOWN,
	SSU2_REACH_TESTING,
	SSU2_REACH_OK,		/* Charlie reached us unasked: reachable */
	SSU2_REACH_FIREWALLED,	/* Bob and Charlie agreed, Charlie could not */
};

/* Counters for tests and the console. */
struct ssu2_stats {
	uint64_t established_in, established_out;
	uint64_t hs_failed;		/* handshakes that did not complete */
	uint64_t retries_sent, retries_received;
	uint64_t token_requests;	/* Token Requests answered */
	uint64_t bad_tokens;		/* SessionRequests with a bad token */
	uint64_t replays;		/* replayed ephemeral keys */
	uint64_t skewed;		/* clock skew in the handshake */
	uint64_t refused;		/* limits, bans, rate limits */
	uint64_t dropped;		/* undecryptable or malformed packets */
	uint64_t dup_packets;		/* data packets seen before */
	uint64_t pkts_in, pkts_out;
	uint64_t resent_frags;		/* fragments sent again */
	uint64_t msgs_cut;		/* cut to fill a packet, though they
					 * fit an empty one whole */
	uint64_t lost_pkts;		/* packets declared lost */
	uint64_t msgs_dropped;		/* given up (SSU2_MSG_GIVEUP_MS) */
	uint64_t terminations_sent, terminations_received;
	uint64_t path_challenges, migrations;
	/* peer test: as Alice, Bob and Charlie; messages 5-7 seen */
	uint64_t pt_started, pt_relayed, pt_answered;
	uint64_t pt_msg4, pt_msg5, pt_msg6, pt_msg7, pt_rejected;
	/* relay: tags given (Bob) and got (Charlie); introductions asked
	 * (Alice), forwarded (Bob), answered (Charlie), completed and
	 * refused (Alice); Hole Punches received */
	uint64_t relay_tags_given, relay_tags_got;
	uint64_t relay_tags_hs;		/* of those got: in SessionCreated */
	uint64_t relays_asked, relays_forwarded, relays_answered;
	uint64_t relays_done, relays_refused, hole_punches;
	size_t sessions;		/* all sessions, any state */
	size_t pending_in;		/* inbound handshakes now */
	size_t sent_ring_bytes;		/* held for packets in flight now */
	size_t reasm_bytes;		/* fragments of partial messages now */
	uint64_t reasm_dropped;		/* partial messages dropped: limits */
	uint64_t reasm_expired;		/* ...: reasm_timeout_ms old */
	uint64_t ri_limited;		/* others' RouterInfos not stored */
	uint8_t last_term_reason;	/* last Termination received */
};

/*
 * New transport on el for tm (both borrowed; must outlive it), registered
 * with tm.  cfg is copied (cfg->st's key is borrowed).  Never returns NULL.
 */
struct ssu2 *ssu2_new(struct evloop *el, struct transport_mgr *tm,
		      const struct ssu2_config *cfg);
/* Close every session at once and free s.  Accepts NULL. */
void ssu2_free(struct ssu2 *s);
/*
 * Bind a UDP socket to host and port (0: any free port): an IPv4 literal
 * binds the IPv4 socket, an IPv6 one the IPv6 socket (IPV6_V6ONLY); call
 * once per family.  Peers are then dialled on the families we have.
 * ERR_ARG for a bad literal, ERR_BAD_STATE when that family is bound,
 * ERR_IO when the socket cannot be bound.
 */
int ssu2_listen(struct ssu2 *s, const char *host, uint16_t port);
/* The bound IPv4 port (else the IPv6 one), or 0. */
uint16_t ssu2_port(const struct ssu2 *s);
/* The bound IPv6 port, or 0. */
uint16_t ssu2_port6(const struct ssu2 *s);
/* Our RouterInfo (copied), sent in SessionConfirmed.  ERR_TOO_BIG over
 * SSU2_RI_MAX_BYTES. */
int ssu2_set_router_info(struct ssu2 *s, const uint8_t *ri, size_t len);
/* Send a Termination (router shutdown) on every session; they are freed
 * as they finish. */
void ssu2_shutdown(struct ssu2 *s);
void ssu2_stats(const struct ssu2 *s, struct ssu2_stats *out);
/*
 * Start a peer test as Alice through an established session with a
 * router whose SSU2 address has the "B" cap (or the one with bob_hash,
 * when not NULL).  The result shows in ssu2_reachability().  Errors:
 * ERR_NOT_FOUND (no such session), ERR_BAD_STATE (no signing key, or no
 * external address known yet), ERR_LIMIT (too many tests).
 */
int ssu2_peer_test(struct ssu2 *s, const uint8_t *bob_hash);
enum ssu2_reach ssu2_reachability(const struct ssu2 *s);
/*
 * The same for one family (AF_INET, as above, or AF_INET6): the test
 * goes to Bob over a session of that family, with our external address
 * of that family, and Bob picks a Charlie whose SSU2 address of that
 * family has "B"; each family has its own result.
 */
int ssu2_peer_test_family(struct ssu2 *s, int family, const uint8_t *bob_hash);
enum ssu2_reach ssu2_reachability_family(const struct ssu2 *s, int family);

/*
 * Relay (as Charlie, when firewalled): ask the peer with bob_hash (NULL:
 * every session peer whose SSU2 address has the "C" cap) for a relay tag.
 * ERR_NOT_FOUND when no session qualifies.  Tags arrive later;
 * ssu2_introducers() lists them for our RouterInfo (ih, itag, iexp).
 */
int ssu2_request_relay_tag(struct ssu2 *s, const uint8_t *bob_hash);
/* Our introducers, expiry = when the tag came + the intro lifetime:
 * ssu2_introducers() all of them, ssu2_introducers_family() those whose
 * session is of family (AF_INET or AF_INET6), for our address of that
 * family (an i2pd Alice dials the introducer's address of the family of
 * the address it found it in, and an i2pd Bob hands out tags only on a
 * family its own address says "C" for). */
size_t ssu2_introducers(const struct ssu2 *s,
			struct router_address_ssu2_intro *out, size_t max);
size_t ssu2_introducers_family(const struct ssu2 *s, int family,
			       struct router_address_ssu2_intro *out,
			       size_t max);
/*
 * Called (on the loop, never inside another SSU2 call) whenever what we
 * should publish changes: a peer test decided we are firewalled or
 * reachable, a relay tag came or was renewed, an introducer's session
 * ended.  The embedder then re-signs its RouterInfo with
 * ssu2_is_firewalled() and ssu2_introducers(), and with the "C" cap
 * while ssu2_reachability() is SSU2_REACH_OK (as Bob we hand out relay
 * tags and introduce).  While firewalled on a family (IPv4 and IPv6 each
 * by their own peer tests), the transport asks up to SSU2_INTRO_MAX
 * session peers of that family with the "C" cap for relay tags by
 * itself, and asks again before they expire.
 */
typedef void (*ssu2_intro_fn)(void *ctx);
void ssu2_set_intro_hook(struct ssu2 *s, ssu2_intro_fn fn, void *ctx);
/*
 * Called (on the loop) while firewalled on family when session peers of
 * that family with "C", those with a tag, asked or being dialled, are
 * fewer than SSU2_INTRO_MAX: the embedder should dial up to want more
 * routers for which ssu2_can_introduce_family() is true, on that family
 * (ssu2_prefer_family() before the dial; a new session asks for a tag in
 * its SessionRequest).  Again every SSU2_INTRO_CHECK_MS while short.
 */
typedef void (*ssu2_want_intro_fn)(void *ctx, int family, size_t want);
void ssu2_set_want_intro_hook(struct ssu2 *s, ssu2_want_intro_fn fn,
			      void *ctx);
/* ri has an SSU2 IPv4 address we can dial with the "C" (introducer)
 * cap. */
bool ssu2_can_introduce(const struct ssu2 *s, const struct router_info *ri);
/* The same for family (AF_INET or AF_INET6). */
bool ssu2_can_introduce_family(const struct ssu2 *s,
			       const struct router_info *ri, int family);
/* Dial the router with hash on family when it has an address of that
 * family (for SSU2_PREFER_MS; up to SSU2_PREFER_MAX routers). */
void ssu2_prefer_family(struct ssu2 *s, const uint8_t hash[32], int family);
/* The last decided peer test said firewalled (TESTING keeps it). */
bool ssu2_is_firewalled(const struct ssu2 *s);
/* The same for one family (AF_INET, as above, or AF_INET6). */
bool ssu2_is_firewalled_family(const struct ssu2 *s, int family);
const char *ssu2_reach_name(enum ssu2_reach r);

/*
 * The address peers reported for us (Address blocks in SessionCreated,
 * Retry and Peer Test), most recent first.  False before any.  ip gets 4
 * or 16 bytes (*iplen).
 */
bool ssu2_external_address(const struct ssu2 *s, uint8_t ip[16],
			   size_t *iplen, uint16_t *port);
/* The last one of family (AF_INET or AF_INET6). */
bool ssu2_external_address_family(const struct ssu2 *s, int family,
				  uint8_t ip[16], size_t *iplen,
				  uint16_t *port);

#endif /* ROUTER_SSU2_H */
