/*
 * gzip and raw deflate with output caps (router/gzip.h), on zlib.
 *
 * Decompression hands zlib one more byte of room than the caller's cap,
 * so "exactly outmax bytes" and "more than outmax bytes" are told apart
 * without a second pass; a stream that reaches its end must also have
 * consumed every input byte (RFC 1952 allows several members, but the
 * I2P structures carry exactly one and trailing bytes are refused).
 */
#include "config.h"
#include "router/gzip.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <string.h>
#include <zlib.h>

/* windowBits: 15 for a 32 KiB window, +16 for the gzip wrapper, negative
 * for a raw deflate stream (zlib manual, deflateInit2/inflateInit2). */
#define GZIP_WBITS (15 + 16)
#define RAW_WBITS (-15)
/* Room we give zlib for the one byte past the cap. */
#define GZIP_PROBE_BYTES 1

static int deflate_all(const void *in, size_t len, struct bbuf *out,
		       int wbits)
{
	z_stream zs;
	uLong bound;
	uint8_t *dst;
	int zr;

	if (len > GZIP_MAX_INPUT_BYTES)
		return ERR_TOO_BIG;
	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, wbits, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return ERR_INTERNAL;
	bound = deflateBound(&zs, (uLong)len);
	dst = bbuf_extend(out, bound);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = dst;
	zs.avail_out = (uInt)bound;
	zr = deflate(&zs, Z_FINISH);
	/* deflateBound() guarantees one Z_FINISH call is enough. */
	out->len -= zs.avail_out;
	deflateEnd(&zs);
	return zr == Z_STREAM_END ? 0 : ERR_INTERNAL;
}

/* A gzip member of stored deflate blocks (RFC 1951 3.2.4): the header,
 * blocks of at most 65535 bytes, each "BFINAL, BTYPE 00, LEN, NLEN", then
 * CRC-32 and ISIZE, little-endian.  MTIME 0, XFL 0, OS 255 (unknown). */
#define GZIP_STORED_BLOCK_MAX 65535u

int gzip_store(const void *in, size_t len, struct bbuf *out)
{
	static const uint8_t hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0,
					 0xff };
	const uint8_t *p = in;
	size_t nblocks, at;
	uint8_t *d;
	uint32_t crc;

	if (len > GZIP_MAX_INPUT_BYTES)
		return ERR_TOO_BIG;
	nblocks = len ? (len + GZIP_STORED_BLOCK_MAX - 1) / GZIP_STORED_BLOCK_MAX
		      : 1;
	d = bbuf_extend(out, sizeof(hdr) + 5 * nblocks + len + 8);
	memcpy(d, hdr, sizeof(hdr));
	d += sizeof(hdr);
	at = 0;
	do {
		size_t n = len - at > GZIP_STORED_BLOCK_MAX ?
				   GZIP_STORED_BLOCK_MAX : len - at;

		d[0] = at + n == len;		/* BFINAL; BTYPE 00 */
		d[1] = (uint8_t)n;
		d[2] = (uint8_t)(n >> 8);
		d[3] = (uint8_t)~n;
		d[4] = (uint8_t)(~n >> 8);
		if (n)
			memcpy(d + 5, p + at, n);
		d += 5 + n;
		at += n;
	} while (at < len);
	crc = gzip_crc32(in, len);
	for (int i = 0; i < 4; i++) {
		d[i] = (uint8_t)(crc >> (8 * i));
		d[4 + i] = (uint8_t)((uint32_t)len >> (8 * i));
	}
	return 0;
}

/* The member gzip_store() (and i2pd's uncompressed payloads) make for up
 * to 65535 bytes: no header flags, one final stored block, nothing after.
 * Checked and copied without zlib (whose inflate state costs more than
 * the copy); 1 when it is one, 0 when zlib must read it, else an error. */
