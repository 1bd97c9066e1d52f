/*
 * Keccak-256 (crypto/keccak.h): Keccak[r = 1088, c = 512] with the original
 * Keccak multi-rate padding (0x01 ... 0x80), as submitted to the SHA-3
 * competition (round 3) and used by Ethereum.  FIPS 202 SHA3-256 differs
 * only in the domain byte (0x06), and OpenSSL 3.0 offers only that, so the
 * permutation is written here from "The Keccak reference", version 3.0,
 * §1.2 (Keccak-f[1600]: θ, ρ, π, χ, ι over 24 rounds) and §5.1 (padding).
 * Lanes are little-endian 64-bit words.
 */
#include "config.h"
#include "crypto/keccak.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"

#include <string.h>

#define KECCAK256_RATE_BYTES 136
#define KECCAK_ROUNDS 24

static const uint64_t keccak_rc[KECCAK_ROUNDS] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

static inline uint64_t rotl64(uint64_t v, unsigned n)
{
	return v << n | v >> (64 - n);
}

/*
 * Keccak-f[1600] (the Keccak reference, "Keccak-f"), unrolled: the lane
 * (x, y) lives at a[x + 5y]; ρ offsets are the reference's table, π moves
 * (x, y) to (y, 2x + 3y).  Unrolled because the chain client hashes three
 * times per voucher and the generic loop spent most of its time indexing.
 */
static void keccak_f1600(uint64_t st[25])
{
	uint64_t a[25], b[25], c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;

	memcpy(a, st, sizeof(a));
	for (unsigned round = 0; round < KECCAK_ROUNDS; round++) {
		/* θ */
		c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20];
		c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21];
		c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22];
		c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23];
		c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24];
		d0 = c4 ^ rotl64(c1, 1);
		d1 = c0 ^ rotl64(c2, 1);
		d2 = c1 ^ rotl64(c3, 1);
		d3 = c2 ^ rotl64(c4, 1);
		d4 = c3 ^ rotl64(c0, 1);
		/* θ applied, then ρ and π: lane (x, y) goes to (y, 2x + 3y) */
		b[0] = a[0] ^ d0;
		b[10] = rotl64(a[1] ^ d1, 1);
		b[20] = rotl64(a[2] ^ d2, 62);
		b[5] = rotl64(a[3] ^ d3, 28);
		b[15] = rotl64(a[4] ^ d4, 27);
		b[16] = rotl64(a[5] ^ d0, 36);
		b[1] = rotl64(a[6] ^ d1, 44);
		b[11] = rotl64(a[7] ^ d2, 6);
		b[21] = rotl64(a[8] ^ d3, 55);
		b[6] = rotl64(a[9] ^ d4, 20);
		b[7] = rotl64(a[10] ^ d0, 3);
		b[17] = rotl64(a[11] ^ d1, 10);
		b[2] = rotl64(a[12] ^ d2, 43);
		b[12] = rotl64(a[13] ^ d3, 25);
		b[22] = rotl64(a[14] ^ d4, 39);
		b[23] = rotl64(a[15] ^ d0, 41);
		b[8] = rotl64(a[16] ^ d1, 45);
		b[18] = rotl64(a[17] ^ d2, 15);
		b[3] = rotl64(a[18] ^ d3, 21);
		b[13] = rotl64(a[19] ^ d4, 8);
		b[14] = rotl64(a[20] ^ d0, 18);
		b[24] = rotl64(a[21] ^ d1, 2);
		b[9] = rotl64(a[22] ^ d2, 61);
		b[19] = rotl64(a[23] ^ d3, 56);
		b[4] = rotl64(a[24] ^ d4, 14);
		/* χ */
		a[0] = b[0] ^ (~b[1] & b[2]);
		a[1] = b[1] ^ (~b[2] & b[3]);
		a[2] = b[2] ^ (~b[3] & b[4]);
		a[3] = b[3] ^ (~b[4] & b[0]);
		a[4] = b[4] ^ (~b[0] & b[1]);
		a[5] = b[5] ^ (~b[6] & b[7]);
		a[6] = b[6] ^ (~b[7] & b[8]);
		a[7] = b[7] ^ (~b[8] & b[9]);
		a[8] = b[8] ^ (~b[9] & b[5]);
		a[9] = b[9] ^ (~b[5] & b[6]);
		a[10] = b[10] ^ (~b[11] & b[12]);
		a[11] = b[11] ^ (~b[12] & b[13]);
		a[12] = b[12] ^ (~b[13] & b[14]);
		a[13] = b[13] ^ (~b[14] & b[10]);
		a[14] = b[14] ^ (~b[10] & b[11]);
		a[15] = b[15] ^ (~b[16] & b[17]);
		a[16] = b[16] ^ (~b[17] & b[18]);
		a[17] = b[17] ^ (~b[18] & b[19]);
		a[18] = b[18] ^ (~b[19] & b[15]);
		a[19] = b[19] ^ (~b[15] & b[16]);
		a[20] = b[20] ^ (~b[21] & b[22]);
		a[21] = b[21] ^ (~b[22] & b[23]);
		a[22] = b[22] ^ (~b[23] & b[24]);
		a[23] = b[23] ^ (~b[24] & b[20]);
		a[24] = b[24] ^ (~b[20] & b[21]);
		/* ι */
		a[0] ^= keccak_rc[round];
	}
	memcpy(st, a, sizeof(a));
	memwipe(a, sizeof(a));
	memwipe(b, sizeof(b));
}

/* XOR one byte into the state at byte offset pos (little-endian lanes). */
static void keccak_xor_byte(uint64_t st[25], size_t pos, uint8_t b)
{
	st[pos / 8] ^= (uint64_t)b << (8 * (pos % 8));
}

void keccak256_init(struct keccak256_ctx *c)
{
	memset(c, 0, sizeof(*c));
}

void keccak256_update(struct keccak256_ctx *c, const void *in, size_t len)
{
	const uint8_t *p = in;

	while (len) {
		/* Whole aligned lanes at a time when possible. */
		if (c->pos % 8 == 0 && len >= 8) {
			c->st[c->pos / 8] ^= le64_get(p);
			c->pos += 8;
			p += 8;
			len -= 8;
		} else {
			keccak_xor_byte(c->st, c->pos++, *p++);
			len--;
		}
		if (c->pos == KECCAK256_RATE_BYTES) {
			keccak_f1600(c->st);
			c->pos = 0;
		}
	}
}

void keccak256_final(struct keccak256_ctx *c, uint8_t out[KECCAK256_BYTES])
{
	/* pad10*1 with the Keccak domain byte: first pad bit is 0x01 at pos,
	 * last is 0x80 at the end of the block (the same byte when pos is
	 * the block's last byte). */
	keccak_xor_byte(c->st, c->pos, 0x01);
	keccak_xor_byte(c->st, KECCAK256_RATE_BYTES - 1, 0x80);
	keccak_f1600(c->st);
	for (size_t i = 0; i < KECCAK256_BYTES / 8; i++)
		le64_put(out + 8 * i, c->st[i]);
	memwipe(c, sizeof(*c));
}

void keccak256(uint8_t out[KECCAK256_BYTES], const void *in, size_t len)
{
	struct keccak256_ctx c;

	keccak256_init(&c);
	keccak256_update(&c, in, len);
	keccak256_final(&c, out);
}
