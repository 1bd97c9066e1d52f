/*
 * NTCP2 handshake crypto (geti2p.net/spec/ntcp2, "Messages" and the KDF
 * sections): SessionRequest, SessionCreated and SessionConfirmed as pure
 * functions over the Noise symmetric state, plus the data-phase KDF and a
 * replay cache for ephemeral keys.  No I/O: the caller (router/ntcp2.c)
 * reads bytes off the socket and hands them in; tests drive both roles
 * against each other with fixed keys.
 *
 * Call order.  Alice (initiator):
 *   ntcp2_hs_init_alice -> ntcp2_hs_write_request -> ntcp2_hs_read_created
 *   -> ntcp2_hs_read_padding -> ntcp2_hs_write_confirmed -> ntcp2_hs_split
 * Bob (responder):
 *   ntcp2_hs_init_bob -> ntcp2_hs_read_request -> ntcp2_hs_read_padding
 *   -> ntcp2_hs_write_created -> ntcp2_hs_read_confirmed -> ntcp2_hs_split
 * A call out of order is ERR_BAD_STATE.  Any error other than the clock-skew
 * ERR_EXPIRED of read_request leaves the handshake failed: only
 * ntcp2_hs_wipe() is allowed afterwards.
 *
 * Ownership: struct ntcp2_hs is the caller's (embed it); it holds session
 * secrets and must be wiped with ntcp2_hs_wipe() on every path.  The local
 * static key (struct noise_static) is borrowed and must outlive it.
 * Thread: none of this is thread-safe on a shared object.
 */
#ifndef ROUTER_NTCP2_HANDSHAKE_H
#define ROUTER_NTCP2_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/aes.h"
#include "crypto/base/bytes.h"
#include "crypto/noise.h"
#include "crypto/x25519.h"

/* "Noise_XKaesobfse+hs2+hs3_25519_ChaChaPoly_SHA256" (48 bytes: hashed). */
#define NTCP2_PROTOCOL_NAME "Noise_XKaesobfse+hs2+hs3_25519_ChaChaPoly_SHA256"
#define NTCP2_VERSION 2
#define NTCP2_HASH_BYTES 32
#define NTCP2_IV_BYTES 16
#define NTCP2_OPTIONS_BYTES 16
/* Messages 1 and 2 without padding: 32-byte obfuscated key + 32-byte
 * ChaChaPoly frame over the 16-byte options. */
#define NTCP2_MSG1_BYTES 64
#define NTCP2_MSG2_BYTES 64
/* Message 3 part 1: the 48-byte frame around Alice's static key. */
#define NTCP2_MSG3P1_BYTES 48
/* "Total length of both Message 3 AEAD frames (parts 1 and 2) is 65535
 * bytes; part 1 is 48 bytes so part 2 max frame length is 65487". */
#define NTCP2_M3P2_MAX_BYTES 65487
#define NTCP2_M3P2_MIN_BYTES 16
/* i2pd reads messages 1 and 2 as at most 287 bytes (PROTOCOLS.md 2.3), so
 * we never send more padding than this... */
#define NTCP2_HS_SEND_PADDING_MAX_BYTES 223
/* ...and accept this much ("Bob may reject connections with excessive
 * padding"; Java sends up to 256). */
#define NTCP2_HS_RECV_PADDING_MAX_BYTES 1024
/* ±60 s, as i2pd and Java; "D" in the spec. */
#define NTCP2_CLOCK_SKEW_S 60
/* "Values in the cache must have a lifetime of at least 2*D." */
#define NTCP2_REPLAY_LIFETIME_MS (2 * NTCP2_CLOCK_SKEW_S * 1000)

enum ntcp2_role { NTCP2_ALICE, NTCP2_BOB };

struct ntcp2_replay;	/* opaque, see the end of this file */

/* Keys of one direction of the data phase. */
struct ntcp2_dir_keys {
	uint8_t k[32];		/* ChaChaPoly key */
	uint8_t sipkey[16];	/* SipHash-2-4 key (k1 ‖ k2 as bytes) */
	uint8_t sipiv[8];	/* initial IV of the length obfuscation */
};

/* Data-phase keys for one side: what it sends with and receives with. */
struct ntcp2_keys {
	struct ntcp2_dir_keys send;
	struct ntcp2_dir_keys recv;
};

