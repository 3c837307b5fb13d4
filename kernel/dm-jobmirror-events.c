// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: events.
 *
 * jm_event() is called with the state already updated, under jm->lock and
 * from any context: it bumps event_seq and marks the event pending.  The
 * event work then, in process context, wakes "dmsetup wait" and dmeventd
 * through dm_table_event() and sends a KOBJ_CHANGE uevent on the dm disk
 * carrying the status as it is when sent (never older than the event).
 */
#include <linux/kobject.h>
#include <linux/blkdev.h>
#include <linux/errno.h>

#include "dm-jobmirror.h"

const char *const jm_event_names[DM_JOBMIRROR_NR_EVENTS] = {
	DM_JOBMIRROR_EVENTS(DM_JOBMIRROR_NAME_OF)
};

const char *const jm_op_names[DM_JOBMIRROR_NR_OPS] = {
	DM_JOBMIRROR_OPS(DM_JOBMIRROR_NAME_OF)
};

static const struct {
	int err;
	const char *name;
} jm_errnos[] = {
	{ EIO, "eio" }, { ENOSPC, "enospc" }, { ENODEV, "enodev" },
	{ ENXIO, "enxio" }, { ETIMEDOUT, "etimedout" }, { ENOLINK, "enolink" },
	{ EREMOTEIO, "eremoteio" }, { EBADE, "ebade" }, { ENODATA, "enodata" },
	{ EILSEQ, "eilseq" }, { ENOMEM, "enomem" }, { EBUSY, "ebusy" },
	{ EAGAIN, "eagain" }, { ETIME, "etime" }, { EOPNOTSUPP, "eopnotsupp" },
	{ EDQUOT, "edquot" }, { EROFS, "erofs" }, { EINVAL, "einval" },
	{ EPERM, "eperm" }, { EACCES, "eacces" }, { ENOTCONN, "enotconn" },
	{ ECONNRESET, "econnreset" }, { EPIPE, "epipe" }, { EHOSTDOWN, "ehostdown" },
};

/**
 * jm_errno_name() - the lower-case name of an errno, as events show it.
 * @err: a negative or positive errno.
 *
 * Return: the name; "eio" for anything not in the table.
 */
const char *jm_errno_name(int err)
{
	unsigned int i;

	err = abs(err);
	for (i = 0; i < ARRAY_SIZE(jm_errnos); i++)
		if (jm_errnos[i].err == err)
			return jm_errnos[i].name;
	return "eio";
}

/**
 * jm_log_name() - the device's name as "dmsetup ls" shows it.
 * @jm: the target.
 * @name: a buffer of DM_NAME_LEN bytes.
 *
 * Falls back to major:minor when the name is not known (while the
 * device is being created).
 */
void jm_log_name(struct jobmirror *jm, char name[DM_NAME_LEN])
{
	struct mapped_device *md = dm_table_get_md(jm->ti->table);

	if (dm_copy_name_and_uuid(md, name, NULL))
		strscpy(name, dm_device_name(md), DM_NAME_LEN);
}

/**
 * jm_event() - raise an event.
 * @jm: the target; caller holds jm->lock and has updated the state.
 * @event: which one.
 */
void jm_event(struct jobmirror *jm, enum dm_jobmirror_event event)
{
	lockdep_assert_held(&jm->lock);
	jm->event_seq++;
	jm->events_pending |= BIT(event);
	queue_work(jm->wq, &jm->event_work);
}

#define JM_ENV_VARS	16
#define JM_ENV_LEN	(DM_NAME_LEN + 64)

static void jm_send_uevent(struct jobmirror *jm, enum dm_jobmirror_event event)
{
	struct mapped_device *md = dm_table_get_md(jm->ti->table);
	char name[DM_NAME_LEN], uuid[DM_UUID_LEN];
	char (*env)[JM_ENV_LEN];
	char *envp[JM_ENV_VARS + 1];
	unsigned int n = 0;
	u64 seq, offset, len;
	enum dm_jobmirror_state state;
	enum dm_jobmirror_iostatus iostatus;
	int op, err;

	env = kcalloc(JM_ENV_VARS, JM_ENV_LEN, GFP_NOIO);
	if (!env)
		return;
	if (dm_copy_name_and_uuid(md, name, uuid)) {
		name[0] = '\0';
		uuid[0] = '\0';
	}

	spin_lock_irq(&jm->lock);
	seq = jm->event_seq;
	state = jm->state;
	iostatus = jm->iostatus;
	offset = jm->copied;
	len = jm->work_total;
	op = jm->job_error_op;
	err = jm->job_errno;
	spin_unlock_irq(&jm->lock);

#define JM_ENV(fmt, ...) \
	snprintf(env[n], JM_ENV_LEN, fmt, __VA_ARGS__), envp[n] = env[n], n++
	JM_ENV("DM_TARGET=%s", DM_JOBMIRROR_TARGET_NAME);
	JM_ENV("DM_NAME=%s", name);
	JM_ENV("DM_UUID=%s", uuid);
	JM_ENV("DM_JOBMIRROR_EVENT=%s", jm_event_names[event]);
	JM_ENV("DM_JOBMIRROR_SEQ=%llu", seq);
	JM_ENV("DM_JOBMIRROR_STATE=%s", jm_state_names[state]);
	JM_ENV("DM_JOBMIRROR_IOSTATUS=%s", jm_iostatus_names[iostatus]);
	JM_ENV("DM_JOBMIRROR_OFFSET=%llu", offset);
	JM_ENV("DM_JOBMIRROR_LEN=%llu", len);
	if (event == DM_JOBMIRROR_EVENT_JOB_ERROR) {
		JM_ENV("DM_JOBMIRROR_OPERATION=%s", jm_op_names[op]);
		JM_ENV("DM_JOBMIRROR_REASON=%s", jm_errno_name(err));
	}
#undef JM_ENV
	envp[n] = NULL;
	kobject_uevent_env(&disk_to_dev(dm_disk(md))->kobj, KOBJ_CHANGE, envp);
	kfree(env);
}

/**
 * jm_events_work() - send the pending events (process context).
 * @work: jobmirror.event_work.
 */
void jm_events_work(struct work_struct *work)
{
	struct jobmirror *jm = container_of(work, struct jobmirror, event_work);
	unsigned long pending;
	unsigned int ev;

	spin_lock_irq(&jm->lock);
	pending = jm->events_pending;
	jm->events_pending = 0;
	spin_unlock_irq(&jm->lock);

	for_each_set_bit(ev, &pending, DM_JOBMIRROR_NR_EVENTS)
		jm_send_uevent(jm, ev);
	if (pending)
		dm_table_event(jm->ti->table);
}
