/*
 * Ratchet tag sets (router/ratchet_tagset.h): the KDF chains of the ecies
 * spec's sections 4a-4c, on crypto/hash.h's HKDF (salt = the chain key).
 */
#include "config.h"
#include "router/ratchet_tagset.h"
#include "crypto/base/alloc.h"
#include "crypto/hash.h"

#include <string.h>

#define LABEL(s) s, sizeof(s) - 1

void ratchet_tagset_init(struct ratchet_tagset *ts, const uint8_t root[32],
			 const uint8_t k[32])
{
	uint8_t kd[64];

	/* "keydata = HKDF(rootKey, k, "KDFDHRatchetStep", 64)" */
	hkdf_sha256(kd, 64, root, 32, k, 32, LABEL("KDFDHRatchetStep"));
	memcpy(ts->next_root, kd, 32);
	/* "keydata = HKDF(ck, ZEROLEN, "TagAndKeyGenKeys", 64)" */
	hkdf_sha256(kd, 64, kd + 32, 32, NULL, 0, LABEL("TagAndKeyGenKeys"));
	memcpy(ts->key_ck, kd + 32, 32);
	/* "keydata = HKDF(sessTag_ck, ZEROLEN, "STInitialization", 64)" */
	hkdf_sha256(kd, 64, kd, 32, NULL, 0, LABEL("STInitialization"));
	memcpy(ts->tag_ck, kd, 32);
	memcpy(ts->tag_const, kd + 32, 32);
	ts->n = 0;
	memwipe(kd, sizeof(kd));
}

void ratchet_tagset_init_nsr(struct ratchet_tagset *ts, const uint8_t ck[32])
{
	uint8_t k[32];

	/* "tagsetKey = HKDF(chainKey, ZEROLEN, "SessionReplyTags", 32)" */
	hkdf_sha256(k, 32, ck, 32, NULL, 0, LABEL("SessionReplyTags"));
	ratchet_tagset_init(ts, ck, k);
	memwipe(k, sizeof(k));
}

void ratchet_tagset_dh_step(struct ratchet_tagset *ts,
			    const struct ratchet_tagset *prev,
			    const uint8_t dh[32])
{
	uint8_t k[32], root[32];

	/* "tagsetKey = HKDF(sharedSecret, ZEROLEN, "XDHRatchetTagSet", 32)" */
	hkdf_sha256(k, 32, dh, 32, NULL, 0, LABEL("XDHRatchetTagSet"));
	/* "rootKey = nextRootKey // from previous tagset in this direction" */
	memcpy(root, prev->next_root, 32);
	ratchet_tagset_init(ts, root, k);
	memwipe(k, sizeof(k));
	memwipe(root, sizeof(root));
}

uint32_t ratchet_tagset_next(struct ratchet_tagset *ts,
			     uint8_t tag[RATCHET_TAG_BYTES],
			     uint8_t key[RATCHET_KEY_BYTES])
{
	uint8_t kt[64], kk[64];
	/* "keydata_n = HKDF(sessTag_chainKey_(n-1), SESSTAG_CONSTANT,
	 * "SessionTagKeyGen", 64)"; "tag_n = keydata_n[32:39]" and
	 * "keydata_n = HKDF(symmKey_chainKey_(n-1), ZEROLEN,
	 * "SymmetricRatchet", 64)"; "k_n = keydata_n[32:63]": the two
	 * chains are independent, so both run at once */
	const struct hkdf_job j[2] = {
		{ kt, 64, ts->tag_ck, 32, ts->tag_const, 32,
		  LABEL("SessionTagKeyGen") },
		{ kk, 64, ts->key_ck, 32, NULL, 0, LABEL("SymmetricRatchet") },
	};

	hkdf_sha256_many(j, 2);
	memcpy(ts->tag_ck, kt, 32);
	memcpy(tag, kt + 32, RATCHET_TAG_BYTES);
	memcpy(ts->key_ck, kk, 32);
	memcpy(key, kk + 32, RATCHET_KEY_BYTES);
	memwipe(kt, sizeof(kt));
	memwipe(kk, sizeof(kk));
	return ts->n++;
}

void ratchet_tagset_wipe(struct ratchet_tagset *ts)
{
	memwipe(ts, sizeof(*ts));
}
