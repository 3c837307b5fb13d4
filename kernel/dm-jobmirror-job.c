// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: the job engine of a mirror job.
 *
 * One worker (jm_worker) drives the job: it dispatches writes that waited
 * behind a copy, starts copies of dirty regions up to max_copies at a
 * time within the rate limit, and moves the job through its states:
 *
 *   running -> ready (all clean, nothing in flight, dest flushed)
 *   ready -> completed (complete: all I/O now goes to the dest)
 *   ready -> cancelled (cancel: dest left as a consistent copy)
 *   running -> cancelled (cancel before ready: the copy just stops)
 *   running/ready -> paused/standby and back (pause, resume, stop policy)
 *   any live state -> failed (report policy)
 *
 * A copy moves a run of contiguous dirty regions (at most 1 MiB, or one
 * region if regions are larger, in 1 MiB chunks) with a read bio to the
 * source and a write bio to the dest, built on pages of its own: no
 * allocation once the target is constructed.  Each step of a copy runs in
 * its own work item, so copies proceed in parallel.
 */
#include <linux/module.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/slab.h>

#include "dm-jobmirror.h"

static unsigned int max_copies = 4;
module_param(max_copies, uint, 0644);
MODULE_PARM_DESC(max_copies, "Copies in flight per job, 1 to 16 (read at table load)");

/* Rate limit time slice. */
#define JM_RL_SLICE_NS		(100 * NSEC_PER_MSEC)
/* Wait before another pass over regions that only failed (ignore policy). */
#define JM_ERROR_BACKOFF	(HZ)
/* Stream: commit the metadata this long after a region got populated. */
#define JM_COMMIT_PERIOD	(HZ)

/**
 * jm_job_kick() - have the worker look at the job.
 * @jm: the target.
 */
void jm_job_kick(struct jobmirror *jm)
{
	queue_work(jm->wq, &jm->work);
}

static bool jm_stream(struct jobmirror *jm)
{
	return jm->cfg.mode == DM_JOBMIRROR_MODE_STREAM;
}

static bool jm_live(enum dm_jobmirror_state state)
{
	return state == DM_JOBMIRROR_STATE_RUNNING || state == DM_JOBMIRROR_STATE_PAUSED ||
	       state == DM_JOBMIRROR_STATE_READY || state == DM_JOBMIRROR_STATE_STANDBY;
}

/* --- rate limiting: a quota of bytes per 100 ms slice --- */

static void jm_rl_reset(struct jobmirror *jm)
{
	jm->rl_slice_end = 0;
	jm->rl_dispatched = 0;
}

static u64 jm_rl_quota(struct jobmirror *jm)
{
	return max_t(u64, div_u64(jm->speed, NSEC_PER_SEC / JM_RL_SLICE_NS), 1);
}

/*
 * How long before the next copy may start (0: now).  Each slice lets a
 * quota of bytes start; a copy larger than what is left may still start
 * and its excess is paid from the following slices, so the long-term
 * rate is exact whatever the size of a copy.
 */
static u64 jm_rl_wait(struct jobmirror *jm)
{
	u64 now = ktime_get_ns(), quota, n;

	if (!jm->speed)
		return 0;
	quota = jm_rl_quota(jm);
	if (!jm->rl_slice_end) {
		jm->rl_slice_end = now + JM_RL_SLICE_NS;
		jm->rl_dispatched = 0;
	} else if (now >= jm->rl_slice_end) {
		n = div64_u64(now - jm->rl_slice_end, JM_RL_SLICE_NS) + 1;
		jm->rl_slice_end += n * JM_RL_SLICE_NS;
		jm->rl_dispatched -= min(jm->rl_dispatched, n * quota);
	}
	return jm->rl_dispatched >= quota ? jm->rl_slice_end - now : 0;
}

static void jm_rl_charge(struct jobmirror *jm, u64 bytes)
{
	if (jm->speed)
		jm->rl_dispatched += bytes;
}

/* --- copies --- */

static void jm_copy_endio(struct bio *bio)
{
	struct jm_copy *c = container_of(bio, struct jm_copy, bio);

	c->status = bio->bi_status;
	queue_work(c->jm->wq, &c->work);
}

/* Read or write the chunk at c->sector. */
static void jm_copy_submit(struct jm_copy *c, blk_opf_t opf)
{
	struct jobmirror *jm = c->jm;
	struct block_device *bdev = op_is_write(opf) ? jm->dest->bdev : jm->source->bdev;
	unsigned int bytes = c->chunk << SECTOR_SHIFT, i, len;

	bio_init(&c->bio, bdev, c->bvec, JM_COPY_PAGES, opf);
	c->bio.bi_iter.bi_sector = c->sector;
	c->bio.bi_end_io = jm_copy_endio;
	for (i = 0; bytes; i++, bytes -= len) {
		len = min_t(unsigned int, bytes, PAGE_SIZE);
		__bio_add_page(&c->bio, c->pages[i], len, 0);
	}
	submit_bio_noacct(&c->bio);
}

static void jm_copy_read_chunk(struct jm_copy *c)
{
	c->chunk = min_t(sector_t, c->end - c->sector, JM_COPY_MAX_SECTORS);
	c->state = JM_COPY_READ;
	jm_copy_submit(c, REQ_OP_READ);
}

/* Give a copy slot back; caller holds jm->lock. */
static void jm_copy_release(struct jobmirror *jm, struct jm_copy *c)
{
	bio_list_merge(&jm->retry, &c->deferred);
	bio_list_init(&c->deferred);
	c->state = JM_COPY_FREE;
	jm->copies_active--;
	if (!jm->copies_active)
		wake_up_all(&jm->drain_wait);
}

