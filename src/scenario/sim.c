// SPDX-License-Identifier: MIT
/*
 * The simulator: the scheduler the engine plugs into sched/ (struct
 * ccmm_sched_ops). Every entity (an actor, a kernel thread) runs either
 *
 *  - on its own stack (a fiber: a small x86-64 context switch, glibc's
 *    makecontext/swapcontext elsewhere), one at a time
 *    on the calling thread: an entity that sleeps or reaches a scheduling
 *    point the plan switches at goes back to the scheduler loop, which
 *    picks the next one by the plan (the smallest clock, a random draw,
 *    PCT priorities, or a replayed choice); deterministic. AddressSanitizer
 *    and ThreadSanitizer are told about every switch.
 *  - or on a real thread of its own (threads mode): sleeps are condition
 *    waits, and a monitor sees when every live entity sleeps with nobody
 *    left to wake it.
 *
 * Under the default plan a sleeper with a deadline times out once every
 * runnable entity's clock is past it (events in time order). When nothing
 * can run: a sleeper with a deadline times out (the earliest
 * first, its clock moved to the deadline); else the lowest killable sleeper
 * is told nobody will wake it (-EDEADLK: a livelock the engine found);
 * else the engine's stall hook may wake sleepers (waits for an event that
 * an actor stopped on a failed op will never signal); else the run is
 * deadlocked.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "scenario/internal.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define SIM_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define SIM_TSAN 1
#endif

#define STACK_SIZE (1024 * 1024) /* per fiber; model code keeps big buffers on the heap */
#define STACK_CACHE 64
#define THREAD_POLL_NS 5000000   /* threads mode: sleepers look for a kill or an abort this often */

/*
 * A fiber: a stack and where it stopped. On x86-64 a switch saves the
 * callee-saved registers (and the MXCSR and x87 control words) on the
 * stack being left and loads the other stack's: some 20 instructions, no
 * system call. glibc's swapcontext also saves and restores the signal
 * mask with a system call each way, which costs microseconds where
 * system calls are slow (bench_engine prints both); it stays the way on
 * other machines.
 */
struct fiber {
	void *sp;           /* x86-64: the saved stack pointer */
#ifndef __x86_64__
	ucontext_t uc;
#endif
};

enum task_state { T_RUNNABLE, T_SLEEPING, T_DONE };

struct sim_task {
	struct ccmm_sim *sim;
	struct ccmm_sched_entity *se;
	struct ccmm_kthread *kthread;   /* a kernel thread's task */
	int (*fn)(void *arg);
	void *arg;
	uint32_t index;
	enum task_state state;
	bool frozen;                    /* not chosen while the kernel threads are being stopped */
	int ret;
	/* while it sleeps */
	struct ccmm_wait_queue_entry *w;
	bool timed;
	uint64_t deadline_ns;           /* modeled */
	int wake_ret;                   /* -ETIMEDOUT / -EDEADLK decided by the scheduler */
	/* why it last gave way, for the interleaving */
	int stop_kind;                  /* SEG_* */
	const char *stop_name;
	/* PCT */
	uint64_t prio;
	/* fibers */
	struct fiber fiber;
	void *stack;
	void *asan_fake;
	void *tsan_fiber;
	/* threads */
	pthread_t thread;
	bool started;
	bool counted;                   /* counted as sleeping by the monitor */
	jmp_buf jb;
};

enum { SEG_POINT, SEG_SLEEP, SEG_DONE, SEG_CUT };

struct sim_seg {
	uint32_t task;
	struct ccmm_where from, to;
	const char *op;
	int kind;                       /* SEG_*, -1 while it runs */
	int point;                      /* enum ccmm_sched_point when SEG_POINT */
	char what[80];
	uint64_t steps;
};

struct ccmm_sim {
	struct ccmm_sched sched;        /* first: the hook table sched/ calls */
	struct ccmm_machine *m;
	enum ccmm_sim_mode mode;
	struct ccmm_sched_plan plan;
	struct ccmm_rng rng;
	struct sim_task **tasks;
	size_t nr_tasks, cap_tasks;
	size_t nr_spawned;              /* tasks that are not kernel threads */
	struct sim_task *cur;           /* fibers: the one running */
	struct sim_task *last;          /* the one that ran before the current decision */
	_Atomic bool abort;
	/* fibers */
	struct fiber main_fiber;
	const void *main_bottom;
	size_t main_size;
	void *main_tsan_fiber;
	/* decisions */
	uint64_t steps;
	uint64_t hash;
	uint64_t *change_points;        /* PCT: d - 1 of them, sorted */
	unsigned nr_change, next_change;
	uint32_t *choices;
	size_t nr_choices, cap_choices;
	size_t replay_pos;
	struct sim_seg *segs;
	size_t nr_segs, cap_segs;
	/* threads mode */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned live, sleeping;        /* tasks running or asleep; asleep without a deadline */
	bool stalled;
	/* before a deadlock is declared (ccmm_sim_set_stall) */
	bool (*stall_fn)(void *arg);
	void *stall_arg;
};

static struct ccmm_sim *sim_of(struct ccmm_sched *s)
{
	return (struct ccmm_sim *)s;
}

