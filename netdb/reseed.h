/*
 * Reseeding (network-database page, "Bootstrapping"; updates spec, "SU3
 * Reseed File Specification"; PROTOCOLS.md 2.18): fill an empty netDb
 * from
 *  - a local su3 file (content type 3, zip of routerInfo-<hash>.dat files
 *    at top level), its signature checked against the configured signer
 *    certificates (a PEM file, or a directory of them);
 *  - a directory of routerInfo-*.dat files (flat, or i2pd's r<c>/ layout);
 *  - an HTTPS reseed server: GET <url>/i2pseeds.su3?netid=N over
 *    libevent + OpenSSL (certificate and host name verified against the
 *    system roots or a configured CA file), then the su3 as above.
 * Every RouterInfo is decoded and its signature and netId checked before
 * it is stored; the heavy work (file I/O, RSA, unzip, Ed25519) runs on
 * the worker pool.
 *
 * Thread: loop thread, except the *_parse/_read functions, which are pure
 * and meant for workers.
 */
#ifndef NETDB_RESEED_H
#define NETDB_RESEED_H

#include "netdb/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netdb;
struct router_info;
struct su3_signer;

/* i2pd's default reseed.threshold: reseed below this many routers. */
#define NETDB_RESEED_THRESHOLD 25
#define RESEED_MAX_ENTRIES 2000
#define RESEED_MAX_ENTRY_BYTES 65536
#define RESEED_MAX_SIGNERS 64
#define RESEED_FILE_NAME "i2pseeds.su3"
#define RESEED_HTTP_TIMEOUT_S 60
#define RESEED_MAX_URL_BYTES 1024
/* The heap a directory's RouterInfos may take (the netDb's default for
 * all of them: a directory of more is not read past it). */
#define RESEED_MAX_DIR_BYTES NETDB_MAX_RI_BYTES

/* Where to reseed from; any may be NULL.  Strings borrowed for the call
 * to netdb_reseed_start(). */
struct netdb_reseed_cfg {
	const char *su3_file;
	const char *dir;
	const char *url;		/* https://host[:port][/path] */
	const char *signers;		/* PEM certificate file or directory */
	const char *cafile;		/* TLS roots for url; NULL: system */
};

/* RouterInfos that passed every check, for the loop to store. */
struct reseed_result {
	struct router_info **ris;
	size_t n;
	size_t bad;			/* entries refused */
	bool full;			/* a directory held more than
					 * RESEED_MAX_DIR_BYTES: the rest unread */
};
void reseed_result_clear(struct reseed_result *r);

/*
 * Load the signer certificates at path: one PEM file, or every *.crt
 * and *.pem file of a directory.  Returns how many were loaded into out
 * (at most max); files that fail are skipped and logged.  ERR_NOT_FOUND
 * when none could be loaded, ERR_IO.  Worker.
 */
int reseed_signers_load(const char *path, struct su3_signer **out, size_t max,
			size_t *n);
/*
 * Check an su3 reseed bundle (untrusted bytes) and collect its
 * RouterInfos: content type reseed, file type zip, signed by one of
 * signers; each zip entry named routerInfo-<44 Base64 chars>.dat at top
 * level, whose hash is that name, on netid, with a good signature (others
 * are counted in out->bad).  Errors: su3_decode()'s, ERR_UNSUPPORTED (not
 * a reseed zip), ERR_NOT_FOUND (no signer for its signer ID),
 * su3_verify()'s, zip_foreach()'s.  Worker.
 */
int reseed_su3_parse(const uint8_t *buf, size_t len,
		     struct su3_signer *const *signers, size_t n_signers,
		     uint8_t netid, struct reseed_result *out);
/* Collect the routerInfo-*.dat files of dir (and of its r?/ subdirs),
 * as many as RESEED_MAX_DIR_BYTES holds (out->full: more were there).
 * ERR_NOT_FOUND for the directory itself.  Worker. */
int reseed_dir_read(const char *dir, uint8_t netid, struct reseed_result *out);
/*
 * One pass over the same files: want(ctx, hash), if not NULL, is asked
 * with each file name's hash first (false: the file is not read); each
 * RouterInfo that passes the checks goes to take(ctx, ri), which owns it
 * and returns false to end the pass.  *bad (if not NULL): the files read
 * and refused.  ERR_NOT_FOUND for the directory itself.  Worker.
 */
int reseed_dir_foreach(const char *dir, uint8_t netid,
		       bool (*want)(void *ctx, const uint8_t hash[32]),
		       bool (*take)(void *ctx, struct router_info *ri),
		       void *ctx, size_t *bad);

/*
 * Reseed db from cfg's sources, in order (file, directory, URL) until one
 * yields routers; then done(ctx, err, added) on the loop (err 0 when
 * something was added).  ERR_BAD_STATE when a reseed runs already,
 * ERR_ARG when cfg names no source.
 */
int netdb_reseed_start(struct netdb *db, const struct netdb_reseed_cfg *cfg,
		       void (*done)(void *ctx, int err, size_t added),
		       void *ctx);
bool netdb_reseed_is_busy(const struct netdb *db);

#endif /* NETDB_RESEED_H */
