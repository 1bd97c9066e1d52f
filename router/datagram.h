/*
 * Client payloads and datagrams (datagrams spec; i2cp spec "gzip header";
 * PROTOCOLS.md 2.14).
 *
 * Every destination-to-destination payload is a gzip member whose header
 * carries the ports and protocol: bytes 4-5 source port, 6-7 destination
 * port (big-endian, in the MTIME field), byte 8 = 2 (XFL, as Java writes
 * it), byte 9 = protocol (the OS field): 6 streaming, 17 repliable
 * datagram, 18 raw datagram.
 *
 * Repliable datagram (17): sender Destination ‖ signature ‖ payload, the
 * signature over the payload (for DSA-SHA1 senders over its SHA-256, which
 * we do not verify).  Raw datagram (18): the payload alone.
 *
 * Pure functions, thread-safe.
 */
#ifndef ROUTER_DATAGRAM_H
#define ROUTER_DATAGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"
#include "crypto/ed25519.h"
#include "router/keys_and_cert.h"

#define DATAGRAM_PROTO_STREAMING 6
#define DATAGRAM_PROTO_REPLIABLE 17
#define DATAGRAM_PROTO_RAW 18
/* "i2pd max 32 KB" for a datagram payload */
#define DATAGRAM_MAX_PAYLOAD_BYTES 32768
/* A client payload never inflates past an I2NP message. */
#define CLIENT_PAYLOAD_MAX_BYTES 65536
#define CLIENT_PAYLOAD_HEADER_BYTES 10

struct client_payload_hdr {
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t proto;
};

/*
 * Append the gzip member of len bytes of data (stored, uncompressed) with
 * h's ports and protocol in its header to out.  ERR_TOO_BIG over CLIENT_PAYLOAD_MAX_BYTES.
 */
int client_payload_encode(const void *data, size_t len,
			  const struct client_payload_hdr *h, struct bbuf *out);
/*
 * Read a client payload (untrusted): h gets the header fields and out
 * (outmax bytes) the inflated data, *outlen its size.  Errors:
 * ERR_TRUNCATED, ERR_FORMAT (not gzip, bad deflate or CRC), ERR_TOO_BIG
 * (inflates past outmax).
 */
int client_payload_decode(const uint8_t *in, size_t len,
			  struct client_payload_hdr *h, uint8_t *out,
			  size_t outmax, size_t *outlen);

/*
 * Append a repliable datagram from our Destination `from` (Ed25519, sk its
 * signing seed) carrying payload.  ERR_TOO_BIG over
 * DATAGRAM_MAX_PAYLOAD_BYTES; ERR_UNSUPPORTED when from is not Ed25519.
 */
int datagram_repliable_encode(const struct keys_and_cert *from,
			      const struct ed25519_seed *sk,
			      const void *payload, size_t len,
			      struct bbuf *out);
/*
 * Read a repliable datagram (untrusted) and check its signature: from gets
 * the sender, *payload points into in.  Errors: ERR_TRUNCATED, ERR_FORMAT,
 * ERR_TOO_BIG, ERR_UNSUPPORTED (a signature type we cannot check),
 * ERR_BAD_SIG.
 */
int datagram_repliable_decode(const uint8_t *in, size_t len,
			      struct keys_and_cert *from,
			      const uint8_t **payload, size_t *plen);

#endif /* ROUTER_DATAGRAM_H */
