/*
 * Tunnel build messages (geti2p.net/spec/tunnel-creation-ecies,
 * geti2p.net/spec/i2np types 23-26, PROTOCOLS.md 2.8): the creator's
 * side (assemble a whole build message, read the reply) and the
 * participant's side (find, decrypt and check our record, then write our
 * reply and put our layer on the other records).  No I/O and no clock of
 * its own: times come in as arguments; decisions (limits, transit table)
 * belong to tunnels/transit.h.
 *
 * Records are the message payload after its 1-byte count: n records of
 * tunnel_build_record_bytes(kind) bytes each, n ≤ TUNNEL_BUILD_MAX_RECORDS.
 */
#ifndef TUNNELS_TUNNEL_BUILD_H
#define TUNNELS_TUNNEL_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "tunnels/build_record.h"

#define TUNNEL_BUILD_MAX_RECORDS 8
#define TUNNEL_BUILD_MAX_HOPS 8
/* i2pd sends 4 records, 8 for longer tunnels; "The recommended minimum
 * number of build records is 4." */
#define TUNNEL_BUILD_MIN_RECORDS 4
/* Java's BuildHandler window for ECIES request times (minutes, rounded
 * down): at most 8 minutes old, at most 5 minutes ahead.  i2pd 2.45.1
 * checks nothing, and always writes the current minute. */
#define TUNNEL_BUILD_MAX_AGE_MS (8ULL * 60 * 1000)
#define TUNNEL_BUILD_MAX_FUTURE_MS (5ULL * 60 * 1000)

/* ---- creator ---- */

struct tunnel_build_hop {
	uint8_t ident[32];		/* the hop's router hash */
	struct x25519_pk enc_pk;	/* its X25519 identity encryption key */
	/* Options for this hop's record (NULL: none), e.g. its ticket
	 * (tunnel_build_opts_set_ticket()); borrowed for
	 * tunnel_build_create() only. */
	const struct mapping *opts;
};

struct tunnel_build_cfg {
	enum tunnel_build_kind kind;
	bool inbound;		/* inbound: hops[0] is the IBGW, we the IBEP */
	unsigned n_hops;	/* 1 .. TUNNEL_BUILD_MAX_HOPS */
	struct tunnel_build_hop hops[TUNNEL_BUILD_MAX_HOPS];
	unsigned n_records;	/* 0: 4, or 8 above 4 hops; else ≥ n_hops
				 * (+1 for inbound) and ≤ 8 */
	uint8_t self[32];	/* our router hash (inbound: the last hop's
				 * next hop, and the fake record's prefix) */
	/* Outbound: where the OBEP sends the reply (our inbound tunnel's
	 * gateway and tunnel id). */
	uint8_t reply_gateway[32];
	uint32_t reply_tunnel_id;
	uint32_t reply_msg_id;	/* the id the reply will carry; 0: random */
	uint64_t now_ms;	/* wall clock, for the request time */
};

struct tunnel_build;	/* opaque: one pending build, secrets inside */

/*
 * Assemble a build message for cfg: random tunnel ids, records in random
 * slots, fillers, and every hop's record pre-encrypted so that each hop
 * sees its own in clear.  msg gets the payload of the type 23 (long) or
 * 25 (short) message (count ‖ records), to be sent to hops[0] with
 * tunnel_build_first_msg_id() as its I2NP id.  On success *out is the
 * pending build (caller owns; tunnel_build_free()).
 * ERR_ARG for a bad hop or record count, ERR_CRYPTO for a bad hop key.
 */
int tunnel_build_create(const struct tunnel_build_cfg *cfg,
			struct tunnel_build **out, struct bbuf *msg);
/* Wipe and release b.  Accepts NULL. */
void tunnel_build_free(struct tunnel_build *b);

/* The I2NP message id of the request and the id the reply will carry. */
uint32_t tunnel_build_first_msg_id(const struct tunnel_build *b);
uint32_t tunnel_build_reply_msg_id(const struct tunnel_build *b);
enum tunnel_build_kind tunnel_build_get_kind(const struct tunnel_build *b);
bool tunnel_build_is_inbound(const struct tunnel_build *b);
unsigned tunnel_build_n_hops(const struct tunnel_build *b);
/* Hop i's receive tunnel id (hop 0: the id of the gateway). */
uint32_t tunnel_build_hop_id(const struct tunnel_build *b, unsigned i);
/* Inbound: the id the last hop sends to us with (our endpoint id). */
uint32_t tunnel_build_endpoint_id(const struct tunnel_build *b);
/* Hop i's secrets (borrowed; valid while b lives). */
const struct tunnel_build_keys *tunnel_build_hop_keys(
	const struct tunnel_build *b, unsigned i);
