// SPDX-License-Identifier: MIT
/*
 * fio I/O logs and their replay: the reader (both versions, times, every
 * malformed form with its line), the shipped log in both versions, and the
 * virtio-blk replay run in-process with its figures asserted exactly: bytes
 * bounced, mappings, #VE or TDVMCALL notifies, pool-full failures, the
 * pSeries windows' TCEs and the 32-bit disk that cannot DMA.
 */
#include "helpers.h"

#include <unistd.h>

#include "boot/boot.h"
#include "dma/dma.h"
#include "iolog/iolog.h"
#include "scenario/scenario.h"

#define LOG_V3 CCMM_SOURCE_DIR "/iologs/fio-randrw.v3.log"
#define LOG_V2 CCMM_SOURCE_DIR "/iologs/fio-randrw.v2.log"

static int parse(const char *text, struct ccmm_iolog *log, struct ccmm_error *err)
{
	return ccmm_iolog_parse("t.log", text, strlen(text), log, err);
}

/* A version 3 log: actions, times, what syncs keep, the extremes. */
static void test_parse_v3(void **state)
{
	struct ccmm_iolog log;
	struct ccmm_error err;

	assert_int_equal(parse("fio version 3 iolog\n"
			       "0 /dev/vdb add\n"
			       "3 /dev/vdb open\n"
			       "10 /dev/vdb write 8192 4096\n"
			       "\n"
			       "15 /dev/vdb read 0 65536\n"
			       "15 /dev/vdb sync 123 456\n"
			       "40 /dev/vdb trim 1048576 8192\n"
			       "41 /dev/vdb datasync 0 0\n"
			       "50 /dev/vdb close",
			       &log, &err),
			 0);
	assert_int_equal(log.version, 3);
	assert_int_equal(log.nr_files, 1);
	assert_string_equal(log.files[0], "/dev/vdb");
	assert_int_equal(log.nr_io, 5);
	assert_int_equal(log.io[0].action, CCMM_IOLOG_WRITE);
	assert_int_equal(log.io[0].time_us, 10);
	assert_int_equal(log.io[0].offset, 8192);
	assert_int_equal(log.io[0].line, 4);
	assert_int_equal(log.io[1].line, 6); /* the blank line is counted */
	assert_int_equal(log.io[2].action, CCMM_IOLOG_SYNC);
	assert_int_equal(log.io[2].len, 0);  /* a sync flushes the device */
	assert_int_equal(log.io[3].action, CCMM_IOLOG_TRIM);
	assert_int_equal(log.io[4].time_us, 41);
	assert_int_equal(log.count[CCMM_IOLOG_READ], 1);
	assert_int_equal(log.bytes[CCMM_IOLOG_TRIM], 8192);
	assert_int_equal(log.max_len, 65536);
	assert_int_equal(log.max_len_line, 6);
	assert_int_equal(log.max_end, 1048576 + 8192);
	assert_int_equal(log.max_end_line, 8);
	assert_int_equal(log.duration_us, 50);
	ccmm_iolog_free(&log);
}

/* Version 2: times come from waits; fio drops waits below 100 us. */
static void test_parse_v2(void **state)
{
	struct ccmm_iolog log;
	struct ccmm_error err;

	assert_int_equal(parse("fio version 2 iolog\r\n"
			       "a add\n"
			       "b add\n"
			       "a open\n"
			       "b open\n"
			       "a read 0 512\n"
			       "a wait 50 0\n"
			       "b write 512 512\n"
			       "a wait 250 0\n"
			       "b wait 100 0\n"
			       "a read 1024 512\n",
			       &log, &err),
			 0);
	assert_int_equal(log.version, 2);
	assert_int_equal(log.nr_files, 2);
	assert_int_equal(log.nr_io, 3);
	assert_int_equal(log.io[0].time_us, 0);
	assert_int_equal(log.io[1].time_us, 0);
	assert_int_equal(log.io[1].file, 1);
	assert_int_equal(log.io[2].time_us, 350);
	ccmm_iolog_free(&log);
}

