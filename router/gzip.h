/*
 * gzip (RFC 1952) and raw deflate (RFC 1951) through zlib, with output
 * caps for untrusted input.
 *
 * I2P gzips the RouterInfo inside a DatabaseStore (i2np spec,
 * "DatabaseStore": "a gzip-compressed RouterInfo") and every client
 * payload; reseed bundles are zip files whose members are raw deflate.
 * A decompressor never writes more than the caller's cap: a small input
 * that inflates past it is refused (ERR_TOO_BIG), not truncated.
 *
 * Thread-safe: no shared state.
 */
#ifndef ROUTER_GZIP_H
#define ROUTER_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

/* zlib's own limit for one call (uInt); we never come near it. */
#define GZIP_MAX_INPUT_BYTES (64u << 20)

/*
 * Append a gzip member (one deflate stream, CRC-32 and size trailer)
 * holding len bytes of in to out.  ERR_TOO_BIG when len is over
 * GZIP_MAX_INPUT_BYTES; ERR_INTERNAL if zlib fails.
 */
int gzip_compress(const void *in, size_t len, struct bbuf *out);

/*
 * Append a gzip member holding len bytes of in uncompressed (stored
 * deflate blocks: 23 bytes more than len up to 65535 bytes), without
 * zlib's compressor state: what i2pd sends client payloads as unless
 * asked to compress.  ERR_TOO_BIG over GZIP_MAX_INPUT_BYTES.
 */
int gzip_store(const void *in, size_t len, struct bbuf *out);

/*
 * Append a raw deflate stream (zip method 8) of len bytes of in to out.
 * Errors as gzip_compress().
 */
int gzip_deflate_raw(const void *in, size_t len, struct bbuf *out);

/*
 * Decompress one gzip member of exactly len bytes (untrusted) into out
 * (outmax bytes); *outlen gets the size.  Errors: ERR_TOO_BIG (the data
 * inflates past outmax, or len over GZIP_MAX_INPUT_BYTES), ERR_TRUNCATED
 * (the stream ends early), ERR_FORMAT (bad header, bad deflate data, CRC
 * or size mismatch, or bytes after the member).  On error out holds
 * garbage and *outlen is untouched.
 */
int gzip_decompress(const uint8_t *in, size_t len, uint8_t *out,
		    size_t outmax, size_t *outlen);

/*
 * Inflate a raw deflate stream (zip method 8) of exactly len bytes into
 * out (outmax bytes).  Errors as gzip_decompress() (no CRC: zip keeps its
 * own, which the caller checks with gzip_crc32()).
 */
int gzip_inflate_raw(const uint8_t *in, size_t len, uint8_t *out,
		     size_t outmax, size_t *outlen);

/* CRC-32 (the gzip and zip polynomial) of len bytes. */
uint32_t gzip_crc32(const void *in, size_t len);

#endif /* ROUTER_GZIP_H */
