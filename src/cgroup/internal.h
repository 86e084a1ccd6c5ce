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

/* cpuset.c */
void _ccmm_cpuset_mems_show(struct ccmm_cgroup *cg, struct cg_buf *b);
void _ccmm_cpuset_mems_effective_show(struct ccmm_cgroup *cg, struct cg_buf *b);
int _ccmm_cpuset_mems_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len);

/* A "why" message helper: snprintf into why if not NULL; returns @ret. */
int _ccmm_cg_why(char *why, size_t len, int ret, const char *fmt, ...) CCMM_PRINTF(4, 5);

#endif
