// SPDX-License-Identifier: GPL-2.0
/*
 * dmtool: device-mapper access through libdevmapper.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <syslog.h>
#include <libdevmapper.h>

#include "jmdm.h"

static char last_error[256];

static void jm_dm_log(int level, const char *file, int line, int dm_errno,
		      const char *fmt, ...)
{
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	/* Levels are syslog priorities, with flag bits above them. */
	if (LOG_PRI(level) > LOG_ERR)
		return;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

void jm_dm_init(void)
{
	dm_log_with_errno_init(jm_dm_log);
}

const char *jm_dm_last_error(void)
{
	return last_error;
}

/* Run a task of @type on device @name; NULL on failure. */
static struct dm_task *run_task(int type, const char *name)
{
	struct dm_task *dmt = dm_task_create(type);

	if (!dmt)
		return NULL;
	if ((name && !dm_task_set_name(dmt, name)) || !dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		return NULL;
	}
	return dmt;
}

/*
 * Find the jobmirror target in the table of a STATUS or TABLE task and
 * return its params; NULL if there is none.
 */
static const char *jobmirror_params(struct dm_task *dmt, uint64_t *start,
				    uint64_t *length)
{
	char *type = NULL, *params = NULL;
	void *next = NULL;

	do {
		next = dm_get_next_target(dmt, next, start, length, &type, &params);
		if (type && !strcmp(type, DM_JOBMIRROR_TARGET_NAME))
			return params ? params : "";
	} while (next);
	return NULL;
}

enum jm_get_result jm_dm_get(const char *name, struct jm_device *dev)
{
	enum jm_get_result res = JM_GET_FAILED;
	struct dm_task *info, *st = NULL, *tb = NULL;
	struct dm_info di;
	const char *params, *uuid;

	memset(dev, 0, sizeof(*dev));
	if (strlen(name) >= sizeof(dev->name))
		return JM_GET_NO_DEVICE;
	info = run_task(DM_DEVICE_INFO, name);
	if (!info)
		return JM_GET_FAILED;
	if (!dm_task_get_info(info, &di))
		goto out;
	if (!di.exists) {
		res = JM_GET_NO_DEVICE;
		goto out;
	}
	strcpy(dev->name, name);
	dev->major = di.major;
	dev->minor = di.minor;
	uuid = dm_task_get_uuid(info);
	snprintf(dev->uuid, sizeof(dev->uuid), "%s", uuid ? uuid : "");

	st = run_task(DM_DEVICE_STATUS, name);
	tb = run_task(DM_DEVICE_TABLE, name);
	if (!st || !tb)
		goto out;
	params = jobmirror_params(st, &dev->start, &dev->length);
	if (!params) {
		res = JM_GET_NOT_JOBMIRROR;
		goto out;
	}
	if (jm_parse_status(params, &dev->status)) {
		snprintf(last_error, sizeof(last_error), "cannot parse the status line '%s'", params);
		goto out;
	}
	params = jobmirror_params(tb, &dev->start, &dev->length);
	if (!params) {
		/* The table changed between the two ioctls. */
		res = JM_GET_NOT_JOBMIRROR;
		goto out;
	}
	if (jm_parse_table(params, &dev->table)) {
		snprintf(last_error, sizeof(last_error), "cannot parse the table line '%s'", params);
		goto out;
	}
	res = JM_GET_OK;
out:
	if (tb)
		dm_task_destroy(tb);
	if (st)
		dm_task_destroy(st);
	dm_task_destroy(info);
	return res;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int jm_dm_foreach(int (*fn)(const struct jm_device *dev, void *arg), void *arg)
{
	struct dm_task *dmt = run_task(DM_DEVICE_LIST, NULL);
	struct dm_names *names;
	struct jm_device dev;
	const char **v = NULL;
	size_t n = 0, i;
	unsigned int next = 0;
	int r = 0;

	if (!dmt)
		return -1;
	names = dm_task_get_names(dmt);
	if (!names) {
		dm_task_destroy(dmt);
		return -1;
	}
	if (names->dev) {
		do {
			names = (struct dm_names *)((char *)names + next);
			v = realloc(v, (n + 1) * sizeof(*v));
			if (!v) {
				dm_task_destroy(dmt);
				return -1;
			}
			v[n++] = names->name;
			next = names->next;
		} while (next);
	}
	qsort(v, n, sizeof(*v), cmp_names);
	for (i = 0; i < n && !r; i++) {
		/* A device that vanished or is not ours is skipped. */
		if (jm_dm_get(v[i], &dev) == JM_GET_OK)
			r = fn(&dev, arg);
	}
	free(v);
	dm_task_destroy(dmt);
	return r;
}

void jm_dm_devpath(const char *majmin, char *out, size_t outsz)
{
	char link[512], path[300], name[JM_NAME_MAX];
	const char *base;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%s/dm/name", majmin);
	f = fopen(path, "r");
	if (f) {
		if (fgets(name, sizeof(name), f)) {
			name[strcspn(name, "\n")] = '\0';
			snprintf(out, outsz, "%s/%s", dm_dir(), name);
			fclose(f);
			return;
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/sys/dev/block/%s", majmin);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		base = strrchr(link, '/');
		snprintf(out, outsz, "/dev/%s", base ? base + 1 : link);
		return;
	}
	snprintf(out, outsz, "%s", majmin);
}
