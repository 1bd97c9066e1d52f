/*
 * Garlic addressed to a router, and one-time-tag replies (ecies-routers
 * spec; proposals 154 and 156; i2np spec "Garlic", "Garlic Clove Delivery
 * Instructions"; ecies spec for the payload blocks; PROTOCOLS.md 2.10).
 *
 * To a router (Noise "N", name "Noise_N_25519_ChaChaPoly_SHA256"):
 *   Garlic payload = length (4) ‖ sender ephemeral key (32, plain, no
 *   Elligator2) ‖ ChaChaPoly(k, n = 0, ad = h, blocks)
 * where h and k come from the standard N pattern with the router's X25519
 * identity key as the responder static key.
 *
 * One-time reply (a DatabaseLookup's reply key and tag, a short tunnel
 * build's "RGarlicKeyAndTag"):
 *   Garlic payload = length (4) ‖ tag (8) ‖ ChaChaPoly(key, n = 0,
 *   ad = tag, blocks)
 *
 * Blocks: DateTime (0, 4-byte seconds), Garlic Clove (11: delivery
 * instructions ‖ I2NP type ‖ message id ‖ 4-byte expiration seconds ‖
 * body), Padding (254).  A router message must carry a DateTime; every
 * length is checked against what remains, and cloves are capped.
 *
 * struct garlic_router is the receiving side: our identity key (through
 * the keystore), the one-time tags we expect (tag -> key, each used once,
 * with an expiry) and a replay filter over Noise_N ephemeral keys.
 *
 * Thread: the encode/decode functions are pure and thread-safe;
 * struct garlic_router is for one thread (the loop).
 */
#ifndef ROUTER_GARLIC_ROUTER_H
#define ROUTER_GARLIC_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "crypto/x25519.h"
#include "router/i2np.h"

struct keystore;

#define GARLIC_NOISE_N_NAME "Noise_N_25519_ChaChaPoly_SHA256"
#define GARLIC_EPK_BYTES 32
#define GARLIC_TAG_BYTES 8
#define GARLIC_KEY_BYTES 32
#define GARLIC_MAC_BYTES 16
#define GARLIC_BLOCK_DATETIME 0
#define GARLIC_BLOCK_CLOVE 11
#define GARLIC_BLOCK_PADDING 254
#define GARLIC_BLOCK_HEADER_BYTES 3
/* Clove: instructions (1/33/37) ‖ type (1) ‖ id (4) ‖ expiration (4). */
#define GARLIC_CLOVE_FIXED_BYTES 9
#define GARLIC_MAX_CLOVES 16
/* The largest Garlic payload we build or accept (an I2NP message). */
#define GARLIC_MAX_BYTES I2NP_MAX_PAYLOAD_BYTES
/* Replay window for a router message's DateTime (ecies spec: "more than
 * 5 minutes in the past or 2 minutes in the future"). */
#define GARLIC_MAX_AGE_MS (5 * 60 * 1000)
#define GARLIC_MAX_FUTURE_MS (2 * 60 * 1000)
/* One-time tags we wait for, and the ephemeral keys we remember. */
#define GARLIC_TAGS_MAX 8192
#define GARLIC_REPLAY_MAX 65536

enum garlic_delivery {
	GARLIC_DELIVERY_LOCAL = 0,
	GARLIC_DELIVERY_DESTINATION = 1,
	GARLIC_DELIVERY_ROUTER = 2,
	GARLIC_DELIVERY_TUNNEL = 3,
};

/* One clove; body borrows from the decrypted payload. */
struct garlic_clove {
	enum garlic_delivery delivery;
	uint8_t to_hash[32];		/* DESTINATION, ROUTER, TUNNEL */
	uint32_t tunnel_id;		/* TUNNEL */
	uint8_t type;			/* I2NP type */
	uint32_t msg_id;
	uint32_t expiration_s;
	const uint8_t *body;
	size_t len;
};

struct garlic_payload {
	bool has_datetime;
	uint32_t datetime_s;
	size_t n_cloves;
	struct garlic_clove cloves[GARLIC_MAX_CLOVES];
};

/* ---- payload blocks ---- */

void garlic_block_datetime(struct bbuf *b, uint32_t now_s);
/*
 * Append a Garlic Clove block carrying m (borrowed) with delivery to
 * to_hash / tunnel_id as the type needs (NULL / 0 otherwise).  ERR_TOO_BIG
 * when the block would exceed 65535 bytes; ERR_ARG for a missing hash.
 */
int garlic_block_clove(struct bbuf *b, const struct i2np_msg *m,
		       enum garlic_delivery delivery, const uint8_t *to_hash,
		       uint32_t tunnel_id);
void garlic_block_padding(struct bbuf *b, size_t n);
/*
 * Parse the decrypted blocks (untrusted).  Unknown block types are
 * skipped; a second DateTime, a clove with bad instructions (encrypted or
 * delay bits, a short body) or more than GARLIC_MAX_CLOVES cloves is
 * refused.  Errors: ERR_TRUNCATED, ERR_FORMAT, ERR_TOO_BIG.
 */
int garlic_payload_parse(const uint8_t *p, size_t len,
			 struct garlic_payload *out);
/* The clove's I2NP message (copy of the body; expiration in ms).  Caller
 * owns it. */
struct i2np_msg *garlic_clove_msg(const struct garlic_clove *c);

/* ---- Noise_N to a router ---- */

/*
 * Build a Garlic I2NP message to the router whose X25519 identity key is
 * rs, carrying the blocks payload (len bytes).  e NULL: a fresh
 * ephemeral key (tests pass one).  Errors: ERR_TOO_BIG, ERR_CRYPTO (a
 * low-order router key).
 */
