/*
 * The ECIES ratchet KDFs (ecies spec "DH INITIALIZATION KDF", "DH RATCHET
 * KDF", "4b) Session Tag Ratchet", "4c) Symmetric Key Ratchet"): one tag
 * set generates the (tag, key) pair for message number N = 0, 1, ...
 *
 *   DH_INITIALIZE(rootKey, k):
 *     nextRoot, ck = HKDF(rootKey, k, "KDFDHRatchetStep", 64)
 *     tagCK, keyCK = HKDF(ck, ZEROLEN, "TagAndKeyGenKeys", 64)
 *     tagCK, CONSTANT = HKDF(tagCK, ZEROLEN, "STInitialization", 64)
 *   per message:
 *     tagCK, t = HKDF(tagCK, CONSTANT, "SessionTagKeyGen", 64); tag = t[0:8]
 *     keyCK, key = HKDF(keyCK, ZEROLEN, "SymmetricRatchet", 64)
 *
 * A struct ratchet_tagset holds chain keys: wipe it (ratchet_tagset_wipe).
 */
#ifndef ROUTER_RATCHET_TAGSET_H
#define ROUTER_RATCHET_TAGSET_H

#include <stdint.h>

#define RATCHET_TAG_BYTES 8
#define RATCHET_KEY_BYTES 32
/* "N <= 65535 per tag set" */
#define RATCHET_TAGSET_MAX_N 65536u

struct ratchet_tagset {
	uint8_t next_root[32];	/* input to the next DH ratchet */
	uint8_t tag_ck[32];
	uint8_t tag_const[32];
	uint8_t key_ck[32];
	uint32_t n;		/* the number the next call produces */
};

/* DH_INITIALIZE(root, k) into ts, with n = 0. */
void ratchet_tagset_init(struct ratchet_tagset *ts, const uint8_t root[32],
			 const uint8_t k[32]);
/* The NSR tag set from the NS chaining key ck: DH_INITIALIZE(ck,
 * HKDF(ck, ZEROLEN, "SessionReplyTags", 32)). */
void ratchet_tagset_init_nsr(struct ratchet_tagset *ts, const uint8_t ck[32]);
/* After a NextKey exchange: DH_INITIALIZE(prev->next_root,
 * HKDF(dh, ZEROLEN, "XDHRatchetTagSet", 32)) into ts (ts may be prev). */
void ratchet_tagset_dh_step(struct ratchet_tagset *ts,
			    const struct ratchet_tagset *prev,
			    const uint8_t dh[32]);
/* The tag and key of message n = ts->n (both chains advance), then
 * n += 1.  Returns that n. */
uint32_t ratchet_tagset_next(struct ratchet_tagset *ts,
			     uint8_t tag[RATCHET_TAG_BYTES],
			     uint8_t key[RATCHET_KEY_BYTES]);
void ratchet_tagset_wipe(struct ratchet_tagset *ts);

#endif /* ROUTER_RATCHET_TAGSET_H */
