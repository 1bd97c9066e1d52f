/*
 * Mapping: the key/value properties of RouterAddress, RouterInfo and other
 * I2P structures (common-structures spec, "Mapping").
 *
 * Wire form: a 2-byte size (bytes that follow), then `String '=' String ';'`
 * repeated.  Keys and values are at most 255 bytes each.
 *
 * decode keeps the entries in received order, so a caller can tell whether
 * the peer wrote them canonically (mapping_is_sorted()); it rejects
 * duplicate keys ("Duplicate keys are not allowed" in signed mappings) and
 * NUL bytes inside keys or values (no router sends them, and they would make
 * C-string lookups ambiguous).  encode always writes the canonical form:
 * sorted by key in byte order (Java String.compareTo order for ASCII) with
 * unique keys, so a signature we make is invariant.
 *
 * Ownership: a struct mapping owns copies of its keys and values.  Decoders
 * do not log; the caller knows the context and logs once.
 */
#ifndef ROUTER_MAPPING_H
#define ROUTER_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

/* "Total length limit is 65535 bytes, plus the 2 byte size field". */
#define MAPPING_MAX_BYTES 65535
/* Each key and value is a String: at most 255 bytes. */
#define MAPPING_STRING_MAX_BYTES 255
/* Entries a received Mapping may have.  The spec sets none; routers'
 * and addresses' carry under 20, a LeaseSet's a few.  Each costs about
 * 100 bytes of heap against 6 on the wire at the least, so a 3 KB
 * RouterInfo of one-byte keys took 54 KB, and the netDb keeps 50,000. */
#define MAPPING_DECODE_MAX_ENTRIES 64

struct mapping_entry {
	char *key;		/* NUL-terminated after key_len bytes */
	char *value;		/* NUL-terminated, value_len bytes; in the
				 * key's block (freed with it) */
	size_t key_len;
	size_t value_len;
};

struct mapping {
	struct mapping_entry *e;	/* in insertion / received order */
	size_t n;
	size_t cap;
};

#define MAPPING_INIT { NULL, 0, 0 }

void mapping_init(struct mapping *m);
/* Free all entries; m is empty and reusable afterwards.  Accepts NULL. */
void mapping_clear(struct mapping *m);
/* Replace dst's content with a deep copy of src. */
void mapping_copy(struct mapping *dst, const struct mapping *src);

/*
 * Set key to value (both NUL-terminated), replacing an existing value.
 * ERR_TOO_BIG when either is longer than 255 bytes; m is unchanged then.
 */
int mapping_set(struct mapping *m, const char *key, const char *value);
/* Remove key; ERR_NOT_FOUND when absent. */
int mapping_remove(struct mapping *m, const char *key);
/* The value of key (borrowed, valid until m changes), or NULL. */
const char *mapping_get(const struct mapping *m, const char *key);

/*
 * Decode a Mapping from r whose size field may be at most max_bytes (the
 * limit of the enclosing structure, <= MAPPING_MAX_BYTES).  out must be
 * initialised; on success its old content is freed and replaced, on error
 * it is untouched.  Errors: ERR_TRUNCATED (r ends early), ERR_TOO_BIG (size
 * over max_bytes), ERR_FORMAT (an entry overruns the size, a missing '=' or
 * ';', a NUL inside a string), ERR_DUPLICATE (a key appears twice),
 * ERR_TOO_BIG also past MAPPING_DECODE_MAX_ENTRIES entries.
 */
int mapping_decode(struct breader *r, size_t max_bytes, struct mapping *out);

/* Bytes mapping_encode() would append (size field included). */
size_t mapping_encoded_len(const struct mapping *m);
/* The heap m's entries take (alloc_cost of each block). */
size_t mapping_heap_bytes(const struct mapping *m);
/*
 * Append the canonical encoding (sorted by key).  ERR_TOO_BIG when it would
 * exceed MAPPING_MAX_BYTES (nothing is written).
 */
int mapping_encode(const struct mapping *m, struct bbuf *b);

/* True when the entries are in canonical order (strictly increasing keys). */
bool mapping_is_sorted(const struct mapping *m);

#endif /* ROUTER_MAPPING_H */
