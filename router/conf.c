/*
 * Configuration (router/conf.h): one table of options drives the INI
 * file, the command line and --help, so the three cannot drift apart.
 * The file is untrusted bytes and goes through the byte reader line by
 * line; every value is checked by the same setter whichever way it came.
 */
#include "config.h"
#include "router/conf.h"
#include "router/ri_pay.h"
#include "crypto/base/fsutil.h"
#include "crypto/base/alloc.h"
#include "crypto/base/bytes.h"
#include "crypto/base/err.h"
#include "crypto/base/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum opt_type {
	OPT_PATH,	/* non-empty path */
	OPT_OPT_PATH,	/* path, empty for "none" */
	OPT_LOGLEVEL,
	OPT_HOST,	/* IPv4 or IPv6 literal */
	OPT_HOST6,	/* IPv6 literal */
	OPT_PORT,	/* 1..65535 */
	OPT_NETID,	/* 1..255 */
	OPT_BOOL,
	/* uint32_t fields in the ranges uint_range() gives */
	OPT_HOPS,	/* 0..7 */
	OPT_QUANTITY,	/* 1..16 */
	OPT_PERCENT,	/* 0..100 */
	OPT_COUNT,	/* 0..10000000 */
	OPT_LIFETIME,	/* 60..600 */
	OPT_VARIANCE,	/* int32_t -3..3 (TUNNEL_POOL_MAX_VARIANCE) */
	OPT_BACKUP,	/* 0..4 (TUNNEL_POOL_MAX_BACKUP) */
	OPT_TIMEOUT,	/* seconds, 2..3600 */
	OPT_AMOUNT,	/* token amount: decimal, ≤ 2^96 - 1 (router/ri_pay.h) */
};

struct opt {
	const char *key;	/* file key; the flag is --key */
	enum opt_type type;
	size_t off;		/* field in struct conf */
	const char *metavar;	/* for --help; NULL for a bool flag */
	const char *help;
};

