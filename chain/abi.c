/*
 * Solidity ABI encoder and bounded decoder (see abi.h).  Spec: "Contract
 * ABI Specification", Formal Specification of the Encoding:
 *   "enc(X) = head(X(1)) ... head(X(k)) tail(X(1)) ... tail(X(k))"
 *   "head(X(i)) = enc(len( head(X(1)) ... head(X(k)) tail(X(1)) ...
 *    tail(X(i-1)) ))" for dynamic X(i).
 */
#include "config.h"
#include "chain/abi.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/keccak.h"

#include <stdio.h>
#include <string.h>

void abi_selector(uint8_t out[ABI_SELECTOR_BYTES], const char *signature)
{
	uint8_t h[KECCAK256_BYTES];

	keccak256(h, signature, strlen(signature));
	memcpy(out, h, ABI_SELECTOR_BYTES);
}

void abi_enc_init(struct abi_enc *e, size_t head_words)
{
	bbuf_init(&e->head);
	bbuf_init(&e->tail);
	e->head_words = head_words;
}

void abi_enc_free(struct abi_enc *e)
{
	bbuf_free(&e->head);
	bbuf_free(&e->tail);
}

int abi_enc_finish(struct abi_enc *e, struct bbuf *out)
{
	int r = 0;

	if (BUG(e->head.len != e->head_words * ABI_WORD_BYTES)) {
		r = ERR_INTERNAL;
		goto out;
	}
	bbuf_put(out, e->head.data, e->head.len);
	if (e->tail.len)
		bbuf_put(out, e->tail.data, e->tail.len);
out:
	abi_enc_free(e);
	return r;
}

void abi_enc_word(struct abi_enc *e, const uint8_t w[32])
{
	bbuf_put(&e->head, w, ABI_WORD_BYTES);
}

void abi_enc_u256(struct abi_enc *e, const struct u256 *v)
{
	uint8_t w[32];

	u256_to_be(v, w);
	abi_enc_word(e, w);
}

void abi_enc_u64(struct abi_enc *e, uint64_t v)
{
	struct u256 u = u256_from_u64(v);

	abi_enc_u256(e, &u);
}

void abi_enc_bool(struct abi_enc *e, bool v)
{
	abi_enc_u64(e, v ? 1 : 0);
}

void abi_enc_address(struct abi_enc *e, const uint8_t addr[20])
{
	uint8_t w[32] = { 0 };

	memcpy(w + 12, addr, 20);
	abi_enc_word(e, w);
}

void abi_enc_fixed(struct abi_enc *e, const void *p, size_t n)
{
	uint8_t w[32] = { 0 };

	if (BUG(n > 32))
		n = 32;
	memcpy(w, p, n);
	abi_enc_word(e, w);
}

/* Pad the tail to a word boundary. */
static void pad(struct bbuf *b, size_t n)
{
	size_t r = n % ABI_WORD_BYTES;

	if (r)
		memset(bbuf_extend(b, ABI_WORD_BYTES - r), 0, ABI_WORD_BYTES - r);
}

static void put_offset(struct abi_enc *e)
{
	abi_enc_u64(e, (uint64_t)(e->head_words * ABI_WORD_BYTES + e->tail.len));
}

static void put_len_word(struct bbuf *b, size_t n)
{
	uint8_t w[32];
	struct u256 u = u256_from_u64(n);

	u256_to_be(&u, w);
	bbuf_put(b, w, sizeof(w));
}

void abi_enc_bytes(struct abi_enc *e, const void *p, size_t n)
{
	put_offset(e);
	put_len_word(&e->tail, n);
	if (n)
		bbuf_put(&e->tail, p, n);
	pad(&e->tail, n);
}

void abi_enc_dyn(struct abi_enc *e, const void *enc, size_t n)
{
	put_offset(e);
	if (n)
		bbuf_put(&e->tail, enc, n);
}

