/*
 * apps/client/dest: private key blobs in and out, the checks on them, and
 * signing through the signer hook.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apps/client/dest.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/ed25519.h"
#include "tests/unit/tharness.h"

static void test_round_trip_and_sign(struct tctx *t)
{
	struct client_dest *d = client_dest_new_random(), *e = NULL;
	struct bbuf b = BBUF_INIT;
	struct stream_signer sg;
	struct ed25519_pk pk;
	struct ed25519_sig sig;

	client_dest_encode_private(d, &b);
	T_EQ(t, b.len, 391 + 32 + 32);
	T_OK(t, client_dest_decode(b.data, b.len, &e));
	if (e)
		T_MEMEQ(t, client_dest_pub(e)->hash, client_dest_pub(d)->hash,
			32);
	client_dest_signer(d, &sg);
	T_EQ(t, sg.sig_len, 64);
	sg.sign(sg.ctx, (const uint8_t *)"msg", 3, sig.b);
	T_OK(t, keys_and_cert_ed25519_pk(client_dest_pub(d), &pk));
	T_TRUE(t, ed25519_verify(&sig, &pk, "msg", 3));
	/* Truncated, trailing bytes, a signing key of someone else. */
	T_ERR(t, client_dest_decode(b.data, b.len - 1, &e), ERR_TRUNCATED);
	bbuf_u8(&b, 0);
	T_ERR(t, client_dest_decode(b.data, b.len, &e), ERR_FORMAT);
	b.len--;
	b.data[b.len - 1] ^= 1;
	T_ERR(t, client_dest_decode(b.data, b.len, &e), ERR_FORMAT);
	bbuf_free(&b);
	client_dest_free(e);
	client_dest_free(d);
}

/* client_dest_load_or_create(): a new key written 0600, the same
 * destination read back, a file that is not a key refused. */
static void test_load_or_create(struct tctx *t)
{
	char *dir = t_tmpdir(t);
	char *path = fsutil_path_join(dir, "d.dat");
	char *junk = fsutil_path_join(dir, "junk.dat");
	struct client_dest *a = NULL, *b = NULL, *c = NULL;
	struct stat st;

	T_OK(t, client_dest_load_or_create(path, &a));
	T_OK(t, stat(path, &st));
	T_EQ(t, st.st_mode & 0777, 0600);
	T_OK(t, client_dest_load_or_create(path, &b));
	T_MEMEQ(t, client_dest_pub(a)->hash, client_dest_pub(b)->hash, 32);
	T_OK(t, fsutil_write_atomic(junk, "not a key", 9, 0600, false));
	T_TRUE(t, client_dest_load_or_create(junk, &c) != 0);
	T_TRUE(t, c == NULL);
	client_dest_free(a);
	client_dest_free(b);
	free(junk);
	free(path);
	t_rmtree(dir);
	free(dir);
}

const struct test_case client_dest_tests[] = {
	{ "round_trip_and_sign", test_round_trip_and_sign, 0 },
	{ "load_or_create", test_load_or_create, 0 },
	{ NULL, NULL, 0 }
};
