/*
 * Port mapping (router/nat.h): NAT-PMP (RFC 6886) on the loop through
 * libnatpmp's non-blocking calls, then UPnP IGD through miniupnpc as jobs
 * on the worker pool (STYLE.md §4: its discovery and SOAP calls block).
 * miniupnpc's API is branched on MINIUPNPC_API_VERSION as Transmission and
 * i2pd do; Debian 12 has 17.
 */
#include "config.h"
#include "router/nat.h"
#include "router/evloop.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/base/time.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#include <natpmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAT_DESC "bits"

enum pmp_step { PMP_IDLE, PMP_ADDR, PMP_MAP_UDP, PMP_MAP_TCP };

struct nat {
	struct evloop *el;
	struct worker_pool *wp;
	struct nat_config cfg;
	unsigned protos;
	uint16_t port;
	nat_status_fn fn;
	void *arg;
	struct nat_status st;
	struct evloop_timer *timer;
	/* NAT-PMP */
	natpmp_t pmp;
	bool pmp_open;
	struct event *pmp_ev;
	enum pmp_step step;
	uint64_t pmp_deadline_ms;
	/* UPnP: the IGD found by the last job, for renewals and removal */
	bool job_running, dead;
	bool have_igd;
	char control_url[256], service_type[128], lan_addr[64];
};

struct upnp_job {
	struct nat *n;		/* touched in done only; NULL: removal */
	bool remove;
	char igd_url[128];
	int discover_ms;
	uint16_t port;
	unsigned protos;
	uint32_t lifetime_s;
	bool have_igd;
	char control_url[256], service_type[128], lan_addr[64];
	/* results */
	bool ok;
	uint32_t ext_ip;
	char err[96];
};

static void start_natpmp(struct nat *n);

/* libnatpmp has strnatpmperr() only when built with ENABLE_STRNATPMPERR. */
static const char *pmp_err(int r)
{
	static char buf[48];

	switch (r) {
	case NATPMP_ERR_NOGATEWAYSUPPORT:
		return "the gateway does not support NAT-PMP";
	case NATPMP_ERR_NOTAUTHORIZED:
		return "not authorized";
	case NATPMP_ERR_NETWORKFAILURE:
		return "the gateway has no network";
	case NATPMP_ERR_OUTOFRESOURCES:
		return "the gateway is out of resources";
	case NATPMP_ERR_CANNOTGETGATEWAY:
		return "no default gateway";
	default:
		snprintf(buf, sizeof(buf), "libnatpmp error %d", r);
		return buf;
	}
}
static void start_upnp(struct nat *n);

void nat_config_default(struct nat_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->natpmp = cfg->upnp = true;
	cfg->lifetime_s = NAT_DEFAULT_LIFETIME_S;
	cfg->natpmp_timeout_ms = NAT_DEFAULT_NATPMP_TIMEOUT_MS;
	cfg->upnp_discover_ms = NAT_DEFAULT_UPNP_DISCOVER_MS;
	cfg->retry_ms = NAT_DEFAULT_RETRY_MS;
}

const char *nat_method_name(enum nat_method m)
{
	switch (m) {
	case NAT_NONE:
		return "none";
	case NAT_NATPMP:
		return "NAT-PMP";
	case NAT_UPNP:
		return "UPnP";
	}
	return "?";
}

static void report(struct nat *n)
{
	char ip[INET_ADDRSTRLEN] = "?";

	if (n->st.mapped) {
		inet_ntop(AF_INET, &n->st.ext_ip, ip, sizeof(ip));
		log_notice(LD_ROUTER, "NAT: port %u mapped to %s:%u by %s for "
			   "%u s", (unsigned)n->port,
			   log_is_unsafe() ? ip : "[scrubbed]",
			   (unsigned)n->st.ext_port,
			   nat_method_name(n->st.method),
			   (unsigned)n->st.lifetime_s);
	}
	if (n->fn)
		n->fn(n->arg, &n->st);
}

/* Everything failed: say so and try again later. */
static void give_up(struct nat *n, const char *why)
{
	n->st.mapped = false;
	n->st.method = NAT_NONE;
	n->st.failures++;
	log_info(LD_ROUTER, "NAT: no port mapping (%s); trying again in %llu "
		 "s", why, (unsigned long long)(n->cfg.retry_ms / 1000));
	report(n);
	evloop_timer_arm(n->timer, n->cfg.retry_ms);
}

/* ---- NAT-PMP ---- */

static void pmp_close(struct nat *n)
{
	if (n->pmp_ev) {
		event_free(n->pmp_ev);
		n->pmp_ev = NULL;
	}
	if (n->pmp_open) {
		closenatpmp(&n->pmp);
		n->pmp_open = false;
	}
	n->step = PMP_IDLE;
}

