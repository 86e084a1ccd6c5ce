// SPDX-License-Identifier: MIT
/*
 * Uncontended lock + unlock: ccmm's ww_mutex (without and with an acquire
 * context) against pthread_mutex, in the same run.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "sync/sync.h"

#define ITERS 20000000L
#define RUNS 3

static struct ccmm_ww_class bench_class = CCMM_WW_CLASS_INIT("bench", false);

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void)
{
	pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
	struct ccmm_ww_mutex ww;
	struct ccmm_ww_acquire_ctx acq;
	double best[3] = { 1e30, 1e30, 1e30 };

	ccmm_ww_mutex_init(&ww, &bench_class);
	ccmm_ww_acquire_init(&acq, &bench_class);
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns(), t1;

		for (long i = 0; i < ITERS; i++) {
			pthread_mutex_lock(&pm);
			pthread_mutex_unlock(&pm);
		}
		t1 = now_ns();
		if (t1 - t0 < best[0])
			best[0] = t1 - t0;
		t0 = now_ns();
		for (long i = 0; i < ITERS; i++) {
			ccmm_ww_mutex_lock(NULL, &ww, NULL);
			ccmm_ww_mutex_unlock(NULL, &ww);
		}
		t1 = now_ns();
		if (t1 - t0 < best[1])
			best[1] = t1 - t0;
		t0 = now_ns();
		for (long i = 0; i < ITERS; i++) {
			ccmm_ww_mutex_lock(NULL, &ww, &acq);
			ccmm_ww_mutex_unlock(NULL, &ww);
		}
		t1 = now_ns();
		if (t1 - t0 < best[2])
			best[2] = t1 - t0;
	}
	ccmm_ww_acquire_fini(NULL, &acq);
	printf("uncontended lock + unlock, %ld iterations, best of %d runs\n\n", ITERS, RUNS);
	printf("  %-34s %10s %12s\n", "", "ns/op", "vs pthread");
	printf("  %-34s %10.2f %11.2fx\n", "pthread_mutex", best[0] / ITERS, 1.0);
	printf("  %-34s %10.2f %11.2fx\n", "ww_mutex, no acquire context", best[1] / ITERS, best[1] / best[0]);
	printf("  %-34s %10.2f %11.2fx\n", "ww_mutex, with an acquire context", best[2] / ITERS, best[2] / best[0]);
	return 0;
}
