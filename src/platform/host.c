// SPDX-License-Identifier: MIT
/*
 * --platform host: this machine's NUMA topology as a ccmm platform (mode
 * none). hwloc gives nodes, their memory, CPUs, kind and the OS distance
 * matrix; without it, /sys/devices/system/node does. The result is written
 * as platform-file text and parsed, so it is validated like any file.
 */
#include "platform/platform.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ccmm_config.h"

#if CCMM_HAVE_HWLOC
#include <hwloc.h>
#endif

struct host_node {
	unsigned os_index;
	uint64_t mem;
	bool cpus;
	const char *kind;
};

static int emit(char **buf, size_t *len, size_t *cap, const char *fmt, ...) CCMM_PRINTF(4, 5);

static int emit(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if (*buf && *len + (size_t)n < *cap)
			break;
		if (ccmm_grow((void **)buf, cap, *len + (size_t)n + 1, 1))
			return -ENOMEM;
	}
	*len += (size_t)n;
	return 0;
}

static int to_platform(struct host_node *nodes, unsigned n, unsigned *dist, unsigned cpus,
		       struct ccmm_platform **out, struct ccmm_error *err)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int ret;

	ret = emit(&buf, &len, &cap, "[platform]\nname = host\nmode = none\ncpus = %u\n", cpus ? cpus : 1);
	for (unsigned i = 0; !ret && i < n; i++) {
		/* round down to 2 MiB so every node stays chunk-aligned */
		uint64_t mem = CCMM_ALIGN_DOWN(nodes[i].mem, CCMM_PMD_SIZE);

		ret = emit(&buf, &len, &cap, "[node:%u]\nmem = %" PRIu64 "\nkind = %s\ncpus = %s\n", i, mem,
			   nodes[i].kind, nodes[i].cpus ? "yes" : "no");
		if (!ret && dist) {
			ret = emit(&buf, &len, &cap, "distance = ");
			for (unsigned j = 0; !ret && j < n; j++)
				ret = emit(&buf, &len, &cap, "%s%u", j ? "," : "", dist[i * n + j]);
			if (!ret)
				ret = emit(&buf, &len, &cap, "\n");
		}
	}
	if (ret) {
		free(buf);
		return ccmm_error_set(err, NULL, ret, "host: out of memory");
	}
	ret = ccmm_platform_parse("host", buf, out, err);
	free(buf);
	return ret;
}

static int from_sysfs(struct ccmm_platform **out, struct ccmm_error *err)
{
	struct host_node nodes[CCMM_MAX_NODES];
	unsigned ids[CCMM_MAX_NODES], n = 0, dist[CCMM_MAX_NODES * CCMM_MAX_NODES];
	unsigned cpus = 0;
	bool have_dist = true;
	DIR *d = opendir("/sys/devices/system/node");
	struct dirent *e;

	if (!d)
		return ccmm_error_set(err, NULL, -ENOTSUP, "host: no /sys/devices/system/node and no hwloc");
	while ((e = readdir(d))) {
		unsigned id;
		char extra;

		if (sscanf(e->d_name, "node%u%c", &id, &extra) != 1)
			continue;
		if (n == CCMM_MAX_NODES) {
			closedir(d);
			return ccmm_error_set(err, NULL, -E2BIG, "host: more than %d NUMA nodes", CCMM_MAX_NODES);
		}
		ids[n++] = id;
	}
	closedir(d);
	if (!n)
		return ccmm_error_set(err, NULL, -ENOTSUP, "host: no NUMA nodes in /sys/devices/system/node");
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			if (ids[j] < ids[i]) {
				unsigned t = ids[i];

				ids[i] = ids[j];
				ids[j] = t;
			}
	for (unsigned i = 0; i < n; i++) {
		char path[128], line[256];
		FILE *f;

		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].os_index = ids[i];
		nodes[i].kind = "dram";
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%u/meminfo", ids[i]);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			uint64_t kb;

			if (sscanf(line, "Node %*u MemTotal: %" SCNu64 " kB", &kb) == 1)
				nodes[i].mem = kb * 1024;
		}
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%u/cpulist", ids[i]);
		f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f) && line[0] != '\n') {
			unsigned a, b;
			char *tok, *save = NULL;

			nodes[i].cpus = true;
			for (tok = strtok_r(line, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
				if (sscanf(tok, "%u-%u", &a, &b) == 2)
					cpus += b - a + 1;
				else
					cpus++;
			}
		}
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%u/distance", ids[i]);
		f = fopen(path, "r");
		for (unsigned j = 0; j < n; j++)
			if (!f || fscanf(f, "%u", &dist[i * n + j]) != 1)
				have_dist = false;
		if (f)
			fclose(f);
	}
	return to_platform(nodes, n, have_dist ? dist : NULL, cpus, out, err);
}

