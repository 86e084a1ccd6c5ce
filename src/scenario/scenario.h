/* SPDX-License-Identifier: MIT */
/*
 * scenario.h - job files, actors and the engine (layer 4).
 *
 *   job file (fio-style INI)
 *     [global]   platform, seed, mode (sim | threads), kb_base, every run
 *                extension's knobs, expect= for violations of no
 *                particular actor
 *     [NAME]     one actor: actor=KIND, the kind's options, expect=RULE[:N],
 *                loops=N, and a program of op= lines:
 *                  op = VERB ARG... key=value...
 *      |
 *      v   ccmm_job_load(): every option and op checked against the
 *          kind's tables (typos get suggestions), every object name
 *          resolved, every expect= rule known
 *   struct ccmm_job
 *      |
 *      v   ccmm_job_run(): boot the platform, one ccmm_ctx and one
 *          scheduling entity per actor (sched/), the machine's kernel
 *          threads (ksgxd, work queues) beside them as entities too;
 *          sim mode runs each on its own stack (ucontext), one at a
 *          time: at every step the one with the smallest modeled clock,
 *          deterministic for a seed; an entity that sleeps (a lock, a
 *          fence, a reclaim, a wait op) is suspended and another runs;
 *          threads mode runs each on a real thread (stress)
 *   struct ccmm_run  events, per-actor costs and counters, lockstat,
 *          expectations
 *
 * ccmm_explore(): the same job under many schedules (random walk or
 * PCT over every scheduling point: lock, unlock, wait, wake, fault, an
 * actor's step), stopping at the first that breaks an expectation, an
 * invariant or a rule; its choices go to a schedule file that
 * ccmm_job_run_plan() replays exactly.
 *
 * Actor kinds (guest_task, device, vmm, and those of later layers) are
 * registered in scenario/kinds.c. A kind gives an option table, a verb
 * table and optionally a step function for programs that are not op
 * lists (trace replay).
 *
 * Objects: ops create named objects (alloc buf 64k) that any actor may
 * use afterwards (dma_read buf); ordering between actors is explicit with
 * signal/wait. Object references also take "@ADDR" (a raw address) and
 * "bar:DEVICE[.N]" (a device BAR).
 *
 * Locking: in threads mode the object table has its own mutex and the
 * signal table is guarded by its wait queue's lock; everything below
 * locks itself.
 */
#ifndef CCMM_SCENARIO_H
#define CCMM_SCENARIO_H

#include "boot/boot.h"
#include "check/check.h"
#include "mm/mm.h"
#include "platform/platform.h"
#include "sched/sched.h"
#include "util/util.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

#define CCMM_MAX_ARGS 12
#define CCMM_MAX_EXPECT 16

struct ccmm_job;
struct ccmm_run;
struct ccmm_actor;

/* ---- op arguments ----------------------------------------------------- */

enum ccmm_arg_type {
	CCMM_ARG_OBJ,     /* an object name, "@ADDR" or "bar:DEV[.N]" */
	CCMM_ARG_NEWOBJ,  /* a name this op creates */
	CCMM_ARG_SIZE,    /* a size or LO-HI range (picked per run from the actor's RNG) */
	CCMM_ARG_U64,     /* a number or LO-HI range */
	CCMM_ARG_PAGES,   /* a number of 4 KiB pages or LO-HI range; its size in bytes must fit in 64 bits */
	CCMM_ARG_ENUM,    /* one of .choices */
	CCMM_ARG_STR,     /* free text (file names, event names) */
	CCMM_ARG_BOOL,
};

struct ccmm_arg_spec {
	const char *name;
	enum ccmm_arg_type type;
	bool positional;            /* may be given by position (in table order) */
	bool required;
	const char *const *choices; /* CCMM_ARG_ENUM */
	const char *def;            /* default as text, or NULL */
	const char *help;
};

/* A parsed argument value. */
struct ccmm_arg {
	bool set;
	struct ccmm_range range;    /* numbers and sizes (lo == hi for a single value) */
	int choice;                 /* enums; bools as 0/1 */
	char str[96];               /* names, strings, object references as written */
};

struct ccmm_op {
	const struct ccmm_verb *verb;
	struct ccmm_where where;
	struct ccmm_arg arg[CCMM_MAX_ARGS]; /* indexed like verb->args */
	long ret;                           /* expected return (ret=-EINVAL); 0 by default */
	long ret_also[3];                   /* ret=A|B: other returns as good (an op racing another actor) */
	unsigned nr_ret_also;
	bool ret_set;
};

struct ccmm_verb {
	const char *name;
	const char *help;
	const struct ccmm_arg_spec *args; /* NULL-name terminated */
	/*
	 * Run the op. Returns 0 or a negative errno; an errno the op's ret=
	 * did not announce is an op error in the report. Anything the
	 * modeled hardware or kernel did wrong is a violation event instead.
	 */
	int (*run)(struct ccmm_actor *a, const struct ccmm_op *op);
};

/* ---- actor kinds ------------------------------------------------------ */

/*
 * A point in an actor's life that other actors can wait for: a job maps
 * it to an event with "milestone = NAME EVENT", and the actor signals
 * EVENT (as the signal op does, at its modeled time) when it gets there.
 * Every kind has "started" (before its first op) and "done" (its program
 * finished; not when it stopped on a failed op); a kind lists its own.
 */
struct ccmm_milestone {
	const char *name;
	const char *help;
};

/* The milestones every kind has; NULL-name terminated. */
extern const struct ccmm_milestone ccmm_common_milestones[];