/* End a hold: writes go by @route from now on, the held ones too. */
static void jm_release_hold(struct jobmirror *jm, enum jm_route route)
{
	lockdep_assert_held(&jm->lock);
	jm->route = route;
	if (!bio_list_empty(&jm->hold)) {
		bio_list_merge(&jm->retry, &jm->hold);
		bio_list_init(&jm->hold);
		jm_job_kick(jm);
	}
}

/*
 * The job was paused or resumed, or a pause asked for, or it failed: a
 * table loaded later starts paused or not by the header, so commit it
 * soon.  While suspended the commit waits for postsuspend or the resume
 * (jm_job_resume()).  Caller holds jm->lock (any context).
 */
static void jm_meta_state_changed(struct jobmirror *jm)
{
	if (!jm->meta)
		return;
	jm->meta_gen++;
	if (!jm->suspended)
		mod_delayed_work(jm->wq, &jm->commit_dwork, 0);
}

/*
 * Where a mirror's writes go once its job is over without a pivot; caller
 * holds jm->lock.  The source alone, unless the newest header on the
 * metadata device may hold the completed flag of a pivot that did not
 * happen (its commit failed, and so did the commit that took the flag
 * back): a crash would then map the device to the dest, so the dest gets
 * every write too until a commit takes the flag back, see
 * jm_job_flag_taken_back().
 */
static enum jm_route jm_route_alone(struct jobmirror *jm)
{
	return jm_flag_in_doubt(jm) ? JM_ROUTE_SYNC : JM_ROUTE_SOURCE;
}

/**
 * jm_job_flag_taken_back() - a header without the completed flag is written.
 * @jm: the target (a mirror with a metadata device); caller holds jm->lock.
 *
 * A job over without a pivot whose writes went to both devices because of
 * the flag (jm_route_alone()) goes on with the source alone.
 *
 * Return: true if it did (the caller logs it, outside the lock).
 */
bool jm_job_flag_taken_back(struct jobmirror *jm)
{
	lockdep_assert_held(&jm->lock);
	if (jm->route != JM_ROUTE_SYNC || jm_live(jm->state))
		return false;
	jm->route = JM_ROUTE_SOURCE;
	return true;
}

/*
 * The job ends in state failed; caller holds jm->lock and raises the event.
 * A mirror device goes on with the source alone (see jm_route_alone()), a
 * stream device as it is: what is populated from the dest, the rest from
 * the source.  While a mirror's pivot is being committed its held writes
 * wait until the completed flag is taken back (jm_commit_pivot()): sent
 * to the source before, a crash could leave a flag that maps them to the
 * dest, which never got them.
 */
static void jm_job_fail(struct jobmirror *jm, int op, int err, sector_t sector)
{
	jm->state = DM_JOBMIRROR_STATE_FAILED;
	if (!jm_stream(jm) && !jm->pivot_committing)
		jm_release_hold(jm, jm_route_alone(jm));
	jm->job_error_op = op;
	jm->job_errno = err;
	jm->job_error_sector = sector;
	jm_meta_state_changed(jm);
}

/*
 * JOB_FAILED, with the error that ended the job and the policy that let
 * it: report, or ignore for a stream that skipped regions.  Caller holds
 * jm->lock.
 */
static void jm_job_failed_event(struct jobmirror *jm, enum dm_jobmirror_policy action)
{
	jm_event_error(jm, DM_JOBMIRROR_EVENT_JOB_FAILED, jm->job_error_op, action,
		       jm->job_errno, jm->job_error_sector);
}

/*
 * The job error policy, see jm_job_error(); @copy for an error of a
 * background copy.
 */
static void __jm_job_error(struct jobmirror *jm, int op, int err, sector_t sector, bool copy)
{
	enum dm_jobmirror_policy policy;

	lockdep_assert_held(&jm->lock);
	if (op == DM_JOBMIRROR_OP_READ) {
		jm->src_errors++;
		policy = jm->cfg.policy[JM_ON_SOURCE_ERROR];
	} else {
		jm->dst_errors++;
		policy = jm->cfg.policy[JM_ON_TARGET_ERROR];
	}
	if (policy == DM_JOBMIRROR_POLICY_ENOSPC)
		policy = err == -ENOSPC ? DM_JOBMIRROR_POLICY_STOP : DM_JOBMIRROR_POLICY_REPORT;
	jm->last_error_op = op;
	jm->last_errno = err;
	jm->last_error_sector = sector;
	/* A job that is over (or pausing for an earlier error) only counts. */
	if (!jm_live(jm->state))
		return;
	/*
	 * A copy that was under way when cancel was sent before ready: the
	 * job ends cancelled all the same, and the dest is not kept.
	 */
	if (copy && jm->cancel_requested && jm->state == DM_JOBMIRROR_STATE_RUNNING)
		policy = DM_JOBMIRROR_POLICY_IGNORE;

	switch (policy) {
	case DM_JOBMIRROR_POLICY_IGNORE:
		break;
	case DM_JOBMIRROR_POLICY_STOP:
		jm->iostatus = err == -ENOSPC ? DM_JOBMIRROR_IOSTATUS_NOSPACE :
						DM_JOBMIRROR_IOSTATUS_FAILED;
		/*
		 * Once: the commit that records the pause may fail too, and
		 * must not be queued again by its own error.  The worker
		 * carries out the pause, also while it waits on the rate limit.
		 */
		if ((jm->state == DM_JOBMIRROR_STATE_RUNNING ||
		     jm->state == DM_JOBMIRROR_STATE_READY) && !jm->pause_requested) {
			jm->pause_requested = true;
			jm_meta_state_changed(jm);
			jm_job_kick(jm);
		}
		break;
	default:
		jm_job_fail(jm, op, err, sector);
		break;
	}
	jm_event_error(jm, DM_JOBMIRROR_EVENT_JOB_ERROR, op, policy, err, sector);
	if (jm->state == DM_JOBMIRROR_STATE_FAILED)
		jm_job_failed_event(jm, DM_JOBMIRROR_POLICY_REPORT);
}

