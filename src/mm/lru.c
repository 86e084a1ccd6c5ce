// SPDX-License-Identifier: MIT
/* LRU lists with second-chance aging. */
#include "mm/mm.h"

void ccmm_lru_init(struct ccmm_lru *l)
{
	l->head.prev = l->head.next = &l->head;
	l->nr = 0;
}

void ccmm_lru_add_tail(struct ccmm_lru *l, struct ccmm_lru_node *n)
{
	n->prev = l->head.prev;
	n->next = &l->head;
	l->head.prev->next = n;
	l->head.prev = n;
	l->nr++;
}

void ccmm_lru_del(struct ccmm_lru *l, struct ccmm_lru_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
	l->nr--;
}

void ccmm_lru_rotate(struct ccmm_lru *l, struct ccmm_lru_node *n)
{
	ccmm_lru_del(l, n);
	ccmm_lru_add_tail(l, n);
}

struct ccmm_lru_node *ccmm_lru_oldest(struct ccmm_lru *l)
{
	return l->nr ? l->head.next : NULL;
}

size_t ccmm_lru_isolate(struct ccmm_lru *l, size_t nr, size_t scan,
			bool (*referenced)(struct ccmm_lru_node *n, void *arg), void *arg, struct ccmm_lru_node **out)
{
	size_t taken = 0;

	while (taken < nr && scan-- && l->nr) {
		struct ccmm_lru_node *n = l->head.next;

		if (referenced && referenced(n, arg)) {
			ccmm_lru_rotate(l, n);
			continue;
		}
		ccmm_lru_del(l, n);
		out[taken++] = n;
	}
	return taken;
}
