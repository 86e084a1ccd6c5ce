// SPDX-License-Identifier: MIT
/*
 * The enclave page cache: sections, free lists, page states, the EPC
 * cgroups hung on the misc controller, the ENCLS leaves the driver uses
 * (EPCM updates, EWB/ELDU crypto through the MEE), and the rules.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "sgx/internal.h"

/* the platform layer budgets host memory for EPC pages with this figure */
_Static_assert(sizeof(struct ccmm_epc_page) <= CCMM_EPC_PAGE_HOST_BYTES, "EPC page descriptor outgrew its host budget");

CCMM_COST_BLOCK_DEFINE(sgx, CCMM_SGX_COSTS, CCMM_SGX_COUNTERS);

CCMM_RULES_DEFINE(sgx_rules, CCMM_SGX_RULES);


const char *const ccmm_sgx_policy_names[] = { "series", "global", "cgroup", NULL };

const char *ccmm_epc_state_name(enum ccmm_epc_state s)
{
	static const char *const n[] = { "free", "not_tracked", "reclaimable", "reclaim_in_progress", "unreclaimable" };

	return (unsigned)s < CCMM_ARRAY_SIZE(n) ? n[s] : "?";
}

/* ---- EPC cgroups ---------------------------------------------------------------- */

static int sgx_cgroup_alloc(struct ccmm_cgroup *cg, void *arg)
{
	struct ccmm_sgx_cgroup *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->cg = cg;
	pthread_mutex_init(&s->lru_lock, NULL);
	pthread_mutex_init(&s->next_lock, NULL);
	ccmm_lru_init(&s->lru);
	s->next_cg = s;
	_ccmm_sgx_cgroup_work_init(s);
	cg->misc[CCMM_MISC_SGX_EPC].priv = s;
	return 0;
}

static void sgx_cgroup_free(struct ccmm_cgroup *cg, void *arg)
{
	struct ccmm_sgx_cgroup *s = ccmm_sgx_cgroup_of(cg);

	if (!s)
		return;
	/* ancestors must not resume their round-robin walk from this cgroup */
	for (struct ccmm_cgroup *p = cg->parent; p; p = p->parent) {
		struct ccmm_sgx_cgroup *ps = ccmm_sgx_cgroup_of(p);

		if (!ps)
			continue;
		pthread_mutex_lock(&ps->next_lock);
		if (ps->next_cg == s)
			ps->next_cg = ps;
		pthread_mutex_unlock(&ps->next_lock);
	}
	pthread_mutex_destroy(&s->lru_lock);
	pthread_mutex_destroy(&s->next_lock);
	cg->misc[CCMM_MISC_SGX_EPC].priv = NULL;
	free(s);
}

const struct ccmm_misc_res_ops _ccmm_sgx_cgroup_ops = { sgx_cgroup_alloc, sgx_cgroup_free };

struct ccmm_sgx_cgroup *_ccmm_sgx_get_current_cg(struct ccmm_sgx *sgx, const struct ccmm_sgx_current *cur)
{
	struct ccmm_cgroup *cg, *css;

	if (!cur->task) {
		ccmm_cgroup_get(sgx->cgroups->top);
		return ccmm_sgx_cgroup_of(sgx->cgroups->top);
	}
	cg = ccmm_task_cgroup(sgx->cgroups, cur->task);
	css = ccmm_misc_cg_css(cg);
	ccmm_cgroup_get(css);
	ccmm_cgroup_put(cg);
	return ccmm_sgx_cgroup_of(css);
}

void _ccmm_sgx_put_cg(struct ccmm_sgx_cgroup *sgx_cg)
{
	if (sgx_cg)
		ccmm_cgroup_put(sgx_cg->cg);
}