/* Every malformed form: the message and its line. */
static void test_parse_errors(void **state)
{
	static const struct {
		const char *text, *msg;
		int line;
	} cases[] = {
		{ "", "empty file", 0 },
		{ "hello\n", "not an fio I/O log", 1 },
		{ "fio version 4 iolog\n", "version 4: only versions 2 and 3", 1 },
		{ "fio version 3 iolog\n0 f add\n1 f open\n2 f read 0\n", "truncated line: an I/O line is TIMESTAMP FILE", 4 },
		{ "fio version 2 iolog\nf add\nf open\nf read\n", "truncated line: 'read' needs an offset and a length", 4 },
		{ "fio version 2 iolog\nf\n", "truncated line: expected FILE ACTION", 2 },
		{ "fio version 3 iolog\nx f add\n", "starts with a timestamp in microseconds, not 'x'", 2 },
		{ "fio version 2 iolog\nf add\nf open\nf raed 0 4096\n", "unknown action 'raed'; did you mean 'read'?", 4 },
		{ "fio version 2 iolog\nf add\nf opne\n", "unknown action 'opne'; did you mean 'open'?", 3 },
		{ "fio version 2 iolog\nf add\nf open\nf read -1 4096\n", "must be decimal numbers, not '-1'", 4 },
		{ "fio version 2 iolog\nf add\nf open\nf read 99999999999999999999 1\n", "does not fit in 64 bits", 4 },
		{ "fio version 2 iolog\nf add\nf open\nf read 18446744073709551615 1\n", "offset + length overflows", 4 },
		{ "fio version 2 iolog\nf add\nf open\nf write 0 0\n", "a write of 0 bytes", 4 },
		{ "fio version 2 iolog\nf open\n", "'open' of file 'f', which was never added", 2 },
		{ "fio version 2 iolog\nf add\nf add\n", "file 'f' is added twice", 3 },
		{ "fio version 2 iolog\nf add\nf open\nf open\n", "file 'f' is opened twice", 4 },
		{ "fio version 2 iolog\nf add\nf close\n", "close of file 'f', which is not open", 3 },
		{ "fio version 2 iolog\nf add\ng read 0 1\n", "read on file 'g', which was never added", 3 },
		{ "fio version 2 iolog\nf add\nf open\nf close 0 1\n", "'close' takes no offset or length", 4 },
		{ "fio version 2 iolog\nf add\nf open\nf read 0 1 2 3 4\n", "too many fields", 4 },
		{ "fio version 3 iolog\n0 f add\n1 f open\n2 f wait 100 0\n", "'wait' is not allowed in a version 3 log", 4 },
		{ "fio version 3 iolog\n5 f add\n4 f open\n", "timestamp 4 us is before the previous line's 5 us", 3 },
		{ "fio version 2 iolog\nf add\nf open\n", "the log has no I/O to replay", 0 },
		/* times whose nanoseconds do not fit in 64 bits: the modeled clock cannot reach them */
		{ "fio version 3 iolog\n0 f add\n1 f open\n18446744073709552 f read 0 1\n",
		  "timestamp 18446744073709552 us goes past the end of the modeled clock", 4 },
		{ "fio version 3 iolog\n18446744073709551615 f add\n", "timestamp 18446744073709551615 us goes past", 2 },
		{ "fio version 2 iolog\nf add\nf open\nf wait 18446744073709551 0\nf wait 100 0\n",
		  "a wait of 100 us after 18446744073709551 us goes past the end of the modeled clock", 5 },
	};

	for (size_t i = 0; i < CCMM_ARRAY_SIZE(cases); i++) {
		struct ccmm_iolog log;
		struct ccmm_error err;

		memset(&err, 0, sizeof(err));
		if (parse(cases[i].text, &log, &err) != -EINVAL)
			fail_msg("case %zu parsed", i);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
		assert_int_equal(err.line, cases[i].line);
		assert_int_equal(log.nr_io, 0); /* nothing kept */
		assert_null(log.io);
	}
	{
		/* the last microsecond the clock holds is fine */
		struct ccmm_iolog log;
		struct ccmm_error err;
		const char *t = "fio version 3 iolog\n0 f add\n1 f open\n18446744073709551 f read 0 1\n";

		assert_int_equal(parse(t, &log, &err), 0);
		assert_int_equal(log.io[0].time_us, CCMM_IOLOG_MAX_US);
		ccmm_iolog_free(&log);
	}
	{
		struct ccmm_iolog log;
		struct ccmm_error err;
		char bin[] = "fio version 2 iolog\nf add\0junk\n";

		assert_int_equal(ccmm_iolog_parse("b.log", bin, sizeof(bin) - 1, &log, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "binary data"));
		assert_int_equal(ccmm_iolog_load("/nonexistent/x.log", &log, &err), -ENOENT);
	}
}

