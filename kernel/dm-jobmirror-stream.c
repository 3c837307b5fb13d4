// SPDX-License-Identifier: GPL-2.0
/*
 * dm-jobmirror: the user I/O path of a stream device.
 *
 * The dest is the top and the source the read-only backing device; a set
 * bit in jobmirror.dirty means the region is not populated in the dest
 * yet.  Every bio lies within one region (max_io_len).
 *
 * - A read of a populated region goes to the dest; of any other region
 *   (or one being copied) to the source, which never changes.
 * - A write to a populated region goes to the dest.  One that covers a
 *   whole region that is not populated goes to the dest too, tracked as a
 *   writer so that no copy of the region starts meanwhile; when it
 *   succeeds the region is populated.  Any other write to such a region
 *   first has the region copied (hydrated): it waits on jobmirror.hydrate
 *   for the worker to start an urgent copy of that one region, which runs
 *   in any job state, and is sent again when the copy ends.  If that copy fails, the write
 *   fails with the copy's error (and goes through I/O hang and werror).
 * - A write to a region being copied waits for the copy.
 * - A flush or FUA write waits for a metadata commit when regions were
 *   populated since the last one: the user's flush then covers the
 *   metadata that says where the data is.
 *
 * The target takes no discards (a discarded region would need a state of
 * its own) and no write-zeroes (dm does not split those at max_io_len;
 * the block layer writes zero pages instead).
 */
#include <linux/bio.h>
#include <linux/blkdev.h>

#include "dm-jobmirror.h"

static struct jm_bio *jm_bio_data(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct jm_bio));
}

/* Whether a flush or FUA bio must wait for a commit; caller holds jm->lock. */
static bool jm_stream_needs_commit(struct jobmirror *jm, struct bio *bio, struct jm_bio *jb)
{
	return op_is_flush(bio->bi_opf) && !jb->committed && jm->meta_gen != jm->meta_committed;
}

/**
 * jm_stream_whole_write() - whether a stream write covers its region exactly.
 * @jm: the target.
 * @bio: a write, its sector target relative.
 *
 * Such a write populates an unpopulated region by itself, with no copy
 * of the source; not a flush or FUA write, which must not be acked
 * before its region is committed as populated.
 *
 * Return: true for a write of exactly one whole region.
 */
bool jm_stream_whole_write(struct jobmirror *jm, struct bio *bio)
{
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned long r = jm_sector_to_region(jm, sector);

	return sector == jm_region_start(jm, r) &&
	       bio_sectors(bio) == jm_region_sectors(jm, r) &&
	       !(bio->bi_opf & (REQ_FUA | REQ_PREFLUSH));
}

/**
 * jm_stream_route() - send a user bio of a stream device where it belongs.
 * @jm: the target.
 * @bio: the bio, its sector target relative.
 *
 * Return: DM_MAPIO_REMAPPED (the caller submits it) or DM_MAPIO_SUBMITTED
 * (it waits for a copy or a commit).
 */
int jm_stream_route(struct jobmirror *jm, struct bio *bio)
{
	struct jm_bio *jb = jm_bio_data(bio);
	struct dm_dev *dev = jm->dest;
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned long r, flags;
	struct jm_copy *copy;

	spin_lock_irqsave(&jm->lock, flags);
	if (!bio_sectors(bio) || jm->route == JM_ROUTE_DEST)
		goto remap;

	r = jm_sector_to_region(jm, sector);
	jb->first = r;
	jb->last = r;
	copy = jm_copy_covering(jm, r, r);
	if (!op_is_write(bio_op(bio))) {
		if (copy || test_bit(r, jm->dirty))
			dev = jm->source;
		goto remap;
	}
	if (copy) {
		bio_list_add(&copy->deferred, bio);
		goto submitted;
	}
	if (!test_bit(r, jm->dirty))
		goto remap;

	if (jm_stream_whole_write(jm, bio)) {
		jb->route = JM_ROUTE_STREAM;
		jb->tracked = true;
		jm_add_writer(jm, jb);
		goto remap;
	}
	bio_list_add(&jm->hydrate, bio);
	spin_unlock_irqrestore(&jm->lock, flags);
	jm_job_kick(jm);
	return DM_MAPIO_SUBMITTED;

submitted:
	spin_unlock_irqrestore(&jm->lock, flags);
	return DM_MAPIO_SUBMITTED;
remap:
	/* Checked only now: a write may first populate its region. */
	if (jm_stream_needs_commit(jm, bio, jb)) {
		bio_list_add(&jm->commit_bios, bio);
		spin_unlock_irqrestore(&jm->lock, flags);
		queue_work(jm->wq, &jm->commit_work);
		return DM_MAPIO_SUBMITTED;
	}
	spin_unlock_irqrestore(&jm->lock, flags);
	bio_set_dev(bio, dev->bdev);
	return DM_MAPIO_REMAPPED;
}

