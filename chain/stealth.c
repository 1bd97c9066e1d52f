/*
 * ERC-5564 scheme 1 (secp256k1 with view tags), CHAIN.md §4:
 *   "Sender: random e; E = e·G (33 bytes compressed); Sp = compress(e·P_view);
 *    h = keccak256(Sp) over all 33 bytes; view tag = h[0]; P = P_spend + h·G;
 *    address = last 20 bytes of keccak256(uncompressed(P)[1..65]).
 *    Recipient: Sp = compress(p_view·E), same h, spend key p_spend + h mod n."
 */
#include "config.h"
#include "chain/stealth.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/keccak.h"

#include <string.h>

void stealth_meta_encode(const struct stealth_meta *m,
			 uint8_t out[STEALTH_META_BYTES])
{
	memcpy(out, m->spend.b, SECP_PK_BYTES);
	memcpy(out + SECP_PK_BYTES, m->view.b, SECP_PK_BYTES);
}

int stealth_meta_decode(struct stealth_meta *m, const uint8_t *in, size_t len)
{
	struct stealth_meta t;

	if (len != STEALTH_META_BYTES ||
	    secp_pk_parse(&t.spend, in, SECP_PK_BYTES) != 0 ||
	    secp_pk_parse(&t.view, in + SECP_PK_BYTES, SECP_PK_BYTES) != 0)
		return ERR_FORMAT;
	*m = t;
	return 0;
}

int stealth_meta_from_keys(struct stealth_meta *m, const struct secp_sk *spend,
			   const struct secp_sk *view)
{
	struct stealth_meta t;
	int e;

	if ((e = secp_sk_pubkey(spend, &t.spend)) != 0 ||
	    (e = secp_sk_pubkey(view, &t.view)) != 0)
		return e;
	*m = t;
	return 0;
}

/* h = keccak256(Sp) with Sp = compress(k · P). */
static int shared_hash(uint8_t h[32], const struct secp_sk *k,
		       const struct secp_pk *p)
{
	uint8_t sp[SECP_PK_BYTES];
	int e;

	if ((e = secp_ecdh_point(k, p, sp)) != 0)
		return e;
	keccak256(h, sp, sizeof(sp));
	memwipe(sp, sizeof(sp));
	return 0;
}

int stealth_generate(struct stealth_out *out, const struct stealth_meta *m,
		     const struct secp_sk *e)
{
	struct secp_sk eph;
	struct secp_pk p;
	struct stealth_out o;
	uint8_t h[32];
	int r;

	if (e)
		eph = *e;
	else
		secp_sk_generate(&eph);
	if ((r = secp_sk_pubkey(&eph, &o.eph)) != 0 ||
	    (r = shared_hash(h, &eph, &m->view)) != 0 ||
	    (r = secp_pk_tweak_add(&p, &m->spend, h)) != 0 ||
	    (r = secp_pk_address(&p, o.addr)) != 0)
		goto out;
	o.view_tag = h[0];
	*out = o;
out:
	memwipe(&eph, sizeof(eph));
	memwipe(h, sizeof(h));
	return r;
}

int stealth_scan(const struct secp_sk *view, const struct secp_pk *spend_pk,
		 const struct secp_pk *eph, uint8_t view_tag,
		 const uint8_t *want, uint8_t addr[ETH_ADDR_BYTES])
{
	struct secp_pk p;
	uint8_t h[32], a[ETH_ADDR_BYTES];
	int r;

	if ((r = shared_hash(h, view, eph)) != 0)
		goto out;
	if (h[0] != view_tag) {		/* 255 of 256 strangers stop here */
		r = 0;
		goto out;
	}
	if ((r = secp_pk_tweak_add(&p, spend_pk, h)) != 0 ||
	    (r = secp_pk_address(&p, a)) != 0)
		goto out;
	if (want && memcmp(want, a, sizeof(a)) != 0) {
		r = 0;
		goto out;
	}
	if (addr)
		memcpy(addr, a, sizeof(a));
	r = 1;
out:
	memwipe(h, sizeof(h));
	return r;
}

int stealth_derive(const struct secp_sk *view, const struct secp_pk *spend_pk,
		   const struct secp_pk *eph, uint8_t addr[ETH_ADDR_BYTES])
{
	struct secp_pk p;
	uint8_t h[32];
	int r;

	if ((r = shared_hash(h, view, eph)) == 0 &&
	    (r = secp_pk_tweak_add(&p, spend_pk, h)) == 0)
		r = secp_pk_address(&p, addr);
	memwipe(h, sizeof(h));
	return r;
}

int stealth_spend_key(struct secp_sk *out, const struct secp_sk *spend,
		      const struct secp_sk *view, const struct secp_pk *eph)
{
	uint8_t h[32];
	int r;

	if ((r = shared_hash(h, view, eph)) == 0)
		r = secp_sk_tweak_add(out, spend, h);
	memwipe(h, sizeof(h));
	return r;
}