/* The shipped log: the same I/O in both versions; v2's waits never run ahead of v3's timestamps. */
static void test_shipped_logs(void **state)
{
	struct ccmm_iolog v3, v2;
	struct ccmm_error err;

	assert_int_equal(ccmm_iolog_load(LOG_V3, &v3, &err), 0);
	assert_int_equal(ccmm_iolog_load(LOG_V2, &v2, &err), 0);
	assert_int_equal(v3.version, 3);
	assert_int_equal(v2.version, 2);
	assert_int_equal(v3.nr_io, 132);
	assert_int_equal(v3.nr_io, v2.nr_io);
	for (size_t i = 0; i < v3.nr_io; i++) {
		assert_int_equal(v3.io[i].action, v2.io[i].action);
		assert_int_equal(v3.io[i].offset, v2.io[i].offset);
		assert_int_equal(v3.io[i].len, v2.io[i].len);
		assert_true(v2.io[i].time_us <= v3.io[i].time_us);
		if (i)
			assert_true(v3.io[i].time_us >= v3.io[i - 1].time_us);
	}
	assert_int_equal(v3.count[CCMM_IOLOG_READ] + v3.count[CCMM_IOLOG_WRITE] + v3.count[CCMM_IOLOG_SYNC], 132);
	assert_true(v3.max_len <= 65536);
	ccmm_iolog_free(&v3);
	ccmm_iolog_free(&v2);
}

/* ---- the replay, in-process ------------------------------------------------------------------ */

struct replayed {
	struct ccmm_job *job;
	struct ccmm_run *run;
};

static struct replayed replay(const char *text)
{
	struct replayed r;
	struct ccmm_error err;

	if (ccmm_job_load("replay.job", text, NULL, &r.job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(ccmm_job_run(r.job, &r.run), 0);
	if (r.run->error[0])
		fail_msg("run error: %s", r.run->error);
	return r;
}

static void done(struct replayed *r)
{
	ccmm_run_free(r->run);
	ccmm_job_free(r->job);
}

static const uint64_t *ctr(struct replayed *r, size_t actor)
{
	return r->run->job->actors[actor]->ctx.ctr;
}

/* What a replay of @log bounces, by the kernel's rules: in at every map, out at FROM_DEVICE unmaps. */
static uint64_t expected_bounce(const struct ccmm_iolog *log)
{
	return log->nr_io * (16 + 1 + 1) + log->bytes[CCMM_IOLOG_READ] * 2 + log->bytes[CCMM_IOLOG_WRITE];
}

static void test_replay_tdx(void **state)
{
	struct ccmm_iolog log;
	struct ccmm_error err;
	struct replayed r;
	struct ccmm_swiotlb_stats s;

	assert_int_equal(ccmm_iolog_load(LOG_V3, &log, &err), 0);
	r = replay("[global]\nplatform=default\n[disk]\nactor=virtio_blk_replay\ndevice=virtio-blk0\niolog=" LOG_V3 "\n");
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, io_requests)], 132);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, io_failed)], 0);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, io_mismatches)], 0);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, dma_maps)], 2 * 132 + log.count[CCMM_IOLOG_READ] + log.count[CCMM_IOLOG_WRITE]);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, dma_maps)], ctr(&r, 0)[CCMM_CTR_AT(dma, dma_unmaps)]);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes)], expected_bounce(&log));
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_ve_exceptions], (132 + 15) / 16); /* a notify per batch of 16 */
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, coherent_pages_converted)], 1);       /* the virtqueue */
	ccmm_swiotlb_stats(ccmm_swiotlb_default(r.run->m), &s);
	assert_int_equal(s.io_tlb_nslabs, 524288); /* 1 GiB: 6% of 64 GiB, clamped */
	assert_int_equal(s.io_tlb_used, 0);
	assert_true(s.io_tlb_used_hiwater > 0 && s.io_tlb_used_hiwater <= ctr(&r, 0)[CCMM_CTR_AT(swiotlb, swiotlb_slots)]);
	assert_int_equal(s.share_pages, 262144);
	assert_int_equal(ccmm_violations_count(r.run->m, NULL, CCMM_ANY_ACTOR), 0);
	done(&r);

	/* paravirtual MMIO: the same notifies without #VE */
	r = replay("[global]\nplatform=" CCMM_SOURCE_DIR "/tests/jobs/tdx-replay-paravirt.ini\n"
		   "[disk]\nactor=virtio_blk_replay\ndevice=virtio-blk0\niolog=" LOG_V2 "\nqueue_depth=32\n");
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, io_requests)], 132);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_ve_exceptions], 0);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, mmio_pv_calls)], (132 + 31) / 32);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes)], expected_bounce(&log));
	assert_int_equal(ccmm_violations_count(r.run->m, NULL, CCMM_ANY_ACTOR), 0);
	done(&r);

	/* stall=yes waits for each request's timestamp, as fio replays by default */
	r = replay("[global]\nplatform=" CCMM_SOURCE_DIR "/tests/jobs/tdx-replay-paravirt.ini\n"
		   "[disk]\nactor=virtio_blk_replay\ndevice=virtio-blk0\niolog=" LOG_V3 "\nstall=yes\nqueue_depth=1\n");
	assert_true(r.run->job->actors[0]->ctx.now_ns >= log.io[log.nr_io - 1].time_us * 1000);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, mmio_pv_calls)], 132);
	done(&r);
	ccmm_iolog_free(&log);
}

