/*
 * The HTTP and SOCKS proxies, client and server tunnels (see proxy.h).
 *
 * One struct pconn per local socket: it reads a SOCKS or HTTP request
 * (socks.h, http.h: pure parsers, fed what has arrived so far, with a
 * deadline for slow clients), resolves the name without the system
 * resolver, opens a stream, and then copies bytes between the socket and
 * the stream with back-pressure both ways (the socket's output stops
 * reading the stream at PROXY_OUT_HIGH_BYTES; a full send buffer stops
 * reading the socket).  Half-closes pass through both ways.
 */
#include "config.h"
#include "apps/proxy/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "apps/client/pump.h"
#include "apps/proxy/addrbook.h"
#include "apps/proxy/http.h"
#include "apps/proxy/socks.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"
#include "router/b33.h"
#include "router/els2.h"
#include "router/evloop.h"

#define PROXY_COPY_BYTES 16384
#define B32_NAME_CHARS 52

struct proxy_dest {
	struct proxy_dest *next;
	struct proxy *p;
	struct client_dest *dest;
	struct stream_signer signer;
	struct client_stream_sink sink;
	struct stream_mgr *mgr;
	/* server tunnel */
	bool serving;
	struct sockaddr_in serve_to;
	uint64_t served;		/* bytes from the service to streams */
	/* per-client encrypted LeaseSets: our key (secret) */
	bool has_els_key;
	uint8_t els_key[32];
	/* b33 addresses that need a lookup secret: ours (secret) */
	uint8_t *els_secret;
	size_t els_secret_len;
	/* single sites' own key or secret (secret) */
	struct proxy_site_auth *sites;
	size_t nsites;
};

struct plistener {
	struct plistener *next;
	struct proxy *p;
	enum proxy_kind kind;
	struct proxy_dest *pd;
	struct evconnlistener *lis;
	char *target;			/* PROXY_CLIENT */
	uint16_t target_port;
};

enum pconn_state {
	PC_SOCKS_GREET,		/* SOCKS: version byte, SOCKS5 greeting */
	PC_SOCKS_REQ,		/* SOCKS5 request */
	PC_HTTP_HEAD,		/* HTTP: request head */
	PC_RESOLVE,		/* waiting for a b32 lookup */
	PC_CONNECT,		/* SYN sent */
	PC_DIAL,		/* server tunnel: dialling the local service */
	PC_OUTPROXY,		/* SOCKS: the outproxy's answer to CONNECT */
	PC_PIPE			/* copying bytes */
};

enum pconn_front { FRONT_HTTP, FRONT_SOCKS4, FRONT_SOCKS5, FRONT_RAW };

struct pconn {
	struct pconn *next;
	struct proxy *p;
	struct proxy_dest *pd;
	struct bufferevent *bev;
	struct stream *stream;
	struct evloop_timer *timer;
	enum pconn_state state;
	enum pconn_front front;
	bool closing, flush_close, in_eof, eof_out, out_shut;
	bool http_connect;		/* HTTP CONNECT: raw after 200 */
	/* HTTP requests: the site's response head is still to come (in
	 * oresp); a HEAD request; the client asked for keep-alive, and it
	 * was granted for this response (the next request follows). */
	bool resp_head, head_req, client_ka, ka;
	bool socks_outproxy;		/* SOCKS to the clearnet: CONNECT first */
	bool inbound;			/* a server tunnel's stream */
	struct bbuf oresp;		/* PC_OUTPROXY: the answer so far */
	/* what goes to the stream first (the rewritten request head) */
	struct bbuf pre;
	size_t pre_off;
	/* socket bytes still to forward (request body); SIZE_MAX: all */
	size_t in_left;
	uint64_t deadline;
	uint8_t hash[32];		/* PC_RESOLVE */
	bool blinded;			/* PC_RESOLVE: b33 (below) */
	struct b33_addr b33;
	uint16_t port;			/* the stream's target port */
	char host[HTTP_HOST_MAX_BYTES + 1];
};

/* One proxy_fetch(): a GET over a stream, the response collected. */
struct pfetch {
	struct pfetch *next;
	struct proxy *p;
	struct proxy_dest *pd;
	struct stream *stream;
	struct evloop_timer *timer;
	proxy_fetch_fn fn;
	void *ctx;
	struct bbuf req, resp;
	size_t max;
	uint64_t deadline;
	uint8_t hash[32];
	struct b33_addr b33;
	uint16_t port;
	bool resolving, blinded, done;
};

/* An address-book subscription, fetched every interval. */
struct psub {
	struct psub *next;
	struct proxy *p;
	struct proxy_dest *pd;
	char *url;
	struct evloop_timer *timer;
	uint32_t interval_ms;
	bool fetching;
	/* the last 200's validators, sent back (conditional GET) */
	char *etag, *last_modified;
};

struct proxy {
	struct evloop *el;
	struct client_net net;
	struct addrbook *ab;
	struct proxy_cfg cfg;
	char *outproxy;
	struct proxy_dest *dests;
	struct plistener *listeners;
	struct pconn *conns;
	unsigned nconns;
	struct pfetch *fetches;
	struct psub *subs;
	struct proxy_stats st;
};

static void conn_close(struct pconn *c);
static void pump_in(struct pconn *c);
static void pump_out(struct pconn *c);
static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

void proxy_cfg_default(struct proxy_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->lookup_timeout_ms = PROXY_LOOKUP_TIMEOUT_MS;
	c->head_timeout_ms = PROXY_HEAD_TIMEOUT_MS;
	c->connect_timeout_ms = PROXY_CONNECT_TIMEOUT_MS;
	c->max_conns = PROXY_MAX_CONNS_DEFAULT;
	stream_config_default(&c->stream);
}

/* ---- connections -------------------------------------------------------- */

static void conn_free(void *arg)
{
	struct pconn *c = arg;

	if (c->bev)
		bufferevent_free(c->bev);
	evloop_timer_free(c->timer);
	bbuf_free(&c->pre);
	bbuf_free(&c->oresp);
	free(c);
}

