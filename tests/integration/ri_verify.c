/*
 * ri_verify FILE...: decode and verify each RouterInfo file (i2pd's
 * format) with our router/ code; print "ok HASH FILE" (HASH in I2P Base64)
 * or "FAIL error FILE".  Exit 1 if any file fails.  Used by the i2pd
 * interop tests.
 */
#include "config.h"
#include "router/router_info.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/init.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	int bad = 0;

	crypto_init();
	for (int i = 1; i < argc; i++) {
		struct router_info *ri = NULL;
		char b64[B64_ENC_LEN(32)];
		int r;

		if ((r = router_info_file_read(argv[i], &ri)) == 0)
			r = router_info_verify(ri);
		if (r == 0)
			r = b64_encode(b64, sizeof(b64), router_info_hash(ri), 32);
		if (r == 0) {
			printf("ok %s %s\n", b64, argv[i]);
		} else {
			printf("FAIL %s %s\n", err_str(r), argv[i]);
			bad = 1;
		}
		router_info_free(ri);
	}
	return bad;
}
