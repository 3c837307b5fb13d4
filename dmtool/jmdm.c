// SPDX-License-Identifier: GPL-2.0
/*
 * dmtool: device-mapper access through libdevmapper.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <syslog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* Whether @name (a name or a /dev/mapper path) is a device now. */
static bool device_exists(const char *name)
{
	struct dm_task *info;
	struct dm_info di;
	bool r;

	/* libdevmapper refuses a path that no longer exists: gone. */
	if (strchr(name, '/') && access(name, F_OK))
		return false;
	info = run_task(DM_DEVICE_INFO, name);
	if (!info)
		return true;	/* cannot tell: not "gone" */
	r = !dm_task_get_info(info, &di) || di.exists;
	dm_task_destroy(info);
	return r;
}

/* Whether @name is a path to something that is not a dm device (/dev/sda). */
static bool not_dm_path(const char *name)
{
	struct stat st;

	return strchr(name, '/') && !stat(name, &st) &&
	       (!S_ISBLK(st.st_mode) || !dm_is_dm_major(major(st.st_rdev)));
}

enum jm_get_result jm_dm_get(const char *name, struct jm_device *dev)
{
	enum jm_get_result res = JM_GET_FAILED;
	struct dm_task *info, *st = NULL, *tb = NULL;
	struct dm_info di;
	const char *params, *uuid;

	memset(dev, 0, sizeof(*dev));
	last_error[0] = '\0';
	/* A name, or a /dev/mapper path, which libdevmapper resolves. */
	if (strlen(name) >= (strchr(name, '/') ? PATH_MAX : sizeof(dev->name)))
		return JM_GET_NO_DEVICE;
	info = run_task(DM_DEVICE_INFO, name);
	if (!info && not_dm_path(name))
		return JM_GET_NOT_JOBMIRROR;
	if (!info)
		return device_exists(name) ? JM_GET_FAILED : JM_GET_NO_DEVICE;
	if (!dm_task_get_info(info, &di))
		goto out;
	if (!di.exists) {
		res = JM_GET_NO_DEVICE;
		goto out;
	}
	/* The device's own name, also when @name is a /dev/mapper path. */
	snprintf(dev->name, sizeof(dev->name), "%s",
		 dm_task_get_name(info) ? dm_task_get_name(info) : name);
	dev->major = di.major;
	dev->minor = di.minor;
	dev->read_only = di.read_only;
	uuid = dm_task_get_uuid(info);
	snprintf(dev->uuid, sizeof(dev->uuid), "%s", uuid ? uuid : "");

