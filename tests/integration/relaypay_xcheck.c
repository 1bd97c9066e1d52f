/*
 * The payer and payee sides of chain/relaypay.h for
 * tests/integration/test_relaypay_anvil.sh, which checks what this prints
 * against PaymentHub on anvil: the domain separator, each ticket's digest
 * (hashTicket), each draw (redeemTicket succeeds for our winners and
 * reverts NotWinning for our losers) and the winners' batch.
 *
 *   relaypay_xcheck CHAIN_ID HUB NOW POT_HEX NONCE0 N
 *
 * POT_HEX is the raw answer of pots(signer) (decoded with hub_pot_decode);
 * the pot signer key is 0x44…44.  Tickets are worth half their face value
 * (winProb 2^255), made at NOW, checked and accepted by a payee whose
 * epoch then ends.  Prints lines of "name value…".
 *
 *   relaypay_xcheck CHAIN_ID HUB NOW POT_HEX NONCE0 N DATADIR EPOCH_S
 *
 * The same tickets, accepted by a relay as bitsd's relay.pay with
 * relay.pay.epoch EPOCH_S keeps them: DATADIR gets that relay's stealth
 * keys (relaypay-spend.key, relaypay-view.key) and its state
 * (relaypay.state) with the epoch ended, its winners to redeem.  Prints
 * the ticket lines and "winners K".
 */
#include "config.h"
#include "apps/bitsd_relaypay.h"
#include "chain/calls.h"
#include "chain/relaypay.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex(const char *name, const void *p, size_t n)
{
	char *s = xmalloc(HEX_ENC_LEN(n));

	if (hex_encode(s, HEX_ENC_LEN(n), p, n) < 0) {
		fprintf(stderr, "hex_encode of %zu bytes failed\n", n);
		exit(2);
	}
	printf("%s0x%s", name, s);
	free(s);
}

/* DATADIR/name: a key as bitsd reads one (64 hex digits), or bytes. */
static int put(const char *dir, const char *name, const void *p, size_t n,
	       bool as_hex)
{
	char *path = fsutil_path_join(dir, name), *h = NULL;
	int r;

	if (as_hex) {
		h = xmalloc(HEX_ENC_LEN(n));
		if (hex_encode(h, HEX_ENC_LEN(n), p, n) < 0) {
			free(h);
			free(path);
			return ERR_INTERNAL;
		}
		h[2 * n] = '\n';	/* for its NUL */
		p = h;
		n = 2 * n + 1;
	}
	r = fsutil_write_atomic(path, p, n, 0600, false);
	if (r != 0)
		fprintf(stderr, "%s: %s\n", path, err_str(r));
	free(h);
	free(path);
	return r;
}

static void tuple(const struct eip712_ticket *t)
{
	char a[U256_DEC_BYTES], b[U256_DEC_BYTES], c[U256_DEC_BYTES];

	hex(" (", t->recipient, 20);
	printf(",%s,%s,%s,", u256_format_dec(&t->face_value, a, sizeof(a)),
	       u256_format_dec(&t->win_prob, b, sizeof(b)),
	       u256_format_dec(&t->sender_nonce, c, sizeof(c)));
	hex("", t->recipient_rand_hash, 32);
	printf(",%llu)", (unsigned long long)t->expiry);
}