void ccmm_sgx_cgroup_stats(struct ccmm_cgroup *cg, struct ccmm_sgx_cg_stats *out)
{
	struct ccmm_sgx_cgroup *s = ccmm_sgx_cgroup_of(cg);

	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	out->allocs = atomic_load(&s->st[CCMM_SGX_ST_ALLOCS]);
	out->faults = atomic_load(&s->st[CCMM_SGX_ST_FAULTS]);
	out->eldu = atomic_load(&s->st[CCMM_SGX_ST_ELDU]);
	out->evicted[CCMM_SGX_CAUSE_LIMIT] = atomic_load(&s->st[CCMM_SGX_ST_EVICT_LIMIT]);
	out->evicted[CCMM_SGX_CAUSE_GLOBAL] = atomic_load(&s->st[CCMM_SGX_ST_EVICT_GLOBAL]);
	out->second_chance = atomic_load(&s->st[CCMM_SGX_ST_SECOND_CHANCE]);
	out->stalls = atomic_load(&s->st[CCMM_SGX_ST_STALLS]);
	out->stall_ns = atomic_load(&s->st[CCMM_SGX_ST_STALL_NS]);
	out->charge_fail = atomic_load(&s->st[CCMM_SGX_ST_CHARGE_FAIL]);
	out->oom = atomic_load(&s->st[CCMM_SGX_ST_OOM]);
	out->sigbus = atomic_load(&s->st[CCMM_SGX_ST_SIGBUS]);
	out->peak_pages = atomic_load(&cg->misc[CCMM_MISC_SGX_EPC].watermark) / CCMM_PAGE_SIZE;
}

double ccmm_sgx_fairness(struct ccmm_machine *m)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(m);
	struct ccmm_cgroup *pos = NULL;
	double sum = 0, sum2 = 0;
	uint64_t global = 0;
	unsigned n = 0;

	if (!sgx)
		return -1;
	ccmm_cgroup_tree_rdlock(sgx->cgroups);
	while ((pos = ccmm_cgroup_next_descendant_pre(pos, sgx->cgroups->top))) {
		struct ccmm_sgx_cg_stats st;
		double x;

		ccmm_sgx_cgroup_stats(pos, &st);
		/* cgroups that held EPC themselves (tasks charge their own cgroup) */
		if (!st.allocs || !st.peak_pages)
			continue;
		global += st.evicted[CCMM_SGX_CAUSE_GLOBAL];
		if (pos == sgx->cgroups->top && pos->first_child)
			continue; /* the root's peak covers everyone's */
		x = (double)st.evicted[CCMM_SGX_CAUSE_GLOBAL] / (double)st.peak_pages;
		sum += x;
		sum2 += x * x;
		n++;
	}
	ccmm_cgroup_tree_unlock(sgx->cgroups);
	if (!global || !n || sum2 == 0)
		return -1;
	return sum * sum / ((double)n * sum2);
}

/* ---- set up ------------------------------------------------------------------------- */

static void sgx_exit(struct ccmm_machine *m);

static int sgx_init(struct ccmm_machine *m)
{
	struct ccmm_sgx *sgx = calloc(1, sizeof(*sgx));
	const struct ccmm_platform *p = m->plat;
	int ret;

	if (!sgx)
		return -ENOMEM;
	sgx->m = m;
	sgx->cgroups = ccmm_cgroup_root_of(m);
	for (int n = 0; n < CCMM_MAX_NODES; n++) {
		pthread_mutex_init(&sgx->free_lock[n], NULL);
		ccmm_lru_init(&sgx->free_list[n]);
	}
	pthread_mutex_init(&sgx->global_lru_lock, NULL);
	ccmm_lru_init(&sgx->global_lru);
	ccmm_init_waitqueue_head(&sgx->progress_wq, "sgx_reclaim");
	pthread_mutex_init(&sgx->encls_lock, NULL);
	pthread_mutex_init(&sgx->paging_lock, NULL);
	for (size_t i = 0; i < p->nr_ranges; i++)
		if (p->ranges[i].kind == CCMM_RANGE_EPC)
			sgx->nr_sections++;
	sgx->sections = calloc(sgx->nr_sections ? sgx->nr_sections : 1, sizeof(*sgx->sections));
	if (!sgx->sections) {
		free(sgx);
		return -ENOMEM;
	}
	ccmm_subsys_set_data(m, &ccmm_subsys_sgx, sgx);
	for (size_t i = 0, s = 0; i < p->nr_ranges; i++) {
		const struct ccmm_mem_range *r = &p->ranges[i];
		struct ccmm_sgx_section *sec;
		int node;

		if (r->kind != CCMM_RANGE_EPC)
			continue;
		sec = &sgx->sections[s++];
		node = r->node >= 0 && r->node < CCMM_MAX_NODES ? r->node : 0;
		sec->base = r->base;
		sec->size = r->size;
		sec->node = node;
		sec->nr_pages = r->size >> CCMM_PAGE_SHIFT;
		sec->pages = calloc(sec->nr_pages, sizeof(*sec->pages));
		if (!sec->pages) {
			sgx_exit(m);
			return -ENOMEM;
		}
		for (uint64_t k = 0; k < sec->nr_pages; k++) {
			struct ccmm_epc_page *pg = &sec->pages[k];

			pg->pa = r->base + (k << CCMM_PAGE_SHIFT);
			pg->node = (uint8_t)node;
			atomic_init(&pg->state, CCMM_EPC_FREE);
			ccmm_lru_add_tail(&sgx->free_list[node], &pg->list);
		}
		sgx->nr_pages += sec->nr_pages;
	}
	atomic_init(&sgx->nr_free_pages, (long)sgx->nr_pages);
	ret = ccmm_misc_cg_set_ops(sgx->cgroups, CCMM_MISC_SGX_EPC, &_ccmm_sgx_cgroup_ops, sgx);
	if (ret) {
		sgx_exit(m);
		return ret;
	}
	if (sgx->nr_pages) {
		ccmm_misc_cg_set_capacity(sgx->cgroups, CCMM_MISC_SGX_EPC, sgx->nr_pages * CCMM_PAGE_SIZE);
		_ccmm_sgx_workers_init(sgx); /* ksgxd and sgx_cg_wq, as sgx_init starts them */
	}
	return 0;
}

