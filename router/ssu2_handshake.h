/*
 * SSU2 packet crypto (geti2p.net/spec/ssu2, "Packet Header", "Header
 * Encryption KDF", the KDF sections and the message sections): header
 * protection, the out-of-session messages keyed by an intro key (Token
 * Request, Retry, Peer Test, Hole Punch), SessionRequest / SessionCreated
 * / SessionConfirmed (with fragmentation) as pure functions over the Noise
 * symmetric state, and the data-phase keys and packets.  No I/O: the
 * caller (router/ssu2.c) owns sockets and timers; tests drive both roles
 * against each other with fixed keys.
 *
 * Packets on the wire have their header protected.  The receiver peels it
 * in steps, because the key for the second step depends on the first:
 *   ssu2_hp_part1(pkt, k1)  -> bytes 0-7: destination connection id
 *   ssu2_hp_part2(pkt, k2)  -> bytes 8-15: packet number, type, ...
 *   ssu2_hp_long(pkt, k2, n)-> bytes 16..16+n (long headers; n = 16, or
 *                              48 for SessionRequest/Created with the key)
 * Each call is an XOR and its own inverse.  The write functions below
 * return fully protected packets; the read functions take packets whose
 * header (and for SessionRequest/Created the ephemeral key) has been
 * unprotected as above.
 *
 * Handshake call order.  Alice:
 *   ssu2_hs_init_alice -> ssu2_hs_write_request -> ssu2_hs_read_created
 *   -> ssu2_hs_write_confirmed -> ssu2_hs_split
 * Bob:
 *   ssu2_hs_init_bob -> ssu2_hs_read_request -> ssu2_hs_write_created
 *   -> ssu2_hs_read_confirmed -> ssu2_hs_split
 * Write functions may be repeated only by resending their output (the
 * spec retransmits handshake packets unchanged).  A call out of order is
 * ERR_BAD_STATE; any failure of a read leaves the handshake failed (only
 * ssu2_hs_wipe() is allowed afterwards).
 *
 * Ownership: struct ssu2_hs is the caller's (embed it); it holds session
 * secrets and must be wiped with ssu2_hs_wipe() on every path.  The local
 * static key (struct noise_static) is borrowed and must outlive it.
 * Thread: none of this is thread-safe on a shared object.
 */
#ifndef ROUTER_SSU2_HANDSHAKE_H
#define ROUTER_SSU2_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/noise.h"
#include "crypto/x25519.h"

/* "Noise_XKchaobfse+hs1+hs2+hs3_25519_ChaChaPoly_SHA256" (52 bytes). */
#define SSU2_PROTOCOL_NAME "Noise_XKchaobfse+hs1+hs2+hs3_25519_ChaChaPoly_SHA256"
#define SSU2_VERSION 2
#define SSU2_KEY_BYTES 32
#define SSU2_INTRO_KEY_BYTES 32
#define SSU2_TAG_BYTES 16
#define SSU2_LONG_HEADER_BYTES 32
#define SSU2_SHORT_HEADER_BYTES 16
/* "All SSU2 messages are at least 40 bytes in length." */
#define SSU2_MIN_PACKET_BYTES 40
/* "less than or equal to 1472 (IPv4) or 1452 (IPv6) bytes" */
#define SSU2_MAX_PACKET_BYTES_V4 1472
#define SSU2_MAX_PACKET_BYTES_V6 1452
#define SSU2_MAX_PACKET_BYTES SSU2_MAX_PACKET_BYTES_V4
/* Every payload is at least 8 bytes, so the last 24 bytes of a packet
 * (the header-protection nonces) are payload and MAC. */
