/*
 * Elligator2 over Curve25519 (crypto/elligator2.h): ecies spec
 * "Elligator2", Bernstein et al. "Elligator: elliptic-curve points
 * indistinguishable from uniform random strings" §5, with I2P's choices
 * as PROTOCOLS.md 2.11 states them (verified against i2pd's vectors in
 * tests/unit/crypto/test_elligator2.c).
 *
 * The field GF(p), p = 2^255 - 19, is OpenSSL BIGNUM modular arithmetic:
 * a dozen operations per call, far off any hot path (one NS or NSR).
 */
#include "config.h"
#include "crypto/elligator2.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"

#include <openssl/bn.h>
#include <stdlib.h>
#include <string.h>

#define ELL_A 486662

/* The field and its constants, in one BN_CTX frame. */
struct field {
	BN_CTX *ctx;
	BIGNUM *p;		/* 2^255 - 19 */
	BIGNUM *a;		/* 486662 */
	BIGNUM *half;		/* (p - 1) / 2: the Legendre exponent and bound */
	BIGNUM *sqrt_exp;	/* (p + 3) / 8 */
	BIGNUM *sqrt_m1;	/* sqrt(-1) = 2^((p - 1) / 4) */
};

static BIGNUM *fget(struct field *f)
{
	BIGNUM *b = BN_CTX_get(f->ctx);

	if (!b)
		abort();	/* OOM, as xmalloc */
	return b;
}

static void fcheck(int ok)
{
	if (!ok)
		abort();	/* BIGNUM fails only on OOM here */
}

static void field_open(struct field *f)
{
	BIGNUM *e;

	f->ctx = BN_CTX_secure_new();
	if (!f->ctx)
		abort();
	BN_CTX_start(f->ctx);
	f->p = fget(f);
	f->a = fget(f);
	f->half = fget(f);
	f->sqrt_exp = fget(f);
	f->sqrt_m1 = fget(f);
	e = fget(f);
	BN_zero(f->p);
	fcheck(BN_set_bit(f->p, 255));
	fcheck(BN_sub_word(f->p, 19));
	fcheck(BN_set_word(f->a, ELL_A));
	fcheck(BN_copy(f->half, f->p) != NULL);
	fcheck(BN_sub_word(f->half, 1));
	fcheck(BN_rshift1(f->half, f->half));
	fcheck(BN_copy(f->sqrt_exp, f->p) != NULL);
	fcheck(BN_add_word(f->sqrt_exp, 3));
	fcheck(BN_rshift(f->sqrt_exp, f->sqrt_exp, 3));
	fcheck(BN_rshift1(e, f->half));			/* (p - 1) / 4 */
	fcheck(BN_set_word(f->sqrt_m1, 2));
	fcheck(BN_mod_exp(f->sqrt_m1, f->sqrt_m1, e, f->p, f->ctx));
}

static void field_close(struct field *f)
{
	BN_CTX_end(f->ctx);
	BN_CTX_free(f->ctx);	/* secure heap: cleared on free */
}

/* Legendre symbol test: x^((p-1)/2) is 0 or 1 for a square (0 counts). */
static bool fis_square(struct field *f, const BIGNUM *x)
{
	BIGNUM *t = fget(f);

	fcheck(BN_mod_exp(t, x, f->half, f->p, f->ctx));
	return BN_is_zero(t) || BN_is_one(t);
}

/* out = sqrt(x) in [0, (p-1)/2], for p = 5 mod 8: c = x^((p+3)/8), times
 * sqrt(-1) when c^2 = -x.  False when x is not a square. */
static bool fsqrt(struct field *f, BIGNUM *out, const BIGNUM *x)
{
	BIGNUM *c = fget(f), *c2 = fget(f), *nx = fget(f);

	fcheck(BN_mod_exp(c, x, f->sqrt_exp, f->p, f->ctx));
	fcheck(BN_mod_sqr(c2, c, f->p, f->ctx));
	fcheck(BN_mod_sub(nx, f->p, x, f->p, f->ctx));	/* -x */
	if (BN_cmp(c2, x) != 0) {
		if (BN_cmp(c2, nx) != 0)
			return false;
		fcheck(BN_mod_mul(c, c, f->sqrt_m1, f->p, f->ctx));
	}
	if (BN_cmp(c, f->half) > 0)
		fcheck(BN_sub(c, f->p, c));
	fcheck(BN_copy(out, c) != NULL);
	return true;
}

static void fload(BIGNUM *out, const uint8_t b[32])
{
	fcheck(BN_lebin2bn(b, 32, out) != NULL);
}

static void fstore(uint8_t b[32], const BIGNUM *x)
{
	fcheck(BN_bn2lebinpad(x, b, 32) == 32);
}

int elligator2_decode(const uint8_t repr[ELLIGATOR2_BYTES],
		      struct x25519_pk *pk)
{
	struct field f;
	uint8_t buf[32];
	BIGNUM *r, *t, *v, *e;
	int ret = 0;

