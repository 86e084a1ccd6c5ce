// SPDX-License-Identifier: MIT
/*
 * Demotion targets: abstract distances, memory tiers, the two orders
 * (memory tiers; the 2021 series' passes) and explicit targets.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "tier/tier.h"

/* Default performance of a DRAM node when the platform gives none (estimates). */
#define DRAM_LATENCY_NS 81
#define DRAM_BANDWIDTH_MBPS 20000

int ccmm_node_abstract_distance(const struct ccmm_platform *p, int node)
{
	const struct ccmm_node_desc *n = &p->node[node];
	uint64_t ref_lat = DRAM_LATENCY_NS, ref_bw = DRAM_BANDWIDTH_MBPS;

	if (n->read_latency_ns && n->bandwidth_mbps) {
		/* the first CPU DRAM node with figures is the reference */
		for (unsigned i = 0; i < p->nr_nodes; i++) {
			const struct ccmm_node_desc *r = &p->node[i];

			if (r->kind == CCMM_MEM_DRAM && r->has_cpus && r->read_latency_ns && r->bandwidth_mbps) {
				ref_lat = r->read_latency_ns;
				ref_bw = r->bandwidth_mbps;
				break;
			}
		}
		/*
		 * mt_perf_to_adistance: in direct proportion to latency, in
		 * inverse proportion to bandwidth, DRAM's figures as the base
		 * (evaluated left to right, as the kernel does).
		 */
		return (int)((uint64_t)CCMM_MEMTIER_ADISTANCE_DRAM * n->read_latency_ns / ref_lat * ref_bw /
			     n->bandwidth_mbps);
	}
	switch (n->kind) {
	case CCMM_MEM_PMEM:
		return CCMM_MEMTIER_ADISTANCE_PMEM;
	case CCMM_MEM_CXL:
		return CCMM_MEMTIER_ADISTANCE_DRAM * 2;
	case CCMM_MEM_HBM:
		return CCMM_MEMTIER_ADISTANCE_DRAM * 3 / 4;
	default:
		return CCMM_MEMTIER_ADISTANCE_DRAM;
	}
}

static bool node_has_memory(const struct ccmm_platform *p, int n)
{
	return ccmm_platform_ram(p, n) > 0;
}

/*
 * find_next_best_node(): the nearest node not in @used, preferring
 * CPU-less nodes and (slightly) higher-numbered ones; marks it used.
 */
static int find_next_best_node(const struct ccmm_platform *p, const bool *online, int node, uint32_t *used)
{
	int best = CCMM_NO_NODE, min_val = INT_MAX;

	if (!(*used & (1u << node))) {
		*used |= 1u << node;
		return node;
	}
	for (int n = 0; n < (int)p->nr_nodes; n++) {
		int val;

		if ((*used & (1u << n)) || !online[n] || !node_has_memory(p, n))
			continue;
		val = (int)p->distance[node][n];
		val += n < node;              /* penalise nodes under us */
		if (p->node[n].has_cpus)
			val += 1;             /* PENALTY_FOR_NODE_WITH_CPUS */
		val *= CCMM_MAX_NODES;        /* no node_load: it is an allocator-build detail */
		if (val < min_val) {
			min_val = val;
			best = n;
		}
	}
	if (best >= 0)
		*used |= 1u << best;
	return best;
}

static void compute_passes(const struct ccmm_platform *p, const bool *online, struct ccmm_demotion *d)
{
	uint32_t used = 0, this_pass, next_pass = 0;
	int target[CCMM_MAX_NODES];

	for (int n = 0; n < CCMM_MAX_NODES; n++)
		target[n] = CCMM_NO_NODE;
	/* allocations go close to CPUs first: the paths start at CPU nodes */
	for (int n = 0; n < (int)p->nr_nodes; n++)
		if (online[n] && p->node[n].has_cpus)
			next_pass |= 1u << n;
	while (next_pass) {
		this_pass = next_pass;
		next_pass = 0;
		/* sources of this pass can never become targets: no cycles */
		used |= this_pass;
		for (int n = 0; n < (int)p->nr_nodes; n++) {
			int t;

			if (!(this_pass & (1u << n)) || target[n] != CCMM_NO_NODE)
				continue;
			t = find_next_best_node(p, online, n, &used);
			if (t == CCMM_NO_NODE)
				continue;
			target[n] = t;
			next_pass |= 1u << t;
		}
	}
	for (int n = 0; n < (int)p->nr_nodes; n++) {
		d->preferred[n] = target[n] >= 0 ? 1u << target[n] : 0;
		/* one target, and the nodes further down its path */
		d->allowed[n] = 0;
		for (int t = target[n], steps = 0; t >= 0 && steps < CCMM_MAX_NODES; t = target[t], steps++)
			d->allowed[n] |= 1u << t;
	}
}