#define OFF(f) offsetof(struct conf, f)
static const struct opt opts[] = {
	{ "datadir", OPT_PATH, OFF(datadir), "DIR",
	  "data directory (default $" CONF_DATADIR_ENV ", else ~/"
	  CONF_DEFAULT_DIR_NAME ")" },
	{ "loglevel", OPT_LOGLEVEL, OFF(loglevel), "LEVEL",
	  "debug, info, notice, warn, error or none (default notice)" },
	{ "logfile", OPT_OPT_PATH, OFF(logfile), "FILE",
	  "append the log to FILE (default: standard error)" },
	{ "host", OPT_HOST, OFF(host), "ADDR",
	  "IP address published for NTCP2 (default " CONF_DEFAULT_HOST ")" },
	{ "host6", OPT_HOST6, OFF(host6), "ADDR",
	  "also an IPv6 address, published beside host (default: none)" },
	{ "port", OPT_PORT, OFF(port), "PORT",
	  "NTCP2 port (default: picked from the router identity)" },
	{ "netid", OPT_NETID, OFF(netid), "ID",
	  "network id, 1-255 (default 2; test networks use e.g. 77)" },
	{ "floodfill", OPT_BOOL, OFF(floodfill), NULL,
	  "act as a floodfill (store and serve the netDb for others)" },
	{ "ssu2", OPT_BOOL, OFF(ssu2), NULL,
	  "also run SSU2 on the same port (UDP) and publish it" },
	{ "nat", OPT_BOOL, OFF(nat), NULL,
	  "map the port (UDP and TCP) on the NAT by NAT-PMP or UPnP" },
	{ "api-port", OPT_PORT, OFF(api_port), "PORT",
	  "serve the local JSON API on 127.0.0.1:PORT (default: off)" },
	{ "sam.port", OPT_PORT, OFF(sam_port), "PORT",
	  "run the SAM v3 bridge on 127.0.0.1:PORT, its datagrams on "
	  "PORT-1 (also --sam-port; default: off)" },
	{ "sam.hops", OPT_HOPS, OFF(sam_hops), "N",
	  "hops of each SAM destination's tunnels, 0-7 (default 3)" },
	{ "proxy", OPT_BOOL, OFF(proxy), NULL,
	  "run the HTTP and SOCKS proxies on 127.0.0.1 (4444, 4447)" },
	{ "proxy.http-port", OPT_PORT, OFF(proxy_http_port), "PORT",
	  "the HTTP proxy's port (default 4444)" },
	{ "proxy.socks-port", OPT_PORT, OFF(proxy_socks_port), "PORT",
	  "the SOCKS proxy's port (default 4447)" },
	{ "proxy.hops", OPT_HOPS, OFF(proxy_hops), "N",
	  "the proxies' tunnel length, 0-7 (default: sam.hops)" },
	{ "proxy.leaseset-key", OPT_OPT_PATH, OFF(proxy_leaseset_key), "B64",
	  "the proxies' client key for per-client encrypted LeaseSets "
	  "(b33): 32 bytes in I2P base64, an X25519 private key or a PSK "
	  "(i2pd's i2cp.leaseSetPrivKey)" },
	{ "proxy.leaseset-secret", OPT_OPT_PATH, OFF(proxy_leaseset_secret),
	  "TEXT", "the proxies' lookup secret for b33 addresses that need "
	  "one (Java I2P's i2cp.leaseSetSecret, as text)" },
	{ "proxy.site-keys", OPT_OPT_PATH, OFF(proxy_site_keys), "FILE",
	  "single b33 sites' own client keys and lookup secrets, a line "
	  "each: ADDRESS [key:B64] [secret:TEXT] (mode 0600)" },
	{ "proxy.outproxy", OPT_OPT_PATH, OFF(proxy_outproxy), "NAME",
	  "an outproxy (b32 or address-book name) for clearnet HTTP; "
	  "default: clearnet is refused" },
	{ "proxy.hosts", OPT_OPT_PATH, OFF(proxy_hosts), "FILE",
	  "the address book, hosts.txt format (default DATADIR/hosts.txt)" },
	{ "proxy.subscriptions", OPT_OPT_PATH, OFF(proxy_subscriptions),
	  "URLS", "address-book subscriptions (http://NAME.i2p/hosts.txt, "
	  "comma-separated), fetched through the overlay" },
	{ "proxy.tunnels", OPT_OPT_PATH, OFF(proxy_tunnels), "FILE",
	  "client, server and web tunnels (default DATADIR/tunnels.conf)" },
	{ "reseed.file", OPT_OPT_PATH, OFF(reseed_file), "FILE",
	  "reseed the netDb from this su3 bundle" },
	{ "reseed.dir", OPT_OPT_PATH, OFF(reseed_dir), "DIR",
	  "reseed the netDb from routerInfo-*.dat files in DIR" },
	{ "reseed.url", OPT_OPT_PATH, OFF(reseed_url), "URL",
	  "reseed the netDb from an https:// reseed server" },
	{ "reseed.signers", OPT_OPT_PATH, OFF(reseed_signers), "PATH",
	  "su3 signer certificate(s): a PEM file or a directory" },
	{ "reseed.cafile", OPT_OPT_PATH, OFF(reseed_cafile), "FILE",
	  "TLS roots for reseed.url (default: the system's)" },
	{ "reseed.threshold", OPT_PORT, OFF(reseed_threshold), "N",
	  "reseed when the netDb knows fewer routers (default 25)" },
	{ "exploratory.inbound.length", OPT_HOPS, OFF(expl_in_length), "N",
	  "hops of our inbound exploratory tunnels, 0-7 (default 2)" },
	{ "exploratory.outbound.length", OPT_HOPS, OFF(expl_out_length), "N",
	  "hops of our outbound exploratory tunnels, 0-7 (default 2)" },
	{ "exploratory.inbound.quantity", OPT_QUANTITY, OFF(expl_in_quantity),
	  "N", "inbound exploratory tunnels kept, 1-16 (default 3)" },
	{ "exploratory.outbound.quantity", OPT_QUANTITY,
	  OFF(expl_out_quantity), "N",
	  "outbound exploratory tunnels kept, 1-16 (default 3)" },
	{ "exploratory.inbound.variance", OPT_VARIANCE, OFF(expl_in_variance),
	  "N", "up to N more hops, at random, per inbound exploratory "
	  "tunnel, -3-3; -N: N fewer to N more (default 0)" },
	{ "exploratory.outbound.variance", OPT_VARIANCE,
	  OFF(expl_out_variance), "N", "up to N more hops, at random, per "
	  "outbound exploratory tunnel, -3-3; -N: N fewer to N more "
	  "(default 0)" },
	{ "exploratory.allow-zero-hop", OPT_BOOL, OFF(expl_allow_zero_hop),
	  NULL, "let exploratory tunnels shrink to zero hops (too few "
	  "routers, or variance); default: one hop at least" },
	{ "exploratory.inbound.backup", OPT_BACKUP, OFF(expl_in_backup), "N",
	  "inbound exploratory tunnels built beyond the quantity, 0-4 "
	  "(default 0)" },
	{ "exploratory.outbound.backup", OPT_BACKUP, OFF(expl_out_backup), "N",
	  "outbound exploratory tunnels built beyond the quantity, 0-4 "
	  "(default 0)" },
	{ "tunnels.test-ticket", OPT_BOOL, OFF(tunnels_test_ticket), NULL,
	  "give every hop of our tunnels a dummy paid-relaying ticket "
	  "(tests: hops that do not know it must ignore it)" },
	{ "tunnels.test-hops-in", OPT_OPT_PATH, OFF(tunnels_test_hops_in),
	  "HASH,HASH", "tests: every inbound tunnel we build has these hops "
	  "(router hashes in base64), the gateway first" },
	{ "tunnels.test-hops-out", OPT_OPT_PATH, OFF(tunnels_test_hops_out),
	  "HASH,HASH", "tests: every outbound tunnel we build has these "
	  "hops (router hashes in base64), the first after us first" },
	{ "tunnels.same-subnet", OPT_BOOL, OFF(tunnels_same_subnet), NULL,
	  "let our tunnels' hops share an IPv4 /16 (test networks only)" },
	{ "tunnels.lifetime", OPT_LIFETIME, OFF(tunnels_lifetime_s), "SECONDS",
	  "use each of our tunnels this long, 60-600 (default 600)" },
	{ "transit.max-tunnels", OPT_COUNT, OFF(transit_max_tunnels), "N",
	  "most transit tunnels joined at once, 0 for none (default 2500)" },
	{ "transit.share", OPT_PERCENT, OFF(transit_share_pct), "PERCENT",
	  "share of the bandwidth for transit traffic (default 80)" },
	{ "bandwidth", OPT_COUNT, OFF(bandwidth_kBps), "KBPS",
	  "bandwidth limit in KB/s, 0 for none (default 0)" },
	{ "limits.sessions", OPT_COUNT, OFF(lim_sessions), "N",
	  "transport sessions at once, 0 for no limit (default 512)" },
	{ "limits.handshakes", OPT_COUNT, OFF(lim_handshakes), "N",
	  "inbound handshakes a minute (default 1200)" },
	{ "limits.handshakes-per-ip", OPT_COUNT, OFF(lim_handshakes_ip), "N",
	  "inbound handshakes a minute from one IP address (default 60)" },
	{ "limits.pending-handshakes", OPT_COUNT, OFF(lim_pending_hs), "N",
	  "inbound handshakes under way at once, NTCP2 and SSU2 each "
	  "(default 64)" },
	{ "limits.pending-handshakes-per-ip", OPT_COUNT,
	  OFF(lim_pending_hs_ip), "N",
	  "inbound handshakes under way at once from one IP address, "
	  "NTCP2 and SSU2 each (default 4)" },
	{ "ntcp2.handshake-timeout", OPT_TIMEOUT, OFF(ntcp2_hs_timeout_s),
	  "SECONDS", "an NTCP2 handshake not done by then is closed, 2-3600 "
	  "(default 10)" },
	{ "ntcp2.write-stall", OPT_TIMEOUT, OFF(ntcp2_write_stall_s),
	  "SECONDS", "an NTCP2 session whose output waited this long with "
	  "none of it read by the peer is closed, 2-3600 (default 60)" },
	{ "ntcp2.idle-timeout", OPT_TIMEOUT, OFF(ntcp2_idle_s), "SECONDS",
	  "an NTCP2 session this long without an I2NP message is closed, "
	  "2-3600 (default 300)" },
	{ "ssu2.handshake-timeout", OPT_TIMEOUT, OFF(ssu2_hs_timeout_s),
	  "SECONDS", "an SSU2 handshake not done by then is dropped, 2-3600 "
	  "(default 20)" },
	{ "ssu2.idle-timeout", OPT_TIMEOUT, OFF(ssu2_idle_s), "SECONDS",
	  "an SSU2 session this long without a packet is closed, 2-3600 "
	  "(default 60)" },
	{ "limits.builds", OPT_COUNT, OFF(lim_builds), "N",
	  "tunnel build requests a minute (default 6000)" },
	{ "limits.builds-per-peer", OPT_COUNT, OFF(lim_builds_peer), "N",
	  "tunnel build requests a minute from one router (default 300)" },
	{ "limits.transit-per-peer", OPT_COUNT, OFF(lim_transit_peer), "N",
	  "transit tunnels with one router as previous or next hop "
	  "(default 500)" },
	{ "limits.tunnel-msgs", OPT_COUNT, OFF(lim_tunnel_msgs), "N",
	  "messages a second one transit tunnel may carry (default 32000)" },
	{ "limits.tunnel-msgs-per-peer", OPT_COUNT, OFF(lim_tunnel_msgs_peer),
	  "N", "transit tunnel messages a second from one router "
	  "(default 64000)" },
	{ "limits.netdb-lookups", OPT_COUNT, OFF(lim_netdb_lookups), "N",
	  "netDb lookups a minute from one peer (default 60)" },
	{ "limits.netdb-stores", OPT_COUNT, OFF(lim_netdb_stores), "N",
	  "netDb stores a minute from one peer (default 120)" },
	{ "netdb.hostile", OPT_COUNT, OFF(netdb_hostile), "MODE",
	  "attack test networks only (tools/attacknet): as a floodfill, "
	  "1 drops stores and answers 'not found', 2 answers junk, 3 is a "
	  "Sybil naming only netdb.accomplices" },
	{ "netdb.accomplices", OPT_OPT_PATH, OFF(netdb_accomplices), "FILE",
	  "attack test networks only: the router hashes (hex, one a line) "
	  "a netdb.hostile 3 floodfill names" },
	{ "limits.streams", OPT_COUNT, OFF(lim_streams), "N",
	  "open streams per local destination (default 512)" },
	{ "limits.sam-sessions", OPT_COUNT, OFF(lim_sam_sessions), "N",
	  "SAM sessions at once (default 64)" },
	{ "limits.reassembly", OPT_COUNT, OFF(lim_reasm_mib), "MIB",
	  "SSU2 fragments of partial messages held, all sessions, in MiB; "
	  "one session holds an eighth at most (default 8)" },
	{ "limits.obep-reassembly", OPT_COUNT, OFF(lim_obep_mib), "MIB",
	  "fragments of partial messages held by all our transit outbound "
	  "endpoints, in MiB (default 16)" },
	{ "limits.garlic-sessions", OPT_COUNT, OFF(lim_garlic_sessions), "N",
	  "ECIES-ratchet sessions each local destination keeps (default "
	  "1024)" },
	{ "limits.netdb-routers", OPT_COUNT, OFF(lim_netdb_ri_mib), "MIB",
	  "heap the netDb's RouterInfos may take, in MiB; one past it is "
	  "refused (default 48: some 12,000 as i2pd writes them)" },
	{ "limits.netdb-leasesets", OPT_COUNT, OFF(lim_netdb_ls_mib), "MIB",
	  "heap the netDb's LeaseSets may take, in MiB (default 16)" },
	{ "limits.memory", OPT_COUNT, OFF(lim_memory_mib), "MIB",
	  "heap budget in MiB: transit work is shed before our own "
	  "(default 64)" },
	{ "swarm", OPT_BOOL, OFF(swarm), NULL,
	  "run the swarm: seed and fetch content, stream it on 127.0.0.1" },
	{ "swarm.dir", OPT_OPT_PATH, OFF(swarm_dir), "DIR",
	  "the swarm's content store and keys (default: the datadir)" },
	{ "swarm.storage", OPT_COUNT, OFF(swarm_storage_mib), "MIB",
	  "storage budget for content in MiB, 0 for none (default 0)" },
	{ "swarm.upload", OPT_COUNT, OFF(swarm_upload_kBps), "KBPS",
	  "upload budget for seeding in KB/s, 0 for none (default 0)" },
	{ "swarm.http-port", OPT_PORT, OFF(swarm_http_port), "PORT",
	  "the streaming endpoint on 127.0.0.1:PORT (default 7670)" },
	{ "swarm.tracker", OPT_BOOL, OFF(swarm_tracker), NULL,
	  "answer swarm announces as a tracker (destinations only)" },
	{ "swarm.capture", OPT_OPT_PATH, OFF(swarm_capture), "FILE",
	  "append every swarm frame to FILE (tests: the plaintext)" },
	{ "swarm.trackers", OPT_OPT_PATH, OFF(swarm_trackers), "LIST",
	  "trackers to announce to: b32 addresses or hashes, commas between" },
	{ "swarm.pay.price", OPT_AMOUNT, OFF(swarm_pay_price), "AMOUNT",
	  "sell the chunks we seed at AMOUNT token base units each, paid by "
	  "vouchers to our stealth addresses (docs/market.md §7)" },
	{ "swarm.pay.relayer", OPT_OPT_PATH, OFF(swarm_pay_relayer), "B32",
	  "the relayer that redeems our vouchers (market.relayer.key)" },
	{ "swarm.pay.relayer-fee", OPT_COUNT, OFF(swarm_pay_relayer_fee),
	  "UNITS", "pay the relayer UNITS token base units from a stealth "
	  "balance for each batch it redeems (default 0: none)" },
	{ "swarm.pay.redeem-delay", OPT_COUNT, OFF(swarm_pay_redeem_s),
	  "SECONDS", "redeem due vouchers after a random delay up to this "
	  "(default 600)" },
	{ "swarm.pay.key", OPT_OPT_PATH, OFF(swarm_pay_key), "FILE",
	  "pay seeders per chunk from the pot whose signer key is in FILE" },
	{ "swarm.pay.max-price", OPT_AMOUNT, OFF(swarm_pay_max_price),
	  "AMOUNT", "pay no seeder asking more per chunk (needed with "
	  "swarm.pay.key)" },
	{ "swarm.pay.batch", OPT_COUNT, OFF(swarm_pay_batch), "N",
	  "chunks paid by each voucher, at most (default 8)" },
	{ "swarm.host.price", OPT_AMOUNT, OFF(swarm_host_price), "AMOUNT",
	  "host: keep creators' contents whole under swarm.storage for "
	  "AMOUNT token base units a content per epoch, paid by vouchers "
	  "(docs/market.md §8)" },
	{ "swarm.host.pay-key", OPT_OPT_PATH, OFF(swarm_host_pay_key), "FILE",
	  "creator: pay the hosts of swarm.host.hosts per epoch from the pot "
	  "whose signer key is in FILE" },
	{ "swarm.host.max-price", OPT_AMOUNT, OFF(swarm_host_max_price),
	  "AMOUNT", "creator: pay no host asking more a content per epoch "
	  "(needed with swarm.host.pay-key)" },
	{ "swarm.host.budget", OPT_AMOUNT, OFF(swarm_host_budget), "AMOUNT",
	  "creator: pay each host at most AMOUNT for each content in all "
	  "(default: no limit)" },
	{ "swarm.host.hosts", OPT_OPT_PATH, OFF(swarm_host_hosts), "LIST",
	  "creator: the hosts paid, b32 addresses of their host services "
	  "(DATADIR/market-host.b32), commas between" },
	{ "swarm.host.contents", OPT_OPT_PATH, OFF(swarm_host_contents),
	  "LIST", "creator: the contents their hosts are paid for, hashes "
	  "in hex, commas between (default: every content held whole here)" },
	{ "swarm.host.epoch", OPT_COUNT, OFF(swarm_host_epoch_s), "SECONDS",
	  "creator: the epoch hosts are paid for (default 3600)" },
	{ "feed", OPT_BOOL, OFF(feed), NULL,
	  "run the feed: gossip hash cards, the /api/feed calls" },
	{ "feed.dir", OPT_OPT_PATH, OFF(feed_dir), "DIR",
	  "the feed's store and keys (default: the datadir)" },
	{ "feed.peers", OPT_OPT_PATH, OFF(feed_peers), "LIST",
	  "feed routers to gossip with: b32 addresses or hashes, commas "
	  "between" },
	{ "feed.followed-only", OPT_BOOL, OFF(feed_followed_only), NULL,
	  "keep and relay only the cards of followed creators" },
	{ "feed.views", OPT_BOOL, OFF(feed_views), NULL,
	  "publish view records signed by this router (default off)" },
	{ "feed.round", OPT_COUNT, OFF(feed_round_s), "SECONDS",
	  "reconciliation period with the feed peers (default 60)" },
	{ "feed.pow-bits", OPT_COUNT, OFF(feed_pow_bits), "BITS",
	  "proof of work asked of each feed item, 1-32 bits (default 12)" },
	{ "feed.retention", OPT_COUNT, OFF(feed_retention_days), "DAYS",
	  "keep feed items this many days, 0 for ever (default 0)" },
	{ "relay.pay", OPT_BOOL, OFF(relay_pay), NULL,
	  "ask for tickets for the transit traffic we carry (publishes a "
	  "stealth meta-address and epoch commitment; docs/relaypay.md)" },
	{ "relay.pay.price", OPT_AMOUNT, OFF(relay_pay_price), "AMOUNT",
	  "our price in token base units per GiB carried" },
	{ "relay.pay.withdraw-to", OPT_OPT_PATH, OFF(relay_pay_withdraw_to),
	  "ADDRESS", "after redeeming, move the winnings from their stealth "
	  "addresses to ADDRESS (withdrawFor, gas from relay.pay.redeem-key)" },
	{ "relay.pay.redeem-key", OPT_OPT_PATH, OFF(relay_pay_redeem_key),
	  "FILE", "redeem winning tickets from the account key in FILE "
	  "(64 hex digits; it pays the gas)" },
	{ "relay.pay.epoch", OPT_COUNT, OFF(relay_pay_epoch_s), "SECONDS",
	  "rotate the epoch secret this often (default 3600)" },
	{ "relay.pay.test-withdraw-fail", OPT_COUNT,
	  OFF(relay_pay_test_withdraw_fail), "N",
	  "tests: the first N withdrawals fail every try of their first "
	  "round (they are tried again later)" },
	{ "relay.pay.test-withdraw-retry", OPT_COUNT,
	  OFF(relay_pay_test_withdraw_retry_s), "SECONDS",
	  "tests: a withdrawal to try again waits this long for its next "
	  "round, doubling with each failed one (default 30)" },
	{ "relay.pay.test-redeem-margin", OPT_COUNT,
	  OFF(relay_pay_test_redeem_margin_s), "SECONDS",
	  "tests: take tickets that expire this long after their epoch's "
	  "redemption (default 300)" },
	{ "tunnels.pay.key", OPT_OPT_PATH, OFF(tunnels_pay_key), "FILE",
	  "pay our tunnels' hops that ask for pay from the pot whose signer "
	  "key is in FILE (64 hex digits); FILE,FILE...: several pots, "
	  "used in turn" },
	{ "tunnels.pay.rotate", OPT_COUNT, OFF(tunnels_pay_rotate_s), "SECONDS",
	  "with several pots, the next one this often (default 3600)" },
	{ "tunnels.pay.max-price", OPT_AMOUNT, OFF(tunnels_pay_max_price),
	  "AMOUNT", "pay no hop asking more per GiB (default: any price)" },
	{ "tunnels.pay.face", OPT_AMOUNT, OFF(tunnels_pay_face), "AMOUNT",
	  "face value of each ticket (default 10^18)" },
	{ "tunnels.pay.mib", OPT_COUNT, OFF(tunnels_pay_mib), "MIB",
	  "MiB each ticket pays a hop for (default 16)" },
	{ "tunnels.pay.kib", OPT_COUNT, OFF(tunnels_pay_kib), "KIB",
	  "KiB each ticket pays a hop for, instead of tunnels.pay.mib" },
	{ "tunnels.pay.hops", OPT_OPT_PATH, OFF(tunnels_pay_hops), "POLICY",
	  "any (default), prefer-paid, prefer-free, paid-only or free-only "
	  "hops that ask for pay" },
	{ "tunnels.pay.ri-refresh", OPT_COUNT, OFF(tunnels_pay_ri_refresh_s),
	  "SECONDS", "look a paid hop's RouterInfo up again when ours is "
	  "older (its epoch commitment changes; default 600)" },
	{ "tunnels.pay.fund-key", OPT_OPT_PATH, OFF(tunnels_pay_fund_key),
	  "FILE", "fund our pots from the account key in FILE (64 hex "
	  "digits; it holds the tokens and pays the gas): a pot unfunded or "
	  "under half of tunnels.pay.fund is filled up (checked at start and "
	  "every 10 minutes); pots not funded are not used" },
	{ "tunnels.pay.fund", OPT_AMOUNT, OFF(tunnels_pay_fund), "AMOUNT",
	  "with tunnels.pay.fund-key, what each pot's deposit and escrow "
	  "are filled up to" },
	{ "tunnels.pay.fund-budget", OPT_AMOUNT, OFF(tunnels_pay_fund_budget),
	  "AMOUNT", "with tunnels.pay.fund-key, the most put into pots in "
	  "all (kept in DATADIR/relaypay-fund.spent)" },
	{ "tunnels.pay.fresh-pots", OPT_COUNT, OFF(tunnels_pay_fresh),
	  "N", "with tunnels.pay.fund-key: make N new pots each turn of "
	  "tunnels.pay.rotate (keys in DATADIR/relaypay-pots), fund them, and "
	  "drain each back to the funding account once its tickets expired "
	  "(instead of tunnels.pay.key)" },
	{ "tunnels.pay.ttl", OPT_COUNT, OFF(tunnels_pay_ttl_s), "SECONDS",
	  "tickets expire this long after they are made (default 21600; at "
	  "most the PaymentHub's maxPaperTTL)" },
	{ "tunnels.pay.max-paid-hops", OPT_COUNT, OFF(tunnels_pay_max_paid),
	  "N", "at most N hops of a tunnel that ask for pay (default: any)" },
	{ "market.gateway", OPT_BOOL, OFF(market_gateway), NULL,
	  "publish the chain node of market.gateway.rpc as a hidden service" },
	{ "market.gateway.rpc", OPT_OPT_PATH, OFF(market_gateway_rpc), "URL",
	  "the node's JSON-RPC, http://127.x.y.z:PORT (loopback only)" },
	{ "market.gateways", OPT_OPT_PATH, OFF(market_gateways), "LIST",
	  "chain RPC gateways to use: b32 addresses or hashes, commas between" },
	{ "market.deploy", OPT_OPT_PATH, OFF(market_deploy), "FILE",
	  "the contracts' deploy JSON (chain id and addresses)" },
	{ "market.accounts", OPT_OPT_PATH, OFF(market_accounts), "LIST",
	  "0x addresses the wallet view shows, commas between" },
	{ "market.isolation", OPT_COUNT, OFF(market_isolation), "N",
	  "ask the gateways about each address from a destination of its "
	  "own, up to N of them at once (default 0: 8; at most 64)" },
	{ "market.agent", OPT_BOOL, OFF(market_agent), NULL,
	  "run the key agent (its key in DATADIR/market-agent.key)" },
	{ "market.agent.keys", OPT_OPT_PATH, OFF(market_agent_keys), "FILE",
	  "the key agent's content keys: lines of INDEX and 64 hex digits" },
	{ "market.relayer.key", OPT_OPT_PATH, OFF(market_relayer_key), "FILE",
	  "run the purchase relayer, sending from the account key in FILE" },
	{ "market.relayer.min-fee", OPT_COUNT, OFF(market_relayer_min_fee),
	  "UNITS", "smallest relayer fee taken, in token base units" },
	{ "market.relayer.redeem-min-fee", OPT_COUNT,
	  OFF(market_relayer_redeem_min_fee), "UNITS", "smallest fee a "
	  "voucher batch must pay the relayer (default 0: batches with no "
	  "fee taken)" },
	{ "market.wallet.key", OPT_OPT_PATH, OFF(market_wallet_key), "FILE",
	  "the wallet that pays for licences: an account key, 64 hex digits" },
	{ "market.buy.relayer", OPT_OPT_PATH, OFF(market_buy_relayer), "B32",
	  "the relayer that submits purchases when the wallet has no ETH" },
	{ "market.buy.relayer-fee", OPT_COUNT, OFF(market_buy_relayer_fee),
	  "UNITS", "the fee offered to that relayer, in token base units" },
};

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* The range of an unsigned option type. */
static void uint_range(enum opt_type type, unsigned long *lo,
		       unsigned long *hi)
{
	*lo = type == OPT_QUANTITY ? 1 :
	      type == OPT_LIFETIME ? 60 : type == OPT_TIMEOUT ? 2 : 0;
	*hi = type == OPT_HOPS ? 7 : type == OPT_QUANTITY ? 16 :
	      type == OPT_PERCENT ? 100 : type == OPT_LIFETIME ? 600 :
	      type == OPT_VARIANCE ? 3 : type == OPT_BACKUP ? 4 :
	      type == OPT_TIMEOUT ? 3600 : 10000000;
}