/**
 * jm_job_error() - apply the job error policy.
 * @jm: the target; caller holds jm->lock (any context).
 * @op: DM_JOBMIRROR_OP_READ for a copy read or a flush of the source
 *	(on_source_error), DM_JOBMIRROR_OP_WRITE for a write or flush of the
 *	dest (on_target_error).
 * @err: the negative errno.
 * @sector: where, target relative.
 */
void jm_job_error(struct jobmirror *jm, int op, int err, sector_t sector)
{
	__jm_job_error(jm, op, err, sector, false);
}

/*
 * A copy stopped at c->sector, before its end: its regions from the one
 * it stopped in are dirty again; caller holds jm->lock.  The status's
 * len already counts the part the copy did not do, which jm_mark_dirty()
 * counts again for the regions it marks: take that part back, so that
 * len grows only by what was copied of the region it stopped in (done
 * again), and offset meets len once all is clean.  A metadata commit
 * whose snapshot may have missed the regions looks again (meta_redirty).
 */
static void jm_copy_redirty(struct jobmirror *jm, struct jm_copy *c)
{
	jm->meta_redirty++;
	jm_mark_dirty(jm, jm_sector_to_region(jm, c->sector), c->region + c->nr_regions - 1);
	jm->work_total -= c->end - c->sector;
}

static void jm_copy_failed(struct jobmirror *jm, struct jm_copy *c, int op, int err)
{
	/* What this copy did not finish is still to do. */
	jm_copy_redirty(jm, c);
	__jm_job_error(jm, op, err, c->sector, true);
}

/* Whether a background copy may go on to its next chunk; caller holds jm->lock. */
static bool jm_copy_may_go_on(struct jobmirror *jm)
{
	return jm_live(jm->state) && !jm->suspended && !jm->pause_requested &&
	       !(jm->cancel_requested && jm->state == DM_JOBMIRROR_STATE_RUNNING);
}

static void jm_copy_work(struct work_struct *work)
{
	struct jm_copy *c = container_of(work, struct jm_copy, work);
	struct jobmirror *jm = c->jm;
	int op = c->state == JM_COPY_READ ? DM_JOBMIRROR_OP_READ : DM_JOBMIRROR_OP_WRITE;
	struct bio_list failed = BIO_EMPTY_LIST;
	blk_status_t status = c->status;
	struct bio *bio;

	bio_uninit(&c->bio);
	if (!status && c->state == JM_COPY_READ) {
		c->state = JM_COPY_WRITE;
		jm_copy_submit(c, REQ_OP_WRITE);
		return;
	}

	spin_lock_irq(&jm->lock);
	if (status) {
		jm_copy_failed(jm, c, op, blk_status_to_errno(status));
		/*
		 * Writes that waited for a stream region to be hydrated fail
		 * with the copy's error (sent again, they would only start
		 * another copy of the same source), but a write of the whole
		 * region needs no source: it is routed again and populates
		 * the region.  Those behind a background copy are routed
		 * again too and start their own.
		 */
		while (c->urgent && (bio = bio_list_pop(&c->deferred))) {
			if (jm_stream_whole_write(jm, bio))
				bio_list_add(&jm->retry, bio);
			else
				bio_list_add(&failed, bio);
		}
	} else {
		c->sector += c->chunk;
		jm->copied += c->chunk;
		if (jm->meta) {
			/* Copied: a commit must now record it. */
			jm->meta_gen++;
			queue_delayed_work(jm->wq, &jm->commit_dwork, JM_COMMIT_PERIOD);
		}
		if (c->sector < c->end && (c->urgent || jm_copy_may_go_on(jm))) {
			spin_unlock_irq(&jm->lock);
			jm_copy_read_chunk(c);
			return;
		}
		if (c->sector < c->end)
			jm_copy_redirty(jm, c);
		else
			jm->pass_progress = true;
	}
	jm_copy_release(jm, c);
	spin_unlock_irq(&jm->lock);
	while ((bio = bio_list_pop(&failed))) {
		bio->bi_status = status;
		bio_endio(bio);
	}
	jm_job_kick(jm);
}

static struct jm_copy *jm_free_slot(struct jobmirror *jm)
{
	unsigned int i;

	for (i = 0; i < jm->max_copies; i++)
		if (jm->copies[i].state == JM_COPY_FREE)
			return &jm->copies[i];
	return NULL;
}

/*
 * Find the next dirty region at or after the cursor that no copy holds,
 * wrapping around once.  Returns nr_regions if there is none.
 */
static unsigned long jm_next_dirty(struct jobmirror *jm, bool *wrapped)
{
	unsigned long r = jm->cursor;

	*wrapped = false;
	for (;;) {
		r = find_next_bit(jm->dirty, jm->nr_regions, r);
		if (r >= jm->nr_regions) {
			if (*wrapped)
				return jm->nr_regions;
			*wrapped = true;
			r = 0;
			continue;
		}
		if (*wrapped && r >= jm->cursor)
			return jm->nr_regions;
		/*
		 * Re-dirtied while being copied: it waits for the next pass.  A
		 * stream region being written whole is populated by the write.
		 */
		if (!jm_copy_covering(jm, r, r) && !(jm_stream(jm) && jm_has_writers(jm, r, r)))
			return r;
		r++;
	}
}

/*
 * Claim a run of at most @max_run dirty regions starting at @r for slot
 * @c; caller holds jm->lock.  Returns true if the copy can start reading
 * now, false if it waits for user writes to its first region to finish.
 */
