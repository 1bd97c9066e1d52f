/*
 * The key agent and the holder's side of key release
 * (apps/market/keyagent.h, CHAIN.md §5 step 3).
 */
#include "config.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "apps/client/stream.h"
#include "apps/market/keyagent.h"
#include "apps/market/link.h"
#include "apps/market/rpc.h"
#include "apps/market/service.h"
#include "chain/calls.h"
#include "chain/jsonrpc.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"
#include "crypto/secmem.h"
#include "router/evloop.h"

const char *market_key_status_str(int status)
{
	switch (status) {
	case MARKET_KEY_OK:
		return "ok";
	case MARKET_KEY_BAD_REQUEST:
		return "bad request";
	case MARKET_KEY_EXPIRED:
		return "request expired or deadline too far";
	case MARKET_KEY_NOT_HOLDER:
		return "the signer does not hold this licence";
	case MARKET_KEY_UNKNOWN:
		return "this agent has no key for the content";
	case MARKET_KEY_CHAIN:
		return "the agent cannot reach the chain";
	case MARKET_KEY_BUSY:
		return "the agent is busy";
	default:
		return "unknown status";
	}
}

/* ------------------------------------------------------------ the codec */

void market_key_request_id(uint64_t chain_id, const uint8_t key_release[20],
			   const struct eip712_key_request *kr,
			   uint8_t out[32])
{
	struct eip712_domain d = { EIP712_NAME_KEYRELEASE, chain_id, { 0 } };
	uint8_t sep[32], h[32];

	memcpy(d.verifying, key_release, 20);
	eip712_domain_separator(&d, sep);
	eip712_hash_key_request(kr, h);
	eip712_digest(sep, h, out);
}

int market_key_request_sign(uint64_t chain_id, const uint8_t key_release[20],
			    const struct eip712_key_request *kr,
			    const struct secp_sk *h,
			    struct market_key_request *out)
{
	uint8_t id[32];

	market_key_request_id(chain_id, key_release, kr, id);
	out->kr = *kr;
	return secp_sign(h, id, out->sig);
}

void market_key_request_encode(const struct market_key_request *r,
			       uint8_t out[MARKET_KEY_REQUEST_BYTES])
{
	u256_to_be(&r->kr.token_id, out);
	memcpy(out + 32, r->kr.eph_pub, SECP_PK_BYTES);
	be64_put(out + 32 + SECP_PK_BYTES, r->kr.deadline);
	memcpy(out + 32 + SECP_PK_BYTES + 8, r->sig, SECP_SIG_BYTES);
}

int market_key_request_decode(const uint8_t *p, size_t len,
			      struct market_key_request *out)
{
	struct market_key_request r;
	struct secp_pk pk;
	struct breader br;

	if (len != MARKET_KEY_REQUEST_BYTES)
		return len < MARKET_KEY_REQUEST_BYTES ? ERR_TRUNCATED
						      : ERR_FORMAT;
	br_init(&br, p, len);
	if (u256_from_be(&r.kr.token_id, br_take(&br, 32), 32) != 0)
		return ERR_FORMAT;
	br_copy(&br, r.kr.eph_pub, SECP_PK_BYTES);
	r.kr.deadline = br_be64(&br);
	br_copy(&br, r.sig, SECP_SIG_BYTES);
	if (!br_done(&br))
		return ERR_TRUNCATED;
	/* E must be a compressed point: the wrap is over address(a·E). */
	if ((r.kr.eph_pub[0] != 2 && r.kr.eph_pub[0] != 3) ||
	    secp_pk_parse(&pk, r.kr.eph_pub, SECP_PK_BYTES) != 0)
		return ERR_FORMAT;
	*out = r;
	return 0;
}

int market_key_reply_decode(const uint8_t *p, size_t len, int *status,
			    uint8_t w[32])
{
	if (len == 1 && p[0] != MARKET_KEY_OK && p[0] <= MARKET_KEY_BUSY) {
		*status = p[0];
		return 0;
	}
	if (len == 1 + 32 && p[0] == MARKET_KEY_OK) {
		*status = MARKET_KEY_OK;
		memcpy(w, p + 1, 32);
		return 0;
	}
	return ERR_FORMAT;
}

