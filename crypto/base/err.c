/* Human-readable names for the ERR_* codes of crypto/base/err.h. */
#include "config.h"
#include "crypto/base/err.h"

const char *err_str(int err)
{
	static const char *const names[] = {
		"ok", "internal error", "truncated input", "too big",
		"malformed input", "bad signature", "authentication failed",
		"crypto failure", "I/O error", "not found", "already exists",
		"out of range", "expired or not yet valid", "unsupported",
		"bad argument", "invalid state", "limit reached", "timed out",
		"duplicate", "wrong network", "protocol violation",
	};
	if (err > 0 || err <= ERR_MIN_)
		return "unknown error";
	return names[-err];
}
