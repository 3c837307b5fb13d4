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
#include <linux/sched/mm.h>
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
	/* The zone resource errors, the rest of what blk_status_to_errno() gives. */
	{ ETOOMANYREFS, "etoomanyrefs" }, { EOVERFLOW, "eoverflow" }, { EREMCHG, "eremchg" },
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

/* Events that end a state happen once a job: they are never dropped. */
static bool jm_event_is_once(unsigned int t)
{
	return t == DM_JOBMIRROR_EVENT_JOB_READY || t == DM_JOBMIRROR_EVENT_JOB_COMPLETED ||
	       t == DM_JOBMIRROR_EVENT_JOB_CANCELLED || t == DM_JOBMIRROR_EVENT_JOB_FAILED;
}

static struct jm_ev *jm_ev_at(struct jobmirror *jm, unsigned int i)
{
	return &jm->ev_ring[(jm->ev_head + i) % JM_EV_RING];
}

/*
 * @carry events of @type were dropped: the first one of that type queued
 * from position @from on says so, or else the next one queued.  Caller
 * holds jm->lock.
 */
static void jm_ev_carry(struct jobmirror *jm, unsigned int from, unsigned int type, u32 carry)
{
	unsigned int i;

	for (i = from; i < jm->ev_count; i++) {
		if (jm_ev_at(jm, i)->type == type) {
			jm_ev_at(jm, i)->suppressed += carry;
			return;
		}
	}
	jm->ev_suppressed[type] += carry;
}

/*
 * The ring is full and an event that must not be dropped comes: drop the
 * oldest queued event that may be, keeping the order of the others.  The
 * drop, and those the dropped event carried, go to the next event of its
 * type, queued or still to come.  Return false if there is none to drop.
 */
static bool jm_ev_evict(struct jobmirror *jm)
{
	unsigned int i, victim, type;
	u32 carry;

	for (victim = 0; victim < jm->ev_count; victim++)
		if (!jm_event_is_once(jm_ev_at(jm, victim)->type))
			break;
	if (victim == jm->ev_count)
		return false;
	type = jm_ev_at(jm, victim)->type;
	carry = jm_ev_at(jm, victim)->suppressed + 1;
	for (i = victim; i + 1 < jm->ev_count; i++)
		*jm_ev_at(jm, i) = *jm_ev_at(jm, i + 1);
	jm->ev_count--;
	/* From victim on are the events queued after it. */
	jm_ev_carry(jm, victim, type, carry);
	return true;
}

/*
 * Queue an event; caller holds jm->lock and has updated the state.
 * event_seq counts every event; at most JM_EV_BURST of one type are sent
 * per JM_EV_WINDOW, the rest are counted in the next one sent of that type
 * (DM_JOBMIRROR_SUPPRESSED).  A full ring drops events too, but never one
 * that ends a state: it takes the place of an older one that may be dropped.
 */
static void jm_queue_event(struct jobmirror *jm, struct jm_ev *ev)
{
	unsigned int t = ev->type;
	bool once = jm_event_is_once(t);

	lockdep_assert_held(&jm->lock);
	ev->seq = ++jm->event_seq;
	/* Even a dropped event wakes "dmsetup wait" (dm_table_event). */
	jm->ev_wake = true;
	schedule_work(&jm->event_work);
	if (time_after(jiffies, jm->ev_window_start[t] + JM_EV_WINDOW)) {
		jm->ev_window_start[t] = jiffies;
		jm->ev_window_sent[t] = 0;
	}
	if ((!once && jm->ev_window_sent[t] >= JM_EV_BURST) ||
	    (jm->ev_count == JM_EV_RING && !(once && jm_ev_evict(jm)))) {
		jm->ev_suppressed[t]++;
		return;
	}
	jm->ev_window_sent[t]++;
	ev->suppressed = jm->ev_suppressed[t];
	jm->ev_suppressed[t] = 0;
	jm->ev_ring[(jm->ev_head + jm->ev_count) % JM_EV_RING] = *ev;
	jm->ev_count++;
}

