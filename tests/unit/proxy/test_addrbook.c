/*
 * apps/proxy/addrbook: hosts.txt lines, names, the table, and the signed
 * registration commands (signatures made here with fresh Ed25519
 * destinations, checked against the spec's "Input for signatures").
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/proxy/addrbook.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/ed25519.h"
#include "router/dest_keys.h"
#include "tests/unit/tharness.h"

struct tdest {
	struct dest_keys k;
	char *b64;
};

static void tdest_new(struct tdest *d)
{
	dest_keys_generate(&d->k);
	d->b64 = dest_b64_format(&d->k.dest);
}

static void tdest_free(struct tdest *d)
{
	dest_keys_wipe(&d->k);
	free(d->b64);
}

/* base64 of d's signature over msg */
static char *sign_b64(const struct tdest *d, const void *msg, size_t n)
{
	struct ed25519_seed seed;
	struct ed25519_sig sig;
	char *out = xmalloc(B64_ENC_LEN(64));

	memcpy(seed.b, d->k.sig_sk, 32);
	ed25519_sign(&sig, &seed, msg, n);
	b64_encode(out, B64_ENC_LEN(64), sig.b, 64);
	return out;
}

static void test_names(struct tctx *t)
{
	static const char *const good[] = { "a.i2p", "x-y.i2p", "a.b.i2p",
					    "0.i2p" };
	static const char *const bad[] = { ".i2p", "a.i2p.", "A.i2p",
					   "a..b.i2p", "-a.i2p", "a.b32.i2p",
					   "a.com", "a b.i2p", "a_b.i2p",
					   "i2p" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		T_TRUE(t, addrbook_name_ok(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_FALSE(t, addrbook_name_ok(bad[i], strlen(bad[i])));
}

static void test_lines(struct tctx *t)
{
	struct hosts_line l;
	const char *v;
	size_t n;

	T_OK(t, hosts_line_parse("a.i2p=AAAA\r", 11, &l));
	T_EQ(t, l.name_len, 5);
	T_EQ(t, l.dest_len, 4);
	T_FALSE(t, l.has_opts);
	T_OK(t, hosts_line_parse("a.i2p=AAAA#!b=1#a=2", 19, &l));
	T_TRUE(t, l.has_opts);
	T_EQ(t, l.nopt, 2);
	T_EQ(t, l.dest_len, 4);
	v = hosts_line_opt(&l, "a", &n);
	T_TRUE(t, v && n == 1 && *v == '2');
	T_OK(t, hosts_line_parse("#!action=remove#name=a.i2p", 26, &l));
	T_TRUE(t, l.name == NULL);
	T_EQ(t, l.nopt, 2);
	T_ERR(t, hosts_line_parse("# comment", 9, &l), ERR_NOT_FOUND);
	T_ERR(t, hosts_line_parse("", 0, &l), ERR_NOT_FOUND);
	T_ERR(t, hosts_line_parse("noequals", 8, &l), ERR_FORMAT);
	T_ERR(t, hosts_line_parse("a.i2p=", 6, &l), ERR_FORMAT);
	T_ERR(t, hosts_line_parse("a.com=AAAA", 10, &l), ERR_FORMAT);
	T_ERR(t, hosts_line_parse("a.i2p=AA#x", 10, &l), ERR_FORMAT);
	T_ERR(t, hosts_line_parse("a.i2p=AA#!k=1#k=2", 17, &l), ERR_FORMAT);
	T_ERR(t, hosts_line_parse("a.i2p=AA#!=1", 12, &l), ERR_FORMAT);
	T_ERR(t, hosts_line_parse("a.i2p=AA#!k", 11, &l), ERR_FORMAT);
	{
		char big[ADDRBOOK_LINE_MAX_BYTES + 2];

		memset(big, 'a', sizeof(big));
		T_ERR(t, hosts_line_parse(big, sizeof(big), &l), ERR_TOO_BIG);
		memcpy(big, "a.i2p=A#!", 9);
		for (size_t i = 9; i < 9 + 4 * (ADDRBOOK_OPTS_MAX + 1);
		     i += 4)
			snprintf(big + i, 5, "%c=1#", 'a' + (int)(i / 4));
		T_ERR(t, hosts_line_parse(big, 9 + 4 * (ADDRBOOK_OPTS_MAX + 1)
						     - 1, &l), ERR_TOO_BIG);
	}
}

static void test_signed_bytes(struct tctx *t)
{
	static const char line[] =
		"ex.i2p=DEST#!date=5#oldsig=OS#action=adddest#sig=S#olddest=OD";
	struct hosts_line l;
	struct bbuf b = BBUF_INIT;

	T_OK(t, hosts_line_parse(line, sizeof(line) - 1, &l));
	hosts_line_signed_bytes(&l, false, &b);
	bbuf_u8(&b, 0);
	T_STREQ(t, (const char *)b.data, "ex.i2p=DEST#!action=adddest#date=5#"
					 "olddest=OD#oldsig=OS");
	bbuf_reset(&b);
	hosts_line_signed_bytes(&l, true, &b);
	bbuf_u8(&b, 0);
	T_STREQ(t, (const char *)b.data, "ex.i2p=DEST#!action=adddest#date=5#"
					 "olddest=OD");
	bbuf_free(&b);
}

/* "name=dest#!opts#sig=..." signed by d (opts may be "") */
static char *signed_line(const struct tdest *d, const char *name,
			 const char *dest_b64, const char *opts)
{
	struct bbuf b = BBUF_INIT;
	char *sig, *out;
	size_t n;

	if (name) {
		bbuf_put(&b, name, strlen(name));
		bbuf_put(&b, "=", 1);
		bbuf_put(&b, dest_b64, strlen(dest_b64));
	}
	if (*opts) {
		bbuf_put(&b, "#!", 2);
		bbuf_put(&b, opts, strlen(opts));
	}
	sig = sign_b64(d, b.data, b.len);
	bbuf_put(&b, *opts ? "#sig=" : "#!sig=", *opts ? 5 : 6);
	bbuf_put(&b, sig, strlen(sig));
	bbuf_u8(&b, 0);
	out = (char *)bbuf_steal(&b, &n);
	free(sig);
	return out;
}

static void test_verify(struct tctx *t)
{
	struct tdest a, b;
	struct hosts_line l;
	char *s;

	tdest_new(&a);
	tdest_new(&b);
	s = signed_line(&a, "a.i2p", a.b64, "");
	T_OK(t, hosts_line_parse(s, strlen(s), &l));
	T_OK(t, hosts_line_verify(&l));
	/* a line signed by another key than its Destination's */
	free(s);
	s = signed_line(&b, "a.i2p", a.b64, "");
	T_OK(t, hosts_line_parse(s, strlen(s), &l));
	T_ERR(t, hosts_line_verify(&l), ERR_BAD_SIG);
	/* one byte changed after signing */
	free(s);
	s = signed_line(&a, "a.i2p", a.b64, "date=1");
	s[strlen("a.i2p=") + strlen(a.b64) + 2 + 5] = '2';
	T_OK(t, hosts_line_parse(s, strlen(s), &l));
	T_ERR(t, hosts_line_verify(&l), ERR_BAD_SIG);
	free(s);
	/* no sig */
	T_OK(t, hosts_line_parse("a.i2p=AAAA#!date=1", 18, &l));
	T_ERR(t, hosts_line_verify(&l), ERR_NOT_FOUND);
	/* garbage destination and signature */
	T_OK(t, hosts_line_parse("a.i2p=AAAA#!sig=AAAA", 20, &l));
	T_ERR(t, hosts_line_verify(&l), ERR_FORMAT);
	tdest_free(&a);
	tdest_free(&b);
}

static void test_book(struct tctx *t)
{
	struct addrbook *ab = addrbook_new();
	struct tdest a, b;
	struct keys_and_cert *k = xmalloc(sizeof(*k));
	char name[32];

	tdest_new(&a);
	tdest_new(&b);
	T_OK(t, addrbook_add(ab, "a.i2p", &a.k.dest, false));
	T_OK(t, addrbook_add(ab, "a.i2p", &a.k.dest, false));
	T_ERR(t, addrbook_add(ab, "a.i2p", &b.k.dest, false), ERR_EXISTS);
	T_ERR(t, addrbook_add(ab, "A.i2p", &b.k.dest, false), ERR_FORMAT);
	T_OK(t, addrbook_lookup(ab, "a.i2p", k));
	T_MEMEQ(t, k->hash, a.k.dest.hash, 32);
	T_OK(t, addrbook_add(ab, "a.i2p", &b.k.dest, true));
	T_OK(t, addrbook_lookup(ab, "a.i2p", k));
	T_MEMEQ(t, k->hash, b.k.dest.hash, 32);
	T_ERR(t, addrbook_lookup(ab, "b.i2p", k), ERR_NOT_FOUND);
	/* many names: the table grows and finds each */
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "n%d.i2p", i);
		T_OK(t, addrbook_add(ab, name, (i & 1) ? &a.k.dest :
							 &b.k.dest, false));
	}
	T_EQ(t, addrbook_count(ab), 2001);
	for (int i = 0; i < 2000; i += 7) {
		snprintf(name, sizeof(name), "n%d.i2p", i);
		T_OK(t, addrbook_lookup(ab, name, k));
		T_MEMEQ(t, k->hash, (i & 1) ? a.k.dest.hash : b.k.dest.hash,
			32);
	}
	free(k);
	addrbook_free(ab);
	tdest_free(&a);
	tdest_free(&b);
}

static void test_merge(struct tctx *t)
{
	struct addrbook *ab = addrbook_new();
	struct keys_and_cert *k = xmalloc(sizeof(*k));
	struct addrbook_merge_stats st;
	struct tdest a, b, c;
	struct bbuf txt = BBUF_INIT;
	char *l1, *l2, *l3, *forged, *rm, opts[2048];

	tdest_new(&a);
	tdest_new(&b);
	tdest_new(&c);
	l1 = signed_line(&a, "signed.i2p", a.b64, "");
	forged = signed_line(&b, "forged.i2p", a.b64, "");
	/* changedest: inner oldsig by the old dest (a), outer sig by b */
	{
		struct bbuf in = BBUF_INIT;
		char *inner;

		bbuf_put(&in, "signed.i2p=", 11);
		bbuf_put(&in, b.b64, strlen(b.b64));
		bbuf_put(&in, "#!action=changedest#olddest=", 28);
		bbuf_put(&in, a.b64, strlen(a.b64));
		inner = sign_b64(&a, in.data, in.len);
		snprintf(opts, sizeof(opts), "action=changedest#olddest=%s"
			 "#oldsig=%s", a.b64, inner);
		free(inner);
		bbuf_free(&in);
	}
	l2 = signed_line(&b, "signed.i2p", b.b64, opts);
	snprintf(opts, sizeof(opts), "action=remove#dest=%s#name=plain.i2p",
		 c.b64);
	rm = signed_line(&c, NULL, NULL, opts);
	l3 = NULL;
#define ADD(s) do { bbuf_put(&txt, (s), strlen(s)); bbuf_u8(&txt, '\n'); } \
	while (0)
	ADD("# a comment");
	ADD("plain.i2p=");
	txt.len--;
	ADD(c.b64);
	ADD(l1);
	ADD(forged);
	ADD("bad line");
	ADD("other.i2p=AAAA");
	ADD("plain.i2p=");	/* (empty: bad) */
	addrbook_merge(ab, (const char *)txt.data, txt.len, &st);
	T_EQ(t, st.added, 2);
	T_EQ(t, st.bad_sig, 1);
	T_EQ(t, st.bad, 3);
	T_OK(t, addrbook_lookup(ab, "signed.i2p", k));
	T_MEMEQ(t, k->hash, a.k.dest.hash, 32);
	T_ERR(t, addrbook_lookup(ab, "forged.i2p", k), ERR_NOT_FOUND);
	/* a plain line never replaces; a verified changedest does */
	bbuf_reset(&txt);
	bbuf_put(&txt, "signed.i2p=", 11);
	ADD(c.b64);
	ADD(l2);
	ADD(rm);
	addrbook_merge(ab, (const char *)txt.data, txt.len, &st);
	T_EQ(t, st.known, 1);
	T_EQ(t, st.replaced, 1);
	T_EQ(t, st.added, 0);
	T_EQ(t, st.removed, 1);
	T_OK(t, addrbook_lookup(ab, "signed.i2p", k));
	T_MEMEQ(t, k->hash, b.k.dest.hash, 32);
	T_ERR(t, addrbook_lookup(ab, "plain.i2p", k), ERR_NOT_FOUND);
	/* a file */
	{
		char path[] = "/tmp/bits-hosts-XXXXXX";
		int fd = mkstemp(path);

		T_TRUE(t, fd >= 0);
		T_EQ(t, write(fd, l1, strlen(l1)), (ssize_t)strlen(l1));
		close(fd);
		addrbook_free(ab);
		ab = addrbook_new();
		T_OK(t, addrbook_load_file(ab, path, &st));
		T_EQ(t, st.added, 1);
		unlink(path);
		T_ERR(t, addrbook_load_file(ab, path, &st), ERR_IO);
	}
#undef ADD
	free(l1);
	free(l2);
	free(l3);
	free(forged);
	free(rm);
	free(k);
	bbuf_free(&txt);
	addrbook_free(ab);
	tdest_free(&a);
	tdest_free(&b);
	tdest_free(&c);
}

const struct test_case proxy_addrbook_tests[] = {
	{ "names", test_names, 0 },
	{ "lines", test_lines, 0 },
	{ "signed_bytes", test_signed_bytes, 0 },
	{ "verify", test_verify, 0 },
	{ "book", test_book, 0 },
	{ "merge", test_merge, 0 },
	{ NULL, NULL, 0 }
};
