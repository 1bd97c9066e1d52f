/*
 * Error codes shared by every layer (after OpenSSH's SSH_ERR_*).  A fallible
 * function returns 0 on success or one of these negative values.
 */
#ifndef CRYPTO_BASE_ERR_H
#define CRYPTO_BASE_ERR_H

enum {
	ERR_OK = 0,
	ERR_INTERNAL = -1,	/* our own bug */
	ERR_TRUNCATED = -2,	/* input ended early */
	ERR_TOO_BIG = -3,	/* a length or count over its limit */
	ERR_FORMAT = -4,	/* malformed input */
	ERR_BAD_SIG = -5,	/* signature did not verify */
	ERR_AUTH = -6,		/* MAC / AEAD tag mismatch */
	ERR_CRYPTO = -7,	/* crypto library failure, bad key */
	ERR_IO = -8,		/* file or socket error (see errno) */
	ERR_NOT_FOUND = -9,
	ERR_EXISTS = -10,
	ERR_RANGE = -11,	/* value outside its allowed range */
	ERR_EXPIRED = -12,	/* timestamp too old or too far ahead */
	ERR_UNSUPPORTED = -13,	/* valid but not something we handle */
	ERR_ARG = -14,		/* bad argument from a local caller/user */
	ERR_BAD_STATE = -15,	/* call not valid in the current state (not
				 * ERR_STATE: OpenSSL's types.h owns that name) */
	ERR_LIMIT = -16,	/* a resource limit was reached */
	ERR_TIMEOUT = -17,
	ERR_DUPLICATE = -18,	/* replayed or already seen */
	ERR_NETWORK = -19,	/* wrong network id */
	ERR_PROTOCOL = -20,	/* peer broke the protocol */
	ERR_MIN_ = -21
};

/* Return a static, human-readable string for an ERR_* value. */
const char *err_str(int err);

#endif /* CRYPTO_BASE_ERR_H */
