/*
 * ECIES-X25519-AEAD-Ratchet sessions for one local destination (ecies
 * spec; proposal 144; PROTOCOLS.md 2.11).
 *
 * Wire formats (the data of an I2NP Garlic message, after its 4-byte
 * length field):
 *   NS  = Elligator2(Alice's ephemeral) (32) ‖ ChaChaPoly(static key) (48)
 *         ‖ ChaChaPoly(payload) (len + 16)
 *         "Noise_IKelg2+hs2_25519_ChaChaPoly_SHA256"; a one-time NS has a
 *         zero static key and encrypts its payload with the same k, n = 1
 *   NSR = tag (8) ‖ Elligator2(Bob's ephemeral) (32) ‖ ChaChaPoly("") (16)
 *         ‖ ChaChaPoly(payload) (len + 16)
 *   ES  = tag (8) ‖ ChaChaPoly(key_N, nonce N, ad = tag, payload)
 *
 * struct ratchet_ctx holds the destination's X25519 key, its sessions
 * (at most one used for sending per remote static key, the same pair on
 * both sides after an NS/NS race; older ones keep receiving until they
 * expire), one hash table from 8-byte tags to the
 * inbound tag set and message number, and a replay filter over NS
 * ephemeral keys.  Inbound tag sets keep RATCHET_LOOKAHEAD tags (growing
 * to RATCHET_LOOKAHEAD_MAX on a busy tag set) ahead of the highest N
 * received and RATCHET_MAX_BEHIND behind it.  The DH
 * ratchet (Next Key blocks) starts once a tag set has sent
 * params.ratchet_after messages; ACK Requests are answered in the next
 * message; Message Numbers (PN) follow a switch of outbound tag set.
 *
 * Thread: one thread (the loop) per ctx.  Time comes from the caller.
 */
#ifndef ROUTER_RATCHET_H
#define ROUTER_RATCHET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "crypto/x25519.h"
#include "router/ratchet_block.h"

#define RATCHET_PROTOCOL_NAME "Noise_IKelg2+hs2_25519_ChaChaPoly_SHA256"
#define RATCHET_NS_OVERHEAD_BYTES (32 + 48 + 16)
#define RATCHET_NSR_OVERHEAD_BYTES (8 + 32 + 16 + 16)
#define RATCHET_ES_OVERHEAD_BYTES (8 + 16)
/* "the max unencrypted data is 65519 bytes" */
#define RATCHET_MAX_PAYLOAD_BYTES 65519
/* NS DateTime window: "more than 5 minutes in the past or 2 minutes in
 * the future" is refused. */
#define RATCHET_NS_MAX_AGE_MS (5 * 60 * 1000)
#define RATCHET_NS_MAX_FUTURE_MS (2 * 60 * 1000)
/* NSR tags Alice keeps per NS (i2pd's NSR tag set has 12). */
#define RATCHET_NSR_TAGS 12
/* NS messages Alice keeps waiting for a reply at once. */
#define RATCHET_MAX_PENDING_NS 4
#define RATCHET_LOOKAHEAD 32
/* The window ahead grows by a quarter of the newest N up to this (i2pd
 * keeps 24 + N/4, at most 320): a session sending fast outlives a burst
 * of lost messages longer than RATCHET_LOOKAHEAD. */
#define RATCHET_LOOKAHEAD_MAX 320
#define RATCHET_MAX_BEHIND 320
/* The DH ratchet starts after this many messages on a tag set (i2pd). */
#define RATCHET_RATCHET_AFTER 8192
/* An old inbound tag set lives on this long ("about 3 minutes"). */
#define RATCHET_OLD_TAGSET_MS (3 * 60 * 1000)
/* Sessions with no traffic for this long are dropped. */
#define RATCHET_SESSION_IDLE_MS (10 * 60 * 1000)
/* A peer's NS replaces our established session with it at once when
 * that is older than this (the spec suggests 3 minutes; i2pd starts a
 * new session only after 120 s, so its renewals always do); a younger
 * one sends on until the new session's first ES. */
#define RATCHET_REPLACE_MS (60 * 1000)
/* A session waiting for its NSR or first ES gives up after this long. */
#define RATCHET_HANDSHAKE_MS (3 * 60 * 1000)
/* NS ephemeral keys remembered for replay detection. */
#define RATCHET_REPLAY_MAX 8192
/* Tags held by one ctx in all. */
#define RATCHET_MAX_TAGS 65536
/* Sessions a destination keeps.  Each NS with a fresh static key (free
 * to make) was a new session of 2-4 KB, kept 3 minutes unanswered: at
 * the rate NS can be opened, gigabytes, and every tag taken. */
#define RATCHET_MAX_SESSIONS 1024

struct ratchet_params {
	uint32_t ratchet_after;		/* RATCHET_RATCHET_AFTER */
	uint32_t lookahead;		/* RATCHET_LOOKAHEAD */
	size_t max_sessions;		/* RATCHET_MAX_SESSIONS (0: that) */
};