static bool jm_claim_run(struct jobmirror *jm, struct jm_copy *c, unsigned long r,
			 unsigned long max_run)
{
	unsigned long n = 1;

	while (n < max_run && r + n < jm->nr_regions && test_bit(r + n, jm->dirty) &&
	       !jm_copy_covering(jm, r + n, r + n) && !jm_has_writers(jm, r + n, r + n))
		n++;
	jm_mark_clean(jm, r, r + n - 1);
	c->region = r;
	c->nr_regions = n;
	c->sector = jm_region_start(jm, r);
	c->end = jm_region_start(jm, r + n - 1) + jm_region_sectors(jm, r + n - 1);
	bio_list_init(&c->deferred);
	c->urgent = false;
	jm->copies_active++;
	jm->cursor = r + n;
	if (jm_has_writers(jm, r, r)) {
		c->state = JM_COPY_WAIT;
		return false;
	}
	c->state = JM_COPY_READ;
	return true;
}

/*
 * Claim a free slot for an urgent copy of stream region @r, which has no
 * writer and no copy; caller holds jm->lock.  NULL if all slots are busy.
 */
static struct jm_copy *jm_claim_urgent(struct jobmirror *jm, unsigned long r)
{
	unsigned long cursor = jm->cursor;
	struct jm_copy *c = jm_free_slot(jm);

	if (!c)
		return NULL;
	/* Only the write's region: it waits, and only its own source counts. */
	jm_claim_run(jm, c, r, 1);
	c->urgent = true;
	/* The background copy goes on where it was. */
	jm->cursor = cursor;
	return c;
}

/*
 * Regions per background copy: up to 1 MiB.  Once a stream copy failed,
 * one region at a time, so that a bad spot costs only its own regions
 * (the ignore policy skips exactly those).
 */
static unsigned long jm_max_run(struct jobmirror *jm)
{
	if (jm_stream(jm) && jm->src_errors + jm->dst_errors)
		return 1;
	return max(1U, JM_COPY_MAX_SECTORS >> jm->region_shift);
}

/* Start what copies we may; returns a bitmap of slots to submit. */
static unsigned long jm_launch_copies(struct jobmirror *jm)
{
	unsigned long start = 0, r;
	struct jm_copy *c;
	bool wrapped;
	u64 wait;

	/* The job is over once the route is SOURCE or DEST: never copy then. */
	if (jm->route == JM_ROUTE_SOURCE || jm->route == JM_ROUTE_DEST)
		return 0;
	while (jm->nr_dirty && (c = jm_free_slot(jm))) {
		r = jm_next_dirty(jm, &wrapped);
		if (r >= jm->nr_regions)
			break;
		if (wrapped) {
			/*
			 * Copies of the pass still in flight may yet make
			 * progress: their end kicks the worker to look again.
			 */
			if (!jm->pass_progress && jm->src_errors + jm->dst_errors &&
			    jm->copies_active)
				break;
			/* A whole pass that copied nothing: only errors are left. */
			if (!jm->pass_progress && jm->src_errors + jm->dst_errors &&
			    jm_stream(jm)) {
				/* A stream skips them: the job is over. */
				jm_job_fail(jm, jm->last_error_op, jm->last_errno,
					    jm->last_error_sector);
				jm_job_failed_event(jm, DM_JOBMIRROR_POLICY_IGNORE);
				break;
			}
			if (!jm->pass_progress && jm->src_errors + jm->dst_errors) {
				mod_delayed_work(jm->wq, &jm->delayed, JM_ERROR_BACKOFF);
				jm->cursor = 0;
				jm->pass_progress = true;
				break;
			}
			/*
			 * A new pass, from region 0 on: the rate limit may
			 * stop the loop before it claims one, and the next
			 * call must not take this for the pass's end.
			 */
			jm->pass_progress = false;
			jm->cursor = 0;
		}
		wait = jm_rl_wait(jm);
		if (wait) {
			mod_delayed_work(jm->wq, &jm->delayed,
					 max(1UL, nsecs_to_jiffies(wait)));
			break;
		}
		if (jm_claim_run(jm, c, r, jm_max_run(jm)))
			start |= BIT(c - jm->copies);
		jm_rl_charge(jm, (u64)(c->end - c->sector) << SECTOR_SHIFT);
	}
	return start;
}

/* Start copies that waited for user writes, now that none is in flight. */
static unsigned long jm_wake_waiting_copies(struct jobmirror *jm)
{
	unsigned long start = 0;
	struct jm_copy *c;
	unsigned int i;

	for (i = 0; i < jm->max_copies; i++) {
		c = &jm->copies[i];
		if (c->state == JM_COPY_WAIT && !jm_has_writers(jm, c->region, c->region)) {
			c->state = JM_COPY_READ;
			start |= BIT(i);
		}
	}
	return start;
}

/* Drop copies still waiting for writes (on suspend); caller holds jm->lock. */
static void jm_drop_waiting_copies(struct jobmirror *jm)
{
	struct jm_copy *c;
	unsigned int i;

	for (i = 0; i < jm->max_copies; i++) {
		c = &jm->copies[i];
		if (c->state == JM_COPY_WAIT) {
			jm_copy_redirty(jm, c);
			jm_copy_release(jm, c);
		}
	}
}

/* --- dest flush --- */

/**
 * jm_dest_flush_failed() - a flush of the dest failed.
 * @jm: the target; caller holds jm->lock.
 *
 * The dest may have lost what it held: it needs a flush again, and a
 * flush of the job's still in flight does not vouch for it either (its
 * success may come after this failure).
 */
void jm_dest_flush_failed(struct jobmirror *jm)
{
	lockdep_assert_held(&jm->lock);
	jm->flushed = false;
	jm->flush_clean = false;
}

static void jm_flush_endio(struct bio *bio)
{
	struct jobmirror *jm = container_of(bio, struct jobmirror, flush_bio);

	/* All the rest in process context, where postsuspend can wait for it. */
	queue_work(jm->wq, &jm->flush_work);
}