static void sgx_exit(struct ccmm_machine *m)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(m);

	if (!sgx)
		return;
	_ccmm_sgx_workers_fini(sgx);
	/* enclaves still alive (a run that stopped early): release them */
	for (;;) {
		struct ccmm_sgx_encl *e = NULL;

		pthread_mutex_lock(&sgx->encls_lock);
		if (sgx->nr_encls)
			e = sgx->encls[sgx->nr_encls - 1];
		pthread_mutex_unlock(&sgx->encls_lock);
		if (!e)
			break;
		/* drop whatever references remain: the fd and the mappings */
		while (atomic_load(&e->refcount) > 1)
			ccmm_sgx_encl_put(NULL, e);
		ccmm_sgx_encl_put(NULL, e);
	}
	/* the cgroups outlive us: detach the per-cgroup state (frees it) */
	if (sgx->cgroups) {
		struct ccmm_cgroup *pos = NULL;

		ccmm_misc_cg_set_capacity(sgx->cgroups, CCMM_MISC_SGX_EPC, 0);
		pthread_rwlock_wrlock(&sgx->cgroups->tree_lock);
		while ((pos = ccmm_cgroup_next_descendant_pre(pos, sgx->cgroups->top)))
			sgx_cgroup_free(pos, sgx);
		sgx->cgroups->misc_ops[CCMM_MISC_SGX_EPC] = NULL;
		pthread_rwlock_unlock(&sgx->cgroups->tree_lock);
	}
	for (size_t s = 0; s < sgx->nr_sections; s++)
		free(sgx->sections[s].pages);
	free(sgx->sections);
	free(sgx->encls);
	for (size_t i = 0; i < sgx->nr_paging_ctx; i++)
		EVP_CIPHER_CTX_free(sgx->paging_ctx[i]);
	free(sgx->paging_ctx);
	pthread_mutex_destroy(&sgx->paging_lock);
	ccmm_destroy_waitqueue_head(&sgx->progress_wq);
	ccmm_subsys_set_data(m, &ccmm_subsys_sgx, NULL);
	free(sgx);
}

int ccmm_sgx_set_policy(struct ccmm_machine *m, enum ccmm_sgx_policy policy)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(m);

	if (!sgx || (unsigned)policy >= CCMM_SGX_POLICY_NR)
		return -EINVAL;
	if (atomic_load(&sgx->nr_free_pages) != (long)sgx->nr_pages)
		return -EBUSY;
	atomic_store(&sgx->policy, (int)policy);
	return 0;
}

struct ccmm_epc_page *ccmm_sgx_epc_page(struct ccmm_sgx *sgx, uint64_t pa)
{
	for (size_t s = 0; s < sgx->nr_sections; s++) {
		struct ccmm_sgx_section *sec = &sgx->sections[s];

		if (pa >= sec->base && pa - sec->base < sec->size)
			return &sec->pages[(pa - sec->base) >> CCMM_PAGE_SHIFT];
	}
	return NULL;
}

/* ---- page states ---------------------------------------------------------------- */