/**
 * jm_stream_untrack() - a write of a whole unpopulated region finished.
 * @jm: the target.
 * @jb: its per-bio data.
 * @error: its status: if it failed, the region stays unpopulated.
 */
void jm_stream_untrack(struct jobmirror *jm, struct jm_bio *jb, blk_status_t error)
{
	unsigned long flags;

	spin_lock_irqsave(&jm->lock, flags);
	jm_del_writer(jm, jb);
	jb->tracked = false;
	if (!error && test_bit(jb->first, jm->dirty)) {
		jm_mark_clean(jm, jb->first, jb->first);
		jm->copied += jm_region_sectors(jm, jb->first);
		jm->meta_gen++;
	}
	spin_unlock_irqrestore(&jm->lock, flags);
	/* Copies and hydrations skip regions with writers: look again. */
	jm_job_kick(jm);
}

/**
 * jm_stream_hydrate() - start urgent copies for writes waiting on one.
 * @jm: the target; caller holds jm->lock.
 * @claim: claims a free copy slot for a region, see jm_claim_urgent().
 *
 * Return: a bitmap of copy slots to start.
 */
unsigned long jm_stream_hydrate(struct jobmirror *jm,
				struct jm_copy *(*claim)(struct jobmirror *jm, unsigned long r))
{
	struct bio_list wait = BIO_EMPTY_LIST;
	unsigned long start = 0, r;
	struct jm_copy *c;
	struct bio *bio;

	lockdep_assert_held(&jm->lock);
	while ((bio = bio_list_pop(&jm->hydrate))) {
		r = jm_bio_data(bio)->first;
		c = jm_copy_covering(jm, r, r);
		if (c) {
			bio_list_add(&c->deferred, bio);
		} else if (!test_bit(r, jm->dirty)) {
			bio_list_add(&jm->retry, bio);
		} else if (jm_has_writers(jm, r, r)) {
			bio_list_add(&wait, bio);
		} else {
			c = claim(jm, r);
			if (!c) {
				bio_list_add(&wait, bio);
				continue;
			}
			bio_list_add(&c->deferred, bio);
			start |= BIT(c - jm->copies);
		}
	}
	jm->hydrate = wait;
	return start;
}

/**
 * jm_stream_commit_work() - commit the metadata for waiting flushes.
 * @work: jobmirror.commit_work.
 *
 * The flushes and FUA writes that waited are sent on once the commit is
 * done, or fail with its error (and go through I/O hang and werror).
 */
void jm_stream_commit_work(struct work_struct *work)
{
	struct jobmirror *jm = container_of(work, struct jobmirror, commit_work);
	struct bio_list list;
	struct bio *bio;
	int r;

	/* Taken first: the commit must cover what they wait for. */
	list = jm_take_bios(jm, &jm->commit_bios);
	r = jm_meta_commit(jm, false, NULL);
	if (r) {
		spin_lock_irq(&jm->lock);
		jm_job_error(jm, DM_JOBMIRROR_OP_WRITE, r, 0);
		spin_unlock_irq(&jm->lock);
	}

	while ((bio = bio_list_pop(&list))) {
		if (r) {
			bio->bi_status = errno_to_blk_status(r);
			bio_endio(bio);
			continue;
		}
		jm_bio_data(bio)->committed = true;
		if (jm_stream_route(jm, bio) == DM_MAPIO_REMAPPED)
			dm_submit_bio_remap(bio, NULL);
	}
}

/**
 * jm_stream_commit_timer() - the periodic commit while regions get populated.
 * @work: jobmirror.commit_dwork.
 */
void jm_stream_commit_timer(struct work_struct *work)
{
	struct jobmirror *jm = container_of(to_delayed_work(work), struct jobmirror,
					    commit_dwork);
	int r = jm_meta_commit(jm, false, NULL);

	if (r) {
		spin_lock_irq(&jm->lock);
		jm_job_error(jm, DM_JOBMIRROR_OP_WRITE, r, 0);
		spin_unlock_irq(&jm->lock);
	}
}
