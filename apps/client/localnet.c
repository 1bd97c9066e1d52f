/*
 * The in-process network of local destinations (see localnet.h).
 */
#include "config.h"
#include "apps/client/localnet.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "router/datagram.h"
#include "router/evloop.h"

#define LOCALNET_BATCH 512	/* payloads per loop pass */

struct ln_node {
	struct ln_node *next;
	struct keys_and_cert dest;
	struct client_rx rx;
};

struct ln_msg {
	struct ln_msg *next;
	uint8_t to[32];
	uint8_t proto;
	uint16_t src_port, dst_port;
	size_t len;
	uint8_t data[];
};

struct localnet {
	struct evloop *el;
	struct evloop_timer *timer;
	struct ln_node *nodes;
	struct ln_msg *head, **tail;
};

static struct ln_node *find(struct localnet *ln, const uint8_t hash[32])
{
	for (struct ln_node *n = ln->nodes; n; n = n->next)
		if (memcmp(n->dest.hash, hash, 32) == 0)
			return n;
	return NULL;
}

static void deliver(void *arg)
{
	struct localnet *ln = arg;

	for (unsigned i = 0; i < LOCALNET_BATCH && ln->head; i++) {
		struct ln_msg *m = ln->head;
		struct ln_node *n;

		ln->head = m->next;
		if (!ln->head)
			ln->tail = &ln->head;
		/* Looked up again: it may have gone since the send. */
		if ((n = find(ln, m->to)) != NULL) {
			if (m->proto == DATAGRAM_PROTO_STREAMING && n->rx.mgr)
				stream_mgr_receive(n->rx.mgr, m->data, m->len,
						   m->src_port, m->dst_port);
			else if (m->proto != DATAGRAM_PROTO_STREAMING &&
				 n->rx.datagram)
				n->rx.datagram(n->rx.ctx, m->proto,
					       m->src_port, m->dst_port,
					       m->data, m->len);
		}
		xfree_wipe(m, sizeof(*m) + m->len);
	}
	if (ln->head)
		evloop_timer_arm(ln->timer, 0);
}

struct localnet *localnet_new(struct evloop *el)
{
	struct localnet *ln = xzalloc(sizeof(*ln));

	ln->el = el;
	ln->timer = evloop_timer_new(el, deliver, ln);
	ln->tail = &ln->head;
	return ln;
}

void localnet_free(struct localnet *ln)
{
	if (!ln)
		return;
	while (ln->head) {
		struct ln_msg *m = ln->head;

		ln->head = m->next;
		xfree_wipe(m, sizeof(*m) + m->len);
	}
	while (ln->nodes) {
		struct ln_node *n = ln->nodes;

		ln->nodes = n->next;
		free(n);
	}
	evloop_timer_free(ln->timer);
	free(ln);
}

int localnet_attach(struct localnet *ln, const struct keys_and_cert *dest,
		    const struct client_rx *rx)
{
	struct ln_node *n;

	if (find(ln, dest->hash))
		return ERR_EXISTS;
	n = xzalloc(sizeof(*n));
	n->dest = *dest;
	n->rx = *rx;
	n->next = ln->nodes;
	ln->nodes = n;
	return 0;
}

void localnet_detach(struct localnet *ln, const uint8_t hash[32])
{
	for (struct ln_node **pp = &ln->nodes; *pp; pp = &(*pp)->next)
		if (memcmp((*pp)->dest.hash, hash, 32) == 0) {
			struct ln_node *n = *pp;

			*pp = n->next;
			free(n);
			return;
		}
}

const struct keys_and_cert *localnet_lookup(struct localnet *ln,
					    const uint8_t hash[32])
{
	struct ln_node *n = find(ln, hash);

	return n ? &n->dest : NULL;
}

int localnet_send(struct localnet *ln, const struct keys_and_cert *to,
		  uint8_t proto, uint16_t src_port, uint16_t dst_port,
		  const uint8_t *data, size_t len)
{
	struct ln_msg *m;

	if (len > CLIENT_PAYLOAD_MAX_BYTES)
		return ERR_TOO_BIG;
	if (!find(ln, to->hash))
		return ERR_NETWORK;	/* nobody here serves it */
	m = xmalloc(sizeof(*m) + len);
	m->next = NULL;
	memcpy(m->to, to->hash, 32);
	m->proto = proto;
	m->src_port = src_port;
	m->dst_port = dst_port;
	m->len = len;
	if (len)
		memcpy(m->data, data, len);
	*ln->tail = m;
	ln->tail = &m->next;
	if (!evloop_timer_is_armed(ln->timer))
		evloop_timer_arm(ln->timer, 0);
	return 0;
}

static int sink_send(void *ctx, const struct keys_and_cert *to,
		     uint16_t src_port, uint16_t dst_port, const uint8_t *pkt,
		     size_t len)
{
	return localnet_send(ctx, to, DATAGRAM_PROTO_STREAMING, src_port,
			     dst_port, pkt, len);
}

struct stream_sink localnet_stream_sink(struct localnet *ln)
{
	return (struct stream_sink){ sink_send, ln };
}

static int net_attach(void *ctx, const struct client_dest *d,
		      const struct client_rx *rx)
{
	return localnet_attach(ctx, client_dest_pub(d), rx);
}

static void net_detach(void *ctx, const struct client_dest *d)
{
	localnet_detach(ctx, client_dest_pub(d)->hash);
}

static int net_send(void *ctx, const struct client_dest *from,
		    const struct keys_and_cert *to, uint8_t proto,
		    uint16_t src_port, uint16_t dst_port, const uint8_t *data,
		    size_t len)
{
	(void)from;
	return localnet_send(ctx, to, proto, src_port, dst_port, data, len);
}

static int net_lookup(void *ctx, const uint8_t hash[32],
		      struct keys_and_cert *out)
{
	const struct keys_and_cert *k = localnet_lookup(ctx, hash);

	if (!k)
		return ERR_NOT_FOUND;
	*out = *k;
	return 0;
}

struct client_net localnet_client_net(struct localnet *ln)
{
	return (struct client_net){ .attach = net_attach,
				    .detach = net_detach, .send = net_send,
				    .lookup = net_lookup, .ctx = ln };
}
