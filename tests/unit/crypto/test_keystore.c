/*
 * crypto/keystore and crypto/secmem: serialization round trip, rejection
 * of every corrupted, truncated or extended file, signing with the stored
 * identity key, DH agreement from each X25519 slot.
 */
#include "config.h"
#include "tests/unit/tharness.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"
#include "crypto/secmem.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static bool same_public(const struct keystore *a, const struct keystore *b)
{
	struct ed25519_pk pa, pb;
	struct x25519_pk xa, xb;

	keystore_sign_pk(a, &pa);
	keystore_sign_pk(b, &pb);
	if (memcmp(pa.b, pb.b, 32) != 0)
		return false;
	for (int i = 0; i < KEYSTORE_X_COUNT_; i++) {
		keystore_x25519_pk(a, i, &xa);
		keystore_x25519_pk(b, i, &xb);
		if (memcmp(xa.b, xb.b, 32) != 0)
			return false;
	}
	return true;
}

static void test_roundtrip(struct tctx *t)
{
	struct keystore *a = keystore_new_random(), *b = NULL;
	struct bbuf e1 = BBUF_INIT, e2 = BBUF_INIT;
	struct x25519_pk x[KEYSTORE_X_COUNT_];

	keystore_encode(a, &e1);
	T_EQ(t, e1.len, KEYSTORE_ENCODED_BYTES);
	T_MEMEQ(t, e1.data, "BITSKEYS", 8);
	T_OK(t, keystore_decode(e1.data, e1.len, &b));
	if (b) {
		T_TRUE(t, same_public(a, b));
		keystore_encode(b, &e2);
		T_EQ(t, e2.len, e1.len);
		T_MEMEQ(t, e2.data, e1.data, e1.len);
	}
	/* the three slots hold distinct keys */
	for (int i = 0; i < KEYSTORE_X_COUNT_; i++)
		keystore_x25519_pk(a, i, &x[i]);
	T_TRUE(t, memcmp(x[0].b, x[1].b, 32) != 0);
	T_TRUE(t, memcmp(x[1].b, x[2].b, 32) != 0);
	keystore_free(a);
	keystore_free(b);
	keystore_free(NULL);
	bbuf_free(&e1);
	bbuf_free(&e2);
}