/* Close c after this loop pass (never inside its own callback). */
static void conn_close(struct pconn *c)
{
	struct proxy *p = c->p;

	if (c->closing)
		return;
	c->closing = true;
	if (c->bev) {
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	}
	evloop_timer_disarm(c->timer);
	if (c->stream) {
		stream_release(c->stream);
		c->stream = NULL;
	}
	for (struct pconn **pp = &p->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	p->nconns--;
	evloop_mark_close(p->el, conn_free, c);
}

/* Close once what is queued for the socket is written. */
static void conn_flush_close(struct pconn *c)
{
	if (c->closing || c->flush_close)
		return;
	c->flush_close = true;
	if (c->stream) {
		stream_reset(c->stream);
		stream_release(c->stream);
		c->stream = NULL;
	}
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_close(c);
	else
		bufferevent_enable(c->bev, EV_WRITE);
}

static void conn_timer_cb(void *arg);
static void http_read(struct pconn *c, struct evbuffer *in);

static struct pconn *conn_new(struct proxy *p, struct proxy_dest *pd,
			      struct bufferevent *bev)
{
	struct pconn *c = xzalloc(sizeof(*c));

	c->p = p;
	c->pd = pd;
	c->bev = bev;
	c->in_left = SIZE_MAX;
	c->timer = evloop_timer_new(p->el, conn_timer_cb, c);
	c->next = p->conns;
	p->conns = c;
	p->nconns++;
	bufferevent_setwatermark(bev, EV_WRITE, PROXY_OUT_HIGH_BYTES / 2, 0);
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	return c;
}

static void put_s(struct bbuf *b, const char *s)
{
	bbuf_put(b, s, strlen(s));
}

static void send_bytes(struct pconn *c, const void *b, size_t n)
{
	evbuffer_add(bufferevent_get_output(c->bev), b, n);
}

/* An HTML error page to an HTTP client, SOCKS reply code otherwise; then
 * close. */
static void conn_fail(struct pconn *c, unsigned status, const char *reason,
		      const char *title, const char *detail,
		      enum socks5_rep rep)
{
	struct bbuf b = BBUF_INIT;

	switch (c->front) {
	case FRONT_HTTP:
		http_error_page(&b, status, reason, title, detail);
		break;
	case FRONT_SOCKS5:
		socks5_reply_encode(&b, rep);
		break;
	case FRONT_SOCKS4:
		socks4_reply_encode(&b, false);
		break;
	case FRONT_RAW:
		break;
	}
	send_bytes(c, b.data, b.len);
	bbuf_free(&b);
	log_info(LD_APP, "proxy: %s", title);
	conn_flush_close(c);
}

/* ---- copying ------------------------------------------------------------ */

static void conn_shut_out(struct pconn *c)
{
	if (c->out_shut || !c->eof_out || c->closing ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		return;
	c->out_shut = true;
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	if (c->in_eof || c->in_left == 0)
		conn_close(c);
}

/* The site has answered and closed, and the client keeps the connection:
 * wait for its next request (it may be here already). */
static void next_request(struct pconn *c)
{
	stream_close(c->stream);
	stream_release(c->stream);
	c->stream = NULL;
	c->p->st.keepalive_reuses++;
	if (c->in_eof)
		return conn_flush_close(c);
	c->state = PC_HTTP_HEAD;
	bbuf_reset(&c->pre);
	c->pre_off = 0;
	c->in_left = SIZE_MAX;
	c->eof_out = c->ka = c->resp_head = c->http_connect = false;
	c->blinded = false;
	evloop_timer_arm(c->timer, c->p->cfg.head_timeout_ms);
	bufferevent_enable(c->bev, EV_READ);
	http_read(c, bufferevent_get_input(c->bev));
}

/* The site's response head, filtered, to the client (1xx heads and the
 * final one).  False while it is incomplete.  An answer that is not
 * HTTP passes as it is, and the connection closes after it. */
static bool resp_head_in(struct pconn *c)
{
	uint8_t buf[4096];
	struct http_resp r;
	struct bbuf b = BBUF_INIT;
	size_t n;
	int e;

	for (;;) {
		while (c->oresp.len < HTTP_HEAD_MAX_BYTES &&
		       (n = stream_read(c->stream, buf, sizeof(buf))) > 0)
			bbuf_put(&c->oresp, buf, n);
		e = c->oresp.len ? http_resp_parse((const char *)c->oresp.data,
						   c->oresp.len, &r) :
				   ERR_TRUNCATED;
		if (e == ERR_TRUNCATED && c->oresp.len < HTTP_HEAD_MAX_BYTES &&
		    !stream_is_eof(c->stream))
			return false;
		if (e != 0) {
			send_bytes(c, c->oresp.data, c->oresp.len);
			break;
		}
		c->ka = http_resp_rewrite((const char *)c->oresp.data, &r,
					  c->head_req, c->client_ka, &b);
		send_bytes(c, b.data, b.len);
		bbuf_reset(&b);
		if (r.status >= 200) {
			send_bytes(c, c->oresp.data + r.head_len,
				   c->oresp.len - r.head_len);
			break;
		}
		/* 1xx: the final head follows */
		memmove(c->oresp.data, c->oresp.data + r.head_len,
			c->oresp.len - r.head_len);
		c->oresp.len -= r.head_len;
	}
	bbuf_free(&b);
	bbuf_free(&c->oresp);
	c->resp_head = false;
	return true;
}

/* Stream -> socket, up to the high-water mark. */
static void pump_out(struct pconn *c)
{
	if (!c->stream || c->closing || c->state != PC_PIPE)
		return;
	if (c->resp_head && !resp_head_in(c))
		return;
	if (client_pump_out(c->stream, bufferevent_get_output(c->bev))) {
		if (c->ka)
			return next_request(c);
		c->eof_out = true;
		conn_shut_out(c);
	}
}

/* What waits in c->pre, then the socket, into the stream. */
static void pump_in(struct pconn *c)
{
	struct evbuffer *in;
	bool full;
	size_t n;

	if (c->closing || c->state != PC_PIPE)
		return;
	if (!c->stream || c->flush_close) {
		/* no stream to take it: never read into memory */
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	while (c->pre_off < c->pre.len) {
		n = stream_write(c->stream, c->pre.data + c->pre_off,
				 c->pre.len - c->pre_off);
		if (n == 0) {
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		c->pre_off += n;
	}
	in = bufferevent_get_input(c->bev);
	n = client_pump_in(c->stream, in, c->in_left, &full);
	if (c->inbound)
		c->pd->served += n;
	if (c->in_left != SIZE_MAX)
		c->in_left -= n;
	if (full) {
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	if (c->in_left == 0) {
		/* A proxied HTTP request ends with its body: the site
		 * answers and closes ("Connection: close").  Later bytes
		 * from the client are never forwarded to it: with
		 * keep-alive they are the next request, read (and filtered)
		 * when this one is answered; without, they are dropped. */
		bufferevent_disable(c->bev, EV_READ);
		if (!c->client_ka)
			evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (c->in_eof)
		stream_close(c->stream);
	else
		bufferevent_enable(c->bev, EV_READ);
}

static void start_pipe(struct pconn *c)
{
	c->state = PC_PIPE;
	evloop_timer_disarm(c->timer);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	pump_in(c);
	pump_out(c);
}

/* SOCKS through the outproxy: its answer to our CONNECT.  200: the
 * SOCKS client is told yes and the bytes after the head are its own. */
static void outproxy_answer(struct pconn *c, unsigned ev)
{
	struct bbuf b = BBUF_INIT;
	struct http_resp r;
	uint8_t buf[PROXY_COPY_BYTES];
	size_t n;
	int e = ERR_TRUNCATED;

	while (c->oresp.len < HTTP_HEAD_MAX_BYTES &&
	       (n = stream_read(c->stream, buf, sizeof(buf))) > 0)
		bbuf_put(&c->oresp, buf, n);
	if (c->oresp.len)
		e = http_resp_parse((const char *)c->oresp.data, c->oresp.len,
				    &r);
	if (e == ERR_TRUNCATED && !(ev & (STREAM_EV_RESET | STREAM_EV_FAILED |
					  STREAM_EV_EOF | STREAM_EV_CLOSED)) &&
	    !stream_is_eof(c->stream))
		return;
	if (e != 0 || r.status != 200)
		return conn_fail(c, 0, "", "the outproxy refused", "",
				 SOCKS5_HOST_UNREACHABLE);
	if (c->front == FRONT_SOCKS5)
		socks5_reply_encode(&b, SOCKS5_OK);
	else
		socks4_reply_encode(&b, true);
	bbuf_put(&b, c->oresp.data + r.head_len, c->oresp.len - r.head_len);
	send_bytes(c, b.data, b.len);
	bbuf_free(&b);
	bbuf_free(&c->oresp);
	start_pipe(c);
}

static void stream_event(void *ctx, struct stream *s, unsigned ev)
{
	struct pconn *c = ctx;
	struct bbuf b = BBUF_INIT;

	(void)s;
	if (c->closing || c->flush_close)
		return;
	if (c->state == PC_CONNECT) {
		if (ev & (STREAM_EV_RESET | STREAM_EV_FAILED)) {
			bool refused = ev & STREAM_EV_RESET;

			stream_release(c->stream);
			c->stream = NULL;
			if (refused)
				return conn_fail(c, 502, "Bad Gateway",
						 "Connection refused",
						 "The destination refused the "
						 "connection.",
						 SOCKS5_REFUSED);
			c->p->st.lookup_timeouts++;
			return conn_fail(c, 504, "Gateway Timeout",
					 "Destination not reachable",
					 "No answer from the destination: its "
					 "LeaseSet was not found or it did not "
					 "reply in time.",
					 SOCKS5_HOST_UNREACHABLE);
		}
		if (!(ev & STREAM_EV_CONNECTED))
			return;
		if (c->socks_outproxy) {
			/* the CONNECT goes first; SOCKS answers after it */
			if (stream_write(c->stream, c->pre.data, c->pre.len) !=
			    c->pre.len)
				return conn_fail(c, 0, "", "outproxy", "",
						 SOCKS5_FAILURE);
			bbuf_reset(&c->pre);
			c->state = PC_OUTPROXY;
		}
	}
	if (c->state == PC_OUTPROXY)
		return outproxy_answer(c, ev);
	if (c->state == PC_CONNECT) {
		if (c->front == FRONT_SOCKS5)
			socks5_reply_encode(&b, SOCKS5_OK);
		else if (c->front == FRONT_SOCKS4)
			socks4_reply_encode(&b, true);
		else if (c->http_connect)
			bbuf_put(&b, "HTTP/1.1 200 Connection established\r\n"
				     "\r\n", 39);
		send_bytes(c, b.data, b.len);
		bbuf_free(&b);
		start_pipe(c);
		return;
	}
	if (c->state != PC_PIPE)
		return;
	if (ev & STREAM_EV_WRITABLE)
		pump_in(c);
	pump_out(c);
	if (c->closing || c->flush_close || c->state != PC_PIPE || !c->stream)
		return;
	if (ev & (STREAM_EV_RESET | STREAM_EV_FAILED)) {
		/* Nothing the socket sends can go anywhere now: stop reading
		 * it (its writing side may have been shut already, at the
		 * stream's EOF), write out what is queued for it, close. */
		stream_release(c->stream);
		c->stream = NULL;
		c->eof_out = true;
		c->in_eof = true;
		conn_shut_out(c);
		conn_flush_close(c);
	} else if (ev & STREAM_EV_CLOSED) {
		c->eof_out = true;
		c->in_eof = true;
		conn_shut_out(c);
	}
}

/* ---- names -------------------------------------------------------------- */

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && strcmp(s + n - m, suf) == 0;
}

static void open_stream(struct pconn *c, const struct keys_and_cert *to)
{
	int e;

	c->state = PC_CONNECT;
	bufferevent_disable(c->bev, EV_READ);
	evloop_timer_disarm(c->timer);
	e = stream_connect(c->pd->mgr, to, 0, c->port, stream_event, c,
			   &c->stream);
	if (e != 0) {
		c->stream = NULL;
		return conn_fail(c, 503, "Service Unavailable",
				 "Too many connections", err_str(e),
				 SOCKS5_FAILURE);
	}
	c->p->st.streams_out++;
	/* An HTTP request's head (to a site or the outproxy) goes with the
	 * SYN: the answer comes a round trip sooner.  A body waits in the
	 * socket until the stream is open (start_pipe()). */
	if (c->front == FRONT_HTTP && c->pre_off < c->pre.len)
		c->pre_off += stream_write(c->stream, c->pre.data + c->pre_off,
					   c->pre.len - c->pre_off);
}

/* The site a names among pd's own (NULL: none). */
static const struct proxy_site_auth *site_find(const struct proxy_dest *pd,
					       const struct b33_addr *a)
{
	for (size_t i = 0; i < pd->nsites; i++)
		if (memcmp(pd->sites[i].addr.pk, a->pk, B33_PUBKEY_BYTES) == 0)
			return &pd->sites[i];
	return NULL;
}

/* The lookup secret for a: the site's own, else pd's (NULL: none). */
static const uint8_t *site_secret(const struct proxy_dest *pd,
				  const struct b33_addr *a, size_t *len)
{
	const struct proxy_site_auth *s = site_find(pd, a);

	if (s && s->secret_len) {
		*len = s->secret_len;
		return s->secret;
	}
	*len = pd->els_secret_len;
	return pd->els_secret;
}

/* lookup_b33() with the key blinded for the UTC day of now_s. */
static int lookup_b33_day(struct proxy *p, const struct proxy_dest *pd,
			  const struct b33_addr *a, uint64_t now_s,
			  struct keys_and_cert *to)
{
	const struct proxy_site_auth *s = site_find(pd, a);
	struct els2_blinding bl;
	bool sec = (a->flags & B33_FLAG_SECRET) != 0;
	size_t slen = 0;
	const uint8_t *secret = sec ? site_secret(pd, a, &slen) : NULL;
	const uint8_t *key = s && s->has_key ? s->key :
			     pd->has_els_key ? pd->els_key : NULL;
	int e;

	if ((e = els2_blinding_derive(a->pk, a->sig_type, now_s, secret,
				      slen, &bl)) == 0)
		e = p->net.lookup_blinded(p->net.ctx, &bl, key, to);
	memwipe(&bl, sizeof(bl));
	return e;
}

/* The Destination behind b33 address a if the network knows it now, as
 * pd (with pd's client key).  ERR_NOT_FOUND: looked up.  Within
 * PROXY_B33_MIDNIGHT_S of midnight UTC the other day's key is tried
 * too: the site's clock may differ from ours, and its LeaseSet under
 * the new key may not be out yet.  The other day's counts when it
 * opens or says "no access"; one that does not open leaves the lookup
 * waiting for the day's own. */
static int lookup_b33(struct proxy *p, const struct proxy_dest *pd,
		      const struct b33_addr *a, struct keys_and_cert *to)
{
	uint64_t now = time_now_s(), sod = now % 86400;
	int e, o;

	if (!p->net.lookup_blinded)
		return ERR_UNSUPPORTED;
	e = lookup_b33_day(p, pd, a, now, to);
	if (e != ERR_NOT_FOUND)
		return e;
	if (sod < PROXY_B33_MIDNIGHT_S)
		o = lookup_b33_day(p, pd, a, now - 86400, to);
	else if (sod >= 86400 - PROXY_B33_MIDNIGHT_S)
		o = lookup_b33_day(p, pd, a, now + 86400, to);
	else
		return e;
	return o == 0 || o == ERR_AUTH ? o : e;
}

/* Poll the network for a b32 or b33 Destination until it is known or
 * the deadline passes. */
static void resolve_poll(struct pconn *c)
{
	struct keys_and_cert *to = xmalloc(sizeof(*to));
	int e = c->blinded ? lookup_b33(c->p, c->pd, &c->b33, to) :
			     c->p->net.lookup(c->p->net.ctx, c->hash, to);

	if (e == 0) {
		open_stream(c, to);
	} else if (e == ERR_AUTH) {
		c->p->st.els_refused++;
		conn_fail(c, 403, "Forbidden", "Encrypted LeaseSet: no access",
			  "This site's encrypted LeaseSet is for authorized "
			  "clients only, and this proxy's client key "
			  "(i2cp.leaseSetPrivKey) is missing or not one of "
			  "them.", SOCKS5_NOT_ALLOWED);
	} else if (e != ERR_NOT_FOUND) {
		c->p->st.els_refused++;
		conn_fail(c, 502, "Bad Gateway", "Encrypted LeaseSet unusable",
			  "The site's encrypted LeaseSet was found but could "
			  "not be opened.", SOCKS5_HOST_UNREACHABLE);
	} else if (time_mono_ms() >= c->deadline) {
		c->p->st.lookup_timeouts++;
		conn_fail(c, 504, "Gateway Timeout", "LeaseSet not found",
			  "The destination's LeaseSet was not found on the "
			  "network in time.  It may be offline.",
			  SOCKS5_HOST_UNREACHABLE);
	} else {
		c->state = PC_RESOLVE;
		evloop_timer_arm(c->timer, PROXY_LOOKUP_POLL_MS);
	}
	free(to);
}

enum name_kind { NAME_DEST, NAME_B32, NAME_B33, NAME_UNKNOWN, NAME_BAD };

/* What host names: a Destination now (*to), a b32 hash to look up
 * (hash), a b33 address (*b33), or a name we cannot use.  Never the
 * system resolver. */
static enum name_kind name_classify(struct proxy *p, const char *host,
				    uint8_t hash[32], struct b33_addr *b33,
				    struct keys_and_cert *to)
{
	size_t n = strlen(host), hl;
	uint8_t *raw;
	struct breader r;
	enum name_kind k = NAME_BAD;

	if (n == B32_NAME_CHARS + 8 && has_suffix(host, ".b32.i2p"))
		return b32_decode(hash, 32, &hl, host, B32_NAME_CHARS) == 0 &&
		       hl == 32 ? NAME_B32 : NAME_BAD;
	if (n > B32_NAME_CHARS + 8 && has_suffix(host, ".b32.i2p"))
		return b33_parse(host, n, b33) == 0 ? NAME_B33 : NAME_BAD;
	if (has_suffix(host, ".i2p"))
		return addrbook_lookup(p->ab, host, to) == 0 ? NAME_DEST :
							       NAME_UNKNOWN;
	/* a base64 Destination (client tunnels may name one) */
	if (n >= KAC_MIN_BYTES * 4 / 3 && n <= B64_ENC_LEN(KAC_MAX_BYTES)) {
		raw = xmalloc(KAC_MAX_BYTES);
		if (b64_decode(raw, KAC_MAX_BYTES, &hl, host, n) == 0) {
			br_init(&r, raw, hl);
			if (keys_and_cert_decode(&r, to) == 0 && br_done(&r))
				k = NAME_DEST;
		}
		free(raw);
	}
	return k;
}

enum resolved { RES_DEST, RES_LOOKUP, RES_FAILED };

/* RES_LOOKUP with c->hash or c->b33 set, RES_DEST with *to filled, or
 * RES_FAILED with the error already sent to the client. */
static enum resolved resolve(struct pconn *c, const char *host,
			     struct keys_and_cert *to)
{
	switch (name_classify(c->p, host, c->hash, &c->b33, to)) {
	case NAME_DEST:
		return RES_DEST;
	case NAME_B32:
		return RES_LOOKUP;
	case NAME_B33:
		if (!c->p->net.lookup_blinded) {
			conn_fail(c, 501, "Not Implemented",
				  "Encrypted LeaseSet",
				  "This network has no encrypted LeaseSets.",
				  SOCKS5_HOST_UNREACHABLE);
			return RES_FAILED;
		}
		if ((c->b33.flags & B33_FLAG_SECRET) &&
		    !site_secret(c->pd, &c->b33, &(size_t){ 0 })) {
			c->p->st.els_refused++;
			conn_fail(c, 403, "Forbidden",
				  "Encrypted LeaseSet: lookup secret needed",
				  "This b33 address is blinded with a secret, "
				  "and this proxy has none (proxy.leaseset-"
				  "secret or a line of proxy.site-keys, or "
				  "i2cp.leaseSetSecret for a client "
				  "tunnel).", SOCKS5_NOT_ALLOWED);
			return RES_FAILED;
		}
		c->blinded = true;
		return RES_LOOKUP;
	case NAME_UNKNOWN:
		c->p->st.unknown_host++;
		conn_fail(c, 404, "Not Found", "Unknown host",
			  "This name is not in the address book.  Use its "
			  ".b32.i2p address, or follow an address helper "
			  "link (?i2paddresshelper=...).",
			  SOCKS5_HOST_UNREACHABLE);
		return RES_FAILED;
	case NAME_BAD:
		break;
	}
	c->p->st.unknown_host++;
	conn_fail(c, 400, "Bad Request", "Bad address",
		  "This is not a valid I2P address.",
		  SOCKS5_HOST_UNREACHABLE);
	return RES_FAILED;
}

static bool is_i2p_name(const char *host)
{
	return has_suffix(host, ".i2p");
}

/* Go to host (c->host) port c->port. */
static void go(struct pconn *c, const char *host)
{
	struct keys_and_cert *to = xmalloc(sizeof(*to));

	switch (resolve(c, host, to)) {
	case RES_DEST:
		open_stream(c, to);
		break;
	case RES_LOOKUP:
		bufferevent_disable(c->bev, EV_READ);
		c->deadline = time_mono_ms() + c->p->cfg.lookup_timeout_ms;
		resolve_poll(c);
		break;
	case RES_FAILED:
		break;
	}
	free(to);
}

static void refuse_clearnet(struct pconn *c)
{
	c->p->st.refused_clearnet++;
	conn_fail(c, 403, "Forbidden", "Outproxy not configured",
		  "This address is outside I2P.  No outproxy is configured, "
		  "so no connection was made.",
		  SOCKS5_NOT_ALLOWED);
}

/* ---- SOCKS -------------------------------------------------------------- */

static void socks_request(struct pconn *c, const struct socks_req *r)
{
	if (r->cmd != SOCKS_CMD_CONNECT)
		return conn_fail(c, 0, "", "SOCKS command not supported", "",
				 SOCKS5_CMD_UNSUPPORTED);
	if (r->atyp != SOCKS_ATYP_DOMAIN || !is_i2p_name(r->host)) {
		char port[8];

		if (!c->p->outproxy)
			return refuse_clearnet(c);
		/* through the overlay to the outproxy, as an HTTP CONNECT */
		snprintf(port, sizeof(port), "%u", r->port);
		put_s(&c->pre, "CONNECT ");
		if (r->atyp == SOCKS_ATYP_IPV6)
			put_s(&c->pre, "[");
		put_s(&c->pre, r->host);
		put_s(&c->pre, r->atyp == SOCKS_ATYP_IPV6 ? "]:" : ":");
		put_s(&c->pre, port);
		put_s(&c->pre, " HTTP/1.1\r\n\r\n");
		c->socks_outproxy = true;
		c->port = 0;
		return go(c, c->p->outproxy);
	}
	c->port = r->port;
	memcpy(c->host, r->host, sizeof(c->host));
	go(c, c->host);
}

static void socks_read(struct pconn *c, struct evbuffer *in)
{
	size_t len = evbuffer_get_length(in), used = 0;
	const uint8_t *b;
	struct socks_req r;
	bool no_auth;
	int e;

	if (len == 0)
		return;
	b = evbuffer_pullup(in, (ssize_t)len);
	if (c->state == PC_SOCKS_GREET && b[0] == 4) {
		c->front = FRONT_SOCKS4;
		if ((e = socks4_request_parse(b, len, &r, &used)) == 0) {
			evbuffer_drain(in, used);
			return socks_request(c, &r);
		}
	} else if (c->state == PC_SOCKS_GREET) {
		c->front = FRONT_SOCKS5;
		if ((e = socks5_greeting_parse(b, len, &no_auth, &used)) == 0) {
			struct bbuf rep = BBUF_INIT;

			evbuffer_drain(in, used);
			/* "X'FF' NO ACCEPTABLE METHODS" */
			bbuf_u8(&rep, 5);
			bbuf_u8(&rep, no_auth ? SOCKS5_METHOD_NONE :
						SOCKS5_METHOD_REFUSED);
			send_bytes(c, rep.data, rep.len);
			bbuf_free(&rep);
			if (!no_auth) {
				c->front = FRONT_RAW;
				return conn_flush_close(c);
			}
			c->state = PC_SOCKS_REQ;
			return socks_read(c, in);
		}
	} else {
		if ((e = socks5_request_parse(b, len, &r, &used)) == 0) {
			evbuffer_drain(in, used);
			return socks_request(c, &r);
		}
		if (e == ERR_UNSUPPORTED)
			return conn_fail(c, 0, "", "SOCKS address type", "",
					 SOCKS5_ATYP_UNSUPPORTED);
	}
	if (e == ERR_TRUNCATED)
		return;
	c->p->st.bad_requests++;
	if (c->state == PC_SOCKS_GREET && c->front == FRONT_SOCKS5)
		c->front = FRONT_RAW;	/* no reply format fits yet */
	conn_fail(c, 0, "", "bad SOCKS request", "", SOCKS5_FAILURE);
}

/* ---- HTTP --------------------------------------------------------------- */

/* "http://host[:port]" + path */
static void url_format(struct bbuf *b, const struct http_url *u,
		       const void *path, size_t n)
{
	char port[16];

	put_s(b, "http://");
	put_s(b, u->host);
	if (u->port != 80) {
		snprintf(port, sizeof(port), ":%u", u->port);
		put_s(b, port);
	}
	bbuf_put(b, path, n);
}

/* i2paddresshelper=DEST: add the name and redirect to the URL without the
 * key.  True when the request was answered here. */
static bool address_helper(struct pconn *c, const struct http_url *u)
{
	struct bbuf val = BBUF_INIT, path = BBUF_INIT, resp = BBUF_INIT;
	struct keys_and_cert *d = NULL;
	uint8_t *raw = NULL;
	struct breader r;
	size_t n;
	int e;

	if (!http_addresshelper_take(u->path, &val, &path)) {
		bbuf_free(&val);
		bbuf_free(&path);
		return false;
	}
	d = xmalloc(sizeof(*d));
	raw = xmalloc(KAC_MAX_BYTES);
	n = strlen((const char *)val.data);
	if (!addrbook_name_ok(u->host, strlen(u->host)) ||
	    n > B64_ENC_LEN(KAC_MAX_BYTES) ||
	    b64_decode(raw, KAC_MAX_BYTES, &n, (const char *)val.data, n) != 0) {
		e = ERR_FORMAT;
	} else {
		br_init(&r, raw, n);
		e = keys_and_cert_decode(&r, d);
		if (e == 0 && !br_done(&r))
			e = ERR_FORMAT;
		if (e == 0)
			e = addrbook_add(c->p->ab, u->host, d, false);
	}
	if (e == ERR_EXISTS) {
		conn_fail(c, 409, "Conflict", "Address helper conflict",
			  "The address book already has this name for another "
			  "destination; the link's destination was not used.",
			  SOCKS5_FAILURE);
	} else if (e != 0) {
		conn_fail(c, 400, "Bad Request", "Bad address helper",
			  "The i2paddresshelper link does not hold a valid "
			  "destination for a valid name.", SOCKS5_FAILURE);
	} else {
		c->p->st.helper_added++;
		put_s(&resp, "HTTP/1.1 302 Found\r\nLocation: ");
		url_format(&resp, u, path.len ? path.data : (const uint8_t *)"/",
			   path.len ? path.len : 1);
		put_s(&resp, "\r\nContent-Length: 0\r\nConnection: close\r\n"
			     "\r\n");
		send_bytes(c, resp.data, resp.len);
		conn_flush_close(c);
	}
	bbuf_free(&val);
	bbuf_free(&path);
	bbuf_free(&resp);
	free(raw);
	free(d);
	return true;
}

/* Body bytes to forward after the head: Content-Length, else none.  A
 * chunked request body is refused (false). */
static bool body_len(const struct http_req *r, size_t *out)
{
	const struct http_str *cl = http_req_header(r, "Content-Length");
	size_t v = 0;

	if (http_req_header(r, "Transfer-Encoding"))
		return false;
	if (!cl) {
		*out = 0;
		return true;
	}
	if (cl->n == 0 || cl->n > 15)
		return false;
	for (size_t i = 0; i < cl->n; i++) {
		if (cl->p[i] < '0' || cl->p[i] > '9')
			return false;
		v = v * 10 + (size_t)(cl->p[i] - '0');
	}
	*out = v;
	return true;
}

/* HTTP/1.1 unless "Connection: close", HTTP/1.0 with "keep-alive". */
static bool client_keep_alive(const struct http_req *r)
{
	const struct http_str *h = http_req_header(r, "Connection");
	const char *want = r->minor ? "close" : "keep-alive";
	size_t n = strlen(want);
	bool has = false;

	for (size_t i = 0; h && i + n <= h->n && !has; i++)
		has = strncasecmp(h->p + i, want, n) == 0;
	return r->minor ? !has : has;
}

static void http_request(struct pconn *c, const struct http_req *r)
{
	bool connect = http_str_ieq(r->method, "CONNECT");
	struct http_url u;
	struct bbuf abs = BBUF_INIT;
	struct http_str ap;
	int e;

	if ((e = http_url_parse(r->target, connect, &u)) != 0) {
		c->p->st.bad_requests++;
		return conn_fail(c, 400, "Bad Request", "Bad request",
				 connect ? "CONNECT needs host:port." :
					   "The proxy takes absolute http:// "
					   "URLs (and CONNECT for https).",
				 0);
	}
	memcpy(c->host, u.host, sizeof(c->host));
	c->port = u.port;
	c->http_connect = connect;
	c->resp_head = !connect;
	c->head_req = http_str_ieq(r->method, "HEAD");
	c->client_ka = !connect && client_keep_alive(r);
	if (!connect && !body_len(r, &c->in_left))
		return conn_fail(c, 501, "Not Implemented",
				 "Request body not supported",
				 "Chunked request bodies are not supported.",
				 0);
	if (connect)
		c->in_left = SIZE_MAX;
	if (!is_i2p_name(u.host)) {
		if (!c->p->outproxy)
			return refuse_clearnet(c);
		/* Through the overlay to the outproxy, as a proxy request. */
		if (connect) {
			put_s(&c->pre, "CONNECT ");
			bbuf_put(&c->pre, r->target.p, r->target.n);
			put_s(&c->pre, " HTTP/1.1\r\nHost: ");
			bbuf_put(&c->pre, r->target.p, r->target.n);
			put_s(&c->pre, "\r\n\r\n");
			c->http_connect = false;	/* its 200 passes */
		} else {
			url_format(&abs, &u, u.path.p, u.path.n);
			ap = (struct http_str){ (const char *)abs.data,
						abs.len };
			http_req_rewrite(r, &u, &ap, &c->pre);
		}
		bbuf_free(&abs);
		c->port = 0;
		go(c, c->p->outproxy);
		return;
	}
	if (u.https && !connect)
		return conn_fail(c, 400, "Bad Request", "Use CONNECT",
				 "https:// URLs go through CONNECT.", 0);
	if (!connect && address_helper(c, &u))
		return;
	if (!connect)
		http_req_rewrite(r, &u, NULL, &c->pre);
	go(c, c->host);
}

static void http_read(struct pconn *c, struct evbuffer *in)
{
	size_t len = evbuffer_get_length(in);
	struct http_req r;
	size_t take = len < HTTP_HEAD_MAX_BYTES ? len : HTTP_HEAD_MAX_BYTES;
	const char *b;
	int e;

	if (len == 0)
		return;
	b = (const char *)evbuffer_pullup(in, (ssize_t)take);
	e = http_req_parse(b, take, &r);
	if (e == ERR_TRUNCATED)
		return;
	if (e != 0) {
		c->p->st.bad_requests++;
		if (e == ERR_TOO_BIG)
			return conn_fail(c, 431, "Request Header Fields Too "
					 "Large", "Request too large",
					 "The request head is over the proxy's "
					 "limit.", 0);
		return conn_fail(c, 400, "Bad Request", "Bad request",
				 "The proxy could not parse the request.", 0);
	}
	http_request(c, &r);
	/* the head is consumed: only its body (if any) goes on */
	if (!c->closing)
		evbuffer_drain(in, r.head_len);
}

/* ---- socket callbacks --------------------------------------------------- */

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct pconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (c->closing || c->flush_close) {
		bufferevent_disable(bev, EV_READ);
		return;
	}
	switch (c->state) {
	case PC_SOCKS_GREET:
	case PC_SOCKS_REQ:
		socks_read(c, in);
		break;
	case PC_HTTP_HEAD:
		http_read(c, in);
		break;
	case PC_PIPE:
		pump_in(c);
		break;
	case PC_RESOLVE:
	case PC_CONNECT:
	case PC_DIAL:
	case PC_OUTPROXY:
		bufferevent_disable(bev, EV_READ);
		break;
	}
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct pconn *c = arg;

	if (c->flush_close &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		conn_close(c);
		return;
	}
	if (c->state == PC_PIPE) {
		pump_out(c);
		conn_shut_out(c);
	}
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct pconn *c = arg;

	(void)bev;
	if (c->state == PC_DIAL && (what & BEV_EVENT_CONNECTED)) {
		start_pipe(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    c->state == PC_PIPE && c->stream) {
		/* Half-close: the rest goes out, then a CLOSE. */
		c->in_eof = true;
		pump_in(c);
		if (c->out_shut)
			conn_close(c);
		return;
	}
	if (c->stream && c->state != PC_PIPE)
		stream_reset(c->stream);
	conn_close(c);
}

static void conn_timer_cb(void *arg)
{
	struct pconn *c = arg;

	if (c->closing || c->flush_close)
		return;
	switch (c->state) {
	case PC_RESOLVE:
		resolve_poll(c);
		break;
	case PC_SOCKS_GREET:
	case PC_SOCKS_REQ:
	case PC_HTTP_HEAD:
		c->p->st.bad_requests++;
		conn_fail(c, 408, "Request Timeout", "Request timeout",
			  "The request did not arrive in time.",
			  SOCKS5_FAILURE);
		break;
	case PC_DIAL:
		if (c->stream)
			stream_reset(c->stream);
		conn_close(c);
		break;
	case PC_CONNECT:
	case PC_OUTPROXY:
	case PC_PIPE:
		break;
	}
}

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct plistener *l = arg;
	struct proxy *p = l->p;
	struct bufferevent *bev;
	struct pconn *c;

	(void)lis;
	(void)sa;
	(void)salen;
	if (p->nconns >= p->cfg.max_conns) {
		log_info_rl(60, LD_APP, "proxy: connection limit reached");
		evutil_closesocket(fd);
		return;
	}
	p->st.accepted++;
	bev = bufferevent_socket_new(evloop_base(p->el), fd,
				     BEV_OPT_CLOSE_ON_FREE);
	c = conn_new(p, l->pd, bev);
	switch (l->kind) {
	case PROXY_HTTP:
		c->state = PC_HTTP_HEAD;
		c->front = FRONT_HTTP;
		break;
	case PROXY_SOCKS:
		c->state = PC_SOCKS_GREET;
		c->front = FRONT_RAW;	/* until the version byte */
		break;
	case PROXY_CLIENT:
		c->front = FRONT_RAW;
		c->port = l->target_port;
		bufferevent_enable(bev, EV_WRITE);
		go(c, l->target);
		return;
	}
	evloop_timer_arm(c->timer, p->cfg.head_timeout_ms);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* ---- server tunnels ----------------------------------------------------- */

static void serve_accept(void *ctx, struct stream *s)
{
	struct proxy_dest *pd = ctx;
	struct proxy *p = pd->p;
	struct bufferevent *bev;
	struct pconn *c;

	if (p->nconns >= p->cfg.max_conns || !pd->serving) {
		stream_reset(s);
		stream_release(s);
		return;
	}
	p->st.streams_in++;
	bev = bufferevent_socket_new(evloop_base(p->el), -1,
				     BEV_OPT_CLOSE_ON_FREE);
	c = conn_new(p, pd, bev);
	c->front = FRONT_RAW;
	c->state = PC_DIAL;
	c->inbound = true;
	c->stream = s;
	stream_set_handler(s, stream_event, c);
	evloop_timer_arm(c->timer, p->cfg.connect_timeout_ms);
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&pd->serve_to,
				       sizeof(pd->serve_to)) != 0) {
		stream_reset(s);
		conn_close(c);
	}
}

/* ---- fetches ------------------------------------------------------------ */

static void fetch_free(void *arg)
{
	struct pfetch *f = arg;

	evloop_timer_free(f->timer);
	bbuf_free(&f->req);
	bbuf_free(&f->resp);
	free(f);
}

/* Report once, then unlink and free f after this loop pass. */
static void fetch_end(struct pfetch *f, int err)
{
	struct http_resp r;
	int e = err;

	if (f->done)
		return;
	f->done = true;
	evloop_timer_disarm(f->timer);
	if (f->stream) {
		stream_release(f->stream);
		f->stream = NULL;
	}
	for (struct pfetch **pp = &f->p->fetches; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	if (e == 0 && (e = http_resp_parse((const char *)f->resp.data,
					   f->resp.len, &r)) == ERR_TRUNCATED)
		e = ERR_FORMAT;
	if (e == 0)
		f->fn(f->ctx, 0, &r, f->resp.data + r.head_len,
		      f->resp.len - r.head_len);
	else
		f->fn(f->ctx, e, NULL, NULL, 0);
	evloop_mark_close(f->p->el, fetch_free, f);
}

static void fetch_event(void *ctx, struct stream *s, unsigned ev)
{
	struct pfetch *f = ctx;
	uint8_t buf[PROXY_COPY_BYTES];
	size_t n;

	(void)s;
	if (f->done)
		return;
	while ((n = stream_read(f->stream, buf, sizeof(buf))) > 0) {
		if (f->resp.len + n > f->max)
			return fetch_end(f, ERR_TOO_BIG);
		bbuf_put(&f->resp, buf, n);
	}
	if (stream_is_eof(f->stream) || (ev & STREAM_EV_CLOSED))
		return fetch_end(f, 0);
	if (ev & (STREAM_EV_RESET | STREAM_EV_FAILED))
		return fetch_end(f, ERR_NETWORK);
}

static void fetch_connect(struct pfetch *f, const struct keys_and_cert *to)
{
	f->resolving = false;
	if (stream_connect(f->pd->mgr, to, 0, f->port, fetch_event, f,
			   &f->stream) != 0) {
		f->stream = NULL;
		return fetch_end(f, ERR_LIMIT);
	}
	/* With the SYN; the request is far below the send buffer. */
	if (stream_write(f->stream, f->req.data, f->req.len) != f->req.len)
		fetch_end(f, ERR_INTERNAL);
}

static void fetch_timer_cb(void *arg)
{
	struct pfetch *f = arg;
	struct keys_and_cert *to;

	if (f->done)
		return;
	if (time_mono_ms() >= f->deadline)
		return fetch_end(f, f->resolving ? ERR_NOT_FOUND : ERR_TIMEOUT);
	if (f->resolving) {
		int e;

		to = xmalloc(sizeof(*to));
		e = f->blinded ? lookup_b33(f->p, f->pd, &f->b33, to) :
				 f->p->net.lookup(f->p->net.ctx, f->hash, to);
		if (e == 0)
			fetch_connect(f, to);
		free(to);
		if (e != 0 && e != ERR_NOT_FOUND)
			return fetch_end(f, ERR_NOT_FOUND);
		if (f->resolving) {
			evloop_timer_arm(f->timer, PROXY_LOOKUP_POLL_MS);
			return;
		}
	}
	evloop_timer_arm(f->timer, f->deadline - time_mono_ms());
}

int proxy_fetch(struct proxy *p, struct proxy_dest *pd, const char *url,
		const char *headers, size_t max_bytes, uint32_t timeout_ms,
		proxy_fetch_fn fn,
		void *ctx)
{
	struct http_str s = { url, strlen(url) };
	struct keys_and_cert *to;
	struct http_url u;
	struct pfetch *f;
	enum name_kind k;

	if (http_url_parse(s, false, &u) != 0 || u.https ||
	    !is_i2p_name(u.host))
		return ERR_ARG;
	f = xzalloc(sizeof(*f));
	f->p = p;
	f->pd = pd;
	f->fn = fn;
	f->ctx = ctx;
	f->max = max_bytes;
	f->port = u.port;
	f->deadline = time_mono_ms() + timeout_ms;
	f->timer = evloop_timer_new(p->el, fetch_timer_cb, f);
	put_s(&f->req, "GET ");
	bbuf_put(&f->req, u.path.p, u.path.n);
	put_s(&f->req, " HTTP/1.0\r\nHost: ");
	put_s(&f->req, u.host);
	put_s(&f->req, "\r\nUser-Agent: " HTTP_PROXY_USER_AGENT
		       "\r\nConnection: close\r\n");
	if (headers)
		put_s(&f->req, headers);
	put_s(&f->req, "\r\n");
	f->next = p->fetches;
	p->fetches = f;
	to = xmalloc(sizeof(*to));
	k = name_classify(p, u.host, f->hash, &f->b33, to);
	if (k == NAME_DEST) {
		fetch_connect(f, to);
	} else if (k == NAME_B32 || k == NAME_B33) {
		f->resolving = true;
		f->blinded = k == NAME_B33;
	} else {
		f->resolving = true;	/* fails from the timer, not here */
		f->deadline = 0;
	}
	free(to);
	if (!f->done)
		evloop_timer_arm(f->timer, 0);
	return 0;
}

/* ---- subscriptions ------------------------------------------------------ */

/* A validator header of r worth keeping: short, printable (the parser
 * never lets CR or LF into a value). */
static char *validator(const struct http_resp *r, const char *name)
{
	const struct http_str *v = http_resp_header(r, name);
	char *out;

	if (!v || v->n == 0 || v->n > PROXY_SUB_VALIDATOR_MAX_BYTES)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if ((unsigned char)v->p[i] < 0x20 || v->p[i] == 0x7f)
			return NULL;
	out = xmalloc(v->n + 1);
	memcpy(out, v->p, v->n);
	out[v->n] = 0;
	return out;
}

static void sub_done(void *ctx, int err, const struct http_resp *r,
		     const uint8_t *body, size_t len)
{
	struct psub *s = ctx;
	struct addrbook_merge_stats st;

	s->fetching = false;
	evloop_timer_arm(s->timer, s->interval_ms);
	if (err == 0 && r->status == 304) {
		s->p->st.subs_unchanged++;
		log_info(LD_APP, "proxy: subscription %s not modified", s->url);
		return;
	}
	if (err != 0 || r->status != 200) {
		log_info(LD_APP, "proxy: subscription fetch failed: %s (HTTP %u)",
			 err ? err_str(err) : "ok", err ? 0 : r->status);
		s->p->st.subs_failed++;
		return;
	}
	addrbook_merge(s->p->ab, (const char *)body, len, &st);
	s->p->st.subs_fetched++;
	free(s->etag);
	free(s->last_modified);
	s->etag = validator(r, "ETag");
	s->last_modified = validator(r, "Last-Modified");
	log_notice(LD_APP, "proxy: subscription: %zu names added, %zu "
		   "changed, %zu removed, %zu bad lines, %zu bad signatures",
		   st.added, st.replaced, st.removed, st.bad, st.bad_sig);
}

static void sub_timer_cb(void *arg)
{
	struct psub *s = arg;
	struct bbuf h = BBUF_INIT;

	if (s->fetching)
		return;
	if (s->etag) {
		put_s(&h, "If-None-Match: ");
		put_s(&h, s->etag);
		put_s(&h, "\r\n");
	}
	if (s->last_modified) {
		put_s(&h, "If-Modified-Since: ");
		put_s(&h, s->last_modified);
		put_s(&h, "\r\n");
	}
	bbuf_u8(&h, 0);
	if (proxy_fetch(s->p, s->pd, s->url, (const char *)h.data,
			PROXY_SUB_MAX_BYTES, PROXY_SUB_TIMEOUT_MS, sub_done,
			s) == 0)
		s->fetching = true;
	else
		evloop_timer_arm(s->timer, s->interval_ms);
	bbuf_free(&h);
}

int proxy_subscribe(struct proxy *p, struct proxy_dest *pd, const char *url,
		    uint32_t first_ms, uint32_t interval_ms)
{
	struct http_str u = { url, strlen(url) };
	struct http_url pu;
	struct psub *s;

	if (http_url_parse(u, false, &pu) != 0 || pu.https ||
	    !is_i2p_name(pu.host))
		return ERR_ARG;
	s = xzalloc(sizeof(*s));
	s->p = p;
	s->pd = pd;
	s->url = xstrdup(url);
	s->interval_ms = interval_ms;
	s->timer = evloop_timer_new(p->el, sub_timer_cb, s);
	evloop_timer_arm(s->timer, first_ms);
	s->next = p->subs;
	p->subs = s;
	return 0;
}

/* ---- setup -------------------------------------------------------------- */

struct proxy *proxy_new(struct evloop *el, const struct client_net *net,
			struct addrbook *ab, const struct proxy_cfg *cfg)
{
	struct proxy *p = xzalloc(sizeof(*p));

	p->el = el;
	p->net = *net;
	p->ab = ab;
	p->cfg = *cfg;
	if (cfg->outproxy && *cfg->outproxy)
		p->outproxy = xstrdup(cfg->outproxy);
	p->cfg.outproxy = NULL;
	return p;
}

void proxy_stats(const struct proxy *p, struct proxy_stats *out)
{
	*out = p->st;
}

int proxy_dest_add(struct proxy *p, struct client_dest *d,
		   const struct stream_config *sc, struct proxy_dest **out)
{
	struct proxy_dest *pd;
	struct keys_and_cert *k = xmalloc(sizeof(*k));
	struct client_rx rx = { 0 };
	int e;

	e = p->net.lookup(p->net.ctx, client_dest_pub(d)->hash, k);
	free(k);
	if (e == 0) {
		client_dest_free(d);
		return ERR_EXISTS;
	}
	pd = xzalloc(sizeof(*pd));
	pd->p = p;
	pd->dest = d;
	client_dest_signer(d, &pd->signer);
	pd->sink.net = p->net;
	pd->sink.from = d;
	pd->mgr = stream_mgr_new(sc ? sc : &p->cfg.stream, &pd->signer,
				 client_stream_sink(&pd->sink), p->el);
	rx.mgr = pd->mgr;
	if ((e = p->net.attach(p->net.ctx, d, &rx)) != 0) {
		stream_mgr_free(pd->mgr);
		client_dest_free(d);
		free(pd);
		return e;
	}
	pd->next = p->dests;
	p->dests = pd;
	*out = pd;
	return 0;
}

void proxy_dest_set_leaseset_key(struct proxy_dest *pd, const uint8_t *key)
{
	pd->has_els_key = key != NULL;
	if (key)
		memcpy(pd->els_key, key, sizeof(pd->els_key));
	else
		memwipe(pd->els_key, sizeof(pd->els_key));
}

static void els_secret_clear(struct proxy_dest *pd)
{
	xfree_wipe(pd->els_secret, pd->els_secret_len);
	pd->els_secret = NULL;
	pd->els_secret_len = 0;
}

void proxy_dest_set_lookup_secret(struct proxy_dest *pd,
				  const uint8_t *secret, size_t len)
{
	els_secret_clear(pd);
	if (secret && len) {
		pd->els_secret = xmemdup(secret, len);
		pd->els_secret_len = len;
	}
}

static void sites_clear(struct proxy_dest *pd)
{
	xfree_wipe(pd->sites, pd->nsites * sizeof(*pd->sites));
	pd->sites = NULL;
	pd->nsites = 0;
}

int proxy_dest_add_site_auth(struct proxy_dest *pd,
			     const struct proxy_site_auth *a)
{
	struct proxy_site_auth *n;

	if (site_find(pd, &a->addr))
		return ERR_EXISTS;
	if (pd->nsites >= PROXY_SITE_AUTH_MAX)
		return ERR_LIMIT;
	/* no realloc: the old block is wiped, not left to the allocator */
	n = xmalloc((pd->nsites + 1) * sizeof(*n));
	if (pd->nsites)
		memcpy(n, pd->sites, pd->nsites * sizeof(*n));
	n[pd->nsites] = *a;
	xfree_wipe(pd->sites, pd->nsites * sizeof(*n));
	pd->sites = n;
	pd->nsites++;
	return 0;
}

const struct keys_and_cert *proxy_dest_pub(const struct proxy_dest *pd)
{
	return client_dest_pub(pd->dest);
}

static int ipv4_addr(const char *host, uint16_t port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : ERR_ARG;
}

int proxy_listen(struct proxy *p, enum proxy_kind kind, struct proxy_dest *pd,
		 const char *host, uint16_t port, const char *target,
		 uint16_t target_port, uint16_t *bound)
{
	struct plistener *l;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	if (ipv4_addr(host, port, &sin) != 0 ||
	    (kind == PROXY_CLIENT && (!target || !*target)))
		return ERR_ARG;
	l = xzalloc(sizeof(*l));
	l->p = p;
	l->kind = kind;
	l->pd = pd;
	l->target = target ? xstrdup(target) : NULL;
	l->target_port = target_port;
	l->lis = evconnlistener_new_bind(evloop_base(p->el), accept_cb, l,
					 LEV_OPT_CLOSE_ON_FREE |
						 LEV_OPT_REUSEABLE,
					 64, (struct sockaddr *)&sin,
					 sizeof(sin));
	if (!l->lis) {
		log_warn(LD_APP, "proxy: cannot listen on %s:%u", host, port);
		free(l->target);
		free(l);
		return ERR_IO;
	}
	getsockname(evconnlistener_get_fd(l->lis), (struct sockaddr *)&sin,
		    &sl);
	if (bound)
		*bound = ntohs(sin.sin_port);
	l->next = p->listeners;
	p->listeners = l;
	return 0;
}

int proxy_serve(struct proxy *p, struct proxy_dest *pd, const char *host,
		uint16_t port)
{
	(void)p;
	if (pd->serving)
		return ERR_EXISTS;
	if (ipv4_addr(host, port, &pd->serve_to) != 0 || port == 0)
		return ERR_ARG;
	pd->serving = true;
	stream_mgr_set_acceptor(pd->mgr, serve_accept, pd);
	return 0;
}

uint64_t proxy_dest_served(const struct proxy_dest *pd)
{
	return pd->served;
}

void proxy_free(struct proxy *p)
{
	if (!p)
		return;
	while (p->listeners) {
		struct plistener *l = p->listeners;

		p->listeners = l->next;
		evconnlistener_free(l->lis);
		free(l->target);
		free(l);
	}
	while (p->conns)
		conn_close(p->conns);
	while (p->subs) {
		struct psub *s = p->subs;

		p->subs = s->next;
		evloop_timer_free(s->timer);
		free(s->etag);
		free(s->last_modified);
		free(s->url);
		free(s);
	}
	while (p->fetches) {
		struct pfetch *f = p->fetches;

		p->fetches = f->next;
		f->done = true;
		if (f->stream)
			stream_release(f->stream);
		evloop_mark_close(p->el, fetch_free, f);
	}
	while (p->dests) {
		struct proxy_dest *pd = p->dests;

		p->dests = pd->next;
		p->net.detach(p->net.ctx, pd->dest);
		stream_mgr_free(pd->mgr);
		client_dest_free(pd->dest);
		els_secret_clear(pd);
		sites_clear(pd);
		xfree_wipe(pd, sizeof(*pd));
	}
	free(p->outproxy);
	free(p);
}
