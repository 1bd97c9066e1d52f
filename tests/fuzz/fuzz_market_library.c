/*
 * libFuzzer target: the key library's licence files (apps/market/
 * library.h), read from DATADIR/market-licences when bitsd starts.  The
 * input is one such file, named for the content hash H below.  A file
 * accepted names H, holds a holder key, gives K exactly when it says so,
 * and written back (market_library_store) reads back to the same licence.
 */
#include "config.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/market/library.h"
#include "crypto/base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define H_HEX "00112233445566778899aabbccddeeff" \
	      "00112233445566778899aabbccddeeff"

static char dir[64], sub[96], file[192];

static void cleanup(void)
{
	unlink(file);
	rmdir(sub);
	rmdir(dir);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/fuzz-lib-XXXXXX", tmp ? tmp : "/tmp");
	if (strlen(dir) + 1 >= sizeof(dir) || !mkdtemp(dir))
		abort();
	snprintf(sub, sizeof(sub), "%s/" MARKET_LIBRARY_DIR, dir);
	snprintf(file, sizeof(file), "%s/" H_HEX, sub);
	if (mkdir(sub, 0700) != 0)
		abort();
	atexit(cleanup);
	log_set_level(LOG_NONE);
}

static struct market_library *reopen(void)
{
	struct market_library *lib = NULL;

	if (market_library_open(dir, &lib) != 0 ||
	    market_library_count(lib) > 1)
		abort();
	return lib;
}

static char *dump(const struct market_licence *l)
{
	json_t *o = market_licence_json(l);
	char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;

	json_decref(o);
	if (!s)
		abort();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t h[32] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	};
	struct market_library *lib;
	const struct market_licence *l;
	struct market_licence copy, written;
	struct secp_sk sk;
	uint8_t key[32];
	char *before, *after;
	int fd, rk;

	if (!dir[0])
		setup();
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);

	lib = reopen();
	if (!(l = market_library_at(lib, 0))) {
		market_library_free(lib);
		return 0;
	}
	copy = *l;
	if (memcmp(copy.content_hash, h, 32) != 0 ||
	    market_library_find(lib, h) != l ||
	    market_library_holder_key(lib, h, &sk) != 0)
		abort();
	rk = market_library_content_key(lib, h, key);
	if ((rk == 0) != copy.has_key)
		abort();
	json_decref(market_library_json(lib));

	/* written back with the keys it held, it reads back the same */
	if (market_library_store(lib, &copy, &sk, rk == 0 ? key : NULL,
				 &written) != 0)
		abort();
	market_library_free(lib);
	lib = reopen();
	if (!(l = market_library_at(lib, 0)))
		abort();
	before = dump(&copy);
	after = dump(l);
	if (strcmp(before, after) != 0)
		abort();
	free(before);
	free(after);
	market_library_free(lib);
	return 0;
}