static const struct opt *opt_find(const char *key)
{
	if (strcmp(key, "sam-port") == 0)	/* the flag SAM users expect */
		key = "sam.port";
	for (size_t i = 0; i < ARRAY_LEN(opts); i++)
		if (strcmp(opts[i].key, key) == 0)
			return &opts[i];
	return NULL;
}

struct conf *conf_new_default(const char *datadir)
{
	struct conf *cfg = xzalloc(sizeof(*cfg));

	cfg->datadir = xstrdup(datadir);
	cfg->loglevel = LOG_NOTICE;
	cfg->host = xstrdup(CONF_DEFAULT_HOST);
	cfg->netid = CONF_DEFAULT_NETID;
	cfg->transit_max_tunnels = CONF_DEFAULT_TRANSIT_MAX_TUNNELS;
	cfg->transit_share_pct = CONF_DEFAULT_TRANSIT_SHARE_PCT;
	cfg->lim_sessions = CONF_DEFAULT_LIM_SESSIONS;
	cfg->lim_handshakes = CONF_DEFAULT_LIM_HANDSHAKES;
	cfg->lim_handshakes_ip = CONF_DEFAULT_LIM_HANDSHAKES_IP;
	cfg->lim_pending_hs = CONF_DEFAULT_LIM_PENDING_HS;
	cfg->lim_pending_hs_ip = CONF_DEFAULT_LIM_PENDING_HS_IP;
	cfg->ntcp2_hs_timeout_s = CONF_DEFAULT_NTCP2_HS_TIMEOUT_S;
	cfg->ntcp2_idle_s = CONF_DEFAULT_NTCP2_IDLE_S;
	cfg->ssu2_hs_timeout_s = CONF_DEFAULT_SSU2_HS_TIMEOUT_S;
	cfg->ssu2_idle_s = CONF_DEFAULT_SSU2_IDLE_S;
	cfg->lim_builds = CONF_DEFAULT_LIM_BUILDS;
	cfg->lim_builds_peer = CONF_DEFAULT_LIM_BUILDS_PEER;
	cfg->lim_transit_peer = CONF_DEFAULT_LIM_TRANSIT_PEER;
	cfg->lim_tunnel_msgs = CONF_DEFAULT_LIM_TUNNEL_MSGS;
	cfg->lim_tunnel_msgs_peer = CONF_DEFAULT_LIM_TUNNEL_MSGS_PEER;
	cfg->lim_netdb_lookups = CONF_DEFAULT_LIM_NETDB_LOOKUPS;
	cfg->lim_netdb_stores = CONF_DEFAULT_LIM_NETDB_STORES;
	cfg->lim_streams = CONF_DEFAULT_LIM_STREAMS;
	cfg->lim_sam_sessions = CONF_DEFAULT_LIM_SAM_SESSIONS;
	cfg->lim_memory_mib = CONF_DEFAULT_LIM_MEMORY_MIB;
	cfg->lim_reasm_mib = CONF_DEFAULT_LIM_REASM_MIB;
	cfg->lim_obep_mib = CONF_DEFAULT_LIM_OBEP_MIB;
	cfg->lim_garlic_sessions = CONF_DEFAULT_LIM_GARLIC_SESSIONS;
	cfg->lim_netdb_ri_mib = CONF_DEFAULT_LIM_NETDB_RI_MIB;
	cfg->lim_netdb_ls_mib = CONF_DEFAULT_LIM_NETDB_LS_MIB;
	cfg->ntcp2_write_stall_s = CONF_DEFAULT_NTCP2_WRITE_STALL_S;
	cfg->sam_hops = CONF_DEFAULT_SAM_HOPS;
	cfg->proxy_hops = CONF_UNSET_HOPS;
	cfg->expl_in_length = cfg->expl_out_length = CONF_DEFAULT_EXPL_LENGTH;
	return cfg;
}

