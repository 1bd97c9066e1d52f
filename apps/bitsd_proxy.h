/*
 * bitsd's browsing and hosting subsystem (issue [P]): the address book
 * (DATADIR/hosts.txt or proxy.hosts), the HTTP and SOCKS proxies on
 * 127.0.0.1 (with `proxy = true`: ports proxy.http-port, 4444, and
 * proxy.socks-port, 4447), and the client, server and web tunnels of
 * DATADIR/tunnels.conf (or proxy.tunnels; apps/proxy/tunconf.h), over
 * the destinations' network (tunnelnet in bitsd).  Each server's address
 * is written beside its keys as "<keys>.b32".  The address book's
 * subscriptions (proxy.subscriptions) are fetched through the proxies'
 * destination 3 minutes after the start and then every 12 hours.
 * Thread: the loop thread.
 */
#ifndef APPS_BITSD_PROXY_H
#define APPS_BITSD_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "apps/client/net.h"

struct conf;
struct evloop;
struct bitsd_proxy;	/* opaque */

/* True when cfg asks for any of it (the proxies, or a tunnels file). */
bool bitsd_proxy_wanted(const struct conf *cfg);
/*
 * Start everything cfg asks for on net (copied; its context outlives
 * the subsystem).  Errors: ERR_IO (a port taken, a file unreadable),
 * ERR_FORMAT (a bad tunnels.conf, logged with its line).
 */
int bitsd_proxy_start(struct evloop *el, const struct conf *cfg,
		      const struct client_net *net, struct bitsd_proxy **out);
/* Accepts NULL. */
void bitsd_proxy_stop(struct bitsd_proxy *bp);
/* fn once for each hosted site (a server or web tunnel of tunnels.conf
 * that serves), with its name and the bytes it has served so far.
 * Accepts NULL (no site). */
void bitsd_proxy_sites(const struct bitsd_proxy *bp,
		       void (*fn)(void *ctx, const char *name, uint64_t served),
		       void *ctx);

#endif /* APPS_BITSD_PROXY_H */