#if CCMM_HAVE_HWLOC
static int from_hwloc(struct ccmm_platform **out, struct ccmm_error *err)
{
	hwloc_topology_t topo;
	struct host_node nodes[CCMM_MAX_NODES];
	unsigned dist[CCMM_MAX_NODES * CCMM_MAX_NODES];
	bool have_dist = false;
	int n, cpus, ret;

	if (hwloc_topology_init(&topo) || hwloc_topology_load(topo))
		return -ENOTSUP;
	n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
	cpus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	if (n <= 0 || n > CCMM_MAX_NODES) {
		hwloc_topology_destroy(topo);
		return n <= 0 ? -ENOTSUP
			      : ccmm_error_set(err, NULL, -E2BIG, "host: %d NUMA nodes, more than %d", n, CCMM_MAX_NODES);
	}
	for (int i = 0; i < n; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, (unsigned)i);

		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].os_index = o->os_index;
		nodes[i].mem = o->attr->numanode.local_memory;
		nodes[i].cpus = o->cpuset && !hwloc_bitmap_iszero(o->cpuset);
		nodes[i].kind = "dram";
		if (o->subtype && (!strcmp(o->subtype, "NVM") || !strcmp(o->subtype, "SPM")))
			nodes[i].kind = "pmem";
		else if (o->subtype && !strcmp(o->subtype, "MCDRAM"))
			nodes[i].kind = "hbm";
		else if (o->subtype && !strcmp(o->subtype, "CXL-DRAM"))
			nodes[i].kind = "cxl";
	}
	{
		struct hwloc_distances_s *dm = NULL;
		unsigned nr = 1;

		if (!hwloc_distances_get_by_type(topo, HWLOC_OBJ_NUMANODE, &nr, &dm, HWLOC_DISTANCES_KIND_FROM_OS, 0) &&
		    nr >= 1 && dm->nbobjs == (unsigned)n) {
			have_dist = true;
			for (int i = 0; i < n; i++)
				for (int j = 0; j < n; j++) {
					/* distances are indexed by the matrix's own object order */
					unsigned a = 0, b = 0;

					for (unsigned k = 0; k < dm->nbobjs; k++) {
						if (dm->objs[k]->os_index == nodes[i].os_index)
							a = k;
						if (dm->objs[k]->os_index == nodes[j].os_index)
							b = k;
					}
					dist[i * n + j] = (unsigned)dm->values[a * dm->nbobjs + b];
				}
		}
		if (nr >= 1 && dm)
			hwloc_distances_release(topo, dm);
	}
	hwloc_topology_destroy(topo);
	ret = to_platform(nodes, (unsigned)n, have_dist ? dist : NULL, (unsigned)cpus, out, err);
	return ret;
}
#endif

int ccmm_platform_host(struct ccmm_platform **out, struct ccmm_error *err)
{
#if CCMM_HAVE_HWLOC
	int ret = from_hwloc(out, err);

	if (ret != -ENOTSUP)
		return ret;
#endif
	return from_sysfs(out, err);
}