/* Fields are private to ntcp2_handshake.c. */
struct ntcp2_hs {
	enum ntcp2_role role;
	unsigned step;
	struct noise_sym sym;
	struct aes256_ctx *aes;		/* key = RH_B */
	uint8_t iv[NTCP2_IV_BYTES];	/* the CBC state, carried 1 -> 2 */
	struct noise_static s;		/* local static key */
	struct x25519_sk e;
	struct x25519_pk e_pk;
	struct x25519_pk re;		/* remote ephemeral (X for Bob, Y for Alice) */
	struct x25519_pk rs;		/* remote static */
	bool has_e;
	bool skewed;
	uint8_t netid;
	uint16_t pad_len;		/* padding of the message being read */
	uint16_t m3p2_len;
	int64_t skew_s;			/* peer clock minus ours, seconds */
};

/* The parsed options of message 1 or 2. */
struct ntcp2_hs_options {
	uint8_t netid;		/* message 1 only; 0 = unspecified */
	uint8_t version;	/* message 1 only */
	uint16_t pad_len;
	uint16_t m3p2_len;	/* message 1 only */
	uint32_t ts;		/* tsA or tsB, seconds */
};

/*
 * Start Alice's side: s is our static key (the struct is copied, what it
 * points to is borrowed), bob_rh Bob's router hash (the AES key), bob_s
 * and bob_iv the "s" and "i" of his published NTCP2 address, netid ours.
 * The ephemeral key is random unless ntcp2_hs_set_ephemeral() follows.
 */
void ntcp2_hs_init_alice(struct ntcp2_hs *hs, const struct noise_static *s,
			 const uint8_t bob_rh[32], const struct x25519_pk *bob_s,
			 const uint8_t bob_iv[NTCP2_IV_BYTES], uint8_t netid);
/* Start Bob's side: s our static key, our_rh our router hash, our_iv the
 * "i" we publish, netid ours. */
void ntcp2_hs_init_bob(struct ntcp2_hs *hs, const struct noise_static *s,
		       const uint8_t our_rh[32],
		       const uint8_t our_iv[NTCP2_IV_BYTES], uint8_t netid);
/* Use e as this side's ephemeral key (tests, golden transcripts); before
 * write_request (Alice) or read_request (Bob). */
void ntcp2_hs_set_ephemeral(struct ntcp2_hs *hs, const struct x25519_sk *e);

/*
 * Alice: append SessionRequest to out: AES(X) ‖ ChaChaPoly(options) ‖ pad.
 * now_s is our clock (tsA), pad (pad_len random bytes, cleartext) the
 * padding, m3p2_len the exact length message 3 part 2 will have (its
 * plaintext + 16).  ERR_ARG for a pad_len over
 * NTCP2_HS_SEND_PADDING_MAX_BYTES or an m3p2_len out of range; ERR_CRYPTO
 * when Bob's static key is a low-order point.
 */
int ntcp2_hs_write_request(struct ntcp2_hs *hs, uint32_t now_s,
			   const uint8_t *pad, uint16_t pad_len,
			   uint16_t m3p2_len, struct bbuf *out);

/*
 * Bob: process the first NTCP2_MSG1_BYTES of SessionRequest (untrusted).
 * now_s is our clock; replay, if not NULL, the cache the ephemeral key is
 * checked against and added to (now_mono_ms its clock).  On success opt
 * gets the options and the caller reads opt->pad_len bytes of padding
 * into ntcp2_hs_read_padding().  Errors: ERR_AUTH (AEAD failure, the
 * probing-resistance case), ERR_CRYPTO (low-order X), ERR_NETWORK
 * (netid mismatch), ERR_UNSUPPORTED (version), ERR_TOO_BIG (padding or
 * m3p2len over our limits), ERR_FORMAT (m3p2len too short), ERR_DUPLICATE
 * (replayed X), ERR_EXPIRED (tsA more than NTCP2_CLOCK_SKEW_S off).
 * ERR_EXPIRED alone leaves the handshake usable: the caller may read the
 * padding and send SessionCreated (so Alice learns our clock) before
 * closing; ntcp2_hs_write_created() then succeeds but read_confirmed
 * refuses.
 */
int ntcp2_hs_read_request(struct ntcp2_hs *hs, const uint8_t msg[NTCP2_MSG1_BYTES],
			  uint32_t now_s, struct ntcp2_replay *replay,
			  uint64_t now_mono_ms, struct ntcp2_hs_options *opt);

/*
 * Either side: mix the padding of message 1 (Bob) or message 2 (Alice)
 * into the handshake hash.  len must be the pad_len the options gave
 * (ERR_ARG otherwise).
 */