int market_key_pubkey_decode(const uint8_t *p, size_t len,
			     struct secp_pk *out)
{
	if (len != SECP_PK_BYTES || (p[0] != 2 && p[0] != 3) ||
	    secp_pk_parse(out, p, len) != 0)
		return ERR_FORMAT;
	return 0;
}

int market_key_unwrap(const uint8_t w[32], const struct secp_sk *e,
		      const struct secp_pk *agent,
		      const uint8_t request_id[32],
		      const uint8_t content_hash[32],
		      const uint8_t key_commitment[32], uint8_t key[32])
{
	uint8_t k[32], c[32];
	int r;

	if ((r = keyrel_wrap(k, w, e, agent, request_id)) != 0)
		return r;
	license_key_commitment(k, content_hash, c);
	if (sodium_memcmp(c, key_commitment, 32) != 0) {
		sodium_memzero(k, sizeof(k));
		return ERR_AUTH;
	}
	memcpy(key, k, 32);
	sodium_memzero(k, sizeof(k));
	return 0;
}

/* ------------------------------------------------------------ the agent */

struct ag_content {
	uint64_t index;
	uint8_t key[32];
};

/* A request being checked on chain; outlives its connection. */
struct ag_job {
	struct market_agent *ag;	/* NULL once the agent is freed */
	struct market_conn *conn;	/* NULL once the stream is gone */
	struct market_key_request req;
	uint8_t request_id[32];
	uint8_t signer[20];
	uint64_t index;
	uint64_t tip;
	uint64_t rpc_id;
	unsigned step;
	struct ag_job *next, **pprev;
};

struct market_agent {
	struct market_agent_config cfg;
	struct secp_sk *a;		/* secmem */
	struct secp_pk A;		/* its public key, for the query */
	struct market_rpc *rpc;
	struct evloop *el;
	struct ag_content *contents;	/* secmem, MARKET_KEY_CONTENTS_MAX */
	size_t ncontents;
	struct market_service sv;
	struct market_rate rate;
	struct ag_job *jobs;
	unsigned njobs;
	uint64_t next_rpc_id;
	struct market_agent_stats stats;
};

void market_agent_config_default(struct market_agent_config *c)
{
	memset(c, 0, sizeof(*c));
	c->confirmations = MARKET_KEY_CONFIRMATIONS;
	c->max_deadline_s = MARKET_KEY_MAX_DEADLINE_S;
	c->rate_per_sec = MARKET_KEY_RATE_PER_SEC;
	c->rate_burst = MARKET_KEY_RATE_BURST;
}

static void ag_request(void *ctx, struct market_conn *c, const uint8_t *p,
		       size_t len);

struct market_agent *market_agent_new(const struct market_agent_config *c,
				      const struct secp_sk *a,
				      struct market_rpc *rpc,
				      struct evloop *el)
{
	struct market_agent *ag = xcalloc(1, sizeof(*ag));

	ag->cfg = *c;
	ag->a = secmem_alloc(sizeof(*ag->a));
	*ag->a = *a;
	if (secp_sk_pubkey(a, &ag->A) != 0)
		memset(&ag->A, 0, sizeof(ag->A));
	ag->contents = secmem_alloc(MARKET_KEY_CONTENTS_MAX *
				    sizeof(*ag->contents));
	ag->rpc = rpc;
	ag->el = el;
	ag->next_rpc_id = 1;
	market_service_init(&ag->sv, MARKET_KEY_REQUEST_BYTES, 256,
			    ag_request, ag);
	market_rate_init(&ag->rate, c->rate_per_sec, c->rate_burst);
	return ag;
}

