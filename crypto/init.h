/*
 * Library start-up for crypto/.  crypto_init() initialises libsodium; it is
 * idempotent and thread-safe, and every crypto/ entry point that needs it
 * calls it itself, so calling it early (from main()) is only a way to fail
 * fast.
 */
#ifndef CRYPTO_INIT_H
#define CRYPTO_INIT_H

/* Initialise libsodium once; aborts if the library cannot start (no
 * entropy source).  Safe to call any number of times from any thread. */
void crypto_init(void);

#endif /* CRYPTO_INIT_H */