int ntcp2_hs_read_padding(struct ntcp2_hs *hs, const uint8_t *pad, size_t len);

/*
 * Bob: append SessionCreated to out: AES(Y) (CBC continued from message
 * 1) ‖ ChaChaPoly(options) ‖ pad.  ERR_ARG for too much padding.
 */
int ntcp2_hs_write_created(struct ntcp2_hs *hs, uint32_t now_s,
			   const uint8_t *pad, uint16_t pad_len,
			   struct bbuf *out);

/*
 * Alice: process the first NTCP2_MSG2_BYTES of SessionCreated.  Same
 * checks and errors as read_request except netid/version/m3p2len, and
 * ERR_EXPIRED (tsB skewed) is final: Alice closes.  On success read
 * opt->pad_len bytes of padding into ntcp2_hs_read_padding().
 */
int ntcp2_hs_read_created(struct ntcp2_hs *hs, const uint8_t msg[NTCP2_MSG2_BYTES],
			  uint32_t now_s, struct ntcp2_replay *replay,
			  uint64_t now_mono_ms, struct ntcp2_hs_options *opt);

/*
 * Alice: append SessionConfirmed to out: part 1 (our static key, 48
 * bytes) ‖ part 2 (payload encrypted, plen + 16 bytes).  payload is the
 * message 3 part 2 block list (RouterInfo block first); plen + 16 must
 * equal the m3p2_len announced in message 1 (ERR_ARG otherwise).
 */
int ntcp2_hs_write_confirmed(struct ntcp2_hs *hs, const uint8_t *payload,
			     size_t plen, struct bbuf *out);

/* Bob: the length of the whole SessionConfirmed (48 + m3p2len), known
 * after read_request. */
size_t ntcp2_hs_confirmed_len(const struct ntcp2_hs *hs);

/*
 * Bob: process SessionConfirmed (exactly ntcp2_hs_confirmed_len() bytes,
 * untrusted) and decrypt part 2 into payload (room for m3p2len - 16
 * bytes; *plen gets the length).  The caller then checks the payload's
 * RouterInfo block against ntcp2_hs_remote_static().  Errors: ERR_AUTH,
 * ERR_CRYPTO, ERR_ARG (wrong length), ERR_EXPIRED (message 1 was skewed).
 */
int ntcp2_hs_read_confirmed(struct ntcp2_hs *hs, const uint8_t *msg,
			    size_t len, uint8_t *payload, size_t *plen);

/*
 * After the last message: the data-phase keys of this side (Alice sends
 * with k_ab, Bob with k_ba) per "KDF for data phase".  Wipes the
 * handshake state.  ERR_BAD_STATE when the handshake is not complete.
 */
int ntcp2_hs_split(struct ntcp2_hs *hs, struct ntcp2_keys *out);

/* The remote static key: Bob's (Alice, from init) or Alice's (Bob, after
 * read_confirmed).  False before it is known. */
bool ntcp2_hs_remote_static(const struct ntcp2_hs *hs, struct x25519_pk *out);
/* Peer clock minus ours in seconds, from the last options read. */
int64_t ntcp2_hs_skew_s(const struct ntcp2_hs *hs);
/* m3p2len: announced (Bob, after read_request) or chosen (Alice). */
uint16_t ntcp2_hs_m3p2_len(const struct ntcp2_hs *hs);
void ntcp2_hs_wipe(struct ntcp2_hs *hs);

/* ---- replay cache ---- */

/*
 * Ephemeral keys seen recently (spec: "Bob must maintain a local cache of
 * previously-used handshake values and reject duplicates ... lifetime of
 * at least 2*D").  Two generations of a hash set rotate every lifetime_ms,
 * so a key is remembered between lifetime_ms and 2 * lifetime_ms; a
 * generation holding max_per_gen keys rotates early (memory stays
 * bounded under a flood; the guarantee then shrinks, which is logged).
 * Keys are hashed with a random SipHash key.  Caller owns the result.
 */
struct ntcp2_replay *ntcp2_replay_new(size_t max_per_gen, uint64_t lifetime_ms);
void ntcp2_replay_free(struct ntcp2_replay *rc);
/* Record key; ERR_DUPLICATE if it was already recorded. */
int ntcp2_replay_check(struct ntcp2_replay *rc, const uint8_t key[32],
		       uint64_t now_mono_ms);
/* Keys currently remembered (both generations). */
size_t ntcp2_replay_count(const struct ntcp2_replay *rc);

#endif /* ROUTER_NTCP2_HANDSHAKE_H */