static int stored_member(const uint8_t *in, size_t len, uint8_t *out,
			 size_t outmax, size_t *outlen)
{
	size_t n;
	uint32_t crc, isize;

	if (len < 23 || in[0] != 0x1f || in[1] != 0x8b || in[2] != 8 ||
	    in[3] != 0 || in[10] != 1)
		return 0;
	n = (size_t)in[11] | (size_t)in[12] << 8;
	if ((((size_t)in[13] | (size_t)in[14] << 8) ^ 0xffff) != n ||
	    len != 23 + n)
		return 0;
	if (n > outmax)
		return ERR_TOO_BIG;
	crc = (uint32_t)in[15 + n] | (uint32_t)in[16 + n] << 8 |
	      (uint32_t)in[17 + n] << 16 | (uint32_t)in[18 + n] << 24;
	isize = (uint32_t)in[19 + n] | (uint32_t)in[20 + n] << 8 |
		(uint32_t)in[21 + n] << 16 | (uint32_t)in[22 + n] << 24;
	if (isize != n || crc != gzip_crc32(in + 15, n))
		return ERR_FORMAT;
	memcpy(out, in + 15, n);
	*outlen = n;
	return 1;
}

int gzip_compress(const void *in, size_t len, struct bbuf *out)
{
	return deflate_all(in, len, out, GZIP_WBITS);
}

int gzip_deflate_raw(const void *in, size_t len, struct bbuf *out)
{
	return deflate_all(in, len, out, RAW_WBITS);
}

static int inflate_capped(const uint8_t *in, size_t len, uint8_t *out,
			  size_t outmax, size_t *outlen, int wbits)
{
	uint8_t probe[GZIP_PROBE_BYTES];
	z_stream zs;
	size_t got;
	int zr, r;

	if (len > GZIP_MAX_INPUT_BYTES || outmax > GZIP_MAX_INPUT_BYTES)
		return ERR_TOO_BIG;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, wbits) != Z_OK)
		return ERR_INTERNAL;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)outmax;
	zr = inflate(&zs, Z_FINISH);
	if (zr != Z_STREAM_END && zs.avail_out == 0 && zr != Z_DATA_ERROR &&
	    zr != Z_NEED_DICT && zr != Z_MEM_ERROR) {
		/* The cap is full: one more byte of output means too big; no
		 * more output but the trailer still to read is fine. */
		got = outmax;
		zs.next_out = probe;
		zs.avail_out = sizeof(probe);
		zr = inflate(&zs, Z_FINISH);
		if (zs.avail_out != sizeof(probe)) {
			r = ERR_TOO_BIG;
			goto out;
		}
	} else {
		got = outmax - zs.avail_out;
	}
	switch (zr) {
	case Z_STREAM_END:
		r = zs.avail_in ? ERR_FORMAT : 0;	/* trailing bytes */
		break;
	case Z_BUF_ERROR:
	case Z_OK:
		/* Z_FINISH with all the room it needs: the input ran out. */
		r = ERR_TRUNCATED;
		break;
	case Z_MEM_ERROR:
		r = ERR_INTERNAL;
		break;
	default:			/* Z_DATA_ERROR, Z_NEED_DICT */
		r = ERR_FORMAT;
		break;
	}
	if (r == 0)
		*outlen = got;
out:
	inflateEnd(&zs);
	memwipe(probe, sizeof(probe));
	return r;
}

int gzip_decompress(const uint8_t *in, size_t len, uint8_t *out,
		    size_t outmax, size_t *outlen)
{
	int r = stored_member(in, len, out, outmax, outlen);

	if (r != 0)
		return r < 0 ? r : 0;
	return inflate_capped(in, len, out, outmax, outlen, GZIP_WBITS);
}

int gzip_inflate_raw(const uint8_t *in, size_t len, uint8_t *out,
		     size_t outmax, size_t *outlen)
{
	return inflate_capped(in, len, out, outmax, outlen, RAW_WBITS);
}

uint32_t gzip_crc32(const void *in, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);
	const uint8_t *p = in;

	while (len > 0) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
		c = crc32(c, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)c;
}
