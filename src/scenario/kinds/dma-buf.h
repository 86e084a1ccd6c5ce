/* SPDX-License-Identifier: MIT */
/*
 * The dma-buf actor kinds' shared helpers: the exporters (gpu, vfio, heap;
 * dma-buf.c) and the importers and users (importer, bo_user;
 * dma-buf-importer.c).
 *
 * Objects they create (CCMM_OBJ_OTHER, by .type):
 *   "bo"       struct ccmm_ttm_bo *           (a reference, put at run end)
 *   "dma-buf"  struct kind_buf                (a reference, put at run end)
 *   "fence"    struct kind_fence              (a created fence, quarantined on release)
 *   "cpu-map"  struct kind_map                (a VMA in a bo_user's address space)
 */
#ifndef CCMM_SCENARIO_KINDS_DMA_BUF_H
#define CCMM_SCENARIO_KINDS_DMA_BUF_H

#include "cgroup/cgroup.h"
#include "dma-buf/dma-buf.h"
#include "scenario/scenario.h"

extern const char _ccmm_kind_type_bo[], _ccmm_kind_type_buf[], _ccmm_kind_type_fence[], _ccmm_kind_type_map[];

struct kind_buf {
	struct ccmm_dma_buf *b;
	bool put;                  /* the job's reference was dropped (put op) */
};

struct kind_fence {
	struct ccmm_dma_fence *f;
	bool put;                  /* the job's reference was dropped (fence_put op) */
};

struct kind_map {
	struct ccmm_mm *mm;
	struct ccmm_vma *vma;
	struct ccmm_dma_buf *b;    /* a dma-buf mapping, or */
	struct ccmm_ttm_bo *bo;    /* a BO mapping */
	uint64_t va, size;
	bool gone;                 /* unmapped */
};

/* The object named by argument @idx, which must be of @type (a run error otherwise). */
struct ccmm_obj *_ccmm_kind_obj(struct ccmm_actor *a, const struct ccmm_op *op, int idx, const char *type);

/* The dma-buf behind an object argument: a "dma-buf" object. NULL (run error) otherwise. */
struct ccmm_dma_buf *_ccmm_kind_buf_arg(struct ccmm_actor *a, const struct ccmm_op *op, int idx);

/* The reservation object behind a "bo" or "dma-buf" argument. */
struct ccmm_dma_resv *_ccmm_kind_resv_arg(struct ccmm_actor *a, const struct ccmm_op *op, int idx);

/* Add a new object of @type named by argument @idx. */
int _ccmm_kind_add(struct ccmm_actor *a, const struct ccmm_op *op, int idx, const char *type, void *priv,
	     void (*destroy)(struct ccmm_run *run, struct ccmm_obj *o), struct ccmm_obj **out);

/* Lock a reservation for the actor: it sleeps (through the engine) while another actor holds it. */
int _ccmm_kind_resv_lock(struct ccmm_actor *a, struct ccmm_dma_resv *resv);

/* Write the machine's bufinfo to @path (relative to the job's directory), atomically. */
int _ccmm_kind_bufinfo(struct ccmm_actor *a, const struct ccmm_op *op, const char *path);

/* The verbs every dma-buf kind shares: bufinfo. */
extern const struct ccmm_arg_spec _ccmm_kind_bufinfo_args[];
int _ccmm_kind_verb_bufinfo(struct ccmm_actor *a, const struct ccmm_op *op);

extern const char *const _ccmm_kind_cache_names[];  /* "wb", "wc", "uc" */
extern const char *const _ccmm_kind_usage_names[];  /* "kernel", "write", "read", "bookkeep" */

/* The kinds defined in dma-buf-importer.c, registered with the others in dma-buf.c. */
extern const struct ccmm_actor_kind _ccmm_kind_importer, _ccmm_kind_bo_user;

#endif
