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

/* ρ offsets and π destinations, walked along the lane cycle that starts at
 * (x, y) = (1, 0): lane index x + 5y. */
static const unsigned keccak_rho[24] = {
	1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14,
	27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44,
};
static const unsigned keccak_pi[24] = {
	10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4,
	15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1,
};

static uint64_t rotl64(uint64_t v, unsigned n)
{
	return v << n | v >> (64 - n);
}

static void keccak_f1600(uint64_t st[25])
{
	uint64_t c[5], d, t;

	for (unsigned round = 0; round < KECCAK_ROUNDS; round++) {
		/* θ */
		for (unsigned x = 0; x < 5; x++)
			c[x] = st[x] ^ st[x + 5] ^ st[x + 10] ^ st[x + 15] ^
			       st[x + 20];
		for (unsigned x = 0; x < 5; x++) {
			d = c[(x + 4) % 5] ^ rotl64(c[(x + 1) % 5], 1);
			for (unsigned y = 0; y < 25; y += 5)
				st[y + x] ^= d;
		}
		/* ρ and π together */
		t = st[1];
		for (unsigned i = 0; i < 24; i++) {
			unsigned j = keccak_pi[i];
			uint64_t next = st[j];

			st[j] = rotl64(t, keccak_rho[i]);
			t = next;
		}
		/* χ */
		for (unsigned y = 0; y < 25; y += 5) {
			for (unsigned x = 0; x < 5; x++)
				c[x] = st[y + x];
			for (unsigned x = 0; x < 5; x++)
				st[y + x] = c[x] ^ (~c[(x + 1) % 5] &
						    c[(x + 2) % 5]);
		}
		/* ι */
		st[0] ^= keccak_rc[round];
	}
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
