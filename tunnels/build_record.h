/*
 * ECIES-X25519 tunnel build records (geti2p.net/spec/tunnel-creation-ecies,
 * PROTOCOLS.md 2.8): the long records of VariableTunnelBuild (23/24,
 * 528 bytes, 464 plaintext) and the short records of ShortTunnelBuild and
 * OutboundTunnelBuildReply (25/26, 218 bytes, 154 plaintext).
 *
 * One record, both sides:
 *   - creator: tunnel_build_record_encrypt() runs Noise_N to the hop's
 *     X25519 identity key and keeps what the reply needs (ck, h, keys);
 *   - participant: tunnel_build_record_decrypt() runs the responder side
 *     with the router keystore (the secret never leaves crypto/);
 *   - the hop's own reply record (AEAD) and the symmetric layer each hop
 *     puts on every other record (AES-256-CBC with the reply key and IV for
 *     long records; ChaCha20 with the reply key, counter 1 and the record
 *     index as nonce for short ones).
 * Message-level work (record order, fillers, pre-encryption, reply walk)
 * lives in tunnels/tunnel_build.h.
 *
 * Everything here is pure computation: no clock, no I/O, thread-safe on
 * distinct objects.  struct tunnel_build_keys holds secrets: wipe it with
 * tunnel_build_keys_wipe().
 */
#ifndef TUNNELS_BUILD_RECORD_H
#define TUNNELS_BUILD_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "crypto/keystore.h"
#include "crypto/noise.h"
#include "crypto/x25519.h"

struct mapping;

enum tunnel_build_kind {
	TUNNEL_BUILD_LONG,	/* VariableTunnelBuild (23) and its reply (24) */
	TUNNEL_BUILD_SHORT,	/* ShortTunnelBuild (25), reply (26) */
};

#define TUNNEL_BUILD_LONG_RECORD_BYTES 528
#define TUNNEL_BUILD_LONG_PLAIN_BYTES 464
#define TUNNEL_BUILD_LONG_REPLY_PLAIN_BYTES 512
#define TUNNEL_BUILD_SHORT_RECORD_BYTES 218
#define TUNNEL_BUILD_SHORT_PLAIN_BYTES 154
#define TUNNEL_BUILD_SHORT_REPLY_PLAIN_BYTES 202
#define TUNNEL_BUILD_MAX_RECORD_BYTES TUNNEL_BUILD_LONG_RECORD_BYTES
#define TUNNEL_BUILD_MAX_PLAIN_BYTES TUNNEL_BUILD_LONG_PLAIN_BYTES
/* Encrypted record: truncated hop hash ‖ ephemeral key ‖ AEAD ciphertext. */
#define TUNNEL_BUILD_HASH_PREFIX_BYTES 16
#define TUNNEL_BUILD_EPH_OFFSET 16
#define TUNNEL_BUILD_CIPHER_OFFSET 48
/* "The maximum size of the Mapping (including the length field) is 296
 * bytes" (long) and "98 bytes" (short). */
#define TUNNEL_BUILD_LONG_OPTIONS_MAX_BYTES 296
#define TUNNEL_BUILD_SHORT_OPTIONS_MAX_BYTES 98
#define TUNNEL_BUILD_OPTIONS_MAX_BYTES TUNNEL_BUILD_LONG_OPTIONS_MAX_BYTES

/* "bit 7: ... inbound gateway (IBGW).  Bit 6 ... outbound endpoint". */
#define TUNNEL_BUILD_FLAG_IBGW 0x80
#define TUNNEL_BUILD_FLAG_OBEP 0x40
/* Reply bytes: accept, and TUNNEL_REJECT_BANDWIDTH (the only refusal
 * sent, "to avoid fingerprinting"). */
#define TUNNEL_BUILD_REPLY_ACCEPT 0
#define TUNNEL_BUILD_REPLY_REJECT 30
/* "For now, the only supported value is 600 (10 minutes)." */
#define TUNNEL_BUILD_EXPIRATION_S 600
/* Short records: layer encryption type 0 is AES, the only one defined. */
#define TUNNEL_BUILD_LAYER_AES 0
#define TUNNEL_BUILD_MS_PER_MIN 60000ULL

/* Paid relaying (docs/relaypay.md §3): a hop's ticket (chain/relaypay.h's
 * wire form, opaque here) as base64 under this key of its record's
 * options.  Routers that do not know the key ignore it.  Only long records
 * have room: at most 168 bytes (224 of base64), so the ticket and the
 * bandwidth options m, r and l of up to 7 digits each fit the 296 bytes. */
#define TUNNEL_BUILD_OPT_TICKET "bits.tk"
#define TUNNEL_BUILD_TICKET_MAX_BYTES 168

