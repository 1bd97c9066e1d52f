/* libFuzzer target: the INI config parser (router/conf.h). */
#include "config.h"
#include "router/conf.h"
#include "crypto/base/log.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *cfg = conf_new_default("/nonexistent-bits-fuzz");
	char err[CONF_ERR_BYTES];

	log_set_level(LOG_NONE);
	(void)conf_parse_ini(cfg, "fuzz.conf", data, size, err, sizeof(err));
	conf_free(cfg);
	return 0;
}
