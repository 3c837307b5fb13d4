// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: errors of user I/O, I/O hang and the stop policy.
 *
 * I/O hang (io_hang_timeout > 0): a user bio that fails with a path
 * error (EIO, ETIMEDOUT, ENOLINK, ENODEV) is not completed but held on
 * jobmirror.hung, and io becomes "hung".  Every io_hang_interval the hung
 * bios are sent again, in the order they failed.  A retry that fails
 * again waits for the next round; when every retry has succeeded the hang
 * is over (IO_HANG_RECOVERED).  When the hang has lasted io_hang_timeout
 * seconds the target gives up (IO_HANG_TIMEOUT): each hung bio goes on to
 * its policy below (a retry in flight then decides when it ends: if it
 * fails, its bio goes to the policy at once), and until a user bio
 * succeeds after the hang, path errors go straight to the policy too, so
 * a dead device fails fast instead of stalling every bio for the full
 * timeout.  The last round comes at the timeout at the latest.  Other errors
 * (ENOSPC, EOPNOTSUPP, a critical target error, a medium error, ...) and
 * readahead never hang.
 *
 * Policies (rerror for reads, werror for writes, flushes, discards),
 * after the hang, if any, gave up:
 *
 * - report: the bio completes with its error;
 * - ignore: the bio completes as successful;
 * - stop: the bio is held on jobmirror.held and io is "stopped" until
 *   the message "continue" sends the held bios again.  Bios in a hang
 *   (jm_bio.in_hang) failed before: they go on with it, up to their own
 *   timeout and policy.  A bio in flight at the stop that then fails
 *   with a path error joins that hang, or starts one while io stays
 *   stopped;
 * - enospc: stop for ENOSPC, report otherwise.
 *
 * Ordering: while io is hung or stopped, and after "continue" until the
 * bios it sent again have completed (jobmirror.gate), new bios are not
 * sent but wait on jobmirror.waiting in arrival order.  They are sent,
 * in that order, by the worker once no failed bio is held or being sent
 * again.  So no bio that reached the target after a bio failed reaches a
 * device before that bio has completed: a later write to the same
 * sectors always lands last.  Bios in flight together (those that failed
 * together, those that waited together) may complete in any order, as on
 * any block device.  A suspend weakens this: see below.
 *
 * Every policy decision is counted and raised as IO_ERROR.  Bios are
 * never copied: a bio's iterator, flags and op were saved when it was
 * mapped (jm_bio) and are put back before it is sent again, so holding
 * and retrying take no memory.
 *
 * Suspend: a noflush suspend hands the held, hung and waiting bios back
 * to dm, which keeps them across a table reload and sends them to the
 * table resumed next; io keeps its state until the resume, so bios that
 * would wait go back to dm too; dm sends them again together, so only
 * their submission order is kept (and not for bios dm split).  A flushing
 * suspend sends them all once more, together, and those that fail again
 * complete through their policy, with stop counting as report, so it
 * ends in bounded time.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>

#include "dm-jobmirror.h"

static struct jm_bio *jm_bio_data(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct jm_bio));
}

static int jm_bio_op(struct jm_bio *jb)
{
	return op_is_write(jb->bi_opf & REQ_OP_MASK) ? DM_JOBMIRROR_OP_WRITE :
						     DM_JOBMIRROR_OP_READ;
}

/* Put a bio back as it was mapped, to send or complete it again. */
static void jm_uio_reset(struct bio *bio)
{
	struct jm_bio *jb = jm_bio_data(bio);

	bio->bi_iter = jb->iter;
	bio->bi_flags = jb->bi_flags;
	bio->bi_opf = jb->bi_opf;
	bio->bi_status = BLK_STS_OK;
	/* A lower layer may have chained it: as new, nothing is pending. */
	atomic_set(&bio->__bi_remaining, 1);
	jb->tracked = false;
}

/* The bio is no longer in the hang.  Caller holds jm->lock. */
static void jm_hang_leave(struct jobmirror *jm, struct jm_bio *jb)
{
	if (jb->in_hang) {
		jb->in_hang = false;
		jm->nr_in_hang--;
	}
}

