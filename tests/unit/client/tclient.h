/* Helpers shared by the apps/client tests. */
#ifndef TESTS_UNIT_CLIENT_TCLIENT_H
#define TESTS_UNIT_CLIENT_TCLIENT_H

#include <stdint.h>

#include "apps/client/dest.h"

/* A destination whose keys all derive from `n` (same n, same bytes):
 * Ed25519 seed = n repeated, padding pattern = n + 1 repeated, crypto
 * private key zero.  Caller frees. */
struct client_dest *tclient_dest(uint8_t n);

#endif /* TESTS_UNIT_CLIENT_TCLIENT_H */
