/*
 * su3 signed files (updates spec, "SU3 File Specification"; PROTOCOLS.md
 * 2.18): the 40-byte header, version, signer ID, content and a signature
 * over everything before it.  Reseed bundles are su3 files of content
 * type 3 (reseed) and file type 0 (zip), signed with RSA-SHA512-4096.
 *
 * "We use raw signatures. Take the hash of the data ... and pass that to a
 * 'raw' sign or verify function (e.g. 'NONEwithRSA' in Java)": PKCS#1
 * v1.5 type-1 padding around the bare 64-byte SHA-512 digest, with no
 * DigestInfo.  Only RSA types (4, 5, 6) are supported; reseeds use 6.
 *
 * A signer is an X.509 certificate; its subject CN is the signer ID that
 * su3 files name (reseed operators' certificates are self-signed, so the
 * issuer CN i2pd keys them by is the same).
 *
 * Decoding borrows from the caller's buffer.  Thread-safe: no shared
 * state (OpenSSL objects are per signer).
 */
#ifndef ROUTER_SU3_H
#define ROUTER_SU3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/base/bytes.h"

#define SU3_MAGIC "I2Psu3"
#define SU3_MAGIC_BYTES 6
#define SU3_HEADER_BYTES 40
/* "Version ... 16 bytes minimum" */
#define SU3_MIN_VERSION_BYTES 16
/* A reseed bundle is a few hundred KB; refuse anything absurd. */
#define SU3_MAX_CONTENT_BYTES (32u << 20)
#define SU3_MAX_BYTES (SU3_MAX_CONTENT_BYTES + 1024)
#define SU3_MAX_SIG_BYTES 512
/* Longest signer ID / version we keep as a string. */
#define SU3_MAX_ID_BYTES 255

enum su3_file_type {
	SU3_FILE_ZIP = 0,
	SU3_FILE_XML = 1,
	SU3_FILE_HTML = 2,
	SU3_FILE_XML_GZ = 3,
};

enum su3_content_type {
	SU3_CONTENT_UNKNOWN = 0,
	SU3_CONTENT_ROUTER_UPDATE = 1,
	SU3_CONTENT_PLUGIN = 2,
	SU3_CONTENT_RESEED = 3,
	SU3_CONTENT_NEWS = 4,
};

struct su3 {
	uint16_t sig_type;
	uint8_t file_type;
	uint8_t content_type;
	char version[SU3_MAX_ID_BYTES + 1];	/* trailing NULs removed */
	char signer[SU3_MAX_ID_BYTES + 1];
	const uint8_t *content;		/* borrowed */
	size_t content_len;
	const uint8_t *signed_data;	/* bytes 0 .. end of content */
	size_t signed_len;
	const uint8_t *sig;
	size_t sig_len;
};

/*
 * Decode an su3 file (untrusted).  Checks the magic, format version 0,
 * every length against what remains, the signature length against the
 * type, that unused bytes are 0, and that nothing follows the signature.
 * Errors: ERR_TRUNCATED, ERR_FORMAT, ERR_TOO_BIG (content over
 * SU3_MAX_CONTENT_BYTES), ERR_UNSUPPORTED (a format version, or a
 * signature type that is not RSA).  *out is written only on success.
 */
int su3_decode(const uint8_t *buf, size_t len, struct su3 *out);

struct su3_signer;

/*
 * Load a signer from a PEM X.509 certificate (untrusted text, at most
 * 64 KiB).  The key must be RSA.  Errors: ERR_FORMAT (not a PEM
 * certificate, no subject CN), ERR_UNSUPPORTED (not RSA).
 */
int su3_signer_from_pem(const uint8_t *pem, size_t len,
			struct su3_signer **out);
/* The same from a file.  Adds ERR_IO / ERR_NOT_FOUND / ERR_TOO_BIG. */
int su3_signer_from_file(const char *path, struct su3_signer **out);
void su3_signer_free(struct su3_signer *s);
/* The subject CN: the signer ID su3 files name (borrowed). */
const char *su3_signer_id(const struct su3_signer *s);

/*
 * Check s's signature with signer: the signer ID must equal the
 * certificate's CN, the RSA modulus must match the signature type's size,
 * and the raw PKCS#1 v1.5 signature must carry the digest of signed_data.
 * Errors: ERR_ARG (signer ID mismatch), ERR_UNSUPPORTED (key size),
 * ERR_BAD_SIG.
 */
int su3_verify(const struct su3 *s, const struct su3_signer *signer);

/*
 * Build and sign an su3 (tools and tests).  key_pem is the signer's RSA
 * private key in PEM (PKCS#8 or traditional); its size picks the
 * signature type (2048, 3072 or 4096 bits -> 4, 5, 6).  version is padded
 * to 16 bytes.  Errors: ERR_ARG (bad key, or a version / signer ID over
 * 255 bytes), ERR_TOO_BIG, ERR_CRYPTO.
 */
int su3_encode(const char *version, const char *signer_id,
	       uint8_t file_type, uint8_t content_type, const uint8_t *content,
	       size_t content_len, const uint8_t *key_pem, size_t key_pem_len,
	       struct bbuf *out);

#endif /* ROUTER_SU3_H */