struct ccmm_lru *_ccmm_sgx_page_lru(struct ccmm_sgx *sgx, struct ccmm_epc_page *page, pthread_mutex_t **lock)
{
	if (atomic_load(&sgx->policy) == CCMM_SGX_POLICY_GLOBAL || !page->sgx_cg) {
		*lock = &sgx->global_lru_lock;
		return &sgx->global_lru;
	}
	*lock = &page->sgx_cg->lru_lock;
	return &page->sgx_cg->lru;
}

void ccmm_sgx_mark_page_reclaimable(struct ccmm_sgx *sgx, struct ccmm_epc_page *page)
{
	pthread_mutex_t *lock;
	struct ccmm_lru *lru = _ccmm_sgx_page_lru(sgx, page, &lock);

	pthread_mutex_lock(lock);
	atomic_store(&page->state, CCMM_EPC_RECLAIMABLE);
	ccmm_lru_add_tail(lru, &page->list);
	pthread_mutex_unlock(lock);
}

int ccmm_sgx_unmark_page_reclaimable(struct ccmm_sgx *sgx, struct ccmm_epc_page *page)
{
	pthread_mutex_t *lock;
	struct ccmm_lru *lru = _ccmm_sgx_page_lru(sgx, page, &lock);
	int ret = 0;

	pthread_mutex_lock(lock);
	switch (atomic_load(&page->state)) {
	case CCMM_EPC_RECLAIM_IN_PROGRESS:
		ret = -EBUSY;
		break;
	case CCMM_EPC_RECLAIMABLE:
		ccmm_lru_del(lru, &page->list);
		atomic_store(&page->state, CCMM_EPC_NOT_TRACKED);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(lock);
	return ret;
}

void ccmm_sgx_mark_page_unreclaimable(struct ccmm_epc_page *page)
{
	atomic_store(&page->state, CCMM_EPC_UNRECLAIMABLE);
}

/* Take a free page from @node's list, or NULL. */
static struct ccmm_epc_page *take_free(struct ccmm_sgx *sgx, int node)
{
	struct ccmm_epc_page *page = NULL;
	struct ccmm_lru_node *n;

	pthread_mutex_lock(&sgx->free_lock[node]);
	n = ccmm_lru_oldest(&sgx->free_list[node]);
	if (n) {
		ccmm_lru_del(&sgx->free_list[node], n);
		page = ccmm_container_of(n, struct ccmm_epc_page, list);
		atomic_fetch_sub(&sgx->nr_free_pages, 1);
		atomic_store(&page->state, CCMM_EPC_NOT_TRACKED);
	}
	pthread_mutex_unlock(&sgx->free_lock[node]);
	return page;
}

struct ccmm_epc_page *_ccmm_sgx_take_free_page(struct ccmm_sgx *sgx, int home)
{
	unsigned nodes = sgx->m->plat->nr_nodes ? sgx->m->plat->nr_nodes : 1;
	struct ccmm_epc_page *page;

	if (nodes > CCMM_MAX_NODES)
		nodes = CCMM_MAX_NODES;
	page = take_free(sgx, home % (int)nodes);
	for (unsigned i = 1; !page && i < nodes; i++)
		page = take_free(sgx, (int)((unsigned)home + i) % (int)nodes);
	return page;
}

void ccmm_sgx_free_epc_page(struct ccmm_sgx *sgx, struct ccmm_epc_page *page)
{
	struct ccmm_sgx_cgroup *sgx_cg = page->sgx_cg;
	int node = page->node;

	page->owner = NULL;
	page->sgx_cg = NULL;
	atomic_store(&page->epcm_valid, 0);
	atomic_store(&page->epcm_blocked, 0);
	atomic_store(&page->epcm_pending, 0);
	atomic_store(&page->epcm_encl, 0);
	_ccmm_sgx_epcm_changed(sgx);
	if (sgx_cg) {
		ccmm_misc_cg_uncharge(CCMM_MISC_SGX_EPC, sgx_cg->cg, CCMM_PAGE_SIZE);
		_ccmm_sgx_put_cg(sgx_cg);
	}
	pthread_mutex_lock(&sgx->free_lock[node]);
	atomic_store(&page->state, CCMM_EPC_FREE);
	ccmm_lru_add_tail(&sgx->free_list[node], &page->list);
	atomic_fetch_add(&sgx->nr_free_pages, 1);
	pthread_mutex_unlock(&sgx->free_lock[node]);
	_ccmm_sgx_progress(sgx);
}

/* ---- ENCLS ---------------------------------------------------------------------- */

static void set_epcm(struct ccmm_ctx *ctx, struct ccmm_epc_page *page, struct ccmm_sgx_encl *encl, uint64_t linaddr,
		     enum ccmm_epcm_type type, unsigned perm, bool pending)
{
	page->epcm_type = (uint8_t)type;
	page->epcm_perm = (uint8_t)perm;
	atomic_store(&page->epcm_encl, encl ? encl->id : 0);
	atomic_store(&page->epcm_linaddr, linaddr);
	atomic_store(&page->epcm_blocked, 0);
	atomic_store(&page->epcm_pending, pending);
	atomic_store(&page->epcm_valid, 1);
	_ccmm_sgx_epcm_changed(ccmm_sgx_of(ctx->m));
}

/* Write @len bytes at @pa through the MEE under @keyid (NULL @buf: drop the content, reads as zeros). */
static int phys_write(struct ccmm_machine *m, uint64_t pa, const void *buf, size_t len, unsigned keyid)
{
	struct ccmm_page *pg = ccmm_phys_lock(m, pa);
	int ret;

	if (!pg)
		return -ENOMEM;
	if (buf)
		ret = ccmm_phys_rw(m, pa, (void *)buf, len, true, keyid, NULL);
	else {
		ccmm_phys_discard(m, pa, pg);
		ret = 0;
	}
	ccmm_phys_unlock(m, pa);
	return ret;
}

static int phys_read(struct ccmm_machine *m, uint64_t pa, void *buf, size_t len, unsigned keyid)
{
	struct ccmm_page *pg = ccmm_phys_lock(m, pa);
	int ret;

	if (!pg)
		return -ENOMEM;
	ret = ccmm_phys_rw(m, pa, buf, len, false, keyid, NULL);
	ccmm_phys_unlock(m, pa);
	return ret;
}

void _ccmm_encls_ecreate(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *secs)
{
	set_epcm(ctx, secs, encl, 0, CCMM_PT_SECS, 0, false);
	phys_write(ctx->m, secs->pa, NULL, 0, CCMM_KEYID_EPC);
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_ecreate_ns), 1);
}