struct ccmm_actor_kind {
	const char *name;
	const char *help;
	const struct ccmm_option *options; /* parsed into a zeroed block of opts_size bytes */
	size_t opts_size;
	const struct ccmm_verb *verbs;     /* the kind's verbs, NULL-name terminated */
	/* validate options once the whole job is read (device names exist ...) */
	int (*check)(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err);
	/* set up at run start (address spaces, trace files) */
	int (*start)(struct ccmm_actor *a);
	/*
	 * A program that is not an op list (trace replay): do one unit of
	 * work. Returns 0 (did work, call again), 1 (finished), or a negative
	 * errno (run error). Called after the op list is done; NULL: none.
	 */
	int (*step)(struct ccmm_actor *a);
	void (*stop)(struct ccmm_actor *a);
	/*
	 * Free what check kept in the options block for every run (a trace
	 * decoded once, a parsed I/O log), just before the job frees the
	 * block. NULL: nothing to free.
	 */
	void (*release_opts)(struct ccmm_actor *a);
	/* the actor's own lines in the text report, after its counters (NULL: none) */
	void (*report_text)(struct ccmm_actor *a, FILE *out);
	/* the actor's own members in its JSON object @json (a jansson json_t *) (NULL: none) */
	void (*report_json)(struct ccmm_actor *a, void *json);
	/* the kind's own milestones (ccmm_actor_milestone), NULL-name terminated, or NULL */
	const struct ccmm_milestone *milestones;
};

/* All registered kinds; NULL past the end. */
const struct ccmm_actor_kind *ccmm_actor_kind_at(size_t i);
const struct ccmm_actor_kind *ccmm_actor_kind_find(const char *name);

/* ---- time series ---------------------------------------------------------- */

/*
 * A run's time series (ccmm run --interval T): at every multiple of the
 * interval of modeled time, the engine asks each run extension's sample
 * hook for its figures; the series are kept per (name, label) with a unit.
 * Sampling happens in sim mode, where modeled time is one clock: a sample
 * at time t shows the state once every actor whose clock is below t has
 * run its step. A sample per boundary is kept even when nothing ran
 * between two (the state held). At the end of the run a last sample is
 * taken at the run's end time.
 */
struct ccmm_series;

/* What a counter's increases mark on a picture's time axis. */
enum ccmm_series_mark {
	CCMM_MARK_NONE,
	CCMM_MARK_RECLAIM,     /* pages reclaimed (EPC write-back, demotion, swap) */
	CCMM_MARK_OOM,         /* an OOM kill or an allocation that found nothing to reclaim */
	CCMM_MARK_CONVERSION,  /* a page converted private <-> shared */
};

/* The mark kinds' names: "", "reclaim", "oom", "conversion". */
extern const char *const ccmm_series_mark_names[];

/*
 * For sample hooks: the value of series @name ("sgx.epc_pages") for @label
 * ("/selftest/test2", "node 0", "" for none) in @unit ("pages", "bytes",
 * "slots") at this sample. A series put in one sample and not in another
 * has no value there (null in JSON, empty in CSV). -ENOMEM is kept in the
 * series (ccmm_series_error) and sampling stops.
 */
void ccmm_series_put(struct ccmm_series *s, const char *name, const char *label, const char *unit, double value);

/* A cumulative count (events so far) of series @name: its increases are events of kind @mark. */
void ccmm_series_count(struct ccmm_series *s, const char *name, const char *label, const char *unit, uint64_t total,
		       enum ccmm_series_mark mark);

/*
 * ccmm_actor_sample - for an actor whose one op covers much modeled time
 * (a trace replay): take the run's samples at the interval boundaries its
 * clock has passed, before it does its next piece of work, so the series
 * show the op's progress (other actors as of their last step). Call from
 * the actor's own op in sim mode; a no-op without --interval (and in
 * threads mode, which has no series).
 */
void ccmm_actor_sample(struct ccmm_actor *a);

/* Reading a run's series (reports, plots). */
struct ccmm_series_info {
	const char *name, *label, *unit;
	bool counter;
	enum ccmm_series_mark mark;
};
size_t ccmm_series_samples(const struct ccmm_series *s);               /* samples taken */
uint64_t ccmm_series_time(const struct ccmm_series *s, size_t i);      /* modeled ns of sample @i */
uint64_t ccmm_series_interval(const struct ccmm_series *s);           /* ns */
size_t ccmm_series_count_nr(const struct ccmm_series *s);             /* how many series */
void ccmm_series_info(const struct ccmm_series *s, size_t k, struct ccmm_series_info *out);
double ccmm_series_value(const struct ccmm_series *s, size_t k, size_t i); /* NAN: no value */
/* Why sampling stopped early: 0, -ENOMEM, or -E2BIG (more than CCMM_SERIES_MAX_SAMPLES samples). */
int ccmm_series_error(const struct ccmm_series *s);

#define CCMM_SERIES_MAX_SAMPLES 200000

/* ---- run extensions ----------------------------------------------------- */

#define CCMM_MAX_EXTS 16

/*
 * A subsystem's part in every run: extra [global] options (parsed into a
 * zeroed block of opts_size bytes, defaults applied), a check once the job
 * and its platform are read, set-up after boot before any actor starts, a
 * wrap-up after the actors finished (objects and actors still there), and
 * its sections of the text and JSON reports. Every hook is optional.
 */
struct ccmm_run_ext {
	const char *name;                  /* also its key in the JSON report */
	const struct ccmm_option *options; /* NULL-name terminated */
	size_t opts_size;
	int (*check)(struct ccmm_job *job, const void *opts, struct ccmm_error *err);
	/* 0, or a negative errno with a message in run->error (ccmm_run_fail style) */
	int (*start)(struct ccmm_run *run, const void *opts);
	/* may record violations, or set run->error for an I/O failure */
	void (*finish)(struct ccmm_run *run, const void *opts);
	void (*report_text)(struct ccmm_run *run, FILE *out);
	void *(*report_json)(struct ccmm_run *run); /* a jansson json_t *, or NULL */
	/* the subsystem's figures at a sample of a run's time series (ccmm_series_put/count) */
	void (*sample)(struct ccmm_run *run, const void *opts, struct ccmm_series *s);
};

