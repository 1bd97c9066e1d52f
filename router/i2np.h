/*
 * I2NP messages (geti2p.net/spec/i2np): the 16-byte standard header, the
 * 9-byte short header used inside NTCP2/SSU2, body codecs for the message
 * types a router handles, expiry checks and a duplicate-id filter.
 *
 * Decoded bodies borrow pointers into the message payload they came from;
 * they live no longer than that payload.
 */
#ifndef ROUTER_I2NP_H
#define ROUTER_I2NP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

enum i2np_type {
	I2NP_DATABASE_STORE = 1,
	I2NP_DATABASE_LOOKUP = 2,
	I2NP_DATABASE_SEARCH_REPLY = 3,
	I2NP_DELIVERY_STATUS = 10,
	I2NP_GARLIC = 11,
	I2NP_TUNNEL_DATA = 18,
	I2NP_TUNNEL_GATEWAY = 19,
	I2NP_DATA = 20,
	I2NP_TUNNEL_BUILD = 21,
	I2NP_TUNNEL_BUILD_REPLY = 22,
	I2NP_VARIABLE_TUNNEL_BUILD = 23,
	I2NP_VARIABLE_TUNNEL_BUILD_REPLY = 24,
	I2NP_SHORT_TUNNEL_BUILD = 25,
	I2NP_OUTBOUND_TUNNEL_BUILD_REPLY = 26,
};

#define I2NP_HEADER_BYTES 16
#define I2NP_SHORT_HEADER_BYTES 9
/* i2pd's and Java's largest I2NP message. */
#define I2NP_MAX_PAYLOAD_BYTES 62708
/* A message this far past its expiration is dropped... */
#define I2NP_EXPIRY_PAST_MS 60000
/* ...and so is one claiming to expire this far in the future. */
#define I2NP_EXPIRY_FUTURE_MS 180000
#define I2NP_TUNNEL_DATA_BYTES 1024
#define I2NP_LONG_RECORD_BYTES 528
#define I2NP_SHORT_RECORD_BYTES 218
#define I2NP_MAX_BUILD_RECORDS 8
#define I2NP_LOOKUP_MAX_EXCLUDED 512
#define I2NP_SEARCH_REPLY_MAX_PEERS 16

/* One I2NP message.  Owns payload; free with i2np_msg_free. */
struct i2np_msg {
	uint8_t type;
	uint32_t msg_id;
	uint64_t expiration_ms;	/* short headers carry seconds; kept as ms */
	uint8_t *payload;
	size_t len;
};

/* New message with a copy of payload (len ≤ I2NP_MAX_PAYLOAD_BYTES), a
 * random id and expiration now + ttl_ms.  Never NULL. */
struct i2np_msg *i2np_msg_new(uint8_t type, const void *payload, size_t len,
			      uint64_t ttl_ms);
/* New message that takes ownership of payload (allocated with malloc). */
struct i2np_msg *i2np_msg_new_take(uint8_t type, uint8_t *payload, size_t len,
				   uint64_t ttl_ms);
void i2np_msg_free(struct i2np_msg *m);
/* New message of len payload bytes, not filled in: id and expiration 0.
 * Its payload is a malloc block as with the others. */
struct i2np_msg *i2np_msg_make(uint8_t type, size_t len);
#define I2NP_POOL_MAX 512	/* messages and buffers kept, each */
/* Give back the messages and payload buffers this thread's cache holds
 * (freed messages are kept for reuse, a few hundred at most). */
void i2np_pool_trim(void);
/* Payload buffers the cache holds now (none when the cache is off, as
 * under AddressSanitizer: i2np_pool_enabled false). */
size_t i2np_pool_held(void);
extern const bool i2np_pool_enabled;
struct i2np_msg *i2np_msg_dup(const struct i2np_msg *m);

/* Append the standard 16-byte header and payload to out. */
void i2np_msg_encode(const struct i2np_msg *m, struct bbuf *out);
/* Append the 9-byte short header and payload to out (NTCP2/SSU2). */
void i2np_msg_encode_short(const struct i2np_msg *m, struct bbuf *out);
/*
 * Decode one standard-header message from r (consuming header + payload).
 * ERR_TRUNCATED, ERR_TOO_BIG, ERR_FORMAT (checksum mismatch; not checked
 * for Garlic and TunnelData, which Java does not check either).
 */
int i2np_msg_decode(struct breader *r, struct i2np_msg **out);
/*
 * Whether buf holds exactly one standard-header message, as
 * i2np_msg_decode() reads it, without copying it: its header into *hdr,
 * whose payload points into buf (borrowed: never freed).  0, or
 * i2np_msg_decode()'s errors; ERR_FORMAT for bytes after it.
 */
int i2np_msg_peek(const uint8_t *buf, size_t len, struct i2np_msg *hdr);
/* Decode a whole NTCP2/SSU2 I2NP block (short header + payload). */
int i2np_msg_decode_short(const uint8_t *buf, size_t len, struct i2np_msg **out);
/* True if m is expired or too far in the future at now_ms. */
bool i2np_msg_is_expired(const struct i2np_msg *m, uint64_t now_ms);

/* ---- bodies ---- */

