/*
 * NTCP2 data phase (geti2p.net/spec/ntcp2, "4) Data Phase"): the
 * per-direction ChaChaPoly frames with SipHash-obfuscated lengths, and the
 * blocks inside a frame (DateTime, Options, RouterInfo, I2NP, Termination,
 * Padding).  Pure functions, no I/O; router/ntcp2.c moves the bytes.
 *
 * Receiving a frame: ntcp2_frame_len_decode() on the 2 length bytes (this
 * advances the SipHash IV chain), then ntcp2_frame_open() on that many
 * bytes, then ntcp2_frame_check() on the plaintext before acting on any
 * block (ntcp2_block_decode() walks them).  Sending: build the blocks with
 * the ntcp2_block_put_*() writers, then ntcp2_frame_seal().
 *
 * struct ntcp2_dir holds one direction's session keys: wipe it.
 */
#ifndef ROUTER_NTCP2_FRAME_H
#define ROUTER_NTCP2_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "router/i2np.h"
#include "router/ntcp2_handshake.h"

#define NTCP2_TAG_BYTES 16
#define NTCP2_LEN_BYTES 2
/* "obf size :: when de-obfuscated: 16 - 65535" (ciphertext with tag). */
#define NTCP2_FRAME_MIN_BYTES 16
#define NTCP2_FRAME_MAX_BYTES 65535
/* "the max unencrypted data is 65519 bytes" */
#define NTCP2_FRAME_MAX_PLAIN_BYTES (NTCP2_FRAME_MAX_BYTES - NTCP2_TAG_BYTES)
#define NTCP2_BLOCK_HEADER_BYTES 3
/* "Maximum single block data size is 65516 bytes." */
#define NTCP2_BLOCK_MAX_BYTES (NTCP2_FRAME_MAX_PLAIN_BYTES - NTCP2_BLOCK_HEADER_BYTES)
/* Per-type limits on the block size field. */
#define NTCP2_DATETIME_BYTES 4
#define NTCP2_OPTIONS_MIN_BYTES 12
#define NTCP2_TERMINATION_MIN_BYTES 9
/* RouterInfo block: flag + RI; i2pd refuses RIs over 3071 bytes, Java's
 * stay well below 4 KiB. */
#define NTCP2_RI_MAX_BYTES 4096
#define NTCP2_RI_BLOCK_MAX_BYTES (1 + NTCP2_RI_MAX_BYTES)
/* I2NP block: the 9-byte short header + body. */
#define NTCP2_I2NP_BLOCK_MIN_BYTES I2NP_SHORT_HEADER_BYTES
#define NTCP2_I2NP_BLOCK_MAX_BYTES (I2NP_SHORT_HEADER_BYTES + I2NP_MAX_PAYLOAD_BYTES)
/* Bytes an I2NP message of body length len takes in a frame. */
#define NTCP2_I2NP_BLOCK_BYTES(len) \
	(NTCP2_BLOCK_HEADER_BYTES + I2NP_SHORT_HEADER_BYTES + (len))
/* The RouterInfo block flag: "bit 0: 0 for local store, 1 for flood". */
#define NTCP2_RI_FLAG_FLOOD 0x01

enum ntcp2_block_type {
	NTCP2_BLOCK_DATETIME = 0,
	NTCP2_BLOCK_OPTIONS = 1,
	NTCP2_BLOCK_ROUTERINFO = 2,
	NTCP2_BLOCK_I2NP = 3,
	NTCP2_BLOCK_TERMINATION = 4,
	NTCP2_BLOCK_PADDING = 254,
};

/* Termination reasons ("rsn :: reason, 1 byte"). */
enum ntcp2_term_reason {
	NTCP2_TERM_NORMAL = 0,
	NTCP2_TERM_RECEIVED = 1,
	NTCP2_TERM_IDLE = 2,
	NTCP2_TERM_SHUTDOWN = 3,
	NTCP2_TERM_AEAD = 4,
	NTCP2_TERM_OPTIONS = 5,
	NTCP2_TERM_SIG_TYPE = 6,
	NTCP2_TERM_CLOCK_SKEW = 7,
	NTCP2_TERM_PADDING = 8,
	NTCP2_TERM_FRAMING = 9,
	NTCP2_TERM_PAYLOAD = 10,
	NTCP2_TERM_MSG1 = 11,
	NTCP2_TERM_MSG2 = 12,
	NTCP2_TERM_MSG3 = 13,
	NTCP2_TERM_READ_TIMEOUT = 14,
	NTCP2_TERM_RI_SIG = 15,
	NTCP2_TERM_S_PARAM = 16,
	NTCP2_TERM_BANNED = 17,
};
/* A short name for a reason ("idle timeout"), or "unknown". */
const char *ntcp2_term_reason_str(unsigned reason);

/*
 * One direction's frame state: ChaChaPoly key and counter, SipHash key
 * and the current IV of the length chain.  The AEAD runs on an OpenSSL
 * context keyed once per session (the data phase is the router's bulk
 * path, and OpenSSL's ChaCha20-Poly1305 is about 1.7 times libsodium's
 * here); the result is the same RFC 8439 construction as crypto/chacha.h,
 * which the tests check frame by frame.
 */
struct ntcp2_dir {
	uint8_t k[32];
	uint64_t n;
	uint8_t sipkey[16];
	uint8_t iv[8];
	void *ctx;		/* EVP_CIPHER_CTX, keyed with k */
};

/* Set d up from keys.  d must be new or wiped. */
void ntcp2_dir_init(struct ntcp2_dir *d, const struct ntcp2_dir_keys *keys);
/* Free and wipe d (also an all-zero, never initialised d). */
void ntcp2_dir_wipe(struct ntcp2_dir *d);

