/*
 * `bits get` (apps/bits_get.c): fetch a content through the local
 * bitsd's swarm with a progress bar and per-peer stats.
 */
#ifndef APPS_BITS_GET_H
#define APPS_BITS_GET_H

/* argv[0] is "get".  Exit status: 0 ok, 1 failed, 2 usage. */
int bits_get_main(int argc, char **argv);

#endif /* APPS_BITS_GET_H */
