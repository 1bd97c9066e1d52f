/*
 * tools/bench/chain: EIP-712 vouchers signed and verified per second and
 * tickets signed per second through chain/, beside libsecp256k1's raw
 * recoverable sign and recover rates measured in the same run (CHAIN.md
 * §5: payers sign a voucher per chunk and a ticket per hop; payees
 * verify every voucher).
 *
 *   chain [--seconds S]      (S per measured loop, default 3)
 *
 * Each figure and its ceiling run in 200 alternating slices, so a busy
 * neighbour on the machine slows both alike and the ratio stays fair.  Prints human
 * lines, then one JSON line per figure that must reach 80 % of its raw
 * ceiling: signing against raw signing, verifying against raw recovery.
 */
#include "config.h"
#include "chain/eip712.h"
#include "chain/secp.h"
#include "crypto/base/alloc.h"
#include "crypto/init.h"
#include "crypto/keccak.h"
#include "crypto/rand.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_SLICES 200
#define BENCH_TARGET 0.8

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct bench {
	secp256k1_context *ctx;
	struct secp_sk sk;
	uint8_t addr[20];
	uint8_t sep[32];
	uint8_t digest[32];
	uint8_t sig[65];
	struct eip712_voucher v;
	struct eip712_ticket t;
	unsigned long sink;
};

/* libsecp256k1 alone: sign a fresh digest each time (RFC 6979). */
static void raw_sign(struct bench *b)
{
	secp256k1_ecdsa_recoverable_signature s;

	b->digest[0]++;
	if (!secp256k1_ecdsa_sign_recoverable(b->ctx, &s, b->digest, b->sk.b,
					      NULL, NULL))
		abort();
	b->sink += s.data[0];
}

static void raw_recover(struct bench *b)
{
	secp256k1_ecdsa_recoverable_signature s;
	secp256k1_pubkey pk;

	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(
		    b->ctx, &s, b->sig, b->sig[64] - 27) ||
	    !secp256k1_ecdsa_recover(b->ctx, &pk, &s, b->digest))
		abort();
	b->sink += pk.data[0];
}

/* A payer signs the next cumulative voucher of a lane. */
static void voucher_sign(struct bench *b)
{
	uint8_t h[32], d[32], sig[65];

	b->v.cumulative.w[0]++;
	eip712_hash_voucher(&b->v, h);
	eip712_digest(b->sep, h, d);
	if (secp_sign(&b->sk, d, sig) != 0)
		abort();
	b->sink += sig[0];
}

/* A payee checks a voucher: rebuild the digest, recover, compare. */
static void voucher_verify(struct bench *b)
{
	uint8_t h[32], d[32], who[20];

	eip712_hash_voucher(&b->v, h);
	eip712_digest(b->sep, h, d);
	if (secp_recover(d, b->sig, who) != 0 || memcmp(who, b->addr, 20) != 0)
		abort();
	b->sink += who[0];
}

static void ticket_sign(struct bench *b)
{
	uint8_t h[32], d[32], sig[65];

	b->t.sender_nonce.w[0]++;
	eip712_hash_ticket(&b->t, h);
	eip712_digest(b->sep, h, d);
	if (secp_sign(&b->sk, d, sig) != 0)
		abort();
	b->sink += sig[0];
}

/* Run fn for about secs seconds; add ops and time to *n and *t. */
static void slice(struct bench *b, void (*fn)(struct bench *), double secs,
		  double *n, double *t)
{
	double t0 = now_s(), dt;
	unsigned long k = 0;

	do {
		for (int i = 0; i < 16; i++)
			fn(b);
		k += 16;
		dt = now_s() - t0;
	} while (dt < secs);
	*n += (double)k;
	*t += dt;
}

/*
 * Rates of a loop and its ceiling measured in alternating short slices,
 * so both see the same load from whatever else runs on the machine.
 */
static void paired(struct bench *b, void (*fn)(struct bench *),
		   void (*ceil_fn)(struct bench *), double secs, double *rate,
		   double *ceil)
{
	double n1 = 0, t1 = 0, n2 = 0, t2 = 0;

	for (int i = 0; i < BENCH_SLICES; i++) {
		slice(b, ceil_fn, secs / BENCH_SLICES, &n2, &t2);
		slice(b, fn, secs / BENCH_SLICES, &n1, &t1);
	}
	*rate = n1 / t1;
	*ceil = n2 / t2;
}

static void json_line(const char *metric, double v, double ceil)
{
	printf("{\"bench\":\"chain\",\"metric\":\"%s\",\"value\":%.1f,"
	       "\"ceiling\":%.1f,\"ratio\":%.4f,\"target\":%.1f,"
	       "\"higher_is_better\":true}\n", metric, v, ceil, v / ceil,
	       BENCH_TARGET);
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	struct eip712_domain dom = { EIP712_NAME_HUB, 42161, { 0 } };
	double secs = 3, f[6];
	uint8_t h[32];
	unsigned char seed[32];

	if (argc == 3 && strcmp(argv[1], "--seconds") == 0)
		secs = atof(argv[2]);
	else if (argc != 1) {
		fprintf(stderr, "usage: chain [--seconds S]\n");
		return 2;
	}
	if (secs <= 0)
		secs = 3;
	crypto_init();
	b.ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	rand_bytes(seed, sizeof(seed));
	if (!b.ctx || !secp256k1_context_randomize(b.ctx, seed))
		return 1;
	secp_sk_generate(&b.sk);
	(void)secp_sk_address(&b.sk, b.addr);
	memset(dom.verifying, 0x5f, 20);
	eip712_domain_separator(&dom, b.sep);
	memset(b.v.recipient, 0xab, 20);
	memset(b.v.lane, 0x1a, 32);
	b.v.expiry = 1800000000;
	memset(b.t.recipient, 0xcd, 20);
	b.t.face_value = u256_from_u64(1000000);
	b.t.win_prob.w[3] = 1ull << 56;
	memset(b.t.recipient_rand_hash, 0x77, 32);
	b.t.expiry = 1800000000;
	/* one real voucher signature for the verify loops */
	eip712_hash_voucher(&b.v, h);
	eip712_digest(b.sep, h, b.digest);
	(void)secp_sign(&b.sk, b.digest, b.sig);

	paired(&b, voucher_sign, raw_sign, secs, &f[0], &f[1]);
	paired(&b, ticket_sign, raw_sign, secs, &f[2], &f[3]);
	/* verify the current voucher */
	eip712_hash_voucher(&b.v, h);
	eip712_digest(b.sep, h, b.digest);
	(void)secp_sign(&b.sk, b.digest, b.sig);
	paired(&b, voucher_verify, raw_recover, secs, &f[4], &f[5]);
	printf("vouchers signed:   %8.0f /s  raw sign beside it %8.0f /s  (%.1f %%)\n",
	       f[0], f[1], 100 * f[0] / f[1]);
	printf("tickets signed:    %8.0f /s  raw sign beside it %8.0f /s  (%.1f %%)\n",
	       f[2], f[3], 100 * f[2] / f[3]);
	printf("vouchers verified: %8.0f /s  raw recover beside it %8.0f /s  (%.1f %%)\n",
	       f[4], f[5], 100 * f[4] / f[5]);
	json_line("vouchers_signed/s", f[0], f[1]);
	json_line("tickets_signed/s", f[2], f[3]);
	json_line("vouchers_verified/s", f[4], f[5]);
	secp256k1_context_destroy(b.ctx);
	return b.sink == 0xdeadbeef ? 3 : 0;	/* keep the work alive */
}
