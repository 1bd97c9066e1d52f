/*
 * Our RouterInfo (router/router_self.h).  The building blocks are
 * router/router_info.h and router/router_address.h; this module only
 * decides what we publish.  Written on every start and on SIGHUP, so a
 * changed host, port or netId takes effect without new keys.  At most one
 * write job runs at a time; a newer RouterInfo waits in `pending`, so an
 * older one can never overwrite it.
 */
#include "config.h"
#include "router/router_self.h"
#include "router/ssu2_handshake.h"
#include "router/conf.h"
#include "crypto/base/fsutil.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "router/ri_pay.h"
#include "router/worker.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/keystore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint16_t router_self_port(const struct conf *cfg,
			  const uint8_t hash[SHA256_BYTES])
{
	const uint32_t span = ROUTER_SELF_PORT_MAX - ROUTER_SELF_PORT_MIN + 1;

	if (cfg->port)
		return cfg->port;
	return (uint16_t)(ROUTER_SELF_PORT_MIN + be32_get(hash) % span);
}

/* An SSU2 address (ssu2 spec, "Published Router Address"): host, port
 * (the NTCP2 one, UDP), s, i, v=2 and caps 4 (6 on an IPv6 host), "4BC"
 * once a peer test said reachable (rr->introducer: we give relay tags
 * and introduce, and take part in peer tests as Bob or Charlie, which
 * a Charlie must be reachable for: Alice's message 6 comes unasked).
 * Firewalled: no host or port, and our introducers ("Published
 * Addresses" with introducers); IPv6 by its own peer tests (rr's
 * firewalled6 and reachable6), with its own introducers (intro6). */
static int add_ssu2(struct router_info *ri, const struct conf *cfg,
		    const struct keystore *ks, const uint8_t hash[32],
		    const char *host, const struct router_self_reach *rr)
{
	bool v6 = strchr(host, ':') != NULL;
	bool fw = rr && (v6 ? rr->firewalled6 : rr->firewalled);
	bool ok = !fw && rr && (v6 ? rr->reachable6 : rr->introducer);
	struct router_address a = ROUTER_ADDRESS_INIT;
	struct x25519_pk s;
	uint8_t ik[SSU2_INTRO_KEY_BYTES];
	int r;

	keystore_x25519_pk(ks, KEYSTORE_X_SSU2, &s);
	if ((r = ssu2_intro_key_derive(ks, ik)) != 0 ||
	    (r = router_address_ssu2_build(&a, ROUTER_SELF_SSU2_COST, &s, ik,
					   fw ? NULL : host,
					   fw ? 0 : router_self_port(cfg, hash),
					   v6 ? (ok ? "6BC" : "6") :
					   ok ? "4BC" : "4",
					   !fw ? NULL :
					   v6 ? rr->intro6 : rr->intro,
					   !fw ? 0 :
					   v6 ? rr->nintro6 : rr->nintro)) != 0 ||
	    (r = router_info_add_address(ri, &a)) != 0) {
		router_address_clear(&a);
		return r;
	}
	return 0;
}

/* An NTCP2 address on host: host, port, s, i, v=2 (host NULL: only s
 * and v). */
static int add_ntcp2(struct router_info *ri, const char *host,
		     const struct conf *cfg, const struct router_keys *keys,
		     const struct x25519_pk *s, const uint8_t hash[32])
{
	struct router_address a = ROUTER_ADDRESS_INIT;
	int r;

	if ((r = router_address_ntcp2_build(&a, ROUTER_SELF_NTCP2_COST, s,
					    host, host ?
					    router_self_port(cfg, hash) : 0,
					    host ? router_keys_ntcp2_iv(keys) :
					    NULL)) != 0 ||
	    (r = router_info_add_address(ri, &a)) != 0)
		router_address_clear(&a);
	return r;
}

