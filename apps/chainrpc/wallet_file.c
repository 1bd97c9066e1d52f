/*
 * Wallet file I/O (see wallet_file.h) over router/fsutil's bounded reads
 * and atomic writes.
 */
#include "config.h"
#include "apps/chainrpc/wallet_file.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"

#include <string.h>
#include <sys/stat.h>

int wallet_file_write(const char *path, const struct wallet_keys *k,
		      const char *pass, const struct wallet_kdf *kdf,
		      bool replace)
{
	struct bbuf b = BBUF_INIT;
	int r;

	if ((r = wallet_seal(k, pass, strlen(pass), kdf, &b)) == 0)
		r = fsutil_write_atomic(path, b.data, b.len, 0600, replace);
	bbuf_free(&b);
	return r;
}

int wallet_file_read(const char *path, const char *pass,
		     struct wallet_keys **out)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (stat(path, &st) != 0)
		return ERR_NOT_FOUND;
	if (st.st_mode & 077)
		return ERR_BAD_STATE;
	if ((r = fsutil_read_file(path, WALLET_FILE_BYTES + 1, &buf, &len)) != 0)
		return r == ERR_TOO_BIG ? ERR_FORMAT : r;
	r = wallet_open(buf, len, pass, strlen(pass), out);
	xfree_wipe(buf, len);
	return r;
}
