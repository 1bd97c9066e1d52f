/*
 * The key agent (CHAIN.md §5 step 3, issue 13): a service on a
 * destination that takes KeyRequests signed by a licence holder H (the
 * EIP-712 type of CHAIN.md §3 under the KeyRelease domain), checks through
 * chain RPC that H owns the token both at the latest block and a few
 * blocks deep (a purchase that a reorganisation could undo gets nothing
 * yet; a licence resold since gets nothing for the old holder), and
 * answers with the wrapped content key
 *     w = K ⊕ keccak256(address(a·E) ‖ requestId),
 * requestId being the request's EIP-712 digest.  The holder unwraps with
 * e·A and checks keccak256(K ‖ contentHash) against the keyCommitment the
 * creator put on chain before using K (market_key_unwrap()), so an agent
 * that lies is caught.  Licences give access through the protocol, not
 * DRM: whoever got K keeps it (CHAIN.md §1.6).
 *
 * Wire (frames of apps/market/link.h, one request per frame, answered in
 * order):
 *   request  tokenId (32) ‖ E compressed (33) ‖ deadline (8, big-endian,
 *            seconds) ‖ signature r ‖ s ‖ v (65)            = 138 bytes
 *   reply    status (1) ‖ w (32) when status is MARKET_KEY_OK
 * or, to learn the agent's public key A (the holder needs it to unwrap;
 * a false A only makes the keyCommitment check fail):
 *   request  MARKET_KEY_PUBKEY_QUERY (1 byte)
 *   reply    A compressed (33)
 *
 * Thread: the loop thread only.
 */
#ifndef APPS_MARKET_KEYAGENT_H
#define APPS_MARKET_KEYAGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/eip712.h"
#include "chain/secp.h"
#include "router/keys_and_cert.h"

struct evloop;
struct market_rpc;
struct stream;
struct stream_mgr;

#define MARKET_KEY_REQUEST_BYTES (32 + SECP_PK_BYTES + 8 + SECP_SIG_BYTES)
#define MARKET_KEY_REPLY_MAX_BYTES 33
#define MARKET_KEY_CONFIRMATIONS 3		/* blocks deep */
#define MARKET_KEY_MAX_DEADLINE_S 3600		/* ahead of chain time */
#define MARKET_KEY_MAX_JOBS 64			/* requests being checked */
#define MARKET_KEY_CONTENTS_MAX 4096
#define MARKET_KEY_RATE_PER_SEC 2
#define MARKET_KEY_RATE_BURST 10
#define MARKET_KEY_PUBKEY_QUERY 0x50		/* 'P': one-byte request */

enum market_key_status {
	MARKET_KEY_OK = 0,
	MARKET_KEY_BAD_REQUEST = 1,	/* malformed or bad signature */
	MARKET_KEY_EXPIRED = 2,		/* deadline passed or too far */
	MARKET_KEY_NOT_HOLDER = 3,	/* signer does not own the token
					 * (now and confirmations deep) */
	MARKET_KEY_UNKNOWN = 4,		/* no key for this content here */
	MARKET_KEY_CHAIN = 5,		/* chain RPC failed: try later */
	MARKET_KEY_BUSY = 6		/* too many requests: try later */
};
const char *market_key_status_str(int status);

struct market_key_request {
	struct eip712_key_request kr;
	uint8_t sig[SECP_SIG_BYTES];
};

/* requestId: the EIP-712 digest of kr under the KeyRelease domain of
 * (chain_id, key_release). */
void market_key_request_id(uint64_t chain_id, const uint8_t key_release[20],
			   const struct eip712_key_request *kr,
			   uint8_t out[32]);
/* Holder side: sign kr with the holder key h (fills out). */
int market_key_request_sign(uint64_t chain_id, const uint8_t key_release[20],
			    const struct eip712_key_request *kr,
			    const struct secp_sk *h,
			    struct market_key_request *out);
void market_key_request_encode(const struct market_key_request *r,
			       uint8_t out[MARKET_KEY_REQUEST_BYTES]);
/* Untrusted bytes: ERR_TRUNCATED/ERR_FORMAT (wrong length, E not a
 * compressed point). */