	memcpy(buf, repr, 32);
	buf[31] &= 0x3f;		/* the two padding bits */
	field_open(&f);
	r = fget(&f);
	t = fget(&f);
	v = fget(&f);
	e = fget(&f);
	fload(r, buf);
	if (BN_cmp(r, f.half) > 0) {
		ret = ERR_RANGE;
		goto out;
	}
	/* v = -A / (1 + 2r^2); 1 + 2r^2 != 0 since -1/2 is not a square. */
	fcheck(BN_mod_sqr(t, r, f.p, f.ctx));
	fcheck(BN_mod_lshift1_quick(t, t, f.p));
	fcheck(BN_mod_add(t, t, BN_value_one(), f.p, f.ctx));
	fcheck(BN_mod_inverse(t, t, f.p, f.ctx) != NULL);
	fcheck(BN_mod_mul(v, f.a, t, f.p, f.ctx));
	fcheck(BN_mod_sub(v, f.p, v, f.p, f.ctx));
	/* e = v^3 + A v^2 + v = v (v (v + A) + 1) */
	fcheck(BN_mod_add(e, v, f.a, f.p, f.ctx));
	fcheck(BN_mod_mul(e, e, v, f.p, f.ctx));
	fcheck(BN_mod_add(e, e, BN_value_one(), f.p, f.ctx));
	fcheck(BN_mod_mul(e, e, v, f.p, f.ctx));
	if (!fis_square(&f, e)) {
		/* u = -v - A */
		fcheck(BN_mod_add(v, v, f.a, f.p, f.ctx));
		fcheck(BN_mod_sub(v, f.p, v, f.p, f.ctx));
	}
	fstore(pk->b, v);
out:
	field_close(&f);
	memwipe(buf, sizeof(buf));
	return ret;
}

/* repr (if not NULL) for u; ERR_UNSUPPORTED when there is none. */
static int encode(const struct x25519_pk *pk, bool high_y, uint8_t pad,
		  uint8_t repr[ELLIGATOR2_BYTES])
{
	struct field f;
	BIGNUM *u, *upa, *num, *den, *r;
	int ret = 0;

	field_open(&f);
	u = fget(&f);
	upa = fget(&f);
	num = fget(&f);
	den = fget(&f);
	r = fget(&f);
	fload(u, pk->b);
	fcheck(BN_nnmod(u, u, f.p, f.ctx));		/* a 256-bit input mod p */
	fcheck(BN_mod_add(upa, u, f.a, f.p, f.ctx));	/* u + A */
	/* Encodable iff -2u(u + A) is a square; u = 0 and u = -A have no
	 * usable root (a division by zero below) and never come from a real
	 * key, so they are refused. */
	if (BN_is_zero(u) || BN_is_zero(upa)) {
		ret = ERR_UNSUPPORTED;
		goto out;
	}
	fcheck(BN_mod_mul(num, u, upa, f.p, f.ctx));
	fcheck(BN_mod_lshift1_quick(num, num, f.p));
	fcheck(BN_mod_sub(num, f.p, num, f.p, f.ctx));
	if (!fis_square(&f, num)) {
		ret = ERR_UNSUPPORTED;
		goto out;
	}
	if (!repr)
		goto out;
	/* r = sqrt(-u / (2(u + A))), or sqrt(-(u + A) / (2u)) with high_y */
	fcheck(BN_copy(num, high_y ? upa : u) != NULL);
	fcheck(BN_mod_lshift1_quick(den, high_y ? u : upa, f.p));
	fcheck(BN_mod_inverse(den, den, f.p, f.ctx) != NULL);
	fcheck(BN_mod_mul(num, num, den, f.p, f.ctx));
	fcheck(BN_mod_sub(num, f.p, num, f.p, f.ctx));
	if (!fsqrt(&f, r, num)) {
		ret = ERR_INTERNAL;	/* cannot happen after the test above */
		goto out;
	}
	fstore(repr, r);
	repr[31] |= pad & 0xc0;
out:
	field_close(&f);
	return ret;
}

int elligator2_encode(const struct x25519_pk *pk, bool high_y, uint8_t pad,
		      uint8_t repr[ELLIGATOR2_BYTES])
{
	uint8_t tmp[ELLIGATOR2_BYTES];
	int r = encode(pk, high_y, pad, tmp);

	if (r == 0)
		memcpy(repr, tmp, sizeof(tmp));
	return r;
}

bool elligator2_is_encodable(const struct x25519_pk *pk)
{
	return encode(pk, false, 0, NULL) == 0;
}

void elligator2_keygen(struct x25519_sk *sk, struct x25519_pk *pk,
		       uint8_t repr[ELLIGATOR2_BYTES])
{
	uint8_t bits;

	for (;;) {
		x25519_keygen(sk, pk);
		rand_bytes(&bits, 1);
		/* bit 0: which root; bits 7-6: padding */
		if (elligator2_encode(pk, bits & 1, bits, repr) == 0)
			return;
	}
}
