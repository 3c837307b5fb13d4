// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: the user I/O path of a mirror device (a stream device's
 * is in dm-jobmirror-stream.c).
 *
 * Reads go to the device that holds the data: the source until the
 * pivot, the dest after it.  Writes (and discards, write-zeroes) are
 * routed by jobmirror.route:
 *
 * - BACKGROUND: to the source; when the write completes its regions are
 *   marked dirty.  Marking on completion is what keeps a racing copy
 *   correct: a copy clears a region's bit before it reads the source, so
 *   a write either completed before that read (and the copy sees it) or
 *   completes after the clear (and re-dirties the region).
 * - SYNC: a write to clean regions goes to source and dest and completes
 *   when both have; a failure of the dest half never fails the write, it
 *   re-dirties the regions.  The bio itself goes to the source and a
 *   clone in its per-bio data to the dest, so nothing is allocated.  A
 *   write to dirty regions (and every discard or write-zeroes) goes to the
 *   source and re-dirties on completion.
 *   Writes to regions being copied wait for the copy, and a copy waits for
 *   writes in flight to its regions, so the two never overlap.
 *   While the completed flag of a pivot that failed may be on disk
 *   (jm_flag_in_doubt()), a mirror stays in SYNC, also once its job is
 *   over (see jm_route_alone()), and every write goes to both devices;
 *   one that overlaps a write in flight (or one waiting) waits on
 *   jobmirror.after_writer until a write finishes.  That wait ends: the
 *   first write to wait found a tracked write in flight, and the end of
 *   any tracked write sends every waiting one again.
 * - HOLD: complete or cancel waits for the writes in flight to drain
 *   and flushes the dest; new writes wait on jobmirror.hold meanwhile.
 * - SOURCE / DEST: the job is over; everything goes to that device.  A
 *   mirror with a metadata device still tracks writes to the source as
 *   in BACKGROUND, so that a later table can resume the job.
 *
 * With a metadata device, tracked writes first pass jm_intent_gate()
 * (dm-jobmirror-intent.c): their regions are marked on the device.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>

#include "dm-jobmirror.h"

static struct jm_bio *jm_bio_data(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct jm_bio));
}

static bool jm_is_write(struct bio *bio)
{
	return op_is_write(bio_op(bio)) && bio_sectors(bio);
}

static bool jm_is_data_write(struct bio *bio)
{
	return bio_op(bio) == REQ_OP_WRITE && bio_sectors(bio);
}

/* Whether any of first..last is dirty; caller holds jm->lock. */
static bool jm_any_dirty(struct jobmirror *jm, unsigned long first, unsigned long last)
{
	return find_next_bit(jm->dirty, last + 1, first) <= last;
}

/*
 * Whether the worker must look again after a tracked write finished: it
 * waits for the writes in flight to drain, or a copy or a write waits for
 * this one (the worker sends those again).  Caller holds jm->lock.
 */
static bool jm_writer_done_kick(struct jobmirror *jm, struct jm_bio *jb)
{
	lockdep_assert_held(&jm->lock);
	if (!bio_list_empty(&jm->after_writer)) {
		bio_list_merge(&jm->retry, &jm->after_writer);
		bio_list_init(&jm->after_writer);
		return true;
	}
	if (jm->want_drain && !jm->sync_writes && !jm->bg_writes)
		return true;
	return jb->route == JM_ROUTE_SYNC && jm_copy_covering(jm, jb->first, jb->last);
}

/*
 * Whether @jb overlaps a write waiting on jobmirror.after_writer: it waits
 * behind that one then, rather than overtake it.  Caller holds jm->lock.
 */
static bool jm_overlaps_waiting(struct jobmirror *jm, struct jm_bio *jb)
{
	struct bio *bio;

	bio_list_for_each(bio, &jm->after_writer)
		if (jm_writes_overlap(jm_bio_data(bio), jb))
			return true;
	return false;
}

/*
 * Mark the regions of a finished tracked write dirty, unless a copy that
 * has not read yet covers them (it will read what this write left);
 * returns the regions newly dirty.  Caller holds jm->lock.
 */
static unsigned long jm_dirty_after_write(struct jobmirror *jm, struct jm_bio *jb)
{
	struct jm_copy *c = jm_copy_covering(jm, jb->first, jb->last);

	if (c && c->state == JM_COPY_WAIT && c->region <= jb->first &&
	    jb->last < c->region + c->nr_regions)
		return 0;
	return jm_mark_dirty(jm, jb->first, jb->last);
}

/*
 * Both halves of a write sent to both devices are done: finish its
 * tracking and return the status the write completes with.
 */
