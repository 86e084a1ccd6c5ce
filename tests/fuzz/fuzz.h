/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what the fuzz targets share (tests/fuzz/README.md).
 *
 * Each target defines LLVMFuzzerTestOneInput; fuzz.c's LLVMFuzzerInitialize
 * enters the sandbox. Built with clang and -fsanitize=fuzzer (meson
 * -Dfuzz=true) it is a libFuzzer program; linked with replay.c instead it
 * replays the inputs kept in tests/fuzz/regressions/TARGET/ in every build.
 *
 * Job and run targets work in a sandbox: a fresh directory under $TMPDIR
 * laid out like the source tree (SANDBOX/a/b is the working directory, with
 * links to tests/jobs' files; SANDBOX/a/platforms, SANDBOX/a/traces,
 * SANDBOX/platforms, SANDBOX/traces, SANDBOX/iologs link to the source's),
 * so the shipped jobs' relative references resolve, and whatever a job
 * writes (bufinfo, dmem, a cgroupfs dump) lands in the sandbox. Inputs that
 * would write through a path with a '/' are skipped (fuzz_writes_outside).
 * CCMM_HOST_RAM is set to 1 GiB so no input makes ccmm take more than
 * 512 MiB of host memory (ccmm_platform_host_limit).
 */
#ifndef CCMM_FUZZ_H
#define CCMM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Make the sandbox and enter it (once per process). Exits on failure: a fuzz target cannot run without it. */
void fuzz_enter_sandbox(void);

/* A NUL-terminated copy of the input (free() it); NULL for input with a NUL byte (not text). */
char *fuzz_text(const uint8_t *data, size_t size);

/*
 * Whether a job text may write outside the sandbox: it names an option or op
 * that writes a file (cgroupfs, bufinfo, dmem, vmstat, debugfs, sysfs) and has a '/'
 * anywhere. Such inputs are skipped (over-approximated, never run).
 */
bool fuzz_writes_outside(const char *text);

#endif