static void pmp_failed(struct nat *n, const char *why)
{
	log_info(LD_ROUTER, "NAT-PMP: %s", why);
	pmp_close(n);
	if (n->cfg.upnp)
		start_upnp(n);
	else
		give_up(n, why);
}

/* Arm the timer for libnatpmp's next resend (or our deadline). */
static void pmp_arm(struct nat *n)
{
	struct timeval tv;
	uint64_t now = time_mono_ms(), ms = 250;

	if (getnatpmprequesttimeout(&n->pmp, &tv) == 0)
		ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	if (now + ms > n->pmp_deadline_ms)
		ms = n->pmp_deadline_ms > now ? n->pmp_deadline_ms - now : 0;
	evloop_timer_arm(n->timer, ms + 1);
}

static int pmp_send_next(struct nat *n)
{
	int r;

	switch (n->step) {
	case PMP_ADDR:
		r = sendpublicaddressrequest(&n->pmp);
		break;
	case PMP_MAP_UDP:
		r = sendnewportmappingrequest(&n->pmp, NATPMP_PROTOCOL_UDP,
					      n->port, n->port,
					      n->cfg.lifetime_s);
		break;
	case PMP_MAP_TCP:
		r = sendnewportmappingrequest(&n->pmp, NATPMP_PROTOCOL_TCP,
					      n->port, n->port,
					      n->cfg.lifetime_s);
		break;
	case PMP_IDLE:
	default:
		return ERR_BAD_STATE;
	}
	return r < 0 ? ERR_IO : 0;
}

/* A response arrived (or libnatpmp wants to resend). */
static void pmp_poll(struct nat *n)
{
	natpmpresp_t resp;
	int r = readnatpmpresponseorretry(&n->pmp, &resp);

	if (r == NATPMP_TRYAGAIN) {
		if (time_mono_ms() >= n->pmp_deadline_ms)
			pmp_failed(n, "no answer from the gateway");
		else
			pmp_arm(n);
		return;
	}
	if (r < 0) {
		pmp_failed(n, pmp_err(r));
		return;
	}
	switch (n->step) {
	case PMP_ADDR:
		if (resp.type != NATPMP_RESPTYPE_PUBLICADDRESS)
			break;
		n->st.ext_ip = resp.pnu.publicaddress.addr.s_addr;
		n->step = (n->protos & NAT_PROTO_UDP) ? PMP_MAP_UDP : PMP_MAP_TCP;
		break;
	case PMP_MAP_UDP:
	case PMP_MAP_TCP:
		if (resp.type != (n->step == PMP_MAP_UDP ?
				  NATPMP_RESPTYPE_UDPPORTMAPPING :
				  NATPMP_RESPTYPE_TCPPORTMAPPING) ||
		    resp.pnu.newportmapping.privateport != n->port)
			break;
		n->st.ext_port = resp.pnu.newportmapping.mappedpublicport;
		n->st.lifetime_s = resp.pnu.newportmapping.lifetime;
		if (n->step == PMP_MAP_UDP && (n->protos & NAT_PROTO_TCP)) {
			n->step = PMP_MAP_TCP;
			break;
		}
		/* Mapped: renew at half the lifetime, on a fresh handle. */
		pmp_close(n);
		n->st.mapped = true;
		n->st.method = NAT_NATPMP;
		n->st.mappings++;
		report(n);
		evloop_timer_arm(n->timer, (uint64_t)(n->st.lifetime_s ?
					    n->st.lifetime_s : 60) * 500);
		return;
	case PMP_IDLE:
		return;
	}
	if (pmp_send_next(n) != 0)
		pmp_failed(n, "cannot send a request");
	else
		pmp_arm(n);
}

static void pmp_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pmp_poll(arg);
}

static void start_natpmp(struct nat *n)
{
	int r = initnatpmp(&n->pmp, n->cfg.gateway != 0,
			   (in_addr_t)n->cfg.gateway);

	if (r < 0) {
		pmp_failed(n, pmp_err(r));
		return;
	}
	n->pmp_open = true;
	n->pmp_ev = event_new(evloop_base(n->el), n->pmp.s,
			      EV_READ | EV_PERSIST, pmp_readable, n);
	event_add(n->pmp_ev, NULL);
	n->step = PMP_ADDR;
	n->pmp_deadline_ms = time_mono_ms() + n->cfg.natpmp_timeout_ms;
	if (pmp_send_next(n) != 0) {
		pmp_failed(n, "cannot send a request");
		return;
	}
	pmp_arm(n);
}