/* All registered run extensions; NULL past the end. */
const struct ccmm_run_ext *ccmm_run_ext_at(size_t i);

/* The options block of run extension @name in @job (its defaults until set), or NULL. */
const void *ccmm_job_ext_opts(const struct ccmm_job *job, const char *name);

/*
 * struct ccmm_kind_set - a subsystem's part in the scenario layer, defined
 * once in src/scenario/kinds/NAME.c as
 *   const struct ccmm_kind_set ccmm_kinds_NAME = { "NAME", kinds, &ext };
 * The build registers every such file (src/scenario/kinds/meson.build):
 * adding a subsystem's kinds is adding that file.
 */
struct ccmm_kind_set {
	const char *name;
	const struct ccmm_actor_kind *const *kinds; /* NULL-terminated, or NULL */
	const struct ccmm_run_ext *ext;             /* or NULL */
	/*
	 * The figures a sweep shows by default when a job uses one of
	 * @kinds: JSON paths into the run report, '*' segments allowed
	 * ("sgx.cgroups.*.evicted_global"); NULL-terminated, or NULL.
	 */
	const char *const *metrics;
};

/* The @i-th kind set: the built-in ones in registration order, then those registered at run time; NULL past the end. */
const struct ccmm_kind_set *ccmm_kind_set_at(size_t i);

/*
 * ccmm_kind_set_register - add a kind set from a program linked with
 * libccmm (its own actor kinds, and maybe a run extension), after the
 * built-in ones: job files loaded from now on can use its kinds, and
 * ccmm_actor_kind_at()/ccmm_run_ext_at() list them. @set must stay valid
 * for the life of the process. Returns 0, -EINVAL (no name), -EEXIST (its
 * name or one of its kinds' names is taken), -ENOSPC (16 run-time sets, or
 * CCMM_MAX_EXTS run extensions, already).
 * Locking: its own; do not register while a job is being loaded.
 */
int ccmm_kind_set_register(const struct ccmm_kind_set *set);

/* ---- the job ---------------------------------------------------------- */

struct ccmm_expect {
	const struct ccmm_rule *rule;
	long count;                /* exact count, or -1 for "at least once" */
	struct ccmm_where where;
};

/*
 * check = PATH OP VALUE: a figure of the run's JSON report compared with a
 * value once the run is over (the evaluator is the report's:
 * ccmm_report_checks in report/report.h). PATH walks the JSON report: keys
 * joined by '.', an array element chosen by [NAME] (its jobname, name,
 * path, actor, device or cgroup member) or [N]; in an actor section a PATH
 * that starts with '.' is relative to that actor's entry of "jobs".
 */
enum ccmm_check_op { CCMM_CHECK_EQ, CCMM_CHECK_NE, CCMM_CHECK_LT, CCMM_CHECK_LE, CCMM_CHECK_GT, CCMM_CHECK_GE };

enum ccmm_check_unit {
	CCMM_UNIT_NONE,    /* a plain number */
	CCMM_UNIT_BYTES,   /* a size: 4KiB, 2m, 512 (value in bytes) */
	CCMM_UNIT_NS,      /* a time: 2ms, 10us, 500ns, 1s (value in ns) */
	CCMM_UNIT_PERCENT, /* 25% (value 25; a ratio figure compares as 0.25) */
	CCMM_UNIT_STRING,  /* a word: == and != only */
	CCMM_UNIT_BOOL,    /* true / false: == and != only */
};

struct ccmm_check {
	char path[160];
	enum ccmm_check_op op;
	enum ccmm_check_unit unit;
	double value;              /* in the unit's base (bytes, ns, percent points) */
	char text[200];            /* the line as written, for messages */
	char str[64];              /* CCMM_UNIT_STRING / BOOL: the word */
	int actor;                 /* -1: [global] */
	struct ccmm_where where;
};

/* The operators' spellings, indexed by enum ccmm_check_op. */
extern const char *const ccmm_check_op_names[];

/*
 * The top-level keys of the JSON report besides the run extensions' names
 * (NULL-terminated): a check whose PATH starts elsewhere is refused when
 * the job is read. The report builder writes exactly these (a test holds
 * them together).
 */
extern const char *const ccmm_report_root_keys[];

struct ccmm_actor {
	char name[CCMM_NAME_MAX];
	int index;
	const struct ccmm_actor_kind *kind;
	void *opts;                 /* the kind's option block */
	struct ccmm_where where;    /* the section header */
	uint64_t loops;
	struct ccmm_op *ops;
	size_t nr_ops, cap_ops;
	struct ccmm_expect expect[CCMM_MAX_EXPECT];
	size_t nr_expect;
	struct {
		const char *name;   /* the kind's (or a common) milestone */
		char event[48];
		struct ccmm_where where;
	} milestone[CCMM_MAX_EXPECT];
	size_t nr_milestones;
	/* run-time state */
	struct ccmm_run *run;
	struct ccmm_ctx ctx;
	struct ccmm_sched_entity se; /* what the scheduler runs (its clock is ctx's) */
	size_t pc;                  /* next op */
	uint64_t loop;              /* current loop */
	bool done;
	const char *waiting;        /* the event while asleep in a wait op (the signal table's lock) */
	uint64_t ops_done, op_errors;
	void *priv;                 /* the kind's run-time state */
	/* actors that model processes say how they ended (read by shells: ccmm_actor_exits) */
	bool exited;
	int exit_status;            /* 0 success, 1-127 failure, 128+N killed by signal N */
	char exit_why[96];
	char note[160];             /* why the op under way failed: shown with its op error */
	/*
	 * Stopped because an op depended on one that had failed at run time
	 * (ccmm_run_fail found it): the op is an op error naming that op, the
	 * actor does nothing more, the run goes on.
	 */
	bool dep_failed;
};