#define SSU2_MIN_PAYLOAD_BYTES 8
/* SessionRequest / SessionCreated: long header ‖ key ‖ payload ‖ MAC. */
#define SSU2_HS_OVERHEAD_BYTES (SSU2_LONG_HEADER_BYTES + 32 + SSU2_TAG_BYTES)
/* SessionConfirmed: short header ‖ 48-byte static key frame ‖ MAC. */
#define SSU2_CONFIRMED_OVERHEAD_BYTES (SSU2_SHORT_HEADER_BYTES + 48 + \
				       SSU2_TAG_BYTES)
/* "bits 3-0: total fragments 1-15" */
#define SSU2_CONFIRMED_MAX_FRAGS 15
/* ±60 s, as i2pd; the spec recommends ±2 minutes. */
#define SSU2_CLOCK_SKEW_S 60

enum ssu2_msg_type {
	SSU2_SESSION_REQUEST = 0,
	SSU2_SESSION_CREATED = 1,
	SSU2_SESSION_CONFIRMED = 2,
	SSU2_DATA = 6,
	SSU2_PEER_TEST = 7,
	SSU2_RETRY = 9,
	SSU2_TOKEN_REQUEST = 10,
	SSU2_HOLE_PUNCH = 11,
};

/* The 32-byte long header, unprotected.  Connection ids and the token are
 * "unsigned big endian integer"s. */
struct ssu2_long_hdr {
	uint64_t dst_id;
	uint32_t pkt_num;
	uint8_t type;
	uint8_t ver;
	uint8_t netid;
	uint8_t flag;
	uint64_t src_id;
	uint64_t token;
};

/* The 16-byte short header, unprotected.  flags[0] is "frag" for
 * SessionConfirmed and the flag byte (bit 0: immediate ACK) for Data. */
struct ssu2_short_hdr {
	uint64_t dst_id;
	uint32_t pkt_num;
	uint8_t type;
	uint8_t flags[3];
};

void ssu2_long_hdr_encode(const struct ssu2_long_hdr *h,
			  uint8_t out[SSU2_LONG_HEADER_BYTES]);
void ssu2_long_hdr_decode(const uint8_t in[SSU2_LONG_HEADER_BYTES],
			  struct ssu2_long_hdr *out);
void ssu2_short_hdr_encode(const struct ssu2_short_hdr *h,
			   uint8_t out[SSU2_SHORT_HEADER_BYTES]);
void ssu2_short_hdr_decode(const uint8_t in[SSU2_SHORT_HEADER_BYTES],
			   struct ssu2_short_hdr *out);
/* True for the types that carry a long header. */
bool ssu2_type_is_long(uint8_t type);

/* ---- header protection ("Header Encryption KDF") ---- */

/* bytes 0-7 ^= ChaCha20(k1, nonce = pkt[len-24 .. len-12]) over 8 zero
 * bytes (block counter 1).  len ≥ SSU2_MIN_PACKET_BYTES (else nothing). */
void ssu2_hp_part1(uint8_t *pkt, size_t len, const uint8_t k1[32]);
/* bytes 8-15 ^= ChaCha20(k2, nonce = pkt[len-12 .. len]). */
void ssu2_hp_part2(uint8_t *pkt, size_t len, const uint8_t k2[32]);
/* bytes 16..16+n ^= ChaCha20(k2, zero nonce): n = 16 for Retry, Token
 * Request, Peer Test and Hole Punch, 48 for SessionRequest/Created (the
 * header's second half and the ephemeral key).  len ≥ 16 + n + 24. */
void ssu2_hp_long(uint8_t *pkt, size_t len, const uint8_t k2[32], size_t n);
/* The destination connection id of a packet whose part 1 is peeled. */
uint64_t ssu2_pkt_dst_id(const uint8_t *pkt);

/* ---- out-of-session messages keyed by one intro key ---- */

/*
 * Token Request, Retry, Peer Test (5-7) and Hole Punch: "k = intro key,
 * n = 4 byte packet number from header, ad = 32 byte header, before
 * header encryption"; k_header_1 = k_header_2 = the same key.  Write the
 * protected packet (32 + plen + 16 bytes) to out.  ERR_TOO_BIG when it
 * does not fit outmax or SSU2_MAX_PACKET_BYTES, ERR_ARG for a payload
 * under 8 bytes or a short-header type.
 */
