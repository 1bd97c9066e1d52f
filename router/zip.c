/*
 * Zip reading and writing (router/zip.h; PKWARE APPNOTE 6.3 sections
 * 4.3.7 local file header, 4.3.12 central directory header, 4.3.16 end of
 * central directory record).  All integers are little-endian.
 *
 * The reader trusts the central directory, the way unzip does, but
 * checks each local header against it and keeps every entry's data before
 * the central directory, so entries cannot point into headers.
 */
#include "config.h"
#include "router/zip.h"
#include "router/gzip.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"

#include <stdlib.h>
#include <string.h>

#define ZIP_LOCAL_SIG 0x04034b50u
#define ZIP_CENTRAL_SIG 0x02014b50u
#define ZIP_EOCD_SIG 0x06054b50u
#define ZIP_LOCAL_BYTES 30
#define ZIP_CENTRAL_BYTES 46
#define ZIP_EOCD_BYTES 22
#define ZIP_MAX_COMMENT_BYTES 65535
/* General purpose flags: bit 0 encrypted, bit 3 sizes in a data
 * descriptor after the data, bit 11 UTF-8 names. */
#define ZIP_FLAG_ENCRYPTED 0x0001u
#define ZIP_FLAG_DESCRIPTOR 0x0008u
#define ZIP_FLAG_UTF8 0x0800u
/* "version needed to extract": 2.0 for deflate. */
#define ZIP_VERSION_DEFLATE 20
/* ZIP64 markers in the 16- and 32-bit fields. */
#define ZIP64_16 0xffffu
#define ZIP64_32 0xffffffffu

struct eocd {
	size_t pos;		/* offset of the record */
	size_t n;		/* entries */
	size_t cd_off, cd_size;
};

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The end record is the last 22 bytes plus a comment of up to 64 K:
 * search backwards for a signature whose comment ends the file. */
static int find_eocd(const uint8_t *buf, size_t len, struct eocd *e)
{
	size_t lo, pos;

	if (len < ZIP_EOCD_BYTES)
		return ERR_TRUNCATED;
	lo = len - ZIP_EOCD_BYTES > ZIP_MAX_COMMENT_BYTES ?
		     len - ZIP_EOCD_BYTES - ZIP_MAX_COMMENT_BYTES : 0;
	for (pos = len - ZIP_EOCD_BYTES + 1; pos-- > lo;) {
		const uint8_t *p = buf + pos;
		if (le32_at(p) != ZIP_EOCD_SIG ||
		    pos + ZIP_EOCD_BYTES + le16_at(p + 20) != len)
			continue;
		/* One disk only: disk numbers 0 and both counts equal. */
		if (le16_at(p + 4) || le16_at(p + 6) ||
		    le16_at(p + 8) != le16_at(p + 10))
			return ERR_FORMAT;
		if (le16_at(p + 10) == ZIP64_16 || le32_at(p + 12) == ZIP64_32 ||
		    le32_at(p + 16) == ZIP64_32)
			return ERR_UNSUPPORTED;
		e->pos = pos;
		e->n = le16_at(p + 10);
		e->cd_size = le32_at(p + 12);
		e->cd_off = le32_at(p + 16);
		if (e->cd_off > pos || e->cd_size > pos - e->cd_off)
			return ERR_FORMAT;
		return 0;
	}
	return ERR_FORMAT;
}

struct centry {
	uint16_t flags, method;
	uint32_t crc;
	size_t csize, usize, local;
	char name[ZIP_MAX_NAME_BYTES + 1];
	size_t name_len;
};

static int read_central(struct breader *r, size_t max_entry_bytes,
			struct centry *c)
{
	const uint8_t *name;
	size_t elen, clen;