/*
 * Complete a bio that end_io kept (see jm_end_io()), or that waited in
 * the target, with @status.  jm_end_io() passes it straight on, so a bio
 * being sent again is no longer counted as such here: one that waited
 * for a metadata commit when a noflush suspend handed it back would
 * otherwise keep nr_retrying up, and io hung or gated, for good.
 */
static void jm_uio_finish(struct bio *bio, blk_status_t status, enum jm_finish finish)
{
	struct jm_bio *jb = jm_bio_data(bio);
	struct jobmirror *jm = jb->jm;
	unsigned long flags;

	if (jb->hang_retry || jb->in_hang) {
		spin_lock_irqsave(&jm->lock, flags);
		if (jb->hang_retry) {
			jb->hang_retry = false;
			jm->nr_retrying--;
		}
		jm_hang_leave(jm, jb);
		spin_unlock_irqrestore(&jm->lock, flags);
	}
	jm_uio_reset(bio);
	jb->finish = finish;
	bio->bi_status = status;
	bio_endio(bio);
}

/*
 * Send a bio again where it belongs now, whatever io is.  Not polled: it
 * may go to another device than the one its poll cookie was for.
 */
static void jm_uio_send(struct jobmirror *jm, struct bio *bio)
{
	jm_bio_data(bio)->bi_opf &= ~REQ_POLLED;
	jm_uio_reset(bio);
	bio->bi_cookie = BLK_QC_T_NONE;
	if (jm_route_bio(jm, bio) == DM_MAPIO_REMAPPED)
		dm_submit_bio_remap(bio, NULL);
}

/*
 * Errors of a path that may come back.  Not BLK_STS_TARGET: that is a
 * critical target error or an operation the device refuses (dm returns
 * it for discards a device does not support).
 */
static bool jm_hang_error(blk_status_t status)
{
	switch (status) {
	case BLK_STS_IOERR:
	case BLK_STS_TIMEOUT:
	case BLK_STS_TRANSPORT:
	case BLK_STS_OFFLINE:
		return true;
	default:
		return false;
	}
}

/*
 * Also while io is stopped: a bio that was in flight at the stop and
 * fails with a path error hangs, io staying stopped.  Caller holds
 * jm->lock.
 */
static bool jm_hang_applies(struct jobmirror *jm, struct jm_bio *jb, blk_status_t status)
{
	return jm->cfg.io_hang_timeout && jm_hang_error(status) && !jm->suspend_flush &&
	       !jm->hang_expired && !(jb->bi_opf & REQ_RAHEAD);
}

/* The policy for an error of @op; caller holds jm->lock. */
static enum dm_jobmirror_policy jm_policy_for(struct jobmirror *jm, int op, int err)
{
	enum dm_jobmirror_policy policy;

	policy = jm->cfg.policy[op == DM_JOBMIRROR_OP_READ ? JM_RERROR : JM_WERROR];
	if (policy == DM_JOBMIRROR_POLICY_ENOSPC)
		policy = err == -ENOSPC ? DM_JOBMIRROR_POLICY_STOP : DM_JOBMIRROR_POLICY_REPORT;
	if (policy == DM_JOBMIRROR_POLICY_STOP && jm->suspend_flush)
		policy = DM_JOBMIRROR_POLICY_REPORT;
	return policy;
}

/*
 * io runs again, and the fast path of jm_uio_hold_new() may see it:
 * whatever it must see with it (the gate) is stored first.  Caller holds
 * jm->lock.
 */
static void jm_uio_set_running(struct jobmirror *jm, bool gate)
{
	WRITE_ONCE(jm->gate, gate);
	/* Pairs with the acquire in jm_uio_hold_new(): gate before io. */
	smp_store_release(&jm->io_state, DM_JOBMIRROR_IO_RUNNING);
}

/* Count bios as being sent again; caller holds jm->lock. */
static void jm_uio_mark_retry(struct jobmirror *jm, struct bio_list *list)
{
	struct bio *bio;

	bio_list_for_each(bio, list) {
		jm_bio_data(bio)->hang_retry = true;
		jm->nr_retrying++;
	}
}