int ssu2_oos_encrypt(const struct ssu2_long_hdr *h, const uint8_t key[32],
		     const uint8_t *payload, size_t plen, uint8_t *out,
		     size_t outmax, size_t *outlen);
/*
 * Decrypt the payload of an out-of-session packet whose header has been
 * unprotected (part 1, part 2 and 16 long bytes) with key.  out gets
 * len - 48 bytes.  ERR_TRUNCATED, ERR_AUTH.
 */
int ssu2_oos_decrypt(const uint8_t *pkt, size_t len, const uint8_t key[32],
		     uint8_t *out, size_t outmax, size_t *plen);

/* ---- the handshake ---- */

enum ssu2_role { SSU2_ALICE, SSU2_BOB };

/* Keys of one direction of the data phase. */
struct ssu2_dir_keys {
	uint8_t k_data[32];	/* ChaChaPoly key, nonce = packet number */
	uint8_t k_hdr2[32];	/* k_header_2 of the direction */
};

/* Data-phase keys of one side: what it sends with and receives with. */
struct ssu2_keys {
	struct ssu2_dir_keys send;
	struct ssu2_dir_keys recv;
};

/* Fields are private to ssu2_handshake.c, except the header keys. */
struct ssu2_hs {
	enum ssu2_role role;
	unsigned step;
	struct noise_sym sym;
	struct noise_static s;		/* local static key */
	struct x25519_sk e;
	struct x25519_pk e_pk;
	struct x25519_pk re;		/* remote ephemeral */
	struct x25519_pk rs;		/* remote static */
	bool has_e;
	uint8_t bob_ik[SSU2_INTRO_KEY_BYTES];	/* Bob's intro key */
	/* k_header_2 of SessionCreated ("SessCreateHeader") and of
	 * SessionConfirmed ("SessionConfirmed"), valid once derived. */
	uint8_t hk_created[32];
	uint8_t hk_confirmed[32];
};

/*
 * Start Alice's side: s our static key (copied; what it points to is
 * borrowed), bob_s and bob_ik the "s" and "i" of Bob's SSU2 address.  The
 * ephemeral key is random unless ssu2_hs_set_ephemeral() follows.
 */
void ssu2_hs_init_alice(struct ssu2_hs *hs, const struct noise_static *s,
			const struct x25519_pk *bob_s,
			const uint8_t bob_ik[SSU2_INTRO_KEY_BYTES]);
/* Start Bob's side: s our static key, our_ik the "i" we publish. */
void ssu2_hs_init_bob(struct ssu2_hs *hs, const struct noise_static *s,
		      const uint8_t our_ik[SSU2_INTRO_KEY_BYTES]);
/* Use e as this side's ephemeral key (tests); before the first message. */
void ssu2_hs_set_ephemeral(struct ssu2_hs *hs, const struct x25519_sk *e);

/*
 * Alice: write SessionRequest for header h (type, ver are set here) with
 * payload (the block list, ≥ 8 bytes) to out: protected header ‖ X ‖
 * ChaChaPoly(payload); *outlen = 80 + plen.  Derives hk_created.  Errors:
 * ERR_ARG (short payload), ERR_TOO_BIG (over outmax or a packet),
 * ERR_CRYPTO (low-order Bob key), ERR_BAD_STATE.
 */
int ssu2_hs_write_request(struct ssu2_hs *hs, const struct ssu2_long_hdr *h,
			  const uint8_t *payload, size_t plen, uint8_t *out,
			  size_t outmax, size_t *outlen);
