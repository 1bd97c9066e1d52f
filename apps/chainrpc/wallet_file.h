/*
 * The wallet file (chain/wallet.h format) on disk: written crash-safely
 * with mode 0600, read with a size bound; a file that others can read is
 * refused rather than used.
 */
#ifndef APPS_CHAINRPC_WALLET_FILE_H
#define APPS_CHAINRPC_WALLET_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "chain/wallet.h"

/* Seal k under pass and write it to path (0600).  replace false: an
 * existing file is kept (ERR_EXISTS). */
int wallet_file_write(const char *path, const struct wallet_keys *k,
		      const char *pass, const struct wallet_kdf *kdf,
		      bool replace);
/*
 * Read and open the wallet at path.  ERR_NOT_FOUND, ERR_BAD_STATE (group
 * or others may read it), ERR_AUTH (wrong passphrase) and the rest of
 * wallet_open()'s errors.
 */
int wallet_file_read(const char *path, const char *pass,
		     struct wallet_keys **out);

#endif /* APPS_CHAINRPC_WALLET_FILE_H */