int _ccmm_encls_eadd(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page, uint64_t linaddr,
	       enum ccmm_epcm_type type, unsigned perm, const void *src)
{
	int ret = phys_write(ctx->m, page->pa, src, CCMM_PAGE_SIZE, CCMM_KEYID_EPC);

	if (ret)
		return ret;
	set_epcm(ctx, page, encl, linaddr, type, perm, false);
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_eadd_ns), 1);
	ccmm_count(ctx, CCMM_CTR_AT(sgx, sgx_eadd), 1);
	return 0;
}

void _ccmm_encls_eextend(struct ccmm_ctx *ctx, unsigned chunks)
{
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_eextend_ns), chunks);
}

int _ccmm_encls_eaug(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page, uint64_t linaddr)
{
	struct ccmm_epc_page *secs = encl->secs.epc_page;

	if (!secs || !atomic_load(&secs->epcm_valid)) {
		ccmm_violation(ctx, &ccmm_rule_sgx_secs_evicted, page->pa,
			       "EAUG at 0x%" PRIx64 " in enclave %s while its SECS is paged out: #GP", linaddr, encl->name);
		return -EFAULT;
	}
	phys_write(ctx->m, page->pa, NULL, 0, CCMM_KEYID_EPC); /* EAUG zeroes the page */
	set_epcm(ctx, page, encl, linaddr, CCMM_PT_REG, CCMM_EPCM_R | CCMM_EPCM_W, true);
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_eaug_ns), 1);
	ccmm_count(ctx, CCMM_CTR_AT(sgx, sgx_eaug), 1);
	return 0;
}

void _ccmm_encls_eaccept(struct ccmm_ctx *ctx, struct ccmm_epc_page *page)
{
	atomic_store(&page->epcm_pending, 0);
	_ccmm_sgx_epcm_changed(ccmm_sgx_of(ctx->m));
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_eaccept_ns), 1);
}

void _ccmm_encls_epa(struct ccmm_ctx *ctx, struct ccmm_epc_page *page)
{
	set_epcm(ctx, page, NULL, 0, CCMM_PT_VA, 0, false);
	phys_write(ctx->m, page->pa, NULL, 0, CCMM_KEYID_EPC); /* every slot zero */
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_epa_ns), 1);
}