/**
 * jm_event() - raise an event.
 * @jm: the target; caller holds jm->lock and has updated the state.
 * @event: which one.
 */
void jm_event(struct jobmirror *jm, enum dm_jobmirror_event event)
{
	struct jm_ev ev = { .type = event };

	jm_queue_event(jm, &ev);
}

/**
 * jm_event_error() - raise an error event.
 * @jm: the target; caller holds jm->lock and has updated the state.
 * @event: JOB_ERROR, JOB_FAILED, IO_ERROR or an IO_HANG* event.
 * @op: enum dm_jobmirror_op.
 * @action: the policy applied: report, ignore or stop.
 * @err: the negative errno.
 * @sector: first sector of the failed I/O, target relative.
 */
void jm_event_error(struct jobmirror *jm, enum dm_jobmirror_event event, int op,
		    enum dm_jobmirror_policy action, int err, sector_t sector)
{
	struct jm_ev ev = {
		.type = event, .op = op, .action = action, .err = err, .sector = sector,
	};

	jm_queue_event(jm, &ev);
}

static __printf(4, 5) void jm_env(char (*env)[JM_ENV_LEN], char **envp,
				  unsigned int *n, const char *fmt, ...)
{
	va_list ap;

	if (*n >= JM_ENV_VARS)
		return;
	va_start(ap, fmt);
	vsnprintf(env[*n], JM_ENV_LEN, fmt, ap);
	va_end(ap);
	envp[*n] = env[*n];
	(*n)++;
}

static bool jm_is_error_event(unsigned int type)
{
	return type == DM_JOBMIRROR_EVENT_JOB_ERROR || type == DM_JOBMIRROR_EVENT_JOB_FAILED ||
	       type == DM_JOBMIRROR_EVENT_IO_ERROR ||
	       type == DM_JOBMIRROR_EVENT_IO_HANG || type == DM_JOBMIRROR_EVENT_IO_HANG_TIMEOUT ||
	       type == DM_JOBMIRROR_EVENT_IO_HANG_RECOVERED;
}

/* A hang and its recovery apply no policy: they have no action. */
static bool jm_event_has_action(unsigned int type)
{
	return type != DM_JOBMIRROR_EVENT_IO_HANG && type != DM_JOBMIRROR_EVENT_IO_HANG_RECOVERED;
}

static int jm_send_uevent(struct jobmirror *jm, const struct jm_ev *ev)
{
	char (*env)[JM_ENV_LEN] = jm->ev_env;
	struct mapped_device *md = dm_table_get_md(jm->ti->table);
	char name[DM_NAME_LEN], uuid[DM_UUID_LEN];
	char *envp[JM_ENV_VARS + 1];
	enum dm_jobmirror_iostatus iostatus;
	enum dm_jobmirror_state state;
	unsigned int n = 0;
	u64 offset, len;

	if (dm_copy_name_and_uuid(md, name, uuid)) {
		name[0] = '\0';
		uuid[0] = '\0';
	}
	/* The status now: never older than the event. */
	spin_lock_irq(&jm->lock);
	state = jm->state;
	iostatus = jm->iostatus;
	offset = jm->copied;
	len = jm->work_total;
	spin_unlock_irq(&jm->lock);

	jm_env(env, envp, &n, "DM_TARGET=%s", DM_JOBMIRROR_TARGET_NAME);
	jm_env(env, envp, &n, "DM_NAME=%s", name);
	jm_env(env, envp, &n, "DM_UUID=%s", uuid);
	jm_env(env, envp, &n, DM_JOBMIRROR_UEV_EVENT "=%s", jm_event_names[ev->type]);
	jm_env(env, envp, &n, DM_JOBMIRROR_UEV_SEQ "=%llu", ev->seq);
	jm_env(env, envp, &n, DM_JOBMIRROR_UEV_STATE "=%s", jm_state_names[state]);
	jm_env(env, envp, &n, DM_JOBMIRROR_UEV_IOSTATUS "=%s", jm_iostatus_names[iostatus]);
	jm_env(env, envp, &n, DM_JOBMIRROR_UEV_OFFSET "=%llu", offset);
	jm_env(env, envp, &n, DM_JOBMIRROR_UEV_LEN "=%llu", len);
	if (jm_is_error_event(ev->type)) {
		jm_env(env, envp, &n, DM_JOBMIRROR_UEV_OPERATION "=%s", jm_op_names[ev->op]);
		if (jm_event_has_action(ev->type))
			jm_env(env, envp, &n, DM_JOBMIRROR_UEV_ACTION "=%s",
			       jm_policy_names[ev->action]);
		jm_env(env, envp, &n, DM_JOBMIRROR_UEV_REASON "=%s", jm_errno_name(ev->err));
		jm_env(env, envp, &n, DM_JOBMIRROR_UEV_SECTOR "=%llu", (u64)ev->sector);
	}
	jm_env(env, envp, &n, DM_JOBMIRROR_UEV_SUPPRESSED "=%u", ev->suppressed);
	envp[n] = NULL;
	return kobject_uevent_env(&disk_to_dev(dm_disk(md))->kobj, KOBJ_CHANGE, envp);
}