/* The hang is over: IO_HANG_RECOVERED, with its first failure.  Caller holds jm->lock. */
static void jm_hang_recovered_event(struct jobmirror *jm)
{
	jm_event_error(jm, DM_JOBMIRROR_EVENT_IO_HANG_RECOVERED, jm->hang_op,
		       DM_JOBMIRROR_POLICY_REPORT, jm->hang_errno, jm->hang_sector);
}

/*
 * No failed bio is held or being sent again any more: io runs, and the
 * bios that waited go to the worker.  Returns true when the worker must
 * run.  Caller holds jm->lock.
 */
static bool jm_uio_check_release(struct jobmirror *jm)
{
	if (jm->nr_hung || jm->nr_retrying)
		return false;
	if (jm->io_state == DM_JOBMIRROR_IO_HUNG) {
		jm_uio_set_running(jm, false);
		if (!jm->hang_unrecovered)
			jm_hang_recovered_event(jm);
	} else if (jm->io_state == DM_JOBMIRROR_IO_RUNNING && jm->gate) {
		WRITE_ONCE(jm->gate, false);
	} else {
		return false;
	}
	if (!jm->nr_waiting)
		return false;
	bio_list_merge(&jm->resubmit, &jm->waiting);
	bio_list_init(&jm->waiting);
	jm->nr_waiting = 0;
	return true;
}

/*
 * Apply the policy to a failed bio that is not retried (any more).
 * Returns the action; for stop the bio is on jobmirror.held, or must go
 * back to dm when *@requeue.  Caller holds jm->lock.
 */
static enum dm_jobmirror_policy jm_uio_policy(struct jobmirror *jm, struct bio *bio,
					      blk_status_t status, bool *requeue)
{
	struct jm_bio *jb = jm_bio_data(bio);
	int op = jm_bio_op(jb), err = blk_status_to_errno(status);
	enum dm_jobmirror_policy policy = jm_policy_for(jm, op, err);

	/*
	 * A readahead: the page cache drops the pages and reads those it
	 * needs again, each under the policy.  Holding it would stop the
	 * device for pages nobody asked for; ignoring it would make pages
	 * of garbage uptodate.
	 */
	if (jb->bi_opf & REQ_RAHEAD)
		policy = DM_JOBMIRROR_POLICY_REPORT;
	jm->io_errors++;
	*requeue = false;
	if (policy == DM_JOBMIRROR_POLICY_STOP) {
		/*
		 * Bios in a hang failed before this one: they go on being
		 * retried, up to their own timeout and policy.
		 */
		if (jm->io_state != DM_JOBMIRROR_IO_STOPPED) {
			jm->io_state = DM_JOBMIRROR_IO_STOPPED;
			jm->stop_op = op;
			jm->stop_errno = err;
		}
		/* A noflush suspend is under way: dm keeps the bio instead. */
		*requeue = dm_noflush_suspending(jm->ti);
		if (!*requeue) {
			bio_list_add(&jm->held, bio);
			jm->nr_held++;
		}
	}
	jm_event_error(jm, DM_JOBMIRROR_EVENT_IO_ERROR, op, policy, err, jb->iter.bi_sector);
	return policy;
}

static unsigned long jm_hang_deadline(struct jobmirror *jm)
{
	return jm->hang_start + (unsigned long)jm->cfg.io_hang_timeout * HZ;
}

static unsigned long jm_hang_interval(struct jobmirror *jm)
{
	return max(msecs_to_jiffies(jm->cfg.io_hang_interval), 1UL);
}

/*
 * When the next round is due: one interval from @now, or the deadline if
 * that comes first, or at once past it.
 */
static unsigned long jm_hang_next(struct jobmirror *jm, unsigned long now)
{
	unsigned long deadline = jm_hang_deadline(jm);

	if (time_after_eq(now, deadline))
		return 0;
	return max(min(jm_hang_interval(jm), deadline - now), 1UL);
}

