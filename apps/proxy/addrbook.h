/*
 * The address book: names ending in ".i2p" to Destinations, from a local
 * hosts.txt-format file, subscriptions and address-helper links.
 *
 * hosts.txt lines are "name=base64destination", optionally followed by
 * "#!key=value#key=value..." (the signed registration format of the
 * "Addressbook Subscription Feed Commands" spec); "#!..." alone is a
 * remove command, any other '#' line a comment.  Signed lines are
 * verified as the spec says (sig by the line's Destination, the inner
 * oldsig by olddest) before they are used; unsigned plain lines are
 * taken as they are, as every I2P router does.
 *
 * Names are lowercase, end in ".i2p", are not "*.b32.i2p" and hold
 * [a-z0-9.-] only, at most ADDRBOOK_NAME_MAX_BYTES.  An existing name is
 * never overwritten by a plain line (first come, first kept).
 * Thread: one owner at a time.
 */
#ifndef APPS_PROXY_ADDRBOOK_H
#define APPS_PROXY_ADDRBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/keys_and_cert.h"

#define ADDRBOOK_NAME_MAX_BYTES 255
#define ADDRBOOK_LINE_MAX_BYTES 8192
#define ADDRBOOK_OPTS_MAX 16
#define ADDRBOOK_MAX_ENTRIES 200000
#define ADDRBOOK_FILE_MAX_BYTES (32 * 1024 * 1024)

struct addrbook;	/* opaque */

struct hosts_kv {
	const char *key, *value;
	size_t key_len, value_len;
};

/* One parsed line; pointers borrow the line. */
struct hosts_line {
	const char *name, *dest;	/* NULL for a remove command */
	size_t name_len, dest_len;
	struct hosts_kv opt[ADDRBOOK_OPTS_MAX];
	size_t nopt;
	bool has_opts;			/* "#!" was there */
};

/*
 * Parse one line (untrusted, without its newline; a trailing CR is
 * ignored).  ERR_NOT_FOUND for a blank or comment line; ERR_FORMAT for a
 * bad name, an empty Destination, a duplicate key or an option without
 * '='; ERR_TOO_BIG over ADDRBOOK_LINE_MAX_BYTES or ADDRBOOK_OPTS_MAX.
 */
int hosts_line_parse(const char *line, size_t len, struct hosts_line *out);
/* The value of key in l, or NULL (borrowed; *n its length). */
const char *hosts_line_opt(const struct hosts_line *l, const char *key,
			   size_t *n);
/*
 * Append the bytes signed for l (spec "Input for signatures"): without
 * sig, and without oldsig too when inner; "name=dest" for add/change
 * lines, then "#!" and the remaining options sorted by key.
 */
void hosts_line_signed_bytes(const struct hosts_line *l, bool inner,
			     struct bbuf *out);
/*
 * Check the signatures of a line with options: "sig" by the line's
 * Destination (or the "dest" option of a remove command), and when
 * "oldsig" is there, it by "olddest".  Errors: ERR_NOT_FOUND (no sig),
 * ERR_FORMAT (bad base64 or Destination), ERR_UNSUPPORTED (a signing
 * type we cannot verify), ERR_BAD_SIG.
 */
int hosts_line_verify(const struct hosts_line *l);
/* True when name (n bytes) is a name the book holds (see above). */
bool addrbook_name_ok(const char *name, size_t n);

/* Never returns NULL; caller owns it. */
struct addrbook *addrbook_new(void);
void addrbook_free(struct addrbook *ab);
/*
 * Add name → dest.  ERR_EXISTS when the name is there with another
 * Destination (unless replace), ERR_FORMAT for a bad name, ERR_LIMIT past
 * ADDRBOOK_MAX_ENTRIES.  The same pair again is 0.
 */
int addrbook_add(struct addrbook *ab, const char *name,
		 const struct keys_and_cert *dest, bool replace);
/* The Destination of name; ERR_NOT_FOUND. */
int addrbook_lookup(const struct addrbook *ab, const char *name,
		    struct keys_and_cert *out);
size_t addrbook_count(const struct addrbook *ab);

struct addrbook_merge_stats {
	size_t added, replaced, known, bad, bad_sig, removed, ignored;
};
/*
 * Apply a hosts.txt text (untrusted): plain and add lines add unknown
 * names; verified changedest / remove / removeall commands change or
 * drop the names they name; other commands are counted as ignored.
 * Lines that do not parse or verify are counted and skipped.
 */
void addrbook_merge(struct addrbook *ab, const char *text, size_t len,
		    struct addrbook_merge_stats *st);
/* Read a file and merge it.  ERR_IO (errno says why), ERR_TOO_BIG. */
int addrbook_load_file(struct addrbook *ab, const char *path,
		       struct addrbook_merge_stats *st);

#endif /* APPS_PROXY_ADDRBOOK_H */