/* The plaintext of a request record (both kinds). */
struct tunnel_build_request {
	uint32_t receive_id;		/* "tunnel ID to receive messages as" */
	uint32_t next_id;
	uint8_t next_ident[32];
	uint8_t flags;			/* TUNNEL_BUILD_FLAG_* */
	uint8_t layer_type;		/* short only; 0 (AES) for long */
	uint32_t request_time_min;	/* minutes since the epoch */
	uint32_t expiration_s;
	uint32_t next_msg_id;
	/* Long records carry these; short records derive them (see keys). */
	uint8_t layer_key[32];
	uint8_t iv_key[32];
	uint8_t reply_key[32];
	uint8_t reply_iv[16];
	/* The options Mapping as received (size field included). */
	uint8_t options[TUNNEL_BUILD_OPTIONS_MAX_BYTES];
	size_t options_len;
};

/*
 * Per-hop secrets both ends hold after a record's Noise_N: ck and h for
 * the hop's own reply record, and the hop's tunnel keys.  For long records
 * the layer, IV and reply keys are the ones the request carried; for short
 * ones they come from the KDF on ck ("SMTunnelReplyKey", "SMTunnelLayerKey",
 * "TunnelLayerIVKey") and an OBEP also gets the garlic reply key and tag
 * ("RGarlicKeyAndTag").
 */
struct tunnel_build_keys {
	uint8_t ck[32];		/* long: the reply AEAD key ("k = chainkey") */
	uint8_t h[32];		/* the reply AEAD associated data */
	uint8_t layer_key[32];
	uint8_t iv_key[32];
	uint8_t reply_key[32];	/* long: AES-256; short: ChaCha20 key */
	uint8_t reply_iv[16];	/* long only */
	uint8_t garlic_key[32];	/* short OBEP only */
	uint8_t garlic_tag[8];
	bool has_garlic;
};

void tunnel_build_keys_wipe(struct tunnel_build_keys *k);

/* Record and plaintext sizes of a kind. */
size_t tunnel_build_record_bytes(enum tunnel_build_kind kind);
size_t tunnel_build_plain_bytes(enum tunnel_build_kind kind);

/*
 * Encode req's plaintext into out (tunnel_build_plain_bytes(kind) bytes),
 * filling the padding with random bytes.  opts (NULL = empty) is the
 * options Mapping.  ERR_TOO_BIG when it does not fit the kind's limit,
 * ERR_ARG for a zero tunnel id or both role flags.
 */
int tunnel_build_request_encode(enum tunnel_build_kind kind,
				const struct tunnel_build_request *req,
				const struct mapping *opts, uint8_t *out);
/*
 * Decode and validate a plaintext (untrusted).  ERR_FORMAT: zero tunnel
 * id, both role flags, a malformed options Mapping (or over its limit).
 */
int tunnel_build_request_decode(enum tunnel_build_kind kind,
				const uint8_t *plain, size_t len,
				struct tunnel_build_request *out);
/*
 * The options as a Mapping (out initialised by the caller, replaced on
 * success).  Errors as mapping_decode().
 */
int tunnel_build_request_options(const struct tunnel_build_request *req,
				 struct mapping *out);

/* Put ticket (1..TUNNEL_BUILD_TICKET_MAX_BYTES) into the options m.
 * ERR_TOO_BIG / ERR_ARG for a bad length. */
int tunnel_build_opts_set_ticket(struct mapping *m, const uint8_t *ticket,
				 size_t len);
/*
 * The ticket a request's options carry (untrusted) into out (outmax ≥
 * TUNNEL_BUILD_TICKET_MAX_BYTES), its length in *len.  ERR_NOT_FOUND when
 * there is none, ERR_FORMAT when the options or the base64 are bad.
 */
int tunnel_build_request_ticket(const struct tunnel_build_request *req,
				uint8_t *out, size_t outmax, size_t *len);

/*
 * Tickets after the build (docs/relaypay.md §3): as a tunnel carries
 * more, its creator sends each paid hop further tickets in the body of an
 * I2NP Data message, garlic-wrapped (Noise_N) to the hop's router and
 * delivered through one of the creator's outbound tunnels.  Only hops that
 * publish bits.pay.* get one (never an i2pd or Java router):
 *   magic "btk1" (4) ‖ the tunnel id the hop receives on (4) ‖ n (1,
 *   1..TUNNEL_TOPUP_MAX_TICKETS) ‖ n × (length (1, 1..168) ‖ ticket)
 */
#define TUNNEL_TOPUP_MAGIC "btk1"
#define TUNNEL_TOPUP_MAX_TICKETS 4
#define TUNNEL_TOPUP_MAX_BYTES \
	(9 + TUNNEL_TOPUP_MAX_TICKETS * (1 + TUNNEL_BUILD_TICKET_MAX_BYTES))