void conf_free(struct conf *cfg)
{
	if (!cfg)
		return;
	free(cfg->datadir);
	free(cfg->conf_path);
	free(cfg->logfile);
	free(cfg->host);
	free(cfg->host6);
	free(cfg->proxy_outproxy);
	free(cfg->proxy_hosts);
	free(cfg->proxy_tunnels);
	free(cfg->proxy_subscriptions);
	free(cfg->proxy_leaseset_key);
	free(cfg->proxy_site_keys);
	if (cfg->proxy_leaseset_secret)
		xfree_wipe(cfg->proxy_leaseset_secret,
			   strlen(cfg->proxy_leaseset_secret));
	free(cfg->swarm_dir);
	free(cfg->swarm_trackers);
	free(cfg->swarm_capture);
	free(cfg->swarm_pay_price);
	free(cfg->swarm_pay_relayer);
	free(cfg->swarm_pay_key);
	free(cfg->swarm_pay_max_price);
	free(cfg->swarm_host_price);
	free(cfg->swarm_host_pay_key);
	free(cfg->swarm_host_max_price);
	free(cfg->swarm_host_budget);
	free(cfg->swarm_host_hosts);
	free(cfg->swarm_host_contents);
	free(cfg->feed_dir);
	free(cfg->feed_peers);
	free(cfg->relay_pay_price);
	free(cfg->relay_pay_redeem_key);
	free(cfg->relay_pay_withdraw_to);
	free(cfg->tunnels_pay_key);
	free(cfg->tunnels_pay_max_price);
	free(cfg->tunnels_pay_face);
	free(cfg->tunnels_pay_hops);
	free(cfg->tunnels_test_hops_in);
	free(cfg->tunnels_test_hops_out);
	free(cfg->tunnels_pay_fund_key);
	free(cfg->tunnels_pay_fund);
	free(cfg->tunnels_pay_fund_budget);
	free(cfg->market_gateway_rpc);
	free(cfg->market_gateways);
	free(cfg->market_deploy);
	free(cfg->market_accounts);
	free(cfg->market_agent_keys);
	free(cfg->market_relayer_key);
	free(cfg->market_wallet_key);
	free(cfg->market_buy_relayer);
	free(cfg->reseed_file);
	free(cfg->reseed_dir);
	free(cfg->reseed_url);
	free(cfg->reseed_signers);
	free(cfg->reseed_cafile);
	free(cfg->netdb_accomplices);
	free(cfg);
}