/* Ask the gateway to drop our mappings (lifetime 0), without waiting. */
static void pmp_remove(struct nat *n)
{
	natpmp_t h;

	if (initnatpmp(&h, n->cfg.gateway != 0, (in_addr_t)n->cfg.gateway) < 0)
		return;
	/* RFC 6886 §3.4: "requested lifetime of zero" deletes a mapping. */
	if (n->protos & NAT_PROTO_UDP)
		(void)sendnewportmappingrequest(&h, NATPMP_PROTOCOL_UDP,
						n->port, 0, 0);
	if (n->protos & NAT_PROTO_TCP) {
		/* one request at a time in libnatpmp: a second handle */
		natpmp_t h2;

		if (initnatpmp(&h2, n->cfg.gateway != 0,
			       (in_addr_t)n->cfg.gateway) >= 0) {
			(void)sendnewportmappingrequest(&h2,
							NATPMP_PROTOCOL_TCP,
							n->port, 0, 0);
			closenatpmp(&h2);
		}
	}
	closenatpmp(&h);
}

/* ---- UPnP (worker pool) ---- */

static const char *proto_name(unsigned p)
{
	return p == NAT_PROTO_UDP ? "UDP" : "TCP";
}

/* Find the IGD: from the URL, or by SSDP discovery. */
static bool job_find_igd(struct upnp_job *j)
{
	struct UPNPUrls urls;
	struct IGDdatas data;
	struct UPNPDev *devs = NULL;
	char lan[64] = "";
	int r, err = 0;

	memset(&urls, 0, sizeof(urls));
	memset(&data, 0, sizeof(data));
	if (j->igd_url[0]) {
		r = UPNP_GetIGDFromUrl(j->igd_url, &urls, &data, lan,
				       sizeof(lan));
	} else {
#if MINIUPNPC_API_VERSION >= 14
		devs = upnpDiscover(j->discover_ms, NULL, NULL, 0, 0, 2, &err);
#else
		devs = upnpDiscover(j->discover_ms, NULL, NULL, 0, 0, &err);
#endif
		if (!devs) {
			snprintf(j->err, sizeof(j->err), "no UPnP device found");
			return false;
		}
		/* 1: a connected IGD; 2: an IGD that says it is not
		 * connected (TESTBEDS.md: miniupnpd behind a reserved-range
		 * WAN address answers so, and the mapping still works). */
		r = UPNP_GetValidIGD(devs, &urls, &data, lan, sizeof(lan));
		if (r != 1 && r != 2)
			r = 0;
		freeUPNPDevlist(devs);
	}
	if (r == 0 || !urls.controlURL) {
		snprintf(j->err, sizeof(j->err), "no Internet gateway device");
		FreeUPNPUrls(&urls);
		return false;
	}
	snprintf(j->control_url, sizeof(j->control_url), "%s", urls.controlURL);
	snprintf(j->service_type, sizeof(j->service_type), "%s",
		 data.first.servicetype);
	snprintf(j->lan_addr, sizeof(j->lan_addr), "%s", lan);
	FreeUPNPUrls(&urls);
	j->have_igd = true;
	return true;
}

static void job_run(void *arg)
{
	struct upnp_job *j = arg;
	char port[8], life[16], ext[40] = "";
	int r;

	snprintf(port, sizeof(port), "%u", (unsigned)j->port);
	snprintf(life, sizeof(life), "%u", (unsigned)j->lifetime_s);
	if (j->remove) {
		for (unsigned p = NAT_PROTO_UDP; p <= NAT_PROTO_TCP; p <<= 1)
			if ((j->protos & p) && j->have_igd)
				(void)UPNP_DeletePortMapping(j->control_url,
							     j->service_type,
							     port,
							     proto_name(p),
							     NULL);
		return;
	}
	if (!j->have_igd && !job_find_igd(j))
		return;
	if ((r = UPNP_GetExternalIPAddress(j->control_url, j->service_type,
					   ext)) == UPNPCOMMAND_SUCCESS) {
		struct in_addr a;

		if (inet_pton(AF_INET, ext, &a) == 1)
			j->ext_ip = a.s_addr;
	}
	for (unsigned p = NAT_PROTO_UDP; p <= NAT_PROTO_TCP; p <<= 1) {
		if (!(j->protos & p))
			continue;
		r = UPNP_AddPortMapping(j->control_url, j->service_type, port,
					port, j->lan_addr, NAT_DESC,
					proto_name(p), NULL, life);
		if (r != UPNPCOMMAND_SUCCESS) {
			snprintf(j->err, sizeof(j->err), "AddPortMapping %s: "
				 "%d (%s)", proto_name(p), r, strupnperror(r));
			return;
		}
	}
	j->ok = true;
}