/* Hold a failed bio for the hang.  Caller holds jm->lock. */
static void jm_hang_hold(struct jobmirror *jm, struct bio *bio, blk_status_t status)
{
	struct jm_bio *jb = jm_bio_data(bio);
	bool first = !jm->nr_in_hang;

	jb->hang_status = status;
	if (!jb->in_hang) {
		jb->in_hang = true;
		jm->nr_in_hang++;
	}
	bio_list_add(&jm->hung, bio);
	jm->nr_hung++;
	/*
	 * A new hang: io running, or stopped with no hang going on (io stays
	 * stopped, with the stop's reason).  Else this bio joins the hang,
	 * or is one of its retries.
	 */
	if (jm->io_state == DM_JOBMIRROR_IO_RUNNING ||
	    (jm->io_state == DM_JOBMIRROR_IO_STOPPED && first)) {
		if (jm->io_state == DM_JOBMIRROR_IO_RUNNING) {
			/* The gate stays: a mapper may have read io as running. */
			jm->io_state = DM_JOBMIRROR_IO_HUNG;
			jm->stop_op = jm_bio_op(jb);
			jm->stop_errno = blk_status_to_errno(status);
		}
		jm->hang_op = jm_bio_op(jb);
		jm->hang_errno = blk_status_to_errno(status);
		jm->hang_start = jiffies;
		jm->hang_sector = jb->iter.bi_sector;
		jm->hang_unrecovered = false;
		jm_event_error(jm, DM_JOBMIRROR_EVENT_IO_HANG, jm->hang_op,
			       DM_JOBMIRROR_POLICY_REPORT, jm->hang_errno, jm->hang_sector);
	}
	/* Does nothing if the next round is already due. */
	queue_delayed_work(jm->wq, &jm->hang_work, jm_hang_next(jm, jiffies));
}

/*
 * The hang lasted io_hang_timeout: every hung bio goes to its policy.
 * Those that complete are put on @done, those dm is to keep (a noflush
 * suspend started) on @back.  Caller holds jm->lock.
 */
static bool jm_hang_give_up(struct jobmirror *jm, struct bio_list *done,
			    struct bio_list *back)
{
	struct bio_list hung = jm->hung;
	struct bio *bio;
	bool requeue;

	bio_list_init(&jm->hung);
	jm->nr_hung = 0;
	jm->hang_expired = true;
	jm->hang_unrecovered = true;
	jm_event_error(jm, DM_JOBMIRROR_EVENT_IO_HANG_TIMEOUT, jm->hang_op,
		       jm_policy_for(jm, jm->hang_op, jm->hang_errno), jm->hang_errno,
		       jm->hang_sector);
	while ((bio = bio_list_pop(&hung))) {
		struct jm_bio *jb = jm_bio_data(bio);

		jm_hang_leave(jm, jb);
		switch (jm_uio_policy(jm, bio, jb->hang_status, &requeue)) {
		case DM_JOBMIRROR_POLICY_STOP:
			/* Newest first, as presuspend does: dm requeues at the head. */
			if (requeue)
				bio_list_add_head(back, bio);
			break;
		case DM_JOBMIRROR_POLICY_IGNORE:
			jb->hang_status = BLK_STS_OK;
			fallthrough;
		default:
			bio_list_add(done, bio);
			break;
		}
	}
	return jm_uio_check_release(jm);
}

/* Every io_hang_interval while hung: retry, or give up at the timeout. */
static void jm_hang_work(struct work_struct *work)
{
	struct jobmirror *jm = container_of(to_delayed_work(work), struct jobmirror, hang_work);
	struct bio_list list = BIO_EMPTY_LIST, back = BIO_EMPTY_LIST;
	unsigned long now = jiffies;
	bool kick = false, give_up = false;
	struct bio *bio;

	spin_lock_irq(&jm->lock);
	if (!jm->nr_hung) {
		/*
		 * All handed to dm by a noflush suspend: the hang is over.  Or
		 * only retries in flight: their ends decide.  One that fails
		 * brings the next round (past the deadline, at once); if all
		 * succeed, the hang is over, however long they took.  (Hung
		 * bios are retried while io is stopped too.)
		 */
		if (jm->io_state == DM_JOBMIRROR_IO_HUNG && !jm->nr_retrying)
			kick = jm_uio_check_release(jm);
	} else if (time_after_eq(now, jm_hang_deadline(jm))) {
		give_up = true;
		kick = jm_hang_give_up(jm, &list, &back);
	} else {
		list = jm->hung;
		bio_list_init(&jm->hung);
		jm->nr_hung = 0;
		jm_uio_mark_retry(jm, &list);
		queue_delayed_work(jm->wq, &jm->hang_work, jm_hang_next(jm, now));
	}
	spin_unlock_irq(&jm->lock);

	while ((bio = bio_list_pop(&list))) {
		if (give_up)
			jm_uio_finish(bio, jm_bio_data(bio)->hang_status, JM_FINISH_DONE);
		else
			jm_uio_send(jm, bio);
	}
	while ((bio = bio_list_pop(&back)))
		jm_uio_finish(bio, BLK_STS_OK, JM_FINISH_REQUEUE);
	if (kick)
		jm_job_kick(jm);
}

