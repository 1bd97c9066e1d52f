/*
 * bitsd configuration: built-in defaults, then an INI file, then
 * command-line flags, each overriding the one before.
 *
 * The file (DATADIR/bits.conf unless --conf names one) holds sections
 * ("[name]"), "key = value" lines, and comments starting with '#' or ';'.
 * Keys before any section are the main options; the same names can be
 * given as --key VALUE or --key=VALUE.  An unknown key or section is a
 * warning and is ignored; a bad value is an error naming file:line.
 *
 * NOTE (renamed by the build maintainer): this module is router/conf.{c,h},
 * never router/config.h: quoted includes search the including file's own
 * directory first, so a router/config.h would shadow the generated
 * config.h for every file in router/.  tools/check-greps enforces it.
 */
#ifndef ROUTER_CONF_H
#define ROUTER_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/base/log.h"

#define CONF_FILE_NAME "bits.conf"
#define CONF_DEFAULT_DIR_NAME ".bits"		/* under $HOME */
#define CONF_DATADIR_ENV "BITS_DATADIR"
#define CONF_DEFAULT_NETID 2			/* the I2P main network */
#define CONF_DEFAULT_HOST "127.0.0.1"
#define CONF_MAX_FILE_BYTES (1024 * 1024)
#define CONF_MAX_LINE_BYTES 4096
#define CONF_MAX_OVERRIDES 32
/* Room for an error message: "file:line: what went wrong". */
#define CONF_ERR_BYTES 512
/* Transit defaults: i2pd's limits.transittunnels and Java's share. */
#define CONF_DEFAULT_TRANSIT_MAX_TUNNELS 2500
#define CONF_DEFAULT_TRANSIT_SHARE_PCT 80
/* The [limits] section's defaults (docs/limits.md says why each). */
#define CONF_DEFAULT_LIM_SESSIONS 512		/* = the transport's */
#define CONF_DEFAULT_LIM_HANDSHAKES 1200	/* a minute, inbound */
#define CONF_DEFAULT_LIM_HANDSHAKES_IP 60	/* a minute, one address */
#define CONF_DEFAULT_LIM_BUILDS 6000		/* a minute */
#define CONF_DEFAULT_LIM_BUILDS_PEER 300	/* a minute, one hop */
#define CONF_DEFAULT_LIM_TRANSIT_PEER 500	/* tunnels, one peer */
#define CONF_DEFAULT_LIM_TUNNEL_MSGS 32000	/* a second, one tunnel */
#define CONF_DEFAULT_LIM_TUNNEL_MSGS_PEER 64000	/* a second, one hop */
#define CONF_DEFAULT_LIM_NETDB_LOOKUPS 60	/* = the netDb's */
#define CONF_DEFAULT_LIM_NETDB_STORES 120	/* = the netDb's */
#define CONF_DEFAULT_LIM_STREAMS 512		/* per destination */
#define CONF_DEFAULT_LIM_SAM_SESSIONS 64	/* = the SAM bridge's */
#define CONF_DEFAULT_LIM_MEMORY_MIB 64
#define CONF_DEFAULT_LIM_REASM_MIB 8		/* SSU2_DEFAULT_REASM_MAX_BYTES */
#define CONF_DEFAULT_LIM_OBEP_MIB 16		/* TRANSIT_OBEP_TOTAL_BYTES */
#define CONF_DEFAULT_LIM_GARLIC_SESSIONS 1024	/* RATCHET_MAX_SESSIONS */
#define CONF_DEFAULT_LIM_NETDB_RI_MIB 48	/* NETDB_MAX_RI_BYTES */
#define CONF_DEFAULT_LIM_NETDB_LS_MIB 16	/* NETDB_MAX_LS_BYTES */
#define CONF_DEFAULT_NTCP2_WRITE_STALL_S 60	/* NTCP2_DEFAULT_WRITE_STALL_MS */
#define CONF_DEFAULT_LIM_PENDING_HS 64		/* = each transport's */
#define CONF_DEFAULT_LIM_PENDING_HS_IP 4	/* = each transport's */
/* The transports' timeouts, seconds (= NTCP2's and SSU2's defaults). */
#define CONF_DEFAULT_NTCP2_HS_TIMEOUT_S 10
#define CONF_DEFAULT_NTCP2_IDLE_S 300
#define CONF_DEFAULT_SSU2_HS_TIMEOUT_S 20
#define CONF_DEFAULT_SSU2_IDLE_S 60
/* Tunnel lengths: SAM destinations' (i2pd's inbound.length) and the
 * exploratory pool's (i2pd's exploratory pool). */
#define CONF_DEFAULT_SAM_HOPS 3
#define CONF_DEFAULT_EXPL_LENGTH 2

