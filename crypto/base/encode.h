/*
 * Text encodings: hex, I2P Base64 (RFC 4648 with '-' for '+' and '~' for
 * '/', '=' padding) and Base32 (RFC 4648 lowercase, no padding, for
 * .b32.i2p).  Decoders reject anything not in the alphabet.
 */
#ifndef CRYPTO_BASE_ENCODE_H
#define CRYPTO_BASE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Output sizes including the terminating NUL. */
#define HEX_ENC_LEN(n) (2 * (n) + 1)
#define B64_ENC_LEN(n) (4 * (((n) + 2) / 3) + 1)
#define B32_ENC_LEN(n) ((8 * (n) + 4) / 5 + 1)

/* Encode n bytes into out (outlen bytes, NUL-terminated).  ERR_TOO_BIG if
 * out is too small.  Return 0 or ERR_*. */
int hex_encode(char *out, size_t outlen, const void *in, size_t n);
int b64_encode(char *out, size_t outlen, const void *in, size_t n);
int b32_encode(char *out, size_t outlen, const void *in, size_t n);

/* Decode len characters of s into out (up to outmax bytes); *outlen gets the
 * decoded length.  ERR_FORMAT on a bad character or padding, ERR_TOO_BIG when
 * out is too small.  out is written only on success. */
int hex_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *s, size_t len);
int b64_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *s, size_t len);
int b32_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *s, size_t len);

/* Decode len characters of s as a decimal number no greater than max:
 * digits only, at least one (no sign, blank or prefix, which strtoul
 * takes).  ERR_FORMAT for anything else, ERR_RANGE above max (overflow
 * included).  *out is written only on success. */
int dec_decode(uint64_t *out, uint64_t max, const char *s, size_t len);

#endif /* CRYPTO_BASE_ENCODE_H */