void _ccmm_encls_eblock(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page)
{
	atomic_store(&page->epcm_blocked, 1);
	_ccmm_sgx_epcm_changed(encl->sgx);
	pthread_mutex_lock(&encl->track_lock);
	page->block_gen = encl->etrack_gen;
	pthread_mutex_unlock(&encl->track_lock);
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_eblock_ns), 1);
}

void _ccmm_encls_etrack(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl)
{
	pthread_mutex_lock(&encl->track_lock);
	encl->etrack_gen++;
	encl->nr_inside_old = encl->nr_inside; /* threads inside now entered before this cycle */
	pthread_mutex_unlock(&encl->track_lock);
	atomic_fetch_add(&encl->nr_etrack, 1);
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_etrack_ns), 1);
	ccmm_count(ctx, CCMM_CTR_AT(sgx, sgx_etrack), 1);
}

/* The paging key (CR_BASE_PK, random at each boot on hardware): AES-128, derived from the machine seed. */
static void paging_key(struct ccmm_machine *m, uint8_t key[16])
{
	uint8_t in[32], md[32];

	memset(in, 0, sizeof(in));
	memcpy(in, "ccmm sgx paging key", 19);
	memcpy(in + 24, &m->seed, sizeof(m->seed));
	SHA256(in, sizeof(in), md);
	memcpy(key, md, 16);
}

/*
 * PCMD: 128 bytes laid out as the kernel's struct sgx_pcmd: SECINFO (its
 * flags word the permissions in bits 0-2 and the page type in bits 8-15,
 * as enum sgx_secinfo_flags; 56 reserved bytes), the enclave id, 40
 * reserved bytes, the 16-byte MAC. The page's linear address is not in
 * it: EWB and ELDU take it from PAGEINFO.LINADDR (the EPCM entry's, and
 * ELDU's caller's), and it enters the MAC, so a page loaded back at
 * another address fails the MAC as on hardware.
 */
struct pcmd {
	uint64_t secinfo_flags;
	uint8_t secinfo_reserved[56];
	uint64_t encl_id;
	uint8_t reserved[40];
	uint8_t mac[16];
};

#define SECINFO_PERM_MASK 0x7ULL /* SGX_SECINFO_R | W | X */
#define SECINFO_TYPE_SHIFT 8     /* SGX_SECINFO_PAGE_TYPE_SHIFT: the SGX_PAGE_TYPE_* in bits 8-15 */

_Static_assert(sizeof(struct pcmd) == 128, "PCMD is 128 bytes");

/* An idle AES-128-GCM context of @sgx's keyed with the paging key, or a new one (NULL: OpenSSL failed). */
static EVP_CIPHER_CTX *gcm_get(struct ccmm_sgx *sgx)
{
	EVP_CIPHER_CTX *c = NULL;

	pthread_mutex_lock(&sgx->paging_lock);
	if (sgx->nr_paging_ctx)
		c = sgx->paging_ctx[--sgx->nr_paging_ctx];
	if (!sgx->paging_keyed) {
		/* at the first EWB or ELDU: a machine that never pages never starts libcrypto for it */
		paging_key(sgx->m, sgx->paging_key);
		sgx->paging_keyed = true;
	}
	pthread_mutex_unlock(&sgx->paging_lock);
	if (c)
		return c;
	if (!(c = EVP_CIPHER_CTX_new()))
		return NULL;
	if (!EVP_CipherInit_ex(c, EVP_aes_128_gcm(), NULL, sgx->paging_key, NULL, 1) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL)) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

