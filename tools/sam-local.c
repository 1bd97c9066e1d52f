/*
 * sam-local: the SAM v3 bridge of apps/sam over the in-process network of
 * apps/client/localnet, with no router behind it: every session's
 * destination reaches the other sessions of this process only.  For
 * exercising SAM clients (tools such as sam-bench.py) against our
 * streaming code without tunnels.
 *
 *   sam-local [--host 127.0.0.1] [--port 7656] [--udp-port 7655]
 *
 * (--udp-port 0: none.)  Prints "sam-local: listening on HOST:PORT" and
 * runs until SIGINT or SIGTERM.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "apps/client/localnet.h"
#include "apps/sam/sam.h"
#include "crypto/init.h"
#include "router/evloop.h"

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	evloop_break(arg);
}

int main(int argc, char **argv)
{
	struct sam_server_cfg cfg;
	struct evloop *el;
	struct localnet *net;
	struct sam_server *srv;
	struct client_net cn;
	struct event *sigint, *sigterm;

	sam_server_cfg_default(&cfg);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--host") && i + 1 < argc) {
			cfg.host = argv[++i];
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			cfg.port = (uint16_t)strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--udp-port") && i + 1 < argc) {
			cfg.udp_port = (uint16_t)strtoul(argv[++i], NULL, 10);
			cfg.udp = cfg.udp_port != 0;
		} else {
			fprintf(stderr, "usage: sam-local [--host H] "
				"[--port P] [--udp-port U]\n");
			return 2;
		}
	}
	crypto_init();
	signal(SIGPIPE, SIG_IGN);
	el = evloop_new();
	net = localnet_new(el);
	cn = localnet_client_net(net);
	if (sam_server_new(el, &cn, &cfg, &srv) != 0) {
		fprintf(stderr, "sam-local: cannot listen on %s:%u\n",
			cfg.host, cfg.port);
		return 1;
	}
	sigint = evsignal_new(evloop_base(el), SIGINT, on_signal, el);
	sigterm = evsignal_new(evloop_base(el), SIGTERM, on_signal, el);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	printf("sam-local: listening on %s:%u\n", cfg.host,
	       sam_server_port(srv));
	fflush(stdout);
	evloop_run(el);
	sam_server_free(srv);
	localnet_free(net);
	event_free(sigint);
	event_free(sigterm);
	evloop_free(el);
	return 0;
}
