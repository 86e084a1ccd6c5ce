// SPDX-License-Identifier: MIT
/* The registry of actor kinds: a subsystem that adds a kind adds its line here. */
#include <string.h>

#include "scenario/scenario.h"

extern const struct ccmm_actor_kind ccmm_kind_guest_task, ccmm_kind_device, ccmm_kind_vmm;
extern const struct ccmm_actor_kind ccmm_kind_tier_task;
extern const struct ccmm_actor_kind ccmm_kind_dma_driver, ccmm_kind_dma_device, ccmm_kind_virtio_blk_replay;
extern const struct ccmm_actor_kind ccmm_kind_gpu, ccmm_kind_vfio, ccmm_kind_heap, ccmm_kind_importer, ccmm_kind_bo_user;

static const struct ccmm_actor_kind *const kinds[] = {
	&ccmm_kind_guest_task,
	&ccmm_kind_device,
	&ccmm_kind_vmm,
	&ccmm_kind_tier_task,
	&ccmm_kind_dma_driver, &ccmm_kind_dma_device, &ccmm_kind_virtio_blk_replay,
	&ccmm_kind_gpu, &ccmm_kind_vfio, &ccmm_kind_heap, &ccmm_kind_importer, &ccmm_kind_bo_user,
};

const struct ccmm_actor_kind *ccmm_actor_kind_at(size_t i)
{
	return i < CCMM_ARRAY_SIZE(kinds) ? kinds[i] : NULL;
}

const struct ccmm_actor_kind *ccmm_actor_kind_find(const char *name)
{
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(kinds); i++)
		if (!strcmp(kinds[i]->name, name))
			return kinds[i];
	return NULL;
}
