/*
 * libsecp256k1 wrapper (see secp.h).  Debian 12's 0.2.0 has the recovery
 * and ECDH modules used here (CHAIN.md §7).  Contexts are created with
 * SECP256K1_CONTEXT_NONE (0.2.0 no longer needs SIGN/VERIFY flags) and
 * randomised once for side-channel blinding.
 */
#include "config.h"
#include "chain/secp.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/keccak.h"
#include "crypto/rand.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <secp256k1_recovery.h>
#include <stdlib.h>
#include <string.h>

static secp256k1_context *g_ctx;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void ctx_init(void)
{
	uint8_t seed[32];

	g_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (!g_ctx)
		abort();
	rand_bytes(seed, sizeof(seed));
	if (!secp256k1_context_randomize(g_ctx, seed))
		abort();
	memwipe(seed, sizeof(seed));
}

static const secp256k1_context *ctx(void)
{
	pthread_once(&g_once, ctx_init);
	return g_ctx;
}

bool secp_sk_is_valid(const struct secp_sk *sk)
{
	return secp256k1_ec_seckey_verify(ctx(), sk->b) == 1;
}

void secp_sk_generate(struct secp_sk *sk)
{
	do {
		rand_bytes(sk->b, sizeof(sk->b));
	} while (!secp_sk_is_valid(sk));
}

static int pk_load(const struct secp_pk *pk, secp256k1_pubkey *out)
{
	if (!secp256k1_ec_pubkey_parse(ctx(), out, pk->b, SECP_PK_BYTES))
		return ERR_FORMAT;
	return 0;
}

static void pk_store(const secp256k1_pubkey *in, struct secp_pk *pk)
{
	size_t n = SECP_PK_BYTES;

	secp256k1_ec_pubkey_serialize(ctx(), pk->b, &n, in,
				      SECP256K1_EC_COMPRESSED);
}

int secp_sk_pubkey(const struct secp_sk *sk, struct secp_pk *pk)
{
	secp256k1_pubkey p;

	if (!secp256k1_ec_pubkey_create(ctx(), &p, sk->b))
		return ERR_CRYPTO;
	pk_store(&p, pk);
	return 0;
}

int secp_pk_parse(struct secp_pk *pk, const uint8_t *in, size_t len)
{
	secp256k1_pubkey p;

	if (len != SECP_PK_BYTES && len != SECP_PK_FULL_BYTES)
		return ERR_FORMAT;
	if (!secp256k1_ec_pubkey_parse(ctx(), &p, in, len))
		return ERR_FORMAT;
	pk_store(&p, pk);
	return 0;
}

int secp_pk_uncompressed(const struct secp_pk *pk,
			 uint8_t out[SECP_PK_FULL_BYTES])
{
	secp256k1_pubkey p;
	size_t n = SECP_PK_FULL_BYTES;
	int e;

	if ((e = pk_load(pk, &p)) != 0)
		return e;
	secp256k1_ec_pubkey_serialize(ctx(), out, &n, &p,
				      SECP256K1_EC_UNCOMPRESSED);
	return 0;
}

static void address_of(const secp256k1_pubkey *p, uint8_t addr[20])
{
	uint8_t full[SECP_PK_FULL_BYTES], h[32];
	size_t n = sizeof(full);

	secp256k1_ec_pubkey_serialize(ctx(), full, &n, p,
				      SECP256K1_EC_UNCOMPRESSED);
	keccak256(h, full + 1, 64);
	memcpy(addr, h + 12, 20);
}

int secp_pk_address(const struct secp_pk *pk, uint8_t addr[ETH_ADDR_BYTES])
{
	secp256k1_pubkey p;
	int e;

	if ((e = pk_load(pk, &p)) != 0)
		return e;
	address_of(&p, addr);
	return 0;
}

int secp_sk_address(const struct secp_sk *sk, uint8_t addr[ETH_ADDR_BYTES])
{
	secp256k1_pubkey p;

	if (!secp256k1_ec_pubkey_create(ctx(), &p, sk->b))
		return ERR_CRYPTO;
	address_of(&p, addr);
	return 0;
}

int secp_sign_recid(const struct secp_sk *sk, const uint8_t digest[32],
		    uint8_t sig64[64], int *recid)
{
	secp256k1_ecdsa_recoverable_signature s;

	/* NULL noncefp: the library's RFC 6979 default; it emits low-s. */
	if (!secp256k1_ecdsa_sign_recoverable(ctx(), &s, digest, sk->b, NULL,
					      NULL))
		return ERR_CRYPTO;
	secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx(), sig64,
								recid, &s);
	return 0;
}

int secp_sign(const struct secp_sk *sk, const uint8_t digest[32],
	      uint8_t sig[SECP_SIG_BYTES])
{
	int recid, e;

	if ((e = secp_sign_recid(sk, digest, sig, &recid)) != 0)
		return e;
	sig[64] = (uint8_t)(27 + recid);
	return 0;
}