	if (br_le32(r) != ZIP_CENTRAL_SIG)
		return r->failed ? ERR_TRUNCATED : ERR_FORMAT;
	br_skip(r, 4);				/* versions */
	c->flags = br_le16(r);
	c->method = br_le16(r);
	br_skip(r, 4);				/* time, date */
	c->crc = br_le32(r);
	c->csize = br_le32(r);
	c->usize = br_le32(r);
	c->name_len = br_le16(r);
	elen = br_le16(r);
	clen = br_le16(r);
	br_skip(r, 8);				/* disk, attributes */
	c->local = br_le32(r);
	name = br_take(r, c->name_len);
	br_skip(r, elen + clen);
	if (r->failed)
		return ERR_TRUNCATED;
	if (c->csize == ZIP64_32 || c->usize == ZIP64_32 ||
	    c->local == ZIP64_32)
		return ERR_UNSUPPORTED;
	if (c->flags & ZIP_FLAG_ENCRYPTED)
		return ERR_UNSUPPORTED;
	if (c->method != ZIP_METHOD_STORED && c->method != ZIP_METHOD_DEFLATE)
		return ERR_UNSUPPORTED;
	if (c->name_len == 0 || c->name_len > ZIP_MAX_NAME_BYTES ||
	    memchr(name, 0, c->name_len))
		return ERR_FORMAT;
	if (c->usize > max_entry_bytes)
		return ERR_TOO_BIG;
	if (c->method == ZIP_METHOD_STORED && c->csize != c->usize)
		return ERR_FORMAT;
	memcpy(c->name, name, c->name_len);
	c->name[c->name_len] = '\0';
	return 0;
}

/* Find c's data through its local header; it must end before the
 * central directory. */
static int local_data(const uint8_t *buf, const struct eocd *e,
		      const struct centry *c, const uint8_t **data)
{
	const uint8_t *p;
	size_t start;

	if (c->local > e->cd_off || e->cd_off - c->local < ZIP_LOCAL_BYTES)
		return ERR_FORMAT;
	p = buf + c->local;
	if (le32_at(p) != ZIP_LOCAL_SIG || le16_at(p + 8) != c->method ||
	    le16_at(p + 26) != c->name_len)
		return ERR_FORMAT;
	if (!(le16_at(p + 6) & ZIP_FLAG_DESCRIPTOR) &&
	    (le32_at(p + 14) != c->crc || le32_at(p + 18) != c->csize ||
	     le32_at(p + 22) != c->usize))
		return ERR_FORMAT;
	start = c->local + ZIP_LOCAL_BYTES + c->name_len + le16_at(p + 28);
	if (start > e->cd_off || c->csize > e->cd_off - start ||
	    memcmp(buf + c->local + ZIP_LOCAL_BYTES, c->name,
		   c->name_len) != 0)
		return ERR_FORMAT;
	*data = buf + start;
	return 0;
}

static int entry_data(const uint8_t *buf, const struct eocd *e,
		      const struct centry *c, zip_entry_fn fn, void *ctx)
{
	const uint8_t *data;
	uint8_t *out;
	size_t got = 0;
	int r;

	if ((r = local_data(buf, e, c, &data)) != 0)
		return r;
	out = xmalloc(c->usize ? c->usize : 1);
	if (c->method == ZIP_METHOD_STORED) {
		memcpy(out, data, c->usize);
		got = c->usize;
	} else if ((r = gzip_inflate_raw(data, c->csize, out, c->usize,
					 &got)) != 0) {
		goto out;
	}
	if (got != c->usize || gzip_crc32(out, got) != c->crc) {
		r = ERR_FORMAT;
		goto out;
	}
	r = fn(ctx, c->name, out, got);
out:
	free(out);
	return r;
}

int zip_foreach(const uint8_t *buf, size_t len, size_t max_entries,
		size_t max_entry_bytes, zip_entry_fn fn, void *ctx)
{
	struct eocd e;
	struct breader r;
	int ret;

	if ((ret = find_eocd(buf, len, &e)) != 0)
		return ret;
	if (e.n > max_entries)
		return ERR_TOO_BIG;
	br_init(&r, buf + e.cd_off, e.cd_size);
	for (size_t i = 0; i < e.n; i++) {
		struct centry c;
		if ((ret = read_central(&r, max_entry_bytes, &c)) != 0 ||
		    (ret = entry_data(buf, &e, &c, fn, ctx)) != 0)
			return ret;
	}
	return 0;
}

