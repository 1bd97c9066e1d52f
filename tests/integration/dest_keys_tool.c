/*
 * Test helper for test_dest_keys_i2pd.sh (router/dest_keys, router/b33):
 *   dest_keys_tool parse PRIV     SAM private key → pub=, b32=, b33=,
 *                                 enc=, sig=, priv= (re-encoded); exits 1
 *                                 when it does not parse or check
 *   dest_keys_tool generate       new Ed25519 + X25519 keys, same lines
 */
#include "config.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/init.h"
#include "router/b33.h"
#include "router/dest_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int show(const struct dest_keys *k)
{
	struct b33_addr a = { .blinded_sig_type = 11 };
	char b32[DEST_B32_CHARS + 1], b33[B33_MAX_CHARS];
	char *pub = dest_b64_format(&k->dest), *priv = dest_keys_format(k);
	int r;

	dest_b32_format(&k->dest, b32);
	a.sig_type = k->dest.sig_type;
	memcpy(a.pk, k->dest.sig_key, sizeof(a.pk));
	if ((r = b33_format(&a, b33, sizeof(b33))) != 0)
		memcpy(b33, "-", 2);
	printf("pub=%s\nb32=%s\nb33=%s\nenc=%u\nsig=%u\nenc_in_dest=%d\npriv=%s\n",
	       pub, b32, b33, k->dest.enc_type, k->dest.sig_type,
	       dest_keys_enc_key_in_dest(k), priv);
	free(pub);
	xfree_wipe(priv, strlen(priv) + 1);
	return 0;
}

int main(int argc, char **argv)
{
	struct dest_keys k;
	int r;

	crypto_init();
	if (argc == 2 && strcmp(argv[1], "generate") == 0) {
		dest_keys_generate(&k);
	} else if (argc == 3 && strcmp(argv[1], "parse") == 0) {
		if ((r = dest_keys_parse(argv[2], strlen(argv[2]), &k)) != 0 ||
		    (r = dest_keys_check(&k)) != 0) {
			fprintf(stderr, "dest_keys_tool: %s\n", err_str(r));
			return 1;
		}
	} else {
		fprintf(stderr, "usage: dest_keys_tool parse PRIV | generate\n");
		return 2;
	}
	show(&k);
	dest_keys_wipe(&k);
	return 0;
}