int market_agent_add_content(struct market_agent *ag, uint64_t index,
			     const uint8_t key[32])
{
	for (size_t i = 0; i < ag->ncontents; i++)
		if (ag->contents[i].index == index) {
			memcpy(ag->contents[i].key, key, 32);
			return 0;
		}
	if (ag->ncontents >= MARKET_KEY_CONTENTS_MAX)
		return ERR_LIMIT;
	ag->contents[ag->ncontents].index = index;
	memcpy(ag->contents[ag->ncontents].key, key, 32);
	ag->ncontents++;
	return 0;
}

static const struct ag_content *content_find(const struct market_agent *ag,
					     uint64_t index)
{
	for (size_t i = 0; i < ag->ncontents; i++)
		if (ag->contents[i].index == index)
			return &ag->contents[i];
	return NULL;
}

void market_agent_free(struct market_agent *ag)
{
	if (!ag)
		return;
	market_service_clear(&ag->sv);
	for (struct ag_job *j = ag->jobs; j; j = j->next)
		j->ag = NULL;
	secmem_free(ag->a);
	secmem_free(ag->contents);
	free(ag);
}

static void reply_status(struct market_conn *c, int status)
{
	uint8_t b = (uint8_t)status;

	market_conn_reply(c, &b, 1);
}

/* Answer the job's request and drop the job. */
static void job_end(struct ag_job *j, int status, const uint8_t w[33])
{
	struct market_agent *ag = j->ag;
	struct market_conn *c = j->conn;
	uint8_t st = (uint8_t)status;

	if (ag) {
		ag->njobs--;
		if (j->next)
			j->next->pprev = j->pprev;
		*j->pprev = j->next;
		switch (status) {
		case MARKET_KEY_OK:
			ag->stats.released++;
			break;
		case MARKET_KEY_EXPIRED:
			ag->stats.expired++;
			break;
		case MARKET_KEY_NOT_HOLDER:
			ag->stats.not_holder++;
			break;
		case MARKET_KEY_CHAIN:
			ag->stats.chain_errors++;
			break;
		default:
			break;
		}
	}
	sodium_memzero(j, sizeof(*j));
	free(j);
	if (c && status == MARKET_KEY_OK)
		market_conn_finish(c, w, 33);
	else if (c)
		market_conn_finish(c, &st, 1);
}

static void job_step(struct ag_job *j, json_t *res, int err);

static void job_rpc_done(void *arg, int err, const uint8_t *body, size_t len)
{
	struct ag_job *j = arg;
	struct jsonrpc_error e = { 0 };
	json_t *res = NULL;

	if (!j->ag) {		/* the agent is gone */
		job_end(j, MARKET_KEY_CHAIN, NULL);
		return;
	}
	if (err == 0)
		err = jsonrpc_response_parse(body, len, j->rpc_id, &res, &e);
	/* A revert of ownerOf (no such token) is an answer, not a failure. */
	if (err == ERR_PROTOCOL && e.remote && j->step >= 1)
		err = ERR_NOT_FOUND;
	job_step(j, res, err);
	json_decref(res);
}

static void job_call(struct ag_job *j, const char *method, json_t *params)
{
	char *req = NULL;
	size_t len = 0;

	j->rpc_id = j->ag->next_rpc_id++;
	if (jsonrpc_request_format(j->rpc_id, method, params, &req, &len) !=
	    0) {
		job_end(j, MARKET_KEY_CHAIN, NULL);
		return;
	}
	market_rpc_exchange(j->ag->rpc, req, len, JSONRPC_MAX_REPLY_BYTES,
			    job_rpc_done, j);
	free(req);
}

static void call_owner_of(struct ag_job *j, uint64_t block)
{
	struct bbuf b = BBUF_INIT;

	license_owner_of_call(&b, &j->req.kr.token_id);
	job_call(j, "eth_call", json_pack("[{s:o, s:o}, o]", "to",
		 jsonrpc_hex_address(j->ag->cfg.license_registry), "data",
		 jsonrpc_hex_data(b.data, b.len), jsonrpc_hex_u64(block)));
	bbuf_free(&b);
}

