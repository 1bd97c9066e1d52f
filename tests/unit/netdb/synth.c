/* Synthetic RouterInfos and LeaseSet2s (see synth.h). */
#include "config.h"
#include "tests/unit/netdb/synth.h"
#include "router/certificate.h"
#include "router/leaseset.h"
#include "router/router_address.h"
#include "router/router_info.h"
#include "crypto/base/alloc.h"
#include "crypto/base/err.h"
#include "crypto/keystore.h"
#include "crypto/rand.h"

#include <stdio.h>
#include <string.h>

int synth_ri(struct bbuf *out, uint8_t hash[32], uint8_t netid,
	     const char *caps, uint64_t pub_ms)
{
	return synth_ri_ks(out, hash, netid, caps, pub_ms, NULL);
}

int synth_ri_ks(struct bbuf *out, uint8_t hash[32], uint8_t netid,
		const char *caps, uint64_t pub_ms, struct keystore **ks_out)
{
	struct keystore *ks = keystore_new_random();
	struct router_address a = ROUTER_ADDRESS_INIT;
	struct keys_and_cert id;
	struct ed25519_pk pk;
	struct x25519_pk xpk, s;
	struct router_info *ri;
	uint8_t iv[16], host_b;
	char host[32];
	const uint8_t *bytes;
	size_t len;
	int r;

	keystore_sign_pk(ks, &pk);
	keystore_x25519_pk(ks, KEYSTORE_X_IDENTITY, &xpk);
	keystore_x25519_pk(ks, KEYSTORE_X_NTCP2, &s);
	keys_and_cert_build(&id, &xpk, &pk, NULL);
	ri = router_info_new(&id);
	router_info_set_published(ri, pub_ms);
	rand_bytes(iv, sizeof(iv));
	rand_bytes(&host_b, 1);
	snprintf(host, sizeof(host), "127.0.%u.%u", (unsigned)(host_b & 63),
		 (unsigned)(host_b | 1));
	if ((r = router_address_ntcp2_build(&a, 3, &s, host,
					    (uint16_t)(20000 + host_b),
					    iv)) != 0 ||
	    (r = router_info_add_address(ri, &a)) != 0 ||
	    (r = router_info_set_basic_options(ri, netid, caps)) != 0 ||
	    (r = router_info_sign(ri, ks)) != 0)
		goto out;
	bytes = router_info_bytes(ri, &len);
	bbuf_put(out, bytes, len);
	memcpy(hash, router_info_hash(ri), 32);
out:
	router_address_clear(&a);
	router_info_free(ri);
	if (ks_out && r == 0)
		*ks_out = ks;
	else
		keystore_free(ks);
	return r;
}

int synth_ls2(struct bbuf *out, uint8_t key[32], uint32_t pub_s,
	      unsigned n_leases)
{
	struct ed25519_seed sk;
	struct ed25519_pk pk;
	struct keys_and_cert dest;
	uint8_t x[32];
	struct leaseset_enc_key k = { CERT_ENC_X25519, 32, x };
	struct lease l[LEASESET_MAX_LEASES];
	struct leaseset2_params p = {
		.type = LEASESET_LS2, .dest = &dest, .published_s = pub_s,
		.expires_s = 600, .keys = &k, .n_keys = 1, .leases = l,
	};
	int r;

	if (n_leases == 0 || n_leases > LEASESET_MAX_LEASES)
		return ERR_ARG;
	ed25519_keygen(&sk, &pk);
	keys_and_cert_build(&dest, NULL, &pk, NULL);
	rand_bytes(x, sizeof(x));
	for (unsigned i = 0; i < n_leases; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		rand_bytes(l[i].gateway, 32);
		l[i].tunnel_id = 100 + i;
		l[i].end_ms = ((uint64_t)pub_s + 500 + i) * 1000;
	}
	p.n_leases = n_leases;
	r = leaseset2_encode(&p, leaseset_sign_ed25519, &sk, out);
	memcpy(key, dest.hash, 32);
	memwipe(&sk, sizeof(sk));
	return r;
}