#define I2NP_STORE_RI 0
#define I2NP_STORE_LS 1
#define I2NP_STORE_LS2 3
#define I2NP_STORE_ENC_LS2 5
#define I2NP_STORE_META_LS 7

struct i2np_db_store {
	uint8_t key[32];
	uint8_t store_type;		/* I2NP_STORE_* */
	uint32_t reply_token;
	uint32_t reply_tunnel_id;	/* when reply_token != 0 */
	uint8_t reply_gateway[32];	/* when reply_token != 0 */
	const uint8_t *data;		/* RI: gzip data (length prefix removed) */
	size_t data_len;
};
int i2np_db_store_decode(const struct i2np_msg *m, struct i2np_db_store *out);
void i2np_db_store_encode(const struct i2np_db_store *s, struct bbuf *out);

#define I2NP_LOOKUP_FLAG_TUNNEL 0x01
#define I2NP_LOOKUP_FLAG_ENCRYPT 0x02
#define I2NP_LOOKUP_TYPE_MASK 0x0c
#define I2NP_LOOKUP_TYPE_NORMAL 0x00
#define I2NP_LOOKUP_TYPE_LS 0x04
#define I2NP_LOOKUP_TYPE_RI 0x08
#define I2NP_LOOKUP_TYPE_EXPLORE 0x0c
#define I2NP_LOOKUP_FLAG_ECIES 0x10

struct i2np_db_lookup {
	uint8_t key[32];
	uint8_t from[32];
	uint8_t flags;
	uint32_t reply_tunnel_id;	/* when FLAG_TUNNEL */
	uint16_t n_excluded;
	const uint8_t *excluded;	/* n_excluded × 32 bytes */
	bool has_reply_key;		/* FLAG_ENCRYPT or FLAG_ECIES */
	uint8_t reply_key[32];
	uint8_t n_tags;			/* 1..32 */
	uint8_t tag_len;		/* 8 (ECIES) or 32 (ElGamal/AES) */
	const uint8_t *tags;		/* n_tags × tag_len bytes */
};
int i2np_db_lookup_decode(const struct i2np_msg *m, struct i2np_db_lookup *out);
void i2np_db_lookup_encode(const struct i2np_db_lookup *l, struct bbuf *out);

struct i2np_search_reply {
	uint8_t key[32];
	uint8_t n_peers;
	const uint8_t *peers;		/* n_peers × 32 bytes */
	uint8_t from[32];
};
int i2np_search_reply_decode(const struct i2np_msg *m,
			     struct i2np_search_reply *out);
void i2np_search_reply_encode(const struct i2np_search_reply *s,
			      struct bbuf *out);

struct i2np_delivery_status {
	uint32_t msg_id;
	uint64_t timestamp_ms;
};
int i2np_delivery_status_decode(const struct i2np_msg *m,
				struct i2np_delivery_status *out);
void i2np_delivery_status_encode(const struct i2np_delivery_status *d,
				 struct bbuf *out);

/* Garlic (11) and Data (20): a 4-byte length then that many bytes. */
int i2np_blob_decode(const struct i2np_msg *m, const uint8_t **data,
		     size_t *len);
void i2np_blob_encode(const uint8_t *data, size_t len, struct bbuf *out);

struct i2np_tunnel_data {
	uint32_t tunnel_id;
	const uint8_t *data;		/* I2NP_TUNNEL_DATA_BYTES */
};
int i2np_tunnel_data_decode(const struct i2np_msg *m,
			    struct i2np_tunnel_data *out);

struct i2np_tunnel_gateway {
	uint32_t tunnel_id;
	const uint8_t *data;		/* a standard-header I2NP message */
	size_t len;
};
int i2np_tunnel_gateway_decode(const struct i2np_msg *m,
			       struct i2np_tunnel_gateway *out);
void i2np_tunnel_gateway_encode(uint32_t tunnel_id, const struct i2np_msg *inner,
				struct bbuf *out);

/* Variable (23/24) and short (25/26) builds: a count then fixed records. */
struct i2np_build {
	uint8_t n_records;
	size_t record_len;		/* 528 or 218 */
	const uint8_t *records;
};
int i2np_build_decode(const struct i2np_msg *m, struct i2np_build *out);

const char *i2np_type_name(uint8_t type);

/*
 * Duplicate filter over (msg_id, expiration): the most recent keys, as
 * 32-bit fingerprints in buckets of one cache line (a key leaves when 16
 * newer ones came to its bucket; an expired message is refused before it
 * comes here).  A fingerprint of another key matches with a chance of
 * about 2^-28 a check: that message is dropped as a duplicate.
 */
struct i2np_dedup;
/* Sized to remember about the last `keys` keys (almost surely the last
 * keys / 2). */
struct i2np_dedup *i2np_dedup_new(size_t keys);
void i2np_dedup_free(struct i2np_dedup *d);
/* Record the message; true if it was already seen. */
bool i2np_dedup_check(struct i2np_dedup *d, uint32_t msg_id,
		      uint64_t expiration_ms);
/* Start loading what a check of this key will read (its bucket is most
 * likely out of the caches at bulk rates): call it as soon as the key is
 * known, well before the check. */
void i2np_dedup_prefetch(struct i2np_dedup *d, uint32_t msg_id,
			 uint64_t expiration_ms);

#endif /* ROUTER_I2NP_H */