/* The owner in an ownerOf reply equals the signer. */
static bool owner_is_signer(const struct ag_job *j, const json_t *res)
{
	uint8_t ret[32];
	size_t n = 0;

	if (jsonrpc_get_data(res, ret, sizeof(ret), &n) != 0 || n != 32)
		return false;
	return sodium_memcmp(ret + 12, j->signer, 20) == 0 &&
	       sodium_is_zero(ret, 12);
}

static void job_release(struct ag_job *j)
{
	const struct ag_content *ct = content_find(j->ag, j->index);
	struct secp_pk eph;
	uint8_t w[33];

	if (!ct) {
		job_end(j, MARKET_KEY_UNKNOWN, NULL);
		return;
	}
	w[0] = MARKET_KEY_OK;
	/* w = K ⊕ keccak256(address(a·E) ‖ requestId) (CHAIN.md §5.3) */
	if (secp_pk_parse(&eph, j->req.kr.eph_pub, SECP_PK_BYTES) != 0 ||
	    keyrel_wrap(w + 1, ct->key, j->ag->a, &eph, j->request_id) != 0) {
		job_end(j, MARKET_KEY_BAD_REQUEST, NULL);
		return;
	}
	job_end(j, MARKET_KEY_OK, w);
	sodium_memzero(w, sizeof(w));
}

/*
 * Steps: 0 latest block (number, timestamp: the deadline is checked
 * against chain time), 1 ownerOf at that block (a licence resold since
 * gets nothing for the old holder), 2 ownerOf `confirmations` deeper (a
 * purchase a reorganisation could undo gets nothing yet).
 */
static void job_step(struct ag_job *j, json_t *res, int err)
{
	const struct market_agent_config *cfg = &j->ag->cfg;
	uint64_t ts;

	if (err != 0 && err != ERR_NOT_FOUND) {
		log_info(LD_APP, "key agent: chain RPC failed: %s",
			 err_str(err));
		job_end(j, MARKET_KEY_CHAIN, NULL);
		return;
	}
	switch (j->step++) {
	case 0:
		if (!json_is_object(res) ||
		    jsonrpc_get_u64(json_object_get(res, "number"),
				    &j->tip) != 0 ||
		    jsonrpc_get_u64(json_object_get(res, "timestamp"),
				    &ts) != 0) {
			job_end(j, MARKET_KEY_CHAIN, NULL);
			return;
		}
		if (j->req.kr.deadline < ts ||
		    j->req.kr.deadline - ts > cfg->max_deadline_s) {
			job_end(j, MARKET_KEY_EXPIRED, NULL);
			return;
		}
		call_owner_of(j, j->tip);
		return;
	case 1:
		if (err || !owner_is_signer(j, res)) {
			job_end(j, MARKET_KEY_NOT_HOLDER, NULL);
			return;
		}
		if (j->tip < cfg->confirmations) {
			job_end(j, MARKET_KEY_NOT_HOLDER, NULL);
			return;
		}
		call_owner_of(j, j->tip - cfg->confirmations);
		return;
	default:
		if (err || !owner_is_signer(j, res)) {
			job_end(j, MARKET_KEY_NOT_HOLDER, NULL);
			return;
		}
		job_release(j);
		return;
	}
}

