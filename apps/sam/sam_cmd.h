/*
 * SAM v3 command lines (SAM V3 spec, "Encoding and Escaping", "Empty
 * values", "Case Sensitivity", "SAM Connection Handshake").
 *
 *   COMMAND SUBCOMMAND [key=value] [key=value] ...
 *   COMMAND                      (3.2: QUIT, STOP, EXIT, HELP)
 *   PING[ arbitrary text] / PONG[ arbitrary text]
 *
 * Words are separated by one or more spaces or tabs; a value may be
 * double-quoted, and inside quotes \" is a quote and \\ a backslash (3.2).
 * KEY, KEY= and KEY="" are empty values.  The command and subcommand are
 * mapped to upper case (as the spec recommends, for telnet); keys and
 * values are kept as they are.  A trailing CR is dropped.
 *
 * Pure functions, thread-safe.
 */
#ifndef APPS_SAM_SAM_CMD_H
#define APPS_SAM_SAM_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

#define SAM_LINE_MAX_BYTES 16384	/* a private key is ~900 characters */
#define SAM_PAIRS_MAX 64

struct sam_pair {
	const char *key;
	const char *value;	/* "" for KEY or KEY= */
};

struct sam_cmd {
	const char *verb;	/* upper case */
	const char *sub;	/* upper case, or NULL */
	const char *text;	/* PING/PONG: the rest of the line ("" if none) */
	struct sam_pair pairs[SAM_PAIRS_MAX];
	size_t npairs;
	char *buf;		/* owns every string above */
	size_t buflen;
};

/*
 * Parse one line (len bytes, without or with its "\n"; untrusted).
 * Errors: ERR_TOO_BIG (over SAM_LINE_MAX_BYTES or SAM_PAIRS_MAX pairs),
 * ERR_FORMAT (empty line, a NUL byte, an unterminated quote, a key that is
 * empty or quoted).  On success the caller frees out with sam_cmd_free().
 */
int sam_cmd_parse(const char *line, size_t len, struct sam_cmd *out);
void sam_cmd_free(struct sam_cmd *c);
/* The value of key (case-sensitive; the last one wins), or NULL. */
const char *sam_cmd_get(const struct sam_cmd *c, const char *key);

/* Supported versions: 3.0 to 3.3. */
#define SAM_VERSION_MIN 30
#define SAM_VERSION_MAX 33

/*
 * Parse a version ("3", "3.1"; major.minor) into major * 10 + minor.
 * ERR_FORMAT for anything else.
 */
int sam_version_parse(const char *s, unsigned *out);
/*
 * HELLO VERSION: the highest version we support within MIN and MAX (either
 * may be NULL or empty, as of 3.1).  ERR_NOT_FOUND: none (NOVERSION);
 * ERR_FORMAT: a bad MIN or MAX.
 */
int sam_version_negotiate(const char *min, const char *max, unsigned *out);

/*
 * Append ` key=value` to b, quoting the value (with \" and \\ escapes) when
 * it is empty or holds a space, tab, quote or backslash.
 */
void sam_put_pair(struct bbuf *b, const char *key, const char *value);

#endif /* APPS_SAM_SAM_CMD_H */