/**
 * jm_uio_hold_new() - hold a newly mapped bio while failed ones are held.
 * @jm: the target.
 * @bio: the bio, with its jm_bio saved.
 *
 * A bio mapped while io is hung or stopped, or while the bios "continue"
 * sent again are in flight, waits behind them.  During a noflush suspend
 * it goes back to dm instead (which keeps it for the next table), or the
 * suspend would wait forever.
 *
 * Return: JM_HOLD_NO, JM_HOLD_HELD, or JM_HOLD_REQUEUE.
 */
int jm_uio_hold_new(struct jobmirror *jm, struct bio *bio)
{
	unsigned long flags;
	int r = JM_HOLD_NO;

	/* Pairs with jm_uio_set_running(): the gate is read after io. */
	if (smp_load_acquire(&jm->io_state) == DM_JOBMIRROR_IO_RUNNING && !READ_ONCE(jm->gate))
		return JM_HOLD_NO;
	spin_lock_irqsave(&jm->lock, flags);
	if ((jm->io_state != DM_JOBMIRROR_IO_RUNNING || jm->gate) && !jm->suspend_flush) {
		if (dm_noflush_suspending(jm->ti)) {
			r = JM_HOLD_REQUEUE;
		} else {
			bio_list_add(&jm->waiting, bio);
			jm->nr_waiting++;
			r = JM_HOLD_HELD;
		}
	}
	spin_unlock_irqrestore(&jm->lock, flags);
	return r;
}

/*
 * The last bio of a hang succeeded while io is stopped (by another bio's
 * policy): the hang is over, io stays stopped.  Caller holds jm->lock.
 */
static void jm_hang_recovered_stopped(struct jobmirror *jm)
{
	if (jm->nr_in_hang || jm->io_state != DM_JOBMIRROR_IO_STOPPED || jm->hang_unrecovered)
		return;
	/* Once: a later success has no hang to end. */
	jm->hang_unrecovered = true;
	jm_hang_recovered_event(jm);
}

/**
 * jm_uio_end_io() - a user bio completed: hang, policy, or done.
 * @jm: the target.
 * @bio: the bio.
 * @error: its status; cleared for the ignore policy.
 *
 * Return: DM_ENDIO_DONE, DM_ENDIO_INCOMPLETE when the bio is held, or
 * DM_ENDIO_REQUEUE when dm is to keep it (noflush suspend).
 */