/* relay.pay: bits.pay.* with the configured price (docs/relaypay.md §2). */
static int add_pay(struct router_info *ri, const struct conf *cfg,
		   const struct router_self_reach *rr)
{
	struct ri_pay p;

	if (!cfg->relay_pay || !rr || !rr->pay)
		return 0;
	if (!cfg->relay_pay_price)
		return ERR_ARG;
	p = *rr->pay;
	if (strlen(cfg->relay_pay_price) >= sizeof(p.price))
		return ERR_FORMAT;
	memcpy(p.price, cfg->relay_pay_price, strlen(cfg->relay_pay_price) + 1);
	return ri_pay_publish(ri, &p);
}

void router_self_caps(const struct conf *cfg, bool firewalled, char buf[4])
{
	static const struct { uint32_t below; char letter; } cls[] = {
		{ 12, 'K' }, { 48, 'L' }, { 64, 'M' }, { 128, 'N' },
		{ 256, 'O' }, { 2000, 'P' },
	};
	uint64_t share = (uint64_t)cfg->bandwidth_kBps *
			 cfg->transit_share_pct / 100;
	char letter = 'X';
	size_t n = 0;

	if (!cfg->bandwidth_kBps)
		letter = 'L';
	else
		for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++)
			if (share < cls[i].below ||
			    (share == cls[i].below && cls[i].letter != 'K')) {
				letter = cls[i].letter;
				break;
			}
	buf[n++] = letter;
	if (cfg->floodfill && !firewalled)
		buf[n++] = 'f';
	buf[n++] = firewalled ? 'U' : 'R';
	buf[n] = '\0';
}

int router_self_build(const struct conf *cfg, const struct router_keys *keys,
		      struct router_info **out)
{
	return router_self_build_reach(cfg, keys, NULL, out);
}

int router_self_build_reach(const struct conf *cfg,
			    const struct router_keys *keys,
			    const struct router_self_reach *rr,
			    struct router_info **out)
{
	const struct keystore *ks = router_keys_keystore(keys);
	bool fw = rr && rr->firewalled;
	struct router_info *ri;
	struct keys_and_cert id;
	struct x25519_pk ntcp2;
	char caps[4];
	int r;

	router_self_caps(cfg, fw, caps);
	router_keys_identity(keys, &id);
	keystore_x25519_pk(ks, KEYSTORE_X_NTCP2, &ntcp2);
	ri = router_info_new(&id);
	if ((r = add_ntcp2(ri, fw ? NULL : cfg->host, cfg, keys, &ntcp2,
			   id.hash)) != 0 ||
	    (cfg->host6 && !(rr && rr->firewalled6) &&
	     (r = add_ntcp2(ri, cfg->host6, cfg, keys, &ntcp2,
			    id.hash)) != 0) ||
	    (cfg->ssu2 && (r = add_ssu2(ri, cfg, ks, id.hash, cfg->host,
					rr)) != 0) ||
	    (cfg->ssu2 && cfg->host6 &&
	     (r = add_ssu2(ri, cfg, ks, id.hash, cfg->host6, rr)) != 0) ||
	    (r = router_info_set_basic_options(ri, cfg->netid, caps)) != 0 ||
	    (r = add_pay(ri, cfg, rr)) != 0 ||
	    (r = router_info_sign(ri, ks)) != 0)
		goto out;
	*out = ri;
	ri = NULL;
out:
	router_info_free(ri);
	return r;
}

/* Log the outcome of writing ri to path (err_no: errno of a failure). */
static void report_write(const struct router_info *ri, const char *path,
			 int r, int err_no)
{
	char hash[80];

	if (r != 0)
		log_err(LD_ROUTER, "cannot write %s: %s", path,
			r == ERR_IO ? strerror(err_no) : err_str(r));
	else
		log_notice(LD_ROUTER, "wrote %s: router %s, netId %s", path,
			   log_safe_hash(hash, sizeof(hash),
					 router_info_hash(ri)),
			   router_info_option(ri, "netId"));
}

