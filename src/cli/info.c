// SPDX-License-Identifier: MIT
/*
 * What a job and a platform can say, from the tables the readers use:
 * ccmm rules, kinds, ops KIND|global, costs, platform-keys.
 */
#include <inttypes.h>
#include <string.h>

#include "boot/boot.h"
#include "cli/internal.h"
#include "report/report.h"
#include "scenario/scenario.h"

/* Parse a command without options of its own; the operand count must be in [@min, @max]. */
static int operands(const struct cli_command *cmd, int argc, char **argv, int min, int max, int *first)
{
	int ret = _ccmm_cli_parse(cmd, argc, argv, NULL, NULL, first);

	if (ret)
		return ret;
	if (argc - *first < min || argc - *first > max)
		return _ccmm_cli_bad(cmd, "%s (ccmm %s --help)", argc - *first < min ? "needs an argument" : "too many arguments",
				     cmd->name);
	return 0;
}

/* An option's type as the man page and ops/platform-keys print it. */
static void option_rows(const struct ccmm_option *opts, const char *indent)
{
	for (const struct ccmm_option *o = opts; o && o->name; o++) {
		char type[160];

		_ccmm_cli_option_type(o, false, type, sizeof(type));
		printf("%s%-22s %-10s %-10s %s\n", indent, o->name, strlen(type) > 10 ? "enum" : type,
		       _ccmm_cli_option_default(o) ? _ccmm_cli_option_default(o) : "-",
		       o->help);
		if (strlen(type) > 10)
			printf("%s%-22s one of %s\n", indent, "", type);
	}
}

/* ---- rules, kinds ---------------------------------------------------------------- */

static int cmd_rules(const struct cli_command *cmd, int argc, char **argv)
{
	const struct ccmm_rule *r;
	int first, ret = operands(cmd, argc, argv, 0, 0, &first);

	if (ret)
		return ret;
	for (size_t i = 0; (r = ccmm_rule_at(i)); i++)
		printf("%-26s %-5s %s\n", r->name, r->seed[0] ? r->seed : "-", r->summary);
	printf("\nThe second column is the seed thread a rule comes from:\n");
	for (int s = 0; s < 10; s++) {
		char id[8];
		const char *subject;

		snprintf(id, sizeof(id), "%03d", s);
		subject = ccmm_seed_thread_subject(id);
		if (subject)
			printf("  seed thread %s: %s\n", id, subject);
	}
	return CLI_EXIT_OK;
}

const struct cli_command _ccmm_cmd_rules = {
	"rules", "", "every rule the checker enforces, with the seed thread it comes from",
	"One line per rule: the name job files use in expect=, the seed thread (000 to 004, the mail threads "
	"that are ccmm's specification; '-' for rules the kernel's own checks state, such as dma-debug's) and what "
	"a violation means. Each subsystem's man page (ccmm-SUBSYSTEM(7)) says which kernel function or thread "
	"each rule follows.",
	NULL, NULL, cmd_rules,
};

static int cmd_kinds(const struct cli_command *cmd, int argc, char **argv)
{
	const struct ccmm_actor_kind *k;
	int first, ret = operands(cmd, argc, argv, 0, 0, &first);

	if (ret)
		return ret;
	for (size_t i = 0; (k = ccmm_actor_kind_at(i)); i++)
		printf("%-18s %s\n", k->name, k->help);
	return CLI_EXIT_OK;
}

const struct cli_command _ccmm_cmd_kinds = {
	"kinds", "", "the actor kinds a job's sections can use (actor = KIND)",
	"ccmm ops KIND lists a kind's options and ops.", NULL, NULL, cmd_kinds,
};

/* ---- ops --------------------------------------------------------------------------- */

static void print_verb(const struct ccmm_verb *v)
{
	printf("  %s", v->name);
	for (const struct ccmm_arg_spec *a = v->args; a && a->name; a++) {
		if (a->positional && a->required)
			printf(" %s", a->name);
		else if (a->positional)
			printf(" [%s]", a->name);
		else
			printf(" [%s=%s]", a->name, a->def ? a->def : "...");
	}
	printf(" [ret=ERRNO]\n      %s\n", v->help);
}

static int ops_global(void)
{
	const struct ccmm_run_ext *x;

	printf("[global]: every job's global section; the engine's options and each subsystem's\n\n");
	printf("  %-22s %-10s %-10s %s\n", "KEY", "TYPE", "DEFAULT", "MEANING");
	option_rows(ccmm_job_global_options(), "  ");
	for (size_t i = 0; (x = ccmm_run_ext_at(i)); i++) {
		if (!x->options || !x->options->name)
			continue;
		printf("\n  %s:\n", x->name);
		option_rows(x->options, "  ");
	}
	printf("\n  %-22s %-10s %-10s %s\n", "expect", "RULE[:N]", "-",
	       "a violation of no particular actor this job must cause (at least once, or exactly N times)");
	return CLI_EXIT_OK;
}

