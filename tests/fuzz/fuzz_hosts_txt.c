/*
 * libFuzzer target: hosts.txt text and signed registration lines
 * (apps/proxy/addrbook.h).  Each line is parsed, its signed bytes built
 * and its signatures checked; the whole text is merged into a book,
 * whose count must match what the merge says it added and removed.
 */
#include "config.h"
#include "apps/proxy/addrbook.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *e = p + size;
	struct addrbook *ab = addrbook_new();
	struct addrbook_merge_stats st;

	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		size_t n = (size_t)((nl ? nl : e) - p);
		struct hosts_line l;
		struct bbuf b = BBUF_INIT;

		if (hosts_line_parse(p, n, &l) == 0) {
			if (l.nopt > ADDRBOOK_OPTS_MAX ||
			    (l.name && !addrbook_name_ok(l.name, l.name_len)))
				abort();
			hosts_line_signed_bytes(&l, false, &b);
			hosts_line_signed_bytes(&l, true, &b);
			(void)hosts_line_verify(&l);
		}
		bbuf_free(&b);
		p += n + 1;
	}
	addrbook_merge(ab, (const char *)data, size, &st);
	if (addrbook_count(ab) != st.added - st.removed)
		abort();
	addrbook_free(ab);
	return 0;
}
