/*
 * Streaming packets (streaming spec, "Packet Format" and "Flags and Option
 * Data Fields"; PROTOCOLS.md 2.15).
 *
 *   sendStreamId (4) ‖ receiveStreamId (4) ‖ sequenceNum (4) ‖
 *   ackThrough (4) ‖ NACK count (1) ‖ NACKs (4 each) ‖ resendDelay (1) ‖
 *   flags (2) ‖ option size (2) ‖ option data ‖ payload
 *
 * Options appear in the spec's "Option Order", not bit order: delay (2),
 * FROM Destination, max packet size (2), offline signature, signature.
 * The signature covers the whole packet with its own bytes zeroed.  Its
 * length comes from the FROM destination (or the offline block's transient
 * key); without FROM it is the rest of the option data, as the spec allows
 * for a packet whose sender is known from an earlier SYN.
 *
 * There is no length field: the layers below frame each packet.
 * Pure functions, thread-safe.
 */
#ifndef APPS_CLIENT_STREAM_PACKET_H
#define APPS_CLIENT_STREAM_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "router/keys_and_cert.h"

/* Flags (bit 0 is the least significant). */
#define STREAM_F_SYN 0x0001		/* SYNCHRONIZE */
#define STREAM_F_CLOSE 0x0002
#define STREAM_F_RESET 0x0004
#define STREAM_F_SIG 0x0008		/* SIGNATURE_INCLUDED */
#define STREAM_F_SIG_REQ 0x0010		/* SIGNATURE_REQUESTED (unused) */
#define STREAM_F_FROM 0x0020		/* FROM_INCLUDED */
#define STREAM_F_DELAY 0x0040		/* DELAY_REQUESTED */
#define STREAM_F_MAX_SIZE 0x0080	/* MAX_PACKET_SIZE_INCLUDED */
#define STREAM_F_INTERACTIVE 0x0100	/* PROFILE_INTERACTIVE (ignored) */
#define STREAM_F_ECHO 0x0200
#define STREAM_F_NO_ACK 0x0400
#define STREAM_F_OFFLINE 0x0800		/* OFFLINE_SIGNATURE */

#define STREAM_HEADER_MIN_BYTES 22	/* no NACKs, no options */
#define STREAM_MAX_NACKS 255
/* "A value greater than 60000 indicates choking." */
#define STREAM_DELAY_CHOKE_MS 60000
/* Largest packet we decode: a client payload never exceeds 64 KiB. */
#define STREAM_PACKET_MAX_BYTES 65536
/* Pings: "The payload in the ping, up to a maximum of 32 bytes, is
 * returned in the pong." */
#define STREAM_PING_MAX_PAYLOAD_BYTES 32
/* Largest signature of any type (RSA-4096). */
#define STREAM_SIG_MAX_BYTES 512

/* OFFLINE_SIGNATURE option (common-structures "OfflineSignature"). */
struct stream_offline_sig {
	uint32_t expires_s;
	uint16_t transient_type;
	const uint8_t *transient_key;	/* borrowed */
	size_t transient_key_len;
	const uint8_t *sig;		/* by the destination's key; borrowed */
	size_t sig_len;
};

struct stream_packet {
	uint32_t send_id;
	uint32_t recv_id;
	uint32_t seq;
	uint32_t ack_through;
	uint8_t nack_count;
	uint32_t nacks[STREAM_MAX_NACKS];
	uint8_t resend_delay;		/* seconds */
	uint16_t flags;
	uint16_t delay_ms;		/* STREAM_F_DELAY */
	uint16_t max_size;		/* STREAM_F_MAX_SIZE */
	/* STREAM_F_FROM: on decode, the sender (from_len bytes at from_raw,
	 * borrowed); on encode, ignored (the signer's destination is used). */
	struct keys_and_cert from;
	struct stream_offline_sig offline;	/* STREAM_F_OFFLINE */
	/* STREAM_F_SIG: on decode, borrowed; sig_off is its offset in the
	 * packet, for verification. */
	const uint8_t *sig;
	size_t sig_len;
	size_t sig_off;
	const uint8_t *payload;		/* borrowed */
	size_t payload_len;
	/* Set by whoever checked the signature with the FROM in the packet
	 * (stream_packet_verify() passed), so it is not checked twice;
	 * decode clears it. */
	bool sig_checked;
};

/*
 * Who signs: our Destination and a function that signs with its key
 * (the key itself stays with its owner, STYLE.md §6).  sig_len is the
 * signature length of dest's type.
 */
struct stream_signer {
	const struct keys_and_cert *dest;
	size_t sig_len;
	void (*sign)(void *ctx, const uint8_t *msg, size_t len, uint8_t *sig);
	void *ctx;
};

/*
 * Decode one packet (untrusted).  Every declared length is checked against
 * what remains; options must come in spec order and fill the option size
 * exactly (a signature takes the rest when its length is not implied).
 * The packet's pointers borrow from buf.  Errors: ERR_TRUNCATED,
 * ERR_TOO_BIG (over STREAM_PACKET_MAX_BYTES), ERR_FORMAT (option data that
 * does not match the flags), ERR_UNSUPPORTED (a FROM or transient key type
 * we do not know the signature length of).  *out is written on success.
 */
int stream_packet_decode(const uint8_t *buf, size_t len,
			 struct stream_packet *out);

/*
 * Append p to out.  With STREAM_F_SIG or STREAM_F_FROM in p->flags, signer
 * (required then) gives the FROM destination and signs the finished
 * packet.  p->sig/p->from are ignored.  Offline signatures are not
 * produced (ERR_UNSUPPORTED).  ERR_ARG when a flag needs a signer that is
 * missing or nack_count/payload are out of range.
 */
int stream_packet_encode(const struct stream_packet *p,
			 const struct stream_signer *signer, struct bbuf *out);

/*
 * Check the signature of decoded packet p (buf/len: the bytes it was
 * decoded from) with signer key `from` (the FROM in p, or the peer known
 * from an earlier SYN).  With an offline block, its signature is checked
 * with `from` and the packet's with the transient key.  Errors:
 * ERR_FORMAT (no signature, or a length not that of the key's type),
 * ERR_EXPIRED (offline block expired at now_s), ERR_UNSUPPORTED (a type we
 * cannot verify), ERR_BAD_SIG.
 */
int stream_packet_verify(const struct stream_packet *p, const uint8_t *buf,
			 size_t len, const struct keys_and_cert *from,
			 uint64_t now_s);

#endif /* APPS_CLIENT_STREAM_PACKET_H */
