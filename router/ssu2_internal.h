/*
 * SSU2 internals for fuzz targets and tests (not for the daemon).
 */
#ifndef ROUTER_SSU2_INTERNAL_H
#define ROUTER_SSU2_INTERNAL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct ssu2;

/*
 * Handle one datagram of len bytes (untrusted) from from, as if it had
 * been read from the socket: the same path (header masks, sessions,
 * handshakes, out-of-session messages), and what it makes us send goes
 * out through the socket before the call returns.  pkt is read only.
 */
void ssu2_input(struct ssu2 *n, const uint8_t *pkt, size_t len,
		const struct sockaddr_in6 *from);

/*
 * Handle plain (a data packet's payload: blocks, untrusted) as if it had
 * come from the router peer on our established session with it, from
 * its address.  The receive window does not count it (the peer's own
 * packets still arrive in order).  ERR_NOT_FOUND: no such session.
 */
int ssu2_input_payload(struct ssu2 *n, const uint8_t peer[32],
		       const uint8_t *plain, size_t plen);

#endif /* ROUTER_SSU2_INTERNAL_H */