/* Give @c back for the next page (or free it when the list cannot grow). */
static void gcm_put(struct ccmm_sgx *sgx, EVP_CIPHER_CTX *c)
{
	pthread_mutex_lock(&sgx->paging_lock);
	if (sgx->nr_paging_ctx == sgx->cap_paging_ctx) {
		size_t cap = sgx->cap_paging_ctx ? 2 * sgx->cap_paging_ctx : 4;
		void **a = realloc(sgx->paging_ctx, cap * sizeof(*a));

		if (a) {
			sgx->paging_ctx = a;
			sgx->cap_paging_ctx = cap;
		}
	}
	if (sgx->nr_paging_ctx < sgx->cap_paging_ctx) {
		sgx->paging_ctx[sgx->nr_paging_ctx++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&sgx->paging_lock);
	EVP_CIPHER_CTX_free(c);
}

/*
 * EWB's and ELDU's paging crypto, AES-GCM under the paging key as the
 * SDM's EWB: the page the text; the PCMD's SECINFO flags and enclave id
 * and the page's linear address @linaddr (PAGEINFO.LINADDR) the
 * additional data; the VA slot's version the IV; the tag is the PCMD's
 * MAC. @enc: encrypt @in into @out and write the tag into @p->mac; else
 * decrypt and check the tag. Returns 0, 1 (the tag does not match:
 * SGX_MAC_COMPARE_FAIL, @out undefined) or -EIO.
 */
static int paging_crypt(struct ccmm_sgx *sgx, bool enc, uint64_t version, uint64_t linaddr, struct pcmd *p,
			const uint8_t *in, uint8_t *out)
{
	EVP_CIPHER_CTX *c = gcm_get(sgx);
	uint64_t aad[3] = { p->secinfo_flags, p->encl_id, linaddr };
	uint8_t iv[12] = { 0 };
	int len = 0, ret = -EIO;

	if (!c)
		return -EIO;
	memcpy(iv, &version, sizeof(version));
	if (!EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, enc) ||
	    !EVP_CipherUpdate(c, NULL, &len, (const uint8_t *)aad, sizeof(aad)) ||
	    !EVP_CipherUpdate(c, out, &len, in, CCMM_PAGE_SIZE) || len != CCMM_PAGE_SIZE)
		goto out;
	if (enc) {
		if (EVP_CipherFinal_ex(c, out + len, &len) && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, p->mac))
			ret = 0;
	} else if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, p->mac)) {
		ret = EVP_CipherFinal_ex(c, out + len, &len) > 0 ? 0 : 1;
	}
out:
	gcm_put(sgx, c);
	return ret;
}

static _Atomic uint64_t version_counter = 1;

int _ccmm_encls_ewb(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page,
	      struct ccmm_sgx_va_page *va, unsigned slot, uint64_t backing_pa, uint64_t pcmd_pa)
{
	struct ccmm_machine *m = ctx->m;
	uint8_t *pt, *ct;
	struct pcmd p;
	uint64_t version;
	int ret;

	if (page->epcm_type == CCMM_PT_REG || page->epcm_type == CCMM_PT_TCS) {
		bool tracked;

		if (!atomic_load(&page->epcm_blocked))
			return CCMM_SGX_PAGE_NOT_BLOCKED;
		pthread_mutex_lock(&encl->track_lock);
		tracked = encl->etrack_gen > page->block_gen && !encl->nr_inside_old;
		pthread_mutex_unlock(&encl->track_lock);
		if (!tracked)
			return CCMM_SGX_NOT_TRACKED;
	} else if (page->epcm_type == CCMM_PT_SECS && encl->secs_child_cnt) {
		return CCMM_SGX_CHILD_PRESENT;
	}
	pt = malloc(CCMM_PAGE_SIZE);
	ct = malloc(CCMM_PAGE_SIZE);
	if (!pt || !ct) {
		free(pt);
		free(ct);
		return -ENOMEM;
	}
	ret = phys_read(m, page->pa, pt, CCMM_PAGE_SIZE, CCMM_KEYID_EPC);
	memset(&p, 0, sizeof(p));
	p.secinfo_flags = (page->epcm_perm & SECINFO_PERM_MASK) | (uint64_t)page->epcm_type << SECINFO_TYPE_SHIFT;
	p.encl_id = encl->id;
	version = atomic_fetch_add(&version_counter, 1);
	if (!ret)
		ret = paging_crypt(encl->sgx, true, version, atomic_load(&page->epcm_linaddr), &p, pt, ct);
	if (!ret)
		ret = phys_write(m, backing_pa, ct, CCMM_PAGE_SIZE, CCMM_KEYID_NONE);
	if (!ret)
		ret = phys_write(m, pcmd_pa, &p, sizeof(p), CCMM_KEYID_NONE);
	if (!ret)
		ret = phys_write(m, va->epc_page->pa + slot * 8, &version, sizeof(version), CCMM_KEYID_EPC);
	free(pt);
	free(ct);
	if (ret)
		return ret;
	/* the page leaves the EPC: its EPCM entry is invalid, its bytes gone */
	atomic_store(&page->epcm_valid, 0);
	_ccmm_sgx_epcm_changed(encl->sgx);
	phys_write(m, page->pa, NULL, 0, CCMM_KEYID_EPC);
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_ewb_ns), 1);
	ccmm_count(ctx, CCMM_CTR_AT(sgx, sgx_ewb), 1);
	atomic_fetch_add(&encl->nr_ewb, 1);
	return 0;
}

