// SPDX-License-Identifier: MIT
/* The registry of actor kinds: a subsystem that adds a kind adds its line here. */
#include <string.h>

#include "scenario/scenario.h"

extern const struct ccmm_actor_kind ccmm_kind_guest_task, ccmm_kind_device, ccmm_kind_vmm;
extern const struct ccmm_actor_kind ccmm_kind_cgroup, ccmm_kind_enclave, ccmm_kind_vepc_guest;
extern const struct ccmm_run_ext ccmm_ext_cgroup, ccmm_ext_sgx;
extern const struct ccmm_actor_kind ccmm_kind_tier_task;
extern const struct ccmm_actor_kind ccmm_kind_dma_driver, ccmm_kind_dma_device, ccmm_kind_virtio_blk_replay;
extern const struct ccmm_actor_kind ccmm_kind_gpu, ccmm_kind_vfio, ccmm_kind_heap, ccmm_kind_importer, ccmm_kind_bo_user;

static const struct ccmm_actor_kind *const kinds[] = {
	&ccmm_kind_guest_task,
	&ccmm_kind_device,
	&ccmm_kind_vmm,
	&ccmm_kind_cgroup,
	&ccmm_kind_enclave,
	&ccmm_kind_vepc_guest,
	&ccmm_kind_tier_task,
	&ccmm_kind_dma_driver, &ccmm_kind_dma_device, &ccmm_kind_virtio_blk_replay,
	&ccmm_kind_gpu, &ccmm_kind_vfio, &ccmm_kind_heap, &ccmm_kind_importer, &ccmm_kind_bo_user,
};

/* Run extensions: a subsystem with [global] options or report sections adds its line here. */
static const struct ccmm_run_ext *const exts[] = {
	&ccmm_ext_cgroup,
	&ccmm_ext_sgx,
};

_Static_assert(CCMM_ARRAY_SIZE(exts) <= CCMM_MAX_EXTS, "raise CCMM_MAX_EXTS");

const struct ccmm_run_ext *ccmm_run_ext_at(size_t i)
{
	return i < CCMM_ARRAY_SIZE(exts) ? exts[i] : NULL;
}

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