enum ccmm_run_mode {
	CCMM_RUN_SIM,     /* one thread, modeled clocks, deterministic */
	CCMM_RUN_THREADS, /* one real thread per actor (stress) */
};

/*
 * The engine's own [global] options. Every subsystem's knobs are options
 * of its run extension (struct ccmm_run_ext), in the same [global] section.
 */
struct ccmm_global_opts {
	char platform[256];
	uint64_t seed;
	int mode;                   /* enum ccmm_run_mode (an int: the option table stores enums so) */
	uint64_t max_steps;         /* stop the run after this many ops and program steps; 0: never */
	uint64_t kb_base;           /* 1024 or 1000: how k/m/g and KiB/MiB read in this job (ccmm_kb_base_set) */
};

/* The engine's own [global] options (platform, seed, mode, max_steps, kb_base), over struct ccmm_global_opts. */
const struct ccmm_option *ccmm_job_global_options(void);

struct ccmm_job {
	char path[512];             /* the file, or "built-in default" */
	char dir[512];              /* for relative paths in the job */
	struct ccmm_global_opts g;
	struct ccmm_expect expect[CCMM_MAX_EXPECT]; /* [global] expect= */
	size_t nr_expect;
	struct ccmm_actor **actors;
	size_t nr_actors, cap_actors;
	struct ccmm_platform *plat;  /* loaded and validated with the job */
	uint64_t interval_ns;        /* time series: a sample every this much modeled time (0: none; sim mode) */
	void *ext_opts[CCMM_MAX_EXTS]; /* each run extension's [global] options */
	struct ccmm_check *checks;   /* check= lines of every section, in file order */
	size_t nr_checks, cap_checks;
	/*
	 * Called after every op that ran (not one that blocked), with what it
	 * returned, on the actor's own thread, before the next op: for
	 * invariant checkers (tests/random). NULL: none. Set by the caller
	 * between ccmm_job_load and ccmm_job_run.
	 */
	void (*op_hook)(struct ccmm_actor *a, const struct ccmm_op *op, int ret, void *arg);
	void *op_hook_arg;
	/* names created by ops (NEWOBJ), for checking references */
	char (*names)[48];
	struct ccmm_where *name_where;
	size_t nr_names, cap_names;
};

/*
 * ccmm_job_load - read and validate a job file (@text: parse this text
 * instead, @path then only names it). The platform it names is loaded too,
 * unless @platform_override (a path, "default" or "host") replaces it.
 * Returns 0 and the job, or a negative errno with @err at the offending
 * line ("FILE:LINE: what is wrong"); nothing is left allocated on error.
 */
int ccmm_job_load(const char *path, const char *text, const char *platform_override, struct ccmm_job **out,
		  struct ccmm_error *err);

/* How ccmm_job_load_with() reads a job; a zeroed struct is ccmm_job_load()'s defaults. */
struct ccmm_job_load_opts {
	/* a platform replacing the job's: a file (found by ccmm_path_find from the current folder), "default", "host" */
	const char *platform;
	/*
	 * fio's --section: only the actor sections named here (NULL-terminated)
	 * are read ([global] always is); NULL reads every section. A job none of
	 * whose sections is named is an error (-ENOENT, listing its sections).
	 */
	const char *const *sections;
	/* --set KEY=VALUE settings (util.h), applied as ccmm_job_load_set() says; NULL/0: none */
	const struct ccmm_setting *sets;
	size_t nr_sets;
};

/*
 * ccmm_job_load_with - ccmm_job_load() with the options above. The job's
 * own files are found as ccmm_path_find() finds them: "platform = NAME" and
 * "include NAME" beside the job, then on $CCMM_PATH, then in the installed
 * share folder (platforms/, jobs/; ".ini" added when NAME has no extension).
 * Sizes read with the job's kb_base. Returns as ccmm_job_load().
 */
int ccmm_job_load_with(const char *path, const char *text, const struct ccmm_job_load_opts *o, struct ccmm_job **out,
		       struct ccmm_error *err);

/*
 * ccmm_job_load_set - ccmm_job_load with @nr settings from the command line
 * (util.h: --set KEY=VALUE): a job setting replaces its [SECTION] KEY line
 * or is added to that section (the section must exist, [global] excepted;
 * op= and expect= cannot be set; a check= setting is always added, beside
 * the section's own check= lines), then the job is checked as the file
 * would be, with the same errors and suggestions, placed at the setting
 * ("--set KEY=VALUE: ..."). A [global] platform setting names a platform
 * as --platform does (relative to the current directory, not the job;
 * with @platform_override too it is an error). Platform settings
 * (platform.KEY, platform.SECT:NAME.KEY, cost.NAME) change the platform
 * before it is validated (ccmm_platform_parse_set). A [sweep] section is
 * not an actor (ccmm sweep reads it). Returns as ccmm_job_load.
 */
int ccmm_job_load_set(const char *path, const char *text, const char *platform_override,
		      const struct ccmm_setting *sets, size_t nr, struct ccmm_job **out, struct ccmm_error *err);

/*
 * ccmm_job_set_global - set [global] option @key of a loaded job to @value,
 * as the job file's line would (the engine's options and every run
 * extension's; not platform). Returns 0, or -ENOENT (unknown, with a
 * suggestion) / -EINVAL / -ERANGE with @err set; the job is unchanged then.
 */
int ccmm_job_set_global(struct ccmm_job *job, const char *key, const char *value, struct ccmm_error *err);