int jm_uio_end_io(struct jobmirror *jm, struct bio *bio, blk_status_t *error)
{
	struct jm_bio *jb = jm_bio_data(bio);
	enum dm_jobmirror_policy policy;
	bool retry = jb->hang_retry;
	unsigned long flags;
	bool kick = false;
	bool requeue, was_in_hang;
	int r;

	if (!*error && likely(!retry && !READ_ONCE(jm->hang_expired)))
		return DM_ENDIO_DONE;

	spin_lock_irqsave(&jm->lock, flags);
	if (retry) {
		jb->hang_retry = false;
		jm->nr_retrying--;
	}
	if (!*error) {
		/*
		 * The device works again: path errors may hang again.  A
		 * retry that succeeds says so too, even one that was still
		 * in flight when the hang gave up on the others.
		 */
		if (jb->in_hang) {
			jm_hang_leave(jm, jb);
			jm_hang_recovered_stopped(jm);
		}
		/* (Once no bio is left in the hang: it gives up only once.) */
		if (jm->io_state == DM_JOBMIRROR_IO_RUNNING || (retry && !jm->nr_in_hang))
			jm->hang_expired = false;
		kick = jm_uio_check_release(jm);
		r = DM_ENDIO_DONE;
	} else if (jm_hang_applies(jm, jb, *error)) {
		if (dm_noflush_suspending(jm->ti)) {
			jm_hang_leave(jm, jb);
			r = DM_ENDIO_REQUEUE;
			/* It may have been the last bio "continue" resent. */
			if (jm->io_state == DM_JOBMIRROR_IO_RUNNING)
				kick = jm_uio_check_release(jm);
		} else {
			jm_hang_hold(jm, bio, *error);
			r = DM_ENDIO_INCOMPLETE;
		}
	} else {
		was_in_hang = jb->in_hang;
		jm_hang_leave(jm, jb);
		/*
		 * The last bio of a hang failed with another error (ENOSPC,
		 * say): the device answers, so the hang is over, and its event
		 * comes before the policy's.
		 */
		if (!jm->nr_in_hang && !jm->hang_unrecovered &&
		    (was_in_hang || jm->io_state == DM_JOBMIRROR_IO_HUNG)) {
			jm->hang_unrecovered = true;
			jm_hang_recovered_event(jm);
		}
		policy = jm_uio_policy(jm, bio, *error, &requeue);
		if (requeue)
			r = DM_ENDIO_REQUEUE;
		else if (policy == DM_JOBMIRROR_POLICY_STOP)
			r = DM_ENDIO_INCOMPLETE;
		else
			r = DM_ENDIO_DONE;
		if (policy == DM_JOBMIRROR_POLICY_IGNORE)
			*error = BLK_STS_OK;
		kick = jm_uio_check_release(jm);
	}
	spin_unlock_irqrestore(&jm->lock, flags);
	if (kick)
		jm_job_kick(jm);
	return r;
}

/**
 * jm_uio_release() - send the bios that waited, in order (worker).
 * @jm: the target.
 */
void jm_uio_release(struct jobmirror *jm)
{
	struct bio_list list;
	struct bio *bio;

	list = jm_take_bios(jm, &jm->resubmit);
	while ((bio = bio_list_pop(&list)))
		jm_uio_send(jm, bio);
}

/**
 * jm_uio_continue() - the "continue" message: send the held bios again.
 * @jm: the target.
 *
 * The bios that waited behind them follow once they have completed.
 * Path errors may hang again, even if an earlier hang gave up.
 *
 * Return: 0, or -EBUSY if user I/O is not stopped.
 */
int jm_uio_continue(struct jobmirror *jm)
{
	struct bio_list list;
	struct bio *bio;
	bool kick;

	spin_lock_irq(&jm->lock);
	if (jm->io_state != DM_JOBMIRROR_IO_STOPPED) {
		spin_unlock_irq(&jm->lock);
		return -EBUSY;
	}
	jm->hang_expired = false;
	list = jm->held;
	bio_list_init(&jm->held);
	jm->nr_held = 0;
	jm_uio_mark_retry(jm, &list);
	if (jm->nr_in_hang) {
		/*
		 * A hang that went on under the stop: io is hung until it
		 * ends, with a new timeout from now, for the bios sent again
		 * now may join it.
		 */
		jm->io_state = DM_JOBMIRROR_IO_HUNG;
		jm->stop_op = jm->hang_op;
		jm->stop_errno = jm->hang_errno;
		jm->hang_start = jiffies;
	} else {
		jm_uio_set_running(jm, true);
	}
	jm_event(jm, DM_JOBMIRROR_EVENT_IO_CONTINUED);
	kick = jm_uio_check_release(jm);
	spin_unlock_irq(&jm->lock);

	while ((bio = bio_list_pop(&list)))
		jm_uio_send(jm, bio);
	if (kick)
		jm_job_kick(jm);
	return 0;
}

/**
 * jm_uio_held() - user bios held now, as the status shows them.
 * @jm: the target; caller holds jm->lock.
 *
 * Return: bios held by a stop, hung, being sent again, or waiting.
 */
unsigned int jm_uio_held(struct jobmirror *jm)
{
	return jm->nr_held + jm->nr_hung + jm->nr_retrying + jm->nr_waiting;
}

/**
 * jm_uio_presuspend() - give the held bios back, see the file comment.
 * @jm: the target.
 */