/* A pool too small for the queue depth: requests fail with "pool full", counted; the rest complete intact. */
static void test_replay_pool_full(void **state)
{
	struct replayed r;
	struct ccmm_dma *dm;
	struct ccmm_swiotlb_stats s;
	const uint64_t *c;

	r = replay("[global]\nplatform=" CCMM_SOURCE_DIR "/tests/jobs/tdx-two-disks.ini\n"
		   "[disk]\nactor=virtio_blk_replay\ndevice=virtio-blk0\niolog=" LOG_V3 "\nqueue_depth=256\n");
	c = ctr(&r, 0);
	/* 4 MiB pool, 2048 slots: 256 requests at once do not fit */
	assert_true(c[CCMM_CTR_AT(dma, io_failed)] > 0);
	assert_int_equal(c[CCMM_CTR_AT(dma, io_requests)] + c[CCMM_CTR_AT(dma, io_failed)], 132);
	assert_int_equal(c[CCMM_CTR_AT(dma, io_mismatches)], 0);
	assert_true(c[CCMM_CTR_AT(swiotlb, dma_map_fail_pool_full)] >= c[CCMM_CTR_AT(dma, io_failed)]);
	ccmm_swiotlb_stats(ccmm_swiotlb_default(r.run->m), &s);
	assert_int_equal(s.full, c[CCMM_CTR_AT(swiotlb, dma_map_fail_pool_full)]);
	assert_true(s.io_tlb_used_hiwater > 2048 - 40); /* filled to the brim */
	assert_int_equal(s.io_tlb_used, 0);
	dm = ccmm_subsys_data(r.run->m, &ccmm_subsys_dma);
	assert_int_equal(atomic_load(&dm->fail[CCMM_DMA_FAIL_POOL_FULL]), c[CCMM_CTR_AT(swiotlb, dma_map_fail_pool_full)]);
	assert_int_equal(ccmm_violations_count(r.run->m, NULL, CCMM_ANY_ACTOR), 0);
	done(&r);
}

