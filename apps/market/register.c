/*
 * Registering a content in the LicenseRegistry (apps/market/register.h).
 */
#include "config.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/market/keyagent.h"
#include "apps/market/register.h"
#include "apps/market/rpc.h"
#include "chain/rpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/encode.h"
#include "crypto/base/err.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/log.h"
#include "crypto/secmem.h"
#include "router/worker.h"

struct reg_job {
	struct market_registrar *r;
	struct market_register_order o;	/* K inside: wiped */
	market_register_fn cb;
	void *arg;
	/* worker out */
	int err;
	char why[256];
	uint64_t index;
	uint8_t tx[32];
};

struct market_registrar {
	struct chain_deploy dep;
	struct secp_sk *creator;	/* secmem */
	uint8_t agent_addr[20];
	struct market_agent *agent;
	char *keys_path;
	struct market_rpc *rpc;
	struct worker_pool *wp;
	unsigned busy;
};

struct market_registrar *market_registrar_new(const struct chain_deploy *dep,
					      const struct secp_sk *creator,
					      const struct secp_sk *agent_sk,
					      struct market_agent *agent,
					      const char *keys_path,
					      struct market_rpc *rpc,
					      struct worker_pool *wp)
{
	struct market_registrar *r = xzalloc(sizeof(*r));

	r->dep = *dep;
	r->creator = secmem_alloc(sizeof(*r->creator));
	*r->creator = *creator;
	if (secp_sk_address(agent_sk, r->agent_addr) != 0)
		memset(r->agent_addr, 0, 20);	/* the chain refuses it */
	r->agent = agent;
	r->keys_path = keys_path ? xstrdup(keys_path) : NULL;
	r->rpc = rpc;
	r->wp = wp;
	return r;
}

void market_registrar_creator(const struct market_registrar *r,
			      uint8_t out[20])
{
	if (secp_sk_address(r->creator, out) != 0)
		memset(out, 0, 20);
}

void market_registrar_registry(const struct market_registrar *r,
			       uint8_t out[20])
{
	memcpy(out, r->dep.license_registry, 20);
}

unsigned market_registrar_busy(const struct market_registrar *r)
{
	return r ? r->busy : 0;
}

void market_registrar_free(struct market_registrar *r)
{
	if (!r)
		return;
	secmem_free(r->creator);
	free(r->keys_path);
	free(r);
}

/* "INDEX K\n" appended to the agent's key file (worker). */
static int keys_append(const char *path, uint64_t index, const uint8_t k[32])
{
	char line[24 + 1 + 64 + 2];
	int n = snprintf(line, sizeof(line), "%llu ",
			 (unsigned long long)index);
	int fd, r = 0;

	hex_encode(line + n, sizeof(line) - (size_t)n, k, 32);
	n += 64;
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || fsutil_write_all(fd, line, (size_t)n) != 0 ||
	    fsync(fd) != 0)
		r = ERR_IO;
	if (fd >= 0 && close(fd) != 0)
		r = ERR_IO;
	sodium_memzero(line, sizeof(line));
	return r;
}

static void reg_run(void *arg)
{
	struct reg_job *j = arg;
	struct market_registrar *r = j->r;
	struct chain_transport tr = market_rpc_transport(r->rpc);
	struct chain_client *cc = chain_client_new(&tr, r->dep.chain_id);
	struct license_publish p = { 0 };
	struct chain_receipt rc = { 0 };
	struct ev_content_published ev;
	struct bbuf b = BBUF_INIT;
	const char *m;

	memcpy(p.content_hash, j->o.content_hash, 32);
	p.price = j->o.price;
	p.royalty_bps = j->o.royalty_bps;
	p.agent_fee_bps = j->o.agent_fee_bps;
	memcpy(p.key_agent, r->agent_addr, 20);
	license_key_commitment(j->o.key, j->o.content_hash, p.key_commitment);
	if ((j->err = license_publish_call(&b, &p)) != 0) {
		snprintf(j->why, sizeof(j->why), "the price does not fit the "
			 "registry's 96 bits");
		goto out;
	}
	j->err = chain_send(cc, r->creator, r->dep.license_registry, b.data,
			    b.len, NULL, &rc);
	if (j->err != 0) {
		m = chain_client_error(cc);
		snprintf(j->why, sizeof(j->why), "LicenseRegistry.publish: %s",
			 m && *m ? m : err_str(j->err));
		goto out;
	}
	memcpy(j->tx, rc.tx_hash, 32);
	j->err = ERR_NOT_FOUND;
	for (size_t i = 0; i < rc.nlogs && j->err; i++)
		if (memcmp(rc.logs[i].address, r->dep.license_registry,
			   20) == 0 &&
		    ev_content_published_decode(&rc.logs[i], &ev) == 0 &&
		    memcmp(ev.content_hash, j->o.content_hash, 32) == 0 &&
		    u256_fits_u64(&ev.index)) {
			j->index = ev.index.w[0];
			j->err = 0;
		}
	if (j->err) {
		snprintf(j->why, sizeof(j->why), "no ContentPublished event "
			 "for this content in the receipt");
		goto out;
	}
	if (r->keys_path &&
	    keys_append(r->keys_path, j->index, j->o.key) != 0)
		log_warn(LD_APP, "market: cannot add the key of licence %llu "
			 "to %s; the agent holds it until the next restart",
			 (unsigned long long)j->index, r->keys_path);
out:
	chain_receipt_clear(&rc);
	bbuf_free(&b);
	chain_client_free(cc);
}

static void reg_done(void *arg)
{
	struct reg_job *j = arg;
	struct market_registrar *r = j->r;

	r->busy--;
	if (j->err == 0 && r->agent &&
	    market_agent_add_content(r->agent, j->index, j->o.key) != 0) {
		j->err = ERR_LIMIT;
		snprintf(j->why, sizeof(j->why), "registered as licence %llu, "
			 "but the key agent holds too many keys",
			 (unsigned long long)j->index);
	}
	if (j->err == 0)
		log_notice(LD_APP, "market: content registered as licence %llu",
			   (unsigned long long)j->index);
	else
		log_warn(LD_APP, "market: registering a content failed: %s",
			 j->why);
	j->cb(j->arg, j->err, j->why, j->index, j->tx);
	sodium_memzero(&j->o, sizeof(j->o));
	free(j);
}

int market_registrar_start(struct market_registrar *r,
			   const struct market_register_order *o,
			   market_register_fn cb, void *arg)
{
	struct reg_job *j;

	if (r->busy)
		return ERR_BAD_STATE;
	j = xzalloc(sizeof(*j));
	j->r = r;
	j->o = *o;
	j->cb = cb;
	j->arg = arg;
	r->busy++;
	worker_submit(r->wp, (struct work){ reg_run, reg_done, j });
	return 0;
}