/* Strict decimal in [min, max]: no sign, no spaces, no leading zeros. */
static bool parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	unsigned long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || (unsigned long)(*s - '0') > max ||
		    v > (max - (unsigned)(*s - '0')) / 10)
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v < min)
		return false;
	*out = v;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool is_ip_literal(const char *s)
{
	uint8_t addr[16];

	return inet_pton(AF_INET, s, addr) == 1 ||
	       inet_pton(AF_INET6, s, addr) == 1;
}

static void set_str(struct conf *cfg, size_t off, const char *value)
{
	char **field = (char **)((char *)cfg + off);

	free(*field);
	*field = *value ? xstrdup(value) : NULL;
}

int conf_set(struct conf *cfg, const char *key, const char *value,
	       char *err, size_t errlen)
{
	const struct opt *o = opt_find(key);
	unsigned long v, lo, hi;
	enum log_level lv;
	uint8_t addr[16];
	bool b;

	if (!o)
		return fail(err, errlen, ERR_NOT_FOUND, "unknown option \"%s\"",
			    key);
	switch (o->type) {
	case OPT_PATH:
		if (!*value)
			return fail(err, errlen, ERR_FORMAT,
				    "%s: expected a path, got nothing", key);
		set_str(cfg, o->off, value);
		return 0;
	case OPT_OPT_PATH:
		set_str(cfg, o->off, value);
		return 0;
	case OPT_AMOUNT:
		if (!ri_pay_price_is_valid(value))
			return fail(err, errlen, ERR_RANGE,
				    "%s: expected a whole number below 2^96, "
				    "got \"%s\"", key, value);
		set_str(cfg, o->off, value);
		return 0;
	case OPT_LOGLEVEL:
		if (log_level_parse(value, &lv) != 0)
			return fail(err, errlen, ERR_FORMAT,
				    "%s: expected debug, info, notice, warn, "
				    "error or none, got \"%s\"", key, value);
		cfg->loglevel = lv;
		return 0;
	case OPT_HOST:
		if (!is_ip_literal(value))
			return fail(err, errlen, ERR_FORMAT,
				    "%s: expected an IPv4 or IPv6 address, "
				    "got \"%s\"", key, value);
		set_str(cfg, o->off, value);
		return 0;
	case OPT_HOST6:
		if (inet_pton(AF_INET6, value, addr) != 1)
			return fail(err, errlen, ERR_FORMAT,
				    "%s: expected an IPv6 address, got \"%s\"",
				    key, value);
		set_str(cfg, o->off, value);
		return 0;
	case OPT_PORT:
		if (!parse_uint(value, 1, 65535, &v))
			return fail(err, errlen, ERR_RANGE,
				    "%s: expected a number from 1 to 65535, "
				    "got \"%s\"", key, value);
		memcpy((char *)cfg + o->off, &(uint16_t){ (uint16_t)v },
		       sizeof(uint16_t));
		return 0;
	case OPT_NETID:
		if (!parse_uint(value, 1, 255, &v))
			return fail(err, errlen, ERR_RANGE,
				    "%s: expected a number from 1 to 255, "
				    "got \"%s\"", key, value);
		cfg->netid = (uint8_t)v;
		return 0;
	case OPT_VARIANCE:
		if (!parse_uint(value + (value[0] == '-'), 0,
				3, &v))
			return fail(err, errlen, ERR_RANGE,
				    "%s: expected a number from -3 to 3, "
				    "got \"%s\"", key, value);
		memcpy((char *)cfg + o->off, &(int32_t){ value[0] == '-' ?
			-(int32_t)v : (int32_t)v }, sizeof(int32_t));
		return 0;
	case OPT_BOOL:
		if (!parse_bool(value, &b))
			return fail(err, errlen, ERR_FORMAT,
				    "%s: expected true or false, got \"%s\"",
				    key, value);
		memcpy((char *)cfg + o->off, &b, sizeof(bool));
		return 0;
	case OPT_HOPS:
	case OPT_QUANTITY:
	case OPT_PERCENT:
	case OPT_COUNT:
	case OPT_LIFETIME:
	case OPT_BACKUP:
	case OPT_TIMEOUT:
		uint_range(o->type, &lo, &hi);
		if (!parse_uint(value, lo, hi, &v))
			return fail(err, errlen, ERR_RANGE,
				    "%s: expected a number from %lu to %lu, "
				    "got \"%s\"", key, lo, hi, value);
		memcpy((char *)cfg + o->off, &(uint32_t){ (uint32_t)v },
		       sizeof(uint32_t));
		return 0;
	}
	return fail(err, errlen, ERR_INTERNAL, "%s: bad option type", key);
}

