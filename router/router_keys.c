/*
 * Router keys on disk (router/router_keys.h).  The keystore keeps the
 * secrets in secure memory; this module only adds the persistent public
 * values, the file wrapper and the load-or-create policy.  Corrupt files
 * are never "repaired": a new file would be a new router identity, which
 * only the operator may decide.
 */
#include "config.h"
#include "router/router_keys.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t keys_magic[8] = { 'B', 'I', 'T', 'S', 'R', 'K', 'E', 'Y' };

struct router_keys {
	struct keystore *ks;
	uint8_t iv[ROUTER_KEYS_IV_BYTES];
	uint8_t pad[ROUTER_KEYS_PAD_BYTES];
};

struct router_keys *router_keys_new_random(void)
{
	struct router_keys *k = xzalloc(sizeof(*k));

	k->ks = keystore_new_random();
	rand_bytes(k->iv, sizeof(k->iv));
	rand_bytes(k->pad, sizeof(k->pad));
	return k;
}

void router_keys_free(struct router_keys *k)
{
	if (!k)
		return;
	keystore_free(k->ks);
	xfree_wipe(k, sizeof(*k));
}

void router_keys_encode(const struct router_keys *k, struct bbuf *out)
{
	struct bbuf ks = BBUF_INIT;
	uint8_t sum[SHA256_BYTES];
	size_t start = out->len;

	keystore_encode(k->ks, &ks);
	bbuf_put(out, keys_magic, sizeof(keys_magic));
	bbuf_be16(out, ROUTER_KEYS_VERSION);
	bbuf_put(out, k->iv, sizeof(k->iv));
	bbuf_put(out, k->pad, sizeof(k->pad));
	bbuf_be16(out, (uint16_t)ks.len);
	bbuf_put(out, ks.data, ks.len);
	sha256(sum, out->data + start, out->len - start);
	bbuf_put(out, sum, sizeof(sum));
	bbuf_free(&ks);
}

int router_keys_decode(const uint8_t *buf, size_t len,
		       struct router_keys **out)
{
	struct router_keys *k = NULL;
	uint8_t sum[SHA256_BYTES];
	const uint8_t *magic, *blob, *want;
	struct breader r;
	uint16_t version, blob_len;
	int rc;

	br_init(&r, buf, len);
	magic = br_take(&r, sizeof(keys_magic));
	version = br_be16(&r);
	if (r.failed)
		return ERR_TRUNCATED;
	if (memcmp(magic, keys_magic, sizeof(keys_magic)) != 0)
		return ERR_FORMAT;
	if (version != ROUTER_KEYS_VERSION)
		return ERR_UNSUPPORTED;
	/* Check the whole file before trusting any length inside it. */
	if (len < sizeof(sum) + 10)
		return ERR_TRUNCATED;
	sha256(sum, buf, len - sizeof(sum));
	if (memcmp(sum, buf + len - sizeof(sum), sizeof(sum)) != 0)
		return ERR_AUTH;
	k = xzalloc(sizeof(*k));
	br_copy(&r, k->iv, sizeof(k->iv));
	br_copy(&r, k->pad, sizeof(k->pad));
	blob_len = br_be16(&r);
	blob = br_take(&r, blob_len);
	want = br_take(&r, sizeof(sum));
	if (r.failed || !want) {
		rc = ERR_TRUNCATED;
		goto out;
	}
	if (!br_done(&r)) {
		rc = ERR_FORMAT;
		goto out;
	}
	if ((rc = keystore_decode(blob, blob_len, &k->ks)) != 0)
		goto out;
	*out = k;
	k = NULL;
out:
	router_keys_free(k);
	return rc;
}

const struct keystore *router_keys_keystore(const struct router_keys *k)
{
	return k->ks;
}

const uint8_t *router_keys_ntcp2_iv(const struct router_keys *k)
{
	return k->iv;
}

void router_keys_identity(const struct router_keys *k,
			  struct keys_and_cert *out)
{
	struct x25519_pk enc;
	struct ed25519_pk sig;

	keystore_x25519_pk(k->ks, KEYSTORE_X_IDENTITY, &enc);
	keystore_sign_pk(k->ks, &sig);
	keys_and_cert_build(out, &enc, &sig, k->pad);
}

/* Why a key file is unusable, for the operator. */
static const char *decode_problem(int r)
{
	switch (r) {
	case ERR_TRUNCATED:
		return "the file is truncated";
	case ERR_FORMAT:
		return "this is not a bits router key file";
	case ERR_UNSUPPORTED:
		return "the file is from a newer version of bitsd";
	case ERR_AUTH:
		return "the file is corrupt (checksum mismatch)";
	default:
		return err_str(r);
	}
}

/* Create path with new keys; ERR_EXISTS if it appeared meanwhile. */
static int create_keys(const char *path, struct router_keys **out)
{
	struct router_keys *k = router_keys_new_random();
	struct bbuf b = BBUF_INIT;
	int r;

	router_keys_encode(k, &b);
	r = fsutil_write_atomic(path, b.data, b.len, 0600, false);
	bbuf_free(&b);
	if (r != 0) {
		if (r != ERR_EXISTS)
			log_err(LD_ROUTER, "cannot write %s: %s", path,
				strerror(errno));
		router_keys_free(k);
		return r;
	}
	log_notice(LD_ROUTER, "created new router keys in %s", path);
	*out = k;
	return 0;
}

/* Log why path cannot be used; the file is left as it is. */
static void report_unusable(const char *path, const char *why)
{
	log_err(LD_ROUTER, "%s: cannot use the router keys: %s. The file was "
		"not modified; restore it from a backup, or move it away to "
		"start as a new router", path, why);
}

static int load_keys(const char *path, struct router_keys **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = fsutil_read_file(path, ROUTER_KEYS_MAX_FILE_BYTES, &buf, &len);
	switch (r) {
	case 0:
		break;
	case ERR_NOT_FOUND:
		return r;
	case ERR_TOO_BIG:
		report_unusable(path, "the file is too large");
		return r;
	case ERR_FORMAT:
		report_unusable(path, "not a regular file");
		return r;
	default:
		log_err(LD_ROUTER, "cannot read %s: %s", path, strerror(errno));
		return r;
	}
	if ((r = fsutil_file_ensure_private(path)) != 0) {
		log_err(LD_ROUTER, "%s: %s", path, r == ERR_BAD_STATE ?
			"owned by another user; refusing to use it" :
			strerror(errno));
		goto out;
	}
	if ((r = router_keys_decode(buf, len, out)) != 0)
		report_unusable(path, len == 0 ? "the file is empty" :
				decode_problem(r));
out:
	xfree_wipe(buf, len);
	return r;
}

int router_keys_load_or_create(const char *datadir, struct router_keys **out,
			       bool *created)
{
	char *path = fsutil_path_join(datadir, ROUTER_KEYS_FILE_NAME);
	struct router_keys *k = NULL;
	bool made = false;
	int r;

	if ((r = fsutil_dir_ensure_private(datadir)) != 0) {
		log_err(LD_ROUTER, "data directory %s: %s", datadir,
			r == ERR_IO ? strerror(errno) :
			r == ERR_BAD_STATE ? "owned by another user" :
			"not a directory");
		goto out;
	}
	r = load_keys(path, &k);
	if (r == ERR_NOT_FOUND) {
		r = create_keys(path, &k);
		made = r == 0;
		if (r == ERR_EXISTS)	/* another process just made it */
			r = load_keys(path, &k);
	}
	if (r != 0)
		goto out;
	*out = k;
	if (created)
		*created = made;
out:
	free(path);
	return r;
}