static void jm_flush_done(struct work_struct *work)
{
	struct jobmirror *jm = container_of(work, struct jobmirror, flush_work);
	blk_status_t status = jm->flush_bio.bi_status;

	spin_lock_irq(&jm->lock);
	jm->flushing = false;
	/* Still valid only if nothing got dirty since it was issued. */
	jm->flushed = !status && jm->flush_clean;
	if (status) {
		jm_job_error(jm, DM_JOBMIRROR_OP_WRITE, blk_status_to_errno(status), 0);
		/* Writes do not wait through the back-off. */
		if (jm->route == JM_ROUTE_HOLD)
			jm_release_hold(jm, JM_ROUTE_SYNC);
	}
	/* A failed flush is tried again later, not at once. */
	if (status)
		mod_delayed_work(jm->wq, &jm->delayed, JM_ERROR_BACKOFF);
	else
		jm_job_kick(jm);
	spin_unlock_irq(&jm->lock);
	wake_up_all(&jm->drain_wait);
}

static void jm_flush_dest(struct jobmirror *jm)
{
	bio_uninit(&jm->flush_bio);
	bio_init(&jm->flush_bio, jm->dest->bdev, NULL, 0, REQ_OP_WRITE | REQ_PREFLUSH);
	jm->flush_bio.bi_end_io = jm_flush_endio;
	submit_bio_noacct(&jm->flush_bio);
}

/* --- the state machine --- */

/* What the worker does after a look at the job, outside the lock. */
enum jm_step_action {
	JM_STEP_NONE,
	JM_STEP_FLUSH,		/* flush the dest (mirror) */
	JM_STEP_COMMIT_DONE,	/* commit a finished stream job */
	JM_STEP_COMMIT_PIVOT,	/* commit a mirror's pivot before it happens */
};

/*
 * Finish a pending cancel or complete; caller holds jm->lock, all regions
 * are clean and no copy is in flight.  New writes are held while those in
 * flight drain and the dest is flushed, so that at the switch the dest
 * holds exactly what the device held: then writes go to the dest
 * (complete) or the source alone (cancel), held ones first.  Returns
 * JM_STEP_FLUSH to flush the dest first.
 */
static enum jm_step_action jm_step_ready(struct jobmirror *jm)
{
	bool complete = jm->complete_requested;

	if (jm->route == JM_ROUTE_SYNC) {
		jm->route = JM_ROUTE_HOLD;
		/* Writes since the last flush are on the dest, maybe not stable. */
		jm->flushed = false;
	}
	if (jm->sync_writes) {
		jm->want_drain = true;
		return JM_STEP_NONE;
	}
	if (!jm->flushed)
		return JM_STEP_FLUSH;
	/* With a metadata device the pivot is durable before any I/O moves. */
	if (complete && jm->meta && !jm->pivot_durable) {
		jm->meta_completed = true;
		jm->pivot_committing = true;
		return JM_STEP_COMMIT_PIVOT;
	}
	jm->state = complete ? DM_JOBMIRROR_STATE_COMPLETED : DM_JOBMIRROR_STATE_CANCELLED;
	jm_release_hold(jm, complete ? JM_ROUTE_DEST : jm_route_alone(jm));
	jm_event(jm, complete ? DM_JOBMIRROR_EVENT_JOB_COMPLETED :
				DM_JOBMIRROR_EVENT_JOB_CANCELLED);
	return JM_STEP_NONE;
}

/*
 * One look at the job; caller holds jm->lock.  Returns the copy slots to
 * start in *start and what to do next.
 */
static enum jm_step_action jm_step(struct jobmirror *jm, unsigned long *start)
{
	lockdep_assert_held(&jm->lock);
	*start = 0;
	jm->want_drain = false;

	if (!jm_live(jm->state)) {
		/* The job is over: copies waiting for writes never start. */
		jm_drop_waiting_copies(jm);
		return JM_STEP_NONE;
	}
	*start = jm_wake_waiting_copies(jm);
	if (jm->suspended)
		return JM_STEP_NONE;

	if (jm->pause_requested) {
		if (jm->copies_active || jm->flushing)
			return JM_STEP_NONE;
		jm->pause_requested = false;
		jm->state = jm->state == DM_JOBMIRROR_STATE_READY ?
			    DM_JOBMIRROR_STATE_STANDBY : DM_JOBMIRROR_STATE_PAUSED;
		/* A stopped job holds no writes: they go to both devices. */
		if (jm->route == JM_ROUTE_HOLD)
			jm_release_hold(jm, JM_ROUTE_SYNC);
		jm_meta_state_changed(jm);
		jm_event(jm, DM_JOBMIRROR_EVENT_JOB_PAUSED);
		return JM_STEP_NONE;
	}
	if (jm->state == DM_JOBMIRROR_STATE_PAUSED || jm->state == DM_JOBMIRROR_STATE_STANDBY)
		return JM_STEP_NONE;

	if (jm->cancel_requested && jm->state == DM_JOBMIRROR_STATE_RUNNING) {
		/* Before ready the copy just stops; the source keeps serving. */
		if (jm->copies_active || jm->flushing)
			return JM_STEP_NONE;
		/* A stream device goes on as it is, populating on writes. */
		if (!jm_stream(jm))
			jm->route = jm_route_alone(jm);
		jm->state = DM_JOBMIRROR_STATE_CANCELLED;
		jm_event(jm, DM_JOBMIRROR_EVENT_JOB_CANCELLED);
		return JM_STEP_NONE;
	}

