/* SPDX-License-Identifier: MIT */
/* cli/ internals: the commands that live in their own files, called from main.c's command table. */
#ifndef CCMM_CLI_INTERNAL_H
#define CCMM_CLI_INTERNAL_H

/*
 * ccmm trace agree RECORDING [--platform P] [--debugfs DIR]
 * Replays a recorded kernel's DMA trace on the recorded platform and holds
 * every bounce against the kernel's slot (trace-agree.c). @argc/@argv are
 * the words after "agree". Returns the exit status: 0 all agree, 1 they do
 * not, 2 bad input.
 */
int _ccmm_cmd_trace_agree(int argc, char **argv);

/*
 * ccmm trace whatif RECORDING [--platform P] [--json FILE] [--no-filter]
 * The same trace replayed on the recorded platform (with and without its
 * swiotlb=force) and on it made a confidential guest (TDX, SEV-SNP,
 * pSeries secure VM with either window): what bouncing costs per device
 * (trace-agree.c). Returns 0, or 2 on bad input.
 */
int _ccmm_cmd_trace_whatif(int argc, char **argv);

#endif
