/* SPDX-License-Identifier: MIT */
/* cgroup/ internals: the interface-file buffers and the controllers' file handlers. */
#ifndef CCMM_CGROUP_INTERNAL_H
#define CCMM_CGROUP_INTERNAL_H

#include "cgroup/cgroup.h"

/* A growing text buffer for a file's content (seq_file). */
struct cg_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

void _ccmm_cgb_printf(struct cg_buf *b, const char *fmt, ...) CCMM_PRINTF(2, 3);

/* Handlers: show into @b; write @text (already stripped) to @cg, or only check it when @cg is NULL. */
typedef void (*cg_show_fn)(struct ccmm_cgroup *cg, struct cg_buf *b);
typedef int (*cg_write_fn)(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len);

/* misc.c */
void _ccmm_misc_max_show(struct ccmm_cgroup *cg, struct cg_buf *b);
int _ccmm_misc_max_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len);
void _ccmm_misc_current_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_misc_peak_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_misc_capacity_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_misc_events_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_misc_events_local_show(struct ccmm_cgroup *cg, struct cg_buf *b);

/* memcontrol.c */
void _ccmm_memory_current_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_memory_max_show(struct ccmm_cgroup *cg, struct cg_buf *b);
int _ccmm_memory_max_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len);
void _ccmm_memory_peak_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_memory_events_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_memory_events_local_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_memory_high_show(struct ccmm_cgroup *cg, struct cg_buf *b);
int _ccmm_memory_high_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len);
void _ccmm_memory_stat_show(struct ccmm_cgroup *cg, struct cg_buf *b);

/* dmem.c */
void _ccmm_dmem_capacity_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_dmem_current_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_dmem_min_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_dmem_low_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_dmem_max_show(struct ccmm_cgroup *cg, struct cg_buf *b);
int _ccmm_dmem_min_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len);
int _ccmm_dmem_low_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len);
int _ccmm_dmem_max_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len);
/* css_offline: the limits of a removed cgroup's pools go back to none (dmemcs_offline). No locks held. */
void _ccmm_dmem_cgroup_offline(struct ccmm_cgroup *cg);
/* css_free: free the cgroup's pools (nothing charged through them any more). */
void _ccmm_dmem_cgroup_free(struct ccmm_cgroup *cg);
/* The hierarchy goes: free the regions. */
void _ccmm_dmem_root_free(struct ccmm_cgroup_root *root);

/* cpuset.c */
void _ccmm_cpuset_mems_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_cpuset_mems_effective_show(struct ccmm_cgroup *cg, struct cg_buf *b);
int _ccmm_cpuset_mems_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len);

/*
 * memparse(): simple_strtoull(@s, @end, 0) (0x hex, 0 octal, no sign),
 * then an optional K/M/G/T/P/E suffix. Returns the value, wrapped as the
 * kernel's is; *@overflow tells whether it wrapped. *@end: the first
 * character not consumed.
 */
uint64_t _ccmm_memparse(const char *s, const char **end, bool *overflow);

/* A "why" message helper: snprintf into why if not NULL; returns @ret. */
int _ccmm_cg_why(char *why, size_t len, int ret, const char *fmt, ...) CCMM_PRINTF(4, 5);

#endif