/* Trim spaces and tabs at both ends of s, in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Cut an inline comment: '#' or ';' that follows a space or a tab. */
static void cut_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if ((*p == '#' || *p == ';') && p > s &&
		    (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static bool is_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
		    *s != '.')
			return false;
	return true;
}

/*
 * Apply one line (NUL-terminated, no newline) to cfg; section is the
 * current section name, updated by "[name]".  Messages carry no location.
 */
static int ini_line(struct conf *cfg, char *line, char *section,
		    size_t seclen, const char *where, char *err, size_t errlen)
{
	char *s = trim(line), *eq, *key, *value, full[CONF_MAX_LINE_BYTES];
	int r;

	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		char *end = strchr(s, ']');
		if (!end || trim(end + 1)[0] != '\0')
			return fail(err, errlen, ERR_FORMAT,
				    "expected \"[section]\"");
		*end = '\0';
		s = trim(s + 1);
		if (!is_name(s) || strlen(s) >= seclen)
			return fail(err, errlen, ERR_FORMAT,
				    "bad section name \"%s\"", s);
		memcpy(section, s, strlen(s) + 1);
		return 0;
	}
	if (!(eq = strchr(s, '=')))
		return fail(err, errlen, ERR_FORMAT, "expected \"key = value\"");
	*eq = '\0';
	key = trim(s);
	cut_comment(eq + 1);
	value = trim(eq + 1);
	if (!is_name(key))
		return fail(err, errlen, ERR_FORMAT, "bad key \"%s\"", key);
	snprintf(full, sizeof(full), "%s%s%s", section, *section ? "." : "",
		 key);
	r = conf_set(cfg, full, value, err, errlen);
	if (r == ERR_NOT_FOUND) {
		/* Operators keep options for newer versions: warn, go on. */
		log_warn(LD_CONFIG, "%s: unknown option \"%s\" ignored", where,
			 full);
		return 0;
	}
	return r;
}

