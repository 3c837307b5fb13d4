// SPDX-License-Identifier: GPL-2.0
/*
 * libjmfail.so: fault injection for the tests of dmtool, loaded with
 * LD_PRELOAD.  JM_FAIL lists device-mapper requests, by the name of their
 * ioctl, that fail with EIO (JM_FAIL_ERRNO picks another errno) without
 * reaching the kernel, e.g. JM_FAIL=suspend,clear; JM_FAIL_DEVICE limits
 * that to the requests on the device of that name.  Names: list, info,
 * status, table, reload, suspend, resume, clear, remove, message, create,
 * waitevent.  A failed request logs its error through libdevmapper's log
 * function, as a real one does.  Every other call goes to libdevmapper.
 *
 * A request is known by the type its task was created with: libdevmapper
 * runs some tasks again as another type inside dm_task_run() (a create
 * with a table resumes the device), and those inner runs cannot be
 * failed.  A failed request skips libdevmapper's udev cookie handling, so
 * the preload refuses to work unless DM_DISABLE_UDEV is set.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <libdevmapper.h>

/* libdevmapper's log function, exported but not declared in its header. */
extern dm_log_with_errno_fn dm_log_with_errno;

#define JM_FAIL_TASKS 64

static const struct {
	const char *name;
	int type;
} jm_fail_names[] = {
	{ "list", DM_DEVICE_LIST },	{ "info", DM_DEVICE_INFO },
	{ "status", DM_DEVICE_STATUS },	{ "table", DM_DEVICE_TABLE },
	{ "reload", DM_DEVICE_RELOAD },	{ "suspend", DM_DEVICE_SUSPEND },
	{ "resume", DM_DEVICE_RESUME },	{ "clear", DM_DEVICE_CLEAR },
	{ "remove", DM_DEVICE_REMOVE },	{ "message", DM_DEVICE_TARGET_MSG },
	{ "create", DM_DEVICE_CREATE },	{ "waitevent", DM_DEVICE_WAITEVENT },
};

/* The tasks alive: type, device name, and the errno their run failed with. */
static struct {
	struct dm_task *dmt;
	int type;
	char name[128];
	int failed;
} jm_fail_tasks[JM_FAIL_TASKS];

static void *jm_fail_real(const char *sym)
{
	void *fn = dlsym(RTLD_NEXT, sym);

	if (!fn)
		abort();
	return fn;
}

/* The name of request type @type if JM_FAIL lists it and it is on JM_FAIL_DEVICE. */
static const char *jm_fail_wanted(int type, const char *name)
{
	const char *list = getenv("JM_FAIL"), *dev = getenv("JM_FAIL_DEVICE");
	size_t i, len;

	if (!list || (dev && strcmp(dev, name)))
		return NULL;
	for (i = 0; i < sizeof(jm_fail_names) / sizeof(jm_fail_names[0]); i++) {
		const char *p = list;

		if (jm_fail_names[i].type != type)
			continue;
		len = strlen(jm_fail_names[i].name);
		while ((p = strstr(p, jm_fail_names[i].name))) {
			if ((p == list || p[-1] == ',') && (p[len] == ',' || !p[len]))
				return jm_fail_names[i].name;
			p += len;
		}
	}
	return NULL;
}

static int jm_fail_slot(const struct dm_task *dmt)
{
	int i;

	for (i = 0; i < JM_FAIL_TASKS; i++)
		if (jm_fail_tasks[i].dmt == dmt)
			return i;
	return -1;
}

struct dm_task *dm_task_create(int type)
{
	struct dm_task *(*real)(int) = jm_fail_real("dm_task_create");
	struct dm_task *dmt = real(type);
	int i = jm_fail_slot(NULL);

	if (dmt && i < 0 && getenv("JM_FAIL")) {
		fprintf(stderr, "libjmfail: more than %d tasks at once\n", JM_FAIL_TASKS);
		abort();
	}
	if (dmt && i >= 0) {
		jm_fail_tasks[i].dmt = dmt;
		jm_fail_tasks[i].type = type;
		jm_fail_tasks[i].name[0] = '\0';
		jm_fail_tasks[i].failed = 0;
	}
	return dmt;
}

int dm_task_set_name(struct dm_task *dmt, const char *name)
{
	int (*real)(struct dm_task *, const char *) = jm_fail_real("dm_task_set_name");
	const char *dir = dm_dir(), *dev = name;
	size_t len = strlen(dir);
	int i = jm_fail_slot(dmt);

	/* A /dev/mapper path names the device by its last part. */
	if (!strncmp(name, dir, len) && name[len] == '/')
		dev += len + 1;
	if (i >= 0)
		snprintf(jm_fail_tasks[i].name, sizeof(jm_fail_tasks[i].name), "%s", dev);
	return real(dmt, name);
}

int dm_task_run(struct dm_task *dmt)
{
	int (*real)(struct dm_task *) = jm_fail_real("dm_task_run");
	const char *e = getenv("JM_FAIL_ERRNO"), *what;
	int i = jm_fail_slot(dmt);

	what = i < 0 ? NULL : jm_fail_wanted(jm_fail_tasks[i].type, jm_fail_tasks[i].name);
	if (!what)
		return real(dmt);
	if (!getenv("DM_DISABLE_UDEV")) {
		fprintf(stderr, "libjmfail: set DM_DISABLE_UDEV: a failed request leaves udev cookies behind\n");
		abort();
	}
	jm_fail_tasks[i].failed = e && atoi(e) > 0 ? atoi(e) : EIO;
	dm_log_with_errno(LOG_ERR, __FILE__, __LINE__, jm_fail_tasks[i].failed,
			  "device-mapper: %s ioctl on %s failed: %s (injected)", what,
			  jm_fail_tasks[i].name, strerror(jm_fail_tasks[i].failed));
	errno = jm_fail_tasks[i].failed;
	return 0;
}

int dm_task_get_errno(struct dm_task *dmt)
{
	int (*real)(struct dm_task *) = jm_fail_real("dm_task_get_errno");
	int i = jm_fail_slot(dmt);

	if (i >= 0 && jm_fail_tasks[i].failed)
		return jm_fail_tasks[i].failed;
	return real(dmt);
}

void dm_task_destroy(struct dm_task *dmt)
{
	void (*real)(struct dm_task *) = jm_fail_real("dm_task_destroy");
	int i = jm_fail_slot(dmt);

	if (i >= 0)
		jm_fail_tasks[i].dmt = NULL;
	real(dmt);
}
