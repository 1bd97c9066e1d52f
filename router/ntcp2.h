/*
 * The NTCP2 transport (geti2p.net/spec/ntcp2): listeners (IPv4 and IPv6),
 * outbound connections, the handshake state machine for both roles over
 * router/ntcp2_handshake.h, the data phase over router/ntcp2_frame.h,
 * keepalive and idle timeout, termination with reasons, and the probing
 * resistance the spec asks for after a bad SessionRequest ("set a random
 * timeout and then read a random number of bytes, before closing").
 *
 * It plugs into the transport manager (router/transport.h) as one
 * struct transport_ops: the manager asks it to connect and to close, it
 * reports sessions up and down, pulls queued I2NP messages when the socket
 * can take more, and hands received messages and RouterInfos up.
 *
 * Sessions run on libevent bufferevents on the daemon's loop; nothing here
 * blocks.  Failures by a peer are logged once per connection at info,
 * rate-limited, without addresses (STYLE.md §7).
 *
 * Thread: loop thread only.  Ownership: the caller owns struct ntcp2 and
 * frees it before the transport manager and the event loop.
 */
#ifndef ROUTER_NTCP2_H
#define ROUTER_NTCP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/noise.h"
#include "router/ntcp2_handshake.h"

struct evloop;
struct ntcp2;		/* opaque */
struct transport_mgr;

struct ntcp2_config {
	uint8_t netid;
	struct noise_static st;		/* our static key (borrowed target) */
	uint8_t rh[32];			/* our router hash */
	uint8_t iv[NTCP2_IV_BYTES];	/* the "i" we publish */
	bool ipv4, ipv6;		/* address families we dial */
	size_t max_pending;		/* inbound handshakes at once */
	size_t max_pending_per_ip;
	uint64_t handshake_timeout_ms;	/* accept/connect to established */
	uint64_t keepalive_ms;		/* send something after this long quiet */
	uint64_t idle_timeout_ms;	/* close after this long without I2NP */
	/* close when output has waited this long and none of it was taken
	 * (a peer that sends and never reads; 0: never) */
	uint64_t write_stall_ms;
	uint64_t frame_timeout_ms;	/* a partial frame may wait this long */
	uint64_t close_timeout_ms;	/* flushing a termination */
	/* A session's buffers grown past their first size (a burst) go
	 * back to it at the first of these checks that finds them empty and
	 * not grown since the last (0: never). */
	uint64_t trim_ms;
	uint64_t probe_min_ms, probe_max_ms;	/* probing-resistance delay */
	size_t probe_max_bytes;		/* ...and bytes read before closing */
	unsigned ban_failures;		/* handshake failures from one IP... */
	uint64_t ban_window_ms;		/* ...within this window... */
	uint64_t ban_ms;		/* ...ban it this long (0 = never) */
};

#define NTCP2_DEFAULT_MAX_PENDING 64
/* i2pd refuses a second pending handshake from one IP; we allow a few
 * (several routers may share an address). */
#define NTCP2_DEFAULT_MAX_PENDING_PER_IP 4
#define NTCP2_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
/* i2pd closes a session after 120 s without traffic: stay well inside. */
#define NTCP2_DEFAULT_KEEPALIVE_MS 45000
#define NTCP2_DEFAULT_IDLE_TIMEOUT_MS (5 * 60 * 1000)
#define NTCP2_DEFAULT_WRITE_STALL_MS 60000
#define NTCP2_DEFAULT_FRAME_TIMEOUT_MS 30000
#define NTCP2_DEFAULT_CLOSE_TIMEOUT_MS 3000
#define NTCP2_DEFAULT_TRIM_MS 10000
#define NTCP2_DEFAULT_PROBE_MIN_MS 2000
#define NTCP2_DEFAULT_PROBE_MAX_MS 10000
#define NTCP2_DEFAULT_PROBE_MAX_BYTES 1024
#define NTCP2_DEFAULT_BAN_FAILURES 20
#define NTCP2_DEFAULT_BAN_WINDOW_MS (10 * 60 * 1000)
#define NTCP2_DEFAULT_BAN_MS (30 * 60 * 1000)
/* A RouterInfo in SessionConfirmed older than this is refused (i2pd: 90
 * minutes). */
#define NTCP2_RI_MAX_AGE_MS (90 * 60 * 1000)
/* The output buffer is refilled from the queue up to this many bytes. */
#define NTCP2_OUTBUF_HIGH_BYTES (256 * 1024)
#define NTCP2_OUTBUF_LOW_BYTES (64 * 1024)

/* Defaults for everything but the keys, hash, iv and netid. */
void ntcp2_config_default(struct ntcp2_config *cfg);

/* Counters for tests and the console. */
struct ntcp2_stats {
	uint64_t established_in, established_out;
	uint64_t hs_failed;		/* handshakes that did not complete */
	uint64_t probes;		/* bad SessionRequests drained and dropped */
	uint64_t replays;		/* replayed ephemeral keys */
	uint64_t skewed;		/* clock skew in the handshake */
	uint64_t refused;		/* accepts refused by limits or bans */
	uint64_t terminations_sent, terminations_received;
	uint64_t frames_in, frames_out;
	size_t sessions;		/* all sessions, any state */
	size_t pending_in;		/* inbound handshakes now */
	size_t buffer_bytes;		/* the sessions' input and output buffers */
	uint64_t write_stalls;		/* closed: the peer stopped reading */
	uint8_t last_term_reason;	/* last Termination received */
};

/*
 * New transport on el for tm (both borrowed; must outlive it), registered
 * with tm.  cfg is copied (cfg->st's key is borrowed).  Never returns NULL.
 */
struct ntcp2 *ntcp2_new(struct evloop *el, struct transport_mgr *tm,
			const struct ntcp2_config *cfg);
/* Close every session at once (no flushing) and free n.  Accepts NULL. */
void ntcp2_free(struct ntcp2 *n);
/*
 * Listen on host (an IPv4 or IPv6 literal) and port (0: any free port).
 * ERR_ARG for a bad literal, ERR_IO when the socket cannot be bound.
 */
int ntcp2_listen(struct ntcp2 *n, const char *host, uint16_t port);
/* The port a listener of family AF_INET / AF_INET6 is bound to, or 0. */
uint16_t ntcp2_listen_port(const struct ntcp2 *n, int family);
/* Dial from host (our published address; keeps i2pd from seeing another
 * source than the one we publish).  NULL: the kernel picks.  ERR_ARG. */
int ntcp2_set_source(struct ntcp2 *n, const char *host);
/* Our RouterInfo (copied), sent in SessionConfirmed and as Bob's first
 * data frame.  ERR_TOO_BIG over NTCP2_RI_MAX_BYTES. */
int ntcp2_set_router_info(struct ntcp2 *n, const uint8_t *ri, size_t len);
/* Send a Termination (router shutdown) on every session and close them;
 * stop listening.  Sessions are freed as they finish. */
void ntcp2_shutdown(struct ntcp2 *n);
void ntcp2_stats(const struct ntcp2 *n, struct ntcp2_stats *out);

#endif /* ROUTER_NTCP2_H */