/* secp256k1's n / 2: OpenZeppelin rejects s above it. */
static const uint8_t half_n[32] = {
	0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d,
	0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

static int recover(const uint8_t digest[32], const uint8_t sig[65],
		   secp256k1_pubkey *out)
{
	secp256k1_ecdsa_recoverable_signature s;
	int v = sig[64];

	if (v >= 27)
		v -= 27;
	if (v != 0 && v != 1)
		return ERR_BAD_SIG;
	if (memcmp(sig + 32, half_n, 32) > 0)
		return ERR_BAD_SIG;
	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx(), &s,
								 sig, v))
		return ERR_BAD_SIG;
	if (!secp256k1_ecdsa_recover(ctx(), out, &s, digest))
		return ERR_BAD_SIG;
	return 0;
}

int secp_recover(const uint8_t digest[32], const uint8_t sig[SECP_SIG_BYTES],
		 uint8_t addr[ETH_ADDR_BYTES])
{
	secp256k1_pubkey p;
	int e;

	if ((e = recover(digest, sig, &p)) != 0)
		return e;
	address_of(&p, addr);
	return 0;
}

int secp_recover_pk(const uint8_t digest[32],
		    const uint8_t sig[SECP_SIG_BYTES], struct secp_pk *pk)
{
	secp256k1_pubkey p;
	int e;

	if ((e = recover(digest, sig, &p)) != 0)
		return e;
	pk_store(&p, pk);
	return 0;
}

/* ECDH hash callback that returns the compressed point itself (33 bytes)
 * instead of the library's SHA-256 of it (CHAIN.md §7 pitfall). */
static int ecdh_point_fn(unsigned char *out, const unsigned char *x32,
			 const unsigned char *y32, void *data)
{
	(void)data;
	out[0] = (uint8_t)(0x02 | (y32[31] & 1));
	memcpy(out + 1, x32, 32);
	return 1;
}

int secp_ecdh_point(const struct secp_sk *sk, const struct secp_pk *pk,
		    uint8_t out[SECP_PK_BYTES])
{
	secp256k1_pubkey p;
	uint8_t tmp[SECP_PK_BYTES];
	int e;

	if ((e = pk_load(pk, &p)) != 0)
		return e;
	if (!secp256k1_ecdh(ctx(), tmp, &p, sk->b, ecdh_point_fn, NULL)) {
		memwipe(tmp, sizeof(tmp));
		return ERR_CRYPTO;
	}
	memcpy(out, tmp, sizeof(tmp));
	memwipe(tmp, sizeof(tmp));
	return 0;
}

int secp_pk_tweak_add(struct secp_pk *out, const struct secp_pk *pk,
		      const uint8_t t[32])
{
	secp256k1_pubkey p;
	int e;

	if ((e = pk_load(pk, &p)) != 0)
		return e;
	if (!secp256k1_ec_pubkey_tweak_add(ctx(), &p, t))
		return ERR_CRYPTO;
	pk_store(&p, out);
	return 0;
}

int secp_sk_tweak_add(struct secp_sk *out, const struct secp_sk *sk,
		      const uint8_t t[32])
{
	struct secp_sk r = *sk;

	if (!secp256k1_ec_seckey_tweak_add(ctx(), r.b, t)) {
		memwipe(&r, sizeof(r));
		return ERR_CRYPTO;
	}
	*out = r;
	memwipe(&r, sizeof(r));
	return 0;
}

const char *eth_addr_format(const uint8_t addr[ETH_ADDR_BYTES], char *out,
			    size_t outlen)
{
	static const char digits[] = "0123456789abcdef";
	char lower[40];
	uint8_t h[32];

	if (outlen < ETH_ADDR_STR_BYTES) {
		if (outlen)
			out[0] = '\0';
		return out;
	}
	for (size_t i = 0; i < 20; i++) {
		lower[2 * i] = digits[addr[i] >> 4];
		lower[2 * i + 1] = digits[addr[i] & 15];
	}
	/* EIP-55: upper-case a letter when its nibble of keccak256(lower
	 * hex) is 8 or more. */
	keccak256(h, lower, sizeof(lower));
	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < 40; i++) {
		char c = lower[i];
		unsigned nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 15;
		if (c >= 'a' && nib >= 8)
			c = (char)(c - 'a' + 'A');
		out[2 + i] = c;
	}
	out[42] = '\0';
	return out;
}

int eth_addr_parse(uint8_t addr[ETH_ADDR_BYTES], const char *s)
{
	uint8_t tmp[ETH_ADDR_BYTES];
	size_t n;

	if (strlen(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
	    hex_decode(tmp, sizeof(tmp), &n, s + 2, 40) != 0 || n != sizeof(tmp))
		return ERR_FORMAT;
	memcpy(addr, tmp, sizeof(tmp));
	return 0;
}