/*
 * Bob: process an unprotected SessionRequest (pkt: 32-byte header, X,
 * ciphertext; len bytes, untrusted) and decrypt the payload into out
 * (len - 80 bytes).  Derives hk_created.  Errors: ERR_TRUNCATED,
 * ERR_FORMAT (not type 0, or equal connection ids), ERR_CRYPTO (low-order
 * X), ERR_AUTH.  The caller checks the token, version, netid and the
 * DateTime block; ssu2_hs_remote_ephemeral() gives X for a replay cache.
 */
int ssu2_hs_read_request(struct ssu2_hs *hs, const uint8_t *pkt, size_t len,
			 uint8_t *out, size_t outmax, size_t *plen);
/*
 * Bob: write SessionCreated (header h: dst = Alice's source id, src = her
 * destination id, token 0) with payload (DateTime ‖ Address ‖ ...).
 * k_header_1 = our intro key, k_header_2 = hk_created.  Derives
 * hk_confirmed.  Errors as write_request.
 */
int ssu2_hs_write_created(struct ssu2_hs *hs, const struct ssu2_long_hdr *h,
			  const uint8_t *payload, size_t plen, uint8_t *out,
			  size_t outmax, size_t *outlen);
/* Alice: process an unprotected SessionCreated; as read_request.  Derives
 * hk_confirmed. */
int ssu2_hs_read_created(struct ssu2_hs *hs, const uint8_t *pkt, size_t len,
			 uint8_t *out, size_t outmax, size_t *plen);

/*
 * Alice: write SessionConfirmed to Bob's connection id dst_id with
 * payload (RouterInfo block first), split into packets of at most max_pkt
 * bytes each: all packets go to out back to back, lens[i] gets the length
 * of packet i and *nfrags their count (≤ SSU2_CONFIRMED_MAX_FRAGS).  The
 * last fragment always carries ≥ 24 bytes.  Errors: ERR_TOO_BIG (more
 * than 15 fragments, or out too small), ERR_ARG, ERR_CRYPTO,
 * ERR_BAD_STATE.
 */
int ssu2_hs_write_confirmed(struct ssu2_hs *hs, uint64_t dst_id,
			    const uint8_t *payload, size_t plen,
			    size_t max_pkt, uint8_t *out, size_t outmax,
			    size_t lens[SSU2_CONFIRMED_MAX_FRAGS],
			    unsigned *nfrags);
/*
 * Bob: process a reassembled SessionConfirmed: the unprotected header of
 * fragment 0 followed by the bodies (everything after the 16-byte header)
 * of fragments 0..n-1 in order; len bytes, untrusted.  Decrypts the
 * payload into out (len - 80 bytes).  Errors: ERR_TRUNCATED, ERR_FORMAT,
 * ERR_AUTH, ERR_CRYPTO.  The caller checks that the RouterInfo's SSU2 "s"
 * equals ssu2_hs_remote_static().
 */
int ssu2_hs_read_confirmed(struct ssu2_hs *hs, const uint8_t *msg, size_t len,
			   uint8_t *out, size_t outmax, size_t *plen);

/*
 * After the last message: this side's data-phase keys ("KDF for data
 * phase": k_ab, k_ba = Split(); per direction HKDF(k, ZEROLEN,
 * "HKDFSSU2DataKeys", 64) = k_data ‖ k_header_2).  Alice sends with ab.
 * Wipes the handshake secrets (the header keys stay).  ERR_BAD_STATE when
 * the handshake is not complete.
 */
int ssu2_hs_split(struct ssu2_hs *hs, struct ssu2_keys *out);
/* The remote static key (Bob's for Alice from the start; Alice's for Bob
 * after read_confirmed).  False before it is known. */
bool ssu2_hs_remote_static(const struct ssu2_hs *hs, struct x25519_pk *out);
/* The remote ephemeral key once read (for a replay cache). */
const uint8_t *ssu2_hs_remote_ephemeral(const struct ssu2_hs *hs);
void ssu2_hs_wipe(struct ssu2_hs *hs);

/* ---- data phase ---- */

