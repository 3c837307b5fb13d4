// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: errors of user I/O.
 *
 * A user bio that completes with an error goes through the policy of its
 * direction (rerror for reads, werror for writes, flushes, discards):
 *
 * - report: the bio completes with its error;
 * - ignore: the bio completes as successful;
 * - stop: the bio is held, and so is every bio mapped after it; io is
 *   "stopped" until the message "continue" sends them all again, in the
 *   order they arrived;
 * - enospc: stop for ENOSPC, report otherwise.
 *
 * Every error is counted and raised as IO_ERROR.  A held bio is not
 * copied: its iterator, flags and op were saved when it was mapped
 * (jm_bio) and are put back before it is sent again.
 *
 * Suspend: a noflush suspend hands the held bios back to dm, which keeps
 * them across a table reload and sends them to the new table on resume;
 * while it is under way, bios that would be held go back to dm too.  A
 * flushing suspend sends them once more, and those that fail again
 * complete with their error (stop counts as report until the resume).
 */
#include <linux/bio.h>
#include <linux/blkdev.h>

#include "dm-jobmirror.h"

static struct jm_bio *jm_bio_data(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct jm_bio));
}

/**
 * jm_uio_hold_new() - hold a newly mapped bio while user I/O is stopped.
 * @jm: the target.
 * @bio: the bio, with its jm_bio saved.
 *
 * During a noflush suspend nothing is held: the bio goes back to dm
 * (which keeps it for the next table), or the suspend would wait forever.
 *
 * Return: JM_HOLD_NO, JM_HOLD_HELD, or JM_HOLD_REQUEUE.
 */
int jm_uio_hold_new(struct jobmirror *jm, struct bio *bio)
{
	unsigned long flags;
	int r = JM_HOLD_NO;

	if (READ_ONCE(jm->io_state) != DM_JOBMIRROR_IO_STOPPED)
		return JM_HOLD_NO;
	spin_lock_irqsave(&jm->lock, flags);
	if (jm->io_state == DM_JOBMIRROR_IO_STOPPED && !jm->suspend_flush) {
		if (dm_noflush_suspending(jm->ti)) {
			r = JM_HOLD_REQUEUE;
		} else {
			bio_list_add(&jm->held, bio);
			jm->nr_held++;
			r = JM_HOLD_HELD;
		}
	}
	spin_unlock_irqrestore(&jm->lock, flags);
	return r;
}

/**
 * jm_uio_error() - apply the user I/O policy to a failed bio (end_io).
 * @jm: the target.
 * @bio: the bio.
 * @error: its status; cleared for the ignore policy.
 *
 * Return: DM_ENDIO_DONE, or DM_ENDIO_INCOMPLETE when the bio is held.
 */
int jm_uio_error(struct jobmirror *jm, struct bio *bio, blk_status_t *error)
{
	struct jm_bio *jb = jm_bio_data(bio);
	int op = op_is_write(bio_op(bio)) ? DM_JOBMIRROR_OP_WRITE : DM_JOBMIRROR_OP_READ;
	int err = blk_status_to_errno(*error);
	enum dm_jobmirror_policy policy;
	unsigned long flags;
	bool requeue;

	policy = jm->cfg.policy[op == DM_JOBMIRROR_OP_READ ? JM_RERROR : JM_WERROR];
	if (policy == DM_JOBMIRROR_POLICY_ENOSPC)
		policy = err == -ENOSPC ? DM_JOBMIRROR_POLICY_STOP : DM_JOBMIRROR_POLICY_REPORT;

	spin_lock_irqsave(&jm->lock, flags);
	if (policy == DM_JOBMIRROR_POLICY_STOP && jm->suspend_flush)
		policy = DM_JOBMIRROR_POLICY_REPORT;
	jm->io_errors++;
	requeue = policy == DM_JOBMIRROR_POLICY_STOP && dm_noflush_suspending(jm->ti);
	if (policy == DM_JOBMIRROR_POLICY_STOP) {
		if (jm->io_state != DM_JOBMIRROR_IO_STOPPED) {
			jm->io_state = DM_JOBMIRROR_IO_STOPPED;
			jm->stop_op = op;
			jm->stop_errno = err;
		}
		if (!requeue) {
			bio_list_add(&jm->held, bio);
			jm->nr_held++;
		}
	}
	jm_event_error(jm, DM_JOBMIRROR_EVENT_IO_ERROR, op, policy, err, jb->iter.bi_sector);
	spin_unlock_irqrestore(&jm->lock, flags);

	/* A noflush suspend is under way: dm keeps the bio instead. */
	if (requeue)
		return DM_ENDIO_REQUEUE;
	if (policy == DM_JOBMIRROR_POLICY_STOP)
		return DM_ENDIO_INCOMPLETE;
	if (policy == DM_JOBMIRROR_POLICY_IGNORE)
		*error = BLK_STS_OK;
	return DM_ENDIO_DONE;
}