static void test_corrupt_rejected(struct tctx *t)
{
	struct keystore *a = keystore_new_random(), *b = NULL;
	struct bbuf e = BBUF_INIT;
	uint8_t *buf;
	size_t bad = 0, len;

	keystore_encode(a, &e);
	len = e.len;
	buf = xmemdup(e.data, len);
	/* Every single-bit flip anywhere is caught. */
	for (size_t i = 0; i < e.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int r;

			buf[i] ^= (uint8_t)(1u << bit);
			r = keystore_decode(buf, e.len, &b);
			if (r != ERR_AUTH && r != ERR_FORMAT)
				bad++;
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	T_EQ(t, bad, 0);
	T_TRUE(t, b == NULL);		/* out written only on success */
	/* Every truncation, and trailing bytes. */
	for (size_t n = 0; n < e.len; n++) {
		int r = keystore_decode(buf, n, &b);

		T_TRUE(t, r == ERR_TRUNCATED || r == ERR_FORMAT ||
			  r == ERR_AUTH);
	}
	bbuf_u8(&e, 0);
	T_ERR(t, keystore_decode(e.data, e.len, &b), ERR_AUTH);
	T_ERR(t, keystore_decode(NULL, 0, &b), ERR_TRUNCATED);
	T_TRUE(t, b == NULL);
	xfree_wipe(buf, len);
	bbuf_free(&e);
	keystore_free(a);
}

static void test_unknown_version(struct tctx *t)
{
	struct keystore *a = keystore_new_random(), *b = NULL;
	struct bbuf e = BBUF_INIT;

	keystore_encode(a, &e);
	/* An intact file (checksum recomputed) of version 2. */
	be16_put(e.data + 8, 2);
	sha256(e.data + e.len - 32, e.data, e.len - 32);
	T_ERR(t, keystore_decode(e.data, e.len, &b), ERR_UNSUPPORTED);
	/* Version 1 but a body of the wrong length. */
	be16_put(e.data + 8, 1);
	e.len -= 32;
	bbuf_u8(&e, 0);
	bbuf_extend(&e, 32);
	sha256(e.data + e.len - 32, e.data, e.len - 32);
	T_ERR(t, keystore_decode(e.data, e.len, &b), ERR_FORMAT);
	T_TRUE(t, b == NULL);
	bbuf_free(&e);
	keystore_free(a);
}

static void test_sign_verify(struct tctx *t)
{
	struct keystore *a = keystore_new_random(), *b = NULL;
	struct bbuf e = BBUF_INIT;
	struct ed25519_pk pk;
	struct ed25519_sig s1, s2;

	keystore_sign_pk(a, &pk);
	keystore_sign(a, &s1, "RouterInfo", 10);
	T_TRUE(t, ed25519_verify(&s1, &pk, "RouterInfo", 10));
	T_FALSE(t, ed25519_verify(&s1, &pk, "RouterInfO", 10));
	/* the decoded copy signs identically (Ed25519 is deterministic) */
	keystore_encode(a, &e);
	T_OK(t, keystore_decode(e.data, e.len, &b));
	if (b) {
		keystore_sign(b, &s2, "RouterInfo", 10);
		T_MEMEQ(t, s1.b, s2.b, 64);
	}
	keystore_free(a);
	keystore_free(b);
	bbuf_free(&e);
}

static void test_dh(struct tctx *t)
{
	struct keystore *a = keystore_new_random(), *b = keystore_new_random();
	struct x25519_pk pa, pb, zero = { { 0 } };
	struct x25519_sk sk;
	struct x25519_pk pk;
	uint8_t s1[32], s2[32], keep[32];

	for (int i = 0; i < KEYSTORE_X_COUNT_; i++) {
		keystore_x25519_pk(a, i, &pa);
		keystore_x25519_pk(b, i, &pb);
		T_OK(t, keystore_dh(a, i, s1, &pb));
		T_OK(t, keystore_dh(b, i, s2, &pa));
		T_MEMEQ(t, s1, s2, 32);
	}
	/* against a plain X25519 key */
	x25519_keygen(&sk, &pk);
	keystore_x25519_pk(a, KEYSTORE_X_SSU2, &pa);
	T_OK(t, keystore_dh(a, KEYSTORE_X_SSU2, s1, &pk));
	T_OK(t, x25519_dh(s2, &sk, &pa));
	T_MEMEQ(t, s1, s2, 32);
	memcpy(keep, s1, 32);
	T_ERR(t, keystore_dh(a, KEYSTORE_X_NTCP2, s1, &zero), ERR_CRYPTO);
	T_MEMEQ(t, s1, keep, 32);
	keystore_free(a);
	keystore_free(b);
}

static void test_deterministic_keys(struct tctx *t)
{
	/* Keys come from rand_bytes(), so a seeded stream reproduces them. */
	struct keystore *a, *b, *c;

	rand_set_deterministic(7);
	a = keystore_new_random();
	rand_set_deterministic(7);
	b = keystore_new_random();
	rand_set_deterministic(8);
	c = keystore_new_random();
	rand_set_deterministic(0);
	T_TRUE(t, same_public(a, b));
	T_FALSE(t, same_public(a, c));
	keystore_free(a);
	keystore_free(b);
	keystore_free(c);
}

static void test_secmem(struct tctx *t)
{
	uint8_t *p = secmem_alloc(100);
	uint8_t zero[100] = { 0 };

	T_MEMEQ(t, p, zero, 100);
	memset(p, 0x5a, 100);
	secmem_readonly(p);
	T_EQ(t, p[99], 0x5a);	/* still readable */
	secmem_readwrite(p);
	p[0] = 1;
	secmem_readonly(p);
	secmem_free(p);		/* read-only memory frees fine */
	secmem_free(NULL);
}

static void test_secmem_readonly_faults(struct tctx *t)
{
	/* Runs forked: a write to read-only key memory must kill us. */
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		volatile uint8_t *p = secmem_alloc(32);
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)	/* keep a sanitizer's SEGV report quiet */
			dup2(fd, 2);
		secmem_readonly((void *)p);
		p[0] = 1;
		_exit(0);	/* reached only if the write went through */
	}
	T_TRUE(t, pid > 0);
	T_EQ(t, waitpid(pid, &status, 0), pid);
	/* Killed by SIGSEGV, or (under ASan) exited non-zero after it. */
	T_FALSE(t, WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

const struct test_case keystore_tests[] = {
	{ "roundtrip", test_roundtrip, 0 },
	{ "corrupt_rejected", test_corrupt_rejected, 0 },
	{ "unknown_version", test_unknown_version, 0 },
	{ "sign_verify", test_sign_verify, 0 },
	{ "dh", test_dh, 0 },
	{ "deterministic_keys", test_deterministic_keys, TT_FORK },
	{ "secmem", test_secmem, 0 },
	{ "secmem_readonly_faults", test_secmem_readonly_faults, 0 },
	{ NULL, NULL, 0 }
};