int _ccmm_encls_eldu(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page, uint64_t linaddr,
	       bool is_secs, struct ccmm_sgx_va_page *va, unsigned slot, uint64_t backing_pa, uint64_t pcmd_pa)
{
	struct ccmm_machine *m = ctx->m;
	uint8_t *ct, *pt;
	uint64_t version = 0, zero = 0;
	struct pcmd p;
	int ret;

	if (!is_secs) {
		struct ccmm_epc_page *secs = encl->secs.epc_page;

		if (!secs || !atomic_load(&secs->epcm_valid)) {
			ccmm_violation(ctx, &ccmm_rule_sgx_secs_evicted, page->pa,
				       "ELDU at 0x%" PRIx64 " in enclave %s while its SECS is paged out: #GP", linaddr,
				       encl->name);
			return -EFAULT;
		}
	}
	ct = malloc(CCMM_PAGE_SIZE);
	pt = malloc(CCMM_PAGE_SIZE);
	if (!ct || !pt) {
		free(ct);
		free(pt);
		return -ENOMEM;
	}
	ret = phys_read(m, va->epc_page->pa + slot * 8, &version, sizeof(version), CCMM_KEYID_EPC);
	/* a PCMD page truncated away comes back as a new, zeroed page (shmem) */
	memset(&p, 0, sizeof(p));
	if (!ret && pcmd_pa != CCMM_SGX_NO_BACKING)
		ret = phys_read(m, pcmd_pa, &p, sizeof(p), CCMM_KEYID_NONE);
	if (!ret)
		ret = phys_read(m, backing_pa, ct, CCMM_PAGE_SIZE, CCMM_KEYID_NONE);
	if (!ret)
		ret = paging_crypt(encl->sgx, false, version, linaddr, &p, ct, pt);
	if (ret >= 0 && (ret == 1 || p.encl_id != encl->id || !version)) {
		ccmm_violation(ctx, &ccmm_rule_sgx_eldu_mac, page->pa,
			       "ELDU of 0x%" PRIx64 " in enclave %s: SGX_MAC_COMPARE_FAIL (backing page 0x%" PRIx64 ")",
			       linaddr, encl->name, backing_pa);
		ret = CCMM_SGX_MAC_COMPARE_FAIL;
	}
	if (!ret)
		ret = phys_write(m, page->pa, pt, CCMM_PAGE_SIZE, CCMM_KEYID_EPC);
	if (!ret)
		ret = phys_write(m, va->epc_page->pa + slot * 8, &zero, sizeof(zero), CCMM_KEYID_EPC);
	free(ct);
	free(pt);
	if (ret)
		return ret;
	/* the EPCM entry's type and permissions come back from the PCMD's SECINFO, which the MAC covered */
	set_epcm(ctx, page, encl, linaddr, (enum ccmm_epcm_type)(p.secinfo_flags >> SECINFO_TYPE_SHIFT & 0xff),
		 (unsigned)(p.secinfo_flags & SECINFO_PERM_MASK), false);
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_eldu_ns), 1);
	ccmm_count(ctx, CCMM_CTR_AT(sgx, sgx_eldu), 1);
	atomic_fetch_add(&encl->nr_eldu, 1);
	return 0;
}

int _ccmm_encls_eremove(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page)
{
	if (page->epcm_type == CCMM_PT_SECS && encl && encl->secs_child_cnt)
		return CCMM_SGX_CHILD_PRESENT;
	atomic_store(&page->epcm_valid, 0);
	_ccmm_sgx_epcm_changed(ccmm_sgx_of(ctx->m));
	phys_write(ctx->m, page->pa, NULL, 0, CCMM_KEYID_EPC);
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_eremove_ns), 1);
	ccmm_count(ctx, CCMM_CTR_AT(sgx, sgx_eremove), 1);
	return 0;
}

struct ccmm_subsys ccmm_subsys_sgx = {
	.name = "sgx",
	.init = sgx_init,
	.exit = sgx_exit,
	.rules = sgx_rules,
	.block = &ccmm_sgx_block,
};