/* The built-in default job (jobs/default.job, compiled in). */
int ccmm_job_default(struct ccmm_job **out, struct ccmm_error *err);
extern const char ccmm_default_job_text[];

/* Free a job from ccmm_job_load/default (NULL is a no-op); its runs must be freed first. */
void ccmm_job_free(struct ccmm_job *job);

/* ---- running ---------------------------------------------------------- */

enum ccmm_obj_kind {
	CCMM_OBJ_PAGES,   /* pages from the allocator (pa, order) */
	CCMM_OBJ_UMAP,    /* a mapping in a user or host mm (va, mm) */
	CCMM_OBJ_IOMAP,   /* an ioremap in the kernel (va) */
	CCMM_OBJ_RAW,     /* "@ADDR" / "bar:..." references */
	CCMM_OBJ_OTHER,   /* a later layer's object: see .type and .priv */
};

struct ccmm_obj {
	char name[48];
	enum ccmm_obj_kind kind;
	const char *type;        /* CCMM_OBJ_OTHER: the owning subsystem's type name */
	int creator;             /* actor index */
	uint64_t pa;             /* physical base (PAGES, RAW, UMAP of pages) */
	uint64_t va;             /* virtual base (UMAP, IOMAP) */
	uint64_t size;
	unsigned order;
	struct ccmm_mm *mm;      /* UMAP */
	struct ccmm_vma *vma;    /* UMAP */
	void *priv;              /* CCMM_OBJ_OTHER */
	void (*destroy)(struct ccmm_run *run, struct ccmm_obj *o); /* at run end, for OTHER */
};

struct ccmm_run {
	struct ccmm_job *job;
	struct ccmm_machine *m;
	pthread_mutex_t lock;       /* objects and events in threads mode */
	pthread_cond_t cond;
	struct ccmm_obj **objs;
	size_t nr_objs, cap_objs;
	struct {
		char name[48];
		uint64_t count;
		uint64_t time_ns;   /* modeled time of the latest signal */
	} *sig;
	size_t nr_sig, cap_sig;
	uint64_t end_ns;            /* the latest actor clock */
	double wall_s;              /* ccmm's own run time, for the report only */
	char error[600];            /* a run error ("FILE:LINE: ..."), empty if none */
	int error_ret;
	/* the job's checks, once evaluated (ccmm_report_checks), indexed like job->checks */
	struct ccmm_check_result *check_results;
	bool checks_done;
	struct ccmm_series *series; /* time series when job->interval_ns was set (sim mode), else NULL */
};

/* What one check= line found. */
struct ccmm_check_result {
	const struct ccmm_check *c;
	bool passed;
	bool found;                 /* the PATH named a figure of the report */
	double got;                 /* the figure, in the check's unit */
	char got_text[64];          /* the figure as text (with the check's unit) */
	char msg[1024];             /* "FILE:LINE: check ... failed: got X (off by D)" or the missing path */
};

/* ---- scheduling plans, the simulator, exploration ------------------------- */

enum ccmm_plan_kind {
	CCMM_PLAN_RUN,    /* the default: at every step the entity with the smallest clock */
	CCMM_PLAN_RANDOM, /* at every scheduling point, a runnable entity drawn at random */
	CCMM_PLAN_PCT,    /* probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010) */
	CCMM_PLAN_REPLAY, /* the choices of a schedule file, one per scheduling point */
};

/*
 * struct ccmm_sched_plan - how sim mode picks the entity that runs at each
 * scheduling point. Under RUN only steps (an actor's next op, a kernel
 * thread's next round) and sleeps switch; under the others every point
 * (lock, unlock, wake, fault, io, step, sleep) is a choice.
 */
struct ccmm_sched_plan {
	enum ccmm_plan_kind kind;
	uint64_t seed;              /* RANDOM, PCT: the choice stream */
	unsigned depth;             /* PCT: d, the bug depth (d - 1 priority change points) */
	uint64_t pct_steps;         /* PCT: k, the steps a run is expected to take (change points fall in [1, k]) */
	uint64_t max_steps;         /* a run taking more choices is cut (0: no bound) */
	const uint32_t *choices;    /* REPLAY: the entity index chosen at each point */
	size_t nr_choices;
	bool record;                /* keep the choices and the interleaving (ccmm_run_schedule) */
};

/* The simulator: entities on their own stacks (CCMM_SIM_FIBERS) or on real threads. */
enum ccmm_sim_mode { CCMM_SIM_FIBERS, CCMM_SIM_THREADS };

struct ccmm_sim;

/*
 * ccmm_sim_create - a scheduler for machine @m following @plan (NULL: RUN;
 * the plan's choices must outlive the simulator). It attaches to @m when
 * it runs: @m's kernel threads then become its entities, after the spawned
 * ones. 0 or -ENOMEM. For the engine and for library users without a job.
 */
int ccmm_sim_create(struct ccmm_machine *m, enum ccmm_sim_mode mode, const struct ccmm_sched_plan *plan,
		    struct ccmm_sim **out);

/*
 * ccmm_sim_spawn - a new entity @se (initialised by the caller, with its
 * clock) running @fn(@arg) once ccmm_sim_run() runs. 0, -ENOMEM, or
 * pthread_create's error in threads mode.
 */
int ccmm_sim_spawn(struct ccmm_sim *sim, struct ccmm_sched_entity *se, int (*fn)(void *arg), void *arg);

/*
 * ccmm_sim_run - attach to the machine (-EBUSY when another scheduler runs
 * it, or a kernel thread's start error), then run until every spawned
 * entity returned. When nothing can
 * run: the sleeper with the earliest deadline times out; else the lowest
 * killable sleeper's sleep ends with -EDEADLK (a livelock the engine saw);
 * else it is a deadlock. Returns 0; -EDEADLK (a deadlock: ccmm_sim_sleeper
 * says who waits for what); -E2BIG (the plan's step bound); -ECANCELED
 * (ccmm_sim_abort); -EINVAL (a replayed choice that cannot run).
 */
