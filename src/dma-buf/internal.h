/* SPDX-License-Identifier: MIT */
/* dma-buf/ internals: per-machine state shared by the core, TDISP and the exporters. */
#ifndef CCMM_DMABUF_INTERNAL_H
#define CCMM_DMABUF_INTERNAL_H

#include "dma-buf/dma-buf.h"

#define DMABUF_MAX_DEVS 64

struct dmabuf_state {
	pthread_mutex_t lock;                 /* the list of buffers, the TDISP table */
	struct ccmm_dma_buf *bufs;            /* newest first; released ones stay until shutdown */
	unsigned long next_ino;
	enum ccmm_tdisp_state tdisp[DMABUF_MAX_DEVS];
	int private_bar[DMABUF_MAX_DEVS];     /* the BAR made private MMIO in RUN, -1 */
	atomic_int host_mmaps[DMABUF_MAX_DEVS]; /* live host-user mappings of the device's MMIO (VFIO) */
};

static inline struct dmabuf_state *dmabuf_state(struct ccmm_machine *m)
{
	return ccmm_subsys_data(m, &ccmm_subsys_dma_buf);
}

/* Record @rule through @ctx with a message (no page). */
#define dmabuf_violation(ctx, rule, ...) ccmm_violation((ctx), (rule), ~0ULL, __VA_ARGS__)

/* The device's name, or "-" for none. */
const char *_ccmm_dmabuf_dev_name(struct ccmm_machine *m, int dev);

/* Count a live host-user mapping of @dev's MMIO (VFIO mmaps): TDISP LOCK refuses while any exists. */
void _ccmm_dmabuf_host_mmap_get(struct ccmm_machine *m, int dev);
void _ccmm_dmabuf_host_mmap_put(struct ccmm_machine *m, int dev);

#endif