static blk_status_t jm_both_done(struct jobmirror *jm, struct jm_bio *jb)
{
	unsigned long flags;
	blk_status_t status;
	bool kick = false;

	spin_lock_irqsave(&jm->lock, flags);
	jm_del_writer(jm, jb);
	jm_intent_done(jm, jb);
	jb->tracked = false;
	jb->both = false;
	if (jm->route == JM_ROUTE_DEST) {
		/* Pivoted while in flight: the dest is what counts now. */
		status = jb->dst_status;
	} else {
		status = jb->src_status;
		/* Either half failing leaves the two devices different. */
		if (jb->src_status || jb->dst_status)
			kick = jm_dirty_after_write(jm, jb);
		if (jb->dst_status)
			jm_job_error(jm, DM_JOBMIRROR_OP_WRITE,
				     blk_status_to_errno(jb->dst_status), jb->iter.bi_sector);
	}
	kick |= jm_writer_done_kick(jm, jb);
	spin_unlock_irqrestore(&jm->lock, flags);
	if (kick)
		jm_job_kick(jm);
	return status;
}

/*
 * The dest half of a write to both devices completed.  If the source half
 * (the bio itself) is done too, jm_end_io() left the bio to us: end it
 * again, and this time dm completes it.
 */
static void jm_dest_endio(struct bio *clone)
{
	struct bio *orig = clone->bi_private;
	struct jm_bio *jb = jm_bio_data(orig);

	jb->dst_status = clone->bi_status;
	bio_uninit(clone);
	/* The clone lives in orig's per-bio data: no touching it after this. */
	if (!atomic_dec_and_test(&jb->pending))
		return;
	orig->bi_status = jm_both_done(jb->jm, jb);
	bio_endio(orig);
}

/*
 * Send a write to the dest as well, from a clone in its per-bio data; the
 * caller sends the bio itself to the source.  Only an integrity or crypt
 * context can make the clone fail, and the target passes neither on (no
 * DM_TARGET_PASSES_*), so this does not happen today; if it did, the write
 * would go to the source alone and re-dirty its regions.
 */
static void jm_write_dest(struct jobmirror *jm, struct bio *bio, struct jm_bio *jb)
{
	if (bio_init_clone(jm->dest->bdev, &jb->clone, bio, GFP_NOIO))
		return;
	jb->src_status = BLK_STS_OK;
	jb->dst_status = BLK_STS_OK;
	atomic_set(&jb->pending, 2);
	jb->both = true;
	/* dm polls only its own clone, not ours. */
	bio_clear_polled(&jb->clone);
	jb->clone.bi_end_io = jm_dest_endio;
	jb->clone.bi_private = bio;
	submit_bio_noacct(&jb->clone);
}

/*
 * Route a write.  Returns DM_MAPIO_REMAPPED with the bio pointed at a
 * device (the source when a clone went to the dest too), or
 * DM_MAPIO_SUBMITTED when it was held.  The bio's sector is already
 * target relative.
 */
static int jm_route_write(struct jobmirror *jm, struct bio *bio, struct jm_bio *jb)
{
	sector_t sector = bio->bi_iter.bi_sector;
	struct dm_dev *dev = jm->source;
	struct jm_copy *copy;
	unsigned long flags;
	bool both = false;
	bool doubt;

	jb->first = jm_sector_to_region(jm, sector);
	jb->last = jm_sector_to_region(jm, sector + bio_sectors(bio) - 1);

	spin_lock_irqsave(&jm->lock, flags);
	jb->route = jm->route;
	switch (jm->route) {
	case JM_ROUTE_DEST:
		dev = jm->dest;
		break;
	case JM_ROUTE_STREAM:	/* not a mirror's: see jm_stream_route() */
		break;
	case JM_ROUTE_SOURCE:
		/*
		 * The job is over, but a later table may resume it from the
		 * metadata device: its bitmap goes on covering writes.
		 */
		if (!jm->intent)
			break;
		fallthrough;
	case JM_ROUTE_BACKGROUND:
		if (!jm_intent_gate(jm, bio, jb))
			goto submitted;
		jm->bg_writes++;
		jb->tracked = true;
		break;
	case JM_ROUTE_HOLD:
		bio_list_add(&jm->hold, bio);
		goto submitted;
	case JM_ROUTE_SYNC:
		copy = jm_copy_covering(jm, jb->first, jb->last);
		if (copy) {
			bio_list_add(&copy->deferred, bio);
			goto submitted;
		}
		/*
		 * The completed flag of a pivot that failed may be on disk: a
		 * write that overlaps one in flight (or one waiting) waits for
		 * it, so that the two land in the same order on both devices,
		 * then every write goes to both.  A job that is over would
		 * never copy a region the dest missed; one that a policy kept
		 * (ready, trying complete each second) only before its next try.
		 */
		doubt = jm_flag_in_doubt(jm);
		if (doubt && (jm_has_overlapping_writer(jm, jb) || jm_overlaps_waiting(jm, jb))) {
			bio_list_add(&jm->after_writer, bio);
			goto submitted;
		}
		if (!jm_intent_gate(jm, bio, jb))
			goto submitted;
		both = doubt || (jm_is_data_write(bio) && !jm_any_dirty(jm, jb->first, jb->last) &&
				 !jm_has_overlapping_writer(jm, jb));
		jm_add_writer(jm, jb);
		jb->tracked = true;
		break;
	}
	spin_unlock_irqrestore(&jm->lock, flags);

	if (both)
		jm_write_dest(jm, bio, jb);
	bio_set_dev(bio, dev->bdev);
	return DM_MAPIO_REMAPPED;

submitted:
	spin_unlock_irqrestore(&jm->lock, flags);
	return DM_MAPIO_SUBMITTED;
}

