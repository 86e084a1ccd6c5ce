// SPDX-License-Identifier: MIT
/*
 * Modeled time by device and kind (platform.h's attribution): what bounce
 * copies, conversions, exits (#VE, TDVMCALLs, hypercalls) and IOTLB misses
 * cost each device, summed over the actors that work for it.
 */
#include <inttypes.h>
#include <string.h>

#include "report/internal.h"

struct per_dev {
	uint64_t ns[CCMM_ATTR_NR], n[CCMM_ATTR_NR], total;
};

/* Sum the actors' attribution; returns how many devices have any. */
static size_t gather(struct ccmm_run *run, struct per_dev *pd, size_t nd)
{
	size_t any = 0;

	memset(pd, 0, nd * sizeof(*pd));
	for (size_t i = 0; i < run->job->nr_actors; i++) {
		const struct ccmm_ctx *c = &run->job->actors[i]->ctx;

		for (size_t d = 0; d < nd; d++)
			for (int k = 0; k < CCMM_ATTR_NR; k++) {
				pd[d].ns[k] += c->attr_ns[d][k];
				pd[d].n[k] += c->attr_n[d][k];
				pd[d].total += c->attr_ns[d][k];
			}
	}
	for (size_t d = 0; d < nd; d++)
		any += pd[d].total != 0;
	return any;
}

static size_t nr_devs(struct ccmm_run *run)
{
	return CCMM_MIN(run->m->plat->nr_devices, (size_t)CCMM_ATTR_DEVS);
}

void _ccmm_attribution_text(struct ccmm_run *run, FILE *out)
{
	struct per_dev pd[CCMM_ATTR_DEVS];
	size_t nd = nr_devs(run);
	static const char *const head[CCMM_ATTR_NR] = { "bounce copies", "conversions", "#VE/hypercalls", "IOTLB misses",
							 "other" };

	if (!gather(run, pd, nd))
		return;
	fprintf(out, "modeled time by device (the actors working for it):\n  %-16s", "device");
	for (int k = 0; k < CCMM_ATTR_NR; k++)
		fprintf(out, " %20s", head[k]);
	fprintf(out, " %10s\n", "total");
	for (size_t d = 0; d < nd; d++) {
		char t[32], sz[32], cell[64];

		if (!pd[d].total)
			continue;
		fprintf(out, "  %-16.16s", run->m->plat->devices[d].name);
		for (int k = 0; k < CCMM_ATTR_NR; k++) {
			if (!pd[d].ns[k])
				snprintf(cell, sizeof(cell), "-");
			else if (k == CCMM_ATTR_BOUNCE)
				snprintf(cell, sizeof(cell), "%s (%s)", ccmm_format_ns(pd[d].ns[k], t, sizeof(t)),
					 ccmm_format_size(pd[d].n[k], sz, sizeof(sz)));
			else if (k == CCMM_ATTR_OTHER)
				snprintf(cell, sizeof(cell), "%s", ccmm_format_ns(pd[d].ns[k], t, sizeof(t)));
			else
				snprintf(cell, sizeof(cell), "%s (%" PRIu64 "x)", ccmm_format_ns(pd[d].ns[k], t, sizeof(t)), pd[d].n[k]);
			fprintf(out, " %20s", cell);
		}
		fprintf(out, " %10s\n", ccmm_format_ns(pd[d].total, t, sizeof(t)));
	}
	fputc('\n', out);
}

json_t *_ccmm_attribution_json(struct ccmm_run *run)
{
	struct per_dev pd[CCMM_ATTR_DEVS];
	size_t nd = nr_devs(run);
	json_t *j;

	if (!gather(run, pd, nd))
		return NULL;
	j = json_object();
	for (size_t d = 0; d < nd; d++) {
		json_t *o;

		if (!pd[d].total)
			continue;
		o = json_object();
		for (int k = 0; k < CCMM_ATTR_NR; k++) {
			json_t *x = json_object();

			json_object_set_new(x, "ns", json_integer((json_int_t)pd[d].ns[k]));
			if (k != CCMM_ATTR_OTHER)
				json_object_set_new(x, k == CCMM_ATTR_BOUNCE ? "bytes" : "n", json_integer((json_int_t)pd[d].n[k]));
			json_object_set_new(o, ccmm_attr_kind_names[k], x);
		}
		json_object_set_new(o, "total_ns", json_integer((json_int_t)pd[d].total));
		json_object_set_new(j, run->m->plat->devices[d].name, o);
	}
	return j;
}