void jm_uio_presuspend(struct jobmirror *jm)
{
	bool noflush = dm_noflush_suspending(jm->ti);
	struct bio_list list = BIO_EMPTY_LIST, back = BIO_EMPTY_LIST;
	struct bio *bio;

	/* From now on nothing new is hung (flushing) or it is requeued. */
	spin_lock_irq(&jm->lock);
	if (!noflush)
		jm->suspend_flush = true;
	spin_unlock_irq(&jm->lock);
	cancel_delayed_work_sync(&jm->hang_work);

	spin_lock_irq(&jm->lock);
	/* A hang a suspend ends has no IO_HANG_RECOVERED. */
	if (jm->io_state == DM_JOBMIRROR_IO_HUNG || jm->nr_in_hang)
		jm->hang_unrecovered = true;
	/* Sent once more or given back: out of the hang. */
	bio_list_for_each(bio, &jm->hung)
		jm_hang_leave(jm, jm_bio_data(bio));
	/* Oldest first: hung, held by stop, ... */
	bio_list_merge(&list, &jm->hung);
	bio_list_merge(&list, &jm->held);
	/*
	 * ... bios waiting for a metadata commit, which dm keeps too (they
	 * were mapped while io was running, before any that waits) ...
	 */
	if (noflush) {
		bio_list_merge(&list, &jm->meta_wait);
		bio_list_merge(&list, &jm->commit_bios);
		bio_list_init(&jm->meta_wait);
		bio_list_init(&jm->commit_bios);
	}
	/* ... then those that waited behind a failure. */
	bio_list_merge(&list, &jm->waiting);
	bio_list_init(&jm->hung);
	bio_list_init(&jm->held);
	bio_list_init(&jm->waiting);
	jm->nr_hung = 0;
	jm->nr_held = 0;
	jm->nr_waiting = 0;
	if (!noflush) {
		bool was_held = jm->io_state != DM_JOBMIRROR_IO_RUNNING;

		jm_uio_set_running(jm, false);
		/* Sent once more, as by continue: say so (status first). */
		if (was_held)
			jm_event(jm, DM_JOBMIRROR_EVENT_IO_CONTINUED);
	}
	spin_unlock_irq(&jm->lock);

	if (!noflush) {
		while ((bio = bio_list_pop(&list)))
			jm_uio_send(jm, bio);
		return;
	}
	/*
	 * dm puts each requeued bio at the head of its list: give them back
	 * newest first, so that it sends them again oldest first.
	 */
	while ((bio = bio_list_pop(&list)))
		bio_list_add_head(&back, bio);
	while ((bio = bio_list_pop(&back)))
		jm_uio_finish(bio, BLK_STS_OK, JM_FINISH_REQUEUE);
}

/**
 * jm_uio_resume() - the stop policy and the hang apply again.
 * @jm: the target.
 *
 * A hang whose bios a noflush suspend gave to dm ends now; they come
 * back through the map like new ones.  Bios released here go to the
 * worker, which the caller (jm_job_resume()) kicks.
 */
void jm_uio_resume(struct jobmirror *jm)
{
	spin_lock_irq(&jm->lock);
	jm->suspend_flush = false;
	if (jm->io_state == DM_JOBMIRROR_IO_HUNG)
		queue_delayed_work(jm->wq, &jm->hang_work, 0);
	else
		jm_uio_check_release(jm);
	spin_unlock_irq(&jm->lock);
}

/**
 * jm_uio_postsuspend() - no retry runs while suspended.
 * @jm: the target.
 */
void jm_uio_postsuspend(struct jobmirror *jm)
{
	cancel_delayed_work_sync(&jm->hang_work);
}

/**
 * jm_uio_init() - set up the user I/O state of a new target.
 * @jm: the target.
 */
void jm_uio_init(struct jobmirror *jm)
{
	bio_list_init(&jm->held);
	bio_list_init(&jm->hung);
	bio_list_init(&jm->waiting);
	bio_list_init(&jm->resubmit);
	INIT_DELAYED_WORK(&jm->hang_work, jm_hang_work);
	jm->io_state = DM_JOBMIRROR_IO_RUNNING;
}