/**
 * jm_route_bio() - send a user bio where it belongs now.
 * @jm: the target.
 * @bio: the bio, its sector target relative.
 *
 * Return: a DM_MAPIO_* code; the caller submits a remapped bio.
 */
int jm_route_bio(struct jobmirror *jm, struct bio *bio)
{
	enum jm_route route = READ_ONCE(jm->route);
	/* Until the job ends, the device may still pivot. */
	bool live = route != JM_ROUTE_DEST && route != JM_ROUTE_SOURCE;
	struct jm_bio *jb = jm_bio_data(bio);

	jb->pre_pivot = false;
	if (jm->cfg.mode == DM_JOBMIRROR_MODE_STREAM)
		return jm_stream_route(jm, bio);
	if (!bio_sectors(bio)) {
		/*
		 * An empty flush, sent once per device (num_flush_bios = 2);
		 * once the job is over both copies go to the device in use.
		 * Whose error a failure of the dest's copy is, is decided
		 * here: the route may change before it completes.
		 */
		jb->flush_copy = live && dm_bio_get_target_bio_nr(bio);
		jb->pre_pivot = live && !jb->flush_copy;
		bio_set_dev(bio, route == JM_ROUTE_DEST || jb->flush_copy ? jm->dest->bdev :
									   jm->source->bdev);
		return DM_MAPIO_REMAPPED;
	}
	if (jm_is_write(bio))
		return jm_route_write(jm, bio, jb);
	jb->pre_pivot = live;
	bio_set_dev(bio, route == JM_ROUTE_DEST ? jm->dest->bdev : jm->source->bdev);
	return DM_MAPIO_REMAPPED;
}

/**
 * jm_map_bio() - map a user bio of a mirror device.
 * @jm: the target.
 * @bio: the bio, in the dm device's sector space.
 *
 * Return: a DM_MAPIO_* code.
 */
int jm_map_bio(struct jobmirror *jm, struct bio *bio)
{
	struct jm_bio *jb = jm_bio_data(bio);

	jb->jm = jm;
	jb->tracked = false;
	jb->finish = JM_FINISH_NONE;
	jb->hang_retry = false;
	jb->in_hang = false;
	jb->flush_copy = false;
	jb->intent = false;
	jb->both = false;
	jb->committed = false;
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector = dm_target_offset(jm->ti, bio->bi_iter.bi_sector);
	/* Kept to send the bio again after an error (held bios). */
	jb->iter = bio->bi_iter;
	jb->bi_opf = bio->bi_opf;
	jb->bi_flags = bio->bi_flags;

	switch (jm_uio_hold_new(jm, bio)) {
	case JM_HOLD_HELD:
		return DM_MAPIO_SUBMITTED;
	case JM_HOLD_REQUEUE:
		return DM_MAPIO_REQUEUE;
	}
	return jm_route_bio(jm, bio);
}

/**
 * jm_dispatch_write() - send a write that waited (behind a copy, a hold,
 * a write it overlaps or a hydration).
 * @jm: the target.
 * @bio: the write; called from the worker, in process context.
 */
void jm_dispatch_write(struct jobmirror *jm, struct bio *bio)
{
	int r;

	if (jm->cfg.mode == DM_JOBMIRROR_MODE_STREAM)
		r = jm_stream_route(jm, bio);
	else
		r = jm_route_write(jm, bio, jm_bio_data(bio));
	if (r == DM_MAPIO_REMAPPED)
		dm_submit_bio_remap(bio, NULL);
}