/* Counters (ecies spec "Defense": bad input is dropped and counted). */
struct ratchet_stats {
	uint64_t ns_in, nsr_in, es_in, ns_out, nsr_out, es_out;
	uint64_t no_tag;	/* no tag matched and not a valid NS */
	uint64_t bad_size;	/* longer than any garlic can be */
	uint64_t replay;	/* NS with an ephemeral key seen before */
	uint64_t bad_time;	/* NS DateTime outside the window */
	uint64_t bad_auth;	/* known tag, AEAD failed */
	uint64_t bad_format;	/* decrypted but the blocks were refused */
	uint64_t bad_nextkey;	/* Next Key out of sequence or low order */
	uint64_t ratchets_out, ratchets_in;
	uint64_t acks_in;
	/* a new NS past max_sessions: the oldest session Alice never used
	 * made room, or (none) the NS was refused */
	uint64_t sessions_evicted, sessions_refused;
};

/* What came in, beside the payload. */
struct ratchet_rx_info {
	enum ratchet_kind kind;
	bool bound;			/* NS with a static key, NSR, ES */
	struct x25519_pk remote;	/* the peer's static key when bound */
	uint16_t tagset_id;		/* ES: the tag set and N it came on */
	uint16_t n;
};

struct ratchet_ctx;

/* A context for the destination with static key sk (copied into secure
 * memory, read-only, wiped on free: a destination's key is long-lived).
 * Never NULL. */
struct ratchet_ctx *ratchet_ctx_new(const struct x25519_sk *sk);
void ratchet_ctx_free(struct ratchet_ctx *c);
void ratchet_ctx_set_params(struct ratchet_ctx *c,
			    const struct ratchet_params *p);
const struct ratchet_stats *ratchet_ctx_stats(const struct ratchet_ctx *c);
/* Our static public key (what our LeaseSet publishes). */
const struct x25519_pk *ratchet_ctx_pubkey(const struct ratchet_ctx *c);

#define RATCHET_F_ONE_TIME 0x01u	/* NS with a zero static key, no session */
#define RATCHET_F_ACK_REQUEST 0x02u	/* ES: ask for an in-band ACK */

/*
 * Encrypt blocks (len bytes of Garlic Clove and other payload blocks,
 * built with garlic_block_clove() etc.) to the destination whose X25519
 * key is remote; append the Garlic data to out.  Picks the message kind:
 * an ES on an established session, else an NSR while Bob waits for
 * Alice's first ES, else a new NS (with the DateTime block added).  The
 * ratchet's own blocks (Next Key, ACK, Message Numbers) are added as
 * needed.  Errors: ERR_TOO_BIG (payload over RATCHET_MAX_PAYLOAD_BYTES),
 * ERR_LIMIT (tag set or NSR tags exhausted), ERR_CRYPTO (low-order
 * remote key).
 */
int ratchet_encrypt(struct ratchet_ctx *c, const struct x25519_pk *remote,
		    const uint8_t *blocks, size_t len, unsigned flags,
		    uint64_t now_ms, struct bbuf *out);

/*
 * Decrypt the Garlic data (untrusted, after the length field): a known
 * tag (ES or NSR), else an NS.  plain gets the plaintext blocks and pl the
 * parsed payload (borrowing plain); the ratchet acts on its own blocks
 * before returning.  Errors (the message is dropped and counted):
 * ERR_NOT_FOUND (no tag and not an NS), ERR_AUTH, ERR_FORMAT,
 * ERR_DUPLICATE (replayed NS), ERR_EXPIRED (NS DateTime), ERR_TRUNCATED.
 */
int ratchet_decrypt(struct ratchet_ctx *c, const uint8_t *data, size_t len,
		    uint64_t now_ms, struct bbuf *plain,
		    struct ratchet_payload *pl, struct ratchet_rx_info *info);

/* True when data (the Garlic data, as ratchet_decrypt() takes it) starts
 * with one of c's inbound tags: an ES or NSR for c.  With several
 * contexts, ask each before trying any with ratchet_decrypt(), which
 * takes an untagged message as an NS (an Elligator2 decode and a DH). */
bool ratchet_ctx_has_tag(const struct ratchet_ctx *c, const uint8_t *data,
			 size_t len);
/* True when the session to remote owes a protocol-layer response not
 * sent since it was asked for: an NSR to the peer's NS, an ACK, or our
 * reverse Next Key (send a message, even one with no cloves: ecies spec
 * "Protocol-layer responses"). */
bool ratchet_ctx_ack_pending(const struct ratchet_ctx *c,
			     const struct x25519_pk *remote);
/* Drop sessions and tag sets past their time. */
void ratchet_ctx_expire(struct ratchet_ctx *c, uint64_t now_ms);
/* Sessions and inbound tags held (tests). */
size_t ratchet_ctx_session_count(const struct ratchet_ctx *c);
size_t ratchet_ctx_tag_count(const struct ratchet_ctx *c);
/*
 * Send to remote on a new session from the next message on (an NS): its
 * established sessions are retired (they still receive until
 * RATCHET_OLD_TAGSET_MS).  For a sender that hears nothing back: the
 * remote may have restarted with the same static key and lost the
 * session, and drops every ES of it unread.  False when there was no
 * established session (a new one is under way already).
 */
bool ratchet_ctx_renew(struct ratchet_ctx *c, const struct x25519_pk *remote);
/* The outbound tag set id of the sending session to remote, or -1. */
int ratchet_ctx_tx_tagset_id(const struct ratchet_ctx *c,
			     const struct x25519_pk *remote);

#endif /* ROUTER_RATCHET_H */
