/*
 * Our RouterInfo (router/router_self.h).  The building blocks are
 * router/router_info.h and router/router_address.h; this module only
 * decides what we publish.  Refreshed on every start and on SIGHUP, so a
 * changed host, port or netId takes effect without new keys.
 */
#include "config.h"
#include "router/router_self.h"
#include "router/conf.h"
#include "router/fsutil.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "router/router_keys.h"
#include "crypto/base/alloc.h"
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

int router_self_build(const struct conf *cfg, const struct router_keys *keys,
		      struct router_info **out)
{
	const struct keystore *ks = router_keys_keystore(keys);
	struct router_address addr = ROUTER_ADDRESS_INIT;
	struct router_info *ri;
	struct keys_and_cert id;
	struct x25519_pk ntcp2;
	int r;

	router_keys_identity(keys, &id);
	keystore_x25519_pk(ks, KEYSTORE_X_NTCP2, &ntcp2);
	ri = router_info_new(&id);
	if ((r = router_address_ntcp2_build(&addr, ROUTER_SELF_NTCP2_COST,
					    &ntcp2, cfg->host,
					    router_self_port(cfg, id.hash),
					    router_keys_ntcp2_iv(keys))) != 0 ||
	    (r = router_info_add_address(ri, &addr)) != 0 ||
	    (r = router_info_set_basic_options(ri, cfg->netid,
					       ROUTER_SELF_CAPS)) != 0 ||
	    (r = router_info_sign(ri, ks)) != 0)
		goto out;
	*out = ri;
	ri = NULL;
out:
	router_address_clear(&addr);
	router_info_free(ri);
	return r;
}

int router_self_publish(const struct conf *cfg,
			const struct router_keys *keys)
{
	char *path = fsutil_path_join(cfg->datadir, ROUTER_SELF_FILE_NAME);
	struct router_info *ri = NULL;
	char hash[80];
	int r;

	if ((r = router_self_build(cfg, keys, &ri)) != 0) {
		log_err(LD_ROUTER, "cannot build our RouterInfo: %s",
			err_str(r));
		goto out;
	}
	if ((r = router_info_file_write(ri, path)) != 0) {
		log_err(LD_ROUTER, "cannot write %s: %s", path,
			r == ERR_IO ? strerror(errno) : err_str(r));
		goto out;
	}
	log_notice(LD_ROUTER, "wrote %s: router %s, netId %u", path,
		   log_safe_hash(hash, sizeof(hash), router_info_hash(ri)),
		   (unsigned)cfg->netid);
out:
	router_info_free(ri);
	free(path);
	return r;
}