/* Check one request frame and start its job (or answer at once). */
static void ag_request(void *ctx, struct market_conn *c, const uint8_t *p,
		       size_t len)
{
	struct market_agent *ag = ctx;
	struct market_key_request r;
	struct ag_job *j;
	uint8_t tid[32];

	ag->stats.requests++;
	if (!market_rate_take(&ag->rate, market_conn_peer_hash(c))) {
		ag->stats.busy++;
		reply_status(c, MARKET_KEY_BUSY);
		return;
	}
	if (len == 1 && p[0] == MARKET_KEY_PUBKEY_QUERY) {
		market_conn_reply(c, ag->A.b, SECP_PK_BYTES);
		return;
	}
	if (market_key_request_decode(p, len, &r) != 0) {
		ag->stats.bad++;
		reply_status(c, MARKET_KEY_BAD_REQUEST);
		return;
	}
	/* tokenId = index << 64 | serial (CHAIN.md §2) */
	u256_to_be(&r.kr.token_id, tid);
	if (!sodium_is_zero(tid, 16) ||
	    !content_find(ag, be64_get(tid + 16))) {
		ag->stats.unknown++;
		reply_status(c, MARKET_KEY_UNKNOWN);
		return;
	}
	if (ag->njobs >= MARKET_KEY_MAX_JOBS) {
		ag->stats.busy++;
		reply_status(c, MARKET_KEY_BUSY);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->req = r;
	j->index = be64_get(tid + 16);
	market_key_request_id(ag->cfg.chain_id, ag->cfg.key_release, &r.kr,
			      j->request_id);
	if (secp_recover(j->request_id, r.sig, j->signer) != 0) {
		free(j);
		ag->stats.bad++;
		reply_status(c, MARKET_KEY_BAD_REQUEST);
		return;
	}
	j->ag = ag;
	market_conn_hold(c, &j->conn);
	j->next = ag->jobs;
	if (j->next)
		j->next->pprev = &j->next;
	j->pprev = &ag->jobs;
	ag->jobs = j;
	ag->njobs++;
	job_call(j, "eth_getBlockByNumber", json_pack("[sb]", "latest", 0));
}

void market_agent_accept(struct market_agent *ag, struct stream *s)
{
	market_service_accept(&ag->sv, s);
}

void market_agent_serve(struct market_agent *ag, struct stream_mgr *mgr)
{
	market_service_serve(&ag->sv, mgr);
}

void market_agent_stats(const struct market_agent *ag,
			struct market_agent_stats *out)
{
	*out = ag->stats;
}

/* ------------------------------------------------------ the holder side */

struct key_fetch {
	market_key_fetch_fn done;
	void *arg;
};

static void fetch_reply(void *arg, int err, const uint8_t *p, size_t len)
{
	struct key_fetch *f = arg;
	uint8_t w[32];
	int status = 0;

	if (err == 0 && market_key_reply_decode(p, len, &status, w) != 0)
		err = ERR_PROTOCOL;
	f->done(f->arg, err, status, err ? NULL : w);
	sodium_memzero(w, sizeof(w));
	free(f);
}

int market_key_fetch(struct stream_mgr *mgr, struct evloop *el,
		     const struct keys_and_cert *agent,
		     const struct market_key_request *r, unsigned timeout_ms,
		     market_key_fetch_fn done, void *arg)
{
	struct key_fetch *f = xcalloc(1, sizeof(*f));
	uint8_t buf[MARKET_KEY_REQUEST_BYTES];
	int err;

	f->done = done;
	f->arg = arg;
	market_key_request_encode(r, buf);
	err = market_call(mgr, el, agent, buf, sizeof(buf),
			  MARKET_KEY_REPLY_MAX_BYTES, timeout_ms, fetch_reply,
			  f);
	if (err)
		free(f);
	return err;
}

struct pubkey_fetch {
	market_key_pubkey_fn done;
	void *arg;
};

static void pubkey_reply(void *arg, int err, const uint8_t *p, size_t len)
{
	struct pubkey_fetch *f = arg;
	struct secp_pk A;

	if (err == 0 && market_key_pubkey_decode(p, len, &A) != 0)
		err = ERR_PROTOCOL;
	f->done(f->arg, err, err ? NULL : &A);
	free(f);
}

int market_key_pubkey_fetch(struct stream_mgr *mgr, struct evloop *el,
			    const struct keys_and_cert *agent,
			    unsigned timeout_ms, market_key_pubkey_fn done,
			    void *arg)
{
	struct pubkey_fetch *f = xcalloc(1, sizeof(*f));
	const uint8_t q = MARKET_KEY_PUBKEY_QUERY;
	int err;

	f->done = done;
	f->arg = arg;
	err = market_call(mgr, el, agent, &q, 1, SECP_PK_BYTES, timeout_ms,
			  pubkey_reply, f);
	if (err)
		free(f);
	return err;
}