int market_key_request_decode(const uint8_t *p, size_t len,
			      struct market_key_request *out);
/* A reply: *status, and w when status is MARKET_KEY_OK.  ERR_FORMAT for
 * anything else. */
int market_key_reply_decode(const uint8_t *p, size_t len, int *status,
			    uint8_t w[32]);

/*
 * Holder side: K = w ⊕ keccak256(address(e·A) ‖ requestId), accepted only
 * when keccak256(K ‖ content_hash) equals the on-chain key_commitment
 * (ERR_AUTH otherwise: the agent lied or is not this content's agent).
 */
int market_key_unwrap(const uint8_t w[32], const struct secp_sk *e,
		      const struct secp_pk *agent,
		      const uint8_t request_id[32],
		      const uint8_t content_hash[32],
		      const uint8_t key_commitment[32], uint8_t key[32]);

/* The agent's answer to MARKET_KEY_PUBKEY_QUERY: ERR_FORMAT unless 33
 * bytes of a compressed point. */
int market_key_pubkey_decode(const uint8_t *p, size_t len,
			     struct secp_pk *out);

/* ------------------------------------------------------------ the agent */

struct market_agent_config {
	uint64_t chain_id;
	uint8_t key_release[20];	/* the EIP-712 domain's contract */
	uint8_t license_registry[20];	/* where ownerOf is asked */
	unsigned confirmations;
	unsigned max_deadline_s;
	/* Per peer destination: `rate_burst` requests refilled at
	 * `rate_per_sec` (each costs three chain calls); over it: BUSY. */
	unsigned rate_per_sec, rate_burst;
};
void market_agent_config_default(struct market_agent_config *c);

struct market_agent_stats {
	uint64_t requests, released, bad, expired, not_holder, unknown,
		chain_errors, busy;
};

struct market_agent;	/* opaque */

/* An agent with key a (copied into secure memory), asking the chain
 * through rpc (borrowed; it outlives the agent).  Never returns NULL. */
struct market_agent *market_agent_new(const struct market_agent_config *c,
				      const struct secp_sk *a,
				      struct market_rpc *rpc,
				      struct evloop *el);
/* Reset its streams, wipe its keys, release ag.  Accepts NULL. */
void market_agent_free(struct market_agent *ag);
/* Hold K for the content at `index` (replaces an earlier key).
 * ERR_LIMIT past MARKET_KEY_CONTENTS_MAX. */
int market_agent_add_content(struct market_agent *ag, uint64_t index,
			     const uint8_t key[32]);
void market_agent_accept(struct market_agent *ag, struct stream *s);
void market_agent_serve(struct market_agent *ag, struct stream_mgr *mgr);
void market_agent_stats(const struct market_agent *ag,
			struct market_agent_stats *out);

/* ----------------------------------------------------- the holder's side */

/* err 0 with the agent's public key, or ERR_IO / ERR_TIMEOUT /
 * ERR_PROTOCOL (not a key). */
typedef void (*market_key_pubkey_fn)(void *arg, int err,
				     const struct secp_pk *agent);
/* Ask the agent at `agent` for its key A over a new stream from mgr; done
 * runs later, exactly once (unless this returns non-zero). */
int market_key_pubkey_fetch(struct stream_mgr *mgr, struct evloop *el,
			    const struct keys_and_cert *agent,
			    unsigned timeout_ms, market_key_pubkey_fn done,
			    void *arg);

/* err 0 with the agent's status (and w when MARKET_KEY_OK), or ERR_IO /
 * ERR_TIMEOUT / ERR_PROTOCOL (bad reply). */
typedef void (*market_key_fetch_fn)(void *arg, int err, int status,
				    const uint8_t w[32]);
/*
 * Send r to the agent at `agent` over a new stream from mgr and hand the
 * answer to done, later, exactly once (unless this returns non-zero).
 * The stream is closed after the answer.
 */
int market_key_fetch(struct stream_mgr *mgr, struct evloop *el,
		     const struct keys_and_cert *agent,
		     const struct market_key_request *r, unsigned timeout_ms,
		     market_key_fetch_fn done, void *arg);

#endif /* APPS_MARKET_KEYAGENT_H */
