// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the fio I/O log reader (ccmm_iolog_parse on the input,
 * versions 2 and 3). A log that parses must keep what the reader promises:
 * timestamps in order and within CCMM_IOLOG_MAX_US, reads, writes and trims
 * of at least a byte whose end fits in 64 bits.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "iolog/iolog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ccmm_iolog log;
	struct ccmm_error err;
	uint64_t prev = 0;

	if (ccmm_iolog_parse("fuzz.log", (const char *)data, size, &log, &err))
		return 0;
	for (size_t i = 0; i < log.nr_io; i++) {
		const struct ccmm_iolog_io *io = &log.io[i];

		if (io->time_us < prev || io->time_us > CCMM_IOLOG_MAX_US || io->file >= log.nr_files ||
		    io->offset + io->len < io->offset ||
		    (io->action != CCMM_IOLOG_SYNC && io->action != CCMM_IOLOG_DATASYNC && !io->len))
			abort();
		prev = io->time_us;
	}
	ccmm_iolog_free(&log);
	return 0;
}