int conf_parse_ini(struct conf *cfg, const char *fname, const uint8_t *buf,
		     size_t len, char *err, size_t errlen)
{
	static const uint8_t bom[3] = { 0xef, 0xbb, 0xbf };
	char line[CONF_MAX_LINE_BYTES + 1], section[64] = "";
	char where[CONF_ERR_BYTES / 2], msg[CONF_ERR_BYTES];
	struct breader r;
	unsigned lineno = 0;
	int rc;

	br_init(&r, buf, len);
	if (len >= sizeof(bom) && memcmp(buf, bom, sizeof(bom)) == 0)
		br_skip(&r, sizeof(bom));
	while (br_left(&r) > 0) {
		const uint8_t *nl = memchr(r.p, '\n', br_left(&r));
		size_t n = nl ? (size_t)(nl - r.p) : br_left(&r);
		const uint8_t *p = br_take(&r, n);

		if (nl)
			br_skip(&r, 1);
		snprintf(where, sizeof(where), "%s:%u", fname, ++lineno);
		if (n > CONF_MAX_LINE_BYTES)
			return fail(err, errlen, ERR_TOO_BIG,
				    "%s: line longer than %d bytes", where,
				    CONF_MAX_LINE_BYTES);
		if (memchr(p, '\0', n))
			return fail(err, errlen, ERR_FORMAT,
				    "%s: NUL byte in line", where);
		memcpy(line, p, n);
		line[n] = '\0';
		rc = ini_line(cfg, line, section, sizeof(section), where, msg,
			      sizeof(msg));
		if (rc != 0)
			return fail(err, errlen, rc, "%s: %s", where, msg);
	}
	if (r.failed)	/* cannot happen: every take was bounded above */
		return fail(err, errlen, ERR_INTERNAL, "%s: read error", fname);
	return 0;
}

