/*
 * apps/proxy/siteauth: the proxy.site-keys file.  Sites with a key, a
 * secret (spaces kept, to the end of the line) or both; comments, blank
 * lines, CR LF and no newline at the end; each bad line refused with its
 * number and why; the callback's error ends the walk.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "apps/proxy/siteauth.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/rand.h"
#include "tests/unit/tharness.h"

struct seen {
	struct proxy_site_auth a[4];
	unsigned n;
	int fail_at;		/* the callback fails on this site (1-based) */
};

static int collect(void *ctx, const struct proxy_site_auth *a)
{
	struct seen *s = ctx;

	if (s->n + 1 == (unsigned)s->fail_at)
		return ERR_EXISTS;
	if (s->n < 4)
		s->a[s->n] = *a;
	s->n++;
	return 0;
}

static void addr(uint8_t tag, char *out, struct b33_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->sig_type = 7;
	a->blinded_sig_type = 11;
	memset(a->pk, tag, sizeof(a->pk));
	(void)b33_format(a, out, B33_MAX_CHARS + 1);
}

static int parse(const char *text, struct seen *s, unsigned *line,
		 const char **why)
{
	return proxy_site_auth_parse(text, strlen(text), collect, s, line,
				     why);
}

static void test_siteauth(struct tctx *t)
{
	char a1[B33_MAX_CHARS + 1], a2[B33_MAX_CHARS + 1], a3[B33_MAX_CHARS + 1];
	char text[2048], k64[64];
	struct b33_addr b1, b2, b3;
	uint8_t key[32];
	struct seen s = { .n = 0 };
	const char *why;
	unsigned line;
	size_t n;

	addr(1, a1, &b1);
	addr(2, a2, &b2);
	addr(3, a3, &b3);
	rand_bytes(key, sizeof(key));
	T_OK(t, b64_encode(k64, sizeof(k64), key, sizeof(key)));
	/* the ".b32.i2p" left off the third */
	n = strlen(a3) - strlen(".b32.i2p");
	a3[n] = 0;
	snprintf(text, sizeof(text),
		 "# sites\r\n\n  %s key:%s\r\n%s secret:open sesame  \r\n"
		 "\t%s key:%s secret:x y", a1, k64, a2, a3, k64);
	T_OK(t, parse(text, &s, &line, &why));
	T_EQ(t, s.n, 3);
	T_EQ(t, line, 5);
	T_MEMEQ(t, s.a[0].addr.pk, b1.pk, B33_PUBKEY_BYTES);
	T_TRUE(t, s.a[0].has_key && s.a[0].secret_len == 0);
	T_MEMEQ(t, s.a[0].key, key, 32);
	T_MEMEQ(t, s.a[1].addr.pk, b2.pk, B33_PUBKEY_BYTES);
	T_TRUE(t, !s.a[1].has_key);
	T_EQ(t, s.a[1].secret_len, 11);	/* trailing blanks and CR gone */
	T_MEMEQ(t, s.a[1].secret, "open sesame", 11);
	T_MEMEQ(t, s.a[2].addr.pk, b3.pk, B33_PUBKEY_BYTES);
	T_TRUE(t, s.a[2].has_key);
	T_EQ(t, s.a[2].secret_len, 3);
	T_MEMEQ(t, s.a[2].secret, "x y", 3);

	/* empty: nothing */
	s.n = 0;
	T_OK(t, parse("", &s, &line, &why));
	T_EQ(t, s.n, 0);

	/* each bad line: its number and why; what came before was given */
	{
		static const char *const whys[] = {
			"a key: or a secret: is needed", "key: given twice",
			"key: 32 bytes", "secret: 1 to 256 bytes",
			"neither key:B64 nor secret:TEXT", "not a b33 address",
		};
		char lines[6][256];

		snprintf(lines[0], sizeof(lines[0]), "%s\n", a1);
		snprintf(lines[1], sizeof(lines[1]), "%s key:%s key:%s\n", a1,
			 k64, k64);
		snprintf(lines[2], sizeof(lines[2]), "%s key:AAAA\n", a1);
		snprintf(lines[3], sizeof(lines[3]), "%s secret:\n", a1);
		snprintf(lines[4], sizeof(lines[4]), "%s psk:%s\n", a1, k64);
		snprintf(lines[5], sizeof(lines[5]), "nota.b33.i2p key:%s\n",
			 k64);
		for (size_t i = 0; i < 6; i++) {
			snprintf(text, sizeof(text), "# c\n%s secret:s\n%s", a2,
				 lines[i]);
			s.n = 0;
			T_ERR(t, parse(text, &s, &line, &why), ERR_FORMAT);
			T_EQ(t, line, 3);
			T_EQ(t, s.n, 1);
			T_TRUE(t, why && strncmp(why, whys[i],
						 strlen(whys[i])) == 0);
		}
	}
	/* a secret longer than 256 bytes */
	n = (size_t)snprintf(text, sizeof(text), "%s secret:", a1);
	memset(text + n, 'z', 257);
	text[n + 257] = 0;
	T_ERR(t, parse(text, &s, &line, &why), ERR_FORMAT);
	/* the callback's error stops the walk, on its line */
	snprintf(text, sizeof(text), "%s secret:a\n%s secret:b\n%s secret:c\n",
		 a1, a2, a1);
	s = (struct seen){ .fail_at = 3 };
	T_ERR(t, parse(text, &s, &line, &why), ERR_EXISTS);
	T_EQ(t, line, 3);
	T_TRUE(t, why == NULL);
}

const struct test_case proxy_siteauth_tests[] = {
	{ "parse", test_siteauth, 0 },
	{ NULL, NULL, 0 }
};