int ccmm_sim_run(struct ccmm_sim *sim);

/* Stop at the next switch: ccmm_sim_run returns -ECANCELED (a run error elsewhere). Any thread. */
void ccmm_sim_abort(struct ccmm_sim *sim);

/*
 * ccmm_sim_set_stall - when nothing can run and no sleeper can time out or
 * be told it was livelocked, call @fn(@arg) before declaring a deadlock:
 * it may wake sleepers (ccmm_wake_up_*) and returns whether it did; if it
 * did, the run goes on. Called by the scheduler (no entity current, no
 * lock of the simulator held). Set before ccmm_sim_run.
 */
void ccmm_sim_set_stall(struct ccmm_sim *sim, bool (*fn)(void *arg), void *arg);

/*
 * The @i-th spawned entity that has not returned, and what it sleeps on
 * (NULL while it could run): for deadlock reports. NULL past the end.
 */
struct ccmm_sched_entity *ccmm_sim_sleeper(struct ccmm_sim *sim, size_t i, const char **waits_for);

/*
 * Detach from the machine (its kernel threads are stopped), give up the
 * entities that never returned (their sleeps are dequeued and the sleeping
 * locks they hold released, so teardown does not wait for them), free.
 */
void ccmm_sim_destroy(struct ccmm_sim *sim);

/* Decisions taken, and the distinct-interleaving hash (over decisions where more than one entity could run). */
uint64_t ccmm_sim_steps(const struct ccmm_sim *sim);
uint64_t ccmm_sim_hash(const struct ccmm_sim *sim);

/*
 * ccmm_job_run - boot the job's platform and run every actor to the end.
 * Returns 0 and the finished run in *@out, even when violations or op
 * errors happened (see ccmm_run_status). A run that cannot go on (a
 * deadlock between waits, an object used before it exists, a trace that
 * turns out malformed) returns the run with run->error set. Negative
 * errno only when the run could not start (boot failed).
 */
int ccmm_job_run(struct ccmm_job *job, struct ccmm_run **out);

/*
 * ccmm_job_run_plan - ccmm_job_run() in sim mode under @plan (threads
 * mode ignores it). A replayed schedule that does not fit the job is a
 * run error.
 */
int ccmm_job_run_plan(struct ccmm_job *job, const struct ccmm_sched_plan *plan, struct ccmm_run **out);

/*
 * The schedule a run with plan->record took: the entity chosen at each
 * point (@choices, @nr) and the entities' names (@names, @nr_names:
 * actors in job order, then kernel threads). False when nothing was
 * recorded.
 */
bool ccmm_run_schedule(struct ccmm_run *run, const uint32_t **choices, size_t *nr, const char *const **names,
		       size_t *nr_names);

/*
 * ccmm_run_interleaving - print the recorded interleaving: each stretch
 * one entity ran, from which op to where it stopped (the lock, wake or
 * fault it gave way at, or what it slept on). Returns 0 or -EIO.
 */
int ccmm_run_interleaving(struct ccmm_run *run, FILE *out);

/*
 * ccmm_schedule_write - the recorded schedule of @run as a schedule file at
 * @path (complete or not at all). 0, -ENODATA (nothing recorded), -errno.
 */
int ccmm_schedule_write(struct ccmm_run *run, const char *path);

/*
 * ccmm_schedule_read - a schedule file into @plan (REPLAY; the choices are
 * allocated: ccmm_schedule_free). Its entities must be @job's. 0, or
 * -EINVAL / -ENOENT / -ENOMEM with @err at the offending line.
 */
int ccmm_schedule_read(const char *path, const struct ccmm_job *job, struct ccmm_sched_plan *plan,
		       struct ccmm_error *err);
void ccmm_schedule_free(struct ccmm_sched_plan *plan);

/* One line of a finished run's lockstat: one entity's figures for one class. */
struct ccmm_run_lockstat {
	const char *entity;         /* the actor's or kernel thread's name */
	int actor;                  /* the actor's index, -1: a kernel thread */
	struct ccmm_lock_stat st;
};

/* The @i-th lockstat line: every entity's classes (actors in job order, then kernel threads). False past the end. */
bool ccmm_run_lockstat(struct ccmm_run *run, size_t i, struct ccmm_run_lockstat *out);

struct ccmm_explore_opts {
	enum ccmm_plan_kind strategy; /* CCMM_PLAN_RANDOM or CCMM_PLAN_PCT */
	uint64_t schedules;         /* at most this many (the first is the default schedule) */
	unsigned depth;             /* PCT's d (0: 3) */
	uint64_t seed;
	uint64_t max_steps;         /* per schedule (0: 1000000) */
	unsigned jobs;              /* parallel processes (0: the CPUs online) */
};

struct ccmm_explore_result {
	uint64_t tried;             /* schedules run up to and including the failing one (or all) */
	uint64_t distinct;          /* distinct interleavings among them */
	uint64_t cut;               /* runs among them cut at the step bound */
	int64_t failed_at;          /* the first failing schedule's index, -1: none */
	double wall_s;              /* ccmm's own time */
	uint64_t pct_steps;         /* the k PCT used */
};