/**
 * jm_uio_resubmit() - send a held bio again (process context).
 * @jm: the target.
 * @bio: the bio, as it completed.
 */
void jm_uio_resubmit(struct jobmirror *jm, struct bio *bio)
{
	struct jm_bio *jb = jm_bio_data(bio);

	bio->bi_iter = jb->iter;
	bio->bi_flags = jb->bi_flags;
	bio->bi_opf = jb->bi_opf;
	bio->bi_status = BLK_STS_OK;
	/* A lower layer may have chained it: as new, nothing is pending. */
	atomic_set(&bio->__bi_remaining, 1);
	jb->tracked = false;
	switch (jm_uio_hold_new(jm, bio)) {
	case JM_HOLD_HELD:
		return;
	case JM_HOLD_REQUEUE:
		jb->requeue = true;
		bio_endio(bio);
		return;
	}
	if (jm_route_bio(jm, bio) == DM_MAPIO_REMAPPED)
		dm_submit_bio_remap(bio, NULL);
}

/**
 * jm_uio_continue() - the "continue" message: send the held bios again.
 * @jm: the target.
 *
 * Return: 0, or -EBUSY if user I/O is not stopped.
 */
int jm_uio_continue(struct jobmirror *jm)
{
	spin_lock_irq(&jm->lock);
	if (jm->io_state != DM_JOBMIRROR_IO_STOPPED) {
		spin_unlock_irq(&jm->lock);
		return -EBUSY;
	}
	jm->io_state = DM_JOBMIRROR_IO_RUNNING;
	bio_list_merge(&jm->resubmit, &jm->held);
	bio_list_init(&jm->held);
	jm->nr_held = 0;
	jm_event(jm, DM_JOBMIRROR_EVENT_IO_CONTINUED);
	spin_unlock_irq(&jm->lock);
	jm_job_kick(jm);
	return 0;
}

/**
 * jm_uio_presuspend() - give the held bios back, see the file comment.
 * @jm: the target.
 */
void jm_uio_presuspend(struct jobmirror *jm)
{
	bool noflush = dm_noflush_suspending(jm->ti);
	struct bio_list held;
	struct bio *bio;

	spin_lock_irq(&jm->lock);
	held = jm->held;
	bio_list_init(&jm->held);
	jm->nr_held = 0;
	if (!noflush) {
		jm->suspend_flush = true;
		jm->io_state = DM_JOBMIRROR_IO_RUNNING;
	}
	spin_unlock_irq(&jm->lock);

	while ((bio = bio_list_pop(&held))) {
		if (noflush) {
			/* dm requeues it (DM_ENDIO_REQUEUE) and keeps it. */
			jm_bio_data(bio)->requeue = true;
			bio_endio(bio);
		} else {
			jm_uio_resubmit(jm, bio);
		}
	}
}

/**
 * jm_uio_resume() - stop policy applies again.
 * @jm: the target.
 */
void jm_uio_resume(struct jobmirror *jm)
{
	spin_lock_irq(&jm->lock);
	jm->suspend_flush = false;
	spin_unlock_irq(&jm->lock);
}