/* Seed 002 in the replay: the DDW choice strands the 32-bit disk; the 32-bit window serves both. */
static void test_replay_pseries(void **state)
{
	struct replayed r;
	struct ccmm_iommu_unit *u;

	r = replay("[global]\nplatform=" CCMM_SOURCE_DIR "/tests/jobs/pseries-svm-disks.ini\n"
		   "[disk64]\nactor=virtio_blk_replay\ndevice=virtio-blk0\niolog=" LOG_V3 "\nwindow=ddw\n"
		   "[disk32]\nactor=virtio_blk_replay\ndevice=virtio-blk32\niolog=" LOG_V2 "\nwindow=ddw\n"
		   "expect=dma_window_unreachable:1\n");
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, io_requests)], 132);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(iommu, tce_entries)], 4096 + 1); /* 256 MiB of 64 KiB TCEs, and the ring's */
	assert_int_equal(ctr(&r, 1)[CCMM_CTR_AT(dma, io_requests)], 0);
	assert_int_equal(ctr(&r, 1)[CCMM_CTR_AT(dma, io_failed)], 132);
	assert_int_equal(ctr(&r, 1)[CCMM_CTR_AT(dma, dma_map_fail_window)], 1);
	assert_int_equal(nviol(r.run->m, "dma_window_unreachable"), 1);
	u = ccmm_iommu_unit_of(r.run->m, 0);
	assert_int_equal(u->ddw->fixed_hi - u->ddw->fixed_lo, 256 * CCMM_MiB);
	assert_int_equal(u->dma32->entries_written, 0);
	done(&r);

	r = replay("[global]\nplatform=" CCMM_SOURCE_DIR "/tests/jobs/pseries-svm-disks.ini\n"
		   "[disk64]\nactor=virtio_blk_replay\ndevice=virtio-blk0\niolog=" LOG_V3 "\nwindow=dma32\n"
		   "[disk32]\nactor=virtio_blk_replay\ndevice=virtio-blk32\niolog=" LOG_V2 "\nwindow=dma32\n");
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, io_requests)], 132);
	assert_int_equal(ctr(&r, 1)[CCMM_CTR_AT(dma, io_requests)], 132);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, io_mismatches)] + ctr(&r, 1)[CCMM_CTR_AT(dma, io_mismatches)], 0);
	u = ccmm_iommu_unit_of(r.run->m, 0);
	assert_null(u->ddw);
	assert_int_equal(u->dma32->entries_written, 16384 + 2); /* the 64 MiB pool once, and two rings */
	assert_int_equal(ccmm_violations_count(r.run->m, NULL, CCMM_ANY_ACTOR), 0);
	done(&r);
}

/* Trims and flushes: discard and flush requests (header and status only) complete; reads after a trim are intact. */
static void test_replay_trim_flush(void **state)
{
	char path[] = "/tmp/ccmm-iolog-XXXXXX", job[512];
	const char *text = "fio version 3 iolog\n0 d add\n0 d open\n1 d write 0 8192\n2 d trim 0 4096\n"
			   "3 d datasync 0 0\n4 d read 0 8192\n5 d sync 0 0\n6 d close\n";
	int fd = mkstemp(path);
	struct replayed r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(job, sizeof(job),
		 "[global]\nplatform=" CCMM_SOURCE_DIR "/tests/jobs/tdx-replay-paravirt.ini\n"
		 "[disk]\nactor=virtio_blk_replay\ndevice=virtio-blk0\niolog=%s\nqueue_depth=1\n",
		 path);
	r = replay(job);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, io_requests)], 5);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, io_failed)], 0);
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, io_mismatches)], 0);
	/* header and status for all five, data for the write and the read */
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(dma, dma_maps)], 5 * 2 + 2);
	/* in: 16 per header (32 for the discard), 1 per status; out: 1 per status; data 8 KiB in twice, out once */
	assert_int_equal(ctr(&r, 0)[CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes)], 4 * 16 + 32 + 5 * 2 + 3 * 8192);
	assert_int_equal(ccmm_violations_count(r.run->m, NULL, CCMM_ANY_ACTOR), 0);
	done(&r);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v3),
		cmocka_unit_test(test_parse_v2),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_shipped_logs),
		cmocka_unit_test(test_replay_tdx),
		cmocka_unit_test(test_replay_pool_full),
		cmocka_unit_test(test_replay_pseries),
		cmocka_unit_test(test_replay_trim_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
