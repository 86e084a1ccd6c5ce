// SPDX-License-Identifier: MIT
/*
 * Kernel threads of a machine and ordered work queues. A kernel thread is
 * registered with its machine at init and run by whichever scheduler is
 * attached (an engine's), or on a real thread of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sched/sched.h"

void ccmm_kthread_create(struct ccmm_machine *m, struct ccmm_kthread *k, const char *name,
			 int (*threadfn)(struct ccmm_kthread *k, void *data), void *data)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->m = m;
	k->threadfn = threadfn;
	k->data = data;
	ccmm_ctx_init(&k->ctx, m, -1, k->name);
	ccmm_sched_entity_init(&k->se, k->name, -1, &k->ctx);
	ccmm_init_waitqueue_head(&k->wq, NULL);
	atomic_init(&k->should_stop, false);
	atomic_init(&k->running, false);
	atomic_init(&k->rounds, 0);
	k->next = m->kthreads;
	m->kthreads = k;
}

bool ccmm_kthread_should_stop(struct ccmm_kthread *k)
{
	return atomic_load(&k->should_stop);
}

int ccmm_kthread_run_fn(struct ccmm_kthread *k)
{
	struct ccmm_sched_entity *prev = ccmm_current();
	int ret;

	ccmm_set_current(&k->se);
	ret = k->threadfn(k, k->data);
	ccmm_set_current(prev);
	return ret;
}

static void *kthread_main(void *arg)
{
	struct ccmm_kthread *k = arg;

	ccmm_kthread_run_fn(k);
	return NULL;
}

void ccmm_kthread_stop(struct ccmm_kthread *k)
{
	if (!atomic_load(&k->running))
		return;
	atomic_store(&k->should_stop, true);
	ccmm_wake_up_all(NULL, &k->wq);
	if (k->on_thread) {
		pthread_join(k->thread, NULL);
		k->on_thread = false;
	} else if (k->se.sched && k->se.sched->ops->kthread_stop) {
		k->se.sched->ops->kthread_stop(k->se.sched, k);
	}
	k->se.sched = NULL;
	atomic_store(&k->running, false);
}

void ccmm_kthread_destroy(struct ccmm_kthread *k)
{
	struct ccmm_machine *m = k->m;

	ccmm_kthread_stop(k);
	for (struct ccmm_kthread **pp = &m->kthreads; *pp; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	}
	ccmm_sched_entity_fini(&k->se);
	ccmm_destroy_waitqueue_head(&k->wq);
}

int ccmm_sched_attach(struct ccmm_machine *m, struct ccmm_sched *s)
{
	if (m->sched)
		return m->sched == s ? 0 : -EBUSY;
	m->sched = s;
	for (struct ccmm_kthread *k = m->kthreads; k; k = k->next) {
		int ret;

		if (atomic_load(&k->running))
			continue;
		atomic_store(&k->should_stop, false);
		k->se.sched = s;
		atomic_store(&k->running, true);
		ret = s->ops->kthread_start(s, k);
		if (ret) {
			atomic_store(&k->running, false);
			k->se.sched = NULL;
			ccmm_sched_detach(m);
			return ret;
		}
	}
	return 0;
}

void ccmm_sched_detach(struct ccmm_machine *m)
{
	if (!m->sched)
		return;
	for (struct ccmm_kthread *k = m->kthreads; k; k = k->next)
		if (k->se.sched == m->sched)
			ccmm_kthread_stop(k);
	m->sched = NULL;
}

int ccmm_kthreads_start(struct ccmm_machine *m)
{
	for (struct ccmm_kthread *k = m->kthreads; k; k = k->next) {
		int ret;

		if (atomic_load(&k->running))
			continue;
		atomic_store(&k->should_stop, false);
		k->se.sched = NULL;
		atomic_store(&k->running, true);
		k->on_thread = true;
		ret = pthread_create(&k->thread, NULL, kthread_main, k);
		if (ret) {
			k->on_thread = false;
			atomic_store(&k->running, false);
			ccmm_kthreads_stop(m);
			return -ret;
		}
	}
	return 0;
}

void ccmm_kthreads_stop(struct ccmm_machine *m)
{
	for (struct ccmm_kthread *k = m->kthreads; k; k = k->next)
		if (k->on_thread)
			ccmm_kthread_stop(k);
}

/* ---- work queues ----------------------------------------------------------------- */

void ccmm_init_work(struct ccmm_work *work, ccmm_work_func_t func, void (*cancel)(struct ccmm_work *work))
{
	memset(work, 0, sizeof(*work));
	work->func = func;
	work->cancel = cancel;
}

/* The worker: run queued work in order; sleep while there is none. */
static int worker_fn(struct ccmm_kthread *k, void *data)
{
	struct ccmm_workqueue *wq = data;

	for (;;) {
		struct ccmm_work *w;
		int ret;

		ccmm_wq_lock(&k->wq);
		snprintf(k->se.blocked_on, sizeof(k->se.blocked_on), "work");
		ccmm_wait_event_locked(&k->ctx, &k->wq, wq->head || ccmm_kthread_should_stop(k), NULL, 0, ret);
		k->se.blocked_on[0] = '\0';
		(void)ret;
		w = wq->head;
		if (!w) {
			ccmm_wq_unlock(&k->wq);
			break; /* asked to stop, nothing left */
		}
		wq->head = w->next;
		if (!wq->head)
			wq->tail = NULL;
		w->next = NULL;
		w->pending = false;
		if (k->ctx.now_ns < w->queued_ns)
			k->ctx.now_ns = w->queued_ns; /* it runs once it was queued */
		ccmm_wq_unlock(&k->wq);
		atomic_fetch_add(&k->rounds, 1);
		w->func(&k->ctx, w);
		atomic_fetch_add(&wq->executed, 1);
		ccmm_cond_resched();
	}
	return 0;
}

void ccmm_workqueue_create(struct ccmm_machine *m, struct ccmm_workqueue *wq, const char *name)
{
	wq->head = wq->tail = NULL;
	atomic_init(&wq->executed, 0);
	ccmm_kthread_create(m, &wq->worker, name, worker_fn, wq);
}

void ccmm_workqueue_destroy(struct ccmm_workqueue *wq)
{
	struct ccmm_work *w;

	ccmm_kthread_destroy(&wq->worker);
	while ((w = wq->head)) {
		wq->head = w->next;
		w->next = NULL;
		w->pending = false;
		if (w->cancel)
			w->cancel(w);
	}
	wq->tail = NULL;
}

bool ccmm_queue_work(struct ccmm_ctx *ctx, struct ccmm_workqueue *wq, struct ccmm_work *work)
{
	struct ccmm_kthread *k = &wq->worker;
	struct ccmm_ctx *clk = ccmm_sched_clock(ctx);
	ccmm_wq_lock(&k->wq);
	if (work->pending) {
		ccmm_wq_unlock(&k->wq);
		return false;
	}
	work->pending = true;
	work->next = NULL;
	work->queued_ns = clk ? clk->now_ns : 0;
	if (wq->tail)
		wq->tail->next = work;
	else
		wq->head = work;
	wq->tail = work;
	ccmm_wake_up_locked(ctx, &k->wq, 0);
	ccmm_wq_unlock(&k->wq);
	return true;
}