/*
 * ccmm_explore - run @job (sim mode) under @o->schedules schedules: the
 * first is the default one, the others drawn with @o->strategy from
 * @o->seed (schedule i from a stream of its own), in @o->jobs processes.
 * The answer is the lowest-numbered schedule whose run is not as expected
 * (an unexpected violation, an unmet expectation, an op error, a run error
 * such as a deadlock; a run cut at the step bound is not a failure),
 * whatever the parallelism, so it is deterministic for a seed. That
 * schedule is run again here with its choices recorded: *@failed gets the
 * run (ccmm_run_free it; ccmm_run_interleaving and ccmm_schedule_write
 * give its interleaving and schedule file). Returns 0 (all clean, *@failed
 * NULL), 1 (one failed), or a negative errno (fork, pipe, out of memory).
 */
int ccmm_explore(struct ccmm_job *job, const struct ccmm_explore_opts *o, struct ccmm_explore_result *res,
		 struct ccmm_run **failed);

/* Free a run and its machine (NULL is a no-op). */
void ccmm_run_free(struct ccmm_run *run);

/* Expectation results, for reports. */
struct ccmm_expect_result {
	const struct ccmm_expect *e;
	int actor;                  /* -1: [global] */
	size_t seen;
	bool met;
};

struct ccmm_run_summary {
	size_t violations, expected, unexpected;
	size_t missing;             /* expectations not met */
	size_t op_errors;
	size_t checks_failed;       /* check= lines that failed (once evaluated) */
	int status;                 /* 0: all as expected; 1: not; 2: run error */
};

/* The counts and the exit status (0, 1, 2) a finished run reports. */
void ccmm_run_summarize(struct ccmm_run *run, struct ccmm_run_summary *s);

/*
 * Whether event @e was expected: its actor (or [global]) has an expect= for
 * its rule. Used by the reports.
 */
bool ccmm_run_event_expected(struct ccmm_run *run, const struct ccmm_event *e);

/* The @i-th expectation result over all actors and [global]; false past the end. */
bool ccmm_run_expectation(struct ccmm_run *run, size_t i, struct ccmm_expect_result *out);

/* An op that returned an errno its ret= did not announce. */
struct ccmm_op_error {
	int actor;                  /* index in the job */
	struct ccmm_where where;    /* the op's line */
	char verb[32];
	long got, want;             /* negative errnos (0: success) */
	uint64_t time_ns;           /* modeled time it happened */
	char note[160];             /* why, when the kind said (ccmm_op_note) */
	const struct ccmm_op *op;   /* the op (in the job) */
	/*
	 * The op could not run because one it depended on had failed (or the
	 * actor that was to signal or create what it needed had stopped so):
	 * @note names that op and its line ("depends on attach at FILE:LINE,
	 * which failed: -EOPNOTSUPP"); the actor stopped there.
	 */
	bool dependent;
};

/* The @i-th op error of the run, in the order they happened; NULL past the end. */
const struct ccmm_op_error *ccmm_run_op_error(struct ccmm_run *run, size_t i);

/* ---- for actor kinds --------------------------------------------------- */

/*
 * Argument accessors. ccmm_arg_u64 picks a value in the argument's range
 * with the actor's RNG (deterministic per seed). @idx is the index in
 * the verb's arg table.
 */
uint64_t ccmm_arg_u64(struct ccmm_actor *a, const struct ccmm_op *op, int idx);
bool ccmm_arg_set(const struct ccmm_op *op, int idx);
int ccmm_arg_choice(const struct ccmm_op *op, int idx);
const char *ccmm_arg_str(const struct ccmm_op *op, int idx);

/*
 * ccmm_obj_get - resolve an object reference argument: a named object
 * (which must exist by now), "@ADDR" or "bar:DEV[.N]" (returned as a
 * RAW object owned by the run). Returns NULL with a run error set when it
 * does not resolve.
 */
struct ccmm_obj *ccmm_obj_get(struct ccmm_actor *a, const struct ccmm_op *op, int idx);

/* Create object @name (from a NEWOBJ argument); -EEXIST if it exists, -ENOMEM. */
int ccmm_obj_add(struct ccmm_actor *a, const char *name, struct ccmm_obj **out);

/* Remove and free object @o (its kind-specific teardown is the caller's). */
void ccmm_obj_del(struct ccmm_run *run, struct ccmm_obj *o);

/*
 * Signal @event @count times at modeled time @now_ns, as the signal op
 * does (for kinds whose programs signal on their own, e.g. at exit).
 * 0 or -ENOMEM.
 */
int ccmm_run_signal(struct ccmm_run *run, const char *event, uint64_t count, uint64_t now_ns);

/* Explain the op that is failing: the text goes with its op error in the report. */
void ccmm_op_note(struct ccmm_actor *a, const char *fmt, ...) CCMM_PRINTF(2, 3);

/*
 * ccmm_actor_milestone - actor @a reached milestone @name (one of its
 * kind's, or a common one): signal every event the job mapped to it
 * ("milestone = NAME EVENT"), once per call, at the actor's modeled time.
 * No-op when the job mapped none. Call from the actor's own thread.
 */
void ccmm_actor_milestone(struct ccmm_actor *a, const char *name);

/* A process-like actor ends with @status (0, 1-127, or 128+signal) for the reason @why. */
void ccmm_actor_exit(struct ccmm_actor *a, int status, const char *why);

/*
 * Record a run error at the op's line; returns @ret. The run stops. But
 * when one of the op's objects was named by an op that failed at run time
 * (returned a negative errno, announced or not), or was to be created by
 * an actor that has stopped, the op is no run error but an op error that
 * names that op ("map: depends on attach at FILE:LINE, which failed:
 * -EOPNOTSUPP"): the actor stops (dep_failed), the others go on, the run
 * ends "NOT as expected" (exit 1) with both reports.
 */
int ccmm_run_fail(struct ccmm_actor *a, const struct ccmm_op *op, int ret, const char *fmt, ...) CCMM_PRINTF(4, 5);

/* ---- the actor toolkit (toolkit.c): what every kind's verbs need ------ */

