/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmtool: talking to device-mapper through libdevmapper.
 */
#ifndef DMTOOL_JMDM_H
#define DMTOOL_JMDM_H

#include <linux/dm-ioctl.h>

#include "jmstatus.h"

#define JM_NAME_MAX DM_NAME_LEN		/* with the NUL */

/* One jobmirror device as dmtool sees it. */
struct jm_device {
	char name[JM_NAME_MAX];
	char uuid[DM_UUID_LEN];
	uint32_t major, minor;
	uint64_t start, length;		/* the jobmirror segment, in sectors */
	int read_only;			/* the device is read-only */
	struct jm_status status;
	struct jm_table table;
};

/* Results of jm_dm_get(). */
enum jm_get_result {
	JM_GET_OK = 0,
	JM_GET_NO_DEVICE,	/* no device of that name */
	JM_GET_NOT_JOBMIRROR,	/* the device has no jobmirror target */
	JM_GET_FAILED,		/* an ioctl failed or a line did not parse */
};

/* Silence libdevmapper's own logging; failures are reported by dmtool. */
void jm_dm_init(void);

/* The last error libdevmapper logged, or "" (for messages). */
const char *jm_dm_last_error(void);

/* Fill @dev for the device called @name. */
enum jm_get_result jm_dm_get(const char *name, struct jm_device *dev);

/*
 * Call @fn for each jobmirror device, in name order, with its state; or
 * with @dev NULL for one whose tables could not be read or parsed (the
 * reason in jm_dm_last_error()).  Devices of other targets, and devices
 * that vanish meanwhile, are skipped.  Returns 0, -1 if the device list
 * could not be read, or what @fn returned if not 0 (which stops it).
 */
int jm_dm_foreach(int (*fn)(const char *name, const struct jm_device *dev, void *arg),
		  void *arg);

/* A device given as major:minor, as a path name: "/dev/ram0", "/dev/mapper/x". */
void jm_dm_devpath(const char *majmin, char *out, size_t outsz);

/* Send @msg to the jobmirror target of @name; 0 or -errno. */
int jm_dm_message(const struct jm_device *dev, const char *msg);

/* The device's event counter; 0 or -errno. */
int jm_dm_event_nr(const char *name, uint32_t *nr);

/*
 * Wait until the event counter of @name differs from @nr; 0, or -EINTR
 * when a signal interrupted the wait, or another -errno.
 */
int jm_dm_wait_event(const char *name, uint32_t nr);

/* Create @name with one target; 0 or -errno. */
int jm_dm_create(const char *name, uint64_t len, const char *type, const char *params);

/* The steps of jm_dm_reload_linear(). */
enum jm_reload_step {
	JM_RELOAD_LOAD,		/* nothing changed */
	JM_RELOAD_SUSPEND,	/* the new table was cleared again, if it could be */
	JM_RELOAD_RESUME,	/* the device is left suspended */
};

/*
 * Load @name's table again with its jobmirror segment replaced by a
 * linear mapping of the same length on major:minor @dest (read-only if
 * the device is), then suspend and resume it; 0 or -errno, with the step
 * that failed in *@step.  When the suspend fails, the loaded table is
 * cleared again (*@cleared says whether that worked), so that no later
 * resume takes it by surprise.  -ESTALE, with nothing loaded, when the
 * table no longer has @dev's jobmirror segment on @dest.
 */
int jm_dm_reload_linear(const struct jm_device *dev, const char *dest,
			enum jm_reload_step *step, int *cleared);

/*
 * Whether the device @was describes (a jobmirror device before) now has,
 * for its segment, the linear table on the dest that "dmtool complete"
 * loads after the pivot.
 */
bool jm_dm_is_pivoted(const struct jm_device *was);

/* Remove @name; 0 or -errno. */
int jm_dm_remove(const char *name);

/* Remember the end of the kernel log, to find a target's error later. */
int jm_kmsg_mark(void);
/*
 * The reason the jobmirror constructor, or the first resume's load of the
 * metadata device, gave, from the kernel log after jm_kmsg_mark(); "" if
 * none.  Closes @fd.
 */
void jm_kmsg_reason(int fd, char *buf, size_t sz);

#endif /* DMTOOL_JMDM_H */