void abi_array_encode(struct bbuf *out, size_t n, const void *elems,
		      size_t elems_len)
{
	put_len_word(out, n);
	if (elems_len)
		bbuf_put(out, elems, elems_len);
}

void abi_bytes_array_encode(struct bbuf *out, size_t n,
			    const uint8_t *const *vals, const size_t *lens)
{
	struct abi_enc e;

	put_len_word(out, n);
	abi_enc_init(&e, n);
	for (size_t i = 0; i < n; i++)
		abi_enc_bytes(&e, vals[i], lens[i]);
	(void)abi_enc_finish(&e, out);
}

/* ---------------------------------------------------------------- decode */

const uint8_t *abi_dec_word(const struct abi_dec *d, size_t i)
{
	if (i >= d->len / ABI_WORD_BYTES)
		return NULL;
	return d->p + i * ABI_WORD_BYTES;
}

int abi_dec_u256(const struct abi_dec *d, size_t i, struct u256 *out)
{
	const uint8_t *w = abi_dec_word(d, i);

	if (!w)
		return ERR_TRUNCATED;
	return u256_from_be(out, w, 32);
}

int abi_dec_u64(const struct abi_dec *d, size_t i, uint64_t *out)
{
	const uint8_t *w = abi_dec_word(d, i);

	if (!w)
		return ERR_TRUNCATED;
	for (size_t k = 0; k < 24; k++)
		if (w[k])
			return ERR_RANGE;
	*out = be64_get(w + 24);
	return 0;
}

int abi_dec_bool(const struct abi_dec *d, size_t i, bool *out)
{
	uint64_t v;
	int e;

	if ((e = abi_dec_u64(d, i, &v)) != 0)
		return e == ERR_RANGE ? ERR_FORMAT : e;
	if (v > 1)
		return ERR_FORMAT;
	*out = v == 1;
	return 0;
}

int abi_dec_address(const struct abi_dec *d, size_t i, uint8_t out[20])
{
	const uint8_t *w = abi_dec_word(d, i);

	if (!w)
		return ERR_TRUNCATED;
	for (size_t k = 0; k < 12; k++)
		if (w[k])
			return ERR_FORMAT;
	memcpy(out, w + 12, 20);
	return 0;
}

int abi_dec_bytes32(const struct abi_dec *d, size_t i, uint8_t out[32])
{
	const uint8_t *w = abi_dec_word(d, i);

	if (!w)
		return ERR_TRUNCATED;
	memcpy(out, w, 32);
	return 0;
}

/* Follow the offset in head word i: a position within d. */
static int offset_at(const struct abi_dec *d, size_t i, size_t *pos)
{
	uint64_t off;
	int e;

	if ((e = abi_dec_u64(d, i, &off)) != 0)
		return e == ERR_RANGE ? ERR_FORMAT : e;
	if (off % ABI_WORD_BYTES)
		return ERR_FORMAT;
	if (off > d->len)
		return ERR_TRUNCATED;
	*pos = (size_t)off;
	return 0;
}

/* Read a length word at pos (bounded by max). */
static int len_at(const struct abi_dec *d, size_t pos, size_t max, size_t *n)
{
	struct abi_dec sub = abi_dec_init(d->p + pos, d->len - pos);
	uint64_t v;
	int e;

	if ((e = abi_dec_u64(&sub, 0, &v)) != 0)
		return e == ERR_RANGE ? ERR_TOO_BIG : e;
	if (v > max)
		return ERR_TOO_BIG;
	*n = (size_t)v;
	return 0;
}