int garlic_router_encrypt(const struct x25519_pk *rs,
			  const struct x25519_sk *e, const uint8_t *payload,
			  size_t len, struct i2np_msg **out);
/* Wrap m (taken on every path) for router rs with a DateTime, a LOCAL
 * clove and a little padding.  NULL on error. */
struct i2np_msg *garlic_wrap_for_router(struct i2np_msg *m,
					const struct x25519_pk *rs);
/*
 * Decrypt the data of a Garlic message (after its length field) sent to
 * us with Noise_N.  ks: our keystore (identity X25519 slot).  plain gets
 * the blocks.  Errors: ERR_TRUNCATED, ERR_AUTH, ERR_CRYPTO.
 */
int garlic_router_decrypt(const struct keystore *ks, const uint8_t *data,
			  size_t len, struct bbuf *plain, uint8_t epk[32]);

/* ---- one-time tags ---- */

/* Build the one-time reply Garlic message (key, tag) around payload. */
int garlic_tag_encrypt(const uint8_t key[GARLIC_KEY_BYTES],
		       const uint8_t tag[GARLIC_TAG_BYTES],
		       const uint8_t *payload, size_t len,
		       struct i2np_msg **out);
/* Wrap m (taken on every path) as a one-time reply with a LOCAL clove
 * (and a DateTime); NULL on error.  Fits transit_hooks.wrap_reply. */
struct i2np_msg *garlic_wrap_tagged(struct i2np_msg *m,
				    const uint8_t key[GARLIC_KEY_BYTES],
				    const uint8_t tag[GARLIC_TAG_BYTES]);
/* Decrypt a one-time reply's data (tag ‖ ciphertext) with key.  ERR_AUTH,
 * ERR_TRUNCATED. */
int garlic_tag_decrypt(const uint8_t key[GARLIC_KEY_BYTES],
		       const uint8_t *data, size_t len, struct bbuf *plain);

/* ---- ElGamal/AES+SessionTag replies (elgamal-aes spec) ---- */

#define GARLIC_AES_TAG_BYTES 32
#define GARLIC_AES_KEY_BYTES 32
/*
 * Wrap m (taken on every path) as an existing-session ElGamal/AES message
 * under (key, tag): tag ‖ AES-256-CBC(key, IV = SHA-256(tag)[0:16]) of an
 * AES block (no new tags, payload size, its SHA-256, no new key) whose
 * payload is a garlic of one LOCAL clove carrying m.  What a DatabaseLookup
 * with the encryption flag alone (a requester with ElGamal keys, as
 * i2pd's SAM destinations by default) asks its reply to be.  NULL on error.
 */
struct i2np_msg *garlic_wrap_aes_tagged(struct i2np_msg *m,
					const uint8_t key[GARLIC_AES_KEY_BYTES],
					const uint8_t tag[GARLIC_AES_TAG_BYTES]);
/* Open such a message's data (tag ‖ ciphertext, untrusted) with key:
 * garlic gets the AES block's payload.  ERR_TRUNCATED, ERR_TOO_BIG,
 * ERR_FORMAT, ERR_UNSUPPORTED (it carries new tags), ERR_AUTH (the
 * payload hash does not match: a wrong key). */
int garlic_aes_tag_decrypt(const uint8_t key[GARLIC_AES_KEY_BYTES],
			   const uint8_t *data, size_t len,
			   struct bbuf *garlic);

/* ---- the receiving side ---- */

struct garlic_router;

/* A receiver for our router (ks borrowed; it outlives g).  Never NULL. */
struct garlic_router *garlic_router_new(const struct keystore *ks);
void garlic_router_free(struct garlic_router *g);
/*
 * Expect one reply under tag, decrypted with key, until expires_mono_ms
 * (monotonic).  A full table drops the entry closest to expiry.
 */
void garlic_router_expect_tag(struct garlic_router *g,
			      const uint8_t tag[GARLIC_TAG_BYTES],
			      const uint8_t key[GARLIC_KEY_BYTES],
			      uint64_t expires_mono_ms);
/* Fresh random key and tag, registered as expected; written to key/tag. */
void garlic_router_new_tag(struct garlic_router *g,
			   uint8_t key[GARLIC_KEY_BYTES],
			   uint8_t tag[GARLIC_TAG_BYTES],
			   uint64_t expires_mono_ms);
/*
 * Open a Garlic message m (type 11, borrowed) addressed to us: a known
 * one-time tag (used up), else Noise_N to our identity key with a fresh
 * DateTime and an ephemeral key not seen before.  plain gets the blocks
 * and out the parsed payload (borrowing plain).  *tagged says which kind
 * it was.  Errors: ERR_FORMAT, ERR_TRUNCATED, ERR_AUTH, ERR_CRYPTO,
 * ERR_EXPIRED (DateTime missing or outside the window), ERR_DUPLICATE
 * (a replayed ephemeral key).
 */
int garlic_router_open(struct garlic_router *g, const struct i2np_msg *m,
		       uint64_t now_ms, uint64_t now_mono_ms,
		       struct bbuf *plain, struct garlic_payload *out,
		       bool *tagged);
/* Tags currently expected (tests). */
size_t garlic_router_tag_count(const struct garlic_router *g);
/* Bytes its tag and replayed-key tables take: they grow with the entries
 * live at once, up to GARLIC_TAGS_MAX and GARLIC_REPLAY_MAX. */
size_t garlic_router_bytes(const struct garlic_router *g);

#endif /* ROUTER_GARLIC_ROUTER_H */
