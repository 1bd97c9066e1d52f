/*
 * A raw NTCP2 client for tests: blocking sockets and the handshake/frame
 * functions, so a test can say exactly what goes on the wire (correct
 * messages, replays, wrong fields, bad frames) to a node or to bitsd.
 * Used by the unit tests (tests/unit/router/test_ntcp2.c) and by the
 * bad-input integration test (tests/integration/test_ntcp2_attack.c).
 * No test-harness dependency.
 */
#ifndef TESTS_UNIT_ROUTER_TEST_NTCP2_CLIENT_H
#define TESTS_UNIT_ROUTER_TEST_NTCP2_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/ntcp2_frame.h"
#include "router/ntcp2_handshake.h"

struct router_info;
struct router_keys;

/* Who we attack: Bob's address and NTCP2 keys. */
struct ntc_target {
	int family;
	char host[64];
	uint16_t port;
	uint8_t rh[32];
	struct x25519_pk s;
	uint8_t iv[16];
	uint8_t netid;
};

/* Fill t from Bob's RouterInfo (its published NTCP2 address). */
int ntc_target_from_ri(struct ntc_target *t, const struct router_info *ri,
		       uint8_t netid);
/* Connect (blocking, 15 s receive timeout); -1 on failure. */
int ntc_connect(const struct ntc_target *t);
bool ntc_send(int fd, const void *p, size_t n);
/* Read exactly n bytes; false on EOF, reset or timeout. */
bool ntc_read(int fd, void *p, size_t n);
/* Wait until the server closes: milliseconds it took, or -1 on timeout;
 * bytes it sent meanwhile are added to *extra (may be NULL). */
int64_t ntc_wait_close(int fd, size_t *extra);
/* A SessionRequest from st to t with this netid and clock (6 bytes of
 * padding), for a message 3 part 2 of m3p2 bytes; hs is left after
 * message 1. */
void ntc_request(const struct ntc_target *t, const struct noise_static *st,
		 struct ntcp2_hs *hs, uint8_t netid, uint32_t ts, size_t m3p2,
		 struct bbuf *out);
/* A throwaway router for netid: fresh keys, a signed RouterInfo (port 9,
 * never dialled) and its NTCP2 static key.  0 or an ERR_*; the caller
 * frees *keys and *ri. */
int ntc_identity(uint8_t netid, struct router_keys **keys,
		 struct router_info **ri, struct noise_static *st);
/* A whole handshake as Alice (static key st, RouterInfo ri); returns the
 * socket and the keys, or -1. */
int ntc_handshake(const struct ntc_target *t, const struct noise_static *st,
		  const uint8_t *ri, size_t ri_len, struct ntcp2_keys *k);
/* Read frames until a Termination: its reason, or -1 (closed, bad frame). */
int ntc_read_termination(int fd, struct ntcp2_dir *rx);

enum ntc_frame_attack {
	NTC_OVERSIZE_I2NP,	/* an I2NP block over the I2NP maximum */
	NTC_OVERSIZE_RI,	/* a RouterInfo block over its maximum */
	NTC_BAD_AEAD,		/* a frame with a flipped ciphertext bit */
	NTC_SHORT_LENGTH,	/* a frame length under 16 */
};
/* The Termination reason the spec (and we) answer attack with. */
int ntc_expected_reason(enum ntc_frame_attack a);
/* Handshake, send the bad frame, return the Termination reason received
 * (-1: none). */
int ntc_frame_attack(const struct ntc_target *t, const struct noise_static *st,
		     const uint8_t *ri, size_t ri_len, enum ntc_frame_attack a);

#endif /* TESTS_UNIT_ROUTER_TEST_NTCP2_CLIENT_H */