int conf_args_parse(int argc, char *const *argv, struct conf_args *out,
		      char *err, size_t errlen)
{
	struct conf_args a = { .action = CONF_ACTION_RUN };

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *value = NULL;
		char key[64];
		const struct opt *o;
		size_t klen;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			a.action = CONF_ACTION_HELP;
			continue;
		}
		if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
			if (a.action != CONF_ACTION_HELP)
				a.action = CONF_ACTION_VERSION;
			continue;
		}
		if (strcmp(arg, "--init") == 0) {
			if (a.action == CONF_ACTION_RUN)
				a.action = CONF_ACTION_INIT;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0)
			return fail(err, errlen, ERR_ARG,
				    "unexpected argument \"%s\"", arg);
		name = arg + 2;
		eq = strchr(name, '=');
		klen = eq ? (size_t)(eq - name) : strlen(name);
		if (klen >= sizeof(key))
			return fail(err, errlen, ERR_ARG, "unknown option %s",
				    arg);
		memcpy(key, name, klen);
		key[klen] = '\0';
		o = opt_find(key);
		if (!o && strcmp(key, "conf") != 0)
			return fail(err, errlen, ERR_ARG,
				    "unknown option --%s (see --help)", key);
		if (eq)
			value = eq + 1;
		else if (o && o->type == OPT_BOOL)
			value = "true";
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return fail(err, errlen, ERR_ARG,
				    "option --%s needs a value", key);
		if (!o) {
			a.conf = value;
			continue;
		}
		if (strcmp(key, "datadir") == 0)
			a.datadir = value;
		if (a.noverrides == CONF_MAX_OVERRIDES)
			return fail(err, errlen, ERR_ARG, "too many options");
		a.overrides[a.noverrides].key = o->key;
		a.overrides[a.noverrides].value = value;
		a.noverrides++;
	}
	*out = a;
	return 0;
}

/* The data directory before the file is read: flag, environment, home. */
static int initial_datadir(const struct conf_args *args, char **out)
{
	const char *env = getenv(CONF_DATADIR_ENV), *home = getenv("HOME");

	if (args->datadir && *args->datadir)
		*out = xstrdup(args->datadir);
	else if (env && *env)
		*out = xstrdup(env);
	else if (home && *home)
		*out = fsutil_path_join(home, CONF_DEFAULT_DIR_NAME);
	else
		return ERR_ARG;
	return 0;
}

/* Read and apply the config file, if there is one. */
static int load_file(struct conf *cfg, const struct conf_args *args,
		     char *err, size_t errlen)
{
	char *path = args->conf ? xstrdup(args->conf) :
		     fsutil_path_join(cfg->datadir, CONF_FILE_NAME);
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = fsutil_read_file(path, CONF_MAX_FILE_BYTES, &buf, &len);
	if (r == ERR_NOT_FOUND && !args->conf) {
		r = 0;		/* no file: defaults and flags only */
		goto out;
	}
	if (r == ERR_IO)
		r = fail(err, errlen, r, "%s: %s", path, strerror(errno));
	else if (r == ERR_TOO_BIG)
		r = fail(err, errlen, r, "%s: larger than %d bytes", path,
			 CONF_MAX_FILE_BYTES);
	else if (r != 0)
		r = fail(err, errlen, r, "%s: %s", path, err_str(r));
	else
		r = conf_parse_ini(cfg, path, buf, len, err, errlen);
	if (r == 0) {
		cfg->conf_path = path;
		path = NULL;
	}
out:
	if (buf)
		xfree_wipe(buf, len);
	free(path);
	return r;
}

int conf_load(const struct conf_args *args, struct conf **out,
		char *err, size_t errlen)
{
	struct conf *cfg;
	char *datadir = NULL, msg[CONF_ERR_BYTES];
	int r;

	if (initial_datadir(args, &datadir) != 0)
		return fail(err, errlen, ERR_ARG, "no data directory: use "
			    "--datadir, $" CONF_DATADIR_ENV " or $HOME");
	cfg = conf_new_default(datadir);
	free(datadir);
	if ((r = load_file(cfg, args, err, errlen)) != 0)
		goto out;
	for (size_t i = 0; i < args->noverrides; i++) {
		r = conf_set(cfg, args->overrides[i].key,
			       args->overrides[i].value, msg, sizeof(msg));
		if (r != 0) {
			r = fail(err, errlen, r, "command line: --%s", msg);
			goto out;
		}
	}
	*out = cfg;
	cfg = NULL;
out:
	conf_free(cfg);
	return r;
}

void conf_help_print(FILE *f, const char *prog)
{
	char flag[64];

	fprintf(f, "Usage: %s [OPTION]...\n"
		"Run the Bits router (I2P-compatible overlay router).\n\n"
		"Options (each also a \"key = value\" line in the config "
		"file):\n", prog);
	for (size_t i = 0; i < ARRAY_LEN(opts); i++) {
		snprintf(flag, sizeof(flag), "--%s%s%s", opts[i].key,
			 opts[i].metavar ? " " : "",
			 opts[i].metavar ? opts[i].metavar : "");
		fprintf(f, "  %-22s %s\n", flag, opts[i].help);
	}
	fprintf(f, "\nCommand-line only:\n"
		"  %-22s config file (default DATADIR/" CONF_FILE_NAME ")\n"
		"  %-22s create the router keys and DATADIR/router.info, "
		"then exit\n"
		"  %-22s show this help and exit\n"
		"  %-22s show the version and exit\n\n"
		"Flags override the config file.  SIGHUP re-reads it and "
		"reopens the log file;\nSIGINT and SIGTERM stop the router.\n",
		"--conf FILE", "--init", "-h, --help", "-V, --version");
}