struct tunnel_topup {
	uint32_t tunnel_id;
	size_t n;
	const uint8_t *tk[TUNNEL_TOPUP_MAX_TICKETS];	/* borrow the input */
	size_t len[TUNNEL_TOPUP_MAX_TICKETS];
};

/* Append the body for n (1..TUNNEL_TOPUP_MAX_TICKETS) tickets tk[i] of
 * len[i] (1..TUNNEL_BUILD_TICKET_MAX_BYTES) bytes to out.  ERR_ARG /
 * ERR_TOO_BIG for a bad count or length, a zero tunnel id (out
 * unchanged). */
int tunnel_topup_encode(uint32_t tunnel_id, const uint8_t *const *tk,
			const size_t *len, size_t n, struct bbuf *out);
/*
 * Decode a Data message's body (untrusted).  ERR_NOT_FOUND: not a top-up
 * (another magic); ERR_TRUNCATED / ERR_TOO_BIG for a length that does not
 * match, ERR_FORMAT for a zero tunnel id, no ticket, too many or an empty
 * or oversized one.
 */
int tunnel_topup_decode(const uint8_t *in, size_t len,
			struct tunnel_topup *out);

/*
 * Creator: build the encrypted record for one hop into out
 * (tunnel_build_record_bytes(kind) bytes).  hop_hash is the hop's router
 * hash (the first 16 bytes go in clear), hop_pk its X25519 identity
 * encryption key.  eph is the ephemeral secret (NULL: a fresh random one;
 * the spec requires a unique key per hop and record).  keys gets the
 * secrets for the reply and the tunnel.  ERR_CRYPTO for a low-order hop
 * key; encoding errors as tunnel_build_request_encode().
 */
int tunnel_build_record_encrypt(enum tunnel_build_kind kind,
				const struct tunnel_build_request *req,
				const struct mapping *opts,
				const uint8_t hop_hash[32],
				const struct x25519_pk *hop_pk,
				const struct x25519_sk *eph, uint8_t *out,
				struct tunnel_build_keys *keys);

/*
 * The participant's precomputed Noise state: InitializeSymmetric, the
 * empty prologue and MixHash(our static key), the part "can all be
 * precalculated by each router for all incoming build requests".  ks is
 * borrowed and must outlive it.
 */
struct tunnel_build_responder {
	const struct keystore *ks;
	struct noise_sym base;
};
void tunnel_build_responder_init(struct tunnel_build_responder *r,
				 const struct keystore *ks);

/*
 * Participant: decrypt record (tunnel_build_record_bytes(kind) bytes,
 * untrusted) addressed to us.  The hash prefix is not checked here.
 * On success req and keys are filled (short records: keys derived per
 * the OBEP flag).  ERR_CRYPTO for a low-order ephemeral key, ERR_AUTH when
 * the AEAD fails, decode errors as tunnel_build_request_decode().  Nothing
 * is written on failure.
 */
int tunnel_build_record_decrypt(const struct tunnel_build_responder *r,
				enum tunnel_build_kind kind,
				const uint8_t *record,
				struct tunnel_build_request *req,
				struct tunnel_build_keys *keys);

/*
 * Participant: overwrite record (slot index) with our encrypted reply:
 * plaintext = opts Mapping (NULL = empty) ‖ random padding ‖ code, AEAD
 * with keys->ck and n = 0 (long) or keys->reply_key and n = index (short),
 * AD = keys->h.  ERR_TOO_BIG when opts does not fit.
 */
int tunnel_build_reply_encrypt(enum tunnel_build_kind kind, uint8_t *record,
			       unsigned index,
			       const struct tunnel_build_keys *keys,
			       const struct mapping *opts, uint8_t code);
/*
 * Creator: decrypt the reply record of the hop whose keys these are (in
 * place; untrusted) and return its reply byte in *code.  ERR_AUTH when it
 * does not verify.  The reply options are not interpreted.
 */
int tunnel_build_reply_decrypt(enum tunnel_build_kind kind, uint8_t *record,
			       unsigned index,
			       const struct tunnel_build_keys *keys,
			       uint8_t *code);

/*
 * The layer a hop puts on every record but its own: apply it to each
 * record i of records (n records) whose bit i is set in mask.  forward:
 * what the participant does (AES-256-CBC encrypt with the reply key and
 * IV, each record separately; ChaCha20 with the reply key, counter 1 and
 * nonce byte 4 = i for short records); !forward: the inverse the creator
 * uses to pre-encrypt requests and to peel replies (CBC decrypt; ChaCha20
 * is its own inverse).  ERR_CRYPTO if OpenSSL fails.
 */
int tunnel_build_records_layer(enum tunnel_build_kind kind, uint8_t *records,
			       unsigned n, uint32_t mask,
			       const struct tunnel_build_keys *keys,
			       bool forward);

#endif /* TUNNELS_BUILD_RECORD_H */
