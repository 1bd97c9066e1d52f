/*
 * `bits buy` (apps/bits_buy.c): buy a content's licence and its key
 * through the local bitsd's market API.
 */
#ifndef APPS_BITS_BUY_H
#define APPS_BITS_BUY_H

/* argv[0] is "buy".  Exit status: 0 ok, 1 failed, 2 usage. */
int bits_buy_main(int argc, char **argv);
/* argv[0] is "resale": list, cancel, payout. */
int bits_resale_main(int argc, char **argv);

#endif /* APPS_BITS_BUY_H */