static int cmd_ops(const struct cli_command *cmd, int argc, char **argv)
{
	const struct ccmm_actor_kind *k;
	int first, ret = operands(cmd, argc, argv, 1, 1, &first);

	if (ret)
		return ret;
	if (!strcmp(argv[first], "global"))
		return ops_global();
	k = ccmm_actor_kind_find(argv[first]);
	if (!k) {
		const char *names[65];
		size_t n = 0;
		const char *near;

		while (n < 64 && (names[n] = ccmm_actor_kind_at(n) ? ccmm_actor_kind_at(n)->name : NULL))
			n++;
		names[n++] = "global";
		near = ccmm_suggest(argv[first], names, n);
		if (near)
			return _ccmm_cli_bad(cmd, "no actor kind '%s'; did you mean '%s'?", argv[first], near);
		return _ccmm_cli_bad(cmd, "no actor kind '%s' (ccmm kinds lists them)", argv[first]);
	}
	printf("%s: %s\noptions:\n", k->name, k->help);
	for (const struct ccmm_option *o = k->options; o && o->name; o++) {
		const char *def = _ccmm_cli_option_default(o);

		printf("  %-16s %s%s%s%s\n", o->name, o->help, def ? " (default " : "", def ? def : "", def ? ")" : "");
	}
	printf("  %-16s %s\n  %-16s %s\n  %-16s %s\n", "expect", "RULE[:COUNT] a violation this actor should cause",
	       "loops", "run the op list N times", "op", "VERB ARGS... (below)");
	printf("  %-16s %s\n  %-16s %s\nops:\n", "check", "PATH OP VALUE: a figure of the report, checked after the run",
	       "milestone", "NAME EVENT: signal EVENT when the actor reaches milestone NAME (below)");
	for (const struct ccmm_verb *v = k->verbs; v && v->name; v++)
		print_verb(v);
	for (const struct ccmm_verb *v = ccmm_common_verbs; v->name; v++)
		print_verb(v);
	printf("milestones:\n");
	for (const struct ccmm_milestone *m = k->milestones; m && m->name; m++)
		printf("  %-16s %s\n", m->name, m->help);
	for (const struct ccmm_milestone *m = ccmm_common_milestones; m->name; m++)
		printf("  %-16s %s\n", m->name, m->help);
	return CLI_EXIT_OK;
}

const struct cli_command _ccmm_cmd_ops = {
	"ops", "KIND|global", "an actor kind's options and ops, or every [global] key",
	"ccmm ops KIND lists what a section with actor = KIND takes: its options with their defaults, expect=, "
	"loops=, and every op with its arguments (positional ones first, then KEY=VALUE ones with their defaults; "
	"ret=ERRNO names the errno the op is expected to return). ccmm ops global lists every key of [global]: "
	"the engine's own (platform, seed, mode, kb_base) and each subsystem's, with type and default.",
	NULL, "kind+global", cmd_ops,
};

/* ---- costs ---------------------------------------------------------------------------- */

static int cmd_costs(const struct cli_command *cmd, int argc, char **argv)
{
	const struct ccmm_cost_info *c;
	const struct ccmm_counter_info *k;
	const char *sub;
	int first, ret = operands(cmd, argc, argv, 0, 0, &first);

	if (ret)
		return ret;
	printf("%-26s %9s %-5s %-10s %s\n", "COST", "DEFAULT", "UNIT", "SUBSYSTEM", "SOURCE");
	for (unsigned i = 0; (c = ccmm_cost_at(i, &sub)); i++) {
		size_t n = strlen(c->name);
		bool mbps = n > 5 && !strcmp(c->name + n - 5, "_mbps");

		printf("%-26s %9" PRIu64 " %-5s %-10s %s\n", c->name, c->def, mbps ? "MB/s" : "ns", sub, c->source);
	}
	printf("\n%-26s %-10s %s\n", "COUNTER", "SUBSYSTEM", "WHAT IT COUNTS");
	for (unsigned i = 0; (k = ccmm_counter_at(i, &sub)); i++)
		printf("%-26s %-10s %s\n", k->name, sub, k->help);
	return CLI_EXIT_OK;
}

const struct cli_command _ccmm_cmd_costs = {
	"costs", "", "every modeled cost with its default and source, and every event counter",
	"A cost is charged per occurrence to the acting actor's modeled clock: nanoseconds per page, call or "
	"line as its name says, or a bandwidth in MB/s (10^6 bytes per second) for the *_mbps ones. Each default "
	"names its source (a paper, a vendor manual, a measurement) or says it is an estimate. A platform file's "
	"[cost] section overrides any of them by name (ccmm-platform(5)). Counters count events per actor; "
	"reports print them.",
	NULL, NULL, cmd_costs,
};

/* ---- platform-keys -------------------------------------------------------------------- */

static int cmd_platform_keys(const struct cli_command *cmd, int argc, char **argv)
{
	const struct ccmm_platform_section *s;
	int first, ret = operands(cmd, argc, argv, 0, 0, &first);

	if (ret)
		return ret;
	for (size_t i = 0; (s = ccmm_platform_section_at(i)); i++) {
		printf("%s[%s]  %s\n", i ? "\n" : "", s->name, s->help);
		if (s->options) {
			printf("  %-22s %-10s %-10s %s\n", "KEY", "TYPE", "DEFAULT", "MEANING");
			option_rows(s->options, "  ");
		}
	}
	return CLI_EXIT_OK;
}

const struct cli_command _ccmm_cmd_platform_keys = {
	"platform-keys", "", "every section and key a platform file can have",
	"The platform file's sections ([platform], [node:N], [ram:NAME], [epc:NAME], [reserved:NAME], "
	"[device:NAME], [iommu:NAME], [cost]) with each key's type, default and meaning, from the tables the "
	"platform reader uses. ccmm costs lists the keys of [cost].",
	NULL, NULL, cmd_platform_keys,
};
