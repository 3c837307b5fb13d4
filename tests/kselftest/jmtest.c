// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the dm-jobmirror kselftests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <libdevmapper.h>

#include "jmtest.h"

static int last_errno;

static void quiet_log(int level, const char *file, int line, int dm_errno,
		      const char *fmt, ...)
{
	(void)level; (void)file; (void)line; (void)fmt;
	if (dm_errno)
		last_errno = dm_errno;
}

static struct dm_task *task(int type, const char *name)
{
	struct dm_task *dmt;

	dm_log_with_errno_init(quiet_log);
	dmt = dm_task_create(type);
	if (dmt && name && !dm_task_set_name(dmt, name)) {
		dm_task_destroy(dmt);
		return NULL;
	}
	return dmt;
}

static int run(struct dm_task *dmt)
{
	int r;

	last_errno = 0;
	r = dm_task_run(dmt) ? 0 : -(last_errno ? last_errno : EIO);
	dm_task_destroy(dmt);
	/* Without udev, libdevmapper makes the /dev/mapper nodes itself. */
	dm_task_update_nodes();
	return r;
}

int jm_create_table(const char *name, const char *const *lines, int n)
{
	struct dm_task *dmt = task(DM_DEVICE_CREATE, name);
	unsigned long long start, len;
	char type[64];
	int i, off;

	if (!dmt)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (sscanf(lines[i], "%llu %llu %63s %n", &start, &len, type, &off) != 3 ||
		    !dm_task_add_target(dmt, start, len, type, lines[i] + off)) {
			dm_task_destroy(dmt);
			return -EINVAL;
		}
	}
	return run(dmt);
}

int jm_create(const char *name, uint64_t start, uint64_t len,
	      const char *type, const char *params)
{
	char *line;
	int r;

	if (asprintf(&line, "%llu %llu %s %s", (unsigned long long)start,
		     (unsigned long long)len, type, params) < 0)
		return -ENOMEM;
	r = jm_create_table(name, (const char *const *)&line, 1);
	free(line);
	return r;
}

int jm_remove(const char *name)
{
	struct dm_task *dmt = task(DM_DEVICE_REMOVE, name);

	return dmt ? run(dmt) : -ENOMEM;
}

bool jm_exists(const char *name)
{
	struct dm_task *dmt = task(DM_DEVICE_INFO, name);
	struct dm_info info = { 0 };

	if (!dmt)
		return false;
	if (!dm_task_run(dmt) || !dm_task_get_info(dmt, &info))
		info.exists = 0;
	dm_task_destroy(dmt);
	return info.exists;
}

int jm_get_params(const char *name, bool status, char *buf, size_t sz)
{
	struct dm_task *dmt = task(status ? DM_DEVICE_STATUS : DM_DEVICE_TABLE, name);
	uint64_t start, len;
	char *type = NULL, *params = NULL;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	dm_get_next_target(dmt, NULL, &start, &len, &type, &params);
	snprintf(buf, sz, "%s", params ? params : "");
	dm_task_destroy(dmt);
	return 0;
}

int jm_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

bool jm_kmsg_find(int fd, const char *needle, char *line, size_t sz)
{
	char rec[2048];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			return false;
		rec[n] = '\0';
		if (strstr(rec, needle)) {
			if (line)
				snprintf(line, sz, "%s", strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
			return true;
		}
	}
}

int jm_sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	r = system(cmd);
	free(cmd);
	if (r == -1 || !WIFEXITED(r))
		return -1;
	return WEXITSTATUS(r);
}

uint64_t jm_hash(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}
