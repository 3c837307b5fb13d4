// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: events that end a state are never dropped, not even when
 * the queue of events waiting to be sent is full.
 *
 * The target queues events under its lock and sends them from a work item
 * on the system workqueue, which runs on the CPU that queued it while it
 * was idle.  A SCHED_FIFO task that never sleeps on CPU 0 sends pause and
 * resume messages from there: JOB_RESUMED is raised in the message, on CPU
 * 0, so the work item soon ends up queued there and cannot run; JOB_PAUSED
 * is raised by the job's worker on the other CPU and joins the queue too.
 * Five of each kind per second pass the rate limit, 140 in the 14 s the
 * task runs: more than the 64 the queue holds.  Then a cancel: its
 * JOB_CANCELLED must be sent when the work item runs again, last of the 64.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
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

/* The busy task gives up at this time whatever it is waiting for. */
static double deadline;

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
	char params[512], state[32];

	if (end > deadline)
		end = deadline;
	while (now() < end)
		if (!jm_get_params(DEV, true, params, sizeof(params)) &&
		    sscanf(params, "%*s %31s", state) == 1 && !strcmp(state, want))
			return 0;
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

	deadline = now() + secs + 20;
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	/*
	 * No page faults later, and the control device open and the code of
	 * both requests run once before going busy.
	 */
	if (mlockall(MCL_CURRENT | MCL_FUTURE) || message("set_speed 4096") ||
	    wait_state("running", 5))
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

/* Write a sysctl or debugfs value: 0 or -errno. */
static int write_knob(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 0;
}

static int read_knob(const char *path, char *buf, size_t sz)
{
	FILE *f = fopen(path, "r");
	int r;

	if (!f)
		return -1;
	r = fgets(buf, sz, f) ? 0 : -1;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
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

FIXTURE(full_queue) {
	char rt_old[32];
	char fair_old[32];
	bool rt_changed;
	bool fair_changed;
};

FIXTURE_SETUP(full_queue)
{
	if (!getenv("DMTOOL"))
		SKIP(return, "DMTOOL is not set");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs a second CPU for everything but the busy task");
	ASSERT_FALSE(jm_exists(DEV));
	ASSERT_EQ(0, read_knob(RT_KNOB, self->rt_old, sizeof(self->rt_old)));
	jm_sh("mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug");
	read_knob(FAIR_KNOB, self->fair_old, sizeof(self->fair_old));
}

FIXTURE_TEARDOWN(full_queue)
{
	if (self->fair_changed)
		EXPECT_EQ(0, write_knob(FAIR_KNOB, self->fair_old));
	if (self->rt_changed)
		EXPECT_EQ(0, write_knob(RT_KNOB, self->rt_old));
	/* The guard against a timeout's SIGKILL is not needed any more. */
	jm_sh("[ -f %s.guard ] && kill $(cat %s.guard); rm -f %s.guard", EVENTS, EVENTS, EVENTS);
	jm_sh("[ -f %s.pid ] && kill $(cat %s.pid); rm -f %s.pid", EVENTS, EVENTS, EVENTS);
	if (jm_exists(DEV))
		jm_remove(DEV);
	unlink(EVENTS);
}

TEST_F_TIMEOUT(full_queue, keeps_job_cancelled, 90)
{
	int before, all, cancelled, last, status;
	char guard[256];
	pid_t child;

	/* 6.1's harness runs the test after a setup that called SKIP(). */
	if (_metadata->skip)
		return;
	/* A slow copy, so that the job stays running until the cancel. */
	ASSERT_EQ(0, jm_create(DEV, 0, LEN, "jobmirror",
			       "mirror /dev/ram0 /dev/ram1 - 128 2 speed 4096"));
	unlink(EVENTS);
	ASSERT_EQ(0, jm_sh("taskset -c 1 %s watch %s --json >%s 2>&1 & echo $! >%s.pid",
			   getenv("DMTOOL"), DEV, EVENTS, EVENTS));
	usleep(500000);

	/*
	 * Let a SCHED_FIFO task keep CPU 0 to itself.  Should the harness
	 * kill this test for its timeout, teardown does not run: a process
	 * of its own puts the knobs back then.
	 */
	snprintf(guard, sizeof(guard), "sleep 100; echo %s >%s", self->rt_old, RT_KNOB);
	if (self->fair_old[0])
		snprintf(guard + strlen(guard), sizeof(guard) - strlen(guard),
			 "; echo %s >%s", self->fair_old, FAIR_KNOB);
	ASSERT_EQ(0, jm_sh("setsid sh -c '%s' >/dev/null 2>&1 & echo $! >%s.guard",
			   guard, EVENTS));
	self->rt_changed = true;
	ASSERT_EQ(0, write_knob(RT_KNOB, "-1"));
	if (self->fair_old[0]) {
		self->fair_changed = true;
		ASSERT_EQ(0, write_knob(FAIR_KNOB, "0"));
	}

	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		hog(14.0);
	/* By now the work item waits behind the busy task: count what came. */
	sleep(6);
	count_events("JOB_CANCELLED", &before, &cancelled, &last);
	ASSERT_EQ(child, waitpid(child, &status, 0));

	if (self->fair_changed) {
		EXPECT_EQ(0, write_knob(FAIR_KNOB, self->fair_old));
		self->fair_changed = false;
	}
	EXPECT_EQ(0, write_knob(RT_KNOB, self->rt_old));
	self->rt_changed = false;
	/* The work item runs now: give the watcher the events. */
	sleep(2);

	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	count_events("JOB_CANCELLED", &all, &cancelled, &last);
	TH_LOG("%d events received while CPU 0 was busy, %d after, %d JOB_CANCELLED",
	       before, all - before, cancelled);
	/* The queue was full: the events sent at once when it ran again. */
	ASSERT_EQ(RING, all - before);
	ASSERT_EQ(1, cancelled);
	ASSERT_TRUE(last);
}

TEST_HARNESS_MAIN
