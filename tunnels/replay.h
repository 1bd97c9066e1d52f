/*
 * A decaying Bloom filter for replay protection: build-record ephemeral
 * keys and TunnelData IVs (PROTOCOLS.md 2.8, 2.9; Java keeps such filters
 * for both).  Two generations of a bit array: a key is "seen" when every
 * one of its k bits is set in either generation; new keys go into the
 * current one, which becomes the previous one after period_ms or once it
 * holds max_entries keys.  So a key is remembered for at least period_ms
 * (unless a burst fills a generation early), its size is fixed at creation
 * (in memory: the pages the keys since the last clearing touched),
 * and false positives stay near TUNNEL_REPLAY_FP_RATE while a generation
 * is below its entry limit.
 *
 * Keys are hashed with SipHash under a random per-filter key, so a peer
 * cannot aim collisions at it.  Times are milliseconds on any clock that
 * does not run backwards (a step back counts as a full period).  Not
 * thread-safe.
 */
#ifndef TUNNELS_REPLAY_H
#define TUNNELS_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bits per entry and hash count: ~24 bits and 16 hashes give a false
 * positive rate around 1e-5 at a full generation. */
#define TUNNEL_REPLAY_BITS_PER_ENTRY 24
#define TUNNEL_REPLAY_HASHES 16
/* Build records: the request-time window is 8 + 5 minutes. */
#define TUNNEL_REPLAY_BUILD_PERIOD_MS (10ULL * 60 * 1000)
#define TUNNEL_REPLAY_BUILD_ENTRIES 65536
/* TunnelData: a tunnel lives 10 minutes.  2^18 entries take 2^23 bits, 1
 * MiB a generation (Java's default IV filter: 2 MB in two halves): each
 * IV sets 16 bits at random, so every page of a generation is touched
 * after a few thousand messages, and 2^20 entries (4 MiB a generation)
 * were most of a busy hop's resident memory.  Past 2^18 IVs in 10
 * minutes (about 440 a second) a generation is full sooner and turns
 * early; an IV is still remembered for one generation's time at least. */
#define TUNNEL_REPLAY_IV_PERIOD_MS (10ULL * 60 * 1000)
#define TUNNEL_REPLAY_IV_ENTRIES (1u << 18)
#define TUNNEL_REPLAY_MAX_ENTRIES (1u << 24)

struct tunnel_replay;	/* opaque */

/* New filter for max_entries (1 .. TUNNEL_REPLAY_MAX_ENTRIES) keys per
 * generation, rotating every period_ms.  Never NULL.  Caller owns it. */
struct tunnel_replay *tunnel_replay_new(size_t max_entries, uint64_t period_ms);
void tunnel_replay_free(struct tunnel_replay *r);
/* True if key may have been added before (no insertion). */
bool tunnel_replay_check(struct tunnel_replay *r, const void *key, size_t len,
			 uint64_t now_mono_ms);
/* Add key; true if it may have been added before (then nothing changes). */
bool tunnel_replay_add(struct tunnel_replay *r, const void *key, size_t len,
		       uint64_t now_mono_ms);
/* Keys in the current generation, and the bytes both generations use. */
size_t tunnel_replay_count(const struct tunnel_replay *r);
size_t tunnel_replay_bytes(const struct tunnel_replay *r);
/* Of those, the bytes in memory now (a generation of whole pages gives
 * them back when it is cleared, and takes them as keys come). */
size_t tunnel_replay_resident(const struct tunnel_replay *r);

#endif /* TUNNELS_REPLAY_H */
