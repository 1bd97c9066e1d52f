/*
 * The key library (issue 13): the licences this router bought and their
 * content keys K, one file per content in a private directory
 * (DATADIR/market-licences/<content hash>, mode 0600 in a 0700
 * directory), so they survive restarts.  Each file holds the licence's
 * public facts (content, index, token id, price and relayer fee paid, the
 * holder address, the key agent) and its secrets: the holder's key (to
 * ask the agent again, or resell) and K once released.
 *
 * Only the public facts stay in memory; the secrets are read from the
 * file when needed and wiped after use.  A file is under a page: reading
 * or writing one on the loop thread is allowed (docs/STYLE.md §4).
 *
 * File format (text, one "name value" a line, unknown names refused):
 *   content HEX64   index DEC   token DEC (absent before payment)
 *   price DEC   fee DEC   holder 0xHEX40   agent HEX64   bought UNIX
 *   holder-key HEX64   key HEX64 (absent until released)
 *   sold UNIX (absent while held)
 *
 * A licence found sold or moved away from its holder address (a resale
 * step reading ownerOf) is marked sold: it no longer counts as held (the
 * owned filter, the wallet's list), but its file stays, with K (whoever
 * had the key keeps it) and the holder key (the seller's payout).
 *
 * Thread: the loop thread (or any one thread at a time).
 */
#ifndef APPS_MARKET_LIBRARY_H
#define APPS_MARKET_LIBRARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/secp.h"
#include "chain/u256.h"

struct json_t;

#define MARKET_LIBRARY_DIR "market-licences"
#define MARKET_LIBRARY_MAX 4096			/* licences */
#define MARKET_LIBRARY_FILE_MAX_BYTES 1024

/* A licence's public facts. */
struct market_licence {
	uint8_t content_hash[32];
	uint64_t index;			/* in the LicenseRegistry */
	bool has_token;			/* paid and minted */
	struct u256 token_id;
	struct u256 price;		/* paid to the registry */
	struct u256 relayer_fee;	/* paid to the relayer (0: direct) */
	uint8_t holder[20];
	uint8_t agent[32];		/* key agent's destination hash */
	uint64_t bought_at;		/* Unix seconds */
	bool has_key;			/* K held */
	uint64_t sold_at;		/* Unix seconds found sold; 0: held */
};

struct market_library;	/* opaque */

/*
 * Open (making it 0700 when missing) DATADIR/market-licences and read the
 * public facts of every licence file there.  A file that does not parse
 * is logged and left out.  ERR_IO when the directory cannot be made.
 */
int market_library_open(const char *datadir, struct market_library **out);
void market_library_free(struct market_library *lib);

size_t market_library_count(const struct market_library *lib);
/* The licences not sold (sold_at 0). */
size_t market_library_held(const struct market_library *lib);
/* The i-th licence (borrowed until the next put), or NULL. */
const struct market_licence *market_library_at(const struct market_library *lib,
					       size_t i);
const struct market_licence *market_library_find(
	const struct market_library *lib, const uint8_t content_hash[32]);

/*
 * Write l's file (replacing it atomically) with the holder's key and K
 * (key NULL: keep the K the file holds, if any), and update the memory
 * view.  ERR_LIMIT past MARKET_LIBRARY_MAX; ERR_IO.
 */
int market_library_put(struct market_library *lib,
		       const struct market_licence *l,
		       const struct secp_sk *holder, const uint8_t key[32]);
/*
 * market_library_put() in two steps, so the file is written off the loop
 * (STYLE.md §4): market_library_store() writes the file only (any
 * thread; lib is only read, and must outlive the call) and gives the
 * licence as written (has_key as the file holds it);
 * market_library_note() then updates the memory view on the loop.
 * market_library_has_room(): false when a new content would pass
 * MARKET_LIBRARY_MAX (check it before storing).
 */
bool market_library_has_room(const struct market_library *lib,
			     const uint8_t content_hash[32]);
int market_library_store(const struct market_library *lib,
			 const struct market_licence *l,
			 const struct secp_sk *holder, const uint8_t key[32],
			 struct market_licence *written);
void market_library_note(struct market_library *lib,
			 const struct market_licence *l);
/*
 * Mark the content's licence sold at `when` (its file rewritten, K and
 * the holder key kept); a licence already marked keeps its time.
 * ERR_NOT_FOUND; ERR_IO.
 */
int market_library_mark_sold(struct market_library *lib,
			     const uint8_t content_hash[32], uint64_t when);
/* The holder's key of the content's licence (from its file; wipe it
 * after use).  ERR_NOT_FOUND. */
int market_library_holder_key(const struct market_library *lib,
			      const uint8_t content_hash[32],
			      struct secp_sk *out);
/* K of the content (from its file; wipe it after use).  ERR_NOT_FOUND
 * when no licence or no key is held. */
int market_library_content_key(const struct market_library *lib,
			       const uint8_t content_hash[32],
			       uint8_t key[32]);

/* The public facts as JSON ({"licences": [the held...], "sold": [the
 * sold...]}; new reference). */
struct json_t *market_library_json(const struct market_library *lib);
struct json_t *market_licence_json(const struct market_licence *l);

#endif /* APPS_MARKET_LIBRARY_H */
