// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the platform parser (ccmm_platform_parse on the input as a
 * platform file's text: syntax, options, layout, validation, the host
 * limit). A platform that loads is also copied (ccmm_platform_dup) and its
 * lookups exercised.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "platform/platform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct ccmm_platform *p = NULL, *d = NULL;
	struct ccmm_error err;
	char msg[1024];

	if (!text)
		return -1;
	if (ccmm_platform_parse("fuzz.ini", text, &p, &err) == 0) {
		if (ccmm_platform_dup(p, &d) == 0) {
			for (size_t i = 0; i < d->nr_ranges; i++)
				if (ccmm_platform_range(d, d->ranges[i].base) != &d->ranges[i])
					abort(); /* every range is found at its base */
			ccmm_platform_free(d);
		}
		(void)ccmm_platform_ram(p, -1);
		ccmm_platform_free(p);
	} else {
		ccmm_error_format(&err, msg, sizeof(msg));
	}
	free(text);
	return 0;
}