/* ---- fiber stacks ----------------------------------------------------------------- */

static pthread_mutex_t stack_lock = PTHREAD_MUTEX_INITIALIZER;
static void *stack_cache[STACK_CACHE];
static size_t nr_stack_cache;

static void *stack_get(void)
{
	void *p = NULL;
	long pg = sysconf(_SC_PAGESIZE);

	pthread_mutex_lock(&stack_lock);
	if (nr_stack_cache)
		p = stack_cache[--nr_stack_cache];
	pthread_mutex_unlock(&stack_lock);
	if (p) {
#ifdef SIM_ASAN
		__asan_unpoison_memory_region(p, STACK_SIZE);
#endif
		return p;
	}
	p = mmap(NULL, STACK_SIZE + (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	mprotect(p, (size_t)pg, PROT_NONE); /* a guard page below the stack */
	return (char *)p + pg;
}

static void stack_put(void *p)
{
	long pg = sysconf(_SC_PAGESIZE);

	if (!p)
		return;
	pthread_mutex_lock(&stack_lock);
	if (nr_stack_cache < STACK_CACHE) {
		stack_cache[nr_stack_cache++] = p;
		p = NULL;
	}
	pthread_mutex_unlock(&stack_lock);
	if (p)
		munmap((char *)p - pg, STACK_SIZE + (size_t)pg);
}

/* ---- recording --------------------------------------------------------------------- */

static void seg_close(struct ccmm_sim *sim, struct sim_task *t, int kind, int point, const char *what)
{
	struct sim_seg *sg;

	if (!sim->plan.record || !sim->nr_segs)
		return;
	sg = &sim->segs[sim->nr_segs - 1];
	if (sg->task != t->index || sg->kind >= 0)
		return;
	sg->kind = kind;
	sg->point = point;
	snprintf(sg->what, sizeof(sg->what), "%s", what ? what : "");
	sg->to = t->se->ctx ? t->se->ctx->where : (struct ccmm_where){ 0 };
}

static void seg_open(struct ccmm_sim *sim, struct sim_task *t)
{
	struct sim_seg *sg;

	if (!sim->plan.record)
		return;
	if (sim->nr_segs && sim->segs[sim->nr_segs - 1].task == t->index && sim->segs[sim->nr_segs - 1].kind == SEG_POINT) {
		/* the same one goes on */
		sim->segs[sim->nr_segs - 1].kind = -1;
		return;
	}
	if (ccmm_grow((void **)&sim->segs, &sim->cap_segs, sim->nr_segs + 1, sizeof(*sim->segs)))
		return;
	sg = &sim->segs[sim->nr_segs++];
	memset(sg, 0, sizeof(*sg));
	sg->task = t->index;
	sg->kind = -1;
	sg->steps = sim->steps;
	if (t->se->ctx) {
		sg->from = t->se->ctx->where;
		sg->op = t->se->ctx->op;
	}
}

static void record_choice(struct ccmm_sim *sim, struct sim_task *t, size_t candidates)
{
	if (candidates > 1)
		sim->hash = (sim->hash ^ (t->index + 1)) * 0x100000001b3ULL;
	if (!sim->plan.record)
		return;
	if (!ccmm_grow((void **)&sim->choices, &sim->cap_choices, sim->nr_choices + 1, sizeof(*sim->choices)))
		sim->choices[sim->nr_choices++] = t->index;
}

/* ---- switching (fibers) ---------------------------------------------------------------- */

static void task_entry(struct sim_task *t);

#ifdef __x86_64__
/* fiber_switch(&from->sp, to->sp): save here, go there. */
__asm__(".text\n"
	".p2align 4\n"
	".type ccmm_sim_fiber_switch_, @function\n"
	"ccmm_sim_fiber_switch_:\n"
	"	endbr64\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	subq $8, %rsp\n"
	"	stmxcsr (%rsp)\n"
	"	fnstcw 4(%rsp)\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	ldmxcsr (%rsp)\n"
	"	fldcw 4(%rsp)\n"
	"	addq $8, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size ccmm_sim_fiber_switch_, .-ccmm_sim_fiber_switch_\n"
	/* a new fiber's first return lands here: call r13(r12) on an aligned stack */
	".p2align 4\n"
	".type ccmm_sim_fiber_start_, @function\n"
	"ccmm_sim_fiber_start_:\n"
	"	endbr64\n"
	"	movq %r12, %rdi\n"
	"	andq $-16, %rsp\n"
	"	call *%r13\n"
	"	ud2\n"
	".size ccmm_sim_fiber_start_, .-ccmm_sim_fiber_start_\n");

void ccmm_sim_fiber_switch_(void **from_sp, void *to_sp) __asm__("ccmm_sim_fiber_switch_")
	__attribute__((visibility("hidden")));
void ccmm_sim_fiber_start_(void) __asm__("ccmm_sim_fiber_start_") __attribute__((visibility("hidden")));

static void fiber_switch(struct fiber *from, struct fiber *to)
{
	ccmm_sim_fiber_switch_(&from->sp, to->sp);
}

static int fiber_make(struct fiber *f, void *stack, size_t size, struct sim_task *t)
{
	uint64_t *sp = (uint64_t *)(((uintptr_t)stack + size) & ~(uintptr_t)15);

	*--sp = 0;                                      /* alignment */
	*--sp = (uint64_t)(uintptr_t)ccmm_sim_fiber_start_; /* where the first switch returns to */
	*--sp = 0;                                      /* rbp */
	*--sp = 0;                                      /* rbx */
	*--sp = (uint64_t)(uintptr_t)t;                 /* r12: the argument */
	*--sp = (uint64_t)(uintptr_t)task_entry;        /* r13: the function */
	*--sp = 0;                                      /* r14 */
	*--sp = 0;                                      /* r15 */
	*--sp = 0x1f80 | (0x037fULL << 32);             /* MXCSR and the x87 control word: their defaults */
	f->sp = sp;
	return 0;
}
#else
static _Thread_local struct sim_task *starting;

static void fiber_trampoline(void)
{
	task_entry(starting);
}

static void fiber_switch(struct fiber *from, struct fiber *to)
{
	swapcontext(&from->uc, &to->uc);
}

static int fiber_make(struct fiber *f, void *stack, size_t size, struct sim_task *t)
{
	(void)t;
	if (getcontext(&f->uc))
		return -errno;
	f->uc.uc_stack.ss_sp = stack;
	f->uc.uc_stack.ss_size = size;
	f->uc.uc_link = NULL;
	makecontext(&f->uc, fiber_trampoline, 0);
	return 0;
}
#endif

static void task_entry(struct sim_task *t)
{
	struct ccmm_sim *sim = t->sim;

#ifdef SIM_ASAN
	__sanitizer_finish_switch_fiber(NULL, &sim->main_bottom, &sim->main_size);
#endif
	t->ret = t->kthread ? ccmm_kthread_run_fn(t->kthread) : t->fn(t->arg);
	t->state = T_DONE;
	seg_close(sim, t, SEG_DONE, 0, NULL);
#ifdef SIM_ASAN
	__sanitizer_start_switch_fiber(NULL, sim->main_bottom, sim->main_size);
#endif
#ifdef SIM_TSAN
	__tsan_switch_to_fiber(sim->main_tsan_fiber, 0);
#endif
	fiber_switch(&t->fiber, &sim->main_fiber); /* never comes back */
	abort();
}

/* From the scheduler loop to @t until it gives way. */
static void run_task(struct ccmm_sim *sim, struct sim_task *t)
{
#ifdef SIM_ASAN
	void *fake = NULL;
#endif

	sim->cur = t;
	ccmm_set_current(t->se);
#ifndef __x86_64__
	starting = t;
#endif
#ifdef SIM_ASAN
	__sanitizer_start_switch_fiber(&fake, t->stack, STACK_SIZE);
#endif
#ifdef SIM_TSAN
	sim->main_tsan_fiber = __tsan_get_current_fiber();
	__tsan_switch_to_fiber(t->tsan_fiber, 0);
#endif
	fiber_switch(&sim->main_fiber, &t->fiber);
#ifdef SIM_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	ccmm_set_current(NULL);
	sim->last = t;
	sim->cur = NULL;
}

/* From task @t back to the scheduler loop; returns when it is chosen again. */
static void yield_task(struct ccmm_sim *sim, struct sim_task *t)
{
#ifdef SIM_ASAN
	void *fake = NULL;

	__sanitizer_start_switch_fiber(&fake, sim->main_bottom, sim->main_size);
#endif
#ifdef SIM_TSAN
	__tsan_switch_to_fiber(sim->main_tsan_fiber, 0);
#endif
	fiber_switch(&t->fiber, &sim->main_fiber);
#ifdef SIM_ASAN
	__sanitizer_finish_switch_fiber(fake, &sim->main_bottom, &sim->main_size);
#endif
}

static int fiber_setup(struct sim_task *t)
{
	int ret;

	t->stack = stack_get();
	if (!t->stack)
		return -ENOMEM;
	ret = fiber_make(&t->fiber, t->stack, STACK_SIZE, t);
	if (ret) {
		stack_put(t->stack);
		t->stack = NULL;
		return ret;
	}
#ifdef SIM_TSAN
	t->tsan_fiber = __tsan_create_fiber(0);
#endif
	return 0;
}

/* ---- the hooks (fibers) --------------------------------------------------------------- */

static int fiber_sleep(struct ccmm_sim *sim, struct sim_task *t, struct ccmm_wait_queue_head *wq,
		       struct ccmm_wait_queue_entry *w, struct ccmm_ctx *clk, int64_t *timeout_ns)
{
	uint64_t now = clk ? clk->now_ns : 0;

	w->priv = t;
	t->w = w;
	t->timed = timeout_ns != NULL;
	/* *timeout_ns > 0 (ccmm_wait_locked returns -ETIMEDOUT before sleeping otherwise) */
	t->deadline_ns = timeout_ns ? ((uint64_t)*timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + (uint64_t)*timeout_ns)
				    : UINT64_MAX;
	t->wake_ret = 0;
	t->state = T_SLEEPING;
	seg_close(sim, t, SEG_SLEEP, 0, t->se->blocked_on[0] ? t->se->blocked_on : wq->name);
	pthread_mutex_unlock(&wq->lock);
	yield_task(sim, t);
	pthread_mutex_lock(&wq->lock);
	t->w = NULL;
	if (t->wake_ret == -ETIMEDOUT && clk && clk->now_ns < t->deadline_ns)
		clk->now_ns = t->deadline_ns;
	if (timeout_ns) {
		uint64_t at = clk ? clk->now_ns : now;

		*timeout_ns = t->wake_ret ? 0 : t->deadline_ns > at ? (int64_t)(t->deadline_ns - at) : 0;
	}
	return t->wake_ret;
}

static int thread_sleep(struct ccmm_sim *sim, struct sim_task *t, struct ccmm_wait_queue_head *wq,
			struct ccmm_wait_queue_entry *w, int64_t *timeout_ns);

static int sim_sleep(struct ccmm_sched *s, struct ccmm_sched_entity *se, struct ccmm_wait_queue_head *wq,
		     struct ccmm_wait_queue_entry *w, struct ccmm_ctx *clk, int64_t *timeout_ns)
{
	struct ccmm_sim *sim = sim_of(s);
	struct sim_task *t = se->priv;

	if (sim->mode == CCMM_SIM_THREADS)
		return thread_sleep(sim, t, wq, w, timeout_ns);
	return fiber_sleep(sim, t, wq, w, clk, timeout_ns);
}

static void sim_wakeup(struct ccmm_sched *s, struct ccmm_wait_queue_entry *w)
{
	struct ccmm_sim *sim = sim_of(s);
	struct sim_task *t = w->priv;

	if (sim->mode == CCMM_SIM_THREADS) {
		pthread_mutex_lock(&sim->lock);
		if (t && t->counted) {
			t->counted = false;
			sim->sleeping--;
		}
		pthread_mutex_unlock(&sim->lock);
		if (w->cond_init)
			pthread_cond_signal(&w->cond);
		return;
	}
	if (t && t->state == T_SLEEPING)
		t->state = T_RUNNABLE;
}

static void sim_point(struct ccmm_sched *s, struct ccmm_sched_entity *se, enum ccmm_sched_point what, const char *name)
{
	struct ccmm_sim *sim = sim_of(s);
	struct sim_task *t = se->priv;

	if (sim->mode == CCMM_SIM_THREADS || sim->cur != t)
		return;
	/* the default plan switches only between steps; the others at every point */
	if (sim->plan.kind == CCMM_PLAN_RUN && what != CCMM_SP_STEP)
		return;
	seg_close(sim, t, SEG_POINT, what, name);
	yield_task(sim, t);
}

static struct sim_task *task_new(struct ccmm_sim *sim, struct ccmm_sched_entity *se)
{
	struct sim_task *t = calloc(1, sizeof(*t));

	if (!t || ccmm_grow((void **)&sim->tasks, &sim->cap_tasks, sim->nr_tasks + 1, sizeof(*sim->tasks))) {
		free(t);
		return NULL;
	}
	t->sim = sim;
	t->se = se;
	t->index = (uint32_t)sim->nr_tasks;
	t->state = T_RUNNABLE;
	t->prio = ccmm_rng_next(&sim->rng) | 1; /* PCT: a random priority, above every change point's */
	se->sched = &sim->sched;
	se->priv = t;
	atomic_store(&se->killed, false);
	sim->tasks[sim->nr_tasks++] = t;
	return t;
}

static void *thread_main(void *arg);

static int task_start(struct ccmm_sim *sim, struct sim_task *t)
{
	int ret;

	if (sim->mode == CCMM_SIM_FIBERS)
		return fiber_setup(t);
	pthread_mutex_lock(&sim->lock);
	sim->live++;
	pthread_mutex_unlock(&sim->lock);
	ret = pthread_create(&t->thread, NULL, thread_main, t);
	if (ret) {
		pthread_mutex_lock(&sim->lock);
		sim->live--;
		pthread_mutex_unlock(&sim->lock);
		t->state = T_DONE;
		return -ret;
	}
	t->started = true;
	return 0;
}

static int sim_kthread_start(struct ccmm_sched *s, struct ccmm_kthread *k)
{
	struct ccmm_sim *sim = sim_of(s);
	struct sim_task *t = task_new(sim, &k->se);
	int ret;

	if (!t)
		return -ENOMEM;
	t->kthread = k;
	ret = task_start(sim, t);
	if (ret)
		t->state = T_DONE;
	return ret;
}

static int loop(struct ccmm_sim *sim, bool stopping);

static void sim_kthread_stop(struct ccmm_sched *s, struct ccmm_kthread *k)
{
	struct ccmm_sim *sim = sim_of(s);
	struct sim_task *t = k->se.priv;

	if (!t)
		return;
	if (sim->mode == CCMM_SIM_THREADS) {
		if (t->started) {
			pthread_join(t->thread, NULL);
			t->started = false;
		}
		return;
	}
	if (t->state == T_DONE)
		return;
	/* it was woken to stop: run the kernel threads until it has returned */
	if (!atomic_load(&sim->abort) && !sim->cur) {
		for (size_t i = 0; i < sim->nr_tasks; i++)
			sim->tasks[i]->frozen = !sim->tasks[i]->kthread;
		loop(sim, true);
		for (size_t i = 0; i < sim->nr_tasks; i++)
			sim->tasks[i]->frozen = false;
	}
}

static const struct ccmm_sched_ops sim_ops = {
	.sleep = sim_sleep,
	.wakeup = sim_wakeup,
	.point = sim_point,
	.kthread_start = sim_kthread_start,
	.kthread_stop = sim_kthread_stop,
};

/* ---- choosing ---------------------------------------------------------------------------- */

/* RUN: the smallest clock, then the lowest index. */
static struct sim_task *pick_min_clock(struct ccmm_sim *sim)
{
	struct sim_task *best = NULL;

	for (size_t i = 0; i < sim->nr_tasks; i++) {
		struct sim_task *t = sim->tasks[i];

		if (t->state != T_RUNNABLE || t->frozen)
			continue;
		if (!best || (t->se->ctx ? t->se->ctx->now_ns : 0) < (best->se->ctx ? best->se->ctx->now_ns : 0))
			best = t;
	}
	return best;
}

static size_t runnable(struct ccmm_sim *sim)
{
	size_t n = 0;

	for (size_t i = 0; i < sim->nr_tasks; i++)
		n += sim->tasks[i]->state == T_RUNNABLE && !sim->tasks[i]->frozen;
	return n;
}

static struct sim_task *choose(struct ccmm_sim *sim, size_t n, int *err)
{
	struct sim_task *t = NULL;

	switch (sim->plan.kind) {
	case CCMM_PLAN_RANDOM: {
		uint64_t k = ccmm_rng_range(&sim->rng, 0, n - 1);

		for (size_t i = 0; i < sim->nr_tasks; i++)
			if (sim->tasks[i]->state == T_RUNNABLE && !sim->tasks[i]->frozen && !k--) {
				t = sim->tasks[i];
				break;
			}
		break;
	}
	case CCMM_PLAN_PCT:
		/* at a change point the entity that ran last drops below every other */
		while (sim->next_change < sim->nr_change && sim->change_points[sim->next_change] <= sim->steps) {
			if (sim->last)
				sim->last->prio = sim->nr_change - sim->next_change; /* d-1 ... 1: below the initial ones */
			sim->next_change++;
		}
		for (size_t i = 0; i < sim->nr_tasks; i++) {
			struct sim_task *c = sim->tasks[i];

			if (c->state == T_RUNNABLE && !c->frozen && (!t || c->prio > t->prio))
				t = c;
		}
		break;
	case CCMM_PLAN_REPLAY:
		if (sim->replay_pos >= sim->plan.nr_choices) {
			/* the file ends: what is left runs as by default */
			t = pick_min_clock(sim);
			break;
		}
		{
			uint32_t want = sim->plan.choices[sim->replay_pos++];

			if (want >= sim->nr_tasks || sim->tasks[want]->state != T_RUNNABLE || sim->tasks[want]->frozen) {
				*err = -EINVAL;
				return NULL;
			}
			t = sim->tasks[want];
		}
		break;
	default:
		t = pick_min_clock(sim);
		break;
	}
	return t;
}

/* A sleeper of @sim ends its sleep with @ret: dequeued, runnable. */
static void end_sleep(struct sim_task *t, int ret)
{
	struct ccmm_wait_queue_head *wq = t->w->wq;

	if (wq) {
		pthread_mutex_lock(&wq->lock);
		ccmm_wait_dequeue(t->w);
		pthread_mutex_unlock(&wq->lock);
	}
	t->wake_ret = ret;
	t->state = T_RUNNABLE;
}

/*
 * The default plan, by the smallest clock: a sleeper whose deadline comes
 * before every runnable entity's clock times out now, as a discrete-event
 * simulation takes its events in time order (the earliest first). Returns
 * whether one did.
 */
static bool expire_timeouts(struct ccmm_sim *sim)
{
	struct sim_task *timed = NULL, *next = pick_min_clock(sim);

	for (size_t i = 0; i < sim->nr_tasks; i++) {
		struct sim_task *t = sim->tasks[i];

		if (t->state == T_SLEEPING && !t->frozen && t->timed && (!timed || t->deadline_ns < timed->deadline_ns))
			timed = t;
	}
	if (!timed || !next || !next->se->ctx || timed->deadline_ns >= next->se->ctx->now_ns)
		return false;
	end_sleep(timed, -ETIMEDOUT);
	return true;
}

/* Nothing can run: time out, kill a livelocked sleeper, or give up. */
static int resolve_stall(struct ccmm_sim *sim)
{
	struct sim_task *timed = NULL, *killable = NULL;

	for (size_t i = 0; i < sim->nr_tasks; i++) {
		struct sim_task *t = sim->tasks[i];

		if (t->state != T_SLEEPING || t->frozen)
			continue;
		if (t->timed && (!timed || t->deadline_ns < timed->deadline_ns))
			timed = t;
		if (!killable && t->w && t->w->killable && !t->kthread)
			killable = t;
	}
	if (timed || killable) {
		end_sleep(timed ? timed : killable, timed ? -ETIMEDOUT : -EDEADLK);
		return 0;
	}
	return -EDEADLK;
}

static bool all_done(struct ccmm_sim *sim, bool stopping)
{
	for (size_t i = 0; i < sim->nr_tasks; i++) {
		struct sim_task *t = sim->tasks[i];

		if (t->state != T_DONE && (stopping ? t->kthread && atomic_load(&t->kthread->should_stop) : !t->kthread))
			return false;
	}
	return true;
}

/*
 * The fibers' scheduler loop: until every actor has returned, or
 * (@stopping) every kernel thread asked to stop: then only kernel threads
 * run, by the smallest clock, and nothing is recorded.
 */
static int loop(struct ccmm_sim *sim, bool stopping)
{
	for (;;) {
		struct sim_task *t;
		size_t n;
		int err = 0;

		if (atomic_load(&sim->abort))
			return -ECANCELED;
		if (all_done(sim, stopping))
			return 0;
		n = runnable(sim);
		if (!n) {
			if (resolve_stall(sim) && (stopping || !sim->stall_fn || !sim->stall_fn(sim->stall_arg)))
				return -EDEADLK;
			continue;
		}
		if (stopping) {
			run_task(sim, pick_min_clock(sim));
			continue;
		}
		if (sim->plan.max_steps && sim->steps >= sim->plan.max_steps)
			return -E2BIG;
		if (sim->plan.kind == CCMM_PLAN_RUN && expire_timeouts(sim))
			continue;
		t = choose(sim, n, &err);
		if (!t)
			return err ? err : -EDEADLK;
		record_choice(sim, t, n);
		sim->steps++;
		seg_open(sim, t);
		run_task(sim, t);
	}
}

/* ---- threads mode ------------------------------------------------------------------------ */

static bool thread_poll(void *arg)
{
	struct sim_task *t = arg;

	return atomic_load(&t->se->killed) || atomic_load(&t->sim->abort);
}

static void stall_check_locked(struct ccmm_sim *sim)
{
	if (sim->live && sim->sleeping == sim->live && !sim->stalled) {
		sim->stalled = true;
		pthread_cond_broadcast(&sim->cond);
	}
}

static int thread_sleep(struct ccmm_sim *sim, struct sim_task *t, struct ccmm_wait_queue_head *wq,
			struct ccmm_wait_queue_entry *w, int64_t *timeout_ns)
{
	int64_t start = ccmm_mono_ns(), deadline = 0;
	int ret;

	w->priv = t;
	if (timeout_ns)
		deadline = *timeout_ns > INT64_MAX - start ? INT64_MAX : start + *timeout_ns;
	pthread_mutex_lock(&sim->lock);
	t->w = w;
	t->counted = !timeout_ns; /* a sleeper with a deadline wakes by itself */
	if (t->counted)
		sim->sleeping++;
	stall_check_locked(sim);
	pthread_mutex_unlock(&sim->lock);
	ret = ccmm_wait_sleep_thread(wq, w, deadline, THREAD_POLL_NS, thread_poll, t);
	pthread_mutex_lock(&sim->lock);
	if (t->counted) {
		t->counted = false;
		sim->sleeping--;
	}
	t->w = NULL;
	pthread_mutex_unlock(&sim->lock);
	if (atomic_load(&sim->abort) && ret == -EDEADLK) {
		/* the run is over: leave the entity's code the way it came */
		pthread_mutex_unlock(&wq->lock);
		longjmp(t->jb, 1);
	}
	if (ret == -EDEADLK)
		atomic_store(&t->se->killed, false);
	if (timeout_ns) {
		int64_t left = deadline - ccmm_mono_ns();

		*timeout_ns = ret ? 0 : left > 0 ? left : 0;
	}
	return ret;
}

static void give_up(struct sim_task *t);

static void *thread_main(void *arg)
{
	struct sim_task *t = arg;
	struct ccmm_sim *sim = t->sim;

	ccmm_set_current(t->se);
	if (!setjmp(t->jb))
		t->ret = t->kthread ? ccmm_kthread_run_fn(t->kthread) : t->fn(t->arg);
	else
		give_up(t); /* the run was given up while it slept: its sleeping locks go */
	ccmm_set_current(NULL);
	pthread_mutex_lock(&sim->lock);
	t->state = T_DONE;
	sim->live--;
	stall_check_locked(sim);
	pthread_cond_broadcast(&sim->cond);
	pthread_mutex_unlock(&sim->lock);
	return NULL;
}

/* Threads mode: watch until every actor returned; end livelocks, report deadlocks. */
static int monitor(struct ccmm_sim *sim)
{
	int ret = 0;

	pthread_mutex_lock(&sim->lock);
	for (;;) {
		bool actors_left = false;

		for (size_t i = 0; i < sim->nr_tasks; i++)
			actors_left |= !sim->tasks[i]->kthread && sim->tasks[i]->state != T_DONE;
		if (!actors_left)
			break;
		if (atomic_load(&sim->abort)) {
			ret = -ECANCELED;
			break;
		}
		if (sim->stalled) {
			struct sim_task *victim = NULL;

			sim->stalled = false;
			if (sim->sleeping != sim->live)
				continue; /* somebody was woken meanwhile */
			for (size_t i = 0; i < sim->nr_tasks && !victim; i++) {
				struct sim_task *t = sim->tasks[i];

				if (t->counted && t->w && t->w->killable && !t->kthread)
					victim = t;
			}
			if (!victim && sim->stall_fn) {
				bool woke;

				/* it wakes sleepers through sim_wakeup, which takes sim->lock */
				pthread_mutex_unlock(&sim->lock);
				woke = sim->stall_fn(sim->stall_arg);
				pthread_mutex_lock(&sim->lock);
				if (woke)
					continue;
			}
			if (!victim) {
				ret = -EDEADLK;
				break;
			}
			victim->counted = false;
			sim->sleeping--;
			atomic_store(&victim->se->killed, true);
			continue;
		}
		pthread_cond_wait(&sim->cond, &sim->lock);
	}
	pthread_mutex_unlock(&sim->lock);
	return ret;
}

/* ---- the interface ----------------------------------------------------------------------- */

int ccmm_sim_create(struct ccmm_machine *m, enum ccmm_sim_mode mode, const struct ccmm_sched_plan *plan,
		    struct ccmm_sim **out)
{
	struct ccmm_sim *sim = calloc(1, sizeof(*sim));

	if (!sim)
		return -ENOMEM;
	sim->sched.ops = &sim_ops;
	sim->m = m;
	sim->mode = mode;
	if (plan)
		sim->plan = *plan;
	ccmm_rng_seed(&sim->rng, sim->plan.seed, 0x5c4ed);
	sim->hash = 0xcbf29ce484222325ULL;
	atomic_init(&sim->abort, false);
	pthread_mutex_init(&sim->lock, NULL);
	pthread_cond_init(&sim->cond, NULL);
	if (sim->plan.kind == CCMM_PLAN_PCT) {
		unsigned d = sim->plan.depth ? sim->plan.depth : 3;
		uint64_t k = sim->plan.pct_steps ? sim->plan.pct_steps : 1000;

		sim->nr_change = d - 1;
		sim->change_points = calloc(d, sizeof(*sim->change_points));
		if (!sim->change_points) {
			free(sim);
			return -ENOMEM;
		}
		for (unsigned i = 0; i < sim->nr_change; i++)
			sim->change_points[i] = ccmm_rng_range(&sim->rng, 1, k);
		/* sorted, so they are met in order */
		for (unsigned i = 1; i < sim->nr_change; i++)
			for (unsigned j = i; j && sim->change_points[j - 1] > sim->change_points[j]; j--) {
				uint64_t x = sim->change_points[j];

				sim->change_points[j] = sim->change_points[j - 1];
				sim->change_points[j - 1] = x;
			}
	}
	*out = sim;
	return 0;
}

/*
 * The machine's kernel threads become entities (after the spawned ones, so
 * actors keep their indices) and, as at boot, each runs until it first
 * sleeps before anything else does (not a scheduling decision).
 */
static int attach(struct ccmm_sim *sim)
{
	int ret;

	if (sim->m->sched == &sim->sched)
		return 0;
	ret = ccmm_sched_attach(sim->m, &sim->sched);
	if (ret || sim->mode != CCMM_SIM_FIBERS)
		return ret;
	for (size_t i = 0; i < sim->nr_tasks; i++)
		if (sim->tasks[i]->kthread && sim->tasks[i]->state == T_RUNNABLE)
			run_task(sim, sim->tasks[i]);
	return 0;
}

int ccmm_sim_spawn(struct ccmm_sim *sim, struct ccmm_sched_entity *se, int (*fn)(void *arg), void *arg)
{
	struct sim_task *t = task_new(sim, se);
	int ret;

	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->arg = arg;
	sim->nr_spawned++;
	if (sim->mode == CCMM_SIM_THREADS)
		return 0; /* started by ccmm_sim_run */
	ret = fiber_setup(t);
	if (ret)
		t->state = T_DONE;
	return ret;
}

int ccmm_sim_run(struct ccmm_sim *sim)
{
	int ret = attach(sim);

	if (ret)
		return ret;
	if (sim->mode == CCMM_SIM_FIBERS)
		return loop(sim, false);
	for (size_t i = 0; i < sim->nr_tasks; i++) {
		struct sim_task *t = sim->tasks[i];

		if (t->kthread || t->started || t->state == T_DONE)
			continue;
		ret = task_start(sim, t);
		if (ret) {
			ccmm_sim_abort(sim);
			monitor(sim);
			return ret;
		}
	}
	return monitor(sim);
}

void ccmm_sim_abort(struct ccmm_sim *sim)
{
	atomic_store(&sim->abort, true);
	pthread_mutex_lock(&sim->lock);
	pthread_cond_broadcast(&sim->cond);
	pthread_mutex_unlock(&sim->lock);
}

void ccmm_sim_set_stall(struct ccmm_sim *sim, bool (*fn)(void *arg), void *arg)
{
	sim->stall_fn = fn;
	sim->stall_arg = arg;
}

struct ccmm_sched_entity *ccmm_sim_sleeper(struct ccmm_sim *sim, size_t i, const char **waits_for)
{
	for (size_t k = 0; k < sim->nr_tasks; k++) {
		struct sim_task *t = sim->tasks[k];

		if (t->kthread || t->state == T_DONE)
			continue;
		if (i--)
			continue;
		*waits_for = t->state == T_SLEEPING || t->w ? t->se->blocked_on : NULL;
		return t->se;
	}
	return NULL;
}

uint64_t ccmm_sim_steps(const struct ccmm_sim *sim)
{
	return sim->steps;
}

uint64_t ccmm_sim_hash(const struct ccmm_sim *sim)
{
	return sim->hash;
}

/* An entity that will never run again: out of its queue, its sleeping locks released. */
static void give_up(struct sim_task *t)
{
	struct ccmm_wait_queue_entry *w = t->w;

	if (w && w->wq) {
		struct ccmm_wait_queue_head *wq = w->wq;

		pthread_mutex_lock(&wq->lock);
		ccmm_wait_dequeue(w);
		pthread_mutex_unlock(&wq->lock);
	}
	t->w = NULL;
	while (t->se->held) {
		struct ccmm_lock_dep *dep = t->se->held;

		t->se->held = dep->held_next;
		if (dep->force_unlock)
			dep->force_unlock(dep);
	}
}

void ccmm_sim_destroy(struct ccmm_sim *sim)
{
	if (!sim)
		return;
	if (sim->mode == CCMM_SIM_THREADS) {
		/* every thread out: abort the sleepers of a failed run */
		bool left = false;

		pthread_mutex_lock(&sim->lock);
		for (size_t i = 0; i < sim->nr_tasks; i++)
			left |= !sim->tasks[i]->kthread && sim->tasks[i]->started && sim->tasks[i]->state != T_DONE;
		pthread_mutex_unlock(&sim->lock);
		if (left)
			ccmm_sim_abort(sim);
		for (size_t i = 0; i < sim->nr_tasks; i++) {
			struct sim_task *t = sim->tasks[i];

			if (!t->kthread && t->started) {
				pthread_join(t->thread, NULL);
				t->started = false;
			}
		}
	}
	/* the kernel threads stop (a run given up leaves them where they sleep) */
	if (sim->m && sim->m->sched == &sim->sched)
		ccmm_sched_detach(sim->m);
	for (size_t i = 0; i < sim->nr_tasks; i++) {
		struct sim_task *t = sim->tasks[i];

		if (t->kthread && t->started) {
			pthread_join(t->thread, NULL);
			t->started = false;
		}
		if (t->state != T_DONE)
			give_up(t);
		if (t->stack)
			stack_put(t->stack);
#ifdef SIM_TSAN
		if (t->tsan_fiber)
			__tsan_destroy_fiber(t->tsan_fiber);
#endif
		t->se->sched = NULL;
		t->se->priv = NULL;
		free(t);
	}
	free(sim->tasks);
	free(sim->change_points);
	free(sim->choices);
	free(sim->segs);
	pthread_mutex_destroy(&sim->lock);
	pthread_cond_destroy(&sim->cond);
	free(sim);
}

/* ---- for the engine ------------------------------------------------------------------------ */

void _ccmm_sim_take_record(struct ccmm_sim *sim, struct _ccmm_sim_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->choices = sim->choices;
	rec->nr_choices = sim->nr_choices;
	sim->choices = NULL;
	sim->nr_choices = sim->cap_choices = 0;
	rec->nr_names = sim->nr_tasks;
	rec->names = calloc(sim->nr_tasks ? sim->nr_tasks : 1, sizeof(*rec->names));
	for (size_t i = 0; rec->names && i < sim->nr_tasks; i++)
		rec->names[i] = sim->tasks[i]->se->name;
	rec->nr_segs = sim->nr_segs;
	rec->segs = calloc(sim->nr_segs ? sim->nr_segs : 1, sizeof(*rec->segs));
	for (size_t i = 0; rec->segs && i < sim->nr_segs; i++) {
		const struct sim_seg *sg = &sim->segs[i];
		struct _ccmm_sim_seg *o = &rec->segs[i];

		o->task = sg->task;
		o->from = sg->from;
		o->to = sg->to;
		o->op = sg->op;
		snprintf(o->what, sizeof(o->what), "%s", sg->what);
		o->steps = sg->steps;
		switch (sg->kind) {
		case SEG_POINT:
			o->how = ccmm_sched_point_name((enum ccmm_sched_point)sg->point);
			break;
		case SEG_SLEEP:
			o->how = "sleeps on";
			break;
		case SEG_DONE:
			o->how = "done";
			break;
		default:
			o->how = "stopped";
			break;
		}
	}
	rec->steps = sim->steps;
	rec->hash = sim->hash;
	rec->replay_left = sim->plan.kind == CCMM_PLAN_REPLAY && sim->replay_pos < sim->plan.nr_choices;
}