/*
 * Next length mask: "IV[n] = SipHash-2-4(sipk1, sipk2, IV[n-1]); Mask[n]
 * = First 2 bytes of IV[n]" -- IV[0] | IV[1] << 8, the low 16 bits of the
 * little-endian SipHash output.  Advances the chain.
 */
uint16_t ntcp2_dir_next_mask(struct ntcp2_dir *d);

/*
 * Seal plen bytes of plaintext blocks into out: the 2-byte obfuscated
 * length (big-endian len ^ mask) then ciphertext ‖ tag, plen + 18 bytes in
 * all.  plain may sit at out + 2 (in place).  ERR_TOO_BIG when plen is
 * over NTCP2_FRAME_MAX_PLAIN_BYTES; ERR_LIMIT when the nonce would reach
 * 2^64 - 1 ("must never be sent"; the session must be dropped).
 */
int ntcp2_frame_seal(struct ntcp2_dir *d, uint8_t *out, const uint8_t *plain,
		     size_t plen);
/*
 * Receiver: de-obfuscate the 2 length bytes (advancing the chain) into
 * *len, the ciphertext length to read next.  ERR_FORMAT when it is under
 * NTCP2_FRAME_MIN_BYTES (the caller ends the session: "Take the same
 * error action for an invalid length field value").
 */
int ntcp2_frame_len_decode(struct ntcp2_dir *d, const uint8_t in[2],
			   size_t *len);
/*
 * Decrypt a frame of len bytes in place (ciphertext ‖ tag, untrusted);
 * *plen gets len - 16.  ERR_AUTH on a bad tag (buf then holds zeros),
 * ERR_TRUNCATED when len < 16, ERR_LIMIT when the nonce is exhausted.
 * The counter advances only on success.
 */
int ntcp2_frame_open(struct ntcp2_dir *d, uint8_t *buf, size_t len,
		     size_t *plen);

/* ---- blocks ---- */

/* A decoded block; data is borrowed from the frame it came from. */
struct ntcp2_block {
	uint8_t type;
	const uint8_t *data;
	size_t len;
};

/*
 * Decode one block from r: type, 2-byte size, data.  Checks the size
 * against the limit for the type before use.  ERR_TRUNCATED when r ends
 * inside the block, ERR_TOO_BIG / ERR_FORMAT when the size does not suit
 * the type (DateTime exactly 4, Options >= 12, RouterInfo 2 .. 4097,
 * I2NP 9 .. 9 + 62708, Termination >= 9).  Unknown types pass: "receivers
 * must ignore blocks with unknown identifiers, and treat them as padding".
 */
int ntcp2_block_decode(struct breader *r, struct ntcp2_block *out);

enum ntcp2_frame_kind {
	NTCP2_FRAME_DATA,	/* data phase */
	NTCP2_FRAME_MSG3,	/* SessionConfirmed part 2 */
};

/*
 * Validate a whole decrypted frame before acting on it: every block
 * decodes and the order rules hold.  Data phase: "Padding, if present,
 * must be the last block. Termination, if present, must be the last block
 * except for Padding. Multiple Padding blocks are not allowed".  Message
 * 3 part 2: "RouterInfo, followed by Options if present, followed by
 * Padding if present. No other blocks are allowed."  Errors as
 * ntcp2_block_decode(), and ERR_FORMAT for an order violation.  *nblocks
 * (if not NULL) gets the number of blocks.
 */
int ntcp2_frame_check(const uint8_t *p, size_t len, enum ntcp2_frame_kind kind,
		      size_t *nblocks);

/* Typed views of a checked block.  ERR_FORMAT if the type differs. */
int ntcp2_block_datetime(const struct ntcp2_block *b, uint32_t *ts_s);
/* flag byte and the RouterInfo bytes (borrowed). */
int ntcp2_block_routerinfo(const struct ntcp2_block *b, uint8_t *flag,
			   const uint8_t **ri, size_t *ri_len);
/* "valid data frames received" and the reason. */
int ntcp2_block_termination(const struct ntcp2_block *b, uint64_t *frames,
			    uint8_t *reason);

/* The fixed part of an Options block (4.4 fixed-point padding ratios). */
struct ntcp2_options {
	uint8_t tmin, tmax, rmin, rmax;
	uint16_t tdmy, rdmy, tdelay, rdelay;
};
int ntcp2_block_options(const struct ntcp2_block *b, struct ntcp2_options *o);

/* ---- writers: append one block to out ---- */
void ntcp2_block_put_datetime(struct bbuf *out, uint32_t ts_s);
void ntcp2_block_put_options(struct bbuf *out, const struct ntcp2_options *o);
/* ERR_TOO_BIG when ri_len is over NTCP2_RI_MAX_BYTES. */
int ntcp2_block_put_routerinfo(struct bbuf *out, uint8_t flag,
			       const uint8_t *ri, size_t ri_len);
/* The message with its 9-byte short header.  ERR_TOO_BIG for a body over
 * I2NP_MAX_PAYLOAD_BYTES. */
int ntcp2_block_put_i2np(struct bbuf *out, const struct i2np_msg *m);
void ntcp2_block_put_termination(struct bbuf *out, uint64_t frames,
				 uint8_t reason);
/* n random bytes of padding (n <= NTCP2_BLOCK_MAX_BYTES). */
void ntcp2_block_put_padding(struct bbuf *out, size_t n);

#endif /* ROUTER_NTCP2_FRAME_H */
