// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: write intent of a mirror with a metadata device.
 *
 * A mirror's bitmap on the metadata device must cover every region where
 * the source and the dest may differ after a crash: regions still to
 * copy, and regions with writes that may have reached one device and not
 * the other.  So a write goes out only once its regions are set in the
 * bitmap of every header that may be the newest on the device
 * (jobmirror.meta_ok); otherwise it waits on jobmirror.meta_wait for a
 * commit that only adds bits (no data flush: two metadata writes), and
 * one such commit serves every write waiting when it ends.
 *
 * Bits are cleared lazily, by the periodic commit (about once a second
 * while there is something to record).  Writes are counted in one of
 * three epochs (jobmirror.meta_busy, meta_inflight); each periodic commit
 * starts a new one.  It waits for the writes of the epoch before the one
 * that just ended (they are long done, as a rule), flushes both devices
 * and writes the bitmap: regions still to copy, regions written in the
 * last two epochs and regions being copied.  A region not written since
 * is the same on both devices (or dirty again, if one half failed),
 * durably, so its bit goes; a region written at least once a second keeps
 * its bit and its writes never wait.  Commits that only add bits go on
 * while it waits and flushes; once its flushes are done it adds the
 * regions written meanwhile, and from then on meta_ok keeps only the bits
 * it writes.  If a flush fails, nothing is cleared: the commit only adds
 * bits, and the flush error is the job's.
 *
 * Once the job is over without a pivot, commits only add bits (unless
 * writes still go to both devices, see jm_route_alone()).
 *
 * If the metadata device fails, writes are not held up: they go out
 * unmarked (jobmirror.meta_failed) and the job error policy applies; the
 * next commit that succeeds records them.  A crash meanwhile can leave
 * the device's bitmap short of regions written since; see
 * Documentation/admin-guide/device-mapper/jobmirror.rst.
 */
#include <linux/bio.h>
#include <linux/bitmap.h>

#include "dm-jobmirror.h"

static struct jm_bio *jm_bio_data(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct jm_bio));
}

static bool jm_all_set(const unsigned long *map, unsigned long first, unsigned long last)
{
	return find_next_zero_bit(map, last + 1, first) > last;
}

/**
 * jm_intent_gate() - let a write of a mirror go out, or make it wait.
 * @jm: the target; caller holds jm->lock.
 * @bio: the write, about to go to the source (and maybe the dest).
 * @jb: its per-bio data, with its regions in first..last.
 *
 * Return: true if the write may go now (it is then counted until
 * jm_intent_done()); false if it waits for a commit, which is queued.
 */
bool jm_intent_gate(struct jobmirror *jm, struct bio *bio, struct jm_bio *jb)
{
	unsigned int e = jm->meta_epoch;

	lockdep_assert_held(&jm->lock);
	if (!jm->intent)
		return true;
	if (!jm_all_set(jm->meta_busy[e], jb->first, jb->last)) {
		bitmap_set(jm->meta_busy[e], jb->first, jb->last - jb->first + 1);
		jm->meta_busy_any[e] = true;
		/* A later commit clears the bits once the writes are done. */
		jm->meta_gen++;
		queue_delayed_work(jm->wq, &jm->commit_dwork, JM_INTENT_PERIOD);
	}
	if (!jm->meta_failed && !jm_all_set(jm->meta_ok, jb->first, jb->last)) {
		bio_list_add(&jm->meta_wait, bio);
		queue_work(jm->wq, &jm->commit_work);
		return false;
	}
	jb->intent = true;
	jb->epoch = e;
	jm->meta_inflight[e]++;
	return true;
}

/**
 * jm_intent_done() - a write counted by jm_intent_gate() finished.
 * @jm: the target; caller holds jm->lock.
 * @jb: the write's per-bio data.
 */
void jm_intent_done(struct jobmirror *jm, struct jm_bio *jb)
{
	lockdep_assert_held(&jm->lock);
	if (!jb->intent)
		return;
	jb->intent = false;
	/* A commit may be waiting for the old epoch to drain. */
	if (!--jm->meta_inflight[jb->epoch] && jb->epoch != jm->meta_epoch)
		wake_up_all(&jm->drain_wait);
}

/*
 * A commit failed: a job error if @report, that is once per outage of the
 * metadata device (a failed flush of the dest each time; jm_meta_commit()
 * raises the source's).  It is tried again every second, whatever the
 * job's state, for writes go out unmarked meanwhile; a suspended device
 * tries again on resume.
 */
static void jm_intent_failed(struct jobmirror *jm, int r, bool report)
{
	spin_lock_irq(&jm->lock);
	if (report)
		jm_job_error(jm, DM_JOBMIRROR_OP_WRITE, r, 0);
	if (!jm->suspended) {
		queue_delayed_work(jm->wq, &jm->commit_dwork, JM_INTENT_PERIOD);
		/* The worker carries out a stop. */
		jm_job_kick(jm);
	}
	spin_unlock_irq(&jm->lock);
}

/**
 * jm_intent_commit_work() - commit for the writes waiting on meta_wait.
 * @work: jobmirror.commit_work of a mirror.
 *
 * The writes are routed again afterwards: those whose regions the commit
 * recorded go out, the others (they came too late for it) wait for the
 * next one.  If the commit failed they go out unmarked.
 */
void jm_intent_commit_work(struct work_struct *work)
{
	struct jobmirror *jm = container_of(work, struct jobmirror, commit_work);
	struct bio_list list;
	bool report;
	struct bio *bio;
	int r;

	r = jm_meta_mark(jm, &report);
	if (r)
		jm_intent_failed(jm, r, report);
	/* Writes that came too late for the commit queued it again. */
	list = jm_take_bios(jm, &jm->meta_wait);
	while ((bio = bio_list_pop(&list)))
		jm_dispatch_write(jm, bio);
}

/**
 * jm_intent_commit_timer() - the periodic commit of a mirror.
 * @work: jobmirror.commit_dwork of a mirror.
 *
 * Records copy progress and clears the bits of regions no longer written.
 */
void jm_intent_commit_timer(struct work_struct *work)
{
	struct jobmirror *jm = container_of(to_delayed_work(work), struct jobmirror,
					    commit_dwork);
	bool report;
	int r = jm_meta_commit(jm, false, &report);

	if (r)
		jm_intent_failed(jm, r, report);
}

/**
 * jm_intent_add_waiting() - add the regions of the waiting writes to a bitmap.
 * @jm: the target; caller holds jm->lock.
 * @map: the bitmap.
 */
void jm_intent_add_waiting(struct jobmirror *jm, unsigned long *map)
{
	struct jm_bio *jb;
	struct bio *bio;

	lockdep_assert_held(&jm->lock);
	bio_list_for_each(bio, &jm->meta_wait) {
		jb = jm_bio_data(bio);
		bitmap_set(map, jb->first, jb->last - jb->first + 1);
	}
}

/**
 * jm_intent_may_clear() - whether a commit may clear bits now.
 * @jm: the target; caller holds jm->lock.
 *
 * Only while the job goes on: once it is over (the source alone, or the
 * dest alone after the pivot) there is no copy to make two regions equal.
 *
 * Return: true if the commit may flush and clear.
 */
bool jm_intent_may_clear(struct jobmirror *jm)
{
	lockdep_assert_held(&jm->lock);
	return jm->route == JM_ROUTE_BACKGROUND || jm->route == JM_ROUTE_SYNC ||
	       jm->route == JM_ROUTE_HOLD;
}