/*
 * Write a Data packet: short header (dst_id, pkt_num, type 6, flags) ‖
 * ChaChaPoly(k.k_data, n = pkt_num, ad = header, payload); protect the
 * header with k1 = the receiver's intro key and k2 = k.k_hdr2.  *outlen =
 * 32 + plen.  ERR_ARG for a payload under 8 bytes, ERR_TOO_BIG.
 */
int ssu2_data_encrypt(const struct ssu2_dir_keys *k,
		      const uint8_t peer_ik[SSU2_INTRO_KEY_BYTES],
		      uint64_t dst_id, uint32_t pkt_num, uint8_t flags,
		      const uint8_t *payload, size_t plen, uint8_t *out,
		      size_t outmax, size_t *outlen);
/*
 * Decrypt a Data packet whose header parts 1 and 2 are unprotected (with
 * our intro key and k.k_hdr2): out gets len - 32 bytes.  ERR_TRUNCATED,
 * ERR_AUTH.
 */
int ssu2_data_decrypt(const struct ssu2_dir_keys *k, const uint8_t *pkt,
		      size_t len, uint8_t *out, size_t outmax, size_t *plen);

/*
 * Our intro key ("i"), stable across restarts without storing it:
 * HKDF(salt = our SSU2 static public key, ikm = DH(SSU2 static secret,
 * P), "bits-ssu2-intro", 32) for a fixed point P, so only we can compute
 * it before it is published.  ERR_CRYPTO if the keystore refuses the DH.
 */
int ssu2_intro_key_derive(const struct keystore *ks,
			  uint8_t out[SSU2_INTRO_KEY_BYTES]);

/*
 * The data-phase AEAD of one direction on an OpenSSL ChaCha20-Poly1305
 * context keyed once (the per-packet work is then only the nonce); the
 * same bytes as ssu2_data_encrypt()/ssu2_data_decrypt(), which the tests
 * cross-check.  The owner frees it with ssu2_aead_free() (wipes the key
 * schedule).
 */
struct ssu2_aead {
	void *ctx;		/* EVP_CIPHER_CTX */
};
void ssu2_aead_init(struct ssu2_aead *a, const uint8_t k_data[32]);
void ssu2_aead_free(struct ssu2_aead *a);
/* As ssu2_data_encrypt() with a's key (k_hdr2 for header part 2). */
int ssu2_data_seal(const struct ssu2_aead *a, const uint8_t k_hdr2[32],
		   const uint8_t peer_ik[SSU2_INTRO_KEY_BYTES],
		   uint64_t dst_id, uint32_t pkt_num, uint8_t flags,
		   const uint8_t *payload, size_t plen, uint8_t *out,
		   size_t outmax, size_t *outlen);
/* As ssu2_data_seal() but the header left unprotected: the caller adds
 * both parts of the protection (ssu2_hp_part1() with peer_ik and
 * ssu2_hp_part2() with k_hdr2, or chacha20_xor8_many() for several
 * packets at once) before it is sent. */
int ssu2_data_seal_bare(const struct ssu2_aead *a, uint64_t dst_id,
			uint32_t pkt_num, uint8_t flags,
			const uint8_t *payload, size_t plen, uint8_t *out,
			size_t outmax, size_t *outlen);
/* As ssu2_data_decrypt() with a's key, the header (its protection
 * removed) at hdr, apart from the packet as it came (whose first 16
 * bytes are not read): no copy of the packet to unprotect it in. */
int ssu2_data_open(const struct ssu2_aead *a,
		   const uint8_t hdr[SSU2_SHORT_HEADER_BYTES],
		   const uint8_t *pkt, size_t len, uint8_t *out, size_t outmax,
		   size_t *plen);

/* True when a peer's clock (seconds) is within SSU2_CLOCK_SKEW_S of now. */
bool ssu2_skew_ok(uint32_t peer_s, uint32_t now_s);

#endif /* ROUTER_SSU2_HANDSHAKE_H */