static void compute_tiers(const struct ccmm_platform *p, const bool *online, struct ccmm_demotion *d)
{
	uint32_t memory = 0;

	for (int n = 0; n < (int)p->nr_nodes; n++)
		if (online[n] && node_has_memory(p, n))
			memory |= 1u << n;
	for (int ti = 0; ti < d->nr_tiers; ti++) {
		uint32_t lower = 0;

		for (int tj = ti + 1; tj < d->nr_tiers; tj++)
			lower |= d->tier_nodes[tj];
		for (int n = 0; n < (int)p->nr_nodes; n++) {
			uint32_t next;
			int best = INT_MAX;

			if (!(d->tier_nodes[ti] & (1u << n)))
				continue;
			d->allowed[n] = lower & memory;
			d->preferred[n] = 0;
			if (ti + 1 >= d->nr_tiers)
				continue; /* the last tier: terminal */
			/* the best-distance nodes of the next tier */
			next = d->tier_nodes[ti + 1] & memory;
			for (int t = 0; t < (int)p->nr_nodes; t++)
				if ((next & (1u << t)) && (int)p->distance[n][t] < best)
					best = (int)p->distance[n][t];
			for (int t = 0; t < (int)p->nr_nodes; t++)
				if ((next & (1u << t)) && (int)p->distance[n][t] == best)
					d->preferred[n] |= 1u << t;
		}
	}
}

int ccmm_demotion_compute(const struct ccmm_platform *p, const bool *online_in, enum ccmm_demotion_order order,
			  struct ccmm_demotion *d)
{
	bool online[CCMM_MAX_NODES];
	uint64_t gen = d->generation;

	memset(d, 0, sizeof(*d));
	d->generation = gen + 1;
	for (int n = 0; n < CCMM_MAX_NODES; n++) {
		online[n] = n < (int)p->nr_nodes && (online_in ? online_in[n] : p->node[n].online);
		d->online[n] = online[n];
		d->adist[n] = n < (int)p->nr_nodes ? ccmm_node_abstract_distance(p, n) : 0;
	}
	/* tiers: online nodes with memory grouped by adistance >> 7, fastest first */
	for (int n = 0; n < (int)p->nr_nodes; n++) {
		int id = d->adist[n] >> CCMM_MEMTIER_CHUNK_BITS, pos;

		if (!online[n] || !node_has_memory(p, n))
			continue;
		for (pos = 0; pos < d->nr_tiers && d->tier_id[pos] < id; pos++)
			;
		if (pos < d->nr_tiers && d->tier_id[pos] == id) {
			d->tier_nodes[pos] |= 1u << n;
			continue;
		}
		memmove(&d->tier_nodes[pos + 1], &d->tier_nodes[pos], (size_t)(d->nr_tiers - pos) * sizeof(uint32_t));
		memmove(&d->tier_id[pos + 1], &d->tier_id[pos], (size_t)(d->nr_tiers - pos) * sizeof(int));
		d->tier_nodes[pos] = 1u << n;
		d->tier_id[pos] = id;
		d->nr_tiers++;
	}
	/*
	 * top_tier_adistance: from the slowest tier up, the first tier with a
	 * node that has CPUs, and every tier above it, are top tiers; a node
	 * without memory has no tier and counts as top (node_is_toptier).
	 */
	for (int ti = d->nr_tiers - 1; ti >= 0; ti--) {
		bool cpus = false;

		for (int n = 0; n < (int)p->nr_nodes; n++)
			if ((d->tier_nodes[ti] & (1u << n)) && p->node[n].has_cpus)
				cpus = true;
		if (!cpus)
			continue;
		for (int tj = 0; tj <= ti; tj++)
			d->toptier |= d->tier_nodes[tj];
		break;
	}
	for (int n = 0; n < (int)p->nr_nodes; n++)
		if (online[n] && !node_has_memory(p, n))
			d->toptier |= 1u << n;
	if (order == CCMM_DEMOTE_PASSES)
		compute_passes(p, online, d);
	else
		compute_tiers(p, online, d);
	/* explicit targets override; they must point down the tiers, at online nodes */
	for (int n = 0; n < (int)p->nr_nodes; n++) {
		int t = p->node[n].demote_to;

		if (t == -2 || !online[n])
			continue;
		if (t == -1) {
			d->preferred[n] = d->allowed[n] = 0;
			continue;
		}
		if (!online[t])
			return -ENODEV;
		if ((d->adist[t] >> CCMM_MEMTIER_CHUNK_BITS) <= (d->adist[n] >> CCMM_MEMTIER_CHUNK_BITS))
			return -EINVAL;
		d->preferred[n] = 1u << t;
		d->allowed[n] |= 1u << t;
	}
	/* no node may be offline in a mask */
	for (int n = 0; n < CCMM_MAX_NODES; n++) {
		uint32_t mask = 0;

		for (int t = 0; t < CCMM_MAX_NODES; t++)
			if (online[t])
				mask |= 1u << t;
		d->preferred[n] &= mask;
		d->allowed[n] &= mask;
	}
	return 0;
}

int ccmm_next_demotion_node(const struct ccmm_demotion *d, int node, struct ccmm_rng *rng)
{
	uint32_t pref = node >= 0 && node < CCMM_MAX_NODES ? d->preferred[node] : 0;
	int count = __builtin_popcount(pref), pick;

	if (!count)
		return CCMM_NO_NODE;
	pick = count > 1 && rng ? (int)ccmm_rng_range(rng, 0, (uint64_t)count - 1) : 0;
	for (int t = 0; t < CCMM_MAX_NODES; t++) {
		if (!(pref & (1u << t)))
			continue;
		if (!pick--)
			return t;
	}
	return CCMM_NO_NODE;
}