	/* Regions dirtied while draining for complete/cancel: copy them first. */
	if (jm->route == JM_ROUTE_HOLD && jm->nr_dirty)
		jm_release_hold(jm, JM_ROUTE_SYNC);
	*start |= jm_launch_copies(jm);
	if (jm->nr_dirty || jm->copies_active || jm->flushing)
		return JM_STEP_NONE;
	/* A stream is done when every region is populated. */
	if (jm_stream(jm))
		return jm->state == DM_JOBMIRROR_STATE_RUNNING ? JM_STEP_COMMIT_DONE :
								 JM_STEP_NONE;

	/* Converged: from now on writes go to both devices. */
	if (jm->route == JM_ROUTE_BACKGROUND)
		jm->route = JM_ROUTE_SYNC;
	if (jm->bg_writes) {
		jm->want_drain = true;
		return JM_STEP_NONE;
	}
	if (jm->state == DM_JOBMIRROR_STATE_RUNNING) {
		if (!jm->flushed)
			return JM_STEP_FLUSH;
		jm->state = DM_JOBMIRROR_STATE_READY;
		jm_event(jm, DM_JOBMIRROR_EVENT_JOB_READY);
	}
	if (jm->cancel_requested || jm->complete_requested)
		return jm_step_ready(jm);
	return JM_STEP_NONE;
}

/*
 * Every region of a stream job is populated: commit that, then the job is
 * completed and all I/O goes to the dest.
 */
static void jm_stream_done(struct jobmirror *jm)
{
	int r;

	spin_lock_irq(&jm->lock);
	jm->meta_completed = true;
	spin_unlock_irq(&jm->lock);
	r = jm_meta_commit(jm, true, NULL);

	spin_lock_irq(&jm->lock);
	if (r) {
		jm->meta_completed = false;
		jm_job_error(jm, DM_JOBMIRROR_OP_WRITE, r, 0);
		mod_delayed_work(jm->wq, &jm->delayed, JM_ERROR_BACKOFF);
	} else if (jm->state == DM_JOBMIRROR_STATE_RUNNING) {
		jm->state = DM_JOBMIRROR_STATE_COMPLETED;
		jm->route = JM_ROUTE_DEST;
		jm_event(jm, DM_JOBMIRROR_EVENT_JOB_COMPLETED);
	}
	spin_unlock_irq(&jm->lock);
}

/*
 * A mirror with a metadata device is about to pivot: all is clean, the
 * writes in flight drained and the dest flushed, new writes held (route
 * HOLD, which presuspend and a job failure leave alone meanwhile, and
 * cancel is refused).
 * Commit the completed flag first, so that a table loaded later, after a
 * crash too, maps all I/O to the dest; then pivot.
 */
static void jm_commit_pivot(struct jobmirror *jm)
{
	char name[DM_NAME_LEN];
	int r = jm_meta_commit(jm, true, NULL), r2;
	bool report = false;

	spin_lock_irq(&jm->lock);
	/* A user flush of the dest may have failed meanwhile: check again. */
	if (!r && jm->state == DM_JOBMIRROR_STATE_READY && jm->flushed && !jm->nr_dirty &&
	    !jm->pause_requested) {
		jm->pivot_durable = true;
		jm->pivot_committing = false;
		jm->state = DM_JOBMIRROR_STATE_COMPLETED;
		jm_release_hold(jm, JM_ROUTE_DEST);
		jm_event(jm, DM_JOBMIRROR_EVENT_JOB_COMPLETED);
		spin_unlock_irq(&jm->lock);
		return;
	}
	jm->meta_completed = false;
	if (r)
		jm_job_error(jm, DM_JOBMIRROR_OP_WRITE, r, 0);
	spin_unlock_irq(&jm->lock);
	/*
	 * The commit failed, or the job failed or must pause or flush again
	 * (a user flush of the dest failed meanwhile).  A commit that
	 * overlapped this one may have written the flag, and a failed
	 * commit may have too: take it back before any held write moves.
	 * The job goes on from there and tries again if it can.
	 */
	r2 = jm_meta_commit(jm, true, &report);
	if (r2 && READ_ONCE(jm->meta_says_completed)) {
		jm_log_name(jm, name);
		DMERR("%s: failed while completing, metadata may still say completed: error %d",
		      name, r2);
		DMERR("%s: writes go to the dest too until a commit succeeds", name);
	}
	spin_lock_irq(&jm->lock);
	/* A metadata outage that began with this commit is a job error too. */
	if (r2 && report)
		jm_job_error(jm, DM_JOBMIRROR_OP_WRITE, r2, 0);
	jm->pivot_committing = false;
	/*
	 * A job that failed meanwhile goes on with the source alone now
	 * (and the dest, if the flag is still there: jm_route_alone()).
	 * Writes do not wait through the back-off after a failed commit,
	 * and a device being suspended (presuspend left the hold to us) lets
	 * them go as presuspend does.
	 */
	if (jm->route == JM_ROUTE_HOLD && jm->state == DM_JOBMIRROR_STATE_FAILED)
		jm_release_hold(jm, jm_route_alone(jm));
	else if (jm->route == JM_ROUTE_HOLD && (r || jm->suspended))
		jm_release_hold(jm, JM_ROUTE_SYNC);
	if (r)
		mod_delayed_work(jm->wq, &jm->delayed, JM_ERROR_BACKOFF);
	spin_unlock_irq(&jm->lock);
	if (!r)
		jm_job_kick(jm);
}

