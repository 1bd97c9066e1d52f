/*
 * Solidity ABI (docs.soliditylang.org, "Contract ABI Specification"): the
 * static types our contracts use (uintN, address, bool, bytes32, static
 * tuples) and the dynamic ones (bytes, string, T[] and tuples holding
 * them).
 *
 * Encoder: a tuple is a head of fixed words followed by a tail; a dynamic
 * member's head word is the offset of its data "counted from the start of
 * the arguments" (the tuple's first head byte).  The caller says how many
 * head words the tuple has, so offsets are known as values are added.
 *
 * Decoder: a struct abi_dec is a view of one encoded tuple (borrowed);
 * every offset and length from the input is checked against what is there
 * before use, so hostile eth_call results and logs fail with ERR_FORMAT,
 * ERR_TRUNCATED or ERR_TOO_BIG, never by reading out of bounds.
 */
#ifndef CHAIN_ABI_H
#define CHAIN_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "chain/u256.h"

#define ABI_WORD_BYTES 32
#define ABI_SELECTOR_BYTES 4
/* Largest dynamic value (bytes, string, array data) the decoder accepts. */
#define ABI_MAX_DYN_BYTES (1u << 20)
/* Most array elements the decoder accepts. */
#define ABI_MAX_ARRAY_LEN 4096u

/* The first 4 bytes of keccak256(signature), e.g. "transfer(address,uint256)". */
void abi_selector(uint8_t out[ABI_SELECTOR_BYTES], const char *signature);

struct abi_enc {
	struct bbuf head;
	struct bbuf tail;
	size_t head_words;	/* declared size of the head */
};

/* Start a tuple with head_words head words.  Release with abi_enc_free()
 * or abi_enc_finish(). */
void abi_enc_init(struct abi_enc *e, size_t head_words);
void abi_enc_free(struct abi_enc *e);
/*
 * Append head ‖ tail to out and release e.  ERR_INTERNAL (a BUG) when the
 * head does not have the declared number of words.
 */
int abi_enc_finish(struct abi_enc *e, struct bbuf *out);

/* Static values: one head word each. */
void abi_enc_word(struct abi_enc *e, const uint8_t w[32]);
void abi_enc_u256(struct abi_enc *e, const struct u256 *v);
void abi_enc_u64(struct abi_enc *e, uint64_t v);
void abi_enc_bool(struct abi_enc *e, bool v);
void abi_enc_address(struct abi_enc *e, const uint8_t addr[20]);
/* bytesN (n ≤ 32), left-aligned and zero-padded. */
void abi_enc_fixed(struct abi_enc *e, const void *p, size_t n);

/* Dynamic values: an offset word in the head, the data in the tail. */
void abi_enc_bytes(struct abi_enc *e, const void *p, size_t n);
/* A dynamic value already ABI-encoded (a nested tuple or an array). */
void abi_enc_dyn(struct abi_enc *e, const void *enc, size_t n);

/* Encode a dynamic array T[] as its tail data: the length word, then
 * elems (the n elements already encoded as one tuple, elems_len bytes). */
void abi_array_encode(struct bbuf *out, size_t n, const void *elems,
		      size_t elems_len);
/* Encode bytes[] (dynamic elements): length, offsets, then each value. */
void abi_bytes_array_encode(struct bbuf *out, size_t n,
			    const uint8_t *const *vals, const size_t *lens);

/* A read-only view of one encoded tuple (borrowed). */
struct abi_dec {
	const uint8_t *p;
	size_t len;
};

static inline struct abi_dec abi_dec_init(const void *p, size_t len)
{
	return (struct abi_dec){ (const uint8_t *)p, len };
}
/* Head word i (borrowed); NULL when out of range. */
const uint8_t *abi_dec_word(const struct abi_dec *d, size_t i);
int abi_dec_u256(const struct abi_dec *d, size_t i, struct u256 *out);
/* uint64 and smaller: ERR_RANGE when the word has higher bits set. */
int abi_dec_u64(const struct abi_dec *d, size_t i, uint64_t *out);
/* ERR_FORMAT unless the word is exactly 0 or 1. */
int abi_dec_bool(const struct abi_dec *d, size_t i, bool *out);
/* ERR_FORMAT when the top 12 bytes are not zero. */
int abi_dec_address(const struct abi_dec *d, size_t i, uint8_t out[20]);
int abi_dec_bytes32(const struct abi_dec *d, size_t i, uint8_t out[32]);
/*
 * bytes/string at head word i: *p borrows from d, at most max bytes
 * (else ERR_TOO_BIG); padding must be zero.
 */
int abi_dec_bytes(const struct abi_dec *d, size_t i, size_t max,
		  const uint8_t **p, size_t *n);
/* The nested dynamic tuple whose offset is head word i. */
int abi_dec_tuple(const struct abi_dec *d, size_t i, struct abi_dec *out);
/*
 * T[] at head word i: *count elements (≤ max_count, else ERR_TOO_BIG) and
 * a view of the element tuple; elem_words > 0 checks that static elements
 * of that many words fit.
 */
int abi_dec_array(const struct abi_dec *d, size_t i, size_t max_count,
		  size_t elem_words, size_t *count, struct abi_dec *elems);
/* Element j of a static-element array view of elem_words words each. */
struct abi_dec abi_dec_elem(const struct abi_dec *elems, size_t j,
			    size_t elem_words);

/*
 * Describe revert data (from eth_call or eth_estimateGas) in text:
 * Error(string) → the reason, Panic(uint256) → "panic 0x11", a custom
 * error → its name when known (see chain/calls.h), else its selector.
 * Always NUL-terminates out; never fails.
 */
typedef const char *(*abi_error_name_fn)(const uint8_t sel[4]);
void abi_revert_format(char *out, size_t outlen, const uint8_t *data,
		       size_t len, abi_error_name_fn names);

#endif /* CHAIN_ABI_H */