/* ---- writing ---- */

void zip_writer_init(struct zip_writer *w)
{
	bbuf_init(&w->out);
	bbuf_init(&w->cdir);
	w->n = 0;
}

void zip_writer_clear(struct zip_writer *w)
{
	bbuf_free(&w->out);
	bbuf_free(&w->cdir);
	w->n = 0;
}

int zip_writer_add(struct zip_writer *w, const char *name, const uint8_t *data,
		   size_t len)
{
	size_t nlen = strlen(name), local = w->out.len, csize;
	struct bbuf z = BBUF_INIT;
	uint32_t crc;
	int r;

	if (nlen == 0 || nlen > ZIP_MAX_NAME_BYTES)
		return ERR_ARG;
	if (w->n == ZIP64_16 - 1 || local >= ZIP64_32 || len >= ZIP64_32)
		return ERR_LIMIT;
	if ((r = gzip_deflate_raw(data, len, &z)) != 0)
		return r;
	csize = z.len;
	if (local + ZIP_LOCAL_BYTES + nlen + csize >= ZIP64_32) {
		bbuf_free(&z);
		return ERR_LIMIT;
	}
	crc = gzip_crc32(data, len);
	/* Local file header. */
	bbuf_le32(&w->out, ZIP_LOCAL_SIG);
	bbuf_le16(&w->out, ZIP_VERSION_DEFLATE);
	bbuf_le16(&w->out, 0);				/* flags */
	bbuf_le16(&w->out, ZIP_METHOD_DEFLATE);
	bbuf_le32(&w->out, 0);				/* time, date */
	bbuf_le32(&w->out, crc);
	bbuf_le32(&w->out, (uint32_t)csize);
	bbuf_le32(&w->out, (uint32_t)len);
	bbuf_le16(&w->out, (uint16_t)nlen);
	bbuf_le16(&w->out, 0);				/* extra */
	bbuf_put(&w->out, name, nlen);
	bbuf_put(&w->out, z.data, csize);
	bbuf_free(&z);
	/* Its central directory entry. */
	bbuf_le32(&w->cdir, ZIP_CENTRAL_SIG);
	bbuf_le16(&w->cdir, ZIP_VERSION_DEFLATE);	/* made by */
	bbuf_le16(&w->cdir, ZIP_VERSION_DEFLATE);	/* needed */
	bbuf_le16(&w->cdir, 0);
	bbuf_le16(&w->cdir, ZIP_METHOD_DEFLATE);
	bbuf_le32(&w->cdir, 0);
	bbuf_le32(&w->cdir, crc);
	bbuf_le32(&w->cdir, (uint32_t)csize);
	bbuf_le32(&w->cdir, (uint32_t)len);
	bbuf_le16(&w->cdir, (uint16_t)nlen);
	bbuf_le16(&w->cdir, 0);				/* extra */
	bbuf_le16(&w->cdir, 0);				/* comment */
	bbuf_le16(&w->cdir, 0);				/* disk */
	bbuf_le16(&w->cdir, 0);				/* internal attr */
	bbuf_le32(&w->cdir, 0);				/* external attr */
	bbuf_le32(&w->cdir, (uint32_t)local);
	bbuf_put(&w->cdir, name, nlen);
	w->n++;
	return 0;
}

void zip_writer_finish(struct zip_writer *w, struct bbuf *out)
{
	size_t cd_off = w->out.len;

	bbuf_put(&w->out, w->cdir.data, w->cdir.len);
	bbuf_le32(&w->out, ZIP_EOCD_SIG);
	bbuf_le16(&w->out, 0);
	bbuf_le16(&w->out, 0);
	bbuf_le16(&w->out, w->n);
	bbuf_le16(&w->out, w->n);
	bbuf_le32(&w->out, (uint32_t)w->cdir.len);
	bbuf_le32(&w->out, (uint32_t)cd_off);
	bbuf_le16(&w->out, 0);				/* comment */
	bbuf_put(out, w->out.data, w->out.len);
	zip_writer_clear(w);
}
