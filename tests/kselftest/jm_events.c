// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: events that end a state are never dropped, not even when
 * the queue of events waiting to be sent is full.
 *
 * The target queues events under its lock and sends them from a work item
 * on the system workqueue, which runs on the CPU that queued the first of
 * them.  A SCHED_FIFO task that never sleeps on that CPU keeps the work
 * item from running, so the queue fills up: here with JOB_PAUSED and
 * JOB_RESUMED, raised by pause and resume messages sent from CPU 0 (five
 * of each per second pass the rate limit: 100 in the 10 s the test runs,
 * more than the queue's 64).  Then a cancel: its JOB_CANCELLED must be
 * sent when the work item runs again, after the events queued before it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <libdevmapper.h>

#include "kselftest_harness.h"
#include "jmtest.h"

#define DEV	"jmt-events"
#define LEN	131072ULL
#define RING	64		/* JM_EV_RING in the module */
#define EVENTS	"/tmp/jmt-events.json"
#define RT_KNOB	"/proc/sys/kernel/sched_rt_runtime_us"
/* 6.12's deadline server gives fair tasks time even under SCHED_FIFO. */
#define FAIR_KNOB "/sys/kernel/debug/sched/fair_server/cpu0/runtime"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A message, without dm_task_update_nodes(): nothing here may sleep on a
 * file system while CPU 0 must stay busy.
 */
static int message(const char *msg)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_TARGET_MSG);
	int ok;

	if (!dmt)
		return -1;
	ok = dm_task_set_name(dmt, DEV) && dm_task_set_sector(dmt, 0) &&
	     dm_task_set_message(dmt, msg) && dm_task_run(dmt);
	dm_task_destroy(dmt);
	return ok ? 0 : -1;
}

/* The state word of the status line, polled until it is @want. */
static int wait_state(const char *want, double secs)
{
	double end = now() + secs;
	char state[32];

	while (now() < end) {
		struct dm_task *dmt = dm_task_create(DM_DEVICE_STATUS);
		uint64_t start, len;
		char *type = NULL, *params = NULL;
		int match = 0;

		if (!dmt)
			return -1;
		if (dm_task_set_name(dmt, DEV) && dm_task_run(dmt)) {
			dm_get_next_target(dmt, NULL, &start, &len, &type, &params);
			match = params && sscanf(params, "%*s %31s", state) == 1 &&
				!strcmp(state, want);
		}
		dm_task_destroy(dmt);
		if (match)
			return 0;
	}
	return -1;
}

/*
 * Runs on CPU 0 at SCHED_FIFO, never sleeping: pause and resume for
 * @secs seconds, then cancel and wait until the job is cancelled.  Exit
 * status: 0, or the step that failed.
 */
static void hog(double secs)
{
	struct sched_param sp = { .sched_priority = 50 };
	double end;
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	/* Open the control device and find the name before going busy. */
	if (wait_state("running", 5))
		_exit(10);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) ||
	    sched_setscheduler(0, SCHED_FIFO, &sp))
		_exit(11);
	end = now() + secs;
	while (now() < end) {
		if (message("pause") || wait_state("paused", 5))
			_exit(12);
		if (message("resume") || wait_state("running", 5))
			_exit(13);
	}
	if (message("cancel") || wait_state("cancelled", 10))
		_exit(14);
	_exit(0);
}

static int write_knob(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	int r;

	if (!f)
		return -1;
	r = fputs(value, f) < 0 ? -1 : 0;
	if (fclose(f))
		r = -1;
	return r;
}

static int read_knob(const char *path, char *buf, size_t sz)
{
	FILE *f = fopen(path, "r");
	int r;

	if (!f)
		return -1;
	r = fgets(buf, sz, f) ? 0 : -1;
	fclose(f);
	return r;
}

/* Count the watched events, and those of @type. */
static void count_events(const char *type, int *all, int *of_type, int *last_is_type)
{
	char line[1024], needle[64];
	FILE *f = fopen(EVENTS, "r");

	snprintf(needle, sizeof(needle), "\"event\":\"%s\"", type);
	*all = *of_type = *last_is_type = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "\"event\":"))
			continue;
		(*all)++;
		*last_is_type = !!strstr(line, needle);
		*of_type += *last_is_type;
	}
	fclose(f);
}

TEST(ring_full_keeps_job_cancelled)
{
	const char *dmtool = getenv("DMTOOL");
	char rt_old[32], fair_old[32] = "";
	int before, all, cancelled, last, status;
	pid_t child;

	if (!dmtool)
		SKIP(return, "DMTOOL is not set");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs a second CPU for everything but the busy task");
	ASSERT_EQ(0, read_knob(RT_KNOB, rt_old, sizeof(rt_old)));
	/* A slow copy, so that the job stays running until the cancel. */
	ASSERT_EQ(0, jm_create(DEV, 0, LEN, "jobmirror",
			       "mirror /dev/ram0 /dev/ram1 - 128 2 speed 4096"));
	unlink(EVENTS);
	ASSERT_EQ(0, jm_sh("taskset -c 1 %s watch %s --json >%s 2>&1 & echo $! >%s.pid",
			   dmtool, DEV, EVENTS, EVENTS));
	usleep(500000);

	/* Let a SCHED_FIFO task keep CPU 0 to itself. */
	ASSERT_EQ(0, write_knob(RT_KNOB, "-1"));
	jm_sh("mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug");
	if (!read_knob(FAIR_KNOB, fair_old, sizeof(fair_old)))
		ASSERT_EQ(0, write_knob(FAIR_KNOB, "0"));

	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		hog(10.0);
	/* By now the work item waits behind the busy task: count what came. */
	sleep(4);
	count_events("JOB_CANCELLED", &before, &cancelled, &last);
	ASSERT_EQ(child, waitpid(child, &status, 0));

	write_knob(RT_KNOB, rt_old);
	if (fair_old[0])
		write_knob(FAIR_KNOB, fair_old);
	/* The work item runs now: give the watcher the events. */
	sleep(2);
	jm_sh("kill $(cat %s.pid); rm -f %s.pid", EVENTS, EVENTS);
	jm_remove(DEV);

	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	count_events("JOB_CANCELLED", &all, &cancelled, &last);
	TH_LOG("%d events received while CPU 0 was busy, %d after, %d JOB_CANCELLED",
	       before, all - before, cancelled);
	/* The queue was full: the events sent at once when it ran again. */
	ASSERT_EQ(RING, all - before);
	ASSERT_EQ(1, cancelled);
	ASSERT_TRUE(last);
	unlink(EVENTS);
}

TEST_HARNESS_MAIN