int abi_dec_bytes(const struct abi_dec *d, size_t i, size_t max,
		  const uint8_t **p, size_t *n)
{
	size_t pos, len, padded;
	int e;

	if (max > ABI_MAX_DYN_BYTES)
		max = ABI_MAX_DYN_BYTES;
	if ((e = offset_at(d, i, &pos)) != 0 || (e = len_at(d, pos, max, &len)) != 0)
		return e;
	pos += ABI_WORD_BYTES;
	padded = (len + ABI_WORD_BYTES - 1) / ABI_WORD_BYTES * ABI_WORD_BYTES;
	if (padded > d->len - pos)
		return ERR_TRUNCATED;
	for (size_t k = len; k < padded; k++)
		if (d->p[pos + k])
			return ERR_FORMAT;
	*p = d->p + pos;
	*n = len;
	return 0;
}

int abi_dec_tuple(const struct abi_dec *d, size_t i, struct abi_dec *out)
{
	size_t pos;
	int e;

	if ((e = offset_at(d, i, &pos)) != 0)
		return e;
	*out = abi_dec_init(d->p + pos, d->len - pos);
	return 0;
}

int abi_dec_array(const struct abi_dec *d, size_t i, size_t max_count,
		  size_t elem_words, size_t *count, struct abi_dec *elems)
{
	size_t pos, n;
	int e;

	if (max_count > ABI_MAX_ARRAY_LEN)
		max_count = ABI_MAX_ARRAY_LEN;
	if ((e = offset_at(d, i, &pos)) != 0 ||
	    (e = len_at(d, pos, max_count, &n)) != 0)
		return e;
	pos += ABI_WORD_BYTES;
	if (pos > d->len)
		return ERR_TRUNCATED;
	/* n ≤ ABI_MAX_ARRAY_LEN and elem_words is a small constant: no overflow. */
	if (elem_words && n * elem_words * ABI_WORD_BYTES > d->len - pos)
		return ERR_TRUNCATED;
	*count = n;
	*elems = abi_dec_init(d->p + pos, d->len - pos);
	return 0;
}

struct abi_dec abi_dec_elem(const struct abi_dec *elems, size_t j,
			    size_t elem_words)
{
	size_t off = j * elem_words * ABI_WORD_BYTES;

	if (off > elems->len)
		return abi_dec_init(NULL, 0);
	return abi_dec_init(elems->p + off, elems->len - off);
}

/* ---------------------------------------------------------------- revert */

static void format_printable(char *out, size_t outlen, const uint8_t *p,
			     size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < outlen; i++)
		out[k++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[k] = '\0';
}

void abi_revert_format(char *out, size_t outlen, const uint8_t *data,
		       size_t len, abi_error_name_fn names)
{
	static const uint8_t err_sel[4] = { 0x08, 0xc3, 0x79, 0xa0 };
	static const uint8_t panic_sel[4] = { 0x4e, 0x48, 0x7b, 0x71 };
	char reason[128];

	if (outlen == 0)
		return;
	if (len == 0) {
		snprintf(out, outlen, "reverted without a reason");
		return;
	}
	if (len < 4) {
		snprintf(out, outlen, "reverted with %zu odd bytes", len);
		return;
	}
	struct abi_dec d = abi_dec_init(data + 4, len - 4);
	if (memcmp(data, err_sel, 4) == 0) {
		const uint8_t *p;
		size_t n;
		if (abi_dec_bytes(&d, 0, 256, &p, &n) == 0) {
			format_printable(reason, sizeof(reason), p, n);
			snprintf(out, outlen, "reverted: %s", reason);
		} else {
			snprintf(out, outlen, "reverted: malformed Error(string)");
		}
		return;
	}
	if (memcmp(data, panic_sel, 4) == 0) {
		uint64_t code;
		if (abi_dec_u64(&d, 0, &code) == 0)
			snprintf(out, outlen, "panic 0x%02llx",
				 (unsigned long long)code);
		else
			snprintf(out, outlen, "panic (malformed code)");
		return;
	}
	const char *name = names ? names(data) : NULL;
	if (name)
		snprintf(out, outlen, "reverted: %s", name);
	else
		snprintf(out, outlen, "reverted: custom error 0x%02x%02x%02x%02x",
			 data[0], data[1], data[2], data[3]);
}
