/*
 * RLP (Ethereum Yellow Paper, appendix B): the encoding of typed
 * transactions.  The encoder appends to a bbuf; the decoder reads untrusted
 * bytes through a breader and accepts only the canonical form (a single
 * byte below 0x80 is never wrapped, lengths use the short form when they
 * can and have no leading zeros, integers have no leading zero bytes).
 */
#ifndef CHAIN_RLP_H
#define CHAIN_RLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "chain/u256.h"

/* Deepest list nesting the decoder helpers follow (typed txs need 3). */
#define RLP_MAX_DEPTH 16

/* Append a byte string. */
void rlp_put_bytes(struct bbuf *b, const void *p, size_t n);
/* Append an integer: minimal big-endian, 0 is the empty string (0x80). */
void rlp_put_u64(struct bbuf *b, uint64_t v);
void rlp_put_u256(struct bbuf *b, const struct u256 *v);
/* Append a list whose items are already encoded in payload. */
void rlp_put_list(struct bbuf *b, const void *payload, size_t n);

struct rlp_item {
	bool is_list;
	const uint8_t *p;	/* payload, borrowed from the reader's buffer */
	size_t len;
};

/*
 * Read one item from r.  ERR_TRUNCATED when r ends early, ERR_FORMAT on a
 * non-canonical header.  out is written only on success.
 */
int rlp_item_decode(struct breader *r, struct rlp_item *out);
/* Decode exactly one item filling buf..len (no trailing bytes). */
int rlp_decode_one(const uint8_t *buf, size_t len, struct rlp_item *out);
/* Integers from a string item: ERR_FORMAT for a list or a leading zero,
 * ERR_RANGE when too big for the type. */
int rlp_item_u64(const struct rlp_item *it, uint64_t *out);
int rlp_item_u256(const struct rlp_item *it, struct u256 *out);
/* Count the items of a list item; ERR_FORMAT if not a list or an item in
 * it is malformed. */
int rlp_list_count(const struct rlp_item *list, size_t *count);
/* Depth of nesting of an item (0 for a string); ERR_TOO_BIG past
 * RLP_MAX_DEPTH, ERR_FORMAT on a malformed inner item. */
int rlp_item_depth(const struct rlp_item *it, unsigned *depth);

#endif /* CHAIN_RLP_H */
