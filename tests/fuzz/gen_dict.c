// SPDX-License-Identifier: MIT
/*
 * gen_dict OUT BASE: the job-file dictionary for the fuzzers, from what is
 * registered (actor kinds, their options, verbs, arguments and choices, the
 * common verbs, the run extensions' [global] options, the rules), appended
 * to the hand-written BASE (section syntax, [global]'s own options). It is
 * made at build time, so it never lags behind a new verb.
 */
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "scenario/scenario.h"

static FILE *out;

/* libFuzzer's dictionary syntax: "..." with \\, \" and \xNN escapes */
static void escaped(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static void word(const char *prefix, const char *w, const char *suffix)
{
	fputc('"', out);
	escaped(prefix);
	escaped(w);
	escaped(suffix);
	fputs("\"\n", out);
}

static void options(const struct ccmm_option *o)
{
	for (; o && o->name; o++) {
		word("", o->name, " = ");
		for (size_t i = 0; o->choices && o->choices[i]; i++)
			word("", o->choices[i], "");
	}
}

static void verbs(const struct ccmm_verb *v)
{
	for (; v && v->name; v++) {
		word("op = ", v->name, " ");
		for (const struct ccmm_arg_spec *a = v->args; a && a->name; a++) {
			word("", a->name, "=");
			for (size_t i = 0; a->choices && a->choices[i]; i++)
				word("", a->choices[i], "");
		}
	}
}

int main(int argc, char **argv)
{
	const struct ccmm_actor_kind *k;
	const struct ccmm_run_ext *x;
	const struct ccmm_rule *r;
	FILE *base;
	char line[512];

	if (argc != 3) {
		fprintf(stderr, "usage: gen_dict OUT BASE\n");
		return 2;
	}
	out = fopen(argv[1], "w");
	base = fopen(argv[2], "r");
	if (!out || !base) {
		perror("gen_dict");
		return 1;
	}
	while (fgets(line, sizeof(line), base))
		fputs(line, out);
	fclose(base);
	for (size_t i = 0; (k = ccmm_actor_kind_at(i)); i++) {
		word("actor = ", k->name, "\n");
		options(k->options);
		verbs(k->verbs);
	}
	verbs(ccmm_common_verbs);
	for (size_t i = 0; (x = ccmm_run_ext_at(i)); i++)
		options(x->options);
	for (size_t i = 0; (r = ccmm_rule_at(i)); i++) {
		word("expect = ", r->name, "");
		word("", r->name, ":1");
	}
	return fclose(out) ? 1 : 0;
}