static int build_logged(const struct conf *cfg,
			const struct router_keys *keys,
			const struct router_self_reach *rr,
			struct router_info **out)
{
	int r = router_self_build_reach(cfg, keys, rr, out);

	if (r != 0)
		log_err(LD_ROUTER, "cannot build our RouterInfo: %s",
			err_str(r));
	return r;
}

int router_self_publish(const struct conf *cfg,
			const struct router_keys *keys)
{
	char *path = fsutil_path_join(cfg->datadir, ROUTER_SELF_FILE_NAME);
	struct router_info *ri = NULL;
	int r;

	if ((r = build_logged(cfg, keys, NULL, &ri)) == 0) {
		r = router_info_file_write(ri, path);
		report_write(ri, path, r, errno);
	}
	router_info_free(ri);
	free(path);
	return r;
}

struct router_self {
	struct worker_pool *wp;
	bool writing;			/* a job is queued or running */
	bool closing;			/* freed by the job's done callback */
	struct router_info *pending;	/* newest RouterInfo, waiting */
	char *pending_path;
};

/* One write: owned by the job from submit to done. */
struct write_job {
	struct router_self *rs;	/* alive until done: see router_self_free */
	struct router_info *ri;
	char *path;
	int result, err_no;
};

static void write_run(void *arg)
{
	struct write_job *j = arg;

	j->result = router_info_file_write(j->ri, j->path);
	j->err_no = errno;
}

static void submit_write(struct router_self *rs, struct router_info *ri,
			 char *path);

static void write_done(void *arg)
{
	struct write_job *j = arg;
	struct router_self *rs = j->rs;

	report_write(j->ri, j->path, j->result, j->err_no);
	router_info_free(j->ri);
	free(j->path);
	free(j);
	rs->writing = false;
	if (rs->closing) {
		free(rs);
	} else if (rs->pending) {
		struct router_info *ri = rs->pending;
		char *path = rs->pending_path;

		rs->pending = NULL;
		rs->pending_path = NULL;
		submit_write(rs, ri, path);
	}
}

/* Takes ri and path. */
static void submit_write(struct router_self *rs, struct router_info *ri,
			 char *path)
{
	struct write_job *j = xzalloc(sizeof(*j));

	j->rs = rs;
	j->ri = ri;
	j->path = path;
	rs->writing = true;
	worker_submit(rs->wp, (struct work){ write_run, write_done, j });
}

struct router_self *router_self_new(struct worker_pool *wp)
{
	struct router_self *rs = xzalloc(sizeof(*rs));

	rs->wp = wp;
	return rs;
}

int router_self_refresh(struct router_self *rs, const struct conf *cfg,
			const struct router_keys *keys)
{
	return router_self_refresh_reach(rs, cfg, keys, NULL);
}

int router_self_refresh_reach(struct router_self *rs, const struct conf *cfg,
			      const struct router_keys *keys,
			      const struct router_self_reach *rr)
{
	struct router_info *ri = NULL;
	char *path;
	int r;

	if ((r = build_logged(cfg, keys, rr, &ri)) != 0)
		return r;
	path = fsutil_path_join(cfg->datadir, ROUTER_SELF_FILE_NAME);
	if (!rs->writing) {
		submit_write(rs, ri, path);
		return 0;
	}
	router_info_free(rs->pending);	/* superseded, never written */
	free(rs->pending_path);
	rs->pending = ri;
	rs->pending_path = path;
	return 0;
}

bool router_self_is_busy(const struct router_self *rs)
{
	return rs->writing;
}

void router_self_free(struct router_self *rs)
{
	if (!rs)
		return;
	FREE_AND_NULL(router_info_free, rs->pending);
	FREE_AND_NULL(free, rs->pending_path);
	if (rs->writing)
		rs->closing = true;	/* write_done frees it */
	else
		free(rs);
}