/* The slot hop i's record went into. */
unsigned tunnel_build_hop_slot(const struct tunnel_build *b, unsigned i);

/*
 * Read the reply (untrusted): records is the payload after the count
 * (n records of the build's kind), processed in place.  Walks the hops
 * from last to first: AEAD-decrypt the hop's own reply, then take its
 * layer off the earlier hops' records.  codes[i] gets hop i's reply
 * byte.  Returns 0 when every reply authenticated (the tunnel is built
 * iff every code is 0), ERR_FORMAT for a wrong record count, ERR_AUTH if
 * any reply or the inbound fake record was tampered with (the whole
 * build must be discarded).
 */
int tunnel_build_reply_process(struct tunnel_build *b, uint8_t *records,
			       unsigned n, uint8_t codes[TUNNEL_BUILD_MAX_HOPS]);

/* ---- participant ---- */

/* Why a build message was dropped (no reply) or what it was. */
enum tunnel_build_drop {
	TUNNEL_BUILD_DROP_NONE,
	TUNNEL_BUILD_DROP_NOT_OURS,	/* no record with our hash prefix */
	TUNNEL_BUILD_DROP_REPLAY,	/* ephemeral key seen before */
	TUNNEL_BUILD_DROP_DECRYPT,	/* AEAD or DH failed */
	TUNNEL_BUILD_DROP_FORMAT,	/* bad plaintext (ids, flags, options) */
	TUNNEL_BUILD_DROP_TOO_OLD,	/* request time beyond the window */
	TUNNEL_BUILD_DROP_FUTURE,
	TUNNEL_BUILD_DROP_LOOP,		/* we are our own next hop */
	TUNNEL_BUILD_DROP_COUNT_
};

/* The participant's view of one build message: which slot was ours and
 * what it asked for.  Holds secrets: wipe with tunnel_build_open_wipe(). */
struct tunnel_build_open {
	enum tunnel_build_kind kind;
	unsigned index;
	struct tunnel_build_request req;
	struct tunnel_build_keys keys;
};
void tunnel_build_open_wipe(struct tunnel_build_open *o);

struct tunnel_replay;

struct tunnel_build_participant {
	struct tunnel_build_responder rs;
	uint8_t self[32];
	struct tunnel_replay *replay;	/* borrowed; NULL: no replay check */
	uint64_t max_age_ms, max_future_ms;
	uint64_t drops[TUNNEL_BUILD_DROP_COUNT_];
};

/* Set p up for the router with keystore ks and hash self (both borrowed
 * and copied respectively), with Java's request-time window. */
void tunnel_build_participant_init(struct tunnel_build_participant *p,
				   const struct keystore *ks,
				   const uint8_t self[32],
				   struct tunnel_replay *replay);

/*
 * Find our record among records (n of kind, untrusted), check the replay
 * filter, decrypt it and check its fields and request time against
 * now_ms.  On success out describes our record and the ephemeral key is
 * recorded as seen; records are not modified.  On failure the reason is
 * counted in p->drops and returned in *why (may be NULL): the message is
 * dropped without a reply.  ERR_NOT_FOUND, ERR_DUPLICATE, ERR_AUTH,
 * ERR_CRYPTO, ERR_FORMAT, ERR_EXPIRED, ERR_PROTOCOL (loop).
 */
int tunnel_build_participant_open(struct tunnel_build_participant *p,
				  enum tunnel_build_kind kind,
				  const uint8_t *records, unsigned n,
				  uint64_t now_ms, struct tunnel_build_open *out,
				  enum tunnel_build_drop *why);
/*
 * Write our reply (code, options opts or NULL) into our slot and put our
 * layer on every other record, in place.  records must be the same
 * message o was opened from.
 */
int tunnel_build_participant_reply(const struct tunnel_build_open *o,
				   uint8_t *records, unsigned n,
				   const struct mapping *opts, uint8_t code);

#endif /* TUNNELS_TUNNEL_BUILD_H */