static void jm_worker(struct work_struct *work)
{
	struct jobmirror *jm = container_of(work, struct jobmirror, work);
	enum jm_step_action action;
	unsigned long start, more;
	struct bio_list retry;
	unsigned int i;

	jm_uio_release(jm);
	retry = jm_take_bios(jm, &jm->retry);
	while (!bio_list_empty(&retry))
		jm_dispatch_write(jm, bio_list_pop(&retry));

	spin_lock_irq(&jm->lock);
	/* Writes waiting to populate their region go first, whatever the state. */
	start = jm_stream(jm) ? jm_stream_hydrate(jm, jm_claim_urgent) : 0;
	action = jm_step(jm, &more);
	start |= more;
	if (action == JM_STEP_FLUSH) {
		jm->flushing = true;
		jm->flush_clean = true;
	}
	spin_unlock_irq(&jm->lock);

	/* Hydrated regions free writes to dispatch: look again. */
	if (!bio_list_empty(&jm->retry))
		jm_job_kick(jm);
	for_each_set_bit(i, &start, jm->max_copies)
		jm_copy_read_chunk(&jm->copies[i]);
	if (action == JM_STEP_FLUSH)
		jm_flush_dest(jm);
	else if (action == JM_STEP_COMMIT_DONE)
		jm_stream_done(jm);
	else if (action == JM_STEP_COMMIT_PIVOT)
		jm_commit_pivot(jm);
}

static void jm_delayed_worker(struct work_struct *work)
{
	struct jobmirror *jm = container_of(to_delayed_work(work), struct jobmirror, delayed);

	jm_job_kick(jm);
}

/* --- messages --- */

/* Resume a paused or standby job; caller holds jm->lock. */
static void jm_resume_job(struct jobmirror *jm)
{
	jm->state = jm->state == DM_JOBMIRROR_STATE_STANDBY ?
		    DM_JOBMIRROR_STATE_READY : DM_JOBMIRROR_STATE_RUNNING;
	jm->iostatus = DM_JOBMIRROR_IOSTATUS_OK;
	jm->pass_progress = true;
	/* Try the metadata device again (a suspended one does on resume). */
	if (jm->meta && jm->meta_failed && !jm->suspended)
		queue_work(jm->wq, &jm->commit_work);
	jm_meta_state_changed(jm);
	jm_event(jm, DM_JOBMIRROR_EVENT_JOB_RESUMED);
}

/* Why a message is refused while the completed flag is being committed. */
static const char *jm_completing_why(struct jobmirror *jm)
{
	return jm_stream(jm) ? "the stream's completion is being committed" :
			       "the pivot is being committed";
}

/**
 * jm_job_message() - carry out a job message.
 * @jm: the target.
 * @msg: the message.
 * @arg: its number argument (set_speed).
 * @why: set to why the message was refused, for the kernel log.
 *
 * Return: 0, or -EBUSY if the message is not valid in the current state.
 */
int jm_job_message(struct jobmirror *jm, enum dm_jobmirror_msg msg, u64 arg,
		   const char **why)
{
	enum dm_jobmirror_state st;

	*why = NULL;
	spin_lock_irq(&jm->lock);
	st = jm->state;
	switch (msg) {
	case DM_JOBMIRROR_MSG_PAUSE:
		/*
		 * A pending complete pauses too (standby) and goes on after
		 * resume, but not once its completed flag is being committed.
		 */
		if (st != DM_JOBMIRROR_STATE_RUNNING && st != DM_JOBMIRROR_STATE_READY)
			*why = "valid in running, ready";
		else if (jm->pause_requested)
			*why = "a pause is already pending";
		else if (jm->cancel_requested)
			*why = "a cancel is under way";
		else if (jm->meta_completed)
			*why = jm_completing_why(jm);
		if (*why)
			break;
		jm->pause_requested = true;
		jm_meta_state_changed(jm);
		break;
	case DM_JOBMIRROR_MSG_RESUME:
		if (st != DM_JOBMIRROR_STATE_PAUSED && st != DM_JOBMIRROR_STATE_STANDBY)
			*why = "valid in paused, standby";
		else
			jm_resume_job(jm);
		break;
	case DM_JOBMIRROR_MSG_CANCEL:
		/*
		 * A pending complete may still be turned into a cancel, but not
		 * once the completed flag is being committed.
		 */
		if (!jm_live(st))
			*why = "the job is over";
		else if (jm->cancel_requested)
			*why = "a cancel is already under way";
		else if (jm->meta_completed)
			*why = jm_completing_why(jm);
		if (*why)
			break;
		jm->complete_requested = false;
		if (st == DM_JOBMIRROR_STATE_PAUSED || st == DM_JOBMIRROR_STATE_STANDBY)
			jm_resume_job(jm);
		jm->pause_requested = false;
		jm->cancel_requested = true;
		break;
	case DM_JOBMIRROR_MSG_COMPLETE:
		/* In standby a pending complete is resumed as a new one is. */
		if (jm_stream(jm))
			*why = "a stream completes by itself once populated";
		else if (st != DM_JOBMIRROR_STATE_READY && st != DM_JOBMIRROR_STATE_STANDBY)
			*why = "valid in ready, standby";
		else if (jm->cancel_requested)
			*why = "a cancel is under way";
		else if (jm->complete_requested && st == DM_JOBMIRROR_STATE_READY)
			*why = "a complete is already under way";
		if (*why)
			break;
		if (st == DM_JOBMIRROR_STATE_STANDBY)
			jm_resume_job(jm);
		jm->pause_requested = false;
		jm->complete_requested = true;
		break;
	case DM_JOBMIRROR_MSG_SET_SPEED:
		if (!jm_live(st)) {
			*why = "the job is over";
			break;
		}
		jm->speed = arg;
		jm_rl_reset(jm);
		break;
	default:
		*why = "not a job message";
		break;
	}
	spin_unlock_irq(&jm->lock);
	if (*why)
		return -EBUSY;
	cancel_delayed_work(&jm->delayed);
	jm_job_kick(jm);
	return 0;
}

/* --- suspend and resume --- */

/**
 * jm_job_presuspend() - stop starting copies; drop those waiting for writes.
 * @jm: the target.
 */
