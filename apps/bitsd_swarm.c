/*
 * bitsd's swarm subsystem (apps/bitsd_swarm.h): the configuration keys
 * turned into a struct swarm_service_cfg.
 */
#include "config.h"
#include "apps/bitsd_swarm.h"
#include "apps/client/dest.h"
#include "apps/swarm/service.h"
#include "router/b33.h"
#include "router/conf.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_trackers(const char *list, struct swarm_service_cfg *c)
{
	const char *p = list;

	while (p && *p) {
		size_t n;
		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == 0)
			break;
		if (c->ntrackers == SWARM_TRACKERS_MAX ||
		    !b32_hash_parse(p, n, c->trackers[c->ntrackers])) {
			log_err(LD_APP, "swarm.trackers: not a tracker address "
				"(b32 or 64 hex digits, at most %d): %.*s",
				SWARM_TRACKERS_MAX, (int)(n > 80 ? 80 : n), p);
			return ERR_FORMAT;
		}
		c->ntrackers++;
		p += n;
	}
	return 0;
}

int bitsd_swarm_start(struct evloop *el, const struct conf *cfg,
		      const struct client_net *net,
		      struct swarm_service **out)
{
	struct swarm_service_cfg sc;
	int r;

	swarm_service_cfg_default(&sc);
	sc.datadir = cfg->swarm_dir ? cfg->swarm_dir : cfg->datadir;
	sc.storage_bytes = (uint64_t)cfg->swarm_storage_mib << 20;
	sc.swarm.upload_Bps = cfg->swarm_upload_kBps * 1000u;
	sc.tracker = cfg->swarm_tracker;
	sc.capture_path = cfg->swarm_capture;
	sc.http = true;
	sc.http_port = cfg->swarm_http_port ? cfg->swarm_http_port :
					      BITSD_SWARM_HTTP_PORT;
	if (cfg->swarm_trackers &&
	    (r = parse_trackers(cfg->swarm_trackers, &sc)) != 0)
		return r;
	if ((r = swarm_service_start(el, &sc, net, out)) != 0)
		return r;
	client_dest_write_b32(sc.datadir, "swarm.b32",
			      swarm_service_dest(*out), "swarm");
	return 0;
}