/* One kernel log line per error event sent (so rate limited with them). */
static void jm_log_error(struct jobmirror *jm, const struct jm_ev *ev)
{
	const char *what = jm_policy_names[ev->action];
	char name[DM_NAME_LEN];

	if (ev->type == DM_JOBMIRROR_EVENT_IO_HANG)
		what = "held, retrying";
	else if (ev->type == DM_JOBMIRROR_EVENT_IO_HANG_RECOVERED)
		what = "the hang is over";
	else if (ev->type == DM_JOBMIRROR_EVENT_JOB_FAILED)
		what = ev->action == DM_JOBMIRROR_POLICY_IGNORE ?
		       "regions skipped, the job failed" : "the job failed";
	jm_log_name(jm, name);
	DMWARN("%s: %s: %s %s at sector %llu: %s%s", name, jm_event_names[ev->type],
	       jm_op_names[ev->op], jm_errno_name(ev->err), (u64)ev->sector,
	       what, ev->suppressed ? " (more suppressed)" : "");
}

/**
 * jm_events_work() - send the queued events, oldest first (process context).
 * @work: jobmirror.event_work.
 */
void jm_events_work(struct work_struct *work)
{
	struct jobmirror *jm = container_of(work, struct jobmirror, event_work);
	unsigned int noio;
	struct jm_ev ev;
	bool wake;

	/*
	 * On the system queue, not jm->wq, and with no I/O for reclaim: a
	 * uevent allocates, and this device may be the one that is stuck.
	 * (The variables' room was taken at table load: a work item never
	 * runs twice at once.)
	 */
	noio = memalloc_noio_save();
	for (;;) {
		spin_lock_irq(&jm->lock);
		wake = jm->ev_wake;
		jm->ev_wake = false;
		if (!jm->ev_count) {
			spin_unlock_irq(&jm->lock);
			if (wake)
				dm_table_event(jm->ti->table);
			break;
		}
		ev = jm->ev_ring[jm->ev_head];
		jm->ev_head = (jm->ev_head + 1) % JM_EV_RING;
		jm->ev_count--;
		spin_unlock_irq(&jm->lock);

		dm_table_event(jm->ti->table);
		if (jm_send_uevent(jm, &ev)) {
			/* Not sent (no memory, say): the next one of its type says so. */
			spin_lock_irq(&jm->lock);
			jm_ev_carry(jm, 0, ev.type, ev.suppressed + 1);
			spin_unlock_irq(&jm->lock);
		}
		if (jm_is_error_event(ev.type))
			jm_log_error(jm, &ev);
	}
	memalloc_noio_restore(noio);
}
