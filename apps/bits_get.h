/*
 * `bits get` (apps/bits_get.c): fetch a content through the local
 * bitsd's swarm with a progress bar and per-peer stats; and the little
 * HTTP client on 127.0.0.1 that `bits buy` (apps/bits_buy.c) shares.
 */
#ifndef APPS_BITS_GET_H
#define APPS_BITS_GET_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/base/encode.h"

/* argv[0] is "get".  Exit status: 0 ok, 1 failed, 2 usage. */
int bits_get_main(int argc, char **argv);

/*
 * One request to 127.0.0.1:port (req: the whole request text, HTTP/1.0);
 * the status in *status and the headers skipped.  The body goes to
 * out_fd when it is not -1, else into *body (at most 1 MiB,
 * NUL-terminated; the caller frees it).  0 or ERR_IO / ERR_FORMAT.
 * Blocking: for commands, not the daemon.
 */
int bits_http_do(uint16_t port, const char *req, int *status, int out_fd,
		 char **body, uint64_t *body_len);
/* A destination or content hash given as 64 hex digits or a b32 address,
 * as lower-case hex. */
bool bits_hash_arg(const char *s, char hex[HEX_ENC_LEN(32)]);

#endif /* APPS_BITS_GET_H */