/* What the command line asks for. */
enum conf_action {
	CONF_ACTION_RUN,	/* run the router until a signal */
	CONF_ACTION_INIT,	/* create keys and router.info, then exit */
	CONF_ACTION_HELP,
	CONF_ACTION_VERSION,
};

struct conf {
	char *datadir;		/* absolute or relative path, never NULL */
	char *conf_path;	/* the file that was read, or NULL if none */
	enum log_level loglevel;
	char *logfile;		/* NULL: log to stderr */
	char *host;		/* IPv4 or IPv6 literal for our NTCP2 address */
	char *host6;		/* a second, IPv6 address; NULL: none */
	uint16_t port;		/* 0: derived from the identity (stable) */
	uint8_t netid;		/* 2 = main network; test networks use others */
	bool floodfill;
	bool ssu2;		/* also SSU2 on UDP port `port`, published */
	bool nat;		/* map the port on the NAT (NAT-PMP, UPnP) */
	uint16_t api_port;	/* local JSON API on 127.0.0.1; 0: off */
	uint16_t sam_port;	/* SAM v3 bridge on 127.0.0.1; 0: off */
	uint32_t sam_hops;	/* SAM destinations' tunnels, 0-7 */
#define CONF_UNSET_HOPS UINT32_MAX
	/* HTTP and SOCKS proxies, tunnels ([proxy] section). */
	bool proxy;		/* run the proxies */
	uint32_t proxy_hops;	/* 0-7; CONF_UNSET_HOPS: sam_hops */
	char *proxy_leaseset_key;	/* b64: per-client b33 key; NULL: none */
	char *proxy_leaseset_secret;	/* b33 lookup secret; NULL: none */
	char *proxy_site_keys;		/* per-site keys file; NULL: none */
	uint16_t proxy_http_port, proxy_socks_port;	/* 0: 4444, 4447 */
	char *proxy_outproxy;	/* clearnet through it; NULL: refused */
	char *proxy_hosts;	/* address book; NULL: DATADIR/hosts.txt */
	char *proxy_tunnels;	/* NULL: DATADIR/tunnels.conf if present */
	char *proxy_subscriptions;	/* hosts.txt URLs, ',' or ' ' apart */
	/* netDb reseeding ([reseed] section); NULL: not configured. */
	char *reseed_file;	/* su3 bundle */
	char *reseed_dir;	/* directory of routerInfo-*.dat files */
	char *reseed_url;	/* https:// reseed server */
	char *reseed_signers;	/* su3 signer certificate (file or dir) */
	char *reseed_cafile;	/* TLS roots for reseed_url; NULL: system */
	uint16_t reseed_threshold;	/* reseed below this many routers;
					 * 0: the netDb's default */
	/* Our exploratory tunnels ([exploratory] section): hops (0-7; 0:
	 * zero-hop tunnels) and tunnels each way (0: the tunnels
	 * subsystem's default). */
	uint32_t expl_in_length, expl_out_length;
	uint32_t expl_in_quantity, expl_out_quantity;
	/* Up to this many hops more than the length, at random, per tunnel
	 * (0-3), and backup tunnels built beyond the quantity (0-4). */
	int32_t expl_in_variance, expl_out_variance;	/* -3..3 */
	bool expl_allow_zero_hop;	/* shorten to zero hops */
	uint32_t expl_in_backup, expl_out_backup;
	/* Let tunnel hops share an IPv4 /16 (loopback test networks). */
	bool tunnels_same_subnet;
	bool tunnels_test_ticket;	/* a dummy ticket to every hop */
	/* Tests: fixed hops for all our tunnels, router hashes (base64)
	 * with commas between, hop 1 first; NULL: drawn. */
	char *tunnels_test_hops_in, *tunnels_test_hops_out;
	/* How long we use each of our tunnels, seconds (60-600; 0: 600).
	 * Test networks shorten it to see pools rebuilt. */
	uint32_t tunnels_lifetime_s;
	/* Transit tunnels ([transit] section). */
	uint32_t transit_max_tunnels;	/* 0: relay none */
	uint32_t transit_share_pct;	/* of bandwidth_kBps */
	uint32_t bandwidth_kBps;	/* 0: no limit */
	/* Limits ([limits] section, docs/limits.md); 0 lifts one. */
	uint32_t lim_sessions;		/* transport sessions at once */
	uint32_t lim_handshakes;	/* inbound handshakes a minute */
	uint32_t lim_handshakes_ip;	/* ... from one IP address */
	uint32_t lim_builds;		/* tunnel build requests a minute */
	uint32_t lim_builds_peer;	/* ... from one previous hop */
	uint32_t lim_transit_peer;	/* transit tunnels next to one peer */
	uint32_t lim_tunnel_msgs;	/* transit tunnel messages a second */
	uint32_t lim_tunnel_msgs_peer;	/* ... from one previous hop */
	uint32_t lim_netdb_lookups;	/* netDb lookups a minute, per peer */
	uint32_t lim_netdb_stores;	/* netDb stores a minute, per peer */
	uint32_t netdb_hostile;	/* attack tests: 1 drop, 2 junk, 3 Sybil */
	char *netdb_accomplices;	/* the Sybil's: hex hashes a line */
	uint32_t lim_streams;		/* open streams per destination */
	uint32_t lim_sam_sessions;	/* SAM sessions at once */
	uint32_t lim_memory_mib;	/* heap budget: sheds transit first */
	uint32_t lim_reasm_mib;		/* SSU2 partial messages, all sessions */
	uint32_t lim_obep_mib;		/* transit OBEPs' partial messages */
	uint32_t lim_garlic_sessions;	/* ratchet sessions a destination */
	uint32_t lim_netdb_ri_mib;	/* heap of the netDb's RouterInfos */
	uint32_t lim_netdb_ls_mib;	/* ... and of its LeaseSets */
	uint32_t lim_pending_hs;	/* inbound handshakes under way, each
					 * transport */
	uint32_t lim_pending_hs_ip;	/* ... from one IP address */
	/* [ntcp2] and [ssu2] timeouts, seconds: a handshake's, and a
	 * session's without I2NP (NTCP2) or without a packet (SSU2). */
	uint32_t ntcp2_hs_timeout_s, ntcp2_idle_s;
	uint32_t ntcp2_write_stall_s;
	uint32_t ssu2_hs_timeout_s, ssu2_idle_s;
	/* The swarm service ([swarm] section, apps/bitsd_swarm.h). */
	bool swarm;
	char *swarm_dir;		/* store and keys; NULL: datadir */
	uint32_t swarm_storage_mib;	/* 0: no budget */
	uint32_t swarm_upload_kBps;	/* 0: no limit */
	uint16_t swarm_http_port;	/* 0: the default, 7670 */
	bool swarm_tracker;		/* answer announces */
	char *swarm_trackers;		/* b32s or hex, comma-separated */
	char *swarm_capture;		/* tests: every frame to this file */
	/* Pay per chunk (apps/bitsd_seedpay.h). */
	char *swarm_pay_price;		/* seeder: token units per chunk */
	char *swarm_pay_relayer;	/* seeder: b32 that redeems */
	uint32_t swarm_pay_redeem_s;	/* seeder: longest redeem delay */
	uint32_t swarm_pay_relayer_fee;	/* seeder: paid per batch redeemed */
	char *swarm_pay_key;		/* viewer: pot signer key file */
	char *swarm_pay_max_price;	/* viewer: dearest chunk paid */
	uint32_t swarm_pay_batch;	/* viewer: chunks per voucher */
	/* Hosts paid per epoch (docs/market.md §8). */
	char *swarm_host_price;		/* host: token units per epoch */
	char *swarm_host_pay_key;	/* creator: pot signer key file */
	char *swarm_host_max_price;	/* creator: dearest epoch paid */
	char *swarm_host_budget;	/* creator: per host and content */
	char *swarm_host_hosts;		/* creator: b32s of host services */
	char *swarm_host_contents;	/* creator: hashes; NULL: all held */
	uint32_t swarm_host_epoch_s;	/* creator: 0: 3600 */
	/* The feed ([feed] section, apps/bitsd_feed.h). */
	bool feed;
	char *feed_dir;			/* store and keys; NULL: datadir */
	char *feed_peers;		/* b32s or hex, comma-separated */
	bool feed_followed_only;
	bool feed_views;		/* publish view records */
	uint32_t feed_round_s;		/* 0: 60 */
	uint32_t feed_pow_bits;		/* 0: 12 */
	uint32_t feed_retention_days;	/* 0: keep everything */
	/* Paid relaying (docs/relaypay.md): ask for tickets as a relay. */
	bool relay_pay;			/* publish bits.pay.* in our RI */
	char *relay_pay_price;		/* token base units per GiB */
	char *relay_pay_redeem_key;	/* account key file: redeems winners */
	char *relay_pay_withdraw_to;	/* address the winnings go to */
	uint32_t relay_pay_epoch_s;	/* r_epoch lifetime; 0: 3600 */
	uint32_t relay_pay_test_withdraw_fail;	/* tests: first N fail */
	uint32_t relay_pay_test_withdraw_retry_s; /* tests: 0: 30 s */
	uint32_t relay_pay_test_redeem_margin_s; /* tests: 0: 300 s */
	/* Paying our tunnels' hops (docs/relaypay.md §4). */
	char *tunnels_pay_key;		/* pot signer key file; NULL: pay none */
	char *tunnels_pay_max_price;	/* per GiB; NULL: any price */
	char *tunnels_pay_face;		/* ticket face value; NULL: default */
	uint32_t tunnels_pay_mib;	/* MiB a ticket pays a hop for */
	uint32_t tunnels_pay_kib;	/* the same in KiB; 0: the MiB */
	uint32_t tunnels_pay_rotate_s;	/* next pot key this often; 0: 3600 */
	char *tunnels_pay_hops;		/* peer_pay_policy name; NULL: any */
	uint32_t tunnels_pay_max_paid;	/* paid hops a tunnel; 0: any */
	uint32_t tunnels_pay_ri_refresh_s; /* hops' RIs again; 0: 600 */
	char *tunnels_pay_fund_key;	/* account funding pots; NULL: none */
	char *tunnels_pay_fund;		/* each pot filled up to */
	char *tunnels_pay_fund_budget;	/* put into pots in all, at most */
	uint32_t tunnels_pay_fresh;	/* new pots a turn; 0: pay.key's */
	uint32_t tunnels_pay_ttl_s;	/* ticket lifetime; 0: 6 h */
	/* The market ([market] section, apps/bitsd_market.h). */
	bool market_gateway;		/* publish market_gateway_rpc */
	char *market_gateway_rpc;	/* http://127.x.y.z:PORT of a node */
	char *market_gateways;		/* b32s or hex, comma-separated */
	char *market_deploy;		/* the deploy JSON */
	char *market_accounts;		/* 0x addresses, comma-separated */
	uint32_t market_isolation;	/* destinations for addresses; 0: 8 */
	bool market_agent;		/* run the key agent */
	char *market_agent_keys;	/* its content keys file */
	char *market_relayer_key;	/* relayer account key file */
	uint32_t market_relayer_min_fee;	/* token base units */
	uint32_t market_relayer_redeem_min_fee;	/* a voucher batch's fee */
	char *market_wallet_key;	/* the buyer's paying account key */
	char *market_buy_relayer;	/* b32 or hex of a relayer */
	uint32_t market_buy_relayer_fee;	/* token base units */
};