/* A tracked write that went to the source alone finished. */
static void jm_untrack(struct jobmirror *jm, struct jm_bio *jb)
{
	unsigned long flags;
	bool kick;

	spin_lock_irqsave(&jm->lock, flags);
	/* Newly dirty regions need the worker if no copy will call it. */
	kick = jm_dirty_after_write(jm, jb) && !jm->copies_active;
	if (jb->route == JM_ROUTE_BACKGROUND || jb->route == JM_ROUTE_SOURCE)
		jm->bg_writes--;
	else
		jm_del_writer(jm, jb);
	jm_intent_done(jm, jb);
	kick |= jm_writer_done_kick(jm, jb);
	jb->tracked = false;
	spin_unlock_irqrestore(&jm->lock, flags);
	if (kick)
		jm_job_kick(jm);
}

/*
 * A user flush's copy for the dest failed, sent while the source held the
 * data: that is the job's error (on_target_error), not the user's, also
 * if the job ended meanwhile (the source alone holds the data then); but
 * the user's if the device pivoted to the dest meanwhile.
 */
static bool jm_dest_flush_error(struct jobmirror *jm, struct jm_bio *jb, blk_status_t error)
{
	unsigned long flags;
	bool job = false;

	if (!jb->flush_copy)
		return false;
	spin_lock_irqsave(&jm->lock, flags);
	if (jm->route != JM_ROUTE_DEST) {
		jm_dest_flush_failed(jm);
		jm_job_error(jm, DM_JOBMIRROR_OP_WRITE, blk_status_to_errno(error), 0);
		job = true;
	}
	spin_unlock_irqrestore(&jm->lock, flags);
	return job;
}

/*
 * A read, or an empty flush's copy for the source, that was sent to the
 * source before the device pivoted to the dest and failed after: the
 * dest holds all the device held at the pivot, flushed, so the error is
 * not the user's.  It counts as a source error of the job (which is
 * over).  The flush's copy for the dest decides for the flush; the read
 * goes again, to the dest (the worker sends it).  Returns true if the
 * read was taken for that.
 */
static bool jm_source_error_after_pivot(struct jobmirror *jm, struct bio *bio,
					blk_status_t *error)
{
	struct jm_bio *jb = jm_bio_data(bio);
	unsigned long flags;
	bool again = false;

	/*
	 * A retry of the I/O hang goes again by the route anyway (as long as
	 * the hang goes on; at its end such a read has its policy).
	 */
	if (!jb->pre_pivot || jb->hang_retry || jb->in_hang ||
	    READ_ONCE(jm->route) != JM_ROUTE_DEST)
		return false;
	spin_lock_irqsave(&jm->lock, flags);
	if (jm->route == JM_ROUTE_DEST) {
		jm_job_error(jm, DM_JOBMIRROR_OP_READ, blk_status_to_errno(*error),
			     jb->iter.bi_sector);
		/* (A failed blk-mq request has used up bi_iter already.) */
		again = jb->iter.bi_size != 0;
		if (again)
			bio_list_add(&jm->resubmit, bio);
		*error = BLK_STS_OK;
	}
	spin_unlock_irqrestore(&jm->lock, flags);
	if (again)
		jm_job_kick(jm);
	return again;
}

/**
 * jm_end_io() - a user bio completed (dm's end_io hook).
 * @jm: the target.
 * @bio: the bio.
 * @error: its status.
 *
 * A write sent to both devices completes when both halves have: the
 * first to finish leaves it to the other (DM_ENDIO_INCOMPLETE here, see
 * jm_dest_endio()).  A write sent to the source alone marks its regions
 * dirty now, whether it succeeded or not: the source may have changed
 * either way.  Then an error goes through the I/O hang and the user I/O policy
 * (dm-jobmirror-uio.c).
 *
 * Return: a DM_ENDIO_* code.
 */
int jm_end_io(struct jobmirror *jm, struct bio *bio, blk_status_t *error)
{
	struct jm_bio *jb = jm_bio_data(bio);
	enum jm_finish finish = jb->finish;

	if (finish != JM_FINISH_NONE) {
		/* A held bio the target completes itself, with bi_status. */
		jb->finish = JM_FINISH_NONE;
		return finish == JM_FINISH_REQUEUE ? DM_ENDIO_REQUEUE : DM_ENDIO_DONE;
	}
	if (jb->both) {
		jb->src_status = *error;
		if (!atomic_dec_and_test(&jb->pending))
			return DM_ENDIO_INCOMPLETE;
		*error = jm_both_done(jm, jb);
	}
	if (jb->tracked && jb->route == JM_ROUTE_STREAM)
		jm_stream_untrack(jm, jb, *error);
	else if (jb->tracked)
		jm_untrack(jm, jb);
	if (*error && jm_dest_flush_error(jm, jb, *error))
		*error = BLK_STS_OK;
	if (*error && jm_source_error_after_pivot(jm, bio, error))
		return DM_ENDIO_INCOMPLETE;
	return jm_uio_end_io(jm, bio, error);
}
