/*
 * Cross-check chain/ against cast (Foundry), run here for every case: our
 * Keccak, selectors, calldata for each [C1] call we send, ABI decoding of
 * what cast encodes, RLP, EIP-1559 raw transactions (byte for byte: both
 * sign with RFC 6979), and EIP-712 signatures over every CHAIN.md §3 type
 * (byte for byte, so the digests agree).  Nothing is compared with
 * numbers our own code printed before.
 *
 *   chain_xcheck CAST_PATH      (tests/integration/test_chain_xcheck.sh)
 * Last line: "RESULT chain-xcheck: N passed, M failed".
 */
#include "config.h"
#include "chain/abi.h"
#include "chain/calls.h"
#include "chain/eip712.h"
#include "chain/rlp.h"
#include "chain/secp.h"
#include "chain/tx1559.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/keccak.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUT_MAX (64 * 1024)

static const char *cast_bin;
static int passed, failed;

/* Run cast with the NULL-terminated argv; its trimmed stdout in out. */
static int cast(char *out, size_t outlen, const char *first, ...)
{
	const char *argv[32];
	va_list ap;
	int n = 0, pfd[2], status;
	size_t got = 0;
	ssize_t k;
	pid_t pid;

	argv[n++] = cast_bin;
	argv[n++] = first;
	va_start(ap, first);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	if (pipe(pfd) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execv(cast_bin, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((k = read(pfd[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)k;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	while (got && isspace((unsigned char)out[got - 1]))
		got--;
	out[got] = '\0';
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static char *hex0x(const void *p, size_t n)
{
	char *s = xmalloc(2 + HEX_ENC_LEN(n));

	s[0] = '0';
	s[1] = 'x';
	(void)hex_encode(s + 2, HEX_ENC_LEN(n), p, n);
	return s;
}

/* Compare our bytes with cast's 0x-hex (case-insensitive). */
static void same(const char *what, const char *cast_out, const void *ours,
		 size_t n)
{
	char *h = hex0x(ours, n);

	if (strcasecmp(h, cast_out) == 0) {
		printf("ok   %s\n", what);
		passed++;
	} else {
		printf("FAIL %s\n  cast: %s\n  ours: %s\n", what, cast_out, h);
		failed++;
	}
	free(h);
}

static void truth(const char *what, bool ok)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", what);
	ok ? passed++ : failed++;
}

static void xc_keccak(void)
{
	char out[OUT_MAX], *h;
	uint8_t d[32], buf[300];

	keccak256(d, "", 0);
	if (cast(out, sizeof(out), "keccak", "", NULL) == 0)
		same("keccak256(\"\")", out, d, 32);
	else
		truth("cast keccak \"\" runs", false);
	keccak256(d, "abc", 3);
	cast(out, sizeof(out), "keccak", "abc", NULL);
	same("keccak256(\"abc\")", out, d, 32);
	for (size_t i = 0; i < sizeof(buf); i++)	/* across the rate */
		buf[i] = (uint8_t)(i * 7 + 3);
	keccak256(d, buf, sizeof(buf));
	h = hex0x(buf, sizeof(buf));
	cast(out, sizeof(out), "keccak", h, NULL);
	same("keccak256(300 bytes)", out, d, 32);
	free(h);
}

static void xc_selectors(void)
{
	static const char *const sigs[] = {
		"publish(bytes32,uint96,uint16,address,uint16,bytes32)",
		"buy(uint256,address,uint256)",
		"requestKey(uint256,bytes)",
		"deliverKey(uint256,address,bytes32)",
		"fund(address,uint96,uint96)",
		"redeemVoucher((address,bytes32,uint256,uint64),bytes)",
		"redeemVouchers((address,bytes32,uint256,uint64)[],bytes[])",
		"redeemTicket((address,uint256,uint256,uint256,bytes32,uint64),bytes,bytes32)",
		"redeemTickets((address,uint256,uint256,uint256,bytes32,uint64)[],bytes[],bytes32)",
		"withdrawFor(address,address,uint256,uint256,uint64,bytes)",
		"fundFromBalance(address,address,uint96,uint64,bytes)",
		"setAttribute(address,bytes32,bytes,uint256)",
	};
	char out[OUT_MAX], what[160];
	uint8_t sel[4];

	for (size_t i = 0; i < ARRAY_LEN(sigs); i++) {
		abi_selector(sel, sigs[i]);
		cast(out, sizeof(out), "sig", sigs[i], NULL);
		snprintf(what, sizeof(what), "selector %.120s", sigs[i]);
		same(what, out, sel, 4);
	}
}

static void fill(uint8_t *p, size_t n, uint8_t v)
{
	memset(p, v, n);
}

/* Calldata of our encoders against `cast calldata`. */
static void xc_calldata(void)
{
	char out[OUT_MAX], a1[96], a2[64], h1[80], tup[1024], tup2[2048];
	struct bbuf b = BBUF_INIT;
	struct eip712_voucher v[2];
	struct eip712_ticket t[2];
	uint8_t sigs[2][65], rand[32];
	struct license_publish p = { 0 };
	char *s0, *s1, *r;

	fill(p.content_hash, 32, 0xc1);
	p.price = u256_from_u64(123456789);
	p.royalty_bps = 250;
	fill(p.key_agent, 20, 0xa7);
	p.agent_fee_bps = 100;
	fill(p.key_commitment, 32, 0x5e);
	(void)license_publish_call(&b, &p);
	cast(out, sizeof(out), "calldata",
	     "publish(bytes32,uint96,uint16,address,uint16,bytes32)",
	     "0xc1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1",
	     "123456789", "250", "0xa7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7",
	     "100", "0x5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e",
	     NULL);
	same("calldata publish", out, b.data, b.len);
	bbuf_reset(&b);

	struct secp_pk E;
	struct secp_sk one = { { 0 } };
	one.b[31] = 1;
	(void)secp_sk_pubkey(&one, &E);
	struct u256 id = { { 7, 1, 0, 0 } };		/* (1 << 64) | 7 */
	keyrel_request_call(&b, &id, &E);
	r = hex0x(E.b, 33);
	cast(out, sizeof(out), "calldata", "requestKey(uint256,bytes)",
	     "18446744073709551623", r, NULL);
	same("calldata requestKey (dynamic bytes)", out, b.data, b.len);
	free(r);
	bbuf_reset(&b);

	/* two vouchers and their signatures: dynamic arrays of static
	 * tuples and of bytes */
	memset(v, 0, sizeof(v));
	for (int i = 0; i < 2; i++) {
		fill(v[i].recipient, 20, (uint8_t)(0x11 * (i + 1)));
		fill(v[i].lane, 32, (uint8_t)(0x40 + i));
		v[i].cumulative = u256_from_u64(1000u * (i + 1));
		v[i].expiry = 1700000000u + (uint64_t)i;
		fill(sigs[i], 65, (uint8_t)(0x90 + i));
	}
	hub_redeem_vouchers_call(&b, 2, v, (const uint8_t (*)[65])sigs);
	s0 = hex0x(sigs[0], 65);
	s1 = hex0x(sigs[1], 65);
	snprintf(tup, sizeof(tup), "[(0x%s,0x%s,1000,1700000000),(0x%s,0x%s,2000,1700000001)]",
		 "1111111111111111111111111111111111111111",
		 "4040404040404040404040404040404040404040404040404040404040404040",
		 "2222222222222222222222222222222222222222",
		 "4141414141414141414141414141414141414141414141414141414141414141");
	snprintf(tup2, sizeof(tup2), "[%s,%s]", s0, s1);
	cast(out, sizeof(out), "calldata",
	     "redeemVouchers((address,bytes32,uint256,uint64)[],bytes[])", tup,
	     tup2, NULL);
	same("calldata redeemVouchers (arrays)", out, b.data, b.len);
	bbuf_reset(&b);

	memset(t, 0, sizeof(t));
	for (int i = 0; i < 2; i++) {
		fill(t[i].recipient, 20, (uint8_t)(0x33 + i));
		t[i].face_value = u256_from_u64(5000);
		memset(&t[i].win_prob, 0xff, sizeof(t[i].win_prob));
		t[i].sender_nonce = u256_from_u64(300 + (uint64_t)i);
		fill(t[i].recipient_rand_hash, 32, 0x77);
		t[i].expiry = 1800000000;
	}
	fill(rand, 32, 0x99);
	hub_redeem_tickets_call(&b, 2, t, (const uint8_t (*)[65])sigs, rand);
	snprintf(a1, sizeof(a1), "%s", "115792089237316195423570985008687907853269984665640564039457584007913129639935");
	snprintf(tup, sizeof(tup),
		 "[(0x3333333333333333333333333333333333333333,5000,%s,300,0x%s,1800000000),"
		 "(0x3434343434343434343434343434343434343434,5000,%s,301,0x%s,1800000000)]",
		 a1, "7777777777777777777777777777777777777777777777777777777777777777",
		 a1, "7777777777777777777777777777777777777777777777777777777777777777");
	cast(out, sizeof(out), "calldata",
	     "redeemTickets((address,uint256,uint256,uint256,bytes32,uint64)[],bytes[],bytes32)",
	     tup, tup2, "0x9999999999999999999999999999999999999999999999999999999999999999", NULL);
	same("calldata redeemTickets (arrays + word)", out, b.data, b.len);
	bbuf_reset(&b);

	struct eip712_withdraw w = { 0 };
	fill(w.from, 20, 0x51);
	fill(w.to, 20, 0x52);
	w.amount = u256_from_u64(400);
	w.fee = u256_from_u64(50);
	w.deadline = 1900000000;
	hub_withdraw_for_call(&b, &w, sigs[0]);
	snprintf(a1, sizeof(a1), "0x%s", "5151515151515151515151515151515151515151");
	snprintf(a2, sizeof(a2), "0x%s", "5252525252525252525252525252525252525252");
	cast(out, sizeof(out), "calldata",
	     "withdrawFor(address,address,uint256,uint256,uint64,bytes)", a1, a2,
	     "400", "50", "1900000000", s0, NULL);
	same("calldata withdrawFor", out, b.data, b.len);
	bbuf_reset(&b);

	static const uint8_t val[66] = { 0x02, 0x03, 0x04 };
	(void)did_set_attribute_call(&b, w.from, "stealth/meta", val, sizeof(val), 86400);
	r = hex0x(val, sizeof(val));
	snprintf(h1, sizeof(h1), "0x%s", "737465616c74682f6d6574610000000000000000000000000000000000000000");
	cast(out, sizeof(out), "calldata", "setAttribute(address,bytes32,bytes,uint256)",
	     a1, h1, r, "86400", NULL);
	same("calldata setAttribute", out, b.data, b.len);
	free(r);
	free(s0);
	free(s1);
	bbuf_free(&b);
}

/* cast abi-encode → our decoders. */
static void xc_decode(void)
{
	char out[OUT_MAX];
	uint8_t buf[2048], sig[65];
	size_t n;
	struct license_content lc;
	struct eip712_voucher v;
	struct bbuf ours = BBUF_INIT;
	int r;

	cast(out, sizeof(out), "abi-encode",
	     "f(address,uint64,uint16,uint16,address,uint96,bytes32)",
	     "0x1212121212121212121212121212121212121212", "42", "500", "100",
	     "0x3434343434343434343434343434343434343434", "79228162514264337593543950335",
	     "0x5656565656565656565656565656565656565656565656565656565656565656", NULL);
	r = hex_decode(buf, sizeof(buf), &n, out + 2, strlen(out) - 2);
	truth("decode content() as cast encodes it",
	      r == 0 && license_content_decode(buf, n, &lc) == 0 &&
	      lc.creator[0] == 0x12 && lc.serial == 42 && lc.royalty_bps == 500 &&
	      lc.agent_fee_bps == 100 && lc.key_agent[19] == 0x34 &&
	      lc.price.w[0] == UINT64_MAX && lc.price.w[1] == 0xffffffffu &&
	      lc.key_commitment[31] == 0x56);

	cast(out, sizeof(out), "abi-encode", "f((address,bytes32,uint256,uint64),bytes)",
	     "(0x7878787878787878787878787878787878787878,"
	     "0x0101010101010101010101010101010101010101010101010101010101010101,"
	     "987654321,1700000000)",
	     "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1b", NULL);
	r = hex_decode(buf, sizeof(buf), &n, out + 2, strlen(out) - 2);
	truth("decode voucher paper as cast encodes it",
	      r == 0 && chain_voucher_paper_decode(buf, n, &v, sig) == 0 &&
	      v.recipient[0] == 0x78 && v.cumulative.w[0] == 987654321 &&
	      v.expiry == 1700000000 && sig[64] == 0x1b && sig[0] == 0xaa);
	chain_voucher_paper_encode(&ours, &v, sig);
	same("voucher paper re-encoded", out, ours.data, ours.len);
	bbuf_free(&ours);
}

static void xc_rlp(void)
{
	char out[OUT_MAX];
	struct bbuf b = BBUF_INIT, in = BBUF_INIT, l = BBUF_INIT;
	uint8_t big[60];
	char *bh, arg[512];

	/* ["0x01", "0x", ["0x0203", <60 bytes>], "0x7f", "0x80"] */
	fill(big, sizeof(big), 0xee);
	rlp_put_bytes(&in, "\x02\x03", 2);
	rlp_put_bytes(&in, big, sizeof(big));
	rlp_put_u64(&b, 1);
	rlp_put_bytes(&b, NULL, 0);
	rlp_put_list(&b, in.data, in.len);
	rlp_put_bytes(&b, "\x7f", 1);
	rlp_put_bytes(&b, "\x80", 1);
	rlp_put_list(&l, b.data, b.len);
	bh = hex0x(big, sizeof(big));
	snprintf(arg, sizeof(arg), "[\"0x01\",\"0x\",[\"0x0203\",\"%s\"],\"0x7f\",\"0x80\"]", bh);
	cast(out, sizeof(out), "to-rlp", arg, NULL);
	same("RLP nested list with a long string", out, l.data, l.len);
	free(bh);
	bbuf_free(&b);
	bbuf_free(&in);
	bbuf_free(&l);
}

static void xc_tx(void)
{
	char out[OUT_MAX];
	struct secp_sk sk = { { 0 } };
	struct bbuf raw = BBUF_INIT, data = BBUF_INIT;
	struct tx1559 tx = { 0 };
	uint8_t to[20], amt[20];
	struct u256 five = u256_from_u64(5);

	sk.b[31] = 1;
	fill(to, 20, 0x11);
	fill(amt, 20, 0x22);
	erc20_transfer(&data, amt, &five);
	tx.chain_id = 31337;
	tx.nonce = 3;
	tx.max_priority_fee = u256_from_u64(1000000000);
	tx.max_fee = u256_from_u64(2000000000);
	tx.gas_limit = 50000;
	tx.has_to = true;
	memcpy(tx.to, to, 20);
	tx.data = data.data;
	tx.data_len = data.len;
	(void)tx1559_sign(&tx, &sk, &raw, NULL);
	cast(out, sizeof(out), "mktx", "--private-key",
	     "0x0000000000000000000000000000000000000000000000000000000000000001",
	     "--chain", "31337", "--nonce", "3", "--gas-limit", "50000",
	     "--gas-price", "2000000000", "--priority-gas-price", "1000000000",
	     "0x1111111111111111111111111111111111111111",
	     "transfer(address,uint256)", "0x2222222222222222222222222222222222222222",
	     "5", NULL);
	same("EIP-1559 raw tx (cast mktx, same key)", out, raw.data, raw.len);
	bbuf_reset(&raw);
	tx.value = u256_from_u64(1000000000000000000ull);
	tx.data_len = 0;
	tx.nonce = 0;
	tx.gas_limit = 21000;
	(void)tx1559_sign(&tx, &sk, &raw, NULL);
	cast(out, sizeof(out), "mktx", "--private-key",
	     "0x0000000000000000000000000000000000000000000000000000000000000001",
	     "--chain", "31337", "--nonce", "0", "--gas-limit", "21000",
	     "--gas-price", "2000000000", "--priority-gas-price", "1000000000",
	     "--value", "1000000000000000000",
	     "0x1111111111111111111111111111111111111111", NULL);
	same("EIP-1559 raw tx with value, nonce 0", out, raw.data, raw.len);
	uint8_t addr[20];
	(void)secp_sk_address(&sk, addr);
	cast(out, sizeof(out), "wallet", "address", "--private-key",
	     "0x0000000000000000000000000000000000000000000000000000000000000001", NULL);
	same("address of key 1", out, addr, 20);
	bbuf_free(&raw);
	bbuf_free(&data);
}

/* Write typed data JSON, have cast sign it, compare with our signature. */
static void sign712(const char *what, const char *types, const char *primary,
		    const char *name, const char *message, const uint8_t sh[32],
		    const char *dir)
{
	static const char keyhex[] =
		"0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
	char path[512], out[OUT_MAX];
	struct eip712_domain d = { name, 31337, { 0 } };
	struct secp_sk sk;
	uint8_t sep[32], dig[32], sig[65];
	size_t n;
	FILE *f;

	fill(d.verifying, 20, 0xcc);
	snprintf(path, sizeof(path), "%s/%s.json", dir, primary);
	f = fopen(path, "w");
	if (!f) {
		truth(what, false);
		return;
	}
	fprintf(f, "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},"
		"{\"name\":\"version\",\"type\":\"string\"},{\"name\":\"chainId\",\"type\":\"uint256\"},"
		"{\"name\":\"verifyingContract\",\"type\":\"address\"}],%s},"
		"\"primaryType\":\"%s\",\"domain\":{\"name\":\"%s\",\"version\":\"1\","
		"\"chainId\":31337,\"verifyingContract\":\"0xcccccccccccccccccccccccccccccccccccccccc\"},"
		"\"message\":%s}", types, primary, name, message);
	fclose(f);
	(void)hex_decode(sk.b, 32, &n, keyhex + 2, 64);
	eip712_domain_separator(&d, sep);
	eip712_digest(sep, sh, dig);
	(void)secp_sign(&sk, dig, sig);
	if (cast(out, sizeof(out), "wallet", "sign", "--private-key", keyhex,
		 "--data", "--from-file", path, NULL) != 0) {
		printf("FAIL %s: cast wallet sign failed\n", what);
		failed++;
		return;
	}
	same(what, out, sig, 65);
}

static void xc_eip712(const char *dir)
{
	uint8_t h[32];

	struct eip712_ticket t = { 0 };
	fill(t.recipient, 20, 0x21);
	t.face_value = u256_from_u64(1000);
	t.win_prob.w[3] = 1ull << 63;
	t.sender_nonce = u256_from_u64(42);
	fill(t.recipient_rand_hash, 32, 0x3c);
	t.expiry = 1700000000;
	eip712_hash_ticket(&t, h);
	sign712("EIP-712 Ticket signature = cast's",
		"\"Ticket\":[{\"name\":\"recipient\",\"type\":\"address\"},{\"name\":\"faceValue\",\"type\":\"uint256\"},"
		"{\"name\":\"winProb\",\"type\":\"uint256\"},{\"name\":\"senderNonce\",\"type\":\"uint256\"},"
		"{\"name\":\"recipientRandHash\",\"type\":\"bytes32\"},{\"name\":\"expiry\",\"type\":\"uint64\"}]",
		"Ticket", EIP712_NAME_HUB,
		"{\"recipient\":\"0x2121212121212121212121212121212121212121\",\"faceValue\":\"1000\","
		"\"winProb\":\"57896044618658097711785492504343953926634992332820282019728792003956564819968\","
		"\"senderNonce\":\"42\",\"recipientRandHash\":\"0x3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c\","
		"\"expiry\":\"1700000000\"}", h, dir);

	struct eip712_voucher v = { 0 };
	fill(v.recipient, 20, 0x31);
	fill(v.lane, 32, 0x4a);
	v.cumulative = u256_from_u64(777);
	v.expiry = 1700000001;
	eip712_hash_voucher(&v, h);
	sign712("EIP-712 Voucher signature = cast's",
		"\"Voucher\":[{\"name\":\"recipient\",\"type\":\"address\"},{\"name\":\"lane\",\"type\":\"bytes32\"},"
		"{\"name\":\"cumulative\",\"type\":\"uint256\"},{\"name\":\"expiry\",\"type\":\"uint64\"}]",
		"Voucher", EIP712_NAME_HUB,
		"{\"recipient\":\"0x3131313131313131313131313131313131313131\","
		"\"lane\":\"0x4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a\","
		"\"cumulative\":\"777\",\"expiry\":\"1700000001\"}", h, dir);

	struct eip712_withdraw w = { 0 };
	fill(w.from, 20, 0x41);
	fill(w.to, 20, 0x42);
	w.amount = u256_from_u64(400);
	w.fee = u256_from_u64(50);
	w.nonce = u256_from_u64(3);
	w.deadline = 1900000000;
	eip712_hash_withdraw(&w, h);
	sign712("EIP-712 Withdraw signature = cast's",
		"\"Withdraw\":[{\"name\":\"from\",\"type\":\"address\"},{\"name\":\"to\",\"type\":\"address\"},"
		"{\"name\":\"amount\",\"type\":\"uint256\"},{\"name\":\"fee\",\"type\":\"uint256\"},"
		"{\"name\":\"nonce\",\"type\":\"uint256\"},{\"name\":\"deadline\",\"type\":\"uint64\"}]",
		"Withdraw", EIP712_NAME_HUB,
		"{\"from\":\"0x4141414141414141414141414141414141414141\",\"to\":\"0x4242424242424242424242424242424242424242\","
		"\"amount\":\"400\",\"fee\":\"50\",\"nonce\":\"3\",\"deadline\":\"1900000000\"}", h, dir);

	struct eip712_fundpot fp = { 0 };
	fill(fp.from, 20, 0x51);
	fill(fp.signer, 20, 0x52);
	fp.amount = u256_from_u64(9000);
	fp.nonce = u256_from_u64(0);
	fp.deadline = 1900000001;
	eip712_hash_fundpot(&fp, h);
	sign712("EIP-712 FundPot signature = cast's",
		"\"FundPot\":[{\"name\":\"from\",\"type\":\"address\"},{\"name\":\"signer\",\"type\":\"address\"},"
		"{\"name\":\"amount\",\"type\":\"uint256\"},{\"name\":\"nonce\",\"type\":\"uint256\"},"
		"{\"name\":\"deadline\",\"type\":\"uint64\"}]",
		"FundPot", EIP712_NAME_HUB,
		"{\"from\":\"0x5151515151515151515151515151515151515151\",\"signer\":\"0x5252525252525252525252525252525252525252\","
		"\"amount\":\"9000\",\"nonce\":\"0\",\"deadline\":\"1900000001\"}", h, dir);

	struct eip712_purchase pu = { 0 };
	pu.content_index = u256_from_u64(12);
	fill(pu.holder, 20, 0x61);
	pu.max_price = u256_from_u64(100000);
	pu.relayer_fee = u256_from_u64(10);
	pu.nonce = u256_from_u64(1);
	pu.deadline = 1900000002;
	eip712_hash_purchase(&pu, h);
	sign712("EIP-712 Purchase signature = cast's",
		"\"Purchase\":[{\"name\":\"contentIndex\",\"type\":\"uint256\"},{\"name\":\"holder\",\"type\":\"address\"},"
		"{\"name\":\"maxPrice\",\"type\":\"uint256\"},{\"name\":\"relayerFee\",\"type\":\"uint256\"},"
		"{\"name\":\"nonce\",\"type\":\"uint256\"},{\"name\":\"deadline\",\"type\":\"uint64\"}]",
		"Purchase", EIP712_NAME_LICENSE,
		"{\"contentIndex\":\"12\",\"holder\":\"0x6161616161616161616161616161616161616161\","
		"\"maxPrice\":\"100000\",\"relayerFee\":\"10\",\"nonce\":\"1\",\"deadline\":\"1900000002\"}", h, dir);

	struct eip712_key_request kr = { 0 };
	kr.token_id = (struct u256){ { 3, 2, 0, 0 } };	/* 2 << 64 | 3 */
	kr.eph_pub[0] = 0x02;
	fill(kr.eph_pub + 1, 32, 0x7e);
	kr.deadline = 1900000003;
	eip712_hash_key_request(&kr, h);
	sign712("EIP-712 KeyRequest (bytes member) signature = cast's",
		"\"KeyRequest\":[{\"name\":\"tokenId\",\"type\":\"uint256\"},{\"name\":\"ephemeralPubKey\",\"type\":\"bytes\"},"
		"{\"name\":\"deadline\",\"type\":\"uint64\"}]",
		"KeyRequest", EIP712_NAME_KEYRELEASE,
		"{\"tokenId\":\"36893488147419103235\",\"ephemeralPubKey\":"
		"\"0x027e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e\","
		"\"deadline\":\"1900000003\"}", h, dir);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/bits-xcheck.XXXXXX";

	if (argc != 2 || access(argv[1], X_OK) != 0) {
		fprintf(stderr, "usage: chain_xcheck CAST_PATH (cast must exist)\n");
		printf("RESULT chain-xcheck: 0 passed, 1 failed\n");
		return 1;
	}
	cast_bin = argv[1];
	if (!mkdtemp(dir))
		return 1;
	xc_keccak();
	xc_selectors();
	xc_calldata();
	xc_decode();
	xc_rlp();
	xc_tx();
	xc_eip712(dir);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	printf("RESULT chain-xcheck: %d passed, %d failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}