int main(int argc, char **argv)
{
	struct eip712_domain dom = { .name = EIP712_NAME_HUB };
	struct relaypay_policy pol = {
		.max_paper_ttl_s = 43200, .redeem_cost = u256_from_u64(1000),
		.epoch_s = 3600, .grace_s = 600, .redeem_margin_s = 600,
		.max_tickets = 4096,
	};
	struct relaypay_price price = {
		.price_per_gib = u256_from_u64(2000000),
		.face_value = u256_from_u64(1000000), .ttl_s = 6 * 3600,
	};
	struct secp_sk spend, view, pot_sk;
	struct relaypay_hop_info hop;
	struct relaypay_payee *p;
	struct relaypay_batch b;
	struct hub_pot pot;
	struct bbuf cd;
	uint8_t sep[32], addr[20], potraw[512], d[32];
	uint64_t now, nonce0;
	size_t potlen;
	int n;

	const char *datadir = NULL;
	unsigned wins = 0;

	if (argc != 7 && argc != 9) {
		fprintf(stderr, "usage: relaypay_xcheck CHAIN_ID HUB NOW POT_HEX "
			"NONCE0 N [DATADIR EPOCH_S]\n");
		return 2;
	}
	if (argc == 9) {	/* bitsd's relay.pay policy (bitsd_relaypay.c) */
		datadir = argv[7];
		pol.epoch_s = pol.grace_s = strtoull(argv[8], NULL, 10);
		pol.redeem_cost = u256_from_u64(1);
		pol.redeem_margin_s = BITSD_RELAYPAY_REDEEM_MARGIN_S;
		pol.max_paper_ttl_s = BITSD_RELAYPAY_MAX_PAPER_TTL_S;
		pol.max_tickets = 1u << 20;
	}
	dom.chain_id = strtoull(argv[1], NULL, 10);
	if (eth_addr_parse(dom.verifying, argv[2]) != 0)
		return 2;
	now = strtoull(argv[3], NULL, 10);
	if (strncmp(argv[4], "0x", 2) != 0 ||
	    hex_decode(potraw, sizeof(potraw), &potlen, argv[4] + 2,
		       strlen(argv[4]) - 2) != 0 ||
	    hub_pot_decode(potraw, potlen, &pot) != 0) {
		fprintf(stderr, "bad hub address or pots() answer\n");
		return 2;
	}
	nonce0 = strtoull(argv[5], NULL, 10);
	n = atoi(argv[6]);

	eip712_domain_separator(&dom, sep);
	hex("domain ", sep, 32);
	memset(pot_sk.b, 0x44, 32);
	if (secp_sk_address(&pot_sk, addr) != 0)
		return 2;
	hex("\nsigner ", addr, 20);
	putchar('\n');
	/* the relay: fresh stealth keys, epoch from now */
	secp_sk_generate(&spend);
	secp_sk_generate(&view);
	if (stealth_meta_from_keys(&hop.meta, &spend, &view) != 0)
		return 2;
	p = relaypay_payee_new(&pol, sep, &view, &hop.meta.spend, now);
	relaypay_payee_commitment(p, hop.commitment, NULL);

	for (int i = 0; i < n; i++) {
		struct relaypay_ticket k;
		struct relaypay_checked c;
		enum relaypay_reason why;
		uint8_t w[RELAYPAY_WIRE_BYTES];
		bool won = false;

		/* 2^28 bytes at 2·10^6 per GiB = half the face value */
		if (relaypay_ticket_make(&k, &pot_sk, sep, &hop, &price,
					 1ull << 28, nonce0 + i, now, NULL) ||
		    relaypay_wire_encode(&k, w) != 0) {
			fprintf(stderr, "ticket %d not made\n", i);
			return 3;
		}
		why = relaypay_payee_check(p, w, sizeof(w), now, &c);
		if (why == RELAYPAY_OK)
			why = relaypay_payee_accept(p, &c, &pot, now, &won);
		relaypay_ticket_digest(&k.t, sep, d);
		printf("ticket %d", i);
		tuple(&k.t);
		hex(" ", k.sig, 65);
		hex(" ", d, 32);
		if (why == RELAYPAY_OK)
			printf(" %s\n", won ? "win" : "lose");
		else
			printf(" refused:%s\n", relaypay_reason_str(why));
		wins += why == RELAYPAY_OK && won;
	}
	if (datadir) {	/* the epoch ends; the relay saves its state */
		struct bbuf st = BBUF_INIT;
		int r;

		(void)relaypay_payee_tick(p, now + pol.epoch_s);
		relaypay_payee_save(p, &st);
		r = put(datadir, "relaypay-spend.key", spend.b, 32, true);
		if (r == 0)
			r = put(datadir, "relaypay-view.key", view.b, 32, true);
		if (r == 0)
			r = put(datadir, BITSD_RELAYPAY_STATE_FILE, st.data,
				st.len, false);
		printf("winners %u\n", wins);
		bbuf_free(&st);
		relaypay_payee_free(p);
		return r ? 3 : 0;
	}
	/* the epoch ends; its winners and r_epoch come out for redemption */
	(void)relaypay_payee_tick(p, now + pol.epoch_s);
	if (relaypay_payee_batch_take(p, now + pol.epoch_s + pol.grace_s,
				      &b) == 0) {
		struct eip712_ticket *t = calloc(b.n, sizeof(*t));
		uint8_t (*sigs)[SECP_SIG_BYTES] = calloc(b.n, sizeof(*sigs));

		for (size_t i = 0; i < b.n; i++) {
			t[i] = b.w[i].t;
			memcpy(sigs[i], b.w[i].sig, SECP_SIG_BYTES);
		}
		hex("rand ", b.rand, 32);
		printf("\nwinners %zu\n", b.n);
		bbuf_init(&cd);
		hub_redeem_tickets_call(&cd, b.n, t,
					(const uint8_t (*)[SECP_SIG_BYTES])sigs,
					b.rand);
		hex("batch ", cd.data, cd.len);
		putchar('\n');
		bbuf_free(&cd);
		free(t);
		free(sigs);
		relaypay_batch_free(&b);
	} else {
		/* no winners: still reveal the draw's secret for the check */
		printf("winners 0\n");
	}
	relaypay_payee_free(p);
	return 0;
}
