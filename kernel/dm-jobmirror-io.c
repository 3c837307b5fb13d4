// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: the user I/O path of a mirror device.
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
 *   re-dirties the regions.  A write to dirty regions (and every discard
 *   or write-zeroes) goes to the source and re-dirties on completion.
 *   Writes to regions being copied wait for the copy, and a copy waits for
 *   writes in flight to its regions, so the two never overlap.
 * - SOURCE / DEST: the job is over; everything goes to that device.
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
 * waits for the writes in flight to drain, or a copy waits for this one.
 * Caller holds jm->lock.
 */
static bool jm_writer_done_kick(struct jobmirror *jm, struct jm_bio *jb)
{
	if (jm->want_drain && !jm->sync_writes && !jm->bg_writes)
		return true;
	return jb->route == JM_ROUTE_SYNC && jm_copy_covering(jm, jb->first, jb->last);
}

static void jm_clone_endio(struct bio *clone)
{
	struct bio *orig = clone->bi_private;
	struct jm_bio *jb = jm_bio_data(orig);
	struct jobmirror *jm = jb->jm;
	unsigned long flags;
	blk_status_t status;
	bool kick = false;

	if (clone->bi_bdev == jm->dest->bdev)
		jb->dst_status = clone->bi_status;
	else
		jb->src_status = clone->bi_status;
	bio_put(clone);
	if (!atomic_dec_and_test(&jb->pending))
		return;

	spin_lock_irqsave(&jm->lock, flags);
	jm_del_writer(jm, jb);
	jb->tracked = false;
	if (jm->route == JM_ROUTE_DEST) {
		/* Pivoted while in flight: the dest is what counts now. */
		status = jb->dst_status;
	} else {
		status = jb->src_status;
		if (jb->dst_status) {
			jm->dst_errors++;
			kick = jm_mark_dirty(jm, jb->first, jb->last);
		}
	}
	kick |= jm_writer_done_kick(jm, jb);
	spin_unlock_irqrestore(&jm->lock, flags);
	if (kick)
		jm_job_kick(jm);

	orig->bi_status = status;
	bio_endio(orig);
}

/*
 * A clone from our bioset: with GFP_NOIO the allocation waits for a free
 * one rather than fail, and the bioset's rescuer keeps that wait from
 * deadlocking on clones still queued in this task's bio list.
 */
static void jm_clone_to(struct jobmirror *jm, struct bio *orig, struct dm_dev *dev)
{
	struct bio *clone = bio_alloc_clone(dev->bdev, orig, GFP_NOIO, &jm->bs);

	clone->bi_end_io = jm_clone_endio;
	clone->bi_private = orig;
	submit_bio_noacct(clone);
}

/* Send a write to both devices; it completes in jm_clone_endio(). */
static void jm_write_both(struct jobmirror *jm, struct bio *bio, struct jm_bio *jb)
{
	jb->src_status = BLK_STS_OK;
	jb->dst_status = BLK_STS_OK;
	atomic_set(&jb->pending, 2);
	jm_clone_to(jm, bio, jm->source);
	jm_clone_to(jm, bio, jm->dest);
}

/*
 * Route a write.  Returns DM_MAPIO_REMAPPED with the bio pointed at a
 * device, or DM_MAPIO_SUBMITTED when it was sent to both devices or held
 * behind a copy.  The bio's sector is already target relative.
 */
static int jm_route_write(struct jobmirror *jm, struct bio *bio, struct jm_bio *jb)
{
	sector_t sector = bio->bi_iter.bi_sector;
	struct dm_dev *dev = jm->source;
	struct jm_copy *copy;
	unsigned long flags;
	bool both = false;

	jb->first = jm_sector_to_region(jm, sector);
	jb->last = jm_sector_to_region(jm, sector + bio_sectors(bio) - 1);

	spin_lock_irqsave(&jm->lock, flags);
	jb->route = jm->route;
	switch (jm->route) {
	case JM_ROUTE_DEST:
		dev = jm->dest;
		break;
	case JM_ROUTE_SOURCE:
		break;
	case JM_ROUTE_BACKGROUND:
		jm->bg_writes++;
		jb->tracked = true;
		break;
	case JM_ROUTE_SYNC:
		copy = jm_copy_covering(jm, jb->first, jb->last);
		if (copy) {
			bio_list_add(&copy->deferred, bio);
			spin_unlock_irqrestore(&jm->lock, flags);
			return DM_MAPIO_SUBMITTED;
		}
		jm_add_writer(jm, jb);
		jb->tracked = true;
		both = jm_is_data_write(bio) && !jm_any_dirty(jm, jb->first, jb->last);
		break;
	}
	spin_unlock_irqrestore(&jm->lock, flags);

	if (both) {
		jm_write_both(jm, bio, jb);
		return DM_MAPIO_SUBMITTED;
	}
	bio_set_dev(bio, dev->bdev);
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
	enum jm_route route = READ_ONCE(jm->route);

	jb->jm = jm;
	jb->tracked = false;

	if (!bio_sectors(bio)) {
		/*
		 * An empty flush, sent once per device (num_flush_bios = 2);
		 * after the pivot both copies go to the dest.
		 */
		if (route == JM_ROUTE_DEST || dm_bio_get_target_bio_nr(bio))
			bio_set_dev(bio, jm->dest->bdev);
		else
			bio_set_dev(bio, jm->source->bdev);
		return DM_MAPIO_REMAPPED;
	}

	bio->bi_iter.bi_sector = dm_target_offset(jm->ti, bio->bi_iter.bi_sector);
	if (jm_is_write(bio))
		return jm_route_write(jm, bio, jb);

	bio_set_dev(bio, route == JM_ROUTE_DEST ? jm->dest->bdev : jm->source->bdev);
	return DM_MAPIO_REMAPPED;
}

/**
 * jm_dispatch_write() - send a write that waited behind a copy.
 * @jm: the target.
 * @bio: the write; called from the worker, in process context.
 */
void jm_dispatch_write(struct jobmirror *jm, struct bio *bio)
{
	if (jm_route_write(jm, bio, jm_bio_data(bio)) == DM_MAPIO_REMAPPED)
		dm_submit_bio_remap(bio, NULL);
}

/**
 * jm_end_io() - a user bio completed (dm's end_io hook).
 * @jm: the target.
 * @bio: the bio.
 * @error: its status.
 *
 * A write sent to the source alone marks its regions dirty now, whether
 * it succeeded or not: the source may have changed either way.
 *
 * Return: DM_ENDIO_DONE.
 */
int jm_end_io(struct jobmirror *jm, struct bio *bio, blk_status_t *error)
{
	struct jm_bio *jb = jm_bio_data(bio);
	unsigned long flags;
	bool kick;

	if (!jb->tracked)
		return DM_ENDIO_DONE;

	spin_lock_irqsave(&jm->lock, flags);
	/* Newly dirty regions need the worker if no copy will call it. */
	kick = jm_mark_dirty(jm, jb->first, jb->last) && !jm->copies_active;
	if (jb->route == JM_ROUTE_BACKGROUND)
		jm->bg_writes--;
	else
		jm_del_writer(jm, jb);
	kick |= jm_writer_done_kick(jm, jb);
	jb->tracked = false;
	spin_unlock_irqrestore(&jm->lock, flags);
	if (kick)
		jm_job_kick(jm);
	return DM_ENDIO_DONE;
}