	st = run_task(DM_DEVICE_STATUS, name);
	tb = run_task(DM_DEVICE_TABLE, name);
	if (!st || !tb) {
		/* Removed between the ioctls: gone, not unreadable. */
		if (!device_exists(name))
			res = JM_GET_NO_DEVICE;
		goto out;
	}
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

int jm_dm_foreach(int (*fn)(const char *name, const struct jm_device *dev, void *arg),
		  void *arg)
{
	struct dm_task *dmt = run_task(DM_DEVICE_LIST, NULL);
	struct dm_names *names;
	struct jm_device dev;
	const char **v = NULL, **nv;
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
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv) {
				free(v);
				dm_task_destroy(dmt);
				return -1;
			}
			v = nv;
			v[n++] = names->name;
			next = names->next;
		} while (next);
	}
	qsort(v, n, sizeof(*v), cmp_names);
	for (i = 0; i < n && !r; i++) {
		/* A device that vanished or is not ours is skipped. */
		switch (jm_dm_get(v[i], &dev)) {
		case JM_GET_OK:
			r = fn(v[i], &dev, arg);
			break;
		case JM_GET_FAILED:
			r = fn(v[i], NULL, arg);
			break;
		default:
			break;
		}
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

/* The -errno of a task that failed; -EIO if it failed before its ioctl. */
static int task_error(struct dm_task *dmt)
{
	int r = -dm_task_get_errno(dmt);

	return r ? r : -EIO;
}

/* Run @dmt, keeping its errno; returns 0 or -errno.  Destroys @dmt. */
static int run_and_destroy(struct dm_task *dmt, uint32_t *cookie)
{
	int r = 0;

	last_error[0] = '\0';
	if (cookie && !dm_task_set_cookie(dmt, cookie, 0)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	if (!dm_task_run(dmt))
		r = task_error(dmt);
	dm_task_destroy(dmt);
	if (cookie)
		dm_udev_wait(*cookie);
	return r;
}

/*
 * A task of @type on @name in *@dmt; 0, -ENOMEM, or -EINVAL for a name
 * libdevmapper refuses (the reason in jm_dm_last_error()).
 */
static int new_task(int type, const char *name, struct dm_task **dmt)
{
	last_error[0] = '\0';
	*dmt = dm_task_create(type);
	if (!*dmt)
		return -ENOMEM;
	if (name && !dm_task_set_name(*dmt, name)) {
		dm_task_destroy(*dmt);
		*dmt = NULL;
		return -EINVAL;
	}
	return 0;
}

int jm_dm_message(const struct jm_device *dev, const char *msg)
{
	struct dm_task *dmt;
	int r = new_task(DM_DEVICE_TARGET_MSG, dev->name, &dmt);

	if (r)
		return r;
	if (!dm_task_set_sector(dmt, dev->start) || !dm_task_set_message(dmt, msg)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	return run_and_destroy(dmt, NULL);
}

int jm_dm_event_nr(const char *name, uint32_t *nr)
{
	struct dm_task *dmt;
	struct dm_info info;
	int r = new_task(DM_DEVICE_INFO, name, &dmt);

	if (r)
		return r;
	if (!dm_task_run(dmt) || !dm_task_get_info(dmt, &info))
		r = task_error(dmt);
	else if (!info.exists)
		r = -ENXIO;
	else
		*nr = info.event_nr;
	dm_task_destroy(dmt);
	return r;
}

int jm_dm_wait_event(const char *name, uint32_t nr)
{
	struct dm_task *dmt;
	int r = new_task(DM_DEVICE_WAITEVENT, name, &dmt);

	if (r)
		return r;
	if (!dm_task_set_event_nr(dmt, nr)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	return run_and_destroy(dmt, NULL);
}

int jm_dm_create(const char *name, uint64_t len, const char *type, const char *params)
{
	struct dm_task *dmt;
	uint32_t cookie = 0;
	int r = new_task(DM_DEVICE_CREATE, name, &dmt);

	if (r)
		return r;
	if (!dm_task_add_target(dmt, 0, len, type, params)) {
		dm_task_destroy(dmt);
		return -ENOMEM;
	}
	return run_and_destroy(dmt, &cookie);
}

/* Suspend, resume or clear @name; 0 or -errno. */
static int simple_task(const char *name, int type)
{
	struct dm_task *dmt;
	uint32_t cookie = 0;
	int r = new_task(type, name, &dmt);

	if (r)
		return r;
	return run_and_destroy(dmt, type == DM_DEVICE_RESUME ? &cookie : NULL);
}

/* Whether the jobmirror table words @params name @dest as the dest. */
static bool segment_dest_is(const char *params, const char *dest)
{
	struct jm_table tb;

	return params && !jm_parse_table(params, &tb) && !strcmp(tb.dest, dest);
}

int jm_dm_reload_linear(const struct jm_device *dev, const char *dest,
			enum jm_reload_step *step, int *cleared)
{
	char *type = NULL, *params = NULL, linear[JM_WORD_MAX + 8];
	struct dm_task *tb = NULL, *load = NULL;
	uint64_t start, length;
	bool replaced = false;
	void *next = NULL;
	int r;

	*step = JM_RELOAD_LOAD;
	*cleared = 0;
	r = new_task(DM_DEVICE_TABLE, dev->name, &tb);
	if (!r)
		r = new_task(DM_DEVICE_RELOAD, dev->name, &load);
	if (r)
		goto out;
	if (!dm_task_run(tb)) {
		r = task_error(tb);
		goto out;
	}
	r = -ENOMEM;
	if (dev->read_only && !dm_task_set_ro(load))
		goto out;
	snprintf(linear, sizeof(linear), "%s 0", dest);
	do {
		next = dm_get_next_target(tb, next, &start, &length, &type, &params);
		if (!type)
			break;
		if (!strcmp(type, DM_JOBMIRROR_TARGET_NAME) && start == dev->start &&
		    length == dev->length && segment_dest_is(params, dest)) {
			/* Sector 0 of the segment is sector 0 of the dest. */
			if (!dm_task_add_target(load, start, length, "linear", linear))
				goto out;
			replaced = true;
		} else if (!dm_task_add_target(load, start, length, type, params)) {
			goto out;
		}
	} while (next);
	/* The table changed since @dev was read: leave it alone. */
	r = -ESTALE;
	if (!replaced)
		goto out;
	r = run_and_destroy(load, NULL);
	load = NULL;
	if (r)
		goto out;
	*step = JM_RELOAD_SUSPEND;
	r = simple_task(dev->name, DM_DEVICE_SUSPEND);
	if (r) {
		*cleared = !simple_task(dev->name, DM_DEVICE_CLEAR);
		goto out;
	}
	*step = JM_RELOAD_RESUME;
	r = simple_task(dev->name, DM_DEVICE_RESUME);
out:
	if (load)
		dm_task_destroy(load);
	if (tb)
		dm_task_destroy(tb);
	return r;
}

bool jm_dm_is_pivoted(const struct jm_device *was)
{
	char *type = NULL, *params = NULL, linear[JM_WORD_MAX + 8];
	uint64_t start, length;
	struct dm_task *tb;
	void *next = NULL;
	bool r = false;

	tb = run_task(DM_DEVICE_TABLE, was->name);
	if (!tb)
		return false;
	snprintf(linear, sizeof(linear), "%s 0", was->table.dest);
	do {
		next = dm_get_next_target(tb, next, &start, &length, &type, &params);
		if (type && start == was->start && length == was->length)
			r = !strcmp(type, "linear") && params && !strcmp(params, linear);
	} while (next);
	dm_task_destroy(tb);
	return r;
}

int jm_dm_remove(const char *name)
{
	struct dm_task *dmt;
	uint32_t cookie = 0;
	int r = new_task(DM_DEVICE_REMOVE, name, &dmt);

	if (r)
		return r;
	dm_task_retry_remove(dmt);
	return run_and_destroy(dmt, &cookie);
}

int jm_kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

void jm_kmsg_reason(int fd, char *buf, size_t sz)
{
	static const char key[] = " " DM_JOBMIRROR_TARGET_NAME ": ";
	static const char meta[] = "metadata device not loaded: ";
	char rec[1024], *p, *e;
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		p = strstr(rec, "device-mapper: table: ");
		if (p && (p = strstr(p, key))) {
			p += strlen(key);
			/* dm's own line after a failed resume: the target's said why. */
			if (!strncmp(p, "preresume failed", strlen("preresume failed")))
				continue;
		} else {
			/* The first resume loads (or formats) the metadata device. */
			p = strstr(rec, "device-mapper: " DM_JOBMIRROR_TARGET_NAME ": ");
			if (!p || !(p = strstr(p, meta)))
				continue;
		}
		/* Drop the " (-EINVAL)" dm-table appends, and the newline. */
		e = strstr(p, " (-E");
		if (!e)
			e = p + strcspn(p, "\n");
		snprintf(buf, sz, "%.*s", (int)(e - p), p);
	}
	close(fd);
}