static void nat_release(struct nat *n);

static void job_done(void *arg)
{
	struct upnp_job *j = arg;
	struct nat *n = j->n;

	if (!n) {			/* a removal: nothing to apply */
		free(j);
		return;
	}
	n->job_running = false;
	if (n->dead) {
		/* freed while the job ran: remove what it may have mapped */
		if (j->ok) {
			j->remove = true;
			j->n = NULL;
			worker_submit(n->wp, (struct work){ job_run, job_done,
							     j });
		} else {
			free(j);
		}
		nat_release(n);
		return;
	}
	if (!j->ok) {
		n->have_igd = false;
		give_up(n, j->err[0] ? j->err : "UPnP failed");
		free(j);
		return;
	}
	n->have_igd = true;
	memcpy(n->control_url, j->control_url, sizeof(n->control_url));
	memcpy(n->service_type, j->service_type, sizeof(n->service_type));
	memcpy(n->lan_addr, j->lan_addr, sizeof(n->lan_addr));
	n->st.mapped = true;
	n->st.method = NAT_UPNP;
	n->st.ext_ip = j->ext_ip;
	n->st.ext_port = n->port;
	n->st.lifetime_s = j->lifetime_s;
	n->st.mappings++;
	free(j);
	report(n);
	evloop_timer_arm(n->timer, (uint64_t)n->st.lifetime_s * 500);
}

static struct upnp_job *job_new(const struct nat *n, bool remove)
{
	struct upnp_job *j = xzalloc(sizeof(*j));

	j->remove = remove;
	memcpy(j->igd_url, n->cfg.igd_url, sizeof(j->igd_url));
	j->igd_url[sizeof(j->igd_url) - 1] = 0;
	j->discover_ms = n->cfg.upnp_discover_ms;
	j->port = n->port;
	j->protos = n->protos;
	j->lifetime_s = n->cfg.lifetime_s;
	j->have_igd = n->have_igd;
	memcpy(j->control_url, n->control_url, sizeof(j->control_url));
	memcpy(j->service_type, n->service_type, sizeof(j->service_type));
	memcpy(j->lan_addr, n->lan_addr, sizeof(j->lan_addr));
	return j;
}

static void start_upnp(struct nat *n)
{
	struct upnp_job *j;

	if (n->job_running)
		return;
	j = job_new(n, false);
	j->n = n;
	n->job_running = true;
	worker_submit(n->wp, (struct work){ job_run, job_done, j });
}

/* ---- the object ---- */

/* Timer: NAT-PMP resends and deadline, renewals, retries. */
static void timer_cb(void *arg)
{
	struct nat *n = arg;

	if (n->step != PMP_IDLE) {
		pmp_poll(n);
		return;
	}
	if (n->job_running)
		return;
	/* A renewal keeps to the method that worked; a retry starts over. */
	if (n->st.mapped && n->st.method == NAT_UPNP)
		start_upnp(n);
	else if (n->cfg.natpmp)
		start_natpmp(n);
	else if (n->cfg.upnp)
		start_upnp(n);
}

struct nat *nat_new(struct evloop *el, struct worker_pool *wp,
		    const struct nat_config *cfg, unsigned protos,
		    uint16_t port, nat_status_fn fn, void *arg)
{
	struct nat *n = xzalloc(sizeof(*n));

	n->el = el;
	n->wp = wp;
	n->cfg = *cfg;
	n->protos = protos & (NAT_PROTO_UDP | NAT_PROTO_TCP);
	n->port = port;
	n->fn = fn;
	n->arg = arg;
	n->timer = evloop_timer_new(el, timer_cb, n);
	/* Start from the loop, never inside the caller's call. */
	if (cfg->natpmp || cfg->upnp)
		evloop_timer_arm(n->timer, 0);
	return n;
}

static void nat_release(struct nat *n)
{
	evloop_timer_free(n->timer);
	free(n);
}

void nat_free(struct nat *n)
{
	if (!n)
		return;
	pmp_close(n);
	evloop_timer_disarm(n->timer);
	if (n->st.mapped && n->st.method == NAT_NATPMP)
		pmp_remove(n);
	if (n->st.mapped && n->st.method == NAT_UPNP && n->have_igd) {
		struct upnp_job *j = job_new(n, true);

		worker_submit(n->wp, (struct work){ job_run, job_done, j });
	}
	n->fn = NULL;
	if (n->job_running) {
		n->dead = true;		/* the job's done callback frees n */
		return;
	}
	nat_release(n);
}

void nat_status(const struct nat *n, struct nat_status *out)
{
	*out = n->st;
}
