/*
 * Zip archives (PKWARE APPNOTE 6.3: local file headers, central
 * directory, end of central directory), enough for reseed bundles:
 * reading stored (0) and deflated (8) entries, and writing deflated ones.
 *
 * Reading trusts nothing: the central directory is found from the end,
 * every offset and size is checked against the buffer, the number of
 * entries and every entry's size are capped by the caller, the local
 * header must agree with the central one, the CRC-32 is checked, and ZIP64,
 * encryption and other methods are refused.  Entry data is handed out
 * uncompressed; names are NUL-terminated copies.
 *
 * Thread-safe: no shared state.
 */
#ifndef ROUTER_ZIP_H
#define ROUTER_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

#define ZIP_MAX_NAME_BYTES 255
#define ZIP_METHOD_STORED 0
#define ZIP_METHOD_DEFLATE 8

/*
 * Called for each entry with its name and uncompressed bytes (borrowed
 * for the call).  Return 0 to go on; anything else stops the walk and is
 * returned by zip_foreach().
 */
typedef int (*zip_entry_fn)(void *ctx, const char *name, const uint8_t *data,
			    size_t len);

/*
 * Walk the archive buf (len bytes, untrusted).  Errors: ERR_FORMAT (not
 * a zip, inconsistent headers, bad CRC, a name with a NUL), ERR_TOO_BIG
 * (more than max_entries entries, or an entry over max_entry_bytes),
 * ERR_UNSUPPORTED (ZIP64, encryption, a method other than 0 or 8),
 * ERR_TRUNCATED, or fn's value.
 */
int zip_foreach(const uint8_t *buf, size_t len, size_t max_entries,
		size_t max_entry_bytes, zip_entry_fn fn, void *ctx);

/* An archive being written (deflated entries, no timestamps). */
struct zip_writer {
	struct bbuf out;	/* the archive so far */
	struct bbuf cdir;	/* central directory entries */
	uint16_t n;
};

void zip_writer_init(struct zip_writer *w);
/* Add an entry.  ERR_ARG (a name over 255 bytes or empty), ERR_LIMIT
 * (65535 entries, or an archive over 4 GiB), ERR_INTERNAL. */
int zip_writer_add(struct zip_writer *w, const char *name, const uint8_t *data,
		   size_t len);
/* Finish: append the central directory and its end record, and hand the
 * archive to out (appended).  w is empty afterwards. */
void zip_writer_finish(struct zip_writer *w, struct bbuf *out);
/* Drop everything (after an error).  */
void zip_writer_clear(struct zip_writer *w);

#endif /* ROUTER_ZIP_H */