void jm_job_presuspend(struct jobmirror *jm)
{
	jm_uio_presuspend(jm);
	spin_lock_irq(&jm->lock);
	jm->suspended = true;
	jm_drop_waiting_copies(jm);
	/*
	 * dm waits for held writes: let them go (the hold resumes later),
	 * unless a mirror's pivot is being committed: jm_commit_pivot() lets
	 * them go when it ends, to the dest once the pivot is done.
	 */
	if (jm->route == JM_ROUTE_HOLD && !jm->pivot_committing)
		jm_release_hold(jm, JM_ROUTE_SYNC);
	spin_unlock_irq(&jm->lock);
	/* Writes that waited behind a dropped copy must go out. */
	jm_job_kick(jm);
}

/**
 * jm_job_postsuspend() - wait for the copies and the flush in flight.
 * @jm: the target.
 *
 * Copies are not started while suspended, and those in flight stop at
 * their current chunk, so this waits for at most one I/O per slot: as
 * long as dm's own wait for user I/O, which the devices' I/O timeouts
 * bound.
 */
void jm_job_postsuspend(struct jobmirror *jm)
{
	char name[DM_NAME_LEN];
	int r;

	wait_event(jm->drain_wait, !READ_ONCE(jm->copies_active) && !READ_ONCE(jm->flushing));
	jm_uio_postsuspend(jm);
	cancel_delayed_work_sync(&jm->delayed);
	flush_workqueue(jm->wq);
	if (jm->meta) {
		/* The last commit: a table that replaces this one loads it. */
		cancel_delayed_work_sync(&jm->commit_dwork);
		r = jm_meta_commit(jm, false, NULL);
		if (r) {
			jm_log_name(jm, name);
			DMERR("%s: cannot commit the metadata on suspend: error %d", name, r);
		}
	}
	flush_work(&jm->event_work);
}

/**
 * jm_job_resume() - let the job run again (resume, or a suspend undone).
 * @jm: the target.
 */
void jm_job_resume(struct jobmirror *jm)
{
	jm_uio_resume(jm);
	spin_lock_irq(&jm->lock);
	jm->suspended = false;
	if (jm->meta && jm->meta_failed)
		queue_work(jm->wq, &jm->commit_work);
	/* A change of state while suspended is committed now. */
	if (jm->meta && jm->meta_gen != jm->meta_committed)
		mod_delayed_work(jm->wq, &jm->commit_dwork, 0);
	spin_unlock_irq(&jm->lock);
	jm_job_kick(jm);
}

/* --- set-up --- */

/**
 * jm_job_init() - allocate the copy slots and the workqueue.
 * @jm: the target, with its devices and regions set up.
 *
 * Return: 0 or -ENOMEM.
 */
int jm_job_init(struct jobmirror *jm)
{
	struct jm_copy *c;
	unsigned int i, p;

	jm->max_copies = clamp(READ_ONCE(max_copies), 1U, (unsigned int)JM_MAX_COPIES);
	jm->copies = kvcalloc(jm->max_copies, sizeof(*jm->copies), GFP_KERNEL);
	if (!jm->copies)
		return -ENOMEM;
	for (i = 0; i < jm->max_copies; i++) {
		c = &jm->copies[i];
		c->jm = jm;
		INIT_WORK(&c->work, jm_copy_work);
		bio_list_init(&c->deferred);
		for (p = 0; p < JM_COPY_PAGES; p++) {
			c->pages[p] = alloc_page(GFP_KERNEL);
			if (!c->pages[p])
				goto fail;
		}
	}
	jm->ev_env = kcalloc(JM_ENV_VARS, JM_ENV_LEN, GFP_KERNEL);
	if (!jm->ev_env)
		goto fail;
	jm->wq = alloc_workqueue("jobmirror", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!jm->wq)
		goto fail;
	INIT_WORK(&jm->work, jm_worker);
	INIT_WORK(&jm->flush_work, jm_flush_done);
	if (jm_stream(jm)) {
		INIT_WORK(&jm->commit_work, jm_stream_commit_work);
		INIT_DELAYED_WORK(&jm->commit_dwork, jm_stream_commit_timer);
	} else {
		INIT_WORK(&jm->commit_work, jm_intent_commit_work);
		INIT_DELAYED_WORK(&jm->commit_dwork, jm_intent_commit_timer);
	}
	INIT_WORK(&jm->event_work, jm_events_work);
	INIT_DELAYED_WORK(&jm->delayed, jm_delayed_worker);
	init_waitqueue_head(&jm->drain_wait);
	for (i = 0; i < DM_JOBMIRROR_NR_EVENTS; i++)
		jm->ev_window_start[i] = jiffies - JM_EV_WINDOW - 1;
	bio_init(&jm->flush_bio, NULL, NULL, 0, 0);
	jm->pass_progress = true;
	return 0;
fail:
	jm_job_exit(jm);
	return -ENOMEM;
}

/**
 * jm_job_exit() - free what jm_job_init() took; the job must be idle.
 * @jm: the target.
 */
void jm_job_exit(struct jobmirror *jm)
{
	unsigned int i, p;

	if (jm->wq) {
		/* First the work that may arm the commit timer. */
		cancel_work_sync(&jm->commit_work);
		cancel_delayed_work_sync(&jm->delayed);
		cancel_delayed_work_sync(&jm->hang_work);
		cancel_delayed_work_sync(&jm->commit_dwork);
		destroy_workqueue(jm->wq);
		jm->wq = NULL;
		cancel_work_sync(&jm->event_work);
	}
	kfree(jm->ev_env);
	jm->ev_env = NULL;
	if (!jm->copies)
		return;
	for (i = 0; i < jm->max_copies; i++)
		for (p = 0; p < JM_COPY_PAGES; p++)
			if (jm->copies[i].pages[p])
				__free_page(jm->copies[i].pages[p]);
	kvfree(jm->copies);
	jm->copies = NULL;
}
