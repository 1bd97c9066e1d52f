/*
 * Who signs a card or record.  The private key stays with its holder (a
 * keystore, or a seed the caller keeps in secure memory); the content code
 * only asks it to sign (STYLE.md §6).
 */
#ifndef APPS_CONTENT_SIGNER_H
#define APPS_CONTENT_SIGNER_H

#include <stddef.h>

#include "crypto/ed25519.h"

struct content_signer {
	/* Sign msg; must not fail.  Called on the caller's thread. */
	void (*sign)(void *ctx, struct ed25519_sig *sig, const void *msg,
		     size_t len);
	void *ctx;
	struct ed25519_pk pk;	/* the matching public key */
};

/* A signer over a seed the caller keeps alive (borrowed, not copied). */
void content_signer_from_seed(struct content_signer *s,
			      const struct ed25519_seed *sk);
/*
 * The creator seed at path (32 raw bytes: `creator.key`, shared by the
 * feed, the console and `bits publish`), made and written 0600 when
 * missing.  ERR_FORMAT for a file of another size; fsutil's errors.
 * Blocks on the disk.
 */
int content_creator_seed_load(const char *path, struct ed25519_seed *sk);

#endif /* APPS_CONTENT_SIGNER_H */