/*
 * The command line, parsed: the action, the paths that decide where the
 * file is, and the option overrides in order.  Strings are borrowed from
 * argv and live as long as it does.
 */
struct conf_args {
	enum conf_action action;
	const char *conf;	/* --conf, or NULL */
	const char *datadir;	/* --datadir, or NULL */
	size_t noverrides;
	struct {
		const char *key;
		const char *value;
	} overrides[CONF_MAX_OVERRIDES];
};

/*
 * Parse argv (argv[0] is the program).  Errors: ERR_ARG with a message in
 * err (an unknown flag, a missing value, a stray argument).  Values are
 * checked later, by conf_load().  out is written only on success.
 */
int conf_args_parse(int argc, char *const *argv, struct conf_args *out,
		      char *err, size_t errlen);

/*
 * Build the configuration for args: defaults, then the file (args->conf,
 * else DATADIR/bits.conf if it exists), then the command-line overrides.
 * The default datadir is $BITS_DATADIR, else $HOME/.bits.  Errors:
 * ERR_NOT_FOUND (--conf names a missing file), ERR_FORMAT or ERR_RANGE (a
 * bad line or value; err says file:line), ERR_IO, ERR_ARG (no datadir).
 * On success *out is a new config the caller frees.
 */
int conf_load(const struct conf_args *args, struct conf **out,
		char *err, size_t errlen);

/* A config holding only the defaults, with datadir set (copied). */
struct conf *conf_new_default(const char *datadir);
/*
 * Apply the INI text buf (len bytes, untrusted) to cfg; fname names it in
 * messages.  Errors: ERR_FORMAT / ERR_RANGE / ERR_TOO_BIG with
 * "fname:line: ..." in err.  cfg may be half-updated on error; callers
 * apply to a scratch config (conf_load() does).
 */
int conf_parse_ini(struct conf *cfg, const char *fname, const uint8_t *buf,
		     size_t len, char *err, size_t errlen);
/*
 * Set one option by its file name ("port", "loglevel", ...) from text.
 * Errors: ERR_NOT_FOUND (unknown key), ERR_FORMAT or ERR_RANGE (bad value;
 * err says why, without a location).
 */
int conf_set(struct conf *cfg, const char *key, const char *value,
	       char *err, size_t errlen);
void conf_free(struct conf *cfg);

/* Print the --help text for prog to f. */
void conf_help_print(FILE *f, const char *prog);

#endif /* ROUTER_CONF_H */