/*
 * ccmm_actor_find_device - at load time (an actor kind's check), the index
 * of platform device @name, or a FILE:LINE error naming the actor, with the
 * closest device name as a suggestion: -EINVAL when @name is empty ("needs
 * device=NAME") or not on the platform.
 */
int ccmm_actor_find_device(const struct ccmm_job *job, const struct ccmm_actor *a, const char *name,
			   struct ccmm_error *err);

/*
 * ccmm_outcome_errno - what an op returns for an access outcome: -EFAULT for
 * an exception nobody handled (#PF, #VE, #VC, #MC), -EIO for an aborted or
 * blocked access (a device read the IOMMU, RMP or ultravisor refused), 0
 * otherwise (including scrambled data: the bytes arrive, unreadable).
 */
int ccmm_outcome_errno(const struct ccmm_result *r);

/*
 * ccmm_op_span - the byte range [*@off, *@off + *@len) of an object of
 * @size bytes that an op addresses with its optional offset (arg @off_idx,
 * default 0) and length (arg @len_idx, default: to the end). 0, or -EINVAL
 * when it is empty or runs past @size.
 */
int ccmm_op_span(struct ccmm_actor *a, const struct ccmm_op *op, uint64_t size, int off_idx, int len_idx,
		 uint64_t *off, uint64_t *len);

/*
 * One access of a data path: @len bytes (at most CCMM_MOVE_CHUNK) at byte
 * @off of whatever @arg is, into or out of @buf, outcome in @r. Returns 0
 * or a negative errno (the access could not be made at all).
 */
typedef int (*ccmm_data_fn)(struct ccmm_actor *a, void *arg, enum ccmm_rw rw, uint64_t off, void *buf, size_t len,
			    struct ccmm_result *r);

#define CCMM_MOVE_CHUNK (64 * 1024) /* ccmm_move_data's piece, bytes */

/*
 * ccmm_move_data - a read or write op's data movement: @len bytes from
 * byte @off through @fn, in pieces of CCMM_MOVE_CHUNK. A write fills each
 * piece with the byte @pattern; a read compares every byte with @verify
 * when @verify >= 0 (a scrambled read never verifies). Stops at the first
 * failed piece. Returns 0, @fn's errno, the outcome's (ccmm_outcome_errno),
 * -EBADMSG when a byte read was not @verify, -ENOMEM.
 */
int ccmm_move_data(struct ccmm_actor *a, void *arg, enum ccmm_rw rw, uint64_t off, uint64_t len, int pattern,
		   int verify, ccmm_data_fn fn);

/*
 * The read and write verbs' arguments, the same for every kind:
 *   write OBJ [off=] [len=] [pattern=]     read OBJ [off=] [len=] [verify=]
 * @objname / @objhelp name and describe the object argument. Use as
 *   static const struct ccmm_arg_spec write_args[] = { CCMM_WRITE_ARG_SPECS("obj", "...") };
 */
enum { CCMM_RW_OBJ, CCMM_RW_OFF, CCMM_RW_LEN, CCMM_RW_PAT };

#define CCMM_RW_ARG_SPECS_(objname, objhelp)                                              \
	{ objname, CCMM_ARG_OBJ, true, true, NULL, NULL, objhelp },                       \
	{ "off", CCMM_ARG_SIZE, false, false, NULL, NULL, "byte offset (default 0)" },    \
	{ "len", CCMM_ARG_SIZE, false, false, NULL, NULL, "bytes (default: to the end)" }
#define CCMM_WRITE_ARG_SPECS(objname, objhelp)                                            \
	CCMM_RW_ARG_SPECS_(objname, objhelp),                                             \
	{ "pattern", CCMM_ARG_U64, false, false, NULL, "0x5a", "byte written" }, { NULL }
#define CCMM_READ_ARG_SPECS(objname, objhelp)                                             \
	CCMM_RW_ARG_SPECS_(objname, objhelp),                                             \
	{ "verify", CCMM_ARG_U64, false, false, NULL, NULL,                               \
	  "expected byte; a mismatch returns -EBADMSG" }, { NULL }

/*
 * ccmm_op_rw - a read or write verb with the arguments above over an
 * object of @size bytes: the span (ccmm_op_span), the pattern or the byte
 * to verify, then ccmm_move_data(@arg, @fn). Returns as ccmm_move_data, or
 * -EINVAL for a span outside the object.
 */
int ccmm_op_rw(struct ccmm_actor *a, const struct ccmm_op *op, enum ccmm_rw rw, uint64_t size, void *arg,
	       ccmm_data_fn fn);

/*
 * ccmm_obj_alloc_pages - alloc_pages() into a new PAGES object @name:
 * @size bytes rounded up to a power-of-two block (at most 4 MiB, else a
 * run error naming the op and -EINVAL) on NUMA node @node (-1: any) with
 * @gfp (CCMM_GFP_*). Returns 0, the allocator's errno (-ENOMEM), -EEXIST.
 */
int ccmm_obj_alloc_pages(struct ccmm_actor *a, const struct ccmm_op *op, const char *name, uint64_t size, int node,
			 unsigned gfp);

/*
 * ccmm_obj_free_pages - __free_pages() of a PAGES object and its removal;
 * -EINVAL for another kind of object. When the allocator refuses with
 * -EBUSY (pages still shared or mapped) the object is gone from the
 * actor's hands anyway, leaked as the kernel would leak it.
 */
int ccmm_obj_free_pages(struct ccmm_actor *a, struct ccmm_obj *o);

/* The verbs every actor has: signal, wait, sleep. */
extern const struct ccmm_verb ccmm_common_verbs[];

#pragma GCC visibility pop

#endif /* CCMM_SCENARIO_H */
